"""Shared fixtures: paths to the independent tools (snarkjs, solc-js, anvil) the suite checks us against.

The npm tools are installed by ``scripts/test.sh`` (and so by CI). When one is missing, tests that need it
fail under CI (``CI=true``) and are skipped on a developer machine, with the install command in the message.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
SHARED = ROOT.parent / "shared"


def _require_tool(path: Path, install_hint: str) -> Path:
    if path.exists() and shutil.which("node"):
        return path
    message = f"{path} is missing; install it with: {install_hint}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """tests/vectors: known-answer data made by implementations we did not write."""
    return VECTORS


@pytest.fixture(scope="session")
def snarkjs_cli() -> Path:
    """The pinned snarkjs command line (tests/js/package.json)."""
    return _require_tool(ROOT / "tests" / "js" / "node_modules" / ".bin" / "snarkjs", "npm ci --prefix tests/js")


@pytest.fixture(scope="session")
def anvil_bin() -> Path:
    """The pinned anvil binary (verifier_contracts/package.json)."""
    return _require_tool(
        ROOT / "verifier_contracts" / "node_modules" / ".bin" / "anvil", "npm ci --prefix verifier_contracts"
    )


@pytest.fixture(scope="session")
def shared_anchor_dir() -> Path:
    """../shared/anchors/eligibility: the circom/snarkjs performance anchor, when present beside the checkout."""
    path = SHARED / "anchors" / "eligibility"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI runs with shared/ beside the clone)")
        pytest.skip(f"{path} is missing")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a run that fuzzed readers: how many inputs each reader saw (and wrote them to
    ``$ZKHEALTH_FUZZ_REPORT`` as JSON when set)."""
    import json
    import sys

    fuzzing = sys.modules.get("fuzzing")
    if fuzzing is None or not fuzzing.COUNTS:
        return
    counts = fuzzing.report()
    terminalreporter.section("fuzzed inputs per reader")
    for name, entry in counts.items():
        terminalreporter.write_line(
            f"{name:40} {entry['inputs']:7} inputs ({entry['refused']} refused with a library error, "
            f"{entry['accepted']} accepted)"
        )
    target = os.environ.get("ZKHEALTH_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
