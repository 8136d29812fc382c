"""NTT over Fr against galois (GF(r) with generator 5; never galois.ntt, which rebuilds the field slowly)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.errors import FieldRangeError, FieldTypeError, InputLengthError, InvalidArgumentError
from zkhealth.field import FIELD_R
from zkhealth.hazmat.ntt import (
    COSET_SHIFT,
    TWO_ADICITY,
    coset_intt,
    coset_ntt,
    intt,
    ntt,
    root_of_unity,
    vanishing_on_coset,
)

pytestmark = pytest.mark.native

R = FIELD_R


@pytest.fixture(scope="module")
def gf() -> Any:
    galois = pytest.importorskip("galois")
    return galois.GF(R, primitive_element=5, verify=False)


def _rand(n: int, seed: int) -> list[int]:
    rnd = random.Random(seed)
    return [rnd.randrange(R) for _ in range(n)]


def _galois_eval(gf: Any, coeffs: list[int], xs: list[int]) -> list[int]:
    import galois

    poly = galois.Poly(list(reversed(coeffs)), field=gf)  # galois wants the highest degree first
    return [int(v) for v in poly(gf(xs))]


def test_root_of_unity_orders(gf: Any) -> None:
    w28 = root_of_unity(TWO_ADICITY)
    assert w28 == int(gf(5) ** ((R - 1) >> TWO_ADICITY))
    assert pow(w28, 1 << 28, R) == 1
    assert pow(w28, 1 << 27, R) == R - 1  # primitive
    assert root_of_unity(0) == 1
    assert root_of_unity(1) == R - 1
    for k in (2, 5, 13):
        w = root_of_unity(k)
        assert pow(w, 1 << k, R) == 1 and pow(w, 1 << (k - 1), R) != 1
        assert pow(root_of_unity(k + 1), 2, R) == w


@pytest.mark.parametrize("log_n", range(0, 7))
def test_ntt_matches_galois_evaluation(gf: Any, log_n: int) -> None:
    n = 1 << log_n
    coeffs = _rand(n, log_n)
    w = root_of_unity(log_n)
    domain = [pow(w, i, R) for i in range(n)]
    assert ntt(coeffs) == _galois_eval(gf, coeffs, domain)
    shift = COSET_SHIFT
    assert coset_ntt(coeffs) == _galois_eval(gf, coeffs, [shift * x % R for x in domain])
    odd = root_of_unity(log_n + 1)
    assert coset_ntt(coeffs, shift=odd) == _galois_eval(gf, coeffs, [odd * x % R for x in domain])


def test_naive_dft_with_galois_elements(gf: Any) -> None:
    n = 8
    values = _rand(n, 99)
    w = gf(root_of_unity(3))
    naive = [int(sum((gf(values[j]) * w ** (i * j) for j in range(n)), gf(0))) for i in range(n)]
    assert ntt(values) == naive
    w_inv = w**-1
    n_inv = gf(n) ** -1
    inverse = [int(n_inv * sum((gf(values[j]) * w_inv ** (i * j) for j in range(n)), gf(0))) for i in range(n)]
    assert intt(values) == inverse


@pytest.mark.parametrize("log_n", [0, 1, 2, 5, 10])
def test_round_trips(log_n: int) -> None:
    values = _rand(1 << log_n, 1000 + log_n)
    assert intt(ntt(values)) == values
    assert ntt(intt(values)) == values
    assert coset_intt(coset_ntt(values)) == values
    odd = root_of_unity(log_n + 1)
    assert coset_intt(coset_ntt(values, shift=odd), shift=odd) == values
    assert coset_intt(coset_ntt(values, shift=7), shift=7) == values


def test_edge_values() -> None:
    n = 16
    assert ntt([0] * n) == [0] * n
    assert ntt([1] + [0] * (n - 1)) == [1] * n
    assert ntt([R - 1] * n) == [(R - 1) * n % R] + [0] * (n - 1)
    assert intt([5] * n) == [5] + [0] * (n - 1)


def test_convolution_matches_galois_poly_multiplication(gf: Any) -> None:
    import galois

    a = _rand(20, 1)
    b = _rand(13, 2)
    size = 64
    fa = ntt(a + [0] * (size - len(a)))
    fb = ntt(b + [0] * (size - len(b)))
    product = intt([x * y % R for x, y in zip(fa, fb, strict=True)])
    expected = galois.Poly(list(reversed(a)), field=gf) * galois.Poly(list(reversed(b)), field=gf)
    coeffs = [int(c) for c in reversed(expected.coeffs)]
    assert product[: len(coeffs)] == coeffs
    assert all(c == 0 for c in product[len(coeffs) :])


def test_vanishing_polynomial_on_coset() -> None:
    n = 32
    # Z(x) = x^n - 1 has coefficients [-1, 0, ..., 0, 1] (degree n, so use a domain of size 2n)
    z = [R - 1] + [0] * (n - 1) + [1] + [0] * (n - 1)
    evals = coset_ntt(z, shift=COSET_SHIFT)
    # on the size-64 coset 5 * <omega_64>, Z takes the value 5^32 * omega_64^(32 i) - 1 = +-5^32 - 1
    c = vanishing_on_coset(n, COSET_SHIFT)
    assert c == (pow(COSET_SHIFT, n, R) - 1) % R
    assert evals[0::2] == [c] * n
    assert evals[1::2] == [(-pow(COSET_SHIFT, n, R) - 1) % R] * n
    # snarkjs's odd coset omega_{2n} * <omega_n>: Z = omega_{2n}^n - 1 = -2
    assert vanishing_on_coset(n, root_of_unity(6)) == R - 2


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 6).flatmap(lambda k: st.lists(st.integers(0, R - 1), min_size=1 << k, max_size=1 << k)))
def test_round_trip_hypothesis(values: list[int]) -> None:
    assert intt(ntt(values)) == values
    assert coset_intt(coset_ntt(values)) == values


def test_invalid_inputs() -> None:
    for size in (0, 3, 6, 12):
        with pytest.raises(InputLengthError):
            ntt([1] * size)
        with pytest.raises(InputLengthError):
            intt([1] * size)
        with pytest.raises(InputLengthError):
            coset_ntt([1] * size)
    with pytest.raises(FieldRangeError):
        ntt([0, R])
    with pytest.raises(FieldRangeError):
        intt([-1, 0])
    with pytest.raises(FieldRangeError):
        coset_intt([0, 0, 0, R + 1])
    with pytest.raises(FieldTypeError):
        ntt([0, 1.0])  # type: ignore[list-item]
    with pytest.raises(FieldTypeError):
        ntt([True, 0])
    with pytest.raises(FieldTypeError):
        ntt(["1", "2"])  # type: ignore[list-item]
    with pytest.raises(InputLengthError):
        root_of_unity(29)
    with pytest.raises(InputLengthError):
        root_of_unity(-1)
    with pytest.raises(FieldTypeError):
        root_of_unity(True)
    with pytest.raises(InvalidArgumentError):
        coset_ntt([1, 2], shift=0)
    with pytest.raises(InvalidArgumentError):
        coset_ntt([1, 2], shift=R)
    with pytest.raises(InvalidArgumentError):
        coset_ntt([1, 2, 3, 4], shift=root_of_unity(2))  # the coset would be the domain itself
    with pytest.raises(InvalidArgumentError):
        coset_intt([1, 2], shift=R - 1)  # -1 is in the size-2 domain
    with pytest.raises(FieldTypeError):
        coset_ntt([1, 2], shift=True)
    with pytest.raises(FieldTypeError):
        coset_intt([1, 2], shift=True)
    with pytest.raises(InputLengthError):
        vanishing_on_coset(6)


# --------------------------------------------------------------------------- domain_to_coset by convolution

_needs_convolution = pytest.mark.skipif(
    not __import__("zkhealth.hazmat.ntt", fromlist=["_CONVOLUTION"])._CONVOLUTION,
    reason="the Kronecker-substitution path needs gmpy2",
)


@_needs_convolution
def test_coset_convolution_matches_galois(gf: Any) -> None:
    """Values on <omega> -> values on shift * <omega>, by the convolution path, against galois: interpolate
    with galois (the polynomial through the points) and evaluate it on the coset."""
    import galois

    from zkhealth.hazmat import ntt as ntt_module

    for log_n in (1, 3, 6):
        n = 1 << log_n
        values = _rand(n, 500 + log_n)
        w = root_of_unity(log_n)
        domain = [pow(w, i, R) for i in range(n)]
        poly = galois.lagrange_poly(gf(domain), gf(values))
        for shift in (root_of_unity(log_n + 1), COSET_SHIFT, 123456789):
            expected = [int(v) for v in poly(gf([shift * x % R for x in domain]))]
            x, _ = ntt_module._checked(values)
            assert ntt_module._coset_by_convolution(x, log_n, shift) == expected


@_needs_convolution
@pytest.mark.parametrize("log_n", [1, 2, 7, 8, 9, 12])
def test_coset_convolution_matches_transforms(log_n: int) -> None:
    """Both paths of domain_to_coset agree, including inputs that fill the packed slots the most (every value
    r - 1) and the least (zeros, one nonzero value); the public function dispatches to the convolution from
    2^CONVOLUTION_MIN_LOG on and equals coset_ntt(intt(.)) there."""
    from zkhealth.hazmat import ntt as ntt_module
    from zkhealth.hazmat.ntt import CONVOLUTION_MIN_LOG, domain_to_coset

    n = 1 << log_n
    inputs = [_rand(n, 700 + log_n), [R - 1] * n, [0] * n, [0] * (n - 1) + [R - 1]]
    for values in inputs:
        for shift in (root_of_unity(log_n + 1), COSET_SHIFT):
            x, _ = ntt_module._checked(values)
            via_transforms = [int(v) for v in ntt_module._coset_by_transforms(x, log_n, shift)]
            assert ntt_module._coset_by_convolution(x, log_n, shift) == via_transforms
    if log_n >= CONVOLUTION_MIN_LOG:
        values = inputs[0]
        assert domain_to_coset(values, root_of_unity(log_n + 1)) == coset_ntt(intt(values), root_of_unity(log_n + 1))


@_needs_convolution
def test_coset_convolution_slot_width_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slot width is what keeps the convolution's terms apart: one byte narrower, the fullest input
    (every value r - 1) comes out wrong. So the width test above can fail."""
    from zkhealth.hazmat import ntt as ntt_module

    log_n = 10
    values = [R - 1] * (1 << log_n)
    x, _ = ntt_module._checked(values)
    shift = root_of_unity(log_n + 1)
    right = ntt_module._coset_by_convolution(x, log_n, shift)
    assert right == [int(v) for v in ntt_module._coset_by_transforms(x, log_n, shift)]
    assert ntt_module._slot_bytes(log_n) * 8 >= 2 * R.bit_length() + log_n + 1
    narrow = ntt_module._slot_bytes(log_n) - 1
    ntt_module._coset_kernel.cache_clear()
    monkeypatch.setattr(ntt_module, "_slot_bytes", lambda _log_n: narrow)
    try:
        assert ntt_module._coset_by_convolution(x, log_n, shift) != right
    finally:
        ntt_module._coset_kernel.cache_clear()
