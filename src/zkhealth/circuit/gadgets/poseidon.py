"""Poseidon in the circuit, equal to the native :func:`zkhealth.hash.poseidon.poseidon` (circomlib parameters).

The gadget evaluates the same optimised schedule as the native hash (Poseidon paper, ePrint 2019/458,
Appendix B; also what circomlib's ``poseidon.circom`` does), built from the same
:func:`~zkhealth.hash.poseidon.poseidon_constants`:

* 4 full rounds: add the round constants, ``x^5`` on every cell, multiply by the MDS matrix;
* ``R_P`` partial rounds in sparse form: add one scalar to cell 0, ``x^5`` on cell 0 only, then
  ``s0 = row . s`` and ``s_j += column_j * s0_before`` (the other cells' constants are carried forward);
* the dense ``post_partial_matrix`` on cells 1..t-1, then 4 full rounds (the first with carried constants).

Linear layers are free (linear combinations). Each ``x^5`` costs 3 constraints (``x2 = x*x``, ``x4 = x2*x2``,
``y = x4*x``), and an S-box whose input is a compile-time constant costs none. The capacity cell starts at 0,
so the first S-box of cell 0 is constant-folded: Poseidon with ``n`` inputs (``t = n + 1``) costs exactly
``3 * (8 * t + R_P) - 3`` constraints, e.g. 240 for two inputs, 297 for four, 609 for sixteen.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError
from zkhealth.hash.poseidon import MAX_INPUTS, N_ROUNDS_P, poseidon_constants

__all__ = ["poseidon", "poseidon_constraint_count", "poseidon_permutation"]


def poseidon_constraint_count(n_inputs: int) -> int:
    """Constraints of :func:`poseidon` with ``n_inputs`` non-constant inputs: ``3 * (8t + R_P) - 3``."""
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or not 1 <= n_inputs <= MAX_INPUTS:
        raise CircuitDefinitionError(f"Poseidon takes 1..{MAX_INPUTS} inputs")
    t = n_inputs + 1
    return 3 * (8 * t + N_ROUNDS_P[t - 2]) - 3


def _sbox(b: Builder, x: Signal) -> Signal:
    """``x^5`` in 3 constraints (none for a constant ``x``)."""
    x2 = b.mul(x, x)
    x4 = b.mul(x2, x2)
    return b.mul(x4, x)


def _full_rounds(
    b: Builder, state: list[Signal], constants: Sequence[Sequence[int]], mds: Sequence[Sequence[int]]
) -> list[Signal]:
    for round_constants in constants:
        sboxed = [_sbox(b, cell + c) for cell, c in zip(state, round_constants, strict=True)]
        state = [b.linear_combination(sboxed, row) for row in mds]
    return state


def _permute(b: Builder, state: list[Signal]) -> list[Signal]:
    consts = poseidon_constants(len(state))
    half_f = consts.n_rounds_f // 2
    state = _full_rounds(b, state, consts.round_constants[:half_f], consts.mds)
    s0, rest = state[0], state[1:]
    m00 = consts.mds[0][0]
    for constant, row, column in zip(consts.partial_constants, consts.sparse_rows, consts.sparse_columns, strict=True):
        y = _sbox(b, s0 + constant)
        s0 = b.linear_combination([y, *rest], (m00, *row[1:]))
        rest = [cell + y * c for cell, c in zip(rest, column, strict=True)]
    rest = [b.linear_combination(rest, row) for row in consts.post_partial_matrix]
    second_half = (consts.second_half_constants, *consts.round_constants[half_f + consts.n_rounds_p + 1 :])
    return _full_rounds(b, [s0, *rest], second_half, consts.mds)


@gadget("poseidon_permutation")
def poseidon_permutation(b: Builder, state: Sequence[SignalLike]) -> list[Signal]:
    """The Poseidon permutation on a state of width ``t`` in 2..17; returns the whole new state.

    Equal to the native :func:`zkhealth.hash.poseidon.poseidon_permutation`. Enforces nothing about its
    inputs (every field element is a valid input). Cost: ``3 * (8t + R_P)`` constraints, minus 3 for each
    input cell that is a compile-time constant (its first S-box folds).
    """
    if isinstance(state, (str, bytes)) or not isinstance(state, Sequence):
        raise CircuitDefinitionError("the Poseidon state must be a sequence of signals")
    if not 2 <= len(state) <= MAX_INPUTS + 1:
        raise CircuitDefinitionError(f"Poseidon width {len(state)} is not supported (2..{MAX_INPUTS + 1})")
    return _permute(b, [b.as_signal(x) for x in state])


@gadget("poseidon")
def poseidon(b: Builder, inputs: Sequence[SignalLike]) -> Signal:
    """``poseidon(inputs)`` for 1..16 inputs, equal to the native hash (and to circomlib's ``Poseidon(n)``).

    Enforces: the output is the hash of the inputs (no precondition on the inputs). Cost:
    :func:`poseidon_constraint_count` ``(len(inputs))`` constraints (240 for 2 inputs, 297 for 4, 609 for 16),
    less when some inputs are compile-time constants.
    """
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise CircuitDefinitionError("Poseidon inputs must be a sequence of signals")
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise CircuitDefinitionError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(inputs)}")
    state = [b.constant(0), *(b.as_signal(x) for x in inputs)]
    return _permute(b, state)[0]
