"""Data-access grants: a patient's FHIR extract sealed for a trial's public key.

A trial publishes an X25519 public key (its ``dataKey`` in the registry). A patient who wants to share data
seals a FHIR extract for it with PyNaCl's :class:`nacl.public.SealedBox` (anonymous sender: X25519 +
XSalsa20-Poly1305 with an ephemeral key), stores the sealed bytes wherever the trial collects them (``uri``), and
records the grant on-chain: the sha256 of the sealed bytes and an expiry day (:meth:`TrialRegistryClient.
grant_access <zkhealth.chain.registry.TrialRegistryClient.grant_access>`). The recruiter's client checks the
grant is active and the hash matches before opening the extract, and records the use on-chain; a revoked or
expired grant is refused here, and a use recorded after revocation is flagged by the audit trail.

Sealing hides the extract from everyone but the holder of the trial's private key; nothing about its content
goes on-chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from zkhealth.errors import GrantError

__all__ = ["DataKeyPair", "SealedExtract", "open_extract", "seal_extract"]

#: Largest extract accepted (sealed or not): 32 MiB.
MAX_EXTRACT_BYTES = 32 * 1024 * 1024
#: A sealed box adds the ephemeral public key (32 bytes) and the Poly1305 tag (16 bytes).
_SEAL_OVERHEAD = 48


@dataclass(frozen=True)
class DataKeyPair:
    """A trial's X25519 key pair for data-access extracts. ``public_key`` goes on-chain (32 bytes)."""

    private_key: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> DataKeyPair:
        key = PrivateKey.generate()
        return cls(bytes(key), bytes(key.public_key))

    def __repr__(self) -> str:
        return f"DataKeyPair(public_key={self.public_key.hex()}, private_key=<redacted>)"


@dataclass(frozen=True)
class SealedExtract:
    """Sealed bytes and their sha256 (what the grant records on-chain)."""

    sealed: bytes
    sha256: bytes


def seal_extract(extract: bytes, data_key: bytes) -> SealedExtract:
    """Seal ``extract`` (e.g. a FHIR bundle as JSON bytes) for the trial's public ``data_key`` (32 bytes).
    Raises :class:`GrantError` for a key of the wrong size or an oversized extract."""
    if not isinstance(extract, bytes) or len(extract) > MAX_EXTRACT_BYTES:
        raise GrantError(f"the extract must be bytes of at most {MAX_EXTRACT_BYTES} bytes")
    if not isinstance(data_key, bytes) or len(data_key) != 32 or data_key == bytes(32):
        raise GrantError("the trial's data key must be a non-zero 32-byte X25519 public key")
    sealed = bytes(SealedBox(PublicKey(data_key)).encrypt(extract))
    return SealedExtract(sealed, hashlib.sha256(sealed).digest())


def open_extract(sealed: bytes, private_key: bytes, *, expected_sha256: bytes) -> bytes:
    """Open a sealed extract with the trial's private key after checking its sha256 against the grant's.
    Raises :class:`GrantError` when the hash differs or the box does not open."""
    if not isinstance(sealed, bytes) or len(sealed) > MAX_EXTRACT_BYTES + _SEAL_OVERHEAD:
        raise GrantError("the sealed extract is not bytes of a plausible size")
    if hashlib.sha256(sealed).digest() != expected_sha256:
        raise GrantError("the sealed extract does not match the hash recorded in the grant")
    try:
        return bytes(SealedBox(PrivateKey(private_key)).decrypt(sealed))
    except (CryptoError, ValueError, TypeError) as exc:
        raise GrantError("the sealed extract does not open with this key") from exc
