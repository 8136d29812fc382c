"""Mutation testing of our own circuits: the gadget modules against the gadget tests (plus the pinned verdicts),
and the dedicated eligibility circuit (dedicated.py, credential_core.py, calendar.py: every module whose lines make
its constraints) against tests/test_eligibility_dedicated_assurance.py, tests/test_eligibility_dedicated.py,
tests/test_eligibility_forged_witnesses.py and tests/test_eligibility_circuit.py, and the version-2 criteria
circuits (the atoms and gates of dedicated.py) against tests/test_eligibility_dedicated_assurance.py and the
criteria tests of tests/test_eligibility_dedicated.py.

CI cost is bounded: the slow tier runs a deterministic sample (``GADGET_SAMPLE`` of the gadget mutants,
``ELIGIBILITY_SAMPLE`` of the eligibility mutants, ``DEDICATED_SAMPLE`` of the criteria mutants; 5 to 120 s
each, most of it pytest start-up, the checker and the eligibility tests). The full run (every mutant; about an
hour for the gadgets and longer for the eligibility and criteria circuits on the shared 2-core machine) is
``ZKHEALTH_MUTATION_FULL=1 pytest -m slow tests/test_circuit_mutation.py``, or
``scripts/mutation.sh``. Equivalent mutants, with the reason no test can
kill them, are listed in ``tests/equivalent_mutants.txt``, keyed by scope and statement (``Mutant.key``), not by line.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from test_eligibility_dedicated_assurance import CALENDAR_PROGRAMS, UNIQUE_PROGRAMS

from zkhealth.circuit.gadgets import catalog
from zkhealth.circuit.mutation import (
    Mutant,
    MutantResult,
    discover,
    load_equivalents,
    run_mutants,
    stale_equivalents,
)
from zkhealth.eligibility.dedicated import dedicated_circuit
from zkhealth.eligibility.program import compile_program

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = Path(__file__).with_name("equivalent_mutants.txt")
FULL = os.environ.get("ZKHEALTH_MUTATION_FULL") == "1"
GADGET_SAMPLE = 4
ELIGIBILITY_SAMPLE = 1

#: Each gadget module's tests, then the pinned verdicts (a gadget whose verdict drifts fails them: they kill the
#: mutants that leave a signal free, which example-based tests through the witness solver cannot see).
PINNED_VERDICTS = "tests/test_circuit_assurance.py::test_gadget_verdict_is_pinned"
GADGET_TESTS: dict[str, list[str]] = {
    "basic.py": ["tests/test_gadgets_basic.py", "tests/test_security_circuit.py", PINNED_VERDICTS],
    "bits.py": ["tests/test_gadgets_basic.py", "tests/test_security_circuit.py", PINNED_VERDICTS],
    "comparators.py": ["tests/test_gadgets_basic.py", "tests/test_security_circuit.py", PINNED_VERDICTS],
    "poseidon.py": ["tests/test_gadgets_poseidon.py", PINNED_VERDICTS],
    "merkle.py": ["tests/test_gadgets_merkle.py", PINNED_VERDICTS],
    "babyjubjub.py": ["tests/test_gadgets_babyjubjub.py", PINNED_VERDICTS],
    "eddsa.py": ["tests/test_gadgets_eddsa.py", PINNED_VERDICTS],
    "sorted_set.py": ["tests/test_gadgets_sorted_set.py", PINNED_VERDICTS],
}
ELIGIBILITY = ROOT / "src" / "zkhealth" / "eligibility"
ELIGIBILITY_FILES = [ELIGIBILITY / name for name in ("dedicated.py", "credential_core.py", "calendar.py")]
#: The criteria tests first: most mutants of dedicated.py fail one of them within seconds (2026-12-06: 3 to 92 s per
#: mutant in this order, 68 to 423 s with the whole-circuit tests first).
ELIGIBILITY_TESTS = ["tests/test_eligibility_dedicated_assurance.py", "tests/test_eligibility_dedicated.py",
                     "tests/test_eligibility_forged_witnesses.py", "tests/test_eligibility_circuit.py"]
#: The version-2 criteria circuits (dedicated.py: program atoms and combination gates), against the pinned
#: criteria verdicts and invalid witnesses, then the fixed cases and the shared-leaf attack.
DEDICATED = ELIGIBILITY / "dedicated.py"
DEDICATED_SAMPLE = 1
DEDICATED_TESTS = ["tests/test_eligibility_dedicated_assurance.py", "tests/test_eligibility_dedicated.py",
                   "-k", "criteria or shared_leaf"]
#: Criteria whose dedicated circuits reach the criteria compiler's atom kinds, combinations and the calendar.
ELIGIBILITY_CRITERIA = [
    "diagnosis in E11.* and age >= 18",
    "age >= 18 and age < 75 and diagnosis in E11.* and not diagnosis in O00-O9A and hba1c between 7.0 and 10.5 "
    "and at least 2 of (sex = female, egfr < 60, diagnosis in I10-I16 within 18 months)",
]


@functools.cache
def gadget_mutants() -> tuple[Mutant, ...]:
    return tuple(discover([h.define for h in catalog.HARNESSES], catalog.gadget_module_files()))


@functools.cache
def eligibility_mutants() -> tuple[Mutant, ...]:
    circuits = [dedicated_circuit(compile_program(text)) for text in ELIGIBILITY_CRITERIA]
    return tuple(discover(circuits, [str(p) for p in ELIGIBILITY_FILES]))


@functools.cache
def dedicated_mutants() -> tuple[Mutant, ...]:
    from zkhealth.eligibility.dedicated import criteria_circuit
    from zkhealth.eligibility.program import compile_program

    texts = [*UNIQUE_PROGRAMS, *CALENDAR_PROGRAMS]
    circuits = [criteria_circuit(compile_program(text), output=output) for text in texts for output in (False, True)]
    return tuple(discover(circuits, [str(DEDICATED)]))


def _check(results: Sequence[MutantResult]) -> None:
    survivors = [r for r in results if r.status in ("survived", "not covered", "error")]
    lines = [f"{r.status}: {r.mutant.id} {r.mutant.key} {r.mutant.label} ({r.mutant.function})" for r in survivors]
    assert not survivors, "\n".join(lines)


@pytest.mark.witness
def test_every_gadget_module_and_operator_has_mutants() -> None:
    mutants = gadget_mutants()
    assert {Path(m.file).name for m in mutants} == set(GADGET_TESTS)
    assert {m.operator for m in mutants} == {"drop", "swap", "constant", "unconstrain", "shrink"}


@pytest.mark.slow
def test_listed_equivalent_mutants_exist_and_give_reasons() -> None:
    """A stale entry (its statement changed or went away) fails here instead of silently hiding a live mutant;
    an edit elsewhere in the file (lines shifted) keeps the entries (keys name scope and statement)."""
    stale = stale_equivalents(load_equivalents(EQUIVALENTS),
                              (*gadget_mutants(), *eligibility_mutants(), *dedicated_mutants()))
    assert not stale, f"listed as equivalent but no longer a mutant (look at them again): {stale}"


@pytest.mark.slow
def test_gadget_mutants_are_killed_by_the_gadget_tests() -> None:
    report = run_mutants(
        gadget_mutants(), [], tests_for=GADGET_TESTS, cwd=ROOT, timeout=600,
        equivalents=load_equivalents(EQUIVALENTS), max_mutants=None if FULL else GADGET_SAMPLE,
    )
    _check(report.results)
    assert report.score == 100.0


@pytest.mark.slow
def test_criteria_mutants_are_killed_by_the_criteria_tests() -> None:
    """Version 2: every mutant of the criteria part of dedicated.py (atoms, freshness, gates) is killed."""
    mutants = dedicated_mutants()
    assert {m.operator for m in mutants} == {"drop", "swap", "constant", "unconstrain", "shrink"}
    report = run_mutants(
        mutants, DEDICATED_TESTS, cwd=ROOT, timeout=900,
        equivalents=load_equivalents(EQUIVALENTS), max_mutants=None if FULL else DEDICATED_SAMPLE,
    )
    _check(report.results)
    assert report.score == 100.0


@pytest.mark.slow
def test_eligibility_mutants_are_killed_by_the_eligibility_tests() -> None:
    report = run_mutants(
        eligibility_mutants(), ELIGIBILITY_TESTS, cwd=ROOT, timeout=900,
        equivalents=load_equivalents(EQUIVALENTS), max_mutants=None if FULL else ELIGIBILITY_SAMPLE,
    )
    _check(report.results)
    assert report.score == 100.0
