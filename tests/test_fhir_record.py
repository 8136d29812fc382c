"""FHIR R4 bundles into version-2 records (zkhealth.credentials.fhir_record)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from zkhealth.credentials.code_map import read_code_map
from zkhealth.credentials.fhir_record import record_from_bundle
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import compile_program
from zkhealth.errors import FhirImportError

pytestmark = pytest.mark.native

FHIR = Path(__file__).resolve().parent / "fhir"
DEMO = Path(__file__).resolve().parent.parent / "src" / "zkhealth" / "data" / "demo"


def bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FHIR / "t2d_record.json").read_text())
    return data


def test_whole_record_import() -> None:
    # the insulin is coded by ATC only: its RxNorm ingredient comes from the issuer's medication map
    with pytest.raises(FhirImportError, match="no known RxNorm ingredient"):
        record_from_bundle(bundle(), complete=True)
    result = record_from_bundle(bundle(), complete=True, code_map=read_code_map(FHIR / "code_map.csv"))
    record = result.record
    assert record.complete and not result.skipped
    assert {(c.system, c.code) for c in record.conditions} == {("icd10cm", "E11.9"), ("snomed", "44054006"),
                                                               ("icd10cm", "K85.90")}  # the refuted E10.9 is left out
    assert {(m.system, m.code, m.status) for m in record.medications} == {
        ("atc", "A10BA02", "active"), ("rxnorm", "6809", "active"), ("atc", "A10AE04", "stopped"),
        ("rxnorm", "274783", "stopped")}
    assert {p.system for p in record.procedures} == {"icd10pcs", "snomed"}
    hba1c = [o for o in record.observations if o.code == "4548-4"]
    assert len(hba1c) == 2  # the alias 17856-6 is recorded under the canonical code
    egfr = next(o for o in record.observations if o.code == "33914-3")  # 62238-1 -> canonical
    assert str(egfr.value) == "72.5"
    assert any(o.code == "8480-6" for o in record.observations)  # a blood-pressure component
    assert next(o for o in record.observations if o.code == "72166-2").value == "former"
    program = compile_program("diagnosis in E11.* and medication in atc:A10BA02 for at least 3 months "
                              "and not diagnosis in E10.* and latest(hba1c) < 9")
    assert evaluate_program(program, record, record.record_as_of).eligible


def test_repository_bundles_import() -> None:
    for path in [*sorted(FHIR.glob("*.json")), *sorted(DEMO.glob("t2d_*.json"))]:
        result = record_from_bundle(path)
        assert result.record.birth_date.year > 1900


def test_complete_records_cannot_drop_what_they_cannot_encode() -> None:
    snomed_only = json.loads((FHIR / "unsupported_coding.json").read_text())
    assert record_from_bundle(snomed_only).record.conditions[0].system == "snomed"  # supported in version 2
    unsupported = bundle()
    unsupported["entry"][1]["resource"]["code"]["coding"] = [{"system": "http://example.org/local", "code": "DM2"}]
    partial = record_from_bundle(unsupported)
    assert partial.skipped and not partial.record.complete
    with pytest.raises(FhirImportError):
        record_from_bundle(unsupported, complete=True)
    in_ifcc_units = json.loads((FHIR / "unsupported_unit.json").read_text())  # HbA1c in mmol/mol: converted
    assert str(record_from_bundle(in_ifcc_units).record.observations[0].value) == "7.00"
    wrong_unit = copy.deepcopy(in_ifcc_units)
    wrong_unit["entry"][1]["resource"]["valueQuantity"].update(unit="mg/dL", code="mg/dL")  # not an HbA1c unit
    assert record_from_bundle(wrong_unit).skipped
    with pytest.raises(FhirImportError):
        record_from_bundle(wrong_unit, complete=True)


def test_dates_and_patients_are_checked() -> None:
    naive = bundle()
    naive["entry"][7]["resource"]["effectiveDateTime"] = "2026-01-20T08:00:00"  # a time without its zone
    assert record_from_bundle(naive).skipped  # listed, not guessed
    with pytest.raises(FhirImportError):
        record_from_bundle(naive, complete=True)
    two = bundle()
    two["entry"].append(copy.deepcopy(two["entry"][0]))
    with pytest.raises(FhirImportError):
        record_from_bundle(two)
    late = bundle()  # entries after as_of are outside the record: listed
    assert record_from_bundle(late, as_of=__import__("datetime").date(2025, 1, 1)).skipped


def test_issue_record_verb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from zkhealth.cli import main
    from zkhealth.credentials.record_vc import parse_record_document

    monkeypatch.setenv("ZKHEALTH_PASSPHRASE", "correct horse battery staple")
    runner = CliRunner()
    key = tmp_path / "hospital.key"
    assert runner.invoke(main, ["keygen", "--out", str(key), "--kdf", "interactive"]).exit_code == 0
    out = tmp_path / "record.json"
    args = ["issue", "--fhir", str(FHIR / "t2d_record.json"), "--key", str(key), "--holder-commitment", "12345",
            "--out", str(out), "--record", "--complete", "--issued-at", "2026-02-01"]
    unmapped = runner.invoke(main, ["--json", *args])  # the ATC-only insulin: its ingredient is not known
    assert unmapped.exit_code == 1 and "no known RxNorm ingredient" in unmapped.output
    args += ["--code-map", str(FHIR / "code_map.csv")]
    result = runner.invoke(main, ["--json", *args])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    summary = payload["import"]  # the import summary (ehr_import.py)
    assert payload["schema_version"] == 2 and summary["complete"] and summary["entries"]["medications"] == 4
    credential, _, _ = parse_record_document(out.read_text())
    assert credential.record.complete and credential.subject_commitment == 12345
    unsupported = bundle()
    unsupported["entry"][1]["resource"]["code"]["coding"] = [{"system": "http://example.org/local", "code": "X"}]
    source = tmp_path / "unsupported.json"
    source.write_text(json.dumps(unsupported))
    refused = runner.invoke(main, ["issue", "--fhir", str(source), "--key", str(key), "--holder-commitment", "1",
                                   "--out", str(tmp_path / "x.json"), "--record", "--complete",
                                   "--code-map", str(FHIR / "code_map.csv")])
    assert refused.exit_code == 1  # a complete record cannot leave a condition out
