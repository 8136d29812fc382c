"""Fixed-base scalar multiplication for the setup: many scalars times ONE base (the G1 or G2 generator).

The setup turns every toxic-waste evaluation (A_i(tau), (beta*A_i + alpha*B_i + C_i)/delta, ...) into a
point ``s * G``. With a single base, a window table pays off (Brickell-Gordon-McCurley-Wilson fixed-base
windowing): ``table[j][d - 1] = d * 2^(w*j) * G`` for every window ``j`` and digit ``d``, so one
multiplication costs ``ceil(254 / w)`` mixed additions and no doublings. Results are accumulated in Jacobian
coordinates and converted to affine with one shared inversion (Montgomery's batch-inversion trick).

Cost for ``m`` scalars: ``nwin * (2^w - 1)`` additions to build the table plus ``m * nwin`` mixed additions;
``w`` is chosen from ``m`` to balance the two. This is setup-time, secret-dependent code: it is not
constant time, which is acceptable only because the setup itself is development-only (security.md G10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zkhealth._bigint import mpz
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


# --------------------------------------------------------------------------- tables


def _build_table(
    base_jac: Any,
    window: int,
    add_affine: Callable[[Any, Any], Any],
    double: Callable[[Any], Any],
    to_affine: Callable[[Sequence[Any]], list[Any]],
    affine_of: Callable[[Any], Any],
) -> list[list[Any]]:
    nwin = -(-_SCALAR_BITS // window)
    rows: list[Any] = []
    base = base_jac
    for _ in range(nwin):
        base_affine = affine_of(base)
        row = [base]
        acc = base
        for _ in range((1 << window) - 2):
            acc = add_affine(acc, base_affine)
            row.append(acc)
        rows.extend(row)
        for _ in range(window):
            acc_base = double(base)
            base = acc_base
    flat = to_affine(rows)
    size = (1 << window) - 1
    return [flat[j * size : (j + 1) * size] for j in range(nwin)]


def g1_fixed_base_mul(generator: G1Affine, scalars: Sequence[int]) -> list[G1Affine | None]:
    """``[s * generator for s in scalars]`` (None for the identity). Scalars must lie in [0, r)."""
    if not scalars:
        return []
    window = choose_window(len(scalars))
    gx, gy = mpz(generator[0]), mpz(generator[1])

    def add_affine(acc: Jac1, pt: tuple[Any, Any]) -> Jac1 | None:
        return _g1_madd(acc, pt[0], pt[1])

    def affine_of(p: Jac1) -> tuple[Any, Any]:
        a = _g1_to_affine([p])[0]
        if a is None:  # pragma: no cover - the generator's multiples below 2^254 are never the identity
            raise ArithmeticError("identity in the fixed-base table")
        return (mpz(a[0]), mpz(a[1]))

    table = _build_table((gx, gy, mpz(1)), window, add_affine, _g1_double, _g1_to_affine, affine_of)
    table_mpz = [[(mpz(p[0]), mpz(p[1])) for p in row] for row in table]
    mask = (1 << window) - 1
    results: list[Jac1 | None] = []
    for scalar in scalars:
        acc: Jac1 | None = None
        k = int(scalar)
        j = 0
        while k:
            digit = k & mask
            if digit:
                px, py = table_mpz[j][digit - 1]
                acc = _g1_madd(acc, px, py)
            k >>= window
            j += 1
        results.append(acc)
    return _g1_to_affine(results)


def g2_fixed_base_mul(generator: G2Affine, scalars: Sequence[int]) -> list[G2Affine | None]:
    """``[s * generator for s in scalars]`` on G2 (None for the identity). Scalars must lie in [0, r)."""
    if not scalars:
        return []
    window = choose_window(3 * len(scalars))
    (x0, x1), (y0, y1) = generator

    def add_affine(acc: Jac2, pt: tuple[Fq2, Fq2]) -> Jac2 | None:
        return _g2_madd(acc, pt[0], pt[1])

    def affine_of(p: Jac2) -> tuple[Fq2, Fq2]:
        a = _g2_to_affine([p])[0]
        if a is None:  # pragma: no cover - see g1_fixed_base_mul
            raise ArithmeticError("identity in the fixed-base table")
        return ((mpz(a[0][0]), mpz(a[0][1])), (mpz(a[1][0]), mpz(a[1][1])))

    start = (mpz(x0), mpz(x1), mpz(y0), mpz(y1), mpz(1), mpz(0))
    table = _build_table(start, window, add_affine, _g2_double, _g2_to_affine, affine_of)
    table_mpz = [
        [((mpz(p[0][0]), mpz(p[0][1])), (mpz(p[1][0]), mpz(p[1][1]))) for p in row]
        for row in table
    ]
    mask = (1 << window) - 1
    results: list[Jac2 | None] = []
    for scalar in scalars:
        acc: Jac2 | None = None
        k = int(scalar)
        j = 0
        while k:
            digit = k & mask
            if digit:
                px, py = table_mpz[j][digit - 1]
                acc = _g2_madd(acc, px, py)
            k >>= window
            j += 1
        results.append(acc)
    return _g2_to_affine(results)


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
