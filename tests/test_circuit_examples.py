"""The examples of docs/circuits.md: the cubic and the adult check. The test imports circuits/examples/ and
checks that the guide embeds their code verbatim, so the docs cannot drift from tested code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from zkhealth.circuit import check_unique, compile
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
    for name in ("cubic", "adult"):
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
