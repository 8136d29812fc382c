"""The circuit author's verbs: ``compile``, ``info``, ``r1cs export|info``, ``wtns calculate``, and the assurance
verbs ``circuit check-unique`` and ``circuit mutate``.

A circuit is named ``FILE.py:NAME``: the Python file is imported and ``NAME`` (a function ``define(b)``, or a
class or object with a ``define(b)`` method) is compiled with :func:`zkhealth.circuit.compile`. ``:NAME``
defaults to ``define``. Importing the file runs its code, as ``python FILE.py`` would: only name files you
trust.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from zkhealth.cli._common import F, emit, note, status

__all__ = ["circuit_group", "compile_command", "info_command", "load_circuit", "r1cs_group", "wtns_group"]

_DEFAULT_NAME = "define"


@contextlib.contextmanager
def _on_sys_path(directory: Path) -> Iterator[None]:
    entry = str(directory)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _import_file(path: Path, debug: bool) -> ModuleType:
    module_name = f"zkhealth_circuit_{path.stem}_{abs(hash(str(path.resolve()))):x}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"{path} cannot be imported as a Python file", param_hint="CIRCUIT")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with _on_sys_path(path.resolve().parent):
            spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        if debug:
            raise
        raise click.BadParameter(
            f"importing {path} failed: {type(error).__name__}: {error}", param_hint="CIRCUIT"
        ) from error
    return module


def load_circuit(spec: str, *, debug: bool = False) -> tuple[Any, str]:
    """Import ``FILE.py[:NAME]`` and return ``(circuit, NAME)``.

    Raises :class:`click.BadParameter` (exit code 2) for a missing file, an import that fails (the
    exception's one-line message; ``--debug`` re-raises it with its traceback) or a missing or non-callable
    ``NAME`` (the message lists the file's candidate functions and classes). Cost: importing the file.
    """
    file_part, _, name = spec.rpartition(":") if ":" in spec else (spec, ":", _DEFAULT_NAME)
    if not file_part or not name:
        raise click.BadParameter(f"{spec!r} is not FILE.py:NAME", param_hint="CIRCUIT")
    path = Path(file_part)
    if not path.is_file():
        raise click.BadParameter(f"{path} does not exist or is not a file", param_hint="CIRCUIT")
    module = _import_file(path, debug)
    circuit = getattr(module, name, None)
    if circuit is None or not (callable(circuit) or callable(getattr(circuit, "define", None))):
        candidates = sorted(
            attr for attr, value in vars(module).items()
            if not attr.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__
        )
        raise click.BadParameter(
            f"{path} has no circuit named {name!r} (candidates: {', '.join(candidates) or 'none'})",
            param_hint="CIRCUIT",
        )
    return circuit, name


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("debug"))


def _compile(ctx: click.Context, spec: str, *, optimize: bool = True) -> tuple[Any, str, float]:
    """Load and compile; print lint warnings as one line each on stderr; return (compiled, name, seconds)."""
    from zkhealth.circuit import compile as compile_circuit

    circuit, name = load_circuit(spec, debug=_debug(ctx))
    started = time.perf_counter()
    with status(ctx, f"compiling {name}"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_circuit(circuit, name=name, optimize=optimize)
    elapsed = time.perf_counter() - started
    for finding in compiled.findings:
        where = f" ({finding.source[0]}:{finding.source[1]})" if finding.source is not None else ""
        note(f"warning: {finding.category.__name__}: {finding.message}{where}")
    return compiled, name, elapsed


def _stats_dict(compiled: Any) -> dict[str, Any]:
    stats = compiled.stats
    return {
        "constraints": stats.constraints_after,
        "constraints_before_elimination": stats.constraints_before,
        "wires": stats.wires,
        "public_outputs": stats.n_public_outputs,
        "public_inputs": stats.n_public_inputs,
        "private_inputs": stats.n_private_inputs,
        "multiplications": stats.multiplications,
        "hints": stats.hints,
    }


def _optimize_option() -> Callable[[F], F]:
    return click.option(
        "--no-optimize", is_flag=True,
        help="Keep linear constraints (no substitution; like circom --O0). Default: substitute (--O2).",
    )


@click.command("compile", short_help="Compile a DSL circuit to NAME.r1cs.")
@click.argument("spec", metavar="CIRCUIT")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Directory for NAME.r1cs (created if missing).",
)
@_optimize_option()
@click.pass_context
def compile_command(ctx: click.Context, spec: str, out_dir: Path, no_optimize: bool) -> None:
    """Compile CIRCUIT (FILE.py:NAME) and write OUT/NAME.r1cs (circom's binary format, version 1).

    Lint errors (an unconstrained hint output, an unused public input) stop compilation (exit 3); lint
    warnings are printed on stderr. The .r1cs works with `zkhealth groth16 setup` and with snarkjs.
    """
    from zkhealth.formats.r1cs_file import write_r1cs

    compiled, name, elapsed = _compile(ctx, spec, optimize=not no_optimize)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.r1cs"
    write_r1cs(compiled.r1cs, target)
    emit(
        ctx,
        {"circuit": name, "r1cs": str(target), "seconds": round(elapsed, 3), **_stats_dict(compiled)},
        f"wrote {target}: {compiled.stats} ({elapsed:.2f} s)",
    )


@click.command("info", short_help="Sizes and constraints per scope of a DSL circuit.")
@click.argument("spec", metavar="CIRCUIT")
@click.option("--depth", type=click.IntRange(min=1), default=None, help="Show scopes up to this depth only.")
@_optimize_option()
@click.pass_context
def info_command(ctx: click.Context, spec: str, depth: int | None, no_optimize: bool) -> None:
    """Print CIRCUIT's sizes, inputs and constraints per scope (gadget path), before and after elimination.

    Counts are cumulative: a scope includes its children. Use it to see what each gadget costs.
    """
    compiled, name, _ = _compile(ctx, spec, optimize=not no_optimize)
    report = compiled.report()
    payload = {
        "circuit": name,
        **_stats_dict(compiled),
        "outputs": compiled.output_names,
        "public_input_names": compiled.public_input_names,
        "private_input_names": compiled.private_input_names,
        "scopes": [
            {"path": row.path, "before": row.before, "after": row.after}
            for row in report.rows
            if depth is None or row.path.count("/") < depth
        ],
        "warnings": [f"{f.category.__name__}: {f.message}" for f in compiled.findings],
    }
    human = "\n".join(
        [
            f"{name}: {compiled.stats}",
            f"outputs:         {', '.join(compiled.output_names) or '-'}",
            f"public inputs:   {', '.join(compiled.public_input_names) or '-'}",
            f"private inputs:  {', '.join(compiled.private_input_names) or '-'}",
            "",
            report.format(max_depth=depth),
        ]
    )
    emit(ctx, payload, human)


@click.group("r1cs", short_help="circom .r1cs files: export, info.")
def r1cs_group() -> None:
    """circom .r1cs files: write one from a DSL circuit, or summarise one."""


@r1cs_group.command("export", short_help="Write a DSL circuit's .r1cs file.")
@click.argument("spec", metavar="CIRCUIT")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_optimize_option()
@click.pass_context
def r1cs_export(ctx: click.Context, spec: str, out: Path, no_optimize: bool) -> None:
    """Compile CIRCUIT (FILE.py:NAME) and write its constraint system to OUT (.r1cs, circom format)."""
    from zkhealth.formats.r1cs_file import write_r1cs

    compiled, name, _ = _compile(ctx, spec, optimize=not no_optimize)
    write_r1cs(compiled.r1cs, out)
    emit(
        ctx,
        {"circuit": name, "r1cs": str(out), **_stats_dict(compiled)},
        f"wrote {out}: {compiled.stats}",
    )


@r1cs_group.command("info", short_help="Summarise a .r1cs file.")
@click.argument("path", metavar="FILE.r1cs", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def r1cs_info(ctx: click.Context, path: Path) -> None:
    """Summarise a .r1cs file (ours or circom's): constraints, wires and public/private counts.

    The file is read strictly: BN254's prime, canonical coefficients, consistent sections (exit 2 if not).
    """
    from zkhealth.formats.r1cs_file import read_r1cs

    r1cs = read_r1cs(path)
    payload = {
        "r1cs": str(path),
        "constraints": r1cs.n_constraints,
        "wires": r1cs.n_wires,
        "public_outputs": r1cs.n_public_outputs,
        "public_inputs": r1cs.n_public_inputs,
        "private_inputs": r1cs.n_private_inputs,
    }
    emit(
        ctx,
        payload,
        f"{path}: {r1cs.n_constraints} constraints, {r1cs.n_wires} wires, "
        f"{r1cs.n_public_outputs} public outputs, {r1cs.n_public_inputs} public inputs, "
        f"{r1cs.n_private_inputs} private inputs",
    )


@click.group("wtns", short_help="Witness files (.wtns): calculate.")
def wtns_group() -> None:
    """Witness files (.wtns, circom format)."""


@wtns_group.command("calculate", short_help="Solve a witness from INPUT.json.")
@click.argument("spec", metavar="CIRCUIT")
@click.argument("input_path", metavar="INPUT.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("out", metavar="OUT.wtns", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def wtns_calculate(ctx: click.Context, spec: str, input_path: Path, out: Path) -> None:
    """Solve CIRCUIT's witness from INPUT.json and write OUT.wtns (like `snarkjs wtns calculate`).

    INPUT.json maps input names to values: integers or canonical decimal strings, lists for arrays. A
    failing constraint is reported with its index, scope path and source line (exit 3).
    """
    from zkhealth._json import load_file
    from zkhealth.errors import EncodingError
    from zkhealth.formats.wtns_file import write_wtns

    inputs = load_file(input_path)
    if not isinstance(inputs, dict):
        raise EncodingError(f"{input_path}: the inputs must be a JSON object of name -> value")
    compiled, name, _ = _compile(ctx, spec)
    started = time.perf_counter()
    with status(ctx, "solving the witness"):
        witness = compiled.solve_witness(inputs)
    elapsed = time.perf_counter() - started
    compiled.r1cs.check_witness(witness)
    write_wtns(witness, out)
    public = [str(v) for v in compiled.public_signals(witness)]
    emit(
        ctx,
        {"circuit": name, "wtns": str(out), "wires": len(witness), "public_signals": public,
         "seconds": round(elapsed, 3)},
        f"wrote {out}: {len(witness)} wires; public signals [{', '.join(public)}]",
    )


# --------------------------------------------------------------------------- assurance (issue 21)

EXIT_NOT_UNIQUE = 1
EXIT_UNKNOWN = 3


@click.group("circuit", short_help="Assurance for circuit authors: check-unique, mutate.")
def circuit_group() -> None:
    """Prove a circuit's signals are determined by its inputs, and measure how many broken circuits the tests
    catch."""


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
@click.option("--auxiliary", multiple=True, metavar="NAME",
              help="A hint name whose outputs may stay free, or a scope whose signals need only be determined "
                   "by the inputs and those hints.")
@click.option("--assume", multiple=True, metavar="GADGET",
              help="Treat calls of GADGET as functions of their inputs (default: gadgets pinned unique).")
@click.option("--no-assume", is_flag=True, help="Assume no gadget: prove everything from scratch.")
@click.option("--inputs", "input_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="INPUT.json (name -> value) to try in the search for a second witness.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds per circuit; past it the verdict is unknown.")
@click.option("--write-verdicts", "verdicts_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --gadgets: write the verdict table (verdicts.csv) to this path; a unique row keeps its "
                   "note, any other verdict is noted with its reason.")
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
    verdicts_out: Path | None,
) -> None:
    """Decide whether CIRCUIT (FILE.py:NAME) is uniquely determined by its inputs.

    Prints `unique`, `not unique` with two witnesses the R1CS accepts (same inputs, a different signal), or
    `unknown` with the reason. Exit code 0 unique, 1 not unique, 3 unknown. `--gadgets --write-verdicts
    src/zkhealth/circuit/gadgets/verdicts.csv` regenerates the pinned table.
    """
    from zkhealth._json import loads_strict
    from zkhealth.circuit.formal import (
        NOT_UNIQUE,
        PINNED_VERDICTS_PATH,
        UNIQUE,
        default_assumed_gadgets,
        load_verdicts,
        prove_unique,
        render_verdicts,
        verdict_row,
    )

    if (spec is None) == (not all_gadgets):
        raise click.UsageError("give a CIRCUIT or --gadgets (not both)")
    if verdicts_out is not None and not all_gadgets:
        raise click.UsageError("--write-verdicts needs --gadgets")
    targets = "outputs" if outputs_only else "all"
    base_assumed = frozenset() if no_assume else (frozenset(assume) if assume else default_assumed_gadgets())
    jobs: list[tuple[str, Any, tuple[str, ...], list[Any], frozenset[str]]] = []
    keys: list[tuple[str, str, tuple[str, ...]]] = []
    if all_gadgets:
        from zkhealth.circuit.gadgets.catalog import HARNESSES

        for harness in HARNESSES:
            keys.append((harness.gadget, harness.params, harness.auxiliary))
            jobs.append((harness.label, harness.define, harness.auxiliary + auxiliary, list(harness.samples),
                         base_assumed - set(harness.subject)))
    else:
        circuit, name = load_circuit(str(spec), debug=_debug(ctx))
        samples = [loads_strict(path.read_bytes(), what=str(path)) for path in input_files]
        jobs.append((name, circuit, auxiliary, samples, base_assumed))
    results = []
    verdicts: set[str] = set()
    fresh = []
    for label, circuit, aux, samples, assumed in jobs:
        verdict = prove_unique(circuit, targets=targets, auxiliary=aux, assume=assumed, samples=samples,
                               time_limit=time_limit)
        results.append(_verdict_dict(label, verdict))
        verdicts.add(verdict.verdict)
        fresh.append(verdict)
    if verdicts_out is not None:
        source = verdicts_out if verdicts_out.exists() else PINNED_VERDICTS_PATH
        notes = {key: row["note"] for key, row in load_verdicts(source).items()} if source.exists() else {}
        rows = [verdict_row(gadget, params, verdict, aux_names, notes.get((gadget, params), ""))
                for (gadget, params, aux_names), verdict in zip(keys, fresh, strict=True)]
        verdicts_out.write_text(render_verdicts(rows), encoding="utf-8")
        note(f"wrote {len(rows)} verdicts to {verdicts_out}")
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
              help="File of equivalent mutants: one 'KEY [(line N)] reason' per line (KEY as --list prints "
                   "it); they leave the score.")
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
            {"mutants": [{"id": m.id, "key": m.key, "function": m.function, "scope": m.label} for m in mutants]},
            "\n".join(f"{m.id}  {m.key}  {m.label}  ({m.function})" for m in mutants) or "no mutants",
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
            {"id": r.mutant.id, "key": r.mutant.key, "status": r.status, "scope": r.mutant.label,
             "function": r.mutant.function}
            for r in report.survivors
        ],
    }
    lines = [
        f"{report.killed}/{report.scored} mutants killed ({report.score:.1f}%), {report.count('equivalent')} "
        f"equivalent, {report.count('error')} errors; {len(report.results)} of {report.total_found} run in "
        f"{report.seconds:.0f} s"
    ]
    for r in report.survivors:
        lines.append(f"  {r.status}: {r.mutant.id}  {r.mutant.key}  {r.mutant.label}  ({r.mutant.function})")
    emit(ctx, payload, "\n".join(lines))
    if min_score is not None and report.score < min_score:
        ctx.exit(1)
