"""The circuit DSL core: signals, builder, compile, witness solving, linear elimination, lints, uniqueness."""

from __future__ import annotations

import os
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.circuit import (
    Builder,
    Signal,
    UnusedComponentOutputWarning,
    UnusedPrivateInputWarning,
    build,
    check_unique,
    compile,
    lint,
)
from zkhealth.circuit.gadgets import is_zero, less_than
from zkhealth.errors import (
    CircuitDefinitionError,
    GatedSecurityCheckError,
    UnconstrainedSignalError,
    UnderconstrainedError,
    UnderconstrainedWitnessError,
    UnsatisfiedConstraintError,
    UnusedPublicInputError,
    WitnessError,
)
from zkhealth.field import FIELD_R as R

pytestmark = pytest.mark.witness
THIS_FILE = os.path.basename(__file__)


# --------------------------------------------------------------------------- signals


def test_linear_operations_cost_nothing_and_products_cost_one() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        linear = 3 * x - y + 7 - (-x) + x / 2
        b.output("out", linear * (x + 1) + 5 * 4)

    compiled = compile(define)
    assert compiled.r1cs.n_constraints == 1
    out = compiled.output_values(compiled.solve_witness({"x": 4, "y": 2}))["out"]
    linear = (3 * 4 - 2 + 7 + 4 + 4 * pow(2, -1, R)) % R
    assert out == (linear * 5 + 20) % R


def test_constants_fold() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        k = b.constant(6) * b.constant(7)
        assert k.is_constant() and k.constant_value() == 42
        b.output("out", x * k * x)

    assert compile(define).r1cs.n_constraints == 1


def test_power_uses_square_and_multiply() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        b.output("out", x**5)

    compiled = compile(define)
    assert compiled.r1cs.n_constraints == 3
    assert compiled.output_values(compiled.solve_witness({"x": 3}))["out"] == 243


def test_signals_refuse_to_branch() -> None:
    b = Builder()
    x = b.private_input("x")
    with pytest.raises(CircuitDefinitionError):
        bool(x)
    with pytest.raises(CircuitDefinitionError):
        if x:  # noqa: SIM108 - the point of the test
            pass
    with pytest.raises(CircuitDefinitionError):
        _ = x == 3
    with pytest.raises(CircuitDefinitionError):
        _ = x < 3
    with pytest.raises(CircuitDefinitionError):
        int(x)
    with pytest.raises(CircuitDefinitionError):
        _ = x / x  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = x + 1.5  # type: ignore[operator]
    with pytest.raises(CircuitDefinitionError):
        _ = x / 0
    assert "Signal" in repr(x)


def test_signals_of_two_circuits_do_not_mix() -> None:
    a, c = Builder(), Builder()
    x, y = a.private_input("x"), c.private_input("y")
    with pytest.raises(CircuitDefinitionError):
        _ = x + y
    with pytest.raises(CircuitDefinitionError):
        a.assert_equal(x, y)


# --------------------------------------------------------------------------- inputs, layout, solving


def _layout(b: Builder) -> None:
    secret = b.private_input("secret")
    path = b.private_inputs("path", 3)
    today = b.public_input("today")
    roots = b.public_inputs("roots", 2)
    total = secret * today + path[0] * path[1] * path[2] + roots[0] * roots[1]
    b.output("first", total)
    b.output("second", secret * secret)


def test_wire_layout_is_circoms() -> None:
    compiled = compile(_layout)
    r1cs = compiled.r1cs
    assert (r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs) == (2, 3, 4)
    assert compiled.output_names == ["first", "second"]
    assert compiled.public_input_names == ["today", "roots"]
    assert [r1cs.wire_names[w] for w in range(1, 10)] == [
        "first", "second", "today", "roots[0]", "roots[1]", "secret", "path[0]", "path[1]", "path[2]"
    ]
    inputs = {"secret": 5, "path": [1, 2, 3], "today": "20000", "roots": [7, 11]}
    witness = compiled.solve_witness(inputs)
    assert witness[0] == 1
    assert compiled.public_signals(witness) == [(5 * 20000 + 6 + 77) % R, 25, 20000, 7, 11]
    r1cs.check_witness(witness)
    assert compiled.solve_witness(inputs) == witness  # deterministic
    assert compile(_layout).r1cs.constraints == r1cs.constraints


@pytest.mark.parametrize(
    "inputs",
    [
        {"secret": 5, "path": [1, 2, 3], "today": 1},  # missing
        {"secret": 5, "path": [1, 2, 3], "today": 1, "roots": [7, 11], "extra": 1},  # unknown
        {"secret": 5, "path": [1, 2], "today": 1, "roots": [7, 11]},  # short array
        {"secret": 5, "path": 1, "today": 1, "roots": [7, 11]},  # scalar for an array
        {"secret": 5 + R, "path": [1, 2, 3], "today": 1, "roots": [7, 11]},  # x + r
        {"secret": -1, "path": [1, 2, 3], "today": 1, "roots": [7, 11]},
        {"secret": "05", "path": [1, 2, 3], "today": 1, "roots": [7, 11]},  # non-canonical
        {"secret": True, "path": [1, 2, 3], "today": 1, "roots": [7, 11]},
        {"secret": 1.0, "path": [1, 2, 3], "today": 1, "roots": [7, 11]},
    ],
)
def test_bad_inputs_raise_witness_error(inputs: dict[str, object]) -> None:
    with pytest.raises(WitnessError):
        compile(_layout).solve_witness(inputs)


def test_declaration_errors() -> None:
    def twice(b: Builder) -> None:
        b.private_input("x")
        b.public_input("x")

    with pytest.raises(CircuitDefinitionError):
        compile(twice)

    def bad_name(b: Builder) -> None:
        b.private_input("a/b")

    with pytest.raises(CircuitDefinitionError):
        compile(bad_name)

    def contradiction(b: Builder) -> None:
        b.assert_equal(b.constant(1), 2)

    with pytest.raises(CircuitDefinitionError):
        compile(contradiction)

    def never(b: Builder) -> None:
        x = b.private_input("x")
        b.output("out", x * x)
        b.assert_equal(x + 1, x)

    with pytest.raises(CircuitDefinitionError):
        compile(never)


def test_failure_names_constraint_scope_source_and_values() -> None:
    def eligibility(b: Builder) -> None:
        today = b.public_input("today")
        birth = b.private_input("birth")
        with b.scope("age"):
            ok = less_than(b, birth, today, bits=32)
            b.assert_equal(ok, 1)  # the failing line

    compiled = compile(eligibility)
    compiled.solve_witness({"today": 10, "birth": 3})
    with pytest.raises(UnsatisfiedConstraintError) as info:
        compiled.solve_witness({"today": 10, "birth": 30})
    error = info.value
    assert error.label == "eligibility/age"
    assert error.source.startswith(THIS_FILE) or THIS_FILE in error.source
    assert (error.lhs, error.rhs) == (0, 1)
    message = str(error)
    assert "eligibility/age" in message and "0 != 1" in message and THIS_FILE in message


def test_failure_inside_a_gadget_reports_the_gadget_path_and_the_callers_line() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        with b.scope("check"):
            b.output("out", less_than(b, x, y, bits=8))

    with pytest.raises(UnsatisfiedConstraintError) as info:
        compile(define).solve_witness({"x": 300, "y": 1})
    assert info.value.label == "define/check/less_than/range_check"
    assert THIS_FILE in info.value.source


def test_nonlinear_failure_reports_the_r1cs_row() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        z = x * y
        b.assert_mul(z, x, y)

    compiled = compile(define)
    with pytest.raises(UnsatisfiedConstraintError) as info:
        compiled.solve_witness({"x": 2, "y": 3})
    assert info.value.index == 1
    assert str(info.value).startswith("constraint 1 (define) not satisfied: 6 * 2 != 3")


def test_hint_failures_are_witness_errors() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        (h,) = b.hint_unconstrained(lambda v: 1 // (v - 3), x, name="boom")
        b.assert_bool(h)
        b.output("out", h * x)

    compiled = compile(define)
    with pytest.raises(WitnessError):
        compiled.solve_witness({"x": 3})

    def wrong_count(b: Builder) -> None:
        x = b.private_input("x")
        h = b.hint_unconstrained(lambda v: [v, v], x, n_outputs=3)
        for s in h:
            b.assert_bool(s)
        b.output("out", x * h[0])

    with pytest.raises(WitnessError):
        compile(wrong_count).solve_witness({"x": 1})


# --------------------------------------------------------------------------- division


def test_div_by_zero_is_a_witness_error() -> None:
    """security.md C6: c = a / b with b = 0."""

    def define(b: Builder) -> None:
        a, d = b.private_input("a"), b.private_input("d")
        b.output("q", b.div(a, d))

    compiled = compile(define)
    assert compiled.r1cs.n_constraints == 2
    assert compiled.output_values(compiled.solve_witness({"a": 6, "d": 3}))["q"] == 2
    with pytest.raises(WitnessError):
        compiled.solve_witness({"a": 6, "d": 0})
    with pytest.raises(WitnessError):
        compiled.solve_witness({"a": 0, "d": 0})
    check_unique(compiled, {"a": 6, "d": 3})
    # A prover bypassing the solver cannot use d = 0 either: no inverse of 0 exists.
    program = compiled.program
    for forged_inverse in (0, 1, 5, R - 1):
        values = program.assign_inputs({"a": 0, "d": 0})
        inverse_var = program.hints[0].outputs[0]
        program.run(values, overrides={inverse_var: forged_inverse}, lenient=True)
        assert not program.satisfied(values)


def test_div_unchecked_documents_its_gap() -> None:
    def define(b: Builder) -> None:
        a, d = b.private_input("a"), b.private_input("d")
        b.output("q", b.div_unchecked(a, d))

    compiled = compile(define)
    assert compiled.r1cs.n_constraints == 1
    assert compiled.output_values(compiled.solve_witness({"a": 6, "d": 3}))["q"] == 2
    with pytest.raises(WitnessError):
        compiled.solve_witness({"a": 6, "d": 0})
    assert compiled.output_values(compiled.solve_witness({"a": 0, "d": 0}))["q"] == 0
    with pytest.raises(UnderconstrainedError):  # 0 / 0: any q satisfies q * 0 = 0
        check_unique(compiled, {"a": 0, "d": 0})


def test_inverse_and_assert_not_equal() -> None:
    def define(b: Builder) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        b.assert_not_equal(x, y)
        b.output("inv", b.inverse(x))

    compiled = compile(define)
    assert compiled.output_values(compiled.solve_witness({"x": 2, "y": 3}))["inv"] == pow(2, -1, R)
    with pytest.raises(WitnessError):
        compiled.solve_witness({"x": 3, "y": 3})
    with pytest.raises(WitnessError):
        compiled.solve_witness({"x": 0, "y": 3})


# --------------------------------------------------------------------------- linear elimination


def test_elimination_reports_before_and_after() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        y = b.public_input("y")
        t = x * x
        (h,) = b.hint_unconstrained(lambda v: v + 1, t, name="plus_one")
        b.assert_equal(h, t + 1)  # defines h linearly: substituted away
        u = h * x
        b.assert_equal(u, y)  # u is internal, y public: u is substituted by y

    compiled = compile(define)
    stats = compiled.stats
    assert (stats.constraints_before, stats.constraints_after) == (4, 2)
    assert stats.eliminated_signals == 2 and stats.multiplications == 2
    assert compiled.r1cs.n_wires == 4  # one, y, x, t
    unoptimized = compile(define, optimize=False)
    assert unoptimized.r1cs.n_constraints == 4
    for c in (compiled, unoptimized):
        witness = c.solve_witness({"x": 3, "y": 30})
        c.r1cs.check_witness(witness)
        with pytest.raises(WitnessError):
            c.solve_witness({"x": 3, "y": 31})


def test_public_signals_are_never_eliminated() -> None:
    def define(b: Builder) -> None:
        p, q = b.public_input("p"), b.public_input("q")
        b.assert_equal(p, q + 1)
        b.output("out", p * q)

    compiled = compile(define)
    assert compiled.r1cs.n_public == 3
    assert compiled.r1cs.n_constraints == 2  # the p = q + 1 row stays, between public signals
    compiled.solve_witness({"p": 5, "q": 4})
    with pytest.raises(WitnessError):
        compiled.solve_witness({"p": 5, "q": 5})


def _random_circuit(seed: int):  # type: ignore[no-untyped-def]
    def define(b: Builder) -> None:
        rng = random.Random(seed)
        pool: list[Signal] = [b.private_input(f"x{i}") for i in range(3)] + [b.public_input("p")]
        for _ in range(12):
            a, c = rng.choice(pool), rng.choice(pool)
            choice = rng.randrange(4)
            if choice == 0:
                pool.append(a * c)
            elif choice == 1:
                pool.append(a + rng.randrange(R) * c)
            elif choice == 2:
                (h,) = b.hint_unconstrained(lambda u, v: (u + 2 * v) % R, a, c, name="lin")
                b.assert_equal(h, a + 2 * c)
                pool.append(h)
            else:
                pool.append((a - c) * 3)
        b.output("out", pool[-1] * pool[-2] + pool[3] * pool[0])

    return define


@given(st.integers(0, 10_000), st.lists(st.integers(0, R - 1), min_size=4, max_size=4))
@settings(max_examples=25, deadline=None)
@pytest.mark.filterwarnings("ignore::zkhealth.circuit.UnusedPrivateInputWarning")
def test_elimination_preserves_semantics(seed: int, values: list[int]) -> None:
    define = _random_circuit(seed)
    inputs = {"x0": values[0], "x1": values[1], "x2": values[2], "p": values[3]}
    optimized = compile(define)
    plain = compile(define, optimize=False)
    w1, w2 = optimized.solve_witness(inputs), plain.solve_witness(inputs)
    optimized.r1cs.check_witness(w1)
    plain.r1cs.check_witness(w2)
    assert optimized.public_signals(w1) == plain.public_signals(w2)
    assert optimized.r1cs.n_constraints <= plain.r1cs.n_constraints
    tampered = list(w1)
    tampered[1] = (tampered[1] + 1) % R
    with pytest.raises(WitnessError):
        optimized.r1cs.check_witness(tampered)


# --------------------------------------------------------------------------- lints


def test_hint_without_constraint_is_rejected() -> None:
    """security.md C1: a gadget output that comes from a hint with no constraint."""

    def square_root(b: Builder) -> None:
        x = b.private_input("x")
        (root,) = b.hint_unconstrained(lambda v: 3, x, name="sqrt")  # never constrained
        b.output("out", root)
        b.assert_equal(x * x, x * x)

    with pytest.raises(UnconstrainedSignalError):
        compile(square_root)
    with pytest.raises(UnconstrainedSignalError):
        lint(square_root)
    with pytest.raises(UnderconstrainedWitnessError) as info:
        check_unique(square_root, {"x": 9})
    assert info.value.witness_a != info.value.witness_b
    assert info.value.signal == "out"


def test_unconstrained_hint_message_names_the_signal_and_line() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        b.output("out", x * x)
        with b.scope("helper"):
            b.hint_unconstrained(lambda v: v, x, name="dangling")

    with pytest.raises(UnconstrainedSignalError) as info:
        compile(define)
    assert "dangling" in str(info.value) and THIS_FILE in str(info.value)
    assert "define/helper" in str(info.value)


def test_fixing_the_hint_with_a_constraint_is_accepted_and_unique() -> None:
    def square_root(b: Builder) -> None:
        x = b.private_input("x")
        (root,) = b.hint_unconstrained(lambda v: 3, x, name="sqrt")
        b.assert_equal(root * root, x)
        b.assert_bool(root - 3)  # pins the sign for this toy
        b.output("out", root)

    compiled = compile(square_root)
    assert compiled.output_values(compiled.solve_witness({"x": 9}))["out"] == 3
    check_unique(compiled, {"x": 9})


def test_unused_public_input_is_rejected() -> None:
    """security.md C8: `recipient` marked public and used nowhere."""

    def define(b: Builder) -> None:
        b.public_input("recipient")
        x = b.private_input("x")
        b.output("out", x * x)

    with pytest.raises(UnusedPublicInputError):
        compile(define)

    def trivially_used(b: Builder) -> None:
        recipient = b.public_input("recipient")
        x = b.private_input("x")
        b.assert_equal(recipient, recipient)  # 0 = 0: binds nothing
        b.output("out", x * x)

    with pytest.raises(UnusedPublicInputError):
        compile(trivially_used)

    def squared(b: Builder) -> None:
        recipient = b.public_input("recipient")
        x = b.private_input("x")
        _ = recipient * recipient  # Semaphore/Tornado style binding
        b.output("out", x * x)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(squared)


def test_unused_gadget_output_warns() -> None:
    """security.md C11."""

    def define(b: Builder) -> None:
        x = b.private_input("x")
        is_zero(b, x)  # result dropped: checks nothing
        b.output("out", x * x)

    with pytest.warns(UnusedComponentOutputWarning):
        compile(define)
    findings = lint(define)
    assert [f.category for f in findings] == [UnusedComponentOutputWarning]


def test_unused_private_input_warns() -> None:
    def define(b: Builder) -> None:
        b.private_input("unused")
        x = b.private_input("x")
        b.output("out", x * x)

    with pytest.warns(UnusedPrivateInputWarning):
        compile(define)


def test_unconstrained_output_is_rejected() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        b.output("square", x * x)
        b.output("free", b.constant(0) + b.hint_unconstrained(lambda v: v, x)[0])

    with pytest.raises(UnconstrainedSignalError):
        compile(define)


def test_witness_switches_are_refused() -> None:
    """security.md C10: a gadget asks for a compile-time constant; a witness signal is refused."""

    def define(b: Builder) -> None:
        enabled = b.private_input("enabled")
        b.require_constant(enabled, "enabled")

    with pytest.raises(GatedSecurityCheckError):
        build(define)
    b = Builder()
    assert b.require_constant(b.constant(1), "enabled") == 1


# --------------------------------------------------------------------------- circuits as classes, report


class Cubic:
    def define(self, b: Builder) -> None:
        x = b.private_input("x")
        with b.scope("poly"):
            b.output("out", x * x * x + x + 5)


def test_class_circuits_and_report() -> None:
    for circuit in (Cubic, Cubic()):
        compiled = compile(circuit)
        assert compiled.name == "Cubic"
        assert compiled.output_values(compiled.solve_witness({"x": 3}))["out"] == 35
    report = compile(Cubic).report()
    assert report.count("Cubic/poly") == 2
    assert report.count("Cubic") == 2
    assert "poly" in report.format()
    with pytest.raises(CircuitDefinitionError):
        compile(42)  # type: ignore[arg-type]


def test_frozen_builder_refuses_more_constraints() -> None:
    kept: list[Builder] = []

    def define(b: Builder) -> None:
        kept.append(b)
        x = b.private_input("x")
        b.output("out", x * x)

    compile(define)
    with pytest.raises(CircuitDefinitionError):
        kept[0].private_input("late")


def test_check_unique_compares_named_signals() -> None:
    def define(b: Builder) -> None:
        x = b.private_input("x")
        (h,) = b.hint_unconstrained(lambda v: 0, x, name="free_when_x_is_0")
        b.assert_mul(x, h, 0)  # h is pinned to 0 only when x != 0
        b.output("square", x * x)
        b.output("h", h)

    check_unique(define, {"x": 2})
    check_unique(define, {"x": 0}, outputs=["square"])
    with pytest.raises(UnderconstrainedWitnessError) as info:
        check_unique(define, {"x": 0}, outputs=["h"])
    assert info.value.signal == "h"
    with pytest.raises(CircuitDefinitionError):
        check_unique(define, {"x": 0}, outputs=["nope"])

    def no_outputs(b: Builder) -> None:
        x = b.private_input("x")
        (h,) = b.hint_unconstrained(lambda v: 0, x, name="free")
        b.assert_mul(x, h, 0)

    with pytest.raises(UnderconstrainedError):  # without outputs, every wire is compared
        check_unique(no_outputs, {"x": 0})
