"""Issue 13, as a hypothesis state machine: issue, revoke, publish, rotate, enroll and withdraw, in any order, keep

* no revoked credential is ever enrolled after its grace period (counted from the publication of the trust root
  that carries the revocation), and
* no person holds two enrollments in a one-per-person trial.

Everything that decides is real: the issuers' revocation trees and signed revocation roots, the issuer registry,
the registrar's person registry (one leaf per person, rotation), the operator's trust roots with their history,
the prover's checks (:func:`zkhealth.eligibility.eligibility_inputs`), the one-per-person circuit's witness solver
(every enrollment's public signals come from a solved witness), and the CohortEnrollment contract on py-evm
(trust-root freshness, nullifiers, withdrawal). Only the last step, turning the solved witness's public signals
into a Groth16 proof, uses a trapdoor key (tests/chain_testkeys.py) so that a run takes minutes, not hours; a
patient may also try an older published snapshot of the registries, as a stale prover would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chain_testkeys as testkeys
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from records import t2d_record

from zkhealth.chain import client, devchain, enrollment
from zkhealth.circuit import CompiledCircuit
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.dates import epoch_day_to_date
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.persons import PersonMembership, PersonRegistry
from zkhealth.credentials.record_vc import IssuedRecord
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.trust import TrustedIssuers, trust_root
from zkhealth.eligibility import Trial, eligibility_inputs
from zkhealth.eligibility.program import Policy
from zkhealth.errors import ContractRevertError, ZkHealthError

pytestmark = [pytest.mark.evm, pytest.mark.slow]

DAY = 86400
GRACE = 2 * 3600
PEOPLE = ("alice", "bob", "carol")


@dataclass
class Snapshot:
    """One published trust root: the registries as the operator folded them, and when."""

    root: int
    issuers: TrustedIssuers
    memberships: dict[int, PersonMembership]
    published_at: int


@dataclass
class Credential:
    person: str
    secret: int
    issued: IssuedRecord
    issuer: int

    @property
    def credential_id(self) -> int:
        return self.issued.credential.credential_id


@dataclass
class Enrolled:
    person: str
    credential_id: int
    at: int
    withdrawn: bool = False


@dataclass
class Shared:
    """Built once per test: the circuit, the trapdoor key."""

    trial: Trial
    compiled: CompiledCircuit
    key: testkeys.TrapdoorKey
    opened: int = 0
    secrets: list[int] = field(default_factory=list)


class TrustMachine(RuleBasedStateMachine):
    shared: Shared

    @initialize()
    def setup(self) -> None:
        self.w3 = client.connect(client.embedded_provider(fast_pairing=True))
        self.accounts = list(self.w3.eth.accounts)
        self.now = enrollment.chain_now(self.w3)
        self.day = self.now // DAY
        self.hospitals = [Issuer.generate(revocation=RevocationTree(":memory:")) for _ in range(2)]
        self.registry = TrustedIssuers()
        for hospital in self.hospitals:
            self.registry.add(hospital.public_key)
        self.persons = PersonRegistry()
        self.next_secret = 1000
        self.wallets: dict[str, list[int]] = {}
        for person in PEOPLE:
            secret = self.fresh_secret()
            self.wallets[person] = [secret]
            self.persons.register(subject_commitment(secret), self.shared.opened - 100, person=person)
        self.credentials: list[Credential] = []
        self.revoked_at: dict[int, int | None] = {}  # credential id -> publication time of its revocation
        self.snapshots: list[Snapshot] = []
        self.enrolled: dict[int, Enrolled] = {}
        self.publish_snapshot()
        self.contract = enrollment.deploy_cohort_enrollment(
            self.w3, self.shared.key.key(), trial_id=self.shared.trial.trial_id,
            window=(self.now - 60, self.now + 60 * DAY), capacity=50, owner=self.accounts[0],
            trust_root=self.snapshots[-1].root, root_grace_seconds=GRACE,
        )
        self.scope = int(self.contract.functions.scope().call())

    def fresh_secret(self) -> int:
        self.next_secret += 1
        return self.next_secret

    def publish_snapshot(self) -> None:
        """The operator applies every issuer's signed revocation root and folds the registries into a new root."""
        for hospital in self.hospitals:
            self.registry.apply(hospital.revocation_statement(published_at=enrollment.chain_now(self.w3)))
        root = trust_root(self.registry.root, self.persons.root)
        at = enrollment.chain_now(self.w3)
        memberships = {entry.holder_commitment: self.persons.membership(entry.holder_commitment)
                       for entry in self.persons.entries()}
        self.snapshots.append(Snapshot(root, TrustedIssuers.from_dict(self.registry.to_dict()), memberships, at))
        for credential_id, when in self.revoked_at.items():
            if when is None:
                self.revoked_at[credential_id] = at

    # ------------------------------------------------------------------ rules

    @rule(person=st.sampled_from(PEOPLE), hospital=st.integers(0, 1), latest=st.booleans())
    def issue(self, person: str, hospital: int, latest: bool) -> None:
        """A hospital issues to one of the person's wallets; one active holder commitment per patient record, so
        issuing to another wallet for the same record revokes the previous credential."""
        secret = self.wallets[person][-1 if latest else 0]
        issued, revoked = self.hospitals[hospital].issue_record_for_patient(
            f"{person}@{hospital}", t2d_record(), subject_commitment=subject_commitment(secret),
            issued_at=self.day - 30, expires_at=self.day + 365)
        self.credentials.append(Credential(person, secret, issued, hospital))
        if revoked is not None:
            self.revoked_at.setdefault(revoked, None)

    @precondition(lambda self: self.credentials)
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        credential = data.draw(st.sampled_from(self.credentials))
        self.hospitals[credential.issuer].revoke(credential.credential_id)
        self.revoked_at.setdefault(credential.credential_id, None)

    @rule(person=st.sampled_from(PEOPLE))
    def new_wallet(self, person: str) -> None:
        """The person makes another wallet (unregistered: hospitals may still bind it)."""
        self.wallets[person].append(self.fresh_secret())

    @rule(person=st.sampled_from(PEOPLE))
    def rotate(self, person: str) -> None:
        """The registrar moves the person's leaf to their latest wallet, registered today (after the opening)."""
        registered = [s for s in self.wallets[person] if subject_commitment(s) in self.persons]
        latest = self.wallets[person][-1]
        if registered and registered[0] != latest:
            self.persons.rotate(subject_commitment(registered[0]), subject_commitment(latest),
                                enrollment.chain_now(self.w3) // DAY)

    @rule()
    def publish(self) -> None:
        self.publish_snapshot()
        enrollment.publish_trust_root(self.w3, self.contract, self.snapshots[-1].root, sender=self.accounts[0])

    @rule(hours=st.sampled_from([1, 3]))
    def pass_time(self, hours: int) -> None:
        devchain.advance_time(self.w3, hours * 3600)

    @precondition(lambda self: self.credentials)
    @rule(data=st.data(), stale=st.integers(0, 2))
    def enroll(self, data: st.DataObject, stale: int) -> None:
        """A patient tries to enroll with one of their credentials, proving against the latest published
        snapshot or an older one (a stale prover); the prover's checks, the circuit and the contract decide."""
        credential = data.draw(st.sampled_from(self.credentials))
        snapshot = self.snapshots[max(0, len(self.snapshots) - 1 - stale)]
        account = self.accounts[1 + PEOPLE.index(credential.person)]
        now = enrollment.chain_now(self.w3)
        commitment = subject_commitment(credential.secret)
        membership = snapshot.memberships.get(commitment)
        try:
            inputs = eligibility_inputs(
                self.shared.trial, credential.issued, credential.secret, recipient=int(account, 16),
                today=epoch_day_to_date(now // DAY), issuers=snapshot.issuers,
                revocations=[hospital.revocation for hospital in self.hospitals if hospital.revocation is not None],
                persons=membership if membership is not None else PersonRegistry(), scope=self.scope,
            )
            witness = self.shared.compiled.solve_witness(inputs)
        except ZkHealthError:
            return  # refused before any proof exists
        signals = self.shared.compiled.public_signals(witness)
        proof = self.shared.key.prove(signals).to_proof()
        try:
            enrollment.enroll_signals(self.w3, self.contract, proof, signals, sender=account)
        except ContractRevertError:
            return
        assert signals[0] not in self.enrolled
        self.enrolled[signals[0]] = Enrolled(credential.person, credential.credential_id,
                                             enrollment.chain_now(self.w3))

    @precondition(lambda self: any(not e.withdrawn for e in self.enrolled.values()))
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        nullifier = data.draw(st.sampled_from(sorted(n for n, e in self.enrolled.items() if not e.withdrawn)))
        record = self.enrolled[nullifier]
        enrollment.withdraw(self.w3, self.contract, nullifier, sender=self.accounts[1 + PEOPLE.index(record.person)])
        record.withdrawn = True

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_revoked_credential_enrolls_after_its_grace_period(self) -> None:
        for record in self.enrolled.values():
            published = self.revoked_at.get(record.credential_id)
            if published is not None:
                assert record.at <= published + GRACE, (record, published)

    @invariant()
    def no_person_holds_two_enrollments(self) -> None:
        people = [record.person for record in self.enrolled.values()]
        assert len(people) == len(set(people)), people

    @invariant()
    def the_contract_agrees(self) -> None:
        if not hasattr(self, "contract"):
            return
        active = sum(1 for record in self.enrolled.values() if not record.withdrawn)
        assert self.contract.functions.enrolledCount().call() == active


def test_revocation_and_one_person_one_enrollment_hold_in_every_history() -> None:
    now_day = int(dt.datetime.now(dt.UTC).timestamp()) // DAY
    opened = now_day - 10
    trial = Trial("age >= 18", trial_id="NCT-MACHINE", policy=Policy(one_per_person=True, opened_day=opened))
    TrustMachine.shared = Shared(trial, trial.compile(), testkeys.TrapdoorKey.generate(5, seed=13), opened)
    run_state_machine_as_test(
        TrustMachine,
        settings=settings(max_examples=4, stateful_step_count=14, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    )
