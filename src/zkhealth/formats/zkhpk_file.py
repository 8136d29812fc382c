"""zkhealth's compact proving-key file (``.zkhpk``), and loading any proving key by its magic.

Layout (documented in docs/formats.md); integers are little-endian ``u32``, field elements and coordinates
32-byte big-endian, the identity is all zeros, a G2 point is ``x0, x1, y0, y1`` (real parts first)::

    magic "zkpk", u32 version = 1
    u32 n_wires, u32 n_public, u32 domain_size, u32 n_constraints (0xFFFFFFFF: unknown)
    u32 len + ASCII provenance
    u32 |A entries|, u32 |B entries|, u32 |C entries| (0xFFFFFFFF: no C matrix)
    G1 alpha, beta, delta; G2 beta, gamma, delta
    G1 IC[n_public + 1], A[n_wires], B1[n_wires]; G2 B2[n_wires]; G1 L[n_wires - n_public - 1], H[domain_size]
    entries A, B, C: (u32 row, u32 wire, 32-byte coefficient) each
    sha256 of everything above (32 bytes)

Loading recomputes the sha256 first (a truncated or corrupted file raises :class:`R1csFormatError`), then
checks every coordinate is below q and every point lies on its curve (an off-curve base would turn the
prover's MSMs into an invalid-curve oracle on the witness). G2 subgroup membership is not checked here: it
only matters to a verifier, which checks the proof's B itself. Cost: about 1 s for 2^16 constraints.
"""

from __future__ import annotations

import gc
import hashlib
import os
import struct
from typing import Any

from zkhealth._fileio import atomic_write, naming
from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_R
from zkhealth.formats._binfile import read_binary
from zkhealth.formats._points import assemble_proving_key, decode_coordinates, g1_points, g2_points
from zkhealth.formats.key_cache import MatricesHook, load_cached
from zkhealth.formats.zkey_file import is_zkey, parse_zkey
from zkhealth.groth16.keys import PROVENANCES, G1Point, G2Point, ProvingKey, QapEntry

MAGIC = b"zkpk"
VERSION = 1
_NONE = 0xFFFFFFFF
_WHAT = "proving key"
_U32 = struct.Struct("<I")
_ENTRY = struct.Struct("<II32s")


def _g1_bytes(point: G1Point | None) -> bytes:
    if point is None:
        return bytes(64)
    return point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def _g2_bytes(point: G2Point | None) -> bytes:
    if point is None:
        return bytes(128)
    (x0, x1), (y0, y1) = point
    return b"".join(v.to_bytes(32, "big") for v in (x0, x1, y0, y1))


def proving_key_to_bytes(pk: ProvingKey) -> bytes:
    """Serialise ``pk`` (see the module docstring). Cost: O(key size)."""
    provenance = pk.provenance.encode("ascii")
    parts = [
        MAGIC,
        _U32.pack(VERSION),
        _U32.pack(pk.n_wires),
        _U32.pack(pk.n_public),
        _U32.pack(pk.domain_size),
        _U32.pack(_NONE if pk.n_constraints is None else pk.n_constraints),
        _U32.pack(len(provenance)),
        provenance,
        _U32.pack(len(pk.a_entries)),
        _U32.pack(len(pk.b_entries)),
        _U32.pack(_NONE if pk.c_entries is None else len(pk.c_entries)),
        _g1_bytes(pk.vk.alpha_g1),
        _g1_bytes(pk.beta_g1),
        _g1_bytes(pk.delta_g1),
        _g2_bytes(pk.vk.beta_g2),
        _g2_bytes(pk.vk.gamma_g2),
        _g2_bytes(pk.vk.delta_g2),
    ]
    parts.extend(_g1_bytes(p) for p in pk.vk.gamma_abc_g1)
    parts.extend(_g1_bytes(p) for p in pk.a_query)
    parts.extend(_g1_bytes(p) for p in pk.b_g1_query)
    parts.extend(_g2_bytes(p) for p in pk.b_g2_query)
    parts.extend(_g1_bytes(p) for p in pk.l_query)
    parts.extend(_g1_bytes(p) for p in pk.h_query)
    for entries in (pk.a_entries, pk.b_entries, pk.c_entries or []):
        parts.extend(_ENTRY.pack(row, wire, coeff.to_bytes(32, "big")) for row, wire, coeff in entries)
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


class _Cursor:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise R1csFormatError(f"{_WHAT}: file truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def _coords(self, count: int) -> list[int]:
        return decode_coordinates(self.take(32 * count), count, "big")

    def g1s(self, count: int, what: str) -> list[G1Point | None]:
        return g1_points(self._coords(2 * count), f"{_WHAT} {what}")

    def g2s(self, count: int, what: str) -> list[G2Point | None]:
        return g2_points(self._coords(4 * count), f"{_WHAT} {what}")

    def entries(self, count: int, n_rows: int, n_wires: int) -> list[QapEntry]:
        raw = self.take(_ENTRY.size * count)
        out: list[QapEntry] = []
        for row, wire, coeff_bytes in _ENTRY.iter_unpack(raw):
            coeff = int.from_bytes(coeff_bytes, "big")
            if row >= n_rows or wire >= n_wires or coeff >= FIELD_R:
                raise R1csFormatError(f"{_WHAT}: a matrix entry is out of range")
            out.append((row, wire, coeff))
        return out


def parse_proving_key(data: bytes) -> ProvingKey:
    """Parse our ``.zkhpk`` bytes (see the module docstring)."""
    if len(data) < 8 + 32 or data[:4] != MAGIC:
        raise R1csFormatError(f"{_WHAT}: not a zkhealth proving key (bad magic)")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise R1csFormatError(f"{_WHAT}: sha256 mismatch (corrupted or truncated file)")
    cur = _Cursor(body, 4)
    if cur.u32() != VERSION:
        raise R1csFormatError(f"{_WHAT}: unsupported version")
    n_wires, n_public, domain_size, n_constraints = cur.u32(), cur.u32(), cur.u32(), cur.u32()
    if n_wires < n_public + 1 or domain_size & (domain_size - 1) or not 0 < domain_size <= 1 << 27:
        raise R1csFormatError(f"{_WHAT}: inconsistent counts")
    provenance = cur.take(cur.u32()).decode("ascii", errors="replace")
    if provenance not in PROVENANCES:
        raise R1csFormatError(f"{_WHAT}: unknown provenance")
    n_a, n_b, n_c = cur.u32(), cur.u32(), cur.u32()
    alpha_1, beta_1, delta_1 = cur.g1s(3, "alpha, beta, delta")
    beta_2, gamma_2, delta_2 = cur.g2s(3, "beta, gamma, delta")
    queries: dict[str, list[Any]] = {
        "ic": cur.g1s(n_public + 1, "IC"),
        "a": cur.g1s(n_wires, "A"),
        "b1": cur.g1s(n_wires, "B1"),
        "b2": cur.g2s(n_wires, "B2"),
        "l": cur.g1s(n_wires - n_public - 1, "L"),
        "h": cur.g1s(domain_size, "H"),
    }
    a_entries = cur.entries(n_a, domain_size, n_wires)
    b_entries = cur.entries(n_b, domain_size, n_wires)
    c_entries = None if n_c == _NONE else cur.entries(n_c, domain_size, n_wires)
    if cur.pos != len(body):
        raise R1csFormatError(f"{_WHAT}: trailing bytes")
    return assemble_proving_key(
        _WHAT,
        provenance=provenance,
        n_wires=n_wires,
        domain_size=domain_size,
        g1={"alpha_1": alpha_1, "beta_1": beta_1, "delta_1": delta_1},
        g2={"beta_2": beta_2, "gamma_2": gamma_2, "delta_2": delta_2},
        queries=queries,
        entries=(a_entries, b_entries, c_entries),
        n_constraints=None if n_constraints == _NONE else n_constraints,
    )


def save_proving_key(pk: ProvingKey, path: str | os.PathLike[str]) -> None:
    """Write ``pk`` in our compact format, atomically: a crash or a full disk leaves the old file or the new
    one, never a truncated key."""
    atomic_write(path, proving_key_to_bytes(pk), mode=0o644)


def _parse_any(data: bytes) -> ProvingKey:
    return parse_zkey(data) if is_zkey(data) else parse_proving_key(data)


def load_proving_key(path: str | os.PathLike[str], *, on_matrices: MatricesHook | None = None) -> ProvingKey:
    """Load a proving key, detecting the format by its magic: ours (``zkpk``) or a snarkjs ``.zkey``; errors
    name the file. The first load of some key bytes parses and checks everything and writes a cache entry;
    later loads of the same bytes start from it (:mod:`zkhealth.formats.key_cache`; ``ZKHEALTH_KEY_CACHE=0``
    turns it off). ``on_matrices``: see :func:`zkhealth.formats.key_cache.load_cached` (called only when the
    key comes from a cache entry)."""
    data = read_binary(path)
    # Decoding makes hundreds of thousands of tuples and no reference cycles; in a fresh process the
    # collector would walk them all at least once (anchor key: 0.131-0.138 s -> 0.118-0.124 s CPU without).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with naming(path):
            return load_cached(data, _parse_any, on_matrices)
    finally:
        if was_enabled:
            gc.enable()
