"""Synthetic whole patient records (schema version 2) and a small trust world for the eligibility tests.

Every patient is invented; the codes are real (ICD-10-CM of the shipped release, ATC, LOINC, SNOMED CT,
ICD-10-PCS). :func:`make_record_world` registers three issuers in a :class:`TrustedIssuers` registry (each
with its own revocation tree), signs a credential per patient with one of them and revokes one extra
credential. ``TODAY`` is the reference day. :func:`standard_trial` is the standard trial
(``diagnosis in E11.* and age >= 18``) with development keys, set up once per test session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from zkhealth.circuit import CompiledCircuit
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.record import Condition, Medication, Observation, PatientRecord, Procedure
from zkhealth.credentials.record_vc import IssuedRecord
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.trust import TrustedIssuers, trust_root
from zkhealth.credentials.trust_roots import RootHistory
from zkhealth.eligibility.program import Policy
from zkhealth.eligibility.trial import Trial, TrialKeys

TODAY_DATE = dt.date(2026, 3, 2)
TODAY = date_to_epoch_day(TODAY_DATE)
ISSUED = dt.date(2026, 2, 1)
EXPIRES = dt.date(2027, 2, 1)
AS_OF = dt.date(2026, 1, 31)
D = dt.date


def obs(name_or_code: str, value: str, day: dt.date, unit: str | None = None) -> Observation:
    from zkhealth.credentials import codes

    concept = codes.observation(name_or_code)
    if concept is None:
        raise KeyError(name_or_code)
    return Observation(concept.loinc, value if concept.kind == "coded" else Decimal(value), day,
                       unit=concept.unit if unit is None else unit, system=concept.system)


def t2d_record(**changes: object) -> PatientRecord:
    """The reference patient of the diabetes benchmark trial: eligible, with history that tests windows."""
    base: dict[str, object] = dict(
        birth_date=D(1968, 5, 14), gender="female", research_consent=True, complete=True, as_of=AS_OF,
        conditions=(
            Condition("E11.9", D(2022, 6, 1)),
            Condition("44054006", D(2022, 6, 1), system="snomed"),
            Condition("I10", D(2019, 3, 3)),
        ),
        medications=(
            Medication("A10BA02", D(2022, 7, 1)),
            Medication("A10AE04", D(2020, 1, 1), end=D(2021, 1, 1), status="stopped"),
        ),
        procedures=(Procedure("0DTJ4ZZ", D(2015, 4, 2)),),
        observations=(
            obs("hba1c", "8.2", D(2026, 1, 20)),
            obs("hba1c", "10.9", D(2025, 6, 20)),
            obs("egfr", "72.5", D(2026, 1, 20)),
            obs("bmi", "31.4", D(2026, 1, 20)),
            obs("systolic_bp", "138", D(2026, 1, 20)),
            obs("smoking_status", "former", D(2025, 1, 1)),
        ),
    )
    base.update(changes)
    return PatientRecord(**base)  # type: ignore[arg-type]


@dataclass
class Holder:
    name: str
    holder_secret: int
    issued: IssuedRecord


@dataclass
class RecordWorld:
    issuer: Issuer
    revocation: RevocationTree
    trusted: TrustedIssuers
    holders: dict[str, Holder] = field(default_factory=dict)
    revoked: Holder | None = None

    def issue(self, name: str, record: PatientRecord) -> Holder:
        secret = 1 + secrets.randbelow((1 << 250) - 1)
        issued = self.issuer.issue_record(record, subject_commitment=subject_commitment(secret), issued_at=ISSUED,
                                          expires_at=EXPIRES)
        holder = Holder(name, secret, issued)
        self.holders[name] = holder
        return holder

    def refresh_registry(self) -> None:
        self.trusted.set_revocation_root(self.issuer.public_key, self.revocation.root)

    @property
    def trust_root(self) -> int:
        """The trust root of this world's issuer registry (no person registry)."""
        return trust_root(self.trusted.root)

    def history(self) -> RootHistory:
        """The published roots: this world's trust root, current."""
        return RootHistory.single(self.trust_root)


def make_record_world() -> RecordWorld:
    revocation = RevocationTree(":memory:")
    issuer = Issuer.generate(revocation=revocation)
    trusted = TrustedIssuers()
    other = RevocationTree(":memory:")
    other.revoke(7)
    trusted.add(Issuer.generate().public_key, other.root)
    trusted.add(issuer.public_key, revocation.root)
    trusted.add(Issuer.generate().public_key, RevocationTree(":memory:").root)
    world = RecordWorld(issuer, revocation, trusted)
    world.revoked = world.issue("revoked", t2d_record())
    del world.holders["revoked"]
    revocation.revoke(world.revoked.issued.credential.credential_id)
    revocation.revoke_many([secrets.randbelow(1 << 127) + 1 for _ in range(3)])
    world.refresh_registry()
    return world


STANDARD = "diagnosis in E11.* and age >= 18"
_KEYS: dict[tuple[str, Policy], TrialKeys] = {}
_COMPILED: dict[tuple[str, Policy], CompiledCircuit] = {}


def standard_trial(*, policy: Policy | None = None, scope: int | None = 1234567, **options: object) -> Trial:
    """A new :class:`Trial` of the standard criteria with development keys; the keys (and the compiled circuit)
    are made once per session and policy, and shared by every trial this returns."""
    chosen = policy or Policy()
    options.setdefault("trial_id", "NCT05000001")
    trial = Trial(STANDARD, policy=chosen, scope=scope, **options)  # type: ignore[arg-type]
    compiled = _COMPILED.get((STANDARD, chosen))
    if compiled is None:
        compiled = _COMPILED[(STANDARD, chosen)] = trial.compile()
    trial._compiled = compiled
    keys = _KEYS.get((STANDARD, chosen))
    if keys is None:
        keys = _KEYS[(STANDARD, chosen)] = trial.setup()
    else:
        trial.use_keys(keys)
    return trial
