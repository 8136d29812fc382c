"""Print median timings of the BN254 pairing and group operations (zkhealth.hazmat.pairing / bn254).

Usage: python benchmarks/pairing.py [--repeat N]
Set ZKHEALTH_NO_GMPY2=1 to measure plain Python ints instead of gmpy2.

Figures: single pairing; a Groth16-style check of 4 pairs with 3 prepared G2 points (gamma, delta, beta fixed)
and 1 fresh (B); the same with e(alpha, beta)'s Miller value precomputed (3 pairs in the loop); prepare_g2;
final exponentiation; g1_mul; g2_mul; the G2 subgroup check.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from zkhealth._bigint import backend_name
from zkhealth.hazmat.bn254 import (
    G1_GENERATOR,
    G2_GENERATOR,
    R,
    g1_mul,
    g1_neg,
    g2_in_subgroup,
    g2_mul,
)
from zkhealth.hazmat.pairing import (
    final_exponentiation,
    miller_loop,
    pairing,
    pairing_product_is_one,
    prepare_g2,
)


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and median CPU time (ms). CPU time is steadier on a shared, loaded machine."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(2024)
    repeat = args.repeat

    # A relation that holds: e(a*b*G1, G2) = e(a*G1, b*G2), split over four pairs like Groth16's
    # e(A, B) = e(alpha, beta) e(L, gamma) e(C, delta), with scalars chosen so the product is 1.
    a, b, alpha, beta, ell, gamma, delta = (rng.randrange(1, R) for _ in range(7))
    c = (a * b - alpha * beta - ell * gamma) * pow(delta, -1, R) % R
    g1, g2 = G1_GENERATOR, G2_GENERATOR
    point_a, point_b = g1_mul(g1, a), g2_mul(g2, b)
    alpha_g1, beta_g2 = g1_mul(g1, alpha), g2_mul(g2, beta)
    l_g1, gamma_g2 = g1_mul(g1, ell), g2_mul(g2, gamma)
    c_g1, delta_g2 = g1_mul(g1, c), g2_mul(g2, delta)
    beta_p, gamma_p, delta_p = prepare_g2(beta_g2), prepare_g2(gamma_g2), prepare_g2(delta_g2)
    ab_miller = miller_loop([(g1_neg(alpha_g1), beta_p)])

    def groth16_four_pairs() -> bool:
        return pairing_product_is_one(
            [(point_a, point_b), (g1_neg(alpha_g1), beta_p), (g1_neg(l_g1), gamma_p), (g1_neg(c_g1), delta_p)]
        )

    def groth16_three_pairs() -> bool:
        return pairing_product_is_one(
            [(point_a, point_b), (g1_neg(l_g1), gamma_p), (g1_neg(c_g1), delta_p)], miller_factor=ab_miller
        )

    if not (groth16_four_pairs() and groth16_three_pairs()):
        raise SystemExit("benchmark relation does not hold: pairing bug")

    f = miller_loop([(point_a, point_b)])
    k = rng.randrange(R)
    rows = [
        ("pairing (single, unprepared)", lambda: pairing(point_a, point_b)),
        ("groth16 check: 4 pairs, 3 prepared", groth16_four_pairs),
        ("groth16 check: 3 pairs + e(alpha,beta) Miller value", groth16_three_pairs),
        ("prepare_g2", lambda: prepare_g2(point_b)),
        ("final_exponentiation", lambda: final_exponentiation(f)),
        ("g1_mul (254-bit scalar)", lambda: g1_mul(point_a, k)),
        ("g2_mul (254-bit scalar)", lambda: g2_mul(point_b, k)),
        ("g2_in_subgroup (psi check)", lambda: g2_in_subgroup(point_b)),
    ]
    print(f"backend: {backend_name()}  (medians of {repeat} runs)")
    print(f"  {'':<52} {'wall':>8}    {'cpu':>8}")
    for name, fn in rows:
        wall, cpu = median_ms(fn, repeat)
        print(f"  {name:<52} {wall:8.2f} ms {cpu:8.2f} ms")


if __name__ == "__main__":
    main()
