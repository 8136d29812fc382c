"""The package order: runtime imports flow one way, from the user down to the arithmetic.

Each top-level package or module of ``src/zkhealth`` sits in one layer of :data:`LAYERS` (docs/architecture.md
draws the same order). A module may import from its own package and from any layer below its own, never from a
layer above; within a layer only the leaf helpers import each other (credentials and circuit are siblings:
neither imports the other). Imports under ``if TYPE_CHECKING:`` do not count, imports inside functions do.
The test also refuses import cycles among modules, so a lazy import cannot hide one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.native

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "zkhealth"

#: Top to bottom. A layer is a tuple of sibling units (a top-level package or module of zkhealth).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),  # python -m zkhealth
    ("cli",),  # argument parsing and printing, one module per role
    ("dashboard",),  # the local web app
    ("zkhealth",),  # the front door: zkhealth/__init__.py, names imported on first use
    ("demo",),  # the story
    ("demo_universal",),  # its last steps (one key set for every trial) and the DAO story's real prover
    ("demo_dao",),  # the patient data DAO story
    ("testing",),  # the pytest plugin, strategies and the circuit test kit
    ("chain",),  # contracts, artifacts, web3 client, audit trail
    ("eligibility",),  # trial spec, criteria, programs, circuits, proofs, verification policy
    ("ceremony",),  # powers of tau, phase 2, transcripts
    ("credentials", "circuit"),  # siblings: neither imports the other
    ("formats",),  # .r1cs, .wtns, .zkey, .zkhpk, .ptau, snarkjs JSON: reading and writing files
    ("groth16",),  # key and proof types, setup, prove, verify, batch verify
    ("signature",),
    ("hash",),
    ("hazmat",),
    ("field", "errors", "r1cs", "_fileio", "_json", "_bigint", "_lazy"),  # leaf helpers
)
#: The one layer whose members may import each other (still without cycles).
LEAF_LAYER = LAYERS[-1]
RANK: dict[str, int] = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, path: Path) -> Iterator[str]:
    """Every zkhealth module ``module`` imports at run time (function bodies included)."""
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    yield from visit(other)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    candidate = f"{source}.{alias.name}"
                    yield candidate if candidate in MODULES else source
            yield from visit(child)

    for name in visit(ast.parse(path.read_text(encoding="utf-8"))):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            yield name


GRAPH: dict[str, set[str]] = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "zkhealth"


def test_every_package_has_a_place_in_the_order() -> None:
    units = {_unit(module) for module in MODULES}
    assert units - RANK.keys() == set(), "add the new package to LAYERS (and to docs/architecture.md)"


def test_imports_flow_down_the_layers() -> None:
    violations = []
    for module, imported in sorted(GRAPH.items()):
        for target in sorted(imported):
            source_unit, target_unit = _unit(module), _unit(target)
            if source_unit == target_unit:
                continue
            upward = RANK[target_unit] < RANK[source_unit]
            sideways = RANK[target_unit] == RANK[source_unit] and source_unit not in LEAF_LAYER
            if upward or sideways:
                violations.append(f"{module} imports {target} ({source_unit} -> {target_unit})")
    assert violations == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                strong(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return found


def test_no_import_cycles_among_modules_or_packages() -> None:
    assert _cycles(GRAPH) == []
    packages: dict[str, set[str]] = {}
    for module, imported in GRAPH.items():
        for target in imported:
            if _unit(module) != _unit(target):
                packages.setdefault(_unit(module), set()).add(_unit(target))
    assert _cycles(packages) == []


def test_the_checker_sees_what_it_must() -> None:
    """The rules above would catch a reaching-up import, a lazy one too, and ignore TYPE_CHECKING blocks."""
    assert "zkhealth.eligibility.trial" in GRAPH["zkhealth.eligibility.prove"]
    assert "zkhealth.credentials.wallet" in GRAPH["zkhealth.cli._common"]  # imported inside a function
    assert "zkhealth.errors" in GRAPH["zkhealth"]
    assert "zkhealth.credentials.credential" not in GRAPH["zkhealth"]  # only under TYPE_CHECKING there
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert RANK["credentials"] == RANK["circuit"] and RANK["chain"] < RANK["eligibility"] < RANK["credentials"]
