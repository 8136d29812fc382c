"""Witness solving: run the flat list of solver steps, then check the constraints the steps do not imply.

Step layouts (``items`` are tuples of ``(variable, coefficient)`` pairs):

* ``(STEP_MUL, out, a_items, b_items)``: ``out = <a> * <b>``;
* ``(STEP_LIN, out, items)``: ``out = <items>`` (outputs);
* ``(STEP_HINT, outs, fn, [items, ...], hint_index)``: ``outs = fn(*inputs)``;
* ``(STEP_INV, out, items, constraint_index)``: ``out = 1 / <items>``, error when zero;
* ``(STEP_DIV, out, num_items, den_items, constraint_index)``: ``out = <num> / <den>`` (0/0 gives 0).

Multiplication and output constraints hold by construction, so only assertions are checked after the run:
the first failing one is reported with its index, scope path, source line and the values of both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from zkhealth._bigint import invert
from zkhealth.circuit.builder import (
    STEP_DIV,
    STEP_HINT,
    STEP_INV,
    STEP_LIN,
    STEP_MUL,
    HintInfo,
    InputDecl,
    Source,
    Step,
    format_source,
)
from zkhealth.circuit.signal import LC, R
from zkhealth.errors import UnsatisfiedConstraintError, WitnessError, ZkHealthError
from zkhealth.field import parse_field_element

#: Overrides of hint outputs, used by the uniqueness checker: variable -> value.
Overrides = Mapping[int, int]


def _display(value: int) -> str:
    """Field values near r print as negatives: ``r - 1`` shows as ``-1``."""
    if value > R - (1 << 64):
        return f"-{R - value}"
    return str(value)


def _eval(lc: LC, values: Sequence[int]) -> int:
    total = 0
    for v, c in lc.items():
        total += c * values[v]
    return total % R


@dataclass
class Program:
    """Everything needed to solve and check witnesses, in terms of the builder's variables."""

    n_vars: int
    steps: list[Step]
    public: list[InputDecl]
    private: list[InputDecl]
    outputs: list[InputDecl]
    ca: list[LC]
    cb: list[LC]
    cc: list[LC]
    labels: list[str]
    sources: list[Source]
    checked: list[int]
    hints: list[HintInfo]
    #: Original constraint index -> row in the final R1CS, or None if substituted away.
    row_of: list[int | None]

    # ------------------------------------------------------------------ inputs

    def assign_inputs(self, inputs: Mapping[str, object]) -> list[int]:
        """A fresh value array with the constant and all inputs set; other entries 0.

        Raises :class:`WitnessError` for a missing, unknown, mis-shaped or non-canonical input.
        """
        if not isinstance(inputs, Mapping):
            raise WitnessError("inputs must be a mapping from input name to value(s)")
        values = [0] * self.n_vars
        values[0] = 1
        declared = self.public + self.private
        known = {d.name for d in declared}
        unknown = sorted(str(k) for k in inputs if k not in known)
        if unknown:
            raise WitnessError(f"unknown input(s): {', '.join(unknown)}")
        for decl in declared:
            if decl.name not in inputs:
                raise WitnessError(f"missing input {decl.name!r}")
            raw = inputs[decl.name]
            if decl.is_array:
                if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
                    raise WitnessError(f"input {decl.name!r} must be a list of {len(decl.variables)} values")
                if len(raw) != len(decl.variables):
                    raise WitnessError(
                        f"input {decl.name!r} has {len(raw)} values, expected {len(decl.variables)}"
                    )
                items = list(raw)
            else:
                items = [raw]
            for i, (var, item) in enumerate(zip(decl.variables, items, strict=True)):
                what = f"input {decl.name}[{i}]" if decl.is_array else f"input {decl.name}"
                try:
                    values[var] = parse_field_element(item, what=what)
                except ZkHealthError as exc:
                    raise WitnessError(str(exc)) from exc
        return values

    # ------------------------------------------------------------------ solving

    def _where(self, index: int) -> str:
        row = self.row_of[index]
        label = self.labels[index]
        if row is None:
            head = f"linear constraint L{index} ({label}, substituted away by the optimizer)"
        else:
            head = f"constraint {row} ({label})"
        return f"{head}; {format_source(self.sources[index])}"

    def run(
        self,
        values: list[int],
        *,
        overrides: Overrides | None = None,
        replacements: Mapping[int, Callable[..., int | Sequence[int]]] | None = None,
        lenient: bool = False,
    ) -> list[int]:
        """Fill ``values`` in place by running every step; returns it.

        ``overrides`` replaces hint outputs by fixed values and ``replacements`` swaps hint functions (by
        hint index); both exist for the uniqueness checker. ``lenient`` makes a zero division yield 0 instead
        of raising, so an override can be checked against the constraints.
        """
        vals = values
        for step in self.steps:
            kind = step[0]
            if kind == STEP_MUL:
                a = 0
                for v, c in step[2]:
                    a += c * vals[v]
                b = 0
                for v, c in step[3]:
                    b += c * vals[v]
                vals[step[1]] = a * b % R
            elif kind == STEP_LIN:
                a = 0
                for v, c in step[2]:
                    a += c * vals[v]
                vals[step[1]] = a % R
            elif kind == STEP_HINT:
                self._run_hint(step, vals, replacements)
                if overrides:
                    for v in step[1]:
                        if v in overrides:
                            vals[v] = overrides[v] % R
            elif kind == STEP_INV:
                a = 0
                for v, c in step[2]:
                    a += c * vals[v]
                a %= R
                if a == 0:
                    if not lenient:
                        raise WitnessError(f"division by zero: inverse of 0 in {self._where(step[3])}")
                    vals[step[1]] = 0
                else:
                    vals[step[1]] = int(invert(a, R))
                if overrides and step[1] in overrides:
                    vals[step[1]] = overrides[step[1]] % R
            elif kind == STEP_DIV:
                num = 0
                for v, c in step[2]:
                    num += c * vals[v]
                den = 0
                for v, c in step[3]:
                    den += c * vals[v]
                num %= R
                den %= R
                if den == 0:
                    if num != 0 and not lenient:
                        raise WitnessError(f"division by zero: {num} / 0 in {self._where(step[4])}")
                    vals[step[1]] = 0
                else:
                    vals[step[1]] = num * int(invert(den, R)) % R
                if overrides and step[1] in overrides:
                    vals[step[1]] = overrides[step[1]] % R
            else:  # pragma: no cover - steps are built by the Builder only
                raise WitnessError(f"corrupt solver step kind {kind}")
        return vals

    def _run_hint(
        self,
        step: Step,
        vals: list[int],
        replacements: Mapping[int, Callable[..., int | Sequence[int]]] | None,
    ) -> None:
        outs: tuple[int, ...] = step[1]
        fn = step[2]
        if replacements and step[4] in replacements:
            fn = replacements[step[4]]
        args = []
        for items in step[3]:
            a = 0
            for v, c in items:
                a += c * vals[v]
            args.append(a % R)
        info = self.hints[step[4]]
        try:
            result = fn(*args)
        except ZkHealthError:
            raise
        except Exception as exc:
            raise WitnessError(
                f"hint {info.name!r} ({info.label}; {format_source(info.source)}) failed: {exc}"
            ) from exc
        if isinstance(result, int) and not isinstance(result, bool):
            results: Sequence[int] = (result,)
        elif isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
            results = result
        else:
            raise WitnessError(f"hint {info.name!r} returned {type(result).__name__}, expected int(s)")
        if len(results) != len(outs):
            raise WitnessError(f"hint {info.name!r} returned {len(results)} values, expected {len(outs)}")
        for v, value in zip(outs, results, strict=True):
            if isinstance(value, bool) or not isinstance(value, int):
                raise WitnessError(f"hint {info.name!r} returned a {type(value).__name__}, expected int")
            vals[v] = value % R

    # ------------------------------------------------------------------ checking

    def check(self, values: Sequence[int], indices: Sequence[int] | None = None) -> None:
        """Raise :class:`UnsatisfiedConstraintError` for the first constraint (of ``indices``, default the
        checked ones) that ``values`` violates."""
        ca, cb, cc = self.ca, self.cb, self.cc
        for index in self.checked if indices is None else indices:
            a = _eval(ca[index], values)
            b = _eval(cb[index], values)
            c = _eval(cc[index], values)
            if a * b % R != c:
                self._fail(index, a, b, c)

    def satisfied(self, values: Sequence[int]) -> bool:
        """True when ``values`` satisfies every constraint (not only the checked ones)."""
        ca, cb, cc = self.ca, self.cb, self.cc
        for index in range(len(ca)):
            if _eval(ca[index], values) * _eval(cb[index], values) % R != _eval(cc[index], values):
                return False
        return True

    def _fail(self, index: int, a: int, b: int, c: int) -> None:
        row = self.row_of[index]
        label = self.labels[index]
        source = format_source(self.sources[index])
        lhs = _display(a) if self.cb[index] == {0: 1} else f"{_display(a)} * {_display(b)}"
        if row is None:
            head = f"linear constraint L{index} ({label})"
        else:
            head = f"constraint {row} ({label})"
        raise UnsatisfiedConstraintError(
            f"{head} not satisfied: {lhs} != {_display(c)} ({source})",
            index=row,
            label=label,
            source=source,
            lhs=a * b % R,
            rhs=c,
        )
