"""SMART Health Cards in: cards made by another implementation (@pathcheck/shc-sdk, run in node) verify and
import; a flipped bit, a wrong kid, a card not valid yet or expired, an untrusted issuer and malformed inputs
are refused with typed errors."""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from interop_js import require_js, run_node
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from zkhealth.credentials.shc import (
    MAX_INFLATED_BYTES,
    TrustedCardIssuers,
    decode_qr_numeric,
    encode_qr_numeric,
    read_health_cards,
    verify_health_card,
)
from zkhealth.errors import (
    HealthCardError,
    HealthCardExpiredError,
    HealthCardFormatError,
    HealthCardNotYetValidError,
    HealthCardSignatureError,
    HealthCardUnknownKeyError,
    InputLimitError,
    UntrustedCardIssuerError,
)

pytestmark = [pytest.mark.native, pytest.mark.external]

ISSUER = "https://clinic.example/shc"
NBF = 1_700_000_000
NOW = NBF + 86_400

LAB_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "fullUrl": "resource:0",
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": "Anyperson", "given": ["Jane"]}],
                "birthDate": "1961-04-12",
            },
        },
        {
            "fullUrl": "resource:1",
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "subject": {"reference": "resource:0"},
                "effectiveDateTime": "2023-10-02",
                "valueQuantity": {"value": 7.2, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
            },
        },
        {
            "fullUrl": "resource:2",
            "resource": {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]},
                "patient": {"reference": "resource:0"},
                "occurrenceDateTime": "2021-01-01",
                "lotNumber": "0000001",
            },
        },
    ],
}


def _directory(root: Path, issuer: str, jwks: dict[str, Any]) -> Path:
    target = root / issuer[len("https://") :] / ".well-known" / "jwks.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(jwks))
    return root


@pytest.fixture(scope="module")
def sdk_card() -> dict[str, Any]:
    """A card made, signed and QR-encoded by @pathcheck/shc-sdk with a key it generated."""
    require_js("@pathcheck/shc-sdk")
    card: dict[str, Any] = run_node("shc_make_card.cjs", {"iss": ISSUER, "nbf": NBF, "bundle": LAB_BUNDLE})
    return card


@pytest.fixture()
def trusted(tmp_path: Path, sdk_card: dict[str, Any]) -> TrustedCardIssuers:
    return TrustedCardIssuers(_directory(tmp_path / "issuers", ISSUER, sdk_card["jwks"]))


def test_sdk_card_file_verifies(tmp_path: Path, sdk_card: dict[str, Any], trusted: TrustedCardIssuers) -> None:
    card_file = tmp_path / "lab.smart-health-card"
    card_file.write_text(json.dumps({"verifiableCredential": [sdk_card["jws"]]}))
    [card] = read_health_cards(card_file, trusted, now=NOW)
    assert card.issuer == ISSUER
    assert card.kid == sdk_card["jwks"]["keys"][0]["kid"]
    assert card.not_before == NBF and card.expires is None
    assert card.bundle == LAB_BUNDLE
    assert card.fhir_version == "4.0.1"


def test_sdk_qr_and_bare_jws_verify(sdk_card: dict[str, Any], trusted: TrustedCardIssuers) -> None:
    assert decode_qr_numeric([sdk_card["qr"]]) == sdk_card["jws"]
    assert encode_qr_numeric(sdk_card["jws"]) == sdk_card["qr"]
    [from_qr] = read_health_cards(sdk_card["qr"], trusted, now=NOW)
    [from_jws] = read_health_cards(sdk_card["jws"].encode(), trusted, now=NOW)
    assert from_qr.bundle == from_jws.bundle == LAB_BUNDLE


def test_chunked_qr_is_assembled_in_any_order(sdk_card: dict[str, Any], trusted: TrustedCardIssuers) -> None:
    digits = sdk_card["qr"][len("shc:/") :]
    cut = (len(digits) // 4) * 2
    chunks = [f"shc:/1/2/{digits[:cut]}", f"shc:/2/2/{digits[cut:]}"]
    assert decode_qr_numeric(list(reversed(chunks))) == sdk_card["jws"]
    [card] = read_health_cards("\n".join(chunks), trusted, now=NOW)
    assert card.issuer == ISSUER
    with pytest.raises(HealthCardFormatError):
        decode_qr_numeric(chunks[:1])  # chunk 2 of 2 missing
    with pytest.raises(HealthCardFormatError):
        decode_qr_numeric([chunks[0], chunks[0]])
    with pytest.raises(HealthCardFormatError):
        decode_qr_numeric([chunks[0], f"shc:/2/3/{digits[cut:]}"])


@pytest.mark.parametrize("part", [1, 2])
def test_flipped_bit_is_refused(sdk_card: dict[str, Any], trusted: TrustedCardIssuers, part: int) -> None:
    pieces = sdk_card["jws"].split(".")
    raw = bytearray(pieces[part].encode())
    position = len(raw) // 2
    raw[position] = ord("A") if raw[position] != ord("A") else ord("B")
    pieces[part] = raw.decode()
    with pytest.raises(HealthCardSignatureError):
        verify_health_card(".".join(pieces), trusted, now=NOW)


def test_wrong_kid_is_refused(tmp_path: Path, sdk_card: dict[str, Any]) -> None:
    other = ECKey.generate_key("P-256")
    jwks = {"keys": [{**other.as_dict(private=False), "kid": other.thumbprint(), "alg": "ES256", "use": "sig"}]}
    trusted = TrustedCardIssuers(_directory(tmp_path, ISSUER, jwks))
    with pytest.raises(HealthCardUnknownKeyError):
        verify_health_card(sdk_card["jws"], trusted, now=NOW)


def test_untrusted_issuer_is_refused(tmp_path: Path, sdk_card: dict[str, Any]) -> None:
    trusted = TrustedCardIssuers(_directory(tmp_path, "https://other.example", sdk_card["jwks"]))
    with pytest.raises(UntrustedCardIssuerError):
        verify_health_card(sdk_card["jws"], trusted, now=NOW)  # same key, published by another issuer
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UntrustedCardIssuerError):
        verify_health_card(sdk_card["jws"], TrustedCardIssuers(empty), now=NOW)


def test_not_yet_valid_and_expired_are_refused(sdk_card: dict[str, Any], trusted: TrustedCardIssuers) -> None:
    with pytest.raises(HealthCardNotYetValidError):
        verify_health_card(sdk_card["jws"], trusted, now=NBF - 3600)
    expiring = run_node(
        "shc_make_card.cjs",
        {"iss": ISSUER, "nbf": NBF, "exp": NBF + 600, "bundle": LAB_BUNDLE, "key": sdk_card["key"]},
    )
    assert verify_health_card(expiring["jws"], trusted, now=NBF + 60).expires == NBF + 600
    with pytest.raises(HealthCardExpiredError):
        verify_health_card(expiring["jws"], trusted, now=NOW)


def _our_card(key: ECKey, payload: bytes, header: dict[str, Any] | None = None) -> str:
    registry = JWSRegistry(header_registry={"zip": HeaderParameter("zip", "str")}, algorithms=["ES256"])
    protected = header or {"alg": "ES256", "zip": "DEF", "kid": key.thumbprint()}
    return joserfc_jws.serialize_compact(protected, payload, key, registry=registry)


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@pytest.fixture()
def own_issuer(tmp_path: Path) -> tuple[ECKey, TrustedCardIssuers]:
    key = ECKey.generate_key("P-256")
    jwks = {"keys": [{**key.as_dict(private=False), "kid": key.thumbprint()}]}
    return key, TrustedCardIssuers(_directory(tmp_path, ISSUER, jwks))


def test_inflation_bomb_is_refused_before_allocating(own_issuer: tuple[ECKey, TrustedCardIssuers]) -> None:
    key, trusted = own_issuer
    bomb = _deflate(b"{" + b" " * (MAX_INFLATED_BYTES + 10) + b"}")
    assert len(bomb) < 10_000
    with pytest.raises(InputLimitError):
        verify_health_card(_our_card(key, bomb), trusted, now=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        {"iss": ISSUER, "vc": {"type": ["https://smarthealth.cards#health-card"]}},  # no nbf
        {"iss": ISSUER, "nbf": NBF, "vc": {"type": ["VerifiableCredential"]}},  # not a health card
        {"iss": ISSUER, "nbf": NBF, "vc": {"type": ["https://smarthealth.cards#health-card"],
                                           "credentialSubject": {"fhirBundle": {"resourceType": "Patient"}}}},
        {"iss": "https://evil.example", "nbf": NBF, "vc": {}},  # signed by ISSUER's key, claims another iss
    ],
)
def test_malformed_payloads_are_refused(own_issuer: tuple[ECKey, TrustedCardIssuers], payload: dict[str, Any]) -> None:
    key, trusted = own_issuer
    with pytest.raises(HealthCardError):
        verify_health_card(_our_card(key, _deflate(json.dumps(payload).encode())), trusted, now=NOW)


def test_header_rules(own_issuer: tuple[ECKey, TrustedCardIssuers]) -> None:
    key, trusted = own_issuer
    payload = _deflate(json.dumps({"iss": ISSUER, "nbf": NBF}).encode())
    for header in ({"alg": "ES256", "kid": key.thumbprint()}, {"alg": "ES256", "zip": "GZ", "kid": key.thumbprint()}):
        registry = JWSRegistry(header_registry={"zip": HeaderParameter("zip", "str")}, algorithms=["ES256"])
        card = joserfc_jws.serialize_compact(header, payload, key, registry=registry)
        with pytest.raises(HealthCardFormatError):
            verify_health_card(card, trusted, now=NOW)
    for text in ("a.b", "a.b.c.d", "é.b.c", ""):
        with pytest.raises(HealthCardFormatError):
            verify_health_card(text, trusted, now=NOW)


def test_jwks_rules(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256")
    public = key.as_dict(private=False)
    bad_documents: list[Any] = [
        {"keys": [{**public, "kid": "not-the-thumbprint"}]},
        {"keys": [{**key.as_dict(private=True), "kid": key.thumbprint()}]},  # a private key published
        {"key": []},
        [],
    ]
    for index, document in enumerate(bad_documents):
        with pytest.raises(HealthCardFormatError):
            TrustedCardIssuers(_directory(tmp_path / str(index), ISSUER, document))
    big = tmp_path / "big"
    target = big / "clinic.example" / "shc" / ".well-known" / "jwks.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"keys": [public] * 101}))
    with pytest.raises(InputLimitError):
        TrustedCardIssuers(big)
    # one kid, two issuers
    two = tmp_path / "two"
    jwks = {"keys": [{**public, "kid": key.thumbprint()}]}
    _directory(two, "https://a.example", jwks)
    _directory(two, "https://b.example", jwks)
    with pytest.raises(HealthCardFormatError):
        TrustedCardIssuers(two)


@pytest.mark.parametrize(
    "issuer",
    ["http://clinic.example", "https://clinic.example/", "https://clinic.example/../x", "https://a@b.example",
     "https://clinic.example?x=1", "https://Clinic.example/%2e%2e"],
)
def test_issuer_urls_that_cannot_name_a_directory(tmp_path: Path, issuer: str) -> None:
    trusted = TrustedCardIssuers(tmp_path)
    with pytest.raises(UntrustedCardIssuerError):
        trusted.jwks_path(issuer)


def test_card_file_limits(tmp_path: Path, own_issuer: tuple[ECKey, TrustedCardIssuers]) -> None:
    _, trusted = own_issuer
    with pytest.raises(HealthCardFormatError):
        read_health_cards(b'{"verifiableCredential": []}', trusted)
    with pytest.raises(HealthCardFormatError):
        read_health_cards(b'{"verifiableCredential": [1]}', trusted)
    with pytest.raises(InputLimitError):
        read_health_cards(b"x" * (5 << 20), trusted)
    with pytest.raises(HealthCardFormatError):
        decode_qr_numeric(["shc:/999"])
    with pytest.raises(HealthCardFormatError):
        decode_qr_numeric(["shc:/7890"])  # 78 and 90 are above 77
    assert time.time() > NBF  # the default reference time is now
