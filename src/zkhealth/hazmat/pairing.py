"""The optimal ate pairing on BN254, written for speed in plain Python (and faster still with gmpy2).

Tower (as in arkworks and gnark; py_ecc's bn128 works over Fq with the same w):

    Fq2  = Fq[u]  / (u^2 + 1)
    Fq6  = Fq2[v] / (v^3 - xi),  xi = 9 + u
    Fq12 = Fq6[w] / (w^2 - v)     so w^6 = xi and, over Fq, w^12 - 18 w^6 + 82 = 0 (py_ecc's modulus)

An Fq12 element is a flat tuple of 12 ints ``(a0, a1, ..., a11)``: ``f = F0 + F1 w`` with
``F0 = (a0 + a1 u) + (a2 + a3 u) v + (a4 + a5 u) v^2`` and ``F1`` likewise from ``a6..a11``. Flat tuples let the
hot functions unpack into locals and postpone every reduction mod q to the end of an Fq12 operation
("lazy reduction": one ``%`` per output coefficient). With gmpy2 the low-level ``fq12_*`` functions return
``mpz`` components (compare them with ``==`` or :func:`fq12_eq`, convert with :func:`fq12_to_ints`);
:func:`pairing`, :func:`multi_pairing`, :func:`miller_loop`, :func:`final_exponentiation` and :func:`fq12_pow`
always return plain ``int`` tuples.

Pairing: e(P, Q) = (f_{6x+2,Q}(P) * l_{T,pi(Q)}(P) * l_{T+pi(Q),-pi^2(Q)}(P))^(m (q^12 - 1)/r), T = [6x+2]Q,
with the fixed m of :func:`final_exponentiation`. Vercauteren, "Optimal pairings" (IEEE TIT 2010) for the loop;
lines in homogeneous projective coordinates from Costello, Lange and Naehrig (PKC 2010) in the form of Aranha,
Barreto, Longa and Ricardini, "The realm of the pairings" (eprint 2013/722, eqs. 3 and 4).

Hazmat: every function here assumes its G1 inputs are on the curve and its G2 inputs are in G2 (validate with
:func:`zkhealth.hazmat.bn254.validate_g1` / :func:`~zkhealth.hazmat.bn254.validate_g2` first). A point outside G2
gives a meaningless result, never an error. ``None`` (the identity) is accepted and contributes the factor 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from zkhealth._bigint import mpz
from zkhealth.hazmat.bn254 import (
    BN_X,
    G1,
    G2,
    PSI_COEFF_X,
    PSI_COEFF_Y,
    TWIST_B,
    XI,
    Fq2,
    Q,
    decode_pairing_input,
    fq2_conj,
    fq2_inv,
    fq2_mul,
    fq2_pow,
    square_and_multiply,
    wnaf,
)

#: Flat Fq12 element (12 ints, layout in the module docstring).
Fq12: TypeAlias = tuple[Any, ...]
#: One line of the Miller loop before evaluation at P: (c0, c3, c4) as six ints; evaluated, it is
#: c0 * yP + (c3 * xP) w + c4 w^3 ("mul_by_034": it fills Fq2 slots 0, 3 and 4 of the 6 Fq2 slots).
LineCoeffs: TypeAlias = tuple[Any, Any, Any, Any, Any, Any]

_Q: Final[Any] = mpz(Q)


#: Ate loop count 6x + 2 for BN curves with x > 0, in NAF (66 digits, 22 non-zero), least significant first.
ATE_LOOP_COUNT: Final[int] = 6 * BN_X + 2
ATE_LOOP_NAF: Final[tuple[int, ...]] = tuple(wnaf(ATE_LOOP_COUNT, 2))
#: NAF of x for the exponentiations by x in the hard part (63 digits, 24 non-zero), least significant first.
BN_X_NAF: Final[tuple[int, ...]] = tuple(wnaf(BN_X, 2))

# --------------------------------------------------------------------------- Fq12 arithmetic (flat, lazy reduction

FQ12_ONE: Final[Fq12] = (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def fq12_one() -> Fq12:
    """The neutral element 1 of Fq12 (and of GT)."""
    return FQ12_ONE


def _fq6_mul(
    a0: Any, a1: Any, a2: Any, a3: Any, a4: Any, a5: Any, b0: Any, b1: Any, b2: Any, b3: Any, b4: Any, b5: Any
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Unreduced product of two Fq6 elements (A0 + A1 v + A2 v^2 with Ai = (a_{2i}, a_{2i+1})).

    Karatsuba over the cubic extension (6 Fq2 products, each schoolbook with 4 Fq products):
    c0 = t0 + xi((A1+A2)(B1+B2) - t1 - t2), c1 = (A0+A1)(B0+B1) - t0 - t1 + xi t2,
    c2 = (A0+A2)(B0+B2) - t0 - t2 + t1, with ti = Ai Bi. Inputs may be unreduced but small (a few multiples of q).
    """
    t0r = a0 * b0 - a1 * b1
    t0i = a0 * b1 + a1 * b0
    t1r = a2 * b2 - a3 * b3
    t1i = a2 * b3 + a3 * b2
    t2r = a4 * b4 - a5 * b5
    t2i = a4 * b5 + a5 * b4
    x0 = a2 + a4
    x1 = a3 + a5
    y0 = b2 + b4
    y1 = b3 + b5
    mr = x0 * y0 - x1 * y1 - t1r - t2r
    mi = x0 * y1 + x1 * y0 - t1i - t2i
    x0 = a0 + a2
    x1 = a1 + a3
    y0 = b0 + b2
    y1 = b1 + b3
    c1r = x0 * y0 - x1 * y1 - t0r - t1r + 9 * t2r - t2i
    c1i = x0 * y1 + x1 * y0 - t0i - t1i + t2r + 9 * t2i
    x0 = a0 + a4
    x1 = a1 + a5
    y0 = b0 + b4
    y1 = b1 + b5
    c2r = x0 * y0 - x1 * y1 - t0r - t2r + t1r
    c2i = x0 * y1 + x1 * y0 - t0i - t2i + t1i
    return (t0r + 9 * mr - mi, t0i + mr + 9 * mi, c1r, c1i, c2r, c2i)


def fq12_mul(f: Fq12, g: Fq12) -> Fq12:
    """f * g in Fq12: Karatsuba over Fq6 (3 Fq6 products = 18 Fq2 = 72 Fq multiplications, 12 reductions).

    (F0 + F1 w)(G0 + G1 w) = (t0 + v t1) + ((F0 + F1)(G0 + G1) - t0 - t1) w, ti = Fi Gi.
    """
    f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11 = f
    g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 = g
    t0 = _fq6_mul(f0, f1, f2, f3, f4, f5, g0, g1, g2, g3, g4, g5)
    t1 = _fq6_mul(f6, f7, f8, f9, f10, f11, g6, g7, g8, g9, g10, g11)
    s = _fq6_mul(
        f0 + f6, f1 + f7, f2 + f8, f3 + f9, f4 + f10, f5 + f11,
        g0 + g6, g1 + g7, g2 + g8, g3 + g9, g4 + g10, g5 + g11,
    )  # fmt: skip
    q = _Q
    return (
        (t0[0] + 9 * t1[4] - t1[5]) % q,  # v * t1 = (xi t1_2, t1_0, t1_1)
        (t0[1] + t1[4] + 9 * t1[5]) % q,
        (t0[2] + t1[0]) % q,
        (t0[3] + t1[1]) % q,
        (t0[4] + t1[2]) % q,
        (t0[5] + t1[3]) % q,
        (s[0] - t0[0] - t1[0]) % q,
        (s[1] - t0[1] - t1[1]) % q,
        (s[2] - t0[2] - t1[2]) % q,
        (s[3] - t0[3] - t1[3]) % q,
        (s[4] - t0[4] - t1[4]) % q,
        (s[5] - t0[5] - t1[5]) % q,
    )


def fq12_sqr(f: Fq12) -> Fq12:
    """f^2 in Fq12 by the complex method: c1 = 2 F0 F1, c0 = (F0 + F1)(F0 + v F1) - F0 F1 - v F0 F1.

    Two Fq6 products (12 Fq2 products). Works for any f; see :func:`fq12_cyclotomic_sqr` for the faster
    squaring of unitary elements.
    """
    f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11 = f
    ab = _fq6_mul(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11)
    # F0 + v F1 with v F1 = (xi F1_2, F1_0, F1_1)
    s = _fq6_mul(
        f0 + f6, f1 + f7, f2 + f8, f3 + f9, f4 + f10, f5 + f11,
        f0 + 9 * f10 - f11, f1 + f10 + 9 * f11, f2 + f6, f3 + f7, f4 + f8, f5 + f9,
    )  # fmt: skip
    ab0, ab1, ab2, ab3, ab4, ab5 = ab
    q = _Q
    return (
        (s[0] - ab0 - 9 * ab4 + ab5) % q,
        (s[1] - ab1 - ab4 - 9 * ab5) % q,
        (s[2] - ab2 - ab0) % q,
        (s[3] - ab3 - ab1) % q,
        (s[4] - ab4 - ab2) % q,
        (s[5] - ab5 - ab3) % q,
        2 * ab0 % q,
        2 * ab1 % q,
        2 * ab2 % q,
        2 * ab3 % q,
        2 * ab4 % q,
        2 * ab5 % q,
    )


def fq12_mul_by_034(f: Fq12, c0: Fq2, c3: Fq2, c4: Fq2) -> Fq12:
    """f * (c0 + c3 w + c4 w^3): multiplication by a sparse Miller-loop line (D-type twist).

    With F0 = (A0, A1, A2), F1 = (B0, B1, B2) and the line L = L0 + L1 w, L0 = (c0, 0, 0), L1 = (c3, c4, 0):
    t0 = F0 c0 (3 Fq2 products), t1 = F1 L1 (6), s = (F0 + F1)(c0 + c3, c4, 0) (6);
    result (t0 + v t1) + (s - t0 - t1) w. 15 Fq2 products instead of 18 for a dense product.
    """
    a0, a1, a2, a3, a4, a5, b0, b1, b2, b3, b4, b5 = f
    c00, c01 = c0
    c30, c31 = c3
    c40, c41 = c4
    # t0 = F0 * c0
    t00 = a0 * c00 - a1 * c01
    t01 = a0 * c01 + a1 * c00
    t02 = a2 * c00 - a3 * c01
    t03 = a2 * c01 + a3 * c00
    t04 = a4 * c00 - a5 * c01
    t05 = a4 * c01 + a5 * c00
    # t1 = F1 * (c3 + c4 v) = (B0 c3 + xi B2 c4, B1 c3 + B0 c4, B2 c3 + B1 c4)
    xr = b4 * c40 - b5 * c41
    xi_ = b4 * c41 + b5 * c40
    t10 = b0 * c30 - b1 * c31 + 9 * xr - xi_
    t11 = b0 * c31 + b1 * c30 + xr + 9 * xi_
    t12 = b2 * c30 - b3 * c31 + b0 * c40 - b1 * c41
    t13 = b2 * c31 + b3 * c30 + b0 * c41 + b1 * c40
    t14 = b4 * c30 - b5 * c31 + b2 * c40 - b3 * c41
    t15 = b4 * c31 + b5 * c30 + b2 * c41 + b3 * c40
    # s = (F0 + F1) * ((c0 + c3) + c4 v)
    d0 = a0 + b0
    d1 = a1 + b1
    d2 = a2 + b2
    d3 = a3 + b3
    d4 = a4 + b4
    d5 = a5 + b5
    e0 = c00 + c30
    e1 = c01 + c31
    xr = d4 * c40 - d5 * c41
    xi_ = d4 * c41 + d5 * c40
    s0 = d0 * e0 - d1 * e1 + 9 * xr - xi_
    s1 = d0 * e1 + d1 * e0 + xr + 9 * xi_
    s2 = d2 * e0 - d3 * e1 + d0 * c40 - d1 * c41
    s3 = d2 * e1 + d3 * e0 + d0 * c41 + d1 * c40
    s4 = d4 * e0 - d5 * e1 + d2 * c40 - d3 * c41
    s5 = d4 * e1 + d5 * e0 + d2 * c41 + d3 * c40
    q = _Q
    return (
        (t00 + 9 * t14 - t15) % q,
        (t01 + t14 + 9 * t15) % q,
        (t02 + t10) % q,
        (t03 + t11) % q,
        (t04 + t12) % q,
        (t05 + t13) % q,
        (s0 - t00 - t10) % q,
        (s1 - t01 - t11) % q,
        (s2 - t02 - t12) % q,
        (s3 - t03 - t13) % q,
        (s4 - t04 - t14) % q,
        (s5 - t05 - t15) % q,
    )


def fq12_conjugate(f: Fq12) -> Fq12:
    """F0 - F1 w, which is f^(q^6); for unitary f (after the easy part) this is f^-1."""
    q = _Q
    return (*f[:6], *((-c) % q for c in f[6:]))


def fq12_to_ints(f: Fq12) -> Fq12:
    """The same element with plain ``int`` components."""
    return tuple(int(c) for c in f)


def fq12_eq(f: Fq12, g: Fq12) -> bool:
    """Equality of two reduced Fq12 elements."""
    return all(a == b for a, b in zip(f, g, strict=True))


def fq12_is_one(f: Fq12) -> bool:
    """True for the element 1."""
    return f[0] == 1 and not any(f[1:])


def _fq6_tuple_mul(a: tuple[Fq2, Fq2, Fq2], b: tuple[Fq2, Fq2, Fq2]) -> tuple[Fq2, Fq2, Fq2]:
    r = _fq6_mul(*a[0], *a[1], *a[2], *b[0], *b[1], *b[2])
    q = _Q
    return ((r[0] % q, r[1] % q), (r[2] % q, r[3] % q), (r[4] % q, r[5] % q))


def _fq2_mul_xi(a: Fq2) -> Fq2:
    return ((9 * a[0] - a[1]) % _Q, (a[0] + 9 * a[1]) % _Q)


def _fq2_sub(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] - b[0]) % _Q, (a[1] - b[1]) % _Q)


def _fq6_inv(a: tuple[Fq2, Fq2, Fq2]) -> tuple[Fq2, Fq2, Fq2]:
    """Inverse in Fq6 via the adjugate: one Fq2 inversion (e.g. Beuchat et al., Pairing 2010, Alg. 17)."""
    a0, a1, a2 = a
    t0 = _fq2_sub(fq2_mul(a0, a0), _fq2_mul_xi(fq2_mul(a1, a2)))
    t1 = _fq2_sub(_fq2_mul_xi(fq2_mul(a2, a2)), fq2_mul(a0, a1))
    t2 = _fq2_sub(fq2_mul(a1, a1), fq2_mul(a0, a2))
    norm = fq2_mul(a0, t0)
    rest = _fq2_mul_xi(((fq2_mul(a2, t1)[0] + fq2_mul(a1, t2)[0]), (fq2_mul(a2, t1)[1] + fq2_mul(a1, t2)[1])))
    inv = fq2_inv(((norm[0] + rest[0]) % _Q, (norm[1] + rest[1]) % _Q))
    return (fq2_mul(t0, inv), fq2_mul(t1, inv), fq2_mul(t2, inv))


def fq12_inv(f: Fq12) -> Fq12:
    """f^-1 = (F0 - F1 w) / (F0^2 - v F1^2). One Fq inversion; raises :class:`FieldRangeError` for 0."""
    f0 = ((f[0], f[1]), (f[2], f[3]), (f[4], f[5]))
    f1 = ((f[6], f[7]), (f[8], f[9]), (f[10], f[11]))
    s0 = _fq6_tuple_mul(f0, f0)
    s1 = _fq6_tuple_mul(f1, f1)
    v_s1 = (_fq2_mul_xi(s1[2]), s1[0], s1[1])
    d = (_fq2_sub(s0[0], v_s1[0]), _fq2_sub(s0[1], v_s1[1]), _fq2_sub(s0[2], v_s1[2]))
    d_inv = _fq6_inv(d)
    c0 = _fq6_tuple_mul(f0, d_inv)
    c1 = _fq6_tuple_mul(f1, d_inv)
    q = _Q
    return (*c0[0], *c0[1], *c0[2], *((-x) % q for x in (*c1[0], *c1[1], *c1[2])))


# Frobenius coefficients gamma_k_i = xi^(i (q^k - 1) / 6) for the coefficient of w^i, i = 0..5: since
# w^(q^k) = w * (w^6)^((q^k - 1)/6) = w * xi^((q^k - 1)/6). Computed once at import (a few ms).
def _frobenius_coefficients(power: int) -> tuple[Fq2, ...]:
    base = fq2_pow(XI, (Q**power - 1) // 6)
    coeffs: list[Fq2] = [(1, 0)]
    for _ in range(5):
        coeffs.append(fq2_mul(coeffs[-1], base))
    return tuple(coeffs)


GAMMA_1: Final[tuple[Fq2, ...]] = _frobenius_coefficients(1)
GAMMA_2: Final[tuple[Fq2, ...]] = _frobenius_coefficients(2)
GAMMA_3: Final[tuple[Fq2, ...]] = _frobenius_coefficients(3)
# the same constants as backend integers (mixing gmpy2 mpz with large Python ints converts on every product)
_GAMMAS: Final[dict[int, tuple[tuple[Any, Any], ...]]] = {
    power: tuple((mpz(c0), mpz(c1)) for c0, c1 in gammas)
    for power, gammas in ((1, GAMMA_1), (2, GAMMA_2), (3, GAMMA_3))
}
# Slot (in Fq2 pairs of the flat layout) holding the coefficient of w^i: 1, v=w^2, v^2=w^4 | w, vw=w^3, v^2w=w^5.
_SLOT_OF_W_POWER: Final[tuple[int, ...]] = (0, 3, 1, 4, 2, 5)


def fq12_frobenius(f: Fq12, power: int = 1) -> Fq12:
    """f^(q^power) for any power >= 0 (taken mod 12, the order of Frobenius on Fq12).

    For power 1, 2, 3: conjugate each Fq2 coefficient (odd powers) and multiply the coefficient of w^i by
    gamma_power_i, 6 Fq2 multiplications; other powers compose these.
    """
    power %= 12
    if power == 0:
        return f
    if power > 3:
        return fq12_frobenius(fq12_frobenius(f, 3), power - 3)
    gammas = _GAMMAS[power]
    odd = power & 1
    q = _Q
    out: list[Any] = [0] * 12
    for i in range(6):
        slot = _SLOT_OF_W_POWER[i]
        c0, c1 = f[2 * slot], f[2 * slot + 1]
        if odd:
            c1 = -c1
        g0, g1 = gammas[i]
        out[2 * slot] = (c0 * g0 - c1 * g1) % q
        out[2 * slot + 1] = (c0 * g1 + c1 * g0) % q
    return tuple(out)


def fq12_cyclotomic_sqr(f: Fq12) -> Fq12:
    """f^2 for f in the cyclotomic subgroup (f^(q^6 + 1) = 1, true after the easy part of the final exp).

    Granger and Scott, "Faster squaring in the cyclotomic subgroup of sixth degree extensions" (PKC 2010),
    over Fq4 = Fq2[s]/(s^2 - xi), s = w^3, and Fq12 = Fq4[w]/(w^3 - s): with f = X0 + X1 w + X2 w^2,
    f^2 = (3 X0^2 - 2 conj(X0)) + (3 s X2^2 + 2 conj(X1)) w + (3 X1^2 - 2 conj(X2)) w^2, conj(a + b s) = a - b s.
    Three Fq4 squarings (9 Fq2 squarings' worth), about half of :func:`fq12_sqr`.
    """
    # coefficient of w^i: g0 (slot 0), g1 (3), g2 (1), g3 (4), g4 (2), g5 (5)
    g00, g01, g20, g21, g40, g41, g10, g11, g30, g31, g50, g51 = f
    # X0 = g0 + g3 s: X0^2 = (g0^2 + xi g3^2) + 2 g0 g3 s
    a0 = (g00 + g01) * (g00 - g01)
    a1 = 2 * g00 * g01
    b0 = (g30 + g31) * (g30 - g31)
    b1 = 2 * g30 * g31
    x0a0 = a0 + 9 * b0 - b1
    x0a1 = a1 + b0 + 9 * b1
    x0b0 = 2 * (g00 * g30 - g01 * g31)
    x0b1 = 2 * (g00 * g31 + g01 * g30)
    # X1 = g1 + g4 s
    a0 = (g10 + g11) * (g10 - g11)
    a1 = 2 * g10 * g11
    b0 = (g40 + g41) * (g40 - g41)
    b1 = 2 * g40 * g41
    x1a0 = a0 + 9 * b0 - b1
    x1a1 = a1 + b0 + 9 * b1
    x1b0 = 2 * (g10 * g40 - g11 * g41)
    x1b1 = 2 * (g10 * g41 + g11 * g40)
    # X2 = g2 + g5 s
    a0 = (g20 + g21) * (g20 - g21)
    a1 = 2 * g20 * g21
    b0 = (g50 + g51) * (g50 - g51)
    b1 = 2 * g50 * g51
    x2a0 = a0 + 9 * b0 - b1
    x2a1 = a1 + b0 + 9 * b1
    x2b0 = 2 * (g20 * g50 - g21 * g51)
    x2b1 = 2 * (g20 * g51 + g21 * g50)
    q = _Q
    return (
        (3 * x0a0 - 2 * g00) % q,  # new g0
        (3 * x0a1 - 2 * g01) % q,
        (3 * x1a0 - 2 * g20) % q,  # new g2 = (3 X1^2 - 2 conj X2).a
        (3 * x1a1 - 2 * g21) % q,
        (3 * x2a0 - 2 * g40) % q,  # new g4 = (3 s X2^2 + 2 conj X1).b = 3 (X2^2).a - 2 g4
        (3 * x2a1 - 2 * g41) % q,
        (3 * (9 * x2b0 - x2b1) + 2 * g10) % q,  # new g1 = 3 xi (X2^2).b + 2 g1
        (3 * (x2b0 + 9 * x2b1) + 2 * g11) % q,
        (3 * x0b0 + 2 * g30) % q,  # new g3 = 3 (X0^2).b + 2 g3
        (3 * x0b1 + 2 * g31) % q,
        (3 * x1b0 + 2 * g50) % q,  # new g5 = 3 (X1^2).b + 2 g5
        (3 * x1b1 + 2 * g51) % q,
    )


def _cyclotomic_exp_by_x(f: Fq12) -> Fq12:
    """f^x for unitary f: NAF of x, 62 cyclotomic squarings and 23 multiplications (conjugate = inverse)."""
    f_inv = fq12_conjugate(f)
    acc = f
    for digit in reversed(BN_X_NAF[:-1]):
        acc = fq12_cyclotomic_sqr(acc)
        if digit == 1:
            acc = fq12_mul(acc, f)
        elif digit == -1:
            acc = fq12_mul(acc, f_inv)
    return acc


def final_exponentiation(f: Fq12) -> Fq12:
    """f^(m (q^12 - 1)/r) with the fixed m = 2x(6x^2 + 3x + 1), coprime to r.

    Easy part f^((q^6 - 1)(q^2 + 1)) with one inversion and a Frobenius. Hard part: Fuentes-Castaneda, Knapp and
    Rodriguez-Henriquez, "Faster hashing to G2" (SAC 2011), which raises to
    m (q^4 - q^2 + 1)/r = l0 + l1 q + l2 q^2 + l3 q^3 with
    l0 = 12x^3 + 12x^2 + 6x + 1, l1 = 12x^3 + 6x^2 + 4x, l2 = 12x^3 + 6x^2 + 6x, l3 = 12x^3 + 6x^2 + 4x - 1,
    using three exponentiations by x. The same m is used by arkworks, gnark and the EVM clients, and
    ``result == 1`` is unaffected by it. Cost: about 190 cyclotomic squarings and 80 multiplications.
    """
    # easy part: f^(q^6 - 1) = conj(f) / f, then ^(q^2 + 1)
    f = fq12_mul(fq12_conjugate(f), fq12_inv(f))
    f = fq12_mul(fq12_frobenius(f, 2), f)
    # hard part; f is now unitary, so inverses are conjugates
    fx = _cyclotomic_exp_by_x(f)  # f^x
    f2x = fq12_cyclotomic_sqr(fx)  # f^2x
    f4x = fq12_cyclotomic_sqr(f2x)  # f^4x
    f6x = fq12_mul(f4x, f2x)  # f^6x
    f6x2 = _cyclotomic_exp_by_x(f6x)  # f^6x^2
    f12x2 = fq12_cyclotomic_sqr(f6x2)  # f^12x^2
    f12x3 = _cyclotomic_exp_by_x(f12x2)  # f^12x^3
    a = fq12_mul(f12x3, f6x2)  # f^(12x^3 + 6x^2)
    b = fq12_mul(a, f6x)  # f^(12x^3 + 6x^2 + 6x) = f^l2
    c = fq12_mul(b, fq12_conjugate(f2x))  # f^(12x^3 + 6x^2 + 4x) = f^l1
    d = fq12_mul(fq12_mul(b, f6x2), f)  # f^(12x^3 + 12x^2 + 6x + 1) = f^l0
    e = fq12_mul(c, fq12_conjugate(f))  # f^l3
    result = fq12_mul(d, fq12_frobenius(c, 1))
    result = fq12_mul(result, fq12_frobenius(b, 2))
    result = fq12_mul(result, fq12_frobenius(e, 3))
    return tuple(int(x) for x in result)


# --------------------------------------------------------------------------- G2 line precomputation


@dataclass(frozen=True, slots=True)
class G2Prepared:
    """The Miller-loop lines of a fixed G2 point, as arkworks' ``G2Prepared``.

    ``coeffs`` holds one :data:`LineCoeffs` per doubling step, addition step and the two final Frobenius
    additions, in Miller-loop order; they depend only on Q, so a verifier with fixed gamma and delta computes
    them once. ``point`` is the affine point (``None`` for the identity, which then has no coefficients).
    """

    point: G2 | None
    coeffs: tuple[LineCoeffs, ...]

    @property
    def is_infinity(self) -> bool:
        """True for the identity, which contributes 1 to every pairing."""
        return self.point is None


_TWO_INV: Final[Any] = mpz((Q + 1) // 2)
_THREE_B: Final[tuple[Any, Any]] = (mpz(3 * TWIST_B[0] % Q), mpz(3 * TWIST_B[1] % Q))


def _doubling_step(t: list[Any]) -> LineCoeffs:
    """T <- 2T in homogeneous projective coordinates and the tangent line's coefficients.

    Aranha et al. eprint 2013/722, eq. 3 (a = 0, b' = 3/xi): A = XY/2, B = Y^2, C = Z^2, E = 3b'C, F = 3E,
    G = (B + F)/2, H = (Y + Z)^2 - B - C = 2YZ; X3 = A(B - F), Y3 = G^2 - 3E^2, Z3 = BH.
    Line (untwisted to E(Fq12) by (x, y) -> (x w^2, y w^3), scaled by an Fq2 factor that the final
    exponentiation removes): -H yP + 3X^2 xP w + (E - B) w^3.
    """
    q = _Q
    x0, x1, y0, y1, z0, z1 = t
    a0 = (x0 * y0 - x1 * y1) * _TWO_INV % q
    a1 = (x0 * y1 + x1 * y0) * _TWO_INV % q
    b0 = (y0 + y1) * (y0 - y1) % q
    b1 = 2 * y0 * y1 % q
    c0 = (z0 + z1) * (z0 - z1) % q
    c1 = 2 * z0 * z1 % q
    tb0, tb1 = _THREE_B
    e0 = (tb0 * c0 - tb1 * c1) % q
    e1 = (tb0 * c1 + tb1 * c0) % q
    f0 = 3 * e0
    f1 = 3 * e1
    g0 = (b0 + f0) * _TWO_INV % q
    g1 = (b1 + f1) * _TWO_INV % q
    h0 = 2 * (y0 * z0 - y1 * z1) % q
    h1 = 2 * (y0 * z1 + y1 * z0) % q
    j0 = (x0 + x1) * (x0 - x1)  # X^2
    j1 = 2 * x0 * x1
    bf0 = b0 - f0
    bf1 = b1 - f1
    e2r = (e0 + e1) * (e0 - e1)
    e2i = 2 * e0 * e1
    t[0] = (a0 * bf0 - a1 * bf1) % q
    t[1] = (a0 * bf1 + a1 * bf0) % q
    t[2] = ((g0 + g1) * (g0 - g1) - 3 * e2r) % q
    t[3] = (2 * g0 * g1 - 3 * e2i) % q
    t[4] = (b0 * h0 - b1 * h1) % q
    t[5] = (b0 * h1 + b1 * h0) % q
    return ((-h0) % q, (-h1) % q, 3 * j0 % q, 3 * j1 % q, (e0 - b0) % q, (e1 - b1) % q)


def _addition_step(t: list[Any], qx0: Any, qx1: Any, qy0: Any, qy1: Any) -> LineCoeffs:
    """T <- T + Q (Q affine) in homogeneous projective coordinates and the chord's coefficients.

    Aranha et al. eprint 2013/722, eq. 4: theta = Y - yQ Z, lambda = X - xQ Z, C = theta^2, D = lambda^2,
    E = lambda D, F = Z C, G = X D, H = E + F - 2G; X3 = lambda H, Y3 = theta (G - H) - E Y, Z3 = Z E.
    Line: lambda yP - theta xP w + (theta xQ - lambda yQ) w^3.
    """
    q = _Q
    x0, x1, y0, y1, z0, z1 = t
    th0 = (y0 - (qy0 * z0 - qy1 * z1)) % q
    th1 = (y1 - (qy0 * z1 + qy1 * z0)) % q
    la0 = (x0 - (qx0 * z0 - qx1 * z1)) % q
    la1 = (x1 - (qx0 * z1 + qx1 * z0)) % q
    c0 = (th0 + th1) * (th0 - th1) % q
    c1 = 2 * th0 * th1 % q
    d0 = (la0 + la1) * (la0 - la1) % q
    d1 = 2 * la0 * la1 % q
    e0 = (la0 * d0 - la1 * d1) % q
    e1 = (la0 * d1 + la1 * d0) % q
    f0 = (z0 * c0 - z1 * c1) % q
    f1 = (z0 * c1 + z1 * c0) % q
    g0 = (x0 * d0 - x1 * d1) % q
    g1 = (x0 * d1 + x1 * d0) % q
    h0 = (e0 + f0 - 2 * g0) % q
    h1 = (e1 + f1 - 2 * g1) % q
    gh0 = g0 - h0
    gh1 = g1 - h1
    t[0] = (la0 * h0 - la1 * h1) % q
    t[1] = (la0 * h1 + la1 * h0) % q
    t[2] = (th0 * gh0 - th1 * gh1 - (e0 * y0 - e1 * y1)) % q
    t[3] = (th0 * gh1 + th1 * gh0 - (e0 * y1 + e1 * y0)) % q
    t[4] = (z0 * e0 - z1 * e1) % q
    t[5] = (z0 * e1 + z1 * e0) % q
    j0 = (th0 * qx0 - th1 * qx1 - (la0 * qy0 - la1 * qy1)) % q
    j1 = (th0 * qx1 + th1 * qx0 - (la0 * qy1 + la1 * qy0)) % q
    return (la0, la1, (-th0) % q, (-th1) % q, j0, j1)


def prepare_g2(point: G2 | None) -> G2Prepared:
    """Precompute the Miller-loop line coefficients of a G2 point (assumed in G2; not checked here).

    Walks T through the NAF of 6x + 2 from the top digit: a doubling step per digit and an addition step
    (with Q or -Q) per non-zero digit, then the two lines with pi(Q) and -pi^2(Q) (pi = twisted Frobenius).
    Cost: 65 doubling and 23 addition steps, about 2-4 ms; the result is reusable for any G1 point.
    """
    if point is None:
        return G2Prepared(None, ())
    (qx0, qx1), (qy0, qy1) = point
    qx0, qx1, qy0, qy1 = mpz(qx0), mpz(qx1), mpz(qy0), mpz(qy1)
    neg_qy0, neg_qy1 = (-qy0) % _Q, (-qy1) % _Q
    t: list[Any] = [qx0, qx1, qy0, qy1, mpz(1), mpz(0)]
    coeffs: list[LineCoeffs] = []
    for digit in reversed(ATE_LOOP_NAF[:-1]):
        coeffs.append(_doubling_step(t))
        if digit == 1:
            coeffs.append(_addition_step(t, qx0, qx1, qy0, qy1))
        elif digit == -1:
            coeffs.append(_addition_step(t, qx0, qx1, neg_qy0, neg_qy1))
    # Q1 = pi(Q), Q2 = pi^2(Q); add Q1, then -Q2 (Vercauteren's optimal ate for BN, x > 0).
    q1x = fq2_mul(fq2_conj((int(qx0), int(qx1))), PSI_COEFF_X)
    q1y = fq2_mul(fq2_conj((int(qy0), int(qy1))), PSI_COEFF_Y)
    q2x = fq2_mul(fq2_conj(q1x), PSI_COEFF_X)
    q2y = fq2_mul(fq2_conj(q1y), PSI_COEFF_Y)
    coeffs.append(_addition_step(t, mpz(q1x[0]), mpz(q1x[1]), mpz(q1y[0]), mpz(q1y[1])))
    coeffs.append(_addition_step(t, mpz(q2x[0]), mpz(q2x[1]), mpz((-q2y[0]) % Q), mpz((-q2y[1]) % Q)))
    return G2Prepared(point, tuple(coeffs))


# --------------------------------------------------------------------------- Miller loop and pairings


def _as_prepared(q: G2 | G2Prepared | None) -> G2Prepared:
    if isinstance(q, G2Prepared):
        return q
    return prepare_g2(q)


def _miller_loop_raw(pairs: Sequence[tuple[G1 | None, G2 | G2Prepared | None]]) -> Fq12:
    """Multi-Miller loop: prod_i f_i with one shared Fq12 squaring per loop digit."""
    active: list[tuple[Any, Any, tuple[LineCoeffs, ...]]] = []
    for p, q in pairs:
        if p is None or q is None:
            continue
        prepared = _as_prepared(q)
        if prepared.is_infinity:
            continue
        active.append((mpz(p[0]), mpz(p[1]), prepared.coeffs))
    if not active:
        return FQ12_ONE
    qm = _Q
    f: Fq12 = FQ12_ONE
    first = True
    index = 0
    for digit in reversed(ATE_LOOP_NAF[:-1]):
        if not first:
            f = fq12_sqr(f)
        steps = 2 if digit else 1
        for _ in range(steps):
            for xp, yp, coeffs in active:
                c00, c01, c30, c31, c40, c41 = coeffs[index]
                c0 = (c00 * yp % qm, c01 * yp % qm)
                c3 = (c30 * xp % qm, c31 * xp % qm)
                if first:
                    f = (c0[0], c0[1], 0, 0, 0, 0, c3[0], c3[1], c40, c41, 0, 0)
                    first = False
                else:
                    f = fq12_mul_by_034(f, c0, c3, (c40, c41))
            index += 1
    for _ in range(2):
        for xp, yp, coeffs in active:
            c00, c01, c30, c31, c40, c41 = coeffs[index]
            f = fq12_mul_by_034(f, (c00 * yp % qm, c01 * yp % qm), (c30 * xp % qm, c31 * xp % qm), (c40, c41))
        index += 1
    return f


def miller_loop(pairs: Sequence[tuple[G1 | None, G2 | G2Prepared | None]]) -> Fq12:
    """The product of the optimal ate Miller functions f_{6x+2,Q}(P) * (Frobenius lines) over all pairs.

    Pairs with an identity (``None``) on either side are skipped. G2 points may be given prepared.
    Unprepared G2 points cost one :func:`prepare_g2` each. Returns a reduced Fq12 of ints.
    """
    return tuple(int(x) for x in _miller_loop_raw(pairs))


def pairing(p: G1 | None, q: G2 | G2Prepared | None) -> Fq12:
    """e(P, Q) in GT, a subgroup of Fq12* (inputs assumed valid; ``None`` gives 1)."""
    return final_exponentiation(_miller_loop_raw([(p, q)]))


def multi_pairing(
    pairs: Sequence[tuple[G1 | None, G2 | G2Prepared | None]], *, miller_factor: Fq12 | None = None
) -> Fq12:
    """prod_i e(P_i, Q_i) (times FE(miller_factor) if given) with one shared Miller loop and final exp."""
    f = _miller_loop_raw(pairs)
    if miller_factor is not None:
        f = fq12_mul(f, miller_factor)
    return final_exponentiation(f)


def pairing_product_is_one(
    pairs: Sequence[tuple[G1 | None, G2 | G2Prepared | None]], *, miller_factor: Fq12 | None = None
) -> bool:
    """True if prod_i e(P_i, Q_i) == 1 (an empty product is 1, as in EIP-197).

    ``miller_factor`` is an optional Miller-loop value multiplied in before the final exponentiation, e.g.
    ``miller_loop([(g1_neg(alpha), beta)])`` precomputed once, so a Groth16 verifier checks
    e(A, B) e(-alpha, beta) e(-L, gamma) e(-C, delta) == 1 with three pairs in the loop.
    Inputs are assumed validated (on curve, in G2); this function does not check them.
    Cost: about (2 + 1.3 k) ms per k pairs with gmpy2 plus 2-4 ms per unprepared G2 point.
    """
    return fq12_is_one(multi_pairing(pairs, miller_factor=miller_factor))


def pairing_check_eip197(data: bytes) -> bool:
    """The EIP-197 pairing precompile: decode and validate ``data`` (k * 192 bytes) and return whether the
    product of pairings is 1. Invalid input raises the typed errors of
    :func:`zkhealth.hazmat.bn254.decode_pairing_input` (where the precompile would fail)."""
    return pairing_product_is_one(decode_pairing_input(data))


def fq12_pow(f: Fq12, e: int) -> Fq12:
    """f^e for e >= 0 by square-and-multiply with the generic squaring (for tests and GT arithmetic)."""
    if e < 0:
        return fq12_pow(fq12_inv(f), -e)
    return tuple(int(x) for x in square_and_multiply(f, e, FQ12_ONE, fq12_mul, fq12_sqr))


# --------------------------------------------------------------------------- batch Miller loop for unprepared G2
#
# Added for Groth16 batch verification (zkhealth.groth16.batch): many pairs whose G2 points are used once
# (the proofs' B), plus a few prepared ones (the verifying key's). The loop walks every unprepared T itself,
# evaluates each line at P as soon as it is computed (no coefficient list, no inversion) and ends with a G2 membership
# test that costs nothing beyond the walk (see :func:`miller_loop_checked`).

#: f(X) = X^3 - X^2 + X + (6x + 2): f(psi) kills G2 (the optimal-ate relation 6x + 2 + q - q^2 + q^3 = 0 mod r)
#: and no point of the cofactor part; see :func:`miller_loop_checked`.
_PSI_RELATION_CONSTANT: Final[int] = 6 * BN_X + 2


def _double_eval(t: list[Any], nyp: Any, xp3: Any) -> LineCoeffs:
    """T <- 2T (homogeneous projective, like :func:`_doubling_step`) and the tangent line evaluated at P.

    The formulas of :func:`_doubling_step` scaled by 4 so that no halving is needed: X3 = 2XY(B - F),
    Y3 = (B + F)^2 - 12E^2, Z3 = 4BH (the same projective point). Line: (-H yP, 3X^2 xP, E - B), with
    ``nyp = -yP`` and ``xp3 = 3 xP`` precomputed. Exceptional inputs (T = O) give O or (0, 0, 0), see
    :func:`miller_loop_checked`.
    """
    q = _Q
    x0, x1, y0, y1, z0, z1 = t
    b0 = (y0 + y1) * (y0 - y1) % q
    b1 = 2 * y0 * y1 % q
    c0 = (z0 + z1) * (z0 - z1) % q
    c1 = 2 * z0 * z1 % q
    tb0, tb1 = _THREE_B
    e0 = (tb0 * c0 - tb1 * c1) % q
    e1 = (tb0 * c1 + tb1 * c0) % q
    h0 = 2 * (y0 * z0 - y1 * z1) % q
    h1 = 2 * (y0 * z1 + y1 * z0) % q
    a0 = (x0 * y0 - x1 * y1) % q
    a1 = (x0 * y1 + x1 * y0) % q
    f0 = 3 * e0
    f1 = 3 * e1
    bf0 = b0 - f0
    bf1 = b1 - f1
    g0 = b0 + f0
    g1 = b1 + f1
    t[0] = 2 * (a0 * bf0 - a1 * bf1) % q
    t[1] = 2 * (a0 * bf1 + a1 * bf0) % q
    t[2] = ((g0 + g1) * (g0 - g1) - 12 * (e0 + e1) * (e0 - e1)) % q
    t[3] = 2 * (g0 * g1 - 12 * e0 * e1) % q
    t[4] = 4 * (b0 * h0 - b1 * h1) % q
    t[5] = 4 * (b0 * h1 + b1 * h0) % q
    return (
        h0 * nyp % q,
        h1 * nyp % q,
        (x0 + x1) * (x0 - x1) * xp3 % q,
        2 * x0 * x1 * xp3 % q,
        (e0 - b0) % q,
        (e1 - b1) % q,
    )


def _add_eval(t: list[Any], qx0: Any, qx1: Any, qy0: Any, qy1: Any, yp: Any, nxp: Any) -> LineCoeffs:
    """T <- T + Q (Q affine; the formulas of :func:`_addition_step`) and the chord evaluated at P:
    (lambda yP, -theta xP, theta xQ - lambda yQ), with ``nxp = -xP`` precomputed."""
    q = _Q
    x0, x1, y0, y1, z0, z1 = t
    th0 = (y0 - qy0 * z0 + qy1 * z1) % q
    th1 = (y1 - qy0 * z1 - qy1 * z0) % q
    la0 = (x0 - qx0 * z0 + qx1 * z1) % q
    la1 = (x1 - qx0 * z1 - qx1 * z0) % q
    c0 = (th0 + th1) * (th0 - th1) % q
    c1 = 2 * th0 * th1 % q
    d0 = (la0 + la1) * (la0 - la1) % q
    d1 = 2 * la0 * la1 % q
    e0 = (la0 * d0 - la1 * d1) % q
    e1 = (la0 * d1 + la1 * d0) % q
    g0 = (x0 * d0 - x1 * d1) % q
    g1 = (x0 * d1 + x1 * d0) % q
    h0 = (e0 + z0 * c0 - z1 * c1 - 2 * g0) % q
    h1 = (e1 + z0 * c1 + z1 * c0 - 2 * g1) % q
    gh0 = g0 - h0
    gh1 = g1 - h1
    t[0] = (la0 * h0 - la1 * h1) % q
    t[1] = (la0 * h1 + la1 * h0) % q
    t[2] = (th0 * gh0 - th1 * gh1 - e0 * y0 + e1 * y1) % q
    t[3] = (th0 * gh1 + th1 * gh0 - e0 * y1 - e1 * y0) % q
    t[4] = (z0 * e0 - z1 * e1) % q
    t[5] = (z0 * e1 + z1 * e0) % q
    return (
        la0 * yp % q,
        la1 * yp % q,
        th0 * nxp % q,
        th1 * nxp % q,
        (th0 * qx0 - th1 * qx1 - la0 * qy0 + la1 * qy1) % q,
        (th0 * qx1 + th1 * qx0 - la0 * qy1 - la1 * qy0) % q,
    )


def _absorb_lines(f: Fq12, lines: list[LineCoeffs]) -> Fq12:
    """f times every line (sparse products; pairing the lines up first measured slower in Python)."""
    for c00, c01, c30, c31, c40, c41 in lines:
        f = fq12_mul_by_034(f, (c00, c01), (c30, c31), (c40, c41))
    return f


def _psi(x: Fq2, y: Fq2) -> tuple[Fq2, Fq2]:
    return fq2_mul(fq2_conj(x), PSI_COEFF_X), fq2_mul(fq2_conj(y), PSI_COEFF_Y)


def miller_loop_checked(
    unprepared: Sequence[tuple[G1, G2]],
    prepared: Sequence[tuple[G1 | None, G2Prepared]] = (),
) -> tuple[Fq12, list[int]]:
    """The Miller-loop product of :func:`miller_loop` over ``unprepared + prepared``, together with the
    indices of the unprepared pairs whose G2 point is NOT in G2.

    Inputs: every unprepared pair is a G1 point on the curve and a point on the twist E'(Fq2) (checked by the
    caller; neither may be ``None``), not necessarily in G2. The Miller value is meaningful only when the
    returned list is empty. Cost per unprepared pair: 65 doubling and 23 addition steps evaluated in place
    (no inversion), and a share of the line products; the Fq12 squarings are shared by all pairs.

    The G2 test (a byproduct of the walk). The loop computes ``T = [6x+2]Q + psi(Q) - psi^2(Q)`` and the
    test is ``T == -psi^3(Q)``, i.e. ``f(psi)(Q) = O`` for ``f(X) = X^3 - X^2 + X + 6x + 2``. Proof that it
    holds exactly for Q in G2:

    1. ``#E'(Fq2) = r c2`` with ``gcd(r, c2) = 1``, so ``E'(Fq2) = G2 + C`` (direct sum), ``#C = c2``.
    2. On G2, psi is multiplication by ``6x^2`` (= q mod r), and ``f(6x^2) = 0 mod r``: f(psi) kills G2.
    3. On the whole curve psi satisfies ``g(psi) = 0``, ``g(X) = X^2 - tX + q``, ``t = 6x^2 + 1``. Suppose
       ``f(psi)`` killed a non-zero point of C; then it kills one, S, of prime order l | c2. The minimal
       polynomial of psi on S over F_l divides both f and g mod l, so l divides the resultant
       ``Res(g, f) = b^2 + t a b + q a^2`` where ``f = a X + b mod g``. That resultant is coprime to c2
       (tests/test_groth16.py checks the numbers), so no such l exists: f(psi) is injective on C.
    4. Hence ``f(psi)(Q) = f(psi)(Q_C) = O`` iff ``Q_C = O`` iff Q is in G2.

    The projective walk is exact unless it meets an exceptional input: ``T = -Q`` in an addition gives O
    correctly; ``T = Q`` or ``T = O`` in an addition gives (0, 0, 0), which every later step keeps and the
    final ``Z != 0`` test rejects (E'(Fq2) has odd order, so no doubling meets a 2-torsion point). For Q in
    G2 no exceptional case occurs (T runs through ``[k]Q`` with ``1 < k < r``), so valid points always pass.
    """
    q = _Q
    walks: list[tuple[list[Any], Any, Any, Any, Any, Any, Any, Any, Any]] = []
    for p, point in unprepared:
        (qx0, qx1), (qy0, qy1) = point
        xp, yp = mpz(p[0]), mpz(p[1])
        walks.append(
            (
                [mpz(qx0), mpz(qx1), mpz(qy0), mpz(qy1), mpz(1), mpz(0)],
                mpz(qx0), mpz(qx1), mpz(qy0), mpz(qy1),
                yp, (-yp) % q, 3 * xp % q, (-xp) % q,
            )
        )  # fmt: skip
    fixed: list[tuple[Any, Any, tuple[LineCoeffs, ...]]] = []
    for g1_point, prep in prepared:
        if g1_point is None or prep.is_infinity:
            continue
        fixed.append((mpz(g1_point[0]), mpz(g1_point[1]), prep.coeffs))
    f: Fq12 = FQ12_ONE
    index = 0
    first = True
    for digit in reversed(ATE_LOOP_NAF[:-1]):
        if not first:
            f = fq12_sqr(f)
        first = False
        lines: list[LineCoeffs] = []
        for t, _, _, _, _, _, nyp, xp3, _ in walks:
            lines.append(_double_eval(t, nyp, xp3))
        if digit:
            for t, qx0, qx1, qy0, qy1, yp, _, _, nxp in walks:
                if digit == 1:
                    lines.append(_add_eval(t, qx0, qx1, qy0, qy1, yp, nxp))
                else:
                    lines.append(_add_eval(t, qx0, qx1, (-qy0) % q, (-qy1) % q, yp, nxp))
        for step in range(2 if digit else 1):
            for xp, yp, coeffs in fixed:
                c00, c01, c30, c31, c40, c41 = coeffs[index + step]
                lines.append((c00 * yp % q, c01 * yp % q, c30 * xp % q, c31 * xp % q, c40, c41))
        index += 2 if digit else 1
        f = _absorb_lines(f, lines)
    failed: list[int] = []
    lines = []
    for position, (t, qx0, qx1, qy0, qy1, yp, _, _, nxp) in enumerate(walks):
        q1x, q1y = _psi((int(qx0), int(qx1)), (int(qy0), int(qy1)))
        q2x, q2y = _psi(q1x, q1y)
        q3x, q3y = _psi(q2x, q2y)
        lines.append(_add_eval(t, mpz(q1x[0]), mpz(q1x[1]), mpz(q1y[0]), mpz(q1y[1]), yp, nxp))
        lines.append(_add_eval(t, mpz(q2x[0]), mpz(q2x[1]), (-mpz(q2y[0])) % q, (-mpz(q2y[1])) % q, yp, nxp))
        # T == -psi^3(Q) with T = (X : Y : Z): Z != 0, X = x3 Z, Y = -y3 Z.
        x0, x1, y0, y1, z0, z1 = t
        if (
            not (z0 or z1)
            or (x0 - q3x[0] * z0 + q3x[1] * z1) % q
            or (x1 - q3x[0] * z1 - q3x[1] * z0) % q
            or (y0 + q3y[0] * z0 - q3y[1] * z1) % q
            or (y1 + q3y[0] * z1 + q3y[1] * z0) % q
        ):
            failed.append(position)
    for xp, yp, coeffs in fixed:
        for step in range(2):
            c00, c01, c30, c31, c40, c41 = coeffs[index + step]
            lines.append((c00 * yp % q, c01 * yp % q, c30 * xp % q, c31 * xp % q, c40, c41))
    f = _absorb_lines(f, lines)
    return tuple(int(c) for c in f), failed
