"""security.md section 2.5 (P rows): what the public signals of the standard eligibility circuit reveal.

Witness tier: the standard circuit ("diagnosis in E11.* and age >= 18") is solved for synthetic patients
(tests/patients) and its six public signals are compared across patients, trials and private values.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from patients import TODAY, World, make_world

from zkhealth.credentials.schema import CLAIM_LAYOUT
from zkhealth.eligibility import Trial, eligibility_inputs
from zkhealth.eligibility.circuit import PUBLIC_SIGNALS
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness

STANDARD = "diagnosis in E11.* and age >= 18"
SCOPE_A = 0x1111_2222_3333
SCOPE_B = 0x4444_5555_6666
RECIPIENT = 0xC0FFEE
ELIGIBLE = ("t2d_adult", "ckd_diabetic")


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(list(ELIGIBLE))


@pytest.fixture(scope="module")
def trial() -> Trial:
    trial = Trial(STANDARD, trial_id="NCT05000001", scope=SCOPE_A)
    trial.compile()
    return trial


def _inputs(world: World, name: str, scope: int) -> dict[str, Any]:
    patient = world.patient(name)
    credential = patient.issued.credential
    return eligibility_inputs(
        credential,
        patient.issued.signature,
        holder_secret=patient.holder_secret,
        today=TODAY,
        recipient=RECIPIENT,
        scope=scope,
        trusted_issuer_root=world.registry.root,
        registry_proof=world.registry.proof(world.issuer.public_key),
        revocation_root=world.revocation.root,
        revocation_proof=world.revocation.non_membership_proof(credential.credential_id),
    )


_PUBLIC: dict[tuple[str, int], list[int]] = {}


def public_signals(world: World, trial: Trial, name: str, scope: int = SCOPE_A) -> list[int]:
    if (name, scope) not in _PUBLIC:
        compiled = trial.compile()
        _PUBLIC[(name, scope)] = compiled.public_signals(compiled.solve_witness(_inputs(world, name, scope)))
    return _PUBLIC[(name, scope)]


# --------------------------------------------------------------------------- P1


@settings(max_examples=200, deadline=None)
@given(secret=st.integers(1, FIELD_R - 1), scopes=st.lists(st.integers(0, (1 << 253) - 1), min_size=2, max_size=4,
                                                           unique=True))
def test_nullifiers_of_one_secret_differ_across_scopes(secret: int, scopes: list[int]) -> None:
    """P1 property: one nullifier per (secret, scope); none equals the secret's global commitment."""
    nullifiers = [poseidon([secret, scope]) for scope in scopes]
    assert len(set(nullifiers)) == len(scopes)
    assert poseidon([secret]) not in nullifiers


def test_same_patient_in_two_trials_shares_nothing_secret_derived(world: World, trial: Trial) -> None:
    """P1: the two proofs of one patient have different nullifiers, and no public signal is a function of the
    secret alone (neither the secret nor the subject commitment poseidon([secret]) is public)."""
    patient = world.patient("t2d_adult")
    first = public_signals(world, trial, "t2d_adult", SCOPE_A)
    second = public_signals(world, trial, "t2d_adult", SCOPE_B)
    assert first[0] != second[0]
    secret_only = {patient.holder_secret, poseidon([patient.holder_secret]),
                   patient.issued.credential.subject_commitment}
    assert not secret_only & set(first + second)
    assert first[1:] != second[1:] and first[2:] == second[2:]  # only the scope and nullifier change


# --------------------------------------------------------------------------- P2


def test_public_signals_hold_no_issuer_identity(world: World, trial: Trial) -> None:
    """P2: membership is proven against the registry root; the issuer's key, its registry leaf and its
    Ed25519 key never appear among the public signals (there is no reveal-issuer mode)."""
    compiled = trial.compile()
    assert compiled.output_names + compiled.public_input_names == list(PUBLIC_SIGNALS)
    assert not any("issuer" in name and name != "trusted_issuer_root" for name in PUBLIC_SIGNALS)
    ax, ay = world.issuer.public_key
    vector = world.patient("t2d_adult").issued.credential.field_elements()
    identity = {ax, ay, poseidon([ax, ay]), vector[CLAIM_LAYOUT["issuer_ed25519_hi"][0]],
                vector[CLAIM_LAYOUT["issuer_ed25519_lo"][0]]}
    for name in ELIGIBLE:
        assert not identity & set(public_signals(world, trial, name))


# --------------------------------------------------------------------------- P3


def test_two_eligible_patients_are_indistinguishable_but_for_the_nullifier(world: World, trial: Trial) -> None:
    """P3: different birth dates, codes, labs and credential ids; the same public values apart from the
    nullifier. No private comparison leaks through a public signal."""
    first = public_signals(world, trial, ELIGIBLE[0])
    second = public_signals(world, trial, ELIGIBLE[1])
    vectors = [world.patient(name).issued.credential.field_elements() for name in ELIGIBLE]
    for slot in ("birth_date", "hba1c", "dx1_code", "dx1_date", "credential_id"):
        index = CLAIM_LAYOUT[slot][0]
        assert vectors[0][index] != vectors[1][index], slot
    assert first[0] != second[0]
    assert first[1:] == second[1:]


# --------------------------------------------------------------------------- P4


def test_no_date_code_or_lab_value_is_public(world: World, trial: Trial) -> None:
    """P4 (HIPAA Safe Harbor: no dates tied to the patient): only ``today`` (whole days, the verifier's own
    day) is public; birth date, diagnosis and lab dates, codes, values and the credential id are not."""
    today_index = PUBLIC_SIGNALS.index("today")
    for name in ELIGIBLE:
        public = public_signals(world, trial, name)
        assert public[today_index] == TODAY and 0 <= TODAY < 1 << 32
        vector = world.patient(name).issued.credential.field_elements()
        private_slots = [
            slot for slot in CLAIM_LAYOUT
            if slot not in ("schema_id", "schema_version", "issued_at", "expires_at")
            and vector[CLAIM_LAYOUT[slot][0]] > 1  # absent (0) and boolean slots say nothing
        ]
        assert {"birth_date", "dx1_code", "dx1_date", "hba1c", "credential_id"} <= set(private_slots)
        leaked = [slot for slot in private_slots if vector[CLAIM_LAYOUT[slot][0]] in public]
        assert leaked == []
