"""The universal eligibility circuit (zkhealth.eligibility.universal, universal_program), witness tier.

Most tests use a small shape (:data:`SMALL`): the circuit does not depend on the program, so it is compiled once
per module and every program, record and attack is only a witness. The shipped shape is exercised by the fit
tests (all twelve registered trials) and by the slow tests at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from records import TODAY, RecordWorld, make_record_world, obs, t2d_record
from test_eligibility_program import BENCHMARK, formulas, records

from zkhealth.circuit import CompiledCircuit, compile
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.record import Condition, PatientRecord, RecordCredential
from zkhealth.credentials.trust import PersonRegistry, trust_root
from zkhealth.eligibility.check import check_criteria_file, tally
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import Policy, compile_program
from zkhealth.eligibility.universal import (
    PUBLIC_SIGNALS,
    LeafChoice,
    choose_universal_leaves,
    universal_circuit,
    universal_criteria_circuit,
    universal_criteria_inputs,
    universal_inputs,
)
from zkhealth.eligibility.universal_program import (
    UNIVERSAL_SHAPE,
    UniversalShape,
    decode_words,
    fit_program,
    hash_words,
    pack_words,
)
from zkhealth.errors import (
    CriteriaNotExpressibleError,
    EligibilityError,
    UniversalLimitError,
    WitnessError,
)
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness
D = dt.date
SMALL = UniversalShape(leaf_slots=7, atom_slots=8, header_slots=2, gate_slots=6)
TRIALS = Path(__file__).resolve().parent.parent / "circuits" / "trials"


def _credential(record: PatientRecord) -> RecordCredential:
    issued = date_to_epoch_day(record.record_as_of)
    return RecordCredential(credential_id=5, subject_commitment=9, issuer_public_key=(1, 2),
                            issuer_ed25519=b"\1" * 32, issued_at=issued, expires_at=issued + 20_000, record=record)


def _solve(compiled: CompiledCircuit, values: dict[str, Any]) -> list[int] | None:
    try:
        return compiled.solve_witness(values)
    except WitnessError:
        return None


@pytest.fixture(scope="module")
def small() -> CompiledCircuit:
    return compile(universal_criteria_circuit(SMALL, output=True), name="universal-small")


def _verdict(compiled: CompiledCircuit, values: dict[str, Any]) -> tuple[int, int] | None:
    """(eligible, program_hash) of the criteria circuit, or None when the witness is refused."""
    witness = _solve(compiled, values)
    if witness is None:
        return None
    out = compiled.output_values(witness)
    return out["eligible"], out["program_hash"]


# --------------------------------------------------------------------------- fitting the registered trials


def test_every_registered_trial_fits_the_shipped_shape() -> None:
    """K, L, H, M were chosen from circuits/trials: every trial fits; the fraction is of expressed criteria."""
    fitted = 0
    for path in sorted(TRIALS.glob("*.txt")):
        check = check_criteria_file(path)
        universal = fit_program(check.program)
        assert universal.leaves_needed <= UNIVERSAL_SHAPE.leaf_slots
        fitted += check.counts["expressed"]
    total = tally(TRIALS)
    assert fitted == total.expressed  # 100% of the expressed criteria fit (docs/eligibility.md)


def test_criteria_past_a_limit_name_it_and_point_to_dedicated() -> None:
    many_exclusions = " and ".join(f"not diagnosis in {code}" for code in
                                   ("E10", "I21", "I63", "K85", "N18.6", "Z94", "C50", "J44", "G40"))
    with pytest.raises(UniversalLimitError) as caught:
        fit_program(compile_program(many_exclusions), SMALL)
    assert caught.value.limit == "set atoms" and caught.value.needed == 9 and caught.value.available == 8
    assert "--dedicated" in str(caught.value)
    assert isinstance(caught.value, CriteriaNotExpressibleError)
    with pytest.raises(UniversalLimitError) as header:
        fit_program(compile_program("age >= 18 and sex = female and research_consent = true"), SMALL)
    assert header.value.limit == "header atoms"
    nested = "((diagnosis in E11.* and hba1c >= 7) or (diagnosis in E10.* and hba1c >= 8)) and " \
             "((age >= 18 and bmi >= 30) or (age >= 21 and bmi >= 27)) and (egfr >= 30 or egfr >= 45)"
    with pytest.raises(UniversalLimitError) as gates:
        fit_program(compile_program(nested), SMALL)
    assert gates.value.limit == "gates"


def test_leaves_are_shared_where_one_leaf_serves_every_atom() -> None:
    # Two latest-value atoms and a "no value" atom on one code, and a bare ANY on the same range: one leaf.
    program = compile_program("not systolic_bp >= 180 and not systolic_bp < 100 and latest(systolic_bp) > 90")
    assert fit_program(program).leaves_needed == 1
    # A count chains distinct leaves: each item its own.
    count = compile_program("count(diagnosis in J44.1 within 12 months) >= 3")
    universal = fit_program(count)
    assert universal.leaves_needed == 3
    slots = [universal.atom_slot_of[i] for i in range(3)]
    assert slots == [0, 1, 2] and [universal.values[f"atom{s}.after"] for s in range(3)] == [0, 1, 1]


# --------------------------------------------------------------------------- the encoding and the hash


def test_words_decode_to_their_fields_and_nothing_else() -> None:
    universal = fit_program(compile_program(BENCHMARK), SMALL)
    assert decode_words(universal.words, SMALL) == dict(universal.values)
    assert pack_words(universal.values, SMALL) == universal.words
    widths = [sum(w for _, w in word) for word in SMALL.words()]
    assert max(widths) <= 248
    words = list(universal.words)
    words[0] += 1 << widths[0]  # a bit past the word's fields
    with pytest.raises(EligibilityError):
        decode_words(words, SMALL)
    for name in ("atom0.mode", "atom0.a_lo_kind", "header0.field"):
        values = dict(universal.values)
        values[name] = 3 if not name.endswith("field") else 6
        with pytest.raises(EligibilityError):
            decode_words(pack_words(values, SMALL), SMALL)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("diagnosis in E11.* and hba1c >= 7", "diagnosis in E10.* and hba1c >= 7"),  # one atom changed
        ("diagnosis in E11.* and hba1c >= 7", "diagnosis in E11.* and hba1c >= 7.1"),  # one constant changed
        ("age >= 18 and (hba1c >= 7 or bmi >= 30) and egfr >= 30",
         "age >= 18 and hba1c >= 7 and (bmi >= 30 or egfr >= 30)"),  # clauses regrouped
        ("age >= 18 and at least 2 of (hba1c >= 7, bmi >= 30, egfr >= 30)",
         "age >= 18 and at least 1 of (hba1c >= 7, bmi >= 30, egfr >= 30)"),  # a threshold
        ("diagnosis in E11.* within 12 months", "diagnosis in E11.* within 13 months"),  # a window
    ],
)
def test_the_program_hash_binds_atoms_constants_and_clauses(first: str, second: str) -> None:
    a, b = fit_program(compile_program(first), SMALL), fit_program(compile_program(second), SMALL)
    assert a.program_hash != b.program_hash
    policy = fit_program(compile_program(first, Policy(max_record_age_days=30)), SMALL)
    assert policy.program_hash != a.program_hash
    opened = fit_program(compile_program(first, Policy(one_per_person=True, opened_day=20_000)), SMALL)
    later = fit_program(compile_program(first, Policy(one_per_person=True, opened_day=20_001)), SMALL)
    assert len({a.program_hash, opened.program_hash, later.program_hash}) == 3
    # The shipped shape hashes the same program differently (the layout is part of the hash).
    assert fit_program(compile_program(first)).program_hash != a.program_hash


def test_swapped_clauses_are_another_program() -> None:
    a = fit_program(compile_program("hba1c >= 7 and bmi >= 30"), SMALL)
    b = fit_program(compile_program("bmi >= 30 and hba1c >= 7"), SMALL)
    assert a.program_hash != b.program_hash  # slot order is part of P; a verifier pins the hash it created


def test_a_proof_for_p_carries_p_hash_and_no_other(small: CompiledCircuit) -> None:
    """The circuit's program_hash is the hash of the words it evaluated: a proof for P never shows P'."""
    credential = _credential(t2d_record())
    for text in ("diagnosis in E11.* and hba1c >= 7", "diagnosis in E11.* and hba1c >= 9",
                 "hba1c >= 9 and diagnosis in E11.*"):
        universal = fit_program(compile_program(text), SMALL)
        result = _verdict(small, universal_criteria_inputs(universal, credential, TODAY))
        assert result is not None
        assert result[1] == universal.program_hash == hash_words(universal.words, SMALL)
        assert result[0] == int(evaluate_program(universal.program, credential, TODAY).eligible)


# --------------------------------------------------------------------------- agreement with the native evaluator


@pytest.mark.parametrize(
    ("criteria", "record", "eligible"),
    [
        (BENCHMARK, t2d_record(), True),
        (BENCHMARK, t2d_record(complete=False), False),
        ("not (age < 18 or egfr < 30 or systolic_bp > 180)", t2d_record(observations=()), True),  # absent values
        ("latest(hba1c) between 7.0 and 10.5 within 90 days", t2d_record(), True),
        ("latest(hba1c) >= 9", t2d_record(), False),  # an older value was 10.9: the latest (8.2) counts
        ("any(hba1c) >= 9", t2d_record(), True),
        ("not diagnosis in E11.* within 3 years", t2d_record(), True),
        ("not diagnosis in E11.* within 4 years", t2d_record(), False),
        ("count(diagnosis in J44.1 within 12 months) >= 2", t2d_record(conditions=(
            Condition("J44.1", D(2025, 5, 1)), Condition("J44.1", D(2025, 9, 1)))), True),
        ("count(diagnosis in J44.1 within 12 months) >= 2", t2d_record(conditions=(
            Condition("J44.1", D(2024, 5, 1)), Condition("J44.1", D(2025, 9, 1)))), False),
        ("age between 18 and 57 and sex = female", t2d_record(), True),  # 57 on 2026-03-02
        ("age between 18 and 56", t2d_record(), False),
        ("record_as_of within 30 days", t2d_record(), True),
        ("record_as_of within 29 days", t2d_record(), False),
        ("at least 2 of (bmi >= 30, diagnosis in I10, hba1c >= 9)", t2d_record(), True),
        ("at least 3 of (bmi >= 30, diagnosis in I10, hba1c >= 9)", t2d_record(), False),
        ("medication in atc:A10BA02 for at least 3 months and not medication in atc:A10A within 6 months",
         t2d_record(), True),
    ],
)
def test_fixed_cases_agree(small: CompiledCircuit, criteria: str, record: PatientRecord, eligible: bool) -> None:
    program = compile_program(criteria)
    credential = _credential(record)
    assert evaluate_program(program, credential, TODAY).eligible == eligible
    universal = fit_program(program, SMALL)
    assert _verdict(small, universal_criteria_inputs(universal, credential, TODAY)) == (int(eligible),
                                                                                      universal.program_hash)


def _fits(text: str) -> Any:
    try:
        return fit_program(compile_program(text), SMALL)
    except CriteriaNotExpressibleError:
        return None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records(), formulas(depth=2), st.integers(-30, 400))
def test_universal_circuit_agrees_with_the_native_evaluator(small: CompiledCircuit, record: PatientRecord,
                                                            formula: tuple[str, Any, Any], shift: int) -> None:
    universal = _fits(formula[0])
    assume(universal is not None)
    today = record.record_as_of + dt.timedelta(days=shift)
    credential = _credential(record)
    expected = evaluate_program(universal.program, credential, today).eligible
    assert _verdict(small, universal_criteria_inputs(universal, credential, today)) == (
        int(expected), universal.program_hash), universal.program.describe()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records(), formulas(depth=1), st.integers(0, 300))
def test_native_dedicated_and_universal_agree(small: CompiledCircuit, record: PatientRecord,
                                              formula: tuple[str, Any, Any], shift: int) -> None:
    universal = _fits(formula[0])
    assume(universal is not None and len(universal.program.atoms) <= 4)
    today = record.record_as_of + dt.timedelta(days=shift)
    credential = _credential(record)
    expected = int(evaluate_program(universal.program, credential, today).eligible)
    dedicated = compile(criteria_circuit(universal.program, output=True))
    witness = dedicated.solve_witness(criteria_inputs(universal.program, credential, today))
    assert dedicated.output_values(witness)["eligible"] == expected
    assert _verdict(small, universal_criteria_inputs(universal, credential, today)) == (expected,
                                                                                      universal.program_hash)


# --------------------------------------------------------------------------- the prover's free choices


def _choices(universal: Any, credential: RecordCredential, rng: random.Random) -> LeafChoice:
    """A random prover: every leaf slot opens a random member leaf of a random set; every atom slot reads a
    random leaf slot."""
    sets = credential.sets()
    names = ("conditions", "medications", "procedures", "observations")
    slots = []
    for _ in range(SMALL.leaf_slots):
        set_index = rng.randrange(4)
        slots.append((set_index, rng.randrange(len(sets[names[set_index]].leaves))))
    return LeafChoice(tuple(slots), tuple(rng.randrange(SMALL.leaf_slots) for _ in range(SMALL.atom_slots)))


@pytest.mark.parametrize("criteria", [BENCHMARK, "latest(hba1c) >= 9 or diagnosis in C50.*",
                                      "count(diagnosis in I10 within 20 years) >= 2",
                                      "count(medication in atc:A10) <= 1",  # two A10 entries: never eligible
                                      "count(medication in atc:A10 within 2 years) <= 2 and diagnosis in E11.*"])
def test_no_choice_of_leaves_or_unused_slots_makes_a_false_program_true(small: CompiledCircuit,
                                                                         criteria: str) -> None:
    """Leaf slots, the leaf each atom reads, unused atom and leaf slots: whatever the prover picks, the verdict
    is never "eligible" for an ineligible patient (and the honest choice proves an eligible one)."""
    rng = random.Random(criteria)
    for record in (t2d_record(), t2d_record(complete=False), t2d_record(observations=())):
        credential = _credential(record)
        universal = fit_program(compile_program(criteria), SMALL)
        eligible = evaluate_program(universal.program, credential, TODAY).eligible
        honest = _verdict(small, universal_criteria_inputs(universal, credential, TODAY))
        assert honest == (int(eligible), universal.program_hash)
        for _ in range(5):
            result = _verdict(small, universal_criteria_inputs(universal, credential, TODAY,
                                                               _choices(universal, credential, rng)))
            assert result is not None and result[1] == universal.program_hash
            assert result[0] <= int(eligible)


def test_an_upper_bound_on_a_count_holds_only_on_the_class_aggregate(small: CompiledCircuit) -> None:
    """``count(medication in atc:A10) <= 1`` on a record with two A10 entries: every member leaf of every set,
    opened in every leaf slot, leaves the verdict "not eligible"; with the bound at 2 the A10 aggregate (and only
    it) proves the program."""
    credential = _credential(t2d_record())
    names = ("conditions", "medications", "procedures", "observations")
    sets = credential.sets()
    for bound, eligible in ((1, False), (2, True)):
        universal = fit_program(compile_program(f"count(medication in atc:A10) <= {bound}"), SMALL)
        assert evaluate_program(universal.program, credential, TODAY).eligible == eligible
        proving = set()
        for set_index, name in enumerate(names):
            for index in range(len(sets[name].leaves)):
                choice = LeafChoice(((set_index, index),) * SMALL.leaf_slots, (0,) * SMALL.atom_slots)
                result = _verdict(small, universal_criteria_inputs(universal, credential, TODAY, choice))
                assert result is not None and result[1] == universal.program_hash
                if result[0]:
                    proving.add((name, index))
        atom = universal.program.atoms[0]
        aggregate = sets["medications"].keys.index(atom.key_lo)  # type: ignore[union-attr]
        assert proving == ({("medications", aggregate)} if eligible else set()), proving


def test_unused_slots_filled_with_any_encoding_are_another_program_or_refused(small: CompiledCircuit) -> None:
    """Every field of every unused atom, header and gate slot set to random values, adversarial extremes and
    invalid codes: the circuit either refuses, or proves a program whose hash is not P's (a verifier pinned
    to P refuses it)."""
    universal = fit_program(compile_program("diagnosis in E11.* and age >= 18"), SMALL)
    credential = _credential(t2d_record(complete=False))  # ineligible for nothing here: the program holds
    base = universal_criteria_inputs(universal, credential, TODAY)
    unused = [name for name in SMALL.field_names()
              if (name.startswith("atom") and int(name[4:name.index(".")]) >= 1)
              or (name.startswith("header") and int(name[6:name.index(".")]) >= 1)
              or (name.startswith("gate") and int(name[4:name.index(".")]) < SMALL.gate_slots - 1)]
    widths = dict(field for word in SMALL.words() for field in word)
    rng = random.Random(15)
    refused = other = 0
    for trial in range(20):
        values = dict(universal.values)
        for name in rng.sample(unused, 6):
            width = widths[name]
            values[name] = rng.choice([0, 1, (1 << width) - 1, rng.randrange(1 << width)])
        if trial % 5 == 0:  # an invalid mode, kind or header field in an unused slot
            values["atom3.mode"], values["header1.field"] = 3, 7
        words = pack_words(values, SMALL)
        result = _verdict(small, dict(base, program=list(words)))
        if words == universal.words:
            continue
        if result is None:
            refused += 1
        else:
            assert result[1] == hash_words(words, SMALL) != universal.program_hash
            other += 1
    assert refused and other


def test_a_word_cannot_carry_bits_past_its_fields(small: CompiledCircuit) -> None:
    universal = fit_program(compile_program("hba1c >= 7"), SMALL)
    credential = _credential(t2d_record())
    base = universal_criteria_inputs(universal, credential, TODAY)
    width = sum(w for _, w in SMALL.words()[0])
    for extra in (1 << width, 1 << 250, (1 << 254) + 1):
        words = list(universal.words)
        words[0] += extra
        assert _verdict(small, dict(base, program=words)) is None


def test_crafted_leaf_witnesses_are_refused(small: CompiledCircuit) -> None:
    universal = fit_program(compile_program("diagnosis in E11.* and hba1c >= 7"), SMALL)
    credential = _credential(t2d_record())
    base = universal_criteria_inputs(universal, credential, TODAY)
    assert _verdict(small, base) == (1, universal.program_hash)
    # Two leaf slots selected at once (a sum of leaves), or none.
    assert _verdict(small, dict(base, atom0_select=[1, 1, 0, 0, 0, 0, 0])) is None
    assert _verdict(small, dict(base, atom0_select=[0] * 7)) is None
    assert _verdict(small, dict(base, atom0_select=[2, -1, 0, 0, 0, 0, 0])) is None
    # A leaf that is not in the tree, or the right leaf proven against another set's root.
    fields = list(base["leaf0_fields"])
    fields[6] += 1
    assert _verdict(small, dict(base, leaf0_fields=fields)) is None
    assert _verdict(small, dict(base, leaf0_set=1)) is None
    assert _verdict(small, dict(base, leaf0_set=4)) is None
    # A member leaf of another set read by the atom: the atom is false (the diagnosis atom on an observation).
    obs_leaf = next(j for j, (s, _) in enumerate(choose_universal_leaves(universal, credential.record, TODAY).slots)
                    if s == 3)
    select = [int(j == obs_leaf) for j in range(SMALL.leaf_slots)]
    assert _verdict(small, dict(base, atom0_select=select)) == (0, universal.program_hash)


# --------------------------------------------------------------------------- the whole circuit (small shape)


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("t2d", t2d_record())
    world.issue("old_hba1c", t2d_record(observations=(obs("hba1c", "8.2", D(2025, 6, 1)),)))
    return world


@pytest.fixture(scope="module")
def whole() -> CompiledCircuit:
    return compile(universal_circuit(SMALL), name="universal-small-whole")


def _whole_inputs(world: RecordWorld, criteria: str, name: str = "t2d", policy: Policy | None = None,
                  **extra: Any) -> dict[str, Any]:
    holder = world.holders[name]
    credential = holder.issued.credential
    universal = fit_program(compile_program(criteria, policy), SMALL)
    return universal_inputs(universal, credential, holder.issued.signature, holder_secret=holder.holder_secret,
                            today=TODAY, recipient=0xBEEF, scope=1234,
                            issuer=world.trusted.membership(world.issuer.public_key),
                            revocation=world.revocation.non_membership_proof(credential.credential_id), **extra)


def test_whole_circuit_public_signals(world: RecordWorld, whole: CompiledCircuit) -> None:
    values = _whole_inputs(world, BENCHMARK)
    witness = whole.solve_witness(values)
    whole.r1cs.check_witness(witness)
    holder = world.holders["t2d"]
    assert [name for name, _ in zip(PUBLIC_SIGNALS, whole.public_signals(witness), strict=True)] == list(
        PUBLIC_SIGNALS)
    assert whole.public_signals(witness) == [
        poseidon([holder.holder_secret, 1234]), fit_program(compile_program(BENCHMARK), SMALL).program_hash, 1234,
        TODAY, trust_root(world.trusted.root), 0xBEEF]
    assert _solve(whole, _whole_inputs(world, BENCHMARK, "old_hba1c")) is None


@pytest.mark.parametrize("attack", ["program_hash", "trust_root", "holder_secret", "expired", "tampered_header",
                                    "person_root_in_one_per_person"])
def test_whole_circuit_refuses(world: RecordWorld, whole: CompiledCircuit, attack: str) -> None:
    values = _whole_inputs(world, BENCHMARK)
    if attack == "program_hash":
        other = BENCHMARK.replace("egfr >= 30", "egfr >= 31")
        values["program_hash"] = fit_program(compile_program(other), SMALL).program_hash
    elif attack in ("trust_root", "holder_secret"):
        values[attack] += 1
    elif attack == "expired":
        values["today"] = date_to_epoch_day(D(2027, 3, 1))
    elif attack == "tampered_header":
        header = list(values["header"])
        header[12] = 1 - header[12]
        values["header"] = header
    else:
        # A one-per-person program cannot take the free person root: the registry path is what counts.
        values = _whole_inputs(world, "diagnosis in E11.*")
        opp = fit_program(compile_program("diagnosis in E11.*", Policy(one_per_person=True, opened_day=TODAY)),
                          SMALL)
        values.update(program=list(opp.words), program_hash=opp.program_hash)
    assert _solve(whole, values) is None


def test_one_per_person_is_decided_by_the_program(world: RecordWorld, whole: CompiledCircuit) -> None:
    holder = world.holders["t2d"]
    commitment = holder.issued.credential.subject_commitment
    opened = TODAY - 10
    people = PersonRegistry()
    people.register(poseidon([777]), opened - 400)
    people.register(commitment, opened - 5)
    policy = Policy(one_per_person=True, opened_day=opened)
    values = _whole_inputs(world, "diagnosis in E11.*", policy=policy, person=people.membership(commitment))
    witness = whole.solve_witness(values)
    assert whole.public_signals(witness)[4] == trust_root(world.trusted.root, people.root)
    late = PersonRegistry()
    late.register(commitment, opened)  # registered (rotated) on the opening day: too late
    assert _solve(whole, _whole_inputs(world, "diagnosis in E11.*", policy=policy,
                                       person=late.membership(commitment))) is None
    stranger = _whole_inputs(world, "diagnosis in E11.*", policy=policy, person=people.membership(poseidon([777])))
    assert _solve(whole, stranger) is None
    # The same registry root without one-per-person: any person root goes into the trust root, no path needed.
    free = _whole_inputs(world, "diagnosis in E11.*", person_root=people.root)
    assert whole.public_signals(whole.solve_witness(free))[4] == trust_root(world.trusted.root, people.root)


def test_person_flag_off_accepts_any_dummy_path(world: RecordWorld, whole: CompiledCircuit) -> None:
    values = _whole_inputs(world, "diagnosis in E11.*")
    for day in (0, TODAY + 1000):
        assert _solve(whole, dict(values, person_registered_day=day,
                                  person_siblings=[day] * len(values["person_siblings"]))) is not None


def test_shape_is_validated() -> None:
    with pytest.raises(EligibilityError):
        UniversalShape(leaf_slots=0, atom_slots=8, header_slots=2, gate_slots=6)
    with pytest.raises(EligibilityError):
        UniversalShape(leaf_slots=4, atom_slots=40, header_slots=16, gate_slots=20)
    assert dataclasses.replace(SMALL, leaf_slots=8).tag() != SMALL.tag()


@pytest.mark.slow
def test_the_shipped_circuit_agrees_on_every_registered_trials_patients() -> None:
    """The twelve registered trials on the shipped shape: each eligible patient proves, each ineligible one gets
    "not eligible" from the circuit exactly as from the evaluator (the patients and the per-criterion variants of
    tests/test_trials.py)."""
    from test_trials import AS_OF, PATIENTS, VARIANTS
    from test_trials import TODAY as TRIAL_DAY

    compiled = compile(universal_criteria_circuit(UNIVERSAL_SHAPE, output=True), name="universal-shipped-criteria")
    issued = date_to_epoch_day(AS_OF)
    cases = [(name, patient, eligible) for name in sorted(PATIENTS)
             for patient, eligible in zip(PATIENTS[name](), (True, False), strict=True)]
    cases += [(name, patient, eligible) for name, patient, eligible, _ in VARIANTS]  # each newly expressed criterion
    programs = {name: fit_program(check_criteria_file(TRIALS / f"{name}.txt").program) for name in PATIENTS}
    for name, patient, eligible in cases:
        universal = programs[name]
        credential = RecordCredential(credential_id=1, subject_commitment=2, issuer_public_key=(3, 4),
                                      issuer_ed25519=b"\5" * 32, issued_at=issued, expires_at=issued + 365,
                                      record=patient)
        assert evaluate_program(universal.program, credential, TRIAL_DAY).eligible == eligible
        result = _verdict(compiled, universal_criteria_inputs(universal, credential, TRIAL_DAY))
        assert result == (int(eligible), universal.program_hash), name
