"""Test kit for circuit authors (also a pytest plugin: ``zkhealth.testing.plugin``).

* :func:`check_circuit`: valid inputs solve and satisfy the R1CS, invalid ones raise ``WitnessError``,
  tampered full witnesses are rejected by ``r1cs.check_witness``;
* :class:`ConstraintCountSnapshot` / :func:`assert_constraint_count`: fail with
  ``ConstraintCountDriftError`` when a count drifts;
* :mod:`zkhealth.testing.strategies` (needs hypothesis): field elements, witnesses, tampered witnesses;
* :func:`zkhealth.circuit.check_unique`: search for a second witness (re-exported here);
* :func:`assert_unique`: prove every signal is determined by the inputs (formal, see
  :mod:`zkhealth.circuit.formal`), or fail with two witnesses.
"""

from zkhealth.circuit import check_unique
from zkhealth.testing.assurance import assert_no_witness, assert_unique
from zkhealth.testing.counts import (
    ConstraintCountSnapshot,
    CountRow,
    assert_constraint_count,
    load_counts,
    write_counts,
)
from zkhealth.testing.kit import CheckResult, CircuitCheckFailure, check_circuit

__all__ = [
    "CheckResult",
    "CircuitCheckFailure",
    "ConstraintCountSnapshot",
    "CountRow",
    "assert_constraint_count",
    "assert_no_witness",
    "assert_unique",
    "check_circuit",
    "check_unique",
    "load_counts",
    "write_counts",
]
