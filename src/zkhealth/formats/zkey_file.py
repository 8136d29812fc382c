"""snarkjs' Groth16 proving-key file, ``.zkey`` (read only).

iden3 container, magic ``"zkey"``, version 1. Sections used (snarkjs ``zkey_new.js`` / ``zkey_utils.js``):

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
10    the phase-2 contributions (not needed to prove)
====  ====================================================================================================

Points are affine, little-endian, in Montgomery form (``x * 2^256 mod q``); a G2 point is ``x.c0, x.c1,
y.c0, y.c1``; the identity is all zeros. Reading checks the primes, every size and that each coordinate is
below q; points are checked to lie on their curves (a malformed key raises
:class:`~zkhealth.errors.R1csFormatError`, it cannot produce a proof that verifies).
"""

from __future__ import annotations

import os
import struct
from itertools import compress, repeat
from operator import itemgetter, mod, mul, not_
from typing import Any

from zkhealth._bigint import mpz
from zkhealth._fileio import naming
from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats._binfile import Reader, parse_binfile, read_binary
from zkhealth.formats._points import assemble_proving_key, decode_coordinates, g1_points, g2_points
from zkhealth.groth16.keys import SNARKJS_ZKEY, G1Point, G2Point, ProvingKey, QapEntry

MAGIC = b"zkey"
VERSION = 1
GROTH16_PROTOCOL_ID = 1
_WHAT = ".zkey"

_R_INV_Q = pow(2**256 % FIELD_Q, -1, FIELD_Q)
_R2_INV_R = pow(pow(2, 512, FIELD_R), -1, FIELD_R)
_COEFF = struct.Struct("<III32s")


def _coords(raw: bytes | memoryview, count: int, what: str) -> list[int]:
    """``count`` little-endian Montgomery coordinates, checked below q and converted to standard form."""
    if len(raw) != 32 * count:
        raise R1csFormatError(f"{_WHAT}: section {what} has {len(raw)} bytes, expected {32 * count}")
    values = decode_coordinates(raw, count, "little", backend=True)
    if values and max(values) >= FIELD_Q:
        raise R1csFormatError(f"{_WHAT}: coordinate not below q")
    return list(map(mod, map(mul, values, repeat(mpz(_R_INV_Q))), repeat(mpz(FIELD_Q))))


def _g1s(raw: bytes | memoryview, count: int, what: str) -> list[G1Point | None]:
    return g1_points(_coords(raw, 2 * count, what), f"{_WHAT} section {what}")


def _g2s(raw: bytes | memoryview, count: int, what: str) -> list[G2Point | None]:
    return g2_points(_coords(raw, 4 * count, what), f"{_WHAT} section {what}")


def parse_zkey(data: bytes) -> ProvingKey:
    """Parse a snarkjs Groth16 ``.zkey`` into a :class:`ProvingKey` (provenance ``"snarkjs-zkey"``).

    The key carries no C matrix, so the prover checks a witness by verifying the proof it made (or against
    an ``.r1cs`` when given one). Cost: O(file size), about 0.1 s for a 5 MB key (whole-list decoding).
    """
    container = parse_binfile(data, MAGIC, (VERSION,), what=_WHAT)
    header = Reader(container.section(1, what=_WHAT), _WHAT)
    protocol = header.u32()
    header.expect_end()
    if protocol != GROTH16_PROTOCOL_ID:
        raise R1csFormatError(f"{_WHAT}: protocol id {protocol} is not Groth16 (1)")

    g = Reader(container.section(2, what=_WHAT), _WHAT)
    n8q = g.u32()
    if n8q != 32 or g.bigint(32) != FIELD_Q:
        raise R1csFormatError(f"{_WHAT}: the base field is not BN254's q")
    n8r = g.u32()
    if n8r != 32 or g.bigint(32) != FIELD_R:
        raise R1csFormatError(f"{_WHAT}: the scalar field is not BN254's r")
    n_vars = g.u32()
    n_public = g.u32()
    domain_size = g.u32()
    if n_vars < n_public + 1 or domain_size < 1 or domain_size & (domain_size - 1) or domain_size > 1 << 27:
        raise R1csFormatError(f"{_WHAT}: inconsistent header counts")
    alpha_1 = _g1s(g.raw(64), 1, "alpha_1")[0]
    beta_1 = _g1s(g.raw(64), 1, "beta_1")[0]
    beta_2 = _g2s(g.raw(128), 1, "beta_2")[0]
    gamma_2 = _g2s(g.raw(128), 1, "gamma_2")[0]
    delta_1 = _g1s(g.raw(64), 1, "delta_1")[0]
    delta_2 = _g2s(g.raw(128), 1, "delta_2")[0]
    g.expect_end()

    ic = _g1s(container.section(3, what=_WHAT), n_public + 1, "IC")

    coeffs = Reader(container.section(4, what=_WHAT), _WHAT)
    n_coeffs = coeffs.u32()
    if len(coeffs.buf) != 4 + n_coeffs * 44:
        raise R1csFormatError(f"{_WHAT}: coefficient section size does not match its count")
    records = list(_COEFF.iter_unpack(bytes(coeffs.buf)[4:]))
    matrices = list(map(itemgetter(0), records))
    rows = list(map(itemgetter(1), records))
    wires = list(map(itemgetter(2), records))
    stored = decode_coordinates(b"".join(map(itemgetter(3), records)), len(records), "little", backend=True)
    r = FIELD_R
    if records and (max(rows) >= domain_size or max(wires) >= n_vars or max(stored) >= r or max(matrices) > 1):
        for k, (matrix, row, wire, value) in enumerate(zip(matrices, rows, wires, stored, strict=True)):
            if row >= domain_size or wire >= n_vars or value >= r or matrix > 1:
                raise R1csFormatError(f"{_WHAT}: coefficient {k} out of range")
    values = list(map(int, map(mod, map(mul, stored, repeat(mpz(_R2_INV_R))), repeat(mpz(r)))))
    entries = list(zip(rows, wires, values, strict=True))
    a_entries: list[QapEntry] = list(compress(entries, map(not_, matrices)))
    b_entries: list[QapEntry] = list(compress(entries, matrices))

    queries: dict[str, list[Any]] = {
        "ic": ic,
        "a": _g1s(container.section(5, what=_WHAT), n_vars, "A"),
        "b1": _g1s(container.section(6, what=_WHAT), n_vars, "B1"),
        "b2": _g2s(container.section(7, what=_WHAT), n_vars, "B2"),
        "l": _g1s(container.section(8, what=_WHAT), n_vars - n_public - 1, "C"),
        "h": _g1s(container.section(9, what=_WHAT), domain_size, "H"),
    }
    return assemble_proving_key(
        _WHAT,
        provenance=SNARKJS_ZKEY,
        n_wires=n_vars,
        domain_size=domain_size,
        g1={"alpha_1": alpha_1, "beta_1": beta_1, "delta_1": delta_1},
        g2={"beta_2": beta_2, "gamma_2": gamma_2, "delta_2": delta_2},
        queries=queries,
        entries=(a_entries, b_entries, None),
    )


def read_zkey(path: str | os.PathLike[str]) -> ProvingKey:
    """Read a snarkjs Groth16 ``.zkey`` file (see :func:`parse_zkey`); errors name the file."""
    data = read_binary(path)
    with naming(path):
        return parse_zkey(data)


def is_zkey(data: bytes) -> bool:
    """Whether ``data`` starts with the ``.zkey`` magic."""
    return data[:4] == MAGIC
