"""Checks shared by both phases: batched same-ratio pairing equations, random weights, G2 membership.

A "same ratio" ``(a, b, c, d)`` claims ``b = s a`` in G1 and ``d = s c`` in G2 for one unknown s, i.e.
``e(a, d) = e(b, c)`` (Groth's knowledge-of-exponent check as snarkjs' ``sameRatio``). Many such claims are
checked with one multi-pairing: ``prod_k e(rho_k a_k, d_k) e(-rho_k b_k, c_k) = 1`` with fresh 128-bit
``rho_k`` from :mod:`secrets`; a false claim survives with probability about 2^-128. When the batch fails,
the claims are re-checked one by one to name the first false one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Final

from zkhealth.hazmat.batch_ec import G2_GLS_LAMBDA
from zkhealth.hazmat.bn254 import G1, G2, g1_mul, g1_neg, g2_mul, g2_psi
from zkhealth.hazmat.msm import msm_g2
from zkhealth.hazmat.pairing import pairing_product_is_one

#: Random coefficients of the linear-combination checks have this many bits.
CHECK_BITS: Final[int] = 64

#: (check name, contribution index or None, G1 a, G1 b, G2 c, G2 d), meaning e(a, d) == e(b, c).
Ratio = tuple[str, int | None, G1 | None, G1 | None, G2 | None, G2 | None]


def first_false_ratio(ratios: Sequence[Ratio]) -> Ratio | None:
    """None if every claim holds (no point may be the identity), else the first false one."""
    for ratio in ratios:
        if None in ratio[2:]:
            return ratio
    pairs: list[tuple[G1 | None, G2 | None]] = []
    for _, _, a, b, c, d in ratios:
        rho = secrets.randbits(128) | 1
        pairs.append((g1_mul(a, rho), d))
        pairs.append((g1_mul(g1_neg(b), rho), c))
    if pairs and pairing_product_is_one(pairs):
        return None
    for ratio in ratios:
        _, _, a, b, c, d = ratio
        if not pairing_product_is_one([(a, d), (g1_neg(b), c)]):
            return ratio
    return None  # pragma: no cover - the batch fails only if one claim is false (up to 2^-128)


def random_scalars(count: int) -> list[int]:
    """``count`` fresh random coefficients of :data:`CHECK_BITS` bits."""
    return [secrets.randbits(CHECK_BITS) for _ in range(count)]


def all_in_g2(points: Sequence[G2 | None], rounds: int = 2) -> bool:
    """Whether every point lies in G2, tested on random combinations: a point with a component outside G2
    survives one round with probability at most 1/10069 (the smallest prime factor of the cofactor
    2q - r), so ``rounds`` independent rounds. Each round is one MSM and one ``psi(S) = [6x^2] S`` test."""
    live = [p for p in points if p is not None]
    if not live:
        return True
    for _ in range(rounds):
        combo = msm_g2(live, [secrets.randbits(CHECK_BITS) | 1 for _ in live])
        if combo is not None and g2_psi(combo) != g2_mul(combo, G2_GLS_LAMBDA):
            return False
    return True
