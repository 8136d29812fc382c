"""The patients' DAO with REAL anonymous-vote proofs (the vote circuit of zkhealth.eligibility.vote, keys from
zkhealth's setup): the governance path changes a registry; a second vote with one nullifier, a non-member's vote
and a proof for another proposal are refused; the audit trail rebuilds the history.

The full path runs on stock py-evm (its own py_ecc pairing); the refusals run with the fast pairing. The universal
eligibility key is a trapdoor key (tests/chain_testkeys.py): no enrollment happens here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import chain_testkeys as testkeys
import pytest
from eth_abi.abi import encode

from zkhealth.chain import client, devchain
from zkhealth.chain.audit import audit
from zkhealth.chain.governance import Action, DaoDeployment, Proposal, ProposalState, deploy_dao
from zkhealth.chain.solidity import to_calldata
from zkhealth.credentials.trees import QuaternaryMerkleTree
from zkhealth.eligibility import vote
from zkhealth.errors import ContractRevertError, UntrustedRootError, VoteError, WrongScopeError
from zkhealth.hash.poseidon import poseidon

pytestmark = [pytest.mark.evm, pytest.mark.prove]

ISSUER_ROOT = 0xA11CE
REGISTERED_DAY = 20_000
MEMBERS = (0x5EC1, 0x5EC2, 0x5EC3)
OUTSIDER = 0xBAD


@dataclass
class Electorate:
    keys: vote.VoteKeys
    tree: QuaternaryMerkleTree

    @property
    def root(self) -> int:
        return vote.trust_root(ISSUER_ROOT, self.tree.root)

    def prove(
        self, secret: int, scope: int, choice: int, *, tree: QuaternaryMerkleTree | None = None
    ) -> vote.VoteProof:
        source = tree or self.tree
        index = next(i for i in range(16) if source.leaf(i) == vote.person_leaf(poseidon([secret]), REGISTERED_DAY))
        return vote.prove_vote(
            self.keys,
            holder_secret=secret,
            registered_day=REGISTERED_DAY,
            issuer_registry_root=ISSUER_ROOT,
            person_proof=source.proof(index),
            proposal_scope=scope,
            choice=choice,
        )


@pytest.fixture(scope="module")
def electorate() -> Electorate:
    tree = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(MEMBERS):
        tree.set(index, vote.person_leaf(poseidon([secret]), REGISTERED_DAY))
    return Electorate(vote.VoteKeys.setup(), tree)


def make_dao(electorate: Electorate, *, fast: bool) -> tuple[Any, DaoDeployment]:
    w3 = client.connect(client.embedded_provider(fast_pairing=fast))
    accounts = list(w3.eth.accounts)
    dao = deploy_dao(
        w3,
        universal_vk=testkeys.TrapdoorKey.generate(6, seed=3).key(),
        vote_vk=electorate.keys.vk,
        publishers=[accounts[9]],
        voting_period=20,
        quorum=2,
        timelock_delay=600,
    )
    dao.registry.publish_trust_root(electorate.root, sender=accounts[9])
    return w3, dao


def expect_revert(name: str, fn: Callable[[], Any]) -> None:
    with pytest.raises(ContractRevertError) as info:
        fn()
    assert info.value.error_name == name, str(info.value)


def admit_issuer(dao: DaoDeployment, proposer: str, label: str = "Hospital B") -> Proposal:
    action = Action.call(dao.directory, "addIssuer", 0xB1, 0xB2, label)
    return dao.governance.propose([action], f"Admit {label}", sender=proposer)


@pytest.mark.slow
def test_governance_path_changes_a_registry_on_stock_py_evm(electorate: Electorate) -> None:
    w3, dao = make_dao(electorate, fast=False)
    accounts = list(w3.eth.accounts)
    g = dao.governance
    key = dao.directory.functions.issuerKey(0xB1, 0xB2).call()
    assert not dao.directory.functions.isIssuer(key).call()
    # the deployer kept no power: only the timelock owns the registries
    expect_revert("OwnableUnauthorizedAccount",
                  lambda: client.transact_checked(w3, dao.directory.functions.addIssuer(1, 2, "x"), sender=accounts[0]))
    proposal = admit_issuer(dao, accounts[1])
    assert g.state(proposal.proposal_id) is ProposalState.PENDING
    assert g.electorate_root(proposal.proposal_id) == electorate.root
    devchain.mine(w3, 2)
    scope = g.proposal_scope(proposal.proposal_id)
    gas = []
    for index, (secret, choice) in enumerate(zip(MEMBERS, (1, 1, 0), strict=True)):
        receipt = g.vote(proposal.proposal_id, electorate.prove(secret, scope, choice), sender=accounts[5 + index])
        gas.append(receipt["gasUsed"])
    assert max(gas) <= 350_000
    assert g.votes(proposal.proposal_id) == (1, 2, 0)
    devchain.mine(w3, 21)
    assert g.state(proposal.proposal_id) is ProposalState.SUCCEEDED
    g.queue(proposal, sender=accounts[1])
    expect_revert("TimelockUnexpectedOperationState", lambda: g.execute(proposal, sender=accounts[2]))
    devchain.advance_time(w3, 601)
    g.execute(proposal, sender=accounts[2])
    assert g.state(proposal.proposal_id) is ProposalState.EXECUTED
    assert dao.directory.functions.isIssuer(key).call()
    report = audit(
        w3,
        registry=dao.registry.address,
        directory=str(dao.directory.address),
        governor=g.address,
        timelock=str(g.timelock.address),
    )
    assert report.ok, report.findings
    names = [e.event for e in report.events]
    for expected in ("TrustRootUpdated", "ProposalCreated", "AnonymousVoteCast", "ProposalQueued", "IssuerAdded",
                     "ProposalExecuted"):
        assert expected in names
    assert names.count("AnonymousVoteCast") == 3


@pytest.mark.slow
def test_votes_are_one_per_person_member_only_and_per_proposal(electorate: Electorate) -> None:
    w3, dao = make_dao(electorate, fast=True)
    accounts = list(w3.eth.accounts)
    g = dao.governance
    a = admit_issuer(dao, accounts[1], "Hospital B")
    b = admit_issuer(dao, accounts[1], "Hospital C")
    devchain.mine(w3, 2)
    scope_a = g.proposal_scope(a.proposal_id)
    ballot = electorate.prove(MEMBERS[0], scope_a, 1)
    g.vote(a.proposal_id, ballot, sender=accounts[5])
    # the same person again, from another address, even with a fresh proof and another choice
    expect_revert("NullifierAlreadyVoted", lambda: g.vote(a.proposal_id, ballot, sender=accounts[6]))
    again = electorate.prove(MEMBERS[0], scope_a, 0)
    assert again.nullifier == ballot.nullifier
    expect_revert("NullifierAlreadyVoted", lambda: g.vote(a.proposal_id, again, sender=accounts[7]))
    assert g.nullifier_has_voted(a.proposal_id, ballot.nullifier)
    # a proof for proposal A does not count for proposal B
    with pytest.raises(WrongScopeError):
        g.vote(b.proposal_id, electorate.prove(MEMBERS[1], scope_a, 1), sender=accounts[5])
    replay = electorate.prove(MEMBERS[1], scope_a, 1)
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, b.proposal_id, replay, accounts[5]))
    # a non-member: not in the registry, so no proof against the electorate's root exists
    with pytest.raises(VoteError):
        vote.prove_vote(electorate.keys, holder_secret=OUTSIDER, registered_day=REGISTERED_DAY,
                        issuer_registry_root=ISSUER_ROOT, person_proof=electorate.tree.proof(7),
                        proposal_scope=scope_a, choice=1)
    own_tree = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    own_tree.set(0, vote.person_leaf(poseidon([OUTSIDER]), REGISTERED_DAY))
    forged = electorate.prove(OUTSIDER, scope_a, 1, tree=own_tree)  # a proof against a registry of its own
    with pytest.raises(UntrustedRootError):
        g.vote(a.proposal_id, forged, sender=accounts[8])
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, a.proposal_id, forged, accounts[8]))
    # a vote without a proof, and a proof whose choice was changed by the relayer
    expect_revert("VoteProofRequired", lambda: client.transact_checked(
        w3, g.governor.functions.castVote(a.proposal_id, 1), sender=accounts[8], gas=600_000))
    honest = electorate.prove(MEMBERS[2], scope_a, 0)
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, a.proposal_id, honest, accounts[8], choice=1))
    assert g.votes(a.proposal_id) == (0, 1, 0)
    assert g.votes(b.proposal_id) == (0, 0, 0)


def test_electorate_is_fixed_when_the_proposal_is_created(electorate: Electorate) -> None:
    w3, dao = make_dao(electorate, fast=True)
    accounts = list(w3.eth.accounts)
    g = dao.governance
    proposal = admit_issuer(dao, accounts[1])
    # a person registered after the proposal was created is in the new root, not in the proposal's electorate
    newcomer = 0x5EC9
    grown = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate((*MEMBERS, newcomer)):
        grown.set(index, vote.person_leaf(poseidon([secret]), REGISTERED_DAY))
    dao.registry.publish_trust_root(vote.trust_root(ISSUER_ROOT, grown.root), sender=accounts[9])
    devchain.mine(w3, 2)
    late = electorate.prove(newcomer, g.proposal_scope(proposal.proposal_id), 1, tree=grown)
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, proposal.proposal_id, late, accounts[5]))
    devchain.mine(w3, 25)
    assert g.state(proposal.proposal_id) is ProposalState.DEFEATED


def raw_vote(g: Any, proposal_id: int, ballot: vote.VoteProof, sender: str, *, choice: int | None = None) -> Any:
    """castVoteWithReasonAndParams without the client's checks (what an attacker would send)."""
    a, b, c = to_calldata(ballot.proof)
    params = encode(["uint256[2]", "uint256[2][2]", "uint256[2]", "uint256"], [a, b, c, ballot.nullifier])
    call = g.governor.functions.castVoteWithReasonAndParams(
        proposal_id, ballot.choice if choice is None else choice, "", params
    )
    return client.transact_checked(g.w3, call, sender=sender, gas=600_000)


@pytest.mark.native
def test_proposal_files_refuse_numbers_that_are_not_whole() -> None:
    """A proposal id or value written as a float (``1e400`` overflowed, ``1.5`` would be rounded), a bool, a
    signed or oversized string is a ChainFileError; a decimal string or a JSON integer reads back exactly."""
    from zkhealth.errors import ChainFileError

    action = '{"target": "0x5fbdb2315678afecb367f032d93f642f64180aa3", "value": %s, "calldata": "0x1234"}'
    text = '{"format": "zkhealth.proposal", "version": 1, "proposalId": %s, "description": "fund", "actions": [%s]}'
    for pid, value in (("1e400", '"0"'), ("1.5", '"0"'), ("true", '"0"'), ('"-1"', '"0"'), ('"1" ', "1e400"),
                       ("1", '"0x10"'), ("1", '"' + "9" * 79 + '"'), (str(2**256), '"0"')):
        with pytest.raises(ChainFileError):
            Proposal.from_json(text % (pid, action % value))
    parsed = Proposal.from_json(text % ('"7"', action % "12"))
    assert parsed.proposal_id == 7 and parsed.actions[0].value == 12
    assert Proposal.from_json(parsed.to_json()) == parsed
