"""The eligibility circuit against a prover who writes the witness by hand and swaps hashes.

The witness solver computes every hash honestly, so tests through it cannot notice a hash whose result is a
free hint (a mutant "turn a gadget's result into a hint", security.md C1). Here the prover changes a claim, or
uses another issuer's or another holder's credential, and replaces the hashes that would give it away by the
honest ones: the constraints alone must refuse (:func:`zkhealth.testing.assert_no_witness`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from patients import TODAY, World, make_world

from zkhealth.circuit import Builder
from zkhealth.credentials.schema import CLAIM_LAYOUT, HASH_CHUNK, VECTOR_LENGTH
from zkhealth.credentials.trees import NonMembershipProof
from zkhealth.eligibility import Criteria, eligibility_inputs
from zkhealth.eligibility.circuit import eligibility_circuit
from zkhealth.eligibility.compiler import criteria_signal
from zkhealth.hash.poseidon import poseidon
from zkhealth.signature.eddsa_poseidon import sign
from zkhealth.testing import assert_no_witness

pytestmark = pytest.mark.witness
STANDARD = "diagnosis in E11.* and age >= 18"
DEFINE = eligibility_circuit(STANDARD)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(["t2d_adult", "t2d_minor", "healthy_elderly"])


def _inputs(world: World, name: str = "t2d_adult", **changes: Any) -> dict[str, Any]:
    patient = world.patient(name)
    credential = patient.issued.credential
    inputs = eligibility_inputs(
        credential,
        patient.issued.signature,
        holder_secret=patient.holder_secret,
        today=TODAY,
        recipient=0xDEADBEEF,
        scope=1234567,
        trusted_issuer_root=world.registry.root,
        registry_proof=world.registry.proof(world.issuer.public_key),
        revocation_root=world.revocation.root,
        revocation_proof=world.revocation.non_membership_proof(credential.credential_id),
    )
    inputs.update(changes)
    return inputs


def _claims_hash(claims: list[int]) -> tuple[int, int, int]:
    first, second = poseidon(claims[:HASH_CHUNK]), poseidon(claims[HASH_CHUNK:])
    return first, second, poseidon([first, second])


def test_a_changed_claim_with_the_signed_hashes_swapped_in_is_refused(world: World) -> None:
    """The prover edits an unsigned slot and offers the signed vector's chunk hash, claims hash and challenge."""
    inputs = _inputs(world)
    signed = list(inputs["claims"])
    forged = list(signed)
    forged[CLAIM_LAYOUT["hba1c"][0]] += 1  # a slot the trial does not read (first chunk)
    ax, ay = signed[CLAIM_LAYOUT["issuer_ax"][0]], signed[CLAIM_LAYOUT["issuer_ay"][0]]
    r8 = (inputs["signature_r8x"], inputs["signature_r8y"])
    signed_first, _, signed_hash = _claims_hash(signed)
    forged_first, _, forged_hash = _claims_hash(forged)
    swaps = {
        forged_first: signed_first,
        forged_hash: signed_hash,
        poseidon([r8[0], r8[1], ax, ay, forged_hash]): poseidon([r8[0], r8[1], ax, ay, signed_hash]),
    }
    assert_no_witness(DEFINE, dict(inputs, claims=forged), pivots=0, substitute=swaps, time_limit=120)


def test_an_untrusted_issuers_credential_with_a_trusted_leaf_swapped_in_is_refused(world: World) -> None:
    """The untrusted issuer signs; the prover offers the trusted issuer's registry leaf and path."""
    untrusted = world.untrusted_issuer
    assert untrusted is not None
    inputs = _inputs(world)
    claims = list(inputs["claims"])
    claims[CLAIM_LAYOUT["issuer_ax"][0]], claims[CLAIM_LAYOUT["issuer_ay"][0]] = untrusted.public_key
    signature = sign(untrusted._bjj, _claims_hash(claims)[2])
    forged = dict(inputs, claims=claims, signature_r8x=signature.R8[0], signature_r8y=signature.R8[1],
                  signature_s=signature.S)
    swaps = {poseidon(list(untrusted.public_key)): poseidon(list(world.issuer.public_key))}
    assert_no_witness(DEFINE, forged, pivots=0, substitute=swaps, time_limit=120)


def test_someone_elses_credential_with_the_commitment_swapped_in_is_refused(world: World) -> None:
    """The prover holds another secret and offers the credential's subject commitment as its hash."""
    inputs = _inputs(world)
    mine = inputs["holder_secret"] + 1
    commitment = inputs["claims"][CLAIM_LAYOUT["subject_commitment"][0]]
    assert_no_witness(DEFINE, dict(inputs, holder_secret=mine), pivots=0,
                      substitute={poseidon([mine]): commitment}, time_limit=120)


def test_the_revoked_credential_is_refused_without_the_solver(world: World) -> None:
    """The revoked copy, with its own revocation leaf (no leaf brackets a revoked id)."""
    revoked = world.revoked
    assert revoked is not None
    credential = revoked.issued.credential
    own = next((index, value, nxt) for index, value, nxt in world.revocation.leaves()
               if value == credential.credential_id)
    proof = NonMembershipProof(own[1], own[2], world.revocation.merkle_proof(own[0]))
    inputs = eligibility_inputs(
        credential, revoked.issued.signature, holder_secret=revoked.holder_secret, today=TODAY,
        recipient=0xDEADBEEF, scope=1234567, trusted_issuer_root=world.registry.root,
        registry_proof=world.registry.proof(world.issuer.public_key), revocation_root=world.revocation.root,
        revocation_proof=proof,
    )
    assert_no_witness(DEFINE, inputs, pivots=2, time_limit=120)


def _criteria_asserted(criteria: str) -> Callable[[Builder], None]:
    """The criteria part of the circuit alone, asserted true (what the eligibility circuit does with it)."""
    resolved = Criteria(criteria).resolved

    def define(b: Builder) -> None:
        today = b.public_input("today")
        claims = b.private_inputs("claims", VECTOR_LENGTH)
        b.assert_equal(criteria_signal(b, resolved, claims, today), 1)

    return define


@pytest.mark.parametrize(
    ("criteria", "patient"),
    [
        ("age >= 18", "t2d_minor"),  # a comparison of packed dates
        ("diagnosis in E11.*", "healthy_elderly"),  # both bounds of a code interval, per diagnosis slot
        ("diagnosis in C50.* or age >= 90", "t2d_adult"),  # an "or" of two operands
    ],
)
def test_an_ineligible_patient_finds_no_witness(world: World, criteria: str, patient: str) -> None:
    """Every comparison result and boolean product of the criteria is pinned: setting one of them (to 0, 1,
    -1, ...) never turns "not eligible" into a witness."""
    claims = world.patient(patient).issued.credential.field_elements()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # most claim slots are unused by one clause
        assert_no_witness(_criteria_asserted(criteria), {"today": TODAY, "claims": claims}, pivots=16)
