"""The dedicated v2 eligibility circuit (zkhealth.eligibility.dedicated), witness tier: the native evaluator
and the circuit agree on random records and criteria; the benchmark trial fits 2^15; every trust check and
every crafted set witness fails."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from records import TODAY, RecordWorld, make_record_world, obs, t2d_record
from test_eligibility_program import BENCHMARK, at_most_clauses, formulas, records

from zkhealth.circuit import CompiledCircuit, compile
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.record import Condition, Medication, PatientRecord, RecordCredential, describe_key
from zkhealth.credentials.trust import PersonRegistry, trust_root
from zkhealth.eligibility.dedicated import (
    PUBLIC_SIGNALS,
    compile_dedicated_circuit,
    criteria_circuit,
    criteria_inputs,
    dedicated_inputs,
)
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import Policy, Program, compile_program, leaf_owners
from zkhealth.errors import CriteriaNotExpressibleError, WitnessError
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness
D = dt.date
#: 2^15 rows: the constraints plus one row per public signal plus one.
DOMAIN_LIMIT = 1 << 15


def _credential(record: PatientRecord) -> RecordCredential:
    issued = date_to_epoch_day(record.record_as_of)
    return RecordCredential(credential_id=5, subject_commitment=9, issuer_public_key=(1, 2),
                            issuer_ed25519=b"\1" * 32, issued_at=issued, expires_at=issued + 20_000, record=record)


def _solves(compiled: CompiledCircuit, values: dict[str, Any]) -> bool:
    try:
        compiled.solve_witness(values)
    except WitnessError:
        return False
    return True


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records(), formulas(depth=1), st.integers(0, 300))
def test_circuit_agrees_with_the_native_evaluator(record: PatientRecord, formula: tuple[str, Any, Any],
                                                  shift: int) -> None:
    text = formula[0]
    try:
        program = compile_program(text)
    except CriteriaNotExpressibleError:
        assume(False)
        return
    assume(len(program.atoms) <= 4)
    today = record.record_as_of + dt.timedelta(days=shift)
    credential = _credential(record)
    expected = evaluate_program(program, credential, today).eligible
    booleans = compile(criteria_circuit(program, output=True))
    witness = booleans.solve_witness(criteria_inputs(program, credential, today))
    assert booleans.output_values(witness)["eligible"] == int(expected), program.describe()
    asserting = compile(criteria_circuit(program))
    assert _solves(asserting, criteria_inputs(program, credential, today)) == expected


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records(), at_most_clauses(), st.booleans(), st.integers(0, 300))
def test_upper_bounds_on_counts_agree_with_the_oracle_in_the_circuit(record: PatientRecord, clause: Any,
                                                                     negated: bool, shift: int) -> None:
    """``count(...) <= m`` (and its negation, "at least m + 1"): the oracle over the record's entries, the
    native evaluator and the dedicated circuit (boolean and asserting forms) agree."""
    text = f"not ({clause.text})" if negated else clause.text
    try:
        program = compile_program(text)
    except CriteriaNotExpressibleError:
        assume(False)
        return
    today = record.record_as_of + dt.timedelta(days=shift)
    expected = (clause.neg if negated else clause.pos)(record, today.toordinal())
    credential = _credential(record)
    assert evaluate_program(program, credential, today).eligible == expected, program.describe()
    booleans = compile(criteria_circuit(program, output=True))
    witness = booleans.solve_witness(criteria_inputs(program, credential, today))
    assert booleans.output_values(witness)["eligible"] == int(expected), program.describe()
    asserting = compile(criteria_circuit(program))
    assert _solves(asserting, criteria_inputs(program, credential, today)) == expected


@pytest.mark.parametrize(
    ("criteria", "record", "eligible"),
    [
        (BENCHMARK, t2d_record(), True),
        (BENCHMARK, t2d_record(complete=False), False),
        ("not diagnosis in C00-C96 within 5 years and at least 2 of (bmi >= 30, diagnosis in I10, hba1c >= 9)",
         t2d_record(), True),
        ("count(diagnosis in J44.1 within 12 months) >= 2 or not smoking_status = former", t2d_record(), False),
        ("not (age < 18 or egfr < 30 or systolic_bp > 180)", t2d_record(observations=()), True),
        ("count(diagnosis in {E11.*, I10}) <= 2 and not count(medication in atc:A10 within 2 years) >= 3",
         t2d_record(), True),
        ("count(diagnosis in {E11.*, I10}) <= 1", t2d_record(), False),
        ("count(medication in atc:A10 within 2 years) <= 1", t2d_record(), False),
    ],
)
def test_criteria_circuit_on_fixed_cases(criteria: str, record: PatientRecord, eligible: bool) -> None:
    program = compile_program(criteria)
    credential = _credential(record)
    assert evaluate_program(program, credential, TODAY).eligible == eligible
    compiled = compile(criteria_circuit(program))
    assert _solves(compiled, criteria_inputs(program, credential, TODAY)) == eligible


def test_a_shared_leaf_proves_the_or_only_with_an_entry_that_satisfies_it() -> None:
    """ANY parts of one OR open one leaf (leaf_owners): every leaf of the set is tried as the witness."""
    program = compile_program("diagnosis in E10.* or diagnosis in I10 or medication in atc:A10BA02")
    owners = leaf_owners(program)
    conditions_owner = owners[0]
    assert conditions_owner == 0 and owners[1] == 0 and owners[2] == 2
    compiled = compile(criteria_circuit(program))
    assert compiled.r1cs.n_constraints < 1_200 + 2 * 2_700  # the header hash and two leaves, not three
    for record, satisfying in ((t2d_record(medications=()), {"I10"}), (t2d_record(medications=(), conditions=(
            Condition("E10.9", D(2020, 1, 1)), Condition("J45.909", D(2021, 1, 1)))), {"E10.9"}),
                                (t2d_record(medications=(), conditions=(Condition("J45.909", D(2021, 1, 1)),)), set())):
        credential = _credential(record)
        tree = credential.sets()["conditions"]
        base = criteria_inputs(program, credential, TODAY)
        assert _solves(compiled, base) == bool(satisfying)
        for index, leaf in enumerate(tree.leaves):
            proof = tree.proof(index)
            values = dict(base, atom0_leaf=list(leaf.fields()), atom0_siblings=list(proof.flat_siblings),
                          atom0_path=list(proof.path_bits))
            described = describe_key("conditions", tree.keys[index]).split()  # "icd10cm I10 2019-03-03 #0"
            raw_code = described[1] if described[0] == "icd10cm" and len(described) == 4 else None
            assert _solves(compiled, values) == (raw_code in satisfying), (index, described)


def test_an_upper_bound_on_a_count_opens_only_the_class_aggregate_or_its_true_low_neighbour() -> None:
    """``count(medication in atc:N06A) <= 1`` reads the N06A aggregate (its value is the class's number of
    entries): every member leaf of the set is tried as the atom's witness, and a leaf with a lowered count."""
    program = compile_program("count(medication in atc:N06A) <= 1")
    compiled = compile(criteria_circuit(program))
    sertraline = Medication("N06AB06", D(2024, 1, 1), end=D(2024, 6, 1), status="stopped")
    venlafaxine = Medication("N06AX16", D(2024, 7, 1))
    metformin = Medication("A10BA02", D(2022, 7, 1))
    cases = [((metformin,), "low neighbour"), ((metformin, sertraline), "aggregate atc N06A"),
             ((metformin, sertraline, venlafaxine), None)]
    for medications, witness in cases:
        credential = _credential(t2d_record(medications=medications))
        assert evaluate_program(program, credential, TODAY).eligible == (witness is not None)
        tree = credential.sets()["medications"]
        base = criteria_inputs(program, credential, TODAY)
        assert _solves(compiled, base) == (witness is not None)
        (key,) = {atom.key_lo for atom in program.atoms}  # type: ignore[union-attr]
        true_neighbour = max(i for i, k in enumerate(tree.keys) if k < key)
        for index, leaf in enumerate(tree.leaves):
            proof = tree.proof(index)
            values = dict(base, atom0_leaf=list(leaf.fields()), atom0_siblings=list(proof.flat_siblings),
                          atom0_path=list(proof.path_bits))
            described = describe_key("medications", tree.keys[index])
            expected = (witness == "aggregate atc N06A" and described == witness
                        or witness == "low neighbour" and index == true_neighbour)
            assert _solves(compiled, values) == expected, (medications, index, described)
        # The aggregate with a lowered count (the real path): the leaf hash no longer matches the signed root.
        if witness is None:
            index = tree.keys.index(key)
            proof = tree.proof(index)
            fields = list(tree.leaves[index].fields())
            assert fields[6] == 2
            fields[6] = 1
            assert not _solves(compiled, dict(base, atom0_leaf=fields, atom0_siblings=list(proof.flat_siblings),
                                              atom0_path=list(proof.path_bits)))
    # A partial record: the honest count is 1, but "at most" holds only over a complete, fresh record.
    partial = _credential(t2d_record(medications=(sertraline,), complete=False))
    assert not evaluate_program(program, partial, TODAY).eligible
    assert not _solves(compiled, criteria_inputs(program, partial, TODAY))


# --------------------------------------------------------------------------- the whole circuit


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("t2d", t2d_record())
    world.issue("old_hba1c", t2d_record(observations=(obs("hba1c", "8.2", D(2025, 6, 1)),
                                                       obs("egfr", "72.5", D(2026, 1, 20)))))
    return world


@pytest.fixture(scope="module")
def program() -> Program:
    return compile_program(BENCHMARK)


@pytest.fixture(scope="module")
def circuit(program: Program) -> CompiledCircuit:
    return compile_dedicated_circuit(program)


def _inputs(world: RecordWorld, program: Program, name: str = "t2d", **overrides: Any) -> dict[str, Any]:
    holder = world.holders[name] if name != "revoked" else world.revoked
    assert holder is not None
    credential = holder.issued.credential
    values = dedicated_inputs(
        program, credential, holder.issued.signature, holder_secret=holder.holder_secret, today=TODAY,
        recipient=0xBEEF, scope=1234, issuer=world.trusted.membership(world.issuer.public_key),
        revocation=_revocation_proof(world, credential.credential_id),
    )
    values.update(overrides)
    return values


def _revocation_proof(world: RecordWorld, credential_id: int) -> Any:
    from zkhealth.credentials.trees import NonMembershipProof

    if not world.revocation.is_revoked(credential_id):
        return world.revocation.non_membership_proof(credential_id)
    # A revoked id has no non-membership proof: take the low leaf's proof of the id just above it.
    low_index, low, nxt = next(item for item in world.revocation.leaves() if item[1] == credential_id)
    return NonMembershipProof(low, nxt, world.revocation.merkle_proof(low_index))


def test_benchmark_trial_fits_a_2_15_domain(circuit: CompiledCircuit) -> None:
    rows = circuit.r1cs.n_constraints + len(PUBLIC_SIGNALS) + 1
    assert rows <= DOMAIN_LIMIT
    assert circuit.r1cs.n_constraints == 31_243  # pinned: docs/eligibility.md and benchmarks/eligibility.py


def test_valid_witness_and_public_signals(world: RecordWorld, program: Program, circuit: CompiledCircuit) -> None:
    values = _inputs(world, program)
    witness = circuit.solve_witness(values)
    circuit.r1cs.check_witness(witness)
    public = circuit.public_signals(witness)
    holder = world.holders["t2d"]
    assert public == [poseidon([holder.holder_secret, 1234]), 1234, TODAY,
                      trust_root(world.trusted.root), 0xBEEF]


def test_ineligible_patient_has_no_witness(world: RecordWorld, program: Program, circuit: CompiledCircuit) -> None:
    # The older HbA1c (2025-06-01) is outside the 90-day window: the latest-value atom fails.
    assert not evaluate_program(program, world.holders["old_hba1c"].issued.credential, TODAY).eligible
    assert not _solves(circuit, _inputs(world, program, "old_hba1c"))


@pytest.mark.parametrize(
    "attack",
    ["revoked", "other_issuers_root", "stale_issuer_leaf", "wrong_trust_root", "expired", "wrong_secret",
     "tampered_header", "foreign_leaf"],
)
def test_trust_and_record_attacks_fail(world: RecordWorld, program: Program, circuit: CompiledCircuit,
                                       attack: str) -> None:
    values = _inputs(world, program)
    if attack == "revoked":
        values = _inputs(world, program, "revoked")
    elif attack == "other_issuers_root":
        # Non-revocation shown against another issuer's (or the empty) revocation root: the issuer leaf changes.
        values["issuer_revocation_root"] = world.trusted.membership(list(_other_keys(world))[0]).revocation_root
    elif attack == "stale_issuer_leaf":
        values["issuer_revocation_root"] = values["issuer_revocation_root"] + 1
    elif attack == "wrong_trust_root":
        values["trust_root"] = values["trust_root"] + 1
    elif attack == "expired":
        values["today"] = D(2027, 3, 1).toordinal() - D(1970, 1, 1).toordinal()
    elif attack == "wrong_secret":
        values["holder_secret"] = values["holder_secret"] + 1
    elif attack == "tampered_header":
        header = list(values["header"])
        header[12] = 1 - header[12]
        values["header"] = header
    else:
        other = world.holders["old_hba1c"].issued.credential.sets()["observations"]
        values["atom3_leaf"] = list(other.leaves[1].fields())
    assert not _solves(circuit, values)


def _other_keys(world: RecordWorld) -> list[tuple[int, int]]:
    keys = []
    for point in [entry.point for entry in world.trusted.issuers()]:  # the other registered issuers
        if point != world.issuer.public_key:
            keys.append(point)
    return keys


def test_one_per_person(world: RecordWorld) -> None:
    opened = D(2026, 2, 15).toordinal() - D(1970, 1, 1).toordinal()
    program = compile_program("diagnosis in E11.*", Policy(one_per_person=True, opened_day=opened))
    compiled = compile_dedicated_circuit(program)
    holder = world.holders["t2d"]
    people = PersonRegistry()
    people.register(poseidon([12345]), opened - 400)
    commitment = holder.issued.credential.subject_commitment
    people.register(commitment, opened - 10)
    base = dict(program=program, credential=holder.issued.credential, signature=holder.issued.signature,
                holder_secret=holder.holder_secret, today=TODAY, recipient=1, scope=2,
                issuer=world.trusted.membership(world.issuer.public_key),
                revocation=world.revocation.non_membership_proof(holder.issued.credential.credential_id))
    values = dedicated_inputs(**base, person=people.membership(commitment))  # type: ignore[arg-type]
    witness = compiled.solve_witness(values)
    assert compiled.public_signals(witness)[3] == trust_root(world.trusted.root, people.root)
    # Registered (rotated) after the trial opened: refused.
    late = PersonRegistry()
    late.register(commitment, opened)
    assert not _solves(compiled, dedicated_inputs(**base, person=late.membership(commitment)))  # type: ignore[arg-type]
    # Another person's leaf cannot stand in for the holder's.
    assert not _solves(compiled, dedicated_inputs(**base, person=people.membership(poseidon([12345]))))  # type: ignore[arg-type]
