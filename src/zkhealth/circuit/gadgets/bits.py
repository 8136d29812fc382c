"""Bit decomposition and range checks.

* :func:`to_bits` (n <= 253): ``n`` booleans whose weighted sum equals x; n constraints. Since
  ``2**253 < r``, the decomposition is unique and proves ``0 <= x < 2**n``.
* :func:`to_bits_strict` (254 bits, full width): also proves the bits, read as an integer, are ``< r``, so no
  second decomposition ``x + r`` exists (docs/security.md C4; circomlib ``Num2Bits_strict``/``AliasCheck``).
* :func:`range_check`: ``0 <= x < 2**n`` without returning the bits.
* :func:`assert_bits_le_constant`: bits, read as an integer, are ``<= constant``.
* :func:`from_bits`: the weighted sum, free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.signal import R, Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError

#: Widest plain decomposition: 2**253 < r, so 253 bits never wrap.
MAX_PLAIN_BITS = 253
#: Width of a full field element.
FIELD_BITS = 254


def _check_width(n: int, maximum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= maximum:
        raise CircuitDefinitionError(f"bit width must be an int in 1..{maximum}, got {n!r}")


def _bits_hint(n: int) -> Callable[[int], list[int]]:
    def to_bits(value: int) -> list[int]:
        return [(value >> i) & 1 for i in range(n)]

    return to_bits


def _decompose(b: Builder, x: SignalLike, n: int) -> tuple[list[Signal], int]:
    """Hint n bits, make each boolean, and assert their weighted sum is x. Returns (bits, sum-constraint
    index); the index is -1 for a constant x. Cost: n constraints after elimination."""
    if isinstance(x, int) and not isinstance(x, bool):
        value = x % R
    else:
        if not isinstance(x, Signal):
            raise CircuitDefinitionError(f"expected a Signal or an int, got {type(x).__name__}")
        const = x.constant_value()
        value = -1 if const is None else const
    if value >= 0:
        if value >> n:
            raise CircuitDefinitionError(f"the constant {value} does not fit in {n} bits")
        return [b.constant((value >> i) & 1) for i in range(n)], -1
    width = b._range_width(n)  # a mutant may shrink the check by one bit (mutation testing only)
    bits = b.hint_unconstrained(_bits_hint(width), x, n_outputs=width, name="bits")
    for bit in bits:
        b.assert_bool(bit)
    index = b.n_constraints
    b.assert_equal(b.linear_combination(bits, [1 << i for i in range(width)]), x)
    b.note_range(x, width)
    return bits + [b.constant(0) for _ in range(n - width)], index


@gadget("to_bits")
def to_bits(b: Builder, x: SignalLike, n: int) -> list[Signal]:
    """The ``n`` bits of ``x``, least significant first.

    Enforces: every bit is 0 or 1 and ``sum(bit_i * 2**i) == x``; for ``n <= 253`` this proves
    ``0 <= x < 2**n`` and the bits are unique. ``n == 254`` is the strict full-width decomposition
    (:func:`to_bits_strict`). Refuses ``n > 254`` at definition time.
    Cost: n constraints (n <= 253); 406 for n = 254; 0 for a constant x.
    """
    _check_width(n, FIELD_BITS)
    if n == FIELD_BITS:
        return _strict(b, x)
    return _decompose(b, x, n)[0]


def to_bits_native(x: int, n: int) -> list[int]:
    """Native twin of :func:`to_bits`: raises ``ValueError`` when ``x`` is not in ``[0, 2**n)`` or not < r."""
    if not 0 <= x < R or x >> n:
        raise ValueError(f"{x} does not fit in {n} bits below r")
    return [(x >> i) & 1 for i in range(n)]


def _strict(b: Builder, x: SignalLike) -> list[Signal]:
    bits, index = _decompose(b, x, FIELD_BITS)
    if index >= 0:
        assert_bits_le_constant(b, bits, R - 1)
        b._mark_alias_checked(index)
    return bits


@gadget("to_bits_strict")
def to_bits_strict(b: Builder, x: SignalLike) -> list[Signal]:
    """The 254 bits of the field element ``x``, least significant first, unique.

    Enforces: every bit is boolean, ``sum(bit_i * 2**i) == x`` and the bits read as an integer are
    ``<= r - 1`` (alias check), so the decomposition of ``x + r`` is rejected (docs/security.md C4).
    Cost: 254 + 152 = 406 constraints.
    """
    return _strict(b, x)


def range_check(b: Builder, x: SignalLike, n: int) -> None:
    """Enforce ``0 <= x < 2**n`` for ``1 <= n <= 253``.

    Cost: n constraints; 0 when the builder already knows ``x < 2**n`` from earlier constraints, or when x
    is a constant (checked at definition time).
    """
    _check_width(n, MAX_PLAIN_BITS)
    known = b.known_bits(x)
    if known is not None and known <= n:
        return
    with b.scope("range_check"):
        _decompose(b, x, n)


def from_bits(b: Builder, bits: Sequence[SignalLike]) -> Signal:
    """``sum(bit_i * 2**i)`` (least significant first). Free: no constraint.

    Does not check that the inputs are bits; with 254 or more inputs the sum may wrap mod r. Use bits from
    :func:`to_bits`/:func:`to_bits_strict` or add ``assert_bool`` yourself.
    """
    if len(bits) > FIELD_BITS:
        raise CircuitDefinitionError("from_bits takes at most 254 bits")
    return b.linear_combination(list(bits), [1 << i for i in range(len(bits))])


def from_bits_native(bits: Sequence[int]) -> int:
    """Native twin of :func:`from_bits` (reduced mod r, like the circuit)."""
    return sum(bit << i for i, bit in enumerate(bits)) % R


def assert_bits_le_constant(b: Builder, bits: Sequence[SignalLike], constant: int) -> None:
    """Enforce ``sum(bit_i * 2**i) <= constant`` as integers, for boolean ``bits`` (least significant first).

    Precondition: every bit is already boolean-constrained. Scanning from the most significant bit, ``p``
    is the product of the bits where the constant has a 1 (the prefix still equals the constant's); for
    each run of 0s in the constant, ``p * sum(run bits) == 0`` forbids a 1 there while the prefix is equal.
    Cost: (number of 1-bits of the constant above its lowest 0-bit, minus 1) + (number of 0-runs);
    152 for ``r - 1``.
    """
    if isinstance(constant, bool) or not isinstance(constant, int) or constant < 0:
        raise CircuitDefinitionError("the bound must be a non-negative int")
    n = len(bits)
    if constant >> n:
        return
    zero_positions = [i for i in range(n) if not (constant >> i) & 1]
    if not zero_positions:
        return
    lowest_zero = zero_positions[0]
    with b.scope("le_constant"):
        prefix: Signal | None = None
        run: list[SignalLike] = []
        for i in range(n - 1, -1, -1):
            if (constant >> i) & 1:
                if run:
                    _forbid_run(b, prefix, run)
                    run = []
                if i > lowest_zero:
                    bit = bits[i]
                    prefix = (b.constant(0) + bit) if prefix is None else b.mul(prefix, bit)
            else:
                run.append(bits[i])
        if run:
            _forbid_run(b, prefix, run)


def _forbid_run(b: Builder, prefix: Signal | None, run: Sequence[SignalLike]) -> None:
    total = b.linear_combination(list(run), [1] * len(run))
    if prefix is None:
        b.assert_zero(total)
    else:
        b.assert_mul(prefix, total, 0)
