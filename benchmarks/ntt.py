"""Benchmark the NTT over Fr; prints medians (wall and process CPU time).

Usage: python benchmarks/ntt.py [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from zkhealth._bigint import backend_name
from zkhealth.field import FIELD_R
from zkhealth.hazmat.ntt import coset_ntt, intt, ntt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rnd = random.Random(7)
    print(f"backend: {backend_name()}")
    for log_n in (10, 13, 14, 16):
        values = [rnd.randrange(FIELD_R) for _ in range(1 << log_n)]
        for name, fn in (("ntt", ntt), ("intt", intt), ("coset_ntt", coset_ntt)):
            fn(values)  # build the cached twiddles first
            walls, cpus = [], []
            for _ in range(args.runs):
                start, cpu = time.perf_counter(), time.process_time()
                fn(values)
                walls.append(time.perf_counter() - start)
                cpus.append(time.process_time() - cpu)
            wall, cpu_t = statistics.median(walls), statistics.median(cpus)
            print(f"{name:<10} n=2^{log_n:<2} wall {wall * 1000:8.1f} ms | cpu {cpu_t * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
