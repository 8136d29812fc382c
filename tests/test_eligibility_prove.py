"""Eligibility, prove tier (slow): the standard "E11.* and age >= 18" trial end to end.

One setup per session (about 20 s of pure Python) and two proofs; every verifier-side check is then
exercised on those proofs: the Groth16 check, the accepted window, the trusted roots, the scope, the
trial and criteria pins, the recipient, strict JSON, batches, and keys saved and reloaded.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from patients import EXPIRES, ISSUED, PATIENTS, TODAY, World, make_world

from zkhealth import groth16
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.eligibility import EligibilityProof, Trial, TrialKeys, prove, prove_eligibility
from zkhealth.errors import (
    CredentialExpiredError,
    CredentialRevokedError,
    EligibilityError,
    InvalidProofError,
    NotEligibleError,
    PublicInputOutOfRangeError,
    StaleProofError,
    UnknownIssuerError,
    UntrustedRootError,
    VerifyingKeyMismatchError,
    WrongRecipientError,
    WrongScopeError,
)
from zkhealth.field import FIELD_R
from zkhealth.groth16.rerandomize import rerandomize

pytestmark = [pytest.mark.prove, pytest.mark.slow]

STANDARD = "diagnosis in E11.* and age >= 18"
SCOPE = 0x1234_5678_9ABC
OTHER_SCOPE = 0x4242
RECIPIENT = 0x000000000000000000000000000000000000BEEF


@dataclasses.dataclass
class Setup:
    world: World
    trial: Trial
    keys: TrialKeys
    proof: EligibilityProof
    second: EligibilityProof


def _trial(world: World, **options: Any) -> Trial:
    settings: dict[str, Any] = {
        "trial_id": "NCT05000001",
        "scope": SCOPE,
        "trusted_issuer_roots": {world.registry.root},
        "revocation_roots": {world.revocation.root},
        "accepted_window_days": 2,
    }
    settings.update(options)
    return Trial(STANDARD, **settings)


def _prove(setup_world: World, trial: Trial, name: str, **options: Any) -> EligibilityProof:
    patient = setup_world.patient(name)
    arguments: dict[str, Any] = {"today": TODAY, "recipient": RECIPIENT, **setup_world.proofs(patient.issued)}
    arguments.update(options)
    return prove_eligibility(trial, patient.issued, patient.holder_secret, **arguments)


@pytest.fixture(scope="session")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    world = make_world(["t2d_adult", "t2d_minor", "ckd_diabetic"])
    trial = _trial(world)
    keys = trial.setup()
    proof = _prove(world, trial, "t2d_adult")
    # The second patient proves from a wallet holding an ineligible credential first (as VC documents):
    # the prover must pick the eligible one.
    wallet = Wallet.create(tmp_path_factory.mktemp("wallet") / "patient.zkw", "pass", kdf=KDF_FLOOR)
    commitment = subject_commitment(wallet.holder_secret)
    for name in ("t2d_minor", "ckd_diabetic"):
        issued = world.issuer.issue(PATIENTS[name], subject_commitment=commitment, issued_at=ISSUED, expires_at=EXPIRES)
        wallet.add_credential(issued.document)
    second = prove(trial, wallet, today=TODAY, recipient=RECIPIENT, registry=world.registry,
                   revocations=world.revocation)
    return Setup(world, trial, keys, proof, second)


def test_eligible_patient_proves_and_passes_verify(setup: Setup) -> None:
    result = setup.trial.verify(setup.proof, today=TODAY)
    assert result.nullifier == setup.proof.nullifier and result.recipient == RECIPIENT
    assert result.scope == SCOPE and result.today == TODAY
    # The JSON form verifies too, and snarkjs' two files are inside it.
    text = setup.proof.to_json()
    assert setup.trial.verify(EligibilityProof.from_json(text), today=TODAY + 2).nullifier == result.nullifier
    data = json.loads(text)
    assert data["public"] == [str(v) for v in setup.proof.public]
    groth16.verify(setup.keys.vk, [int(v) for v in data["public"]], setup.proof.proof)


def test_not_eligible_patient_is_told_the_clause_before_any_proving(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_proving(*args: object, **kwargs: object) -> None:
        raise AssertionError("a proof was attempted")

    monkeypatch.setattr(groth16, "prove", no_proving)
    monkeypatch.setattr(type(setup.trial.compile()), "solve_witness", no_proving)
    with pytest.raises(NotEligibleError) as caught:
        _prove(setup.world, setup.trial, "t2d_minor")
    assert caught.value.clause == "age >= 18"
    assert str(caught.value) == "criterion `age >= 18` not met"


def test_prover_refuses_credentials_the_verifier_would_refuse(setup: Setup) -> None:
    world = setup.world
    assert world.revoked is not None
    with pytest.raises(CredentialRevokedError):
        prove_eligibility(setup.trial, world.revoked.issued, world.revoked.holder_secret, today=TODAY,
                          recipient=RECIPIENT, **world.proofs(world.revoked.issued))
    with pytest.raises(CredentialExpiredError):
        _prove(world, setup.trial, "t2d_adult", today=world.patient("t2d_adult").issued.credential.expires_at)
    other = world.registry.proof(world.registry.issuers()[0][1])
    with pytest.raises(UnknownIssuerError):
        _prove(world, setup.trial, "t2d_adult", registry_proof=other)
    untrusting = _trial(world, trusted_issuer_roots={world.registry.root + 1})
    untrusting.use_keys(setup.keys)
    with pytest.raises(UntrustedRootError):
        _prove(world, untrusting, "t2d_adult")


def test_two_patients_two_trials_distinct_nullifiers(setup: Setup) -> None:
    assert setup.proof.nullifier != setup.second.nullifier
    results = setup.trial.verify_batch([setup.proof, setup.second], today=TODAY)
    assert [r.nullifier for r in results] == [setup.proof.nullifier, setup.second.nullifier]


def test_verifier_window_roots_scope_trial_and_recipient(setup: Setup) -> None:
    trial, proof = setup.trial, setup.proof
    with pytest.raises(StaleProofError):
        trial.verify(proof, today=TODAY + 3)
    with pytest.raises(StaleProofError):
        trial.verify(proof, today=TODAY - 1)  # a proof dated after the verifier's today
    with pytest.raises(WrongScopeError):
        trial.verify(proof, today=TODAY, expected_scope=OTHER_SCOPE)
    with pytest.raises(WrongRecipientError):
        trial.verify(proof, today=TODAY, expected_recipient=RECIPIENT + 1)
    options: dict[str, Any]
    for options in ({"trusted_issuer_roots": {1}}, {"revocation_roots": set()}):
        strict = _trial(setup.world, **options)
        strict.use_keys(setup.keys)
        with pytest.raises(UntrustedRootError):
            strict.verify(proof, today=TODAY)
    other_trial = _trial(setup.world, trial_id="NCT05000002")
    other_trial.use_keys(setup.keys)
    with pytest.raises(WrongScopeError):
        other_trial.verify(proof, today=TODAY)


def test_changed_public_signals_or_points_fail_the_groth16_check(setup: Setup) -> None:
    data = setup.proof.to_dict()
    for index in range(6):
        tampered = json.loads(json.dumps(data))
        value = (int(tampered["public"][index]) + 1) % FIELD_R
        tampered["public"][index] = str(value)
        tampered["publicSignals"][list(tampered["publicSignals"])[index]] = str(value)
        # Keep the policy checks passing so the pairing check is what fails.
        proof = EligibilityProof.from_dict(tampered)
        trial = _trial(
            setup.world,
            scope=proof.scope,
            trusted_issuer_roots={proof.trusted_issuer_root},
            revocation_roots={proof.revocation_root},
            accepted_window_days=5,
        )
        trial.use_keys(setup.keys)
        with pytest.raises(InvalidProofError):
            trial.verify(proof, today=proof.today + 1 if proof.today < TODAY + 5 else TODAY)
    aliased = json.loads(json.dumps(data))
    aliased["public"][5] = str(RECIPIENT + FIELD_R)
    aliased["publicSignals"]["recipient"] = aliased["public"][5]
    with pytest.raises(PublicInputOutOfRangeError):
        setup.trial.verify(EligibilityProof.from_dict(aliased), today=TODAY)
    swapped = dataclasses.replace(setup.proof, proof=setup.second.proof)
    with pytest.raises(InvalidProofError):
        setup.trial.verify(swapped, today=TODAY)
    with pytest.raises(InvalidProofError):
        setup.trial.verify_batch([setup.proof, swapped], today=TODAY)


def test_rerandomised_proof_verifies_with_the_same_nullifier(setup: Setup) -> None:
    fresh = dataclasses.replace(setup.proof, proof=rerandomize(setup.keys.vk, setup.proof.proof))
    assert fresh.proof != setup.proof.proof
    assert setup.trial.verify(fresh, today=TODAY).nullifier == setup.proof.nullifier


def test_keys_are_pinned_to_the_criteria(setup: Setup, tmp_path: Path) -> None:
    setup.keys.save(tmp_path / "keys")
    reloaded = _trial(setup.world)
    reloaded.use_keys(TrialKeys.load(tmp_path / "keys"))
    assert reloaded.verify(setup.proof, today=TODAY).nullifier == setup.proof.nullifier
    other = Trial("diagnosis in E11.* and age >= 21", trial_id="NCT05000001", scope=SCOPE)
    with pytest.raises(VerifyingKeyMismatchError):
        other.use_keys(TrialKeys.load(tmp_path / "keys"))
    with pytest.raises(VerifyingKeyMismatchError):
        other.use_keys(setup.keys)
    manifest = tmp_path / "keys" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["verifyingKeySha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    with pytest.raises(VerifyingKeyMismatchError):
        _trial(setup.world).use_keys(TrialKeys.load(tmp_path / "keys"))
    # A proof claiming other criteria is refused before the pairing check.
    forged = dataclasses.replace(setup.proof, criteria_sha256="0" * 64)
    with pytest.raises(VerifyingKeyMismatchError):
        setup.trial.verify(forged, today=TODAY)


def test_a_trial_without_keys_or_scope_refuses_to_work(setup: Setup) -> None:
    bare = Trial(STANDARD, trial_id="NCT05000001")
    with pytest.raises(EligibilityError):
        bare.verify(setup.proof, today=TODAY)
    bare.use_keys(setup.keys)
    with pytest.raises(EligibilityError):
        bare.verify(setup.proof, today=TODAY)
