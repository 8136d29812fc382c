"""The criteria language: what a recruiter writes, parsed into a small typed tree.

Grammar (EBNF; keywords are case-insensitive, whitespace is free)::

    criteria   = or_expr EOF
    or_expr    = and_expr { "or" and_expr }
    and_expr   = not_expr { "and" not_expr }
    not_expr   = "not" not_expr | primary
    primary    = "(" or_expr ")" | call | clause
    clause     = FIELD ( OP value
                       | "between" value "and" value
                       | "not"? "in" set )
    call       = "diagnosed_within" "(" codes "," NUMBER UNIT ")"
    set        = codes | "{" item { "," item } "}" | "[" item { "," item } "]"
    codes      = ICD_PATTERN                        (diagnosis only: E11, E11.*, E11.6*, E11.65, O00-O9A)
    value      = NUMBER | DATE | WORD               (DATE is YYYY-MM-DD; WORD an enum value such as female)
    OP         = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    UNIT       = "day" | "days" | "month" | "months" | "year" | "years"

``diagnosis in S`` means *some* diagnosis on the credential lies in ``S`` (exists-any over the list);
``not diagnosis in S`` therefore means *no* diagnosis lies in ``S``. ``diagnosed_within(S, 5 years)`` means some
diagnosis in ``S`` was made no earlier than five calendar years before the proof's ``today``. ``age`` is whole
years on ``today``, computed on the calendar (someone born on 29 February turns a year older on 1 March in
common years).

A syntax error raises :class:`~zkhealth.errors.CriteriaSyntaxError` with the 1-based ``column`` of the
offending character. Which fields exist and what their values mean is checked by the compiler against the
credential schema, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from zkhealth.errors import CriteriaSyntaxError

ComparisonOp = Literal["=", "!=", "<", "<=", ">", ">="]
DurationUnit = Literal["days", "months", "years"]

#: Literal values: exact decimals for numbers, dates, or lower-case words for enums.
Value = Decimal | date | str


@dataclass(frozen=True)
class Node:
    """Base of the criteria tree. ``text`` is the source text of the node, used to name failing clauses."""

    text: str
    column: int


@dataclass(frozen=True)
class Compare(Node):
    """``field op value``."""

    field: str
    op: ComparisonOp
    value: Value


@dataclass(frozen=True)
class Between(Node):
    """``field between low and high``, both bounds inclusive."""

    field: str
    low: Value
    high: Value


@dataclass(frozen=True)
class CodePattern:
    """One ICD-10-CM pattern as written: ``E11`` / ``E11.*`` (a category or subtree), ``E11.65`` (a code and its
    descendants), or ``O00-O9A`` (every code from the first to the last, inclusive)."""

    text: str
    first: str
    last: str | None = None


@dataclass(frozen=True)
class InSet(Node):
    """``field in {a, b, ...}`` for enums and numbers, or ``diagnosis in <codes>`` (exists-any)."""

    field: str
    values: tuple[Value, ...] = ()
    codes: tuple[CodePattern, ...] = ()


@dataclass(frozen=True)
class DiagnosedWithin(Node):
    """``diagnosed_within(codes, amount unit)``: some diagnosis in ``codes`` dated within the period."""

    codes: tuple[CodePattern, ...]
    amount: int
    unit: DurationUnit


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
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9A-Za-z_]))
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z_.]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|==|=|<|>)
  | (?P<punct>[(){}\[\],])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "between"})
_UNITS: dict[str, DurationUnit] = {
    "day": "days",
    "days": "days",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
#: Fields whose values are ICD-10-CM codes (``in`` takes code patterns).
CODE_FIELDS = frozenset({"diagnosis"})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

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

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        self.pos = token[2] + len(token[1])
        return token

    def at_keyword(self, word: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "word" and text.lower() == word

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise self.error(f"expected '{word}'")
        self.take()

    def expect_punct(self, symbol: str) -> None:
        kind, text, _ = self.peek()
        if kind != "punct" or text != symbol:
            raise self.error(f"expected '{symbol}'")
        self.take()

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
            operand = self.not_expr()
            return Not(self.text[start : self.pos].strip(), start + 1, operand)
        return self.primary()

    def primary(self) -> Node:
        kind, text, start = self.peek()
        if kind == "punct" and text == "(":
            self.take()
            node = self.or_expr()
            self.expect_punct(")")
            return node
        if kind != "word" or text.lower() in _KEYWORDS:
            raise self.error("expected a criterion (a field such as 'age', or '(')", start)
        if text.lower() == "diagnosed_within":
            return self.diagnosed_within()
        return self.clause()

    def diagnosed_within(self) -> Node:
        start = self.take()[2]
        self.expect_punct("(")
        codes = self.code_patterns()
        self.expect_punct(",")
        kind, amount_text, amount_at = self.take()
        if kind != "number" or "." in amount_text:
            raise self.error("expected a whole number of days, months or years", amount_at)
        kind, unit_text, unit_at = self.take()
        unit = _UNITS.get(unit_text.lower()) if kind == "word" else None
        if unit is None:
            raise self.error("expected a unit: days, months or years", unit_at)
        self.expect_punct(")")
        return DiagnosedWithin(self.text[start : self.pos], start + 1, codes, int(amount_text), unit)

    def clause(self) -> Node:
        _, field_text, start = self.take()
        field = field_text.lower()
        kind, text, at = self.peek()
        if kind == "op":
            self.take()
            op: ComparisonOp = "=" if text == "==" else text  # type: ignore[assignment]
            value = self.value()
            return Compare(self.text[start : self.pos], start + 1, field, op, value)
        if kind == "word" and text.lower() == "between":
            self.take()
            low = self.value()
            self.expect_keyword("and")
            high = self.value()
            return Between(self.text[start : self.pos], start + 1, field, low, high)
        negated = False
        if kind == "word" and text.lower() == "not":
            self.take()
            negated = True
            kind, text, at = self.peek()
        if kind == "word" and text.lower() == "in":
            self.take()
            node = self.in_set(field, start)
            if negated:
                return Not(self.text[start : self.pos], start + 1, node)
            return node
        raise self.error(f"expected a comparison, 'between' or 'in' after {field_text!r}", at)

    def in_set(self, field: str, start: int) -> Node:
        kind, text, at = self.peek()
        bracketed = kind == "punct" and text in "{["
        if field in CODE_FIELDS:
            if bracketed:
                closing = "}" if text == "{" else "]"
                self.take()
                codes = list(self.code_patterns())
                while self.peek()[1] == ",":
                    self.take()
                    codes.extend(self.code_patterns())
                self.expect_punct(closing)
                patterns = tuple(codes)
            else:
                patterns = self.code_patterns()
            return InSet(self.text[start : self.pos], start + 1, field, codes=patterns)
        if not bracketed:
            raise self.error("expected '{' to start a set of values", at)
        closing = "}" if text == "{" else "]"
        self.take()
        values = [self.value()]
        while self.peek()[1] == ",":
            self.take()
            values.append(self.value())
        self.expect_punct(closing)
        return InSet(self.text[start : self.pos], start + 1, field, values=tuple(values))

    def code_patterns(self) -> tuple[CodePattern, ...]:
        self.skip_space()
        match = _ICD_PATTERN.match(self.text, self.pos)
        end_ok = match is not None and (
            match.end() == len(self.text) or not re.match(r"[0-9A-Za-z_.*]", self.text[match.end()])
        )
        if match is None or not end_ok:
            raise self.error("expected an ICD-10-CM code or pattern such as E11, E11.*, E11.65 or O00-O9A")
        self.pos = match.end()
        first = match.group(1).upper()
        last = match.group(3).upper() if match.group(3) else None
        return (CodePattern(match.group(0), first, last),)

    def value(self) -> Value:
        kind, text, at = self.take()
        if kind == "number":
            return Decimal(text)
        if kind == "date":
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise self.error(f"{text!r} is not a calendar date", at) from None
        if kind == "word" and text.lower() not in _KEYWORDS:
            return text.lower()
        raise self.error("expected a value (a number, a date YYYY-MM-DD or a word)", at)


def parse_criteria(text: str) -> Node:
    """Parse criteria text into a tree.

    Enforces the grammar in this module's docstring; raises :class:`CriteriaSyntaxError` (with ``column``) on
    the first error. Cost: linear in the length of the text.
    """
    if not isinstance(text, str):
        raise CriteriaSyntaxError("criteria must be text", column=None, text=None)
    if not text.strip():
        raise CriteriaSyntaxError("criteria are empty", column=1, text=text)
    return _Parser(text).parse()


def clauses(node: Node) -> list[Node]:
    """The leaf clauses of a tree, left to right (each names itself by its source text)."""
    if isinstance(node, (And, Or)):
        return [leaf for operand in node.operands for leaf in clauses(operand)]
    if isinstance(node, Not):
        return clauses(node.operand)
    return [node]
