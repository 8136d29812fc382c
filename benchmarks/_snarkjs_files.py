"""Benchmark helper: write a proving key as a snarkjs Groth16 ``.zkey`` so that snarkjs and zkhealth prove
from the very same file.

The layout is the one :mod:`zkhealth.formats.zkey_file` reads (iden3 container, sections 1-10; points affine,
little-endian, Montgomery form; coefficients times ``2^512 mod r``). Section 10 records no phase-2
contribution: these are benchmark keys from a development setup, not ceremony outputs.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats._binfile import write_binfile
from zkhealth.groth16.keys import ProvingKey

_U32 = struct.Struct("<I")
_MONT_Q = pow(2, 256, FIELD_Q)
_MONT_R2 = pow(2, 512, FIELD_R)


def _fq(value: int) -> bytes:
    return (value * _MONT_Q % FIELD_Q).to_bytes(32, "little")


def _g1(point: tuple[int, int] | None) -> bytes:
    if point is None:
        return bytes(64)
    return _fq(point[0]) + _fq(point[1])


def _g2(point: tuple[tuple[int, int], tuple[int, int]] | None) -> bytes:
    if point is None:
        return bytes(128)
    (x0, x1), (y0, y1) = point
    return _fq(x0) + _fq(x1) + _fq(y0) + _fq(y1)


def zkey_bytes(pk: ProvingKey) -> bytes:
    """The ``.zkey`` bytes of ``pk`` (Groth16, BN254)."""
    vk = pk.vk
    header = b"".join(
        [
            _U32.pack(32),
            FIELD_Q.to_bytes(32, "little"),
            _U32.pack(32),
            FIELD_R.to_bytes(32, "little"),
            _U32.pack(pk.n_wires),
            _U32.pack(pk.n_public),
            _U32.pack(pk.domain_size),
            _g1(vk.alpha_g1),
            _g1(pk.beta_g1),
            _g2(vk.beta_g2),
            _g2(vk.gamma_g2),
            _g1(pk.delta_g1),
            _g2(vk.delta_g2),
        ]
    )
    coeffs = [_U32.pack(len(pk.a_entries) + len(pk.b_entries))]
    for matrix, entries in ((0, pk.a_entries), (1, pk.b_entries)):
        for row, wire, value in entries:
            coeffs.append(struct.pack("<III", matrix, row, wire) + (value * _MONT_R2 % FIELD_R).to_bytes(32, "little"))
    sections = [
        (1, _U32.pack(1)),
        (2, header),
        (3, b"".join(_g1(p) for p in vk.gamma_abc_g1)),
        (4, b"".join(coeffs)),
        (5, b"".join(_g1(p) for p in pk.a_query)),
        (6, b"".join(_g1(p) for p in pk.b_g1_query)),
        (7, b"".join(_g2(p) for p in pk.b_g2_query)),
        (8, b"".join(_g1(p) for p in pk.l_query)),
        (9, b"".join(_g1(p) for p in pk.h_query)),
        (10, bytes(64) + _U32.pack(0)),
    ]
    return write_binfile(b"zkey", 1, sections)


def write_zkey(pk: ProvingKey, path: str | os.PathLike[str]) -> None:
    """Write ``pk`` to ``path`` as a snarkjs ``.zkey``."""
    Path(path).write_bytes(zkey_bytes(pk))
