"""A filled chain for the dashboard's tests (helper module, no tests here).

On py-evm (fast pairing): a TrialRegistry with two trials and two per-trial CohortEnrollment contracts, filled by
enrollments spread over days, a withdrawal, an expired consent, a milestone payout, a superseded trust root and a
data-access grant whose URI is HTML. Proofs come from trapdoor keys (tests/chain_testkeys.py: valid proofs for
chosen signals, test-only), so the world builds in seconds; the contracts check them exactly as real proofs.

The strings the chain hands the dashboard include HTML on purpose: trial 2's external id is ``<b>x</b>`` and the
grant's URI is :data:`HOSTILE_URI`. The pages must show them as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import chain_testkeys as testkeys

from zkhealth.chain import client, devchain, enrollment
from zkhealth.chain.registry import (
    CONSENT_PURPOSES,
    ConsentTerms,
    RewardTerms,
    TrialRegistryClient,
    TrialTerms,
    deploy_reward_token,
)
from zkhealth.dashboard.source import DashboardSource, KnownTrial, SampleProof
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.scope import trial_id_bytes

DAY = 86_400
PROGRAM = 0x5EED
CONSENT = hashlib.sha256(b"dashboard test consent document").digest()
ROOT_A, ROOT_B = 1111, 2222
#: The first per-trial contract's trust root (never superseded).
COHORT_ROOT = 3333
TOKEN = 10**18
HOSTILE_URI = '<script>window.hacked=1</script><b id="injected">bold</b>'
HOSTILE_ID = b"<b>x</b>"
V1_CRITERIA = "diagnosis in E11.* and age >= 18"
#: Enrollments in registry trial 1, one per day; index 2 withdraws, index 4 lets its consent expire.
REGISTRY_ENROLLMENTS = 8
V1_ENROLLMENTS = 2
#: Enrollments in the second per-trial contract; index 0 withdraws.
V2_ENROLLMENTS = 3


@dataclass
class World:
    w3: Any
    registry: TrialRegistryClient
    registry_key: testkeys.TrapdoorKey
    v1_key: testkeys.TrapdoorKey
    v1_contract: Any
    v2_key: testkeys.TrapdoorKey
    v2_contract: Any
    accounts: list[str]
    owner: str
    recruiter: str
    sponsor: str
    publisher: str
    token: Any
    trial_ids: list[int]
    nullifiers: list[int] = field(default_factory=list)
    v1_nullifiers: list[int] = field(default_factory=list)
    v2_nullifiers: list[int] = field(default_factory=list)

    @property
    def v1_address(self) -> str:
        return str(self.v1_contract.address)

    @property
    def v2_address(self) -> str:
        return str(self.v2_contract.address)

    def today(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"]) // DAY

    def v1_proof(self, nullifier: int, recipient: str) -> EligibilityProof:
        """A valid proof file for the first per-trial contract (for today, bound to ``recipient``)."""
        scope = int(self.v1_contract.functions.scope().call())
        signals = [nullifier, scope, self.today(), COHORT_ROOT, int(recipient, 16)]
        proof = self.v1_key.prove(signals).to_proof()
        vk = self.v1_key.key()
        return EligibilityProof(trial_id_bytes("NCT09000009"), "0" * 64, vk.sha256(), proof, tuple(signals))

    def v2_proof(self, nullifier: int, recipient: str, *, root: int = ROOT_B) -> EligibilityProof:
        """A valid proof file for the second per-trial contract."""
        scope = int(self.v2_contract.functions.scope().call())
        signals = [nullifier, scope, self.today(), root, int(recipient, 16)]
        proof = self.v2_key.prove(signals).to_proof()
        return EligibilityProof(trial_id_bytes("NCT07000007"), "1" * 64, self.v2_key.key().sha256(), proof,
                                tuple(signals))

    def known(self) -> list[KnownTrial]:
        from zkhealth.eligibility.trial import Trial

        v1_scope = int(self.v1_contract.functions.scope().call())
        trial = Trial(V1_CRITERIA, trial_id="NCT09000009", name="Adults with type 2 diabetes")
        v1 = KnownTrial.from_trial(trial, v1_scope)
        v1 = KnownTrial(v1.scope, v1.name, v1.criteria, v1.shows, v1.learns, self.v1_key.key())
        registry_trial = KnownTrial(
            self.registry.scope(self.trial_ids[0]), "Registry trial one", "age >= 18 and hba1c >= 7",
            "A valid proof shows: the holder meets the criteria.",
            (("nullifier", "one per person and trial"), ("recipient", "the enrolling address")),
            self.registry_key.key(),
        )
        v2 = KnownTrial(int(self.v2_contract.functions.scope().call()), "Dedicated circuit trial", "age >= 65",
                        "A valid proof shows: the holder is 65 or older.", (("nullifier", "one per person"),),
                        self.v2_key.key())
        return [v1, registry_trial, v2]

    def source(self, *, signer: str | None = None, samples: bool = True) -> DashboardSource:
        sample_list = []
        if samples:
            fresh = self.v1_proof(0xF4E5, self.accounts[9])
            sample_list.append(SampleProof("a fresh patient's proof", fresh.to_json()))
        return DashboardSource(
            self.w3, registry=self.registry, enrollments=[self.v1_address, self.v2_address], known=self.known(),
            signer=signer, chain_label="the test chain", samples=sample_list,
        )


def build_world() -> World:
    """Build and fill the chain (module docstring). Cost: a few seconds on py-evm with the fast pairing."""
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    owner, recruiter, sponsor, publisher = accounts[:4]
    patients = accounts[4:9]
    registry_key = testkeys.TrapdoorKey.generate(6, seed=2020)
    v1_key = testkeys.TrapdoorKey.generate(5, seed=2021)
    registry = TrialRegistryClient.deploy(w3, registry_key.key(), owner=owner, publishers=[publisher],
                                          creators=[recruiter], sender=owner)
    registry.publish_trust_root(ROOT_A, sender=publisher)
    token = deploy_reward_token(w3, "Trial Reward", "TRW", owner=owner, sender=owner)
    client.transact(w3, token.functions.mint(sponsor, 1_000 * TOKEN), sender=owner)
    now = int(w3.eth.get_block("latest")["timestamp"])
    trial_ids = []
    for external, rewards, capacity in ((b"NCT05000001", True, 20), (HOSTILE_ID, False, 3)):
        terms = TrialTerms(
            program_hash=PROGRAM, consent_hash=CONSENT, window=(now - 60, now + 90 * DAY), capacity=capacity,
            owner=recruiter, external_id=external.ljust(32, b"\0"),
            required_purposes=CONSENT_PURPOSES["trial-participation"],
            rewards=RewardTerms(token.address, sponsor, TOKEN, (5 * TOKEN, 20 * TOKEN)) if rewards else None,
        )
        trial_ids.append(registry.create_trial(terms, sender=recruiter).trial_id)
    registry.fund(trial_ids[0], 200 * TOKEN, sender=sponsor)
    v1_contract = enrollment.deploy_cohort_enrollment(
        w3, v1_key.key(), trial_id=trial_id_bytes("NCT09000009"), window=(now - 60, now + 90 * DAY), capacity=10,
        owner=recruiter, trust_root=COHORT_ROOT, publishers=[publisher], sender=recruiter,
    )
    v2_key = testkeys.TrapdoorKey.generate(5, seed=2022)
    v2_contract = enrollment.deploy_cohort_enrollment(
        w3, v2_key.key(), trial_id=trial_id_bytes("NCT07000007"), window=(now - 60, now + 90 * DAY), capacity=4,
        owner=recruiter, trust_root=ROOT_A, publishers=[publisher], sender=recruiter,
    )
    world = World(w3, registry, registry_key, v1_key, v1_contract, v2_key, v2_contract, accounts, owner, recruiter,
                  sponsor, publisher, token, trial_ids)
    trial = trial_ids[0]
    for index in range(REGISTRY_ENROLLMENTS):
        patient = patients[index % len(patients)]
        nullifier = 0xA000 + index
        today = world.today()
        signals = [nullifier, PROGRAM, registry.scope(trial), today, ROOT_A, int(patient, 16)]
        expiry = today + 2 if index == 4 else today + 365
        consent = ConsentTerms(CONSENT, CONSENT_PURPOSES["trial-participation"], expiry)
        registry.enroll(trial, registry_key.prove(signals).to_proof(), signals, consent, sender=patient)
        world.nullifiers.append(nullifier)
        if index == 2:
            registry.withdraw(trial, nullifier, sender=patient)
        if index == 1:
            registry.pay_milestone(trial, nullifier, 1, sender=recruiter)
            registry.grant_access(trial, nullifier, hashlib.sha256(b"extract").digest(), today + 30, HOSTILE_URI,
                                  sender=patient)
        devchain.advance_time(w3, DAY + 3600)
    registry.publish_trust_root(ROOT_B, sender=publisher)  # ROOT_A enters its grace period
    for index in range(V1_ENROLLMENTS):
        patient = accounts[5 + index]
        nullifier = 0xB000 + index
        proof = world.v1_proof(nullifier, patient)
        enrollment.enroll_signals(w3, v1_contract, proof.proof, list(proof.public), sender=patient)
        world.v1_nullifiers.append(nullifier)
    for index in range(V2_ENROLLMENTS):
        patient = accounts[6 + index]
        nullifier = 0xC000 + index
        proof = world.v2_proof(nullifier, patient, root=ROOT_A)
        enrollment.enroll_signals(w3, v2_contract, proof.proof, list(proof.public), sender=patient)
        world.v2_nullifiers.append(nullifier)
        if index == 0:
            client.transact(w3, v2_contract.functions.withdraw(nullifier), sender=patient)
    enrollment.publish_trust_root(w3, v2_contract, ROOT_B, sender=publisher)
    return world
