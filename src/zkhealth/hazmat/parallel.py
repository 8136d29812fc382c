"""A small, reusable process pool for splitting heavy arithmetic (MSM windows) across CPU cores.

Design
------
* :func:`default_workers` is ``os.cpu_count()`` capped at 2, unless the environment variable
  ``ZKHEALTH_WORKERS`` sets another positive integer.
* :func:`run_split` runs ``func(dataset, *args)`` once per argument tuple: the first tuple in the calling
  process, the others in worker processes, all at the same time. With ``workers=2`` there is therefore one
  child process, and the parent does its own share instead of idling.
* Large read-only inputs (the MSM base points) are *datasets*: :func:`register` stores one under an integer
  token in a module-level registry. Workers are started lazily with the ``fork`` start method on Linux, so
  every dataset registered before the first parallel call reaches them through copy-on-write memory at no
  cost. A dataset registered later is pickled to each worker once and cached there under its token; later
  calls send only the token and the per-call arguments (scalars). The registry keeps at most
  :data:`MAX_DATASETS` entries; evicted tokens are dropped from the workers on their next message.
* The pool is created on first use, reused by later calls, and shut down at interpreter exit (``atexit``).
  Code running inside a worker never starts a nested pool (:func:`in_worker`).

Workers run only functions of this package that the parent passes by reference; nothing here is exposed to
untrusted input. A worker failure raises :class:`WorkerError` in the parent (or re-raises the worker's
exception when it can be pickled), and the broken pool is discarded.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final

from zkhealth.errors import WorkerError

#: At most this many datasets stay registered (and cached in the workers).
MAX_DATASETS: Final[int] = 16

_REGISTRY: OrderedDict[int, Any] = OrderedDict()
_next_token = 1
_IN_WORKER = False
_LOCK = threading.RLock()


def default_workers() -> int:
    """Return the default worker count: ``ZKHEALTH_WORKERS`` if set (>= 1), else ``min(cpu_count, 2)``."""
    env = os.environ.get("ZKHEALTH_WORKERS")
    if env is not None and env.strip().isdigit() and int(env) >= 1:
        return int(env)
    return max(1, min(os.cpu_count() or 1, 2))


def in_worker() -> bool:
    """Return True inside a pool worker process (which must not start pools of its own)."""
    return _IN_WORKER


def register(data: Any) -> int:
    """Register a read-only dataset and return its token. The caller must not mutate ``data`` afterwards.

    Cost: O(1) now; one pickling per live worker later if the workers were started before this call.
    """
    global _next_token
    with _LOCK:
        token = _next_token
        _next_token += 1
        _REGISTRY[token] = data
        while len(_REGISTRY) > MAX_DATASETS:
            old, _ = _REGISTRY.popitem(last=False)
            if _POOL is not None:
                _POOL.forget(old)
        return token


def is_registered(token: int) -> bool:
    """Return True if ``token`` names a dataset that is still registered (not evicted)."""
    with _LOCK:
        return token in _REGISTRY


def _worker_main(conn: multiprocessing.connection.Connection, inherited: bool) -> None:
    """Serve requests from the parent until told to stop or the pipe closes."""
    global _IN_WORKER
    _IN_WORKER = True
    cache: dict[int, Any] = dict(_REGISTRY) if inherited else {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "stop":
            return
        for token in message[1]:  # tokens the parent evicted
            cache.pop(token, None)
        if kind == "data":
            cache[message[2]] = message[3]
            continue
        _, _, func, token, args = message
        try:
            result = ("ok", func(cache[token], *args))
        except BaseException as exc:  # noqa: BLE001 - forwarded to the parent, which re-raises it
            result = ("err", exc)
        try:
            conn.send(result)
        except Exception as exc:  # the exception or the result could not be pickled
            conn.send(("err", WorkerError(f"worker could not send its result: {type(exc).__name__}")))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        inherited = ctx.get_start_method() == "fork"
        self.process = ctx.Process(target=_worker_main, args=(child_conn, inherited), daemon=True)
        self.process.start()
        child_conn.close()
        self.conn: multiprocessing.connection.Connection = parent_conn
        self.known: set[int] = set(_REGISTRY) if inherited else set()
        self.drops: list[int] = []

    def send_task(self, func: Callable[..., Any], token: int, args: Sequence[Any]) -> None:
        if token not in self.known:
            self.conn.send(("data", self._take_drops(), token, _REGISTRY[token]))
            self.known.add(token)
        self.conn.send(("call", self._take_drops(), func, token, tuple(args)))

    def _take_drops(self) -> list[int]:
        drops, self.drops = self.drops, []
        return drops

    def receive(self) -> Any:
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError("a worker process exited unexpectedly") from exc
        if status == "ok":
            return payload
        if isinstance(payload, BaseException):
            raise payload
        raise WorkerError("a worker process failed")

    def stop(self) -> None:
        try:
            self.conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self.process.join(timeout=2.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2.0)
        self.conn.close()


class _Pool:
    def __init__(self) -> None:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.ctx = multiprocessing.get_context(method)
        self.workers: list[_Worker] = []

    def ensure(self, count: int) -> None:
        while len(self.workers) < count:
            self.workers.append(_Worker(self.ctx))

    def forget(self, token: int) -> None:
        for worker in self.workers:
            if token in worker.known:
                worker.known.discard(token)
                worker.drops.append(token)

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.stop()


_POOL: _Pool | None = None


def run_split(func: Callable[..., Any], token: int, arg_tuples: Sequence[Sequence[Any]]) -> list[Any]:
    """Run ``func(dataset, *args)`` for every ``args`` in ``arg_tuples`` in parallel and return the results.

    The first call runs in this process, the rest in ``len(arg_tuples) - 1`` worker processes (created on
    first use and reused). ``func`` must be a module-level function; ``token`` comes from :func:`register`.
    Inside a worker, or with a single argument tuple, everything runs here sequentially.
    Raises the worker's exception (or :class:`WorkerError`); a failed pool is shut down and rebuilt later.
    """
    global _POOL
    dataset = _REGISTRY[token]
    if len(arg_tuples) <= 1 or _IN_WORKER:
        return [func(dataset, *args) for args in arg_tuples]
    with _LOCK:
        if _POOL is None:
            _POOL = _Pool()
        pool = _POOL
        remote = arg_tuples[1:]
        try:
            pool.ensure(len(remote))
            busy = pool.workers[: len(remote)]
            for worker, args in zip(busy, remote, strict=True):
                worker.send_task(func, token, args)
            local = func(dataset, *arg_tuples[0])
            results = [local]
            for worker in busy:
                results.append(worker.receive())
        except BaseException:
            shutdown()
            raise
        return results


def shutdown() -> None:
    """Stop the worker processes (if any). The next parallel call starts fresh ones."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
        if pool is not None:
            pool.close()


atexit.register(shutdown)
