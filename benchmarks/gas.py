"""Gas of the on-chain path: the enroll transaction with a REAL eligibility proof, and verifier-only gas beside
snarkjs' verifier on the same key.

    python benchmarks/gas.py [--anvil] [--stock]

* enroll: CohortEnrollment.enroll as a transaction (target <= 260,000), on py-evm (and anvil with --anvil).
  The trial "diagnosis in E11.* and age >= 18" is set up once with zkhealth's Groth16 setup; each chain gets
  its own deployment (deploy_trial) and one proof from prove_eligibility for that deployment's scope (the
  chain id and the address are in the scope), sent from the proof's recipient. Gas depends only on the
  calldata's zero bytes and on `today`'s base-16 digits, so one proof per chain is one honest figure.
* verifier-only: verifyProof as a transaction, for two keys:
  - the trial's eligibility key (6 public signals) with the real proof above, and
  - the snarkjs vector key (15 public signals) with its snarkjs proof (tests/vectors/snarkjs),
  each through
  - zkhealth's installed Groth16Verifier (no compiler), and the same with one signal folded into IC0,
  - zkhealth's rendered per-key verifier (export-verifier; needs node + the pinned solc),
  - snarkjs 0.7.6's verifier template rendered for the same key exactly as `snarkjs zkey export
    solidityverifier` renders it (ejs over the verification key), compiled with the same solc settings
    (needs node + snarkjs in tests/js or /tmp/npmtools).
Gas is deterministic, so each figure is one measurement (the median of one). py-evm uses zkhealth's pairing in
the ecPairing precompile unless --stock (gas is identical; only wall time differs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkhealth.chain import build, client, solidity
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.eligibility import EligibilityProof, Trial, prove_eligibility
from zkhealth.formats.snarkjs_json import parse_proof, parse_verifying_key, verifying_key_to_dict
from zkhealth.groth16.keys import Proof, VerifyingKey

ROOT = Path(__file__).resolve().parents[1]
# Synthetic patients and their issuer world live with the tests.
sys.path.insert(0, str(ROOT / "tests"))
from patients import PATIENTS, make_world  # noqa: E402

from zkhealth.credentials.credential import subject_commitment  # noqa: E402

VECTORS = ROOT / "tests" / "vectors" / "snarkjs"
SNARKJS_DIRS = [ROOT / "tests" / "js", Path("/tmp/npmtools")]
REFERENCE_SNARKJS_TX_GAS = 310_680
ENROLL_TARGET = 260_000
CRITERIA = "diagnosis in E11.* and age >= 18"
DAY = 86400


@dataclass
class TrialFixture:
    world: Any
    trial: Trial
    holder_secret: int
    issued: Any


def make_trial() -> TrialFixture:
    """One issuer world, one eligible patient, one trial with keys from zkhealth's setup (~10 s)."""
    day = int(time.time()) // DAY
    world = make_world([])
    secret = 0x6A5_0001
    issued = world.issuer.issue(
        PATIENTS["t2d_adult"], subject_commitment=subject_commitment(secret), issued_at=day - 30, expires_at=day + 365
    )
    trial = Trial(
        CRITERIA,
        trial_id="NCT05000042",
        trusted_issuer_roots={world.registry.root},
        revocation_roots={world.revocation.root},
    )
    started = time.perf_counter()
    trial.setup()
    print(f"(setup of the eligibility circuit: {time.perf_counter() - started:.1f} s)")
    return TrialFixture(world, trial, secret, issued)


def enroll_real(w3: Any, fixture: TrialFixture) -> tuple[int, EligibilityProof]:
    """Deploy the trial, prove for its scope, enroll: the transaction's gas and the proof."""
    now = int(w3.eth.get_block("latest")["timestamp"])
    deployment = client.deploy_trial(w3, fixture.trial, window=(now - 60, now + 30 * DAY), capacity=100)
    patient = w3.eth.accounts[1]
    started = time.perf_counter()
    proof = prove_eligibility(
        fixture.trial,
        fixture.issued,
        fixture.holder_secret,
        today=now // DAY,
        recipient=int(patient, 16),
        scope=deployment.scope,
        **fixture.world.proofs(fixture.issued),
    )
    print(f"(proof: {time.perf_counter() - started:.1f} s)")
    receipt = client.enroll(w3, deployment.contract, proof)
    return int(receipt["gasUsed"]), proof


def _deploy_compiled(w3: Any, abi: list[dict[str, Any]], bytecode: str) -> Any:
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor().build_transaction({"from": w3.eth.accounts[0], "gas": 6_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def snarkjs_verifier_source(vk: dict[str, Any]) -> str | None:
    """snarkjs 0.7.6's Groth16 verifier for ``vk`` (snarkjs JSON): its template rendered with ejs, as
    `snarkjs zkey export solidityverifier` does. None without node or snarkjs."""
    if shutil.which("node") is None:
        return None
    for folder in SNARKJS_DIRS:
        package = folder / "node_modules" / "snarkjs"
        template = package / "templates" / "verifier_groth16.sol.ejs"
        if not template.is_file():
            continue
        script = (
            "const fs = require('fs');"
            "const ejs = require(require.resolve('ejs', {paths: [process.argv[1]]}));"
            "const vk = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));"
            "process.stdout.write(ejs.render(fs.readFileSync(process.argv[2], 'utf8'), vk));"
        )
        with tempfile.TemporaryDirectory() as tmp:
            vk_path = Path(tmp) / "verification_key.json"
            vk_path.write_text(json.dumps(vk))
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                ["node", "-e", script, str(package), str(template), str(vk_path)],  # noqa: S607
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        if done.returncode == 0 and "contract Groth16Verifier" in done.stdout:
            return done.stdout
    return None


def verifier_gas(
    w3: Any, vk: VerifyingKey, proof: Proof, signals: list[int], fold_index: int
) -> dict[str, int | None]:
    """verifyProof transaction gas for one key and one valid proof through each verifier."""
    vk_json = verifying_key_to_dict(vk)
    figures: dict[str, int | None] = {}
    installed = client.deploy_verifier(w3, vk)
    if not client.verify_on_chain(installed, proof, signals):
        raise SystemExit("the installed verifier rejected a valid proof")
    figures["zkhealth Groth16Verifier (installed, no compiler)"] = client.verify_proof_gas(
        w3, installed, proof, signals
    )
    folded = client.deploy_verifier(w3, vk, fold=(fold_index, signals[fold_index]))
    rest = signals[:fold_index] + signals[fold_index + 1 :]
    figures[f"zkhealth Groth16Verifier, signal {fold_index} folded into IC0"] = client.verify_proof_gas(
        w3, folded, proof, rest
    )
    try:
        abi, code = build.compile_single(solidity.render_verifier(vk), "Groth16Verifier")
        rendered = _deploy_compiled(w3, abi, code)
        figures["zkhealth rendered verifier (export-verifier)"] = client.verify_proof_gas(w3, rendered, proof, signals)
    except Exception as exc:  # noqa: BLE001 - optional toolchain
        print(f"  (rendered verifier skipped: {exc})")
        figures["zkhealth rendered verifier (export-verifier)"] = None
    source = snarkjs_verifier_source(vk_json)
    figures["snarkjs 0.7.6 verifier, same key"] = None
    if source is not None:
        try:
            abi, code = build.compile_single(source, "Groth16Verifier")
            theirs = _deploy_compiled(w3, abi, code)
            if not client.verify_on_chain(theirs, proof, signals):
                raise SystemExit("snarkjs' verifier rejected a valid proof")
            figures["snarkjs 0.7.6 verifier, same key"] = client.verify_proof_gas(w3, theirs, proof, signals)
        except Exception as exc:  # noqa: BLE001 - optional toolchain
            print(f"  (snarkjs verifier skipped: {exc})")
    return figures


def print_figures(title: str, figures: dict[str, int | None]) -> None:
    print(title)
    for name, value in figures.items():
        print(f"  {name:55s} {'n/a' if value is None else f'{value:,}'}")
    snark = figures["snarkjs 0.7.6 verifier, same key"]
    ours = figures["zkhealth Groth16Verifier (installed, no compiler)"]
    if snark is not None and ours is not None:
        print(f"  installed verifier vs snarkjs: {ours - snark:+,} gas")


def report(label: str, w3: Any, fixture: TrialFixture) -> None:
    print(f"== {label}")
    gas, proof = enroll_real(w3, fixture)
    verdict = "met" if gas <= ENROLL_TARGET else "MISSED"
    print(f"enroll transaction gas, real eligibility proof: {gas:,}; target <= {ENROLL_TARGET:,}: {verdict}")
    print_figures(
        "verifyProof transaction gas, the trial's eligibility key (6 public signals), the same real proof:",
        verifier_gas(w3, fixture.trial.keys.vk, proof.proof, list(proof.public), fold_index=1),
    )
    vk = parse_verifying_key((VECTORS / "verification_key.json").read_text())
    vector_proof = parse_proof((VECTORS / "proof.json").read_text())
    signals = [int(s) for s in json.loads((VECTORS / "public.json").read_text())]
    print_figures(
        "verifyProof transaction gas, snarkjs vector key (15 public signals), its snarkjs proof:",
        verifier_gas(w3, vk, vector_proof, signals, fold_index=1),
    )
    print(f"  (reference: snarkjs verifier measured earlier on py-evm here: {REFERENCE_SNARKJS_TX_GAS:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anvil", action="store_true", help="also measure on anvil")
    parser.add_argument("--stock", action="store_true", help="stock py-evm pairing (slow, same gas)")
    args = parser.parse_args()
    fixture = make_trial()
    w3 = client.connect(client.embedded_provider(fast_pairing=not args.stock))
    report("py-evm (EthereumTesterProvider)", w3, fixture)
    if args.anvil:
        if find_anvil() is None:
            print("anvil not found: npm ci in verifier_contracts/")
            return
        with AnvilNode() as node:
            report("anvil", client.connect(node.url), fixture)


if __name__ == "__main__":
    main()
