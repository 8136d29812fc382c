"""``zkhealth demo``: the whole story on synthetic data, each step printed with its timing (see
:mod:`zkhealth.demo`), and ``zkhealth demo dao``: the patient data DAO story with the real universal circuit
(:mod:`zkhealth.demo_dao`, :mod:`zkhealth.demo_universal`)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from zkhealth.cli._common import command_seconds, emit, is_json

__all__ = ["demo_command", "samples_command"]


@click.group("demo", invoke_without_command=True,
             short_help="Run the whole story on synthetic data (1-2 min; `demo dao`: the patient data DAO).")
@click.option(
    "--rpc", default=None, metavar="URL",
    help="Run against this JSON-RPC node (needs unlocked, funded accounts: anvil, a dev geth). "
    "Default: an embedded py-evm chain.",
)
@click.option(
    "--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where to cache the keys between runs (default: $XDG_CACHE_HOME/zkhealth/demo or ~/.cache/zkhealth/demo).",
)
@click.option("--no-cache", is_flag=True, help="Run the setup even if cached keys exist; cache nothing.")
@click.option("--skip-universal", is_flag=True,
              help="Stop after step 12 (skip the universal circuit's steps 13-16 and their two 2^17 proofs).")
@click.pass_context
def demo_command(ctx: click.Context, rpc: str | None, cache_dir: Path | None, no_cache: bool,
                 skip_universal: bool) -> None:
    """Tell the whole story on synthetic data, printing each step with its timing:

    \b
    1. a hospital issues whole-record credentials from FHIR bundles (two adults and a minor, all with
       type 2 diabetes);
    2. the registry operator registers the hospital and signs the trust root;
    3. a trial is defined: diagnosis in E11.* and age >= 18;
    4. setup runs (keys are cached, keyed by the program and circuit hashes);
    5. the trial's enrollment contract is deployed with the trust root;
    6-7. patient A proves and enrolls on-chain;
    8. the ineligible patient is refused with the failing clause, before any proving;
    9. a second enrollment by patient A is refused (NullifierUsed);
    10. patient B proves; the hospital then revokes B's credential and the operator publishes the new root;
    11. a day later B's earlier proof is refused (StaleRootError off-chain, StaleRoot on-chain) and B cannot
        prove again (CredentialRevokedError);
    12. the cohort is listed;
    13. one registry for every trial: the TrialRegistry is deployed with the universal key set;
    14. two trials are created in it, one transaction each (no setup, no new verifier); the first has a
        funded ERC-20 reward pool;
    15-16. an adult (a whole-record credential) proves for both with the universal circuit and enrolls in
        both, paid 10 TRW in the first enrollment's transaction: two nullifiers nobody can link.

    Measured on two quiet cores with gmpy2: steps 1-12 take about 10 s with cached keys; steps 13-16 add about
    35 s (two proofs of the 2^17 universal circuit); a first run also makes the trial's keys and rebuilds the
    universal development key set once (DEVELOPMENT keys: anyone can forge proofs for them). In all, 72 s on a
    first run and 43-44 s after (2026-12-06); several times that on a busy machine.
    Needs the chain extra (pip install -e ".[fast,chain]"). Exit 0 when the story went as told. Each step
    prints its wall time; the last line, the whole command's.
    """
    if ctx.invoked_subcommand is not None:
        return
    from zkhealth.demo import DemoStep, default_cache_dir, run_demo

    quiet = is_json(ctx)
    cache: Path | bool = False if no_cache else (cache_dir if cache_dir is not None else default_cache_dir())
    live: list[Any] = []

    def started(number: int, total: int, title: str) -> None:
        if quiet:
            return
        click.echo(f"[{number}/{total}] {title}")
        if sys.stdout.isatty():
            from rich.console import Console

            spinner = Console().status("  working...")
            spinner.start()
            live.append(spinner)

    def finished(number: int, step: DemoStep) -> None:
        while live:
            live.pop().stop()
        if not quiet:
            click.echo(f"      {step.outcome}  ({step.seconds:.1f} s)")

    if not quiet:
        where = "an embedded py-evm chain" if rpc is None else rpc
        click.echo(f"zkhealth demo: synthetic patients, {where}; keys cached in {cache or 'nowhere (--no-cache)'}")
    try:
        result = run_demo(rpc=rpc, cache_dir=cache, on_step_start=started, on_step_done=finished,
                          universal=not skip_universal)
    finally:
        for spinner in live:
            with contextlib.suppress(Exception):
                spinner.stop()
    # The whole command's wall time (Python's start-up and the imports of the chain stack included), which
    # is what the user waited for; the steps above add up to less.
    total = command_seconds(ctx)
    keys = "cached keys" if result.used_cached_keys else "setup included"
    emit(ctx, {**result.to_dict(), "command_seconds": round(total, 3)},
         f"done in {total:.1f} s ({keys}). Next: docs/getting-started.md")


@demo_command.command("dao", short_help="The patient data DAO story, with the real universal circuit.")
@click.option("--rpc", default=None, metavar="URL",
              help="Run against this JSON-RPC node (ten unlocked, funded accounts: anvil). Default: embedded py-evm.")
@click.pass_context
def demo_dao_command(ctx: click.Context, rpc: str | None) -> None:
    """The patient data DAO, played and timed on synthetic data: the DAO is deployed (TrialRegistry with the
    universal key set, TrustDirectory, anonymous-vote Governor, timelock); the operator publishes the trust
    root; a recruiter creates a funded trial; a patient proves with the universal circuit and enrolls with
    consent, paid in the same transaction; a milestone is paid; members vote anonymously to admit an issuer;
    the timelock executes it; the audit trail checks the invariants. About 2-4 minutes on two cores (a first
    run without the universal proving key installed rebuilds it once: 2-5 minutes more).
    """
    import warnings

    from zkhealth.cli._common import note
    from zkhealth.demo import demo_data
    from zkhealth.demo_dao import DaoDemoStep, run_dao_demo
    from zkhealth.demo_universal import ensure_universal_proving_key, universal_enrollment
    from zkhealth.eligibility.universal_keys import DEVELOPMENT_WARNING, DevelopmentKeyWarning

    quiet = is_json(ctx)
    note(f"WARNING: {DEVELOPMENT_WARNING}")

    def started(number: int, total: int, title: str) -> None:
        if not quiet:
            click.echo(f"[{number}/{total}] {title}")

    def finished(number: int, step: DaoDemoStep) -> None:
        if not quiet:
            click.echo(f"      {step.outcome}  ({step.seconds:.1f} s)")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        key = ensure_universal_proving_key(
            lambda: note("the universal proving key is not installed: rebuilding the development set (2-5 min)"))
        result = run_dao_demo(universal_enrollment(demo_data("t2d_adult.json"), pk=key), rpc=rpc,
                              on_step_start=started, on_step_done=finished)
    emit(ctx, result.to_dict(), f"done in {result.total_seconds:.1f} s; audit: "
         f"{'no finding' if not result.findings else '; '.join(result.findings)}")


@click.command("samples", short_help="Write the getting-started tour's sample files (FHIR bundles, a circuit).")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace sample files that already exist.")
@click.pass_context
def samples_command(ctx: click.Context, directory: Path, force: bool) -> None:
    """Write the inputs of docs/getting-started.md into DIRECTORY (default: the current one).

    \b
    t2d_adult.json   a synthetic FHIR R4 bundle: an adult with type 2 diabetes and hypertension
    t2d_minor.json   a synthetic FHIR R4 bundle: a 15-year-old with type 2 diabetes
    cubic.py         the "cubic" circuit: prove knowledge of x with x**3 + x + 5 == out

    Existing files are kept unless --force (exit 2).
    """
    from zkhealth.demo import write_samples

    written = write_samples(directory, force=force)
    emit(ctx, {"directory": str(directory), "files": [str(path) for path in written]},
         "\n".join(f"wrote {path}" for path in written))
