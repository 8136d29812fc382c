"""The CLI prints the wall time a user waits for: the whole command, start-up and key loading included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from groth16_circuits import chain_r1cs, chain_witness

from zkhealth.cli._common import command_seconds, mark_command_start
from zkhealth.formats import save_proving_key, write_wtns
from zkhealth.groth16 import setup

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.prove
def test_groth16_prove_prints_the_whole_commands_wall_time(tmp_path: Path) -> None:
    n = 200
    pk, _ = setup(chain_r1cs(n), workers=1)
    save_proving_key(pk, tmp_path / "key.zkhpk")
    write_wtns(chain_witness(n, 5), tmp_path / "w.wtns")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "zkhealth", "groth16", "prove", str(tmp_path / "key.zkhpk"), str(tmp_path / "w.wtns"),
         str(tmp_path / "proof.json"), str(tmp_path / "public.json")],
        capture_output=True, text=True, env=env, check=True,
    )
    wall = time.monotonic() - started
    match = re.search(r"\(([0-9.]+) s\)", done.stderr)
    assert match is not None, done.stderr
    printed = float(match.group(1))
    # The printed figure starts with the process (interpreter start-up and imports included) and stops just
    # before exit: at least most of the measured wall time, never more.
    assert 0.6 * wall <= printed <= wall + 0.05, (printed, wall)


def test_command_seconds_is_marked_once_per_command() -> None:
    seen: list[float] = []

    @click.command()
    @click.pass_context
    def slow(ctx: click.Context) -> None:
        mark_command_start(ctx)
        first = ctx.obj["started"]
        time.sleep(0.05)
        mark_command_start(ctx)  # idempotent: the start stays where it was
        assert ctx.obj["started"] == first
        seen.append(command_seconds(ctx))

    assert CliRunner().invoke(slow, []).exit_code == 0
    assert CliRunner().invoke(slow, []).exit_code == 0
    assert len(seen) == 2 and all(s >= 0.05 for s in seen)
    # a later command in the same process counts from its own start, not from the process's
    assert seen[1] < 1.0

    @click.command()
    @click.pass_context
    def unmarked(ctx: click.Context) -> None:
        seen.append(command_seconds(ctx))

    assert CliRunner().invoke(unmarked, []).exit_code == 0
    assert seen[-1] == 0.0


@pytest.mark.prove
def test_groth16_prove_keeps_the_key_until_the_process_ends(tmp_path: Path) -> None:
    """Returning from `groth16 prove` frees nothing large: the command hands its proving key to
    release_at_exit (so its decoded points stay referenced until os._exit), and the prover's finalizer
    that drops the key's prepared MSM tables is not run at interpreter exit. Freeing them one by one took
    0.12 s after a 2^16 proof, between the printed time and the end of the process."""
    import weakref

    from zkhealth.cli import _common, run
    from zkhealth.groth16 import ProvingKey

    n = 200
    pk, _ = setup(chain_r1cs(n), workers=1)
    save_proving_key(pk, tmp_path / "key.zkhpk")
    write_wtns(chain_witness(n, 5), tmp_path / "w.wtns")
    assert run(["groth16", "prove", str(tmp_path / "key.zkhpk"), str(tmp_path / "w.wtns"),
                str(tmp_path / "proof.json"), str(tmp_path / "public.json")]) == 0
    kept = [obj for obj in _common._kept if isinstance(obj, ProvingKey)]
    assert len(kept) == 1 and kept[0] is not pk  # the key the command loaded from the file
    finalizers = [f for f in weakref.finalize._registry if f.peek() is not None and f.peek()[0] is kept[0]]
    assert finalizers and not any(f.atexit for f in finalizers)


def test_release_at_exit_freezes_the_collector_only_in_a_process_it_owns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console script and `python -m zkhealth` own their process (own_process): after the key is kept,
    every live object leaves the collector's generations, so the first collection after a key load does not
    walk the key's hundreds of thousands of tuples. In-process callers (tests, run()) are never frozen."""
    import gc

    from zkhealth.cli import _common

    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(_common, "_owns_process", False)
    _common.release_at_exit(object())
    assert gc.get_freeze_count() == 0  # run() from a test: nothing frozen
    monkeypatch.setattr(_common, "_owns_process", True)
    kept = [(i, i + 1) for i in range(1000)]
    try:
        _common.release_at_exit(kept)
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
        _common._kept.clear()


def test_the_entry_points_own_their_process() -> None:
    """`python -m zkhealth` marks its process as its own before the command runs (the console script does
    the same in ZkGroup.main when it parses sys.argv); run() does not."""
    code = (
        "import runpy, sys\n"
        "from zkhealth.cli import _common\n"
        "real = _common.exit_process\n"
        "_common.exit_process = lambda code: (print('exit', _common._owns_process, flush=True), real(code))\n"
        "sys.argv = ['zkhealth', '--version']\n"
        "from zkhealth.cli import run\n"
        "run(['--version']); print('run', _common._owns_process)\n"
        "runpy.run_module('zkhealth', run_name='__main__')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "run False" in out.stdout and "exit True" in out.stdout, out.stdout + out.stderr
    assert out.returncode == 0 and out.stdout.count("zkhealth") >= 2, out.stdout + out.stderr
