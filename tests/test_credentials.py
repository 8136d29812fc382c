"""Issuer, VC envelope and off-chain verification: round trips, tampering, validity, trust, revocation."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zkhealth.credentials.credential import Credential, HealthClaims, subject_commitment
from zkhealth.credentials.issuer import Issuer, new_credential_id
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.trees import IssuerRegistry, RevocationTree, verify_non_membership
from zkhealth.credentials.vc import (
    did_key_from_ed25519,
    ed25519_from_did_key,
    signing_bytes,
    verify_credential,
)
from zkhealth.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    EncodingError,
    MerkleProofError,
    SchemaMismatchError,
    SignatureError,
    UnknownIssuerError,
)
from zkhealth.field import FIELD_R
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey

pytestmark = pytest.mark.native

ROOT = Path(__file__).resolve().parent.parent
ISSUED = 20103  # 2025-01-15
EXPIRES = ISSUED + 365
TODAY = ISSUED + 10


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer(eddsa_poseidon.PrivateKey(bytes(range(32))), Ed25519SigningKey.from_seed(bytes(range(1, 33))))


@pytest.fixture(scope="module")
def registry(issuer: Issuer) -> IssuerRegistry:
    reg = IssuerRegistry()
    reg.add(issuer.public_key)
    return reg


@pytest.fixture(scope="module")
def claims() -> HealthClaims:
    return HealthClaims(
        birth_date="1961-04-12",
        gender="female",
        research_consent=True,
        hba1c=("7.4", "2025-01-10"),
        egfr=("72.5", "2025-01-10"),
        systolic_bp=132,
        diagnoses=[("E11.9", "2019-03-04"), ("I10", "2015-06-20")],
    )


@pytest.fixture(scope="module")
def document(issuer: Issuer, claims: HealthClaims) -> dict[str, Any]:
    issued = issuer.issue(claims, subject_commitment=subject_commitment(424242), issued_at=ISSUED, expires_at=EXPIRES)
    return issued.document


def _verify(document: object, registry: IssuerRegistry, **options: Any) -> Credential:
    options.setdefault("today", TODAY)
    return verify_credential(document, trusted_issuers=registry, **options)


def test_round_trip(issuer: Issuer, registry: IssuerRegistry, claims: HealthClaims, document: dict[str, Any]) -> None:
    credential = _verify(document, registry)
    assert credential.claims == claims
    assert credential.issuer_public_key == issuer.public_key
    assert credential.issuer_ed25519 == issuer.ed25519_public_key
    assert credential.subject_commitment == subject_commitment(424242)
    assert document["issuer"] == issuer.did and issuer.did.startswith("did:key:z6Mk")
    assert document["credentialSubject"]["fieldElements"] == [str(v) for v in credential.field_elements()]
    eddsa_poseidon.verify(
        eddsa_poseidon.PublicKey.from_point(issuer.public_key),
        credential.claims_hash(),
        eddsa_poseidon.Signature(
            tuple(int(v) for v in document["babyJubjubSignature"]["R8"]),  # type: ignore[arg-type]
            int(document["babyJubjubSignature"]["S"]),
        ),
    )


def test_the_secret_never_appears(document: dict[str, Any]) -> None:
    assert "424242" not in json.dumps(document)


def test_reserialisation_still_verifies(registry: IssuerRegistry, document: dict[str, Any]) -> None:
    pretty = json.dumps(document, indent=3, sort_keys=True)
    ascii_escaped = json.dumps(document, ensure_ascii=True)
    reordered = json.dumps(dict(reversed(list(document.items()))), separators=(",", ":"), ensure_ascii=False)
    for text in (pretty, ascii_escaped, reordered, pretty.encode("utf-8")):
        assert _verify(text, registry).credential_id == int(document["id"].rsplit(":", 1)[1])


def test_unicode_escapes_are_canonicalised(registry: IssuerRegistry, issuer: Issuer) -> None:
    # A signed document with a non-ASCII string: \u00e9 and é must canonicalise alike.
    document = copy.deepcopy(
        issuer.issue(
            HealthClaims(birth_date="1980-01-01"), subject_commitment=1, issued_at=ISSUED, expires_at=EXPIRES
        ).document
    )
    bytes_a = signing_bytes(json.loads(json.dumps(document, ensure_ascii=True)))
    bytes_b = signing_bytes(json.loads(json.dumps(document, ensure_ascii=False)))
    assert bytes_a == bytes_b
    assert json.loads('"\\u00e9"') == json.loads('"é"')
    assert canonicalize({"k": "\u00e9"}) == canonicalize(json.loads('{"k": "\\u00e9"}')) == '{"k":"é"}'.encode()


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _bump_field(index: int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        elements = document["credentialSubject"]["fieldElements"]
        elements[index] = str((int(elements[index]) + 1) % FIELD_R)

    return change


TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "birth date": _set(("credentialSubject", "claims", "birthDate"), "1951-04-12"),
    "gender": _set(("credentialSubject", "claims", "gender"), "male"),
    "consent": _set(("credentialSubject", "claims", "researchConsent"), False),
    "hba1c": _set(("credentialSubject", "claims", "hba1c", "value"), "6.4"),
    "diagnosis": _set(("credentialSubject", "claims", "diagnoses", 0, "code"), "E10.9"),
    "drop diagnosis": lambda d: d["credentialSubject"]["claims"]["diagnoses"].pop(),
    "subject": _set(("credentialSubject", "id"), "urn:zkhealth:subject:1"),
    "id": _set(("id",), "urn:zkhealth:credential:1"),
    "issuance": _set(("issuanceDate",), "2024-01-15T00:00:00Z"),
    "expiry": _set(("expirationDate",), "2030-01-15T00:00:00Z"),
    "bjj message": _set(("babyJubjubSignature", "message"), "1"),
    "bjj S": _set(("babyJubjubSignature", "S"), "1"),
    "bjj R8": _set(("babyJubjubSignature", "R8"), ["0", "1"]),
    "bjj key": _set(("babyJubjubSignature", "publicKey"), ["0", "1"]),
    "proof created": _set(("proof", "created"), "2020-01-01T00:00:00Z"),
    "proof value": _set(("proof", "proofValue"), "z" + "2" * 86),
    "issuer did": _set(("issuer",), did_key_from_ed25519(bytes(Ed25519SigningKey.generate().verify_key.to_bytes()))),
    "context": _set(("@context",), ["https://www.w3.org/2018/credentials/v1", "https://example.org/x"]),
    "extra key": _set(("extra",), "x"),
    **{f"field {i}": _bump_field(i) for i in range(26)},
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampering_is_rejected(name: str, registry: IssuerRegistry, document: dict[str, Any]) -> None:
    tampered = copy.deepcopy(document)
    TAMPERINGS[name](tampered)
    # The envelope signature fails first for every change to signed content.
    with pytest.raises((SignatureError, SchemaMismatchError, EncodingError)):
        _verify(tampered, registry)


def test_every_tampering_also_breaks_the_baby_jubjub_signature(document: dict[str, Any]) -> None:
    """Bypass the envelope: a changed vector no longer matches the EdDSA-Poseidon signature."""
    signature = eddsa_poseidon.Signature(
        tuple(int(v) for v in document["babyJubjubSignature"]["R8"]),  # type: ignore[arg-type]
        int(document["babyJubjubSignature"]["S"]),
    )
    key = eddsa_poseidon.PublicKey.from_point(tuple(int(v) for v in document["babyJubjubSignature"]["publicKey"]))
    vector = [int(v) for v in document["credentialSubject"]["fieldElements"]]
    from zkhealth.credentials.credential import claims_hash_of

    eddsa_poseidon.verify(key, claims_hash_of(vector), signature)
    for index in range(len(vector)):
        changed = list(vector)
        changed[index] = (changed[index] + 1) % FIELD_R
        with pytest.raises(SignatureError):
            eddsa_poseidon.verify(key, claims_hash_of(changed), signature)


def test_issuer_cannot_sign_inconsistent_claims(
    issuer: Issuer, registry: IssuerRegistry, document: dict[str, Any]
) -> None:
    """Claims that disagree with the vector fail even when the envelope is validly re-signed."""
    forged = copy.deepcopy(document)
    forged["credentialSubject"]["claims"]["gender"] = "male"
    del forged["proof"]
    from zkhealth.credentials.vc import sign_document

    resigned = sign_document(forged, issuer._ed25519)
    with pytest.raises(CredentialError):
        _verify(resigned, registry)


def test_another_issuer_cannot_reuse_the_baby_jubjub_signature(
    registry: IssuerRegistry, document: dict[str, Any]
) -> None:
    """Re-wrapping a genuine vector in an envelope signed by another Ed25519 key fails the cross-binding."""
    from zkhealth.credentials.vc import sign_document

    other = Ed25519SigningKey.generate()
    forged = copy.deepcopy(document)
    del forged["proof"]
    forged["issuer"] = did_key_from_ed25519(bytes(other.verify_key.to_bytes()))
    with pytest.raises(CredentialError):
        _verify(sign_document(forged, other), registry)


def test_validity_window(registry: IssuerRegistry, document: dict[str, Any]) -> None:
    assert _verify(document, registry, today=ISSUED).issued_at == ISSUED  # first day valid
    assert _verify(document, registry, today=EXPIRES - 1).expires_at == EXPIRES  # last valid day
    with pytest.raises(CredentialExpiredError):
        _verify(document, registry, today=EXPIRES)  # the expiry day itself is not valid
    with pytest.raises(CredentialExpiredError):
        _verify(document, registry, today=EXPIRES + 1000)
    with pytest.raises(CredentialNotYetValidError):
        _verify(document, registry, today=ISSUED - 1)
    import datetime as dt

    with pytest.raises(CredentialNotYetValidError):
        _verify(document, registry, today=dt.date(2025, 1, 14))


def test_unknown_issuer(claims: HealthClaims, registry: IssuerRegistry) -> None:
    stranger = Issuer.generate()
    document = stranger.issue(claims, subject_commitment=5, issued_at=ISSUED, expires_at=EXPIRES).document
    with pytest.raises(UnknownIssuerError):
        _verify(document, registry)
    with pytest.raises(UnknownIssuerError):
        verify_credential(document, trusted_issuers=[], today=TODAY)
    assert verify_credential(document, trusted_issuers=[stranger.public_key], today=TODAY).subject_commitment == 5
    key = eddsa_poseidon.PublicKey.from_point(stranger.public_key)
    assert verify_credential(document, trusted_issuers={key}, today=TODAY).subject_commitment == 5


def test_schema_mismatch(registry: IssuerRegistry, document: dict[str, Any]) -> None:
    for change in (
        _set(("credentialSchema", "id"), "urn:zkhealth:schema:zkhealth.age-credential:1"),
        _set(("credentialSchema", "id"), "urn:zkhealth:schema:zkhealth.health-credential:2"),
        _set(("type",), ["VerifiableCredential", "OtherCredential"]),
    ):
        tampered = copy.deepcopy(document)
        change(tampered)
        with pytest.raises(SchemaMismatchError):
            _verify(tampered, registry)


def test_revocation(tmp_path: Path, issuer: Issuer, registry: IssuerRegistry, claims: HealthClaims) -> None:
    tree = RevocationTree(tmp_path / "revocations.sqlite")
    revoking = Issuer(issuer._bjj, issuer._ed25519, revocation=tree)
    issued = revoking.issue(claims, subject_commitment=9, issued_at=ISSUED, expires_at=EXPIRES)
    cid = issued.credential.credential_id
    assert _verify(issued.document, registry, revocation=tree).credential_id == cid
    proof = tree.non_membership_proof(cid)
    root_before = tree.root
    verify_non_membership(root_before, cid, proof)
    assert revoking.revoke(cid) is True
    assert revoking.revoke(cid) is False
    with pytest.raises(CredentialRevokedError):
        _verify(issued.document, registry, revocation=tree)
    with pytest.raises(CredentialRevokedError):
        tree.non_membership_proof(cid)
    with pytest.raises(MerkleProofError):
        verify_non_membership(tree.root, cid, proof)  # the old proof is against a stale root
    tree.close()
    reopened = RevocationTree(tmp_path / "revocations.sqlite")
    assert reopened.is_revoked(cid)
    reopened.close()
    with pytest.raises(EncodingError):
        Issuer.generate().revoke(cid)  # no tree


def test_issue_options_and_rejections(issuer: Issuer, claims: HealthClaims) -> None:
    issued = issuer.issue(claims, subject_commitment=1, issued_at="2025-01-15", validity_days=30)
    assert issued.credential.expires_at == ISSUED + 30
    assert 0 < issued.credential.credential_id < 1 << 128
    assert issuer.issue(claims, subject_commitment=1, credential_id=77).credential.credential_id == 77
    for bad in (
        {"subject_commitment": FIELD_R},
        {"subject_commitment": -1},
        {"subject_commitment": 1, "validity_days": 0},
        {"subject_commitment": 1, "issued_at": "2025-02-30"},
        {"subject_commitment": 1, "issued_at": ISSUED, "expires_at": ISSUED},
        {"subject_commitment": 1, "credential_id": 0},
        {"subject_commitment": 1, "issued_at": True},
    ):
        with pytest.raises(EncodingError):
            issuer.issue(claims, **bad)
    with pytest.raises(EncodingError):
        issuer.issue({"birth_date": "1960-01-01"}, subject_commitment=1)  # type: ignore[arg-type]


def test_credential_ids_are_random() -> None:
    ids = {new_credential_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(0 < i < 1 << 128 for i in ids)


def test_did_key_round_trip(issuer: Issuer) -> None:
    assert ed25519_from_did_key(issuer.did) == issuer.ed25519_public_key
    for bad in ("did:key:", "did:key:z", "did:web:x", "did:key:z0OIl", issuer.did + "1", 5):
        with pytest.raises(EncodingError):
            ed25519_from_did_key(bad)


def test_repr_hides_keys(issuer: Issuer) -> None:
    text = repr(issuer) + str(issuer)
    assert bytes(range(32)).hex() not in text and bytes(range(1, 33)).hex() not in text
    assert "redacted" in text
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(issuer)


def test_strict_json(registry: IssuerRegistry, document: dict[str, Any]) -> None:
    text = json.dumps(document)
    duplicated = text[:-1] + ', "id": "urn:zkhealth:credential:1"}'
    with pytest.raises(EncodingError):
        _verify(duplicated, registry)
    with pytest.raises(EncodingError):
        _verify(text.replace('"1"', "NaN", 1), registry)
    with pytest.raises(EncodingError):
        _verify("[" * 10000 + "]" * 10000, registry)
    with pytest.raises(EncodingError):
        _verify(b"\xff", registry)


def test_fhir_issue(issuer: Issuer, registry: IssuerRegistry) -> None:
    issued = issuer.issue_from_fhir(
        ROOT / "tests" / "fhir" / "ckd_hypertension.json", subject_commitment=3, issued_at=ISSUED, expires_at=EXPIRES
    )
    assert {d.code for d in _verify(issued.document, registry).claims.diagnoses} == {"I12.9", "N18.31"}


def test_lifecycle_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "credential_lifecycle.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "non-membership proof rejected after revocation" in result.stdout
