"""The audit trail: rebuild the history of the registry, the trust directory and the DAO from their events, and
check the invariants anyone should be able to check.

:func:`audit` reads every log of the given contracts (``eth_getLogs``), decodes it with the shipped ABIs, attaches
the block time and the transaction's sender, and replays the history:

* ``capacity``: no enrollment while the trial's active enrollments already fill its capacity;
* ``window``: no enrollment outside the trial's window (as it stood at that block), none after it closed;
* ``payout-without-enrollment``: every reward payout goes to an enrolled nullifier whose consent was active;
* ``double-payout``: one payout per nullifier and milestone; ``overpaid``: a trial never pays more than it was
  funded;
* ``root-publisher``: every trust-root update was made by the registry's owner (the timelock, when one is given)
  or by a publisher authorised at that block;
* ``grant-after-revocation``: a grant recorded as used after it was revoked, after it expired or after its
  enrollment ended;
* ``double-vote``: one vote per nullifier and proposal.

Per-trial enrollment contracts (CohortEnrollment; ``enrollments``) join the history too, and
their replay checks the same ``capacity`` and ``window`` rules against the window and capacity their own events
set (their constructors emit them).

Findings name the rule, the block and the transaction. :meth:`AuditReport.to_json` and
:meth:`AuditReport.to_csv` export the history and the findings (integers as decimal strings, bytes as hex).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from eth_utils.address import to_checksum_address
from web3 import Web3

from zkhealth.chain.build import load_artifact
from zkhealth.chain.client import rpc_boundary
from zkhealth.errors import AuditError

__all__ = ["AuditEvent", "AuditFinding", "AuditReport", "audit"]

DAY: Final[int] = 86_400
#: Events left out of the history (they repeat another event: VoteCastWithParams carries the whole proof).
_SKIPPED: Final[frozenset[str]] = frozenset({"VoteCastWithParams", "EIP712DomainChanged"})
#: Per-trial enrollment contracts the audit reads (``enrollments``).
_COHORT_CONTRACTS: Final[frozenset[str]] = frozenset({"CohortEnrollment"})


def _plain(value: Any) -> Any:
    """A JSON-safe copy: ints as decimal strings, bytes as 0x-hex, sequences and mappings recursively."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


@dataclass(frozen=True)
class AuditEvent:
    """One decoded log, in chain order."""

    block_number: int
    timestamp: int
    transaction_hash: str
    log_index: int
    sender: str
    contract: str
    event: str
    args: dict[str, Any]
    address: str = ""

    @property
    def day(self) -> int:
        return self.timestamp // DAY

    @property
    def trial_id(self) -> int | None:
        value = self.args.get("trialId")
        return int(value) if value is not None else None

    def describe(self) -> str:
        """One line for a printed history."""
        when = _dt.datetime.fromtimestamp(self.timestamp, _dt.UTC).strftime("%Y-%m-%d %H:%M")
        shown = []
        for key, value in self.args.items():
            plain = _plain(value)
            text = plain if isinstance(plain, str) else json.dumps(plain)
            if len(text) > 18:
                text = text[:10] + "…" + text[-4:]
            shown.append(f"{key}={text}")
        return f"block {self.block_number} {when} {self.contract}.{self.event} " + " ".join(shown)


@dataclass(frozen=True)
class AuditFinding:
    """A broken invariant."""

    rule: str
    message: str
    block_number: int
    transaction_hash: str


@dataclass(frozen=True)
class AuditReport:
    """The rebuilt history and what the replay found."""

    events: tuple[AuditEvent, ...]
    findings: tuple[AuditFinding, ...]
    contracts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def history(self) -> list[str]:
        return [event.describe() for event in self.events]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "zkhealth.audit",
            "version": 1,
            "contracts": dict(self.contracts),
            "events": [
                {
                    "block": str(e.block_number),
                    "timestamp": str(e.timestamp),
                    "transaction": e.transaction_hash,
                    "logIndex": str(e.log_index),
                    "sender": e.sender,
                    "contract": e.contract,
                    "address": e.address,
                    "event": e.event,
                    "args": _plain(e.args),
                }
                for e in self.events
            ],
            "findings": [
                {"rule": f.rule, "message": f.message, "block": str(f.block_number), "transaction": f.transaction_hash}
                for f in self.findings
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    def to_csv(self) -> str:
        """One row per event, then one row per finding (``kind`` says which). Every cell starts with a letter,
        a digit, ``0x`` or ``{`` (details are JSON objects), so no cell reads as a spreadsheet formula."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = ["kind", "block", "timestamp", "transaction", "log_index", "sender", "contract", "name", "details",
                  "address"]
        writer.writerow(header)
        for e in self.events:
            details = json.dumps(_plain(e.args), sort_keys=True)
            row = [e.block_number, e.timestamp, e.transaction_hash, e.log_index, e.sender, e.contract, e.event]
            writer.writerow(["event", *row, details, e.address])
        for f in self.findings:
            writer.writerow(["finding", f.block_number, "", f.transaction_hash, "", "", "", f.rule, f.message, ""])
        return out.getvalue()


# --------------------------------------------------------------------------- collecting


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _collect(
    w3: Web3, contracts: Sequence[tuple[str, str]], from_block: int, to_block: int | str
) -> list[AuditEvent]:
    blocks: dict[int, int] = {}
    senders: dict[str, str] = {}
    events: list[AuditEvent] = []
    for name, address in contracts:
        contract = w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name)["abi"])
        by_topic: dict[bytes, Any] = {}
        abi: list[dict[str, Any]] = load_artifact(name)["abi"]
        for item in abi:
            if item.get("type") == "event" and not item.get("anonymous", False):
                handler = contract.events[str(item["name"])]()
                by_topic[_as_bytes(handler.topic)] = handler
        query: Any = {"address": contract.address, "fromBlock": from_block, "toBlock": to_block}
        for log in w3.eth.get_logs(query):
            if not log["topics"]:
                continue
            event = by_topic.get(_as_bytes(log["topics"][0]))
            if event is None or event.event_name in _SKIPPED:
                continue
            decoded = event.process_log(log)
            number = int(log["blockNumber"])
            if number not in blocks:
                blocks[number] = int(w3.eth.get_block(number)["timestamp"])
            tx = "0x" + _as_bytes(log["transactionHash"]).hex()
            if tx not in senders:
                senders[tx] = str(w3.eth.get_transaction(cast(Any, tx))["from"])
            events.append(
                AuditEvent(
                    block_number=number,
                    timestamp=blocks[number],
                    transaction_hash=tx,
                    log_index=int(log["logIndex"]),
                    sender=senders[tx],
                    contract=name,
                    event=event.event_name,
                    args=dict(decoded["args"]),
                    address=str(contract.address),
                )
            )
    events.sort(key=lambda e: (e.block_number, e.log_index))
    return events


# --------------------------------------------------------------------------- replay


@dataclass
class _Trial:
    capacity: int
    window: tuple[int, int]
    active: int = 0
    closed: bool = False
    funded: int = 0
    paid: int = 0


@dataclass
class _Replay:
    timelock: str | None
    registry_expiry: Any
    findings: list[AuditFinding] = field(default_factory=list)
    owner: str | None = None
    publishers: set[str] = field(default_factory=set)
    trials: dict[int, _Trial] = field(default_factory=dict)
    enrollments: dict[tuple[int, int], str] = field(default_factory=dict)  # status: active/withdrawn/expired
    payouts: set[tuple[int, int, int]] = field(default_factory=set)
    grants: dict[int, dict[str, int]] = field(default_factory=dict)
    votes: set[tuple[int, int]] = field(default_factory=set)
    cohorts: dict[str, _Trial] = field(default_factory=dict)  # per-trial contracts, by address

    def flag(self, rule: str, message: str, event: AuditEvent) -> None:
        self.findings.append(AuditFinding(rule, message, event.block_number, event.transaction_hash))

    def consent_expiry(self, trial_id: int, nullifier: int) -> int:
        return int(self.registry_expiry(trial_id, nullifier))

    def apply(self, e: AuditEvent) -> None:  # noqa: C901 - one dispatch over the event names
        a = e.args
        if e.contract == "TrialRegistry":
            self._registry(e, a)
        elif e.contract in _COHORT_CONTRACTS:
            self._cohort(e, a)
        elif e.contract == "ZkHealthGovernor" and e.event == "AnonymousVoteCast":
            key = (int(a["proposalId"]), int(a["nullifier"]))
            if key in self.votes:
                self.flag("double-vote", f"nullifier voted twice on proposal {key[0]}", e)
            self.votes.add(key)

    def _registry(self, e: AuditEvent, a: dict[str, Any]) -> None:  # noqa: C901 - one dispatch over events
        name = e.event
        if name == "OwnershipTransferred":
            self.owner = str(a["newOwner"])
        elif name == "PublisherSet":
            (self.publishers.add if a["authorised"] else self.publishers.discard)(str(a["publisher"]))
        elif name == "TrustRootUpdated":
            publisher = str(a["publisher"])
            owner_ok = publisher == self.owner and (self.timelock is None or publisher == self.timelock)
            if not owner_ok and publisher not in self.publishers:
                self.flag("root-publisher", f"trust root published by {publisher}, not the timelock or a publisher", e)
        elif name == "TrialCreated":
            self.trials[int(a["trialId"])] = _Trial(int(a["capacity"]), (int(a["windowStart"]), int(a["windowEnd"])))
        elif name == "CapacityUpdated":
            self.trials[int(a["trialId"])].capacity = int(a["capacity"])
        elif name == "WindowUpdated":
            self.trials[int(a["trialId"])].window = (int(a["start"]), int(a["end"]))
        elif name == "TrialClosed":
            self.trials[int(a["trialId"])].closed = True
        elif name == "Enrolled":
            trial_id, nullifier = int(a["trialId"]), int(a["nullifier"])
            trial = self.trials.get(trial_id)
            if trial is None:
                self.flag("window", f"enrollment in unknown trial {trial_id}", e)
                return
            if trial.active >= trial.capacity:
                self.flag("capacity", f"enrollment past capacity {trial.capacity} in trial {trial_id}", e)
            start, end = trial.window
            if not start <= e.timestamp < end or trial.closed:
                self.flag("window", f"enrollment outside the window of trial {trial_id}", e)
            trial.active += 1
            self.enrollments[(trial_id, nullifier)] = "active"
        elif name in ("ConsentWithdrawn", "ConsentExpired"):
            trial_id, nullifier = int(a["trialId"]), int(a["nullifier"])
            self.enrollments[(trial_id, nullifier)] = "withdrawn" if name == "ConsentWithdrawn" else "expired"
            self.trials[trial_id].active -= 1
        elif name == "PoolFunded":
            self.trials[int(a["trialId"])].funded += int(a["amount"])
        elif name == "PoolReclaimed":
            self.trials[int(a["trialId"])].funded -= int(a["amount"])
        elif name == "RewardPaid":
            self._payout(e, a)
        elif name == "AccessGranted":
            self.grants[int(a["grantId"])] = {
                "trialId": int(a["trialId"]),
                "nullifier": int(a["nullifier"]),
                "expiryDay": int(a["expiryDay"]),
                "revokedBlock": -1,
            }
        elif name == "AccessRevoked":
            self.grants[int(a["grantId"])]["revokedBlock"] = e.block_number
        elif name == "GrantUsed":
            self._grant_use(e, a)

    def _cohort(self, e: AuditEvent, a: dict[str, Any]) -> None:
        """A per-trial contract: its own window and capacity (set by its constructor's events) and count."""
        trial = self.cohorts.setdefault(e.address, _Trial(capacity=0, window=(0, 0)))
        if e.event == "WindowUpdated":
            trial.window = (int(a["start"]), int(a["end"]))
        elif e.event == "CapacityUpdated":
            trial.capacity = int(a["capacity"])
        elif e.event == "Enrolled":
            if trial.active >= trial.capacity:
                self.flag("capacity", f"enrollment past capacity {trial.capacity} in {e.contract} {e.address}", e)
            if not trial.window[0] <= e.timestamp < trial.window[1]:
                self.flag("window", f"enrollment outside the window of {e.contract} {e.address}", e)
            trial.active += 1
        elif e.event == "Withdrawn":
            trial.active -= 1

    def _payout(self, e: AuditEvent, a: dict[str, Any]) -> None:
        trial_id, nullifier, milestone = int(a["trialId"]), int(a["nullifier"]), int(a["milestone"])
        status = self.enrollments.get((trial_id, nullifier))
        if status is None:
            self.flag("payout-without-enrollment", f"payout to a nullifier never enrolled in trial {trial_id}", e)
        elif status != "active" or self.consent_expiry(trial_id, nullifier) <= e.day:
            self.flag("payout-without-enrollment", f"payout after the consent ended ({status}) in trial {trial_id}", e)
        key = (trial_id, nullifier, milestone)
        if key in self.payouts:
            self.flag("double-payout", f"milestone {milestone} paid twice in trial {trial_id}", e)
        self.payouts.add(key)
        trial = self.trials.get(trial_id)
        if trial is not None:
            trial.paid += int(a["amount"])
            if trial.paid > trial.funded:
                self.flag("overpaid", f"trial {trial_id} paid {trial.paid}, funded {trial.funded}", e)

    def _grant_use(self, e: AuditEvent, a: dict[str, Any]) -> None:
        grant = self.grants.get(int(a["grantId"]))
        if grant is None:
            self.flag("grant-after-revocation", f"use of unknown grant {a['grantId']}", e)
            return
        if grant["revokedBlock"] >= 0:
            self.flag("grant-after-revocation", f"grant {a['grantId']} used after its revocation by {a['user']}", e)
        elif grant["expiryDay"] <= e.day:
            self.flag("grant-after-revocation", f"grant {a['grantId']} used after it expired by {a['user']}", e)
        else:
            status = self.enrollments.get((grant["trialId"], grant["nullifier"]))
            expiry = self.consent_expiry(grant["trialId"], grant["nullifier"])
            if status != "active" or expiry <= e.day:
                self.flag("grant-after-revocation", f"grant {a['grantId']} used after the consent ended", e)


@rpc_boundary
def audit(
    w3: Web3,
    *,
    registry: str | None = None,
    directory: str | None = None,
    governor: str | None = None,
    timelock: str | None = None,
    enrollments: Sequence[str] = (),
    trial_id: int | None = None,
    from_block: int = 0,
    to_block: int | None = None,
) -> AuditReport:
    """Rebuild and check the history (see the module docstring). ``enrollments`` are per-trial
    CohortEnrollment contracts (each one's kind is checked on the chain). ``trial_id``
    keeps that registry trial's events and the registry-wide ones (roots, publishers, governance) in the printed
    history; the invariants are always checked over everything. Raises :class:`AuditError` when neither a
    registry nor an enrollment contract is given, and when ``registry`` has no TrialRegistry events.
    Cost: one eth_getLogs per contract, one eth_getBlock per block and one eth_getTransaction per transaction
    with events."""
    from zkhealth.chain.views import cohort_contract_kind

    if registry is None and not enrollments:
        raise AuditError("nothing to audit: give the registry or per-trial enrollment contracts")
    contracts: dict[str, str] = {}
    if registry is not None:
        contracts["TrialRegistry"] = to_checksum_address(registry)
    if directory is not None:
        contracts["TrustDirectory"] = to_checksum_address(directory)
    if governor is not None:
        contracts["ZkHealthGovernor"] = to_checksum_address(governor)
    if timelock is not None:
        contracts["ZkHealthTimelock"] = to_checksum_address(timelock)
    sources = list(contracts.items())
    for address in enrollments:
        kind = cohort_contract_kind(w3, address)
        contracts[f"{kind}@{to_checksum_address(address)}"] = to_checksum_address(address)
        sources.append((kind, to_checksum_address(address)))
    events = _collect(w3, sources, from_block, "latest" if to_block is None else to_block)
    if registry is not None and not any(e.contract == "TrialRegistry" for e in events):
        raise AuditError(f"no TrialRegistry events at {registry}: is it the registry's address?")

    registry_contract = None if registry is None else w3.eth.contract(
        address=to_checksum_address(registry), abi=load_artifact("TrialRegistry")["abi"]
    )

    def expiry(trial: int, nullifier: int) -> int:
        if registry_contract is None:
            raise AuditError("a registry event without a registry")
        return int(registry_contract.functions.enrollment(trial, nullifier).call()[3])

    replay = _Replay(to_checksum_address(timelock) if timelock else None, expiry)
    for event in events:
        replay.apply(event)
    shown: Sequence[AuditEvent] = events
    if trial_id is not None:
        shown = [e for e in events if e.trial_id in (None, trial_id) and e.contract not in _COHORT_CONTRACTS]
    return AuditReport(tuple(shown), tuple(replay.findings), contracts)
