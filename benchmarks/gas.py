"""Gas of the on-chain path: the enroll transaction, and verifier-only gas beside snarkjs' verifier.

    python benchmarks/gas.py [--anvil] [--stock]

* enroll: CohortEnrollment.enroll as a transaction (target <= 260,000), on py-evm (and anvil with --anvil).
  Proofs come from a trapdoor test key with the eligibility layout (6 signals): gas does not depend on which
  valid proof is used, only on calldata bytes and on `today`'s base-16 digits.
* verifier-only: verifyProof as a transaction for the snarkjs vector key (15 public signals) through
  - zkhealth's installed Groth16Verifier (no compiler),
  - the same with one signal folded into IC0,
  - zkhealth's rendered per-key verifier (export-verifier; needs node + solc),
  - snarkjs' own exported verifier (needs snarkjs and the anchor zkey; rendered at run time, not stored).
Gas is deterministic, so each figure is one measurement (the median of one). py-evm uses zkhealth's pairing in
the ecPairing precompile unless --stock (gas is identical; only wall time differs).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from zkhealth.chain import build, client, solidity
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.field import FIELD_R

ROOT = Path(__file__).resolve().parents[1]
# The trapdoor key that can prove any signals is test-only: it lives in tests/, never in the package.
sys.path.insert(0, str(ROOT / "tests"))
import chain_testkeys as testkeys  # noqa: E402

VECTORS = ROOT / "tests" / "vectors" / "snarkjs"
ZKEY = Path("/work/shared/anchors/eligibility/eligibility_final.zkey")
SNARKJS_DIRS = [ROOT / "tests" / "js", Path("/tmp/npmtools")]
REFERENCE_SNARKJS_TX_GAS = 310_680


def enroll_gas(w3: Any, samples: int = 3) -> list[int]:
    key = testkeys.TrapdoorKey.generate(6, seed=1)
    now = int(w3.eth.get_block("latest")["timestamp"])
    owner = w3.eth.accounts[0]
    enrollment = client.deploy_enrollment(
        w3,
        key.verifying_key(),
        trial_id=b"\x01" * 32,
        issuer_root=11,
        revocation_root=22,
        window=(now - 60, now + 86400 * 30),
        capacity=100,
        owner=owner,
    )
    scope = enrollment.functions.scope().call()
    gas = []
    rng = random.Random(5)
    for i in range(samples):
        sender = w3.eth.accounts[1 + i]
        day = int(w3.eth.get_block("latest")["timestamp"]) // 86400
        signals = [rng.randrange(FIELD_R), scope, day, 11, 22, int(sender, 16)]
        receipt = client.enroll(w3, enrollment, key.prove(signals, rng).to_snarkjs(), signals, sender=sender)
        gas.append(int(receipt["gasUsed"]))
    return gas


def _deploy_compiled(w3: Any, abi: list[dict[str, Any]], bytecode: str) -> Any:
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor().build_transaction({"from": w3.eth.accounts[0], "gas": 6_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def snarkjs_verifier_source() -> str | None:
    """snarkjs' exported verifier for the anchor zkey (its key equals the vector key), or None."""
    if not ZKEY.is_file() or shutil.which("node") is None:
        return None
    for folder in SNARKJS_DIRS:
        cli = folder / "node_modules" / "snarkjs" / "build" / "cli.cjs"
        if cli.is_file():
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "verifier.sol"
                done = subprocess.run(  # noqa: S603
                    ["node", str(cli), "zkey", "export", "solidityverifier", str(ZKEY), str(out)],
                    capture_output=True,
                    check=False,
                    timeout=300,
                )
                if done.returncode == 0 and out.is_file():
                    return out.read_text()
    return None


def verifier_gas(w3: Any) -> dict[str, int | None]:
    vk = json.loads((VECTORS / "verification_key.json").read_text())
    proof = json.loads((VECTORS / "proof.json").read_text())
    signals = [int(s) for s in json.loads((VECTORS / "public.json").read_text())]
    figures: dict[str, int | None] = {}
    installed = client.deploy_verifier(w3, vk)
    figures["zkhealth Groth16Verifier (installed, no compiler)"] = client.verify_proof_gas(
        w3, installed, proof, signals
    )
    folded = client.deploy_verifier(w3, vk, fold=(1, signals[1]))
    figures["zkhealth Groth16Verifier, signal 1 folded into IC0"] = client.verify_proof_gas(
        w3, folded, proof, signals[:1] + signals[2:]
    )
    try:
        abi, code = build.compile_single(solidity.render_verifier(vk), "Groth16Verifier")
        rendered = _deploy_compiled(w3, abi, code)
        figures["zkhealth rendered verifier (export-verifier)"] = client.verify_proof_gas(w3, rendered, proof, signals)
    except Exception as exc:  # noqa: BLE001 - optional toolchain
        print(f"  (rendered verifier skipped: {exc})")
        figures["zkhealth rendered verifier (export-verifier)"] = None
    source = snarkjs_verifier_source()
    if source is None:
        figures["snarkjs exported verifier"] = None
    else:
        abi, code = build.compile_single(source, "Groth16Verifier")
        theirs = _deploy_compiled(w3, abi, code)
        figures["snarkjs exported verifier"] = client.verify_proof_gas(w3, theirs, proof, signals)
    return figures


def report(label: str, w3: Any) -> None:
    print(f"== {label}")
    gas = sorted(enroll_gas(w3))
    median = gas[len(gas) // 2]
    print(
        f"enroll transaction gas: median {median:,} (samples {', '.join(f'{g:,}' for g in gas)}); "
        f"target <= 260,000: {'met' if median <= 260_000 else 'MISSED'}"
    )
    print("verifyProof transaction gas, snarkjs vector key (15 public signals):")
    figures = verifier_gas(w3)
    for name, value in figures.items():
        print(f"  {name:55s} {'n/a' if value is None else f'{value:,}'}")
    snark = figures["snarkjs exported verifier"]
    ours = figures["zkhealth Groth16Verifier (installed, no compiler)"]
    if snark is not None and ours is not None:
        print(f"  installed verifier vs snarkjs: {ours - snark:+,} gas")
    print(f"  (reference: snarkjs verifier measured earlier on py-evm here: {REFERENCE_SNARKJS_TX_GAS:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anvil", action="store_true", help="also measure on anvil")
    parser.add_argument("--stock", action="store_true", help="stock py-evm pairing (slow, same gas)")
    args = parser.parse_args()
    report("py-evm (EthereumTesterProvider)", client.connect(client.embedded_provider(fast_pairing=not args.stock)))
    if args.anvil:
        if find_anvil() is None:
            print("anvil not found: npm ci in verifier_contracts/")
            return
        with AnvilNode() as node:
            report("anvil", client.connect(node.url))


if __name__ == "__main__":
    main()
