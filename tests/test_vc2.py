"""The VC 2.0 envelope (eddsa-jcs-2022): our credentials verify with Digital Bazaar's @digitalbazaar/vc, theirs
verify with us, and tampering, a foreign key or an unsupported proof is refused."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from interop_js import require_js, run_node

from zkhealth.credentials.vc import did_key_from_ed25519
from zkhealth.credentials.vc2 import VC2_CONTEXT, build_vc2, sign_vc2, verify_vc2
from zkhealth.errors import EncodingError, SchemaMismatchError, SignatureError
from zkhealth.signature.ed25519 import Ed25519SigningKey

pytestmark = pytest.mark.native

NOW = "2025-06-01T00:00:00Z"
SEED = bytes(range(32))
KEY = Ed25519SigningKey.from_seed(SEED)
DID = did_key_from_ed25519(KEY.verify_key.to_bytes())

SUBJECT: dict[str, Any] = {
    "id": "urn:zkhealth:subject:123456789",
    "header": {"schemaVersion": "2", "birthDate": "1961-04-12", "recordComplete": True},
    "conditions": [{"system": "icd-10-cm", "code": "E11.9", "onset": "2019-03-04", "status": "active"}],
    "fieldElements": [str(2**200 + 7), "0", "1"],
    "name": "Zoë Ünïcode \u00e9",
}


def _unsigned() -> dict[str, Any]:
    return build_vc2(
        issuer=DID,
        credential_id="urn:zkhealth:credential:42",
        types=["ZkHealthCredential"],
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2026, 1, 1),
        credential_subject=SUBJECT,
        extra={"credentialSchema": {"id": "urn:zkhealth:schema:zkhealth.health-credential:2",
                                    "type": "ZkHealthFieldVector"}},
    )


def _signed() -> dict[str, Any]:
    return sign_vc2(_unsigned(), KEY, created=dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC))


def test_round_trip() -> None:
    signed = _signed()
    assert signed["proof"]["@context"] == [VC2_CONTEXT]
    assert signed["@context"] == [VC2_CONTEXT]
    assert signed["validFrom"] == "2025-01-01T00:00:00Z" and signed["validUntil"] == "2026-01-01T00:00:00Z"
    verified = verify_vc2(signed)
    assert verified.issuer == DID and verified.ed25519_public_key == KEY.verify_key.to_bytes()
    assert verified.created == "2025-01-01T12:00:00Z"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["credentialSubject"]["conditions"][0].update(code="E11.8"),
        lambda d: d.update(validUntil="2027-01-01T00:00:00Z"),
        lambda d: d["proof"].update(created="2025-01-02T12:00:00Z"),  # the proof options are signed too
        lambda d: d["type"].append("Extra"),
    ],
)
def test_tampering_is_refused(change: Any) -> None:
    signed = _signed()
    change(signed)
    with pytest.raises(SignatureError):
        verify_vc2(signed)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["proof"].update(cryptosuite="zkhealth-ed25519-jcs-1"),
        lambda d: d["proof"].update(type="Ed25519Signature2020"),
        lambda d: d["proof"].update(proofPurpose="authentication"),
        lambda d: d["proof"].update(verificationMethod=did_key_from_ed25519(bytes(31) + b"\x01") + "#x"),
        lambda d: d["proof"].update(proofValue="z" + d["proof"]["proofValue"][2:]),
        lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]),
        lambda d: d["proof"].update({"@context": ["https://www.w3.org/2018/credentials/v1"]}),
        lambda d: d.update(proof=[d["proof"]]),
        lambda d: d.update(issuer=did_key_from_ed25519(Ed25519SigningKey.generate().verify_key.to_bytes())),
    ],
)
def test_unsupported_or_inconsistent_proofs_are_refused(change: Any) -> None:
    signed = _signed()
    change(signed)
    with pytest.raises(SignatureError):
        verify_vc2(signed)


def test_not_a_vc2_document() -> None:
    signed = _signed()
    for change in (
        lambda d: d.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}),
        lambda d: d.update(type=["ZkHealthCredential"]),
        lambda d: d.update(validFrom="2025-01-01"),
    ):
        document = copy.deepcopy(signed)
        change(document)
        with pytest.raises(SchemaMismatchError):
            verify_vc2(document)


def test_signing_rules() -> None:
    with pytest.raises(EncodingError):
        sign_vc2({**_unsigned(), "count": 2**60}, KEY)  # not exact as a JCS number
    with pytest.raises(EncodingError):
        sign_vc2({**_unsigned(), "ratio": 0.5}, KEY)
    with pytest.raises(EncodingError):
        sign_vc2(_unsigned(), Ed25519SigningKey.generate())  # not the issuer's key
    with pytest.raises(EncodingError):
        sign_vc2(_signed(), KEY)


def test_proof_without_its_own_context_verifies_per_spec() -> None:
    from zkhealth.credentials.vc import _b58encode
    from zkhealth.credentials.vc2 import signing_hash

    document = _unsigned()
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2025-01-01T00:00:00Z",
             "verificationMethod": f"{DID}#{DID[len('did:key:'):]}", "proofPurpose": "assertionMethod"}
    proof["proofValue"] = "z" + _b58encode(KEY.sign(signing_hash(document, proof)))
    assert verify_vc2({**document, "proof": proof}).issuer == DID


def test_reserialised_document_still_verifies() -> None:
    import json

    signed = _signed()
    text = json.dumps(signed, indent=3, sort_keys=True, ensure_ascii=True)
    assert verify_vc2(text).issuer == DID


@pytest.mark.external
def test_digital_bazaar_verifies_ours() -> None:
    require_js("@digitalbazaar/vc")
    result = run_node("vc_interop.mjs", {"op": "verify", "credential": _signed(), "now": NOW})
    assert result == {"verified": True, "error": None}
    tampered = _signed()
    tampered["credentialSubject"]["conditions"][0]["code"] = "E11.8"
    assert run_node("vc_interop.mjs", {"op": "verify", "credential": tampered, "now": NOW})["verified"] is False


@pytest.mark.external
def test_we_verify_digital_bazaar() -> None:
    require_js("@digitalbazaar/vc")
    unsigned = _unsigned()
    del unsigned["issuer"]
    seed = bytes(range(100, 132))
    issued = run_node("vc_interop.mjs", {"op": "issue", "credential": unsigned, "seed": seed.hex()})
    theirs = issued["credential"]
    assert theirs["proof"]["@context"] == theirs["@context"]  # as ours does
    verified = verify_vc2(theirs)
    own_did = did_key_from_ed25519(Ed25519SigningKey.from_seed(seed).verify_key.to_bytes())
    assert verified.issuer == issued["did"] == own_did
    theirs["validUntil"] = "2030-01-01T00:00:00Z"
    with pytest.raises(SignatureError):
        verify_vc2(theirs)


@pytest.mark.external
def test_digital_bazaar_verifies_a_whole_record_credential() -> None:
    """A version 2 credential issued from a real export (the corpus) is a VC 2.0 document that Digital Bazaar's
    verifier accepts, and that we verify end to end (envelope, header, sets, Baby Jubjub signature)."""
    import lzma
    from pathlib import Path

    from zkhealth.credentials.ehr_import import import_bundle
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.record_vc import verify_record_credential

    require_js("@digitalbazaar/vc")
    corpus = Path(__file__).parent / "fhir" / "corpus" / "synthea-us"
    bundle = lzma.decompress(sorted(corpus.glob("*.json.xz"))[0].read_bytes())
    record = import_bundle(bundle, today=dt.date(2026, 6, 1)).record
    hospital = Issuer.generate()
    issued = hospital.issue_record(record, subject_commitment=12345, issued_at=dt.date(2026, 6, 1))
    document = issued.document
    assert document["@context"] == [VC2_CONTEXT] and document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify_vc2(document).issuer == hospital.did
    credential = verify_record_credential(document, trusted_issuers=[hospital.public_key], today=dt.date(2026, 7, 1))
    assert credential.record.conditions == record.conditions
    result = run_node("vc_interop.mjs", {"op": "verify", "credential": document, "now": "2026-07-01T00:00:00Z"})
    assert result == {"verified": True, "error": None}
