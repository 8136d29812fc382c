"""The part every version-2 eligibility circuit shares: the credential is signed, trusted, not revoked, valid,
held, and the proof is bound to its scope and recipient.

Both the dedicated circuit (:mod:`.dedicated`) and the universal circuit (:mod:`.universal`) build it from the
same functions, with the same input names and constraint labels (``schema``, ``signature``, ``issuer``,
``revocation``, ``validity``, ``holder``, ``nullifier``, ``recipient``):

1. ``h[0], h[1]`` are the schema id and version 2;
2. the issuer's EdDSA-Poseidon signature over ``poseidon([poseidon(h[0:16]), poseidon(h[16:20])])`` verifies
   under ``A = (h[4], h[5])``;
3. ``poseidon([Ax, Ay, revocation_root])`` is a non-empty leaf of the issuer registry (depth 5), its root is
   returned (the caller binds it into the trust root with the person registry's);
4. ``h[2]`` (the credential id) is absent from that issuer's revocation tree (indexed, depth 16);
5. ``issued_at <= today < expires_at`` (32 bits); ``poseidon([holder_secret]) == h[3]``;
6. ``nullifier = poseidon([holder_secret, scope])`` is the output; ``recipient`` enters ``recipient^2``.

Costs: schema 2, signature 4,658, issuer 1,782, revocation 5,747, validity 160, holder 213, nullifier 240,
recipient 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkhealth.circuit import Builder
from zkhealth.circuit.gadgets.comparators import assert_less_eq, assert_less_than
from zkhealth.circuit.gadgets.merkle import assert_indexed_non_membership, quaternary_merkle_root
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.signal import Signal
from zkhealth.credentials.dates import DATE_BITS
from zkhealth.credentials.record import HEADER_INDEX, HEADER_LENGTH, RECORD_SCHEMA_VERSION
from zkhealth.credentials.schema import HASH_CHUNK, SCHEMA_ID
from zkhealth.credentials.trees import ISSUER_REGISTRY_DEPTH, REVOCATION_TREE_DEPTH

__all__ = ["CredentialInputs", "assert_credential", "bind_proof", "declare_credential_inputs", "header_message"]


@dataclass(frozen=True)
class CredentialInputs:
    """The private inputs of the shared part, in declaration order."""

    header: list[Signal]
    r8x: Signal
    r8y: Signal
    s: Signal
    holder_secret: Signal
    revocation_root: Signal
    issuer_siblings: list[Signal]
    issuer_path_bits: list[Signal]
    revocation_low_value: Signal
    revocation_next_value: Signal
    revocation_siblings: list[Signal]
    revocation_path_bits: list[Signal]


def declare_credential_inputs(b: Builder) -> CredentialInputs:
    """Declare ``header`` (20), ``signature_r8x/r8y/s``, ``holder_secret``, ``issuer_revocation_root``,
    ``issuer_siblings``/``issuer_path_bits`` and the revocation non-membership inputs, in this order."""
    return CredentialInputs(
        header=b.private_inputs("header", HEADER_LENGTH),
        r8x=b.private_input("signature_r8x"),
        r8y=b.private_input("signature_r8y"),
        s=b.private_input("signature_s"),
        holder_secret=b.private_input("holder_secret"),
        revocation_root=b.private_input("issuer_revocation_root"),
        issuer_siblings=b.private_inputs("issuer_siblings", 3 * ISSUER_REGISTRY_DEPTH),
        issuer_path_bits=b.private_inputs("issuer_path_bits", 2 * ISSUER_REGISTRY_DEPTH),
        revocation_low_value=b.private_input("revocation_low_value"),
        revocation_next_value=b.private_input("revocation_next_value"),
        revocation_siblings=b.private_inputs("revocation_siblings", 3 * REVOCATION_TREE_DEPTH),
        revocation_path_bits=b.private_inputs("revocation_path_bits", 2 * REVOCATION_TREE_DEPTH),
    )


def header_message(b: Builder, header: Sequence[Signal]) -> Signal:
    """``poseidon([poseidon(h[0:16]), poseidon(h[16:20])])``: the claims hash the issuer signs (1,146)."""
    return poseidon(b, [poseidon(b, header[:HASH_CHUNK]), poseidon(b, header[HASH_CHUNK:])])


def assert_credential(b: Builder, inputs: CredentialInputs) -> Signal:
    """Parts 1-4 of the module docstring; returns the issuer registry root the credential's issuer is in."""
    from zkhealth.circuit.gadgets.eddsa import assert_eddsa_poseidon_valid

    header = inputs.header
    ax, ay = header[HEADER_INDEX["issuer_ax"]], header[HEADER_INDEX["issuer_ay"]]
    with b.scope("schema"):
        b.assert_equal(header[HEADER_INDEX["schema_id"]], SCHEMA_ID)
        b.assert_equal(header[HEADER_INDEX["schema_version"]], RECORD_SCHEMA_VERSION)
    with b.scope("signature"):
        assert_eddsa_poseidon_valid(b, ax, ay, inputs.r8x, inputs.r8y, inputs.s, header_message(b, header))
    with b.scope("issuer"):
        leaf = poseidon(b, [ax, ay, inputs.revocation_root])
        b.assert_not_equal(leaf, 0)
        flat = inputs.issuer_siblings
        issuer_root = quaternary_merkle_root(b, leaf, [flat[3 * k : 3 * k + 3] for k in range(ISSUER_REGISTRY_DEPTH)],
                                             inputs.issuer_path_bits)
    with b.scope("revocation"):
        flat = inputs.revocation_siblings
        assert_indexed_non_membership(b, inputs.revocation_root, header[HEADER_INDEX["credential_id"]],
                                      inputs.revocation_low_value, inputs.revocation_next_value,
                                      [flat[3 * k : 3 * k + 3] for k in range(REVOCATION_TREE_DEPTH)],
                                      inputs.revocation_path_bits)
    return issuer_root


def assert_valid_and_held(b: Builder, inputs: CredentialInputs, today: Signal) -> None:
    """Part 5: ``issued_at <= today < expires_at`` and the holder knows the secret behind ``h[3]``."""
    header = inputs.header
    with b.scope("validity"):
        assert_less_eq(b, header[HEADER_INDEX["issued_at"]], today, bits=DATE_BITS)
        assert_less_than(b, today, header[HEADER_INDEX["expires_at"]], bits=DATE_BITS)
    with b.scope("holder"):
        b.assert_equal(poseidon(b, [inputs.holder_secret]), header[HEADER_INDEX["subject_commitment"]])


def bind_proof(b: Builder, inputs: CredentialInputs, scope: Signal, recipient: Signal) -> None:
    """Part 6: the nullifier output and the recipient in a non-linear constraint."""
    with b.scope("nullifier"):
        b.output("nullifier", poseidon(b, [inputs.holder_secret, scope]))
    with b.scope("recipient"):
        b.mul(recipient, recipient)
