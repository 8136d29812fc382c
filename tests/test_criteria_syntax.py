"""The criteria language parser: the grammar, the tree, and errors that point at the column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkhealth.eligibility.criteria import (
    And,
    Between,
    Compare,
    DiagnosedWithin,
    InSet,
    Not,
    Or,
    clauses,
    parse_criteria,
)
from zkhealth.errors import CriteriaSyntaxError

pytestmark = pytest.mark.native

ISSUE_EXAMPLE = (
    "age >= 18 and age < 75 and diagnosis in E11.* and not diagnosis in O00-O9A "
    "and hba1c between 7.0 and 10.5 and diagnosed_within(E11.*, 5 years)"
)


def test_issue_example_parses_into_six_clauses() -> None:
    tree = parse_criteria(ISSUE_EXAMPLE)
    assert isinstance(tree, And)
    leaves = clauses(tree)
    assert [leaf.text for leaf in leaves] == [
        "age >= 18",
        "age < 75",
        "diagnosis in E11.*",
        "diagnosis in O00-O9A",
        "hba1c between 7.0 and 10.5",
        "diagnosed_within(E11.*, 5 years)",
    ]
    first = leaves[0]
    assert isinstance(first, Compare) and (first.field, first.op, first.value) == ("age", ">=", Decimal(18))
    between = leaves[4]
    assert isinstance(between, Between) and (between.low, between.high) == (Decimal("7.0"), Decimal("10.5"))
    negated = tree.operands[3]
    assert isinstance(negated, Not) and isinstance(negated.operand, InSet)
    assert negated.operand.codes[0].first == "O00" and negated.operand.codes[0].last == "O9A"
    within = leaves[5]
    assert isinstance(within, DiagnosedWithin) and (within.amount, within.unit) == (5, "years")


def test_precedence_not_binds_tighter_than_and_than_or() -> None:
    tree = parse_criteria("age > 1 or age > 2 and not age > 3")
    assert isinstance(tree, Or)
    assert isinstance(tree.operands[1], And)
    assert isinstance(tree.operands[1].operands[1], Not)


def test_parentheses_sets_dates_and_enums() -> None:
    tree = parse_criteria(
        "(sex = female or sex in {male}) and birth_date <= 2005-06-30 and diagnosis in {E11.9, I10-I16}"
    )
    assert isinstance(tree, And)
    assert isinstance(tree.operands[0], Or)
    compare_date = tree.operands[1]
    assert isinstance(compare_date, Compare) and compare_date.value == date(2005, 6, 30)
    codes = tree.operands[2]
    assert isinstance(codes, InSet) and [c.text for c in codes.codes] == ["E11.9", "I10-I16"]


def test_operators_and_keywords_are_case_insensitive_and_double_equals_is_equals() -> None:
    tree = parse_criteria("AGE == 18 AND Diagnosis NOT IN e11.*")
    assert isinstance(tree, And)
    first = tree.operands[0]
    assert isinstance(first, Compare) and first.op == "=" and first.field == "age"
    second = tree.operands[1]
    assert isinstance(second, Not)
    inner = second.operand
    assert isinstance(inner, InSet) and inner.codes[0].first == "E11"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("age >= ", 8),
        ("age >> 3", 6),
        ("diagnosis in E1", 14),
        ("age between 1 2", 15),
        ("age >= 18 and", 14),
        ("sex in female", 8),
        ("diagnosed_within(E11, 5 weeks)", 25),
        ("age >= 18 )", 11),
        ("(age >= 18", 11),
        ("age >= 2024-02-30", 8),
        ("age # 3", 5),
        ("and age > 3", 1),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int) -> None:
    with pytest.raises(CriteriaSyntaxError) as caught:
        parse_criteria(text)
    assert caught.value.column == column


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_criteria_are_refused(text: str) -> None:
    with pytest.raises(CriteriaSyntaxError):
        parse_criteria(text)


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        tree = parse_criteria(text)
    except CriteriaSyntaxError as error:
        assert error.column is None or 1 <= error.column <= len(text) + 1
    else:
        assert clauses(tree)
