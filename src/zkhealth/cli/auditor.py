"""``zkhealth audit``: rebuild the registry's and the DAO's history from events, check the invariants, export."""

from __future__ import annotations

from pathlib import Path

import click

from zkhealth.cli._common import emit

__all__ = ["audit_command"]


@click.command("audit", short_help="Rebuild the history from events and check the invariants.")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@click.option("--directory", default=None, metavar="0xADDRESS", help="The TrustDirectory.")
@click.option("--governor", default=None, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.option("--timelock", default=None, metavar="0xADDRESS", help="The TimelockController (root updates must "
              "come from it or from an authorised publisher).")
@click.option("--trial", "trial_id", type=int, default=None, help="Show only this trial's history.")
@click.option("--from-block", type=int, default=0, help="First block to read.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the history and findings as CSV.")
@click.option("--out", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write them as JSON.")
@click.pass_context
def audit_command(ctx: click.Context, rpc: str, registry: str, directory: str | None, governor: str | None,
                  timelock: str | None, trial_id: int | None, from_block: int, csv_path: Path | None,
                  json_path: Path | None) -> None:
    """Print the history (trials, roots and who published them, enrollments, consents, withdrawals and
    expiries, grants, payouts, proposals, votes, executions) and every broken invariant. Exit 1 when there is
    a finding."""
    from zkhealth._fileio import atomic_write
    from zkhealth.chain.audit import audit
    from zkhealth.cli._common import connect_rpc

    report = audit(connect_rpc(rpc), registry=registry, directory=directory, governor=governor,
                   timelock=timelock, trial_id=trial_id, from_block=from_block)
    if csv_path is not None:
        atomic_write(csv_path, report.to_csv().encode("utf-8"))
    if json_path is not None:
        atomic_write(json_path, report.to_json().encode("utf-8"))
    lines = report.history()
    lines.append(f"{len(report.events)} events, {len(report.findings)} findings")
    lines.extend(f"FINDING {f.rule}: {f.message} (block {f.block_number}, {f.transaction_hash})"
                 for f in report.findings)
    emit(ctx, report.to_dict(), "\n".join(lines))
    if report.findings:
        ctx.exit(1)
