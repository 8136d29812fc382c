"""Options and helpers shared by the DAO verbs (sponsor, recruiter, patient, member, operator, audit): a node
reached over ``--rpc``, a sending account (``--private-key-file`` or ``--from`` an unlocked account), and the
contract addresses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from zkhealth.cli._common import connect_rpc, private_key_option

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["chain_options", "open_chain", "receipt_payload"]


def chain_options(func: F) -> F:
    """``--rpc URL`` (required), ``--private-key-file``, ``--from ADDRESS``."""
    func = click.option(
        "--from", "sender", default=None, metavar="0xADDRESS",
        help="Send from this unlocked node account (default: the key file's address, else the node's first).",
    )(func)
    func = private_key_option("Sign with the hex private key on this file's first line.")(func)
    return click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")(func)


def open_chain(rpc: str, private_key_file: Path | None, sender: str | None) -> tuple[Any, str | None]:
    """The Web3 for ``rpc`` and the sending address (None: the default account)."""
    w3 = connect_rpc(rpc, private_key_file)
    return w3, sender


def receipt_payload(receipt: Any) -> dict[str, Any]:
    """What every transaction verb prints under ``--json``."""
    return {
        "transaction": "0x" + bytes(receipt["transactionHash"]).hex(),
        "block": int(receipt["blockNumber"]),
        "gas_used": int(receipt["gasUsed"]),
    }
