"""Mutation testing of circuits: break one constraint site, run the author's tests, see whether they notice.

A *mutant* is one change at one source line of the code under test (a gadget module, a circuit file), applied
while circuits are built, so every circuit the tests build that passes through that line is broken the same
way, as a source-level mutation tool would break it:

* ``drop``: the constraint(s) the line makes are not recorded (``b.assert_equal``, ``b.assert_bool``,
  ``x * y``, ``b.assert_mul``, an inverse, a division);
* ``swap``: ``A * B = C`` becomes ``A * C = B`` (non-linear constraints whose sides differ);
* ``constant``: the constant term of the constraint (else its first coefficient other than +-1) plus one;
* ``unconstrain``: an output declared on the line (``b.output``), or the result of a ``@gadget`` called on
  the line, becomes an unconstrained hint of the same value ("turn an output into a hint", security.md C1);
* ``shrink``: a range check (bit decomposition) made on the line checks one bit fewer, its top bit forced 0.

Lines are those of the *target* files; ``drop``/``swap``/``constant`` apply to constraints the line makes
itself (through the DSL, not through a gadget it calls: those belong to the gadget's own file). Mutants are
found by building reference circuits once with a recording hook (:func:`discover`); each is then run in a
fresh ``pytest`` process with ``ZKHEALTH_MUTANT`` set, which :func:`activate_from_environment` (called when
``zkhealth.circuit`` is imported) installs. A mutant is *killed* when the tests fail, *survives* when they
pass, and is *not covered* when no test built a circuit through its line. Equivalent mutants (no witness can
tell them apart from the original) are listed with their reason in a file and leave the score.

A mutant's :attr:`Mutant.id` (``path:LINE:operator``) says where it is; its :attr:`Mutant.key` says *what* it
is, independently of line numbers: ``path:scope:operator:digest``, where scope is the enclosing function path
(``outer.inner``, ``<module>`` at top level) and digest a hash of the mutated statement's canonical text
(``ast.unparse``: comments, blank lines and line breaks do not count; a compound statement counts its header
only). ``#n`` follows when the scope has n identical statements before it; ``+k`` (the line's offset in the
statement) only when one statement holds mutants of the same operator on several lines. Equivalent-mutant
files are keyed by :attr:`Mutant.key`, so editing code above a listed mutant keeps the entry; editing the
mutated statement itself makes the entry stale.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from zkhealth.circuit import builder as _builder
from zkhealth.circuit.builder import Builder, MutationHook, format_source
from zkhealth.circuit.signal import LC, R
from zkhealth.errors import CircuitDefinitionError

__all__ = [
    "OPERATORS",
    "Mutant",
    "MutantResult",
    "MutationReport",
    "activate_from_environment",
    "discover",
    "load_equivalents",
    "mutant_installed",
    "mutant_key",
    "run_mutants",
    "stale_equivalents",
]

#: The mutation operators, in the order they are listed.
OPERATORS: tuple[str, ...] = ("drop", "swap", "constant", "unconstrain", "shrink")
ENV_MUTANT = "ZKHEALTH_MUTANT"
ENV_REPORT = "ZKHEALTH_MUTANT_REPORT"

#: Helpers that make a constraint on behalf of their caller: ``drop`` names the caller's line (a Merkle level's
#: ``ensure_bool(b, bit)``, not the one line inside ``ensure_bool`` every gadget shares).
_CONSTRAINT_PLUMBING = frozenset({"ensure_bool"})
#: Functions that only pass a range check along; ``shrink`` names the line that asked for the check.
_RANGE_PLUMBING = frozenset({"_decompose", "range_check", "_ensure_range", "wrapper"})


@dataclass(frozen=True)
class Mutant:
    """One mutation: an operator at a line of a target file."""

    file: str
    line: int
    operator: str
    function: str = ""
    #: Scope path of the first constraint (or call) the line made in the reference circuit.
    label: str = ""
    #: :attr:`key` as :func:`discover` computed it from the source it built (set there; computed when empty).
    stable_key: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        """``relative/path.py:LINE:operator``: where the mutant is (reports; it moves when lines move)."""
        return f"{format_source((self.file, self.line))}:{self.operator}"

    @property
    def key(self) -> str:
        """``relative/path.py:scope:operator:digest``: what the mutant is, stable under edits elsewhere in the
        file (see :func:`mutant_key`); the name used in equivalent-mutant files. Fixed at discovery, so a later
        edit of the file does not rename a mutant found before it."""
        return self.stable_key or mutant_key(self.file, self.line, self.operator)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Mutant:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("operator") not in OPERATORS:
            raise CircuitDefinitionError(f"{ENV_MUTANT} does not describe a mutant")
        return cls(str(data["file"]), int(data["line"]), str(data["operator"]), str(data.get("function", "")),
                   str(data.get("label", "")))


def _constant_mutation(a: LC, b: LC, c: LC) -> tuple[LC, LC, LC] | None:
    for position, lc in ((2, c), (1, b), (0, a)):
        if 0 in lc:
            changed = dict(lc)
            changed[0] = (changed[0] + 1) % R or 1
            return _replace((a, b, c), position, changed)
    for position, lc in ((2, c), (1, b), (0, a)):
        for v, k in lc.items():
            if k not in (1, R - 1):
                changed = dict(lc)
                changed[v] = (k + 1) % R or 1
                return _replace((a, b, c), position, changed)
    return None


def _replace(sides: tuple[LC, LC, LC], position: int, lc: LC) -> tuple[LC, LC, LC]:
    items = list(sides)
    items[position] = lc
    return (items[0], items[1], items[2])


def _is_constant(lc: LC) -> bool:
    return not lc or set(lc) == {0}


class _Hook:
    """Records mutation sites (``mutant is None``) or applies one mutant."""

    def __init__(self, targets: Iterable[str], mutant: Mutant | None = None) -> None:
        self.targets = frozenset(os.path.abspath(t) for t in targets)
        self.mutant = mutant
        self.applied = False
        self.sites: dict[tuple[str, int, str], Mutant] = {}
        #: Per recorded site: the index of the first reference circuit that reached it.
        self.reached: dict[tuple[str, int, str], int] = {}
        self.circuit_index = 0
        self._abs: dict[str, str] = {}

    # ------------------------------------------------------------------ sites

    def _target(self, filename: str) -> str | None:
        absolute = self._abs.get(filename)
        if absolute is None:
            absolute = os.path.abspath(filename)
            self._abs[filename] = absolute
        return absolute if absolute in self.targets else None

    def _constraint_site(self) -> tuple[str, int, str] | None:
        frame = sys._getframe(2)
        core = _builder._DSL_FILES
        while frame is not None and (
            os.path.abspath(frame.f_code.co_filename) in core or frame.f_code.co_name in _CONSTRAINT_PLUMBING
        ):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        target = self._target(frame.f_code.co_filename)
        return (target, frame.f_lineno, frame.f_code.co_name) if target else None

    def _outer_site(self, skip: frozenset[str]) -> tuple[str, int, str] | None:
        frame = sys._getframe(2)
        while frame is not None:
            target = self._target(frame.f_code.co_filename)
            if target and frame.f_code.co_name not in skip:
                return (target, frame.f_lineno, frame.f_code.co_name)
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def _hit(self, builder: Builder, site: tuple[str, int, str] | None, operator: str) -> bool:
        if site is None:
            return False
        if self.mutant is None:
            key = (site[0], site[1], operator)
            if key not in self.sites:
                self.sites[key] = Mutant(site[0], site[1], operator, site[2], builder.current_scope)
                self.reached[key] = self.circuit_index
            return False
        m = self.mutant
        if m.operator == operator and m.line == site[1] and m.file == site[0]:
            if not self.applied:
                self.applied = True
                report = os.environ.get(ENV_REPORT)
                if report:
                    Path(report).write_text("applied\n", encoding="utf-8")
            return True
        return False

    # ------------------------------------------------------------------ the hook

    def constraint(self, builder: Builder, a: LC, b: LC, c: LC) -> tuple[LC, LC, LC] | None:
        site = self._constraint_site()
        if site is None:
            return (a, b, c)
        if self._hit(builder, site, "drop"):
            return None
        if not _is_constant(a) and not _is_constant(b) and b != c and c:
            if self._hit(builder, site, "swap"):
                return (a, c, b)
        mutated = _constant_mutation(a, b, c)
        if mutated is not None and self._hit(builder, site, "constant"):
            return mutated
        return (a, b, c)

    def output_constrained(self, builder: Builder) -> bool:
        return not self._hit(builder, self._constraint_site(), "unconstrain")

    def range_width(self, builder: Builder, bits: int) -> int:
        if bits < 2:
            return bits
        return bits - 1 if self._hit(builder, self._outer_site(_RANGE_PLUMBING), "shrink") else bits

    def unconstrain_result(self, builder: Builder, gadget: str) -> bool:
        return self._hit(builder, self._outer_site(frozenset({"wrapper"})), "unconstrain")


def _install(hook: MutationHook | None) -> None:
    _builder._MUTATION.clear()
    if hook is not None:
        _builder._MUTATION.append(hook)


def activate_from_environment() -> Mutant | None:
    """Install the mutant named by ``$ZKHEALTH_MUTANT`` (set by :func:`run_mutants` in its test processes)."""
    text = os.environ.get(ENV_MUTANT)
    if not text:
        return None
    mutant = Mutant.from_json(text)
    _install(_Hook([mutant.file], mutant))
    return mutant


def mutant_installed() -> bool:
    """Whether a mutant is being built in this process."""
    return bool(_builder._MUTATION)


# --------------------------------------------------------------------------- stable keys

_BODY_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases", "decorator_list", "type_comment"})
_KEY_PATTERN = re.compile(
    r"^(?P<path>[^\s:]+\.py):(?P<scope>[A-Za-z_<][\w.<>]*):(?P<operator>[a-z]+):[0-9a-f]{12}(#\d+)?(\+\d+)?$"
)


def _statement_text(node: ast.stmt) -> str:
    """The canonical text of a statement; of a compound statement, its header (type and non-body fields)."""
    if not any(getattr(node, name, None) for name in ("body", "orelse", "finalbody", "handlers", "cases")):
        return ast.unparse(node)
    parts = [type(node).__name__]
    for name, value in ast.iter_fields(node):
        if name in _BODY_FIELDS:
            continue
        if isinstance(value, ast.AST):
            parts.append(ast.unparse(value))
        elif isinstance(value, list):
            parts.extend(ast.unparse(v) for v in value if isinstance(v, ast.AST))
        elif value is not None:
            parts.append(repr(value))
    return " ".join(parts)


@functools.lru_cache(maxsize=128)
def _line_index(path: str, mtime_ns: int, size: int) -> dict[int, tuple[str, str, int, int]]:
    """Per source line of ``path``: (scope, statement digest, occurrence, offset in the statement)."""
    del mtime_ns, size  # part of the cache key only: a rewritten file is indexed again
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, ValueError) as exc:
        raise CircuitDefinitionError(f"cannot read the mutated file {path}: {exc}") from exc
    index: dict[int, tuple[str, str, int, int]] = {}
    seen: dict[tuple[str, str], int] = {}

    def visit(body: Sequence[ast.stmt], scope: tuple[str, ...]) -> None:
        for node in body:
            name = ".".join(scope) or "<module>"
            digest = hashlib.sha256(_statement_text(node).encode("utf-8")).hexdigest()[:12]
            occurrence = seen.get((name, digest), 0)
            seen[(name, digest)] = occurrence + 1
            children: list[Sequence[ast.stmt]] = []
            for field_name, value in ast.iter_fields(node):
                if field_name == "decorator_list" or not isinstance(value, list) or not value:
                    continue
                if isinstance(value[0], ast.stmt):
                    children.append(value)
                else:  # except handlers, match cases
                    children.extend(v.body for v in value if isinstance(getattr(v, "body", None), list))
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            end = node.end_lineno or node.lineno
            if children:
                end = min(child[0].lineno for child in children if child) - 1
            for line in range(start, max(end, node.lineno) + 1):
                index.setdefault(line, (name, digest, occurrence, max(0, line - node.lineno)))
            inner = (*scope, node.name) if isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else scope
            for child in children:
                visit(child, inner)

    visit(tree.body, ())
    return index


def mutant_key(file: str, line: int, operator: str) -> str:
    """The stable name of the mutant ``operator`` at ``file:line``: ``path:scope:operator:digest[#n]``.

    The digest is the first 12 hex digits of SHA-256 over the canonical text of the statement holding the line;
    ``#n`` numbers identical statements of one scope (from 1 for the second). Every line of a statement has the
    same key (:func:`discover` adds ``+k``, the line's offset in the statement, when two of them are mutants of
    one operator). Raises :class:`CircuitDefinitionError` when the file cannot be parsed
    or the line holds no statement.
    """
    try:
        stat = os.stat(file)
    except OSError as exc:
        raise CircuitDefinitionError(f"cannot read the mutated file {file}: {exc}") from exc
    entry = _line_index(os.path.abspath(file), stat.st_mtime_ns, stat.st_size).get(line)
    if entry is None:
        raise CircuitDefinitionError(f"{format_source((file, line))} holds no statement")
    scope, digest, occurrence, _ = entry
    path = format_source((file, line)).rpartition(":")[0]
    return f"{path}:{scope}:{operator}:{digest}" + (f"#{occurrence}" if occurrence else "")


def _statement_offset(file: str, line: int) -> int:
    stat = os.stat(file)
    return _line_index(os.path.abspath(file), stat.st_mtime_ns, stat.st_size)[line][3]


# --------------------------------------------------------------------------- discovery


def discover(
    circuits: Sequence[Callable[[Builder], object]],
    targets: Iterable[str | Path],
    *,
    operators: Sequence[str] = OPERATORS,
) -> list[Mutant]:
    """Build ``circuits`` with a recording hook and return every mutant of the ``targets`` lines they reach.

    A mutant whose reference build fails (it crashes the circuit description) is left out: it is stillborn.
    The list is sorted by file, line and operator. Cost: one build per circuit, plus one build of the first
    circuit reaching each ``shrink`` mutant's line, to weed out stillborn ones.
    """
    from zkhealth.circuit.compiler import build

    unknown = [op for op in operators if op not in OPERATORS]
    if unknown:
        raise CircuitDefinitionError(f"unknown mutation operator(s): {', '.join(unknown)}")
    target_files = [str(t) for t in targets]
    hook = _Hook(target_files)
    found: dict[str, Mutant] = {}
    first_circuit: dict[str, int] = {}
    for index, circuit in enumerate(circuits):
        hook.circuit_index = index
        _install(hook)
        try:
            build(circuit)
        finally:
            _install(None)
    for key, mutant in hook.sites.items():
        if mutant.operator in operators and mutant.id not in found:
            found[mutant.id] = mutant
            first_circuit[mutant.id] = hook.reached[key]
    alive: list[Mutant] = []
    for mutant in found.values():
        if mutant.operator != "shrink":
            # Dropping, swapping or changing a constraint, or cutting a result loose, keeps every shape the
            # description relies on; only a narrower decomposition can break it (a missing top bit).
            alive.append(mutant)
            continue
        _install(_Hook(target_files, mutant))
        try:
            build(circuits[first_circuit[mutant.id]])
        except Exception:  # a crashing description is a stillborn mutant, whatever it raises
            continue
        finally:
            _install(None)
        alive.append(mutant)
    by_key: dict[str, list[Mutant]] = {}
    for mutant in alive:
        by_key.setdefault(mutant_key(mutant.file, mutant.line, mutant.operator), []).append(mutant)
    named = [
        replace(m, stable_key=key if len(group) == 1 else f"{key}+{_statement_offset(m.file, m.line)}")
        for key, group in by_key.items() for m in group
    ]
    return sorted(named, key=lambda m: (m.file, m.line, OPERATORS.index(m.operator)))


def load_equivalents(path: str | Path) -> dict[str, str]:
    """Read an equivalent-mutant file: one ``MUTANT_KEY  [(line N)]  reason`` per line (``#`` starts a comment).

    ``MUTANT_KEY`` is :attr:`Mutant.key` (``zkhealth circuit mutate --list`` prints it); ``(line N)`` is a hint
    for the reader, not used to match. Returns key -> reason. A line-numbered id (``path:LINE:operator``), a
    malformed key, an unknown operator, a repeated key or a missing reason is a :class:`CircuitDefinitionError`.
    """
    out: dict[str, str] = {}
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        match = _KEY_PATTERN.match(key)
        if match is None or match["operator"] not in OPERATORS:
            raise CircuitDefinitionError(
                f"{path}:{number}: {key!r} is not a mutant key (path:scope:operator:digest, as "
                "`zkhealth circuit mutate --list` prints it)"
            )
        reason = re.sub(r"^\(line \d+\)", "", rest.strip()).strip()
        if not reason:
            raise CircuitDefinitionError(f"{path}:{number}: equivalent mutant {key} needs a reason")
        if key in out:
            raise CircuitDefinitionError(f"{path}:{number}: equivalent mutant {key} is listed twice")
        out[key] = reason
    return out


def stale_equivalents(equivalents: Mapping[str, str], mutants: Iterable[Mutant]) -> list[str]:
    """The keys of ``equivalents`` that name none of ``mutants``: entries whose statement changed or went away
    (they must be re-examined, not silently kept)."""
    known = {m.key for m in mutants}
    return sorted(key for key in equivalents if key not in known)


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class MutantResult:
    """What happened to one mutant."""

    mutant: Mutant
    #: ``killed``, ``survived``, ``not covered``, ``timeout`` (counted as killed), ``equivalent`` or ``error``.
    status: str
    seconds: float
    detail: str = ""


@dataclass
class MutationReport:
    """All results, the score and the run's cost."""

    results: list[MutantResult] = field(default_factory=list)
    total_found: int = 0
    seconds: float = 0.0
    baseline_seconds: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.results if r.status in statuses)

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout")

    @property
    def scored(self) -> int:
        """Mutants that count: everything run except equivalent ones and errors."""
        return self.count("killed", "timeout", "survived", "not covered")

    @property
    def score(self) -> float:
        """Killed / scored, in percent (100 when nothing is scored)."""
        return 100.0 * self.killed / self.scored if self.scored else 100.0

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.status in ("survived", "not covered")]


def _run_pytest(pytest_args: Sequence[str], env: dict[str, str], cwd: str, timeout: float) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *pytest_args]
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    return done.returncode, tail


def run_mutants(
    mutants: Sequence[Mutant],
    pytest_args: Sequence[str],
    *,
    tests_for: Mapping[str, Sequence[str]] | None = None,
    cwd: str | Path = ".",
    timeout: float = 600.0,
    equivalents: dict[str, str] | None = None,
    max_mutants: int | None = None,
    seed: int = 0,
    progress: Callable[[MutantResult], None] | None = None,
) -> MutationReport:
    """Run the tests (``pytest_args``, e.g. ``["tests/test_gadgets_basic.py"]``) against each mutant.

    ``tests_for`` maps a target file's name (``basic.py``) or path to its own pytest arguments, used instead of
    ``pytest_args`` for the mutants of that file (each gadget module against its own tests). First runs every
    selection unmutated: they must pass (``CircuitDefinitionError`` otherwise). With ``max_mutants``, a
    deterministic sample (``seed``) of that many mutants is run. Each run is ``python -m pytest -x -q`` in a
    new process with ``$ZKHEALTH_MUTANT`` set, killed after ``timeout`` seconds (status ``timeout``, which
    counts as killed). Cost: the baseline plus, per mutant, one pytest run up to its first failure.
    """
    started = time.monotonic()
    equivalents = equivalents or {}
    chosen = list(mutants)
    if max_mutants is not None and len(chosen) > max_mutants:
        chosen = sorted(random.Random(seed).sample(chosen, max_mutants), key=lambda m: (m.file, m.line, m.operator))
    base_env = {k: v for k, v in os.environ.items() if k not in (ENV_MUTANT, ENV_REPORT)}
    mapping = dict(tests_for or {})

    def selection(mutant: Mutant) -> list[str]:
        for key in (mutant.file, os.path.basename(mutant.file)):
            if key in mapping:
                return list(mapping[key])
        return list(pytest_args)

    for args in dict.fromkeys(tuple(selection(m)) for m in chosen if m.key not in equivalents):
        code, tail = _run_pytest(args, base_env, str(cwd), timeout)
        if code != 0:
            raise CircuitDefinitionError(
                f"the tests ({' '.join(args)}) fail without any mutant (exit {code}: {tail}); fix them first"
            )
    report = MutationReport(total_found=len(mutants), baseline_seconds=time.monotonic() - started)
    with tempfile.TemporaryDirectory(prefix="zkhealth-mutant-") as scratch:
        for index, mutant in enumerate(chosen):
            if mutant.key in equivalents:
                result = MutantResult(mutant, "equivalent", 0.0, equivalents[mutant.key])
            else:
                marker = Path(scratch) / f"applied-{index}"
                env = dict(base_env, **{ENV_MUTANT: mutant.to_json(), ENV_REPORT: str(marker)})
                t0 = time.monotonic()
                code, tail = _run_pytest(selection(mutant), env, str(cwd), timeout)
                elapsed = time.monotonic() - t0
                applied = marker.exists()
                if code == -1:
                    status = "timeout"
                elif code == 0:
                    status = "survived" if applied else "not covered"
                elif code == 1:
                    status = "killed"
                else:
                    status = "error"
                result = MutantResult(mutant, status, elapsed, tail)
            report.results.append(result)
            if progress is not None:
                progress(result)
    report.seconds = time.monotonic() - started
    return report
