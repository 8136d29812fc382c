"""Criteria that no record can meet, or that every record meets: interval reasoning over the atoms.

``age >= 18 and age < 10`` compiles and proves nothing useful: no patient qualifies. ``hba1c < 7 or not
hba1c < 7`` admits everyone. Both are almost always mistakes, so :func:`analyze` finds them and names the
clauses, and the callers (``Trial``, ``zkhealth trial new``) print a warning. A warning, not an error: the
criteria are valid, the recruiter decides.

The analysis works on a small abstract form that any criteria representation converts to:

* an :class:`Atom` is one clause (or part of one), described by two :data:`Fact` s that bracket the records
  it accepts: ``over`` holds for every record the atom accepts (an over-approximation) and ``under`` only for
  records it accepts (an under-approximation). A fact constrains one variable: :class:`ValueIn` (a
  single-valued field lies in a set of intervals of its domain: ``age``, ``hba1c``, ``gender``), :class:`Exists`
  (some item of a multi-valued field lies in a set: a diagnosis code in E11) or :class:`NoneIn` (no item
  does); :data:`TOP` and :data:`BOTTOM` are the trivial facts;
* a :class:`Gate` is "at least ``threshold`` of these operands" (``threshold == len(operands)`` is AND, 1 is
  OR), in negation normal form: :func:`negate` pushes a negation down (De Morgan, and swapping each atom's
  bounds).

Satisfiability is over-approximated by a *box* per subformula: the set each single-valued variable may take,
the items a multi-valued variable must not hold, and the sets it must hold an item of. AND intersects boxes
and reports a conflict (an empty set, or a required set inside the forbidden one) with the atoms that caused
it; OR joins them. A subformula whose box is empty can never hold; a subformula whose *negation* can never
hold always holds. The reasoning is sound (a finding is always true of the criteria) but not complete (it
does not relate two fields, nor count diagnoses): a finding is never a false alarm, and silence is not a
proof. Cost: linear in the size of the formula times the number of variables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

__all__ = [
    "BOTTOM",
    "TOP",
    "Atom",
    "CriteriaFinding",
    "CriteriaWarning",
    "Exists",
    "Gate",
    "Intervals",
    "NoneIn",
    "ValueIn",
    "analyze",
    "analyze_program",
    "negate",
    "program_expr",
]

#: Sorted, disjoint, non-adjacent inclusive intervals.
Intervals: TypeAlias = tuple[tuple[int, int], ...]


class CriteriaWarning(UserWarning):
    """Criteria that no record can meet, or that every record meets (see :func:`analyze`)."""


def _merge(items: Iterable[tuple[int, int]]) -> Intervals:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(pair for pair in items if pair[0] <= pair[1]):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _union(a: Intervals, b: Intervals) -> Intervals:
    return _merge((*a, *b))


def _minus(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        start = lo
        for b_lo, b_hi in b:
            if b_hi < start or b_lo > hi:
                continue
            if b_lo > start:
                out.append((start, b_lo - 1))
            start = max(start, b_hi + 1)
            if start > hi:
                break
        if start <= hi:
            out.append((start, hi))
    return tuple(out)


def _subset(a: Intervals, b: Intervals) -> bool:
    return not _minus(a, b)


@dataclass(frozen=True)
class ValueIn:
    """The single value of ``var`` (ranging over ``domain``) lies in ``allowed``."""

    var: str
    allowed: Intervals
    domain: Intervals


@dataclass(frozen=True)
class Exists:
    """Some item of the multi-valued ``var`` lies in ``allowed``."""

    var: str
    allowed: Intervals


@dataclass(frozen=True)
class NoneIn:
    """No item of the multi-valued ``var`` lies in ``forbidden``."""

    var: str
    forbidden: Intervals


@dataclass(frozen=True)
class _Constant:
    value: bool


TOP: Final[_Constant] = _Constant(True)
BOTTOM: Final[_Constant] = _Constant(False)
Fact: TypeAlias = ValueIn | Exists | NoneIn | _Constant


def _negate_fact(fact: Fact) -> Fact:
    if isinstance(fact, ValueIn):
        return ValueIn(fact.var, _minus(fact.domain, fact.allowed), fact.domain)
    if isinstance(fact, Exists):
        return NoneIn(fact.var, fact.allowed)
    if isinstance(fact, NoneIn):
        return Exists(fact.var, fact.forbidden)
    return BOTTOM if fact.value else TOP


@dataclass(frozen=True)
class Atom:
    """One clause (``text``) bracketed by two facts: every accepted record satisfies ``over``; every record
    that satisfies ``under`` is accepted. Exact atoms have ``over == under`` (:meth:`exact`). ``implied``
    are consequences of ``over`` on other variables (the same fact seen from another side: "the latest HbA1c
    is at least 7" implies "some HbA1c is recorded"); they take part in the reasoning, not in negation."""

    text: str
    over: Fact
    under: Fact
    implied: tuple[Fact, ...] = ()
    #: Conditions of the atom itself, on other variables: it holds only when they hold too (every ``LAST``
    #: and ``NONE_OR_LAST`` atom needs a complete, fresh record), so they bound both sides.
    requires: tuple[Fact, ...] = ()

    @classmethod
    def exact(cls, text: str, fact: Fact, implied: tuple[Fact, ...] = ()) -> Atom:
        return cls(text, fact, fact, implied)


@dataclass(frozen=True)
class Gate:
    """At least ``threshold`` of ``operands`` hold (all of them: AND; one: OR). ``text`` names the group."""

    text: str
    threshold: int
    operands: tuple[Expr, ...]


Expr: TypeAlias = Atom | Gate


def negate(expr: Expr) -> Expr:
    """The negation of ``expr`` in negation normal form: NOT (at least k of n) = at least n - k + 1 of the
    negated operands; a negated atom swaps (and negates) its two bounds."""
    if isinstance(expr, Atom):
        # NOT (under and requires) is a disjunction when requires is not empty: nothing single bounds it.
        return Atom(expr.text, TOP if expr.requires else _negate_fact(expr.under), _negate_fact(expr.over))
    count = len(expr.operands)
    return Gate(expr.text, count - expr.threshold + 1, tuple(negate(op) for op in expr.operands))


# --------------------------------------------------------------------------- boxes


@dataclass
class _Box:
    """What every record accepted by a subformula satisfies, with the clauses each constraint came from."""

    values: dict[str, tuple[Intervals, frozenset[str]]] = field(default_factory=dict)
    forbidden: dict[str, tuple[Intervals, frozenset[str]]] = field(default_factory=dict)
    required: dict[str, list[tuple[Intervals, frozenset[str]]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Conflict:
    sources: frozenset[str]


#: The stand-in for "no item" in a range's latest-item variable (below every recorded value).
_ABSENT: Final[int] = -1


def _consequences(fact: Fact) -> tuple[Fact, ...]:
    """Facts that follow from ``fact`` on a linked variable: the latest item of a key range
    (``last:SET:LO-HI``) is present exactly when the set holds a key in the range."""
    if isinstance(fact, ValueIn) and fact.var.startswith("last:"):
        _, name, span = fact.var.split(":", 2)
        low, _, high = span.partition("-")
        keys: Intervals = ((int(low), int(high)),)
        present = _minus(fact.allowed, ((_ABSENT, _ABSENT),))
        if not present:
            return (NoneIn(f"set:{name}", keys),)
        if not _subset(((_ABSENT, _ABSENT),), fact.allowed):
            return (Exists(f"set:{name}", keys),)
    return ()


def _atom_box(atom: Atom) -> _Box | _Conflict:
    facts = (atom.over, *atom.implied, *atom.requires)
    facts = facts + tuple(more for fact in facts for more in _consequences(fact))
    boxes = [_fact_box(fact, frozenset({atom.text})) for fact in facts]
    for box in boxes:
        if isinstance(box, _Conflict):
            return box
    return _meet([box for box in boxes if isinstance(box, _Box)])


def _fact_box(fact: Fact, sources: frozenset[str]) -> _Box | _Conflict:
    box = _Box()
    if isinstance(fact, _Constant):
        return box if fact.value else _Conflict(sources)
    if isinstance(fact, ValueIn):
        allowed = _intersect(fact.allowed, fact.domain)
        if not allowed:
            return _Conflict(sources)
        box.values[fact.var] = (allowed, sources)
    elif isinstance(fact, Exists):
        if not fact.allowed:
            return _Conflict(sources)
        box.required[fact.var] = [(fact.allowed, sources)]
    elif fact.forbidden:
        box.forbidden[fact.var] = (fact.forbidden, sources)
    return box


def _meet(boxes: Sequence[_Box]) -> _Box | _Conflict:
    """The conjunction: intersect the value sets, unite the forbidden sets, collect the required sets."""
    out = _Box()
    for box in boxes:
        for var, (allowed, sources) in box.values.items():
            if var in out.values:
                current, seen = out.values[var]
                allowed, sources = _intersect(current, allowed), seen | sources
            out.values[var] = (allowed, sources)
            if not allowed:
                return _Conflict(sources)
        for var, (forbidden, sources) in box.forbidden.items():
            if var in out.forbidden:
                current, seen = out.forbidden[var]
                forbidden, sources = _union(current, forbidden), seen | sources
            out.forbidden[var] = (forbidden, sources)
        for var, items in box.required.items():
            out.required.setdefault(var, []).extend(items)
    for var, items in out.required.items():
        if var in out.forbidden:
            forbidden, forbidden_sources = out.forbidden[var]
            for allowed, sources in items:
                if _subset(allowed, forbidden):
                    return _Conflict(sources | forbidden_sources)
    return out


def _join(boxes: Sequence[_Box]) -> _Box:
    """The disjunction: what every alternative implies (unions of value sets, the common forbidden items,
    and one required set per alternative, united)."""
    out = _Box()
    first, rest = boxes[0], boxes[1:]
    for var, (allowed, sources) in first.values.items():
        if all(var in box.values for box in rest):
            for box in rest:
                other, more = box.values[var]
                allowed, sources = _union(allowed, other), sources | more
            out.values[var] = (allowed, sources)
    for var, (forbidden, sources) in first.forbidden.items():
        if all(var in box.forbidden for box in rest):
            for box in rest:
                other, more = box.forbidden[var]
                forbidden, sources = _intersect(forbidden, other), sources | more
            if forbidden:
                out.forbidden[var] = (forbidden, sources)
    for var in first.required:
        if all(box.required.get(var) for box in boxes):
            united: Intervals = ()
            causes: frozenset[str] = frozenset()
            for box in boxes:
                smallest = min(box.required[var], key=lambda item: sum(hi - lo + 1 for lo, hi in item[0]))
                united, causes = _union(united, smallest[0]), causes | smallest[1]
            out.required[var] = [(united, causes)]
    return out


def _box(expr: Expr, findings: list[CriteriaFinding] | None, kind: str) -> _Box | _Conflict:
    """The box of ``expr``; conflicts first found at a node are reported once, at that node."""
    if isinstance(expr, Atom):
        result = _atom_box(expr)
        if isinstance(result, _Conflict) and findings is not None:
            findings.append(CriteriaFinding.of(kind, expr.text, result.sources))  # type: ignore[arg-type]
        return result
    parts = [_box(op, findings, kind) for op in expr.operands]
    possible = [part for part in parts if isinstance(part, _Box)]
    if len(possible) < expr.threshold:
        sources = frozenset().union(*(part.sources for part in parts if isinstance(part, _Conflict)))
        # An AND with an impossible operand, or a gate with no possible operand at all: the operands'
        # conflicts are already reported. "At least k" with fewer than k possible operands is new here.
        if findings is not None and possible and expr.threshold < len(parts):
            findings.append(CriteriaFinding.of(kind, expr.text, sources))  # type: ignore[arg-type]
        return _Conflict(sources)
    if expr.threshold == len(parts):
        result = _meet(possible)
        if isinstance(result, _Conflict) and findings is not None:
            findings.append(CriteriaFinding.of(kind, expr.text, result.sources))  # type: ignore[arg-type]
        return result
    return _join(possible)


@dataclass(frozen=True)
class CriteriaFinding:
    """One result of :func:`analyze`: ``kind`` is ``"never"`` (``where`` can never hold: no record meets it)
    or ``"always"`` (``where`` holds for every record); ``clauses`` are the clauses that together cause it,
    in reading order; ``whole`` says whether ``where`` is the whole criteria."""

    kind: Literal["never", "always"]
    where: str
    clauses: tuple[str, ...]
    whole: bool = False

    @classmethod
    def of(cls, kind: Literal["never", "always"], where: str, sources: Iterable[str]) -> CriteriaFinding:
        return cls(kind, where, tuple(sorted(set(sources))))

    @property
    def message(self) -> str:
        subject = "the criteria" if self.whole else f"`{self.where}`"
        if self.kind == "never":
            if len(self.clauses) == 1:
                return f"{subject} can never be met: no record satisfies `{self.clauses[0]}`"
            named = " and ".join(f"`{clause}`" for clause in self.clauses)
            return f"{subject} can never be met: no record satisfies {named} together"
        named = ", ".join(f"`{clause}`" for clause in self.clauses)
        return f"{subject} always hold{'' if self.whole else 's'}: no record fails it (because of {named})"


def analyze(expr: Expr, *, order: Sequence[str] = ()) -> list[CriteriaFinding]:
    """The subformulas of ``expr`` that can never hold and those that always hold, each named with the
    clauses that cause it (``order``: the clause texts in reading order, to sort the names). Only the
    innermost cause is reported: an AND that contains a contradiction is not reported again."""
    never: list[CriteriaFinding] = []
    _box(expr, never, "never")
    always: list[CriteriaFinding] = []
    _box(negate(expr), always, "always")
    rank = {text: position for position, text in enumerate(order)}
    out: list[CriteriaFinding] = []
    for finding in [*never, *always]:
        clauses = tuple(sorted(finding.clauses, key=lambda text: (rank.get(text, len(rank)), text)))
        out.append(CriteriaFinding(finding.kind, finding.where, clauses, whole=finding.where == _text(expr)))
    unique: dict[tuple[str, str], CriteriaFinding] = {}
    for finding in out:
        unique.setdefault((finding.kind, finding.where), finding)
    return list(unique.values())


def _text(expr: Expr) -> str:
    return expr.text


# --------------------------------------------------------------------------- version 2 programs


def _set_atom(label: str, atom: object, max_record_age_days: int) -> Atom:
    """A :class:`~zkhealth.eligibility.program.SetAtom` as facts about two variables: which keys its set holds
    (``set:NAME``), and the value of the latest item of its key range (``last:NAME:LO-HI``, :data:`_ABSENT`
    when the range is empty), which ties together the atoms that read one code's latest value. ``LAST``
    (the latest item satisfies phi) and ``NONE_OR_LAST`` (none, or the latest satisfies phi) are exact when phi
    bounds only the value; ``ANY`` is exact when phi is trivial; the rest are bracketed."""
    from zkhealth.credentials.sorted_set import VALUE_BITS
    from zkhealth.eligibility.program import ANY, LAST, SetAtom

    assert isinstance(atom, SetAtom)  # noqa: S101 - internal: the caller dispatched on the type
    keys: Intervals = ((atom.key_lo, atom.key_hi),)
    present_values: Intervals = ((0, (1 << VALUE_BITS) - 1),)
    domain: Intervals = ((_ABSENT, (1 << VALUE_BITS) - 1),)
    last = f"last:{atom.set_name}:{atom.key_lo}-{atom.key_hi}"
    some: Fact = Exists(f"set:{atom.set_name}", keys)
    if atom.phi_false:
        values: Intervals = ()
    else:
        lo = 0 if atom.value_lo is None else max(0, atom.value_lo)
        hi = present_values[0][1] if atom.value_hi is None else atom.value_hi
        values = _merge([(lo, hi)])
    only_value = all(bound is None for bound in (atom.a_lo, atom.a_hi, atom.b_lo, atom.b_hi, atom.status_lo,
                                                 atom.status_hi))
    latest_present = ValueIn(last, present_values, domain)
    if atom.mode == ANY:
        if not values:
            return Atom(label, BOTTOM, BOTTOM)
        exact = only_value and atom.after is None and values == present_values
        return Atom(label, some, some if exact else BOTTOM, (latest_present,))
    # LAST and NONE_OR_LAST hold only on a complete record fresh enough for the trial (program.py).
    complete_and_fresh = (
        ValueIn("header:record_complete", ((1, 1),), ((0, 1),)),
        ValueIn("header:record_age_days", ((0, max_record_age_days),), ((0, 100_000),)),
    )
    if atom.mode == LAST:
        if not values:
            return Atom(label, BOTTOM, BOTTOM)
        latest = ValueIn(last, values, domain)
        return Atom(label, latest, latest if only_value else BOTTOM, requires=complete_and_fresh)
    empty = ValueIn(last, ((_ABSENT, _ABSENT),), domain)
    if not values:
        return Atom(label, empty, empty, requires=complete_and_fresh)
    latest_or_none = ValueIn(last, _merge([(_ABSENT, _ABSENT), *values]), domain)
    return Atom(label, latest_or_none, latest_or_none if only_value else empty, requires=complete_and_fresh)


def program_expr(program: object) -> Expr:
    """The abstract form of a version 2 criteria program (:class:`~zkhealth.eligibility.program.Program`):
    header atoms bound one value each; set atoms say which keys a set holds (see :func:`_set_atom_facts`)."""
    from zkhealth.eligibility.program import HEADER_ATOM_FIELDS, HeaderAtom, Leaf, Program
    from zkhealth.eligibility.program import Gate as ProgramGate

    if not isinstance(program, Program):
        raise TypeError("expected a Program")
    atoms = program.atoms

    def convert(node: object) -> Expr:
        if isinstance(node, Leaf):
            atom = atoms[node.atom]
            label = node.label or atom.describe()
            if isinstance(atom, HeaderAtom):
                low, high = HEADER_ATOM_FIELDS[atom.field]
                allowed = ((low if atom.lo is None else atom.lo, high if atom.hi is None else atom.hi),)
                return Atom.exact(label, ValueIn(f"header:{atom.field}", _merge(allowed), ((low, high),)))
            return _set_atom(label, atom, program.policy.max_record_age_days)
        assert isinstance(node, ProgramGate)  # noqa: S101 - a program's combination holds leaves and gates
        children = tuple(convert(child) for child in node.children)
        return Gate(node.label or f"at least {node.threshold} of {len(children)}", node.threshold, children)

    root = convert(program.root)
    if isinstance(root, Gate) and program.text and len(root.operands) > 0:
        root = Gate(program.text, root.threshold, root.operands)
    return root


def analyze_program(program: object) -> list[CriteriaFinding]:
    """:func:`analyze` for a version 2 criteria program."""
    from zkhealth.eligibility.program import Leaf, Program

    if not isinstance(program, Program):
        raise TypeError("expected a Program")
    order: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, Leaf):
            order.append(node.label or program.atoms[node.atom].describe())
        else:
            for child in getattr(node, "children", ()):
                walk(child)

    walk(program.root)
    return analyze(program_expr(program), order=order)
