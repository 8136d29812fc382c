"""Shared fixtures: paths to the independent tools (snarkjs, solc-js, anvil) the suite checks us against.

The npm tools are installed by ``scripts/test.sh`` (and so by CI). When one is missing, tests that need it
fail under CI (``CI=true``) and are skipped on a developer machine, with the install command in the message.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
SHARED = ROOT.parent / "shared"
_KEY_CACHE_DIR = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Proving keys loaded by the suite are cached in a directory of this session (removed at the end), not
    in the user's ``~/.cache/zkhealth/keys``: two suites at once, or a suite and the user's own runs, never
    share or evict each other's entries. Subprocesses inherit it. ``tests/test_key_cache.py`` points each test
    at its own directory instead."""
    if "ZKHEALTH_KEY_CACHE_DIR" not in os.environ:
        directory = tempfile.mkdtemp(prefix="zkhealth-key-cache-")
        os.environ["ZKHEALTH_KEY_CACHE_DIR"] = directory
        config.stash[_KEY_CACHE_DIR] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_KEY_CACHE_DIR, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop("ZKHEALTH_KEY_CACHE_DIR", None)


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


@pytest.fixture(scope="session")
def universal_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped universal circuit's proving key for the session, with ``ZKHEALTH_UNIVERSAL_KEY`` pointing at it:
    the installed one when present and matching the pinned hash, otherwise the development set rebuilt from its
    public seed (2-5 minutes) and checked byte for byte against the pinned hashes."""
    import hashlib
    import warnings

    from zkhealth.eligibility.universal_keys import (
        DevelopmentKeyWarning,
        build_development_keys,
        default_proving_key_path,
        pinned_manifest,
    )
    from zkhealth.formats.zkhpk_file import proving_key_to_bytes

    manifest = pinned_manifest()
    installed = default_proving_key_path(manifest)
    if installed.is_file() and hashlib.sha256(installed.read_bytes()).hexdigest() == manifest.proving_key_sha256:
        path = installed
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevelopmentKeyWarning)
            pk, vk = build_development_keys()
        data = proving_key_to_bytes(pk)
        assert hashlib.sha256(data).hexdigest() == manifest.proving_key_sha256, "the dev key set did not rebuild"
        assert vk.sha256() == manifest.verifying_key_sha256
        path = tmp_path_factory.mktemp("universal") / "proving_key.zkhpk"
        path.write_bytes(data)
    previous = os.environ.get("ZKHEALTH_UNIVERSAL_KEY")
    os.environ["ZKHEALTH_UNIVERSAL_KEY"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("ZKHEALTH_UNIVERSAL_KEY", None)
    else:
        os.environ["ZKHEALTH_UNIVERSAL_KEY"] = previous


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
