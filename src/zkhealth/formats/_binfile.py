"""The iden3 binary container shared by ``.r1cs``, ``.wtns`` and ``.zkey`` files.

Layout (iden3 ``binfileutils``): a 4-byte ASCII magic, a little-endian ``u32`` version, a ``u32`` section
count, then each section as ``u32 type``, ``u64 byte length`` and the payload. Sections may come in any order;
the readers here insist that each section they use appears exactly once and that the sections tile the file
exactly (no trailing bytes, no overlaps), so a truncated or padded file is refused rather than half-read.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable

from zkhealth._fileio import read_bytes
from zkhealth.errors import R1csFormatError

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

#: Refuse files announcing more sections than any circom/snarkjs file has.
MAX_SECTIONS = 64
#: Largest binary key, constraint or witness file read (a 2^24-constraint proving key fits).
MAX_FILE_BYTES = 4 << 30


def read_binary(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a binary file, refused (:class:`R1csFormatError`) above :data:`MAX_FILE_BYTES` before
    anything is read; a missing or unreadable file raises :class:`~zkhealth.errors.FileAccessError`."""
    return read_bytes(path, max_bytes=MAX_FILE_BYTES, error=R1csFormatError)


class BinFile:
    """A parsed container: ``sections[type]`` lists ``(offset, length)`` of each section's payload."""

    __slots__ = ("data", "magic", "sections", "version")

    def __init__(self, data: bytes, magic: bytes, version: int, sections: dict[int, list[tuple[int, int]]]):
        self.data = data
        self.magic = magic
        self.version = version
        self.sections = sections

    def section(self, section_type: int, *, what: str) -> memoryview:
        """The payload of the unique section ``section_type``; :class:`R1csFormatError` if absent/repeated."""
        found = self.sections.get(section_type, [])
        if len(found) != 1:
            state = "missing" if not found else "repeated"
            raise R1csFormatError(f"{what}: section {section_type} is {state}")
        offset, length = found[0]
        return memoryview(self.data)[offset : offset + length]

    def has(self, section_type: int) -> bool:
        return section_type in self.sections


def parse_binfile(data: bytes, magic: bytes, versions: Iterable[int], *, what: str) -> BinFile:
    """Split ``data`` into sections after checking the magic and the version. Cost: O(number of sections)."""
    if len(data) < 12:
        raise R1csFormatError(f"{what}: file too short ({len(data)} bytes)")
    if data[:4] != magic:
        raise R1csFormatError(f"{what}: bad magic {bytes(data[:4])!r}, expected {magic!r}")
    (version,) = _U32.unpack_from(data, 4)
    if version not in tuple(versions):
        raise R1csFormatError(f"{what}: unsupported version {version}")
    (n_sections,) = _U32.unpack_from(data, 8)
    if n_sections > MAX_SECTIONS:
        raise R1csFormatError(f"{what}: {n_sections} sections is more than {MAX_SECTIONS}")
    sections: dict[int, list[tuple[int, int]]] = {}
    position = 12
    for _ in range(n_sections):
        if position + 12 > len(data):
            raise R1csFormatError(f"{what}: truncated section header at byte {position}")
        (section_type,) = _U32.unpack_from(data, position)
        (length,) = _U64.unpack_from(data, position + 4)
        position += 12
        if length > len(data) - position:
            raise R1csFormatError(f"{what}: section {section_type} runs past the end of the file")
        sections.setdefault(section_type, []).append((position, length))
        position += length
    if position != len(data):
        raise R1csFormatError(f"{what}: {len(data) - position} trailing bytes after the last section")
    return BinFile(data, magic, version, sections)


class Reader:
    """Sequential little-endian reader over one section, raising :class:`R1csFormatError` on overrun."""

    __slots__ = ("buf", "pos", "what")

    def __init__(self, buf: memoryview, what: str) -> None:
        self.buf = buf
        self.pos = 0
        self.what = what

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise R1csFormatError(f"{self.what}: section truncated")

    def u32(self) -> int:
        self.need(4)
        (value,) = _U32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return int(value)

    def u64(self) -> int:
        self.need(8)
        (value,) = _U64.unpack_from(self.buf, self.pos)
        self.pos += 8
        return int(value)

    def bigint(self, n8: int) -> int:
        self.need(n8)
        value = int.from_bytes(self.buf[self.pos : self.pos + n8], "little")
        self.pos += n8
        return value

    def raw(self, n: int) -> bytes:
        self.need(n)
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out

    def expect_end(self) -> None:
        if self.pos != len(self.buf):
            raise R1csFormatError(f"{self.what}: {len(self.buf) - self.pos} unexpected bytes at the end of a section")


def write_binfile(magic: bytes, version: int, sections: list[tuple[int, bytes]]) -> bytes:
    """Assemble a container from ``(type, payload)`` pairs, in the given order."""
    parts = [magic, _U32.pack(version), _U32.pack(len(sections))]
    for section_type, payload in sections:
        parts.append(_U32.pack(section_type))
        parts.append(_U64.pack(len(payload)))
        parts.append(payload)
    return b"".join(parts)


def u32(value: int) -> bytes:
    return _U32.pack(value)


def u64(value: int) -> bytes:
    return _U64.pack(value)


def n8_for(prime: int) -> int:
    """Bytes per field element as iden3 writes them: whole 64-bit words."""
    return ((prime.bit_length() - 1) // 64 + 1) * 8
