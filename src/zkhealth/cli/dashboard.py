"""``zkhealth serve``: the recruiter's dashboard, a local web app read from the chain (see
:mod:`zkhealth.dashboard`)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from zkhealth.cli._common import note, private_key_option

__all__ = ["serve_command"]


@click.command("serve", short_help="The recruiter's dashboard in a local web page (--demo: filled in one command).")
@click.option("--port", type=click.IntRange(0, 65_535), default=8000, show_default=True,
              help="TCP port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs --allow-remote.")
@click.option("--allow-remote", is_flag=True,
              help="Allow listening beyond this machine (anyone reaching the port reads the pages; with a signer, "
                   "anyone holding a page can make payouts).")
@click.option("--rpc", default=None, metavar="URL", help="JSON-RPC endpoint of the chain to read.")
@click.option("--registry", default=None, metavar="0xADDRESS", help="A TrialRegistry: every trial in it is shown.")
@click.option("--enrollment", "enrollments", multiple=True, metavar="0xADDRESS",
              help="A per-trial CohortEnrollment contract (repeatable).")
@click.option("--directory", default=None, metavar="0xADDRESS", help="The TrustDirectory (for the audit trail).")
@click.option("--governor", default=None, metavar="0xADDRESS", help="The ZkHealthGovernor (for the audit trail).")
@click.option("--timelock", default=None, metavar="0xADDRESS", help="The TimelockController (for the audit trail).")
@click.option("--from-block", type=click.IntRange(0), default=0, show_default=True,
              help="First block to read events from.")
@click.option("--trial", "trial_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A trial file (trial.json): its criteria, and its verifying key for the verify page, are shown "
                   "for the on-chain trial with the same scope (repeatable).")
@private_key_option("Sign milestone payouts with the hex private key on this file's first line.")
@click.option("--from", "signer", default=None, metavar="0xADDRESS",
              help="Sign milestone payouts as this unlocked node account. Without a signer the dashboard is read-only.")
@click.option("--demo", is_flag=True,
              help="Run the demo story first (on an embedded chain, or on --rpc) and show its chain.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --demo: where the demo's keys are cached (default: as `zkhealth demo`).")
@click.option("--no-cache", is_flag=True, help="With --demo: run the setup even if cached keys exist.")
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboard in the default web browser.")
@click.pass_context
def serve_command(
    ctx: click.Context, port: int, host: str, allow_remote: bool, rpc: str | None, registry: str | None,
    enrollments: tuple[str, ...], directory: str | None, governor: str | None, timelock: str | None,
    from_block: int, trial_files: tuple[Path, ...], private_key_file: Path | None, signer: str | None, demo: bool,
    cache_dir: Path | None, no_cache: bool, open_browser: bool,
) -> None:
    """Serve the recruiter's dashboard on http://127.0.0.1:PORT/: the trials (status, window, capacity,
    enrolled and active counts), each trial (enrollments over time, consents by state, root freshness, reward
    pool, criteria and what the verifier learns, the cohort), a page to verify a proof file, and the audit
    trail (filter, CSV export).

    \b
    zkhealth serve --demo                       the demo story, then its chain (one command, under a minute)
    zkhealth serve --rpc URL --registry 0x...   a registry and every trial in it
    zkhealth serve --rpc URL --enrollment 0x... --trial trial.json

    The dashboard holds no patient data. Payouts need a signer (--private-key-file or --from) and the page's
    CSRF token. Stop with Ctrl-C.
    """
    from zkhealth.cli._common import connect_rpc
    from zkhealth.dashboard.security import check_bind
    from zkhealth.dashboard.server import serve
    from zkhealth.dashboard.source import DashboardSource
    from zkhealth.errors import InvalidArgumentError

    started = time.perf_counter()
    try:
        check_bind(host, allow_remote=allow_remote)
    except InvalidArgumentError as error:
        raise click.UsageError(str(error)) from None
    if demo:
        if registry or enrollments:
            raise click.UsageError("--demo shows the demo's own contracts: leave out --registry and --enrollment")
        from zkhealth.dashboard.story import demo_source
        from zkhealth.demo import default_cache_dir

        cache: Path | bool = False if no_cache else (cache_dir if cache_dir is not None else default_cache_dir())
        note(f"zkhealth serve --demo: playing the demo story on {rpc or 'an embedded py-evm chain'} ...")

        def step(number: int, total: int, title: str) -> None:
            note(f"  [{number}/{total}] {title}")

        source = demo_source(rpc=rpc, cache_dir=cache, on_step=step)
    else:
        if rpc is None:
            raise click.UsageError("give --rpc URL with --registry or --enrollment, or use --demo")
        if registry is None and not enrollments:
            raise click.UsageError("give --registry 0xADDRESS or --enrollment 0xADDRESS (or both)")
        w3 = connect_rpc(rpc, private_key_file)
        if signer is None and private_key_file is not None:
            signer = str(w3.eth.default_account)
        source = DashboardSource.connect(
            w3, registry=registry, enrollments=enrollments, from_block=from_block, trial_files=trial_files,
            directory=directory, governor=governor, timelock=timelock, signer=signer, chain_label=rpc,
        )

    def ready(url: str) -> None:
        note(f"zkhealth dashboard: {url}  (ready in {time.perf_counter() - started:.1f} s; Ctrl-C stops it)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        serve(source, host=host, port=port, allow_remote=allow_remote, on_ready=ready)
    except InvalidArgumentError as error:
        raise click.UsageError(str(error)) from None
    except KeyboardInterrupt:
        note("stopped")
