"""FHIR R4 import of real exports into a version 2 :class:`~zkhealth.credentials.record.PatientRecord`.

Bundles as EHRs and generators write them: many resources, several codings per concept, repeated codes,
statuses, abatement dates, units in other UCUM forms, values with decimals or comparators. Every resource of
the bundle lands in exactly one bucket of the :class:`ImportSummary`, so nothing is dropped silently:

* **kept**: recorded with the codes and values as written (a SNOMED CT-only condition is kept as the SNOMED
  concept; criteria may name SNOMED concepts or lists of them);
* **mapped**: recorded after a stated mapping (a WHO ICD-10 code that exists unchanged in ICD-10-CM, a unit
  converted, a value rounded or censored, a LOINC alias: :mod:`zkhealth.credentials.units`);
* **unmappable**: clinical content the credential cannot represent: a code system or LOINC code it has no
  place for, a unit that does not convert, a missing date, a kind with no set (immunizations, allergies,
  devices). Listed one by one with the reason; ``strict=True`` refuses the bundle if there is any;
* **excluded**: left out by rule, listed with the rule: entered-in-error and refuted entries, cancelled,
  draft, not-done or intended orders;
* **not imported**: resources that are not clinical facts of the record (encounters, claims, organizations,
  practitioners, the grouping resources such as DiagnosticReport whose results are imported on their own),
  counted per kind.

Rules, per resource kind (codes.py holds the tables they feed):

* ``Patient``: exactly one; a full ``birthDate``; ``gender`` (absent: ``unknown``). A deceased patient
  (``deceasedBoolean`` true or a ``deceasedDateTime``) is refused with :class:`DeceasedPatientError`.
* ``Condition``: one entry per usable coding (ICD-10-CM as is; WHO ICD-10 mapped when the code exists in
  ICD-10-CM; SNOMED CT kept). No SNOMED CT to ICD-10-CM map is applied: the maintained map (NLM's) comes with
  the UMLS licence and is not available to us offline, so a SNOMED-only condition stays a SNOMED entry.
  Onset: ``onsetDateTime``, ``onsetPeriod.start``, else ``recordedDate``; none is unmappable. Abatement:
  ``abatementDateTime`` or ``abatementPeriod.end``. Clinical status as written; absent: ``resolved`` when there
  is an abatement, else ``unknown``. Verification absent: ``confirmed``; refuted and entered-in-error excluded.
* ``MedicationRequest`` / ``MedicationStatement`` / ``MedicationAdministration`` / ``MedicationDispense``:
  RxNorm or ATC codings (``medicationCodeableConcept`` or a referenced ``Medication``); start from
  ``authoredOn`` / ``effective[x]`` / ``whenHandedOver``, end from ``effectivePeriod.end``; statuses to
  active, completed, stopped, on-hold or other; cancelled, draft, intended, not-taken, not-done and
  entered-in-error excluded. RxNorm codes are recorded as written (an export's clinical-drug RxCUI is not
  mapped to its ingredient: RxNorm's relationships are not shipped).
* ``Procedure``: SNOMED CT or ICD-10-PCS codings (CPT is licensed: unmappable); ``performedDateTime`` or
  ``performedPeriod.start``; completed, or other (in-progress, on-hold, stopped, unknown); preparation,
  not-done and entered-in-error excluded.
* ``Observation``: LOINC codes of the observation table (top level and components, so a blood-pressure panel
  gives its systolic and diastolic values); quantities converted and rounded by
  :func:`zkhealth.credentials.units.to_canonical`; coded answers (smoking, pregnancy) by answer code; final,
  amended and corrected as ``final``, preliminary kept; registered, cancelled, entered-in-error and unknown
  excluded. A LOINC code outside the table is unmappable (listed), not guessed.

Dates: a ``dateTime`` with a zone is taken as its UTC calendar date; a time without a zone (not valid FHIR)
leaves the date unknown, so the entry is listed as unmappable; a partial date (``2019`` or ``2019-03``) is taken
as its first day (counted as an imprecise date in the summary).

Completeness (header ``record_complete``): a ``document`` bundle (an EHDS patient summary, a lab report, an
imaging report) or a SMART Health Card is a **partial** record; any other bundle is taken as the patient's
**full export** as of its ``timestamp`` (or of its latest clinical date), unless the caller says
``complete=False``. Entries dated after that day are unmappable. A record is only complete if nothing that
criteria could name was left out: an unmappable condition, medication or procedure, or an observation of a
table LOINC code whose value could not be recorded, would let a prover show "no such diagnosis" or pick an
older value as the latest. Such an export is issued as a partial record (the summary says why), or refused
with :class:`UnmappedContentError` when the caller asked for ``complete=True``. Resources of kinds the record
has no set for (immunizations, allergies) and observations of codes outside the table cannot be named by
criteria, so they do not affect completeness.

Untrusted input: the bundle is read with a byte limit (:data:`MAX_BUNDLE_BYTES`) before parsing, strict JSON
(duplicate keys, NaN, nesting deeper than 64 refused) and at most :data:`MAX_ENTRIES` entries; errors are
:class:`~zkhealth.errors.FhirImportError` subclasses naming the file and the entry.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from zkhealth._json import loads_strict
from zkhealth.credentials import codes, icd10
from zkhealth.credentials.record import Condition, Medication, Observation, PatientRecord, Procedure
from zkhealth.credentials.schema import GENDERS
from zkhealth.credentials.shc import TrustedCardIssuers, read_health_cards
from zkhealth.credentials.units import HBA1C_IFCC_LOINC, to_canonical
from zkhealth.errors import (
    DeceasedPatientError,
    EncodingError,
    FhirImportError,
    InputLimitError,
    RecordImportError,
    UnitConversionError,
    UnmappedContentError,
)

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_ENTRIES",
    "ImportResult",
    "ImportSummary",
    "KindCounts",
    "Listed",
    "import_bundle",
    "import_health_cards",
    "load_bundle_json",
]

#: A bundle file is at most 256 MiB (a long Synthea life is about 10 MiB).
MAX_BUNDLE_BYTES: Final[int] = 256 << 20
#: At most 200,000 entries in a bundle.
MAX_ENTRIES: Final[int] = 200_000

ICD10CM: Final[str] = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO: Final[str] = "http://hl7.org/fhir/sid/icd-10"
SNOMED: Final[str] = "http://snomed.info/sct"
LOINC: Final[str] = "http://loinc.org"
RXNORM: Final[str] = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC: Final[str] = "http://www.whocc.no/atc"
ICD10PCS: Final[str] = "http://www.cms.gov/Medicare/Coding/ICD10"
UCUM: Final[str] = "http://unitsofmeasure.org"

_SHORT_SYSTEM: Final[Mapping[str, str]] = {
    ICD10CM: "icd10cm", ICD10_WHO: "icd10", SNOMED: "snomed", LOINC: "loinc", RXNORM: "rxnorm", ATC: "atc",
    ICD10PCS: "icd10pcs", "http://hl7.org/fhir/sid/cvx": "cvx", "http://www.ama-assn.org/go/cpt": "cpt",
}

#: Clinical kinds the version 2 record has no set for: listed as unmappable.
NO_SET_KINDS: Final[frozenset[str]] = frozenset(
    {"Immunization", "AllergyIntolerance", "Device", "DeviceUseStatement", "FamilyMemberHistory", "RiskAssessment",
     "ClinicalImpression", "NutritionOrder", "AdverseEvent"}
)
#: Encounter classes (v3 ActCode) of a hospital admission.
_INPATIENT_CLASSES: Final[frozenset[str]] = frozenset({"IMP", "ACUTE", "NONAC"})


def _encounter_class(resource: Mapping[str, Any]) -> str:
    """An Encounter's class code (R4 ``class`` is a Coding; R5 a list of CodeableConcepts), or ``""``."""
    value = resource.get("class")
    if isinstance(value, dict):
        code = value.get("code")
        return code if isinstance(code, str) else ""
    if isinstance(value, list):
        for concept in value:
            for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
                if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                    return str(coding["code"])
    return ""


_MEDICATION_KINDS: Final[frozenset[str]] = frozenset(
    {"MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense"}
)

_CONDITION_EXCLUDED: Final[frozenset[str]] = frozenset({"refuted", "entered-in-error"})
_MEDICATION_STATUS: Final[Mapping[str, str | None]] = {
    # FHIR status -> record status; None: excluded by rule.
    "active": "active", "in-progress": "active", "completed": "completed", "stopped": "stopped",
    "on-hold": "on-hold", "unknown": "other", "cancelled": None, "draft": None, "entered-in-error": None,
    "intended": None, "not-taken": None, "not-done": None, "preparation": None, "declined": None,
}
_PROCEDURE_STATUS: Final[Mapping[str, str | None]] = {
    "completed": "completed", "in-progress": "other", "on-hold": "other", "stopped": "other", "unknown": "other",
    "preparation": None, "not-done": None, "entered-in-error": None,
}
_OBSERVATION_STATUS: Final[Mapping[str, str | None]] = {
    "final": "final", "amended": "amended", "corrected": "corrected", "preliminary": "preliminary",
    "registered": None, "cancelled": None, "entered-in-error": None, "unknown": None,
}
_NO_DATE: Final[str] = "(none, or a dateTime with a time but no zone)"
_DATE = re.compile(
    r"(?P<y>[0-9]{4})(-(?P<m>[0-9]{2})(-(?P<d>[0-9]{2})(T(?P<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
    re.ASCII,
)


# --------------------------------------------------------------------------- the summary


@dataclass
class KindCounts:
    """What became of the resources of one kind. ``total`` is the sum of the five buckets."""

    total: int = 0
    kept: int = 0
    mapped: int = 0
    unmappable: int = 0
    excluded: int = 0
    not_imported: int = 0

    def to_json(self) -> dict[str, int]:
        return {name: value for name, value in self.__dict__.items() if value or name == "total"}


@dataclass(frozen=True)
class Listed:
    """One resource (or part of one) listed in the summary: where it is, what it holds and why."""

    kind: str
    where: str
    reason: str
    codes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "reason": self.reason, "codes": list(self.codes)}


@dataclass
class ImportSummary:
    """The import summary: per kind counts, the entries produced per set, and every listed resource."""

    source: str
    bundle_type: str
    record_kind: str
    complete: bool = False
    as_of: _dt.date | None = None
    card_issuer: str | None = None
    completeness_note: str | None = None
    kinds: dict[str, KindCounts] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("conditions", "medications", "procedures", "observations"), 0))
    values: Counter[str] = field(default_factory=Counter)
    unmappable: list[Listed] = field(default_factory=list)
    excluded: list[Listed] = field(default_factory=list)

    def count(self, kind: str, bucket: str) -> None:
        counts = self.kinds.setdefault(kind, KindCounts())
        counts.total += 1
        setattr(counts, bucket, getattr(counts, bucket) + 1)

    @property
    def unmappable_count(self) -> int:
        return sum(counts.unmappable for counts in self.kinds.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "bundleType": self.bundle_type,
            "recordKind": self.record_kind,
            "complete": self.complete,
            "asOf": None if self.as_of is None else self.as_of.isoformat(),
            **({"cardIssuer": self.card_issuer} if self.card_issuer is not None else {}),
            **({"completenessNote": self.completeness_note} if self.completeness_note is not None else {}),
            "kinds": {kind: counts.to_json() for kind, counts in sorted(self.kinds.items())},
            "entries": dict(self.entries),
            "values": dict(sorted(self.values.items())),
            "unmappable": [item.to_json() for item in self.unmappable],
            "excluded": [item.to_json() for item in self.excluded],
        }

    def render(self, *, limit: int = 12) -> str:
        """A human-readable summary: a table per kind, then the unmappable and excluded resources by reason."""
        lines = [f"{self.source}: SMART Health Card from {self.card_issuer}" if self.card_issuer
                 else f"{self.source}: {self.record_kind} ({self.bundle_type} bundle)"]
        lines.append(f"record: {'complete' if self.complete else 'partial'} as of "
                     f"{self.as_of.isoformat() if self.as_of else '-'}; entries: "
                     + ", ".join(f"{count} {name}" for name, count in self.entries.items()))
        if self.completeness_note:
            lines.append(self.completeness_note)
        if self.values:
            lines.append("values: " + ", ".join(f"{count} {name}" for name, count in sorted(self.values.items())))
        lines.append(f"{'kind':<28}{'total':>7}{'kept':>7}{'mapped':>8}{'unmapped':>10}{'excluded':>10}"
                     f"{'not imported':>14}")
        for kind, counts in sorted(self.kinds.items()):
            lines.append(f"{kind:<28}{counts.total:>7}{counts.kept:>7}{counts.mapped:>8}{counts.unmappable:>10}"
                         f"{counts.excluded:>10}{counts.not_imported:>14}")
        for title, items in (("unmappable", self.unmappable), ("excluded", self.excluded)):
            if not items:
                continue
            grouped = Counter((item.kind, item.reason) for item in items)
            lines.append(f"{title} ({len(items)}):")
            for (kind, reason), count in grouped.most_common(limit):
                lines.append(f"  {count:>5} x {kind}: {reason}")
            if len(grouped) > limit:
                lines.append(f"  ... and {len(grouped) - limit} more reasons (--json lists every one)")
        return "\n".join(lines)


@dataclass(frozen=True)
class ImportResult:
    """The record built from a bundle, and its summary."""

    record: PatientRecord
    summary: ImportSummary


# --------------------------------------------------------------------------- reading


def load_bundle_json(source: object, *, where: str | None = None) -> tuple[dict[str, Any], str]:
    """A bundle as a dict, from a path, JSON text/bytes or a dict; ``(bundle, name of the source)``.

    Refuses files above :data:`MAX_BUNDLE_BYTES` before reading them, and non-bundles.
    """
    name = where or "bundle"
    data: object = source
    if isinstance(source, Path):
        name = where or str(source)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise FhirImportError(f"{name}: cannot read the bundle ({exc.strerror})") from exc
        if size > MAX_BUNDLE_BYTES:
            raise InputLimitError(f"{name}: a bundle is at most {MAX_BUNDLE_BYTES} bytes, this one has {size}")
        data = source.read_bytes()
    if isinstance(data, str | bytes):
        try:
            data = loads_strict(data, max_bytes=MAX_BUNDLE_BYTES)
        except EncodingError as exc:
            raise FhirImportError(f"{name}: {exc}") from exc
    if not isinstance(data, dict):
        raise FhirImportError(f"{name}: a FHIR Bundle is a JSON object")
    if data.get("resourceType") != "Bundle":
        raise FhirImportError(f"{name}: not a FHIR Bundle (resourceType {str(data.get('resourceType'))[:40]!r})")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise FhirImportError(f"{name}: Bundle.entry must be a list")
    if len(entries) > MAX_ENTRIES:
        raise InputLimitError(f"{name}: more than {MAX_ENTRIES} entries")
    return data, name


def _fhir_date(value: object) -> tuple[_dt.date, bool] | None:
    """``(UTC calendar date, imprecise)`` of a FHIR date/dateTime/instant, or ``None`` if it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    try:
        year = int(match["y"])
        if match["m"] is None:
            return _dt.date(year, 1, 1), True
        if match["d"] is None:
            return _dt.date(year, int(match["m"]), 1), True
        day = _dt.date(year, int(match["m"]), int(match["d"]))
        if match["time"] is None:
            return day, False
        if match["zone"] is None:
            return None  # FHIR: a dateTime with a time SHALL have its zone; which day it was is unknown
        moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(_dt.UTC).date(), False
    except ValueError:
        return None


def _codings(concept: object) -> list[tuple[str, str]]:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    out = []
    for coding in concept["coding"]:
        if isinstance(coding, dict) and isinstance(coding.get("system"), str) and isinstance(coding.get("code"), str):
            pair = (coding["system"], coding["code"])
            if pair not in out:
                out.append(pair)
    return out


def _label(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(f"{_SHORT_SYSTEM.get(system, system)}:{code}" for system, code in pairs)


class _MalformedField(Exception):
    """A field of a resource has the wrong JSON type; the resource is listed as unmappable, never guessed at."""


def _sub(resource: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``resource[name]`` as an object (``{}`` when absent); :class:`_MalformedField` for another JSON type."""
    value = resource.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _MalformedField(name)
    return value


def _list(resource: Mapping[str, Any], name: str) -> list[Any]:
    value = resource.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _MalformedField(name)
    return value


def _text(resource: Mapping[str, Any], name: str, default: str) -> str:
    value = resource.get(name, default)
    if not isinstance(value, str):
        raise _MalformedField(name)
    return value


def _before_birth(reason: str) -> bool:
    """Whether an out-of-range reason is a date before birth (bad data) rather than after the as-of day."""
    return "before the birth date" in reason


def _uncoded(concept: object) -> str:
    """Why a concept gave no usable coding: it has none, or only free text."""
    text = concept.get("text") if isinstance(concept, dict) else None
    return f"free text only ({text[:60]!r}), no code" if isinstance(text, str) else "no coding"


def _status_code(concept: object) -> str | None:
    for _, code in _codings(concept):
        return code
    return None


# --------------------------------------------------------------------------- the importer


class _Importer:
    def __init__(self, bundle: dict[str, Any], name: str, *, complete: bool | None, card_issuer: str | None,
                 today: _dt.date, as_of: _dt.date | None) -> None:
        self.bundle = bundle
        self.name = name
        self.today = today
        bundle_type = str(bundle.get("type", "unknown"))
        if card_issuer is not None:
            record_kind, default_complete = "SMART Health Card", False
        elif bundle_type == "document":
            record_kind, default_complete = "document", False
        else:
            record_kind, default_complete = "patient export", True
        self.complete = default_complete if complete is None else complete
        self.summary = ImportSummary(source=name, bundle_type=bundle_type, record_kind=record_kind,
                                     card_issuer=card_issuer)
        self.conditions: list[tuple[Condition, str]] = []
        self.medications: list[tuple[Medication, str]] = []
        self.procedures: list[tuple[Procedure, str]] = []
        self.observations: list[tuple[Observation, str]] = []
        self.medication_codes: dict[str, object] = {}
        self.birth_date: _dt.date | None = None
        self.complete_requested = complete is True
        self.left_out: list[Listed] = []
        self.stated_as_of = as_of if as_of is not None else self._stated_as_of()
        self.last_day = min(self.stated_as_of or today, today)

    # -- helpers

    def _where(self, index: int, resource: Mapping[str, Any]) -> str:
        rid = resource.get("id")
        return f"{self.name}: entry[{index}] {resource.get('resourceType')}" + (
            f"/{str(rid)[:64]}" if isinstance(rid, str) else "")

    def _date(self, value: object) -> _dt.date | None:
        parsed = _fhir_date(value)
        if parsed is None:
            return None
        if parsed[1]:
            self.summary.values["imprecise dates"] += 1
        return parsed[0]

    def _unmappable(self, kind: str, where: str, reason: str, pairs: Iterable[tuple[str, str]] = (), *,
                    namable: bool = True) -> None:
        """List a resource as unmappable. ``namable``: it holds something criteria could name (a condition,
        medication, procedure, or an observation of the table), so a record that leaves it out is not complete."""
        listed = Listed(kind, where, reason, _label(pairs))
        self.summary.unmappable.append(listed)
        self.summary.count(kind, "unmappable")
        if namable:
            self.left_out.append(listed)

    def _excluded(self, kind: str, where: str, reason: str, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.summary.excluded.append(Listed(kind, where, reason, _label(pairs)))
        self.summary.count(kind, "excluded")

    def _outside(self, days: Iterable[_dt.date | None]) -> str | None:
        """Why an entry with these dates cannot be recorded, or ``None``."""
        for day in days:
            if day is None:
                continue
            if day > self.last_day:
                return f"dated {day}, after the record's as-of day {self.last_day}"
            if self.birth_date is not None and day < self.birth_date:
                return f"dated {day}, before the birth date {self.birth_date}"
        return None

    # -- patient

    def patient(self, resources: list[tuple[int, dict[str, Any]]]) -> tuple[_dt.date, str]:
        patients = [(index, resource) for index, resource in resources if resource.get("resourceType") == "Patient"]
        if len(patients) != 1:
            raise RecordImportError(f"{self.name}: the bundle must hold exactly one Patient, found {len(patients)}")
        index, patient = patients[0]
        where = self._where(index, patient)
        if patient.get("deceasedBoolean") is True or "deceasedDateTime" in patient:
            raise DeceasedPatientError(f"{where}: the patient is deceased "
                                       f"({patient.get('deceasedDateTime', 'deceasedBoolean true')}); no "
                                       "credential is issued for a deceased patient")
        parsed = _fhir_date(patient.get("birthDate"))
        if parsed is None or parsed[1] or "T" in str(patient.get("birthDate")):
            raise RecordImportError(f"{where}: birthDate must be a full date (YYYY-MM-DD), got "
                                    f"{str(patient.get('birthDate'))[:40]!r}")
        gender = patient.get("gender", "unknown")
        if gender not in GENDERS:
            raise RecordImportError(f"{where}: gender {str(gender)[:40]!r} is not an AdministrativeGender value")
        self.summary.count("Patient", "kept")
        return parsed[0], gender

    # -- conditions

    def condition(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs = _codings(resource.get("code"))
        verification = _status_code(resource.get("verificationStatus")) or "confirmed"
        if verification in _CONDITION_EXCLUDED:
            self._excluded("Condition", where, f"verification status {verification}", pairs)
            return
        onset = self._date(resource.get("onsetDateTime")) or self._date(
            _sub(resource, "onsetPeriod").get("start")) or self._date(resource.get("recordedDate"))
        if onset is None:
            self._unmappable("Condition", where, f"no onset or recorded date {_NO_DATE}", pairs)
            return
        abatement = self._date(resource.get("abatementDateTime")) or self._date(
            _sub(resource, "abatementPeriod").get("end"))
        outside = self._outside([onset, abatement])
        if outside is not None:
            self._unmappable("Condition", where, outside, pairs, namable=_before_birth(outside))
            return
        clinical = _status_code(resource.get("clinicalStatus")) or (
            "resolved" if abatement is not None or resource.get("abatementBoolean") is True else "unknown")
        entries: list[tuple[Condition, bool]] = []
        problems: list[str] = []
        for system, code in pairs:
            mapped = False
            if system == ICD10CM:
                target = "icd10cm"
            elif system == ICD10_WHO:
                target, mapped = "icd10cm", True
            elif system == SNOMED:
                target = "snomed"
            else:
                problems.append(f"code system {system} has no place in the record")
                continue
            try:
                if target == "icd10cm":
                    code = icd10.normalize_code(code)
                condition = Condition(code=code, onset=onset, system=target, abatement=abatement,
                                      clinical_status=clinical, verification_status=verification)
            except EncodingError as exc:
                problems.append(f"{_SHORT_SYSTEM.get(system, system)}:{code}: {exc}")
                continue
            if all(existing != condition for existing, _ in entries):
                entries.append((condition, mapped))
        if not entries:
            self._unmappable("Condition", where, "; ".join(problems) or _uncoded(resource.get("code")), pairs)
            return
        self.conditions.extend((condition, where) for condition, _ in entries)
        self.summary.count("Condition", "mapped" if any(mapped for _, mapped in entries) else "kept")

    # -- medications

    def medication(self, kind: str, where: str, resource: Mapping[str, Any]) -> None:
        concept = resource.get("medicationCodeableConcept")
        reference = _sub(resource, "medicationReference").get("reference")
        if concept is None and isinstance(reference, str):
            concept = self.medication_codes.get(reference)
            if concept is None and reference.startswith("#"):
                for contained in _list(resource, "contained"):
                    if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                        concept = contained.get("code")
        pairs = _codings(concept)
        status_text = _text(resource, "status", "unknown")
        status = _MEDICATION_STATUS.get(status_text, "other")
        if status is None:
            self._excluded(kind, where, f"status {status_text}", pairs)
            return
        period = _sub(resource, "effectivePeriod")
        start = (self._date(resource.get("authoredOn")) or self._date(resource.get("effectiveDateTime"))
                 or self._date(period.get("start")) or self._date(resource.get("whenHandedOver"))
                 or self._date(resource.get("dateAsserted")))
        end = self._date(period.get("end"))
        if start is None:
            self._unmappable(kind, where, f"no start date {_NO_DATE}", pairs)
            return
        outside = self._outside([start, end])
        if outside is not None:
            self._unmappable(kind, where, outside, pairs, namable=_before_birth(outside))
            return
        entries: list[Medication] = []
        problems: list[str] = []
        for system, code in pairs:
            target = {RXNORM: "rxnorm", ATC: "atc"}.get(system)
            if target is None:
                problems.append(f"code system {system} has no place in the record")
                continue
            try:
                entries.append(Medication(code=code, start=start, system=target, end=end, status=status))
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
        if not entries:
            self._unmappable(kind, where, "; ".join(problems) or _uncoded(concept), pairs)
            return
        self.medications.extend((entry, where) for entry in entries)
        self.summary.count(kind, "kept")

    # -- procedures

    def procedure(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs = _codings(resource.get("code"))
        status_text = _text(resource, "status", "unknown")
        status = _PROCEDURE_STATUS.get(status_text, "other")
        if status is None:
            self._excluded("Procedure", where, f"status {status_text}", pairs)
            return
        performed = self._date(resource.get("performedDateTime")) or self._date(
            _sub(resource, "performedPeriod").get("start"))
        if performed is None:
            self._unmappable("Procedure", where, f"no performed date {_NO_DATE}", pairs)
            return
        outside = self._outside([performed])
        if outside is not None:
            self._unmappable("Procedure", where, outside, pairs, namable=_before_birth(outside))
            return
        entries: list[Procedure] = []
        problems: list[str] = []
        for system, code in pairs:
            target = {SNOMED: "snomed", ICD10PCS: "icd10pcs"}.get(system)
            if target is None:
                problems.append(f"code system {system} has no place in the record")
                continue
            try:
                entries.append(Procedure(code=code, performed=performed, system=target, status=status))
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
        if not entries:
            self._unmappable("Procedure", where, "; ".join(problems) or _uncoded(resource.get("code")), pairs)
            return
        self.procedures.extend((entry, where) for entry in entries)
        self.summary.count("Procedure", "kept")

    # -- observations

    def _observation_value(self, loinc: str, concept: codes.ObservationConcept, holder: Mapping[str, Any],
                           effective: _dt.date, status: str) -> tuple[Observation | None, bool, str]:
        """``(entry or None, mapped, problem)`` for one LOINC-coded value holder (resource or component)."""
        if concept.kind == codes.ObservationKind.CODED:
            answers = _codings(holder.get("valueCodeableConcept"))
            for _, answer in answers:
                if answer in concept.answer_codes:
                    return Observation(code=concept.loinc, value=answer, effective=effective, unit="",
                                       status=status), False, ""
            return None, False, f"answer {_label(answers) or 'absent'} is not one of {concept.name}'s answers"
        quantity = holder.get("valueQuantity")
        if not isinstance(quantity, dict) or "value" not in quantity:
            return None, False, "no quantity value" + (
                " (dataAbsentReason)" if "dataAbsentReason" in holder else "")
        unit_system = quantity.get("system")
        unit = quantity.get("code") if unit_system == UCUM else None
        if unit is None:
            unit = quantity.get("code") if unit_system is None and "code" in quantity else quantity.get("unit", "")
        if unit_system not in (None, UCUM):
            return None, False, f"unit system {unit_system} is not UCUM"
        value = quantity["value"]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, False, "the quantity value is not a number"
        try:
            canonical = to_canonical(str(value), str(unit or ""), loinc=loinc, canonical_unit=concept.unit,
                                     decimals=concept.decimals, comparator=_text(quantity, "comparator", "") or None)
            entry = Observation(code=concept.loinc, value=canonical.value, effective=effective, unit=concept.unit,
                                status=status)
        except (UnitConversionError, EncodingError) as exc:
            return None, False, str(exc)
        for flag, label in ((canonical.converted, "converted"), (canonical.rounded, "rounded"),
                            (canonical.censored is not None, "censored")):
            if flag:
                self.summary.values[label] += 1
        mapped = canonical.converted or canonical.rounded or canonical.censored is not None or loinc != concept.loinc
        return entry, mapped, ""

    def observation(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs = _codings(resource.get("code"))
        status_text = _text(resource, "status", "unknown")
        status = _OBSERVATION_STATUS.get(status_text, None)
        if status is None:
            self._excluded("Observation", where, f"status {status_text}", pairs)
            return
        effective = (self._date(resource.get("effectiveDateTime")) or self._date(
            _sub(resource, "effectivePeriod").get("start")) or self._date(resource.get("effectiveInstant"))
                     or self._date(resource.get("issued")))
        holders: list[tuple[str, Mapping[str, Any], list[tuple[str, str]]]] = [("", resource, pairs)]
        for position, component in enumerate(_list(resource, "component")):
            if isinstance(component, dict):
                holders.append((f".component[{position}]", component, _codings(component.get("code"))))
        entries: list[tuple[Observation, bool]] = []
        problems: list[str] = []
        known = False
        for suffix, holder, holder_pairs in holders:
            for system, code in holder_pairs:
                if system != LOINC:
                    continue
                lookup = "4548-4" if code == HBA1C_IFCC_LOINC else code
                concept = codes.observation(lookup)
                if concept is None:
                    continue
                known = True
                if effective is None:
                    problems.append(f"no effective date {_NO_DATE}")
                    continue
                outside = self._outside([effective])
                if outside is not None:
                    problems.append(outside)
                    continue
                entry, mapped, problem = self._observation_value(code, concept, holder, effective, status)
                if entry is None:
                    problems.append(f"loinc:{code}{suffix}: {problem}")
                else:
                    entries.append((entry, mapped))
                break
        all_pairs = [pair for _, _, holder_pairs in holders for pair in holder_pairs]
        if not entries:
            reason = "; ".join(dict.fromkeys(problems)) if known else "LOINC code not in the observation table"
            namable = known and not all("after the record's as-of day" in problem for problem in problems)
            self._unmappable("Observation", where, reason, all_pairs, namable=namable)
            return
        self.observations.extend((entry, where) for entry, _ in entries)
        self.summary.count("Observation", "mapped" if any(mapped for _, mapped in entries) else "kept")

    # -- the whole bundle

    def _resource(self, kind: str, where: str, resource: Mapping[str, Any],
                  handlers: Mapping[str, Callable[[str, Mapping[str, Any]], None]]) -> None:
        if kind in handlers:
            handlers[kind](where, resource)
        elif kind in _MEDICATION_KINDS:
            self.medication(kind, where, resource)
        elif kind in NO_SET_KINDS:
            status = _text(resource, "status", "")
            if status in ("entered-in-error", "not-done"):
                self._excluded(kind, where, f"status {status}", _codings(resource.get("vaccineCode")))
            else:
                pairs = _codings(resource.get("code")) or _codings(resource.get("vaccineCode")) or _codings(
                    resource.get("type"))
                # Allergies are recorded (record.Allergy) and criteria name them; until this importer maps
                # AllergyIntolerance, one left out makes the record partial rather than silently allergy-free.
                allergy = kind == "AllergyIntolerance"
                reason = "allergies are not imported yet" if allergy else f"the record has no set for {kind}"
                self._unmappable(kind, where, reason, pairs, namable=allergy)
        elif kind == "Encounter" and _encounter_class(resource) in _INPATIENT_CLASSES:
            # Hospital admissions are recorded (record.Encounter) and criteria name them; the same rule.
            self._unmappable(kind, where, "hospital admissions are not imported yet",
                             _codings(resource.get("reasonCode")), namable=True)
        else:
            self.summary.count(kind, "not_imported")

    def run(self, *, research_consent: bool, strict: bool) -> ImportResult:
        resources: list[tuple[int, dict[str, Any]]] = []
        for index, entry in enumerate(self.bundle.get("entry", [])):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise FhirImportError(f"{self.name}: entry[{index}] has no resource")
            resources.append((index, resource))
            if resource["resourceType"] == "Medication":
                full_url = entry.get("fullUrl")
                for key in (full_url, f"Medication/{resource.get('id')}"):
                    if isinstance(key, str):
                        self.medication_codes[key] = resource.get("code")
        birth_date, gender = self.patient(resources)
        self.birth_date = birth_date
        handlers: dict[str, Callable[[str, Mapping[str, Any]], None]] = {
            "Condition": self.condition, "Procedure": self.procedure, "Observation": self.observation,
        }
        for index, resource in resources:
            kind = resource["resourceType"]
            if kind == "Patient":
                continue
            where = self._where(index, resource)
            try:
                self._resource(kind, where, resource, handlers)
            except _MalformedField as malformed:
                self._unmappable(kind, where, f"malformed field {malformed} (wrong JSON type)",
                                 namable=kind not in NO_SET_KINDS)
        return self._finish(birth_date, gender, research_consent=research_consent, strict=strict)

    def _stated_as_of(self) -> _dt.date | None:
        """The day the bundle says it was made: ``Bundle.timestamp``, else a document's ``Composition.date``."""
        stamp = _fhir_date(self.bundle.get("timestamp"))
        if stamp is not None:
            return stamp[0]
        if self.bundle.get("type") != "document":
            return None
        for entry in self.bundle.get("entry", []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == "Composition":
                composed = _fhir_date(resource.get("date"))
                return None if composed is None else composed[0]
        return None

    def _finish(self, birth_date: _dt.date, gender: str, *, research_consent: bool, strict: bool) -> ImportResult:
        if self.stated_as_of is not None and self.stated_as_of > self.today:
            raise RecordImportError(f"{self.name}: the bundle is dated {self.stated_as_of}, after today "
                                    f"({self.today})")
        conditions = [entry for entry, _ in self.conditions]
        medications = [entry for entry, _ in self.medications]
        procedures = [entry for entry, _ in self.procedures]
        observations = [entry for entry, _ in self.observations]
        if self.stated_as_of is not None:
            as_of = self.stated_as_of
        else:
            days = [birth_date]
            days += [day for c in conditions for day in (c.onset, c.abatement) if day is not None]
            days += [day for m in medications for day in (m.start, m.end) if day is not None]
            days += [p.performed for p in procedures] + [o.effective for o in observations]
            as_of = max(days)
        self.summary.entries = {"conditions": len(conditions), "medications": len(medications),
                                "procedures": len(procedures), "observations": len(observations)}
        if self.complete and self.left_out:
            first = self.left_out[0]
            if self.complete_requested:
                raise UnmappedContentError(
                    f"{self.name}: a complete record was asked for, but {len(self.left_out)} resource(s) that "
                    f"criteria could name cannot be recorded (first: {first.where}: {first.reason})",
                    summary=self.summary,
                )
            self.complete = False
            self.summary.completeness_note = (
                f"issued as a partial record: {len(self.left_out)} resource(s) that criteria could name cannot be "
                f"recorded, so exclusions could not be proven soundly (first: {first.where}: {first.reason})")
        self.summary.complete = self.complete
        self.summary.as_of = as_of
        if strict and self.summary.unmappable_count:
            first = self.summary.unmappable[0]
            raise UnmappedContentError(
                f"{self.name}: --strict: {self.summary.unmappable_count} resource(s) cannot be represented "
                f"(first: {first.where}: {first.reason})",
                summary=self.summary,
            )
        try:
            record = PatientRecord(
                birth_date=birth_date, gender=gender, research_consent=research_consent, complete=self.complete,
                as_of=as_of, conditions=tuple(conditions), medications=tuple(medications),
                procedures=tuple(procedures), observations=tuple(observations),
            )
        except EncodingError as exc:
            raise RecordImportError(f"{self.name}: the imported record does not fit schema version 2: {exc}",
                                    summary=self.summary) from exc
        return ImportResult(record, self.summary)


def import_bundle(
    source: object,
    *,
    strict: bool = False,
    complete: bool | None = None,
    research_consent: bool = False,
    today: _dt.date | None = None,
    card_issuer: str | None = None,
    where: str | None = None,
    as_of: _dt.date | None = None,
) -> ImportResult:
    """Import a FHIR R4 bundle (path, JSON text/bytes or dict) into a version 2 record, with its summary.

    ``complete`` overrides the completeness the bundle's kind implies (module docstring); ``today`` is the
    issue day (default: today, UTC); ``card_issuer`` marks a bundle that came from a SMART Health Card (always
    partial); ``as_of`` overrides the day the record is current as of (default: the bundle's timestamp, a
    document's date, else its latest clinical date). ``strict`` refuses a bundle with anything unmappable
    (:class:`UnmappedContentError`, carrying the summary). Raises :class:`DeceasedPatientError`,
    :class:`RecordImportError`, :class:`InputLimitError` and other :class:`FhirImportError` subclasses naming
    the source and the entry.
    """
    bundle, name = load_bundle_json(source, where=where)
    day = today if today is not None else _dt.datetime.now(_dt.UTC).date()
    importer = _Importer(bundle, name, complete=complete, card_issuer=card_issuer, today=day, as_of=as_of)
    return importer.run(research_consent=research_consent, strict=strict)



def import_health_cards(
    source: str | bytes | Path,
    trusted: TrustedCardIssuers | str | Path,
    *,
    now: float | None = None,
    strict: bool = False,
    research_consent: bool = False,
    today: _dt.date | None = None,
) -> ImportResult:
    """Verify the SMART Health Card(s) of ``source`` (shc.py) and import their FHIR bundle as a partial record.

    Several cards in one file (a ``.smart-health-card`` file may hold more than one) must name the same patient
    (same birth date; a card's Patient holds little else); their resources are imported together. The summary
    names the card issuer(s); the record is current as of the latest card's issuance day (``nbf``). Raises
    the errors of :func:`~zkhealth.credentials.shc.read_health_cards` and :func:`import_bundle`.
    """
    cards = read_health_cards(source, trusted, now=now)
    entries: list[Any] = []
    birth_dates = set()
    for index, card in enumerate(cards):
        for entry in card.bundle.get("entry", []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
                birth_dates.add(resource.get("birthDate"))
                if index:
                    continue
            entries.append(entry)
    if len(birth_dates) > 1:
        raise RecordImportError(f"the cards name different patients (birth dates {sorted(map(str, birth_dates))})")
    issuers = sorted({card.issuer for card in cards})
    merged = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    name = str(source) if isinstance(source, Path) else "SMART Health Card"
    issued_on = max(_dt.datetime.fromtimestamp(card.not_before, _dt.UTC).date() for card in cards)
    return import_bundle(merged, strict=strict, research_consent=research_consent, today=today,
                         card_issuer=", ".join(issuers), where=name, as_of=issued_on)
