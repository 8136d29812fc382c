"""The documentation: the mkdocs site builds with --strict, and the pages name only tests and verbs that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zkhealth.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """`mkdocs build --strict` (broken links, missing anchors, pages left out of the nav all fail)."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        message = 'mkdocs is not installed: pip install -e ".[docs]"'
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "security" / "index.html").exists()
    shutil.rmtree(tmp_path / "site")


@pytest.mark.native
def test_security_page_names_only_existing_tests() -> None:
    """Every `test_file.py::test_name` in docs/security.md exists (`::name` continues the last file named)."""
    text = (DOCS / "security.md").read_text(encoding="utf-8")
    named = 0
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        current: str | None = None
        for match in re.finditer(r"`(test_\w+\.py)?(?:::(\w+))?`", line):
            file_name, test_name = match.group(1), match.group(2)
            if file_name:
                current = file_name
            if current is None or (file_name is None and test_name is None):
                continue
            source = ROOT / "tests" / current
            assert source.exists(), f"docs/security.md names {current}, which does not exist"
            if test_name:
                assert re.search(rf"def {test_name}\b", source.read_text(encoding="utf-8")), (
                    f"docs/security.md names {current}::{test_name}, which does not exist"
                )
                named += 1
    assert named >= 60


@pytest.mark.native
def test_every_threat_row_of_security_md_has_a_test() -> None:
    text = (DOCS / "security.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| [CGSKPW]\d+ \|", line)]
    assert len(rows) >= 50
    for row in rows:
        assert "test_" in row, f"no test named for: {row[:60]}"


@pytest.mark.native
def test_cli_page_names_only_mounted_verbs() -> None:
    """Each verb in the tables of docs/cli.md is a command of `zkhealth`."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    verbs = re.findall(r"^\| `([a-z0-9]+(?: [a-z0-9]+(?=[ `]))*)", text, flags=re.MULTILINE)
    assert len(verbs) >= 15
    for verb in verbs:
        command = main
        for word in verb.split():
            commands = getattr(command, "commands", {})
            assert word in commands, f"docs/cli.md documents `zkhealth {verb}`, which does not exist"
            command = commands[word]
