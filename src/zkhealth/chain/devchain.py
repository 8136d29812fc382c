"""Moving a development chain forward: mine blocks and advance time, on py-evm (EthereumTesterProvider) or on a
development node over JSON-RPC (anvil's ``evm_mine`` / ``evm_increaseTime``).

Governance needs both: a proposal's voting period is counted in blocks and the timelock's delay in seconds.
Tests, benchmarks and the demo use these; on a real network time simply passes.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3

from zkhealth.chain.anvil import rpc
from zkhealth.errors import ChainError

__all__ = ["advance_time", "mine"]


def _tester(w3: Web3) -> Any | None:
    """The EthereumTester behind an embedded provider, or None for an RPC node."""
    return getattr(w3.provider, "ethereum_tester", None)


def mine(w3: Web3, blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks. Raises :class:`ChainError` on a node without ``evm_mine``."""
    if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 0:
        raise ChainError("blocks must be a non-negative int")
    tester = _tester(w3)
    if tester is not None:
        tester.mine_blocks(blocks)
        return
    for _ in range(blocks):
        rpc(w3, "evm_mine")


def advance_time(w3: Web3, seconds: int) -> None:
    """Move the chain's clock ``seconds`` forward and mine one block at the new time."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ChainError("seconds must be a non-negative int")
    tester = _tester(w3)
    if tester is not None:
        latest = int(w3.eth.get_block("latest")["timestamp"])
        tester.time_travel(latest + seconds)
        return
    rpc(w3, "evm_increaseTime", [seconds])
    rpc(w3, "evm_mine")
