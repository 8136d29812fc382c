"""security.md section 2.4 (K rows) on the embedded EVM (py-evm), where tests/test_chain_*.py leave a gap.

* K2 / G6: a proof re-randomised by the LIBRARY's own :func:`zkhealth.groth16.rerandomize` verifies in
  Python, differs in every point, and the contract still refuses it with ``NullifierAlreadyUsedError``.
* K7: with the node's snapshot/revert (a simulated reorg) an enrollment first seen ``PENDING`` is reported
  ``REORGED``, and the default watcher never reports ``ENROLLED`` for a log in the latest block alone.

Proofs come from the trapdoor key of tests/chain_testkeys.py (valid proofs for chosen signals, test-only).
"""

from __future__ import annotations

import random
from typing import Any

import chain_testkeys as testkeys
import pytest

from zkhealth import groth16
from zkhealth.chain import client, enrollment
from zkhealth.errors import NullifierAlreadyUsedError
from zkhealth.field import FIELD_R
from zkhealth.groth16.keys import Proof

pytestmark = pytest.mark.evm

TRIAL = b"zkhealth-security".ljust(32, b"\0")
TRUST_ROOT = 3333
DAY = 86400


class Deployment:
    def __init__(self, key: testkeys.TrapdoorKey) -> None:
        self.key = key
        self.vk = key.key()
        self.w3 = client.connect(client.embedded_provider(fast_pairing=True))
        accounts = list(self.w3.eth.accounts)
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.contract = enrollment.deploy_cohort_enrollment(
            self.w3,
            self.vk,
            trial_id=TRIAL,
            trust_root=TRUST_ROOT,
            window=(now - 60, now + 30 * DAY),
            capacity=5,
            owner=accounts[0],
        )
        self.patients = accounts[1:]

    def signals(self, nullifier: int, sender: str) -> list[int]:
        today = int(self.w3.eth.get_block("latest")["timestamp"]) // DAY
        scope = int(self.contract.functions.scope().call())
        return [nullifier, scope, today, TRUST_ROOT, int(sender, 16)]

    def proof(self, signals: list[int]) -> Proof:
        return self.key.prove(signals).to_proof()


def _tester(d: Deployment) -> Any:
    """The embedded node's eth-tester handle (snapshots, mining)."""
    return getattr(d.w3.provider, "ethereum_tester")  # noqa: B009 (not in web3's provider type)


@pytest.fixture(scope="module")
def key() -> testkeys.TrapdoorKey:
    return testkeys.TrapdoorKey.generate(5, seed=77)


@pytest.fixture
def d(key: testkeys.TrapdoorKey) -> Deployment:
    return Deployment(key)


def test_library_rerandomised_proof_is_refused_as_a_used_nullifier(d: Deployment) -> None:
    """K2 / G6: completeness of re-randomisation, and the nullifier (not the proof bytes) stops the replay."""
    nullifier = random.randrange(1, FIELD_R)
    sender = d.patients[0]
    signals = d.signals(nullifier, sender)
    original = d.proof(signals)
    enrollment.enroll_signals(d.w3, d.contract, original, signals, sender=sender)
    fresh = groth16.rerandomize(d.vk, original)
    groth16.verify(d.vk, signals, fresh)
    assert fresh.a != original.a and fresh.b != original.b and fresh.c != original.c
    with pytest.raises(NullifierAlreadyUsedError):
        enrollment.enroll_signals(d.w3, d.contract, fresh, signals, sender=sender)
    status, recipient, _ = d.contract.functions.enrollment(nullifier).call()
    assert (status, recipient) == (1, sender)


def test_reorged_enrollment_is_reported_reorged(d: Deployment) -> None:
    """K7: snapshot, enroll, revert (the enrollment's block leaves the canonical chain), mine: the watcher that
    saw the log reports REORGED, never ENROLLED."""
    tester = _tester(d)
    watcher = client.EnrollmentWatcher(d.w3, d.contract.address, confirmations=2)
    snapshot = tester.take_snapshot()
    nullifier = random.randrange(1, FIELD_R)
    signals = d.signals(nullifier, d.patients[1])
    enrollment.enroll_signals(d.w3, d.contract, d.proof(signals), signals, sender=d.patients[1])
    (seen,) = watcher.poll()
    assert seen.status is client.EnrollmentStatus.PENDING and seen.nullifier == nullifier
    tester.revert_to_snapshot(snapshot)
    tester.mine_blocks(3)
    statuses = [(r.nullifier, r.status) for r in watcher.poll()]
    assert statuses == [(nullifier, client.EnrollmentStatus.REORGED)]
    assert d.contract.functions.enrollment(nullifier).call()[0] == 0


def test_default_watcher_never_trusts_the_latest_block_alone(d: Deployment) -> None:
    """K7: with the default depth an enrollment in the latest block is PENDING; it turns ENROLLED only once
    the configured number of blocks sits on top of it."""
    assert client.DEFAULT_CONFIRMATIONS > 1
    watcher = client.EnrollmentWatcher(d.w3, d.contract.address)
    nullifier = random.randrange(1, FIELD_R)
    signals = d.signals(nullifier, d.patients[2])
    enrollment.enroll_signals(d.w3, d.contract, d.proof(signals), signals, sender=d.patients[2])
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.PENDING]
    _tester(d).mine_blocks(client.DEFAULT_CONFIRMATIONS - 2)
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.PENDING]
    _tester(d).mine_blocks(1)
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.ENROLLED]
