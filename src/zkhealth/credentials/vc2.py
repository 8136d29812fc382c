"""The W3C Verifiable Credentials Data Model 2.0 envelope, secured with the ``eddsa-jcs-2022`` cryptosuite.

Version 2 credentials travel in a standard envelope that any VC 2.0 verifier with the W3C "Data Integrity EdDSA
Cryptosuites v1.0" can check, without knowing zkhealth::

    {
      "@context": ["https://www.w3.org/ns/credentials/v2"],
      "type": ["VerifiableCredential", ...],
      "id": "urn:...",
      "issuer": "did:key:z6Mk...",                  # the issuer's Ed25519 key (Multikey, multicodec 0xed01)
      "validFrom": "YYYY-MM-DDTHH:MM:SSZ",
      "validUntil": "YYYY-MM-DDTHH:MM:SSZ",         # optional
      "credentialSubject": {...},                   # any JSON: this module is generic over the body
      ...,                                          # other members (e.g. credentialSchema) as given
      "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "...",
                "verificationMethod": "did:key:z6Mk...#z6Mk...", "proofPurpose": "assertionMethod",
                "@context": [<the document's @context>], "proofValue": "z<base58btc Ed25519 signature>"}
    }

``eddsa-jcs-2022`` (Data Integrity EdDSA Cryptosuites v1.0, §3.3): the proof configuration is the proof without
``proofValue`` plus the document's ``@context``; the signed bytes are ``SHA-256(JCS(proof configuration)) ||
SHA-256(JCS(document without proof))``, signed with Ed25519 (RFC 8032); JCS is RFC 8785, through the ``rfc8785``
package. The proof repeats the document's ``@context``, as Digital Bazaar's implementation writes it (its verifier
hashes the proof as written, so a proof without it would not verify there); verification accepts both forms,
a proof ``@context`` only when the document's ``@context`` starts with it (§3.3.2 step 4). This cryptosuite
needs no JSON-LD processing, so nothing is ever fetched. The VC 2.0 context defines ``@vocab`` for terms it does not
know, so JSON-LD processors (Digital Bazaar's included) accept zkhealth's own members.

Numbers: JCS writes numbers as ECMAScript doubles, so every integer of 2^53 or more must be a decimal string;
:func:`sign_vc2` refuses a document that breaks this rather than sign a value a verifier would read differently.

:func:`verify_vc2` raises :class:`SchemaMismatchError` for a document that is not a VC 2.0 credential,
:class:`SignatureError` (or a subclass) for an unsupported or inconsistent proof or a signature that does not
verify, and returns the issuer's key.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import rfc8785

from zkhealth._json import loads_strict
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.vc import _b58decode, _b58encode, did_key_from_ed25519, ed25519_from_did_key
from zkhealth.errors import EncodingError, InvalidKeyError, SchemaMismatchError, SignatureError
from zkhealth.signature.ed25519 import Ed25519SigningKey, Ed25519VerifyKey

__all__ = [
    "CRYPTOSUITE",
    "VC2_CONTEXT",
    "Vc2Verified",
    "build_vc2",
    "instant",
    "is_vc2",
    "sign_vc2",
    "signing_hash",
    "verify_vc2",
]

VC2_CONTEXT: Final[str] = "https://www.w3.org/ns/credentials/v2"
CRYPTOSUITE: Final[str] = "eddsa-jcs-2022"
PROOF_TYPE: Final[str] = "DataIntegrityProof"
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
                      re.ASCII)
_PROOF_KEYS: Final[frozenset[str]] = frozenset(
    {"type", "cryptosuite", "created", "expires", "verificationMethod", "proofPurpose", "proofValue", "@context",
     "id", "nonce", "domain", "challenge"}
)
_MAX_SAFE_INTEGER: Final[int] = (1 << 53) - 1


@dataclass(frozen=True)
class Vc2Verified:
    """What :func:`verify_vc2` vouches for: the issuer's ``did:key``, its Ed25519 key, and the proof's time."""

    issuer: str
    ed25519_public_key: bytes
    created: str | None


def instant(value: _dt.date | _dt.datetime) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC, to the second (a date is its 00:00:00Z)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise EncodingError("a datetime for a VC needs a time zone")
        return value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat() + "T00:00:00Z"


def _check_numbers(value: Any, depth: int = 0) -> None:
    if depth > 64:
        raise EncodingError("JSON nesting is too deep")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise EncodingError("integers of 2^53 or more are not exact in JCS; write them as decimal strings")
        return
    if isinstance(value, float):
        raise EncodingError("floats are not allowed in a zkhealth VC; use decimal strings")
    if isinstance(value, Mapping):
        for item in value.values():
            _check_numbers(item, depth + 1)
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_numbers(item, depth + 1)
        return
    raise EncodingError(f"{type(value).__name__} is not a JSON value")


def build_vc2(
    *,
    issuer: str,
    credential_id: str,
    types: Sequence[str],
    valid_from: _dt.date | _dt.datetime,
    valid_until: _dt.date | _dt.datetime | None,
    credential_subject: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    contexts: Sequence[str] = (),
) -> dict[str, Any]:
    """An unsigned VC 2.0 document around ``credential_subject`` (any JSON object); ``extra`` adds members."""
    document: dict[str, Any] = {
        "@context": [VC2_CONTEXT, *contexts],
        "type": ["VerifiableCredential", *[item for item in types if item != "VerifiableCredential"]],
        "id": credential_id,
        "issuer": issuer,
        "validFrom": instant(valid_from),
    }
    if valid_until is not None:
        document["validUntil"] = instant(valid_until)
    document["credentialSubject"] = copy.deepcopy(dict(credential_subject))
    for key, value in (extra or {}).items():
        if key in document or key == "proof":
            raise EncodingError(f"extra member {key!r} would replace a member of the envelope")
        document[key] = copy.deepcopy(value)
    return document


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EncodingError(f"the document cannot be canonicalised (RFC 8785): {exc}") from exc


def signing_hash(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    """``SHA-256(JCS(proof config)) || SHA-256(JCS(document without proof))`` (eddsa-jcs-2022, §3.3.4-3.3.6).

    The proof config is ``proof_options`` without ``proofValue``, with the document's ``@context``.
    """
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return hashlib.sha256(_jcs(config)).digest() + hashlib.sha256(_jcs(unsecured)).digest()


def _verification_method(did: str) -> str:
    return f"{did}#{did[len('did:key:'):]}"


def sign_vc2(
    document: Mapping[str, Any],
    signing_key: Ed25519SigningKey,
    *,
    created: _dt.datetime | None = None,
) -> dict[str, Any]:
    """Add an ``eddsa-jcs-2022`` proof by ``signing_key``, whose ``did:key`` must be the document's issuer."""
    if not isinstance(signing_key, Ed25519SigningKey):
        raise InvalidKeyError("signing_key must be an Ed25519SigningKey")
    if "proof" in document:
        raise EncodingError("the document is already signed")
    _check_numbers(document)
    did = did_key_from_ed25519(signing_key.verify_key.to_bytes())
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if issuer_id != did:
        raise EncodingError("the document's issuer is not the signing key's did:key")
    moment = created if created is not None else _dt.datetime.now(_dt.UTC)
    integrity: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": instant(moment),
        "verificationMethod": _verification_method(did),
        "proofPurpose": "assertionMethod",
    }
    if "@context" in document:
        # The spec's proof configuration always carries the document's @context (§3.3.5); writing it into the
        # proof too (as Digital Bazaar does) lets verifiers that only hash the proof as written agree.
        integrity["@context"] = document["@context"]
    signature = signing_key.sign(signing_hash(document, integrity))
    integrity["proofValue"] = "z" + _b58encode(signature)
    signed = dict(document)
    signed["proof"] = integrity
    return signed


def is_vc2(document: object) -> bool:
    """Whether a parsed document declares the VC 2.0 context first (the envelope :func:`verify_vc2` reads)."""
    if not isinstance(document, Mapping):
        return False
    context = document.get("@context")
    return isinstance(context, list) and bool(context) and context[0] == VC2_CONTEXT


def parse_vc2(vc: object) -> dict[str, Any]:
    """A private copy of a VC 2.0 document (dict, JSON text or bytes), parsed strictly."""
    document = loads_strict(vc) if isinstance(vc, str | bytes) else loads_strict(canonicalize(vc))
    if not is_vc2(document):
        raise SchemaMismatchError(f"not a VC 2.0 credential (its @context must start with {VC2_CONTEXT})")
    if not isinstance(document.get("type"), list) or "VerifiableCredential" not in document["type"]:
        raise SchemaMismatchError("a VC 2.0 credential has type VerifiableCredential")
    for member in ("validFrom", "validUntil"):
        if member in document and (not isinstance(document[member], str) or not _INSTANT.fullmatch(document[member])):
            raise SchemaMismatchError(f"{member} must be an XML Schema dateTimeStamp")
    result: dict[str, Any] = document
    return result


def verify_vc2(vc: object) -> Vc2Verified:
    """Check the ``eddsa-jcs-2022`` proof of a VC 2.0 document (module docstring); return who signed it.

    Only the envelope is checked here (issuer, proof, signature); what the body means is the caller's to check.
    Cost: two SHA-256 and one Ed25519 verification, plus JCS: well under 1 ms for a small document.
    """
    document = parse_vc2(vc)
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise SignatureError("the credential has no single proof object")
    if set(proof) - _PROOF_KEYS:
        raise SignatureError(f"unexpected proof members {sorted(set(proof) - _PROOF_KEYS)}")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise SignatureError(f"unsupported proof: expected {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise SignatureError("the proof's purpose must be assertionMethod")
    issuer = document.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(did, str):
        raise SignatureError("the issuer must be a did:key")
    try:
        key = ed25519_from_did_key(did)
        verify_key = Ed25519VerifyKey.from_bytes(key)
    except (EncodingError, InvalidKeyError) as exc:
        raise SignatureError("the issuer is not a valid Ed25519 did:key") from exc
    if proof.get("verificationMethod") != _verification_method(did):
        raise SignatureError("the proof's verification method is not the issuer's key")
    if "@context" in proof:
        proof_context = proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        if document["@context"][: len(proof_context)] != proof_context:
            raise SignatureError("the document's @context does not start with the proof's @context")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise SignatureError("proofValue must be multibase base58btc")
    try:
        signature = _b58decode(value[1:])
    except EncodingError as exc:
        raise SignatureError("proofValue is not base58btc") from exc
    if len(signature) != 64 or "z" + _b58encode(signature) != value:
        raise SignatureError("proofValue is not a canonical 64-byte signature")
    options = {name: item for name, item in proof.items() if name != "@context"}
    unsecured = dict(document)
    if "@context" in proof:
        unsecured["@context"] = proof["@context"]
    try:
        message = signing_hash(unsecured, options)
    except EncodingError as exc:
        raise SignatureError(f"the credential cannot be canonicalised: {exc}") from exc
    verify_key.verify(message, signature)
    created = proof.get("created")
    return Vc2Verified(issuer=did, ed25519_public_key=key, created=created if isinstance(created, str) else None)
