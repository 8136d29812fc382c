"""EdDSA-Poseidon signature verification in the circuit (Baby Jubjub), always on.

:func:`assert_eddsa_poseidon_valid` proves that ``(R8, S)`` is a valid signature of the field element
``message`` under the public key ``A``, with the semantics of circomlibjs ``verifyPoseidon`` and of the native
:func:`zkhealth.signature.eddsa_poseidon.verify` (its twin and test oracle), including the checks circomlib's
``EdDSAPoseidonVerifier`` circuit lacks:

* ``S < l``: S is decomposed into 251 bits and compared with the constant ``l - 1``, so ``S + l``, ``l`` and
  ``2^253`` are rejected (docs/security.md S1);
* ``R8`` and ``A`` on the curve (S4: circomlib has no ``BabyCheck``);
* ``A`` in the prime-order subgroup and not the identity, so ``8A != O``: the identity, (0, r - 1) and the
  other 8-torsion keys, which would accept forgeries, are rejected (S3), and so are keys with a torsion
  component, which the native verifier also rejects (the two agree on every input);
* the challenge ``h = Poseidon(R8x, R8y, Ax, Ay, M)`` binds the key (G14), and h is used through its strict
  254-bit decomposition;
* ``S * B8 == R8 + (8h) * A``, computed as ``R8 + [h](8A)``.

There is no ``enabled`` input (docs/security.md C10): a circuit that calls this gadget always checks the signature.
Cost: 3,512 constraints (circomlib ``EdDSAPoseidonVerifier``: 4,217); the per-part breakdown is in
:data:`COST_BREAKDOWN` and in the compiled circuit's report.
"""

from __future__ import annotations

from typing import Final

from zkhealth.circuit.builder import Builder
from zkhealth.circuit.gadgets.babyjubjub import (
    _add,
    _mul_prime_order,
    _on_curve,
    _times8,
    assert_in_subgroup,
    fixed_base_mul,
)
from zkhealth.circuit.gadgets.bits import assert_bits_le_constant, to_bits, to_bits_strict
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.signal import SignalLike
from zkhealth.errors import SignatureError, ZkHealthError
from zkhealth.hazmat.babyjubjub import SUBORDER
from zkhealth.signature.eddsa_poseidon import PublicKey, Signature, verify

__all__ = ["COST_BREAKDOWN", "S_BITS", "assert_eddsa_poseidon_valid", "eddsa_poseidon_valid_native"]

#: Width of the S decomposition: l < 2^251.
S_BITS: Final[int] = SUBORDER.bit_length()

#: Constraints per scope of :func:`assert_eddsa_poseidon_valid` (pinned by the tests).
COST_BREAKDOWN: Final[dict[str, int]] = {
    "s_range": 251 + 173,
    "r8_on_curve": 3,
    "a_on_curve": 3,
    "a_subgroup": 18,
    "challenge": 321 + 406,
    "cofactor": 15,
    "h_times_8a": 1811,
    "s_times_base8": 505,
    "r8_plus": 6,
}


def assert_eddsa_poseidon_valid(
    b: Builder,
    ax: SignalLike,
    ay: SignalLike,
    r8x: SignalLike,
    r8y: SignalLike,
    s: SignalLike,
    message: SignalLike,
) -> None:
    """Enforce that ``(R8, S)`` is a valid EdDSA-Poseidon signature of ``message`` under ``A = (ax, ay)``.

    Enforces, with no precondition on the inputs (any field elements): ``0 <= S < l``; R8 and A on the
    curve; A in the order-l subgroup and ``A != (0, 1)``; ``S * B8 == R8 + [8 * Poseidon(R8x, R8y, Ax, Ay,
    message)] A``. Invalid inputs make witness solving raise :class:`~zkhealth.errors.WitnessError`.
    Cost: 3,512 constraints (see :data:`COST_BREAKDOWN`).
    """
    with b.scope("assert_eddsa_poseidon_valid"):
        s_sig = b.as_signal(s)
        a = (b.as_signal(ax), b.as_signal(ay))
        r8 = (b.as_signal(r8x), b.as_signal(r8y))
        with b.scope("s_range"):
            # S < l (S1): 251 bits, then the bits read as an integer are <= l - 1.
            s_bits = to_bits(b, s_sig, S_BITS)
            assert_bits_le_constant(b, s_bits, SUBORDER - 1)
        with b.scope("r8_on_curve"):
            _on_curve(b, *r8)
        with b.scope("a_on_curve"):
            _on_curve(b, *a)
        with b.scope("a_subgroup"):
            assert_in_subgroup(b, *a)
        with b.scope("challenge"):
            # G14: the challenge binds R8, the key and the message (circomlibjs order).
            h = poseidon(b, [r8[0], r8[1], a[0], a[1], message])
            h_bits = to_bits_strict(b, h)
        with b.scope("cofactor"):
            a8 = _times8(b, a)
        with b.scope("h_times_8a"):
            # 8A has order l (A in the subgroup); _mul_prime_order also enforces 8A != O, i.e. A != O (S3).
            right = _mul_prime_order(b, a8, h_bits)
        with b.scope("s_times_base8"):
            left = fixed_base_mul(b, s_bits)
        with b.scope("r8_plus"):
            right = _add(b, r8, right)
        b.assert_equal(left[0], right[0])
        b.assert_equal(left[1], right[1])


def eddsa_poseidon_valid_native(ax: int, ay: int, r8x: int, r8y: int, s: int, message: int) -> bool:
    """Native twin of :func:`assert_eddsa_poseidon_valid`: whether the circuit accepts these field elements.

    Uses :func:`zkhealth.signature.eddsa_poseidon.verify` (which enforces the same conditions) and turns its
    errors into ``False``.
    """
    try:
        verify(PublicKey(ax, ay), message, Signature((r8x, r8y), s))
    except (SignatureError, ZkHealthError):
        return False
    return True
