"""Compile-time lints: the circuit bugs that have broken real systems (docs/security.md C1, C2, C4, C8, C11).

Errors (raised by :func:`zkhealth.circuit.compile`):

* :class:`~zkhealth.errors.UnusedPublicInputError`: a public input that no constraint of the final R1CS uses,
  so a proof would not bind it (C8);
* :class:`~zkhealth.errors.UnconstrainedSignalError`: a hint output, or a public output, that no constraint
  of the final R1CS touches, so a prover may set it freely (C1).

Warnings (Python warnings, subclasses of :class:`CircuitWarning`):

* :class:`UnusedComponentOutputWarning`: a gadget's result that nothing reads (C11);
* :class:`NonStrictBitsWarning`: a 254-bit decomposition without an alias check (C4);
* :class:`UnrangedComparatorWarning`: ``less_than_unchecked`` on inputs with no known range (C2);
* :class:`UnusedPrivateInputWarning`: a private input no constraint uses.

The lints look at the *final* system, after linear elimination: a signal that only appears in constraints
that reduce to ``0 = 0`` is as free as one that appears in none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkhealth.circuit.builder import (
    VAR_HINT,
    VAR_OUTPUT,
    VAR_PRIVATE_INPUT,
    VAR_PUBLIC_INPUT,
    Builder,
    Source,
    format_source,
)
from zkhealth.circuit.optimize import _linear_form
from zkhealth.circuit.signal import LC, R, Signal
from zkhealth.errors import UnconstrainedSignalError, UnusedPublicInputError, ZkHealthError


class CircuitWarning(UserWarning):
    """Base class of the circuit lint warnings."""


class UnusedComponentOutputWarning(CircuitWarning):
    """A gadget returned a result that no constraint or later operation reads (docs/security.md C11)."""


class NonStrictBitsWarning(CircuitWarning):
    """A linear constraint decomposes a value into 254 bits with no alias check: two decompositions exist
    for about a quarter of the values (docs/security.md C4). Use ``to_bits_strict``."""


class UnrangedComparatorWarning(CircuitWarning):
    """``less_than_unchecked`` compares signals not known to be below ``2**bits`` (docs/security.md C2)."""


class UnusedPrivateInputWarning(CircuitWarning):
    """A private input appears in no constraint: it has no effect on what the proof shows."""


@dataclass(frozen=True)
class LintFinding:
    """One lint result. ``category`` is an error class (errors) or a :class:`CircuitWarning` subclass."""

    category: type[Exception] | type[Warning]
    message: str
    source: Source | None

    @property
    def is_error(self) -> bool:
        """True for findings that stop compilation."""
        return issubclass(self.category, ZkHealthError)


def _var_names(builder: Builder) -> tuple[dict[int, str], dict[int, Source]]:
    names: dict[int, str] = {}
    sources: dict[int, Source] = {}
    for decl in builder._public + builder._private + builder._outputs:
        for i, v in enumerate(decl.variables):
            names[v] = f"{decl.name}[{i}]" if decl.is_array else decl.name
            sources[v] = decl.source
    return names, sources


def free_variable_findings(builder: Builder, kept: Sequence[int], used: set[int]) -> list[LintFinding]:
    """Findings for kept variables that no final constraint uses."""
    names, sources = _var_names(builder)
    findings: list[LintFinding] = []
    for v in kept:
        if v == 0 or v in used:
            continue
        kind = builder._var_kind[v]
        if kind == VAR_PUBLIC_INPUT:
            findings.append(
                LintFinding(
                    UnusedPublicInputError,
                    f"public input {names[v]!r} is used by no constraint, so a proof would not bind it; "
                    "constrain it (e.g. square it into a dummy constraint) or make it private",
                    sources[v],
                )
            )
        elif kind == VAR_OUTPUT:
            findings.append(
                LintFinding(
                    UnconstrainedSignalError,
                    f"output {names[v]!r} is constrained by nothing: its value comes only from the witness "
                    "computation, so a prover can choose it freely",
                    sources[v],
                )
            )
        elif kind == VAR_PRIVATE_INPUT:
            findings.append(
                LintFinding(
                    UnusedPrivateInputWarning, f"private input {names[v]!r} is used by no constraint", sources[v]
                )
            )
        elif kind == VAR_HINT:
            info = builder._hints[builder._hint_of_var[v]]
            position = info.outputs.index(v)
            findings.append(
                LintFinding(
                    UnconstrainedSignalError,
                    f"signal {info.name}[{position}] from hint_unconstrained in {info.label} "
                    f"({format_source(info.source)}) is touched by no constraint: a prover can set it "
                    "to any value",
                    info.source,
                )
            )
    return findings


def gadget_output_findings(builder: Builder) -> list[LintFinding]:
    """Gadget results nothing read (C11)."""
    findings: list[LintFinding] = []
    for out in builder._gadget_outputs:
        if not any(s._read for s in out.signals):
            findings.append(
                LintFinding(
                    UnusedComponentOutputWarning,
                    f"the result of {out.gadget} ({out.label}, {format_source(out.source)}) is never used: "
                    "a check whose result is not asserted checks nothing",
                    out.source,
                )
            )
    return findings


def _power_of_two_exponent(value: int) -> int | None:
    if value and value & (value - 1) == 0:
        return value.bit_length() - 1
    return None


def non_strict_bits_findings(builder: Builder) -> list[LintFinding]:
    """Linear constraints with bit-weights 2^0 .. 2^253 and no alias check (C4)."""
    findings: list[LintFinding] = []
    for i in range(len(builder._ca)):
        a, b, c = builder._ca[i], builder._cb[i], builder._cc[i]
        if len(a) + len(b) + len(c) < 254 or i in builder._alias_checked:
            continue
        linear = _linear_form(a, b, c)
        if linear is None or len(linear) < 254:
            continue
        for sign_coeffs in (list(linear.values()), [(R - x) % R for x in linear.values()]):
            exponents = {e for e in map(_power_of_two_exponent, sign_coeffs) if e is not None}
            if all(e in exponents for e in range(254)):
                findings.append(
                    LintFinding(
                        NonStrictBitsWarning,
                        f"constraint {i} ({builder._clabel[i]}, {format_source(builder._csource[i])}) "
                        "decomposes a value into 254 bits without an alias check: about 24% of values "
                        "have two decompositions mod r; use to_bits_strict",
                        builder._csource[i],
                    )
                )
                break
    return findings


def comparator_findings(builder: Builder) -> list[LintFinding]:
    """``less_than_unchecked`` calls whose inputs are not known to be below 2^bits (C2)."""
    findings: list[LintFinding] = []
    for use in builder._comparators:
        for side, lc in (("first", use.x), ("second", use.y)):
            bits = _known_bits_lc(builder, lc)
            if bits is None or bits > use.bits:
                findings.append(
                    LintFinding(
                        UnrangedComparatorWarning,
                        f"less_than_unchecked({use.bits} bits) in {use.label} ({format_source(use.source)}): "
                        f"the {side} input has no range check to {use.bits} bits, so values near r compare "
                        "wrongly; use less_than or range_check the input",
                        use.source,
                    )
                )
                break
    return findings


def _known_bits_lc(builder: Builder, lc: LC) -> int | None:
    return builder.known_bits(Signal(builder, lc))
