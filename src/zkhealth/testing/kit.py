"""check_circuit: run a circuit against valid and invalid inputs, and against tampered full witnesses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from zkhealth.circuit import Circuit, CompiledCircuit, Inputs, compile
from zkhealth.errors import WitnessError
from zkhealth.field import FIELD_R


class CircuitCheckFailure(AssertionError):
    """A :func:`check_circuit` expectation failed (an ``AssertionError``, so pytest reports it as a failure)."""


#: A valid case: the inputs, or (inputs, expected outputs by name).
ValidCase = Inputs | tuple[Inputs, Mapping[str, int]]


@dataclass
class CheckResult:
    """What :func:`check_circuit` computed: the compiled circuit and the witness of every valid case."""

    compiled: CompiledCircuit
    witnesses: list[list[int]] = field(default_factory=list)


def _expect_rejected(compiled: CompiledCircuit, witness: list[int], what: str) -> None:
    try:
        compiled.r1cs.check_witness(witness)
    except WitnessError:
        return
    raise CircuitCheckFailure(f"{compiled.name}: {what} was accepted by the R1CS")


def check_circuit(
    circuit: Circuit | CompiledCircuit,
    valid: Sequence[ValidCase] = (),
    invalid: Sequence[Inputs] = (),
    *,
    invalid_witnesses: Sequence[Sequence[int]] = (),
    tamper_outputs: bool = True,
) -> CheckResult:
    """Check a circuit the way a careful reviewer would.

    * every ``valid`` case solves, its witness satisfies the R1CS, and (when given) the outputs match;
    * with ``tamper_outputs`` (default), changing any single output wire of a valid witness, everything
      else kept, is rejected by ``r1cs.check_witness``: a prover who bypasses the solver cannot claim another
      output for the same wires;
    * every ``invalid`` input set makes the solver raise :class:`~zkhealth.errors.WitnessError`;
    * every full witness in ``invalid_witnesses`` is rejected by ``r1cs.check_witness``.

    Raises :class:`CircuitCheckFailure` (an ``AssertionError``) on the first failed expectation.
    """
    compiled = circuit if isinstance(circuit, CompiledCircuit) else compile(circuit)
    result = CheckResult(compiled)
    for case in valid:
        if isinstance(case, tuple):
            inputs, expected = case
        else:
            inputs, expected = case, None
        try:
            witness = compiled.solve_witness(inputs)
        except WitnessError as exc:
            raise CircuitCheckFailure(f"{compiled.name}: valid inputs {dict(inputs)!r} rejected: {exc}") from exc
        try:
            compiled.r1cs.check_witness(witness)
        except WitnessError as exc:
            raise CircuitCheckFailure(f"{compiled.name}: solved witness fails the R1CS: {exc}") from exc
        if expected is not None:
            got = compiled.output_values(witness)
            for name, value in expected.items():
                if name not in got:
                    raise CircuitCheckFailure(f"{compiled.name}: no output named {name!r}")
                if got[name] != value % FIELD_R:
                    raise CircuitCheckFailure(f"{compiled.name}: output {name} = {got[name]}, expected {value}")
        if tamper_outputs:
            for wire in range(1, 1 + compiled.r1cs.n_public_outputs):
                tampered = list(witness)
                tampered[wire] = (tampered[wire] + 1) % FIELD_R
                _expect_rejected(compiled, tampered, f"output wire {wire} changed by one")
        result.witnesses.append(witness)
    for inputs in invalid:
        try:
            compiled.solve_witness(inputs)
        except WitnessError:
            continue
        raise CircuitCheckFailure(f"{compiled.name}: invalid inputs {dict(inputs)!r} were accepted")
    for index, bad_witness in enumerate(invalid_witnesses):
        _expect_rejected(compiled, list(bad_witness), f"invalid witness #{index}")
    return result
