"""The same flow on a real node: anvil (npm @foundry-rs/anvil, pinned) on 127.0.0.1, started and stopped here.
Reorgs are simulated with evm_snapshot / evm_revert (security.md K7)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chain_testkeys as testkeys
import pytest

from zkhealth.chain import client
from zkhealth.chain import enrollment as cohort
from zkhealth.chain.anvil import AnvilNode, find_anvil, rpc
from zkhealth.eligibility import trial_scope
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError
from zkhealth.field import FIELD_R
from zkhealth.formats.snarkjs_json import parse_proof, parse_verifying_key

pytestmark = [
    pytest.mark.evm,
    pytest.mark.external,
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in verifier_contracts/)"),
]

VECTORS = Path(__file__).parent / "vectors" / "snarkjs"
TRIAL = b"\x42" * 32


@pytest.fixture(scope="module")
def w3() -> Iterator[Any]:
    node = AnvilNode()
    try:
        node.start()
        yield client.connect(node.url)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def key() -> testkeys.TrapdoorKey:
    return testkeys.TrapdoorKey.generate(5, seed=99)


def test_vector_proof_verifies_on_anvil(w3: Any) -> None:
    vk = parse_verifying_key((VECTORS / "verification_key.json").read_text())
    proof = parse_proof((VECTORS / "proof.json").read_text())
    signals = [int(s) for s in json.loads((VECTORS / "public.json").read_text())]
    verifier = client.deploy_verifier(w3, vk)
    assert client.verify_on_chain(verifier, proof, signals) is True
    signals[2] += 1
    assert client.verify_on_chain(verifier, proof, signals) is False
    signals[2] += FIELD_R
    with pytest.raises(ContractRevertError) as info:
        client.verify_on_chain(verifier, proof, signals)
    assert info.value.error_name == "InputNotInField"


def test_enroll_flow_and_reorg_on_anvil(w3: Any, key: testkeys.TrapdoorKey) -> None:
    accounts = w3.eth.accounts
    now = int(w3.eth.get_block("latest")["timestamp"])
    enrollment = cohort.deploy_cohort_enrollment(
        w3,
        key.key(),
        trial_id=TRIAL,
        trust_root=5,
        window=(now - 60, now + 86400),
        capacity=10,
        owner=accounts[0],
    )
    scope = enrollment.functions.scope().call()
    assert scope == trial_scope(w3.eth.chain_id, enrollment.address, TRIAL)
    day = int(w3.eth.get_block("latest")["timestamp"]) // 86400
    nullifier = random.randrange(1, FIELD_R)
    signals = [nullifier, scope, day, 5, int(accounts[1], 16)]
    proof = key.prove(signals).to_proof()

    block = w3.eth.block_number
    with pytest.raises(ContractRevertError) as info:  # simulated first: decoded, and nothing is sent
        cohort.enroll_signals(w3, enrollment, proof, signals, sender=accounts[2])
    assert info.value.error_name == "WrongRecipient" and w3.eth.block_number == block
    with pytest.raises(ContractRevertError) as info:  # a mined revert is decoded by replaying it
        client.transact(w3, enrollment.functions.enroll(*client.to_calldata(proof), signals), sender=accounts[2],
                        gas=cohort.ENROLL_GAS)
    assert info.value.error_name == "WrongRecipient"

    snapshot = rpc(w3, "evm_snapshot")
    watcher = client.EnrollmentWatcher(w3, enrollment.address, confirmations=3)
    receipt = cohort.enroll_signals(w3, enrollment, proof, signals, sender=accounts[1])
    assert receipt["gasUsed"] <= 260_000
    assert [r.status for r in watcher.poll()] == [client.EnrollmentStatus.PENDING]
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")
    (record,) = watcher.poll()
    assert record.status is client.EnrollmentStatus.ENROLLED and record.nullifier == nullifier
    with pytest.raises(NullifierAlreadyUsedError):
        cohort.enroll_signals(w3, enrollment, proof, signals, sender=accounts[1])

    rpc(w3, "evm_revert", [snapshot])  # the enrollment's block leaves the chain
    (gone,) = watcher.poll()
    assert gone.status is client.EnrollmentStatus.REORGED
    assert enrollment.functions.enrollment(nullifier).call()[0] == 0
    cohort.enroll_signals(w3, enrollment, proof, signals, sender=accounts[1])  # re-included after the reorg
    statuses = sorted(r.status.value for r in watcher.poll())
    assert statuses == ["pending"]
