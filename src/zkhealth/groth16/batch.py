"""Batch verification of many Groth16 proofs under one key (bellman ``groth16/batch.rs``).

For proofs ``(A_i, B_i, C_i)`` with public-input points ``L_i`` and random non-zero 128-bit weights ``z_i``::

    prod_i e(z_i A_i, B_i) * e(-(sum z_i) alpha, beta) * e(-sum z_i L_i, gamma) * e(-sum z_i C_i, delta) == 1

is one multi-Miller loop of ``k + 3`` pairs and one final exponentiation. If any proof is invalid the product
is 1 only with probability about 2^-128 over the weights, which therefore come from :mod:`secrets` and are
never zero (security.md G14b). ``sum z_i L_i`` collapses to one small MSM over the key's IC points.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from zkhealth.errors import InvalidProofError, MalformedProofError, PointError, ProofError
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof, VerifyingKey
from zkhealth.groth16.verifier import (
    check_public_inputs,
    prepare_verifying_key,
    validate_proof_points,
)
from zkhealth.hazmat.bn254 import g1_mul, g1_neg
from zkhealth.hazmat.msm import msm_g1
from zkhealth.hazmat.pairing import pairing_product_is_one

#: One batch item: (public inputs, proof).
BatchItem = tuple[Sequence[int], Proof]

WEIGHT_BITS = 128


def _weight() -> int:
    while True:
        z = secrets.randbits(WEIGHT_BITS)
        if z:
            return z


def _check_items(vk: VerifyingKey, items: Sequence[BatchItem]) -> list[tuple[list[int], tuple[Any, Any, Any]]]:
    checked = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise MalformedProofError("a batch item must be a (public_inputs, proof) pair")
        public_inputs, proof = item
        values = check_public_inputs(vk, public_inputs)
        checked.append((values, validate_proof_points(proof)))
    return checked


def _batch_holds(vk: VerifyingKey, checked: Sequence[tuple[list[int], tuple[Any, Any, Any]]]) -> bool:
    prepared = prepare_verifying_key(vk)
    r = FIELD_R
    n_ic = len(vk.gamma_abc_g1)
    ic_scalars = [0] * n_ic
    weight_sum = 0
    pairs: list[tuple[Any, Any]] = []
    c_points = []
    weights = []
    for values, (a, b, c) in checked:
        z = _weight()
        weight_sum += z
        ic_scalars[0] += z
        for j, x in enumerate(values, start=1):
            ic_scalars[j] += z * x
        pairs.append((g1_mul(a, z), b))
        c_points.append(c)
        weights.append(z)
    ic_scalars = [v % r for v in ic_scalars]
    vk_x = msm_g1(list(vk.gamma_abc_g1), ic_scalars)
    c_sum = msm_g1(c_points, weights)
    pairs.append((g1_mul(prepared.neg_alpha_g1, weight_sum % r), prepared.beta_g2))
    pairs.append((g1_neg(vk_x), prepared.gamma_g2))
    pairs.append((g1_neg(c_sum), prepared.delta_g2))
    return pairing_product_is_one(pairs)


def batch_verify(vk: VerifyingKey, items: Sequence[BatchItem]) -> None:
    """Verify every ``(public_inputs, proof)`` in ``items`` at once; ``None`` if all are valid.

    Raises the typed error of the first malformed item (same checks and order as :func:`verify`), the key
    errors of :func:`prepare_verifying_key`, or :class:`InvalidProofError` when at least one proof is wrong
    (use :func:`find_invalid` to locate it). An empty batch is valid. Cost per proof: a 128-bit G1
    multiplication, a G2 subgroup check and one Miller loop with an unprepared B; plus one final
    exponentiation per batch.
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
    candidates: list[tuple[int, tuple[list[int], tuple[Any, Any, Any]]]] = []
    for index, item in enumerate(items):
        try:
            candidates.append((index, _check_items(vk, [item])[0]))
        except (MalformedProofError, PointError, ProofError, ValueError, TypeError):
            bad.append(index)

    def bisect(group: list[tuple[int, tuple[list[int], tuple[Any, Any, Any]]]]) -> None:
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
