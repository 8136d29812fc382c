"""Hypothesis strategies for circuit tests: field elements (with the edge cases that break circuits),
non-canonical integers, solved witnesses and tampered witnesses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from zkhealth.circuit import CompiledCircuit
from zkhealth.errors import WitnessError
from zkhealth.field import FIELD_R


def _edges(max_value: int) -> list[int]:
    candidates = {0, 1, 2, max_value - 1, max_value - 2, FIELD_R - 1, FIELD_R - 2}
    for k in (8, 16, 32, 64, 128, 252, 253):
        candidates.update({(1 << k) - 1, 1 << k, (1 << k) + 1})
    return sorted(v for v in candidates if 0 <= v < max_value)


def field_elements(*, max_bits: int | None = None) -> st.SearchStrategy[int]:
    """Elements of [0, r) (or of [0, 2**max_bits)), mixing uniform values with edge cases: 0, 1, r - 1,
    powers of two and their neighbours."""
    upper = FIELD_R if max_bits is None else min(FIELD_R, 1 << max_bits)
    return st.one_of(st.sampled_from(_edges(upper)), st.integers(min_value=0, max_value=upper - 1))


def non_canonical_field_elements() -> st.SearchStrategy[int]:
    """Integers that are NOT canonical field elements: ``x + r`` aliases, ``2**256 - 1`` and negatives."""
    return st.one_of(
        st.integers(min_value=0, max_value=FIELD_R - 1).map(lambda x: x + FIELD_R),
        st.sampled_from([FIELD_R, (1 << 254) - 1, (1 << 256) - 1, -1]),
        st.integers(max_value=-1),
    )


@st.composite
def witnesses(
    draw: st.DrawFn, compiled: CompiledCircuit, inputs: st.SearchStrategy[Mapping[str, Any]]
) -> tuple[Mapping[str, Any], list[int]]:
    """``(inputs, full witness)`` pairs for drawn inputs the circuit accepts (rejected ones are skipped)."""
    drawn = draw(inputs)
    try:
        witness = compiled.solve_witness(drawn)
    except WitnessError:
        assume(False)
        raise
    return drawn, witness


@st.composite
def tampered_witnesses(
    draw: st.DrawFn,
    compiled: CompiledCircuit,
    inputs: st.SearchStrategy[Mapping[str, Any]],
    *,
    wires: Sequence[int] | None = None,
) -> tuple[list[int], list[int], int]:
    """``(valid witness, tampered copy, changed wire)``: one wire (by default an output wire) set to another
    field element. A sound circuit's R1CS rejects the copy whenever that wire is a function of the others."""
    _, witness = draw(witnesses(compiled, inputs))
    choices = list(wires) if wires is not None else list(range(1, 1 + compiled.r1cs.n_public_outputs))
    if not choices:
        raise ValueError("tampered_witnesses: the circuit has no output wire; pass wires=")
    wire = draw(st.sampled_from(choices))
    value = draw(field_elements().filter(lambda v: v != witness[wire]))
    tampered = list(witness)
    tampered[wire] = value
    return witness, tampered, wire
