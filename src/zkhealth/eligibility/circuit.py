"""The standard eligibility circuit (docs/eligibility.md): one credential, one trial, one boolean.

It proves, for a credential vector ``v`` (schema.py) held privately:

1. ``v[0], v[1]`` are this schema's id and version (constants);
2. the issuer's EdDSA-Poseidon signature ``(R8, S)`` over ``claims_hash = poseidon([poseidon(v[0:16]),
   poseidon(v[16:26])])`` verifies under ``A = (v[4], v[5])``;
3. ``poseidon([Ax, Ay])`` is a leaf of the trusted-issuer registry with root ``trusted_issuer_root``
   (quaternary Poseidon tree of depth 5: 1,024 issuers); the verifier does not learn which issuer;
4. ``credential_id = v[2]`` is absent from the indexed revocation tree with root ``revocation_root``
   (depth 16: 2^32 entries);
5. ``issued_at <= today < expires_at`` (``v[6]``, ``v[7]``, ``today`` all range-checked to 32 bits);
6. ``poseidon([holder_secret]) == subject_commitment = v[3]``: the prover holds the credential's secret;
7. the trial's criteria hold (compiled in by :mod:`.compiler`; constants pinned by the verifying key);
8. ``nullifier = poseidon([holder_secret, scope])``: one nullifier per patient and trial, unlinkable across
   trials (docs/security.md C9, P1);
9. ``recipient`` enters the non-linear constraint ``recipient * recipient = recipient_square``, so no
   optimiser can drop it and a proof is bound to its recipient (docs/security.md C8, K4; Tornado's
   ``recipientSquare``).

Public signals, in order: ``[nullifier, scope, today, trusted_issuer_root, revocation_root, recipient]``
(nullifier is the circuit's one output, wire 1). Private inputs: ``claims`` (26), ``signature_r8x``,
``signature_r8y``, ``signature_s``, ``holder_secret``, ``issuer_siblings`` (15), ``issuer_path_bits`` (10),
``revocation_low_value``, ``revocation_next_value``, ``revocation_siblings`` (48), ``revocation_path_bits``
(32).

The holder secret is not range-checked: it only enters Poseidon, whose inputs are field elements, so
``subject_commitment`` determines it (collision resistance) and there is no ``secret + r`` alias (that
aliasing, docs/security.md C9, arises when a secret is a curve scalar).

Constraint labels are paths ``eligibility/<part>/...`` with parts ``schema``, ``signature``, ``issuer``,
``revocation``, ``expiry``, ``holder``, ``criteria/<clause text>``, ``nullifier``, ``recipient``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.comparators import assert_less_eq, assert_less_than
from zkhealth.circuit.gadgets.merkle import assert_indexed_non_membership, assert_quaternary_merkle_inclusion
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.credentials.credential import Credential
from zkhealth.credentials.dates import DATE_BITS
from zkhealth.credentials.schema import CLAIM_LAYOUT, HASH_CHUNK, SCHEMA_ID, SCHEMA_VERSION, VECTOR_LENGTH
from zkhealth.credentials.trees import (
    ISSUER_REGISTRY_DEPTH,
    REVOCATION_TREE_DEPTH,
    MerkleProof,
    NonMembershipProof,
)
from zkhealth.eligibility.compiler import criteria_signal
from zkhealth.eligibility.resolve import Criteria, today_ordinal
from zkhealth.errors import EligibilityError
from zkhealth.field import FIELD_R
from zkhealth.signature.eddsa_poseidon import Signature

__all__ = [
    "CIRCUIT_NAME",
    "PUBLIC_SIGNALS",
    "compile_eligibility_circuit",
    "eligibility_circuit",
    "eligibility_inputs",
]

CIRCUIT_NAME: Final[str] = "eligibility"
#: The public signals, in wire order: the public-signal layout of every eligibility proof and contract call.
PUBLIC_SIGNALS: Final[tuple[str, ...]] = (
    "nullifier",
    "scope",
    "today",
    "trusted_issuer_root",
    "revocation_root",
    "recipient",
)
_RECIPIENT_BOUND: Final[int] = 1 << 160


def _index(name: str) -> int:
    return CLAIM_LAYOUT[name][0]


def eligibility_circuit(criteria: Criteria | str) -> Callable[[Builder], None]:
    """The circuit description ``define(b)`` of the standard eligibility circuit for ``criteria``.

    Compile it with :func:`zkhealth.circuit.compile` (name ``"eligibility"``) or use
    :func:`compile_eligibility_circuit`. See the module docstring for what it proves.
    """
    resolved = (criteria if isinstance(criteria, Criteria) else Criteria(criteria)).resolved

    def define(b: Builder) -> None:
        # The EdDSA gadget is imported here so that native-only users of this module do not pay for it.
        from zkhealth.circuit.gadgets.eddsa import assert_eddsa_poseidon_valid

        scope = b.public_input("scope")
        today = b.public_input("today")
        trusted_issuer_root = b.public_input("trusted_issuer_root")
        revocation_root = b.public_input("revocation_root")
        recipient = b.public_input("recipient")

        claims = b.private_inputs("claims", VECTOR_LENGTH)
        r8x = b.private_input("signature_r8x")
        r8y = b.private_input("signature_r8y")
        s = b.private_input("signature_s")
        holder_secret = b.private_input("holder_secret")
        issuer_flat = b.private_inputs("issuer_siblings", 3 * ISSUER_REGISTRY_DEPTH)
        issuer_bits = b.private_inputs("issuer_path_bits", 2 * ISSUER_REGISTRY_DEPTH)
        low_value = b.private_input("revocation_low_value")
        next_value = b.private_input("revocation_next_value")
        revocation_flat = b.private_inputs("revocation_siblings", 3 * REVOCATION_TREE_DEPTH)
        revocation_bits = b.private_inputs("revocation_path_bits", 2 * REVOCATION_TREE_DEPTH)

        issuer_ax, issuer_ay = claims[_index("issuer_ax")], claims[_index("issuer_ay")]
        with b.scope("schema"):
            b.assert_equal(claims[_index("schema_id")], SCHEMA_ID)
            b.assert_equal(claims[_index("schema_version")], SCHEMA_VERSION)
        with b.scope("signature"):
            claims_hash = poseidon(
                b, [poseidon(b, claims[:HASH_CHUNK]), poseidon(b, claims[HASH_CHUNK:])]
            )
            assert_eddsa_poseidon_valid(b, issuer_ax, issuer_ay, r8x, r8y, s, claims_hash)
        with b.scope("issuer"):
            issuer_siblings = [issuer_flat[3 * k : 3 * k + 3] for k in range(ISSUER_REGISTRY_DEPTH)]
            leaf = poseidon(b, [issuer_ax, issuer_ay])
            assert_quaternary_merkle_inclusion(b, leaf, trusted_issuer_root, issuer_siblings, issuer_bits)
        with b.scope("revocation"):
            revocation_siblings = [revocation_flat[3 * k : 3 * k + 3] for k in range(REVOCATION_TREE_DEPTH)]
            assert_indexed_non_membership(
                b,
                revocation_root,
                claims[_index("credential_id")],
                low_value,
                next_value,
                revocation_siblings,
                revocation_bits,
            )
        with b.scope("expiry"):
            assert_less_eq(b, claims[_index("issued_at")], today, bits=DATE_BITS)
            assert_less_than(b, today, claims[_index("expires_at")], bits=DATE_BITS)
        with b.scope("holder"):
            b.assert_equal(poseidon(b, [holder_secret]), claims[_index("subject_commitment")])
        with b.scope("criteria"):
            b.assert_equal(criteria_signal(b, resolved, claims, today), 1)
        with b.scope("nullifier"):
            b.output("nullifier", poseidon(b, [holder_secret, scope]))
        with b.scope("recipient"):
            b.mul(recipient, recipient)

    return define


def compile_eligibility_circuit(criteria: Criteria | str) -> CompiledCircuit:
    """Compile the standard eligibility circuit for ``criteria`` (lints on: an unused public input or an
    unconstrained hint is an error). Cost: about 1 s for the ~16k-constraint standard trial."""
    return compile(eligibility_circuit(criteria), name=CIRCUIT_NAME)


def _field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise EligibilityError(f"{what} must be a field element (an int in [0, r))")
    return value


def eligibility_inputs(
    credential: Credential,
    signature: Signature,
    *,
    holder_secret: int,
    today: int | _dt.date,
    recipient: int,
    scope: int,
    trusted_issuer_root: int,
    registry_proof: MerkleProof,
    revocation_root: int,
    revocation_proof: NonMembershipProof,
) -> dict[str, Any]:
    """The solver inputs of the standard circuit (names as in the module docstring).

    Checks shapes only (depths 5 and 16, field elements, ``recipient < 2^160``, ``today`` an epoch day);
    whether the values satisfy the circuit is the solver's verdict. ``today`` is an epoch day or a date.
    """
    if not isinstance(credential, Credential):
        raise EligibilityError("credential must be a Credential")
    if not isinstance(signature, Signature):
        raise EligibilityError("signature must be an eddsa_poseidon.Signature")
    if not isinstance(registry_proof, MerkleProof) or registry_proof.depth != ISSUER_REGISTRY_DEPTH:
        raise EligibilityError(f"registry_proof must be a MerkleProof of depth {ISSUER_REGISTRY_DEPTH}")
    if not isinstance(revocation_proof, NonMembershipProof) or revocation_proof.merkle.depth != REVOCATION_TREE_DEPTH:
        raise EligibilityError(f"revocation_proof must be a NonMembershipProof of depth {REVOCATION_TREE_DEPTH}")
    if isinstance(recipient, bool) or not isinstance(recipient, int) or not 0 <= recipient < _RECIPIENT_BOUND:
        raise EligibilityError("recipient must be a 160-bit address as an int")
    today_day = today_ordinal(today) - _dt.date(1970, 1, 1).toordinal()
    return {
        "scope": _field(scope, "scope"),
        "today": today_day,
        "trusted_issuer_root": _field(trusted_issuer_root, "trusted_issuer_root"),
        "revocation_root": _field(revocation_root, "revocation_root"),
        "recipient": recipient,
        "claims": credential.field_elements(),
        "signature_r8x": _field(signature.R8[0], "signature R8x"),
        "signature_r8y": _field(signature.R8[1], "signature R8y"),
        "signature_s": _field(signature.S, "signature S"),
        "holder_secret": _field(holder_secret, "holder_secret"),
        "issuer_siblings": list(registry_proof.flat_siblings),
        "issuer_path_bits": list(registry_proof.path_bits),
        "revocation_low_value": revocation_proof.low_value,
        "revocation_next_value": revocation_proof.next_value,
        "revocation_siblings": list(revocation_proof.merkle.flat_siblings),
        "revocation_path_bits": list(revocation_proof.merkle.path_bits),
    }
