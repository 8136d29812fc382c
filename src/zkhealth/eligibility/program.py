"""Criteria programs: criteria text compiled to atoms plus a monotone combination (schema version 2).

A **program** is data, not circuit structure: the dedicated circuit (:mod:`.dedicated`), the native evaluator
(:mod:`.evaluate`) and a universal circuit all read the same :class:`Program`.

* A **set atom** (:class:`SetAtom`) is proven with one leaf ``L`` of one of the record's sorted sets
  (conditions 0, medications 1, procedures 2, observations 3) and its Merkle path:
  ``in_range = key_lo <= L.key <= key_hi``, ``ends_range = (L.next_key == 0 or L.next_key > key_hi)``,
  ``below = L.key < key_lo``, ``phi`` = every bound on ``a`` (onset/start/date), ``b`` (end), ``value`` and
  ``status`` holds. Mode ``ANY`` = ``in_range and phi``; ``LAST`` = ``in_range and ends_range and phi`` (the
  last item of the range, i.e. the latest entry of a code, satisfies phi); ``NONE_OR_LAST`` =
  ``ends_range and (below or (in_range and phi))``; with phi false (``value`` in ``[1, 0]``) it is "no item
  in the range". ``after`` chains ANY atoms to distinct, increasing leaves ("at least K events").
  ``LAST`` and ``NONE_OR_LAST`` also require a complete, fresh record (``record_complete = 1`` and
  ``record_as_of >= today - policy.max_record_age_days``): enforced for every such atom, whatever the
  combination says, so a partial record can satisfy inclusions only.
* A **date bound** (:class:`DateBound`) is absolute (an ordinal, compared with ``*_ord``), ``today_ord -
  value`` (days, compared with ``*_ord``) or ``packed(today) - value`` (calendar months and years: ``value``
  is ``32 * months``, compared with ``*_packed``). Bounds are inclusive.
* A **header atom** (:class:`HeaderAtom`) bounds a header field: ``age`` (whole calendar years on today),
  ``gender``, ``research_consent``, ``record_complete``, ``birth_date`` and ``record_as_of`` (ordinals),
  ``record_age_days`` (``today - record_as_of``).
* The **combination** is a tree of threshold gates (:class:`Gate`: "at least t of these"; t = number of
  children is AND, t = 1 is OR) over atoms (:class:`Leaf`). It has no negation: the compiler pushes every
  ``not`` down to the clauses (negation normal form) and replaces a negated clause by the atoms that prove
  its negation positively. So every atom is a fact the prover demonstrates, and a prover who fails to
  demonstrate one can only make the result false.

Negation, clause by clause (the **absent-data rule**: an absent value never satisfies a comparison, an
exclusion over an absent item is satisfied):

=====================================  ====================================================================
clause                                 its negation
=====================================  ====================================================================
``diagnosis in S`` (no window)         NONE over each code range of S (raw entries)
``diagnosis in S within W``            per class of S (ICD-10-CM nodes tiling S, named groups, ATC/PCS
                                       prefixes, single SNOMED/RxNorm codes): NONE_OR_LAST on the class's
                                       aggregate leaf with its latest onset (``a``) before W
``medication in S within W``           the same with the latest end (``b``; ongoing = MAX_DATE) before W
``active ...``                         aggregate's smallest status above the active statuses
``hospitalization in S ...``           as above, over S and over the admissions of unknown reason (an
                                       admission the source gave no coded reason for may have been for S)
``hba1c >= 7`` (latest value)          NONE_OR_LAST with ``value < 7`` (absent HbA1c: satisfied)
``latest(x) in V within W``            OR of NONE_OR_LAST atoms, one per negated bound
header comparisons                     the complementary intervals
``at least k of (n clauses)``          at least n - k + 1 of their negations
``count(S) >= k``                      ``count(S) <= k - 1``: per class of S, NONE_OR_LAST on its aggregate
                                       with ``value`` (its number of entries) bounded; every date counts, so
                                       a window is read strictly (or the class's latest date before it)
=====================================  ====================================================================

What cannot be said soundly over the record is refused with :class:`CriteriaNotExpressibleError` naming the
clause: "no value of X ever above v" (no per-code maximum is recorded), "at most k" admissions or observation
values, a negated window that bounds two different fields, "no diagnosis before D" over a class of codes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from zkhealth.credentials import codes
from zkhealth.credentials.record import (
    ADMISSION_REASON_UNKNOWN,
    KIND_TAGS,
    SET_TAGS,
    SETS,
    describe_code,
    icd10_group_table,
)
from zkhealth.credentials.schema import GENDERS
from zkhealth.credentials.sorted_set import MAX_DATE, VALUE_BITS, key_range, make_key, split_key
from zkhealth.eligibility.criteria import (
    And,
    AtLeast,
    Between,
    CodePattern,
    Compare,
    Count,
    DiagnosedWithin,
    DoseBound,
    InSet,
    Measured,
    Node,
    Not,
    Or,
    Value,
    Window,
    parse_criteria,
)
from zkhealth.errors import (
    ArgumentTypeError,
    CodeSystemError,
    CriteriaNotExpressibleError,
    CriteriaSyntaxError,
    EligibilityError,
    EncodingError,
)

__all__ = [
    "ANY",
    "DATE_ABSOLUTE",
    "DATE_TODAY_ORD",
    "DATE_TODAY_PACKED",
    "HEADER_ATOM_FIELDS",
    "LAST",
    "NONE_OR_LAST",
    "Atom",
    "DateBound",
    "Formula",
    "Gate",
    "HeaderAtom",
    "Leaf",
    "Policy",
    "Program",
    "SetAtom",
    "compile_program",
    "leaf_owners",
    "merge_none_atoms",
]

ANY: Final[int] = 0
LAST: Final[int] = 1
NONE_OR_LAST: Final[int] = 2
MODE_NAMES: Final[tuple[str, ...]] = ("ANY", "LAST", "NONE_OR_LAST")

DATE_ABSOLUTE: Final[int] = 1
DATE_TODAY_ORD: Final[int] = 2
DATE_TODAY_PACKED: Final[int] = 3

#: Header fields a header atom may bound, with their domains (inclusive).
HEADER_ATOM_FIELDS: Final[dict[str, tuple[int, int]]] = {
    "age": (0, 200),
    "gender": (1, len(GENDERS)),
    "research_consent": (0, 1),
    "record_complete": (0, 1),
    "birth_date": (1, MAX_DATE - 1),
    "record_as_of": (1, MAX_DATE - 1),
    "record_age_days": (0, 100_000),
}
#: Largest ``k`` of ``count(...) >= k`` (each item is one more path in the circuit).
MAX_COUNT: Final[int] = 8
#: Most atoms one clause may expand to (a negated window over a class that tiles into many nodes).
MAX_ATOMS_PER_CLAUSE: Final[int] = 8
#: Default largest age of a record, in days, for LAST and NONE_OR_LAST atoms (a trial setting).
DEFAULT_MAX_RECORD_AGE_DAYS: Final[int] = 365
_VALUE_MAX: Final[int] = (1 << VALUE_BITS) - 1
_STATUS_MAX: Final[int] = 15
_CONSENT: Final[dict[str, int]] = {"true": 1, "yes": 1, "false": 0, "no": 0}
#: Criteria field -> the entry kind it names (record.KIND_TAGS: its set and tags).
_KIND_OF_FIELD: Final[dict[str, str]] = {
    "diagnosis": "diagnosis", "medication": "medication", "procedure": "procedure", "allergy": "allergy",
    "hospitalization": "hospitalization", "hospitalisation": "hospitalization", "histology": "diagnosis_detail",
    "cancer_stage": "diagnosis_detail", "immunization": "immunization",
}
#: Status ranges of ``active`` per kind (conditions: confirmed active, recurrence, relapse; allergies: confirmed
#: active).
_ACTIVE_STATUS: Final[dict[str, tuple[int, int]]] = {"diagnosis": codes.CONDITION_ACTIVE, "medication": (1, 1),
                                                     "allergy": (1, 1)}
#: Kinds whose `within` window is on the end date ``b`` (taken, or in hospital, during the window).
_SPAN_KINDS: Final[frozenset[str]] = frozenset({"medication", "hospitalization"})
_MIN_STATUS: Final[int] = 1
#: Code systems a complete record need not hold for every entry of a kind: the importer records a SNOMED CT code
#: only where the source gave one, and completes an entry in the systems criteria exclude by (ICD-10-CM,
#: ICD-10-PCS, CVX, ATC and RxNorm ingredients), so an entry coded only in ICD-10-CM has no SNOMED CT key. An
#: exclusion or an upper bound on a count by such a system could never see it: refused (inclusions may name them).
_INCOMPLETE_SYSTEMS: Final[dict[str, frozenset[str]]] = {
    kind: frozenset({"snomed"}) for kind in ("diagnosis", "allergy", "procedure", "hospitalization", "immunization")
}

Interval = tuple[int, int]


# --------------------------------------------------------------------------- the program's data


@dataclass(frozen=True, order=True)
class DateBound:
    """A date bound: ``kind`` :data:`DATE_ABSOLUTE` (``value`` is an ordinal), :data:`DATE_TODAY_ORD`
    (``today_ord - value``) or :data:`DATE_TODAY_PACKED` (``packed(today) - value``, compared with the
    ``*_packed`` field)."""

    kind: int
    value: int

    def __post_init__(self) -> None:
        if self.kind not in (DATE_ABSOLUTE, DATE_TODAY_ORD, DATE_TODAY_PACKED):
            raise EligibilityError(f"unknown date bound kind {self.kind!r}")
        if not -MAX_DATE < self.value < MAX_DATE:
            raise EligibilityError("date bound value out of range")

    @property
    def packed(self) -> bool:
        """Whether the bound compares the packed date form."""
        return self.kind == DATE_TODAY_PACKED

    def resolve(self, today_ord: int, today_packed: int) -> int:
        """The bound's value on a given day (an ordinal, or a packed date)."""
        if self.kind == DATE_ABSOLUTE:
            return self.value
        return (today_ord if self.kind == DATE_TODAY_ORD else today_packed) - self.value

    def shifted(self, delta: int) -> DateBound:
        """The bound moved ``delta`` days (ordinal kinds) or packed units later."""
        return DateBound(self.kind, self.value + delta if self.kind == DATE_ABSOLUTE else self.value - delta)

    def describe(self) -> str:
        if self.kind == DATE_ABSOLUTE:
            return _dt.date.fromordinal(self.value).isoformat()
        if self.kind == DATE_TODAY_ORD:
            return f"today - {self.value} d"
        months, rest = divmod(self.value, 32)
        return f"packed(today) - {months} mo" + (f" - {rest}" if rest else "")


@dataclass(frozen=True)
class SetAtom:
    """A set atom (module docstring). Open bounds are ``None``; ``value`` in ``[1, 0]`` is phi = false."""

    set: int
    mode: int
    key_lo: int
    key_hi: int
    a_lo: DateBound | None = None
    a_hi: DateBound | None = None
    b_lo: DateBound | None = None
    b_hi: DateBound | None = None
    value_lo: int | None = None
    value_hi: int | None = None
    status_lo: int | None = None
    status_hi: int | None = None
    after: int | None = None

    def __post_init__(self) -> None:
        if self.set not in range(len(SETS)) or self.mode not in (ANY, LAST, NONE_OR_LAST):
            raise EligibilityError("set atom: unknown set or mode")
        if not 1 <= self.key_lo <= self.key_hi:
            raise EligibilityError("set atom: empty or invalid key range")
        if self.after is not None and self.mode != ANY:
            raise EligibilityError("set atom: only ANY atoms chain with `after`")

    @property
    def set_name(self) -> str:
        return SETS[self.set]

    @property
    def phi_false(self) -> bool:
        """Whether phi can never hold (an empty bound)."""
        return any(lo is not None and hi is not None and lo > hi
                   for lo, hi in ((self.value_lo, self.value_hi), (self.status_lo, self.status_hi)))

    @property
    def needs_complete_record(self) -> bool:
        return self.mode != ANY

    def bounds(self, today_ord: int, today_packed: int) -> list[tuple[str, int | None, int | None]]:
        """The bounds as ``(leaf field, lo, hi)`` on a given day (the native twin's input)."""
        out: list[tuple[str, int | None, int | None]] = []
        for name, lo, hi in (("a", self.a_lo, self.a_hi), ("b", self.b_lo, self.b_hi)):
            for bound, is_lo in ((lo, True), (hi, False)):
                if bound is None:
                    continue
                suffix = "_packed" if bound.packed else "_ord"
                value = bound.resolve(today_ord, today_packed)
                out.append((name + suffix, value, None) if is_lo else (name + suffix, None, value))
        if self.value_lo is not None or self.value_hi is not None:
            out.append(("value", self.value_lo, self.value_hi))
        if self.status_lo is not None or self.status_hi is not None:
            out.append(("status", self.status_lo, self.status_hi))
        return out

    def describe(self) -> str:
        keys = _describe_key_range(self.set_name, self.key_lo, self.key_hi)
        parts = [f"{MODE_NAMES[self.mode]} {self.set_name}[{keys}]"]
        for name, lo, hi in (("a", self.a_lo, self.a_hi), ("b", self.b_lo, self.b_hi)):
            if lo is not None:
                parts.append(f"{name} >= {lo.describe()}")
            if hi is not None:
                parts.append(f"{name} <= {hi.describe()}")
        if self.phi_false:
            parts.append("phi = false")
        else:
            for name, lo_v, hi_v in (("value", self.value_lo, self.value_hi), ("status", self.status_lo,
                                                                                self.status_hi)):
                if lo_v is not None or hi_v is not None:
                    parts.append(f"{name} in [{'' if lo_v is None else lo_v}, {'' if hi_v is None else hi_v}]")
        if self.after is not None:
            parts.append(f"after atom {self.after}")
        return " ".join(parts)


@dataclass(frozen=True)
class HeaderAtom:
    """``lo <= field <= hi`` on a header field of :data:`HEADER_ATOM_FIELDS` (``None``: open side)."""

    field: str
    lo: int | None = None
    hi: int | None = None

    def __post_init__(self) -> None:
        if self.field not in HEADER_ATOM_FIELDS:
            raise EligibilityError(f"unknown header atom field {self.field!r}")

    @property
    def needs_complete_record(self) -> bool:
        return False

    def describe(self) -> str:
        return f"{self.field} in [{'' if self.lo is None else self.lo}, {'' if self.hi is None else self.hi}]"


Atom = SetAtom | HeaderAtom


@dataclass(frozen=True)
class Leaf:
    """An atom reference in the combination; ``label`` is the clause to blame when it fails."""

    atom: int
    label: str = field(default="", compare=False)


@dataclass(frozen=True)
class Gate:
    """At least ``threshold`` of ``children`` hold (AND when it equals their number, OR when 1)."""

    threshold: int
    children: tuple[Leaf | Gate, ...]
    label: str = field(default="", compare=False)

    @property
    def is_and(self) -> bool:
        return self.threshold == len(self.children)


Formula = Leaf | Gate


@dataclass(frozen=True)
class Policy:
    """Trial settings the program carries: the largest record age for LAST / NONE_OR_LAST atoms (days), and
    one enrollment per person (the person registry, with registrations strictly before ``opened_day``)."""

    max_record_age_days: int = DEFAULT_MAX_RECORD_AGE_DAYS
    one_per_person: bool = False
    opened_day: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_record_age_days, bool) or not 0 <= self.max_record_age_days <= 100_000:
            raise EligibilityError("max_record_age_days must be an int in [0, 100000]")
        if self.one_per_person and (self.opened_day is None or not 0 < self.opened_day < 1 << 32):
            raise EligibilityError("a one-per-person trial needs its opening day (an epoch day)")
        if not self.one_per_person and self.opened_day is not None:
            raise EligibilityError("opened_day is only used by one-per-person trials")


@dataclass(frozen=True)
class Program:
    """Compiled criteria: ``atoms``, the combination ``root`` (a gate), the ``policy`` and the source text."""

    atoms: tuple[Atom, ...]
    root: Gate
    policy: Policy = Policy()
    text: str = field(default="", compare=False)

    @property
    def needs_complete_record(self) -> bool:
        """Whether some atom needs a complete record."""
        return any(atom.needs_complete_record for atom in self.atoms)

    def flat_clauses(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """The combination as an AND of clauses ``(t, atoms)``, "at least t of these atoms" (t = 1 is OR),
        when it has that shape (what a universal circuit with fixed clause slots encodes). A deeper combination
        (a clause whose parts are themselves combinations) raises :class:`EligibilityError`: it needs the
        dedicated circuit, which compiles the tree as it is."""
        root = self.root
        if root.is_and:
            parts: tuple[Leaf | Gate, ...] = root.children
        else:
            parts = (root,)
        out: list[tuple[int, tuple[int, ...]]] = []
        for part in parts:
            if isinstance(part, Leaf):
                out.append((1, (part.atom,)))
            elif all(isinstance(child, Leaf) for child in part.children):
                out.append((part.threshold, tuple(child.atom for child in part.children
                                                  if isinstance(child, Leaf))))
            else:
                raise EligibilityError(f"`{part.label}` nests combinations: not an AND of threshold clauses")
        return tuple(out)

    def encode(self) -> list[int]:
        """A canonical integer encoding of the program (atoms, combination, policy; labels excluded)."""
        out: list[int] = [len(self.atoms)]
        header_fields = list(HEADER_ATOM_FIELDS)
        for atom in self.atoms:
            if isinstance(atom, HeaderAtom):
                out += [0, header_fields.index(atom.field), *_opt(atom.lo), *_opt(atom.hi)]
                continue
            out += [1, atom.set, atom.mode, atom.key_lo, atom.key_hi]
            for bound in (atom.a_lo, atom.a_hi, atom.b_lo, atom.b_hi):
                out += [0, 0] if bound is None else [bound.kind, bound.value % (1 << 64)]
            for value in (atom.value_lo, atom.value_hi, atom.status_lo, atom.status_hi, atom.after):
                out += _opt(value)

        def gate(node: Formula) -> None:
            if isinstance(node, Leaf):
                out.extend([0, node.atom])
                return
            out.extend([1, node.threshold, len(node.children)])
            for child in node.children:
                gate(child)

        gate(self.root)
        policy = self.policy
        out += [policy.max_record_age_days, int(policy.one_per_person), *_opt(policy.opened_day)]
        return out

    def sha256(self) -> str:
        """sha256 of :meth:`encode` (decimal, comma-separated): pins the program in key manifests."""
        return hashlib.sha256(",".join(map(str, self.encode())).encode("ascii")).hexdigest()

    def describe(self) -> str:
        """A readable listing: the atoms, then the combination."""
        lines = [f"atom {i}: {atom.describe()}" for i, atom in enumerate(self.atoms)]

        def show(node: Formula, depth: int) -> None:
            pad = "  " * depth
            if isinstance(node, Leaf):
                lines.append(f"{pad}atom {node.atom}  ({node.label})")
                return
            kind = "AND" if node.is_and else ("OR" if node.threshold == 1 else f"AT LEAST {node.threshold} OF")
            lines.append(f"{pad}{kind}" + (f"  ({node.label})" if node.label else ""))
            for child in node.children:
                show(child, depth + 1)

        show(self.root, 0)
        lines.append(f"policy: record at most {self.policy.max_record_age_days} days old for LAST/NONE atoms; "
                     + (f"one per person (registered before day {self.policy.opened_day})"
                        if self.policy.one_per_person else "no person registry"))
        return "\n".join(lines)


def leaf_owners(program: Program) -> tuple[int | None, ...]:
    """For each atom, the atom whose leaf it opens (``None`` for header atoms).

    A set atom opens its own leaf, except in one case: ``ANY`` atoms that are children of the same OR gate
    (threshold 1), read the same set, are used once in the combination and take no part in an ``after`` chain
    share one leaf, owned by the first of them. "Some leaf satisfies phi1, or some leaf satisfies phi2" is
    "some leaf satisfies phi1 or phi2", so one membership path proves the OR: the prover opens a leaf that
    satisfies one of them when one exists (about 2,200 constraints saved per extra atom). The dedicated
    circuit, the witness and the native twin all read this map; it is a function of the program, so the
    program's encoding does not change."""
    owners: list[int | None] = [None if isinstance(atom, HeaderAtom) else i for i, atom in enumerate(program.atoms)]
    uses: dict[int, int] = {}
    chained = {atom.after for atom in program.atoms if isinstance(atom, SetAtom) and atom.after is not None}

    def count(node: Formula) -> None:
        if isinstance(node, Leaf):
            uses[node.atom] = uses.get(node.atom, 0) + 1
            return
        for child in node.children:
            count(child)

    def shareable(index: int) -> bool:
        atom = program.atoms[index]
        return (isinstance(atom, SetAtom) and atom.mode == ANY and atom.after is None and index not in chained
                and uses.get(index) == 1)

    def walk(node: Formula) -> None:
        if isinstance(node, Leaf):
            return
        if node.threshold == 1 and len(node.children) > 1:
            first: dict[int, int] = {}
            for child in node.children:
                if isinstance(child, Leaf) and shareable(child.atom):
                    atom = program.atoms[child.atom]
                    if isinstance(atom, SetAtom):
                        owners[child.atom] = first.setdefault(atom.set, child.atom)
        for child in node.children:
            walk(child)

    count(program.root)
    walk(program.root)
    return tuple(owners)


def _opt(value: int | None) -> list[int]:
    return [0, 0] if value is None else [1, value % (1 << 64)]


def _describe_key_range(set_name: str, key_lo: int, key_hi: int) -> str:
    tag_lo, code_lo, _, _ = split_key(key_lo)
    tag_hi, code_hi, _, _ = split_key(key_hi)
    first = describe_code(set_name, tag_lo, code_lo)
    return first if (tag_lo, code_lo) == (tag_hi, code_hi) else f"{first} .. {describe_code(set_name, tag_hi, code_hi)}"


# --------------------------------------------------------------------------- helpers


def _fail(node: Node, message: str) -> CriteriaSyntaxError:
    return CriteriaSyntaxError(f"criterion `{node.text}`: {message}", column=node.column, text=node.text)


def _inexpressible(node: Node, message: str) -> CriteriaNotExpressibleError:
    return CriteriaNotExpressibleError(f"criterion `{node.text}`: {message}", column=node.column, text=node.text)


def _check_excludable(node: Node, kind: str, ranges: Sequence[tuple[str, Interval]]) -> None:
    """Refuse an exclusion (or an upper bound on a count) that names a code system a complete record does not
    hold for every entry of ``kind`` (:data:`_INCOMPLETE_SYSTEMS`): it would be satisfied by a record holding the
    same concept in another system only."""
    named = sorted({system for system, _ in ranges} & _INCOMPLETE_SYSTEMS.get(kind, frozenset()))
    if named:
        complete = ", ".join(system for system in KIND_TAGS[kind][1] if system not in named) or "none"
        systems, what = ", ".join(named), kind.replace("_", " ")
        raise _inexpressible(node, f"an exclusion or an upper bound on a count cannot name {systems} codes: a "
                                   f"complete record holds an entry coded in another system without a {systems} "
                                   f"code, so it would not be seen; name the {what} by {complete} codes "
                                   "(inclusions may name any)")


def _merge(intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(intervals: Sequence[Interval], domain: Interval) -> tuple[Interval, ...]:
    out: list[Interval] = []
    start = domain[0]
    for lo, hi in _merge(intervals):
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= domain[1]:
        out.append((start, domain[1]))
    return tuple(out)


def _op_intervals(op: str, value: int, domain: Interval) -> tuple[Interval, ...]:
    lo_d, hi_d = domain
    table: dict[str, list[Interval]] = {
        "=": [(value, value)],
        "!=": [(lo_d, value - 1), (value + 1, hi_d)],
        "<": [(lo_d, value - 1)],
        "<=": [(lo_d, value)],
        ">": [(value + 1, hi_d)],
        ">=": [(value, hi_d)],
    }
    return _merge([(max(lo, lo_d), min(hi, hi_d)) for lo, hi in table[op]])


def _describe(value: Value) -> str:
    if isinstance(value, _dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Decimal):
        return f"the number {value}"
    return f"the word {value!r}"


def _open(interval: Interval, domain: Interval) -> tuple[int | None, int | None]:
    lo, hi = interval
    return (None if lo <= domain[0] else lo), (None if hi >= domain[1] else hi)


@dataclass
class _Bounds:
    """phi under construction: at most one lower and one upper bound per date field, value/status ranges."""

    a_lo: DateBound | None = None
    a_hi: DateBound | None = None
    b_lo: DateBound | None = None
    b_hi: DateBound | None = None
    status: Interval | None = None
    value: Interval | None = None

    def add(self, node: Node, name: str, bound: DateBound) -> None:
        current: DateBound | None = getattr(self, name)
        if current is None:
            setattr(self, name, bound)
            return
        if current.kind != bound.kind:
            raise _inexpressible(node, "two windows of different kinds bound the same date; keep one")
        tighter = max if name.endswith("_lo") else min
        # For today-relative bounds a larger value is an earlier day.
        if current.kind == DATE_ABSOLUTE:
            setattr(self, name, DateBound(current.kind, tighter(current.value, bound.value)))
        else:
            loosest = min if name.endswith("_lo") else max
            setattr(self, name, DateBound(current.kind, loosest(current.value, bound.value)))

    def count(self) -> int:
        return sum(x is not None for x in (self.a_lo, self.a_hi, self.b_lo, self.b_hi, self.status))


def _span(node: Node, amount: int, unit: str) -> DateBound:
    """``today - amount unit`` as a date bound (ordinal days, or packed months)."""
    if amount < 0:
        raise _fail(node, "a window length must not be negative")
    if unit == "days":
        return DateBound(DATE_TODAY_ORD, amount)
    if unit == "weeks":
        return DateBound(DATE_TODAY_ORD, 7 * amount)
    months = amount * (12 if unit == "years" else 1)
    if months > 2400:
        raise _fail(node, "a window may span at most 200 years")
    return DateBound(DATE_TODAY_PACKED, 32 * months)


def _window_bounds(node: Node, kind: str, windows: Sequence[Window], bounds: _Bounds) -> None:
    """Add the bounds of ``windows`` (module docstring of the criteria: `within`, `before`...) to ``bounds``
    for an entry ``kind`` (record.KIND_TAGS)."""
    for window in windows:
        if window.kind == "within":
            # Events (onset, procedure, measurement) fall in the window; a medication was taken in it, a hospital
            # stay overlaps it (discharged in it, or still in hospital).
            field_name = "b_lo" if kind in _SPAN_KINDS else "a_lo"
            bounds.add(node, field_name, _span(node, window.amount, window.unit))
        elif window.kind == "started_within":
            bounds.add(node, "a_lo", _span(node, window.amount, window.unit))
        elif window.kind in ("before", "after", "since"):
            if window.day is None:
                raise _fail(node, "a date window needs a date")
            ordinal = window.day.toordinal()
            if window.kind == "before":
                bounds.add(node, "a_hi", DateBound(DATE_ABSOLUTE, ordinal - 1))
            else:
                bounds.add(node, "a_lo", DateBound(DATE_ABSOLUTE, ordinal + (1 if window.kind == "after" else 0)))
        elif window.kind == "ago":
            bounds.add(node, "a_hi", _span(node, window.amount, window.unit))
        elif window.kind == "more_than_ago":
            bounds.add(node, "a_hi", _span(node, window.amount, window.unit).shifted(-1))
        else:  # for_at_least: currently taken, started at least that long ago
            if kind != "medication":
                raise _fail(node, "`for at least` applies to medications (currently taken for a period)")
            bounds.add(node, "a_hi", _span(node, window.amount, window.unit))
            _set_status(node, bounds, _ACTIVE_STATUS["medication"])


def _set_status(node: Node, bounds: _Bounds, interval: Interval) -> None:
    if bounds.status is None:
        bounds.status = interval
        return
    lo, hi = max(bounds.status[0], interval[0]), min(bounds.status[1], interval[1])
    if lo > hi:
        raise _fail(node, "the status conditions contradict each other")
    bounds.status = (lo, hi)


# --------------------------------------------------------------------------- the compiler


class _Compiler:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.atoms: list[Atom] = []
        self._index: dict[Atom, int] = {}

    def atom(self, atom: Atom, label: str) -> Leaf:
        index = self._index.get(atom)
        if index is None:
            index = len(self.atoms)
            self.atoms.append(atom)
            self._index[atom] = index
        return Leaf(index, label)

    # ------------------------------------------------------------------ combination

    @staticmethod
    def gate(threshold: int, children: Sequence[Formula], label: str) -> Formula:
        if len(children) == 1 and threshold == 1:
            # One child is that child (relabelled). It must not reach the flattening below, where it would count as
            # an AND and pull an OR child's children in as an AND ("at least 1 of (a or b)" compiled to a AND b).
            only = children[0]
            return Leaf(only.atom, label) if isinstance(only, Leaf) else Gate(only.threshold, only.children, label)
        flat: list[Formula] = []
        is_and = threshold == len(children)
        for child in children:
            if isinstance(child, Gate) and len(child.children) > 1 and (
                (is_and and child.is_and) or (threshold == 1 and child.threshold == 1)
            ):
                flat.extend(child.children)
            else:
                flat.append(child)
        if is_and:
            threshold = len(flat)
        if len(flat) == 1 and threshold == 1:
            only = flat[0]
            return Leaf(only.atom, label) if isinstance(only, Leaf) else Gate(only.threshold, only.children, label)
        return Gate(threshold, tuple(flat), label)

    def positive(self, node: Node) -> Formula:
        if isinstance(node, Not):
            return self.negative(node.operand, node.text)
        if isinstance(node, And):
            return self.gate(len(node.operands), [self.positive(op) for op in node.operands], node.text)
        if isinstance(node, Or):
            return self.gate(1, [self.positive(op) for op in node.operands], node.text)
        if isinstance(node, AtLeast):
            n = len(node.operands)
            if not 1 <= node.k <= n:
                raise _fail(node, f"at least {node.k} of {n} criteria can never hold (k must be 1..{n})")
            return self.gate(node.k, [self.positive(op) for op in node.operands], node.text)
        return self.clause(node, negated=False, label=node.text)

    def negative(self, node: Node, label: str) -> Formula:
        """The formula proving ``not node`` (negation normal form)."""
        if isinstance(node, Not):
            return self.positive(node.operand)
        if isinstance(node, And):
            return self.gate(1, [self.negative(op, f"not ({op.text})") for op in node.operands], label)
        if isinstance(node, Or):
            return self.gate(len(node.operands), [self.negative(op, f"not ({op.text})") for op in node.operands],
                             label)
        if isinstance(node, AtLeast):
            n = len(node.operands)
            if not 1 <= node.k <= n:
                raise _fail(node, f"k must be 1..{n}")
            return self.gate(n - node.k + 1, [self.negative(op, f"not ({op.text})") for op in node.operands],
                             label)
        return self.clause(node, negated=True, label=label)

    # ------------------------------------------------------------------ clauses

    def clause(self, node: Node, *, negated: bool, label: str) -> Formula:
        formula = self._clause(node, negated, label)
        if isinstance(formula, Gate) and _count_leaves(formula) > MAX_ATOMS_PER_CLAUSE:
            raise _inexpressible(node, f"needs {_count_leaves(formula)} atoms (limit {MAX_ATOMS_PER_CLAUSE}); "
                                       "name a smaller class or split the criterion")
        return formula

    def _clause(self, node: Node, negated: bool, label: str) -> Formula:
        if isinstance(node, DiagnosedWithin):
            inner = InSet(node.text, node.column, "diagnosis", codes=node.codes,
                          windows=(Window("within", node.column, node.amount, node.unit),))
            return self.set_clause(inner, negated, label)
        if isinstance(node, Count):
            return self.count_clause(node, negated, label)
        if not isinstance(node, Compare | Between | InSet | Measured):
            raise _fail(node, "not a criterion")
        name = node.field
        if name in _KIND_OF_FIELD:
            if not isinstance(node, InSet) or not node.codes:
                example = {"diagnosis": "E11.*", "medication": "atc:A10BA02", "procedure": "pcs:0D16",
                           "allergy": "atc:A10BK", "histology": "snomed:1187332001 of C34.*",
                           "cancer_stage": "snomed:1222837003 of C34.*"}.get(name, "I50.*")
                raise _fail(node, f"{name} takes `in` with codes, e.g. `{name} in {example}`")
            return self.set_clause(node, negated, label)
        if name in ("age", "sex", "gender", "research_consent", "record_complete", "birth_date", "record_as_of"):
            return self.header_clause(node, negated, label)
        return self.observation_clause(node, negated, label)

    # ------------------------------------------------------------------ header

    def header_clause(self, node: Compare | Between | InSet | Measured, negated: bool, label: str) -> Formula:
        name = {"sex": "gender"}.get(node.field, node.field)
        intervals: tuple[Interval, ...]
        if node.selector is not None:
            raise _fail(node, f"{name} is a header field; latest()/any() apply to observations")
        if isinstance(node, Measured):
            if name != "record_as_of":
                raise _fail(node, "windows apply to record_as_of, the sets and observations")
            days: int | None = None
            for window in node.windows:
                if window.kind != "within" or window.unit not in ("days", "weeks"):
                    raise _fail(node, "write `record_as_of within N days` (or weeks)")
                span = window.amount * (7 if window.unit == "weeks" else 1)
                days = span if days is None else min(days, span)
            name, intervals = "record_age_days", ((0, days if days is not None else 0),)
        else:
            if node.windows:
                raise _fail(node, f"{name} takes no time window")
            intervals = self.header_intervals(node, name)
        domain = HEADER_ATOM_FIELDS[name]
        if negated:
            intervals = _complement(intervals, domain)
        if not intervals:
            raise _fail(node, "no record can satisfy this criterion")
        leaves = [self.atom(HeaderAtom(name, *_open(i, domain)), label) for i in intervals
                  if _open(i, domain) != (None, None)]
        if not leaves:  # the interval is the whole domain: always true
            leaves = [self.atom(HeaderAtom(name, None, None), label)]
        return self.gate(1, leaves, label)

    def header_intervals(self, node: Node, name: str) -> tuple[Interval, ...]:
        domain = HEADER_ATOM_FIELDS[name]
        ordered = name in ("age", "birth_date", "record_as_of")

        def encode(value: Value) -> int:
            if name == "age":
                if not isinstance(value, Decimal) or value != value.to_integral_value():
                    raise _fail(node, f"age is compared with whole years, not {_describe(value)}")
                years = int(value)
                if not 0 <= years <= 150:
                    raise _fail(node, f"age {years} is outside 0..150")
                return years
            if name == "gender":
                if not isinstance(value, str) or value not in GENDERS:
                    raise _fail(node, f"gender is one of {', '.join(GENDERS)}, not {_describe(value)}")
                return GENDERS.index(value) + 1
            if name in ("research_consent", "record_complete"):
                if not isinstance(value, str) or value not in _CONSENT:
                    raise _fail(node, f"{name} is true or false, not {_describe(value)}")
                return _CONSENT[value]
            if not isinstance(value, _dt.date):
                raise _fail(node, f"{name} is compared with a date YYYY-MM-DD, not {_describe(value)}")
            return value.toordinal()

        if isinstance(node, Compare):
            if not ordered and node.op not in ("=", "!="):
                raise _fail(node, f"{name} supports only =, != and in, not {node.op}")
            return _op_intervals(node.op, encode(node.value), domain)
        if isinstance(node, Between):
            if not ordered:
                raise _fail(node, f"{name} supports only =, != and in, not between")
            low, high = encode(node.low), encode(node.high)
            if low > high:
                raise _fail(node, "the lower bound is above the upper bound")
            return _merge([(low, high)])
        if isinstance(node, InSet):
            if node.codes or not node.values:
                raise _fail(node, f"{name} takes values, not codes")
            return _merge([(encode(v), encode(v)) for v in node.values])
        raise _fail(node, f"{name} does not support this form")

    # ------------------------------------------------------------------ sets

    def code_ranges(self, node: Node, kind: str, patterns: Sequence[CodePattern]) -> list[tuple[str, Interval]]:
        """(system, merged code interval) pairs of a clause's code patterns, for an entry ``kind``."""
        by_system: dict[str, list[Interval]] = {}
        tags = KIND_TAGS[kind][1]
        for pattern in patterns:
            system = pattern.system
            if system not in tags:
                allowed = ", ".join(tags)
                raise _fail(node, f"{pattern.text}: a {kind.replace('_', ' ')} is coded in {allowed}, not {system}")
            if system == "icd10cm":
                text = pattern.first if pattern.last is None else f"{pattern.first}-{pattern.last}"
                if pattern.last is None and pattern.text.endswith("*"):
                    text = re.sub(r"^[A-Za-z0-9]+:", "", pattern.text).upper()
            else:
                text = pattern.first
            try:
                interval = codes.clinical_code_range(system, text)
            except (CodeSystemError, ValueError) as exc:
                raise _fail(node, f"{pattern.text}: {exc}") from None
            by_system.setdefault(system, []).append(interval)
        return [(system, interval) for system, intervals in by_system.items() for interval in _merge(intervals)]

    def set_bounds(self, node: InSet, kind: str) -> _Bounds:
        bounds = _Bounds()
        _window_bounds(node, kind, node.windows, bounds)
        if node.active:
            if kind not in _ACTIVE_STATUS:
                raise _fail(node, f"`active` applies to diagnoses, medications and allergies, not {node.field}")
            _set_status(node, bounds, _ACTIVE_STATUS[kind])
        return bounds

    def value_ranges(self, node: InSet, kind: str, ranges: Sequence[tuple[str, Interval]]
                     ) -> list[tuple[str, Interval, Interval | None]]:
        """(system, code interval, value interval) per atom of a positive set clause: the dose bound of a
        medication clause (per ingredient, in its unit and scale), or the ICD-10-CM numbers of the diagnosis a
        histology or stage qualifies (``of``); ``None`` when the value is not bounded."""
        if node.dose is not None:
            if kind != "medication":
                raise _fail(node, "`with dose` bounds a medication's daily dose")
            out: list[tuple[str, Interval, Interval | None]] = []
            for system, (lo, hi) in ranges:
                unit = codes.DOSE_BY_CODE.get((system, lo)) if lo == hi else None
                if unit is None:
                    raise _fail(node, "`with dose` names single ingredients of the dose table (codes.DOSES: "
                                      f"{', '.join(d.name for d in codes.DOSES)}), by ATC substance code or "
                                      "RxCUI, not a class")
                out.append((system, (lo, hi), _dose_interval(node, node.dose, unit)))
            return out
        if node.of_codes:
            of_ranges = self.code_ranges(node, "diagnosis", node.of_codes)
            if any(system != "icd10cm" for system, _ in of_ranges):
                raise _fail(node, "`of` names the qualified diagnosis by ICD-10-CM codes")
            return [(system, interval, value) for system, interval in ranges for _, value in of_ranges]
        return [(system, interval, None) for system, interval in ranges]

    def set_clause(self, node: InSet, negated: bool, label: str) -> Formula:
        kind = _KIND_OF_FIELD[node.field]
        set_name, tags = KIND_TAGS[kind]
        set_index = SETS.index(set_name)
        ranges = self.code_ranges(node, kind, node.codes)
        bounds = self.set_bounds(node, kind)
        if not negated:
            leaves = []
            for system, (lo, hi), value in self.value_ranges(node, kind, ranges):
                key_lo, key_hi = key_range(tags[system][0], lo, hi)
                leaves.append(self.atom(_set_atom(set_index, ANY, key_lo, key_hi, bounds, value=value), label))
            return self.gate(1, leaves, label)
        if node.dose is not None or node.of_codes:
            raise _inexpressible(node, "an exclusion cannot bound a dose or the qualified diagnosis: a class's "
                                       "aggregate keeps counts and latest dates, not every entry's value")
        _check_excludable(node, kind, ranges)
        if kind == "hospitalization":
            # An admission whose reason the source did not code may have been for any reason: "no admission for
            # S" also needs "no admission of unknown reason" (under the same bounds).
            unknown = codes.encode_clinical_code("snomed", ADMISSION_REASON_UNKNOWN)
            if not any(system == "snomed" and lo <= unknown <= hi for system, (lo, hi) in ranges):
                ranges = [*ranges, ("snomed", (unknown, unknown))]
        return self.exclusion(node, kind, ranges, bounds, label)

    def exclusion(self, node: Node, kind: str, ranges: Sequence[tuple[str, Interval]], bounds: _Bounds,
                  label: str) -> Formula:
        """"No item of these ranges satisfies the bounds": an AND of NONE or aggregate NONE_OR_LAST atoms."""
        set_name, tags = KIND_TAGS[kind]
        set_index = SETS.index(set_name)
        leaves: list[Formula] = []
        if bounds.count() == 0:
            for system, (lo, hi) in ranges:
                key_lo, key_hi = key_range(tags[system][0], lo, hi)
                leaves.append(self.atom(_none_atom(set_index, key_lo, key_hi), label))
            return self.gate(len(leaves), leaves, label)
        if bounds.count() > 1:
            raise _inexpressible(node, "an exclusion can bound one thing (a window on the onset, a window on the "
                                       "end, or the status): the record keeps per class only the latest dates "
                                       "and the smallest status, which may come from different entries")
        negated = _Bounds()
        if bounds.a_lo is not None:
            negated.a_hi = bounds.a_lo.shifted(-1)
        elif bounds.b_lo is not None:
            negated.b_hi = bounds.b_lo.shifted(-1)
        elif bounds.status is not None and bounds.status[0] <= _MIN_STATUS:
            negated.status = (bounds.status[1] + 1, _STATUS_MAX)
        else:
            raise _inexpressible(node, "an exclusion with an upper date bound (before / at least ... ago) or a "
                                       "status range that does not start at the lowest status cannot be checked "
                                       "over a class: the record keeps per class the latest dates only")
        for key in self.aggregate_keys(ranges, tags):
            leaves.append(self.atom(_set_atom(set_index, NONE_OR_LAST, key, key, negated), label))
        return self.gate(len(leaves), leaves, label)

    def count_clause(self, node: Count, negated: bool, label: str) -> Formula:
        inner = node.operand
        op, k = node.op, node.k
        if op == "!=" or op == "=" and negated and k > 0:
            raise _inexpressible(node, "a count is compared with >=, >, <=, < or = (`not` of `= k` is two "
                                       "criteria: write `count(...) < k or count(...) > k`)")
        # "At least" and "at most" bounds of the comparison (None: that side is open); `not` swaps them.
        least = {">=": k, ">": k + 1, "=": k}.get(op)
        most = {"<=": k, "<": k - 1, "=": k}.get(op)
        if negated and op == "=":  # not (count = 0)
            least, most = 1, None
        elif negated:
            least, most = (None, least - 1) if least is not None else (None if most is None else most + 1, None)
        if most is not None and most < 0:
            raise _fail(node, "no record has fewer than 0 items")
        if most == 0:  # none: the clause's exclusion (windows and bounds as any exclusion)
            return self._clause(inner, True, label)
        parts: list[Formula] = []
        if least is not None:
            parts.append(self.count_at_least(node, inner, least, label))
        if most is not None:
            parts.append(self.count_at_most(node, inner, most, label))
        return parts[0] if len(parts) == 1 else self.gate(len(parts), parts, label)

    def count_at_most(self, node: Count, inner: Node, most: int, label: str) -> Formula:
        """"At most ``most`` items match": a class aggregate's ``value`` is its number of raw entries, so the
        count of one class is one NONE_OR_LAST atom on its aggregate (absent, or ``value <= most``). The
        aggregate counts every entry of the class, whatever its date, status or dose: a window or another bound
        on the clause makes the check stricter than written, never looser (a windowed count is also satisfied
        when the class's latest date lies before the window). Several classes: ``sum of the counts <= most``
        is "at least n(most+1) - most of the atoms `count_i <= t - 1` (t = 1..most+1) hold", one atom each."""
        if not (isinstance(inner, InSet) and inner.field in _KIND_OF_FIELD and inner.codes):
            raise _inexpressible(node, "\"at most k items\" counts diagnoses, medications, procedures, allergies or "
                                       "immunizations by their codes (a class aggregate keeps the count), not "
                                       "observation values")
        kind = _KIND_OF_FIELD[inner.field]
        if kind == "hospitalization":
            raise _inexpressible(node, "\"at most k admissions for S\" cannot be checked: an admission of unknown "
                                       "reason may have been for S, and the two counts cannot be summed soundly "
                                       "without naming every such admission")
        set_name, tags = KIND_TAGS[kind]
        set_index = SETS.index(set_name)
        bounds = self.set_bounds(inner, kind)
        self.value_ranges(inner, kind, self.code_ranges(inner, kind, inner.codes))  # validates `with dose`/`of`
        _check_excludable(node, kind, self.code_ranges(inner, kind, inner.codes))
        keys = self.aggregate_keys(self.code_ranges(inner, kind, inner.codes), tags)
        # Windows on the start of an event (onset, start, date) or on a span (taken, in hospital): the class had
        # no entry in the window when its latest such date is before it.
        empty_windows: list[_Bounds] = []
        if bounds.a_lo is not None:
            empty_windows.append(_Bounds(a_hi=bounds.a_lo.shifted(-1)))
        if bounds.b_lo is not None:
            empty_windows.append(_Bounds(b_hi=bounds.b_lo.shifted(-1)))

        def at_most(key: int, t: int) -> Formula:
            count = self.atom(_set_atom(set_index, NONE_OR_LAST, key, key, _Bounds(), value=(0, t)), label)
            before = [self.atom(_set_atom(set_index, NONE_OR_LAST, key, key, window), label)
                      for window in empty_windows]
            return self.gate(1, [count, *before], label)

        if len(keys) == 1:
            return at_most(keys[0], most)
        atoms = len(keys) * (most + 1)
        if atoms > MAX_ATOMS_PER_CLAUSE:
            raise _inexpressible(node, f"at most {most} items over {len(keys)} classes needs {atoms} atoms (limit "
                                       f"{MAX_ATOMS_PER_CLAUSE}); count one class that contains them (a stricter "
                                       "count) or split the criterion")
        pieces = [at_most(key, t - 1) for key in keys for t in range(1, most + 2)]
        return self.gate(atoms - most, pieces, label)

    @staticmethod
    def aggregate_keys(ranges: Sequence[tuple[str, Interval]], tags: Mapping[str, tuple[int, int]]) -> list[int]:
        """The aggregate-leaf keys that together summarise exactly the codes of ``ranges`` (a named ICD-10-CM
        group's aggregate when the ICD-10-CM ranges are exactly the group, else the classes tiling each range)."""
        table = tags
        keys: list[int] = []
        remaining = list(ranges)
        icd = _merge([interval for system, interval in ranges if system == "icd10cm"])
        for group_code, intervals in icd10_group_table():
            if icd and _merge(intervals) == icd:  # a named group: one aggregate leaf summarises all its codes
                keys.append(make_key(table["icd10cm"][1], group_code, 0, 0))
                remaining = [(system, interval) for system, interval in ranges if system != "icd10cm"]
                break
        for system, (lo, hi) in remaining:
            keys.extend(make_key(table[system][1], node_code, 0, 0) for node_code in _class_nodes(system, lo, hi))
        return keys

    def count_at_least(self, node: Count, inner: Node, at_least: int, label: str) -> Formula:
        """"At least ``at_least`` items match": that many ANY atoms chained to distinct, increasing leaves."""
        if at_least <= 0:
            return self.gate(1, [self.atom(HeaderAtom("record_complete", None, None), label)], label)
        if at_least > MAX_COUNT:
            raise _inexpressible(node, f"count at least {at_least}: the limit is {MAX_COUNT} items")
        set_index, ranges, bounds = self.any_atom_parts(inner)
        if len(ranges) != 1:
            raise _inexpressible(node, "a count ranges over one code range (one code, class or pattern)")
        key_lo, key_hi = ranges[0]
        leaves: list[Formula] = []
        previous: int | None = None
        for _ in range(at_least):
            leaf = self.atom(_set_atom(set_index, ANY, key_lo, key_hi, bounds, after=previous), label)
            leaves.append(leaf)
            previous = leaf.atom
        return self.gate(len(leaves), leaves, label)

    def any_atom_parts(self, inner: Node) -> tuple[int, list[Interval], _Bounds]:
        """(set, key ranges, bounds) of a clause read as "some item matches" (for counts)."""
        if isinstance(inner, InSet) and inner.field in _KIND_OF_FIELD:
            kind = _KIND_OF_FIELD[inner.field]
            set_name, tags = KIND_TAGS[kind]
            parts = self.value_ranges(inner, kind, self.code_ranges(inner, kind, inner.codes))
            bounds = self.set_bounds(inner, kind)
            if len(parts) == 1:
                bounds.value = parts[0][2]
            elif any(value is not None for _, _, value in parts):
                raise _inexpressible(inner, "a count ranges over one code range (one code, class or pattern)")
            return (SETS.index(set_name), [key_range(tags[system][0], lo, hi) for system, (lo, hi), _ in parts],
                    bounds)
        if isinstance(inner, Compare | Between | InSet | Measured):
            concept = self.concept(inner)
            bounds = _Bounds()
            _window_bounds(inner, "observation", inner.windows, bounds)
            intervals = self.value_intervals(inner, concept) if not isinstance(inner, Measured) else None
            if intervals is not None and len(intervals) != 1:
                raise _inexpressible(inner, "a count needs one value range")
            bounds.value = intervals[0] if intervals else None
            return 3, [_observation_keys(concept)], bounds
        raise _fail(inner, "count(...) takes a diagnosis, medication, procedure or observation clause")

    # ------------------------------------------------------------------ observations

    def concept(self, node: Compare | Between | InSet | Measured) -> codes.ObservationConcept:
        name = node.field
        if name.startswith("loinc:"):
            try:
                concept = codes.observation(codes.normalize_clinical_code("loinc", name[len("loinc:"):]))
            except CodeSystemError as exc:
                raise _fail(node, str(exc)) from None
        else:
            concept = codes.observation(name)
        if concept is None:
            known = ", ".join(c.name for c in codes.OBSERVATIONS)
            raise _fail(node, f"unknown field {name!r}; header fields: age, gender, research_consent, birth_date, "
                              f"record_complete, record_as_of; coded entries: {', '.join(_KIND_OF_FIELD)}; "
                              f"observations: {known} (or loinc:NNNN-N of the table)")
        return concept

    def value_intervals(
        self, node: Compare | Between | InSet, concept: codes.ObservationConcept
    ) -> tuple[Interval, ...]:
        domain = _value_domain(concept)
        coded = concept.kind == codes.ObservationKind.CODED

        def encode(value: Value) -> int:
            if coded:
                if not isinstance(value, str) or value not in concept.answers:
                    raise _fail(node, f"{concept.name} is one of {', '.join(concept.answers)}, not {_describe(value)}")
                return concept.answers[value]
            if not isinstance(value, Decimal):
                raise _fail(node, f"{concept.name} is compared with numbers ({concept.unit}), not {_describe(value)}")
            scaled = value.scaleb(concept.decimals)
            if scaled != scaled.to_integral_value():
                raise _fail(node, f"{value} has more decimals than {concept.name} is stored with "
                                  f"({concept.decimals}, in {concept.unit})")
            number = int(scaled)
            if not 0 <= number <= _VALUE_MAX:
                raise _fail(node, f"{value} is outside the stored range of {concept.name}")
            return number

        if isinstance(node, Compare):
            if coded and not concept.ordered and node.op not in ("=", "!="):
                raise _fail(node, f"{concept.name} is a coded answer: use =, != or in")
            intervals = _op_intervals(node.op, encode(node.value), domain)
        elif isinstance(node, Between):
            if coded and not concept.ordered:
                raise _fail(node, f"{concept.name} is a coded answer: use =, != or in")
            low, high = encode(node.low), encode(node.high)
            if low > high:
                raise _fail(node, "the lower bound is above the upper bound")
            intervals = ((low, high),)
        else:
            if node.codes or not node.values:
                raise _fail(node, f"{concept.name} takes values, not codes")
            intervals = _merge([(encode(v), encode(v)) for v in node.values])
        if not intervals:
            raise _fail(node, "no value can satisfy this criterion")
        return intervals

    def observation_clause(self, node: Compare | Between | InSet | Measured, negated: bool, label: str) -> Formula:
        concept = self.concept(node)
        selector = node.selector or "latest"
        if isinstance(node, InSet) and node.active:
            raise _fail(node, "`active` applies to diagnoses and medications")
        bounds = _Bounds()
        _window_bounds(node, "observation", node.windows, bounds)
        intervals = None if isinstance(node, Measured) else self.value_intervals(node, concept)
        code = concept.encode_code()
        key_lo, key_hi = _observation_keys(concept)
        mode = LAST if selector == "latest" else ANY
        if not negated:
            leaves = [
                self.atom(_set_atom(3, mode, key_lo, key_hi, bounds, value=interval), label)
                for interval in (intervals if intervals is not None else (None,))
            ]
            return self.gate(1, leaves, label)
        if mode == ANY:
            if intervals is not None and _open(intervals[0], _value_domain(concept)) != (None, None):
                raise _inexpressible(node, "\"no value of this observation ever in a range\" cannot be proven: the "
                                           "record keeps the latest value per code, not every extreme; use latest()")
            return self.exclusion(node, "observation", [(concept.system, (code, code))], bounds, label)
        # not LAST(R, phi) = OR over the negated bounds of NONE_OR_LAST(R, that negation).
        pieces: list[_Bounds | tuple[Interval, ...]] = []
        if intervals is not None:
            rest = _complement(intervals, _value_domain(concept))
            pieces.extend((interval,) for interval in rest)
        for name in ("a_lo", "a_hi"):
            bound: DateBound | None = getattr(bounds, name)
            if bound is None:
                continue
            flipped = _Bounds()
            if name == "a_lo":
                flipped.a_hi = bound.shifted(-1)
            else:
                flipped.a_lo = bound.shifted(1)
            pieces.append(flipped)
        if not pieces:  # "has a latest value" negated: no value at all
            return self.gate(1, [self.atom(_none_atom(3, key_lo, key_hi), label)], label)
        leaves = []
        for piece in pieces:
            if isinstance(piece, _Bounds):
                leaves.append(self.atom(_set_atom(3, NONE_OR_LAST, key_lo, key_hi, piece), label))
            else:
                leaves.append(self.atom(_set_atom(3, NONE_OR_LAST, key_lo, key_hi, _Bounds(), value=piece[0]),
                                        label))
        return self.gate(1, leaves, label)


def _observation_keys(concept: codes.ObservationConcept) -> Interval:
    """The key range of every raw entry of an observation concept (its canonical code, any date)."""
    code = concept.encode_code()
    return key_range(SET_TAGS["observations"][concept.system][0], code, code)


def _dose_interval(node: Node, dose: DoseBound, unit: codes.DoseUnit) -> Interval:
    """The stored-value interval of a dose bound for one ingredient (never 0: no dose recorded)."""
    if dose.unit != unit.unit:
        raise _fail(node, f"{unit.name} doses are recorded in {unit.unit} per day, not {dose.unit}")

    def scaled(value: Decimal) -> int:
        number = value.scaleb(unit.decimals)
        if number != number.to_integral_value():
            raise _fail(node, f"{value} {dose.unit} has more decimals than {unit.name} doses are stored with")
        out = int(number)
        if not 0 <= out <= _VALUE_MAX:
            raise _fail(node, f"{value} {dose.unit} is outside the stored range of a dose")
        return out

    domain = (1, _VALUE_MAX)
    if dose.op == "between":
        if dose.high is None or dose.high < dose.value:
            raise _fail(node, "the lower dose is above the upper dose")
        intervals = _merge([(max(1, scaled(dose.value)), scaled(dose.high))])
    else:
        intervals = _op_intervals(dose.op, scaled(dose.value), domain)
    if len(intervals) != 1:
        raise _inexpressible(node, "a dose bound is one range (not `!=`)")
    return intervals[0]


def _value_domain(concept: codes.ObservationConcept) -> Interval:
    """The values an observation can hold: its answers' enums, or any fixed-point value."""
    if concept.kind == codes.ObservationKind.CODED:
        return min(concept.answers.values()), max(concept.answers.values())
    return 0, _VALUE_MAX


def _count_leaves(node: Formula) -> int:
    if isinstance(node, Leaf):
        return 1
    return sum(_count_leaves(child) for child in node.children)


def _set_atom(set_index: int, mode: int, key_lo: int, key_hi: int, bounds: _Bounds, *,
              value: Interval | None = None, after: int | None = None) -> SetAtom:
    if value is None:
        value = bounds.value
    value_lo, value_hi = (None, None) if value is None else _open(value, (0, _VALUE_MAX))
    status_lo, status_hi = (None, None) if bounds.status is None else _open(bounds.status, (0, _STATUS_MAX))
    return SetAtom(set_index, mode, key_lo, key_hi, bounds.a_lo, bounds.a_hi, bounds.b_lo, bounds.b_hi,
                   value_lo, value_hi, status_lo, status_hi, after)


def _none_atom(set_index: int, key_lo: int, key_hi: int) -> SetAtom:
    """"No item in [key_lo, key_hi]": NONE_OR_LAST with phi false (value in [1, 0])."""
    return SetAtom(set_index, NONE_OR_LAST, key_lo, key_hi, value_lo=1, value_hi=0)


def _class_nodes(system: str, lo: int, hi: int) -> tuple[int, ...]:
    """The aggregate codes whose leaves together summarise exactly the codes in ``[lo, hi]``.

    ``[lo, hi]`` is a merged interval of a clause's patterns, so it may be the union of several adjacent
    classes (``{atc:C02, atc:C03}``, ``{pcs:0210, pcs:0211}``, two consecutive RxCUIs): each of them has an
    aggregate leaf of its own, and every one is returned (ATC and ICD-10-PCS: the largest prefix subtrees
    tiling the interval; flat systems: every code of it)."""
    if system == "icd10cm":
        for code, intervals in icd10_group_table():
            if intervals == ((lo, hi),) or _merge(intervals) == ((lo, hi),):
                return (code,)
        return codes.icd10_node_tiling(lo, hi)
    if system in ("atc", "icd10pcs"):
        decode, prefix_range = ((codes.atc_decode, codes.atc_range) if system == "atc"
                                else (codes.pcs_decode, codes.pcs_range))
        nodes: list[int] = []
        start = lo
        while start <= hi:
            text = decode(start)
            for length in range(1, len(text) + 1):
                try:
                    first, last = prefix_range(text[:length])
                except CodeSystemError:  # not a prefix length of the system (ATC: 1, 3, 4, 5, 7)
                    continue
                if first == start and last <= hi:
                    break
            else:  # the interval does not start a class: the patterns' intervals are always unions of classes
                raise EligibilityError(f"internal: {system} interval [{lo}, {hi}] is not a union of classes")
            nodes.append(first)
            start = last + 1
            if len(nodes) > MAX_ATOMS_PER_CLAUSE:
                break  # the caller refuses the clause by its atom count
        return tuple(nodes)
    return tuple(range(lo, min(hi, lo + MAX_ATOMS_PER_CLAUSE) + 1))


def compile_program(criteria: str | Node, policy: Policy | None = None) -> Program:
    """Compile criteria text (or a parsed tree) into a :class:`Program`.

    Raises :class:`CriteriaSyntaxError` for text that does not parse or names unknown fields, codes or
    values (with the column and a caret), and :class:`CriteriaNotExpressibleError` for a clause that cannot
    be checked soundly over the record (module docstring). Cost: linear in the text, plus the ICD-10-CM
    table lookups (a prefix pattern that is not a code scans the table once).
    """
    if not isinstance(criteria, str | Node):
        raise ArgumentTypeError(f"criteria are a str or a parsed tree, not {type(criteria).__name__}")
    if policy is not None and not isinstance(policy, Policy):
        raise ArgumentTypeError(f"policy is a Policy, not {type(policy).__name__}")
    tree = parse_criteria(criteria) if isinstance(criteria, str) else criteria
    compiler = _Compiler(policy or Policy())
    formula = compiler.positive(tree)
    root = formula if isinstance(formula, Gate) else Gate(1, (formula,), formula.label)
    atoms, root = merge_none_atoms(tuple(compiler.atoms), root)
    return Program(atoms, root, policy or Policy(), tree.text)


# --------------------------------------------------------------------------- merging NONE atoms

#: Largest number of codes between two NONE ranges that the merge inspects one by one.
_MAX_GAP_SCAN: Final[int] = 4096


def _is_none(atom: Atom) -> bool:
    """A pure "no item in [key_lo, key_hi]" atom (phi false, no other bound)."""
    return (isinstance(atom, SetAtom) and atom.mode == NONE_OR_LAST and atom.phi_false and atom.after is None
            and all(b is None for b in (atom.a_lo, atom.a_hi, atom.b_lo, atom.b_hi)))


def _raw_system(set_name: str, tag: int) -> str | None:
    """The code system of a raw-entry tag of a set (``None`` for aggregate or unknown tags)."""
    for owner, systems in KIND_TAGS.values():
        if owner == set_name:
            for system, (raw, _aggregate) in systems.items():
                if raw == tag:
                    return system
    return None


def _recordable(system: str, code: int) -> bool:
    """Whether a raw entry of ``system`` can hold ``code`` (the record builder encodes only these)."""
    try:
        text = codes.decode_clinical_code(system, code)
        codes.encode_clinical_code(system, text)
    except (CodeSystemError, EncodingError, IndexError):
        return False
    if system == "icd10cm":
        return bool(re.fullmatch(r"[A-Z][0-9A-Z][0-9A-Z](\.[0-9A-Z]{1,4})?", text))  # a code, not a block or chapter
    return True


def _nothing_between(set_name: str, hi: int, lo: int) -> bool:
    """Whether no raw entry of a record can have a key strictly between ``hi`` and ``lo`` (``hi < lo``)."""
    if hi + 1 == lo:
        return True
    tag_hi, code_hi, date_hi, seq_hi = split_key(hi)
    tag_lo, code_lo, date_lo, seq_lo = split_key(lo)
    system = _raw_system(set_name, tag_hi)
    if (tag_hi != tag_lo or system is None or (date_hi, seq_hi) != (MAX_DATE, 255) or (date_lo, seq_lo) != (0, 0)
            or code_lo - code_hi - 1 > _MAX_GAP_SCAN):
        return False
    return not any(_recordable(system, code) for code in range(code_hi + 1, code_lo))


def merge_none_atoms(atoms: tuple[Atom, ...], root: Gate) -> tuple[tuple[Atom, ...], Gate]:
    """Merge "no item in R1", "no item in R2" ... (children of one AND gate, over one set, each used once)
    into "no item in R1 ∪ ... ∪ Rk" when no raw entry can have a key between consecutive ranges: the ranges
    touch, or only keys that no record holds lie between (ICD-10-CM blocks and chapters, ATC and ICD-10-PCS
    class prefixes, codes failing their check digit). The merged atom holds exactly when all the parts do, on
    every record, so the program means the same; it opens one leaf instead of k (about 2,400 constraints
    each). Labels of merged parts are joined with `` / ``. Unused atoms are dropped and the rest renumbered."""
    uses: dict[int, int] = {}

    def count(node: Formula) -> None:
        if isinstance(node, Leaf):
            uses[node.atom] = uses.get(node.atom, 0) + 1
            return
        for child in node.children:
            count(child)

    count(root)
    new_atoms: list[Atom] = list(atoms)
    index_of: dict[Atom, int] = {atom: i for i, atom in enumerate(atoms)}

    def rebuild(node: Gate) -> Gate:
        children: list[Formula] = [rebuild(c) if isinstance(c, Gate) else c for c in node.children]
        if not node.is_and:
            return Gate(node.threshold, tuple(children), node.label)
        candidates = [c for c in children if isinstance(c, Leaf) and uses.get(c.atom) == 1
                      and _is_none(atoms[c.atom])]
        by_set: dict[int, list[Leaf]] = {}
        for leaf in candidates:
            atom = atoms[leaf.atom]
            if isinstance(atom, SetAtom):
                by_set.setdefault(atom.set, []).append(leaf)
        replace: dict[int, Leaf | None] = {}
        for set_index, leaves in by_set.items():
            leaves.sort(key=lambda leaf: _key_lo(atoms[leaf.atom]))
            run: list[Leaf] = []
            pending: list[Leaf | None] = [*leaves, None]
            for item in pending:
                if item is not None and run and _nothing_between(
                        SETS[set_index], _key_hi(atoms[run[-1].atom]), _key_lo(atoms[item.atom])):
                    run.append(item)
                    continue
                if len(run) > 1:
                    merged = SetAtom(set_index, NONE_OR_LAST, _key_lo(atoms[run[0].atom]),
                                     _key_hi(atoms[run[-1].atom]), value_lo=1, value_hi=0)
                    position = index_of.get(merged)
                    if position is None:
                        position = len(new_atoms)
                        new_atoms.append(merged)
                        index_of[merged] = position
                    labels = list(dict.fromkeys(part.label for part in run))
                    replace[run[0].atom] = Leaf(position, " / ".join(labels))
                    for part in run[1:]:
                        replace[part.atom] = None
                run = [item] if item is not None else []
        out: list[Formula] = []
        for child in children:
            if isinstance(child, Leaf) and child.atom in replace:
                substitute = replace[child.atom]
                if substitute is not None:
                    out.append(substitute)
            else:
                out.append(child)
        return Gate(len(out), tuple(out), node.label)

    merged_root = rebuild(root)
    # Drop atoms no longer referenced and renumber (``after`` references follow).
    used: list[int] = []

    def collect(node: Formula) -> None:
        if isinstance(node, Leaf):
            if node.atom not in used:
                used.append(node.atom)
            return
        for child in node.children:
            collect(child)

    collect(merged_root)
    for i in list(used):
        atom = new_atoms[i]
        if isinstance(atom, SetAtom) and atom.after is not None and atom.after not in used:
            used.append(atom.after)
    if sorted(used) == list(range(len(atoms))) and len(new_atoms) == len(atoms):
        return atoms, root
    order = sorted(used)
    renumber = {old: new for new, old in enumerate(order)}
    final: list[Atom] = []
    for old in order:
        atom = new_atoms[old]
        if isinstance(atom, SetAtom) and atom.after is not None:
            atom = dataclasses.replace(atom, after=renumber[atom.after])
        final.append(atom)

    def renumbered(node: Formula) -> Formula:
        if isinstance(node, Leaf):
            return Leaf(renumber[node.atom], node.label)
        return Gate(node.threshold, tuple(renumbered(c) for c in node.children), node.label)

    result = renumbered(merged_root)
    if not isinstance(result, Gate):
        raise EligibilityError("internal: the merged root is not a gate")
    return tuple(final), result


def _key_lo(atom: Atom) -> int:
    if not isinstance(atom, SetAtom):
        raise EligibilityError("internal: not a set atom")
    return atom.key_lo


def _key_hi(atom: Atom) -> int:
    if not isinstance(atom, SetAtom):
        raise EligibilityError("internal: not a set atom")
    return atom.key_hi
