"""The three ffjavascript encodings of BN254 points that snarkjs' ceremony files and hashes use.

* **LEM** (how ``.ptau`` and ``.zkey`` store points): each coordinate ``x * 2^256 mod q`` (Montgomery form),
  32 bytes little-endian; a G2 coordinate is ``c0`` then ``c1``; the identity is all zeros.
* **Uncompressed** (what the BLAKE2b challenge and circuit hashes absorb): standard form, big-endian; a G2
  coordinate is the 64-byte number ``c1 || c0`` (``c1`` first); the identity is all zeros.
* **Compressed** (what a powers-of-tau response hash absorbs): x as above; the top byte gets ``0x80`` when y
  is "negative" (``y > (q-1)/2``; in Fq2 the sign of ``c1``, or of ``c0`` when ``c1 = 0``); the identity is
  ``0x40`` followed by zeros.

Decoding checks every coordinate is below q, then hands the points to :mod:`._points` (identity and curve
checks, shared with every key reader), and raises :class:`~zkhealth.errors.CeremonyFileError` naming the
file and section. G2 subgroup membership is
not checked here (it costs a scalar multiplication per point): the ceremony verifiers test it in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import mod, mul
from typing import Any, Final

from zkhealth._bigint import mpz
from zkhealth.errors import CeremonyFileError, R1csFormatError
from zkhealth.field import FIELD_Q
from zkhealth.formats._points import decode_coordinates, g1_points, g2_points
from zkhealth.hazmat.bn254 import G1, G2

__all__ = [
    "G1_SIZE",
    "G2_SIZE",
    "decode_g1",
    "decode_g2",
    "encode_g1",
    "encode_g2",
    "g1_compressed",
    "g1_uncompressed",
    "g2_compressed",
    "g2_uncompressed",
]

G1_SIZE: Final[int] = 64
G2_SIZE: Final[int] = 128
_MONT: Final[int] = 2**256 % FIELD_Q
_MONT_INV: Final[int] = pow(_MONT, -1, FIELD_Q)
_HALF: Final[int] = (FIELD_Q - 1) // 2
_Q_B: Final[Any] = mpz(FIELD_Q)
_MONT_INV_B: Final[Any] = mpz(_MONT_INV)


def _coordinates(raw: bytes, count: int, path: str | None, section: int | str | None) -> list[Any]:
    if len(raw) != 32 * count:
        raise CeremonyFileError(
            f"expected {32 * count} bytes of coordinates, got {len(raw)}", path=path, section=section
        )
    # One conversion of the whole buffer and one split, then the Montgomery factor removed with whole-list
    # operations on the big-integer backend (about a third of the time of a conversion per coordinate).
    values = decode_coordinates(raw, count, "little", backend=True)
    if values and max(values) >= FIELD_Q:
        raise CeremonyFileError("a coordinate is not below q", path=path, section=section)
    return list(map(mod, map(mul, values, repeat(_MONT_INV_B)), repeat(_Q_B)))


def decode_g1(
    raw: bytes, count: int, *, path: str | None = None, section: int | str | None = None
) -> list[G1 | None]:
    """``count`` LEM G1 points from ``raw`` (exactly ``64 * count`` bytes), checked on the curve."""
    coords = _coordinates(raw, 2 * count, path, section)
    try:
        return g1_points(coords, "G1 points")
    except R1csFormatError as exc:
        raise CeremonyFileError(str(exc), path=path, section=section) from exc


def decode_g2(
    raw: bytes, count: int, *, path: str | None = None, section: int | str | None = None
) -> list[G2 | None]:
    """``count`` LEM G2 points from ``raw`` (exactly ``128 * count`` bytes), checked on the twist."""
    coords = _coordinates(raw, 4 * count, path, section)
    try:
        return g2_points(coords, "G2 points")
    except R1csFormatError as exc:
        raise CeremonyFileError(str(exc), path=path, section=section) from exc


def encode_g1(points: Sequence[G1 | None]) -> bytes:
    """LEM bytes of G1 points (the identity as 64 zero bytes)."""
    q = FIELD_Q
    mont = _MONT
    zero = bytes(64)
    return b"".join(
        zero if p is None else (p[0] * mont % q).to_bytes(32, "little") + (p[1] * mont % q).to_bytes(32, "little")
        for p in points
    )


def encode_g2(points: Sequence[G2 | None]) -> bytes:
    """LEM bytes of G2 points (x.c0, x.c1, y.c0, y.c1; the identity as 128 zero bytes)."""
    q = FIELD_Q
    mont = _MONT
    zero = bytes(128)
    parts = []
    for p in points:
        if p is None:
            parts.append(zero)
            continue
        (x0, x1), (y0, y1) = p
        parts.append(b"".join((v * mont % q).to_bytes(32, "little") for v in (x0, x1, y0, y1)))
    return b"".join(parts)


def g1_uncompressed(points: Sequence[G1 | None]) -> bytes:
    """Uncompressed bytes of G1 points: x, y big-endian; the identity as zeros."""
    zero = bytes(64)
    return b"".join(zero if p is None else p[0].to_bytes(32, "big") + p[1].to_bytes(32, "big") for p in points)


def g2_uncompressed(points: Sequence[G2 | None]) -> bytes:
    """Uncompressed bytes of G2 points: x.c1, x.c0, y.c1, y.c0 big-endian; the identity as zeros."""
    zero = bytes(128)
    return b"".join(
        zero if p is None else b"".join(v.to_bytes(32, "big") for v in (p[0][1], p[0][0], p[1][1], p[1][0]))
        for p in points
    )


def g1_compressed(points: Sequence[G1 | None]) -> bytes:
    """Compressed bytes of G1 points (32 each, see the module docstring)."""
    identity = b"\x40" + bytes(31)
    half = _HALF
    sign = 1 << 255
    return b"".join(
        identity if p is None else (p[0] | (sign if p[1] > half else 0)).to_bytes(32, "big") for p in points
    )


def g2_compressed(points: Sequence[G2 | None]) -> bytes:
    """Compressed bytes of G2 points (64 each: x.c1, x.c0, the sign bit on the top byte)."""
    identity = b"\x40" + bytes(63)
    half = _HALF
    parts = []
    for p in points:
        if p is None:
            parts.append(identity)
            continue
        (x0, x1), (y0, y1) = p
        negative = y1 > half if y1 else y0 > half
        head = x1 | (1 << 255) if negative else x1
        parts.append(head.to_bytes(32, "big") + x0.to_bytes(32, "big"))
    return b"".join(parts)
