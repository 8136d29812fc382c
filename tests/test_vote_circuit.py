"""The anonymous vote circuit (zkhealth.eligibility.vote): what it binds, valid and invalid witnesses, the Python
checks before proving, and the vote file format."""

from __future__ import annotations

import pytest

from zkhealth.credentials.trees import QuaternaryMerkleTree
from zkhealth.eligibility import vote
from zkhealth.errors import InvalidProofError, MalformedProofError, VoteError, WitnessError
from zkhealth.hash.poseidon import poseidon

SECRET = 0x1234_5678
DAY = 20_100
ISSUER_ROOT = 0xABC
SCOPE = 0x5C0BE


@pytest.fixture(scope="module")
def tree() -> QuaternaryMerkleTree:
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    people.set(5, vote.person_leaf(poseidon([SECRET]), DAY))
    people.set(6, vote.person_leaf(poseidon([SECRET + 1]), DAY))
    return people


def inputs(tree: QuaternaryMerkleTree, **overrides: object) -> dict[str, object]:
    values = vote.vote_inputs(holder_secret=SECRET, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                              person_proof=tree.proof(5), proposal_scope=SCOPE, choice=1)
    values.update(overrides)
    return values


@pytest.mark.witness
def test_public_signals_and_size(tree: QuaternaryMerkleTree) -> None:
    compiled = vote.compile_vote_circuit()
    assert compiled.r1cs.n_constraints == 4584
    assert compiled.public_input_names == ["proposal_scope", "choice", "trust_root"]
    witness = compiled.solve_witness(inputs(tree))
    nullifier, scope, choice, root = compiled.public_signals(witness)
    assert nullifier == poseidon([SECRET, SCOPE])
    assert (scope, choice, root) == (SCOPE, 1, vote.trust_root(ISSUER_ROOT, tree.root))


@pytest.mark.witness
@pytest.mark.parametrize("field, value", [
    ("choice", 3),                  # not against / for / abstain
    ("choice", -1 % (2**254)),      # a huge "choice"
    ("trust_root", 12345),          # another electorate's root
    ("registered_day", DAY + 1),    # a leaf that is not in the registry
    ("holder_secret", SECRET + 1),  # another person's secret on this person's path
    ("person_registry_root", 77),   # a registry root that is not the path's
])
def test_invalid_witnesses_are_refused(tree: QuaternaryMerkleTree, field: str, value: int) -> None:
    compiled = vote.compile_vote_circuit()
    with pytest.raises(WitnessError):
        compiled.solve_witness(inputs(tree, **{field: value}))


@pytest.mark.native
def test_python_checks_before_proving(tree: QuaternaryMerkleTree) -> None:
    with pytest.raises(VoteError):
        vote.vote_inputs(holder_secret=SECRET, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                         person_proof=tree.proof(5), proposal_scope=SCOPE, choice=3)
    with pytest.raises(VoteError):  # a non-member: the slot's leaf is not theirs
        vote.vote_inputs(holder_secret=0xBAD, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                         person_proof=tree.proof(5), proposal_scope=SCOPE, choice=1)
    with pytest.raises(VoteError):
        vote.vote_inputs(holder_secret=SECRET, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                         person_proof=tree.proof(0), proposal_scope=SCOPE, choice=True)


@pytest.mark.prove
def test_prove_verify_and_vote_file(tree: QuaternaryMerkleTree) -> None:
    keys = vote.VoteKeys.setup()
    ballot = vote.prove_vote(keys, holder_secret=SECRET, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                             person_proof=tree.proof(5), proposal_scope=SCOPE, choice=2)
    root = vote.trust_root(ISSUER_ROOT, tree.root)
    vote.verify_vote(keys.vk, ballot, proposal_scope=SCOPE, trust_root_value=root)
    with pytest.raises(InvalidProofError):
        vote.verify_vote(keys.vk, ballot, proposal_scope=SCOPE + 1, trust_root_value=root)
    with pytest.raises(InvalidProofError):
        vote.verify_vote(keys.vk, ballot, proposal_scope=SCOPE, trust_root_value=root + 1)
    changed = vote.VoteProof(ballot.proof, (ballot.nullifier, SCOPE, 1, root))  # the relayer flips the choice
    with pytest.raises(InvalidProofError):
        vote.verify_vote(keys.vk, changed, proposal_scope=SCOPE, trust_root_value=root)
    again = vote.VoteProof.from_json(ballot.to_json())
    assert again == ballot
    other_proposal = vote.prove_vote(keys, holder_secret=SECRET, registered_day=DAY, issuer_registry_root=ISSUER_ROOT,
                                     person_proof=tree.proof(5), proposal_scope=SCOPE + 1, choice=2)
    assert other_proposal.nullifier != ballot.nullifier  # unlinkable across proposals
    for bad in ("{}", '{"format": "zkhealth.vote", "version": 2, "proof": {}, "public": []}',
                ballot.to_json().replace('"version": 1', '"version": 1, "version": 1')):
        with pytest.raises(MalformedProofError):
            vote.VoteProof.from_json(bad)
