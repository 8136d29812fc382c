"""A search for a second witness (docs/security.md C1, C6, C9): under-constrained circuits accept two witnesses
for the same inputs that differ on a signal that should be a function of the inputs.

The search re-solves the circuit with the inputs fixed while perturbing what only hints decide (hint
outputs, inverses, divisions): each output of each hint is replaced in turn by a few alternative values
(0, 1, -1, 2, value +- 1 and random elements), later steps are recomputed from the perturbed value, and
the result is checked against *every* constraint. Callers may also supply alternative hint functions by
hint name, e.g. one that returns the bits of ``x + r`` instead of the bits of ``x``. A satisfying witness
that differs on a compared signal is proof of under-constraint; finding none is evidence, not proof.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from zkhealth.circuit.builder import STEP_DIV, STEP_HINT, STEP_INV
from zkhealth.circuit.compiler import Circuit, CompiledCircuit, Inputs, compile
from zkhealth.circuit.signal import R
from zkhealth.errors import CircuitDefinitionError, UnderconstrainedWitnessError, WitnessError


def _compared_variables(compiled: CompiledCircuit, outputs: Sequence[str] | None) -> dict[str, int]:
    program = compiled.program
    decls = program.outputs + program.public + program.private
    by_name: dict[str, int] = {}
    for decl in decls:
        for i, v in enumerate(decl.variables):
            by_name[f"{decl.name}[{i}]" if decl.is_array else decl.name] = v
            if decl.is_array:
                by_name.setdefault(decl.name, -1)
    if outputs is None:
        if program.outputs:
            return {d.name: d.variables[0] for d in program.outputs}
        return {f"wire {w}": v for w, v in enumerate(compiled.wire_vars) if w > 0}
    chosen: dict[str, int] = {}
    for name in outputs:
        if name not in by_name:
            raise CircuitDefinitionError(f"check_unique: no input or output named {name!r}")
        if by_name[name] == -1:
            for decl in decls:
                if decl.name == name:
                    for i, v in enumerate(decl.variables):
                        chosen[f"{name}[{i}]"] = v
        else:
            chosen[name] = by_name[name]
    return chosen


def check_unique(
    circuit: Circuit | CompiledCircuit,
    inputs: Inputs,
    *,
    outputs: Sequence[str] | None = None,
    alternatives: Mapping[str, Callable[..., int | Sequence[int]]] | None = None,
    random_tries: int = 2,
    seed: int = 0,
) -> None:
    """Search for two witnesses with the same ``inputs`` that differ on ``outputs``.

    ``outputs`` names the outputs (or inputs) to compare (default: every output; every wire if there is none).
    ``alternatives`` maps a hint name to a replacement function. Raises
    :class:`~zkhealth.errors.UnderconstrainedWitnessError` (an :class:`~zkhealth.errors.UnderconstrainedError`)
    carrying both full witnesses; returns ``None`` when the search finds nothing. The circuit is compiled
    with lints off, so circuits the lints reject can be studied. Cost: one witness solve per trial, about
    ``(6 + random_tries)`` trials per hint output.
    """
    compiled = circuit if isinstance(circuit, CompiledCircuit) else compile(circuit, lint=False)
    program = compiled.program
    compared = _compared_variables(compiled, outputs)
    honest = compiled.solve_values(inputs)
    rng = random.Random(seed)

    def attempt(
        overrides: Mapping[int, int] | None,
        replacements: Mapping[int, Callable[..., int | Sequence[int]]] | None,
    ) -> None:
        values = program.assign_inputs(inputs)
        try:
            program.run(values, overrides=overrides, replacements=replacements, lenient=True)
        except WitnessError:
            return
        if not program.satisfied(values):
            return
        for name, v in compared.items():
            if values[v] != honest[v]:
                witness_a = [honest[u] for u in compiled.wire_vars]
                witness_b = [values[u] for u in compiled.wire_vars]
                raise UnderconstrainedWitnessError(
                    f"circuit {compiled.name!r} is under-constrained: two witnesses for the same inputs "
                    f"give {name} = {honest[v]} and {name} = {values[v]}",
                    witness_a=witness_a,
                    witness_b=witness_b,
                    signal=name,
                )

    if alternatives:
        known = {info.name for info in program.hints}
        for hint_name in alternatives:
            if hint_name not in known:
                raise CircuitDefinitionError(f"check_unique: no hint named {hint_name!r}")
        for index, info in enumerate(program.hints):
            if info.name in alternatives:
                attempt(None, {index: alternatives[info.name]})

    for step in program.steps:
        kind = step[0]
        if kind == STEP_HINT:
            outs: tuple[int, ...] = step[1]
        elif kind in (STEP_INV, STEP_DIV):
            outs = (step[1],)
        else:
            continue
        for v in outs:
            h = honest[v]
            candidates = [0, 1, R - 1, 2, (h + 1) % R, (h - 1) % R]
            candidates += [rng.randrange(R) for _ in range(random_tries)]
            for candidate in dict.fromkeys(candidates):
                if candidate != h:
                    attempt({v: candidate}, None)
