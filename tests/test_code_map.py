"""The issuer's code map (zkhealth.credentials.code_map) and what it closes: a full export whose entries are coded
only in a system criteria do not name them by was issued as a complete record, and passed exclusions that the
patient fails: drugs coded only by clinical-drug RxCUIs against exclusions by ATC class or RxNorm ingredient, and
conditions, admission reasons, procedures, vaccines and allergy substances coded only in SNOMED CT against
exclusions by ICD-10-CM range, ICD-10-PCS, CVX or ATC class. Now such an export is partial unless the map gives
those codes (or says the concept has none); with the map the exclusions fail as they should."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zkhealth.credentials import code_map
from zkhealth.credentials.code_map import CodeMap, parse_code_map, read_code_map
from zkhealth.credentials.ehr_import import import_bundle
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import compile_program
from zkhealth.errors import CodeMapError, MalformedInputError, UnmappedContentError

pytestmark = pytest.mark.native

TODAY = dt.date(2026, 6, 1)
DAY = dt.date(2026, 1, 15)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
NSCLC = "254637007"  # non-small cell lung cancer (SNOMED CT); the tests' map gives C34.90 (test data)
MAP_FILE = Path(__file__).parent / "fhir" / "code_map.csv"
INSULIN_SCD = "261551"  # insulin glargine 100 UNT/ML Injectable Solution (a clinical drug, not the ingredient)
METFORMIN_SCD = "860975"  # 24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet


def _drug(rid: str, *codings: tuple[str, str], kind: str = "MedicationRequest", **extra: Any) -> dict[str, Any]:
    return {"resourceType": kind, "id": rid, "status": "active", "authoredOn": "2025-03-01",
            "medicationCodeableConcept": {"coding": [{"system": s, "code": c, "display": f"drug {c}"}
                                                     for s, c in codings]}, **extra}


def _export(*resources: dict[str, Any]) -> dict[str, Any]:
    """A full export (a collection bundle: the patient's whole record as of its timestamp)."""
    person = {"resourceType": "Patient", "id": "p1", "birthDate": "1961-04-12", "gender": "female"}
    return {"resourceType": "Bundle", "type": "collection", "timestamp": "2026-01-01T00:00:00Z",
            "entry": [{"fullUrl": f"urn:x:{i}", "resource": r} for i, r in enumerate([person, *resources])]}


def _holds(criteria: str, record: Any) -> bool:
    return evaluate_program(compile_program(criteria), record, DAY).eligible


def test_insulin_coded_as_a_clinical_drug_no_longer_passes_no_insulin() -> None:
    """The attack: on main this export was a complete record that satisfied "no insulin"."""
    export = _export(_drug("insulin", (RXNORM, INSULIN_SCD)))
    result = import_bundle(export, today=TODAY)
    record = result.record
    assert not record.complete  # was complete
    assert f"rxnorm:{INSULIN_SCD}: not known to be an ingredient" in str(result.summary.completeness_note)
    assert "drug 261551" in str(result.summary.completeness_note)  # names the medication
    for exclusion in ("not medication in atc:A10A", "count(medication in atc:A10A) <= 0",
                      "not medication in atc:L01", "not medication in rxnorm:274783"):
        assert not _holds(exclusion, record), exclusion  # a partial record proves no exclusion
    with pytest.raises(UnmappedContentError, match=INSULIN_SCD):
        import_bundle(export, today=TODAY, complete=True)
    # with the issuer's map: the ingredient and the ATC code are recorded, the record is complete, and the
    # exclusion fails because the patient is on insulin
    mapped = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE), complete=True)
    record = mapped.record
    assert record.complete and mapped.summary.notes == []
    assert sorted((m.system, m.code) for m in record.medications) == [("atc", "A10AE04"), ("rxnorm", "274783")]
    assert evaluate_program(compile_program("not medication in atc:A10A"), record, DAY).failing_clause == (
        "not medication in atc:A10A")
    assert _holds("medication in atc:A10AE", record) and _holds("medication in rxnorm:274783", record)
    assert _holds("not medication in atc:L01", record)  # a complete record proves the exclusions it meets
    assert mapped.summary.kinds["MedicationRequest"].mapped == 1


def test_an_ingredient_exclusion_against_a_clinical_drug_code() -> None:
    export = _export(_drug("metformin", (RXNORM, METFORMIN_SCD)))
    record = import_bundle(export, today=TODAY).record
    assert not record.complete and not _holds("not medication in rxnorm:6809", record)
    mapped = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE)).record
    assert mapped.complete
    assert evaluate_program(compile_program("not medication in rxnorm:6809"), mapped, DAY).failing_clause == (
        "not medication in rxnorm:6809")
    assert not _holds("not medication in atc:A10BA", mapped) and _holds("medication in rxnorm:6809", mapped)


def test_what_stays_complete_without_a_map() -> None:
    # an ATC code and an ingredient RxCUI known as such (the dose table's metformin): classified
    both = import_bundle(_export(_drug("m", (ATC, "A10BA02"), (RXNORM, "6809"))), today=TODAY)
    assert both.record.complete and both.summary.notes == []
    # an ATC code alone: criteria naming the RxNorm ingredient would not see it
    atc_only = import_bundle(_export(_drug("i", (ATC, "A10AE04"))), today=TODAY)
    assert not atc_only.record.complete and "no known RxNorm ingredient" in str(atc_only.summary.completeness_note)
    assert not _holds("not medication in rxnorm:274783", atc_only.record)
    # the map's ATC rows give the ingredient of an ATC-only drug
    with_map = import_bundle(_export(_drug("i", (ATC, "A10AE04"))), today=TODAY, code_map=read_code_map(MAP_FILE))
    assert with_map.record.complete
    assert not _holds("not medication in rxnorm:274783", with_map.record)
    # an ATC code next to an unknown RxCUI (a clinical drug? a combination?): not classified
    scd = import_bundle(_export(_drug("m", (ATC, "A10BA02"), (RXNORM, "6809"), (RXNORM, "999999"))), today=TODAY)
    assert not scd.record.complete
    # a document is partial anyway; an excluded (cancelled) order needs no class
    cancelled = _drug("c", (RXNORM, INSULIN_SCD), status="cancelled")
    assert import_bundle(_export(cancelled), today=TODAY).record.complete


def test_the_map_gives_doses_to_clinical_drugs_and_refuses_a_combined_dose() -> None:
    dosage = [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
               "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org",
                                                 "code": "mg"}}]}]
    export = _export(_drug("m", (RXNORM, METFORMIN_SCD), dosageInstruction=dosage))
    record = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE)).record
    assert {(m.system, m.code, m.daily_dose) for m in record.medications} == {
        ("rxnorm", "6809", Decimal(1000)), ("atc", "A10BA02", Decimal(1000))}
    # a combination product (test data: metformin with a second ingredient): the dose is the product's
    combined = parse_code_map("code,ingredients,atc\n123456,6809 593411,A10BD07\n")
    result = import_bundle(_export(_drug("m", (RXNORM, "123456"), dosageInstruction=dosage)), today=TODAY,
                           code_map=combined)
    assert result.record.complete and {m.daily_dose for m in result.record.medications} == {None}
    assert "combination product" in result.summary.partly[0].reason
    assert {(m.system, m.code) for m in result.record.medications} == {
        ("rxnorm", "6809"), ("rxnorm", "593411"), ("atc", "A10BD07")}


def test_allergy_substances_follow_the_map() -> None:
    allergy = {"resourceType": "AllergyIntolerance", "id": "a", "recordedDate": "2020-01-01",
               "code": {"coding": [{"system": RXNORM, "code": "7984"}]}}
    assert not import_bundle(_export(allergy), today=TODAY).record.complete
    record = import_bundle(_export(allergy), today=TODAY, code_map=read_code_map(MAP_FILE)).record
    assert record.complete and not _holds("not allergy in atc:J01C", record)


def test_a_map_with_none_atc_and_comments() -> None:
    table = parse_code_map("\ufeff# a comment\n\ncode , Ingredients, ATC\n555,555,none\nA10AE04,274783,\n"
                             "\"7984\",\"7984\",\"J01CE02\"\n", source="m.csv")
    assert len(table) == 3 and table.lookup("rxnorm", "555") is not None
    entry = table.lookup("atc", "a10ae04")
    assert entry is not None and entry.atc == ("A10AE04",) and entry.ingredients == ("274783",)
    assert table.is_ingredient("274783") and not table.is_ingredient("A10AE04")
    assert table.lookup("icd10cm", "E11.9") is None and table.lookup("snomed", "44054006") is None
    # a drug WHO gives no ATC code is in no ATC class: classified
    record = import_bundle(_export(_drug("x", (RXNORM, "555"))), today=TODAY, code_map=table).record
    assert record.complete and [(m.system, m.code) for m in record.medications] == [("rxnorm", "555")]
    assert CodeMap.read(MAP_FILE).lookup("rxnorm", "6809") is not None


@pytest.mark.parametrize(("text", "message"), [
    ("", "no header row"),
    ("# only a comment\n", "no header row"),
    ("rxcui,ingredient,atc\n6809,6809,A10BA02\n", "line 1: the first row must be the header"),
    ("code,ingredients,atc\n6809,6809\n", "line 2: a row has 3 cells"),
    ("code,ingredients,atc\n6809,6809,A10BA02,x\n", "line 2: a row has 3 cells"),
    ("code,ingredients,atc\n06809,6809,A10BA02\n", "line 2: code:"),
    ("code,ingredients,atc\nmetformin,6809,A10BA02\n", "line 2: code:"),
    ("code,ingredients,atc\nA10B,6809,A10BA02\n", "line 2: code:"),  # an ATC class is not a drug
    ("code,ingredients,atc\n6809,6809,A10B\n", "line 2: ATC:"),  # an ATC class is no substance code
    ("code,ingredients,atc\n6809,6809x,A10BA02\n", "line 2: ingredient:"),
    ("code,ingredients,atc\n6809,,A10BA02\n", "line 2: rxnorm:6809 names no ingredient"),
    ("code,ingredients,atc\n6809,6809,\n", "line 2: rxnorm:6809 has no ATC code"),
    ("code,ingredients,atc\n6809,6809 6809,A10BA02\n", "line 2: ingredient code 6809 is listed twice"),
    ("code,ingredients,atc\n6809,6809,A10BA02\n\n860975,6809,A10BA02\n6809,6809,A10BA02\n",
     "line 5: rxnorm code 6809 is already mapped on line 2"),
    ("code,ingredients,atc\n6809,6809,A10BA02\na10ba02,6809,\nA10BA02,6809,\n",
     "line 4: atc code A10BA02 is already mapped on line 3"),
    ("code,ingredients,atc\n6809,\"6809,A10BA02\n", "line 2: not a CSV row"),
    ("code,ingredients,atc\n6809,6809,A10BA02\x00\n", "a NUL character"),
    ("code,ingredients,atc\n1," + " ".join(str(n) for n in range(1, 34)) + ",A10BA02\n", "more than 32"),
    # the generalised columns and the SNOMED CT rows
    ("code,icd10cm,icd10cm\nsnomed:44054006,E11.9,E11.9\n", "line 1: the first row must be the header"),
    ("code,icd10\nsnomed:44054006,E11.9\n", "line 1: the first row must be the header"),
    ("code\nsnomed:44054006\n", "line 1: the first row must be the header"),
    ("code,icd10cm\nsnomed:44054007,E11.9\n", "line 2: code:"),  # a bad Verhoeff check digit
    ("code,icd10cm\nloinc:4548-4,E11.9\n", "line 2: code: unknown prefix 'loinc'"),
    ("code,icd10cm\nsnomed:44054006,\n", "line 2: snomed:44054006 states no target code"),
    ("code,icd10cm\nsnomed:44054006,X99.99\n", "line 2: ICD-10-CM:"),  # not in the release
    ("code,icd10pcs\nsnomed:80146002,0DTJ\n", "line 2: ICD-10-PCS:"),  # not a full code
    ("code,cvx\nsnomed:86198006,0\n", "line 2: CVX:"),
    ("code,ingredients,atc\nsnomed:764146007,,J01CE01\n", "line 2: snomed:764146007: a substance states both"),
    ("code,ingredients,atc,icd10cm\n6809,6809,A10BA02,E11.9\n", "line 2: rxnorm:6809 is a drug: icd10cm"),
    ("code,icd10cm\nsnomed:44054006,E11.9\nsct:44054006,E11.65\n",
     "line 3: snomed code 44054006 is already mapped on line 2"),
])
def test_bad_maps_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(CodeMapError, match=message) as info:
        parse_code_map(text, source="formulary.csv")
    assert str(info.value).startswith("formulary.csv")
    assert isinstance(info.value, MalformedInputError)  # exit code 2


def test_map_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "map.csv"
    path.write_bytes(b"code,ingredients,atc\n" + b"".join(f"{n},{n},A10BA02\n".encode() for n in range(1, 11)))
    assert len(read_code_map(path)) == 10
    monkeypatch.setattr(code_map, "MAX_MAP_ROWS", 9)
    with pytest.raises(CodeMapError, match="line 11: more than 9 rows"):
        read_code_map(path)
    monkeypatch.setattr(code_map, "MAX_MAP_BYTES", 100)
    with pytest.raises(CodeMapError, match=f"{path}: .*exceeds the 100-byte limit"):
        read_code_map(path)
    with pytest.raises(CodeMapError, match="more than the 100-byte limit"):
        parse_code_map(b"x" * 101)
    with pytest.raises(CodeMapError, match="more than the 100-character limit"):
        parse_code_map("x" * 101)
    path.write_bytes(b"code,ingredients,atc\n6809,6809,A10BA02\xff\n")
    with pytest.raises(CodeMapError, match="not UTF-8"):
        read_code_map(path)
    with pytest.raises(CodeMapError, match="line 2: rxnorm code 6809 is already mapped on line 1"):
        CodeMap([code_map.MapEntry("rxnorm", "6809", (("rxnorm", ("6809",)),), 1),
                   code_map.MapEntry("rxnorm", "6809", (("rxnorm", ("6809",)),), 2)])


def test_the_issue_verb_reads_the_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from zkhealth.cli import main

    monkeypatch.setenv("ZKHEALTH_PASSPHRASE", "correct horse battery staple")
    runner = CliRunner()
    key = tmp_path / "hospital.key"
    assert runner.invoke(main, ["keygen", "--out", str(key), "--kdf", "interactive"]).exit_code == 0
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export(_drug("insulin", (RXNORM, INSULIN_SCD)))))
    base = ["issue", "--fhir", str(export), "--key", str(key), "--holder-commitment", "7", "--out",
            str(tmp_path / "c.json"), "--issued-at", "2026-02-01"]
    partial = runner.invoke(main, ["--json", *base])
    assert partial.exit_code == 0 and json.loads(partial.output)["import"]["complete"] is False
    assert runner.invoke(main, [*base, "--complete"]).exit_code == 1
    complete = runner.invoke(main, ["--json", *base, "--complete", "--code-map", str(MAP_FILE)])
    assert complete.exit_code == 0 and json.loads(complete.output)["import"]["complete"] is True
    bad = tmp_path / "bad.csv"
    bad.write_text("code,ingredients,atc\n261551,274783,A10A\n")
    refused = runner.invoke(main, [*base, "--code-map", str(bad)])
    assert refused.exit_code == 2 and "CodeMapError" in refused.output and "line 2" in refused.output
    usage = runner.invoke(main, [*base, "--schema", "1", "--code-map", str(MAP_FILE)])
    assert usage.exit_code == 2 and "--code-map" in usage.output


def _condition(rid: str, *codings: tuple[str, str], display: str = "a condition") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "onsetDateTime": "2024-02-01",
            "code": {"coding": [{"system": s, "code": c, "display": display} for s, c in codings]}}


def test_a_snomed_only_cancer_no_longer_passes_no_cancer() -> None:
    """The attack: on main this export (its cancer coded in SNOMED CT only, as Synthea codes conditions) was a
    complete record that satisfied "no history of cancer"."""
    export = _export(_condition("nsclc", (SNOMED, NSCLC), display="Non-small cell lung cancer"))
    result = import_bundle(export, today=TODAY)
    assert not result.record.complete  # was complete
    note = str(result.summary.completeness_note)
    assert "Non-small cell lung cancer" in note and "no ICD-10-CM code known" in note and "--code-map" in note
    assert [(item.kind, item.codes) for item in result.summary.notes] == [("Condition", (f"snomed:{NSCLC}",))]
    for exclusion in ("not diagnosis in C00-C96", "not diagnosis in C34.*", "not diagnosis in E11"):
        assert not _holds(exclusion, result.record), exclusion  # a partial record proves no exclusion
    assert _holds(f"diagnosis in snomed:{NSCLC}", result.record)  # inclusions still hold
    with pytest.raises(UnmappedContentError, match="Non-small cell lung cancer"):
        import_bundle(export, today=TODAY, complete=True)
    # with the map's row the ICD-10-CM code is recorded beside the SNOMED CT one: complete, and the exclusion
    # fails because the patient has cancer
    mapped = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE), complete=True)
    record = mapped.record
    assert record.complete and mapped.summary.notes == []
    assert sorted((c.system, c.code) for c in record.conditions) == [("icd10cm", "C34.90"), ("snomed", NSCLC)]
    assert evaluate_program(compile_program("not diagnosis in C00-C96"), record, DAY).failing_clause == (
        "not diagnosis in C00-C96")
    assert _holds("diagnosis in C34.*", record) and _holds("not diagnosis in E11", record)
    assert mapped.summary.kinds["Condition"].mapped == 1


def test_a_condition_coded_in_icd10cm_needs_no_row_and_a_finding_may_have_none() -> None:
    both = _export(_condition("dm", (SNOMED, "44054006"), ("http://hl7.org/fhir/sid/icd-10-cm", "E11.9")))
    assert import_bundle(both, today=TODAY, complete=True).record.complete
    # a SNOMED CT finding with no ICD-10-CM code: the map says so ('none'), and the record is complete
    finding = _export(_condition("job", (SNOMED, "160903007"), display="Full-time employment"))
    assert not import_bundle(finding, today=TODAY).record.complete
    table = parse_code_map("code,icd10cm\nsnomed:160903007,none\n")
    record = import_bundle(finding, today=TODAY, code_map=table, complete=True).record
    assert [(c.system, c.code) for c in record.conditions] == [("snomed", "160903007")]
    assert _holds("not diagnosis in C00-C96", record) and _holds("diagnosis in snomed:160903007", record)
    # the well-known pair: type 2 diabetes mellitus -> E11.9
    dm = import_bundle(_export(_condition("dm", (SNOMED, "44054006"))), today=TODAY,
                       code_map=read_code_map(MAP_FILE)).record
    assert dm.complete and not _holds("not diagnosis in E11", dm)


def test_a_snomed_only_allergy_substance_no_longer_passes_no_penicillin_allergy() -> None:
    allergy = {"resourceType": "AllergyIntolerance", "id": "pen", "recordedDate": "2020-01-01",
               "code": {"coding": [{"system": SNOMED, "code": "764146007", "display": "Penicillin"}]}}
    export = _export(allergy)
    result = import_bundle(export, today=TODAY)
    assert not result.record.complete  # was complete, and passed "not allergy in atc:J01C"
    assert "SNOMED CT only: no ATC code or RxNorm ingredient known" in str(result.summary.completeness_note)
    assert not _holds("not allergy in atc:J01C", result.record)
    with pytest.raises(UnmappedContentError, match="'Penicillin' not classified"):
        import_bundle(export, today=TODAY, complete=True)
    record = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE), complete=True).record
    assert record.complete and not _holds("not allergy in atc:J01C", record)
    assert not _holds("not allergy in rxnorm:7984", record) and _holds("allergy in snomed:764146007", record)
    assert _holds("not allergy in atc:N02BA", record)
    # a food is no drug: the map's 'none' completes the record, and drug exclusions hold
    lactose = {**allergy, "code": {"coding": [{"system": SNOMED, "code": "47703008"}]}}
    assert not import_bundle(_export(lactose), today=TODAY).record.complete
    food = import_bundle(_export(lactose), today=TODAY, code_map=read_code_map(MAP_FILE), complete=True).record
    assert food.complete and _holds("not allergy in atc:J01C", food)


def test_snomed_only_procedures_and_vaccines() -> None:
    surgery = {"resourceType": "Procedure", "id": "appx", "status": "completed",
               "performedDateTime": "2023-05-01",
               "code": {"coding": [{"system": SNOMED, "code": "80146002", "display": "Appendectomy"}]}}
    vaccine = {"resourceType": "Immunization", "id": "flu", "status": "completed",
               "occurrenceDateTime": "2025-10-01", "vaccineCode": {"coding": [{"system": SNOMED, "code": "86198006"}]}}
    export = _export(surgery, vaccine)
    result = import_bundle(export, today=TODAY)
    assert not result.record.complete  # was complete, and passed "not procedure in pcs:0DTJ"
    assert sorted((item.kind, item.reason.split("(")[1].split(")")[0]) for item in result.summary.notes) == [
        ("Immunization", "no CVX code known"), ("Procedure", "no ICD-10-PCS code known")]
    assert not _holds("not procedure in pcs:0DTJ", result.record)
    assert not _holds("not immunization in cvx:140", result.record)
    record = import_bundle(export, today=TODAY, code_map=read_code_map(MAP_FILE), complete=True).record
    assert record.complete
    assert not _holds("not procedure in pcs:0DTJ", record) and _holds("not procedure in pcs:0D16", record)
    assert not _holds("not immunization in cvx:140", record) and _holds("immunization in snomed:86198006", record)


def test_the_issue_verb_takes_the_code_map_under_both_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from zkhealth.cli import main

    monkeypatch.setenv("ZKHEALTH_PASSPHRASE", "correct horse battery staple")
    runner = CliRunner()
    key = tmp_path / "hospital.key"
    assert runner.invoke(main, ["keygen", "--out", str(key), "--kdf", "interactive"]).exit_code == 0
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export(_condition("nsclc", (SNOMED, NSCLC)))))
    base = ["issue", "--fhir", str(export), "--key", str(key), "--holder-commitment", "7", "--out",
            str(tmp_path / "c.json"), "--issued-at", "2026-02-01"]
    partial = runner.invoke(main, ["--json", *base])
    assert partial.exit_code == 0 and json.loads(partial.output)["import"]["complete"] is False
    refused = runner.invoke(main, [*base, "--complete"])
    assert refused.exit_code == 1 and "UnmappedContentError" in refused.output
    for option in ("--code-map", "--rxnorm-map"):
        complete = runner.invoke(main, ["--json", *base, "--complete", option, str(MAP_FILE)])
        assert complete.exit_code == 0 and json.loads(complete.output)["import"]["complete"] is True, option
    bad = tmp_path / "bad.csv"
    bad.write_text("code,icd10cm\nsnomed:254637007,C34.99\n")
    refused = runner.invoke(main, [*base, "--code-map", str(bad)])
    assert refused.exit_code == 2 and "CodeMapError" in refused.output and "line 2" in refused.output


def test_a_mapped_snomed_cancer_keeps_its_histology() -> None:
    """A detail qualifies an ICD-10-CM code: with the map's code it is recorded (it was left out before)."""
    cancer = _condition("nsclc", (SNOMED, NSCLC))
    cancer["extension"] = [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-"
                                   "behavior", "valueCodeableConcept": {"coding": [{"system": SNOMED,
                                                                                    "code": "1187332001"}]}}]
    unmapped = import_bundle(_export(cancer), today=TODAY)
    assert not unmapped.record.complete and not unmapped.record.diagnosis_details
    record = import_bundle(_export(cancer), today=TODAY, code_map=read_code_map(MAP_FILE), complete=True).record
    assert [(d.code, d.diagnosis) for d in record.diagnosis_details] == [("1187332001", "C34.90")]
    assert _holds("histology in snomed:1187332001 of C34.*", record)


def test_each_admission_reason_is_classified_apart() -> None:
    """A stay for a myocardial infarction (ICD-10-CM) and a cancer (SNOMED CT only): its ICD-10-CM reason must not
    make the stay classified, or it would pass "not hospitalization in C00-C96"."""
    cancer = _condition("nsclc", (SNOMED, NSCLC))
    stay = {"resourceType": "Encounter", "id": "stay", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "period": {"start": "2025-09-01", "end": "2025-09-06"},
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I21.9"}]},
                           {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "U07.1"}]}],
            "reasonReference": [{"reference": "urn:x:1"}]}
    result = import_bundle(_export(cancer, stay), today=TODAY)
    assert not result.record.complete
    assert ("Encounter", (f"snomed:{NSCLC}",)) in [(item.kind, item.codes) for item in result.summary.notes]
    assert not _holds("not hospitalization in C00-C96", result.record)
    record = import_bundle(_export(cancer, stay), today=TODAY, code_map=read_code_map(MAP_FILE), complete=True).record
    assert sorted(e.code for e in record.encounters) == sorted(["C34.90", "I21.9", NSCLC, "U07.1"])
    assert not _holds("not hospitalization in C00-C96", record) and _holds("not hospitalization in I50.*", record)
