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

import hashlib
import os
import struct
from pathlib import Path

from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats.zkey_file import is_zkey, parse_zkey
from zkhealth.groth16.keys import PROVENANCES, G1Point, G2Point, ProvingKey, QapEntry, VerifyingKey

MAGIC = b"zkpk"
VERSION = 1
_NONE = 0xFFFFFFFF
_WHAT = "proving key"
_U32 = struct.Struct("<I")
_ENTRY = struct.Struct("<II32s")
_B2 = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)


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

    def g1s(self, count: int) -> list[G1Point | None]:
        raw = self.take(64 * count)
        q = FIELD_Q
        out: list[G1Point | None] = []
        for i in range(count):
            x = int.from_bytes(raw[64 * i : 64 * i + 32], "big")
            y = int.from_bytes(raw[64 * i + 32 : 64 * i + 64], "big")
            if x == 0 and y == 0:
                out.append(None)
                continue
            if x >= q or y >= q or (y * y - x * x * x - 3) % q:
                raise R1csFormatError(f"{_WHAT}: a G1 point is not canonical or not on the curve")
            out.append((x, y))
        return out

    def g2s(self, count: int) -> list[G2Point | None]:
        raw = self.take(128 * count)
        q = FIELD_Q
        out: list[G2Point | None] = []
        for i in range(count):
            x0, x1, y0, y1 = (int.from_bytes(raw[128 * i + 32 * k : 128 * i + 32 * k + 32], "big") for k in range(4))
            if x0 == x1 == y0 == y1 == 0:
                out.append(None)
                continue
            if max(x0, x1, y0, y1) >= q:
                raise R1csFormatError(f"{_WHAT}: a G2 coordinate is not below q")
            xx0, xx1 = (x0 * x0 - x1 * x1) % q, 2 * x0 * x1 % q
            lhs = ((y0 * y0 - y1 * y1) % q, 2 * y0 * y1 % q)
            rhs = ((xx0 * x0 - xx1 * x1 + _B2[0]) % q, (xx0 * x1 + xx1 * x0 + _B2[1]) % q)
            if lhs != rhs:
                raise R1csFormatError(f"{_WHAT}: a G2 point is not on the twist")
            out.append(((x0, x1), (y0, y1)))
        return out

    def entries(self, count: int, n_rows: int, n_wires: int) -> list[QapEntry]:
        raw = self.take(_ENTRY.size * count)
        out: list[QapEntry] = []
        for row, wire, coeff_bytes in _ENTRY.iter_unpack(raw):
            coeff = int.from_bytes(coeff_bytes, "big")
            if row >= n_rows or wire >= n_wires or coeff >= FIELD_R:
                raise R1csFormatError(f"{_WHAT}: a matrix entry is out of range")
            out.append((row, wire, coeff))
        return out


def _point(value: G1Point | G2Point | None, what: str) -> G1Point | G2Point:
    if value is None:
        raise R1csFormatError(f"{_WHAT}: {what} is the identity")
    return value


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
    alpha_1, beta_1, delta_1 = cur.g1s(3)
    beta_2, gamma_2, delta_2 = cur.g2s(3)
    ic = cur.g1s(n_public + 1)
    a_query = cur.g1s(n_wires)
    b_g1_query = cur.g1s(n_wires)
    b_g2_query = cur.g2s(n_wires)
    l_query = cur.g1s(n_wires - n_public - 1)
    h_query = cur.g1s(domain_size)
    a_entries = cur.entries(n_a, domain_size, n_wires)
    b_entries = cur.entries(n_b, domain_size, n_wires)
    c_entries = None if n_c == _NONE else cur.entries(n_c, domain_size, n_wires)
    if cur.pos != len(body):
        raise R1csFormatError(f"{_WHAT}: trailing bytes")
    vk = VerifyingKey(
        alpha_g1=_point(alpha_1, "alpha_1"),  # type: ignore[arg-type]
        beta_g2=_point(beta_2, "beta_2"),  # type: ignore[arg-type]
        gamma_g2=_point(gamma_2, "gamma_2"),  # type: ignore[arg-type]
        delta_g2=_point(delta_2, "delta_2"),  # type: ignore[arg-type]
        gamma_abc_g1=tuple(ic),
        provenance=provenance,
    )
    return ProvingKey(
        vk=vk,
        beta_g1=_point(beta_1, "beta_1"),  # type: ignore[arg-type]
        delta_g1=_point(delta_1, "delta_1"),  # type: ignore[arg-type]
        n_wires=n_wires,
        domain_size=domain_size,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=b_g2_query,
        h_query=h_query,
        l_query=l_query,
        a_entries=a_entries,
        b_entries=b_entries,
        c_entries=c_entries,
        n_constraints=None if n_constraints == _NONE else n_constraints,
    )


def save_proving_key(pk: ProvingKey, path: str | os.PathLike[str]) -> None:
    """Write ``pk`` in our compact format."""
    Path(path).write_bytes(proving_key_to_bytes(pk))


def load_proving_key(path: str | os.PathLike[str]) -> ProvingKey:
    """Load a proving key, detecting the format by its magic: ours (``zkpk``) or a snarkjs ``.zkey``."""
    data = Path(path).read_bytes()
    if is_zkey(data):
        return parse_zkey(data)
    return parse_proving_key(data)


def load_zkey(path: str | os.PathLike[str]) -> ProvingKey:
    """Load a snarkjs Groth16 ``.zkey`` (e.g. a ceremony's final key) for our prover."""
    return parse_zkey(Path(path).read_bytes())
