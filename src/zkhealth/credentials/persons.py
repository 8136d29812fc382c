"""The person registry: one leaf per person, kept by a registrar, persisted in SQLite.

A quaternary Poseidon Merkle tree of depth 12 (16,777,216 slots) whose leaf is
``poseidon([holder_commitment, registered_day])``: the holder commitment ``poseidon([holder_secret])`` of the
person's wallet and the epoch day it was registered. A registrar (a health authority, an insurer, the trial
network) checks identity off-chain, as Semaphore groups and World ID do, and adds one leaf per person. A trial
that admits one enrollment per person requires the credential's holder commitment to be a leaf registered
strictly before the trial opened: a second wallet is not in the registry, and a wallet rotated after the trial
opened (lost phone, re-registration) carries a registration day too late for that trial.

**What the registrar keeps.** Per active leaf: its slot, the holder commitment, the registration day and,
optionally, an opaque person reference (for example a salted hash of a national id) that is unique: a person
already registered is refused a second leaf (:class:`~zkhealth.errors.PersonRegistryError`) and must
:meth:`PersonRegistry.rotate` instead, which removes the old leaf and adds the new one, with the new day, in one
transaction. Slots are never reused: a removed leaf becomes the empty leaf 0, which is never a member.

**Persistence and crash safety.** Every change (register, rotate, remove) is one SQLite transaction that writes
the leaf rows and appends the new root to the ``roots`` history, in the write-ahead log, synced at commit
(``durable=True``). A crash leaves the old state or the new one. The tree itself is not stored: opening a file
rebuilds it from the leaf rows and compares the recomputed root with the last root of the history, so a damaged
or hand-edited file is refused (:class:`~zkhealth.errors.PersonRegistryError`) instead of serving proofs that
would not verify. Several processes may share a file: a writer takes SQLite's write lock and first reloads the
tree when another process has committed since.

Cost: opening a file with ``n`` people costs ``n`` Poseidon(2) plus about ``n / 3`` Poseidon(4) calls (about a
second per 10,000 people); a change costs ``12`` Poseidon(4) calls per leaf it touches; a membership proof reads
36 cached hashes.

What the registrar learns: who registered and when (it checks identity), and the holder commitments. It does not
learn which trials a person joins: an enrollment shows only a per-trial nullifier ``poseidon([holder_secret,
scope])``, which nobody without the secret can link to a commitment (docs/security.md).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Final

from zkhealth.credentials.trees import EMPTY_LEAF, MerkleProof, QuaternaryMerkleTree, empty_subtree_roots
from zkhealth.errors import EncodingError, PersonRegistryError
from zkhealth.field import check_field_element
from zkhealth.hash.poseidon import poseidon

__all__ = [
    "PERSON_REGISTRY_DEPTH",
    "PersonEntry",
    "PersonMembership",
    "PersonRegistry",
    "empty_person_root",
    "person_leaf",
]

#: Depth of the person registry (4^12 = 16,777,216 people).
PERSON_REGISTRY_DEPTH: Final[int] = 12
_DAY_BOUND: Final[int] = 1 << 32
_SCHEMA_VERSION: Final[str] = "1"
_MAX_REFERENCE: Final[int] = 256

_SCHEMA: Final[str] = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS persons (
    slot INTEGER PRIMARY KEY,
    commitment TEXT NOT NULL UNIQUE,
    registered_day INTEGER NOT NULL,
    person TEXT UNIQUE
);
CREATE TABLE IF NOT EXISTS roots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL,
    next_slot INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""


def _check_day(registered_day: object) -> int:
    if isinstance(registered_day, bool) or not isinstance(registered_day, int) or not 0 <= registered_day < _DAY_BOUND:
        raise EncodingError("registered_day must be an epoch day in [0, 2^32)")
    return registered_day


def person_leaf(holder_commitment: int, registered_day: int) -> int:
    """``poseidon([holder_commitment, registered_day])`` (the day is an epoch day below 2^32)."""
    check_field_element(holder_commitment, what="holder commitment")
    return poseidon([holder_commitment, _check_day(registered_day)])


def empty_person_root() -> int:
    """The root of an empty person registry (the trust root's person half where no registry is kept)."""
    return empty_subtree_roots(PERSON_REGISTRY_DEPTH)[PERSON_REGISTRY_DEPTH]


@dataclass(frozen=True)
class PersonMembership:
    """A person-registry leaf's registration day and its path (what a prover of a one-per-person trial needs)."""

    registered_day: int
    proof: MerkleProof

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (what ``zkhealth registrar proof`` writes)."""
        return {"format": "zkhealth.person-membership", "version": 1, "registeredDay": self.registered_day,
                "root": str(self.proof.compute_root()), "merkle": self.proof.to_dict()}

    @classmethod
    def from_dict(cls, obj: object) -> PersonMembership:
        """Parse :meth:`to_dict`'s output; the stated root must be the one the path leads to."""
        from zkhealth.field import parse_field_element

        if not isinstance(obj, dict) or set(obj) != {"format", "version", "registeredDay", "root", "merkle"}:
            raise EncodingError("person membership: expected format, version, registeredDay, root, merkle")
        if obj["format"] != "zkhealth.person-membership" or obj["version"] != 1:
            raise EncodingError("person membership: not a version-1 zkhealth.person-membership document")
        membership = cls(_check_day(obj["registeredDay"]), MerkleProof.from_dict(obj["merkle"]))
        if membership.proof.depth != PERSON_REGISTRY_DEPTH:
            raise EncodingError(f"person membership: the path must have {PERSON_REGISTRY_DEPTH} levels")
        if parse_field_element(obj["root"], what="person registry root") != membership.proof.compute_root():
            raise EncodingError("person membership: the path does not lead to the stated root")
        return membership


@dataclass(frozen=True)
class PersonEntry:
    """One active leaf: its slot, holder commitment, registration day and (optional) person reference."""

    slot: int
    holder_commitment: int
    registered_day: int
    person: str | None


def _check_reference(person: object) -> str | None:
    if person is None:
        return None
    if not isinstance(person, str) or not 0 < len(person) <= _MAX_REFERENCE or not person.isprintable():
        raise EncodingError(f"a person reference is printable text of 1 to {_MAX_REFERENCE} characters")
    return person


class PersonRegistry:
    """The person registry (module docstring), in SQLite at ``path`` (``":memory:"``, the default, keeps it in
    this process only).

    ``register`` adds a person, ``rotate`` replaces a person's commitment with a new one (new day),
    ``remove`` withdraws one; :meth:`membership` is what a prover needs; :attr:`root` is what the registry
    operator folds into the trust root.
    """

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", *, depth: int = PERSON_REGISTRY_DEPTH, durable: bool = True
    ) -> None:
        self._path = os.fspath(path)
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=30.0)
        except sqlite3.Error as exc:
            raise PersonRegistryError(f"{self._path}: cannot open the person registry: {exc}") from None
        self._seq = -1
        self._next = 0
        self._slots: dict[int, tuple[int, int]] = {}
        self._undo: tuple[dict[int, int], int] = ({}, 0)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                stored = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
                if not stored:
                    self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                           [("format", "zkhealth.person-registry"), ("schema", _SCHEMA_VERSION),
                                            ("depth", str(depth))])
                    self._tree = QuaternaryMerkleTree(depth)
                    self._append_root(0)
                else:
                    if stored.get("format") != "zkhealth.person-registry" or stored.get("schema") != _SCHEMA_VERSION:
                        raise PersonRegistryError(f"{self._path}: not a zkhealth person registry")
                    if stored.get("depth") != str(depth):
                        raise PersonRegistryError(f"{self._path}: the registry has depth {stored.get('depth')}, "
                                                  f"not {depth}")
                    self._tree = QuaternaryMerkleTree(depth)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._reload()
        except sqlite3.Error as exc:
            self._conn.close()
            raise PersonRegistryError(f"{self._path}: not a usable person registry: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ plumbing

    def _latest(self) -> tuple[int, int, int]:
        """``(seq, root, next_slot)`` of the last history row."""
        row = self._conn.execute("SELECT seq, root, next_slot FROM roots ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            raise PersonRegistryError(f"{self._path}: the person registry has no root history")
        return int(row[0]), int(row[1]), int(row[2])

    def _reload(self) -> None:
        """Rebuild the tree from the leaf rows and check it against the last root of the history."""
        seq, stored_root, next_slot = self._latest()
        tree = QuaternaryMerkleTree(self._tree.depth)
        leaves: dict[int, int] = {}
        slots: dict[int, tuple[int, int]] = {}
        for slot, commitment, day, _person in self._conn.execute(
            "SELECT slot, commitment, registered_day, person FROM persons"
        ):
            if not (isinstance(slot, int) and 0 <= slot < next_slot <= tree.capacity and isinstance(day, int)):
                raise PersonRegistryError(f"{self._path}: a person row is malformed")
            try:
                value = int(commitment)
                leaves[slot] = person_leaf(value, day)
            except (EncodingError, TypeError, ValueError):
                raise PersonRegistryError(f"{self._path}: a person row is malformed") from None
            slots[value] = (slot, day)
        tree.set_many(leaves)
        if tree.root != stored_root:
            raise PersonRegistryError(f"{self._path}: the leaves do not give the recorded root (damaged or edited)")
        self._tree = tree
        self._slots = slots
        self._next = next_slot
        self._seq = seq

    def _append_root(self, next_slot: int) -> None:
        cursor = self._conn.execute(
            "INSERT INTO roots (root, next_slot, created_at) VALUES (?, ?, ?)",
            (str(self._tree.root), next_slot, time.time()),
        )
        self._seq = int(cursor.lastrowid or 0)

    def _write(self) -> _Write:
        return _Write(self)

    # ------------------------------------------------------------------ queries

    @property
    def root(self) -> int:
        """The registry's root (the person half of the trust root)."""
        return self._tree.root

    @property
    def depth(self) -> int:
        return self._tree.depth

    @property
    def path(self) -> str:
        return self._path

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, holder_commitment: object) -> bool:
        return holder_commitment in self._slots

    def entries(self) -> list[PersonEntry]:
        """Every active leaf, by slot."""
        rows = self._conn.execute("SELECT slot, commitment, registered_day, person FROM persons ORDER BY slot")
        return [PersonEntry(int(slot), int(commitment), int(day), person) for slot, commitment, day, person in rows]

    def membership(self, holder_commitment: int) -> PersonMembership:
        """The registration day and path of a commitment (:class:`PersonRegistryError` if not registered)."""
        if holder_commitment not in self._slots:
            raise PersonRegistryError("this holder commitment is not in the person registry")
        slot, day = self._slots[holder_commitment]
        return PersonMembership(day, self._tree.proof(slot))

    def roots(self, limit: int = 16) -> list[tuple[int, float]]:
        """The ``limit`` most recent roots with the unix time they became current, newest first."""
        rows = self._conn.execute("SELECT root, created_at FROM roots ORDER BY seq DESC LIMIT ?", (int(limit),))
        return [(int(root), float(at)) for root, at in rows]

    # ------------------------------------------------------------------ changes

    def register(self, holder_commitment: int, registered_day: int, *, person: str | None = None) -> int:
        """Add a person; returns the slot. A commitment (or ``person`` reference) already registered raises
        :class:`PersonRegistryError` (use :meth:`rotate`)."""
        leaf = person_leaf(holder_commitment, registered_day)
        reference = _check_reference(person)
        with self._write():
            self._refuse_present(holder_commitment, reference)
            if self._next >= self._tree.capacity:
                raise PersonRegistryError("the person registry is full")
            slot = self._next
            self._conn.execute("INSERT INTO persons (slot, commitment, registered_day, person) VALUES (?, ?, ?, ?)",
                               (slot, str(holder_commitment), registered_day, reference))
            self._stage({slot: leaf}, next_slot=slot + 1)
        self._slots[holder_commitment] = (slot, registered_day)
        return slot

    def rotate(self, old_commitment: int, new_commitment: int, registered_day: int) -> int:
        """Replace a person's commitment (a new wallet): the old leaf is removed and the new one added with
        ``registered_day``, in one transaction; the person reference moves to the new leaf. Returns the new
        slot. Raises :class:`PersonRegistryError` when ``old_commitment`` is not registered or
        ``new_commitment`` already is."""
        leaf = person_leaf(new_commitment, registered_day)
        with self._write():
            if old_commitment not in self._slots:
                raise PersonRegistryError("the commitment to rotate is not registered")
            self._refuse_present(new_commitment, None)
            if self._next >= self._tree.capacity:
                raise PersonRegistryError("the person registry is full")
            old_slot, _ = self._slots[old_commitment]
            row = self._conn.execute("SELECT person FROM persons WHERE slot = ?", (old_slot,)).fetchone()
            self._conn.execute("DELETE FROM persons WHERE slot = ?", (old_slot,))
            slot = self._next
            self._conn.execute("INSERT INTO persons (slot, commitment, registered_day, person) VALUES (?, ?, ?, ?)",
                               (slot, str(new_commitment), registered_day, None if row is None else row[0]))
            self._stage({old_slot: EMPTY_LEAF, slot: leaf}, next_slot=slot + 1)
        del self._slots[old_commitment]
        self._slots[new_commitment] = (slot, registered_day)
        return slot

    def remove(self, holder_commitment: int) -> None:
        """Withdraw a person's leaf (its slot becomes the empty leaf, never reused)."""
        with self._write():
            if holder_commitment not in self._slots:
                raise PersonRegistryError("this holder commitment is not registered")
            slot, _ = self._slots[holder_commitment]
            self._conn.execute("DELETE FROM persons WHERE slot = ?", (slot,))
            self._stage({slot: EMPTY_LEAF}, next_slot=self._next)
        del self._slots[holder_commitment]

    def _refuse_present(self, holder_commitment: int, person: str | None) -> None:
        if holder_commitment in self._slots:
            raise PersonRegistryError("this holder commitment is already registered")
        if person is not None and self._conn.execute("SELECT 1 FROM persons WHERE person = ?", (person,)).fetchone():
            raise PersonRegistryError("this person already has a leaf: rotate it instead of adding another")

    def _stage(self, leaves: dict[int, int], *, next_slot: int) -> None:
        """Update the tree and append the new root (inside the caller's transaction; undone on rollback)."""
        self._undo = {slot: self._tree.leaf(slot) for slot in leaves}, self._next
        self._tree.set_many(leaves)
        self._next = next_slot
        self._append_root(next_slot)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PersonRegistry:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PersonRegistry({self._path!r}, people={len(self)}, root={self.root})"


class _Write:
    """One write transaction: ``BEGIN IMMEDIATE`` (reloading the tree if another process committed since), then
    ``COMMIT``; on an error ``ROLLBACK`` and the in-memory tree is put back."""

    def __init__(self, registry: PersonRegistry) -> None:
        self._registry = registry

    def __enter__(self) -> None:
        registry = self._registry
        try:
            registry._conn.execute("BEGIN IMMEDIATE")
            if registry._latest()[0] != registry._seq:
                registry._reload()
        except sqlite3.Error as exc:
            raise PersonRegistryError(f"{registry._path}: cannot write the person registry: {exc}") from None
        registry._undo = {}, registry._next

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        registry = self._registry
        if exc_type is None:
            try:
                registry._conn.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        registry._conn.execute("ROLLBACK")
        leaves, next_slot = registry._undo
        if leaves:
            registry._tree.set_many(leaves)
        registry._next = next_slot
        registry._seq = -1
        if isinstance(exc, sqlite3.Error):
            raise PersonRegistryError(f"{registry._path}: the change was not written: {exc}") from None
