"""STAND-IN eligibility circuits for the contract tests (helper module, no tests here): NOT the real circuits.

The real dedicated v2 circuit ([nullifier, scope, today, trust_root, recipient]) and the universal circuit
([nullifier, program_hash, scope, today, trust_root, recipient]) are being built elsewhere. These stand-ins have
exactly those public-signal layouts and the same binding rules, written with zkhealth's DSL, and get REAL Groth16
keys from zkhealth's setup, so the contracts are tested with real proofs:

* ``nullifier = poseidon([holder_secret, scope])`` (the circuit's output, wire 1);
* ``trust_root = poseidon([issuer_registry_root, person_registry_root])`` with both roots private;
* ``program_hash = poseidon(program_words)`` with the program's words private (universal only);
* ``today`` range-checked to 32 bits; ``recipient * recipient`` keeps the recipient in a non-linear constraint.

They prove nothing about a credential: they exist only so that the on-chain checks (scope, roots, day,
recipient, program) meet a verifying key with the real layout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from zkhealth import groth16
from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.bits import range_check
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.groth16.keys import Proof, ProvingKey, VerifyingKey
from zkhealth.hash.poseidon import poseidon as poseidon_native

PROGRAM_WORDS = 4


def _universal(b: Builder) -> None:
    program_hash = b.public_input("program_hash")
    scope = b.public_input("scope")
    today = b.public_input("today")
    trust_root = b.public_input("trust_root")
    recipient = b.public_input("recipient")
    secret = b.private_input("holder_secret")
    program = b.private_inputs("program", PROGRAM_WORDS)
    issuer_root = b.private_input("issuer_registry_root")
    person_root = b.private_input("person_registry_root")
    b.assert_equal(poseidon(b, program), program_hash)
    b.assert_equal(poseidon(b, [issuer_root, person_root]), trust_root)
    range_check(b, today, 32)
    b.mul(recipient, recipient)
    b.output("nullifier", poseidon(b, [secret, scope]))


def _dedicated(b: Builder) -> None:
    scope = b.public_input("scope")
    today = b.public_input("today")
    trust_root = b.public_input("trust_root")
    recipient = b.public_input("recipient")
    secret = b.private_input("holder_secret")
    issuer_root = b.private_input("issuer_registry_root")
    person_root = b.private_input("person_registry_root")
    b.assert_equal(poseidon(b, [issuer_root, person_root]), trust_root)
    range_check(b, today, 32)
    b.mul(recipient, recipient)
    b.output("nullifier", poseidon(b, [secret, scope]))


@dataclass(frozen=True)
class StandIn:
    """A compiled stand-in circuit with real (development) Groth16 keys."""

    circuit: CompiledCircuit
    pk: ProvingKey
    vk: VerifyingKey

    def prove(self, inputs: dict[str, object]) -> tuple[Proof, list[int]]:
        witness = self.circuit.solve_witness(inputs)
        return groth16.prove(self.pk, witness), self.circuit.public_signals(witness)


def _setup(define: Callable[[Builder], None], name: str) -> StandIn:
    compiled = compile(define, name=name)
    pk, vk = groth16.setup(compiled.r1cs)
    return StandIn(compiled, pk, vk)


@functools.cache
def universal_standin() -> StandIn:
    """Stand-in for the universal circuit: [nullifier, program_hash, scope, today, trust_root, recipient]."""
    return _setup(_universal, "standin-universal")


@functools.cache
def dedicated_standin() -> StandIn:
    """Stand-in for the dedicated v2 circuit: [nullifier, scope, today, trust_root, recipient]."""
    return _setup(_dedicated, "standin-dedicated")


def program_hash(program: list[int]) -> int:
    return poseidon_native(program)


def universal_inputs(
    *,
    secret: int,
    program: list[int],
    scope: int,
    today: int,
    issuer_root: int,
    person_root: int,
    recipient: str,
) -> dict[str, object]:
    return {
        "program_hash": program_hash(program),
        "scope": scope,
        "today": today,
        "trust_root": poseidon_native([issuer_root, person_root]),
        "recipient": int(recipient, 16),
        "holder_secret": secret,
        "program": program,
        "issuer_registry_root": issuer_root,
        "person_registry_root": person_root,
    }


def dedicated_inputs(
    *, secret: int, scope: int, today: int, issuer_root: int, person_root: int, recipient: str
) -> dict[str, object]:
    return {
        "scope": scope,
        "today": today,
        "trust_root": poseidon_native([issuer_root, person_root]),
        "recipient": int(recipient, 16),
        "holder_secret": secret,
        "issuer_registry_root": issuer_root,
        "person_registry_root": person_root,
    }
