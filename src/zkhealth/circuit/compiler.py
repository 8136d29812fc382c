"""compile(): one circuit description, two products: the R1CS (no values) and a witness solver."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from zkhealth.circuit.builder import VAR_HINT, VAR_MUL, Builder, InputDecl
from zkhealth.circuit.lint import (
    LintFinding,
    comparator_findings,
    free_variable_findings,
    gadget_output_findings,
    non_strict_bits_findings,
)
from zkhealth.circuit.optimize import eliminate_linear
from zkhealth.circuit.report import ConstraintReport
from zkhealth.circuit.signal import LC
from zkhealth.circuit.witness import Program
from zkhealth.errors import CircuitDefinitionError
from zkhealth.r1cs import R1CS, Constraint


@runtime_checkable
class CircuitClass(Protocol):
    """A circuit given as an object (or class) with a ``define(b)`` method, gnark style."""

    def define(self, b: Builder) -> object: ...


#: What :func:`compile` accepts: a function ``define(b)``, or an object (or a class with a no-argument
#: constructor) with a ``define(b)`` method.
Circuit = Callable[[Builder], object] | CircuitClass | type[CircuitClass]
#: Solver inputs: name -> value, or name -> list of values for arrays. Values are ints or canonical
#: decimal strings.
Inputs = Mapping[str, object]


@dataclass(frozen=True)
class CircuitStats:
    """Sizes of a compiled circuit."""

    #: Constraints recorded by the description (multiplications, assertions, linear constraints).
    constraints_before: int
    #: Constraints in the final R1CS.
    constraints_after: int
    #: Internal variables substituted away by linear elimination.
    eliminated_signals: int
    #: Wires of the final R1CS (including the constant wire 0).
    wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    #: Multiplications (Signal * Signal) in the description.
    multiplications: int
    #: Hint calls (including division and inverse hints).
    hints: int

    def __str__(self) -> str:
        return (
            f"{self.constraints_after} constraints ({self.constraints_before} before linear elimination), "
            f"{self.wires} wires, {self.n_public_outputs}+{self.n_public_inputs} public, "
            f"{self.n_private_inputs} private inputs"
        )


class CompiledCircuit:
    """A compiled circuit: its :attr:`r1cs`, its :attr:`stats`, and :meth:`solve_witness`."""

    def __init__(
        self,
        name: str,
        r1cs: R1CS,
        program: Program,
        wire_vars: list[int],
        stats: CircuitStats,
        report: ConstraintReport,
        findings: list[LintFinding],
    ) -> None:
        self.name = name
        self.r1cs = r1cs
        self.program = program
        #: Final wire index -> builder variable.
        self.wire_vars = wire_vars
        self.stats = stats
        self._report = report
        #: Lint findings (warnings only; errors stop compilation unless ``lint=False``).
        self.findings = findings

    def __repr__(self) -> str:
        return f"CompiledCircuit({self.name!r}: {self.stats})"

    @property
    def public_input_names(self) -> list[str]:
        """Public inputs, in wire order."""
        return [d.name for d in self.program.public]

    @property
    def private_input_names(self) -> list[str]:
        """Private inputs, in wire order."""
        return [d.name for d in self.program.private]

    @property
    def output_names(self) -> list[str]:
        """Outputs, in wire order (the first public signals)."""
        return [d.name for d in self.program.outputs]

    def report(self) -> ConstraintReport:
        """Constraint counts per scope path, before and after linear elimination."""
        return self._report

    def solve_values(self, inputs: Inputs) -> list[int]:
        """Every builder variable's value (eliminated ones included). Raises :class:`WitnessError`."""
        program = self.program
        values = program.assign_inputs(inputs)
        program.run(values)
        program.check(values)
        return values

    def solve_witness(self, inputs: Inputs) -> list[int]:
        """The full witness in the R1CS wire layout, from the inputs. Deterministic.

        Inputs are parsed canonically (``zkhealth.field.parse_field_element``). Raises
        :class:`~zkhealth.errors.WitnessError` for missing or unknown inputs, bad values, a division by zero,
        a failing hint, and :class:`~zkhealth.errors.UnsatisfiedConstraintError` naming the first constraint
        the values violate (index, scope path, source line, both sides).
        """
        values = self.solve_values(inputs)
        return [values[v] for v in self.wire_vars]

    def public_signals(self, witness: Sequence[int]) -> list[int]:
        """The public signals (outputs, then public inputs) of a full witness."""
        return self.r1cs.public_signals(witness)

    def output_values(self, witness: Sequence[int]) -> dict[str, int]:
        """The outputs of a full witness, by name."""
        return {d.name: int(witness[1 + i]) for i, d in enumerate(self.program.outputs)}


def _resolve(circuit: Circuit) -> tuple[Callable[[Builder], object], str]:
    define = getattr(circuit, "define", None)
    if callable(define) and not isinstance(circuit, type):
        return define, type(circuit).__name__
    if isinstance(circuit, type):
        instance = circuit()
        return instance.define, circuit.__name__
    if callable(circuit):
        name = getattr(circuit, "__name__", "circuit")
        return circuit, ("circuit" if name == "<lambda>" else name)
    raise CircuitDefinitionError("a circuit is a function define(b) or an object with a define(b) method")


def build(circuit: Circuit, *, name: str | None = None) -> Builder:
    """Run the circuit description and return the finished builder (no optimisation, no lints)."""
    define, default_name = _resolve(circuit)
    b = Builder(name or default_name)
    define(b)
    b._frozen = True
    return b


def _compile(builder: Builder, *, optimize: bool) -> tuple[CompiledCircuit, list[LintFinding]]:
    n_vars = len(builder._var_kind)
    kinds = builder._var_kind
    eliminable = [k in (VAR_MUL, VAR_HINT) for k in kinds]
    n = len(builder._ca)
    if optimize:
        reduced = eliminate_linear(builder._ca, builder._cb, builder._cc, eliminable, builder._clabel)
        rows = reduced.rows
        eliminated = set(reduced.substitutions)
    else:
        rows = [(i, builder._ca[i], builder._cb[i], builder._cc[i]) for i in range(n)]
        eliminated = set()

    def group(decls: list[InputDecl]) -> list[int]:
        return [v for d in decls for v in d.variables]

    outputs, public, private = group(builder._outputs), group(builder._public), group(builder._private)
    internal = [v for v in range(1, n_vars) if eliminable[v] and v not in eliminated]
    wire_vars = [0, *outputs, *public, *private, *internal]
    wire_of = {v: w for w, v in enumerate(wire_vars)}

    def to_wires(lc: LC) -> dict[int, int]:
        return {wire_of[v]: c for v, c in lc.items()}

    constraints: list[Constraint] = []
    row_of: list[int | None] = [None] * n
    used: set[int] = set()
    for index, a, b, c in rows:
        row_of[index] = len(constraints)
        constraints.append(Constraint(to_wires(a), to_wires(b), to_wires(c), builder._clabel[index]))
        used.update(a)
        used.update(b)
        used.update(c)

    wire_names: dict[int, str] = {}
    for decl in builder._outputs + builder._public + builder._private:
        for i, v in enumerate(decl.variables):
            wire_names[wire_of[v]] = f"{decl.name}[{i}]" if decl.is_array else decl.name
    for info in builder._hints:
        for i, v in enumerate(info.outputs):
            if v in wire_of:
                wire_names[wire_of[v]] = f"{info.label}:{info.name}[{i}]"

    r1cs = R1CS(
        n_wires=len(wire_vars),
        n_public_outputs=len(outputs),
        n_public_inputs=len(public),
        n_private_inputs=len(private),
        constraints=constraints,
        wire_names=wire_names,
    )
    program = Program(
        n_vars=n_vars,
        steps=builder._steps,
        public=builder._public,
        private=builder._private,
        outputs=builder._outputs,
        ca=builder._ca,
        cb=builder._cb,
        cc=builder._cc,
        labels=builder._clabel,
        sources=builder._csource,
        checked=builder._checked,
        hints=builder._hints,
        row_of=row_of,
    )
    stats = CircuitStats(
        constraints_before=n,
        constraints_after=len(constraints),
        eliminated_signals=len(eliminated),
        wires=len(wire_vars),
        n_public_outputs=len(outputs),
        n_public_inputs=len(public),
        n_private_inputs=len(private),
        multiplications=sum(1 for k in kinds if k == VAR_MUL),
        hints=len(builder._hints),
    )
    report = ConstraintReport.from_labels(builder._clabel, [c.label for c in constraints])
    findings = (
        free_variable_findings(builder, wire_vars, used)
        + gadget_output_findings(builder)
        + non_strict_bits_findings(builder)
        + comparator_findings(builder)
    )
    compiled = CompiledCircuit(builder.name, r1cs, program, wire_vars, stats, report, [])
    return compiled, findings


def _raise_errors(findings: list[LintFinding]) -> None:
    errors = [f for f in findings if f.is_error]
    if not errors:
        return
    first = errors[0]
    same = [f.message for f in errors if f.category is first.category]
    message = same[0] if len(same) == 1 else f"{len(same)} problems:\n  " + "\n  ".join(same)
    exc = first.category(message)
    if not isinstance(exc, Exception):  # pragma: no cover - categories of errors are exceptions
        raise CircuitDefinitionError(message)
    raise exc


def compile(
    circuit: Circuit, *, name: str | None = None, optimize: bool = True, lint: bool = True
) -> CompiledCircuit:
    """Compile a circuit description to an R1CS and a witness solver.

    ``circuit`` is a function ``define(b)`` or an object (or class) with a ``define(b)`` method.
    ``optimize`` substitutes away internal signals that linear constraints define (circom ``--O2``).
    With ``lint`` (default) the lints run: errors (:class:`~zkhealth.errors.UnusedPublicInputError`,
    :class:`~zkhealth.errors.UnconstrainedSignalError`) are raised, warnings are emitted with
    :func:`warnings.warn_explicit` at the author's source line. ``lint=False`` exists for tests that study
    broken circuits; never ship a circuit compiled that way.
    """
    builder = build(circuit, name=name)
    compiled, findings = _compile(builder, optimize=optimize)
    if lint:
        _raise_errors(findings)
        for finding in findings:
            if finding.is_error or not issubclass(finding.category, Warning):
                continue
            filename, line = finding.source if finding.source is not None else ("<circuit>", 0)
            warnings.warn_explicit(finding.message, finding.category, filename, line)
    compiled.findings = [f for f in findings if not f.is_error]
    return compiled


def lint(circuit: Circuit, *, name: str | None = None) -> list[LintFinding]:
    """Run the lints: raise the first error class found, return the warnings (without emitting them)."""
    builder = build(circuit, name=name)
    _, findings = _compile(builder, optimize=True)
    _raise_errors(findings)
    return [f for f in findings if not f.is_error]
