"""Circuit-specific Groth16 setup (Groth16 §3.2, "Setup"), for development and tests only.

The toxic waste ``tau, alpha, beta, gamma, delta`` comes from :mod:`secrets`, lives in local variables of
:func:`setup` and is dropped when it returns; nothing derived from it but the keys leaves the function. Whoever
ran this process could still have read it, so every key it makes is marked ``provenance="dev-setup"`` and
``verify(..., require_production=True)`` refuses it (docs/security.md G8, G10). Production keys come from a
ceremony (snarkjs ``powersoftau`` + ``zkey contribute``) and load with :func:`zkhealth.formats.read_zkey`.

The keys are in snarkjs' basis (see :mod:`.keys`), with ``gamma`` and ``delta`` independent and random, so
the resulting ``verification_key.json`` passes ``snarkjs groth16 verify``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from zkhealth.errors import CircuitDefinitionError
from zkhealth.field import FIELD_R
from zkhealth.groth16._fixed_base import fixed_base_mul_both
from zkhealth.groth16.keys import DEV_SETUP, ProvingKey, VerifyingKey
from zkhealth.groth16.r1cs_to_qap import (
    evaluate_wires_at,
    lagrange_basis_at,
    odd_coset_lagrange_at,
    qap_domain_size,
    qap_entries,
)
from zkhealth.hazmat.bn254 import G1_GENERATOR, G2_GENERATOR
from zkhealth.r1cs import R1CS

#: ``progress(stage, done, total)``: called between the stages of the setup.
ProgressCallback = Callable[[str, int, int], None]


class RandomSource(Protocol):
    """Anything with ``randrange`` (``secrets.SystemRandom()``; a seeded ``random.Random`` in tests only)."""

    def randrange(self, start: int, stop: int) -> int: ...


@dataclass(frozen=True)
class ToxicWaste:
    """The setup's trapdoor. Exposed only so that known-answer tests can fix it; never persist one."""

    tau: int
    alpha: int
    beta: int
    gamma: int
    delta: int

    def __repr__(self) -> str:  # never print the trapdoor by accident
        return "ToxicWaste(<redacted>)"


def _sample_toxic_waste(rng: RandomSource, domain_size: int) -> ToxicWaste:
    r = FIELD_R
    while True:
        tau = rng.randrange(1, r)
        # tau must avoid the size-2n domain (Lagrange denominators); probability 2n/r of retrying.
        if pow(tau, 2 * domain_size, r) != 1:
            break
    return ToxicWaste(
        tau=tau,
        alpha=rng.randrange(1, r),
        beta=rng.randrange(1, r),
        gamma=rng.randrange(1, r),
        delta=rng.randrange(1, r),
    )


def _workers(workers: int | None) -> int:
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise CircuitDefinitionError("workers must be a positive int")
        return workers
    from zkhealth.hazmat.parallel import default_workers, in_worker

    return 1 if in_worker() else int(default_workers())


def setup(
    r1cs: R1CS,
    *,
    rng: RandomSource | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> tuple[ProvingKey, VerifyingKey]:
    """Generate a (development) proving key and verifying key for ``r1cs``.

    Randomness comes from ``secrets.SystemRandom()`` unless ``rng`` is given. ``progress(stage, done,
    total)`` is called between stages; ``workers`` processes share the point multiplications (default:
    :func:`zkhealth.hazmat.parallel.default_workers`). Cost: one batch inversion per domain,
    ``3 * n_wires + n`` fixed-base G1 and ``n_wires`` G2 multiplications.
    """
    source: RandomSource = rng if rng is not None else secrets.SystemRandom()
    domain_size = qap_domain_size(r1cs.n_constraints, r1cs.n_public)
    return setup_with_toxic_waste(
        r1cs, _sample_toxic_waste(source, domain_size), progress=progress, workers=workers
    )


def setup_with_toxic_waste(
    r1cs: R1CS,
    toxic: ToxicWaste,
    *,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> tuple[ProvingKey, VerifyingKey]:
    """The deterministic core of :func:`setup` (known-answer tests fix the trapdoor through it)."""
    r = FIELD_R
    if r1cs.prime != r:
        raise CircuitDefinitionError("the R1CS is not over BN254's scalar field")
    for name in ("tau", "alpha", "beta", "gamma", "delta"):
        value = getattr(toxic, name)
        if not 0 < value < r:
            raise CircuitDefinitionError(f"toxic waste {name} must lie in [1, r)")
    if toxic.gamma == toxic.delta:
        raise CircuitDefinitionError("gamma == delta would let anyone forge proofs")

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    steps = 5
    n_public = r1cs.n_public
    domain_size = qap_domain_size(r1cs.n_constraints, n_public)
    a_entries, b_entries, c_entries = qap_entries(r1cs)

    report("qap", 0, steps)
    lagrange = lagrange_basis_at(toxic.tau, domain_size)
    a_tau = evaluate_wires_at(a_entries, lagrange, r1cs.n_wires)
    b_tau = evaluate_wires_at(b_entries, lagrange, r1cs.n_wires)
    c_tau = evaluate_wires_at(c_entries, lagrange, r1cs.n_wires)
    del lagrange

    gamma_inv = pow(toxic.gamma, -1, r)
    delta_inv = pow(toxic.delta, -1, r)
    alpha, beta = toxic.alpha, toxic.beta
    combined = [(beta * a + alpha * b + c) % r for a, b, c in zip(a_tau, b_tau, c_tau, strict=True)]
    ic_scalars = [v * gamma_inv % r for v in combined[: n_public + 1]]
    l_scalars = [v * delta_inv % r for v in combined[n_public + 1 :]]
    h_scalars = [v * delta_inv % r for v in odd_coset_lagrange_at(toxic.tau, domain_size)]
    del combined

    report("points", 1, steps)
    fixed_g1 = [alpha, beta, toxic.delta]
    g1_scalars = fixed_g1 + a_tau + b_tau + ic_scalars + l_scalars + h_scalars
    g2_scalars = [beta, toxic.gamma, toxic.delta, *b_tau]
    g1_points, g2_points = fixed_base_mul_both(
        G1_GENERATOR, g1_scalars, G2_GENERATOR, g2_scalars, workers=_workers(workers)
    )
    report("keys", 4, steps)

    n = r1cs.n_wires
    cursor = 3
    a_query = g1_points[cursor : cursor + n]
    cursor += n
    b_g1_query = g1_points[cursor : cursor + n]
    cursor += n
    gamma_abc = g1_points[cursor : cursor + n_public + 1]
    cursor += n_public + 1
    l_query = g1_points[cursor : cursor + len(l_scalars)]
    cursor += len(l_scalars)
    h_query = g1_points[cursor:]

    alpha_g1, beta_g1, delta_g1 = g1_points[0], g1_points[1], g1_points[2]
    beta_g2, gamma_g2, delta_g2 = g2_points[0], g2_points[1], g2_points[2]
    if None in (alpha_g1, beta_g1, delta_g1, beta_g2, gamma_g2, delta_g2):  # pragma: no cover - scalars are non-zero
        raise ArithmeticError("a key element is the identity")
    vk = VerifyingKey(
        alpha_g1=alpha_g1,  # type: ignore[arg-type]
        beta_g2=beta_g2,  # type: ignore[arg-type]
        gamma_g2=gamma_g2,  # type: ignore[arg-type]
        delta_g2=delta_g2,  # type: ignore[arg-type]
        gamma_abc_g1=tuple(gamma_abc),
        provenance=DEV_SETUP,
    )
    pk = ProvingKey(
        vk=vk,
        beta_g1=beta_g1,  # type: ignore[arg-type]
        delta_g1=delta_g1,  # type: ignore[arg-type]
        n_wires=n,
        domain_size=domain_size,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=g2_points[3:],
        h_query=h_query,
        l_query=l_query,
        a_entries=a_entries,
        b_entries=b_entries,
        c_entries=c_entries,
        n_constraints=r1cs.n_constraints,
        points_checked=True,  # made here from the generators: on their curves by construction
    )
    report("done", steps, steps)
    return pk, vk
