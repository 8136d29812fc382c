"""Keccak-256 as Ethereum uses it (the SHA-3 submission's padding ``0x01``, not FIPS 202's ``0x06``).

The scope of a trial is ``keccak256(abi.encode(...)) >> 3`` and EIP-55 address checksums are keccak too;
computing them here keeps the trial protocol free of web3. Specification: Bertoni, Daemen, Peeters,
Van Assche, "The Keccak reference", version 3.0 (2011): Keccak-f[1600] (24 rounds of theta, rho, pi, chi,
iota on a 5 x 5 array of 64-bit lanes), sponge with rate 1088 bits and capacity 512 bits, multi-rate
padding ``pad10*1``. Pure Python: about 20 microseconds a block, plenty for one scope or one checksum.
"""

from __future__ import annotations

from typing import Final

__all__ = ["keccak256"]

_MASK: Final[int] = (1 << 64) - 1
_RATE_BYTES: Final[int] = 136

# Round constants RC[i] (Keccak reference, Section 1.2, iota).
_ROUND_CONSTANTS: Final[tuple[int, ...]] = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip

# Rotation offsets r[x][y] of rho, indexed as lane x + 5 * y.
_ROTATIONS: Final[tuple[int, ...]] = (
    0, 1, 62, 28, 27,
    36, 44, 6, 55, 20,
    3, 10, 43, 25, 39,
    41, 45, 15, 21, 8,
    18, 2, 61, 56, 14,
)  # fmt: skip


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _keccak_f(lanes: list[int]) -> None:
    """Keccak-f[1600] in place on 25 lanes (lane x, y at index x + 5 * y)."""
    for round_constant in _ROUND_CONSTANTS:
        # theta
        parity = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20] for x in range(5)]
        for x in range(5):
            d = parity[(x - 1) % 5] ^ _rotl(parity[(x + 1) % 5], 1)
            for y in range(0, 25, 5):
                lanes[x + y] ^= d
        # rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
        moved = [0] * 25
        for x in range(5):
            for y in range(5):
                moved[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(lanes[x + 5 * y], _ROTATIONS[x + 5 * y])
        # chi
        for y in range(0, 25, 5):
            row = moved[y : y + 5]
            for x in range(5):
                lanes[x + y] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5])
        # iota
        lanes[0] ^= round_constant


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of ``data`` (Solidity's ``keccak256``)."""
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(bytes(-len(padded) % _RATE_BYTES))
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), _RATE_BYTES):
        block = padded[start : start + _RATE_BYTES]
        for i in range(_RATE_BYTES // 8):
            lanes[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])
