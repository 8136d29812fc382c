"""Schema version 2 (credentials/record.py, sorted_set.py, record_vc.py): sets, aggregates, capacity, dates,
the signed header, the VC document and migration from version 1."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import AS_OF, ISSUED, TODAY, make_record_world, obs, t2d_record

from zkhealth.credentials import codes
from zkhealth.credentials.credential import Diagnosis, HealthClaims, LabValue
from zkhealth.credentials.record import (
    HEADER_FIELDS,
    HEADER_INDEX,
    SET_TAGS,
    Condition,
    Medication,
    Observation,
    PatientRecord,
    Procedure,
    record_from_v1,
)
from zkhealth.credentials.record_vc import parse_record_document, verify_record_credential
from zkhealth.credentials.sorted_set import MAX_DATE, MAX_LEAVES, SortedSet, key_range, make_key, split_key
from zkhealth.credentials.trees import verify_merkle_proof
from zkhealth.errors import (
    CredentialError,
    CredentialExpiredError,
    EncodingError,
    RecordCapacityError,
    SchemaMismatchError,
    SignatureError,
    UnknownIssuerError,
)
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.native
D = dt.date


def _check_list(tree: SortedSet) -> None:
    keys = [leaf.key for leaf in tree.leaves]
    assert keys[0] == 0 and keys == sorted(keys) and len(set(keys)) == len(keys)
    for position, leaf in enumerate(tree.leaves):
        assert leaf.next_key == (keys[position + 1] if position + 1 < len(keys) else 0)
        verify_merkle_proof(tree.root, tree.proof(position))
        assert tree.proof(position).leaf == poseidon(list(leaf.fields()))


def test_key_layout() -> None:
    key = make_key(3, 44054006, D(2022, 6, 1).toordinal(), 7)
    assert split_key(key) == (3, 44054006, D(2022, 6, 1).toordinal(), 7)
    assert key < 1 << 94
    lo, hi = key_range(1, 10, 20)
    assert lo == make_key(1, 10, 0, 0) and hi == make_key(1, 20, MAX_DATE, 255)
    with pytest.raises(EncodingError):
        make_key(16, 1, 1, 1)


def test_sets_are_sorted_linked_lists_with_aggregates() -> None:
    record = t2d_record()
    sets = record.sets()
    for tree in sets.values():
        _check_list(tree)
    conditions = sets["conditions"]
    raw_e11 = make_key(1, codes.encode_clinical_code("icd10cm", "E11.9"), D(2022, 6, 1).toordinal(), 0)
    assert raw_e11 in conditions.keys
    # The aggregate of block E08-E13 summarises the one E11.9 entry.
    block = next(n for n in codes.icd10_ancestors(codes.encode_clinical_code("icd10cm", "E11.9"))
                 if codes.icd10.load_table().names[n - 1] == "E08-E13")
    leaf = conditions.leaves[conditions.keys.index(make_key(2, block, 0, 0))]
    assert (leaf.a_ord, leaf.b_ord, leaf.value, leaf.status) == (D(2022, 6, 1).toordinal(), MAX_DATE, 1, 1)
    # Two HbA1c values: the raw leaves of one code sort by date, the aggregate keeps the latest date.
    observations = sets["observations"]
    code = codes.loinc_encode("4548-4")
    lo, hi = key_range(1, code, code)
    dates = [observations.leaves[i].a_ord for i in observations.in_range(lo, hi)]
    assert dates == sorted(dates) and len(dates) == 2
    aggregate = observations.leaves[observations.keys.index(make_key(2, code, 0, 0))]
    assert aggregate.a_ord == max(dates) and aggregate.value == 2


entries = st.lists(
    st.tuples(st.sampled_from(["A10BA02", "A10BB01", "A10AE04", "C09AA02"]),
              st.integers(min_value=0, max_value=3000), st.one_of(st.none(), st.integers(0, 400)),
              st.sampled_from(["active", "completed", "stopped"])),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries)
def test_aggregates_match_brute_force(items: list[tuple[str, int, int | None, str]]) -> None:
    start = D(2015, 1, 1)
    meds = tuple(Medication(code, start + dt.timedelta(days=day), end=None if span is None else
                            start + dt.timedelta(days=day + span), status=status) for code, day, span, status in items)
    record = PatientRecord(birth_date=D(1960, 1, 1), complete=True, as_of=D(2026, 1, 1), medications=meds)
    tree = record.sets()["medications"]
    _check_list(tree)
    for prefix in ("A", "A10", "A10B", "A10BA", "C09AA02"):
        below = [m for m in meds if m.code.startswith(prefix)]
        key = make_key(2, codes.atc_encode(prefix), 0, 0)
        if not below:
            assert key not in tree.keys
            continue
        leaf = tree.leaves[tree.keys.index(key)]
        assert leaf.a_ord == max(m.start.toordinal() for m in below)
        assert leaf.b_ord == max(MAX_DATE if m.end is None else m.end.toordinal() for m in below)
        assert leaf.value == len(below)
        assert leaf.status == min(codes.MEDICATION_STATUS[m.status] for m in below)


def test_capacity_required_by_the_issue_fits() -> None:
    day = D(2020, 1, 1)
    icd = [c for c in codes.icd10.load_table().code_number if len(c) > 3][:256]
    record = PatientRecord(
        birth_date=D(1950, 1, 1), complete=True, as_of=D(2026, 1, 1),
        conditions=tuple(Condition(c, day) for c in icd),
        medications=tuple(Medication(f"A10BA{n % 100:02d}", day + dt.timedelta(days=n)) for n in range(256)),
        procedures=tuple(Procedure("0DTJ4ZZ", day + dt.timedelta(days=n)) for n in range(256)),
        observations=tuple(obs("hba1c", "7.1", day + dt.timedelta(days=n)) for n in range(1024)),
    )
    sizes = {name: len(tree) for name, tree in record.sets().items()}
    assert all(size <= MAX_LEAVES for size in sizes.values())
    assert sizes["observations"] == 1025


def test_capacity_overflow_names_the_set() -> None:
    day = D(2000, 1, 1)
    record = PatientRecord(birth_date=D(1950, 1, 1), as_of=D(2026, 1, 1),
                           observations=tuple(obs("weight", "80", day + dt.timedelta(days=n)) for n in range(4095)))
    with pytest.raises(RecordCapacityError) as caught:
        record.sets()
    assert caught.value.set_name == "observations"


def test_dates_after_as_of_and_malformed_entries_are_refused() -> None:
    with pytest.raises(EncodingError):
        t2d_record(as_of=D(2021, 1, 1))  # entries from 2022 lie after as_of
    with pytest.raises(EncodingError):
        Condition("E11.9", D(2022, 1, 1), abatement=D(2021, 1, 1))
    with pytest.raises(EncodingError):
        Observation("4548-4", Decimal("48"), D(2022, 1, 1), unit="mmol/mol")  # not the canonical unit
    with pytest.raises(EncodingError):
        Observation("2857-1", Decimal("1"), D(2022, 1, 1), unit="ng/mL")  # not in the table
    with pytest.raises(EncodingError):
        Medication("A10B", D(2022, 1, 1))  # a class, not a substance
    with pytest.raises(EncodingError):
        Condition("E11.9", D(2022, 1, 1), verification_status="refuted")


def test_header_and_vc_round_trip() -> None:
    world = make_record_world()
    holder = world.issue("t2d", t2d_record())
    credential = holder.issued.credential
    header = credential.header()
    assert len(header) == len(HEADER_FIELDS) == 20
    for (name, bits), value in zip(HEADER_FIELDS, header, strict=True):
        assert 0 <= value < 1 << bits, name
    assert header[HEADER_INDEX["record_complete"]] == 1
    assert header[HEADER_INDEX["record_as_of"]] == AS_OF.toordinal()
    text = json.dumps(holder.issued.document)
    verified = verify_record_credential(text, trusted_issuers=world.trusted, today=TODAY,
                                        revocation=world.revocation)
    assert verified == credential
    parsed, signature, _ = parse_record_document(text)
    assert parsed.claims_hash() == credential.claims_hash() and signature == holder.issued.signature


def test_vc_tampering_is_detected() -> None:
    world = make_record_world()
    document = world.issue("t2d", t2d_record()).issued.document
    changed = copy.deepcopy(document)
    changed["credentialSubject"]["record"]["observations"][0]["value"] = "6.2"
    with pytest.raises(CredentialError):
        parse_record_document(changed)
    header_changed = copy.deepcopy(document)
    header_changed["credentialSubject"]["header"][HEADER_INDEX["record_complete"]] = "0"
    with pytest.raises(CredentialError):
        parse_record_document(header_changed)
    resigned = copy.deepcopy(document)
    resigned["babyJubjubSignature"]["S"] = str(int(resigned["babyJubjubSignature"]["S"]) + 1)
    with pytest.raises(SignatureError):
        verify_record_credential(resigned, trusted_issuers=world.trusted, today=TODAY)
    with pytest.raises(UnknownIssuerError):
        verify_record_credential(document, trusted_issuers=[], today=TODAY)
    with pytest.raises(CredentialExpiredError):
        verify_record_credential(document, trusted_issuers=world.trusted, today=D(2028, 1, 1))
    v1_schema = copy.deepcopy(document)
    v1_schema["credentialSchema"]["id"] = v1_schema["credentialSchema"]["id"][:-1] + "1"
    with pytest.raises(SchemaMismatchError):
        parse_record_document(v1_schema)
    for index in (18, 19):  # the Ed25519 key's halves: a field element past 2^128 is refused, not an OverflowError
        wide = copy.deepcopy(document)
        wide["credentialSubject"]["header"][index] = str(2**128 + int(wide["credentialSubject"]["header"][index]))
        with pytest.raises(CredentialError, match="128-bit"):
            parse_record_document(wide)


def test_as_of_after_issue_day_is_refused() -> None:
    world = make_record_world()
    with pytest.raises(EncodingError):
        world.issuer.issue_record(t2d_record(as_of=D(2026, 6, 1)), subject_commitment=5, issued_at=ISSUED,
                                  expires_at=D(2027, 1, 1))


def test_v1_claims_become_a_partial_record() -> None:
    claims = HealthClaims(birth_date=D(1968, 5, 14), gender="female", hba1c=LabValue(Decimal("8.2"), D(2026, 1, 20)),
                          systolic_bp=138, diagnoses=(Diagnosis("E11.9", D(2022, 6, 1)),))
    record = record_from_v1(claims, as_of=D(2026, 1, 21), snomed_for=lambda code: "44054006")
    assert not record.complete
    assert {(c.system, c.code) for c in record.conditions} == {("icd10cm", "E11.9"), ("snomed", "44054006")}
    assert [o.code for o in record.observations] == ["4548-4"]  # the undated systolic pressure is left out
    dated = record_from_v1(claims, as_of=D(2026, 1, 21), systolic_bp_date=D(2026, 1, 20))
    assert sorted(o.code for o in dated.observations) == ["4548-4", "8480-6"]


def test_set_tags_are_distinct_per_set() -> None:
    for tags in SET_TAGS.values():
        flat = [t for pair in tags.values() for t in pair]
        assert len(set(flat)) == len(flat) and all(1 <= t < 16 for t in flat)
