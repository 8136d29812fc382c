"""pytest plugin of zkhealth (entry point ``pytest11: zkhealth = zkhealth.testing.plugin``).

* option ``--update-constraint-counts``: constraint-count snapshots record instead of failing;
* fixture ``constraint_counts``: a :class:`~zkhealth.testing.ConstraintCountSnapshot` of the standard gadget
  table, saved at the end of the session in update mode;
* fixture ``circuit_checker``: :func:`~zkhealth.testing.check_circuit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zkhealth.circuit.gadgets import PINNED_COUNTS_PATH
from zkhealth.testing.counts import ConstraintCountSnapshot
from zkhealth.testing.kit import check_circuit


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zkhealth")
    group.addoption(
        "--update-constraint-counts",
        action="store_true",
        default=False,
        help="record measured constraint counts into the pinned tables instead of failing on drift",
    )


@pytest.fixture(scope="session")
def constraint_counts(request: pytest.FixtureRequest) -> Iterator[ConstraintCountSnapshot]:
    """The pinned count table of the standard gadgets (``zkhealth/circuit/gadgets/counts.csv``)."""
    snapshot = ConstraintCountSnapshot(
        PINNED_COUNTS_PATH, update=bool(request.config.getoption("--update-constraint-counts"))
    )
    yield snapshot
    snapshot.save()


@pytest.fixture
def circuit_checker() -> Callable[..., Any]:
    """:func:`zkhealth.testing.check_circuit`, as a fixture."""
    return check_circuit
