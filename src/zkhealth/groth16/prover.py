"""Groth16 prover (Groth16 §3.2, "Prove"), in snarkjs' basis so one prover serves our keys and ``.zkey`` keys.

With the witness ``w`` (``w_0 = 1``), the QAP evaluations ``h`` of ``A*B - C`` on the odd coset and fresh
``r, s``::

    A  = alpha_g1 + sum_i w_i a_query[i] + r delta_g1
    B  = beta_g2  + sum_i w_i b_g2_query[i] + s delta_g2        (B1: the same in G1, for C)
    C  = sum_{private i} w_i l_query[i] + sum_j h_j h_query[j] + s A + r B1 - r s delta_g1

``r`` and ``s`` come from :mod:`secrets` (never :mod:`random`): reused or predictable values leak the witness
(security.md G11). Only :func:`prove_no_zk`, named for what it gives up, uses ``r = s = 0``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from zkhealth.errors import FieldTypeError, InvalidProofError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof, ProvingKey
from zkhealth.groth16.r1cs_to_qap import evaluate_rows, h_evaluations
from zkhealth.hazmat.bn254 import g1_add
from zkhealth.hazmat.msm import msm_g1, msm_g2
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


#: From this domain size on, ``workers > 1`` runs the pipelined prover (:func:`_prove_pipelined`); below it,
#: forking and shipping the witness costs more than the overlap saves.
PIPELINE_MIN_DOMAIN = 1 << 9


def _prove_core(pk: ProvingKey, witness: list[int], r: int, s: int, workers: int) -> Proof:
    if workers > 1 and pk.domain_size >= PIPELINE_MIN_DOMAIN:
        from zkhealth.hazmat.parallel import in_worker

        if not in_worker():
            return _prove_pipelined(pk, witness, r, s)
    bases = pk.msm_bases()
    pi_a = msm_g1(bases["a"], [1, r, *witness], workers=workers)
    pi_b = msm_g2(bases["b2"], [1, s, *witness], workers=workers)
    b1, pi_c = _local_share(pk, witness, r, s, workers)
    return Proof(a=pi_a, b=pi_b, c=_finish_c(pk, pi_c, pi_a, b1, r, s))


def _local_share(
    pk: ProvingKey, witness: list[int], r: int, s: int, workers: int, *, with_b1: bool = True
) -> tuple[Any, Any]:
    """H on the odd coset, then ``B1 = beta + sum w_i B_i + s delta`` (unless ``with_b1`` is false: the worker
    computes it) and ``sum_private w_i L_i + sum h_j H_j``."""
    a_dom = evaluate_rows(pk.a_entries, witness, pk.domain_size)
    b_dom = evaluate_rows(pk.b_entries, witness, pk.domain_size)
    # The NTTs stay in this process: the pipelined prover overlaps them with the worker's G2 MSM, so both
    # cores are already busy and a process pool for them (a fork and three pickled vectors) cannot help.
    h = h_evaluations(a_dom, b_dom, workers=1)
    del a_dom, b_dom
    bases = pk.msm_bases()
    b1 = msm_g1(bases["b1"], [1, s, *witness], workers=workers) if with_b1 else None
    pi_c = msm_g1(bases["c"], [*witness[pk.n_public + 1 :], *h], workers=workers)
    return b1, pi_c


def _finish_c(pk: ProvingKey, pi_c: Any, pi_a: Any, b1: Any, r: int, s: int) -> Any:
    # C = sum_private w_i L_i + sum h_j H_j + s*A + r*B1 - r*s*delta (Groth16 §3.2, snarkjs basis).
    randomizer = msm_g1([pi_a, b1, pk.delta_g1], [s, r, (-r * s) % FIELD_R])
    return g1_add(pi_c, randomizer)


# Relative costs for balancing the two processes, measured on this project's machine (gmpy2): a G1 MSM costs
# about 70 us per non-trivial scalar, a G2 MSM about 2.4 times that, and the six NTTs of the quotient about
# 22 us per domain element (a third of a G1 scalar).
_G2_WEIGHT = 2.4
_NTT_WEIGHT_PER_ROW = 0.33


def _nontrivial(points: Sequence[Any], scalars: Sequence[int]) -> int:
    """Scalars that cost a real MSM term: not 0 or 1, on a base point that is not the identity."""
    return sum(1 for point, scalar in zip(points, scalars, strict=False) if point is not None and scalar > 1)


def _worker_takes_b1(pk: ProvingKey, witness: list[int]) -> bool:
    """Whether the worker should also compute B1 so that the two processes finish closer together.

    The worker always takes A and the G2 MSM of B; this process always takes the quotient H and C. B1 goes to
    whichever side then has the smaller estimated cost (circuits with many random witness values, such as the
    Poseidon- and EdDSA-heavy eligibility circuit, load C more than A and B).
    """
    bases = pk.msm_bases()
    scalars = [1, 1, *witness]
    a_cost = _nontrivial(bases["a"], scalars)
    b_count = _nontrivial(bases["b1"], scalars)
    c_cost = _nontrivial(pk.l_query, witness[pk.n_public + 1 :]) + pk.domain_size
    remote = a_cost + _G2_WEIGHT * b_count
    local = _NTT_WEIGHT_PER_ROW * pk.domain_size + c_cost
    return max(remote + b_count, local) < max(remote, local + b_count)


def _pipeline_task(dataset: tuple[list[Any], list[Any], list[Any]], role: str, *args: Any) -> Any:
    """One process's share of a pipelined proof (run through :func:`zkhealth.hazmat.parallel.run_split`).

    ``role == "remote"`` (the worker): the G1 MSM for A, the G2 MSM for B and, when asked, the G1 MSM for B1,
    over the key's bases that reached the worker once (``dataset``); the arguments are the witness, r, s and
    the B1 flag. ``role == "local"`` (this process): the H polynomial, C and otherwise B1, with the proving key
    passed by reference.
    """
    if role == "remote":
        witness, r, s, with_b1 = args
        a_bases, b2_bases, b1_bases = dataset
        b1 = msm_g1(b1_bases, [1, s, *witness]) if with_b1 else None
        return msm_g1(a_bases, [1, r, *witness]), msm_g2(b2_bases, [1, s, *witness]), b1
    pk, witness, r, s, with_b1 = args
    return _local_share(pk, witness, r, s, 1, with_b1=with_b1)


def _worker_token(pk: ProvingKey, *, renew: bool = False) -> int:
    """Register the bases the worker needs (A query, B query in G2 and in G1) once per key."""
    from zkhealth.hazmat import parallel

    if renew or not pk._worker_token:
        bases = pk.msm_bases()
        pk._worker_token = parallel.register((bases["a"], bases["b2"], bases["b1"]))
    return pk._worker_token


def _prove_pipelined(pk: ProvingKey, witness: list[int], r: int, s: int) -> Proof:
    """Two processes, coarse-grained: a worker computes B (the G2 MSM, the most expensive step) and A, while
    this process computes H (6 NTTs) and the C MSM; B1 goes to whichever side balances the load
    (:func:`_worker_takes_b1`). The key's base points reach the worker once per key (inherited at fork, or
    pickled once and cached there under a :mod:`~zkhealth.hazmat.parallel` token); each proof ships only the
    witness and r, s. Splitting whole MSMs between processes loses nothing to the smaller windows of a
    per-window split and overlaps the NTTs with the G2 MSM.
    """
    from zkhealth.hazmat import parallel

    remote_b1 = _worker_takes_b1(pk, witness)
    token = _worker_token(pk)
    calls: list[tuple[Any, ...]] = [
        ("local", pk, witness, r, s, not remote_b1),
        ("remote", witness, r, s, remote_b1),
    ]
    try:
        (local_b1, pi_c), (pi_a, pi_b, worker_b1) = parallel.run_split(_pipeline_task, token, calls)
    except KeyError:
        # The registry evicted the key's dataset (it keeps a bounded number): register it again.
        token = _worker_token(pk, renew=True)
        (local_b1, pi_c), (pi_a, pi_b, worker_b1) = parallel.run_split(_pipeline_task, token, calls)
    b1 = worker_b1 if remote_b1 else local_b1
    return Proof(a=pi_a, b=pi_b, c=_finish_c(pk, pi_c, pi_a, b1, r, s))


def _check_randomness(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < FIELD_R:
        raise FieldTypeError(f"{name} must be an int in [1, r); use prove_no_zk for r = s = 0")
    return value


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
) -> Proof:
    """Prove with caller-chosen blinding ``r, s`` in [1, r) (tests fix them). Checks the witness first
    (:func:`check_witness`). Cost: 4 G1 MSMs of about ``n_wires`` points, one of ``n`` points, one G2 MSM of
    ``n_wires`` points and 6 NTTs of size ``n``. With ``workers > 1`` (the default on a multi-core machine)
    and a domain of at least :data:`PIPELINE_MIN_DOMAIN`, a worker process computes A and B while this one
    computes H, B1 and C (:func:`_prove_pipelined`): about half the wall time on two idle cores."""
    values = check_witness(pk, witness, r1cs)
    proof = _prove_core(pk, values, _check_randomness(r, "r"), _check_randomness(s, "s"), _default_workers(workers))
    if r1cs is None and pk.c_entries is None:
        _self_check(pk, values, proof)
    return proof


def prove(
    pk: ProvingKey,
    witness: Sequence[int],
    *,
    rng: secrets.SystemRandom | None = None,
    workers: int | None = None,
    r1cs: R1CS | None = None,
) -> Proof:
    """Prove with fresh blinding factors from the operating system's CSPRNG (``secrets``)."""
    source = rng if rng is not None else secrets.SystemRandom()
    r = source.randrange(1, FIELD_R)
    s = source.randrange(1, FIELD_R)
    return prove_deterministic(pk, witness, r, s, workers=workers, r1cs=r1cs)


def prove_no_zk(pk: ProvingKey, witness: Sequence[int], *, workers: int | None = None) -> Proof:
    """A proof with ``r = s = 0``: sound but NOT zero-knowledge (A, B, C are functions of the witness alone).

    For debugging and differential tests only (cf. arkworks ``create_proof_no_zk``)."""
    values = check_witness(pk, witness)
    return _prove_core(pk, values, 0, 0, _default_workers(workers))


def public_signals(pk: ProvingKey, witness: Sequence[int]) -> list[int]:
    """The public signals of a witness under ``pk``: wires ``1 .. n_public`` (snarkjs ``public.json``)."""
    return [int(v) for v in witness[1 : 1 + pk.n_public]]
