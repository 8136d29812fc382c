"""Fixed-base scalar multiplication for the setup: many scalars times ONE base (the G1 or G2 generator).

The setup turns every toxic-waste evaluation (A_i(tau), (beta*A_i + alpha*B_i + C_i)/delta, ...) into a
point ``s * G``. With a single base, a window table pays off (Brickell-Gordon-McCurley-Wilson fixed-base
windowing): ``table[j][d - 1] = d * 2^(w*j) * G`` for every window ``j`` and digit ``d``, so one
multiplication costs ``ceil(254 / w)`` additions and no doublings. All scalars advance together, one window
per round, and each round's additions are independent: they run as one batch of affine additions sharing a
single inversion (Montgomery's trick), about half the work of mixed Jacobian additions, with no final
normalisation. The table is built the same way, one digit value per round across all windows.

Cost for ``m`` scalars: ``nwin * (2^w - 1)`` additions to build the table plus ``m * nwin`` additions;
``w`` is chosen from ``m`` to balance the two. This is setup-time, secret-dependent code: it is not
constant time, which is acceptable only because the setup itself is development-only (security.md G10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zkhealth._bigint import invert, mpz
from zkhealth.field import FIELD_Q, FIELD_R

G1Affine = tuple[int, int]
Fq2 = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]

_Q = mpz(FIELD_Q)
_SCALAR_BITS = FIELD_R.bit_length()


def choose_window(count: int) -> int:
    """Window width minimising ``nwin*(2^w) + count*nwin`` (table build plus multiplications)."""
    best_w, best_cost = 2, None
    for w in range(2, 17):
        nwin = -(-_SCALAR_BITS // w)
        cost = nwin * (1 << w) + count * nwin
        if best_cost is None or cost < best_cost:
            best_w, best_cost = w, cost
    return best_w


# --------------------------------------------------------------------------- G1: y^2 = x^3 + 3 over Fq

Jac1 = tuple[Any, Any, Any]


def _g1_double(p: Jac1) -> Jac1:
    x, y, z = p
    q = _Q
    a = x * x % q
    b = y * y % q
    c = b * b % q
    d = 2 * ((x + b) * (x + b) - a - c) % q
    e = 3 * a % q
    f = e * e % q
    x3 = (f - 2 * d) % q
    y3 = (e * (d - x3) - 8 * c) % q
    z3 = 2 * y * z % q
    return (x3, y3, z3)


def _g1_madd(p: Jac1 | None, x2: Any, y2: Any) -> Jac1 | None:
    """Jacobian ``p`` plus affine ``(x2, y2)``."""
    if p is None:
        return (x2, y2, mpz(1))
    x1, y1, z1 = p
    q = _Q
    z1z1 = z1 * z1 % q
    h = (x2 * z1z1 - x1) % q
    r = (y2 * z1 * z1z1 - y1) % q
    if h == 0:
        if r == 0:
            return _g1_double(p)
        return None
    hh = h * h % q
    hhh = h * hh % q
    v = x1 * hh % q
    x3 = (r * r - hhh - 2 * v) % q
    y3 = (r * (v - x3) - y1 * hhh) % q
    return (x3, y3, z1 * h % q)


def _batch_inverse(values: Sequence[Any]) -> list[Any]:
    """Inverses of non-zero field elements with one exponentiation (Montgomery's trick)."""
    q = _Q
    prefix = []
    acc = mpz(1)
    for v in values:
        prefix.append(acc)
        acc = acc * v % q
    inv = pow(acc, FIELD_Q - 2, q)
    out: list[Any] = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % q
        inv = inv * values[i] % q
    return out


def _g1_to_affine(points: Sequence[Jac1 | None]) -> list[G1Affine | None]:
    present = [i for i, p in enumerate(points) if p is not None]
    inverses = _batch_inverse([points[i][2] for i in present])  # type: ignore[index]
    out: list[G1Affine | None] = [None] * len(points)
    q = _Q
    for i, zinv in zip(present, inverses, strict=True):
        x, y, _ = points[i]  # type: ignore[misc]
        zinv2 = zinv * zinv % q
        out[i] = (int(x * zinv2 % q), int(y * zinv2 * zinv % q))
    return out


# --------------------------------------------------------------------------- G2: y^2 = x^3 + 3/(9+u) over Fq2


def _f2_mul(a0: Any, a1: Any, b0: Any, b1: Any) -> tuple[Any, Any]:
    t0 = a0 * b0
    t1 = a1 * b1
    return ((t0 - t1) % _Q, ((a0 + a1) * (b0 + b1) - t0 - t1) % _Q)


def _f2_sqr(a0: Any, a1: Any) -> tuple[Any, Any]:
    return ((a0 + a1) * (a0 - a1) % _Q, 2 * a0 * a1 % _Q)


Jac2 = tuple[Any, Any, Any, Any, Any, Any]


def _g2_double(p: Jac2) -> Jac2:
    x0, x1, y0, y1, z0, z1 = p
    q = _Q
    a0, a1 = _f2_sqr(x0, x1)
    b0, b1 = _f2_sqr(y0, y1)
    c0, c1 = _f2_sqr(b0, b1)
    s0, s1 = _f2_sqr(x0 + b0, x1 + b1)
    d0, d1 = 2 * (s0 - a0 - c0) % q, 2 * (s1 - a1 - c1) % q
    e0, e1 = 3 * a0 % q, 3 * a1 % q
    f0, f1 = _f2_sqr(e0, e1)
    x30, x31 = (f0 - 2 * d0) % q, (f1 - 2 * d1) % q
    t0, t1 = _f2_mul(e0, e1, d0 - x30, d1 - x31)
    y30, y31 = (t0 - 8 * c0) % q, (t1 - 8 * c1) % q
    z30, z31 = _f2_mul(y0, y1, z0, z1)
    return (x30, x31, y30, y31, 2 * z30 % q, 2 * z31 % q)


def _g2_madd(p: Jac2 | None, x2: Fq2, y2: Fq2) -> Jac2 | None:
    if p is None:
        return (x2[0], x2[1], y2[0], y2[1], mpz(1), mpz(0))
    x0, x1, y0, y1, z0, z1 = p
    q = _Q
    zz0, zz1 = _f2_sqr(z0, z1)
    u0, u1 = _f2_mul(x2[0], x2[1], zz0, zz1)
    h0, h1 = (u0 - x0) % q, (u1 - x1) % q
    t0, t1 = _f2_mul(z0, z1, zz0, zz1)
    s0, s1 = _f2_mul(y2[0], y2[1], t0, t1)
    r0, r1 = (s0 - y0) % q, (s1 - y1) % q
    if h0 == 0 and h1 == 0:
        if r0 == 0 and r1 == 0:
            return _g2_double(p)
        return None
    hh0, hh1 = _f2_sqr(h0, h1)
    hhh0, hhh1 = _f2_mul(h0, h1, hh0, hh1)
    v0, v1 = _f2_mul(x0, x1, hh0, hh1)
    rr0, rr1 = _f2_sqr(r0, r1)
    x30, x31 = (rr0 - hhh0 - 2 * v0) % q, (rr1 - hhh1 - 2 * v1) % q
    m0, m1 = _f2_mul(r0, r1, v0 - x30, v1 - x31)
    n0, n1 = _f2_mul(y0, y1, hhh0, hhh1)
    z30, z31 = _f2_mul(z0, z1, h0, h1)
    return (x30, x31, (m0 - n0) % q, (m1 - n1) % q, z30, z31)


def _g2_to_affine(points: Sequence[Jac2 | None]) -> list[G2Affine | None]:
    q = _Q
    present = [i for i, p in enumerate(points) if p is not None]
    # Inverse of z0 + z1*u is (z0 - z1*u) / (z0^2 + z1^2): batch the Fq norms.
    norms = []
    for i in present:
        p = points[i]
        z0, z1 = p[4], p[5]  # type: ignore[index]
        norms.append((z0 * z0 + z1 * z1) % q)
    inverses = _batch_inverse(norms)
    out: list[G2Affine | None] = [None] * len(points)
    for i, ninv in zip(present, inverses, strict=True):
        x0, x1, y0, y1, z0, z1 = points[i]  # type: ignore[misc]
        zi0, zi1 = z0 * ninv % q, (-z1) * ninv % q
        zi20, zi21 = _f2_sqr(zi0, zi1)
        zi30, zi31 = _f2_mul(zi20, zi21, zi0, zi1)
        ax = _f2_mul(x0, x1, zi20, zi21)
        ay = _f2_mul(y0, y1, zi30, zi31)
        out[i] = ((int(ax[0]), int(ax[1])), (int(ay[0]), int(ay[1])))
    return out


# --------------------------------------------------------------------------- batched affine additions
#
# Every addition of the fixed-base method is independent of the others in its round (one table row
# builds per round; one window of every scalar per round), so each round is one batch of affine additions
# sharing a single inversion (Montgomery's simultaneous-inversion trick, Math. Comp. 48, 1987, §10.3.1):
# about 6 multiplications per G1 addition instead of 11 for a mixed Jacobian one, and no final
# normalisation. Equal x-coordinates (P = +-Q) cannot occur for scalars in [0, r) (the partial sums of one
# scalar never meet +-d 2^(wj) G), but are still handled by the complete formulas.


def _g1_add_complete(p: tuple[Any, Any], r: tuple[Any, Any]) -> tuple[Any, Any] | None:
    out = _g1_to_affine([_g1_madd((p[0], p[1], mpz(1)), r[0], r[1])])[0]
    return None if out is None else (mpz(out[0]), mpz(out[1]))


def _g1_batch_add(lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """``[lhs[i] + rhs[i]]`` for affine G1 points (no identities); None where a sum is the identity."""
    q = _Q
    acc = mpz(1)
    prefix: list[Any] = []
    special = False
    for (x1, _), (x2, _) in zip(lhs, rhs, strict=True):
        prefix.append(acc)
        d = x2 - x1
        if d:
            acc = acc * d % q
        else:
            special = True
    inv = invert(acc, q)
    out: list[Any] = []
    for (x1, y1), (x2, y2), pre in zip(reversed(lhs), reversed(rhs), reversed(prefix), strict=True):
        d = x2 - x1
        if not d:
            out.append(None)
            continue
        lam = (y2 - y1) * pre * inv % q
        inv = inv * d % q
        x3 = (lam * lam - x1 - x2) % q
        out.append((x3, (lam * (x1 - x3) - y1) % q))
    out.reverse()
    if special:
        for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)):
            if p[0] == r[0]:
                out[i] = _g1_add_complete(p, r)
    return out


def _g2_add_complete(p: tuple[Fq2, Fq2], r: tuple[Fq2, Fq2]) -> tuple[Fq2, Fq2] | None:
    (x0, x1), (y0, y1) = p
    out = _g2_to_affine([_g2_madd((x0, x1, y0, y1, mpz(1), mpz(0)), r[0], r[1])])[0]
    if out is None:
        return None
    return ((mpz(out[0][0]), mpz(out[0][1])), (mpz(out[1][0]), mpz(out[1][1])))


def _g2_batch_add(lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """``[lhs[i] + rhs[i]]`` on the twist (affine, no identities): one Fq inversion of the product of the
    norms ``d0^2 + d1^2`` of the x-differences (q = 3 mod 4, so a non-zero Fq2 element has a non-zero norm)."""
    q = _Q
    acc = mpz(1)
    prefix: list[Any] = []
    norms: list[Any] = []
    special = False
    for ((x0, x1), _), ((u0, u1), _) in zip(lhs, rhs, strict=True):
        d0 = u0 - x0
        d1 = u1 - x1
        nrm = (d0 * d0 + d1 * d1) % q
        if not nrm:
            special = True
            nrm = mpz(1)
        prefix.append(acc)
        norms.append(nrm)
        acc = acc * nrm % q
    inv = invert(acc, q)
    out: list[Any] = []
    for ((x0, x1), (y0, y1)), ((u0, u1), (v0, v1)), nrm, pre in zip(
        reversed(lhs), reversed(rhs), reversed(norms), reversed(prefix), strict=True
    ):
        t = inv * pre % q
        inv = inv * nrm % q
        d0 = u0 - x0
        d1 = u1 - x1
        e0 = v0 - y0
        e1 = v1 - y1
        # lambda = e / d = e * conj(d) / norm(d)
        l0 = (e0 * d0 + e1 * d1) % q * t % q
        l1 = (e1 * d0 - e0 * d1) % q * t % q
        z0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % q
        z1 = (2 * l0 * l1 - x1 - u1) % q
        f0 = x0 - z0
        f1 = x1 - z1
        out.append(((z0, z1), ((l0 * f0 - l1 * f1 - y0) % q, (l0 * f1 + l1 * f0 - y1) % q)))
    out.reverse()
    if special:
        for i, (p, r) in enumerate(zip(lhs, rhs, strict=True)):
            if p[0] == r[0]:
                out[i] = _g2_add_complete(p, r)
    return out


# --------------------------------------------------------------------------- tables and the multiplication


def _window_bases(base_jac: Any, window: int, double: Callable[[Any], Any]) -> list[Any]:
    """``[2^(w j) * G for j in range(nwin)]`` and their doubles, in Jacobian form (the table rows' first two
    entries): ``nwin * w`` doublings."""
    nwin = -(-_SCALAR_BITS // window)
    out: list[Any] = []
    base = base_jac
    for _ in range(nwin):
        out.append(base)
        out.append(double(base))
        for _ in range(window):
            base = double(base)
    return out


def _fixed_base_mul(
    starts: list[Any],
    window: int,
    scalars: Sequence[int],
    batch_add: Callable[[list[Any], list[Any]], list[Any]],
) -> list[Any]:
    """Core of both groups. ``starts`` holds ``(2^(wj) G, 2^(wj+1) G)`` per window, affine.

    Table ``row_j = [d * 2^(wj) G for d in 1 .. 2^w - 1]`` is built for all windows at once (one batch per
    digit value, ``2^w - 3`` batches of ``nwin`` additions); then every window adds its digit's entry to the
    accumulator of every scalar (one batch per window). Returns affine points (None for the identity).
    """
    nwin = len(starts) // 2
    rows: list[list[Any]] = [[starts[2 * j], starts[2 * j + 1]] for j in range(nwin)]
    firsts = [row[0] for row in rows]
    for _ in range((1 << window) - 3):
        sums = batch_add([row[-1] for row in rows], firsts)
        for row, point in zip(rows, sums, strict=True):
            row.append(point)
    mask = (1 << window) - 1
    ks = [int(k) for k in scalars]
    acc: list[Any] = [None] * len(ks)
    pending = len(ks)  # accumulators still at the identity (None)
    for j, row in enumerate(rows):
        shift = window * j
        digits = [(k >> shift) & mask for k in ks]
        chosen = [i for i, d in enumerate(digits) if d]
        if pending:
            fresh = [i for i in chosen if acc[i] is None]
            if fresh:
                for i in fresh:
                    acc[i] = row[digits[i] - 1]
                started = set(fresh)
                chosen = [i for i in chosen if i not in started]
        if chosen:
            sums = batch_add([acc[i] for i in chosen], [row[digits[i] - 1] for i in chosen])
            if len(chosen) == len(acc):
                acc = sums
            else:
                for i, point in zip(chosen, sums, strict=True):
                    acc[i] = point
        pending = acc.count(None)
    return acc


def g1_fixed_base_mul(generator: G1Affine, scalars: Sequence[int]) -> list[G1Affine | None]:
    """``[s * generator for s in scalars]`` (None for the identity). Scalars must lie in [0, r).

    Cost: ``nwin * 2^w`` table additions plus about ``len(scalars) * nwin`` batched affine additions."""
    if not scalars:
        return []
    window = choose_window(len(scalars))
    start = (mpz(generator[0]), mpz(generator[1]), mpz(1))
    bases = _g1_to_affine(_window_bases(start, window, _g1_double))
    starts = [None if p is None else (mpz(p[0]), mpz(p[1])) for p in bases]
    acc = _fixed_base_mul(starts, window, scalars, _g1_batch_add)
    return [None if p is None else (int(p[0]), int(p[1])) for p in acc]


def g2_fixed_base_mul(generator: G2Affine, scalars: Sequence[int]) -> list[G2Affine | None]:
    """``[s * generator for s in scalars]`` on G2 (None for the identity). Scalars must lie in [0, r)."""
    if not scalars:
        return []
    window = choose_window(3 * len(scalars))
    (x0, x1), (y0, y1) = generator
    start = (mpz(x0), mpz(x1), mpz(y0), mpz(y1), mpz(1), mpz(0))
    starts = [
        None if p is None else ((mpz(p[0][0]), mpz(p[0][1])), (mpz(p[1][0]), mpz(p[1][1])))
        for p in _g2_to_affine(_window_bases(start, window, _g2_double))
    ]
    acc = _fixed_base_mul(starts, window, scalars, _g2_batch_add)
    return [None if p is None else ((int(p[0][0]), int(p[0][1])), (int(p[1][0]), int(p[1][1]))) for p in acc]


# --------------------------------------------------------------------------- both groups, several processes

#: Below this many scalars per group a second process costs more (its own table) than it saves.
PARALLEL_THRESHOLD = 4096


def _run_chunk(task: tuple[str, Any, list[int]]) -> list[Any]:
    group, generator, scalars = task
    if group == "g1":
        return g1_fixed_base_mul(generator, scalars)
    return g2_fixed_base_mul(generator, scalars)


def fixed_base_mul_both(
    g1_generator: G1Affine,
    g1_scalars: list[int],
    g2_generator: G2Affine,
    g2_scalars: list[int],
    *,
    workers: int = 1,
) -> tuple[list[G1Affine | None], list[G2Affine | None]]:
    """Both fixed-base batches; with ``workers > 1`` each is split into ``workers`` chunks run in separate
    processes (each chunk builds its own table, a small cost next to the multiplications)."""
    if workers <= 1 or len(g1_scalars) + len(g2_scalars) < PARALLEL_THRESHOLD:
        return g1_fixed_base_mul(g1_generator, g1_scalars), g2_fixed_base_mul(g2_generator, g2_scalars)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def split(values: list[int]) -> list[list[int]]:
        step = -(-len(values) // workers)
        return [values[i : i + step] for i in range(0, len(values), step)] or [[]]

    g1_chunks = split(g1_scalars)
    g2_chunks = split(g2_scalars)
    # G2 chunks first: they are the longest tasks, so the pool finishes evenly.
    tasks: list[tuple[str, Any, list[int]]] = [("g2", g2_generator, c) for c in g2_chunks]
    tasks += [("g1", g1_generator, c) for c in g1_chunks]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(_run_chunk, tasks))
    g2_out: list[G2Affine | None] = []
    for part in results[: len(g2_chunks)]:
        g2_out.extend(part)
    g1_out: list[G1Affine | None] = []
    for part in results[len(g2_chunks) :]:
        g1_out.extend(part)
    return g1_out, g2_out
