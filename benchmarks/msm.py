"""Benchmark multi-scalar multiplication on BN254 G1 and G2; prints medians with min and max.

Usage: python benchmarks/msm.py [--runs 5] [--quick]

Points come from a Fibonacci walk P_{i+1} = P_i + P_{i-1} (one affine addition each, no small linear
relations between points, unlike k*G for consecutive k). Every line reports, over ``--runs`` runs, the
median [min - max] of the rate from the wall time (time.perf_counter) and from the CPU time of this process
(time.process_time), in points per second on one core. On a shared machine the CPU figure is the one to
compare, and the best run the closest to a quiet machine; the load average is printed before and after.
Speed-ups of workers=2 are wall-time ratios (CPU time does not count the worker process), so they are only
meaningful when the load average is below the core count. Target (issue 18): G1 with random 254-bit scalars
>= 25,000 points/s per core.

The last G1 line puts the MSM's CPU time per entry and window (about one batched addition each) beside the
bare arithmetic of one batched affine addition in this interpreter: the 6 multiplications, 4 reductions and
7 subtractions of Montgomery's trick and the chord, with no bookkeeping around them. The difference is what
scheduling, digit extraction and bucket reductions cost.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from zkhealth._bigint import backend_name, mpz
from zkhealth.field import FIELD_R
from zkhealth.hazmat import msm, parallel


def g1_points(count: int) -> list[Any]:
    a: Any = msm._g1_double_n((mpz(1), mpz(2)), 101)
    b: Any = msm._g1_double_n((mpz(1), mpz(2)), 57)
    out = []
    for _ in range(count):
        out.append((int(a[0]), int(a[1] % msm._Q)))
        a, b = b, msm._g1_add(a, b)
    return out


G2_GEN = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)


def g2_points(count: int) -> list[Any]:
    a: Any = msm._g2_double_n(G2_GEN, 99)
    b: Any = msm._g2_double_n(G2_GEN, 45)
    out = []
    for _ in range(count):
        out.append(((int(a[0][0]), int(a[0][1])), (int(a[1][0]), int(a[1][1]))))
        a, b = b, msm._g2_add(a, b)
    return out


def median_time(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall times (perf_counter) and CPU times of this process (process_time) of ``runs`` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def _rates(n: int, times: list[float]) -> str:
    rates = sorted(n / t for t in times)
    return f"{statistics.median(rates):8.0f} [{rates[0]:.0f} - {rates[-1]:.0f}]"


def report(label: str, n: int, timing: tuple[list[float], list[float]]) -> None:
    walls, cpus = timing
    print(f"{label:<30} wall {statistics.median(walls) * 1000:8.1f} ms {_rates(n, walls)} pts/s"
          f" | cpu {statistics.median(cpus) * 1000:8.1f} ms {_rates(n, cpus)} pts/s", flush=True)


def bare_addition_seconds(points: list[Any], count: int = 1 << 15, batch: int = 256) -> float:
    """CPU seconds of the bare arithmetic of one batched affine G1 addition (no bucket bookkeeping), over at most
    ``count`` of ``points`` (whole batches: ``--quick`` has only 2^14 points)."""
    count = min(count, len(points) - len(points) % batch)
    q = mpz(msm._Q)
    one = mpz(1)
    xs = [mpz(x) for x, _ in points[:count]]
    ys = [mpz(y) for _, y in points[:count]]
    x2s = xs[1:] + xs[:1]
    y2s = ys[1:] + ys[:1]
    out_x: list[Any] = [None] * count
    out_y: list[Any] = [None] * count
    started = time.process_time()
    for start in range(0, count, batch):
        prod = one
        prefix: list[Any] = []
        for i in range(start, start + batch):
            prefix.append(prod)
            prod = prod * (x2s[i] - xs[i]) % q
        inv = pow(prod, -1, q)
        for i in range(start + batch - 1, start - 1, -1):
            x1, x2, y1 = xs[i], x2s[i], ys[i]
            lam = (y2s[i] - y1) * prefix[i - start] * inv % q
            inv = inv * (x2 - x1) % q
            x3 = (lam * lam - x1 - x2) % q
            out_x[i] = x3
            out_y[i] = lam * (x1 - x3) - y1
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip 2^16 and the larger G2 sizes")
    args = parser.parse_args()
    rnd = random.Random(2024)
    print(f"backend: {backend_name()}, default workers: {parallel.default_workers()}, cores: {os.cpu_count()}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    big = [10, 12, 14] if args.quick else [10, 12, 14, 16]
    pts = g1_points(1 << max(big))
    g1 = msm.msm_g1
    for log_n in big:
        n = 1 << log_n
        p = pts[:n]
        scalars = [rnd.randrange(FIELD_R) for _ in range(n)]
        g1(p, scalars)  # validate and cache the points once, as a prover does
        plan = msm.plan_msm(msm.prepare_g1(p), scalars)
        timing = median_time(functools.partial(g1, p, scalars), args.runs)
        report(f"G1 random n=2^{log_n} c={plan.c}", n, timing)
        per_entry_window = statistics.median(timing[1]) / (len(plan.codes) * plan.windows)
    bare = statistics.median(bare_addition_seconds(pts) for _ in range(args.runs))
    print(f"G1 per entry and window at 2^{big[-1]}: {per_entry_window * 1e6:.2f} us CPU; the bare arithmetic of "
          f"one batched affine addition: {bare * 1e6:.2f} us")
    for log_n in big:
        n = 1 << log_n
        p = pts[:n]
        scalars = [rnd.choice((0, 1)) if rnd.random() < 0.9 else rnd.randrange(FIELD_R) for _ in range(n)]
        g1(p, scalars)
        report(f"G1 90% 0/1 n=2^{log_n}", n, median_time(functools.partial(g1, p, scalars), args.runs))
    n = 1 << 14
    ones = [1] * n
    g1(pts[:n], ones)
    report("G1 all scalars 1 n=2^14", n, median_time(functools.partial(g1, pts[:n], ones), args.runs))
    for log_n in [x for x in big if x >= 14]:
        n = 1 << log_n
        p = pts[:n]
        scalars = [rnd.randrange(FIELD_R) for _ in range(n)]
        g1(p, scalars, workers=2)  # start the worker and ship the points once
        t1 = statistics.median(median_time(functools.partial(g1, p, scalars, workers=1), args.runs)[0])
        t2 = statistics.median(median_time(functools.partial(g1, p, scalars, workers=2), args.runs)[0])
        print(f"G1 workers=2 n=2^{log_n}: wall {t2 * 1000:.1f} ms, speed-up x{t1 / t2:.2f} over workers=1")
    g2_sizes = [8, 10] if args.quick else [8, 10, 12]
    g2pts = g2_points(1 << max(g2_sizes))
    g2 = msm.msm_g2
    for log_n in g2_sizes:
        n = 1 << log_n
        p = g2pts[:n]
        scalars = [rnd.randrange(FIELD_R) for _ in range(n)]
        g2(p, scalars)
        report(
            f"G2 random n=2^{log_n} c={msm.plan_msm(msm.prepare_g2(p), scalars).c}",
            n,
            median_time(functools.partial(g2, p, scalars), args.runs),
        )
    n = 1 << max(g2_sizes)
    p = g2pts[:n]
    scalars = [rnd.randrange(FIELD_R) for _ in range(n)]
    g2(p, scalars, workers=2)
    t1 = statistics.median(median_time(functools.partial(g2, p, scalars, workers=1), args.runs)[0])
    t2 = statistics.median(median_time(functools.partial(g2, p, scalars, workers=2), args.runs)[0])
    print(f"G2 workers=2 n=2^{max(g2_sizes)}: wall {t2 * 1000:.1f} ms, speed-up x{t1 / t2:.2f} over workers=1")
    parallel.shutdown()
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
