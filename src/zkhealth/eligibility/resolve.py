"""Criteria checked against the credential schema, and evaluated natively.

:func:`resolve` turns a parsed criteria tree (:mod:`.criteria`) into a tree of *predicates* over the
credential vector of :mod:`zkhealth.credentials.schema`, with every constant already encoded the way the
vector encodes it (fixed-point lab values, enum numbers, date ordinals, ICD-10-CM intervals). The circuit
compiler (:mod:`.compiler`) and the native evaluator (:func:`evaluate`) both read this one tree, so they
agree by construction: the native result is the oracle for the circuit.

Predicates:

* :class:`SlotIn` -- an encoded slot lies in a union of disjoint intervals. Comparisons, ``between``,
  ``in {...}`` and ``!=`` on gender, research consent, lab values, blood pressure and the birth date all
  become this. Optional slots encode "absent" as 0, which no interval contains: a missing HbA1c never
  satisfies ``hba1c < 7`` nor ``hba1c >= 7``.
* :class:`AgeAtLeast` -- ``age >= N`` on the calendar (see :mod:`.calendar`). Every age clause is a
  combination of these: ``age < 75`` is ``not AgeAtLeast(75)``, ``age = 40`` is
  ``AgeAtLeast(40) and not AgeAtLeast(41)``.
* :class:`DiagnosisIn` -- some diagnosis slot holds a code in the intervals (exists-any; empty slots hold 0).
* :class:`DiagnosedWithin` -- some diagnosis slot holds a code in the intervals, dated no later than today
  and no earlier than ``N`` days / calendar months / calendar years before today.

Errors name the clause: an unknown field, a value of the wrong type (a date for ``hba1c``), an operator the
field does not support (``gender < male``), a constant with more decimals than the schema stores or outside
the slot's declared width, or a clause no credential can satisfy, all raise
:class:`~zkhealth.errors.CriteriaSyntaxError` (an :class:`~zkhealth.errors.EligibilityError`) with the
clause's column.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from zkhealth.credentials import icd10
from zkhealth.credentials.credential import Credential
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, EPOCH
from zkhealth.credentials.schema import CLAIM_LAYOUT, CLAIM_SPECS, GENDERS, MAX_DIAGNOSES, VECTOR_LENGTH
from zkhealth.eligibility.calendar import MONTH_SPAN, YEAR_SPAN, packed_ordinal
from zkhealth.eligibility.criteria import (
    And,
    AtLeast,
    Between,
    CodePattern,
    Compare,
    DiagnosedWithin,
    InSet,
    Node,
    Not,
    Or,
    Value,
    parse_criteria,
)
from zkhealth.errors import CriteriaSyntaxError, EligibilityError, EncodingError, NotEligibleError

__all__ = [
    "MAX_AGE",
    "AgeAtLeast",
    "Criteria",
    "DiagnosedWithinPredicate",
    "DiagnosisIn",
    "Evaluation",
    "Interval",
    "Predicate",
    "ResolvedAnd",
    "ResolvedClause",
    "ResolvedNode",
    "ResolvedNot",
    "ResolvedOr",
    "SlotIn",
    "evaluate",
    "resolve",
    "today_ordinal",
]

#: Largest age a criterion may name.
MAX_AGE: Final[int] = 150
#: Largest ``diagnosed_within`` span, per unit (about 200 years).
_MAX_SPAN: Final[dict[str, int]] = {"days": 73_000, "months": 2_400, "years": 200}

Interval = tuple[int, int]

_SPECS = {spec.name: spec for spec in CLAIM_SPECS}
_CONSENT_WORDS: Final[dict[str, int]] = {"true": 1, "yes": 1, "false": 0, "no": 0}
#: Criteria field name -> schema slot (``sex`` is an alias of ``gender``).
FIELD_SLOTS: Final[dict[str, str]] = {
    "gender": "gender",
    "sex": "gender",
    "research_consent": "research_consent",
    "hba1c": "hba1c",
    "egfr": "egfr",
    "systolic_bp": "systolic_bp",
    "birth_date": "birth_date",
}
#: Every field the criteria language knows.
FIELDS: Final[tuple[str, ...]] = ("age", "diagnosis", *FIELD_SLOTS)


# --------------------------------------------------------------------------- predicates


@dataclass(frozen=True)
class SlotIn:
    """The slot ``slot`` (declared width ``bits``) holds a value in one of ``intervals`` (inclusive, disjoint,
    sorted, never containing 0 for optional slots)."""

    slot: str
    bits: int
    intervals: tuple[Interval, ...]


@dataclass(frozen=True)
class AgeAtLeast:
    """Whole years of age on ``today`` are at least ``years``."""

    years: int


@dataclass(frozen=True)
class DiagnosisIn:
    """Some diagnosis slot holds a code in ``intervals`` (ICD-10-CM encodings, all >= 1)."""

    intervals: tuple[Interval, ...]


@dataclass(frozen=True)
class DiagnosedWithinPredicate:
    """Some diagnosis slot holds a code in ``intervals`` dated in ``[today - amount unit, today]``."""

    intervals: tuple[Interval, ...]
    amount: int
    unit: str


Predicate = SlotIn | AgeAtLeast | DiagnosisIn | DiagnosedWithinPredicate


@dataclass(frozen=True)
class ResolvedClause:
    """A leaf clause of the criteria: its source ``text`` and its meaning as a combination of predicates.

    ``formula`` is a predicate, or a tuple ``("not", f)`` / ``("and", f, g, ...)`` of formulas (age clauses
    combine several :class:`AgeAtLeast`)."""

    text: str
    column: int
    formula: Formula


Formula = Predicate | tuple[object, ...]


@dataclass(frozen=True)
class ResolvedNot:
    text: str
    operand: ResolvedNode


@dataclass(frozen=True)
class ResolvedAnd:
    text: str
    operands: tuple[ResolvedNode, ...]


@dataclass(frozen=True)
class ResolvedOr:
    text: str
    operands: tuple[ResolvedNode, ...]


ResolvedNode = ResolvedClause | ResolvedNot | ResolvedAnd | ResolvedOr


# --------------------------------------------------------------------------- resolution


def _fail(node: Node, message: str) -> CriteriaSyntaxError:
    return CriteriaSyntaxError(f"criterion `{node.text}`: {message}", column=node.column, text=node.text)


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _clip(intervals: list[Interval], domain: Interval) -> tuple[Interval, ...]:
    lo_d, hi_d = domain
    return _merge([(max(lo, lo_d), min(hi, hi_d)) for lo, hi in intervals])


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
    return _clip(table[op], domain)


def _encode_number(node: Node, field: str, value: Value) -> int:
    """A numeric constant in the slot's encoding (scaled fixed point or plain integer), width-checked."""
    spec = _SPECS[FIELD_SLOTS[field]]
    if not isinstance(value, Decimal):
        raise _fail(node, f"{field} is compared with numbers, not {_describe(value)}")
    decimals = spec.decimals if spec.kind == "fixed" else 0
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise _fail(
            node,
            f"{value} has more decimals than {field} is stored with ({decimals}); "
            f"use a multiple of {Decimal(1).scaleb(-decimals)}",
        )
    encoded = int(scaled)
    if not 0 <= encoded < 1 << spec.bits:
        raise _fail(node, f"{value} is outside the range {field} can hold ({spec.bits}-bit slot)")
    return encoded


def _encode_value(node: Node, field: str, value: Value) -> int:
    slot = FIELD_SLOTS[field]
    if slot == "gender":
        if not isinstance(value, str) or value not in GENDERS:
            raise _fail(node, f"{field} is one of {', '.join(GENDERS)}, not {_describe(value)}")
        return GENDERS.index(value) + 1
    if slot == "research_consent":
        if not isinstance(value, str) or value not in _CONSENT_WORDS:
            raise _fail(node, f"research_consent is true or false, not {_describe(value)}")
        return _CONSENT_WORDS[value]
    if slot == "birth_date":
        if not isinstance(value, _dt.date):
            raise _fail(node, f"birth_date is compared with a date YYYY-MM-DD, not {_describe(value)}")
        return value.toordinal()
    return _encode_number(node, field, value)


def _describe(value: Value) -> str:
    if isinstance(value, _dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Decimal):
        return f"the number {value}"
    return f"the word {value!r}"


def _domain(field: str) -> Interval:
    slot = FIELD_SLOTS[field]
    spec = _SPECS[slot]
    if slot == "gender":
        return (1, len(GENDERS))
    if slot == "research_consent":
        return (0, 1)
    if slot == "birth_date":
        return (1, _dt.date.max.toordinal())
    return (1 if spec.optional else 0, (1 << spec.bits) - 1)


def _slot_clause(node: Compare | Between | InSet) -> SlotIn:
    field = node.field
    slot = FIELD_SLOTS[field]
    spec = _SPECS[slot]
    domain = _domain(field)
    ordered = slot not in ("gender", "research_consent")
    if isinstance(node, Compare):
        if not ordered and node.op not in ("=", "!="):
            raise _fail(node, f"{field} supports only =, != and in, not {node.op}")
        intervals = _op_intervals(node.op, _encode_value(node, field, node.value), domain)
    elif isinstance(node, Between):
        if not ordered:
            raise _fail(node, f"{field} supports only =, != and in, not between")
        low, high = _encode_value(node, field, node.low), _encode_value(node, field, node.high)
        if low > high:
            raise _fail(node, "the lower bound is above the upper bound")
        intervals = _clip([(low, high)], domain)
    else:
        if node.codes:
            raise _fail(node, f"{field} takes values, not ICD-10-CM codes")
        values = [_encode_value(node, field, v) for v in node.values]
        intervals = _clip([(v, v) for v in values], domain)
    if not intervals:
        raise _fail(node, "no credential can satisfy this criterion (absent values never match)")
    return SlotIn(slot, spec.bits, intervals)


def _age_integer(node: Node, value: Value) -> int:
    if not isinstance(value, Decimal) or value != value.to_integral_value():
        raise _fail(node, f"age is compared with whole years, not {_describe(value)}")
    years = int(value)
    if not 0 <= years <= MAX_AGE:
        raise _fail(node, f"age {years} is outside 0..{MAX_AGE}")
    return years


def _age_clause(node: Node) -> Formula:
    def at_least(n: int) -> Formula:
        # age >= 0 still says "born no later than today"; age >= MAX_AGE + 1 is an honest comparison too.
        return AgeAtLeast(n)

    def exactly(n: int) -> Formula:
        return ("and", at_least(n), ("not", at_least(n + 1)))

    if isinstance(node, Compare):
        n = _age_integer(node, node.value)
        formulas: dict[str, Formula] = {
            ">=": at_least(n),
            ">": at_least(n + 1),
            "<": ("not", at_least(n)),
            "<=": ("not", at_least(n + 1)),
            "=": exactly(n),
            "!=": ("not", exactly(n)),
        }
        return formulas[node.op]
    if isinstance(node, Between):
        low, high = _age_integer(node, node.low), _age_integer(node, node.high)
        if low > high:
            raise _fail(node, "the lower bound is above the upper bound")
        return ("and", at_least(low), ("not", at_least(high + 1)))
    if isinstance(node, InSet):
        if node.codes or not node.values:
            raise _fail(node, "age takes whole numbers")
        years = sorted({_age_integer(node, v) for v in node.values})
        return ("or", *(exactly(n) for n in years))
    raise _fail(node, "age does not support this form")


def _code_intervals(node: Node, codes: Sequence[CodePattern]) -> tuple[Interval, ...]:
    intervals: list[Interval] = []
    for pattern in codes:
        text = pattern.first if pattern.last is None else f"{pattern.first}-{pattern.last}"
        if pattern.last is None and pattern.text.endswith("*"):
            text = pattern.text.upper()
        try:
            intervals.append(icd10.code_range(text))
        except EncodingError as exc:
            raise _fail(node, f"{pattern.text}: {exc}") from None
    return _merge(intervals)


def _v2_only(node: Node) -> bool:
    """Whether a clause uses language that only schema version 2 can check (windows, selectors, code systems
    other than ICD-10-CM, counts, thresholds, the ``active`` qualifier)."""
    if not isinstance(node, Compare | Between | InSet | DiagnosedWithin):
        return True
    if isinstance(node, Compare | Between | InSet) and (node.windows or node.selector is not None):
        return True
    if isinstance(node, InSet) and (node.active or any(c.system != "icd10cm" for c in node.codes)):
        return True
    return isinstance(node, Compare | Between | InSet) and node.field not in FIELDS


def _clause(node: Node) -> ResolvedClause:
    if _v2_only(node):
        raise _fail(node, "this criterion needs a schema version 2 credential (zkhealth.eligibility.program)")
    if isinstance(node, DiagnosedWithin):
        if not 1 <= node.amount <= _MAX_SPAN[node.unit]:
            raise _fail(node, f"the period must be 1..{_MAX_SPAN[node.unit]} {node.unit}")
        formula: Formula = DiagnosedWithinPredicate(_code_intervals(node, node.codes), node.amount, node.unit)
        return ResolvedClause(node.text, node.column, formula)
    if not isinstance(node, Compare | Between | InSet):
        raise _fail(node, "not a criterion")
    field = node.field
    if field == "diagnosis":
        if not isinstance(node, InSet) or not node.codes:
            raise _fail(node, "diagnosis takes `in` with ICD-10-CM codes, e.g. `diagnosis in E11.*`")
        return ResolvedClause(node.text, node.column, DiagnosisIn(_code_intervals(node, node.codes)))
    if field == "age":
        return ResolvedClause(node.text, node.column, _age_clause(node))
    if field in FIELD_SLOTS:
        return ResolvedClause(node.text, node.column, _slot_clause(node))
    raise _fail(node, f"unknown field {field!r}; known fields: {', '.join(FIELDS)}")


def resolve(node: Node) -> ResolvedNode:
    """Check a parsed criteria tree against the schema and encode its constants (see the module docstring).

    Raises :class:`CriteriaSyntaxError` naming the clause. Cost: linear in the tree (ICD-10-CM prefix
    patterns that are not codes scan the code table once each).
    """
    if isinstance(node, Not):
        return ResolvedNot(node.text, resolve(node.operand))
    if isinstance(node, And):
        return ResolvedAnd(node.text, tuple(resolve(op) for op in node.operands))
    if isinstance(node, Or):
        return ResolvedOr(node.text, tuple(resolve(op) for op in node.operands))
    if isinstance(node, AtLeast):
        raise _fail(node, "`at least K of` needs a schema version 2 credential (zkhealth.eligibility.program)")
    return _clause(node)


# --------------------------------------------------------------------------- native evaluation


def today_ordinal(today: int | _dt.date) -> int:
    """The proleptic ordinal of ``today`` given as an epoch day (int) or a ``date``."""
    if isinstance(today, _dt.datetime):
        raise EligibilityError("today must be a date or an epoch day, not a datetime")
    if isinstance(today, _dt.date):
        if today < EPOCH:
            raise EligibilityError("today must not be before 1970-01-01")
        return today.toordinal()
    if isinstance(today, bool) or not isinstance(today, int) or not 0 <= today < 1 << 32:
        raise EligibilityError("today must be an epoch day in [0, 2^32) or a date")
    return today + CLINICAL_DATE_OFFSET


def _vector(credential: Credential | Sequence[int]) -> list[int]:
    if isinstance(credential, Credential):
        return credential.field_elements()
    if isinstance(credential, str | bytes) or not isinstance(credential, Sequence):
        raise EligibilityError(f"expected a Credential or its vector, got {type(credential).__name__}")
    vector = list(credential)
    if len(vector) != VECTOR_LENGTH or any(isinstance(v, bool) or not isinstance(v, int) for v in vector):
        raise EligibilityError(f"a credential vector has {VECTOR_LENGTH} ints")
    return vector


def _in(value: int, intervals: tuple[Interval, ...]) -> bool:
    return any(lo <= value <= hi for lo, hi in intervals)


def _diagnoses(vector: list[int]) -> list[tuple[int, int]]:
    out = []
    for slot in range(1, MAX_DIAGNOSES + 1):
        out.append((vector[CLAIM_LAYOUT[f"dx{slot}_code"][0]], vector[CLAIM_LAYOUT[f"dx{slot}_date"][0]]))
    return out


def _within(predicate: DiagnosedWithinPredicate, dx_date: int, today_ord: int) -> bool:
    if predicate.unit == "days":
        return dx_date <= today_ord <= dx_date + predicate.amount
    span = (YEAR_SPAN if predicate.unit == "years" else MONTH_SPAN) * predicate.amount
    packed_dx, packed_today = packed_ordinal(dx_date), packed_ordinal(today_ord)
    return packed_dx <= packed_today <= packed_dx + span


def _formula_holds(formula: Formula, vector: list[int], today_ord: int) -> bool:
    if isinstance(formula, tuple):
        op, *args = formula
        if op == "not":
            return not _formula_holds(args[0], vector, today_ord)  # type: ignore[arg-type]
        results = (_formula_holds(arg, vector, today_ord) for arg in args)  # type: ignore[arg-type]
        return all(results) if op == "and" else any(results)
    if isinstance(formula, SlotIn):
        return _in(vector[CLAIM_LAYOUT[formula.slot][0]], formula.intervals)
    if isinstance(formula, AgeAtLeast):
        birth = vector[CLAIM_LAYOUT["birth_date"][0]]
        return packed_ordinal(birth) + YEAR_SPAN * formula.years <= packed_ordinal(today_ord)
    if isinstance(formula, DiagnosisIn):
        return any(code != 0 and _in(code, formula.intervals) for code, _ in _diagnoses(vector))
    return any(
        code != 0 and _in(code, formula.intervals) and _within(formula, when, today_ord)
        for code, when in _diagnoses(vector)
    )


@dataclass(frozen=True)
class Evaluation:
    """The native verdict: ``eligible``, and when not, ``failing_clause`` (source text of the first clause,
    in reading order, that makes the criteria fail)."""

    eligible: bool
    failing_clause: str | None = None

    def raise_if_not_eligible(self) -> None:
        """Raise :class:`NotEligibleError` (with ``clause``) unless eligible."""
        if not self.eligible:
            clause = self.failing_clause or "?"
            raise NotEligibleError(f"criterion `{clause}` not met", clause=clause)


def _explain(node: ResolvedNode, vector: list[int], today_ord: int) -> tuple[bool, str | None]:
    """(holds, the clause to blame when it does not)."""
    if isinstance(node, ResolvedClause):
        holds = _formula_holds(node.formula, vector, today_ord)
        return holds, None if holds else node.text
    if isinstance(node, ResolvedNot):
        inner, _ = _explain(node.operand, vector, today_ord)
        return (not inner), (node.text if inner else None)
    if isinstance(node, ResolvedAnd):
        for operand in node.operands:
            holds, blame = _explain(operand, vector, today_ord)
            if not holds:
                return False, blame
        return True, None
    for operand in node.operands:
        holds, _ = _explain(operand, vector, today_ord)
        if holds:
            return True, None
    return False, node.text


def evaluate(
    criteria: ResolvedNode | Criteria | str, credential: Credential | Sequence[int], today: int | _dt.date
) -> Evaluation:
    """Evaluate criteria natively on a credential (or its 26-element vector) on ``today`` (epoch day or date).

    Exactly the predicate the circuit enforces. A failing ``and`` blames its first failing operand, a
    failing ``or`` blames itself (every alternative failed), a failing ``not X`` blames itself. Cost: a few
    microseconds per clause.
    """
    if isinstance(criteria, str):
        criteria = Criteria(criteria)
    tree = criteria.resolved if isinstance(criteria, Criteria) else criteria
    holds, blame = _explain(tree, _vector(credential), today_ordinal(today))
    return Evaluation(holds, blame)


# --------------------------------------------------------------------------- the criteria object

_WHITESPACE = re.compile(r"\s+")


class Criteria:
    """Parsed and schema-checked criteria text: ``tree`` (syntax), ``resolved`` (predicates), ``sha256``.

    ``sha256`` hashes the text with whitespace runs collapsed (so reformatting a file does not change it,
    while any change of a constant, operator or code does); it is stored with the proving keys.
    """

    __slots__ = ("resolved", "sha256", "text", "tree")

    def __init__(self, text: str) -> None:
        self.tree = parse_criteria(text)
        self.text = text
        self.resolved = resolve(self.tree)
        normalized = _WHITESPACE.sub(" ", text).strip()
        self.sha256 = hashlib.sha256(normalized.encode("utf-8")).hexdigest()

    def evaluate(self, credential: Credential | Sequence[int], today: int | _dt.date) -> Evaluation:
        """:func:`evaluate` with these criteria."""
        return evaluate(self.resolved, credential, today)

    def clauses(self) -> list[ResolvedClause]:
        """The leaf clauses, in reading order."""
        out: list[ResolvedClause] = []

        def walk(node: ResolvedNode) -> None:
            if isinstance(node, ResolvedClause):
                out.append(node)
            elif isinstance(node, ResolvedNot):
                walk(node.operand)
            else:
                for operand in node.operands:
                    walk(operand)

        walk(self.resolved)
        return out

    def __repr__(self) -> str:
        return f"Criteria({self.text!r})"
