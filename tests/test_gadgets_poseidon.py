"""The Poseidon gadget (zkhealth.circuit.gadgets.poseidon) against the native hash and circomlibjs vectors."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets import PINNED_COUNTS_PATH
from zkhealth.circuit.gadgets.poseidon import poseidon, poseidon_constraint_count, poseidon_permutation
from zkhealth.errors import CircuitDefinitionError, UnsatisfiedConstraintError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon as poseidon_native
from zkhealth.hash.poseidon import poseidon_permutation as permutation_native
from zkhealth.testing import ConstraintCountSnapshot

pytestmark = pytest.mark.witness

_COMPILED: dict[tuple[str, int], CompiledCircuit] = {}


def hash_circuit(n: int) -> CompiledCircuit:
    def define(b: Builder) -> None:
        b.output("hash", poseidon(b, b.private_inputs("x", n)))

    key = ("hash", n)
    if key not in _COMPILED:
        _COMPILED[key] = compile(define, name=f"poseidon{n}")
    return _COMPILED[key]


def check_circuit(n: int) -> CompiledCircuit:
    """poseidon(x) == h with h public: the form a verifier uses."""

    def define(b: Builder) -> None:
        expected = b.public_input("h")
        b.assert_equal(poseidon(b, b.private_inputs("x", n)), expected)

    key = ("check", n)
    if key not in _COMPILED:
        _COMPILED[key] = compile(define, name=f"poseidon_check{n}")
    return _COMPILED[key]


@pytest.mark.parametrize("n", range(1, 17))
def test_constraint_count(n: int) -> None:
    """3 * (8t + R_P) - 3: the capacity cell's first S-box is constant-folded."""
    assert hash_circuit(n).stats.constraints_after == poseidon_constraint_count(n)


@pytest.mark.parametrize("n", [1, 2, 4, 16])
def test_pinned_counts(n: int) -> None:
    ConstraintCountSnapshot(PINNED_COUNTS_PATH).check("poseidon", f"n={n}", hash_circuit(n))
    targets = {2: 240, 16: 609}  # the targets (circomlib: Poseidon(2) = 240)
    if n in targets:
        assert hash_circuit(n).r1cs.n_constraints <= targets[n]


def test_circomlibjs_vectors(vectors_dir: Path) -> None:
    cases = json.loads((vectors_dir / "poseidon.json").read_text())["cases"]
    assert len(cases) >= 16
    for case in cases:
        inputs = [int(v) for v in case["inputs"]]
        circuit = hash_circuit(len(inputs))
        witness = circuit.solve_witness({"x": inputs})
        assert circuit.output_values(witness)["hash"] == int(case["output"])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 16])
def test_matches_native_and_satisfies_r1cs(n: int) -> None:
    rng = random.Random(n)
    circuit = hash_circuit(n)
    for inputs in ([0] * n, [FIELD_R - 1] * n, [rng.randrange(FIELD_R) for _ in range(n)]):
        witness = circuit.solve_witness({"x": inputs})
        circuit.r1cs.check_witness(witness)
        assert circuit.output_values(witness)["hash"] == poseidon_native(inputs)


def test_wrong_hash_is_rejected() -> None:
    circuit = check_circuit(2)
    inputs = [3, 4]
    good = poseidon_native(inputs)
    circuit.solve_witness({"x": inputs, "h": good})
    for bad in ((good + 1) % FIELD_R, poseidon_native([4, 3]), poseidon_native([3, 4, 0])):
        with pytest.raises(UnsatisfiedConstraintError):
            circuit.solve_witness({"x": inputs, "h": bad})
    with pytest.raises(WitnessError):
        circuit.solve_witness({"x": [3 + FIELD_R, 4], "h": good})  # x + r never aliases x


def test_constant_inputs_fold() -> None:
    def all_constant(b: Builder) -> None:
        digest = poseidon(b, [1, 2])
        assert digest.constant_value() == poseidon_native([1, 2])
        b.assert_equal(b.public_input("h"), digest)

    circuit = compile(all_constant)
    assert circuit.stats.constraints_after == 1  # only h == constant remains
    circuit.solve_witness({"h": poseidon_native([1, 2])})
    with pytest.raises(WitnessError):
        circuit.solve_witness({"h": poseidon_native([2, 1])})

    def mixed(b: Builder) -> None:
        b.output("hash", poseidon(b, [b.private_input("x"), 7]))

    circuit = compile(mixed)
    assert circuit.stats.constraints_after == poseidon_constraint_count(2) - 3  # the constant cell folds too
    witness = circuit.solve_witness({"x": 5})
    assert circuit.output_values(witness)["hash"] == poseidon_native([5, 7])


def test_permutation_matches_native() -> None:
    def define(b: Builder) -> None:
        for i, cell in enumerate(poseidon_permutation(b, b.private_inputs("state", 3))):
            b.output(f"out{i}", cell)

    circuit = compile(define)
    assert circuit.stats.constraints_after == 3 * (8 * 3 + 57)
    ConstraintCountSnapshot(PINNED_COUNTS_PATH).check("poseidon_permutation", "t=3", circuit)
    state = [11, 22, 33]
    values = circuit.output_values(circuit.solve_witness({"state": state}))
    assert [values[f"out{i}"] for i in range(3)] == permutation_native(state)


@pytest.mark.parametrize(
    "make",
    [
        lambda b: poseidon(b, []),
        lambda b: poseidon(b, b.private_inputs("x", 17)),
        lambda b: poseidon(b, "ab"),
        lambda b: poseidon(b, [1.5]),
        lambda b: poseidon_permutation(b, [b.private_input("x")]),
    ],
)
def test_definition_errors(make: Callable[[Builder], object]) -> None:
    with pytest.raises(CircuitDefinitionError):
        compile(make)
