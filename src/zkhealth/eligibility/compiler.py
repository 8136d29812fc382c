"""The criteria compiler: resolved criteria (:mod:`.resolve`) to circuit constraints producing one boolean.

:func:`criteria_signal` walks the resolved tree and returns a 0/1 signal that is 1 exactly when
:func:`zkhealth.eligibility.resolve.evaluate` says "eligible" for the same credential vector and ``today``.
Constants are compiled in (they are Python ints here, so the verifying key pins them). Every slot a
comparison reads is first range-checked at the width the schema declares for it (a check the builder
performs once per slot, however many clauses read it); comparisons then run at that width, or at the
width the builder can prove for derived values (packed dates: 22 bits).

Costs (after linear elimination), with ``w`` the slot width:

* a value in an interval: ``w + 1`` per bound that is not the edge of the slot's range, 1 to AND two
  bounds, 2 for a single value (``is_equal``); disjoint intervals are summed for free;
* ``age >= N``: one comparison of packed dates (23), plus one calendar decomposition of the birth date and
  one of ``today`` (86 each, shared by every clause that needs them);
* ``diagnosis in S``: per diagnosis slot, a 20-bit range check of the code and its interval test; then
  3 for the exists-any;
* ``diagnosed_within``: as ``diagnosis in`` plus, per slot, the date window (two comparisons: of ordinals
  for days, of packed dates after a calendar decomposition of the slot's date for months and years);
* ``not``: free; ``and`` of k operands: k - 1 products; ``or`` of k operands: k - 1 products.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkhealth.circuit.builder import Builder
from zkhealth.circuit.gadgets.basic import is_equal
from zkhealth.circuit.gadgets.bits import range_check
from zkhealth.circuit.gadgets.comparators import greater_eq, less_eq
from zkhealth.circuit.signal import Signal
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, DATE_BITS
from zkhealth.credentials.schema import CLAIM_LAYOUT, MAX_DIAGNOSES, VECTOR_LENGTH
from zkhealth.eligibility.calendar import MONTH_SPAN, YEAR_SPAN, CivilDate, civil_date
from zkhealth.eligibility.resolve import (
    AgeAtLeast,
    DiagnosedWithinPredicate,
    DiagnosisIn,
    Formula,
    Interval,
    ResolvedAnd,
    ResolvedClause,
    ResolvedNode,
    ResolvedNot,
    SlotIn,
)
from zkhealth.errors import CircuitDefinitionError

__all__ = ["clause_scope_name", "criteria_signal"]


def clause_scope_name(text: str) -> str:
    """The scope name of a clause in constraint labels (its text; ``/`` is not allowed in scope names)."""
    cleaned = " ".join(text.split()).replace("/", "\u2215")
    return cleaned or "clause"


class _CriteriaCompiler:
    def __init__(self, b: Builder, claims: Sequence[Signal], today: Signal) -> None:
        if len(claims) != VECTOR_LENGTH:
            raise CircuitDefinitionError(f"the credential vector has {VECTOR_LENGTH} signals")
        self.b = b
        self.claims = list(claims)
        self.today = today
        self._civil: dict[str, CivilDate] = {}
        self._age: dict[int, Signal] = {}
        self._code_match: dict[tuple[int, tuple[Interval, ...]], Signal] = {}

    # ------------------------------------------------------------------ shared values

    def slot(self, name: str) -> Signal:
        """The slot's signal, range-checked at its declared width (once per slot)."""
        index, bits = CLAIM_LAYOUT[name]
        signal = self.claims[index]
        with self.b.scope("ranges"):
            range_check(self.b, signal, bits)
        return signal

    def today_ordinal(self) -> Signal:
        with self.b.scope("ranges"):
            range_check(self.b, self.today, DATE_BITS)
        return self.today + CLINICAL_DATE_OFFSET

    def civil(self, slot: str) -> CivilDate:
        """Calendar decomposition of a date slot (or of ``today``), made once per slot.

        No separate 32-bit range check: the decomposition itself proves ``ordinal + 146097`` equals a sum of
        range-checked calendar terms (below 2^22), and it is a bijection on that range, so a value cannot
        wrap around r into another date."""
        cached = self._civil.get(slot)
        if cached is None:
            with self.b.scope("calendar"):
                if slot == "today":
                    ordinal = self.today + CLINICAL_DATE_OFFSET
                else:
                    ordinal = self.claims[CLAIM_LAYOUT[slot][0]]
                cached = civil_date(self.b, ordinal)
            self._civil[slot] = cached
        return cached

    # ------------------------------------------------------------------ comparisons

    def compare_le(self, x: Signal, y: Signal) -> Signal:
        """1 if x <= y, at the width the builder proves for both."""
        bits = max(self._bits(x), self._bits(y))
        return less_eq(self.b, x, y, bits=bits)

    def _bits(self, x: Signal) -> int:
        known = self.b.known_bits(x)
        if known is None:
            raise CircuitDefinitionError("internal: comparing a value of unknown width")
        return max(known, 1)

    def in_intervals(self, x: Signal, bits: int, intervals: tuple[Interval, ...]) -> Signal:
        """1 if the ``bits``-bit value x lies in one of the disjoint intervals."""
        top = (1 << bits) - 1
        indicators: list[Signal] = []
        for lo, hi in intervals:
            if lo == hi:
                indicators.append(is_equal(self.b, x, lo))
                continue
            parts: list[Signal] = []
            if lo > 0:
                parts.append(greater_eq(self.b, x, lo, bits=bits))
            if hi < top:
                parts.append(less_eq(self.b, x, hi, bits=bits))
            if not parts:
                indicators.append(self.b.constant(1))
            elif len(parts) == 1:
                indicators.append(parts[0])
            else:
                indicators.append(self._and(parts))
        total = self.b.linear_combination(indicators, [1] * len(indicators))
        self.b.note_range(total, 1)  # disjoint intervals: at most one indicator is 1
        return total

    # ------------------------------------------------------------------ boolean combinations

    def _and(self, operands: Sequence[Signal]) -> Signal:
        # A chain of products, not a zero test of (sum - k): when the circuit asserts the result is 1, the
        # zero test's inverse hint would be left in no constraint after linear elimination.
        out = operands[0]
        for operand in operands[1:]:
            out = self.b.mul(out, operand)
            self.b.note_range(out, 1)
        return out

    def _or(self, operands: Sequence[Signal]) -> Signal:
        if len(operands) == 1:
            return operands[0]
        # 1 - prod(1 - x): k - 1 products and no hint. A zero test of the sum (2 constraints) looked cheaper,
        # but under a negation asserted true (`not diagnosis in E10`, `not (a or b or c)`) the sum is forced to
        # 0 and linear elimination leaves the zero test's inverse hint in no constraint (issue 14).
        none = 1 - operands[0]
        for operand in operands[1:]:
            none = self.b.mul(none, 1 - operand)
        out = 1 - none
        self.b.note_range(out, 1)
        return out

    def _not(self, operand: Signal) -> Signal:
        out = 1 - operand
        self.b.note_range(out, 1)
        return out

    # ------------------------------------------------------------------ predicates

    def age_at_least(self, years: int) -> Signal:
        cached = self._age.get(years)
        if cached is None:
            birth, today = self.civil("birth_date"), self.civil("today")
            cached = self.compare_le(birth.packed + YEAR_SPAN * years, today.packed)
            self._age[years] = cached
        return cached

    def code_match(self, slot: int, intervals: tuple[Interval, ...]) -> Signal:
        key = (slot, intervals)
        cached = self._code_match.get(key)
        if cached is None:
            name = f"dx{slot}_code"
            cached = self.in_intervals(self.slot(name), CLAIM_LAYOUT[name][1], intervals)
            self._code_match[key] = cached
        return cached

    def diagnosis_in(self, predicate: DiagnosisIn) -> Signal:
        matches = [self.code_match(slot, predicate.intervals) for slot in range(1, MAX_DIAGNOSES + 1)]
        return self._or(matches)

    def diagnosed_within(self, predicate: DiagnosedWithinPredicate) -> Signal:
        matches: list[Signal] = []
        for slot in range(1, MAX_DIAGNOSES + 1):
            code = self.code_match(slot, predicate.intervals)
            with self.b.scope(f"dx{slot}_window"):
                if predicate.unit == "days":
                    when = self.slot(f"dx{slot}_date")
                    today = self.today_ordinal()
                    not_future = self.compare_le(when, today)
                    recent = self.compare_le(today, when + predicate.amount)
                else:
                    span = (YEAR_SPAN if predicate.unit == "years" else MONTH_SPAN) * predicate.amount
                    when_civil, today_civil = self.civil(f"dx{slot}_date"), self.civil("today")
                    not_future = self.compare_le(when_civil.packed, today_civil.packed)
                    recent = self.compare_le(today_civil.packed, when_civil.packed + span)
                matches.append(self._and([code, not_future, recent]))
        return self._or(matches)

    def formula(self, formula: Formula) -> Signal:
        if isinstance(formula, tuple):
            op, *args = formula
            signals = [self.formula(arg) for arg in args]  # type: ignore[arg-type]
            if op == "not":
                return self._not(signals[0])
            return self._and(signals) if op == "and" else self._or(signals)
        if isinstance(formula, SlotIn):
            return self.in_intervals(self.slot(formula.slot), formula.bits, formula.intervals)
        if isinstance(formula, AgeAtLeast):
            return self.age_at_least(formula.years)
        if isinstance(formula, DiagnosisIn):
            return self.diagnosis_in(formula)
        return self.diagnosed_within(formula)

    def node(self, node: ResolvedNode) -> Signal:
        if isinstance(node, ResolvedClause):
            with self.b.scope(clause_scope_name(node.text)):
                return self.formula(node.formula)
        if isinstance(node, ResolvedNot):
            return self._not(self.node(node.operand))
        operands = [self.node(operand) for operand in node.operands]
        with self.b.scope("combine"):
            return self._and(operands) if isinstance(node, ResolvedAnd) else self._or(operands)


def criteria_signal(b: Builder, criteria: ResolvedNode, claims: Sequence[Signal], today: Signal) -> Signal:
    """A 0/1 signal that is 1 iff the credential vector ``claims`` meets ``criteria`` on ``today``.

    ``claims`` are the 26 signals of the credential vector (schema.py order), ``today`` the public epoch
    day. Enforces the range checks of every slot read (declared widths), of ``today`` (32 bits) and the
    calendar decompositions' validity; witness solving fails for a vector that violates a declared width.
    The caller asserts the result (``b.assert_equal(ok, 1)``). Cost: see the module docstring.
    """
    return _CriteriaCompiler(b, claims, today).node(criteria)
