"""BN254 (alt_bn128): the fields Fq and Fq2, the groups G1 and G2, point validation and EIP-196/197 encodings.

Curve data (EIP-196, EIP-197; Barreto-Naehrig 2005 with parameter x = 4965661367192848881):

* base field Fq, q = 36x^4 + 36x^3 + 24x^2 + 6x + 1; scalar field Fr, r = 36x^4 + 36x^3 + 18x^2 + 6x + 1;
* G1 = E(Fq), E: y^2 = x^3 + 3, of prime order r (cofactor 1), generator (1, 2);
* Fq2 = Fq[u] / (u^2 + 1); G2 is the order-r subgroup of the sextic D-type twist E'(Fq2): y^2 = x^3 + 3/xi with
  xi = 9 + u. E' has order r * c2 with c2 = 2q - r, so G2 needs an explicit subgroup check.

Representations (used throughout zkhealth): Fq2 elements are ``(c0, c1)`` = c0 + c1*u; affine G1 points are
``(x, y)``; affine G2 points are ``((x0, x1), (y0, y1))``; the identity is ``None`` in affine form. Internally
points use Jacobian coordinates (X, Y, Z) = (X/Z^2, Y/Z^3), with Z = 0 for the identity. Jacobian helpers may
return gmpy2 ``mpz`` components when gmpy2 is in use (zkhealth._bigint); affine results are always plain ``int``.

This module is hazmat: arithmetic functions assume canonical inputs (coordinates in [0, q), points on the curve)
and do not re-check them. Only the ``validate_*`` and ``*_from_bytes*`` functions check, with typed errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias, TypeVar

from zkhealth._bigint import invert, mpz
from zkhealth.errors import (
    EncodingError,
    FieldRangeError,
    FieldTypeError,
    NonCanonicalEncodingError,
    PointAtInfinityError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
)
from zkhealth.field import FIELD_Q, FIELD_R, parse_canonical_int

Fq2: TypeAlias = tuple[int, int]
T = TypeVar("T")
G1: TypeAlias = tuple[int, int]
G2: TypeAlias = tuple[Fq2, Fq2]
G1Jacobian: TypeAlias = tuple[int, int, int]
G2Jacobian: TypeAlias = tuple[Fq2, Fq2, Fq2]

#: The BN parameter x (sometimes called u or z); BN254 uses a positive x.
BN_X: Final[int] = 4965661367192848881
#: Base field modulus q.
Q: Final[int] = FIELD_Q
#: Scalar field modulus r, the order of G1 and G2.
R: Final[int] = FIELD_R
_QM: Final[Any] = mpz(Q)  # the modulus as the big-integer backend's type, for the hot Jacobian formulas
#: Cofactor of G2 in E'(Fq2): #E'(Fq2) = r * G2_COFACTOR (docs/security.md table; equals 2q - r).
G2_COFACTOR: Final[int] = 21888242871839275222246405745257275088844257914179612981679871602714643921549

#: Coefficient b of E: y^2 = x^3 + b.
CURVE_B: Final[int] = 3
#: The non-residue xi = 9 + u defining Fq6 = Fq2[v]/(v^3 - xi) and the twist.
XI: Final[Fq2] = (9, 1)

G1_GENERATOR: Final[G1] = (1, 2)
#: EIP-197's G2 generator (the same as py_ecc's and snarkjs'), real parts first.
G2_GENERATOR: Final[G2] = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)

# --------------------------------------------------------------------------- Fq2 = Fq[u]/(u^2 + 1)

FQ2_ZERO: Final[Fq2] = (0, 0)
FQ2_ONE: Final[Fq2] = (1, 0)


def fq2_add(a: Fq2, b: Fq2) -> Fq2:
    """a + b in Fq2."""
    return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)


def fq2_sub(a: Fq2, b: Fq2) -> Fq2:
    """a - b in Fq2."""
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def fq2_neg(a: Fq2) -> Fq2:
    """-a in Fq2."""
    return ((-a[0]) % Q, (-a[1]) % Q)


def fq2_mul(a: Fq2, b: Fq2) -> Fq2:
    """a * b in Fq2 (schoolbook, u^2 = -1; 4 multiplications and 2 reductions)."""
    a0, a1 = a
    b0, b1 = b
    return ((a0 * b0 - a1 * b1) % Q, (a0 * b1 + a1 * b0) % Q)


def fq2_sqr(a: Fq2) -> Fq2:
    """a^2 in Fq2 via (a0 + a1)(a0 - a1) + 2 a0 a1 u (2 multiplications)."""
    a0, a1 = a
    return ((a0 + a1) * (a0 - a1) % Q, 2 * a0 * a1 % Q)


def fq2_mul_by_xi(a: Fq2) -> Fq2:
    """a * (9 + u): (9 a0 - a1) + (a0 + 9 a1) u."""
    a0, a1 = a
    return ((9 * a0 - a1) % Q, (a0 + 9 * a1) % Q)


def fq2_conj(a: Fq2) -> Fq2:
    """The conjugate a0 - a1 u, which is also the Frobenius a^q."""
    return (a[0], (-a[1]) % Q)


def _fq2_int(a: Fq2) -> Fq2:
    """The same element with plain ``int`` components (the big-integer backend may hand back mpz)."""
    return (int(a[0]), int(a[1]))


def fq2_inv(a: Fq2) -> Fq2:
    """a^-1 = conj(a) / (a0^2 + a1^2). Raises :class:`FieldRangeError` for zero. One Fq inversion."""
    a0, a1 = a
    norm = (a0 * a0 + a1 * a1) % Q
    if norm == 0:
        raise FieldRangeError("zero has no inverse in Fq2")
    inv = pow(int(norm), -1, Q)
    return (a0 * inv % Q, (-a1) * inv % Q)


def fq2_eq(a: Fq2, b: Fq2) -> bool:
    """Equality of canonical (reduced) Fq2 elements."""
    return a[0] == b[0] and a[1] == b[1]


def fq2_is_zero(a: Fq2) -> bool:
    """True for 0 + 0u."""
    return a[0] == 0 and a[1] == 0


def square_and_multiply(base: T, e: int, one: T, mul: Callable[[T, T], T], sqr: Callable[[T], T]) -> T:
    """``base^e`` for ``e >= 0`` in any group given its ``one``, ``mul`` and ``sqr`` (right-to-left binary
    exponentiation: about 1.5 log2(e) operations)."""
    result = one
    while e:
        if e & 1:
            result = mul(result, base)
        base = sqr(base)
        e >>= 1
    return result


def fq2_pow(a: Fq2, e: int) -> Fq2:
    """a^e (a negative e inverts first) by square-and-multiply (about 1.5 log2(e) Fq2 operations)."""
    if e < 0:
        return fq2_pow(fq2_inv(a), -e)
    return square_and_multiply(a, e, FQ2_ONE, fq2_mul, fq2_sqr)


def fq2_sqrt(a: Fq2) -> Fq2 | None:
    """A square root of ``a`` in Fq2, or ``None`` if ``a`` is not a square.

    Algorithm 9 of Adj and Rodriguez-Henriquez, "Square root computation over even extension fields" (2012),
    valid because q = 3 mod 4. The result is checked by squaring, so a ``None`` is never a false negative.
    Cost: two exponentiations in Fq2.
    """
    if fq2_is_zero(a):
        return FQ2_ZERO
    a1 = fq2_pow(a, (Q - 3) // 4)
    alpha = fq2_mul(fq2_sqr(a1), a)
    x0 = fq2_mul(a1, a)
    minus_one = (Q - 1, 0)
    if fq2_eq(alpha, minus_one):
        candidate = fq2_mul((0, 1), x0)
    else:
        b = fq2_pow(fq2_add(FQ2_ONE, alpha), (Q - 1) // 2)
        candidate = fq2_mul(b, x0)
    if fq2_eq(fq2_sqr(candidate), a):
        return candidate
    return None


#: Coefficient b' = 3 / xi of the twist E': y^2 = x^3 + b' (EIP-197).
TWIST_B: Final[Fq2] = fq2_mul((CURVE_B, 0), fq2_inv(XI))

# --------------------------------------------------------------------------- G1 = E(Fq), Jacobian internally

G1_JACOBIAN_INFINITY: Final[G1Jacobian] = (1, 1, 0)


def g1_is_on_curve(p: G1 | None) -> bool:
    """True if ``p`` is the identity or satisfies y^2 = x^3 + 3 (coordinates are reduced mod q first)."""
    if p is None:
        return True
    x, y = p
    return (y * y - x * x * x - CURVE_B) % Q == 0


def g1_to_jacobian(p: G1 | None) -> G1Jacobian:
    """Affine to Jacobian (Z = 1); the identity maps to Z = 0."""
    if p is None:
        return G1_JACOBIAN_INFINITY
    return (p[0], p[1], 1)


def g1_from_jacobian(p: G1Jacobian) -> G1 | None:
    """Jacobian to affine: (X/Z^2, Y/Z^3). One inversion."""
    x, y, z = p
    if z % Q == 0:
        return None
    z_inv = invert(z, _QM)
    z_inv2 = z_inv * z_inv % _QM
    return (int(x * z_inv2 % _QM), int(y * z_inv2 * z_inv % _QM))


def g1_batch_to_affine(points: Sequence[G1Jacobian]) -> list[G1 | None]:
    """Normalise many Jacobian points with one inversion (Montgomery's trick): 3 multiplications per point."""
    prefix: list[int] = []
    acc = 1
    for _, _, z in points:
        prefix.append(acc)
        if z % Q:
            acc = acc * z % Q
    inv = invert(acc, _QM)
    out: list[G1 | None] = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        if z % Q == 0:
            continue
        z_inv = inv * prefix[i] % Q
        inv = inv * z % Q
        z_inv2 = z_inv * z_inv % Q
        out[i] = (int(x * z_inv2 % Q), int(y * z_inv2 * z_inv % Q))
    return out


def g1_jacobian_double(p: G1Jacobian) -> G1Jacobian:
    """2P in Jacobian coordinates for a = 0 ("dbl-2009-l", Explicit-Formulas Database): 2M + 5S."""
    x, y, z = p
    if z == 0 or y == 0:
        return G1_JACOBIAN_INFINITY
    a = x * x % _QM
    b = y * y % _QM
    c = b * b % _QM
    d = 4 * x * b % _QM
    e = 3 * a
    x3 = (e * e - 2 * d) % _QM
    return (x3, (e * (d - x3) - 8 * c) % _QM, 2 * y * z % _QM)


def g1_jacobian_add(p: G1Jacobian, q: G1Jacobian) -> G1Jacobian:
    """P + Q in Jacobian coordinates ("add-2007-bl" without the Z1 = Z2 shortcut): 11M + 5S."""
    x1, y1, z1 = p
    x2, y2, z2 = q
    if z1 == 0:
        return q
    if z2 == 0:
        return p
    z1z1 = z1 * z1 % _QM
    z2z2 = z2 * z2 % _QM
    u1 = x1 * z2z2 % _QM
    u2 = x2 * z1z1 % _QM
    s1 = y1 * z2 * z2z2 % _QM
    s2 = y2 * z1 * z1z1 % _QM
    h = (u2 - u1) % _QM
    rr = (s2 - s1) % _QM
    if h == 0:
        if rr == 0:
            return g1_jacobian_double(p)
        return G1_JACOBIAN_INFINITY
    hh = h * h % _QM
    hhh = h * hh % _QM
    v = u1 * hh % _QM
    x3 = (rr * rr - hhh - 2 * v) % _QM
    y3 = (rr * (v - x3) - s1 * hhh) % _QM
    z3 = z1 * z2 * h % _QM
    return (x3, y3, z3)


def g1_jacobian_add_affine(p: G1Jacobian, q: G1 | None) -> G1Jacobian:
    """P + Q with Q affine ("madd-2007-bl" shape): 7M + 4S."""
    if q is None:
        return p
    x1, y1, z1 = p
    if z1 == 0:
        return (q[0], q[1], 1)
    x2, y2 = q
    z1z1 = z1 * z1 % _QM
    u2 = x2 * z1z1 % _QM
    s2 = y2 * z1 * z1z1 % _QM
    h = (u2 - x1) % _QM
    rr = (s2 - y1) % _QM
    if h == 0:
        if rr == 0:
            return g1_jacobian_double(p)
        return G1_JACOBIAN_INFINITY
    hh = h * h % _QM
    hhh = h * hh % _QM
    v = x1 * hh % _QM
    x3 = (rr * rr - hhh - 2 * v) % _QM
    y3 = (rr * (v - x3) - y1 * hhh) % _QM
    return (x3, y3, z1 * h % _QM)


def g1_neg(p: G1 | None) -> G1 | None:
    """-P = (x, -y)."""
    if p is None:
        return None
    return (p[0], (-p[1]) % Q)


def g1_add(p: G1 | None, q: G1 | None) -> G1 | None:
    """P + Q for affine points (affine chord-and-tangent formulas, one inversion)."""
    if p is None:
        return q
    if q is None:
        return p
    x1, y1 = p
    x2, y2 = q
    if x1 == x2:
        if (y1 + y2) % Q == 0:
            return None
        return g1_double(p)
    lam = (y2 - y1) * pow(x2 - x1, -1, Q) % Q
    x3 = (lam * lam - x1 - x2) % Q
    return (x3, (lam * (x1 - x3) - y1) % Q)


def g1_double(p: G1 | None) -> G1 | None:
    """2P for an affine point (one inversion)."""
    if p is None:
        return None
    x, y = p
    if y == 0:
        return None
    lam = 3 * x * x * pow(2 * y, -1, Q) % Q
    x3 = (lam * lam - 2 * x) % Q
    return (x3, (lam * (x - x3) - y) % Q)


def wnaf(k: int, width: int) -> list[int]:
    """Width-``width`` non-adjacent form of k >= 0, least significant digit first (digits odd, |d| < 2^(w-1))."""
    digits: list[int] = []
    modulus = 1 << width
    half = modulus >> 1
    while k:
        if k & 1:
            d = k & (modulus - 1)
            if d >= half:
                d -= modulus
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def _check_scalar(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise FieldTypeError(f"scalar must be an int, got {type(k).__name__}")
    return k


def g1_jacobian_mul(p: G1 | None, k: int) -> G1Jacobian:
    """[k]P in Jacobian form for an affine P in G1, k reduced mod r (valid because G1 has prime order r).

    Width-5 wNAF: about 254 doublings and 43 additions.
    """
    k = _check_scalar(k) % R
    if p is None or k == 0:
        return G1_JACOBIAN_INFINITY
    base = (mpz(p[0]), mpz(p[1]), mpz(1))
    twice = g1_jacobian_double(base)
    odd = [base]
    for _ in range(7):
        odd.append(g1_jacobian_add(odd[-1], twice))
    negs = [(x, (-y) % _QM, z) for x, y, z in odd]
    acc = G1_JACOBIAN_INFINITY
    for d in reversed(wnaf(k, 5)):
        acc = g1_jacobian_double(acc)
        if d > 0:
            acc = g1_jacobian_add(acc, odd[d >> 1])
        elif d < 0:
            acc = g1_jacobian_add(acc, negs[(-d) >> 1])
    return acc


def g1_mul(p: G1 | None, k: int) -> G1 | None:
    """[k]P for P in G1 and any int k (reduced mod r; negative k gives [-k](-P)). Raises for non-int k."""
    return g1_from_jacobian(g1_jacobian_mul(p, k))


# --------------------------------------------------------------------------- G2 = E'(Fq2)[r], Jacobian internally

G2_JACOBIAN_INFINITY: Final[G2Jacobian] = (FQ2_ONE, FQ2_ONE, FQ2_ZERO)


def g2_is_on_curve(p: G2 | None) -> bool:
    """True if ``p`` is the identity or satisfies the twist equation y^2 = x^3 + 3/(9+u)."""
    if p is None:
        return True
    x, y = p
    lhs = fq2_sqr(y)
    rhs = fq2_add(fq2_mul(fq2_sqr(x), x), TWIST_B)
    return fq2_eq(lhs, rhs)


def g2_to_jacobian(p: G2 | None) -> G2Jacobian:
    """Affine to Jacobian (Z = 1); the identity maps to Z = 0."""
    if p is None:
        return G2_JACOBIAN_INFINITY
    return (p[0], p[1], FQ2_ONE)


def g2_from_jacobian(p: G2Jacobian) -> G2 | None:
    """Jacobian to affine: one Fq2 inversion."""
    x, y, z = p
    if fq2_is_zero(z):
        return None
    z_inv = fq2_inv(z)
    z_inv2 = fq2_sqr(z_inv)
    return (_fq2_int(fq2_mul(x, z_inv2)), _fq2_int(fq2_mul(y, fq2_mul(z_inv2, z_inv))))


def g2_batch_to_affine(points: Sequence[G2Jacobian]) -> list[G2 | None]:
    """Normalise many Jacobian G2 points with one Fq2 inversion (Montgomery's trick)."""
    prefix: list[Fq2] = []
    acc = FQ2_ONE
    for _, _, z in points:
        prefix.append(acc)
        if not fq2_is_zero(z):
            acc = fq2_mul(acc, z)
    inv = fq2_inv(acc)
    out: list[G2 | None] = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        if fq2_is_zero(z):
            continue
        z_inv = fq2_mul(inv, prefix[i])
        inv = fq2_mul(inv, z)
        z_inv2 = fq2_sqr(z_inv)
        out[i] = (_fq2_int(fq2_mul(x, z_inv2)), _fq2_int(fq2_mul(y, fq2_mul(z_inv2, z_inv))))
    return out


def g2_jacobian_double(p: G2Jacobian) -> G2Jacobian:
    """2P in Jacobian coordinates over Fq2 (a = 0, "dbl-2009-l" shape)."""
    x, y, z = p
    if fq2_is_zero(z) or fq2_is_zero(y):
        return G2_JACOBIAN_INFINITY
    (x0, x1), (y0, y1), (z0, z1) = x, y, z
    a0, a1 = (x0 + x1) * (x0 - x1) % _QM, 2 * x0 * x1 % _QM  # A = X^2
    b0, b1 = (y0 + y1) * (y0 - y1) % _QM, 2 * y0 * y1 % _QM  # B = Y^2
    c0, c1 = (b0 + b1) * (b0 - b1) % _QM, 2 * b0 * b1 % _QM  # C = B^2
    d0, d1 = 4 * (x0 * b0 - x1 * b1) % _QM, 4 * (x0 * b1 + x1 * b0) % _QM  # D = 4 X B
    e0, e1 = 3 * a0, 3 * a1  # E = 3A
    x30 = ((e0 + e1) * (e0 - e1) - 2 * d0) % _QM  # X3 = E^2 - 2D
    x31 = (2 * e0 * e1 - 2 * d1) % _QM
    f0, f1 = d0 - x30, d1 - x31
    y30 = (e0 * f0 - e1 * f1 - 8 * c0) % _QM  # Y3 = E (D - X3) - 8C
    y31 = (e0 * f1 + e1 * f0 - 8 * c1) % _QM
    z30 = 2 * (y0 * z0 - y1 * z1) % _QM  # Z3 = 2 Y Z
    z31 = 2 * (y0 * z1 + y1 * z0) % _QM
    return ((x30, x31), (y30, y31), (z30, z31))


def g2_jacobian_add(p: G2Jacobian, q: G2Jacobian) -> G2Jacobian:
    """P + Q in Jacobian coordinates over Fq2 ("add-2007-bl" shape); handles doubling and inverses."""
    (x10, x11), (y10, y11), (z10, z11) = p
    (x20, x21), (y20, y21), (z20, z21) = q
    if z10 == 0 and z11 == 0:
        return q
    if z20 == 0 and z21 == 0:
        return p
    m = _QM
    a0, a1 = (z10 + z11) * (z10 - z11) % m, 2 * z10 * z11 % m  # Z1^2
    b0, b1 = (z20 + z21) * (z20 - z21) % m, 2 * z20 * z21 % m  # Z2^2
    u10, u11 = (x10 * b0 - x11 * b1) % m, (x10 * b1 + x11 * b0) % m  # U1 = X1 Z2^2
    u20, u21 = (x20 * a0 - x21 * a1) % m, (x20 * a1 + x21 * a0) % m  # U2 = X2 Z1^2
    c0, c1 = (z20 * b0 - z21 * b1) % m, (z20 * b1 + z21 * b0) % m  # Z2^3
    d0, d1 = (z10 * a0 - z11 * a1) % m, (z10 * a1 + z11 * a0) % m  # Z1^3
    s10, s11 = (y10 * c0 - y11 * c1) % m, (y10 * c1 + y11 * c0) % m  # S1 = Y1 Z2^3
    s20, s21 = (y20 * d0 - y21 * d1) % m, (y20 * d1 + y21 * d0) % m  # S2 = Y2 Z1^3
    h0, h1 = (u20 - u10) % m, (u21 - u11) % m
    r0, r1 = (s20 - s10) % m, (s21 - s11) % m
    if h0 == 0 and h1 == 0:
        if r0 == 0 and r1 == 0:
            return g2_jacobian_double(p)
        return G2_JACOBIAN_INFINITY
    hh0, hh1 = (h0 + h1) * (h0 - h1) % m, 2 * h0 * h1 % m  # H^2
    hhh0, hhh1 = (h0 * hh0 - h1 * hh1) % m, (h0 * hh1 + h1 * hh0) % m  # H^3
    v0, v1 = (u10 * hh0 - u11 * hh1) % m, (u10 * hh1 + u11 * hh0) % m  # V = U1 H^2
    x30 = ((r0 + r1) * (r0 - r1) - hhh0 - 2 * v0) % m  # X3 = R^2 - H^3 - 2V
    x31 = (2 * r0 * r1 - hhh1 - 2 * v1) % m
    w0, w1 = v0 - x30, v1 - x31
    y30 = (r0 * w0 - r1 * w1 - (s10 * hhh0 - s11 * hhh1)) % m  # Y3 = R (V - X3) - S1 H^3
    y31 = (r0 * w1 + r1 * w0 - (s10 * hhh1 + s11 * hhh0)) % m
    e0, e1 = (z10 * z20 - z11 * z21) % m, (z10 * z21 + z11 * z20) % m
    z30, z31 = (e0 * h0 - e1 * h1) % m, (e0 * h1 + e1 * h0) % m  # Z3 = Z1 Z2 H
    return ((x30, x31), (y30, y31), (z30, z31))


def g2_neg(p: G2 | None) -> G2 | None:
    """-P = (x, -y)."""
    if p is None:
        return None
    return (p[0], fq2_neg(p[1]))


def g2_add(p: G2 | None, q: G2 | None) -> G2 | None:
    """P + Q for affine G2 points (one Fq2 inversion)."""
    return g2_from_jacobian(g2_jacobian_add(g2_to_jacobian(p), g2_to_jacobian(q)))


def g2_double(p: G2 | None) -> G2 | None:
    """2P for an affine G2 point."""
    return g2_from_jacobian(g2_jacobian_double(g2_to_jacobian(p)))


def g2_jacobian_mul(p: G2 | None, k: int) -> G2Jacobian:
    """[k]P in Jacobian form for any point P on the twist and any int k >= 0, *not* reduced mod r.

    Not reducing keeps the result right for points outside G2, which the subgroup checks rely on.
    Negative k multiplies -P by -k. Width-5 wNAF: log2(k) doublings and about log2(k)/6 additions.
    """
    k = _check_scalar(k)
    if k < 0:
        return g2_jacobian_mul(g2_neg(p), -k)
    if p is None or k == 0:
        return G2_JACOBIAN_INFINITY
    (px0, px1), (py0, py1) = p
    base = ((mpz(px0), mpz(px1)), (mpz(py0), mpz(py1)), (mpz(1), mpz(0)))
    twice = g2_jacobian_double(base)
    odd = [base]
    for _ in range(7):
        odd.append(g2_jacobian_add(odd[-1], twice))
    negs = [(x, ((-y[0]) % _QM, (-y[1]) % _QM), z) for x, y, z in odd]
    acc = G2_JACOBIAN_INFINITY
    for d in reversed(wnaf(k, 5)):
        acc = g2_jacobian_double(acc)
        if d > 0:
            acc = g2_jacobian_add(acc, odd[d >> 1])
        elif d < 0:
            acc = g2_jacobian_add(acc, negs[(-d) >> 1])
    return acc


def g2_mul(p: G2 | None, k: int) -> G2 | None:
    """[k]P for an affine point on the twist. For P in G2 the result only depends on k mod r; the scalar is
    not reduced, so callers wanting speed for large k should reduce it themselves."""
    return g2_from_jacobian(g2_jacobian_mul(p, k))


# Frobenius twisted back onto E': psi(x, y) = (conj(x) * xi^((q-1)/3), conj(y) * xi^((q-1)/2)).
# On G2, psi acts as multiplication by q (the untwist-Frobenius-twist endomorphism, Galbraith-Scott 2008).
PSI_COEFF_X: Final[Fq2] = fq2_pow(XI, (Q - 1) // 3)
PSI_COEFF_Y: Final[Fq2] = fq2_pow(XI, (Q - 1) // 2)


def g2_psi(p: G2 | None) -> G2 | None:
    """The endomorphism psi = twist . Frobenius . untwist on E'(Fq2). Two Fq2 multiplications."""
    if p is None:
        return None
    x, y = p
    return (fq2_mul(fq2_conj(x), PSI_COEFF_X), fq2_mul(fq2_conj(y), PSI_COEFF_Y))


#: 6x^2: on G2, psi(P) = [q]P = [6x^2]P because q = r + 6x^2.
SIX_X_SQUARED: Final[int] = 6 * BN_X * BN_X


def g2_in_subgroup(p: G2 | None) -> bool:
    """True if ``p`` (assumed on the twist) lies in G2, the r-torsion.

    Uses psi(P) == [6x^2]P: El Housni, Guillevic and Piellard, "Co-factor clearing and subgroup membership
    testing on pairing-friendly curves" (AFRICACRYPT 2022, eprint 2022/352), BN curves; a 127-bit scalar
    multiplication instead of the 254-bit [r]P. tests/test_bn254.py checks it agrees with
    :func:`g2_in_subgroup_slow` on points of every cofactor component.

    Why it suffices here: psi satisfies psi^2 - t psi + q = 0 with t = 6x^2 + 1. The cofactor c2 is squarefree
    and coprime to r, so E'(Fq2) = G2 x C with C cyclic of order c2, and psi acts on each prime-order part of C
    (order l) as a root mu of X^2 - tX + q mod l. 6x^2 is a root only if l divides
    (6x^2)^2 - t 6x^2 + q = q - 6x^2 = r, which no l | c2 does; hence psi(P) = [6x^2]P forces the C part to 0.
    """
    if p is None:
        return True
    lhs = g2_psi(p)
    rhs = g2_mul(p, SIX_X_SQUARED)
    return lhs == rhs


def g2_in_subgroup_slow(p: G2 | None) -> bool:
    """Reference subgroup check: [r]P == O. About twice the cost of :func:`g2_in_subgroup`."""
    if p is None:
        return True
    return fq2_is_zero(g2_jacobian_mul(p, R)[2])


# --------------------------------------------------------------------------- validation (typed errors)


def _parse_coordinate(value: object, what: str) -> int:
    """Canonical integer in [0, q) from an int or decimal string. x + q or negatives are non-canonical."""
    try:
        return parse_canonical_int(value, Q, what=what)
    except FieldRangeError as exc:
        raise NonCanonicalEncodingError(f"{what}: coordinate is not in [0, q)") from exc


def _parse_fq2(value: object, what: str) -> Fq2:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise FieldTypeError(f"{what}: an Fq2 coordinate is a pair (c0, c1)")
    return (_parse_coordinate(value[0], f"{what}.c0"), _parse_coordinate(value[1], f"{what}.c1"))


def validate_g1(x: object, y: object, *, allow_infinity: bool = False) -> G1 | None:
    """Parse and check an affine G1 point; return it, or ``None`` for the identity if allowed.

    Enforces, in this order: each coordinate is an int (not bool) or canonical decimal string
    (:class:`FieldTypeError` / :class:`NonCanonicalEncodingError`) with value in [0, q)
    (:class:`NonCanonicalEncodingError`); (0, 0), the EIP-196 encoding of the identity, raises
    :class:`PointAtInfinityError` unless ``allow_infinity``; y^2 = x^3 + 3 else :class:`PointNotOnCurveError`.
    G1 has cofactor 1, so no subgroup check is needed. Cost: a few multiplications.
    """
    px = _parse_coordinate(x, "G1.x")
    py = _parse_coordinate(y, "G1.y")
    if px == 0 and py == 0:
        if allow_infinity:
            return None
        raise PointAtInfinityError("G1 point is the identity (0, 0)")
    point = (px, py)
    if not g1_is_on_curve(point):
        raise PointNotOnCurveError("G1 point is not on y^2 = x^3 + 3")
    return point


def validate_g2(x: object, y: object, *, allow_infinity: bool = False) -> G2 | None:
    """Parse and check an affine G2 point given as two Fq2 pairs (real part first).

    Enforces everything :func:`validate_g1` does (on the twist y^2 = x^3 + 3/(9+u)), then membership of the
    order-r subgroup, else :class:`PointNotInSubgroupError` (EIP-197 requires it; docs/security.md G4).
    Cost: one 127-bit G2 scalar multiplication (about 1-3 ms).
    """
    px = _parse_fq2(x, "G2.x")
    py = _parse_fq2(y, "G2.y")
    if fq2_is_zero(px) and fq2_is_zero(py):
        if allow_infinity:
            return None
        raise PointAtInfinityError("G2 point is the identity (0, 0)")
    point = (px, py)
    if not g2_is_on_curve(point):
        raise PointNotOnCurveError("G2 point is not on the twist y^2 = x^3 + 3/(9+u)")
    if not g2_in_subgroup(point):
        raise PointNotInSubgroupError("G2 point is on the twist but not in the order-r subgroup")
    return point


# --------------------------------------------------------------------------- EIP-196 / EIP-197 byte encodings


def _word(data: bytes, index: int) -> int:
    return int.from_bytes(data[32 * index : 32 * index + 32], "big")


def _check_length(data: object, length: int, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FieldTypeError(f"{what}: expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) != length:
        raise EncodingError(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def g1_from_bytes64(data: bytes, *, allow_infinity: bool = False) -> G1 | None:
    """Decode EIP-196's 64-byte big-endian (x, y) and validate it as :func:`validate_g1` does.

    A wrong length raises :class:`EncodingError`. (0, 0) is the identity (allowed only with ``allow_infinity``).
    """
    raw = _check_length(data, 64, "G1 encoding")
    return validate_g1(_word(raw, 0), _word(raw, 1), allow_infinity=allow_infinity)


def g1_to_bytes64(p: G1 | None) -> bytes:
    """EIP-196 encoding of an affine G1 point; the identity is 64 zero bytes."""
    if p is None:
        return bytes(64)
    return int(p[0]).to_bytes(32, "big") + int(p[1]).to_bytes(32, "big")


def g2_from_bytes128(data: bytes, *, allow_infinity: bool = False) -> G2 | None:
    """Decode EIP-197's 128 bytes (x_im, x_re, y_im, y_re) and validate as :func:`validate_g2` does.

    EIP-197: "the imaginary part first". A wrong length raises :class:`EncodingError`.
    """
    raw = _check_length(data, 128, "G2 encoding")
    x = (_word(raw, 1), _word(raw, 0))
    y = (_word(raw, 3), _word(raw, 2))
    return validate_g2(x, y, allow_infinity=allow_infinity)


def g2_to_bytes128(p: G2 | None) -> bytes:
    """EIP-197 encoding (x_im, x_re, y_im, y_re) of an affine G2 point; the identity is 128 zero bytes."""
    if p is None:
        return bytes(128)
    (x0, x1), (y0, y1) = p
    return b"".join(int(v).to_bytes(32, "big") for v in (x1, x0, y1, y0))


def decode_pairing_input(data: bytes) -> list[tuple[G1 | None, G2 | None]]:
    """Decode the input of the EIP-197 pairing precompile: k blocks of 192 bytes, each G1 (64) then G2 (128).

    Identity encodings are allowed, as in EIP-197. A length that is not a multiple of 192 raises
    :class:`EncodingError`; each point is validated (range, curve, G2 subgroup) with the typed errors above.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FieldTypeError(f"pairing input: expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) % 192:
        raise EncodingError(f"pairing input length {len(raw)} is not a multiple of 192")
    pairs: list[tuple[G1 | None, G2 | None]] = []
    for offset in range(0, len(raw), 192):
        p = g1_from_bytes64(raw[offset : offset + 64], allow_infinity=True)
        q = g2_from_bytes128(raw[offset + 64 : offset + 192], allow_infinity=True)
        pairs.append((p, q))
    return pairs
