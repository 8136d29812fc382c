"""Proof re-randomisation: a valid proof turned into another valid proof of the same statement.

With random ``r1, r2`` (arkworks ``rerandomize_proof``)::

    A' = r1^-1 A,   B' = r1 B + r1 r2 delta_2,   C' = C + r2 A

since ``e(A', B') = e(A, B) e(r2 A, delta)`` and ``e(C', delta) = e(C, delta) e(r2 A, delta)``. Anyone can do
this without the witness: Groth16 proofs are malleable, so nothing may be keyed on proof bytes; replay
protection comes from the nullifier (docs/security.md G6).
"""

from __future__ import annotations

import secrets

from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import G2Point, Proof, VerifyingKey
from zkhealth.hazmat.bn254 import g1_add, g1_mul, g2_add, g2_mul


def rerandomize(vk: VerifyingKey, proof: Proof, *, rng: secrets.SystemRandom | None = None) -> Proof:
    """Return a fresh proof of the same statement (valid iff ``proof`` is). The proof's points are
    validated first (typed errors as in :func:`zkhealth.groth16.verify`)."""
    # Imported here: the package imports this module eagerly (its name is also the function's), and the
    # verifier (with the pairing) is not needed by a process that only proves.
    from zkhealth.groth16.verifier import validate_proof_points

    a, b, c = validate_proof_points(proof)
    source = rng if rng is not None else secrets.SystemRandom()
    r1 = source.randrange(1, FIELD_R)
    r2 = source.randrange(1, FIELD_R)
    return rerandomize_unchecked(vk.delta_g2, Proof(a=a, b=b, c=c), r1, r1 * r2 % FIELD_R)


def rerandomize_unchecked(delta_g2: G2Point, proof: Proof, r1: int, t: int) -> Proof:
    """The formula above with ``t = r1 r2`` (so ``C' = C + t A'``): ``A' = r1^-1 A``, ``B' = r1 B + t delta_2``.
    No checks: ``proof``'s points must be valid and ``r1`` in [1, r) (the prover's own proof, or
    :func:`rerandomize`'s validated one). Cost: four scalar multiplications, a few ms."""
    a = g1_mul(proof.a, pow(r1, -1, FIELD_R))
    b = g2_add(g2_mul(proof.b, r1), g2_mul(delta_g2, t))
    return Proof(a=a, b=b, c=g1_add(proof.c, g1_mul(a, t)))
