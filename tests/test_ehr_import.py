"""FHIR import of real exports (ehr_import.py) and value conversion (units.py), on hand-made bundles that hold
each case real exports have: SNOMED-only and WHO ICD-10 conditions, repeated codes, statuses, abatement dates,
entered-in-error and refuted entries, missing dates, deceased patients, documents, units, decimals, comparators."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.credentials.ehr_import import MAX_ENTRIES, import_bundle
from zkhealth.credentials.units import to_canonical
from zkhealth.errors import (
    DeceasedPatientError,
    FhirImportError,
    InputLimitError,
    RecordImportError,
    UnitConversionError,
    UnmappedContentError,
    ZkHealthError,
)

pytestmark = pytest.mark.native

TODAY = dt.date(2026, 6, 1)
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _status(kind: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{kind}", "code": code}]}


def _condition(
    rid: str, coding: list[tuple[str, str]], onset: str | None = "2015-06-20", **extra: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": _status("condition-clinical", "active"),
        "verificationStatus": _status("condition-ver-status", "confirmed"),
        "code": {"coding": [{"system": system, "code": code} for system, code in coding]},
        "subject": {"reference": "Patient/p1"},
    }
    if onset is not None:
        resource["onsetDateTime"] = onset
    resource.update(extra)
    return resource


def _quantity_obs(rid: str, loinc: str, value: Any, unit: str, when: str = "2025-01-10T09:00:00+01:00",
                  **extra: Any) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    quantity.update(extra.pop("quantity", {}))
    return {"resourceType": "Observation", "id": rid, "status": extra.pop("status", "final"),
            "code": _concept(LOINC, loinc), "effectiveDateTime": when, "valueQuantity": quantity, **extra}


def _bundle(*resources: dict[str, Any], bundle_type: str = "collection", **patient: Any) -> dict[str, Any]:
    person = {"resourceType": "Patient", "id": "p1", "birthDate": "1961-04-12", "gender": "female", **patient}
    return {"resourceType": "Bundle", "type": bundle_type, "timestamp": "2026-01-01T00:00:00Z",
            "entry": [{"fullUrl": f"urn:x:{i}", "resource": r} for i, r in enumerate([person, *resources])]}


def test_snomed_only_and_who_icd10_conditions() -> None:
    result = import_bundle(_bundle(
        _condition("c1", [(SNOMED, "44054006")]),  # type 2 diabetes, SNOMED only: kept as SNOMED
        _condition("c2", [(ICD10_WHO, "I10")]),  # WHO ICD-10 code that exists in ICD-10-CM: mapped
        _condition("c3", [(ICD10CM, "E78.5"), (SNOMED, "55822004")]),  # both systems: two entries
        _condition("c4", [(ICD10_WHO, "I84.1")]),  # a WHO code that ICD-10-CM does not have: unmappable
    ), today=TODAY)
    record, summary = result.record, result.summary
    assert [(c.system, c.code) for c in record.conditions] == [
        ("snomed", "44054006"), ("icd10cm", "I10"), ("icd10cm", "E78.5"), ("snomed", "55822004")]
    counts = summary.kinds["Condition"]
    assert (counts.total, counts.kept, counts.mapped, counts.unmappable) == (4, 2, 1, 1)
    assert summary.unmappable[0].codes == ("icd10:I84.1",)
    assert summary.entries["conditions"] == 4


def test_repeated_codes_statuses_and_abatement() -> None:
    result = import_bundle(_bundle(
        _condition("c1", [(SNOMED, "10509002")], onset="1985-02-01", abatementDateTime="1985-02-20",
                   clinicalStatus=_status("condition-clinical", "resolved")),  # acute bronchitis, resolved
        _condition("c2", [(SNOMED, "10509002")], onset="2019-11-03"),  # the same code again: a second entry
        _condition("c3", [(ICD10CM, "J45.20")], clinicalStatus=_status("condition-clinical", "inactive")),
        _condition("c4", [(ICD10CM, "I10")], verificationStatus=_status("condition-ver-status", "provisional")),
        _condition("c5", [(ICD10CM, "E11.9")], verificationStatus=_status("condition-ver-status", "refuted")),
        _condition("c6", [(ICD10CM, "C50.911")],
                   verificationStatus=_status("condition-ver-status", "entered-in-error")),
        _condition("c7", [(SNOMED, "195662009")], onset=None, abatementDateTime="2020-01-01"),  # no onset
        _condition("c8", [(SNOMED, "195662009")], onset=None, recordedDate="2020-03-01"),  # recorded date used
        {**_condition("c9", [(SNOMED, "40055000")], onset="2010-05-05", abatementDateTime="2012-01-01"),
         "clinicalStatus": None},
    ), today=TODAY)
    conditions = result.record.conditions
    bronchitis = [c for c in conditions if c.code == "10509002"]
    assert [(c.onset, c.abatement, c.clinical_status) for c in bronchitis] == [
        (dt.date(1985, 2, 1), dt.date(1985, 2, 20), "resolved"), (dt.date(2019, 11, 3), None, "active")]
    by_code = {c.code: c for c in conditions}
    assert by_code["J45.20"].clinical_status == "inactive"
    assert by_code["I10"].verification_status == "provisional"
    assert by_code["195662009"].onset == dt.date(2020, 3, 1)
    assert by_code["40055000"].clinical_status == "resolved"  # no clinical status, but an abatement
    assert "E11.9" not in by_code and "C50.911" not in by_code
    summary = result.summary
    assert [item.reason for item in summary.excluded] == ["verification status refuted",
                                                          "verification status entered-in-error"]
    assert summary.kinds["Condition"].unmappable == 1 and "no onset" in summary.unmappable[0].reason


def test_deceased_patients_are_refused() -> None:
    with pytest.raises(DeceasedPatientError):
        import_bundle(_bundle(deceasedDateTime="2024-05-01T10:00:00Z"), today=TODAY)
    with pytest.raises(DeceasedPatientError):
        import_bundle(_bundle(deceasedBoolean=True), today=TODAY)
    assert import_bundle(_bundle(deceasedBoolean=False), today=TODAY).record.gender == "female"


@pytest.mark.parametrize("birth", ["1961", "1961-04", None, "1961-02-30"])
def test_birth_date_must_be_full(birth: str | None) -> None:
    bundle = _bundle()
    if birth is None:
        del bundle["entry"][0]["resource"]["birthDate"]
    else:
        bundle["entry"][0]["resource"]["birthDate"] = birth
    with pytest.raises(RecordImportError):
        import_bundle(bundle, today=TODAY)


def test_documents_are_partial_and_exports_complete() -> None:
    composition = {"resourceType": "Composition", "id": "doc", "status": "final", "date": "2025-12-01",
                   "type": _concept(LOINC, "60591-5")}
    imaging = {"resourceType": "ImagingStudy", "id": "img", "status": "available"}
    document = _bundle(composition, imaging, _quantity_obs("o1", "4548-4", 7.2, "%"), bundle_type="document")
    del document["timestamp"]
    result = import_bundle(document, today=TODAY)
    assert result.record.complete is False and result.record.as_of == dt.date(2025, 12, 1)
    assert result.summary.record_kind == "document"
    export = import_bundle(_bundle(_quantity_obs("o1", "4548-4", 7.2, "%"), bundle_type="transaction"), today=TODAY)
    assert export.record.complete is True and export.record.as_of == dt.date(2026, 1, 1)
    assert import_bundle(_bundle(bundle_type="transaction"), today=TODAY, complete=False).record.complete is False
    card = import_bundle(_bundle(), today=TODAY, card_issuer="https://clinic.example")
    assert card.record.complete is False and card.summary.card_issuer == "https://clinic.example"


def test_an_export_that_leaves_out_what_criteria_could_name_is_not_complete() -> None:
    unknown_code = _condition("c1", [("http://example.org/local-codes", "CANCER-17")])
    result = import_bundle(_bundle(unknown_code, bundle_type="transaction"), today=TODAY)
    assert result.record.complete is False and result.summary.completeness_note is not None
    with pytest.raises(UnmappedContentError):
        import_bundle(_bundle(unknown_code, bundle_type="transaction"), today=TODAY, complete=True)
    bad_unit = _quantity_obs("a1c", "4548-4", 7, "mg/dL")  # a table code whose value cannot be recorded
    assert import_bundle(_bundle(bad_unit, bundle_type="transaction"), today=TODAY).record.complete is False
    # what criteria cannot name leaves the record complete: a code outside the table, a kind not held by design
    harmless = _bundle(_quantity_obs("o2-flow", "3151-8", 6, "L/min"),
                       {"resourceType": "Device", "id": "d", "status": "active"}, bundle_type="transaction")
    kept = import_bundle(harmless, today=TODAY, complete=True)
    assert kept.record.complete is True and kept.summary.unmappable_count == 0
    assert [item.kind for item in kept.summary.by_design] == ["Observation", "Device"]
    assert {kind: counts.not_imported for kind, counts in kept.summary.kinds.items() if kind != "Patient"} == {
        "Observation": 1, "Device": 1}


def test_entries_after_the_export_day_are_listed() -> None:
    late = _quantity_obs("o1", "4548-4", 7.2, "%", when="2026-02-01")
    result = import_bundle(_bundle(late), today=TODAY)
    assert result.summary.kinds["Observation"].unmappable == 1
    assert "after the record's as-of day" in result.summary.unmappable[0].reason


def test_observation_values() -> None:
    panel = {"resourceType": "Observation", "id": "bp", "status": "final", "code": _concept(LOINC, "85354-9"),
             "effectiveDateTime": "2025-01-10",
             "component": [{"code": _concept(LOINC, "8480-6"), "valueQuantity": {"value": 128.5, "unit": "mm[Hg]",
                                                                                 "system": UCUM, "code": "mm[Hg]"}},
                           {"code": _concept(LOINC, "8462-4"), "valueQuantity": {"value": 81, "unit": "mm[Hg]",
                                                                                 "system": UCUM, "code": "mm[Hg]"}}]}
    result = import_bundle(_bundle(
        panel,
        _quantity_obs("egfr1", "33914-3", 58.55, "mL/min/{1.73_m2}"),
        _quantity_obs("egfr2", "33914-3", 90, "mL/min/{1.73_m2}", when="2025-02-10", quantity={"comparator": ">"}),
        _quantity_obs("a1c", "4548-4", 53, "mmol/mol", when="2024-01-10"),
        _quantity_obs("a1c-ifcc", "59261-8", 64, "mmol/mol", when="2024-06-10"),
        _quantity_obs("glucose", "2345-7", 5.5, "mmol/L"),
        _quantity_obs("weight", "29463-7", 160, "[lb_av]"),
        _quantity_obs("old-egfr", "33914-3", 60, "mL/min", when="2024-03-03"),  # eGFR's code says per 1.73 m2
        _quantity_obs("phq", "44261-6", 7, "1"),  # a score without its {score} annotation
        _quantity_obs("pain", "72514-3", 4, "{score}"),
        _quantity_obs("o2-flow", "3151-8", 6, "L/min"),  # not in the observation table
        _quantity_obs("prelim", "2160-0", 1.1, "mg/dL", status="preliminary"),
        _quantity_obs("cancelled", "2160-0", 1.1, "mg/dL", status="cancelled"),
        {"resourceType": "Observation", "id": "smoking", "status": "final", "code": _concept(LOINC, "72166-2"),
         "effectiveDateTime": "2025-01-10", "valueCodeableConcept": _concept(SNOMED, "8517006")},
    ), today=TODAY)
    values = {(o.code, o.effective): o.value for o in result.record.observations}
    assert values[("8480-6", dt.date(2025, 1, 10))] == Decimal("129")  # 128.5 rounded half up
    assert values[("8462-4", dt.date(2025, 1, 10))] == Decimal("81")
    assert values[("33914-3", dt.date(2025, 1, 10))] == Decimal("58.6")
    assert values[("33914-3", dt.date(2025, 2, 10))] == Decimal("90.1")  # ">90": the nearest value allowed
    assert values[("4548-4", dt.date(2024, 1, 10))] == Decimal("7.00")  # IFCC 53 mmol/mol is NGSP 7.0 %
    assert values[("4548-4", dt.date(2024, 6, 10))] == Decimal("8.01")
    assert values[("2345-7", dt.date(2025, 1, 10))] == Decimal("99")
    assert values[("29463-7", dt.date(2025, 1, 10))] == Decimal("72.57")
    assert values[("72166-2", dt.date(2025, 1, 10))] == "former"
    assert values[("33914-3", dt.date(2024, 3, 3))] == Decimal("60.0")
    assert values[("72514-3", dt.date(2025, 1, 10))] == Decimal("4")
    assert {o.status for o in result.record.observations if o.code == "2160-0"} == {"preliminary"}
    summary = result.summary
    reasons = {item.where.split("/")[-1]: item.reason for item in summary.unmappable}
    assert "annotations" in reasons["phq"] and set(reasons) == {"phq"}
    assert [(item.where.split("/")[-1], item.reason) for item in summary.by_design] == [
        ("o2-flow", "code not in the observation table")]
    assert [item.reason for item in summary.excluded] == ["status cancelled"]
    assert summary.values["censored"] == 1 and summary.values["converted"] == 5


def test_medications_procedures_and_immunizations() -> None:
    result = import_bundle(_bundle(
        {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "authoredOn": "2020-01-01",
         "medicationCodeableConcept": _concept("http://www.nlm.nih.gov/research/umls/rxnorm", "860975")},
        {"resourceType": "MedicationStatement", "id": "m2", "status": "completed",
         "effectivePeriod": {"start": "2019-01-01", "end": "2019-06-01"},
         "medicationCodeableConcept": _concept("http://www.whocc.no/atc", "A10BA02")},
        {"resourceType": "MedicationRequest", "id": "m3", "status": "entered-in-error", "authoredOn": "2020-01-01",
         "medicationCodeableConcept": _concept("http://www.nlm.nih.gov/research/umls/rxnorm", "860975")},
        {"resourceType": "Procedure", "id": "p1", "status": "completed", "performedDateTime": "2018-03-03",
         "code": _concept(SNOMED, "73761001")},
        {"resourceType": "Procedure", "id": "p2", "status": "completed", "performedDateTime": "2018-03-03",
         "code": _concept("http://www.ama-assn.org/go/cpt", "45378")},
        {"resourceType": "Immunization", "id": "i1", "status": "completed", "occurrenceDateTime": "2021-01-01",
         "vaccineCode": _concept("http://hl7.org/fhir/sid/cvx", "207")},
        {"resourceType": "Encounter", "id": "e1", "status": "finished"},
    ), today=TODAY)
    meds = result.record.medications
    assert [(m.system, m.code, m.status, m.end) for m in meds] == [
        ("rxnorm", "860975", "active", None), ("atc", "A10BA02", "completed", dt.date(2019, 6, 1))]
    assert [(p.system, p.code) for p in result.record.procedures] == [("snomed", "73761001")]
    kinds = result.summary.kinds
    assert kinds["MedicationRequest"].excluded == 1 and kinds["Procedure"].unmappable == 1
    assert kinds["Immunization"].kept == 1 and kinds["Encounter"].not_imported == 1
    assert [(i.system, i.code, i.administered) for i in result.record.immunizations] == [
        ("cvx", "207", dt.date(2021, 1, 1))]
    assert result.summary.unmappable_count == 1


def test_strict_refuses_anything_unmapped() -> None:
    cpt = {"resourceType": "Procedure", "id": "p2", "status": "completed", "performedDateTime": "2018-03-03",
           "code": _concept("http://www.ama-assn.org/go/cpt", "45378")}
    bundle = _bundle(_condition("c1", [(SNOMED, "44054006")]), cpt)
    with pytest.raises(UnmappedContentError) as caught:
        import_bundle(bundle, today=TODAY, strict=True)
    assert caught.value.summary is not None and caught.value.summary.unmappable[0].codes == ("cpt:45378",)
    # what the schema holds nowhere, by design, does not make --strict refuse: an encounter, a device, an
    # observation of a code outside the table, an excluded (entered-in-error) entry
    clean = _bundle(_condition("c1", [(SNOMED, "44054006")]), {"resourceType": "Encounter", "id": "e"},
                    {"resourceType": "Device", "id": "d"}, _quantity_obs("o2-flow", "3151-8", 6, "L/min"),
                    _condition("c2", [(SNOMED, "44054006")],
                               verificationStatus=_status("condition-ver-status", "entered-in-error")))
    summary = import_bundle(clean, today=TODAY, strict=True).summary
    assert summary.unmappable_count == 0 and len(summary.by_design) == 2 and len(summary.excluded) == 1


def test_summary_accounts_for_every_resource() -> None:
    bundle = _bundle(
        _condition("c1", [(SNOMED, "44054006")]),
        _condition("c2", [(ICD10CM, "E11.9")], verificationStatus=_status("condition-ver-status", "refuted")),
        _quantity_obs("o2-flow", "3151-8", 6, "L/min"),
        _quantity_obs("bad-unit", "4548-4", 7, "mg/dL"),
        {"resourceType": "Claim", "id": "x"},
    )
    summary = import_bundle(bundle, today=TODAY).summary
    document = summary.to_json()
    assert sum(kind["total"] for kind in document["kinds"].values()) == len(bundle["entry"])
    for counts in summary.kinds.values():
        assert counts.total == counts.kept + counts.mapped + counts.unmappable + counts.excluded + counts.not_imported
    assert len(document["unmappable"]) == summary.unmappable_count == 1
    assert len(document["notImportedByDesign"]) == 1 and len(document["excluded"]) == 1
    rendered = summary.render()
    assert "Condition" in rendered and "not imported by design (1)" in rendered and json.dumps(document)


def test_untrusted_input_limits(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"resourceType": "Bundle", "entry": ' + "[" * 100 + "]" * 100 + "}")
    with pytest.raises(FhirImportError) as caught:
        import_bundle(path, today=TODAY)
    assert str(path) in str(caught.value)
    duplicate = tmp_path / "dup.json"
    duplicate.write_text('{"resourceType": "Bundle", "type": "collection", "type": "document", "entry": []}')
    with pytest.raises(FhirImportError):
        import_bundle(duplicate, today=TODAY)
    huge = {"resourceType": "Bundle", "type": "collection", "entry": [{}] * (MAX_ENTRIES + 1)}
    with pytest.raises(InputLimitError):
        import_bundle(huge, today=TODAY)
    with pytest.raises(FhirImportError):
        import_bundle({"resourceType": "Patient"}, today=TODAY)
    broken = copy.deepcopy(_bundle())
    broken["entry"].append({"fullUrl": "urn:x"})
    with pytest.raises(FhirImportError):
        import_bundle(broken, today=TODAY)
    with pytest.raises(RecordImportError):
        import_bundle(_bundle(), today=dt.date(2025, 12, 1))  # the bundle is dated after "today"


def test_unit_rules() -> None:
    def convert(value: str, unit: str, loinc: str, canonical: str, decimals: int, comparator: str | None = None) -> Any:
        return to_canonical(value, unit, loinc=loinc, canonical_unit=canonical, decimals=decimals,
                            comparator=comparator).value

    assert convert("88.4", "umol/L", "2160-0", "mg/dL", 2) == Decimal("1.00")
    assert convert("2", "mmol/L", "2571-8", "mg/dL", 0) == Decimal("177")
    assert convert("250", "10*9/L", "777-3", "10*3/uL", 0) == Decimal("250")
    assert convert("5", "mmol/L", "2823-3", "mmol/L", 1) == Decimal("5.0")
    assert convert("4.95", "mmol/L", "2823-3", "mmol/L", 1, "<") == Decimal("4.9")
    assert convert("5", "mmol/L", "2823-3", "mmol/L", 1, "<") == Decimal("4.9")
    assert convert("5", "mmol/L", "2823-3", "mmol/L", 1, "<=") == Decimal("5.0")
    assert convert("89.95", "mL/min/{1.73_m2}", "33914-3", "mL/min/{1.73_m2}", 1, ">=") == Decimal("90.0")
    assert convert("-0.45", "mmol/L", "2823-3", "mmol/L", 1) == Decimal("-0.5")  # half away from zero
    for bad in (("1", "kg", "8480-6", "mm[Hg]", 0), ("1", "notaunit", "8480-6", "mm[Hg]", 0),
                ("NaN", "mm[Hg]", "8480-6", "mm[Hg]", 0), ("1", "mm[Hg]", "8480-6", "mm[Hg]", 0, "~"),
                ("1e999999", "mm[Hg]", "8480-6", "mm[Hg]", 0), ("1e-30", "mmol/L", "2823-3", "mmol/L", 1),
                # within the magnitude bound, but a conversion or a comparator pushes it past the decimal
                # context's 28 digits at the code's scale (a decimal.InvalidOperation before)
                ("1e20", "Mmol/L", "2345-7", "mg/dL", 0), ("9e20", "Mg/L", "2345-7", "mg/dL", 0, ">")):
        with pytest.raises(UnitConversionError):
            convert(*bad)


_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                         st.sampled_from(["2020-01-01", "2020-13-45", "2020", "final", "active", "refuted", ">",
                                          "mg/dL", "http://loinc.org", "http://snomed.info/sct", "4548-4"]))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_bundles_raise_only_typed_errors(data: st.DataObject) -> None:
    """Any value anywhere in a realistic bundle replaced by junk: the import succeeds or raises a ZkHealthError."""
    bundle = _bundle(
        _condition("c1", [(SNOMED, "44054006"), (ICD10_WHO, "E11.9")], abatementDateTime="2020-01-01"),
        _quantity_obs("egfr", "33914-3", 58.55, "mL/min/{1.73_m2}", quantity={"comparator": ">="}),
        {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "authoredOn": "2020-01-01",
         "medicationReference": {"reference": "#med"},
         "contained": [{"resourceType": "Medication", "id": "med",
                        "code": _concept("http://www.whocc.no/atc", "A10BA02")}]},
        {"resourceType": "Procedure", "id": "p1", "status": "completed", "performedPeriod": {"start": "2018-03-03"},
         "code": _concept(SNOMED, "73761001")},
    )
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(bundle)
    for _ in range(data.draw(st.integers(1, 4))):
        parent, key = data.draw(st.sampled_from(paths))
        parent[key] = data.draw(_JSON_LEAVES)
    try:
        import_bundle(bundle, today=TODAY)
    except ZkHealthError:
        pass


def test_round_values_survive_the_record_json() -> None:
    """A systolic pressure of 120 and a weight of 80 kg are written "120" and "80" in the record's JSON (not
    "1.2E+2"), so the readable record of a VC parses back to the same record."""
    from zkhealth.credentials.record import PatientRecord

    record = import_bundle(_bundle(_quantity_obs("bp", "8480-6", 120, "mm[Hg]"),
                                   _quantity_obs("w", "29463-7", 80, "kg")), today=TODAY).record
    written = record.to_json()
    assert [item["value"] for item in written["observations"]] == ["120", "80"]
    assert PatientRecord.from_json(written) == record
