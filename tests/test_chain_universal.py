"""The real universal circuit through the TrialRegistry: one key set embedded once, two trials created with one
transaction each (no setup, no verifier of their own), REAL universal proofs enrolled on stock py-evm and on
anvil; a proof for one trial is refused by the other, by the client's checks and by the contract itself; the
gas of createTrial and enroll is measured (enroll <= 260,000)."""

from __future__ import annotations

import datetime as dt
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from records import make_record_world, t2d_record

from zkhealth.chain import client
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, TrialRegistryClient, TrialTerms
from zkhealth.chain.solidity import public_words, to_calldata
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.dates import epoch_day_to_date
from zkhealth.credentials.trust import trust_root
from zkhealth.eligibility.record_trial import RecordProof, RecordTrial, prove_record_eligibility
from zkhealth.eligibility.universal_keys import DevelopmentKeyWarning, load_proving_key, pinned_verifying_key
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError, WrongProgramError

pytestmark = [pytest.mark.evm, pytest.mark.prove, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::zkhealth.eligibility.universal_keys.DevelopmentKeyWarning")]

DAY = 86_400
CONSENT = b"\x15" * 32
DIABETES = "diagnosis in E11.* and age >= 18"
HYPERTENSION = "diagnosis in I10 and age >= 40"


@dataclass
class Patient:
    world: Any
    secret: int
    issued: Any


def _patient(today: int) -> Patient:
    """A whole-record credential valid around the chain's day (issued 30 days before it)."""
    world = make_record_world()
    secret = 1 + secrets.randbelow((1 << 250) - 1)
    day = epoch_day_to_date(today)
    issued = world.issuer.issue_record(t2d_record(), subject_commitment=subject_commitment(secret),
                                       issued_at=day - dt.timedelta(days=30), expires_at=day + dt.timedelta(days=365))
    return Patient(world, secret, issued)


def _run_story(w3: Any, universal_key_file: Path, *, enroll_both: bool) -> dict[str, int]:
    """Deploy, create two trials, enroll with real proofs (in both trials, or only in the first), and show the
    first trial's proof refused by the second trial."""
    accounts = list(w3.eth.accounts)
    owner, recruiter, patient_address = accounts[0], accounts[1], accounts[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        vk = pinned_verifying_key()
        pk = load_proving_key(universal_key_file)
    registry = TrialRegistryClient.deploy(w3, vk, owner=owner, creators=[recruiter])
    now = int(w3.eth.get_block("latest")["timestamp"])
    today = now // DAY
    patient = _patient(today)
    root = trust_root(patient.world.trusted.root)
    registry.publish_trust_root(root, sender=owner)
    figures: dict[str, int] = {}
    trials: list[tuple[int, RecordTrial]] = []
    for number, criteria in enumerate((DIABETES, HYPERTENSION)):
        trial = RecordTrial(criteria, trial_id=f"NCT0600000{number}", trust_roots={root}, circuit="universal")
        trial.use_keys(pk)
        assert trial.program_hash is not None
        created = registry.create_trial(TrialTerms(program_hash=trial.program_hash, consent_hash=CONSENT,
                                                   window=(now - 60, now + 30 * DAY), capacity=10, owner=recruiter),
                                        sender=recruiter)
        (transaction,) = w3.eth.get_block(created.block_number)["transactions"]
        receipt = w3.eth.get_transaction_receipt(transaction)
        figures.setdefault("create_trial_gas", int(receipt["gasUsed"]))
        trial.expected_scope = created.scope
        trials.append((created.trial_id, trial))
    consent = ConsentTerms(CONSENT, CONSENT_PURPOSES["trial-participation"], today + 90)
    proofs: list[RecordProof] = []
    for trial_number, trial in trials[:2 if enroll_both else 1]:
        proof = prove_record_eligibility(trial, patient.issued, patient.secret, today=today,
                                         recipient=int(patient_address, 16), trusted=patient.world.trusted,
                                         revocation=patient.world.revocation)
        trial.verify(proof, today=today)
        receipt = registry.enroll(trial_number, proof.proof, list(proof.public), consent)
        figures.setdefault("enroll_gas", int(receipt["gasUsed"]))
        assert int(receipt["gasUsed"]) <= 260_000
        proofs.append(proof)
    if enroll_both:
        assert proofs[0].signals["nullifier"] != proofs[1].signals["nullifier"]  # unlinkable across trials
    with pytest.raises(NullifierAlreadyUsedError):
        registry.enroll(trials[0][0], proofs[0].proof, list(proofs[0].public), consent)
    # The first trial's proof offered to the second trial: the client refuses it (another program) ...
    with pytest.raises(WrongProgramError):
        registry.enroll(trials[1][0], proofs[0].proof, list(proofs[0].public), consent)
    # ... and so does the contract, which plugs in the second trial's program hash and scope itself.
    words = public_words(list(proofs[0].public))
    a, b, c = to_calldata(proofs[0].proof)
    _, root_y = registry.trust_root_point(words[4])
    call = registry.contract.functions.enroll(a, b, c, words[0], words[4], trials[1][0], root_y, words[3],
                                              consent.packed)
    with pytest.raises(ContractRevertError) as refused:
        client.transact_checked(w3, call, sender=patient_address, gas=500_000)
    assert refused.value.error_name == "InvalidProof"
    return figures


def test_two_trials_one_key_set_on_stock_py_evm(universal_key_file: Path) -> None:
    figures = _run_story(client.connect(client.embedded_provider()), universal_key_file, enroll_both=True)
    assert figures["enroll_gas"] <= 260_000 and figures["create_trial_gas"] <= 300_000


@pytest.fixture(scope="module")
def anvil_w3() -> Iterator[Any]:
    node = AnvilNode()
    try:
        node.start()
        yield client.connect(node.url)
    finally:
        node.stop()


@pytest.mark.external
@pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in verifier_contracts/)")
def test_two_trials_one_key_set_on_anvil(anvil_w3: Any, universal_key_file: Path) -> None:
    figures = _run_story(anvil_w3, universal_key_file, enroll_both=False)
    assert figures["enroll_gas"] <= 260_000
