"""Issue 13: one enrollment per person. The same patient with two wallets, two hospitals binding two wallets, and a
wallet rotated after the trial opened: refused in a one-per-person trial (at proving time, in the circuit, by the
verifier and the contract), and plainly accepted in the default mode, as docs/security.md says. Issuers keep one
active holder commitment per patient record.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from records import EXPIRES, ISSUED, TODAY, RecordWorld, make_record_world, standard_trial, t2d_record

from zkhealth.chain import client, enrollment
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.persons import PersonRegistry
from zkhealth.credentials.record_vc import IssuedRecord
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.trust import trust_root
from zkhealth.credentials.trust_roots import RootHistory
from zkhealth.eligibility import Trial, eligibility_inputs
from zkhealth.eligibility.dedicated import compile_dedicated_circuit, dedicated_inputs
from zkhealth.eligibility.program import Policy, compile_program
from zkhealth.errors import (
    ContractRevertError,
    PersonRegistryError,
    UnsatisfiedConstraintError,
    UntrustedRootError,
)

OPENED = TODAY - 30
POLICY = Policy(one_per_person=True, opened_day=OPENED)
SECRETS = {"wallet1": 0x1111, "wallet2": 0x2222, "rotated": 0x3333}


@dataclasses.dataclass
class People:
    """Alice: wallet1 registered long before the trial opened; wallet2 a second wallet (hospital B binds it);
    `rotated` the wallet she moved to after the trial opened. Each wallet holds one credential."""

    world: RecordWorld
    hospital_b: Issuer
    persons: PersonRegistry
    credentials: dict[str, IssuedRecord]

    def root(self) -> int:
        return trust_root(self.world.trusted.root, self.persons.root)

    def trees(self) -> list[RevocationTree]:
        assert self.hospital_b.revocation is not None
        return [self.world.revocation, self.hospital_b.revocation]


def _people() -> People:
    world = make_record_world()
    hospital_b = Issuer.generate(revocation=RevocationTree(":memory:"))
    world.trusted.add(hospital_b.public_key)
    persons = PersonRegistry()
    persons.register(subject_commitment(SECRETS["wallet1"]), OPENED - 100, person="alice")
    persons.register(subject_commitment(0x9999), OPENED - 50, person="bob")
    credentials = {}
    for wallet, issuer in (("wallet1", world.issuer), ("wallet2", hospital_b), ("rotated", world.issuer)):
        credentials[wallet] = issuer.issue_record(t2d_record(), subject_commitment=subject_commitment(SECRETS[wallet]),
                                                  issued_at=ISSUED, expires_at=EXPIRES)
    return People(world, hospital_b, persons, credentials)


@pytest.fixture
def people() -> People:
    return _people()


def _inputs(trial: Trial, people: People, wallet: str, persons: Any = None, **options: Any) -> dict[str, Any]:
    return eligibility_inputs(trial, people.credentials[wallet], SECRETS[wallet], recipient=1, today=TODAY,
                              issuers=people.world.trusted, revocations=people.trees(),
                              persons=people.persons if persons is None else persons, **options)


@pytest.mark.native
def test_the_registrar_keeps_one_leaf_per_person(people: People) -> None:
    with pytest.raises(PersonRegistryError):  # Alice's second wallet: she already has a leaf
        people.persons.register(subject_commitment(SECRETS["wallet2"]), OPENED - 1, person="alice")
    with pytest.raises(PersonRegistryError):  # the same commitment twice
        people.persons.register(subject_commitment(SECRETS["wallet1"]), OPENED - 1)
    slot = people.persons.rotate(subject_commitment(SECRETS["wallet1"]), subject_commitment(SECRETS["rotated"]),
                                 OPENED + 1)
    assert slot == 2 and subject_commitment(SECRETS["wallet1"]) not in people.persons
    assert [entry.person for entry in people.persons.entries()] == ["bob", "alice"]


@pytest.mark.native
def test_a_second_wallet_and_a_second_hospitals_wallet_are_refused_at_proving_time(people: People) -> None:
    trial = Trial(standard_text(), trial_id="NCT-OPP", policy=POLICY, scope=5)
    inputs = _inputs(trial, people, "wallet1", roots=RootHistory.single(people.root()))
    assert inputs["person_registered_day"] == OPENED - 100
    with pytest.raises(PersonRegistryError):  # wallet2, bound by hospital B, is not in the person registry
        _inputs(trial, people, "wallet2")
    people.persons.rotate(subject_commitment(SECRETS["wallet1"]), subject_commitment(SECRETS["rotated"]), OPENED + 1)
    with pytest.raises(PersonRegistryError):  # rotated after the trial opened
        _inputs(trial, people, "rotated")
    with pytest.raises(PersonRegistryError):  # and the old wallet is gone from the registry
        _inputs(trial, people, "wallet1")


@pytest.mark.native
def test_a_registry_of_the_attackers_making_gives_an_unpublished_root(people: People) -> None:
    """Alice's second wallet registered in a person registry she made herself: the proof would be consistent, but
    its trust root is not the published one."""
    trial = Trial(standard_text(), trial_id="NCT-OPP", policy=POLICY, scope=5)
    mine = PersonRegistry()
    mine.register(subject_commitment(SECRETS["wallet2"]), OPENED - 100)
    with pytest.raises(UntrustedRootError):
        _inputs(trial, people, "wallet2", persons=mine, roots=RootHistory.single(people.root()))


@pytest.mark.witness
def test_the_circuit_refuses_a_registration_on_or_after_the_opening_day(people: People) -> None:
    """A prover who skips the library's check: the circuit itself asserts registered_day < opened_day."""
    program = compile_program(standard_text(), POLICY)
    compiled = compile_dedicated_circuit(program)
    holder = people.credentials["rotated"]
    commitment = subject_commitment(SECRETS["rotated"])
    for day in (OPENED, OPENED + 1):
        late = PersonRegistry()
        late.register(commitment, day)
        values = dedicated_inputs(program, holder.credential, holder.signature, holder_secret=SECRETS["rotated"],
                                  today=TODAY, recipient=1, scope=5,
                                  issuer=people.world.trusted.membership(people.world.issuer.public_key),
                                  revocation=people.world.revocation.non_membership_proof(
                                      holder.credential.credential_id),
                                  person=late.membership(commitment))
        with pytest.raises(UnsatisfiedConstraintError) as caught:
            compiled.solve_witness(values)
        assert "/person" in caught.value.label


@pytest.mark.native
def test_issuing_to_another_commitment_revokes_the_previous_credential() -> None:
    """One active holder commitment per patient record: the re-issue to another wallet revokes the first credential
    in the same database transaction; a renewal to the same wallet revokes nothing."""
    tree = RevocationTree(":memory:")
    hospital = Issuer.generate(revocation=tree)
    first, revoked = hospital.issue_record_for_patient("MRN-1", t2d_record(), subject_commitment=11,
                                                       issued_at=ISSUED, expires_at=EXPIRES)
    assert revoked is None
    renewal, revoked = hospital.issue_record_for_patient("MRN-1", t2d_record(), subject_commitment=11,
                                                         issued_at=ISSUED, expires_at=EXPIRES)
    assert revoked is None and not tree.is_revoked(first.credential.credential_id)
    second, revoked = hospital.issue_record_for_patient("MRN-1", t2d_record(), subject_commitment=22,
                                                        issued_at=ISSUED, expires_at=EXPIRES)
    assert revoked == renewal.credential.credential_id and tree.is_revoked(revoked)
    assert tree.bound_holder("MRN-1") == (22, second.credential.credential_id)
    other, revoked = hospital.issue_record_for_patient("MRN-2", t2d_record(), subject_commitment=11,
                                                       issued_at=ISSUED, expires_at=EXPIRES)
    assert revoked is None and len(tree) == 1


def standard_text() -> str:
    from records import STANDARD

    return STANDARD


# --------------------------------------------------------------------------- real proofs


@pytest.mark.prove
@pytest.mark.evm
@pytest.mark.slow
def test_one_per_person_on_chain_and_the_default_mode() -> None:
    """One per person: wallet1 enrolls; wallet2 with a self-made person registry proves (a real proof) but its trust
    root is unknown to the verifier and the contract. Default mode (no person registry): both wallets enroll, two
    nullifiers, as docs/security.md says plainly."""
    people = _people()
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    now = enrollment.chain_now(w3)
    opp = standard_trial(policy=POLICY, scope=None, trial_id="NCT-OPP", roots=RootHistory.single(people.root()))
    deployment = enrollment.deploy_trial(w3, opp, window=(now - 60, now + 86400), capacity=5, owner=accounts[0],
                                         trust_root=people.root())
    from zkhealth.eligibility import prove_eligibility

    def prove(trial: Trial, wallet: str, scope: int, recipient: str, **options: Any) -> Any:
        return prove_eligibility(trial, people.credentials[wallet], SECRETS[wallet], recipient=int(recipient, 16),
                                 today=now // 86400, issuers=people.world.trusted, revocations=people.trees(),
                                 scope=scope, **options)

    honest = prove(opp, "wallet1", deployment.scope, accounts[1], persons=people.persons)
    assert enrollment.enroll(w3, deployment.contract, honest)["status"] == 1
    mine = PersonRegistry()
    mine.register(subject_commitment(SECRETS["wallet2"]), OPENED - 100)
    forger = standard_trial(policy=POLICY, scope=None, trial_id="NCT-OPP")  # the attacker skips the root check
    forged = prove(forger, "wallet2", deployment.scope, accounts[2], persons=mine)
    with pytest.raises(UntrustedRootError):
        opp.verify(forged, today=now // 86400, expected_scope=deployment.scope)
    with pytest.raises(ContractRevertError) as caught:
        enrollment.enroll(w3, deployment.contract, forged)
    assert caught.value.error_name == "UnknownRoot"
    assert deployment.contract.functions.enrolledCount().call() == 1
    # Default mode: one enrollment per wallet.
    default = standard_trial(scope=None, trial_id="NCT-DEFAULT",
                             roots=RootHistory.single(trust_root(people.world.trusted.root)))
    plain = enrollment.deploy_trial(w3, default, window=(now - 60, now + 86400), capacity=5, owner=accounts[0],
                                    trust_root=trust_root(people.world.trusted.root))
    first = prove(default, "wallet1", plain.scope, accounts[3])
    second = prove(default, "wallet2", plain.scope, accounts[4])
    assert first.nullifier != second.nullifier
    outcomes = default.verify_each([first, second], today=now // 86400, expected_scope=plain.scope)
    assert [type(o).__name__ for o in outcomes] == ["VerifiedEligibility", "VerifiedEligibility"]
    for proof in (first, second):
        assert enrollment.enroll(w3, plain.contract, proof)["status"] == 1
    assert plain.contract.functions.enrolledCount().call() == 2
