"""Eligibility, prove tier (slow): the standard "E11.* and age >= 18" trial end to end over schema version 2.

One setup per session (tests/records: about 20-30 s of pure Python) and two proofs; every verifier-side check
is then exercised on those proofs: the Groth16 check, the accepted window, the trust roots and their grace
period, the scope, the trial and program pins, the recipient, strict JSON, batches with duplicates, and keys
saved and reloaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from records import EXPIRES, ISSUED, TODAY, RecordWorld, make_record_world, standard_trial, t2d_record

from zkhealth import groth16
from zkhealth.credentials.credential import Diagnosis, HealthClaims, subject_commitment
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.trust_roots import RootHistory
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.eligibility import EligibilityProof, Trial, TrialKeys, prove, prove_eligibility
from zkhealth.errors import (
    CredentialExpiredError,
    CredentialRevokedError,
    DuplicateProofError,
    EligibilityError,
    InvalidProofError,
    NotEligibleError,
    PublicInputOutOfRangeError,
    StaleProofError,
    StaleRootError,
    UnknownIssuerError,
    UntrustedRootError,
    VerifyingKeyMismatchError,
    WrongRecipientError,
    WrongScopeError,
)
from zkhealth.field import FIELD_R
from zkhealth.groth16.rerandomize import rerandomize

pytestmark = [pytest.mark.prove, pytest.mark.slow]

SCOPE = 1234567
OTHER_SCOPE = 0x4242
RECIPIENT = 0x000000000000000000000000000000000000BEEF
D = dt.date


@dataclasses.dataclass
class Setup:
    world: RecordWorld
    trial: Trial
    keys: TrialKeys
    proof: EligibilityProof
    second: EligibilityProof


def _trial(world: RecordWorld, **options: Any) -> Trial:
    settings: dict[str, Any] = {"roots": world.history(), "accepted_window_days": 2}
    settings.update(options)
    return standard_trial(**settings)


def _prove(world: RecordWorld, trial: Trial, name: str, **options: Any) -> EligibilityProof:
    holder = world.holders[name]
    arguments: dict[str, Any] = {"today": TODAY, "recipient": RECIPIENT, "issuers": world.trusted,
                                 "revocations": world.revocation}
    arguments.update(options)
    return prove_eligibility(trial, holder.issued, holder.holder_secret, **arguments)


@pytest.fixture(scope="session")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    world = make_record_world()
    world.issue("adult", t2d_record())
    world.issue("minor", t2d_record(birth_date=D(2010, 7, 1)))
    trial = _trial(world)
    proof = _prove(world, trial, "adult")
    # The second patient proves from a wallet holding a version-1 credential and an ineligible version-2
    # credential first: the prover skips the first, evaluates the second and picks the eligible third.
    wallet = Wallet.create(tmp_path_factory.mktemp("wallet") / "patient.zkw", "pass", kdf=KDF_FLOOR)
    commitment = subject_commitment(wallet.holder_secret)
    v1 = world.issuer.issue(HealthClaims(birth_date=D(1970, 1, 1), diagnoses=(Diagnosis("E11.9", D(2020, 1, 1)),)),
                            subject_commitment=commitment, issued_at=ISSUED, expires_at=EXPIRES)
    wallet.add_credential(v1.document, today=TODAY)
    for record in (t2d_record(birth_date=D(2012, 1, 1)), t2d_record(birth_date=D(1950, 2, 2))):
        issued = world.issuer.issue_record(record, subject_commitment=commitment, issued_at=ISSUED, expires_at=EXPIRES)
        wallet.add_credential(issued.document, today=TODAY)
    second = prove(trial, wallet, today=TODAY, recipient=RECIPIENT, issuers=world.trusted,
                   revocations=world.revocation)
    return Setup(world, trial, trial.keys, proof, second)


def test_eligible_patient_proves_and_passes_verify(setup: Setup) -> None:
    result = setup.trial.verify(setup.proof, today=TODAY)
    assert result.nullifier == setup.proof.nullifier and result.recipient == RECIPIENT
    assert result.scope == SCOPE and result.today == TODAY and result.trust_root == setup.world.trust_root
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
        _prove(setup.world, setup.trial, "minor")
    assert caught.value.clause == "age >= 18"
    assert str(caught.value) == "criterion `age >= 18` not met"


def test_prover_refuses_credentials_the_verifier_would_refuse(setup: Setup) -> None:
    world = setup.world
    assert world.revoked is not None
    with pytest.raises(CredentialRevokedError):
        prove_eligibility(setup.trial, world.revoked.issued, world.revoked.holder_secret, today=TODAY,
                          recipient=RECIPIENT, issuers=world.trusted, revocations=world.revocation)
    with pytest.raises(CredentialExpiredError):
        _prove(world, setup.trial, "adult", today=world.holders["adult"].issued.credential.expires_at)
    stranger = Issuer.generate().issue_record(t2d_record(), subject_commitment=1, issued_at=ISSUED, expires_at=EXPIRES)
    with pytest.raises(UnknownIssuerError):
        prove_eligibility(setup.trial, stranger, 5, today=TODAY, recipient=1, issuers=world.trusted,
                          revocations=world.revocation)
    with pytest.raises(UntrustedRootError):
        _prove(world, setup.trial, "adult", roots=RootHistory.single(world.trust_root + 1))
    superseded = world.history().published(world.trust_root + 1, 1_000)
    with pytest.raises(StaleRootError):
        _prove(world, setup.trial, "adult", roots=superseded, now=1_000 + setup.trial.root_grace_seconds + 1)


def test_two_patients_distinct_nullifiers_and_duplicates_count_once(setup: Setup) -> None:
    assert setup.proof.nullifier != setup.second.nullifier
    results = setup.trial.verify_batch([setup.proof, setup.second], today=TODAY)
    assert [r.nullifier for r in results] == [setup.proof.nullifier, setup.second.nullifier]
    fresh = dataclasses.replace(setup.proof, proof=rerandomize(setup.keys.vk, setup.proof.proof))
    outcomes = setup.trial.verify_each([setup.proof, setup.second, setup.proof, fresh], today=TODAY)
    assert [type(o).__name__ for o in outcomes] == ["VerifiedEligibility", "VerifiedEligibility",
                                                     "DuplicateProofError", "DuplicateProofError"]
    with pytest.raises(DuplicateProofError):
        setup.trial.verify_batch([setup.proof, setup.proof], today=TODAY)


def test_verifier_window_roots_scope_trial_and_recipient(setup: Setup) -> None:
    trial, proof, world = setup.trial, setup.proof, setup.world
    with pytest.raises(StaleProofError):
        trial.verify(proof, today=TODAY + 3)
    with pytest.raises(StaleProofError):
        trial.verify(proof, today=TODAY - 1)  # a proof dated after the verifier's today
    with pytest.raises(WrongScopeError):
        trial.verify(proof, today=TODAY, expected_scope=OTHER_SCOPE)
    with pytest.raises(WrongRecipientError):
        trial.verify(proof, today=TODAY, expected_recipient=RECIPIENT + 1)
    with pytest.raises(UntrustedRootError):
        trial.verify(proof, today=TODAY, roots=RootHistory.single(world.trust_root + 1))
    updated = world.history().published(world.trust_root + 1, TODAY * 86_400)
    grace = trial.root_grace_seconds
    assert trial.verify(proof, today=TODAY, now=TODAY * 86_400 + grace, roots=updated).nullifier == proof.nullifier
    with pytest.raises(StaleRootError):
        trial.verify(proof, today=TODAY, now=TODAY * 86_400 + grace + 1, roots=updated)
    other_trial = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000002", scope=SCOPE,
                        roots=world.history())
    other_trial.use_keys(setup.keys)
    with pytest.raises(WrongScopeError):
        other_trial.verify(proof, today=TODAY)


def test_changed_public_signals_or_points_fail_the_groth16_check(setup: Setup) -> None:
    data = setup.proof.to_dict()
    for index in range(5):
        tampered = json.loads(json.dumps(data))
        value = (int(tampered["public"][index]) + 1) % FIELD_R
        tampered["public"][index] = str(value)
        tampered["publicSignals"][list(tampered["publicSignals"])[index]] = str(value)
        # Keep the policy checks passing so the pairing check is what fails.
        proof = EligibilityProof.from_dict(tampered)
        trial = _trial(setup.world, scope=proof.scope, roots=RootHistory.single(proof.trust_root),
                       accepted_window_days=5)
        with pytest.raises(InvalidProofError):
            trial.verify(proof, today=proof.today + 1 if proof.today < TODAY + 5 else TODAY)
    aliased = json.loads(json.dumps(data))
    aliased["public"][4] = str(RECIPIENT + FIELD_R)
    aliased["publicSignals"]["recipient"] = aliased["public"][4]
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
    # A proof claiming another program is refused before the pairing check.
    forged = dataclasses.replace(setup.proof, program_sha256="0" * 64)
    with pytest.raises(VerifyingKeyMismatchError):
        setup.trial.verify(forged, today=TODAY)


def test_a_trial_without_keys_scope_or_roots_refuses_to_work(setup: Setup) -> None:
    bare = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001")
    with pytest.raises(EligibilityError):
        bare.verify(setup.proof, today=TODAY)
    bare.use_keys(setup.keys)
    with pytest.raises(EligibilityError):
        bare.verify(setup.proof, today=TODAY, roots=setup.world.history())
    scoped = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=SCOPE)
    scoped.use_keys(setup.keys)
    with pytest.raises(EligibilityError):
        scoped.verify(setup.proof, today=TODAY)
