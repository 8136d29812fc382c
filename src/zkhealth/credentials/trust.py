"""The trust core of version-2 eligibility proofs: one public root covering issuers, revocation and persons.

* **Issuer registry**: a quaternary Poseidon tree of depth 5 (1,024 issuers) whose leaf is
  ``poseidon([Ax, Ay, revocation_root])``: the issuer's Baby Jubjub key and the root of *its own* revocation
  tree (an indexed tree of depth 16, :class:`zkhealth.credentials.trees.RevocationTree`). Revoking changes the
  issuer's leaf, hence the registry root, so a proof can only show non-revocation against the root of the
  credential's own issuer, as it stands in the registry.
* **Person registry**: a quaternary Poseidon tree of depth 12 (16.7 million people) whose leaf is
  ``poseidon([holder_commitment, registered_day])`` (epoch day). One leaf per person, kept by a registrar who
  checks identity off-chain. A trial that admits one enrollment per person requires the holder commitment of
  the credential to be a leaf registered before the trial opened.
* **Trust root** = ``poseidon([issuer_registry_root, person_registry_root])``; the person root is the empty
  tree's root where no person registry is used. It is the one root public in an eligibility proof.

This module holds the in-memory pieces the proofs need (:class:`TrustedIssuers`, :class:`PersonRegistry`,
:func:`trust_root`). Persistence, freshness of roots (grace periods), and the registrar's tools build on
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from zkhealth.credentials.trees import (
    EMPTY_LEAF,
    ISSUER_REGISTRY_DEPTH,
    IssuerKey,
    MerkleProof,
    QuaternaryMerkleTree,
    empty_subtree_roots,
    validate_issuer_key,
)
from zkhealth.errors import CredentialError, EncodingError, UnknownIssuerError
from zkhealth.field import check_field_element
from zkhealth.hash.poseidon import poseidon
from zkhealth.signature.eddsa_poseidon import PublicKey

__all__ = [
    "PERSON_REGISTRY_DEPTH",
    "IssuerMembership",
    "PersonMembership",
    "PersonRegistry",
    "TrustedIssuers",
    "empty_person_root",
    "trusted_issuer_leaf",
    "person_leaf",
    "trust_root",
]

PERSON_REGISTRY_DEPTH: Final[int] = 12
_DAY_BOUND: Final[int] = 1 << 32


def trusted_issuer_leaf(pubkey: IssuerKey, revocation_root: int) -> int:
    """``poseidon([Ax, Ay, revocation_root])`` after validating the key (small-order keys are refused)."""
    x, y = validate_issuer_key(pubkey)
    return poseidon([x, y, check_field_element(revocation_root, what="revocation root")])


def person_leaf(holder_commitment: int, registered_day: int) -> int:
    """``poseidon([holder_commitment, registered_day])`` (the day is an epoch day below 2^32)."""
    check_field_element(holder_commitment, what="holder commitment")
    if isinstance(registered_day, bool) or not isinstance(registered_day, int) or not 0 <= registered_day < _DAY_BOUND:
        raise EncodingError("registered_day must be an epoch day in [0, 2^32)")
    return poseidon([holder_commitment, registered_day])


def empty_person_root() -> int:
    """The root of an empty person registry (used in the trust root where no registry is kept)."""
    return empty_subtree_roots(PERSON_REGISTRY_DEPTH)[PERSON_REGISTRY_DEPTH]


def trust_root(issuer_registry_root: int, person_registry_root: int | None = None) -> int:
    """``poseidon([issuer_registry_root, person_registry_root])`` (the empty person root by default)."""
    person = empty_person_root() if person_registry_root is None else person_registry_root
    return poseidon([check_field_element(issuer_registry_root, what="issuer registry root"),
                     check_field_element(person, what="person registry root")])


@dataclass(frozen=True)
class IssuerMembership:
    """What a prover needs about its issuer: the issuer's current revocation root and the registry path."""

    revocation_root: int
    proof: MerkleProof


@dataclass(frozen=True)
class PersonMembership:
    """A person-registry leaf's registration day and its path."""

    registered_day: int
    proof: MerkleProof


class TrustedIssuers:
    """The issuer registry: slot per issuer, leaf ``poseidon([Ax, Ay, revocation_root])``.

    :meth:`set_revocation_root` follows an issuer's revocations (the leaf, hence the root, changes).
    """

    def __init__(self, depth: int = ISSUER_REGISTRY_DEPTH) -> None:
        self._tree = QuaternaryMerkleTree(depth)
        self._slots: dict[tuple[int, int], tuple[int, int]] = {}  # key -> (slot, revocation root)
        self._next = 0

    @property
    def root(self) -> int:
        return self._tree.root

    @property
    def depth(self) -> int:
        return self._tree.depth

    def __contains__(self, pubkey: object) -> bool:
        if not isinstance(pubkey, tuple | PublicKey):
            return False
        try:
            return validate_issuer_key(pubkey) in self._slots
        except (EncodingError, CredentialError, ValueError, TypeError):
            return False

    def add(self, pubkey: IssuerKey, revocation_root: int) -> int:
        """Register an issuer with its revocation root; returns its slot (the same slot if already present)."""
        point = validate_issuer_key(pubkey)
        if point in self._slots:
            return self.set_revocation_root(point, revocation_root)
        if self._next >= self._tree.capacity:
            raise CredentialError(f"issuer registry is full ({self._tree.capacity} slots)")
        slot = self._next
        self._next += 1
        self._slots[point] = (slot, revocation_root)
        self._tree.set(slot, trusted_issuer_leaf(point, revocation_root))
        return slot

    def set_revocation_root(self, pubkey: IssuerKey, revocation_root: int) -> int:
        """Record an issuer's new revocation root; returns its slot."""
        point = validate_issuer_key(pubkey)
        if point not in self._slots:
            raise UnknownIssuerError("issuer key is not in the trusted-issuer registry")
        slot, _ = self._slots[point]
        self._slots[point] = (slot, revocation_root)
        self._tree.set(slot, trusted_issuer_leaf(point, revocation_root))
        return slot

    def remove(self, pubkey: IssuerKey) -> None:
        """Withdraw an issuer (its slot becomes the empty leaf)."""
        point = validate_issuer_key(pubkey)
        if point not in self._slots:
            raise UnknownIssuerError("issuer key is not in the trusted-issuer registry")
        slot, _ = self._slots.pop(point)
        self._tree.set(slot, EMPTY_LEAF)

    def membership(self, pubkey: IssuerKey) -> IssuerMembership:
        """The issuer's revocation root and registry path. :class:`UnknownIssuerError` if absent."""
        point = validate_issuer_key(pubkey)
        if point not in self._slots:
            raise UnknownIssuerError("issuer key is not in the trusted-issuer registry")
        slot, revocation_root = self._slots[point]
        return IssuerMembership(revocation_root, self._tree.proof(slot))


class PersonRegistry:
    """An in-memory person registry: one leaf per holder commitment, with its registration day."""

    def __init__(self, depth: int = PERSON_REGISTRY_DEPTH) -> None:
        self._tree = QuaternaryMerkleTree(depth)
        self._slots: dict[int, tuple[int, int]] = {}  # commitment -> (slot, day)
        self._next = 0

    @property
    def root(self) -> int:
        return self._tree.root

    def __contains__(self, holder_commitment: object) -> bool:
        return holder_commitment in self._slots

    def register(self, holder_commitment: int, registered_day: int) -> int:
        """Add a person; returns the slot. A commitment already registered raises :class:`CredentialError`."""
        leaf = person_leaf(holder_commitment, registered_day)
        if holder_commitment in self._slots:
            raise CredentialError("this holder commitment is already registered")
        if self._next >= self._tree.capacity:
            raise CredentialError("the person registry is full")
        slot = self._next
        self._next += 1
        self._slots[holder_commitment] = (slot, registered_day)
        self._tree.set(slot, leaf)
        return slot

    def remove(self, holder_commitment: int) -> None:
        """Remove a person's leaf (rotation registers the new commitment with a new day)."""
        if holder_commitment not in self._slots:
            raise CredentialError("this holder commitment is not registered")
        slot, _ = self._slots.pop(holder_commitment)
        self._tree.set(slot, EMPTY_LEAF)

    def membership(self, holder_commitment: int) -> PersonMembership:
        """The registration day and path of a commitment."""
        if holder_commitment not in self._slots:
            raise CredentialError("this holder commitment is not in the person registry")
        slot, day = self._slots[holder_commitment]
        return PersonMembership(day, self._tree.proof(slot))
