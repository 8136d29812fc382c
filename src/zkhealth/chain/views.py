"""Read-only views of on-chain trials, for dashboards and reports: nothing here sends a transaction.

One reader per kind of trial contract, with the same questions answered the same way:

* :class:`RegistryTrialReader`: one trial of a TrialRegistry (the universal circuit's registry);
* :class:`CohortTrialReader`: a per-trial CohortEnrollment contract (the dedicated circuit's five public
  signals, the trust root); :func:`cohort_contract_kind` checks that an address holds one.

Each reader gives the trial's :meth:`~TrialReader.overview` (state, window, capacity, how many ever enrolled and
how many consents are active now), its :meth:`~TrialReader.enrollments` over time (one point per ``Enrolled``
event, with the block's time), its :meth:`~TrialReader.members` (each enrollment with its consent's status) and
:meth:`~TrialReader.consents` by state, the :meth:`~TrialReader.roots` it accepts with their freshness, and
(registry trials) its reward :meth:`~TrialReader.pool`.

Times are the chain's (the latest block's timestamp), not the reader's clock: a development chain whose clock was
moved forward is read as it stands. Cost: a few ``eth_call`` and ``eth_getLogs`` per question, plus one
``eth_getBlock`` per block holding an event that needs a time, and (consents) one ``eth_call`` per enrollment.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from zkhealth.chain import client
from zkhealth.chain.build import load_artifact
from zkhealth.chain.registry import CohortMember, ConsentStatus, TrialRegistryClient
from zkhealth.errors import ChainError

__all__ = [
    "COHORT_KINDS",
    "CohortTrialReader",
    "EnrollmentPoint",
    "PoolView",
    "RegistryTrialReader",
    "RootFreshness",
    "RootState",
    "TrialOverview",
    "TrialReader",
    "TrialState",
    "chain_time",
    "cohort_contract_kind",
    "external_id_label",
]

#: The per-trial enrollment contracts a :class:`CohortTrialReader` reads, by artifact name.
COHORT_KINDS: Final[tuple[str, ...]] = ("CohortEnrollment",)
_TRIAL_ACTIVE, _TRIAL_CLOSED = 1, 2
_FLAG_ONE_PER_PERSON: Final[int] = 4
_COHORT_ENROLLED, _COHORT_WITHDRAWN = 1, 2


class TrialState(enum.Enum):
    """Where a trial stands at the chain's current time."""

    UPCOMING = "upcoming"  # its enrollment window has not opened yet
    OPEN = "open"  # enrolling
    FULL = "full"  # window open, every seat taken
    ENDED = "ended"  # the window is over
    CLOSED = "closed"  # closed by its owner (registry trials)


class RootState(enum.Enum):
    """Whether proofs made against a root are still accepted."""

    CURRENT = "current"
    GRACE = "grace"  # superseded, still accepted (its grace period)
    STALE = "stale"  # no longer accepted


@dataclass(frozen=True)
class TrialOverview:
    """One trial at a glance. ``enrolled`` counts every enrollment ever made (``Enrolled`` events); ``active``
    the consents active now; ``seats_taken`` what the contract counts against ``capacity`` (active consents plus
    expired ones nobody has marked yet). ``trial_id`` is the registry's id (None for a per-trial contract);
    ``external_id`` the trial's 32-byte id (an NCT number, ASCII, zero-padded), ``label`` its readable form."""

    kind: str
    contract: str
    trial_id: int | None
    external_id: bytes
    label: str
    state: TrialState
    window: tuple[int, int]
    capacity: int
    enrolled: int
    active: int
    seats_taken: int
    owner: str
    scope: int
    program_hash: int | None = None
    consent_hash: bytes | None = None
    root_grace_seconds: int | None = None
    one_per_person: bool | None = None


@dataclass(frozen=True)
class EnrollmentPoint:
    """One ``Enrolled`` event: where and when, and the nullifier it used."""

    block_number: int
    timestamp: int
    nullifier: int
    transaction_hash: str


@dataclass(frozen=True)
class RootFreshness:
    """A trust root and its freshness. ``accepted_until`` is the last second a superseded root is accepted
    (None for the current root). ``published_at`` is None when the publication's block is not known."""

    roots: tuple[int, ...]
    published_at: int | None
    superseded_at: int | None
    accepted_until: int | None
    state: RootState


@dataclass(frozen=True)
class PoolView:
    """A registry trial's reward pool: the ERC-20 token, what is left and what was paid, and the terms."""

    token: str
    symbol: str
    decimals: int
    balance: int
    paid: int
    enrollment_reward: int
    milestone_rewards: tuple[int, ...]
    sponsor: str


class TrialReader(Protocol):
    """What every reader answers (module docstring)."""

    @property
    def contract_address(self) -> str: ...

    def overview(self) -> TrialOverview: ...

    def enrollments(self) -> list[EnrollmentPoint]: ...

    def consents(self) -> dict[ConsentStatus, int]: ...

    def members(self) -> list[CohortMember]: ...

    def roots(self) -> list[RootFreshness]: ...

    def pool(self) -> PoolView | None: ...


def chain_time(w3: Web3) -> int:
    """The latest block's timestamp (unix seconds)."""
    return int(w3.eth.get_block("latest")["timestamp"])


def external_id_label(external_id: bytes) -> str:
    """A readable form of a 32-byte trial id: the ASCII text of a zero-padded printable id (``NCT05000001``),
    else ``0x`` and its hex digits."""
    text = external_id.rstrip(b"\0")
    if text and all(0x20 < byte < 0x7F for byte in text):
        return text.decode("ascii")
    return "0x" + external_id.hex()


def _state(now: int, window: tuple[int, int], seats_taken: int, capacity: int, closed: bool) -> TrialState:
    if closed:
        return TrialState.CLOSED
    if now < window[0]:
        return TrialState.UPCOMING
    if now >= window[1]:
        return TrialState.ENDED
    if seats_taken >= capacity:
        return TrialState.FULL
    return TrialState.OPEN


class _Blocks:
    """Block timestamps, each read once."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._times: dict[int, int] = {}

    def time(self, number: int) -> int:
        if number not in self._times:
            self._times[number] = int(self._w3.eth.get_block(number)["timestamp"])
        return self._times[number]


def _tx_hash(event: Any) -> str:
    value = event["transactionHash"]
    return "0x" + (bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value).removeprefix("0x"))


def _points(w3: Web3, events: Sequence[Any]) -> list[EnrollmentPoint]:
    blocks = _Blocks(w3)
    points = [
        EnrollmentPoint(int(e["blockNumber"]), blocks.time(int(e["blockNumber"])), int(e["args"]["nullifier"]),
                        _tx_hash(e))
        for e in events
    ]
    return sorted(points, key=lambda p: (p.block_number, p.transaction_hash))


def _trust_roots(w3: Web3, contract: Contract, from_block: int, grace: int) -> list[RootFreshness]:
    """Trust roots of a TrustRoots contract (the registry, a CohortEnrollment), newest first."""
    now = chain_time(w3)
    blocks = _Blocks(w3)
    seen: list[RootFreshness] = []
    current = int(contract.functions.currentTrustRoot().call())
    for event in reversed(contract.events.TrustRootUpdated().get_logs(from_block=from_block)):
        root = int(event["args"]["root"])
        if any(item.roots == (root,) for item in seen):
            continue
        published, superseded = (int(v) for v in contract.functions.trustRootState(root).call())
        published = published or blocks.time(int(event["blockNumber"]))
        if root == current:
            seen.append(RootFreshness((root,), published, None, None, RootState.CURRENT))
            continue
        until = superseded + grace
        state = RootState.GRACE if now <= until else RootState.STALE
        seen.append(RootFreshness((root,), published, superseded, until, state))
    return seen


# --------------------------------------------------------------------------- registry trials


class RegistryTrialReader:
    """One trial of a TrialRegistry (``registry.trial_count()`` lists them: ids 1..count)."""

    def __init__(self, registry: TrialRegistryClient, trial_id: int) -> None:
        if isinstance(trial_id, bool) or not isinstance(trial_id, int) or trial_id < 1:
            raise ChainError("a registry trial id is a positive int")
        self.registry = registry
        self.trial_id = trial_id

    @classmethod
    def all(cls, registry: TrialRegistryClient) -> list[RegistryTrialReader]:
        """A reader for every trial of ``registry``, in creation order."""
        count = int(registry.contract.functions.trialCount().call())
        return [cls(registry, trial_id) for trial_id in range(1, count + 1)]

    @property
    def contract_address(self) -> str:
        return str(self.registry.address)

    def _created(self) -> Any:
        events = self.registry.contract.events.TrialCreated().get_logs(
            argument_filters={"trialId": self.trial_id}, from_block=self.registry.deployed_block
        )
        if not events:
            raise ChainError(f"the registry has no trial {self.trial_id}")
        return events[0]

    def overview(self) -> TrialOverview:
        functions = self.registry.contract.functions
        (start, end, capacity, seats, grace, _required, _offered, status, flags) = client.call_or_raise(
            lambda: functions.trial(self.trial_id).call()
        )
        if int(status) not in (_TRIAL_ACTIVE, _TRIAL_CLOSED):
            raise ChainError(f"the registry has no trial {self.trial_id}")
        info = functions.trialInfo(self.trial_id).call()
        program_hash, scope, _original = self.registry.trial_constants(self.trial_id)
        external = bytes(self._created()["args"]["externalId"])
        consents = self.consents()
        window = (int(start), int(end))
        now = chain_time(self.registry.w3)
        return TrialOverview(
            kind="TrialRegistry",
            contract=self.contract_address,
            trial_id=self.trial_id,
            external_id=external,
            label=external_id_label(external),
            state=_state(now, window, int(seats), int(capacity), int(status) == _TRIAL_CLOSED),
            window=window,
            capacity=int(capacity),
            enrolled=sum(consents.values()),
            active=consents[ConsentStatus.ACTIVE],
            seats_taken=int(seats),
            owner=str(info[0]),
            scope=scope,
            program_hash=program_hash,
            consent_hash=self.registry.consent_document(self.trial_id),
            root_grace_seconds=int(grace),
            one_per_person=bool(int(flags) & _FLAG_ONE_PER_PERSON),
        )

    def enrollments(self) -> list[EnrollmentPoint]:
        events = self.registry.contract.events.Enrolled().get_logs(
            argument_filters={"trialId": self.trial_id}, from_block=self.registry.deployed_block
        )
        return _points(self.registry.w3, events)

    def members(self) -> list[CohortMember]:
        """Every enrollment with its consent's status (:meth:`TrialRegistryClient.cohort`)."""
        return self.registry.cohort(self.trial_id, active_only=False)

    def consents(self) -> dict[ConsentStatus, int]:
        counts = dict.fromkeys(ConsentStatus, 0)
        for member in self.members():
            counts[member.status] += 1
        return counts

    def roots(self) -> list[RootFreshness]:
        grace = int(self.registry.contract.functions.trial(self.trial_id).call()[4])
        return _trust_roots(self.registry.w3, self.registry.contract, self.registry.deployed_block, grace)

    def pool(self) -> PoolView | None:
        info = self.registry.contract.functions.trialInfo(self.trial_id).call()
        if int(str(info[2]), 16) == 0:
            return None
        token = self.registry.token(self.trial_id)
        milestones = self.registry.contract.functions.milestoneRewards(self.trial_id).call()
        return PoolView(
            token=str(token.address),
            symbol=str(token.functions.symbol().call()),
            decimals=int(token.functions.decimals().call()),
            balance=int(info[4]),
            paid=int(info[5]),
            enrollment_reward=int(info[3]),
            milestone_rewards=tuple(int(m) for m in milestones),
            sponsor=str(info[1]),
        )


# --------------------------------------------------------------------------- per-trial contracts


def cohort_contract_kind(w3: Web3, address: str) -> str:
    """``"CohortEnrollment"`` for a CohortEnrollment contract at ``address`` (it answers ``rootGraceSeconds`` and
    ``scope``). Raises :class:`ChainError` for anything else."""
    checksum = to_checksum_address(address)
    if not w3.eth.get_code(checksum):
        raise ChainError(f"no contract at {checksum}")
    probes = (("CohortEnrollment", "rootGraceSeconds"),)
    for kind, probe in probes:
        contract = w3.eth.contract(address=checksum, abi=load_artifact(kind)["abi"])
        try:
            getattr(contract.functions, probe)().call()
            contract.functions.scope().call()
        except Exception:  # noqa: BLE001 - any failure means "not this kind"
            continue
        return kind
    raise ChainError(f"{checksum} is not a CohortEnrollment contract")


class CohortTrialReader:
    """A per-trial CohortEnrollment contract. ``kind`` defaults to :func:`cohort_contract_kind`; ``from_block``
    is where its logs start (its deployment block)."""

    def __init__(self, w3: Web3, address: str, *, kind: str | None = None, from_block: int = 0) -> None:
        chosen = cohort_contract_kind(w3, address) if kind is None else kind
        if chosen not in COHORT_KINDS:
            raise ChainError(f"unknown per-trial contract kind {chosen!r}")
        self.w3 = w3
        self.kind = chosen
        self.from_block = from_block
        self.contract: Contract = w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact(chosen)["abi"]
        )

    @property
    def contract_address(self) -> str:
        return str(self.contract.address)

    def members(self) -> list[CohortMember]:
        """Each nullifier that ever enrolled (its latest enrollment) and its consent now: active, or withdrawn
        (a withdrawn nullifier the owner reopened and that has not enrolled again counts as withdrawn). These
        contracts record no consent terms: ``purposes`` and ``consent_expiry_day`` are 0."""
        latest = int(self.w3.eth.block_number)
        withdrawn = {
            int(e["args"]["nullifier"]): int(e["args"]["day"])
            for e in self.contract.events.Withdrawn().get_logs(from_block=self.from_block)
        }
        found: dict[int, CohortMember] = {}
        for event in self.contract.events.Enrolled().get_logs(from_block=self.from_block):
            nullifier = int(event["args"]["nullifier"])
            status = int(self.contract.functions.enrollment(nullifier).call()[0])
            active = status == _COHORT_ENROLLED
            reason = None if active else (
                f"withdrawn on day {withdrawn[nullifier]}" if nullifier in withdrawn else "withdrawn"
            )
            found[nullifier] = CohortMember(
                nullifier=nullifier,
                recipient=str(event["args"]["recipient"]),
                enrolled_block=int(event["blockNumber"]),
                purposes=0,
                consent_expiry_day=0,
                status=ConsentStatus.ACTIVE if active else ConsentStatus.WITHDRAWN,
                ended_reason=reason,
                confirmations=max(0, latest - int(event["blockNumber"]) + 1),
            )
        return list(found.values())

    def overview(self) -> TrialOverview:
        functions = self.contract.functions
        start, end = (int(v) for v in functions.window().call())
        capacity = int(functions.capacity().call())
        seats = int(functions.enrolledCount().call())
        external = bytes(functions.trialId().call())
        enrolled = len(self.contract.events.Enrolled().get_logs(from_block=self.from_block))
        grace = int(functions.rootGraceSeconds().call())
        window = (start, end)
        return TrialOverview(
            kind=self.kind,
            contract=self.contract_address,
            trial_id=None,
            external_id=external,
            label=external_id_label(external),
            state=_state(chain_time(self.w3), window, seats, capacity, False),
            window=window,
            capacity=capacity,
            enrolled=enrolled,
            active=seats,
            seats_taken=seats,
            owner=str(functions.owner().call()),
            scope=int(functions.scope().call()),
            root_grace_seconds=grace,
        )

    def enrollments(self) -> list[EnrollmentPoint]:
        return _points(self.w3, self.contract.events.Enrolled().get_logs(from_block=self.from_block))

    def consents(self) -> dict[ConsentStatus, int]:
        counts = dict.fromkeys(ConsentStatus, 0)
        for member in self.members():
            counts[member.status] += 1
        return counts

    def roots(self) -> list[RootFreshness]:
        grace = int(self.contract.functions.rootGraceSeconds().call())
        return _trust_roots(self.w3, self.contract, self.from_block, grace)

    def pool(self) -> PoolView | None:
        return None
