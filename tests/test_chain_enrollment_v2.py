"""CohortEnrollmentV2 (dedicated circuits, public signals [nullifier, scope, today, trust_root, recipient]):
trust-root freshness with a grace period, the `today` window, the refusals, gas; REAL stand-in proofs on stock
py-evm and on anvil.

Bulk checks use a 5-signal trapdoor key (tests/chain_testkeys.py, test-only) on py-evm with the fast pairing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import chain_standins as standins
import chain_testkeys as testkeys
import pytest

from zkhealth.chain import client, devchain, enrollment
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.errors import ContractRevertError, NullifierAlreadyUsedError
from zkhealth.field import FIELD_R

pytestmark = pytest.mark.evm

DAY = 86400
TRIAL = b"zkhealth-v2-trial".ljust(32, b"\0")
ROOT_A, ROOT_B = 5151, 6262


@pytest.fixture(scope="module")
def key() -> testkeys.TrapdoorKey:
    return testkeys.TrapdoorKey.generate(5, seed=55)


@dataclass
class Deployment:
    w3: Any
    key: testkeys.TrapdoorKey
    contract: Any
    owner: str
    publisher: str
    patients: list[str]

    def today(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"]) // DAY

    def enroll(self, nullifier: int, patient: str, **overrides: int) -> Any:
        values = {"nullifier": nullifier, "scope": int(self.contract.functions.scope().call()),
                  "today": self.today(), "trust_root": ROOT_A, "recipient": int(patient, 16)}
        values.update(overrides)
        signals = [values[k] for k in enrollment.DEDICATED_SIGNALS]
        proof = self.key.prove([v % FIELD_R for v in signals]).to_proof()
        return enrollment.enroll(self.w3, self.contract, proof, signals, sender=patient)


def deploy(key: testkeys.TrapdoorKey, *, grace: int = DAY) -> Deployment:
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    now = int(w3.eth.get_block("latest")["timestamp"])
    contract = enrollment.deploy_cohort_enrollment(
        w3, key.key(), trial_id=TRIAL, window=(now - 60, now + 30 * DAY), capacity=5,
        owner=accounts[0], trust_root=ROOT_A, root_grace_seconds=grace, publishers=[accounts[1]],
    )
    return Deployment(w3, key, contract, accounts[0], accounts[1], accounts[2:])


def expect_revert(name: str, fn: Callable[[], Any]) -> None:
    with pytest.raises(ContractRevertError) as info:
        fn()
    assert info.value.error_name == name, str(info.value)


def nullifier() -> int:
    return random.randrange(1, FIELD_R)


def test_enroll_and_refusals(key: testkeys.TrapdoorKey) -> None:
    d = deploy(key)
    n = nullifier()
    receipt = d.enroll(n, d.patients[0])
    assert receipt["gasUsed"] <= 260_000
    assert d.contract.functions.enrollment(n).call() == [1, d.patients[0], d.today()]
    with pytest.raises(NullifierAlreadyUsedError):
        d.enroll(n, d.patients[0])
    expect_revert("WrongScope", lambda: d.enroll(nullifier(), d.patients[0], scope=1234))
    expect_revert("WrongRecipient", lambda: d.enroll(nullifier(), d.patients[0], recipient=int(d.patients[1], 16)))
    expect_revert("UnknownRoot", lambda: d.enroll(nullifier(), d.patients[0], trust_root=999))
    expect_revert("InputNotInField", lambda: d.enroll(nullifier() + FIELD_R, d.patients[0]))
    for offset, error in ((1, "StaleProof"), (-2, "StaleProof")):
        expect_revert(error, lambda o=offset: d.enroll(nullifier(), d.patients[0], today=d.today() + o))
    d.enroll(nullifier(), d.patients[1], today=d.today() - 1)
    enrollment.client.transact_checked(d.w3, d.contract.functions.withdraw(n), sender=d.patients[0])
    assert d.contract.functions.enrolledCount().call() == 1


def test_root_freshness_grace_period(key: testkeys.TrapdoorKey) -> None:
    d = deploy(key, grace=DAY)
    expect_revert("NotPublisher", lambda: enrollment.publish_trust_root(d.w3, d.contract, ROOT_B,
                                                                        sender=d.patients[0]))
    receipt = enrollment.publish_trust_root(d.w3, d.contract, ROOT_B, sender=d.publisher)
    (event,) = d.contract.events.TrustRootUpdated().process_receipt(receipt)
    assert (event["args"]["root"], event["args"]["previousRoot"]) == (ROOT_B, ROOT_A)
    d.enroll(nullifier(), d.patients[0], trust_root=ROOT_A)  # superseded, within the grace period
    devchain.advance_time(d.w3, DAY + 1)
    expect_revert("StaleRoot", lambda: d.enroll(nullifier(), d.patients[1], trust_root=ROOT_A))
    d.enroll(nullifier(), d.patients[1], trust_root=ROOT_B)
    strict = deploy(key, grace=0)
    enrollment.publish_trust_root(strict.w3, strict.contract, ROOT_B, sender=strict.owner)
    devchain.advance_time(strict.w3, 1)
    expect_revert("StaleRoot", lambda: strict.enroll(nullifier(), strict.patients[0], trust_root=ROOT_A))
    client.transact_checked(strict.w3, strict.contract.functions.setRootGrace(DAY), sender=strict.owner)
    strict.enroll(nullifier(), strict.patients[0], trust_root=ROOT_A)


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
    assert enrollment.enroll(w3, contract, proof, signals)["gasUsed"] <= 260_000
    with pytest.raises(NullifierAlreadyUsedError):
        enrollment.enroll(w3, contract, proof, signals)


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
    assert enrollment.enroll(w3, contract, proof, signals)["gasUsed"] <= 260_000
    enrollment.publish_trust_root(w3, contract, ROOT_B, sender=accounts[0])
    devchain.advance_time(w3, 3601)
    proof, signals = prove(0x222)
    with pytest.raises(ContractRevertError) as info:
        enrollment.enroll(w3, contract, proof, signals)
    assert info.value.error_name == "StaleRoot"
