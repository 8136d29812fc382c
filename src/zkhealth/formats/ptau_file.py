"""snarkjs' powers-of-tau file, ``.ptau``, read and written byte for byte.

iden3 container (see :mod:`._binfile`), magic ``"ptau"``, version 1. With ``n = 2^power`` (snarkjs
``powersoftau_new.js``, ``powersoftau_utils.js``, ``powersoftau_preparephase2.js``):

=======  =========================================================================================
1        header: u32 n8 = 32, q (32 bytes LE), u32 power, u32 ceremonyPower (power of the ceremony the file
         was cut from by ``powersoftau truncate``; equal to power otherwise)
2        tauG1: ``2n - 1`` G1 points ``tau^i G1``
3        tauG2: ``n`` G2 points ``tau^i G2``
4        alphaTauG1: ``n`` G1 points ``alpha tau^i G1``
5        betaTauG1: ``n`` G1 points ``beta tau^i G1``
6        betaG2: one G2 point ``beta G2``
7        contributions: u32 count, then per contribution: tauG1, tauG2, alphaG1, betaG1, betaG2 (the
         contribution's ``tau G1``, ``tau G2``, ``alpha G1``, ``beta G1``, ``beta G2``); the public key
         (tau.g1_s, tau.g1_sx, alpha.g1_s, alpha.g1_sx, beta.g1_s, beta.g1_sx, tau.g2_spx, alpha.g2_spx,
         beta.g2_spx); the 216-byte BLAKE2b state ``partialHash`` (:mod:`zkhealth.hash.blake2b`); the
         64-byte next challenge; u32 type (0 = contribution, 1 = beacon); u32 length of the parameters,
         then parameters as (u8 tag, value) sorted by tag: 1 = name (u8 length, utf-8), 2 = beacon
         iteration exponent (u8), 3 = beacon value (u8 length, bytes)
12-15    only after ``prepare phase2``: the Lagrange-basis points of tauG1 (domains 2^0 .. 2^(power+1),
         ``2^(power+2) - 1`` points), tauG2, alphaTauG1 and betaTauG1 (domains 2^0 .. 2^power,
         ``2n - 1`` points each)
=======  =========================================================================================

Points use the LEM encoding of :mod:`._montgomery`. Reading is strict and allocates only after the sizes
agree: the power must be at most :data:`MAX_POWER` (snarkjs' limit, 2^28 roots of unity) and at most the
reader's ``max_power``, every section must have exactly the size the power implies, no section may be
missing, repeated or unknown, and sections 12-15 come all four or not at all. Errors are
:class:`~zkhealth.errors.CeremonyFileError` naming the file and the section. Points are decoded (and
checked on their curves) only when asked for, section by section.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from zkhealth._fileio import as_path, atomic_write, wrap_os_error
from zkhealth.errors import CeremonyFileError, R1csFormatError
from zkhealth.field import FIELD_Q
from zkhealth.formats._binfile import parse_binfile, u32, write_binfile
from zkhealth.formats._montgomery import G1_SIZE, G2_SIZE, decode_g1, decode_g2, encode_g1, encode_g2
from zkhealth.formats._records import MAX_PARAMS_BYTES, Cursor, params_bytes, parse_params
from zkhealth.hash.blake2b import PARTIAL_STATE_SIZE
from zkhealth.hazmat.bn254 import G1, G2

__all__ = [
    "MAX_POWER",
    "PtauContribution",
    "PtauFile",
    "PtauPublicKey",
    "parse_ptau",
    "max_ptau_bytes",
    "ptau_to_bytes",
    "read_ptau",
    "section_point_count",
    "write_ptau",
]

MAGIC: Final[bytes] = b"ptau"
VERSION: Final[int] = 1
#: BN254's Fr has 2^28-th roots of unity; snarkjs refuses larger ceremonies.
MAX_POWER: Final[int] = 28
#: Default limit of :func:`read_ptau` (a 2^24 prepared file is about 6 GB; pass ``max_power`` to go higher).
DEFAULT_MAX_POWER: Final[int] = 24
SECTION_HEADER: Final[int] = 1
SECTION_TAU_G1: Final[int] = 2
SECTION_TAU_G2: Final[int] = 3
SECTION_ALPHA_TAU_G1: Final[int] = 4
SECTION_BETA_TAU_G1: Final[int] = 5
SECTION_BETA_G2: Final[int] = 6
SECTION_CONTRIBUTIONS: Final[int] = 7
#: Lagrange sections written by ``prepare phase2``, keyed by the section they transform.
LAGRANGE_SECTIONS: Final[dict[int, int]] = {2: 12, 3: 13, 4: 14, 5: 15}
_POINT_SECTIONS: Final[tuple[int, ...]] = (2, 3, 4, 5, 6)
_G2_SECTIONS: Final[frozenset[int]] = frozenset({3, 6, 13})
_CONTRIBUTION_FIXED: Final[int] = 3 * G1_SIZE + 2 * G2_SIZE + 6 * G1_SIZE + 3 * G2_SIZE + PARTIAL_STATE_SIZE + 64 + 8
_HEADER_SIZE: Final[int] = 4 + 32 + 4 + 4


def section_point_count(section: int, power: int) -> int:
    """How many points section ``section`` holds in a file of this power."""
    n = 1 << power
    counts = {2: 2 * n - 1, 3: n, 4: n, 5: n, 6: 1, 12: 4 * n - 1, 13: 2 * n - 1, 14: 2 * n - 1, 15: 2 * n - 1}
    return counts[section]


def _point_size(section: int) -> int:
    return G2_SIZE if section in _G2_SECTIONS else G1_SIZE


def max_ptau_bytes(power: int, contributions: int, *, prepared: bool) -> int:
    """The largest ``.ptau`` file of ``power`` with ``contributions`` records (each with the longest
    parameters snarkjs writes), prepared or not: what a reader of a ceremony of this power may read whole."""
    sections = [*_POINT_SECTIONS, *((12, 13, 14, 15) if prepared else ())]
    points = sum(section_point_count(s, power) * _point_size(s) for s in sections)
    records = 4 + contributions * (_CONTRIBUTION_FIXED + MAX_PARAMS_BYTES)
    return 12 + 12 * (len(sections) + 2) + _HEADER_SIZE + points + records


@dataclass(frozen=True)
class PtauPublicKey:
    """A contribution's proof of knowledge (see :mod:`zkhealth.ceremony.keypair`)."""

    tau_g1_s: G1 | None
    tau_g1_sx: G1 | None
    alpha_g1_s: G1 | None
    alpha_g1_sx: G1 | None
    beta_g1_s: G1 | None
    beta_g1_sx: G1 | None
    tau_g2_spx: G2 | None
    alpha_g2_spx: G2 | None
    beta_g2_spx: G2 | None

    def g1_points(self) -> list[G1 | None]:
        return [self.tau_g1_s, self.tau_g1_sx, self.alpha_g1_s, self.alpha_g1_sx, self.beta_g1_s, self.beta_g1_sx]

    def g2_points(self) -> list[G2 | None]:
        return [self.tau_g2_spx, self.alpha_g2_spx, self.beta_g2_spx]


@dataclass(frozen=True)
class PtauContribution:
    """One record of section 7. ``partial_hash`` and ``next_challenge`` chain the contributions (see
    :mod:`zkhealth.ceremony.powersoftau`); ``name_bytes`` is kept exactly as written."""

    tau_g1: G1 | None
    tau_g2: G2 | None
    alpha_g1: G1 | None
    beta_g1: G1 | None
    beta_g2: G2 | None
    key: PtauPublicKey
    partial_hash: bytes
    next_challenge: bytes
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
class PtauFile:
    """A parsed ``.ptau``: header values, the raw point sections (LEM bytes) and the contributions."""

    power: int
    ceremony_power: int
    sections: dict[int, bytes]
    contributions: list[PtauContribution]
    path: str | None = None
    _decoded: dict[int, list[object]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def prepared(self) -> bool:
        """Whether the Lagrange sections 12-15 are present (``prepare phase2`` was run)."""
        return 12 in self.sections

    def g1(self, section: int) -> list[G1 | None]:
        """The decoded points of a G1 section (checked on the curve; decoded once, then cached)."""
        if section in _G2_SECTIONS:
            raise ValueError(f"section {section} holds G2 points")
        if section not in self._decoded:
            count = section_point_count(section, self.power)
            self._decoded[section] = decode_g1(  # type: ignore[assignment]
                self.sections[section], count, path=self.path, section=section
            )
        return self._decoded[section]  # type: ignore[return-value]

    def g2(self, section: int) -> list[G2 | None]:
        """The decoded points of a G2 section (checked on the twist; decoded once, then cached)."""
        if section not in _G2_SECTIONS:
            raise ValueError(f"section {section} holds G1 points")
        if section not in self._decoded:
            count = section_point_count(section, self.power)
            self._decoded[section] = decode_g2(  # type: ignore[assignment]
                self.sections[section], count, path=self.path, section=section
            )
        return self._decoded[section]  # type: ignore[return-value]

    def set_points(self, section: int, points: list[G1 | None] | list[G2 | None]) -> None:
        """Replace a point section by ``points`` (encoded now, and cached decoded)."""
        count = section_point_count(section, self.power)
        if len(points) != count:
            raise ValueError(f"section {section} holds {count} points, got {len(points)}")
        if section in _G2_SECTIONS:
            self.sections[section] = encode_g2(points)  # type: ignore[arg-type]
        else:
            self.sections[section] = encode_g1(points)  # type: ignore[arg-type]
        self._decoded[section] = list(points)


def _parse_contribution(cur: Cursor, index: int) -> PtauContribution:
    path = cur.path
    where = f"7 (contribution #{index})"

    def g1s(count: int) -> list[G1 | None]:
        return decode_g1(cur.take(G1_SIZE * count), count, path=path, section=where)

    def g2s(count: int) -> list[G2 | None]:
        return decode_g2(cur.take(G2_SIZE * count), count, path=path, section=where)

    (tau_g1,) = g1s(1)
    (tau_g2,) = g2s(1)
    alpha_g1, beta_g1 = g1s(2)
    (beta_g2,) = g2s(1)
    key_g1 = g1s(6)
    key_g2 = g2s(3)
    key = PtauPublicKey(
        key_g1[0], key_g1[1], key_g1[2], key_g1[3], key_g1[4], key_g1[5], key_g2[0], key_g2[1], key_g2[2]
    )
    partial_hash = cur.take(PARTIAL_STATE_SIZE)
    next_challenge = cur.take(64)
    kind = cur.u32()
    if kind not in (0, 1):
        raise CeremonyFileError(
            f"contribution type {kind} is neither 0 (contribution) nor 1 (beacon)", path=path, section=where
        )
    cur.section = where
    name_bytes, exponent, beacon = parse_params(cur)
    cur.section = 7
    return PtauContribution(
        tau_g1=tau_g1,
        tau_g2=tau_g2,
        alpha_g1=alpha_g1,
        beta_g1=beta_g1,
        beta_g2=beta_g2,
        key=key,
        partial_hash=partial_hash,
        next_challenge=next_challenge,
        kind=kind,
        name_bytes=name_bytes,
        beacon_exponent=exponent,
        beacon_value=beacon,
    )


def _parse_contributions(data: bytes, path: str | None) -> list[PtauContribution]:
    cur = Cursor(data, path, 7)
    count = cur.u32()
    # Every record takes at least _CONTRIBUTION_FIXED bytes: a bogus count cannot make us loop past the data.
    if count * _CONTRIBUTION_FIXED > len(data) - 4:
        raise CeremonyFileError(f"{count} contributions cannot fit in {len(data)} bytes", path=path, section=7)
    contributions = [_parse_contribution(cur, i + 1) for i in range(count)]
    if cur.pos != len(data):
        raise CeremonyFileError(f"{len(data) - cur.pos} bytes after the last contribution", path=path, section=7)
    return contributions


def parse_ptau(data: bytes, *, path: str | None = None, max_power: int = DEFAULT_MAX_POWER) -> PtauFile:
    """Parse ``.ptau`` bytes (see the module docstring). ``path`` only names the file in errors."""
    try:
        container = parse_binfile(data, MAGIC, (VERSION,), what=path or ".ptau")
    except R1csFormatError as exc:
        raise CeremonyFileError(str(exc), path=path) from exc
    known = {1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15}
    for section, places in container.sections.items():
        if section not in known:
            raise CeremonyFileError("unknown section", path=path, section=section)
        if len(places) != 1:
            raise CeremonyFileError("section repeated", path=path, section=section)
    for section in (1, 2, 3, 4, 5, 6, 7):
        if section not in container.sections:
            raise CeremonyFileError("section missing", path=path, section=section)
    lagrange = [s for s in (12, 13, 14, 15) if s in container.sections]
    if lagrange and len(lagrange) != 4:
        raise CeremonyFileError(
            "the prepared sections 12-15 must come all four or not at all", path=path, section=lagrange[0]
        )

    header = bytes(container.section(SECTION_HEADER, what=".ptau"))
    if len(header) != _HEADER_SIZE:
        raise CeremonyFileError(f"header of {len(header)} bytes, expected {_HEADER_SIZE}", path=path, section=1)
    n8, prime, power, ceremony_power = struct.unpack("<I32sII", header)
    if n8 != 32 or int.from_bytes(prime, "little") != FIELD_Q:
        raise CeremonyFileError("the base field is not BN254's q", path=path, section=1)
    limit = min(max_power, MAX_POWER)
    if not 1 <= power <= limit:
        raise CeremonyFileError(f"power {power} is outside [1, {limit}]", path=path, section=1)
    if not power <= ceremony_power <= MAX_POWER:
        raise CeremonyFileError(
            f"ceremony power {ceremony_power} is below the power or above {MAX_POWER}", path=path, section=1
        )

    sections: dict[int, bytes] = {}
    for section in (*_POINT_SECTIONS, *lagrange):
        payload = container.section(section, what=".ptau")
        expected = section_point_count(section, power) * _point_size(section)
        if len(payload) != expected:
            raise CeremonyFileError(
                f"{len(payload)} bytes, expected {expected} for power {power}", path=path, section=section
            )
        sections[section] = bytes(payload)
    contributions = _parse_contributions(bytes(container.section(SECTION_CONTRIBUTIONS, what=".ptau")), path)
    return PtauFile(
        power=power, ceremony_power=ceremony_power, sections=sections, contributions=contributions, path=path
    )


def _contribution_bytes(c: PtauContribution) -> bytes:
    key = c.key
    return b"".join(
        [
            encode_g1([c.tau_g1]),
            encode_g2([c.tau_g2]),
            encode_g1([c.alpha_g1, c.beta_g1]),
            encode_g2([c.beta_g2]),
            encode_g1(key.g1_points()),
            encode_g2(key.g2_points()),
            c.partial_hash,
            c.next_challenge,
            u32(c.kind),
            params_bytes(c.name_bytes, c.beacon_exponent, c.beacon_value),
        ]
    )


def ptau_to_bytes(ptau: PtauFile) -> bytes:
    """Serialise as snarkjs does: sections 1-7, then 12-15 when prepared."""
    for c in ptau.contributions:
        if len(c.partial_hash) != PARTIAL_STATE_SIZE or len(c.next_challenge) != 64:
            raise CeremonyFileError("a contribution's hashes have the wrong size", path=ptau.path, section=7)
        if c.name_bytes is not None and len(c.name_bytes) > 255:
            raise CeremonyFileError("a contributor name is longer than 255 bytes", path=ptau.path, section=7)
    header = struct.pack("<I32sII", 32, FIELD_Q.to_bytes(32, "little"), ptau.power, ptau.ceremony_power)
    contributions = u32(len(ptau.contributions)) + b"".join(_contribution_bytes(c) for c in ptau.contributions)
    order = [*_POINT_SECTIONS, *((12, 13, 14, 15) if ptau.prepared else ())]
    body = [(SECTION_HEADER, header)]
    body += [(s, ptau.sections[s]) for s in order[:5]]
    body.append((SECTION_CONTRIBUTIONS, contributions))
    body += [(s, ptau.sections[s]) for s in order[5:]]
    return write_binfile(MAGIC, VERSION, body)


def read_ptau(path: str | os.PathLike[str], *, max_power: int = DEFAULT_MAX_POWER) -> PtauFile:
    """Read a ``.ptau`` file. The container's section table is checked against the file size and the
    header's power before the file is read whole, so a header claiming a huge power costs nothing. A missing
    or unreadable file raises :class:`~zkhealth.errors.FileAccessError`."""
    file = as_path(path)
    name = os.fspath(file)
    _precheck(file, name, max_power)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise wrap_os_error(exc, file, "read it") from None
    return parse_ptau(data, path=name, max_power=max_power)


def _precheck(path: Path, name: str, max_power: int) -> None:
    """Walk the section headers with seeks and read section 1 only: refuse impossible sizes early."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] != MAGIC:
                raise CeremonyFileError("not a .ptau file (bad magic or too short)", path=name)
            (count,) = struct.unpack_from("<I", head, 8)
            if count > 64:
                raise CeremonyFileError(f"{count} sections", path=name)
            position = 12
            for _ in range(count):
                handle.seek(position)
                entry = handle.read(12)
                if len(entry) < 12:
                    raise CeremonyFileError(f"truncated section table at byte {position}", path=name)
                section, length = struct.unpack("<IQ", entry)
                if length > size - position - 12:
                    raise CeremonyFileError("runs past the end of the file", path=name, section=section)
                if section == SECTION_HEADER and length == _HEADER_SIZE:
                    _, _, power, _ = struct.unpack("<I32sII", handle.read(_HEADER_SIZE))
                    if power > min(max_power, MAX_POWER):
                        raise CeremonyFileError(
                            f"power {power} is above the limit {min(max_power, MAX_POWER)}", path=name, section=1
                        )
                position += 12 + length
    except OSError as exc:
        raise wrap_os_error(exc, path, "read it") from None


def write_ptau(ptau: PtauFile, path: str | os.PathLike[str]) -> None:
    """Write ``ptau`` to ``path`` atomically (a crash leaves the old file or the new one)."""
    atomic_write(Path(path), ptau_to_bytes(ptau), mode=0o644)
