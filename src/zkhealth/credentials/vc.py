"""The W3C Verifiable Credential envelope, and off-chain verification of a credential.

Document shape (every number that could exceed 2^53 is a decimal string; no floats anywhere)::

    {
      "@context": ["https://www.w3.org/2018/credentials/v1"],
      "type": ["VerifiableCredential", "ZkHealthCredential"],
      "id": "urn:zkhealth:credential:<credential id>",
      "issuer": "did:key:z6Mk...",                     # the issuer's Ed25519 key (multicodec ed25519-pub)
      "issuanceDate": "YYYY-MM-DDT00:00:00Z",           # issued_at
      "expirationDate": "YYYY-MM-DDT00:00:00Z",         # expires_at: no longer valid from this instant
      "credentialSchema": {"id": "urn:zkhealth:schema:zkhealth.health-credential:1",
                           "type": "ZkHealthFieldVector"},
      "credentialSubject": {
        "id": "urn:zkhealth:subject:<subject commitment>",
        "claims": {...},                                # human-readable (credential.HealthClaims.to_json)
        "fieldElements": ["<v0>", ..., "<v25>"]         # the encoded vector of schema.py
      },
      "babyJubjubSignature": {"type": "EdDSAPoseidonBabyJubjub", "publicKey": ["<Ax>", "<Ay>"],
                              "message": "<claims hash>", "R8": ["<x>", "<y>"], "S": "<S>"},
      "proof": {"type": "DataIntegrityProof", "cryptosuite": "zkhealth-ed25519-jcs-1",
                "created": "...", "verificationMethod": "<did>#<fingerprint>",
                "proofPurpose": "assertionMethod", "proofValue": "z<base58btc signature>"}
    }

The Ed25519 signature covers the RFC 8785 (JCS) bytes of the whole document with only
``proof.proofValue`` removed, so the proof's metadata is signed too and any re-serialisation of the JSON
(key order, whitespace, ``\\u00e9`` versus ``é``) verifies. The Baby Jubjub signature covers
``claims_hash(fieldElements)``, and the vector holds the Ed25519 key, so both signatures name the same
issuer and any change to the document breaks both (a change to the claims breaks the consistency check
between ``claims`` and ``fieldElements`` as well).

:func:`verify_credential` checks, in order: JSON shape and schema (:class:`SchemaMismatchError`), the
Ed25519 envelope, the vector's encoding, that ``claims`` and every duplicated value agree with the vector
(:class:`CredentialError`), the Baby Jubjub signature (:class:`SignatureError`), issuer trust
(:class:`UnknownIssuerError`), the validity window against a reference day
(:class:`CredentialNotYetValidError` / :class:`CredentialExpiredError`; valid iff
``issued_at <= day < expires_at``) and, when given a revocation tree, revocation
(:class:`CredentialRevokedError`).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from zkhealth._json import loads_strict
from zkhealth.credentials import dates
from zkhealth.credentials.credential import Credential, HealthClaims
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.schema import SCHEMA_NAME, SCHEMA_VERSION, VECTOR_LENGTH
from zkhealth.credentials.trees import IssuerKey, IssuerRegistry, RevocationTree
from zkhealth.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    EncodingError,
    FieldTypeError,
    InvalidKeyError,
    SchemaMismatchError,
    SignatureError,
    UnknownIssuerError,
)
from zkhealth.field import parse_canonical_int, parse_field_element
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey, Ed25519VerifyKey

__all__ = [
    "CREDENTIAL_TYPE",
    "CREDENTIAL_URN",
    "IssuedCredential",
    "decode_credential",
    "SCHEMA_URN",
    "build_document",
    "did_key_from_ed25519",
    "ed25519_from_did_key",
    "parse_credential_id",
    "parse_document",
    "sign_document",
    "signing_bytes",
    "verify_credential",
    "verify_envelope",
]

VC_CONTEXT: Final[str] = "https://www.w3.org/2018/credentials/v1"
CREDENTIAL_TYPE: Final[str] = "ZkHealthCredential"
SCHEMA_URN: Final[str] = f"urn:zkhealth:schema:{SCHEMA_NAME}:{SCHEMA_VERSION}"
SCHEMA_TYPE: Final[str] = "ZkHealthFieldVector"
BJJ_SIGNATURE_TYPE: Final[str] = "EdDSAPoseidonBabyJubjub"
CRYPTOSUITE: Final[str] = "zkhealth-ed25519-jcs-1"
_ED25519_MULTICODEC: Final[bytes] = b"\xed\x01"
_B58_ALPHABET: Final[str] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final[dict[str, int]] = {c: i for i, c in enumerate(_B58_ALPHABET)}
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T00:00:00Z", re.ASCII)
#: The VC ``id`` prefix of a credential (``urn:zkhealth:credential:<credential id>``).
CREDENTIAL_URN: Final[str] = "urn:zkhealth:credential:"
_CREDENTIAL_ID_BOUND: Final[int] = 1 << 128
_SUBJECT_PREFIX: Final[str] = "urn:zkhealth:subject:"


# --------------------------------------------------------------------------- base58btc and did:key


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_B58_ALPHABET[digit])
    leading = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    if len(text) > 200:
        raise EncodingError("base58 text is too long")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise EncodingError("invalid base58 character")
        number = number * 58 + digit
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading + body


def did_key_from_ed25519(public_key: bytes) -> str:
    """``did:key:z...`` for a 32-byte Ed25519 key (multibase base58btc of multicodec 0xed01 || key)."""
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise EncodingError("an Ed25519 public key is 32 bytes")
    return "did:key:z" + _b58encode(_ED25519_MULTICODEC + public_key)


def ed25519_from_did_key(did: object) -> bytes:
    """Inverse of :func:`did_key_from_ed25519`; strict (the re-encoding must match exactly)."""
    if not isinstance(did, str) or not did.startswith("did:key:z"):
        raise EncodingError("the issuer must be a did:key with an Ed25519 key")
    raw = _b58decode(did[len("did:key:z") :])
    if len(raw) != 34 or raw[:2] != _ED25519_MULTICODEC:
        raise EncodingError("the did:key does not hold an Ed25519 public key")
    key = raw[2:]
    if did_key_from_ed25519(key) != did:
        raise EncodingError("non-canonical did:key encoding")
    return key


# --------------------------------------------------------------------------- building and signing


def _instant(day: int) -> str:
    return dates.epoch_day_to_date(day).isoformat() + "T00:00:00Z"


def _day_of_instant(value: object, what: str) -> int:
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise EncodingError(f"{what} must be YYYY-MM-DDT00:00:00Z")
    return dates.date_to_epoch_day(match.group(1))


def build_document(credential: Credential, signature: eddsa_poseidon.Signature) -> dict[str, Any]:
    """The unsigned VC document (no ``proof``) for a credential and its Baby Jubjub signature."""
    did = did_key_from_ed25519(credential.issuer_ed25519)
    ax, ay = credential.issuer_public_key
    return {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "id": f"{CREDENTIAL_URN}{credential.credential_id}",
        "issuer": did,
        "issuanceDate": _instant(credential.issued_at),
        "expirationDate": _instant(credential.expires_at),
        "credentialSchema": {"id": SCHEMA_URN, "type": SCHEMA_TYPE},
        "credentialSubject": {
            "id": f"{_SUBJECT_PREFIX}{credential.subject_commitment}",
            "claims": credential.claims.to_json(),
            "fieldElements": [str(v) for v in credential.field_elements()],
        },
        "babyJubjubSignature": {
            "type": BJJ_SIGNATURE_TYPE,
            "publicKey": [str(ax), str(ay)],
            "message": str(credential.claims_hash()),
            "R8": [str(signature.R8[0]), str(signature.R8[1])],
            "S": str(signature.S),
        },
    }


def signing_bytes(document: dict[str, Any]) -> bytes:
    """JCS bytes of ``document`` with ``proof.proofValue`` removed: what the Ed25519 key signs."""
    unsigned = dict(document)
    proof = unsigned.get("proof")
    if not isinstance(proof, dict):
        raise EncodingError("the document has no proof object")
    unsigned["proof"] = {key: value for key, value in proof.items() if key != "proofValue"}
    return canonicalize(unsigned)


def sign_document(document: dict[str, Any], signing_key: Ed25519SigningKey) -> dict[str, Any]:
    """Add the Ed25519 ``proof`` block to an unsigned document and return the signed document."""
    did = document["issuer"]
    signed = dict(document)
    signed["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": document["issuanceDate"],
        "verificationMethod": f"{did}#{did[len('did:key:') :]}",
        "proofPurpose": "assertionMethod",
    }
    signature = signing_key.sign(signing_bytes(signed))
    signed["proof"]["proofValue"] = "z" + _b58encode(signature)
    return signed


# --------------------------------------------------------------------------- parsing and verification


def parse_credential_id(text: str) -> int:
    """A credential id written as a canonical decimal or as ``urn:zkhealth:credential:<decimal>`` (below
    2^128). Raises :class:`EncodingError`."""
    if not isinstance(text, str):
        raise FieldTypeError(f"a credential id is text, not {type(text).__name__}")
    value = text[len(CREDENTIAL_URN) :] if text.startswith(CREDENTIAL_URN) else text
    return parse_canonical_int(value, _CREDENTIAL_ID_BOUND, what="credential id")


def _expect(obj: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) != keys:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise EncodingError(f"{what}: expected keys {sorted(keys)}, got {found}")
    return obj


def parse_document(vc: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """A private deep copy of the document, parsed strictly (duplicate keys, NaN: :class:`EncodingError`)."""
    if isinstance(vc, str | bytes):
        document = loads_strict(vc)
    else:
        document = loads_strict(canonicalize(vc))
    top = {
        "@context",
        "type",
        "id",
        "issuer",
        "issuanceDate",
        "expirationDate",
        "credentialSchema",
        "credentialSubject",
        "babyJubjubSignature",
        "proof",
    }
    if not isinstance(document, dict):
        raise EncodingError("a credential is a JSON object")
    schema = document.get("credentialSchema")
    if schema != {"id": SCHEMA_URN, "type": SCHEMA_TYPE} or document.get("type") != [
        "VerifiableCredential",
        CREDENTIAL_TYPE,
    ]:
        raise SchemaMismatchError(f"the credential is not of schema {SCHEMA_URN}")
    _expect(document, top, "credential")
    if document["@context"] != [VC_CONTEXT]:
        raise SchemaMismatchError("unexpected @context")
    _expect(document["credentialSubject"], {"id", "claims", "fieldElements"}, "credentialSubject")
    _expect(document["babyJubjubSignature"], {"type", "publicKey", "message", "R8", "S"}, "babyJubjubSignature")
    _expect(
        document["proof"],
        {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"},
        "proof",
    )
    return document


def _verify_envelope(document: dict[str, Any]) -> bytes:
    proof = document["proof"]
    did = document["issuer"]
    if (
        proof["type"] != "DataIntegrityProof"
        or proof["cryptosuite"] != CRYPTOSUITE
        or proof["proofPurpose"] != "assertionMethod"
        or proof["verificationMethod"] != f"{did}#{did[len('did:key:') :] if isinstance(did, str) else ''}"
    ):
        raise SignatureError("unsupported or inconsistent proof block")
    try:
        key = ed25519_from_did_key(did)
        verify_key = Ed25519VerifyKey.from_bytes(key)
    except (EncodingError, InvalidKeyError) as exc:
        raise SignatureError("the issuer is not a valid Ed25519 did:key") from exc
    value = proof["proofValue"]
    if not isinstance(value, str) or not value.startswith("z"):
        raise SignatureError("proofValue must be multibase base58btc")
    try:
        signature = _b58decode(value[1:])
    except EncodingError as exc:
        raise SignatureError("proofValue is not base58btc") from exc
    if len(signature) != 64 or "z" + _b58encode(signature) != value:
        raise SignatureError("proofValue is not a canonical 64-byte signature")
    verify_key.verify(signing_bytes(document), signature)
    return key


def verify_envelope(document: dict[str, Any]) -> bytes:
    """Check the Ed25519 ``proof`` block of a parsed document (any schema version); return the issuer's key.

    Raises :class:`SignatureError` for an unsupported or inconsistent proof block, a malformed did:key or a
    signature that does not verify over :func:`signing_bytes`."""
    return _verify_envelope(document)


def _pair(obj: object, what: str) -> tuple[int, int]:
    if not isinstance(obj, list) or len(obj) != 2:
        raise EncodingError(f"{what} must be a pair of decimal strings")
    return parse_field_element(obj[0], what=what), parse_field_element(obj[1], what=what)


def _credential_of(document: dict[str, Any]) -> Credential:
    """The :class:`Credential` of a parsed document's ``fieldElements``."""
    elements = document["credentialSubject"]["fieldElements"]
    if not isinstance(elements, list) or len(elements) != VECTOR_LENGTH:
        raise EncodingError(f"fieldElements must list {VECTOR_LENGTH} decimal strings")
    return Credential.from_field_elements([parse_field_element(item, what="field element") for item in elements])


def _signature_of(document: dict[str, Any]) -> eddsa_poseidon.Signature:
    """The Baby Jubjub signature of a parsed document (decoded, not verified)."""
    bjj = document["babyJubjubSignature"]
    return eddsa_poseidon.Signature(_pair(bjj["R8"], "R8"), parse_field_element(bjj["S"], what="S"))


@dataclass(frozen=True)
class IssuedCredential:
    """A credential, its Baby Jubjub signature and its signed VC document: what :meth:`Issuer.issue` returns
    and what :func:`decode_credential` reads back."""

    credential: Credential
    signature: eddsa_poseidon.Signature
    document: dict[str, Any]


def decode_credential(vc: dict[str, Any] | str | bytes) -> IssuedCredential:
    """Decode a VC document (strictly parsed) into its credential and Baby Jubjub signature, without checking
    the signatures: :func:`verify_credential` checks them, and the eligibility circuit checks the Baby Jubjub
    one. Raises :class:`EncodingError` / :class:`SchemaMismatchError` for a malformed document."""
    document = parse_document(vc)
    return IssuedCredential(_credential_of(document), _signature_of(document), document)


def _issuer_trusted(point: tuple[int, int], trusted: IssuerRegistry | Collection[IssuerKey]) -> bool:
    if isinstance(trusted, IssuerRegistry):
        return trusted.contains(point)
    for item in trusted:
        candidate = item.point if isinstance(item, eddsa_poseidon.PublicKey) else tuple(item)
        if candidate == point:
            return True
    return False


def verify_credential(
    vc: dict[str, Any] | str | bytes,
    *,
    trusted_issuers: IssuerRegistry | Collection[IssuerKey],
    today: int | _dt.date | None = None,
    revocation: RevocationTree | None = None,
) -> Credential:
    """Verify a credential document (dict, JSON text or bytes) off-chain and return its :class:`Credential`.

    ``trusted_issuers`` is an :class:`IssuerRegistry` or a collection of Baby Jubjub keys (``(Ax, Ay)``
    pairs or :class:`PublicKey`); ``today`` is the reference epoch day or date (default: today, UTC);
    ``revocation`` is the issuer's revocation tree, if the caller has it. See the module docstring for the
    order of checks and the errors. Cost: one Ed25519 and one EdDSA-Poseidon verification (about 3 ms) and
    four Poseidon hashes.
    """
    document = parse_document(vc)
    ed25519_key = _verify_envelope(document)

    subject = document["credentialSubject"]
    credential = _credential_of(document)

    if (
        HealthClaims.from_json(subject["claims"]) != credential.claims
        or subject["claims"] != credential.claims.to_json()
        or document["id"] != f"{CREDENTIAL_URN}{credential.credential_id}"
        or subject["id"] != f"{_SUBJECT_PREFIX}{credential.subject_commitment}"
        or _day_of_instant(document["issuanceDate"], "issuanceDate") != credential.issued_at
        or _day_of_instant(document["expirationDate"], "expirationDate") != credential.expires_at
        or ed25519_key != credential.issuer_ed25519
    ):
        raise CredentialError("the human-readable claims do not match the encoded field elements")

    bjj = document["babyJubjubSignature"]
    if bjj["type"] != BJJ_SIGNATURE_TYPE:
        raise SignatureError(f"unsupported Baby Jubjub signature type {bjj['type']!r}")
    public_key = _pair(bjj["publicKey"], "publicKey")
    if public_key != credential.issuer_public_key:
        raise CredentialError("the Baby Jubjub key differs from the key in the field elements")
    message = parse_field_element(bjj["message"], what="message")
    if message != credential.claims_hash():
        raise SignatureError("the signed message is not the claims hash of the field elements")
    signature = _signature_of(document)
    eddsa_poseidon.verify(eddsa_poseidon.PublicKey.from_point(public_key), message, signature)

    if not _issuer_trusted(public_key, trusted_issuers):
        raise UnknownIssuerError("the issuer's key is not in the trusted-issuer set")

    if today is None:
        day = dates.today_epoch_day()
    elif isinstance(today, _dt.date):
        day = dates.date_to_epoch_day(today)
    else:
        day = today
    if day < credential.issued_at:
        raise CredentialNotYetValidError("the credential is not valid yet on the reference day")
    if day >= credential.expires_at:
        raise CredentialExpiredError("the credential has expired (it is not valid on or after its expiry day)")

    if revocation is not None and revocation.is_revoked(credential.credential_id):
        raise CredentialRevokedError("the issuer has revoked this credential")
    return credential
