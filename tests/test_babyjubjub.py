"""Baby Jubjub: circomlibjs vectors, group laws, subgroup and torsion, compression, input checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.errors import (
    EncodingError,
    FieldRangeError,
    FieldTypeError,
    NonCanonicalEncodingError,
    PointNotOnCurveError,
)
from zkhealth.field import FIELD_R
from zkhealth.hazmat import babyjubjub as bjj

pytestmark = pytest.mark.native

VECTORS = json.loads((Path(__file__).resolve().parent / "vectors" / "babyjubjub.json").read_text())


def as_point(pair: list[str]) -> tuple[int, int]:
    return (int(pair[0]), int(pair[1]))


def lift(y: int) -> tuple[int, int]:
    """A point on the full curve with ordinate y, or the next ordinate that has one."""
    while True:
        try:
            return bjj.unpack_point(y.to_bytes(32, "little"))
        except PointNotOnCurveError:
            y = (y + 1) % FIELD_R


scalars = st.integers(min_value=0, max_value=bjj.ORDER * 2)
subgroup_points = st.integers(min_value=0, max_value=bjj.SUBORDER - 1).map(bjj.mul_base8)
curve_points = st.integers(min_value=0, max_value=FIELD_R - 1).map(lift)


# --------------------------------------------------------------------------- constants and vectors


def test_constants_match_circomlibjs() -> None:
    assert bjj.A == int(VECTORS["a"]) == 168700
    assert bjj.D == int(VECTORS["d"]) == 168696
    assert bjj.ORDER == int(VECTORS["order"]) == 8 * bjj.SUBORDER
    assert bjj.SUBORDER == int(VECTORS["subOrder"])
    assert bjj.BASE8 == as_point(VECTORS["base8"])
    assert bjj.GENERATOR == as_point(VECTORS["generator"])
    assert bjj.FIELD == FIELD_R


def test_addition_law_is_complete() -> None:
    # Bernstein et al. 2008, Thm 3.3: complete when a is a square and d is not.
    assert pow(bjj.A, (FIELD_R - 1) // 2, FIELD_R) == 1
    assert pow(bjj.D, (FIELD_R - 1) // 2, FIELD_R) == FIELD_R - 1


def test_suborder_is_probably_prime() -> None:
    for base in (2, 3, 5, 7, 11, 13):
        assert pow(base, bjj.SUBORDER - 1, bjj.SUBORDER) == 1


def test_generator_orders() -> None:
    assert bjj.mul(bjj.GENERATOR, 8) == bjj.BASE8
    assert bjj.mul(bjj.GENERATOR, bjj.SUBORDER) != bjj.IDENTITY
    assert bjj.mul(bjj.GENERATOR, bjj.ORDER) == bjj.IDENTITY
    assert bjj.mul(bjj.BASE8, bjj.SUBORDER) == bjj.IDENTITY
    assert bjj.in_subgroup(bjj.BASE8)
    assert not bjj.in_subgroup(bjj.GENERATOR)


@pytest.mark.parametrize("case", VECTORS["mul"], ids=lambda c: c["scalar"][:12])
def test_mul_and_pack_vectors(case: dict[str, object]) -> None:
    scalar = int(case["scalar"])  # type: ignore[call-overload]
    point = as_point(case["point"])  # type: ignore[arg-type]
    packed = bytes.fromhex(case["packed_hex"])  # type: ignore[arg-type]
    assert bjj.mul(bjj.BASE8, scalar) == point
    assert bjj.mul_base8(scalar) == point
    assert bjj.mul_base8(scalar + bjj.SUBORDER) == point
    # The generic window path (any point other than BASE8 itself): 2k * BASE8 = k * (2 * BASE8).
    assert bjj.mul(bjj.double(bjj.BASE8), scalar) == bjj.mul_base8(2 * scalar)
    assert bjj.pack_point(point) == packed
    assert bjj.unpack_point(packed) == point


@pytest.mark.parametrize("case", VECTORS["add"])
def test_add_vectors(case: dict[str, list[str]]) -> None:
    p, q, total = as_point(case["p"]), as_point(case["q"]), as_point(case["sum"])
    assert bjj.add(p, q) == total
    assert bjj.add(q, p) == total


# --------------------------------------------------------------------------- group laws (hypothesis)


@settings(max_examples=30, deadline=None)
@given(curve_points, curve_points, curve_points)
def test_group_laws_on_full_curve(p: tuple[int, int], q: tuple[int, int], r: tuple[int, int]) -> None:
    assert bjj.is_on_curve(p)
    assert bjj.add(p, q) == bjj.add(q, p)
    assert bjj.add(bjj.add(p, q), r) == bjj.add(p, bjj.add(q, r))
    assert bjj.add(p, bjj.IDENTITY) == p
    assert bjj.add(p, bjj.neg(p)) == bjj.IDENTITY
    assert bjj.double(p) == bjj.add(p, p)
    assert bjj.mul(p, bjj.ORDER) == bjj.IDENTITY
    assert bjj.is_on_curve(bjj.add(p, q))


@settings(max_examples=15, deadline=None)
@given(curve_points, scalars, scalars)
def test_scalar_multiplication_laws(p: tuple[int, int], a: int, b: int) -> None:
    assert bjj.mul(p, a + b) == bjj.add(bjj.mul(p, a), bjj.mul(p, b))
    assert bjj.mul(p, a * b) == bjj.mul(bjj.mul(p, a), b)
    assert bjj.mul(p, a) == bjj.mul(p, a + bjj.ORDER)


@settings(max_examples=15, deadline=None)
@given(subgroup_points, subgroup_points, st.integers(min_value=0, max_value=2**300))
def test_subgroup_closure(p: tuple[int, int], q: tuple[int, int], k: int) -> None:
    assert bjj.in_subgroup(p) and bjj.in_subgroup(q)
    assert bjj.in_subgroup(bjj.add(p, q))
    assert bjj.in_subgroup(bjj.mul(p, k))
    assert bjj.in_subgroup(bjj.neg(p))
    assert bjj.mul(p, k) == bjj.mul(p, k % bjj.SUBORDER)


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=bjj.SUBORDER - 1))
def test_fixed_base_equals_generic(k: int) -> None:
    generic = bjj.add(bjj.mul(bjj.double(bjj.BASE8), k), bjj.IDENTITY)
    assert bjj.mul_base8(2 * k) == generic


# --------------------------------------------------------------------------- torsion


def test_eight_torsion_points() -> None:
    torsion = {bjj.mul(bjj.GENERATOR, bjj.SUBORDER * k) for k in range(8)}
    assert len(torsion) == 8
    assert bjj.IDENTITY in torsion and (0, FIELD_R - 1) in torsion
    for t in torsion:
        assert bjj.is_small_order(t)
        assert bjj.in_subgroup(t) == (t == bjj.IDENTITY)
        assert bjj.unpack_point(bjj.pack_point(t)) == t


@settings(max_examples=10, deadline=None)
@given(curve_points)
def test_l_times_random_point_is_torsion(q: tuple[int, int]) -> None:
    t = bjj.mul(q, bjj.SUBORDER)
    assert bjj.is_small_order(t)
    assert not bjj.is_small_order(bjj.add(t, bjj.BASE8))


def test_small_order_false_for_subgroup_and_garbage() -> None:
    assert not bjj.is_small_order(bjj.BASE8)
    assert not bjj.is_small_order((1, 2))
    assert not bjj.is_small_order("point")
    assert not bjj.in_subgroup((1, 2))
    assert not bjj.in_subgroup(None)


# --------------------------------------------------------------------------- compression


@settings(max_examples=40, deadline=None)
@given(curve_points)
def test_pack_roundtrip(p: tuple[int, int]) -> None:
    packed = bjj.pack_point(p)
    assert len(packed) == 32
    assert bjj.unpack_point(packed) == p
    assert bjj.unpack_point(bytearray(packed)) == p


def test_unpack_identity_and_order_two() -> None:
    assert bjj.unpack_point((1).to_bytes(32, "little")) == bjj.IDENTITY
    assert bjj.unpack_point((FIELD_R - 1).to_bytes(32, "little")) == (0, FIELD_R - 1)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_unpack_wrong_length(length: int) -> None:
    with pytest.raises(EncodingError):
        bjj.unpack_point(bytes(length))


@pytest.mark.parametrize("value", ["00" * 32, 12, None, [0] * 32])
def test_unpack_wrong_type(value: object) -> None:
    with pytest.raises(FieldTypeError):
        bjj.unpack_point(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("y", [FIELD_R, FIELD_R + 1, 2**255 - 1])
def test_unpack_rejects_non_canonical_y(y: int) -> None:
    raw = bytearray((y & (2**255 - 1)).to_bytes(32, "little"))
    with pytest.raises(NonCanonicalEncodingError):
        bjj.unpack_point(bytes(raw))


def test_unpack_rejects_sign_bit_for_x_zero() -> None:
    raw = bytearray((1).to_bytes(32, "little"))
    raw[31] |= 0x80
    with pytest.raises(NonCanonicalEncodingError):
        bjj.unpack_point(bytes(raw))


def test_unpack_rejects_ordinate_without_point() -> None:
    y = 2
    while True:
        y2 = y * y % FIELD_R
        x2 = (1 - y2) * pow(bjj.A - bjj.D * y2, -1, FIELD_R) % FIELD_R
        if pow(x2, (FIELD_R - 1) // 2, FIELD_R) == FIELD_R - 1:
            break
        y += 1
    with pytest.raises(PointNotOnCurveError):
        bjj.unpack_point(y.to_bytes(32, "little"))


def test_pack_sign_bit_convention() -> None:
    x, y = bjj.BASE8
    assert (bjj.pack_point((x, y))[31] >> 7) == (x > (FIELD_R - 1) // 2)
    assert (bjj.pack_point(bjj.neg((x, y)))[31] >> 7) != (bjj.pack_point((x, y))[31] >> 7)


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("scalar", [-1, -bjj.SUBORDER])
def test_negative_scalar_rejected(scalar: int) -> None:
    with pytest.raises(FieldRangeError):
        bjj.mul(bjj.BASE8, scalar)
    with pytest.raises(FieldRangeError):
        bjj.mul_base8(scalar)


@pytest.mark.parametrize("scalar", [True, 1.5, "3", None, b"\x01"])
def test_non_int_scalar_rejected(scalar: object) -> None:
    with pytest.raises(FieldTypeError):
        bjj.mul(bjj.BASE8, scalar)  # type: ignore[arg-type]
    with pytest.raises(FieldTypeError):
        bjj.mul_base8(scalar)  # type: ignore[arg-type]


def test_huge_scalar_is_fast_and_reduced() -> None:
    k = 2**100_000 + 5
    assert bjj.mul(bjj.GENERATOR, k) == bjj.mul(bjj.GENERATOR, k % bjj.ORDER)
    assert bjj.mul_base8(k) == bjj.mul_base8(k % bjj.SUBORDER)


@pytest.mark.parametrize(
    "point",
    [(1, 2), (bjj.BASE8[0], bjj.BASE8[1] + 1)],
)
def test_off_curve_points_rejected(point: tuple[int, int]) -> None:
    assert not bjj.is_on_curve(point)
    for op in (bjj.double, bjj.neg, bjj.pack_point, lambda p: bjj.mul(p, 3), lambda p: bjj.add(p, bjj.BASE8)):
        with pytest.raises(PointNotOnCurveError):
            op(point)


@pytest.mark.parametrize(
    "point",
    [(bjj.BASE8[0] + FIELD_R, bjj.BASE8[1]), (-1, 1), (0, 1 + FIELD_R)],
)
def test_non_canonical_coordinates_rejected(point: tuple[int, int]) -> None:
    assert not bjj.is_on_curve(point)
    with pytest.raises(FieldRangeError):
        bjj.add(point, bjj.IDENTITY)


@pytest.mark.parametrize("point", [(True, 1), (0.0, 1), ("0", "1"), (0, 1, 2), 5, None])
def test_malformed_points_rejected(point: object) -> None:
    assert not bjj.is_on_curve(point)
    with pytest.raises(FieldTypeError):
        bjj.double(point)  # type: ignore[arg-type]
