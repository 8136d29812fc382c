"""The rank-1 constraint system shared by the DSL, the file formats and the Groth16 engine.

Wire layout follows circom and snarkjs, so files move between the tools unchanged:

* wire 0 is the constant 1;
* wires ``1 .. n_public_outputs`` are the public outputs;
* then ``n_public_inputs`` public inputs;
* then ``n_private_inputs`` private inputs;
* then every internal wire.

The public signals of a proof are wires ``1 .. n_public`` (outputs first), as in snarkjs ``public.json``.
A constraint is ``<A, w> * <B, w> = <C, w>`` with each side a sparse map ``wire -> coefficient``,
coefficients in [0, r).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zkhealth.errors import WitnessError
from zkhealth.field import FIELD_R

#: A sparse linear combination: wire index -> coefficient in [0, r).
LinearCombination = dict[int, int]


@dataclass(frozen=True)
class Constraint:
    """One R1CS row ``a * b = c``. ``label`` is the scope path that created it (may be empty)."""

    a: LinearCombination
    b: LinearCombination
    c: LinearCombination
    label: str = ""


@dataclass
class R1CS:
    """A constraint system over BN254's scalar field, in circom's wire layout."""

    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    constraints: list[Constraint]
    prime: int = FIELD_R
    #: Optional names of wires (index -> name), e.g. from the DSL or a circom ``.sym`` file.
    wire_names: dict[int, str] = field(default_factory=dict)
    #: circom's label id of each wire (``.r1cs`` section 3); defaults to the identity map.
    wire_to_label: list[int] | None = None
    n_labels: int | None = None

    @property
    def n_public(self) -> int:
        """Number of public signals (outputs, then public inputs), not counting the constant wire."""
        return self.n_public_outputs + self.n_public_inputs

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    def public_signals(self, witness: Sequence[int]) -> list[int]:
        """The public signals of a full witness: wires 1..n_public."""
        return [int(v) for v in witness[1 : 1 + self.n_public]]

    def first_unsatisfied(self, witness: Sequence[int]) -> int | None:
        """Index of the first constraint the witness does not satisfy, or ``None``. Cost: O(nonzeros)."""
        p = self.prime
        for index, row in enumerate(self.constraints):
            a = sum(coeff * witness[w] for w, coeff in row.a.items()) % p
            b = sum(coeff * witness[w] for w, coeff in row.b.items()) % p
            c = sum(coeff * witness[w] for w, coeff in row.c.items()) % p
            if a * b % p != c:
                return index
        return None

    def check_witness(self, witness: Sequence[int]) -> None:
        """Raise :class:`WitnessError` unless ``witness`` has the right length, starts with 1, holds values
        in [0, r) and satisfies every constraint. Cost: O(nonzeros)."""
        if len(witness) != self.n_wires:
            raise WitnessError(f"witness has {len(witness)} values, the R1CS has {self.n_wires} wires")
        if witness[0] != 1:
            raise WitnessError("witness[0] must be 1 (the constant wire)")
        for index, value in enumerate(witness):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.prime:
                raise WitnessError(f"witness value {index} is not a field element in [0, r)")
        bad = self.first_unsatisfied(witness)
        if bad is not None:
            label = self.constraints[bad].label
            where = f" ({label})" if label else ""
            raise WitnessError(f"constraint {bad}{where} not satisfied")
