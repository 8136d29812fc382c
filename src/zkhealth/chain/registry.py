"""Client of the TrialRegistry: one contract, one universal verifying key, every trial.

A recruiter creates a trial in one transaction (:meth:`TrialRegistryClient.create_trial`); a patient enrolls
with a universal eligibility proof and the consent terms it agrees to (:meth:`TrialRegistryClient.enroll`); the
trial's sponsor funds its reward pool; the recruiter pays milestones and reads the cohort with each consent's
status; a patient grants and revokes time-bound access to an encrypted data extract. Every state-changing call
is simulated with ``eth_call`` first (:func:`zkhealth.chain.client.transact_checked`): a refusal raises its
decoded custom error and nothing is sent.

Public signals of the universal eligibility circuit, in order: ``[nullifier, program_hash, scope, today,
trust_root, recipient]``; ``scope = keccak256(abi.encode(chainid, registry, trialId)) >> 3``
(:func:`registry_scope`, through :func:`zkhealth.chain.client.trial_scope`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from zkhealth.chain import client
from zkhealth.chain.build import load_artifact
from zkhealth.chain.solidity import key_words, public_words, scalar_from, to_calldata
from zkhealth.eligibility.scope import trial_scope
from zkhealth.errors import (
    ChainError,
    MalformedProofError,
    WrongProgramError,
    WrongRecipientError,
    WrongScopeError,
)
from zkhealth.groth16.keys import Proof, VerifyingKey

__all__ = [
    "CONSENT_PURPOSES",
    "UNIVERSAL_SIGNALS",
    "CohortMember",
    "ConsentStatus",
    "ConsentTerms",
    "CreatedTrial",
    "EnrollmentState",
    "RewardTerms",
    "TrialRegistryClient",
    "TrialTerms",
    "registry_scope",
]

#: The universal eligibility circuit's public signals, in order.
UNIVERSAL_SIGNALS: Final[tuple[str, ...]] = ("nullifier", "program_hash", "scope", "today", "trust_root", "recipient")
NULLIFIER, PROGRAM_HASH, SCOPE, TODAY, TRUST_ROOT, RECIPIENT = range(6)
#: Consent purposes, one bit each (a trial offers some and requires some of them).
CONSENT_PURPOSES: Final[dict[str, int]] = {
    "trial-participation": 1 << 0,
    "data-analysis": 1 << 1,
    "data-sharing-with-sponsor": 1 << 2,
    "future-research": 1 << 3,
    "contact-for-followup": 1 << 4,
}
DAY: Final[int] = 86_400

DEPLOY_REGISTRY_GAS: Final[int] = 12_000_000
CREATE_TRIAL_GAS: Final[int] = 1_500_000
ENROLL_GAS: Final[int] = 500_000
PAYOUT_GAS: Final[int] = 300_000
ADMIN_GAS: Final[int] = 300_000

_STATUS_ENROLLED, _STATUS_WITHDRAWN, _STATUS_EXPIRED = 1, 2, 3


def registry_scope(chain_id: int, registry_address: str, trial_id: int) -> int:
    """The scope of trial ``trial_id`` in the registry at ``registry_address``:
    ``keccak256(abi.encode(chainid, registry, trialId)) >> 3`` (the same rule as every zkhealth scope)."""
    if isinstance(trial_id, bool) or not isinstance(trial_id, int) or not 0 <= trial_id < 2**256:
        raise ChainError("trial_id must be a uint256")
    return trial_scope(chain_id, registry_address, trial_id.to_bytes(32, "big"))


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ChainError(f"{what} must be exactly 32 bytes")
    return value


@dataclass(frozen=True)
class ConsentTerms:
    """What a patient consents to when enrolling: the consent document's hash (32 bytes, the trial's current
    document), the purposes (a bitmask of :data:`CONSENT_PURPOSES`) and the first day (epoch day) on which the
    consent no longer holds."""

    document_hash: bytes
    purposes: int
    expiry_day: int

    def __post_init__(self) -> None:
        _bytes32(self.document_hash, "document_hash")
        if isinstance(self.purposes, bool) or not isinstance(self.purposes, int) or not 0 <= self.purposes < 2**16:
            raise ChainError("purposes must be a 16-bit mask")
        if isinstance(self.expiry_day, bool) or not isinstance(self.expiry_day, int) or not 0 < self.expiry_day < 2**32:
            raise ChainError("expiry_day must be an epoch day in [1, 2^32)")

    @property
    def packed(self) -> int:
        """``expiryDay | purposes << 32 | tag << 48`` as ``enroll`` takes it, where tag is the top 128 bits of
        the document hash."""
        tag = int.from_bytes(self.document_hash[:16], "big")
        return self.expiry_day | (self.purposes << 32) | (tag << 48)


@dataclass(frozen=True)
class RewardTerms:
    """A trial's ERC-20 reward terms: the token, who gets unspent funds back after close, the enrollment reward
    (paid in the enroll transaction) and milestone rewards (milestone k pays ``milestone_rewards[k - 1]``)."""

    token: str
    sponsor: str
    enrollment_reward: int = 0
    milestone_rewards: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for amount in (self.enrollment_reward, *self.milestone_rewards):
            if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < 2**96:
                raise ChainError("reward amounts must be ints in [0, 2^96)")
        if len(self.milestone_rewards) > 255:
            raise ChainError("at most 255 milestones")


@dataclass(frozen=True)
class TrialTerms:
    """Everything ``createTrial`` records, in one transaction. ``window`` is ``(start, end)`` in unix seconds,
    end exclusive; ``root_grace_seconds`` is how long a superseded trust root stays accepted (0 allowed)."""

    program_hash: int
    consent_hash: bytes
    window: tuple[int, int]
    capacity: int
    owner: str
    external_id: bytes = bytes(32)
    required_purposes: int = CONSENT_PURPOSES["trial-participation"]
    offered_purposes: int = sum(CONSENT_PURPOSES.values())
    root_grace_seconds: int = DAY
    one_per_person: bool = False
    rewards: RewardTerms | None = None
    data_key: bytes = bytes(32)

    def __post_init__(self) -> None:
        _bytes32(self.consent_hash, "consent_hash")
        _bytes32(self.external_id, "external_id")
        _bytes32(self.data_key, "data_key")
        scalar_from(self.program_hash, "program hash")

    def as_params(self) -> tuple[Any, ...]:
        """The ``TrialParams`` tuple of the contract's ABI."""
        rewards = self.rewards
        return (
            self.external_id,
            self.program_hash,
            self.consent_hash,
            self.required_purposes,
            self.offered_purposes,
            int(self.window[0]),
            int(self.window[1]),
            int(self.capacity),
            int(self.root_grace_seconds),
            bool(self.one_per_person),
            to_checksum_address(self.owner),
            to_checksum_address(rewards.sponsor) if rewards else to_checksum_address(self.owner),
            to_checksum_address(rewards.token) if rewards else "0x" + "00" * 20,
            rewards.enrollment_reward if rewards else 0,
            list(rewards.milestone_rewards) if rewards else [],
            self.data_key,
        )


@dataclass(frozen=True)
class CreatedTrial:
    """A trial created in the registry: its id, its scope (what patients prove for) and the block."""

    trial_id: int
    scope: int
    block_number: int


class ConsentStatus(enum.Enum):
    """Where a consent stands today."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class EnrollmentState:
    """The registry's record of one nullifier in one trial (``status`` None: never enrolled)."""

    status: ConsentStatus | None
    recipient: str
    enrolled_day: int
    consent_expiry_day: int
    purposes: int
    enrollment_rewarded: bool


@dataclass(frozen=True)
class CohortMember:
    """One enrollment as the recruiter's cohort listing shows it: who (the recipient address, not a person),
    when, the consent terms, and why the consent ended when it is not active (``ended_reason``:
    ``"withdrawn on day D"`` or ``"expired on day D"``). ``confirmations`` is the depth of the enrollment's
    block (1 = the latest): act on an enrollment only once it is deep enough to survive a reorg (security.md
    K7; :class:`zkhealth.chain.client.EnrollmentWatcher` follows the depth over time)."""

    nullifier: int
    recipient: str
    enrolled_block: int
    purposes: int
    consent_expiry_day: int
    status: ConsentStatus
    ended_reason: str | None = None
    rewards_paid: tuple[int, ...] = field(default=())
    confirmations: int = 0


@client.guard_rpc_methods
class TrialRegistryClient:
    """A deployed TrialRegistry. Build with :meth:`deploy` or ``TrialRegistryClient(w3, address)``."""

    def __init__(self, w3: Web3, address: str, *, deployed_block: int = 0) -> None:
        self.w3 = w3
        self.contract: Contract = w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact("TrialRegistry")["abi"]
        )
        self.deployed_block = deployed_block

    @property
    def address(self) -> ChecksumAddress:
        return to_checksum_address(str(self.contract.address))

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        vk: VerifyingKey,
        *,
        owner: str,
        publishers: Sequence[str] = (),
        creators: Sequence[str] = (),
        sender: str | None = None,
        gas: int = DEPLOY_REGISTRY_GAS,
    ) -> TrialRegistryClient:
        """Deploy a registry for the universal verifying key ``vk`` (6 public signals), owned by ``owner``
        (the DAO's timelock), with its first root publishers and trial creators. The EVM validates the key.
        Cost: ~6 MGas (mostly code deposit)."""
        words = key_words(vk)
        if len(words) != 28:
            raise MalformedProofError("the trial registry needs the 6-signal universal eligibility key")
        args = (
            words,
            to_checksum_address(owner),
            [to_checksum_address(p) for p in publishers],
            [to_checksum_address(c) for c in creators],
        )
        receipt = client._deploy_receipt(w3, "TrialRegistryInit", args, sender, gas)
        address = to_checksum_address(receipt["contractAddress"])
        deployed = cls(w3, address, deployed_block=int(receipt["blockNumber"]))
        if bytes(deployed.contract.functions.verifyingKeyHash().call()) != _keccak_words(words):
            raise ChainError("the deployed registry embeds another verifying key")
        return deployed

    def _send(self, call: Any, sender: str | None, gas: int = ADMIN_GAS) -> Any:
        return client.transact_checked(self.w3, call, sender=sender, gas=gas)

    # ---------------------------------------------------------------- trust roots and registry owner

    def scope(self, trial_id: int) -> int:
        """The trial's scope (computed in Python; equals the contract's ``trialScope``)."""
        return registry_scope(int(self.w3.eth.chain_id), self.address, trial_id)

    def publish_trust_root(self, root: int, *, sender: str | None = None) -> Any:
        """Owner or publisher: make ``root`` current; the previous root enters its grace period."""
        return self._send(self.contract.functions.publishTrustRoot(scalar_from(root, "trust root")), sender)

    def trust_root_point(self, root: int) -> tuple[int, int]:
        """``root * IC_trustRoot`` (x, y): enroll passes its y. Cost: one eth_call (an ecMul)."""
        x, y = self.contract.functions.trustRootPoint(scalar_from(root, "trust root")).call()
        return int(x), int(y)

    def current_trust_root(self) -> int:
        return int(self.contract.functions.currentTrustRoot().call())

    def set_publisher(self, publisher: str, authorised: bool, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.setPublisher(to_checksum_address(publisher), authorised), sender)

    def set_trial_creator(self, creator: str, approved: bool, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.setTrialCreator(to_checksum_address(creator), approved), sender)

    # ---------------------------------------------------------------- trials

    def create_trial(self, terms: TrialTerms, *, sender: str | None = None) -> CreatedTrial:
        """Create a trial (caller: an approved creator or the registry owner). Returns its id and scope."""
        receipt = self._send(self.contract.functions.createTrial(terms.as_params()), sender, CREATE_TRIAL_GAS)
        (event,) = self.contract.events.TrialCreated().process_receipt(receipt, errors=DISCARD)
        trial_id = int(event["args"]["trialId"])
        scope = int(event["args"]["scope"])
        if scope != self.scope(trial_id):
            raise ChainError("the registry's scope differs from registry_scope(chain id, address, trial id)")
        return CreatedTrial(trial_id, scope, int(receipt["blockNumber"]))

    def trial_constants(self, trial_id: int) -> tuple[int, int, bytes]:
        """(program hash, scope, original consent document hash) of a trial."""
        program_hash, scope, consent = client.call_or_raise(
            lambda: self.contract.functions.trialConstants(trial_id).call()
        )
        return int(program_hash), int(scope), bytes(consent)

    def consent_document(self, trial_id: int) -> bytes:
        """The consent document hash enrollments must name now (the amendment, if any)."""
        info = self.contract.functions.trialInfo(trial_id).call()
        flags = int(self.contract.functions.trial(trial_id).call()[8])
        return bytes(info[7]) if flags & 2 else self.trial_constants(trial_id)[2]

    def set_window(self, trial_id: int, start: int, end: int, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.setWindow(trial_id, start, end), sender)

    def set_capacity(self, trial_id: int, capacity: int, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.setCapacity(trial_id, capacity), sender)

    def amend_consent(self, trial_id: int, document_hash: bytes, *, sender: str | None = None) -> Any:
        return self._send(
            self.contract.functions.amendConsent(trial_id, _bytes32(document_hash, "document_hash")), sender
        )

    def close_trial(self, trial_id: int, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.closeTrial(trial_id), sender)

    # ---------------------------------------------------------------- patients

    def enroll(
        self,
        trial_id: int,
        proof: Proof,
        public_signals: Sequence[int],
        consent: ConsentTerms,
        *,
        sender: str | None = None,
        gas: int = ENROLL_GAS,
    ) -> Any:
        """Enroll with a universal eligibility proof (its six public signals in snarkjs order) and consent
        terms. ``sender`` defaults to the proof's recipient, the only account the registry accepts it from.

        The registry takes only the nullifier, ``today`` and the trust root from the signals: it supplies the
        trial's program hash and scope and uses msg.sender as the recipient, so a mismatch would only show as
        ``InvalidProof``. This method therefore compares those three signals first and raises
        :class:`~zkhealth.errors.WrongProgramError`, :class:`~zkhealth.errors.WrongScopeError` or
        :class:`~zkhealth.errors.WrongRecipientError`; then the call is simulated: any other refusal raises the
        decoded :class:`~zkhealth.errors.ContractRevertError` (``NullifierUsed`` as
        :class:`~zkhealth.errors.NullifierAlreadyUsedError`) and nothing is sent. Returns the receipt.
        Cost: ~257,000 gas, ~300,000 with an enrollment reward."""
        call, chosen = self._enroll_call(trial_id, proof, public_signals, consent, sender)
        return self._send(call, chosen, gas)

    def check_enroll(
        self,
        trial_id: int,
        proof: Proof,
        public_signals: Sequence[int],
        consent: ConsentTerms | None = None,
        *,
        gas: int = ENROLL_GAS,
    ) -> None:
        """Would :meth:`enroll` succeed now, sent by the proof's recipient? The same checks, then the call is
        simulated with ``eth_call`` (the pairing included); nothing is sent and no key is needed. Raises what
        :meth:`enroll` raises. ``consent`` defaults to terms the trial accepts (its current consent document, its
        required purposes, expiring in 30 days), so that only the proof and the trial's state are judged.
        Cost: one ``eth_call`` of ``enroll`` (~260,000 gas of execution) and three view calls."""
        if consent is None:
            _start, _end, _cap, _seats, _grace, required, *_ = self.contract.functions.trial(trial_id).call()
            today = int(self.w3.eth.get_block("latest")["timestamp"]) // DAY
            consent = ConsentTerms(self.consent_document(trial_id), int(required), today + 30)
        call, sender = self._enroll_call(trial_id, proof, public_signals, consent, None)
        client.simulate(self.w3, call, sender=sender, gas=gas)

    def _enroll_call(
        self, trial_id: int, proof: Proof, public_signals: Sequence[int], consent: ConsentTerms, sender: str | None
    ) -> tuple[Any, str]:
        """The ``enroll`` call for these arguments and its sender, after the checks :meth:`enroll` names."""
        words = public_words(list(public_signals))
        if len(words) != len(UNIVERSAL_SIGNALS):
            raise MalformedProofError(f"the universal circuit has 6 public signals, got {len(words)}")
        if sender is None:
            sender = client.recipient_address(words[RECIPIENT])
        program_hash, scope, _ = self.trial_constants(trial_id)
        if words[PROGRAM_HASH] != program_hash:
            raise WrongProgramError("the proof is for another criteria program than this trial's")
        if words[SCOPE] != scope:
            raise WrongScopeError("the proof is for another trial, registry or chain (its scope differs)")
        if words[RECIPIENT] != int(to_checksum_address(sender), 16):
            raise WrongRecipientError("the proof is bound to another recipient than the sending address")
        a, b, c = to_calldata(proof)
        if not 0 <= words[TODAY] < 2**32:
            raise MalformedProofError("today is not an epoch day (it must fit in 32 bits)")
        _, root_y = self.trust_root_point(words[TRUST_ROOT])
        call = self.contract.functions.enroll(
            a, b, c, words[NULLIFIER], words[TRUST_ROOT], trial_id, root_y, words[TODAY], consent.packed
        )
        return call, sender

    def withdraw(self, trial_id: int, nullifier: int, *, sender: str | None = None) -> Any:
        """The enrolling address withdraws its consent (the seat is freed; the nullifier stays used)."""
        return self._send(self.contract.functions.withdraw(trial_id, nullifier), sender)

    def mark_expired(self, trial_id: int, nullifier: int, *, sender: str | None = None) -> Any:
        """Anyone: record that a consent has expired and free its seat."""
        return self._send(self.contract.functions.markExpired(trial_id, nullifier), sender)

    def enrollment(self, trial_id: int, nullifier: int) -> EnrollmentState:
        status, recipient, day, expiry, purposes, rewarded = self.contract.functions.enrollment(
            trial_id, nullifier
        ).call()
        named = {_STATUS_ENROLLED: ConsentStatus.ACTIVE, _STATUS_WITHDRAWN: ConsentStatus.WITHDRAWN}
        state = named.get(int(status), ConsentStatus.EXPIRED if int(status) == _STATUS_EXPIRED else None)
        return EnrollmentState(state, str(recipient), int(day), int(expiry), int(purposes), bool(rewarded))

    def grant_access(
        self,
        trial_id: int,
        nullifier: int,
        extract_sha256: bytes,
        expiry_day: int,
        uri: str,
        *,
        sender: str | None = None,
    ) -> int:
        """The enrolled patient records a data-access grant (hash and expiry on-chain; the sealed extract
        lives at ``uri``). Returns the grant id."""
        call = self.contract.functions.grantAccess(
            trial_id, nullifier, _bytes32(extract_sha256, "extract hash"), expiry_day, uri
        )
        receipt = self._send(call, sender)
        (event,) = self.contract.events.AccessGranted().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["grantId"])

    def revoke_access(self, grant_id: int, *, sender: str | None = None) -> Any:
        return self._send(self.contract.functions.revokeAccess(grant_id), sender)

    def record_access(self, grant_id: int, *, sender: str | None = None) -> Any:
        """The trial's owner records that it used a grant (not refused when late: the audit flags late uses;
        anyone else is refused with ``NotTrialOwner``)."""
        return self._send(self.contract.functions.recordAccess(grant_id), sender)

    def grant(self, grant_id: int) -> dict[str, Any]:
        """The grant record: patient, expiryDay, revokedDay, trialId, nullifier, extractHash."""
        patient, expiry, revoked, trial_id, nullifier, extract_hash = self.contract.functions.grant(grant_id).call()
        return {
            "patient": str(patient),
            "expiryDay": int(expiry),
            "revokedDay": int(revoked),
            "trialId": int(trial_id),
            "nullifier": int(nullifier),
            "extractHash": bytes(extract_hash),
        }

    def grant_is_active(self, grant_id: int) -> bool:
        return bool(self.contract.functions.grantIsActive(grant_id).call())

    # ---------------------------------------------------------------- rewards

    def token(self, trial_id: int) -> Contract:
        """The trial's reward token (ERC-20 ABI)."""
        address = self.contract.functions.trialInfo(trial_id).call()[2]
        if int(address, 16) == 0:
            raise ChainError("this trial has no reward token")
        return self.w3.eth.contract(address=to_checksum_address(address), abi=load_artifact("RewardToken")["abi"])

    def fund(self, trial_id: int, amount: int, *, sender: str | None = None) -> Any:
        """Sponsor: approve the registry for ``amount`` of the trial's token, then fund the pool."""
        token = self.token(trial_id)
        self._send(token.functions.approve(self.address, amount), sender)
        return self._send(self.contract.functions.fund(trial_id, amount), sender, PAYOUT_GAS)

    def pay_milestone(self, trial_id: int, nullifier: int, milestone: int, *, sender: str | None = None) -> Any:
        """Trial owner: pay milestone ``milestone`` (1-based) to the enrollment's address."""
        return self._send(self.contract.functions.payMilestone(trial_id, nullifier, milestone), sender, PAYOUT_GAS)

    def reclaim(self, trial_id: int, *, sender: str | None = None) -> Any:
        """Sponsor: after close, take back the pool's balance."""
        return self._send(self.contract.functions.reclaim(trial_id), sender, PAYOUT_GAS)

    def pool(self, trial_id: int) -> tuple[int, int]:
        """(balance, total paid) of the trial's pool."""
        info = self.contract.functions.trialInfo(trial_id).call()
        return int(info[4]), int(info[5])

    # ---------------------------------------------------------------- cohort

    def cohort(self, trial_id: int, *, active_only: bool = False) -> list[CohortMember]:
        """The trial's enrollments from ``Enrolled`` logs, each with its consent's status today and, for an
        ended consent, why it ended. ``active_only`` keeps the active consents (the recruiter's cohort)."""
        enrolled = self.contract.events.Enrolled().get_logs(
            argument_filters={"trialId": trial_id}, from_block=self.deployed_block
        )
        withdrawn = {
            int(e["args"]["nullifier"]): int(e["blockNumber"])
            for e in self.contract.events.ConsentWithdrawn().get_logs(
                argument_filters={"trialId": trial_id}, from_block=self.deployed_block
            )
        }
        paid: dict[int, list[int]] = {}
        for e in self.contract.events.RewardPaid().get_logs(
            argument_filters={"trialId": trial_id}, from_block=self.deployed_block
        ):
            paid.setdefault(int(e["args"]["nullifier"]), []).append(int(e["args"]["milestone"]))
        members = []
        latest = int(self.w3.eth.block_number)
        for event in enrolled:
            nullifier = int(event["args"]["nullifier"])
            state = self.enrollment(trial_id, nullifier)
            status = state.status if state.status is not None else ConsentStatus.EXPIRED
            reason = None
            if status is ConsentStatus.WITHDRAWN:
                block = withdrawn.get(nullifier)
                when = int(self.w3.eth.get_block(block)["timestamp"]) // DAY if block is not None else None
                reason = f"withdrawn on day {when}" if when is not None else "withdrawn"
            elif status is ConsentStatus.EXPIRED:
                reason = f"expired on day {state.consent_expiry_day}"
            if active_only and status is not ConsentStatus.ACTIVE:
                continue
            members.append(
                CohortMember(
                    nullifier=nullifier,
                    recipient=state.recipient,
                    enrolled_block=int(event["blockNumber"]),
                    purposes=state.purposes,
                    consent_expiry_day=state.consent_expiry_day,
                    status=status,
                    ended_reason=reason,
                    rewards_paid=tuple(sorted(paid.get(nullifier, []))),
                    confirmations=max(0, latest - int(event["blockNumber"]) + 1),
                )
            )
        return members


def _keccak_words(words: Sequence[int]) -> bytes:
    from eth_utils.crypto import keccak

    return bytes(keccak(b"".join(int(w).to_bytes(32, "big") for w in words)))


def deploy_reward_token(
    w3: Web3, name: str, symbol: str, *, owner: str, sender: str | None = None
) -> Contract:
    """Deploy the shipped ERC-20 (OpenZeppelin ERC20, owner mints) for local chains and the demo."""
    address = client._deploy(w3, "RewardToken", (name, symbol, to_checksum_address(owner)), sender, 3_000_000)
    return w3.eth.contract(address=address, abi=cast(Any, load_artifact("RewardToken")["abi"]))
