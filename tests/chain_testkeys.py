"""Groth16 verifying keys whose trapdoor is known, for testing contracts: NOT for production.

A :class:`TrapdoorKey` holds the scalars behind a verifying key (alpha, beta, gamma, delta and every IC point's
discrete log). Whoever knows them can make a proof that verifies for ANY public signals: with random a, b,

    A = a G1,  B = b G2,  C = c G1  where  c = (a b - alpha beta - x gamma) / delta  (mod r)

and ``x = ic_0 + sum(s_i ic_{i+1})``, the pairing equation e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta)
holds because both sides are e(G1, G2)^(a b). This is what makes an insecure setup forgeable (security.md G8,
G10). Here it lets the contract tests exercise every check of CohortEnrollment with valid proofs for chosen
signals (any scope, day, recipient) without a circuit, and lets the gas benchmark run before a real eligibility
key exists. The keys carry ``provenance = "dev-setup"`` semantics: never deploy one for a real trial.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkhealth.errors import PublicInputCountError, PublicInputOutOfRangeError
from zkhealth.field import FIELD_R
from zkhealth.formats.snarkjs_json import proof_to_dict, verifying_key_to_dict
from zkhealth.groth16.keys import Proof, VerifyingKey
from zkhealth.hazmat.bn254 import G1_GENERATOR, G2_GENERATOR, g1_add, g1_mul, g2_mul

G1Point = tuple[int, int]
G2Point = tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class SimulatedProof:
    """A proof made with the trapdoor: the ``a``, ``b``, ``c`` points (zkhealth tuples, G2 real-first)."""

    a: G1Point
    b: G2Point
    c: G1Point

    def to_proof(self) -> Proof:
        """The proof as zkhealth's :class:`~zkhealth.groth16.keys.Proof` (what the chain client takes)."""
        return Proof(self.a, self.b, self.c)

    def to_snarkjs(self) -> dict[str, Any]:
        """The proof as snarkjs ``proof.json`` (decimal strings, projective "1" coordinates)."""
        return proof_to_dict(self.to_proof())


def _nonzero(rng: random.Random) -> int:
    return rng.randrange(1, FIELD_R)


def _point_g1(k: int) -> G1Point:
    point = g1_mul(G1_GENERATOR, k)
    if point is None:
        raise ValueError("scalar is zero modulo r")
    return point


def _point_g2(k: int) -> G2Point:
    point = g2_mul(G2_GENERATOR, k)
    if point is None:
        raise ValueError("scalar is zero modulo r")
    return point


@dataclass(frozen=True)
class TrapdoorKey:
    """A verifying key with its trapdoor. Build with :meth:`generate`."""

    alpha: int
    beta: int
    gamma: int
    delta: int
    ic: tuple[int, ...]

    @classmethod
    def generate(cls, n_public: int, seed: int | None = None) -> TrapdoorKey:
        """Random trapdoor for ``n_public`` signals (``seed`` makes it reproducible). Cost: O(1) draws."""
        if n_public < 1:
            raise PublicInputCountError("at least one public signal", expected=1, got=n_public)
        rng = random.Random(seed)  # noqa: S311 - test keys: reproducibility, not secrecy, is the point
        return cls(
            alpha=_nonzero(rng),
            beta=_nonzero(rng),
            gamma=_nonzero(rng),
            delta=_nonzero(rng),
            ic=tuple(_nonzero(rng) for _ in range(n_public + 1)),
        )

    @property
    def n_public(self) -> int:
        return len(self.ic) - 1

    def verifying_key(self) -> dict[str, Any]:
        """The key as snarkjs ``verification_key.json`` (without ``vk_alphabeta_12``). Cost: ~10 ms."""
        return verifying_key_to_dict(self.key(), include_alphabeta=False, include_provenance=False)

    def key(self) -> VerifyingKey:
        """The key as zkhealth's :class:`~zkhealth.groth16.keys.VerifyingKey` (what the chain client takes)."""
        return VerifyingKey(
            alpha_g1=_point_g1(self.alpha),
            beta_g2=_point_g2(self.beta),
            gamma_g2=_point_g2(self.gamma),
            delta_g2=_point_g2(self.delta),
            gamma_abc_g1=tuple(_point_g1(k) for k in self.ic),
        )

    def prove(self, public_signals: Sequence[int], rng: random.Random | None = None) -> SimulatedProof:
        """A valid proof for ``public_signals`` (each in [0, r)). Cost: two G1 and one G2 multiplication."""
        if len(public_signals) != self.n_public:
            raise PublicInputCountError(
                "wrong number of public signals", expected=self.n_public, got=len(public_signals)
            )
        x = self.ic[0]
        for index, value in enumerate(public_signals):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
                raise PublicInputOutOfRangeError("public signal is not in [0, r)", index=index)
            x = (x + value * self.ic[index + 1]) % FIELD_R
        draw = rng if rng is not None else random.SystemRandom()
        a = _nonzero(draw)
        b = _nonzero(draw)
        c = (a * b - self.alpha * self.beta - x * self.gamma) * pow(self.delta, -1, FIELD_R) % FIELD_R
        c_point = g1_mul(G1_GENERATOR, c)
        return SimulatedProof(_point_g1(a), _point_g2(b), c_point if c_point is not None else (0, 0))


def rerandomize(proof: Any, delta_g2: G2Point, r1: int, r2: int) -> SimulatedProof:
    """Groth16 re-randomisation (security.md G6; arkworks ``rerandomize_proof``):
    A' = A / r1, B' = r1 B + r1 r2 delta, C' = C + r2 A. The result verifies for the same signals and has
    different bytes: which is why nothing may be keyed on proof bytes. ``proof`` has ``a``, ``b``, ``c``."""
    from zkhealth.hazmat.bn254 import g2_add

    if not (0 < r1 < FIELD_R and 0 <= r2 < FIELD_R):
        raise PublicInputOutOfRangeError("re-randomisation scalars out of range")
    a_new = g1_mul(proof.a, pow(r1, -1, FIELD_R))
    b_new = g2_add(g2_mul(proof.b, r1), g2_mul(delta_g2, r1 * r2 % FIELD_R))
    c_new = g1_add(proof.c, g1_mul(proof.a, r2))
    if a_new is None or b_new is None or c_new is None:
        raise PublicInputOutOfRangeError("re-randomisation hit the identity")
    return SimulatedProof(a_new, b_new, c_new)
