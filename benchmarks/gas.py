"""Gas of the on-chain path: the enroll transaction with a REAL eligibility proof, and verifier-only gas beside
snarkjs' verifier on the same key.

    python benchmarks/gas.py [--anvil] [--stock]

* enroll: CohortEnrollment.enroll as a transaction (target <= 260,000), on py-evm (and anvil with --anvil).
  The trial "diagnosis in E11.* and age >= 18" is set up once with zkhealth's Groth16 setup; each chain gets
  its own deployment (deploy_trial) and one proof from prove_eligibility for that deployment's scope (the
  chain id and the address are in the scope), sent from the proof's recipient. Gas depends only on the
  calldata's zero bytes and on `today`'s base-16 digits, so one proof per chain is one honest figure.
* verifier-only: verifyProof as a transaction, for two keys:
  - the trial's eligibility key (5 public signals) with the real proof above, and
  - the snarkjs vector key (15 public signals) with its snarkjs proof (tests/vectors/snarkjs),
  each through
  - zkhealth's installed Groth16Verifier (no compiler), and the same with one signal folded into IC0,
  - zkhealth's rendered per-key verifier (export-verifier; needs node + the pinned solc),
  - snarkjs 0.7.6's verifier template rendered for the same key exactly as `snarkjs zkey export
    solidityverifier` renders it (ejs over the verification key), compiled with the same solc settings
    (needs node + snarkjs in tests/js or /tmp/npmtools).
* the DAO (issues 13, 15, 17): TrialRegistry.createTrial, enroll without and with an enrollment reward, a
  milestone payout, a trust-root publication, CohortEnrollment.enroll with the stand-in dedicated circuit, and
  an anonymous vote (ZkHealthGovernor.castVoteWithReasonAndParams, first vote of a proposal and a later one).
  Enrollment proofs are REAL Groth16 proofs of the STAND-IN universal and dedicated circuits of
  tests/chain_standins.py (same public signals and binding rules as the real circuits); votes are real proofs of
  the vote circuit (zkhealth.eligibility.vote). Targets: enroll <= 260,000, enroll with reward <= 320,000,
  vote <= 350,000.
  ``--dao-only`` measures only these.
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

from web3.logs import DISCARD

from zkhealth.chain import build, client, enrollment, solidity
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.eligibility import EligibilityProof, Trial, prove_eligibility
from zkhealth.formats.snarkjs_json import parse_proof, parse_verifying_key, verifying_key_to_dict
from zkhealth.groth16.keys import Proof, VerifyingKey

ROOT = Path(__file__).resolve().parents[1]
# Synthetic records and their issuer world live with the tests.
sys.path.insert(0, str(ROOT / "tests"))
from records import RecordWorld, make_record_world, t2d_record  # noqa: E402

from zkhealth.credentials.credential import subject_commitment  # noqa: E402

VECTORS = ROOT / "tests" / "vectors" / "snarkjs"
SNARKJS_DIRS = [ROOT / "tests" / "js", Path("/tmp/npmtools")]
REFERENCE_SNARKJS_TX_GAS = 310_680
ENROLL_TARGET = 260_000
CRITERIA = "diagnosis in E11.* and age >= 18"
DAY = 86400


@dataclass
class TrialFixture:
    world: RecordWorld
    trial: Trial
    holder_secret: int
    issued: Any


def make_trial() -> TrialFixture:
    """One issuer world (v2 credentials, issuer registry with per-issuer revocation roots), one eligible patient,
    one trial with keys from zkhealth's setup (~15 s)."""
    day = int(time.time()) // DAY
    world = make_record_world()
    secret = 0x6A5_0001
    issued = world.issuer.issue_record(t2d_record(), subject_commitment=subject_commitment(secret),
                                       issued_at=day - 30, expires_at=day + 365)
    trial = Trial(CRITERIA, trial_id="NCT05000042", roots=world.history())
    started = time.perf_counter()
    trial.setup()
    print(f"(setup of the eligibility circuit: {time.perf_counter() - started:.1f} s)")
    return TrialFixture(world, trial, secret, issued)


def enroll_real(w3: Any, fixture: TrialFixture) -> tuple[int, EligibilityProof]:
    """Deploy the trial, prove for its scope, enroll: the transaction's gas and the proof."""
    now = int(w3.eth.get_block("latest")["timestamp"])
    deployment = enrollment.deploy_trial(w3, fixture.trial, window=(now - 60, now + 30 * DAY), capacity=100,
                                         trust_root=fixture.world.trust_root)
    patient = w3.eth.accounts[1]
    started = time.perf_counter()
    proof = prove_eligibility(
        fixture.trial,
        fixture.issued,
        fixture.holder_secret,
        today=now // DAY,
        recipient=int(patient, 16),
        scope=deployment.scope,
        issuers=fixture.world.trusted,
        revocations=fixture.world.revocation,
    )
    print(f"(proof: {time.perf_counter() - started:.1f} s)")
    receipt = enrollment.enroll(w3, deployment.contract, proof)
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
        "verifyProof transaction gas, the trial's eligibility key (5 public signals), the same real proof:",
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


@dataclass
class DaoFixture:
    universal: Any
    dedicated: Any
    vote_keys: Any


def make_dao_fixture() -> DaoFixture:
    """Stand-in universal and dedicated circuits and the vote circuit, each with keys from zkhealth's setup."""
    import chain_standins as standins

    from zkhealth.eligibility import vote

    started = time.perf_counter()
    fixture = DaoFixture(standins.universal_standin(), standins.dedicated_standin(), vote.VoteKeys.setup())
    print(f"(setup of the stand-in circuits and the vote circuit: {time.perf_counter() - started:.1f} s)")
    return fixture


def report_dao(label: str, w3: Any, fixture: DaoFixture) -> None:
    """Gas of the DAO transactions on one chain (real proofs; see the module docstring)."""
    import chain_standins as standins

    from zkhealth.chain import devchain
    from zkhealth.chain.governance import Action, deploy_dao
    from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, RewardTerms, TrialTerms, deploy_reward_token
    from zkhealth.credentials.trees import QuaternaryMerkleTree
    from zkhealth.eligibility import vote
    from zkhealth.hash.poseidon import poseidon

    print(f"== {label}: the DAO")
    accounts = list(w3.eth.accounts)
    deployer, operator, recruiter, sponsor = accounts[:4]
    issuer_root, members = 0x155, (0xAA01, 0xAA02, 0xAA03)
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(members):
        people.set(index, vote.person_leaf(poseidon([secret]), 20_000))
    root = vote.trust_root(issuer_root, people.root)
    dao = deploy_dao(w3, universal_vk=fixture.universal.vk, vote_vk=fixture.vote_keys.vk, publishers=[operator],
                     creators=[recruiter], voting_period=20, timelock_delay=60, sender=deployer)
    figures: dict[str, int | None] = {}
    figures["TrialRegistry.publishTrustRoot (first root)"] = int(
        dao.registry.publish_trust_root(root, sender=operator)["gasUsed"])
    token = deploy_reward_token(w3, "Reward", "RWD", owner=deployer, sender=deployer)
    client.transact(w3, token.functions.mint(sponsor, 10**24), sender=deployer)
    program = [1, 2, 3, 4]
    consent_hash = b"\x0c" * 32
    now = int(w3.eth.get_block("latest")["timestamp"])

    def terms(rewards: bool) -> TrialTerms:
        return TrialTerms(program_hash=standins.program_hash(program), consent_hash=consent_hash,
                          window=(now - 60, now + 30 * DAY), capacity=100, owner=recruiter,
                          rewards=RewardTerms(token.address, sponsor, 10**18, (2 * 10**18,)) if rewards else None)

    receipt = client.transact_checked(w3, dao.registry.contract.functions.createTrial(terms(False).as_params()),
                                       sender=recruiter, gas=1_500_000)
    figures["TrialRegistry.createTrial (no rewards)"] = int(receipt["gasUsed"])
    plain = dao.registry.create_trial(terms(False), sender=recruiter)
    receipt = client.transact_checked(w3, dao.registry.contract.functions.createTrial(terms(True).as_params()),
                                       sender=recruiter, gas=1_500_000)
    figures["TrialRegistry.createTrial (reward token, one milestone)"] = int(receipt["gasUsed"])
    rewarded = dao.registry.create_trial(terms(True), sender=recruiter)
    dao.registry.fund(rewarded.trial_id, 100 * 10**18, sender=sponsor)

    def enroll(trial: Any, secret: int, patient: str) -> Any:
        today = int(w3.eth.get_block("latest")["timestamp"]) // DAY
        proof, signals = fixture.universal.prove(standins.universal_inputs(
            secret=secret, program=program, scope=trial.scope, today=today, issuer_root=issuer_root,
            person_root=people.root, recipient=patient))
        consent = ConsentTerms(consent_hash, CONSENT_PURPOSES["trial-participation"], today + 90)
        return dao.registry.enroll(trial.trial_id, proof, signals, consent)

    figures["TrialRegistry.enroll, no reward (target <= 260,000)"] = int(enroll(plain, 0x51, accounts[4])["gasUsed"])
    receipt = enroll(rewarded, 0x52, accounts[5])
    figures["TrialRegistry.enroll with reward (target <= 320,000)"] = int(receipt["gasUsed"])
    nullifier = dao.registry.contract.events.Enrolled().process_receipt(receipt, errors=DISCARD)[0]["args"]["nullifier"]
    figures["TrialRegistry.payMilestone"] = int(
        dao.registry.pay_milestone(rewarded.trial_id, nullifier, 1, sender=recruiter)["gasUsed"])
    today = now // DAY
    dedicated = enrollment.deploy_cohort_enrollment(
        w3, fixture.dedicated.vk, trial_id=b"\x01" * 32, window=(now - 60, now + DAY), capacity=10,
        owner=recruiter, trust_root=root)
    proof, signals = fixture.dedicated.prove(standins.dedicated_inputs(
        secret=0x53, scope=int(dedicated.functions.scope().call()), today=today, issuer_root=issuer_root,
        person_root=people.root, recipient=accounts[6]))
    figures["CohortEnrollment.enroll, stand-in dedicated circuit (target <= 260,000)"] = int(
        enrollment.enroll_signals(w3, dedicated, proof, signals)["gasUsed"])
    g = dao.governance
    proposal = g.propose([Action.call(dao.directory, "addIssuer", 5, 6, "Hospital B")], "Admit Hospital B",
                         sender=recruiter)
    devchain.mine(w3, 2)
    scope = g.proposal_scope(proposal.proposal_id)
    for index, secret in enumerate(members[:2]):
        ballot = vote.prove_vote(fixture.vote_keys, holder_secret=secret, registered_day=20_000,
                                 issuer_registry_root=issuer_root, person_proof=people.proof(index),
                                 proposal_scope=scope, choice=1)
        name = "first vote of a proposal" if index == 0 else "a later vote"
        figures[f"anonymous vote, {name} (target <= 350,000)"] = int(
            g.vote(proposal.proposal_id, ballot, sender=accounts[7 + index])["gasUsed"])
    for name, value in figures.items():
        print(f"  {name:58s} {'n/a' if value is None else f'{value:,}'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anvil", action="store_true", help="also measure on anvil")
    parser.add_argument("--stock", action="store_true", help="stock py-evm pairing (slow, same gas)")
    parser.add_argument("--dao-only", action="store_true", help="only the DAO figures (no eligibility setup)")
    args = parser.parse_args()
    dao_fixture = make_dao_fixture()
    fixture = None if args.dao_only else make_trial()
    w3 = client.connect(client.embedded_provider(fast_pairing=not args.stock))
    if fixture is not None:
        report("py-evm (EthereumTesterProvider)", w3, fixture)
    report_dao("py-evm (EthereumTesterProvider)", w3, dao_fixture)
    if args.anvil:
        if find_anvil() is None:
            print("anvil not found: npm ci in verifier_contracts/")
            return
        with AnvilNode() as node:
            node_w3 = client.connect(node.url)
            if fixture is not None:
                report("anvil", node_w3, fixture)
            report_dao("anvil", node_w3, dao_fixture)


if __name__ == "__main__":
    main()
