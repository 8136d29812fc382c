"""Signals: linear combinations of circuit variables over BN254's scalar field Fr.

A :class:`Signal` is a sparse linear combination ``sum(coeff * var)`` where variable 0 is the constant 1.
``+``, ``-``, negation and multiplication or division by an ``int`` build new linear combinations and cost
no constraint. ``Signal * Signal`` asks the builder for one multiplication constraint (unless one side is a
constant, which folds). Integer operands are reduced mod r on purpose: ``x - 1`` is ``x + (r - 1)``.

A signal has no value while a circuit is being described, so it refuses ``bool()``, ``int()`` and
comparisons: Python's ``if`` can never branch on a witness value. Use ``is_equal``/``less_than`` gadgets
and ``b.assert_equal`` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn, Union

from zkhealth.errors import CircuitDefinitionError
from zkhealth.field import FIELD_R

if TYPE_CHECKING:
    from zkhealth.circuit.builder import Builder

R = FIELD_R

#: A sparse linear combination: variable index -> coefficient in (0, r). Variable 0 is the constant 1.
#: Treated as immutable once built: every operation returns a new dict.
LC = dict[int, int]

#: What circuit operations accept: a signal, or an integer constant (reduced mod r).
SignalLike = Union["Signal", int]


def const_lc(value: int) -> LC:
    """The linear combination of a constant (an empty dict for 0)."""
    v = value % R
    return {0: v} if v else {}


def lc_add(x: LC, y: LC) -> LC:
    """``x + y``. Cost: O(len(y))."""
    if len(x) < len(y):
        x, y = y, x
    out = dict(x)
    for v, c in y.items():
        s = (out.get(v, 0) + c) % R
        if s:
            out[v] = s
        elif v in out:
            del out[v]
    return out


def lc_sub(x: LC, y: LC) -> LC:
    """``x - y``. Cost: O(len(y))."""
    out = dict(x)
    for v, c in y.items():
        s = (out.get(v, 0) - c) % R
        if s:
            out[v] = s
        elif v in out:
            del out[v]
    return out


def lc_scale(x: LC, k: int) -> LC:
    """``k * x``. Cost: O(len(x))."""
    k %= R
    if k == 0:
        return {}
    if k == 1:
        return x
    return {v: c * k % R for v, c in x.items()}


def lc_constant(x: LC) -> int | None:
    """The value of ``x`` if it involves no variable, else ``None``."""
    if not x:
        return 0
    if len(x) == 1 and 0 in x:
        return x[0]
    return None


def _refuse(what: str) -> NoReturn:
    raise CircuitDefinitionError(
        f"a Signal has no value while the circuit is described, so {what} is not allowed: "
        "use gadgets (is_equal, less_than, select) and b.assert_* instead"
    )


class Signal:
    """A linear combination of circuit variables. Build it with a :class:`~zkhealth.circuit.Builder`."""

    __slots__ = ("_builder", "_lc", "_read")

    _builder: Builder
    _lc: LC
    _read: bool

    def __init__(self, builder: Builder, lc: LC) -> None:
        self._builder = builder
        self._lc = lc
        self._read = False

    # ------------------------------------------------------------------ inspection (no witness values)

    @property
    def builder(self) -> Builder:
        """The builder this signal belongs to."""
        return self._builder

    def is_constant(self) -> bool:
        """True when the signal is a compile-time constant (no variable involved)."""
        return lc_constant(self._lc) is not None

    def constant_value(self) -> int | None:
        """The constant in [0, r) if :meth:`is_constant`, else ``None``."""
        return lc_constant(self._lc)

    def __repr__(self) -> str:
        const = lc_constant(self._lc)
        if const is not None:
            return f"Signal(constant {const})"
        names = [f"v{v}" if v else "1" for v in sorted(self._lc)][:4]
        more = ", ..." if len(self._lc) > 4 else ""
        return f"Signal(lc of {', '.join(names)}{more})"

    # ------------------------------------------------------------------ linear arithmetic (free)

    def _other(self, other: object) -> LC | None:
        if isinstance(other, Signal):
            if other._builder is not self._builder:
                raise CircuitDefinitionError("cannot combine signals of two different circuits")
            other._read = True
            return other._lc
        if isinstance(other, int) and not isinstance(other, bool):
            return const_lc(other)
        return None

    def __add__(self, other: SignalLike) -> Signal:
        o = self._other(other)
        if o is None:
            return NotImplemented
        self._read = True
        return Signal(self._builder, lc_add(self._lc, o))

    def __radd__(self, other: SignalLike) -> Signal:
        return self.__add__(other)

    def __sub__(self, other: SignalLike) -> Signal:
        o = self._other(other)
        if o is None:
            return NotImplemented
        self._read = True
        return Signal(self._builder, lc_sub(self._lc, o))

    def __rsub__(self, other: SignalLike) -> Signal:
        o = self._other(other)
        if o is None:
            return NotImplemented
        self._read = True
        return Signal(self._builder, lc_sub(o, self._lc))

    def __neg__(self) -> Signal:
        self._read = True
        return Signal(self._builder, lc_scale(self._lc, -1))

    def __pos__(self) -> Signal:
        return self

    # ------------------------------------------------------------------ multiplication (one constraint)

    def __mul__(self, other: SignalLike) -> Signal:
        if isinstance(other, int) and not isinstance(other, bool):
            self._read = True
            return Signal(self._builder, lc_scale(self._lc, other))
        if isinstance(other, Signal):
            return self._builder.mul(self, other)
        return NotImplemented

    def __rmul__(self, other: SignalLike) -> Signal:
        return self.__mul__(other)

    def __truediv__(self, other: int) -> Signal:
        if isinstance(other, Signal):
            raise CircuitDefinitionError(
                "Signal / Signal is not an operator: use b.div(x, y) (checks y != 0, 2 constraints) "
                "or b.div_unchecked(x, y)"
            )
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        if other % R == 0:
            raise CircuitDefinitionError("division by the constant 0")
        self._read = True
        return Signal(self._builder, lc_scale(self._lc, pow(other % R, -1, R)))

    def __pow__(self, exponent: int) -> Signal:
        """``x ** e`` by square-and-multiply: about ``log2(e) + popcount(e) - 1`` constraints."""
        if isinstance(exponent, bool) or not isinstance(exponent, int) or exponent < 0:
            raise CircuitDefinitionError("Signal ** e needs a non-negative int exponent")
        if exponent == 0:
            self._read = True
            return Signal(self._builder, {0: 1})
        result: Signal | None = None
        base = self
        e = exponent
        while True:
            if e & 1:
                result = base if result is None else result * base
            e >>= 1
            if not e:
                break
            base = base * base
        self._read = True
        if result is None:  # pragma: no cover - exponent >= 1 sets result
            raise CircuitDefinitionError("unreachable: empty power")
        return result

    # ------------------------------------------------------------------ no value at description time

    def __bool__(self) -> bool:
        _refuse("bool(signal) / `if signal:`")

    def __int__(self) -> int:
        _refuse("int(signal)")

    def __index__(self) -> int:
        _refuse("using a signal as an index")

    def __eq__(self, other: object) -> bool:
        _refuse("`==` on signals (use is_equal or b.assert_equal)")

    def __ne__(self, other: object) -> bool:
        _refuse("`!=` on signals (use is_equal or b.assert_not_equal)")

    def __lt__(self, other: object) -> bool:
        _refuse("`<` on signals (use less_than)")

    def __le__(self, other: object) -> bool:
        _refuse("`<=` on signals (use less_eq)")

    def __gt__(self, other: object) -> bool:
        _refuse("`>` on signals (use greater_than)")

    def __ge__(self, other: object) -> bool:
        _refuse("`>=` on signals (use greater_eq)")

    def __hash__(self) -> int:
        return id(self)
