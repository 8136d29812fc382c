"""The process pool's dynamic task scheduler (zkhealth.hazmat.parallel.run_tasks) and the MSM's part API."""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest

from zkhealth.errors import InputLengthError, InvalidArgumentError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat import msm, parallel
from zkhealth.hazmat.bn254 import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul

pytestmark = pytest.mark.native


def _square_task(dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]) -> Any:
    time.sleep(0.005)  # long enough for both processes to take tasks
    memo["calls"] = memo.get("calls", 0) + 1
    offset = 0 if stage_input is None else stage_input
    return (dataset[index] * common + offset, stage, os.getpid(), memo["calls"])


def _failing_task(dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]) -> Any:
    if index == common:
        raise InvalidArgumentError(f"task {index} refuses")
    return index


def _dying_task(dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]) -> Any:
    if parallel.in_worker() and index == common:
        os._exit(3)  # the worker process dies without a word
    return (stage, index)


def test_run_tasks_spreads_stages_over_both_processes() -> None:
    token = parallel.register(list(range(40)))
    produced: list[int] = []

    def later() -> int:
        produced.append(1)
        return 1000

    stage0, stage1 = parallel.run_tasks(_square_task, token, 3, [40, 25], [lambda: None, later], workers=2)
    assert [r[0] for r in stage0] == [3 * i for i in range(40)]
    assert [r[0] for r in stage1] == [3 * i + 1000 for i in range(25)]
    assert all(r[1] == 0 for r in stage0) and all(r[1] == 1 for r in stage1)
    assert produced == [1]  # stage inputs are computed once, here
    stats = parallel.last_stats
    assert stats.local + stats.remote == 65 and stats.recomputed == 0
    assert stats.local > 0 and stats.remote > 0
    pool = parallel._POOL
    assert pool is not None
    pids = {r[2] for r in stage0 + stage1}
    assert pids == {os.getpid(), pool.workers[0].process.pid}
    # memo is per process and per call: its counters restart in each process
    for pid in pids:
        calls = sorted(r[3] for r in stage0 + stage1 if r[2] == pid)
        assert calls == list(range(1, len(calls) + 1))
    parallel.shutdown()


@pytest.mark.parametrize("ready_after", [3, 10**9])
def test_stage_one_input_waits_for_ready_while_this_process_works(ready_after: int) -> None:
    """With ``ready``, this process takes stage-0 tasks until ready() says stage 1's input will not block
    (or stage 0 has no task left), then computes it once; the results are those of the plain schedule."""
    token = parallel.register(list(range(40)))
    polls: list[int] = []
    done_here: list[int] = []

    def ready() -> bool:
        polls.append(1)
        return len(polls) > ready_after

    def later() -> int:
        done_here.append(len(_MINE))
        return 1000

    _MINE.clear()
    stage0, stage1 = parallel.run_tasks(_mine_task, token, 3, [40, 25], [lambda: None, later], workers=2, ready=ready)
    assert [r[0] for r in stage0] == [3 * i for i in range(40)]
    assert [r[0] for r in stage1] == [3 * i + 1000 for i in range(25)]
    assert len(done_here) == 1
    here_before_input = done_here[0]
    if ready_after == 3:
        assert len(polls) == 4 and here_before_input == 3  # three tasks, then the input
    else:
        assert here_before_input == len(polls) - 1 > 0  # every stage-0 task it could take, then the input
    assert parallel.last_stats.local + parallel.last_stats.remote == 65
    parallel.shutdown()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_callers_memo_is_this_processs_memo(workers: int) -> None:
    """``memo=``: this process's tasks use the caller's dict, so a stage input computed here (with the same
    dict) shares work with them; a worker's tasks keep their own."""
    token = parallel.register(list(range(30)))
    memo: dict[Any, Any] = {"calls": 100}
    stage0, stage1 = parallel.run_tasks(
        _square_task, token, 2, [20, 10], [lambda: None, lambda: memo.setdefault("input", 7)], workers=workers,
        memo=memo,
    )
    here = [r for r in stage0 + stage1 if r[2] == os.getpid()]
    there = [r for r in stage0 + stage1 if r[2] != os.getpid()]
    assert here and memo["calls"] == 100 + len(here) and memo["input"] == 7
    assert sorted(r[3] for r in here) == list(range(101, 101 + len(here)))
    assert sorted(r[3] for r in there) == list(range(1, 1 + len(there)))  # a worker's own memo
    assert [r[0] for r in stage1] == [2 * i + 7 for i in range(10)]
    parallel.shutdown()


@pytest.mark.parametrize("workers", [1, 2])
def test_idle_runs_once_here_after_the_last_claim(workers: int) -> None:
    """``idle`` runs once, in this process, after every task is claimed (this process's own are done), before
    the workers' results are collected; the results are those of the plain schedule. Without workers there
    is nothing to wait for, and it is not called."""
    token = parallel.register(list(range(30)))
    calls: list[tuple[int, int, int]] = []
    pool_counters: list[int] = []

    def idle() -> None:
        pool = parallel._POOL
        assert pool is not None
        pool_counters.extend(pool.counters[:2])
        calls.append((os.getpid(), len(_MINE), parallel.last_stats.remote))

    _MINE.clear()
    stage0, stage1 = parallel.run_tasks(
        _mine_task, token, 3, [20, 10], [lambda: None, lambda: 1000], workers=workers, idle=idle
    )
    assert [r[0] for r in stage0] == [3 * i for i in range(20)]
    assert [r[0] for r in stage1] == [3 * i + 1000 for i in range(10)]
    if workers == 1:
        assert calls == []
    else:
        assert len(calls) == 1 and calls[0][0] == os.getpid()
        # every task had been claimed (each counter past its stage's count), none collected from the worker
        assert pool_counters[0] >= 20 and pool_counters[1] >= 10 and calls[0][2] == 0
        assert parallel.last_stats.local + parallel.last_stats.remote == 30
    parallel.shutdown()


#: Stage-0 tasks this process ran (a worker appends to its own copy).
_MINE: list[int] = []


def _mine_task(dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]) -> Any:
    time.sleep(0.005)
    if not parallel.in_worker():
        _MINE.append(index)
    offset = 0 if stage_input is None else stage_input
    return (dataset[index] * common + offset, stage)


def _pid_task(dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]) -> Any:
    time.sleep(0.01)
    return (stage, os.getpid(), 0 if stage_input is None else len(stage_input))


def test_large_stage_input_does_not_stop_this_process() -> None:
    """A stage input far larger than a pipe's buffer goes out from a thread: this process still takes
    stage-0 tasks while the worker, busy with stage 0, has not read it yet."""
    token = parallel.register(None)
    big = list(range(300_000))
    stage0, stage1 = parallel.run_tasks(_pid_task, token, None, [40, 6], [lambda: None, lambda: big], workers=2)
    assert {r[1] for r in stage0} == {os.getpid(), parallel._POOL.workers[0].process.pid}  # type: ignore[union-attr]
    assert all(r[2] == len(big) for r in stage1)
    parallel.shutdown()


def _parent_fails_task(
    dataset: Any, common: Any, stage_input: Any, stage: int, index: int, memo: dict[Any, Any]
) -> int:
    time.sleep(0.01)
    if not parallel.in_worker():
        raise InvalidArgumentError("this process gives up")
    return index


def test_failure_while_a_large_input_is_in_flight_leaves_no_thread() -> None:
    import threading

    token = parallel.register(None)
    big = list(range(300_000))
    with pytest.raises(InvalidArgumentError, match="gives up"):
        parallel.run_tasks(_parent_fails_task, token, None, [40, 4], [lambda: None, lambda: big], workers=2)
    deadline = time.monotonic() + 5
    while any(t.name == "zkhealth-stage-sender" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "zkhealth-stage-sender" for t in threading.enumerate())
    (again,) = parallel.run_tasks(_pid_task, token, None, [4], [lambda: None], workers=2)
    assert len(again) == 4
    parallel.shutdown()


def test_run_tasks_single_process_and_inside_worker() -> None:
    token = parallel.register([5, 6, 7])
    (results,) = parallel.run_tasks(_square_task, token, 2, [3], [lambda: 1], workers=1)
    assert [r[0] for r in results] == [11, 13, 15]
    assert {r[2] for r in results} == {os.getpid()}
    assert parallel.last_stats.local == 3 and parallel.last_stats.remote == 0
    (empty,) = parallel.run_tasks(_square_task, token, 2, [0], [lambda: None], workers=2)
    assert empty == []
    parallel.shutdown()


def test_run_tasks_rejects_bad_stage_lists() -> None:
    token = parallel.register([1])
    with pytest.raises(InvalidArgumentError):
        parallel.run_tasks(_square_task, token, 1, [1, 1], [lambda: None], workers=2)
    with pytest.raises(InvalidArgumentError):
        parallel.run_tasks(_square_task, token, 1, [], [], workers=2)


def test_run_tasks_reraises_a_task_exception_from_either_process() -> None:
    token = parallel.register(None)
    for bad in (0, 7, 29):
        with pytest.raises(InvalidArgumentError, match="refuses"):
            parallel.run_tasks(_failing_task, token, bad, [30], [lambda: None], workers=2)
    # the pool was discarded and works again
    (ok,) = parallel.run_tasks(_failing_task, token, -1, [30], [lambda: None], workers=2)
    assert ok == list(range(30))
    parallel.shutdown()


def test_run_tasks_survives_a_worker_that_dies() -> None:
    token = parallel.register(None)
    for victim in (0, 5, 19):
        stage0, stage1 = parallel.run_tasks(_dying_task, token, victim, [20, 4], [lambda: None, lambda: 1], workers=2)
        assert stage0 == [(0, i) for i in range(20)]
        assert stage1 == [(1, i) for i in range(4)]
    parallel.shutdown()


def test_run_tasks_parent_failure_in_a_stage_input_stops_the_worker() -> None:
    token = parallel.register(list(range(10)))

    def broken() -> int:
        raise InvalidArgumentError("no input")

    with pytest.raises(InvalidArgumentError, match="no input"):
        parallel.run_tasks(_square_task, token, 1, [10, 10], [lambda: None, broken], workers=2)
    (again,) = parallel.run_tasks(_square_task, token, 1, [10], [lambda: None], workers=2)
    assert [r[0] for r in again] == list(range(10))
    parallel.shutdown()


def test_late_dataset_reaches_an_existing_worker() -> None:
    first = parallel.register(list(range(8)))
    parallel.run_tasks(_square_task, first, 1, [8], [lambda: None], workers=2)
    pool = parallel._POOL
    assert pool is not None
    old_pid = pool.workers[0].process.pid
    late = parallel.register([10 * i for i in range(8)])  # registered after the worker was started
    (results,) = parallel.run_tasks(_square_task, late, 1, [8], [lambda: None], workers=2)
    assert [r[0] for r in results] == [10 * i for i in range(8)]
    assert pool.workers[0].process.pid != old_pid  # re-forked: it inherited the late dataset
    parallel.unregister(late)
    assert not parallel.is_registered(late)
    parallel.unregister(late)  # twice is harmless
    parallel.shutdown()


# --------------------------------------------------------------------------- the MSM's parts


def _g1_points(count: int) -> tuple[list[Any], list[int]]:
    rng = random.Random(count)
    logs = [rng.randrange(1, FIELD_R) for _ in range(count)]
    return [g1_mul(G1_GENERATOR, k) for k in logs], logs


def test_msm_parts_sum_to_the_msm_for_any_window_split() -> None:
    points, logs = _g1_points(60)
    scalars = [0, 1, 2, FIELD_R - 1, FIELD_R - 2, 1 << 200, *(random.Random(3).randrange(FIELD_R) for _ in range(54))]
    expected = g1_mul(G1_GENERATOR, sum(a * k for a, k in zip(logs, scalars, strict=True)) % FIELD_R)
    bases = msm.prepare_g1(points)
    plan = msm.plan_msm(bases, scalars)
    assert plan.ones == [4]  # the scalar 1 of point 1 (variant code 4 * 1)
    for cuts in ([0, plan.windows], [0, 1, plan.windows], [0, 2, 3, plan.windows - 1, plan.windows]):
        parts = [msm.msm_ones(bases, plan)]
        parts += [msm.msm_windows(bases, plan, lo, hi) for lo, hi in zip(cuts, cuts[1:], strict=False)]
        assert msm.to_affine(msm.add_points("g1", parts)) == expected
    assert msm.msm_windows(bases, plan, 3, 3) is None
    assert msm.msm_g1(points, scalars) == expected
    # Entry ranges of the same windows (the prover's finer last tasks) sum to those windows, for any count
    # of ranges, including more ranges than entries (the empty ones are None).
    whole = msm.msm_windows(bases, plan, 1, 3)
    for count in (2, 3, len(plan.codes) + 2):
        ranges = [msm.msm_windows(bases, plan, 1, 3, part, count) for part in range(count)]
        assert msm.to_affine(msm.add_points("g1", ranges)) == msm.to_affine(whole)
    assert msm.msm_windows(bases, plan, 1, 3, 0, len(plan.codes) + 2) is None  # range 0 is empty there
    # one range alone is not the whole (so the comparison above can fail)
    assert msm.to_affine(msm.msm_windows(bases, plan, 1, 3, 0, 2)) != msm.to_affine(whole)
    for part, count in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(InvalidArgumentError):
            msm.msm_windows(bases, plan, 1, 3, part, count)


def test_msm_parts_edge_inputs() -> None:
    points, _ = _g1_points(3)
    bases = msm.prepare_g1([None, *points])
    plan = msm.plan_msm(bases, [5, 0, 1, 0])  # the identity base and zero scalars drop out
    assert plan.codes == [] and plan.windows == 0 and plan.ones == [8]
    assert msm.to_affine(msm.add_points("g1", [msm.msm_ones(bases, plan)])) == points[1]
    empty = msm.plan_msm(msm.prepare_g1([]), [])
    assert msm.msm_ones(msm.prepare_g1([]), empty) is None
    assert msm.to_affine(msm.add_points("g1", [])) is None
    with pytest.raises(InputLengthError):
        msm.plan_msm(bases, [1, 2])
    g2 = [g2_mul(G2_GENERATOR, k) for k in (3, 5)]
    g2_bases = msm.prepare_g2(g2)
    g2_plan = msm.plan_msm(g2_bases, [FIELD_R - 1, 1])
    parts = [msm.msm_ones(g2_bases, g2_plan), msm.msm_windows(g2_bases, g2_plan, 0, g2_plan.windows)]
    assert msm.to_affine(msm.add_points("g2", parts)) == g2_mul(G2_GENERATOR, (5 - 3) % FIELD_R)


def test_prepare_checks_every_point_among_many() -> None:
    from zkhealth.errors import PointError, PointNotOnCurveError

    points, _ = _g1_points(40)
    assert msm.prepare_g1([*points, None]).present == bytes([1] * 40 + [0])
    with pytest.raises(PointNotOnCurveError):
        msm.prepare_g1([*points[:20], (1, 3), *points[20:]])
    with pytest.raises(PointError):
        msm.prepare_g1([*points, (True, 2)])
    with pytest.raises(PointError):
        msm.prepare_g1([*points, (points[0][0], points[0][1] + FIELD_Q)])
    g2 = [g2_mul(G2_GENERATOR, k) for k in (3, 5, 7)]
    assert msm.prepare_g2([None, *g2]).present == bytes([0, 1, 1, 1])
    second = g2[1]
    assert second is not None
    (x0, x1), (y0, y1) = second
    with pytest.raises(PointNotOnCurveError):
        msm.prepare_g2([g2[0], ((x0, x1), (y1, y0)), g2[2]])
    with pytest.raises(PointNotOnCurveError):
        msm.prepare_g2([g2[0], ((x0, x1), (y0, (y1 + 1) % FIELD_Q))])
    with pytest.raises(PointError):
        msm.prepare_g2([g2[0], ((x0, x1), y0)])  # type: ignore[list-item]


@pytest.mark.parametrize("c", [2, 3, 7, 8, 9, 10, 12, 13, 16])
def test_packed_digits_match_the_list_digits(c: int) -> None:
    """The whole-integer digit extraction (msm._Digits) gives exactly the buckets and signed codes of the
    list version, for every window, any entry range, and the extreme scalars (0, the offset alone, all ones)."""
    rng = random.Random(c)
    windows = msm._signed_window_count(127 if c % 2 else 254, c)
    top = 1 << (c * windows)
    offset = (1 << (c - 1)) * ((top - 1) // ((1 << c) - 1))
    kk = [rng.randrange(top) for _ in range(300)] + [0, offset, top - 1, offset - 1, offset + 1]
    codes = [rng.randrange(1 << 22) for _ in kk]
    digits = msm._Digits(codes, kk, c, windows)
    n = len(kk)
    for w in range(windows):
        assert digits.window(c, w, 0, n) == msm._window_entries(codes, kk, c, w)
        for start, stop in ((0, 1), (n - 1, n), (7, 150), (150, n)):
            assert digits.window(c, w, start, stop) == msm._window_entries(codes[start:stop], kk[start:stop], c, w)
    assert digits.window(c, 0, 5, 5) == ([], [])
    # a changed scalar changes some window's digits (the comparison above can fail)
    other = msm._Digits(codes, [kk[0] ^ 1, *kk[1:]], c, windows)
    assert other.window(c, 0, 0, 1) != digits.window(c, 0, 0, 1)


def test_plan_pickles_without_its_packed_digits() -> None:
    import pickle

    points, logs = _g1_points(40)
    scalars = [random.Random(9).randrange(FIELD_R) for _ in points]
    bases = msm.prepare_g1(points)
    plan = msm.plan_msm(bases, scalars)
    whole = msm.msm_windows(bases, plan, 0, plan.windows)
    assert plan.digits() is not None
    copy = pickle.loads(pickle.dumps(plan))
    assert copy._digits is None and copy.codes == plan.codes and copy.kk == plan.kk
    assert msm.to_affine(msm.msm_windows(bases, copy, 0, copy.windows)) == msm.to_affine(whole)
    expected = g1_mul(G1_GENERATOR, sum(a * k for a, k in zip(logs, scalars, strict=True)) % FIELD_R)
    assert msm.to_affine(msm.add_points("g1", [msm.msm_ones(bases, plan), whole])) == expected


def test_forking_the_worker_keeps_a_callers_frozen_objects_frozen() -> None:
    """The pool freezes the collector around fork (copy-on-write pages stay shared) and unfreezes after it,
    unless the caller had frozen objects itself (the CLI after loading a key): gc.unfreeze would release
    those too."""
    import gc

    parallel.shutdown()
    token = parallel.register(list(range(8)))
    assert gc.get_freeze_count() == 0
    parallel.run_tasks(_square_task, token, 2, [8], [lambda: None], workers=2)
    assert gc.get_freeze_count() == 0  # frozen only for the fork
    parallel.shutdown()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        stage0, = parallel.run_tasks(_square_task, token, 2, [8], [lambda: None], workers=2)
        assert [r[0] for r in stage0] == [2 * i for i in range(8)]
        assert gc.get_freeze_count() >= frozen
    finally:
        parallel.shutdown()
        gc.unfreeze()
        parallel.unregister(token)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our child, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_workers_end_when_their_parent_ends_without_stopping_them(tmp_path: Any) -> None:
    """A parent that dies without stopping its pool (killed, or ``os._exit`` without the exit handlers)
    must not leave its workers behind: each forked worker closes the parent's ends of the pipes it
    inherited, so its own pipe reports EOF. Two workers: the second inherited the first one's pipe too."""
    import subprocess
    import sys

    pid_file = tmp_path / "pids"
    code = (
        "import os, sys\n"
        "from zkhealth.hazmat import parallel\n"
        "token = parallel.register(list(range(8)))\n"
        "def task(dataset, common, stage_input, stage, index, memo):\n"
        "    return os.getpid()\n"
        "import __main__; __main__.task = task\n"
        "parallel.run_tasks(task, token, None, [8], [lambda: None], workers=3)\n"
        "with open(sys.argv[1], 'w') as out:\n"
        "    out.write(' '.join(str(w.process.pid) for w in parallel._POOL.workers))\n"
        "os._exit(0)\n"
    )
    # no pipes to the child: the workers inherit its standard streams
    subprocess.run(
        [sys.executable, "-c", code, str(pid_file)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True,
    )
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 2
    try:
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in pids)
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, 9)
