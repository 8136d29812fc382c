"""Basic gadgets: bits, comparators, zero tests, selection, sets, logic.

Each gadget gets valid witnesses, adversarial invalid ones (2^n for n bits, x + r, r - 254 vs 2, r + 1 bits,
selector 2, division by zero), a hand-made mutant where it matters, and a pinned constraint count.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.circuit import (
    Builder,
    CompiledCircuit,
    NonStrictBitsWarning,
    Signal,
    UnrangedComparatorWarning,
    check_unique,
    compile,
)
from zkhealth.circuit.gadgets import (
    PINNED_COUNTS_PATH,
    assert_in_range,
    assert_in_set,
    assert_less_eq,
    assert_less_than,
    from_bits,
    greater_eq,
    greater_than,
    in_range,
    in_set,
    is_equal,
    is_zero,
    less_eq,
    less_than,
    less_than_unchecked,
    logical_and,
    logical_not,
    logical_or,
    mux,
    range_check,
    select,
    to_bits,
    to_bits_strict,
)
from zkhealth.circuit.gadgets.basic import (
    in_set_native,
    is_equal_native,
    is_zero_native,
    logical_native,
    mux_native,
    select_native,
)
from zkhealth.circuit.gadgets.bits import from_bits_native, to_bits_native
from zkhealth.circuit.gadgets.comparators import in_range_native, less_than_native
from zkhealth.errors import (
    CircuitDefinitionError,
    ConstraintCountDriftError,
    UnderconstrainedError,
    WitnessError,
)
from zkhealth.field import FIELD_R as R
from zkhealth.testing import ConstraintCountSnapshot, check_circuit, load_counts

pytestmark = pytest.mark.witness


# --------------------------------------------------------------------------- helpers


def unchecked_witness(
    compiled: CompiledCircuit,
    inputs: Mapping[str, object],
    replacements: Mapping[str, Callable[..., int | Sequence[int]]] | None = None,
) -> list[int]:
    """A full witness computed WITHOUT the solver's checks (a malicious prover's view): hints may be
    replaced by name, zero divisions give 0. Only ``r1cs.check_witness`` stands in the way."""
    program = compiled.program
    values = program.assign_inputs(inputs)
    by_index = {}
    for index, info in enumerate(program.hints):
        if replacements and info.name in replacements:
            by_index[index] = replacements[info.name]
    program.run(values, replacements=by_index, lenient=True)
    return [values[v] for v in compiled.wire_vars]


def two_inputs(gadget_fn: Callable[..., object], **params: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        y = b.private_input("y")
        b.output("out", gadget_fn(b, x, y, **params))  # type: ignore[arg-type]

    return define


def one_input(gadget_fn: Callable[..., object], **params: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        b.output("out", gadget_fn(b, x, **params))  # type: ignore[arg-type]

    return define


# --------------------------------------------------------------------------- pinned counts


def _bits_case(n: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        bits = to_bits(b, b.private_input("x"), n)
        b.output("low", bits[0])

    return define


def _strict_case(b: Builder) -> None:
    bits = to_bits_strict(b, b.private_input("x"))
    b.output("low", bits[0])


def _range_case(b: Builder) -> None:
    x = b.private_input("x")
    range_check(b, x, 32)
    b.output("out", x * x)


def _assert_case(fn: Callable[..., None], **params: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        y = b.private_input("y")
        fn(b, x, y, **params)

    return define


def _in_range_case(b: Builder) -> None:
    b.output("out", in_range(b, b.private_input("x"), 100, 200, bits=32))


def _assert_in_range_case(b: Builder) -> None:
    assert_in_range(b, b.private_input("x"), 100, 200, bits=32)


def _select_case(b: Builder) -> None:
    s, x, y = b.private_input("s"), b.private_input("x"), b.private_input("y")
    b.output("out", select(b, s, x, y))


def _mux_case(k: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        bits = b.private_inputs("bits", k)
        values = b.private_inputs("values", 1 << k)
        b.output("out", mux(b, bits, values))

    return define


def _in_set_case(b: Builder) -> None:
    b.output("out", in_set(b, b.private_input("x"), [3, 5, 7, 11, 13]))


def _assert_in_set_case(b: Builder) -> None:
    assert_in_set(b, b.private_input("x"), [3, 5, 7, 11, 13])


def _not_case(b: Builder) -> None:
    b.output("out", logical_not(b, b.private_input("x")))


COUNT_CASES: dict[tuple[str, str], Callable[[Builder], None]] = {
    ("to_bits", "n=8"): _bits_case(8),
    ("to_bits", "n=32"): _bits_case(32),
    ("to_bits", "n=253"): _bits_case(253),
    ("to_bits", "n=254"): _bits_case(254),
    ("to_bits_strict", ""): _strict_case,
    ("range_check", "n=32"): _range_case,
    ("is_zero", ""): one_input(is_zero),
    ("is_equal", ""): two_inputs(is_equal),
    ("less_than_unchecked", "bits=32"): two_inputs(less_than_unchecked, bits=32),
    ("less_than_unchecked", "bits=64"): two_inputs(less_than_unchecked, bits=64),
    ("less_than", "bits=8"): two_inputs(less_than, bits=8),
    ("less_than", "bits=32"): two_inputs(less_than, bits=32),
    ("less_than", "bits=64"): two_inputs(less_than, bits=64),
    ("less_than", "bits=252"): two_inputs(less_than, bits=252),
    ("less_eq", "bits=32"): two_inputs(less_eq, bits=32),
    ("greater_than", "bits=32"): two_inputs(greater_than, bits=32),
    ("greater_eq", "bits=32"): two_inputs(greater_eq, bits=32),
    ("assert_less_than", "bits=32"): _assert_case(assert_less_than, bits=32),
    ("assert_less_eq", "bits=32"): _assert_case(assert_less_eq, bits=32),
    ("in_range", "bits=32,constant bounds"): _in_range_case,
    ("assert_in_range", "bits=32,constant bounds"): _assert_in_range_case,
    ("select", ""): _select_case,
    ("mux", "k=1"): _mux_case(1),
    ("mux", "k=2"): _mux_case(2),
    ("in_set", "5 constants"): _in_set_case,
    ("assert_in_set", "5 constants"): _assert_in_set_case,
    ("and", ""): two_inputs(logical_and),
    ("or", ""): two_inputs(logical_or),
    ("not", ""): _not_case,
}

#: Counts the issue asks to match or beat (circomlib, compiled with full simplification).
REFERENCE_COUNTS = {("less_than_unchecked", "bits=32"): 33}


def measure(define: Callable[[Builder], None]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnrangedComparatorWarning)
        return compile(define).r1cs.n_constraints


@pytest.mark.parametrize("key", sorted(COUNT_CASES), ids=lambda k: f"{k[0]}[{k[1]}]")
def test_pinned_constraint_counts(key: tuple[str, str]) -> None:
    snapshot = ConstraintCountSnapshot(PINNED_COUNTS_PATH)
    count = measure(COUNT_CASES[key])
    snapshot.check(*key, count)
    if key in REFERENCE_COUNTS:
        assert count <= REFERENCE_COUNTS[key]


def test_every_pinned_basic_gadget_row_has_a_case() -> None:
    rows = load_counts(PINNED_COUNTS_PATH)
    mine = {"to_bits", "to_bits_strict", "range_check", "is_zero", "is_equal", "less_than_unchecked",
            "less_than", "less_eq", "greater_than", "greater_eq", "assert_less_than", "assert_less_eq",
            "in_range", "assert_in_range", "select", "mux", "in_set", "assert_in_set", "and", "or", "not"}
    for key in rows:
        if key[0] in mine:
            assert key in COUNT_CASES


def test_count_drift_is_detected(tmp_path: object) -> None:
    snapshot = ConstraintCountSnapshot(PINNED_COUNTS_PATH)
    pinned = snapshot.rows[("is_zero", "")].constraints
    with pytest.raises(ConstraintCountDriftError):
        snapshot.check("is_zero", "", pinned + 1)
    with pytest.raises(ConstraintCountDriftError):
        snapshot.check("is_zero", "no such params", pinned)


# --------------------------------------------------------------------------- bits


@pytest.mark.parametrize("n", [1, 8, 32, 253])
def test_to_bits_boundaries(n: int) -> None:
    circuit = _bits_case(n)
    check_circuit(
        circuit,
        valid=[({"x": 0}, {"low": 0}), ({"x": (1 << n) - 1}, {"low": 1})],
        invalid=[{"x": 1 << n}, {"x": R - 1}, {"x": 5 + R}, {"x": -1}],
    )


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
@settings(max_examples=30, deadline=None)
def test_to_bits_matches_native(x: int) -> None:
    def define(b: Builder) -> None:
        bits = to_bits(b, b.private_input("x"), 64)
        for i in (0, 1, 63):
            b.output(f"b{i}", bits[i])
        b.output("back", from_bits(b, bits))

    compiled = _compiled(define)
    outputs = compiled.output_values(compiled.solve_witness({"x": x}))
    native = to_bits_native(x, 64)
    assert [outputs["b0"], outputs["b1"], outputs["b63"]] == [native[0], native[1], native[63]]
    assert outputs["back"] == from_bits_native(native) == x


_COMPILED: dict[object, CompiledCircuit] = {}


def _compiled(define: Callable[[Builder], None]) -> CompiledCircuit:
    key = define.__code__
    if key not in _COMPILED:
        _COMPILED[key] = compile(define)
    return _COMPILED[key]


def test_to_bits_refuses_bad_widths() -> None:
    for n in (0, 255, -1):
        with pytest.raises(CircuitDefinitionError):
            compile(_bits_case(n))

    def too_wide_range(b: Builder) -> None:
        range_check(b, b.private_input("x"), 254)

    with pytest.raises(CircuitDefinitionError):
        compile(too_wide_range)


def test_to_bits_of_a_constant_is_free_and_checked() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        bits = to_bits(b, 5, 3)
        b.output("out", x * from_bits(b, bits))

    assert compile(define).r1cs.n_constraints == 1

    def too_big(b: Builder) -> None:
        to_bits(b, 8, 3)

    with pytest.raises(CircuitDefinitionError):
        compile(too_big)


def _bits_of_x_plus_r(x: int) -> list[int]:
    return [((x + R) >> i) & 1 for i in range(254)]


def _all_bits_out(decompose: Callable[[Builder, Signal], Sequence[Signal]]) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        bits = decompose(b, b.private_input("x"))
        for i, bit in enumerate(bits):
            b.output(f"b{i}", bit)

    return define


def _non_strict_254(b: Builder, x: Signal) -> list[Signal]:
    """A hand-made Num2Bits(254) without the alias check (the C4 bug)."""
    bits = b.hint_unconstrained(lambda v: [(v >> i) & 1 for i in range(254)], x, n_outputs=254, name="bits")
    for bit in bits:
        b.assert_bool(bit)
    b.assert_equal(b.linear_combination(bits, [1 << i for i in range(254)]), x)
    return list(bits)


def test_full_width_bits_reject_the_decomposition_of_x_plus_r() -> None:
    """security.md C4: input 1 with the bits of r + 1."""
    strict = compile(_all_bits_out(lambda b, x: to_bits(b, x, 254)))
    with pytest.warns(NonStrictBitsWarning):
        mutant = compile(_all_bits_out(_non_strict_254))
    forged = {"bits": lambda v: _bits_of_x_plus_r(v)}
    # The mutant accepts a second decomposition of 1: its R1CS holds for the bits of r + 1.
    forged_mutant = unchecked_witness(mutant, {"x": 1}, forged)
    mutant.r1cs.check_witness(forged_mutant)
    assert forged_mutant[1:255] == _bits_of_x_plus_r(1)
    with pytest.raises(UnderconstrainedError):
        check_unique(mutant, {"x": 1}, alternatives=forged)
    # The strict gadget rejects it, through the solver and through the bare R1CS.
    with pytest.raises(WitnessError):
        strict.r1cs.check_witness(unchecked_witness(strict, {"x": 1}, forged))
    check_unique(strict, {"x": 1}, alternatives=forged)
    for x in (0, 1, R - 1, (1 << 253) + 12345):
        witness = strict.solve_witness({"x": x})
        assert from_bits_native(witness[1:255]) == x


def test_strict_bits_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(_strict_case)


# --------------------------------------------------------------------------- comparators


def test_less_than_refuses_more_than_252_bits() -> None:
    """security.md C3."""
    for gadget_fn in (less_than, less_than_unchecked, less_eq, greater_than, greater_eq):
        with pytest.raises(CircuitDefinitionError):
            compile(two_inputs(gadget_fn, bits=253))
    compile(two_inputs(less_than, bits=252))


def test_unchecked_comparator_is_fooled_by_r_minus_254_and_the_checked_one_is_not() -> None:
    """security.md C2: LessThan(8) with in = r - 254, bound = 2."""
    with pytest.warns(UnrangedComparatorWarning):
        unchecked = compile(two_inputs(less_than_unchecked, bits=8))
    fooled = unchecked.output_values(unchecked.solve_witness({"x": R - 254, "y": 2}))
    assert fooled["out"] == 1  # "r - 254 < 2": wrong, which is why the range check exists
    checked = compile(two_inputs(less_than, bits=8))
    check_circuit(
        checked,
        valid=[({"x": 1, "y": 2}, {"out": 1}), ({"x": 2, "y": 2}, {"out": 0}), ({"x": 255, "y": 0}, {"out": 0})],
        invalid=[{"x": R - 254, "y": 2}, {"x": 256, "y": 2}, {"x": 1, "y": 256}],
    )


def test_unranged_warning_is_silent_after_range_checks() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        range_check(b, x, 16)
        range_check(b, y, 32)
        b.output("out", less_than_unchecked(b, x, y, bits=32))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = compile(define)
    assert compiled.r1cs.n_constraints == 16 + 32 + 33


@given(st.integers(0, (1 << 32) - 1), st.integers(0, (1 << 32) - 1))
@settings(max_examples=40, deadline=None)
def test_comparators_match_native(x: int, y: int) -> None:
    def define(b: Builder) -> None:
        sx, sy = b.private_input("x"), b.private_input("y")
        b.output("lt", less_than(b, sx, sy, bits=32))
        b.output("le", less_eq(b, sx, sy, bits=32))
        b.output("gt", greater_than(b, sx, sy, bits=32))
        b.output("ge", greater_eq(b, sx, sy, bits=32))

    compiled = _compiled(define)
    out = compiled.output_values(compiled.solve_witness({"x": x, "y": y}))
    assert out == {
        "lt": less_than_native(x, y, bits=32),
        "le": 1 - less_than_native(y, x, bits=32),
        "gt": less_than_native(y, x, bits=32),
        "ge": 1 - less_than_native(x, y, bits=32),
    }


def test_comparator_ranges_are_checked_once() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        b.output("a", less_than(b, x, y, bits=32))
        b.output("c", less_eq(b, x, y, bits=32))

    assert compile(define).r1cs.n_constraints == 32 + 32 + 33 + 33


def test_assert_less_than_and_less_eq() -> None:
    lt = _assert_case(assert_less_than, bits=16)
    check_circuit(
        lt,
        valid=[{"x": 0, "y": 1}, {"x": 65534, "y": 65535}],
        invalid=[{"x": 5, "y": 5}, {"x": 6, "y": 5}, {"x": 0, "y": 65536}, {"x": R - 1, "y": 3}],
    )
    le = _assert_case(assert_less_eq, bits=16)
    check_circuit(
        le,
        valid=[{"x": 5, "y": 5}, {"x": 0, "y": 65535}],
        invalid=[{"x": 6, "y": 5}, {"x": 65536, "y": 65536}, {"x": R - 1, "y": 0}],
    )


def test_in_range_boundaries() -> None:
    check_circuit(
        _in_range_case,
        valid=[({"x": x}, {"out": in_range_native(x, 100, 200, bits=32)}) for x in (0, 99, 100, 150, 200, 201)],
        invalid=[{"x": 1 << 32}, {"x": R - 1}],
    )
    check_circuit(
        _assert_in_range_case,
        valid=[{"x": 100}, {"x": 200}],
        invalid=[{"x": 99}, {"x": 201}, {"x": R - 100}, {"x": 1 << 32}],
    )


# --------------------------------------------------------------------------- is_zero / is_equal


def _is_zero_mutant(b: Builder) -> None:
    """is_zero without the constraint x * out = 0 (security.md C6)."""
    x = b.private_input("x")
    (inv,) = b.hint_unconstrained(lambda v: pow(v, -1, R) if v else 0, x, name="is_zero_inverse")
    b.output("out", 1 - x * inv)


def test_is_zero_values() -> None:
    check_circuit(
        one_input(is_zero),
        valid=[({"x": x}, {"out": is_zero_native(x)}) for x in (0, 1, 5, R - 1)],
        invalid=[{"x": R}, {"x": -5}],
    )


def test_is_zero_mutant_is_killed() -> None:
    """Witness in = 5, out = 1: accepted by the mutant, rejected by the real gadget."""
    real = compile(one_input(is_zero))
    mutant = compile(_is_zero_mutant)
    zero_inverse = {"is_zero_inverse": lambda v: 0}
    forged_mutant = unchecked_witness(mutant, {"x": 5}, zero_inverse)
    assert mutant.output_values(forged_mutant)["out"] == 1
    mutant.r1cs.check_witness(forged_mutant)
    forged_real = unchecked_witness(real, {"x": 5}, zero_inverse)
    assert real.output_values(forged_real)["out"] == 1
    with pytest.raises(WitnessError):
        real.r1cs.check_witness(forged_real)
    with pytest.raises(UnderconstrainedError):
        check_unique(mutant, {"x": 5})
    check_unique(real, {"x": 5})
    check_unique(real, {"x": 0})


def test_is_equal_values() -> None:
    check_circuit(
        two_inputs(is_equal),
        valid=[({"x": x, "y": y}, {"out": is_equal_native(x, y)}) for x, y in ((3, 3), (3, 4), (0, R - 1))],
    )


# --------------------------------------------------------------------------- select / mux


def test_select_rejects_a_non_boolean_selector() -> None:
    """security.md C7."""
    compiled = compile(_select_case)
    check_circuit(
        compiled,
        valid=[({"s": s, "x": 10, "y": 20}, {"out": select_native(s, 10, 20)}) for s in (0, 1)],
        invalid=[{"s": 2, "x": 10, "y": 20}, {"s": R - 1, "x": 10, "y": 20}],
    )
    forged = unchecked_witness(compiled, {"s": 2, "x": 10, "y": 20})
    with pytest.raises(WitnessError):
        compiled.r1cs.check_witness(forged)


def test_mux_selects_and_rejects_bad_bits() -> None:
    values = [11, 22, 33, 44]
    valid = []
    for index in range(4):
        bits = [index & 1, index >> 1]
        valid.append(({"bits": bits, "values": values}, {"out": mux_native(bits, values)}))
    check_circuit(
        _mux_case(2),
        valid=valid,
        invalid=[{"bits": [2, 0], "values": values}, {"bits": [1, R - 1], "values": values}],
    )
    with pytest.raises(CircuitDefinitionError):

        def wrong(b: Builder) -> None:
            mux(b, b.private_inputs("bits", 2), b.private_inputs("values", 3))

        compile(wrong)


# --------------------------------------------------------------------------- sets and logic


def test_in_set_and_assert_in_set() -> None:
    members = [3, 5, 7, 11, 13]
    check_circuit(
        _in_set_case,
        valid=[({"x": x}, {"out": in_set_native(x, members)}) for x in (3, 13, 4, 0, R - 3)],
        invalid=[{"x": 3 + R}],
    )
    check_circuit(
        _assert_in_set_case,
        valid=[{"x": x} for x in members],
        invalid=[{"x": 4}, {"x": 0}, {"x": R - 3}],
    )


def test_logic_gadgets() -> None:
    for op, fn in (("and", logical_and), ("or", logical_or)):
        check_circuit(
            two_inputs(fn),
            valid=[({"x": x, "y": y}, {"out": logical_native(op, x, y)}) for x in (0, 1) for y in (0, 1)],
            invalid=[{"x": 2, "y": 1}, {"x": 1, "y": R - 1}],
        )
    check_circuit(
        _not_case,
        valid=[({"x": 0}, {"out": 1}), ({"x": 1}, {"out": 0})],
        invalid=[{"x": 2}],
    )


def test_gadget_outputs_of_comparators_are_known_boolean() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        a = less_than(b, x, y, bits=8)
        c = is_equal(b, x, y)
        b.output("out", logical_or(b, a, c))

    # 8 + 8 + 9 (less_than) + 2 (is_equal) + 1 (or): no boolean re-checks of known booleans
    assert compile(define).r1cs.n_constraints == 28
