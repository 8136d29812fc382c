"""Health credentials: schema, claim encoding, issuer, wallet, revocation, VC JSON and FHIR import.

The encoding the eligibility circuit checks is documented once, in :mod:`zkhealth.credentials.schema`.
Submodules import lazily where they pull heavy dependencies (``fhir.resources``), so
``import zkhealth.credentials`` stays cheap; import the names below from here or from their modules.
"""

from __future__ import annotations

from zkhealth.credentials.credential import (
    Credential,
    Diagnosis,
    HealthClaims,
    LabValue,
    claims_hash_of,
    subject_commitment,
)
from zkhealth.credentials.schema import CLAIM_LAYOUT, SCHEMA_ID, SCHEMA_VERSION, VECTOR_LENGTH

__all__ = [
    "CLAIM_LAYOUT",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "VECTOR_LENGTH",
    "Credential",
    "Diagnosis",
    "HealthClaims",
    "LabValue",
    "claims_hash_of",
    "subject_commitment",
]
