"""Constraint-count snapshots: pin the size of gadgets and circuits, fail when a count drifts.

The table is a CSV file with the header ``gadget,params,constraints,description``; a row is keyed by
``(gadget, params)``. A snapshot either checks counts against the file (default) or, in update mode, records
them and rewrites the file (``pytest --update-constraint-counts`` through the plugin).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from zkhealth.circuit import CompiledCircuit
from zkhealth.errors import ConstraintCountDriftError

HEADER = ("gadget", "params", "constraints", "description")


@dataclass
class CountRow:
    """One pinned count."""

    gadget: str
    params: str
    constraints: int
    description: str = ""


def load_counts(path: str | Path) -> dict[tuple[str, str], CountRow]:
    """Read a count table. Raises ``ValueError`` for a malformed file."""
    rows: dict[tuple[str, str], CountRow] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != HEADER:
            raise ValueError(f"{path}: header must be {','.join(HEADER)}")
        for line in reader:
            key = (line["gadget"], line["params"])
            if key in rows:
                raise ValueError(f"{path}: duplicate row {key}")
            count = line["constraints"]
            if not count.isdigit():
                raise ValueError(f"{path}: constraint count {count!r} for {key} is not a number")
            rows[key] = CountRow(line["gadget"], line["params"], int(count), line["description"] or "")
    return rows


def write_counts(path: str | Path, rows: dict[tuple[str, str], CountRow]) -> None:
    """Write a count table, sorted by gadget then params."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for key in sorted(rows):
            row = rows[key]
            writer.writerow([row.gadget, row.params, row.constraints, row.description])


def _count_of(measured: int | CompiledCircuit) -> int:
    if isinstance(measured, CompiledCircuit):
        return measured.r1cs.n_constraints
    if isinstance(measured, bool) or not isinstance(measured, int):
        raise TypeError("measured must be a constraint count or a CompiledCircuit")
    return measured


def assert_constraint_count(measured: int | CompiledCircuit, expected: int, *, name: str = "circuit") -> None:
    """Raise :class:`ConstraintCountDriftError` unless the count equals ``expected``."""
    count = _count_of(measured)
    if count != expected:
        raise ConstraintCountDriftError(
            f"{name}: {count} constraints, pinned {expected} ({count - expected:+d}); if the change is "
            "intended, update the pinned count"
        )


class ConstraintCountSnapshot:
    """Checks measured counts against a CSV table, or records them when ``update`` is true."""

    def __init__(self, path: str | Path, *, update: bool = False) -> None:
        self.path = Path(path)
        self.update = update
        self.rows = load_counts(self.path) if self.path.exists() else {}
        self._dirty = False

    def check(
        self, gadget: str, params: str, measured: int | CompiledCircuit, *, description: str = ""
    ) -> None:
        """Compare a count with the pinned row ``(gadget, params)``.

        Raises :class:`ConstraintCountDriftError` when it differs or when the row is missing (unless
        updating, which records it).
        """
        count = _count_of(measured)
        key = (gadget, params)
        row = self.rows.get(key)
        if self.update:
            if row is None or row.constraints != count or (description and row.description != description):
                self.rows[key] = CountRow(gadget, params, count, description or (row.description if row else ""))
                self._dirty = True
            return
        if row is None:
            raise ConstraintCountDriftError(
                f"{gadget}({params}): no pinned count in {self.path.name} (measured {count}); add the row"
            )
        assert_constraint_count(count, row.constraints, name=f"{gadget}({params})")

    def save(self) -> bool:
        """Write the table if updating changed it; returns whether it wrote."""
        if self.update and self._dirty:
            write_counts(self.path, self.rows)
            self._dirty = False
            return True
        return False
