"""security.md section 2.5 (P rows): what the public signals of the standard eligibility circuit reveal.

Witness tier: the standard circuit ("diagnosis in E11.* and age >= 18", schema version 2) is solved for synthetic
patients (tests/records) and its five public signals are compared across patients, trials and private values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records import STANDARD, TODAY, RecordWorld, make_record_world, obs, t2d_record

from zkhealth.credentials.record import HEADER_INDEX, Condition
from zkhealth.eligibility import Trial
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS, dedicated_inputs
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness

SCOPE_A = 0x1111_2222_3333
SCOPE_B = 0x4444_5555_6666
RECIPIENT = 0xC0FFEE
ELIGIBLE = ("t2d_adult", "ckd_diabetic")
D = dt.date


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("t2d_adult", t2d_record())
    world.issue("ckd_diabetic", t2d_record(
        birth_date=D(1955, 11, 30), gender="male",
        conditions=(Condition("E11.22", D(2016, 4, 4)), Condition("N18.31", D(2023, 5, 5))),
        observations=(obs("hba1c", "7.1", D(2026, 1, 20)), obs("egfr", "48.0", D(2026, 1, 20)))))
    return world


@pytest.fixture(scope="module")
def trial() -> Trial:
    trial = Trial(STANDARD, trial_id="NCT05000001", scope=SCOPE_A)
    trial.compile()
    return trial


def _inputs(world: RecordWorld, trial: Trial, name: str, scope: int) -> dict[str, Any]:
    holder = world.holders[name]
    credential = holder.issued.credential
    return dedicated_inputs(
        trial.program, credential, holder.issued.signature, holder_secret=holder.holder_secret, today=TODAY,
        recipient=RECIPIENT, scope=scope, issuer=world.trusted.membership(world.issuer.public_key),
        revocation=world.revocation.non_membership_proof(credential.credential_id),
    )


_PUBLIC: dict[tuple[str, int], list[int]] = {}


def public_signals(world: RecordWorld, trial: Trial, name: str, scope: int = SCOPE_A) -> list[int]:
    if (name, scope) not in _PUBLIC:
        compiled = trial.compile()
        _PUBLIC[(name, scope)] = compiled.public_signals(compiled.solve_witness(_inputs(world, trial, name, scope)))
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


def test_same_patient_in_two_trials_shares_nothing_secret_derived(world: RecordWorld, trial: Trial) -> None:
    """P1: the two proofs of one patient have different nullifiers, and no public signal is a function of the
    secret alone (neither the secret nor the subject commitment poseidon([secret]) is public)."""
    patient = world.holders["t2d_adult"]
    first = public_signals(world, trial, "t2d_adult", SCOPE_A)
    second = public_signals(world, trial, "t2d_adult", SCOPE_B)
    assert first[0] != second[0]
    secret_only = {patient.holder_secret, poseidon([patient.holder_secret]),
                   patient.issued.credential.subject_commitment}
    assert not secret_only & set(first + second)
    assert first[1:] != second[1:] and first[2:] == second[2:]  # only the scope and nullifier change


# --------------------------------------------------------------------------- P2


def test_public_signals_hold_no_issuer_identity(world: RecordWorld, trial: Trial) -> None:
    """P2: membership is proven against the trust root; the issuer's key, its registry leaf, its revocation
    root and its Ed25519 key never appear among the public signals (there is no reveal-issuer mode)."""
    compiled = trial.compile()
    assert compiled.output_names + compiled.public_input_names == list(PUBLIC_SIGNALS)
    assert not any("issuer" in name or "revocation" in name for name in PUBLIC_SIGNALS)
    ax, ay = world.issuer.public_key
    membership = world.trusted.membership(world.issuer.public_key)
    header = world.holders["t2d_adult"].issued.credential.header()
    identity = {ax, ay, poseidon([ax, ay]), membership.proof.leaf, membership.revocation_root,
                membership.proof.compute_root(), header[HEADER_INDEX["issuer_ed25519_hi"]],
                header[HEADER_INDEX["issuer_ed25519_lo"]]}
    for name in ELIGIBLE:
        assert not identity & set(public_signals(world, trial, name))


# --------------------------------------------------------------------------- P3


def test_two_eligible_patients_are_indistinguishable_but_for_the_nullifier(world: RecordWorld, trial: Trial) -> None:
    """P3: different birth dates, genders, codes, labs and credential ids; the same public values apart from the
    nullifier. No private comparison leaks through a public signal."""
    first = public_signals(world, trial, ELIGIBLE[0])
    second = public_signals(world, trial, ELIGIBLE[1])
    headers = [world.holders[name].issued.credential.header() for name in ELIGIBLE]
    for slot in ("birth_date", "gender", "conditions_root", "observations_root", "credential_id"):
        index = HEADER_INDEX[slot]
        assert headers[0][index] != headers[1][index], slot
    assert first[0] != second[0]
    assert first[1:] == second[1:]


# --------------------------------------------------------------------------- P4


def test_no_date_code_or_lab_value_is_public(world: RecordWorld, trial: Trial) -> None:
    """P4 (HIPAA Safe Harbor: no dates tied to the patient): only ``today`` (whole days, the verifier's own
    day) is public; birth date, record dates, the set roots (which commit to codes, dates and values), every
    leaf of the record and the credential id are not."""
    today_index = PUBLIC_SIGNALS.index("today")
    for name in ELIGIBLE:
        public = public_signals(world, trial, name)
        assert public[today_index] == TODAY and 0 <= TODAY < 1 << 32
        credential = world.holders[name].issued.credential
        header = credential.header()
        private_slots = [
            slot for slot, index in HEADER_INDEX.items()
            if slot not in ("schema_id", "schema_version", "issued_at", "expires_at")
            and header[index] > 1  # absent (0) and boolean slots say nothing
        ]
        assert {"birth_date", "birth_date_packed", "record_as_of", "conditions_root", "credential_id"} <= set(
            private_slots)
        leaked = [slot for slot in private_slots if header[HEADER_INDEX[slot]] in public]
        assert leaked == []
        leaves = {value for tree in credential.sets().values() for leaf in tree.leaves for value in leaf.fields()}
        assert not (leaves - {0, 1}) & set(public)
