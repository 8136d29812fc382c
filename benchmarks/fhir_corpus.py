"""Import and issue every bundle of the FHIR corpus (tests/fhir/corpus); print what was issued, what was left
unmapped (by kind and reason) and how long it took.

    python benchmarks/fhir_corpus.py            # import + issue (sets, both signatures) every bundle
    python benchmarks/fhir_corpus.py --no-issue # import only

Times are wall-clock per bundle around the whole step (reading and decompressing excluded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import lzma
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from zkhealth.credentials.ehr_import import import_bundle  # noqa: E402
from zkhealth.credentials.issuer import Issuer  # noqa: E402
from zkhealth.errors import ZkHealthError  # noqa: E402

CORPUS = ROOT / "tests" / "fhir" / "corpus"
TODAY = dt.date(2026, 12, 31)


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


_CODE_PREFIX = re.compile(r"^[a-z0-9-]+:\S+: ")


def _reason_group(reason: str) -> str:
    """A listed reason without the code it names and its details (after ": " or "; "), to group like ones;
    URLs (``code system http://...``) stay whole."""
    return _CODE_PREFIX.sub("", reason).split("; ")[0].split(": ")[0][:100]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-issue", action="store_true", help="import only")
    args = parser.parse_args()
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    hospital = Issuer.generate()
    import_times: list[float] = []
    issue_times: list[float] = []
    unmapped_kinds: Counter[str] = Counter()
    unmapped_reasons: Counter[tuple[str, str]] = Counter()
    by_design: Counter[tuple[str, str]] = Counter()
    partly: Counter[tuple[str, str]] = Counter()
    notes: Counter[str] = Counter()
    observations = [0, 0]  # recorded, total
    strict_ok = 0
    per_generator: Counter[str] = Counter()
    issued_per_generator: Counter[str] = Counter()
    refused: list[str] = []
    entries: Counter[str] = Counter()
    completeness: Counter[str] = Counter()
    resources = 0
    for item in manifest["files"]:
        bundle = json.loads(lzma.decompress((CORPUS / item["file"]).read_bytes()))
        generator = item["file"].split("/")[0]
        per_generator[generator] += 1
        resources += len(bundle["entry"])
        started = time.perf_counter()
        try:
            result = import_bundle(bundle, today=TODAY, where=item["file"])
        except ZkHealthError as error:
            refused.append(f"{item['file']}: {type(error).__name__}")
            continue
        import_times.append(time.perf_counter() - started)
        summary = result.summary
        for listed in summary.unmappable:
            unmapped_kinds[listed.kind] += 1
            unmapped_reasons[(listed.kind, _reason_group(listed.reason))] += 1
        by_design.update((listed.kind, listed.reason) for listed in summary.by_design)
        partly.update((listed.kind, _reason_group(listed.reason)) for listed in summary.partly)
        notes.update(_reason_group(listed.reason).split(" (")[0] for listed in summary.notes)
        counts = summary.kinds.get("Observation")
        if counts is not None:
            observations[0] += counts.kept + counts.mapped
            observations[1] += counts.total
        strict_ok += not summary.strict_refusals
        entries.update(result.summary.entries)
        completeness["complete export" if result.record.complete else
                     "export downgraded to partial" if result.summary.completeness_note else
                     result.summary.record_kind + " (partial)"] += 1
        if not args.no_issue:
            started = time.perf_counter()
            hospital.issue_record(result.record, subject_commitment=12345, issued_at=TODAY)
            issue_times.append(time.perf_counter() - started)
        issued_per_generator[generator] += 1
    living = sum(count for name, count in per_generator.items() if name != "deceased")
    issued = sum(issued_per_generator.values())
    print(f"corpus: {sum(per_generator.values())} bundles, {resources} resources; by folder: {dict(per_generator)}")
    print(f"issued: {issued} of {living} living patients' bundles ({100 * issued / max(living, 1):.1f} %); "
          f"refused: {len(refused)} ({', '.join(refused)})")
    print(f"entries recorded: {dict(entries)}")
    print(f"records: {dict(completeness)}")
    print(f"observations recorded: {observations[0]} of {observations[1]} "
          f"({100 * observations[0] / max(observations[1], 1):.1f} %)")
    print(f"--strict accepts {strict_ok} of {issued} issued bundles")
    print(f"import: {_spread(import_times)}")
    if issue_times:
        print(f"issue (sets + signatures): {_spread(issue_times)}")
    print("unmappable, by kind: " + ", ".join(f"{kind} {count}" for kind, count in unmapped_kinds.most_common()))
    for (kind, reason), count in unmapped_reasons.most_common(15):
        print(f"  {count:>6} x {kind}: {reason}")
    print("partly recorded: " + (", ".join(f"{kind} {reason} {count}" for (kind, reason), count in
                                         partly.most_common()) or "none"))
    print("not imported by design: " + ", ".join(f"{kind} {count}" for (kind, _), count in by_design.most_common()))
    print("notes: " + (", ".join(f"{reason} {count}" for reason, count in notes.most_common()) or "none"))


if __name__ == "__main__":
    main()
