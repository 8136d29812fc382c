"""Build :class:`HealthClaims` from a FHIR R4 Bundle (parsed with ``fhir.resources.R4B``).

What is read, and how (everything else in the bundle is ignored):

* **Patient** (exactly one): ``birthDate`` (a full date; partial dates such as ``"1961"`` are refused) and
  ``gender`` (absent means ``"unknown"``).
* **Condition**: ``code`` must carry a coding with system ``http://hl7.org/fhir/sid/icd-10-cm``; a Condition
  coded only in another system raises :class:`FhirImportError`. ``onsetDateTime`` gives the diagnosis date.
  Conditions whose ``verificationStatus`` is ``refuted`` or ``entered-in-error`` are skipped. At most 4.
* **Observation** with a LOINC coding (``http://loinc.org``) and status final / amended / corrected:

  ==========================  ==========================  ===================
  claim                       LOINC                       UCUM unit
  ==========================  ==========================  ===================
  HbA1c                       4548-4, 17856-6             ``%``
  eGFR                        33914-3, 62238-1, 98979-8   ``mL/min/{1.73_m2}``
  systolic blood pressure     8480-6 (also as component)  ``mm[Hg]``
  ==========================  ==========================  ===================

  When several observations give the same claim, the latest ``effectiveDateTime`` wins. A supported LOINC
  code with another unit (HbA1c in mmol/mol, say) raises :class:`FhirImportError`; values are never
  converted or rounded. Observations with other codes are ignored.

Dates with a time are converted to their UTC calendar date; a time without a zone offset is refused (FHIR
requires the offset). All failures raise :class:`FhirImportError` naming the resource and the problem.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TypeAlias

from zkhealth._fileio import read_bytes
from zkhealth._json import check_tree, loads_strict
from zkhealth.credentials.credential import Diagnosis, HealthClaims, LabValue
from zkhealth.credentials.schema import GENDERS, MAX_DIAGNOSES
from zkhealth.errors import EncodingError, FhirImportError, MalformedFhirError

__all__ = [
    "BundleSource",
    "ICD10CM_SYSTEM",
    "LOINC_SYSTEM",
    "UCUM_SYSTEM",
    "claims_from_bundle",
    "load_bundle",
]

ICD10CM_SYSTEM: Final[str] = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC_SYSTEM: Final[str] = "http://loinc.org"
UCUM_SYSTEM: Final[str] = "http://unitsofmeasure.org"
_VERIFICATION_SYSTEM: Final[str] = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

#: LOINC code -> (claim, required UCUM unit).
LOINC_CLAIMS: Final[Mapping[str, tuple[str, str]]] = {
    "4548-4": ("hba1c", "%"),
    "17856-6": ("hba1c", "%"),
    "33914-3": ("egfr", "mL/min/{1.73_m2}"),
    "62238-1": ("egfr", "mL/min/{1.73_m2}"),
    "98979-8": ("egfr", "mL/min/{1.73_m2}"),
    "8480-6": ("systolic_bp", "mm[Hg]"),
}
#: Largest bundle accepted as JSON text (a patient's complete record with years of observations fits).
_MAX_BUNDLE_BYTES: Final[int] = 64 << 20
#: The representations of a FHIR R4 Bundle the importer reads: a ``fhir.resources`` Bundle, its JSON object,
#: JSON text or bytes, or the path of a JSON file. :func:`load_bundle` converts each to a Bundle.
BundleSource: TypeAlias = "Any | Mapping[str, Any] | str | bytes | Path"
_FINAL_STATUSES: Final[frozenset[str]] = frozenset({"final", "amended", "corrected"})
_SKIPPED_VERIFICATION: Final[frozenset[str]] = frozenset({"refuted", "entered-in-error"})


def load_bundle(source: BundleSource) -> Any:
    """Parse a bundle given as a ``fhir.resources`` Bundle, a dict, JSON text/bytes or a file path.

    A document that is not JSON, nests deeper than the strict loader allows, is not a Bundle or is not
    valid FHIR R4 raises :class:`MalformedFhirError` (naming the file when given a path); a missing file
    raises :class:`~zkhealth.errors.FileAccessError`.
    """
    from fhir.resources.R4B.bundle import Bundle

    if isinstance(source, Bundle):
        return source
    what = "FHIR bundle"
    if isinstance(source, Path):
        what = f"{source}: FHIR bundle"
        source = read_bytes(source, max_bytes=_MAX_BUNDLE_BYTES, error=MalformedFhirError, what=what)
    if isinstance(source, str | bytes):
        source = loads_strict(source, what=what, max_bytes=_MAX_BUNDLE_BYTES, error=MalformedFhirError)
    if not isinstance(source, dict):
        raise MalformedFhirError(f"{what}: expected a FHIR Bundle object, got {type(source).__name__}")
    check_tree(source, what=what, error=MalformedFhirError)
    if source.get("resourceType") != "Bundle":
        raise MalformedFhirError(f"{what}: the document is not a FHIR Bundle")
    try:
        return Bundle.model_validate(source)
    except Exception as exc:  # noqa: BLE001 - fhir.resources raises KeyError, ValueError, RecursionError...
        # for one unknown resourceType or bad field: whatever it raises, the bundle is not valid FHIR R4.
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise MalformedFhirError(f"{what}: invalid FHIR R4 Bundle: {first}") from None


def _utc_date(value: object, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FhirImportError(f"{where}: a dateTime with a time needs a zone offset")
        return value.astimezone(_dt.UTC).date()
    if isinstance(value, _dt.date):
        return value
    if value is None:
        raise FhirImportError(f"{where}: the date is missing")
    raise FhirImportError(f"{where}: {str(value)[:40]!r} is a partial date; a full date is required")


def _codes(concept: Any, system: str) -> list[str]:
    if concept is None or not concept.coding:
        return []
    return [c.code for c in concept.coding if c.system == system and c.code]


def _systems(concept: Any) -> list[str]:
    if concept is None or not concept.coding:
        return []
    return sorted({str(c.system) for c in concept.coding})


def _quantity(quantity: Any, unit: str, where: str) -> Decimal:
    if quantity is None or quantity.value is None:
        raise FhirImportError(f"{where}: valueQuantity with a value is required")
    if quantity.comparator is not None:
        raise FhirImportError(f"{where}: a value with comparator {quantity.comparator!r} is not exact")
    if quantity.system is not None and quantity.system != UCUM_SYSTEM:
        raise FhirImportError(f"{where}: unit system {quantity.system!r} is not UCUM ({UCUM_SYSTEM})")
    given = quantity.code if quantity.code is not None else quantity.unit
    if given != unit:
        raise FhirImportError(f"{where}: unsupported unit {given!r}; expected UCUM {unit!r}")
    return Decimal(quantity.value)


def claims_from_bundle(source: BundleSource, *, research_consent: bool = False) -> HealthClaims:
    """The claims a bundle supports (module docstring), validated against the schema.

    ``research_consent`` is not read from FHIR: the issuer states it. Raises :class:`FhirImportError`.
    """
    bundle = load_bundle(source)
    patients: list[Any] = []
    conditions: list[Any] = []
    observations: list[Any] = []
    for entry in bundle.entry or []:
        resource = entry.resource
        if resource is None:
            continue
        kind = resource.get_resource_type()
        if kind == "Patient":
            patients.append(resource)
        elif kind == "Condition":
            conditions.append(resource)
        elif kind == "Observation":
            observations.append(resource)
    if len(patients) != 1:
        raise FhirImportError(f"the bundle must hold exactly one Patient, found {len(patients)}")
    patient = patients[0]
    birth_date = _utc_date(patient.birthDate, "Patient.birthDate")
    gender = patient.gender or "unknown"
    if gender not in GENDERS:
        raise FhirImportError(f"Patient.gender {gender!r} is not an AdministrativeGender value")

    diagnoses: list[Diagnosis] = []
    for index, condition in enumerate(conditions):
        where = f"Condition[{index}]" + (f" ({condition.id})" if condition.id else "")
        if set(_codes(condition.verificationStatus, _VERIFICATION_SYSTEM)) & _SKIPPED_VERIFICATION:
            continue
        codes = _codes(condition.code, ICD10CM_SYSTEM)
        if not codes:
            raise FhirImportError(
                f"{where}: unsupported coding system(s) {_systems(condition.code)}; "
                f"an ICD-10-CM coding ({ICD10CM_SYSTEM}) is required"
            )
        if len(set(codes)) != 1:
            raise FhirImportError(f"{where}: more than one ICD-10-CM code")
        onset = _utc_date(condition.onsetDateTime, f"{where}.onsetDateTime")
        try:
            diagnoses.append(Diagnosis(code=codes[0], date=onset))
        except EncodingError as exc:
            raise FhirImportError(f"{where}: {exc}") from exc
    if len(diagnoses) > MAX_DIAGNOSES:
        raise FhirImportError(f"the bundle holds {len(diagnoses)} diagnoses; a credential holds {MAX_DIAGNOSES}")

    latest: dict[str, tuple[_dt.date, Decimal]] = {}
    for index, observation in enumerate(observations):
        where = f"Observation[{index}]" + (f" ({observation.id})" if observation.id else "")
        if observation.status not in _FINAL_STATUSES:
            continue
        found: list[tuple[str, str, Any]] = []
        for code in _codes(observation.code, LOINC_SYSTEM):
            if code in LOINC_CLAIMS:
                found.append((code, where, observation.valueQuantity))
        for position, component in enumerate(observation.component or []):
            for code in _codes(component.code, LOINC_SYSTEM):
                if code in LOINC_CLAIMS:
                    found.append((code, f"{where}.component[{position}]", component.valueQuantity))
        if not found:
            continue
        when = _utc_date(observation.effectiveDateTime, f"{where}.effectiveDateTime")
        for code, place, quantity in found:
            claim, unit = LOINC_CLAIMS[code]
            value = _quantity(quantity, unit, f"{place} (LOINC {code})")
            if claim not in latest or latest[claim][0] < when:
                latest[claim] = (when, value)

    systolic: int | None = None
    if "systolic_bp" in latest:
        value = latest["systolic_bp"][1]
        if value != value.to_integral_value():
            raise FhirImportError("systolic blood pressure must be a whole number of mm[Hg]")
        systolic = int(value)
    try:
        return HealthClaims(
            birth_date=birth_date,
            gender=gender,
            research_consent=research_consent,
            hba1c=LabValue(latest["hba1c"][1], latest["hba1c"][0]) if "hba1c" in latest else None,
            egfr=LabValue(latest["egfr"][1], latest["egfr"][0]) if "egfr" in latest else None,
            systolic_bp=systolic,
            diagnoses=tuple(diagnoses),
        )
    except EncodingError as exc:
        raise FhirImportError(f"the bundle's values do not fit the credential schema: {exc}") from exc
