"""TrialRegistry on py-evm: trials, universal enrollment with consent, trust-root freshness, the `today` window,
rewards (including a reentrant ERC-20), data-access grants, simulation before sending, and gas.

Bulk checks use a trapdoor key (tests/chain_testkeys.py: valid proofs for chosen signals, test-only) on py-evm
with the fast pairing; `test_real_standin_proofs_on_stock_py_evm` enrolls with REAL Groth16 proofs of the
stand-in universal circuit (tests/chain_standins.py) on stock py-evm.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import chain_standins as standins
import chain_testkeys as testkeys
import pytest
from web3.logs import DISCARD

from zkhealth import groth16
from zkhealth.chain import build, client, devchain
from zkhealth.chain.audit import audit
from zkhealth.chain.grants import DataKeyPair, open_extract, seal_extract
from zkhealth.chain.registry import (
    CONSENT_PURPOSES,
    ConsentStatus,
    ConsentTerms,
    RewardTerms,
    TrialRegistryClient,
    TrialTerms,
    deploy_reward_token,
    registry_scope,
)
from zkhealth.eligibility.scope import trial_scope
from zkhealth.errors import (
    ContractRevertError,
    GrantError,
    NullifierAlreadyUsedError,
    WrongProgramError,
    WrongRecipientError,
    WrongScopeError,
)
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof

pytestmark = pytest.mark.evm

DAY = 86400
PROGRAM = 0x5EED
CONSENT = b"\x42" * 32
ROOT_A = 1111
ROOT_B = 2222
REWARD = 10**18
MILESTONES = (5 * 10**18, 7 * 10**18)
PARTICIPATION = CONSENT_PURPOSES["trial-participation"]
ANALYSIS = CONSENT_PURPOSES["data-analysis"]


@pytest.fixture(scope="module")
def key() -> testkeys.TrapdoorKey:
    return testkeys.TrapdoorKey.generate(6, seed=1515)


@dataclass
class World:
    w3: Any
    key: testkeys.TrapdoorKey
    registry: TrialRegistryClient
    token: Any
    owner: str  # registry owner (stands in for the timelock)
    recruiter: str
    sponsor: str
    publisher: str
    patients: list[str]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def today(self) -> int:
        return self.now() // DAY

    def create(self, *, rewards: bool = False, grace: int = DAY, capacity: int = 5, program: int = PROGRAM,
               data_key: bytes = bytes(32)) -> int:
        terms = TrialTerms(
            program_hash=program,
            consent_hash=CONSENT,
            window=(self.now() - 60, self.now() + 60 * DAY),
            capacity=capacity,
            owner=self.recruiter,
            required_purposes=PARTICIPATION,
            offered_purposes=PARTICIPATION | ANALYSIS,
            root_grace_seconds=grace,
            rewards=RewardTerms(self.token.address, self.sponsor, REWARD, MILESTONES) if rewards else None,
            data_key=data_key,
        )
        return self.registry.create_trial(terms, sender=self.recruiter).trial_id

    def signals(self, trial_id: int, nullifier: int, patient: str, **overrides: int) -> list[int]:
        values = {
            "nullifier": nullifier,
            "program_hash": PROGRAM,
            "scope": self.registry.scope(trial_id),
            "today": self.today(),
            "trust_root": ROOT_A,
            "recipient": int(patient, 16),
        }
        values.update(overrides)
        return [values[k] for k in ("nullifier", "program_hash", "scope", "today", "trust_root", "recipient")]

    def consent(self, **overrides: Any) -> ConsentTerms:
        values: dict[str, Any] = {"document_hash": CONSENT, "purposes": PARTICIPATION, "expiry_day": self.today() + 90}
        values.update(overrides)
        return ConsentTerms(**values)

    def enroll(self, trial_id: int, nullifier: int, patient: str, *, consent: ConsentTerms | None = None,
               proof_signals: list[int] | None = None, **overrides: int) -> Any:
        signals = self.signals(trial_id, nullifier, patient, **overrides)
        proof = self.key.prove(proof_signals if proof_signals is not None else signals).to_proof()
        return self.registry.enroll(trial_id, proof, signals, consent or self.consent(), sender=patient)


def make_world(key: testkeys.TrapdoorKey) -> World:
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    owner, recruiter, sponsor, publisher = accounts[:4]
    registry = TrialRegistryClient.deploy(
        w3, key.key(), owner=owner, publishers=[publisher], creators=[recruiter]
    )
    registry.publish_trust_root(ROOT_A, sender=publisher)
    token = deploy_reward_token(w3, "Reward", "RWD", owner=owner)
    client.transact(w3, token.functions.mint(sponsor, 10**24), sender=owner)
    return World(w3, key, registry, token, owner, recruiter, sponsor, publisher, accounts[4:])


@pytest.fixture
def world(key: testkeys.TrapdoorKey) -> World:
    return make_world(key)


def expect_revert(name: str, fn: Callable[[], Any]) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        fn()
    assert info.value.error_name == name, str(info.value)
    return info.value


def nullifier() -> int:
    return random.randrange(1, FIELD_R)


# --------------------------------------------------------------------------- trials and enrollment


def test_enroll_records_consent_and_meets_gas(world: World) -> None:
    trial = world.create()
    n = nullifier()
    patient = world.patients[0]
    receipt = world.enroll(trial, n, patient, consent=world.consent(purposes=PARTICIPATION | ANALYSIS))
    assert receipt["gasUsed"] <= 260_000
    state = world.registry.enrollment(trial, n)
    assert state.status is ConsentStatus.ACTIVE
    assert (state.recipient, state.enrolled_day) == (patient, world.today())
    assert (state.purposes, state.consent_expiry_day) == (PARTICIPATION | ANALYSIS, world.today() + 90)
    (event,) = world.registry.contract.events.Enrolled().process_receipt(receipt)
    assert (event["args"]["trialId"], event["args"]["nullifier"]) == (trial, n)
    assert world.registry.contract.functions.trial(trial).call()[3] == 1  # enrolled count
    expect_revert("NullifierUsed", lambda: world.enroll(trial, n, world.patients[1]))
    with pytest.raises(NullifierAlreadyUsedError):
        world.enroll(trial, n, patient)


def test_scope_is_the_shared_rule(world: World) -> None:
    trial = world.create()
    chain_id = int(world.w3.eth.chain_id)
    expected = trial_scope(chain_id, world.registry.address, trial.to_bytes(32, "big"))
    assert registry_scope(chain_id, world.registry.address, trial) == expected
    assert world.registry.contract.functions.trialScope(trial).call() == expected
    program, scope, consent = world.registry.trial_constants(trial)
    assert (program, scope, consent) == (PROGRAM, expected, CONSENT)


def test_two_trials_refuse_each_others_proofs(world: World) -> None:
    first, second = world.create(), world.create()
    patient = world.patients[0]
    n = nullifier()
    signals = world.signals(first, n, patient)
    proof = world.key.prove(signals).to_proof()
    # The client names the mismatch before sending ...
    with pytest.raises(WrongScopeError):
        world.registry.enroll(second, proof, signals, world.consent(), sender=patient)
    # ... and the registry itself refuses it: it folds its own scope into the check.
    contract = world.registry.contract
    a, b, c = client.to_calldata(proof)
    _, y = world.registry.trust_root_point(ROOT_A)
    call = contract.functions.enroll(a, b, c, n, ROOT_A, second, y, world.today(), world.consent().packed)
    expect_revert("InvalidProof", lambda: client.transact_checked(world.w3, call, sender=patient, gas=500_000))
    world.registry.enroll(first, proof, signals, world.consent(), sender=patient)
    # the same patient in the second trial: a proof for its scope, another nullifier (unlinkable)
    world.enroll(second, nullifier(), patient)
    (member,) = world.registry.cohort(second)
    assert member.status is ConsentStatus.ACTIVE and member.confirmations == 1
    devchain.mine(world.w3, 2)
    assert world.registry.cohort(second)[0].confirmations == 3


def test_program_and_recipient_are_the_registrys_own(world: World) -> None:
    trial = world.create()
    patient, thief = world.patients[0], world.patients[1]
    n = nullifier()
    signals = world.signals(trial, n, patient, program_hash=PROGRAM + 1)
    with pytest.raises(WrongProgramError):
        world.registry.enroll(trial, world.key.prove(signals).to_proof(), signals, world.consent(), sender=patient)
    signals = world.signals(trial, n, patient)
    proof = world.key.prove(signals).to_proof()
    with pytest.raises(WrongRecipientError):
        world.registry.enroll(trial, proof, signals, world.consent(), sender=thief)
    # a front-runner copying the call from the mempool: the registry uses msg.sender as the recipient
    a, b, c = client.to_calldata(proof)
    _, y = world.registry.trust_root_point(ROOT_A)
    call = world.registry.contract.functions.enroll(a, b, c, n, ROOT_A, trial, y, world.today(), world.consent().packed)
    expect_revert("InvalidProof", lambda: client.transact_checked(world.w3, call, sender=thief, gas=500_000))
    terms = world.consent().packed
    wrong_y = world.registry.contract.functions.enroll(a, b, c, n, ROOT_A, trial, y + 1, world.today(), terms)
    expect_revert("WrongRootPoint", lambda: client.transact_checked(world.w3, wrong_y, sender=patient, gas=500_000))
    assert world.registry.enrollment(trial, n).status is None


def test_aliased_nullifier_and_unknown_trial(world: World) -> None:
    trial = world.create()
    patient = world.patients[0]
    n = nullifier() % (FIELD_R // 2)
    proof_signals = world.signals(trial, n, patient)
    err = expect_revert(
        "InputNotInField", lambda: world.enroll(trial, n + FIELD_R, patient, proof_signals=proof_signals)
    )
    assert "InputNotInField(0)" in str(err)
    with pytest.raises(ContractRevertError) as info:
        world.registry.trial_constants(99)
    assert info.value.error_name == "UnknownTrial"


def test_simulation_sends_nothing_for_a_refused_enrollment(world: World) -> None:
    trial = world.create()
    patient = world.patients[0]
    block, nonce = world.w3.eth.block_number, world.w3.eth.get_transaction_count(patient)
    expect_revert("StaleProof", lambda: world.enroll(trial, nullifier(), patient, today=world.today() + 1))
    assert (world.w3.eth.block_number, world.w3.eth.get_transaction_count(patient)) == (block, nonce)


@pytest.mark.parametrize("offset, accepted", [(0, True), (-1, True), (1, False), (-2, False)])
def test_today_window_is_block_day_minus_one_to_block_day(world: World, offset: int, accepted: bool) -> None:
    trial = world.create()
    n = nullifier()
    if accepted:
        world.enroll(trial, n, world.patients[0], today=world.today() + offset)
        assert world.registry.enrollment(trial, n).status is ConsentStatus.ACTIVE
    else:
        expect_revert("StaleProof", lambda: world.enroll(trial, n, world.patients[0], today=world.today() + offset))


def test_window_capacity_and_creators(world: World) -> None:
    trial = world.create(capacity=1)
    world.enroll(trial, nullifier(), world.patients[0])
    expect_revert("CohortFull", lambda: world.enroll(trial, nullifier(), world.patients[1]))
    world.registry.set_capacity(trial, 2, sender=world.recruiter)
    world.enroll(trial, nullifier(), world.patients[1])
    expect_revert("InvalidTrialParameters", lambda: world.registry.set_capacity(trial, 1, sender=world.recruiter))
    expect_revert("NotTrialOwner", lambda: world.registry.set_capacity(trial, 9, sender=world.patients[0]))
    world.registry.set_window(trial, world.now() - 100, world.now() - 10, sender=world.recruiter)
    world.registry.set_capacity(trial, 9, sender=world.recruiter)
    expect_revert("WindowClosed", lambda: world.enroll(trial, nullifier(), world.patients[2]))
    world.registry.close_trial(trial, sender=world.recruiter)
    expect_revert("TrialIsClosed", lambda: world.enroll(trial, nullifier(), world.patients[2]))
    terms = TrialTerms(program_hash=PROGRAM, consent_hash=CONSENT, window=(1, 2), capacity=1, owner=world.recruiter)
    expect_revert("NotTrialCreator", lambda: world.registry.create_trial(terms, sender=world.patients[0]))
    bad = TrialTerms(program_hash=PROGRAM, consent_hash=CONSENT, window=(5, 5), capacity=1, owner=world.recruiter)
    expect_revert("InvalidTrialParameters", lambda: world.registry.create_trial(bad, sender=world.recruiter))
    no_sponsor = TrialTerms(program_hash=PROGRAM, consent_hash=CONSENT, window=(1, 2), capacity=1,
                            owner=world.recruiter, rewards=RewardTerms(world.token.address, "0x" + "00" * 20, 1))
    expect_revert("InvalidTrialParameters", lambda: world.registry.create_trial(no_sponsor, sender=world.recruiter))
    world.registry.set_trial_creator(world.patients[0], True, sender=world.owner)
    assert world.registry.create_trial(terms, sender=world.patients[0]).trial_id == trial + 1
    expect_revert("OwnableUnauthorizedAccount", lambda: world.registry.set_trial_creator(world.patients[1], True,
                                                                                         sender=world.recruiter))


# --------------------------------------------------------------------------- trust roots


def test_stale_root_refused_after_grace_accepted_within(world: World) -> None:
    trial = world.create(grace=DAY)
    strict = world.create(grace=0)
    receipt = world.registry.publish_trust_root(ROOT_B, sender=world.publisher)
    (event,) = world.registry.contract.events.TrustRootUpdated().process_receipt(receipt)
    args = event["args"]
    assert (args["root"], args["previousRoot"], args["publisher"]) == (ROOT_B, ROOT_A, world.publisher)
    assert args["supersededAt"] == world.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    # within the grace period the superseded root still enrolls; with grace 0 it is stale at once
    world.enroll(trial, nullifier(), world.patients[0], trust_root=ROOT_A)
    devchain.advance_time(world.w3, 1)
    expect_revert("StaleRoot", lambda: world.enroll(strict, nullifier(), world.patients[0], trust_root=ROOT_A))
    world.enroll(strict, nullifier(), world.patients[0], trust_root=ROOT_B)
    devchain.advance_time(world.w3, DAY + 60)
    expect_revert("StaleRoot", lambda: world.enroll(trial, nullifier(), world.patients[1], trust_root=ROOT_A))
    world.enroll(trial, nullifier(), world.patients[1], trust_root=ROOT_B)
    expect_revert("UnknownRoot", lambda: world.enroll(trial, nullifier(), world.patients[2], trust_root=3333))
    # republishing an old root makes it current again
    world.registry.publish_trust_root(ROOT_A, sender=world.owner)
    world.enroll(trial, nullifier(), world.patients[2], trust_root=ROOT_A)
    world.registry.contract.functions.checkTrustRoot(ROOT_A, 0).call()


def test_only_owner_or_publisher_publishes(world: World) -> None:
    expect_revert("NotPublisher", lambda: world.registry.publish_trust_root(ROOT_B, sender=world.recruiter))
    world.registry.set_publisher(world.publisher, False, sender=world.owner)
    expect_revert("NotPublisher", lambda: world.registry.publish_trust_root(ROOT_B, sender=world.publisher))
    expect_revert("InvalidRoot", lambda: world.registry.publish_trust_root(0, sender=world.owner))
    world.registry.publish_trust_root(ROOT_B, sender=world.owner)
    assert world.registry.current_trust_root() == ROOT_B
    report = audit(world.w3, registry=world.registry.address)
    assert report.ok, report.findings


# --------------------------------------------------------------------------- consent


def test_consent_document_terms_and_amendment(world: World) -> None:
    trial = world.create()
    patient = world.patients[0]
    expect_revert("WrongConsentDocument", lambda: world.enroll(trial, nullifier(), patient,
                                                               consent=world.consent(document_hash=b"\x01" * 32)))
    for bad in (
        world.consent(expiry_day=world.today()),
        world.consent(purposes=ANALYSIS),  # the required purpose is missing
        world.consent(purposes=PARTICIPATION | CONSENT_PURPOSES["future-research"]),  # not offered
    ):
        expect_revert("InvalidConsentTerms", lambda c=bad: world.enroll(trial, nullifier(), patient, consent=c))
    amended = b"\x43" * 32
    world.registry.amend_consent(trial, amended, sender=world.recruiter)
    assert world.registry.consent_document(trial) == amended
    expect_revert("WrongConsentDocument", lambda: world.enroll(trial, nullifier(), patient))
    world.enroll(trial, nullifier(), patient, consent=world.consent(document_hash=amended))


def test_expired_consent_leaves_the_active_cohort(world: World) -> None:
    trial = world.create()
    short, long_, leaving = nullifier(), nullifier(), nullifier()
    world.enroll(trial, short, world.patients[0], consent=world.consent(expiry_day=world.today() + 2))
    world.enroll(trial, long_, world.patients[1])
    world.enroll(trial, leaving, world.patients[2])
    world.registry.withdraw(trial, leaving, sender=world.patients[2])
    expect_revert("NotEnrollee", lambda: world.registry.withdraw(trial, long_, sender=world.patients[0]))
    expect_revert("ConsentStillActive", lambda: world.registry.mark_expired(trial, short, sender=world.recruiter))
    assert {m.nullifier for m in world.registry.cohort(trial, active_only=True)} == {short, long_}
    devchain.advance_time(world.w3, 3 * DAY)
    active = world.registry.cohort(trial, active_only=True)
    assert [m.nullifier for m in active] == [long_]
    by_nullifier = {m.nullifier: m for m in world.registry.cohort(trial)}
    assert by_nullifier[short].status is ConsentStatus.EXPIRED
    assert by_nullifier[short].ended_reason == f"expired on day {world.today() - 1}"
    assert by_nullifier[leaving].status is ConsentStatus.WITHDRAWN
    assert by_nullifier[leaving].ended_reason is not None and by_nullifier[leaving].ended_reason.startswith("withdrawn")
    seats = world.registry.contract.functions.trial(trial).call()[3]
    world.registry.mark_expired(trial, short, sender=world.recruiter)
    assert world.registry.contract.functions.trial(trial).call()[3] == seats - 1
    expect_revert("ConsentHasExpired", lambda: world.registry.withdraw(trial, short, sender=world.patients[0]))


# --------------------------------------------------------------------------- rewards


def funded(world: World, amount: int) -> int:
    trial = world.create(rewards=True)
    if amount:
        world.registry.fund(trial, amount, sender=world.sponsor)
    return trial


def balance(world: World, who: str) -> int:
    return int(world.token.functions.balanceOf(who).call())


def test_enrollment_reward_paid_in_the_same_transaction(world: World) -> None:
    trial = funded(world, 20 * 10**18)
    patient = world.patients[0]
    n = nullifier()
    receipt = world.enroll(trial, n, patient)
    assert receipt["gasUsed"] <= 320_000
    assert balance(world, patient) == REWARD
    (paid,) = world.registry.contract.events.RewardPaid().process_receipt(receipt, errors=DISCARD)
    assert (paid["args"]["milestone"], paid["args"]["amount"], paid["args"]["recipient"]) == (0, REWARD, patient)
    assert world.registry.enrollment(trial, n).enrollment_rewarded
    assert world.registry.pool(trial) == (19 * 10**18, REWARD)
    receipt = world.registry.pay_milestone(trial, n, 1, sender=world.recruiter)
    assert balance(world, patient) == REWARD + MILESTONES[0]
    assert receipt["gasUsed"] < 120_000


def test_payout_refusals_each_have_their_own_error(world: World) -> None:
    empty = funded(world, 0)
    expect_revert("PoolUnderfunded", lambda: world.enroll(empty, nullifier(), world.patients[0]))
    trial = funded(world, REWARD + MILESTONES[0])
    n, gone = nullifier(), nullifier()
    world.enroll(trial, n, world.patients[0])
    world.registry.pay_milestone(trial, n, 1, sender=world.recruiter)
    expect_revert("AlreadyPaid", lambda: world.registry.pay_milestone(trial, n, 1, sender=world.recruiter))
    expect_revert("PoolUnderfunded", lambda: world.registry.pay_milestone(trial, n, 2, sender=world.recruiter))
    expect_revert("UnknownMilestone", lambda: world.registry.pay_milestone(trial, n, 3, sender=world.recruiter))
    expect_revert("NotTrialOwner", lambda: world.registry.pay_milestone(trial, n, 2, sender=world.patients[0]))
    expect_revert("NotEnrolled", lambda: world.registry.pay_milestone(trial, nullifier(), 1, sender=world.recruiter))
    world.registry.fund(trial, 10 * 10**18, sender=world.sponsor)
    world.enroll(trial, gone, world.patients[1])
    world.registry.withdraw(trial, gone, sender=world.patients[1])
    expect_revert("EnrollmentWithdrawn", lambda: world.registry.pay_milestone(trial, gone, 1, sender=world.recruiter))
    expired = nullifier()
    world.enroll(trial, expired, world.patients[2], consent=world.consent(expiry_day=world.today() + 1))
    devchain.advance_time(world.w3, 2 * DAY)
    expect_revert("ConsentHasExpired", lambda: world.registry.pay_milestone(trial, expired, 1, sender=world.recruiter))
    report = audit(world.w3, registry=world.registry.address)
    assert report.ok, report.findings


def test_reentrant_token_is_stopped(world: World) -> None:
    artifact = build.load_test_artifact("ReentrantToken")
    factory = world.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = client.transact(world.w3, factory.constructor(), sender=world.owner, gas=3_000_000)
    evil = world.w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    client.transact(world.w3, evil.functions.mint(world.sponsor, 10**24), sender=world.owner)
    terms = TrialTerms(
        program_hash=PROGRAM,
        consent_hash=CONSENT,
        window=(world.now() - 60, world.now() + 60 * DAY),
        capacity=5,
        owner=world.recruiter,
        rewards=RewardTerms(evil.address, world.sponsor, 0, MILESTONES),
    )
    trial = world.registry.create_trial(terms, sender=world.recruiter).trial_id
    world.registry.fund(trial, 100 * 10**18, sender=world.sponsor)
    n = nullifier()
    world.enroll(trial, n, world.patients[0])
    # transfer() calls back into payMilestone for milestone 2 before paying milestone 1
    reenter = world.registry.contract.encode_abi("payMilestone", args=[trial, n, 2])
    arm = evil.functions.arm(world.registry.address, bytes.fromhex(reenter[2:]))
    client.transact(world.w3, arm, sender=world.owner)
    expect_revert("ReentrancyGuardReentrantCall",
                  lambda: world.registry.pay_milestone(trial, n, 1, sender=world.recruiter))
    assert world.registry.contract.functions.milestonesPaid(trial, n).call() == 0
    assert world.registry.pool(trial) == (100 * 10**18, 0)


def test_sponsor_reclaims_after_close_only(world: World) -> None:
    trial = funded(world, 30 * 10**18)
    world.enroll(trial, nullifier(), world.patients[0])
    expect_revert("TrialNotClosed", lambda: world.registry.reclaim(trial, sender=world.sponsor))
    world.registry.close_trial(trial, sender=world.recruiter)
    expect_revert("NotSponsor", lambda: world.registry.reclaim(trial, sender=world.recruiter))
    before = balance(world, world.sponsor)
    world.registry.reclaim(trial, sender=world.sponsor)
    assert balance(world, world.sponsor) == before + 29 * 10**18
    assert world.registry.pool(trial) == (0, REWARD)
    expect_revert("TrialIsClosed", lambda: world.registry.fund(trial, 1, sender=world.sponsor))


# --------------------------------------------------------------------------- data-access grants


def test_grant_used_after_revocation_is_flagged(world: World) -> None:
    keys = DataKeyPair.generate()
    trial = world.create(data_key=keys.public_key)
    patient = world.patients[0]
    n = nullifier()
    world.enroll(trial, n, patient)
    extract = b'{"resourceType": "Bundle", "type": "collection", "entry": []}'
    sealed = seal_extract(extract, keys.public_key)
    expiry = world.today() + 30
    expect_revert("NotEnrollee", lambda: world.registry.grant_access(trial, n, sealed.sha256, expiry, "ipfs://x",
                                                                     sender=world.recruiter))
    grant = world.registry.grant_access(trial, n, sealed.sha256, expiry, "file:///extract.bin", sender=patient)
    assert world.registry.grant_is_active(grant)
    recorded = world.registry.grant(grant)
    assert open_extract(sealed.sealed, keys.private_key, expected_sha256=recorded["extractHash"]) == extract
    with pytest.raises(GrantError):
        open_extract(sealed.sealed + b"x", keys.private_key, expected_sha256=recorded["extractHash"])
    with pytest.raises(GrantError):
        open_extract(sealed.sealed, DataKeyPair.generate().private_key, expected_sha256=sealed.sha256)
    world.registry.record_access(grant, sender=world.recruiter)
    expect_revert("NotTrialOwner", lambda: world.registry.record_access(grant, sender=patient))
    assert audit(world.w3, registry=world.registry.address).ok
    expect_revert("NotGrantor", lambda: world.registry.revoke_access(grant, sender=world.recruiter))
    world.registry.revoke_access(grant, sender=patient)
    assert not world.registry.grant_is_active(grant)
    expect_revert("GrantAlreadyRevoked", lambda: world.registry.revoke_access(grant, sender=patient))
    late = world.registry.record_access(grant, sender=world.recruiter)
    report = audit(world.w3, registry=world.registry.address, trial_id=trial)
    (finding,) = report.findings
    assert finding.rule == "grant-after-revocation"
    assert finding.block_number == late["blockNumber"]
    assert "GrantUsed" in report.to_csv() and '"grant-after-revocation"' in report.to_json()


# --------------------------------------------------------------------------- real proofs


def _non_subgroup_g2() -> tuple[tuple[int, int], tuple[int, int]]:
    """A point on the G2 twist outside the r-torsion (security.md K6)."""
    from zkhealth.hazmat.bn254 import TWIST_B, fq2_add, fq2_mul, fq2_sqrt, g2_in_subgroup

    for k in range(1, 200):
        x = (k, 1)
        y = fq2_sqrt(fq2_add(fq2_mul(fq2_mul(x, x), x), TWIST_B))
        if y is not None and not g2_in_subgroup((x, y)):
            return (x, y)
    raise AssertionError("no non-subgroup point found")


@pytest.mark.prove
def test_real_standin_proofs_on_stock_py_evm() -> None:
    """REAL Groth16 proofs (stand-in universal circuit) through the registry on stock py-evm (py_ecc pairing)."""
    standin = standins.universal_standin()
    w3 = client.connect(client.embedded_provider())
    accounts = list(w3.eth.accounts)
    registry = TrialRegistryClient.deploy(w3, standin.vk, owner=accounts[0], creators=[accounts[1]])
    issuer_root, person_root = 77, 88
    root = standins.universal_inputs(secret=1, program=[0] * 4, scope=0, today=0, issuer_root=issuer_root,
                                     person_root=person_root, recipient=accounts[0])["trust_root"]
    assert isinstance(root, int)
    registry.publish_trust_root(root, sender=accounts[0])
    program = [11, 22, 33, 44]
    now = int(w3.eth.get_block("latest")["timestamp"])
    terms = TrialTerms(program_hash=standins.program_hash(program), consent_hash=CONSENT,
                       window=(now - 60, now + DAY), capacity=3, owner=accounts[1])
    first = registry.create_trial(terms, sender=accounts[1])
    second = registry.create_trial(terms, sender=accounts[1])
    patient = accounts[2]

    def prove(trial: Any, secret: int = 0xC0FFEE) -> tuple[Any, list[int]]:
        return standin.prove(standins.universal_inputs(
            secret=secret, program=program, scope=trial.scope, today=now // DAY, issuer_root=issuer_root,
            person_root=person_root, recipient=patient))

    consent = ConsentTerms(CONSENT, PARTICIPATION, now // DAY + 30)
    proof, signals = prove(first)
    receipt = registry.enroll(first.trial_id, proof, signals, consent)
    assert receipt["gasUsed"] <= 260_000
    with pytest.raises(NullifierAlreadyUsedError):
        registry.enroll(first.trial_id, proof, signals, consent)
    # security.md K2: a re-randomised proof (other bytes, same statement) hits the same nullifier
    fresh = groth16.rerandomize(standin.vk, proof)
    assert fresh != proof
    with pytest.raises(NullifierAlreadyUsedError):
        registry.enroll(first.trial_id, fresh, signals, consent)
    # security.md K6: B on the twist but outside the r-torsion is refused by the pairing precompile
    outside = Proof(proof.a, _non_subgroup_g2(), proof.c)
    _, third_signals = prove(second, secret=0xC0FFEF)
    with pytest.raises(ContractRevertError) as info:
        registry.enroll(second.trial_id, outside, third_signals, consent)
    assert info.value.error_name == "InvalidProof"
    with pytest.raises(WrongScopeError):
        registry.enroll(second.trial_id, proof, signals, consent)
    other_proof, other_signals = prove(second)
    registry.enroll(second.trial_id, other_proof, other_signals, consent)
    assert other_signals[0] != signals[0]  # two trials, two unlinkable nullifiers


def test_roles_api(world: World) -> None:
    from zkhealth.chain.roles import Patient, Recruiter, Sponsor

    keys = DataKeyPair.generate()
    trial = world.create(rewards=True, data_key=keys.public_key)
    Sponsor(world.registry, world.sponsor).fund(trial, 10 * 10**18)
    recruiter = Recruiter(world.registry, world.recruiter, data_keys=keys)
    patient = Patient(world.registry, world.patients[0])
    n = nullifier()
    signals = world.signals(trial, n, patient.address)
    patient.enroll(trial, world.key.prove(signals).to_proof(), signals, world.consent())
    assert [m.nullifier for m in recruiter.cohort(trial)] == [n]
    recruiter.pay_milestone(trial, n, 1)
    extract = b'{"resourceType": "Bundle"}'
    grant_id, sealed = patient.grant_access(trial, n, extract, expiry_day=world.today() + 5, uri="file:///x")
    assert recruiter.open_grant(grant_id, sealed.sealed) == extract
    patient.revoke_access(grant_id)
    with pytest.raises(GrantError):
        recruiter.open_grant(grant_id, sealed.sealed)
    recruiter.close(trial)
    Sponsor(world.registry, world.sponsor).reclaim(trial)
    assert world.registry.pool(trial)[0] == 0
    assert audit(world.w3, registry=world.registry.address).ok
