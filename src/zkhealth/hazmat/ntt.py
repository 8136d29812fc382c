"""Number-theoretic transform (NTT) over BN254's scalar field Fr, and coset variants for Groth16.

Field facts: ``r - 1 = 2^28 * t`` with t odd, and 5 generates Fr^* (the multiplicative generator snarkjs and
ffjavascript use as well). The primitive 2^k-th root of unity used here is
``root_of_unity(k) = (5^t)^(2^(28 - k))``, so the domain of size n = 2^k is ``{omega^i}`` with
``omega = root_of_unity(k)``, and ``ntt(a)[i] = sum_j a[j] * omega^(i*j)`` (coefficients in, evaluations out,
both in natural order).

Algorithm: radix-2 decimation in frequency in the constant-geometry (Pease) form. Every stage reads the
pairs ``(x[i], x[i + n/2])`` and writes ``x[i] + x[i + n/2]`` to position 2i and
``(x[i] - x[i + n/2]) * w`` to position 2i + 1, so each stage is a handful of whole-list ``map`` calls that
run in C rather than a Python loop per butterfly (M. C. Pease, "An adaptation of the fast Fourier transform
for parallel processing", J. ACM 15(2), 1968). The output then lies in bit-reversed order and one cached
permutation restores natural order. Sums are left unreduced between stages (they grow by one bit a stage);
every product is reduced. Twiddle tables and permutations are cached per size.

Cosets: ``coset_ntt(a, shift=g)`` evaluates the polynomial on ``g * <omega>``. The default ``g`` is
:data:`COSET_SHIFT` = 5, which lies in no subgroup of 2-power order, so the coset never meets the domain.
snarkjs computes Groth16's ``h`` on the "odd" coset ``omega_{2n} * <omega_n>``; pass
``shift=root_of_unity(k + 1)`` for that. On any coset the vanishing polynomial ``Z(x) = x^n - 1`` is the
constant ``shift^n - 1`` (:func:`vanishing_on_coset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from operator import add, mod, mul, sub
from typing import Any, Final

from zkhealth._bigint import HAVE_GMPY2, mpz, powmod
from zkhealth.errors import FieldRangeError, FieldTypeError, InputLengthError, InvalidArgumentError
from zkhealth.field import FIELD_R

#: Largest k with 2^k dividing r - 1.
TWO_ADICITY: Final[int] = 28
#: The multiplicative generator of Fr^* used to derive roots of unity.
MULTIPLICATIVE_GENERATOR: Final[int] = 5
#: Default coset shift of :func:`coset_ntt` / :func:`coset_intt` (outside every 2-power subgroup).
COSET_SHIFT: Final[int] = 5

_R: Final[Any] = mpz(FIELD_R)
_ODD_PART: Final[int] = (FIELD_R - 1) >> TWO_ADICITY
_ROOT_2_28: Final[int] = pow(MULTIPLICATIVE_GENERATOR, _ODD_PART, FIELD_R)
_INT_TYPES: Final[frozenset[type]] = frozenset({int, type(mpz(0))})


def root_of_unity(log_n: int) -> int:
    """Return the primitive 2^log_n-th root of unity ``(5^t)^(2^(28 - log_n))`` for 0 <= log_n <= 28."""
    if isinstance(log_n, bool) or not isinstance(log_n, int):
        raise FieldTypeError("root_of_unity: log_n must be an int")
    if not 0 <= log_n <= TWO_ADICITY:
        raise InputLengthError(f"root_of_unity: log_n must lie in [0, {TWO_ADICITY}]")
    return pow(_ROOT_2_28, 1 << (TWO_ADICITY - log_n), FIELD_R)


def vanishing_on_coset(n: int, shift: int = COSET_SHIFT) -> int:
    """Return ``Z(x) = x^n - 1`` on the coset ``shift * <omega_n>``: the constant ``shift^n - 1`` mod r."""
    _log2_size(n)
    return (pow(shift, n, FIELD_R) - 1) % FIELD_R


def _log2_size(n: int) -> int:
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise InputLengthError(f"ntt: length {n} is not a power of two in [1, 2^{TWO_ADICITY}]")
    return n.bit_length() - 1


def _checked(values: Sequence[int]) -> tuple[list[Any], int]:
    """Validate field elements and convert them to the backend type. Cost: a few C-level passes."""
    log_n = _log2_size(len(values))
    items = list(values)
    if not set(map(type, items)) <= _INT_TYPES:
        raise FieldTypeError("ntt: values must be ints")
    if min(items) < 0 or max(items) >= FIELD_R:
        raise FieldRangeError("ntt: a value is not in [0, r)")
    return list(map(mpz, items)), log_n


@lru_cache(maxsize=64)
def _plan(log_n: int, inverse: bool) -> tuple[tuple[list[Any], ...], list[int]]:
    """Per-stage twiddle lists and the bit-reversal permutation for size 2^log_n (cached).

    Stage s uses ``w^((i >> s) << s)`` at butterfly i; the lists share the power objects, so the cache
    holds ``(n/2) * log_n`` references but only n/2 numbers.
    """
    n = 1 << log_n
    half = n >> 1
    w = root_of_unity(log_n)
    if inverse:
        w = pow(w, -1, FIELD_R)
    powers: list[Any] = []
    cur = _ONE = mpz(1)
    wm = mpz(w)
    for _ in range(half):
        powers.append(cur)
        cur = cur * wm % _R
    stages = []
    for s in range(log_n):
        step = 1 << s
        stages.append([powers[(i >> s) << s] for i in range(half)] if step < half else [_ONE] * half)
    rev = [int(format(i, f"0{log_n}b")[::-1], 2) if log_n else 0 for i in range(n)]
    return tuple(stages), rev


def _transform(x: list[Any], log_n: int, inverse: bool) -> list[Any]:
    """Unnormalised transform of backend-typed values in [0, r); returns reduced values, natural order."""
    n = len(x)
    if n == 1:
        return x
    half = n >> 1
    stages, rev = _plan(log_n, inverse)
    r = _R
    rs = repeat(r)
    last = log_n - 1
    for s, tw in enumerate(stages):
        lo = x[:half]
        hi = x[half:]
        y: list[Any] = [None] * n
        y[0::2] = map(add, lo, hi)
        if s == last:
            y[1::2] = map(sub, lo, hi)
        else:
            y[1::2] = map(mod, map(mul, map(sub, lo, hi), tw), rs)
        x = y
    out = list(map(mod, x, rs))
    return [out[i] for i in rev]


def _plain(values: list[Any]) -> list[int]:
    return list(map(int, values))


def ntt(values: Sequence[int]) -> list[int]:
    """Evaluate the polynomial with coefficients ``values`` on ``{omega^i}``, n = len(values).

    Enforces: n is a power of two <= 2^28 (:class:`InputLengthError`); values are ints in [0, r)
    (:class:`FieldTypeError` / :class:`FieldRangeError`). Cost: (n/2) log2(n) multiplications.
    """
    x, log_n = _checked(values)
    return _plain(_transform(x, log_n, False))


def intt(values: Sequence[int]) -> list[int]:
    """Interpolate: return the coefficients of the polynomial whose evaluations on ``{omega^i}`` are given.

    Same checks and cost as :func:`ntt` (plus n multiplications by 1/n).
    """
    x, log_n = _checked(values)
    out = _transform(x, log_n, True)
    n_inv = mpz(pow(len(out), -1, FIELD_R))
    return _plain(list(map(mod, map(mul, out, repeat(n_inv)), repeat(_R))))


def _check_shift(shift: int, n: int) -> int:
    if isinstance(shift, bool) or type(shift) not in _INT_TYPES:
        raise FieldTypeError("coset shift must be an int")
    if not 0 < shift < FIELD_R:
        raise InvalidArgumentError("coset shift must lie in [1, r)")
    if powmod(shift, n, FIELD_R) == 1:
        raise InvalidArgumentError("coset shift lies in the evaluation domain: the coset would equal it")
    return int(shift)


def _shift_powers(shift: int, n: int) -> list[Any]:
    """Return [1, g, g^2, ..., g^(n-1)] for a shift already checked by :func:`_check_shift`."""
    g = mpz(shift)
    out: list[Any] = []
    cur = mpz(1)
    for _ in range(n):
        out.append(cur)
        cur = cur * g % _R
    return out


def coset_ntt(values: Sequence[int], shift: int = COSET_SHIFT) -> list[int]:
    """Evaluate the polynomial with coefficients ``values`` on the coset ``shift * <omega>``.

    Enforces the :func:`ntt` checks, and 0 < shift < r with ``shift^n != 1`` (:class:`InvalidArgumentError`),
    so the coset is disjoint from the domain. Cost: :func:`ntt` plus 2n multiplications.
    """
    x, log_n = _checked(values)
    scaled = list(map(mod, map(mul, x, _shift_powers(_check_shift(shift, len(x)), len(x))), repeat(_R)))
    return _plain(_transform(scaled, log_n, False))


def coset_intt(values: Sequence[int], shift: int = COSET_SHIFT) -> list[int]:
    """Inverse of :func:`coset_ntt`: coefficients from evaluations on ``shift * <omega>``.

    Same checks as :func:`coset_ntt`. Cost: :func:`intt` plus 2n multiplications.
    """
    x, log_n = _checked(values)
    n = len(x)
    factors = _shift_powers(pow(_check_shift(shift, n), -1, FIELD_R), n)
    out = _transform(x, log_n, True)
    n_inv = mpz(pow(n, -1, FIELD_R))
    scaled = map(mul, map(mod, map(mul, out, repeat(n_inv)), repeat(_R)), factors)
    return _plain(list(map(mod, scaled, repeat(_R))))


@lru_cache(maxsize=8)
def _coset_factors(log_n: int, shift: int) -> list[Any]:
    """``[shift^i / n for i in range(n)]`` (the inverse transform's 1/n folded in), cached per size and shift."""
    n_inv = mpz(pow(1 << log_n, -1, FIELD_R))
    return [v * n_inv % _R for v in _shift_powers(shift, 1 << log_n)]


def domain_to_coset(values: Sequence[int], shift: int = COSET_SHIFT) -> list[int]:
    """Re-evaluate: from the evaluations of a polynomial of degree < n on ``<omega>`` to its evaluations on
    the coset ``shift * <omega>`` (what ``coset_ntt(intt(values), shift)`` returns).

    Enforces the checks of :func:`coset_ntt`. Groth16's prover uses it with ``shift = root_of_unity(k + 1)``
    (the odd coset of snarkjs). Cost: with gmpy2 and n >= 2^:data:`CONVOLUTION_MIN_LOG`, one cyclic
    convolution computed as a single multiplication of two (n * 66)-byte integers (:func:`_coset_by_convolution`,
    1.6x faster than the transforms at 2^14, 2x at 2^16-2^17); otherwise two transforms and n multiplications.
    """
    x, log_n = _checked(values)
    checked_shift = _check_shift(shift, len(x))
    if _CONVOLUTION and log_n >= CONVOLUTION_MIN_LOG:
        return _coset_by_convolution(x, log_n, checked_shift)
    return _plain(_coset_by_transforms(x, log_n, checked_shift))


def _coset_by_transforms(x: list[Any], log_n: int, shift: int) -> list[Any]:
    """:func:`domain_to_coset` as an inverse transform, the coset powers, and a forward transform."""
    factors = _coset_factors(log_n, shift)
    coefficients = _transform(x, log_n, True)
    scaled = list(map(mod, map(mul, coefficients, factors), repeat(_R)))
    return _transform(scaled, log_n, False)


# --------------------------------------------------------------------------- re-evaluation by convolution
#
# For P of degree < n with values v_i = P(omega^i), the coefficients are p_j = (1/n) sum_i v_i omega^(-ij), so
#
#     P(g omega^k) = sum_j p_j g^j omega^(jk) = sum_i v_i m_((k - i) mod n),
#     m_d = (1/n) sum_j (g omega^d)^j = (g^n - 1) / (n (g omega^d - 1))      (g omega^d != 1: g is off the domain)
#
# a cyclic convolution of v with a kernel m that depends only on n and g. With every v_i, m_d in [0, r) packed
# as base-2^S digits (Kronecker substitution, S bits per slot), the product of the two packed integers has
# the linear convolution's terms as its digits as long as no term reaches 2^S: each is a sum of at most n
# products below r^2, and folding the upper half onto the lower (the cyclic wrap) adds two of them, so
# S = 2 * 254 + log2(n) + 1 bits suffice (rounded up to whole bytes). GMP multiplies the two integers with
# its FFT; what remains in Python is packing n values, one addition, and unpacking n slots.

#: The convolution path needs gmpy2 (Python's own multiplication is Karatsuba: far slower at these sizes).
_CONVOLUTION: Final[bool] = HAVE_GMPY2
if HAVE_GMPY2:
    from gmpy2 import pack as _gmpy2_pack
    from gmpy2 import unpack as _gmpy2_unpack
#: From this log2 size on :func:`domain_to_coset` uses the convolution (below it the transforms are as fast).
CONVOLUTION_MIN_LOG: Final[int] = 8


def _slot_bytes(log_n: int) -> int:
    """Bytes per packed slot: a cyclic-convolution term is below ``2 n r^2 < 2^(2 * 254 + log_n + 1)``."""
    return (2 * FIELD_R.bit_length() + log_n + 1 + 7) // 8


def _pack(values: Sequence[Any], width: int) -> Any:
    """``sum_i values[i] * 2^(8 * width * i)`` for values in [0, r) (one integer, little-endian slots; gmpy2)."""
    return _gmpy2_pack(list(values), 8 * width)


def batch_inverse_fr(values: Sequence[Any], scale: int = 1) -> list[Any]:
    """``scale / v`` in Fr for each non-zero value v, with one exponentiation (Montgomery's trick); the results
    have the values' type (ints for ints, gmpy2 ``mpz`` for ``mpz``). Cost: 3n multiplications, one inversion."""
    r = FIELD_R
    prefix: list[Any] = [1] * len(values)
    acc: Any = 1
    for i, v in enumerate(values):
        prefix[i] = acc
        acc = acc * v % r
    inv = pow(int(acc), -1, r) * scale % r
    out: list[Any] = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % r
        inv = inv * values[i] % r
    return out


@lru_cache(maxsize=4)
def _coset_kernel(log_n: int, shift: int) -> Any:
    """The kernel ``m_d = (shift^n - 1) / (n (shift omega^d - 1))``, d in [0, n), packed (cached per size and
    shift; about 66 bytes per point). Cost: 4n multiplications and one inversion; 2.5n for the odd coset, whose
    points come in inverse pairs (below)."""
    n = 1 << log_n
    r = _R
    omega = mpz(root_of_unity(log_n))
    scale = int((powmod(shift, n, r) - 1) * pow(n, -1, FIELD_R) % r)
    # On the odd coset (shift = omega_2n, so shift^2 = omega) the point of index n-1-d is the inverse of the
    # point z of index d, and K / (1/z - 1) = -z * K / (z - 1): the second half of the kernel is the first half
    # times -z, one multiplication each instead of a share of the batch inversion.
    paired = n >= 2 and shift * shift % FIELD_R == int(omega)
    count = n // 2 if paired else n
    points: list[Any] = []
    point = mpz(shift)
    for _ in range(count):
        points.append(point)
        point = point * omega % r
    # shift * omega^d - 1 is never 0: _check_shift refused shifts on the domain.
    kernel = batch_inverse_fr([(z - 1) % r for z in points], scale)
    if paired:
        kernel += [(r - z) * m % r for z, m in zip(reversed(points), reversed(kernel), strict=True)]
    return _pack(kernel, _slot_bytes(log_n))


def _coset_by_convolution(x: list[Any], log_n: int, shift: int) -> list[int]:
    """:func:`domain_to_coset` as one cyclic convolution (see the comment above). Values in [0, r)."""
    n = 1 << log_n
    width = _slot_bytes(log_n)
    product = _pack(x, width) * _coset_kernel(log_n, shift)
    bits = 8 * width * n
    folded = (product & ((mpz(1) << bits) - 1)) + (product >> bits)  # the cyclic wrap: term k plus term k + n
    slots = _gmpy2_unpack(folded, 8 * width)[:n]  # no term reaches 2^(8 * width): at most n slots
    slots += [0] * (n - len(slots))  # high slots that are zero are not returned
    return list(map(int, map(mod, slots, repeat(_R))))
