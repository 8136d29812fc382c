"""The DAO's Python API by role: what a sponsor, a recruiter, a patient, a member and the registry operator do.

Each role object holds the chain connection, the contract client it acts on and the address it sends from; its
methods are the role's verbs (docs/dao.md walks through each flow). Every state-changing verb is simulated with
``eth_call`` first: a refusal raises the contract's decoded custom error and nothing is sent.

::

    sponsor = Sponsor(registry, sponsor_address)
    sponsor.fund(trial_id, 1_000 * 10**18)

    recruiter = Recruiter(registry, recruiter_address, data_keys=keys)
    recruiter.cohort(trial_id)                       # active consents; recruiter.cohort(trial_id, active_only=False)
    recruiter.pay_milestone(trial_id, nullifier, 1)
    bundle = recruiter.open_grant(grant_id, sealed_bytes)

    patient = Patient(registry, fresh_address)       # a fresh address per trial keeps rewards unlinkable
    patient.enroll(trial_id, proof, public_signals, consent)
    patient.grant_access(trial_id, nullifier, fhir_json_bytes, expiry_day=day + 30, uri="https://...")

    member = Member(governance, another_fresh_address)
    member.vote(proposal_id, vote_proof)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkhealth.chain.governance import Action, Governance, Proposal
from zkhealth.chain.grants import DataKeyPair, SealedExtract, open_extract, seal_extract
from zkhealth.chain.registry import CohortMember, ConsentTerms, TrialRegistryClient, TrialTerms
from zkhealth.eligibility.vote import VoteProof
from zkhealth.errors import GrantError
from zkhealth.groth16.keys import Proof

__all__ = ["Member", "Patient", "Recruiter", "RegistryOperator", "Sponsor"]


@dataclass
class Sponsor:
    """Funds a trial's reward pool and takes back what is left after the trial closes."""

    registry: TrialRegistryClient
    address: str

    def fund(self, trial_id: int, amount: int) -> Any:
        return self.registry.fund(trial_id, amount, sender=self.address)

    def reclaim(self, trial_id: int) -> Any:
        return self.registry.reclaim(trial_id, sender=self.address)


@dataclass
class Recruiter:
    """Owns trials: creates them, reads the cohort with each consent's status, pays milestones, opens data
    extracts that patients granted (with the trial's data key pair)."""

    registry: TrialRegistryClient
    address: str
    data_keys: DataKeyPair | None = None

    def create_trial(self, terms: TrialTerms) -> int:
        return self.registry.create_trial(terms, sender=self.address).trial_id

    def cohort(self, trial_id: int, *, active_only: bool = True) -> list[CohortMember]:
        return self.registry.cohort(trial_id, active_only=active_only)

    def pay_milestone(self, trial_id: int, nullifier: int, milestone: int) -> Any:
        return self.registry.pay_milestone(trial_id, nullifier, milestone, sender=self.address)

    def close(self, trial_id: int) -> Any:
        return self.registry.close_trial(trial_id, sender=self.address)

    def open_grant(self, grant_id: int, sealed: bytes) -> bytes:
        """Check the grant is active and the bytes match its hash, record the use on-chain, return the
        extract. Raises :class:`GrantError` for an inactive (revoked, expired, ended) grant or bad bytes."""
        if self.data_keys is None:
            raise GrantError("this recruiter holds no data key pair")
        if not self.registry.grant_is_active(grant_id):
            raise GrantError(f"grant {grant_id} is revoked, expired, or its consent has ended")
        record = self.registry.grant(grant_id)
        extract = open_extract(sealed, self.data_keys.private_key, expected_sha256=record["extractHash"])
        self.registry.record_access(grant_id, sender=self.address)
        return extract


@dataclass
class Patient:
    """Enrolls with a proof and consent terms, withdraws, grants and revokes data access. Use a fresh address
    for each trial: the address receives the rewards and is visible on-chain."""

    registry: TrialRegistryClient
    address: str

    def enroll(self, trial_id: int, proof: Proof, public_signals: Sequence[int], consent: ConsentTerms) -> Any:
        return self.registry.enroll(trial_id, proof, public_signals, consent, sender=self.address)

    def withdraw(self, trial_id: int, nullifier: int) -> Any:
        return self.registry.withdraw(trial_id, nullifier, sender=self.address)

    def grant_access(
        self, trial_id: int, nullifier: int, extract: bytes, *, expiry_day: int, uri: str
    ) -> tuple[int, SealedExtract]:
        """Seal ``extract`` for the trial's data key, record the grant; returns (grant id, sealed extract) -
        store ``sealed.sealed`` at ``uri``."""
        data_key = bytes(self.registry.contract.functions.trialInfo(trial_id).call()[6])
        sealed = seal_extract(extract, data_key)
        grant_id = self.registry.grant_access(trial_id, nullifier, sealed.sha256, expiry_day, uri, sender=self.address)
        return grant_id, sealed

    def revoke_access(self, grant_id: int) -> Any:
        return self.registry.revoke_access(grant_id, sender=self.address)


@dataclass
class Member:
    """A person in the person registry: proposes, votes anonymously, queues and executes proposals."""

    governance: Governance
    address: str

    def propose(self, actions: Sequence[Action], description: str) -> Proposal:
        return self.governance.propose(actions, description, sender=self.address)

    def vote(self, proposal_id: int, vote: VoteProof, *, reason: str = "") -> Any:
        return self.governance.vote(proposal_id, vote, sender=self.address, reason=reason)

    def queue(self, proposal: Proposal) -> Any:
        return self.governance.queue(proposal, sender=self.address)

    def execute(self, proposal: Proposal) -> Any:
        return self.governance.execute(proposal, sender=self.address)


@dataclass
class RegistryOperator:
    """Builds the trust root off-chain (issuer registry + person registry) and publishes it to the registry
    (and to any per-trial CohortEnrollment it serves) as an authorised publisher."""

    registry: TrialRegistryClient
    address: str

    def publish_trust_root(self, root: int) -> Any:
        return self.registry.publish_trust_root(root, sender=self.address)
