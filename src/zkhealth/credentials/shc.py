"""SMART Health Cards in: verify a card against trusted issuers on disk and return its FHIR bundle.

The format is the HL7 SMART Health Cards Implementation Guide 1.0.0 (the "SHC" spec):

* A card is a compact JWS (RFC 7515 §7.1) whose protected header is ``{"alg": "ES256", "zip": "DEF", "kid":
  <key id>}`` and whose payload is the raw DEFLATE (RFC 1951, no zlib header) of a JSON object ``{"iss":
  <issuer URL>, "nbf": <seconds>, ["exp": <seconds>,] "vc": {"type": [..., "https://smarthealth.cards#health-card",
  ...], "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {...}}}}``.
* It arrives as a ``.smart-health-card`` file (JSON ``{"verifiableCredential": [<JWS>, ...]}``), as the bare
  compact JWS, or as a QR payload ``shc:/<digits>``: each JWS character ``c`` is written as the two decimal
  digits of ``ord(c) - 45``. The chunked QR form ``shc:/<i>/<n>/<digits>`` (deprecated by the spec but still
  printed) is assembled when all ``n`` chunks are given, one per line, and refused otherwise.
* The issuer publishes its keys at ``<iss>/.well-known/jwks.json``. Here nothing is fetched: the verifier
  keeps a **trusted-issuer directory** that mirrors those URLs on disk. The JWKS of issuer
  ``https://host/path`` is the file ``DIR/host/path/.well-known/jwks.json`` (``{"keys": [...]}``); an issuer
  whose file is absent is not trusted. The card's key is the one whose ``kid`` equals the header's ``kid``;
  it must be an EC P-256 key whose ``kid`` is its RFC 7638 thumbprint (SHC spec, "Determining keys").

:func:`read_health_cards` checks, in order, raising a :class:`~zkhealth.errors.HealthCardError` subclass that
names the input and the place: size limits before any allocation; the outer form; the JWS shape and header
(:class:`HealthCardFormatError`); the ``kid`` among the trusted issuers' keys (else
:class:`UntrustedCardIssuerError` when the issuer the payload claims is not in the directory,
:class:`HealthCardUnknownKeyError` when it is); the ES256 signature over the exact received bytes
(:class:`HealthCardSignatureError`), *before* the payload is inflated (with an output limit); that the payload's
``iss`` is the issuer whose key signed; the payload shape; ``nbf`` and ``exp`` against the reference time
(:class:`HealthCardNotYetValidError`, :class:`HealthCardExpiredError`; a leeway of :data:`CLOCK_SKEW_SECONDS`).
JOSE goes through joserfc (ES256, JWK import and RFC 7638 thumbprints); DEFLATE through zlib.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from zkhealth._fileio import read_bytes
from zkhealth._json import loads_strict
from zkhealth.errors import (
    EncodingError,
    HealthCardError,
    HealthCardExpiredError,
    HealthCardFormatError,
    HealthCardNotYetValidError,
    HealthCardSignatureError,
    HealthCardUnknownKeyError,
    InputLimitError,
    UntrustedCardIssuerError,
)

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "HEALTH_CARD_TYPE",
    "MAX_CARD_FILE_BYTES",
    "MAX_INFLATED_BYTES",
    "MAX_JWKS_BYTES",
    "MAX_JWS_CHARS",
    "TrustedCardIssuers",
    "VerifiedHealthCard",
    "decode_qr_numeric",
    "encode_qr_numeric",
    "read_health_cards",
    "verify_health_card",
]

HEALTH_CARD_TYPE: Final[str] = "https://smarthealth.cards#health-card"
#: A ``.smart-health-card`` file, a pasted JWS or a list of QR payloads: at most 4 MiB.
MAX_CARD_FILE_BYTES: Final[int] = 4 << 20
#: One compact JWS: at most 1 MiB of text (a single QR code holds 1,195 characters).
MAX_JWS_CHARS: Final[int] = 1 << 20
#: The inflated payload: at most 4 MiB (checked while inflating, before the output is kept).
MAX_INFLATED_BYTES: Final[int] = 4 << 20
#: A JWKS file: at most 256 KiB and 100 keys.
MAX_JWKS_BYTES: Final[int] = 256 << 10
MAX_JWKS_KEYS: Final[int] = 100
#: At most 1,000 issuers in a trusted-issuer directory.
MAX_ISSUERS: Final[int] = 1000
#: At most 100 cards in one file and 100 QR chunks.
MAX_CARDS: Final[int] = 100
#: Clock skew allowed on ``nbf`` and ``exp`` (seconds).
CLOCK_SKEW_SECONDS: Final[int] = 60

_JWS_PART = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_QR_SINGLE = re.compile(r"shc:/([0-9]+)", re.ASCII)
_QR_CHUNK = re.compile(r"shc:/([1-9][0-9]{0,2})/([1-9][0-9]{0,2})/([0-9]+)", re.ASCII)
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?", re.ASCII)
_SEGMENT = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:@-]+", re.ASCII)
_QR_OFFSET: Final[int] = 45  # SHC spec, "Encoding Chunks as QR codes": ord(c) - 45, two digits each


@dataclass(frozen=True)
class VerifiedHealthCard:
    """A card whose signature, issuer and validity were checked. ``bundle`` is its FHIR Bundle (a dict)."""

    issuer: str
    kid: str
    not_before: int
    expires: int | None
    types: tuple[str, ...]
    fhir_version: str
    bundle: dict[str, Any] = field(repr=False)


def _fail(error: type[HealthCardError], where: str, message: str) -> HealthCardError:
    return error(f"{where}: {message}")


def encode_qr_numeric(jws: str) -> str:
    """The ``shc:/`` numeric QR payload of a compact JWS (SHC spec: two digits ``ord(c) - 45`` per character)."""
    if not isinstance(jws, str) or not jws or any(not 45 <= ord(char) <= 122 for char in jws):
        raise HealthCardFormatError("a JWS holds only the characters '-' (45) to 'z' (122)")
    return "shc:/" + "".join(f"{ord(char) - _QR_OFFSET:02d}" for char in jws)


def _digits_to_jws(digits: str, where: str) -> str:
    if len(digits) % 2:
        raise _fail(HealthCardFormatError, where, "the numeric QR payload has an odd number of digits")
    out = []
    for position in range(0, len(digits), 2):
        value = int(digits[position : position + 2])
        if value > 122 - _QR_OFFSET:
            raise _fail(HealthCardFormatError, where, f"digit pair {digits[position:position + 2]!r} at {position} "
                        "is above 77 (no character)")
        out.append(chr(value + _QR_OFFSET))
    return "".join(out)


def decode_qr_numeric(payloads: Sequence[str], *, where: str = "QR") -> str:
    """The compact JWS of one ``shc:/`` payload, or of all the chunks ``shc:/i/n/...`` of one card (any order).

    Raises :class:`HealthCardFormatError` for a malformed payload, a missing, repeated or inconsistent chunk.
    """
    texts = [text.strip() for text in payloads if text.strip()]
    if not texts:
        raise _fail(HealthCardFormatError, where, "no shc:/ payload")
    if len(texts) > MAX_CARDS:
        raise InputLimitError(f"{where}: more than {MAX_CARDS} QR payloads")
    if len(texts) == 1 and (single := _QR_SINGLE.fullmatch(texts[0].lower())) is not None:
        return _digits_to_jws(single.group(1), where)
    chunks: dict[int, str] = {}
    total: int | None = None
    for line, text in enumerate(texts, start=1):
        match = _QR_CHUNK.fullmatch(text.lower())
        if match is None:
            raise _fail(HealthCardFormatError, f"{where} line {line}",
                        "not a shc:/ payload (shc:/DIGITS, or shc:/I/N/DIGITS for chunk I of N)")
        index, count = int(match.group(1)), int(match.group(2))
        if total is None:
            total = count
        if count != total or not 1 <= index <= count:
            raise _fail(HealthCardFormatError, f"{where} line {line}", f"chunk {index}/{count} does not belong "
                        f"to a card of {total} chunks")
        if index in chunks:
            raise _fail(HealthCardFormatError, f"{where} line {line}", f"chunk {index} is given twice")
        chunks[index] = match.group(3)
    count_total = total if total is not None else 0
    missing = [index for index in range(1, count_total + 1) if index not in chunks]
    if missing:
        raise _fail(HealthCardFormatError, where, f"chunks {missing} of {count_total} are missing; scan every "
                    "QR code of the card")
    return _digits_to_jws("".join(chunks[index] for index in range(1, count_total + 1)), where)


class TrustedCardIssuers:
    """A trusted-issuer directory: ``DIR/<host>/<path>/.well-known/jwks.json`` per issuer (module docstring).

    Every JWKS is read when the directory is opened. A JWKS file above :data:`MAX_JWKS_BYTES` or with more than
    :data:`MAX_JWKS_KEYS` keys, or a directory with more than :data:`MAX_ISSUERS` issuers, raises
    :class:`InputLimitError`; a malformed JWKS, or one ``kid`` published by two issuers,
    :class:`HealthCardFormatError` naming the file.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise HealthCardFormatError(f"{self.directory}: the trusted-issuer directory does not exist")
        self._keys: dict[str, dict[str, Any]] = {}
        self._owner: dict[str, str] = {}
        files = sorted(self.directory.glob("**/.well-known/jwks.json"))
        if len(files) > MAX_ISSUERS:
            raise InputLimitError(f"{self.directory}: more than {MAX_ISSUERS} trusted issuers")
        for path in files:
            relative = path.relative_to(self.directory).parts[:-2]
            issuer = "https://" + "/".join(relative)
            if self.jwks_path(issuer) != path:
                raise HealthCardFormatError(f"{path}: this path does not name an issuer URL")
            keys = _read_jwks(path)
            for kid in keys:
                if kid in self._owner:
                    raise HealthCardFormatError(f"{path}: kid {kid!r} is also published by {self._owner[kid]!r}")
                self._owner[kid] = issuer
            self._keys[issuer] = keys

    @property
    def issuers(self) -> list[str]:
        """The trusted issuers' URLs, sorted."""
        return sorted(self._keys)

    def is_trusted(self, issuer: str) -> bool:
        """Whether ``issuer`` (an ``iss`` URL, compared exactly) has a JWKS in the directory."""
        return issuer in self._keys

    def key_for(self, kid: str) -> tuple[str, Any] | None:
        """``(issuer, joserfc ECKey)`` of the key with this ``kid``, or ``None``."""
        issuer = self._owner.get(kid)
        return None if issuer is None else (issuer, self._keys[issuer][kid])

    def jwks_path(self, issuer: str) -> Path:
        """Where the JWKS of ``issuer`` lives; :class:`UntrustedCardIssuerError` for an issuer URL we can't map."""
        parts = urlsplit(issuer)
        if (
            parts.scheme != "https"
            or parts.query
            or parts.fragment
            or parts.username is not None
            or issuer.endswith("/")
            or _HOST.fullmatch(parts.netloc) is None
        ):
            raise UntrustedCardIssuerError(f"issuer {issuer[:200]!r}: an SHC issuer is an https URL with no "
                                           "trailing slash, query or fragment")
        segments = parts.path.split("/")[1:] if parts.path else []
        for segment in segments:
            if segment in ("", ".", "..") or _SEGMENT.fullmatch(segment) is None:
                raise UntrustedCardIssuerError(f"issuer {issuer[:200]!r}: path segment {segment!r} is not allowed")
        return self.directory.joinpath(parts.netloc, *segments, ".well-known", "jwks.json")


def _read_jwks(path: Path) -> dict[str, Any]:
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey

    data = read_bytes(path, max_bytes=MAX_JWKS_BYTES, error=InputLimitError)
    try:
        document = loads_strict(data, max_bytes=MAX_JWKS_BYTES)
    except EncodingError as exc:
        raise HealthCardFormatError(f"{path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise HealthCardFormatError(f'{path}: a JWKS is {{"keys": [...]}}')
    if len(document["keys"]) > MAX_JWKS_KEYS:
        raise InputLimitError(f"{path}: more than {MAX_JWKS_KEYS} keys")
    keys: dict[str, Any] = {}
    for index, jwk in enumerate(document["keys"]):
        where = f"{path}: keys[{index}]"
        if not isinstance(jwk, dict):
            raise HealthCardFormatError(f"{where}: a JWK is a JSON object")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or jwk.get("alg", "ES256") != "ES256":
            continue  # SHC issuers may publish other keys (for other uses); only ES256 P-256 keys sign cards
        if "d" in jwk:
            raise HealthCardFormatError(f"{where}: the JWKS holds a private key; publish public keys only")
        public = {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}
        try:
            key = ECKey.import_key(public)
        except (JoseError, ValueError, TypeError) as exc:
            raise HealthCardFormatError(f"{where}: not a valid P-256 public key ({type(exc).__name__})") from exc
        kid = jwk.get("kid")
        if not isinstance(kid, str) or kid != key.thumbprint():
            raise HealthCardFormatError(f"{where}: kid must be the key's RFC 7638 thumbprint {key.thumbprint()!r}")
        keys[kid] = key
    return keys


def _b64url(part: str, where: str) -> bytes:
    from zkhealth.signature.ed25519 import b64url_decode

    try:
        return b64url_decode(part)
    except EncodingError as exc:
        raise _fail(HealthCardFormatError, where, "not base64url") from exc


def _inflate(data: bytes, where: str) -> bytes:
    inflater = zlib.decompressobj(wbits=-15)  # raw DEFLATE, RFC 1951 (SHC spec: "zip": "DEF")
    try:
        out = inflater.decompress(data, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise _fail(HealthCardFormatError, where, f"the payload is not raw DEFLATE ({exc})") from exc
    if inflater.unconsumed_tail:
        raise InputLimitError(f"{where}: the inflated payload exceeds {MAX_INFLATED_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise _fail(HealthCardFormatError, where, "the DEFLATE stream is truncated or followed by extra bytes")
    return out


def _payload(part: str, where: str) -> dict[str, Any]:
    data = _inflate(_b64url(part, f"{where}: JWS payload"), f"{where}: JWS payload")
    try:
        payload = loads_strict(data, max_bytes=MAX_INFLATED_BYTES)
    except EncodingError as exc:
        raise _fail(HealthCardFormatError, f"{where}: payload", str(exc)) from exc
    if not isinstance(payload, dict):
        raise _fail(HealthCardFormatError, f"{where}: payload", "not a JSON object")
    return payload


def verify_health_card(
    jws: str,
    trusted: TrustedCardIssuers,
    *,
    now: float | None = None,
    where: str = "card",
) -> VerifiedHealthCard:
    """Verify one compact JWS card (module docstring) and return it; ``now`` is Unix seconds (default: now)."""
    from joserfc import jws as joserfc_jws
    from joserfc.errors import BadSignatureError, JoseError
    from joserfc.jws import JWSRegistry
    from joserfc.registry import HeaderParameter

    if not isinstance(jws, str):
        raise _fail(HealthCardFormatError, where, "a card is a compact JWS string")
    if len(jws) > MAX_JWS_CHARS:
        raise InputLimitError(f"{where}: a JWS is at most {MAX_JWS_CHARS} characters, this one has {len(jws)}")
    parts = jws.split(".")
    if len(parts) != 3 or not all(_JWS_PART.fullmatch(part) for part in parts):
        raise _fail(HealthCardFormatError, where, "not a compact JWS (three base64url parts joined by '.')")
    try:
        header = loads_strict(_b64url(parts[0], f"{where}: JWS header"), max_bytes=4096)
    except EncodingError as exc:
        raise _fail(HealthCardFormatError, f"{where}: JWS header", str(exc)) from exc
    if not isinstance(header, dict):
        raise _fail(HealthCardFormatError, f"{where}: JWS header", "not a JSON object")
    if header.get("alg") != "ES256" or header.get("zip") != "DEF" or not isinstance(header.get("kid"), str):
        raise _fail(HealthCardFormatError, f"{where}: JWS header", 'SHC requires {"alg": "ES256", "zip": "DEF", '
                    '"kid": ...}')
    if set(header) - {"alg", "zip", "kid", "typ"}:
        raise _fail(HealthCardFormatError, f"{where}: JWS header", f"unexpected members {sorted(set(header))}")
    kid: str = header["kid"]
    found = trusted.key_for(kid)
    if found is None:
        # Only to say which error it is: read the claimed issuer from the unverified payload (bounded inflate).
        claimed = _payload(parts[1], where).get("iss")
        if isinstance(claimed, str) and trusted.is_trusted(claimed):
            raise _fail(HealthCardUnknownKeyError, where, f"issuer {claimed!r} has no key with kid {kid!r}")
        raise _fail(UntrustedCardIssuerError, where, f"issuer {str(claimed)[:200]!r} is not in the trusted-issuer "
                    f"directory {trusted.directory} (no key {kid!r} either)")
    issuer, key = found
    registry = JWSRegistry(header_registry={"zip": HeaderParameter("Compression (SHC)", "str")},
                           algorithms=["ES256"])
    try:
        joserfc_jws.deserialize_compact(jws, key, registry=registry)
    except BadSignatureError:
        raise _fail(HealthCardSignatureError, where, f"the ES256 signature does not verify with {issuer!r} "
                    f"key {kid!r}") from None
    except (JoseError, ValueError) as exc:
        raise _fail(HealthCardFormatError, where, f"the JWS is malformed ({type(exc).__name__})") from None
    payload = _payload(parts[1], where)
    if payload.get("iss") != issuer:
        raise _fail(UntrustedCardIssuerError, where, f"signed with a key of {issuer!r} but names issuer "
                    f"{str(payload.get('iss'))[:200]!r}")

    reference = time.time() if now is None else float(now)
    not_before = payload.get("nbf")
    if isinstance(not_before, bool) or not isinstance(not_before, int | float):
        raise _fail(HealthCardFormatError, f"{where}: payload", "nbf (issuance time, seconds) is required")
    if not_before > reference + CLOCK_SKEW_SECONDS:
        raise _fail(HealthCardNotYetValidError, where, f"nbf {int(not_before)} lies after the reference time "
                    f"{int(reference)}")
    expires = payload.get("exp")
    if expires is not None:
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            raise _fail(HealthCardFormatError, f"{where}: payload", "exp must be a number of seconds")
        if expires < reference - CLOCK_SKEW_SECONDS:
            raise _fail(HealthCardExpiredError, where, f"exp {int(expires)} lies before the reference time "
                        f"{int(reference)}")
    vc = payload.get("vc")
    if not isinstance(vc, dict) or not isinstance(vc.get("type"), list):
        raise _fail(HealthCardFormatError, f"{where}: payload", "vc.type is required")
    types = tuple(str(item) for item in vc["type"])
    if HEALTH_CARD_TYPE not in types:
        raise _fail(HealthCardFormatError, f"{where}: payload", f"vc.type lacks {HEALTH_CARD_TYPE!r}")
    subject = vc.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("fhirBundle"), dict):
        raise _fail(HealthCardFormatError, f"{where}: payload", "vc.credentialSubject.fhirBundle is required")
    bundle = subject["fhirBundle"]
    if bundle.get("resourceType") != "Bundle":
        raise _fail(HealthCardFormatError, f"{where}: payload", "fhirBundle is not a FHIR Bundle")
    return VerifiedHealthCard(
        issuer=issuer,
        kid=kid,
        not_before=int(not_before),
        expires=None if expires is None else int(expires),
        types=types,
        fhir_version=str(subject.get("fhirVersion", "")),
        bundle=bundle,
    )


def _card_texts(data: bytes, where: str) -> list[tuple[str, str]]:
    """``(where, compact JWS)`` for every card in a file's bytes (``.smart-health-card``, JWS or QR payloads)."""
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise _fail(HealthCardFormatError, where, "not UTF-8 text") from exc
    if text.startswith("{"):
        try:
            document = loads_strict(text, max_bytes=MAX_CARD_FILE_BYTES)
        except EncodingError as exc:
            raise _fail(HealthCardFormatError, where, str(exc)) from exc
        cards = document.get("verifiableCredential") if isinstance(document, dict) else None
        if not isinstance(cards, list) or not cards or not all(isinstance(card, str) for card in cards):
            raise _fail(HealthCardFormatError, where, 'a .smart-health-card file is {"verifiableCredential": '
                        '[<JWS>, ...]}')
        if len(cards) > MAX_CARDS:
            raise InputLimitError(f"{where}: more than {MAX_CARDS} cards")
        return [(f"{where}: verifiableCredential[{index}]", card) for index, card in enumerate(cards)]
    if text.lower().startswith("shc:/"):
        return [(f"{where} (QR)", decode_qr_numeric(text.splitlines(), where=where))]
    return [(where, text)]


def read_health_cards(
    source: str | bytes | Path,
    trusted: TrustedCardIssuers | str | Path,
    *,
    now: float | None = None,
) -> list[VerifiedHealthCard]:
    """Read and verify every card of a ``.smart-health-card`` file, a compact JWS or ``shc:/`` QR payload(s).

    ``source`` is a path (``Path``), or the content itself (``str``/``bytes``). Raises a
    :class:`HealthCardError` subclass (module docstring) naming the file and the card.
    """
    issuers = trusted if isinstance(trusted, TrustedCardIssuers) else TrustedCardIssuers(trusted)
    if isinstance(source, Path):
        where = str(source)
        data = read_bytes(source, max_bytes=MAX_CARD_FILE_BYTES, error=InputLimitError)
    else:
        where = "card"
        data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
        if len(data) > MAX_CARD_FILE_BYTES:
            raise InputLimitError(f"{where}: a card is at most {MAX_CARD_FILE_BYTES} bytes")
    return [verify_health_card(jws, issuers, now=now, where=place) for place, jws in _card_texts(data, where)]
