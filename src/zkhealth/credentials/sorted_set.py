"""Committed sorted sets: the four record sets of credential schema version 2 (record.py), natively.

A sorted set is a quaternary Poseidon Merkle tree of depth 6 (:data:`SET_DEPTH`, 4,096 leaf slots, the
convention of :mod:`zkhealth.credentials.trees`) whose leaves form a sorted linked list::

    leaf = poseidon([key, next_key, a_ord, a_packed, b_ord, b_packed, value, status])

* ``key`` is unique in the set; leaves sit in key order at indices 0, 1, 2, ... (index 0 is the sentinel);
* ``next_key`` is the next larger key in the set, 0 for the largest;
* the sentinel (index 0) has ``key = 0``, ``next_key`` = the smallest key (0 for an empty set) and every
  other field 0; empty slots hold the leaf value 0, which is never a member.

Three facts then each take one leaf and its Merkle path (the gadgets of
:mod:`zkhealth.circuit.gadgets.sorted_set` prove them; :func:`zkhealth.circuit.gadgets.sorted_set.set_atom_native`
is the native twin):

* "some key lies in [lo, hi]": a member leaf with ``lo <= key <= hi``;
* "the last key of [lo, hi] is this leaf": ``lo <= key <= hi`` and (``next_key == 0`` or ``next_key > hi``);
* "no key lies in [lo, hi]": a member leaf with ``key < lo`` and (``next_key == 0`` or ``next_key > hi``)
  (the low neighbour; the sentinel is always one).

Keys are ``((tag * 2^60 + code) * 2^22 + date_ord) * 2^8 + seq`` (:func:`make_key`, below 2^94), so the
entries of one code sort by date, and a class of codes (a contiguous code range) under one tag is one key
range (:func:`key_range`). Dates are stored twice: ``*_ord`` (``date.toordinal()``) for day arithmetic and
``*_packed`` (:func:`zkhealth.credentials.dates.packed_date`) for calendar months and years; "no date" (an
ongoing condition or medication) is :data:`MAX_DATE` in both forms.

The issuer builds the set; the holder keeps the leaves to make proofs; the tree's root is signed in the
credential header. Soundness rests on the issuer building a well-formed list (it signs the root).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from zkhealth.credentials.dates import packed_date
from zkhealth.credentials.trees import MerkleProof, QuaternaryMerkleTree
from zkhealth.errors import EncodingError, RecordCapacityError
from zkhealth.hash.poseidon import poseidon

__all__ = [
    "DATE_FIELD_BITS",
    "KEY_BITS",
    "LEAF_FIELDS",
    "MAX_DATE",
    "MAX_LEAVES",
    "SEQ_BITS",
    "SET_DEPTH",
    "STATUS_BITS",
    "TAG_BITS",
    "VALUE_BITS",
    "SetLeaf",
    "SortedSet",
    "date_fields",
    "key_range",
    "make_key",
    "split_key",
]

#: Quaternary tree depth of every record set: 4^6 = 4,096 slots.
SET_DEPTH: Final[int] = 6
#: Leaves a set may hold besides the sentinel.
MAX_LEAVES: Final[int] = (1 << (2 * SET_DEPTH)) - 1
TAG_BITS: Final[int] = 4
CODE_FIELD_BITS: Final[int] = 60
#: Width of ``*_ord`` and ``*_packed`` date fields.
DATE_FIELD_BITS: Final[int] = 22
SEQ_BITS: Final[int] = 8
#: ``key < 2^KEY_BITS``.
KEY_BITS: Final[int] = TAG_BITS + CODE_FIELD_BITS + DATE_FIELD_BITS + SEQ_BITS
VALUE_BITS: Final[int] = 32
STATUS_BITS: Final[int] = 4
#: "No date": an ongoing condition or medication ends on MAX_DATE (both date forms).
MAX_DATE: Final[int] = (1 << DATE_FIELD_BITS) - 1
#: The leaf fields in hash order, with their declared widths (what a circuit range-checks).
LEAF_FIELDS: Final[tuple[tuple[str, int], ...]] = (
    ("key", KEY_BITS),
    ("next_key", KEY_BITS),
    ("a_ord", DATE_FIELD_BITS),
    ("a_packed", DATE_FIELD_BITS),
    ("b_ord", DATE_FIELD_BITS),
    ("b_packed", DATE_FIELD_BITS),
    ("value", VALUE_BITS),
    ("status", STATUS_BITS),
)


def make_key(tag: int, code: int, date_ord: int, seq: int) -> int:
    """``((tag * 2^60 + code) * 2^22 + date_ord) * 2^8 + seq``, every part range-checked."""
    for name, value, bits in (
        ("tag", tag, TAG_BITS),
        ("code", code, CODE_FIELD_BITS),
        ("date", date_ord, DATE_FIELD_BITS),
        ("seq", seq, SEQ_BITS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise EncodingError(f"key {name} {value!r} does not fit {bits} bits")
    return ((((tag << CODE_FIELD_BITS) | code) << DATE_FIELD_BITS | date_ord) << SEQ_BITS) | seq


def split_key(key: int) -> tuple[int, int, int, int]:
    """Inverse of :func:`make_key`: ``(tag, code, date_ord, seq)``."""
    seq = key & ((1 << SEQ_BITS) - 1)
    date_ord = (key >> SEQ_BITS) & MAX_DATE
    code = (key >> (SEQ_BITS + DATE_FIELD_BITS)) & ((1 << CODE_FIELD_BITS) - 1)
    return key >> (SEQ_BITS + DATE_FIELD_BITS + CODE_FIELD_BITS), code, date_ord, seq


def key_range(tag: int, code_lo: int, code_hi: int) -> tuple[int, int]:
    """The keys of every entry with ``tag`` and a code in ``[code_lo, code_hi]``, whatever its date and seq."""
    if code_lo > code_hi:
        raise EncodingError("empty code range")
    return make_key(tag, code_lo, 0, 0), make_key(tag, code_hi, MAX_DATE, (1 << SEQ_BITS) - 1)


def date_fields(value: _dt.date | None) -> tuple[int, int]:
    """``(ord, packed)`` of a date; ``(MAX_DATE, MAX_DATE)`` for ``None`` (no date: ongoing)."""
    if value is None:
        return MAX_DATE, MAX_DATE
    ordinal = value.toordinal()
    if ordinal >= MAX_DATE:
        raise EncodingError(f"{value} is beyond the last encodable date")
    return ordinal, packed_date(value)


@dataclass(frozen=True)
class SetLeaf:
    """One leaf of a sorted set (module docstring). ``fields()`` is the hash input, in order."""

    key: int
    next_key: int
    a_ord: int = 0
    a_packed: int = 0
    b_ord: int = 0
    b_packed: int = 0
    value: int = 0
    status: int = 0

    def __post_init__(self) -> None:
        for (name, bits), value in zip(LEAF_FIELDS, self.fields(), strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
                raise EncodingError(f"set leaf {name} {value!r} does not fit {bits} bits")

    def fields(self) -> tuple[int, int, int, int, int, int, int, int]:
        """The eight hashed fields, in :data:`LEAF_FIELDS` order."""
        return (self.key, self.next_key, self.a_ord, self.a_packed, self.b_ord, self.b_packed, self.value,
                self.status)

    @functools.cached_property
    def _hash(self) -> int:
        return poseidon(list(self.fields()))

    def hash(self) -> int:
        """``poseidon(fields())`` (one Poseidon(8), cached)."""
        return self._hash

    def field(self, name: str) -> int:
        """One field by name (``"a_ord"``...)."""
        return int(getattr(self, name))


@dataclass(frozen=True)
class _Item:
    key: int
    a_ord: int
    a_packed: int
    b_ord: int
    b_packed: int
    value: int
    status: int


class SortedSet:
    """A built sorted set: its leaves (sentinel first, then ascending keys), tree and root.

    ``items`` are ``(key, a_ord, a_packed, b_ord, b_packed, value, status)`` tuples with distinct keys >= 1.
    Raises :class:`RecordCapacityError` (naming ``name``) beyond :data:`MAX_LEAVES` items. Cost: one Poseidon(8)
    per leaf and one Poseidon(4) per non-empty tree node (about 2 s for a full set, milliseconds for a small one).
    """

    __slots__ = ("_tree", "keys", "leaves", "name")

    def __init__(self, name: str, items: Iterable[tuple[int, int, int, int, int, int, int]]) -> None:
        ordered = sorted((_Item(*item) for item in items), key=lambda item: item.key)
        if len(ordered) > MAX_LEAVES:
            raise RecordCapacityError(
                f"the {name} set needs {len(ordered)} leaves (aggregates included); a credential holds "
                f"{MAX_LEAVES}",
                set_name=name,
            )
        keys = [item.key for item in ordered]
        if any(k < 1 for k in keys) or len(set(keys)) != len(keys):
            raise EncodingError(f"the {name} set's keys must be distinct and at least 1")
        leaves = [SetLeaf(0, keys[0] if keys else 0)]
        for position, item in enumerate(ordered):
            following = keys[position + 1] if position + 1 < len(keys) else 0
            leaves.append(
                SetLeaf(item.key, following, item.a_ord, item.a_packed, item.b_ord, item.b_packed, item.value,
                        item.status)
            )
        self.name = name
        self.leaves: tuple[SetLeaf, ...] = tuple(leaves)
        self.keys: tuple[int, ...] = (0, *keys)
        self._tree = QuaternaryMerkleTree(SET_DEPTH)
        self._tree.set_many({index: leaf.hash() for index, leaf in enumerate(self.leaves)})

    @property
    def root(self) -> int:
        """The Merkle root (a header slot of the credential)."""
        return self._tree.root

    def __len__(self) -> int:
        """Leaves besides the sentinel."""
        return len(self.leaves) - 1

    def proof(self, index: int) -> MerkleProof:
        """The Merkle proof of the leaf at ``index``."""
        if not 0 <= index < len(self.leaves):
            raise EncodingError(f"{self.name}: no leaf at index {index}")
        return self._tree.proof(index)

    def last_at_most(self, key: int) -> int:
        """The index of the leaf with the largest key ``<= key`` (0, the sentinel, at worst)."""
        return bisect.bisect_right(self.keys, key) - 1

    def in_range(self, key_lo: int, key_hi: int) -> Sequence[int]:
        """Indices of the leaves with ``key_lo <= key <= key_hi``, ascending."""
        start = bisect.bisect_left(self.keys, max(key_lo, 1))
        stop = bisect.bisect_right(self.keys, key_hi)
        return range(start, max(start, stop))


def empty_set_root() -> int:
    """The root of a set holding only the sentinel ``(0, 0, ...)``."""
    return SortedSet("empty", ()).root
