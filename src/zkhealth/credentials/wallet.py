"""The patient's wallet: holder secret and credentials in one encrypted file.

File format, version 1 (all integers big-endian)::

    offset  size  field
    0       4     magic b"ZKHW"
    4       2     version = 1
    6       1     kdf id = 1 (Argon2id v1.3, libsodium crypto_pwhash_argon2id)
    7       1     aead id = 1 (XChaCha20-Poly1305-IETF, libsodium via nacl.secret.Aead)
    8       4     opslimit
    12      8     memlimit (bytes)
    20      1     salt length = 16
    21      16    salt
    37      24    nonce (random, fresh for every save)
    61      ...   ciphertext of the UTF-8 JSON contents, with its 16-byte Poly1305 tag

The 61 header bytes are the AEAD's associated data, so changing any of them (a downgrade of the KDF
parameters, another salt, another version) fails authentication (docs/security.md W3). This uses
``nacl.secret.Aead`` rather than SecretBox because SecretBox cannot authenticate a header.

Key derivation: Argon2id with the header's parameters, checked before any work is done: below the floor
(OWASP: 19 MiB, 2 passes) raises :class:`WeakKdfParametersError`; above the cap (1 GiB, 32 passes) raises
:class:`WalletFormatError`, so a hostile file can't make ``open`` allocate unbounded memory. New wallets
use libsodium's MODERATE profile (256 MiB, 3 passes; about 0.7 s here) unless the caller passes stronger
or floor-level parameters. Passphrases are NFC-normalised UTF-8, so one passphrase typed on two keyboards
gives one key.

Every failure to decrypt (wrong passphrase, a flipped bit, a truncated file) raises one class,
:class:`WalletDecryptionError`, and no plaintext is ever returned or kept. Saves are atomic: the new file
is written to a temporary file in the same directory, fsynced, renamed over the old one with
``os.replace``, and the directory is fsynced, so a crash leaves the old or the new wallet, never half of
one.

Two processes never lose each other's changes. :meth:`Wallet.save` holds an exclusive lock on
``WALLET.lock`` and refuses (:class:`WalletConflictError`, nothing written) when the file on disk is no
longer the one this wallet read or last wrote. :meth:`Wallet.update` holds that lock across the whole
open-change-save, so concurrent updates (two ``zkhealth wallet import`` runs) take turns and both land.

The holder secret is a uniformly random integer in ``[1, l)``, where l is Baby Jubjub's prime subgroup
order (l < r). A field element below r would do for ``poseidon([secret])``; staying below l also lets the
same secret serve as a Baby Jubjub scalar without the ``s`` / ``s + l`` aliasing of docs/security.md C9.

Python can't reliably erase memory: keys and secrets live in immutable ``bytes``/``int`` objects until the
garbage collector frees them. ``repr()`` of a wallet never shows them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import secrets
import struct
import unicodedata
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from zkhealth._fileio import as_path, atomic_write, locked, read_bytes, remove_stale_temporaries
from zkhealth._json import loads_strict
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.vc import CREDENTIAL_URN
from zkhealth.errors import (
    CredentialError,
    EncodingError,
    UnsupportedWalletVersionError,
    WalletConflictError,
    WalletDecryptionError,
    WalletError,
    WalletFormatError,
    WeakKdfParametersError,
)
from zkhealth.field import parse_field_element

if TYPE_CHECKING:
    from zkhealth.credentials.credential import Credential
    from zkhealth.credentials.record import RecordCredential
    from zkhealth.credentials.trees import IssuerKey, IssuerRegistry
    from zkhealth.credentials.trust import TrustedIssuers

__all__ = [
    "BABYJUBJUB_SUBGROUP_ORDER",
    "KDF_CAP",
    "KDF_FLOOR",
    "KdfParams",
    "MODERATE",
    "Wallet",
    "derive_key",
    "passphrase_bytes",
]

#: Baby Jubjub prime subgroup order l (circomlibjs ``babyJub.subOrder``).
BABYJUBJUB_SUBGROUP_ORDER: Final[int] = 2736030358979909402780800718157159386076813972158567259200215660948447373041
MAGIC: Final[bytes] = b"ZKHW"
VERSION: Final[int] = 1
_KDF_ARGON2ID: Final[int] = 1
_AEAD_XCHACHA20POLY1305: Final[int] = 1
SALT_BYTES: Final[int] = 16
NONCE_BYTES: Final[int] = nacl.secret.Aead.NONCE_SIZE
_FIXED = struct.Struct(">4sHBBIQB")
HEADER_BYTES: Final[int] = _FIXED.size + SALT_BYTES + NONCE_BYTES
_TAG_BYTES: Final[int] = 16
_CONTENTS_FORMAT: Final[str] = "zkhealth.wallet-contents"
_MAX_FILE_BYTES: Final[int] = 64 << 20


def _ids(credential: Credential | RecordCredential) -> tuple[int, int]:
    return credential.credential_id, credential.subject_commitment


class KdfParams:
    """Argon2id parameters (``opslimit`` passes, ``memlimit`` bytes)."""

    __slots__ = ("memlimit", "opslimit")

    def __init__(self, opslimit: int, memlimit: int) -> None:
        for value in (opslimit, memlimit):
            if isinstance(value, bool) or not isinstance(value, int):
                raise WalletFormatError("KDF parameters must be integers")
        self.opslimit = opslimit
        self.memlimit = memlimit

    def check(self) -> None:
        """Raise :class:`WeakKdfParametersError` below the floor, :class:`WalletFormatError` above the cap."""
        if self.opslimit < KDF_FLOOR.opslimit or self.memlimit < KDF_FLOOR.memlimit:
            raise WeakKdfParametersError(
                f"Argon2id parameters below the floor (ops >= {KDF_FLOOR.opslimit}, "
                f"memory >= {KDF_FLOOR.memlimit >> 20} MiB)"
            )
        if self.opslimit > KDF_CAP.opslimit or self.memlimit > KDF_CAP.memlimit:
            raise WalletFormatError(
                f"Argon2id parameters above the cap (ops <= {KDF_CAP.opslimit}, memory <= {KDF_CAP.memlimit >> 20} MiB)"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KdfParams) and (self.opslimit, self.memlimit) == (other.opslimit, other.memlimit)

    def __hash__(self) -> int:
        return hash((self.opslimit, self.memlimit))

    def __repr__(self) -> str:
        return f"KdfParams(opslimit={self.opslimit}, memlimit={self.memlimit})"


#: OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, t = 2, p = 1.
KDF_FLOOR: Final[KdfParams] = KdfParams(2, 19 << 20)
#: Denial-of-service guard on what a file may ask for.
KDF_CAP: Final[KdfParams] = KdfParams(32, 1 << 30)
#: libsodium's MODERATE profile, the default for new wallets.
MODERATE: Final[KdfParams] = KdfParams(nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)


def passphrase_bytes(passphrase: str | bytes) -> bytes:
    """NFC-normalised UTF-8 of a text passphrase (bytes as given); :class:`WalletError` when empty."""
    if isinstance(passphrase, str):
        data = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    elif isinstance(passphrase, bytes):
        data = passphrase
    else:
        raise WalletError("the passphrase must be str or bytes")
    if not data:
        raise WalletError("the passphrase must not be empty")
    return data


def derive_key(passphrase: bytes, salt: bytes, params: KdfParams) -> bytes:
    """The 32-byte AEAD key: Argon2id of ``passphrase`` at ``params``, checked against the floor and cap first."""
    params.check()
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.Aead.KEY_SIZE, passphrase, salt, opslimit=params.opslimit, memlimit=params.memlimit
        )
    )


def _header(params: KdfParams, salt: bytes, nonce: bytes) -> bytes:
    fixed = _FIXED.pack(
        MAGIC, VERSION, _KDF_ARGON2ID, _AEAD_XCHACHA20POLY1305, params.opslimit, params.memlimit, SALT_BYTES
    )
    return fixed + salt + nonce


def _seal(key: bytes, params: KdfParams, salt: bytes, plaintext: bytes) -> bytes:
    """Encrypt under a fresh random 192-bit nonce (never caller-supplied); the header is the AAD."""
    nonce = nacl.utils.random(NONCE_BYTES)
    header = _header(params, salt, nonce)
    ciphertext = nacl.secret.Aead(key).encrypt(plaintext, header, nonce).ciphertext
    return header + ciphertext


def _parse_header(data: bytes) -> tuple[KdfParams, bytes, bytes]:
    """Check the header in order: magic, version, ids, KDF bounds, salt length, size. Does no KDF work."""
    if data[: len(MAGIC)] != MAGIC[: len(data[: len(MAGIC)])]:
        raise WalletFormatError("not a zkhealth wallet (bad magic)")
    if len(data) < HEADER_BYTES + _TAG_BYTES:
        raise WalletDecryptionError("the wallet file is truncated")
    magic, version, kdf_id, aead_id, opslimit, memlimit, salt_length = _FIXED.unpack_from(data)
    if version != VERSION:
        raise UnsupportedWalletVersionError(f"wallet version {version} is not supported (this library reads 1)")
    if kdf_id != _KDF_ARGON2ID or aead_id != _AEAD_XCHACHA20POLY1305:
        raise WalletFormatError("unknown KDF or cipher identifier")
    params = KdfParams(opslimit, memlimit)
    params.check()
    if salt_length != SALT_BYTES:
        raise WalletFormatError(f"the salt must be {SALT_BYTES} bytes, the header says {salt_length}")
    salt = data[_FIXED.size : _FIXED.size + SALT_BYTES]
    return params, salt, data[:HEADER_BYTES]


class Wallet:
    """An open wallet. Create with :meth:`create`, open with :meth:`open`; change, then :meth:`save`.

    Holds the derived key (not the passphrase) so that :meth:`save` needs no second KDF run. Credentials are
    the VC JSON documents (dicts) as issued; :meth:`add_credential` stores a deep copy, checked to be
    canonical JSON (it must survive the JCS round trip).
    """

    __slots__ = ("_credentials", "_disk_sha256", "_holder_secret", "_key", "_params", "_path", "_salt")

    def __init__(
        self, path: Path, key: bytes, salt: bytes, params: KdfParams, holder_secret: int, credentials: list[Any]
    ) -> None:
        self._disk_sha256: bytes | None = None
        self._path = path
        self._key = key
        self._salt = salt
        self._params = params
        self._holder_secret = holder_secret
        self._credentials = credentials

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        kdf: KdfParams = MODERATE,
        holder_secret: int | None = None,
        overwrite: bool = False,
    ) -> Wallet:
        """Create a wallet with a fresh random holder secret in ``[1, l)`` and save it.

        Refuses to replace an existing file unless ``overwrite``. Costs one Argon2id run at ``kdf``.
        """
        target = as_path(path, what="wallet path")
        if target.exists() and not overwrite:
            raise WalletError(f"{target} exists; pass overwrite=True to replace it")
        kdf.check()
        if holder_secret is None:
            holder_secret = 1 + secrets.randbelow(BABYJUBJUB_SUBGROUP_ORDER - 1)
        elif (
            isinstance(holder_secret, bool)
            or not isinstance(holder_secret, int)
            or not (0 < holder_secret < BABYJUBJUB_SUBGROUP_ORDER)
        ):
            raise WalletError("the holder secret must be an int in [1, l)")
        salt = nacl.utils.random(SALT_BYTES)
        key = derive_key(passphrase_bytes(passphrase), salt, kdf)
        wallet = cls(target, key, salt, kdf, holder_secret, [])
        with locked(target):
            if target.exists() and not overwrite:
                raise WalletError(f"{target} exists; pass overwrite=True to replace it")
            wallet._write()
        return wallet

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str | bytes) -> Wallet:
        """Open and decrypt a wallet file. Costs one Argon2id run at the file's (bounded) parameters.

        Raises :class:`WalletFormatError` / :class:`WeakKdfParametersError` /
        :class:`UnsupportedWalletVersionError` for a bad header (before any KDF work) and
        :class:`WalletDecryptionError` for a wrong passphrase, tampering or truncation.
        """
        target = as_path(path, what="wallet path")
        data = read_bytes(target, max_bytes=_MAX_FILE_BYTES, error=WalletFormatError)
        params, salt, header = _parse_header(data)
        key = derive_key(passphrase_bytes(passphrase), salt, params)
        try:
            plaintext = nacl.secret.Aead(key).decrypt(data[HEADER_BYTES:], header, header[-NONCE_BYTES:])
        except nacl.exceptions.CryptoError:
            raise WalletDecryptionError("wrong passphrase, or the wallet file was modified or truncated") from None
        holder_secret, credentials = cls._parse_contents(plaintext)
        wallet = cls(target, key, salt, params, holder_secret, credentials)
        wallet._disk_sha256 = hashlib.sha256(data).digest()
        return wallet

    @classmethod
    @contextlib.contextmanager
    def update(cls, path: str | os.PathLike[str], passphrase: str | bytes) -> Iterator[Wallet]:
        """Open the wallet under its lock, let the block change it, and save it when the block succeeds.

        Other processes' :meth:`update` and :meth:`save` on the same file wait meanwhile (up to
        :data:`zkhealth._fileio.LOCK_TIMEOUT_SECONDS`, then :class:`~zkhealth.errors.ResourceBusyError`), so
        concurrent changes are applied one after the other and none is lost. Nothing is saved if the block
        raises."""
        target = as_path(path, what="wallet path")
        with locked(target):
            wallet = cls.open(target, passphrase)
            yield wallet
            wallet._write()

    @staticmethod
    def _parse_contents(plaintext: bytes) -> tuple[int, list[Any]]:
        try:
            contents = loads_strict(plaintext, max_bytes=_MAX_FILE_BYTES)
        except EncodingError as exc:
            raise WalletFormatError("the decrypted wallet contents are not valid JSON") from exc
        if not isinstance(contents, dict) or set(contents) != {"format", "holderSecret", "credentials"}:
            raise WalletFormatError("the decrypted wallet contents have the wrong shape")
        if contents["format"] != _CONTENTS_FORMAT or not isinstance(contents["credentials"], list):
            raise WalletFormatError("the decrypted wallet contents have the wrong shape")
        try:
            holder_secret = parse_field_element(contents["holderSecret"], what="holder secret")
        except EncodingError as exc:
            raise WalletFormatError("the holder secret in the wallet is malformed") from exc
        if not 0 < holder_secret < BABYJUBJUB_SUBGROUP_ORDER:
            raise WalletFormatError("the holder secret in the wallet is out of range")
        return holder_secret, contents["credentials"]

    def save(self) -> None:
        """Re-encrypt everything under a fresh nonce and replace the file atomically.

        Raises :class:`WalletConflictError` (and writes nothing) when another process changed the file since
        this wallet read or last wrote it; use :meth:`update` to serialize concurrent changes instead."""
        with locked(self._path):
            self._write()

    def _write(self) -> None:
        """Check the file on disk is still ours, then write (the caller holds the lock)."""
        current = (
            read_bytes(self._path, max_bytes=_MAX_FILE_BYTES, error=WalletFormatError) if self._path.exists() else None
        )
        if self._disk_sha256 is not None:  # None: a wallet being created (``create`` checked ``overwrite``)
            if current is None:
                raise WalletConflictError(f"{self._path} was removed since it was opened; nothing was written")
            if hashlib.sha256(current).digest() != self._disk_sha256:
                raise WalletConflictError(
                    f"{self._path} changed on disk since it was opened (another process saved it); "
                    "reopen the wallet and apply the change again"
                )
        sealed = self._sealed()
        remove_stale_temporaries(self._path)  # left by a process killed while saving (we hold the lock)
        atomic_write(self._path, sealed)
        self._disk_sha256 = hashlib.sha256(sealed).digest()

    def _sealed(self) -> bytes:
        contents = {
            "format": _CONTENTS_FORMAT,
            "holderSecret": str(self._holder_secret),
            "credentials": self._credentials,
        }
        return _seal(self._key, self._params, self._salt, canonicalize(contents))

    def add_credential(
        self,
        vc: dict[str, Any] | str | bytes,
        *,
        trusted_issuers: TrustedIssuers | IssuerRegistry | Collection[IssuerKey] | None = None,
        today: int | _dt.date | None = None,
    ) -> bool:
        """Verify a credential (VC document, dict or JSON text) and store it; call :meth:`save` to persist.
        Returns ``False`` when the wallet already holds it (nothing changes).

        Checked first, for version 1 and version 2 credentials alike: the Ed25519 envelope and the Baby Jubjub
        signature (:class:`~zkhealth.errors.SignatureError`), the document's internal consistency
        (:class:`~zkhealth.errors.CredentialError`), that it was issued to this wallet's holder commitment
        ``poseidon([holder_secret])`` (:class:`~zkhealth.errors.CredentialError`), that it is valid on ``today``
        (default: today, UTC; :class:`~zkhealth.errors.CredentialExpiredError`,
        :class:`~zkhealth.errors.CredentialNotYetValidError`) and, given ``trusted_issuers``, that its issuer is
        trusted (:class:`~zkhealth.errors.UnknownIssuerError`). A forged, foreign or expired credential is never
        stored, so it cannot break proving later. Cost: two signature checks (and, for version 2, rebuilding the
        record's sets: milliseconds for a typical record).
        """
        from zkhealth.credentials.credential import subject_commitment
        from zkhealth.credentials.record_vc import is_record_document, verify_record_credential
        from zkhealth.credentials.trust import TrustedIssuers as _TrustedIssuers
        from zkhealth.credentials.vc import verify_credential

        document = loads_strict(vc) if isinstance(vc, str | bytes) else loads_strict(canonicalize(vc))
        if not isinstance(document, dict):
            raise EncodingError("a credential is a JSON object")
        trusted: Any = trusted_issuers
        if trusted is None:
            signature = document.get("babyJubjubSignature")
            key = signature.get("publicKey") if isinstance(signature, dict) else None
            if not isinstance(key, list) or len(key) != 2:
                raise EncodingError("the credential has no Baby Jubjub public key")
            trusted = [(parse_field_element(key[0], what="issuer Ax"), parse_field_element(key[1], what="issuer Ay"))]
        if is_record_document(document):
            credential_id, commitment = _ids(verify_record_credential(document, trusted_issuers=trusted, today=today))
        else:
            if isinstance(trusted, _TrustedIssuers):
                trusted = [entry.point for entry in trusted.issuers()]
            credential_id, commitment = _ids(verify_credential(document, trusted_issuers=trusted, today=today))
        if commitment != subject_commitment(self._holder_secret):
            raise CredentialError("the credential was issued to another holder commitment, not to this wallet")
        if self.find_credential(credential_id) is not None:
            return False
        self._credentials.append(document)
        return True

    def remove_credential(self, index: int) -> None:
        """Drop the credential at ``index`` (as listed by :attr:`credentials`); call :meth:`save` to persist.
        Raises :class:`WalletError` for an index that holds no credential."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self._credentials):
            raise WalletError(f"the wallet holds no credential at index {index!r}")
        del self._credentials[index]

    def find_credential(self, credential_id: int) -> int | None:
        """The index of the stored credential whose VC ``id`` is ``urn:zkhealth:credential:<credential_id>``,
        or ``None``."""
        identifier = f"{CREDENTIAL_URN}{credential_id}"
        for index, document in enumerate(self._credentials):
            if isinstance(document, dict) and document.get("id") == identifier:
                return index
        return None

    def remove_credential_id(self, credential_id: int) -> None:
        """Drop the credential with this id (:class:`WalletError` when the wallet does not hold it)."""
        index = self.find_credential(credential_id)
        if index is None:
            raise WalletError(f"the wallet holds no credential {credential_id}")
        self.remove_credential(index)

    @property
    def credentials(self) -> list[Any]:
        """Copies of the stored VC documents, in insertion order."""
        return [loads_strict(canonicalize(item)) for item in self._credentials]

    @property
    def holder_secret(self) -> int:
        """The holder secret (keep it out of logs; ``repr`` never shows it)."""
        return self._holder_secret

    @property
    def path(self) -> Path:
        """The wallet file."""
        return self._path

    @property
    def kdf_params(self) -> KdfParams:
        """The Argon2id parameters in the file header."""
        return self._params

    def __repr__(self) -> str:
        return f"Wallet(path={str(self._path)!r}, credentials={len(self._credentials)}, secret=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Wallet cannot be pickled (it holds key material)")
