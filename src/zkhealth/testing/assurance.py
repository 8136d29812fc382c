"""pytest helpers for the assurance tools: a failing uniqueness verdict becomes an exception with witnesses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from zkhealth.circuit import Builder, Circuit, Inputs
from zkhealth.circuit.formal import NOT_UNIQUE, UNIQUE, UniquenessVerdict, find_witness, prove_unique
from zkhealth.errors import UnderconstrainedError, UnderconstrainedWitnessError

__all__ = ["assert_no_witness", "assert_unique"]


def assert_unique(
    circuit: Circuit | Builder,
    *,
    targets: str | Sequence[str] = "all",
    auxiliary: Sequence[str] = (),
    assume: Iterable[str] | None = None,
    samples: Sequence[Inputs] = (),
    time_limit: float = 30.0,
) -> UniquenessVerdict:
    """Prove ``circuit`` unique with :func:`zkhealth.circuit.formal.prove_unique` or fail.

    Raises :class:`~zkhealth.errors.UnderconstrainedWitnessError` (with both witnesses) for "not unique" and
    :class:`~zkhealth.errors.UnderconstrainedError` for "unknown"; returns the verdict when unique.
    """
    verdict = prove_unique(circuit, targets=targets, auxiliary=auxiliary, assume=assume, samples=samples,
                           time_limit=time_limit)
    if verdict.verdict == UNIQUE:
        return verdict
    if verdict.verdict == NOT_UNIQUE and verdict.witness_a is not None and verdict.witness_b is not None:
        raise UnderconstrainedWitnessError(
            f"not unique: {verdict.reason}", witness_a=verdict.witness_a, witness_b=verdict.witness_b,
            signal=verdict.signal or "",
        )
    raise UnderconstrainedError(f"uniqueness not proven: {verdict.reason}")


def assert_no_witness(
    circuit: Circuit | Builder,
    inputs: Inputs,
    *,
    pivots: int = 32,
    substitute: Mapping[int, int] | None = None,
    time_limit: float = 30.0,
) -> None:
    """Fail when a malicious prover's search (:func:`zkhealth.circuit.formal.find_witness`) finds a full
    witness the R1CS accepts for these (invalid) inputs.

    The witness solver refusing invalid inputs shows little: a prover need not use it. This helper searches the
    constraints themselves, so it catches a check whose result is a free hint. Raises
    :class:`~zkhealth.testing.CircuitCheckFailure` (an ``AssertionError``) with the witness.
    """
    from zkhealth.testing.kit import CircuitCheckFailure

    witness = find_witness(circuit, inputs, pivots=pivots, substitute=substitute, time_limit=time_limit)
    if witness is not None:
        raise CircuitCheckFailure(f"the R1CS accepts a witness for invalid inputs {dict(inputs)!r}: {witness}")
