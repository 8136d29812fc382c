"""The issuer: a hospital or lab that signs health credentials with two keys.

* A Baby Jubjub key signs ``Credential.claims_hash()`` with EdDSA-Poseidon: what the eligibility circuit
  verifies.
* An Ed25519 key signs the W3C VC envelope (vc.py): what anyone can check without zero knowledge.

Both public keys sit inside the signed field vector, so the two signatures vouch for each other. Register
:attr:`Issuer.public_key` in the trusted-issuer registry (trees.IssuerRegistry). Revocation goes through the
issuer's :class:`~zkhealth.credentials.trees.RevocationTree` (SQLite, survives restarts).

Python can't reliably erase key material from memory and nothing here is constant time: in production the
signing keys belong in an HSM or an offline signer; ``repr`` of an issuer shows only public keys.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any, Final

from zkhealth.credentials import dates
from zkhealth.credentials.credential import Credential, HealthClaims
from zkhealth.credentials.fhir import BundleSource, claims_from_bundle
from zkhealth.credentials.record import PatientRecord
from zkhealth.credentials.record_vc import IssuedRecord, issue_record
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.trust import RevocationStatement
from zkhealth.credentials.vc import IssuedCredential, build_document, did_key_from_ed25519, sign_document
from zkhealth.errors import EncodingError, FutureDateError, InvalidKeyError
from zkhealth.field import FIELD_R
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey

__all__ = ["DEFAULT_VALIDITY_DAYS", "IssuedCredential", "Issuer", "check_no_future_dates", "new_credential_id"]

#: Default validity: one year.
DEFAULT_VALIDITY_DAYS: Final[int] = 365
_ID_BITS: Final[int] = 128


def new_credential_id() -> int:
    """A uniformly random credential id in ``[1, 2^128)`` (0 is the revocation tree's list head)."""
    return 1 + secrets.randbelow((1 << _ID_BITS) - 1)


def _epoch_day(value: int | _dt.date | str, what: str) -> int:
    if isinstance(value, bool):
        raise EncodingError(f"{what}: a bool is not a day")
    if isinstance(value, int):
        dates.epoch_day_to_date(value)
        return value
    return dates.date_to_epoch_day(value)


def check_no_future_dates(claims: HealthClaims, last_day: int) -> None:
    """Refuse (:class:`FutureDateError`, naming the claim) a birth, diagnosis or lab date after the epoch day
    ``last_day`` (the day of issuance: today, UTC)."""
    limit = dates.epoch_day_to_date(last_day)
    named: list[tuple[str, _dt.date]] = [("birth date", claims.birth_date)]
    named += [(f"{name} date", lab.date) for name, lab in (("HbA1c", claims.hba1c), ("eGFR", claims.egfr)) if lab]
    named += [(f"diagnosis {item.code} date", item.date) for item in claims.diagnoses]
    for what, day in named:
        if day > limit:
            raise FutureDateError(
                f"the {what} {day.isoformat()} lies after the day of issuance {limit.isoformat()}; "
                "a record cannot attest the future (allow_future_dates=True / --allow-future-dates if intended)"
            )


class Issuer:
    """Holds an EdDSA-Poseidon :class:`PrivateKey` and an :class:`Ed25519SigningKey`; issues and revokes.

    ``revocation`` is optional: without it, :meth:`revoke` is unavailable.
    """

    __slots__ = ("_bjj", "_ed25519", "revocation")

    def __init__(
        self,
        bjj_key: eddsa_poseidon.PrivateKey,
        ed25519_key: Ed25519SigningKey,
        *,
        revocation: RevocationTree | None = None,
    ) -> None:
        if not isinstance(bjj_key, eddsa_poseidon.PrivateKey):
            raise InvalidKeyError("bjj_key must be an eddsa_poseidon.PrivateKey")
        if not isinstance(ed25519_key, Ed25519SigningKey):
            raise InvalidKeyError("ed25519_key must be an Ed25519SigningKey")
        self._bjj = bjj_key
        self._ed25519 = ed25519_key
        self.revocation = revocation

    @classmethod
    def generate(cls, *, revocation: RevocationTree | None = None) -> Issuer:
        """An issuer with two fresh keys from the OS CSPRNG."""
        return cls(eddsa_poseidon.PrivateKey.generate(), Ed25519SigningKey.generate(), revocation=revocation)

    @property
    def public_key(self) -> tuple[int, int]:
        """The Baby Jubjub public key (Ax, Ay): the trusted-issuer registry's entry."""
        return self._bjj.public_key().point

    @property
    def ed25519_public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return bytes(self._ed25519.verify_key.to_bytes())

    @property
    def did(self) -> str:
        """The issuer's ``did:key`` (from the Ed25519 key)."""
        return did_key_from_ed25519(self.ed25519_public_key)

    def issue(
        self,
        claims: HealthClaims,
        *,
        subject_commitment: int,
        issued_at: int | _dt.date | str | None = None,
        expires_at: int | _dt.date | str | None = None,
        validity_days: int = DEFAULT_VALIDITY_DAYS,
        credential_id: int | None = None,
        allow_future_dates: bool = False,
    ) -> IssuedCredential:
        """Build, encode and sign a credential for the holder whose commitment is ``subject_commitment``.

        ``issued_at`` defaults to today (UTC); ``expires_at`` to ``issued_at + validity_days`` (the first
        day the credential is no longer valid). Raises :class:`EncodingError` for claims or dates that do not
        fit the schema, and :class:`FutureDateError` for a birth, diagnosis or lab date after the day of
        issuance (today, UTC, whatever ``issued_at`` says): a record cannot attest the future. Pass
        ``allow_future_dates=True`` for the rare legitimate case (a scheduled procedure carried as a date).
        Cost: one EdDSA-Poseidon signature, one Ed25519 signature, four Poseidon hashes and JCS: about 2-4 ms.
        """
        if not isinstance(claims, HealthClaims):
            raise EncodingError("claims must be HealthClaims")
        if (
            isinstance(subject_commitment, bool)
            or not isinstance(subject_commitment, int)
            or not 0 <= subject_commitment < FIELD_R
        ):
            raise EncodingError("subject_commitment must be a field element: poseidon([holder_secret])")
        start = dates.today_epoch_day() if issued_at is None else _epoch_day(issued_at, "issued_at")
        if expires_at is None:
            if isinstance(validity_days, bool) or not isinstance(validity_days, int) or validity_days < 1:
                raise EncodingError("validity_days must be a positive int")
            end = start + validity_days
        else:
            end = _epoch_day(expires_at, "expires_at")
        if not isinstance(allow_future_dates, bool):
            raise EncodingError("allow_future_dates must be a bool")
        if not allow_future_dates:
            check_no_future_dates(claims, dates.today_epoch_day())
        credential = Credential(
            credential_id=new_credential_id() if credential_id is None else credential_id,
            subject_commitment=subject_commitment,
            issuer_public_key=self.public_key,
            issuer_ed25519=self.ed25519_public_key,
            issued_at=start,
            expires_at=end,
            claims=claims,
        )
        signature = eddsa_poseidon.sign(self._bjj, credential.claims_hash())
        document = sign_document(build_document(credential, signature), self._ed25519)
        return IssuedCredential(credential, signature, document)

    def issue_from_fhir(
        self, bundle: BundleSource, *, subject_commitment: int, research_consent: bool = False, **options: Any
    ) -> IssuedCredential:
        """:func:`claims_from_bundle` then :meth:`issue` (``options`` as for :meth:`issue`)."""
        claims = claims_from_bundle(bundle, research_consent=research_consent)
        return self.issue(claims, subject_commitment=subject_commitment, **options)

    def issue_record(
        self,
        record: PatientRecord,
        *,
        subject_commitment: int,
        issued_at: int | _dt.date | str | None = None,
        expires_at: int | _dt.date | str | None = None,
        validity_days: int = DEFAULT_VALIDITY_DAYS,
        credential_id: int | None = None,
        allow_future_dates: bool = False,
    ) -> IssuedRecord:
        """Sign a whole patient record as a version-2 credential (credentials/record.py).

        Dates as for :meth:`issue`; a birth date or a ``record_as_of`` day after today (UTC) raises
        :class:`FutureDateError` unless ``allow_future_dates`` (the record's clinical dates never lie after
        its ``record_as_of``). Raises :class:`EncodingError` for a record that does not fit the schema,
        :class:`~zkhealth.errors.RecordCapacityError` naming a set that overflows. Cost: the four sets'
        hashes (milliseconds to about 2 s per full set) and two signatures.
        """
        if not isinstance(record, PatientRecord):
            raise EncodingError("record must be a PatientRecord")
        if not isinstance(allow_future_dates, bool):
            raise EncodingError("allow_future_dates must be a bool")
        if not allow_future_dates:
            today = dates.epoch_day_to_date(dates.today_epoch_day())
            for what, day in (("birth date", record.birth_date), ("record's as-of day", record.record_as_of)):
                if day > today:
                    raise FutureDateError(
                        f"the {what} {day.isoformat()} lies after the day of issuance {today.isoformat()}; a record "
                        "cannot attest the future (allow_future_dates=True / --allow-future-dates if intended)"
                    )
        start = dates.today_epoch_day() if issued_at is None else _epoch_day(issued_at, "issued_at")
        if expires_at is None:
            if isinstance(validity_days, bool) or not isinstance(validity_days, int) or validity_days < 1:
                raise EncodingError("validity_days must be a positive int")
            end = start + validity_days
        else:
            end = _epoch_day(expires_at, "expires_at")
        return issue_record(self._bjj, self._ed25519, record, subject_commitment=subject_commitment,
                            issued_at=start, expires_at=end, credential_id=credential_id)

    def issue_record_for_patient(
        self, patient: str, record: PatientRecord, *, subject_commitment: int, **options: Any
    ) -> tuple[IssuedRecord, int | None]:
        """:meth:`issue_record`, keeping one active holder commitment per patient record: ``patient`` is the
        issuer's record id (an MRN); when the record's active credential was issued to another commitment, that
        credential is revoked in the same database transaction that records the new one
        (:meth:`~zkhealth.credentials.trees.RevocationTree.bind_holder`). Returns the new credential and the
        revoked credential id (``None`` when nothing was revoked). Needs the issuer's revocation tree."""
        if self.revocation is None:
            raise EncodingError("this issuer has no revocation tree to keep its patients' holders in")
        issued = self.issue_record(record, subject_commitment=subject_commitment, **options)
        revoked = self.revocation.bind_holder(patient, subject_commitment, issued.credential.credential_id)
        return issued, revoked

    def revoke(self, credential_id: int) -> bool:
        """Add ``credential_id`` to the revocation tree; ``False`` if it was already revoked."""
        if self.revocation is None:
            raise EncodingError("this issuer has no revocation tree")
        return self.revocation.revoke(credential_id)

    def revocation_statement(self, published_at: int | None = None) -> RevocationStatement:
        """The issuer's signed statement of its current revocation root and revoked count (what the registry
        operator applies to the issuer registry, :meth:`~zkhealth.credentials.trust.TrustedIssuers.apply`)."""
        if self.revocation is None:
            raise EncodingError("this issuer has no revocation tree")
        return RevocationStatement.sign(self._bjj, self.revocation.root, len(self.revocation), published_at)

    def sign_ed25519(self, message: bytes) -> bytes:
        """A detached Ed25519 signature of ``message`` with the key file's Ed25519 key (the registry operator signs
        its trust-root file this way, :class:`~zkhealth.credentials.trust_roots.TrustRootDocument`)."""
        return self._ed25519.sign(message)

    def __repr__(self) -> str:
        ax, ay = self.public_key
        return f"Issuer(did={self.did!r}, babyjubjub=({ax}, {ay}), keys=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("an Issuer cannot be pickled (it holds signing keys)")
