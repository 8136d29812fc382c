"""Proving eligibility: from a wallet (:func:`prove`) or from one credential (:func:`prove_eligibility`).

Both check everything natively before any witness is solved: the criteria (an ineligible holder gets
:class:`~zkhealth.errors.NotEligibleError` naming the failing clause), the credential's validity on ``today``
(:class:`~zkhealth.errors.CredentialExpiredError` / :class:`~zkhealth.errors.CredentialNotYetValidError`), the
registry proof (:class:`~zkhealth.errors.UnknownIssuerError` for another issuer's), non-revocation
(:class:`~zkhealth.errors.CredentialRevokedError`) and the trial's trusted roots
(:class:`~zkhealth.errors.UntrustedRootError`). Then they solve the witness and prove (about 2-3 s).

The wallet is passed in: credentials and wallets know nothing of trials.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from zkhealth import groth16
from zkhealth.credentials.dates import today_epoch_day
from zkhealth.credentials.record_vc import is_record_document
from zkhealth.credentials.trees import (
    IssuerRegistry,
    MerkleProof,
    NonMembershipProof,
    RevocationTree,
    issuer_leaf,
    verify_non_membership,
)
from zkhealth.credentials.vc import IssuedCredential, decode_credential
from zkhealth.credentials.wallet import Wallet
from zkhealth.eligibility.circuit import eligibility_inputs
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.resolve import Evaluation
from zkhealth.eligibility.trial import Trial, epoch_day
from zkhealth.errors import (
    ArgumentTypeError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    EligibilityError,
    NotEligibleError,
    UnknownIssuerError,
    UntrustedRootError,
)

__all__ = ["prove", "prove_eligibility"]


def _day(today: int | _dt.date | None) -> int:
    return today_epoch_day() if today is None else epoch_day(today)


def prove_eligibility(
    trial: Trial,
    credential: IssuedCredential,
    holder_secret: int,
    *,
    today: int | _dt.date | None = None,
    recipient: int,
    registry_proof: MerkleProof,
    revocation_proof: NonMembershipProof,
    scope: int | None = None,
    rng: Any = None,
) -> EligibilityProof:
    """Prove that the holder of ``holder_secret`` meets ``trial``'s criteria with ``credential``.

    ``registry_proof`` is the issuer's membership proof in the trusted-issuer registry
    (``registry.proof(credential.credential.issuer_public_key)``), ``revocation_proof`` the credential's
    non-membership proof in its issuer's revocation tree. ``scope`` defaults to the trial's expected scope.
    A VC document becomes an :class:`IssuedCredential` with :func:`~zkhealth.credentials.vc.decode_credential`.
    Raises the errors of the module docstring before any proving. Cost: about 2-3 s.
    """
    day = _day(today)
    trial.evaluate(credential.credential, day).raise_if_not_eligible()
    subject = credential.credential
    if day < subject.issued_at:
        raise CredentialNotYetValidError("the credential is not valid yet on this day")
    if day >= subject.expires_at:
        raise CredentialExpiredError("the credential has expired on this day")
    if registry_proof.leaf != issuer_leaf(subject.issuer_public_key):
        raise UnknownIssuerError("the registry proof is for another issuer")
    trusted_issuer_root = registry_proof.compute_root()
    revocation_root = revocation_proof.merkle.compute_root()
    verify_non_membership(revocation_root, subject.credential_id, revocation_proof)
    if trial.trusted_issuer_roots and trusted_issuer_root not in trial.trusted_issuer_roots:
        raise UntrustedRootError("the issuer registry proof leads to a root this trial does not trust")
    if trial.revocation_roots and revocation_root not in trial.revocation_roots:
        raise UntrustedRootError("the revocation proof leads to a root this trial does not accept")
    chosen_scope = scope if scope is not None else trial.expected_scope
    if chosen_scope is None:
        raise EligibilityError("no scope: pass scope= or create the trial with one")

    keys = trial.keys
    compiled = trial.compile()
    inputs = eligibility_inputs(
        subject,
        credential.signature,
        holder_secret=holder_secret,
        today=day,
        recipient=recipient,
        scope=chosen_scope,
        trusted_issuer_root=trusted_issuer_root,
        registry_proof=registry_proof,
        revocation_root=revocation_root,
        revocation_proof=revocation_proof,
    )
    witness = compiled.solve_witness(inputs)
    proof = groth16.prove(keys.pk, witness, rng=rng, r1cs=compiled.r1cs)
    return EligibilityProof(
        trial_id=trial.trial_id,
        criteria_sha256=trial.criteria.sha256,
        vk_sha256=keys.vk_sha256,
        proof=proof,
        public=tuple(compiled.public_signals(witness)),
    )


def prove(
    trial: Trial,
    wallet: Wallet,
    *,
    today: int | _dt.date | None = None,
    recipient: int,
    registry: IssuerRegistry,
    revocations: RevocationTree,
    scope: int | None = None,
    rng: Any = None,
) -> EligibilityProof:
    """Prove with the wallet's holder secret and the first of its credentials that meets the criteria.

    ``registry`` is the trusted-issuer registry and ``revocations`` the issuer's revocation tree: the proofs
    for the chosen credential come from them. When no credential is eligible, the first credential's failing
    clause is raised (:class:`NotEligibleError`). Otherwise as :func:`prove_eligibility`.
    """
    if not isinstance(trial, Trial):
        raise ArgumentTypeError(f"expected a Trial, got {type(trial).__name__}")
    if not isinstance(wallet, Wallet):
        raise ArgumentTypeError(f"expected a Wallet, got {type(wallet).__name__}")
    day = _day(today)
    chosen: IssuedCredential | None = None
    first_failure: Evaluation | None = None
    for document in wallet.credentials:
        if is_record_document(document):
            continue  # a schema-version-2 credential proves through RecordTrial (record_trial.py)
        candidate = decode_credential(document)
        verdict = trial.evaluate(candidate.credential, day)
        if verdict.eligible:
            chosen = candidate
            break
        if first_failure is None:
            first_failure = verdict
    if chosen is None:
        if first_failure is not None:
            first_failure.raise_if_not_eligible()
        raise NotEligibleError("no credential to prove with", clause=None)
    subject = chosen.credential
    return prove_eligibility(
        trial,
        chosen,
        wallet.holder_secret,
        today=day,
        recipient=recipient,
        registry_proof=registry.proof(subject.issuer_public_key),
        revocation_proof=revocations.non_membership_proof(subject.credential_id),
        scope=scope,
        rng=rng,
    )
