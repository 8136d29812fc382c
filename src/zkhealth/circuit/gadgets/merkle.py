"""Merkle gadgets: quaternary Poseidon trees (issuer registry, revocation), binary and sparse binary trees.

The quaternary gadgets are the in-circuit twins of :mod:`zkhealth.credentials.trees` and compute the same
roots: a node is ``poseidon([c0, c1, c2, c3])``, the position at each level is a base-4 digit given as two
path bits (low bit first), and the three siblings of a level come in child order with the proven node left
out.

Every path bit is boolean-constrained: a non-boolean "bit" such as 2 selects linear mixtures of the
children, which lets a prover open a leaf that is not in the tree (docs/security.md C7; zkSecurity's Self audit;
``tests/test_gadgets_merkle.py`` builds such a forgery). A zero leaf is never accepted as
a member (docs/security.md C13): the inclusion assertions prove ``leaf != 0``.

:func:`assert_indexed_non_membership` proves that a credential id is absent from an indexed Merkle tree
(sorted linked list of revoked ids): some leaf ``poseidon([low, next])`` is in the tree, ``low < id`` and
``id < next`` or ``next == 0``, with all three values range-checked to 128 bits.

The binary gadgets use ``poseidon([left, right])`` nodes. The sparse variant is a fixed-depth sparse
Merkle tree whose leaf position is the key itself (keys below ``2**depth``), with the empty leaf 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.gadgets.basic import ensure_bool, is_zero
from zkhealth.circuit.gadgets.bits import MAX_PLAIN_BITS, range_check, to_bits
from zkhealth.circuit.gadgets.comparators import assert_less_than
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError
from zkhealth.hash.poseidon import poseidon as poseidon_native

__all__ = [
    "CREDENTIAL_ID_BITS",
    "assert_binary_merkle_inclusion",
    "assert_indexed_non_membership",
    "assert_quaternary_merkle_inclusion",
    "assert_sparse_merkle_inclusion",
    "assert_sparse_merkle_non_inclusion",
    "binary_merkle_root",
    "binary_merkle_root_native",
    "indexed_non_membership_native",
    "quaternary_merkle_root",
    "quaternary_merkle_root_native",
]

#: Width of credential ids (and of the revocation tree's values) in the non-membership gadget.
CREDENTIAL_ID_BITS = 128


def _check_depth(depth: int, maximum: int) -> None:
    if not 1 <= depth <= maximum:
        raise CircuitDefinitionError(f"Merkle depth must be in 1..{maximum}, got {depth}")


def _quaternary_shape(siblings: Sequence[Sequence[SignalLike]], path_bits: Sequence[SignalLike]) -> int:
    if isinstance(siblings, (str, bytes)) or not isinstance(siblings, Sequence):
        raise CircuitDefinitionError("siblings must be a sequence of triples")
    depth = len(siblings)
    _check_depth(depth, 31)
    if any(isinstance(t, (str, bytes)) or not isinstance(t, Sequence) or len(t) != 3 for t in siblings):
        raise CircuitDefinitionError("a quaternary Merkle level needs exactly 3 siblings")
    if len(path_bits) != 2 * depth:
        raise CircuitDefinitionError(f"{depth} levels need {2 * depth} path bits, got {len(path_bits)}")
    return depth


def _place_in_four(
    b: Builder, node: SignalLike, s0: SignalLike, s1: SignalLike, s2: SignalLike, lo: SignalLike, hi: SignalLike
) -> list[Signal]:
    """The four children with ``node`` at position ``lo + 2*hi`` and the siblings, in order, elsewhere.

    With boolean ``lo``, ``hi``: ``c0 = node`` for digit 0 else ``s0``; ``c1`` is ``s0, node, s1, s1`` for
    digits 0..3; ``c3 = node`` for digit 3 else ``s2``; ``c2`` follows from ``c0 + c1 + c2 + c3 = node + s0 +
    s1 + s2``. Each of c0, c1, c3 is bilinear in (lo, hi). Cost: 5 constraints.
    """
    node_s = b.constant(0) + node
    both = b.mul(lo, hi)  # digit 3
    first = 1 - lo - hi + both  # digit 0
    second = lo - both  # digit 1
    c0 = s0 + b.mul(first, node_s - s0)
    c1 = s0 + b.mul(second, node_s - s0) + b.mul(hi, b.constant(0) + s1 - s0)
    c3 = s2 + b.mul(both, node_s - s2)
    c2 = node_s + s0 + s1 + s2 - c0 - c1 - c3
    return [c0, c1, c2, c3]


def _quaternary_root(
    b: Builder, leaf: SignalLike, siblings: Sequence[Sequence[SignalLike]], path_bits: Sequence[SignalLike]
) -> Signal:
    depth = _quaternary_shape(siblings, path_bits)
    node: Signal = b.constant(0) + leaf
    for level in range(depth):
        lo, hi = path_bits[2 * level], path_bits[2 * level + 1]
        with b.scope(f"level{level}"):
            ensure_bool(b, lo)
            ensure_bool(b, hi)
            s0, s1, s2 = siblings[level]
            node = poseidon(b, _place_in_four(b, node, s0, s1, s2, lo, hi))
    return node


@gadget("quaternary_merkle_root")
def quaternary_merkle_root(
    b: Builder, leaf: SignalLike, siblings: Sequence[Sequence[SignalLike]], path_bits: Sequence[SignalLike]
) -> Signal:
    """The root reached from ``leaf`` along ``path_bits`` (2 per level, low bit first) with 3 siblings a level.

    Enforces: every path bit is boolean (docs/security.md C7). Does not check the leaf (see
    :func:`assert_quaternary_merkle_inclusion`). Cost: ``depth * (2 + 5 + 297) = 304 * depth`` constraints
    (1,520 for the registry's depth 5, 4,864 for the revocation tree's depth 16).
    """
    return _quaternary_root(b, leaf, siblings, path_bits)


def assert_quaternary_merkle_inclusion(
    b: Builder,
    leaf: SignalLike,
    root: SignalLike,
    siblings: Sequence[Sequence[SignalLike]],
    path_bits: Sequence[SignalLike],
) -> None:
    """Enforce that ``leaf`` sits in the quaternary tree with ``root``, at the position ``path_bits`` encode.

    Enforces: boolean path bits, ``leaf != 0`` (an empty slot is not a member, docs/security.md C13) and the
    recomputed root equals ``root``. Cost: ``304 * depth + 1`` constraints (1,521 at depth 5).
    """
    with b.scope("assert_quaternary_merkle_inclusion"):
        b.assert_not_equal(leaf, 0)
        b.assert_equal(_quaternary_root(b, leaf, siblings, path_bits), root)


def assert_indexed_non_membership(
    b: Builder,
    root: SignalLike,
    credential_id: SignalLike,
    low_value: SignalLike,
    next_value: SignalLike,
    siblings: Sequence[Sequence[SignalLike]],
    path_bits: Sequence[SignalLike],
) -> None:
    """Enforce that ``credential_id`` is absent from the indexed Merkle tree (revocation tree) with ``root``.

    Enforces: ``credential_id``, ``low_value`` and ``next_value`` lie in ``[0, 2**128)``; the leaf
    ``poseidon([low_value, next_value])`` is in the tree (:func:`assert_quaternary_merkle_inclusion`);
    ``low_value < credential_id``; and ``credential_id < next_value`` unless ``next_value == 0`` (no successor).
    Since the tree's values form a sorted linked list, such a leaf exists exactly when the id is not revoked.
    The id is then at least 1. Cost at depth 16: 3 * 128 range checks + 128 (low < id) + 2 (next == 0)
    + 128 (id < next) + 240 (leaf hash) + 4,865 (inclusion) = 5,747 constraints.
    """
    with b.scope("assert_indexed_non_membership"):
        for value in (credential_id, low_value, next_value):
            range_check(b, value, CREDENTIAL_ID_BITS)
        assert_less_than(b, low_value, credential_id, bits=CREDENTIAL_ID_BITS)
        with b.scope("below_next"):
            # With next = 0 standing for 2**128: (next or 2**128) - id - 1 is in [0, 2**128) iff id < next.
            no_successor = is_zero(b, next_value)
            effective_next = b.constant(0) + next_value + no_successor * (1 << CREDENTIAL_ID_BITS)
            range_check(b, effective_next - credential_id - 1, CREDENTIAL_ID_BITS)
        leaf = poseidon(b, [low_value, next_value])
        assert_quaternary_merkle_inclusion(b, leaf, root, siblings, path_bits)


def _binary_root(
    b: Builder, leaf: SignalLike, siblings: Sequence[SignalLike], path_bits: Sequence[SignalLike]
) -> Signal:
    if len(path_bits) != len(siblings):
        raise CircuitDefinitionError(f"{len(siblings)} levels need {len(siblings)} path bits")
    _check_depth(len(siblings), MAX_PLAIN_BITS)
    node: Signal = b.constant(0) + leaf
    for level, (sibling, bit) in enumerate(zip(siblings, path_bits, strict=True)):
        with b.scope(f"level{level}"):
            ensure_bool(b, bit)
            # bit = 0: (node, sibling); bit = 1: (sibling, node). One constraint.
            swap = b.mul(bit, b.constant(0) + sibling - node)
            node = poseidon(b, [node + swap, sibling - swap])
    return node


@gadget("binary_merkle_root")
def binary_merkle_root(
    b: Builder, leaf: SignalLike, siblings: Sequence[SignalLike], path_bits: Sequence[SignalLike]
) -> Signal:
    """The root of a binary Poseidon Merkle tree (node ``poseidon([left, right])``) reached from ``leaf``.

    ``path_bits[k]`` is 1 when the level-``k`` node is a right child. Enforces: boolean path bits.
    Cost: ``242 * depth`` constraints.
    """
    return _binary_root(b, leaf, siblings, path_bits)


def assert_binary_merkle_inclusion(
    b: Builder, leaf: SignalLike, root: SignalLike, siblings: Sequence[SignalLike], path_bits: Sequence[SignalLike]
) -> None:
    """Enforce that the non-zero ``leaf`` is in the binary tree with ``root``. Cost: ``242 * depth + 1``."""
    with b.scope("assert_binary_merkle_inclusion"):
        b.assert_not_equal(leaf, 0)
        b.assert_equal(_binary_root(b, leaf, siblings, path_bits), root)


def assert_sparse_merkle_non_inclusion(
    b: Builder, root: SignalLike, key: SignalLike, siblings: Sequence[SignalLike]
) -> None:
    """Enforce that slot ``key`` of the fixed-depth sparse binary tree with ``root`` is empty (leaf 0).

    The depth is ``len(siblings)`` (1..253) and the key's bits, least significant first, are the path, so
    the key must be below ``2**depth`` (enforced by the decomposition, which also makes the bits boolean).
    Cost: ``depth + 241 * depth = 242 * depth`` constraints (9,680 at depth 40).
    """
    with b.scope("assert_sparse_merkle_non_inclusion"):
        bits = to_bits(b, key, len(siblings))
        b.assert_equal(_binary_root(b, 0, siblings, bits), root)


def assert_sparse_merkle_inclusion(
    b: Builder, root: SignalLike, key: SignalLike, leaf: SignalLike, siblings: Sequence[SignalLike]
) -> None:
    """Enforce that slot ``key`` of the sparse binary tree with ``root`` holds the non-zero ``leaf``.

    Cost: ``242 * depth + 1`` constraints.
    """
    with b.scope("assert_sparse_merkle_inclusion"):
        b.assert_not_equal(leaf, 0)
        bits = to_bits(b, key, len(siblings))
        b.assert_equal(_binary_root(b, leaf, siblings, bits), root)


# --------------------------------------------------------------------------- native twins


def _bits_native(path_bits: Sequence[int]) -> int:
    if any(bit not in (0, 1) for bit in path_bits):
        raise ValueError("path bits must be 0 or 1")
    return sum(bit << k for k, bit in enumerate(path_bits))


def quaternary_merkle_root_native(leaf: int, siblings: Sequence[Sequence[int]], path_bits: Sequence[int]) -> int:
    """Native twin of :func:`quaternary_merkle_root` (``zkhealth.credentials.trees.compute_merkle_root``).

    Raises ``ValueError`` for non-boolean path bits or a wrong count, as the circuit refuses them.
    """
    if len(path_bits) != 2 * len(siblings):
        raise ValueError("a quaternary path needs two bits per level")
    index = _bits_native(path_bits)
    node = leaf
    for level, triple in enumerate(siblings):
        children = list(triple)
        children.insert((index >> (2 * level)) & 3, node)
        node = poseidon_native(children)
    return node


def binary_merkle_root_native(leaf: int, siblings: Sequence[int], path_bits: Sequence[int]) -> int:
    """Native twin of :func:`binary_merkle_root`; ``ValueError`` for non-boolean path bits."""
    if len(path_bits) != len(siblings):
        raise ValueError("a binary path needs one bit per level")
    _bits_native(path_bits)
    node = leaf
    for sibling, bit in zip(siblings, path_bits, strict=True):
        node = poseidon_native([sibling, node] if bit else [node, sibling])
    return node


def indexed_non_membership_native(
    root: int,
    credential_id: int,
    low_value: int,
    next_value: int,
    siblings: Sequence[Sequence[int]],
    path_bits: Sequence[int],
) -> bool:
    """Native twin of :func:`assert_indexed_non_membership`: whether the same conditions hold."""
    bound = 1 << CREDENTIAL_ID_BITS
    if not all(0 <= v < bound for v in (credential_id, low_value, next_value)):
        return False
    if not low_value < credential_id or not (next_value == 0 or credential_id < next_value):
        return False
    try:
        leaf = poseidon_native([low_value, next_value])
        return quaternary_merkle_root_native(leaf, siblings, path_bits) == root
    except ValueError:
        return False
