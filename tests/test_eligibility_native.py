"""Eligibility, native tier: calendar arithmetic, trial ids and scopes, strict EligibilityProof JSON, and the
prover's refusals that need no keys."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from records import TODAY, make_record_world, t2d_record

from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.eligibility import EligibilityProof, Trial, prove, prove_eligibility
from zkhealth.eligibility.calendar import (
    _decompose_shifted,
    packed_date,
    packed_ordinal,
)
from zkhealth.errors import (
    EligibilityError,
    MalformedProofError,
    NonCanonicalEncodingError,
    NotEligibleError,
    PublicInputOutOfRangeError,
)
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof

pytestmark = pytest.mark.native


# --------------------------------------------------------------------------- calendar


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(7791, 12, 31)))
def test_native_decomposition_matches_the_gregorian_calendar(day: dt.date) -> None:
    yy, month0, day0 = _decompose_shifted(day.toordinal() + 146_097)
    assert (yy - 399, month0 + 1, day0 + 1) == (day.year, day.month, day.day)
    assert packed_ordinal(day.toordinal()) == packed_date(day)


@given(st.dates(max_value=dt.date(9998, 12, 31)), st.dates(max_value=dt.date(9998, 12, 31)))
def test_packing_preserves_date_order(a: dt.date, b: dt.date) -> None:
    assert (packed_date(a) < packed_date(b)) == (a < b)


def test_absent_date_packs_as_the_last_day_of_year_zero() -> None:
    # 0000-12-31: yy = 399, month 12, day 31; just before 0001-01-01 (the packing leaves gaps).
    assert packed_ordinal(0) == 32 * (12 * 399 + 11) + 30 < packed_date(dt.date(1, 1, 1))
    with pytest.raises(EligibilityError):
        packed_ordinal(-1)


# --------------------------------------------------------------------------- trials and proof JSON


def test_trial_ids_are_32_bytes() -> None:
    assert Trial("age >= 18", trial_id="NCT05000001").trial_id == b"NCT05000001".ljust(32, b"\0")
    assert Trial("age >= 18", trial_id="0x" + "ab" * 32).trial_id == bytes([0xAB]) * 32
    for bad in ("", "x" * 33, b"short", "é"):
        with pytest.raises(EligibilityError):
            Trial("age >= 18", trial_id=bad)
    with pytest.raises(EligibilityError):
        Trial("age >= 18", trial_id="t", accepted_window_days=-1)


def _proof_object() -> EligibilityProof:
    g1 = (1, 2)
    g2 = (
        (
            10857046999023057135944570762232829481370756359578518086990519993285655852781,
            11559732032986387107991004021392285783925812861821192530917403151452391805634,
        ),
        (
            8495653923123431417604973247489272438418190587263600148770280649306958101930,
            4082367875863433681332203403145435568316851327593401208105741076214120093531,
        ),
    )
    return EligibilityProof(
        trial_id=b"T".ljust(32, b"\0"),
        program_sha256="a" * 64,
        vk_sha256="b" * 64,
        proof=Proof(g1, g2, g1),
        public=(1, 2, 20514, 4, 5),
    )


def test_proof_json_round_trips_and_holds_snarkjs_files() -> None:
    proof = _proof_object()
    data = json.loads(proof.to_json())
    assert data["public"] == ["1", "2", "20514", "4", "5"] and data["version"] == 2
    assert data["proof"]["protocol"] == "groth16" and data["proof"]["curve"] == "bn128"
    assert data["publicSignals"]["today"] == "20514" and data["publicSignals"]["trust_root"] == "4"
    assert EligibilityProof.from_json(proof.to_json()) == proof
    assert proof.public_signals["recipient"] == 5 == proof.recipient and proof.trust_root == 4


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(extra=1),
        lambda d: d.pop("trialId"),
        lambda d: d.update(version=3),
        lambda d: d.update(version=1),
        lambda d: d.update(format="other"),
        lambda d: d.update(trialId="0x12"),
        lambda d: d.update(programSha256="A" * 64),
        lambda d: d["public"].append("6"),
        lambda d: d["public"].pop(),
        lambda d: d["publicSignals"].update(today="20515"),
        lambda d: d["public"].__setitem__(0, "01"),
        lambda d: d["proof"].update(pi_a=["1", "x", "1"]),
        lambda d: d["proof"].update(protocol="plonk"),
    ],
)
def test_proof_json_is_parsed_strictly(mutate: object) -> None:
    data = json.loads(_proof_object().to_json())
    mutate(data)  # type: ignore[operator]
    with pytest.raises((MalformedProofError, NonCanonicalEncodingError)):
        EligibilityProof.from_dict(data)


def test_public_signal_aliases_are_refused_before_any_reduction() -> None:
    data = json.loads(_proof_object().to_json())
    data["public"][2] = str(20514 + FIELD_R)
    data["publicSignals"]["today"] = data["public"][2]
    with pytest.raises(PublicInputOutOfRangeError):
        EligibilityProof.from_dict(data)
    text = _proof_object().to_json().replace('"version":2', '"version":2,"version":2')
    with pytest.raises(MalformedProofError):
        EligibilityProof.from_json(text)


def test_a_wallet_without_an_eligible_credential_is_refused_before_any_key_is_needed(tmp_path: Path) -> None:
    world = make_record_world()
    wallet = Wallet.create(tmp_path / "w.zkw", "pass", kdf=KDF_FLOOR)
    issued = world.issuer.issue_record(t2d_record(birth_date=dt.date(2010, 7, 1)),
                                       subject_commitment=subject_commitment(wallet.holder_secret),
                                       issued_at=TODAY - 30, expires_at=TODAY + 300)
    wallet.add_credential(issued.document, today=TODAY)
    trial = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=1)
    trust = {"issuers": world.trusted, "revocations": world.revocation}
    with pytest.raises(NotEligibleError) as caught:
        prove(trial, wallet, today=TODAY, recipient=1, **trust)  # type: ignore[arg-type]
    assert caught.value.clause == "age >= 18"
    with pytest.raises(NotEligibleError) as caught:
        prove_eligibility(trial, issued, wallet.holder_secret, today=TODAY, recipient=1, **trust)  # type: ignore[arg-type]
    assert caught.value.clause == "age >= 18"
    empty = Wallet.create(tmp_path / "empty.zkw", "pass", kdf=KDF_FLOOR)
    with pytest.raises(NotEligibleError):
        prove(trial, empty, today=TODAY, recipient=1, **trust)  # type: ignore[arg-type]


def test_scope_is_the_enrollment_contracts_formula() -> None:
    from zkhealth.eligibility import trial_scope
    from zkhealth.hash.keccak import keccak256

    address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    trial = Trial("age >= 18", trial_id="NCT05000001", chain_id=31337, enrollment_address=address)
    encoded = (31337).to_bytes(32, "big") + bytes.fromhex(address[2:]).rjust(32, b"\0") + trial.trial_id
    expected = int.from_bytes(keccak256(encoded), "big") >> 3
    assert trial.expected_scope == trial.scope(31337, address) == expected
    assert trial_scope(31337, address, trial.trial_id) == expected
    assert trial.expected_scope is not None and trial.expected_scope < 1 << 253
    with pytest.raises(EligibilityError):
        Trial("age >= 18", trial_id="x", chain_id=1)
    with pytest.raises(EligibilityError):
        Trial("age >= 18", trial_id="x", scope=FIELD_R)
