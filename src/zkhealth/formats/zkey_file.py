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
from pathlib import Path

from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats._binfile import Reader, parse_binfile
from zkhealth.groth16.keys import SNARKJS_ZKEY, G1Point, G2Point, ProvingKey, QapEntry, VerifyingKey

MAGIC = b"zkey"
VERSION = 1
GROTH16_PROTOCOL_ID = 1
_WHAT = ".zkey"

_R_INV_Q = pow(2**256 % FIELD_Q, -1, FIELD_Q)
_R2_INV_R = pow(pow(2, 512, FIELD_R), -1, FIELD_R)
# G2 twist: y^2 = x^3 + 3 / (9 + u)
_B2 = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)


def _g1_on_curve(x: int, y: int) -> bool:
    return (y * y - x * x * x - 3) % FIELD_Q == 0


def _g2_on_curve(x: tuple[int, int], y: tuple[int, int]) -> bool:
    q = FIELD_Q
    x0, x1 = x
    y0, y1 = y
    yy = ((y0 * y0 - y1 * y1) % q, 2 * y0 * y1 % q)
    xx = ((x0 * x0 - x1 * x1) % q, 2 * x0 * x1 % q)
    xxx = ((xx[0] * x0 - xx[1] * x1) % q, (xx[0] * x1 + xx[1] * x0) % q)
    return yy == ((xxx[0] + _B2[0]) % q, (xxx[1] + _B2[1]) % q)


def _coords(raw: bytes, count: int) -> list[int]:
    out = []
    for i in range(count):
        value = int.from_bytes(raw[32 * i : 32 * i + 32], "little")
        if value >= FIELD_Q:
            raise R1csFormatError(f"{_WHAT}: coordinate not below q")
        out.append(value * _R_INV_Q % FIELD_Q)
    return out


def _g1_points(raw: bytes, count: int, what: str) -> list[G1Point | None]:
    if len(raw) != 64 * count:
        raise R1csFormatError(f"{_WHAT}: section {what} has {len(raw)} bytes, expected {64 * count}")
    coords = _coords(raw, 2 * count)
    points: list[G1Point | None] = []
    for i in range(count):
        x, y = coords[2 * i], coords[2 * i + 1]
        if x == 0 and y == 0:
            points.append(None)
            continue
        if not _g1_on_curve(x, y):
            raise R1csFormatError(f"{_WHAT}: a point of section {what} is not on the curve")
        points.append((x, y))
    return points


def _g2_points(raw: bytes, count: int, what: str) -> list[G2Point | None]:
    if len(raw) != 128 * count:
        raise R1csFormatError(f"{_WHAT}: section {what} has {len(raw)} bytes, expected {128 * count}")
    coords = _coords(raw, 4 * count)
    points: list[G2Point | None] = []
    for i in range(count):
        x = (coords[4 * i], coords[4 * i + 1])
        y = (coords[4 * i + 2], coords[4 * i + 3])
        if x == (0, 0) and y == (0, 0):
            points.append(None)
            continue
        if not _g2_on_curve(x, y):
            raise R1csFormatError(f"{_WHAT}: a point of section {what} is not on the twist")
        points.append((x, y))
    return points


def _required(point: G1Point | G2Point | None, what: str) -> G1Point | G2Point:
    if point is None:
        raise R1csFormatError(f"{_WHAT}: {what} is the identity")
    return point


def parse_zkey(data: bytes) -> ProvingKey:
    """Parse a snarkjs Groth16 ``.zkey`` into a :class:`ProvingKey` (provenance ``"snarkjs-zkey"``).

    The key carries no C matrix, so the prover checks a witness by verifying the proof it made (or against
    an ``.r1cs`` when given one). Cost: O(file size), about 0.5 s for a 5 MB key.
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
    alpha_1 = _g1_points(g.raw(64), 1, "alpha_1")[0]
    beta_1 = _g1_points(g.raw(64), 1, "beta_1")[0]
    beta_2 = _g2_points(g.raw(128), 1, "beta_2")[0]
    gamma_2 = _g2_points(g.raw(128), 1, "gamma_2")[0]
    delta_1 = _g1_points(g.raw(64), 1, "delta_1")[0]
    delta_2 = _g2_points(g.raw(128), 1, "delta_2")[0]
    g.expect_end()

    ic = _g1_points(bytes(container.section(3, what=_WHAT)), n_public + 1, "IC")

    coeffs = Reader(container.section(4, what=_WHAT), _WHAT)
    n_coeffs = coeffs.u32()
    if len(coeffs.buf) != 4 + n_coeffs * 44:
        raise R1csFormatError(f"{_WHAT}: coefficient section size does not match its count")
    raw = bytes(coeffs.buf)
    a_entries: list[QapEntry] = []
    b_entries: list[QapEntry] = []
    r = FIELD_R
    for k in range(n_coeffs):
        base = 4 + 44 * k
        matrix = int.from_bytes(raw[base : base + 4], "little")
        row = int.from_bytes(raw[base + 4 : base + 8], "little")
        wire = int.from_bytes(raw[base + 8 : base + 12], "little")
        stored = int.from_bytes(raw[base + 12 : base + 44], "little")
        if row >= domain_size or wire >= n_vars or stored >= r or matrix > 1:
            raise R1csFormatError(f"{_WHAT}: coefficient {k} out of range")
        entry = (row, wire, stored * _R2_INV_R % r)
        (a_entries if matrix == 0 else b_entries).append(entry)

    a_query = _g1_points(bytes(container.section(5, what=_WHAT)), n_vars, "A")
    b_g1_query = _g1_points(bytes(container.section(6, what=_WHAT)), n_vars, "B1")
    b_g2_query = _g2_points(bytes(container.section(7, what=_WHAT)), n_vars, "B2")
    l_query = _g1_points(bytes(container.section(8, what=_WHAT)), n_vars - n_public - 1, "C")
    h_query = _g1_points(bytes(container.section(9, what=_WHAT)), domain_size, "H")

    vk = VerifyingKey(
        alpha_g1=_required(alpha_1, "alpha_1"),  # type: ignore[arg-type]
        beta_g2=_required(beta_2, "beta_2"),  # type: ignore[arg-type]
        gamma_g2=_required(gamma_2, "gamma_2"),  # type: ignore[arg-type]
        delta_g2=_required(delta_2, "delta_2"),  # type: ignore[arg-type]
        gamma_abc_g1=tuple(ic),
        provenance=SNARKJS_ZKEY,
    )
    return ProvingKey(
        vk=vk,
        beta_g1=_required(beta_1, "beta_1"),  # type: ignore[arg-type]
        delta_g1=_required(delta_1, "delta_1"),  # type: ignore[arg-type]
        n_wires=n_vars,
        domain_size=domain_size,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=b_g2_query,
        h_query=h_query,
        l_query=l_query,
        a_entries=a_entries,
        b_entries=b_entries,
    )


def read_zkey(path: str | os.PathLike[str]) -> ProvingKey:
    """Read a snarkjs Groth16 ``.zkey`` file (see :func:`parse_zkey`)."""
    return parse_zkey(Path(path).read_bytes())


def is_zkey(data: bytes) -> bool:
    """Whether ``data`` starts with the ``.zkey`` magic."""
    return data[:4] == MAGIC
