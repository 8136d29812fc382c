"""Benchmark: compile and solve a 10,000-constraint circuit with the zkhealth DSL.

The circuit mixes the shapes real circuits have: a chain of multiplications with linear terms
(Poseidon-like), 32-bit comparisons (bit decompositions and their linear sums) and selections.
Prints the medians of compile time, witness-solve time and their total (target: total <= 2 s).

Run: python benchmarks/circuit.py [--repeat N] [--constraints N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from zkhealth._bigint import backend_name
from zkhealth.circuit import Builder, compile
from zkhealth.circuit.gadgets import less_than, select


def make_circuit(target: int) -> tuple[object, dict[str, object]]:
    """A circuit of about ``target`` constraints, and inputs that satisfy it."""
    rounds = -(-target // 166)  # 100 products + 65 (comparison) + 1 (selection) per round

    def define(b: Builder) -> None:
        seed = b.public_input("seed")
        values = b.private_inputs("values", rounds)
        acc = seed
        for i, value in enumerate(values):
            with b.scope(f"round{i}"):
                # 100 multiplications: x -> x^2 + value + i, like a hash round.
                x = acc + value
                for j in range(100):
                    x = x * x + value + j
                # One 32-bit comparison (97 constraints) and a selection (2).
                smaller = less_than(b, value, i + 1000, bits=32)
                acc = select(b, smaller, x, acc)
        b.output("digest", acc)

    inputs: dict[str, object] = {"seed": 7, "values": [i * 3 for i in range(rounds)]}
    return define, inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--constraints", type=int, default=10_000)
    args = parser.parse_args()
    circuit, inputs = make_circuit(args.constraints)
    compile_times: list[float] = []
    solve_times: list[float] = []
    compiled = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        compiled = compile(circuit)  # type: ignore[arg-type]
        compile_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        witness = compiled.solve_witness(inputs)
        solve_times.append(time.perf_counter() - start)
    if compiled is None:
        raise SystemExit("nothing measured")
    compiled.r1cs.check_witness(witness)
    c, s = statistics.median(compile_times), statistics.median(solve_times)
    print(f"backend: {backend_name()}")
    print(f"circuit: {compiled.stats}")
    print(f"compile: {c * 1000:8.1f} ms (median of {args.repeat})")
    print(f"solve:   {s * 1000:8.1f} ms (median of {args.repeat})")
    print(f"total:   {(c + s) * 1000:8.1f} ms   target <= 2000 ms: {'OK' if c + s <= 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
