"""`zkhealth issue` for whole records (schema 2): a FHIR export and a SMART Health Card go in, the import
summary comes out (text, and JSON under --json); --strict refuses a bundle with anything unmapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from interop_js import require_js, run_node
from test_shc import ISSUER, LAB_BUNDLE, NBF

from zkhealth.cli import EXIT_MALFORMED, EXIT_REFUSED, main

pytestmark = pytest.mark.native

FHIR = Path(__file__).parent / "fhir"
ENV = {"ZKHEALTH_PASSPHRASE": "correct horse battery staple"}


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, env=ENV, catch_exceptions=False)


@pytest.fixture(scope="module")
def issuer_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("issuer") / "issuer.key"
    assert invoke(["keygen", "--out", str(key), "--kdf", "interactive"]).exit_code == 0
    return key


def _issue(key: Path, out: Path, *source: str, json_output: bool = True) -> Result:
    return invoke([*(["--json"] if json_output else []), "issue", *source, "--key", str(key),
                   "--holder-commitment", "12345", "--out", str(out), "--issued-at", "2026-06-01"])


def test_issue_from_an_export_prints_the_summary(issuer_key: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    text = _issue(issuer_key, out, "--fhir", str(FHIR / "t2d_adult.json"), json_output=False)
    assert text.exit_code == 0, text.output
    assert "patient export" in text.output and "Condition" in text.output and "schema 2" in text.output
    result = _issue(issuer_key, out, "--fhir", str(FHIR / "t2d_adult.json"))
    payload = json.loads(result.output)
    summary = payload["import"]
    assert payload["schema_version"] == 2 and summary["complete"] is True
    assert summary["kinds"]["Condition"]["total"] == summary["entries"]["conditions"] == 2
    assert summary["kinds"]["Patient"] == {"total": 1, "kept": 1}
    document = json.loads(out.read_text())
    assert document["credentialSubject"]["record"]["conditions"][0]["code"] in ("E11.9", "I10")


def test_version_1_refusals_now_import(issuer_key: Path, tmp_path: Path) -> None:
    """The two bundles version 1 refused (SNOMED-only diagnosis, HbA1c in mmol/mol) issue under schema 2."""
    coding = json.loads(_issue(issuer_key, tmp_path / "a.json", "--fhir", str(FHIR / "unsupported_coding.json")).output)
    assert coding["import"]["kinds"]["Condition"] == {"total": 1, "kept": 1}
    unit = json.loads(_issue(issuer_key, tmp_path / "b.json", "--fhir", str(FHIR / "unsupported_unit.json")).output)
    assert unit["import"]["kinds"]["Observation"] == {"total": 1, "mapped": 1}
    assert unit["import"]["values"]["converted"] == 1


def test_strict_refuses_unmapped_content(issuer_key: Path, tmp_path: Path) -> None:
    bundle: dict[str, Any] = json.loads((FHIR / "t2d_adult.json").read_text())
    bundle["entry"].append({"resource": {
        "resourceType": "Procedure", "id": "cpt", "status": "completed", "performedDateTime": "2021-01-01",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "45378"}]}}})
    path = tmp_path / "with-cpt.json"
    path.write_text(json.dumps(bundle))
    out = tmp_path / "c.json"
    lenient = _issue(issuer_key, out, "--fhir", str(path))
    assert lenient.exit_code == 0
    assert json.loads(lenient.output)["import"]["unmappable"][0]["codes"] == ["cpt:45378"]
    out.unlink()
    strict = _issue(issuer_key, out, "--fhir", str(path), "--strict")
    assert strict.exit_code == EXIT_REFUSED
    assert "UnmappedContentError" in strict.stderr.strip().splitlines()[-1]
    refusal = json.loads(strict.stdout)  # one JSON document: the error object, with the summary that says why
    assert refusal["error"] == "UnmappedContentError" and refusal["exit"] == EXIT_REFUSED
    assert refusal["import"]["unmappable"][0]["codes"] == ["cpt:45378"]
    text = _issue(issuer_key, out, "--fhir", str(path), "--strict", json_output=False)
    assert text.exit_code == EXIT_REFUSED and "unmappable (1)" in text.stdout and "ama-assn.org/go/cpt" in text.stdout
    assert not out.exists()


def test_deceased_patient_is_refused(issuer_key: Path, tmp_path: Path) -> None:
    bundle: dict[str, Any] = json.loads((FHIR / "t2d_adult.json").read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["deceasedDateTime"] = "2025-03-01T10:00:00Z"
    path = tmp_path / "deceased.json"
    path.write_text(json.dumps(bundle))
    result = _issue(issuer_key, tmp_path / "c.json", "--fhir", str(path))
    assert result.exit_code == EXIT_REFUSED and "DeceasedPatientError" in result.stderr


@pytest.mark.external
def test_issue_from_a_smart_health_card(issuer_key: Path, tmp_path: Path) -> None:
    require_js("@pathcheck/shc-sdk")
    card = run_node("shc_make_card.cjs", {"iss": ISSUER, "nbf": NBF, "bundle": LAB_BUNDLE})
    trusted = tmp_path / "issuers"
    jwks = trusted / "clinic.example" / "shc" / ".well-known" / "jwks.json"
    jwks.parent.mkdir(parents=True)
    jwks.write_text(json.dumps(card["jwks"]))
    card_file = tmp_path / "lab.smart-health-card"
    card_file.write_text(json.dumps({"verifiableCredential": [card["jws"]]}))
    out = tmp_path / "c.json"
    result = _issue(issuer_key, out, "--shc", str(card_file), "--shc-trusted-issuers", str(trusted))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)["import"]
    assert summary["cardIssuer"] == ISSUER and summary["complete"] is False
    assert summary["entries"]["observations"] == 1
    assert summary["kinds"]["Immunization"] == {"total": 1, "kept": 1}
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = _issue(issuer_key, out, "--shc", str(card_file), "--shc-trusted-issuers", str(empty))
    assert refused.exit_code == EXIT_REFUSED and "UntrustedCardIssuerError" in refused.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],  # neither --fhir nor --shc
        ["--fhir", str(FHIR / "t2d_adult.json"), "--shc", str(FHIR / "t2d_adult.json")],
        ["--shc", str(FHIR / "t2d_adult.json")],  # no trusted issuers
        ["--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--strict"],
    ],
)
def test_usage_errors(issuer_key: Path, tmp_path: Path, args: list[str]) -> None:
    result = _issue(issuer_key, tmp_path / "c.json", *args)
    assert result.exit_code == EXIT_MALFORMED
