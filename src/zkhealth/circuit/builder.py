"""The circuit builder: the ``b`` a circuit's ``define(b)`` receives.

The builder records, in one pass over the author's Python code:

* the variables (inputs, outputs, multiplication results, hint outputs);
* the constraints ``A * B = C`` over those variables, each with its scope path and the source line that made it;
* a flat list of solver steps that computes every variable from the inputs, used later to solve witnesses.

Nothing here knows any witness value. :func:`zkhealth.circuit.compile` turns a finished builder into an R1CS
and a witness program.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from zkhealth.circuit.signal import (
    LC,
    R,
    Signal,
    SignalLike,
    const_lc,
    lc_constant,
    lc_scale,
    lc_sub,
)
from zkhealth.errors import CircuitDefinitionError, GatedSecurityCheckError

#: A source location: (file name, line number).
Source = tuple[str, int]
#: One solver step (see the ``STEP_*`` kinds).
Step = tuple[Any, ...]
#: A hint function: receives the input values as ints, returns one int or a sequence of ints.
HintFunction = Callable[..., "int | Sequence[int]"]

# Variable kinds.
VAR_ONE = 0
VAR_PUBLIC_INPUT = 1
VAR_PRIVATE_INPUT = 2
VAR_OUTPUT = 3
VAR_MUL = 4
VAR_HINT = 5

# Solver step kinds; the tuple layouts are documented in zkhealth.circuit.witness.
STEP_MUL = 0
STEP_LIN = 1
STEP_HINT = 2
STEP_INV = 3
STEP_DIV = 4

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_CIRCUIT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_INTERNAL_FILE: dict[str, bool] = {}


def _is_internal(filename: str) -> bool:
    internal = _INTERNAL_FILE.get(filename)
    if internal is None:
        internal = os.path.abspath(filename).startswith(_CIRCUIT_DIR)
        _INTERNAL_FILE[filename] = internal
    return internal


def caller_source() -> Source:
    """The first frame outside the ``zkhealth.circuit`` package (gadgets included): the author's line."""
    frame = sys._getframe(1)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ("<unknown>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


_DSL_FILES = frozenset(
    {os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.abspath(__file__)), "signal.py")}
)
_DSL_FILE: dict[str, bool] = {}


def inner_source() -> Source:
    """The first frame outside the builder and signal modules: the gadget (or author) line that asked for
    the constraint or hint. Mutation testing and the uniqueness report name constraints by it."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        dsl = _DSL_FILE.get(filename)
        if dsl is None:
            dsl = os.path.abspath(filename) in _DSL_FILES
            _DSL_FILE[filename] = dsl
        if not dsl:
            return (filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return ("<unknown>", 0)


def format_source(source: Source) -> str:
    """``path:line`` with the path relative to the working directory when it lies below it."""
    filename, line = source
    try:
        rel = os.path.relpath(filename)
        if not rel.startswith(".."):
            filename = rel
    except ValueError:
        pass
    return f"{filename}:{line}"


def _items(lc: LC) -> tuple[tuple[int, int], ...]:
    return tuple(lc.items())


def _lc_key(lc: LC) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(lc.items()))


@dataclass(frozen=True)
class HintInfo:
    """Where a hint (or a division's inverse) was created, and the variables it returns."""

    name: str
    label: str
    source: Source
    outputs: tuple[int, ...]
    #: The innermost line outside the DSL core that made the hint (a gadget's line for gadget hints).
    site: Source = ("<unknown>", 0)


@dataclass(frozen=True)
class InputDecl:
    """A declared input or output: its name, variables, and whether it was declared as an array."""

    name: str
    variables: tuple[int, ...]
    is_array: bool
    source: Source = ("<unknown>", 0)


@dataclass(frozen=True)
class GadgetOutput:
    """Signals returned by a gadget call, for the unused-output lint."""

    gadget: str
    label: str
    source: Source
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class CurveClaim:
    """A statement for the uniqueness checker: ``point`` is ``[m] base`` for one of ``multiples``.

    Recorded by :meth:`Builder.claim_curve_multiples`. It adds no constraint and is never trusted: the checker
    (:mod:`zkhealth.circuit.formal_curves`) computes every ``[m] base`` and checks, for every value of the bits
    the point depends on, that the point is one of them; a claim that does not check out is ignored.
    """

    point: tuple[LC, LC]
    base: tuple[int, int]
    multiples: tuple[int, ...]
    #: (a, d) of the twisted Edwards curve.
    curve: tuple[int, int]
    #: The point is in Montgomery form (u, v) of that curve, not Edwards (x, y).
    montgomery: bool


@dataclass(frozen=True)
class GadgetCall:
    """One call of a ``@gadget`` function: the variables and constraints it created, and what it returned.

    Variables ``var_start <= v < var_end`` and constraints ``constraint_start <= i < constraint_end`` were
    made inside the call (nested calls included). The uniqueness checker uses these records to treat a
    call of a gadget already proven unique as a function of its inputs (Picus-style modular checking).
    """

    gadget: str
    label: str
    source: Source
    var_start: int
    var_end: int
    constraint_start: int
    constraint_end: int
    results: tuple[LC, ...]


class MutationHook(Protocol):
    """What :mod:`zkhealth.circuit.mutation` installs to build a mutant (one changed constraint site).

    The builder calls it at each place a mutation can apply; with no hook installed nothing changes.
    """

    def constraint(self, builder: Builder, a: LC, b: LC, c: LC) -> tuple[LC, LC, LC] | None:
        """The constraint to record instead of ``a * b = c``, or ``None`` to drop it."""
        ...

    def output_constrained(self, builder: Builder) -> bool:
        """False to turn the output being declared into an unconstrained hint."""
        ...

    def range_width(self, builder: Builder, bits: int) -> int:
        """The width of the range check (bit decomposition) being made."""
        ...

    def unconstrain_result(self, builder: Builder, gadget: str) -> bool:
        """True to replace the result of the gadget call that is returning by unconstrained hints."""
        ...


#: The mutation being built, if any (set by :mod:`zkhealth.circuit.mutation`, for mutation testing only).
_MUTATION: list[MutationHook] = []


def active_mutation() -> MutationHook | None:
    """The installed mutation hook, or ``None`` (always ``None`` outside mutation testing)."""
    return _MUTATION[0] if _MUTATION else None


@dataclass(frozen=True)
class ComparatorUse:
    """A ``less_than_unchecked`` call, for the unranged-comparator lint."""

    x: LC
    y: LC
    bits: int
    label: str
    source: Source


class Builder:
    """Records a circuit. Circuit code receives one as ``b`` in ``define(b)``.

    Inputs and outputs are declared by name. Outputs are public and come first in the wire layout, then
    public inputs, then private inputs, each group in declaration order (circom's layout).
    """

    def __init__(self, name: str = "circuit") -> None:
        self.name = name
        self._var_kind: list[int] = [VAR_ONE]
        self._public: list[InputDecl] = []
        self._private: list[InputDecl] = []
        self._outputs: list[InputDecl] = []
        self._names: set[str] = set()
        # Constraints A * B = C, as parallel lists.
        self._ca: list[LC] = []
        self._cb: list[LC] = []
        self._cc: list[LC] = []
        self._clabel: list[str] = []
        self._csource: list[Source] = []
        #: Per constraint: the innermost line outside the DSL core (the gadget's own line).
        self._csite: list[Source] = []
        #: Indices of constraints the solver must check (the others hold by construction).
        self._checked: list[int] = []
        self._steps: list[Step] = []
        self._hints: list[HintInfo] = []
        self._hint_of_var: dict[int, int] = {}
        self._scope: list[str] = [name]
        self._label = name
        self._ranges: dict[tuple[tuple[int, int], ...], int] = {}
        self._gadget_outputs: list[GadgetOutput] = []
        self._comparators: list[ComparatorUse] = []
        self._alias_checked: set[int] = set()
        self._gadget_calls: list[GadgetCall] = []
        self._curve_claims: list[CurveClaim] = []
        self._frozen = False

    # ------------------------------------------------------------------ bookkeeping

    def _new_var(self, kind: int) -> int:
        if self._frozen:
            raise CircuitDefinitionError("this circuit is already compiled; signals cannot be added")
        self._var_kind.append(kind)
        return len(self._var_kind) - 1

    def _lc(self, x: SignalLike) -> LC:
        """The linear combination of ``x``, marking a signal as read."""
        if isinstance(x, Signal):
            if x._builder is not self:
                raise CircuitDefinitionError("this signal belongs to another circuit")
            x._read = True
            return x._lc
        if isinstance(x, int) and not isinstance(x, bool):
            return const_lc(x)
        raise CircuitDefinitionError(f"expected a Signal or an int, got {type(x).__name__}")

    def _constraint(self, a: LC, b: LC, c: LC, *, checked: bool) -> int:
        if self._frozen:
            raise CircuitDefinitionError("this circuit is already compiled; constraints cannot be added")
        if _MUTATION:
            mutated = _MUTATION[0].constraint(self, a, b, c)
            if mutated is None:
                return len(self._ca)
            if mutated[0] is not a or mutated[1] is not b or mutated[2] is not c:
                a, b, c = mutated
                checked = True  # the witness solver must now check what no longer holds by construction
        index = len(self._ca)
        self._ca.append(a)
        self._cb.append(b)
        self._cc.append(c)
        self._clabel.append(self._label)
        self._csource.append(caller_source())
        self._csite.append(inner_source())
        if checked:
            self._checked.append(index)
        return index

    def _declare_name(self, name: str) -> None:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise CircuitDefinitionError(f"invalid signal name {name!r}: use letters, digits and _")
        if name in self._names:
            raise CircuitDefinitionError(f"signal name {name!r} is declared twice")
        self._names.add(name)

    def _declare(self, name: str, n: int | None, kind: int) -> list[Signal]:
        self._declare_name(name)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise CircuitDefinitionError(f"input array {name!r} needs a positive length")
        count = 1 if n is None else n
        variables = tuple(self._new_var(kind) for _ in range(count))
        decl = InputDecl(name, variables, n is not None, caller_source())
        (self._public if kind == VAR_PUBLIC_INPUT else self._private).append(decl)
        return [Signal(self, {v: 1}) for v in variables]

    # ------------------------------------------------------------------ inputs and outputs

    def public_input(self, name: str) -> Signal:
        """Declare one public input (a public signal after the outputs, in declaration order)."""
        return self._declare(name, None, VAR_PUBLIC_INPUT)[0]

    def public_inputs(self, name: str, n: int) -> list[Signal]:
        """Declare an array of ``n`` public inputs, given to the solver as a list."""
        return self._declare(name, n, VAR_PUBLIC_INPUT)

    def private_input(self, name: str) -> Signal:
        """Declare one private input."""
        return self._declare(name, None, VAR_PRIVATE_INPUT)[0]

    def private_inputs(self, name: str, n: int) -> list[Signal]:
        """Declare an array of ``n`` private inputs, given to the solver as a list."""
        return self._declare(name, n, VAR_PRIVATE_INPUT)

    def output(self, name: str, value: SignalLike) -> Signal:
        """Declare a public output equal to ``value`` and return its signal.

        Costs one linear constraint ``out = value``, which the optimizer substitutes away when ``value``
        involves an internal variable.
        """
        self._declare_name(name)
        lc = self._lc(value)
        var = self._new_var(VAR_OUTPUT)
        self._outputs.append(InputDecl(name, (var,), False, caller_source()))
        self._steps.append((STEP_LIN, var, _items(lc)))
        if not _MUTATION or _MUTATION[0].output_constrained(self):
            self._constraint({var: 1}, {0: 1}, lc, checked=False)
        out = Signal(self, {var: 1})
        bits = self.known_bits(value) if isinstance(value, Signal) else None
        if bits is not None:
            self._ranges[_lc_key(out._lc)] = bits
        return out

    def linear_combination(self, signals: Sequence[SignalLike], coefficients: Sequence[int]) -> Signal:
        """``sum(c * s)`` built in one pass (no constraint). Prefer it to a Python ``sum`` of many terms,
        which copies the accumulated combination at every step."""
        if len(signals) != len(coefficients):
            raise CircuitDefinitionError("linear_combination: signals and coefficients differ in length")
        out: LC = {}
        for s, k in zip(signals, coefficients, strict=True):
            if isinstance(k, bool) or not isinstance(k, int):
                raise CircuitDefinitionError("linear_combination: coefficients must be ints")
            k %= R
            if k == 0:
                self._lc(s)
                continue
            for v, c in self._lc(s).items():
                t = (out.get(v, 0) + c * k) % R
                if t:
                    out[v] = t
                elif v in out:
                    del out[v]
        return Signal(self, out)

    def constant(self, value: int) -> Signal:
        """A constant signal (reduced mod r)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise CircuitDefinitionError("constant() needs an int")
        return Signal(self, const_lc(value))

    def as_signal(self, x: SignalLike) -> Signal:
        """``x`` as a signal of this circuit: a :class:`Signal` of this builder as it is, an int as a constant.
        Raises :class:`CircuitDefinitionError` for another circuit's signal or any other type."""
        if isinstance(x, Signal):
            if x._builder is not self:
                raise CircuitDefinitionError("this signal belongs to another circuit")
            return x
        if isinstance(x, int) and not isinstance(x, bool):
            return self.constant(x)
        raise CircuitDefinitionError(f"expected a Signal or an int, got {type(x).__name__}")

    # ------------------------------------------------------------------ scopes

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Name the constraints created inside: labels become paths like ``eligibility/age/less_eq``."""
        if not isinstance(name, str) or not name or "/" in name:
            raise CircuitDefinitionError(f"invalid scope name {name!r}")
        self._scope.append(name)
        self._label = "/".join(self._scope)
        try:
            yield
        finally:
            self._scope.pop()
            self._label = "/".join(self._scope)

    @property
    def current_scope(self) -> str:
        """The current scope path."""
        return self._label

    # ------------------------------------------------------------------ multiplication and division

    def mul(self, x: SignalLike, y: SignalLike) -> Signal:
        """``x * y``. One constraint unless a side is constant (then it folds for free)."""
        lx = self._lc(x)
        ly = self._lc(y)
        kx = lc_constant(lx)
        if kx is not None:
            return Signal(self, lc_scale(ly, kx))
        ky = lc_constant(ly)
        if ky is not None:
            return Signal(self, lc_scale(lx, ky))
        var = self._new_var(VAR_MUL)
        self._steps.append((STEP_MUL, var, _items(lx), _items(ly)))
        self._constraint(lx, ly, {var: 1}, checked=False)
        return Signal(self, {var: 1})

    def inverse(self, x: SignalLike) -> Signal:
        """``1 / x``. Enforces ``x * inv = 1``, so ``x != 0`` (one constraint).

        Witness solving raises :class:`~zkhealth.errors.WitnessError` ("division by zero") when x is 0.
        """
        lx = self._lc(x)
        kx = lc_constant(lx)
        if kx is not None:
            if kx == 0:
                raise CircuitDefinitionError("inverse of the constant 0")
            return Signal(self, const_lc(pow(kx, -1, R)))
        var = self._new_var(VAR_HINT)
        index = len(self._ca)
        self._steps.append((STEP_INV, var, _items(lx), index))
        self._register_hint("inverse", (var,))
        self._constraint(lx, {var: 1}, {0: 1}, checked=False)
        return Signal(self, {var: 1})

    def div(self, x: SignalLike, y: SignalLike) -> Signal:
        """``x / y``, enforcing ``y != 0``.

        Cost: 2 constraints (``y * inv = 1`` and ``q = x * inv``); 1 when x is constant; 0 when y is
        constant. Witness solving raises :class:`~zkhealth.errors.WitnessError` when y is 0.
        """
        ly = self._lc(y)
        ky = lc_constant(ly)
        if ky is not None:
            if ky == 0:
                raise CircuitDefinitionError("division by the constant 0")
            return Signal(self, lc_scale(self._lc(x), pow(ky, -1, R)))
        return self.mul(x, self.inverse(y))

    def div_unchecked(self, x: SignalLike, y: SignalLike) -> Signal:
        """``q`` with ``q * y = x`` (one constraint).

        Unchecked: when ``y = 0`` and ``x = 0`` every q satisfies the constraint, so q is unconstrained; use
        it only where y is already known to be non-zero, or where any q is acceptable. The solver returns
        q = 0 for 0/0 and raises :class:`~zkhealth.errors.WitnessError` for x/0 with x != 0.
        """
        lx = self._lc(x)
        ly = self._lc(y)
        ky = lc_constant(ly)
        if ky is not None:
            if ky == 0:
                raise CircuitDefinitionError("division by the constant 0")
            return Signal(self, lc_scale(lx, pow(ky, -1, R)))
        var = self._new_var(VAR_HINT)
        index = len(self._ca)
        self._steps.append((STEP_DIV, var, _items(lx), _items(ly), index))
        self._register_hint("div_unchecked", (var,))
        self._constraint({var: 1}, ly, lx, checked=False)
        return Signal(self, {var: 1})

    # ------------------------------------------------------------------ assertions

    def assert_equal(self, x: SignalLike, y: SignalLike) -> None:
        """Enforce ``x == y`` (one linear constraint, usually substituted away by the optimizer)."""
        lx = self._lc(x)
        ly = self._lc(y)
        kx, ky = lc_constant(lx), lc_constant(ly)
        if kx is not None and ky is not None:
            if kx != ky:
                raise CircuitDefinitionError(f"assert_equal of two different constants ({kx} != {ky})")
            return
        self._constraint(lx, {0: 1}, ly, checked=True)

    def assert_zero(self, x: SignalLike) -> None:
        """Enforce ``x == 0``."""
        self.assert_equal(x, 0)

    def assert_not_equal(self, x: SignalLike, y: SignalLike) -> None:
        """Enforce ``x != y`` by proving ``x - y`` has an inverse (one constraint)."""
        lx = self._lc(x)
        ly = self._lc(y)
        diff = lc_sub(lx, ly)
        k = lc_constant(diff)
        if k is not None:
            if k == 0:
                raise CircuitDefinitionError("assert_not_equal of two equal constants")
            return
        self.inverse(Signal(self, diff))

    def assert_bool(self, x: SignalLike) -> None:
        """Enforce ``x * (x - 1) == 0``, i.e. x is 0 or 1 (one constraint; none when already known)."""
        lx = self._lc(x)
        k = lc_constant(lx)
        if k is not None:
            if k not in (0, 1):
                raise CircuitDefinitionError(f"assert_bool of the constant {k}")
            return
        self._constraint(lx, lc_sub(lx, {0: 1}), {}, checked=True)
        self._ranges[_lc_key(lx)] = 1

    def assert_mul(self, x: SignalLike, y: SignalLike, z: SignalLike) -> None:
        """Enforce ``x * y == z`` as one constraint (for gadget authors; e.g. ``in * out == 0``)."""
        lx, ly, lz = self._lc(x), self._lc(y), self._lc(z)
        kx, ky, kz = lc_constant(lx), lc_constant(ly), lc_constant(lz)
        if kx is not None and ky is not None and kz is not None:
            if kx * ky % R != kz:
                raise CircuitDefinitionError("assert_mul of constants that do not multiply")
            return
        self._constraint(lx, ly, lz, checked=True)

    # ------------------------------------------------------------------ hints

    def _register_hint(self, name: str, outputs: tuple[int, ...]) -> int:
        index = len(self._hints)
        self._hints.append(HintInfo(name, self._label, caller_source(), outputs, inner_source()))
        for v in outputs:
            self._hint_of_var[v] = index
        return index

    def hint_unconstrained(
        self, fn: HintFunction, *inputs: SignalLike, n_outputs: int = 1, name: str | None = None
    ) -> list[Signal]:
        """Compute ``n_outputs`` values outside the constraints: ``fn(*input_values)`` at witness time.

        The returned signals are UNCONSTRAINED: a prover may set them to anything. The author must add
        constraints that pin them down; compiling raises :class:`~zkhealth.errors.UnconstrainedSignalError`
        for any hint output that no constraint touches. ``fn`` receives ints in [0, r) and returns an int
        (or a sequence of ``n_outputs`` ints); results are reduced mod r. Cost: no constraint.
        """
        if not callable(fn):
            raise CircuitDefinitionError("hint_unconstrained needs a callable")
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
            raise CircuitDefinitionError("n_outputs must be a positive int")
        input_items = [_items(self._lc(x)) for x in inputs]
        outs = tuple(self._new_var(VAR_HINT) for _ in range(n_outputs))
        hint_name = name if name is not None else getattr(fn, "__name__", "hint")
        index = self._register_hint(hint_name, outs)
        self._steps.append((STEP_HINT, outs, fn, input_items, index))
        return [Signal(self, {v: 1}) for v in outs]

    # ------------------------------------------------------------------ ranges and safety (gadget authors)

    def note_range(self, x: SignalLike, bits: int) -> None:
        """Record that constraints already imply ``0 <= x < 2**bits``.

        Gadget authors call this after adding such constraints, so comparators can skip a redundant range
        check and the unranged-comparator lint stays quiet. Calling it without such constraints is a bug.
        """
        lx = self._lc(x)
        key = _lc_key(lx)
        old = self._ranges.get(key)
        if old is None or bits < old:
            self._ranges[key] = bits

    def known_bits(self, x: SignalLike) -> int | None:
        """The smallest n with ``0 <= x < 2**n`` implied by the constraints so far, or ``None``."""
        lx = x._lc if isinstance(x, Signal) else self._lc(x)
        k = lc_constant(lx)
        if k is not None:
            return k.bit_length()
        bits = self._ranges.get(_lc_key(lx))
        if bits is not None:
            return bits
        # A sum of ranged variables with small positive coefficients.
        bound = 0
        for v, c in lx.items():
            if v == 0:
                bound += c
                continue
            vb = self._ranges.get(((v, 1),))
            if vb is None or c.bit_length() > 200:
                return None
            bound += c * ((1 << vb) - 1)
        if bound.bit_length() > 252:
            return None
        return bound.bit_length()

    def claim_curve_multiples(
        self,
        point: Sequence[SignalLike],
        base: tuple[int, int],
        multiples: Sequence[int],
        *,
        curve: tuple[int, int],
        montgomery: bool = False,
    ) -> None:
        """Tell the uniqueness checker that ``point`` is ``[m] base`` for some m in ``multiples``.

        For gadget authors whose exception-freeness argument rests on discrete logarithms the checker cannot
        compute, such as a constant lookup table of multiples. No constraint is added and nothing is trusted:
        the checker recomputes each ``[m] base`` and verifies the point case by case (:class:`CurveClaim`).
        """
        if isinstance(point, (str, bytes)) or len(point) != 2:
            raise CircuitDefinitionError("claim_curve_multiples: a point is a pair of signals")
        lcs = (self._lc(point[0]), self._lc(point[1]))
        self._curve_claims.append(
            CurveClaim(lcs, (int(base[0]), int(base[1])), tuple(int(m) for m in multiples),
                       (int(curve[0]), int(curve[1])), bool(montgomery))
        )

    def require_constant(self, x: SignalLike, what: str) -> int:
        """Return the compile-time constant value of ``x``.

        Raises :class:`~zkhealth.errors.GatedSecurityCheckError` when ``x`` depends on the witness: use it
        for switches (``enabled``, ``check_revocation``) that must never be prover-controlled (C10).
        """
        k = lc_constant(self._lc(x))
        if k is None:
            raise GatedSecurityCheckError(
                f"{what} must be a compile-time constant: a witness-controlled switch lets the prover "
                "turn the check off"
            )
        return k

    def _record_comparator(self, x: SignalLike, y: SignalLike, bits: int) -> None:
        lx = x._lc if isinstance(x, Signal) else self._lc(x)
        ly = y._lc if isinstance(y, Signal) else self._lc(y)
        self._comparators.append(ComparatorUse(lx, ly, bits, self._label, caller_source()))

    def _mark_alias_checked(self, constraint_index: int) -> None:
        self._alias_checked.add(constraint_index)

    def _range_width(self, bits: int) -> int:
        """The width of a range check about to be made (changed only while building a mutant)."""
        return _MUTATION[0].range_width(self, bits) if _MUTATION else bits

    @property
    def n_vars(self) -> int:
        """Variables created so far (including the constant variable 0)."""
        return len(self._var_kind)

    @property
    def n_constraints(self) -> int:
        """Constraints recorded so far (before linear elimination)."""
        return len(self._ca)

    def _register_gadget_output(self, gadget: str, label: str, source: Source, result: object) -> None:
        signals: list[Signal] = []
        if isinstance(result, Signal):
            signals.append(result)
        elif isinstance(result, (list, tuple)):
            for item in result:
                if isinstance(item, Signal):
                    signals.append(item)
                elif isinstance(item, (list, tuple)):
                    signals.extend(s for s in item if isinstance(s, Signal))
        if not signals:
            return
        for s in signals:
            s._read = False
        self._gadget_outputs.append(GadgetOutput(gadget, label, source, tuple(signals)))


T = TypeVar("T")


def _result_signals(result: object) -> list[Signal]:
    signals: list[Signal] = []
    if isinstance(result, Signal):
        signals.append(result)
    elif isinstance(result, (list, tuple)):
        for item in result:
            signals.extend(_result_signals(item))
    return signals


def _identity(value: int) -> int:
    return value


def _as_hints(b: Builder, result: T) -> T:
    """The same shape as ``result`` with each signal replaced by an unconstrained hint of its value (a mutant:
    "turn an output into a hint")."""
    if isinstance(result, Signal):
        return b.hint_unconstrained(_identity, result, name="mutant_output")[0]  # type: ignore[return-value]
    if isinstance(result, (list, tuple)):
        items = [_as_hints(b, item) for item in result]
        return type(result)(items)
    return result


P = ParamSpec("P")


def gadget(
    name: str,
) -> Callable[[Callable[Concatenate[Builder, P], T]], Callable[Concatenate[Builder, P], T]]:
    """Decorator for gadget functions ``fn(b, ...)``.

    Runs the body inside ``b.scope(name)`` and registers the returned signals so the compile-time lint can
    warn (:class:`~zkhealth.circuit.UnusedComponentOutputWarning`) when nothing reads them.
    """
    if not name or "/" in name:
        raise CircuitDefinitionError(f"invalid gadget name {name!r}")

    def decorate(fn: Callable[Concatenate[Builder, P], T]) -> Callable[Concatenate[Builder, P], T]:
        @functools.wraps(fn)
        def wrapper(b: Builder, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if not isinstance(b, Builder):
                raise CircuitDefinitionError(f"{name}: the first argument must be the Builder")
            source = caller_source()
            var_start, constraint_start = len(b._var_kind), len(b._ca)
            with b.scope(name):
                label = b.current_scope
                result = fn(b, *args, **kwargs)
                # The call as built: a mutant that turns the result into hints (below) makes them after the
                # call, so a checker that assumes this gadget unique still sees the hints as free signals.
                call = GadgetCall(
                    name, label, source, var_start, len(b._var_kind), constraint_start, len(b._ca),
                    tuple(s._lc for s in _result_signals(result)),
                )
                if _MUTATION and _MUTATION[0].unconstrain_result(b, name):
                    result = _as_hints(b, result)
            b._gadget_calls.append(call)
            b._register_gadget_output(name, label, source, result)
            return result

        return wrapper

    return decorate
