"""Contribution keys exactly as snarkjs derives them: the ChaCha20 generator, point sampling and hash-to-G2.

A contributor's secrets (tau, alpha, beta in phase 1; delta in phase 2) and the public keys that prove
knowledge of them come out of a seeded random generator. A beacon contribution must be reproducible by
anyone, and every contribution's G2 "s point" is a hash of the transcript mapped to G2; both only
interoperate with snarkjs if the generator and the sampling are bit-for-bit the ones of ffjavascript
(``chacha.js``, ``wasm_field1.js``, ``wasm_curve.js``) and snarkjs (``keypair.js``, ``misc.js``):

* **Generator**: ChaCha20 block function (RFC 7539 section 2.3: constants "expand 32-byte k", 10 double
  rounds) keyed with eight 32-bit words, nonce and counter words all zero, the 64-bit counter in words
  12-15 incremented after each block; each block yields 16 words, consumed in order. ``next_u64`` is
  ``hi * 2^32 + lo`` with the first word high; ``next_bool`` is the low bit of a word.
* **Field element**: four ``next_u64`` words, least significant first, masked to the modulus' bit length and
  rejected until below the modulus. ffjavascript stores field elements in Montgomery form and uses these
  bytes as such, so the element is ``v * 2^-256`` mod p.
* **Curve point** (``fromRng``): x from the field generator, a ``next_bool`` "greatest" flag, repeated until
  ``x^3 + b`` is a square; y is the root whose sign bit (``y > (p-1)/2``, for Fq2 the sign of c1, or of c0 when
  c1 = 0) equals the flag. In G2, the point is then multiplied by the full cofactor ``2q - r``.
* **Seeds**: a contribution's generator is keyed by the first 32 bytes (big-endian words) of
  ``BLAKE2b-512(64 bytes of OS randomness || utf-8 user text)``; a beacon's by ``SHA-256`` iterated
  ``2^n`` times on the beacon value; ``hash_to_g2(h)`` keys a fresh generator with the first 32 bytes of h
  and samples a G2 point.

Phase 1 key (snarkjs ``createPTauKey``): tau, alpha, beta from the generator, then for each (personalisation
0, 1, 2) ``g1_s`` = a random G1 point, ``g1_sx = secret * g1_s``, ``g2_sp = hash_to_g2(BLAKE2b(personalisation
byte || previous challenge || g1_s || g1_sx))`` (points uncompressed, big-endian) and ``g2_spx = secret *
g2_sp``. Phase 2 key (snarkjs ``zkey contribute``): delta, ``g1_s``, ``g1_sx = delta * g1_s``; the
transcript hash then fixes ``g2_sp = hash_to_g2(transcript)`` and ``g2_spx = delta * g2_sp``.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from typing import Final

from zkhealth.errors import CeremonyError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat.bn254 import (
    G1,
    G2,
    G2_COFACTOR,
    TWIST_B,
    Fq2,
    fq2_add,
    fq2_mul,
    fq2_pow,
    fq2_sqr,
    fq2_sqrt,
    g1_mul,
    g2_mul,
)

__all__ = [
    "ChaCha",
    "DeltaKey",
    "PtauKey",
    "PublicKeyPart",
    "beacon_rng",
    "check_beacon",
    "contribution_rng",
    "create_delta_key",
    "create_ptau_key",
    "fr_from_rng",
    "g1_from_rng",
    "g1_uncompressed",
    "g2_from_rng",
    "g2_sp",
    "g2_uncompressed",
    "hash_to_g2",
]

_MASK32: Final[int] = 0xFFFFFFFF
_R_INV_R: Final[int] = pow(2**256, -1, FIELD_R)
_R_INV_Q: Final[int] = pow(2**256, -1, FIELD_Q)
#: snarkjs accepts beacon iteration exponents in [10, 63].
MIN_BEACON_EXPONENT: Final[int] = 10
MAX_BEACON_EXPONENT: Final[int] = 63


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK32
    x = s[d] ^ s[a]
    s[d] = ((x << 16) | (x >> 16)) & _MASK32
    s[c] = (s[c] + s[d]) & _MASK32
    x = s[b] ^ s[c]
    s[b] = ((x << 12) | (x >> 20)) & _MASK32
    s[a] = (s[a] + s[b]) & _MASK32
    x = s[d] ^ s[a]
    s[d] = ((x << 8) | (x >> 24)) & _MASK32
    s[c] = (s[c] + s[d]) & _MASK32
    x = s[b] ^ s[c]
    s[b] = ((x << 7) | (x >> 25)) & _MASK32


class ChaCha:
    """ffjavascript's ChaCha20 random generator (see the module docstring), seeded with eight u32 words."""

    __slots__ = ("_buffer", "_index", "_state")

    def __init__(self, seed: list[int]) -> None:
        if len(seed) != 8 or any(not 0 <= word <= _MASK32 for word in seed):
            raise CeremonyError("a ChaCha seed is eight 32-bit words")
        # "expand 32-byte k", the key, then counter and nonce words at zero.
        self._state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *seed, 0, 0, 0, 0]
        self._buffer: list[int] = []
        self._index = 16

    @classmethod
    def from_hash(cls, digest: bytes) -> ChaCha:
        """Seed with the first 32 bytes of ``digest`` read as big-endian words (snarkjs' convention)."""
        if len(digest) < 32:
            raise CeremonyError("a ChaCha seed needs 32 bytes")
        return cls(list(struct.unpack(">8I", digest[:32])))

    def _refill(self) -> None:
        working = list(self._state)
        for _ in range(10):
            _quarter_round(working, 0, 4, 8, 12)
            _quarter_round(working, 1, 5, 9, 13)
            _quarter_round(working, 2, 6, 10, 14)
            _quarter_round(working, 3, 7, 11, 15)
            _quarter_round(working, 0, 5, 10, 15)
            _quarter_round(working, 1, 6, 11, 12)
            _quarter_round(working, 2, 7, 8, 13)
            _quarter_round(working, 3, 4, 9, 14)
        self._buffer = [(w + s) & _MASK32 for w, s in zip(working, self._state, strict=True)]
        self._index = 0
        for word in range(12, 16):  # 128-bit counter with carry, as ffjavascript
            self._state[word] = (self._state[word] + 1) & _MASK32
            if self._state[word]:
                break

    def next_u32(self) -> int:
        if self._index == 16:
            self._refill()
        value = self._buffer[self._index]
        self._index += 1
        return value

    def next_u64(self) -> int:
        high = self.next_u32()
        return (high << 32) | self.next_u32()

    def next_bool(self) -> bool:
        return bool(self.next_u32() & 1)


def _field_raw(rng: ChaCha, modulus: int) -> int:
    mask = (1 << modulus.bit_length()) - 1
    while True:
        value = 0
        for i in range(4):
            value |= rng.next_u64() << (64 * i)
        value &= mask
        if value < modulus:
            return value


def fr_from_rng(rng: ChaCha) -> int:
    """A scalar as ffjavascript's ``Fr.fromRng`` (the sampled bytes read as a Montgomery form)."""
    return _field_raw(rng, FIELD_R) * _R_INV_R % FIELD_R


def _fq_from_rng(rng: ChaCha) -> int:
    return _field_raw(rng, FIELD_Q) * _R_INV_Q % FIELD_Q


def _fq_negative(value: int) -> bool:
    return value > (FIELD_Q - 1) // 2


def _fq2_negative(value: Fq2) -> bool:
    return _fq_negative(value[1]) if value[1] else _fq_negative(value[0])


def g1_from_rng(rng: ChaCha) -> G1:
    """A G1 point as ffjavascript's ``G1.fromRng`` (see the module docstring)."""
    q = FIELD_Q
    while True:
        x = _fq_from_rng(rng)
        greatest = rng.next_bool()
        rhs = (x * x * x + 3) % q
        if rhs == 0 or pow(rhs, (q - 1) // 2, q) == 1:
            break
    y = pow(rhs, (q + 1) // 4, q)  # q = 3 mod 4
    if greatest != _fq_negative(y):
        y = (q - y) % q
    return (x, y)


def g2_from_rng(rng: ChaCha) -> G2:
    """A G2 point as ffjavascript's ``G2.fromRng``: a random twist point times the cofactor ``2q - r``."""
    while True:
        x = (_fq_from_rng(rng), _fq_from_rng(rng))
        greatest = rng.next_bool()
        rhs = fq2_add(fq2_mul(fq2_sqr(x), x), TWIST_B)
        # Euler's criterion in Fq2: rhs^((q^2 - 1) / 2) != -1 (0 counts as a square, as in wasmcurves).
        if fq2_pow(rhs, (FIELD_Q * FIELD_Q - 1) // 2) != (FIELD_Q - 1, 0):
            break
    y = fq2_sqrt(rhs)
    if y is None:  # pragma: no cover - excluded by Euler's criterion just above
        raise CeremonyError("hash to G2: a square has no square root")
    if greatest != _fq2_negative(y):
        y = ((FIELD_Q - y[0]) % FIELD_Q, (FIELD_Q - y[1]) % FIELD_Q)
    point = g2_mul((x, y), G2_COFACTOR)
    if point is None:  # pragma: no cover - a random twist point is never in the cofactor's kernel
        raise CeremonyError("hash to G2 gave the identity")
    return point


def hash_to_g2(digest: bytes) -> G2:
    """snarkjs' ``hashToG2``: a G2 point from the generator seeded with the first 32 bytes of ``digest``."""
    return g2_from_rng(ChaCha.from_hash(digest))


def g1_uncompressed(point: G1 | None) -> bytes:
    """ffjavascript's uncompressed G1 encoding: x and y big-endian; the identity is 64 zero bytes."""
    if point is None:
        return bytes(64)
    return point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def g2_uncompressed(point: G2 | None) -> bytes:
    """Uncompressed G2: x.c1, x.c0, y.c1, y.c0 big-endian (an Fq2 element reversed as one 64-byte number)."""
    if point is None:
        return bytes(128)
    (x0, x1), (y0, y1) = point
    return b"".join(v.to_bytes(32, "big") for v in (x1, x0, y1, y0))


def g2_sp(personalization: int, challenge: bytes, g1_s: G1, g1_sx: G1) -> G2:
    """snarkjs' ``getG2sp``: hash_to_g2(BLAKE2b(personalisation byte || challenge || g1_s || g1_sx))."""
    digest = hashlib.blake2b(
        bytes([personalization]) + challenge + g1_uncompressed(g1_s) + g1_uncompressed(g1_sx)
    ).digest()
    return hash_to_g2(digest)


def contribution_rng(user_text: str = "", *, os_entropy: bytes | None = None) -> ChaCha:
    """The generator of a contribution: BLAKE2b(64 bytes from the OS || utf-8 text) seeds ChaCha.

    ``os_entropy`` exists for known-answer tests only; by default :func:`os.urandom` supplies it.
    """
    entropy = os.urandom(64) if os_entropy is None else os_entropy
    if len(entropy) != 64:
        raise CeremonyError("a contribution needs 64 bytes of OS entropy")
    return ChaCha.from_hash(hashlib.blake2b(entropy + user_text.encode("utf-8")).digest())


def beacon_rng(beacon: bytes, exponent: int) -> ChaCha:
    """snarkjs' ``rngFromBeaconParams``: SHA-256 applied ``2^exponent`` times to ``beacon`` seeds ChaCha.

    Cost: 2^exponent SHA-256 calls (about 1 s for exponent 20).
    """
    check_beacon(beacon, exponent)
    current = bytes(beacon)
    sha256 = hashlib.sha256
    for _ in range(1 << exponent):
        current = sha256(current).digest()
    return ChaCha.from_hash(current)


def check_beacon(beacon: bytes, exponent: int) -> None:
    """snarkjs' limits: a beacon of 1 to 255 bytes and an iteration exponent in [10, 63]."""
    if not 1 <= len(beacon) <= 255:
        raise CeremonyError("a beacon value is 1 to 255 bytes")
    if isinstance(exponent, bool) or not isinstance(exponent, int):
        raise CeremonyError("the beacon iteration exponent must be an int")
    if not MIN_BEACON_EXPONENT <= exponent <= MAX_BEACON_EXPONENT:
        raise CeremonyError(f"the beacon iteration exponent must lie in [{MIN_BEACON_EXPONENT}, {MAX_BEACON_EXPONENT}]")


@dataclass(frozen=True)
class PublicKeyPart:
    """Proof of knowledge of one secret s: ``g1_sx = s * g1_s`` and ``g2_spx = s * g2_sp``."""

    g1_s: G1
    g1_sx: G1
    g2_spx: G2


@dataclass(frozen=True)
class PtauKey:
    """A phase-1 contribution key: the public parts, and the secrets when this process made the key."""

    tau: PublicKeyPart
    alpha: PublicKeyPart
    beta: PublicKeyPart
    secrets: tuple[int, int, int] | None = None

    def __repr__(self) -> str:  # never print a contributor's secrets by accident
        return "PtauKey(<public key>)"


def _public_part(secret: int, personalization: int, challenge: bytes, rng: ChaCha) -> PublicKeyPart:
    g1_s = g1_from_rng(rng)
    g1_sx = g1_mul(g1_s, secret)
    if g1_sx is None:  # pragma: no cover - secrets are non-zero below r
        raise CeremonyError("a contribution secret is zero")
    g2_spx = g2_mul(g2_sp(personalization, challenge, g1_s, g1_sx), secret)
    if g2_spx is None:  # pragma: no cover - as above
        raise CeremonyError("a contribution secret is zero")
    return PublicKeyPart(g1_s, g1_sx, g2_spx)


def create_ptau_key(challenge: bytes, rng: ChaCha) -> PtauKey:
    """snarkjs ``createPTauKey``: the secrets tau, alpha, beta, then the three public parts, from ``rng``."""
    if len(challenge) != 64:
        raise CeremonyError("a powers-of-tau challenge hash is 64 bytes")
    tau, alpha, beta = fr_from_rng(rng), fr_from_rng(rng), fr_from_rng(rng)
    if 0 in (tau, alpha, beta):  # pragma: no cover - probability 3 / r
        raise CeremonyError("a contribution secret is zero; contribute again")
    return PtauKey(
        tau=_public_part(tau, 0, challenge, rng),
        alpha=_public_part(alpha, 1, challenge, rng),
        beta=_public_part(beta, 2, challenge, rng),
        secrets=(tau, alpha, beta),
    )


@dataclass(frozen=True)
class DeltaKey:
    """A phase-2 contribution key: delta (secret, None once forgotten), ``g1_s``, ``g1_sx = delta * g1_s``."""

    delta: int | None
    g1_s: G1
    g1_sx: G1

    def __repr__(self) -> str:
        return "DeltaKey(<public key>)"


def create_delta_key(rng: ChaCha) -> DeltaKey:
    """snarkjs ``zkey contribute``: delta = ``Fr.fromRng``, ``g1_s = G1.fromRng``, ``g1_sx = delta * g1_s``."""
    delta = fr_from_rng(rng)
    if delta == 0:  # pragma: no cover - probability 1 / r
        raise CeremonyError("a contribution secret is zero; contribute again")
    g1_s = g1_from_rng(rng)
    g1_sx = g1_mul(g1_s, delta)
    if g1_sx is None:  # pragma: no cover - delta is non-zero
        raise CeremonyError("a contribution secret is zero")
    return DeltaKey(delta, g1_s, g1_sx)
