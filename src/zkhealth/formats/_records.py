"""Pieces shared by the ``.ptau`` and ``.zkey`` contribution records: a bounded cursor and the parameter block.

A contribution record ends with ``u32 length`` and parameters ``(u8 tag, value)`` sorted by tag (snarkjs
``powersoftau_utils.js`` / ``zkey_utils.js``): 1 = contributor name (u8 length, utf-8), 2 = beacon iteration
exponent (u8), 3 = beacon value (u8 length, bytes).
"""

from __future__ import annotations

import struct

from zkhealth.errors import CeremonyFileError

__all__ = ["MAX_PARAMS_BYTES", "Cursor", "params_bytes", "parse_params"]

#: The largest parameter block with its length: a 255-byte name, an exponent and a 255-byte beacon value.
MAX_PARAMS_BYTES = 4 + (2 + 255) + 2 + (2 + 255)


class Cursor:
    """A bounded reader over one section (or part of one); overruns raise :class:`CeremonyFileError`."""

    __slots__ = ("data", "path", "pos", "section")

    def __init__(self, data: bytes, path: str | None, section: int | str) -> None:
        self.data = data
        self.pos = 0
        self.path = path
        self.section = section

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CeremonyFileError("section truncated", path=self.path, section=self.section)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u8(self) -> int:
        return self.take(1)[0]

    def fail(self, message: str) -> CeremonyFileError:
        return CeremonyFileError(message, path=self.path, section=self.section)


def parse_params(cur: Cursor) -> tuple[bytes | None, int | None, bytes | None]:
    """Read ``u32 length`` and the parameter block: (name bytes, beacon exponent, beacon value)."""
    params = Cursor(cur.take(cur.u32()), cur.path, cur.section)
    name: bytes | None = None
    exponent: int | None = None
    beacon: bytes | None = None
    last = 0
    while params.pos < len(params.data):
        tag = params.u8()
        if tag <= last:
            raise cur.fail("contribution parameters are not sorted")
        last = tag
        if tag == 1:
            name = params.take(params.u8())
            try:
                name.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise cur.fail("a contributor name is not utf-8") from exc
        elif tag == 2:
            exponent = params.u8()
        elif tag == 3:
            beacon = params.take(params.u8())
        else:
            raise cur.fail(f"unknown contribution parameter {tag}")
    return name, exponent, beacon


def params_bytes(name: bytes | None, exponent: int | None, beacon: bytes | None) -> bytes:
    """``u32 length`` and the parameter block, each parameter present only when given (as snarkjs)."""
    out = b""
    if name:
        if len(name) > 255:
            raise CeremonyFileError("a contributor name is longer than 255 bytes")
        out += bytes([1, len(name)]) + name
    if exponent is not None:
        out += bytes([2, exponent])
    if beacon is not None:
        out += bytes([3, len(beacon)]) + beacon
    return struct.pack("<I", len(out)) + out
