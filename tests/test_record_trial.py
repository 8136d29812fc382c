"""Trials over version-2 records end to end (zkhealth.eligibility.record_trial): prove, verify, and every
policy refusal. One small program, one setup (prove tier, slow)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from records import TODAY, RecordWorld, make_record_world, t2d_record

from zkhealth.credentials.record import Condition
from zkhealth.credentials.trust import trust_root
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.eligibility.record_trial import RecordProof, RecordTrial, prove_record_eligibility
from zkhealth.errors import (
    InvalidProofError,
    MalformedProofError,
    NotEligibleError,
    StaleProofError,
    UntrustedRootError,
    VerifyingKeyMismatchError,
    WrongRecipientError,
    WrongScopeError,
)

pytestmark = [pytest.mark.prove, pytest.mark.slow]
CRITERIA = "diagnosis in E11.* and not diagnosis in E10.*"


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("t2d", t2d_record())
    world.issue("t1d", t2d_record(conditions=(*t2d_record().conditions, Condition("E10.9", dt.date(2010, 1, 1)))))
    return world


@pytest.fixture(scope="module")
def trial(world: RecordWorld) -> RecordTrial:
    trial = RecordTrial(CRITERIA, trial_id="NCT03987919", trust_roots={trust_root(world.trusted.root)}, scope=77)
    trial.setup()
    return trial


@pytest.fixture(scope="module")
def proof(world: RecordWorld, trial: RecordTrial) -> RecordProof:
    holder = world.holders["t2d"]
    return prove_record_eligibility(trial, holder.issued, holder.holder_secret, today=TODAY, recipient=0xBEEF,
                                    trusted=world.trusted, revocation=world.revocation)


def test_valid_proof_verifies_and_round_trips(trial: RecordTrial, proof: RecordProof) -> None:
    result = trial.verify(proof.to_json(), today=TODAY, expected_recipient=0xBEEF)
    assert result.scope == 77 and result.recipient == 0xBEEF and result.trust_root in trial.trust_roots
    assert RecordProof.from_json(proof.to_json()) == proof


def test_not_eligible_is_refused_before_proving(world: RecordWorld, trial: RecordTrial) -> None:
    holder = world.holders["t1d"]
    with pytest.raises(NotEligibleError) as caught:
        prove_record_eligibility(trial, holder.issued.document, holder.holder_secret, today=TODAY, recipient=1,
                                 trusted=world.trusted, revocation=world.revocation)
    assert caught.value.clause == "not diagnosis in E10.*"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"expected_scope": 78}, WrongScopeError),
        ({"today": TODAY + 5}, StaleProofError),
        ({"today": TODAY - 1}, StaleProofError),
        ({"expected_recipient": 0xCAFE}, WrongRecipientError),
    ],
)
def test_policy_refusals(trial: RecordTrial, proof: RecordProof, change: dict[str, Any],
                         error: type[Exception]) -> None:
    options: dict[str, Any] = {"today": TODAY}
    options.update(change)
    with pytest.raises(error):
        trial.verify(proof, **options)


def test_untrusted_root_program_mismatch_and_tampering(world: RecordWorld, trial: RecordTrial,
                                                       proof: RecordProof) -> None:
    other = RecordTrial(CRITERIA, trial_id="NCT03987919", trust_roots={1}, scope=77)
    other._keys = trial.keys
    with pytest.raises(UntrustedRootError):
        other.verify(proof, today=TODAY)
    changed = RecordTrial("diagnosis in E11.*", trial_id="NCT03987919", trust_roots=trial.trust_roots, scope=77)
    changed._keys = trial.keys
    with pytest.raises(VerifyingKeyMismatchError):
        changed.verify(proof, today=TODAY)
    data = json.loads(proof.to_json())
    data["public"][4] = str(int(data["public"][4]) + 1)
    data["publicSignals"]["recipient"] = data["public"][4]
    with pytest.raises(InvalidProofError):
        trial.verify(json.dumps(data), today=TODAY)
    data["public"][4] = str(int(data["public"][4]) + (1 << 254))
    with pytest.raises(MalformedProofError):
        trial.verify(json.dumps(data), today=TODAY)


def test_a_wallet_proves_its_v2_credential(world: RecordWorld, trial: RecordTrial, tmp_path: Path) -> None:
    holder = world.holders["t2d"]
    wallet = Wallet.create(tmp_path / "w.zkw", "a long passphrase", kdf=KDF_FLOOR, holder_secret=holder.holder_secret)
    wallet.add_credential(holder.issued.document)
    proof = prove_record_eligibility(trial, wallet, today=TODAY, recipient=0xBEEF, trusted=world.trusted,
                                     revocation=world.revocation)
    assert trial.verify(proof, today=TODAY).recipient == 0xBEEF


def test_the_v1_prover_skips_v2_documents(world: RecordWorld, tmp_path: Path) -> None:
    from zkhealth.credentials.trees import IssuerRegistry
    from zkhealth.eligibility import Trial, prove

    wallet = Wallet.create(tmp_path / "v.zkw", "a long passphrase", kdf=KDF_FLOOR)
    wallet.add_credential(world.holders["t2d"].issued.document)
    with pytest.raises(NotEligibleError):  # no version-1 credential to prove with; never a schema error
        prove(Trial("age >= 18", trial_id="X", scope=1), wallet, today=TODAY, recipient=1, registry=IssuerRegistry(),
              revocations=world.revocation)
