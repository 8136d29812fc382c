"""The criteria language: what a recruiter writes, parsed into a small typed tree.

Grammar (EBNF; keywords are case-insensitive, whitespace is free)::

    criteria   = or_expr EOF
    or_expr    = and_expr { "or" and_expr }
    and_expr   = not_expr { "and" not_expr }
    not_expr   = "not" not_expr | primary
    primary    = "(" or_expr ")" | at_least | count | measured | call | clause
    at_least   = "at" "least" INT "of" "(" or_expr { "," or_expr } ")"
    count      = "count" "(" clause ")" OP INT
    measured   = SELECTOR "(" FIELD ")" [ OP value | "between" value "and" value | "not"? "in" set ] { window }
    clause     = "active"? FIELD ( OP value | "between" value "and" value
                                 | "not"? "in" set [ dose ] [ "of" codes ] ) { window }
               | FIELD window { window }                     (record_as_of within 30 days)
    dose       = "with" "dose" ( OP NUMBER | "between" NUMBER "and" NUMBER ) DOSE_UNIT
    DOSE_UNIT  = "mg" | "ug" | "mcg"                          (per day)
    call       = "diagnosed_within" "(" codes "," INT UNIT ")"
    window     = "within" INT UNIT | "in" "the" "last" INT UNIT | "started" "within" INT UNIT
               | "before" DATE | "after" DATE | "since" DATE
               | "at" "least" INT UNIT "ago" | "more" "than" INT UNIT "ago" | "for" "at" "least" INT UNIT
    set        = codes | "{" item { "," item } "}" | "[" item { "," item } "]"
    codes      = CODE | "{" CODE { "," CODE } "}"
    CODE       = [ SYSTEM ":" ] pattern      (E11, E11.*, O00-O9A, snomed:44054006, atc:A10B, rxnorm:6809,
                                              pcs:0D16, loinc:4548-4, cvx:03)
    SELECTOR   = "latest" | "any"
    value      = NUMBER | DATE | WORD | GRADE       (DATE is YYYY-MM-DD; WORD an enum value such as female;
                                                  GRADE a dipstick grade such as 2+)
    OP         = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    UNIT       = "day(s)" | "week(s)" | "month(s)" | "year(s)"

Fields are the header fields (``age``, ``gender``/``sex``, ``research_consent``, ``birth_date``,
``record_complete``, ``record_as_of``), the coded entries, which take ``in`` with codes: ``diagnosis`` (ICD-10-CM
by default), ``medication`` (ATC), ``procedure`` (ICD-10-PCS), ``allergy`` (an allergy or intolerance to a
substance: ATC, ``rxnorm:``, ``snomed:``), ``hospitalization`` (a hospital admission, by its reason: ICD-10-CM or
``snomed:``), ``immunization`` (a vaccine given: CVX by default, or ``snomed:``), ``histology`` and
``cancer_stage`` (SNOMED CT concepts recorded with a diagnosis; ``of C34.*`` names the diagnosis they qualify),
and the observations of the credential schema's table (``hba1c``, ``egfr``, ``bmi``, ``smoking_status``,
``pack_years``...; or ``loinc:NNNN-N``). A medication clause may bound the daily dose: ``medication in
atc:A10BA02 with dose >= 1500 mg`` (one recorded entry has that dose; the units of ``codes.DOSES``). A bare
observation (``hba1c >= 7``) means its latest value; ``any(hba1c) >= 9`` means some value. Which fields exist and
what their values mean is checked by the program compiler (:mod:`.program`) against the schema, not here.

``diagnosis in S`` means *some* diagnosis lies in ``S``; ``not diagnosis in S`` means *none* does. The
v1 call ``diagnosed_within(S, 5 years)`` is ``diagnosis in S within 5 years``.

A syntax error raises :class:`~zkhealth.errors.CriteriaSyntaxError` with the 1-based ``column`` of the
offending character, and its message shows the text with a caret under that column. So does text beyond the
parser's limits, checked as it reads (never by running into Python's recursion limit): more than
:data:`MAX_CRITERIA_CHARS` characters, parentheses, ``not`` and ``at least`` nested deeper than
:data:`MAX_NESTING`, more than :data:`MAX_CLAUSES` clauses, or a number longer than :data:`MAX_NUMBER_CHARS`
characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal

from zkhealth.errors import CriteriaSyntaxError

ComparisonOp = Literal["=", "!=", "<", "<=", ">", ">="]
DurationUnit = Literal["days", "weeks", "months", "years"]
WindowKind = Literal["within", "started_within", "before", "after", "since", "ago", "more_than_ago", "for_at_least"]

#: Literal values: exact decimals for numbers, dates, or lower-case words for enums.
Value = Decimal | date | str


@dataclass(frozen=True)
class Node:
    """Base of the criteria tree. ``text`` is the source text of the node, used to name failing clauses."""

    text: str
    column: int


@dataclass(frozen=True)
class Window:
    """A time window on a clause: ``within 90 days`` (``amount``/``unit``), ``before 2020-01-01`` (``day``)..."""

    kind: WindowKind
    column: int
    amount: int = 0
    unit: DurationUnit = "days"
    day: date | None = None

    def describe(self) -> str:
        if self.day is not None:
            return f"{self.kind} {self.day.isoformat()}"
        words = {"within": "within", "started_within": "started within", "ago": "at least",
                 "more_than_ago": "more than", "for_at_least": "for at least"}
        suffix = " ago" if self.kind in ("ago", "more_than_ago") else ""
        return f"{words[self.kind]} {self.amount} {self.unit}{suffix}"


@dataclass(frozen=True)
class Compare(Node):
    """``field op value`` (``selector`` ``latest``/``any`` when written as ``latest(field) op value``)."""

    field: str
    op: ComparisonOp
    value: Value
    windows: tuple[Window, ...] = ()
    selector: str | None = None


@dataclass(frozen=True)
class Between(Node):
    """``field between low and high``, both bounds inclusive."""

    field: str
    low: Value
    high: Value
    windows: tuple[Window, ...] = ()
    selector: str | None = None


@dataclass(frozen=True)
class CodePattern:
    """One code pattern as written. ICD-10-CM (the default system of ``diagnosis``): ``E11`` / ``E11.*`` (a
    category or subtree), ``E11.65``, or ``O00-O9A`` (``first``/``last``); other systems: ``system:code``
    (``snomed:44054006``, ``atc:A10B``, ``rxnorm:6809``, ``pcs:0D16``), with ``first`` the code text."""

    text: str
    first: str
    last: str | None = None
    system: str = "icd10cm"
    column: int = 0


@dataclass(frozen=True)
class DoseBound:
    """``with dose >= 1500 mg`` (``op`` and ``value``) or ``with dose between 500 and 1000 ug`` (``value`` and
    ``high``): a bound on a medication entry's daily dose, in ``unit`` per day."""

    op: ComparisonOp | Literal["between"]
    value: Decimal
    unit: str
    column: int
    high: Decimal | None = None


@dataclass(frozen=True)
class InSet(Node):
    """``field in {a, b, ...}`` for enums and numbers, or ``diagnosis in <codes>`` (exists-any), with optional
    windows, the ``active`` qualifier, a ``dose`` bound (medications) and ``of`` codes (the diagnosis a
    histology or stage qualifies)."""

    field: str
    values: tuple[Value, ...] = ()
    codes: tuple[CodePattern, ...] = ()
    windows: tuple[Window, ...] = ()
    active: bool = False
    selector: str | None = None
    dose: DoseBound | None = None
    of_codes: tuple[CodePattern, ...] = ()


@dataclass(frozen=True)
class Measured(Node):
    """``latest(field) within 90 days`` / ``record_as_of within 30 days``: a field with windows, no value test."""

    field: str
    windows: tuple[Window, ...]
    selector: str | None = None


@dataclass(frozen=True)
class DiagnosedWithin(Node):
    """``diagnosed_within(codes, amount unit)``: some diagnosis in ``codes`` dated within the period."""

    codes: tuple[CodePattern, ...]
    amount: int
    unit: DurationUnit


@dataclass(frozen=True)
class Count(Node):
    """``count(clause) op k``: the number of recorded items the clause matches, compared with ``k``."""

    operand: Node
    op: ComparisonOp
    k: int


@dataclass(frozen=True)
class AtLeast(Node):
    """``at least k of (a, b, ...)``."""

    k: int
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]


_ICD_CODE = r"[A-Za-z][0-9][0-9A-Za-z](?:\.[0-9A-Za-z]{1,4})?"
_ICD_PATTERN = re.compile(rf"({_ICD_CODE})(?:(\.?\*)|-({_ICD_CODE}))?")
_SYSTEM_CODE = re.compile(r"([A-Za-z][A-Za-z0-9]*):([0-9A-Za-z][0-9A-Za-z.\-]*\*?)")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9A-Za-z_]))
  | (?P<grade>[0-9]\+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z_.]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|==|=|<|>)
  | (?P<punct>[(){}\[\],])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "between"})
#: Units of a daily dose, as written -> the UCUM unit of the dose table.
DOSE_UNITS: Final[dict[str, str]] = {"mg": "mg", "ug": "ug", "mcg": "ug"}
_UNITS: Final[dict[str, DurationUnit]] = {
    "day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months", "year": "years", "years": "years",
}
_LEGACY_UNITS: Final[frozenset[str]] = frozenset({"days", "months", "years"})
#: Fields whose values are clinical codes (``in`` takes code patterns), with the default code system.
CODE_FIELDS: Final[dict[str, str]] = {
    "diagnosis": "icd10cm", "medication": "atc", "procedure": "icd10pcs", "allergy": "atc",
    "hospitalization": "icd10cm", "hospitalisation": "icd10cm", "histology": "snomed", "cancer_stage": "snomed",
    "immunization": "cvx",
}
#: Code fields that take ``of <diagnosis codes>``.
QUALIFIER_FIELDS: Final[frozenset[str]] = frozenset({"histology", "cancer_stage"})
#: Code-system prefixes accepted in criteria, and the system each names.
SYSTEM_NAMES: Final[dict[str, str]] = {
    "icd10": "icd10cm", "icd10cm": "icd10cm", "icd": "icd10cm",
    "snomed": "snomed", "sct": "snomed",
    "atc": "atc", "rxnorm": "rxnorm", "rxcui": "rxnorm",
    "pcs": "icd10pcs", "icd10pcs": "icd10pcs",
    "loinc": "loinc",
    "cvx": "cvx",
}
_SELECTORS: Final[frozenset[str]] = frozenset({"latest", "any"})
_MAX_AMOUNT: Final[int] = 100_000
#: Longest criteria text accepted.
MAX_CRITERIA_CHARS: Final[int] = 16_384
#: Deepest nesting of parentheses, ``not`` and ``at least`` accepted.
MAX_NESTING: Final[int] = 32
#: Most clauses in one criteria text.
MAX_CLAUSES: Final[int] = 256
#: Longest number literal accepted (digits and the decimal point).
MAX_NUMBER_CHARS: Final[int] = 32


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.nesting = 0
        self.clause_count = 0

    def nest(self, at: int) -> None:
        """Enter one level of parentheses, ``not`` or ``at least``; refuse past :data:`MAX_NESTING`."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"parentheses, 'not' and 'at least' nest deeper than {MAX_NESTING} levels", at)

    # ----------------------------------------------------------------- scanning

    def error(self, message: str, pos: int | None = None) -> CriteriaSyntaxError:
        at = self.pos if pos is None else pos
        caret = " " * at + "^"
        return CriteriaSyntaxError(
            f"{message} at column {at + 1}\n  {self.text}\n  {caret}", column=at + 1, text=self.text
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> tuple[str, str, int]:
        """The next token as (kind, text, start) without consuming it; kind "eof" at the end."""
        self.skip_space()
        if self.pos >= len(self.text):
            return ("eof", "", self.pos)
        match = _TOKEN.match(self.text, self.pos)
        if match is None or match.lastgroup is None:
            raise self.error(f"unexpected character {self.text[self.pos]!r}")
        return (match.lastgroup, match.group(), self.pos)

    def peek_words(self, count: int) -> list[str]:
        """The next ``count`` tokens' lower-cased texts (fewer at the end), without consuming them."""
        saved = self.pos
        words: list[str] = []
        try:
            for _ in range(count):
                kind, text, _ = self.take()
                if kind == "eof":
                    break
                words.append(text.lower())
        except CriteriaSyntaxError:
            pass
        self.pos = saved
        return words

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token[0] == "number" and len(token[1]) > MAX_NUMBER_CHARS:
            raise self.error(f"a number longer than {MAX_NUMBER_CHARS} characters", token[2])
        self.pos = token[2] + len(token[1])
        return token

    def at_keyword(self, word: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "word" and text.lower() == word

    def ahead_is(self, word: str) -> bool:
        """Whether the next token is the keyword ``word``, without consuming anything (spaces included, so a
        clause's text ends at its last token)."""
        saved = self.pos
        found = self.at_keyword(word)
        self.pos = saved
        return found

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise self.error(f"expected '{word}'")
        self.take()

    def expect_punct(self, symbol: str) -> None:
        kind, text, _ = self.peek()
        if kind != "punct" or text != symbol:
            raise self.error(f"expected '{symbol}'")
        self.take()

    def integer(self, what: str) -> tuple[int, int]:
        kind, text, at = self.take()
        if kind != "number" or "." in text:
            raise self.error(f"expected a whole number ({what})", at)
        value = int(text)
        if value > _MAX_AMOUNT:
            raise self.error(f"{what} {value} is too large", at)
        return value, at

    def unit(self, allowed: frozenset[str] | None = None) -> DurationUnit:
        kind, text, at = self.take()
        unit = _UNITS.get(text.lower()) if kind == "word" else None
        if unit is None or (allowed is not None and unit not in allowed):
            names = "days, months or years" if allowed is not None else "days, weeks, months or years"
            raise self.error(f"expected a unit: {names}", at)
        return unit

    # ----------------------------------------------------------------- grammar

    def parse(self) -> Node:
        node = self.or_expr()
        kind, text, start = self.peek()
        if kind != "eof":
            raise self.error(f"unexpected {text!r}; expected 'and', 'or' or the end", start)
        return node

    def or_expr(self) -> Node:
        start = self.peek()[2]
        operands = [self.and_expr()]
        while self.at_keyword("or"):
            self.take()
            operands.append(self.and_expr())
        if len(operands) == 1:
            return operands[0]
        return Or(self.text[start : self.pos].strip(), start + 1, tuple(operands))

    def and_expr(self) -> Node:
        start = self.peek()[2]
        operands = [self.not_expr()]
        while self.at_keyword("and"):
            self.take()
            operands.append(self.not_expr())
        if len(operands) == 1:
            return operands[0]
        return And(self.text[start : self.pos].strip(), start + 1, tuple(operands))

    def not_expr(self) -> Node:
        start = self.peek()[2]
        if self.at_keyword("not"):
            self.take()
            self.nest(start)
            operand = self.not_expr()
            self.nesting -= 1
            return Not(self.text[start : self.pos].strip(), start + 1, operand)
        return self.primary()

    def primary(self) -> Node:
        kind, text, start = self.peek()
        if kind == "punct" and text == "(":
            self.take()
            self.nest(start)
            node = self.or_expr()
            self.expect_punct(")")
            self.nesting -= 1
            return node
        self.clause_count += 1
        if self.clause_count > MAX_CLAUSES:
            raise self.error(f"more than {MAX_CLAUSES} clauses", start)
        if kind != "word" or text.lower() in _KEYWORDS:
            raise self.error("expected a criterion (a field such as 'age', or '(')", start)
        word = text.lower()
        following = self.peek_words(3)
        if word == "diagnosed_within":
            return self.diagnosed_within()
        if word == "at" and following[1:2] == ["least"]:
            return self.at_least()
        if word == "count" and following[1:2] == ["("]:
            return self.count()
        if word in _SELECTORS and following[1:2] == ["("]:
            return self.measured()
        return self.clause()

    def at_least(self) -> Node:
        start = self.take()[2]
        self.expect_keyword("least")
        k, _ = self.integer("the number of criteria that must hold")
        self.expect_keyword("of")
        self.expect_punct("(")
        self.nest(start)
        operands = [self.or_expr()]
        while self.peek()[1] == ",":
            self.take()
            operands.append(self.or_expr())
        self.expect_punct(")")
        self.nesting -= 1
        return AtLeast(self.text[start : self.pos], start + 1, k, tuple(operands))

    def count(self) -> Node:
        start = self.take()[2]
        self.expect_punct("(")
        operand = self.clause()
        self.expect_punct(")")
        kind, op_text, at = self.take()
        if kind != "op":
            raise self.error("expected a comparison after count(...)", at)
        k, _ = self.integer("a count")
        op: ComparisonOp = "=" if op_text == "==" else op_text  # type: ignore[assignment]
        return Count(self.text[start : self.pos], start + 1, operand, op, k)

    def measured(self) -> Node:
        _, selector, start = self.take()
        self.expect_punct("(")
        field = self.field_name()
        self.expect_punct(")")
        return self.clause_body(field, start, selector=selector.lower(), allow_bare_windows=True)

    def diagnosed_within(self) -> Node:
        start = self.take()[2]
        self.expect_punct("(")
        codes = self.code_patterns("diagnosis")
        self.expect_punct(",")
        amount, _ = self.integer("a number of days, months or years")
        unit = self.unit(_LEGACY_UNITS)
        self.expect_punct(")")
        return DiagnosedWithin(self.text[start : self.pos], start + 1, codes, amount, unit)

    def field_name(self) -> str:
        self.skip_space()
        match = _SYSTEM_CODE.match(self.text, self.pos)
        if match is not None and match.group(1).lower() == "loinc":
            self.pos = match.end()
            return f"loinc:{match.group(2)}"
        kind, text, at = self.take()
        if kind != "word" or text.lower() in _KEYWORDS:
            raise self.error("expected a field name", at)
        return text.lower()

    def clause(self) -> Node:
        start = self.peek()[2]
        active = False
        if self.at_keyword("active") and self.peek_words(2)[1:2] and self.peek_words(2)[1] in CODE_FIELDS:
            self.take()
            active = True
        field = self.field_name()
        return self.clause_body(field, start, active=active, allow_bare_windows=field == "record_as_of")

    def clause_body(
        self, field: str, start: int, *, selector: str | None = None, active: bool = False,
        allow_bare_windows: bool = False,
    ) -> Node:
        kind, text, at = self.peek()
        node: Node
        if kind == "op":
            self.take()
            op: ComparisonOp = "=" if text == "==" else text  # type: ignore[assignment]
            value = self.value()
            windows = self.windows()
            node = Compare(self.text[start : self.pos], start + 1, field, op, value, windows, selector)
            return node
        if kind == "word" and text.lower() == "between":
            self.take()
            low = self.value()
            self.expect_keyword("and")
            high = self.value()
            windows = self.windows()
            return Between(self.text[start : self.pos], start + 1, field, low, high, windows, selector)
        negated = False
        if kind == "word" and text.lower() == "not":
            self.take()
            negated = True
            kind, text, at = self.peek()
        if kind == "word" and text.lower() == "in" and self.peek_words(2)[1:2] != ["the"]:
            self.take()
            node = self.in_set(field, start, active, selector)
            if negated:
                return Not(self.text[start : self.pos], start + 1, node)
            return node
        if not negated and allow_bare_windows:
            windows = self.windows()
            if windows:
                return Measured(self.text[start : self.pos], start + 1, field, windows, selector)
        raise self.error(f"expected a comparison, 'between' or 'in' after {field!r}", at)

    def in_set(self, field: str, start: int, active: bool, selector: str | None) -> Node:
        kind, text, at = self.peek()
        bracketed = kind == "punct" and text in "{["
        if field in CODE_FIELDS:
            if bracketed:
                closing = "}" if text == "{" else "]"
                self.take()
                codes = list(self.code_patterns(field))
                while self.peek()[1] == ",":
                    self.take()
                    codes.extend(self.code_patterns(field))
                self.expect_punct(closing)
                patterns = tuple(codes)
            else:
                patterns = self.code_patterns(field)
            dose = self.dose_bound() if self.ahead_is("with") else None
            of_codes: tuple[CodePattern, ...] = ()
            if self.ahead_is("of"):
                if field not in QUALIFIER_FIELDS:
                    raise self.error(f"'of <diagnosis>' qualifies histology and cancer_stage, not {field}")
                self.take()
                of_codes = self.code_set("diagnosis")
            windows = self.windows()
            return InSet(self.text[start : self.pos], start + 1, field, codes=patterns, windows=windows,
                         active=active, dose=dose, of_codes=of_codes)
        if not bracketed:
            raise self.error("expected '{' to start a set of values", at)
        closing = "}" if text == "{" else "]"
        self.take()
        values = [self.value()]
        while self.peek()[1] == ",":
            self.take()
            values.append(self.value())
        self.expect_punct(closing)
        windows = self.windows()
        return InSet(self.text[start : self.pos], start + 1, field, values=tuple(values), windows=windows,
                     selector=selector)

    def code_set(self, field: str) -> tuple[CodePattern, ...]:
        """One code pattern, or ``{a, b, ...}`` / ``[a, b, ...]``."""
        kind, text, _ = self.peek()
        if kind == "punct" and text in "{[":
            closing = "}" if text == "{" else "]"
            self.take()
            codes = list(self.code_patterns(field))
            while self.peek()[1] == ",":
                self.take()
                codes.extend(self.code_patterns(field))
            self.expect_punct(closing)
            return tuple(codes)
        return self.code_patterns(field)

    def dose_bound(self) -> DoseBound:
        """``with dose OP NUMBER UNIT`` or ``with dose between NUMBER and NUMBER UNIT``."""
        at = self.take()[2]
        self.expect_keyword("dose")
        kind, text, op_at = self.take()
        high: Decimal | None = None
        op: ComparisonOp | Literal["between"]
        if kind == "op":
            op = "=" if text == "==" else text  # type: ignore[assignment]
            value = self.dose_number()
        elif kind == "word" and text.lower() == "between":
            op = "between"
            value = self.dose_number()
            self.expect_keyword("and")
            high = self.dose_number()
        else:
            raise self.error("expected a comparison or 'between' after 'with dose'", op_at)
        unit_kind, unit_text, unit_at = self.take()
        unit = DOSE_UNITS.get(unit_text.lower()) if unit_kind == "word" else None
        if unit is None:
            raise self.error("expected a daily dose unit: mg or ug (mcg)", unit_at)
        return DoseBound(op, value, unit, at + 1, high)

    def dose_number(self) -> Decimal:
        kind, text, at = self.take()
        if kind != "number":
            raise self.error("expected a dose (a number)", at)
        return Decimal(text)

    def code_patterns(self, field: str) -> tuple[CodePattern, ...]:
        self.skip_space()
        at = self.pos
        system_match = _SYSTEM_CODE.match(self.text, self.pos)
        if system_match is not None:
            name = system_match.group(1).lower()
            system = SYSTEM_NAMES.get(name)
            if system is None:
                raise self.error(f"unknown code system {name!r}; use one of {', '.join(sorted(SYSTEM_NAMES))}", at)
            if system != "icd10cm":
                end = system_match.end()
                if end < len(self.text) and re.match(r"[0-9A-Za-z_.*:]", self.text[end]):
                    raise self.error("malformed code")
                self.pos = end
                code = system_match.group(2).upper()
                return (CodePattern(system_match.group(0), code, None, system, at + 1),)
            self.pos = system_match.start(2)
        if CODE_FIELDS.get(field, "icd10cm") != "icd10cm" and system_match is None:
            return self.bare_code(field, at)
        match = _ICD_PATTERN.match(self.text, self.pos)
        end_ok = match is not None and (
            match.end() == len(self.text) or not re.match(r"[0-9A-Za-z_.*]", self.text[match.end()])
        )
        if match is None or not end_ok:
            raise self.error("expected an ICD-10-CM code or pattern such as E11, E11.*, E11.65 or O00-O9A")
        self.pos = match.end()
        first = match.group(1).upper()
        last = match.group(3).upper() if match.group(3) else None
        return (CodePattern(match.group(0), first, last, "icd10cm", at + 1),)

    def bare_code(self, field: str, at: int) -> tuple[CodePattern, ...]:
        match = re.compile(r"[0-9A-Za-z][0-9A-Za-z.]*\*?").match(self.text, self.pos)
        if match is None:
            examples = {"medication": "atc:A10BA02", "allergy": "atc:A10BK", "histology": "snomed:1187332001",
                        "cancer_stage": "snomed:1222837003", "immunization": "cvx:03"}
            raise self.error(f"expected a code (for example {examples.get(field, 'pcs:0D16')})")
        self.pos = match.end()
        return (CodePattern(match.group(0), match.group(0).upper(), None, CODE_FIELDS[field], at + 1),)

    def windows(self) -> tuple[Window, ...]:
        out: list[Window] = []
        while True:
            window = self.window()
            if window is None:
                return tuple(out)
            out.append(window)

    def window(self) -> Window | None:
        saved = self.pos
        found = self._window()
        if found is None:
            self.pos = saved  # peeking skipped spaces; clause texts end at the last consumed token
        return found

    def _window(self) -> Window | None:
        kind, text, at = self.peek()
        if kind != "word":
            return None
        word = text.lower()
        ahead = self.peek_words(3)
        if word == "within":
            self.take()
            amount, _ = self.integer("the length of the window")
            return Window("within", at + 1, amount, self.unit())
        if word == "started" and ahead[1:2] == ["within"]:
            self.take()
            self.take()
            amount, _ = self.integer("the length of the window")
            return Window("started_within", at + 1, amount, self.unit())
        if word == "in" and ahead[1:3] == ["the", "last"]:
            self.take()
            self.take()
            self.take()
            amount, _ = self.integer("the length of the window")
            return Window("within", at + 1, amount, self.unit())
        if word in ("before", "after", "since"):
            self.take()
            day_kind, day_text, day_at = self.take()
            if day_kind != "date":
                raise self.error("expected a date YYYY-MM-DD", day_at)
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                raise self.error(f"{day_text!r} is not a calendar date", day_at) from None
            return Window(word, at + 1, day=day)  # type: ignore[arg-type]
        if word == "at" and ahead[1:2] == ["least"]:
            self.take()
            self.take()
            amount, _ = self.integer("a duration")
            unit = self.unit()
            self.expect_keyword("ago")
            return Window("ago", at + 1, amount, unit)
        if word == "more" and ahead[1:2] == ["than"]:
            self.take()
            self.take()
            amount, _ = self.integer("a duration")
            unit = self.unit()
            self.expect_keyword("ago")
            return Window("more_than_ago", at + 1, amount, unit)
        if word == "for" and ahead[1:3] == ["at", "least"]:
            self.take()
            self.take()
            self.take()
            amount, _ = self.integer("a duration")
            return Window("for_at_least", at + 1, amount, self.unit())
        return None

    def value(self) -> Value:
        kind, text, at = self.take()
        if kind == "number":
            return Decimal(text)
        if kind == "date":
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise self.error(f"{text!r} is not a calendar date", at) from None
        if kind == "word" and text.lower() not in _KEYWORDS or kind == "grade":
            return text.lower()
        raise self.error("expected a value (a number, a date YYYY-MM-DD, a word or a grade such as 2+)", at)


def parse_criteria(text: str) -> Node:
    """Parse criteria text into a tree.

    Enforces the grammar in this module's docstring; raises :class:`CriteriaSyntaxError` (with ``column``) on
    the first error. Cost: linear in the length of the text.
    """
    if not isinstance(text, str):
        raise CriteriaSyntaxError("criteria must be text", column=None, text=None)
    if not text.strip():
        raise CriteriaSyntaxError("criteria are empty", column=1, text=text)
    if len(text) > MAX_CRITERIA_CHARS:
        raise CriteriaSyntaxError(
            f"criteria text of {len(text)} characters exceeds the {MAX_CRITERIA_CHARS}-character limit",
            column=MAX_CRITERIA_CHARS + 1, text=None,
        )
    return _Parser(text).parse()


def clauses(node: Node) -> list[Node]:
    """The leaf clauses of a tree, left to right (each names itself by its source text)."""
    if isinstance(node, (And, Or, AtLeast)):
        return [leaf for operand in node.operands for leaf in clauses(operand)]
    if isinstance(node, Not):
        return clauses(node.operand)
    return [node]
