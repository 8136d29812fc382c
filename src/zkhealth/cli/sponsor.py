"""Sponsor verbs: fund a trial's reward pool and reclaim what is left after the trial closes."""

from __future__ import annotations

from pathlib import Path

import click

from zkhealth.cli._common import emit
from zkhealth.cli._dao import chain_options, open_chain, receipt_payload

__all__ = ["sponsor_group"]


@click.group("sponsor", short_help="Fund and reclaim a trial's reward pool.")
def sponsor_group() -> None:
    """Sponsor: fund a trial's ERC-20 reward pool, reclaim the rest after the trial closes."""


@sponsor_group.command("fund")
@chain_options
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@click.argument("trial_id", type=int)
@click.argument("amount", type=int)
@click.pass_context
def fund_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                 registry: str, trial_id: int, amount: int) -> None:
    """Approve the registry for AMOUNT (token base units) and fund TRIAL_ID's pool."""
    from zkhealth.chain.registry import TrialRegistryClient

    w3, sender = open_chain(rpc, private_key_file, sender)
    receipt = TrialRegistryClient(w3, registry).fund(trial_id, amount, sender=sender)
    emit(ctx, receipt_payload(receipt), f"funded trial {trial_id} with {amount} ({int(receipt['gasUsed']):,} gas)")


@sponsor_group.command("reclaim")
@chain_options
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@click.argument("trial_id", type=int)
@click.pass_context
def reclaim_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                    registry: str, trial_id: int) -> None:
    """After the trial closed, move the pool's balance back to the sponsor."""
    from zkhealth.chain.registry import TrialRegistryClient

    w3, sender = open_chain(rpc, private_key_file, sender)
    client_ = TrialRegistryClient(w3, registry)
    balance, _ = client_.pool(trial_id)
    receipt = client_.reclaim(trial_id, sender=sender)
    emit(ctx, {**receipt_payload(receipt), "amount": str(balance)}, f"reclaimed {balance} from trial {trial_id}")
