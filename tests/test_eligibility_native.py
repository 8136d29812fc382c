"""Eligibility, native tier: calendar arithmetic, criteria checked against the schema, native evaluation of
the realistic criteria files on synthetic patients, and strict EligibilityProof JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from patients import PATIENTS, TODAY, TODAY_DATE

from zkhealth.credentials.credential import Credential, Diagnosis, HealthClaims, LabValue
from zkhealth.eligibility import Criteria, EligibilityProof, Trial, evaluate, read_criteria_file
from zkhealth.eligibility.calendar import (
    _decompose_shifted,
    packed_date,
    packed_ordinal,
)
from zkhealth.eligibility.resolve import AgeAtLeast, DiagnosisIn, SlotIn
from zkhealth.errors import (
    CriteriaSyntaxError,
    EligibilityError,
    MalformedProofError,
    NonCanonicalEncodingError,
    NotEligibleError,
    PublicInputOutOfRangeError,
)
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof

pytestmark = pytest.mark.native

CRITERIA_DIR = Path(__file__).resolve().parent.parent / "circuits" / "criteria"

#: Which synthetic patients each criteria file admits on TODAY (2026-03-02), and why the others fail.
EXPECTED_ELIGIBLE = {
    "standard_t2d_adult": {"t2d_adult", "leap_day", "t2d_pregnant", "ckd_diabetic"},
    "type2_diabetes_glycemic": {"t2d_adult", "leap_day", "ckd_diabetic"},
    "hypertension_uncontrolled": {"ckd_diabetic", "hypertensive", "elderly_hypertensive"},
    "ckd_diabetic": {"ckd_diabetic"},
    "ckd_non_diabetic": {"heart_failure"},
    "oncology_breast_early": {"breast_cancer"},
    "heart_failure_reduced_ef": {"heart_failure"},
    "copd_exacerbation": {"copd"},
    "prediabetes_prevention": {"prediabetes"},
    "gestational_diabetes": {"gestational_diabetes"},
    "major_depression": {"depression"},
    "elderly_hypertension": {"elderly_hypertensive"},
    "pediatric_asthma": {"asthma_child"},
}

EXPECTED_BLAME = [
    ("standard_t2d_adult", "t2d_minor", "age >= 18"),
    ("standard_t2d_adult", "hypertensive", "diagnosis in E11.*"),
    ("type2_diabetes_glycemic", "t2d_pregnant", "not diagnosis in O00-O9A"),
    ("type2_diabetes_glycemic", "healthy_elderly", "age < 75"),
    ("oncology_breast_early", "breast_cancer_metastatic", "not diagnosis in C77-C79"),
    ("oncology_breast_early", "healthy_elderly", "sex = female"),
    ("ckd_diabetic", "t2d_adult", "diagnosis in N18.3* or diagnosis in E11.2*"),
    ("prediabetes_prevention", "t2d_adult", "hba1c between 5.7 and 6.4"),
    ("hypertension_uncontrolled", "t2d_adult", "systolic_bp >= 140"),
]


def _credential(claims: HealthClaims) -> Credential:
    return Credential(
        credential_id=77,
        subject_commitment=5,
        issuer_public_key=(1, 2),
        issuer_ed25519=bytes(32),
        issued_at=TODAY - 10,
        expires_at=TODAY + 300,
        claims=claims,
    )


CREDENTIALS = {name: _credential(claims) for name, claims in PATIENTS.items()}


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


def _reference_age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@settings(max_examples=300)
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2060, 12, 31)),
    st.integers(min_value=0, max_value=120),
)
def test_age_at_least_is_whole_years_on_the_calendar(birth: dt.date, today: dt.date, years: int) -> None:
    claims = HealthClaims(birth_date=birth)
    verdict = evaluate(f"age >= {years}", _credential(claims), today)
    assert verdict.eligible == (_reference_age(birth, today) >= years)


def test_born_on_29_february_turns_older_on_1_march_in_common_years() -> None:
    leap = CREDENTIALS["leap_day"]
    assert not evaluate("age >= 18", leap, dt.date(2026, 2, 28)).eligible
    assert evaluate("age >= 18", leap, dt.date(2026, 3, 1)).eligible
    assert evaluate("age >= 20", leap, dt.date(2028, 2, 29)).eligible  # a leap year: the birthday exists


def test_diagnosed_within_uses_calendar_units() -> None:
    claims = HealthClaims(birth_date=dt.date(1970, 1, 1), diagnoses=(Diagnosis("E11.9", dt.date(2021, 3, 2)),))
    credential = _credential(claims)
    assert evaluate("diagnosed_within(E11.*, 5 years)", credential, dt.date(2026, 3, 2)).eligible
    assert not evaluate("diagnosed_within(E11.*, 5 years)", credential, dt.date(2026, 3, 3)).eligible
    assert evaluate("diagnosed_within(E11.*, 60 months)", credential, dt.date(2026, 3, 2)).eligible
    assert not evaluate("diagnosed_within(E11.*, 59 months)", credential, dt.date(2026, 3, 2)).eligible
    days = (dt.date(2026, 3, 2) - dt.date(2021, 3, 2)).days
    assert evaluate(f"diagnosed_within(E11.*, {days} days)", credential, dt.date(2026, 3, 2)).eligible
    assert not evaluate(f"diagnosed_within(E11.*, {days - 1} days)", credential, dt.date(2026, 3, 2)).eligible
    # A diagnosis dated after today is not "within" any period; other codes never match.
    assert not evaluate("diagnosed_within(E11.*, 5 years)", credential, dt.date(2021, 3, 1)).eligible
    assert not evaluate("diagnosed_within(I10, 50 years)", credential, dt.date(2026, 3, 2)).eligible


# --------------------------------------------------------------------------- schema checks


def test_constants_are_encoded_as_the_credential_encodes_them() -> None:
    tree = Criteria("hba1c between 7.0 and 10.5").resolved
    assert tree.formula == SlotIn("hba1c", 16, ((700, 1050),))  # type: ignore[union-attr]
    egfr = Criteria("egfr < 60").resolved
    assert egfr.formula == SlotIn("egfr", 16, ((1, 599),))  # type: ignore[union-attr]  # absent (0) excluded
    sex = Criteria("sex != male").resolved
    assert sex.formula == SlotIn("gender", 3, ((2, 4),))  # type: ignore[union-attr]
    age = Criteria("age < 75").resolved
    assert age.formula == ("not", AgeAtLeast(75))  # type: ignore[union-attr]
    dx = Criteria("diagnosis in {E11.*, E11.9}").resolved
    assert isinstance(dx.formula, DiagnosisIn) and len(dx.formula.intervals) == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("weight > 80", 1),  # unknown field
        ("age >= 18 and hba1c > 7.255", 15),  # more decimals than the schema stores
        ("hba1c > 700", 1),  # outside the 16-bit slot at 2 decimals
        ("systolic_bp < 1024", 1),  # outside the 10-bit slot
        ("gender < male", 1),  # enums are not ordered
        ("sex = woman", 1),  # not a gender
        ("age >= 2001-01-01", 1),  # wrong value type
        ("age >= 17.5", 1),  # whole years only
        ("age > 151", 1),
        ("birth_date > 18", 1),
        ("research_consent = maybe", 1),
        ("diagnosis in Z99.99", 1),  # not a code of the release
        ("diagnosis in {male}", 15),  # the parser wants codes after `diagnosis in`
        ("hba1c in E11.*", 10),  # ... and a set after `hba1c in`
        ("egfr <= 0", 1),  # unsatisfiable: absent values never match
        ("hba1c between 9 and 8", 1),
        ("diagnosed_within(E11.*, 0 days)", 1),
    ],
)
def test_schema_errors_name_the_clause(text: str, column: int) -> None:
    with pytest.raises(CriteriaSyntaxError) as caught:
        Criteria(text)
    assert caught.value.column == column
    assert "criterion `" in str(caught.value) or "at column" in str(caught.value)


def test_criteria_hash_ignores_layout_but_not_constants() -> None:
    a = Criteria("age >= 18 and diagnosis in E11.*")
    b = Criteria("age  >=  18\n   and diagnosis in E11.*  ")
    c = Criteria("age >= 19 and diagnosis in E11.*")
    assert a.sha256 == b.sha256 != c.sha256


# --------------------------------------------------------------------------- the realistic criteria files


def test_a_dozen_criteria_files_parse_with_metadata() -> None:
    files = sorted(CRITERIA_DIR.glob("*.txt"))
    assert {f.stem for f in files} == set(EXPECTED_ELIGIBLE)
    assert len(files) >= 12
    for path in files:
        text, metadata = read_criteria_file(path)
        assert metadata["name"] and metadata["modelled_on"]
        Criteria(text)


@pytest.mark.parametrize("stem", sorted(EXPECTED_ELIGIBLE))
def test_criteria_files_admit_exactly_the_expected_patients(stem: str) -> None:
    trial = Trial.from_file(CRITERIA_DIR / f"{stem}.txt", trial_id=stem[:32])
    admitted = {name for name, cred in CREDENTIALS.items() if trial.evaluate(cred, TODAY).eligible}
    assert admitted == EXPECTED_ELIGIBLE[stem]
    for name, cred in CREDENTIALS.items():
        verdict = trial.evaluate(cred, TODAY_DATE)
        assert verdict.eligible == (name in admitted)
        assert (verdict.failing_clause is None) == verdict.eligible


@pytest.mark.parametrize(("stem", "patient", "clause"), EXPECTED_BLAME)
def test_the_failing_clause_is_named(stem: str, patient: str, clause: str) -> None:
    trial = Trial.from_file(CRITERIA_DIR / f"{stem}.txt", trial_id="x")
    verdict = trial.evaluate(CREDENTIALS[patient], TODAY)
    assert verdict.failing_clause == clause
    with pytest.raises(NotEligibleError) as caught:
        verdict.raise_if_not_eligible()
    assert caught.value.clause == clause
    assert str(caught.value) == f"criterion `{clause}` not met"


def test_absent_lab_values_never_satisfy_a_comparison() -> None:
    no_labs = _credential(HealthClaims(birth_date=dt.date(1960, 1, 1)))
    for text in ("hba1c < 7", "hba1c >= 7", "hba1c != 7", "egfr between 1 and 200", "systolic_bp < 300"):
        assert not evaluate(text, no_labs, TODAY).eligible
    assert evaluate("not hba1c < 7", no_labs, TODAY).eligible


def test_exists_any_over_diagnosis_slots() -> None:
    claims = HealthClaims(
        birth_date=dt.date(1960, 1, 1),
        hba1c=LabValue(Decimal("7.5"), dt.date(2026, 1, 1)),
        diagnoses=tuple(Diagnosis(c, dt.date(2020, 1, 1)) for c in ("E78.5", "I10", "K21.9", "E11.9")),
    )
    credential = _credential(claims)
    assert evaluate("diagnosis in E11.*", credential, TODAY).eligible  # in the fourth slot
    assert not evaluate("not diagnosis in I10-I16", credential, TODAY).eligible
    assert evaluate("diagnosis not in J44.*", credential, TODAY).eligible


def test_evaluate_accepts_vectors_and_refuses_bad_days() -> None:
    vector = CREDENTIALS["t2d_adult"].field_elements()
    assert evaluate("age >= 18", vector, TODAY).eligible
    for bad in (-1, 1 << 32, True, dt.datetime(2026, 1, 1)):
        with pytest.raises(EligibilityError):
            evaluate("age >= 18", vector, bad)
    with pytest.raises(EligibilityError):
        evaluate("age >= 18", vector[:-1], TODAY)


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
        criteria_sha256="a" * 64,
        vk_sha256="b" * 64,
        proof=Proof(g1, g2, g1),
        public=(1, 2, 20514, 4, 5, 6),
    )


def test_proof_json_round_trips_and_holds_snarkjs_files() -> None:
    proof = _proof_object()
    data = json.loads(proof.to_json())
    assert data["public"] == ["1", "2", "20514", "4", "5", "6"]
    assert data["proof"]["protocol"] == "groth16" and data["proof"]["curve"] == "bn128"
    assert data["publicSignals"]["today"] == "20514"
    assert EligibilityProof.from_json(proof.to_json()) == proof
    assert proof.public_signals["recipient"] == 6 == proof.recipient


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(extra=1),
        lambda d: d.pop("trialId"),
        lambda d: d.update(version=2),
        lambda d: d.update(format="other"),
        lambda d: d.update(trialId="0x12"),
        lambda d: d.update(criteriaSha256="A" * 64),
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
    text = _proof_object().to_json().replace('"version":1', '"version":1,"version":1')
    with pytest.raises(MalformedProofError):
        EligibilityProof.from_json(text)


def test_a_wallet_without_an_eligible_credential_is_refused_before_any_key_is_needed(tmp_path: Path) -> None:
    from patients import make_world

    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
    from zkhealth.eligibility import prove, prove_eligibility

    world = make_world(["t2d_minor"])
    wallet = Wallet.create(tmp_path / "w.zkw", "pass", kdf=KDF_FLOOR)
    issued = world.issuer.issue(PATIENTS["t2d_minor"], subject_commitment=subject_commitment(wallet.holder_secret),
                                issued_at=TODAY - 30, expires_at=TODAY + 300)
    wallet.add_credential(issued.document)
    trial = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=1)
    with pytest.raises(NotEligibleError) as caught:
        prove(trial, wallet, today=TODAY, recipient=1, registry=world.registry, revocations=world.revocation)
    assert caught.value.clause == "age >= 18"
    with pytest.raises(NotEligibleError) as caught:
        prove_eligibility(trial, issued, wallet.holder_secret, today=TODAY, recipient=1, **world.proofs(issued))
    assert caught.value.clause == "age >= 18"
    empty = Wallet.create(tmp_path / "empty.zkw", "pass", kdf=KDF_FLOOR)
    with pytest.raises(NotEligibleError):
        prove(trial, empty, today=TODAY, recipient=1, registry=world.registry, revocations=world.revocation)


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
