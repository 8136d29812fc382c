"""Multi-scalar multiplication (MSM) on BN254 G1 and G2: ``sum_i k_i * P_i``.

Algorithm (Pippenger's bucket method, as used by every Groth16 prover):

* Scalars 0 and identity points are dropped; points with scalar 1 are summed on their own (one addition
  each, by pairwise halving in batches). The window width ``c`` is chosen from the number of remaining,
  non-trivial scalars with a cost model (:func:`window_bits`).
* G1 only, GLV decomposition (R. Gallant, R. Lambert, S. Vanstone, "Faster point multiplication on elliptic
  curves with efficient endomorphisms", CRYPTO 2001): BN254 has the endomorphism
  ``phi(x, y) = (beta * x, y) = lambda * (x, y)`` with beta, lambda cube roots of unity in Fq and Fr. Every
  scalar is split as ``k = k1 + k2 * lambda (mod r)`` with ``|k1|, |k2| < 2^126`` (Babai rounding in a
  reduced lattice basis, Guide to Elliptic Curve Cryptography, Alg. 3.74), so ``k * P = k1 * (+-P) +
  k2 * (+-phi(P))``: twice the points, half the bits. The bucket additions stay about the same, the bucket
  reductions and the window bookkeeping are halved, and the larger point count supports a wider window.
  G1 has cofactor 1, so the identity ``phi(P) = lambda * P`` holds for every point that passes validation.
  (G2 does not use its psi endomorphism: ``psi(P) = 6x^2 * P`` holds only inside the subgroup, and
  :func:`msm_g2` deliberately accepts any twist point without a subgroup check.)
* Signed digits: ``k + H``, with ``H = 2^(c-1) * sum_w 2^(c*w)``, is cut into plain c-bit windows ``e_w``;
  then ``k = sum_w (e_w - 2^(c-1)) * 2^(c*w)`` with digits in ``[-2^(c-1), 2^(c-1))``. No carry has to be
  propagated, so every window is independent. A negative digit puts ``-P`` into bucket ``|d|``, which halves
  the bucket count (2^(c-1) buckets per window).
* Bucket accumulation uses batch-affine addition: additions are collected into batches of independent
  additions that share a single field inversion through Montgomery's simultaneous-inversion trick
  (P. L. Montgomery, "Speeding the Pollard and elliptic curve methods of factorization", Math. Comp. 48,
  1987, §10.3.1). One affine addition then costs 6 field multiplications (vs 11 for a mixed Jacobian
  addition), which matters most in pure Python where every operation pays interpreter overhead. Equal
  x-coordinates (``P == Q`` doubling, ``P == -Q``) are detected in the batch and redone with the complete
  formulas.
* Streaming schedule (windows with at least :data:`STREAM_MIN_BUCKETS` buckets): a window's entries are
  taken in table order and added straight into their bucket accumulators, in batches of additions to
  distinct buckets (an entry whose bucket is already in the open batch waits for the next pass). The base
  points are then read sequentially and the accumulators (2^(c-1) points) stay in the CPU cache: reading
  the points bucket by bucket, at random, costs about 40% more per addition at 2^14 points. The variant
  table is kept as separate coordinate lists (structure of arrays), one pointer chase less per read.
  Windows with few possible buckets (the top window, small inputs) are summed bucket by bucket in rounds
  across all such windows (:func:`_sum_groups`), halving long buckets pairwise.
* Bucket reduction ``sum_j j * B_j`` is split as ``j = a*s + b``:
  ``sum_j j B_j = s * sum_a a * S_a + sum_b b * T_b`` with ``S_a = sum_b B_{as+b}`` and
  ``T_b = sum_a B_{as+b}``. The ``S_a`` and ``T_b`` are again independent sums (batched like the buckets);
  only the two short weighted sums (about ``2*sqrt(2^c)`` terms) are sequential running sums.
* The window sums are combined by Horner's rule with affine doublings.

G2 has the same structure over Fq2 = Fq[u]/(u^2 + 1); its batched inversion inverts the norms
``d0^2 + d1^2`` in Fq (q = 3 mod 4, so a non-zero Fq2 element has a non-zero norm).

Parallelism: with ``workers > 1`` the *windows* are split between processes (:mod:`.parallel`); each process
handles every point on its share of the windows, which keeps the larger window of the full point count.
The validated base points (for G1 with their negations and endomorphism images) are cached by object
identity, re-checked by value on every call, and reach the workers once; later calls send only small
integer codes and the scalars.

Not constant time: the running time depends on the scalars. Use it for proving, where this is accepted
(gnark and snarkjs do the same), never for secret-key operations that face a remote timing attacker.
"""

from __future__ import annotations

import gc
import math
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache, partial
from itertools import chain, compress, cycle, repeat
from operator import add, and_, is_not, itemgetter, mod, mul, rshift, sub, truth, xor
from typing import Any, Final

from zkhealth._bigint import HAVE_GMPY2, invert, mpz
from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    InputLengthError,
    InvalidArgumentError,
    PointError,
    PointNotOnCurveError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat import parallel

if HAVE_GMPY2:
    from gmpy2 import pack as _gmpy2_pack

Fq2 = tuple[int, int]
G1 = tuple[int, int]
G2 = tuple[Fq2, Fq2]

_Q: Final[Any] = mpz(FIELD_Q)
_ONE: Final[Any] = mpz(1)
_ZERO: Final[Any] = mpz(0)
_INT_TYPES: Final[tuple[type, ...]] = (int, type(mpz(0)))
#: Twist coefficient b' = 3 / (9 + u) of G2: y^2 = x^3 + b'.
_B2: Final[tuple[Any, Any]] = (
    mpz(19485874751759354771024239261021720505790618469301721065564631296452457478373),
    mpz(266929791119991161246907387137283842545076965332900288569378510910307636690),
)
#: GLV endomorphism of G1: phi(x, y) = (BETA * x, y) = LAMBDA * (x, y); BETA^3 = 1 in Fq, LAMBDA^3 = 1 in Fr.
GLV_BETA: Final[int] = 2203960485148121921418603742825762020974279258880205651966
GLV_LAMBDA: Final[int] = 4407920970296243842393367215006156084916469457145843978461
#: A reduced basis (a1, b1), (a2, b2) of the lattice {(a, b) : a + b * LAMBDA = 0 mod r}, from the extended
#: Euclidean algorithm on (r, LAMBDA) (Guide to Elliptic Curve Cryptography, Alg. 3.74).
_GLV_A1: Final[int] = 9931322734385697763
_GLV_B1: Final[int] = -147946756881789319000765030803803410728
_GLV_A2: Final[int] = 147946756881789319010696353538189108491
_GLV_B2: Final[int] = 9931322734385697763
_GLV_DET: Final[int] = _GLV_A1 * _GLV_B2 - _GLV_A2 * _GLV_B1  # = r
#: |k1|, |k2| < 2^GLV_BITS: Babai rounding leaves coefficients of at most 1/2 on each basis vector, so
#: |k1| <= (|a1| + |a2|) / 2 and |k2| <= (|b1| + |b2|) / 2.
GLV_BITS: Final[int] = max((abs(_GLV_A1) + abs(_GLV_A2)) // 2, (abs(_GLV_B1) + abs(_GLV_B2)) // 2).bit_length()
_BETA: Final[Any] = mpz(GLV_BETA)
#: Batched additions are issued in chunks of at most this many pairs, and buckets are accumulated this
#: many at a time, so that each batch's operands stay in the CPU cache between its two passes.
CHUNK: Final[int] = 384
#: Below this many non-trivial scalars a parallel split costs more than it saves.
PARALLEL_THRESHOLD: Final[int] = 512
#: Point lists at least this long are cached after validation (by identity, re-checked by value).
_CACHE_MIN_LEN: Final[int] = 64
_CACHE_SIZE: Final[int] = 8
#: Cost of one bucket in the window cost model, in units of one bucket addition (measured).
_REDUCTION_WEIGHT: Final[float] = 3.0
#: The same for G1. It was 5.0, fitted under load (6-9 on 2 cores), where caches are shared with other work;
#: on a quiet machine, with the prover's two processes busy (each on its own core), 5.0 picks c one or two
#: bits too narrow below 2^15 entries. Measured (G1 random scalars, CPU seconds, best of 3, two copies of the
#: sweep running at once): 5,000 entries 0.247 / 0.201 / 0.200 at c = 8 (5.0's pick) / 9 / 10 (3.0's pick);
#: 20,000 entries 0.392 at c = 10 (5.0's pick) against 0.382 at c = 11 (3.0's pick); 40,000 entries 0.684
#: at c = 11 against 0.697 at c = 12, hence :data:`MAX_WINDOW_G1_BELOW`.
_REDUCTION_WEIGHT_G1: Final[float] = 3.0
#: Widest windows the planner uses. The streaming accumulation keeps one accumulator per bucket, 2^(c-1)
#: points, and is fast while they stay in the CPU cache; the cost model ignores that and picks c = 16 for
#: 2^17 G1 entries and c = 12-13 for 2^15-2^16 G2 points. Measured (points/s, one core): G1 2^17 entries
#: 23,400 at c = 12-13, 17,500 at c = 16; G2 2^15 points 9,990 at c = 10, 8,980 at c = 12, 8,300 at c = 13.
#: Later, in one process alternating the widths on the same points (G1 random scalars, 2^16 points, CPU
#: time, medians of 3, load 2-4, 4 pairs): 25,300-26,900 points/s at c = 12 against 23,100-26,200 at c = 13,
#: and at 2^17 points (medians of 2, 2 pairs, load 2.4-3.5) 24,800-26,700 against 22,500-23,700, so G1 is
#: capped at 12 (not measured above 2^17 points). G2 was capped at 10 from single-MSM runs; whole proofs at
#: 2^16 (two processes, quiet, alternating, medians of 4) take 7.26 s with G2 capped at 10, 7.14 s at 11 and
#: 7.07 s at 12 (the model's pick there is 13), so G2 is capped at 12 too.
MAX_WINDOW_G1: Final[int] = 12
MAX_WINDOW_G2: Final[int] = 12
#: G1 below :data:`WIDE_WINDOW_MIN_G1` entries is capped one bit narrower: at 40,000 entries c = 12 has 6%
#: fewer additions than c = 11 but each costs about 9% more (2^11 accumulators spill from the per-core
#: cache); from 2^16 entries on the fewer additions win (whole proofs at 2^16, G1 capped at 11: 7.50 s,
#: at 12: 7.29 s).
MAX_WINDOW_G1_BELOW: Final[int] = 11
WIDE_WINDOW_MIN_G1: Final[int] = 1 << 16


# --------------------------------------------------------------------------- window choice


def window_bits(n: int, bits: int = 254, weight: float = _REDUCTION_WEIGHT) -> int:
    """Return the window width c for ``n`` bucket entries with scalars below ``2^bits``.

    Minimises a cost model counted in batched additions, per window: bucket additions
    ``n - m*(1 - exp(-n/m))`` (m = 2^(c-1) buckets, the subtracted term being the expected number of
    non-empty buckets), about ``2m`` for the bucket reduction, plus a per-bucket bookkeeping charge
    (``weight * m`` in all).
    """
    best_c, best_cost = 2, math.inf
    for c in range(2, 21):
        m = 1 << (c - 1)
        per_window = n - m * (1.0 - math.exp(-n / m)) + weight * m + 2 * math.sqrt(m) + c
        cost = _signed_window_count(bits, c) * per_window
        if cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def glv_split(k: int) -> tuple[int, int]:
    """Return ``(k1, k2)`` with ``k = k1 + k2 * GLV_LAMBDA (mod r)`` and ``|k1|, |k2| < 2^GLV_BITS``.

    ``k`` may be any int (callers pass values in [0, r)). Babai rounding against the fixed reduced basis;
    cost: four multiplications and two divisions of numbers below 2^400.
    """
    det = _GLV_DET
    c1 = (2 * _GLV_B2 * k + det) // (2 * det)
    c2 = (det - 2 * _GLV_B1 * k) // (2 * det)
    return k - c1 * _GLV_A1 - c2 * _GLV_A2, -c1 * _GLV_B1 - c2 * _GLV_B2


def glv_splits(scalars: Sequence[int]) -> list[tuple[int, int]]:
    """``[glv_split(k) for k in scalars]``, the same values, with the constants hoisted out of the loop: for
    the plans of several G1 MSMs over the same scalars (:func:`plan_msm`'s ``splits``; Groth16's A and B1
    share the witness). Cost: about 0.85 us a scalar (2^16 scalars: 0.056 s, against 0.069 s call by call)."""
    det = _GLV_DET
    det2 = 2 * det
    b2x2 = 2 * _GLV_B2
    b1x2 = 2 * _GLV_B1
    a1, a2, b1, b2 = _GLV_A1, _GLV_A2, _GLV_B1, _GLV_B2
    out: list[tuple[int, int]] = []
    keep = out.append
    for k in scalars:
        k = int(k)
        c1 = (b2x2 * k + det) // det2
        c2 = (det - b1x2 * k) // det2
        keep((k - c1 * a1 - c2 * a2, -c1 * b1 - c2 * b2))
    return out


def _signed_window_count(bits: int, c: int) -> int:
    """Fewest c-bit windows W such that (2^bits - 1) + H < 2^(c*W) (signed digits without a carry-out)."""
    w = 1
    while True:
        offset = (1 << (c - 1)) * (((1 << (c * w)) - 1) // ((1 << c) - 1))
        if (1 << bits) - 1 + offset < (1 << (c * w)):
            return w
        w += 1


# --------------------------------------------------------------------------- input checks


def _check_scalars(scalars: Sequence[int], count: int) -> None:
    if len(scalars) != count:
        raise InputLengthError(f"msm: {count} points but {len(scalars)} scalars")
    for k in scalars:
        if k.__class__ not in _INT_TYPES:
            if isinstance(k, bool) or not isinstance(k, int):
                raise FieldTypeError(f"msm: scalar must be an int, got {type(k).__name__}")
        if not 0 <= k < FIELD_R:
            raise FieldRangeError("msm: scalar is not in [0, r)")


def _coordinate(value: object, what: str) -> Any:
    if value.__class__ not in _INT_TYPES or isinstance(value, bool):
        raise PointError(f"{what}: coordinate must be an int, got {type(value).__name__}")
    if not 0 <= value < FIELD_Q:  # type: ignore[operator]
        raise PointError(f"{what}: coordinate is not in [0, q)")
    return mpz(value)


def _pair(value: object, what: str) -> tuple[object, object]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise PointError(f"{what}: expected a pair, got {type(value).__name__}")
    return value[0], value[1]


def _normalize_g1(points: Sequence[G1 | None]) -> tuple[tuple[Any, ...], bool]:
    """Validated points with backend-typed coordinates, and whether every input point was immutable."""
    out: list[Any] = []
    q = _Q
    frozen = True
    for p in points:
        if p is None:
            out.append(None)
            continue
        frozen = frozen and type(p) is tuple
        x0, y0 = _pair(p, "G1 point")
        x = _coordinate(x0, "G1 point")
        y = _coordinate(y0, "G1 point")
        if (y * y - x * x * x - 3) % q:
            raise PointNotOnCurveError("G1 point is not on y^2 = x^3 + 3")
        out.append((x, y))
    return tuple(out), frozen


def _normalize_g2(points: Sequence[G2 | None]) -> tuple[tuple[Any, ...], bool]:
    """Validated points with backend-typed coordinates, and whether every input point was immutable."""
    out: list[Any] = []
    q = _Q
    b0, b1 = _B2
    frozen = True
    for p in points:
        if p is None:
            out.append(None)
            continue
        xp, yp = _pair(p, "G2 point")
        frozen = frozen and type(p) is tuple and type(xp) is tuple and type(yp) is tuple
        xa, xb = _pair(xp, "G2 point x")
        ya, yb = _pair(yp, "G2 point y")
        x0, x1 = _coordinate(xa, "G2 point"), _coordinate(xb, "G2 point")
        y0, y1 = _coordinate(ya, "G2 point"), _coordinate(yb, "G2 point")
        # y^2 - x^3 - b' == 0 in Fq2 (u^2 = -1)
        s0 = x0 * x0 - x1 * x1
        s1 = 2 * x0 * x1
        c0 = s0 * x0 - s1 * x1
        c1 = s0 * x1 + s1 * x0
        if (y0 * y0 - y1 * y1 - c0 - b0) % q or (2 * y0 * y1 - c1 - b1) % q:
            raise PointNotOnCurveError("G2 point is not on the twist y^2 = x^3 + 3/(9+u)")
        out.append(((x0, x1), (y0, y1)))
    return tuple(out), frozen


def _fast_coordinates(
    points: Sequence[Any], width: int, checked: bool = False
) -> tuple[list[list[Any]], bytes] | None:
    """Coordinate lists of the non-identity points (as ``mpz``) and the presence mask, checked with
    whole-list operations (types, range, curve equation); None when some point is not a well-formed tuple
    of ints or fails a check, so that the point-by-point path (:func:`_normalize_g1` / ``_g2``) raises the
    precise error. ``width`` is 2 for G1 ``(x, y)``, 4 for G2 ``((x0, x1), (y0, y1))``. About 0.3 us per
    G1 point instead of 1.5 us point by point. ``checked=True`` skips the range and curve checks (the
    caller checked them already)."""
    present = bytes(map(is_not, points, repeat(None)))
    pts = list(compress(points, present))
    if not set(map(type, pts)) <= {tuple} or not set(map(len, pts)) <= {2}:
        return None
    if width == 2:
        raw = [list(map(itemgetter(0), pts)), list(map(itemgetter(1), pts))]
    else:
        halves = [list(map(itemgetter(0), pts)), list(map(itemgetter(1), pts))]
        if not all(set(map(type, h)) <= {tuple} and set(map(len, h)) <= {2} for h in halves):
            return None
        raw = [list(map(itemgetter(k), h)) for h in halves for k in (0, 1)]
    if checked:
        return [list(map(mpz, col)) for col in raw], present
    for col in raw:
        if not set(map(type, col)) <= set(_INT_TYPES) or (col and (min(col) < 0 or max(col) >= FIELD_Q)):
            return None
    cols = [list(map(mpz, col)) for col in raw]
    q = _Q
    qs = repeat(q)
    if width == 2:
        xs, ys = cols
        x3 = map(mul, map(mul, xs, xs), xs)
        if any(map(mod, map(sub, map(sub, map(mul, ys, ys), x3), repeat(3)), qs)):
            return None
        return cols, present
    x0, x1, y0, y1 = cols
    s0 = list(map(sub, map(mul, x0, x0), map(mul, x1, x1)))
    s1 = list(map(mul, map(mul, x0, x1), repeat(2)))
    c0 = map(sub, map(mul, s0, x0), map(mul, s1, x1))
    c1 = map(add, map(mul, s0, x1), map(mul, s1, x0))
    b0, b1 = _B2
    bad0 = map(mod, map(sub, map(sub, map(sub, map(mul, y0, y0), map(mul, y1, y1)), c0), repeat(b0)), qs)
    if any(bad0):
        return None
    bad1 = map(mod, map(sub, map(sub, map(mul, map(mul, y0, y1), repeat(2)), c1), repeat(b1)), repeat(q))
    if any(bad1):
        return None
    return cols, present


def _spread(values: list[Any], present: bytes, repeat_each: int) -> list[Any]:
    """``values`` (one per present point) laid out ``repeat_each`` times per point, None for identities."""
    n = len(present)
    if len(values) != n:
        full: list[Any] = [None] * n
        for i, v in zip(compress(range(n), present), values, strict=True):
            full[i] = v
        values = full
    if repeat_each == 1:
        return values
    out: list[Any] = [None] * (repeat_each * n)
    for k in range(repeat_each):
        out[k::repeat_each] = values
    return out


class _Table:
    """Point variants in structure-of-arrays form: coordinate list ``k`` holds that coordinate of every variant.

    G1 (GLV): variant ``4 i + v`` of point i is P, -P, phi(P), -phi(P) for v = 0..3, in two lists ``(x, y)``;
    G2: variant ``2 i + v`` is P, -P, in four lists ``(x0, x1, y0, y1)``. A variant's negation is at code
    ``code ^ 1``. Negated y are stored reduced (``q - y``); x objects are shared between P and -P. Identity
    points get placeholder slots that are never read. Separate coordinate lists instead of one tuple per
    variant save a pointer chase (and a cache line) per read, which is what the bucket accumulation is bound by.
    """

    __slots__ = ("coords", "stride")

    def __init__(self, coords: tuple[list[Any], ...], stride: int) -> None:
        self.coords = coords
        self.stride = stride

    def points(self, codes: Sequence[int]) -> list[Any]:
        """The variants ``codes`` as affine tuples (the form of the grouped and reduction paths)."""
        cols = [list(map(col.__getitem__, codes)) for col in self.coords]
        if self.stride == 4:
            return list(zip(cols[0], cols[1], strict=True))
        return list(zip(zip(cols[0], cols[1], strict=True), zip(cols[2], cols[3], strict=True), strict=True))


class _Prepared:
    """The :class:`Bases` of one point sequence, and its :mod:`.parallel` dataset token (0 until a parallel
    call needs it)."""

    __slots__ = ("bases", "token")

    def __init__(self, bases: Bases) -> None:
        self.bases = bases
        self.token = 0


_CACHE_LOCK = threading.Lock()
_POINT_CACHE: OrderedDict[tuple[str, int], tuple[object, tuple[object, ...], _Prepared]] = OrderedDict()


def _prepared(kind: str, points: Sequence[Any]) -> tuple[_Prepared, bool]:
    """Validate and prepare ``points`` once; cache the result by identity, re-checked by value each call.

    Only sequences of immutable points (tuples of ints) are cached, so the value check (a C-speed tuple
    comparison, identity-fast when nothing changed) sees every mutation. Returns the record and whether it
    is cached (a cached record keeps its dataset token for later calls).
    """
    snapshot = tuple(points)
    key = (kind, id(points))
    with _CACHE_LOCK:
        hit = _POINT_CACHE.get(key)
        if hit is not None and hit[0] is points and hit[1] == snapshot:
            _POINT_CACHE.move_to_end(key)
            return hit[2], True
    record = _Prepared(prepare_g1(snapshot) if kind == "g1" else prepare_g2(snapshot))
    if len(snapshot) >= _CACHE_MIN_LEN and _frozen(kind, snapshot):
        with _CACHE_LOCK:
            _POINT_CACHE[key] = (points, snapshot, record)
            while len(_POINT_CACHE) > _CACHE_SIZE:
                _POINT_CACHE.popitem(last=False)
        return record, True
    return record, False


def _frozen(kind: str, points: Sequence[Any]) -> bool:
    """Whether every point is immutable all the way down (tuples of ints), so a value check sees changes."""
    pts = [p for p in points if p is not None]
    if not set(map(type, pts)) <= {tuple}:
        return False
    if kind == "g2":
        return set(map(type, chain.from_iterable(pts))) <= {tuple}
    return True


# --------------------------------------------------------------------------- G1 affine arithmetic


def _g1_add(p: Any, r: Any) -> Any:
    """Complete affine addition (one inversion)."""
    if p is None:
        return r
    if r is None:
        return p
    q = _Q
    x1, y1 = p
    x2, y2 = r
    if x1 == x2:
        if (y1 - y2) % q or not y1 % q:
            return None
        lam = 3 * x1 * x1 * invert(2 * y1 % q, q) % q
    else:
        lam = (y2 - y1) * invert((x2 - x1) % q, q) % q
    x3 = (lam * lam - x1 - x2) % q
    return (x3, (lam * (x1 - x3) - y1) % q)


def _g1_double_n(p: Any, n: int) -> Any:
    q = _Q
    for _ in range(n):
        if p is None:
            return None
        x, y = p
        if not y % q:
            return None
        lam = 3 * x * x * invert(2 * y % q, q) % q
        x3 = (lam * lam - 2 * x) % q
        p = (x3, (lam * (x - x3) - y) % q)
    return p


def _g1_batch_add(lhs: list[Any], rhs: list[Any]) -> tuple[list[Any], bool]:
    """Return ``[lhs[i] + rhs[i]]`` (affine, non-identity inputs) with one inversion for the whole batch.

    The second result is True if some pair had equal x (that sum is then redone with :func:`_g1_add`,
    possibly giving None). Output x is reduced; output y is left unreduced (|y| < 2^520): it only ever
    enters differences and the final reduction, and skipping its ``% q`` saves a tenth of the time.
    Cost per pair: 6 multiplications and 4 reductions; plus one inversion per batch.
    """
    q = _Q
    acc = _ONE
    prefix: list[Any] = []
    keep = prefix.append
    special = False
    for (x1, _), (x2, _) in zip(lhs, rhs, strict=True):
        keep(acc)
        d = x2 - x1
        if d:
            acc = acc * d % q
        else:
            special = True
    inv = invert(acc, q)
    out: list[Any] = []
    emit = out.append
    if special:
        for (x1, y1), (x2, y2), pre in zip(reversed(lhs), reversed(rhs), reversed(prefix), strict=True):
            d = x2 - x1
            if not d:
                emit(None)
                continue
            lam = (y2 - y1) * pre * inv % q
            inv = inv * d % q
            x3 = (lam * lam - x1 - x2) % q
            emit((x3, lam * (x1 - x3) - y1))
        out.reverse()
        for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)):
            if p[0] == r[0]:
                out[i] = _g1_add(p, r)
        return out, True
    for (x1, y1), (x2, y2), pre in zip(reversed(lhs), reversed(rhs), reversed(prefix), strict=True):
        lam = (y2 - y1) * pre * inv % q
        inv = inv * (x2 - x1) % q
        x3 = (lam * lam - x1 - x2) % q
        emit((x3, lam * (x1 - x3) - y1))
    out.reverse()
    return out, False


def _chunked(batch_add: Any, lhs: list[Any], rhs: list[Any]) -> tuple[list[Any], bool]:
    """``batch_add`` over :data:`CHUNK`-sized slices (cache-friendly; one inversion per slice)."""
    size = len(lhs)
    if size <= CHUNK:
        out: list[Any]
        out, special = batch_add(lhs, rhs)
        return out, special
    out = []
    special = False
    for start in range(0, size, CHUNK):
        part, flag = batch_add(lhs[start : start + CHUNK], rhs[start : start + CHUNK])
        out += part
        special = special or flag
    return out, special


def _sum_groups(groups: list[list[Any]], batch_add: Any) -> list[Any]:
    """Sum every group of affine points; the result for an empty group is None.

    Column schedule: groups are sorted by length and taken :data:`CHUNK` at a time; round t adds element t
    of every group of the chunk longer than t to that group's accumulator. Each round is one batch of
    independent additions (one inversion), and the bookkeeping is a list comprehension per round rather
    than Python work per group. Additions: total points minus non-empty groups.
    """
    count = len(groups)
    lens = list(map(len, groups))
    order = sorted(range(count), key=lens.__getitem__, reverse=True)
    live_total = count
    while live_total and not lens[order[live_total - 1]]:
        live_total -= 1
    out: list[Any] = [None] * count
    for start in range(0, live_total, CHUNK):
        idxs = order[start : min(start + CHUNK, live_total)]
        chunk = [groups[i] for i in idxs]
        sizes = [lens[i] for i in idxs]
        acc: list[Any] = [g[0] for g in chunk]
        live = len(chunk)
        has_none = False
        t = 1
        while True:
            while live and sizes[live - 1] <= t:
                live -= 1
            if not live:
                break
            if live <= 64 and sizes[0] - t > 64:
                # A few long groups remain (the top window has only a handful of digit values, and the
                # scalar-1 points form one group): sum their tails by pairwise halving, which needs
                # log2(length) rounds instead of length rounds.
                tails = [([a] if a is not None else []) + g[t:] for a, g in zip(acc[:live], chunk[:live], strict=True)]
                acc[:live] = _sum_groups_halving(tails, batch_add)
                break
            rhs = [g[t] for g in chunk[:live]]
            lhs = acc[:live]
            if has_none:
                sums, special = _batch_add_some(batch_add, lhs, rhs)
            else:
                sums, special = batch_add(lhs, rhs)
            acc[:live] = sums
            if special:
                has_none = has_none or None in sums
            t += 1
        for i, p in zip(idxs, acc, strict=True):
            out[i] = p
    return out


def _sum_groups_halving(groups: list[list[Any]], batch_add: Any) -> list[Any]:
    """Sum every group by pairwise rounds (each round halves every group; one chunked batch per round)."""
    out: list[Any] = [None] * len(groups)
    pending = []
    for i, g in enumerate(groups):
        if len(g) > 1:
            pending.append((i, g))
        elif g:
            out[i] = g[0]
    while pending:
        lhs: list[Any] = []
        rhs: list[Any] = []
        for _, g in pending:
            h = len(g) & ~1
            lhs += g[0:h:2]
            rhs += g[1:h:2]
        sums, special = _chunked(batch_add, lhs, rhs)
        nxt = []
        pos = 0
        for i, g in pending:
            h = len(g) >> 1
            ng = sums[pos : pos + h]
            pos += h
            if len(g) & 1:
                ng.append(g[-1])
            if special:
                ng = [p for p in ng if p is not None]
            if len(ng) > 1:
                nxt.append((i, ng))
            elif ng:
                out[i] = ng[0]
        pending = nxt
    return out


def _batch_add_some(batch_add: Any, lhs: list[Any], rhs: list[Any]) -> tuple[list[Any], bool]:
    """Like ``batch_add`` but ``lhs`` may hold None (an identity left by ``P + (-P)``)."""
    idx = [i for i, p in enumerate(lhs) if p is not None]
    out = list(rhs)
    sums, special = batch_add([lhs[i] for i in idx], [rhs[i] for i in idx])
    for i, p in zip(idx, sums, strict=True):
        out[i] = p
    return out, special


def _weighted_sum(terms: list[Any], add: Any) -> Any:
    """Return ``sum_{i>=1} i * terms[i-1]`` by a running sum (2 additions per term)."""
    running = None
    total = None
    for p in reversed(terms):
        if p is not None:
            running = add(running, p)
        if running is not None:
            total = add(total, running)
    return total


@lru_cache(maxsize=32)
def _digit_maps(c: int) -> tuple[list[int], list[int]]:
    """For a window value e in [0, 2^c): its bucket ``|e - 2^(c-1)|`` (0: digit 0, skipped) and whether the
    digit is negative (1: the entry adds the negated variant, ``code ^ 1``)."""
    half = 1 << (c - 1)
    return [abs(e - half) for e in range(1 << c)], [int(e < half) for e in range(1 << c)]


def _window_entries(codes: list[int], kk: list[int], c: int, w: int) -> tuple[list[int], list[int]]:
    """Bucket and signed variant code of every entry in window w (whole-list operations, no Python loop)."""
    bucket_of, negative = _digit_maps(c)
    mask = (1 << c) - 1
    es = list(map(and_, map(rshift, kk, repeat(c * w)), repeat(mask)))
    return list(map(bucket_of.__getitem__, es)), list(map(xor, codes, map(negative.__getitem__, es)))


#: :class:`_Digits` needs 32-bit ``array`` items and digits that fit the 3 bytes it reads (c <= 16).
_PACKED_DIGITS: Final[bool] = array("I").itemsize == 4
_PACKED_MAX_C: Final[int] = 16


@lru_cache(maxsize=8)
def _slot_masks(n: int, c: int) -> tuple[int, int, int, int, int]:
    """For n 32-bit slots: 1 in every slot, then ``2^c - 1``, ``2^(c-1) - 1`` and ``2^(c-1)`` in every slot."""
    ones = int.from_bytes(b"\x01\x00\x00\x00" * n, "little")
    half = 1 << (c - 1)
    return ones, ones * ((1 << c) - 1), ones * (half - 1), ones * half, (1 << c) - 1


class _Digits:
    """A plan's entries packed once for :meth:`window`, which returns what :func:`_window_entries` does (the
    bucket and signed variant code of every entry in a window) from a few whole-integer operations on one
    integer with a 32-bit slot per entry, instead of four passes over Python lists (measured: 10 against 22 ms
    for a window of 2^17 entries). Built lazily in each process that uses the plan (never pickled)."""

    __slots__ = ("raw", "codes", "slot", "count")

    def __init__(self, codes: list[int], kk: list[int], c: int, windows: int) -> None:
        self.count = len(kk)
        self.slot = (c * windows + 7) // 8 + 1  # bytes per scalar; the spare byte and the tail pad cover a read
        if HAVE_GMPY2:
            raw = _packed_bytes(_gmpy2_pack(kk, 8 * self.slot), self.slot * self.count) if kk else b""
        else:
            raw = b"".join([k.to_bytes(self.slot, "little") for k in kk])
        self.raw = raw + bytes(3)
        packed = array("I", codes)
        if sys.byteorder == "big":
            packed.byteswap()
        self.codes = packed.tobytes()

    def window(self, c: int, w: int, start: int, stop: int) -> tuple[list[int], list[int]]:
        """Buckets and signed codes of entries start..stop-1 in window w (``c`` at most 16)."""
        n = stop - start
        if n <= 0:
            return [], []
        slot = self.slot
        j0, shift = divmod(c * w, 8)
        first = start * slot + j0
        last = first + slot * (n - 1) + 1
        gathered = bytearray(4 * n)  # the 3 bytes holding the digit, one 32-bit slot per entry
        raw = self.raw
        gathered[0::4] = raw[first:last:slot]
        gathered[1::4] = raw[first + 1 : last + 1 : slot]
        gathered[2::4] = raw[first + 2 : last + 2 : slot]
        ones, digit_mask, low_mask, halves, digit_max = _slot_masks(n, c)
        e = (int.from_bytes(gathered, "little") >> shift) & digit_mask  # the window value, 0 .. 2^c - 1
        negative = ((e >> (c - 1)) & ones) ^ ones  # e < 2^(c-1): the signed digit e - 2^(c-1) is negative
        low = e & low_mask
        # bucket |e - 2^(c-1)|: low where the digit is >= 0, 2^(c-1) - low where it is negative (no slot borrows)
        buckets = low ^ ((negative * digit_max) & (low ^ (halves - low)))
        signed = int.from_bytes(self.codes[4 * start : 4 * stop], "little") ^ negative
        out_b = array("I", buckets.to_bytes(4 * n, "little"))
        out_s = array("I", signed.to_bytes(4 * n, "little"))
        if sys.byteorder == "big":
            out_b.byteswap()
            out_s.byteswap()
        return out_b.tolist(), out_s.tolist()


def _packed_bytes(packed: Any, size: int) -> bytes:
    """``packed`` (a ``gmpy2.pack`` result) as ``size`` little-endian bytes: ``mpz.to_bytes`` from gmpy2 2.2 on,
    through a Python int before (gmpy2 2.1 has no ``to_bytes``)."""
    to_bytes = getattr(packed, "to_bytes", None)
    if to_bytes is not None:
        return bytes(to_bytes(size, "little"))
    return int(packed).to_bytes(size, "little")


#: :func:`_accumulate`'s stamp of an empty bucket: above every batch number it reaches.
_EMPTY: Final[int] = 1 << 62


def _accumulate(acc: tuple[list[Any], ...], table: _Table, codes: list[int], buckets: list[int], flush: Any) -> None:
    """Add variant ``codes[i]`` into bucket ``buckets[i]`` (0: skip) for every entry, in place in ``acc``.

    Streaming schedule: entries are taken in table order (so the base points are read sequentially, not at
    random) and collected into batches of at most :data:`CHUNK` additions to distinct buckets, each batch
    sharing one inversion (``flush``). An entry whose bucket already has an addition in the open batch waits
    for the next pass; an empty bucket (``None``) takes its first entry without an addition. The bucket
    accumulators, about 2^(c-1) points, stay in the CPU cache; this is what makes the schedule faster than
    reading the points bucket by bucket. Windows whose entries fall into few buckets (the top window, small
    windows) and long waiting lists are summed by :func:`_sum_groups` instead.
    """
    first = acc[0]
    coords = table.coords
    # stamp[b]: _EMPTY while bucket b is empty (its first entry is taken without an addition), else the number
    # of the last batch that took it; one list read and, for the common case (an addition), one comparison
    # per entry decide between adding, waiting and filling.
    stamp = [_EMPTY if v is None else 0 for v in first]
    epoch = 1
    # Batches of at most an eighth of the buckets: about 6% of the entries then meet a bucket that already
    # has an addition in the open batch (birthday bound) and wait for the next pass.
    chunk = max(2, min(CHUNK, len(first) >> 3))
    total = len(codes)
    while True:
        bb: list[int] = []
        rc: list[int] = []
        add_b = bb.append
        add_c = rc.append
        wait_c: list[int] = []
        wait_b: list[int] = []
        wait_code = wait_c.append
        wait_bucket = wait_b.append
        left = chunk
        for code, b in zip(codes, buckets, strict=True):
            state = stamp[b]
            if state < epoch:
                stamp[b] = epoch
                add_b(b)
                add_c(code)
                left -= 1
                if not left:
                    if flush(acc, coords, bb, rc):
                        _mark_emptied(stamp, first, bb)
                    bb.clear()
                    rc.clear()
                    left = chunk
                    epoch += 1
            elif state == epoch:
                wait_code(code)
                wait_bucket(b)
            elif b:  # bucket 0 (digit 0) stays empty: its entries are skipped
                for a, col in zip(acc, coords, strict=True):
                    a[b] = col[code]
                stamp[b] = 0
        if bb:
            if flush(acc, coords, bb, rc):
                _mark_emptied(stamp, first, bb)
            epoch += 1
        if not wait_c:
            return
        if 4 * len(wait_c) > total:
            _accumulate_grouped(acc, table, wait_c, wait_b, flush)
            return
        codes, buckets, total = wait_c, wait_b, len(wait_c)


def _mark_emptied(stamp: list[int], first: list[Any], bb: list[int]) -> None:
    """After a batch that emptied some buckets (a sum that is the identity): mark them empty again."""
    for b in bb:
        if first[b] is None:
            stamp[b] = _EMPTY


def _accumulate_grouped(
    acc: tuple[list[Any], ...], table: _Table, codes: list[int], buckets: list[int], flush: Any
) -> None:
    """Like :func:`_accumulate` for entries crowded into few buckets: sum each bucket's entries by pairwise
    rounds (:func:`_sum_groups`), then add the sums into the accumulators (one batch, distinct buckets)."""
    size = len(acc[0])
    groups: list[list[Any]] = [[] for _ in range(size)]
    appends = [g.append for g in groups]
    for point, b in zip(table.points(codes), buckets, strict=True):
        appends[b](point)
    groups[0] = []
    live = [b for b in range(1, size) if groups[b]]
    sums = _sum_groups([groups[b] for b in live], _g1_batch_add if table.stride == 4 else _g2_batch_add)
    first = acc[0]
    bb: list[int] = []
    rc: list[int] = []
    cols: tuple[list[Any], ...] = tuple([] for _ in acc)
    for b, point in zip(live, sums, strict=True):
        if point is None:
            continue
        flat = point if table.stride == 4 else (*point[0], *point[1])
        if first[b] is None:
            for a, v in zip(acc, flat, strict=True):
                a[b] = v
            continue
        for col, v in zip(cols, flat, strict=True):
            col.append(v)
        bb.append(b)
        rc.append(len(bb) - 1)
    if bb:
        flush(acc, cols, bb, rc)


#: Windows with fewer possible buckets than this are summed group by group (:func:`_accumulate_grouped`).
STREAM_MIN_BUCKETS: Final[int] = 256
#: A streamed window whose entries use at most 1/_SPREAD_MIN of its buckets spreads each bucket over
#: several accumulators (:func:`_window_sums`).
_SPREAD_MIN: Final[int] = 4


def _bucket_bound(top: int, c: int, w: int) -> int:
    """An upper bound on the buckets of window ``w`` of entries whose offset scalars are at most ``top``,
    without a pass over them. Every window value e = digit + 2^(c-1) gives bucket |e - 2^(c-1)| <= 2^(c-1).
    In the top window (``top >> c*w < 2^c``) e lies in [2^(c-1), top >> c*w]: the scalars are >= 0 and the
    offset H adds exactly 2^(c-1) there, while the lower windows' offsets stay below 2^(c*w)."""
    half = 1 << (c - 1)
    high = top >> (c * w)
    return high - half if half <= high < (1 << c) else half


def _window_sums(
    kind: str,
    table: _Table,
    codes: list[int],
    kk: list[int],
    c: int,
    lo: int,
    hi: int,
    entries: Any = None,
    top: int | None = None,
) -> list[Any]:
    """Bucket sums ``B_1 .. B_{2^(c-1)}`` of windows lo..hi-1, concatenated, as affine tuples (None: empty).

    Windows with many possible buckets stream (:func:`_accumulate`); the others (small windows, the top
    window) are grouped by bucket, and all their groups are summed together in one :func:`_sum_groups`
    call, whose batches then span windows."""
    half = 1 << (c - 1)
    g1 = kind == "g1"
    flush = _g1_flush if g1 else _g2_flush
    width = 2 if g1 else 4
    if top is None:
        top = max(kk) if kk else 0
    sums: list[Any] = [None] * (half * (hi - lo))
    grouped: list[list[Any]] = []
    slots: list[int] = []
    pos: list[Any] = []
    neg: list[Any] = []
    mask = (1 << c) - 1
    acc: tuple[list[Any], ...]
    for w in range(lo, hi):
        base = (w - lo) * half - 1  # bucket b of this window goes to sums[base + b]
        if min(half, (top >> (c * w)) + 1) < STREAM_MIN_BUCKETS:
            # Window value e = d + 2^(c-1) indexes a list directly: e > 2^(c-1) collects P (digit d > 0),
            # e < 2^(c-1) collects -P; bucket |d| is the concatenation of lists half + |d| and half - |d|.
            if not pos:
                pos = table.points(codes)
                neg = table.points(list(map(xor, codes, repeat(1))))
            shift = c * w
            lists: list[list[Any]] = [[] for _ in range(2 * half)]
            appends = [lst.append for lst in lists]
            for k, p, n in zip(kk, pos, neg, strict=True):
                e = (k >> shift) & mask
                appends[e](p if e > half else n)
            lists.append([])
            for b in range(1, half + 1):
                group = lists[half + b] + lists[half - b]
                if group:
                    grouped.append(group)
                    slots.append(base + b)
            continue
        buckets, signed = entries(w) if entries is not None else _window_entries(codes, kk, c, w)
        top_bucket = _bucket_bound(top, c, w)
        spread = half // (top_bucket + 1)
        if spread >= _SPREAD_MIN:
            # Few buckets for many entries (the top window, whose digits are the scalars' last few bits): each
            # bucket gets ``spread`` accumulators, entry i going to accumulator i mod spread, so that the
            # streaming schedule finds distinct accumulators for its batches (about 2^(c-1) of them, as in
            # the other windows) instead of making nearly every entry wait. The accumulators of a bucket are
            # summed with the grouped windows below (about 2^(c-1) additions, against one per entry).
            spread_at = map(add, map(mul, buckets, repeat(spread)), cycle(range(spread)))
            virtual = list(map(mul, spread_at, map(truth, buckets)))  # bucket 0 (digit 0) stays 0: skipped
            acc = tuple([None] * ((top_bucket + 1) * spread) for _ in range(width))
            _accumulate(acc, table, signed, virtual, flush)
            for b in range(1, top_bucket + 1):
                part = [col[b * spread : (b + 1) * spread] for col in acc]
                if g1:
                    group = [(x, y) for x, y in zip(*part, strict=True) if x is not None]
                else:
                    group = [((x0, x1), (y0, y1)) for x0, x1, y0, y1 in zip(*part, strict=True) if x0 is not None]
                if group:
                    grouped.append(group)
                    slots.append(base + b)
            continue
        acc = tuple([None] * (half + 1) for _ in range(width))
        _accumulate(acc, table, signed, buckets, flush)
        if g1:
            sums[base + 1 : base + 1 + half] = [
                None if x is None else (x, y) for x, y in zip(acc[0][1:], acc[1][1:], strict=True)
            ]
        else:
            sums[base + 1 : base + 1 + half] = [
                None if x0 is None else ((x0, x1), (y0, y1))
                for x0, x1, y0, y1 in zip(acc[0][1:], acc[1][1:], acc[2][1:], acc[3][1:], strict=True)
            ]
    if grouped:
        for slot, point in zip(slots, _sum_groups(grouped, _g1_batch_add if g1 else _g2_batch_add), strict=True):
            sums[slot] = point
    return sums


def _combine_windows(sums: list[Any], c: int, lo: int, hi: int, batch_add: Any, add: Any, double_n: Any) -> Any:
    """Turn bucket sums into ``sum_{w in [lo, hi)} 2^(c*w) * sum_j j * B_{w,j}``."""
    half = 1 << (c - 1)
    s = 1 << ((c - 1) // 2)
    a_max = half // s
    log_s = (c - 1) // 2
    groups: list[list[Any]] = []
    for wi in range(hi - lo):
        buckets = sums[wi * half : (wi + 1) * half]  # buckets[j - 1] = B_j
        for a in range(1, a_max + 1):
            groups.append([p for p in buckets[a * s - 1 : a * s + s - 1] if p is not None])
        for b in range(1, s):
            groups.append([p for p in buckets[b - 1 :: s] if p is not None])
    parts = _sum_groups(groups, batch_add)
    per = a_max + s - 1
    acc = None
    for wi in reversed(range(hi - lo)):
        acc = double_n(acc, c)
        chunk = parts[wi * per : (wi + 1) * per]
        high = double_n(_weighted_sum(chunk[:a_max], add), log_s)
        acc = add(acc, add(high, _weighted_sum(chunk[a_max:], add)))
    return double_n(acc, c * lo)


def _g1_flush(acc: tuple[list[Any], ...], coords: tuple[list[Any], ...], bb: list[int], rc: list[int]) -> bool:
    """``acc[b] += coords[c]`` for the pairs ``(b, c)`` of ``bb``, ``rc`` (distinct buckets, non-empty), one
    inversion for the batch. Same arithmetic and unreduced y as :func:`_g1_batch_add`; a pair with equal x
    (doubling, or a sum that is the identity, which empties the bucket) is redone with :func:`_g1_add`.
    Returns whether a bucket became empty (None)."""
    q = _Q
    ax, ay = acc
    xs, ys = coords
    prod = _ONE
    prefix: list[Any] = []
    keep = prefix.append
    for b, c in zip(bb, rc, strict=True):
        keep(prod)
        prod = prod * (xs[c] - ax[b]) % q
    if not prod:
        return _flush_special(acc, coords, bb, rc, _g1_flush)
    inv = invert(prod, q)
    for b, c, pre in zip(reversed(bb), reversed(rc), reversed(prefix), strict=True):
        x1 = ax[b]
        y1 = ay[b]
        x2 = xs[c]
        lam = (ys[c] - y1) * pre * inv % q
        inv = inv * (x2 - x1) % q
        x3 = (lam * lam - x1 - x2) % q
        ax[b] = x3
        ay[b] = lam * (x1 - x3) - y1
    return False


def _flush_special(
    acc: tuple[list[Any], ...], coords: tuple[list[Any], ...], bb: list[int], rc: list[int], flush: Any
) -> bool:
    """A batch with some equal x-coordinates: the others as a batch, those one by one (complete formulas).
    Returns whether a bucket became empty (a sum that is the identity)."""
    emptied = False
    g1 = len(acc) == 2
    plain_b: list[int] = []
    plain_c: list[int] = []
    for b, c in zip(bb, rc, strict=True):
        if g1:
            equal = acc[0][b] == coords[0][c]
        else:
            equal = acc[0][b] == coords[0][c] and acc[1][b] == coords[1][c]
        if not equal:
            plain_b.append(b)
            plain_c.append(c)
            continue
        if g1:
            total = _g1_add((acc[0][b], acc[1][b]), (coords[0][c], coords[1][c]))
            flat = (None, None) if total is None else total
        else:
            total = _g2_add(
                ((acc[0][b], acc[1][b]), (acc[2][b], acc[3][b])),
                ((coords[0][c], coords[1][c]), (coords[2][c], coords[3][c])),
            )
            flat = (None, None, None, None) if total is None else (*total[0], *total[1])
        emptied = emptied or total is None
        for a, v in zip(acc, flat, strict=True):
            a[b] = v
    if plain_b and flush(acc, coords, plain_b, plain_c):
        emptied = True
    return emptied


def _g1_task(
    table: _Table,
    codes: list[int],
    kk: list[int],
    c: int,
    lo: int,
    hi: int,
    entries: Any = None,
    top: int | None = None,
) -> Any:
    """Windows lo..hi-1 of the G1 bucket method; entry i is variant ``codes[i]`` with scalar ``kk[i] - H``."""
    sums = _window_sums("g1", table, codes, kk, c, lo, hi, entries, top)
    return _combine_windows(sums, c, lo, hi, _g1_batch_add, _g1_add, _g1_double_n)


# --------------------------------------------------------------------------- G2 affine arithmetic


def _fq2_inv(a0: Any, a1: Any) -> tuple[Any, Any]:
    q = _Q
    t = invert((a0 * a0 + a1 * a1) % q, q)
    return a0 * t % q, -a1 * t % q


def _g2_add(p: Any, r: Any) -> Any:
    """Complete affine addition on the twist (one Fq inversion)."""
    if p is None:
        return r
    if r is None:
        return p
    q = _Q
    (x0, x1), (y0, y1) = p
    (u0, u1), (v0, v1) = r
    y0, y1, v0, v1 = y0 % q, y1 % q, v0 % q, v1 % q  # batched sums leave y unreduced
    if x0 == u0 and x1 == u1:
        if y0 != v0 or y1 != v1 or not (y0 or y1):
            return None
        # lambda = 3 x^2 / (2 y)
        n0 = 3 * (x0 * x0 - x1 * x1)
        n1 = 6 * x0 * x1
        i0, i1 = _fq2_inv(2 * y0 % q, 2 * y1 % q)
    else:
        n0 = v0 - y0
        n1 = v1 - y1
        i0, i1 = _fq2_inv((u0 - x0) % q, (u1 - x1) % q)
    l0 = (n0 * i0 - n1 * i1) % q
    l1 = (n0 * i1 + n1 * i0) % q
    z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
    z1 = (2 * l0 * l1 - x1 - u1) % q
    f0 = x0 - z0
    f1 = x1 - z1
    return ((z0, z1), ((l0 * f0 - l1 * f1 - y0) % q, (l0 * f1 + l1 * f0 - y1) % q))


def _g2_double_n(p: Any, n: int) -> Any:
    for _ in range(n):
        if p is None:
            return None
        p = _g2_add(p, p)
    return p


def _g2_batch_add(lhs: list[Any], rhs: list[Any]) -> tuple[list[Any], bool]:
    """Batched affine additions on the twist; one Fq inversion of the product of all norms.

    Like :func:`_g1_batch_add`, output x is reduced and output y is left unreduced (it grows by at most
    2q^2 per addition and only enters differences, the complete formulas reduce it first). Cost per pair:
    about 40 big-integer operations.
    """
    q = _Q
    acc = _ONE
    prefix: list[Any] = []
    norms: list[Any] = []
    keep_pre = prefix.append
    keep_norm = norms.append
    special = False
    for ((x0, x1), _), ((u0, u1), _) in zip(lhs, rhs, strict=True):
        d0 = u0 - x0
        d1 = u1 - x1
        nrm = (d0 * d0 + d1 * d1) % q
        if not nrm:
            special = True
            nrm = _ONE
        keep_pre(acc)
        keep_norm(nrm)
        acc = acc * nrm % q
    inv = invert(acc, q)
    out: list[Any] = []
    emit = out.append
    for ((x0, x1), (y0, y1)), ((u0, u1), (v0, v1)), nrm, pre in zip(
        reversed(lhs), reversed(rhs), reversed(norms), reversed(prefix), strict=True
    ):
        t = inv * pre % q  # 1 / norm(d)
        inv = inv * nrm % q
        d0 = u0 - x0
        d1 = u1 - x1
        e0 = v0 - y0
        e1 = v1 - y1
        # lambda = e / d = e * conj(d) / norm(d)
        l0 = (e0 * d0 + e1 * d1) * t % q
        l1 = (e1 * d0 - e0 * d1) * t % q
        z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
        z1 = (2 * l0 * l1 - x1 - u1) % q
        f0 = x0 - z0
        f1 = x1 - z1
        emit(((z0, z1), (l0 * f0 - l1 * f1 - y0, l0 * f1 + l1 * f0 - y1)))
    out.reverse()
    if special:
        for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)):
            if p[0] == r[0]:
                out[i] = _g2_add(p, r)
    return out, special


def _g2_flush(acc: tuple[list[Any], ...], coords: tuple[list[Any], ...], bb: list[int], rc: list[int]) -> bool:
    """The G2 counterpart of :func:`_g1_flush` (arithmetic of :func:`_g2_batch_add`); the same return value."""
    q = _Q
    ax0, ax1, ay0, ay1 = acc
    x0s, x1s, y0s, y1s = coords
    prod = _ONE
    prefix: list[Any] = []
    norms: list[Any] = []
    keep = prefix.append
    keep_norm = norms.append
    for b, c in zip(bb, rc, strict=True):
        d0 = x0s[c] - ax0[b]
        d1 = x1s[c] - ax1[b]
        nrm = (d0 * d0 + d1 * d1) % q
        keep(prod)
        keep_norm(nrm)
        prod = prod * nrm % q
    if not prod:
        return _flush_special(acc, coords, bb, rc, _g2_flush)
    inv = invert(prod, q)
    for b, c, nrm, pre in zip(reversed(bb), reversed(rc), reversed(norms), reversed(prefix), strict=True):
        x0 = ax0[b]
        x1 = ax1[b]
        y0 = ay0[b]
        y1 = ay1[b]
        u0 = x0s[c]
        u1 = x1s[c]
        t = inv * pre % q  # reduced: the two products with t below are then half as long (3-4% faster)
        inv = inv * nrm % q
        d0 = u0 - x0
        d1 = u1 - x1
        e0 = y0s[c] - y0
        e1 = y1s[c] - y1
        l0 = (e0 * d0 + e1 * d1) * t % q
        l1 = (e1 * d0 - e0 * d1) * t % q
        z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
        z1 = (2 * l0 * l1 - x1 - u1) % q
        f0 = x0 - z0
        f1 = x1 - z1
        ax0[b] = z0
        ax1[b] = z1
        ay0[b] = l0 * f0 - l1 * f1 - y0
        ay1[b] = l0 * f1 + l1 * f0 - y1
    return False


def _g2_task(
    table: _Table,
    codes: list[int],
    kk: list[int],
    c: int,
    lo: int,
    hi: int,
    entries: Any = None,
    top: int | None = None,
) -> Any:
    """Windows lo..hi-1 of the G2 bucket method; entry i is variant ``codes[i]`` with scalar ``kk[i] - H``."""
    sums = _window_sums("g2", table, codes, kk, c, lo, hi, entries, top)
    return _combine_windows(sums, c, lo, hi, _g2_batch_add, _g2_add, _g2_double_n)


# --------------------------------------------------------------------------- driver


class Bases:
    """Validated base points prepared for repeated MSMs (a proving key's queries): the variant table
    (:class:`_Table`) and which points are the identity. Build with :func:`prepare_g1` / :func:`prepare_g2`;
    the object is read-only afterwards, so it can be shared with worker processes as a dataset."""

    __slots__ = ("count", "kind", "present", "table")

    def __init__(self, kind: str, present: bytes, table: _Table) -> None:
        self.kind = kind
        self.count = len(present)
        self.present = present
        self.table = table


def _g1_bases(cols: list[list[Any]], present: bytes, dense: bool = False) -> Bases:
    """G1 :class:`Bases` from validated coordinate lists: the variants P, -P, phi(P), -phi(P) per point.
    ``cols`` hold the non-identity points only, or with ``dense=True`` one entry per point, the identities'
    being placeholders (any int: their slots are never read), which skips spreading the lists."""
    xs, ys = cols
    q = _Q
    bxs = list(map(mod, map(mul, xs, repeat(_BETA)), repeat(q)))
    nys = list(map(sub, repeat(q), ys))
    if dense:
        x_col, bx_col, y_col, ny_col = xs, bxs, ys, nys
    else:
        x_col = _spread(xs, present, 1)
        bx_col = _spread(bxs, present, 1)
        y_col = _spread(ys, present, 1)
        ny_col = _spread(nys, present, 1)
    n = len(present)
    table_x: list[Any] = [None] * (4 * n)
    table_y: list[Any] = [None] * (4 * n)
    table_x[0::4] = x_col
    table_x[1::4] = x_col
    table_x[2::4] = bx_col
    table_x[3::4] = bx_col
    table_y[0::4] = y_col
    table_y[1::4] = ny_col
    table_y[2::4] = y_col
    table_y[3::4] = ny_col
    return Bases("g1", present, _Table((table_x, table_y), 4))


def _g2_bases(cols: list[list[Any]], present: bytes, dense: bool = False) -> Bases:
    """G2 :class:`Bases` from validated coordinate lists: the variants P, -P per point (``dense`` as in
    :func:`_g1_bases`)."""
    x0, x1, y0, y1 = cols
    q = _Q
    ny0 = list(map(mod, map(sub, repeat(q), y0), repeat(q)))
    ny1 = list(map(mod, map(sub, repeat(q), y1), repeat(q)))
    out: list[list[Any]] = []
    for pos, neg in ((x0, x0), (x1, x1), (y0, ny0), (y1, ny1)):
        col: list[Any] = [None] * (2 * len(present))
        col[0::2] = pos if dense else _spread(pos, present, 1)
        col[1::2] = neg if dense else _spread(neg, present, 1)
        out.append(col)
    return Bases("g2", present, _Table((out[0], out[1], out[2], out[3]), 2))


def _bases_from_normalized(kind: str, normalized: Sequence[Any]) -> Bases:
    present = bytes(map(is_not, normalized, repeat(None)))
    pts = list(compress(normalized, present))
    if kind == "g1":
        cols = [list(map(itemgetter(0), pts)), list(map(itemgetter(1), pts))]
        return _g1_bases(cols, present)
    xs = list(map(itemgetter(0), pts))
    ys = list(map(itemgetter(1), pts))
    cols = [list(map(itemgetter(k), half)) for half in (xs, ys) for k in (0, 1)]
    return _g2_bases(cols, present)


def prepare_g1(points: Sequence[G1 | None], *, checked: bool = False) -> Bases:
    """Validate G1 points (as :func:`msm_g1` does) and build their table. Cost: O(n), about 0.5 us a point
    for tuples of ints (whole-list checks), more for other shapes (checked point by point).

    ``checked=True`` trusts that every point is a pair of ints in [0, q) on the curve (a key file reader
    checked them) and skips those checks; never pass it for points from outside."""
    fast = _fast_coordinates(points, 2, checked)
    if fast is not None:
        return _g1_bases(*fast)
    normalized, _ = _normalize_g1(points)
    return _bases_from_normalized("g1", normalized)


def prepare_g2(points: Sequence[G2 | None], *, checked: bool = False) -> Bases:
    """Validate twist points (as :func:`msm_g2` does, no subgroup check) and build their table;
    ``checked`` as in :func:`prepare_g1`."""
    fast = _fast_coordinates(points, 4, checked)
    if fast is not None:
        return _g2_bases(*fast)
    normalized, _ = _normalize_g2(points)
    return _bases_from_normalized("g2", normalized)


def prepare_columns(kind: str, cols: Sequence[list[Any]], present: bytes) -> Bases:
    """:class:`Bases` straight from coordinate columns, WITHOUT any check: ``cols`` is ``(x, y)`` (``kind``
    ``"g1"``) or ``(x0, x1, y0, y1)`` (``"g2"``), one entry per point, big-integer backend values in [0, q)
    on the curve; ``present[i]`` is 0 for the identity (whose coordinates are ignored). Only for coordinates
    whose points were checked when the key was first loaded (the proving-key cache,
    :mod:`zkhealth.formats.key_cache`). Saves :func:`prepare_g1`'s conversion of every coordinate; cost
    O(n), about 0.3 us a G1 point. The identities' coordinates stay in the table as placeholders (never
    read: plans skip those points), which saves compressing and re-spreading every column (at 2^16 wires,
    about 0.07 s)."""
    width = 2 if kind == "g1" else 4
    if len(cols) != width or {len(col) for col in cols} != {len(present)}:
        raise InvalidArgumentError(f"prepare_columns: {kind} needs {width} columns of {len(present)} entries")
    if kind == "g1":
        return _g1_bases(list(cols), present, dense=True)
    return _g2_bases(list(cols), present, dense=True)


class Plan:
    """One MSM over :class:`Bases`, cut into independent parts: the sum of the bases whose scalar is 1
    (:func:`msm_ones`) and ``windows`` signed-digit windows of ``c`` bits (:func:`msm_windows`). Entry i is
    variant ``codes[i]`` of the table with scalar ``kk[i] - H`` (the signed-digit offset is included)."""

    __slots__ = ("kind", "c", "windows", "codes", "kk", "ones", "_digits", "_top")

    def __init__(self, kind: str, c: int, windows: int, codes: list[int], kk: list[int], ones: list[int]) -> None:
        self.kind = kind
        self.c = c
        self.windows = windows
        self.codes = codes
        self.kk = kk
        self.ones = ones
        self._digits: _Digits | None = None
        self._top: int | None = None

    def top(self) -> int:
        """The largest entry scalar ``max(kk)`` (0 without entries), computed once per process: every window
        task needs it (to find the windows with few buckets), and at 2^18 entries it takes about 7 ms."""
        if self._top is None:
            self._top = max(self.kk) if self.kk else 0
        return self._top

    def digits(self) -> _Digits | None:
        """The entries packed for fast digit extraction (built on first use in this process), or None where
        :class:`_Digits` does not apply."""
        if not _PACKED_DIGITS or self.c > _PACKED_MAX_C:
            return None
        if self._digits is None:
            self._digits = _Digits(self.codes, self.kk, self.c, self.windows)
        return self._digits

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.kind, self.c, self.windows, self.codes, self.kk, self.ones)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.kind, self.c, self.windows, self.codes, self.kk, self.ones = state
        self._digits = None
        self._top = None


def plan_window(kind: str, entries: int) -> int:
    """The window width :func:`plan_msm` uses for ``entries`` bucket entries of a ``"g1"`` (GLV halves,
    :data:`GLV_BITS`) or ``"g2"`` (254-bit scalars) MSM: the cost model's choice (:func:`window_bits`), capped
    at :data:`MAX_WINDOW_G2`, or for G1 at :data:`MAX_WINDOW_G1` from :data:`WIDE_WINDOW_MIN_G1` entries and
    :data:`MAX_WINDOW_G1_BELOW` below."""
    if kind == "g1":
        cap = MAX_WINDOW_G1 if entries >= WIDE_WINDOW_MIN_G1 else MAX_WINDOW_G1_BELOW
        return min(window_bits(entries, GLV_BITS, _REDUCTION_WEIGHT_G1), cap)
    if kind != "g2":
        raise InvalidArgumentError("plan_window: kind must be 'g1' or 'g2'")
    return min(window_bits(entries, FIELD_R.bit_length()), MAX_WINDOW_G2)


def plan_msm(
    bases: Bases,
    scalars: Sequence[int],
    *,
    checked: bool = False,
    splits: Sequence[tuple[int, int]] | None = None,
) -> Plan:
    """Split ``sum scalars[i] * bases[i]`` into its parts (see :class:`Plan`). Scalars 0 and identity bases
    are dropped; G1 scalars are split with GLV. ``checked=True`` skips the scalar checks (the caller
    validated them). Cost: about 1 us per G1 scalar (the GLV split).

    ``splits`` (G1 only): ``splits[i] == glv_split(scalars[i])`` for every i, computed once for several MSMs
    over the same scalars (:func:`glv_splits`); the plan then costs about 0.3 us per scalar. With
    ``checked=False`` every split is checked (``k1 + k2 * GLV_LAMBDA = k mod r``, both halves below
    ``2^GLV_BITS``); with ``checked=True`` the caller vouches for them, as for the scalars."""
    if len(scalars) != bases.count:
        raise InputLengthError(f"msm: {bases.count} points but {len(scalars)} scalars")
    if not checked:
        _check_scalars(scalars, bases.count)
    if splits is not None:
        if bases.kind != "g1":
            raise InvalidArgumentError("plan_msm: splits apply to G1 MSMs only")
        if len(splits) != len(scalars):
            raise InputLengthError(f"plan_msm: {len(scalars)} scalars but {len(splits)} splits")
        if not checked:
            _check_splits(scalars, splits)
    split_of = None if splits is None else splits.__getitem__
    g1 = bases.kind == "g1"
    stride = 4 if g1 else 2
    ones: list[int] = []
    codes: list[int] = []
    kk: list[int] = []
    keep_code = codes.append
    keep_k = kk.append
    for j, (present, k) in enumerate(zip(bases.present, scalars, strict=True)):
        if not present or not k:
            continue
        if k == 1:
            ones.append(stride * j)
            continue
        if not g1:
            keep_code(2 * j)
            keep_k(int(k))
            continue
        k1, k2 = glv_split(int(k)) if split_of is None else split_of(j)
        base = 4 * j
        if k1 > 0:
            keep_code(base)
            keep_k(k1)
        elif k1:
            keep_code(base + 1)
            keep_k(-k1)
        if k2 > 0:
            keep_code(base + 2)
            keep_k(k2)
        elif k2:
            keep_code(base + 3)
            keep_k(-k2)
    bits = GLV_BITS if g1 else FIELD_R.bit_length()
    c = plan_window(bases.kind, len(codes))
    windows = _signed_window_count(bits, c) if codes else 0
    offset = (1 << (c - 1)) * (((1 << (c * windows)) - 1) // ((1 << c) - 1))
    if offset:
        kk = list(map(add, kk, repeat(offset)))
    return Plan(bases.kind, c, windows, codes, kk, ones)


def _check_splits(scalars: Sequence[int], splits: Sequence[tuple[int, int]]) -> None:
    bound = 1 << GLV_BITS
    for k, split in zip(scalars, splits, strict=True):
        if split.__class__ is not tuple or len(split) != 2:
            raise FieldTypeError("plan_msm: every split must be a pair (k1, k2)")
        k1, k2 = split
        if isinstance(k1, bool) or isinstance(k2, bool) or not isinstance(k1, int) or not isinstance(k2, int):
            raise FieldTypeError("plan_msm: split halves must be ints")
        if not (-bound < k1 < bound and -bound < k2 < bound) or (k1 + k2 * GLV_LAMBDA - k) % FIELD_R:
            raise InvalidArgumentError("plan_msm: a split is not the GLV split of its scalar")


def msm_ones(bases: Bases, plan: Plan) -> Any:
    """The sum of the bases whose scalar is 1 (pairwise, batched). Internal point form (see :func:`to_affine`)."""
    batch_add = _g1_batch_add if plan.kind == "g1" else _g2_batch_add
    return _sum_groups([bases.table.points(plan.ones)], batch_add)[0] if plan.ones else None


def msm_windows(bases: Bases, plan: Plan, lo: int, hi: int, part: int = 0, parts: int = 1) -> Any:
    """The part of the MSM carried by windows ``lo .. hi-1`` (already scaled by ``2^(c * lo)``), in the
    internal point form (see :func:`to_affine`). Windows are independent: any split of ``range(windows)``
    among processes, summed with :func:`add_points`, gives the MSM minus :func:`msm_ones`.

    With ``parts > 1`` only the entries of range ``part`` of ``parts`` equal ranges count (the parts of the
    same windows sum to the whole): a finer task for the end of a parallel run, at the cost of one more
    bucket reduction per window (about 2^c additions)."""
    if lo >= hi:
        return None
    if not 0 <= part < parts:
        raise InvalidArgumentError("msm_windows: part must lie in [0, parts)")
    codes, kk = plan.codes, plan.kk
    start, stop = len(codes) * part // parts, len(codes) * (part + 1) // parts
    if start >= stop:
        return None
    if parts > 1:
        codes, kk = codes[start:stop], kk[start:stop]
    digits = plan.digits()
    entries = None if digits is None else partial(_digits_window, digits, plan.c, start, stop)
    task = _g1_task if plan.kind == "g1" else _g2_task
    return task(bases.table, codes, kk, plan.c, lo, hi, entries, plan.top())


def _digits_window(digits: _Digits, c: int, start: int, stop: int, w: int) -> tuple[list[int], list[int]]:
    return digits.window(c, w, start, stop)


def add_points(kind: str, parts: Sequence[Any]) -> Any:
    """Sum points in the internal form (results of :func:`msm_ones` / :func:`msm_windows`)."""
    add = _g1_add if kind == "g1" else _g2_add
    total = None
    for part in parts:
        total = add(total, part)
    return total


def to_affine(point: Any) -> Any:
    """Internal point form (mpz coordinates, y possibly unreduced) to the interface form (reduced ints)."""
    return _plain(point)


#: :func:`msm_g1` / :func:`msm_g2` with ``workers > 1``: windows are dealt out in this many slices.
_SLICES: Final[int] = 16


def _slice(windows: int, index: int, slices: int) -> tuple[int, int]:
    return windows * index // slices, windows * (index + 1) // slices


def _msm_task(bases: Bases, plan: Plan, _input: Any, _stage: int, index: int, _memo: dict[Any, Any]) -> Any:
    """One task of a parallel MSM (:func:`zkhealth.hazmat.parallel.run_tasks`): the ones, or a window slice."""
    if index == _SLICES:
        return msm_ones(bases, plan)
    lo, hi = _slice(plan.windows, index, _SLICES)
    return msm_windows(bases, plan, lo, hi)


def _msm(kind: str, points: Sequence[Any], scalars: Sequence[int], workers: int) -> Any:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError("msm: workers must be a positive int")
    if len(points) != len(scalars):
        raise InputLengthError(f"msm: {len(points)} points but {len(scalars)} scalars")
    _check_scalars(scalars, len(points))
    record, cached = _prepared(kind, points)
    bases = record.bases
    plan = plan_msm(bases, scalars, checked=True)
    if workers > 1 and len(plan.codes) >= PARALLEL_THRESHOLD and not parallel.in_worker():
        if not cached or not parallel.is_registered(record.token):
            record.token = parallel.register(bases)
        (parts,) = parallel.run_tasks(_msm_task, record.token, plan, [_SLICES + 1], [_none], workers=workers)
        return _plain(add_points(kind, parts))
    return _plain(add_points(kind, [msm_ones(bases, plan), msm_windows(bases, plan, 0, plan.windows)]))


def _none() -> None:
    return None


def batch_add_g1(lhs: Sequence[Any], rhs: Sequence[Any]) -> list[Any]:
    """``[lhs[i] + rhs[i]]`` for affine G1 points with backend-typed (``mpz``) coordinates, no identities;
    one inversion for the whole batch (:func:`_g1_batch_add`; None where a sum is the identity). Output y is
    left unreduced (it only enters differences); reduce it with ``% q`` before handing a point out."""
    out, _ = _chunked(_g1_batch_add, list(lhs), list(rhs))
    return out


def batch_add_g2(lhs: Sequence[Any], rhs: Sequence[Any]) -> list[Any]:
    """The G2 counterpart of :func:`batch_add_g1` (coordinates ``((x0, x1), (y0, y1))``)."""
    out, _ = _chunked(_g2_batch_add, list(lhs), list(rhs))
    return out


def _plain(p: Any) -> Any:
    """Convert coordinates back to Python ints (the interface type)."""
    if p is None:
        return None
    x, y = p
    if isinstance(x, tuple):
        return ((int(x[0]), int(x[1])), (int(y[0] % _Q), int(y[1] % _Q)))
    return (int(x), int(y % _Q))


def _msm_no_gc(kind: str, points: Sequence[Any], scalars: Sequence[int], workers: int) -> Any:
    """Run :func:`_msm` with the cyclic garbage collector paused: the MSM allocates hundreds of thousands
    of tuples (which would trigger many full collections) and creates no reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _msm(kind, points, scalars, workers)
    finally:
        if was_enabled:
            gc.enable()


def msm_g1(points: Sequence[G1 | None], scalars: Sequence[int], *, workers: int = 1) -> G1 | None:
    """Return ``sum_i scalars[i] * points[i]`` on BN254 G1 (affine; None is the identity).

    Enforces: equal lengths (:class:`InputLengthError`); scalars are ints in [0, r) (``FieldTypeError`` /
    ``FieldRangeError``); points are None or pairs of ints in [0, q) on y^2 = x^3 + 3 (``PointError`` /
    ``PointNotOnCurveError``; G1 has cofactor 1, so this is also the subgroup check).
    Cost: with the GLV split, about ``(127 / c) * (2n + 2^c)`` batched affine additions for n non-trivial
    scalars (c ~ log2(2n) - 3; about 23 additions per point at n = 2^14); scalars 0 are free and scalars 1
    cost one addition. ``workers > 1`` splits the windows across processes.
    """
    result: G1 | None = _msm_no_gc("g1", points, scalars, workers)
    return result


def msm_g2(points: Sequence[G2 | None], scalars: Sequence[int], *, workers: int = 1) -> G2 | None:
    """Return ``sum_i scalars[i] * points[i]`` on BN254 G2 (affine over Fq2, coordinates ``(c0, c1)``).

    Enforces the same input rules as :func:`msm_g1`, with points on the twist y^2 = x^3 + 3/(9+u). It does
    NOT check subgroup membership (that costs a scalar multiplication per point); validate untrusted G2
    points with ``zkhealth.hazmat.bn254.validate_g2`` first. Cost: about three times :func:`msm_g1`.
    """
    result: G2 | None = _msm_no_gc("g2", points, scalars, workers)
    return result
