"""snarkjs' Groth16 proving-key file, ``.zkey``: read, and written byte for byte by the ceremony.

iden3 container, magic ``"zkey"``, version 1. Sections (snarkjs ``zkey_new.js`` / ``zkey_utils.js``):

====  ====================================================================================================
1     u32 protocol id: 1 = Groth16 (PLONK = 2, FFLONK = 10 are refused)
2     u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize, alpha_1, beta_1, beta_2, gamma_2,
      delta_1, delta_2
3     IC: nPublic + 1 G1 points
4     u32 nCoeffs, then nCoeffs x (u32 matrix (0 = A, 1 = B), u32 row, u32 wire, value (n8r bytes));
      ``value = c * R^2 mod r`` with ``R = 2^256 mod r``, so that ffjavascript's Montgomery product with a
      standard-form witness value lands in Montgomery form. Rows ``nConstraints .. nConstraints + nPublic``
      are the public-input rows (A = w_i).
5, 6  A and B1: nVars G1 points; 7 B2: nVars G2 points
8     C: nVars - nPublic - 1 G1 points (the private wires' ``(beta A_i + alpha B_i + C_i) / delta``)
9     H: domainSize G1 points ``L^{2n}_{2j+1}(tau) / delta``
10    the phase-2 ceremony: the 64-byte circuit hash, u32 count, then per contribution: deltaAfter,
      g1_s, g1_sx (G1), g2_spx (G2), the 64-byte transcript hash, u32 type (0 contribution, 1 beacon),
      u32 parameter length and parameters (tags as in ``.ptau``: 1 name, 2 beacon exponent, 3 beacon value)
====  ====================================================================================================

Points use the LEM encoding of :mod:`._montgomery`. snarkjs writes the sections in the order 1, 2, 4, 3, 9,
8, 5, 6, 7, 10 after ``zkey new`` and 1-10 after a contribution; :class:`ZkeyFile` keeps the order it read so a
file written back is unchanged. This module has the one section parser: :func:`parse_zkey_file` checks the
primes, every count against the section sizes and every coordinate below q (a malformed file raises
:class:`~zkhealth.errors.CeremonyFileError`, a :class:`~zkhealth.errors.R1csFormatError`, naming the file and
section); points are decoded and checked on their curves when asked for. :func:`parse_zkey` turns a file into
the prover's :class:`~zkhealth.groth16.keys.ProvingKey`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import as_path, atomic_write, naming
from zkhealth.errors import CeremonyFileError, R1csFormatError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats._binfile import parse_binfile, read_binary, u32, write_binfile
from zkhealth.formats._montgomery import G1_SIZE, G2_SIZE, decode_g1, decode_g2, encode_g1, encode_g2
from zkhealth.formats._points import assemble_proving_key
from zkhealth.formats._records import MAX_PARAMS_BYTES, Cursor, params_bytes, parse_params
from zkhealth.groth16.keys import SNARKJS_ZKEY, G1Point, G2Point, ProvingKey, QapEntry

__all__ = [
    "ZkeyContribution",
    "ZkeyFile",
    "is_zkey",
    "max_contributed_zkey_bytes",
    "parse_zkey",
    "parse_zkey_file",
    "proving_key_from_zkey",
    "read_zkey",
    "read_zkey_file",
    "write_zkey_file",
    "zkey_file_to_bytes",
]

MAGIC: Final[bytes] = b"zkey"
VERSION: Final[int] = 1
GROTH16_PROTOCOL_ID: Final[int] = 1
#: Largest domain (the prover's odd-coset trick needs a 2n-th root of unity).
MAX_DOMAIN: Final[int] = 1 << 27
#: Section order of a file written by ``snarkjs zkey new``, and after a contribution.
ORDER_NEW: Final[tuple[int, ...]] = (1, 2, 4, 3, 9, 8, 5, 6, 7, 10)
ORDER_CONTRIBUTED: Final[tuple[int, ...]] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
_COEFF: Final[struct.Struct] = struct.Struct("<III32s")
_R2: Final[int] = pow(2, 512, FIELD_R)
_R2_INV: Final[int] = pow(_R2, -1, FIELD_R)
_HEADER_SIZE: Final[int] = 4 + 32 + 4 + 32 + 12 + 3 * G1_SIZE + 3 * G2_SIZE
_CONTRIBUTION_FIXED: Final[int] = 3 * G1_SIZE + G2_SIZE + 64 + 8
_WHAT: Final[str] = ".zkey"


def max_contributed_zkey_bytes(initial_bytes: int, contributions: int) -> int:
    """The largest ``.zkey`` that is a ``zkey new`` file of ``initial_bytes`` plus ``contributions`` records
    (each with the longest parameters snarkjs writes): contributions change no section's size but the
    ceremony section's."""
    return initial_bytes + contributions * (_CONTRIBUTION_FIXED + MAX_PARAMS_BYTES)


@dataclass(frozen=True)
class ZkeyContribution:
    """One phase-2 contribution record (section 10)."""

    delta_after: G1Point | None
    g1_s: G1Point | None
    g1_sx: G1Point | None
    g2_spx: G2Point | None
    transcript: bytes
    kind: int = 0
    name_bytes: bytes | None = None
    beacon_exponent: int | None = None
    beacon_value: bytes | None = None

    @property
    def is_beacon(self) -> bool:
        return self.kind == 1

    @property
    def name(self) -> str:
        return "" if self.name_bytes is None else self.name_bytes.decode("utf-8")


@dataclass
class ZkeyFile:
    """A parsed Groth16 ``.zkey``: the header, the raw sections 3-9 (LEM points, coefficients) and the
    ceremony section (``cs_hash`` is None when the file has no section 10)."""

    n_vars: int
    n_public: int
    domain_size: int
    alpha_1: G1Point | None
    beta_1: G1Point | None
    beta_2: G2Point | None
    gamma_2: G2Point | None
    delta_1: G1Point | None
    delta_2: G2Point | None
    sections: dict[int, bytes]
    cs_hash: bytes | None
    contributions: list[ZkeyContribution]
    order: tuple[int, ...] = ORDER_CONTRIBUTED
    path: str | None = None
    _decoded: dict[int, list[Any]] = field(default_factory=dict, repr=False, compare=False)

    def point_count(self, section: int) -> int:
        counts = {3: self.n_public + 1, 5: self.n_vars, 6: self.n_vars, 7: self.n_vars}
        counts[8] = self.n_vars - self.n_public - 1
        counts[9] = self.domain_size
        return counts[section]

    def g1(self, section: int) -> list[G1Point | None]:
        """The decoded points of G1 section 3, 5, 6, 8 or 9 (checked on the curve, cached)."""
        if section not in (3, 5, 6, 8, 9):
            raise ValueError(f"section {section} does not hold G1 points")
        if section not in self._decoded:
            raw = self.sections[section]
            self._decoded[section] = decode_g1(raw, self.point_count(section), path=self.path, section=section)
        return self._decoded[section]

    def g2(self, section: int) -> list[G2Point | None]:
        """The decoded points of section 7 (B2), checked on the twist and cached."""
        if section != 7:
            raise ValueError(f"section {section} does not hold G2 points")
        if section not in self._decoded:
            raw = self.sections[section]
            self._decoded[section] = decode_g2(raw, self.point_count(section), path=self.path, section=section)
        return self._decoded[section]

    def set_g1(self, section: int, points: list[G1Point | None]) -> None:
        if len(points) != self.point_count(section):
            raise ValueError(f"section {section} holds {self.point_count(section)} points")
        self.sections[section] = encode_g1(points)
        self._decoded[section] = list(points)

    def coefficients(self) -> tuple[list[QapEntry], list[QapEntry]]:
        """The sparse A and B matrices of section 4, coefficients in standard form."""
        raw = self.sections[4]
        (count,) = struct.unpack_from("<I", raw, 0)
        a_entries: list[QapEntry] = []
        b_entries: list[QapEntry] = []
        r = FIELD_R
        for k, (matrix, row, wire, stored) in enumerate(_COEFF.iter_unpack(raw[4:])):
            value = int.from_bytes(stored, "little")
            if row >= self.domain_size or wire >= self.n_vars or value >= r or matrix > 1:
                raise CeremonyFileError(f"coefficient {k} out of range", path=self.path, section=4)
            (a_entries if matrix == 0 else b_entries).append((row, wire, value * _R2_INV % r))
        del count
        return a_entries, b_entries


def coefficient_bytes(entries: list[tuple[int, int, int, int]]) -> bytes:
    """Section 4 from ``(matrix, row, wire, coefficient)`` entries, coefficients in standard form."""
    r = FIELD_R
    return u32(len(entries)) + b"".join(
        _COEFF.pack(matrix, row, wire, (value * _R2 % r).to_bytes(32, "little")) for matrix, row, wire, value in entries
    )


def _parse_mpc(data: bytes, path: str | None) -> tuple[bytes, list[ZkeyContribution]]:
    cur = Cursor(data, path, 10)
    cs_hash = cur.take(64)
    count = cur.u32()
    if count * _CONTRIBUTION_FIXED > len(data) - 68:
        raise CeremonyFileError(f"{count} contributions cannot fit in the section", path=path, section=10)
    contributions = []
    for index in range(1, count + 1):
        cur.section = f"10 (contribution #{index})"
        g1 = decode_g1(cur.take(3 * G1_SIZE), 3, path=path, section=cur.section)
        (g2,) = decode_g2(cur.take(G2_SIZE), 1, path=path, section=cur.section)
        transcript = cur.take(64)
        kind = cur.u32()
        if kind not in (0, 1):
            raise CeremonyFileError(f"contribution type {kind} is not 0 or 1", path=path, section=cur.section)
        name, exponent, beacon = parse_params(cur)
        contributions.append(ZkeyContribution(g1[0], g1[1], g1[2], g2, transcript, kind, name, exponent, beacon))
    if cur.pos != len(data):
        raise CeremonyFileError("bytes after the last contribution", path=path, section=10)
    return cs_hash, contributions


def parse_zkey_file(data: bytes, *, path: str | None = None) -> ZkeyFile:
    """Parse a Groth16 ``.zkey`` (see the module docstring). Sizes are checked before any point is decoded."""
    try:
        container = parse_binfile(data, MAGIC, (VERSION,), what=path or _WHAT)
    except CeremonyFileError:
        raise
    except R1csFormatError as exc:
        raise CeremonyFileError(str(exc), path=path) from exc
    for section, places in container.sections.items():
        if len(places) != 1:
            raise CeremonyFileError("section repeated", path=path, section=section)
        if not 1 <= section <= 10:
            raise CeremonyFileError("unknown section", path=path, section=section)
    for section in range(1, 10):
        if section not in container.sections:
            raise CeremonyFileError("section missing", path=path, section=section)
    protocol = bytes(container.section(1, what=_WHAT))
    if len(protocol) != 4:
        raise CeremonyFileError("protocol section of the wrong size", path=path, section=1)
    (protocol_id,) = struct.unpack("<I", protocol)
    if protocol_id != GROTH16_PROTOCOL_ID:
        raise CeremonyFileError(f"protocol id {protocol_id} is not Groth16 (1)", path=path, section=1)
    header = bytes(container.section(2, what=_WHAT))
    if len(header) != _HEADER_SIZE:
        raise CeremonyFileError(f"header of {len(header)} bytes, expected {_HEADER_SIZE}", path=path, section=2)
    n8q, q, n8r, r, n_vars, n_public, domain_size = struct.unpack_from("<I32sI32sIII", header)
    if n8q != 32 or int.from_bytes(q, "little") != FIELD_Q:
        raise CeremonyFileError("the base field is not BN254's q", path=path, section=2)
    if n8r != 32 or int.from_bytes(r, "little") != FIELD_R:
        raise CeremonyFileError("the scalar field is not BN254's r", path=path, section=2)
    if n_vars < n_public + 1 or not 1 <= domain_size <= MAX_DOMAIN or domain_size & (domain_size - 1):
        raise CeremonyFileError("inconsistent header counts", path=path, section=2)
    pos = 4 + 32 + 4 + 32 + 12
    g1a = decode_g1(header[pos : pos + 2 * G1_SIZE], 2, path=path, section=2)
    pos += 2 * G1_SIZE
    g2a = decode_g2(header[pos : pos + 2 * G2_SIZE], 2, path=path, section=2)
    pos += 2 * G2_SIZE
    (delta_1,) = decode_g1(header[pos : pos + G1_SIZE], 1, path=path, section=2)
    pos += G1_SIZE
    (delta_2,) = decode_g2(header[pos : pos + G2_SIZE], 1, path=path, section=2)
    zkey = ZkeyFile(
        n_vars=n_vars,
        n_public=n_public,
        domain_size=domain_size,
        alpha_1=g1a[0],
        beta_1=g1a[1],
        beta_2=g2a[0],
        gamma_2=g2a[1],
        delta_1=delta_1,
        delta_2=delta_2,
        sections={},
        cs_hash=None,
        contributions=[],
        order=tuple(sorted(container.sections, key=lambda s: container.sections[s][0][0])),
        path=path,
    )
    for section in (3, 5, 6, 7, 8, 9):
        payload = bytes(container.section(section, what=_WHAT))
        expected = zkey.point_count(section) * (G2_SIZE if section == 7 else G1_SIZE)
        if len(payload) != expected:
            raise CeremonyFileError(f"{len(payload)} bytes, expected {expected}", path=path, section=section)
        zkey.sections[section] = payload
    coefficients = bytes(container.section(4, what=_WHAT))
    if len(coefficients) < 4 or len(coefficients) != 4 + _COEFF.size * struct.unpack_from("<I", coefficients)[0]:
        raise CeremonyFileError("the coefficient count does not match the section size", path=path, section=4)
    zkey.sections[4] = coefficients
    if 10 in container.sections:
        zkey.cs_hash, zkey.contributions = _parse_mpc(bytes(container.section(10, what=_WHAT)), path)
    return zkey


def _header_bytes(z: ZkeyFile) -> bytes:
    return b"".join(
        [
            struct.pack("<I32sI32sIII", 32, FIELD_Q.to_bytes(32, "little"), 32, FIELD_R.to_bytes(32, "little"),
                        z.n_vars, z.n_public, z.domain_size),  # fmt: skip
            encode_g1([z.alpha_1, z.beta_1]),
            encode_g2([z.beta_2, z.gamma_2]),
            encode_g1([z.delta_1]),
            encode_g2([z.delta_2]),
        ]
    )


def _mpc_bytes(z: ZkeyFile) -> bytes:
    if z.cs_hash is None or len(z.cs_hash) != 64:
        raise CeremonyFileError("a circuit hash of 64 bytes is needed to write section 10", path=z.path, section=10)
    parts = [z.cs_hash, u32(len(z.contributions))]
    for c in z.contributions:
        if len(c.transcript) != 64:
            raise CeremonyFileError("a transcript hash is 64 bytes", path=z.path, section=10)
        parts += [
            encode_g1([c.delta_after, c.g1_s, c.g1_sx]),
            encode_g2([c.g2_spx]),
            c.transcript,
            u32(c.kind),
            params_bytes(c.name_bytes, c.beacon_exponent, c.beacon_value),
        ]
    return b"".join(parts)


def zkey_file_to_bytes(z: ZkeyFile) -> bytes:
    """Serialise in ``z.order`` (snarkjs' order for a new or a contributed key)."""
    payloads = {1: u32(GROTH16_PROTOCOL_ID), 2: _header_bytes(z), **z.sections}
    if z.cs_hash is not None:
        payloads[10] = _mpc_bytes(z)
    order = [s for s in z.order if s in payloads]
    if sorted(order) != sorted(payloads):
        raise CeremonyFileError("the section order does not list every section", path=z.path)
    return write_binfile(MAGIC, VERSION, [(s, payloads[s]) for s in order])


def proving_key_from_zkey(z: ZkeyFile) -> ProvingKey:
    """The prover's key (provenance ``"snarkjs-zkey"``): every point decoded and checked on its curve."""
    a_entries, b_entries = z.coefficients()
    queries: dict[str, list[Any]] = {
        "ic": z.g1(3),
        "a": z.g1(5),
        "b1": z.g1(6),
        "b2": z.g2(7),
        "l": z.g1(8),
        "h": z.g1(9),
    }
    return assemble_proving_key(
        _WHAT,
        provenance=SNARKJS_ZKEY,
        n_wires=z.n_vars,
        domain_size=z.domain_size,
        g1={"alpha_1": z.alpha_1, "beta_1": z.beta_1, "delta_1": z.delta_1},
        g2={"beta_2": z.beta_2, "gamma_2": z.gamma_2, "delta_2": z.delta_2},
        queries=queries,
        entries=(a_entries, b_entries, None),
    )


def parse_zkey(data: bytes) -> ProvingKey:
    """Parse a snarkjs Groth16 ``.zkey`` into a :class:`ProvingKey` (provenance ``"snarkjs-zkey"``).

    The key carries no C matrix, so the prover checks a witness by verifying the proof it made (or against
    an ``.r1cs`` when given one). Cost: O(file size), about 0.5 s for a 5 MB key.
    """
    return proving_key_from_zkey(parse_zkey_file(data))


def read_zkey(path: str | os.PathLike[str]) -> ProvingKey:
    """Read a snarkjs Groth16 ``.zkey`` file (see :func:`parse_zkey`); errors name the file."""
    zkey = read_zkey_file(path)
    with naming(path):
        return proving_key_from_zkey(zkey)


def read_zkey_file(path: str | os.PathLike[str]) -> ZkeyFile:
    """Read a ``.zkey`` into a :class:`ZkeyFile`. The size is bounded before anything is read
    (:class:`~zkhealth.errors.R1csFormatError`); a missing or unreadable file raises
    :class:`~zkhealth.errors.FileAccessError`; format errors name the file."""
    data = read_binary(path)
    return parse_zkey_file(data, path=os.fspath(as_path(path)))


def write_zkey_file(z: ZkeyFile, path: str | os.PathLike[str]) -> None:
    """Write ``z`` atomically."""
    atomic_write(Path(path), zkey_file_to_bytes(z), mode=0o644)


def is_zkey(data: bytes) -> bool:
    """Whether ``data`` starts with the ``.zkey`` magic."""
    return data[:4] == MAGIC
