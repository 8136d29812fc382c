"""Small R1CS builders for the Groth16 and format tests (helper module, no tests here)."""

from __future__ import annotations

import random

from zkhealth.field import FIELD_R
from zkhealth.r1cs import R1CS, Constraint


def chain_r1cs(n_constraints: int) -> R1CS:
    """x_{i+1} = x_i^2 + i for i < n. Wires: 0 = one, 1 = out (public output x_n), 2 = x_0 (public input),
    then x_1 .. x_{n-1} (internal)."""
    def wire(i: int) -> int:
        if i == 0:
            return 2
        if i == n_constraints:
            return 1
        return 2 + i

    constraints = []
    for i in range(n_constraints):
        c = {wire(i + 1): 1}
        if i:
            c[0] = (FIELD_R - i) % FIELD_R
        constraints.append(Constraint({wire(i): 1}, {wire(i): 1}, c))
    return R1CS(
        n_wires=2 + n_constraints,
        n_public_outputs=1,
        n_public_inputs=1,
        n_private_inputs=0,
        constraints=constraints,
    )


def chain_witness(n_constraints: int, x0: int) -> list[int]:
    xs = [x0 % FIELD_R]
    for i in range(n_constraints):
        xs.append((xs[-1] * xs[-1] + i) % FIELD_R)
    return [1, xs[-1], xs[0], *xs[1:-1]]


def random_circuit(seed: int, n_public_inputs: int, n_private: int, n_constraints: int) -> tuple[R1CS, list[int]]:
    """A random satisfiable R1CS: every constraint defines a fresh internal wire as <A,w> * <B,w>.

    The single public output is the last product. Coefficients and values are random field elements.
    """
    rng = random.Random(seed)
    n_inputs = 1 + 1 + n_public_inputs + n_private  # one, output, inputs
    witness = [1, 0] + [rng.randrange(FIELD_R) for _ in range(n_public_inputs + n_private)]
    constraints = []
    for k in range(n_constraints):
        available = len(witness)

        def lc(available: int = available) -> dict[int, int]:
            wires = rng.sample([w for w in range(available) if w != 1], k=min(2, available - 1))
            return {w: rng.randrange(1, FIELD_R) for w in wires}

        a, b = lc(), lc()
        value = (sum(c * witness[w] for w, c in a.items()) * sum(c * witness[w] for w, c in b.items())) % FIELD_R
        target = 1 if k == n_constraints - 1 else len(witness)
        if target == 1:
            witness[1] = value
        else:
            witness.append(value)
        constraints.append(Constraint(a, b, {target: 1}))
    r1cs = R1CS(
        n_wires=len(witness),
        n_public_outputs=1,
        n_public_inputs=n_public_inputs,
        n_private_inputs=n_private,
        constraints=constraints,
    )
    del n_inputs
    return r1cs, witness
