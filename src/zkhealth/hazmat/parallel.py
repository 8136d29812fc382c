"""A small, reusable process pool for splitting heavy arithmetic (MSM windows, proofs) across CPU cores.

Design
------
* :func:`default_workers` is ``os.cpu_count()`` capped at 2, unless the environment variable
  ``ZKHEALTH_WORKERS`` sets another positive integer.
* Large read-only inputs (the MSM base points of a proving key) are *datasets*: :func:`register` stores one
  under an integer token in a module-level registry. Workers are started lazily with the ``fork`` start
  method on Linux and inherit every registered dataset through copy-on-write memory, at no cost. When a
  call needs a dataset registered after the workers were forked, the workers are forked again (a fork
  costs milliseconds; pickling a proving key's tables to them would cost about a second at 2^16). With
  the ``spawn`` start method (not Linux) a late dataset is pickled to each worker once and cached there.
  Later calls send only the token and the per-call arguments (scalars). The registry keeps at most
  :data:`MAX_DATASETS` entries; evicted tokens are dropped from the workers on their next message.
* :func:`run_tasks` is the dynamic scheduler: this process and the workers each take the next task from a
  counter in shared memory until none is left, so every process stays busy until the end whatever the
  tasks cost and however the machine's other load slows one of them down. Tasks come in *stages*; stage
  k > 0 may depend on an input this process computes first (a prover's quotient polynomial), and the
  workers work on earlier stages meanwhile. :func:`run_split` runs one fixed call per process.
* The pool is created on first use, reused by later calls, and shut down at interpreter exit (``atexit``).
  Code running inside a worker never starts a nested pool (:func:`in_worker`).

Workers run only functions of this package that the parent passes by reference; nothing here is exposed to
untrusted input. A worker exception is re-raised in the parent (or :class:`WorkerError` when it cannot be
pickled) and the pool is discarded. A worker process that dies during :func:`run_tasks` costs time, not the
result: this process computes the tasks the dead worker had taken.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import multiprocessing.connection
import os
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final

from zkhealth.errors import InvalidArgumentError, WorkerError

#: At most this many datasets stay registered (and cached in the workers).
MAX_DATASETS: Final[int] = 16
#: At most this many stages per :func:`run_tasks` call.
MAX_STAGES: Final[int] = 8

_REGISTRY: OrderedDict[int, Any] = OrderedDict()
_next_token = 1
_IN_WORKER = False
_LOCK = threading.RLock()
#: In a worker: the pool's shared task counters and their lock.
_SHARED: Any = None

#: ``func(dataset, common, stage_input, stage, index, memo)``: one task of :func:`run_tasks`.
TaskFunction = Callable[[Any, Any, Any, int, int, dict[Any, Any]], Any]


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

    Cost: O(1) now; a fork of the workers (or, without ``fork``, one pickling per worker) at the first
    parallel call that uses it.
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


def unregister(token: int) -> None:
    """Drop dataset ``token`` (if registered); the workers drop their copy on their next message."""
    with _LOCK:
        if _REGISTRY.pop(token, None) is not None and _POOL is not None:
            _POOL.forget(token)


def is_registered(token: int) -> bool:
    """Return True if ``token`` names a dataset that is still registered (not evicted)."""
    with _LOCK:
        return token in _REGISTRY


class _WorkerDied(WorkerError):
    """The pipe to a worker closed: the process is gone."""


class _Stopped(Exception):
    """The parent stopped this worker in the middle of a job."""


def _claim(counters: Any, lock: Any, stage: int) -> int:
    with lock:
        index = int(counters[stage])
        counters[stage] = index + 1
    return index


def _worker_job(conn: multiprocessing.connection.Connection, cache: dict[int, Any], message: Any) -> Any:
    """Serve one :func:`run_tasks` job: claim tasks stage by stage, waiting for each stage's input."""
    _, _, func, token, common, counts = message
    dataset = cache[token]
    counters, lock = _SHARED
    memo: dict[Any, Any] = {}
    done: dict[tuple[int, int], Any] = {}
    for stage, count in enumerate(counts):
        reply = conn.recv()
        if reply[0] == "stop":
            raise _Stopped
        if reply[0] != "stage" or reply[1] != stage:
            raise WorkerError("run_tasks: the parent abandoned the job")
        stage_input = reply[2]
        while True:
            index = _claim(counters, lock, stage)
            if index >= count:
                break
            done[(stage, index)] = func(dataset, common, stage_input, stage, index, memo)
    return done


def _worker_main(
    conn: multiprocessing.connection.Connection,
    inherited: bool,
    shared: Any,
    parent_end: multiprocessing.connection.Connection | None = None,
) -> None:
    """Serve requests from the parent until told to stop or the pipe closes.

    A forked worker first closes the parent's ends of the pipes it inherited (its own, ``parent_end``, and
    those of the pool's earlier workers): while it holds them, its own pipe never reports EOF, and a parent
    that ends without stopping the pool (killed, or ``os._exit``) would leave it waiting forever."""
    global _IN_WORKER, _SHARED
    _IN_WORKER = True
    _SHARED = shared
    if parent_end is not None:
        parent_end.close()
    if inherited and _POOL is not None:
        for other in _POOL.workers:
            other.conn.close()
    cache: dict[int, Any] = dict(_REGISTRY) if inherited else {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "stop":
            return
        if kind == "stage":  # the input of a stage of a job that already failed here: nothing to do
            continue
        for token in message[1]:  # tokens the parent evicted
            cache.pop(token, None)
        if kind == "data":
            cache[message[2]] = message[3]
            continue
        try:
            if kind == "job":
                result = ("ok", _worker_job(conn, cache, message))
            else:
                _, _, func, token, args = message
                result = ("ok", func(cache[token], *args))
        except _Stopped:
            return
        except BaseException as exc:  # noqa: BLE001 - forwarded to the parent, which re-raises it
            result = ("err", exc)
        try:
            conn.send(result)
        except Exception as exc:  # the exception or the result could not be pickled
            conn.send(("err", WorkerError(f"worker could not send its result: {type(exc).__name__}")))


class _Worker:
    def __init__(self, ctx: Any, shared: Any) -> None:
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        self.inherited = ctx.get_start_method() == "fork"
        # A forked child inherits this end of its pipe (and those of the workers forked before it); it closes
        # them first thing, or its pipe would never report the end of a parent that dies without stopping it.
        parent_end = parent_conn if self.inherited else None
        self.process = ctx.Process(
            target=_worker_main, args=(child_conn, self.inherited, shared, parent_end), daemon=True
        )
        if self.inherited:
            # Objects that exist now are shared with the child copy-on-write; freezing them keeps the
            # child's garbage collector from writing to (and so copying) every page that holds one. Unfrozen
            # after the fork unless the caller had frozen objects itself (``gc.unfreeze`` releases them all).
            frozen_before = gc.get_freeze_count()
            gc.freeze()
            try:
                self.process.start()
            finally:
                if not frozen_before:
                    gc.unfreeze()
        else:
            self.process.start()
        child_conn.close()
        self.conn: multiprocessing.connection.Connection = parent_conn
        self.known: set[int] = set(_REGISTRY) if self.inherited else set()
        self.drops: list[int] = []

    def ship(self, token: int) -> None:
        """Make sure this worker has dataset ``token`` (the caller re-forks inherited workers instead)."""
        if token not in self.known:
            self.conn.send(("data", self._take_drops(), token, _REGISTRY[token]))
            self.known.add(token)

    def send_task(self, func: Callable[..., Any], token: int, args: Sequence[Any]) -> None:
        self.ship(token)
        self.conn.send(("call", self._take_drops(), func, token, tuple(args)))

    def send_job(self, func: TaskFunction, token: int, common: Any, counts: Sequence[int]) -> None:
        self.ship(token)
        self.conn.send(("job", self._take_drops(), func, token, common, tuple(counts)))

    def _take_drops(self) -> list[int]:
        drops, self.drops = self.drops, []
        return drops

    def receive(self) -> Any:
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _WorkerDied("a worker process exited unexpectedly") from exc
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
        self.counters = self.ctx.RawArray("q", MAX_STAGES)
        self.lock = self.ctx.Lock()
        self.workers: list[_Worker] = []

    def ensure(self, count: int, token: int | None = None) -> list[_Worker]:
        """``count`` live workers that know dataset ``token`` (re-forking inherited workers that do not)."""
        for i, worker in enumerate(self.workers[:count]):
            if token is not None and worker.inherited and token not in worker.known:
                worker.stop()
                self.workers[i] = _Worker(self.ctx, (self.counters, self.lock))
        while len(self.workers) < count:
            self.workers.append(_Worker(self.ctx, (self.counters, self.lock)))
        return self.workers[:count]

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


def _pool() -> _Pool:
    global _POOL
    if _POOL is None:
        _POOL = _Pool()
    return _POOL


def run_split(func: Callable[..., Any], token: int, arg_tuples: Sequence[Sequence[Any]]) -> list[Any]:
    """Run ``func(dataset, *args)`` for every ``args`` in ``arg_tuples`` in parallel and return the results.

    The first call runs in this process, the rest in ``len(arg_tuples) - 1`` worker processes (created on
    first use and reused). ``func`` must be a module-level function; ``token`` comes from :func:`register`.
    Inside a worker, or with a single argument tuple, everything runs here sequentially.
    Raises the worker's exception (or :class:`WorkerError`); a failed pool is shut down and rebuilt later.
    """
    dataset = _REGISTRY[token]
    if len(arg_tuples) <= 1 or _IN_WORKER:
        return [func(dataset, *args) for args in arg_tuples]
    with _LOCK:
        remote = arg_tuples[1:]
        try:
            busy = _pool().ensure(len(remote), token)
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


class _Sender:
    """Sends stage inputs to the workers, in order, from one background thread."""

    def __init__(self, workers: list[_Worker], dead: set[_Worker]) -> None:
        self.workers = workers
        self.dead = dead
        self.queue: queue.SimpleQueue[tuple[int, Any] | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    def send(self, stage: int, value: Any) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="zkhealth-stage-sender", daemon=True)
            self.thread.start()
        self.queue.put((stage, value))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            for worker in self.workers:
                if worker in self.dead:
                    continue
                try:
                    worker.conn.send(("stage", item[0], item[1]))
                except Exception:  # noqa: BLE001 - a dead worker, or a pipe closed by abort(): skip it
                    self.dead.add(worker)

    def close(self) -> None:
        """Wait until every input has been sent (or found a dead worker)."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()

    def abort(self) -> None:
        """Let the thread end (the caller is about to close the pipes, which ends a blocked send)."""
        self.dead.update(self.workers)
        self.queue.put(None)


class TaskStats:
    """What one :func:`run_tasks` call did: tasks run here and in the workers, and how long this process
    waited for the workers at the end (its idle time; a worker's idle time is at most one task)."""

    __slots__ = ("local", "remote", "wait_seconds", "recomputed")

    def __init__(self) -> None:
        self.local = 0
        self.remote = 0
        self.wait_seconds = 0.0
        self.recomputed = 0


#: Statistics of the last :func:`run_tasks` call in this process (for benchmarks and tests).
last_stats = TaskStats()


def run_tasks(
    func: TaskFunction,
    token: int,
    common: Any,
    counts: Sequence[int],
    inputs: Sequence[Callable[[], Any]],
    *,
    workers: int,
    ready: Callable[[], bool] | None = None,
    memo: dict[Any, Any] | None = None,
    idle: Callable[[], None] | None = None,
) -> list[list[Any]]:
    """Run ``counts[k]`` tasks in each stage ``k``, spread dynamically over this process and ``workers - 1``
    worker processes; return ``results[k][i] = func(dataset, common, input_k, k, i, memo)``.

    ``inputs[k]()`` computes stage k's input in this process (``inputs[0]`` typically returns None). This
    process first sends the job and stage 0's input, then computes and sends the later stages' inputs
    (while the workers run stage 0), then takes tasks itself. Every process takes the next unclaimed task of
    the current stage from a shared counter, so the processes finish within about one task of each other.
    ``memo`` is a dict private to each process and call, for work that several tasks share (an MSM's
    scalar decomposition); pass ``memo`` to use a dict of the caller's as this process's (so that the stage
    inputs, computed here, can share work with this process's tasks). ``func`` must be a module-level
    function; ``common`` and the stage inputs are pickled to each worker once. With ``workers == 1`` or inside
    a worker everything runs here.

    ``ready`` (optional, non-blocking): whether stage 1's input can be computed without waiting (it comes
    from elsewhere, as the prover's quotient from a child process). Until it says so, this process takes
    stage 0's tasks instead of blocking in ``inputs[1]()``; it computes stage 1's input at the latest when
    stage 0 has no task left.
    ``idle`` (optional): called once in this process when no task is left to claim, before it waits for the
    workers' last results: work the caller needs next (the prover's self-check prepares its verifying key)
    then fills the time this process would otherwise wait. It must not raise. Not called without workers.
    Raises the first exception a task raises (the pool is then shut down).
    """
    global last_stats
    if len(counts) != len(inputs) or not 0 < len(counts) <= MAX_STAGES:
        raise InvalidArgumentError(f"run_tasks: one input per stage, 1 to {MAX_STAGES} stages")
    stats = TaskStats()
    last_stats = stats
    dataset = _REGISTRY[token]
    if memo is None:
        memo = {}
    if workers <= 1 or _IN_WORKER:
        results: list[list[Any]] = []
        for stage, (count, make_input) in enumerate(zip(counts, inputs, strict=True)):
            value = make_input()
            results.append([func(dataset, common, value, stage, i, memo) for i in range(count)])
        stats.local = sum(counts)
        return results
    with _LOCK:
        pool = _pool()
        sender: _Sender | None = None
        try:
            busy = pool.ensure(workers - 1, token)
            for stage in range(len(counts)):
                pool.counters[stage] = 0
            dead: set[_Worker] = set()
            values: list[Any] = [inputs[0]()]
            for worker in busy:
                try:
                    worker.send_job(func, token, common, counts)
                    worker.conn.send(("stage", 0, values[0]))
                except OSError:  # the worker died; its tasks will be computed here
                    dead.add(worker)
            # Later stages' inputs go out from a thread: a worker reads one only when it reaches that stage,
            # and until then a large input would block this process in the pipe instead of taking tasks.
            sender = _Sender(busy, dead)
            mine: dict[tuple[int, int], Any] = {}
            while ready is not None and len(counts) > 1 and not ready():
                index = _claim(pool.counters, pool.lock, 0)
                if index >= counts[0]:
                    break
                mine[(0, index)] = func(dataset, common, values[0], 0, index, memo)
            for stage in range(1, len(counts)):
                values.append(inputs[stage]())
                sender.send(stage, values[stage])
            for stage, count in enumerate(counts):
                while True:
                    index = _claim(pool.counters, pool.lock, stage)
                    if index >= count:
                        break
                    mine[(stage, index)] = func(dataset, common, values[stage], stage, index, memo)
            stats.local = len(mine)
            if idle is not None:
                idle()
            started = time.perf_counter()
            sender.close()
            alive = [worker for worker in busy if worker not in dead]
            lost = len(alive) < len(busy)
            for worker in alive:
                try:
                    theirs = worker.receive()
                except _WorkerDied:
                    lost = True
                    continue
                stats.remote += len(theirs)
                mine.update(theirs)
            stats.wait_seconds = time.perf_counter() - started
        except BaseException:
            if sender is not None:
                sender.abort()
            shutdown()
            raise
        if lost:
            # A worker process died: discard the pool and compute here the tasks it had taken.
            shutdown()
            for stage, count in enumerate(counts):
                for index in range(count):
                    if (stage, index) not in mine:
                        mine[(stage, index)] = func(dataset, common, values[stage], stage, index, memo)
                        stats.recomputed += 1
        return [[mine[(stage, i)] for i in range(count)] for stage, count in enumerate(counts)]


def shutdown() -> None:
    """Stop the worker processes (if any). The next parallel call starts fresh ones."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
        if pool is not None:
            pool.close()


atexit.register(shutdown)
