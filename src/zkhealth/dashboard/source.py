"""Where the dashboard reads from: one chain, its trial contracts, and what it knows about their trials.

A :class:`DashboardSource` holds the Web3 connection, the TrialRegistry (every trial in it is shown) and the
per-trial enrollment contracts, the contracts whose events make the audit trail, the :class:`KnownTrial`
records (criteria text, what a verifier learns, verifying key) matched to on-chain trials by scope, and the
optional signer of write actions. It keeps no patient data: everything it shows is public chain state.

Every chain access goes through :meth:`DashboardSource.locked`: the embedded py-evm chain is not thread-safe and
the web server answers requests from a thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from eth_utils.address import to_checksum_address
from web3 import Web3

from zkhealth.chain.audit import AuditReport, audit
from zkhealth.chain.registry import TrialRegistryClient
from zkhealth.chain.views import CohortTrialReader, RegistryTrialReader, TrialOverview, TrialReader
from zkhealth.errors import ChainError

if TYPE_CHECKING:
    from zkhealth.eligibility.spec import TrialSpec
    from zkhealth.eligibility.trial import Trial
    from zkhealth.groth16.keys import VerifyingKey

__all__ = ["DashboardSource", "KnownTrial", "SampleProof", "TrialRef"]

_MAX_SAMPLE_BYTES: Final[int] = 64 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class TrialRef:
    """Names a trial in the dashboard's URLs: a registry trial by id, a per-trial contract by address."""

    kind: str  # "registry" or "contract"
    key: str  # the registry trial id (decimal) or the contract's checksum address

    @property
    def path(self) -> str:
        return f"/trials/{self.kind}/{self.key}"


@dataclass(frozen=True)
class KnownTrial:
    """What the dashboard knows about a trial beyond the chain, matched by its scope: a name, the criteria text,
    what a valid proof shows and what each public signal reveals, and the verifying key (used only when its hash
    equals the contract's ``verifyingKeyHash``)."""

    scope: int
    name: str
    criteria: str
    shows: str
    learns: tuple[tuple[str, str], ...]
    verifying_key: VerifyingKey | None = None

    @classmethod
    def from_trial(cls, trial: Trial, scope: int) -> KnownTrial:
        """A :class:`~zkhealth.eligibility.trial.Trial` (its keys, when it has them)."""
        from zkhealth.errors import EligibilityError

        try:
            vk: VerifyingKey | None = trial.keys.vk
        except EligibilityError:  # a trial without keys: criteria and report only
            vk = None
        shows = trial.verifier_learns_text().split("\n", 1)[0]
        learns = tuple((item.name, item.reveals) for item in trial.verifier_learns())
        return cls(scope, trial.name, trial.text, shows, learns, vk)

    @classmethod
    def from_spec(cls, spec: TrialSpec) -> KnownTrial:
        """A trial file (``trial.json``): its criteria, its scope and, when ``zkhealth setup`` recorded
        keys, its verifying key (read alone, checked against the manifest's pin)."""
        from zkhealth.eligibility.trial import TrialKeys

        known = cls.from_trial(spec.trial(), spec.scope)
        directory = spec.recorded_keys_dir()
        if directory is None:
            return known
        vk = TrialKeys.load_verifying_key(directory)
        return cls(known.scope, known.name, known.criteria, known.shows, known.learns, vk)


@dataclass(frozen=True)
class SampleProof:
    """A proof file the dashboard offers for download on its verify page (the demo's), so a new user can try
    the page. Proofs are public: they go on-chain with the enrollment."""

    name: str
    text: str

    def __post_init__(self) -> None:
        if len(self.text.encode("utf-8")) > _MAX_SAMPLE_BYTES:
            raise ChainError("a sample proof is a proof file, at most 64 KiB")


@dataclass
class DashboardSource:
    """The chain and contracts the dashboard reads (module docstring). ``signer``: the address write actions
    (milestone payouts) are sent from, which the node or a local key must be able to sign for; None disables
    them. ``chain_label`` says where the data comes from, for the page footer."""

    w3: Web3
    registry: TrialRegistryClient | None = None
    enrollments: Sequence[str] = ()
    from_block: int = 0
    directory: str | None = None
    governor: str | None = None
    timelock: str | None = None
    known: Sequence[KnownTrial] = ()
    signer: str | None = None
    chain_label: str = ""
    samples: Sequence[SampleProof] = ()
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cohorts: dict[str, CohortTrialReader] = field(default_factory=dict, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _memo_block: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        self.enrollments = tuple(to_checksum_address(a) for a in self.enrollments)
        if self.signer is not None:
            self.signer = to_checksum_address(self.signer)

    @classmethod
    def connect(
        cls,
        w3: Web3,
        *,
        registry: str | None = None,
        enrollments: Sequence[str] = (),
        from_block: int = 0,
        trial_files: Sequence[Path] = (),
        **options: Any,
    ) -> DashboardSource:
        """A source for addresses on ``w3``: the registry (read from ``from_block``), per-trial contracts, and
        trial files whose criteria and keys are shown for the on-chain trial with the same scope."""
        from zkhealth.eligibility.spec import TrialSpec

        client = None if registry is None else TrialRegistryClient(w3, registry, deployed_block=from_block)
        known = [KnownTrial.from_spec(TrialSpec.load(Path(path))) for path in trial_files]
        return cls(w3, registry=client, enrollments=enrollments, from_block=from_block, known=known, **options)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the chain lock (see the module docstring)."""
        with self._lock:
            yield

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until a new block arrives (chain state, and the chain's time, change only
        with blocks). Call it holding :meth:`locked`. Cost: one ``eth_getBlock`` per call."""
        latest = bytes(self.w3.eth.get_block("latest")["hash"])
        if latest != self._memo_block:
            self._memo = {}
            self._memo_block = latest
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    # ------------------------------------------------------------------ trials

    def _cohort(self, address: str) -> CohortTrialReader:
        if address not in self._cohorts:
            self._cohorts[address] = CohortTrialReader(self.w3, address, from_block=self.from_block)
        return self._cohorts[address]

    def trials(self) -> list[tuple[TrialRef, TrialReader]]:
        """Every trial, registry trials first (read again each time: trials are created while we watch)."""
        found: list[tuple[TrialRef, TrialReader]] = []
        if self.registry is not None:
            found += [(TrialRef("registry", str(r.trial_id)), r) for r in RegistryTrialReader.all(self.registry)]
        found += [(TrialRef("contract", a), self._cohort(a)) for a in self.enrollments]
        return found

    def overviews(self) -> list[tuple[TrialRef, TrialReader, TrialOverview]]:
        """Every trial with its overview (remembered per block, see :meth:`memo`)."""
        return self.memo("overviews", lambda: [(ref, reader, reader.overview()) for ref, reader in self.trials()])

    def trial(self, kind: str, key: str) -> tuple[TrialRef, TrialReader] | None:
        """The trial a URL names, or None when this dashboard does not show it."""
        if kind == "registry" and self.registry is not None and key.isdecimal() and len(key) <= 20:
            trial_id = int(key)
            count = int(self.registry.contract.functions.trialCount().call())
            if 1 <= trial_id <= count:
                return TrialRef("registry", str(trial_id)), RegistryTrialReader(self.registry, trial_id)
        if kind == "contract":
            for address in self.enrollments:
                if address.lower() == key.lower():
                    return TrialRef("contract", address), self._cohort(address)
        return None

    def known_trial(self, scope: int) -> KnownTrial | None:
        """What the dashboard knows about the trial with this scope."""
        for item in self.known:
            if item.scope == scope:
                return item
        return None

    # ------------------------------------------------------------------ audit

    def audit_report(self) -> AuditReport | None:
        """The audit trail of the registry (with the directory, governor and timelock when given) and the
        per-trial contracts, rebuilt once per block. None when there is nothing to audit."""
        if self.registry is None and not self.enrollments:
            return None
        return self.memo("audit", lambda: audit(
            self.w3,
            registry=None if self.registry is None else str(self.registry.address),
            directory=self.directory,
            governor=self.governor,
            timelock=self.timelock,
            enrollments=self.enrollments,
            from_block=self.from_block,
        ))
