"""The examples of docs/circuits.md: the cubic and the adult check. The test imports circuits/examples/ and
checks that the guide embeds their code verbatim, so the docs cannot drift from tested code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from zkhealth.circuit import check_unique, compile, prove_unique
from zkhealth.errors import UnsatisfiedConstraintError, WitnessError
from zkhealth.testing import check_circuit

pytestmark = pytest.mark.witness
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "circuits" / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"zkhealth_example_{name}", EXAMPLES / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_embed_the_examples() -> None:
    guide = (ROOT / "docs" / "circuits.md").read_text(encoding="utf-8")
    for name in ("cubic", "adult", "broken_is_zero"):
        assert (EXAMPLES / f"{name}.py").read_text(encoding="utf-8").strip() in guide


def test_cubic() -> None:
    cubic = load("cubic").cubic
    compiled = compile(cubic)
    assert compiled.stats.constraints_after == 2
    assert compiled.stats.constraints_before == 3
    result = check_circuit(
        compiled,
        valid=[({"x": 3}, {"out": 35}), ({"x": 0}, {"out": 5})],
        invalid=[{"x": "3.0"}, {}, {"x": 3, "y": 1}],
    )
    assert result.witnesses[0] == [1, 35, 3, 9]
    check_unique(compiled, {"x": 3})
    forged = [1, 36, 3, 9]
    with pytest.raises(WitnessError):
        compiled.r1cs.check_witness(forged)


def test_adult() -> None:
    module = load("adult")
    compiled = compile(module.adult)
    today = 20000
    limit = today - module.ADULT_AGE_DAYS
    check_circuit(
        compiled,
        valid=[{"today": today, "birth_date": limit}, {"today": today, "birth_date": 0}],
        invalid=[
            {"today": today, "birth_date": limit + 1},
            {"today": today, "birth_date": today + 1},  # born after today: wraps, fails the range check
            {"today": today, "birth_date": today - 2**32},  # more than 2^32 days: out of range
        ],
    )
    check_unique(compiled, {"today": today, "birth_date": limit})
    with pytest.raises(UnsatisfiedConstraintError) as info:
        compiled.solve_witness({"today": today, "birth_date": limit + 1})
    message = str(info.value)
    assert info.value.label == "adult/age"
    assert "0 != 1" in message and "adult.py:20" in message
    assert compiled.r1cs.n_constraints == 64


def test_broken_is_zero_values_look_right() -> None:
    """What a values-only test sees of the deliberately broken gadget: the right outputs. It passes; the
    assurance tools are what catch the gadget (docs/circuits.md)."""
    compiled = compile(load("broken_is_zero").broken_is_zero)
    assert compiled.output_values(compiled.solve_witness({"x": 0})) == {"out": 1}
    assert compiled.output_values(compiled.solve_witness({"x": 5})) == {"out": 0}


def test_broken_is_zero_is_caught_by_check_unique() -> None:
    broken = load("broken_is_zero").broken_is_zero
    verdict = prove_unique(broken)
    assert verdict.verdict == "not unique" and verdict.signal == "out"
    assert verdict.witness_a is not None and verdict.witness_b is not None
    compiled = compile(broken)
    for witness in (verdict.witness_a, verdict.witness_b):
        compiled.r1cs.check_witness(witness)
    assert verdict.witness_a[2] == verdict.witness_b[2] != 0  # same x, not zero, yet out = 0 and out = 1
    assert {verdict.witness_a[1], verdict.witness_b[1]} == {0, 1}
    assert prove_unique(load("cubic").cubic).verdict == "unique"
