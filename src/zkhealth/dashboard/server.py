"""Serving the dashboard with uvicorn: in the foreground (:func:`serve`, what ``zkhealth serve`` runs) or in a
background thread (:class:`RunningServer`, for tests and embedding), always on a socket this module binds itself
after :func:`~zkhealth.dashboard.security.check_bind` has accepted the address."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

import uvicorn

from zkhealth.dashboard.app import create_app
from zkhealth.dashboard.security import check_bind, is_loopback
from zkhealth.dashboard.source import DashboardSource
from zkhealth.errors import InvalidArgumentError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "RunningServer", "bind_socket", "serve", "url_of"]

DEFAULT_HOST: Final[str] = "127.0.0.1"
DEFAULT_PORT: Final[int] = 8000
_LOOPBACK_NAMES: Final[tuple[str, ...]] = ("127.0.0.1", "localhost", "::1", "[::1]")


def bind_socket(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port), after the bind rule. Raises
    :class:`InvalidArgumentError` for a refused address or a port in use."""
    check_bind(host, allow_remote=allow_remote)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
        raise InvalidArgumentError("the port must be an int in [0, 65535]")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise InvalidArgumentError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _allowed_hosts(host: str, allow_remote: bool) -> tuple[str, ...]:
    if allow_remote and not is_loopback(host):
        return ("*",)
    return tuple(dict.fromkeys((*_LOOPBACK_NAMES, host.strip("[]"))))


def _server(source: DashboardSource, host: str, allow_remote: bool, log_level: str) -> uvicorn.Server:
    app = create_app(source, allowed_hosts=_allowed_hosts(host, allow_remote))
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", server_header=False,
                            date_header=False)
    return uvicorn.Server(config)


def url_of(sock: socket.socket) -> str:
    """``http://host:port/`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    source: DashboardSource,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allow_remote: bool = False,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the dashboard until interrupted (Ctrl-C). ``on_ready(url)`` is called once the socket listens."""
    sock = bind_socket(host, port, allow_remote=allow_remote)
    server = _server(source, host, allow_remote, log_level)
    if on_ready is not None:
        on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class RunningServer:
    """The dashboard served from a background thread, as a context manager: ``with RunningServer(source) as
    server: server.url``. Binds 127.0.0.1 on a free port by default; leaving the block stops the server and
    joins its thread."""

    def __init__(self, source: DashboardSource, *, host: str = DEFAULT_HOST, port: int = 0,
                 allow_remote: bool = False, start_timeout: float = 30.0) -> None:
        self._sock = bind_socket(host, port, allow_remote=allow_remote)
        self._server = _server(source, host, allow_remote, "warning")
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="zkhealth-dashboard", daemon=True)
        self._timeout = start_timeout
        self.url = url_of(self._sock)

    def __enter__(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InvalidArgumentError("the dashboard server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (at most 10 s)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
