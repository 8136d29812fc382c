"""The issuer's key file: both signing keys, encrypted under a passphrase, public keys in the clear.

Format (UTF-8 JSON, one object, exactly these members)::

    {
      "format": "zkhealth.issuer-key", "version": 1,
      "babyJubjubPublicKey": ["<Ax>", "<Ay>"],         # decimal strings: the trusted-issuer registry entry
      "ed25519PublicKey": "<64 lowercase hex digits>",
      "did": "did:key:z6Mk...",                        # from the Ed25519 key
      "kdf": {"algorithm": "argon2id13", "opslimit": 3, "memlimit": 268435456, "salt": "<32 hex digits>"},
      "cipher": {"algorithm": "xchacha20poly1305-ietf", "nonce": "<48 hex digits>"},
      "ciphertext": "<base64 of 64 + 16 bytes>"
    }

The plaintext is the 32-byte EdDSA-Poseidon private key followed by the 32-byte Ed25519 seed. The key is
Argon2id (libsodium ``crypto_pwhash_argon2id``) of the NFC-normalised passphrase; the cipher is
XChaCha20-Poly1305 (``nacl.secret.Aead``) under a fresh random nonce. The associated data is the RFC 8785
canonical JSON of every member except ``ciphertext``, so the public keys, the KDF parameters (a downgrade)
and the nonce are all authenticated: changing any of them fails decryption (docs/security.md W2-W4). KDF
parameters are checked against the wallet's floor and cap before any work (:class:`WeakKdfParametersError`,
:class:`WalletFormatError`).

The public half can be read without the passphrase (:func:`read_issuer_public_key`), so ``zkhealth registry
add issuer.key`` needs no secret. Python can't erase memory reliably: keep production issuer keys offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from zkhealth._fileio import as_path, atomic_write, naming, read_bytes
from zkhealth._json import loads_strict
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.vc import did_key_from_ed25519
from zkhealth.credentials.wallet import MODERATE, KdfParams, derive_key, passphrase_bytes
from zkhealth.errors import EncodingError, InvalidKeyError, WalletDecryptionError
from zkhealth.field import parse_field_element
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey

__all__ = ["KEY_FILE_FORMAT", "IssuerPublicInfo", "create_issuer_key_file", "load_issuer", "read_issuer_public_key"]

KEY_FILE_FORMAT: Final[str] = "zkhealth.issuer-key"
_VERSION: Final[int] = 1
_KDF_ALGORITHM: Final[str] = "argon2id13"
_CIPHER_ALGORITHM: Final[str] = "xchacha20poly1305-ietf"
_SALT_BYTES: Final[int] = 16
_SECRET_BYTES: Final[int] = 64
_MAX_FILE_BYTES: Final[int] = 64 << 10
_HEX = re.compile(r"[0-9a-f]*", re.ASCII)
_MEMBERS: Final[frozenset[str]] = frozenset(
    {"format", "version", "babyJubjubPublicKey", "ed25519PublicKey", "did", "kdf", "cipher", "ciphertext"}
)


@dataclass(frozen=True)
class IssuerPublicInfo:
    """The public half of an issuer key file."""

    public_key: tuple[int, int]
    ed25519_public_key: bytes
    did: str


def _public_members(info: IssuerPublicInfo) -> dict[str, Any]:
    return {
        "babyJubjubPublicKey": [str(info.public_key[0]), str(info.public_key[1])],
        "ed25519PublicKey": info.ed25519_public_key.hex(),
        "did": info.did,
    }


def create_issuer_key_file(
    path: str | os.PathLike[str], passphrase: str, *, kdf: KdfParams = MODERATE, overwrite: bool = False
) -> Issuer:
    """Generate both issuer keys from the OS CSPRNG, write them encrypted to ``path`` (mode 0600), return the
    :class:`Issuer`.

    Refuses to replace an existing file unless ``overwrite`` (:class:`FileExistsError`). Cost: one Argon2id run at
    ``kdf`` (about 0.7 s at the default MODERATE profile) and one fixed-base Baby Jubjub multiplication.
    """
    target = as_path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    kdf.check()
    bjj_secret = secrets.token_bytes(32)
    ed_seed = secrets.token_bytes(32)
    bjj_key = eddsa_poseidon.PrivateKey(bjj_secret)
    ed_key = Ed25519SigningKey.from_seed(ed_seed)
    issuer = Issuer(bjj_key, ed_key)
    info = IssuerPublicInfo(issuer.public_key, issuer.ed25519_public_key, issuer.did)
    salt = nacl.utils.random(_SALT_BYTES)
    nonce = nacl.utils.random(nacl.secret.Aead.NONCE_SIZE)
    header: dict[str, Any] = {
        "format": KEY_FILE_FORMAT,
        "version": _VERSION,
        **_public_members(info),
        "kdf": {"algorithm": _KDF_ALGORITHM, "opslimit": kdf.opslimit, "memlimit": kdf.memlimit, "salt": salt.hex()},
        "cipher": {"algorithm": _CIPHER_ALGORITHM, "nonce": nonce.hex()},
    }
    key = derive_key(passphrase_bytes(passphrase), salt, kdf)
    sealed = nacl.secret.Aead(key).encrypt(bjj_secret + ed_seed, canonicalize(header), nonce).ciphertext
    document = {**header, "ciphertext": base64.b64encode(bytes(sealed)).decode("ascii")}
    text = json.dumps(document, indent=2) + "\n"
    atomic_write(target, text.encode("utf-8"), mode=0o600)
    return issuer


def _hex_bytes(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * length or _HEX.fullmatch(value) is None:
        raise EncodingError(f"issuer key file: {what} must be {2 * length} lowercase hex digits")
    return bytes.fromhex(value)


def _expect_object(value: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise EncodingError(f"issuer key file: {what} must be an object with exactly {sorted(keys)}")
    return value


def _parse(path: str | os.PathLike[str]) -> tuple[dict[str, Any], IssuerPublicInfo]:
    target = as_path(path)
    data = read_bytes(target, max_bytes=_MAX_FILE_BYTES, error=EncodingError)
    with naming(target):
        return _parse_document(target, loads_strict(data, max_bytes=_MAX_FILE_BYTES))


def _parse_document(target: Path, decoded: object) -> tuple[dict[str, Any], IssuerPublicInfo]:
    document = _expect_object(decoded, set(_MEMBERS), "the file")
    if document["format"] != KEY_FILE_FORMAT:
        raise EncodingError("not a zkhealth issuer key file")
    if document["version"] != _VERSION or isinstance(document["version"], bool):
        raise EncodingError(f"issuer key file version {document['version']!r} is not supported (this reads 1)")
    pair = document["babyJubjubPublicKey"]
    if not isinstance(pair, list) or len(pair) != 2:
        raise EncodingError("issuer key file: babyJubjubPublicKey must be two decimal strings")
    public_key = (
        parse_field_element(pair[0], what="issuer key Ax"),
        parse_field_element(pair[1], what="issuer key Ay"),
    )
    ed_public = _hex_bytes(document["ed25519PublicKey"], 32, "ed25519PublicKey")
    did = did_key_from_ed25519(ed_public)
    if document["did"] != did:
        raise EncodingError("issuer key file: the did does not match the Ed25519 public key")
    return document, IssuerPublicInfo(public_key, ed_public, did)


def read_issuer_public_key(path: str | os.PathLike[str]) -> IssuerPublicInfo:
    """The public keys of an issuer key file, without the passphrase.

    Checks the file's shape and encodings (:class:`EncodingError`), not the authenticity of the public
    members: only decryption (:func:`load_issuer`) authenticates them. Cost: parsing a small JSON file.
    """
    return _parse(path)[1]


def load_issuer(path: str | os.PathLike[str], passphrase: str) -> Issuer:
    """Decrypt an issuer key file and return the :class:`Issuer`.

    Raises :class:`EncodingError` for a malformed file, :class:`WeakKdfParametersError` /
    :class:`WalletFormatError` for KDF parameters outside the floor and cap (checked before any KDF work),
    :class:`WalletDecryptionError` for a wrong passphrase or any modified byte, and
    :class:`InvalidKeyError` if the decrypted keys do not match the public keys. Cost: one Argon2id run at
    the file's parameters and one fixed-base Baby Jubjub multiplication.
    """
    document, info = _parse(path)
    with naming(path):
        return _decrypt(document, info, passphrase)


def _decrypt(document: dict[str, Any], info: IssuerPublicInfo, passphrase: str) -> Issuer:
    kdf = _expect_object(document["kdf"], {"algorithm", "opslimit", "memlimit", "salt"}, "kdf")
    cipher = _expect_object(document["cipher"], {"algorithm", "nonce"}, "cipher")
    if kdf["algorithm"] != _KDF_ALGORITHM or cipher["algorithm"] != _CIPHER_ALGORITHM:
        raise EncodingError("issuer key file: unknown KDF or cipher algorithm")
    params = KdfParams(kdf["opslimit"], kdf["memlimit"])
    params.check()
    salt = _hex_bytes(kdf["salt"], _SALT_BYTES, "kdf.salt")
    nonce = _hex_bytes(cipher["nonce"], nacl.secret.Aead.NONCE_SIZE, "cipher.nonce")
    ciphertext_text = document["ciphertext"]
    if not isinstance(ciphertext_text, str):
        raise EncodingError("issuer key file: ciphertext must be base64 text")
    try:
        ciphertext = base64.b64decode(ciphertext_text, validate=True)
    except binascii.Error:
        raise EncodingError("issuer key file: ciphertext is not valid base64") from None
    if len(ciphertext) != _SECRET_BYTES + nacl.secret.Aead.MACBYTES:
        raise WalletDecryptionError("issuer key file: the ciphertext has the wrong length (truncated?)")
    header = {name: value for name, value in document.items() if name != "ciphertext"}
    key = derive_key(passphrase_bytes(passphrase), salt, params)
    try:
        secret = bytes(nacl.secret.Aead(key).decrypt(ciphertext, canonicalize(header), nonce))
    except nacl.exceptions.CryptoError:
        raise WalletDecryptionError("wrong passphrase, or the issuer key file was modified") from None
    issuer = Issuer(eddsa_poseidon.PrivateKey(secret[:32]), Ed25519SigningKey.from_seed(secret[32:]))
    if issuer.public_key != info.public_key or issuer.ed25519_public_key != info.ed25519_public_key:
        raise InvalidKeyError("issuer key file: the decrypted keys do not match its public keys")
    return issuer
