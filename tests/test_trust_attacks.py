"""Issue 13's revocation attacks, with real proofs: hospital B revoked a patient's credential, and the patient tries
to enroll anyway with a proof of non-revocation against

* hospital A's revocation root (a registry of the attacker's making, where B's leaf carries A's root),
* the empty tree's root (shared by every issuer that never revoked),
* B's own root from before the revocation, once the trial's grace period is over.

Each is refused at proving time (the library, before any witness), by the Python verifier, by `zkhealth verify`
and `zkhealth verify-batch`, and by the CohortEnrollment contract (py-evm; on anvil too, marked external). The
forged proofs are real Groth16 proofs of the trial's circuit: the circuit is satisfied, because the attacker
chose the issuer registry; what refuses them is that their trust root was never published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from records import EXPIRES, ISSUED, t2d_record

from zkhealth.chain import client, devchain, enrollment
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.cli import EXIT_REFUSED, main
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.dates import epoch_day_to_date
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.persons import empty_person_root
from zkhealth.credentials.record_vc import IssuedRecord
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.trust import TrustedIssuers, empty_revocation_root, trust_root
from zkhealth.credentials.trust_roots import RootHistory, TrustRootDocument
from zkhealth.eligibility import EligibilityProof, Trial, TrialSpec, eligibility_inputs, prove_eligibility
from zkhealth.errors import ContractRevertError, CredentialRevokedError, StaleRootError, UntrustedRootError

pytestmark = [pytest.mark.prove, pytest.mark.evm, pytest.mark.slow]

DAY = 86400
SECRET = 0xB0B5EC12E7


@dataclass
class Attack:
    """Two hospitals, B's revoked credential, the published roots, the trial deployed on py-evm and the three
    attack proofs (made before any time passes)."""

    w3: Any
    trial: Trial
    deployment: enrollment.TrialDeployment
    hospital_a: Issuer
    hospital_b: Issuer
    registry_before: TrustedIssuers
    registry: TrustedIssuers
    credential: IssuedRecord
    operator: Issuer
    proofs: dict[str, EligibilityProof]

    @property
    def now(self) -> int:
        return enrollment.chain_now(self.w3)

    def history(self, *extra: int) -> RootHistory:
        return enrollment.root_history(self.w3, self.deployment.contract, include=extra)


def _forged(registry: TrustedIssuers, key: tuple[int, int], revocation_root: int) -> TrustedIssuers:
    """The attacker's own copy of the registry, with ``key``'s leaf carrying ``revocation_root``."""
    forged = TrustedIssuers.from_dict(registry.to_dict())
    forged.set_revocation_root(key, revocation_root)
    return forged


def _prove(trial: Trial, attack_args: dict[str, Any]) -> EligibilityProof:
    """A Groth16 proof of whatever the attacker's inputs say (no freshness check: the attacker skips it)."""
    return prove_eligibility(trial, **attack_args)


@pytest.fixture(scope="module")
def attack() -> Attack:
    from records import standard_trial

    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    now = enrollment.chain_now(w3)
    hospital_a = Issuer.generate(revocation=RevocationTree(":memory:"))
    hospital_b = Issuer.generate(revocation=RevocationTree(":memory:"))
    # Both have revoked something already, so neither root is the empty tree's (for an issuer that never revoked,
    # the empty tree's root IS its root, and proving against it is honest).
    hospital_a.revoke(424242)
    hospital_b.revoke(777)
    registry = TrustedIssuers()
    registry.add(hospital_a.public_key)
    registry.add(hospital_b.public_key)
    registry.apply(hospital_a.revocation_statement(published_at=now))
    registry.apply(hospital_b.revocation_statement(published_at=now))
    credential = hospital_b.issue_record(t2d_record(), subject_commitment=subject_commitment(SECRET),
                                         issued_at=ISSUED, expires_at=EXPIRES)
    trial = standard_trial(scope=None, trial_id="NCT-ATTACK-13")
    deployment = enrollment.deploy_trial(w3, trial, window=(now - 60, now + 30 * DAY), capacity=10,
                                         owner=accounts[0], trust_root=published_root(registry))
    day = epoch_day_to_date(now // DAY)
    common = dict(credentials=credential, holder_secret=SECRET, recipient=int(accounts[1], 16), today=day,
                  scope=deployment.scope)
    before = TrustedIssuers.from_dict(registry.to_dict())
    proofs = {"pre-revocation": _prove(trial, dict(common, issuers=before, revocations=hospital_b.revocation))}
    # B revokes; the operator applies B's signed root and publishes the new trust root.
    hospital_b.revoke(credential.credential.credential_id)
    registry.apply(hospital_b.revocation_statement(published_at=now + 1))
    enrollment.publish_trust_root(w3, deployment.contract, published_root(registry), sender=accounts[0])
    assert hospital_a.revocation is not None
    proofs["A's revocation root"] = _prove(trial, dict(
        common, issuers=_forged(registry, hospital_b.public_key, hospital_a.revocation.root),
        revocations=hospital_a.revocation))
    proofs["the empty tree's root"] = _prove(trial, dict(
        common, issuers=_forged(registry, hospital_b.public_key, empty_revocation_root()),
        revocations=RevocationTree(":memory:")))
    return Attack(w3, trial, deployment, hospital_a, hospital_b, before, registry, credential,
                  Issuer.generate(), proofs)


def published_root(registry: TrustedIssuers) -> int:
    """The trust root the operator publishes for ``registry`` (no person registry)."""
    return trust_root(registry.root, empty_person_root())


@pytest.fixture
def later(attack: Attack) -> Iterator[Attack]:
    """The chain a grace period (and a minute) after the root update; put back afterwards."""
    tester = attack.w3.provider.ethereum_tester
    snapshot = tester.take_snapshot()
    devchain.advance_time(attack.w3, attack.trial.root_grace_seconds + 60)
    try:
        yield attack
    finally:
        tester.revert_to_snapshot(snapshot)


def test_the_attack_proofs_are_real_proofs(attack: Attack) -> None:
    """The circuit is satisfied for all three (the attacker controls the registry it proves against): only the
    published trust roots tell them apart from honest proofs."""
    from zkhealth import groth16

    published = {published_root(attack.registry_before), published_root(attack.registry)}
    for name, proof in attack.proofs.items():
        groth16.verify(attack.trial.keys.vk, list(proof.public), proof.proof)
        assert (proof.trust_root in published) == (name == "pre-revocation"), name


def test_refused_at_proving_time(attack: Attack) -> None:
    accounts = attack.w3.eth.accounts
    day = epoch_day_to_date(attack.now // DAY)
    base = dict(credentials=attack.credential, holder_secret=SECRET, recipient=int(accounts[1], 16), today=day,
                scope=attack.deployment.scope)
    b_tree = attack.hospital_b.revocation
    a_tree = attack.hospital_a.revocation
    assert a_tree is not None and b_tree is not None
    with pytest.raises(CredentialRevokedError):  # the honest registry: B's current root
        eligibility_inputs(attack.trial, **base, issuers=attack.registry, revocations=b_tree,
                           roots=attack.history())
    for forged, tree in ((_forged(attack.registry, attack.hospital_b.public_key, a_tree.root), a_tree),
                         (_forged(attack.registry, attack.hospital_b.public_key, empty_revocation_root()),
                          RevocationTree(":memory:"))):
        with pytest.raises(UntrustedRootError):
            eligibility_inputs(attack.trial, **base, issuers=forged, revocations=tree, roots=attack.history())
    old = published_root(attack.registry_before)
    with pytest.raises(StaleRootError):  # the registry as it was, a grace period after the update
        eligibility_inputs(attack.trial, **base, issuers=attack.registry_before, revocations=b_tree,
                           roots=attack.history(old), now=attack.now + attack.trial.root_grace_seconds + 60)


def test_refused_by_the_python_verifier(later: Attack) -> None:
    attack = later
    proofs = attack.proofs
    history = attack.history(*(proof.trust_root for proof in proofs.values()))
    for name, expected in (("A's revocation root", UntrustedRootError), ("the empty tree's root", UntrustedRootError),
                           ("pre-revocation", StaleRootError)):
        with pytest.raises(expected) as caught:
            attack.trial.verify(proofs[name], now=attack.now, roots=history, expected_scope=attack.deployment.scope)
        assert type(caught.value) is expected, name


def test_refused_by_the_contract(later: Attack) -> None:
    contract = later.deployment.contract
    for name, error in (("A's revocation root", "UnknownRoot"), ("the empty tree's root", "UnknownRoot"),
                        ("pre-revocation", "StaleRoot")):
        block = later.w3.eth.block_number
        with pytest.raises(ContractRevertError) as caught:
            enrollment.enroll(later.w3, contract, later.proofs[name])
        assert caught.value.error_name == error, name
        assert later.w3.eth.block_number == block  # simulated first: no transaction was sent
    assert contract.functions.enrolledCount().call() == 0


def test_the_pre_revocation_proof_is_accepted_within_the_grace_period(attack: Attack) -> None:
    """The residual window docs/security.md states: a proof made before the root update still enrolls until the
    grace period ends (simulated with eth_call; nothing is sent)."""
    proof = attack.proofs["pre-revocation"]
    call = attack.deployment.contract.functions.enroll(*client.to_calldata(proof.proof), list(proof.public))
    client.simulate(attack.w3, call, sender=client.recipient_address(proof.recipient), gas=enrollment.ENROLL_GAS)
    attack.trial.verify(proof, now=attack.now, roots=attack.history(proof.trust_root),
                        expected_scope=attack.deployment.scope)


def _trust_file(attack: Attack, path: Path) -> str:
    """The operator's signed trust-root file: the pre-revocation root published three days ago, superseded two
    days ago (so, for a verifier reading the clock, past the one-day grace period)."""
    import time

    did = TrustRootDocument.operator_did(attack.operator.ed25519_public_key)
    first = TrustRootDocument.build(attack.registry_before, empty_person_root(), operator=did,
                                    now=int(time.time()) - 3 * DAY)
    second = TrustRootDocument.build(attack.registry, empty_person_root(), operator=did, previous=first,
                                     now=int(time.time()) - 2 * DAY)
    second.save(path, attack.operator.sign_ed25519)
    return did


def test_refused_by_zkhealth_verify_and_verify_batch(attack: Attack, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    attack.trial.keys.save(keys)
    did = _trust_file(attack, tmp_path / "trust.json")
    spec = TrialSpec.new(tmp_path / "trial.json", attack.trial.text, trial_id="NCT-ATTACK-13", name="attack",
                         operator=did, scope=attack.deployment.scope)
    spec = spec.with_trust(operator=did, roots_file="trust.json").with_keys(keys, attack.trial.keys.vk_sha256)
    spec.save()
    files = []
    for index, proof in enumerate(attack.proofs.values()):
        files.append(tmp_path / f"proof{index}.json")
        proof.save(files[-1])
    runner = CliRunner()
    expected = {"pre-revocation": "StaleRootError", "A's revocation root": "UntrustedRootError",
                "the empty tree's root": "UntrustedRootError"}
    for name, path in zip(attack.proofs, files, strict=True):
        result = runner.invoke(main, ["verify", str(tmp_path / "trial.json"), str(path)], prog_name="zkhealth")
        assert result.exit_code == EXIT_REFUSED, result.output
        assert result.stderr.startswith(f"error: {expected[name]}:"), result.stderr
    result = runner.invoke(main, ["--json", "verify-batch", str(tmp_path / "trial.json"), *map(str, files)],
                           prog_name="zkhealth")
    assert result.exit_code == EXIT_REFUSED, result.output
    report = json.loads(result.stdout)
    assert report["valid"] == 0 and report["refused"] == 3
    assert [row["error"].split(":")[0] for row in report["proofs"]] == [expected[name] for name in attack.proofs]


@pytest.fixture(scope="module")
def anvil_w3() -> Iterator[Any]:
    if find_anvil() is None:
        pytest.skip("anvil not installed (npm ci in verifier_contracts/)")
    node = AnvilNode()
    try:
        node.start()
        yield client.connect(node.url)
    finally:
        node.stop()


@pytest.mark.external
def test_refused_by_the_contract_on_anvil(attack: Attack, anvil_w3: Any) -> None:
    """The same contract on a real node: another issuer's revocation root and the empty tree's root (proofs for this
    deployment's scope) revert UnknownRoot in the simulation, and nothing is sent. (The pre-revocation root after the
    grace period on anvil: tests/test_cli_trial.py::test_deploy_prove_enroll_revoke_and_list_on_anvil.)"""
    w3 = anvil_w3
    accounts = list(w3.eth.accounts)
    now = enrollment.chain_now(w3)
    deployment = enrollment.deploy_trial(w3, attack.trial, window=(now - 60, now + DAY), capacity=2,
                                         owner=accounts[0], trust_root=published_root(attack.registry))
    a_tree = attack.hospital_a.revocation
    assert a_tree is not None
    common = dict(credentials=attack.credential, holder_secret=SECRET, recipient=int(accounts[1], 16),
                  today=epoch_day_to_date(now // DAY), scope=deployment.scope)
    forged = _prove(attack.trial, dict(common, issuers=_forged(attack.registry, attack.hospital_b.public_key,
                                                               a_tree.root), revocations=a_tree))
    empty = _prove(attack.trial, dict(common, issuers=_forged(attack.registry, attack.hospital_b.public_key,
                                                              empty_revocation_root()),
                                      revocations=RevocationTree(":memory:")))
    for proof in (forged, empty):
        block = w3.eth.block_number
        with pytest.raises(ContractRevertError) as caught:
            enrollment.enroll(w3, deployment.contract, proof)
        assert caught.value.error_name == "UnknownRoot" and w3.eth.block_number == block
