"""Circuit assurance of the version-2 criteria circuits (zkhealth.eligibility.dedicated.criteria_circuit): the
program atoms (header atoms, set atoms with their freshness check) and the combination gates (AND, OR,
at-least-t), checked like the gadgets of circuit/gadgets.

* Verdicts of the uniqueness checker, pinned: every signal of a criteria circuit without calendar-month or age
  bounds is proven determined by the inputs (with ``is_zero``'s inverse auxiliary), in both forms (asserted
  and boolean). With an age or a months bound the verdict is ``unknown``, and the reason is always the same
  signal: the hinted calendar decomposition of ``civil_date`` (year, month, day of an ordinal), whose
  uniqueness is an arithmetic fact about the calendar the propagation rules do not derive (docs/circuits.md).
* Invalid witnesses: a witness whose ``eligible`` output is changed is refused by the R1CS; leaves whose
  fields were changed, or put at another path position, have no witness.

The test names contain ``criteria``: ``tests/test_circuit_mutation.py`` runs them against the mutants of
dedicated.py.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from records import TODAY, t2d_record

from zkhealth.circuit import CompiledCircuit, compile
from zkhealth.circuit.formal import NOT_UNIQUE, UNIQUE, UNKNOWN, prove_unique
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.record import PatientRecord, RecordCredential
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import Program, compile_program
from zkhealth.errors import WitnessError
from zkhealth.field import FIELD_R

pytestmark = pytest.mark.witness

#: Programs without age or calendar-month bounds: every atom kind and gate shape (ANY, ANY chained by `after`,
#: LAST with the freshness check, NONE_OR_LAST, an aggregate NONE, header atoms, AND, OR, at least 2 of 3).
UNIQUE_PROGRAMS = [
    "hba1c >= 9 and diagnosis in I10 within 400 days and at least 2 of (bmi >= 30, egfr < 60, sex = female)",
    "count(diagnosis in J44.1 within 400 days) >= 2 or not smoking_status = former "
    "or not diagnosis in C00-C96 within 1000 days",
    "research_consent = true and not (egfr < 30 or systolic_bp > 180)",
    "diagnosis in E10.* or diagnosis in I10 or medication in atc:A10BA02",
]
#: Programs whose atoms compare packed calendar dates (age, months): their verdict stops at civil_date.
CALENDAR_PROGRAMS = [
    "not (age < 18 or egfr < 30 or systolic_bp > 180)",
    "count(diagnosis in J44.1 within 12 months) >= 2 or not smoking_status = former",
]
AUXILIARY = ["is_zero_inverse"]


@functools.cache
def _program(text: str) -> Program:
    return compile_program(text)


@functools.cache
def _compiled(text: str, output: bool) -> CompiledCircuit:
    return compile(criteria_circuit(_program(text), output=output))


def _credential(record: PatientRecord) -> RecordCredential:
    issued = date_to_epoch_day(record.record_as_of)
    return RecordCredential(credential_id=5, subject_commitment=9, issuer_public_key=(1, 2),
                            issuer_ed25519=b"\1" * 32, issued_at=issued, expires_at=issued + 20_000, record=record)


def _inputs(text: str) -> dict[str, Any]:
    return criteria_inputs(_program(text), _credential(t2d_record()), TODAY)


@pytest.mark.parametrize("output", [False, True], ids=["asserted", "boolean"])
@pytest.mark.parametrize("text", UNIQUE_PROGRAMS)
def test_criteria_circuit_is_proven_unique(text: str, output: bool) -> None:
    verdict = prove_unique(criteria_circuit(_program(text), output=output), auxiliary=AUXILIARY, time_limit=60)
    assert verdict.verdict == UNIQUE, verdict.summary()
    assert "poseidon" in verdict.assumed


@pytest.mark.parametrize("text", CALENDAR_PROGRAMS)
def test_criteria_circuit_with_calendar_bounds_stops_at_civil_date(text: str) -> None:
    """``unknown`` (never ``not unique``): the one signal the rules cannot decide is the calendar hint."""
    verdict = prove_unique(criteria_circuit(_program(text), output=True), auxiliary=AUXILIARY, time_limit=60)
    assert verdict.verdict == UNKNOWN, verdict.summary()
    assert verdict.verdict != NOT_UNIQUE
    assert "civil_date" in (verdict.signal or "") and "calendar.py" in (verdict.source or "")
    assert "not proven determined" in verdict.reason


@pytest.mark.parametrize("text", UNIQUE_PROGRAMS[:3])
def test_criteria_circuit_refuses_a_changed_result(text: str) -> None:
    """The boolean form's ``eligible`` is bound: the other value, or a non-boolean, breaks a row."""
    compiled = _compiled(text, True)
    witness = compiled.solve_witness(_inputs(text))
    compiled.r1cs.check_witness(witness)
    expected = evaluate_program(_program(text), _credential(t2d_record()), TODAY).eligible
    assert compiled.output_values(witness)["eligible"] == int(expected)
    wire = 1 + compiled.output_names.index("eligible")
    for value in (1 - witness[wire], 2, FIELD_R - 1):
        forged = list(witness)
        forged[wire] = value
        with pytest.raises(WitnessError):
            compiled.r1cs.check_witness(forged)


def test_criteria_circuit_accepts_today_at_its_full_width() -> None:
    """``today`` in the year 6000 (its ordinal needs all 22 bits of a date field): the circuit still agrees with
    the native evaluator (the record is far too old, so the patient is not eligible)."""
    text = UNIQUE_PROGRAMS[2]
    today = dt.date(6000, 1, 1)
    assert today.toordinal() >= 1 << 21
    compiled = _compiled(text, True)
    credential = _credential(t2d_record())
    witness = compiled.solve_witness(criteria_inputs(_program(text), credential, today))
    assert not evaluate_program(_program(text), credential, today).eligible
    assert compiled.output_values(witness)["eligible"] == 0


@pytest.mark.parametrize("gender", ["unknown", "female", "male"])
def test_criteria_circuit_reads_the_whole_gender_field(gender: str) -> None:
    """Gender ``unknown`` is 4, the one value that needs all 3 bits of its header slot."""
    text = UNIQUE_PROGRAMS[0]
    compiled = _compiled(text, True)
    credential = _credential(t2d_record(gender=gender))
    witness = compiled.solve_witness(criteria_inputs(_program(text), credential, TODAY))
    expected = evaluate_program(_program(text), credential, TODAY).eligible
    assert compiled.output_values(witness)["eligible"] == int(expected)


@pytest.mark.parametrize("text", UNIQUE_PROGRAMS[:3])
def test_criteria_circuit_asserts_a_complete_and_fresh_record(text: str) -> None:
    """LAST and NONE_OR_LAST atoms hold only on a complete record no older than the policy allows: the
    asserted form has no witness for an incomplete record, whatever the rest of the record says."""
    compiled = _compiled(text, False)
    for changes in ({}, {"complete": False}):
        credential = _credential(t2d_record(**changes))
        eligible = evaluate_program(_program(text), credential, TODAY).eligible
        try:
            compiled.solve_witness(criteria_inputs(_program(text), credential, TODAY))
            solved = True
        except WitnessError:
            solved = False
        assert solved == eligible, changes
        if changes:
            assert not eligible


def test_criteria_circuit_refuses_a_non_boolean_complete_flag() -> None:
    """``record_complete`` is read as a boolean: 2 (or r - 1) in the header slot has no witness."""
    from zkhealth.credentials.record import HEADER_INDEX

    text = UNIQUE_PROGRAMS[2]
    compiled = _compiled(text, True)
    inputs = _inputs(text)
    compiled.solve_witness(inputs)
    for value in (2, FIELD_R - 1):
        header = list(inputs["header"])
        header[HEADER_INDEX["record_complete"]] = value
        with pytest.raises(WitnessError):
            compiled.solve_witness(dict(inputs, header=header))


def test_criteria_circuit_reads_record_as_of_at_its_full_width() -> None:
    """A record as of the year 6000 (an ordinal of 22 bits), checked fresh on the next day."""
    text = UNIQUE_PROGRAMS[2]
    as_of = dt.date(6000, 1, 1)
    credential = _credential(t2d_record(as_of=as_of))
    today = as_of + dt.timedelta(days=1)
    assert evaluate_program(_program(text), credential, today).eligible
    _compiled(text, False).solve_witness(criteria_inputs(_program(text), credential, today))


def test_criteria_circuit_or_with_several_true_children() -> None:
    """An asserted OR whose children hold twice (hypertension and metformin): the sum of the children's
    booleans is 2, and its inverse proves it non-zero all the same."""
    text = UNIQUE_PROGRAMS[3]
    credential = _credential(t2d_record())
    assert {c.code for c in credential.record.conditions} >= {"I10"}
    assert "A10BA02" in {m.code for m in credential.record.medications}
    assert evaluate_program(_program(text), credential, TODAY).eligible
    _compiled(text, False).solve_witness(criteria_inputs(_program(text), credential, TODAY))


def test_criteria_circuit_checks_today_to_its_declared_width() -> None:
    """``today`` is range-checked to its 32 bits (DATE_BITS), no narrower and no wider: with a program that
    compares no date, any day below 2^32 has a witness and 2^32 has none."""
    text = UNIQUE_PROGRAMS[3]
    compiled = _compiled(text, True)
    inputs = _inputs(text)
    for today in ((1 << 31) + 5, (1 << 32) - 1):
        compiled.solve_witness(dict(inputs, today=today))
    with pytest.raises(WitnessError):
        compiled.solve_witness(dict(inputs, today=1 << 32))


def test_criteria_circuit_refuses_forged_leaves() -> None:
    """A leaf with a changed field, or a leaf of another path position, is not a member: no witness (the
    boolean form, which has a witness whether or not the record is eligible)."""
    text = UNIQUE_PROGRAMS[0]
    compiled = _compiled(text, True)
    inputs = _inputs(text)
    compiled.solve_witness(inputs)
    leaf_names = [name for name in inputs if name.endswith("_leaf")]
    assert leaf_names
    for name in leaf_names:
        for field in range(8):
            forged = dict(inputs)
            forged[name] = list(inputs[name])
            forged[name][field] += 1
            with pytest.raises(WitnessError):
                compiled.solve_witness(forged)
        path = name.replace("_leaf", "_path")
        moved = dict(inputs, **{path: [1 - bit for bit in inputs[path]]})
        with pytest.raises(WitnessError):
            compiled.solve_witness(moved)
