"""Version-2 credentials as W3C Verifiable Credential documents: issue, parse and verify.

The envelope is the W3C VC Data Model 2.0 (vc2.py): the v2 context, ``validFrom`` (``issued_at``) and
``validUntil`` (``expires_at``, the first instant not valid), a ``did:key`` issuer and a standard Data Integrity
proof with the ``eddsa-jcs-2022`` cryptosuite, so any VC 2.0 verifier can check who issued it. Inside, the Baby
Jubjub signature over the header hash (what the circuits check), the schema and the subject::

    "credentialSchema": {"id": "urn:zkhealth:schema:zkhealth.health-credential:2",
                         "type": "ZkHealthRecordSets"},
    "credentialSubject": {
      "id": "urn:zkhealth:subject:<subject commitment>",
      "record": {...},                  # PatientRecord.to_json(): the entries, human-readable
      "header": ["<h0>", ..., "<h19>"]  # the signed header (record.py); its set roots commit to the record
    }

A verifier rebuilds the four sets from ``record`` and requires the header's roots (and every other slot) to
match, so the readable record, the header and both signatures cannot disagree. Rebuilding costs one
Poseidon hash per leaf (milliseconds for a typical record, about 2 s for a full one).
"""

from __future__ import annotations

import datetime as _dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from zkhealth._json import loads_strict
from zkhealth.credentials import dates
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.record import HEADER_LENGTH, PatientRecord, RecordCredential
from zkhealth.credentials.schema import SCHEMA_NAME
from zkhealth.credentials.trees import IssuerRegistry, RevocationTree
from zkhealth.credentials.trust import TrustedIssuers
from zkhealth.credentials.vc import BJJ_SIGNATURE_TYPE, CREDENTIAL_TYPE, did_key_from_ed25519
from zkhealth.credentials.vc2 import VC2_CONTEXT, build_vc2, sign_vc2, verify_vc2
from zkhealth.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    EncodingError,
    SchemaMismatchError,
    SignatureError,
    UnknownIssuerError,
)
from zkhealth.field import parse_field_element
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey

__all__ = [
    "RECORD_SCHEMA_TYPE",
    "RECORD_SCHEMA_URN",
    "IssuedRecord",
    "build_record_document",
    "is_record_document",
    "issue_record",
    "parse_record_document",
    "verify_record_credential",
]

RECORD_SCHEMA_URN: Final[str] = f"urn:zkhealth:schema:{SCHEMA_NAME}:2"
RECORD_SCHEMA_TYPE: Final[str] = "ZkHealthRecordSets"
_ID_PREFIX: Final[str] = "urn:zkhealth:credential:"
_SUBJECT_PREFIX: Final[str] = "urn:zkhealth:subject:"
_ID_BITS: Final[int] = 128


@dataclass(frozen=True)
class IssuedRecord:
    """A signed version-2 credential: the credential, its Baby Jubjub signature and the VC document."""

    credential: RecordCredential
    signature: eddsa_poseidon.Signature
    document: dict[str, Any]


def _date_of(day: int) -> _dt.date:
    return dates.epoch_day_to_date(day)


def _day_of_instant(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.endswith("T00:00:00Z"):
        raise EncodingError(f"{what} must be YYYY-MM-DDT00:00:00Z")
    return dates.date_to_epoch_day(value[: -len("T00:00:00Z")])


def build_record_document(credential: RecordCredential, signature: eddsa_poseidon.Signature) -> dict[str, Any]:
    """The unsigned VC document (no ``proof``) of a version-2 credential."""
    ax, ay = credential.issuer_public_key
    return build_vc2(
        issuer=did_key_from_ed25519(credential.issuer_ed25519),
        credential_id=f"{_ID_PREFIX}{credential.credential_id}",
        types=[CREDENTIAL_TYPE],
        valid_from=_date_of(credential.issued_at),
        valid_until=_date_of(credential.expires_at),
        credential_subject={
            "id": f"{_SUBJECT_PREFIX}{credential.subject_commitment}",
            "record": credential.record.to_json(),
            "header": [str(v) for v in credential.header()],
        },
        extra={
            "credentialSchema": {"id": RECORD_SCHEMA_URN, "type": RECORD_SCHEMA_TYPE},
            "babyJubjubSignature": {
                "type": BJJ_SIGNATURE_TYPE,
                "publicKey": [str(ax), str(ay)],
                "message": str(credential.claims_hash()),
                "R8": [str(signature.R8[0]), str(signature.R8[1])],
                "S": str(signature.S),
            },
        },
    )


def issue_record(
    bjj_key: eddsa_poseidon.PrivateKey,
    ed25519_key: Ed25519SigningKey,
    record: PatientRecord,
    *,
    subject_commitment: int,
    issued_at: int,
    expires_at: int,
    credential_id: int | None = None,
) -> IssuedRecord:
    """Sign a record as a version-2 credential (use :meth:`zkhealth.credentials.issuer.Issuer.issue_record`).

    Raises :class:`EncodingError` for a record that does not fit (dates after the issue day, capacity:
    :class:`~zkhealth.errors.RecordCapacityError`)."""
    credential = RecordCredential(
        credential_id=credential_id if credential_id is not None else 1 + secrets.randbelow((1 << _ID_BITS) - 1),
        subject_commitment=subject_commitment,
        issuer_public_key=bjj_key.public_key().point,
        issuer_ed25519=bytes(ed25519_key.verify_key.to_bytes()),
        issued_at=issued_at,
        expires_at=expires_at,
        record=record,
    )
    signature = eddsa_poseidon.sign(bjj_key, credential.claims_hash())
    document = sign_vc2(build_record_document(credential, signature), ed25519_key)
    return IssuedRecord(credential, signature, document)


def _load(vc: object) -> dict[str, Any]:
    if isinstance(vc, str | bytes):
        document = loads_strict(vc)
    else:
        document = loads_strict(canonicalize(vc))
    if not isinstance(document, dict):
        raise EncodingError("a credential is a JSON object")
    return document


def is_record_document(vc: object) -> bool:
    """Whether a document (dict or JSON) declares the version-2 schema (nothing else is checked)."""
    try:
        document = _load(vc)
    except EncodingError:
        return False
    return document.get("credentialSchema") == {"id": RECORD_SCHEMA_URN, "type": RECORD_SCHEMA_TYPE}


def _expect(obj: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) != keys:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise EncodingError(f"{what}: expected keys {sorted(keys)}, got {found}")
    return obj


def _pair(obj: object, what: str) -> tuple[int, int]:
    if not isinstance(obj, list) or len(obj) != 2:
        raise EncodingError(f"{what} must be a pair of decimal strings")
    return parse_field_element(obj[0], what=what), parse_field_element(obj[1], what=what)


def parse_record_document(vc: object) -> tuple[RecordCredential, eddsa_poseidon.Signature, dict[str, Any]]:
    """Parse a version-2 document and check its internal consistency (no signature, trust or date check).

    Enforces: the exact shape, the schema (:class:`SchemaMismatchError`), that the header rebuilt from the
    record equals the stated header, and that the identifiers, dates, keys and signed message agree with it
    (:class:`CredentialError`). Returns the credential, its Baby Jubjub signature and the parsed document.
    """
    document = _load(vc)
    if document.get("credentialSchema") != {"id": RECORD_SCHEMA_URN, "type": RECORD_SCHEMA_TYPE}:
        raise SchemaMismatchError(f"the credential is not of schema {RECORD_SCHEMA_URN}")
    _expect(document, {"@context", "type", "id", "issuer", "validFrom", "validUntil", "credentialSchema",
                       "credentialSubject", "babyJubjubSignature", "proof"}, "credential")
    if document["@context"] != [VC2_CONTEXT] or document["type"] != ["VerifiableCredential", CREDENTIAL_TYPE]:
        raise SchemaMismatchError("unexpected @context or type")
    subject = _expect(document["credentialSubject"], {"id", "record", "header"}, "credentialSubject")
    bjj = _expect(document["babyJubjubSignature"], {"type", "publicKey", "message", "R8", "S"},
                  "babyJubjubSignature")
    header = subject["header"]
    if not isinstance(header, list) or len(header) != HEADER_LENGTH:
        raise EncodingError(f"header must list {HEADER_LENGTH} decimal strings")
    stated = [parse_field_element(v, what="header element") for v in header]
    record = PatientRecord.from_json(subject["record"])
    subject_id = subject["id"]
    if not isinstance(subject_id, str) or not subject_id.startswith(_SUBJECT_PREFIX):
        raise EncodingError("credentialSubject.id must be urn:zkhealth:subject:<commitment>")
    public_key = _pair(bjj["publicKey"], "publicKey")
    if not (stated[18] < 2**128 and stated[19] < 2**128):
        raise CredentialError("the header's Ed25519 key halves (elements 18 and 19) must be 128-bit numbers")
    ed25519 = stated[18].to_bytes(16, "big") + stated[19].to_bytes(16, "big")
    credential = RecordCredential(
        credential_id=stated[2],
        subject_commitment=parse_field_element(subject_id[len(_SUBJECT_PREFIX):], what="subject commitment"),
        issuer_public_key=public_key,
        issuer_ed25519=ed25519,
        issued_at=_day_of_instant(document["validFrom"], "validFrom"),
        expires_at=_day_of_instant(document["validUntil"], "validUntil"),
        record=record,
    )
    if credential.header() != stated or document["id"] != f"{_ID_PREFIX}{credential.credential_id}":
        raise CredentialError("the record, identifiers or dates do not match the signed header")
    if document["issuer"] != did_key_from_ed25519(ed25519):
        raise CredentialError("the document's issuer is not the Ed25519 key in the header")
    if bjj["type"] != BJJ_SIGNATURE_TYPE:
        raise SignatureError(f"unsupported Baby Jubjub signature type {bjj['type']!r}")
    if parse_field_element(bjj["message"], what="message") != credential.claims_hash():
        raise SignatureError("the signed message is not the header hash")
    signature = eddsa_poseidon.Signature(_pair(bjj["R8"], "R8"), parse_field_element(bjj["S"], what="S"))
    return credential, signature, document


def _trusted(point: tuple[int, int], trusted: TrustedIssuers | IssuerRegistry | Collection[Any]) -> bool:
    if isinstance(trusted, TrustedIssuers | IssuerRegistry):
        return point in trusted
    return any((item.point if isinstance(item, eddsa_poseidon.PublicKey) else tuple(item)) == point
               for item in trusted)


def verify_record_credential(
    vc: object,
    *,
    trusted_issuers: TrustedIssuers | IssuerRegistry | Collection[Any],
    today: int | _dt.date | None = None,
    revocation: RevocationTree | None = None,
) -> RecordCredential:
    """Verify a version-2 credential off-chain: consistency (:func:`parse_record_document`), the
    ``eddsa-jcs-2022`` envelope (vc2.py), the Baby Jubjub signature (:class:`SignatureError`), issuer trust
    (:class:`UnknownIssuerError`), validity on ``today`` and, given the issuer's revocation tree, revocation."""
    credential, signature, document = parse_record_document(vc)
    envelope = verify_vc2(document)
    if envelope.ed25519_public_key != credential.issuer_ed25519:
        raise SignatureError("the envelope's signer is not the Ed25519 key in the header")
    eddsa_poseidon.verify(eddsa_poseidon.PublicKey.from_point(credential.issuer_public_key),
                          credential.claims_hash(), signature)
    if not _trusted(credential.issuer_public_key, trusted_issuers):
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
        raise CredentialExpiredError("the credential has expired")
    if revocation is not None and revocation.is_revoked(credential.credential_id):
        raise CredentialRevokedError("the issuer has revoked this credential")
    return credential
