"""Claim encoding: dates, fixed-point lab values, enums, the credential vector (security.md S5, S7, S13)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.credentials import dates, schema
from zkhealth.credentials.credential import Credential, Diagnosis, HealthClaims, LabValue, claims_hash_of
from zkhealth.credentials.encoding import ClaimSpec, encode_fixed, format_fixed, parse_decimal
from zkhealth.errors import EncodingError, SchemaMismatchError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.native

ISSUER_KEY = (
    11240721006312755956048274622178673851596083570549266415897259629064159855311,
    21354179626978242930617857084732634464142700804542074444012839116640161167034,
)


def _claims(**changes: object) -> HealthClaims:
    base: dict[str, object] = {
        "birth_date": "1961-04-12",
        "gender": "female",
        "research_consent": True,
        "hba1c": ("7.4", "2025-01-10"),
        "egfr": ("72", "2025-01-10"),
        "systolic_bp": 132,
        "diagnoses": [("E11.9", "2019-03-04"), ("I10", "2015-06-20")],
    }
    base.update(changes)
    return HealthClaims(**base)  # type: ignore[arg-type]


def _credential(**changes: object) -> Credential:
    base: dict[str, object] = {
        "credential_id": 123456789,
        "subject_commitment": poseidon([42]),
        "issuer_public_key": ISSUER_KEY,
        "issuer_ed25519": bytes(range(32)),
        "issued_at": 20000,
        "expires_at": 20365,
        "claims": _claims(),
    }
    base.update(changes)
    return Credential(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "2023-02-29", "2024-00-10", "2024-04-31", "0000-01-01"])
def test_impossible_dates(text: str) -> None:
    with pytest.raises(EncodingError):
        dates.parse_date(text)


@pytest.mark.parametrize(
    "text", ["2024-1-01", "2024/01/01", " 2024-01-01", "2024-01-01T00:00:00", "２０２４-01-01", "20240101", ""]
)
def test_non_iso_date_strings(text: str) -> None:
    with pytest.raises(EncodingError):
        dates.parse_date(text)


def test_date_types() -> None:
    assert dates.parse_date("2024-02-29") == dt.date(2024, 2, 29)
    assert dates.parse_date(dt.date(2024, 2, 29)) == dt.date(2024, 2, 29)
    with pytest.raises(EncodingError):
        dates.parse_date(dt.datetime(2024, 2, 29, 12, 0))
    with pytest.raises(EncodingError):
        dates.parse_date(19782)


def test_epoch_days() -> None:
    assert dates.date_to_epoch_day("1970-01-01") == 0
    assert dates.date_to_epoch_day("2024-01-01") == 19723
    assert dates.epoch_day_to_date(19723) == dt.date(2024, 1, 1)
    with pytest.raises(EncodingError):
        dates.date_to_epoch_day("1969-12-31")
    with pytest.raises(EncodingError):
        dates.epoch_day_to_date(-1)
    with pytest.raises(EncodingError):
        dates.epoch_day_to_date(1 << 32)


def test_clinical_dates_before_1970() -> None:
    assert dates.date_to_clinical("1970-01-01") == dates.CLINICAL_DATE_OFFSET == 719163
    assert dates.date_to_clinical("1940-05-06") == dt.date(1940, 5, 6).toordinal()
    assert dates.date_to_clinical("0001-01-01") == 1
    assert dates.clinical_date_to_date(dates.date_to_clinical("1940-05-06")) == dt.date(1940, 5, 6)
    with pytest.raises(EncodingError):
        dates.clinical_date_to_date(0)


@given(st.dates())
def test_date_encodings_are_injective_and_invertible(day: dt.date) -> None:
    encoded = dates.date_to_clinical(day)
    assert 1 <= encoded < 1 << dates.DATE_BITS
    assert dates.clinical_date_to_date(encoded) == day
    if day >= dates.EPOCH:
        assert dates.epoch_day_to_date(dates.date_to_epoch_day(day)) == day
        assert dates.date_to_clinical(day) - dates.date_to_epoch_day(day) == dates.CLINICAL_DATE_OFFSET


# --------------------------------------------------------------------------- fixed point


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [("7.25", 2, 725), ("7.2", 2, 720), ("7", 2, 700), (Decimal("7.250"), 2, 725), (7.2, 2, 720), (58, 1, 580)],
)
def test_fixed_point(value: object, decimals: int, expected: int) -> None:
    assert encode_fixed(value, decimals, 16) == expected


@pytest.mark.parametrize(
    "value",
    [
        "7.125",
        "0",
        "-1",
        "0.00",
        "655.36",
        "1e2",
        "NaN",
        "Infinity",
        " 7.2",
        "7.",
        ".5",
        "+7",
        "7,2",
        True,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        "٧.٢",
        None,
        [7],
    ],
)
def test_fixed_point_rejections(value: object) -> None:
    with pytest.raises(EncodingError):
        encode_fixed(value, 2, 16)


def test_fixed_point_width_boundary() -> None:
    assert encode_fixed("655.35", 2, 16) == 65535
    with pytest.raises(EncodingError):
        encode_fixed("655.36", 2, 16)


@given(st.integers(min_value=1, max_value=(1 << 16) - 1), st.integers(min_value=0, max_value=3))
def test_fixed_point_round_trip(encoded: int, decimals: int) -> None:
    text = format_fixed(encoded, decimals)
    assert encode_fixed(text, decimals, 16) == encoded
    assert parse_decimal(text) == Decimal(encoded).scaleb(-decimals)


# --------------------------------------------------------------------------- claim specs


def test_spec_rules() -> None:
    gender = ClaimSpec("g", 0, "enum", 3, values=schema.GENDERS)
    assert [gender.encode(v) for v in schema.GENDERS] == [1, 2, 3, 4]
    with pytest.raises(EncodingError):
        gender.encode("Female")
    with pytest.raises(EncodingError):
        gender.decode(5)
    flag = ClaimSpec("b", 0, "bool", 1)
    assert (flag.encode(False), flag.encode(True)) == (0, 1)
    with pytest.raises(EncodingError):
        flag.encode(1)
    with pytest.raises(EncodingError):
        flag.decode(2)
    uint = ClaimSpec("u", 0, "uint", 10, optional=True)
    assert uint.encode(None) == 0 and uint.encode(1023) == 1023
    for bad in (0, 1024, -1, True, 1.0):
        with pytest.raises(EncodingError):
            uint.encode(bad)
    required = ClaimSpec("r", 0, "uint", 8)
    with pytest.raises(EncodingError):
        required.encode(None)
    with pytest.raises(EncodingError):
        ClaimSpec("x", 0, "float", 8)


def test_layout_is_fixed() -> None:
    assert schema.VECTOR_LENGTH == 26
    assert schema.CLAIM_LAYOUT["schema_id"] == (0, 254)
    assert schema.CLAIM_LAYOUT["credential_id"] == (2, 128)
    assert schema.CLAIM_LAYOUT["subject_commitment"] == (3, 254)
    assert schema.CLAIM_LAYOUT["expires_at"] == (7, 32)
    assert schema.CLAIM_LAYOUT["dx1_code"] == (16, 20)
    assert [spec.index for spec in schema.CLAIM_SPECS] == list(range(26))
    assert schema.SCHEMA_ID.to_bytes(26, "big") == b"zkhealth.health-credential"


# --------------------------------------------------------------------------- credential vector


def test_vector_and_hash() -> None:
    credential = _credential()
    vector = credential.field_elements()
    assert len(vector) == schema.VECTOR_LENGTH
    assert all(0 <= v < FIELD_R for v in vector)
    for spec, value in zip(schema.CLAIM_SPECS, vector, strict=True):
        assert value < 1 << spec.bits, spec.name
    assert vector[0] == schema.SCHEMA_ID and vector[1] == schema.SCHEMA_VERSION
    assert vector[3] == poseidon([42])
    assert credential.claims_hash() == poseidon([poseidon(vector[:16]), poseidon(vector[16:])])
    assert claims_hash_of(vector) == credential.claims_hash()
    assert Credential.from_field_elements(vector) == credential


def test_unused_slots_are_zero_and_absent_is_distinguishable() -> None:
    credential = _credential(claims=_claims(hba1c=None, egfr=None, systolic_bp=None, diagnoses=()))
    vector = credential.field_elements()
    for name in ("hba1c", "hba1c_date", "egfr", "egfr_date", "systolic_bp", "dx1_code", "dx4_date"):
        assert vector[schema.CLAIM_LAYOUT[name][0]] == 0


def test_diagnoses_are_sorted_and_distinct() -> None:
    a = _claims(diagnoses=[("I10", "2015-06-20"), ("E11.9", "2019-03-04")])
    b = _claims(diagnoses=[("E11.9", "2019-03-04"), ("I10", "2015-06-20")])
    assert a == b
    with pytest.raises(EncodingError):
        _claims(diagnoses=[("E11.9", "2019-03-04"), ("e119", "2020-01-01")])
    with pytest.raises(EncodingError):
        _claims(diagnoses=[(c, "2020-01-01") for c in ("E11.9", "I10", "E78.5", "N18.30", "K21.9")])
    with pytest.raises(EncodingError):
        _claims(diagnoses=[("E11.99", "2020-01-01")])


def test_claim_rejections() -> None:
    with pytest.raises(EncodingError):
        _claims(birth_date="2024-02-30")
    with pytest.raises(EncodingError):
        _claims(gender="F")
    with pytest.raises(EncodingError):
        _claims(research_consent=1)
    with pytest.raises(EncodingError):
        _claims(hba1c=("7.125", "2025-01-10"))
    with pytest.raises(EncodingError):
        _claims(egfr=("58.55", "2025-01-10"))
    with pytest.raises(EncodingError):
        _claims(systolic_bp=1024)
    with pytest.raises(EncodingError):
        _claims(systolic_bp=0)


def test_credential_rejections() -> None:
    for changes in (
        {"credential_id": 0},
        {"credential_id": 1 << 128},
        {"credential_id": True},
        {"subject_commitment": FIELD_R},
        {"issuer_public_key": (FIELD_R, 1)},
        {"issuer_ed25519": bytes(31)},
        {"issued_at": 20365, "expires_at": 20365},
        {"issued_at": -1},
        {"expires_at": 1 << 32},
    ):
        with pytest.raises(EncodingError):
            _credential(**changes)
    with pytest.raises(SchemaMismatchError):
        _credential(schema_version=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("gender", 5),
        ("gender", 0),
        ("research_consent", 2),
        ("hba1c", 0),  # date present without a value
        ("dx1_date", 0),  # code without a date
        ("dx2_code", 1),  # a chapter number, not a code
        ("dx3_code", 4474),  # a code without a date (and a repeat of dx1's code)
        ("birth_date", 0),
        ("credential_id", 0),
        ("expires_at", 0),
        ("issuer_ed25519_hi", 1 << 128),
        ("systolic_bp", 1 << 10),
    ],
)
def test_non_canonical_vectors_are_rejected(name: str, value: int) -> None:
    vector = _credential().field_elements()
    vector[schema.CLAIM_LAYOUT[name][0]] = value
    with pytest.raises(EncodingError):
        Credential.from_field_elements(vector)


@pytest.mark.parametrize(("name", "value"), [("schema_id", 1), ("schema_version", 2)])
def test_other_schemas_are_a_schema_mismatch(name: str, value: int) -> None:
    vector = _credential().field_elements()
    vector[schema.CLAIM_LAYOUT[name][0]] = value
    with pytest.raises(SchemaMismatchError):
        Credential.from_field_elements(vector)


def test_diagnosis_order_and_gaps_are_enforced() -> None:
    vector = _credential().field_elements()
    layout = schema.CLAIM_LAYOUT
    swapped = list(vector)
    for field in ("code", "date"):
        a, b = layout[f"dx1_{field}"][0], layout[f"dx2_{field}"][0]
        swapped[a], swapped[b] = swapped[b], swapped[a]
    with pytest.raises(EncodingError):
        Credential.from_field_elements(swapped)
    gap = list(vector)
    for field in ("code", "date"):
        a, c = layout[f"dx2_{field}"][0], layout[f"dx3_{field}"][0]
        gap[a], gap[c] = 0, vector[a]
    with pytest.raises(EncodingError):
        Credential.from_field_elements(gap)


def test_every_field_changes_the_hash() -> None:
    credential = _credential()
    base = credential.claims_hash()
    vector = credential.field_elements()
    for index in range(len(vector)):
        changed = list(vector)
        changed[index] = (changed[index] + 1) % FIELD_R
        assert claims_hash_of(changed) != base
    for i in range(len(vector) - 1):
        swapped = list(vector)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        if swapped != vector:
            assert claims_hash_of(swapped) != base


_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
_codes = st.sampled_from(["E11.9", "E11.65", "I10", "N18.31", "C50.911", "Z17.0", "J45.20", "O09.511", "S00.01XA"])
_claims_strategy = st.builds(
    HealthClaims,
    birth_date=_dates,
    gender=st.sampled_from(schema.GENDERS),
    research_consent=st.booleans(),
    hba1c=st.none() | st.builds(LabValue, value=st.integers(1, 65535).map(lambda v: format_fixed(v, 2)), date=_dates),
    egfr=st.none() | st.builds(LabValue, value=st.integers(1, 65535).map(lambda v: format_fixed(v, 1)), date=_dates),
    systolic_bp=st.none() | st.integers(1, 1023),
    diagnoses=st.lists(st.builds(Diagnosis, code=_codes, date=_dates), max_size=4, unique_by=lambda d: d.code).map(
        tuple
    ),
)
_credential_strategy = st.builds(
    Credential,
    credential_id=st.integers(1, (1 << 128) - 1),
    subject_commitment=st.integers(0, FIELD_R - 1),
    issuer_public_key=st.tuples(st.integers(0, FIELD_R - 1), st.integers(0, FIELD_R - 1)),
    issuer_ed25519=st.binary(min_size=32, max_size=32),
    issued_at=st.integers(0, 40000),
    expires_at=st.integers(40001, 80000),
    claims=_claims_strategy,
)


@settings(max_examples=200, deadline=None)
@given(_credential_strategy, _credential_strategy)
def test_encoding_is_injective(a: Credential, b: Credential) -> None:
    assert Credential.from_field_elements(a.field_elements()) == a
    assert HealthClaims.from_json(a.claims.to_json()) == a.claims
    if a != b:
        assert a.field_elements() != b.field_elements()
    else:
        assert a.field_elements() == b.field_elements()


@settings(max_examples=100, deadline=None)
@given(_credential_strategy, st.data())
def test_single_field_changes_are_detected(credential: Credential, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from([f.name for f in dataclasses.fields(HealthClaims)]))
    other = data.draw(_claims_strategy)
    changed = dataclasses.replace(credential.claims, **{field: getattr(other, field)})
    if changed != credential.claims:
        assert dataclasses.replace(credential, claims=changed).claims_hash() != credential.claims_hash()
