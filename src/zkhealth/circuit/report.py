"""Per-gadget constraint report: how many constraints each scope path created, before and after linear
elimination. Counts are cumulative: ``eligibility/age`` includes ``eligibility/age/less_eq``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeCount:
    """Constraints created under one scope path."""

    path: str
    before: int
    after: int


@dataclass(frozen=True)
class ConstraintReport:
    """Constraint counts per scope path, sorted by path."""

    rows: tuple[ScopeCount, ...]

    @classmethod
    def from_labels(cls, labels_before: Sequence[str], labels_after: Sequence[str]) -> ConstraintReport:
        """Build the cumulative report from the label of every original and every final constraint."""
        before: dict[str, int] = {}
        after: dict[str, int] = {}
        for counts, labels in ((before, labels_before), (after, labels_after)):
            per_label: dict[str, int] = {}
            for label in labels:
                per_label[label] = per_label.get(label, 0) + 1
            for label, n in per_label.items():
                parts = label.split("/")
                for depth in range(1, len(parts) + 1):
                    prefix = "/".join(parts[:depth])
                    counts[prefix] = counts.get(prefix, 0) + n
        paths = sorted(set(before) | set(after))
        return cls(tuple(ScopeCount(p, before.get(p, 0), after.get(p, 0)) for p in paths))

    def count(self, path: str) -> int:
        """Constraints under ``path`` in the final R1CS (0 for an unknown path)."""
        for row in self.rows:
            if row.path == path:
                return row.after
        return 0

    def format(self, max_depth: int | None = None) -> str:
        """A plain-text table, indented by depth."""
        lines = [f"{'scope':<60} {'before':>9} {'after':>9}"]
        for row in self.rows:
            depth = row.path.count("/")
            if max_depth is not None and depth >= max_depth:
                continue
            name = "  " * depth + row.path.rsplit("/", 1)[-1]
            lines.append(f"{name:<60} {row.before:>9} {row.after:>9}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
