"""Checking a criteria file: what compiles, what needs judgement, and the tally of a trial's atomic criteria.

A criteria file holds comment lines (``#``) and the criteria text (every other line, joined). Comments with a
key are metadata (``# name: ...``, ``# nct: NCT03987919``, ``# source: ...``). Two kinds of comment carry the
transcription of a registered trial:

* ``# criterion: expressed | <registry text>``: an atomic criterion the criteria text checks soundly;
* ``# criterion: inexpressible | <registry text> -- <why>``: machine-checkable in principle, but not over
  schema version 2 (a score the observation table does not hold, a genomic result, a dose...);
* ``# criterion: judgement | <registry text>``: needs a person (investigator's opinion, consent, ability to
  comply, self-reported history): not machine-checkable;
* ``# judgement: <text>``: a free-form comment that needs judgement.

:func:`check_criteria_file` compiles the criteria (errors name the clause and column) and lists every
judgement item as not machine-checkable; :func:`tally` counts a directory of trials: atomic criteria,
machine-checkable ones, and how many of those the language expresses soundly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from zkhealth._fileio import read_bytes
from zkhealth.eligibility.analysis import CriteriaFinding, analyze_program
from zkhealth.eligibility.program import Policy, Program, compile_program
from zkhealth.errors import CriteriaSyntaxError

__all__ = ["CRITERION_KINDS", "CriteriaFileCheck", "Tally", "check_criteria_file", "tally"]

CRITERION_KINDS: Final[tuple[str, ...]] = ("expressed", "inexpressible", "judgement")
#: Largest criteria file read (comments included).
MAX_CRITERIA_FILE_BYTES: Final[int] = 1 << 20
_KEYED = re.compile(r"([A-Za-z][A-Za-z_ ]{0,30}?)\s*:\s*(.*)")


@dataclass(frozen=True)
class CriteriaFileCheck:
    """The result of checking one file: metadata, the criteria text and its program, the transcribed atomic
    criteria as ``(kind, text)``, and the items that need judgement (not machine-checkable)."""

    path: str
    metadata: dict[str, str]
    text: str
    program: Program
    criteria: tuple[tuple[str, str], ...]
    judgement: tuple[str, ...]

    @property
    def findings(self) -> list[CriteriaFinding]:
        """Parts of the criteria that no record can meet, or that every record meets
        (:func:`~zkhealth.eligibility.analysis.analyze_program`)."""
        return analyze_program(self.program)

    @property
    def counts(self) -> dict[str, int]:
        """Atomic criteria per kind."""
        return {kind: sum(1 for k, _ in self.criteria if k == kind) for kind in CRITERION_KINDS}

    def format(self) -> str:
        counts = self.counts
        lines = [f"{self.path}: {self.metadata.get('name', '')} ({self.metadata.get('nct', 'no NCT id')})",
                 f"  compiles: {len(self.program.atoms)} atoms",
                 f"  atomic criteria: {len(self.criteria)}; expressed {counts['expressed']}, not expressible over "
                 f"the record {counts['inexpressible']}, need judgement {counts['judgement']}"]
        if self.judgement:
            lines.append("  not machine-checkable (judgement):")
            lines.extend(f"    - {item}" for item in self.judgement)
        inexpressible = [text for kind, text in self.criteria if kind == "inexpressible"]
        if inexpressible:
            lines.append("  machine-checkable but not expressible over schema version 2:")
            lines.extend(f"    - {item}" for item in inexpressible)
        lines.extend(f"  warning: {finding.message}" for finding in self.findings)
        return "\n".join(lines)


def _parse(path: Path) -> tuple[dict[str, str], str, list[tuple[str, str]], list[str]]:
    metadata: dict[str, str] = {}
    lines: list[str] = []
    criteria: list[tuple[str, str]] = []
    judgement: list[str] = []
    key: str | None = None
    data = read_bytes(path, max_bytes=MAX_CRITERIA_FILE_BYTES, error=CriteriaSyntaxError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CriteriaSyntaxError(f"{path}: the criteria file is not UTF-8 text") from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            key = None
            if stripped:
                lines.append(stripped)
            continue
        comment = stripped[1:].strip()
        match = _KEYED.fullmatch(comment)
        if match is None:
            if key is not None and comment:
                if key == "criterion" and criteria:
                    kind, text = criteria[-1]
                    criteria[-1] = (kind, f"{text} {comment}")
                elif key == "judgement" and judgement:
                    judgement[-1] = f"{judgement[-1]} {comment}"
                elif key in metadata:
                    metadata[key] = f"{metadata[key]} {comment}"
            continue
        key = match.group(1).strip().lower().replace(" ", "_")
        value = match.group(2).strip()
        if key == "criterion":
            kind, _, text = value.partition("|")
            kind = kind.strip().lower()
            if kind not in CRITERION_KINDS or not text.strip():
                raise CriteriaSyntaxError(
                    f"{path}:{number}: write `# criterion: <{'|'.join(CRITERION_KINDS)}> | text`", column=1
                )
            criteria.append((kind, text.strip()))
            if kind == "judgement":
                judgement.append(text.strip())
        elif key == "judgement":
            judgement.append(value)
        else:
            metadata[key] = value
    return metadata, " ".join(lines), criteria, judgement


def check_criteria_file(path: str | os.PathLike[str], policy: Policy | None = None) -> CriteriaFileCheck:
    """Parse and compile a criteria file (module docstring). Raises
    :class:`~zkhealth.errors.CriteriaSyntaxError` naming the failing clause."""
    source = Path(path)
    metadata, text, criteria, judgement = _parse(source)
    if not text:
        raise CriteriaSyntaxError(f"{source}: no criteria text (every line is a comment)", column=1)
    program = compile_program(text, policy)
    return CriteriaFileCheck(str(source), metadata, text, program, tuple(criteria), tuple(judgement))


@dataclass
class Tally:
    """Counts over a set of trial files."""

    trials: list[CriteriaFileCheck] = field(default_factory=list)

    @property
    def atomic(self) -> int:
        return sum(len(t.criteria) for t in self.trials)

    @property
    def machine_checkable(self) -> int:
        return sum(t.counts["expressed"] + t.counts["inexpressible"] for t in self.trials)

    @property
    def expressed(self) -> int:
        return sum(t.counts["expressed"] for t in self.trials)

    def table(self) -> str:
        """A Markdown table: one row per trial, then the totals."""
        rows = ["| trial | NCT | atomic | machine-checkable | expressed soundly |", "|---|---|---|---|---|"]
        for t in self.trials:
            c = t.counts
            rows.append(f"| {Path(t.path).stem} | {t.metadata.get('nct', '')} | {len(t.criteria)} | "
                        f"{c['expressed'] + c['inexpressible']} | {c['expressed']} |")
        share = 100 * self.expressed / self.machine_checkable if self.machine_checkable else 0.0
        rows.append(f"| **total** | | **{self.atomic}** | **{self.machine_checkable}** | "
                    f"**{self.expressed} ({share:.0f}%)** |")
        return "\n".join(rows)


def tally(directory: str | os.PathLike[str]) -> Tally:
    """Check every ``*.txt`` trial file of a directory (sorted by name) and count."""
    return Tally([check_criteria_file(path) for path in sorted(Path(directory).glob("*.txt"))])
