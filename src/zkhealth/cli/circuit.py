"""The circuit author's verbs: ``compile``, ``info``, ``r1cs export|info`` and ``wtns calculate``.

A circuit is named ``FILE.py:NAME``: the Python file is imported and ``NAME`` (a function ``define(b)``, or a
class or object with a ``define(b)`` method) is compiled with :func:`zkhealth.circuit.compile`. ``:NAME``
defaults to ``define``. Importing the file runs its code, as ``python FILE.py`` would: only name files you
trust.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from zkhealth.cli._common import F, emit, note, status

__all__ = ["compile_command", "info_command", "load_circuit", "r1cs_group", "wtns_group"]

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
    from zkhealth._json import loads_strict
    from zkhealth.errors import EncodingError
    from zkhealth.formats.wtns_file import write_wtns

    inputs = loads_strict(input_path.read_bytes())
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
