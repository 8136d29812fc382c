"""The trust core of eligibility proofs: one public root covering issuers, their revocations and persons.

* **Issuer registry** (:class:`TrustedIssuers`): a quaternary Poseidon tree of depth 5 (1,024 issuers) whose
  leaf is ``poseidon([Ax, Ay, revocation_root])``: the issuer's Baby Jubjub key and the root of *its own*
  revocation tree (an indexed tree of depth 16, :class:`zkhealth.credentials.trees.RevocationTree`). Revoking
  changes the issuer's leaf, hence the registry root, so a proof can only show non-revocation against the root
  of the credential's own issuer, as it stands in the registry: not another issuer's root, not the empty tree's
  root, not the issuer's own root from before a revocation once the registry has moved on (docs/security.md
  gives the reasons for this design over one shared revocation tree).
* **Person registry** (:class:`~zkhealth.credentials.persons.PersonRegistry`): one leaf per person,
  ``poseidon([holder_commitment, registered_day])``, kept by a registrar in SQLite.
* **Trust root** = ``poseidon([issuer_registry_root, person_registry_root])`` (:func:`trust_root`); the person
  root is the empty tree's root where no person registry is used. It is the one root public in an eligibility
  proof; the registry operator publishes it, signed (:mod:`zkhealth.credentials.trust_roots`) and to the
  contracts.

How an issuer's revocations reach the registry: the issuer revokes in its own tree and signs a
:class:`RevocationStatement` (its new root and the number of revoked ids, signed with its Baby Jubjub key, the
key the registry holds); the registry operator checks it and applies it with :meth:`TrustedIssuers.apply`, which
refuses a statement older than the one already applied (:class:`~zkhealth.errors.RollbackError`: applying it
would un-revoke credentials). The operator keeps the registry as a JSON file (:meth:`TrustedIssuers.save`).
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import as_path, atomic_write
from zkhealth._json import loads_strict, read_limited
from zkhealth.credentials.persons import (
    PERSON_REGISTRY_DEPTH,
    PersonMembership,
    PersonRegistry,
    empty_person_root,
    person_leaf,
)
from zkhealth.credentials.trees import (
    EMPTY_LEAF,
    ISSUER_REGISTRY_DEPTH,
    REVOCATION_TREE_DEPTH,
    IssuerKey,
    MerkleProof,
    QuaternaryMerkleTree,
    compute_merkle_root,
    empty_subtree_roots,
    revocation_leaf,
    validate_issuer_key,
)
from zkhealth.errors import (
    CredentialError,
    EncodingError,
    RollbackError,
    UnknownIssuerError,
)
from zkhealth.field import check_field_element, parse_field_element
from zkhealth.hash.poseidon import poseidon
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.eddsa_poseidon import PublicKey

__all__ = [
    "PERSON_REGISTRY_DEPTH",
    "REGISTRY_FORMAT",
    "REVOCATION_STATEMENT_FORMAT",
    "IssuerEntry",
    "IssuerMembership",
    "PersonMembership",
    "PersonRegistry",
    "RevocationStatement",
    "TrustedIssuers",
    "empty_person_root",
    "empty_revocation_root",
    "person_leaf",
    "trust_root",
    "trusted_issuer_leaf",
]

#: ``format`` of the issuer registry file (:meth:`TrustedIssuers.to_json`).
REGISTRY_FORMAT: Final[str] = "zkhealth.trusted-issuers"
#: ``format`` of an issuer's signed revocation root (:class:`RevocationStatement`).
REVOCATION_STATEMENT_FORMAT: Final[str] = "zkhealth.revocation-root"
#: The version-1 registry file (leaf ``poseidon([Ax, Ay])``), read and converted by :meth:`TrustedIssuers.load`.
_V1_REGISTRY_FORMAT: Final[str] = "zkhealth.issuer-registry"
#: Domain tag of the revocation statement's signed message (ASCII of the format name, below r).
_STATEMENT_TAG: Final[int] = int.from_bytes(REVOCATION_STATEMENT_FORMAT.encode("ascii"), "big")
_MAX_REGISTRY_BYTES: Final[int] = 1 << 20
_MAX_STATEMENT_BYTES: Final[int] = 1 << 14
_COUNT_BOUND: Final[int] = 1 << 40
_TIME_BOUND: Final[int] = 1 << 40


def trusted_issuer_leaf(pubkey: IssuerKey, revocation_root: int) -> int:
    """``poseidon([Ax, Ay, revocation_root])`` after validating the key (small-order keys are refused)."""
    x, y = validate_issuer_key(pubkey)
    return poseidon([x, y, check_field_element(revocation_root, what="revocation root")])


def trust_root(issuer_registry_root: int, person_registry_root: int | None = None) -> int:
    """``poseidon([issuer_registry_root, person_registry_root])`` (the empty person root by default)."""
    person = empty_person_root() if person_registry_root is None else person_registry_root
    return poseidon([check_field_element(issuer_registry_root, what="issuer registry root"),
                     check_field_element(person, what="person registry root")])


@functools.cache
def empty_revocation_root(depth: int = REVOCATION_TREE_DEPTH) -> int:
    """The root of a revocation tree that has revoked nothing (only its ``(0, 0)`` list head): the revocation
    root an issuer is registered with before its first revocation."""
    zeros = empty_subtree_roots(depth)
    return compute_merkle_root(revocation_leaf(0, 0), 0, [(zeros[level],) * 3 for level in range(depth)])


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _COUNT_BOUND:
        raise EncodingError(f"{what} must be a non-negative integer")
    return value


def _unix(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _TIME_BOUND:
        raise EncodingError(f"{what} must be unix seconds (a non-negative integer)")
    return value


def _point_json(point: tuple[int, int]) -> list[str]:
    return [str(point[0]), str(point[1])]


def _point_of(value: object, what: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise EncodingError(f"{what} must be [x, y] as decimal strings")
    return validate_issuer_key((parse_field_element(value[0], what=what), parse_field_element(value[1], what=what)))


# --------------------------------------------------------------------------- revocation statements


@dataclass(frozen=True)
class RevocationStatement:
    """An issuer's signed statement of its current revocation root.

    ``revoked_count`` is the number of ids its tree has revoked (the tree only grows, so a statement with a
    smaller count is older); ``published_at`` is unix seconds. The signature is EdDSA-Poseidon with the issuer's
    Baby Jubjub key (the key the registry holds) over ``poseidon([tag, revocation_root, revoked_count,
    published_at])``, ``tag`` the ASCII of :data:`REVOCATION_STATEMENT_FORMAT`. JSON::

        {"format": "zkhealth.revocation-root", "version": 1, "issuer": ["<Ax>", "<Ay>"],
         "revocationRoot": "<decimal>", "revokedCount": 3, "publishedAt": 1767225600,
         "signature": {"R8": ["<x>", "<y>"], "S": "<decimal>"}}
    """

    issuer: tuple[int, int]
    revocation_root: int
    revoked_count: int
    published_at: int
    signature: eddsa_poseidon.Signature

    @staticmethod
    def message(revocation_root: int, revoked_count: int, published_at: int) -> int:
        """The field element the issuer signs."""
        return poseidon([_STATEMENT_TAG, check_field_element(revocation_root, what="revocation root"),
                         _count(revoked_count, "revoked count"), _unix(published_at, "publishedAt")])

    @classmethod
    def sign(
        cls, private_key: eddsa_poseidon.PrivateKey, revocation_root: int, revoked_count: int,
        published_at: int | None = None,
    ) -> RevocationStatement:
        """Sign a statement (use :meth:`zkhealth.credentials.issuer.Issuer.revocation_statement`)."""
        at = int(time.time()) if published_at is None else published_at
        signature = eddsa_poseidon.sign(private_key, cls.message(revocation_root, revoked_count, at))
        return cls(private_key.public_key().point, revocation_root, revoked_count, at, signature)

    def verify(self) -> None:
        """Check the signature under :attr:`issuer` (:class:`SignatureError` otherwise)."""
        eddsa_poseidon.verify(PublicKey.from_point(validate_issuer_key(self.issuer)),
                              self.message(self.revocation_root, self.revoked_count, self.published_at),
                              self.signature)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REVOCATION_STATEMENT_FORMAT,
            "version": 1,
            "issuer": _point_json(self.issuer),
            "revocationRoot": str(self.revocation_root),
            "revokedCount": self.revoked_count,
            "publishedAt": self.published_at,
            "signature": {"R8": _point_json(self.signature.R8), "S": str(self.signature.S)},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> RevocationStatement:
        """Parse strictly and check the signature (:class:`SignatureError` for a forged one)."""
        obj = loads_strict(text, what="revocation statement", max_bytes=_MAX_STATEMENT_BYTES)
        keys = {"format", "version", "issuer", "revocationRoot", "revokedCount", "publishedAt", "signature"}
        if not isinstance(obj, dict) or set(obj) != keys:
            raise EncodingError(f"revocation statement: expected members {sorted(keys)}")
        if obj["format"] != REVOCATION_STATEMENT_FORMAT or obj["version"] != 1 or isinstance(obj["version"], bool):
            raise EncodingError(f"not a version-1 {REVOCATION_STATEMENT_FORMAT} document")
        signature = obj["signature"]
        if not isinstance(signature, dict) or set(signature) != {"R8", "S"}:
            raise EncodingError("revocation statement: signature must be {R8, S}")
        r8 = signature["R8"]
        if not isinstance(r8, list) or len(r8) != 2:
            raise EncodingError("revocation statement: R8 must be [x, y]")
        statement = cls(
            issuer=_point_of(obj["issuer"], "issuer key"),
            revocation_root=parse_field_element(obj["revocationRoot"], what="revocationRoot"),
            revoked_count=_count(obj["revokedCount"], "revokedCount"),
            published_at=_unix(obj["publishedAt"], "publishedAt"),
            signature=eddsa_poseidon.Signature(
                (parse_field_element(r8[0], what="R8 x"), parse_field_element(r8[1], what="R8 y")),
                parse_field_element(signature["S"], what="S"),
            ),
        )
        statement.verify()
        return statement

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RevocationStatement:
        return cls.from_json(read_limited(path, what=os.fspath(as_path(path)), max_bytes=_MAX_STATEMENT_BYTES,
                                          error=EncodingError))


# --------------------------------------------------------------------------- the issuer registry


@dataclass(frozen=True)
class IssuerMembership:
    """What a prover needs about its issuer: the issuer's current revocation root and the registry path."""

    revocation_root: int
    proof: MerkleProof


@dataclass(frozen=True)
class IssuerEntry:
    """One registered issuer: its slot, Baby Jubjub key, current revocation root, the number of ids that root
    revokes (from the last statement applied; 0 before any) and when that statement was published."""

    index: int
    point: tuple[int, int]
    revocation_root: int
    revoked_count: int
    published_at: int


class TrustedIssuers:
    """The issuer registry: slot per issuer, leaf ``poseidon([Ax, Ay, revocation_root])`` (module docstring).

    Issuers take slots in order of addition; a removed issuer's slot is emptied (leaf 0) and not reused.
    :meth:`apply` follows an issuer's signed revocation statements; :meth:`set_revocation_root` sets a root
    directly (the issuer and the operator are one party, or in tests).
    """

    def __init__(self, depth: int = ISSUER_REGISTRY_DEPTH) -> None:
        self._tree = QuaternaryMerkleTree(depth)
        self._entries: dict[tuple[int, int], IssuerEntry] = {}
        self._next = 0

    @property
    def root(self) -> int:
        """The issuer registry's root (the issuer half of the trust root)."""
        return self._tree.root

    @property
    def depth(self) -> int:
        return self._tree.depth

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, pubkey: object) -> bool:
        if not isinstance(pubkey, tuple | PublicKey):
            return False
        try:
            return validate_issuer_key(pubkey) in self._entries
        except (EncodingError, CredentialError, ValueError, TypeError):
            return False

    def issuers(self) -> list[IssuerEntry]:
        """Every registered issuer, by slot."""
        return sorted(self._entries.values(), key=lambda entry: entry.index)

    def entry(self, pubkey: IssuerKey) -> IssuerEntry:
        """The registered issuer with this key (:class:`UnknownIssuerError` if absent)."""
        point = validate_issuer_key(pubkey)
        if point not in self._entries:
            raise UnknownIssuerError("issuer key is not in the trusted-issuer registry")
        return self._entries[point]

    def _put(self, entry: IssuerEntry) -> None:
        self._entries[entry.point] = entry
        self._tree.set(entry.index, trusted_issuer_leaf(entry.point, entry.revocation_root))

    def add(self, pubkey: IssuerKey, revocation_root: int | None = None) -> int:
        """Register an issuer with its revocation root (default: the empty tree's, :func:`empty_revocation_root`);
        returns its slot. Adding a registered issuer again sets its revocation root and keeps its slot."""
        point = validate_issuer_key(pubkey)
        root = empty_revocation_root() if revocation_root is None else revocation_root
        if point in self._entries:
            return self.set_revocation_root(point, root)
        if self._next >= self._tree.capacity:
            raise CredentialError(f"issuer registry is full ({self._tree.capacity} slots)")
        check_field_element(root, what="revocation root")
        self._put(IssuerEntry(self._next, point, root, 0, 0))
        self._next += 1
        return self._next - 1

    def set_revocation_root(self, pubkey: IssuerKey, revocation_root: int, *, revoked_count: int | None = None,
                            published_at: int = 0) -> int:
        """Record an issuer's new revocation root; returns its slot."""
        current = self.entry(pubkey)
        check_field_element(revocation_root, what="revocation root")
        count = current.revoked_count if revoked_count is None else _count(revoked_count, "revoked count")
        self._put(IssuerEntry(current.index, current.point, revocation_root, count, published_at))
        return current.index

    def apply(self, statement: RevocationStatement) -> bool:
        """Apply an issuer's signed revocation statement; returns whether the root changed.

        Checks the signature, that the issuer is registered (:class:`UnknownIssuerError`) and that the statement
        is not older than the one applied before (:class:`~zkhealth.errors.RollbackError` for a smaller revoked
        count, or the same count with another root, or an earlier publication time)."""
        statement.verify()
        current = self.entry(statement.issuer)
        if statement.revoked_count < current.revoked_count or statement.published_at < current.published_at:
            raise RollbackError("this revocation statement is older than the one the registry holds")
        if statement.revoked_count == current.revoked_count and statement.revocation_root != current.revocation_root:
            raise RollbackError("this statement revokes as many ids as the registered root, with another root")
        changed = statement.revocation_root != current.revocation_root
        self.set_revocation_root(statement.issuer, statement.revocation_root, revoked_count=statement.revoked_count,
                                 published_at=statement.published_at)
        return changed

    def remove(self, pubkey: IssuerKey) -> None:
        """Withdraw an issuer (its slot becomes the empty leaf)."""
        entry = self.entry(pubkey)
        del self._entries[entry.point]
        self._tree.set(entry.index, EMPTY_LEAF)

    def membership(self, pubkey: IssuerKey) -> IssuerMembership:
        """The issuer's revocation root and registry path. :class:`UnknownIssuerError` if absent."""
        entry = self.entry(pubkey)
        return IssuerMembership(entry.revocation_root, self._tree.proof(entry.index))

    # ------------------------------------------------------------------ the registry file

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: format, depth, next free slot, the issuers and the root."""
        return {
            "format": REGISTRY_FORMAT,
            "version": 1,
            "depth": self.depth,
            "nextIndex": self._next,
            "issuers": [
                {"index": e.index, "x": str(e.point[0]), "y": str(e.point[1]),
                 "revocationRoot": str(e.revocation_root), "revokedCount": e.revoked_count,
                 "publishedAt": e.published_at}
                for e in self.issuers()
            ],
            "root": str(self.root),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the registry file atomically (a crash leaves the old file or the new one)."""
        atomic_write(Path(path), (self.to_json() + "\n").encode("ascii"), mode=0o644)

    @classmethod
    def from_dict(cls, obj: object) -> TrustedIssuers:
        """Rebuild a registry from :meth:`to_dict`'s output, validating every key; the rebuilt root must equal
        the stored one. A version-1 registry file (``zkhealth.issuer-registry``) is converted: its issuers keep
        their slots and get the empty revocation root."""
        if isinstance(obj, dict) and obj.get("format") == _V1_REGISTRY_FORMAT:
            return cls._from_v1(obj)
        keys = {"format", "version", "depth", "nextIndex", "issuers", "root"}
        if not isinstance(obj, dict) or set(obj) != keys:
            raise EncodingError(f"issuer registry: expected members {sorted(keys)}")
        if obj["format"] != REGISTRY_FORMAT or obj["version"] != 1 or isinstance(obj["version"], bool):
            raise EncodingError(f"not a version-1 {REGISTRY_FORMAT} file")
        registry = cls(_count(obj["depth"], "depth"))
        next_index = _count(obj["nextIndex"], "nextIndex")
        issuers = obj["issuers"]
        if not isinstance(issuers, list) or next_index > registry._tree.capacity or len(issuers) > next_index:
            raise EncodingError("issuer registry: issuers must be a list within nextIndex slots")
        leaves: dict[int, int] = {}
        for item in issuers:
            members = {"index", "x", "y", "revocationRoot", "revokedCount", "publishedAt"}
            if not isinstance(item, dict) or set(item) != members:
                raise EncodingError(f"issuer registry: an issuer must have {sorted(members)}")
            index = _count(item["index"], "issuer index")
            point = _point_of([item["x"], item["y"]], "issuer key")
            if index >= next_index or index in leaves or point in registry._entries:
                raise EncodingError(f"issuer registry: slot {index} or its key is out of range or repeated")
            entry = IssuerEntry(index, point, parse_field_element(item["revocationRoot"], what="revocationRoot"),
                                _count(item["revokedCount"], "revokedCount"), _unix(item["publishedAt"], "publishedAt"))
            registry._entries[point] = entry
            leaves[index] = trusted_issuer_leaf(point, entry.revocation_root)
        registry._tree.set_many(leaves)
        registry._next = next_index
        if registry.root != parse_field_element(obj["root"], what="registry root"):
            raise EncodingError("issuer registry: the root does not match its issuers")
        return registry

    @classmethod
    def _from_v1(cls, obj: dict[str, Any]) -> TrustedIssuers:
        from zkhealth.credentials.trees import IssuerRegistry

        old = IssuerRegistry.from_json(json.dumps(obj))
        registry = cls(old.depth)
        empty = empty_revocation_root()
        leaves = {}
        for index, point in old.issuers():
            registry._entries[point] = IssuerEntry(index, point, empty, 0, 0)
            leaves[index] = trusted_issuer_leaf(point, empty)
        registry._tree.set_many(leaves)
        registry._next = _count(obj["next_index"], "next_index")
        return registry

    @classmethod
    def from_json(cls, text: str | bytes) -> TrustedIssuers:
        return cls.from_dict(loads_strict(text, what="issuer registry", max_bytes=_MAX_REGISTRY_BYTES))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrustedIssuers:
        """Read a registry file (:meth:`from_dict`); errors name the file."""
        data = read_limited(path, what=os.fspath(as_path(path)), max_bytes=_MAX_REGISTRY_BYTES, error=EncodingError)
        try:
            return cls.from_json(data)
        except EncodingError as error:
            raise type(error)(f"{os.fspath(as_path(path))}: {error}") from None
