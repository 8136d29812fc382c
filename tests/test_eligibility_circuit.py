"""Eligibility, witness tier: the calendar gadget, compiled criteria against the native evaluator, and the
standard eligibility circuit (constraint budget, public signals, forged witnesses)."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from patients import PATIENTS, TODAY, World, make_world

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.credentials.credential import Credential, Diagnosis, HealthClaims, LabValue
from zkhealth.credentials.schema import CLAIM_LAYOUT
from zkhealth.credentials.trees import NonMembershipProof
from zkhealth.eligibility import Criteria, Trial, eligibility_inputs
from zkhealth.eligibility.calendar import civil_date, civil_date_constraint_count, packed_ordinal
from zkhealth.eligibility.circuit import PUBLIC_SIGNALS
from zkhealth.eligibility.compiler import criteria_signal
from zkhealth.errors import UnsatisfiedConstraintError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness

CRITERIA_DIR = Path(__file__).resolve().parent.parent / "circuits" / "criteria"
STANDARD = "diagnosis in E11.* and age >= 18"
#: 2^14 rows: the constraints plus one row per public signal plus one (QAP input-consistency rows).
DOMAIN_LIMIT = 1 << 14


# --------------------------------------------------------------------------- calendar gadget


def _calendar_circuit(b: Builder) -> None:
    ordinal = b.private_input("ordinal")
    civil = civil_date(b, ordinal)
    b.output("packed", civil.packed)


@pytest.fixture(scope="module")
def calendar() -> CompiledCircuit:
    return compile(_calendar_circuit)


def test_calendar_gadget_count_is_pinned(calendar: CompiledCircuit) -> None:
    assert calendar.r1cs.n_constraints == civil_date_constraint_count() == 118


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=dt.date(7792, 12, 31).toordinal()))
def test_calendar_gadget_matches_native(calendar: CompiledCircuit, ordinal: int) -> None:
    witness = calendar.solve_witness({"ordinal": ordinal})
    assert calendar.output_values(witness)["packed"] == packed_ordinal(ordinal)


@pytest.mark.parametrize("ordinal", [dt.date(7793, 1, 1).toordinal(), FIELD_R - 146_098, FIELD_R // 2, 1 << 40])
def test_calendar_gadget_rejects_days_it_cannot_decompose(calendar: CompiledCircuit, ordinal: int) -> None:
    with pytest.raises(WitnessError):
        calendar.solve_witness({"ordinal": ordinal})


def _run_with_hint(calendar: CompiledCircuit, ordinal: int, hint: Callable[[int], list[int]]) -> None:
    program = calendar.program
    index = next(i for i, info in enumerate(program.hints) if info.name == "civil_date")
    values = program.assign_inputs({"ordinal": ordinal})
    program.run(values, replacements={index: hint}, lenient=True)
    program.check(values)


@pytest.mark.parametrize(
    ("real", "alias"),
    [
        (dt.date(2025, 3, 1), (2025, 2, 29)),  # 29 February of a common year
        (dt.date(2024, 3, 1), (2024, 2, 30)),  # 30 February of a leap year
        (dt.date(1900, 3, 1), (1900, 2, 29)),  # 1900 is not a leap year
        (dt.date(2025, 5, 1), (2025, 4, 31)),  # 31 April
    ],
)
def test_calendar_aliases_are_rejected_by_the_day_check(
    calendar: CompiledCircuit, real: dt.date, alias: tuple[int, int, int]
) -> None:
    """An alias names the same ordinal with a day past the month's end; only the day-validity constraints
    stand between it and a prover shifting a date."""
    year, month, day = alias

    def alias_hint(shifted: int) -> list[int]:
        yy = year + 399
        q4 = yy // 4
        return [yy, month - 1, day - 1, q4, q4 // 25, q4 // 100]

    with pytest.raises(UnsatisfiedConstraintError) as caught:
        _run_with_hint(calendar, real.toordinal(), alias_hint)
    assert "/civil_date/day" in caught.value.label


def test_calendar_rejects_wrong_leap_quotients(calendar: CompiledCircuit) -> None:
    day = dt.date(2024, 2, 29)

    def wrong(shifted: int) -> list[int]:
        yy = 2024 + 399
        q4 = yy // 4
        return [yy, 1, 28, q4 + 1, (q4 + 1) // 25, (q4 + 1) // 100]

    with pytest.raises(UnsatisfiedConstraintError):
        _run_with_hint(calendar, day.toordinal(), wrong)


def _parts(year: int, month: int, day: int) -> list[int]:
    yy = year + 399
    q4 = yy // 4
    return [yy, month - 1, day - 1, q4, q4 // 25, q4 // 100]


def test_calendar_rejects_another_real_date_for_the_ordinal(calendar: CompiledCircuit) -> None:
    """A valid decomposition of the NEXT day offered for 1 March: only the final equation
    ``ordinal + 146097 = 365 yy + ... + d0 + 1`` ties the parts to the ordinal."""
    real = dt.date(2025, 3, 1)
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        _run_with_hint(calendar, real.toordinal(), lambda shifted: _parts(2025, 3, 2))
    assert caught.value.label.endswith("/civil_date")


@pytest.mark.parametrize(
    ("real", "alias", "product"),
    [
        (dt.date(2025, 3, 1), (2025, 2, 29), 0),  # claims "divisible by 4" for 2025
        (dt.date(1900, 3, 1), (1900, 2, 29), 1),  # claims "divisible by 400" for 1900
    ],
)
def test_calendar_leap_flag_cannot_be_forced(
    calendar: CompiledCircuit, real: dt.date, alias: tuple[int, int, int], product: int
) -> None:
    """A prover who also sets the two hinted factors of a leap-year product (the remainder bits of yy mod 4,
    of q100 mod 4) to 1: those bits are tied to yy - 4 q4 and q100 - 4 q400, so the witness still fails."""
    program = calendar.program
    hinted = {v for info in program.hints for v in info.outputs}
    products = [
        [next(iter(program.ca[index])), next(iter(program.cb[index]))]
        for index, label in enumerate(program.labels)
        if label.endswith("/civil_date/leap")
        and len(program.ca[index]) == len(program.cb[index]) == 1
        and set(program.ca[index]) | set(program.cb[index]) <= hinted
    ]
    assert len(products) == 2
    hint = next(i for i, info in enumerate(program.hints) if info.name == "civil_date")
    values = program.assign_inputs({"ordinal": real.toordinal()})
    program.run(values, overrides=dict.fromkeys(products[product], 1),
                replacements={hint: lambda shifted: _parts(*alias)}, lenient=True)
    assert not program.satisfied(values)


# --------------------------------------------------------------------------- criteria circuits vs native


def _criteria_circuit(criteria: Criteria) -> CompiledCircuit:
    def define(b: Builder) -> None:
        today = b.private_input("today")  # private here: some criteria read no date
        claims = b.private_inputs("claims", 26)
        b.output("eligible", criteria_signal(b, criteria.resolved, claims, today))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identity-free test harness: some claim slots are unused
        return compile(define, name="eligibility")


def _credential(claims: HealthClaims) -> Credential:
    return Credential(
        credential_id=9,
        subject_commitment=5,
        issuer_public_key=(1, 2),
        issuer_ed25519=bytes(32),
        issued_at=TODAY - 10,
        expires_at=TODAY + 300,
        claims=claims,
    )


@pytest.mark.parametrize("path", sorted(CRITERIA_DIR.glob("*.txt")), ids=lambda p: p.stem)
def test_compiled_criteria_agree_with_native_on_every_patient(path: Path) -> None:
    trial = Trial.from_file(path, trial_id="x")
    compiled = _criteria_circuit(trial.criteria)
    admitted = 0
    for claims in PATIENTS.values():
        credential = _credential(claims)
        for day in (TODAY, TODAY - 400, TODAY + 3000):
            witness = compiled.solve_witness({"today": day, "claims": credential.field_elements()})
            expected = trial.evaluate(credential, day).eligible
            assert compiled.output_values(witness)["eligible"] == int(expected)
            admitted += expected
    assert admitted > 0


_CODES = ["E11.9", "E11.65", "E11.22", "I10", "I12.9", "O24.410", "N18.31", "C50.911", "C78.00", "J44.1", "F33.1"]


@st.composite
def _random_claims(draw: st.DrawFn) -> HealthClaims:
    dates = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2026, 12, 31))
    codes = draw(st.lists(st.sampled_from(_CODES), max_size=4, unique=True))
    lab = st.none() | st.builds(LabValue, st.integers(300, 1500).map(lambda v: f"{v / 100:.2f}"), dates)
    return HealthClaims(
        birth_date=draw(st.one_of(dates, st.just(dt.date(2008, 2, 29)))),
        gender=draw(st.sampled_from(["male", "female", "other", "unknown"])),
        research_consent=draw(st.booleans()),
        hba1c=draw(lab),
        egfr=draw(st.none() | st.builds(LabValue, st.integers(50, 1200).map(lambda v: f"{v / 10:.1f}"), dates)),
        systolic_bp=draw(st.none() | st.integers(80, 220)),
        diagnoses=tuple(Diagnosis(code, draw(dates)) for code in codes),
    )


_MIXED = Criteria(
    "age >= 18 and age < 75 and diagnosis in E11.* and not diagnosis in O00-O9A and hba1c between 7.0 and 10.5 "
    "and diagnosed_within(E11.*, 5 years) or (sex = female and egfr < 60 and diagnosed_within(I10-I16, 18 months))"
    " or diagnosed_within(C50.*, 400 days) or age in {40, 41}"
)


@pytest.fixture(scope="module")
def mixed_circuit() -> CompiledCircuit:
    return _criteria_circuit(_MIXED)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_claims(), st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_compiled_criteria_agree_with_native_on_random_patients(
    mixed_circuit: CompiledCircuit, claims: HealthClaims, day: dt.date
) -> None:
    credential = _credential(claims)
    today = (day - dt.date(1970, 1, 1)).days
    witness = mixed_circuit.solve_witness({"today": today, "claims": credential.field_elements()})
    assert mixed_circuit.output_values(witness)["eligible"] == int(_MIXED.evaluate(credential, today).eligible)


def test_slot_values_are_range_checked_at_their_declared_width() -> None:
    compiled = _criteria_circuit(Criteria("hba1c < 7.0"))
    vector = _credential(PATIENTS["t2d_adult"]).field_elements()
    vector[CLAIM_LAYOUT["hba1c"][0]] = FIELD_R - 1  # "-1": would compare below 700 without the range check
    with pytest.raises(WitnessError):
        compiled.solve_witness({"today": TODAY, "claims": vector})
    vector[CLAIM_LAYOUT["hba1c"][0]] = 1 << 16
    with pytest.raises(WitnessError):
        compiled.solve_witness({"today": TODAY, "claims": vector})


# --------------------------------------------------------------------------- the standard circuit


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(["t2d_adult", "t2d_minor", "leap_day"])


@pytest.fixture(scope="module")
def standard() -> Trial:
    trial = Trial(STANDARD, trial_id="NCT05000001", scope=1234567)
    trial.compile()
    return trial


def _inputs(world: World, name: str, *, scope: int = 1234567, today: int = TODAY, **changes: Any) -> dict[str, Any]:
    patient = world.revoked if name == "revoked" else world.patient(name)
    assert patient is not None
    credential = patient.issued.credential
    inputs = eligibility_inputs(
        credential,
        patient.issued.signature,
        holder_secret=patient.holder_secret,
        today=today,
        recipient=0x00000000000000000000000000000000DEADBEEF,
        scope=scope,
        trusted_issuer_root=world.registry.root,
        registry_proof=world.registry.proof(world.issuer.public_key),
        revocation_root=world.revocation.root,
        revocation_proof=world.revocation.non_membership_proof(credential.credential_id)
        if name != "revoked"
        else _forged_non_membership(world, credential.credential_id),
    )
    inputs.update(changes)
    return inputs


def _forged_non_membership(world: World, credential_id: int) -> NonMembershipProof:
    """The revoked id's own leaf (id, next): a prover's best attempt, since no leaf brackets a revoked id."""
    for index, value, next_value in world.revocation.leaves():
        if value == credential_id:
            return NonMembershipProof(value, next_value, world.revocation.merkle_proof(index))
    raise AssertionError("the revoked id is not in the tree")


def test_standard_circuit_fits_a_2_14_domain(standard: Trial) -> None:
    report = standard.cost_report()
    assert report.constraints == standard.compile().r1cs.n_constraints
    assert report.constraints + len(PUBLIC_SIGNALS) + 1 <= DOMAIN_LIMIT
    assert report.fits_domain and report.domain_size == DOMAIN_LIMIT
    parts = dict(report.parts)
    assert set(parts) == {
        "schema", "signature", "issuer", "revocation", "expiry", "holder", "criteria", "nullifier", "recipient"
    }
    assert sum(parts.values()) == report.constraints
    assert parts["issuer"] == 1761 and parts["revocation"] == 5747 and parts["recipient"] == 1
    assert parts["holder"] == 213 and parts["nullifier"] == 240 and parts["expiry"] == 160
    clauses = dict(report.clauses)
    assert clauses["age >= 18"] > 0 and clauses["diagnosis in E11.*"] > 0
    assert "diagnosis in E11.*" in str(report)


def test_public_signals_are_exactly_the_six(standard: Trial) -> None:
    compiled = standard.compile()
    assert compiled.output_names == ["nullifier"]
    assert compiled.public_input_names == list(PUBLIC_SIGNALS[1:])
    assert compiled.r1cs.n_public == 6
    assert [item.name for item in standard.verifier_learns()] == list(PUBLIC_SIGNALS)


def test_recipient_is_bound_by_a_non_linear_constraint(standard: Trial) -> None:
    compiled = standard.compile()
    recipient_wire = 1 + PUBLIC_SIGNALS.index("recipient")
    squares = [
        c for c in compiled.r1cs.constraints
        if dict(c.a) == {recipient_wire: 1} and dict(c.b) == {recipient_wire: 1}
    ]
    assert len(squares) == 1
    assert squares[0].label.endswith("/recipient")


def test_eligible_patient_solves_and_the_nullifier_is_poseidon_of_secret_and_scope(
    world: World, standard: Trial
) -> None:
    compiled = standard.compile()
    witness = compiled.solve_witness(_inputs(world, "t2d_adult"))
    compiled.r1cs.check_witness(witness)
    public = compiled.public_signals(witness)
    secret = world.patient("t2d_adult").holder_secret
    assert public[0] == poseidon([secret, 1234567])
    assert public[1:] == [1234567, TODAY, world.registry.root, world.revocation.root, 0xDEADBEEF]


def test_two_trials_give_the_same_patient_different_nullifiers(world: World, standard: Trial) -> None:
    compiled = standard.compile()
    first = compiled.output_values(compiled.solve_witness(_inputs(world, "t2d_adult", scope=1234567)))
    second = compiled.output_values(compiled.solve_witness(_inputs(world, "t2d_adult", scope=7654321)))
    again = compiled.output_values(compiled.solve_witness(_inputs(world, "t2d_adult", scope=1234567)))
    assert first["nullifier"] != second["nullifier"]
    assert first == again


def test_leap_day_patient_is_an_adult_on_1_march_only(world: World, standard: Trial) -> None:
    compiled = standard.compile()
    march_1 = (dt.date(2026, 3, 1) - dt.date(1970, 1, 1)).days
    compiled.solve_witness(_inputs(world, "leap_day", today=march_1))
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        compiled.solve_witness(_inputs(world, "leap_day", today=march_1 - 1))
    assert "/criteria" in caught.value.label


@pytest.mark.parametrize(
    ("case", "part"),
    [
        ("minor", "/criteria"),
        ("wrong_secret", "/holder"),
        ("revoked", "/revocation"),
        ("wrong_issuer_root", "/issuer"),
        ("wrong_revocation_root", "/revocation"),
        ("expired", "/expiry"),
        ("not_yet_valid", "/expiry"),
        ("other_issuer_path", "/issuer"),
        ("signature_s_plus_l", "/signature"),
    ],
)
def test_forged_witnesses_are_rejected_in_the_right_part(
    world: World, standard: Trial, case: str, part: str
) -> None:
    from zkhealth.hazmat.babyjubjub import SUBORDER

    adult = world.patient("t2d_adult")
    inputs: dict[str, Any]
    if case == "minor":
        inputs = _inputs(world, "t2d_minor")
    elif case == "wrong_secret":
        inputs = _inputs(world, "t2d_adult", holder_secret=adult.holder_secret + 1)
    elif case == "revoked":
        inputs = _inputs(world, "revoked")
    elif case == "wrong_issuer_root":
        inputs = _inputs(world, "t2d_adult", trusted_issuer_root=world.registry.root + 1)
    elif case == "wrong_revocation_root":
        inputs = _inputs(world, "t2d_adult", revocation_root=world.revocation.root + 1)
    elif case == "expired":
        inputs = _inputs(world, "t2d_adult", today=adult.issued.credential.expires_at)
    elif case == "not_yet_valid":
        inputs = _inputs(world, "t2d_adult", today=adult.issued.credential.issued_at - 1)
    elif case == "other_issuer_path":
        proof = world.registry.proof(world.registry.issuers()[0][1])
        inputs = _inputs(world, "t2d_adult", issuer_siblings=list(proof.flat_siblings),
                         issuer_path_bits=list(proof.path_bits))
    else:
        inputs = _inputs(world, "t2d_adult")
        inputs["signature_s"] += SUBORDER
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        standard.compile().solve_witness(inputs)
    assert part in caught.value.label


@pytest.mark.parametrize("slot", ["schema_id", "schema_version"])
def test_a_vector_of_another_schema_signed_by_a_trusted_issuer_is_rejected(
    world: World, standard: Trial, slot: str
) -> None:
    """The trusted issuer signs a vector whose schema id or version is not this circuit's (another schema
    lays its slots out differently): only the schema constraints refuse it, the signature is valid."""
    from zkhealth.credentials.schema import HASH_CHUNK
    from zkhealth.signature.eddsa_poseidon import sign

    inputs = _inputs(world, "t2d_adult")
    claims = list(inputs["claims"])
    claims[CLAIM_LAYOUT[slot][0]] += 1
    signature = sign(world.issuer._bjj, poseidon([poseidon(claims[:HASH_CHUNK]), poseidon(claims[HASH_CHUNK:])]))
    inputs.update(claims=claims, signature_r8x=signature.R8[0], signature_r8y=signature.R8[1],
                  signature_s=signature.S)
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        standard.compile().solve_witness(inputs)
    assert caught.value.label.endswith("/schema")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    slot=st.integers(min_value=0, max_value=25),
    delta=st.one_of(st.integers(min_value=1, max_value=1000), st.integers(min_value=1, max_value=FIELD_R - 1)),
)
def test_changing_any_claim_without_re_signing_never_satisfies_the_circuit(
    world: World, standard: Trial, slot: int, delta: int
) -> None:
    inputs = _inputs(world, "t2d_adult")
    claims = list(inputs["claims"])
    claims[slot] = (claims[slot] + delta) % FIELD_R
    inputs["claims"] = claims
    with pytest.raises(WitnessError):
        standard.compile().solve_witness(inputs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["holder_secret", "signature_r8x", "signature_r8y", "signature_s",
                          "revocation_low_value", "revocation_next_value"]),
    delta=st.integers(min_value=1, max_value=FIELD_R - 1),
)
def test_altering_any_private_witness_value_never_satisfies_the_circuit(
    world: World, standard: Trial, name: str, delta: int
) -> None:
    inputs = _inputs(world, "t2d_adult")
    inputs[name] = (inputs[name] + delta) % FIELD_R
    with pytest.raises(WitnessError):
        standard.compile().solve_witness(inputs)


@pytest.mark.parametrize("path", sorted(CRITERIA_DIR.glob("*.txt")), ids=lambda p: p.stem)
def test_every_criteria_file_compiles_into_a_standard_circuit_within_2_14(path: Path) -> None:
    """Full lints on (no unconstrained hint, no unused public input) and the domain budget holds."""
    trial = Trial.from_file(path, trial_id="x")
    report = trial.cost_report()
    assert report.fits_domain
    assert dict(report.parts)["recipient"] == 1
