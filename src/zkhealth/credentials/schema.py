"""The health credential schema, version 1: THE encoding the eligibility circuit checks.

A credential is a fixed-length vector of 26 field elements (all < r). Every slot has one injective rule
(encoding.py) and a declared width; the circuit range-checks a slot at that width before comparing it.
Optional slots hold 0 when absent, and 0 never encodes a present value.

===  ======================  =========  ====  ================================================================
idx  name                    kind       bits  meaning
===  ======================  =========  ====  ================================================================
0    schema_id               field      254   constant :data:`SCHEMA_ID` (ASCII ``zkhealth.health-credential``
                                              read as a big-endian integer)
1    schema_version          uint       8     constant :data:`SCHEMA_VERSION` = 1
2    credential_id           uint       128   random, ``1 <= id < 2^128`` (the revocation tree's key)
3    subject_commitment      field      254   ``poseidon([holder_secret])``; never the secret
4    issuer_ax               field      254   issuer's Baby Jubjub public key A = (Ax, Ay) (the signer)
5    issuer_ay               field      254
6    issued_at               epoch_day  32    days since 1970-01-01 UTC; first valid day
7    expires_at              epoch_day  32    days since 1970-01-01 UTC; first day NOT valid
8    birth_date              date       32    proleptic ordinal (epoch day + 719163); required
9    gender                  enum       3     FHIR AdministrativeGender: male=1, female=2, other=3, unknown=4
10   research_consent        bool       1     the patient agreed to be contacted for research
11   hba1c                   fixed      16    HbA1c in %, 2 decimals (7.25 % -> 725); 0 = absent
12   hba1c_date              date       32    ordinal of the HbA1c observation; 0 = absent
13   egfr                    fixed      16    eGFR in mL/min/{1.73_m2}, 1 decimal (58.5 -> 585); 0 = absent
14   egfr_date               date       32    ordinal of the eGFR observation; 0 = absent
15   systolic_bp             uint       10    systolic blood pressure in mm[Hg]; 0 = absent
16   dx1_code                icd10      20    ICD-10-CM pre-order number (icd10.py); 0 = absent
17   dx1_date                date       32    diagnosis (onset) date ordinal; 0 = absent
18   dx2_code / 19 dx2_date                   second diagnosis, same rules
20   dx3_code / 21 dx3_date                   third diagnosis
22   dx4_code / 23 dx4_date                   fourth diagnosis
24   issuer_ed25519_hi       uint       128   first 16 bytes of the issuer's Ed25519 key (big-endian)
25   issuer_ed25519_lo       uint       128   last 16 bytes of the issuer's Ed25519 key
===  ======================  =========  ====  ================================================================

Cross-slot rules (checked by :meth:`Credential.from_field_elements` and at issuance; a circuit that reads
diagnoses should treat ``code == 0`` as "no diagnosis"):

* a diagnosis slot has a code and a date, or neither; used slots come first; codes are distinct and sorted
  by increasing encoding (so one set of diagnoses has one encoding);
* a lab value and its date are both present or both absent;
* ``issued_at < expires_at``.

Validity rule: a credential is valid on day ``d`` iff ``issued_at <= d < expires_at`` (the expiry day itself
is *not* valid, matching the instant semantics of the VC ``expirationDate``, which is ``expires_at``
at 00:00:00Z). In a circuit with public ``today`` (epoch days): ``issued_at <= today`` and
``today < expires_at``, both at 32 bits. Clinical dates compare with ``today + 719163``.

Signed message (what EdDSA-Poseidon signs, and what the circuit recomputes)::

    claims_hash = poseidon([poseidon(v[0:16]), poseidon(v[16:26])])

The two-level form is needed because circomlib's Poseidon takes at most 16 inputs. Binding the schema id
and version, the issuer's keys, the subject commitment and the validity window into the signed vector
means a signature can't be moved to another schema, issuer or patient (docs/security.md S5). The Ed25519 key
halves bind the JSON envelope's signer to the Baby Jubjub signer.

ICD-10-CM numbering is the one of :data:`zkhealth.credentials.icd10.ICD10_RELEASE`; a new release is a new
schema version.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from zkhealth.credentials.encoding import ClaimSpec
from zkhealth.credentials.icd10 import ICD10_CODE_BITS, ICD10_RELEASE

__all__ = [
    "CLAIM_LAYOUT",
    "CLAIM_SPECS",
    "GENDERS",
    "HASH_CHUNK",
    "ICD10_RELEASE",
    "MAX_DIAGNOSES",
    "SCHEMA_ID",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "VECTOR_LENGTH",
]

#: Human-readable schema name; its ASCII bytes, read big-endian, are :data:`SCHEMA_ID`.
SCHEMA_NAME: Final[str] = "zkhealth.health-credential"
SCHEMA_ID: Final[int] = int.from_bytes(SCHEMA_NAME.encode("ascii"), "big")
SCHEMA_VERSION: Final[int] = 1
#: FHIR R4 AdministrativeGender, in encoding order.
GENDERS: Final[tuple[str, ...]] = ("male", "female", "other", "unknown")
MAX_DIAGNOSES: Final[int] = 4
#: First-level chunk size of the two-level claims hash.
HASH_CHUNK: Final[int] = 16


def _build_specs() -> tuple[ClaimSpec, ...]:
    specs: list[ClaimSpec] = []

    def add(name: str, kind: str, bits: int, **options: Any) -> None:
        specs.append(ClaimSpec(name=name, index=len(specs), kind=kind, bits=bits, **options))

    add("schema_id", "field", 254)
    add("schema_version", "uint", 8)
    add("credential_id", "uint", 128)
    add("subject_commitment", "field", 254)
    add("issuer_ax", "field", 254)
    add("issuer_ay", "field", 254)
    add("issued_at", "epoch_day", 32)
    add("expires_at", "epoch_day", 32)
    add("birth_date", "date", 32)
    add("gender", "enum", 3, values=GENDERS)
    add("research_consent", "bool", 1)
    add("hba1c", "fixed", 16, optional=True, decimals=2, unit="%")
    add("hba1c_date", "date", 32, optional=True)
    add("egfr", "fixed", 16, optional=True, decimals=1, unit="mL/min/{1.73_m2}")
    add("egfr_date", "date", 32, optional=True)
    add("systolic_bp", "uint", 10, optional=True, unit="mm[Hg]")
    for slot in range(1, MAX_DIAGNOSES + 1):
        add(f"dx{slot}_code", "icd10", ICD10_CODE_BITS, optional=True)
        add(f"dx{slot}_date", "date", 32, optional=True)
    add("issuer_ed25519_hi", "uint", 128)
    add("issuer_ed25519_lo", "uint", 128)
    return tuple(specs)


#: Every slot, in vector order.
CLAIM_SPECS: Final[tuple[ClaimSpec, ...]] = _build_specs()
#: Slot name -> (index, declared bit width): what circuit code reads.
CLAIM_LAYOUT: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {spec.name: (spec.index, spec.bits) for spec in CLAIM_SPECS}
)
VECTOR_LENGTH: Final[int] = len(CLAIM_SPECS)
