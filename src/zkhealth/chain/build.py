"""Compile ``verifier_contracts/`` with the pinned solc-js and write the committed artifacts.

``python -m zkhealth.chain.build`` runs the compiler through node (``verifier_contracts/compile.cjs``, solc-js
standard JSON, optimizer on) and rewrites ``src/zkhealth/chain/artifacts/*.json``. Each artifact records the
ABI, creation and runtime bytecode, the solc version, the compiler settings and the sha256 of every source in
the compilation, so :func:`check_artifacts` can tell when one is stale. Users never run this: the artifacts
ship in the wheel.

Needs: node (>= 18) and ``npm ci`` in ``verifier_contracts/`` (solc and anvil pinned in its package.json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Final

from zkhealth.errors import ArtifactStaleError, ChainError

#: The contracts whose artifacts ship with zkhealth, by source file.
CONTRACTS: Final[dict[str, tuple[str, ...]]] = {
    "src/Groth16Verifier.sol": ("Groth16Verifier", "Groth16VerifierInit"),
    "src/CohortEnrollment.sol": ("CohortEnrollment", "CohortEnrollmentInit"),
}
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


def source_hashes(root: Path) -> dict[str, str]:
    """sha256 of every Solidity source in the compilation (``src/*.sol``), by path relative to ``root``."""
    return {f"src/{path.name}": sha256_hex(path.read_bytes()) for path in sorted((root / "src").glob("*.sol"))}


def standard_input(root: Path) -> dict[str, Any]:
    """The solc standard-JSON input: every ``src/*.sol`` with its content, and :data:`SETTINGS`."""
    sources = {
        f"src/{path.name}": {"content": path.read_text(encoding="utf-8")}
        for path in sorted((root / "src").glob("*.sol"))
    }
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
    hashes = source_hashes(root)
    artifacts: dict[str, dict[str, Any]] = {}
    for source, names in CONTRACTS.items():
        for name in names:
            compiled = output["contracts"][source][name]
            artifacts[name] = {
                "generator": GENERATOR,
                "contractName": name,
                "sourcePath": source,
                "solcVersion": version,
                "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
                "sources": hashes,
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


def write_artifacts(artifacts: dict[str, dict[str, Any]], target: Path | None = None) -> list[Path]:
    """Write each artifact as ``<name>.json`` (sorted keys, 1-space indent, trailing newline)."""
    target = artifacts_dir() if target is None else target
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = target / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n", encoding="utf-8")
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
    for names in CONTRACTS.values():
        for name in names:
            if load_artifact(name).get("sources") != hashes:
                raise ArtifactStaleError(
                    f"artifact {name} does not match verifier_contracts/src: run python -m zkhealth.chain.build"
                )
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
