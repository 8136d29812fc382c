"""Groth16 verifier (Groth16 §3.2, "Vfy"): ``e(A, B) = e(alpha, beta) e(sum x_i IC_i, gamma) e(C, delta)``.

Checks, in this order (docs/security.md G1-G5, G8, G9):

1. every public input is an ``int`` in [0, r), before any reduction -> :class:`PublicInputOutOfRangeError`
   carrying the index (``x + r`` can never alias ``x``);
2. their count -> :class:`PublicInputCountError`;
3. the key: pinned hash (:class:`VerifyingKeyMismatchError`), development keys when production is required
   (:class:`DevSetupKeyError`), gamma == delta or delta == the G2 generator (:class:`InsecureVerifyingKeyError`),
   points valid;
4. the proof's points: canonical, on the curve, B in the r-torsion, none at infinity;
5. the pairing equation -> :class:`InvalidProofError`.

The prepared form of a key (its G2 points' line coefficients and the validated points) is cached per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from zkhealth.errors import (
    ArgumentTypeError,
    DevSetupKeyError,
    InsecureVerifyingKeyError,
    InvalidProofError,
    MalformedProofError,
    PointAtInfinityError,
    PointNotInSubgroupError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
    VerifyingKeyMismatchError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.groth16.keys import DEV_SETUP, G1Point, G2Point, Proof, VerifyingKey
from zkhealth.hazmat.bn254 import G2_GENERATOR, g1_neg, g2_is_on_curve, validate_g1, validate_g2
from zkhealth.hazmat.msm import msm_g1
from zkhealth.hazmat.pairing import (
    final_exponentiation,
    fq12_is_one,
    fq12_mul,
    miller_loop,
    miller_loop_checked,
    prepare_g2,
)


@dataclass(frozen=True)
class PreparedVerifyingKey:
    """A validated verifying key with its G2 points prepared for the Miller loop."""

    vk: VerifyingKey
    alpha_g1: G1Point
    neg_alpha_g1: G1Point
    #: Miller-loop value of e(-alpha, beta), multiplied in before the final exponentiation.
    neg_alpha_beta_miller: Any
    beta_g2: Any
    gamma_g2: Any
    delta_g2: Any


def check_public_inputs(vk: VerifyingKey, public_inputs: Sequence[int]) -> list[int]:
    """Range-check then count-check the public inputs (steps 1 and 2 above); returns them as ints."""
    if not isinstance(vk, VerifyingKey):
        raise ArgumentTypeError(f"expected a VerifyingKey, got {type(vk).__name__}")
    if isinstance(public_inputs, (str, bytes)) or not isinstance(public_inputs, Sequence):
        raise MalformedProofError("public inputs must be a sequence of ints")
    values = list(public_inputs)
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedProofError(f"public input {index} is not an int")
        if not 0 <= value < FIELD_R:
            raise PublicInputOutOfRangeError(f"public input {index} is not in [0, r)", index=index)
    if len(values) != vk.n_public:
        raise PublicInputCountError(
            f"expected {vk.n_public} public inputs, got {len(values)}", expected=vk.n_public, got=len(values)
        )
    return values


def check_key_hygiene(vk: VerifyingKey) -> None:
    """Refuse keys under which anyone can forge proofs (docs/security.md G8)."""
    if vk.gamma_g2 == vk.delta_g2:
        raise InsecureVerifyingKeyError("gamma_2 == delta_2: the key allows forgeries (no phase-2 contribution?)")
    if vk.delta_g2 == G2_GENERATOR:
        raise InsecureVerifyingKeyError(
            "delta_2 is the G2 generator: the key allows forgeries (no phase-2 contribution)"
        )


@lru_cache(maxsize=64)
def _prepare(vk: VerifyingKey) -> PreparedVerifyingKey:
    alpha = validate_g1(*vk.alpha_g1)
    if alpha is None:  # validate_g1 refuses the identity; keeps the type checker informed
        raise PointAtInfinityError("alpha_1 is the identity")
    beta = validate_g2(*vk.beta_g2)
    gamma = validate_g2(*vk.gamma_g2)
    delta = validate_g2(*vk.delta_g2)
    for point in vk.gamma_abc_g1:
        if point is not None:
            validate_g1(*point)
    neg_alpha = (alpha[0], (-alpha[1]) % FIELD_Q)
    beta_prepared = prepare_g2(beta)
    return PreparedVerifyingKey(
        vk=vk,
        alpha_g1=alpha,
        neg_alpha_g1=neg_alpha,
        neg_alpha_beta_miller=miller_loop([(neg_alpha, beta_prepared)]),
        beta_g2=beta_prepared,
        gamma_g2=prepare_g2(gamma),
        delta_g2=prepare_g2(delta),
    )


def prepare_verifying_key(vk: VerifyingKey) -> PreparedVerifyingKey:
    """Check the key's hygiene and points, and precompute what each verification reuses. Cached per key."""
    check_key_hygiene(vk)
    return _prepare(vk)


def validate_proof_points(proof: Proof) -> tuple[G1Point, G2Point, G1Point]:
    """Canonical coordinates, on the curve, B in the r-torsion, nothing at infinity (docs/security.md G4, G5)."""
    if not isinstance(proof, Proof):
        raise MalformedProofError("expected a Proof")
    if proof.a is None or proof.c is None or proof.b is None:
        raise PointAtInfinityError("a proof point is the identity")
    for point in (proof.a, proof.b, proof.c):
        if not isinstance(point, tuple) or len(point) != 2:
            raise MalformedProofError("a proof point is not a coordinate pair")
    a = validate_g1(*proof.a)
    b = validate_g2(*proof.b)
    c = validate_g1(*proof.c)
    if a is None or b is None or c is None:  # validate_* refuse the identity unless asked; belt and braces
        raise PointAtInfinityError("a proof point is the identity")
    return a, b, c


def validate_proof_points_deferred(proof: Proof) -> tuple[G1Point, G2Point, G1Point]:
    """:func:`validate_proof_points` without B's subgroup test, which the caller must then perform: the
    verifiers do it inside the Miller loop (:func:`zkhealth.hazmat.pairing.miller_loop_checked`).

    Plain-int coordinates take a fast path (range and curve checks); anything else goes through the full
    :func:`validate_proof_points`. Raises the same classes; when several checks fail, the caller reruns
    :func:`validate_proof_points` to raise the one :func:`verify` would."""
    if not isinstance(proof, Proof):
        raise MalformedProofError("expected a Proof")
    point = proof.b
    if (
        isinstance(point, tuple)
        and len(point) == 2
        and isinstance(point[0], tuple)
        and isinstance(point[1], tuple)
        and len(point[0]) == 2
        and len(point[1]) == 2
        and all(type(v) is int and 0 <= v < FIELD_Q for v in (*point[0], *point[1]))
        and any((*point[0], *point[1]))
        and g2_is_on_curve(point)
        and proof.a is not None
        and proof.c is not None
        and isinstance(proof.a, tuple)
        and isinstance(proof.c, tuple)
        and len(proof.a) == 2
        and len(proof.c) == 2
    ):
        a = validate_g1(*proof.a)
        c = validate_g1(*proof.c)
        if a is None or c is None:  # refused by validate_g1 already; keeps the type checker informed
            raise PointAtInfinityError("a proof point is the identity")
        return a, point, c
    return validate_proof_points(proof)


def public_input_point(vk: VerifyingKey, public_inputs: Sequence[int]) -> G1Point | None:
    """``IC_0 + sum_i x_i IC_{i+1}``."""
    return msm_g1(list(vk.gamma_abc_g1), [1, *public_inputs])


def _pairing_check(prepared: PreparedVerifyingKey, public_inputs: list[int], proof: Proof) -> None:
    try:
        a, b, c = validate_proof_points_deferred(proof)
    except (ValueError, TypeError):
        validate_proof_points(proof)  # the error verify() promises when several checks fail
        raise
    vk_x = public_input_point(prepared.vk, public_inputs)
    # e(A, B) e(-alpha, beta) e(-vk_x, gamma) e(-C, delta) == 1
    # e(-alpha, beta) enters as its precomputed Miller value: three Miller loops per proof; B's loop also
    # decides its subgroup membership (miller_loop_checked), which is reported before anything else fails.
    fixed: list[tuple[Any, Any]] = [(g1_neg(c), prepared.delta_g2)]
    if vk_x is not None:
        fixed.append((g1_neg(vk_x), prepared.gamma_g2))
    f, outside = miller_loop_checked([(a, b)], fixed)
    if outside:
        raise PointNotInSubgroupError("G2 point is on the twist but not in the order-r subgroup")
    if not fq12_is_one(final_exponentiation(fq12_mul(f, prepared.neg_alpha_beta_miller))):
        raise InvalidProofError("the proof does not verify against these public inputs and this key")


def verify(
    vk: VerifyingKey,
    public_inputs: Sequence[int],
    proof: Proof,
    *,
    require_production: bool = False,
    pinned_sha256: str | None = None,
) -> None:
    """Return ``None`` for a valid proof; raise otherwise (see the module docstring for the order and the
    classes). Cost: 3 Miller loops (2 with prepared lines; B's walk doubles as its G2 subgroup test), one final
    exponentiation and an MSM over the public inputs: about 6-10 ms.
    """
    values = check_public_inputs(vk, public_inputs)
    if not isinstance(proof, Proof):
        raise MalformedProofError(f"expected a Proof, got {type(proof).__name__}")
    if pinned_sha256 is not None and not isinstance(pinned_sha256, str):
        raise ArgumentTypeError("pinned_sha256 must be hex text")
    if pinned_sha256 is not None and vk.sha256() != pinned_sha256.lower():
        raise VerifyingKeyMismatchError("the verifying key is not the pinned one")
    if require_production and vk.provenance == DEV_SETUP:
        raise DevSetupKeyError("a development-setup key was used where production keys are required")
    prepared = prepare_verifying_key(vk)
    _pairing_check(prepared, values, proof)


def verify_with_unchecked_key(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof) -> None:
    """Like :func:`verify` but skipping the key-hygiene checks: only for the prover's self-check of a proof
    made under a key that may be a test key (e.g. a snarkjs ``.zkey`` with no contribution)."""
    values = check_public_inputs(vk, public_inputs)
    _pairing_check(_prepare(vk), values, proof)
