"""CohortEnrollment with REAL Groth16 proofs of a stand-in circuit (tests/chain_standins.py: the dedicated
layout ``[nullifier, scope, today, trust_root, recipient]`` without the credential checks) on stock py-evm and on
anvil: a proof enrolls once, and a proof against a trust root superseded longer ago than the grace period reverts
StaleRoot. The refusals one by one, with a trapdoor key, are tests/test_chain_enrollment.py; the real eligibility
circuit on-chain is tests/test_chain_e2e.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import chain_standins as standins
import pytest

from zkhealth.chain import client, devchain, enrollment
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError

pytestmark = pytest.mark.evm

DAY = 86400
TRIAL = b"zkhealth-v2-trial".ljust(32, b"\0")
ROOT_B = 6262


@pytest.mark.prove
def test_real_standin_proof_on_stock_py_evm() -> None:
    standin = standins.dedicated_standin()
    w3 = client.connect(client.embedded_provider())
    accounts = list(w3.eth.accounts)
    now = int(w3.eth.get_block("latest")["timestamp"])
    inputs = dict(secret=0xABC, today=now // DAY, issuer_root=3, person_root=4, recipient=accounts[3])
    root = standins.dedicated_inputs(scope=0, **inputs)["trust_root"]
    assert isinstance(root, int)
    contract = enrollment.deploy_cohort_enrollment(
        w3, standin.vk, trial_id=TRIAL, window=(now - 60, now + DAY), capacity=2, owner=accounts[0], trust_root=root
    )
    proof, signals = standin.prove(standins.dedicated_inputs(scope=int(contract.functions.scope().call()), **inputs))
    assert enrollment.enroll_signals(w3, contract, proof, signals)["gasUsed"] <= 260_000
    with pytest.raises(NullifierAlreadyUsedError):
        enrollment.enroll_signals(w3, contract, proof, signals)


@pytest.fixture(scope="module")
def anvil() -> Iterator[Any]:
    if find_anvil() is None:
        pytest.skip("anvil not installed (npm ci in verifier_contracts/)")
    node = AnvilNode()
    try:
        node.start()
        yield client.connect(node.url)
    finally:
        node.stop()


@pytest.mark.prove
@pytest.mark.external
def test_real_standin_proof_and_stale_root_on_anvil(anvil: Any) -> None:
    standin = standins.dedicated_standin()
    w3 = anvil
    accounts = list(w3.eth.accounts)
    now = int(w3.eth.get_block("latest")["timestamp"])
    inputs = dict(issuer_root=3, person_root=4, recipient=accounts[3])
    root = standins.dedicated_inputs(secret=1, scope=0, today=0, **inputs)["trust_root"]
    assert isinstance(root, int)
    contract = enrollment.deploy_cohort_enrollment(
        w3, standin.vk, trial_id=TRIAL, window=(now - 60, now + 30 * DAY), capacity=3, owner=accounts[0],
        trust_root=root, root_grace_seconds=3600,
    )
    scope = int(contract.functions.scope().call())

    def prove(secret: int) -> tuple[Any, list[int]]:
        today = int(w3.eth.get_block("latest")["timestamp"]) // DAY
        return standin.prove(standins.dedicated_inputs(secret=secret, scope=scope, today=today, **inputs))

    proof, signals = prove(0x111)
    assert enrollment.enroll_signals(w3, contract, proof, signals)["gasUsed"] <= 260_000
    enrollment.publish_trust_root(w3, contract, ROOT_B, sender=accounts[0])
    devchain.advance_time(w3, 3601)
    proof, signals = prove(0x222)
    with pytest.raises(ContractRevertError) as info:
        enrollment.enroll_signals(w3, contract, proof, signals)
    assert info.value.error_name == "StaleRoot"
