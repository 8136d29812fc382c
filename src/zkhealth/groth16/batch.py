"""Batch verification of many Groth16 proofs under one key (bellman ``groth16/batch.rs``).

For proofs ``(A_i, B_i, C_i)`` with public-input points ``L_i`` and random non-zero weights ``z_i``::

    prod_i e(z_i A_i, B_i) * e(-(sum z_i) alpha, beta) * e(-sum z_i L_i, gamma) * e(-sum z_i C_i, delta) == 1

is one multi-Miller loop of ``k + 3`` pairs (the last three with the key's prepared lines) and one final
exponentiation. ``sum z_i L_i`` collapses to one small MSM over the key's IC points and ``sum z_i C_i`` to one
MSM over the C's.

Weights (docs/security.md G14b). ``z_i = z1 + z2 * lambda mod r`` with ``z1, z2`` independent uniform 64-bit
integers from :mod:`secrets`, not both 0, where ``lambda`` is the GLV eigenvalue of G1 (``phi(x, y) =
(beta x, y) = [lambda](x, y)``). So ``z_i A_i = z1 A_i + z2 phi(A_i)`` costs a 64-bit double-scalar
multiplication instead of a 128-bit one. These weights take 2^128 distinct, equally likely non-zero values:
two pairs give the same weight only if ``(z1 - z1') + (z2 - z2') lambda = 0 mod r``, a non-zero vector of the
lattice ``{(a, b) : a + b lambda = 0 mod r}`` with both entries below 2^64, but that lattice's shortest
non-zero vector is longer than 2^126 (its Lagrange-reduced basis is the GLV basis of
:mod:`zkhealth.hazmat.msm`; tests/test_groth16.py checks the reduction and the length). Soundness: write
``X_i = e(A_i, B_i) e(-alpha, beta) e(-L_i, gamma) e(-C_i, delta) = g^(e_i)`` in GT (order r); the batch passes
iff ``sum z_i e_i = 0 mod r``. If some ``e_j != 0``, then for any fixed other weights at most one value of
``z_j`` mod r passes, so an invalid batch passes with probability at most 2^-128.

Validation is that of :func:`zkhealth.groth16.verify` with one saving: each B's subgroup membership is
decided by the shared Miller loop itself (:func:`zkhealth.hazmat.pairing.miller_loop_checked`, whose
docstring proves the test exact) instead of a separate scalar multiplication. The errors and their order
are unchanged: a malformed item makes the whole validation rerun in :func:`verify`'s order up to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from zkhealth.errors import (
    InvalidProofError,
    MalformedProofError,
    PointError,
    PointNotInSubgroupError,
    ProofError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.groth16.keys import Proof, VerifyingKey
from zkhealth.groth16.verifier import (
    check_public_inputs,
    prepare_verifying_key,
    validate_proof_points,
    validate_proof_points_deferred,
)
from zkhealth.hazmat.bn254 import (
    g1_batch_to_affine,
    g1_jacobian_add_affine,
    g1_jacobian_double,
    g1_mul,
    g1_neg,
    wnaf,
)
from zkhealth.hazmat.msm import GLV_BETA, GLV_LAMBDA, msm_g1
from zkhealth.hazmat.pairing import final_exponentiation, fq12_is_one, miller_loop_checked

#: One batch item: (public inputs, proof).
BatchItem = tuple[Sequence[int], Proof]

#: Bits of each half ``z1, z2`` of a weight (the weights themselves take 2^(2 * WEIGHT_HALF_BITS) values).
WEIGHT_HALF_BITS = 64
#: wNAF width of the 64-bit halves: odd multiples 1, 3, 5, 7 of A and of phi(A).
_WNAF_WIDTH = 4

Checked = tuple[list[int], tuple[Any, Any, Any]]


def _weight_halves() -> tuple[int, int]:
    """Uniform ``(z1, z2)`` in [0, 2^64)^2 minus (0, 0), from the OS CSPRNG."""
    while True:
        z1 = secrets.randbits(WEIGHT_HALF_BITS)
        z2 = secrets.randbits(WEIGHT_HALF_BITS)
        if z1 or z2:
            return z1, z2


def _glv_mul_many(points: Sequence[tuple[int, int]], halves: Sequence[tuple[int, int]]) -> list[Any]:
    """``[z1 P + z2 phi(P)]`` for each point and weight halves: interleaved width-4 wNAF, 64 shared doublings
    per point and about 26 mixed additions; the odd multiples of every point are normalised with one
    inversion for the whole batch. Returns affine points (None for the identity)."""
    q = FIELD_Q
    beta = GLV_BETA
    odd_jac: list[Any] = []
    for x, y in points:
        base = (x, y, 1)
        twice = g1_jacobian_double(base)
        three = g1_jacobian_add_affine(twice, (x, y))
        five = g1_jacobian_add_affine(g1_jacobian_double(twice), (x, y))
        seven = g1_jacobian_add_affine(g1_jacobian_double(three), (x, y))
        odd_jac += [base, three, five, seven]
    odd_affine = g1_batch_to_affine(odd_jac)
    results: list[Any] = []
    for index, (z1, z2) in enumerate(halves):
        table = odd_affine[4 * index : 4 * index + 4]
        pos1 = table
        neg1 = [None if p is None else (p[0], q - p[1]) for p in table]
        pos2 = [None if p is None else (beta * p[0] % q, p[1]) for p in table]
        neg2 = [None if p is None else (beta * p[0] % q, q - p[1]) for p in table]
        d1 = wnaf(z1, _WNAF_WIDTH)
        d2 = wnaf(z2, _WNAF_WIDTH)
        length = max(len(d1), len(d2))
        d1 += [0] * (length - len(d1))
        d2 += [0] * (length - len(d2))
        acc: Any = (1, 1, 0)
        for i in range(length - 1, -1, -1):
            acc = g1_jacobian_double(acc)
            a = d1[i]
            if a > 0:
                acc = g1_jacobian_add_affine(acc, pos1[a >> 1])
            elif a < 0:
                acc = g1_jacobian_add_affine(acc, neg1[(-a) >> 1])
            b = d2[i]
            if b > 0:
                acc = g1_jacobian_add_affine(acc, pos2[b >> 1])
            elif b < 0:
                acc = g1_jacobian_add_affine(acc, neg2[(-b) >> 1])
        results.append(acc)
    return g1_batch_to_affine(results)


def _check_items(vk: VerifyingKey, items: Sequence[BatchItem]) -> list[Checked]:
    """:func:`verify`'s checks of every item, except the G2 subgroup test of B (done by the Miller loop).

    On any failure the items up to the failing one are checked again in full and in order, so that the
    error raised is exactly the one :func:`verify` would raise for the first bad item."""
    checked: list[Checked] = []
    for position, item in enumerate(items):
        try:
            if not isinstance(item, tuple) or len(item) != 2:
                raise MalformedProofError("a batch item must be a (public_inputs, proof) pair")
            public_inputs, proof = item
            values = check_public_inputs(vk, public_inputs)
            checked.append((values, validate_proof_points_deferred(proof)))
        except (ValueError, TypeError):
            _check_items_fully(vk, items[: position + 1])
            raise
    return checked


def _check_items_fully(vk: VerifyingKey, items: Sequence[BatchItem]) -> list[Checked]:
    checked = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise MalformedProofError("a batch item must be a (public_inputs, proof) pair")
        public_inputs, proof = item
        values = check_public_inputs(vk, public_inputs)
        checked.append((values, validate_proof_points(proof)))
    return checked


def _batch_holds(vk: VerifyingKey, checked: Sequence[Checked]) -> bool:
    """The batch equation; raises :class:`PointNotInSubgroupError` for the first B outside G2."""
    prepared = prepare_verifying_key(vk)
    r = FIELD_R
    n_ic = len(vk.gamma_abc_g1)
    ic_scalars = [0] * n_ic
    weight_sum = 0
    weights = []
    halves = []
    for values, _ in checked:
        z1, z2 = _weight_halves()
        z = (z1 + z2 * GLV_LAMBDA) % r
        halves.append((z1, z2))
        weights.append(z)
        weight_sum += z
        ic_scalars[0] += z
        for j, x in enumerate(values, start=1):
            ic_scalars[j] += z * x
    weighted_a = _glv_mul_many([a for _, (a, _, _) in checked], halves)
    ic_scalars = [v % r for v in ic_scalars]
    vk_x = msm_g1(list(vk.gamma_abc_g1), ic_scalars)
    c_sum = msm_g1([c for _, (_, _, c) in checked], weights)
    fixed = [
        (g1_mul(prepared.neg_alpha_g1, weight_sum % r), prepared.beta_g2),
        (g1_neg(vk_x), prepared.gamma_g2),
        (g1_neg(c_sum), prepared.delta_g2),
    ]
    # z_i A_i is never the identity: A_i != O and 0 < z_i < r in a group of prime order r.
    pairs = [(za, b) for za, (_, (_, b, _)) in zip(weighted_a, checked, strict=True)]
    f, outside = miller_loop_checked(pairs, fixed)
    if outside:
        raise PointNotInSubgroupError(
            f"batch item {outside[0]}: G2 point is on the twist but not in the order-r subgroup"
        )
    return fq12_is_one(final_exponentiation(f))


def batch_verify(vk: VerifyingKey, items: Sequence[BatchItem]) -> None:
    """Verify every ``(public_inputs, proof)`` in ``items`` at once; ``None`` if all are valid.

    Raises the typed error of the first malformed item (same checks and order as :func:`verify`), the key
    errors of :func:`prepare_verifying_key`, or :class:`InvalidProofError` when at least one proof is wrong
    (use :func:`find_invalid` to locate it). An empty batch is valid. Cost per proof: a 64-bit G1
    double-scalar multiplication and one Miller loop with an unprepared B (its walk doubling as the G2
    subgroup check); per batch: two small MSMs, three prepared Miller loops and one final exponentiation.
    """
    prepare_verifying_key(vk)
    if not items:
        return
    checked = _check_items(vk, items)
    if not _batch_holds(vk, checked):
        raise InvalidProofError("at least one proof in the batch does not verify")


def find_invalid(vk: VerifyingKey, items: Sequence[BatchItem]) -> list[int]:
    """Indices of the items that do not verify (malformed ones included), found by bisection: a batch
    with ``k`` bad proofs out of ``m`` costs about ``2 k log2(m)`` batch checks."""
    prepare_verifying_key(vk)
    bad: list[int] = []
    candidates: list[tuple[int, Checked]] = []
    for index, item in enumerate(items):
        try:
            candidates.append((index, _check_items_fully(vk, [item])[0]))
        except (MalformedProofError, PointError, ProofError, ValueError, TypeError):
            bad.append(index)

    def bisect(group: list[tuple[int, Checked]]) -> None:
        if not group:
            return
        if _batch_holds(vk, [entry for _, entry in group]):
            return
        if len(group) == 1:
            bad.append(group[0][0])
            return
        middle = len(group) // 2
        bisect(group[:middle])
        bisect(group[middle:])

    bisect(candidates)
    return sorted(bad)
