"""FHIR import of the record kinds added after issue 22: allergies and intolerances, hospital admissions,
immunizations, daily doses from dosage instructions, histology and stage details; what ``--strict`` refuses
and what it accepts (kinds not held by design); the observation rows added for real exports. Hand-made bundles
hold every case: each resource kind, each status, each dosage form; what is ambiguous is listed, not guessed.
Criteria over the imported entries are evaluated natively and, for the rules that keep exclusions sound (an
admission of unknown reason), in the circuit."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.credentials import codes
from zkhealth.credentials.code_map import read_code_map
from zkhealth.credentials.ehr_import import DoseReading, daily_dose, import_bundle
from zkhealth.credentials.record import ADMISSION_REASON_UNKNOWN, PatientRecord
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import compile_program
from zkhealth.errors import UnmappedContentError, ZkHealthError

pytestmark = pytest.mark.native

TODAY = dt.date(2026, 6, 1)
#: The tests' medication map (ingredient RxCUIs and ATC codes of well-known drugs).
MAP = read_code_map(Path(__file__).parent / "fhir" / "code_map.csv")
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
METFORMIN = codes.DOSES[0]
FLUTICASONE = codes.DOSES[1]


def _concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text is not None:
        concept["text"] = text
    return concept


def _status(kind: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{kind}", "code": code}]}


def _bundle(*resources: dict[str, Any], bundle_type: str = "transaction") -> dict[str, Any]:
    person = {"resourceType": "Patient", "id": "p1", "birthDate": "1961-04-12", "gender": "female"}
    return {"resourceType": "Bundle", "type": bundle_type, "timestamp": "2026-01-01T00:00:00Z",
            "entry": [{"fullUrl": f"urn:uuid:{r.get('id', i)}", "resource": r}
                      for i, r in enumerate([person, *resources])]}


def _import(*resources: dict[str, Any], **options: Any) -> Any:
    return import_bundle(_bundle(*resources), today=TODAY, **options)


# --------------------------------------------------------------------------- allergies


def _allergy(rid: str, *coding: tuple[str, str], **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance", "id": rid, "type": "allergy",
        "clinicalStatus": _status("allergyintolerance-clinical", "active"),
        "verificationStatus": _status("allergyintolerance-verification", "confirmed"),
        "code": {"coding": [{"system": system, "code": code} for system, code in coding]},
        "onsetDateTime": "2015-03-01T10:00:00Z", "recordedDate": "2016-01-01",
    }
    resource.update(extra)
    return {key: value for key, value in resource.items() if value is not None}


def test_allergies_by_substance_system_and_status() -> None:
    resources = (
        _allergy("penicillin", (RXNORM, "7984")),
        _allergy("sglt2", (ATC, "A10BK01"), (SNOMED, "387207008")),  # two systems: two entries
        _allergy("class", (ATC, "J01C"), (SNOMED, "256277009")),  # an ATC class is no substance: the SNOMED CT
        # coding of the same allergen is recorded (as for conditions, one usable coding of a concept suffices)
        _allergy("lactose", (SNOMED, "47703008"), type="intolerance",
                 clinicalStatus=_status("allergyintolerance-clinical", "resolved")),
        _allergy("maybe", (RXNORM, "1191"), verificationStatus=_status("allergyintolerance-verification",
                                                                        "presumed")),  # R5: unconfirmed
        _allergy("bare", (RXNORM, "29046"), clinicalStatus=None, type=None, onsetDateTime=None),
        _allergy("r5", (RXNORM, "5640"), type=_concept("http://hl7.org/fhir/allergy-intolerance-type", "intolerance")),
    )
    result = _import(*resources)
    allergies = {(a.system, a.code): a for a in result.record.allergies}
    assert set(allergies) == {("rxnorm", "7984"), ("atc", "A10BK01"), ("snomed", "387207008"),
                              ("snomed", "256277009"), ("snomed", "47703008"), ("rxnorm", "1191"),
                              ("rxnorm", "29046"), ("rxnorm", "5640")}
    assert allergies[("rxnorm", "7984")].recorded == dt.date(2015, 3, 1)  # onset before the recorded date
    lactose = allergies[("snomed", "47703008")]
    assert (lactose.type, lactose.clinical_status, lactose.resolved) == ("intolerance", "resolved", None)
    assert allergies[("rxnorm", "1191")].verification_status == "unconfirmed"
    bare = allergies[("rxnorm", "29046")]
    assert (bare.type, bare.clinical_status, bare.recorded) == ("allergy", "active", dt.date(2016, 1, 1))
    assert allergies[("rxnorm", "5640")].type == "intolerance"
    counts = result.summary.kinds["AllergyIntolerance"]
    assert (counts.total, counts.kept, counts.mapped, counts.unmappable) == (7, 5, 2, 0)
    assert result.summary.entries["allergies"] == 8
    # without a medication map, an RxCUI is not known to be an ingredient (it may be a clinical drug) and its
    # ATC class is unknown: an exclusion by class could miss it, so the export is partial
    assert result.record.complete is False
    # nor is a SNOMED CT substance's (criteria name allergies by ATC class first): the pollen (whose ATC coding
    # is a class, not recorded) and the lactose too, until the map says they are no drug
    assert sorted(item.codes for item in result.summary.notes) == [("atc:A10BK01", "snomed:387207008"),
        ("atc:J01C", "snomed:256277009"), ("rxnorm:1191",), ("rxnorm:29046",), ("rxnorm:5640",), ("rxnorm:7984",),
        ("snomed:47703008",)]
    assert "no known RxNorm ingredient" in result.summary.notes[1].reason  # the ATC-coded one: which ingredient?
    lactose_note = next(item for item in result.summary.notes if item.codes == ("snomed:47703008",))
    assert "SNOMED CT only: no ATC code or RxNorm ingredient known" in lactose_note.reason
    # with the map, every substance is classified (the SGLT2 inhibitor, an ATC code with no map row, is left
    # out of this part); the map says the SNOMED CT pollen and lactose are no drug (ATC none, ingredients none)
    resources = tuple(item for item in resources if item["id"] != "sglt2")
    allergies.pop(("atc", "A10BK01"))
    allergies.pop(("snomed", "387207008"))
    with_map = _import(*resources, code_map=MAP)
    assert with_map.record.complete is True and with_map.summary.notes == []
    mapped = {(a.system, a.code) for a in with_map.record.allergies}
    assert mapped == set(allergies) | {("atc", "J01CE02"), ("atc", "N02BA01"), ("atc", "B01AC06"),
                                       ("atc", "C09AA03"), ("atc", "M01AE01")}


def test_allergies_excluded_and_unmappable() -> None:
    result = _import(
        _allergy("refuted", (RXNORM, "7984"),
                 verificationStatus=_status("allergyintolerance-verification", "refuted")),
        _allergy("error", (RXNORM, "7984"),
                 verificationStatus=_status("allergyintolerance-verification", "entered-in-error")),
        _allergy("nka", (SNOMED, "716186003")),  # "no known allergy": a statement, not an allergy
        _allergy("nkda", (SNOMED, "409137002")),
    )
    assert result.record.allergies == () and result.record.complete is True
    assert [item.reason for item in result.summary.excluded] == [
        "verification status refuted", "verification status entered-in-error",
        "a statement of no known allergy, not an allergy", "a statement of no known drug allergy, not an allergy"]
    for bad, reason in (
        (_allergy("local", ("http://example.org/allergens", "PEN")), "has no place in the record"),
        (_allergy("text", code={"text": "cats"}), "free text only"),
        (_allergy("undated", (RXNORM, "7984"), onsetDateTime=None, recordedDate=None), "no onset or recorded date"),
        (_allergy("odd", (RXNORM, "7984"), clinicalStatus=_status("allergyintolerance-clinical", "unknown")),
         "is not an AllergyIntolerance status"),
        (_allergy("side", (RXNORM, "7984"), type="side-effect"), "neither allergy nor intolerance"),
    ):
        partial = _import(bad)
        assert partial.summary.kinds["AllergyIntolerance"].unmappable == 1
        assert reason in partial.summary.unmappable[0].reason
        # an allergy left out could hide one that an exclusion names: the export is not complete
        assert partial.record.complete is False and partial.summary.completeness_note is not None
        with pytest.raises(UnmappedContentError):
            _import(bad, strict=True)


# --------------------------------------------------------------------------- hospital admissions


def _stay(rid: str, class_code: str = "IMP", start: str | None = "2025-09-01T08:00:00Z",
          end: str | None = "2025-09-06T12:00:00Z", status: str = "finished", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Encounter", "id": rid, "status": status,
                                "class": {"system": ACT_CODE, "code": class_code}, "period": {}}
    if start is not None:
        resource["period"]["start"] = start
    if end is not None:
        resource["period"]["end"] = end
    resource.update(extra)
    return resource


def _condition(rid: str, system: str, code: str, onset: str = "2025-09-01") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "clinicalStatus": _status("condition-clinical", "active"),
            "verificationStatus": _status("condition-ver-status", "confirmed"),
            "code": _concept(system, code), "onsetDateTime": onset}


def test_admissions_by_reason_code_reference_and_diagnosis_role() -> None:
    hf = _condition("hf", SNOMED, "84114007")
    mi = _condition("mi", ICD10CM, "I21.9")
    diabetes = _condition("dm", ICD10CM, "E11.9", onset="2010-01-01")
    stays_of = (
        hf, mi, diabetes,
        _stay("coded", reasonCode=[_concept(ICD10CM, "I50.23")]),
        _stay("who", class_code="ACUTE", reasonCode=[_concept(ICD10_WHO, "J18.9")]),
        _stay("referenced", class_code="NONAC", reasonReference=[{"reference": "urn:uuid:hf"}]),
        _stay("discharge-dx", diagnosis=[
            {"condition": {"reference": "Condition/mi"}, "use": _concept(
                "http://terminology.hl7.org/CodeSystem/diagnosis-role", "DD"), "rank": 1},
            {"condition": {"reference": "Condition/dm"}, "use": _concept(
                "http://terminology.hl7.org/CodeSystem/diagnosis-role", "CM"), "rank": 2}]),  # not a reason
        _stay("emergency", class_code="EMER", reasonCode=[_concept(ICD10CM, "J45.901")]),
        _stay("clinic", class_code="AMB"),
    )
    # without a code map, the SNOMED CT-only heart failure (a condition, and the reason of a stay) has no known
    # ICD-10-CM code: "not hospitalization in I50.*" would not see that stay, so the export is partial
    unmapped = _import(*stays_of)
    assert unmapped.record.complete is False
    assert sorted((item.kind, item.codes) for item in unmapped.summary.notes) == [
        ("Condition", ("snomed:84114007",)), ("Encounter", ("snomed:84114007",))]
    assert "no ICD-10-CM code known" in unmapped.summary.notes[0].reason
    # the map's row (84114007 -> I50.9) records the ICD-10-CM code beside the SNOMED CT one
    result = _import(*stays_of, code_map=MAP)
    stays = sorted((e.system, e.code, e.admitted, e.discharged, e.status) for e in result.record.encounters)
    assert stays == [
        ("icd10cm", "I21.9", dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
        ("icd10cm", "I50.23", dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
        ("icd10cm", "I50.9", dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
        ("icd10cm", "J18.9", dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
        ("snomed", "84114007", dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
    ]
    counts = result.summary.kinds["Encounter"]
    assert (counts.total, counts.kept, counts.mapped, counts.not_imported) == (6, 2, 2, 2)
    assert result.summary.entries["admissions"] == 5 and result.summary.notes == []
    assert result.record.complete is True


def test_admission_statuses_and_periods() -> None:
    result = _import(
        _stay("in-hospital", status="in-progress", end=None, reasonCode=[_concept(ICD10CM, "D57.00")]),
        _stay("on-leave", status="onleave", reasonCode=[_concept(ICD10CM, "D57.00")]),  # end ignored: still in
        _stay("unknown-ended", status="unknown", reasonCode=[_concept(ICD10CM, "I10")]),
        _stay("unknown-open", status="unknown", end=None, reasonCode=[_concept(ICD10CM, "I10")]),
        {**_stay("r5", status="completed", reasonCode=None, **{"class": [{"coding": [{"system": ACT_CODE,
                                                                                      "code": "IMP"}]}]},
                 reason=[{"value": [{"concept": _concept(ICD10CM, "I10")}]}]), "period": None,
         "actualPeriod": {"start": "2025-01-02", "end": "2025-01-05"}},
        _stay("planned", status="planned", reasonCode=[_concept(ICD10CM, "I10")]),
        _stay("cancelled", status="cancelled", reasonCode=[_concept(ICD10CM, "I10")]),
        _stay("error", status="entered-in-error", reasonCode=[_concept(ICD10CM, "I10")]),
    )
    stays = {(e.admitted, e.discharged, e.status) for e in result.record.encounters}
    assert stays == {(dt.date(2025, 9, 1), None, "in-progress"),
                     (dt.date(2025, 9, 1), dt.date(2025, 9, 6), "finished"),
                     (dt.date(2025, 1, 2), dt.date(2025, 1, 5), "finished")}
    assert len(result.record.encounters) == 5
    assert [item.reason for item in result.summary.excluded] == [
        "status planned", "status cancelled", "status entered-in-error"]
    for bad, reason in ((_stay("open", end=None, reasonCode=[_concept(ICD10CM, "I10")]), "without a discharge"),
                        (_stay("undated", start=None, reasonCode=[_concept(ICD10CM, "I10")]), "no start date"),
                        (_stay("late", end="2026-02-01", reasonCode=[_concept(ICD10CM, "I10")]), "after the")):
        listed = _import(bad).summary.unmappable
        assert len(listed) == 1 and reason in listed[0].reason


def test_an_admission_without_a_coded_reason_is_recorded_as_unknown() -> None:
    result = _import(
        _stay("text", reasonCode=[{"text": "snf_reason"}]),
        _stay("none"),
        _stay("local", reasonCode=[_concept("http://example.org/reasons", "R17")]),
    )
    assert {(e.system, e.code) for e in result.record.encounters} == {("snomed", ADMISSION_REASON_UNKNOWN)}
    assert len(result.record.encounters) == 3
    assert [item.reason.split(":")[0] for item in result.summary.notes] == [
        "admission reason not coded (free text 'snf_reason')", "admission reason not coded (none given)",
        "admission reason not coded (codes in no system of the record)"]
    assert result.summary.notes[2].codes == ("http://example.org/reasons:R17",)
    # the record stays complete and --strict accepts it: the admission is recorded, nothing is lost that the
    # schema could hold, and exclusions treat its reason as possibly anything (next test)
    assert result.record.complete is True
    assert import_bundle(_bundle(_stay("text", reasonCode=[{"text": "snf_reason"}])), today=TODAY,
                         strict=True).record.complete is True


def test_exclusions_of_admissions_count_the_admissions_of_unknown_reason() -> None:
    record = _import(_stay("text", reasonCode=[{"text": "snf_reason"}])).record
    hf_free = compile_program("not hospitalization in I50.* within 12 months")
    verdict = evaluate_program(hf_free, record, TODAY)
    assert not verdict.eligible and verdict.failing_clause == "not hospitalization in I50.* within 12 months"
    assert evaluate_program(hf_free, record, dt.date(2027, 3, 1)).eligible is False  # record too old: refused
    old_record = _import(_stay("text", start="2023-01-01", end="2023-01-05", reasonCode=[{"text": "x"}])).record
    assert evaluate_program(hf_free, old_record, TODAY).eligible  # outside the window: no doubt
    assert not evaluate_program(compile_program("hospitalization in I50.* within 12 months"), record,
                                TODAY).eligible  # an unknown reason never satisfies an inclusion
    assert evaluate_program(compile_program(f"hospitalization in snomed:{ADMISSION_REASON_UNKNOWN}"), record,
                            TODAY).eligible


# --------------------------------------------------------------------------- immunizations


def _shot(rid: str, *coding: tuple[str, str], status: str = "completed", when: str | None = "2025-10-01",
          ) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Immunization", "id": rid, "status": status,
                                "vaccineCode": {"coding": [{"system": s, "code": c} for s, c in coding]}}
    if when is not None:
        resource["occurrenceDateTime"] = when
    return resource


def test_immunizations() -> None:
    result = _import(
        _shot("mmr", (CVX, "03")),
        _shot("flu", (CVX, "140"), (SNOMED, "1181000221105")),  # two systems: two entries
        _shot("short", (CVX, "8")),  # written with one digit: CVX 08
        _shot("not-done", (CVX, "21"), status="not-done"),
        _shot("error", (CVX, "21"), status="entered-in-error"),
        _shot("none-known", (SNOMED, "787482006")),
    )
    shots = sorted((i.system, i.code, i.administered) for i in result.record.immunizations)
    assert shots == [("cvx", "03", dt.date(2025, 10, 1)), ("cvx", "08", dt.date(2025, 10, 1)),
                     ("cvx", "140", dt.date(2025, 10, 1)), ("snomed", "1181000221105", dt.date(2025, 10, 1))]
    assert [item.reason for item in result.summary.excluded] == [
        "status not-done", "status entered-in-error", "a statement of no known immunizations, not an immunization"]
    assert result.record.complete is True
    for bad, reason in ((_shot("atc", (ATC, "J07BD52")), "has no place in the record"),
                        (_shot("undated", (CVX, "03"), when=None), "no occurrence date"),
                        (_shot("zero", (CVX, "0")), "is not a CVX code")):
        partial = _import(bad)
        assert reason in partial.summary.unmappable[0].reason and partial.record.complete is False
    live = compile_program("not immunization in {cvx:03, cvx:21, cvx:111} within 30 days")
    assert not evaluate_program(live, result.record, dt.date(2025, 10, 20)).eligible
    assert evaluate_program(live, result.record, dt.date(2025, 12, 20)).eligible


def test_immunization_entries_codes_and_criteria_refuse_what_they_cannot_hold() -> None:
    from zkhealth.credentials.record import Immunization
    from zkhealth.errors import CodeSystemError, CriteriaSyntaxError, EncodingError

    assert codes.normalize_clinical_code("cvx", "3") == "03" and codes.cvx_encode("207") == 207
    for bad in ("0", "1000", "3a", "", "-3"):
        with pytest.raises(CodeSystemError):
            codes.cvx_encode(bad)
    with pytest.raises(EncodingError):
        Immunization("03", dt.date(2025, 1, 1), system="atc")
    for text in ("immunization in icd10cm:E11", "immunization in cvx:1000", "not immunization in cvx:03 of C34.*"):
        with pytest.raises(CriteriaSyntaxError):
            compile_program(text)


# --------------------------------------------------------------------------- daily doses


def _dosage(value: Any = 500, unit: str | None = "mg", *, frequency: int | None = 2, period: Any = 1,
            period_unit: str = "d", **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {}
    if value is not None:
        quantity: dict[str, Any] = {"value": value}
        if unit is not None:
            quantity.update(unit=unit, system=UCUM, code=unit)
        line["doseAndRate"] = [{"doseQuantity": quantity}]
    if frequency is not None:
        line["timing"] = {"repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}}
    line.update(extra)
    return line


def _request(*lines: dict[str, Any], coding: tuple[tuple[str, str], ...] = ((ATC, "A10BA02"), (RXNORM, "6809")),
             kind: str = "MedicationRequest") -> dict[str, Any]:
    return {"resourceType": kind, "id": "m", "status": "active", "authoredOn": "2025-01-01",
            "medicationCodeableConcept": {"coding": [{"system": s, "code": c} for s, c in coding]},
            "dosageInstruction" if kind != "MedicationStatement" else "dosage": list(lines)}


@pytest.mark.parametrize(
    ("lines", "dose"),
    [
        ([_dosage()], "1000"),  # 500 mg twice a day
        ([_dosage(frequency=1, period=8, period_unit="h")], "1500"),  # every 8 hours
        ([_dosage(0.5, "g")], "1000"),  # grams converted by pint
        ([_dosage(500000, "ug", frequency=1)], "500"),
        ([{"doseAndRate": [{"doseQuantity": {"value": 850, "unit": "mg"}}],
           "timing": {"code": {"coding": [{"code": "TID"}]}}}], "2550"),  # a FHIR timing abbreviation
        ([{"doseAndRate": [{"doseQuantity": {"value": 500, "code": "mg", "system": UCUM}}],
           "timing": {"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}}}], "1000"),  # two times of day
        ([_dosage(500, frequency=1, sequence=1), _dosage(1000, frequency=1, sequence=1)], "1500"),  # concurrent
        ([_dosage(0.3333, "g", frequency=3)], "1000"),  # 999.9 mg rounded half up to the table's scale
    ],
)
def test_daily_dose_rule(lines: list[dict[str, Any]], dose: str) -> None:
    reading = daily_dose("MedicationRequest", _request(*lines), METFORMIN)
    assert reading.dose == Decimal(dose) and reading.problem is None and reading.note is None
    assert reading.rounded is (dose == "1000" and lines[0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.3333)


@pytest.mark.parametrize(
    ("lines", "note"),
    [
        ([_dosage(asNeededBoolean=True)], "as needed (PRN)"),
        ([_dosage(asNeededCodeableConcept=_concept(SNOMED, "21522001"))], "as needed (PRN)"),
        ([{"doseAndRate": [{"doseRange": {"low": {"value": 500, "unit": "mg"}, "high": {"value": 1000, "unit": "mg"}}}],
           "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}}], "a dose range"),
        ([_dosage(timing={"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}})],
         "a frequency range"),
        ([_dosage(frequency=1, period=2)], "taken every 2 days"),
        ([_dosage(frequency=1, period=1, period_unit="wk")], "taken every 7 days"),
        ([_dosage(frequency=1, period=1, period_unit="mo")], "taken per month"),
        ([_dosage(timing={"code": {"coding": [{"code": "QOD"}]}})], "every other day"),
        ([_dosage(timing={"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "dayOfWeek": ["mon"]}})],
         "some days of the week"),
    ],
)
def test_doses_the_dosage_does_not_fix_are_noted(lines: list[dict[str, Any]], note: str) -> None:
    reading = daily_dose("MedicationRequest", _request(*lines), METFORMIN)
    assert reading.dose is None and reading.problem is None and reading.note is not None and note in reading.note


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([_dosage(1, "{tbl}")], "does not convert to mg"),  # tablets: the strength is not known
        ([_dosage(2, "{puff}")], "does not convert to mg"),
        ([_dosage(1, None)], "the dose unit is not UCUM"),
        ([{"doseAndRate": [{"rateQuantity": {"value": 50, "unit": "mg/h", "system": UCUM, "code": "mg/h"}}]}],
         "a rate, not a dose"),
        ([{"text": "500 mg twice daily"}], "given as text only"),
        ([_dosage(frequency=None)], "no timing"),
        ([_dosage(timing={"code": {"coding": [{"code": "Q8H"}]}})], "timing code Q8H is not read"),
        ([_dosage(timing={"repeat": {"frequency": 2}})], "no period"),
        ([_dosage(timing={"repeat": {"frequency": 1.5, "period": 1, "periodUnit": "d"}})], "not a positive whole"),
        ([_dosage(sequence=1), _dosage(sequence=2)], "not concurrent"),
        ([_dosage(), _dosage()], "not concurrent"),  # no sequence: order unknown
        ([{"doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg"}},
                           {"doseQuantity": {"value": 1, "unit": "mg"}}],
           "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}], "several doseAndRate"),
        ([_dosage(10**10)], "outside the stored range"),
    ],
)
def test_doses_that_cannot_be_read_are_problems(lines: list[dict[str, Any]], problem: str) -> None:
    reading = daily_dose("MedicationRequest", _request(*lines), METFORMIN)
    assert reading.dose is None and reading.problem is not None and problem in reading.problem


def test_daily_dose_forms_of_each_resource_kind() -> None:
    statement = _request(_dosage(250, "ug"), coding=((ATC, "R03BA05"),), kind="MedicationStatement")
    assert daily_dose("MedicationStatement", statement, FLUTICASONE) == DoseReading(Decimal("500"))
    dispense = _request(_dosage(), kind="MedicationDispense")
    assert daily_dose("MedicationDispense", dispense, METFORMIN).dose == Decimal("1000")
    administration = {"resourceType": "MedicationAdministration", "dosage": {"dose": {"value": 500, "unit": "mg"}}}
    reading = daily_dose("MedicationAdministration", administration, METFORMIN)
    assert reading.dose is None and reading.note == "an administration is one dose, not a daily regimen"
    assert daily_dose("MedicationRequest", _request(), METFORMIN) == DoseReading(None)  # no dosage: nothing said


def test_imported_doses_notes_and_partly_recorded() -> None:
    result = _import(_request(_dosage()))
    assert [(m.system, m.daily_dose, m.dose_unit) for m in result.record.medications] == [
        ("atc", Decimal("1000"), "mg"), ("rxnorm", Decimal("1000"), "mg")]  # both codings of the ingredient
    assert result.summary.kinds["MedicationRequest"].mapped == 1 and result.summary.values["daily doses"] == 1
    eligible = compile_program("medication in atc:A10BA02 with dose >= 1000 mg")
    assert evaluate_program(eligible, result.record, TODAY).eligible
    assert not evaluate_program(compile_program("medication in atc:A10BA02 with dose >= 1500 mg"), result.record,
                                TODAY).eligible
    prn = _import(_request(_dosage(asNeededBoolean=True)))
    assert prn.record.medications[0].daily_dose is None
    assert [item.reason for item in prn.summary.notes] == ["daily dose not recorded: as needed (PRN): no daily dose"]
    assert prn.summary.strict_refusals == [] and prn.record.complete is True
    tablets = _import(_request(_dosage(1, "{tbl}")))
    assert tablets.record.medications[0].daily_dose is None and len(tablets.summary.partly) == 1
    assert tablets.record.complete is True  # criteria bound doses in inclusions only: completeness unaffected
    with pytest.raises(UnmappedContentError):  # but the dose was stated and not recorded: --strict refuses
        _import(_request(_dosage(1, "{tbl}")), strict=True)
    mixed = _import(_request(_dosage(), coding=((ATC, "A10BA02"), (ATC, "R03BA02"))))
    assert "two dose-table ingredients" in mixed.summary.partly[0].reason
    # a drug without a dose unit: its dosage has no place in the record and is not listed
    other = _import(_request(_dosage(1, "{tbl}"), coding=((RXNORM, "860975"),)))
    assert other.summary.partly == [] and [item.codes for item in other.summary.notes] == [("rxnorm:860975",)]
    assert "not known to be an ingredient" in other.summary.notes[0].reason and not other.record.complete
    assert other.record.medications[0].daily_dose is None


# --------------------------------------------------------------------------- histology and stage


def _cancer(rid: str, *coding: tuple[str, str], **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Condition", "id": rid, "clinicalStatus": _status("condition-clinical", "active"),
                "verificationStatus": _status("condition-ver-status", "confirmed"),
                "code": {"coding": [{"system": s, "code": c} for s, c in coding]},
                "onsetDateTime": "2025-02-01", "recordedDate": "2025-02-10"}
    resource.update(extra)
    return resource


HISTOLOGY = {"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
             "valueCodeableConcept": _concept(SNOMED, "1187332001")}


def test_histology_and_stage_of_a_condition() -> None:
    stage_group = {"resourceType": "Observation", "id": "stage", "status": "final",
                   "code": _concept(LOINC, "21908-9"), "effectiveDateTime": "2025-02-10",
                   "valueCodeableConcept": _concept(SNOMED, "1222837003")}
    result = _import(
        stage_group,
        _cancer("lung", (ICD10CM, "C34.90"), (SNOMED, "254637007"), extension=[HISTOLOGY],
                stage=[{"summary": _concept(SNOMED, "1222837003")}]),
        _cancer("lung2", (ICD10CM, "C34.11"), stage=[{"assessment": [{"reference": "Observation/stage"}]}]),
        _cancer("site", (ICD10CM, "I21.9"), bodySite=[_concept(SNOMED, "80891009")]),  # a site is no histology
    )
    details = sorted((d.code, d.diagnosis, d.recorded) for d in result.record.diagnosis_details)
    assert details == [("1187332001", "C34.90", dt.date(2025, 2, 10)), ("1222837003", "C34.11", dt.date(2025, 2, 10)),
                       ("1222837003", "C34.90", dt.date(2025, 2, 10))]
    assert result.summary.entries["diagnosisDetails"] == 3 and result.summary.partly == []
    record = result.record
    assert evaluate_program(compile_program("histology in snomed:1187332001 of C34.*"), record, TODAY).eligible
    assert evaluate_program(compile_program("cancer_stage in snomed:1222837003 of C34.1*"), record, TODAY).eligible
    assert not evaluate_program(compile_program("histology in snomed:1187332001 of C34.1*"), record,
                                TODAY).eligible


def test_histology_and_stage_that_cannot_be_recorded_are_listed() -> None:
    for condition, reason in (
        (_cancer("snomed-only", (SNOMED, "254637007"), extension=[HISTOLOGY]), "has none"),
        (_cancer("text-stage", (ICD10CM, "C34.90"), stage=[{"summary": {"text": "IIIA"}}]), "not coded in SNOMED"),
        (_cancer("ajcc", (ICD10CM, "C34.90"), stage=[{"summary": _concept("http://cancerstaging.org", "3A")}]),
         "not coded in SNOMED"),
    ):
        result = _import(condition)
        assert len(result.record.conditions) >= 1 and result.record.diagnosis_details == ()
        assert len(result.summary.partly) == 1 and reason in result.summary.partly[0].reason
        # "not histology in ..." can be written: a detail left out makes the export partial
        assert result.record.complete is False
        with pytest.raises(UnmappedContentError):
            _import(condition, strict=True)


# --------------------------------------------------------------------------- observations and completeness


def _obs(rid: str, loinc: str, value: Any, unit: str, *, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "code": _concept(LOINC, loinc),
            "effectiveDateTime": "2025-11-02", "valueQuantity": {"value": value, "unit": unit, "system": UCUM,
                                                                 "code": code or unit}, **extra}


def test_observation_rows_for_real_exports() -> None:
    oximetry = _obs("spo2", "2708-6", 97.44, "%")
    oximetry["code"]["coding"].append({"system": LOINC, "code": "59408-5"})
    result = _import(
        _obs("rr", "9279-1", 16.4, "/min"), oximetry, _obs("pulse-ox", "59408-5", 93, "%"),
        _obs("pain", "72514-3", 3, "{score}"), _obs("bmi-pct", "59576-9", 91.2, "%"),
        _obs("temp-f", "8310-5", 100.4, "[degF]"), _obs("temp", "8310-5", 37.25, "Cel"),
        _obs("bg", "2339-0", 5.5, "mmol/L"),
        {"resourceType": "Observation", "id": "dip", "status": "final", "code": _concept(LOINC, "20454-5"),
         "effectiveDateTime": "2025-11-02", "valueCodeableConcept": _concept(SNOMED, "167276005")},
        {"resourceType": "Observation", "id": "pack", "status": "final", "code": _concept(SNOMED, "401201003"),
         "effectiveDateTime": "2025-11-02", "valueQuantity": {"value": 12.5, "unit": "{pack-years}"}},
    )
    values = sorted((o.code, str(o.value)) for o in result.record.observations)
    assert values == [("20454-5", "2+"), ("2339-0", "99"), ("2708-6", "93.0"), ("2708-6", "97.4"),
                      ("401201003", "12.5"), ("59576-9", "91.2"), ("72514-3", "3"), ("8310-5", "37.3"),
                      ("8310-5", "38.0"), ("9279-1", "16")]
    assert result.summary.unmappable == [] and result.summary.by_design == []


def test_results_without_a_value_are_excluded_and_do_not_make_a_record_partial() -> None:
    empty = {"resourceType": "Observation", "id": "empty", "status": "final", "code": _concept(LOINC, "59576-9"),
             "effectiveDateTime": "2025-11-02"}
    absent = dict(empty, id="absent", dataAbsentReason=_concept(
        "http://terminology.hl7.org/CodeSystem/data-absent-reason", "asked-declined"))
    result = _import(empty, absent)
    assert [item.reason for item in result.summary.excluded] == [
        "no value", "no value (dataAbsentReason asked-declined)"]
    assert result.record.complete is True and result.summary.strict_refusals == []


def test_a_panel_component_that_cannot_be_recorded_is_listed() -> None:
    panel = {"resourceType": "Observation", "id": "bp", "status": "final", "code": _concept(LOINC, "85354-9"),
             "effectiveDateTime": "2025-11-02",
             "component": [{"code": _concept(LOINC, "8480-6"), "valueQuantity": {"value": 128, "unit": "mm[Hg]",
                                                                                 "system": UCUM, "code": "mm[Hg]"}},
                           {"code": _concept(LOINC, "8462-4"), "valueQuantity": {"value": 81, "unit": "kg",
                                                                                 "system": UCUM, "code": "kg"}}]}
    result = _import(panel)
    assert [o.code for o in result.record.observations] == ["8480-6"]
    assert len(result.summary.partly) == 1 and "loinc:8462-4.component[1]" in result.summary.partly[0].reason
    assert result.record.complete is False  # the latest diastolic pressure is not known


def test_a_complete_export_with_allergies_admissions_and_immunizations_is_complete() -> None:
    """The stopgap of issue 22's importer (an allergy or an inpatient stay made the record partial) is gone."""
    resources = (
        _condition("hf", ICD10CM, "I50.23", onset="2024-05-01"),
        _allergy("penicillin", (RXNORM, "7984")),
        _stay("stay", reasonReference=[{"reference": "Condition/hf"}]),
        _shot("flu", (CVX, "140")),
        {"resourceType": "Device", "id": "pump", "status": "active", "type": _concept(SNOMED, "433296005")},
        _obs("flow", "3151-8", 6, "L/min"),
    )
    result = _import(*resources, code_map=MAP)
    assert result.record.complete is True and result.summary.completeness_note is None
    assert result.summary.strict_refusals == []
    assert [item.kind for item in result.summary.by_design] == ["Device", "Observation"]
    assert [(e.code, e.admitted) for e in result.record.encounters] == [("I50.23", dt.date(2025, 9, 1))]
    assert _import(*resources, strict=True, complete=True, code_map=MAP).record == result.record
    record = PatientRecord.from_json(result.record.to_json())
    assert record == result.record and len(record.immunizations) == 1 and len(record.allergies) == 2
    excluded = compile_program("not allergy in rxnorm:7984")
    assert evaluate_program(excluded, record, TODAY).failing_clause == "not allergy in rxnorm:7984"
    assert evaluate_program(compile_program("not allergy in atc:A10BK"), record, TODAY).eligible


# --------------------------------------------------------------------------- the circuit agrees


@pytest.mark.witness
def test_circuit_refuses_no_admission_for_x_over_an_admission_of_unknown_reason() -> None:
    from zkhealth.circuit import compile
    from zkhealth.credentials.dates import date_to_epoch_day
    from zkhealth.credentials.record import RecordCredential
    from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs
    from zkhealth.errors import WitnessError

    program = compile_program("not hospitalization in I50.* within 12 months and immunization in cvx:140")
    compiled = compile(criteria_circuit(program))

    def credential(*resources: dict[str, Any]) -> RecordCredential:
        record = _import(*resources, _shot("flu", (CVX, "140"))).record
        issued = date_to_epoch_day(record.record_as_of)
        return RecordCredential(credential_id=7, subject_commitment=3, issuer_public_key=(1, 2),
                                issuer_ed25519=b"\2" * 32, issued_at=issued, expires_at=issued + 2_000, record=record)

    def solves(values: dict[str, Any]) -> bool:
        try:
            compiled.solve_witness(values)
        except WitnessError:
            return False
        return True

    clean = credential(_stay("pneumonia", reasonCode=[_concept(ICD10CM, "J18.9")]))
    assert evaluate_program(program, clean, TODAY).eligible and solves(criteria_inputs(program, clean, TODAY))
    unknown = credential(_stay("text", reasonCode=[{"text": "snf_reason"}]))
    assert not evaluate_program(program, unknown, TODAY).eligible
    base = criteria_inputs(program, unknown, TODAY)
    assert not solves(base)
    tree = unknown.sets()["procedures"]
    for atom in range(len(program.atoms)):  # no leaf of the record proves any atom false that must hold
        for index in range(len(tree.leaves)):
            proof = tree.proof(index)
            forged = dict(base, **{f"atom{atom}_leaf": list(tree.leaves[index].fields()),
                                   f"atom{atom}_siblings": list(proof.flat_siblings),
                                   f"atom{atom}_path": list(proof.path_bits)})
            assert not solves(forged), (atom, index)


# --------------------------------------------------------------------------- malformed bundles of the new kinds

_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                  st.text(max_size=12), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.sampled_from(["code", "value", "reference", "coding", "start"]), st.integers(),
                                  max_size=2),
                  st.sampled_from(["2020-01-01", "2020-13-45", "IMP", "finished", "unknown", "mg", "{tbl}", "h", "d",
                                   "BID", "refuted", SNOMED, CVX, ICD10CM, "Condition/hf"]))


def _rich_bundle() -> dict[str, Any]:
    """One resource of each new kind (and a condition with histology and stage); a deep copy, since the helpers
    share module-level dictionaries (``HISTOLOGY``) that a mutation must not reach."""
    return copy.deepcopy(_bundle(
        _condition("hf", ICD10CM, "I50.23", onset="2024-05-01"),
        _cancer("lung", (ICD10CM, "C34.90"), extension=[HISTOLOGY],
                stage=[{"summary": _concept(SNOMED, "1222837003"), "assessment": [{"reference": "urn:uuid:hf"}]}]),
        _allergy("penicillin", (RXNORM, "7984"), (ATC, "J01CE02")),
        _stay("stay", reasonReference=[{"reference": "Condition/hf"}], reasonCode=[{"text": "x"}],
              diagnosis=[{"condition": {"reference": "Condition/hf"}, "use": _concept(
                  "http://terminology.hl7.org/CodeSystem/diagnosis-role", "DD")}]),
        _shot("flu", (CVX, "140")),
        _request(_dosage(0.5, "g", frequency=1, period=12, period_unit="h"),
                 {**_dosage(), "timing": {"code": {"coding": [{"code": "BID"}]}}}),
        _obs("temp", "8310-5", 100.4, "[degF]"),
    ))


def test_the_rich_bundle_imports() -> None:
    """The fixture of the mutation test, unmutated: every new kind is recorded, and the one part left out (two
    dosage lines that do not say they are concurrent) is listed, so ``--strict`` refuses it."""
    result = import_bundle(_rich_bundle(), today=TODAY, code_map=MAP)
    record, summary = result.record, result.summary
    assert sorted((a.system, a.code) for a in record.allergies) == [("atc", "J01CE02"), ("rxnorm", "7984")]
    # the reason given twice (reference and discharge diagnosis) is one admission; the uncoded text adds nothing
    assert [(e.system, e.code, e.admitted, e.discharged) for e in record.encounters] == [
        ("icd10cm", "I50.23", dt.date(2025, 9, 1), dt.date(2025, 9, 6))]
    assert [(i.system, i.code) for i in record.immunizations] == [("cvx", "140")]
    assert sorted((d.code, d.diagnosis) for d in record.diagnosis_details) == [
        ("1187332001", "C34.90"), ("1222837003", "C34.90")]
    assert [(o.code, o.value, o.unit) for o in record.observations] == [("8310-5", Decimal("38.0"), "Cel")]
    assert {m.daily_dose for m in record.medications} == {None}
    assert [item.kind for item in summary.partly] == ["MedicationRequest"]
    assert "not concurrent" in summary.partly[0].reason
    assert summary.strict_refusals == summary.partly and summary.unmappable == []
    assert record.complete is True  # a dose left out makes no exclusion unsound: the record stays complete
    with pytest.raises(UnmappedContentError):
        import_bundle(_rich_bundle(), today=TODAY, strict=True)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_bundles_of_the_new_kinds_raise_only_typed_errors(data: st.DataObject) -> None:
    """Any value anywhere in a bundle of the new kinds replaced by junk: the import succeeds or raises a
    ZkHealthError (never a KeyError, TypeError, a decimal or a pint error). When it succeeds, the summary
    accounts for every resource and entry, ``--strict`` refuses exactly what the summary lists, and the record
    survives its JSON form."""
    mutated = _rich_bundle()
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(mutated)
    for _ in range(data.draw(st.integers(1, 4))):
        parent, key = data.draw(st.sampled_from(paths))
        parent[key] = data.draw(_JUNK)
    try:
        result = import_bundle(copy.deepcopy(mutated), today=TODAY)
    except ZkHealthError:
        return
    record, summary = result.record, result.summary
    for kind, counts in summary.kinds.items():
        assert counts.total == (counts.kept + counts.mapped + counts.unmappable + counts.excluded
                                + counts.not_imported), kind
    assert summary.entries == {
        "conditions": len(record.conditions), "medications": len(record.medications),
        "procedures": len(record.procedures), "observations": len(record.observations),
        "allergies": len(record.allergies), "admissions": len(record.encounters),
        "immunizations": len(record.immunizations), "diagnosisDetails": len(record.diagnosis_details)}
    assert PatientRecord.from_json(record.to_json()) == record
    if summary.strict_refusals:
        with pytest.raises(UnmappedContentError):
            import_bundle(copy.deepcopy(mutated), today=TODAY, strict=True)
    else:
        assert import_bundle(copy.deepcopy(mutated), today=TODAY, strict=True).record == record
