"""BLAKE-512: the SHA-3 finalist BLAKE (final round-3 version, 16 rounds), NOT BLAKE2b.

circomlibjs derives EdDSA keys and nonces with it (npm ``blake-hash``), so EdDSA-Poseidon signatures only
reproduce byte for byte with exactly this function. Specification: Aumasson, Henzen, Meier, Phan, "SHA-3
proposal BLAKE", version 1.3 (2010): Section 2.2 (BLAKE-512), with

* chaining value initialised to SHA-512's IV, salt fixed to zero;
* compression: 16 rounds of G over columns then diagonals, rotations 32, 25, 16, 11, permutations
  sigma[r mod 10], constants u0..u15 = the first 1024 bits of pi's fractional part;
* padding: a 1 bit, zeros, a 1 bit, then the 128-bit message length in bits (big endian); the counter
  holds the number of message bits up to the end of the block, and 0 for a block with padding only.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["blake512"]

_MASK: Final[int] = (1 << 64) - 1

_IV: Final[tuple[int, ...]] = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip

# u0..u15: the leading digits of pi (BLAKE specification, Section 2.2.1).
_U: Final[tuple[int, ...]] = (
    0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89,
    0x452821E638D01377, 0xBE5466CF34E90C6C, 0xC0AC29B7C97C50DD, 0x3F84D5B5B5470917,
    0x9216D5D98979FB1B, 0xD1310BA698DFB5AC, 0x2FFD72DBD01ADFB7, 0xB8E1AFED6A267E96,
    0xBA7C9045F12C7F99, 0x24A19947B3916CF7, 0x0801F2E2858EFC16, 0x636920D871574E69,
)  # fmt: skip

_SIGMA: Final[tuple[tuple[int, ...], ...]] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)

_ROUNDS: Final[int] = 16
# The eight G applications of a round: four columns, then four diagonals (state indices a, b, c, d).
_G_POSITIONS: Final[tuple[tuple[int, int, int, int], ...]] = (
    (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
    (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
)  # fmt: skip

# For every round and G: (a, b, c, d, m-index of the first word, u of the first word, m-index of the
# second word, u of the second word). G_i uses m[s(2i)] ^ u[s(2i+1)] first and m[s(2i+1)] ^ u[s(2i)] second.
_SCHEDULE: Final[tuple[tuple[int, int, int, int, int, int, int, int], ...]] = tuple(
    (
        a,
        b,
        c,
        d,
        _SIGMA[r % 10][2 * i],
        _U[_SIGMA[r % 10][2 * i + 1]],
        _SIGMA[r % 10][2 * i + 1],
        _U[_SIGMA[r % 10][2 * i]],
    )
    for r in range(_ROUNDS)
    for i, (a, b, c, d) in enumerate(_G_POSITIONS)
)

_BLOCK: Final[int] = 128
_WORDS: Final[struct.Struct] = struct.Struct(">16Q")


def _compress(h: list[int], block: bytes, counter: int) -> list[int]:
    """One BLAKE-512 compression of a 128-byte block with the given bit counter (salt = 0)."""
    m = _WORDS.unpack(block)
    t0 = counter & _MASK
    t1 = counter >> 64
    u = _U
    v = [
        *h,
        u[0], u[1], u[2], u[3],
        t0 ^ u[4], t0 ^ u[5], t1 ^ u[6], t1 ^ u[7],
    ]  # fmt: skip
    mask = _MASK
    for a, b, c, d, i1, u1, i2, u2 in _SCHEDULE:
        va, vb, vc, vd = v[a], v[b], v[c], v[d]
        va = (va + vb + (m[i1] ^ u1)) & mask
        x = vd ^ va
        vd = ((x >> 32) | (x << 32)) & mask
        vc = (vc + vd) & mask
        x = vb ^ vc
        vb = ((x >> 25) | (x << 39)) & mask
        va = (va + vb + (m[i2] ^ u2)) & mask
        x = vd ^ va
        vd = ((x >> 16) | (x << 48)) & mask
        vc = (vc + vd) & mask
        x = vb ^ vc
        vb = ((x >> 11) | (x << 53)) & mask
        v[a], v[b], v[c], v[d] = va, vb, vc, vd
    # Finalisation with salt 0: h'_i = h_i ^ s_(i mod 4) ^ v_i ^ v_(i+8).
    return [h[i] ^ v[i] ^ v[i + 8] for i in range(8)]


def blake512(data: bytes) -> bytes:
    """Return the 64-byte BLAKE-512 digest of ``data`` (bytes, bytearray or memoryview).

    Raises :class:`TypeError` for other types. Cost: about 0.1-0.2 ms per 128-byte block in CPython.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"blake512 expects bytes, got {type(data).__name__}")
    message = bytes(data)
    length_bits = len(message) * 8
    h = list(_IV)
    full_blocks = len(message) // _BLOCK
    for i in range(full_blocks):
        h = _compress(h, message[i * _BLOCK : (i + 1) * _BLOCK], (i + 1) * _BLOCK * 8)
    tail = message[full_blocks * _BLOCK :]
    # Padding: 0x80 .. 0x01 (merged into 0x81 when only one byte is free), then the 128-bit length.
    if len(tail) <= _BLOCK - 17:
        pad_len = _BLOCK - 16 - len(tail)
        padding = b"\x81" if pad_len == 1 else b"\x80" + b"\x00" * (pad_len - 2) + b"\x01"
        last = tail + padding + length_bits.to_bytes(16, "big")
        # The counter of a block that holds message bits is the message length; with none it is 0.
        h = _compress(h, last, length_bits if tail else 0)
    else:
        first = tail + b"\x80" + b"\x00" * (_BLOCK - len(tail) - 1)
        h = _compress(h, first, length_bits)
        last = b"\x00" * (_BLOCK - 17) + b"\x01" + length_bits.to_bytes(16, "big")
        h = _compress(h, last, 0)
    return struct.pack(">8Q", *h)
