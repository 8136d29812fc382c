"""CohortEnrollment on py-evm: every refusal has its own custom error, the happy path, withdrawal, owner
functions, root history, and a hypothesis state machine over enroll / withdraw / reopen / root updates
(security.md K1-K8).

Proofs come from `proof_source`, a trapdoor key (tests/chain_testkeys.py) that can prove any signals, so each
check is reached with an otherwise valid proof. Swap the fixture for the real eligibility prover when it lands.
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

from zkhealth.chain import client
from zkhealth.eligibility import trial_scope
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError
from zkhealth.field import FIELD_R

pytestmark = pytest.mark.evm

TRIAL = bytes.fromhex("7a6b6865616c74682d747269616c2d3031000000000000000000000000000000")
ISSUER_ROOT = 1111
REVOCATION_ROOT = 2222
DAY = 86400


@dataclass
class ProofSource:
    """Makes (proof, signals) for the 6-signal eligibility layout."""

    vk: dict[str, Any]
    prove: Callable[[list[int]], dict[str, Any]]


@pytest.fixture(scope="module")
def proof_source() -> ProofSource:
    key = testkeys.TrapdoorKey.generate(6, seed=2024)
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
            "issuer_root": ISSUER_ROOT,
            "revocation_root": REVOCATION_ROOT,
            "recipient": int(sender, 16),
        }
        values.update(overrides)
        return [values[k] for k in ("nullifier", "scope", "today", "issuer_root", "revocation_root", "recipient")]

    def enroll(self, nullifier: int, sender: str, *, proof_signals: list[int] | None = None, **overrides: int) -> Any:
        signals = self.signals(nullifier, sender, **overrides)
        proof = self.source.prove(proof_signals if proof_signals is not None else signals)
        return client.enroll_signals(self.w3, self.contract, proof, signals, sender=sender)


def deploy(source: ProofSource, *, capacity: int = 3, window: tuple[int, int] | None = None) -> Deployment:
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    now = int(w3.eth.get_block("latest")["timestamp"])
    contract = client.deploy_enrollment(
        w3,
        source.vk,
        trial_id=TRIAL,
        issuer_root=ISSUER_ROOT,
        revocation_root=REVOCATION_ROOT,
        window=window or (now - 60, now + 30 * DAY),
        capacity=capacity,
        owner=accounts[0],
    )
    return Deployment(w3, contract, source, accounts[0], accounts[1:])


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
    client.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[0])
    other = testkeys.rerandomize(proof, d.source.vk.delta_g2, 987654321, 42).to_proof()
    assert other.a != proof.a
    expect_revert(
        "NullifierUsed", lambda: client.enroll_signals(d.w3, d.contract, other, signals, sender=d.patients[0])
    )


def test_aliased_nullifier_reverts_input_not_in_field(d: Deployment) -> None:
    n = nullifier() % (FIELD_R // 2)
    d.enroll(n, d.patients[0])
    signals = d.signals(n + FIELD_R, d.patients[0])
    proof = d.source.prove(d.signals(n, d.patients[0]))
    err = expect_revert(
        "InputNotInField", lambda: client.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[0])
    )
    assert "InputNotInField(0)" in str(err)
    for index in range(1, 6):
        bad = d.signals(nullifier(), d.patients[0])
        bad[index] += FIELD_R
        err = expect_revert(
            "InputNotInField", lambda b=bad: client.enroll_signals(d.w3, d.contract, proof, b, sender=d.patients[0])
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
        "WrongRecipient", lambda: client.enroll_signals(d.w3, d.contract, proof, signals, sender=d.patients[1])
    )
    # or rewrites the recipient to itself without a matching proof
    stolen = d.signals(n, d.patients[1])
    expect_revert(
        "InvalidProof", lambda: client.enroll_signals(d.w3, d.contract, proof, stolen, sender=d.patients[1])
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
    expect_revert("UnknownIssuerRoot", lambda: d.enroll(nullifier(), d.patients[0], issuer_root=5))
    expect_revert("UnknownRevocationRoot", lambda: d.enroll(nullifier(), d.patients[0], revocation_root=5))
    client.set_roots(d.w3, d.contract, 3333, 4444, sender=d.owner)
    # both roots are recent, but never current together
    expect_revert("UnknownRootPair", lambda: d.enroll(nullifier(), d.patients[0], issuer_root=3333))
    assert d.enroll(nullifier(), d.patients[0], issuer_root=3333, revocation_root=4444)["status"] == 1
    assert d.enroll(nullifier(), d.patients[1])["status"] == 1  # the previous epoch is still accepted


def test_root_history_evicts_the_oldest_epoch(d: Deployment) -> None:
    history = d.contract.functions.ROOT_HISTORY().call()
    for k in range(history - 1):
        client.set_roots(d.w3, d.contract, 10 + k, 20 + k, sender=d.owner)
    assert d.contract.functions.isKnownRootPair(ISSUER_ROOT, REVOCATION_ROOT).call() is True
    client.set_roots(d.w3, d.contract, 99, 98, sender=d.owner)
    assert d.contract.functions.isKnownRootPair(ISSUER_ROOT, REVOCATION_ROOT).call() is False
    assert d.contract.functions.isKnownRootPair(10, 20).call() is True
    expect_revert("UnknownIssuerRoot", lambda: d.enroll(nullifier(), d.patients[0]))
    assert d.contract.functions.currentRoots().call() == [99, 98]
    assert d.contract.functions.epochCount().call() == history + 1
    client.set_roots(d.w3, d.contract, 10, 20, sender=d.owner)  # re-adding a live pair keeps it live
    for k in range(history - 1):
        client.set_roots(d.w3, d.contract, 500 + k, 600 + k, sender=d.owner)
    assert d.contract.functions.isKnownRootPair(10, 20).call() is True


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
    expect_revert("NotEnrollee", lambda: client.withdraw(d.w3, d.contract, n, sender=d.patients[1]))
    expect_revert("NotEnrolled", lambda: client.withdraw(d.w3, d.contract, nullifier(), sender=d.patients[0]))
    expect_revert(
        "NotWithdrawn", lambda: client.call_or_raise(lambda: d.contract.functions.reopen(n).call({"from": d.owner}))
    )
    receipt = client.withdraw(d.w3, d.contract, n, sender=d.patients[0])
    assert d.contract.events.Withdrawn().process_receipt(receipt)[0]["args"]["nullifier"] == n
    assert d.contract.functions.enrolledCount().call() == 0
    assert d.contract.functions.enrollment(n).call()[0] == 2
    expect_revert("NotEnrolled", lambda: client.withdraw(d.w3, d.contract, n, sender=d.patients[0]))
    expect_revert("NullifierUsed", lambda: d.enroll(n, d.patients[0]))
    expect_revert(
        "NotOwner", lambda: client.call_or_raise(lambda: d.contract.functions.reopen(n).call({"from": d.patients[0]}))
    )
    client.transact(d.w3, d.contract.functions.reopen(n), sender=d.owner)
    assert d.enroll(n, d.patients[0])["status"] == 1


def test_owner_functions_and_two_step_transfer(d: Deployment) -> None:
    c = d.contract
    newcomer = d.patients[3]

    def call(fn: Any, sender: str) -> Any:
        return client.call_or_raise(lambda: fn.call({"from": sender, "gas": client.ADMIN_GAS}))

    expect_revert("NotOwner", lambda: client.set_roots(d.w3, c, 1, 2, sender=newcomer))
    expect_revert("NotOwner", lambda: call(c.functions.setWindow(0, 1), newcomer))
    expect_revert("NotOwner", lambda: call(c.functions.setCapacity(9), newcomer))
    expect_revert("InvalidWindow", lambda: call(c.functions.setWindow(5, 5), d.owner))
    expect_revert("InvalidCapacity", lambda: call(c.functions.setCapacity(0), d.owner))
    expect_revert("RootNotInField", lambda: call(c.functions.setRoots(FIELD_R, 1), d.owner))
    expect_revert("ZeroOwner", lambda: call(c.functions.transferOwnership("0x" + "00" * 20), d.owner))
    client.transact(d.w3, c.functions.transferOwnership(newcomer), sender=d.owner)
    assert c.functions.owner().call() == d.owner
    expect_revert("NotPendingOwner", lambda: call(c.functions.acceptOwnership(), d.patients[0]))
    client.transact(d.w3, c.functions.acceptOwnership(), sender=newcomer)
    assert c.functions.owner().call() == newcomer
    expect_revert("NotOwner", lambda: client.set_roots(d.w3, c, 1, 2, sender=d.owner))
    d.enroll(nullifier(), d.patients[0])
    d.enroll(nullifier(), d.patients[1])
    expect_revert("InvalidCapacity", lambda: call(c.functions.setCapacity(1), newcomer))
    client.transact(d.w3, c.functions.setCapacity(2), sender=newcomer)
    assert c.functions.capacity().call() == 2


def test_deploy_refuses_bad_parameters(proof_source: ProofSource) -> None:
    from zkhealth.errors import ChainError, MalformedProofError

    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    args: dict[str, Any] = dict(trial_id=TRIAL, issuer_root=1, revocation_root=2, window=(0, 10**10), capacity=5)
    with pytest.raises(ChainError):
        client.deploy_enrollment(w3, proof_source.vk, **{**args, "trial_id": b"x"})
    with pytest.raises(MalformedProofError):
        client.deploy_enrollment(w3, testkeys.TrapdoorKey.generate(5, seed=1).key(), **args)
    expect_revert("InvalidWindow", lambda: client.deploy_enrollment(w3, proof_source.vk, **{**args, "window": (9, 9)}))
    expect_revert("InvalidCapacity", lambda: client.deploy_enrollment(w3, proof_source.vk, **{**args, "capacity": 0}))


def test_enrollment_listing_with_confirmations(d: Deployment) -> None:
    n = nullifier()
    d.enroll(n, d.patients[0])
    watcher = client.EnrollmentWatcher(d.w3, d.contract.address, confirmations=3)
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.PENDING]
    d.w3.provider.ethereum_tester.mine_blocks(2)
    (record,) = watcher.poll()
    assert record.status is client.EnrollmentStatus.ENROLLED and record.nullifier == n
    client.withdraw(d.w3, d.contract, n, sender=d.patients[0])
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
        self.epochs: list[tuple[int, int]] = [(ISSUER_ROOT, REVOCATION_ROOT)]

    def live_epochs(self) -> list[tuple[int, int]]:
        return self.epochs[-8:]

    def outcome(self, fn: Callable[[], Any]) -> str | None:
        try:
            fn()
        except ContractRevertError as exc:
            return exc.error_name
        return None

    @rule(who=st.integers(0, 4), sender=st.integers(0, 4), epoch=st.integers(0, 9))
    def enroll(self, who: int, sender: int, epoch: int) -> None:
        patient = self.patients[who]
        account = self.patients[sender].account
        known = self.live_epochs()
        use_known = epoch < len(known)
        roots = known[epoch] if use_known else (10**6 + epoch, 10**6 + epoch)
        result = self.outcome(
            lambda: self.d.enroll(patient.nullifier, account, issuer_root=roots[0], revocation_root=roots[1])
        )
        if not use_known:
            expected = "UnknownIssuerRoot"
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
        result = self.outcome(lambda: client.withdraw(self.d.w3, self.d.contract, n, sender=account))
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

    @rule(issuer=st.integers(1, 50), revocation=st.integers(1, 50))
    def update_roots(self, issuer: int, revocation: int) -> None:
        client.set_roots(self.d.w3, self.d.contract, issuer, revocation, sender=self.d.owner)
        self.epochs.append((issuer, revocation))
        for live_issuer, live_revocation in self.live_epochs():
            assert self.d.contract.functions.isKnownRootPair(live_issuer, live_revocation).call() is True

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
