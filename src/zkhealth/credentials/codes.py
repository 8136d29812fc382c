"""Clinical code systems of credential schema version 2: one integer encoding per system, and the tables
(statuses, observations) that the issuer, the criteria compiler and the docs share.

Each encoding is injective, fits 60 bits, and maps every class of a hierarchical system to one contiguous
range of integers, so "has a code in this class" is two comparisons in a circuit:

==============  ==================================================================  ==========================
system          encoding                                                            a class is
==============  ==================================================================  ==========================
ICD-10-CM       pre-order number of the node in the tabular list (:mod:`.icd10`)     a node's subtree
SNOMED CT       the concept id (SCTID) itself; Verhoeff check digit and the concept  a single concept (flat)
                partition (``00`` or ``10``) are checked
ATC             ``(((L1 * 101 + L2) * 27 + L3) * 27 + L4) * 101 + L5``: letters     a prefix (A, A10, A10B,
                A..Z = 1..26, two-digit levels 00..99 = 1..100, 0 = level absent     A10BA, A10BA02)
RxNorm          the RxCUI itself (recorded per ingredient)                          a single concept (flat)
ICD-10-PCS      7 characters, each 1..34 (0..9, A..H, J..N, P..Z; I and O are not    a prefix of 1..7
                used), 0 = absent, base 35, most significant first                   characters
LOINC           ``NNNNN-C`` read as the integer ``NNNNNC`` (mod-10 check digit       a single code (flat)
                checked)
CVX             the CDC vaccine code (1 to 3 digits) as an integer; written with at  a single code (flat)
                least two digits (``03`` is MMR)
==============  ==================================================================  ==========================

A prefix with zeros below it is the smallest number of its subtree (ATC, PCS), and an ICD-10-CM node is
numbered before its descendants, so the range of a class is ``[encode(prefix), last number below it]``.

Why ICD-10-PCS and SNOMED CT for procedures: CPT is licensed by the AMA and cannot be shipped or encoded
freely; ICD-10-PCS is public domain (CMS) and hierarchical by position (the first characters name the body
system and the root operation: ``0D16`` is "bypass of the stomach"), and SNOMED CT covers procedures
recorded outside US inpatient billing. Both are accepted; criteria may name either.

ICD-10-PCS codes, RxCUIs and CVX codes are checked for shape only (no code table is shipped); SNOMED CT ids and
LOINC codes carry check digits, which are verified; ICD-10-CM and ATC codes must exist in the shipped
ICD-10-CM release / have the ATC shape.

The observation table (:data:`OBSERVATIONS`) fixes, for each measured concept, its canonical LOINC code
(equivalent codes listed as aliases are recorded under it), its canonical UCUM unit, and its fixed-point
scale. Coded answers (pregnancy and smoking status, urine dipstick protein) are small enums; an *ordinal* one
(dipstick protein: negative < trace < 1+ < ... < 4+) may be compared with ``<``/``>=``. Where LOINC has no
code for a concept, a SNOMED CT observable entity is its code (``system="snomed"``: cigarette pack-years,
SNOMED CT 401201003). Values are never converted or rounded: a value in another unit or with more decimals
than the scale is refused. Each row's source comment says where its code and meaning were confirmed.

The dose table (:data:`DOSES`) fixes, per ingredient, the unit of a medication's daily dose (stored in the
medication leaf's ``value`` as ``dose * 10^decimals``; 0 = no dose recorded). A dose is recorded only on a
leaf whose code names exactly that ingredient: a 5-level ATC substance code of the table or the
ingredient's RxCUI (combination products carry their doses on their RxNorm ingredient leaves).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from zkhealth.credentials import icd10
from zkhealth.errors import CodeSystemError, EncodingError

__all__ = [
    "CODE_BITS",
    "CONDITION_ACTIVE",
    "CONDITION_CLINICAL",
    "CONDITION_VERIFICATION",
    "DOSES",
    "DOSE_BY_CODE",
    "ENCOUNTER_STATUS",
    "MEDICATION_STATUS",
    "OBSERVATIONS",
    "OBSERVATION_BY_LOINC",
    "OBSERVATION_BY_NAME",
    "OBSERVATION_STATUS",
    "PROCEDURE_STATUS",
    "SYSTEMS",
    "CodeSystem",
    "DoseUnit",
    "ObservationConcept",
    "ObservationKind",
    "atc_decode",
    "atc_encode",
    "atc_prefixes",
    "atc_range",
    "clinical_code_range",
    "cvx_encode",
    "condition_status",
    "decode_clinical_code",
    "dose_unit",
    "encode_clinical_code",
    "icd10_ancestors",
    "icd10_node_tiling",
    "loinc_check_digit",
    "loinc_decode",
    "loinc_encode",
    "normalize_clinical_code",
    "observation",
    "observation_of",
    "pcs_decode",
    "pcs_encode",
    "pcs_range",
    "rxnorm_encode",
    "snomed_encode",
    "verhoeff_valid",
]

#: Every code encoding fits this many bits (the key layout reserves 60).
CODE_BITS: Final[int] = 60
_CODE_BOUND: Final[int] = 1 << CODE_BITS


@dataclass(frozen=True)
class CodeSystem:
    """A code system: its short ``name`` used in criteria (``atc:A10BA02``), its FHIR system URI, and
    whether a class of it is a range of encodings (``hierarchical``) or a single concept."""

    name: str
    uri: str
    hierarchical: bool


SYSTEMS: Final[Mapping[str, CodeSystem]] = MappingProxyType(
    {
        "icd10cm": CodeSystem("icd10cm", "http://hl7.org/fhir/sid/icd-10-cm", True),
        "snomed": CodeSystem("snomed", "http://snomed.info/sct", False),
        "atc": CodeSystem("atc", "http://www.whocc.no/atc", True),
        "rxnorm": CodeSystem("rxnorm", "http://www.nlm.nih.gov/research/umls/rxnorm", False),
        "icd10pcs": CodeSystem("icd10pcs", "http://www.cms.gov/Medicare/Coding/ICD10", True),
        "loinc": CodeSystem("loinc", "http://loinc.org", False),
        "cvx": CodeSystem("cvx", "http://hl7.org/fhir/sid/cvx", False),
    }
)

_MAX_CODE_CHARS: Final[int] = 32


def _clean(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CodeSystemError(f"a {what} code must be a str, got {type(value).__name__}")
    if len(value) > _MAX_CODE_CHARS:
        raise CodeSystemError(f"{what} code text is too long")
    text = unicodedata.normalize("NFC", value).strip().upper()
    if not text.isascii():
        raise CodeSystemError(f"{value!r} is not a {what} code (non-ASCII characters)")
    return text


# --------------------------------------------------------------------------- SNOMED CT

# Verhoeff's dihedral-group tables (J. Verhoeff, 1969), as used by SNOMED CT identifiers.
_VERHOEFF_D: Final[tuple[tuple[int, ...], ...]] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P: Final[tuple[tuple[int, ...], ...]] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """Whether a digit string (check digit last) passes Verhoeff's check."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][ord(char) - 48]]
    return check == 0


def snomed_encode(value: object) -> int:
    """A SNOMED CT concept id as an int. Enforces 6..18 ASCII digits, no leading zero, a concept partition
    (``00`` short or ``10`` extension namespace) and a valid Verhoeff check digit."""
    text = _clean(value, "SNOMED CT")
    if not re.fullmatch(r"[1-9][0-9]{5,17}", text, re.ASCII):
        raise CodeSystemError(f"{value!r} is not a SNOMED CT id (6 to 18 digits)")
    if text[-3:-1] not in ("00", "10"):
        raise CodeSystemError(f"{text} is not a SNOMED CT concept id (partition {text[-3:-1]})")
    if not verhoeff_valid(text):
        raise CodeSystemError(f"{text} fails the SNOMED CT check digit")
    return int(text)


# --------------------------------------------------------------------------- ATC

_ATC_FIRST: Final[frozenset[str]] = frozenset("ABCDGHJLMNPRSV")
_ATC_SHAPE = re.compile(r"([A-Z])(?:([0-9]{2})(?:([A-Z])(?:([A-Z])([0-9]{2})?)?)?)?", re.ASCII)


def _letter(char: str | None) -> int:
    return 0 if char is None else ord(char) - 64


def atc_encode(value: object) -> int:
    """An ATC code or class prefix (``A``, ``A10``, ``A10B``, ``A10BA``, ``A10BA02``) as its mixed-radix number.

    A prefix encodes with zeros for the absent levels, which makes it the smallest number of its subtree."""
    text = _clean(value, "ATC")
    match = _ATC_SHAPE.fullmatch(text)
    if match is None or text[0] not in _ATC_FIRST:
        raise CodeSystemError(f"{value!r} is not an ATC code or class (e.g. A10BA02, A10B)")
    l1, l2, l3, l4, l5 = match.groups()
    level2 = 0 if l2 is None else int(l2) + 1
    level5 = 0 if l5 is None else int(l5) + 1
    return (((_letter(l1) * 101 + level2) * 27 + _letter(l3)) * 27 + _letter(l4)) * 101 + level5


def atc_decode(number: int) -> str:
    """Inverse of :func:`atc_encode`."""
    rest, level5 = divmod(number, 101)
    rest, l4 = divmod(rest, 27)
    rest, l3 = divmod(rest, 27)
    l1, level2 = divmod(rest, 101)
    if not 1 <= l1 <= 26:
        raise CodeSystemError(f"{number} does not encode an ATC code")
    parts = [chr(64 + l1)]
    for present, text in ((level2, f"{level2 - 1:02d}"), (l3, chr(64 + l3)), (l4, chr(64 + l4)),
                          (level5, f"{level5 - 1:02d}")):
        if not present:
            break
        parts.append(text)
    code = "".join(parts)
    if atc_encode(code) != number:
        raise CodeSystemError(f"{number} does not encode an ATC code")
    return code


def atc_range(prefix: object) -> tuple[int, int]:
    """The inclusive range of encodings of every ATC code at or below ``prefix`` (a class or a code)."""
    text = _clean(prefix, "ATC")
    # The largest code below the prefix: the missing levels at their maxima (99, Z, Z, 99).
    tail = {1: "99ZZ99", 3: "ZZ99", 4: "Z99", 5: "99", 7: ""}
    if len(text) not in tail:
        raise CodeSystemError(f"{prefix!r} is not an ATC class prefix")
    return atc_encode(text), atc_encode(text + tail[len(text)])


def atc_prefixes(code: object) -> tuple[str, ...]:
    """Every class prefix of an ATC code, shortest first, the code itself last."""
    text = _clean(code, "ATC")
    atc_encode(text)
    return tuple(text[:n] for n in (1, 3, 4, 5, 7) if n <= len(text))


# --------------------------------------------------------------------------- RxNorm


def rxnorm_encode(value: object) -> int:
    """An RxNorm concept id (RxCUI): 1 to 12 ASCII digits, no leading zero."""
    text = _clean(value, "RxNorm")
    if not re.fullmatch(r"[1-9][0-9]{0,11}", text, re.ASCII):
        raise CodeSystemError(f"{value!r} is not an RxNorm RxCUI")
    return int(text)


# --------------------------------------------------------------------------- ICD-10-PCS

_PCS_ALPHABET: Final[str] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_PCS_VALUE: Final[dict[str, int]] = {c: i + 1 for i, c in enumerate(_PCS_ALPHABET)}
_PCS_LENGTH: Final[int] = 7
_PCS_BASE: Final[int] = 35


def pcs_encode(value: object) -> int:
    """An ICD-10-PCS code (7 characters) or prefix (1..6) as its base-35 number, absent characters 0."""
    text = _clean(value, "ICD-10-PCS").replace(".", "")
    if not 1 <= len(text) <= _PCS_LENGTH or any(c not in _PCS_VALUE for c in text):
        raise CodeSystemError(f"{value!r} is not an ICD-10-PCS code or prefix (0-9, A-Z without I and O)")
    number = 0
    for position in range(_PCS_LENGTH):
        number = number * _PCS_BASE + (_PCS_VALUE[text[position]] if position < len(text) else 0)
    return number


def pcs_decode(number: int) -> str:
    """Inverse of :func:`pcs_encode`."""
    digits = []
    rest = number
    for _ in range(_PCS_LENGTH):
        rest, digit = divmod(rest, _PCS_BASE)
        digits.append(digit)
    if rest or not 0 < number:
        raise CodeSystemError(f"{number} does not encode an ICD-10-PCS code")
    digits.reverse()
    text = ""
    for position, digit in enumerate(digits):
        if digit == 0:
            if any(digits[position:]):
                raise CodeSystemError(f"{number} does not encode an ICD-10-PCS code")
            break
        text += _PCS_ALPHABET[digit - 1]
    return text


def pcs_range(prefix: object) -> tuple[int, int]:
    """The inclusive range of encodings of every code starting with ``prefix``."""
    text = _clean(prefix, "ICD-10-PCS").replace(".", "")
    lo = pcs_encode(text)
    return lo, pcs_encode(text + _PCS_ALPHABET[-1] * (_PCS_LENGTH - len(text)))


# --------------------------------------------------------------------------- LOINC


def loinc_check_digit(number_part: str) -> int:
    """LOINC's mod-10 check digit (Luhn) of the digits before the dash."""
    total = 0
    for position, char in enumerate(reversed(number_part)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            digit = digit // 10 + digit % 10
        total += digit
    return (10 - total % 10) % 10


def loinc_encode(value: object) -> int:
    """A LOINC code ``NNNNN-C`` (1 to 7 digits, dash, check digit) as the integer ``NNNNNC``."""
    text = _clean(value, "LOINC")
    match = re.fullmatch(r"([1-9][0-9]{0,6})-([0-9])", text, re.ASCII)
    if match is None:
        raise CodeSystemError(f"{value!r} is not a LOINC code (NNNNN-C)")
    if loinc_check_digit(match.group(1)) != int(match.group(2)):
        raise CodeSystemError(f"{text} fails the LOINC check digit")
    return int(match.group(1) + match.group(2))


def loinc_decode(number: int) -> str:
    """Inverse of :func:`loinc_encode`."""
    text = str(number)
    code = f"{text[:-1]}-{text[-1]}"
    if len(text) < 2 or loinc_encode(code) != number:
        raise CodeSystemError(f"{number} does not encode a LOINC code")
    return code


# --------------------------------------------------------------------------- CVX


def cvx_encode(value: object) -> int:
    """A CVX vaccine code (CDC's Vaccine Administered code set, FHIR system ``http://hl7.org/fhir/sid/cvx``):
    1 to 3 ASCII digits, not 0. Checked for shape only (no code table is shipped); ``3`` and ``03`` are the
    same code, written ``03``."""
    text = _clean(value, "CVX")
    if not re.fullmatch(r"[0-9]{1,3}", text, re.ASCII) or int(text) == 0:
        raise CodeSystemError(f"{value!r} is not a CVX code (1 to 3 digits)")
    return int(text)


# --------------------------------------------------------------------------- dispatch


def normalize_clinical_code(system: str, value: object) -> str:
    """The canonical spelling of a code of ``system`` (validated)."""
    return decode_clinical_code(system, encode_clinical_code(system, value))


def encode_clinical_code(system: str, value: object) -> int:
    """Encode a code of ``system`` (a key of :data:`SYSTEMS`); ICD-10-CM codes must exist in the release."""
    if system == "icd10cm":
        return icd10.encode_code(value)
    if system == "snomed":
        return snomed_encode(value)
    if system == "atc":
        number = atc_encode(value)
        if len(_clean(value, "ATC")) != 7:
            raise CodeSystemError(f"{value!r} is an ATC class, not a substance code (5 levels, e.g. A10BA02)")
        return number
    if system == "rxnorm":
        return rxnorm_encode(value)
    if system == "icd10pcs":
        number = pcs_encode(value)
        if len(_clean(value, "ICD-10-PCS").replace(".", "")) != _PCS_LENGTH:
            raise CodeSystemError(f"{value!r} is not a full 7-character ICD-10-PCS code")
        return number
    if system == "loinc":
        return loinc_encode(value)
    if system == "cvx":
        return cvx_encode(value)
    raise CodeSystemError(f"unknown code system {system!r}; known: {', '.join(SYSTEMS)}")


def decode_clinical_code(system: str, number: int) -> str:
    """Inverse of :func:`encode_code`."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < _CODE_BOUND:
        raise CodeSystemError(f"{number!r} is not an encoded code")
    if system == "icd10cm":
        return icd10.decode_code(number)
    if system in ("snomed", "rxnorm"):
        return str(number)
    if system == "atc":
        return atc_decode(number)
    if system == "icd10pcs":
        return pcs_decode(number)
    if system == "loinc":
        return loinc_decode(number)
    if system == "cvx":
        if number > 999:
            raise CodeSystemError(f"{number} does not encode a CVX code")
        return f"{number:02d}"
    raise CodeSystemError(f"unknown code system {system!r}")


def clinical_code_range(system: str, pattern: object) -> tuple[int, int]:
    """The inclusive range of encodings a class pattern of ``system`` matches.

    ICD-10-CM: any :func:`zkhealth.credentials.icd10.code_range` pattern (``E11``, ``E11.*``, ``O00-O9A``);
    ATC and ICD-10-PCS: a prefix (``A10B``, ``0D16``; a trailing ``*`` is allowed); SNOMED CT, RxNorm, LOINC:
    one code (a single-point range)."""
    if system == "icd10cm":
        try:
            return icd10.code_range(pattern)
        except EncodingError as exc:
            raise CodeSystemError(str(exc)) from None
    text = _clean(pattern, system)
    if system in ("atc", "icd10pcs") and text.endswith("*"):
        text = text[:-1]
    if system == "atc":
        return atc_range(text)
    if system == "icd10pcs":
        return pcs_range(text)
    number = encode_clinical_code(system, text)
    return number, number


def icd10_ancestors(number: int) -> tuple[int, ...]:
    """The node itself and every ancestor node (blocks and chapters included) of an ICD-10-CM code number."""
    table = icd10.load_table()
    out = [number]
    parent = table.parents[number - 1]
    while parent:
        out.append(parent)
        parent = table.parents[parent - 1]
    return tuple(out)


def icd10_node_tiling(lo: int, hi: int) -> tuple[int, ...]:
    """The fewest ICD-10-CM nodes whose subtrees hold exactly the codes numbered in ``[lo, hi]``.

    ``[lo, hi]`` must be a range from :func:`code_range` (it starts at a node and ends at a subtree's end).
    Blocks and chapters that start right before ``lo`` and end inside the range are used, so ``C00-C96``
    is the one block node, and ``C77-C79`` is the three categories. Cost: O(nodes in the range) at worst."""
    table = icd10.load_table()
    start = lo
    while start > 1 and table.kinds[start - 2] != "k" and table.ends[start - 2] <= hi:
        start -= 1
    nodes: list[int] = []
    position = start
    while position <= hi:
        end = table.ends[position - 1]
        if end <= hi:
            nodes.append(position)
            position = end + 1
        else:
            position += 1
    return tuple(nodes)


# --------------------------------------------------------------------------- statuses

#: FHIR condition-clinical codes -> clinical part of a condition's status (status = 8 * verification + clinical).
CONDITION_CLINICAL: Final[Mapping[str, int]] = MappingProxyType(
    {"active": 1, "recurrence": 2, "relapse": 3, "inactive": 4, "remission": 5, "resolved": 6, "unknown": 7}
)
#: FHIR condition-ver-status codes kept in a record (refuted and entered-in-error are not recorded).
CONDITION_VERIFICATION: Final[Mapping[str, int]] = MappingProxyType(
    {"confirmed": 0, "unconfirmed": 1, "provisional": 1, "differential": 1}
)
#: FHIR MedicationStatement / MedicationRequest status -> medication status.
MEDICATION_STATUS: Final[Mapping[str, int]] = MappingProxyType(
    {"active": 1, "completed": 2, "stopped": 3, "on-hold": 4, "other": 5}
)
#: FHIR Procedure status -> procedure status ("completed" 1, anything else recorded as "other" 2).
PROCEDURE_STATUS: Final[Mapping[str, int]] = MappingProxyType({"completed": 1, "other": 2})
#: FHIR Observation status -> observation status.
OBSERVATION_STATUS: Final[Mapping[str, int]] = MappingProxyType(
    {"final": 1, "amended": 1, "corrected": 1, "preliminary": 2}
)
#: FHIR Encounter status of a recorded hospital admission -> its status (finished 1, still in hospital 2).
ENCOUNTER_STATUS: Final[Mapping[str, int]] = MappingProxyType({"finished": 1, "in-progress": 2})
#: Status values of an active condition (confirmed active, recurrence or relapse).
CONDITION_ACTIVE: Final[tuple[int, int]] = (1, 3)


def condition_status(clinical: str, verification: str) -> int:
    """``8 * verification + clinical`` for FHIR codes; raises :class:`EncodingError` for unknown codes."""
    if clinical not in CONDITION_CLINICAL:
        raise EncodingError(f"unknown condition clinical status {clinical!r}")
    if verification not in CONDITION_VERIFICATION:
        raise EncodingError(f"condition verification status {verification!r} is not recorded")
    return 8 * CONDITION_VERIFICATION[verification] + CONDITION_CLINICAL[clinical]


# --------------------------------------------------------------------------- observations


class ObservationKind:
    """Kinds of observation values."""

    QUANTITY: Final[str] = "quantity"
    CODED: Final[str] = "coded"


@dataclass(frozen=True)
class ObservationConcept:
    """One measured concept: ``name`` (the criteria field), canonical code ``loinc`` (a LOINC code, or for
    ``system="snomed"`` a SNOMED CT observable entity id where LOINC has none), ``aliases`` (equivalent codes
    of the same system recorded under the canonical one), canonical UCUM ``unit`` and ``decimals`` (the stored
    value is ``value * 10^decimals``), or for coded answers ``answers`` (name -> enum, enums from 1),
    ``answer_codes`` (SNOMED CT / LOINC answer code -> name) and ``ordered`` (the enums follow the answers'
    order, so ``<`` and ``>=`` mean something)."""

    name: str
    loinc: str
    unit: str
    decimals: int
    kind: str = ObservationKind.QUANTITY
    aliases: tuple[str, ...] = ()
    answers: Mapping[str, int] = field(default_factory=dict)
    answer_codes: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    system: str = "loinc"
    ordered: bool = False

    @property
    def code(self) -> str:
        """The canonical code (LOINC, or the SNOMED CT observable for ``system="snomed"``)."""
        return self.loinc

    def encode_code(self) -> int:
        """The canonical code's integer encoding (the key's code field)."""
        return encode_clinical_code(self.system, self.loinc)

    def encode_value(self, value: object) -> int:
        """The stored integer of a value: fixed point for quantities (exact, non-negative), the enum for
        coded answers (a name or an answer code). Raises :class:`EncodingError`."""
        if self.kind == ObservationKind.CODED:
            if isinstance(value, str):
                name = self.answer_codes.get(value, value.strip().lower())
                if name in self.answers:
                    return self.answers[name]
            raise EncodingError(f"{self.name}: {value!r} is not one of {', '.join(self.answers)}")
        from zkhealth.credentials.encoding import parse_decimal

        number = parse_decimal(value)
        scaled = number.scaleb(self.decimals)
        if scaled != scaled.to_integral_value():
            raise EncodingError(f"{self.name}: {number} has more than {self.decimals} decimals")
        encoded = int(scaled)
        if not 0 <= encoded < 1 << 32:
            raise EncodingError(f"{self.name}: {number} is outside the stored range")
        return encoded

    def decode_value(self, encoded: int) -> str:
        """The value as text (the answer name for coded observations)."""
        if self.kind == ObservationKind.CODED:
            for name, number in self.answers.items():
                if number == encoded:
                    return name
            raise EncodingError(f"{self.name}: {encoded} is not an answer")
        # Fixed-point notation: normalize() alone writes 120 as "1.2E+2", which parse_decimal refuses.
        return format(Decimal(encoded).scaleb(-self.decimals).normalize(), "f") if encoded else "0"


def _q(name: str, loinc: str, unit: str, decimals: int, description: str, *aliases: str,
       system: str = "loinc") -> ObservationConcept:
    return ObservationConcept(name, loinc, unit, decimals, aliases=aliases, description=description, system=system)


_SMOKING_ANSWERS: Final[dict[str, int]] = {"never": 1, "former": 2, "current": 3, "unknown": 4}
_SMOKING_CODES: Final[dict[str, str]] = {
    "266919005": "never", "LA18978-9": "never",
    "8517006": "former", "LA15920-4": "former",
    "77176002": "current", "449868002": "current", "428041000124106": "current", "428071000124103": "current",
    "428061000124105": "current", "LA18976-3": "current", "LA18977-1": "current",
    "266927001": "unknown", "LA18980-5": "unknown",
}
_PREGNANCY_ANSWERS: Final[dict[str, int]] = {"pregnant": 1, "not_pregnant": 2, "unknown": 3}
_PREGNANCY_CODES: Final[dict[str, str]] = {
    "77386006": "pregnant", "LA15173-0": "pregnant",
    "60001007": "not_pregnant", "LA26683-5": "not_pregnant",
    "261665006": "unknown", "LA4489-6": "unknown",
}

# Urine protein by test strip, an ordinal answer list (negative < trace < 1+ < 2+ < 3+ < 4+).
_DIPSTICK_ANSWERS: Final[dict[str, int]] = {"negative": 1, "trace": 2, "1+": 3, "2+": 4, "3+": 5, "4+": 6}
# SNOMED CT answers "Urine protein test negative / = trace / = + ... = ++++" (167273002 ... 167278006): the IHE
# Mobile Antepartum Summary value set Presence.In.Urine.VS, expanded by tx.fhir.org from SNOMED CT International
# 2025-02-01 (Synthea writes these on 20454-5); 260385009 "Negative" is US Core's urine-protein example answer.
_DIPSTICK_CODES: Final[dict[str, str]] = {
    "167273002": "negative", "260385009": "negative", "167274008": "trace", "167275009": "1+",
    "167276005": "2+", "167277001": "3+", "167278006": "4+",
}

#: The observation table: canonical LOINC, UCUM unit and fixed-point scale per concept. Rows added for the
#: registered trials of circuits/trials/ say where their code and meaning were confirmed (the display names
#: are LOINC's long common names; check digits are verified when the table loads).
OBSERVATIONS: Final[tuple[ObservationConcept, ...]] = (
    _q("hba1c", "4548-4", "%", 2, "Hemoglobin A1c/Hemoglobin.total in Blood", "17856-6"),
    _q("glucose", "2345-7", "mg/dL", 0, "Glucose in Serum or Plasma"),
    _q("fasting_glucose", "1558-6", "mg/dL", 0, "Fasting glucose in Serum or Plasma"),
    _q("egfr", "33914-3", "mL/min/{1.73_m2}", 1, "Glomerular filtration rate/1.73 sq M, estimated", "62238-1",
       "98979-8"),
    _q("creatinine", "2160-0", "mg/dL", 2, "Creatinine in Serum or Plasma"),
    _q("uacr", "9318-7", "mg/g", 1, "Albumin/Creatinine in Urine"),
    _q("ldl", "13457-7", "mg/dL", 0, "LDL cholesterol in Serum or Plasma (calculated)", "18262-6", "2089-1"),
    _q("hdl", "2085-9", "mg/dL", 0, "HDL cholesterol in Serum or Plasma"),
    _q("total_cholesterol", "2093-3", "mg/dL", 0, "Cholesterol in Serum or Plasma"),
    _q("triglycerides", "2571-8", "mg/dL", 0, "Triglyceride in Serum or Plasma"),
    _q("alt", "1742-6", "U/L", 0, "Alanine aminotransferase in Serum or Plasma"),
    _q("ast", "1920-8", "U/L", 0, "Aspartate aminotransferase in Serum or Plasma"),
    _q("bilirubin", "1975-2", "mg/dL", 1, "Bilirubin.total in Serum or Plasma"),
    _q("albumin", "1751-7", "g/dL", 1, "Albumin in Serum or Plasma"),
    _q("haemoglobin", "718-7", "g/dL", 1, "Hemoglobin in Blood"),
    _q("platelets", "777-3", "10*3/uL", 0, "Platelets in Blood"),
    _q("wbc", "6690-2", "10*3/uL", 1, "Leukocytes in Blood"),
    _q("neutrophils", "751-8", "10*3/uL", 2, "Neutrophils in Blood"),
    _q("eosinophils", "711-2", "10*3/uL", 2, "Eosinophils in Blood"),
    _q("potassium", "2823-3", "mmol/L", 1, "Potassium in Serum or Plasma"),
    _q("sodium", "2951-2", "mmol/L", 0, "Sodium in Serum or Plasma"),
    _q("tsh", "3016-3", "m[IU]/L", 2, "Thyrotropin in Serum or Plasma"),
    _q("inr", "6301-6", "{INR}", 2, "INR in Platelet poor plasma"),
    _q("nt_probnp", "33762-6", "pg/mL", 0, "Natriuretic peptide.B prohormone N-Terminal in Serum or Plasma"),
    _q("bnp", "30934-4", "pg/mL", 0, "Natriuretic peptide B in Serum or Plasma"),
    _q("lvef", "10230-1", "%", 0, "Left ventricular ejection fraction"),
    _q("fev1", "20150-9", "L", 2, "FEV1"),
    _q("fev1_fvc", "19926-5", "%", 0, "FEV1/FVC"),
    _q("bmi", "39156-5", "kg/m2", 1, "Body mass index"),
    _q("weight", "29463-7", "kg", 2, "Body weight"),
    _q("height", "8302-2", "cm", 1, "Body height"),
    _q("waist", "8280-0", "cm", 1, "Waist circumference"),
    _q("systolic_bp", "8480-6", "mm[Hg]", 0, "Systolic blood pressure"),
    _q("diastolic_bp", "8462-4", "mm[Hg]", 0, "Diastolic blood pressure"),
    _q("heart_rate", "8867-4", "/min", 0, "Heart rate"),
    _q("ecog", "89247-1", "{score}", 0, "ECOG performance status score"),
    _q("nyha", "88020-3", "{class}", 0, "NYHA functional class (1 = I ... 4 = IV)"),
    _q("phq9", "44261-6", "{score}", 0, "PHQ-9 total score"),
    _q("mmse", "72107-6", "{score}", 0, "Mini-Mental State Examination total score"),
    _q("moca", "72172-0", "{score}", 0, "Montreal Cognitive Assessment total score"),
    # 8460-8 "Systolic blood pressure--standing": LOINC long name as listed with 8459-0 (sitting) and 8461-6
    # (supine) in public FHIR/OMOP mapping tables and a CDISC define.xml (LZZT pilot, "Standing Systolic BP").
    _q("standing_systolic_bp", "8460-8", "mm[Hg]", 0, "Systolic blood pressure--standing"),
    # 2889-4 "Protein [Mass/time] in 24 hour Urine" (UCUM g/(24.h)): LOINC long name in public lab mapping
    # tables (the VA LOINC map lists it with unit g/(24.h)).
    _q("urine_protein_24h", "2889-4", "g/(24.h)", 2, "Protein [Mass/time] in 24 hour Urine"),
    # 2890-2 "Protein/Creatinine [Mass Ratio] in Urine": LOINC long name in the MII example data (German
    # Medical Informatics Initiative FHIR test data, value in mg/g) and the OMOP vocabulary.
    _q("upcr", "2890-2", "mg/g", 0, "Protein/Creatinine [Mass Ratio] in Urine"),
    # 1755-8 "Albumin [Mass/time] in 24 hour Urine" (FHIR shorthand examples of a lab IG, and the OMOP
    # vocabulary); 14956-7 "Microalbumin [Mass/time] in 24 hour Urine" is the same quantity by name.
    _q("urine_albumin_24h", "1755-8", "mg/(24.h)", 0, "Albumin [Mass/time] in 24 hour Urine", "14956-7"),
    ObservationConcept(
        # 20454-5 "Protein [Presence] in Urine by Test strip" (ordinal): the code Synthea's urinalysis panel
        # records, listed with that display in public FHIR terminology maps.
        "urine_dipstick_protein", "20454-5", "", 0, ObservationKind.CODED, (), _DIPSTICK_ANSWERS, _DIPSTICK_CODES,
        "Protein [Presence] in Urine by Test strip (negative, trace, 1+ ... 4+)", ordered=True,
    ),
    # Vital signs and the blood glucose of the FHIR import corpus (rows asked for by the import of real exports).
    # 9279-1 "Respiratory rate", UCUM /min: FHIR R4 respiratory-rate profile (Observation.code fixed to 9279-1,
    # valueQuantity.code fixed to /min) and the FHIR vital-signs value set observation-vitalsign-resprate.
    _q("respiratory_rate", "9279-1", "/min", 0, "Respiratory rate"),
    # 2708-6 "Oxygen saturation in Arterial blood" and 59408-5 "... by Pulse oximetry", UCUM %: FHIR vital-signs
    # value set observation-vitalsign-oxygensat (LOINC 2.81 expansion); US Core's pulse-oximetry examples code
    # one observation with both, so the method-specific code is recorded under the general one.
    _q("oxygen_saturation", "2708-6", "%", 1, "Oxygen saturation in Arterial blood", "59408-5"),
    # 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported": the 0-10 pain scale value set of
    # HL7 Belgium's patient-monitoring IG (which points at loinc.org/72514-3); Synthea records it in {score}.
    _q("pain_score", "72514-3", "{score}", 0, "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
    # 59576-9 "Body mass index (BMI) [Percentile] Per age and sex", UCUM %: US Core's pediatric BMI-for-age
    # profile and its example (65 %).
    _q("bmi_percentile", "59576-9", "%", 1, "Body mass index (BMI) [Percentile] Per age and sex"),
    # 8310-5 "Body temperature", UCUM Cel (or [degF], converted): FHIR body-temperature profile and the value set
    # observation-vitalsign-bodytemp (its one concept).
    _q("body_temperature", "8310-5", "Cel", 1, "Body temperature"),
    # 2339-0 "Glucose [Mass/volume] in Blood", mg/dL: US Core's blood-glucose example (76.0 mg/dL). Whole-blood
    # glucose is not the serum/plasma glucose of 2345-7 (a different specimen), so it is a row of its own, at the
    # same scale.
    _q("blood_glucose", "2339-0", "mg/dL", 0, "Glucose [Mass/volume] in Blood"),
    # SNOMED CT 401201003 "Cigarette pack-years (observable entity)": LOINC has no pack-years term; the TW Core
    # IG's smoking-status-type value set (expanded by tx.fhir.org, SNOMED CT International 2025-02-01) uses
    # this observable as an Observation code.
    _q("pack_years", "401201003", "{pack-years}", 1, "Cigarette pack-years", system="snomed"),
    ObservationConcept(
        "smoking_status", "72166-2", "", 0, ObservationKind.CODED, (), _SMOKING_ANSWERS, _SMOKING_CODES,
        "Tobacco smoking status",
    ),
    ObservationConcept(
        "pregnancy_status", "82810-3", "", 0, ObservationKind.CODED, (), _PREGNANCY_ANSWERS, _PREGNANCY_CODES,
        "Pregnancy status",
    ),
)


def _index() -> tuple[Mapping[str, ObservationConcept], Mapping[str, ObservationConcept]]:
    by_name: dict[str, ObservationConcept] = {}
    by_loinc: dict[str, ObservationConcept] = {}
    for concept in OBSERVATIONS:
        for code in (concept.loinc, *concept.aliases):
            encode_clinical_code(concept.system, code)
            if code in by_loinc:
                raise CodeSystemError(f"LOINC {code} is listed twice in the observation table")
            by_loinc[code] = concept
        by_name[concept.name] = concept
    by_name["hemoglobin"] = by_name["haemoglobin"]
    return MappingProxyType(by_name), MappingProxyType(by_loinc)


OBSERVATION_BY_NAME, OBSERVATION_BY_LOINC = _index()


def observation(name_or_loinc: str) -> ObservationConcept | None:
    """The concept of a criteria name (``hba1c``) or of any code in the table (LOINC, or a SNOMED CT
    observable of a ``system="snomed"`` row), or ``None``."""
    key = name_or_loinc.strip()
    return OBSERVATION_BY_NAME.get(key.lower()) or OBSERVATION_BY_LOINC.get(key)


def observation_of(system: str, code: object) -> ObservationConcept | None:
    """The concept whose canonical code or alias is ``code`` in ``system`` (``loinc`` or ``snomed``)."""
    concept = OBSERVATION_BY_LOINC.get(normalize_clinical_code(system, code))
    return concept if concept is not None and concept.system == system else None


# --------------------------------------------------------------------------- doses


@dataclass(frozen=True)
class DoseUnit:
    """The daily dose of one ingredient: ``name``, UCUM ``unit`` (``mg`` or ``ug``, per day) and ``decimals``
    (the stored value is ``dose * 10^decimals``); ``codes`` are the (system, code) pairs naming exactly this
    ingredient (a 5-level ATC substance code, the RxNorm ingredient RxCUI)."""

    name: str
    unit: str
    decimals: int
    codes: tuple[tuple[str, str], ...]

    def encode(self, dose: object) -> int:
        """``dose * 10^decimals`` (exact, at least 1, below 2^32); raises :class:`EncodingError`."""
        from zkhealth.credentials.encoding import parse_decimal

        number = parse_decimal(dose)
        scaled = number.scaleb(self.decimals)
        if scaled != scaled.to_integral_value():
            raise EncodingError(f"{self.name} dose {number} has more than {self.decimals} decimals")
        encoded = int(scaled)
        if not 1 <= encoded < 1 << 32:
            raise EncodingError(f"{self.name} dose {number} {self.unit}/day is outside the stored range")
        return encoded

    def decode(self, encoded: int) -> Decimal:
        """The dose of a stored value."""
        return Decimal(encoded).scaleb(-self.decimals)


#: The dose table. ATC substance codes are the WHO ATC index's; RxCUIs are given only where confirmed
#: (metformin 6809 is RxNorm's metformin ingredient; fluticasone 41126 and budesonide 19831 are listed as
#: ingredients, next to salmeterol 36117 and mometasone 108118, in public RxNorm-based medication tables).
#: RxNorm's fluticasone ingredient covers the propionate and the (more potent) furoate.
DOSES: Final[tuple[DoseUnit, ...]] = (
    DoseUnit("metformin", "mg", 0, (("atc", "A10BA02"), ("rxnorm", "6809"))),
    DoseUnit("fluticasone", "ug", 0, (("atc", "R03BA05"), ("rxnorm", "41126"))),
    DoseUnit("budesonide", "ug", 0, (("atc", "R03BA02"), ("rxnorm", "19831"))),
    DoseUnit("beclometasone", "ug", 0, (("atc", "R03BA01"),)),
)


def _dose_index() -> Mapping[tuple[str, int], DoseUnit]:
    out: dict[tuple[str, int], DoseUnit] = {}
    for unit in DOSES:
        for system, code in unit.codes:
            key = (system, encode_clinical_code(system, code))
            if key in out:
                raise CodeSystemError(f"{system} {code} is listed twice in the dose table")
            out[key] = unit
    return MappingProxyType(out)


#: (system, encoded code) -> the ingredient's dose unit.
DOSE_BY_CODE: Final[Mapping[tuple[str, int], DoseUnit]] = _dose_index()


def dose_unit(system: str, code: object) -> DoseUnit | None:
    """The dose unit of a medication code (``None``: no dose can be recorded on it)."""
    return DOSE_BY_CODE.get((system, encode_clinical_code(system, code)))
