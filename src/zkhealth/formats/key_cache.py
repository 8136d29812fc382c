"""A per-key cache of decoded proving keys, so a key file is fully parsed and checked once per machine.

:func:`~zkhealth.formats.zkhpk_file.load_proving_key` (our ``.zkhpk`` or a snarkjs ``.zkey``) hashes the
key file's bytes (sha256, about 20 ms for 31 MB) and looks for ``<digest>.zkhc`` in the cache directory
(:func:`cache_directory`). On a miss it parses the key as before (every coordinate below q, every point on
its curve, Montgomery form removed, matrix entries checked) and then writes the entry; on a hit it builds
the same :class:`~zkhealth.groth16.keys.ProvingKey` from the entry: standard-form coordinates decoded with
one big-integer conversion, no curve checks, no Montgomery conversion, and the coordinates kept as
big-integer-backend columns for the prover's first preparation of its MSM bases
(:func:`zkhealth.hazmat.msm.prepare_columns`).

Entry layout (little-endian; coordinates and coefficients 32 bytes, standard form, the identity all zeros)::

    magic "zkhc", u32 version = 1, sha256 of the key file (32 bytes)
    u32 n_wires, n_public, domain_size, n_constraints (0xFFFFFFFF: unknown), |A|, |B|, |C| (0xFFFFFFFF: none),
    u32 n_coefficients (the distinct matrix coefficients), 16 bytes ASCII provenance (zero-padded)
    coordinates: G1 alpha, beta, delta; G2 beta, gamma, delta (x0, x1, y0, y1); G1 IC[n_public + 1],
    A[n_wires], B1[n_wires]; G2 B2[n_wires]; G1 L[n_wires - n_public - 1], H[domain_size]
    coefficients[n_coefficients]
    per matrix A, B, C: u32 rows[n], u32 wires[n], u32 coefficient indices[n]
    sha256 of everything above (32 bytes)

R1CS coefficients repeat (the universal circuit: 12,124 distinct values in 2.3 million entries), so the
entries refer to a table: 12 bytes an entry instead of 40, and one integer object per distinct value.

What is enforced, and why skipping the checks is sound: an entry is used only when its magic, version,
counts and size agree with each other, with the file's size (checked with ``fstat`` before anything is
read; at most twice the key's size) and with the digest of the key bytes being loaded, and when its own
sha256 matches; matrix rows, wires and coefficient indices must be in range and coefficients below r.
Anything else (a torn write, a flipped byte, an entry of another key or version) is ignored and rebuilt
from the key: never an error, never a partial use. The cache skips the curve and subgroup checks ONLY
because an entry is written by this library right after a full load of the same bytes passed them, and is
bound to those bytes by their sha256 and to its own content by its checksum. The checksum detects
corruption, not a deliberate edit: whoever can write the cache directory can make the prover use off-curve
bases (an invalid-curve oracle on the witness), so the directory must be the user's own. It is created
0700, entries are written 0600, and a directory that is not owned by this user or is writable by group or
others is not used at all. Entries are fixed-width integers read with ``int.from_bytes`` / ``gmpy2.unpack``
and ``array``: nothing is deserialised as code (no pickle, no marshal).

Location: ``$ZKHEALTH_KEY_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/zkhealth/keys`` or
``~/.cache/zkhealth/keys``; ``ZKHEALTH_KEY_CACHE=0`` turns the cache off. At most :data:`MAX_ENTRIES` entries
and :data:`MAX_TOTAL_BYTES` bytes are kept (the least recently used go first). An unusable directory (not
writable, a file in the way, no home directory) means no cache, silently. Writes are atomic
(:func:`zkhealth._fileio.atomic_write`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import struct
import sys
import time
from array import array
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import eq, itemgetter
from pathlib import Path
from typing import Any, Final

from zkhealth._bigint import HAVE_GMPY2
from zkhealth._fileio import atomic_write, user_cache_root
from zkhealth.errors import ZkHealthError
from zkhealth.field import FIELD_R
from zkhealth.formats._points import assemble_proving_key, decode_coordinates
from zkhealth.groth16.keys import PROVENANCES, G1Point, G2Point, ProvingKey, QapEntry

if HAVE_GMPY2:
    import gmpy2 as _gmpy2

__all__ = ["MAX_ENTRIES", "MAX_TOTAL_BYTES", "STATS", "cache_directory", "entry_bytes", "load_cached"]

MAGIC: Final[bytes] = b"zkhc"
VERSION: Final[int] = 1
SUFFIX: Final[str] = ".zkhc"
#: At most this many entries are kept (the least recently used are removed after a write).
MAX_ENTRIES: Final[int] = 8
#: At most this many bytes of entries are kept; a larger entry is not written.
MAX_TOTAL_BYTES: Final[int] = 2 << 30
#: Temporary files of a killed writer older than this many seconds are removed.
_STALE_SECONDS: Final[float] = 3600.0
_NONE: Final[int] = 0xFFFFFFFF
_HEADER: Final[struct.Struct] = struct.Struct("<4sI32s8I16s")
_ENTRY_BYTES: Final[int] = 3 * 4
_NATIVE_U32: Final[bool] = array("I").itemsize == 4
_OFF: Final[frozenset[str]] = frozenset({"0", "off", "false", "no"})

#: What the cache did in this process (for tests and diagnostics): ``hits`` (a key built from its entry),
#: ``misses`` (no usable entry), ``rejected`` (an entry was there but failed a check), ``writes``.
STATS: dict[str, int] = {"hits": 0, "misses": 0, "rejected": 0, "writes": 0}


class _Reject(Exception):
    """An entry failed a check: it is ignored (never seen outside this module)."""


def cache_directory() -> Path | None:
    """The cache directory (created 0700 if missing), or None when the cache is off or the directory is
    unusable: not creatable, not a directory, not owned by this user, or writable by group or others."""
    if os.environ.get("ZKHEALTH_KEY_CACHE", "").strip().lower() in _OFF:
        return None
    try:
        override = os.environ.get("ZKHEALTH_KEY_CACHE_DIR")
        directory = Path(override) if override else user_cache_root() / "keys"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(directory)
    except (OSError, RuntimeError):  # RuntimeError: no home directory
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return directory


def _layout(n_wires: int, n_public: int, domain_size: int) -> list[tuple[str, int, int]]:
    """The coordinate blocks in file order: (name, coordinates per point, points)."""
    return [
        ("g1", 2, 3), ("g2", 4, 3), ("ic", 2, n_public + 1), ("a", 2, n_wires), ("b1", 2, n_wires),
        ("b2", 4, n_wires), ("l", 2, n_wires - n_public - 1), ("h", 2, domain_size),
    ]  # fmt: skip


def _pack(values: list[int]) -> bytes:
    """32-byte little-endian encodings of ``values``, concatenated (one conversion with gmpy2)."""
    if not values:
        return b""
    size = 32 * len(values)
    if HAVE_GMPY2:
        packed = _gmpy2.pack(values, 256)
        to_bytes = getattr(packed, "to_bytes", None)  # gmpy2 >= 2.2
        out: bytes = to_bytes(size, "little") if to_bytes is not None else int(packed).to_bytes(size, "little")
        return out
    return b"".join(v.to_bytes(32, "little") for v in values)


def _u32s(values: list[int]) -> bytes:
    """Little-endian u32s (``array`` when its ``I`` is 32 bits, else ``struct``)."""
    if not _NATIVE_U32:
        return struct.pack(f"<{len(values)}I", *values)
    packed = array("I", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _read_u32s(view: memoryview, pos: int, n: int) -> list[int]:
    if not _NATIVE_U32:
        return list(struct.unpack_from(f"<{n}I", view, pos))
    values = array("I")
    values.frombytes(view[pos : pos + 4 * n])
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def _flat(points: list[Any], width: int) -> list[int]:
    """The coordinates of ``points`` in order (all zeros for the identity)."""
    zero: Any = (0, 0) if width == 2 else ((0, 0), (0, 0))
    if None in points:
        points = [zero if p is None else p for p in points]
    flat = chain.from_iterable(points)
    return list(flat if width == 2 else chain.from_iterable(flat))


def entry_bytes(pk: ProvingKey, key_digest: bytes) -> bytes | None:
    """The cache entry of ``pk`` (parsed from a file whose sha256 is ``key_digest``), or None when ``pk``
    cannot be represented (extra fields, an unknown provenance). Cost: O(key size), one packing of all
    coordinates with gmpy2."""
    provenance = pk.provenance.encode("ascii", errors="replace")
    if pk.extra or pk.provenance not in PROVENANCES or len(provenance) > 16:
        return None
    vk = pk.vk
    blocks: dict[str, list[Any]] = {
        "g1": [vk.alpha_g1, pk.beta_g1, pk.delta_g1], "g2": [vk.beta_g2, vk.gamma_g2, vk.delta_g2],
        "ic": list(vk.gamma_abc_g1), "a": pk.a_query, "b1": pk.b_g1_query, "b2": pk.b_g2_query,
        "l": pk.l_query, "h": pk.h_query,
    }  # fmt: skip
    coords: list[int] = []
    for name, width, count in _layout(pk.n_wires, pk.n_public, pk.domain_size):
        if len(blocks[name]) != count:
            return None
        coords += _flat(blocks[name], width)
    c_entries = pk.c_entries
    matrices = [pk.a_entries, pk.b_entries, c_entries or []]
    columns = [tuple(list(map(itemgetter(k), m)) for k in range(3)) for m in matrices]
    table = list(dict.fromkeys(chain.from_iterable(coeffs for _, _, coeffs in columns)))
    position = {value: i for i, value in enumerate(table)}
    header = _HEADER.pack(
        MAGIC, VERSION, key_digest, pk.n_wires, pk.n_public, pk.domain_size,
        _NONE if pk.n_constraints is None else pk.n_constraints,
        len(pk.a_entries), len(pk.b_entries), _NONE if c_entries is None else len(c_entries), len(table), provenance,
    )  # fmt: skip
    parts = [header, _pack(coords), _pack(table)]
    for rows, wires, coeffs in columns:
        parts += [_u32s(rows), _u32s(wires), _u32s(list(map(position.__getitem__, coeffs)))]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def _entry_size(n_wires: int, n_public: int, domain_size: int, n_entries: int, n_table: int) -> int:
    coords = sum(width * count for _, width, count in _layout(n_wires, n_public, domain_size))
    return _HEADER.size + 32 * (coords + n_table) + _ENTRY_BYTES * n_entries + 32


def _g1_list(ints: list[int], offset: int, count: int) -> list[G1Point | None]:
    seg = ints[offset : offset + 2 * count]
    points: list[Any] = list(zip(seg[0::2], seg[1::2], strict=True))
    for i in compress(range(count), map(eq, points, repeat((0, 0)))):
        points[i] = None
    return points


def _g2_list(ints: list[int], offset: int, count: int) -> list[G2Point | None]:
    seg = ints[offset : offset + 4 * count]
    xs = zip(seg[0::4], seg[1::4], strict=True)
    ys = zip(seg[2::4], seg[3::4], strict=True)
    points: list[Any] = list(zip(xs, ys, strict=True))
    for i in compress(range(count), map(eq, points, repeat(((0, 0), (0, 0))))):
        points[i] = None
    return points


def _columns(values: list[Any], offset: int, count: int, width: int) -> list[list[Any]]:
    seg = values[offset : offset + width * count]
    return [seg[k::width] for k in range(width)]


def _entries(
    view: memoryview, pos: int, n: int, table: list[int], n_rows: int, n_wires: int
) -> tuple[list[QapEntry], int]:
    rows = _read_u32s(view, pos, n)
    wires = _read_u32s(view, pos + 4 * n, n)
    indices = _read_u32s(view, pos + 8 * n, n)
    if n and (max(rows) >= n_rows or max(wires) >= n_wires or max(indices) >= len(table)):
        raise _Reject
    return list(zip(rows, wires, map(table.__getitem__, indices), strict=True)), pos + 12 * n


#: ``on_matrices(a_entries, b_entries, domain_size)``: see :func:`load_cached`.
MatricesHook = Callable[[list[QapEntry], list[QapEntry], int], None]


def _decode(body: memoryview, fields: tuple[Any, ...], on_matrices: MatricesHook | None = None) -> ProvingKey:
    """The key an entry holds (header ``fields`` already checked against the size); :class:`_Reject` or a
    library error on anything inconsistent. The matrices are decoded first (they are small), and
    ``on_matrices`` gets them before the points are."""
    n_wires, n_public, domain_size, n_constraints, n_a, n_b, n_c, n_table, provenance = fields
    layout = _layout(n_wires, n_public, domain_size)
    n_coords = sum(width * count for _, width, count in layout)
    pos = _HEADER.size + 32 * n_coords
    table = decode_coordinates(body[pos : pos + 32 * n_table], n_table, "little")
    if table and max(table) >= FIELD_R:
        raise _Reject
    pos += 32 * n_table
    a_entries, pos = _entries(body, pos, n_a, table, domain_size, n_wires)
    b_entries, pos = _entries(body, pos, n_b, table, domain_size, n_wires)
    c_entries = None
    if n_c != _NONE:
        c_entries, pos = _entries(body, pos, n_c, table, domain_size, n_wires)
    if pos != len(body):
        raise _Reject
    if on_matrices is not None:
        on_matrices(a_entries, b_entries, domain_size)
    pos = _HEADER.size
    values = decode_coordinates(body[pos : pos + 32 * n_coords], n_coords, "little", backend=True)
    ints = list(map(int, values)) if HAVE_GMPY2 else values
    offsets: dict[str, int] = {}
    at = 0
    for name, width, count in layout:
        offsets[name] = at
        at += width * count
    g1_fixed = _g1_list(ints, offsets["g1"], 3)
    g2_fixed = _g2_list(ints, offsets["g2"], 3)
    queries: dict[str, list[Any]] = {
        name: (_g2_list if width == 4 else _g1_list)(ints, offsets[name], count)
        for name, width, count in layout[2:]
    }
    pk = assemble_proving_key(
        "cached proving key",
        provenance=provenance,
        n_wires=n_wires,
        domain_size=domain_size,
        g1=dict(zip(("alpha_1", "beta_1", "delta_1"), g1_fixed, strict=True)),
        g2=dict(zip(("beta_2", "gamma_2", "delta_2"), g2_fixed, strict=True)),
        queries=queries,
        entries=(a_entries, b_entries, c_entries),
        n_constraints=None if n_constraints == _NONE else n_constraints,
    )
    # The prover's four base lists (as ProvingKey.msm_bases builds them) and their coordinates as columns.
    g1c = _columns(values, offsets["g1"], 3, 2)
    g2c = _columns(values, offsets["g2"], 3, 4)
    cols = {name: _columns(values, offsets[name], count, width) for name, width, count in layout[2:]}
    vk = pk.vk
    snapshot = {
        "a": (vk.alpha_g1, pk.delta_g1, *pk.a_query),
        "b1": (pk.beta_g1, pk.delta_g1, *pk.b_g1_query),
        "b2": (vk.beta_g2, vk.delta_g2, *pk.b_g2_query),
        "c": (*pk.l_query, *pk.h_query),
    }
    columns = {
        "a": [[g1c[k][0], g1c[k][2], *cols["a"][k]] for k in range(2)],
        "b1": [[g1c[k][1], g1c[k][2], *cols["b1"][k]] for k in range(2)],
        "b2": [[g2c[k][0], g2c[k][2], *cols["b2"][k]] for k in range(4)],
        "c": [cols["l"][k] + cols["h"][k] for k in range(2)],
    }
    pk._cached_columns = (snapshot, columns)
    return pk


def _read_entry(
    path: Path, key_digest: bytes, key_size: int, on_matrices: MatricesHook | None = None
) -> ProvingKey | None:
    """The key in the entry at ``path``, or None (absent, or refused: ``STATS["rejected"]``)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(_HEADER.size)
            if len(head) != _HEADER.size:
                raise _Reject
            magic, version, digest, *counts, provenance_raw = _HEADER.unpack(head)
            n_wires, n_public, domain_size, n_constraints, n_a, n_b, n_c, n_table = counts
            if magic != MAGIC or version != VERSION or digest != key_digest:
                raise _Reject
            if n_wires < n_public + 1 or not 0 < domain_size <= 1 << 27 or domain_size & (domain_size - 1):
                raise _Reject
            n_entries = n_a + n_b + (0 if n_c == _NONE else n_c)
            expected = _entry_size(n_wires, n_public, domain_size, n_entries, n_table)
            if size != expected or expected > 2 * key_size + 65536:
                raise _Reject  # checked before the rest is read
            # The whole entry in one read (no concatenation: a second copy of tens of MiB), then the header
            # read above must still be its start.
            handle.seek(0)
            data = handle.read(expected)
            if data[: _HEADER.size] != head:
                raise _Reject
    except FileNotFoundError:
        return None
    except (OSError, _Reject):
        STATS["rejected"] += 1
        return None
    try:
        if len(data) != expected or hashlib.sha256(memoryview(data)[:-32]).digest() != data[-32:]:
            raise _Reject
        provenance = provenance_raw.rstrip(b"\0").decode("ascii")
        if provenance not in PROVENANCES:
            raise _Reject
        fields = (n_wires, n_public, domain_size, n_constraints, n_a, n_b, n_c, n_table, provenance)
        pk = _decode(memoryview(data)[:-32], fields, on_matrices)
    except (_Reject, ZkHealthError, ValueError, struct.error):
        STATS["rejected"] += 1
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: evicted last
    return pk


def _evict(directory: Path, keep: Path) -> None:
    """Keep at most :data:`MAX_ENTRIES` entries and :data:`MAX_TOTAL_BYTES` bytes (``keep`` always), newest
    first by modification time; remove temporary files of killed writers."""
    found: list[tuple[float, int, Path]] = []
    now = time.time()
    for path in directory.iterdir():
        try:
            info = path.stat()
        except OSError:
            continue
        if path.name.endswith(SUFFIX):
            found.append((info.st_mtime, info.st_size, path))
        elif path.name.startswith(".") and path.name.endswith(".tmp") and now - info.st_mtime > _STALE_SECONDS:
            with contextlib.suppress(OSError):
                path.unlink()
    found.sort(key=lambda item: (item[2] != keep, -item[0]))
    count = total = 0
    for _, size, path in found:
        if path == keep or (count < MAX_ENTRIES and total + size <= MAX_TOTAL_BYTES):
            count += 1
            total += size
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def _write_entry(directory: Path, path: Path, pk: ProvingKey, key_digest: bytes) -> None:
    """Write the entry of ``pk`` and bound the directory; any failure just leaves no entry."""
    try:
        data = entry_bytes(pk, key_digest)
    except (ValueError, OverflowError, TypeError, struct.error):  # a value the format cannot hold
        return
    if data is None or len(data) > MAX_TOTAL_BYTES:
        return
    try:
        atomic_write(path, data, mode=0o600)
        _evict(directory, path)
    except (OSError, ZkHealthError):
        return  # an unwritable cache is no cache
    STATS["writes"] += 1


def load_cached(
    data: bytes, parse: Callable[[bytes], ProvingKey], on_matrices: MatricesHook | None = None
) -> ProvingKey:
    """The proving key in ``data`` (a key file's bytes): from its cache entry when one is usable, else
    ``parse(data)`` (the full, checking parse; its errors propagate) and the entry written for next time.

    ``on_matrices(a_entries, b_entries, domain_size)`` is called on a hit as soon as the entry's QAP matrices
    are decoded (the same lists the key will hold), before its points are: a caller can start work that needs
    only the matrices (the CLI's prove starts the quotient, :func:`zkhealth.groth16.prover.start_quotient`).
    An exception it raises propagates. It may be called for an entry that is then refused (the key is then
    parsed from ``data``, whose matrices are the same).

    Cost with the cache on: a sha256 of ``data``; a hit then reads and hashes the entry and decodes it (2^16
    constraints: about 0.3 s instead of 0.8 s, and a cheaper first preparation of the prover's bases); a
    miss adds the entry's encoding and an atomic write to the full parse (see docs/performance.md)."""
    directory = cache_directory()
    if directory is None:
        return parse(data)
    digest = hashlib.sha256(data).digest()
    path = directory / f"{digest.hex()}{SUFFIX}"
    cached = _read_entry(path, digest, len(data), on_matrices)
    if cached is not None:
        STATS["hits"] += 1
        return cached
    STATS["misses"] += 1
    pk = parse(data)
    _write_entry(directory, path, pk, digest)
    return pk
