"""Many independent BN254 point operations at once: ``k_i * P_i`` for lists, and batched affine sums.

A trusted-setup ceremony multiplies every point of a file by its own scalar (a contribution turns
``tau^i G`` into ``(s tau)^i G`` with ``s^i * P_i``; the group FFT multiplies differences of points by roots of
unity). Nothing is shared between the products, so an MSM does not apply; what can be shared is the
inversions (Montgomery's trick) and the per-point work can be halved with an endomorphism:

* G1, GLV (Gallant, Lambert, Vanstone, CRYPTO 2001): ``phi(x, y) = (beta x, y) = [lambda] (x, y)``, so
  ``k P = k1 P + k2 phi(P)`` with ``|k1|, |k2| < 2^127`` (:func:`zkhealth.hazmat.msm.glv_split`).
* G2, GLS (Galbraith, Lin, Scott, EUROCRYPT 2009): on G2 the twisted Frobenius acts as ``psi(P) = [q mod r] P``
  with ``q mod r = 6x^2``, a root of ``X^4 - X^2 + 1`` mod r, so ``k = sum_{i<4} k_i (6x^2)^i`` with
  ``|k_i| < 2^66`` (:func:`gls_split`, Babai rounding in a reduced lattice basis) and ``k P = sum k_i psi^i(P)``.
  This holds only inside G2: :func:`g2_mul_many` requires points of G2 (check untrusted points with
  :func:`zkhealth.hazmat.bn254.g2_in_subgroup` or a batched test first).

A G1 product then costs about 127 Jacobian doublings and 2 x 127 / 6 mixed additions (width-5 NAF of both
halves), a G2 product about 65 doublings and 4 x 65 / 6 additions, against per-point tables of odd multiples
``P, 3P, ..., 15P`` (and their endomorphism images) kept in affine form; the tables of all points are built
together, one batched affine addition (one shared inversion) per table entry. Only the non-zero NAF digits
are visited; the doublings between them run as tight loops with small constants as shifts or mpz values
(gmpy2 converts a Python int operand on every operation).

Hazmat: inputs are assumed to be valid points (on the curve, in the subgroup for G2) given as plain tuples;
``None`` is the identity. Nothing here is constant time: use it for public data and for a contributor's own
secret only on a machine the contributor trusts (as snarkjs does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from zkhealth._bigint import invert, mpz
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat.bn254 import BN_X, G1, G2, PSI_COEFF_X, PSI_COEFF_Y
from zkhealth.hazmat.msm import GLV_BETA, glv_split

__all__ = [
    "G2_GLS_LAMBDA",
    "g1_add_many",
    "g1_mul_many",
    "g1_sub_many",
    "g1_sum_groups",
    "g2_add_many",
    "g2_mul_many",
    "g2_sub_many",
    "g2_sum_groups",
]

_Q: Final[Any] = mpz(FIELD_Q)
_BETA: Final[Any] = mpz(GLV_BETA)
_THREE: Final[Any] = mpz(3)
#: psi acts on G2 as multiplication by q mod r = 6 x^2 (x the BN parameter).
G2_GLS_LAMBDA: Final[int] = 6 * BN_X * BN_X
#: A reduced basis of the lattice {(a0, a1, a2, a3) : sum a_i lambda^i = 0 mod r} for lambda = 6x^2, found by
#: LLL (psi^4 - psi^2 + 1 = 0 on G2, the 12th cyclotomic polynomial; Galbraith and Scott, "Exponentiation in
#: pairing-friendly groups using homomorphisms", 2008, give such bases in terms of x). Entries are about 2^64.
_GLS_BASIS: Final[tuple[tuple[int, int, int, int], ...]] = (
    (2 * BN_X + 1, 0, 2 * BN_X, 1),
    (2 * BN_X, BN_X + 1, -BN_X, BN_X),
    (BN_X + 1, BN_X, BN_X, -2 * BN_X),
    (2 * BN_X + 1, -BN_X, -(BN_X + 1), -BN_X),
)
#: -r times the first row of the basis' inverse (its determinant is -r): Babai rounding coefficients.
_GLS_ROUND: Final[tuple[int, int, int, int]] = (
    734653495049373973806201247608587340319794091592875701774,
    734653495049373973658254490726798021314063399421879442165,
    9931322734385697763,
    734653495049373973806201247608587340314828430225682852893,
)
_NAF_WIDTH: Final[int] = 5
_TABLE: Final[int] = 1 << (_NAF_WIDTH - 2)  # odd multiples 1, 3, ..., 2^(w-1) - 1
_PX0: Final[Any] = mpz(PSI_COEFF_X[0])
_PX1: Final[Any] = mpz(PSI_COEFF_X[1])
_PY0: Final[Any] = mpz(PSI_COEFF_Y[0])
_PY1: Final[Any] = mpz(PSI_COEFF_Y[1])


def _naf_events(scalars: Sequence[int], width: int = _NAF_WIDTH) -> list[tuple[int, int, int]]:
    """The non-zero digits of the width-``width`` NAFs of ``scalars`` (each >= 0), as ``(position, digit,
    which)`` sorted from the most significant position down: the additions of a joint double-and-add.

    Only the non-zero digits are visited (about log2(k) / (width + 1) of them), unlike a bit-by-bit recoding.
    """
    full = 1 << width
    half = full >> 1
    mask = full - 1
    out: list[tuple[int, int, int]] = []
    for which, k in enumerate(scalars):
        position = 0
        while k:
            zeros = (k & -k).bit_length() - 1
            k >>= zeros
            position += zeros
            digit = k & mask
            if digit >= half:
                digit -= full
            out.append((position, digit, which))
            k = (k - digit) >> width
            position += width
    out.sort(reverse=True)
    return out


def _batch_inverse(values: list[Any]) -> list[Any]:
    """Inverses mod q of non-zero values with one exponentiation (Montgomery's trick)."""
    q = _Q
    prefix = [None] * len(values)
    acc = mpz(1)
    for i, value in enumerate(values):
        prefix[i] = acc
        acc = acc * value % q
    inv = invert(acc, q)
    out: list[Any] = [None] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % q
        inv = inv * values[i] % q
    return out


# --------------------------------------------------------------------------- G1 batched affine additions


def _g1_add_one(p: Any, r: Any) -> Any:
    """Complete affine addition of two points (None = identity); one inversion."""
    if p is None:
        return r
    if r is None:
        return p
    q = _Q
    x1, y1 = p
    x2, y2 = r
    if x1 == x2:
        if (y1 + y2) % q == 0:
            return None
        lam = 3 * x1 * x1 * invert(2 * y1 % q, q) % q
    else:
        lam = (y2 - y1) * invert((x2 - x1) % q, q) % q
    x3 = (lam * lam - x1 - x2) % q
    return (x3, (lam * (x1 - x3) - y1) % q)


def _g1_sum_pairs(lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """``lhs[i] + rhs[i]`` for affine points (mpz or int coordinates, None allowed), one shared inversion."""
    q = _Q
    idx = [i for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)) if p is not None and r is not None and p[0] != r[0]]
    out = [
        _g1_add_one(p, r) if (p is None or r is None or p[0] == r[0]) else None for p, r in zip(lhs, rhs, strict=True)
    ]
    if not idx:
        return out
    invs = _batch_inverse([(rhs[i][0] - lhs[i][0]) % q for i in idx])
    for i, inv in zip(idx, invs, strict=True):
        x1, y1 = lhs[i]
        x2, y2 = rhs[i]
        lam = (y2 - y1) * inv % q
        x3 = (lam * lam - x1 - x2) % q
        out[i] = (x3, (lam * (x1 - x3) - y1) % q)
    return out


def _plain_g1(p: Any) -> G1 | None:
    return None if p is None else (int(p[0]), int(p[1]))


def g1_add_many(lhs: Sequence[G1 | None], rhs: Sequence[G1 | None]) -> list[G1 | None]:
    """``[lhs[i] + rhs[i]]`` on G1 (affine, None = identity) with one shared inversion. Cost: ~6 M per pair."""
    return [_plain_g1(p) for p in _g1_sum_pairs(list(lhs), list(rhs))]


def g1_sub_many(lhs: Sequence[G1 | None], rhs: Sequence[G1 | None]) -> list[G1 | None]:
    """``[lhs[i] - rhs[i]]`` on G1 (affine, None = identity) with one shared inversion."""
    q = FIELD_Q
    neg = [None if p is None else (p[0], (q - p[1]) % q) for p in rhs]
    return [_plain_g1(p) for p in _g1_sum_pairs(list(lhs), neg)]


def _g1_tables(points: list[Any]) -> list[list[Any]]:
    """For every point P: [P, 3P, ..., (2T - 1)P] in affine form (T = table size), built in T batches."""
    q = _Q
    doubles: list[Any] = []
    # 2P for all points: lambda = 3 x^2 / 2 y with one shared inversion (y != 0 on G1: no 2-torsion).
    invs = _batch_inverse([2 * p[1] % q for p in points])
    for (x, y), inv in zip(points, invs, strict=True):
        lam = 3 * x * x * inv % q
        x3 = (lam * lam - 2 * x) % q
        doubles.append((x3, (lam * (x - x3) - y) % q))
    tables = [[p] for p in points]
    current = points
    for _ in range(_TABLE - 1):
        current = _g1_sum_pairs(current, doubles)
        for table, p in zip(tables, current, strict=True):
            table.append(p)
    return tables


def _g1_mul_with_table(table_a: list[Any], table_b: list[Any], events: list[tuple[int, int, int]]) -> Any:
    """``k1 P + k2 phi(P)`` from the odd-multiple tables of P and phi(P) and the NAF digits of (k1, k2)
    (:func:`_naf_events`), as Jacobian ``(X, Y, Z)`` or None: runs of Jacobian doublings ("dbl-2009-l",
    2M + 5S) between mixed additions ("madd-2007-bl" shape, 7M + 4S), one addition per non-zero digit."""
    q = _Q
    three = _THREE  # gmpy2 multiplies by an mpz constant faster than by a Python int (no conversion)
    tables = (table_a, table_b)
    x: Any = None
    y: Any = None
    z: Any = None  # None: the accumulator is the identity
    current = 0
    for position, digit, which in events:
        if z is not None:
            for _ in range(current - position):
                b = y * y % q
                d = x * b << 2
                e = x * x % q * three
                x3 = (e * e - d - d) % q
                z = (y * z << 1) % q
                y = (e * (d - x3) - (b * b << 3)) % q
                x = x3
        current = position
        ax, ay = tables[which][abs(digit) >> 1]
        if digit < 0:
            ay = q - ay
        if z is None:
            x, y, z = ax, ay, mpz(1)
            continue
        z1z1 = z * z % q
        h = (ax * z1z1 - x) % q
        rr = (ay * z * z1z1 - y) % q
        if not h:  # the accumulator is +-(the table point): double, or the identity
            if rr:
                z = None
            else:
                x, y, z = _g1_double_jacobian(x, y, z)
            continue
        hh = h * h % q
        hhh = h * hh % q
        v = x * hh % q
        x3 = (rr * rr - hhh - (v << 1)) % q
        y = (rr * (v - x3) - y * hhh) % q
        z = z * h % q
        x = x3
    if z is None:
        return None
    for _ in range(current):
        b = y * y % q
        d = x * b << 2
        e = x * x % q * three
        x3 = (e * e - d - d) % q
        z = (y * z << 1) % q
        y = (e * (d - x3) - (b * b << 3)) % q
        x = x3
    return (x, y, z)


def _g1_double_jacobian(x: Any, y: Any, z: Any) -> tuple[Any, Any, Any]:
    q = _Q
    a = x * x % q
    b = y * y % q
    c = b * b
    d = 4 * x * b % q
    e = 3 * a
    x3 = (e * e - 2 * d) % q
    return (x3, (e * (d - x3) - 8 * c) % q, 2 * y * z % q)


def g1_mul_many(points: Sequence[G1 | None], scalars: Sequence[int]) -> list[G1 | None]:
    """``[scalars[i] * points[i]]`` on G1, affine in and out (None = identity), scalars reduced mod r.

    Cost per product: a GLV split, about 127 doublings and 42 mixed additions, plus a share of the batched
    table building and of one final batched normalisation (about 0.2-0.3 ms each with gmpy2).
    """
    if len(points) != len(scalars):
        raise ValueError("g1_mul_many: points and scalars differ in length")
    q = _Q
    work: list[int] = []
    bases: list[Any] = []
    splits: list[tuple[int, int]] = []
    for i, (p, k) in enumerate(zip(points, scalars, strict=True)):
        k %= FIELD_R
        if p is None or not k:
            continue
        work.append(i)
        bases.append((mpz(p[0]), mpz(p[1])))
        splits.append(glv_split(k))
    out: list[G1 | None] = [None] * len(points)
    if not work:
        return out
    tables = _g1_tables(bases)
    jacobians: list[Any] = []
    recodings: dict[tuple[int, int], list[tuple[int, int, int]]] = {}  # one recoding per distinct scalar
    for table, (k1, k2) in zip(tables, splits, strict=True):
        table_a = table if k1 >= 0 else [(x, q - y) for x, y in table]
        table_b = [(_BETA * x % q, y if k2 >= 0 else q - y) for x, y in table]
        events = recodings.get((k1, k2))
        if events is None:
            events = recodings[(k1, k2)] = _naf_events((abs(k1), abs(k2)))
            if len(recodings) > 64:
                recodings.clear()
        jacobians.append(_g1_mul_with_table(table_a, table_b, events))
    live = [i for i, j in enumerate(jacobians) if j is not None]
    invs = _batch_inverse([jacobians[i][2] for i in live])
    for i, inv in zip(live, invs, strict=True):
        x, y, _ = jacobians[i]
        inv2 = inv * inv % q
        out[work[i]] = (int(x * inv2 % q), int(y * inv2 * inv % q))
    return out


# --------------------------------------------------------------------------- G2 (coordinates in Fq2)


def _fq2_inverses(values: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Inverses of non-zero Fq2 elements: 1/(a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2), norms batch-inverted."""
    q = _Q
    norms = _batch_inverse([(a0 * a0 + a1 * a1) % q for a0, a1 in values])
    return [(a0 * n % q, -a1 * n % q) for (a0, a1), n in zip(values, norms, strict=True)]


def _g2_add_one(p: Any, r: Any) -> Any:
    """Complete affine addition on the twist (None = identity)."""
    if p is None:
        return r
    if r is None:
        return p
    q = _Q
    (x0, x1), (y0, y1) = p
    (u0, u1), (v0, v1) = r
    if x0 == u0 and x1 == u1:
        if (y0 + v0) % q == 0 and (y1 + v1) % q == 0:
            return None
        n0, n1 = 3 * (x0 * x0 - x1 * x1), 6 * x0 * x1
        (i0, i1) = _fq2_inverses([(2 * y0 % q, 2 * y1 % q)])[0]
    else:
        n0, n1 = v0 - y0, v1 - y1
        (i0, i1) = _fq2_inverses([((u0 - x0) % q, (u1 - x1) % q)])[0]
    l0 = (n0 * i0 - n1 * i1) % q
    l1 = (n0 * i1 + n1 * i0) % q
    z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
    z1 = (2 * l0 * l1 - x1 - u1) % q
    return ((z0, z1), ((l0 * (x0 - z0) - l1 * (x1 - z1) - y0) % q, (l0 * (x1 - z1) + l1 * (x0 - z0) - y1) % q))


def _g2_sum_pairs(lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """``lhs[i] + rhs[i]`` on the twist (affine, None allowed), one shared inversion."""
    q = _Q
    idx = [i for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)) if p is not None and r is not None and p[0] != r[0]]
    out = [
        _g2_add_one(p, r) if (p is None or r is None or p[0] == r[0]) else None for p, r in zip(lhs, rhs, strict=True)
    ]
    if not idx:
        return out
    invs = _fq2_inverses([((rhs[i][0][0] - lhs[i][0][0]) % q, (rhs[i][0][1] - lhs[i][0][1]) % q) for i in idx])
    for i, (i0, i1) in zip(idx, invs, strict=True):
        (x0, x1), (y0, y1) = lhs[i]
        (u0, u1), (v0, v1) = rhs[i]
        n0, n1 = v0 - y0, v1 - y1
        l0 = (n0 * i0 - n1 * i1) % q
        l1 = (n0 * i1 + n1 * i0) % q
        z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
        z1 = (2 * l0 * l1 - x1 - u1) % q
        f0, f1 = x0 - z0, x1 - z1
        out[i] = ((z0, z1), ((l0 * f0 - l1 * f1 - y0) % q, (l0 * f1 + l1 * f0 - y1) % q))
    return out


def _plain_g2(p: Any) -> G2 | None:
    if p is None:
        return None
    (x0, x1), (y0, y1) = p
    return ((int(x0), int(x1)), (int(y0), int(y1)))


def _mpz_g2(p: G2) -> Any:
    (x0, x1), (y0, y1) = p
    return ((mpz(x0), mpz(x1)), (mpz(y0), mpz(y1)))


def g2_add_many(lhs: Sequence[G2 | None], rhs: Sequence[G2 | None]) -> list[G2 | None]:
    """``[lhs[i] + rhs[i]]`` on the twist (affine, None = identity), one shared inversion."""
    left = [None if p is None else _mpz_g2(p) for p in lhs]
    right = [None if p is None else _mpz_g2(p) for p in rhs]
    return [_plain_g2(p) for p in _g2_sum_pairs(left, right)]


def g2_sub_many(lhs: Sequence[G2 | None], rhs: Sequence[G2 | None]) -> list[G2 | None]:
    """``[lhs[i] - rhs[i]]`` on the twist (affine, None = identity), one shared inversion."""
    q = FIELD_Q
    neg = [None if p is None else (p[0], ((q - p[1][0]) % q, (q - p[1][1]) % q)) for p in rhs]
    return g2_add_many(lhs, neg)


def _g2_tables(points: list[Any]) -> list[list[Any]]:
    """For every G2 point P: [P, 3P, ..., (2T - 1)P] in affine form, built in T batches."""
    q = _Q
    invs = _fq2_inverses([(2 * y0 % q, 2 * y1 % q) for _, (y0, y1) in points])
    doubles: list[Any] = []
    for ((x0, x1), (y0, y1)), (i0, i1) in zip(points, invs, strict=True):
        n0, n1 = 3 * (x0 * x0 - x1 * x1), 6 * x0 * x1
        l0 = (n0 * i0 - n1 * i1) % q
        l1 = (n0 * i1 + n1 * i0) % q
        z0 = ((l0 + l1) * (l0 - l1) - 2 * x0) % q
        z1 = (2 * l0 * l1 - 2 * x1) % q
        f0, f1 = x0 - z0, x1 - z1
        doubles.append(((z0, z1), ((l0 * f0 - l1 * f1 - y0) % q, (l0 * f1 + l1 * f0 - y1) % q)))
    tables = [[p] for p in points]
    current = points
    for _ in range(_TABLE - 1):
        current = _g2_sum_pairs(current, doubles)
        for table, p in zip(tables, current, strict=True):
            table.append(p)
    return tables


def _g2_psi(p: Any) -> Any:
    """psi(x, y) = (conj(x) * cx, conj(y) * cy) on affine coordinates (2 Fq2 multiplications)."""
    q = _Q
    (x0, x1), (y0, y1) = p
    x1 = -x1
    y1 = -y1
    return (
        ((x0 * _PX0 - x1 * _PX1) % q, (x0 * _PX1 + x1 * _PX0) % q),
        ((y0 * _PY0 - y1 * _PY1) % q, (y0 * _PY1 + y1 * _PY0) % q),
    )


def gls_split(k: int) -> tuple[int, int, int, int]:
    """``(k0, k1, k2, k3)`` with ``k = sum k_i (6x^2)^i mod r`` and ``|k_i| < 2^66`` (Babai rounding against
    :data:`_GLS_BASIS`), so that ``k P = sum k_i psi^i(P)`` for P in G2. ``k`` in [0, r)."""
    r = FIELD_R
    coefficients = [(2 * k * m + r) // (2 * r) for m in _GLS_ROUND]
    return (
        k - sum(c * b[0] for c, b in zip(coefficients, _GLS_BASIS, strict=True)),
        -sum(c * b[1] for c, b in zip(coefficients, _GLS_BASIS, strict=True)),
        -sum(c * b[2] for c, b in zip(coefficients, _GLS_BASIS, strict=True)),
        -sum(c * b[3] for c, b in zip(coefficients, _GLS_BASIS, strict=True)),
    )


def _g2_double_jacobian(p: tuple[Any, ...]) -> tuple[Any, ...]:
    """2P in Jacobian coordinates over Fq2 ("dbl-2009-l"); p = (x0, x1, y0, y1, z0, z1)."""
    q = _Q
    x0, x1, y0, y1, z0, z1 = p
    a0, a1 = (x0 + x1) * (x0 - x1) % q, 2 * x0 * x1 % q
    b0, b1 = (y0 + y1) * (y0 - y1) % q, 2 * y0 * y1 % q
    c0, c1 = (b0 + b1) * (b0 - b1), 2 * b0 * b1
    d0, d1 = 4 * (x0 * b0 - x1 * b1) % q, 4 * (x0 * b1 + x1 * b0) % q
    e0, e1 = 3 * a0, 3 * a1
    x30 = ((e0 + e1) * (e0 - e1) - 2 * d0) % q
    x31 = (2 * e0 * e1 - 2 * d1) % q
    f0, f1 = d0 - x30, d1 - x31
    return (
        x30,
        x31,
        (e0 * f0 - e1 * f1 - 8 * c0) % q,
        (e0 * f1 + e1 * f0 - 8 * c1) % q,
        2 * (y0 * z0 - y1 * z1) % q,
        2 * (y0 * z1 + y1 * z0) % q,
    )


def _g2_mul_with_tables(tables: tuple[list[Any], ...], events: list[tuple[int, int, int]]) -> Any:
    """``sum k_i T_i`` where ``tables[i]`` holds the odd multiples of T_i and ``events`` the NAF digits of the
    k_i (:func:`_naf_events`), as Jacobian ``(x0, x1, y0, y1, z0, z1)`` over Fq2 or None; runs of doublings
    between mixed additions."""
    q = _Q
    three = _THREE
    acc: Any = None
    current = 0
    for position, digit, which in events:
        if acc is not None:
            x0, x1, y0, y1, z0, z1 = acc
            for _ in range(current - position):
                # Jacobian doubling over Fq2 (u^2 = -1), "dbl-2009-l" shape
                e0 = (x0 + x1) * (x0 - x1) % q * three  # E = 3 X^2
                e1 = (x0 * x1 << 1) % q * three
                b0, b1 = (y0 + y1) * (y0 - y1) % q, (y0 * y1 << 1) % q  # B = Y^2
                c0, c1 = (b0 + b1) * (b0 - b1) << 3, b0 * b1 << 4  # 8 B^2
                d0, d1 = (x0 * b0 - x1 * b1 << 2) % q, (x0 * b1 + x1 * b0 << 2) % q  # D = 4 X B
                x0 = ((e0 + e1) * (e0 - e1) - d0 - d0) % q
                x1 = ((e0 * e1 << 1) - d1 - d1) % q
                f0, f1 = d0 - x0, d1 - x1
                z0, z1 = (y0 * z0 - y1 * z1 << 1) % q, (y0 * z1 + y1 * z0 << 1) % q
                y0, y1 = (e0 * f0 - e1 * f1 - c0) % q, (e0 * f1 + e1 * f0 - c1) % q
            acc = (x0, x1, y0, y1, z0, z1)
        current = position
        (u0, u1), (v0, v1) = tables[which][abs(digit) >> 1]
        if digit < 0:
            v0, v1 = q - v0, q - v1
        if acc is None:
            acc = (u0, u1, v0, v1, mpz(1), mpz(0))
            continue
        acc = _g2_madd(acc, u0, u1, v0, v1)
    if acc is None:
        return None
    x0, x1, y0, y1, z0, z1 = acc
    for _ in range(current):
        e0 = (x0 + x1) * (x0 - x1) % q * three
        e1 = (x0 * x1 << 1) % q * three
        b0, b1 = (y0 + y1) * (y0 - y1) % q, (y0 * y1 << 1) % q
        c0, c1 = (b0 + b1) * (b0 - b1) << 3, b0 * b1 << 4
        d0, d1 = (x0 * b0 - x1 * b1 << 2) % q, (x0 * b1 + x1 * b0 << 2) % q
        x0 = ((e0 + e1) * (e0 - e1) - d0 - d0) % q
        x1 = ((e0 * e1 << 1) - d1 - d1) % q
        f0, f1 = d0 - x0, d1 - x1
        z0, z1 = (y0 * z0 - y1 * z1 << 1) % q, (y0 * z1 + y1 * z0 << 1) % q
        y0, y1 = (e0 * f0 - e1 * f1 - c0) % q, (e0 * f1 + e1 * f0 - c1) % q
    return (x0, x1, y0, y1, z0, z1)


def _g2_madd(acc: tuple[Any, ...], u0: Any, u1: Any, v0: Any, v1: Any) -> Any:
    """Jacobian ``acc`` plus the affine point ``(u, v)`` over Fq2; None when the sum is the identity."""
    q = _Q
    x0, x1, y0, y1, z0, z1 = acc
    s0, s1 = (z0 + z1) * (z0 - z1) % q, 2 * z0 * z1 % q  # Z^2
    t0, t1 = (z0 * s0 - z1 * s1) % q, (z0 * s1 + z1 * s0) % q  # Z^3
    h0 = (u0 * s0 - u1 * s1 - x0) % q  # U2 - X
    h1 = (u0 * s1 + u1 * s0 - x1) % q
    r0 = (v0 * t0 - v1 * t1 - y0) % q  # S2 - Y
    r1 = (v0 * t1 + v1 * t0 - y1) % q
    if not h0 and not h1:
        return None if r0 or r1 else _g2_double_jacobian(acc)
    hh0, hh1 = (h0 + h1) * (h0 - h1) % q, 2 * h0 * h1 % q
    hhh0, hhh1 = (h0 * hh0 - h1 * hh1) % q, (h0 * hh1 + h1 * hh0) % q
    w0, w1 = (x0 * hh0 - x1 * hh1) % q, (x0 * hh1 + x1 * hh0) % q
    x30 = ((r0 + r1) * (r0 - r1) - hhh0 - 2 * w0) % q
    x31 = (2 * r0 * r1 - hhh1 - 2 * w1) % q
    f0, f1 = w0 - x30, w1 - x31
    return (
        x30,
        x31,
        (r0 * f0 - r1 * f1 - (y0 * hhh0 - y1 * hhh1)) % q,
        (r0 * f1 + r1 * f0 - (y0 * hhh1 + y1 * hhh0)) % q,
        (z0 * h0 - z1 * h1) % q,
        (z0 * h1 + z1 * h0) % q,
    )


def g2_mul_many(points: Sequence[G2 | None], scalars: Sequence[int]) -> list[G2 | None]:
    """``[scalars[i] * points[i]]`` for points of G2 (affine, None = identity), scalars reduced mod r.

    Requires every point to lie in G2 (the 4-dimensional GLS split uses ``psi = [6x^2]`` there); a point on
    the twist but outside G2 gives a wrong result, never an error. Cost per product: about 65 doublings and
    44 mixed additions over Fq2, plus the table of 8 odd multiples and its three psi images.
    """
    if len(points) != len(scalars):
        raise ValueError("g2_mul_many: points and scalars differ in length")
    q = _Q
    work: list[int] = []
    bases: list[Any] = []
    splits: list[tuple[int, int, int, int]] = []
    for i, (p, k) in enumerate(zip(points, scalars, strict=True)):
        k %= FIELD_R
        if p is None or not k:
            continue
        work.append(i)
        bases.append(_mpz_g2(p))
        splits.append(gls_split(k))
    out: list[G2 | None] = [None] * len(points)
    if not work:
        return out
    jacobians: list[Any] = []
    recodings: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}  # one recoding per distinct scalar
    for table, split in zip(_g2_tables(bases), splits, strict=True):
        images = [table]
        for _ in range(3):
            images.append([_g2_psi(p) for p in images[-1]])
        signed = tuple(
            image if k >= 0 else [(x, (q - y0, q - y1)) for x, (y0, y1) in image]
            for image, k in zip(images, split, strict=True)
        )
        events = recodings.get(split)
        if events is None:
            events = recodings[split] = _naf_events(tuple(abs(k) for k in split))
            if len(recodings) > 64:
                recodings.clear()
        jacobians.append(_g2_mul_with_tables(signed, events))
    live = [i for i, j in enumerate(jacobians) if j is not None]
    invs = _fq2_inverses([(jacobians[i][4], jacobians[i][5]) for i in live])
    for i, (i0, i1) in zip(live, invs, strict=True):
        x0, x1, y0, y1, _, _ = jacobians[i]
        s0, s1 = (i0 + i1) * (i0 - i1) % q, 2 * i0 * i1 % q  # 1/Z^2
        t0, t1 = (s0 * i0 - s1 * i1) % q, (s0 * i1 + s1 * i0) % q  # 1/Z^3
        out[work[i]] = (
            (int((x0 * s0 - x1 * s1) % q), int((x0 * s1 + x1 * s0) % q)),
            (int((y0 * t0 - y1 * t1) % q), int((y0 * t1 + y1 * t0) % q)),
        )
    return out


# --------------------------------------------------------------------------- sums of many groups


def _sum_groups(groups: Sequence[Sequence[Any]], sum_pairs: Any, convert: Any, plain: Any) -> list[Any]:
    """Sum each group by pairwise rounds; every round is one batch of additions (one shared inversion)."""
    current = [[convert(p) for p in g if p is not None] for g in groups]
    while True:
        lhs: list[Any] = []
        rhs: list[Any] = []
        for g in current:
            half = len(g) >> 1
            lhs += g[0 : 2 * half : 2]
            rhs += g[1 : 2 * half : 2]
        if not lhs:
            break
        sums = sum_pairs(lhs, rhs)
        pos = 0
        nxt = []
        for g in current:
            half = len(g) >> 1
            merged = [p for p in sums[pos : pos + half] if p is not None]
            pos += half
            if len(g) & 1:
                merged.append(g[-1])
            nxt.append(merged)
        current = nxt
    return [plain(g[0]) if g else None for g in current]


def _mpz_g1(p: G1) -> Any:
    return (mpz(p[0]), mpz(p[1]))


def g1_sum_groups(groups: Sequence[Sequence[G1 | None]]) -> list[G1 | None]:
    """``[sum(group) for group in groups]`` on G1 (None = identity): about one batched addition per point."""
    return _sum_groups(groups, _g1_sum_pairs, _mpz_g1, _plain_g1)


def g2_sum_groups(groups: Sequence[Sequence[G2 | None]]) -> list[G2 | None]:
    """``[sum(group) for group in groups]`` on the twist (None = identity)."""
    return _sum_groups(groups, _g2_sum_pairs, _mpz_g2, _plain_g2)
