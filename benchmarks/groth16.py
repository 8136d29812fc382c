"""Groth16 benchmarks: setup, prove and verify medians on the chain circuit x_{i+1} = x_i^2 + i, the circom
eligibility anchor proved by us and by snarkjs side by side, single and batch verification.

    python benchmarks/groth16.py                  # 2^10, 2^12, 2^14
    python benchmarks/groth16.py --big            # adds 2^16 (slow: setup alone takes minutes)
    python benchmarks/groth16.py --sizes 10 --repeat 5

The chain circuit of "2^k" has 2^k - 3 constraints, so that with its two public signals and the constant
wire the QAP domain is exactly 2^k. Targets (issue 4): prove no slower than snarkjs (2^12 0.6 s, 2^14 2.0 s,
2^16 6.9 s in process; anchor 1.28 s as a whole process), verify <= 15 ms, batch of 64 <= 5 ms per proof,
setup 2^14 <= 30 s, proving 2^16 under 2 GiB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from zkhealth._bigint import backend_name  # noqa: E402
from zkhealth.field import FIELD_R  # noqa: E402
from zkhealth.formats import read_zkey  # noqa: E402
from zkhealth.groth16 import batch_verify, prove, public_signals, setup, verify  # noqa: E402
from zkhealth.r1cs import R1CS, Constraint  # noqa: E402

ANCHOR = ROOT.parent / "shared" / "anchors" / "eligibility"
SNARKJS = ROOT / "tests" / "js" / "node_modules" / ".bin" / "snarkjs"
SNARKJS_IN_PROCESS = {10: 0.22, 12: 0.60, 14: 2.0, 16: 6.9}


def chain(n_constraints: int) -> tuple[R1CS, list[int]]:
    """Wires: 0 one, 1 out = x_n (public output), 2 = x_0 (public input), then x_1 .. x_{n-1}."""
    def wire(i: int) -> int:
        return 2 if i == 0 else (1 if i == n_constraints else 2 + i)

    constraints = []
    xs = [3]
    for i in range(n_constraints):
        c = {wire(i + 1): 1}
        if i:
            c[0] = FIELD_R - i
        constraints.append(Constraint({wire(i): 1}, {wire(i): 1}, c))
        xs.append((xs[-1] * xs[-1] + i) % FIELD_R)
    r1cs = R1CS(n_wires=2 + n_constraints, n_public_outputs=1, n_public_inputs=1, n_private_inputs=0,
                constraints=constraints)
    return r1cs, [1, xs[-1], xs[0], *xs[1:-1]]


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    return timed_cpu(func, repeat)[0::2]


def timed_cpu(func: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall time, median CPU time of this process (time.process_time; worker processes not
    included) and the last result. On a loaded machine the CPU time is the steadier figure."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def bench_chain(log_n: int, repeat: int) -> None:
    r1cs, witness = chain((1 << log_n) - 3)
    setup_time, (pk, vk) = timed(lambda: setup(r1cs), 1)
    public = public_signals(pk, witness)
    print(f"chain 2^{log_n:<2} setup (2 workers) {setup_time:7.2f} s wall", flush=True)
    prove(pk, witness, workers=2)  # the worker receives the key's bases once
    for workers in (1, 2):

        def run(w: int = workers) -> Any:
            return prove(pk, witness, workers=w)

        wall, cpu, proof = timed_cpu(run, repeat)
        line = f"chain 2^{log_n:<2} prove w={workers} {wall:6.2f} s wall, {cpu:6.2f} s CPU of this process"
        target = SNARKJS_IN_PROCESS.get(log_n)
        if target:
            line += f" (snarkjs {target:.2f} s, ratio {wall / target:4.1f}x)"
        print(line, flush=True)
    wall, cpu, _ = timed_cpu(lambda: verify(vk, public, proof), max(repeat, 9))
    line = f"chain 2^{log_n:<2} verify {wall * 1000:5.1f} ms wall, {cpu * 1000:5.1f} ms CPU"
    proofs = [prove(pk, witness, workers=2) for _ in range(4)]
    items = [(public, proofs[i % 4]) for i in range(64)]
    wall, cpu, _ = timed_cpu(lambda: batch_verify(vk, items), max(repeat, 3))
    line += f" | batch of 64 {wall * 1000 / 64:4.2f} ms wall, {cpu * 1000 / 64:4.2f} ms CPU per proof"
    print(line, flush=True)


def bench_anchor(repeat: int) -> None:
    if not ANCHOR.exists():
        print("anchor: ../shared/anchors/eligibility missing, skipped")
        return
    from zkhealth.formats import read_wtns

    load_time, pk = timed(lambda: read_zkey(ANCHOR / "eligibility_final.zkey"), 1)
    witness = read_wtns(ANCHOR / "witness.wtns")
    ours, proof = timed(lambda: prove(pk, witness, workers=2), repeat)
    ours_1, _ = timed(lambda: prove(pk, witness, workers=1), repeat)
    vk = pk.vk
    public = public_signals(pk, witness)
    verify(vk, public, proof)
    line = (
        f"anchor (10,272 constraints): zkey load {load_time:.2f} s"
        f" | prove in process w=1 {ours_1:.2f} s, w=2 {ours:.2f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        ours_cli, _ = timed(lambda: subprocess.run(
            [sys.executable, "-c",
             "import sys; from zkhealth.cli.groth16 import groth16_group; groth16_group(sys.argv[1:])",
             "prove", str(ANCHOR / "eligibility_final.zkey"), str(ANCHOR / "witness.wtns"),
             f"{tmp}/p.json", f"{tmp}/pub.json"], check=True, capture_output=True,
            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}), repeat)
        line += f" | whole process {ours_cli:.2f} s"
        if SNARKJS.exists():
            theirs, _ = timed(lambda: subprocess.run(
                [str(SNARKJS), "groth16", "prove", str(ANCHOR / "eligibility_final.zkey"),
                 str(ANCHOR / "witness.wtns"), f"{tmp}/p2.json", f"{tmp}/pub2.json"],
                check=True, capture_output=True), repeat)
            line += f" | snarkjs whole process {theirs:.2f} s | ratio {ours_cli / theirs:.1f}x"
    print(line, flush=True)

    single, _ = timed(lambda: verify(vk, public, proof), 9)
    items = [(public, proof)] * 64
    batch, _ = timed(lambda: batch_verify(vk, items), 3)
    print(f"anchor verify single {single * 1000:.1f} ms | batch of 64 {batch * 1000 / 64:.1f} ms per proof", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 12, 14])
    parser.add_argument("--big", action="store_true", help="also 2^16")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-anchor", action="store_true")
    args = parser.parse_args()
    sizes = list(args.sizes) + ([16] if args.big else [])
    print(f"backend {backend_name()}, medians of {args.repeat}, load average {os.getloadavg()[0]:.1f}")
    if not args.skip_anchor:
        bench_anchor(args.repeat)
    for log_n in sizes:
        bench_chain(log_n, args.repeat)
    from zkhealth.hazmat.parallel import shutdown

    shutdown()  # so that the worker's peak RSS is counted below
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MiB, largest worker {child:.0f} MiB")


if __name__ == "__main__":
    main()
