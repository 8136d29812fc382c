"""Fixed-base scalar multiplication for the setup: many scalars times ONE base (the G1 or G2 generator).

The setup turns every toxic-waste evaluation (A_i(tau), (beta*A_i + alpha*B_i + C_i)/delta, ...) into a
point ``s * G``. With a single base, a window table pays off (Brickell-Gordon-McCurley-Wilson fixed-base
windowing): ``table[j][d - 1] = d * 2^(w*j) * G`` for every window ``j`` and digit ``d``, so one
multiplication costs ``ceil(254 / w)`` additions and no doublings. All scalars advance together, one window
per round, and each round's additions are independent: they run as one batch of affine additions sharing a
single inversion (:func:`zkhealth.hazmat.msm.batch_add_g1` / ``batch_add_g2``, Montgomery's trick), with no
final normalisation. The table is built the same way, one digit value per round across all windows; its
first column (the ``2^(w*j) * G``) comes from Jacobian doublings (:mod:`zkhealth.hazmat.bn254`) normalised
with one inversion. The curve arithmetic is hazmat's; this module only schedules it.

Equal x-coordinates (``P = +-Q``) cannot occur for scalars in [0, r) (the partial sums of one scalar never
meet ``+-d 2^(wj) G``), and the batched additions would handle them anyway.

Cost for ``m`` scalars: ``nwin * (2^w - 1)`` additions to build the table plus ``m * nwin`` additions;
``w`` is chosen from ``m`` to balance the two. With several workers the scalars are cut into chunks that
the processes take dynamically (:func:`zkhealth.hazmat.parallel.run_tasks`); each process builds its table
once. This is setup-time, secret-dependent code: it is not constant time, which is acceptable only because
the setup itself is development-only (security.md G10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zkhealth._bigint import mpz
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.hazmat import bn254, msm, parallel

G1Affine = tuple[int, int]
Fq2 = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]

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


def _window_starts(kind: str, generator: Any, window: int) -> list[Any]:
    """``2^(w j) G`` and ``2^(w j + 1) G`` for every window j, affine with backend-typed coordinates."""
    nwin = -(-_SCALAR_BITS // window)
    g1 = kind == "g1"
    double: Callable[[Any], Any] = bn254.g1_jacobian_double if g1 else bn254.g2_jacobian_double
    base = bn254.g1_to_jacobian(generator) if g1 else bn254.g2_to_jacobian(generator)
    jacobian: list[Any] = []
    for _ in range(nwin):
        jacobian.append(base)
        jacobian.append(double(base))
        for _ in range(window):
            base = double(base)
    affine = bn254.g1_batch_to_affine(jacobian) if g1 else bn254.g2_batch_to_affine(jacobian)
    if g1:
        return [(mpz(x), mpz(y)) for x, y in affine]  # type: ignore[misc]
    return [((mpz(x0), mpz(x1)), (mpz(y0), mpz(y1))) for (x0, x1), (y0, y1) in affine]  # type: ignore[misc]


def _table(kind: str, generator: Any, window: int) -> list[list[Any]]:
    """``rows[j] = [d * 2^(w j) G for d in 1 .. 2^w - 1]``, all windows at once: one batch per digit value."""
    starts = _window_starts(kind, generator, window)
    batch_add = msm.batch_add_g1 if kind == "g1" else msm.batch_add_g2
    rows: list[list[Any]] = [[starts[2 * j], starts[2 * j + 1]] for j in range(len(starts) // 2)]
    firsts = [row[0] for row in rows]
    for _ in range((1 << window) - 3):
        for row, point in zip(rows, batch_add([row[-1] for row in rows], firsts), strict=True):
            row.append(point)
    return rows


def _multiply(kind: str, rows: list[list[Any]], window: int, scalars: Sequence[int]) -> list[Any]:
    """Every window adds its digit's table entry to the accumulator of every scalar (one batch per window).
    Returns affine points with reduced coordinates (None for the identity)."""
    batch_add = msm.batch_add_g1 if kind == "g1" else msm.batch_add_g2
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
    q = FIELD_Q
    if kind == "g1":
        return [None if p is None else (int(p[0]), int(p[1] % q)) for p in acc]
    return [None if p is None else ((int(p[0][0]), int(p[0][1])), (int(p[1][0] % q), int(p[1][1] % q))) for p in acc]


def g1_fixed_base_mul(generator: G1Affine, scalars: Sequence[int]) -> list[G1Affine | None]:
    """``[s * generator for s in scalars]`` (None for the identity). Scalars must lie in [0, r).

    Cost: ``nwin * 2^w`` table additions plus about ``len(scalars) * nwin`` batched affine additions."""
    if not scalars:
        return []
    window = choose_window(len(scalars))
    return _multiply("g1", _table("g1", generator, window), window, scalars)


def g2_fixed_base_mul(generator: G2Affine, scalars: Sequence[int]) -> list[G2Affine | None]:
    """``[s * generator for s in scalars]`` on G2 (None for the identity). Scalars must lie in [0, r)."""
    if not scalars:
        return []
    window = choose_window(3 * len(scalars))
    return _multiply("g2", _table("g2", generator, window), window, scalars)


# --------------------------------------------------------------------------- both groups, several processes

#: Below this many scalars per group a second process costs more (its own table) than it saves.
PARALLEL_THRESHOLD = 4096
#: Scalars per task when the work is spread over processes.
CHUNK = 2048

_token = 0


def _chunk_task(
    _dataset: Any, common: tuple[Any, ...], _input: Any, _stage: int, index: int, memo: dict[Any, Any]
) -> list[Any]:
    """Chunk ``index`` of :func:`fixed_base_mul_both`'s work; each process builds each table once (memo)."""
    tasks, generators, scalars, windows = common
    kind, lo, hi = tasks[index]
    rows = memo.get(kind)
    if rows is None:
        rows = memo[kind] = _table(kind, generators[kind], windows[kind])
    return _multiply(kind, rows, windows[kind], scalars[kind][lo:hi])


def fixed_base_mul_both(
    g1_generator: G1Affine,
    g1_scalars: list[int],
    g2_generator: G2Affine,
    g2_scalars: list[int],
    *,
    workers: int = 1,
) -> tuple[list[G1Affine | None], list[G2Affine | None]]:
    """Both fixed-base batches; with ``workers > 1`` the scalars are cut into chunks of :data:`CHUNK` that
    this process and ``workers - 1`` pool workers take dynamically (G2 chunks, the heavier ones, first)."""
    global _token
    if workers <= 1 or len(g1_scalars) + len(g2_scalars) < PARALLEL_THRESHOLD or parallel.in_worker():
        return g1_fixed_base_mul(g1_generator, g1_scalars), g2_fixed_base_mul(g2_generator, g2_scalars)
    tasks = [("g2", lo, min(lo + CHUNK, len(g2_scalars))) for lo in range(0, len(g2_scalars), CHUNK)]
    tasks += [("g1", lo, min(lo + CHUNK, len(g1_scalars))) for lo in range(0, len(g1_scalars), CHUNK)]
    windows = {"g1": choose_window(len(g1_scalars)), "g2": choose_window(3 * len(g2_scalars))}
    common = (tasks, {"g1": g1_generator, "g2": g2_generator}, {"g1": g1_scalars, "g2": g2_scalars}, windows)
    if not parallel.is_registered(_token):
        _token = parallel.register(None)
    (parts,) = parallel.run_tasks(_chunk_task, _token, common, [len(tasks)], [_no_input], workers=workers)
    g1_out: list[G1Affine | None] = []
    g2_out: list[G2Affine | None] = []
    for (kind, _, _), part in zip(tasks, parts, strict=True):
        (g1_out if kind == "g1" else g2_out).extend(part)
    return g1_out, g2_out


def _no_input() -> None:
    return None
