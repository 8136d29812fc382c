"""The DAO on a real node: anvil (npm @foundry-rs/anvil, pinned) on 127.0.0.1, started and stopped here.

REAL proofs throughout: the stand-in universal circuit (tests/chain_standins.py, real Groth16 keys) for enrollment
and the vote circuit (zkhealth.eligibility.vote) for votes. A sponsor funds a trial, a patient enrolls and is paid
in the same transaction, a superseded trust root is accepted within the grace period and refused after it, a
proposal to admit an issuer passes by anonymous votes and executes through the timelock (a second vote of one
person, a non-member's vote and a vote proven for another proposal are refused by the node), and the audit trail
rebuilds it all without a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import chain_standins as standins
import pytest
from eth_abi.abi import encode

from zkhealth.chain import client, devchain
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.chain.audit import audit
from zkhealth.chain.governance import Action, ProposalState, deploy_dao
from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, RewardTerms, TrialTerms, deploy_reward_token
from zkhealth.chain.solidity import to_calldata
from zkhealth.credentials.trees import QuaternaryMerkleTree
from zkhealth.eligibility import vote
from zkhealth.errors import ContractRevertError
from zkhealth.hash.poseidon import poseidon

pytestmark = [
    pytest.mark.evm,
    pytest.mark.prove,
    pytest.mark.slow,
    pytest.mark.external,
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in verifier_contracts/)"),
]

DAY = 86400
ISSUER_ROOT = 0x155
MEMBERS = (0xAA01, 0xAA02)
CONSENT = b"\x0c" * 32


def expect_revert(name: str, fn: Callable[[], Any]) -> None:
    with pytest.raises(ContractRevertError) as info:
        fn()
    assert info.value.error_name == name, str(info.value)


def raw_vote(g: Any, proposal_id: int, ballot: vote.VoteProof, sender: str) -> Any:
    """castVoteWithReasonAndParams without the client's checks (what an attacker would send)."""
    a, b, c = to_calldata(ballot.proof)
    params = encode(["uint256[2]", "uint256[2][2]", "uint256[2]", "uint256"], [a, b, c, ballot.nullifier])
    call = g.governor.functions.castVoteWithReasonAndParams(proposal_id, ballot.choice, "", params)
    return client.transact_checked(g.w3, call, sender=sender, gas=600_000)


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    node = AnvilNode()
    try:
        node.start()
        yield client.connect(node.url)
    finally:
        node.stop()


def test_dao_end_to_end_on_anvil(w3: Any) -> None:
    accounts = list(w3.eth.accounts)
    deployer, operator, recruiter, sponsor, patient = accounts[:5]
    universal = standins.universal_standin()
    keys = vote.VoteKeys.setup()
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(MEMBERS):
        people.set(index, vote.person_leaf(poseidon([secret]), 20_000))
    root = vote.trust_root(ISSUER_ROOT, people.root)
    dao = deploy_dao(w3, universal_vk=universal.vk, vote_vk=keys.vk, publishers=[operator], creators=[recruiter],
                     voting_period=10, timelock_delay=120, sender=deployer)
    dao.registry.publish_trust_root(root, sender=operator)
    token = deploy_reward_token(w3, "Reward", "RWD", owner=deployer, sender=deployer)
    client.transact(w3, token.functions.mint(sponsor, 10**21), sender=deployer)

    program = [7, 8, 9, 10]
    now = int(w3.eth.get_block("latest")["timestamp"])
    terms = TrialTerms(
        program_hash=standins.program_hash(program),
        consent_hash=CONSENT,
        window=(now - 60, now + 30 * DAY),
        capacity=10,
        owner=recruiter,
        root_grace_seconds=DAY,
        rewards=RewardTerms(token.address, sponsor, 10**18, (2 * 10**18,)),
    )
    created = dao.registry.create_trial(terms, sender=recruiter)
    dao.registry.fund(created.trial_id, 50 * 10**18, sender=sponsor)

    def enroll(secret: int, who: str) -> Any:
        today = int(w3.eth.get_block("latest")["timestamp"]) // DAY
        proof, signals = universal.prove(standins.universal_inputs(
            secret=secret, program=program, scope=created.scope, today=today, issuer_root=ISSUER_ROOT,
            person_root=people.root, recipient=who))
        consent = ConsentTerms(CONSENT, CONSENT_PURPOSES["trial-participation"], today + 60)
        return dao.registry.enroll(created.trial_id, proof, signals, consent)

    receipt = enroll(MEMBERS[0], patient)
    assert receipt["gasUsed"] <= 320_000
    assert int(token.functions.balanceOf(patient).call()) == 10**18
    # the root moves on: the old one is accepted within the grace period, refused after it
    people.set(2, vote.person_leaf(poseidon([0xAA03]), 20_001))
    dao.registry.publish_trust_root(vote.trust_root(ISSUER_ROOT, people.root), sender=operator)
    old_people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(MEMBERS):
        old_people.set(index, vote.person_leaf(poseidon([secret]), 20_000))
    assert vote.trust_root(ISSUER_ROOT, old_people.root) == root
    people_now = people
    people = old_people
    enroll(MEMBERS[1], accounts[5])
    devchain.advance_time(w3, DAY + 10)
    with pytest.raises(ContractRevertError) as info:
        enroll(0xAA04, accounts[6])
    assert info.value.error_name == "StaleRoot"
    people = people_now

    g = dao.governance
    proposal = g.propose([Action.call(dao.directory, "addIssuer", 0xC1, 0xC2, "Hospital C")], "Admit Hospital C",
                         sender=patient)
    other = g.propose([Action.call(dao.directory, "addIssuer", 0xC3, 0xC4, "Hospital D")], "Admit Hospital D",
                      sender=patient)
    devchain.mine(w3, 2)
    scope = g.proposal_scope(proposal.proposal_id)
    ballots = []
    for index, secret in enumerate(MEMBERS):
        ballot = vote.prove_vote(keys, holder_secret=secret, registered_day=20_000, issuer_registry_root=ISSUER_ROOT,
                                 person_proof=people.proof(index), proposal_scope=scope, choice=1)
        assert g.vote(proposal.proposal_id, ballot, sender=accounts[7 + index])["gasUsed"] <= 350_000
        ballots.append(ballot)
    # The node refuses, each with its own error: the same person again (from another address), a commitment
    # outside the person registry (a proof against a registry of its own), a proof for another proposal.
    expect_revert("NullifierAlreadyVoted", lambda: g.vote(proposal.proposal_id, ballots[0], sender=accounts[9]))
    own = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    own.set(0, vote.person_leaf(poseidon([0xBAD]), 20_000))
    forged = vote.prove_vote(keys, holder_secret=0xBAD, registered_day=20_000, issuer_registry_root=ISSUER_ROOT,
                             person_proof=own.proof(0), proposal_scope=scope, choice=1)
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, proposal.proposal_id, forged, accounts[9]))
    expect_revert("InvalidVoteProof", lambda: raw_vote(g, other.proposal_id, ballots[1], accounts[9]))
    assert g.votes(proposal.proposal_id) == (0, 2, 0) and g.votes(other.proposal_id) == (0, 0, 0)
    devchain.mine(w3, 11)
    g.queue(proposal, sender=patient)
    devchain.advance_time(w3, 121)
    g.execute(proposal, sender=patient)
    assert g.state(proposal.proposal_id) is ProposalState.EXECUTED
    assert dao.directory.functions.isIssuer(dao.directory.functions.issuerKey(0xC1, 0xC2).call()).call()
    report = audit(w3, registry=dao.registry.address, directory=str(dao.directory.address), governor=g.address,
                   timelock=str(g.timelock.address))
    assert report.ok, report.findings
    assert [e.event for e in report.events].count("RewardPaid") == 2
