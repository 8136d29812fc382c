"""BLAKE2b-512 whose running state can be saved and resumed in the layout snarkjs stores in ``.ptau`` files.

A powers-of-tau contribution records the BLAKE2b state reached after hashing the previous challenge and
every new point (snarkjs' ``partialHash``, 216 bytes), so that anyone can finish the hash with the
contributor's public key and get the response hash without the intermediate file. :mod:`hashlib` cannot
export a state, so this module carries its own BLAKE2b compression (RFC 7693, section 3.2: 12 rounds of G
over columns then diagonals, rotations 32, 24, 16, 63; parameter block for an unkeyed 64-byte digest).

The 216-byte layout is that of the ``@noble/hashes`` BLAKE2b object which snarkjs copies out
(snarkjs ``misc.js`` ``toPartialHash``):

=========  ===================================================================================
0..128     the block buffer; its first ``pos`` bytes are pending input (written here with zeros after)
128..192   the chaining value h[0..7], each a little-endian u64
192..200   bytes already compressed, little-endian (snarkjs writes only the low 32 bits)
200..208   ``pos``, the number of pending bytes, little-endian
208..216   zero
=========  ===================================================================================

Like @noble/hashes, the last block is only compressed once more input arrives or the digest is taken (it
needs the final-block flag), so a non-empty state always holds 1 to 128 pending bytes.

Speed: the pure-Python compression costs about 130 us per 128-byte block (a 2^14 contribution hashes 3 MB,
25,000 blocks). When PyNaCl's libsodium is present, :class:`Blake2b` lets libsodium absorb the bulk and reads its
chaining value, byte counter and buffer out of libsodium's ``crypto_generichash_blake2b_state`` (the layout of
``blake2b_state`` in libsodium's ``blake2.h``: ``uint64 h[8], t[2], f[2]; uint8 buf[256]; size_t buflen``).
That layout is libsodium's private business, so it is checked once per process against the pure-Python
compression on a known input (:func:`libsodium_usable`); if the check fails, everything stays pure Python.
Use :func:`hashlib.blake2b` where no state is needed.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["PARTIAL_STATE_SIZE", "Blake2b", "libsodium_usable"]

_MASK: Final[int] = (1 << 64) - 1
_BLOCK: Final[int] = 128
#: Size of a saved state in snarkjs' layout.
PARTIAL_STATE_SIZE: Final[int] = 216

# RFC 7693 section 2.6: the IV is SHA-512's.
_IV: Final[tuple[int, ...]] = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip

# RFC 7693 section 2.7; rounds 10 and 11 reuse rows 0 and 1.
_SIGMA: Final[tuple[tuple[int, ...], ...]] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)
_G_POSITIONS: Final[tuple[tuple[int, int, int, int], ...]] = (
    (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
    (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
)  # fmt: skip
# (a, b, c, d, first message word, second message word) for the 96 G applications of a compression.
_SCHEDULE: Final[tuple[tuple[int, int, int, int, int, int], ...]] = tuple(
    (a, b, c, d, _SIGMA[r % 10][2 * i], _SIGMA[r % 10][2 * i + 1])
    for r in range(12)
    for i, (a, b, c, d) in enumerate(_G_POSITIONS)
)
_WORDS: Final[struct.Struct] = struct.Struct("<16Q")
_STATE: Final[struct.Struct] = struct.Struct("<8Q")
# Parameter block of an unkeyed hash with a 64-byte digest: depth 1, fanout 1, key length 0, digest length 64.
_H0: Final[tuple[int, ...]] = (_IV[0] ^ 0x01010040, *_IV[1:])


def _compress(h: tuple[int, ...], block: bytes, counter: int, last: bool) -> tuple[int, ...]:
    """RFC 7693 function F on one 128-byte block; ``counter`` is the byte count up to the end of the block."""
    m = _WORDS.unpack(block)
    v = [*h, *_IV]
    v[12] ^= counter & _MASK
    v[13] ^= counter >> 64
    if last:
        v[14] ^= _MASK
    mask = _MASK
    for a, b, c, d, i, j in _SCHEDULE:
        va, vb, vc, vd = v[a], v[b], v[c], v[d]
        va = (va + vb + m[i]) & mask
        x = vd ^ va
        vd = (x >> 32) | ((x << 32) & mask)
        vc = (vc + vd) & mask
        x = vb ^ vc
        vb = (x >> 24) | ((x << 40) & mask)
        va = (va + vb + m[j]) & mask
        x = vd ^ va
        vd = (x >> 16) | ((x << 48) & mask)
        vc = (vc + vd) & mask
        x = vb ^ vc
        vb = (x >> 63) | ((x << 1) & mask)
        v[a], v[b], v[c], v[d] = va, vb, vc, vd
    return tuple(h[k] ^ v[k] ^ v[k + 8] for k in range(8))


_SODIUM_STATE_BYTES: Final[int] = 384
_SODIUM_BUF: Final[int] = 96
_SODIUM_BUFLEN: Final[int] = 352
_sodium_checked: bool | None = None


def _sodium_new() -> object | None:
    try:
        from nacl.bindings import crypto_generichash as sodium
    except ImportError:  # pragma: no cover - PyNaCl is a dependency
        return None
    return sodium.generichash_blake2b_init(digest_size=64)


def _sodium_update(state: object, data: bytes) -> None:
    from nacl.bindings import crypto_generichash as sodium

    sodium.generichash_blake2b_update(state, data)  # type: ignore[arg-type]


def _sodium_export(state: object) -> tuple[tuple[int, ...], int, bytes]:
    """(h, bytes compressed, pending bytes) in our form: at most 128 pending bytes (libsodium keeps up to 256,
    the first block of which is compressed here)."""
    from nacl._sodium import ffi

    raw = bytes(ffi.buffer(state._statebuf))  # type: ignore[attr-defined]
    if len(raw) < _SODIUM_STATE_BYTES:
        raise ValueError("unexpected libsodium state size")
    h = _STATE.unpack_from(raw, 0)
    compressed = struct.unpack_from("<Q", raw, 64)[0]
    buflen = struct.unpack_from("<Q", raw, _SODIUM_BUFLEN)[0]
    if buflen > 2 * _BLOCK or compressed % _BLOCK:
        raise ValueError("unexpected libsodium state")
    pending = raw[_SODIUM_BUF : _SODIUM_BUF + buflen]
    if len(pending) > _BLOCK:
        compressed += _BLOCK
        h = _compress(h, pending[:_BLOCK], compressed, False)
        pending = pending[_BLOCK:]
    return h, compressed, pending


def libsodium_usable() -> bool:
    """Whether libsodium's BLAKE2b state can be read (checked once against the pure-Python compression)."""
    global _sodium_checked
    if _sodium_checked is None:
        try:
            ok = True
            for length in (0, 1, 128, 129, 256, 257, 300, 1000):
                data = bytes(range(256)) * 4
                state = _sodium_new()
                if state is None:
                    ok = False
                    break
                _sodium_update(state, data[:length])
                reference = Blake2b._pure(data[:length])
                if _sodium_export(state) != (reference._h, reference._compressed, reference._pending):
                    ok = False
                    break
            _sodium_checked = ok
        except (ValueError, TypeError, AttributeError, ImportError, struct.error):
            _sodium_checked = False
    return _sodium_checked


class Blake2b:
    """Unkeyed BLAKE2b with a 64-byte digest, resumable through :meth:`partial_state`.

    ``update`` and ``digest`` behave as :func:`hashlib.blake2b`'s (``digest`` does not consume the object).
    """

    __slots__ = ("_compressed", "_h", "_pending", "_sodium")

    def __init__(self, data: bytes = b"", *, use_libsodium: bool = True) -> None:
        self._h: tuple[int, ...] = _H0
        self._compressed = 0
        self._pending = b""
        self._sodium: object | None = _sodium_new() if use_libsodium and libsodium_usable() else None
        if data:
            self.update(data)

    @classmethod
    def _pure(cls, data: bytes) -> Blake2b:
        return cls(data, use_libsodium=False)

    def _settle(self) -> None:
        """Move a libsodium-held state into the pure-Python fields (later input is hashed in Python)."""
        if self._sodium is not None:
            self._h, self._compressed, self._pending = _sodium_export(self._sodium)
            self._sodium = None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Absorb ``data``. All complete blocks but a trailing one are compressed now."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"Blake2b.update expects bytes, got {type(data).__name__}")
        if self._sodium is not None:
            _sodium_update(self._sodium, bytes(data))
            return
        pending = self._pending + bytes(data)
        if len(pending) <= _BLOCK:
            self._pending = pending
            return
        # Keep the last 1..128 bytes pending: the final block must be compressed with the final flag.
        keep = len(pending) - ((len(pending) - 1) // _BLOCK) * _BLOCK
        h = self._h
        count = self._compressed
        for start in range(0, len(pending) - keep, _BLOCK):
            count += _BLOCK
            h = _compress(h, pending[start : start + _BLOCK], count, False)
        self._h = h
        self._compressed = count
        self._pending = pending[len(pending) - keep :]

    def copy(self) -> Blake2b:
        """An independent copy of the running state."""
        self._settle()
        other = Blake2b(use_libsodium=False)
        other._h = self._h
        other._compressed = self._compressed
        other._pending = self._pending
        return other

    def digest(self) -> bytes:
        """The 64-byte digest of everything absorbed so far."""
        self._settle()
        total = self._compressed + len(self._pending)
        h = _compress(self._h, self._pending.ljust(_BLOCK, b"\0"), total, True)
        return _STATE.pack(*h)

    def partial_state(self) -> bytes:
        """The running state in snarkjs' 216-byte ``partialHash`` layout (see the module docstring)."""
        self._settle()
        pos = len(self._pending)
        return b"".join(
            [
                self._pending.ljust(_BLOCK, b"\0"),
                _STATE.pack(*self._h),
                struct.pack("<QQ", self._compressed, pos),
                bytes(8),
            ]
        )

    @classmethod
    def from_partial_state(cls, raw: bytes) -> Blake2b:
        """Resume from a 216-byte ``partialHash``. Raises :class:`ValueError` for an impossible state
        (wrong size, more than 128 pending bytes, a compressed count that is not whole blocks)."""
        if not isinstance(raw, bytes | bytearray | memoryview) or len(raw) != PARTIAL_STATE_SIZE:
            raise ValueError(f"a BLAKE2b partial state is {PARTIAL_STATE_SIZE} bytes")
        raw = bytes(raw)
        compressed, pos = struct.unpack_from("<QQ", raw, 192)
        if pos > _BLOCK or compressed % _BLOCK or (compressed and not pos):
            raise ValueError("the BLAKE2b partial state is inconsistent (pending length or block count)")
        state = cls(use_libsodium=False)
        state._h = _STATE.unpack_from(raw, 128)
        state._compressed = compressed
        state._pending = raw[:pos]
        return state
