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
    imported = summary.kinds.get("Condition")
    if imported is not None:
        assert len(result.record.conditions) >= imported.kept + imported.mapped
    assert summary.entries == {
        "conditions": len(result.record.conditions),
        "medications": len(result.record.medications),
        "procedures": len(result.record.procedures),
        "observations": len(result.record.observations),
    }
    exported = summary.record_kind == "patient export"
    assert result.record.complete is (exported and summary.completeness_note is None)


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
