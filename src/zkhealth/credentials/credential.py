"""Typed credential values and their field-element vector (schema.py documents the layout).

:class:`HealthClaims` holds what the issuer attests about the patient; :class:`Credential` adds the
identifiers, validity window and issuer keys, and turns everything into the vector the circuit reads
(:meth:`Credential.field_elements`) and the message the issuer signs (:meth:`Credential.claims_hash`).
``Credential.from_field_elements(c.field_elements()) == c`` for every valid credential, and the vector
determines the credential (the encoding is injective).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zkhealth.credentials import dates, icd10
from zkhealth.credentials.encoding import encode_fixed, format_fixed, parse_decimal
from zkhealth.credentials.schema import (
    CLAIM_SPECS,
    GENDERS,
    HASH_CHUNK,
    MAX_DIAGNOSES,
    SCHEMA_ID,
    SCHEMA_VERSION,
    VECTOR_LENGTH,
)
from zkhealth.errors import EncodingError, FieldTypeError, SchemaMismatchError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

__all__ = [
    "Credential",
    "Diagnosis",
    "HealthClaims",
    "LabValue",
    "claims_hash_of",
    "subject_commitment",
]

_SPEC = {spec.name: spec for spec in CLAIM_SPECS}
_ID_BOUND = 1 << 128


def subject_commitment(holder_secret: int) -> int:
    """``poseidon([holder_secret])``: binds a credential to the holder without revealing the secret."""
    if isinstance(holder_secret, bool) or not isinstance(holder_secret, int) or not 0 < holder_secret < FIELD_R:
        raise EncodingError("the holder secret must be an int in [1, r)")
    return poseidon([holder_secret])


def claims_hash_of(vector: Sequence[int]) -> int:
    """``poseidon([poseidon(v[0:16]), poseidon(v[16:])])``: the message the issuer signs. 3 Poseidon calls."""
    if len(vector) != VECTOR_LENGTH:
        raise EncodingError(f"the credential vector has {VECTOR_LENGTH} elements, got {len(vector)}")
    return poseidon([poseidon(vector[:HASH_CHUNK]), poseidon(vector[HASH_CHUNK:])])


@dataclass(frozen=True, order=True)
class Diagnosis:
    """An ICD-10-CM diagnosis with its onset/diagnosis date. The code is normalised and must exist."""

    code: str
    date: _dt.date

    def __post_init__(self) -> None:
        code = icd10.normalize_code(self.code)
        icd10.encode_code(code)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "date", dates.parse_date(self.date))


@dataclass(frozen=True)
class LabValue:
    """A lab result: an exact decimal value (unit fixed by the claim) and the observation date."""

    value: Decimal
    date: _dt.date

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", parse_decimal(self.value))
        object.__setattr__(self, "date", dates.parse_date(self.date))


def _lab(value: object) -> LabValue | None:
    if value is None or isinstance(value, LabValue):
        return value
    if isinstance(value, Mapping):
        return LabValue(value=value["value"], date=value["date"])
    if isinstance(value, tuple) and len(value) == 2:
        return LabValue(value=value[0], date=value[1])
    raise EncodingError(f"a lab value is a LabValue, (value, date) or a mapping, got {type(value).__name__}")


def _diagnosis(value: object) -> Diagnosis:
    if isinstance(value, Diagnosis):
        return value
    if isinstance(value, Mapping):
        return Diagnosis(code=value["code"], date=value["date"])
    if isinstance(value, tuple) and len(value) == 2:
        return Diagnosis(code=value[0], date=value[1])
    raise EncodingError(f"a diagnosis is a Diagnosis, (code, date) or a mapping, got {type(value).__name__}")


@dataclass(frozen=True)
class HealthClaims:
    """The attested facts. Construction validates and canonicalises.

    * ``birth_date``: required; ``gender``: a FHIR AdministrativeGender value (default ``"unknown"``);
    * ``hba1c`` (%, 2 decimals), ``egfr`` (mL/min/{1.73_m2}, 1 decimal): :class:`LabValue` or ``None``;
    * ``systolic_bp``: whole mm[Hg], 1..1023, or ``None``;
    * ``diagnoses``: at most 4 distinct codes, stored sorted by their encoding.

    Values that do not fit their declared widths or scales raise :class:`EncodingError`.
    """

    birth_date: _dt.date
    gender: str = "unknown"
    research_consent: bool = False
    hba1c: LabValue | None = None
    egfr: LabValue | None = None
    systolic_bp: int | None = None
    diagnoses: tuple[Diagnosis, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "birth_date", dates.parse_date(self.birth_date))
        if self.gender not in GENDERS:
            raise EncodingError(f"gender must be one of {', '.join(GENDERS)}")
        if not isinstance(self.research_consent, bool):
            raise EncodingError("research_consent must be a bool")
        object.__setattr__(self, "hba1c", _lab(self.hba1c))
        object.__setattr__(self, "egfr", _lab(self.egfr))
        items = [_diagnosis(item) for item in self.diagnoses]
        if len(items) > MAX_DIAGNOSES:
            raise EncodingError(f"at most {MAX_DIAGNOSES} diagnoses fit in a credential, got {len(items)}")
        codes = [icd10.encode_code(item.code) for item in items]
        if len(set(codes)) != len(codes):
            raise EncodingError("a diagnosis code appears twice")
        ordered = tuple(item for _, item in sorted(zip(codes, items, strict=True), key=lambda pair: pair[0]))
        object.__setattr__(self, "diagnoses", ordered)
        # Encode once now so that every invalid value fails at construction, not at signing.
        self.encode()

    def encode(self) -> dict[str, int]:
        """The claim slots (8..23) as field elements."""
        out: dict[str, int] = {
            "birth_date": _SPEC["birth_date"].encode(self.birth_date),
            "gender": _SPEC["gender"].encode(self.gender),
            "research_consent": _SPEC["research_consent"].encode(self.research_consent),
        }
        for name in ("hba1c", "egfr"):
            lab: LabValue | None = getattr(self, name)
            spec = _SPEC[name]
            out[name] = 0 if lab is None else encode_fixed(lab.value, spec.decimals, spec.bits)
            out[f"{name}_date"] = _SPEC[f"{name}_date"].encode(None if lab is None else lab.date)
        out["systolic_bp"] = _SPEC["systolic_bp"].encode(self.systolic_bp)
        for slot in range(MAX_DIAGNOSES):
            item = self.diagnoses[slot] if slot < len(self.diagnoses) else None
            out[f"dx{slot + 1}_code"] = _SPEC[f"dx{slot + 1}_code"].encode(None if item is None else item.code)
            out[f"dx{slot + 1}_date"] = _SPEC[f"dx{slot + 1}_date"].encode(None if item is None else item.date)
        return out

    @classmethod
    def decode(cls, encoded: Mapping[str, int]) -> HealthClaims:
        """Inverse of :meth:`encode`, enforcing the cross-slot rules. Raises :class:`EncodingError`."""
        labs: dict[str, LabValue | None] = {}
        for name in ("hba1c", "egfr"):
            value, when = encoded[name], encoded[f"{name}_date"]
            if (value == 0) != (when == 0):
                raise EncodingError(f"{name} and its date must be both present or both absent")
            spec = _SPEC[name]
            labs[name] = (
                None
                if value == 0
                else LabValue(
                    value=Decimal(format_fixed(_check_width(spec.name, value, spec.bits), spec.decimals)),
                    date=dates.clinical_date_to_date(when),
                )
            )
        diagnoses: list[Diagnosis] = []
        seen_absent = False
        previous = 0
        for slot in range(1, MAX_DIAGNOSES + 1):
            code, when = encoded[f"dx{slot}_code"], encoded[f"dx{slot}_date"]
            if (code == 0) != (when == 0):
                raise EncodingError(f"diagnosis slot {slot}: code and date must be both present or both absent")
            if code == 0:
                seen_absent = True
                continue
            if seen_absent:
                raise EncodingError("used diagnosis slots must come before unused ones")
            if code <= previous:
                raise EncodingError("diagnosis codes must be distinct and in increasing order")
            previous = code
            diagnoses.append(
                Diagnosis(
                    code=str(_SPEC[f"dx{slot}_code"].decode(code)),
                    date=dates.clinical_date_to_date(_check_width("date", when, 32)),
                )
            )
        sbp = _SPEC["systolic_bp"].decode(encoded["systolic_bp"])
        birth = _SPEC["birth_date"].decode(encoded["birth_date"])
        gender = _SPEC["gender"].decode(encoded["gender"])
        consent = _SPEC["research_consent"].decode(encoded["research_consent"])
        if not isinstance(birth, _dt.date) or not isinstance(gender, str) or not isinstance(consent, bool):
            raise EncodingError("malformed claim slots")
        return cls(
            birth_date=birth,
            gender=gender,
            research_consent=consent,
            hba1c=labs["hba1c"],
            egfr=labs["egfr"],
            systolic_bp=sbp if isinstance(sbp, int) else None,
            diagnoses=tuple(diagnoses),
        )

    # ------------------------------------------------------------------ human-readable JSON form

    def to_json(self) -> dict[str, Any]:
        """The claims as the VC's ``credentialSubject.claims``: strings, bools and small ints only."""
        out: dict[str, Any] = {
            "birthDate": self.birth_date.isoformat(),
            "gender": self.gender,
            "researchConsent": self.research_consent,
        }
        for name, key in (("hba1c", "hba1c"), ("egfr", "egfr")):
            lab: LabValue | None = getattr(self, name)
            if lab is not None:
                spec = _SPEC[name]
                encoded = encode_fixed(lab.value, spec.decimals, spec.bits)
                out[key] = {
                    "value": format_fixed(encoded, spec.decimals),
                    "unit": spec.unit,
                    "date": lab.date.isoformat(),
                }
        if self.systolic_bp is not None:
            out["systolicBloodPressure"] = {"value": self.systolic_bp, "unit": _SPEC["systolic_bp"].unit}
        out["diagnoses"] = [{"code": d.code, "date": d.date.isoformat()} for d in self.diagnoses]
        return out

    @classmethod
    def from_json(cls, obj: object) -> HealthClaims:
        """Parse :meth:`to_json` output strictly (unknown keys, wrong types or units: :class:`EncodingError`)."""
        data = _expect(
            obj,
            {"birthDate", "gender", "researchConsent", "diagnoses"},
            {"hba1c", "egfr", "systolicBloodPressure"},
            "claims",
        )
        labs: dict[str, LabValue | None] = {"hba1c": None, "egfr": None}
        for name in labs:
            if name in data:
                item = _expect(data[name], {"value", "unit", "date"}, set(), name)
                if item["unit"] != _SPEC[name].unit:
                    raise EncodingError(f"{name}: unit must be {_SPEC[name].unit!r}")
                if not isinstance(item["value"], str):
                    raise EncodingError(f"{name}: value must be a decimal string")
                labs[name] = LabValue(value=parse_decimal(item["value"]), date=item["date"])
        sbp: int | None = None
        if "systolicBloodPressure" in data:
            item = _expect(data["systolicBloodPressure"], {"value", "unit"}, set(), "systolicBloodPressure")
            if item["unit"] != _SPEC["systolic_bp"].unit:
                raise EncodingError("systolicBloodPressure: unit must be 'mm[Hg]'")
            if isinstance(item["value"], bool) or not isinstance(item["value"], int):
                raise EncodingError("systolicBloodPressure: value must be an integer")
            sbp = item["value"]
        diagnoses_json = data["diagnoses"]
        if not isinstance(diagnoses_json, list):
            raise EncodingError("diagnoses must be a list")
        diagnoses = []
        for item_obj in diagnoses_json:
            item = _expect(item_obj, {"code", "date"}, set(), "diagnosis")
            diagnoses.append(Diagnosis(code=item["code"], date=item["date"]))
        for key in ("birthDate", "gender"):
            if not isinstance(data[key], str):
                raise EncodingError(f"{key} must be a string")
        return cls(
            birth_date=data["birthDate"],
            gender=data["gender"],
            research_consent=data["researchConsent"],
            hba1c=labs["hba1c"],
            egfr=labs["egfr"],
            systolic_bp=sbp,
            diagnoses=tuple(diagnoses),
        )


def _check_width(name: str, value: int, bits: int) -> int:
    if not 0 <= value < 1 << bits:
        raise EncodingError(f"{name}: encoded value exceeds {bits} bits")
    return value


def _expect(obj: object, required: set[str], optional: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise EncodingError(f"{what} must be a JSON object")
    keys = set(obj)
    missing = required - keys
    unknown = keys - required - optional
    if missing or unknown:
        raise EncodingError(f"{what}: missing {sorted(missing)} / unknown {sorted(unknown)} keys")
    return obj


@dataclass(frozen=True)
class Credential:
    """A complete credential: claims, identifiers, validity window and issuer keys.

    ``issued_at`` and ``expires_at`` are epoch days; the credential is valid on day ``d`` iff
    ``issued_at <= d < expires_at``. ``issuer_public_key`` is the Baby Jubjub point (Ax, Ay) that signs
    :meth:`claims_hash`; ``issuer_ed25519`` the 32-byte key that signs the JSON envelope.
    """

    credential_id: int
    subject_commitment: int
    issuer_public_key: tuple[int, int]
    issuer_ed25519: bytes
    issued_at: int
    expires_at: int
    claims: HealthClaims
    schema_id: int = SCHEMA_ID
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.schema_id != SCHEMA_ID or self.schema_version != SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"this library reads schema {SCHEMA_ID} version {SCHEMA_VERSION}, "
                f"got {self.schema_id} version {self.schema_version}"
            )
        cid = self.credential_id
        if isinstance(cid, bool) or not isinstance(cid, int) or not 0 < cid < _ID_BOUND:
            raise EncodingError("credential_id must be an int in [1, 2^128)")
        if not isinstance(self.issuer_ed25519, bytes) or len(self.issuer_ed25519) != 32:
            raise EncodingError("issuer_ed25519 must be 32 bytes")
        if not isinstance(self.claims, HealthClaims):
            raise EncodingError("claims must be HealthClaims")
        point = tuple(self.issuer_public_key)
        if len(point) != 2:
            raise EncodingError("issuer_public_key must be a point (Ax, Ay)")
        object.__setattr__(self, "issuer_public_key", (point[0], point[1]))
        for name in ("issued_at", "expires_at"):
            _SPEC[name].encode(dates.epoch_day_to_date(getattr(self, name)))
        if not self.issued_at < self.expires_at:
            raise EncodingError("issued_at must be before expires_at")
        self.field_elements()

    @functools.cached_property
    def _vector(self) -> tuple[int, ...]:
        values: dict[str, int] = {
            "schema_id": self.schema_id,
            "schema_version": self.schema_version,
            "credential_id": self.credential_id,
            "subject_commitment": self.subject_commitment,
            "issuer_ax": self.issuer_public_key[0],
            "issuer_ay": self.issuer_public_key[1],
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "issuer_ed25519_hi": int.from_bytes(self.issuer_ed25519[:16], "big"),
            "issuer_ed25519_lo": int.from_bytes(self.issuer_ed25519[16:], "big"),
        }
        for name, value in values.items():
            if _SPEC[name].kind != "epoch_day":  # epoch days were checked in __post_init__
                _SPEC[name].encode(value)  # type and width checks of the non-claim slots
        values.update(self.claims.encode())
        return tuple(values[spec.name] for spec in CLAIM_SPECS)

    def field_elements(self) -> list[int]:
        """The 26-element vector of schema.py, each element < r and within its declared width."""
        return list(self._vector)

    @functools.cached_property
    def _claims_hash(self) -> int:
        return claims_hash_of(self._vector)

    def claims_hash(self) -> int:
        """The signed message: the two-level Poseidon hash of :meth:`field_elements` (computed once)."""
        return self._claims_hash

    @classmethod
    def from_field_elements(cls, vector: Sequence[int]) -> Credential:
        """Decode a vector, checking every width and cross-slot rule. The inverse of :meth:`field_elements`."""
        if isinstance(vector, str | bytes) or not isinstance(vector, Sequence):
            raise FieldTypeError(f"a credential vector is a sequence of ints, not {type(vector).__name__}")
        if len(vector) != VECTOR_LENGTH:
            raise EncodingError(f"the credential vector has {VECTOR_LENGTH} elements, got {len(vector)}")
        for spec, value in zip(CLAIM_SPECS, vector, strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
                raise EncodingError(f"{spec.name}: not a field element")
            spec.decode(value)
        named = {spec.name: value for spec, value in zip(CLAIM_SPECS, vector, strict=True)}
        if named["schema_id"] != SCHEMA_ID or named["schema_version"] != SCHEMA_VERSION:
            raise SchemaMismatchError("the vector belongs to another schema or schema version")
        ed25519 = named["issuer_ed25519_hi"].to_bytes(16, "big") + named["issuer_ed25519_lo"].to_bytes(16, "big")
        credential = cls(
            credential_id=named["credential_id"],
            subject_commitment=named["subject_commitment"],
            issuer_public_key=(named["issuer_ax"], named["issuer_ay"]),
            issuer_ed25519=ed25519,
            issued_at=named["issued_at"],
            expires_at=named["expires_at"],
            claims=HealthClaims.decode(named),
        )
        if credential.field_elements() != list(vector):
            raise EncodingError("the vector is not the canonical encoding of its credential")
        return credential
