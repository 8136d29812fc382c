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
from zkhealth.groth16.keys import Proof, VerifyingKey
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
    a_new = g1_mul(a, pow(r1, -1, FIELD_R))
    b_new = g2_add(g2_mul(b, r1), g2_mul(vk.delta_g2, r1 * r2 % FIELD_R))
    c_new = g1_add(c, g1_mul(a, r2))
    return Proof(a=a_new, b=b_new, c=c_new)
