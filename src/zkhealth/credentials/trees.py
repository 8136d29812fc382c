"""The trusted-issuer registry and the revocation tree: quaternary Poseidon Merkle trees.

Both trees follow one convention, shared with the circuit gadgets in :mod:`zkhealth.circuit.gadgets.merkle`
so that both compute the same roots:

* a node is ``poseidon([c0, c1, c2, c3])`` of its four children; an empty leaf is ``0`` and an empty subtree
  of height ``h`` hashes to :func:`empty_subtree_roots` ``[h]``;
* the position of a leaf is its index written in base 4, least significant digit first (digit ``k`` picks
  the child at level ``k``, counted from the leaves); in a circuit each digit is two boolean bits, low bit
  first;
* a Merkle proof carries, per level, the three siblings in child order with the proven node left out.

:class:`IssuerRegistry` (depth 5, 1024 slots) holds ``poseidon([Ax, Ay])`` of each trusted issuer's Baby
Jubjub key. :class:`RevocationTree` is an *indexed* Merkle tree (a sorted linked list laid over the leaves,
as in Aztec's indexed Merkle tree) of depth 16, persisted in SQLite; its leaf ``(value, next_value)``
proves that no revoked credential id lies strictly between ``value`` and ``next_value``, with
``next_value = 0`` meaning "no successor". A zero leaf is never a member of anything (docs/security.md C13).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeAlias

from zkhealth._fileio import as_path, naming, read_bytes
from zkhealth._json import loads_strict
from zkhealth.errors import (
    CorruptDatabaseError,
    CredentialError,
    CredentialRevokedError,
    EncodingError,
    FieldRangeError,
    FieldTypeError,
    FileAccessError,
    MerkleProofError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    ResourceBusyError,
    StorageError,
    UnknownIssuerError,
    UntrustedRootError,
    WeakIssuerKeyError,
    ZkHealthError,
)
from zkhealth.field import check_field_element, parse_field_element
from zkhealth.hash.poseidon import poseidon
from zkhealth.hazmat import babyjubjub
from zkhealth.signature.eddsa_poseidon import PublicKey

__all__ = [
    "ARITY",
    "BinaryMerkleTree",
    "CREDENTIAL_ID_BITS",
    "EMPTY_LEAF",
    "ISSUER_REGISTRY_DEPTH",
    "REVOCATION_TREE_DEPTH",
    "BUSY_TIMEOUT_SECONDS",
    "REGISTRY_MAX_BYTES",
    "REGISTRY_MAX_ISSUERS",
    "IssuerKey",
    "IssuerRegistry",
    "MerkleProof",
    "NonMembershipProof",
    "QuaternaryMerkleTree",
    "RevocationTree",
    "RootRecord",
    "compute_binary_merkle_root",
    "compute_merkle_root",
    "empty_subtree_roots",
    "issuer_leaf",
    "revocation_leaf",
    "validate_issuer_key",
    "verify_merkle_proof",
    "verify_non_membership",
]

#: Children per node.
ARITY: Final[int] = 4
#: The value of an empty leaf. It is never accepted as a member.
EMPTY_LEAF: Final[int] = 0
#: Depth of the trusted-issuer registry (4^5 = 1024 issuers).
ISSUER_REGISTRY_DEPTH: Final[int] = 5
#: Depth of the revocation tree (4^16 = 2^32 entries).
REVOCATION_TREE_DEPTH: Final[int] = 16
#: Credential ids are integers in [1, 2^128); in-circuit comparisons run at this width.
CREDENTIAL_ID_BITS: Final[int] = 128
#: Largest issuer registry file read (1,024 issuers take about 200 kB).
REGISTRY_MAX_BYTES: Final[int] = 1 << 20
#: Most issuers a registry file may list (each costs a key validation when read).
REGISTRY_MAX_ISSUERS: Final[int] = 4096
#: Deepest tree supported: leaf indices must fit SQLite's signed 64-bit integers.
MAX_DEPTH: Final[int] = 31

_ID_BOUND: Final[int] = 1 << CREDENTIAL_ID_BITS
_REGISTRY_FORMAT: Final[str] = "zkhealth.issuer-registry"
_REVOCATION_SCHEMA_VERSION: Final[str] = "1"
_CACHE_LIMIT: Final[int] = 1 << 20
_HEX64: Final[re.Pattern[str]] = re.compile(r"[0-9a-f]{64}", re.ASCII)
_DEPTH_TEXT: Final[re.Pattern[str]] = re.compile(r"[1-9][0-9]?", re.ASCII)


# --------------------------------------------------------------------------- helpers


def _check_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise FieldTypeError(f"tree depth must be an int, got {type(depth).__name__}")
    if not 1 <= depth <= MAX_DEPTH:
        raise EncodingError(f"tree depth {depth} is outside 1..{MAX_DEPTH}")
    return depth


def _check_index(index: object, depth: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise FieldTypeError(f"leaf index must be an int, got {type(index).__name__}")
    if not 0 <= index < (1 << (2 * depth)):
        raise FieldRangeError(f"leaf index {index} is outside [0, 4^{depth})")
    return index


def _check_credential_id(credential_id: object) -> int:
    """Credential ids are ints (not bool) in [1, 2^128)."""
    if isinstance(credential_id, bool) or not isinstance(credential_id, int):
        raise FieldTypeError(f"credential id must be an int, got {type(credential_id).__name__}")
    if not 1 <= credential_id < _ID_BOUND:
        raise FieldRangeError(f"credential id is outside [1, 2^{CREDENTIAL_ID_BITS})")
    return int(credential_id)


@functools.cache
def _empty_roots(depth: int) -> tuple[int, ...]:
    roots = [EMPTY_LEAF]
    for _ in range(depth):
        roots.append(poseidon([roots[-1]] * ARITY))
    return tuple(roots)


def empty_subtree_roots(depth: int) -> tuple[int, ...]:
    """Return ``(z_0, ..., z_depth)``: ``z_0 = 0`` and ``z_{h+1} = poseidon([z_h] * 4)``.

    ``z_h`` is the hash of an empty subtree of height ``h``; ``z_depth`` is the root of an empty tree.
    Cost: ``depth`` Poseidon(4) calls the first time, cached afterwards.
    """
    return _empty_roots(_check_depth(depth))


def path_digits(index: int, depth: int) -> tuple[int, ...]:
    """The base-4 digits of ``index``, least significant first (``depth`` of them)."""
    return tuple((index >> (2 * level)) & 3 for level in range(depth))


def path_bits(index: int, depth: int) -> tuple[int, ...]:
    """Two boolean bits per base-4 digit, low bit first: ``2 * depth`` bits, equal to ``index``'s binary digits."""
    return tuple((index >> k) & 1 for k in range(2 * depth))


def compute_merkle_root(leaf: int, index: int, siblings: Sequence[Sequence[int]]) -> int:
    """Hash ``leaf`` up to the root along ``index``'s base-4 path, with three ``siblings`` per level.

    Performs no validation (see :func:`verify_merkle_proof`). Cost: ``len(siblings)`` Poseidon(4) calls.
    """
    node = leaf
    for level, (s0, s1, s2) in enumerate(siblings):
        digit = (index >> (2 * level)) & 3
        if digit == 0:
            node = poseidon([node, s0, s1, s2])
        elif digit == 1:
            node = poseidon([s0, node, s1, s2])
        elif digit == 2:
            node = poseidon([s0, s1, node, s2])
        else:
            node = poseidon([s0, s1, s2, node])
    return node


def _decimal(value: int) -> str:
    return str(value)


def _expect_keys(obj: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise EncodingError(f"{what}: expected a JSON object")
    if set(obj) != keys:
        raise EncodingError(f"{what}: expected keys {sorted(keys)}, got {sorted(obj)}")
    return obj


def _parse_json_index(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EncodingError(f"{what}: expected a JSON integer")
    return value


# --------------------------------------------------------------------------- proofs


@dataclass(frozen=True)
class MerkleProof:
    """An inclusion proof in a quaternary Poseidon Merkle tree.

    ``siblings[k]`` holds the three other children of the level-``k`` ancestor's parent, in child order.
    Construction enforces the shape: a non-empty sequence of triples, field elements everywhere, and
    ``0 <= index < 4^depth``. It does not check the proof against any root (see :func:`verify_merkle_proof`).
    """

    leaf: int
    index: int
    siblings: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        check_field_element(self.leaf, what="Merkle leaf")
        raw = self.siblings
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or not raw:
            raise MerkleProofError("Merkle proof needs a non-empty sequence of sibling triples")
        triples: list[tuple[int, int, int]] = []
        for level, triple in enumerate(raw):
            if isinstance(triple, (str, bytes)) or not isinstance(triple, Sequence) or len(triple) != 3:
                raise MerkleProofError(f"Merkle proof level {level}: expected 3 siblings")
            a, b, c = (check_field_element(v, what=f"sibling at level {level}") for v in triple)
            triples.append((a, b, c))
        object.__setattr__(self, "siblings", tuple(triples))
        _check_depth(len(triples))
        _check_index(self.index, len(triples))

    @property
    def depth(self) -> int:
        """Number of levels."""
        return len(self.siblings)

    @property
    def path_digits(self) -> tuple[int, ...]:
        """Child position at each level, leaves first (base-4 digits of ``index``)."""
        return path_digits(self.index, self.depth)

    @property
    def path_bits(self) -> tuple[int, ...]:
        """The circuit's path bits: per level the low then the high bit of the digit."""
        return path_bits(self.index, self.depth)

    @property
    def flat_siblings(self) -> tuple[int, ...]:
        """The siblings as one list of ``3 * depth`` values, level by level (the circuit's input layout)."""
        return tuple(v for triple in self.siblings for v in triple)

    def compute_root(self) -> int:
        """The root this proof leads to. Cost: ``depth`` Poseidon(4) calls."""
        return compute_merkle_root(self.leaf, self.index, self.siblings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: decimal strings for field elements, an integer index."""
        return {
            "leaf": _decimal(self.leaf),
            "index": self.index,
            "siblings": [[_decimal(v) for v in triple] for triple in self.siblings],
        }

    @classmethod
    def from_dict(cls, obj: object) -> MerkleProof:
        """Parse :meth:`to_dict`'s output canonically (exact keys, canonical decimals)."""
        data = _expect_keys(obj, {"leaf", "index", "siblings"}, "Merkle proof")
        siblings = data["siblings"]
        if not isinstance(siblings, list) or not all(isinstance(t, list) for t in siblings):
            raise EncodingError("Merkle proof: siblings must be a list of lists")
        return cls(
            leaf=parse_field_element(data["leaf"], what="Merkle leaf"),
            index=_parse_json_index(data["index"], "Merkle proof index"),
            siblings=tuple(
                tuple(parse_field_element(v, what="Merkle sibling") for v in triple)  # type: ignore[misc]
                for triple in siblings
            ),
        )


def verify_merkle_proof(root: int, proof: MerkleProof, *, depth: int | None = None) -> None:
    """Check that ``proof`` proves ``proof.leaf`` at ``proof.index`` under ``root``.

    Enforces: ``root`` is a field element; the proof has ``depth`` levels when ``depth`` is given; the leaf is
    not the empty leaf 0 (an empty slot is never a member, docs/security.md C13); hashing the leaf up its path
    gives ``root``. Raises :class:`MerkleProofError` on failure (typed field errors for a malformed root).
    Cost: ``proof.depth`` Poseidon(4) calls.
    """
    check_field_element(root, what="Merkle root")
    if not isinstance(proof, MerkleProof):
        raise FieldTypeError(f"expected a MerkleProof, got {type(proof).__name__}")
    if depth is not None and proof.depth != depth:
        raise MerkleProofError(f"Merkle proof has {proof.depth} levels, the tree has {depth}")
    if proof.leaf == EMPTY_LEAF:
        raise MerkleProofError("the empty leaf 0 is never a member")
    if proof.compute_root() != root:
        raise MerkleProofError("Merkle proof does not lead to the expected root")


# --------------------------------------------------------------------------- node storage


class _NodeStore:
    """Node hashes of a quaternary tree keyed by (level, index); level 0 holds the leaves.

    Values live in a dictionary; with a SQLite connection the dictionary is a lazily filled cache of the
    ``nodes`` table and every write is queued and written through by :meth:`flush` (inside the caller's
    transaction). Missing nodes are empty subtrees. Level ``depth`` index 0 is the root.
    """

    def __init__(self, depth: int, conn: sqlite3.Connection | None = None) -> None:
        self.depth = depth
        self.zeros = _empty_roots(depth)
        self._conn = conn
        self._values: dict[tuple[int, int], int] = {}
        self._pending: dict[tuple[int, int], int] = {}

    def get(self, level: int, index: int) -> int:
        key = (level, index)
        value = self._values.get(key)
        if value is None:
            if self._conn is None:
                return self.zeros[level]
            row = self._conn.execute("SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)).fetchone()
            value = int.from_bytes(row[0], "big") if row is not None else self.zeros[level]
            self._values[key] = value
        return value

    def children(self, level: int, parent: int) -> list[int]:
        """The four children (at ``level``) of node ``parent`` (at ``level + 1``); one query on a cache miss."""
        base = parent * ARITY
        values = self._values
        found = [values.get((level, base + k)) for k in range(ARITY)]
        if None in found:
            if self._conn is None:
                zero = self.zeros[level]
                return [zero if v is None else v for v in found]
            rows = self._conn.execute(
                "SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ?",
                (level, base, base + ARITY),
            ).fetchall()
            stored = {int(idx): int.from_bytes(blob, "big") for idx, blob in rows}
            zero = self.zeros[level]
            for k in range(ARITY):
                if found[k] is None:
                    found[k] = stored.get(base + k, zero)
                    values[(level, base + k)] = found[k]  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def put(self, level: int, index: int, value: int) -> None:
        self._values[(level, index)] = value
        if self._conn is not None:
            self._pending[(level, index)] = value

    def update_leaves(self, leaves: Mapping[int, int]) -> int:
        """Set leaf hashes and rehash every dirty ancestor once; return the new root.

        Cost: one Poseidon(4) per distinct ancestor of the changed leaves: at most ``depth * len(leaves)``,
        and much less for a batch whose paths share their upper levels.
        """
        dirty = set()
        for index, leaf in leaves.items():
            self.put(0, index, leaf)
            dirty.add(index >> 2)
        for level in range(self.depth):
            parents = set()
            for parent in dirty:
                self.put(level + 1, parent, poseidon(self.children(level, parent)))
                parents.add(parent >> 2)
            dirty = parents
        return self.root()

    def root(self) -> int:
        return self.get(self.depth, 0)

    def siblings(self, index: int) -> tuple[tuple[int, int, int], ...]:
        result = []
        for level in range(self.depth):
            digit = index & 3
            index >>= 2
            kids = self.children(level, index)
            del kids[digit]
            result.append((kids[0], kids[1], kids[2]))
        return tuple(result)

    def flush(self) -> int:
        """Write queued node hashes to SQLite (within the caller's transaction); return the change of the
        rows' checksum (:func:`_node_row_hash` of each new row, minus that of each row it replaces)."""
        delta = 0
        if self._conn is not None and self._pending:
            rows = []
            for (level, idx), value in self._pending.items():
                old = self._conn.execute("SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, idx)).fetchone()
                if old is not None:
                    delta -= _node_row_hash(level, idx, bytes(old[0]))
                blob = value.to_bytes(32, "big")
                delta += _node_row_hash(level, idx, blob)
                rows.append((level, idx, blob))
            self._conn.executemany("INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
        self._pending.clear()
        return delta

    def discard(self) -> None:
        """Forget cached and queued values (after a rollback); they are reloaded from SQLite on demand."""
        self._values.clear()
        self._pending.clear()

    def trim(self) -> None:
        """Bound the cache's memory for SQLite-backed trees (only between operations)."""
        if self._conn is not None and not self._pending and len(self._values) > _CACHE_LIMIT:
            self._values.clear()


# --------------------------------------------------------------------------- in-memory tree


class _Quaternary:
    """What every quaternary tree backed by a :class:`_NodeStore` answers the same way."""

    _nodes: _NodeStore

    @property
    def depth(self) -> int:
        """Number of levels between the leaves and the root."""
        return self._nodes.depth

    @property
    def capacity(self) -> int:
        """Number of leaf slots, ``4^depth``."""
        return 1 << (2 * self.depth)


class QuaternaryMerkleTree(_Quaternary):
    """An in-memory arity-4 Poseidon Merkle tree of fixed ``depth`` (``4^depth`` leaves, all 0 at first).

    ``set`` costs ``depth`` Poseidon(4) calls; ``set_many`` rehashes each dirty node once; ``proof`` reads
    ``3 * depth`` stored hashes and hashes nothing.
    """

    def __init__(self, depth: int) -> None:
        self._nodes = _NodeStore(_check_depth(depth))

    @property
    def root(self) -> int:
        """The current root (the empty-tree root while every leaf is 0)."""
        return self._nodes.root()

    def leaf(self, index: int) -> int:
        """The leaf at ``index`` (0 for an empty slot)."""
        return self._nodes.get(0, _check_index(index, self.depth))

    def set(self, index: int, leaf: int) -> int:
        """Store ``leaf`` (a field element; 0 empties the slot) at ``index`` and return the new root."""
        return self.set_many({index: leaf})

    def set_many(self, leaves: Mapping[int, int]) -> int:
        """Store several leaves at once; return the new root. Validates everything before changing anything."""
        checked = {
            _check_index(index, self.depth): check_field_element(leaf, what="Merkle leaf")
            for index, leaf in leaves.items()
        }
        return self._nodes.update_leaves(checked)

    def proof(self, index: int) -> MerkleProof:
        """The Merkle proof of the leaf at ``index``. A proof of an empty slot exists but never verifies."""
        index = _check_index(index, self.depth)
        return MerkleProof(leaf=self._nodes.get(0, index), index=index, siblings=self._nodes.siblings(index))

    def verify(self, proof: MerkleProof) -> None:
        """:func:`verify_merkle_proof` against this tree's current root and depth."""
        verify_merkle_proof(self.root, proof, depth=self.depth)


# --------------------------------------------------------------------------- binary trees


def compute_binary_merkle_root(leaf: int, index: int, siblings: Sequence[int]) -> int:
    """Hash ``leaf`` up a binary Poseidon tree (``poseidon([left, right])``); bit ``k`` of ``index`` is 1
    when the level-``k`` node is a right child. No validation. Cost: ``len(siblings)`` Poseidon(2) calls."""
    node = leaf
    for level, sibling in enumerate(siblings):
        node = poseidon([sibling, node] if (index >> level) & 1 else [node, sibling])
    return node


class BinaryMerkleTree:
    """A fixed-depth binary Poseidon Merkle tree, sparse in memory: the native twin of the binary and
    sparse-binary gadgets of :mod:`zkhealth.circuit.gadgets.merkle`.

    Empty leaves are 0 and an empty subtree of height ``h`` hashes to ``e_h`` (``e_{h+1} =
    poseidon([e_h, e_h])``), so a depth-253 tree keyed by ids costs only what is stored. ``set`` costs
    ``depth`` Poseidon(2) calls.
    """

    def __init__(self, depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise FieldTypeError("tree depth must be an int")
        if not 1 <= depth <= 253:
            raise EncodingError(f"binary tree depth {depth} is outside 1..253")
        self.depth = depth
        zeros = [EMPTY_LEAF]
        for _ in range(depth):
            zeros.append(poseidon([zeros[-1], zeros[-1]]))
        self._zeros = tuple(zeros)
        self._nodes: dict[tuple[int, int], int] = {}

    def _check(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise FieldTypeError("leaf index must be an int")
        if not 0 <= index < 1 << self.depth:
            raise FieldRangeError(f"leaf index is outside [0, 2^{self.depth})")
        return index

    def _get(self, level: int, index: int) -> int:
        return self._nodes.get((level, index), self._zeros[level])

    @property
    def root(self) -> int:
        """The current root."""
        return self._get(self.depth, 0)

    def leaf(self, index: int) -> int:
        """The leaf at ``index`` (0 when empty)."""
        return self._get(0, self._check(index))

    def set(self, index: int, leaf: int) -> int:
        """Store a leaf (a field element; 0 empties the slot) and return the new root."""
        index = self._check(index)
        node = check_field_element(leaf, what="Merkle leaf")
        self._nodes[(0, index)] = node
        for level in range(self.depth):
            sibling = self._get(level, index ^ 1)
            node = poseidon([sibling, node] if index & 1 else [node, sibling])
            index >>= 1
            self._nodes[(level + 1, index)] = node
        return node

    def siblings(self, index: int) -> tuple[int, ...]:
        """The ``depth`` siblings on the path of ``index``, leaves first."""
        index = self._check(index)
        result = []
        for level in range(self.depth):
            result.append(self._get(level, index ^ 1))
            index >>= 1
        return tuple(result)


# --------------------------------------------------------------------------- trusted-issuer registry


#: An issuer's Baby Jubjub key: its affine point ``(Ax, Ay)`` or an EdDSA-Poseidon :class:`PublicKey`.
IssuerKey: TypeAlias = tuple[int, int] | PublicKey


def _issuer_point(pubkey: object) -> tuple[int, int]:
    """Extract (x, y) from a tuple, an object with ``.point`` or an object with ``.x`` / ``.y``."""
    candidate: object = pubkey
    if not isinstance(candidate, tuple) and hasattr(candidate, "point"):
        candidate = candidate.point
    if isinstance(candidate, tuple):
        if len(candidate) != 2:
            raise FieldTypeError("an issuer key tuple must be (x, y)")
        x, y = candidate
    elif hasattr(candidate, "x") and hasattr(candidate, "y"):
        x, y = candidate.x, candidate.y
    else:
        raise FieldTypeError(f"expected a Baby Jubjub public key or an (x, y) tuple, got {type(pubkey).__name__}")
    return (
        check_field_element(int(x) if hasattr(x, "value") else x, what="issuer key x"),
        check_field_element(int(y) if hasattr(y, "value") else y, what="issuer key y"),
    )


def validate_issuer_key(pubkey: IssuerKey) -> tuple[int, int]:
    """Return the issuer key's affine point after checking it is a safe EdDSA verification key.

    Enforces: coordinates are field elements; the point is on Baby Jubjub (:class:`PointNotOnCurveError`);
    it is not the identity nor another point of small order, which would verify forged signatures
    (docs/security.md S3, :class:`WeakIssuerKeyError`); it lies in the prime-order subgroup
    (:class:`PointNotInSubgroupError`). Cost: two scalar multiplications.
    """
    point = _issuer_point(pubkey)
    if not babyjubjub.is_on_curve(point):
        raise PointNotOnCurveError("issuer key is not on Baby Jubjub")
    if babyjubjub.is_small_order(point):
        raise WeakIssuerKeyError("issuer key has small order (identity or torsion point): forgeable")
    if not babyjubjub.in_subgroup(point):
        raise PointNotInSubgroupError("issuer key is outside the prime-order subgroup")
    return point


def issuer_leaf(pubkey: IssuerKey) -> int:
    """The registry leaf of an issuer key: ``poseidon([Ax, Ay])``. Validates the key first."""
    x, y = validate_issuer_key(pubkey)
    return poseidon([x, y])


class IssuerRegistry:
    """The trusted-issuer set: a quaternary Poseidon Merkle tree of ``poseidon([Ax, Ay])`` leaves.

    Issuers take slots in order of addition; a removed issuer's slot is emptied (leaf 0) and not reused, so
    indices stay stable. The root is what a verifier pins (``to_json`` / ``from_json(expected_root=...)``).
    """

    def __init__(self, depth: int = ISSUER_REGISTRY_DEPTH) -> None:
        self._tree = QuaternaryMerkleTree(depth)
        self._index: dict[tuple[int, int], int] = {}
        self._next_index = 0

    @property
    def depth(self) -> int:
        """Tree depth (5 for the standard circuit)."""
        return self._tree.depth

    @property
    def root(self) -> int:
        """The trusted-issuer root, a public signal of the eligibility circuit."""
        return self._tree.root

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, pubkey: IssuerKey) -> bool:
        return self.contains(pubkey)

    def issuers(self) -> list[tuple[int, tuple[int, int]]]:
        """``(index, (x, y))`` of every registered issuer, by index."""
        return sorted(((index, point) for point, index in self._index.items()), key=lambda item: item[0])

    def add(self, pubkey: IssuerKey) -> int:
        """Register an issuer key and return its slot; adding a registered key again returns its slot.

        Enforces :func:`validate_issuer_key`; raises :class:`CredentialError` when the registry is full.
        Cost: key validation plus ``depth`` Poseidon(4) calls.
        """
        point = validate_issuer_key(pubkey)
        existing = self._index.get(point)
        if existing is not None:
            return existing
        if self._next_index >= self._tree.capacity:
            raise CredentialError(f"issuer registry is full ({self._tree.capacity} slots)")
        index = self._next_index
        self._tree.set(index, poseidon([point[0], point[1]]))
        self._index[point] = index
        self._next_index += 1
        return index

    def remove(self, pubkey: IssuerKey) -> None:
        """Withdraw an issuer: its slot becomes the empty leaf. Raises :class:`UnknownIssuerError` if absent."""
        index = self.index_of(pubkey)
        self._tree.set(index, EMPTY_LEAF)
        del self._index[_issuer_point(pubkey)]

    def contains(self, pubkey: IssuerKey) -> bool:
        """Whether this exact key is registered (malformed keys are simply not registered)."""
        try:
            return _issuer_point(pubkey) in self._index
        except (FieldTypeError, FieldRangeError):
            return False

    def index_of(self, pubkey: IssuerKey) -> int:
        """The key's slot. Raises :class:`UnknownIssuerError` when it is not registered."""
        index = self._index.get(_issuer_point(pubkey))
        if index is None:
            raise UnknownIssuerError("issuer key is not in the trusted-issuer registry")
        return index

    def proof(self, pubkey: IssuerKey) -> MerkleProof:
        """The membership proof of a registered key (:class:`UnknownIssuerError` otherwise)."""
        return self._tree.proof(self.index_of(pubkey))

    def verify(self, pubkey: IssuerKey, proof: MerkleProof, *, root: int | None = None) -> None:
        """Check that ``proof`` shows ``pubkey`` registered under ``root`` (default: the current root).

        Enforces: the proof's leaf is ``poseidon([Ax, Ay])`` of this (valid) key, the proof has this
        registry's depth and leads to the root. Raises :class:`UnknownIssuerError` otherwise, including
        for the empty leaf (docs/security.md C13).
        """
        leaf = issuer_leaf(pubkey)
        if proof.leaf != leaf:
            raise UnknownIssuerError("the proof is for another issuer key")
        try:
            verify_merkle_proof(self.root if root is None else root, proof, depth=self.depth)
        except MerkleProofError as exc:
            raise UnknownIssuerError("issuer key is not proven in the trusted-issuer registry") from exc

    def to_json(self) -> str:
        """Serialise as JSON: format tag, depth, next free slot, issuers (slot, x, y) and the root."""
        return json.dumps(
            {
                "format": _REGISTRY_FORMAT,
                "version": 1,
                "depth": self.depth,
                "next_index": self._next_index,
                "issuers": [{"index": index, "x": _decimal(x), "y": _decimal(y)} for index, (x, y) in self.issuers()],
                "root": _decimal(self.root),
            },
            indent=2,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, expected_root: int | None = None) -> IssuerRegistry:
        """Read a registry file written from :meth:`to_json` (at most :data:`REGISTRY_MAX_BYTES`); errors name
        the file (:class:`~zkhealth.errors.FileAccessError` when it cannot be read)."""
        data = read_bytes(path, max_bytes=REGISTRY_MAX_BYTES, error=EncodingError)
        with naming(path):
            return cls.from_json(data, expected_root=expected_root)

    @classmethod
    def from_json(cls, text: str | bytes, *, expected_root: int | None = None) -> IssuerRegistry:
        """Rebuild a registry from :meth:`to_json` output, validating every key again.

        Enforces strict JSON (no duplicate keys, no NaN), canonical decimals, distinct in-range slots, and
        that the rebuilt root equals the stored one (:class:`EncodingError` otherwise). With
        ``expected_root`` (a pinned root), a different root raises :class:`UntrustedRootError`.
        """
        data = _expect_keys(
            loads_strict(text, what="issuer registry", max_bytes=REGISTRY_MAX_BYTES),
            {"format", "version", "depth", "next_index", "issuers", "root"},
            "issuer registry",
        )
        if data["format"] != _REGISTRY_FORMAT or data["version"] != 1:
            raise EncodingError("not a version-1 zkhealth issuer registry")
        registry = cls(_parse_json_index(data["depth"], "registry depth"))
        next_index = _parse_json_index(data["next_index"], "registry next_index")
        if not 0 <= next_index <= registry._tree.capacity:
            raise EncodingError("registry next_index is out of range")
        if not isinstance(data["issuers"], list):
            raise EncodingError("registry issuers must be a list")
        if len(data["issuers"]) > min(next_index, REGISTRY_MAX_ISSUERS):
            raise EncodingError(f"registry lists {len(data['issuers'])} issuers, more than its slots allow")
        leaves: dict[int, int] = {}
        for entry in data["issuers"]:
            item = _expect_keys(entry, {"index", "x", "y"}, "registry issuer")
            index = _parse_json_index(item["index"], "issuer slot")
            if not 0 <= index < next_index or index in leaves:
                raise EncodingError(f"issuer slot {index} is out of range or repeated")
            point = validate_issuer_key(
                (parse_field_element(item["x"], what="issuer x"), parse_field_element(item["y"], what="issuer y"))
            )
            if point in registry._index:
                raise EncodingError("an issuer key is listed twice")
            registry._index[point] = index
            leaves[index] = poseidon([point[0], point[1]])
        registry._tree.set_many(leaves)
        registry._next_index = next_index
        stored_root = parse_field_element(data["root"], what="registry root")
        if registry.root != stored_root:
            raise EncodingError("issuer registry root does not match its issuers")
        if expected_root is not None and registry.root != expected_root:
            raise UntrustedRootError("issuer registry root differs from the pinned root")
        return registry


# --------------------------------------------------------------------------- revocation tree


def revocation_leaf(value: int, next_value: int) -> int:
    """The indexed-tree leaf ``poseidon([value, next_value])``."""
    return poseidon([value, next_value])


@dataclass(frozen=True)
class NonMembershipProof:
    """Proof that a credential id is absent from the revocation tree.

    The leaf ``(low_value, next_value)`` sits in the tree (``merkle`` proves ``poseidon([low, next])``), and
    ``low_value < id < next_value`` (or ``next_value == 0``, no successor). The sorted-list invariant the
    tree maintains makes that interval free of revoked ids.
    """

    low_value: int
    next_value: int
    merkle: MerkleProof

    def __post_init__(self) -> None:
        for name in ("low_value", "next_value"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise FieldTypeError(f"{name} must be an int")
            if not 0 <= value < _ID_BOUND:
                raise FieldRangeError(f"{name} is outside [0, 2^{CREDENTIAL_ID_BITS})")
        if not isinstance(self.merkle, MerkleProof):
            raise FieldTypeError("merkle must be a MerkleProof")

    @property
    def low_index(self) -> int:
        """Leaf index of the low leaf."""
        return self.merkle.index

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "low_value": _decimal(self.low_value),
            "next_value": _decimal(self.next_value),
            "merkle": self.merkle.to_dict(),
        }

    @classmethod
    def from_dict(cls, obj: object) -> NonMembershipProof:
        """Parse :meth:`to_dict`'s output canonically."""
        data = _expect_keys(obj, {"low_value", "next_value", "merkle"}, "non-membership proof")
        return cls(
            low_value=parse_field_element(data["low_value"], what="low_value"),
            next_value=parse_field_element(data["next_value"], what="next_value"),
            merkle=MerkleProof.from_dict(data["merkle"]),
        )


def verify_non_membership(
    root: int, credential_id: int, proof: NonMembershipProof, *, depth: int = REVOCATION_TREE_DEPTH
) -> None:
    """Check that ``proof`` shows ``credential_id`` absent from the revocation tree with ``root``.

    Enforces: ``credential_id`` in [1, 2^128); the Merkle proof has ``depth`` levels, its leaf is
    ``poseidon([low_value, next_value])`` and it leads to ``root``; then ``low_value < id`` and
    (``id < next_value`` or ``next_value == 0``). Raises :class:`CredentialRevokedError` when the proven leaf
    shows the id itself revoked (``id`` equals ``low_value`` or ``next_value``), :class:`MerkleProofError`
    for any other failure. Cost: ``depth`` Poseidon(4) calls plus one Poseidon(2).
    """
    credential_id = _check_credential_id(credential_id)
    if not isinstance(proof, NonMembershipProof):
        raise FieldTypeError(f"expected a NonMembershipProof, got {type(proof).__name__}")
    if proof.merkle.leaf != revocation_leaf(proof.low_value, proof.next_value):
        raise MerkleProofError("the proof's leaf is not poseidon([low_value, next_value])")
    verify_merkle_proof(root, proof.merkle, depth=depth)
    if credential_id in (proof.low_value, proof.next_value):
        raise CredentialRevokedError("the credential id is in the revocation tree")
    if not proof.low_value < credential_id:
        raise MerkleProofError("the low leaf's value is not below the credential id")
    if proof.next_value != 0 and not credential_id < proof.next_value:
        raise MerkleProofError("the low leaf's successor is not above the credential id")


@dataclass(frozen=True)
class RootRecord:
    """One entry of the revocation root history."""

    sequence: int
    root: int
    leaf_count: int
    timestamp: float


def _id_blob(value: int) -> bytes:
    # 16-byte big-endian blobs sort (memcmp) in numeric order, so SQLite's index answers "largest below".
    return value.to_bytes(16, "big")


def _blob_id(blob: bytes) -> int:
    return int.from_bytes(blob, "big")


# The checksum of a revocation database: the sum, mod 2^256, of the SHA-256 of every row of ``leaves`` and
# ``nodes`` (a multiset hash, so one revocation updates it with the rows it changes). It detects corruption
# and edits that do not also rewrite the checksum; it is not a MAC (the file is not authenticated: anyone
# who can write it can recompute the sum, and :meth:`RevocationTree.verify` with ``full=True`` recomputes
# every hash from the leaves instead).
_DIGEST_MODULUS: Final[int] = 1 << 256


def _row_hash(tag: bytes, *parts: bytes) -> int:
    digest = hashlib.sha256(tag)
    for part in parts:
        digest.update(len(part).to_bytes(2, "big"))
        digest.update(part)
    return int.from_bytes(digest.digest(), "big")


def _leaf_row_hash(idx: int, value: bytes, next_value: bytes) -> int:
    return _row_hash(b"zkhealth.revocation.leaf", idx.to_bytes(8, "big"), value, next_value)


def _node_row_hash(level: int, idx: int, node_hash: bytes) -> int:
    return _row_hash(b"zkhealth.revocation.node", level.to_bytes(1, "big"), idx.to_bytes(8, "big"), node_hash)


def _sqlite_error(exc: sqlite3.Error, path: str) -> ZkHealthError:
    """The library error for a SQLite failure on the database at ``path`` (by SQLite's error code)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (not name and "locked" in text):
        return ResourceBusyError(f"{path}: the revocation database is locked by another process; try again")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")) or (
        not name and "unable to open" in text
    ):
        return FileAccessError(f"{path}: cannot open the revocation database: {text}")
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or (not name and ("disk I/O" in text or "full" in text)):
        return StorageError(f"{path}: the revocation database could not be written: {text}")
    return CorruptDatabaseError(f"{path}: not a usable revocation database: {text}")


_SCHEMA: Final[str] = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (
    idx INTEGER PRIMARY KEY,
    value BLOB NOT NULL UNIQUE,
    next_value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS roots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL,
    leaf_count INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS holders (
    patient TEXT PRIMARY KEY,
    commitment TEXT NOT NULL,
    credential_id BLOB NOT NULL,
    issued_at REAL NOT NULL
);
"""

#: How long a write waits for another process's transaction on the same file before giving up.
BUSY_TIMEOUT_SECONDS: Final[float] = 30.0


class RevocationTree(_Quaternary):
    """An indexed Merkle tree of revoked credential ids, persisted in SQLite.

    Leaves are ``poseidon([value, next_value])`` where the values form a sorted linked list: leaf 0 is
    ``(0, smallest id)`` and the largest id points to 0 ("no successor"). Revoking an id updates its
    predecessor's leaf and appends ``(id, predecessor's old next)`` at the next free index: two Merkle paths,
    at most ``2 * depth`` Poseidon(4) calls (fewer where the paths meet).

    Tables: ``leaves`` (index, value, next), ``nodes`` (every non-empty node hash, by level and index),
    ``roots`` (history: one row at creation and one per changing ``revoke`` / ``revoke_many``) and ``meta``
    (schema, depth and the checksum of every ``leaves`` and ``nodes`` row). Node hashes are cached in memory
    and written through in the same transaction, so a crash leaves either the old or the new state.

    Integrity: opening a file checks SQLite's own structure (``PRAGMA quick_check``), the checksum, the
    sorted-list invariant of the leaves and that the root node is the last root of the history; a file that
    fails raises :class:`~zkhealth.errors.CorruptDatabaseError` and serves nothing. Every Merkle proof is
    checked against the root before it is returned. :meth:`verify` with ``full=True`` recomputes every node
    hash from the leaves.

    Concurrency: several connections (processes) may share a file. Writes take SQLite's write lock (waiting
    up to :data:`BUSY_TIMEOUT_SECONDS`, then :class:`~zkhealth.errors.ResourceBusyError`) and apply against the
    file's current state, so concurrent revocations serialize and none is lost; reads run in a snapshot, and
    a connection drops its cache when the root history shows another connection's commit.

    ``revoke`` is idempotent: revoking an id already revoked changes nothing and returns ``False``.
    Open a file again with the same path to get the same state; the depth is stored in the file.
    """

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", *, depth: int | None = None, durable: bool = True
    ) -> None:
        """Open (or create) the tree stored at ``path`` (``":memory:"`` for a temporary one).

        A new file gets ``depth`` (default 16); an existing one keeps its stored depth, and a different
        ``depth`` raises :class:`CredentialError`. A path whose directory does not exist raises
        :class:`~zkhealth.errors.FileAccessError`; a file that is not a revocation tree, or fails its
        integrity check, :class:`~zkhealth.errors.CorruptDatabaseError`. Files use SQLite's write-ahead log;
        ``durable=True`` syncs it at every commit (about one fsync per ``revoke`` / ``revoke_many``),
        ``durable=False`` only at checkpoints, which survives a crash of the process but may lose the latest
        commits on power loss. Cost of opening an existing file: one pass over its rows (one SHA-256 each).
        """
        self._path = os.fspath(as_path(path, what="revocation database path"))
        if self._path != ":memory:":
            target = Path(self._path)
            parent = target.parent if str(target.parent) else Path(".")
            if not parent.is_dir():
                raise FileAccessError(f"{self._path}: cannot create the database: {parent} is not a directory")
            if target.exists() and not target.is_file():
                raise FileAccessError(f"{self._path}: not a file")
        self._seen_seq = -1
        self._leaf_count = 0
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self._path) from None
        try:
            with self._guard():
                self._open(depth, durable)
        except BaseException:
            self._conn.close()
            raise

    def _open(self, depth: int | None, durable: bool) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        check = self._conn.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise CorruptDatabaseError(f"{self._path}: SQLite reports a damaged file ({check[0] if check else '?'})")
        self._conn.execute("BEGIN")
        try:
            ready = self._load(depth, writable=False)
        finally:
            self._conn.execute("COMMIT")
        if not ready:
            # A new file, or one written before checksums: take the write lock, then look again (another
            # process may have initialised it meanwhile).
            with self._write_lock():
                self._load(depth, writable=True)
        row = self._conn.execute("SELECT COALESCE(MAX(idx), -1) + 1 FROM leaves").fetchone()
        self._leaf_count = int(row[0])
        self._seen_seq = self._latest_seq()

    def _load(self, depth: int | None, *, writable: bool) -> bool:
        """Read the meta table and check the file; return ``False`` when it needs a write first (creating the
        tables, the first root, or the checksum of a file that has none) and ``writable`` is not set."""
        if self._tables_missing():
            if not writable:
                return False
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
        stored = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if not stored:
            if not writable:
                return False
            self._nodes = _NodeStore(_check_depth(REVOCATION_TREE_DEPTH if depth is None else depth), self._conn)
            self._initialise()
            return True
        if stored.get("schema") != _REVOCATION_SCHEMA_VERSION or not _DEPTH_TEXT.fullmatch(str(stored.get("depth"))):
            raise CorruptDatabaseError(f"{self._path}: not a zkhealth revocation tree (schema or depth)")
        tree_depth = int(stored["depth"])
        if not 1 <= tree_depth <= MAX_DEPTH:
            raise CorruptDatabaseError(f"{self._path}: stored depth {tree_depth} is out of range")
        if depth is not None and depth != tree_depth:
            raise CredentialError(f"revocation tree file has depth {tree_depth}, not {depth}")
        self._nodes = _NodeStore(tree_depth, self._conn)
        if "checksum" not in stored:
            if not writable:
                return False
            self._verify_full()
            self._set_meta("checksum", f"{self._quick_check(None):064x}")
            return True
        checksum = str(stored["checksum"])
        self._quick_check(int(checksum, 16) if _HEX64.fullmatch(checksum) else -1)
        return True

    def _tables_missing(self) -> bool:
        names = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return not {"meta", "leaves", "nodes", "roots", "holders"} <= names

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error), without the cache bookkeeping."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _add_to_checksum(self, delta: int) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'checksum'").fetchone()
        current = int(row[0], 16) if row is not None and _HEX64.fullmatch(row[0]) else 0
        self._set_meta("checksum", f"{(current + delta) % _DIGEST_MODULUS:064x}")

    def _corrupt(self, what: str) -> CorruptDatabaseError:
        return CorruptDatabaseError(f"{self._path}: the revocation database is corrupt: {what}")

    def _quick_check(self, expected: int | None) -> int:
        """Check the rows against the checksum ``expected`` (``None``: only compute it), the sorted-list
        invariant and the root against the history; return the checksum. Cost: one pass over the rows."""
        depth = self.depth
        checksum = 0
        leaves = self._conn.execute("SELECT idx, value, next_value FROM leaves ORDER BY idx").fetchall()
        links: dict[int, int] = {}
        for position, (idx, value, next_value) in enumerate(leaves):
            if not (isinstance(idx, int) and idx == position and isinstance(value, bytes)
                    and isinstance(next_value, bytes) and len(value) == 16 and len(next_value) == 16):
                raise self._corrupt(f"leaf row {position} is malformed")
            checksum += _leaf_row_hash(idx, value, next_value)
            links[_blob_id(value)] = _blob_id(next_value)
        if not leaves or 0 not in links:
            raise self._corrupt("the (0, ...) list head is missing")
        if len(leaves) > 1 << (2 * depth):
            raise self._corrupt("more leaves than the tree holds")
        # The sorted list: following next pointers from 0 visits every value once, in increasing order.
        value, visited = 0, 1
        while links[value] != 0:
            following = links[value]
            if following <= value or following not in links:
                raise self._corrupt(f"the sorted list is broken after {value}")
            value, visited = following, visited + 1
        if visited != len(links):
            raise self._corrupt("some revoked ids are not on the sorted list")
        root_blob: bytes | None = None
        for level, idx, node_hash in self._conn.execute("SELECT level, idx, hash FROM nodes"):
            if not (isinstance(level, int) and isinstance(idx, int) and isinstance(node_hash, bytes)
                    and 0 <= level <= depth and 0 <= idx < 1 << (2 * (depth - level)) and len(node_hash) == 32):
                raise self._corrupt("a node row is malformed")
            checksum += _node_row_hash(level, idx, node_hash)
            if level == depth:
                root_blob = node_hash
        checksum %= _DIGEST_MODULUS
        if expected is not None and checksum != expected:
            raise self._corrupt("its rows do not match its checksum")
        latest = self._conn.execute("SELECT root, leaf_count FROM roots ORDER BY seq DESC LIMIT 1").fetchone()
        if root_blob is None or latest is None:
            raise self._corrupt("the root or the root history is missing")
        if str(latest[0]) != str(int.from_bytes(root_blob, "big")) or latest[1] != len(leaves):
            raise self._corrupt("the root differs from the last root of the history")
        return checksum

    def _verify_full(self) -> None:
        """Recompute every node hash from the leaves and compare it with the stored rows and the root."""
        depth = self.depth
        rows = self._conn.execute("SELECT idx, value, next_value FROM leaves ORDER BY idx").fetchall()
        level_values = [revocation_leaf(_blob_id(value), _blob_id(next_value)) for _, value, next_value in rows]
        stored: dict[tuple[int, int], bytes] = {
            (int(level), int(idx)): bytes(blob)
            for level, idx, blob in self._conn.execute("SELECT level, idx, hash FROM nodes")
        }
        zeros = _empty_roots(depth)
        for level in range(depth + 1):
            for idx, value in enumerate(level_values):
                if stored.pop((level, idx), None) != value.to_bytes(32, "big"):
                    raise self._corrupt(f"node {idx} of level {level} differs from the hash of its children")
            if level == depth:
                break
            padded = level_values + [zeros[level]] * (-len(level_values) % ARITY)
            level_values = [poseidon(padded[k : k + ARITY]) for k in range(0, len(padded), ARITY)] or [zeros[level + 1]]
        if stored:
            raise self._corrupt(f"{len(stored)} node rows lie outside the tree's leaves")
        latest = self._conn.execute("SELECT root FROM roots ORDER BY seq DESC LIMIT 1").fetchone()
        if latest is None or str(latest[0]) != str(level_values[0]):
            raise self._corrupt("the root differs from the last root of the history")

    def verify(self, *, full: bool = False) -> None:
        """Check the file again: the checksum, the sorted list and the root (as on opening), and with
        ``full=True`` every node hash recomputed from the leaves (``len(self)`` Poseidon(2) and about a third
        as many Poseidon(4) calls). Raises :class:`~zkhealth.errors.CorruptDatabaseError`."""
        with self._guard(), self._snapshot():
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'checksum'").fetchone()
            expected = int(row[0], 16) if row is not None and _HEX64.fullmatch(row[0]) else -1
            self._quick_check(expected)
            if full:
                self._verify_full()

    def _initialise(self) -> None:
        self._conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("schema", _REVOCATION_SCHEMA_VERSION), ("depth", str(self.depth))],
        )
        self._conn.execute("INSERT INTO leaves (idx, value, next_value) VALUES (0, ?, ?)", (_id_blob(0), _id_blob(0)))
        root = self._nodes.update_leaves({0: revocation_leaf(0, 0)})
        delta = self._nodes.flush() + _leaf_row_hash(0, _id_blob(0), _id_blob(0))
        self._set_meta("checksum", f"{delta % _DIGEST_MODULUS:064x}")
        self._record_root(root, 1)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite failures into the library's errors, naming the file."""
        try:
            yield
        except ZkHealthError:
            raise
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self._path) from None
        except (ValueError, TypeError) as exc:  # a damaged TEXT value (bad UTF-8, not a decimal)
            raise CorruptDatabaseError(f"{self._path}: the revocation database is corrupt: {exc}") from None

    class _Transaction:
        def __init__(self, tree: RevocationTree) -> None:
            self._tree = tree

        def __enter__(self) -> None:
            self._tree._conn.execute("BEGIN IMMEDIATE")
            try:
                self._tree._sync()
            except BaseException:
                self._rollback()
                raise

        def _rollback(self) -> None:
            with suppress(sqlite3.Error):
                self._tree._conn.execute("ROLLBACK")
            self._tree._nodes.discard()
            self._tree._seen_seq = -1

        def __exit__(
            self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
        ) -> None:
            if exc_type is None:
                try:
                    self._tree._conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            else:
                self._rollback()

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction: a consistent view even while another connection writes the file."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            self._sync()
            yield
        finally:
            self._conn.execute("COMMIT")

    def _latest_seq(self) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM roots").fetchone()
        return int(row[0])

    def _sync(self) -> None:
        """Drop cached nodes if another connection changed the file since this one last looked."""
        seq = self._latest_seq()
        if seq != self._seen_seq:
            self._nodes.discard()
            row = self._conn.execute("SELECT COALESCE(MAX(idx), -1) + 1 FROM leaves").fetchone()
            self._leaf_count = int(row[0])
            self._seen_seq = seq

    def _transaction(self) -> RevocationTree._Transaction:
        return RevocationTree._Transaction(self)

    def _record_root(self, root: int, leaf_count: int) -> None:
        cursor = self._conn.execute(
            "INSERT INTO roots (root, leaf_count, created_at) VALUES (?, ?, ?)",
            (_decimal(root), leaf_count, time.time()),
        )
        self._seen_seq = int(cursor.lastrowid or 0)

    def close(self) -> None:
        """Close the SQLite connection."""
        self._conn.close()

    def __enter__(self) -> RevocationTree:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ queries

    def _checked_root(self) -> int:
        """The root node, refused unless it is the last root of the history (inside a snapshot)."""
        root = self._nodes.root()
        latest = self._conn.execute("SELECT root FROM roots ORDER BY seq DESC LIMIT 1").fetchone()
        if latest is None or str(latest[0]) != str(root):
            raise self._corrupt("the root differs from the last root of the history")
        return root

    @property
    def root(self) -> int:
        """The current revocation root, a public signal of the eligibility circuit."""
        with self._guard(), self._snapshot():
            return self._checked_root()

    def __len__(self) -> int:
        """Number of revoked ids (the leaf count minus the initial ``(0, ...)`` leaf)."""
        with self._guard(), self._snapshot():
            return self._leaf_count - 1

    def _low_leaf(self, credential_id: int) -> tuple[int, int, int]:
        """``(index, value, next_value)`` of the leaf with the largest value ``<= credential_id``."""
        row = self._conn.execute(
            "SELECT idx, value, next_value FROM leaves WHERE value <= ? ORDER BY value DESC LIMIT 1",
            (_id_blob(credential_id),),
        ).fetchone()
        if row is None:
            raise self._corrupt("the (0, ...) leaf is missing")
        return int(row[0]), _blob_id(row[1]), _blob_id(row[2])

    def is_revoked(self, credential_id: int) -> bool:
        """Whether ``credential_id`` (an int in [1, 2^128)) has been revoked. One indexed lookup."""
        credential_id = _check_credential_id(credential_id)
        with self._guard():
            row = self._conn.execute("SELECT 1 FROM leaves WHERE value = ?", (_id_blob(credential_id),)).fetchone()
        return row is not None

    def leaves(self) -> Iterator[tuple[int, int, int]]:
        """Every leaf as ``(index, value, next_value)``, by index."""
        with self._guard():
            rows = self._conn.execute("SELECT idx, value, next_value FROM leaves ORDER BY idx").fetchall()
        for idx, value, next_value in rows:
            yield int(idx), _blob_id(value), _blob_id(next_value)

    def revoked_ids(self) -> list[int]:
        """All revoked ids in increasing order."""
        with self._guard():
            rows = self._conn.execute("SELECT value FROM leaves WHERE idx > 0 ORDER BY value").fetchall()
        return [_blob_id(row[0]) for row in rows]

    def merkle_proof(self, index: int) -> MerkleProof:
        """The Merkle proof of the leaf at ``index``, checked against the root (a proof through a damaged node
        raises :class:`~zkhealth.errors.CorruptDatabaseError` instead of being returned)."""
        index = _check_index(index, self.depth)
        with self._guard(), self._snapshot():
            proof = MerkleProof(leaf=self._nodes.get(0, index), index=index, siblings=self._nodes.siblings(index))
            if proof.leaf != EMPTY_LEAF and proof.compute_root() != self._checked_root():
                raise self._corrupt(f"the path of leaf {index} does not lead to the root")
            return proof

    def non_membership_proof(self, credential_id: int, *, root: int | None = None) -> NonMembershipProof:
        """The proof that ``credential_id`` is not revoked, against the current :attr:`root` or, with ``root``,
        against an earlier root of this tree's history (the root the issuer registry still holds while the
        issuer's latest statement is on its way: the tree as it stood then is rebuilt in memory from its first
        leaves, which only ever grow).

        Raises :class:`CredentialRevokedError` when it is revoked (at that root), :class:`MerkleProofError` for a
        root this tree never had. The proof is verified before it is returned
        (:class:`~zkhealth.errors.CorruptDatabaseError` if the file's nodes do not support it). Cost: one indexed
        lookup and ``3 * depth`` cached node reads for the current root; rebuilding an earlier one costs about
        ``2 * depth`` Poseidon(4) calls per id revoked by then.
        """
        credential_id = _check_credential_id(credential_id)
        if root is not None and root != self.root:
            with self._state_at(root) as earlier:
                return earlier.non_membership_proof(credential_id)
        with self._guard(), self._snapshot():
            index, low_value, next_value = self._low_leaf(credential_id)
            if low_value == credential_id:
                raise CredentialRevokedError("the credential id is in the revocation tree")
            proof = NonMembershipProof(low_value=low_value, next_value=next_value, merkle=self.merkle_proof(index))
            try:
                verify_non_membership(self._checked_root(), credential_id, proof, depth=self.depth)
            except MerkleProofError:
                raise self._corrupt(f"leaf {index} does not match its stored values") from None
            return proof

    def roots(self, limit: int = 16) -> list[RootRecord]:
        """The ``limit`` most recent roots, newest first (a verifier may accept a short window of them)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise EncodingError("limit must be a positive int")
        with self._guard():
            rows = self._conn.execute(
                "SELECT seq, root, leaf_count, created_at FROM roots ORDER BY seq DESC LIMIT ?", (min(limit, 1 << 62),)
            ).fetchall()
        return [RootRecord(int(seq), int(root), int(count), float(at)) for seq, root, count, at in rows]

    def _state_at(self, root: int) -> RevocationTree:
        """An in-memory copy of this tree as it stood when ``root`` was its root."""
        with self._snapshot():
            row = self._conn.execute(
                "SELECT leaf_count FROM roots WHERE root = ? ORDER BY seq DESC LIMIT 1", (_decimal(root),)
            ).fetchone()
            if row is None:
                raise MerkleProofError("this revocation tree never had that root")
            values = [_blob_id(blob) for (blob,) in self._conn.execute(
                "SELECT value FROM leaves WHERE idx > 0 AND idx < ? ORDER BY idx", (int(row[0]),)
            )]
        earlier = RevocationTree(":memory:", depth=self.depth)
        earlier.revoke_many(values)
        if earlier.root != root:
            earlier.close()
            raise MerkleProofError("the tree's history does not rebuild that root")
        return earlier

    # ------------------------------------------------------------------ updates

    def revoke(self, credential_id: int) -> bool:
        """Revoke one id; return ``True`` if it was newly revoked, ``False`` if it already was (no change).

        Raises :class:`FieldTypeError` / :class:`FieldRangeError` for an id outside [1, 2^128) and
        :class:`CredentialError` when the tree is full. Appends the new root to the history.
        """
        return self.revoke_many([credential_id]) == 1

    def revoke_many(self, credential_ids: Iterable[int]) -> int:
        """Revoke several ids in one transaction; return how many were newly revoked.

        Ids already revoked (or repeated) are skipped. Every id is validated before anything changes. The
        transaction applies to the file's current state (another process's revocations included) and holds
        SQLite's write lock, so concurrent writers serialize. Each dirty node is rehashed once, so a batch
        costs far fewer than ``2 * depth`` Poseidon calls per id. The history gains one root for the whole
        batch (none if nothing changed).
        """
        if isinstance(credential_ids, str | bytes) or not isinstance(credential_ids, Iterable):
            raise FieldTypeError(f"credential ids are an iterable of ints, not {type(credential_ids).__name__}")
        ids = [_check_credential_id(credential_id) for credential_id in credential_ids]
        self._nodes.trim()
        with self._guard():
            with self._transaction():
                added = self._revoke_locked(ids)
            self._leaf_count += added
        return added

    def _revoke_locked(self, ids: list[int]) -> int:
        """Revoke validated ids inside the caller's write transaction; return how many were new (the caller adds
        them to ``_leaf_count`` after the commit)."""
        changed: dict[int, int] = {}
        added = 0
        checksum_delta = 0
        for credential_id in ids:
            index, low_value, next_value = self._low_leaf(credential_id)
            if low_value == credential_id:
                continue
            new_index = self._leaf_count + added
            if new_index >= self.capacity:
                raise CredentialError(f"revocation tree is full ({self.capacity} leaves)")
            old_next, new_next = _id_blob(next_value), _id_blob(credential_id)
            self._conn.execute("UPDATE leaves SET next_value = ? WHERE idx = ?", (new_next, index))
            self._conn.execute(
                "INSERT INTO leaves (idx, value, next_value) VALUES (?, ?, ?)",
                (new_index, new_next, old_next),
            )
            checksum_delta += _leaf_row_hash(index, _id_blob(low_value), new_next)
            checksum_delta -= _leaf_row_hash(index, _id_blob(low_value), old_next)
            checksum_delta += _leaf_row_hash(new_index, new_next, old_next)
            changed[index] = revocation_leaf(low_value, credential_id)
            changed[new_index] = revocation_leaf(credential_id, next_value)
            added += 1
        if added:
            root = self._nodes.update_leaves(changed)
            checksum_delta += self._nodes.flush()
            self._add_to_checksum(checksum_delta)
            self._record_root(root, self._leaf_count + added)
        return added

    # ------------------------------------------------------------------ one holder per patient record

    def bind_holder(self, patient: str, holder_commitment: int, credential_id: int) -> int | None:
        """Record that ``credential_id`` was issued for the patient record ``patient`` to ``holder_commitment``;
        if the record's active credential was issued to another commitment, revoke that credential in the same
        transaction and return its id (``None`` otherwise).

        The issuer keeps one active holder commitment per patient record: a second wallet of the same patient
        (or a copy bound to someone else's commitment) cannot hold a valid credential for the record at the same
        time as the first. Re-issuing to the same commitment (a renewal) revokes nothing. ``patient`` is the
        issuer's own record identifier (an MRN, a FHIR Patient id), kept in this database only.
        """
        if not isinstance(patient, str) or not 0 < len(patient) <= 256:
            raise EncodingError("the patient record id must be a non-empty string of at most 256 characters")
        commitment = str(check_field_element(holder_commitment, what="holder commitment"))
        new_id = _check_credential_id(credential_id)
        self._nodes.trim()
        revoked: int | None = None
        added = 0
        with self._guard():
            with self._transaction():
                row = self._conn.execute(
                    "SELECT commitment, credential_id FROM holders WHERE patient = ?", (patient,)
                ).fetchone()
                if row is not None and row[0] != commitment:
                    revoked = _blob_id(row[1])
                    added = self._revoke_locked([revoked])
                self._conn.execute(
                    "INSERT OR REPLACE INTO holders (patient, commitment, credential_id, issued_at) "
                    "VALUES (?, ?, ?, ?)",
                    (patient, commitment, _id_blob(new_id), time.time()),
                )
            self._leaf_count += added
        return revoked

    def bound_holder(self, patient: str) -> tuple[int, int] | None:
        """``(holder_commitment, credential_id)`` of the patient record's active credential, or ``None``."""
        row = self._conn.execute("SELECT commitment, credential_id FROM holders WHERE patient = ?",
                                 (patient,)).fetchone()
        return None if row is None else (int(row[0]), _blob_id(row[1]))
