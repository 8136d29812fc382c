"""From an R1CS to a QAP, the way snarkjs does it, so our keys and snarkjs ``.zkey`` keys share one prover.

Rows. The QAP has one row per constraint plus one row per public signal *and* the constant wire: row
``n_constraints + i`` has ``A = w_i``, ``B = 0``, ``C = 0`` for ``i = 0 .. n_public``. These rows make the
polynomials ``A_i`` of the public wires linearly independent, without which a proof could be re-targeted to
other public inputs (Bowe-Gabizon-style malleability, BKSV20 eprint 2020/811; snarkjs ``zkey_new.js``;
arkworks ``r1cs_to_qap.rs``; docs/security.md G7). The evaluation domain is the smallest power of two
``n >= n_constraints + n_public + 1``.

Domain. ``omega_n = 5^((r - 1) / n)``: the same roots as ffjavascript (and so snarkjs) and galois with
primitive element 5. The quotient ``h = (A*B - C) / (x^n - 1)`` is never formed: the prover evaluates
``A*B - C`` on the odd coset ``omega_2n * <omega_n>`` (where ``x^n - 1 = -2``), and the setup's ``h_query``
holds ``L^{2n}_{2j+1}(tau) / delta`` (Lagrange basis of the size-2n domain, odd points). The constant -2 and
the division by ``t`` are thereby folded into the key, exactly as in snarkjs' ``hExps`` section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zkhealth.errors import CircuitDefinitionError
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import QapEntry
from zkhealth.hazmat.ntt import batch_inverse_fr

if TYPE_CHECKING:
    from zkhealth.r1cs import R1CS

#: The multiplicative generator whose powers give the roots of unity (ffjavascript's ``Fr.nqr``).
GENERATOR = 5
#: Largest power-of-two domain over BN254's Fr (r - 1 = 2^28 * odd).
MAX_LOG_DOMAIN = 28


def root_of_unity(log_n: int) -> int:
    """Primitive ``2^log_n``-th root of unity ``5^((r-1) / 2^log_n)`` (ffjavascript's ``Fr.w[log_n]``)."""
    if not 0 <= log_n <= MAX_LOG_DOMAIN:
        raise CircuitDefinitionError(f"no 2^{log_n}-th roots of unity in Fr")
    return pow(GENERATOR, (FIELD_R - 1) >> log_n, FIELD_R)


def qap_domain_size(n_constraints: int, n_public: int) -> int:
    """Smallest power of two covering the constraints plus the ``n_public + 1`` input rows."""
    rows = n_constraints + n_public + 1
    size = 1
    while size < rows:
        size <<= 1
    if size.bit_length() - 1 >= MAX_LOG_DOMAIN:
        # The odd-coset trick needs a 2n-th root of unity, so n may be at most 2^27.
        raise CircuitDefinitionError(f"{rows} QAP rows exceed the largest supported domain 2^27")
    return size


def qap_entries(r1cs: R1CS) -> tuple[list[QapEntry], list[QapEntry], list[QapEntry]]:
    """Sparse A, B (with the public-input rows appended to A) and C (constraints only) matrices."""
    a_entries: list[QapEntry] = []
    b_entries: list[QapEntry] = []
    c_entries: list[QapEntry] = []
    for row, constraint in enumerate(r1cs.constraints):
        a_entries.extend((row, wire, coeff) for wire, coeff in constraint.a.items())
        b_entries.extend((row, wire, coeff) for wire, coeff in constraint.b.items())
        c_entries.extend((row, wire, coeff) for wire, coeff in constraint.c.items())
    base = r1cs.n_constraints
    a_entries.extend((base + wire, wire, 1) for wire in range(r1cs.n_public + 1))
    return a_entries, b_entries, c_entries


def lagrange_basis_at(tau: int, domain_size: int) -> list[int]:
    """``[L_k(tau) for k in range(n)]`` on the domain ``<omega_n>``: ``L_k(x) = omega^k (x^n - 1) / (n (x - omega^k))``.

    ``tau`` must not lie in the domain (the caller resamples). Cost: one batch inversion, O(n) multiplications.
    """
    r = FIELD_R
    omega = root_of_unity(domain_size.bit_length() - 1)
    z = (pow(tau, domain_size, r) - 1) % r
    if z == 0:
        raise CircuitDefinitionError("tau lies in the evaluation domain")
    powers = [1] * domain_size
    for k in range(1, domain_size):
        powers[k] = powers[k - 1] * omega % r
    denominators = [(tau - w) % r for w in powers]
    inverses = batch_inverse_fr(denominators)
    scale = z * pow(domain_size, -1, r) % r
    return [scale * w % r * inv % r for w, inv in zip(powers, inverses, strict=True)]


def evaluate_wires_at(entries: Sequence[QapEntry], lagrange: Sequence[int], n_wires: int) -> list[int]:
    """``[sum_row coeff * L_row(tau) for each wire]``: one wire polynomial evaluated at tau per wire."""
    r = FIELD_R
    out = [0] * n_wires
    for row, wire, coeff in entries:
        out[wire] = (out[wire] + coeff * lagrange[row]) % r
    return out


def evaluate_rows(entries: Sequence[QapEntry], witness: Sequence[int], domain_size: int) -> list[int]:
    """``<M_row, w>`` for every row of a sparse matrix (the evaluations of ``sum w_i M_i(x)`` on the domain)."""
    r = FIELD_R
    out = [0] * domain_size
    for row, wire, coeff in entries:
        out[row] += coeff * witness[wire]
    return [v % r for v in out]


def _odd_coset_evaluations(values: list[int]) -> list[int]:
    """Evaluations on the domain -> evaluations on the odd coset ``omega_2n * <omega_n>`` (same polynomial)."""
    from zkhealth.hazmat.ntt import domain_to_coset

    return domain_to_coset(values, root_of_unity(len(values).bit_length()))  # shift omega_2n


def h_evaluations(a: list[int], b: list[int], *, workers: int = 1) -> list[int]:
    """``A(x) B(x) - C(x)`` on the odd coset, given A and B on the domain (C = A*B there for a valid witness).

    This is what snarkjs' ``hExps`` / our ``h_query`` are multiplied with. Cost: three re-evaluations of size n
    (:func:`zkhealth.hazmat.ntt.domain_to_coset`: one big-integer multiplication each with gmpy2, an inverse and
    a forward NTT each without); with ``workers > 1`` the three run in separate processes.
    """
    r = FIELD_R
    c = [x * y % r for x, y in zip(a, b, strict=True)]
    if workers > 1 and len(a) >= 1 << 11:
        from concurrent.futures import ProcessPoolExecutor  # 10 ms of imports a proof does not need

        with ProcessPoolExecutor(max_workers=min(workers, 3)) as pool:
            a_odd, b_odd, c_odd = pool.map(_odd_coset_evaluations, (a, b, c))
    else:
        a_odd = _odd_coset_evaluations(a)
        b_odd = _odd_coset_evaluations(b)
        c_odd = _odd_coset_evaluations(c)
    return [(x * y - z) % r for x, y, z in zip(a_odd, b_odd, c_odd, strict=True)]


def odd_coset_lagrange_at(tau: int, domain_size: int) -> list[int]:
    """``[L^{2n}_{2j+1}(tau) for j in range(n)]``: the size-2n Lagrange basis at the odd points.

    ``L^{2n}_k(x) = omega_2n^k (x^{2n} - 1) / (2n (x - omega_2n^k))``; ``tau`` must not be a 2n-th root of unity.
    """
    r = FIELD_R
    big = 2 * domain_size
    omega = root_of_unity(big.bit_length() - 1)
    z = (pow(tau, big, r) - 1) % r
    if z == 0:
        raise CircuitDefinitionError("tau lies in the extended domain")
    points = [0] * domain_size
    step = omega * omega % r
    point = omega
    for j in range(domain_size):
        points[j] = point
        point = point * step % r
    inverses = batch_inverse_fr([(tau - p) % r for p in points])
    scale = z * pow(big, -1, r) % r
    return [scale * p % r * inv % r for p, inv in zip(points, inverses, strict=True)]
