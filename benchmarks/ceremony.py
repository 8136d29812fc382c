"""Trusted-setup ceremony: zkhealth against snarkjs 0.7.6, side by side in the same run.

    python benchmarks/ceremony.py                    # 2^12, three runs of each step and tool
    python benchmarks/ceremony.py --sizes 12 14      # adds 2^14 (prepare phase2 alone takes minutes per tool)
    python benchmarks/ceremony.py --sizes 14 --repeat 1

Every step is timed as the user waits for it: a whole command (``python -m zkhealth ...`` or ``snarkjs ...``)
from start to exit, wall clock, on the same input file, the two tools alternating so that a change of the
machine's load hits both. Steps: ``powersoftau contribute`` (to a file of 2^k with one contribution),
``powersoftau prepare phase2``, ``zkey contribute`` and ``zkey verify``. The phase-2 circuit is circom's
eligibility anchor (10,272 constraints, domain 2^14) for 2^14, and its first 4,000 constraints (domain 2^12)
for 2^12. The machine is shared: the load average (``uptime``) is printed before and after.

Issue 16 target: every ratio zkhealth / snarkjs <= 1.0. Reference figures on a 2-core machine like this one:
snarkjs ``prepare phase2`` at 2^14, 291 s; ``zkey contribute`` on the eligibility circuit, 3.8 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from zkhealth.ceremony import phase2 as zk  # noqa: E402
from zkhealth.ceremony import powersoftau as pt  # noqa: E402
from zkhealth.formats.ptau_file import write_ptau  # noqa: E402
from zkhealth.formats.r1cs_file import read_r1cs, write_r1cs  # noqa: E402
from zkhealth.formats.zkey_file import write_zkey_file  # noqa: E402
from zkhealth.r1cs import R1CS  # noqa: E402

SNARKJS = ROOT / "tests" / "js" / "node_modules" / ".bin" / "snarkjs"
ANCHOR = ROOT.parent / "shared" / "anchors" / "eligibility" / "eligibility.r1cs"


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "uptime unavailable"


def run(command: list[str]) -> float:
    """Wall time of one whole command; a failing command stops the benchmark."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def circuit(log_n: int) -> R1CS:
    """The eligibility anchor (2^14) or its first constraints (2^12): real circom shapes, domain 2^log_n."""
    full = read_r1cs(ANCHOR)
    if log_n >= 14:
        return full
    keep = (1 << log_n) - full.n_public - 100
    return R1CS(
        n_wires=full.n_wires,
        n_public_outputs=full.n_public_outputs,
        n_public_inputs=full.n_public_inputs,
        n_private_inputs=full.n_private_inputs,
        constraints=full.constraints[:keep],
    )


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):8.2f} s ({min(times):.2f}-{max(times):.2f})"


def bench(log_n: int, repeat: int, folder: Path) -> list[tuple[str, list[float], list[float]]]:
    zkh = [sys.executable, "-m", "zkhealth"]
    sj = [str(SNARKJS)]
    print(f"\n2^{log_n}: preparing inputs", flush=True)
    one, _ = pt.contribute(pt.new_accumulator(log_n), name="first", entropy="benchmark")
    write_ptau(one, folder / "one.ptau")
    rows: list[tuple[str, list[float], list[float]]] = []

    def step(label: str, ours: list[str], theirs: list[str], times: int) -> None:
        mine: list[float] = []
        other: list[float] = []
        for _ in range(times):
            mine.append(run(zkh + ours))
            other.append(run(sj + theirs))
        rows.append((label, mine, other))
        ratio = statistics.median(mine) / statistics.median(other)
        print(f"  {label:<24} zkhealth {summary(mine)}   snarkjs {summary(other)}   ratio {ratio:5.2f}", flush=True)

    src = str(folder / "one.ptau")
    step(
        "powersoftau contribute",
        ["powersoftau", "contribute", src, str(folder / "zk_two.ptau"), "-e", "x", "--quiet"],
        ["powersoftau", "contribute", src, str(folder / "sj_two.ptau"), "-e=x"],
        repeat,
    )
    # prepare phase2 takes minutes at 2^14: at most two runs each there.
    step(
        "powersoftau prepare phase2",
        ["powersoftau", "prepare", "phase2", str(folder / "zk_two.ptau"), str(folder / "zk_final.ptau"), "--quiet"],
        ["powersoftau", "prepare", "phase2", str(folder / "zk_two.ptau"), str(folder / "sj_final.ptau")],
        repeat if log_n < 14 else min(repeat, 2),
    )
    r1cs = circuit(log_n)
    write_r1cs(r1cs, folder / "circuit.r1cs")
    final_ptau = str(folder / "zk_final.ptau")
    from zkhealth.formats.ptau_file import read_ptau

    init = zk.new_zkey(r1cs, read_ptau(final_ptau))
    first, _ = zk.contribute(init, name="first", entropy="benchmark")
    write_zkey_file(first, folder / "one.zkey")
    step(
        "zkey contribute",
        ["zkey", "contribute", str(folder / "one.zkey"), str(folder / "zk_two.zkey"), "-e", "x", "--quiet"],
        ["zkey", "contribute", str(folder / "one.zkey"), str(folder / "sj_two.zkey"), "-e=x"],
        repeat,
    )
    step(
        "zkey verify",
        ["zkey", "verify", str(folder / "circuit.r1cs"), final_ptau, str(folder / "zk_two.zkey"), "--quiet"],
        ["zkey", "verify", str(folder / "circuit.r1cs"), final_ptau, str(folder / "zk_two.zkey")],
        repeat,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not SNARKJS.exists():
        raise SystemExit(f"{SNARKJS} is missing: npm ci --prefix tests/js")
    if not ANCHOR.exists():
        raise SystemExit(f"{ANCHOR} is missing (the shared eligibility anchor)")
    print(f"load before: {uptime()}")
    workers = os.environ.get("ZKHEALTH_WORKERS", "default")
    print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, workers {workers}")
    results = {}
    for log_n in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"ceremony{log_n}-") as tmp:
            results[log_n] = bench(log_n, args.repeat, Path(tmp))
    print(f"\nload after: {uptime()}")
    print("\nsize  step                          zkhealth median (min-max)     snarkjs median (min-max)    ratio")
    for log_n, rows in results.items():
        for label, mine, other in rows:
            ratio = statistics.median(mine) / statistics.median(other)
            print(f"2^{log_n:<3} {label:<28}{summary(mine)}   {summary(other)}   {ratio:5.2f}")


if __name__ == "__main__":
    main()
