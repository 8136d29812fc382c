"""Keccak-256 (the trial scope and EIP-55 checksums are computed with it, without web3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.hash.keccak import keccak256

pytestmark = pytest.mark.native


def test_known_digests() -> None:
    # The empty string and "abc" (Keccak team's test vectors, Ethereum's keccak256).
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    # Not FIPS 202 SHA3-256 (other padding): the two differ on every input.
    import hashlib

    assert keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()


@pytest.mark.parametrize("length", [0, 1, 135, 136, 137, 271, 272, 273, 1000])
def test_block_boundaries_match_eth_utils(length: int) -> None:
    eth_utils = pytest.importorskip("eth_utils")
    data = bytes(range(256)) * 4
    assert keccak256(data[:length]) == bytes(eth_utils.keccak(data[:length]))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=600))
def test_matches_eth_utils(data: bytes) -> None:
    eth_utils = pytest.importorskip("eth_utils")
    assert keccak256(data) == bytes(eth_utils.keccak(data))
