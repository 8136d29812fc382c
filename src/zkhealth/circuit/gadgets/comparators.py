"""Comparators of n-bit unsigned integers (n <= 252), returning 0/1 signals or asserting.

The core, :func:`less_than_unchecked`, is circomlib's ``LessThan(n)``: decompose ``x + 2**n - y`` into
n + 1 bits; the top bit is 1 exactly when ``x >= y``. It is correct only when both inputs are below
``2**n``: with ``x = r - 254`` and ``y = 2`` (8 bits) it answers "less" (docs/security.md C2). The checked
versions range-check each input to n bits first, skipping inputs the builder already knows to be in range
(an earlier range check, a boolean, a constant), so repeated comparisons of one signal pay once.
``n > 252`` is refused: ``x + 2**n - y`` would wrap mod r (docs/security.md C3).
"""

from __future__ import annotations

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.gadgets.bits import _decompose, range_check
from zkhealth.circuit.signal import R, Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError

#: Widest comparison: x + 2**n - y must stay below r.
MAX_COMPARATOR_BITS = 252


def _check_bits(bits: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_COMPARATOR_BITS:
        raise CircuitDefinitionError(f"comparator bit width n must be an int with 1 <= n <= 252, got {bits!r}")


def _constant(x: SignalLike) -> int | None:
    if isinstance(x, Signal):
        return x.constant_value()
    if isinstance(x, int) and not isinstance(x, bool):
        return x % R
    raise CircuitDefinitionError(f"expected a Signal or an int, got {type(x).__name__}")


def _ensure_range(b: Builder, x: SignalLike, bits: int) -> None:
    const = _constant(x)
    if const is not None:
        if const >> bits:
            raise CircuitDefinitionError(f"the constant {const} does not fit in {bits} bits")
        return
    range_check(b, x, bits)


def _less_than_core(b: Builder, x: SignalLike, y: SignalLike, bits: int) -> Signal:
    kx, ky = _constant(x), _constant(y)
    if kx is not None and ky is not None:
        if kx >> bits or ky >> bits:
            raise CircuitDefinitionError(f"constants do not fit in {bits} bits")
        return b.constant(1 if kx < ky else 0)
    b._record_comparator(x, y, bits)
    diff = b.constant(1 << bits) + x - y
    decomposition, _ = _decompose(b, diff, bits + 1)
    out = 1 - decomposition[bits]
    b.note_range(out, 1)
    return out


@gadget("less_than_unchecked")
def less_than_unchecked(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> Signal:
    """1 if ``x < y`` else 0, for inputs ALREADY known to be below ``2**bits`` (not checked here).

    Safe only when earlier constraints prove ``0 <= x, y < 2**bits`` (a range check, bits of a
    decomposition, a boolean). Otherwise a prover can pick values near r that compare wrongly; the
    compile-time lint warns (:class:`~zkhealth.circuit.UnrangedComparatorWarning`) when it cannot see such a
    range. Refuses ``bits > 252``. Cost: bits + 1 constraints (33 for 32 bits, as circomlib ``LessThan``).
    """
    _check_bits(bits)
    return _less_than_core(b, x, y, bits)


def less_than_native(x: int, y: int, *, bits: int) -> int:
    """Native twin of the comparators: 1 if x < y else 0; ``ValueError`` if an input is not below 2**bits."""
    if not 0 <= x < (1 << bits) or not 0 <= y < (1 << bits):
        raise ValueError(f"inputs must lie in [0, 2**{bits})")
    return 1 if x < y else 0


@gadget("less_than")
def less_than(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> Signal:
    """1 if ``x < y`` else 0. Enforces ``0 <= x, y < 2**bits`` (witness solving fails otherwise).

    Refuses ``bits > 252``. Cost: 3 * bits + 1 constraints for two fresh signals (97 for 32 bits); an input
    already known to be in range costs no range check (bits + 1 = 33 when both are).
    """
    _check_bits(bits)
    _ensure_range(b, x, bits)
    _ensure_range(b, y, bits)
    return _less_than_core(b, x, y, bits)


@gadget("less_eq")
def less_eq(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> Signal:
    """1 if ``x <= y`` else 0. Enforces ``0 <= x, y < 2**bits``. Cost: as :func:`less_than` (97 for 32 fresh
    bits)."""
    _check_bits(bits)
    _ensure_range(b, x, bits)
    _ensure_range(b, y, bits)
    return 1 - _less_than_core(b, y, x, bits)


@gadget("greater_than")
def greater_than(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> Signal:
    """1 if ``x > y`` else 0. Enforces ``0 <= x, y < 2**bits``. Cost: as :func:`less_than`."""
    _check_bits(bits)
    _ensure_range(b, x, bits)
    _ensure_range(b, y, bits)
    return _less_than_core(b, y, x, bits)


@gadget("greater_eq")
def greater_eq(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> Signal:
    """1 if ``x >= y`` else 0. Enforces ``0 <= x, y < 2**bits``. Cost: as :func:`less_than`."""
    _check_bits(bits)
    _ensure_range(b, x, bits)
    _ensure_range(b, y, bits)
    return 1 - _less_than_core(b, x, y, bits)


def assert_less_than(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> None:
    """Enforce ``x < y`` with ``0 <= x, y < 2**bits``.

    Range-checks ``y - x - 1`` to ``bits`` bits: given the input ranges it lies in ``(-2**bits, 2**bits)``, and
    negative values wrap to above ``r - 2**bits``, so the check passes exactly when ``x < y``.
    Cost: 3 * bits for fresh inputs (bits when both are already in range).
    """
    _check_bits(bits)
    with b.scope("assert_less_than"):
        _ensure_range(b, x, bits)
        _ensure_range(b, y, bits)
        _ensure_range(b, b.constant(0) + y - x - 1, bits)


def assert_less_eq(b: Builder, x: SignalLike, y: SignalLike, *, bits: int) -> None:
    """Enforce ``x <= y`` with ``0 <= x, y < 2**bits`` (range check of ``y - x``). Cost: as
    :func:`assert_less_than`."""
    _check_bits(bits)
    with b.scope("assert_less_eq"):
        _ensure_range(b, x, bits)
        _ensure_range(b, y, bits)
        _ensure_range(b, b.constant(0) + y - x, bits)


@gadget("in_range")
def in_range(b: Builder, x: SignalLike, lo: SignalLike, hi: SignalLike, *, bits: int) -> Signal:
    """1 if ``lo <= x <= hi`` else 0. Enforces that x, lo and hi lie in ``[0, 2**bits)``.

    Cost: two comparisons and one AND: 2 * (bits + 1) + 1 plus the range checks of the non-constant inputs
    (99 for 32 bits with constant bounds).
    """
    _check_bits(bits)
    _ensure_range(b, x, bits)
    _ensure_range(b, lo, bits)
    _ensure_range(b, hi, bits)
    above = 1 - _less_than_core(b, x, lo, bits)
    below = 1 - _less_than_core(b, hi, x, bits)
    out = b.mul(above, below)
    b.note_range(out, 1)
    return out


def in_range_native(x: int, lo: int, hi: int, *, bits: int) -> int:
    """Native twin of :func:`in_range`."""
    for value in (x, lo, hi):
        if not 0 <= value < (1 << bits):
            raise ValueError(f"inputs must lie in [0, 2**{bits})")
    return 1 if lo <= x <= hi else 0


def assert_in_range(b: Builder, x: SignalLike, lo: SignalLike, hi: SignalLike, *, bits: int) -> None:
    """Enforce ``lo <= x <= hi`` (all in ``[0, 2**bits)``). Cost: 2 * bits plus the input range checks
    (96 for 32 bits with constant bounds)."""
    _check_bits(bits)
    with b.scope("assert_in_range"):
        assert_less_eq(b, lo, x, bits=bits)
        assert_less_eq(b, x, hi, bits=bits)
