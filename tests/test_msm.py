"""MSM on BN254 G1/G2 against py_ecc.

Test points are generated with known discrete logs (P_i = a_i * G along a Fibonacci-like walk
a_{i+1} = a_i + a_{i-1}, which is cheap and has no small linear relations), so the expected MSM result is
``(sum k_i * a_i mod r) * G``: one py_ecc scalar multiplication, independent of the code under test.
Small cases are also checked against the naive sum of py_ecc multiplications.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as oracle

from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    InputLengthError,
    InvalidArgumentError,
    PointError,
    PointNotOnCurveError,
    ZkHealthError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat import msm as msm_module
from zkhealth.hazmat import parallel
from zkhealth.hazmat.msm import msm_g1, msm_g2, window_bits

pytestmark = pytest.mark.native

R = FIELD_R


def _g1_affine(p: Any) -> tuple[int, int] | None:
    if oracle.is_inf(p):
        return None
    x, y = oracle.normalize(p)
    return (int(x.n), int(y.n))


def _g2_affine(p: Any) -> tuple[tuple[int, int], tuple[int, int]] | None:
    if oracle.is_inf(p):
        return None
    x, y = oracle.normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def _walk(generator: Any, count: int, seed: int) -> tuple[list[Any], list[int]]:
    """Points with known discrete logs: a_0, a_1 random, a_{i+1} = a_i + a_{i-1}."""
    rnd = random.Random(seed)
    a0, a1 = rnd.randrange(1, R), rnd.randrange(1, R)
    p0, p1 = oracle.multiply(generator, a0), oracle.multiply(generator, a1)
    points, logs = [], []
    for _ in range(count):
        points.append(p0)
        logs.append(a0)
        p0, p1 = p1, oracle.add(p0, p1)
        a0, a1 = a1, (a0 + a1) % R
    return points, logs


_G1_CACHE: dict[int, tuple[list[Any], list[int]]] = {}
_G2_CACHE: dict[int, tuple[list[Any], list[int]]] = {}


def g1_points(count: int) -> tuple[list[tuple[int, int] | None], list[int]]:
    if count not in _G1_CACHE:
        pts, logs = _walk(oracle.G1, count, seed=count)
        _G1_CACHE[count] = ([_g1_affine(p) for p in pts], logs)
    pts, logs = _G1_CACHE[count]
    return list(pts), list(logs)


def g2_points(count: int) -> tuple[list[Any], list[int]]:
    if count not in _G2_CACHE:
        pts, logs = _walk(oracle.G2, count, seed=1000 + count)
        _G2_CACHE[count] = ([_g2_affine(p) for p in pts], logs)
    pts, logs = _G2_CACHE[count]
    return list(pts), list(logs)


def expected_g1(logs: list[int], scalars: list[int]) -> tuple[int, int] | None:
    return _g1_affine(oracle.multiply(oracle.G1, sum(a * k for a, k in zip(logs, scalars, strict=True)) % R))


def expected_g2(logs: list[int], scalars: list[int]) -> Any:
    return _g2_affine(oracle.multiply(oracle.G2, sum(a * k for a, k in zip(logs, scalars, strict=True)) % R))


def mixed_scalars(count: int, seed: int) -> list[int]:
    rnd = random.Random(seed)
    return [rnd.choice([0, 1, 2, R - 1, R - 2, rnd.randrange(R), rnd.randrange(1 << 64)]) for _ in range(count)]


# --------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("count", [1, 2, 3, 17, 100, 300])
def test_g1_random_sizes(count: int) -> None:
    points, logs = g1_points(count)
    rnd = random.Random(count)
    scalars = [rnd.randrange(R) for _ in range(count)]
    assert msm_g1(points, scalars) == expected_g1(logs, scalars)
    scalars = mixed_scalars(count, count)
    assert msm_g1(points, scalars) == expected_g1(logs, scalars)


@pytest.mark.parametrize("count", [1, 2, 3, 17])
def test_g1_against_naive_py_ecc_sum(count: int) -> None:
    points, _ = g1_points(count)
    scalars = mixed_scalars(count, 7 + count)
    naive = oracle.Z1
    for p, k in zip(points, scalars, strict=True):
        assert p is not None
        naive = oracle.add(naive, oracle.multiply((oracle.FQ(p[0]), oracle.FQ(p[1]), oracle.FQ.one()), k))
    assert msm_g1(points, scalars) == _g1_affine(naive)


@pytest.mark.parametrize("count", [1, 2, 3, 17, 60])
def test_g2_random_sizes(count: int) -> None:
    points, logs = g2_points(count)
    scalars = mixed_scalars(count, 100 + count)
    assert msm_g2(points, scalars) == expected_g2(logs, scalars)


def test_g2_against_naive_py_ecc_sum() -> None:
    points, _ = g2_points(3)
    scalars = [5, R - 1, 123456789]
    naive = oracle.Z2
    for p, k in zip(points, scalars, strict=True):
        x, y = p
        jac = (oracle.FQ2(list(x)), oracle.FQ2(list(y)), oracle.FQ2.one())
        naive = oracle.add(naive, oracle.multiply(jac, k))
    assert msm_g2(points, scalars) == _g2_affine(naive)


def test_trivial_scalars_and_identities() -> None:
    points, logs = g1_points(17)
    assert msm_g1([], []) is None
    assert msm_g1(points, [0] * 17) is None
    assert msm_g1([None, None], [5, 1]) is None
    ones = [1] * 17
    assert msm_g1(points, ones) == expected_g1(logs, ones)
    with_none = points[:5] + [None] + points[6:]
    scalars = mixed_scalars(17, 3)
    logs_none = logs[:5] + [0] + logs[6:]
    assert msm_g1(with_none, scalars) == expected_g1(logs_none, scalars)
    g = points[0]
    assert g is not None
    assert msm_g1([g], [1]) == g
    assert msm_g1([g], [R - 1]) == (g[0], FIELD_Q - g[1])


def test_duplicates_and_opposite_points() -> None:
    """Equal points in one bucket (doubling) and P, -P pairs (cancellation) inside batched additions."""
    points, logs = g1_points(5)
    p = points[1]
    assert p is not None
    neg = (p[0], FIELD_Q - p[1])
    dup_points = [p] * 40 + [neg] * 40 + points
    dup_logs = [logs[1]] * 40 + [(-logs[1]) % R] * 40 + logs
    for scalars in ([7] * 85, [7] * 40 + [7] * 40 + [1, 2, 3, 4, 5], [3] * 80 + [0] * 5):
        assert msm_g1(dup_points, scalars) == expected_g1(dup_logs, scalars)
    # everything cancels
    assert msm_g1([p, neg], [9, 9]) is None
    assert msm_g1([p, p], [5, R - 5]) is None
    assert msm_g1([p] * 64, [1] * 64) == expected_g1([logs[1]] * 64, [1] * 64)


def test_g2_duplicates_and_opposites() -> None:
    points, logs = g2_points(3)
    p = points[0]
    neg = (p[0], ((FIELD_Q - p[1][0]) % FIELD_Q, (FIELD_Q - p[1][1]) % FIELD_Q))
    pts = [p] * 20 + [neg] * 10 + points
    lg = [logs[0]] * 20 + [(-logs[0]) % R] * 10 + logs
    scalars = [11] * 30 + [1, 2, 3]
    assert msm_g2(pts, scalars) == expected_g2(lg, scalars)
    assert msm_g2([p, neg], [4, 4]) is None
    assert msm_g2(points, [0, 0, 0]) is None


def test_accepts_lists_and_reuses_cache_safely() -> None:
    points, logs = g1_points(100)
    scalars = mixed_scalars(100, 9)
    first = msm_g1(points, scalars)
    assert first == expected_g1(logs, scalars)
    # mutate the same list object: the cache must notice
    other, other_logs = g1_points(300)
    points[10] = other[200]
    logs[10] = other_logs[200]
    assert msm_g1(points, scalars) == expected_g1(logs, scalars)
    assert msm_g1([list(p) for p in points if p is not None], scalars) == expected_g1(logs, scalars)  # type: ignore[misc]


def test_cache_sees_in_place_mutation_of_list_points() -> None:
    points, logs = g1_points(100)
    as_lists = [list(p) for p in points if p is not None]
    scalars = mixed_scalars(100, 21)
    assert msm_g1(as_lists, scalars) == expected_g1(logs, scalars)  # type: ignore[arg-type]
    other, other_logs = g1_points(300)
    replacement = other[250]
    assert replacement is not None
    as_lists[3][0], as_lists[3][1] = replacement
    logs[3] = other_logs[250]
    assert msm_g1(as_lists, scalars) == expected_g1(logs, scalars)  # type: ignore[arg-type]


def test_window_bits_is_sane() -> None:
    assert 2 <= window_bits(1) <= 4
    assert window_bits(1 << 10) < window_bits(1 << 14) < window_bits(1 << 18)


def test_plan_window_follows_the_measured_widths() -> None:
    """The widths measured best on a quiet machine with both processes busy (msm.py's constants)."""
    from zkhealth.errors import InvalidArgumentError
    from zkhealth.hazmat import msm

    assert msm.plan_window("g1", 5_000) == 10  # the anchor's B1 (4,937 entries): c = 8 before, 14% slower
    assert msm.plan_window("g1", 20_000) == 11
    assert msm.plan_window("g1", 40_000) == msm.MAX_WINDOW_G1_BELOW == 11  # c = 12 spills the per-core cache
    assert msm.plan_window("g1", msm.WIDE_WINDOW_MIN_G1 - 1) == 11
    assert msm.plan_window("g1", msm.WIDE_WINDOW_MIN_G1) == msm.MAX_WINDOW_G1 == 12
    assert msm.plan_window("g1", 1 << 20) == 12
    assert msm.plan_window("g2", 1 << 16) == msm.MAX_WINDOW_G2 == 12  # the model alone picks 13
    assert msm.plan_window("g2", 2_400) == 9
    for entries in (1, 100, 3_000, 70_000):
        assert 2 <= msm.plan_window("g1", entries) <= 12 and 2 <= msm.plan_window("g2", entries) <= 12
    with pytest.raises(InvalidArgumentError):
        msm.plan_window("g3", 10)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.integers(0, R - 1), st.sampled_from([0, 1, 2, R - 1])), min_size=0, max_size=24))
def test_g1_hypothesis(scalars: list[int]) -> None:
    points, logs = g1_points(24)
    n = len(scalars)
    assert msm_g1(points[:n], scalars) == expected_g1(logs[:n], scalars)


# --------------------------------------------------------------------------- parallel path


def test_workers_two_equals_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msm_module, "PARALLEL_THRESHOLD", 8)
    points, logs = g1_points(300)
    scalars = mixed_scalars(300, 11)
    single = msm_g1(points, scalars, workers=1)
    assert single == expected_g1(logs, scalars)
    assert msm_g1(points, scalars, workers=2) == single
    # second call reuses the pool and the cached dataset; a new point list is shipped to the worker
    scalars2 = mixed_scalars(300, 12)
    assert msm_g1(points, scalars2, workers=2) == expected_g1(logs, scalars2)
    fresh = list(points)
    assert msm_g1(fresh, scalars2, workers=3) == expected_g1(logs, scalars2)
    g2pts, g2logs = g2_points(60)
    g2scalars = mixed_scalars(60, 13)
    assert msm_g2(g2pts, g2scalars, workers=2) == expected_g2(g2logs, g2scalars)
    parallel.shutdown()
    assert msm_g1(points, scalars, workers=2) == single
    parallel.shutdown()


def test_default_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZKHEALTH_WORKERS", raising=False)
    assert 1 <= parallel.default_workers() <= 2
    monkeypatch.setenv("ZKHEALTH_WORKERS", "3")
    assert parallel.default_workers() == 3
    monkeypatch.setenv("ZKHEALTH_WORKERS", "zero")
    assert 1 <= parallel.default_workers() <= 2


# --------------------------------------------------------------------------- invalid inputs


def test_rejects_bad_scalars() -> None:
    points, _ = g1_points(3)
    with pytest.raises(FieldRangeError):
        msm_g1(points, [1, 2, R])
    with pytest.raises(FieldRangeError):
        msm_g1(points, [1, -1, 2])
    with pytest.raises(FieldRangeError):
        msm_g1(points, [1, 2, R + 5])
    with pytest.raises(FieldTypeError):
        msm_g1(points, [1, True, 2])
    with pytest.raises(FieldTypeError):
        msm_g1(points, [1, 2.0, 2])  # type: ignore[list-item]
    with pytest.raises(FieldTypeError):
        msm_g1(points, [1, "2", 2])  # type: ignore[list-item]
    g2, _ = g2_points(1)
    with pytest.raises(FieldRangeError):
        msm_g2(g2, [R])


def test_rejects_length_mismatch() -> None:
    points, _ = g1_points(3)
    with pytest.raises(InputLengthError):
        msm_g1(points, [1, 2])
    with pytest.raises(InputLengthError):
        msm_g1(points[:2], [1, 2, 3])
    g2, _ = g2_points(2)
    with pytest.raises(InputLengthError):
        msm_g2(g2, [1])


def test_rejects_bad_points() -> None:
    with pytest.raises(PointNotOnCurveError):
        msm_g1([(1, 3)], [1])
    with pytest.raises(PointNotOnCurveError):
        msm_g1([(0, 0)], [2])
    with pytest.raises(PointError):
        msm_g1([(1, 2 + FIELD_Q)], [1])
    with pytest.raises(PointError):
        msm_g1([(1, -2)], [1])
    with pytest.raises(PointError):
        msm_g1([(1, 2, 3)], [1])  # type: ignore[list-item]
    with pytest.raises(PointError):
        msm_g1([(1.0, 2)], [1])  # type: ignore[list-item]
    g2, _ = g2_points(1)
    (x0, x1), (y0, y1) = g2[0]
    with pytest.raises(PointNotOnCurveError):
        msm_g2([((x0, x1), (y0, (y1 + 1) % FIELD_Q))], [1])
    with pytest.raises(PointError):
        msm_g2([((x0, x1 + FIELD_Q), (y0, y1))], [1])
    with pytest.raises(PointError):
        msm_g2([(1, 2)], [1])  # type: ignore[list-item]
    # a G1 point is not a G2 point
    with pytest.raises(PointError):
        msm_g2([(1, 2)], [0])  # type: ignore[list-item]


def test_rejects_bad_workers() -> None:
    points, _ = g1_points(2)
    for workers in (0, -1, True):
        with pytest.raises(InvalidArgumentError):
            msm_g1(points, [1, 2], workers=workers)
    assert issubclass(InvalidArgumentError, ZkHealthError)


# --------------------------------------------------------------------------- GLV endomorphism and chunking


def test_glv_constants_match_the_curve() -> None:
    """phi(x, y) = (beta * x, y) equals lambda * (x, y) on G1; beta and lambda are cube roots of unity."""
    beta, lam = msm_module.GLV_BETA, msm_module.GLV_LAMBDA
    assert beta != 1 and pow(beta, 3, FIELD_Q) == 1
    assert lam != 1 and pow(lam, 3, R) == 1
    points, _ = g1_points(3)
    for p in [_g1_affine(oracle.G1), *points]:
        assert p is not None
        image = oracle.multiply((oracle.FQ(p[0]), oracle.FQ(p[1]), oracle.FQ.one()), lam)
        assert _g1_affine(image) == (beta * p[0] % FIELD_Q, p[1])
    assert msm_module._GLV_DET == R
    for a, b in ((msm_module._GLV_A1, msm_module._GLV_B1), (msm_module._GLV_A2, msm_module._GLV_B2)):
        assert (a + b * lam) % R == 0


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, R - 1), st.sampled_from([0, 1, 2, R - 1, R - 2, msm_module.GLV_LAMBDA])))
def test_glv_split_property(k: int) -> None:
    k1, k2 = msm_module.glv_split(k)
    assert (k1 + k2 * msm_module.GLV_LAMBDA - k) % R == 0
    assert abs(k1) < 1 << msm_module.GLV_BITS
    assert abs(k2) < 1 << msm_module.GLV_BITS


def test_glv_split_bounds_on_extremes() -> None:
    assert msm_module.GLV_BITS <= 128
    lam = msm_module.GLV_LAMBDA
    for k in [0, 1, R - 1, lam, (lam * lam) % R, (R - 1) // 2, 1 << 253, (1 << 128) - 1, (-lam) % R]:
        k1, k2 = msm_module.glv_split(k)
        assert (k1 + k2 * lam - k) % R == 0
        assert max(abs(k1), abs(k2)) < 1 << msm_module.GLV_BITS
    assert msm_module.glv_split(0) == (0, 0)


@pytest.mark.parametrize("bits", [126, 127, 254])
def test_signed_window_count_is_minimal(bits: int) -> None:
    for c in range(2, 18):
        w = msm_module._signed_window_count(bits, c)

        def offset(windows: int, c: int = c) -> int:
            return (1 << (c - 1)) * (((1 << (c * windows)) - 1) // ((1 << c) - 1))

        assert (1 << bits) - 1 + offset(w) < 1 << (c * w)
        assert w == 1 or (1 << bits) - 1 + offset(w - 1) >= 1 << (c * (w - 1))


def test_small_chunks_exercise_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny chunks: many chunks per round, chunked halving, cancellations inside chunks."""
    monkeypatch.setattr(msm_module, "CHUNK", 3)
    points, logs = g1_points(100)
    scalars = mixed_scalars(100, 31)
    assert msm_g1(points, scalars) == expected_g1(logs, scalars)
    p = points[1]
    assert p is not None
    neg = (p[0], FIELD_Q - p[1])
    dup_points = [p] * 30 + [neg] * 30 + points[:20]
    dup_logs = [logs[1]] * 30 + [(-logs[1]) % R] * 30 + logs[:20]
    for dup_scalars in ([7] * 80, [1] * 80, [R - 3] * 60 + list(range(2, 22))):
        assert msm_g1(dup_points, dup_scalars) == expected_g1(dup_logs, dup_scalars)
    g2pts, g2logs = g2_points(17)
    g2scalars = mixed_scalars(17, 32)
    assert msm_g2(g2pts, g2scalars) == expected_g2(g2logs, g2scalars)


@pytest.mark.parametrize("chunk", [3, 384])
def test_streaming_accumulation_every_path(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Force the streaming bucket schedule on small inputs (it normally starts at 256 buckets): batches
    with waiting entries, doubling and cancellation inside a batch (equal x), emptied buckets refilled by a
    later entry, and the fallback to grouped sums when most entries wait."""
    monkeypatch.setattr(msm_module, "STREAM_MIN_BUCKETS", 2)
    monkeypatch.setattr(msm_module, "CHUNK", chunk)
    points, logs = g1_points(100)
    for seed in (61, 62):
        scalars = mixed_scalars(100, seed)
        assert msm_g1(points, scalars) == expected_g1(logs, scalars)
    p = points[1]
    assert p is not None
    neg = (p[0], FIELD_Q - p[1])
    dup_points = [p] * 30 + [neg] * 30 + points[:20]
    dup_logs = [logs[1]] * 30 + [(-logs[1]) % R] * 30 + logs[:20]
    for dup_scalars in ([7] * 80, [R - 3] * 60 + list(range(2, 22)), [5, R - 5] * 40):
        assert msm_g1(dup_points, dup_scalars) == expected_g1(dup_logs, dup_scalars)
    assert msm_g1([p, p, neg, neg], [9, 9, 9, 9]) is None
    g2pts, g2logs = g2_points(40)
    g2p = g2pts[0]
    g2neg = (g2p[0], ((FIELD_Q - g2p[1][0]) % FIELD_Q, (FIELD_Q - g2p[1][1]) % FIELD_Q))
    pts2 = [g2p] * 12 + [g2neg] * 12 + g2pts
    lg2 = [g2logs[0]] * 12 + [(-g2logs[0]) % R] * 12 + g2logs
    for scalars2 in (mixed_scalars(64, 63), [11] * 24 + mixed_scalars(40, 64)):
        assert msm_g2(pts2, scalars2) == expected_g2(lg2, scalars2)


def test_scalars_with_a_zero_glv_half() -> None:
    """k = lambda splits as (0, 1) and k = small as (k, 0): zero halves are skipped, not bucketed."""
    points, logs = g1_points(70)
    lam = msm_module.GLV_LAMBDA
    scalars = [lam, 5, (R - lam) % R, 2] * 17 + [lam, 3]
    assert msm_g1(points, scalars) == expected_g1(logs, scalars)


def test_cached_table_is_reused_and_consistent() -> None:
    points, logs = g1_points(100)
    frozen = tuple(points)
    for seed in (41, 42):
        scalars = mixed_scalars(100, seed)
        assert msm_g1(frozen, scalars) == expected_g1(logs, scalars)
    record, cached = msm_module._prepared("g1", frozen)
    assert cached and record.bases is not None
    assert all(len(col) == 4 * len(frozen) for col in record.bases.table.coords)


def test_parallel_reregisters_an_evicted_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msm_module, "PARALLEL_THRESHOLD", 8)
    points, logs = g1_points(100)
    frozen = tuple(points)
    scalars = mixed_scalars(100, 51)
    assert msm_g1(frozen, scalars, workers=2) == expected_g1(logs, scalars)
    record, _ = msm_module._prepared("g1", frozen)
    old_token = record.token
    assert parallel.is_registered(old_token)
    for _ in range(parallel.MAX_DATASETS + 1):
        parallel.register(())
    assert not parallel.is_registered(old_token)
    assert msm_g1(frozen, scalars, workers=2) == expected_g1(logs, scalars)
    assert parallel.is_registered(record.token)
    assert not parallel.is_registered(0)
    parallel.shutdown()


@pytest.mark.parametrize("kind", ["g1", "g2"])
def test_bucket_bound_covers_every_window(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """The window loop bounds each window's buckets from the plan's largest scalar instead of a pass over
    the buckets (:func:`_bucket_bound`); the bound must hold for every entry of every window, at every width,
    and be exact in the top window for the largest scalar (so the top window's spread stays as wide)."""
    rnd = random.Random(81)
    count = 40
    points = g1_points(count)[0] if kind == "g1" else g2_points(count)[0]
    bases = msm_module.prepare_g1(points) if kind == "g1" else msm_module.prepare_g2(points)
    scalar_sets = [
        [R - 1] * count,
        [rnd.randrange(R) for _ in range(count)],
        [rnd.randrange(1 << 64) for _ in range(count)],
        [rnd.choice([2, 3, R - 2, 1 << 200, msm_module.GLV_LAMBDA]) for _ in range(count)],
    ]
    for c in range(2, 17):
        monkeypatch.setattr(msm_module, "plan_window", lambda _kind, _entries, c=c: c)
        for scalars in scalar_sets:
            plan = msm_module.plan_msm(bases, scalars)
            top = plan.top()
            assert top == max(plan.kk)
            for w in range(plan.windows):
                buckets, _ = msm_module._window_entries(plan.codes, plan.kk, c, w)
                bound = msm_module._bucket_bound(top, c, w)
                assert max(buckets) <= bound <= 1 << (c - 1)
                if w == plan.windows - 1:
                    assert max(buckets) == bound


def test_glv_splits_and_plans_from_shared_splits() -> None:
    """:func:`glv_splits` gives :func:`glv_split`'s values, and a plan built from them (how the prover shares
    the witness's splits between A and B1) is the plan built without them; wrong splits are refused."""
    rnd = random.Random(82)
    extremes = [0, 1, 2, R - 1, R - 2, msm_module.GLV_LAMBDA, (R - msm_module.GLV_LAMBDA) % R, 1 << 200]
    scalars = extremes + [rnd.randrange(R) for _ in range(56)]
    splits = msm_module.glv_splits(scalars)
    assert splits == [msm_module.glv_split(k) for k in scalars]
    points, logs = g1_points(len(scalars))
    bases = msm_module.prepare_g1(points)
    plain = msm_module.plan_msm(bases, scalars)
    for checked in (False, True):
        shared = msm_module.plan_msm(bases, scalars, splits=splits, checked=checked)
        assert (shared.c, shared.windows, shared.codes, shared.kk, shared.ones) == (
            plain.c, plain.windows, plain.codes, plain.kk, plain.ones
        )
    parts = [msm_module.msm_ones(bases, plain), msm_module.msm_windows(bases, plain, 0, plain.windows)]
    assert msm_module.to_affine(msm_module.add_points("g1", parts)) == expected_g1(logs, scalars)
    k1, k2 = splits[9]
    lam = msm_module.GLV_LAMBDA
    bound = 1 << msm_module.GLV_BITS
    for bad, error in (
        ((k1 + 1, k2), InvalidArgumentError),  # not a split of scalars[9]
        ((k1 + R, k2), InvalidArgumentError),  # a split, but a half too wide for the windows
        ((k1 - lam * bound, k2 + bound), InvalidArgumentError),
        ((float(k1), k2), FieldTypeError),
        ((k1, k2, 0), FieldTypeError),
        ([k1, k2], FieldTypeError),
    ):
        wrong = list(splits)
        wrong[9] = bad  # type: ignore[call-overload]
        with pytest.raises(error):
            msm_module.plan_msm(bases, scalars, splits=wrong)
    with pytest.raises(InputLengthError):
        msm_module.plan_msm(bases, scalars, splits=splits[:-1])
    g2_bases = msm_module.prepare_g2(g2_points(2)[0])
    with pytest.raises(InvalidArgumentError):
        msm_module.plan_msm(g2_bases, [3, 5], splits=msm_module.glv_splits([3, 5]))


def test_packed_digits_without_gmpy2_to_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """gmpy2 2.1 (allowed by the ``fast`` extra's floor) has ``gmpy2.pack`` but no ``mpz.to_bytes``: the packed
    window digits then go through a Python int and give the same MSM (it used to raise AttributeError)."""
    if not msm_module.HAVE_GMPY2:
        pytest.skip("the packed digits use gmpy2.pack")

    class OldMpz:  # what gmpy2 2.1's pack returns, as far as _Digits is concerned: an integer without to_bytes
        def __init__(self, value: Any) -> None:
            self.value = int(value)

        def __int__(self) -> int:
            return self.value

    pack = msm_module._gmpy2_pack
    monkeypatch.setattr(msm_module, "_gmpy2_pack", lambda values, bits: OldMpz(pack(values, bits)))
    assert not hasattr(msm_module._gmpy2_pack([1, 2], 8), "to_bytes")
    points, logs = g1_points(40)
    rng = random.Random(21)
    scalars = [rng.randrange(FIELD_R) for _ in points]
    bases = msm_module.prepare_g1(points)
    plan = msm_module.plan_msm(bases, scalars)
    assert plan.digits() is not None
    windows = msm_module.msm_windows(bases, plan, 0, plan.windows)
    got = msm_module.to_affine(msm_module.add_points("g1", [msm_module.msm_ones(bases, plan), windows]))
    expected = _g1_affine(oracle.multiply(oracle.G1, sum(k * a for k, a in zip(scalars, logs, strict=True)) % R))
    assert got == expected
