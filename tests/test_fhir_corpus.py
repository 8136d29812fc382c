"""The FHIR import corpus (tests/fhir/corpus, made by scripts/make_fhir_corpus.py from two generators in the
package registries): every living patient's bundle imports and issues under the default mode, and its
import summary accounts for every resource of the bundle; deceased patients are refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import lzma
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from zkhealth.credentials.code_map import read_code_map
from zkhealth.credentials.ehr_import import import_bundle
from zkhealth.errors import DeceasedPatientError

pytestmark = pytest.mark.native

CORPUS = Path(__file__).parent / "fhir" / "corpus"
TODAY = dt.date(2026, 12, 31)


@cache
def manifest() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
    return document


def _files() -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = manifest()["files"]
    return files


def load(item: dict[str, Any]) -> dict[str, Any]:
    data = lzma.decompress((CORPUS / item["file"]).read_bytes())
    assert hashlib.sha256(data).hexdigest() == item["sha256"]
    bundle: dict[str, Any] = json.loads(data)
    return bundle


def test_corpus_size_and_generators() -> None:
    big = [item for item in _files() if item["conditions"] >= 10 and item["observations"] >= 50
           and not item["file"].startswith("deceased/")]
    assert len(big) >= 40
    generators = {run["generator"]: run["version"] for run in manifest()["runs"]}
    assert len(generators) >= 2 and all(generators.values())


@pytest.mark.parametrize("item", _files(), ids=lambda item: item["file"])
def test_bundle_imports_and_the_summary_matches(item: dict[str, Any]) -> None:
    bundle = load(item)
    if item["file"].startswith("deceased/"):
        with pytest.raises(DeceasedPatientError):
            import_bundle(bundle, today=TODAY)
        return
    result = import_bundle(bundle, today=TODAY, where=item["file"])
    summary = result.summary
    resources = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert {kind: counts.total for kind, counts in summary.kinds.items()} == dict(resources)
    for counts in summary.kinds.values():
        assert counts.total == counts.kept + counts.mapped + counts.unmappable + counts.excluded + counts.not_imported
    assert len(summary.unmappable) == summary.unmappable_count
    assert len(summary.excluded) == sum(counts.excluded for counts in summary.kinds.values())
    # every clinical resource of a kind the record does not hold is listed; administrative ones are counted
    assert len(summary.by_design) <= sum(counts.not_imported for counts in summary.kinds.values())
    assert all(item.kind not in ("Condition", "AllergyIntolerance", "Immunization", "Procedure")
               for item in summary.by_design)
    imported = summary.kinds.get("Condition")
    if imported is not None:
        assert len(result.record.conditions) >= imported.kept + imported.mapped
    record = result.record
    assert summary.entries == {
        "conditions": len(record.conditions), "medications": len(record.medications),
        "procedures": len(record.procedures), "observations": len(record.observations),
        "allergies": len(record.allergies), "admissions": len(record.encounters),
        "immunizations": len(record.immunizations), "diagnosisDetails": len(record.diagnosis_details),
    }
    # the kinds mapped since issue 22 come in whole: every allergy, inpatient stay and immunization of the
    # bundle is recorded or listed (excluded, unmappable), none is only counted
    for kind, listed in (("AllergyIntolerance", "allergies"), ("Immunization", "immunizations")):
        counts = summary.kinds.get(kind)
        if counts is not None:
            assert counts.not_imported == 0 and counts.kept + counts.mapped <= summary.entries[listed]
    inpatient = [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Encounter"
                 and entry["resource"].get("class", {}).get("code") in ("IMP", "ACUTE", "NONAC")]
    assert (len(inpatient) == 0) is (summary.entries["admissions"] == 0)
    exported = summary.record_kind == "patient export"
    assert result.record.complete is (exported and summary.completeness_note is None)
    if item["file"].startswith("synthea-us/"):
        # --strict is usable on the generator's exports: immunizations, allergies and admissions are recorded,
        # devices and observations of codes outside the table are not imported by design. What may remain is
        # genuinely unreadable: a dipstick result written as a 0/1 quantity instead of a coded answer.
        assert {(listed.kind, listed.reason.split(":")[0]) for listed in summary.strict_refusals} <= {
            ("Observation", "loinc")}


@pytest.mark.slow
def test_every_living_patient_issues() -> None:
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.record_vc import verify_record_credential
    from zkhealth.hash.poseidon import poseidon

    hospital = Issuer.generate()
    living = [item for item in _files() if not item["file"].startswith("deceased/")]
    issued = 0
    for item in living:
        record = import_bundle(load(item), today=TODAY).record
        result = hospital.issue_record(record, subject_commitment=poseidon([12345]), issued_at=TODAY)
        verified = verify_record_credential(result.document, trusted_issuers=[hospital.public_key], today=TODAY)
        assert verified.record == record
        issued += 1
    assert issued == len(living)


def _item(name: str) -> dict[str, Any]:
    return next(item for item in _files() if item["file"] == name)


def test_criteria_over_imported_allergies_admissions_and_immunizations() -> None:
    """An allergy exclusion and hospitalization criteria, evaluated natively on imported corpus records."""
    from zkhealth.credentials.record import ADMISSION_REASON_UNKNOWN
    from zkhealth.eligibility.evaluate import evaluate_program
    from zkhealth.eligibility.program import compile_program

    def holds(criteria: str, record: Any, today: dt.date) -> bool:
        return evaluate_program(compile_program(criteria), record, today).eligible

    # A Synthea-style life: a penicillin allergy (RxNorm 7984) and one inpatient stay in 2013 whose reason the
    # export writes as free text. Her drugs are coded by clinical-drug RxCUIs only: without the issuer's
    # medication map their ATC classes are unknown, so the export is partial and no exclusion holds over it.
    bundle = load(_item("synthea-us/Coral_Stiedemann_5a682b02.json.xz"))
    coral = import_bundle(bundle, today=TODAY)
    assert not coral.record.complete
    assert any(": not known to be an ingredient" in item.reason for item in coral.summary.notes)
    # so are her conditions and procedures: Synthea codes them in SNOMED CT only, and without the issuer's code
    # map their ICD-10-CM / ICD-10-PCS codes are unknown ("not diagnosis in C00-C96" would not see a cancer)
    assert any(item.kind == "Condition" and "no ICD-10-CM code known" in item.reason for item in coral.summary.notes)
    assert any(item.kind == "Procedure" and "no ICD-10-PCS code known" in item.reason for item in coral.summary.notes)
    assert not holds("not allergy in {rxnorm:29046, rxnorm:1998}", coral.record, dt.date(2026, 1, 15))
    # Her record without those drugs, conditions and procedures, with the tests' map (penicillin V: ingredient
    # 7984, ATC J01CE02): complete.
    bundle["entry"] = [entry for entry in bundle["entry"]
                       if not entry["resource"]["resourceType"].startswith(("Medication", "Condition", "Procedure"))]
    coral = import_bundle(bundle, today=TODAY, code_map=read_code_map(CORPUS.parent / "code_map.csv"))
    record, day = coral.record, dt.date(2026, 1, 15)
    assert record.complete and sorted((a.system, a.code) for a in record.allergies) == [
        ("atc", "J01CE02"), ("rxnorm", "7984")]
    assert not holds("not allergy in atc:J01C", record, day)  # the class of the penicillins sees it too
    assert [(e.code, e.admitted.year) for e in record.encounters] == [(ADMISSION_REASON_UNKNOWN, 2013)]
    assert record.immunizations and all(i.system == "cvx" for i in record.immunizations)
    assert not holds("not allergy in rxnorm:7984", record, day)  # the penicillin allergy excludes
    assert holds("not allergy in {rxnorm:29046, rxnorm:1998}", record, day)  # no ACE-inhibitor allergy
    assert holds("allergy in rxnorm:7984", record, day)
    assert holds("not hospitalization in I50.* within 5 years", record, day)  # the 2013 stay is older
    assert not holds("not hospitalization in I50.*", record, day)  # ever: its reason is unknown, so no proof
    assert not holds("hospitalization in I50.*", record, day)
    # A hospital stay coded in ICD-10-CM (a heart-failure exacerbation), and a complete pneumonia stay.
    hf = import_bundle(load(_item("clinosim-us/clinosim-heart_failure_exacerbation-pt-878c3cba2da8.json.xz")),
                       today=TODAY).record
    assert holds("hospitalization in I50.* within 12 months", hf, dt.date(2024, 7, 1))
    assert not holds("hospitalization in I50.* within 12 months", hf, dt.date(2025, 9, 1))
    # (its drugs are RxNorm-coded and its oxygen therapy SNOMED CT-coded, with no map: partial; without them,
    # the export is complete)
    stay = load(_item("clinosim-us/clinosim-bacterial_pneumonia-pt-878c3cba2da8.json.xz"))
    assert not import_bundle(stay, today=TODAY).record.complete
    stay["entry"] = [entry for entry in stay["entry"]
                     if not entry["resource"]["resourceType"].startswith(("Medication", "Procedure"))]
    pneumonia = import_bundle(stay, today=TODAY).record
    assert pneumonia.complete
    assert holds("not hospitalization in I50.* within 12 months", pneumonia, dt.date(2024, 7, 1))
    assert not holds("not hospitalization in J18.* within 12 months", pneumonia, dt.date(2024, 7, 1))
