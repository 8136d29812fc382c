"""zkhealth.testing: check_circuit, strategies, count snapshots and the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets import less_than
from zkhealth.errors import ConstraintCountDriftError, WitnessError
from zkhealth.field import FIELD_R as R
from zkhealth.testing import (
    CircuitCheckFailure,
    ConstraintCountSnapshot,
    assert_constraint_count,
    check_circuit,
    load_counts,
)
from zkhealth.testing.strategies import (
    field_elements,
    non_canonical_field_elements,
    tampered_witnesses,
    witnesses,
)

pytestmark = pytest.mark.witness


def square(b: Builder) -> None:
    x = b.private_input("x")
    b.output("out", x * x)


def loose(b: Builder) -> None:
    """Under-constrained on purpose: (x - 3) * h = 0 leaves h free when x = 3, and the lints cannot see it."""
    x = b.private_input("x")
    (h,) = b.hint_unconstrained(lambda v: 0, x, name="zero")
    b.assert_mul(x - 3, h, 0)
    b.output("out", h)


def test_check_circuit_passes_a_good_circuit() -> None:
    result = check_circuit(square, valid=[({"x": 3}, {"out": 9}), {"x": R - 1}], invalid=[{"x": R}])
    assert len(result.witnesses) == 2


def test_check_circuit_reports_each_kind_of_failure() -> None:
    with pytest.raises(CircuitCheckFailure):
        check_circuit(square, valid=[({"x": 3}, {"out": 10})])
    with pytest.raises(CircuitCheckFailure):
        check_circuit(square, invalid=[{"x": 3}])
    with pytest.raises(CircuitCheckFailure):
        check_circuit(square, valid=[{"x": R}])
    with pytest.raises(CircuitCheckFailure):
        check_circuit(square, invalid_witnesses=[[1, 9, 3]])
    check_circuit(square, invalid_witnesses=[[1, 10, 3], [1, 9], [0, 9, 3], [1, 9 + R, 3]])
    # A circuit whose output is free: tampering with the output wire goes unnoticed.
    with pytest.raises(CircuitCheckFailure):
        check_circuit(loose, valid=[{"x": 3}])
    check_circuit(loose, valid=[{"x": 4}])


def test_assert_constraint_count() -> None:
    compiled = compile(square)
    assert_constraint_count(compiled, 1)
    with pytest.raises(ConstraintCountDriftError):
        assert_constraint_count(compiled, 2, name="square")


def test_snapshot_update_mode_writes_the_table(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    snapshot = ConstraintCountSnapshot(path, update=True)
    snapshot.check("square", "", compile(square), description="x*x")
    assert snapshot.save()
    assert load_counts(path)[("square", "")].constraints == 1
    strict = ConstraintCountSnapshot(path)
    strict.check("square", "", 1)
    with pytest.raises(ConstraintCountDriftError):
        strict.check("square", "", 2)
    path.write_text("gadget,constraints\nx,1\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_counts(path)


@given(field_elements())
@settings(max_examples=50, deadline=None)
def test_field_elements_are_canonical(x: int) -> None:
    assert 0 <= x < R


@given(field_elements(max_bits=8))
@settings(max_examples=50, deadline=None)
def test_field_elements_respect_max_bits(x: int) -> None:
    assert 0 <= x < 256


@given(non_canonical_field_elements())
@settings(max_examples=50, deadline=None)
def test_non_canonical_elements_are_rejected_by_the_solver(x: int) -> None:
    compiled = _square()
    with pytest.raises(WitnessError):
        compiled.solve_witness({"x": x})


_CACHE: dict[str, CompiledCircuit] = {}


def _square() -> CompiledCircuit:
    if "square" not in _CACHE:
        _CACHE["square"] = compile(square)
    return _CACHE["square"]


def _comparison() -> CompiledCircuit:
    if "cmp" not in _CACHE:

        def define(b: Builder) -> None:
            x, y = b.private_input("x"), b.private_input("y")
            b.output("lt", less_than(b, x, y, bits=16))

        _CACHE["cmp"] = compile(define)
    return _CACHE["cmp"]


@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_witness_strategies(data: st.DataObject) -> None:
    compiled = _comparison()
    inputs = st.fixed_dictionaries({"x": field_elements(max_bits=17), "y": field_elements(max_bits=16)})
    drawn, witness = data.draw(witnesses(compiled, inputs))
    compiled.r1cs.check_witness(witness)
    assert witness[1] == (1 if drawn["x"] < drawn["y"] else 0)
    valid, tampered, wire = data.draw(tampered_witnesses(compiled, inputs))
    assert valid[wire] != tampered[wire]
    with pytest.raises(WitnessError):
        compiled.r1cs.check_witness(tampered)


def test_plugin_fixture_and_option(tmp_path: Path) -> None:
    test_file = tmp_path / "test_uses_plugin.py"
    test_file.write_text(
        "def test_counts(constraint_counts, circuit_checker):\n"
        "    constraint_counts.check('is_zero', '', 2)\n"
        "    assert circuit_checker.__name__ == 'check_circuit'\n",
        encoding="utf-8",
    )
    registered = any(ep.value == "zkhealth.testing.plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)]
    if not registered:
        args[4:4] = ["-p", "zkhealth.testing.plugin"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
