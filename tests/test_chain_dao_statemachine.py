"""A hypothesis state machine over enroll, withdraw, expire (time passing), pay and vote on the DAO contracts.

Invariants: the registry never pays out more than it was funded (and its token balance is its pool); one payout per
nullifier and milestone; one vote per person and proposal. A model predicts each call's outcome (success or the
custom error) and the machine checks the chain agrees.

Trapdoor keys (tests/chain_testkeys.py, test-only) stand in for the universal and the vote circuits, so every
step can make a valid proof for the signals the model chooses; py-evm runs with the fast pairing.
"""

from __future__ import annotations

from typing import Any

import chain_testkeys as testkeys
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from zkhealth.chain import client, devchain
from zkhealth.chain.governance import Action, deploy_dao
from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, RewardTerms, TrialTerms, deploy_reward_token
from zkhealth.eligibility.vote import VoteProof
from zkhealth.errors import ContractRevertError
from zkhealth.groth16.keys import Proof
from zkhealth.hash.poseidon import poseidon

pytestmark = [pytest.mark.evm, pytest.mark.slow]

DAY = 86400
ROOT = 0xE1EC
CONSENT = b"\x77" * 32
PROGRAM = 0x1234
REWARD = 3
MILESTONES = (5, 7)
FUNDED = 40
PEOPLE = 5
UNIVERSAL = testkeys.TrapdoorKey.generate(6, seed=61)
VOTE = testkeys.TrapdoorKey.generate(4, seed=62)


_REFUSALS = {None: "NotEnrolled", "withdrawn": "EnrollmentWithdrawn", "expired": "ConsentHasExpired",
             "marked": "ConsentHasExpired"}


def as_proof(simulated: testkeys.SimulatedProof) -> Proof:
    return Proof(simulated.a, simulated.b, simulated.c)


class DaoMachine(RuleBasedStateMachine):
    @initialize()
    def deploy(self) -> None:
        self.w3 = client.connect(client.embedded_provider(fast_pairing=True))
        accounts = list(self.w3.eth.accounts)
        self.recruiter, self.sponsor, self.publisher = accounts[0], accounts[1], accounts[9]
        self.addresses = accounts[2 : 2 + PEOPLE]
        self.dao = deploy_dao(
            self.w3,
            universal_vk=UNIVERSAL.key(),
            vote_vk=VOTE.key(),
            publishers=[self.publisher],
            creators=[self.recruiter],
            voting_period=10_000,
        )
        self.registry = self.dao.registry
        self.registry.publish_trust_root(ROOT, sender=self.publisher)
        token = deploy_reward_token(self.w3, "Reward", "RWD", owner=self.recruiter)
        client.transact(self.w3, token.functions.mint(self.sponsor, 10**6), sender=self.recruiter)
        self.token = token
        now = self.now()
        terms = TrialTerms(
            program_hash=PROGRAM,
            consent_hash=CONSENT,
            window=(now - 60, now + 90 * DAY),
            capacity=3,
            owner=self.recruiter,
            rewards=RewardTerms(token.address, self.sponsor, REWARD, MILESTONES),
        )
        self.trial = self.registry.create_trial(terms, sender=self.recruiter)
        self.registry.fund(self.trial.trial_id, FUNDED, sender=self.sponsor)
        action = Action.call(self.dao.directory, "addIssuer", 1, 2, "x")
        self.proposal = self.dao.governance.propose([action], "admit", sender=self.recruiter)
        devchain.mine(self.w3, 2)
        self.secrets = [0x5000 + i for i in range(PEOPLE)]
        self.status: dict[int, str] = {}  # person -> active | withdrawn | expired | marked (seat freed)
        self.expiry: dict[int, int] = {}
        self.paid: set[tuple[int, int]] = set()
        self.total_paid = 0
        self.voted: set[int] = set()
        self.tally = [0, 0, 0]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def today(self) -> int:
        return self.now() // DAY

    def nullifier(self, person: int) -> int:
        return poseidon([self.secrets[person], self.trial.scope])

    def attempt(self, expected: str | None, fn: Any) -> None:
        try:
            fn()
        except ContractRevertError as exc:
            assert exc.error_name == expected, (expected, exc.error_name)
            return
        assert expected is None, f"expected {expected}"

    def refresh(self, person: int) -> None:
        if self.status.get(person) == "active" and self.expiry[person] <= self.today():
            self.status[person] = "expired"

    @rule(person=st.integers(0, PEOPLE - 1), days=st.integers(1, 20))
    def enroll(self, person: int, days: int) -> None:
        for p in range(PEOPLE):
            self.refresh(p)
        n = self.nullifier(person)
        address = self.addresses[person]
        signals = [n, PROGRAM, self.trial.scope, self.today(), ROOT, int(address, 16)]
        consent = ConsentTerms(CONSENT, CONSENT_PURPOSES["trial-participation"], self.today() + days)
        # an expired consent keeps its seat until someone calls markExpired
        seated = sum(1 for s in self.status.values() if s in ("active", "expired"))
        expected: str | None = None
        if seated >= 3:  # the registry checks the seats before the nullifier
            expected = "CohortFull"
        elif person in self.status:
            expected = "NullifierUsed"
        elif FUNDED - self.total_paid < REWARD:
            expected = "PoolUnderfunded"
        proof = UNIVERSAL.prove(signals).to_proof()
        self.attempt(expected, lambda: self.registry.enroll(self.trial.trial_id, proof, signals, consent,
                                                            sender=address))
        if expected is None:
            self.status[person] = "active"
            self.expiry[person] = self.today() + days
            self.paid.add((person, 0))
            self.total_paid += REWARD

    @rule(person=st.integers(0, PEOPLE - 1))
    def withdraw(self, person: int) -> None:
        self.refresh(person)
        state = self.status.get(person)
        expected = _REFUSALS.get(state)
        self.attempt(expected, lambda: self.registry.withdraw(self.trial.trial_id, self.nullifier(person),
                                                              sender=self.addresses[person]))
        if expected is None:
            self.status[person] = "withdrawn"

    @rule(days=st.integers(1, 5))
    def expire(self, days: int) -> None:
        devchain.advance_time(self.w3, days * DAY)

    @rule(person=st.integers(0, PEOPLE - 1))
    def mark_expired(self, person: int) -> None:
        self.refresh(person)
        state = self.status.get(person)
        expected = {None: "NotEnrolled", "withdrawn": "EnrollmentWithdrawn", "active": "ConsentStillActive",
                    "marked": "ConsentHasExpired"}.get(state)
        self.attempt(expected, lambda: self.registry.mark_expired(self.trial.trial_id, self.nullifier(person),
                                                                  sender=self.recruiter))
        if expected is None:
            self.status[person] = "marked"

    @rule(person=st.integers(0, PEOPLE - 1), milestone=st.sampled_from([1, 2]))
    def pay(self, person: int, milestone: int) -> None:
        self.refresh(person)
        state = self.status.get(person)
        amount = MILESTONES[milestone - 1]
        expected = _REFUSALS.get(state)
        if expected is None and (person, milestone) in self.paid:
            expected = "AlreadyPaid"
        elif expected is None and FUNDED - self.total_paid < amount:
            expected = "PoolUnderfunded"
        self.attempt(expected, lambda: self.registry.pay_milestone(self.trial.trial_id, self.nullifier(person),
                                                                   milestone, sender=self.recruiter))
        if expected is None:
            self.paid.add((person, milestone))
            self.total_paid += amount

    @rule(person=st.integers(0, PEOPLE - 1), choice=st.sampled_from([0, 1, 2]))
    def vote(self, person: int, choice: int) -> None:
        g = self.dao.governance
        scope = g.proposal_scope(self.proposal.proposal_id)
        n = poseidon([self.secrets[person], scope])
        ballot = VoteProof(as_proof(VOTE.prove([n, scope, choice, ROOT])), (n, scope, choice, ROOT))
        expected = "NullifierAlreadyVoted" if person in self.voted else None
        self.attempt(expected, lambda: g.vote(self.proposal.proposal_id, ballot, sender=self.addresses[-1 - person]))
        if expected is None:
            self.voted.add(person)
            self.tally[choice] += 1

    @invariant()
    def paid_never_exceeds_funded(self) -> None:
        pool, paid = self.registry.pool(self.trial.trial_id)
        assert paid == self.total_paid <= FUNDED
        assert pool == FUNDED - paid
        assert int(self.token.functions.balanceOf(self.registry.address).call()) == pool

    @invariant()
    def one_payout_per_nullifier_and_milestone(self) -> None:
        events = self.registry.contract.events.RewardPaid().get_logs(from_block=0)
        keys = [(int(e["args"]["nullifier"]), int(e["args"]["milestone"])) for e in events]
        assert len(keys) == len(set(keys)) == len(self.paid)

    @invariant()
    def one_vote_per_person_and_proposal(self) -> None:
        against, for_, abstain = self.dao.governance.votes(self.proposal.proposal_id)
        assert [against, for_, abstain] == self.tally
        assert against + for_ + abstain == len(self.voted)


def test_dao_state_machine() -> None:
    run_state_machine_as_test(
        DaoMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
