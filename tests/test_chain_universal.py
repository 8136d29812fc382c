"""The real universal circuit through the TrialRegistry: one key set embedded once, two trials created with one
transaction each (no setup, no verifier of their own), REAL universal proofs enrolled on stock py-evm (anvil:
tests/test_cli_universal.py); a proof for one trial is refused by the other, by the client's checks and by the
contract itself; snarkjs verifies the proofs with the shipped verifying key; the gas of createTrial and enroll is
measured (enroll <= 260,000)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from records import make_record_world, t2d_record

from zkhealth.chain import client
from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, TrialRegistryClient, TrialTerms
from zkhealth.chain.solidity import public_words, to_calldata
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.dates import epoch_day_to_date
from zkhealth.credentials.trust import trust_root
from zkhealth.eligibility.record_trial import RecordProof, RecordTrial, prove_record_eligibility
from zkhealth.eligibility.universal_keys import DevelopmentKeyWarning, load_proving_key, pinned_verifying_key
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError, WrongProgramError
from zkhealth.formats.snarkjs_json import dumps_snarkjs, proof_to_dict, verifying_key_to_dict

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


def _run_story(w3: Any, universal_key_file: Path, *, enroll_both: bool,
               snarkjs: tuple[Path, Path] | None = None) -> dict[str, int]:
    """Deploy, create two trials, enroll with real proofs (in both trials, or only in the first), and show the
    first trial's proof refused by the second trial; with ``snarkjs`` (its command line and a folder), snarkjs
    verifies each proof with the shipped verifying key and refuses one with the other trial's program hash."""
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
    if snarkjs is not None:
        _snarkjs_checks(*snarkjs, vk, proofs)
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


@pytest.mark.external
def test_two_trials_one_key_set_on_stock_py_evm(universal_key_file: Path, snarkjs_cli: Path, tmp_path: Path) -> None:
    """Stock py-evm (py-evm's own pairing); the proofs also verify with snarkjs against the shipped key."""
    figures = _run_story(client.connect(client.embedded_provider()), universal_key_file, enroll_both=True,
                         snarkjs=(snarkjs_cli, tmp_path))
    assert figures["enroll_gas"] <= 260_000 and figures["create_trial_gas"] <= 300_000


def _snarkjs_checks(cli: Path, folder: Path, vk: Any, proofs: list[RecordProof]) -> None:
    (folder / "vk.json").write_text(dumps_snarkjs(verifying_key_to_dict(vk)))

    def verify(index: int, public: list[str]) -> subprocess.CompletedProcess[str]:
        (folder / f"proof{index}.json").write_text(json.dumps(proof_to_dict(proofs[index].proof)))
        (folder / f"public{index}.json").write_text(json.dumps(public))
        files = [str(folder / name) for name in ("vk.json", f"public{index}.json", f"proof{index}.json")]
        return subprocess.run([str(cli), "groth16", "verify", *files], capture_output=True, text=True, timeout=600)

    for index, proof in enumerate(proofs):
        result = verify(index, [str(v) for v in proof.public])
        assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
    mixed = [str(v) for v in proofs[0].public]
    mixed[1] = str(proofs[1].public[1])  # the first proof with the second trial's program hash
    assert verify(0, mixed).returncode != 0
