"""Merkle gadgets (zkhealth.circuit.gadgets.merkle) against their native twins, with adversarial witnesses."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets import PINNED_COUNTS_PATH, merkle
from zkhealth.circuit.gadgets.merkle import (
    assert_binary_merkle_inclusion,
    assert_indexed_non_membership,
    assert_quaternary_merkle_inclusion,
    assert_sparse_merkle_inclusion,
    assert_sparse_merkle_non_inclusion,
    binary_merkle_root,
    binary_merkle_root_native,
    indexed_non_membership_native,
    quaternary_merkle_root,
    quaternary_merkle_root_native,
)
from zkhealth.circuit.gadgets.poseidon import poseidon as poseidon_gadget
from zkhealth.credentials.trees import (
    BinaryMerkleTree,
    IssuerRegistry,
    QuaternaryMerkleTree,
    RevocationTree,
    compute_binary_merkle_root,
)
from zkhealth.errors import CircuitDefinitionError, UnsatisfiedConstraintError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon as poseidon_native
from zkhealth.testing import ConstraintCountSnapshot, assert_no_witness, check_circuit

pytestmark = pytest.mark.witness

ID_BOUND = 1 << 128


def flat(triples: Sequence[Sequence[int]]) -> list[int]:
    return [v for triple in triples for v in triple]


def triples_of(signals: Sequence[Any]) -> list[list[Any]]:
    return [list(signals[3 * i : 3 * i + 3]) for i in range(len(signals) // 3)]


# --------------------------------------------------------------------------- circuits


def quaternary_root_circuit(depth: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        leaf = b.private_input("leaf")
        siblings = b.private_inputs("siblings", 3 * depth)
        bits = b.private_inputs("path", 2 * depth)
        b.output("root", quaternary_merkle_root(b, leaf, triples_of(siblings), bits))

    return define


def quaternary_inclusion_circuit(depth: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        root = b.public_input("root")
        leaf = b.private_input("leaf")
        siblings = b.private_inputs("siblings", 3 * depth)
        bits = b.private_inputs("path", 2 * depth)
        assert_quaternary_merkle_inclusion(b, leaf, root, triples_of(siblings), bits)

    return define


def issuer_membership_circuit(b: Builder) -> None:
    """The registry check of the eligibility circuit: the issuer key hashed to a leaf, then inclusion."""
    root = b.public_input("trusted_issuer_root")
    ax, ay = b.private_input("ax"), b.private_input("ay")
    siblings = b.private_inputs("siblings", 15)
    bits = b.private_inputs("path", 10)
    leaf = poseidon_gadget(b, [ax, ay])
    assert_quaternary_merkle_inclusion(b, leaf, root, triples_of(siblings), bits)


def non_membership_circuit(depth: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        root = b.public_input("revocation_root")
        credential_id = b.private_input("credential_id")
        low, nxt = b.private_input("low"), b.private_input("next")
        siblings = b.private_inputs("siblings", 3 * depth)
        bits = b.private_inputs("path", 2 * depth)
        assert_indexed_non_membership(b, root, credential_id, low, nxt, triples_of(siblings), bits)

    return define


def binary_root_circuit(depth: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        leaf = b.private_input("leaf")
        siblings = b.private_inputs("siblings", depth)
        bits = b.private_inputs("path", depth)
        b.output("root", binary_merkle_root(b, leaf, siblings, bits))

    return define


def binary_inclusion_circuit(depth: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        root = b.public_input("root")
        leaf = b.private_input("leaf")
        siblings = b.private_inputs("siblings", depth)
        bits = b.private_inputs("path", depth)
        assert_binary_merkle_inclusion(b, leaf, root, siblings, bits)

    return define


def sparse_circuit(depth: int, *, inclusion: bool) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        root = b.public_input("root")
        key = b.private_input("key")
        siblings = b.private_inputs("siblings", depth)
        if inclusion:
            assert_sparse_merkle_inclusion(b, root, key, b.private_input("leaf"), siblings)
        else:
            assert_sparse_merkle_non_inclusion(b, root, key, siblings)

    return define


_COMPILED: dict[str, CompiledCircuit] = {}


def compiled(name: str, define: Callable[[Builder], None]) -> CompiledCircuit:
    """Compile once per test session (the depth-16 circuits take about a second)."""
    if name not in _COMPILED:
        _COMPILED[name] = compile(define, name=name)
    return _COMPILED[name]


def accepts(circuit: CompiledCircuit, inputs: dict[str, Any]) -> bool:
    try:
        circuit.solve_witness(inputs)
    except WitnessError:
        return False
    return True


# --------------------------------------------------------------------------- quaternary


def test_quaternary_root_matches_native_tree() -> None:
    rng = random.Random(1)
    tree = QuaternaryMerkleTree(3)
    tree.set_many({rng.randrange(64): rng.randrange(1, FIELD_R) for _ in range(20)})
    circuit = compiled("quaternary_root_3", quaternary_root_circuit(3))
    for index in (0, 1, 2, 3, 5, 22, 63):
        proof = tree.proof(index)
        inputs = {"leaf": proof.leaf, "siblings": flat(proof.siblings), "path": list(proof.path_bits)}
        witness = circuit.solve_witness(inputs)
        assert circuit.output_values(witness)["root"] == tree.root
        assert quaternary_merkle_root_native(proof.leaf, proof.siblings, proof.path_bits) == tree.root
        circuit.r1cs.check_witness(witness)


def test_quaternary_root_with_check_circuit() -> None:
    """The kit's reviewer pass: valid cases give the native root, a tampered root wire is rejected."""
    tree = QuaternaryMerkleTree(2)
    tree.set_many({1: 5, 6: 7, 15: 9})
    valid = []
    for index in (1, 6, 15, 0):
        proof = tree.proof(index)
        inputs = {"leaf": proof.leaf, "siblings": flat(proof.siblings), "path": list(proof.path_bits)}
        valid.append((inputs, {"root": tree.root}))
    bad_bit = dict(valid[0][0], path=[2, 0, 0, 0])
    check_circuit(quaternary_root_circuit(2), valid, [bad_bit])


def test_quaternary_inclusion_valid_and_tampered() -> None:
    rng = random.Random(2)
    tree = QuaternaryMerkleTree(3)
    tree.set_many({i: rng.randrange(1, FIELD_R) for i in range(0, 64, 3)})
    circuit = compiled("quaternary_inclusion_3", quaternary_inclusion_circuit(3))
    proof = tree.proof(9)
    assert list(proof.flat_siblings) == flat(proof.siblings)
    good = {"root": tree.root, "leaf": proof.leaf, "siblings": list(proof.flat_siblings), "path": list(proof.path_bits)}
    circuit.r1cs.check_witness(circuit.solve_witness(good))
    wrong_sibling = dict(
        good, siblings=[*good["siblings"][:4], (good["siblings"][4] + 1) % FIELD_R, *good["siblings"][5:]]
    )
    wrong_leaf = dict(good, leaf=(proof.leaf + 1) % FIELD_R)
    wrong_path = dict(good, path=list(tree.proof(10).path_bits))
    wrong_root = dict(good, root=(tree.root + 1) % FIELD_R)
    for bad in (wrong_sibling, wrong_leaf, wrong_path, wrong_root):
        with pytest.raises(UnsatisfiedConstraintError):
            circuit.solve_witness(bad)


def test_zero_leaf_is_not_a_member() -> None:
    """security.md C13: the empty slot hashes to the root, yet the inclusion gadget refuses it."""
    tree = QuaternaryMerkleTree(3)
    tree.set(0, 1234)
    proof = tree.proof(6)
    assert proof.leaf == 0
    inputs = {"leaf": 0, "siblings": flat(proof.siblings), "path": list(proof.path_bits)}
    root_circuit = compiled("quaternary_root_3", quaternary_root_circuit(3))
    assert root_circuit.output_values(root_circuit.solve_witness(inputs))["root"] == tree.root
    inclusion = compiled("quaternary_inclusion_3", quaternary_inclusion_circuit(3))
    with pytest.raises(WitnessError):
        inclusion.solve_witness(dict(inputs, root=tree.root))


def forged_level0(tree: QuaternaryMerkleTree, index: int) -> dict[str, Any]:
    """A witness that opens a fake leaf with the non-boolean path bit 2 at level 0 (security.md C7).

    With lo = 2, hi = 0 the selection gives children (2*s0 - node, 2*node - s0, s1, s2); solving for the honest
    children (a, b, c, d) gives the fake leaf (a + 2b) / 3 and the sibling (2a + b) / 3.
    """
    proof = tree.proof(index)
    base = index - index % 4
    a, b_, c, d = (tree.leaf(base + k) for k in range(4))
    third = pow(3, -1, FIELD_R)
    fake_leaf = (a + 2 * b_) * third % FIELD_R
    fake_sibling = (2 * a + b_) * third % FIELD_R
    siblings = [[fake_sibling, c, d], *[list(t) for t in proof.siblings[1:]]]
    bits = [2, 0, *proof.path_bits[2:]]
    return {"root": tree.root, "leaf": fake_leaf, "siblings": flat(siblings), "path": bits}


def test_non_boolean_path_bit_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """security.md C7: digit 2 given as the single "bit" 2 must not open a forged leaf."""
    rng = random.Random(3)
    tree = QuaternaryMerkleTree(3)
    tree.set_many({i: rng.randrange(1, FIELD_R) for i in range(16)})
    forged = forged_level0(tree, 2)
    assert forged["leaf"] not in {tree.leaf(i) for i in range(64)}
    circuit = compiled("quaternary_inclusion_3", quaternary_inclusion_circuit(3))
    with pytest.raises(UnsatisfiedConstraintError) as info:
        circuit.solve_witness(forged)
    assert "level0" in info.value.label
    # Digit 2 written honestly (bits 0, 1) with the real leaf is accepted.
    proof = tree.proof(2)
    assert list(proof.path_bits[:2]) == [0, 1]
    circuit.solve_witness(
        {"root": tree.root, "leaf": proof.leaf, "siblings": flat(proof.siblings), "path": list(proof.path_bits)}
    )
    # The mutant without booleanity accepts the forgery: the constraint is what stops it.
    monkeypatch.setattr(merkle, "ensure_bool", lambda b, x: None)
    mutant = compile(quaternary_inclusion_circuit(3), name="mutant")
    mutant.r1cs.check_witness(mutant.solve_witness(forged))
    with pytest.raises(ValueError):
        quaternary_merkle_root_native(forged["leaf"], triples_of(forged["siblings"]), forged["path"])


def test_issuer_registry_membership_in_circuit(vectors_dir: Path) -> None:
    muls = json.loads((vectors_dir / "babyjubjub.json").read_text())["mul"]
    keys = [(int(m["point"][0]), int(m["point"][1])) for m in muls if m["point"] != ["0", "1"]][:4]
    registry = IssuerRegistry()
    for key in keys[:3]:
        registry.add(key)
    circuit = compiled("issuer_membership", issuer_membership_circuit)
    for key in keys[:3]:
        proof = registry.proof(key)
        inputs = {
            "trusted_issuer_root": registry.root,
            "ax": key[0],
            "ay": key[1],
            "siblings": flat(proof.siblings),
            "path": list(proof.path_bits),
        }
        circuit.r1cs.check_witness(circuit.solve_witness(inputs))
    # An unregistered key with a registered key's path, or with an empty slot's path, is refused.
    outsider = keys[3]
    for proof in (registry.proof(keys[0]), registry._tree.proof(7)):
        with pytest.raises(UnsatisfiedConstraintError):
            circuit.solve_witness(
                {
                    "trusted_issuer_root": registry.root,
                    "ax": outsider[0],
                    "ay": outsider[1],
                    "siblings": flat(proof.siblings),
                    "path": list(proof.path_bits),
                }
            )


def test_shape_errors() -> None:
    def short_path(b: Builder) -> None:
        siblings = b.private_inputs("s", 6)
        bits = b.private_inputs("p", 3)
        b.output("root", quaternary_merkle_root(b, b.private_input("leaf"), triples_of(siblings), bits))

    def pair_siblings(b: Builder) -> None:
        siblings = b.private_inputs("s", 4)
        bits = b.private_inputs("p", 4)
        pairs = [siblings[:2], siblings[2:]]
        b.output("root", quaternary_merkle_root(b, b.private_input("leaf"), pairs, bits))

    def constant_zero_leaf(b: Builder) -> None:
        siblings = b.private_inputs("s", 3)
        bits = b.private_inputs("p", 2)
        assert_quaternary_merkle_inclusion(b, 0, b.public_input("root"), [siblings], bits)

    for define in (short_path, pair_siblings, constant_zero_leaf):
        with pytest.raises(CircuitDefinitionError):
            compile(define)


# --------------------------------------------------------------------------- indexed non-membership


@pytest.fixture(scope="module")
def revocations() -> Iterator[RevocationTree]:
    with RevocationTree() as tree:
        tree.revoke_many([1000, 2000, 3000, 5, ID_BOUND - 10])
        yield tree


def non_membership_inputs(tree: RevocationTree, credential_id: int) -> dict[str, Any]:
    proof = tree.non_membership_proof(credential_id)
    return leaf_inputs(tree, credential_id, proof.low_index)


def leaf_inputs(tree: RevocationTree, credential_id: int, leaf_index: int) -> dict[str, Any]:
    """Inputs that use the tree's leaf at ``leaf_index`` (honest Merkle data, whatever the id)."""
    _, low, nxt = next(leaf for leaf in tree.leaves() if leaf[0] == leaf_index)
    proof = tree.merkle_proof(leaf_index)
    return {
        "revocation_root": tree.root,
        "credential_id": credential_id,
        "low": low,
        "next": nxt,
        "siblings": flat(proof.siblings),
        "path": list(proof.path_bits),
    }


def check_agreement(circuit: CompiledCircuit, inputs: dict[str, Any]) -> bool:
    native = indexed_non_membership_native(
        inputs["revocation_root"],
        inputs["credential_id"],
        inputs["low"],
        inputs["next"],
        triples_of(inputs["siblings"]),
        inputs["path"],
    )
    assert accepts(circuit, inputs) == native
    return native


def test_non_membership_valid(revocations: RevocationTree) -> None:
    circuit = compiled("non_membership_16", non_membership_circuit(16))
    for credential_id in (1, 4, 6, 999, 1001, 2500, 2999, 3001, ID_BOUND - 11, ID_BOUND - 9, ID_BOUND - 1):
        inputs = non_membership_inputs(revocations, credential_id)
        circuit.r1cs.check_witness(circuit.solve_witness(inputs))
        assert check_agreement(circuit, inputs)


def test_non_membership_rejects_revoked_ids(revocations: RevocationTree) -> None:
    circuit = compiled("non_membership_16", non_membership_circuit(16))
    leaves = {value: index for index, value, _ in revocations.leaves()}
    for revoked in (5, 1000, 2000, 3000, ID_BOUND - 10):
        predecessor = max(v for v in leaves if v < revoked)
        # id == low: the revoked id's own leaf; id == next: its predecessor's leaf.
        for leaf_index in (leaves[revoked], leaves[predecessor]):
            inputs = leaf_inputs(revocations, revoked, leaf_index)
            with pytest.raises(UnsatisfiedConstraintError):
                circuit.solve_witness(inputs)
            assert not check_agreement(circuit, inputs)


def test_non_membership_rejects_forgeries(revocations: RevocationTree) -> None:
    circuit = compiled("non_membership_16", non_membership_circuit(16))
    leaves = {value: index for index, value, _ in revocations.leaves()}
    good = non_membership_inputs(revocations, 2500)
    forgeries = [
        dict(good, credential_id=1500),  # the leaf (2000, 3000) does not cover 1500
        dict(good, credential_id=3500),
        dict(good, next=0),  # a leaf that is not in the tree
        dict(good, low=2400),
        dict(good, siblings=[(good["siblings"][0] + 1) % FIELD_R, *good["siblings"][1:]]),
        dict(good, path=[1 - good["path"][0], *good["path"][1:]]),
        dict(good, revocation_root=(good["revocation_root"] + 1) % FIELD_R),
        # Out of range: id = 2^128 above the last leaf (ID_BOUND - 10, 0), and id = 0 / r - 1 below.
        leaf_inputs(revocations, ID_BOUND, leaves[ID_BOUND - 10]),
        leaf_inputs(revocations, ID_BOUND + 5, leaves[ID_BOUND - 10]),
        leaf_inputs(revocations, 0, leaves[0]),
        leaf_inputs(revocations, FIELD_R - 1, leaves[ID_BOUND - 10]),
    ]
    for inputs in forgeries:
        with pytest.raises(UnsatisfiedConstraintError):
            circuit.solve_witness(inputs)
        assert not check_agreement(circuit, inputs)


def test_no_witness_for_a_revoked_id_even_without_the_solver(revocations: RevocationTree) -> None:
    """A prover who writes the witness by hand: the constraints alone refuse a revoked id, whether it claims
    "no successor" for a leaf that has one, or swaps the leaf hash of a made-up (low, next) for a real leaf's."""
    define = non_membership_circuit(16)
    leaves = {value: index for index, value, _ in revocations.leaves()}
    revoked, predecessor = 2000, 1000
    assert_no_witness(define, leaf_inputs(revocations, revoked, leaves[predecessor]), pivots=4)
    made_up = dict(leaf_inputs(revocations, revoked, leaves[predecessor]), low=1500, next=2500)
    real_leaf = poseidon_native([predecessor, revoked])
    assert_no_witness(define, made_up, pivots=0, substitute={poseidon_native([1500, 2500]): real_leaf})


def test_old_proof_fails_after_revocation() -> None:
    with RevocationTree() as tree:
        tree.revoke_many([10, 50])
        circuit = compiled("non_membership_16", non_membership_circuit(16))
        old = non_membership_inputs(tree, 30)
        circuit.solve_witness(old)
        tree.revoke(30)
        with pytest.raises(UnsatisfiedConstraintError):
            circuit.solve_witness(dict(old, revocation_root=tree.root))
        circuit.solve_witness(old)  # the old root still accepts it: verifiers must pin fresh roots


def test_random_non_membership_agreement() -> None:
    """Random ids against random leaves of a small tree: circuit == native twin, and acceptance is sound."""
    rng = random.Random(9)
    with RevocationTree(depth=2) as tree:
        tree.revoke_many(rng.randrange(1, 200) for _ in range(8))
        circuit = compiled("non_membership_2", non_membership_circuit(2))
        leaf_indices = [index for index, _, _ in tree.leaves()]
        for _ in range(40):
            credential_id = rng.randrange(0, 210)
            if check_agreement(circuit, leaf_inputs(tree, credential_id, rng.choice(leaf_indices))):
                assert credential_id != 0 and not tree.is_revoked(credential_id)
        for credential_id in range(1, 210):
            if not tree.is_revoked(credential_id):
                assert check_agreement(circuit, non_membership_inputs(tree, credential_id))


# --------------------------------------------------------------------------- binary and sparse


def test_binary_root_and_inclusion() -> None:
    rng = random.Random(4)
    tree = BinaryMerkleTree(6)
    for _ in range(10):
        tree.set(rng.randrange(64), rng.randrange(1, FIELD_R))
    root_circuit = compiled("binary_root_6", binary_root_circuit(6))
    inclusion = compiled("binary_inclusion_6", binary_inclusion_circuit(6))
    for index in range(0, 64, 7):
        siblings = list(tree.siblings(index))
        bits = [(index >> k) & 1 for k in range(6)]
        inputs = {"leaf": tree.leaf(index), "siblings": siblings, "path": bits}
        assert root_circuit.output_values(root_circuit.solve_witness(inputs))["root"] == tree.root
        assert binary_merkle_root_native(tree.leaf(index), siblings, bits) == tree.root
        assert compute_binary_merkle_root(tree.leaf(index), index, siblings) == tree.root
        assert accepts(inclusion, dict(inputs, root=tree.root)) == (tree.leaf(index) != 0)
    occupied = next(i for i in range(64) if tree.leaf(i))
    inputs = {"root": tree.root, "leaf": tree.leaf(occupied), "siblings": list(tree.siblings(occupied))}
    bits = [(occupied >> k) & 1 for k in range(6)]
    inclusion.solve_witness(dict(inputs, path=bits))
    with pytest.raises(UnsatisfiedConstraintError):
        inclusion.solve_witness(dict(inputs, path=[2 if k == 0 else bit for k, bit in enumerate(bits)]))
    with pytest.raises(UnsatisfiedConstraintError):
        inclusion.solve_witness(dict(inputs, leaf=(inputs["leaf"] + 1) % FIELD_R, path=bits))


def test_sparse_merkle_non_inclusion_and_inclusion() -> None:
    depth = 12
    rng = random.Random(5)
    tree = BinaryMerkleTree(depth)
    present = {rng.randrange(1 << depth): rng.randrange(1, FIELD_R) for _ in range(6)}
    for key, leaf in present.items():
        tree.set(key, leaf)
    absent = next(k for k in range(1 << depth) if k not in present)
    non_inclusion = compiled("smt_non_inclusion_12", sparse_circuit(depth, inclusion=False))
    inclusion = compiled("smt_inclusion_12", sparse_circuit(depth, inclusion=True))
    non_inclusion.solve_witness({"root": tree.root, "key": absent, "siblings": list(tree.siblings(absent))})
    for key, leaf in present.items():
        siblings = list(tree.siblings(key))
        inclusion.solve_witness({"root": tree.root, "key": key, "leaf": leaf, "siblings": siblings})
        with pytest.raises(UnsatisfiedConstraintError):
            non_inclusion.solve_witness({"root": tree.root, "key": key, "siblings": siblings})
    with pytest.raises(WitnessError):
        inclusion.solve_witness({"root": tree.root, "key": absent, "leaf": 0, "siblings": list(tree.siblings(absent))})
    # Keys must fit the depth: key + 2^depth has the same low bits but is refused.
    with pytest.raises(UnsatisfiedConstraintError):
        non_inclusion.solve_witness(
            {"root": tree.root, "key": absent + (1 << depth), "siblings": list(tree.siblings(absent))}
        )


# --------------------------------------------------------------------------- pinned constraint counts


COUNTS = [
    ("quaternary_merkle_root", "depth=5", quaternary_root_circuit(5)),
    ("assert_quaternary_merkle_inclusion", "depth=5", quaternary_inclusion_circuit(5)),
    ("assert_quaternary_merkle_inclusion", "depth=16", quaternary_inclusion_circuit(16)),
    ("issuer_registry_membership", "depth=5", issuer_membership_circuit),
    ("assert_indexed_non_membership", "depth=16", non_membership_circuit(16)),
    ("binary_merkle_root", "depth=20", binary_root_circuit(20)),
    ("assert_sparse_merkle_non_inclusion", "depth=40", sparse_circuit(40, inclusion=False)),
    ("assert_sparse_merkle_inclusion", "depth=40", sparse_circuit(40, inclusion=True)),
]

#: circomlib's SMTVerifier(40) (the comparison the issue asks for), with full simplification.
CIRCOMLIB_SMT_VERIFIER_40 = 11_593


@pytest.mark.parametrize(("gadget", "params", "define"), COUNTS, ids=[f"{g}[{p}]" for g, p, _ in COUNTS])
def test_pinned_constraint_counts(gadget: str, params: str, define: Callable[[Builder], None]) -> None:
    circuit = compiled(f"{gadget}_{params}", define)
    ConstraintCountSnapshot(PINNED_COUNTS_PATH).check(gadget, params, circuit)
    if gadget == "assert_sparse_merkle_non_inclusion":
        assert circuit.r1cs.n_constraints < CIRCOMLIB_SMT_VERIFIER_40


def test_counts_follow_the_formulas() -> None:
    assert compiled("quaternary_root_3", quaternary_root_circuit(3)).r1cs.n_constraints == 304 * 3
    assert compiled("binary_root_6", binary_root_circuit(6)).r1cs.n_constraints == 242 * 6
    assert compiled("smt_non_inclusion_12", sparse_circuit(12, inclusion=False)).r1cs.n_constraints == 242 * 12
