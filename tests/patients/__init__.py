"""Synthetic patients and a small synthetic world (issuers, registry, revocation tree) for the eligibility
tests. Every patient is invented; codes are real ICD-10-CM codes of the shipped release.

``PATIENTS`` maps a name to the claims a hospital would attest. :func:`make_world` signs a credential for
each (one issuer among several registered ones), revokes one extra credential, and returns everything a
prover and a verifier need. ``TODAY`` is the reference day of the tests.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zkhealth.credentials.credential import Diagnosis, HealthClaims, LabValue, subject_commitment
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.issuer import IssuedCredential, Issuer
from zkhealth.credentials.trees import IssuerRegistry, RevocationTree

TODAY_DATE = dt.date(2026, 3, 2)
TODAY = date_to_epoch_day(TODAY_DATE)
ISSUED = date_to_epoch_day(dt.date(2026, 1, 5))
EXPIRES = date_to_epoch_day(dt.date(2027, 1, 5))

_LAB_DAY = dt.date(2026, 1, 20)


def _dx(*items: tuple[str, str]) -> tuple[Diagnosis, ...]:
    return tuple(Diagnosis(code, dt.date.fromisoformat(day)) for code, day in items)


PATIENTS: dict[str, HealthClaims] = {
    # Type 2 diabetes, poorly controlled, with hypertension: the prototypical eligible adult.
    "t2d_adult": HealthClaims(
        birth_date=dt.date(1968, 5, 14), gender="female", research_consent=True,
        hba1c=LabValue(Decimal("8.2"), _LAB_DAY), egfr=LabValue(Decimal("72.5"), _LAB_DAY), systolic_bp=138,
        diagnoses=_dx(("E11.9", "2022-06-01"), ("I10", "2019-03-03")),
    ),
    # Type 2 diabetes at 15: fails every adult trial on `age >= 18`.
    "t2d_minor": HealthClaims(
        birth_date=dt.date(2010, 7, 1), gender="male", research_consent=True,
        hba1c=LabValue(Decimal("7.9"), _LAB_DAY), diagnoses=_dx(("E11.9", "2024-11-12")),
    ),
    # Born on a leap day: 18 on 2026-03-01 (not on 2026-02-28).
    "leap_day": HealthClaims(
        birth_date=dt.date(2008, 2, 29), gender="other", hba1c=LabValue(Decimal("7.4"), _LAB_DAY),
        diagnoses=_dx(("E11.65", "2025-12-01")),
    ),
    # Pre-existing type 2 diabetes in pregnancy: excluded by `not diagnosis in O00-O9A`.
    "t2d_pregnant": HealthClaims(
        birth_date=dt.date(1992, 9, 9), gender="female", hba1c=LabValue(Decimal("7.6"), _LAB_DAY),
        diagnoses=_dx(("E11.9", "2020-02-02"), ("O24.111", "2026-01-10")),
    ),
    # Diabetic kidney disease, CKD stage 3a.
    "ckd_diabetic": HealthClaims(
        birth_date=dt.date(1955, 11, 30), gender="male", research_consent=True,
        hba1c=LabValue(Decimal("7.1"), _LAB_DAY), egfr=LabValue(Decimal("48.0"), _LAB_DAY), systolic_bp=145,
        diagnoses=_dx(("E11.22", "2016-04-04"), ("I12.9", "2021-08-19"), ("N18.31", "2023-05-05")),
    ),
    # Newly diagnosed uncontrolled essential hypertension.
    "hypertensive": HealthClaims(
        birth_date=dt.date(1975, 1, 31), gender="female", systolic_bp=152, egfr=LabValue(Decimal("88.0"), _LAB_DAY),
        diagnoses=_dx(("I10", "2025-09-10")),
    ),
    # Early breast cancer diagnosed four months ago.
    "breast_cancer": HealthClaims(
        birth_date=dt.date(1970, 6, 15), gender="female", research_consent=True,
        egfr=LabValue(Decimal("90.0"), _LAB_DAY),
        diagnoses=_dx(("C50.911", "2025-11-02")),
    ),
    # Metastatic breast cancer: excluded by `not diagnosis in C77-C79`.
    "breast_cancer_metastatic": HealthClaims(
        birth_date=dt.date(1965, 3, 3), gender="female", egfr=LabValue(Decimal("81.0"), _LAB_DAY),
        diagnoses=_dx(("C50.412", "2025-10-10"), ("C78.00", "2026-01-15")),
    ),
    # Heart failure with reduced ejection fraction.
    "heart_failure": HealthClaims(
        birth_date=dt.date(1950, 12, 24), gender="male", systolic_bp=112, egfr=LabValue(Decimal("55.0"), _LAB_DAY),
        diagnoses=_dx(("I50.22", "2024-02-29"), ("I10", "2010-01-01")),
    ),
    # COPD with a recent exacerbation.
    "copd": HealthClaims(
        birth_date=dt.date(1958, 8, 8), gender="male", systolic_bp=131,
        diagnoses=_dx(("J44.1", "2025-12-20"), ("J44.9", "2015-05-05")),
    ),
    # Prediabetes, consented to research.
    "prediabetes": HealthClaims(
        birth_date=dt.date(1980, 4, 1), gender="male", research_consent=True,
        hba1c=LabValue(Decimal("6.1"), _LAB_DAY), diagnoses=_dx(("R73.03", "2025-06-06")),
    ),
    # Recurrent major depression, moderate.
    "depression": HealthClaims(
        birth_date=dt.date(1990, 10, 10), gender="female", research_consent=True,
        diagnoses=_dx(("F33.1", "2025-03-03")),
    ),
    # Older adult with long-standing hypertension and preserved kidney function.
    "elderly_hypertensive": HealthClaims(
        birth_date=dt.date(1953, 7, 7), gender="female", systolic_bp=146, egfr=LabValue(Decimal("63.5"), _LAB_DAY),
        diagnoses=_dx(("I10", "2001-01-15"), ("E78.5", "2012-03-12")),
    ),
    # Gestational diabetes diagnosed in the current pregnancy.
    "gestational_diabetes": HealthClaims(
        birth_date=dt.date(1994, 2, 14), gender="female", hba1c=LabValue(Decimal("5.9"), _LAB_DAY),
        diagnoses=_dx(("O24.410", "2026-01-28")),
    ),
    # A healthy elderly man with no diagnoses and no labs.
    "healthy_elderly": HealthClaims(birth_date=dt.date(1940, 1, 1), gender="male", systolic_bp=128),
    # Childhood asthma.
    "asthma_child": HealthClaims(
        birth_date=dt.date(2014, 5, 20), gender="female", diagnoses=_dx(("J45.40", "2022-09-01")),
    ),
}


@dataclass
class Patient:
    name: str
    holder_secret: int
    issued: IssuedCredential


@dataclass
class World:
    """One trusted issuer (``issuer``) among several in the registry, its revocation tree, and patients."""

    issuer: Issuer
    registry: IssuerRegistry
    revocation: RevocationTree
    patients: dict[str, Patient] = field(default_factory=dict)
    revoked: Patient | None = None
    untrusted_issuer: Issuer | None = None

    def patient(self, name: str) -> Patient:
        return self.patients[name]

    def proofs(self, issued: IssuedCredential) -> dict[str, Any]:
        """The registry and revocation proofs ``prove_eligibility`` takes for ``issued``."""
        credential = issued.credential
        return {
            "registry_proof": self.registry.proof(credential.issuer_public_key),
            "revocation_proof": self.revocation.non_membership_proof(credential.credential_id),
        }


def _holder_secret() -> int:
    return 1 + secrets.randbelow((1 << 250) - 1)


def make_world(names: list[str] | None = None) -> World:
    """Sign a credential for each named patient (all by default), register three issuers, revoke a fourth
    credential (a copy of ``t2d_adult`` issued to someone else) and a few random ids."""
    issuer = Issuer.generate(revocation=RevocationTree(":memory:"))
    registry = IssuerRegistry()
    registry.add(Issuer.generate().public_key)
    registry.add(issuer.public_key)
    registry.add(Issuer.generate().public_key)
    assert issuer.revocation is not None
    world = World(issuer=issuer, registry=registry, revocation=issuer.revocation)
    for name in names if names is not None else list(PATIENTS):
        secret = _holder_secret()
        issued = issuer.issue(
            PATIENTS[name], subject_commitment=subject_commitment(secret), issued_at=ISSUED, expires_at=EXPIRES
        )
        world.patients[name] = Patient(name, secret, issued)
    secret = _holder_secret()
    revoked = issuer.issue(
        PATIENTS["t2d_adult"], subject_commitment=subject_commitment(secret), issued_at=ISSUED, expires_at=EXPIRES
    )
    world.revoked = Patient("revoked", secret, revoked)
    issuer.revoke(revoked.credential.credential_id)
    issuer.revocation.revoke_many([secrets.randbelow(1 << 127) + 1 for _ in range(5)])
    world.untrusted_issuer = Issuer.generate()
    return world
