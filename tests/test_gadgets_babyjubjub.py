"""Baby Jubjub gadgets (zkhealth.circuit.gadgets.babyjubjub) against the native curve and circomlibjs vectors.

Adversarial inputs: points off the curve, the identity and the 8-torsion points as bases (security.md C14),
points with a torsion component where the prime-order subgroup is required, non-boolean scalar bits, and
the scalars at the edges of the exception-free argument (0, 1, l, r - 1, 2^253).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkhealth.circuit import Builder, CompiledCircuit, check_unique, compile
from zkhealth.circuit.gadgets import PINNED_COUNTS_PATH
from zkhealth.circuit.gadgets import babyjubjub as gadgets
from zkhealth.circuit.gadgets.babyjubjub import (
    FIXED_BASE_MONTGOMERY_WINDOWS,
    MONTGOMERY_A,
    PRIME_ORDER_MONTGOMERY_STEPS,
    assert_in_subgroup,
    assert_in_subgroup_native,
    assert_on_curve,
    assert_on_curve_native,
    edwards_to_montgomery_native,
    fixed_base_mul,
    fixed_base_mul_native,
    montgomery_to_edwards_native,
    point_add,
    point_add_native,
    point_double,
    point_double_native,
    scalar_mul,
    scalar_mul_native,
    scalar_mul_prime_order,
    scalar_mul_prime_order_native,
)
from zkhealth.errors import CircuitDefinitionError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.hazmat import babyjubjub as bjj
from zkhealth.testing import ConstraintCountSnapshot, check_circuit
from zkhealth.testing.strategies import field_elements

pytestmark = pytest.mark.witness

VECTORS = json.loads((Path(__file__).parent / "vectors" / "babyjubjub.json").read_text())
L = bjj.SUBORDER
R = FIELD_R
Point = tuple[int, int]

# The 8-torsion: l * GENERATOR has order 8; its multiples are the 8 small-order points.
T8: Point = bjj.mul(bjj.GENERATOR, L)
TORSION: list[Point] = [bjj.mul(T8, i) for i in range(8)]
MINUS_ONE: Point = (0, R - 1)
OFF_CURVE: list[Point] = [(1, 1), (bjj.BASE8[0], (bjj.BASE8[1] + 1) % R), (0, 2)]


def subgroup_point(rng: random.Random) -> Point:
    return bjj.mul_base8(rng.randrange(1, L))


def full_point(rng: random.Random) -> Point:
    """A point of order 8l (a torsion component), almost surely."""
    return bjj.mul(bjj.GENERATOR, rng.randrange(1, 8 * L))


def point_inputs(name: str, p: Point) -> dict[str, int]:
    return {f"{name}x": p[0], f"{name}y": p[1]}


_COMPILED: dict[str, CompiledCircuit] = {}


def cached(key: str, define: Callable[[Builder], None]) -> CompiledCircuit:
    if key not in _COMPILED:
        _COMPILED[key] = compile(define, name=key)
    return _COMPILED[key]


# --------------------------------------------------------------------------- circuits


def on_curve_circuit() -> CompiledCircuit:
    def define(b: Builder) -> None:
        assert_on_curve(b, b.private_input("px"), b.private_input("py"))

    return cached("on_curve", define)


def add_circuit() -> CompiledCircuit:
    def define(b: Builder) -> None:
        p = (b.private_input("px"), b.private_input("py"))
        q = (b.private_input("qx"), b.private_input("qy"))
        x, y = point_add(b, p, q)
        b.output("x", x)
        b.output("y", y)

    return cached("add", define)


def double_circuit() -> CompiledCircuit:
    def define(b: Builder) -> None:
        x, y = point_double(b, (b.private_input("px"), b.private_input("py")))
        b.output("x", x)
        b.output("y", y)

    return cached("double", define)


def subgroup_circuit() -> CompiledCircuit:
    def define(b: Builder) -> None:
        assert_in_subgroup(b, b.private_input("px"), b.private_input("py"))

    return cached("subgroup", define)


def fixed_base_circuit(n: int, base: Point = bjj.BASE8) -> CompiledCircuit:
    def define(b: Builder) -> None:
        bits = b.private_inputs("bits", n)
        for bit in bits:  # booleans made by the caller, as in EdDSA (the gadget then adds none)
            b.assert_bool(bit)
        x, y = fixed_base_mul(b, bits, base=base)
        b.output("x", x)
        b.output("y", y)

    return cached(f"fixed{n}:{base}", define)


def scalar_mul_circuit(n: int) -> CompiledCircuit:
    def define(b: Builder) -> None:
        p = (b.private_input("px"), b.private_input("py"))
        x, y = scalar_mul(b, p, b.private_inputs("bits", n))
        b.output("x", x)
        b.output("y", y)

    return cached(f"scalar_mul{n}", define)


def prime_order_circuit() -> CompiledCircuit:
    def define(b: Builder) -> None:
        p = (b.private_input("px"), b.private_input("py"))
        x, y = scalar_mul_prime_order(b, p, b.private_input("h"))
        b.output("x", x)
        b.output("y", y)

    return cached("prime_order", define)


def bits_of(k: int, n: int) -> list[int]:
    return [(k >> i) & 1 for i in range(n)]


def solve_point(compiled: CompiledCircuit, inputs: Mapping[str, object]) -> Point:
    witness = compiled.solve_witness(inputs)
    compiled.r1cs.check_witness(witness)
    out = compiled.output_values(witness)
    return (out["x"], out["y"])


# --------------------------------------------------------------------------- parameters and native helpers


def test_curve_parameters_and_montgomery_map() -> None:
    assert pow(bjj.A, (R - 1) // 2, R) == 1  # a square
    assert pow(bjj.D, (R - 1) // 2, R) == R - 1  # d non-square: the Edwards law is complete
    assert MONTGOMERY_A == 168698
    rng = random.Random(1)
    for p in [bjj.BASE8, bjj.GENERATOR, full_point(rng), subgroup_point(rng)]:
        u, v = edwards_to_montgomery_native(p)
        assert (v * v - (u * u * u + MONTGOMERY_A * u * u + u)) % R == 0
        assert montgomery_to_edwards_native(u, v) == p
    with pytest.raises(ValueError):
        edwards_to_montgomery_native(bjj.IDENTITY)


def test_exception_free_bounds() -> None:
    """The integer arguments behind the Montgomery steps (module docstring)."""
    w = FIXED_BASE_MONTGOMERY_WINDOWS
    assert w == 124
    assert 5 * (4**w - 1) // 3 < L <= 5 * (4 ** (w + 1) - 1) // 3
    for i in range(1, w):  # window i: accumulated a_i in [2(4^i-1)/3, 5(4^i-1)/3] < added q_i >= 2 * 4^i
        assert 2 <= 2 * (4**i - 1) // 3 and 5 * (4**i - 1) // 3 < 2 * 4**i
    j = PRIME_ORDER_MONTGOMERY_STEPS
    assert j == 249
    assert 3 * 2**j - 1 < L <= 3 * 2 ** (j + 1) - 1
    # The signed-digit multiples for extreme digit patterns stay in [2^i + 1, 3 * 2^i - 1].
    for pattern in ([1] * j, [0] * j, [i % 2 for i in range(j)], [1 - i % 2 for i in range(j)]):
        k = 2
        for i, bit in enumerate(pattern):
            assert k not in (1, L - 1) and 2**i + 1 <= k <= 3 * 2**i - 1
            k = 2 * k + (2 * bit - 1)
            assert 0 < k < L
    assert gadgets._K_OFFSET == 6 * L - 2**253 and R - 1 + gadgets._K_OFFSET < 2**254


# --------------------------------------------------------------------------- on curve, add, double, subgroup


def test_on_curve_accepts_curve_points_rejects_others() -> None:
    rng = random.Random(2)
    valid = [bjj.BASE8, bjj.GENERATOR, bjj.IDENTITY, MINUS_ONE, *TORSION, full_point(rng), subgroup_point(rng)]
    assert all(assert_on_curve_native(*p) for p in valid)
    assert not any(assert_on_curve_native(*p) for p in OFF_CURVE)
    check_circuit(
        on_curve_circuit(),
        valid=[point_inputs("p", p) for p in valid],
        invalid=[point_inputs("p", p) for p in OFF_CURVE],
    )


def test_point_add_matches_vectors_and_native() -> None:
    compiled = add_circuit()
    for case in VECTORS["add"]:
        p = (int(case["p"][0]), int(case["p"][1]))
        q = (int(case["q"][0]), int(case["q"][1]))
        expected = (int(case["sum"][0]), int(case["sum"][1]))
        assert solve_point(compiled, {**point_inputs("p", p), **point_inputs("q", q)}) == expected
    rng = random.Random(3)
    special = [bjj.IDENTITY, MINUS_ONE, T8, bjj.BASE8, full_point(rng)]
    # Complete law: doubling, inverses, identity and small-order points need no special case.
    pairs = [(p, q) for p in special for q in special] + [(bjj.BASE8, bjj.neg(bjj.BASE8))]
    for p, q in pairs:
        assert solve_point(compiled, {**point_inputs("p", p), **point_inputs("q", q)}) == point_add_native(p, q)


def test_point_double_matches_native() -> None:
    compiled = double_circuit()
    rng = random.Random(4)
    for p in [bjj.IDENTITY, MINUS_ONE, *TORSION[1:4], bjj.BASE8, full_point(rng), subgroup_point(rng)]:
        assert solve_point(compiled, point_inputs("p", p)) == point_double_native(p)


def test_add_and_double_witnesses_are_unique() -> None:
    rng = random.Random(5)
    p, q = full_point(rng), subgroup_point(rng)
    check_unique(add_circuit(), {**point_inputs("p", p), **point_inputs("q", q)})
    check_unique(double_circuit(), point_inputs("p", p))


def test_subgroup_check() -> None:
    rng = random.Random(6)
    inside = [bjj.IDENTITY, bjj.BASE8, subgroup_point(rng), subgroup_point(rng)]
    outside = [MINUS_ONE, *TORSION[1:], bjj.GENERATOR, full_point(rng), bjj.add(subgroup_point(rng), T8)]
    assert all(assert_in_subgroup_native(*p) for p in inside)
    assert not any(assert_in_subgroup_native(*p) for p in outside)
    check_circuit(
        subgroup_circuit(),
        valid=[point_inputs("p", p) for p in inside],
        invalid=[point_inputs("p", p) for p in outside + OFF_CURVE],
    )


# --------------------------------------------------------------------------- fixed base


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 16])
def test_fixed_base_small_widths_exhaustive_edges(n: int) -> None:
    compiled = fixed_base_circuit(n)
    rng = random.Random(n)
    scalars = {0, 1, (1 << n) - 1, 1 << (n - 1)} | {rng.getrandbits(n) for _ in range(6)}
    for k in sorted(scalars):
        bits = bits_of(k, n)
        assert solve_point(compiled, {"bits": bits}) == fixed_base_mul_native(bits)


@pytest.mark.parametrize("n", [248, 249, 251, 254])
def test_fixed_base_full_width(n: int) -> None:
    compiled = fixed_base_circuit(n)
    rng = random.Random(n)
    scalars = [0, 1, L - 1, L, min(L + 1, (1 << n) - 1), (1 << n) - 1, 1 << 247, (1 << 248) - 1]
    scalars += [rng.getrandbits(n) for _ in range(4)]
    for k in scalars:
        k &= (1 << n) - 1
        assert solve_point(compiled, {"bits": bits_of(k, n)}) == bjj.mul(bjj.BASE8, k)


def test_fixed_base_other_base_and_bad_bases() -> None:
    base = bjj.mul_base8(123456789)
    compiled = fixed_base_circuit(251, base)
    k = random.Random(7).getrandbits(251)
    assert solve_point(compiled, {"bits": bits_of(k, 251)}) == fixed_base_mul_native(bits_of(k, 251), base)
    for bad in [bjj.GENERATOR, bjj.IDENTITY, MINUS_ONE, (1, 1)]:

        def define(b: Builder, bad: Point = bad) -> None:
            b.output("x", fixed_base_mul(b, b.private_inputs("k", 4), base=bad)[0])

        with pytest.raises(CircuitDefinitionError):
            compile(define)


def test_fixed_base_rejects_non_boolean_bits() -> None:
    def define(b: Builder) -> None:
        x, y = fixed_base_mul(b, b.private_inputs("bits", 8))  # the gadget adds the boolean constraints
        b.output("x", x)
        b.output("y", y)

    compiled = compile(define)
    assert compiled.stats.constraints_after == fixed_base_circuit(8).stats.constraints_after
    ok = bits_of(77, 8)
    bad = [[2] + ok[1:], ok[:7] + [R - 1]]
    check_circuit(compiled, valid=[{"bits": ok}], invalid=[{"bits": v} for v in bad])
    with pytest.raises(CircuitDefinitionError):
        compile(lambda b: b.output("x", fixed_base_mul(b, b.private_inputs("k", 255))[0]))


def test_fixed_base_witness_is_unique() -> None:
    check_unique(fixed_base_circuit(8), {"bits": bits_of(0b10110110, 8)})


# --------------------------------------------------------------------------- variable base


def test_scalar_mul_matches_native() -> None:
    compiled = scalar_mul_circuit(8)
    rng = random.Random(8)
    bases = [bjj.BASE8, bjj.GENERATOR, full_point(rng), subgroup_point(rng)]
    for p in bases:
        for k in (0, 1, 255, rng.getrandbits(8)):
            bits = bits_of(k, 8)
            assert solve_point(compiled, {**point_inputs("p", p), "bits": bits}) == scalar_mul_native(p, bits)


def test_scalar_mul_rejects_small_order_and_off_curve_bases() -> None:
    """security.md C14: (0, r - 1), the identity and the 8-torsion give WitnessError, never a wrong point."""
    compiled = scalar_mul_circuit(8)
    bits = bits_of(0b1011, 8)
    bad_bases = [MINUS_ONE, bjj.IDENTITY, *TORSION[1:], *OFF_CURVE]
    for p in bad_bases:
        with pytest.raises(ValueError):
            scalar_mul_native(p, bits)
    check_circuit(
        compiled,
        valid=[{**point_inputs("p", bjj.GENERATOR), "bits": bits}],
        invalid=[{**point_inputs("p", p), "bits": bits} for p in bad_bases]
        + [{**point_inputs("p", bjj.BASE8), "bits": [2, 0, 0, 0, 0, 0, 0, 0]}],
    )


def test_scalar_mul_witness_is_unique() -> None:
    check_unique(scalar_mul_circuit(3), {**point_inputs("p", bjj.GENERATOR), "bits": [1, 0, 1]})


# 0, 1, the subgroup order and its neighbours, the top of the field, and the scalars at the ends of the
# adder's range (K = h + 6l - 2^253 is smallest for h = 0, largest for h = r - 1).
EDGE_SCALARS = [0, 1, 2, 3, L - 1, L, L + 1, 2 * L, 5 * L + 7, R - 1, R - 2, 2**252, 2**253 - 1, 2**253]
EDGE_SCALARS += [(1 << 250) - 1, R - 1 - gadgets._K_OFFSET, R - gadgets._K_OFFSET]


def test_scalar_mul_prime_order_edges() -> None:
    compiled = prime_order_circuit()
    rng = random.Random(9)
    for h in EDGE_SCALARS:
        h %= R
        p = subgroup_point(rng)
        assert solve_point(compiled, {**point_inputs("p", p), "h": h}) == scalar_mul_prime_order_native(p, h)
    for p in [bjj.BASE8, bjj.mul_base8(L - 1), bjj.mul_base8(2)]:
        assert solve_point(compiled, {**point_inputs("p", p), "h": 12345}) == bjj.mul(p, 12345)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=field_elements(), k=st.integers(min_value=1, max_value=L - 1))
def test_scalar_mul_prime_order_random(h: int, k: int) -> None:
    p = bjj.mul_base8(k)
    assert solve_point(prime_order_circuit(), {**point_inputs("p", p), "h": h}) == bjj.mul(p, h)


def test_scalar_mul_prime_order_rejects_bad_bases() -> None:
    rng = random.Random(10)
    bad = [bjj.IDENTITY, MINUS_ONE, *TORSION[1:], bjj.GENERATOR, full_point(rng), *OFF_CURVE]
    for p in bad:
        with pytest.raises(ValueError):
            scalar_mul_prime_order_native(p, 5)
    check_circuit(
        prime_order_circuit(),
        valid=[{**point_inputs("p", bjj.BASE8), "h": 5}],
        invalid=[{**point_inputs("p", p), "h": 5} for p in bad],
    )


def test_signed_digit_loop_needs_its_offset() -> None:
    """Mutant: the same loop started at [1]P (no offset, like an unguarded Montgomery ladder) hits the
    exceptional case acc = +-T at once: the slope constraint 0 * lam = v_acc - v_T has no solution (T = -P)
    or leaves lam free (T = P). The real gadget starts at [2]P and never meets it."""

    def mutant(b: Builder) -> None:
        p = (b.private_input("px"), b.private_input("py"))
        bit = b.private_input("bit")
        b.assert_bool(bit)
        pm = gadgets._to_montgomery(b, p)
        vt = b.mul(bit * 2 - 1, pm[1])
        u, v = gadgets._montgomery_double_add(b, pm, (pm[0], vt))
        b.output("u", u)
        b.output("v", v)

    compiled = compile(mutant)
    for bit in (0, 1):
        with pytest.raises(WitnessError):
            compiled.solve_witness({**point_inputs("p", bjj.BASE8), "bit": bit})


# --------------------------------------------------------------------------- pinned counts


def test_pinned_counts() -> None:
    snapshot = ConstraintCountSnapshot(PINNED_COUNTS_PATH)
    snapshot.check("assert_on_curve", "", on_curve_circuit())
    snapshot.check("point_add", "", add_circuit())
    snapshot.check("point_double", "", double_circuit())
    snapshot.check("assert_in_subgroup", "", subgroup_circuit())
    snapshot.check("fixed_base_mul", "n=251,boolean bits", fixed_base_circuit(251))
    snapshot.check("scalar_mul", "n=8", scalar_mul_circuit(8))
    snapshot.check("scalar_mul_prime_order", "", prime_order_circuit())
    # The gadget-only figures stated in the docstrings (harness rows subtracted).
    assert on_curve_circuit().stats.constraints_after == 3
    assert add_circuit().stats.constraints_after == 6
    assert double_circuit().stats.constraints_after == 5
    assert subgroup_circuit().stats.constraints_after == 18
    assert fixed_base_circuit(251).stats.constraints_after == 251 + 505
    assert prime_order_circuit().stats.constraints_after == 2235
