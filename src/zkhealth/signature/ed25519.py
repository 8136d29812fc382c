"""Ed25519 (RFC 8032) through PyNaCl / libsodium, for the credential envelope (W3C VC JSON).

Thin, strict wrappers: keys and signatures have exact lengths, verify keys of small order or outside the
prime-order subgroup are refused when they are parsed, and no ``nacl`` exception ever escapes: every failure
is a :class:`~zkhealth.errors.ZkHealthError` subclass raised ``from None``.

* :class:`InvalidKeyError`: a key of the wrong type or length, not a canonical encoding of a point in the
  prime-order subgroup.
* :class:`WeakIssuerKeyError` (a :class:`SignatureError`): one of the 8 small-order points (all-zero bytes
  included). With such a key, one signature verifies for many messages.
* :class:`MalformedSignatureError`: a signature that is not exactly 64 bytes; :class:`SignatureTypeError` for
  a message or signature that is not bytes; :class:`InvalidSignatureError`: it does not verify.

Helpers encode bytes as lowercase hex and as unpadded base64url (RFC 4648 Section 5), strictly.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from typing import Any, Final

import nacl.bindings
import nacl.exceptions
import nacl.signing

from zkhealth.errors import (
    EncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedSignatureError,
    SignatureTypeError,
    WeakIssuerKeyError,
)

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SEED_SIZE",
    "SIGNATURE_SIZE",
    "Ed25519SigningKey",
    "Ed25519VerifyKey",
    "b64url_decode",
    "b64url_encode",
]

SEED_SIZE: Final[int] = 32
PUBLIC_KEY_SIZE: Final[int] = 32
SIGNATURE_SIZE: Final[int] = 64

# Edwards25519 (RFC 8032 Section 5.1): -x^2 + y^2 = 1 + d x^2 y^2 over p = 2^255 - 19.
_P: Final[int] = 2**255 - 19
_D: Final[int] = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1: Final[int] = pow(2, (_P - 1) // 4, _P)


def _bytes_arg(value: object, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise SignatureTypeError(f"{what}: expected bytes, got {type(value).__name__}")
    return bytes(value)


def _decode_point(data: bytes) -> tuple[int, int] | None:
    """RFC 8032 Section 5.1.3 decoding, without the canonical-y requirement; None if there is no point."""
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    sign = data[31] >> 7
    y %= _P
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P:
            return None
    if x & 1 != sign:
        x = (-x) % _P
    return (x, y)


def _edwards_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    """Affine addition on edwards25519 (complete: d is a non-square)."""
    x1, y1 = p1
    x2, y2 = p2
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return (x3, y3)


def _has_small_order(data: bytes) -> bool:
    """True if ``data`` decodes (y taken mod p) to one of the 8 points with 8P = identity."""
    point = _decode_point(data)
    if point is None:
        return False
    for _ in range(3):
        point = _edwards_add(point, point)
    return point == (0, 1)


class Ed25519VerifyKey:
    """An Ed25519 public key. Build it with :meth:`from_bytes` (or from a signing key); it is always valid."""

    __slots__ = ("_key", "_raw")

    def __init__(self, raw: bytes, *, _checked: bool = False) -> None:
        if not _checked:
            raise TypeError("use Ed25519VerifyKey.from_bytes()")
        self._raw = raw
        self._key = nacl.signing.VerifyKey(raw)

    @classmethod
    def from_bytes(cls, data: bytes) -> Ed25519VerifyKey:
        """Parse a 32-byte public key.

        Raises :class:`InvalidKeyError` for a wrong type or length, or bytes that are not the canonical
        encoding of a point in the prime-order subgroup, and :class:`WeakIssuerKeyError` for a small-order
        point (including all-zero bytes and the identity). Cost: tens of microseconds.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidKeyError(f"Ed25519 public key: expected bytes, got {type(data).__name__}")
        raw = bytes(data)
        if len(raw) != PUBLIC_KEY_SIZE:
            raise InvalidKeyError(f"Ed25519 public key: expected {PUBLIC_KEY_SIZE} bytes, got {len(raw)}")
        if _has_small_order(raw):
            raise WeakIssuerKeyError("Ed25519 public key has small order")
        # libsodium: canonical encoding, on the curve, not small order, in the prime-order subgroup.
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
            raise InvalidKeyError("Ed25519 public key is not a valid point of the prime-order subgroup")
        return cls(raw, _checked=True)

    @classmethod
    def from_hex(cls, text: str) -> Ed25519VerifyKey:
        """Parse 64 lowercase hex digits (see :meth:`from_bytes`); :class:`InvalidKeyError` otherwise."""
        if not isinstance(text, str) or re.fullmatch(r"[0-9a-f]{64}", text, re.ASCII) is None:
            raise InvalidKeyError("Ed25519 public key: expected 64 lowercase hex digits")
        return cls.from_bytes(bytes.fromhex(text))

    def to_bytes(self) -> bytes:
        """The 32-byte RFC 8032 encoding."""
        return self._raw

    def to_hex(self) -> str:
        """The encoding as 64 lowercase hex digits."""
        return self._raw.hex()

    def verify(self, message: bytes, signature: bytes) -> None:
        """Check a 64-byte detached signature on ``message``; return None or raise.

        Raises :class:`SignatureTypeError` if either argument is not bytes, :class:`MalformedSignatureError`
        for a signature that is not 64 bytes, :class:`InvalidSignatureError` if it does not verify (libsodium
        also refuses non-canonical S and small-order R). Cost: about 0.1 ms.
        """
        msg = _bytes_arg(message, "message")
        sig = _bytes_arg(signature, "signature")
        if len(sig) != SIGNATURE_SIZE:
            raise MalformedSignatureError(f"Ed25519 signature: expected {SIGNATURE_SIZE} bytes, got {len(sig)}")
        try:
            self._key.verify(msg, sig)
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise InvalidSignatureError("Ed25519 signature does not verify") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ed25519VerifyKey):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(("Ed25519VerifyKey", self._raw))

    def __repr__(self) -> str:
        return f"Ed25519VerifyKey({self._raw.hex()})"


class Ed25519SigningKey:
    """An Ed25519 private key (its 32-byte seed). ``repr`` never shows the seed; not picklable."""

    __slots__ = ("_key", "_seed", "_verify_key")

    def __init__(self, seed: bytes, *, _checked: bool = False) -> None:
        if not _checked:
            raise TypeError("use Ed25519SigningKey.from_seed() or .generate()")
        self._seed = seed
        self._key = nacl.signing.SigningKey(seed)
        self._verify_key = Ed25519VerifyKey(bytes(self._key.verify_key), _checked=True)

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519SigningKey:
        """Build from a 32-byte seed; :class:`InvalidKeyError` for another type or length."""
        if not isinstance(seed, bytes | bytearray | memoryview):
            raise InvalidKeyError(f"Ed25519 seed: expected bytes, got {type(seed).__name__}")
        raw = bytes(seed)
        if len(raw) != SEED_SIZE:
            raise InvalidKeyError(f"Ed25519 seed: expected {SEED_SIZE} bytes, got {len(raw)}")
        return cls(raw, _checked=True)

    @classmethod
    def generate(cls) -> Ed25519SigningKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(SEED_SIZE), _checked=True)

    @property
    def verify_key(self) -> Ed25519VerifyKey:
        """The matching public key."""
        return self._verify_key

    def seed_bytes(self) -> bytes:
        """The 32-byte seed. Handle with care: store only encrypted."""
        return self._seed

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached RFC 8032 signature of ``message`` (deterministic).

        Raises :class:`SignatureTypeError` if ``message`` is not bytes. Cost: about 0.05 ms.
        """
        msg = _bytes_arg(message, "message")
        return bytes(self._key.sign(msg).signature)

    def __repr__(self) -> str:
        return f"Ed25519SigningKey(<redacted>, verify_key={self._verify_key.to_hex()})"

    def __reduce__(self) -> Any:
        raise TypeError("Ed25519SigningKey is not picklable; store seed_bytes() encrypted instead")


_B64URL: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 Section 5) of ``data``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EncodingError(f"b64url_encode: expected bytes, got {type(data).__name__}")
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly: alphabet ``A-Z a-z 0-9 - _`` only, no padding, no whitespace,
    canonical (unused trailing bits zero), so every byte string has exactly one accepted spelling.

    Raises :class:`EncodingError` otherwise.
    """
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise EncodingError("not an unpadded base64url string")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise EncodingError("not an unpadded base64url string") from None
    if b64url_encode(data) != text:
        raise EncodingError("non-canonical base64url (non-zero trailing bits)")
    return data
