"""security.md section 2.1 (C rows): adversarial witnesses against the DSL, the standard gadgets and the
eligibility circuit, where the suites of the gadget authors leave a gap. Every refusal is asserted by class.

The rows and the tests that answer them are listed in docs/threat-tests.md.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import STANDARD, TODAY, RecordWorld, make_record_world, t2d_record

from zkhealth import groth16
from zkhealth.circuit import Builder, CompiledCircuit, check_unique, compile
from zkhealth.circuit import gadgets as gadget_package
from zkhealth.circuit.gadgets import mux, range_check, select
from zkhealth.circuit.gadgets.merkle import binary_merkle_root, quaternary_merkle_root
from zkhealth.circuit.gadgets.poseidon import poseidon as poseidon_gadget
from zkhealth.credentials.record import HEADER_INDEX
from zkhealth.eligibility import Trial
from zkhealth.eligibility import calendar as calendar_module
from zkhealth.eligibility.calendar import civil_date, packed_ordinal
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs, dedicated_inputs
from zkhealth.eligibility.program import compile_program
from zkhealth.errors import (
    InvalidProofError,
    PublicInputOutOfRangeError,
    UnsatisfiedConstraintError,
    WitnessError,
)
from zkhealth.field import FIELD_R
from zkhealth.hash.poseidon import poseidon
from zkhealth.hazmat.babyjubjub import SUBORDER

R = FIELD_R
NON_BOOLEAN = st.one_of(st.integers(2, R - 1), st.sampled_from([2, 3, R - 1, R - 2, (R + 1) // 2]))


def _forged(compiled: CompiledCircuit, inputs: dict[str, Any]) -> list[int]:
    """A malicious prover's witness: every step computed, no solver check; only the R1CS stands in the way."""
    program = compiled.program
    values = program.assign_inputs(inputs)
    program.run(values, lenient=True)
    return [values[v] for v in compiled.wire_vars]


# --------------------------------------------------------------------------- C5: remainder hints


def _calendar(b: Builder) -> None:
    b.output("packed", civil_date(b, b.private_input("ordinal")).packed)


def _run_calendar_hint(compiled: CompiledCircuit, ordinal: int, hint: Callable[[int], list[int]]) -> list[int]:
    program = compiled.program
    index = next(i for i, info in enumerate(program.hints) if info.name == "civil_date")
    values = program.assign_inputs({"ordinal": ordinal})
    program.run(values, replacements={index: hint}, lenient=True)
    program.check(values)
    return [values[v] for v in compiled.wire_vars]


def _wrapped_day_hint(date: dt.date) -> Callable[[int], list[int]]:
    """rarimo DateEncoder's attack (dayRest = p - 6) on our calendar: claim the NEXT month and a day index of
    ``day0 - days_in_month`` (a field element r - k), which keeps the linear date equation satisfied."""
    days_in_month = 31 if date.month in (1, 3, 5, 7, 8, 10, 12) else 30

    def hint(shifted: int) -> list[int]:
        yy = date.year + 399
        q4 = yy // 4
        return [yy, date.month, (date.day - 1 - days_in_month) % R, q4, q4 // 25, q4 // 100]

    return hint


@pytest.mark.witness
@pytest.mark.parametrize("date", [dt.date(2025, 5, 1), dt.date(2024, 1, 6), dt.date(1999, 10, 31)])
def test_calendar_day_remainder_wrapped_below_zero_is_rejected(date: dt.date) -> None:
    """C5: the day remainder given as r - k (a month too far) is refused by the day range check."""
    compiled = compile(_calendar, name="calendar")
    honest = compiled.solve_witness({"ordinal": date.toordinal()})
    assert compiled.output_values(honest)["packed"] == packed_ordinal(date.toordinal())
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        _run_calendar_hint(compiled, date.toordinal(), _wrapped_day_hint(date))
    assert "/civil_date/day" in caught.value.label


@pytest.mark.witness
def test_calendar_mutant_without_the_day_range_check_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """C5 mutation: the same gadget with the two day range checks dropped accepts the wrapped remainder (and
    decodes a different date), so the witness above kills that mutant."""
    def skip_day_checks(b: Builder, x: Any, bits: int) -> None:
        if not b.current_scope.endswith("/day"):
            range_check(b, x, bits)

    monkeypatch.setattr(f"{calendar_module.__name__}.range_check", skip_day_checks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mutant = compile(_calendar, name="calendar_mutant")
    date = dt.date(2025, 5, 1)
    forged = _run_calendar_hint(mutant, date.toordinal(), _wrapped_day_hint(date))
    mutant.r1cs.check_witness(forged)
    assert mutant.output_values(forged)["packed"] != packed_ordinal(date.toordinal())


# --------------------------------------------------------------------------- C7: selectors


def _select_circuit(b: Builder) -> None:
    b.output("out", select(b, b.private_input("s"), b.private_input("x"), b.private_input("y")))


def _mux_circuit(b: Builder) -> None:
    b.output("out", mux(b, b.private_inputs("bits", 2), b.private_inputs("values", 4)))


def _quaternary_circuit(b: Builder) -> None:
    siblings = [b.private_inputs("siblings", 3)]
    b.output("root", quaternary_merkle_root(b, b.private_input("leaf"), siblings, b.private_inputs("path", 2)))


def _binary_circuit(b: Builder) -> None:
    siblings = b.private_inputs("siblings", 2)
    b.output("root", binary_merkle_root(b, b.private_input("leaf"), siblings, b.private_inputs("path", 2)))


_SELECTOR_CIRCUITS: dict[str, CompiledCircuit] = {}


def _selector_circuit(name: str) -> CompiledCircuit:
    if name not in _SELECTOR_CIRCUITS:
        define = {
            "select": _select_circuit,
            "mux": _mux_circuit,
            "quaternary_merkle_root": _quaternary_circuit,
            "binary_merkle_root": _binary_circuit,
        }[name]
        _SELECTOR_CIRCUITS[name] = compile(define, name=name)
    return _SELECTOR_CIRCUITS[name]


def _selector_inputs(name: str, bad: int, position: int) -> dict[str, Any]:
    if name == "select":
        return {"s": bad, "x": 10, "y": 20}
    bits = [0, 1]
    bits[position] = bad
    if name == "mux":
        return {"bits": bits, "values": [11, 22, 33, 44]}
    if name == "quaternary_merkle_root":
        return {"leaf": 5, "siblings": [6, 7, 8], "path": bits}
    return {"leaf": 5, "siblings": [6, 7], "path": bits}


@pytest.mark.witness
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["select", "mux", "quaternary_merkle_root", "binary_merkle_root"]),
    bad=NON_BOOLEAN,
    position=st.integers(0, 1),
)
def test_every_selector_signal_carries_a_boolean_constraint(name: str, bad: int, position: int) -> None:
    """C7 property: for each selecting gadget, any non-boolean selector (2, r - 1, random) is refused both by
    the solver and by the bare R1CS (a prover who skips the solver)."""
    compiled = _selector_circuit(name)
    inputs = _selector_inputs(name, bad, position)
    with pytest.raises(WitnessError):
        compiled.solve_witness(inputs)
    with pytest.raises(WitnessError):
        compiled.r1cs.check_witness(_forged(compiled, inputs))
    honest = _selector_inputs(name, position, position)  # 0 or 1 at the same position
    compiled.r1cs.check_witness(compiled.solve_witness(honest))


# --------------------------------------------------------------------------- C8: a bound public input


def _recipient_bound(b: Builder) -> None:
    recipient = b.public_input("recipient")
    x = b.private_input("x")
    b.mul(recipient, recipient)  # Tornado's recipientSquare: a non-linear use the optimiser cannot drop
    b.output("out", x * x * x + x + 5)


@pytest.mark.prove
def test_changing_the_recipient_of_a_valid_proof_fails_verification() -> None:
    """C8 (verifier half): a valid proof for recipient R does not verify for R + 1, nor for the alias R + r."""
    compiled = compile(_recipient_bound, name="recipient_bound")
    pk, vk = groth16.setup(compiled.r1cs)
    recipient = 0xBEEF
    witness = compiled.solve_witness({"recipient": recipient, "x": 3})
    public = compiled.public_signals(witness)
    proof = groth16.prove(pk, witness)
    groth16.verify(vk, public, proof)
    index = len(compiled.output_names) + compiled.public_input_names.index("recipient")
    assert public[index] == recipient
    changed = list(public)
    changed[index] = recipient + 1
    with pytest.raises(InvalidProofError):
        groth16.verify(vk, changed, proof)
    changed[index] = recipient + R
    with pytest.raises(PublicInputOutOfRangeError):
        groth16.verify(vk, changed, proof)


# --------------------------------------------------------------------------- C9: one nullifier per person


SCOPE = 1234567
RECIPIENT = 0xDEADBEEF


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("adult", t2d_record())
    return world


@pytest.fixture(scope="module")
def standard() -> Trial:
    trial = Trial(STANDARD, trial_id="NCT05000001", scope=SCOPE)
    trial.compile()
    return trial


def eligibility_witness_inputs(world: RecordWorld, standard: Trial, name: str, *, holder_secret: int | None = None,
                               scope: int = SCOPE) -> dict[str, Any]:
    holder = world.holders[name]
    credential = holder.issued.credential
    return dedicated_inputs(
        standard.program, credential, holder.issued.signature,
        holder_secret=holder.holder_secret if holder_secret is None else holder_secret, today=TODAY,
        recipient=RECIPIENT, scope=scope, issuer=world.trusted.membership(world.issuer.public_key),
        revocation=world.revocation.non_membership_proof(credential.credential_id),
    )


@pytest.mark.witness
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_second_secret_gives_the_same_patient_another_nullifier(
    world: RecordWorld, standard: Trial, data: st.DataObject
) -> None:
    """C9: for a fixed credential (identity) and trial, the only accepted holder secret is the committed one,
    so the nullifier is unique. Panther's ``privKey + l`` and other candidates are refused in ``/holder``."""
    compiled = standard.compile()
    secret = world.holders["adult"].holder_secret
    honest = compiled.output_values(compiled.solve_witness(eligibility_witness_inputs(world, standard, "adult")))
    assert honest["nullifier"] == poseidon([secret, SCOPE])
    candidate = data.draw(
        st.one_of(
            st.sampled_from([secret + SUBORDER, secret - SUBORDER, secret + 1, R - secret, 0]),
            st.integers(1, R - 1),
        ).map(lambda v: v % R).filter(lambda v: v != secret)
    )
    with pytest.raises(UnsatisfiedConstraintError) as caught:
        compiled.solve_witness(eligibility_witness_inputs(world, standard, "adult", holder_secret=candidate))
    assert "/holder" in caught.value.label


def _holder_and_nullifier(b: Builder) -> None:
    """The eligibility circuit's holder and nullifier parts, with the same gadget calls."""
    commitment = b.public_input("subject_commitment")
    scope = b.public_input("scope")
    secret = b.private_input("holder_secret")
    b.assert_equal(poseidon_gadget(b, [secret]), commitment)
    b.output("nullifier", poseidon_gadget(b, [secret, scope]))


@pytest.mark.witness
def test_check_unique_finds_no_second_nullifier() -> None:
    """C9 with the uniqueness checker: fixed identity and trial, no second witness with another nullifier."""
    secret = 0x1234_5678_9ABC_DEF0
    inputs = {"subject_commitment": poseidon([secret]), "scope": SCOPE, "holder_secret": secret}
    check_unique(_holder_and_nullifier, inputs, outputs=["nullifier"], random_tries=4)
    compiled = compile(_holder_and_nullifier)
    for other in (secret + SUBORDER, secret + 1):
        with pytest.raises(WitnessError):
            compiled.solve_witness({**inputs, "holder_secret": other})


# --------------------------------------------------------------------------- C10: no switches


SWITCH_NAMES = {"enabled", "enable", "disable", "disabled", "active", "skip", "on", "check", "verify", "gate"}


def _gadget_functions() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for module_info in pkgutil.iter_modules(gadget_package.__path__):
        module = importlib.import_module(f"{gadget_package.__name__}.{module_info.name}")
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.endswith("_native"):
                found.append((f"{module.__name__}.{name}", fn))
    return found


@pytest.mark.native
def test_no_standard_gadget_takes_an_enable_switch() -> None:
    """C10: no gadget (signature, nullifier, Merkle, comparators...) takes an ``enabled``-style parameter that
    a witness could drive to 0."""
    functions = _gadget_functions()
    assert len(functions) >= 30
    offenders = [
        name for name, fn in functions if SWITCH_NAMES & {p.lower() for p in inspect.signature(fn).parameters}
    ]
    assert offenders == []


@pytest.mark.witness
def test_eligibility_circuit_has_no_switch_input(standard: Trial) -> None:
    compiled = standard.compile()
    names = {n.lower() for n in compiled.public_input_names + compiled.private_input_names}
    assert not names & SWITCH_NAMES


# --------------------------------------------------------------------------- C12: packed values


def _criteria(text: str) -> tuple[CompiledCircuit, dict[str, Any]]:
    """The criteria part of the dedicated circuit (header and leaves in, header hash out) and honest inputs."""
    program = compile_program(text)
    credential = make_record_world().issue("x", t2d_record()).issued.credential
    return compile(criteria_circuit(program), name="criteria"), criteria_inputs(program, credential, TODAY)


# (criteria that read the header slot, slot, declared width). Every slot a criterion reads is range-checked.
CRITERIA_SLOTS = [
    ("age >= 18", "birth_date_packed", 22),
    ("sex = female", "gender", 3),
    ("research_consent = true", "research_consent", 1),
]


@pytest.mark.witness
@pytest.mark.parametrize(("text", "slot", "bits"), CRITERIA_SLOTS)
def test_every_slot_a_criterion_reads_is_range_checked(text: str, slot: str, bits: int) -> None:
    """C12: a header slot value of 2^bits or r - 1 (packing overflow, "-1") never reaches a comparison."""
    compiled, inputs = _criteria(text)
    compiled.solve_witness(inputs)
    index = HEADER_INDEX[slot]
    for bad in (1 << bits, (1 << bits) + inputs["header"][index], R - 1):
        header = list(inputs["header"])
        header[index] = bad
        with pytest.raises(WitnessError):
            compiled.solve_witness(dict(inputs, header=header))


def _pack_bytes(b: Builder) -> None:
    """The Self `PackBytesAndPoseidon` shape, built from the standard gadgets: bytes range-checked first."""
    data = b.private_inputs("bytes", 3)
    for byte in data:
        range_check(b, byte, 8)
    packed = b.linear_combination(data, [1, 256, 65536])
    b.output("hash", poseidon_gadget(b, [packed]))


@pytest.mark.witness
def test_byte_packing_refuses_a_byte_of_256() -> None:
    """C12: [256, 0, 0] and [0, 1, 0] pack to the same integer; the range check refuses the first."""
    compiled = compile(_pack_bytes, name="pack_bytes")
    honest = compiled.output_values(compiled.solve_witness({"bytes": [0, 1, 0]}))
    with pytest.raises(WitnessError):
        compiled.solve_witness({"bytes": [256, 0, 0]})
    forged = _forged(compiled, {"bytes": [256, 0, 0]})
    assert compiled.output_values(forged) == honest  # the collision a missing check would allow
    with pytest.raises(WitnessError):
        compiled.r1cs.check_witness(forged)


@pytest.mark.witness
@pytest.mark.parametrize(("text", "slot"), [("age >= 18", "birth_date_packed"),
                                            ("record_as_of >= 2025-01-01", "record_as_of")])
def test_date_slots_are_range_checked_at_their_declared_width(text: str, slot: str) -> None:
    """C12: a date slot holding r - 1 (or 2^22) must not pass as a date: its 22-bit width check refuses it before
    the comparison that would read it as a huge or negative day."""
    compiled, inputs = _criteria(text)
    compiled.solve_witness(inputs)
    for bad in (FIELD_R - 1, 1 << 22):
        header = list(inputs["header"])
        header[HEADER_INDEX[slot]] = bad
        with pytest.raises(WitnessError):
            compiled.solve_witness(dict(inputs, header=header))
