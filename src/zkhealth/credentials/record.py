"""Credential schema version 2: a signed header plus four committed sorted sets (the whole patient record).

The header (20 field elements, all < r; the signed message is ``claims_hash = poseidon([poseidon(h[0:16]),
poseidon(h[16:20])])``)::

    0  schema_id            ASCII "zkhealth.health-credential" read big-endian (as version 1)
    1  schema_version       2
    2  credential_id        uint128, random, >= 1 (the key in the issuer's revocation tree)
    3  subject_commitment   poseidon([holder_secret])
    4  issuer_ax            the issuer's Baby Jubjub key A = (Ax, Ay)
    5  issuer_ay
    6  issued_at            epoch day (32 bits); first valid day
    7  expires_at           epoch day (32 bits); first day NOT valid
    8  birth_date           ordinal (date.toordinal(), 22 bits)
    9  birth_date_packed    packed calendar date (22 bits; zkhealth.credentials.dates.packed_date)
    10 gender               FHIR AdministrativeGender: male 1, female 2, other 3, unknown 4
    11 research_consent     0 / 1
    12 record_complete      1: the sets hold the patient's complete record as of record_as_of; 0: a partial
                            document (it can satisfy inclusions only)
    13 record_as_of         ordinal of the day the record is complete / current as of
    14 conditions_root      sorted-set roots (zkhealth.credentials.sorted_set)
    15 medications_root
    16 procedures_root
    17 observations_root
    18 issuer_ed25519_hi    the issuer's Ed25519 key, first 16 bytes (big-endian)
    19 issuer_ed25519_lo    last 16 bytes

Each set holds one **raw leaf** per recorded item and code system (a condition coded in ICD-10-CM and
SNOMED CT gets two), and one **aggregate leaf** per class that has a raw entry below it:

=============  ====================  =====================  ==============================================
set            raw tags              aggregate tags         a / b / value / status of a raw leaf
=============  ====================  =====================  ==============================================
conditions     1 ICD-10-CM,          2 ICD-10-CM node (the  onset / abatement (MAX_DATE while ongoing) / 0 /
               3 SNOMED CT           code, its ancestors,   8 * verification + clinical (codes.py)
                                     groups), 4 SNOMED CT
medications    1 ATC, 3 RxNorm       2 ATC prefix (5        start / end (MAX_DATE while ongoing) / 0 /
                                     levels), 4 RxNorm      active 1, completed 2, stopped 3, on-hold 4,
                                                            other 5
procedures     1 ICD-10-PCS,         2 PCS prefix (1..7),   performed / performed / 0 / completed 1,
               3 SNOMED CT           4 SNOMED CT            other 2
observations   1 LOINC               2 LOINC                effective / effective / fixed-point value
                                                            (codes.OBSERVATIONS) / final 1, preliminary 2
=============  ====================  =====================  ==============================================

Four more kinds of entry live in those sets under tags of their own (the leaf layout is the same):

=====================  ===========  =========================  ==========================================
kind                   set          raw / aggregate tags       a / b / value / status of a raw leaf
=====================  ===========  =========================  ==========================================
allergy / intolerance  conditions   5/6 ATC (every level),     recorded / resolved (MAX_DATE while active) /
(the substance)                     7/8 RxNorm, 9/10 SNOMED    allergy 1, intolerance 2 /
                                    CT substance               8 * verification + clinical (as conditions)
diagnosis detail       conditions   11/12 SNOMED CT concept    recorded / recorded / the ICD-10-CM number of
(histology, stage)                  (a morphology, or a        the diagnosis it qualifies / 1
                                    stage group qualifier)
hospital admission     procedures   5/6 ICD-10-CM reason       admitted / discharged (MAX_DATE while in
(inpatient encounter)               (every node), 7/8 SNOMED   hospital) / 0 / finished 1, in progress 2
                                    CT reason
immunization           procedures   9/10 CVX, 11/12 SNOMED CT  administered / administered / 0 / 1
(a vaccine given)                   vaccine product
=====================  ===========  =========================  ==========================================

An admission whose reason the source does not code is recorded with the reason
:data:`ADMISSION_REASON_UNKNOWN` (SNOMED CT 261665006 "Unknown"); the criteria compiler makes every
exclusion of admissions ("no hospitalization for X within W") also exclude admissions of unknown reason in W,
so such an admission never lets a prover show "no admission for X".

A medication's raw leaf holds its daily dose in ``value`` (``codes.DOSES``: unit and scale per ingredient;
0 = no dose recorded); observations of SNOMED CT observables (``codes.OBSERVATIONS`` rows with
``system="snomed"``, such as pack-years) use tags 3/4 of the observations set.

An aggregate leaf's ``a`` is the latest ``a`` below it (the most recent onset, start, date), ``b`` the latest
``b`` (MAX_DATE if any is ongoing), ``value`` the number of raw entries, ``status`` the smallest status. They
turn windowed exclusions into one path: "no myocardial infarction in the last 6 months" is "the I21 node's
aggregate is absent, or its latest onset is before the window".

Raw keys are ``make_key(tag, code, a_ord, seq)``, aggregate keys ``make_key(tag, node, 0, 0)``; ``seq``
numbers entries with equal (tag, code, date) in a canonical order. Clinical dates after ``record_as_of``
are refused, as is a ``record_as_of`` after the issue day: a record only speaks about its past.

Capacity: 4,095 leaves per set, aggregates included (at least 256 conditions, 256 medications, 256
procedures and 1,024 observations fit); a larger set raises :class:`RecordCapacityError` naming it.

Migration from version 1: :func:`record_from_v1` turns version-1 claims into a *partial* record (diagnoses and
dated labs; the undated systolic pressure needs a date from the issuer), which the issuer signs again as a
version-2 credential. Version-1 credentials stay readable and verifiable (credential.py, vc.py).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Final

from zkhealth.credentials import codes, dates, icd10
from zkhealth.credentials.credential import HealthClaims
from zkhealth.credentials.schema import GENDERS, HASH_CHUNK, SCHEMA_ID
from zkhealth.credentials.sorted_set import MAX_DATE, SortedSet, date_fields, make_key, split_key
from zkhealth.errors import EncodingError, SchemaMismatchError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

__all__ = [
    "HEADER_FIELDS",
    "HEADER_INDEX",
    "HEADER_LENGTH",
    "ICD10_GROUPS",
    "LATEST_EXPIRY",
    "RECORD_SCHEMA_VERSION",
    "SETS",
    "ADMISSION_REASON_UNKNOWN",
    "KIND_TAGS",
    "SET_TAGS",
    "Allergy",
    "Condition",
    "DiagnosisDetail",
    "Encounter",
    "Immunization",
    "Medication",
    "Observation",
    "PatientRecord",
    "Procedure",
    "RecordCredential",
    "build_sets",
    "header_hash",
    "record_from_v1",
]

RECORD_SCHEMA_VERSION: Final[int] = 2
#: Header slots and their declared widths (what a circuit range-checks before comparing).
HEADER_FIELDS: Final[tuple[tuple[str, int], ...]] = (
    ("schema_id", 254),
    ("schema_version", 8),
    ("credential_id", 128),
    ("subject_commitment", 254),
    ("issuer_ax", 254),
    ("issuer_ay", 254),
    ("issued_at", 32),
    ("expires_at", 32),
    ("birth_date", 22),
    ("birth_date_packed", 22),
    ("gender", 3),
    ("research_consent", 1),
    ("record_complete", 1),
    ("record_as_of", 22),
    ("conditions_root", 254),
    ("medications_root", 254),
    ("procedures_root", 254),
    ("observations_root", 254),
    ("issuer_ed25519_hi", 128),
    ("issuer_ed25519_lo", 128),
)
HEADER_LENGTH: Final[int] = len(HEADER_FIELDS)
HEADER_INDEX: Final[Mapping[str, int]] = {name: index for index, (name, _) in enumerate(HEADER_FIELDS)}
#: The four sets, in set-number order (the program's ``set`` field).
SETS: Final[tuple[str, ...]] = ("conditions", "medications", "procedures", "observations")
#: set -> code system -> (raw tag, aggregate tag).
SET_TAGS: Final[Mapping[str, Mapping[str, tuple[int, int]]]] = {
    "conditions": {"icd10cm": (1, 2), "snomed": (3, 4)},
    "medications": {"atc": (1, 2), "rxnorm": (3, 4)},
    "procedures": {"icd10pcs": (1, 2), "snomed": (3, 4)},
    "observations": {"loinc": (1, 2), "snomed": (3, 4)},
}
#: Entry kind -> (set, code system -> (raw tag, aggregate tag)). The first kind of each set is the set's own
#: (SET_TAGS); the others share its tree under tags of their own (module docstring). Changing this table is a
#: schema change.
KIND_TAGS: Final[Mapping[str, tuple[str, Mapping[str, tuple[int, int]]]]] = {
    "diagnosis": ("conditions", SET_TAGS["conditions"]),
    "allergy": ("conditions", {"atc": (5, 6), "rxnorm": (7, 8), "snomed": (9, 10)}),
    "diagnosis_detail": ("conditions", {"snomed": (11, 12)}),
    "medication": ("medications", SET_TAGS["medications"]),
    "procedure": ("procedures", SET_TAGS["procedures"]),
    "hospitalization": ("procedures", {"icd10cm": (5, 6), "snomed": (7, 8)}),
    "immunization": ("procedures", {"cvx": (9, 10), "snomed": (11, 12)}),
    "observation": ("observations", SET_TAGS["observations"]),
}

#: The reason of an admission whose source names none in a code system of the record: SNOMED CT 261665006
#: "Unknown (qualifier value)". Exclusions of admissions also exclude this reason (module docstring).
ADMISSION_REASON_UNKNOWN: Final[str] = "261665006"

#: Named ICD-10-CM groups that are not nodes of the tabular list but appear in many trial criteria; the
#: issuer emits an aggregate leaf for each group with an entry (tag 2, code ``GROUP_CODE_BASE + index``), so
#: a windowed exclusion over the group is one path. Changing this table is a schema change.
ICD10_GROUPS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("malignant neoplasms", ("C00-C96",)),
    ("malignant neoplasms except other skin", ("C00-C43", "C45-C96")),
    ("neoplasms of uncertain or unspecified behaviour", ("D37-D49",)),
)
#: Aggregate codes of the groups start here (above every ICD-10-CM node number, which fit 20 bits).
GROUP_CODE_BASE: Final[int] = 1 << 20

_ID_BOUND: Final[int] = 1 << 128


# --------------------------------------------------------------------------- entries


def _date(value: object, what: str) -> _dt.date:
    try:
        return dates.parse_date(value)
    except EncodingError as exc:
        raise EncodingError(f"{what}: {exc}") from None


def _optional_date(value: object, what: str) -> _dt.date | None:
    return None if value is None else _date(value, what)


@dataclass(frozen=True)
class Condition:
    """A diagnosis: ``system`` ``icd10cm`` (pre-order numbered, must exist) or ``snomed`` (a concept id),
    ``onset``, ``abatement`` (``None`` while ongoing), FHIR clinical and verification status."""

    code: str
    onset: _dt.date
    system: str = "icd10cm"
    abatement: _dt.date | None = None
    clinical_status: str = "active"
    verification_status: str = "confirmed"
    KIND: ClassVar[str] = "diagnosis"

    def __post_init__(self) -> None:
        if self.system not in SET_TAGS["conditions"]:
            raise EncodingError(f"a condition is coded in icd10cm or snomed, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "onset", _date(self.onset, "condition onset"))
        object.__setattr__(self, "abatement", _optional_date(self.abatement, "condition abatement"))
        if self.abatement is not None and self.abatement < self.onset:
            raise EncodingError(f"condition {self.code}: abatement before onset")
        codes.condition_status(self.clinical_status, self.verification_status)

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        """(system, code number, a, b, value, status)."""
        status = codes.condition_status(self.clinical_status, self.verification_status)
        return self.system, codes.encode_clinical_code(self.system, self.code), self.onset, self.abatement, 0, status

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "code": self.code, "onset": self.onset.isoformat()}
        if self.abatement is not None:
            out["abatement"] = self.abatement.isoformat()
        out["clinicalStatus"] = self.clinical_status
        out["verificationStatus"] = self.verification_status
        return out


@dataclass(frozen=True)
class Medication:
    """A medication by ``atc`` substance code (5 levels) or ``rxnorm`` ingredient RxCUI, with ``start``, ``end``
    (``None`` while ongoing), FHIR status (active, completed, stopped, on-hold, other) and optionally the
    ``daily_dose`` in ``dose_unit`` (the unit of :data:`zkhealth.credentials.codes.DOSES` for the ingredient,
    never converted; a dose change is a new entry with its own start)."""

    code: str
    start: _dt.date
    system: str = "atc"
    end: _dt.date | None = None
    status: str = "active"
    daily_dose: Decimal | None = None
    dose_unit: str = ""
    KIND: ClassVar[str] = "medication"

    def __post_init__(self) -> None:
        if self.system not in SET_TAGS["medications"]:
            raise EncodingError(f"a medication is coded in atc or rxnorm, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "start", _date(self.start, "medication start"))
        object.__setattr__(self, "end", _optional_date(self.end, "medication end"))
        if self.end is not None and self.end < self.start:
            raise EncodingError(f"medication {self.code}: end before start")
        if self.status not in codes.MEDICATION_STATUS:
            raise EncodingError(f"unknown medication status {self.status!r}")
        if self.daily_dose is None:
            if self.dose_unit:
                raise EncodingError(f"medication {self.code}: a dose unit without a dose")
            return
        unit = codes.dose_unit(self.system, self.code)
        if unit is None:
            raise EncodingError(f"medication {self.system} {self.code}: no daily dose can be recorded on this code "
                                "(codes.DOSES lists the ingredients with a dose unit)")
        if self.dose_unit != unit.unit:
            raise EncodingError(f"{unit.name} doses are recorded in {unit.unit}/day, not {self.dose_unit!r}")
        object.__setattr__(self, "daily_dose", unit.decode(unit.encode(self.daily_dose)))

    def dose_value(self) -> int:
        """The leaf's ``value``: the fixed-point daily dose, 0 when none is recorded."""
        if self.daily_dose is None:
            return 0
        unit = codes.dose_unit(self.system, self.code)
        if unit is None:
            raise EncodingError(f"medication {self.code}: no dose unit")
        return unit.encode(self.daily_dose)

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return (self.system, codes.encode_clinical_code(self.system, self.code), self.start, self.end,
                self.dose_value(), codes.MEDICATION_STATUS[self.status])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "code": self.code, "start": self.start.isoformat()}
        if self.end is not None:
            out["end"] = self.end.isoformat()
        out["status"] = self.status
        if self.daily_dose is not None:
            out["dailyDose"] = format(self.daily_dose.normalize(), "f")
            out["doseUnit"] = self.dose_unit
        return out


@dataclass(frozen=True)
class Procedure:
    """A procedure by ``icd10pcs`` code (7 characters) or ``snomed`` concept, on ``performed``."""

    code: str
    performed: _dt.date
    system: str = "icd10pcs"
    status: str = "completed"
    KIND: ClassVar[str] = "procedure"

    def __post_init__(self) -> None:
        if self.system not in SET_TAGS["procedures"]:
            raise EncodingError(f"a procedure is coded in icd10pcs or snomed, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "performed", _date(self.performed, "procedure date"))
        if self.status not in codes.PROCEDURE_STATUS:
            raise EncodingError(f"unknown procedure status {self.status!r}")

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return (self.system, codes.encode_clinical_code(self.system, self.code), self.performed, self.performed, 0,
                codes.PROCEDURE_STATUS[self.status])

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "performed": self.performed.isoformat(),
                "status": self.status}


@dataclass(frozen=True)
class Observation:
    """A measurement or coded answer: a LOINC ``code`` of the observation table (aliases are recorded under
    the canonical code), ``value`` in the table's canonical UCUM ``unit`` (exact decimal; coded answers by
    name or answer code, unit ``""``), ``effective`` date and FHIR status (final/amended/corrected,
    preliminary)."""

    code: str
    value: Decimal | str
    effective: _dt.date
    unit: str = ""
    status: str = "final"
    system: str = "loinc"
    KIND: ClassVar[str] = "observation"

    def __post_init__(self) -> None:
        if self.system not in SET_TAGS["observations"]:
            raise EncodingError(f"an observation is coded in loinc (or a SNOMED CT observable), not {self.system!r}")
        concept = codes.observation_of(self.system, self.code)
        if concept is None:
            raise EncodingError(f"{self.system} {self.code} is not in the observation table (codes.OBSERVATIONS)")
        object.__setattr__(self, "code", concept.loinc)
        if self.unit != concept.unit:
            raise EncodingError(
                f"{concept.name} (LOINC {concept.loinc}) is recorded in {concept.unit!r}, not {self.unit!r}"
            )
        encoded = concept.encode_value(self.value)
        if concept.kind == codes.ObservationKind.CODED:
            object.__setattr__(self, "value", concept.decode_value(encoded))
        else:
            object.__setattr__(self, "value", Decimal(encoded).scaleb(-concept.decimals))
        object.__setattr__(self, "effective", _date(self.effective, "observation date"))
        if self.status not in codes.OBSERVATION_STATUS:
            raise EncodingError(f"observation status {self.status!r} is not recorded")

    @property
    def concept(self) -> codes.ObservationConcept:
        concept = codes.observation_of(self.system, self.code)
        if concept is None:
            raise EncodingError(f"{self.system} {self.code} is not in the observation table")
        return concept

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return (self.system, self.concept.encode_code(), self.effective, self.effective,
                self.concept.encode_value(self.value), codes.OBSERVATION_STATUS[self.status])

    def to_json(self) -> dict[str, Any]:
        concept = self.concept
        value = self.value if isinstance(self.value, str) else concept.decode_value(concept.encode_value(self.value))
        out: dict[str, Any] = {"code": self.code, "value": value, "unit": self.unit,
                               "effective": self.effective.isoformat(), "status": self.status}
        if self.system != "loinc":
            out["system"] = self.system
        return out


#: AllergyIntolerance clinical statuses kept in a record (as the condition clinical statuses).
_ALLERGY_CLINICAL: Final[frozenset[str]] = frozenset({"active", "inactive", "resolved"})
#: AllergyIntolerance type -> the raw leaf's value.
ALLERGY_TYPE: Final[Mapping[str, int]] = {"allergy": 1, "intolerance": 2}


@dataclass(frozen=True)
class Allergy:
    """An allergy or intolerance to a substance: ``atc`` (a 5-level substance code), ``rxnorm`` (ingredient)
    or ``snomed`` (substance concept); ``recorded`` (onset or recording date), ``resolved`` (``None`` unless
    resolved), ``type`` allergy / intolerance, FHIR clinical (active, inactive, resolved) and verification
    status (refuted and entered-in-error are not recorded)."""

    code: str
    recorded: _dt.date
    system: str = "atc"
    resolved: _dt.date | None = None
    type: str = "allergy"
    clinical_status: str = "active"
    verification_status: str = "confirmed"
    KIND: ClassVar[str] = "allergy"

    def __post_init__(self) -> None:
        if self.system not in KIND_TAGS["allergy"][1]:
            raise EncodingError(f"an allergy names a substance in atc, rxnorm or snomed, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "recorded", _date(self.recorded, "allergy date"))
        object.__setattr__(self, "resolved", _optional_date(self.resolved, "allergy resolution"))
        if self.resolved is not None and self.resolved < self.recorded:
            raise EncodingError(f"allergy {self.code}: resolved before it was recorded")
        if self.type not in ALLERGY_TYPE:
            raise EncodingError(f"allergy type is allergy or intolerance, not {self.type!r}")
        if self.clinical_status not in _ALLERGY_CLINICAL:
            raise EncodingError(f"allergy clinical status {self.clinical_status!r} is not recorded")
        codes.condition_status(self.clinical_status, self.verification_status)

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        status = codes.condition_status(self.clinical_status, self.verification_status)
        return (self.system, codes.encode_clinical_code(self.system, self.code), self.recorded, self.resolved,
                ALLERGY_TYPE[self.type], status)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "code": self.code, "recorded": self.recorded.isoformat()}
        if self.resolved is not None:
            out["resolved"] = self.resolved.isoformat()
        out.update(type=self.type, clinicalStatus=self.clinical_status, verificationStatus=self.verification_status)
        return out


@dataclass(frozen=True)
class DiagnosisDetail:
    """A SNOMED CT concept recorded with a diagnosis: a histology (a morphologic abnormality such as
    adenocarcinoma) or a stage group (an AJCC stage qualifier); ``diagnosis`` is the ICD-10-CM code it
    qualifies (stored as the leaf's ``value``), ``recorded`` its date."""

    code: str
    diagnosis: str
    recorded: _dt.date
    KIND: ClassVar[str] = "diagnosis_detail"

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", codes.normalize_clinical_code("snomed", self.code))
        object.__setattr__(self, "diagnosis", codes.normalize_clinical_code("icd10cm", self.diagnosis))
        object.__setattr__(self, "recorded", _date(self.recorded, "diagnosis detail date"))

    @property
    def system(self) -> str:
        return "snomed"

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return ("snomed", codes.encode_clinical_code("snomed", self.code), self.recorded, self.recorded,
                codes.encode_clinical_code("icd10cm", self.diagnosis), 1)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "diagnosis": self.diagnosis, "recorded": self.recorded.isoformat()}


@dataclass(frozen=True)
class Encounter:
    """A hospital admission (an inpatient encounter) for a reason: ``icd10cm`` (any code of the release) or
    ``snomed``; ``admitted``, ``discharged`` (``None`` while in hospital) and FHIR status (finished,
    in-progress). Other encounters (ambulatory, emergency, virtual) are not recorded."""

    code: str
    admitted: _dt.date
    system: str = "icd10cm"
    discharged: _dt.date | None = None
    status: str = "finished"
    KIND: ClassVar[str] = "hospitalization"

    def __post_init__(self) -> None:
        if self.system not in KIND_TAGS["hospitalization"][1]:
            raise EncodingError(f"an admission's reason is coded in icd10cm or snomed, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "admitted", _date(self.admitted, "admission date"))
        object.__setattr__(self, "discharged", _optional_date(self.discharged, "discharge date"))
        if self.discharged is not None and self.discharged < self.admitted:
            raise EncodingError(f"admission for {self.code}: discharged before admitted")
        if self.status not in codes.ENCOUNTER_STATUS:
            raise EncodingError(f"admission status is finished or in-progress, not {self.status!r}")
        if (self.status == "finished") != (self.discharged is not None):
            raise EncodingError(f"admission for {self.code}: a finished stay has a discharge date, an ongoing one not")

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return (self.system, codes.encode_clinical_code(self.system, self.code), self.admitted, self.discharged, 0,
                codes.ENCOUNTER_STATUS[self.status])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "code": self.code, "admitted": self.admitted.isoformat()}
        if self.discharged is not None:
            out["discharged"] = self.discharged.isoformat()
        out["status"] = self.status
        return out


@dataclass(frozen=True)
class Immunization:
    """A vaccine given: ``cvx`` (CDC vaccine code) or ``snomed`` (a vaccine product concept), on ``administered``.
    Immunizations recorded as not done or entered in error are not recorded."""

    code: str
    administered: _dt.date
    system: str = "cvx"
    KIND: ClassVar[str] = "immunization"

    def __post_init__(self) -> None:
        if self.system not in KIND_TAGS["immunization"][1]:
            raise EncodingError(f"an immunization is coded in cvx or snomed, not {self.system!r}")
        object.__setattr__(self, "code", codes.normalize_clinical_code(self.system, self.code))
        object.__setattr__(self, "administered", _date(self.administered, "immunization date"))

    def leaf_fields(self) -> tuple[str, int, _dt.date, _dt.date | None, int, int]:
        return (self.system, codes.encode_clinical_code(self.system, self.code), self.administered,
                self.administered, 0, 1)

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "administered": self.administered.isoformat()}


Entry = Condition | Medication | Procedure | Observation | Allergy | DiagnosisDetail | Encounter | Immunization


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class PatientRecord:
    """What an issuer attests: the fixed header claims and the four entry lists.

    ``complete`` says whether the lists are the patient's complete record as of ``as_of`` (exclusions and
    latest values need a complete record); ``as_of`` defaults to the latest clinical date (or the birth date
    of an empty record). Construction validates every entry and every date rule; sets are built lazily.
    """

    birth_date: _dt.date
    gender: str = "unknown"
    research_consent: bool = False
    complete: bool = False
    as_of: _dt.date | None = None
    conditions: tuple[Condition, ...] = ()
    medications: tuple[Medication, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    observations: tuple[Observation, ...] = ()
    allergies: tuple[Allergy, ...] = ()
    diagnosis_details: tuple[DiagnosisDetail, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    immunizations: tuple[Immunization, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "birth_date", _date(self.birth_date, "birth date"))
        if self.gender not in GENDERS:
            raise EncodingError(f"gender must be one of {', '.join(GENDERS)}")
        for name in ("research_consent", "complete"):
            if not isinstance(getattr(self, name), bool):
                raise EncodingError(f"{name} must be a bool")
        kinds: dict[str, type] = {
            "conditions": Condition, "medications": Medication, "procedures": Procedure, "observations": Observation,
            "allergies": Allergy, "diagnosis_details": DiagnosisDetail, "encounters": Encounter,
            "immunizations": Immunization,
        }
        for name, kind in kinds.items():
            items = tuple(getattr(self, name))
            if any(not isinstance(item, kind) for item in items):
                raise EncodingError(f"{name} must hold {kind.__name__} entries")
            object.__setattr__(self, name, items)
        clinical = [d for entry in self.entries() for d in _entry_dates(entry)]
        as_of = self.as_of
        if as_of is None:
            as_of = max([self.birth_date, *clinical])
        as_of = _date(as_of, "record as_of")
        object.__setattr__(self, "as_of", as_of)
        late = [d for d in clinical if d > as_of]
        if late:
            raise EncodingError(f"a clinical date ({max(late)}) lies after the record's as_of day ({as_of})")
        if as_of.toordinal() >= MAX_DATE or self.birth_date.toordinal() >= MAX_DATE:
            raise EncodingError("dates beyond the last encodable date")

    @property
    def record_as_of(self) -> _dt.date:
        """``as_of`` (always set after construction)."""
        if self.as_of is None:
            raise EncodingError("the record has no as_of day")
        return self.as_of

    def entries(self) -> list[Entry]:
        """Every entry, conditions first."""
        return [*self.conditions, *self.medications, *self.procedures, *self.observations, *self.allergies,
                *self.diagnosis_details, *self.encounters, *self.immunizations]

    @functools.cached_property
    def _sets(self) -> dict[str, SortedSet]:
        return build_sets(self)

    def sets(self) -> dict[str, SortedSet]:
        """The four built sets (computed once): name -> :class:`SortedSet`."""
        return self._sets

    def to_json(self) -> dict[str, Any]:
        """The human-readable record of the VC's ``credentialSubject.record``."""
        return {
            "birthDate": self.birth_date.isoformat(),
            "gender": self.gender,
            "researchConsent": self.research_consent,
            "complete": self.complete,
            "asOf": self.record_as_of.isoformat(),
            "conditions": [item.to_json() for item in self.conditions],
            "medications": [item.to_json() for item in self.medications],
            "procedures": [item.to_json() for item in self.procedures],
            "observations": [item.to_json() for item in self.observations],
            # The kinds added after the first version-2 records appear only when present, so that older
            # documents keep their exact bytes.
            **{key: [item.to_json() for item in items] for key, items in (
                ("allergies", self.allergies), ("diagnosisDetails", self.diagnosis_details),
                ("encounters", self.encounters), ("immunizations", self.immunizations)) if items},
        }

    @classmethod
    def from_json(cls, obj: object) -> PatientRecord:
        """Parse :meth:`to_json` output strictly (unknown or missing keys, wrong types: :class:`EncodingError`)."""
        data = _expect(obj, {"birthDate", "gender", "researchConsent", "complete", "asOf", "conditions",
                             "medications", "procedures", "observations"},
                       {"allergies", "diagnosisDetails", "encounters", "immunizations"}, "record")
        lists: dict[str, list[Any]] = {}
        for name in ("conditions", "medications", "procedures", "observations", "allergies", "diagnosisDetails",
                     "encounters", "immunizations"):
            value = data.get(name, [])
            if not isinstance(value, list) or (name in ("allergies", "diagnosisDetails", "encounters", "immunizations")
                                               and name in data and not value):
                raise EncodingError(f"record {name} must be a list (and, if present, not empty)")
            lists[name] = value
        conditions = tuple(
            Condition(
                code=_text(c["code"]), system=_text(c["system"]), onset=c["onset"], abatement=c.get("abatement"),
                clinical_status=_text(c["clinicalStatus"]), verification_status=_text(c["verificationStatus"]),
            )
            for c in (_expect(item, {"system", "code", "onset", "clinicalStatus", "verificationStatus"},
                              {"abatement"}, "condition") for item in lists["conditions"])
        )
        medications = tuple(
            Medication(code=_text(m["code"]), system=_text(m["system"]), start=m["start"], end=m.get("end"),
                       status=_text(m["status"]), daily_dose=_dose(m), dose_unit=_text(m.get("doseUnit", "")))
            for m in (_expect(item, {"system", "code", "start", "status"}, {"end", "dailyDose", "doseUnit"},
                              "medication") for item in lists["medications"])
        )
        allergies = tuple(
            Allergy(code=_text(a["code"]), system=_text(a["system"]), recorded=a["recorded"],
                    resolved=a.get("resolved"), type=_text(a["type"]), clinical_status=_text(a["clinicalStatus"]),
                    verification_status=_text(a["verificationStatus"]))
            for a in (_expect(item, {"system", "code", "recorded", "type", "clinicalStatus", "verificationStatus"},
                              {"resolved"}, "allergy") for item in lists["allergies"])
        )
        details = tuple(
            DiagnosisDetail(code=_text(d["code"]), diagnosis=_text(d["diagnosis"]), recorded=d["recorded"])
            for d in (_expect(item, {"code", "diagnosis", "recorded"}, set(), "diagnosis detail")
                      for item in lists["diagnosisDetails"])
        )
        encounters = tuple(
            Encounter(code=_text(e["code"]), system=_text(e["system"]), admitted=e["admitted"],
                      discharged=e.get("discharged"), status=_text(e["status"]))
            for e in (_expect(item, {"system", "code", "admitted", "status"}, {"discharged"}, "encounter")
                      for item in lists["encounters"])
        )
        immunizations = tuple(
            Immunization(code=_text(i["code"]), system=_text(i["system"]), administered=i["administered"])
            for i in (_expect(item, {"system", "code", "administered"}, set(), "immunization")
                      for item in lists["immunizations"])
        )
        procedures = tuple(
            Procedure(code=_text(p["code"]), system=_text(p["system"]), performed=p["performed"],
                      status=_text(p["status"]))
            for p in (_expect(item, {"system", "code", "performed", "status"}, set(), "procedure")
                      for item in lists["procedures"])
        )
        observations = tuple(
            Observation(code=_text(o["code"]), value=_text(o["value"]), unit=_text(o["unit"]),
                        effective=o["effective"], status=_text(o["status"]), system=_text(o.get("system", "loinc")))
            for o in (_expect(item, {"code", "value", "unit", "effective", "status"}, {"system"}, "observation")
                      for item in lists["observations"])
        )
        for key in ("researchConsent", "complete"):
            if not isinstance(data[key], bool):
                raise EncodingError(f"record {key} must be a JSON boolean")
        return cls(
            birth_date=data["birthDate"], gender=_text(data["gender"]), research_consent=data["researchConsent"],
            complete=data["complete"], as_of=data["asOf"], conditions=conditions, medications=medications,
            procedures=procedures, observations=observations, allergies=allergies, diagnosis_details=details,
            encounters=encounters, immunizations=immunizations,
        )


def _dose(item: dict[str, Any]) -> Decimal | None:
    if "dailyDose" not in item:
        return None
    return Decimal(_text(item["dailyDose"]))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise EncodingError("expected a JSON string")
    return value


def _expect(obj: object, required: set[str], optional: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise EncodingError(f"{what} must be a JSON object")
    missing, unknown = required - set(obj), set(obj) - required - optional
    if missing or unknown:
        raise EncodingError(f"{what}: missing {sorted(missing)} / unknown {sorted(unknown)} keys")
    return obj


def _entry_dates(entry: Entry) -> list[_dt.date]:
    if isinstance(entry, Condition):
        return [entry.onset] + ([entry.abatement] if entry.abatement else [])
    if isinstance(entry, Medication):
        return [entry.start] + ([entry.end] if entry.end else [])
    if isinstance(entry, Procedure):
        return [entry.performed]
    if isinstance(entry, Allergy):
        return [entry.recorded] + ([entry.resolved] if entry.resolved else [])
    if isinstance(entry, DiagnosisDetail):
        return [entry.recorded]
    if isinstance(entry, Encounter):
        return [entry.admitted] + ([entry.discharged] if entry.discharged else [])
    if isinstance(entry, Immunization):
        return [entry.administered]
    return [entry.effective]


# --------------------------------------------------------------------------- building the sets


def _group_codes() -> list[tuple[int, tuple[tuple[int, int], ...]]]:
    """(aggregate code, ICD-10-CM number intervals) of every named group."""
    out = []
    for index, (_name, patterns) in enumerate(ICD10_GROUPS):
        out.append((GROUP_CODE_BASE + index, tuple(codes.clinical_code_range("icd10cm", p) for p in patterns)))
    return out


@functools.cache
def icd10_group_table() -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...]:
    """The named groups as (aggregate code, intervals), computed once."""
    return tuple(_group_codes())


def _class_nodes(set_name: str, system: str, code: int) -> tuple[int, ...]:
    """The aggregate codes an entry counts towards (every class containing it, the code itself included)."""
    if system == "icd10cm":
        groups = tuple(g for g, intervals in icd10_group_table() if any(lo <= code <= hi for lo, hi in intervals))
        return codes.icd10_ancestors(code) + groups
    if system == "atc":
        return tuple(codes.atc_encode(p) for p in codes.atc_prefixes(codes.atc_decode(code)))
    if system == "icd10pcs":
        text = codes.pcs_decode(code)
        return tuple(codes.pcs_encode(text[:n]) for n in range(1, len(text) + 1))
    return (code,)


def build_sets(record: PatientRecord) -> dict[str, SortedSet]:
    """Build the four sets of a record (raw and aggregate leaves, module docstring)."""
    groups: dict[str, list[Entry]] = {name: [] for name in SETS}
    for entry in record.entries():
        groups[KIND_TAGS[entry.KIND][0]].append(entry)
    return {name: _build_set(name, entries) for name, entries in groups.items()}


def _build_set(name: str, entries: Sequence[Entry]) -> SortedSet:
    raw: list[tuple[int, int, int, int, int, int, int, int]] = []  # tag, code, a_ord, a_packed, b..., value, status
    aggregates: dict[tuple[int, int], list[int]] = {}  # (tag, node) -> [max a_ord, a_packed, max b_ord, b_packed,
    #                                                     count, min status]
    for entry in entries:
        system, code, a_date, b_date, value, status = entry.leaf_fields()
        raw_tag, aggregate_tag = KIND_TAGS[entry.KIND][1][system]
        a_ord, a_packed = date_fields(a_date)
        b_ord, b_packed = date_fields(b_date)
        raw.append((raw_tag, code, a_ord, a_packed, b_ord, b_packed, value, status))
        for node in _class_nodes(name, system, code):
            current = aggregates.get((aggregate_tag, node))
            if current is None:
                aggregates[(aggregate_tag, node)] = [a_ord, a_packed, b_ord, b_packed, 1, status]
                continue
            if a_ord > current[0]:
                current[0], current[1] = a_ord, a_packed
            if b_ord > current[2]:
                current[2], current[3] = b_ord, b_packed
            current[4] += 1
            current[5] = min(current[5], status)
    items: list[tuple[int, int, int, int, int, int, int]] = []
    raw.sort()
    previous: tuple[int, int, int] | None = None
    seq = 0
    for tag, code, a_ord, a_packed, b_ord, b_packed, value, status in raw:
        seq = seq + 1 if previous == (tag, code, a_ord) else 0
        previous = (tag, code, a_ord)
        if seq >= 256:
            raise EncodingError(f"the {name} set has more than 256 entries of one code on one day")
        items.append((make_key(tag, code, a_ord, seq), a_ord, a_packed, b_ord, b_packed, value, status))
    for (tag, node), (a_ord, a_packed, b_ord, b_packed, count, status) in aggregates.items():
        items.append((make_key(tag, node, 0, 0), a_ord, a_packed, b_ord, b_packed, count, status))
    return SortedSet(name, items)


# --------------------------------------------------------------------------- the credential


def header_hash(header: Sequence[int]) -> int:
    """``poseidon([poseidon(h[0:16]), poseidon(h[16:20])])``: the message the issuer signs."""
    if len(header) != HEADER_LENGTH:
        raise EncodingError(f"a version-2 header has {HEADER_LENGTH} elements, got {len(header)}")
    return poseidon([poseidon(list(header[:HASH_CHUNK])), poseidon(list(header[HASH_CHUNK:]))])


#: The latest ``expires_at`` (first day not valid): 7793-01-01. A proof's ``today`` goes through the circuit's
#: calendar (``zkhealth.eligibility.calendar``), which covers days up to 7792-12-31; every day a credential
#: claims valid must be a day a proof can be made on. Clinical dates never go through the calendar (they are
#: compared as ordinals and packed dates, both below 2^22 up to 9999-12-31).
LATEST_EXPIRY: Final[int] = (_dt.date(7793, 1, 1) - _dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class RecordCredential:
    """A version-2 credential: identifiers, validity, issuer keys and the :class:`PatientRecord`.

    Valid on day ``d`` iff ``issued_at <= d < expires_at`` (epoch days). ``record.as_of`` must not be after
    the issue day. :meth:`header` is the signed vector (module docstring).
    """

    credential_id: int
    subject_commitment: int
    issuer_public_key: tuple[int, int]
    issuer_ed25519: bytes
    issued_at: int
    expires_at: int
    record: PatientRecord
    schema_version: int = field(default=RECORD_SCHEMA_VERSION)

    def __post_init__(self) -> None:
        if self.schema_version != RECORD_SCHEMA_VERSION:
            raise SchemaMismatchError(f"this is schema version {RECORD_SCHEMA_VERSION}, got {self.schema_version}")
        cid = self.credential_id
        if isinstance(cid, bool) or not isinstance(cid, int) or not 0 < cid < _ID_BOUND:
            raise EncodingError("credential_id must be an int in [1, 2^128)")
        if not isinstance(self.issuer_ed25519, bytes) or len(self.issuer_ed25519) != 32:
            raise EncodingError("issuer_ed25519 must be 32 bytes")
        if not isinstance(self.record, PatientRecord):
            raise EncodingError("record must be a PatientRecord")
        point = tuple(self.issuer_public_key)
        if len(point) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < FIELD_R
                                  for v in point):
            raise EncodingError("issuer_public_key must be a point (Ax, Ay) of field elements")
        object.__setattr__(self, "issuer_public_key", (point[0], point[1]))
        sc = self.subject_commitment
        if isinstance(sc, bool) or not isinstance(sc, int) or not 0 <= sc < FIELD_R:
            raise EncodingError("subject_commitment must be a field element")
        for name in ("issued_at", "expires_at"):
            dates.epoch_day_to_date(getattr(self, name))
        if not self.issued_at < self.expires_at:
            raise EncodingError("issued_at must be before expires_at")
        if self.expires_at > LATEST_EXPIRY:
            raise EncodingError("expires_at lies after 7793-01-01: the circuit's calendar ends with year 7792, so "
                                "no proof could be made on the later days the credential would claim valid")
        if dates.date_to_epoch_day(self.record.record_as_of) > self.issued_at:
            raise EncodingError("the record's as_of day lies after the issue day")

    @functools.cached_property
    def _header(self) -> tuple[int, ...]:
        record = self.record
        sets = record.sets()
        values = {
            "schema_id": SCHEMA_ID,
            "schema_version": RECORD_SCHEMA_VERSION,
            "credential_id": self.credential_id,
            "subject_commitment": self.subject_commitment,
            "issuer_ax": self.issuer_public_key[0],
            "issuer_ay": self.issuer_public_key[1],
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "birth_date": record.birth_date.toordinal(),
            "birth_date_packed": dates.packed_date(record.birth_date),
            "gender": GENDERS.index(record.gender) + 1,
            "research_consent": int(record.research_consent),
            "record_complete": int(record.complete),
            "record_as_of": record.record_as_of.toordinal(),
            "conditions_root": sets["conditions"].root,
            "medications_root": sets["medications"].root,
            "procedures_root": sets["procedures"].root,
            "observations_root": sets["observations"].root,
            "issuer_ed25519_hi": int.from_bytes(self.issuer_ed25519[:16], "big"),
            "issuer_ed25519_lo": int.from_bytes(self.issuer_ed25519[16:], "big"),
        }
        vector = tuple(values[name] for name, _ in HEADER_FIELDS)
        for (name, bits), value in zip(HEADER_FIELDS, vector, strict=True):
            if not 0 <= value < min(1 << bits, FIELD_R):
                raise EncodingError(f"header slot {name} does not fit {bits} bits")
        return vector

    def header(self) -> list[int]:
        """The 20 signed field elements."""
        return list(self._header)

    def claims_hash(self) -> int:
        """The signed message (:func:`header_hash` of :meth:`header`)."""
        return header_hash(self._header)

    def sets(self) -> dict[str, SortedSet]:
        """The record's four built sets."""
        return self.record.sets()

    def is_valid_on(self, day: int) -> bool:
        """``issued_at <= day < expires_at``."""
        return self.issued_at <= day < self.expires_at

    def header_value(self, name: str) -> int:
        """One header slot by name."""
        return self._header[HEADER_INDEX[name]]


# --------------------------------------------------------------------------- migration from version 1


def record_from_v1(
    claims: HealthClaims,
    *,
    as_of: _dt.date,
    systolic_bp_date: _dt.date | None = None,
    snomed_for: Callable[[str], str | None] | None = None,
) -> PatientRecord:
    """A *partial* version-2 record holding what version-1 claims say: diagnoses (ICD-10-CM, with their
    dates), HbA1c and eGFR (dated), and the systolic pressure when the issuer supplies its date
    (``systolic_bp_date``; version 1 stored it undated, so without a date it is left out rather than guessed).

    ``as_of`` is the day the version-1 record was current (its issue day). ``snomed_for`` may add a SNOMED CT
    coding per ICD-10-CM code. The result is partial (``complete=False``): it satisfies inclusions only,
    since four diagnosis slots say nothing about what else the patient has.
    """
    conditions: list[Condition] = []
    for diagnosis in claims.diagnoses:
        conditions.append(Condition(code=diagnosis.code, onset=diagnosis.date))
        extra = snomed_for(diagnosis.code) if snomed_for is not None else None
        if extra is not None:
            conditions.append(Condition(code=extra, system="snomed", onset=diagnosis.date))
    observations: list[Observation] = []
    if claims.hba1c is not None:
        observations.append(Observation("4548-4", claims.hba1c.value, claims.hba1c.date, unit="%"))
    if claims.egfr is not None:
        observations.append(Observation("33914-3", claims.egfr.value, claims.egfr.date, unit="mL/min/{1.73_m2}"))
    if claims.systolic_bp is not None and systolic_bp_date is not None:
        observations.append(Observation("8480-6", Decimal(claims.systolic_bp), systolic_bp_date, unit="mm[Hg]"))
    return PatientRecord(
        birth_date=claims.birth_date, gender=claims.gender, research_consent=claims.research_consent,
        complete=False, as_of=as_of, conditions=tuple(conditions), observations=tuple(observations),
    )


def describe_key(set_name: str, key: int) -> str:
    """A readable name of a leaf key (``icd10cm E11.9 2022-06-01 #0`` or ``aggregate atc A10B``)."""
    if key == 0:
        return "sentinel"
    tag, code, date_ord, seq = split_key(key)
    for kind, system, raw_tag, aggregate_tag in _tags_of(set_name):
        prefix = "" if kind == _SET_KIND[set_name] else f"{kind} "
        if tag == raw_tag:
            return (f"{prefix}{system} {codes.decode_clinical_code(system, code)} "
                    f"{_dt.date.fromordinal(date_ord)} #{seq}")
        if tag == aggregate_tag:
            return f"aggregate {prefix}{system} {_describe_node(system, code)}"
    return f"tag {tag} code {code}"


#: The set's own kind (its entries are named without a kind prefix).
_SET_KIND: Final[Mapping[str, str]] = {"conditions": "diagnosis", "medications": "medication",
                                      "procedures": "procedure", "observations": "observation"}


def _tags_of(set_name: str) -> list[tuple[str, str, int, int]]:
    """(kind, system, raw tag, aggregate tag) of every kind stored in a set."""
    return [(kind, system, raw, aggregate) for kind, (owner, systems) in KIND_TAGS.items() if owner == set_name
            for system, (raw, aggregate) in systems.items()]


def describe_code(set_name: str, tag: int, code: int) -> str:
    """A readable name of a (tag, code) of a set: ``icd10cm E11``, ``aggregate atc A10B``, ``loinc 4548-4``."""
    for kind, system, raw_tag, aggregate_tag in _tags_of(set_name):
        if tag in (raw_tag, aggregate_tag):
            prefix = ("" if tag == raw_tag else "aggregate ") + ("" if kind == _SET_KIND[set_name] else f"{kind} ")
            try:
                return f"{prefix}{system} {_describe_node(system, code)}"
            except (EncodingError, IndexError):
                return f"{prefix}{system} #{code}"
    return f"tag {tag} code {code}"


def _describe_node(system: str, node: int) -> str:
    if system == "icd10cm":
        if node >= GROUP_CODE_BASE:
            return ICD10_GROUPS[node - GROUP_CODE_BASE][0]
        return icd10.load_table().names[node - 1]
    if system == "atc":
        return codes.atc_decode(node)
    if system == "icd10pcs":
        return codes.pcs_decode(node)
    if system in ("loinc", "cvx"):
        return codes.decode_clinical_code(system, node)
    return str(node)
