"""The patients' DAO: deployment and the member's flow (propose, vote anonymously, queue, execute).

:func:`deploy_dao` deploys, in order: the vote circuit's Groth16Verifier, OpenZeppelin's TimelockController
(``ZkHealthTimelock``), the TrialRegistry and the TrustDirectory (both owned by the timelock), and the
``ZkHealthGovernor`` (OpenZeppelin Governor + GovernorSettings + GovernorTimelockControl + anonymous counting);
then it gives the governor the timelock's proposer and canceller roles, lets anyone execute a queued proposal,
and renounces the deployer's admin role, so from then on only proposals change the registries.

A vote is a membership proof (:func:`zkhealth.eligibility.vote.prove_vote`) for the proposal's scope
(:meth:`Governance.proposal_scope`) and electorate (:meth:`Governance.electorate_root`, the trust root current
when the proposal was created), sent with ``castVoteWithReasonAndParams``. Send each vote from a fresh address:
the governor ignores the sender, and an address used elsewhere would link the vote to its owner.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from eth_abi.abi import encode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from zkhealth._json import loads_strict
from zkhealth.chain import client
from zkhealth.chain.build import load_artifact
from zkhealth.chain.registry import TrialRegistryClient
from zkhealth.chain.solidity import to_calldata
from zkhealth.eligibility.scope import trial_scope
from zkhealth.eligibility.vote import VoteProof
from zkhealth.errors import ChainError, ChainFileError, UntrustedRootError, WrongScopeError
from zkhealth.groth16.keys import VerifyingKey

if TYPE_CHECKING:
    from zkhealth.credentials.trees import MerkleProof
    from zkhealth.eligibility.vote import VoteKeys

__all__ = ["Action", "DaoDeployment", "Governance", "Proposal", "ProposalState", "deploy_dao", "proposal_scope"]

VOTE_GAS: Final[int] = 600_000
PROPOSE_GAS: Final[int] = 1_000_000
EXECUTE_GAS: Final[int] = 1_500_000
_ZERO: Final[str] = "0x" + "00" * 20
PROPOSER_ROLE: Final[bytes] = bytes(keccak(text="PROPOSER_ROLE"))
CANCELLER_ROLE: Final[bytes] = bytes(keccak(text="CANCELLER_ROLE"))
EXECUTOR_ROLE: Final[bytes] = bytes(keccak(text="EXECUTOR_ROLE"))
DEFAULT_ADMIN_ROLE: Final[bytes] = bytes(32)
#: Most actions a proposal file may list (each becomes calldata of one governor call).
MAX_PROPOSAL_ACTIONS: Final[int] = 64


def proposal_scope(chain_id: int, governor_address: str, proposal_id: int) -> int:
    """``keccak256(abi.encode(chainid, governor, proposalId)) >> 3``: what a vote proves for."""
    return trial_scope(chain_id, governor_address, int(proposal_id).to_bytes(32, "big"))



def _whole(value: object) -> int:
    """A non-negative integer written as a JSON integer or a decimal string (never a float: ``1e400`` or ``1.5``
    would be rounded or overflow). Raises :class:`ValueError`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 78):
        raise ValueError("expected a decimal integer of at most 78 digits")
    number = int(value)
    if not 0 <= number < 2**256:
        raise ValueError("expected an integer in [0, 2^256)")
    return number

class ProposalState(enum.IntEnum):
    """OpenZeppelin's IGovernor.ProposalState."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


@dataclass(frozen=True)
class Action:
    """One call a proposal makes through the timelock."""

    target: str
    calldata: bytes
    value: int = 0

    @classmethod
    def call(cls, contract: Contract, function: str, *args: Any) -> Action:
        """``contract.function(*args)`` as an action."""
        data = contract.encode_abi(function, args=list(args))
        return cls(to_checksum_address(str(contract.address)), bytes.fromhex(data[2:]))


@dataclass(frozen=True)
class Proposal:
    """A proposal: its id, actions and description (queue and execute need all three)."""

    proposal_id: int
    actions: tuple[Action, ...]
    description: str

    @property
    def description_hash(self) -> bytes:
        return bytes(keccak(text=self.description))

    def to_json(self) -> str:
        """The proposal as a file (queue and execute need its actions and description again)."""
        body = {
            "format": "zkhealth.proposal",
            "version": 1,
            "proposalId": str(self.proposal_id),
            "description": self.description,
            "actions": [{"target": a.target, "value": str(a.value), "calldata": "0x" + a.calldata.hex()}
                        for a in self.actions],
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Proposal:
        """Parse :meth:`to_json`'s output strictly. Raises :class:`ChainFileError` (a :class:`ChainError`)."""
        obj = loads_strict(text, what="proposal", error=ChainFileError)
        if not isinstance(obj, dict) or obj.get("format") != "zkhealth.proposal" or obj.get("version") != 1:
            raise ChainFileError("not a zkhealth proposal file (format zkhealth.proposal, version 1)")
        if not isinstance(obj.get("actions"), list) or len(obj["actions"]) > MAX_PROPOSAL_ACTIONS:
            raise ChainFileError(f"a proposal file lists at most {MAX_PROPOSAL_ACTIONS} actions")
        try:
            actions = tuple(
                Action(to_checksum_address(a["target"]), bytes.fromhex(a["calldata"][2:]), _whole(a["value"]))
                for a in obj["actions"]
            )
            return cls(_whole(obj["proposalId"]), actions, str(obj["description"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ChainFileError(f"malformed proposal file: {str(exc)[:200]}") from None

    def arguments(self) -> tuple[list[str], list[int], list[bytes]]:
        return (
            [a.target for a in self.actions],
            [a.value for a in self.actions],
            [a.calldata for a in self.actions],
        )


@client.guard_rpc_methods
class Governance:
    """A deployed ZkHealthGovernor and its timelock."""

    def __init__(self, w3: Web3, governor: str, timelock: str) -> None:
        self.w3 = w3
        self.governor: Contract = w3.eth.contract(
            address=to_checksum_address(governor), abi=load_artifact("ZkHealthGovernor")["abi"]
        )
        self.timelock: Contract = w3.eth.contract(
            address=to_checksum_address(timelock), abi=load_artifact("ZkHealthTimelock")["abi"]
        )

    @property
    def address(self) -> ChecksumAddress:
        return to_checksum_address(str(self.governor.address))

    def proposal_scope(self, proposal_id: int) -> int:
        return proposal_scope(int(self.w3.eth.chain_id), self.address, proposal_id)

    def electorate_root(self, proposal_id: int) -> int:
        """The trust root whose person registry may vote on this proposal."""
        return int(self.governor.functions.proposalTrustRoot(proposal_id).call())

    def propose(self, actions: Sequence[Action], description: str, *, sender: str | None = None) -> Proposal:
        """Member: submit a proposal. Returns it with its id (what votes prove for)."""
        proposal = Proposal(0, tuple(actions), description)
        targets, values, calldatas = proposal.arguments()
        call = self.governor.functions.propose(targets, values, calldatas, description)
        receipt = client.transact_checked(self.w3, call, sender=sender, gas=PROPOSE_GAS)
        (event,) = self.governor.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
        return Proposal(int(event["args"]["proposalId"]), tuple(actions), description)

    def vote(self, proposal_id: int, vote: VoteProof, *, sender: str | None = None, reason: str = "") -> Any:
        """Member: cast an anonymous vote (its choice is the proof's). Checks first that the proof is for this
        proposal (:class:`~zkhealth.errors.WrongScopeError`) and its electorate
        (:class:`~zkhealth.errors.UntrustedRootError`), then simulates: a refusal (``NullifierAlreadyVoted``,
        ``InvalidVoteProof``, a closed vote) raises the decoded :class:`~zkhealth.errors.ContractRevertError`
        without sending. Cost: ~300,000 gas."""
        if vote.proposal_scope != self.proposal_scope(proposal_id):
            raise WrongScopeError("this vote was proven for another proposal")
        if vote.trust_root != self.electorate_root(proposal_id):
            raise UntrustedRootError("this vote was proven against another trust root than the proposal's")
        a, b, c = to_calldata(vote.proof)
        params = encode(["uint256[2]", "uint256[2][2]", "uint256[2]", "uint256"], [a, b, c, vote.nullifier])
        call = self.governor.functions.castVoteWithReasonAndParams(proposal_id, vote.choice, reason, params)
        return client.transact_checked(self.w3, call, sender=sender, gas=VOTE_GAS)

    def prove_ballot(
        self,
        keys: VoteKeys,
        proposal_id: int,
        *,
        holder_secret: int,
        registered_day: int,
        person_proof: MerkleProof,
        issuer_registry_root: int,
        choice: int,
    ) -> VoteProof:
        """Member: prove a ballot for ``proposal_id`` (reads only public chain state, sends nothing). Checks
        first that the proposal exists and its vote is not over, that the member's person-registry path and
        ``issuer_registry_root`` make the proposal's electorate root
        (:class:`~zkhealth.errors.UntrustedRootError` otherwise: a member registered after the proposal was
        created is not in its electorate) and that this person has not voted on it yet
        (:class:`~zkhealth.errors.VoteError`); then proves (about a second) and verifies the ballot in Python.
        Whoever holds the ballot can cast it (:meth:`vote`); its choice cannot be changed."""
        from zkhealth.eligibility import vote as _vote
        from zkhealth.errors import VoteError
        from zkhealth.hash.poseidon import poseidon

        state = self.state(proposal_id)
        if state not in (ProposalState.PENDING, ProposalState.ACTIVE):
            raise VoteError(f"proposal {proposal_id} is {state.name.lower()}: its vote is over")
        electorate = self.electorate_root(proposal_id)
        if _vote.trust_root(issuer_registry_root, person_proof.compute_root()) != electorate:
            raise UntrustedRootError(
                "your person-registry path and the issuer registry root do not make this proposal's electorate "
                "root (the trust root published when it was created)")
        scope = self.proposal_scope(proposal_id)
        if self.nullifier_has_voted(proposal_id, poseidon([holder_secret, scope])):
            raise VoteError(f"this person has already voted on proposal {proposal_id}")
        ballot = _vote.prove_vote(keys, holder_secret=holder_secret, registered_day=registered_day,
                                  issuer_registry_root=issuer_registry_root, person_proof=person_proof,
                                  proposal_scope=scope, choice=choice)
        _vote.verify_vote(keys.vk, ballot, proposal_scope=scope, trust_root_value=electorate)
        return ballot

    def queue(self, proposal: Proposal, *, sender: str | None = None) -> Any:
        targets, values, calldatas = proposal.arguments()
        call = self.governor.functions.queue(targets, values, calldatas, proposal.description_hash)
        return client.transact_checked(self.w3, call, sender=sender, gas=EXECUTE_GAS)

    def execute(self, proposal: Proposal, *, sender: str | None = None) -> Any:
        targets, values, calldatas = proposal.arguments()
        call = self.governor.functions.execute(targets, values, calldatas, proposal.description_hash)
        return client.transact_checked(self.w3, call, sender=sender, gas=EXECUTE_GAS)

    def state(self, proposal_id: int) -> ProposalState:
        return ProposalState(int(self.governor.functions.state(proposal_id).call()))

    def votes(self, proposal_id: int) -> tuple[int, int, int]:
        """(against, for, abstain)."""
        against, for_, abstain = self.governor.functions.proposalVotes(proposal_id).call()
        return int(against), int(for_), int(abstain)

    def nullifier_has_voted(self, proposal_id: int, nullifier: int) -> bool:
        return bool(self.governor.functions.nullifierHasVoted(proposal_id, nullifier).call())


@dataclass(frozen=True)
class DaoDeployment:
    """Everything :func:`deploy_dao` deployed."""

    registry: TrialRegistryClient
    directory: Contract
    governance: Governance
    vote_verifier: Contract
    block_number: int


@client.rpc_boundary
def deploy_dao(
    w3: Web3,
    *,
    universal_vk: VerifyingKey,
    vote_vk: VerifyingKey,
    publishers: Sequence[str] = (),
    creators: Sequence[str] = (),
    voting_delay: int = 1,
    voting_period: int = 50,
    quorum: int = 1,
    timelock_delay: int = 3600,
    sender: str | None = None,
) -> DaoDeployment:
    """Deploy the DAO (see the module docstring). ``voting_delay`` and ``voting_period`` are in blocks,
    ``timelock_delay`` in seconds, ``quorum`` in votes (for + abstain). ``publishers`` may publish trust roots
    and ``creators`` may create trials from the start; the timelock can change both later. Cost: ~20 MGas."""
    deployer = client._sender(w3, sender)
    start = int(w3.eth.block_number)
    verifier = client.deploy_verifier(w3, vote_vk, sender=deployer)
    if int(verifier.functions.publicInputCount().call()) != 4:
        raise ChainError("the vote verifying key must have 4 public signals")
    timelock_address = client._deploy(
        w3, "ZkHealthTimelock", (timelock_delay, [], [_ZERO], deployer), deployer, 6_000_000
    )
    registry = TrialRegistryClient.deploy(
        w3, universal_vk, owner=timelock_address, publishers=publishers, creators=creators, sender=deployer
    )
    directory_address = client._deploy(w3, "TrustDirectory", (timelock_address,), deployer, 3_000_000)
    governor_address = client._deploy(
        w3,
        "ZkHealthGovernor",
        (timelock_address, str(verifier.address), registry.address, voting_delay, voting_period, quorum),
        deployer,
        8_000_000,
    )
    governance = Governance(w3, governor_address, timelock_address)
    timelock = governance.timelock
    for role in (PROPOSER_ROLE, CANCELLER_ROLE):
        client.transact_checked(w3, timelock.functions.grantRole(role, governor_address), sender=deployer)
    client.transact_checked(w3, timelock.functions.renounceRole(DEFAULT_ADMIN_ROLE, deployer), sender=deployer)
    directory = w3.eth.contract(address=directory_address, abi=load_artifact("TrustDirectory")["abi"])
    return DaoDeployment(registry, directory, governance, verifier, start + 1)
