"""The anonymous vote circuit: one person, one vote, per proposal, without revealing who.

It proves, for a private ``holder_secret``, ``registered_day``, ``issuer_registry_root`` and a Merkle path:

1. ``leaf = poseidon([poseidon([holder_secret]), registered_day])`` is a leaf of the person registry (a
   quaternary Poseidon tree of depth 12, 16.7M people; the leaf layout of the person registry) with root
   ``person_registry_root``;
2. ``trust_root = poseidon([issuer_registry_root, person_registry_root])``: the same public trust root that
   eligibility proofs use, so the contracts need one published root for both;
3. ``nullifier = poseidon([holder_secret, proposal_scope])``: one nullifier per person and proposal, unlinkable
   across proposals and to the person's trial enrollments (whose scopes differ);
4. ``choice`` is 0 (against), 1 (for) or 2 (abstain), in the non-linear constraint ``choice * (choice - 1) *
   (choice - 2) = 0``: the choice is bound to the proof, so whoever relays the vote cannot change it.

Public signals, in order: ``[nullifier, proposal_scope, choice, trust_root]`` (the nullifier is the circuit's
output, wire 1). ``proposal_scope = keccak256(abi.encode(chainid, governor, proposalId)) >> 3``, computed by the
governor (``zkhealth.chain.governance.proposal_scope`` in Python).

The holder secret is not range-checked, for the reason given in :mod:`zkhealth.eligibility.dedicated`: it only
enters Poseidon. The registration day is not compared with anything here; the governor fixes the electorate by
accepting only the trust root current when the proposal was created (docs/dao.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from zkhealth import groth16
from zkhealth._json import loads_strict
from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.merkle import assert_quaternary_merkle_inclusion
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.credentials.persons import PERSON_REGISTRY_DEPTH, person_leaf
from zkhealth.credentials.trees import MerkleProof, verify_merkle_proof
from zkhealth.credentials.trust import trust_root
from zkhealth.errors import InvalidProofError, MalformedProofError, MerkleProofError, VoteError
from zkhealth.field import FIELD_R
from zkhealth.formats.snarkjs_json import parse_public_signal, proof_from_dict, proof_to_dict
from zkhealth.groth16.keys import Proof, ProvingKey, VerifyingKey
from zkhealth.hash.poseidon import poseidon as poseidon_native

__all__ = [
    "CHOICES",
    "PERSON_MEMBERSHIP_FORMAT",
    "PERSON_REGISTRY_DEPTH",
    "VOTE_CIRCUIT_NAME",
    "VOTE_FORMAT",
    "VOTE_PUBLIC_SIGNALS",
    "VoteKeys",
    "VoteProof",
    "compile_vote_circuit",
    "person_leaf",
    "person_membership_from_json",
    "person_membership_to_json",
    "prove_vote",
    "trust_root",
    "verify_vote",
    "vote_circuit",
    "vote_inputs",
]

VOTE_CIRCUIT_NAME: Final[str] = "anonymous-vote"
#: The ``format`` of a vote file (:meth:`VoteProof.to_json`).
VOTE_FORMAT: Final[str] = "zkhealth.vote"
#: The public signals, in wire order.
VOTE_PUBLIC_SIGNALS: Final[tuple[str, ...]] = ("nullifier", "proposal_scope", "choice", "trust_root")
#: Governor Bravo's vote types: 0 against, 1 for, 2 abstain.
CHOICES: Final[dict[str, int]] = {"against": 0, "for": 1, "abstain": 2}


def vote_circuit() -> Callable[[Builder], None]:
    """The circuit description ``define(b)`` (see the module docstring for what it proves)."""

    def define(b: Builder) -> None:
        proposal_scope = b.public_input("proposal_scope")
        choice = b.public_input("choice")
        public_trust_root = b.public_input("trust_root")
        holder_secret = b.private_input("holder_secret")
        registered_day = b.private_input("registered_day")
        issuer_registry_root = b.private_input("issuer_registry_root")
        flat = b.private_inputs("person_siblings", 3 * PERSON_REGISTRY_DEPTH)
        bits = b.private_inputs("person_path_bits", 2 * PERSON_REGISTRY_DEPTH)
        with b.scope("membership"):
            commitment = poseidon(b, [holder_secret])
            leaf = poseidon(b, [commitment, registered_day])
            siblings = [flat[3 * k : 3 * k + 3] for k in range(PERSON_REGISTRY_DEPTH)]
            person_root = b.private_input("person_registry_root")
            assert_quaternary_merkle_inclusion(b, leaf, person_root, siblings, bits)
        with b.scope("trust_root"):
            b.assert_equal(poseidon(b, [issuer_registry_root, person_root]), public_trust_root)
        with b.scope("choice"):
            # choice * (choice - 1) * (choice - 2) == 0: choice in {0, 1, 2}, bound non-linearly (C8).
            b.assert_equal(b.mul(b.mul(choice, choice - 1), choice - 2), 0)
        with b.scope("nullifier"):
            b.output("nullifier", poseidon(b, [holder_secret, proposal_scope]))

    return define


def compile_vote_circuit() -> CompiledCircuit:
    """Compile the vote circuit (lints on). Cost: well under a second; about 4,700 constraints."""
    return compile(vote_circuit(), name=VOTE_CIRCUIT_NAME)


def _field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise VoteError(f"{what} must be a field element (an int in [0, r))")
    return value


def vote_inputs(
    *,
    holder_secret: int,
    registered_day: int,
    issuer_registry_root: int,
    person_proof: MerkleProof,
    proposal_scope: int,
    choice: int,
) -> dict[str, object]:
    """The solver inputs. Checks the shapes, that ``choice`` is 0, 1 or 2, and that the holder's leaf is in the
    person registry under the proof's root (:class:`VoteError` otherwise, before any proving)."""
    if isinstance(choice, bool) or choice not in CHOICES.values():
        raise VoteError("choice must be 0 (against), 1 (for) or 2 (abstain)")
    if not isinstance(person_proof, MerkleProof) or person_proof.depth != PERSON_REGISTRY_DEPTH:
        raise VoteError(f"person_proof must be a MerkleProof of depth {PERSON_REGISTRY_DEPTH}")
    secret = _field(holder_secret, "holder_secret")
    day = _field(registered_day, "registered_day")
    expected = person_leaf(poseidon_native([secret]), day)
    if person_proof.leaf != expected:
        raise VoteError("the person registry proof is for another leaf than this holder's")
    person_root = person_proof.compute_root()
    try:
        verify_merkle_proof(person_root, person_proof, depth=PERSON_REGISTRY_DEPTH)
    except MerkleProofError as exc:
        raise VoteError(f"the person registry proof does not verify: {exc}") from exc
    return {
        "proposal_scope": _field(proposal_scope, "proposal_scope"),
        "choice": choice,
        "trust_root": trust_root(_field(issuer_registry_root, "issuer_registry_root"), person_root),
        "holder_secret": secret,
        "registered_day": day,
        "issuer_registry_root": issuer_registry_root,
        "person_registry_root": person_root,
        "person_siblings": list(person_proof.flat_siblings),
        "person_path_bits": list(person_proof.path_bits),
    }


@dataclass(frozen=True)
class VoteKeys:
    """The vote circuit's compiled form and Groth16 keys. :meth:`setup` makes development keys (one process
    holds the toxic waste: a ceremony's keys replace them in production)."""

    circuit: CompiledCircuit
    pk: ProvingKey
    vk: VerifyingKey

    @classmethod
    def setup(cls, circuit: CompiledCircuit | None = None) -> VoteKeys:
        """Compile (unless given) and run a development setup. Cost: a few seconds."""
        compiled = compile_vote_circuit() if circuit is None else circuit
        pk, vk = groth16.setup(compiled.r1cs)
        return cls(compiled, pk, vk)

    @classmethod
    def from_proving_key(cls, pk: ProvingKey) -> VoteKeys:
        """The keys of a vote proving key (ours or a snarkjs ``.zkey``, from the DAO's setup or ceremony).
        Compiles the vote circuit and checks the key was made for it: four public signals and the circuit's
        wire and constraint counts (:class:`VoteError` otherwise). The on-chain verifier is the last judge:
        a ballot proven with any other key is refused there (``InvalidVoteProof``)."""
        compiled = compile_vote_circuit()
        r1cs = compiled.r1cs
        if (
            pk.vk.n_public != len(VOTE_PUBLIC_SIGNALS)
            or pk.n_wires != r1cs.n_wires
            or (pk.n_constraints is not None and pk.n_constraints != r1cs.n_constraints)
        ):
            raise VoteError("this proving key was not made for the anonymous vote circuit")
        return cls(compiled, pk, pk.vk)


@dataclass(frozen=True)
class VoteProof:
    """A vote: the Groth16 proof and its four public signals ``[nullifier, proposal_scope, choice,
    trust_root]``."""

    proof: Proof
    public: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        if len(self.public) != len(VOTE_PUBLIC_SIGNALS):
            raise MalformedProofError("a vote has four public signals")
        for index, value in enumerate(self.public):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
                raise MalformedProofError(f"vote public signal {index} is not a field element")

    def to_json(self) -> str:
        """``{"format": "zkhealth.vote", "version": 1, "proof": <snarkjs proof.json>, "public": [4 decimals]}``."""
        body = {
            "format": VOTE_FORMAT,
            "version": 1,
            "proof": proof_to_dict(self.proof),
            "public": [str(v) for v in self.public],
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> VoteProof:
        """Parse :meth:`to_json`'s output strictly. Raises :class:`MalformedProofError`."""
        obj = loads_strict(text, what="vote", error=MalformedProofError)
        if not isinstance(obj, dict) or set(obj) != {"format", "version", "proof", "public"}:
            raise MalformedProofError("a vote file has exactly format, version, proof and public")
        if obj["format"] != VOTE_FORMAT or obj["version"] != 1:
            raise MalformedProofError("not a zkhealth vote file (format zkhealth.vote, version 1)")
        public = obj["public"]
        if not isinstance(public, list) or len(public) != len(VOTE_PUBLIC_SIGNALS):
            raise MalformedProofError("a vote has four public signals")
        values = [parse_public_signal(v, i) for i, v in enumerate(public)]
        return cls(proof_from_dict(obj["proof"]), (values[0], values[1], values[2], values[3]))

    @property
    def nullifier(self) -> int:
        return self.public[0]

    @property
    def proposal_scope(self) -> int:
        return self.public[1]

    @property
    def choice(self) -> int:
        return self.public[2]

    @property
    def trust_root(self) -> int:
        return self.public[3]


def prove_vote(
    keys: VoteKeys,
    *,
    holder_secret: int,
    registered_day: int,
    issuer_registry_root: int,
    person_proof: MerkleProof,
    proposal_scope: int,
    choice: int,
) -> VoteProof:
    """Prove a vote (see :func:`vote_inputs` for the checks done first). Cost: about a second."""
    inputs = vote_inputs(
        holder_secret=holder_secret,
        registered_day=registered_day,
        issuer_registry_root=issuer_registry_root,
        person_proof=person_proof,
        proposal_scope=proposal_scope,
        choice=choice,
    )
    witness = keys.circuit.solve_witness(inputs)
    proof = groth16.prove(keys.pk, witness)
    signals = keys.circuit.public_signals(witness)
    return VoteProof(proof, (signals[0], signals[1], signals[2], signals[3]))


def verify_vote(vk: VerifyingKey, vote: VoteProof, *, proposal_scope: int, trust_root_value: int) -> None:
    """Verify a vote for this proposal and electorate in Python. Raises :class:`InvalidProofError` for another
    proposal or trust root, or a proof that does not verify."""
    if vote.proposal_scope != proposal_scope:
        raise InvalidProofError("the vote is for another proposal")
    if vote.trust_root != trust_root_value:
        raise InvalidProofError("the vote is against another trust root than the proposal's")
    groth16.verify(vk, list(vote.public), vote.proof)


#: The ``format`` of a person-registry membership document (what a registrar hands to a registered person).
PERSON_MEMBERSHIP_FORMAT: Final[str] = "zkhealth.person-membership"


def person_membership_to_json(registered_day: int, proof: MerkleProof) -> str:
    """A person-registry membership as JSON: ``{"format": "zkhealth.person-membership", "version": 1,
    "registeredDay": day, "root": decimal, "merkle": <MerkleProof.to_dict()>}``, the root being the one the
    path leads to."""
    if isinstance(registered_day, bool) or not isinstance(registered_day, int) or not 0 <= registered_day < 2**32:
        raise VoteError("registered_day must be an epoch day in [0, 2^32)")
    if not isinstance(proof, MerkleProof) or proof.depth != PERSON_REGISTRY_DEPTH:
        raise VoteError(f"a person registry path has {PERSON_REGISTRY_DEPTH} levels")
    body = {"format": PERSON_MEMBERSHIP_FORMAT, "version": 1, "registeredDay": registered_day,
            "root": str(proof.compute_root()), "merkle": proof.to_dict()}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def person_membership_from_json(text: str | bytes) -> tuple[int, MerkleProof]:
    """Parse :func:`person_membership_to_json`'s output strictly: ``(registered_day, path)``. The path must have
    :data:`PERSON_REGISTRY_DEPTH` levels and lead to the stated root. Raises :class:`EncodingError`."""
    from zkhealth.errors import EncodingError
    from zkhealth.field import parse_field_element

    obj = loads_strict(text, what="person membership", error=EncodingError)
    if not isinstance(obj, dict) or set(obj) != {"format", "version", "registeredDay", "root", "merkle"}:
        raise EncodingError("a person membership has exactly format, version, registeredDay, root and merkle")
    if obj["format"] != PERSON_MEMBERSHIP_FORMAT or obj["version"] != 1:
        raise EncodingError("not a zkhealth person membership (format zkhealth.person-membership, version 1)")
    day = obj["registeredDay"]
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < 2**32:
        raise EncodingError("registeredDay must be an epoch day in [0, 2^32)")
    proof = MerkleProof.from_dict(obj["merkle"])
    if proof.depth != PERSON_REGISTRY_DEPTH:
        raise EncodingError(f"a person registry path has {PERSON_REGISTRY_DEPTH} levels")
    if parse_field_element(obj["root"], what="person registry root") != proof.compute_root():
        raise EncodingError("the person registry path does not lead to the stated root")
    return day, proof
