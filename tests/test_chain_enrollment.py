"""CohortEnrollment on py-evm (public signals ``[nullifier, scope, today, trust_root, recipient]``): every refusal
has its own custom error, the happy path, withdrawal, owner functions, trust-root freshness with its grace period,
and a hypothesis state machine over enroll / withdraw / reopen / root publications (security.md K1-K8).

Proofs come from `proof_source`, a trapdoor key (tests/chain_testkeys.py) that can prove any signals, so each
check is reached with an otherwise valid proof; tests/test_chain_e2e.py enrolls real eligibility proofs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

from zkhealth.chain import client, devchain, enrollment
from zkhealth.eligibility import trial_scope
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError
from zkhealth.field import FIELD_R

pytestmark = pytest.mark.evm

TRIAL = bytes.fromhex("7a6b6865616c74682d747269616c2d3031000000000000000000000000000000")
ROOT_A = 1111
ROOT_B = 2222
DAY = 86400
SIGNALS = enrollment.DEDICATED_SIGNALS


@dataclass
class ProofSource:
    """Makes proofs for the 5-signal eligibility layout."""

    vk: dict[str, Any]
    prove: Callable[[list[int]], dict[str, Any]]


@pytest.fixture(scope="module")
def proof_source() -> ProofSource:
    key = testkeys.TrapdoorKey.generate(5, seed=2024)
    return ProofSource(key.key(), lambda signals: key.prove(signals).to_proof())


@dataclass
class Deployment:
    w3: Any
    contract: Any
    source: ProofSource
    owner: str
    patients: list[str]

    def today(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"]) // DAY

    def signals(self, nullifier: int, sender: str, **overrides: int) -> list[int]:
        values = {
            "nullifier": nullifier,
            "scope": int(self.contract.functions.scope().call()),
            "today": self.today(),
            "trust_root": ROOT_A,
            "recipient": int(sender, 16),
        }
        values.update(overrides)
        return [values[k] for k in SIGNALS]

    def enroll(self, nullifier: int, sender: str, *, proof_signals: list[int] | None = None, **overrides: int) -> Any:
        signals = self.signals(nullifier, sender, **overrides)
        proof = self.source.prove(proof_signals if proof_signals is not None else signals)
        return enrollment.enroll_signals(self.w3, self.contract, proof, signals, sender=sender)


def deploy(source: ProofSource, *, capacity: int = 3, window: tuple[int, int] | None = None,
           grace: int = DAY) -> Deployment:
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    now = int(w3.eth.get_block("latest")["timestamp"])
    contract = enrollment.deploy_cohort_enrollment(
        w3,
        source.vk,
        trial_id=TRIAL,
        trust_root=ROOT_A,
        root_grace_seconds=grace,
        window=window or (now - 60, now + 30 * DAY),
        capacity=capacity,
        owner=accounts[0],
        publishers=[accounts[9]],
    )
    return Deployment(w3, contract, source, accounts[0], accounts[1:9])


@pytest.fixture
def d(proof_source: ProofSource) -> Deployment:
    return deploy(proof_source)


def expect_revert(name: str, fn: Callable[[], Any]) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        fn()
    assert info.value.error_name == name
    return info.value


def nullifier() -> int:
    return random.randrange(1, FIELD_R)


def test_happy_path_enrolls_and_emits(d: Deployment) -> None:
    n = nullifier()
    receipt = d.enroll(n, d.patients[0])
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= 260_000
    assert d.contract.functions.enrolledCount().call() == 1
    status, recipient, day = d.contract.functions.enrollment(n).call()
    assert (status, recipient, day) == (1, d.patients[0], d.today())
    events = d.contract.events.Enrolled().process_receipt(receipt)
    assert [(e["args"]["nullifier"], e["args"]["recipient"], e["args"]["day"]) for e in events] == [
        (n, d.patients[0], d.today())
    ]
    assert d.contract.functions.scope().call() == trial_scope(d.w3.eth.chain_id, d.contract.address, TRIAL)
    assert d.contract.functions.trialId().call() == TRIAL


def test_double_enrollment_reverts_nullifier_used(d: Deployment) -> None:
    n = nullifier()
    d.enroll(n, d.patients[0])
    err = expect_revert("NullifierUsed", lambda: d.enroll(n, d.patients[0]))
    assert isinstance(err, NullifierAlreadyUsedError)
    # another address, its own valid proof, same nullifier (same patient, new wallet)
    expect_revert("NullifierUsed", lambda: d.enroll(n, d.patients[1]))


def test_rerandomised_proof_reverts_nullifier_used(d: Deployment) -> None:
    n = nullifier()
    signals = d.signals(n, d.patients[0])
    proof = d.source.prove(signals)
    enrollment.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[0])
    other = testkeys.rerandomize(proof, d.source.vk.delta_g2, 987654321, 42).to_proof()
    assert other.a != proof.a
    expect_revert(
        "NullifierUsed", lambda: enrollment.enroll_signals(d.w3, d.contract, other, signals, sender=d.patients[0])
    )


def test_aliased_nullifier_reverts_input_not_in_field(d: Deployment) -> None:
    n = nullifier() % (FIELD_R // 2)
    d.enroll(n, d.patients[0])
    signals = d.signals(n + FIELD_R, d.patients[0])
    proof = d.source.prove(d.signals(n, d.patients[0]))
    err = expect_revert(
        "InputNotInField", lambda: enrollment.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[0])
    )
    assert "InputNotInField(0)" in str(err)
    for index in range(1, 5):
        bad = d.signals(nullifier(), d.patients[0])
        bad[index] += FIELD_R
        err = expect_revert(
            "InputNotInField", lambda b=bad: enrollment.enroll_signals(d.w3, d.contract, proof, b, sender=d.patients[0])
        )
        assert f"InputNotInField({index})" in str(err)


@pytest.mark.parametrize("what", ["trial", "chain", "contract"])
def test_wrong_scope_reverts(d: Deployment, what: str) -> None:
    if what == "trial":
        scope = trial_scope(d.w3.eth.chain_id, d.contract.address, b"\x01" * 32)
    elif what == "chain":
        scope = trial_scope(d.w3.eth.chain_id + 1, d.contract.address, TRIAL)
    else:
        scope = trial_scope(d.w3.eth.chain_id, "0x" + "42" * 20, TRIAL)
    expect_revert("WrongScope", lambda: d.enroll(nullifier(), d.patients[0], scope=scope))


def test_another_sender_reverts_wrong_recipient(d: Deployment) -> None:
    n = nullifier()
    signals = d.signals(n, d.patients[0])
    proof = d.source.prove(signals)
    # a front-runner copies the mempool transaction
    expect_revert(
        "WrongRecipient", lambda: enrollment.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[1])
    )
    # or rewrites the recipient to itself without a matching proof
    stolen = d.signals(n, d.patients[1])
    expect_revert(
        "InvalidProof", lambda: enrollment.enroll_signals(d.w3, d.contract, proof, stolen, sender=d.patients[1])
    )
    assert d.contract.functions.enrollment(n).call()[0] == 0


@pytest.mark.parametrize("offset", [-2, 1, 2, -400])
def test_stale_day_reverts(d: Deployment, offset: int) -> None:
    expect_revert("StaleProof", lambda: d.enroll(nullifier(), d.patients[0], today=d.today() + offset))


@pytest.mark.parametrize("offset", [-1, 0])
def test_day_within_one_is_accepted(d: Deployment, offset: int) -> None:
    assert d.enroll(nullifier(), d.patients[0], today=d.today() + offset)["status"] == 1


def test_full_cohort_reverts(proof_source: ProofSource) -> None:
    d = deploy(proof_source, capacity=2)
    d.enroll(nullifier(), d.patients[0])
    d.enroll(nullifier(), d.patients[1])
    expect_revert("CohortFull", lambda: d.enroll(nullifier(), d.patients[2]))


def test_closed_window_reverts(proof_source: ProofSource) -> None:
    w3_probe = client.connect(client.embedded_provider(fast_pairing=True))
    now = int(w3_probe.eth.get_block("latest")["timestamp"])
    future = deploy(proof_source, window=(now + 10 * DAY, now + 20 * DAY))
    expect_revert("WindowClosed", lambda: future.enroll(nullifier(), future.patients[0]))
    past = deploy(proof_source, window=(now - 20 * DAY, now - 10 * DAY))
    expect_revert("WindowClosed", lambda: past.enroll(nullifier(), past.patients[0]))


def test_unknown_roots_revert(d: Deployment) -> None:
    """A trust root never published (another issuer's revocation root folded in, the empty tree's, a forged
    registry's) reverts UnknownRoot; publishing is the owner's or a publisher's alone."""
    expect_revert("UnknownRoot", lambda: d.enroll(nullifier(), d.patients[0], trust_root=5))
    expect_revert("NotPublisher", lambda: enrollment.publish_trust_root(d.w3, d.contract, ROOT_B,
                                                                        sender=d.patients[0]))
    publish_r = d.contract.functions.publishTrustRoot(FIELD_R)  # the Python client refuses it before sending
    expect_revert("InvalidRoot", lambda: client.call_or_raise(lambda: publish_r.call({"from": d.owner})))
    receipt = enrollment.publish_trust_root(d.w3, d.contract, ROOT_B, sender=d.owner)
    (event,) = d.contract.events.TrustRootUpdated().process_receipt(receipt)
    assert (event["args"]["root"], event["args"]["previousRoot"]) == (ROOT_B, ROOT_A)
    assert d.enroll(nullifier(), d.patients[0], trust_root=ROOT_B)["status"] == 1
    assert d.enroll(nullifier(), d.patients[1])["status"] == 1  # the superseded root, within its grace period


def test_a_superseded_root_is_stale_after_the_grace_period(proof_source: ProofSource) -> None:
    """security.md S9: a proof against a root superseded longer ago than the trial's grace period reverts
    StaleRoot; within it, it enrolls; a grace of 0 accepts only the current root (from the next second on)."""
    d = deploy(proof_source, grace=DAY)
    enrollment.publish_trust_root(d.w3, d.contract, ROOT_B, sender=d.w3.eth.accounts[9])  # the publisher
    d.enroll(nullifier(), d.patients[0], trust_root=ROOT_A)
    devchain.advance_time(d.w3, DAY + 1)
    expect_revert("StaleRoot", lambda: d.enroll(nullifier(), d.patients[1], trust_root=ROOT_A))
    history = enrollment.root_history(d.w3, d.contract, include=[ROOT_A, 777])
    assert history.current == ROOT_B and [e.root for e in history.entries] == [ROOT_B, ROOT_A]
    d.enroll(nullifier(), d.patients[1], trust_root=ROOT_B)
    strict = deploy(proof_source, grace=0)
    enrollment.publish_trust_root(strict.w3, strict.contract, ROOT_B, sender=strict.owner)
    devchain.advance_time(strict.w3, 1)
    expect_revert("StaleRoot", lambda: strict.enroll(nullifier(), strict.patients[0], trust_root=ROOT_A))
    client.transact_checked(strict.w3, strict.contract.functions.setRootGrace(DAY), sender=strict.owner)
    strict.enroll(nullifier(), strict.patients[0], trust_root=ROOT_A)


def test_invalid_proof_leaves_the_nullifier_unused(d: Deployment) -> None:
    n = nullifier()
    wrong = d.signals(nullifier(), d.patients[0])
    expect_revert("InvalidProof", lambda: d.enroll(n, d.patients[0], proof_signals=wrong))
    assert d.contract.functions.enrollment(n).call()[0] == 0
    assert d.enroll(n, d.patients[0])["status"] == 1


def test_non_canonical_proof_reverts(d: Deployment) -> None:
    n = nullifier()
    signals = d.signals(n, d.patients[0])
    (ax, ay), b, c = client.to_calldata(d.source.prove(signals))
    from zkhealth.field import FIELD_Q

    call = d.contract.functions.enroll([ax, ay + FIELD_Q], b, c, signals)
    expect_revert(
        "ProofNotCanonical", lambda: client.call_or_raise(lambda: call.call({"from": d.patients[0], "gas": 500_000}))
    )


def test_withdraw_and_reopen(d: Deployment) -> None:
    n = nullifier()
    d.enroll(n, d.patients[0])
    expect_revert("NotEnrollee", lambda: enrollment.withdraw(d.w3, d.contract, n, sender=d.patients[1]))
    expect_revert("NotEnrolled", lambda: enrollment.withdraw(d.w3, d.contract, nullifier(), sender=d.patients[0]))
    expect_revert(
        "NotWithdrawn", lambda: client.call_or_raise(lambda: d.contract.functions.reopen(n).call({"from": d.owner}))
    )
    receipt = enrollment.withdraw(d.w3, d.contract, n, sender=d.patients[0])
    assert d.contract.events.Withdrawn().process_receipt(receipt)[0]["args"]["nullifier"] == n
    assert d.contract.functions.enrolledCount().call() == 0
    assert d.contract.functions.enrollment(n).call()[0] == 2
    expect_revert("NotEnrolled", lambda: enrollment.withdraw(d.w3, d.contract, n, sender=d.patients[0]))
    expect_revert("NullifierUsed", lambda: d.enroll(n, d.patients[0]))
    expect_revert(
        "OwnableUnauthorizedAccount",
        lambda: client.call_or_raise(lambda: d.contract.functions.reopen(n).call({"from": d.patients[0]})),
    )
    client.transact(d.w3, d.contract.functions.reopen(n), sender=d.owner)
    assert d.enroll(n, d.patients[0])["status"] == 1


def test_owner_functions_and_two_step_transfer(d: Deployment) -> None:
    c = d.contract
    newcomer = d.patients[3]

    def call(fn: Any, sender: str) -> Any:
        return client.call_or_raise(lambda: fn.call({"from": sender, "gas": client.ADMIN_GAS}))

    unauthorised = "OwnableUnauthorizedAccount"
    expect_revert(unauthorised, lambda: call(c.functions.setPublisher(newcomer, True), newcomer))
    expect_revert(unauthorised, lambda: call(c.functions.setWindow(0, 1), newcomer))
    expect_revert(unauthorised, lambda: call(c.functions.setCapacity(9), newcomer))
    expect_revert(unauthorised, lambda: call(c.functions.setRootGrace(9), newcomer))
    expect_revert("InvalidWindow", lambda: call(c.functions.setWindow(5, 5), d.owner))
    expect_revert("InvalidCapacity", lambda: call(c.functions.setCapacity(0), d.owner))
    client.transact(d.w3, c.functions.transferOwnership(newcomer), sender=d.owner)
    assert c.functions.owner().call() == d.owner
    expect_revert(unauthorised, lambda: call(c.functions.acceptOwnership(), d.patients[0]))
    client.transact(d.w3, c.functions.acceptOwnership(), sender=newcomer)
    assert c.functions.owner().call() == newcomer
    expect_revert("NotPublisher", lambda: enrollment.publish_trust_root(d.w3, c, 1, sender=d.owner))
    d.enroll(nullifier(), d.patients[0])
    d.enroll(nullifier(), d.patients[1])
    expect_revert("InvalidCapacity", lambda: call(c.functions.setCapacity(1), newcomer))
    client.transact(d.w3, c.functions.setCapacity(2), sender=newcomer)
    assert c.functions.capacity().call() == 2


def test_deploy_refuses_bad_parameters(proof_source: ProofSource) -> None:
    from zkhealth.errors import ChainError, MalformedProofError

    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    args: dict[str, Any] = dict(trial_id=TRIAL, trust_root=1, window=(0, 10**10), capacity=5)
    deploy_ = enrollment.deploy_cohort_enrollment
    with pytest.raises(ChainError):
        deploy_(w3, proof_source.vk, **{**args, "trial_id": b"x"})
    with pytest.raises(MalformedProofError):  # the retired six-signal layout
        deploy_(w3, testkeys.TrapdoorKey.generate(6, seed=1).key(), **args)
    expect_revert("InvalidWindow", lambda: deploy_(w3, proof_source.vk, **{**args, "window": (9, 9)}))
    expect_revert("InvalidCapacity", lambda: deploy_(w3, proof_source.vk, **{**args, "capacity": 0}))
    with pytest.raises(MalformedProofError):
        deploy_(w3, proof_source.vk, **{**args, "trust_root": FIELD_R})


def test_enrollment_listing_with_confirmations(d: Deployment) -> None:
    n = nullifier()
    d.enroll(n, d.patients[0])
    watcher = client.EnrollmentWatcher(d.w3, d.contract.address, confirmations=3)
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.PENDING]
    d.w3.provider.ethereum_tester.mine_blocks(2)
    (record,) = watcher.poll()
    assert record.status is client.EnrollmentStatus.ENROLLED and record.nullifier == n
    enrollment.withdraw(d.w3, d.contract, n, sender=d.patients[0])
    assert watcher.poll()[0].status is client.EnrollmentStatus.PENDING
    d.w3.provider.ethereum_tester.mine_blocks(3)
    assert watcher.poll()[0].status is client.EnrollmentStatus.WITHDRAWN
    assert client.enrollments(d.w3, d.contract.address, confirmations=1)[0].recipient == d.patients[0]


# --------------------------------------------------------------------------- state machine (K8)


@dataclass
class Patient:
    account: str
    nullifier: int


class EnrollmentMachine(RuleBasedStateMachine):
    """Model of CohortEnrollment; each step compares the contract with the model.

    Invariants: enrolled count <= capacity and equals the model; each nullifier's on-chain status equals the
    model's (so a failed enroll never leaves a nullifier used, K8, and a nullifier enrolls at most once)."""

    source: ProofSource
    base: Deployment
    snapshot: Any

    @initialize()
    def setup(self) -> None:
        tester = self.base.w3.provider.ethereum_tester
        tester.revert_to_snapshot(self.snapshot)
        self.snapshot = tester.take_snapshot()
        self.d = self.base
        self.patients = [Patient(acct, random.randrange(1, FIELD_R)) for acct in self.d.patients[:5]]
        self.status = {p.nullifier: 0 for p in self.patients}
        self.owner_of: dict[int, str] = {}
        self.count = 0
        self.capacity = 3
        self.roots: list[int] = [ROOT_A]  # every root published, in order; the last is current

    def outcome(self, fn: Callable[[], Any]) -> str | None:
        try:
            fn()
        except ContractRevertError as exc:
            return exc.error_name
        return None

    @rule(who=st.integers(0, 4), sender=st.integers(0, 4), pick=st.integers(0, 9))
    def enroll(self, who: int, sender: int, pick: int) -> None:
        patient = self.patients[who]
        account = self.patients[sender].account
        use_known = pick < len(self.roots)
        root = self.roots[-1 - pick] if use_known else 10**6 + pick
        result = self.outcome(lambda: self.d.enroll(patient.nullifier, account, trust_root=root))
        if not use_known:
            expected = "UnknownRoot"
        elif self.count >= self.capacity:
            expected = "CohortFull"
        elif self.status[patient.nullifier] != 0:
            expected = "NullifierUsed"
        else:
            expected = None
        assert result == expected
        if expected is None:
            self.status[patient.nullifier] = 1
            self.owner_of[patient.nullifier] = account
            self.count += 1

    @rule(who=st.integers(0, 4))
    def enroll_with_bad_proof(self, who: int) -> None:
        patient = self.patients[who]
        wrong = self.d.signals(patient.nullifier ^ 1, patient.account)
        result = self.outcome(lambda: self.d.enroll(patient.nullifier, patient.account, proof_signals=wrong))
        if self.count >= self.capacity:
            assert result == "CohortFull"
        elif self.status[patient.nullifier] != 0:
            assert result == "NullifierUsed"
        else:
            assert result == "InvalidProof"

    @rule(who=st.integers(0, 4), sender=st.integers(0, 4))
    def withdraw(self, who: int, sender: int) -> None:
        n = self.patients[who].nullifier
        account = self.patients[sender].account
        result = self.outcome(lambda: enrollment.withdraw(self.d.w3, self.d.contract, n, sender=account))
        if self.status[n] != 1:
            assert result == "NotEnrolled"
        elif self.owner_of[n] != account:
            assert result == "NotEnrollee"
        else:
            assert result is None
            self.status[n] = 2
            self.count -= 1

    @rule(who=st.integers(0, 4))
    def reopen(self, who: int) -> None:
        n = self.patients[who].nullifier
        fn = self.d.contract.functions.reopen(n)
        result = self.outcome(lambda: client.transact(self.d.w3, fn, sender=self.d.owner))
        if self.status[n] != 2:
            assert result == "NotWithdrawn"
        else:
            assert result is None
            self.status[n] = 0

    @rule(root=st.integers(1, 50))
    def publish_root(self, root: int) -> None:
        """A new root within the same block second: every root published stays within its grace period."""
        enrollment.publish_trust_root(self.d.w3, self.d.contract, root, sender=self.d.owner)
        if root != self.roots[-1]:
            self.roots.append(root)
        assert self.d.contract.functions.currentTrustRoot().call() == root

    @precondition(lambda self: self.capacity < 5)
    @rule()
    def grow_capacity(self) -> None:
        self.capacity += 1
        client.transact(self.d.w3, self.d.contract.functions.setCapacity(self.capacity), sender=self.d.owner)

    @invariant()
    def matches_model(self) -> None:
        count = self.d.contract.functions.enrolledCount().call()
        assert count == self.count <= self.capacity
        for p in self.patients:
            assert self.d.contract.functions.enrollment(p.nullifier).call()[0] == self.status[p.nullifier]


def test_state_machine(proof_source: ProofSource) -> None:
    base = deploy(proof_source)
    EnrollmentMachine.source = proof_source
    EnrollmentMachine.base = base
    EnrollmentMachine.snapshot = base.w3.provider.ethereum_tester.take_snapshot()
    run_state_machine_as_test(
        EnrollmentMachine,
        settings=settings(
            max_examples=5,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
