"""Eligibility, witness tier: the calendar gadget, and the standard eligibility circuit (the dedicated circuit of
``diagnosis in E11.* and age >= 18`` over schema version 2): its constraint budget with and without the person
registry, its five public signals, and forged witnesses refused in the part that owns the check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import STANDARD, TODAY, RecordWorld, make_record_world, t2d_record

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.credentials.record import HEADER_INDEX, HEADER_LENGTH, Condition
from zkhealth.credentials.trees import NonMembershipProof
from zkhealth.credentials.trust import PersonRegistry, empty_revocation_root, trust_root
from zkhealth.eligibility import Trial
from zkhealth.eligibility.calendar import civil_date, civil_date_constraint_count, packed_ordinal
from zkhealth.eligibility.dedicated import (
    PUBLIC_SIGNALS,
    compile_dedicated_circuit,
    criteria_circuit,
    criteria_inputs,
    dedicated_inputs,
)
from zkhealth.eligibility.program import Policy, compile_program
from zkhealth.errors import UnsatisfiedConstraintError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon

pytestmark = pytest.mark.witness

CRITERIA_DIR = Path(__file__).resolve().parent.parent / "circuits" / "criteria"
#: 2^14 rows: the constraints plus one row per public signal plus one (QAP input-consistency rows).
DOMAIN_LIMIT = 1 << 14
D = dt.date


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


def test_the_calendar_covers_every_day_a_credential_is_valid_on(world: RecordWorld) -> None:
    """A proof's ``today`` goes through the calendar, which ends with 7792-12-31; credentials refuse an expiry
    after 7793-01-01, so every day a credential claims valid is a day a proof can be made on (issue 13)."""
    from zkhealth.credentials.record import LATEST_EXPIRY
    from zkhealth.errors import EncodingError

    last = (dt.date(7792, 12, 31) - dt.date(1970, 1, 1)).days
    assert LATEST_EXPIRY == last + 1
    with pytest.raises(EncodingError):
        world.issuer.issue_record(t2d_record(), subject_commitment=7, issued_at=TODAY, expires_at=LATEST_EXPIRY + 1)
    long_lived = world.issuer.issue_record(t2d_record(), subject_commitment=poseidon([99]), issued_at=TODAY,
                                           expires_at=LATEST_EXPIRY)
    program = compile_program("age >= 18")
    compiled = compile(criteria_circuit(program))
    compiled.solve_witness(criteria_inputs(program, long_lived.credential, dt.date(7792, 12, 31)))


# --------------------------------------------------------------------------- the standard circuit


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("adult", t2d_record())
    world.issue("minor", t2d_record(birth_date=D(2010, 7, 1)))
    world.issue("leap_day", t2d_record(birth_date=D(2008, 2, 29), conditions=(Condition("E11.65", D(2025, 12, 1)),)))
    return world


@pytest.fixture(scope="module")
def standard() -> Trial:
    trial = Trial(STANDARD, trial_id="NCT05000001", scope=1234567)
    trial.compile()
    return trial


def _revocation(world: RecordWorld, credential_id: int) -> NonMembershipProof:
    if not world.revocation.is_revoked(credential_id):
        return world.revocation.non_membership_proof(credential_id)
    # The revoked id's own leaf (id, next): a prover's best attempt, since no leaf brackets a revoked id.
    index, low, nxt = next(item for item in world.revocation.leaves() if item[1] == credential_id)
    return NonMembershipProof(low, nxt, world.revocation.merkle_proof(index))


def _inputs(world: RecordWorld, standard: Trial, name: str, *, scope: int = 1234567, today: int = TODAY,
            **changes: Any) -> dict[str, Any]:
    holder = world.revoked if name == "revoked" else world.holders[name]
    assert holder is not None
    credential = holder.issued.credential
    inputs = dedicated_inputs(
        standard.program, credential, holder.issued.signature, holder_secret=holder.holder_secret, today=today,
        recipient=0xDEADBEEF, scope=scope, issuer=world.trusted.membership(world.issuer.public_key),
        revocation=_revocation(world, credential.credential_id),
    )
    inputs.update(changes)
    return inputs


def _fails_in(standard: Trial, inputs: dict[str, Any]) -> str:
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        standard.compile().solve_witness(inputs)
    return caught.value.label


def test_standard_circuit_fits_a_2_14_domain(standard: Trial) -> None:
    report = standard.cost_report()
    assert report.constraints == standard.compile().r1cs.n_constraints == 15_611  # docs/eligibility.md
    assert report.constraints + len(PUBLIC_SIGNALS) + 1 <= DOMAIN_LIMIT
    assert report.fits_domain and report.domain_size == DOMAIN_LIMIT
    parts = dict(report.parts)
    assert set(parts) == {"schema", "signature", "issuer", "revocation", "trust", "validity", "holder", "criteria",
                          "nullifier", "recipient"}
    assert sum(parts.values()) == report.constraints
    assert parts["issuer"] == 1782 and parts["revocation"] == 5747 and parts["trust"] == 240
    assert parts["holder"] == 213 and parts["nullifier"] == 240 and parts["validity"] == 160
    assert parts["recipient"] == 1 and parts["signature"] == 4658
    atoms = dict(report.clauses)
    assert len(atoms) == 2 and all(count > 0 for count in atoms.values())
    assert "age" in str(report) and "E11" in str(report)


def test_one_per_person_adds_the_person_registry_path() -> None:
    """The person registry's membership (depth 12) and the registration-day comparison: 3,953 constraints."""
    opened = TODAY - 30
    compiled = compile_dedicated_circuit(compile_program(STANDARD, Policy(one_per_person=True, opened_day=opened)))
    rows = {row.path: row.after for row in compiled.report().rows}
    assert rows["eligibility/person"] == 3_953
    assert compiled.r1cs.n_constraints == 15_611 + 3_953


def test_public_signals_are_exactly_the_five(standard: Trial) -> None:
    compiled = standard.compile()
    assert compiled.output_names == ["nullifier"]
    assert compiled.public_input_names == list(PUBLIC_SIGNALS[1:])
    assert compiled.r1cs.n_public == 5
    assert PUBLIC_SIGNALS == ("nullifier", "scope", "today", "trust_root", "recipient")
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
    world: RecordWorld, standard: Trial
) -> None:
    compiled = standard.compile()
    witness = compiled.solve_witness(_inputs(world, standard, "adult"))
    compiled.r1cs.check_witness(witness)
    public = compiled.public_signals(witness)
    secret = world.holders["adult"].holder_secret
    assert public[0] == poseidon([secret, 1234567])
    assert public[1:] == [1234567, TODAY, world.trust_root, 0xDEADBEEF]


def test_two_trials_give_the_same_patient_different_nullifiers(world: RecordWorld, standard: Trial) -> None:
    compiled = standard.compile()
    first = compiled.output_values(compiled.solve_witness(_inputs(world, standard, "adult", scope=1234567)))
    second = compiled.output_values(compiled.solve_witness(_inputs(world, standard, "adult", scope=7654321)))
    again = compiled.output_values(compiled.solve_witness(_inputs(world, standard, "adult", scope=1234567)))
    assert first["nullifier"] != second["nullifier"]
    assert first == again


def test_leap_day_patient_is_an_adult_on_1_march_only(world: RecordWorld, standard: Trial) -> None:
    march_1 = (dt.date(2026, 3, 1) - dt.date(1970, 1, 1)).days
    standard.compile().solve_witness(_inputs(world, standard, "leap_day", today=march_1))
    assert "/criteria" in _fails_in(standard, _inputs(world, standard, "leap_day", today=march_1 - 1))


@pytest.mark.parametrize(
    ("case", "part"),
    [
        ("minor", "/criteria"),
        ("wrong_secret", "/holder"),
        ("revoked", "/revocation"),
        ("wrong_trust_root", "/trust"),
        ("another_issuers_revocation_root", "/revocation"),
        ("the_empty_trees_root", "/revocation"),
        ("expired", "/validity"),
        ("not_yet_valid", "/validity"),
        ("other_issuer_path", "/trust"),
        ("signature_s_plus_l", "/signature"),
    ],
)
def test_forged_witnesses_are_rejected_in_the_right_part(
    world: RecordWorld, standard: Trial, case: str, part: str
) -> None:
    from zkhealth.hazmat.babyjubjub import SUBORDER

    adult = world.holders["adult"]
    inputs: dict[str, Any]
    if case == "minor":
        inputs = _inputs(world, standard, "minor")
    elif case == "wrong_secret":
        inputs = _inputs(world, standard, "adult", holder_secret=adult.holder_secret + 1)
    elif case == "revoked":
        inputs = _inputs(world, standard, "revoked")
    elif case == "wrong_trust_root":
        inputs = _inputs(world, standard, "adult", trust_root=world.trust_root + 1)
    elif case == "another_issuers_revocation_root":
        other = next(e for e in world.trusted.issuers() if e.point != world.issuer.public_key)
        inputs = _inputs(world, standard, "adult", issuer_revocation_root=other.revocation_root)
    elif case == "the_empty_trees_root":
        inputs = _inputs(world, standard, "adult", issuer_revocation_root=empty_revocation_root())
    elif case == "expired":
        inputs = _inputs(world, standard, "adult", today=adult.issued.credential.expires_at)
    elif case == "not_yet_valid":
        inputs = _inputs(world, standard, "adult", today=adult.issued.credential.issued_at - 1)
    elif case == "other_issuer_path":
        other = next(e for e in world.trusted.issuers() if e.point != world.issuer.public_key)
        proof = world.trusted.membership(other.point).proof
        inputs = _inputs(world, standard, "adult", issuer_siblings=list(proof.flat_siblings),
                         issuer_path_bits=list(proof.path_bits))
    else:
        inputs = _inputs(world, standard, "adult")
        inputs["signature_s"] += SUBORDER
    assert part in _fails_in(standard, inputs)


@pytest.mark.parametrize("slot", ["schema_id", "schema_version"])
def test_a_vector_of_another_schema_signed_by_a_trusted_issuer_is_rejected(
    world: RecordWorld, standard: Trial, slot: str
) -> None:
    """The trusted issuer signs a header whose schema id or version is not this circuit's (another schema lays
    its slots out differently): only the schema constraints refuse it, the signature is valid."""
    from zkhealth.credentials.schema import HASH_CHUNK
    from zkhealth.signature.eddsa_poseidon import sign

    inputs = _inputs(world, standard, "adult")
    header = list(inputs["header"])
    header[HEADER_INDEX[slot]] += 1
    signature = sign(world.issuer._bjj, poseidon([poseidon(header[:HASH_CHUNK]), poseidon(header[HASH_CHUNK:])]))
    inputs.update(header=header, signature_r8x=signature.R8[0], signature_r8y=signature.R8[1],
                  signature_s=signature.S)
    assert _fails_in(standard, inputs).endswith("/schema")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    slot=st.integers(min_value=0, max_value=HEADER_LENGTH - 1),
    delta=st.one_of(st.integers(min_value=1, max_value=1000), st.integers(min_value=1, max_value=FIELD_R - 1)),
)
def test_changing_any_header_value_without_re_signing_never_satisfies_the_circuit(
    world: RecordWorld, standard: Trial, slot: int, delta: int
) -> None:
    inputs = _inputs(world, standard, "adult")
    header = list(inputs["header"])
    header[slot] = (header[slot] + delta) % FIELD_R
    inputs["header"] = header
    with pytest.raises(WitnessError):
        standard.compile().solve_witness(inputs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["holder_secret", "signature_r8x", "signature_r8y", "signature_s", "issuer_revocation_root",
                          "revocation_low_value", "revocation_next_value", "person_root"]),
    delta=st.integers(min_value=1, max_value=FIELD_R - 1),
)
def test_altering_any_private_witness_value_never_satisfies_the_circuit(
    world: RecordWorld, standard: Trial, name: str, delta: int
) -> None:
    inputs = _inputs(world, standard, "adult")
    inputs[name] = (inputs[name] + delta) % FIELD_R
    with pytest.raises(WitnessError):
        standard.compile().solve_witness(inputs)


@pytest.mark.parametrize(("criteria", "field", "bits"),
                         [("sex = female", "gender", 3), ("research_consent = true", "research_consent", 1),
                          ("age >= 18", "birth_date_packed", 22)])
def test_slot_values_are_range_checked_at_their_declared_width(world: RecordWorld, criteria: str, field: str,
                                                               bits: int) -> None:
    """A header slot a criterion reads is range-checked at its width before any comparison: ``r - 1`` (a "-1"
    that would compare below every bound) and ``2^bits`` are refused even though the header hash would match
    (this circuit takes the header hash as its output, not as a checked signature)."""
    program = compile_program(criteria)
    compiled = compile(criteria_circuit(program))
    inputs = criteria_inputs(program, world.holders["adult"].issued.credential, TODAY)
    for bad in (FIELD_R - 1, 1 << bits):
        header = list(inputs["header"])
        header[HEADER_INDEX[field]] = bad
        with pytest.raises(WitnessError):
            compiled.solve_witness(dict(inputs, header=header))


def test_the_person_registry_root_enters_only_the_trust_root(world: RecordWorld, standard: Trial) -> None:
    """Without one-per-person, the person root is a free private input: it changes the trust root, so only the
    published pair (issuer root, person root) verifies."""
    people = PersonRegistry()
    people.register(poseidon([5]), 100)
    inputs = _inputs(world, standard, "adult", person_root=people.root)
    inputs["trust_root"] = trust_root(world.trusted.root, people.root)
    witness = standard.compile().solve_witness(inputs)
    assert standard.compile().public_signals(witness)[3] == trust_root(world.trusted.root, people.root)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(CRITERIA_DIR.glob("*.txt")), ids=lambda p: p.stem)
def test_every_criteria_file_compiles_into_a_dedicated_circuit_within_2_15(path: Path) -> None:
    """Full lints on (no unconstrained hint, no unused public input) and the 2^15 domain budget holds."""
    trial = Trial(path, trial_id="x")
    report = trial.cost_report()
    assert report.constraints + report.public_rows <= 1 << 15
    assert dict(report.parts)["recipient"] == 1
