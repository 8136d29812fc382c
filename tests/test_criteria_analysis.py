"""The criteria analysis (zkhealth.eligibility.analysis) is sound: whatever it says the criteria can never
meet, no record meets; whatever it says always holds, every record meets.

Random criteria are combined into shapes that often contradict or cover themselves (``A and not A``, ``A or
not A``, ``A and B``); each finding about the whole criteria is checked against the native evaluator on random
records. The analysis may stay silent (it is not complete), but it must never raise a false alarm. Named
examples pin what it finds, for version 1 criteria and version 2 programs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_eligibility_program import formulas, records

from zkhealth.credentials.record import PatientRecord
from zkhealth.eligibility.analysis import analyze_program
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import compile_program
from zkhealth.errors import CriteriaNotExpressibleError

pytestmark = pytest.mark.native


@st.composite
def _shapes(draw: st.DrawFn) -> str:
    first, _, _ = draw(formulas(depth=1))
    second, _, _ = draw(formulas(depth=1))
    shape = draw(st.sampled_from(["{a} and not ({a})", "({a}) or not ({a})", "({a}) and ({b})", "({a}) or ({b})",
                                  "({a}) and not ({b})", "not ({a}) or ({b})"]))
    return shape.format(a=first, b=second)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_shapes(), st.lists(records(), min_size=4, max_size=4), st.integers(-30, 400))
def test_version_2_findings_are_never_false_alarms(text: str, sample: list[PatientRecord], shift: int) -> None:
    try:
        program = compile_program(text)
    except CriteriaNotExpressibleError:
        assume(False)
        return
    for finding in analyze_program(program):
        if not finding.whole:
            continue
        for record in sample:
            today = record.record_as_of + dt.timedelta(days=shift)
            eligible = evaluate_program(program, record, today).eligible
            assert eligible == (finding.kind == "always"), (text, finding.message, record)


@pytest.mark.parametrize(("text", "kind", "clauses"), [
    ("age >= 18 and age < 10", "never", ("age >= 18", "age < 10")),
    ("hba1c >= 7 and hba1c < 6.5", "never", ("hba1c >= 7", "hba1c < 6.5")),
    ("diagnosis in E11.9 and not diagnosis in E11.*", "never", ("diagnosis in E11.9", "not diagnosis in E11.*")),
    ("medication in atc:A10B and not medication in atc:A10", "never",
     ("medication in atc:A10B", "not medication in atc:A10")),
    ("age >= 18 or age < 18", "always", ("age >= 18", "age < 18")),
])
def test_version_2_examples(text: str, kind: str, clauses: tuple[str, ...]) -> None:
    (finding,) = analyze_program(compile_program(text))
    assert (finding.kind, finding.whole, finding.clauses) == (kind, True, clauses)


@pytest.mark.parametrize("text", [
    "hba1c < 7 or not hba1c < 7",  # a partial record meets neither: LAST and NONE need a complete record
    "hba1c >= 7 or hba1c < 7",  # a record without HbA1c meets neither
    "diagnosis in E11 or not diagnosis in E11.9",  # a partial record without E11 meets neither
    "diagnosis in E11.* and age >= 18 and not diagnosis in E10",
])
def test_version_2_no_false_alarm_on_the_absent_data_rule(text: str) -> None:
    assert analyze_program(compile_program(text)) == []


def test_the_registered_trials_raise_no_warning() -> None:
    from pathlib import Path

    from zkhealth.eligibility.check import check_criteria_file

    files = sorted((Path(__file__).resolve().parent.parent / "circuits" / "trials").glob("*.txt"))
    assert files
    assert [check.path for check in map(check_criteria_file, files) if check.findings] == []
