"""The eligibility circuit against a prover who writes the witness by hand and swaps hashes.

The witness solver computes every hash honestly, so tests through it cannot notice a hash whose result is a
free hint (a mutant "turn a gadget's result into a hint", security.md C1). Here the prover changes a header slot,
or uses another issuer's or another holder's credential, and replaces the hashes that would give it away by the
honest ones: the constraints alone must refuse (:func:`zkhealth.testing.assert_no_witness`). The circuit is the
standard trial's dedicated circuit over schema version 2.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import pytest
from records import STANDARD, TODAY, RecordWorld, make_record_world, t2d_record

from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.record import HEADER_INDEX
from zkhealth.credentials.schema import HASH_CHUNK
from zkhealth.credentials.trees import NonMembershipProof
from zkhealth.credentials.trust import IssuerMembership
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs, dedicated_circuit, dedicated_inputs
from zkhealth.eligibility.program import compile_program
from zkhealth.hash.poseidon import poseidon
from zkhealth.signature.eddsa_poseidon import sign
from zkhealth.testing import assert_no_witness

pytestmark = pytest.mark.witness
PROGRAM = compile_program(STANDARD)
DEFINE = dedicated_circuit(PROGRAM)
D = dt.date


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("adult", t2d_record())
    world.issue("minor", t2d_record(birth_date=D(2010, 7, 1)))
    world.issue("no_diabetes", t2d_record(conditions=()))
    return world


def _inputs(world: RecordWorld, name: str = "adult", *, revocation: NonMembershipProof | None = None,
            issuer: IssuerMembership | None = None, **changes: Any) -> dict[str, Any]:
    holder = world.revoked if name == "revoked" else world.holders[name]
    assert holder is not None
    credential = holder.issued.credential
    inputs = dedicated_inputs(
        PROGRAM, credential, holder.issued.signature, holder_secret=holder.holder_secret, today=TODAY,
        recipient=0xDEADBEEF, scope=1234567,
        issuer=issuer if issuer is not None else world.trusted.membership(world.issuer.public_key),
        revocation=revocation if revocation is not None else world.revocation.non_membership_proof(
            credential.credential_id),
    )
    inputs.update(changes)
    return inputs


def _header_hash(header: list[int]) -> tuple[int, int, int]:
    first, second = poseidon(header[:HASH_CHUNK]), poseidon(header[HASH_CHUNK:])
    return first, second, poseidon([first, second])


def test_a_changed_header_slot_with_the_signed_hashes_swapped_in_is_refused(world: RecordWorld) -> None:
    """The prover edits a slot the trial does not read and offers the signed header's chunk hash, header hash and
    challenge."""
    inputs = _inputs(world)
    signed = list(inputs["header"])
    forged = list(signed)
    forged[HEADER_INDEX["research_consent"]] = 1 - forged[HEADER_INDEX["research_consent"]]  # first chunk
    ax, ay = signed[HEADER_INDEX["issuer_ax"]], signed[HEADER_INDEX["issuer_ay"]]
    r8 = (inputs["signature_r8x"], inputs["signature_r8y"])
    signed_first, _, signed_hash = _header_hash(signed)
    forged_first, _, forged_hash = _header_hash(forged)
    swaps = {
        forged_first: signed_first,
        forged_hash: signed_hash,
        poseidon([r8[0], r8[1], ax, ay, forged_hash]): poseidon([r8[0], r8[1], ax, ay, signed_hash]),
    }
    assert_no_witness(DEFINE, dict(inputs, header=forged), pivots=0, substitute=swaps, time_limit=180)


def test_an_untrusted_issuers_credential_with_a_trusted_leaf_swapped_in_is_refused(world: RecordWorld) -> None:
    """The untrusted issuer signs; the prover offers the trusted issuer's registry leaf and path."""
    untrusted = Issuer.generate()
    inputs = _inputs(world)
    header = list(inputs["header"])
    header[HEADER_INDEX["issuer_ax"]], header[HEADER_INDEX["issuer_ay"]] = untrusted.public_key
    signature = sign(untrusted._bjj, _header_hash(header)[2])
    forged = dict(inputs, header=header, signature_r8x=signature.R8[0], signature_r8y=signature.R8[1],
                  signature_s=signature.S)
    revocation_root = inputs["issuer_revocation_root"]
    swaps = {poseidon([*untrusted.public_key, revocation_root]): poseidon([*world.issuer.public_key, revocation_root])}
    assert_no_witness(DEFINE, forged, pivots=0, substitute=swaps, time_limit=180)


def test_someone_elses_credential_with_the_commitment_swapped_in_is_refused(world: RecordWorld) -> None:
    """The prover holds another secret and offers the credential's subject commitment as its hash."""
    inputs = _inputs(world)
    mine = inputs["holder_secret"] + 1
    commitment = inputs["header"][HEADER_INDEX["subject_commitment"]]
    assert_no_witness(DEFINE, dict(inputs, holder_secret=mine), pivots=0,
                      substitute={poseidon([mine]): commitment}, time_limit=180)


def test_the_revoked_credential_is_refused_without_the_solver(world: RecordWorld) -> None:
    """The revoked copy, with its own revocation leaf (no leaf brackets a revoked id)."""
    revoked = world.revoked
    assert revoked is not None
    credential = revoked.issued.credential
    own = next((index, value, nxt) for index, value, nxt in world.revocation.leaves()
               if value == credential.credential_id)
    proof = NonMembershipProof(own[1], own[2], world.revocation.merkle_proof(own[0]))
    assert_no_witness(DEFINE, _inputs(world, "revoked", revocation=proof), pivots=2, time_limit=180)


def test_a_made_up_revocation_leaf_bracketing_the_revoked_id_is_refused(world: RecordWorld) -> None:
    """The prover brackets the revoked id X with a leaf (X - 1, next) that is not in the tree, on the path of X's
    own leaf, and offers X's leaf hash for the made-up one: the leaf hash and the path must pin the root (kills
    the mutant that turns the non-membership check's hashes into hints, credential_core.assert_credential)."""
    revoked = world.revoked
    assert revoked is not None
    x = revoked.issued.credential.credential_id
    index, value, nxt = next(leaf for leaf in world.revocation.leaves() if leaf[1] == x)
    made_up = NonMembershipProof(x - 1, nxt, world.revocation.merkle_proof(index))
    inputs = _inputs(world, "revoked", revocation=made_up)
    assert_no_witness(DEFINE, inputs, pivots=2, substitute={poseidon([x - 1, nxt]): poseidon([value, nxt])},
                      time_limit=180)


def test_another_issuers_revocation_root_is_refused_without_the_solver(world: RecordWorld) -> None:
    """Issue 13: non-revocation shown against another issuer's revocation root (its registry path with our key):
    the issuer leaf commits to the root, so the trust root cannot come out right."""
    other = next(e for e in world.trusted.issuers() if e.point != world.issuer.public_key)
    ours = world.trusted.membership(world.issuer.public_key)
    inputs = _inputs(world, issuer=IssuerMembership(other.revocation_root, ours.proof))
    assert_no_witness(DEFINE, inputs, pivots=2, time_limit=180)


@pytest.mark.parametrize(
    ("criteria", "patient"),
    [
        ("age >= 18", "minor"),  # a comparison of packed dates
        ("diagnosis in E11.*", "no_diabetes"),  # both bounds of a code range over the conditions set
        ("diagnosis in C50.* or age >= 90", "adult"),  # an "or" of two operands
    ],
)
def test_an_ineligible_patient_finds_no_witness(world: RecordWorld, criteria: str, patient: str) -> None:
    """Every comparison result and boolean product of the criteria is pinned: setting one of them (to 0, 1,
    -1, ...) never turns "not eligible" into a witness."""
    program = compile_program(criteria)
    credential = world.holders[patient].issued.credential
    inputs = criteria_inputs(program, credential, TODAY)
    for index, atom in enumerate(program.atoms):  # an ineligible record has no chosen leaf: offer the sentinel's
        if f"atom{index}_leaf" not in inputs and hasattr(atom, "set_name"):
            tree = credential.sets()[atom.set_name]
            proof = tree.proof(0)
            inputs.update({f"atom{index}_leaf": list(tree.leaves[0].fields()),
                           f"atom{index}_siblings": list(proof.flat_siblings),
                           f"atom{index}_path": list(proof.path_bits)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_no_witness(criteria_circuit(program), inputs, pivots=16, time_limit=180)
