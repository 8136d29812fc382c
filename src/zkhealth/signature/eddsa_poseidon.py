"""EdDSA over Baby Jubjub with Poseidon: byte-for-byte circomlibjs ``prv2pub`` / ``signPoseidon`` /
``verifyPoseidon`` (``src/eddsa.js``), and the signature that circuits verify.

Key derivation (circomlibjs): ``h = BLAKE-512(private_key)`` (the SHA-3 finalist, not BLAKE2); the scalar
``s`` is ``h[0:32]`` read little endian after pruning (clear the 3 low bits, clear bit 255, set bit 254);
the public key is ``A = (s >> 3) * Base8``.

Signing a field element ``msg``: nonce ``r = BLAKE-512(h[32:64] || msg as 32 little-endian bytes) mod l``;
``R8 = r * Base8``; ``hm = Poseidon(R8.x, R8.y, A.x, A.y, msg)``; ``S = (r + hm * s) mod l``.
Verification: ``S * Base8 == R8 + (8 * hm) * A``. As ``s = 8 * (s >> 3)``, a genuine signature satisfies it.

Verification here is stricter than circomlibjs (which only checks that R8 and A are on the curve and S < l):
it also rejects public keys of small order (:class:`WeakIssuerKeyError`: with ``8A = 0`` anything verifies
for R8 = S * Base8) and keys outside the prime-order subgroup (two keys would accept the same signatures).
Every failure raises a subclass of :class:`SignatureError`; malformed input raises
:class:`MalformedSignatureError` (off-curve points raise :class:`SignaturePointNotOnCurveError`, which is
also a :class:`PointNotOnCurveError`), a well-formed signature that does not verify raises
:class:`InvalidSignatureError`.

Nothing here is constant time; keep issuer keys in an offline signer where that matters.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from zkhealth._bigint import mpz
from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedSignatureError,
    NonCanonicalEncodingError,
    PointNotOnCurveError,
    SignaturePointNotInSubgroupError,
    SignaturePointNotOnCurveError,
    SignatureTypeError,
    WeakIssuerKeyError,
)
from zkhealth.field import FIELD_R, Fr
from zkhealth.hash.blake512 import blake512
from zkhealth.hash.poseidon import poseidon
from zkhealth.hazmat import babyjubjub as bjj
from zkhealth.hazmat.babyjubjub import _base8_ext, _ext_add, _ext_mul, _to_ext

__all__ = ["PrivateKey", "PublicKey", "Signature", "sign", "verify"]

_L = bjj.SUBORDER
_P: Any = mpz(FIELD_R)


def _message_element(message: object) -> int:
    """The message as an int in [0, r): FieldTypeError / FieldRangeError otherwise (never reduced)."""
    if isinstance(message, Fr):
        return message.value
    if isinstance(message, bool) or not isinstance(message, int):
        raise FieldTypeError(f"EdDSA message: expected a field element (int), got {type(message).__name__}")
    if not 0 <= message < FIELD_R:
        raise FieldRangeError("EdDSA message: value is not in [0, r)")
    return int(message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- public key


@dataclass(frozen=True)
class PublicKey:
    """A Baby Jubjub EdDSA-Poseidon public key A = (x, y), affine.

    Construction checks only the types (ints, not bools: :class:`SignatureTypeError`). :meth:`validate`
    checks the rest, and :func:`verify` calls it: coordinates in [0, r), on the curve, not of small order,
    in the prime-order subgroup. The result of a successful validation is cached on the instance.
    """

    x: int
    y: int
    _validated: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (_is_int(self.x) and _is_int(self.y)):
            raise SignatureTypeError("public key coordinates must be ints")

    @classmethod
    def from_point(cls, point: tuple[int, int]) -> PublicKey:
        """Build from an (x, y) pair (tuple or list of two ints). Does not validate (see :meth:`validate`)."""
        if not isinstance(point, tuple | list) or len(point) != 2:
            raise SignatureTypeError("public key: expected a pair (x, y)")
        return cls(point[0], point[1])

    @property
    def point(self) -> tuple[int, int]:
        """The affine point (x, y)."""
        return (self.x, self.y)

    def validate(self) -> PublicKey:
        """Check the key and return it; cached after the first success.

        Raises :class:`MalformedSignatureError` for a coordinate outside [0, r),
        :class:`SignaturePointNotOnCurveError` off the curve, :class:`WeakIssuerKeyError` for one of the
        8 small-order points (identity, (0, r-1), ...), :class:`SignaturePointNotInSubgroupError` for a
        point with a torsion component. Cost: one scalar multiplication (about 1 ms) the first time.
        """
        if self._validated:
            return self
        if not (0 <= self.x < FIELD_R and 0 <= self.y < FIELD_R):
            raise MalformedSignatureError("public key coordinate is not in [0, r)")
        if not bjj.is_on_curve(self.point):
            raise SignaturePointNotOnCurveError("public key is not on Baby Jubjub")
        if bjj.is_small_order(self.point):
            raise WeakIssuerKeyError("public key has small order: it would accept forged signatures")
        if not bjj.in_subgroup(self.point):
            raise SignaturePointNotInSubgroupError("public key is outside the prime-order subgroup")
        object.__setattr__(self, "_validated", True)
        return self

    def to_bytes(self) -> bytes:
        """The 32-byte circomlibjs ``packPoint`` encoding. The key must be on the curve."""
        try:
            return bjj.pack_point(self.point)
        except (FieldRangeError, FieldTypeError) as exc:
            raise MalformedSignatureError("public key coordinate is not in [0, r)") from exc
        except PointNotOnCurveError as exc:
            raise SignaturePointNotOnCurveError("public key is not on Baby Jubjub") from exc

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Decode a 32-byte packed key and validate it (see :meth:`validate`).

        Raises :class:`MalformedSignatureError` for a wrong length or non-canonical encoding,
        :class:`SignaturePointNotOnCurveError` if no point has this encoding, and what :meth:`validate` raises.
        """
        return cls.from_point(_unpack(data, "public key")).validate()


def _unpack(data: object, what: str) -> tuple[int, int]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SignatureTypeError(f"{what}: expected bytes, got {type(data).__name__}")
    try:
        return bjj.unpack_point(bytes(data))
    except PointNotOnCurveError as exc:
        raise SignaturePointNotOnCurveError(f"{what}: not the encoding of a curve point") from exc
    except NonCanonicalEncodingError as exc:
        raise MalformedSignatureError(f"{what}: non-canonical point encoding") from exc
    except (FieldTypeError, FieldRangeError, ValueError) as exc:
        raise MalformedSignatureError(f"{what}: expected 32 bytes") from exc


# --------------------------------------------------------------------------- signature


@dataclass(frozen=True)
class Signature:
    """An EdDSA-Poseidon signature (R8, S). Construction checks types only; :func:`verify` checks ranges."""

    R8: tuple[int, int]
    S: int

    def __post_init__(self) -> None:
        r8 = self.R8
        if not isinstance(r8, tuple | list) or len(r8) != 2 or not (_is_int(r8[0]) and _is_int(r8[1])):
            raise SignatureTypeError("signature R8 must be a pair of ints")
        if not _is_int(self.S):
            raise SignatureTypeError(f"signature S must be an int, got {type(self.S).__name__}")
        object.__setattr__(self, "R8", (int(r8[0]), int(r8[1])))

    def to_bytes(self) -> bytes:
        """circomlibjs ``packSignature``: packed R8 (32 bytes) || S (32 bytes, little endian).

        Raises :class:`MalformedSignatureError` unless 0 <= S < l and R8 is a curve point.
        """
        if not 0 <= self.S < _L:
            raise MalformedSignatureError("signature S is not in [0, l)")
        if not bjj.is_on_curve(self.R8):
            raise SignaturePointNotOnCurveError("signature R8 is not on Baby Jubjub")
        return bjj.pack_point(self.R8) + self.S.to_bytes(32, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Inverse of :meth:`to_bytes`: exactly 64 bytes, canonical R8 on the curve, S < l (no reduction)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SignatureTypeError(f"packed signature: expected bytes, got {type(data).__name__}")
        raw = bytes(data)
        if len(raw) != 64:
            raise MalformedSignatureError(f"packed signature: expected 64 bytes, got {len(raw)}")
        r8 = _unpack(raw[:32], "signature R8")
        s = int.from_bytes(raw[32:], "little")
        if s >= _L:
            raise MalformedSignatureError("signature S is not in [0, l)")
        return cls(r8, s)


# --------------------------------------------------------------------------- private key


class PrivateKey:
    """A 32-byte EdDSA-Poseidon private key (circomlibjs format). ``repr`` never shows the key.

    The derived scalar, nonce prefix and public key are computed once, at construction.
    Python cannot reliably erase memory: keep long-lived issuer keys out of ordinary processes.
    """

    __slots__ = ("__secret", "_nonce_prefix", "_public_key", "_scalar")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray | memoryview):
            raise InvalidKeyError(f"private key: expected 32 bytes, got {type(secret).__name__}")
        raw = bytes(secret)
        if len(raw) != 32:
            raise InvalidKeyError(f"private key: expected 32 bytes, got {len(raw)}")
        digest = bytearray(blake512(raw))
        # circomlibjs pruneBuffer: clear the 3 low bits, clear bit 255, set bit 254.
        digest[0] &= 0xF8
        digest[31] &= 0x7F
        digest[31] |= 0x40
        self.__secret = raw
        self._scalar = int.from_bytes(digest[:32], "little")
        self._nonce_prefix = bytes(digest[32:64])
        ax, ay = bjj.mul_base8(self._scalar >> 3)
        self._public_key = PublicKey(ax, ay)
        object.__setattr__(self._public_key, "_validated", True)  # (s >> 3) * Base8 is in the subgroup

    @classmethod
    def generate(cls) -> PrivateKey:
        """A fresh key from the operating system's CSPRNG (:mod:`secrets`)."""
        return cls(secrets.token_bytes(32))

    def public_key(self) -> PublicKey:
        """The public key A = (s >> 3) * Base8 (circomlibjs ``prv2pub``)."""
        return self._public_key

    def to_bytes(self) -> bytes:
        """The 32 secret bytes. Handle with care: store only encrypted (see the wallet)."""
        return self.__secret

    def __repr__(self) -> str:
        return "PrivateKey(<redacted>)"

    def __reduce__(self) -> Any:
        raise TypeError("PrivateKey is not picklable; store to_bytes() encrypted instead")


# --------------------------------------------------------------------------- sign / verify


def sign(private_key: PrivateKey, message: int) -> Signature:
    """Sign the field element ``message``; identical to circomlibjs ``signPoseidon(prv, F.e(message))``.

    Deterministic (RFC 8032-style nonce from the key and the message). Raises :class:`InvalidKeyError` if
    ``private_key`` is not a :class:`PrivateKey`, :class:`FieldTypeError` / :class:`FieldRangeError` if the
    message is not an int in [0, r). Cost: one BLAKE-512 block, one fixed-base multiplication, one
    Poseidon(5): about 0.5-1 ms.
    """
    if not isinstance(private_key, PrivateKey):
        raise InvalidKeyError("sign: expected a PrivateKey")
    msg = _message_element(message)
    nonce_digest = blake512(private_key._nonce_prefix + msg.to_bytes(32, "little"))
    r = int.from_bytes(nonce_digest, "little") % _L
    r8 = bjj.mul_base8(r)
    a = private_key._public_key
    hm = poseidon([r8[0], r8[1], a.x, a.y, msg])
    s = (r + hm * private_key._scalar) % _L
    return Signature(r8, s)


def verify(public_key: PublicKey, message: int, signature: Signature) -> None:
    """Check ``signature`` on the field element ``message`` under ``public_key``; return None or raise.

    Checks, in order (each cheap check before any scalar multiplication): argument types
    (:class:`SignatureTypeError`), message in [0, r) (:class:`FieldTypeError` / :class:`FieldRangeError`),
    0 <= S < l (:class:`MalformedSignatureError`; so S + l never aliases S), R8 coordinates in [0, r) and on
    the curve (:class:`SignaturePointNotOnCurveError`), the public key (:meth:`PublicKey.validate`), then
    ``S * Base8 == R8 + (8 * hm) * A`` (:class:`InvalidSignatureError`).
    Cost: about 1.5-3 ms (one fixed-base and one variable-base multiplication, one Poseidon(5)).
    """
    if not isinstance(public_key, PublicKey):
        raise SignatureTypeError("verify: expected a PublicKey")
    if not isinstance(signature, Signature):
        raise SignatureTypeError("verify: expected a Signature")
    msg = _message_element(message)
    s = signature.S
    if not 0 <= s < _L:
        raise MalformedSignatureError("signature S is not in [0, l)")
    r8x, r8y = signature.R8
    if not (0 <= r8x < FIELD_R and 0 <= r8y < FIELD_R):
        raise MalformedSignatureError("signature R8 coordinate is not in [0, r)")
    if not bjj.is_on_curve(signature.R8):
        raise SignaturePointNotOnCurveError("signature R8 is not on Baby Jubjub")
    public_key.validate()
    hm = poseidon([r8x, r8y, public_key.x, public_key.y, msg])
    left = _base8_ext(s)
    # A is in the prime-order subgroup (validated), so 8 * hm may be reduced mod l.
    right = _ext_add(_to_ext(signature.R8), _ext_mul(_to_ext(public_key.point), 8 * hm % _L))
    # Projective equality: X1 Z2 == X2 Z1 and Y1 Z2 == Y2 Z1.
    p = _P
    if (left[0] * right[2] - right[0] * left[2]) % p or (left[1] * right[2] - right[1] * left[2]) % p:
        raise InvalidSignatureError("EdDSA-Poseidon signature does not verify")
