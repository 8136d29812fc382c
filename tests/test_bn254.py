"""BN254 fields, G1/G2 arithmetic, validation and EIP-196/197 encodings (zkhealth.hazmat.bn254).

Oracles: py_ecc (optimized_bn128) for arithmetic; go-ethereum's precompile vectors for the encodings.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as ob

from zkhealth.errors import (
    EncodingError,
    FieldRangeError,
    FieldTypeError,
    NonCanonicalEncodingError,
    PointAtInfinityError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    ZkHealthError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat import bn254
from zkhealth.hazmat.bn254 import (
    BN_X,
    G1_GENERATOR,
    G2,
    G2_COFACTOR,
    G2_GENERATOR,
    TWIST_B,
    XI,
    Fq2,
    Q,
    R,
    fq2_add,
    fq2_conj,
    fq2_eq,
    fq2_inv,
    fq2_mul,
    fq2_mul_by_xi,
    fq2_neg,
    fq2_pow,
    fq2_sqr,
    fq2_sqrt,
    fq2_sub,
    g1_add,
    g1_double,
    g1_from_bytes64,
    g1_is_on_curve,
    g1_mul,
    g1_neg,
    g1_to_bytes64,
    g2_add,
    g2_double,
    g2_from_bytes128,
    g2_in_subgroup,
    g2_in_subgroup_slow,
    g2_is_on_curve,
    g2_mul,
    g2_neg,
    g2_to_bytes128,
    validate_g1,
    validate_g2,
)

pytestmark = pytest.mark.native

VECTORS = Path(__file__).parent / "vectors" / "geth"
RNG = random.Random(0xB254)

# Factorisation of the G2 cofactor c2 = 2q - r (checked below by multiplying out).
COFACTOR_FACTORS = (10069, 5864401, 1875725156269, 197620364512881247228717050342013327560683201906968909)


def rand_fq2(rng: random.Random = RNG) -> Fq2:
    return (rng.randrange(Q), rng.randrange(Q))


def to_py_fq2(a: Fq2) -> ob.FQ2:
    return ob.FQ2([a[0], a[1]])


def from_py_g1(p: tuple[ob.FQ, ob.FQ, ob.FQ]) -> tuple[int, int] | None:
    if ob.is_inf(p):
        return None
    x, y = ob.normalize(p)
    return (int(x), int(y))


def from_py_g2(p: tuple[ob.FQ2, ob.FQ2, ob.FQ2]) -> G2 | None:
    if ob.is_inf(p):
        return None
    x, y = ob.normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def to_py_g1(p: tuple[int, int] | None) -> tuple[ob.FQ, ob.FQ, ob.FQ]:
    if p is None:
        return ob.Z1
    return (ob.FQ(p[0]), ob.FQ(p[1]), ob.FQ.one())


def to_py_g2(p: G2 | None) -> tuple[ob.FQ2, ob.FQ2, ob.FQ2]:
    if p is None:
        return ob.Z2
    return (to_py_fq2(p[0]), to_py_fq2(p[1]), ob.FQ2.one())


def random_twist_point(rng: random.Random) -> G2:
    """A uniformly random point of E'(Fq2) (almost surely outside G2): sample x until x^3 + b' is a square."""
    while True:
        x = rand_fq2(rng)
        y = fq2_sqrt(fq2_add(fq2_mul(fq2_sqr(x), x), TWIST_B))
        if y is not None:
            return (x, y)


# --------------------------------------------------------------------------- constants


def test_curve_constants() -> None:
    x = BN_X
    assert Q == FIELD_Q and R == FIELD_R and Q != R
    assert Q == 36 * x**4 + 36 * x**3 + 24 * x**2 + 6 * x + 1
    assert R == 36 * x**4 + 36 * x**3 + 18 * x**2 + 6 * x + 1
    assert G2_COFACTOR == 2 * Q - R
    prod = 1
    for factor in COFACTOR_FACTORS:
        prod *= factor
    assert prod == G2_COFACTOR
    assert fq2_eq(fq2_mul(TWIST_B, XI), (3, 0))
    assert TWIST_B == (int(ob.b2.coeffs[0]), int(ob.b2.coeffs[1]))
    assert G2_GENERATOR == from_py_g2(ob.G2)
    assert g1_is_on_curve(G1_GENERATOR) and g2_is_on_curve(G2_GENERATOR)
    assert g2_mul(G2_GENERATOR, R) is None
    assert g1_mul(G1_GENERATOR, R) is None


# --------------------------------------------------------------------------- Fq2


def test_fq2_against_py_ecc() -> None:
    for _ in range(50):
        a, b = rand_fq2(), rand_fq2()
        pa, pb = to_py_fq2(a), to_py_fq2(b)
        assert fq2_add(a, b) == tuple(int(c) for c in (pa + pb).coeffs)
        assert fq2_sub(a, b) == tuple(int(c) for c in (pa - pb).coeffs)
        assert fq2_mul(a, b) == tuple(int(c) for c in (pa * pb).coeffs)
        assert fq2_sqr(a) == tuple(int(c) for c in (pa * pa).coeffs)
        assert fq2_neg(a) == tuple(int(c) for c in (-pa).coeffs)
        assert fq2_inv(a) == tuple(int(c) for c in pa.inv().coeffs)
        assert fq2_mul_by_xi(a) == fq2_mul(a, XI)
        assert fq2_conj(a) == fq2_pow(a, Q)
        assert fq2_mul(a, fq2_inv(a)) == (1, 0)


def test_fq2_inv_zero_rejected() -> None:
    with pytest.raises(FieldRangeError):
        fq2_inv((0, 0))


def test_fq2_sqrt() -> None:
    squares = non_squares = 0
    for _ in range(40):
        a = rand_fq2()
        root = fq2_sqrt(fq2_sqr(a))
        assert root is not None and fq2_sqr(root) == fq2_sqr(a)
        b = rand_fq2()
        r = fq2_sqrt(b)
        # b is a square iff its norm is a square in Fq (Euler's criterion on the norm)
        norm = (b[0] * b[0] + b[1] * b[1]) % Q
        is_square = pow(norm, (Q - 1) // 2, Q) == 1
        assert (r is not None) == is_square
        if r is not None:
            assert fq2_sqr(r) == b
            squares += 1
        else:
            non_squares += 1
    assert squares and non_squares
    assert fq2_sqrt((0, 0)) == (0, 0)
    assert fq2_sqrt((Q - 1, 0)) is not None  # -1 = u^2


# --------------------------------------------------------------------------- G1


EDGE_SCALARS = [0, 1, 2, 3, R - 1, R, R + 1, 2 * R, 2**256 - 1, BN_X]


@pytest.mark.parametrize("k", EDGE_SCALARS)
def test_g1_mul_edge_scalars(k: int) -> None:
    p = g1_mul(G1_GENERATOR, 0xDEADBEEF)
    assert g1_mul(p, k) == from_py_g1(ob.multiply(to_py_g1(p), k % R))


def test_g1_against_py_ecc() -> None:
    for _ in range(10):
        a, b = RNG.randrange(R), RNG.randrange(R)
        p = g1_mul(G1_GENERATOR, a)
        q = g1_mul(G1_GENERATOR, b)
        pp, pq = ob.multiply(ob.G1, a), ob.multiply(ob.G1, b)
        assert p == from_py_g1(pp)
        assert g1_add(p, q) == from_py_g1(ob.add(pp, pq))
        assert g1_double(p) == from_py_g1(ob.double(pp))
        assert g1_neg(p) == from_py_g1(ob.neg(pp))
        assert g1_is_on_curve(p)


def test_g1_identity_rules() -> None:
    p = g1_mul(G1_GENERATOR, 12345)
    assert g1_add(p, None) == p and g1_add(None, p) == p
    assert g1_add(p, g1_neg(p)) is None
    assert g1_add(p, p) == g1_double(p)
    assert g1_neg(None) is None and g1_double(None) is None
    assert g1_mul(None, 5) is None
    assert g1_mul(p, -3) == g1_neg(g1_mul(p, 3))
    assert g1_is_on_curve(None)


def test_jacobian_helpers() -> None:
    points = [bn254.g1_jacobian_mul(G1_GENERATOR, k) for k in (1, 2, 0, 77, R - 1)]
    assert bn254.g1_batch_to_affine(points) == [bn254.g1_from_jacobian(p) for p in points]
    assert bn254.g1_batch_to_affine(points)[2] is None
    p, q = g1_mul(G1_GENERATOR, 5), g1_mul(G1_GENERATOR, 7)
    jp = bn254.g1_jacobian_double(bn254.g1_to_jacobian(p))  # Z != 1
    assert bn254.g1_from_jacobian(bn254.g1_jacobian_add_affine(jp, q)) == g1_mul(G1_GENERATOR, 17)
    assert bn254.g1_from_jacobian(bn254.g1_jacobian_add(jp, bn254.g1_to_jacobian(q))) == g1_mul(G1_GENERATOR, 17)
    g2_points = [bn254.g2_jacobian_mul(G2_GENERATOR, k) for k in (3, 0, 11)]
    assert bn254.g2_batch_to_affine(g2_points) == [bn254.g2_from_jacobian(p) for p in g2_points]


@pytest.mark.parametrize("bad", [True, 1.0, "5", None])
def test_scalar_type_checked(bad: object) -> None:
    with pytest.raises(FieldTypeError):
        g1_mul(G1_GENERATOR, bad)  # type: ignore[arg-type]
    with pytest.raises(FieldTypeError):
        g2_mul(G2_GENERATOR, bad)  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=2**256), st.integers(min_value=0, max_value=2**256))
def test_g1_mul_is_linear(a: int, b: int) -> None:
    g = G1_GENERATOR
    assert g1_add(g1_mul(g, a), g1_mul(g, b)) == g1_mul(g, a + b)
    assert g1_mul(g1_mul(g, a), b) == g1_mul(g, a * b)


# --------------------------------------------------------------------------- G2


@pytest.mark.parametrize("k", EDGE_SCALARS)
def test_g2_mul_edge_scalars(k: int) -> None:
    p = g2_mul(G2_GENERATOR, 0xC0FFEE)
    assert g2_mul(p, k) == from_py_g2(ob.multiply(to_py_g2(p), k % R))


def test_g2_against_py_ecc() -> None:
    for _ in range(4):
        a, b = RNG.randrange(R), RNG.randrange(R)
        p = g2_mul(G2_GENERATOR, a)
        q = g2_mul(G2_GENERATOR, b)
        pp, pq = ob.multiply(ob.G2, a), ob.multiply(ob.G2, b)
        assert p == from_py_g2(pp)
        assert g2_add(p, q) == from_py_g2(ob.add(pp, pq))
        assert g2_double(p) == from_py_g2(ob.double(pp))
        assert g2_neg(p) == from_py_g2(ob.neg(pp))
        assert g2_is_on_curve(p) and g2_in_subgroup(p) and g2_in_subgroup_slow(p)


def test_g2_identity_rules() -> None:
    p = g2_mul(G2_GENERATOR, 999)
    assert g2_add(p, None) == p and g2_add(None, p) == p
    assert g2_add(p, g2_neg(p)) is None
    assert g2_add(p, p) == g2_double(p)
    assert g2_mul(p, 0) is None and g2_mul(None, 7) is None
    assert g2_mul(p, -2) == g2_neg(g2_double(p))
    assert g2_in_subgroup(None) and g2_in_subgroup_slow(None)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=R - 1), st.integers(min_value=0, max_value=R - 1))
def test_g2_mul_is_linear(a: int, b: int) -> None:
    g = G2_GENERATOR
    assert g2_add(g2_mul(g, a), g2_mul(g, b)) == g2_mul(g, (a + b) % R)


def test_psi_acts_as_q_on_g2() -> None:
    p = g2_mul(G2_GENERATOR, RNG.randrange(R))
    assert bn254.g2_psi(p) == g2_mul(p, Q % R) == g2_mul(p, bn254.SIX_X_SQUARED)


def test_subgroup_checks_agree_on_every_cofactor_component() -> None:
    """The fast check (psi(P) == [6x^2]P) and [r]P == O agree on G2 points, on random twist points and on
    G2 points shifted by a point of each prime order dividing the cofactor."""
    rng = random.Random(7)
    g = g2_mul(G2_GENERATOR, rng.randrange(1, R))
    assert g2_in_subgroup(g) and g2_in_subgroup_slow(g)
    for _ in range(3):
        t = random_twist_point(rng)
        assert g2_is_on_curve(t)
        assert not g2_in_subgroup(t) and not g2_in_subgroup_slow(t)
        cleared = g2_mul(t, G2_COFACTOR)
        assert g2_in_subgroup(cleared) and g2_in_subgroup_slow(cleared)
    full_order = R * G2_COFACTOR
    for ell in COFACTOR_FACTORS:
        while True:
            torsion = g2_mul(random_twist_point(rng), full_order // ell)
            if torsion is not None:
                break
        assert g2_mul(torsion, ell) is None
        for point in (torsion, g2_add(g, torsion)):
            assert point is not None and g2_is_on_curve(point)
            assert not g2_in_subgroup(point)
            assert not g2_in_subgroup_slow(point)


# --------------------------------------------------------------------------- validation


def test_validate_g1_accepts_valid_points() -> None:
    p = g1_mul(G1_GENERATOR, 42)
    assert validate_g1(*p) == p
    assert validate_g1(str(p[0]), str(p[1])) == p
    assert validate_g1(0, 0, allow_infinity=True) is None


@pytest.mark.parametrize(
    ("x", "y", "error"),
    [
        (1, 3, PointNotOnCurveError),  # security.md G4
        (0, 0, PointAtInfinityError),
        ("0", "0", PointAtInfinityError),
        (1 + Q, 2, NonCanonicalEncodingError),  # security.md G5: x + q aliases x
        (1, 2 + Q, NonCanonicalEncodingError),
        (1, Q - 2 + Q, NonCanonicalEncodingError),
        (-1, 2, NonCanonicalEncodingError),
        (1, -2, NonCanonicalEncodingError),
        (str(1 + Q), "2", NonCanonicalEncodingError),
        ("01", "2", NonCanonicalEncodingError),
        ("1", " 2", NonCanonicalEncodingError),
        ("1" * 5000, "2", NonCanonicalEncodingError),  # security.md G13
        (True, 2, FieldTypeError),
        (1, True, FieldTypeError),
        (1.0, 2, FieldTypeError),
        (None, 2, FieldTypeError),
        (b"\x01", 2, FieldTypeError),
    ],
)
def test_validate_g1_rejects(x: object, y: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate_g1(x, y)


def test_validate_g1_errors_are_value_or_type_errors() -> None:
    with pytest.raises(ValueError):
        validate_g1(1, 3)
    with pytest.raises(TypeError):
        validate_g1(True, 2)
    with pytest.raises(ZkHealthError):
        validate_g1(Q, 2)


def test_validate_g2_accepts_valid_points() -> None:
    p = g2_mul(G2_GENERATOR, 42)
    assert validate_g2(*p) == p
    assert validate_g2([str(p[0][0]), str(p[0][1])], [str(p[1][0]), str(p[1][1])]) == p
    assert validate_g2((0, 0), (0, 0), allow_infinity=True) is None


def test_validate_g2_rejects_point_outside_subgroup() -> None:
    t = random_twist_point(random.Random(3))
    assert g2_is_on_curve(t)
    with pytest.raises(PointNotInSubgroupError):
        validate_g2(*t)
    # the same point with the cofactor cleared is accepted
    cleared = g2_mul(t, G2_COFACTOR)
    assert cleared is not None and validate_g2(*cleared) == cleared


def test_validate_g2_rejects_malformed() -> None:
    (x0, x1), (y0, y1) = G2_GENERATOR
    with pytest.raises(PointNotOnCurveError):
        validate_g2((x0, x1), (y0, (y1 + 1) % Q))
    with pytest.raises(PointAtInfinityError):
        validate_g2((0, 0), (0, 0))
    with pytest.raises(NonCanonicalEncodingError):
        validate_g2((x0 + Q, x1), (y0, y1))
    with pytest.raises(NonCanonicalEncodingError):
        validate_g2((x0, x1), (y0, y1 + Q))
    with pytest.raises(NonCanonicalEncodingError):
        validate_g2((x0, -x1), (y0, y1))
    with pytest.raises(FieldTypeError):
        validate_g2((x0, True), (y0, y1))
    with pytest.raises(FieldTypeError):
        validate_g2((x0, x1, 0), (y0, y1))
    with pytest.raises(FieldTypeError):
        validate_g2(x0, (y0, y1))
    # EIP-197 order confusion: swapping real and imaginary parts gives a point off the twist
    with pytest.raises(PointNotOnCurveError):
        validate_g2((x1, x0), (y1, y0))


# --------------------------------------------------------------------------- EIP-196/197 encodings


def test_encodings_roundtrip_and_order() -> None:
    p = g1_mul(G1_GENERATOR, 5)
    assert g1_from_bytes64(g1_to_bytes64(p)) == p
    assert g1_to_bytes64(None) == bytes(64)
    assert g1_from_bytes64(bytes(64), allow_infinity=True) is None
    q = g2_mul(G2_GENERATOR, 5)
    raw = g2_to_bytes128(q)
    assert g2_from_bytes128(raw) == q
    assert raw[:32] == q[0][1].to_bytes(32, "big")  # EIP-197: x imaginary part first
    assert raw[32:64] == q[0][0].to_bytes(32, "big")
    assert g2_to_bytes128(None) == bytes(128)
    with pytest.raises(PointAtInfinityError):
        g2_from_bytes128(bytes(128))
    with pytest.raises(EncodingError):
        g1_from_bytes64(bytes(63))
    with pytest.raises(EncodingError):
        g2_from_bytes128(raw + b"\x00")
    with pytest.raises(FieldTypeError):
        g1_from_bytes64("00" * 64)  # type: ignore[arg-type]
    with pytest.raises(NonCanonicalEncodingError):
        g1_from_bytes64((1 + Q).to_bytes(32, "big") + (2).to_bytes(32, "big"))
    with pytest.raises(NonCanonicalEncodingError):
        g1_from_bytes64(b"\xff" * 32 + (2).to_bytes(32, "big"))


def _load(name: str) -> list[dict[str, object]]:
    with open(VECTORS / name) as fh:
        cases: list[dict[str, object]] = json.load(fh)
    return cases


def _padded(hex_input: object, length: int) -> bytes:
    """EIP-196: a short input is padded with zeros; bytes beyond the expected length are ignored."""
    assert isinstance(hex_input, str)
    return (bytes.fromhex(hex_input) + bytes(length))[:length]


@pytest.mark.parametrize("case", _load("bn256Add.json"), ids=lambda c: str(c["Name"]))
def test_geth_bn256_add(case: dict[str, object]) -> None:
    data = _padded(case["Input"], 128)
    p = g1_from_bytes64(data[:64], allow_infinity=True)
    q = g1_from_bytes64(data[64:], allow_infinity=True)
    assert g1_to_bytes64(g1_add(p, q)).hex() == case["Expected"]


@pytest.mark.parametrize("case", _load("bn256ScalarMul.json"), ids=lambda c: str(c["Name"]))
def test_geth_bn256_scalar_mul(case: dict[str, object]) -> None:
    data = _padded(case["Input"], 96)
    p = g1_from_bytes64(data[:64], allow_infinity=True)
    k = int.from_bytes(data[64:], "big")  # any 256-bit scalar, not reduced by the caller
    assert g1_to_bytes64(g1_mul(p, k)).hex() == case["Expected"]
