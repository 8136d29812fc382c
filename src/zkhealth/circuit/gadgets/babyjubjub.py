"""Baby Jubjub in the circuit: on-curve and subgroup checks, point addition and doubling, scalar multiplication.

The curve is the twisted Edwards curve ``a*x^2 + y^2 = 1 + d*x^2*y^2`` over r with a = 168700, d = 168696
(EIP-2494; :mod:`zkhealth.hazmat.babyjubjub` is the native twin of everything here). Its group is cyclic of
order 8 * l; ``BASE8`` generates the subgroup of prime order l.

Which formulas, and why they are safe
-------------------------------------
* **Twisted Edwards (complete).** a is a square and d a non-square mod r (checked at import), so the addition
  law has no exceptional case for points ON the curve: the denominators ``1 +- d*x1*x2*y1*y2`` never vanish
  (Bernstein, Birkner, Joye, Lange, Peters, "Twisted Edwards Curves", AFRICACRYPT 2008, Thm 3.3). It adds any
  two curve points, identity and small-order points included. For points OFF the curve a denominator can
  vanish and the division constraint then leaves the result free, so every gadget here that takes a point
  either checks it on the curve or states that its caller must. :func:`point_add` costs 6 constraints
  (circomlib ``BabyAdd``), :func:`point_double` 5, an addition of a constant point 3.
* **Montgomery (incomplete, cheaper).** The birationally equivalent curve ``v^2 = u^3 + A*u^2 + u`` with
  A = 168698, B = 1 (map ``u = (1+y)/(1-y)``, ``v = u/x``) adds in 3 constraints, and ``2*acc + T`` costs 5
  (Eisentraeger-Lauter-Montgomery: ``(acc + T) + acc`` without computing the middle ordinate). The affine
  formulas fail when the two inputs have the same ``u`` (equal or opposite points) or one is the identity;
  with equal points the slope would be unconstrained. circomlib's ``EscalarMulAny`` uses such shortcuts, and
  with the order-2 point (0, -1) silently returns the identity (circomlib PR #152; docs/security.md C14). We use
  Montgomery form only where an integer argument shows the exceptional cases cannot occur:

  - the base has prime order l and is not the identity, so ``[j]P = [k]P`` iff ``j = k (mod l)``;
  - the accumulator is ``[k]P`` and the addend ``[q]P`` with known integer bounds ``0 < k, q`` and
    ``k != q``, ``k + q < l``: then the inputs are neither equal, opposite nor the identity, and nothing
    wraps mod l. The bounds decide how many steps may run in Montgomery form; the remaining steps use the
    complete Edwards law.

Scalar multiplication gadgets
-----------------------------
* :func:`fixed_base_mul` (constant base of order l, scalar given as bits): 2-bit windows whose digits are
  offset by 2 (digit ``w = d + 2`` in 2..5, so ``k_i < q_i``), each a constant-table lookup (1 constraint) and
  a Montgomery addition (3); the last bits and the subtraction of the offset use Edwards. 505 constraints
  for the 251 bits of an EdDSA S.
* :func:`scalar_mul_prime_order` (variable base proven to be in the order-l subgroup, scalar a field
  element): the scalar is decomposed strictly (its 254 bits are unique), ``K = h + 6l - 2^253`` is formed by a
  constant adder, and the signed-digit double-and-add loop (Orchard's variable-base multiplication, Zcash
  Protocol Specification / halo2 book "incomplete addition") computes ``[2^253 + K]P = [h + 6l]P = [h]P``.
  Starting from ``[2]P``, after j steps the multiple ``k_j`` lies in ``[2^j + 1, 3 * 2^j - 1]``, so the first
  249 steps are exception-free in Montgomery form; the last 4 steps and the final correction use Edwards.
* :func:`scalar_mul` (any on-curve base that is not of small order, scalar given as bits): plain complete
  Edwards double-and-add, 13 constraints per bit. The base is checked on the curve and ``8 * P != O`` is
  enforced, so the identity and the 8-torsion points, e.g. (0, r - 1), raise ``WitnessError`` (C14).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from zkhealth._bigint import invert, mpz
from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.gadgets.basic import ensure_bool
from zkhealth.circuit.gadgets.bits import to_bits_strict
from zkhealth.circuit.signal import R, Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError
from zkhealth.hazmat import babyjubjub as bjj

__all__ = [
    "FIXED_BASE_MONTGOMERY_WINDOWS",
    "MONTGOMERY_A",
    "PRIME_ORDER_MONTGOMERY_STEPS",
    "PointSignals",
    "assert_in_subgroup",
    "assert_in_subgroup_native",
    "assert_on_curve",
    "assert_on_curve_native",
    "edwards_to_montgomery_native",
    "fixed_base_mul",
    "fixed_base_mul_native",
    "montgomery_to_edwards_native",
    "point_add",
    "point_add_native",
    "point_double",
    "point_double_native",
    "scalar_mul",
    "scalar_mul_native",
    "scalar_mul_prime_order",
    "scalar_mul_prime_order_native",
]

#: A curve point in the circuit: (x, y) signals, affine twisted Edwards.
PointSignals = tuple[Signal, Signal]

A: Final[int] = bjj.A
D: Final[int] = bjj.D
L: Final[int] = bjj.SUBORDER
#: Montgomery form ``B*v^2 = u^3 + A*u^2 + u``: A = 2(a+d)/(a-d) = 168698 and B = 4/(a-d) = 1.
MONTGOMERY_A: Final[int] = 2 * (A + D) * pow(A - D, -1, R) % R
_MONTGOMERY_B: Final[int] = 4 * pow(A - D, -1, R) % R

if pow(A, (R - 1) // 2, R) != 1 or pow(D, (R - 1) // 2, R) != R - 1 or _MONTGOMERY_B != 1:
    raise ImportError("Baby Jubjub parameters: a must be a square, d a non-square and B = 1")

_INV8: Final[int] = pow(8, -1, L)
_R_MPZ: Final = mpz(R)

#: Windows of :func:`fixed_base_mul` that run in Montgomery form: the largest W with
#: ``sum_{i<W} 5 * 4^i < l`` (the accumulated multiple never reaches l). 124 windows = 248 bits.
FIXED_BASE_MONTGOMERY_WINDOWS: Final[int] = max(w for w in range(1, 200) if 5 * (4**w - 1) // 3 < L)

#: Steps of the signed-digit loop of :func:`scalar_mul_prime_order` that run in Montgomery form: the largest J
#: with ``3 * 2^J - 1 < l`` (every multiple k_1..k_J stays below l). 249 of the 253 steps.
PRIME_ORDER_MONTGOMERY_STEPS: Final[int] = max(j for j in range(1, 300) if 3 * 2**j - 1 < L)

# The loop computes [2^253 + K]P with K < 2^254; K = h + _K_OFFSET makes that [h + 6l]P = [h]P.
_SCALAR_BITS: Final[int] = 254
_K_OFFSET: Final[int] = 6 * L - 2**253
if not (0 <= _K_OFFSET and R - 1 + _K_OFFSET < 2**_SCALAR_BITS):
    raise ImportError("scalar offset does not fit")


# --------------------------------------------------------------------------- helpers


def _point(b: Builder, p: Sequence[SignalLike]) -> PointSignals:
    if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or len(p) != 2:
        raise CircuitDefinitionError("a curve point is a pair (x, y) of signals")
    return (b.as_signal(p[0]), b.as_signal(p[1]))


def _minus_hint(x: int, y: int, offset: int) -> int:
    return (x * y - offset) % R


def _product_minus(b: Builder, x: Signal, y: Signal, offset: Signal) -> Signal:
    """A fresh variable z with ``x * y = z + offset`` (one constraint).

    Same as ``x * y - offset`` but as one variable, so chains of Montgomery steps keep short linear
    combinations (an accumulator written as a combination would grow with every step).
    """
    (z,) = b.hint_unconstrained(_minus_hint, x, y, offset, name="montgomery_coordinate")
    b.assert_mul(x, y, z + offset)
    return z


def _check_bits(b: Builder, bits: Sequence[SignalLike], maximum: int) -> list[Signal]:
    if isinstance(bits, (str, bytes)) or not isinstance(bits, Sequence):
        raise CircuitDefinitionError("scalar bits must be a sequence of signals (least significant first)")
    if not 1 <= len(bits) <= maximum:
        raise CircuitDefinitionError(f"a scalar needs 1..{maximum} bits, got {len(bits)}")
    out = [b.as_signal(bit) for bit in bits]
    for bit in out:
        ensure_bool(b, bit)
    return out


# --------------------------------------------------------------------------- on-curve, add, double


def _on_curve(b: Builder, x: Signal, y: Signal) -> None:
    xx = b.mul(x, x)
    yy = b.mul(y, y)
    b.assert_mul(xx * D, yy, xx * A + yy - 1)


def assert_on_curve(b: Builder, x: SignalLike, y: SignalLike) -> None:
    """Enforce ``a*x^2 + y^2 = 1 + d*x^2*y^2`` (circomlib ``BabyCheck``). Cost: 3 constraints."""
    with b.scope("assert_on_curve"):
        _on_curve(b, b.as_signal(x), b.as_signal(y))


def assert_on_curve_native(x: int, y: int) -> bool:
    """Native twin of :func:`assert_on_curve`: whether (x, y) is a curve point with coordinates in [0, r)."""
    return bjj.is_on_curve((x, y))


def _add(b: Builder, p: PointSignals, q: PointSignals) -> PointSignals:
    x1, y1 = p
    x2, y2 = q
    beta = b.mul(x1, y2)
    gamma = b.mul(y1, x2)
    delta = b.mul(y1 - x1 * A, x2 + y2)  # = y1*y2 - a*x1*x2 - a*beta + gamma
    tau = b.mul(beta, gamma)  # x1*x2*y1*y2
    # Denominators 1 +- d*tau are non-zero for curve points (d non-square): the law is complete.
    x3 = b.div_unchecked(beta + gamma, 1 + tau * D)
    y3 = b.div_unchecked(delta + beta * A - gamma, 1 - tau * D)
    return (x3, y3)


@gadget("point_add")
def point_add(b: Builder, p: Sequence[SignalLike], q: Sequence[SignalLike]) -> PointSignals:
    """``p + q`` by the complete twisted Edwards addition law (Bernstein et al. 2008).

    Precondition: both points are on the curve (checked by the caller, e.g. :func:`assert_on_curve`, or
    produced by these gadgets). Then the result is exact for every pair, identity and small-order points
    included; off the curve a denominator may vanish and leave the result unconstrained.
    Cost: 6 constraints (circomlib ``BabyAdd``); 3 when one point is a constant.
    """
    return _add(b, _point(b, p), _point(b, q))


def point_add_native(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    """Native twin of :func:`point_add` (raises ``PointNotOnCurveError`` off the curve)."""
    return bjj.add(p, q)


def _double(b: Builder, p: PointSignals) -> PointSignals:
    x, y = p
    xx = b.mul(x, x)
    yy = b.mul(y, y)
    xy = b.mul(x, y)
    ax2 = xx * A
    # On the curve, a*x^2 + y^2 = 1 + d*x^2*y^2 and 2 - a*x^2 - y^2 = 1 - d*x^2*y^2: both non-zero.
    x3 = b.div_unchecked(xy * 2, ax2 + yy)
    y3 = b.div_unchecked(yy - ax2, 2 - ax2 - yy)
    return (x3, y3)


@gadget("point_double")
def point_double(b: Builder, p: Sequence[SignalLike]) -> PointSignals:
    """``2 * p``: ``(2xy / (a x^2 + y^2), (y^2 - a x^2) / (2 - a x^2 - y^2))``.

    The formula uses the curve equation, so the precondition is that p is on the curve (then it is exact
    for every point). Cost: 5 constraints.
    """
    return _double(b, _point(b, p))


def point_double_native(p: tuple[int, int]) -> tuple[int, int]:
    """Native twin of :func:`point_double`."""
    return bjj.double(p)


def _times8(b: Builder, p: PointSignals) -> PointSignals:
    return _double(b, _double(b, _double(b, p)))


def _inv8_hint(x: int, y: int) -> list[int]:
    """A point P' with 8 * P' = (x, y), or the identity when (x, y) is not on the curve (then the
    constraints fail)."""
    if not bjj.is_on_curve((x, y)):
        return [0, 1]
    return list(bjj.mul((x, y), _INV8))


def assert_in_subgroup(b: Builder, x: SignalLike, y: SignalLike) -> None:
    """Enforce that (x, y) is on the curve and in the subgroup of prime order l (the identity included).

    The group is cyclic of order 8l, so the multiples of 8 are exactly the order-l subgroup: the prover
    supplies P' = [8^-1 mod l] P as a hint, and the gadget checks P' on the curve and ``8 * P' = (x, y)``.
    This also proves (x, y) on the curve. Points with a torsion component, and the 8-torsion points other
    than the identity, have no such P'. P' itself is not unique (``P' + T`` works for each of the 8 torsion
    points T); it is an auxiliary witness and no output depends on it. Cost: 3 + 15 = 18 constraints.
    """
    with b.scope("assert_in_subgroup"):
        sx, sy = b.as_signal(x), b.as_signal(y)
        with b.scope("eighth"):
            # P' and its multiples are auxiliary: P' + T passes too (uniqueness checks name this scope).
            px, py = b.hint_unconstrained(_inv8_hint, sx, sy, n_outputs=2, name="eighth")
            _on_curve(b, px, py)
            qx, qy = _times8(b, (px, py))
        b.assert_equal(qx, sx)
        b.assert_equal(qy, sy)


def assert_in_subgroup_native(x: int, y: int) -> bool:
    """Native twin of :func:`assert_in_subgroup`."""
    return bjj.in_subgroup((x, y))


# --------------------------------------------------------------------------- Montgomery form


def edwards_to_montgomery_native(p: tuple[int, int]) -> tuple[int, int]:
    """``(u, v) = ((1 + y) / (1 - y), u / x)``; ``ValueError`` for x = 0 (the two points with no image)."""
    x, y = p
    if x % R == 0:
        raise ValueError("points with x = 0 have no affine Montgomery image")
    u = (1 + y) * pow((1 - y) % R, -1, R) % R
    return (u, u * pow(x, -1, R) % R)


def montgomery_to_edwards_native(u: int, v: int) -> tuple[int, int]:
    """Inverse of :func:`edwards_to_montgomery_native`: ``(x, y) = (u / v, (u - 1) / (u + 1))``."""
    if v % R == 0 or (u + 1) % R == 0:
        raise ValueError("no Edwards image")
    return (u * pow(v, -1, R) % R, (u - 1) * pow((u + 1) % R, -1, R) % R)


def _to_montgomery(b: Builder, p: PointSignals) -> PointSignals:
    """Map a curve point p != O of odd order to Montgomery form; enforces ``x != 0``. 3 constraints.

    ``x != 0`` rules out O and (0, -1); on the curve it also gives ``y != 1``, so u and v are unique.
    """
    x, y = p
    x_inv = b.inverse(x)
    u = b.div_unchecked(1 + y, 1 - y)
    return (u, b.mul(u, x_inv))


def _to_edwards(b: Builder, m: PointSignals) -> PointSignals:
    """Montgomery to Edwards for a point with v != 0 (no point has u = -1: d is a non-square). 2 constraints."""
    u, v = m
    return (b.div_unchecked(u, v), b.div_unchecked(u - 1, u + 1))


def _montgomery_add_hint(ua: int, va: int, uq: int, vq: int) -> list[int]:
    lam = (vq - va) * invert(uq - ua, _R_MPZ) % _R_MPZ
    u3 = (lam * lam - MONTGOMERY_A - ua - uq) % _R_MPZ
    return [int(lam), int(u3), int((lam * (ua - u3) - va) % _R_MPZ)]


def _montgomery_add(b: Builder, acc: PointSignals, q: PointSignals) -> PointSignals:
    """``acc + q`` in Montgomery form; the caller guarantees ``acc != +-q`` and neither is O. 3 constraints.

    ``lam * (u_q - u_acc) = v_q - v_acc`` fixes the slope (u_q != u_acc); ``lam^2 = u3 + A + u_acc + u_q`` and
    ``lam * (u_acc - u3) = v3 + v_acc`` fix the sum. The witness comes from one hint (one inversion).
    """
    ua, va = acc
    uq, vq = q
    lam, u3, v3 = b.hint_unconstrained(_montgomery_add_hint, ua, va, uq, vq, n_outputs=3, name="montgomery_add")
    b.assert_mul(lam, uq - ua, vq - va)
    b.assert_mul(lam, lam, u3 + ua + uq + MONTGOMERY_A)
    b.assert_mul(lam, ua - u3, v3 + va)
    return (u3, v3)


def _montgomery_double(b: Builder, p: PointSignals) -> PointSignals:
    """``2 * p`` in Montgomery form for p of odd order (v != 0). 4 constraints."""
    u, v = p
    uu = b.mul(u, u)
    lam = b.div_unchecked(uu * 3 + u * (2 * MONTGOMERY_A) + 1, v * 2)
    u2 = _product_minus(b, lam, lam, u * 2 + MONTGOMERY_A)
    v2 = _product_minus(b, lam, u - u2, v)
    return (u2, v2)


def _double_add_hint(ua: int, va: int, uq: int, vq: int) -> list[int]:
    p = _R_MPZ
    lam1 = (va - vq) * invert(ua - uq, p) % p
    ur = (lam1 * lam1 - MONTGOMERY_A - ua - uq) % p
    lam2 = (2 * va * invert(ua - ur, p) - lam1) % p
    us = (lam2 * lam2 - MONTGOMERY_A - ur - ua) % p
    return [int(lam1), int(lam2), int((lam2 * (ua - us) - va) % p)]


def _montgomery_double_add(b: Builder, acc: PointSignals, q: PointSignals) -> PointSignals:
    """``2 * acc + q = (acc + q) + acc`` without the ordinate of ``acc + q``. 5 constraints.

    The caller guarantees acc != +-q, acc + q != +-acc and no input or intermediate is O. With
    ``R = acc + q``: ``lam1 (u_acc - u_q) = v_acc - v_q``; ``u_R = lam1^2 - A - u_acc - u_q``; the second slope
    ``lam2 = (v_R - v_acc) / (u_R - u_acc)`` with ``v_R = lam1 (u_acc - u_R) - v_acc`` satisfies
    ``(lam1 + lam2)(u_acc - u_R) = 2 v_acc``; then ``u_S = lam2^2 - A - u_R - u_acc`` and
    ``v_S = lam2 (u_acc - u_S) - v_acc``. The squares are plain products, so ``u_S = lam2^2 - lam1^2 + u_q``
    stays a short combination; the slopes and v_S come from one hint (two inversions).
    """
    ua, va = acc
    uq, vq = q
    lam1, lam2, vs = b.hint_unconstrained(_double_add_hint, ua, va, uq, vq, n_outputs=3, name="double_add")
    b.assert_mul(lam1, ua - uq, va - vq)
    ur = b.mul(lam1, lam1) - MONTGOMERY_A - ua - uq
    b.assert_mul(lam1 + lam2, ua - ur, va * 2)
    us = b.mul(lam2, lam2) - MONTGOMERY_A - ur - ua
    b.assert_mul(lam2, ua - us, vs + va)
    return (us, vs)


# --------------------------------------------------------------------------- constant tables


def _monomials(b: Builder, bits: Sequence[Signal]) -> list[Signal]:
    """``prod(bits[i] for i in mask)`` for every mask (mask 0 gives the constant 1). 2^k - 1 - k constraints."""
    out = [b.constant(1)]
    for mask in range(1, 1 << len(bits)):
        high = mask.bit_length() - 1
        rest = mask ^ (1 << high)
        out.append(bits[high] + 0 if rest == 0 else b.mul(out[rest], bits[high]))
    return out


def _point_lookup(b: Builder, bits: Sequence[Signal], table: Sequence[tuple[int, int]]) -> PointSignals:
    monomials = _monomials(b, bits)
    return (_lookup_with(b, monomials, [p[0] for p in table]), _lookup_with(b, monomials, [p[1] for p in table]))


def _lookup_with(b: Builder, monomials: list[Signal], values: Sequence[int]) -> Signal:
    k = len(values).bit_length() - 1
    coefficients = list(values)
    for i in range(k):
        for mask in range(1 << k):
            if mask >> i & 1:
                coefficients[mask] = (coefficients[mask] - coefficients[mask ^ (1 << i)]) % R
    return b.linear_combination(monomials, coefficients)


def _edwards_chunks(start: int, n: int) -> list[tuple[int, int]]:
    """Split bits [start, n) into windows of at most 3 bits: (first bit, width)."""
    chunks = []
    pos = start
    while pos < n:
        width = min(3, n - pos)
        chunks.append((pos, width))
        pos += width
    return chunks


@functools.cache
def _fixed_base_tables(
    base: tuple[int, int], n: int
) -> tuple[tuple[tuple[tuple[int, int], ...], ...], tuple[tuple[tuple[int, int], ...], ...], int]:
    """Constant tables of :func:`fixed_base_mul` for ``n`` bits.

    Returns (Montgomery window tables, Edwards chunk tables, Montgomery window count). Montgomery window i
    holds ``[(d + 2) * 4^i] base`` for its digits d; the Edwards chunk at bit position p holds
    ``[d * 2^p] base``, and the first Edwards chunk also subtracts the Montgomery offset ``sum 2 * 4^i``.
    """
    windows = min((n + 1) // 2, FIXED_BASE_MONTGOMERY_WINDOWS)
    if windows < 2:
        windows = 0
    montgomery: list[tuple[tuple[int, int], ...]] = []
    g = base  # 4^i * base
    for i in range(windows):
        width = min(2, n - 2 * i)
        two = bjj.double(g)
        three = bjj.add(two, g)
        four = bjj.double(two)
        five = bjj.add(four, g)
        entries = (two, three, four, five)[: 1 << width]
        montgomery.append(tuple(edwards_to_montgomery_native(p) for p in entries))
        g = four
    offset = sum(2 * 4**i for i in range(windows))
    edwards: list[tuple[tuple[int, int], ...]] = []
    chunks = _edwards_chunks(2 * windows, n)
    for index, (pos, width) in enumerate(chunks):
        shift = offset if index == 0 else 0
        edwards.append(tuple(bjj.mul(base, (d * 2**pos - shift) % L) for d in range(1 << width)))
    return tuple(montgomery), tuple(edwards), windows


def _check_base(base: object) -> tuple[int, int]:
    if not isinstance(base, tuple) or len(base) != 2 or not all(isinstance(c, int) for c in base):
        raise CircuitDefinitionError("the fixed base must be a pair of ints")
    point = (int(base[0]), int(base[1]))
    if not bjj.in_subgroup(point) or point == bjj.IDENTITY:
        raise CircuitDefinitionError("the fixed base must be a curve point of prime order l")
    return point


@gadget("fixed_base_mul")
def fixed_base_mul(b: Builder, bits: Sequence[SignalLike], *, base: tuple[int, int] = bjj.BASE8) -> PointSignals:
    """``[k] base`` with ``k = sum(bits[i] * 2^i)`` (least significant first, 1..254 bits), as Edwards (x, y).

    ``base`` is a constant point of prime order l (default ``BASE8``; checked at definition time). Enforces
    every bit boolean (free for bits already known boolean). Montgomery 2-bit windows with digits offset by
    2 keep every addition away from the exceptional cases (module docstring); the top bits and the offset
    correction use complete Edwards additions. Cost for already-boolean bits: one constraint per full
    Montgomery window after the first for the lookup plus 3 for the addition, 2 for the conversion, then
    per Edwards window of w bits ``2^w - 1 - w`` + 6: 505 constraints for 251 bits (an EdDSA S).
    """
    point = _check_base(base)
    signals = _check_bits(b, bits, _SCALAR_BITS)
    n = len(signals)
    montgomery_tables, edwards_tables, windows = _fixed_base_tables(point, n)
    acc: PointSignals | None = None
    if windows:
        m_acc: PointSignals | None = None
        for i, table in enumerate(montgomery_tables):
            q = _point_lookup(b, signals[2 * i : 2 * i + 2], table)
            # The exception-freeness argument, for the uniqueness checker to verify: entry d is [(d + 2) 4^i] base.
            b.claim_curve_multiples(q, point, [(d + 2) * 4**i for d in range(len(table))], curve=(A, D),
                                    montgomery=True)
            m_acc = q if m_acc is None else _montgomery_add(b, m_acc, q)
        if m_acc is None:  # pragma: no cover - windows >= 2
            raise CircuitDefinitionError("empty fixed-base table")
        acc = _to_edwards(b, m_acc)
    chunks = _edwards_chunks(2 * windows, n)
    for (pos, width), table in zip(chunks, edwards_tables, strict=True):
        q = _point_lookup(b, signals[pos : pos + width], table)
        acc = q if acc is None else _add(b, acc, q)
    if windows and not chunks and acc is not None:
        offset = sum(2 * 4**i for i in range(windows))
        correction = bjj.mul(point, (-offset) % L)
        acc = _add(b, acc, (b.constant(correction[0]), b.constant(correction[1])))
    if acc is None:  # pragma: no cover - n >= 1
        raise CircuitDefinitionError("empty scalar")
    return acc


def fixed_base_mul_native(bits: Sequence[int], base: tuple[int, int] = bjj.BASE8) -> tuple[int, int]:
    """Native twin of :func:`fixed_base_mul`; ``ValueError`` for non-boolean bits."""
    if any(bit not in (0, 1) for bit in bits):
        raise ValueError("scalar bits must be 0 or 1")
    return bjj.mul(base, sum(bit << i for i, bit in enumerate(bits)))


# --------------------------------------------------------------------------- variable base


def _select_point(b: Builder, bit: Signal, p: PointSignals) -> PointSignals:
    """``p`` if bit else the identity (0, 1), for a boolean bit. 2 constraints."""
    return (b.mul(bit, p[0]), 1 + b.mul(bit, p[1] - 1))


@gadget("scalar_mul")
def scalar_mul(b: Builder, point: Sequence[SignalLike], bits: Sequence[SignalLike]) -> PointSignals:
    """``[k] point`` with ``k = sum(bits[i] * 2^i)`` (least significant first, 1..254 bits).

    Enforces: ``point`` is on the curve, ``8 * point`` is not the identity (so ``point`` is not one of the
    8 small-order points such as (0, 1) or (0, r - 1): docs/security.md C14), every bit boolean. The arithmetic is
    the complete Edwards law, so the result is exact for every such base, including bases with a torsion
    component. Cost: 3 + 15 + 1 + 2 + 13 * (n - 1) constraints for n boolean bits (+1 per bit not known to be
    boolean).
    """
    p = _point(b, point)
    signals = _check_bits(b, bits, _SCALAR_BITS)
    _on_curve(b, *p)
    with b.scope("not_small_order"):
        b.assert_not_equal(_times8(b, p)[0], 0)
    acc = _select_point(b, signals[-1], p)
    for bit in reversed(signals[:-1]):
        acc = _add(b, _double(b, acc), _select_point(b, bit, p))
    return acc


def scalar_mul_native(point: tuple[int, int], bits: Sequence[int]) -> tuple[int, int]:
    """Native twin of :func:`scalar_mul`: ``ValueError`` (a ``PointError``) for an off-curve or small-order
    base, or non-boolean bits."""
    if any(bit not in (0, 1) for bit in bits):
        raise ValueError("scalar bits must be 0 or 1")
    if bjj.is_small_order(point) or not bjj.is_on_curve(point):
        raise ValueError("the base must be a curve point that is not of small order")
    return bjj.mul(point, sum(bit << i for i, bit in enumerate(bits)))


def _add_constant(b: Builder, bits: Sequence[Signal], constant: int) -> list[Signal]:
    """The bits of ``sum(bits[i] 2^i) + constant`` mod ``2^len(bits)``: a ripple-carry adder with a constant.

    One constraint per bit from the lowest set bit of the constant upward (the carry ``bit AND carry``;
    below it the carry is the constant 0). Sum bits are boolean polynomials of boolean inputs.
    """
    out: list[Signal] = []
    carry: Signal | None = None
    for i, bit in enumerate(bits):
        c = (constant >> i) & 1
        if carry is None:
            if c:
                out.append(1 - bit)
                carry = bit + 0
            else:
                out.append(bit + 0)
            continue
        both = b.mul(bit, carry)
        if c:
            out.append(1 - bit - carry + both * 2)  # bit + carry + 1: sum bit
            carry = bit + carry - both  # OR
        else:
            out.append(bit + carry - both * 2)  # XOR
            carry = both
    return out


def _mul_prime_order(b: Builder, p: PointSignals, scalar_bits: Sequence[Signal]) -> PointSignals:
    """``[h] p`` for the strict 254-bit decomposition of h, and p in the order-l subgroup (caller-proven).

    Enforces ``p != O``. See :func:`scalar_mul_prime_order` for the algorithm and the exceptional-case
    argument. Cost: 3 + 252 (adder) + 4 + 6 * 249 + 2 + 12 * 4 + 8 = 1811 constraints.
    """
    k_bits = _add_constant(b, scalar_bits, _K_OFFSET)
    pm = _to_montgomery(b, p)
    acc = _montgomery_double(b, pm)  # [2]P: k_0 = 2
    top = _SCALAR_BITS - 1
    steps = PRIME_ORDER_MONTGOMERY_STEPS
    for i in range(top, top - steps, -1):
        # T = +P for a 1 bit, -P for a 0 bit: k_{j+1} = 2 k_j +- 1 lies in [2^(j+1) + 1, 3 * 2^(j+1) - 1].
        vt = b.mul(k_bits[i] * 2 - 1, pm[1])
        acc = _montgomery_double_add(b, acc, (pm[0], vt))
    edwards = _to_edwards(b, acc)
    px, py = p
    for i in range(top - steps, 0, -1):
        # k_j now exceeds l/3: the remaining steps use the complete law.
        edwards = _add(b, _double(b, edwards), (b.mul(k_bits[i] * 2 - 1, px), py))
    # Bit 0: the loop computed [2^253 + K - K_0 + 1]P; subtract P when K_0 = 0.
    k0 = k_bits[0]
    correction = (b.mul(1 - k0, -px), py + b.mul(k0, 1 - py))
    return _add(b, edwards, correction)


@gadget("scalar_mul_prime_order")
def scalar_mul_prime_order(b: Builder, point: Sequence[SignalLike], scalar: SignalLike) -> PointSignals:
    """``[h] point`` for a field element ``h`` and a point in the prime-order subgroup.

    Enforces: ``point`` is on the curve, in the order-l subgroup (:func:`assert_in_subgroup`) and not the
    identity; ``h`` is decomposed strictly (its 254 bits are unique, no ``h + r`` alias). The loop is the
    signed-digit double-and-add ``acc = (acc + T) + acc`` with ``T = +-point``, started at ``[2]point``, over
    the bits of ``K = h + 6l - 2^253``: it computes ``[2^253 + K]point = [h]point``. Since the multiples stay
    in ``[2^j + 1, 3 * 2^j - 1]``, the first 249 steps cannot hit an exceptional case in Montgomery form;
    the last 4 and the bit-0 correction use the complete Edwards law.
    Cost: 18 (subgroup) + 406 (strict bits) + 1811 = 2235 constraints.
    """
    p = _point(b, point)
    assert_in_subgroup(b, *p)
    h_bits = to_bits_strict(b, scalar)
    return _mul_prime_order(b, p, h_bits)


def scalar_mul_prime_order_native(point: tuple[int, int], scalar: int) -> tuple[int, int]:
    """Native twin of :func:`scalar_mul_prime_order`: ``ValueError`` unless ``point`` is in the order-l
    subgroup, not the identity, and ``0 <= scalar < r``."""
    if not 0 <= scalar < R:
        raise ValueError("the scalar must be a field element")
    if not bjj.in_subgroup(point) or tuple(point) == bjj.IDENTITY:
        raise ValueError("the base must be a non-identity point of the prime-order subgroup")
    return bjj.mul(point, scalar)
