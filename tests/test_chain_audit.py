"""The audit trail's replay on synthetic histories: every rule fires on the history that breaks it (the contracts
refuse most of these, so only a forged or buggy chain could produce them), and stays quiet otherwise; exports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zkhealth.chain.audit import AuditEvent, AuditReport, _Replay

pytestmark = pytest.mark.native

DAY = 86400
OWNER, TIMELOCK, PUBLISHER, STRANGER = ("0x" + c * 40 for c in "1234")
T0 = 100 * DAY


def event(block: int, name: str, contract: str = "TrialRegistry", *, at: int | None = None, **args: Any) -> AuditEvent:
    return AuditEvent(block, T0 + block if at is None else at, f"0x{block:064x}", 0, OWNER, contract, name, args)


def replay(events: list[AuditEvent], *, expiry: int = 10_000) -> list[str]:
    state = _Replay(TIMELOCK, lambda trial, nullifier: expiry)
    for e in events:
        state.apply(e)
    return [f.rule for f in state.findings]


def base() -> list[AuditEvent]:
    return [
        event(1, "OwnershipTransferred", previousOwner="0x" + "0" * 40, newOwner=TIMELOCK),
        event(1, "PublisherSet", publisher=PUBLISHER, authorised=True),
        event(2, "TrialCreated", trialId=1, capacity=1, windowStart=T0, windowEnd=T0 + 50),
        event(3, "PoolFunded", trialId=1, funder=OWNER, amount=10),
    ]


def test_clean_history_has_no_finding() -> None:
    history = [*base(), event(4, "Enrolled", trialId=1, nullifier=7), event(5, "RewardPaid", trialId=1, nullifier=7,
                                                                               recipient=OWNER, milestone=0, amount=3),
               event(6, "TrustRootUpdated", root=5, previousRoot=0, supersededAt=0, publisher=PUBLISHER),
               event(7, "TrustRootUpdated", root=6, previousRoot=5, supersededAt=T0, publisher=TIMELOCK)]
    assert replay(history) == []


@pytest.mark.parametrize("extra, rule", [
    ([event(4, "Enrolled", trialId=1, nullifier=7), event(5, "Enrolled", trialId=1, nullifier=8)], "capacity"),
    ([event(60, "Enrolled", trialId=1, nullifier=7)], "window"),
    ([event(4, "TrialClosed", trialId=1), event(5, "Enrolled", trialId=1, nullifier=7)], "window"),
    ([event(4, "RewardPaid", trialId=1, nullifier=9, recipient=OWNER, milestone=1, amount=1)],
     "payout-without-enrollment"),
    ([event(4, "Enrolled", trialId=1, nullifier=7), event(5, "ConsentWithdrawn", trialId=1, nullifier=7,
                                                          recipient=OWNER),
      event(6, "RewardPaid", trialId=1, nullifier=7, recipient=OWNER, milestone=1, amount=1)],
     "payout-without-enrollment"),
    ([event(4, "Enrolled", trialId=1, nullifier=7),
      event(5, "RewardPaid", trialId=1, nullifier=7, recipient=OWNER, milestone=1, amount=1),
      event(6, "RewardPaid", trialId=1, nullifier=7, recipient=OWNER, milestone=1, amount=1)], "double-payout"),
    ([event(4, "Enrolled", trialId=1, nullifier=7),
      event(5, "RewardPaid", trialId=1, nullifier=7, recipient=OWNER, milestone=1, amount=11)], "overpaid"),
    ([event(4, "TrustRootUpdated", root=5, previousRoot=0, supersededAt=0, publisher=STRANGER)], "root-publisher"),
    ([event(4, "PublisherSet", publisher=PUBLISHER, authorised=False),
      event(5, "TrustRootUpdated", root=5, previousRoot=0, supersededAt=0, publisher=PUBLISHER)], "root-publisher"),
    ([event(4, "AnonymousVoteCast", "ZkHealthGovernor", proposalId=3, nullifier=4, support=1),
      event(5, "AnonymousVoteCast", "ZkHealthGovernor", proposalId=3, nullifier=4, support=0)], "double-vote"),
])
def test_each_rule_fires(extra: list[AuditEvent], rule: str) -> None:
    assert replay([*base(), *extra]) == [rule]


def test_grant_uses_after_revocation_expiry_or_end_are_flagged() -> None:
    enrolled = [*base(), event(4, "Enrolled", trialId=1, nullifier=7),
                event(5, "AccessGranted", grantId=1, trialId=1, nullifier=7, extractHash=b"\x01" * 32,
                      expiryDay=T0 // DAY + 3, uri="u")]
    used = event(7, "GrantUsed", grantId=1, trialId=1, user=OWNER)
    assert replay([*enrolled, used]) == []
    assert replay([*enrolled, event(6, "AccessRevoked", grantId=1, trialId=1), used]) == ["grant-after-revocation"]
    late = event(8, "GrantUsed", grantId=1, trialId=1, user=OWNER, at=T0 + 5 * DAY)
    assert replay([*enrolled, late]) == ["grant-after-revocation"]
    ended = event(6, "ConsentWithdrawn", trialId=1, nullifier=7, recipient=OWNER)
    assert replay([*enrolled, ended, used]) == ["grant-after-revocation"]
    assert replay([*enrolled, used], expiry=T0 // DAY) == ["grant-after-revocation"]  # the consent expired


def test_exports() -> None:
    events = tuple(base())
    report = AuditReport(events, (), {"TrialRegistry": OWNER})
    body = json.loads(report.to_json())
    assert body["format"] == "zkhealth.audit" and len(body["events"]) == 4
    assert body["events"][2]["args"]["capacity"] == "1"  # integers as decimal strings
    lines = report.to_csv().splitlines()
    assert lines[0].startswith("kind,block") and len(lines) == 5
    assert report.ok and "TrialCreated" in report.history()[2]
