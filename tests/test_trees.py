"""Tests of the trusted-issuer registry and the revocation tree (zkhealth.credentials.trees)."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkhealth.credentials.trees import (
    CREDENTIAL_ID_BITS,
    IssuerRegistry,
    MerkleProof,
    NonMembershipProof,
    QuaternaryMerkleTree,
    RevocationTree,
    compute_merkle_root,
    empty_subtree_roots,
    issuer_leaf,
    revocation_leaf,
    verify_merkle_proof,
    verify_non_membership,
)
from zkhealth.errors import (
    CredentialError,
    CredentialRevokedError,
    EncodingError,
    FieldRangeError,
    FieldTypeError,
    MerkleProofError,
    NonCanonicalEncodingError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    UnknownIssuerError,
    UntrustedRootError,
    WeakIssuerKeyError,
)
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon
from zkhealth.signature.eddsa_poseidon import PrivateKey

pytestmark = pytest.mark.native

ID_BOUND = 1 << CREDENTIAL_ID_BITS


# --------------------------------------------------------------------------- independent oracles


def naive_root(leaves: dict[int, int], depth: int) -> int:
    """Rebuild the whole tree level by level, without any of the module's code beyond poseidon."""
    level = [leaves.get(i, 0) for i in range(4**depth)]
    while len(level) > 1:
        level = [poseidon(level[i : i + 4]) for i in range(0, len(level), 4)]
    return level[0]


# Baby Jubjub, written out here (test-only) to make torsion and mixed-order points.
BJJ_A = 168700
BJJ_D = 168696
BJJ_L = 2736030358979909402780800718157159386076813972158567259200215660948447373041


def bjj_add(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = p, q
    t = BJJ_D * x1 * x2 * y1 * y2 % FIELD_R
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, FIELD_R) % FIELD_R
    y3 = (y1 * y2 - BJJ_A * x1 * x2) * pow(1 - t, -1, FIELD_R) % FIELD_R
    return x3, y3


def bjj_mul(p: tuple[int, int], k: int) -> tuple[int, int]:
    result = (0, 1)
    while k:
        if k & 1:
            result = bjj_add(result, p)
        p = bjj_add(p, p)
        k >>= 1
    return result


def bjj_point_with_x(x: int) -> tuple[int, int] | None:
    """A curve point with this x (y from y^2 = (1 - a x^2) / (1 - d x^2)), or None."""
    num = (1 - BJJ_A * x * x) % FIELD_R
    den = (1 - BJJ_D * x * x) % FIELD_R
    y2 = num * pow(den, -1, FIELD_R) % FIELD_R
    if pow(y2, (FIELD_R - 1) // 2, FIELD_R) != 1:
        return None
    # r = 1 mod 2^28: Tonelli-Shanks.
    q, s = FIELD_R - 1, 0
    while q % 2 == 0:
        q, s = q // 2, s + 1
    z = 5
    m, c, t, root = s, pow(z, q, FIELD_R), pow(y2, q, FIELD_R), pow(y2, (q + 1) // 2, FIELD_R)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % FIELD_R, i + 1
        b = pow(c, 1 << (m - i - 1), FIELD_R)
        m, c, t, root = i, b * b % FIELD_R, t * b * b % FIELD_R, root * b % FIELD_R
    return x, root


@pytest.fixture(scope="module")
def bjj_vectors(vectors_dir: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((vectors_dir / "babyjubjub.json").read_text())
    return data


@pytest.fixture(scope="module")
def issuer_keys(bjj_vectors: dict[str, object]) -> list[tuple[int, int]]:
    muls = bjj_vectors["mul"]
    assert isinstance(muls, list)
    keys = [(int(m["point"][0]), int(m["point"][1])) for m in muls]
    keys = [k for k in keys if k != (0, 1)]
    assert len(keys) >= 4
    return keys


@pytest.fixture(scope="module")
def torsion_points() -> list[tuple[int, int]]:
    """The 8-torsion: l * Q for a point Q of the full curve, and its multiples."""
    x = 2
    point = bjj_point_with_x(x)
    while point is None or bjj_mul(bjj_mul(point, BJJ_L), 4) == (0, 1):
        x += 1
        point = bjj_point_with_x(x)
    generator = bjj_mul(point, BJJ_L)  # order 8
    points = {bjj_mul(generator, k) for k in range(8)}
    assert len(points) == 8
    return sorted(points)


# --------------------------------------------------------------------------- quaternary tree


def test_empty_subtree_roots() -> None:
    zeros = empty_subtree_roots(3)
    assert zeros[0] == 0
    assert zeros[1] == poseidon([0, 0, 0, 0])
    assert zeros[3] == poseidon([zeros[2]] * 4)
    assert QuaternaryMerkleTree(3).root == zeros[3] == naive_root({}, 3)


def test_tree_root_matches_naive_rebuild() -> None:
    rng = random.Random(7)
    tree = QuaternaryMerkleTree(3)
    leaves: dict[int, int] = {}
    for _ in range(12):
        index, leaf = rng.randrange(64), rng.randrange(FIELD_R)
        leaves[index] = leaf
        tree.set(index, leaf)
    assert tree.root == naive_root(leaves, 3)
    batch = QuaternaryMerkleTree(3)
    batch.set_many(leaves)
    assert batch.root == tree.root


def test_proofs_verify_and_path_encoding() -> None:
    tree = QuaternaryMerkleTree(3)
    for index in (0, 1, 2, 3, 4, 27, 63):
        tree.set(index, index + 1000)
    for index in (0, 1, 2, 3, 4, 27, 63):
        proof = tree.proof(index)
        assert proof.leaf == index + 1000
        assert proof.depth == 3
        tree.verify(proof)
        verify_merkle_proof(tree.root, proof, depth=3)
        digits = proof.path_digits
        assert sum(d * 4**k for k, d in enumerate(digits)) == index
        bits = proof.path_bits
        assert all(b in (0, 1) for b in bits)
        assert [bits[2 * k] + 2 * bits[2 * k + 1] for k in range(3)] == list(digits)
        assert compute_merkle_root(proof.leaf, index, proof.siblings) == tree.root


def test_tampered_proofs_fail() -> None:
    tree = QuaternaryMerkleTree(3)
    tree.set_many({5: 11, 6: 12, 40: 13})
    proof = tree.proof(5)
    siblings = [list(t) for t in proof.siblings]
    siblings[1][2] = (siblings[1][2] + 1) % FIELD_R
    with pytest.raises(MerkleProofError):
        verify_merkle_proof(tree.root, dataclasses.replace(proof, siblings=tuple(map(tuple, siblings))))
    with pytest.raises(MerkleProofError):
        verify_merkle_proof(tree.root, dataclasses.replace(proof, leaf=12))
    for index in (4, 6, 5 + 16):
        with pytest.raises(MerkleProofError):
            verify_merkle_proof(tree.root, dataclasses.replace(proof, index=index))
    with pytest.raises(MerkleProofError):
        verify_merkle_proof(tree.root, proof, depth=4)
    with pytest.raises(MerkleProofError):
        verify_merkle_proof((tree.root + 1) % FIELD_R, proof)


def test_empty_slot_is_never_a_member() -> None:
    """security.md C13: a proof of the zero leaf must fail even though it hashes to the root."""
    tree = QuaternaryMerkleTree(2)
    tree.set(0, 99)
    proof = tree.proof(7)
    assert proof.leaf == 0
    assert proof.compute_root() == tree.root
    with pytest.raises(MerkleProofError):
        tree.verify(proof)
    # An internal node passed off as a leaf needs a shorter proof: refused by the depth check.
    short = MerkleProof(leaf=tree.proof(0).compute_root(), index=0, siblings=((0, 0, 0),))
    with pytest.raises(MerkleProofError):
        verify_merkle_proof(tree.root, short, depth=2)


def test_tree_input_validation() -> None:
    tree = QuaternaryMerkleTree(2)
    with pytest.raises(FieldRangeError):
        tree.set(16, 1)
    with pytest.raises(FieldRangeError):
        tree.set(-1, 1)
    with pytest.raises(FieldTypeError):
        tree.set(True, 1)  # type: ignore[arg-type]
    with pytest.raises(FieldRangeError):
        tree.set(0, FIELD_R)
    with pytest.raises(FieldTypeError):
        tree.set(0, "1")  # type: ignore[arg-type]
    with pytest.raises(EncodingError):
        QuaternaryMerkleTree(0)
    with pytest.raises(FieldTypeError):
        QuaternaryMerkleTree(2.0)  # type: ignore[arg-type]
    root = tree.root
    with pytest.raises(FieldRangeError):
        tree.set_many({0: 5, 1: FIELD_R})
    assert tree.root == root  # nothing changed


def test_merkle_proof_shape_and_json() -> None:
    tree = QuaternaryMerkleTree(2)
    tree.set(9, 1234)
    proof = tree.proof(9)
    assert MerkleProof.from_dict(json.loads(json.dumps(proof.to_dict()))) == proof
    with pytest.raises(MerkleProofError):
        MerkleProof(leaf=1, index=0, siblings=((1, 2),))  # type: ignore[arg-type]
    with pytest.raises(MerkleProofError):
        MerkleProof(leaf=1, index=0, siblings=())
    with pytest.raises(FieldRangeError):
        MerkleProof(leaf=1, index=16, siblings=((0, 0, 0), (0, 0, 0)))
    with pytest.raises(FieldRangeError):
        MerkleProof(leaf=1, index=0, siblings=((FIELD_R, 0, 0),))
    data = proof.to_dict()
    data["leaf"] = "01234"
    with pytest.raises(NonCanonicalEncodingError):
        MerkleProof.from_dict(data)
    data = proof.to_dict()
    data["extra"] = 1
    with pytest.raises(EncodingError):
        MerkleProof.from_dict(data)


# --------------------------------------------------------------------------- issuer registry


def test_registry_membership(issuer_keys: list[tuple[int, int]]) -> None:
    registry = IssuerRegistry()
    assert registry.depth == 5
    empty_root = registry.root
    slots = [registry.add(key) for key in issuer_keys[:4]]
    assert slots == [0, 1, 2, 3]
    assert registry.add(issuer_keys[1]) == 1  # idempotent
    assert len(registry) == 4
    assert registry.root != empty_root
    expected = {i: poseidon(list(k)) for i, k in enumerate(issuer_keys[:4])}
    assert registry.root == naive_root_sparse(expected, 5)
    for key in issuer_keys[:4]:
        assert registry.contains(key)
        assert key in registry
        proof = registry.proof(key)
        assert proof.leaf == issuer_leaf(key)
        registry.verify(key, proof)
        verify_merkle_proof(registry.root, proof, depth=5)
    outsider = issuer_keys[4]
    assert not registry.contains(outsider)
    with pytest.raises(UnknownIssuerError):
        registry.index_of(outsider)
    with pytest.raises(UnknownIssuerError):
        registry.proof(outsider)
    with pytest.raises(UnknownIssuerError):
        registry.verify(outsider, registry.proof(issuer_keys[0]))


def naive_root_sparse(leaves: dict[int, int], depth: int) -> int:
    """Like naive_root but only materialises non-empty subtrees (depth 5 has 1024 leaves)."""
    zeros = [0]
    for _ in range(depth):
        zeros.append(poseidon([zeros[-1]] * 4))
    level = dict(leaves)
    for height in range(depth):
        parents: dict[int, int] = {}
        for parent in {i // 4 for i in level}:
            parents[parent] = poseidon([level.get(4 * parent + k, zeros[height]) for k in range(4)])
        level = parents
    return level.get(0, zeros[depth])


def test_registry_accepts_object_keys(issuer_keys: list[tuple[int, int]]) -> None:
    @dataclasses.dataclass
    class XY:
        x: int
        y: int

    @dataclasses.dataclass
    class WithPoint:
        point: tuple[int, int]

    registry = IssuerRegistry()
    assert registry.add(XY(*issuer_keys[0])) == 0
    assert registry.add(WithPoint(issuer_keys[0])) == 0
    assert registry.index_of(issuer_keys[0]) == 0
    with pytest.raises(FieldTypeError):
        registry.add("not a key")
    with pytest.raises(FieldTypeError):
        registry.add((1, 2, 3))


def test_registry_with_eddsa_public_key() -> None:
    public = PrivateKey(bytes(range(32))).public_key()
    registry = IssuerRegistry()
    index = registry.add(public)
    registry.verify(public, registry.proof(public))
    assert registry.index_of(public) == index == registry.index_of(public.point)
    assert registry.proof(public).leaf == poseidon([public.x, public.y])


def test_registry_rejects_weak_keys(torsion_points: list[tuple[int, int]]) -> None:
    """security.md S3: identity, (0, r-1) and every other small-order point are refused."""
    registry = IssuerRegistry()
    assert (0, 1) in torsion_points
    assert (0, FIELD_R - 1) in torsion_points
    for point in torsion_points:
        with pytest.raises(WeakIssuerKeyError):
            registry.add(point)
    assert len(registry) == 0


def test_registry_rejects_off_curve_and_mixed_order(
    issuer_keys: list[tuple[int, int]], torsion_points: list[tuple[int, int]]
) -> None:
    registry = IssuerRegistry()
    with pytest.raises(PointNotOnCurveError):
        registry.add((1, 2))
    x, y = issuer_keys[0]
    with pytest.raises(PointNotOnCurveError):
        registry.add((x, (y + 1) % FIELD_R))
    with pytest.raises(FieldRangeError):
        registry.add((x + FIELD_R, y))
    order_two = (0, FIELD_R - 1)
    mixed = bjj_add(issuer_keys[0], order_two)
    with pytest.raises(PointNotInSubgroupError):
        registry.add(mixed)
    assert len(registry) == 0


def test_registry_zero_leaf_is_not_a_member(issuer_keys: list[tuple[int, int]]) -> None:
    """security.md C13: the proof of an empty slot never shows any key registered."""
    registry = IssuerRegistry()
    registry.add(issuer_keys[0])
    empty_slot = registry._tree.proof(5)
    assert empty_slot.leaf == 0
    with pytest.raises(UnknownIssuerError):
        registry.verify(issuer_keys[1], empty_slot)
    with pytest.raises(MerkleProofError):
        verify_merkle_proof(registry.root, empty_slot, depth=5)


def test_registry_remove(issuer_keys: list[tuple[int, int]]) -> None:
    registry = IssuerRegistry()
    for key in issuer_keys[:3]:
        registry.add(key)
    old_proof = registry.proof(issuer_keys[1])
    registry.remove(issuer_keys[1])
    assert not registry.contains(issuer_keys[1])
    with pytest.raises(UnknownIssuerError):
        registry.verify(issuer_keys[1], old_proof)
    with pytest.raises(UnknownIssuerError):
        registry.remove(issuer_keys[1])
    assert registry.add(issuer_keys[1]) == 3  # slots are not reused
    registry.verify(issuer_keys[2], registry.proof(issuer_keys[2]))


def test_registry_json_round_trip_and_pinning(issuer_keys: list[tuple[int, int]]) -> None:
    registry = IssuerRegistry()
    for key in issuer_keys[:3]:
        registry.add(key)
    registry.remove(issuer_keys[0])
    text = registry.to_json()
    again = IssuerRegistry.from_json(text, expected_root=registry.root)
    assert again.root == registry.root
    assert again.issuers() == registry.issuers()
    assert again.add(issuer_keys[3]) == registry.add(issuer_keys[3])
    with pytest.raises(UntrustedRootError):
        IssuerRegistry.from_json(text, expected_root=(registry.root + 1) % FIELD_R)
    data = json.loads(text)
    data["issuers"][0]["index"] = 2
    with pytest.raises(EncodingError):
        IssuerRegistry.from_json(json.dumps(data))  # root no longer matches
    data = json.loads(text)
    data["issuers"][0]["x"] = "1"
    with pytest.raises(PointNotOnCurveError):
        IssuerRegistry.from_json(json.dumps(data))
    data = json.loads(text)
    data["issuers"][1] = dict(data["issuers"][0])
    with pytest.raises(EncodingError):
        IssuerRegistry.from_json(json.dumps(data))
    with pytest.raises(EncodingError):
        IssuerRegistry.from_json(text.replace('"depth": 5,', '"depth": 5, "depth": 5,'))
    with pytest.raises(EncodingError):
        IssuerRegistry.from_json("{not json")


# --------------------------------------------------------------------------- revocation tree


def check_invariants(tree: RevocationTree) -> None:
    """Sorted linked list from value 0 through every revoked id, last pointing to 0; root = naive rebuild."""
    leaves = list(tree.leaves())
    by_value = {value: next_value for _, value, next_value in leaves}
    assert leaves[0][1] == 0
    walk, value = [], 0
    while True:
        next_value = by_value[value]
        if next_value == 0:
            break
        assert next_value > value
        walk.append(next_value)
        value = next_value
    assert walk == sorted(by_value)[1:] == tree.revoked_ids()
    hashed = {index: revocation_leaf(value, next_value) for index, value, next_value in leaves}
    assert tree.root == naive_root_sparse(hashed, tree.depth)


def assert_not_revoked(tree: RevocationTree, credential_id: int) -> NonMembershipProof:
    assert not tree.is_revoked(credential_id)
    proof = tree.non_membership_proof(credential_id)
    verify_non_membership(tree.root, credential_id, proof, depth=tree.depth)
    return proof


def test_initial_tree() -> None:
    with RevocationTree() as tree:
        assert tree.depth == 16
        assert len(tree) == 0
        assert list(tree.leaves()) == [(0, 0, 0)]
        check_invariants(tree)
        proof = assert_not_revoked(tree, 12345)
        assert (proof.low_value, proof.next_value, proof.low_index) == (0, 0, 0)
        assert len(tree.roots()) == 1


def test_non_membership_below_between_above() -> None:
    with RevocationTree(depth=4) as tree:
        assert tree.revoke(100)
        assert tree.revoke(300)
        assert tree.revoke(200)
        check_invariants(tree)
        cases = {1: (0, 100), 99: (0, 100), 101: (100, 200), 250: (200, 300), 301: (300, 0), ID_BOUND - 1: (300, 0)}
        for credential_id, (low, high) in cases.items():
            proof = assert_not_revoked(tree, credential_id)
            assert (proof.low_value, proof.next_value) == (low, high)
        for credential_id in (100, 200, 300):
            assert tree.is_revoked(credential_id)
            with pytest.raises(CredentialRevokedError):
                tree.non_membership_proof(credential_id)


def test_revocation_invalidates_old_proofs() -> None:
    with RevocationTree(depth=4) as tree:
        tree.revoke_many([10, 50])
        old_root = tree.root
        old_proof = assert_not_revoked(tree, 30)
        assert tree.revoke(30)
        assert tree.root != old_root
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 30, old_proof, depth=4)
        verify_non_membership(old_root, 30, old_proof, depth=4)  # still true of the old root
        with pytest.raises(CredentialRevokedError):
            tree.non_membership_proof(30)
        # The leaves that mention 30 prove it revoked: (10, 30) and (30, 50).
        index_low = next(i for i, v, _ in tree.leaves() if v == 10)
        index_own = next(i for i, v, _ in tree.leaves() if v == 30)
        id_equals_next = NonMembershipProof(10, 30, tree.merkle_proof(index_low))
        id_equals_low = NonMembershipProof(30, 50, tree.merkle_proof(index_own))
        for forged in (id_equals_next, id_equals_low):
            with pytest.raises(CredentialRevokedError):
                verify_non_membership(tree.root, 30, forged, depth=4)


def test_forged_non_membership_proofs_fail() -> None:
    with RevocationTree(depth=4) as tree:
        tree.revoke_many([10, 50, 90])
        proof = assert_not_revoked(tree, 60)
        # The right leaf for another id does not cover this one.
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 20, proof, depth=4)
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 95, proof, depth=4)
        # Values that are not the leaf's.
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 60, dataclasses.replace(proof, next_value=0), depth=4)
        # A fabricated leaf whose hash matches what the Merkle proof claims is still not in the tree.
        fake = NonMembershipProof(55, 0, dataclasses.replace(proof.merkle, leaf=revocation_leaf(55, 0)))
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 60, fake, depth=4)
        # Wrong depth, tampered sibling.
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 60, proof, depth=5)
        sibs = [list(t) for t in proof.merkle.siblings]
        sibs[0][0] ^= 1
        tampered = dataclasses.replace(
            proof, merkle=dataclasses.replace(proof.merkle, siblings=tuple(map(tuple, sibs)))
        )
        with pytest.raises(MerkleProofError):
            verify_non_membership(tree.root, 60, tampered, depth=4)
        assert NonMembershipProof.from_dict(json.loads(json.dumps(proof.to_dict()))) == proof


def test_revoke_is_idempotent_and_validates() -> None:
    with RevocationTree(depth=3) as tree:
        assert tree.revoke(7)
        root, history = tree.root, tree.roots(100)
        assert not tree.revoke(7)
        assert tree.revoke_many([7, 7]) == 0
        assert tree.root == root and tree.roots(100) == history
        assert tree.revoke_many([8, 8, 9]) == 2
        assert len(tree) == 3
        for bad in (0, -1, ID_BOUND):
            with pytest.raises(FieldRangeError):
                tree.revoke(bad)
        for wrong in (True, 1.0, "5"):
            with pytest.raises(FieldTypeError):
                tree.revoke(wrong)  # type: ignore[arg-type]
        root = tree.root
        with pytest.raises(FieldRangeError):
            tree.revoke_many([11, 12, 0])
        assert tree.root == root and not tree.is_revoked(11)
        with pytest.raises(FieldRangeError):
            tree.is_revoked(ID_BOUND)
        with pytest.raises(FieldRangeError):
            tree.non_membership_proof(0)
        check_invariants(tree)


def test_full_tree_rolls_back() -> None:
    with RevocationTree(depth=1) as tree:
        assert tree.revoke_many([5, 6, 7]) == 3
        root = tree.root
        with pytest.raises(CredentialError):
            tree.revoke(8)
        assert tree.root == root
        assert not tree.is_revoked(8)
        check_invariants(tree)
        assert_not_revoked(tree, 4)


def test_root_history() -> None:
    with RevocationTree(depth=3) as tree:
        initial = tree.root
        tree.revoke(1)
        after_one = tree.root
        tree.revoke_many([2, 3, 4])
        records = tree.roots(10)
        assert [r.root for r in records] == [tree.root, after_one, initial]
        assert [r.leaf_count for r in records] == [5, 2, 1]
        assert records[0].sequence > records[1].sequence > records[2].sequence
        assert records[0].timestamp >= records[2].timestamp
        assert len(tree.roots(2)) == 2
        with pytest.raises(EncodingError):
            tree.roots(0)


def test_batch_equals_sequential() -> None:
    ids = [random.Random(3).randrange(1, ID_BOUND) for _ in range(25)]
    with RevocationTree(depth=4) as one_by_one, RevocationTree(depth=4) as batch:
        for credential_id in ids:
            one_by_one.revoke(credential_id)
        batch.revoke_many(ids)
        assert batch.root == one_by_one.root
        assert list(batch.leaves()) == list(one_by_one.leaves())


def test_persistence_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "revocations.sqlite"
    rng = random.Random(11)
    ids = [rng.randrange(1, ID_BOUND) for _ in range(30)]
    with RevocationTree(path) as tree:
        tree.revoke_many(ids[:20])
        for credential_id in ids[20:]:
            tree.revoke(credential_id)
        root, leaves, history = tree.root, list(tree.leaves()), tree.roots(100)
        probe = rng.randrange(1, ID_BOUND)
        proof = tree.non_membership_proof(probe)
    with RevocationTree(path) as reopened:
        assert reopened.depth == 16
        assert reopened.root == root
        assert list(reopened.leaves()) == leaves
        assert reopened.roots(100) == history
        assert len(reopened) == 30
        assert reopened.non_membership_proof(probe) == proof
        verify_non_membership(root, probe, proof)
        assert reopened.revoke(probe)
        check_invariants(reopened)
        new_root = reopened.root
    with RevocationTree(path, depth=16) as again:
        assert again.root == new_root and again.is_revoked(probe)
    with pytest.raises(CredentialError):
        RevocationTree(path, depth=5)


def test_depth_16_tree_matches_independent_rebuild() -> None:
    rng = random.Random(5)
    with RevocationTree() as tree:
        tree.revoke_many(rng.randrange(1, ID_BOUND) for _ in range(40))
        check_invariants(tree)
        for _ in range(5):
            assert_not_revoked(tree, rng.randrange(1, ID_BOUND))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.lists(st.integers(min_value=1, max_value=60), max_size=6), min_size=1, max_size=4),
    probes=st.lists(st.integers(min_value=1, max_value=62), min_size=1, max_size=8),
)
def test_random_revocations_keep_invariants(batches: Sequence[Sequence[int]], probes: Sequence[int]) -> None:
    with RevocationTree(depth=3) as tree:
        revoked: set[int] = set()
        for batch in batches:
            fresh = len(set(batch) - revoked)
            assert tree.revoke_many(batch) == fresh
            revoked |= set(batch)
        assert tree.revoked_ids() == sorted(revoked)
        check_invariants(tree)
        for credential_id in [*probes, *revoked]:
            if credential_id in revoked:
                assert tree.is_revoked(credential_id)
                with pytest.raises(CredentialRevokedError):
                    tree.non_membership_proof(credential_id)
            else:
                assert_not_revoked(tree, credential_id)


def test_two_connections_share_a_file(tmp_path: Path) -> None:
    """A writer and a reader on one file: the reader's cache follows the writer's commits."""
    path = tmp_path / "shared.sqlite"
    with RevocationTree(path, depth=4) as writer, RevocationTree(path) as reader:
        writer.revoke_many([10, 20])
        assert reader.root == writer.root
        proof = assert_not_revoked(reader, 15)
        writer.revoke(15)
        assert reader.root == writer.root
        assert len(reader) == 3
        with pytest.raises(CredentialRevokedError):
            reader.non_membership_proof(15)
        with pytest.raises(MerkleProofError):
            verify_non_membership(reader.root, 15, proof, depth=4)
        reader.revoke(30)  # the reader can write too, and the first connection catches up
        assert writer.root == reader.root
        check_invariants(writer)
        assert_not_revoked(writer, 25)


def test_not_a_revocation_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CredentialError):
        RevocationTree(path)
