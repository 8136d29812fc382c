"""FHIR R4 import of real exports into a version 2 :class:`~zkhealth.credentials.record.PatientRecord`.

Bundles as EHRs and generators write them: many resources, several codings per concept, repeated codes,
statuses, abatement dates, units in other UCUM forms, values with decimals or comparators. Every resource of
the bundle lands in exactly one bucket of the :class:`ImportSummary`, so nothing is dropped silently:

* **kept**: recorded with the codes and values as written (a SNOMED CT-only condition is kept as the SNOMED
  concept; criteria may name SNOMED concepts or lists of them; see "Code systems" for what completes it);
* **mapped**: recorded after a stated mapping (a WHO ICD-10 code that exists unchanged in ICD-10-CM, a unit
  converted, a value rounded or censored, a LOINC alias: :mod:`zkhealth.credentials.units`; a dosage turned
  into a daily dose; an admission recorded with the reason "unknown"; a code of the issuer's code map);
* **unmappable**: clinical content of a kind the record holds that could not be recorded: a code system it
  has no place for, a unit that does not convert, a missing date. Listed one by one with the reason;
  ``strict=True`` refuses the bundle if there is any;
* **excluded**: left out by rule, listed with the rule: entered-in-error and refuted entries, cancelled,
  draft, not-done or intended orders, "no known allergy" statements, results without a value;
* **not imported**: resources the record does not hold. Two kinds, both counted per resource kind:
  *by design*, clinical content the schema deliberately has no place for (devices, family history, risk
  assessments, clinical impressions, and observations of codes outside the observation table), listed one
  by one in :attr:`ImportSummary.by_design`; and resources that are not clinical facts of the record
  (encounters other than hospital admissions, claims, organizations, practitioners, the grouping resources
  such as DiagnosticReport whose results are imported on their own).

Parts of a recorded resource are accounted for too: a part the record has a place for that could not be
recorded (a dose of a dose-table ingredient stated in a form that cannot be read, a histology or stage without
an ICD-10-CM diagnosis, one component of a panel) is listed in :attr:`ImportSummary.partly` (``strict``
refuses it, as an unmappable resource); a rule applied that a reader should know about (an as-needed dose, an
admission whose reason is not coded) is listed in :attr:`ImportSummary.notes`.

**What ``strict`` means.** ``strict=True`` refuses a bundle with anything unmappable or partly recorded: then
everything the bundle holds that the schema has a place for is in the record, exactly or by a stated mapping.
Excluded resources, resources not imported by design and resources that are not clinical facts do not make
``strict`` refuse: the schema holds none of them, so no criterion can name them (docs/issuer.md says why each
kind is left out).

Rules, per resource kind (codes.py holds the tables they feed):

* ``Patient``: exactly one; a full ``birthDate``; ``gender`` (absent: ``unknown``). A deceased patient
  (``deceasedBoolean`` true or a ``deceasedDateTime``) is refused with :class:`DeceasedPatientError`.
* ``Condition``: one entry per usable coding (ICD-10-CM as is; WHO ICD-10 mapped when the code exists in
  ICD-10-CM; SNOMED CT kept). No SNOMED CT to ICD-10-CM map is shipped: the maintained map (NLM's) comes with
  the UMLS licence and is not available to us offline. A condition with no ICD-10-CM coding takes the
  ICD-10-CM codes the issuer's code map gives for its SNOMED CT codings (recorded beside them, listed as
  mapped); without a row it is recorded as the SNOMED CT concept and is *unclassified* ("Code systems"
  below).
  Onset: ``onsetDateTime``, ``onsetPeriod.start``, else ``recordedDate``; none is unmappable. Abatement:
  ``abatementDateTime`` or ``abatementPeriod.end``. Clinical status as written; absent: ``resolved`` when there
  is an abatement, else ``unknown``. Verification absent: ``confirmed``; refuted and entered-in-error excluded.
  **Diagnosis details**: the SNOMED CT codings of ``stage.summary``, of the Observations ``stage.assessment``
  references (their ``valueCodeableConcept``), and of the mCODE histology-morphology-behavior extension
  (:data:`MCODE_HISTOLOGY`) are recorded as :class:`~zkhealth.credentials.record.DiagnosisDetail` entries of
  each ICD-10-CM code of the condition, dated by its ``recordedDate`` (else its onset). A detail that cannot be
  recorded (the condition has no ICD-10-CM code, the detail is not coded in SNOMED CT) is listed as partly
  recorded. ``bodySite`` is not a histology and is not recorded.
* ``AllergyIntolerance``: the substance, one entry per usable coding (RxNorm, a 5-level ATC code, SNOMED CT;
  RxNorm and ATC codings go through the code map and must be classified, as for medications below; a
  substance coded only in SNOMED CT is classified by a code-map row stating its ingredients and ATC codes,
  both perhaps ``none`` for a food or pollen, which are recorded beside it);
  ``type`` allergy or intolerance (absent: allergy); clinical status active, inactive or resolved (absent:
  active); verification confirmed or unconfirmed (``presumed``, R5, is unconfirmed; absent: confirmed);
  refuted, entered-in-error and the "no known allergy" statements (:data:`NO_KNOWN_CODES`) are excluded. The
  date is ``onsetDateTime``, ``onsetPeriod.start``, else ``recordedDate``. FHIR has no resolution date, so a
  resolved allergy keeps no end date (its status says resolved).
* ``Encounter`` of an inpatient class (v3 ActCode ``IMP`` and its specialisations ``ACUTE`` and ``NONAC``):
  a hospital admission, one entry per reason code: ``reasonCode`` codings, and the codes of the Conditions
  that ``reasonReference`` or a ``diagnosis`` with role admission (``AD``), discharge (``DD``) or chief
  complaint (``CC``) points to (ICD-10-CM, WHO ICD-10 mapped, SNOMED CT; each reason apart, a coded reason with
  no ICD-10-CM code goes through the code map as conditions do, and is unclassified without a row). An
  admission with no usable reason code is recorded once with the reason
  :data:`~zkhealth.credentials.record.ADMISSION_REASON_UNKNOWN` (listed in the notes): exclusions of
  admissions treat it as an admission for any reason. Admitted on
  ``period.start``, discharged on ``period.end``; status finished (R5 completed, discharged) needs a discharge
  day; in-progress, arrived, triaged, on leave (R5 on-hold) are "in hospital"; unknown and discontinued are
  finished if there is an end, else in hospital; planned, cancelled and entered-in-error are excluded.
  Other encounters (ambulatory, emergency, home health, virtual) are not imported.
* ``Immunization``: one entry per CVX or SNOMED CT coding of ``vaccineCode``, dated ``occurrenceDateTime``
  (a SNOMED CT-only vaccine takes the CVX codes of the code map, and is unclassified without a row);
  ``completed`` is recorded, ``not-done``, entered-in-error and "no known immunizations" are excluded.
* ``MedicationRequest`` / ``MedicationStatement`` / ``MedicationAdministration`` / ``MedicationDispense``:
  RxNorm or ATC codings (``medicationCodeableConcept`` or a referenced ``Medication``); start from
  ``authoredOn`` / ``effective[x]`` / ``whenHandedOver``, end from ``effectivePeriod.end``; statuses to
  active, completed, stopped, on-hold or other; cancelled, draft, intended, not-taken, not-done and
  entered-in-error excluded. **Classes and ingredients.** Criteria name drugs by ATC class or RxNorm
  ingredient, but an export often codes a clinical drug (SCD) RxCUI, and RxNorm's relationships (SCD ->
  ingredient, RxNorm -> ATC) are not shipped. The issuer's code map (``code_map``,
  :mod:`zkhealth.credentials.code_map`, ``zkhealth issue --code-map``) supplies them: a coding with a map
  row is recorded as the row's ingredient RxCUIs and ATC codes (listed as mapped); a coding without one is
  recorded as written. A drug is **classified** when the codes recorded for it hold (a) a 5-level ATC code
  (from the resource or the map; or the map states WHO assigns none) and (b) an RxCUI *known to be an
  ingredient* (named as an ingredient by the map, or an ingredient of the dose table ``codes.DOSES``), and (c)
  every RxCUI of the resource is mapped or known to be an ingredient. Without RxNorm data, nothing else can
  say that an RxCUI is an ingredient rather than a clinical drug, nor which ingredient an ATC-only drug is. An
  unclassified drug is recorded as written and listed in the notes, naming it and its codes; it makes a full
  export partial (below), since ``not medication in atc:A10A`` or ``not medication in rxnorm:6809`` would
  not see it. **Daily dose** (:func:`daily_dose`),
  only on a code of a dose-table ingredient (``codes.DOSES``): ``doseQuantity`` (a mass, converted by pint
  to the table's unit) times the doses per day of ``timing.repeat`` (``frequency`` per ``period``
  ``periodUnit``; without ``frequency``, the number of ``timeOfDay`` or ``when`` entries per day) or of the
  FHIR timing abbreviations QD, AM, PM, BID, TID, QID, Q1H, Q2H, Q3H, Q4H, Q6H; several dosage lines are
  summed when they share one ``sequence`` (concurrent, per FHIR), rounded half up at the table's scale.
  Stated as needed (PRN), as a dose or frequency range, on some days of the week, or less often than daily:
  no daily dose, listed in the notes. A dose in tablets or puffs (the strength of an ingredient code is not
  known), as a rate, as text, without timing, with a timing that is not read, or in dosage lines of different
  or missing sequences: no dose, listed as partly recorded. A MedicationAdministration is one dose, not a
  regimen: no daily dose. A map row with two or more ingredients is a combination product: no daily dose
  (partly recorded).
* ``Procedure``: SNOMED CT or ICD-10-PCS codings (CPT is licensed: unmappable; a SNOMED CT-only procedure
  takes the ICD-10-PCS codes of the code map, and is unclassified without a row); ``performedDateTime`` or
  ``performedPeriod.start``; completed, or other (in-progress, on-hold, stopped, unknown); preparation,
  not-done and entered-in-error excluded.
* ``Observation``: codes of the observation table (LOINC, or a SNOMED CT observable of a ``system="snomed"``
  row; top level and components, so a blood-pressure panel gives its systolic and diastolic values);
  quantities converted and rounded by :func:`zkhealth.credentials.units.to_canonical`; coded answers
  (smoking, pregnancy, dipstick protein) by answer code; final, amended and corrected as ``final``,
  preliminary kept; registered, cancelled, entered-in-error and unknown excluded. A result with no value
  (none, or a ``dataAbsentReason``) is excluded: it records nothing, and the latest value stays the latest
  known one. A LOINC or SNOMED CT code outside the table is not imported by design (listed, not guessed);
  an observation with neither is unmappable.
* ``Device``, ``DeviceUseStatement``, ``FamilyMemberHistory``, ``RiskAssessment``, ``ClinicalImpression``,
  ``NutritionOrder``, ``AdverseEvent``: not imported by design (:data:`NOT_HELD_KINDS`).

Dates: a ``dateTime`` with a zone is taken as its UTC calendar date; a time without a zone (not valid FHIR)
leaves the date unknown, so the entry is listed as unmappable; a partial date (``2019`` or ``2019-03``) is taken
as its first day (counted as an imprecise date in the summary).

Code systems: criteria name each kind by one system first (diagnoses and admission reasons by ICD-10-CM,
medications and allergy substances by ATC class and RxNorm ingredient, procedures by ICD-10-PCS, vaccines by
CVX), and may name SNOMED CT concepts too. An entry coded only in another system is recorded as written, but an
exclusion in the first system would not see it: it is **unclassified** (listed in the notes, naming it, its
codes and the missing system) unless the issuer's code map (:mod:`zkhealth.credentials.code_map`) gives its
codes in that system or states that the concept has none (a SNOMED CT finding with no ICD-10-CM code, a food
with no ATC code). The reverse (an entry coded in ICD-10-CM only against a criterion naming a SNOMED CT
concept) is not checked: criteria name diagnoses, admissions and procedures by SNOMED CT only where those
systems have no code, as the schema records them.

Completeness (header ``record_complete``): a ``document`` bundle (an EHDS patient summary, a lab report, an
imaging report) or a SMART Health Card is a **partial** record; any other bundle is taken as the patient's
**full export** as of its ``timestamp`` (or of its latest clinical date), unless the caller says
``complete=False``. Entries dated after that day are unmappable. A record is only complete if nothing that
criteria could name was left out: an unmappable condition, medication, procedure, allergy, admission or
immunization, a histology or stage left out, or an observation of a table code whose value could not be
recorded, or an unclassified entry (a drug whose ATC class or RxNorm ingredient is not known; a condition,
admission reason, procedure, vaccine or allergy substance coded only in SNOMED CT with no code-map row), would
let a prover show "no such diagnosis" or "no insulin", or pick an older value as the latest. Such an export is
issued as a partial record (the summary says why), or refused with :class:`UnmappedContentError` when the
caller asked for ``complete=True``. What criteria cannot name (kinds not held by design, observations of codes
outside the table, a daily dose: criteria bound doses in inclusions only) does not affect completeness.

Untrusted input: the bundle is read with a byte limit (:data:`MAX_BUNDLE_BYTES`) before parsing, strict JSON
(duplicate keys, NaN, nesting deeper than 64 refused) and at most :data:`MAX_ENTRIES` entries; errors are
:class:`~zkhealth.errors.FhirImportError` subclasses naming the file and the entry.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import read_bytes
from zkhealth._json import check_tree, loads_strict
from zkhealth.credentials import codes, icd10
from zkhealth.credentials.code_map import CodeMap
from zkhealth.credentials.record import (
    ADMISSION_REASON_UNKNOWN,
    Allergy,
    Condition,
    DiagnosisDetail,
    Encounter,
    Entry,
    Immunization,
    Medication,
    Observation,
    PatientRecord,
    Procedure,
)
from zkhealth.credentials.schema import GENDERS
from zkhealth.credentials.shc import TrustedCardIssuers, read_health_cards
from zkhealth.credentials.units import HBA1C_IFCC_LOINC, to_canonical
from zkhealth.errors import (
    DeceasedPatientError,
    EncodingError,
    InputLimitError,
    MalformedFhirError,
    RecordImportError,
    UnitConversionError,
    UnmappedContentError,
)

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_ENTRIES",
    "MCODE_HISTOLOGY",
    "NOT_HELD_KINDS",
    "NO_KNOWN_CODES",
    "ENTRY_KINDS",
    "BundleImport",
    "DoseReading",
    "ImportSummary",
    "KindCounts",
    "Listed",
    "daily_dose",
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
CVX: Final[str] = "http://hl7.org/fhir/sid/cvx"
#: The mCODE extension on a Condition that carries the cancer's histology (a SNOMED CT morphology).
MCODE_HISTOLOGY: Final[str] = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"

_SHORT_SYSTEM: Final[Mapping[str, str]] = {
    ICD10CM: "icd10cm", ICD10_WHO: "icd10", SNOMED: "snomed", LOINC: "loinc", RXNORM: "rxnorm", ATC: "atc",
    ICD10PCS: "icd10pcs", CVX: "cvx", "http://www.ama-assn.org/go/cpt": "cpt",
}

#: Clinical kinds the schema deliberately does not hold: not imported by design, listed one by one
#: (docs/issuer.md says why: criteria about devices name the implantation procedure or the ICD-10-CM status
#: code; family history, risk assessments and impressions are judgement, not machine-checkable facts).
NOT_HELD_KINDS: Final[frozenset[str]] = frozenset(
    {"Device", "DeviceUseStatement", "DeviceUsage", "FamilyMemberHistory", "RiskAssessment", "ClinicalImpression",
     "NutritionOrder", "AdverseEvent"}
)
#: SNOMED CT codes that state an absence (the IPS absent-or-unknown value set): a resource coded so is
#: excluded by rule, never recorded as an allergy or an immunization.
NO_KNOWN_CODES: Final[Mapping[str, str]] = {
    "716186003": "no known allergy", "409137002": "no known drug allergy",
    "428607008": "no known environmental allergy", "429625007": "no known food allergy",
    "787482006": "no known immunizations",
}
#: Encounter classes (v3 ActCode: IMP and the concepts below it) of a hospital admission.
_INPATIENT_CLASSES: Final[frozenset[str]] = frozenset({"IMP", "ACUTE", "NONAC"})
#: FHIR Encounter status (R4 and R5) -> admission status; "by-period": finished with an end, else in hospital;
#: None: excluded by rule.
_ENCOUNTER_STATUS: Final[Mapping[str, str | None]] = {
    "finished": "finished", "completed": "finished", "discharged": "finished", "in-progress": "in-progress",
    "arrived": "in-progress", "triaged": "in-progress", "onleave": "in-progress", "on-hold": "in-progress",
    "unknown": "by-period", "discontinued": "by-period", "planned": None, "cancelled": None,
    "entered-in-error": None,
}
#: Encounter.diagnosis roles (diagnosis-role) that name the reason of the stay: admission diagnosis, discharge
#: diagnosis, chief complaint. Comorbidities and pre-/post-operative diagnoses are not reasons.
_REASON_ROLES: Final[frozenset[str]] = frozenset({"AD", "DD", "CC"})
_ALLERGY_CLINICAL: Final[frozenset[str]] = frozenset({"active", "inactive", "resolved"})
_ALLERGY_VERIFICATION: Final[Mapping[str, str | None]] = {
    "confirmed": "confirmed", "unconfirmed": "unconfirmed", "presumed": "unconfirmed", "refuted": None,
    "entered-in-error": None,
}
#: FHIR timing abbreviations (v3 GTSAbbreviation, the TimingAbbreviation value set) read as doses per day.
_TIMING_PER_DAY: Final[Mapping[str, int]] = {
    "QD": 1, "AM": 1, "PM": 1, "BID": 2, "TID": 3, "QID": 4, "Q1H": 24, "Q2H": 12, "Q3H": 8, "Q4H": 6, "Q6H": 4,
}
#: Timing.repeat period units (UCUM) in days; months and years have no fixed length.
_PERIOD_DAYS: Final[Mapping[str, Fraction]] = {
    "s": Fraction(1, 86400), "min": Fraction(1, 1440), "h": Fraction(1, 24), "d": Fraction(1), "wk": Fraction(7),
}


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


#: The entry lists of a record, as the summary names them.
ENTRY_KINDS: Final[tuple[str, ...]] = ("conditions", "medications", "procedures", "observations", "allergies",
                                       "admissions", "immunizations", "diagnosisDetails")


@dataclass
class ImportSummary:
    """The import summary: per kind counts, the entries produced per list, and every listed resource or part.

    ``unmappable``, ``excluded`` and ``by_design`` list resources (one item per resource, counted in the
    kind's ``unmappable``, ``excluded`` and ``not_imported`` buckets); ``partly`` lists parts of recorded
    resources that could not be recorded, ``notes`` the rules applied that a reader should know about.
    """

    source: str
    bundle_type: str
    record_kind: str
    complete: bool = False
    as_of: _dt.date | None = None
    card_issuer: str | None = None
    completeness_note: str | None = None
    kinds: dict[str, KindCounts] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTRY_KINDS, 0))
    values: Counter[str] = field(default_factory=Counter)
    unmappable: list[Listed] = field(default_factory=list)
    excluded: list[Listed] = field(default_factory=list)
    by_design: list[Listed] = field(default_factory=list)
    partly: list[Listed] = field(default_factory=list)
    notes: list[Listed] = field(default_factory=list)

    def count(self, kind: str, bucket: str) -> None:
        counts = self.kinds.setdefault(kind, KindCounts())
        counts.total += 1
        setattr(counts, bucket, getattr(counts, bucket) + 1)

    @property
    def unmappable_count(self) -> int:
        return sum(counts.unmappable for counts in self.kinds.values())

    @property
    def strict_refusals(self) -> list[Listed]:
        """What makes ``strict`` refuse the bundle: the unmappable resources and the parts not recorded."""
        return [*self.unmappable, *self.partly]

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
            "partlyRecorded": [item.to_json() for item in self.partly],
            "excluded": [item.to_json() for item in self.excluded],
            "notImportedByDesign": [item.to_json() for item in self.by_design],
            "notes": [item.to_json() for item in self.notes],
        }

    def render(self, *, limit: int = 12) -> str:
        """A human-readable summary: a table per kind, then the listed resources and parts by reason."""
        lines = [f"{self.source}: SMART Health Card from {self.card_issuer}" if self.card_issuer
                 else f"{self.source}: {self.record_kind} ({self.bundle_type} bundle)"]
        lines.append(f"record: {'complete' if self.complete else 'partial'} as of "
                     f"{self.as_of.isoformat() if self.as_of else '-'}; entries: "
                     + ", ".join(f"{count} {name}" for name, count in self.entries.items() if count or name in
                                 ("conditions", "medications", "procedures", "observations")))
        if self.completeness_note:
            lines.append(self.completeness_note)
        if self.values:
            lines.append("values: " + ", ".join(f"{count} {name}" for name, count in sorted(self.values.items())))
        lines.append(f"{'kind':<28}{'total':>7}{'kept':>7}{'mapped':>8}{'unmapped':>10}{'excluded':>10}"
                     f"{'not imported':>14}")
        for kind, counts in sorted(self.kinds.items()):
            lines.append(f"{kind:<28}{counts.total:>7}{counts.kept:>7}{counts.mapped:>8}{counts.unmappable:>10}"
                         f"{counts.excluded:>10}{counts.not_imported:>14}")
        for title, items in (("unmappable", self.unmappable), ("partly recorded", self.partly),
                             ("excluded", self.excluded), ("not imported by design", self.by_design),
                             ("notes", self.notes)):
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
class BundleImport:
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
        data = read_bytes(source, max_bytes=MAX_BUNDLE_BYTES, error=InputLimitError, what=name)
    if isinstance(data, str | bytes):
        try:
            data = loads_strict(data, max_bytes=MAX_BUNDLE_BYTES)
        except InputLimitError:
            raise
        except EncodingError as exc:
            raise MalformedFhirError(f"{name}: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedFhirError(f"{name}: a FHIR Bundle is a JSON object")
    check_tree(data, what=name, error=MalformedFhirError)
    if data.get("resourceType") != "Bundle":
        raise MalformedFhirError(f"{name}: not a FHIR Bundle (resourceType {str(data.get('resourceType'))[:40]!r})")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise MalformedFhirError(f"{name}: Bundle.entry must be a list")
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


def _icd10cm(code: str) -> str | None:
    """The ICD-10-CM spelling of a code, or ``None`` when it is not one."""
    try:
        return icd10.normalize_code(code)
    except EncodingError:
        return None


def _uncoded(concept: object) -> str:
    """Why a concept gave no usable coding: it has none, or only free text."""
    text = concept.get("text") if isinstance(concept, dict) else None
    return f"free text only ({text[:60]!r}), no code" if isinstance(text, str) else "no coding"


def _status_code(concept: object) -> str | None:
    for _, code in _codings(concept):
        return code
    return None


def _timing_code(concept: object) -> str | None:
    """The timing abbreviation of a Timing.code (v3 GTSAbbreviation or FHIR timing-abbreviation; a coding without
    a system is read as one too)."""
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return None
    for coding in concept["coding"]:
        system = coding.get("system") if isinstance(coding, dict) else None
        if isinstance(coding, dict) and isinstance(coding.get("code"), str) and (
                system is None or str(system).endswith(("GTSAbbreviation", "timing-abbreviation"))):
            return str(coding["code"]).upper()
    return None


def _reference(value: object) -> str | None:
    """The target of an R4 Reference (``{"reference": ...}``) or an R5 CodeableReference's reference."""
    if not isinstance(value, dict):
        return None
    target = value.get("reference")
    if isinstance(target, dict):
        target = target.get("reference")
    return target if isinstance(target, str) else None


# --------------------------------------------------------------------------- daily doses


@dataclass(frozen=True)
class DoseReading:
    """What a resource's dosage says about the daily dose of one dose-table ingredient: the ``dose`` (in the
    table's unit, at its scale) or ``None``; ``problem``: a dose is stated in a form that cannot be read (listed
    as partly recorded); ``note``: the dosage states no single daily dose (as needed, a range, less often than
    daily; listed in the notes); ``rounded``: the dose was rounded to the table's scale."""

    dose: Decimal | None
    problem: str | None = None
    note: str | None = None
    rounded: bool = False


def _number(value: object) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Fraction(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return number if number > 0 else None


def _doses_per_day(timing: Mapping[str, Any]) -> tuple[Fraction | None, str | None, str | None]:
    """``(doses per day, problem, note)`` of a Timing (module docstring)."""
    repeat = timing.get("repeat")
    abbreviation = _timing_code(timing.get("code"))
    if not repeat:
        if abbreviation is not None and abbreviation in _TIMING_PER_DAY:
            return Fraction(_TIMING_PER_DAY[abbreviation]), None, None
        if abbreviation == "QOD":
            return None, None, "every other day: not a daily dose"
        if abbreviation is not None:
            return None, f"timing code {abbreviation[:20]} is not read (give timing.repeat)", None
        return None, "no timing: how often the dose is taken is not stated", None
    if not isinstance(repeat, dict):
        return None, "timing.repeat is not an object", None
    if "frequencyMax" in repeat or "periodMax" in repeat:
        return None, None, "a frequency range: no single daily dose"
    if repeat.get("dayOfWeek"):
        return None, None, "taken on some days of the week: not a daily dose"
    times = repeat.get("timeOfDay") or repeat.get("when")
    if "frequency" not in repeat and "period" not in repeat and isinstance(times, list) and times:
        return Fraction(len(times)), None, None
    frequency = _number(repeat.get("frequency", 1))
    period = _number(repeat.get("period"))
    unit = repeat.get("periodUnit")
    if frequency is None or frequency.denominator != 1:
        return None, "timing frequency is not a positive whole number", None
    if period is None or not isinstance(unit, str):
        return None, "timing has a frequency but no period", None
    if unit in ("mo", "a"):
        return None, None, f"taken per {'month' if unit == 'mo' else 'year'}: not a daily dose"
    if unit not in _PERIOD_DAYS:
        return None, f"timing period unit {unit[:10]!r} is not a UCUM unit of time", None
    days = period * _PERIOD_DAYS[unit]
    if days > 1:
        every = format((Decimal(days.numerator) / Decimal(days.denominator)).normalize(), "f")
        return None, None, f"taken every {every} days: not a daily dose"
    return frequency / days, None, None


def _dose_amount(line: Mapping[str, Any], unit: codes.DoseUnit) -> tuple[Fraction | None, str | None, str | None]:
    """``(amount of one dose in the table's unit, problem, note)`` of a Dosage line."""
    rates = _list(line, "doseAndRate")
    if not rates:
        if "text" in line:
            return None, "the dosage is given as text only", None
        return None, None, None
    if len(rates) > 1 or not isinstance(rates[0], dict):
        return None, "several doseAndRate entries (ordered and calculated?): which dose is meant", None
    rate = rates[0]
    if "doseRange" in rate:
        return None, None, "a dose range: no single daily dose"
    quantity = rate.get("doseQuantity")
    if not isinstance(quantity, dict):
        if any(key in rate for key in ("rateQuantity", "rateRatio", "rateRange")):
            return None, "a rate, not a dose", None
        return None, "no dose quantity", None
    system = quantity.get("system")
    written = quantity.get("code") if system in (None, UCUM) else None
    if written is None and system is None:
        written = quantity.get("unit")
    if not isinstance(written, str) or system not in (None, UCUM):
        return None, f"the dose unit is not UCUM ({str(quantity.get('unit'))[:20]!r})", None
    amount = _number(quantity.get("value"))
    if amount is None:
        return None, "the dose quantity has no positive value", None
    if written == unit.unit:
        return amount, None, None
    try:
        converted = to_canonical(str(quantity["value"]), written, loinc="", canonical_unit=unit.unit, decimals=9)
    except UnitConversionError:
        return None, (f"a dose in {written[:20]!r}, which does not convert to {unit.unit} (a count of tablets or "
                      "puffs needs the strength, which an ingredient code does not give)"), None
    return Fraction(converted.value), None, None


def daily_dose(kind: str, resource: Mapping[str, Any], unit: codes.DoseUnit) -> DoseReading:
    """The daily dose of the dose-table ingredient ``unit`` that a medication resource's dosage states.

    Rule: ``dose quantity x doses per day``, summed over dosage lines that share one ``sequence`` (module
    docstring); the result is rounded half up to the table's scale. Raises nothing: what cannot be read is
    the reading's ``problem``, what states no single daily dose its ``note``.
    """
    if kind == "MedicationAdministration":
        return DoseReading(None, note="an administration is one dose, not a daily regimen")
    field_name = "dosage" if kind == "MedicationStatement" else "dosageInstruction"
    try:
        lines = _list(resource, field_name)
    except _MalformedField:
        return DoseReading(None, problem=f"{field_name} is not a list")
    lines = [line for line in lines if isinstance(line, dict)]
    if not lines:
        return DoseReading(None)
    if len(lines) > 1:
        sequences = {line.get("sequence") for line in lines}
        if None in sequences or len(sequences) > 1:
            return DoseReading(None, problem=f"{len(lines)} dosage lines that are not concurrent (different or "
                                             "missing sequence): a regimen that changes over time")
    total = Fraction(0)
    for line in lines:
        if line.get("asNeededBoolean") is True or "asNeededCodeableConcept" in line or "asNeededFor" in line:
            return DoseReading(None, note="as needed (PRN): no daily dose")
        try:
            amount, problem, note = _dose_amount(line, unit)
            timing = _sub(line, "timing")
        except _MalformedField as malformed:
            return DoseReading(None, problem=f"malformed dosage field {malformed}")
        if problem is not None or note is not None:
            return DoseReading(None, problem=problem, note=note)
        if amount is None:
            return DoseReading(None)
        per_day, problem, note = _doses_per_day(timing)
        if per_day is None:
            return DoseReading(None, problem=problem, note=note)
        total += amount * per_day
    exact = Decimal(total.numerator) / Decimal(total.denominator)
    dose = exact.quantize(Decimal(1).scaleb(-unit.decimals), rounding=ROUND_HALF_UP)
    try:
        unit.encode(dose)
    except EncodingError as exc:
        return DoseReading(None, problem=str(exc))
    return DoseReading(dose, rounded=Fraction(dose) != total)


# --------------------------------------------------------------------------- the importer


class _Importer:
    def __init__(self, bundle: dict[str, Any], name: str, *, complete: bool | None, card_issuer: str | None,
                 today: _dt.date, as_of: _dt.date | None, code_map: CodeMap | None = None) -> None:
        self.bundle = bundle
        self.code_map = code_map if code_map is not None else CodeMap(source="no code map")
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
        self.allergies: list[tuple[Allergy, str]] = []
        self.admissions: list[tuple[Encounter, str]] = []
        self.immunizations: list[tuple[Immunization, str]] = []
        self.details: list[tuple[DiagnosisDetail, str]] = []
        self.medication_codes: dict[str, object] = {}
        self.by_reference: dict[str, Mapping[str, Any]] = {}
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

    def _by_design(self, kind: str, where: str, reason: str, pairs: Iterable[tuple[str, str]] = ()) -> None:
        """List a resource the schema deliberately does not hold (counted as not imported)."""
        self.summary.by_design.append(Listed(kind, where, reason, _label(pairs)))
        self.summary.count(kind, "not_imported")

    def _partly(self, kind: str, where: str, reason: str, pairs: Iterable[tuple[str, str]] = (), *,
                namable: bool) -> None:
        """List a part of a recorded resource that could not be recorded (``namable``: as in :meth:`_unmappable`)."""
        listed = Listed(kind, where, reason, _label(pairs))
        self.summary.partly.append(listed)
        if namable:
            self.left_out.append(listed)

    def _note(self, kind: str, where: str, reason: str, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.summary.notes.append(Listed(kind, where, reason, _label(pairs)))

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
        if not any(condition.system == "icd10cm" for condition, _ in entries):
            icd, stated = self._snomed_targets(pairs, "icd10cm")
            entries += [(Condition(code=code, onset=onset, system="icd10cm", abatement=abatement,
                                   clinical_status=clinical, verification_status=verification), True) for code in icd]
            if not stated:
                self._unclassified("Condition", where, "condition", resource.get("code"), ["no ICD-10-CM code known"],
                                   pairs)
        self.conditions.extend((condition, where) for condition, _ in entries)
        self.summary.count("Condition", "mapped" if any(mapped for _, mapped in entries) else "kept")
        recorded = self._date(resource.get("recordedDate"))
        day = recorded if recorded is not None and self._outside([recorded]) is None and recorded >= onset else onset
        try:
            self._diagnosis_details(where, resource, [c.code for c, _ in entries if c.system == "icd10cm"], day)
        except _MalformedField as malformed:  # the condition is recorded; its details are not
            self._partly("Condition", where, f"diagnosis details not recorded: malformed field {malformed}", pairs,
                         namable=True)

    def _diagnosis_details(self, where: str, resource: Mapping[str, Any], icd_codes: Sequence[str],
                           day: _dt.date) -> None:
        """Histology and stage of a recorded condition (module docstring), as entries of its ICD-10-CM codes."""
        found: list[tuple[str, list[tuple[str, str]], bool]] = []  # (what, codings, stated at all)
        for stage in _list(resource, "stage"):
            if not isinstance(stage, dict):
                continue
            pairs = _codings(stage.get("summary"))
            for assessment in _list(stage, "assessment"):
                target = self.by_reference.get(_reference(assessment) or "")
                if target is not None and target.get("resourceType") == "Observation":
                    pairs += [pair for pair in _codings(target.get("valueCodeableConcept")) if pair not in pairs]
            found.append(("stage", pairs, bool(stage.get("summary") or stage.get("assessment"))))
        for extension in _list(resource, "extension"):
            if isinstance(extension, dict) and extension.get("url") == MCODE_HISTOLOGY:
                found.append(("histology", _codings(extension.get("valueCodeableConcept")), True))
        for what, pairs, stated in found:
            snomed = [code for system, code in pairs if system == SNOMED]
            if not snomed:
                if stated:
                    self._partly("Condition", where, f"{what} not coded in SNOMED CT (text, another code system, or "
                                                     "an assessment that is not a coded Observation of the bundle)",
                                 pairs, namable=True)
                continue
            if not icd_codes:
                self._partly("Condition", where, f"{what} not recorded: a diagnosis detail qualifies an ICD-10-CM "
                                                 "code, and this condition has none", pairs, namable=True)
                continue
            for code in snomed:
                for diagnosis in icd_codes:
                    try:
                        self.details.append((DiagnosisDetail(code, diagnosis, day), where))
                    except EncodingError as exc:
                        self._partly("Condition", where, f"{what} snomed:{code} not recorded: {exc}", pairs,
                                     namable=True)

    # -- allergies

    def allergy(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs = _codings(resource.get("code"))
        absent = [NO_KNOWN_CODES[code] for system, code in pairs if system == SNOMED and code in NO_KNOWN_CODES]
        if absent:
            self._excluded("AllergyIntolerance", where, f"a statement of {absent[0]}, not an allergy", pairs)
            return
        written = _status_code(resource.get("verificationStatus")) or "confirmed"
        if written not in _ALLERGY_VERIFICATION:
            self._unmappable("AllergyIntolerance", where, f"verification status {written[:30]!r} is not an "
                                                          "AllergyIntolerance status", pairs)
            return
        verification = _ALLERGY_VERIFICATION[written]
        if verification is None:
            self._excluded("AllergyIntolerance", where, f"verification status {written}", pairs)
            return
        mapped = verification != written
        clinical = _status_code(resource.get("clinicalStatus"))
        if clinical is None:
            clinical, mapped = "active", True
            self.summary.values["allergies without a clinical status (recorded as active)"] += 1
        if clinical not in _ALLERGY_CLINICAL:
            self._unmappable("AllergyIntolerance", where, f"clinical status {clinical[:30]!r} is not an "
                                                          "AllergyIntolerance status", pairs)
            return
        kind_of = resource.get("type")
        type_code = _status_code(kind_of) if isinstance(kind_of, dict) else kind_of  # R5: a CodeableConcept
        if type_code is None:
            type_code, mapped = "allergy", True
            self.summary.values["allergies without a type (recorded as allergy)"] += 1
        if type_code not in ("allergy", "intolerance"):
            self._unmappable("AllergyIntolerance", where, f"type {str(type_code)[:30]!r} is neither allergy nor "
                                                          "intolerance", pairs)
            return
        recorded = (self._date(resource.get("onsetDateTime")) or self._date(_sub(resource, "onsetPeriod").get("start"))
                    or self._date(resource.get("recordedDate")))
        if recorded is None:
            self._unmappable("AllergyIntolerance", where, f"no onset or recorded date {_NO_DATE}", pairs)
            return
        outside = self._outside([recorded])
        if outside is not None:
            self._unmappable("AllergyIntolerance", where, outside, pairs, namable=_before_birth(outside))
            return
        entries: list[Allergy] = []
        problems: list[str] = []
        drug_pairs = [(system, code) for system, code in pairs if system in (RXNORM, ATC)]
        recorded_codes, by_map, unclassified = self._drug_codes(drug_pairs, problems)
        drug_recorded = bool(recorded_codes)
        recorded_codes += [("snomed", code) for system, code in pairs if system == SNOMED]
        ingredients, ingredients_stated = self._snomed_targets(pairs, "rxnorm")
        atc, atc_stated = self._snomed_targets(pairs, "atc")
        if ingredients_stated and atc_stated:  # a SNOMED CT substance the map classifies (perhaps as no drug)
            recorded_codes += [("rxnorm", code) for code in ingredients] + [("atc", code) for code in atc]
            unclassified, by_map = [], True
        elif not drug_recorded and any(system == SNOMED for system, _ in pairs):
            unclassified = ["SNOMED CT only: no ATC code or RxNorm ingredient known"]
        mapped = mapped or by_map
        problems += [f"code system {system} has no place in the record" for system, _ in pairs
                     if system not in (RXNORM, ATC, SNOMED)]
        for target, code in recorded_codes:
            try:
                entry = Allergy(code=code, recorded=recorded, system=target, type=type_code,
                                clinical_status=clinical, verification_status=verification)
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
                continue
            if entry not in entries:
                entries.append(entry)
        if entries and unclassified:
            self._unclassified("AllergyIntolerance", where, "allergy substance", resource.get("code"), unclassified,
                               pairs)
        if not entries:
            self._unmappable("AllergyIntolerance", where, "; ".join(problems) or _uncoded(resource.get("code")),
                             pairs)
            return
        self.allergies.extend((entry, where) for entry in entries)
        self.summary.count("AllergyIntolerance", "mapped" if mapped else "kept")

    # -- hospital admissions

    def _admission_reasons(self, resource: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str],
                                                                        list[list[tuple[str, str]]]]:
        """The reason codings of an admission (module docstring), its free-text reasons, and the codings of each
        reason (a concept or a referenced Condition) apart."""
        pairs: list[tuple[str, str]] = []
        texts: list[str] = []
        references: list[str | None] = []
        reasons: list[list[tuple[str, str]]] = []
        for concept in _list(resource, "reasonCode"):
            reasons.append(_codings(concept))
            pairs += [pair for pair in _codings(concept) if pair not in pairs]
            if isinstance(concept, dict) and isinstance(concept.get("text"), str) and not _codings(concept):
                texts.append(concept["text"][:60])
        references += [_reference(item) for item in _list(resource, "reasonReference")]
        for reason in _list(resource, "reason"):  # R5: CodeableReference values
            for value in _list(reason, "value") if isinstance(reason, dict) else []:
                if isinstance(value, dict):
                    reasons.append(_codings(value.get("concept")))
                    pairs += [pair for pair in _codings(value.get("concept")) if pair not in pairs]
                    references.append(_reference(value))
        for diagnosis in _list(resource, "diagnosis"):
            if not isinstance(diagnosis, dict):
                continue
            uses = diagnosis.get("use")
            roles = {code for concept in (uses if isinstance(uses, list) else [uses]) for _, code in _codings(concept)}
            if roles & _REASON_ROLES:
                condition = diagnosis.get("condition")
                for item in condition if isinstance(condition, list) else [condition]:  # R5: a list
                    references.append(_reference(item))
        for reference in references:
            target = self.by_reference.get(reference or "")
            if target is not None and target.get("resourceType") == "Condition":
                reasons.append(_codings(target.get("code")))
                pairs += [pair for pair in _codings(target.get("code")) if pair not in pairs]
        return pairs, texts, reasons

    def admission(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs, texts, reasons = self._admission_reasons(resource)
        status_text = _text(resource, "status", "unknown")
        status = _ENCOUNTER_STATUS.get(status_text, "by-period")
        if status is None:
            self._excluded("Encounter", where, f"status {status_text}", pairs)
            return
        period = _sub(resource, "period") or _sub(resource, "actualPeriod")
        admitted = self._date(period.get("start"))
        discharged = self._date(period.get("end"))
        if admitted is None:
            self._unmappable("Encounter", where, f"a hospital admission with no start date {_NO_DATE}", pairs)
            return
        if status == "by-period":
            status = "finished" if discharged is not None else "in-progress"
        if status == "in-progress":
            discharged = None
        elif discharged is None:
            self._unmappable("Encounter", where, "a finished hospital stay without a discharge date", pairs)
            return
        outside = self._outside([admitted, discharged])
        if outside is not None:
            self._unmappable("Encounter", where, outside, pairs, namable=_before_birth(outside))
            return
        if discharged is not None and discharged < admitted:
            self._unmappable("Encounter", where, "discharged before admitted", pairs)
            return
        entries: list[Encounter] = []
        mapped = False
        unused: list[tuple[str, str]] = []
        for system, code in pairs:
            target = {ICD10CM: "icd10cm", ICD10_WHO: "icd10cm", SNOMED: "snomed"}.get(system)
            if target is None:
                unused.append((system, code))
                continue
            try:
                entry = Encounter(code=icd10.normalize_code(code) if target == "icd10cm" else code, admitted=admitted,
                                  system=target, discharged=discharged, status=status)
            except EncodingError:
                unused.append((system, code))
                continue
            mapped = mapped or system == ICD10_WHO
            if entry not in entries:
                entries.append(entry)
        # each reason apart: a stay for a myocardial infarction (ICD-10-CM) and a cancer (SNOMED CT only) must not
        # pass "not hospitalization in C00-C96" because its other reason has an ICD-10-CM code
        recorded_icd = {entry.code for entry in entries if entry.system == "icd10cm"}
        for reason in reasons if entries else ():  # no usable reason at all: recorded as "unknown" below
            if not reason or any(system in (ICD10CM, ICD10_WHO) and _icd10cm(code) in recorded_icd
                                 for system, code in reason):
                continue
            icd, stated = self._snomed_targets(reason, "icd10cm")
            for code in icd:
                entry = Encounter(code=code, admitted=admitted, system="icd10cm", discharged=discharged,
                                  status=status)
                if entry not in entries:
                    entries.append(entry)
            mapped = mapped or bool(icd)
            if not stated:
                self._unclassified("Encounter", where, "admission reason", None, ["no ICD-10-CM code known"], reason)
        if entries and unused:
            self._note("Encounter", where, "admission reasons in no code system of the record are left out (the "
                                           "coded ones are recorded)", unused)
        if not entries:
            entries.append(Encounter(code=ADMISSION_REASON_UNKNOWN, admitted=admitted, system="snomed",
                                     discharged=discharged, status=status))
            mapped = True
            told = (f"free text {', '.join(repr(text) for text in texts[:3])}" if texts else
                    "codes in no system of the record" if unused else "none given")
            self._note("Encounter", where, f"admission reason not coded ({told}): recorded with the reason "
                                           f"unknown (snomed:{ADMISSION_REASON_UNKNOWN})", unused)
        self.admissions.extend((entry, where) for entry in entries)
        self.summary.count("Encounter", "mapped" if mapped else "kept")

    # -- immunizations

    def immunization(self, where: str, resource: Mapping[str, Any]) -> None:
        pairs = _codings(resource.get("vaccineCode"))
        status = _text(resource, "status", "completed")
        if status in ("not-done", "entered-in-error"):
            self._excluded("Immunization", where, f"status {status}", pairs)
            return
        absent = [NO_KNOWN_CODES[code] for system, code in pairs if system == SNOMED and code in NO_KNOWN_CODES]
        if absent:
            self._excluded("Immunization", where, f"a statement of {absent[0]}, not an immunization", pairs)
            return
        if status != "completed":
            self._unmappable("Immunization", where, f"status {status[:30]!r} is not an Immunization status", pairs)
            return
        given = self._date(resource.get("occurrenceDateTime"))
        if given is None:
            self._unmappable("Immunization", where, f"no occurrence date {_NO_DATE}", pairs)
            return
        outside = self._outside([given])
        if outside is not None:
            self._unmappable("Immunization", where, outside, pairs, namable=_before_birth(outside))
            return
        entries: list[Immunization] = []
        problems: list[str] = []
        for system, code in pairs:
            target = {CVX: "cvx", SNOMED: "snomed"}.get(system)
            if target is None:
                problems.append(f"code system {system} has no place in the record")
                continue
            try:
                entry = Immunization(code=code, administered=given, system=target)
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
                continue
            if entry not in entries:
                entries.append(entry)
        if not entries:
            self._unmappable("Immunization", where, "; ".join(problems) or _uncoded(resource.get("vaccineCode")),
                             pairs)
            return
        by_map = False
        if not any(entry.system == "cvx" for entry in entries):
            cvx, stated = self._snomed_targets(pairs, "cvx")
            entries += [Immunization(code=code, administered=given, system="cvx") for code in cvx]
            by_map = bool(cvx)
            if not stated:
                self._unclassified("Immunization", where, "vaccine", resource.get("vaccineCode"),
                                   ["no CVX code known"], pairs)
        self.immunizations.extend((entry, where) for entry in entries)
        self.summary.count("Immunization", "mapped" if by_map else "kept")

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
        recorded, by_map, unclassified = self._drug_codes(pairs, problems)
        for target, code in recorded:
            try:
                entry = Medication(code=code, start=start, system=target, end=end, status=status)
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
                continue
            if entry not in entries:
                entries.append(entry)
        if not entries:
            self._unmappable(kind, where, "; ".join(problems) or _uncoded(concept), pairs)
            return
        if unclassified:
            self._unclassified(kind, where, "medication", concept, unclassified, pairs)
        entries, dosed = self._daily_dose(kind, where, resource, entries, pairs)
        self.medications.extend((entry, where) for entry in entries)
        self.summary.count(kind, "mapped" if dosed or by_map else "kept")

    def _is_ingredient(self, rxcui: str) -> bool:
        """Whether an RxCUI is known to be an ingredient: the map names it as one, or the dose table does."""
        return self.code_map.is_ingredient(rxcui) or codes.dose_unit("rxnorm", rxcui) is not None

    def _drug_codes(self, pairs: Sequence[tuple[str, str]],
                    problems: list[str]) -> tuple[list[tuple[str, str]], bool, list[str]]:
        """The codes to record for a drug's codings, by the code map (module docstring, "Classes and
        ingredients"); ``(codes as (system, code), whether the map was applied, why its class or ingredient is not
        known)``.

        Codes of other systems are listed in ``problems``. The drug is *classified* when the codes recorded for
        it hold an ATC code (or the map states it has none) and an RxCUI known to be an ingredient, and every
        RxCUI of the resource is mapped or known to be an ingredient; otherwise the reasons are returned."""
        recorded: list[tuple[str, str]] = []
        by_map = False
        atc_stated = False
        unknown: list[str] = []
        for system, code in pairs:
            target = {RXNORM: "rxnorm", ATC: "atc"}.get(system)
            if target is None:
                problems.append(f"code system {system} has no place in the record")
                continue
            try:
                row = self.code_map.lookup(target, code)
                code = codes.normalize_clinical_code(target, code)
            except EncodingError as exc:
                problems.append(f"{target}:{code}: {exc}")
                continue
            if row is None:
                recorded.append((target, code))
                if target == "rxnorm" and not self._is_ingredient(code):
                    unknown.append(f"rxnorm:{code}")
                continue
            by_map = True
            atc_stated = atc_stated or not row.atc
            if target == "atc":
                recorded.append((target, code))
            recorded += [("rxnorm", ingredient) for ingredient in row.ingredients]
            recorded += [("atc", atc) for atc in row.atc]
        recorded = list(dict.fromkeys(recorded))
        if not recorded:
            return recorded, by_map, []
        reasons: list[str] = []
        if unknown:
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            reasons.append(f"{', '.join(unknown[:3])}{more}: not known to be an ingredient (a clinical drug?)")
        if not atc_stated and not any(system == "atc" for system, _ in recorded):
            reasons.append("no ATC code")
        if not any(system == "rxnorm" and self._is_ingredient(code) for system, code in recorded):
            reasons.append("no known RxNorm ingredient")
        return recorded, by_map, reasons

    def _snomed_targets(self, pairs: Sequence[tuple[str, str]], target: str) -> tuple[list[str], bool]:
        """The ``target`` codes the code map gives for the SNOMED CT codings of ``pairs`` (module docstring,
        "Code systems"), and whether any row states them (a row may state that the concept has none)."""
        found: list[str] = []
        stated = False
        for system, code in pairs:
            given = self.code_map.targets("snomed", code, target) if system == SNOMED else None
            if given is not None:
                stated = True
                found += [item for item in given if item not in found]
        return found, stated

    def _unclassified(self, kind: str, where: str, what: str, concept: object, reasons: Sequence[str],
                      pairs: Sequence[tuple[str, str]]) -> None:
        """A recorded entry that criteria name through a code system it is not coded in (a drug whose ATC class or
        RxNorm ingredient is not known, a SNOMED CT-only condition with no known ICD-10-CM code...): criteria
        naming it in that system would not see it, so a record holding it is not complete (listed in the
        notes)."""
        text = concept.get("text") if isinstance(concept, dict) else None
        displays = [coding.get("display") for coding in concept.get("coding", [])
                    if isinstance(coding, dict)] if isinstance(concept, dict) and isinstance(
            concept.get("coding"), list) else []
        name = text if isinstance(text, str) else next((d for d in displays if isinstance(d, str)), None)
        named = f"{what} {name[:60]!r}" if name else what
        listed = Listed(kind, where, f"{named} not classified ({'; '.join(reasons)}): recorded as written; a complete "
                                     "record needs its row in the code map (--code-map)", _label(pairs))
        self.summary.notes.append(listed)
        self.left_out.append(listed)

    def _daily_dose(self, kind: str, where: str, resource: Mapping[str, Any], entries: list[Medication],
                    pairs: list[tuple[str, str]]) -> tuple[list[Medication], bool]:
        """The entries with the daily dose of their dose-table ingredient, if the dosage states one
        (:func:`daily_dose`); ``(entries, whether a dose was recorded)``."""
        units = {unit for unit in (codes.dose_unit(entry.system, entry.code) for entry in entries) if unit is not None}
        if not units:
            return entries, False
        if len(units) > 1:
            self._partly(kind, where, "daily dose not recorded: codes of two dose-table ingredients (one dose cannot "
                                      "be split between them)", pairs, namable=False)
            return entries, False
        ingredients = {entry.code for entry in entries if entry.system == "rxnorm" and self._is_ingredient(entry.code)}
        if len(ingredients) > 1:
            self._partly(kind, where, "daily dose not recorded: a combination product (its dose is not one "
                                      "ingredient's)", pairs, namable=False)
            return entries, False
        unit = units.pop()
        reading = daily_dose(kind, resource, unit)
        if reading.problem is not None:
            self._partly(kind, where, f"daily dose not recorded: {reading.problem}", pairs, namable=False)
        if reading.note is not None:
            self._note(kind, where, f"daily dose not recorded: {reading.note}", pairs)
        if reading.dose is None:
            return entries, False
        self.summary.values["daily doses"] += 1
        if reading.rounded:
            self.summary.values["daily doses rounded"] += 1
        return [dataclasses.replace(entry, daily_dose=reading.dose, dose_unit=unit.unit)
                if codes.dose_unit(entry.system, entry.code) == unit else entry for entry in entries], True

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
        by_map = False
        if not any(entry.system == "icd10pcs" for entry in entries):
            pcs, stated = self._snomed_targets(pairs, "icd10pcs")
            entries += [Procedure(code=code, performed=performed, system="icd10pcs", status=status) for code in pcs]
            by_map = bool(pcs)
            if not stated:
                self._unclassified("Procedure", where, "procedure", resource.get("code"), ["no ICD-10-PCS code known"],
                                   pairs)
        self.procedures.extend((entry, where) for entry in entries)
        self.summary.count("Procedure", "mapped" if by_map else "kept")

    # -- observations

    def _observation_value(self, code: str, concept: codes.ObservationConcept, holder: Mapping[str, Any],
                           effective: _dt.date, status: str) -> tuple[Observation | None, bool, str]:
        """``(entry or None, mapped, problem)`` for one table-coded value holder (resource or component); the
        problem is ``""`` when the holder has no value at all (nothing to record)."""
        values = [key for key in holder if key.startswith("value") and key != "valueSet"]
        if not values or "dataAbsentReason" in holder:
            return None, False, ""
        if concept.kind == codes.ObservationKind.CODED:
            if "valueCodeableConcept" not in holder:
                return None, False, f"{values[0]} is not a coded answer"
            answers = _codings(holder.get("valueCodeableConcept"))
            for _, answer in answers:
                if answer in concept.answer_codes:
                    return Observation(code=concept.loinc, value=answer, effective=effective, unit="",
                                       status=status, system=concept.system), False, ""
            return None, False, f"answer {_label(answers) or 'absent'} is not one of {concept.name}'s answers"
        quantity = holder.get("valueQuantity")
        if not isinstance(quantity, dict):
            return None, False, f"{values[0]} is not a quantity"
        if "value" not in quantity:
            return None, False, ""
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
            canonical = to_canonical(str(value), str(unit or ""), loinc=code, canonical_unit=concept.unit,
                                     decimals=concept.decimals, comparator=_text(quantity, "comparator", "") or None)
            entry = Observation(code=concept.loinc, value=canonical.value, effective=effective, unit=concept.unit,
                                status=status, system=concept.system)
        except (UnitConversionError, EncodingError) as exc:
            return None, False, str(exc)
        for flag, label in ((canonical.converted, "converted"), (canonical.rounded, "rounded"),
                            (canonical.censored is not None, "censored")):
            if flag:
                self.summary.values[label] += 1
        mapped = canonical.converted or canonical.rounded or canonical.censored is not None or code != concept.loinc
        return entry, mapped, ""

    @staticmethod
    def _table_concept(system: str, code: str) -> codes.ObservationConcept | None:
        """The observation-table concept of a coding (LOINC, the IFCC HbA1c code, or a SNOMED CT observable)."""
        if system == LOINC:
            concept = codes.observation("4548-4" if code == HBA1C_IFCC_LOINC else code)
            return concept if concept is not None and concept.system == "loinc" else None
        if system == SNOMED:
            try:
                return codes.observation_of("snomed", code)
            except EncodingError:
                return None
        return None

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
                concept = self._table_concept(system, code)
                if concept is None:
                    continue
                known = True
                label = f"{_SHORT_SYSTEM[system]}:{code}{suffix}"
                if effective is None:
                    problems.append(f"no effective date {_NO_DATE}")
                    break
                outside = self._outside([effective])
                if outside is not None:
                    problems.append(outside)
                    break
                entry, mapped, problem = self._observation_value(code, concept, holder, effective, status)
                if entry is not None:
                    entries.append((entry, mapped))
                elif problem:
                    problems.append(f"{label}: {problem}")
                break
        all_pairs = [pair for _, _, holder_pairs in holders for pair in holder_pairs]
        late = all("after the record's as-of day" in problem for problem in problems)
        if entries:
            for problem in dict.fromkeys(problems):
                self._partly("Observation", where, f"a value not recorded: {problem}", all_pairs, namable=not late)
            self.observations.extend((entry, where) for entry, _ in entries)
            self.summary.count("Observation", "mapped" if any(mapped for _, mapped in entries) else "kept")
        elif problems:
            self._unmappable("Observation", where, "; ".join(dict.fromkeys(problems)), all_pairs, namable=not late)
        elif known:
            absent = _status_code(resource.get("dataAbsentReason"))
            self._excluded("Observation", where, "no value" + (f" (dataAbsentReason {absent})" if absent else ""),
                           all_pairs)
        elif any(system in (LOINC, SNOMED) for system, _ in all_pairs):
            self._by_design("Observation", where, "code not in the observation table", all_pairs)
        else:
            self._unmappable("Observation", where, "no LOINC or SNOMED CT coding", all_pairs, namable=False)

    # -- the whole bundle

    def _resource(self, kind: str, where: str, resource: Mapping[str, Any],
                  handlers: Mapping[str, Callable[[str, Mapping[str, Any]], None]]) -> None:
        if kind in handlers:
            handlers[kind](where, resource)
        elif kind in _MEDICATION_KINDS:
            self.medication(kind, where, resource)
        elif kind in NOT_HELD_KINDS:
            status = resource.get("status")
            pairs = _codings(resource.get("code")) or _codings(resource.get("type"))
            if status == "entered-in-error":
                self._excluded(kind, where, "status entered-in-error", pairs)
            else:
                self._by_design(kind, where, f"the record holds no {kind} (by design)", pairs)
        elif kind == "Encounter" and _encounter_class(resource) in _INPATIENT_CLASSES:
            self.admission(where, resource)
        else:
            self.summary.count(kind, "not_imported")

    def run(self, *, research_consent: bool, strict: bool) -> BundleImport:
        resources: list[tuple[int, dict[str, Any]]] = []
        for index, entry in enumerate(self.bundle.get("entry", [])):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise MalformedFhirError(f"{self.name}: entry[{index}] has no resource")
            resources.append((index, resource))
            full_url = entry.get("fullUrl")
            for key in (full_url, f"{resource['resourceType']}/{resource.get('id')}"):
                if isinstance(key, str):
                    self.by_reference.setdefault(key, resource)
                    if resource["resourceType"] == "Medication":
                        self.medication_codes[key] = resource.get("code")
        birth_date, gender = self.patient(resources)
        self.birth_date = birth_date
        handlers: dict[str, Callable[[str, Mapping[str, Any]], None]] = {
            "Condition": self.condition, "Procedure": self.procedure, "Observation": self.observation,
            "AllergyIntolerance": self.allergy, "Immunization": self.immunization,
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
                                 namable=kind not in NOT_HELD_KINDS)
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

    def _finish(self, birth_date: _dt.date, gender: str, *, research_consent: bool, strict: bool) -> BundleImport:
        if self.stated_as_of is not None and self.stated_as_of > self.today:
            raise RecordImportError(f"{self.name}: the bundle is dated {self.stated_as_of}, after today "
                                    f"({self.today})")
        lists: dict[str, list[Any]] = {
            "conditions": [entry for entry, _ in self.conditions],
            "medications": [entry for entry, _ in self.medications],
            "procedures": [entry for entry, _ in self.procedures],
            "observations": [entry for entry, _ in self.observations],
            "allergies": [entry for entry, _ in self.allergies],
            "admissions": [entry for entry, _ in self.admissions],
            "immunizations": [entry for entry, _ in self.immunizations],
            "diagnosisDetails": [entry for entry, _ in self.details],
        }
        if self.stated_as_of is not None:
            as_of = self.stated_as_of
        else:
            entries: list[Entry] = [entry for items in lists.values() for entry in items]
            days = [birth_date]
            days += [day for entry in entries for day in entry.leaf_fields()[2:4] if isinstance(day, _dt.date)]
            as_of = max(days)
        self.summary.entries = {name: len(items) for name, items in lists.items()}
        if self.complete and self.left_out:
            first = self.left_out[0]
            if self.complete_requested:
                raise UnmappedContentError(
                    f"{self.name}: a complete record was asked for, but {len(self.left_out)} resource(s) that "
                    f"criteria could name cannot be recorded or classified (first: {first.where}: {first.reason})",
                    summary=self.summary,
                )
            self.complete = False
            self.summary.completeness_note = (
                f"issued as a partial record: {len(self.left_out)} resource(s) that criteria could name cannot be "
                f"recorded or classified, so exclusions could not be proven soundly (first: {first.where}: "
                f"{first.reason})")
        self.summary.complete = self.complete
        self.summary.as_of = as_of
        refusals = self.summary.strict_refusals
        if strict and refusals:
            first = refusals[0]
            raise UnmappedContentError(
                f"{self.name}: --strict: {self.summary.unmappable_count} resource(s) cannot be represented and "
                f"{len(self.summary.partly)} part(s) of recorded ones were left out (first: {first.where}: "
                f"{first.reason})",
                summary=self.summary,
            )
        try:
            record = PatientRecord(
                birth_date=birth_date, gender=gender, research_consent=research_consent, complete=self.complete,
                as_of=as_of, conditions=tuple(lists["conditions"]), medications=tuple(lists["medications"]),
                procedures=tuple(lists["procedures"]), observations=tuple(lists["observations"]),
                allergies=tuple(lists["allergies"]), encounters=tuple(lists["admissions"]),
                immunizations=tuple(lists["immunizations"]), diagnosis_details=tuple(lists["diagnosisDetails"]),
            )
        except EncodingError as exc:
            raise RecordImportError(f"{self.name}: the imported record does not fit schema version 2: {exc}",
                                    summary=self.summary) from exc
        return BundleImport(record, self.summary)


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
    code_map: CodeMap | None = None,
) -> BundleImport:
    """Import a FHIR R4 bundle (path, JSON text/bytes or dict) into a version 2 record, with its summary.

    ``complete`` overrides the completeness the bundle's kind implies (module docstring); ``today`` is the
    issue day (default: today, UTC); ``card_issuer`` marks a bundle that came from a SMART Health Card (always
    partial); ``as_of`` overrides the day the record is current as of (default: the bundle's timestamp, a
    document's date, else its latest clinical date); ``code_map`` is the issuer's code map
    (:mod:`zkhealth.credentials.code_map`; module docstring, "Classes and ingredients"). ``strict`` refuses a
    bundle with anything unmappable (:class:`UnmappedContentError`, carrying the summary). Raises
    :class:`DeceasedPatientError`, :class:`RecordImportError`, :class:`InputLimitError` and other
    :class:`FhirImportError` subclasses naming the source and the entry.
    """
    bundle, name = load_bundle_json(source, where=where)
    day = today if today is not None else _dt.datetime.now(_dt.UTC).date()
    importer = _Importer(bundle, name, complete=complete, card_issuer=card_issuer, today=day, as_of=as_of,
                         code_map=code_map)
    return importer.run(research_consent=research_consent, strict=strict)



def import_health_cards(
    source: str | bytes | Path,
    trusted: TrustedCardIssuers | str | Path,
    *,
    now: float | None = None,
    strict: bool = False,
    research_consent: bool = False,
    today: _dt.date | None = None,
    code_map: CodeMap | None = None,
) -> BundleImport:
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
                         card_issuer=", ".join(issuers), where=name, as_of=issued_on, code_map=code_map)
