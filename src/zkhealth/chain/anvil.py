"""Start and stop a local anvil node (npm ``@foundry-rs/anvil``, pinned in verifier_contracts/package.json).

Used by the tests and the gas benchmark as the real-node path; anvil answers a 4-pair ecPairing in ~5 ms.
The node listens on 127.0.0.1 only, on a free port, and is always stopped (terminate, then kill).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from zkhealth.errors import ChainError

_PLATFORM_PACKAGES = {
    ("linux", "x86_64"): "anvil-linux-amd64",
    ("linux", "aarch64"): "anvil-linux-arm64",
    ("darwin", "x86_64"): "anvil-darwin-amd64",
    ("darwin", "arm64"): "anvil-darwin-arm64",
}


def find_anvil() -> str | None:
    """Path of an anvil binary: ``$ZKHEALTH_ANVIL``, the pinned npm package's binary in the source checkout,
    or ``anvil`` on PATH. None when there is none."""
    explicit = os.environ.get("ZKHEALTH_ANVIL")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    system = os.uname().sysname.lower()
    package = _PLATFORM_PACKAGES.get((system, os.uname().machine))
    if package is not None:
        here = Path(__file__).resolve()
        for parent in here.parents:
            candidate = parent / "verifier_contracts" / "node_modules" / "@foundry-rs" / package / "bin" / "anvil"
            if candidate.is_file():
                return str(candidate)
    return shutil.which("anvil")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AnvilNode:
    """A running anvil process. Use as a context manager; ``url`` is its JSON-RPC endpoint."""

    def __init__(self, *, binary: str | None = None, port: int | None = None, startup_timeout: float = 20.0):
        found = binary or find_anvil()
        if found is None:
            raise ChainError("anvil not found: run `npm ci` in verifier_contracts/ or set ZKHEALTH_ANVIL")
        self.binary = found
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> AnvilNode:
        """Launch anvil and wait until it answers ``eth_chainId``. Raises :class:`ChainError` on failure."""
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise ChainError(f"anvil exited early: {err.strip()[:500]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ChainError(f"anvil did not start within {self._timeout} s")

    def stop(self) -> None:
        """Terminate the process (kill after 5 s). Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.terminate()
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        finally:
            if process.stderr is not None:
                process.stderr.close()

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def rpc(w3: Any, method: str, params: list[Any] | None = None) -> Any:
    """A raw JSON-RPC call (``evm_snapshot``, ``evm_revert``, ``evm_mine``...). Raises :class:`ChainError`."""
    response = w3.provider.make_request(method, params or [])
    if "error" in response:
        raise ChainError(f"{method} failed: {response['error']}")
    return response["result"]
