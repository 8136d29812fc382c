"""The persisted trust state, native tier: the issuer registry file and the issuers' signed revocation roots, the
person registry in SQLite (crash safety, the root recomputed on open), the operator's signed trust-root file, and
the freshness rule with its grace period (the same comparison as the contracts)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.persons import PersonMembership, PersonRegistry, empty_person_root, person_leaf
from zkhealth.credentials.trees import IssuerRegistry, RevocationTree, verify_non_membership
from zkhealth.credentials.trust import (
    RevocationStatement,
    TrustedIssuers,
    empty_revocation_root,
    trust_root,
    trusted_issuer_leaf,
)
from zkhealth.credentials.trust_roots import PublishedRoot, RootHistory, TrustRootDocument
from zkhealth.errors import (
    EncodingError,
    InvalidSignatureError,
    MerkleProofError,
    PersonRegistryError,
    RollbackError,
    SignatureError,
    StaleRootError,
    UnknownIssuerError,
    UntrustedRootError,
)

pytestmark = pytest.mark.native


@pytest.fixture
def hospital() -> Issuer:
    return Issuer.generate(revocation=RevocationTree(":memory:"))


def test_the_empty_revocation_root_is_a_fresh_trees_root() -> None:
    assert empty_revocation_root() == RevocationTree(":memory:").root


def test_revocation_statements_are_signed_and_never_roll_back(hospital: Issuer) -> None:
    registry = TrustedIssuers()
    registry.add(hospital.public_key)
    assert registry.entry(hospital.public_key).revocation_root == empty_revocation_root()
    hospital.revoke(5)
    first = RevocationStatement.from_json(hospital.revocation_statement(published_at=1_000).to_json())
    assert registry.apply(first) and not registry.apply(first)  # applying it again changes nothing
    assert registry.membership(hospital.public_key).proof.leaf == trusted_issuer_leaf(hospital.public_key,
                                                                                      first.revocation_root)
    hospital.revoke(9)
    second = hospital.revocation_statement(published_at=2_000)
    registry.apply(second)
    with pytest.raises(RollbackError):  # the older statement would un-revoke 9
        registry.apply(first)
    with pytest.raises(RollbackError):  # as many revocations, another root
        registry.apply(RevocationStatement.sign(hospital._bjj, first.revocation_root, 2, 3_000))
    forged = json.loads(second.to_json())
    forged["revokedCount"] = 7
    with pytest.raises(InvalidSignatureError):
        RevocationStatement.from_json(json.dumps(forged))
    stranger = Issuer.generate(revocation=RevocationTree(":memory:"))
    with pytest.raises(UnknownIssuerError):
        registry.apply(stranger.revocation_statement())


def test_the_registry_file_round_trips_and_converts_version_1(hospital: Issuer, tmp_path: Path) -> None:
    registry = TrustedIssuers()
    registry.add(Issuer.generate().public_key)
    registry.add(hospital.public_key, 777)
    registry.save(tmp_path / "registry.json")
    again = TrustedIssuers.load(tmp_path / "registry.json")
    assert again.root == registry.root and again.issuers() == registry.issuers()
    data = json.loads((tmp_path / "registry.json").read_text())
    data["issuers"][1]["revocationRoot"] = "778"
    (tmp_path / "edited.json").write_text(json.dumps(data))
    with pytest.raises(EncodingError):
        TrustedIssuers.load(tmp_path / "edited.json")
    old = IssuerRegistry()
    old.add(hospital.public_key)
    (tmp_path / "v1.json").write_text(old.to_json())
    converted = TrustedIssuers.load(tmp_path / "v1.json")
    assert converted.entry(hospital.public_key).revocation_root == empty_revocation_root()


def test_a_tree_proves_non_membership_at_an_earlier_root(hospital: Issuer) -> None:
    """While the registry still holds the issuer's previous root, provers prove against that root."""
    tree = hospital.revocation
    assert tree is not None
    tree.revoke(10)
    earlier = tree.root
    tree.revoke_many([20, 30])
    proof = tree.non_membership_proof(25, root=earlier)
    verify_non_membership(earlier, 25, proof)
    with pytest.raises(MerkleProofError):
        tree.non_membership_proof(25, root=12345)
    from zkhealth.errors import CredentialRevokedError

    with pytest.raises(CredentialRevokedError):
        tree.non_membership_proof(10, root=earlier)


def test_the_person_registry_persists_and_recomputes_its_root(tmp_path: Path) -> None:
    path = tmp_path / "persons.sqlite"
    with PersonRegistry(path) as registry:
        assert registry.root == empty_person_root()
        registry.register(111, 20_000, person="alice")
        registry.register(222, 20_001)
        registry.rotate(111, 333, 20_010)
        root = registry.root
        membership = registry.membership(333)
    with PersonRegistry(path) as reopened:
        assert reopened.root == root and 111 not in reopened and 333 in reopened
        assert reopened.membership(333) == membership
        assert membership.proof.leaf == person_leaf(333, 20_010)
        assert PersonMembership.from_dict(json.loads(json.dumps(membership.to_dict()))) == membership
    # a hand edit of a leaf row is caught when the file is opened (the tree is rebuilt from the rows)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE persons SET registered_day = 19000 WHERE commitment = '333'")
    connection.commit()
    connection.close()
    with pytest.raises(PersonRegistryError):
        PersonRegistry(path)


def test_a_failed_change_leaves_the_person_registry_as_it_was(tmp_path: Path) -> None:
    with PersonRegistry(tmp_path / "p.sqlite") as registry:
        registry.register(111, 20_000, person="alice")
        root = registry.root
        with pytest.raises(PersonRegistryError):
            registry.register(222, 20_001, person="alice")
        with pytest.raises(PersonRegistryError):
            registry.rotate(999, 444, 20_002)
        assert registry.root == root and len(registry) == 1
    with PersonRegistry(tmp_path / "p.sqlite") as again:
        assert again.root == root


def test_two_processes_share_a_person_registry(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    first, second = PersonRegistry(path), PersonRegistry(path)
    try:
        first.register(1, 100)
        second.register(2, 101)  # reloads first's commit before writing
        assert first.register(3, 102) == 2
        with PersonRegistry(path) as third:
            assert third.root == first.root and len(third) == 3
    finally:
        first.close()
        second.close()


def test_root_history_applies_the_grace_period_as_the_contract_does() -> None:
    history = RootHistory.single(5, 100).published(6, 1_000).published(7, 2_000)
    assert [e.root for e in history.entries] == [7, 6, 5]
    history.check(7, grace_seconds=0, now=10**9)
    history.check(6, grace_seconds=500, now=2_500)  # superseded at 2,000: accepted up to 2,500 inclusive
    with pytest.raises(StaleRootError):
        history.check(6, grace_seconds=500, now=2_501)
    with pytest.raises(StaleRootError):
        history.check(5, grace_seconds=0, now=1_001)
    history.check(5, grace_seconds=0, now=1_000)  # the same second as the update: the contract's `>`, not `>=`
    with pytest.raises(UntrustedRootError):
        history.check(8, grace_seconds=10**6, now=2_000)
    assert history.accepted(grace_seconds=500, now=2_400) == {7, 6}
    kept = history.published(8, 2_000 + 40 * 86_400)
    assert [e.root for e in kept.entries] == [8, 7]  # superseded more than 30 days ago: dropped
    with pytest.raises(EncodingError):
        RootHistory((PublishedRoot(1, 0, 5),))


def test_the_trust_root_file_is_signed_and_pinned(hospital: Issuer, tmp_path: Path) -> None:
    operator = Issuer.generate()
    did = TrustRootDocument.operator_did(operator.ed25519_public_key)
    registry = TrustedIssuers()
    registry.add(hospital.public_key)
    first = TrustRootDocument.build(registry, empty_person_root(), operator=did, now=1_000)
    first.save(tmp_path / "trust.json", operator.sign_ed25519)
    hospital.revoke(3)
    registry.apply(hospital.revocation_statement(published_at=1_500))
    second = TrustRootDocument.build(registry, empty_person_root(), operator=did,
                                     previous=TrustRootDocument.load(tmp_path / "trust.json", operator=did), now=2_000)
    second.save(tmp_path / "trust.json", operator.sign_ed25519)
    loaded = TrustRootDocument.load(tmp_path / "trust.json", operator=did)
    assert loaded.trust_root == trust_root(registry.root) and loaded.sequence == 2
    assert loaded.history.lookup(first.trust_root) == PublishedRoot(first.trust_root, 1_000, 2_000)
    assert loaded.issuers.root == registry.root
    other = TrustRootDocument.operator_did(Issuer.generate().ed25519_public_key)
    with pytest.raises(UntrustedRootError):
        TrustRootDocument.load(tmp_path / "trust.json", operator=other)
    for edit in ({"sequence": 9}, {"personRegistryRoot": "1"}):
        data = json.loads((tmp_path / "trust.json").read_text())
        data.update(edit)
        with pytest.raises(SignatureError):
            TrustRootDocument.from_json(json.dumps(data))
    with pytest.raises(SignatureError):  # signed by another key than the one the file names
        second.save(tmp_path / "forged.json", Issuer.generate().sign_ed25519)
    # a built document is a snapshot: later registry changes do not alter it
    registry.add(Issuer.generate().public_key)
    assert second.trust_root != trust_root(registry.root) and second.issuers.root != registry.root
