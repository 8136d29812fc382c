"""circom's binary witness file, ``.wtns`` (version 2).

Layout, little-endian::

    "wtns"  u32 version=2  u32 nSections=2
    section 1 (header): u32 n8, prime (n8 bytes), u32 nWitness
    section 2 (values): nWitness x n8-byte values in standard form

Reading enforces the BN254 prime, a section 2 of exactly ``nWitness * n8`` bytes and every value below r
(a value ``x + r`` is refused, never reduced). Errors raise :class:`~zkhealth.errors.R1csFormatError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from zkhealth._fileio import atomic_write, naming
from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_R
from zkhealth.formats._binfile import Reader, parse_binfile, read_binary, u32, write_binfile

MAGIC = b"wtns"
VERSION = 2
_WHAT = ".wtns"


def parse_wtns(data: bytes) -> list[int]:
    """Parse the bytes of a ``.wtns`` file into the witness vector. Cost: O(file size)."""
    container = parse_binfile(data, MAGIC, (VERSION,), what=_WHAT)
    header = Reader(container.section(1, what=_WHAT), _WHAT)
    n8 = header.u32()
    if n8 != 32:
        raise R1csFormatError(f"{_WHAT}: field size {n8} bytes, expected 32 (BN254)")
    if header.bigint(n8) != FIELD_R:
        raise R1csFormatError(f"{_WHAT}: the prime is not BN254's scalar field r")
    n_witness = header.u32()
    header.expect_end()
    values = container.section(2, what=_WHAT)
    if len(values) != n_witness * n8:
        raise R1csFormatError(f"{_WHAT}: {len(values)} bytes of values for {n_witness} witness entries")
    raw = bytes(values)
    witness = [int.from_bytes(raw[i : i + n8], "little") for i in range(0, len(raw), n8)]
    for index, value in enumerate(witness):
        if value >= FIELD_R:
            raise R1csFormatError(f"{_WHAT}: witness value {index} is not below r")
    if witness and witness[0] != 1:
        raise R1csFormatError(f"{_WHAT}: witness[0] must be 1 (the constant wire)")
    return witness


def read_wtns(path: str | os.PathLike[str]) -> list[int]:
    """Read a ``.wtns`` file (see :func:`parse_wtns`); errors name the file."""
    data = read_binary(path)
    with naming(path):
        return parse_wtns(data)


def wtns_to_bytes(witness: Sequence[int]) -> bytes:
    """Serialise a witness as circom's witness calculator does. Values must lie in [0, r)."""
    for index, value in enumerate(witness):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
            raise R1csFormatError(f"{_WHAT}: witness value {index} is not a field element in [0, r)")
    header = u32(32) + FIELD_R.to_bytes(32, "little") + u32(len(witness))
    body = b"".join(int(v).to_bytes(32, "little") for v in witness)
    return write_binfile(MAGIC, VERSION, [(1, header), (2, body)])


def write_wtns(witness: Sequence[int], path: str | os.PathLike[str]) -> None:
    """Write ``witness`` to ``path`` in circom's ``.wtns`` format, atomically (a witness is private: 0600)."""
    atomic_write(path, wtns_to_bytes(witness), mode=0o600)
