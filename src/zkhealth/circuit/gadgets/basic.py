"""Basic gadgets: zero tests, equality, selection, set membership and boolean logic.

Every selector and every boolean input is boolean-constrained here (unless the builder already knows it is
0/1, e.g. the output of a comparator), so a selector of 2 cannot pick a mixture (docs/security.md C7).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.signal import R, Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError


def ensure_bool(b: Builder, x: SignalLike) -> None:
    """Add ``x * (x - 1) = 0`` unless the builder already knows x is 0 or 1. Cost: 1 or 0."""
    known = b.known_bits(x)
    if known is None or known > 1:
        b.assert_bool(x)


def _inverse_or_zero(value: int) -> int:
    return pow(value, -1, R) if value else 0


@gadget("is_zero")
def is_zero(b: Builder, x: SignalLike) -> Signal:
    """1 if ``x == 0`` else 0 (circomlib ``IsZero``).

    Enforces ``out = 1 - x * inv`` and ``x * out = 0``. Both are needed: without the second, ``out = 1`` with
    ``inv = 0`` passes for any x (docs/security.md C6). Cost: 2 constraints (0 for a constant).
    """
    sx = b.as_signal(x)
    const = sx.constant_value()
    if const is not None:
        return b.constant(1 if const == 0 else 0)
    (inv,) = b.hint_unconstrained(_inverse_or_zero, sx, name="is_zero_inverse")
    out = 1 - b.mul(sx, inv)
    b.assert_mul(sx, out, 0)
    b.note_range(out, 1)
    return out


def is_zero_native(x: int) -> int:
    """Native twin of :func:`is_zero`."""
    return 1 if x % R == 0 else 0


@gadget("is_equal")
def is_equal(b: Builder, x: SignalLike, y: SignalLike) -> Signal:
    """1 if ``x == y`` else 0 (``is_zero(x - y)``). Cost: 2 constraints."""
    return is_zero(b, b.as_signal(x) - y)


def is_equal_native(x: int, y: int) -> int:
    """Native twin of :func:`is_equal`."""
    return 1 if (x - y) % R == 0 else 0


@gadget("select")
def select(b: Builder, selector: SignalLike, if_true: SignalLike, if_false: SignalLike) -> Signal:
    """``if_true`` when ``selector == 1``, ``if_false`` when it is 0.

    Enforces ``selector`` boolean (docs/security.md C7) and ``out = if_false + selector * (if_true - if_false)``.
    Cost: 2 constraints (1 when the selector is already known boolean; the product is free when
    ``if_true - if_false`` is constant).
    """
    s = b.as_signal(selector)
    const = s.constant_value()
    if const is not None:
        if const not in (0, 1):
            raise CircuitDefinitionError(f"select with the constant selector {const}")
        return b.as_signal(if_true) + 0 if const else b.as_signal(if_false) + 0
    ensure_bool(b, s)
    f = b.as_signal(if_false)
    return f + b.mul(s, b.as_signal(if_true) - f)


def select_native(selector: int, if_true: int, if_false: int) -> int:
    """Native twin of :func:`select`; ``ValueError`` for a non-boolean selector."""
    if selector not in (0, 1):
        raise ValueError("selector must be 0 or 1")
    return if_true if selector else if_false


@gadget("mux")
def mux(b: Builder, selector_bits: Sequence[SignalLike], values: Sequence[SignalLike]) -> Signal:
    """``values[index]`` where ``index = sum(selector_bits[i] * 2**i)``; ``len(values) == 2**len(bits)``.

    Enforces every selector bit boolean and selects by a binary tree of :func:`select`.
    Cost: k + 2**k - 1 constraints for k fresh selector bits (2 for k = 1, 5 for k = 2).
    """
    k = len(selector_bits)
    if k < 1 or len(values) != 1 << k:
        raise CircuitDefinitionError("mux needs k >= 1 selector bits and exactly 2**k values")
    for bit in selector_bits:
        ensure_bool(b, bit)
    layer = [b.as_signal(v) for v in values]
    for bit in selector_bits:
        sb = b.as_signal(bit)
        layer = [layer[i] + b.mul(sb, layer[i + 1] - layer[i]) for i in range(0, len(layer), 2)]
    return layer[0]


def mux_native(selector_bits: Sequence[int], values: Sequence[int]) -> int:
    """Native twin of :func:`mux`."""
    if any(bit not in (0, 1) for bit in selector_bits) or len(values) != 1 << len(selector_bits):
        raise ValueError("bad selector bits or value count")
    return values[sum(bit << i for i, bit in enumerate(selector_bits))]


def _product_of_differences(b: Builder, x: Signal, values: Sequence[SignalLike]) -> Signal:
    product = x - values[0]
    for v in values[1:]:
        product = b.mul(product, x - v)
    return product


@gadget("in_set")
def in_set(b: Builder, x: SignalLike, values: Sequence[SignalLike]) -> Signal:
    """1 if ``x`` equals one of ``values`` else 0: ``is_zero(prod(x - v))``.

    Cost: len(values) + 1 constraints (len - 1 products, then 2 for is_zero).
    """
    if not values:
        raise CircuitDefinitionError("in_set needs at least one value")
    return is_zero(b, _product_of_differences(b, b.as_signal(x), values))


def in_set_native(x: int, values: Sequence[int]) -> int:
    """Native twin of :func:`in_set`."""
    return 1 if any((x - v) % R == 0 for v in values) else 0


def assert_in_set(b: Builder, x: SignalLike, values: Sequence[SignalLike]) -> None:
    """Enforce that ``x`` equals one of ``values``: ``prod(x - v) == 0``.

    Cost: len(values) - 1 constraints (the last factor is folded into the assertion).
    """
    if not values:
        raise CircuitDefinitionError("assert_in_set needs at least one value")
    with b.scope("assert_in_set"):
        sx = b.as_signal(x)
        if len(values) == 1:
            b.assert_equal(sx, values[0])
            return
        head = _product_of_differences(b, sx, values[:-1])
        b.assert_mul(head, sx - values[-1], 0)


@gadget("and")
def logical_and(b: Builder, x: SignalLike, y: SignalLike) -> Signal:
    """``x AND y`` for booleans; enforces both boolean. Cost: 1 (+1 per input not known boolean)."""
    ensure_bool(b, x)
    ensure_bool(b, y)
    out = b.mul(x, y)
    b.note_range(out, 1)
    return out


@gadget("or")
def logical_or(b: Builder, x: SignalLike, y: SignalLike) -> Signal:
    """``x OR y = x + y - x*y`` for booleans; enforces both boolean. Cost: 1 (+1 per input not known
    boolean)."""
    ensure_bool(b, x)
    ensure_bool(b, y)
    sx = b.as_signal(x)
    out = sx + y - b.mul(sx, y)
    b.note_range(out, 1)
    return out


@gadget("not")
def logical_not(b: Builder, x: SignalLike) -> Signal:
    """``1 - x`` for a boolean; enforces x boolean. Cost: 0 (+1 if x is not known boolean)."""
    ensure_bool(b, x)
    out = 1 - b.as_signal(x)
    b.note_range(out, 1)
    return out


def logical_native(op: str, *args: int) -> int:
    """Native twin of ``and``/``or``/``not``."""
    if any(a not in (0, 1) for a in args):
        raise ValueError("boolean inputs only")
    if op == "and":
        return args[0] & args[1]
    if op == "or":
        return args[0] | args[1]
    if op == "not":
        return 1 - args[0]
    raise ValueError(f"unknown operation {op!r}")
