"""Groth16 prover (Groth16 §3.2, "Prove"), in snarkjs' basis so one prover serves our keys and ``.zkey`` keys.

With the witness ``w`` (``w_0 = 1``), the QAP evaluations ``h`` of ``A*B - C`` on the odd coset and fresh
``r, s``::

    A  = alpha_g1 + sum_i w_i a_query[i] + r delta_g1
    B  = beta_g2  + sum_i w_i b_g2_query[i] + s delta_g2        (B1: the same in G1, for C)
    C  = sum_{private i} w_i l_query[i] + sum_j h_j h_query[j] + s A + r B1 - r s delta_g1

``r`` and ``s`` come from :mod:`secrets` (never :mod:`random`): reused or predictable values leak the witness
(security.md G11). Only :func:`prove_no_zk`, named for what it gives up, uses ``r = s = 0``.

:func:`prove` does not compute B1: it computes the proof with ``r = s = 0`` (whose C has no ``r B1`` term) and
re-randomises it with fresh ``r1, t`` from :mod:`secrets` (arkworks ``rerandomize_proof``, with ``t = r1 r2``)::

    A' = r1^-1 A_0,   B' = r1 B_0 + t delta_g2,   C' = C_0 + t A'

The result is distributed as a proof with fresh ``r, s``: there, A is uniform in G1 and B uniform in G2,
independently (``r delta_g1`` and ``s delta_g2`` are uniform), and C is the one value that satisfies the
verification equation; here ``A'`` is uniform in G1 minus the identity (``A_0`` is not the identity; if it is, the
proof is computed with ``r, s`` instead), ``B'`` is uniform and independent of ``A'`` (``t delta_g2`` is), and
``C'`` again the one value left. The two distributions differ only by the events of probability about 1/r. It
saves one of the proof's four G1 MSMs over the wires (at 2^16 constraints about 2.3 of 16 CPU seconds).
:func:`prove_deterministic` keeps the ``r, s`` formulas above, B1 included, for callers that fix them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import select
import signal
import weakref
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import repeat
from operator import is_not
from typing import TYPE_CHECKING, Any

from zkhealth.errors import FieldTypeError, InvalidProofError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof, ProvingKey, QapEntry
from zkhealth.groth16.r1cs_to_qap import evaluate_rows, h_evaluations
from zkhealth.groth16.rerandomize import rerandomize_unchecked
from zkhealth.hazmat import msm, parallel
from zkhealth.hazmat.bn254 import g1_add
from zkhealth.hazmat.msm import msm_g1

if TYPE_CHECKING:
    from zkhealth.r1cs import R1CS


def _default_workers(workers: int | None) -> int:
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise FieldTypeError("workers must be a positive int")
        return workers
    from zkhealth.hazmat.parallel import default_workers

    return int(default_workers())


def check_witness(pk: ProvingKey, witness: Sequence[int], r1cs: R1CS | None = None) -> list[int]:
    """Check length, ``w_0 = 1``, every value an int in [0, r), and (when the C matrix or ``r1cs`` is known)
    every constraint. Returns the witness as a list. Raises :class:`WitnessError`. Cost: O(nonzeros)."""
    if len(witness) != pk.n_wires:
        raise WitnessError(f"witness has {len(witness)} values, the proving key expects {pk.n_wires}")
    values = list(witness)
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
            raise WitnessError(f"witness value {index} is not a field element in [0, r)")
    if values[0] != 1:
        raise WitnessError("witness[0] must be 1 (the constant wire)")
    if r1cs is not None:
        if r1cs.n_wires != pk.n_wires or r1cs.n_public != pk.n_public:
            raise WitnessError("the R1CS does not match the proving key (wire or public counts differ)")
        r1cs.check_witness(values)
    elif pk.c_entries is not None and pk.n_constraints is not None:
        rows = pk.n_constraints
        a = evaluate_rows(pk.a_entries, values, pk.domain_size)
        b = evaluate_rows(pk.b_entries, values, pk.domain_size)
        c = evaluate_rows(pk.c_entries, values, pk.domain_size)
        for row in range(rows):
            if a[row] * b[row] % FIELD_R != c[row]:
                raise WitnessError(f"constraint {row} not satisfied")
    return values


#: From this domain size on, ``workers > 1`` spreads a proof over processes (:func:`_prove_tasks`); below
#: it, shipping the witness and the results costs more than the second core saves.
PIPELINE_MIN_DOMAIN = 1 << 9

#: Each MSM of a proof is cut into this many window slices (tasks), plus one task for its scalar-1 bases.
#: Window counts are 8-13 at the sizes that matter, so a slice is about one window: small enough that the
#: processes finish within a fraction of a second of each other.
SLICES = 12
_ONES = SLICES
#: The proof's last tasks (stage 1, the C MSM) are finer, so that the processes end closer together: the
#: C MSM's first windows go in :data:`SLICES` slices, its last :data:`TAIL_WINDOWS` windows in
#: :data:`TAIL_PARTS` entry ranges each (each range costs one more bucket reduction, about 2^c additions).
#: At 2^16 with B1 gone (:func:`prove`), 2 parts left one process idle for 0.23-0.26 s at the end of the CLI's
#: proofs (two timelines); 4 parts (about 0.1 s each) leave 0.11-0.15 s (three timelines), for 4 more bucket
#: reductions (about 0.02 s of CPU).
TAIL_WINDOWS = 2
TAIL_PARTS = 4
_TAIL = TAIL_WINDOWS * TAIL_PARTS

#: Stage 0 needs only the witness: B (G2, the heaviest) first, then A and B1. Stage 1 needs the quotient
#: H, which this process computes while the workers start on stage 0; its scalar-1 task comes first, the
#: finer tail tasks last.
_Stages = tuple[tuple[tuple[str, int], ...], ...]
_STAGES: _Stages = (
    tuple((name, j) for name in ("b2", "a", "b1") for j in range(SLICES + 1)),
    (("c", _ONES), *(("c", j) for j in range(SLICES)), *(("c", SLICES + 1 + t) for t in range(_TAIL))),
)
#: The same without B1, for ``r = 0`` (its only use is the ``r B1`` term of C): :func:`prove`'s proofs.
_STAGES_NO_B1: _Stages = (tuple(task for task in _STAGES[0] if task[0] != "b1"), _STAGES[1])


def _stages(r: int) -> _Stages:
    """The proof's tasks for blinding ``r``: without the B1 MSM when ``r = 0``."""
    return _STAGES if r else _STAGES_NO_B1


class _KeyState:
    """A proving key's MSM bases, validated and prepared once (:func:`zkhealth.hazmat.msm.prepare_g1`), the
    lists they were built from (to notice a key mutated in place), their worker dataset token, and what B1's
    bases are prepared from when a proof first needs them (``b1_source``: :func:`prove` never does)."""

    __slots__ = ("b1_source", "bases", "snapshot", "token")

    def __init__(
        self, bases: dict[str, msm.Bases], snapshot: dict[str, tuple[Any, ...]], b1_source: Callable[[], msm.Bases]
    ) -> None:
        self.bases = bases
        self.snapshot = snapshot
        self.b1_source = b1_source
        self.token = 0

    def with_b1(self) -> None:
        """Add B1's bases (first call only); the worker dataset without them is dropped, so the next parallel
        proof registers the full one (a re-fork of the workers)."""
        if "b1" in self.bases:
            return
        self.bases = {**self.bases, "b1": self.b1_source()}
        parallel.unregister(self.token)
        self.token = 0


_KEY_STATES: dict[int, _KeyState] = {}


def _key_state(pk: ProvingKey, *, b1: bool = True) -> _KeyState:
    """The prepared bases of ``pk``: built on first use (about 1 us per point), reused while the key's
    base lists are unchanged (checked by value, a C-speed comparison, on every proof). B1's (the B query in
    G1, one point per wire) only with ``b1``: only a proof with ``r != 0`` reads them (at 2^16 wires their
    preparation is about 0.03 s of a proof's serial start)."""
    lists = pk.msm_bases()
    state = _KEY_STATES.get(id(pk))
    if state is not None and all(tuple(lists[k]) == state.snapshot[k] for k in lists):
        if b1:
            state.with_b1()
        return state
    snapshot = {k: tuple(v) for k, v in lists.items()}
    # A key whose points its reader checked is not checked again, except after a change in place (then
    # ``state`` exists and every point is checked).
    checked = pk.points_checked and state is None
    cached, pk._cached_columns = pk._cached_columns, None
    prepare: Callable[[str], msm.Bases]
    if checked and cached is not None and cached[0] == snapshot:
        # The key cache's columns of exactly these points (compared by value: identity-fast): no conversion.
        columns = cached[1]

        def prepare(k: str) -> msm.Bases:
            present = bytes(map(is_not, snapshot[k], repeat(None)))
            return msm.prepare_columns("g2" if k == "b2" else "g1", columns[k], present)
    else:

        def prepare(k: str) -> msm.Bases:
            if k == "b2":
                return msm.prepare_g2(snapshot[k], checked=checked)
            return msm.prepare_g1(snapshot[k], checked=checked)

    bases = {k: prepare(k) for k in snapshot if b1 or k != "b1"}
    if state is None:
        # Not at interpreter exit: dropping the prepared bases there would free millions of objects one by one
        # (0.12 s after a 2^16 proof), the teardown the CLI's os._exit exists to skip; the pool is shut down
        # by its own atexit handler.
        weakref.finalize(pk, _forget_key, id(pk)).atexit = False
    else:
        parallel.unregister(state.token)
    state = _KeyState(bases, snapshot, partial(prepare, "b1"))
    _KEY_STATES[id(pk)] = state
    return state


def _forget_key(key_id: int) -> None:
    """A proving key was garbage-collected: drop its prepared bases here and in the worker registry."""
    state = _KEY_STATES.pop(key_id, None)
    if state is not None:
        parallel.unregister(state.token)


def _scalars(name: str, witness: list[int], r: int, s: int, n_public: int, h: list[int] | None) -> list[int]:
    if name == "a":
        return [1, r, *witness]
    if name in ("b1", "b2"):
        return [1, s, *witness]
    return [*witness[n_public + 1 :], *(h or ())]


def _witness_splits(witness: list[int], memo: dict[Any, Any] | None) -> list[tuple[int, int]]:
    """The GLV split of every witness value, computed once per process and proof: kept in ``memo`` (the
    process's task memo) for A's, B1's and C's plans, which all split the witness (about 0.06 s at 2^16)."""
    halves = None if memo is None else memo.get("splits")
    if halves is None:
        halves = msm.glv_splits(witness)
        if memo is not None:
            memo["splits"] = halves
    return halves


def _plan(bases: dict[str, msm.Bases], name: str, common: tuple[Any, ...], memo: dict[Any, Any]) -> msm.Plan:
    """The MSM plan of ``name`` in this process (computed once per proof). A and B1 have the same scalars but
    the second (r for A, s for B1), so their GLV splits are computed once (about 0.06 s at 2^16 wires)."""
    plan = memo.get(name)
    if plan is None:
        witness, r, s, n_public = common
        scalars = _scalars(name, witness, r, s, n_public, None)
        splits = None
        if name in ("a", "b1"):
            splits = [msm.glv_split(1), msm.glv_split(r if name == "a" else s), *_witness_splits(witness, memo)]
        plan = msm.plan_msm(bases[name], scalars, checked=True, splits=splits)
        memo[name] = plan
    return plan


def _proof_task(
    bases: dict[str, msm.Bases], common: tuple[Any, ...], stage_input: Any, stage: int, index: int, memo: dict[Any, Any]
) -> Any:
    """Task ``index`` of stage ``stage`` of a proof (run by :func:`zkhealth.hazmat.parallel.run_tasks`):
    the scalar-1 sum or one window slice of one MSM. Stage 1's input is the C MSM's plan."""
    name, j = _stages(common[1])[stage][index]
    plan = stage_input if name == "c" else _plan(bases, name, common, memo)
    if j == _ONES:
        return msm.msm_ones(bases[name], plan)
    if name != "c":
        return msm.msm_windows(bases[name], plan, plan.windows * j // SLICES, plan.windows * (j + 1) // SLICES)
    head = max(plan.windows - TAIL_WINDOWS, 0)
    if j < SLICES:
        return msm.msm_windows(bases[name], plan, head * j // SLICES, head * (j + 1) // SLICES)
    window, part = divmod(j - SLICES - 1, TAIL_PARTS)
    if head + window >= plan.windows:  # fewer windows than TAIL_WINDOWS
        return None
    return msm.msm_windows(bases[name], plan, head + window, head + window + 1, part, TAIL_PARTS)


def _quotient(
    a_entries: list[QapEntry], b_entries: list[QapEntry], domain_size: int, witness: Sequence[int]
) -> list[int]:
    """The quotient H on the odd coset (:func:`h_evaluations`) from the QAP matrices A and B and the witness."""
    a_dom = evaluate_rows(a_entries, witness, domain_size)
    b_dom = evaluate_rows(b_entries, witness, domain_size)
    return h_evaluations(a_dom, b_dom, workers=1)


#: :func:`start_quotient` forks a process from this domain size on (below it the fork costs more than the
#: quotient: about 5-10 ms against 0.04 s at 2^12).
QUOTIENT_JOB_MIN_DOMAIN = 1 << 12

#: How the proofs of this process got their quotient (for tests and diagnostics): ``job`` (from a
#: :class:`QuotientJob`), ``here`` (computed in the proof), ``refused`` (a job that failed or did not match).
QUOTIENT_STATS: dict[str, int] = {"job": 0, "here": 0, "refused": 0}


class QuotientJob:
    """The quotient H of a coming proof, computed in a forked child process while this one does other work.

    The CLI's ``groth16 prove`` starts one as soon as the proving key's matrices are decoded and decodes the
    key's points meanwhile, so that the quotient (at 2^16 constraints about 0.7 s of CPU) runs on the core
    that would otherwise wait. The child sends the evaluations back as 32-byte integers through a pipe (no
    pickle); :meth:`result` checks their count and range. Build with :func:`start_quotient`."""

    def __init__(self, pid: int, fd: int, a_entries: list[QapEntry], b_entries: list[QapEntry],
                 domain_size: int, witness: list[int]) -> None:
        self._pid = pid
        self._fd = fd
        self._a = a_entries
        self._b = b_entries
        self._domain = domain_size
        self._witness = witness
        self._done = False
        self._h: list[int] | None = None

    def matches(self, pk: ProvingKey, witness: Sequence[int]) -> bool:
        """Whether this job was started from ``pk``'s own matrix lists and a witness equal to ``witness``."""
        return (
            self._a is pk.a_entries and self._b is pk.b_entries and self._domain == pk.domain_size
            and self._witness == list(witness)
        )  # fmt: skip

    def ready(self) -> bool:
        """Whether :meth:`result` would not wait for the child's computation (its result, or its end, has
        started to arrive). Non-blocking."""
        if self._done:
            return True
        try:
            readable, _, _ = select.select([self._fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def result(self) -> list[int] | None:
        """The quotient's ``domain_size`` evaluations (waits for the child), or None if the child failed."""
        if self._done:
            return self._h
        self._done = True
        chunks: list[bytes] = []
        try:
            while True:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            chunks = []
        finally:
            os.close(self._fd)
            _reap(self._pid)
        data = b"".join(chunks)
        if len(data) != 32 * self._domain:
            return None
        h = [int.from_bytes(data[i : i + 32], "little") for i in range(0, len(data), 32)]
        if max(h, default=0) >= FIELD_R:
            return None
        self._h = h
        return h

    def cancel(self) -> None:
        """Stop the child if it still runs (a proof that will not happen); idempotent."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._fd)
        _reap(self._pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def start_quotient(
    a_entries: list[QapEntry], b_entries: list[QapEntry], domain_size: int, witness: Sequence[int]
) -> QuotientJob | None:
    """Fork a child that computes the quotient of ``witness`` under these matrices (see :class:`QuotientJob`);
    pass the job to :func:`prove` / :func:`prove_deterministic` as ``quotient``. None where it would not pay:
    no ``fork`` (not POSIX), or a domain below :data:`QUOTIENT_JOB_MIN_DOMAIN`. The witness is not checked
    here (:func:`prove` checks it before it uses the job's result; a job whose child failed, or that does
    not match the key and witness of the proof, is ignored and the quotient computed in the proof). It forks
    this process: call it before starting threads (the CLI calls it while it loads the key)."""
    if not hasattr(os, "fork") or domain_size < QUOTIENT_JOB_MIN_DOMAIN:
        return None
    values = list(witness)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            h = _quotient(a_entries, b_entries, domain_size, values)
            data = b"".join([int(v).to_bytes(32, "little") for v in h])
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return QuotientJob(pid, read_fd, a_entries, b_entries, domain_size, values)


def _c_plan(
    pk: ProvingKey,
    bases: dict[str, msm.Bases],
    witness: list[int],
    quotient: QuotientJob | None = None,
    memo: dict[Any, Any] | None = None,
) -> msm.Plan:
    """The quotient H on the odd coset (from ``quotient`` when it matches, else :func:`_quotient`), then the
    plan of the C MSM (L query and H query). ``memo``: this process's task memo (:func:`_plan`); the
    witness's GLV split is taken from it or left in it, so that this process splits the witness once for C,
    A and B1 (about 0.06 s at 2^16 wires)."""
    h = None
    if quotient is not None:
        h = quotient.result() if quotient.matches(pk, witness) else None
        if h is None:
            quotient.cancel()
            QUOTIENT_STATS["refused"] += 1
        else:
            QUOTIENT_STATS["job"] += 1
    if h is None:
        h = _quotient(pk.a_entries, pk.b_entries, pk.domain_size, witness)
        QUOTIENT_STATS["here"] += 1
    scalars = _scalars("c", witness, 0, 0, pk.n_public, h)
    splits = [*_witness_splits(witness, memo)[pk.n_public + 1 :], *msm.glv_splits(h)]
    return msm.plan_msm(bases["c"], scalars, checked=True, splits=splits)


def _prove_core(
    pk: ProvingKey,
    witness: list[int],
    r: int,
    s: int,
    workers: int,
    quotient: QuotientJob | None = None,
    self_check: bool = False,
) -> Proof:
    """A, B, B1 (not for ``r = 0``) and the C MSM as tasks over ``workers`` processes
    (:func:`zkhealth.hazmat.parallel.run_tasks`), then C. ``self_check``: the caller will verify the proof
    (:func:`_self_check`); this process prepares the verifying key while it waits for a worker's last task."""
    common = (witness, r, s, pk.n_public)
    stages = _stages(r)
    counts = [len(stage) for stage in stages]
    was_enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of short-lived tuples and no reference cycles (see msm)
    try:
        state = _key_state(pk, b1=bool(r))
        if workers > 1 and pk.domain_size >= PIPELINE_MIN_DOMAIN and not parallel.in_worker():
            if not parallel.is_registered(state.token):
                state.token = parallel.register(state.bases)
                pk._worker_token = state.token
            memo: dict[Any, Any] = {}  # this process's, shared by its tasks and the C plan
            c_input = lambda: _c_plan(pk, state.bases, witness, quotient, memo)  # noqa: E731
            stage0, stage1 = parallel.run_tasks(
                _proof_task, state.token, common, counts, [_no_input, c_input], workers=workers,
                ready=None if quotient is None else quotient.ready, memo=memo,
                idle=partial(_prepare_self_check, pk) if self_check else None,
            )  # fmt: skip
        else:
            memo = {}
            stage0 = [_proof_task(state.bases, common, None, 0, i, memo) for i in range(counts[0])]
            c_plan = _c_plan(pk, state.bases, witness, quotient, memo)
            stage1 = [_proof_task(state.bases, common, c_plan, 1, i, memo) for i in range(counts[1])]
    finally:
        if was_enabled:
            gc.enable()
    sums: dict[str, Any] = {}
    for (name, _), part in zip(stages[0] + stages[1], stage0 + stage1, strict=True):
        sums[name] = msm.add_points("g2" if name == "b2" else "g1", [sums.get(name), part])
    pi_a = msm.to_affine(sums["a"])
    b1 = msm.to_affine(sums["b1"]) if r else None
    return Proof(a=pi_a, b=msm.to_affine(sums["b2"]), c=_finish_c(pk, msm.to_affine(sums["c"]), pi_a, b1, r, s))


def _no_input() -> None:
    return None


def _finish_c(pk: ProvingKey, pi_c: Any, pi_a: Any, b1: Any, r: int, s: int) -> Any:
    # C = sum_private w_i L_i + sum h_j H_j + s*A + r*B1 - r*s*delta (Groth16 §3.2, snarkjs basis). Callers pass
    # r = s = 0 (prove, prove_no_zk: B1 was not computed, b1 is None, and the terms vanish) or both non-zero.
    if not r and not s:
        return pi_c
    randomizer = msm_g1([pi_a, b1, pk.delta_g1], [s, r, (-r * s) % FIELD_R])
    return g1_add(pi_c, randomizer)


def _rerandomized(pk: ProvingKey, proof: Proof, r1: int, t: int) -> Proof | None:
    """``proof`` (computed with ``r = s = 0``) re-randomised (module docstring); None when A is the identity
    (then ``A'`` would not be uniform)."""
    if proof.a is None:
        return None
    return rerandomize_unchecked(pk.vk.delta_g2, proof, r1, t)


def _check_randomness(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < FIELD_R:
        raise FieldTypeError(f"{name} must be an int in [1, r); use prove_no_zk for r = s = 0")
    return value


def _needs_self_check(pk: ProvingKey, r1cs: R1CS | None) -> bool:
    """Without the C matrix (every snarkjs ``.zkey``) and without the R1CS, a witness that does not satisfy
    the circuit is noticed only by verifying the proof."""
    return r1cs is None and pk.c_entries is None


def _prepare_self_check(pk: ProvingKey) -> None:
    """Import the verifier and prepare ``pk``'s verifying key (its line coefficients and e(alpha, beta)'s
    Miller value, cached per key), about 10-15 ms in a fresh process. Whatever it raises,
    :func:`_self_check` raises again when it prepares the same key: nothing is lost by dropping it here."""
    from zkhealth.groth16.verifier import _prepare

    with contextlib.suppress(Exception):
        _prepare(pk.vk)


def _self_check(pk: ProvingKey, witness: list[int], proof: Proof) -> None:
    """Without the C matrix the witness cannot be checked row by row; verify the proof instead."""
    from zkhealth.groth16.verifier import verify_with_unchecked_key

    try:
        verify_with_unchecked_key(pk.vk, witness[1 : 1 + pk.n_public], proof)
    except InvalidProofError:
        raise WitnessError("the witness does not satisfy the circuit of this proving key") from None


def prove_deterministic(
    pk: ProvingKey,
    witness: Sequence[int],
    r: int,
    s: int,
    *,
    workers: int | None = None,
    r1cs: R1CS | None = None,
    quotient: QuotientJob | None = None,
) -> Proof:
    """Prove with caller-chosen blinding ``r, s`` in [1, r) (tests fix them). Checks the witness first
    (:func:`check_witness`). Cost: three G1 MSMs of about ``n_wires`` points (A, B1, and the L part of C),
    one of ``n`` points (the H part of C, in the same MSM as L), one G2 MSM of ``n_wires`` points and three
    re-evaluations of size ``n`` on the odd coset (:func:`zkhealth.hazmat.ntt.domain_to_coset`: one
    big-integer multiplication each with gmpy2, two NTTs each without). With ``workers > 1`` (the default on
    a multi-core machine) and a domain of at least :data:`PIPELINE_MIN_DOMAIN`, this process and a worker
    share the MSMs' window slices as they come (:func:`zkhealth.hazmat.parallel.run_tasks`), this one
    computing the quotient H first: about half the wall time on two idle cores. ``quotient``: a
    :class:`QuotientJob` started for this key and witness (:func:`start_quotient`); its result replaces the
    proof's own computation of the quotient. :func:`prove` is faster (no B1)."""
    with _cancelled_on_error(quotient):
        r, s = _check_randomness(r, "r"), _check_randomness(s, "s")
        values = check_witness(pk, witness, r1cs)
    check = _needs_self_check(pk, r1cs)
    proof = _prove_core(pk, values, r, s, _default_workers(workers), quotient, check)
    if check:
        _self_check(pk, values, proof)
    return proof


@contextlib.contextmanager
def _cancelled_on_error(quotient: QuotientJob | None) -> Iterator[None]:
    """Stops ``quotient`` when the block raises (a refused witness or blinding factor): its child would
    otherwise compute a quotient nobody reads."""
    try:
        yield
    except BaseException:
        if quotient is not None:
            quotient.cancel()
        raise


def prove(
    pk: ProvingKey,
    witness: Sequence[int],
    *,
    rng: secrets.SystemRandom | None = None,
    workers: int | None = None,
    r1cs: R1CS | None = None,
    quotient: QuotientJob | None = None,
) -> Proof:
    """Prove with fresh blinding factors from the operating system's CSPRNG (``secrets``); ``quotient`` as
    in :func:`prove_deterministic`.

    The proof is computed with ``r = s = 0``, which needs no B1 MSM, and re-randomised with two fresh
    factors (module docstring): distributed as a proof with fresh ``r, s``, for one G1 MSM over the wires
    less than :func:`prove_deterministic` plus four scalar multiplications (a few ms). In the event of
    probability about 1/r that ``A`` is the identity it proves with ``r, s`` instead."""
    source = rng if rng is not None else secrets.SystemRandom()
    r1 = source.randrange(1, FIELD_R)
    t = source.randrange(1, FIELD_R)
    with _cancelled_on_error(quotient):
        values = check_witness(pk, witness, r1cs)
    workers = _default_workers(workers)
    check = _needs_self_check(pk, r1cs)
    proof = _rerandomized(pk, _prove_core(pk, values, 0, 0, workers, quotient, check), r1, t)
    if proof is None:
        proof = _prove_core(pk, values, r1, t, workers, quotient, check)
    if check:
        _self_check(pk, values, proof)
    return proof


def prove_no_zk(pk: ProvingKey, witness: Sequence[int], *, workers: int | None = None) -> Proof:
    """A proof with ``r = s = 0``: sound but NOT zero-knowledge (A, B, C are functions of the witness alone).

    For debugging and differential tests only (cf. arkworks ``create_proof_no_zk``)."""
    values = check_witness(pk, witness)
    return _prove_core(pk, values, 0, 0, _default_workers(workers))


def public_signals(pk: ProvingKey, witness: Sequence[int]) -> list[int]:
    """The public signals of a witness under ``pk``: wires ``1 .. n_public`` (snarkjs ``public.json``)."""
    return [int(v) for v in witness[1 : 1 + pk.n_public]]
