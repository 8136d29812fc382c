"""circom's binary constraint-system file, ``.r1cs`` (iden3 ``r1csfile`` format, version 1).

Layout, all integers little-endian::

    "r1cs"  u32 version=1  u32 nSections
    section 1 (header):      u32 n8, prime (n8 bytes), u32 nWires, u32 nPubOut, u32 nPubIn, u32 nPrvIn,
                             u64 nLabels, u32 mConstraints
    section 2 (constraints): for each constraint, for A, B then C: u32 nTerms, then nTerms x (u32 wire,
                             coefficient as n8 bytes, standard - not Montgomery - form)
    section 3 (wire->label): nWires x u64 label id
    sections 4, 5:           custom gates (PLONK-only circom extension) - refused here

Reading is strict: the prime must be BN254's r, coefficients canonical (< r), wire ids in range and not
repeated within one linear combination, counts consistent with the section sizes. Anything else raises
:class:`~zkhealth.errors.R1csFormatError`.
"""

from __future__ import annotations

import os

from zkhealth._fileio import atomic_write, naming
from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_R
from zkhealth.formats._binfile import Reader, n8_for, parse_binfile, read_binary, u32, u64, write_binfile
from zkhealth.r1cs import R1CS, Constraint, LinearCombination

MAGIC = b"r1cs"
VERSION = 1
SECTION_HEADER = 1
SECTION_CONSTRAINTS = 2
SECTION_WIRE_TO_LABEL = 3
SECTION_CUSTOM_GATES_LIST = 4
SECTION_CUSTOM_GATES_USES = 5

_WHAT = ".r1cs"


def _read_lc(reader: Reader, n8: int, n_wires: int, prime: int) -> LinearCombination:
    n_terms = reader.u32()
    reader.need(n_terms * (4 + n8))
    lc: LinearCombination = {}
    buf = reader.buf
    pos = reader.pos
    for _ in range(n_terms):
        wire = int.from_bytes(buf[pos : pos + 4], "little")
        coeff = int.from_bytes(buf[pos + 4 : pos + 4 + n8], "little")
        pos += 4 + n8
        if wire >= n_wires:
            raise R1csFormatError(f"{_WHAT}: wire {wire} out of range (nWires = {n_wires})")
        if coeff >= prime:
            raise R1csFormatError(f"{_WHAT}: coefficient not below the prime (non-canonical)")
        if wire in lc:
            raise R1csFormatError(f"{_WHAT}: wire {wire} repeated within one linear combination")
        lc[wire] = coeff
    reader.pos = pos
    return lc


def parse_r1cs(data: bytes) -> R1CS:
    """Parse the bytes of a ``.r1cs`` file. Cost: O(file size); the whole system is held in memory."""
    container = parse_binfile(data, MAGIC, (VERSION,), what=_WHAT)
    if container.has(SECTION_CUSTOM_GATES_LIST) or container.has(SECTION_CUSTOM_GATES_USES):
        raise R1csFormatError(f"{_WHAT}: custom gates (circom --O2 PLONK extension) are not supported")
    header = Reader(container.section(SECTION_HEADER, what=_WHAT), _WHAT)
    n8 = header.u32()
    if n8 != 32:
        raise R1csFormatError(f"{_WHAT}: field size {n8} bytes, expected 32 (BN254)")
    prime = header.bigint(n8)
    if prime != FIELD_R:
        raise R1csFormatError(f"{_WHAT}: the prime is not BN254's scalar field r")
    n_wires = header.u32()
    n_out = header.u32()
    n_pub_in = header.u32()
    n_prv_in = header.u32()
    n_labels = header.u64()
    n_constraints = header.u32()
    header.expect_end()
    if n_wires < 1 or 1 + n_out + n_pub_in + n_prv_in > n_wires:
        raise R1csFormatError(f"{_WHAT}: inconsistent wire counts")

    body = Reader(container.section(SECTION_CONSTRAINTS, what=_WHAT), _WHAT)
    # Each constraint needs at least 12 bytes: a bogus count cannot make us loop past the data.
    if n_constraints * 12 > len(body.buf):
        raise R1csFormatError(f"{_WHAT}: {n_constraints} constraints cannot fit in the constraints section")
    constraints = []
    for _ in range(n_constraints):
        a = _read_lc(body, n8, n_wires, prime)
        b = _read_lc(body, n8, n_wires, prime)
        c = _read_lc(body, n8, n_wires, prime)
        constraints.append(Constraint(a, b, c))
    body.expect_end()

    wire_to_label: list[int] | None = None
    if container.has(SECTION_WIRE_TO_LABEL):
        mapping = container.section(SECTION_WIRE_TO_LABEL, what=_WHAT)
        if len(mapping) != 8 * n_wires:
            raise R1csFormatError(f"{_WHAT}: wire-to-label section has the wrong size")
        wire_to_label = [int.from_bytes(mapping[8 * i : 8 * i + 8], "little") for i in range(n_wires)]
        if any(label >= n_labels for label in wire_to_label):
            raise R1csFormatError(f"{_WHAT}: a wire maps to a label id >= nLabels")
    return R1CS(
        n_wires=n_wires,
        n_public_outputs=n_out,
        n_public_inputs=n_pub_in,
        n_private_inputs=n_prv_in,
        constraints=constraints,
        prime=prime,
        wire_to_label=wire_to_label,
        n_labels=n_labels,
    )


def read_r1cs(path: str | os.PathLike[str]) -> R1CS:
    """Read a ``.r1cs`` file (see :func:`parse_r1cs`); errors name the file."""
    data = read_binary(path)
    with naming(path):
        return parse_r1cs(data)


def _write_lc(parts: list[bytes], lc: LinearCombination, n_wires: int, prime: int) -> None:
    parts.append(u32(len(lc)))
    for wire, coeff in lc.items():
        if not 0 <= wire < n_wires or not 0 <= coeff < prime:
            raise R1csFormatError(f"{_WHAT}: cannot write wire {wire} with a coefficient outside [0, r)")
        parts.append(u32(wire))
        parts.append(coeff.to_bytes(32, "little"))


def r1cs_to_bytes(r1cs: R1CS) -> bytes:
    """Serialise ``r1cs`` exactly as circom 2 does: sections 2, 1, 3, terms in each dict's order (so a file
    read and written back is unchanged). Cost: O(size)."""
    if r1cs.prime != FIELD_R:
        raise R1csFormatError(f"{_WHAT}: only BN254's scalar field is supported")
    n8 = n8_for(r1cs.prime)
    wire_to_label = r1cs.wire_to_label if r1cs.wire_to_label is not None else list(range(r1cs.n_wires))
    if len(wire_to_label) != r1cs.n_wires:
        raise R1csFormatError(f"{_WHAT}: wire_to_label has {len(wire_to_label)} entries for {r1cs.n_wires} wires")
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else max(wire_to_label, default=-1) + 1
    header = b"".join(
        [
            u32(n8),
            r1cs.prime.to_bytes(n8, "little"),
            u32(r1cs.n_wires),
            u32(r1cs.n_public_outputs),
            u32(r1cs.n_public_inputs),
            u32(r1cs.n_private_inputs),
            u64(n_labels),
            u32(r1cs.n_constraints),
        ]
    )
    parts: list[bytes] = []
    for row in r1cs.constraints:
        _write_lc(parts, row.a, r1cs.n_wires, r1cs.prime)
        _write_lc(parts, row.b, r1cs.n_wires, r1cs.prime)
        _write_lc(parts, row.c, r1cs.n_wires, r1cs.prime)
    mapping = b"".join(u64(label) for label in wire_to_label)
    return write_binfile(
        MAGIC,
        VERSION,
        # circom 2 writes the constraints before the header.
        [(SECTION_CONSTRAINTS, b"".join(parts)), (SECTION_HEADER, header), (SECTION_WIRE_TO_LABEL, mapping)],
    )


def write_r1cs(r1cs: R1CS, path: str | os.PathLike[str]) -> None:
    """Write ``r1cs`` to ``path`` in circom's ``.r1cs`` format, atomically."""
    atomic_write(path, r1cs_to_bytes(r1cs), mode=0o644)
