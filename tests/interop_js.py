"""Running the independent JavaScript implementations in tests/js (installed by ``npm ci --prefix tests/js``).

A missing tool fails the test under CI (``CI=true``) and skips it on a developer machine, with the install
command in the message, as the snarkjs tests do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"


def require_js(package: str) -> None:
    """Skip (or fail under CI) unless node and ``tests/js/node_modules/<package>`` are installed."""
    if (JS_DIR / "node_modules" / package).exists() and shutil.which("node"):
        return
    message = f"tests/js/node_modules/{package} is missing; install it with: npm ci --prefix tests/js"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_node(script: str, request: Any, *, timeout: float = 120) -> Any:
    """Run ``node tests/js/<script>`` with ``request`` as JSON on stdin; return its stdout parsed as JSON."""
    completed = subprocess.run(
        ["node", str(JS_DIR / script)],
        input=json.dumps(request).encode("utf-8"),
        capture_output=True,
        timeout=timeout,
        cwd=JS_DIR,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"node {script} failed: {completed.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(completed.stdout)
