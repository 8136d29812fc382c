"""docs/threat-tests.md is complete and honest: every threat row of the security table (C1-C14, G1-G14,
S1-S13, K1-K8, P1-P4, W1-W6) is listed once, names at least one test, and every test it names exists (found by
parsing the test files' syntax trees, so nothing is imported or run). Every test of tests/test_security_*.py
answers at least one row."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.native

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "threat-tests.md"
SECURITY_PAGE = ROOT / "docs" / "security.md"

#: The row ids of security.md section 2, per section.
EXPECTED_IDS = (
    [f"C{i}" for i in range(1, 15)]
    + [f"G{i}" for i in range(1, 15)]
    + [f"S{i}" for i in range(1, 14)]
    + [f"K{i}" for i in range(1, 9)]
    + [f"P{i}" for i in range(1, 5)]
    + [f"W{i}" for i in range(1, 7)]
)
_ROW = re.compile(r"^\|\s*([CGSKPW]\d+)\s*\|")
_TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def table_rows(text: str) -> dict[str, list[tuple[str, str]]]:
    """Row id -> the (file, test) pairs its row names. Raises AssertionError on a duplicated id."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if not match:
            continue
        row_id = match.group(1)
        assert row_id not in rows, f"row {row_id} appears twice in docs/threat-tests.md"
        rows[row_id] = _TEST_REF.findall(line)
    return rows


@cache
def defined_tests(relative: str) -> frozenset[str]:
    """Names of the test functions (module level or in a Test* class) of a test file."""
    path = ROOT / relative
    if not path.is_file():
        return frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test")
            }
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id.startswith("Test") for target in node.targets
        ):
            # e.g. ``TestEnrollmentMachine = EnrollmentMachine.TestCase``: a stateful hypothesis test.
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return frozenset(names)


def test_every_threat_row_is_listed_once_with_a_test() -> None:
    rows = table_rows(TABLE.read_text(encoding="utf-8"))
    assert sorted(rows, key=EXPECTED_IDS.index) == EXPECTED_IDS
    empty = [row_id for row_id, tests in rows.items() if not tests]
    assert empty == []


def test_every_named_test_exists() -> None:
    rows = table_rows(TABLE.read_text(encoding="utf-8"))
    missing = [
        f"{row_id}: {file}::{name}"
        for row_id, tests in rows.items()
        for file, name in tests
        if name not in defined_tests(file)
    ]
    assert missing == []
    assert sum(len(tests) for tests in rows.values()) >= 2 * len(EXPECTED_IDS)


def test_every_security_test_answers_a_row() -> None:
    rows = table_rows(TABLE.read_text(encoding="utf-8"))
    cited = {(file, name) for tests in rows.values() for file, name in tests}
    security_files = sorted((ROOT / "tests").glob("test_security_*.py"))
    assert len(security_files) >= 5
    uncited = [
        f"{path.name}::{name}"
        for path in security_files
        for name in defined_tests(f"tests/{path.name}")
        if (f"tests/{path.name}", name) not in cited
    ]
    assert uncited == []


def test_the_project_security_page_has_the_same_rows() -> None:
    """docs/security.md (the user-facing page) covers exactly the same threat ids."""
    if not SECURITY_PAGE.is_file():
        pytest.fail("docs/security.md is missing")
    ids = {m.group(1) for line in SECURITY_PAGE.read_text(encoding="utf-8").splitlines() if (m := _ROW.match(line))}
    assert ids == set(EXPECTED_IDS)


def test_the_parser_rejects_what_it_should() -> None:
    """The checks above would catch a missing row, a duplicate and a misspelt test."""
    text = (
        "| C1 | x | `tests/test_circuit_builder.py::test_hint_without_constraint_is_rejected` | y |\n"
        "| C2 | x | none | y |"
    )
    rows = table_rows(text)
    assert rows["C1"] == [("tests/test_circuit_builder.py", "test_hint_without_constraint_is_rejected")]
    assert rows["C2"] == []
    with pytest.raises(AssertionError):
        table_rows(text + "\n" + text)
    assert "test_no_such_test" not in defined_tests("tests/test_circuit_builder.py")
    assert defined_tests("tests/no_such_file.py") == frozenset()
