"""The inverse FFT over BN254 G1 and G2 points: Lagrange-basis points from powers of tau.

Given ``P_i = tau^i G`` for ``i < m`` (m a power of two), the inverse transform

    out_j = (1/m) sum_i omega^(-i j) P_i = L_j(tau) G

gives the Lagrange basis of the domain ``<omega>`` evaluated at the unknown tau, "in the exponent" (what
snarkjs' ``powersoftau prepare phase2`` stores, via ffjavascript's ``G.ifft``). omega is the primitive m-th
root of unity ``5^((r-1)/m)`` of :mod:`zkhealth.hazmat.ntt`, so the points match the ones every snarkjs tool
expects, in natural order.

Algorithm: radix-2 decimation in frequency (Gentleman-Sande): stage by stage, each pair ``(a, b)`` becomes
``(a + b, (a - b) w^j)``; the sums and differences of a stage are two batches of affine additions (one
shared inversion each, :mod:`.batch_ec`) and the twiddle products one :func:`~.batch_ec.g1_mul_many` call.
The factor 1/m is folded into the first stage's products (both outputs of each first-stage butterfly are
multiplied), which costs m/2 extra products instead of m. The output comes out in bit-reversed order and
is permuted back. Cost: about ``(m/2) (log2 m - 1)`` scalar multiplications (those by 1 are skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from zkhealth.errors import InputLengthError
from zkhealth.field import FIELD_R
from zkhealth.hazmat.batch_ec import g1_add_many, g1_mul_many, g1_sub_many, g2_add_many, g2_mul_many, g2_sub_many
from zkhealth.hazmat.bn254 import G1, G2
from zkhealth.hazmat.ntt import root_of_unity

__all__ = ["g1_ifft", "g2_ifft", "ifft_cost"]

P = TypeVar("P")


def _bit_reverse_permutation(log_n: int) -> list[int]:
    return [int(format(i, f"0{log_n}b")[::-1], 2) if log_n else 0 for i in range(1 << log_n)]


def ifft_cost(size: int) -> int:
    """Number of scalar multiplications :func:`g1_ifft` / :func:`g2_ifft` perform for ``size`` points."""
    log_n = _log2(size)
    if log_n == 0:
        return 0
    # first stage: every output is scaled (size products); later stages: every pair but j = 0.
    return size + sum((size >> 1) - (1 << s) for s in range(1, log_n))


def _log2(size: int) -> int:
    if size < 1 or size & (size - 1) or size.bit_length() - 1 > 28:
        raise InputLengthError(f"group ifft: {size} points is not a power of two up to 2^28")
    return size.bit_length() - 1


def _ifft(
    points: Sequence[Any],
    add: Callable[[Sequence[Any], Sequence[Any]], list[Any]],
    sub: Callable[[Sequence[Any], Sequence[Any]], list[Any]],
    mul: Callable[[Sequence[Any], Sequence[int]], list[Any]],
) -> list[Any]:
    size = len(points)
    log_n = _log2(size)
    r = FIELD_R
    scale = pow(size, -1, r)
    if log_n == 0:
        return mul(list(points), [scale])
    x = list(points)
    half = size >> 1
    first = True
    while half >= 1:
        # Twiddles of this stage: powers of omega_(2 half)^-1.
        w = pow(root_of_unity(half.bit_length()), -1, r)
        powers = [1] * half
        for j in range(1, half):
            powers[j] = powers[j - 1] * w % r
        lhs: list[Any] = []
        rhs: list[Any] = []
        for start in range(0, size, 2 * half):
            lhs.extend(x[start : start + half])
            rhs.extend(x[start + half : start + 2 * half])
        sums = add(lhs, rhs)
        diffs = sub(lhs, rhs)
        blocks = size // (2 * half)
        if first:
            sums = mul(sums, [scale] * len(sums))
            diffs = mul(diffs, [p * scale % r for p in powers] * blocks)
            first = False
        elif half > 1:
            # j = 0 multiplies by 1: only the others go through the batch.
            picked = [i for i in range(len(diffs)) if i % half]
            products = mul([diffs[i] for i in picked], [powers[i % half] for i in picked])
            for i, value in zip(picked, products, strict=True):
                diffs[i] = value
        for b in range(blocks):
            start = 2 * half * b
            x[start : start + half] = sums[b * half : (b + 1) * half]
            x[start + half : start + 2 * half] = diffs[b * half : (b + 1) * half]
        half >>= 1
    rev = _bit_reverse_permutation(log_n)
    return [x[rev[i]] for i in range(size)]


def g1_ifft(points: Sequence[G1 | None]) -> list[G1 | None]:
    """Inverse FFT of G1 points (see the module docstring). ``len(points)`` must be a power of two.

    Raises :class:`InputLengthError` otherwise. Points are assumed valid (hazmat).
    """
    return _ifft(points, g1_add_many, g1_sub_many, g1_mul_many)


def g2_ifft(points: Sequence[G2 | None]) -> list[G2 | None]:
    """Inverse FFT of G2 points (see :func:`g1_ifft`). The points must lie in G2
    (see :func:`~zkhealth.hazmat.batch_ec.g2_mul_many`)."""
    return _ifft(points, g2_add_many, g2_sub_many, g2_mul_many)
