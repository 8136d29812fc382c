"""Groth16 prove, zkhealth against snarkjs, side by side on the same files in the same run.

    python benchmarks/groth16.py                       # the anchor, then chain circuits 2^12 and 2^14
    python benchmarks/groth16.py --sizes 12 14 16      # adds 2^16 (its setup takes about a minute, once)
    python benchmarks/groth16.py --repeat 7 --skip-anchor

For every circuit both provers get the same ``.zkey`` and ``.wtns``: the circom eligibility anchor
(``shared/anchors/eligibility``, 10,272 constraints, snarkjs's own key) and chain circuits
x_{i+1} = x_i^2 + i with 2^k - 3 constraints (a QAP domain of exactly 2^k; key from our development setup,
written as a ``.zkey``, cached under ``--cache``). Each repetition runs snarkjs and then zkhealth, so both
see the same machine load. Printed per circuit, as median [min - max] of ``--repeat`` runs:

* CLI, the whole process a user waits for: ``snarkjs groth16 prove`` and ``python -m zkhealth groth16
  prove`` (wall time, and CPU time of the process and its children), their ratios (zkhealth / snarkjs,
  from the medians, and the wall-time ratio within each round, which cancels most of the machine's speed
  drifting during the loop), and the peak memory of each process tree (the sum of the processes' proportional set
  sizes, sampled every 10 ms) measured in runs of their own: the warm-up run and one more per tool, never in
  the timed runs (reading ``smaps_rollup`` of a process tree of hundreds of MiB every 10 ms takes CPU from the
  process it measures: at 2^16 it added about 2.9 s to zkhealth's 9.9 s and 1.4 s to snarkjs's 7.5 s, measured
  against ``/usr/bin/time``). On a loaded machine the CPU ratio is the steadier figure: the scheduler
  shares the cores per thread, and snarkjs runs more threads than zkhealth runs processes;
* zkhealth's CLI keeps a cache entry of each key it has decoded (``formats/key_cache.py``), here in the run's
  temporary directory: its first run, which writes the entry, is printed on its own; the timed runs start
  from the entry, as a user's later proofs with the same key do;
* library, in process with the key loaded: zkhealth ``prove`` wall and CPU time (this process plus the
  worker), and snarkjs's ``groth16.prove`` called from a node script (which reads the files each call);
* verification: ``zkhealth groth16 verify`` and ``snarkjs groth16 verify`` as whole processes.

The load average is printed before and after every circuit: on a shared machine only the ratios of runs
measured side by side mean much. Nothing is asserted. Targets (issue 18): CLI prove ratio <= 0.8 on the
anchor and <= 1.0 at 2^12, 2^14, 2^16; peak memory at 2^16 <= 2x snarkjs's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _snarkjs_files import write_zkey  # noqa: E402

from zkhealth._bigint import backend_name  # noqa: E402
from zkhealth.field import FIELD_R  # noqa: E402
from zkhealth.formats import read_wtns, read_zkey, write_r1cs, write_verifying_key, write_wtns  # noqa: E402
from zkhealth.groth16 import batch_verify, prove, public_signals, setup, verify  # noqa: E402
from zkhealth.hazmat import parallel  # noqa: E402
from zkhealth.r1cs import R1CS, Constraint  # noqa: E402

SNARKJS_BIN = ROOT / "tests" / "js" / "node_modules" / ".bin" / "snarkjs"
SNARKJS_MODULE = ROOT / "tests" / "js" / "node_modules" / "snarkjs"


def find_anchor() -> Path | None:
    """``shared/anchors/eligibility`` beside the checkout (or beside one of its parents)."""
    for parent in ROOT.parents:
        candidate = parent / "shared" / "anchors" / "eligibility"
        if candidate.is_dir():
            return candidate
    return None


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


def chain_files(log_n: int, cache: Path) -> Path:
    """The chain circuit of 2^log_n in ``cache/chain<k>``: circuit.r1cs, witness.wtns, circuit.zkey, vk.json."""
    folder = cache / f"chain{log_n}"
    if (folder / "vk.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    r1cs, witness = chain((1 << log_n) - 3)
    started = time.perf_counter()
    pk, vk = setup(r1cs)
    print(f"  (setup of chain 2^{log_n}: {time.perf_counter() - started:.1f} s, once; files cached in {folder})")
    write_r1cs(r1cs, folder / "circuit.r1cs")
    write_wtns(witness, folder / "witness.wtns")
    write_zkey(pk, folder / "circuit.zkey")
    write_verifying_key(vk, folder / "vk.json")
    return folder


# --------------------------------------------------------------------------- measuring


def speed_probe() -> float:
    """Seconds for a fixed 5-million-step Python loop in a fresh interpreter: the machine's speed right now.
    The load average misses slow spells of a shared host (the same proofs then take 10-40 % more CPU time
    with nothing else running here); this shows them beside each circuit's figures."""
    code = (
        "import time\nt = time.perf_counter()\ns = 0\n"
        "for i in range(5_000_000):\n    s += i\nprint(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout)


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return (f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores), "
            f"speed probe {speed_probe():.2f} s (a 5M-step Python loop: compare it between runs)")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(argv: Sequence[str], env: dict[str, str] | None = None,
                 *, memory: bool = False) -> tuple[float, float, float]:
    """Run a command; return its wall time, its CPU time (user + system, its child processes included) and,
    with ``memory``, the peak of its process tree's summed PSS in MiB (0.0 without: the sampling slows the
    command, so a run either is timed or measures memory)."""
    peak = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            tree = [proc.pid]
            for pid in tree:
                tree += _children(pid)
            peak = max(peak, sum(_pss_kib(pid) for pid in tree))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    if memory:
        sampler.join()
    if proc.returncode:
        raise SystemExit(f"{argv[0]} failed: {err.decode(errors='replace').strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, peak / 1024


def worker_cpu_seconds() -> float:
    """CPU time so far of this process's pool workers (their /proc stat), for library CPU figures."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _children(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def stats(values: Sequence[float], unit: str = "s", scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    fmt = "{:.2f}" if unit == "s" else "{:.0f}"
    return f"{fmt.format(statistics.median(v))} [{fmt.format(min(v))} - {fmt.format(max(v))}] {unit}"


def ratio_stats(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f} - {max(values):.2f}]"


SNARKJS_LIB_SCRIPT = """
const [moduleDir, zkey, wtns, count] = process.argv.slice(-4);
const snarkjs = require(moduleDir);
(async () => {
  const out = [];
  for (let i = 0; i < Number(count); i++) {
    const t = performance.now();
    await snarkjs.groth16.prove(zkey, wtns);
    out.push((performance.now() - t) / 1000);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
})();
"""


def snarkjs_library(zkey: Path, wtns: Path, repeat: int) -> list[float] | None:
    """snarkjs's groth16.prove in one node process, ``repeat + 1`` calls (the first one warms up)."""
    if not SNARKJS_MODULE.exists():
        return None
    result = subprocess.run(
        ["node", "-e", SNARKJS_LIB_SCRIPT, str(SNARKJS_MODULE), str(zkey), str(wtns), str(repeat + 1)],
        capture_output=True, check=True, text=True,
    )
    times: list[float] = json.loads(result.stdout.strip().splitlines()[-1])
    return times[1:]


def bench_circuit(label: str, zkey: Path, wtns: Path, vk: Path, repeat: int, tmp: Path) -> dict[str, Any]:
    print(f"{label}: {load_line()}", flush=True)
    # zkhealth's key cache (formats/key_cache.py) lives in this run's temporary directory: the first run below
    # starts without an entry and writes it (timed and printed on its own); every later run starts from it, as
    # a user's second and later proofs with the same key do.
    cache_dir = tmp / f"key-cache-{zkey.parent.name}"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), ZKHEALTH_KEY_CACHE_DIR=str(cache_dir))
    ours_cmd = [sys.executable, "-m", "zkhealth", "groth16", "prove", str(zkey), str(wtns),
                str(tmp / "proof.json"), str(tmp / "public.json")]
    theirs_cmd = [str(SNARKJS_BIN), "groth16", "prove", str(zkey), str(wtns), str(tmp / "proof_s.json"),
                  str(tmp / "public_s.json")]
    have_snarkjs = SNARKJS_BIN.exists()
    ours_wall: list[float] = []
    ours_cpu: list[float] = []
    ours_mem: list[float] = []
    theirs_wall: list[float] = []
    theirs_cpu: list[float] = []
    theirs_mem: list[float] = []
    first_wall = run_measured(ours_cmd, env)[0]
    # Two runs per tool measure memory (the first also warms the page cache); the timed runs are not sampled.
    for _ in range(2):
        ours_mem.append(run_measured(ours_cmd, env, memory=True)[2])
        if have_snarkjs:
            theirs_mem.append(run_measured(theirs_cmd, memory=True)[2])
    for _ in range(repeat):
        if have_snarkjs:
            wall, cpu, _ = run_measured(theirs_cmd)
            theirs_wall.append(wall)
            theirs_cpu.append(cpu)
        wall, cpu, _ = run_measured(ours_cmd, env)
        ours_wall.append(wall)
        ours_cpu.append(cpu)
    out: dict[str, Any] = {"ours_cli": ours_wall, "ours_mem": ours_mem, "ours_cli_cpu": ours_cpu}
    print(f"  CLI prove   zkhealth {stats(ours_wall)} wall, {stats(ours_cpu)} CPU, "
          f"peak memory {stats(ours_mem, 'MiB')}")
    print(f"              zkhealth's first run, which decodes and checks the key and writes its cache entry: "
          f"{first_wall:.2f} s wall")
    if theirs_wall:
        ratio = statistics.median(ours_wall) / statistics.median(theirs_wall)
        cpu_ratio = statistics.median(ours_cpu) / statistics.median(theirs_cpu)
        out.update(theirs_cli=theirs_wall, theirs_mem=theirs_mem, theirs_cli_cpu=theirs_cpu, ratio=ratio,
                   cpu_ratio=cpu_ratio)
        print(f"              snarkjs  {stats(theirs_wall)} wall, {stats(theirs_cpu)} CPU, "
              f"peak memory {stats(theirs_mem, 'MiB')}")
        # Each round runs snarkjs, then zkhealth, back to back: the ratio within a round cancels most of the
        # machine's slower drifts of speed (on a shared machine the same proof's CPU time moves by 20-40 %
        # within a minute), which the ratio of medians over the whole loop does not.
        paired = [o / t for o, t in zip(ours_wall, theirs_wall, strict=True)]
        out.update(paired=paired)
        print(f"              ratio zkhealth/snarkjs {ratio:.2f} wall, {cpu_ratio:.2f} CPU (medians); memory ratio "
              f"{statistics.median(ours_mem) / statistics.median(theirs_mem):.2f}")
        print(f"              ratio within each round (wall): {ratio_stats(paired)}", flush=True)

    pk = read_zkey(zkey)
    witness = read_wtns(wtns)
    prove(pk, witness)  # prepares the key's bases and starts the worker once
    walls: list[float] = []
    cpus: list[float] = []
    waits: list[float] = []
    for _ in range(repeat):
        cpu0, worker0, wall0 = time.process_time(), worker_cpu_seconds(), time.perf_counter()
        proof = prove(pk, witness)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0 + worker_cpu_seconds() - worker0)
        waits.append(parallel.last_stats.wait_seconds)
    public = public_signals(pk, witness)
    single = []
    for _ in range(9):
        started = time.perf_counter()
        verify(pk.vk, public, proof)
        single.append(time.perf_counter() - started)
    started = time.perf_counter()
    batch_verify(pk.vk, [(public, proof)] * 64)
    batch = (time.perf_counter() - started) / 64
    out.update(ours_lib=walls, ours_cpu=cpus)
    print(f"  library     zkhealth {stats(walls)} wall, {stats(cpus)} CPU (both processes), "
          f"waiting for the worker at the end {stats(waits)}")
    lib = snarkjs_library(zkey, wtns, repeat) if have_snarkjs else None
    if lib:
        out["theirs_lib"] = lib
        print(f"              snarkjs  {stats(lib)} wall (groth16.prove in node, reads the files)")

    verify_cmd = [sys.executable, "-m", "zkhealth", "groth16", "verify", str(vk), str(tmp / "public.json"),
                  str(tmp / "proof.json")]
    v_ours = [run_measured(verify_cmd, env)[0] for _ in range(repeat)]
    line = f"  CLI verify  zkhealth {stats(v_ours)}"
    if have_snarkjs:
        v_theirs = [run_measured([str(SNARKJS_BIN), "groth16", "verify", str(vk), str(tmp / "public.json"),
                                  str(tmp / "proof.json")])[0] for _ in range(repeat)]
        line += f" | snarkjs {stats(v_theirs)}"
    print(line)
    print(f"  library verify {statistics.median(single) * 1000:.1f} ms, batch of 64 {batch * 1000:.1f} ms per proof")
    print(f"  {load_line()}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[12, 14])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--anchor", type=Path, default=None, help="anchor folder (default: beside the checkout)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "zkhealth-bench")
    args = parser.parse_args()
    # A package installed with pip runs from compiled bytecode (pip compiles on install, and Python caches
    # what it compiles unless PYTHONDONTWRITEBYTECODE is set): compile ours once, so that the CLI's start-up
    # is measured as a user's installation has it. Not timed.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True, capture_output=True)
    print(f"backend {backend_name()}, {parallel.default_workers()} workers, medians of {args.repeat} "
          f"[min - max]; snarkjs {'found' if SNARKJS_BIN.exists() else 'MISSING (npm ci --prefix tests/js)'}")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        anchor = args.anchor or find_anchor()
        if not args.skip_anchor:
            if anchor is None:
                print("anchor: shared/anchors/eligibility not found beside the checkout, skipped")
            else:
                results["anchor"] = bench_circuit(
                    "anchor (eligibility, 10,272 constraints)", anchor / "eligibility_final.zkey",
                    anchor / "witness.wtns", anchor / "verification_key.json", args.repeat, tmp,
                )
        for log_n in args.sizes:
            folder = chain_files(log_n, args.cache)
            results[f"2^{log_n}"] = bench_circuit(
                f"chain 2^{log_n}", folder / "circuit.zkey", folder / "witness.wtns", folder / "vk.json",
                args.repeat, tmp,
            )
    parallel.shutdown()
    print("\nsummary: prove wall, zkhealth / snarkjs (CLI medians, same files, same run)")
    for name, res in results.items():
        ratio = res.get("ratio")
        mem = ""
        if "theirs_mem" in res:
            mem = (f" (CPU {res['cpu_ratio']:.2f}), peak memory {statistics.median(res['ours_mem']):.0f} vs "
                   f"{statistics.median(res['theirs_mem']):.0f} MiB")
        if "paired" in res:
            mem += f"; within rounds {ratio_stats(res['paired'])}"
        print(f"  {name:8} {'-' if ratio is None else f'{ratio:.2f}'}{mem}")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
