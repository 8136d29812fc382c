"""Member verbs: propose, vote anonymously, queue and execute DAO proposals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkhealth.cli._common import emit, read_document
from zkhealth.cli._dao import chain_options, open_chain, receipt_payload

if TYPE_CHECKING:
    from zkhealth.chain.governance import Governance

__all__ = ["member_group"]


def _governance(w3: Any, governor: str) -> Governance:
    """The governor at ``governor`` and its timelock (read from the governor)."""
    from eth_utils.address import to_checksum_address

    from zkhealth.chain.build import load_artifact
    from zkhealth.chain.governance import Governance

    address = to_checksum_address(governor)
    probe = w3.eth.contract(address=address, abi=load_artifact("ZkHealthGovernor")["abi"])
    return Governance(w3, address, str(probe.functions.timelock().call()))


@click.group("member", short_help="Propose, vote anonymously, queue and execute.")
def member_group() -> None:
    """Member of the person registry: one person, one anonymous vote per proposal."""


@member_group.command("propose-issuer")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.option("--directory", required=True, metavar="0xADDRESS", help="The TrustDirectory.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the proposal file (queue and execute read it).")
@click.argument("ax", type=int)
@click.argument("ay", type=int)
@click.argument("label")
@click.pass_context
def propose_issuer_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                           governor: str, directory: str, out: Path, ax: int, ay: int, label: str) -> None:
    """Propose to admit the issuer with Baby Jubjub key (AX, AY) to the TrustDirectory."""
    from eth_utils.address import to_checksum_address

    from zkhealth._fileio import atomic_write
    from zkhealth.chain.build import load_artifact
    from zkhealth.chain.governance import Action

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    contract = w3.eth.contract(address=to_checksum_address(directory), abi=load_artifact("TrustDirectory")["abi"])
    proposal = g.propose([Action.call(contract, "addIssuer", ax, ay, label)], f"Admit issuer {label}", sender=sender)
    atomic_write(out, proposal.to_json().encode("utf-8"), mode=0o644)
    scope = g.proposal_scope(proposal.proposal_id)
    emit(ctx, {"proposal_id": str(proposal.proposal_id), "proposal_scope": str(scope)},
         f"proposal {proposal.proposal_id} written to {out}; votes prove for scope {scope}")


@member_group.command("vote")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_id", type=int)
@click.argument("ballot", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def vote_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                 governor: str, proposal_id: int, ballot: Path) -> None:
    """Cast the anonymous vote in BALLOT (a zkhealth.vote file: the proof and its four public signals; the
    choice is the proof's). Send it from a fresh address: the governor ignores who sends it."""
    from zkhealth.eligibility.vote import VoteProof

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    vote = VoteProof.from_json(read_document(ballot, "ballot"))
    receipt = g.vote(proposal_id, vote, sender=sender)
    emit(ctx, {**receipt_payload(receipt), "nullifier": str(vote.nullifier), "choice": vote.choice},
         f"voted {('against', 'for', 'abstain')[vote.choice]} on {proposal_id} ({int(receipt['gasUsed']):,} gas)")


@member_group.command("queue")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def queue_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                  governor: str, proposal_file: Path) -> None:
    """Queue a succeeded proposal in the timelock."""
    from zkhealth.chain.governance import Proposal

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    receipt = g.queue(Proposal.from_json(read_document(proposal_file, "proposal")), sender=sender)
    emit(ctx, receipt_payload(receipt), f"queued in block {int(receipt['blockNumber'])}")


@member_group.command("execute")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def execute_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                    governor: str, proposal_file: Path) -> None:
    """Execute a queued proposal once the timelock's delay has passed."""
    from zkhealth.chain.governance import Proposal

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    receipt = g.execute(Proposal.from_json(read_document(proposal_file, "proposal")), sender=sender)
    emit(ctx, receipt_payload(receipt), f"executed in block {int(receipt['blockNumber'])}")
