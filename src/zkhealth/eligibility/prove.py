"""Proving eligibility: from a wallet (:func:`prove`) or from credentials and a holder secret
(:func:`prove_eligibility`).

Both check everything natively before any witness is solved, so a proof that a verifier would refuse is never
made: the criteria (an ineligible holder gets :class:`~zkhealth.errors.NotEligibleError` naming the failing
clause); the credential's validity on ``today`` (:class:`~zkhealth.errors.CredentialExpiredError` /
:class:`~zkhealth.errors.CredentialNotYetValidError`); that its issuer is in the issuer registry
(:class:`~zkhealth.errors.UnknownIssuerError`); that the credential is not revoked under *its issuer's*
revocation root as the registry holds it (:class:`~zkhealth.errors.CredentialRevokedError`); for a one-per-person
trial, that the holder is registered in the person registry before the trial opened
(:class:`~zkhealth.errors.PersonRegistryError`); and that the trust root these give is one verifiers accept now
(current, or superseded within the trial's grace period: :class:`~zkhealth.errors.StaleRootError`,
:class:`~zkhealth.errors.UntrustedRootError`). Then they solve the witness and prove (seconds).

Only version-2 credentials prove; version-1 credentials stay readable in a wallet and are skipped (their issuer
re-issues them as version 2). The wallet is passed in: credentials and wallets know nothing of trials.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from zkhealth import groth16
from zkhealth.credentials.dates import today_epoch_day
from zkhealth.credentials.persons import PersonMembership, PersonRegistry
from zkhealth.credentials.record import RecordCredential
from zkhealth.credentials.record_vc import IssuedRecord, is_record_document, parse_record_document
from zkhealth.credentials.trees import NonMembershipProof, RevocationTree, verify_non_membership
from zkhealth.credentials.trust import IssuerMembership, TrustedIssuers, trust_root, trusted_issuer_leaf
from zkhealth.credentials.trust_roots import RootHistory
from zkhealth.credentials.wallet import Wallet
from zkhealth.eligibility.dedicated import dedicated_inputs
from zkhealth.eligibility.evaluate import ProgramEvaluation
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.trial import Trial, epoch_day
from zkhealth.errors import (
    ArgumentTypeError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    EligibilityError,
    MerkleProofError,
    NotEligibleError,
    PersonRegistryError,
    UnknownIssuerError,
)
from zkhealth.signature.eddsa_poseidon import Signature

__all__ = ["Revocations", "eligibility_inputs", "prove", "prove_eligibility"]

#: The revocation data a prover passes: its issuer's revocation tree (or several issuers' trees: the one whose
#: history holds the registered root is used), or a ready non-membership proof against the registered root.
Revocations = RevocationTree | Sequence[RevocationTree] | NonMembershipProof

CredentialSource = IssuedRecord | tuple[RecordCredential, Signature] | dict[str, Any] | str | bytes


def _pairs(source: object) -> list[tuple[RecordCredential, Signature]]:
    """Version-2 credentials with their signatures; version-1 documents are skipped (not provable)."""
    if isinstance(source, IssuedRecord):
        return [(source.credential, source.signature)]
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], RecordCredential):
        if not isinstance(source[1], Signature):
            raise EligibilityError("a (RecordCredential, Signature) pair needs an eddsa_poseidon.Signature")
        return [(source[0], source[1])]
    if isinstance(source, dict | str | bytes):
        if not is_record_document(source):
            return []
        credential, signature, _ = parse_record_document(source)
        return [(credential, signature)]
    if isinstance(source, list):
        return [pair for item in source for pair in _pairs(item)]
    raise EligibilityError("expected an IssuedRecord, a version-2 VC document, a (RecordCredential, Signature) "
                           "pair or a list of them")


def _non_membership(revocations: Revocations, credential_id: int, root: int) -> NonMembershipProof:
    """The credential's non-membership proof against ``root`` (its issuer's registered revocation root)."""
    if isinstance(revocations, NonMembershipProof):
        return revocations
    trees = [revocations] if isinstance(revocations, RevocationTree) else list(revocations)
    for tree in trees:
        if not isinstance(tree, RevocationTree):
            raise EligibilityError("revocations must be RevocationTree objects or a NonMembershipProof")
        try:
            return tree.non_membership_proof(credential_id, root=root)
        except MerkleProofError:
            continue  # another issuer's tree, or this issuer's tree never had the registered root
    raise UnknownIssuerError(
        "no revocation tree given has the revocation root the issuer registry holds for this credential's "
        "issuer: fetch the issuer's current revocation list (or the registry the operator published with it)"
    )


def eligibility_inputs(
    trial: Trial,
    credentials: CredentialSource | Sequence[CredentialSource],
    holder_secret: int,
    *,
    recipient: int,
    issuers: TrustedIssuers,
    revocations: Revocations,
    persons: PersonRegistry | PersonMembership | None = None,
    person_root: int | None = None,
    roots: RootHistory | None = None,
    today: int | _dt.date | None = None,
    now: float | None = None,
    scope: int | None = None,
) -> dict[str, Any]:
    """The solver inputs of ``trial``'s circuit for the holder of ``holder_secret`` and the first eligible
    credential, after every native check of :func:`prove_eligibility` (which solves and proves them).

    ``issuers``: the issuer registry the published trust root was built from (a trust-root file's
    ``issuers``); ``revocations``: the credential issuer's revocation tree(s); ``persons``: the person registry,
    or the holder's membership (``zkhealth registrar proof``), for a one-per-person trial; ``person_root``: the
    person registry's root otherwise (a trust-root file's ``person_registry_root``; default: the empty registry);
    ``roots``: the published roots the trust root must be accepted by (default: ``trial.roots``; with neither the
    freshness check is skipped). ``now`` (unix seconds) is the moment of that check. Raises the errors of the
    module docstring. Needs no keys. Cost: milliseconds (the record's sets, a few Poseidon hashes).
    """
    day = today_epoch_day() if today is None else epoch_day(today)
    source: object = credentials
    if isinstance(credentials, tuple) and not (len(credentials) == 2 and isinstance(credentials[0], RecordCredential)):
        source = list(credentials)
    pairs = _pairs(source)
    if not pairs:
        raise NotEligibleError("no version-2 credential to prove with (version-1 credentials must be re-issued)",
                               clause=None)
    chosen: tuple[RecordCredential, Signature] | None = None
    first: ProgramEvaluation | None = None
    for credential, signature in pairs:
        verdict = trial.evaluate(credential, day)
        if verdict.eligible:
            chosen = (credential, signature)
            break
        first = first or verdict
    if chosen is None:
        if first is not None:
            first.raise_if_not_eligible()
        raise NotEligibleError("not eligible", clause=None)
    credential, signature = chosen
    if day < credential.issued_at:
        raise CredentialNotYetValidError("the credential is not valid yet on this day")
    if day >= credential.expires_at:
        raise CredentialExpiredError("the credential has expired on this day")
    membership: IssuerMembership = issuers.membership(credential.issuer_public_key)
    if membership.proof.leaf != trusted_issuer_leaf(credential.issuer_public_key, membership.revocation_root):
        raise UnknownIssuerError("the registry proof is for another issuer")
    revocation = _non_membership(revocations, credential.credential_id, membership.revocation_root)
    verify_non_membership(membership.revocation_root, credential.credential_id, revocation)
    policy = trial.policy
    person_membership: PersonMembership | None = None
    chosen_person_root: int | None
    if policy.one_per_person:
        if isinstance(persons, PersonRegistry):
            person_membership = persons.membership(credential.subject_commitment)
        elif isinstance(persons, PersonMembership):
            person_membership = persons
        else:
            raise PersonRegistryError("a one-per-person trial needs the holder's person-registry membership")
        opened = policy.opened_day if policy.opened_day is not None else 0
        if person_membership.registered_day >= opened:
            raise PersonRegistryError(
                f"this wallet was registered on day {person_membership.registered_day}, not before the trial opened "
                f"(day {opened}): a wallet registered or rotated after a one-per-person trial opened cannot enroll"
            )
        chosen_person_root = person_membership.proof.compute_root()
    else:
        chosen_person_root = person_root
    root = trust_root(membership.proof.compute_root(), chosen_person_root)
    history = roots if roots is not None else trial.roots
    if history is not None:
        history.check(root, grace_seconds=trial.root_grace_seconds, now=now)
    chosen_scope = scope if scope is not None else trial.expected_scope
    if chosen_scope is None:
        raise EligibilityError("no scope: pass scope= or create the trial with one")
    return dedicated_inputs(trial.program, credential, signature, holder_secret=holder_secret, today=day,
                            recipient=recipient, scope=chosen_scope, issuer=membership, revocation=revocation,
                            person=person_membership, person_root=chosen_person_root)


def prove_eligibility(
    trial: Trial,
    credentials: CredentialSource | Sequence[CredentialSource],
    holder_secret: int,
    *,
    recipient: int,
    issuers: TrustedIssuers,
    revocations: Revocations,
    persons: PersonRegistry | PersonMembership | None = None,
    person_root: int | None = None,
    roots: RootHistory | None = None,
    today: int | _dt.date | None = None,
    now: float | None = None,
    scope: int | None = None,
    rng: Any = None,
) -> EligibilityProof:
    """Prove that the holder of ``holder_secret`` meets ``trial``'s program with the first eligible credential.

    ``issuers``: the issuer registry the published trust root was built from (a trust-root file's
    ``issuers``); ``revocations``: the credential issuer's revocation tree(s); ``persons``: the person registry,
    or the holder's membership (``zkhealth registrar proof``), for a one-per-person trial; ``person_root``: the
    person registry's root otherwise (a trust-root file's ``person_registry_root``; default: the empty registry);
    ``roots``: the published roots the trust root must be accepted by (default: ``trial.roots``; with neither the
    freshness check is skipped). ``now`` (unix seconds) is the moment of that check. Raises the errors of the
    module docstring before any proving. Cost: a few seconds (the witness, then the Groth16 prover).
    """
    inputs = eligibility_inputs(trial, credentials, holder_secret, recipient=recipient, issuers=issuers,
                                revocations=revocations, persons=persons, person_root=person_root, roots=roots,
                                today=today, now=now, scope=scope)
    compiled = trial.compile()
    keys = trial.keys
    witness = compiled.solve_witness(inputs)
    proof = groth16.prove(keys.pk, witness, rng=rng, r1cs=compiled.r1cs)
    return EligibilityProof(trial.trial_id, trial.program.sha256(), keys.vk_sha256, proof,
                            tuple(compiled.public_signals(witness)))


def prove(
    trial: Trial,
    wallet: Wallet,
    *,
    recipient: int,
    issuers: TrustedIssuers,
    revocations: Revocations,
    persons: PersonRegistry | PersonMembership | None = None,
    person_root: int | None = None,
    roots: RootHistory | None = None,
    today: int | _dt.date | None = None,
    now: float | None = None,
    scope: int | None = None,
    rng: Any = None,
) -> EligibilityProof:
    """Prove with the wallet's holder secret and the first of its version-2 credentials that meets the criteria
    (version-1 credentials are skipped). When none is eligible, the first one's failing clause is raised
    (:class:`NotEligibleError`). Otherwise as :func:`prove_eligibility`."""
    if not isinstance(trial, Trial):
        raise ArgumentTypeError(f"expected a Trial, got {type(trial).__name__}")
    if not isinstance(wallet, Wallet):
        raise ArgumentTypeError(f"expected a Wallet, got {type(wallet).__name__}")
    return prove_eligibility(trial, wallet.credentials, wallet.holder_secret, recipient=recipient, issuers=issuers,
                             revocations=revocations, persons=persons, person_root=person_root, roots=roots,
                             today=today, now=now, scope=scope, rng=rng)
