"""Build a version-2 :class:`~zkhealth.credentials.record.PatientRecord` from a FHIR R4 Bundle.

What is read (everything else is ignored), one reader per resource type so that more can be added:

* **Patient** (exactly one): ``birthDate`` (a full date) and ``gender``.
* **Condition**: every coding in ICD-10-CM (``http://hl7.org/fhir/sid/icd-10-cm``) or SNOMED CT
  (``http://snomed.info/sct``) becomes one entry (a condition coded in both gets both); ``onsetDateTime``
  (or ``onsetPeriod.start``), ``abatementDateTime`` (or ``abatementPeriod.end``), ``clinicalStatus`` (default
  ``active``) and ``verificationStatus`` (default ``confirmed``; ``refuted`` and ``entered-in-error`` are
  skipped).
* **MedicationStatement** and **MedicationRequest**: ``medicationCodeableConcept`` codings in ATC
  (``http://www.whocc.no/atc``, 5-level substance codes) or RxNorm; ``effectivePeriod`` / ``effectiveDateTime``
  (statements) or ``authoredOn`` with ``dispenseRequest.validityPeriod.end`` (requests); status mapped to
  active / completed / stopped / on-hold / other (``entered-in-error``, ``draft``, ``cancelled``,
  ``not-taken`` are skipped).
* **Procedure**: ``code`` codings in ICD-10-PCS (``http://www.cms.gov/Medicare/Coding/ICD10``) or SNOMED CT;
  ``performedDateTime`` / ``performedPeriod.start``; status ``completed`` or other (``not-done``,
  ``entered-in-error`` skipped).
* **Observation** (and its components): LOINC codes of the observation table (codes.OBSERVATIONS, aliases
  included) with status final / amended / corrected / preliminary; ``valueQuantity`` in the table's canonical
  UCUM unit (no conversion, no rounding: another unit or more decimals is an error), or
  ``valueCodeableConcept`` for coded answers (smoking and pregnancy status).

**Completeness.** With ``complete=True`` the issuer attests that the record is the patient's whole record as of
``as_of``, so nothing may be dropped silently: a Condition, medication or Procedure with no supported coding,
or an observation of the table in another unit, raises :class:`FhirImportError`. With ``complete=False`` (a
partial document, which can satisfy inclusions only) such resources are skipped and listed in
:attr:`ImportResult.skipped`.

Dates with a time are converted to their UTC calendar date; a time without a zone offset is refused.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, Final

from zkhealth.credentials import codes
from zkhealth.credentials.fhir import load_bundle
from zkhealth.credentials.record import Condition, Medication, Observation, PatientRecord, Procedure
from zkhealth.credentials.schema import GENDERS
from zkhealth.errors import EncodingError, FhirImportError

__all__ = ["ImportResult", "record_from_bundle"]

_SYSTEM_OF: Final[dict[str, str]] = {system.uri: name for name, system in codes.SYSTEMS.items()}
_CLINICAL: Final[str] = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION: Final[str] = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_SKIPPED_VERIFICATION: Final[frozenset[str]] = frozenset({"refuted", "entered-in-error"})
_MEDICATION_STATUS: Final[dict[str, str]] = {
    "active": "active", "completed": "completed", "stopped": "stopped", "on-hold": "on-hold",
    "intended": "other", "unknown": "other",
}
_SKIPPED_MEDICATION: Final[frozenset[str]] = frozenset(
    {"entered-in-error", "draft", "cancelled", "not-taken"}
)
_SKIPPED_PROCEDURE: Final[frozenset[str]] = frozenset({"not-done", "entered-in-error", "preparation"})
_OBSERVATION_STATUS: Final[frozenset[str]] = frozenset({"final", "amended", "corrected", "preliminary"})


@dataclass
class ImportResult:
    """The imported record and what was skipped (partial records only), as ``"<resource>: <reason>"``."""

    record: PatientRecord
    skipped: list[str] = field(default_factory=list)


def _date(value: object, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FhirImportError(f"{where}: a dateTime with a time needs a zone offset")
        return value.astimezone(_dt.UTC).date()
    if isinstance(value, _dt.date):
        return value
    if value is None:
        raise FhirImportError(f"{where}: the date is missing")
    raise FhirImportError(f"{where}: {str(value)[:40]!r} is a partial date; a full date is required")


def _optional_date(value: object, where: str) -> _dt.date | None:
    return None if value is None else _date(value, where)


def _codings(concept: Any) -> list[tuple[str, str]]:
    """(system name, code) of every coding in a supported system."""
    if concept is None or not concept.coding:
        return []
    out = []
    for coding in concept.coding:
        name = _SYSTEM_OF.get(str(coding.system)) if coding.system else None
        if name is not None and coding.code:
            out.append((name, str(coding.code)))
    return out


def _status(concept: Any, system: str, default: str) -> str:
    if concept is None or not concept.coding:
        return default
    for coding in concept.coding:
        if coding.system == system and coding.code:
            return str(coding.code)
    return default


def _where(kind: str, index: int, resource: Any) -> str:
    return f"{kind}[{index}]" + (f" ({resource.id})" if getattr(resource, "id", None) else "")


class _Importer:
    def __init__(self, complete: bool) -> None:
        self.complete = complete
        self.skipped: list[str] = []
        self.conditions: list[Condition] = []
        self.medications: list[Medication] = []
        self.procedures: list[Procedure] = []
        self.observations: list[Observation] = []

    def unusable(self, where: str, reason: str) -> None:
        """A resource that cannot be recorded: an error on a complete record, a note on a partial one."""
        if self.complete:
            raise FhirImportError(f"{where}: {reason} (a complete record cannot leave it out)")
        self.skipped.append(f"{where}: {reason}")

    def add(self, where: str, make: Callable[[], object], target: list[Any]) -> None:
        try:
            target.append(make())
        except EncodingError as exc:
            self.unusable(where, str(exc))

    def condition(self, index: int, resource: Any) -> None:
        where = _where("Condition", index, resource)
        verification = _status(resource.verificationStatus, _VERIFICATION, "confirmed")
        if verification in _SKIPPED_VERIFICATION:
            return
        codings = [(s, c) for s, c in _codings(resource.code) if s in ("icd10cm", "snomed")]
        if not codings:
            self.unusable(where, "no ICD-10-CM or SNOMED CT coding")
            return
        onset_value = resource.onsetDateTime or (resource.onsetPeriod.start if resource.onsetPeriod else None)
        onset = _date(onset_value, f"{where}.onset")
        abatement_value = resource.abatementDateTime or (
            resource.abatementPeriod.end if resource.abatementPeriod else None)
        abatement = _optional_date(abatement_value, f"{where}.abatement")
        clinical = _status(resource.clinicalStatus, _CLINICAL, "active")
        for system, code in codings:
            self.add(where, partial(Condition, code, onset, system=system, abatement=abatement,
                                    clinical_status=clinical, verification_status=verification), self.conditions)

    def medication(self, index: int, resource: Any, kind: str) -> None:
        where = _where(kind, index, resource)
        status = str(resource.status or "unknown")
        if status in _SKIPPED_MEDICATION:
            return
        concept = getattr(resource, "medicationCodeableConcept", None)
        if concept is None and getattr(resource, "medication", None) is not None:
            concept = getattr(resource.medication, "concept", None)
        codings = [(s, c) for s, c in _codings(concept) if s in ("atc", "rxnorm")]
        if not codings:
            self.unusable(where, "no ATC or RxNorm coding")
            return
        if kind == "MedicationStatement":
            period = resource.effectivePeriod
            start_value = resource.effectiveDateTime or (period.start if period else None)
            end_value = period.end if period else None
        else:
            start_value = resource.authoredOn
            validity = resource.dispenseRequest.validityPeriod if resource.dispenseRequest else None
            end_value = validity.end if validity is not None and status != "active" else None
        start = _date(start_value, f"{where}.start")
        end = _optional_date(end_value, f"{where}.end")
        mapped = _MEDICATION_STATUS.get(status, "other")
        for system, code in codings:
            self.add(where, partial(Medication, code, start, system=system, end=end, status=mapped),
                     self.medications)

    def procedure(self, index: int, resource: Any) -> None:
        where = _where("Procedure", index, resource)
        status = str(resource.status or "unknown")
        if status in _SKIPPED_PROCEDURE:
            return
        codings = [(s, c) for s, c in _codings(resource.code) if s in ("icd10pcs", "snomed")]
        if not codings:
            self.unusable(where, "no ICD-10-PCS or SNOMED CT coding")
            return
        performed_value = resource.performedDateTime or (
            resource.performedPeriod.start if resource.performedPeriod else None)
        performed = _date(performed_value, f"{where}.performed")
        mapped = "completed" if status == "completed" else "other"
        for system, code in codings:
            self.add(where, partial(Procedure, code, performed, system=system, status=mapped), self.procedures)

    def observation(self, index: int, resource: Any) -> None:
        where = _where("Observation", index, resource)
        if resource.status not in _OBSERVATION_STATUS:
            return
        items: list[tuple[str, str, Any]] = [(where, code, resource) for s, code in _codings(resource.code)
                                              if s == "loinc"]
        for position, component in enumerate(resource.component or []):
            items += [(f"{where}.component[{position}]", code, component)
                      for s, code in _codings(component.code) if s == "loinc"]
        known = [(place, code, holder) for place, code, holder in items if codes.observation(code) is not None]
        if not known:
            return
        when_value = resource.effectiveDateTime or (
            resource.effectivePeriod.start if resource.effectivePeriod else None)
        when = _date(when_value, f"{where}.effective")
        status = "preliminary" if resource.status == "preliminary" else "final"
        for place, code, holder in known:
            concept = codes.observation(code)
            if concept is None:
                continue
            try:
                value, unit = _value(concept, holder, place)
            except FhirImportError as exc:
                self.unusable(place, str(exc).removeprefix(f"{place}: "))
                continue
            self.add(place, partial(Observation, concept.loinc, value, when, unit=unit, status=status),
                     self.observations)


def _value(concept: codes.ObservationConcept, holder: Any, where: str) -> tuple[Decimal | str, str]:
    if concept.kind == codes.ObservationKind.CODED:
        answer = holder.valueCodeableConcept
        if answer is None or not answer.coding:
            raise FhirImportError(f"{where}: {concept.name} needs a valueCodeableConcept")
        for coding in answer.coding:
            if coding.code and str(coding.code) in concept.answer_codes:
                return str(coding.code), ""
        raise FhirImportError(f"{where}: {concept.name} answer is not one of the known answer codes")
    quantity = holder.valueQuantity
    if quantity is None or quantity.value is None:
        raise FhirImportError(f"{where}: valueQuantity with a value is required")
    if quantity.comparator is not None:
        raise FhirImportError(f"{where}: a value with comparator {quantity.comparator!r} is not exact")
    given = quantity.code if quantity.code is not None else quantity.unit
    if given != concept.unit:
        raise FhirImportError(f"{where}: unit {given!r}; {concept.name} is recorded in UCUM {concept.unit!r}")
    return Decimal(str(quantity.value)), concept.unit


def record_from_bundle(
    source: object,
    *,
    complete: bool = False,
    as_of: _dt.date | None = None,
    research_consent: bool = False,
) -> ImportResult:
    """Import a bundle (dict, JSON text, path or ``fhir.resources`` Bundle) as a version-2 record.

    ``complete`` and ``research_consent`` are the issuer's statements (not read from FHIR); ``as_of`` defaults
    to the latest clinical date. Raises :class:`FhirImportError` naming the resource (module docstring).
    """
    bundle = load_bundle(source)
    importer = _Importer(complete)
    patients: list[Any] = []
    counters: dict[str, int] = {}
    for entry in bundle.entry or []:
        resource = entry.resource
        if resource is None:
            continue
        kind = resource.get_resource_type()
        index = counters.get(kind, 0)
        counters[kind] = index + 1
        if kind == "Patient":
            patients.append(resource)
        elif kind == "Condition":
            importer.condition(index, resource)
        elif kind in ("MedicationStatement", "MedicationRequest"):
            importer.medication(index, resource, kind)
        elif kind == "Procedure":
            importer.procedure(index, resource)
        elif kind == "Observation":
            importer.observation(index, resource)
    if len(patients) != 1:
        raise FhirImportError(f"the bundle must hold exactly one Patient, found {len(patients)}")
    patient = patients[0]
    birth = _date(patient.birthDate, "Patient.birthDate")
    gender = patient.gender or "unknown"
    if gender not in GENDERS:
        raise FhirImportError(f"Patient.gender {gender!r} is not an AdministrativeGender value")
    try:
        record = PatientRecord(
            birth_date=birth, gender=gender, research_consent=research_consent, complete=complete, as_of=as_of,
            conditions=tuple(importer.conditions), medications=tuple(importer.medications),
            procedures=tuple(importer.procedures), observations=tuple(importer.observations),
        )
    except EncodingError as exc:
        raise FhirImportError(f"the bundle does not fit credential schema version 2: {exc}") from exc
    return ImportResult(record, importer.skipped)
