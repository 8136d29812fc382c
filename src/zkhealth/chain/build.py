"""Compile ``verifier_contracts/`` with the pinned solc-js and write the committed artifacts.

``python -m zkhealth.chain.build`` runs the compiler through node (``verifier_contracts/compile.cjs``, solc-js
standard JSON, optimizer on) and rewrites ``src/zkhealth/chain/artifacts/*.json``. Each artifact records the
ABI, creation and runtime bytecode, the solc version, the compiler settings and the sha256 of every source in
the compilation, so :func:`check_artifacts` can tell when one is stale. Users never run this: the artifacts
ship in the wheel.

Imports of ``@openzeppelin/contracts/...`` (npm, pinned in package.json) are resolved from
``verifier_contracts/node_modules`` and put into the standard-JSON input with every file they import in turn; each
artifact records the library's version and the sha256 of every library file it was compiled with. Test-only
contracts (``verifier_contracts/test/*.sol``: a malicious ERC-20 for the reentrancy tests) are compiled in the same
run and written to ``tests/artifacts/``, never into the package.

Needs: node (>= 18) and ``npm ci`` in ``verifier_contracts/`` (solc, OpenZeppelin and anvil pinned in its
package.json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import atomic_write
from zkhealth.errors import ArtifactStaleError, ChainError

#: The contracts whose artifacts ship with zkhealth, by source file.
CONTRACTS: Final[dict[str, tuple[str, ...]]] = {
    "src/Groth16Verifier.sol": ("Groth16Verifier", "Groth16VerifierInit"),
    "src/CohortEnrollment.sol": ("CohortEnrollment", "CohortEnrollmentInit"),
    "src/TrialRegistry.sol": ("TrialRegistry", "TrialRegistryInit"),
    "src/TrustDirectory.sol": ("TrustDirectory",),
    "src/ZkHealthGovernor.sol": ("ZkHealthGovernor",),
    "src/ZkHealthTimelock.sol": ("ZkHealthTimelock",),
    "src/RewardToken.sol": ("RewardToken",),
}
#: Test-only contracts (``verifier_contracts/test/``), written to ``tests/artifacts/`` of the checkout.
TEST_CONTRACTS: Final[dict[str, tuple[str, ...]]] = {
    "test/ReentrantToken.sol": ("ReentrantToken",),
}
#: The npm library whose sources may be imported, and the prefix its imports use.
LIBRARY: Final[str] = "@openzeppelin/contracts"
_IMPORT: Final[re.Pattern[str]] = re.compile(r'^\s*import\s+(?:[^"\']*\sfrom\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)
#: Template of the per-key verifier export (shipped inside an artifact JSON, so it is package data).
TEMPLATE_PATH: Final[str] = "templates/Groth16Verifier.sol.tmpl"
TEMPLATE_ARTIFACT: Final[str] = "Groth16Verifier.template"

#: solc standard-JSON settings. `runs` is high: the contracts are deployed once and called many times.
SETTINGS: Final[dict[str, Any]] = {
    "optimizer": {"enabled": True, "runs": 10000},
    "evmVersion": "cancun",
    "viaIR": True,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}
GENERATOR: Final[str] = "zkhealth.chain.build (solc-js standard JSON); do not edit, run python -m zkhealth.chain.build"


def contracts_dir() -> Path:
    """``verifier_contracts/`` of the source checkout (the build is a developer step, not an installed one)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "verifier_contracts"
        if (candidate / "package.json").is_file():
            return candidate
    raise ChainError("verifier_contracts/ not found: the build runs from a source checkout")


def artifacts_dir() -> Path:
    """Where the artifacts are written (inside the package, next to this module)."""
    return Path(__file__).resolve().parent / "artifacts"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_hashes(root: Path, folder: str = "src") -> dict[str, str]:
    """sha256 of every Solidity source of ``folder`` (``src`` or ``test``), by path relative to ``root``."""
    return {f"{folder}/{path.name}": sha256_hex(path.read_bytes()) for path in sorted((root / folder).glob("*.sol"))}


def _own_sources(root: Path) -> dict[str, str]:
    """Every ``src/*.sol`` and ``test/*.sol`` by source unit name, with its text."""
    return {
        f"{folder}/{path.name}": path.read_text(encoding="utf-8")
        for folder in ("src", "test")
        for path in sorted((root / folder).glob("*.sol"))
    }


def library_sources(root: Path, sources: dict[str, str]) -> dict[str, str]:
    """The :data:`LIBRARY` files the given sources import, transitively, read from ``root/node_modules``.
    Raises :class:`ChainError` for an import outside the sources and the library, or a missing library file."""
    found: dict[str, str] = {}
    pending = list(sources.items())
    while pending:
        unit, text = pending.pop()
        for target in _IMPORT.findall(text):
            name = target
            if target.startswith("."):
                name = posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
            if name in sources or name in found:
                continue
            if not name.startswith(LIBRARY + "/"):
                raise ChainError(f"{unit} imports {target!r}: only {LIBRARY} and local sources are allowed")
            path = root / "node_modules" / name
            if not path.is_file():
                raise ChainError(f"{name} not found: run `npm ci` in {root}")
            found[name] = path.read_text(encoding="utf-8")
            pending.append((name, found[name]))
    return dict(sorted(found.items()))


def library_version(root: Path) -> str | None:
    """The pinned :data:`LIBRARY` version from ``package.json`` (None when there is no package.json)."""
    manifest = root / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("dependencies", {}).get(LIBRARY))


def standard_input(root: Path) -> dict[str, Any]:
    """The solc standard-JSON input: every ``src/*.sol`` and ``test/*.sol``, the library files they import,
    and :data:`SETTINGS`."""
    own = _own_sources(root)
    texts = {**own, **library_sources(root, own)}
    sources = {name: {"content": text} for name, text in sorted(texts.items())}
    return {"language": "Solidity", "sources": sources, "settings": SETTINGS}


def compile_sources(
    root: Path | None = None, *, input_json: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Run solc-js on the sources (or on ``input_json``, a complete standard-JSON input). Returns (solc
    version, standard-JSON output). Raises :class:`ChainError` when node or solc is missing or the compiler
    reports an error. Cost: ~2 s (solc-js startup) plus compilation."""
    root = contracts_dir() if root is None else root
    node = shutil.which("node")
    if node is None:
        raise ChainError("node is not on PATH: install node >= 18 to rebuild the contracts")
    if not (root / "node_modules" / "solc").is_dir():
        raise ChainError(f"solc-js is not installed: run `npm ci` in {root}")
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, str(root / "compile.cjs")],
        input=json.dumps(standard_input(root) if input_json is None else input_json),
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
        timeout=600,
    )
    if completed.returncode != 0:
        raise ChainError(f"solc-js failed: {completed.stderr.strip()[:2000]}")
    result = json.loads(completed.stdout)
    output: dict[str, Any] = result["output"]
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ChainError("solc errors:\n" + "\n".join(e["formattedMessage"] for e in errors))
    return str(result["solcVersion"]), output


def compile_single(source: str, contract_name: str) -> tuple[list[dict[str, Any]], str]:
    """Compile one standalone Solidity source (a rendered verifier, snarkjs' export) with the pinned solc and
    :data:`SETTINGS`. Returns (abi, creation bytecode hex). Raises :class:`ChainError`."""
    input_json = {"language": "Solidity", "sources": {"Input.sol": {"content": source}}, "settings": SETTINGS}
    _, output = compile_sources(input_json=input_json)
    try:
        compiled = output["contracts"]["Input.sol"][contract_name]
    except KeyError as exc:
        raise ChainError(f"no contract {contract_name!r} in the source") from exc
    return list(compiled["abi"]), "0x" + str(compiled["evm"]["bytecode"]["object"])


def build_artifacts(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Compile and return the artifact dictionaries by name (nothing written). Raises :class:`ChainError`."""
    root = contracts_dir() if root is None else root
    version, output = compile_sources(root)
    used = library_sources(root, _own_sources(root))
    library = {
        "name": LIBRARY,
        "version": library_version(root),
        "sources": {name: sha256_hex(text.encode("utf-8")) for name, text in used.items()},
    }
    artifacts: dict[str, dict[str, Any]] = {}
    for contracts, folder in ((CONTRACTS, "src"), (TEST_CONTRACTS, "test")):
        hashes = source_hashes(root, folder)
        for source, names in contracts.items():
            for name in names:
                compiled = output["contracts"][source][name]
                artifacts[name] = {
                    "generator": GENERATOR,
                    "contractName": name,
                    "sourcePath": source,
                    "solcVersion": version,
                    "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
                    "sources": hashes,
                    "library": library,
                    "abi": compiled["abi"],
                    "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                    "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                }
    template = (root / TEMPLATE_PATH).read_bytes()
    artifacts[TEMPLATE_ARTIFACT] = {
        "generator": GENERATOR,
        "sourcePath": TEMPLATE_PATH,
        "sources": {TEMPLATE_PATH: sha256_hex(template)},
        "template": template.decode("utf-8"),
    }
    return artifacts


def test_artifacts_dir() -> Path:
    """Where test-only artifacts are written: ``tests/artifacts/`` of the source checkout."""
    return contracts_dir().parent / "tests" / "artifacts"


def test_contract_names() -> set[str]:
    """Names of the test-only contracts (their artifacts live in :func:`test_artifacts_dir`)."""
    return {name for names in TEST_CONTRACTS.values() for name in names}


def load_test_artifact(name: str) -> dict[str, Any]:
    """A test-only artifact by contract name, from the source checkout. Raises :class:`ChainError`."""
    path = test_artifacts_dir() / f"{name}.json"
    if name not in test_contract_names() or not path.is_file():
        raise ChainError(f"no test artifact named {name!r}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_artifacts(
    artifacts: dict[str, dict[str, Any]], target: Path | None = None, test_target: Path | None = None
) -> list[Path]:
    """Write each artifact as ``<name>.json`` (sorted keys, 1-space indent, trailing newline); test-only ones
    to ``test_target`` (default :func:`test_artifacts_dir`)."""
    target = artifacts_dir() if target is None else target
    target.mkdir(parents=True, exist_ok=True)
    written = []
    test_names = test_contract_names()
    for name, artifact in sorted(artifacts.items()):
        folder = target
        if name in test_names:
            folder = test_artifacts_dir() if test_target is None else test_target
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.json"
        atomic_write(path, (json.dumps(artifact, indent=1, sort_keys=True) + "\n").encode("utf-8"), mode=0o644)
        written.append(path)
    return written


def load_artifact(name: str) -> dict[str, Any]:
    """A shipped artifact by contract name (package data; no compiler needed). Raises :class:`ChainError`."""
    resource = resources.files("zkhealth.chain") / "artifacts" / f"{name}.json"
    try:
        data: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ChainError(f"no artifact named {name!r}") from exc
    return data


def check_artifacts(root: Path | None = None) -> None:
    """Raise :class:`ArtifactStaleError` when a shipped artifact's recorded source hashes differ from the
    sources in ``verifier_contracts/``. Cost: hashing a few files."""
    root = contracts_dir() if root is None else root
    hashes = source_hashes(root)
    version = library_version(root)
    library_dir = root / "node_modules" / LIBRARY
    for names in CONTRACTS.values():
        for name in names:
            artifact = load_artifact(name)
            if artifact.get("sources") != hashes:
                raise ArtifactStaleError(
                    f"artifact {name} does not match verifier_contracts/src: run python -m zkhealth.chain.build"
                )
            library = artifact.get("library", {})
            if version is not None and library.get("version") != version:
                raise ArtifactStaleError(f"artifact {name} was built with another {LIBRARY}: rebuild the artifacts")
            if library_dir.is_dir():
                for unit, digest in library.get("sources", {}).items():
                    path = root / "node_modules" / unit
                    if not path.is_file() or sha256_hex(path.read_bytes()) != digest:
                        raise ArtifactStaleError(f"artifact {name}: {unit} differs from the installed {LIBRARY}")
    test_folder = root / "test"
    if test_folder.is_dir():
        test_hashes = source_hashes(root, "test")
        for name in test_contract_names():
            if load_test_artifact(name).get("sources") != test_hashes:
                raise ArtifactStaleError(f"test artifact {name} is stale: run python -m zkhealth.chain.build")
    template = load_artifact(TEMPLATE_ARTIFACT)
    if template.get("sources") != {TEMPLATE_PATH: sha256_hex((root / TEMPLATE_PATH).read_bytes())}:
        raise ArtifactStaleError("the verifier template artifact is stale: run python -m zkhealth.chain.build")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m zkhealth.chain.build`` (``--check`` only checks staleness)."""
    parser = argparse.ArgumentParser(prog="python -m zkhealth.chain.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the artifacts are fresh")
    args = parser.parse_args(argv)
    try:
        if args.check:
            check_artifacts()
            print("artifacts are up to date")
            return 0
        for path in write_artifacts(build_artifacts()):
            print(f"wrote {path}")
    except ChainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
