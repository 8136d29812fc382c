"""The scope rule: which trial, contract and chain a proof is for, computed without web3.

:func:`trial_scope` is ``keccak256(abi.encode(uint256 chainId, address enrollment, bytes32 trialId)) >> 3``,
what the CohortEnrollment contract computes (docs/onchain.md); a trial that is not deployed uses chain 0 and
:data:`ZERO_ADDRESS`. Trial ids are 32 bytes (:func:`trial_id_bytes`); addresses are checked with EIP-55
(:func:`parse_address`).
"""

from __future__ import annotations

import re
from typing import Final

from zkhealth.errors import EligibilityError, EncodingError
from zkhealth.hash.keccak import keccak256

__all__ = ["ZERO_ADDRESS", "parse_address", "trial_id_bytes", "trial_scope"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)
#: The enrollment address of a trial that is not deployed (its scope is the off-chain scope).
ZERO_ADDRESS: Final[str] = "0x" + "00" * 20



def trial_id_bytes(trial_id: bytes | str) -> bytes:
    """32 bytes: bytes as given, ``0x`` + 64 hex digits, or an ASCII id (<= 32 bytes) right-padded with zeros
    (Solidity's ``bytes32("NCT05000001")``). Raises :class:`EligibilityError`."""
    if isinstance(trial_id, bytes):
        if len(trial_id) != 32:
            raise EligibilityError("a trial id given as bytes must be 32 bytes")
        return trial_id
    if not isinstance(trial_id, str) or not trial_id:
        raise EligibilityError("trial_id must be 32 bytes or a non-empty string")
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", trial_id):
        return bytes.fromhex(trial_id[2:])
    raw = trial_id.encode("ascii", errors="strict") if trial_id.isascii() else b""
    if not raw or len(raw) > 32:
        raise EligibilityError("a trial id string must be ASCII and at most 32 bytes (or 0x + 64 hex digits)")
    return raw.ljust(32, b"\0")


def _eip55(digits: str) -> str:
    """EIP-55 mixed-case form of 40 lower-case hex digits (a letter is upper-case where the keccak nibble of
    the lower-case address at its position is 8 or more)."""
    hashed = keccak256(digits.encode("ascii")).hex()
    nibbles = hashed[: len(digits)]
    return "".join(c.upper() if c.isalpha() and int(h, 16) >= 8 else c for c, h in zip(digits, nibbles, strict=True))


def parse_address(text: str, *, what: str = "address") -> str:
    """A 20-byte address as ``0x`` + 40 hex digits; returned lower-case.

    A mixed-case address must carry a valid EIP-55 checksum (a typo guard). Raises :class:`EncodingError`.
    """
    if not isinstance(text, str) or not _ADDRESS.fullmatch(text):
        raise EncodingError(f"{what} must be 0x followed by 40 hex digits")
    digits = text[2:]
    if digits != digits.lower() and digits != digits.upper() and _eip55(digits.lower()) != digits:
        raise EncodingError(f"{what} has a wrong EIP-55 checksum (mixed case): check for a typo")
    return "0x" + digits.lower()


def trial_scope(chain_id: int, enrollment_address: str, trial_id: bytes) -> int:
    """``uint256(keccak256(abi.encode(uint256 chainid, address enrollment, bytes32 trialId))) >> 3``.

    The Python mirror of CohortEnrollmentInit's scope, the one place zkhealth computes it. The shift makes it
    < 2^253 < r. ``enrollment_address`` is ``0x`` + 40 hex digits in any case (the checksum is not checked
    here). Raises :class:`EligibilityError` for a trial id that is not 32 bytes or a chain id that is not a
    uint256, :class:`EncodingError` for a malformed address. Cost: one keccak."""
    if not isinstance(trial_id, bytes) or len(trial_id) != 32:
        raise EligibilityError("trial_id must be exactly 32 bytes")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 <= chain_id < 2**256:
        raise EligibilityError("chain_id must be a uint256")
    if not isinstance(enrollment_address, str) or not _ADDRESS.fullmatch(enrollment_address):
        raise EncodingError("the enrollment address must be 0x followed by 40 hex digits")
    address = bytes.fromhex(enrollment_address[2:])
    encoded = chain_id.to_bytes(32, "big") + address.rjust(32, b"\0") + trial_id
    return int.from_bytes(keccak256(encoded), "big") >> 3
