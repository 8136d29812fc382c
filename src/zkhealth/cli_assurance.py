"""The circuit author's assurance verbs: ``zkhealth circuit check-unique`` and ``zkhealth circuit mutate``.

Parsing and printing only: the work is :func:`zkhealth.circuit.formal.prove_unique` and
:mod:`zkhealth.circuit.mutation`; the gadget harnesses are :mod:`zkhealth.circuit.gadgets.catalog`.
Circuits are named ``FILE.py:NAME`` as for ``zkhealth info``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import click

from zkhealth.cli.circuit import load_circuit
from zkhealth.cli._common import emit, note

__all__ = ["circuit_group"]

EXIT_NOT_UNIQUE = 1
EXIT_UNKNOWN = 3


@click.group("circuit", short_help="Assurance for circuit authors: check-unique, mutate.")
def circuit_group() -> None:
    """Prove a circuit's signals are determined by its inputs, and measure how many broken circuits the tests
    catch."""


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("debug"))


def _verdict_dict(label: str, verdict: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "circuit": label,
        "verdict": verdict.verdict,
        "seconds": round(verdict.seconds, 3),
        "reason": verdict.reason,
        "signal": verdict.signal,
        "source": verdict.source,
        "branches": verdict.branches,
        "assumed": list(verdict.assumed),
    }
    if verdict.witness_a is not None and verdict.witness_b is not None:
        payload["inputs"] = {k: v for k, v in (verdict.inputs or {}).items()}
        payload["witness_a"] = [str(v) for v in verdict.witness_a]
        payload["witness_b"] = [str(v) for v in verdict.witness_b]
    return payload


@circuit_group.command("check-unique", short_help="Prove every signal is determined by the inputs.")
@click.argument("spec", metavar="CIRCUIT", required=False)
@click.option("--gadgets", "all_gadgets", is_flag=True, help="Check every standard gadget's harness instead.")
@click.option("--outputs-only", is_flag=True, help="Only the outputs must be determined (Picus's question).")
@click.option("--auxiliary", multiple=True, metavar="HINT", help="A hint name whose outputs may stay free.")
@click.option("--assume", multiple=True, metavar="GADGET",
              help="Treat calls of GADGET as functions of their inputs (default: gadgets pinned unique).")
@click.option("--no-assume", is_flag=True, help="Assume no gadget: prove everything from scratch.")
@click.option("--inputs", "input_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="INPUT.json (name -> value) to try in the search for a second witness.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds per circuit; past it the verdict is unknown.")
@click.pass_context
def check_unique_command(
    ctx: click.Context,
    spec: str | None,
    all_gadgets: bool,
    outputs_only: bool,
    auxiliary: tuple[str, ...],
    assume: tuple[str, ...],
    no_assume: bool,
    input_files: tuple[Path, ...],
    time_limit: float,
) -> None:
    """Decide whether CIRCUIT (FILE.py:NAME) is uniquely determined by its inputs.

    Prints `unique`, `not unique` with two witnesses the R1CS accepts (same inputs, a different signal), or
    `unknown` with the reason. Exit code 0 unique, 1 not unique, 3 unknown.
    """
    from zkhealth.circuit.formal import NOT_UNIQUE, UNIQUE, default_assumed_gadgets, prove_unique
    from zkhealth._json import loads_strict

    if (spec is None) == (not all_gadgets):
        raise click.UsageError("give a CIRCUIT or --gadgets (not both)")
    targets = "outputs" if outputs_only else "all"
    base_assumed = frozenset() if no_assume else (frozenset(assume) if assume else default_assumed_gadgets())
    jobs: list[tuple[str, Any, tuple[str, ...], list[Any], frozenset[str]]] = []
    if all_gadgets:
        from zkhealth.circuit.gadgets.catalog import HARNESSES

        for harness in HARNESSES:
            jobs.append((harness.label, harness.define, harness.auxiliary + auxiliary, list(harness.samples),
                         base_assumed - set(harness.subject)))
    else:
        circuit, name = load_circuit(str(spec), debug=_debug(ctx))
        samples = [loads_strict(path.read_bytes()) for path in input_files]
        jobs.append((name, circuit, auxiliary, samples, base_assumed))
    results = []
    verdicts: set[str] = set()
    for label, circuit, aux, samples, assumed in jobs:
        verdict = prove_unique(circuit, targets=targets, auxiliary=aux, assume=assumed, samples=samples,
                               time_limit=time_limit)
        results.append(_verdict_dict(label, verdict))
        verdicts.add(verdict.verdict)
    lines = []
    for item in results:
        lines.append(f"{item['circuit']}: {item['verdict']} ({item['seconds']:.2f} s): {item['reason']}")
        if "witness_a" in item:
            lines.append(f"  inputs:    {json.dumps(item['inputs'])}")
            lines.append(f"  witness A: [{', '.join(item['witness_a'])}]")
            lines.append(f"  witness B: [{', '.join(item['witness_b'])}]")
    emit(ctx, {"verdicts": results} if all_gadgets else results[0], "\n".join(lines))
    if NOT_UNIQUE in verdicts:
        ctx.exit(EXIT_NOT_UNIQUE)
    if verdicts - {UNIQUE}:
        ctx.exit(EXIT_UNKNOWN)


@circuit_group.command("mutate", short_help="Mutation testing: do the tests catch broken constraints?")
@click.argument("specs", metavar="[CIRCUIT]...", nargs=-1)
@click.option("--tests", "tests", required=True, metavar="ARGS",
              help='The pytest selection to run against each mutant, e.g. "tests/test_x.py -k adult".')
@click.option("--tests-for", "tests_for", multiple=True, metavar="FILE=ARGS",
              help='Tests for the mutants of one target file, e.g. basic.py="tests/test_gadgets_basic.py".')
@click.option("--gadgets", "all_gadgets", is_flag=True,
              help="Mutate the standard gadget modules, reached through their harnesses.")
@click.option("--target", "targets", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A file or directory whose lines are mutated (default: the circuits' own files).")
@click.option("--operator", "operators", multiple=True,
              type=click.Choice(["drop", "swap", "constant", "unconstrain", "shrink"]),
              help="Only these operators (default: all five).")
@click.option("--max-mutants", type=click.IntRange(min=1), default=None,
              help="Run a deterministic sample of this many mutants (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds per test run; a mutant that hits it counts as killed.")
@click.option("--equivalent", "equivalent_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="File of equivalent mutants: one 'ID reason' per line; they leave the score.")
@click.option("--min-score", type=click.FloatRange(0, 100), default=None,
              help="Exit 1 when the score (killed / scored, percent) is below this.")
@click.option("--list", "list_only", is_flag=True, help="List the mutants without running the tests.")
@click.pass_context
def mutate_command(
    ctx: click.Context,
    specs: tuple[str, ...],
    tests: str,
    tests_for: tuple[str, ...],
    all_gadgets: bool,
    targets: tuple[Path, ...],
    operators: tuple[str, ...],
    max_mutants: int | None,
    seed: int,
    timeout: float,
    equivalent_file: Path | None,
    min_score: float | None,
    list_only: bool,
) -> None:
    """Make mutants of CIRCUIT(s) (drop a constraint, swap an operand, change a constant, turn an output into
    a hint, shrink a range check by one bit), run the tests against each, and print the survivors with their
    scope path and source line.

    A mutant is killed when the tests fail. With --min-score the command is a CI gate (exit 1 below it).
    """
    from zkhealth.circuit.mutation import OPERATORS, discover, load_equivalents, run_mutants

    circuits: list[Any] = []
    target_files: list[str] = []
    if all_gadgets:
        from zkhealth.circuit.gadgets.catalog import HARNESSES, gadget_module_files

        circuits.extend(h.define for h in HARNESSES)
        target_files.extend(gadget_module_files())
    for spec in specs:
        circuit, _ = load_circuit(spec, debug=_debug(ctx))
        circuits.append(circuit)
        target_files.append(str(Path(spec.rpartition(":")[0] if ":" in spec else spec).resolve()))
    if not circuits:
        raise click.UsageError("give at least one CIRCUIT, or --gadgets")
    if targets:
        target_files = []
        for target in targets:
            paths = sorted(target.rglob("*.py")) if target.is_dir() else [target]
            target_files.extend(str(p.resolve()) for p in paths)
    mutants = discover(circuits, target_files, operators=operators or OPERATORS)
    if list_only:
        emit(
            ctx,
            {"mutants": [{"id": m.id, "function": m.function, "scope": m.label} for m in mutants]},
            "\n".join(f"{m.id}  {m.label}  ({m.function})" for m in mutants) or "no mutants",
        )
        return
    equivalents = load_equivalents(equivalent_file) if equivalent_file else {}
    mapping: dict[str, list[str]] = {}
    for item in tests_for:
        file_name, sep, args = item.partition("=")
        if not sep or not file_name or not args:
            raise click.BadParameter(f"{item!r} is not FILE=ARGS", param_hint="--tests-for")
        mapping[file_name] = shlex.split(args)
    report = run_mutants(
        mutants, shlex.split(tests), tests_for=mapping, timeout=timeout, equivalents=equivalents,
        max_mutants=max_mutants, seed=seed,
        progress=lambda r: note(f"{r.status:12s} {r.mutant.id} ({r.seconds:.1f} s)"),
    )
    payload = {
        "found": report.total_found,
        "run": len(report.results),
        "killed": report.killed,
        "scored": report.scored,
        "equivalent": report.count("equivalent"),
        "errors": report.count("error"),
        "score": round(report.score, 2),
        "seconds": round(report.seconds, 1),
        "survivors": [
            {"id": r.mutant.id, "status": r.status, "scope": r.mutant.label, "function": r.mutant.function}
            for r in report.survivors
        ],
    }
    lines = [
        f"{report.killed}/{report.scored} mutants killed ({report.score:.1f}%), {report.count('equivalent')} "
        f"equivalent, {report.count('error')} errors; {len(report.results)} of {report.total_found} run in "
        f"{report.seconds:.0f} s"
    ]
    for r in report.survivors:
        lines.append(f"  {r.status}: {r.mutant.id}  {r.mutant.label}  ({r.mutant.function})")
    emit(ctx, payload, "\n".join(lines))
    if min_score is not None and report.score < min_score:
        ctx.exit(1)
