"""Running the heavy steps of a ceremony on several cores, with progress reports.

A ceremony step is a list of independent tasks (multiply a chunk of points, transform one domain of a
section); each task is a module-level function and arguments (bytes and ints, cheap to send). With one
worker the tasks run here in order. With more, a process pool (``fork`` on Linux, so nothing is
re-imported) takes them largest first and hands each to the next free process, reporting after each.
``progress(stage, done, total)`` is called with the cost units completed so far.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from zkhealth.errors import CeremonyError

#: ``progress(stage, done, total)``: a stage name and the work done so far, in arbitrary units.
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Task:
    """``func(*args)``, with an estimated ``cost`` (any unit, used to order the tasks and report progress)."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    cost: int


def default_workers() -> int:
    """The worker count the ceremony uses unless told otherwise (:mod:`zkhealth.hazmat.parallel`'s default)."""
    from zkhealth.hazmat.parallel import default_workers as hazmat_default
    from zkhealth.hazmat.parallel import in_worker

    return 1 if in_worker() else int(hazmat_default())


def check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise CeremonyError("workers must be a positive int")
    return workers


def run_tasks(
    tasks: Sequence[Task], *, workers: int, stage: str, progress: ProgressCallback | None = None
) -> list[Any]:
    """The results of ``tasks``, in order. Exceptions raised by a task propagate (the pool is shut down)."""
    total = sum(t.cost for t in tasks)
    done = 0

    def report() -> None:
        if progress is not None:
            progress(stage, done, total)

    report()
    results: list[Any] = [None] * len(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            results[i] = task.func(*task.args)
            done += task.cost
            report()
        return results
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=multiprocessing.get_context(method))
    try:
        pending: dict[Future[Any], int] = {}
        queue = list(order)
        # Keep each process busy with one task and one queued, so none waits for the parent.
        while queue and len(pending) < 2 * workers:
            i = queue.pop(0)
            pending[pool.submit(tasks[i].func, *tasks[i].args)] = i
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                results[i] = future.result()
                done += tasks[i].cost
                report()
                if queue:
                    j = queue.pop(0)
                    pending[pool.submit(tasks[j].func, *tasks[j].args)] = j
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # a task failed: drop the queued ones, then re-raise
        raise
    pool.shutdown(wait=True)
    return results
