"""The trial file, ``trial.json``: what a recruiter publishes and what provers and verifiers agree on.

A :class:`TrialSpec` is the serialisable description of one trial. ``zkhealth trial new`` writes it, patients
prove against it, verifiers check proofs against it, ``zkhealth deploy`` records the contract in it::

    {
      "format": "zkhealth.trial", "version": 2,
      "kind": "dedicated",                         # the circuit: the per-trial (dedicated) eligibility circuit
      "trialId": "NCT05000001",                    # an ASCII id (<= 32 bytes) or 0x + 64 hex digits
      "name": "Adults with type 2 diabetes",
      "criteria": "diagnosis in E11.* and age >= 18",
      "programSha256": "<64 hex digits>",          # pins the compiled program: a hand edit is refused on load
      "policy": {"onePerPerson": false, "openedDay": null, "maxRecordAgeDays": 365},
      "acceptedWindowDays": 1,                     # how old a proof's `today` may be
      "rootGraceSeconds": 86400,                   # how long a superseded trust root stays accepted
      "trust": {"operator": "did:key:z6Mk...",     # the registry operator whose signed roots are trusted
                "roots": "trust.json"},            # where its trust-root file is (relative to this file), or null
      "scope": "<decimal>",                        # what proofs must be made for (see below)
      "keys": null | {"dir": "keys", "verifyingKeySha256": "<64 hex digits>"},     # set by `zkhealth setup`
      "enrollment": null | {"chainId": 31337, "address": "0x...", "rpc": "http://...", "fromBlock": 1}
    }

The file keeps no list of roots: verifiers read the current trust roots from the operator's signed trust-root file
(``trust.roots``, replaced, never accumulated, by ``zkhealth trial roots``) or from the chain. The scope is
:func:`~zkhealth.eligibility.scope.trial_scope` of (chain, enrollment contract, trial id). A trial not (yet)
deployed uses chain 0 and the zero address; deploying replaces the scope with the contract's, so proofs for an
on-chain trial are made after it is deployed. ``keys.dir`` is relative to the trial file's directory. A
version-1 file (the retired schema-1 circuit) is refused with a message to recreate it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import atomic_write
from zkhealth._json import loads_strict, read_limited
from zkhealth.credentials.trust_roots import DEFAULT_GRACE_SECONDS, RootHistory, TrustRootDocument
from zkhealth.credentials.vc import ed25519_from_did_key
from zkhealth.eligibility.program import Policy, compile_program
from zkhealth.eligibility.scope import ZERO_ADDRESS, parse_address, trial_id_bytes, trial_scope
from zkhealth.eligibility.trial import DEDICATED, Trial, TrialKeys
from zkhealth.errors import EligibilityError, EncodingError, VerifyingKeyMismatchError
from zkhealth.field import parse_field_element
from zkhealth.groth16.keys import VerifyingKey

__all__ = ["TRIAL_FORMAT", "TRIAL_KINDS", "Enrollment", "TrialSpec"]

TRIAL_FORMAT: Final[str] = "zkhealth.trial"
#: The circuit kinds a trial file may name.
TRIAL_KINDS: Final[tuple[str, ...]] = (DEDICATED,)
_VERSION: Final[int] = 2
_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "format", "version", "kind", "trialId", "name", "criteria", "programSha256", "policy", "acceptedWindowDays",
        "rootGraceSeconds", "trust", "scope", "keys", "enrollment",
    }
)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_TRIAL_BYTES: Final[int] = 1 << 20


# --------------------------------------------------------------------------- members


def _hex64(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise EncodingError(f"{what} must be 64 lower-case hex digits")
    return value


def _int_member(value: object, what: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EncodingError(f"{what} must be an integer in [{low}, {high}]")
    return value


def _policy_dict(policy: Policy) -> dict[str, Any]:
    return {"onePerPerson": policy.one_per_person, "openedDay": policy.opened_day,
            "maxRecordAgeDays": policy.max_record_age_days}


def _policy_of(obj: object, path: Path) -> Policy:
    if not isinstance(obj, dict) or set(obj) != {"onePerPerson", "openedDay", "maxRecordAgeDays"}:
        raise EncodingError(f"{path}: policy must be {{onePerPerson, openedDay, maxRecordAgeDays}}")
    if not isinstance(obj["onePerPerson"], bool):
        raise EncodingError(f"{path}: policy.onePerPerson must be true or false")
    opened = obj["openedDay"]
    try:
        return Policy(
            max_record_age_days=_int_member(obj["maxRecordAgeDays"], "policy.maxRecordAgeDays", low=0, high=100_000),
            one_per_person=obj["onePerPerson"],
            opened_day=None if opened is None else _int_member(opened, "policy.openedDay", low=1, high=2**32 - 1),
        )
    except EligibilityError as error:
        raise EncodingError(f"{path}: {error}") from None


def _operator(value: object, what: str) -> str | None:
    if value is None:
        return None
    ed25519_from_did_key(value)
    return str(value)


@dataclass(frozen=True)
class Enrollment:
    """Where a trial's CohortEnrollment contract lives."""

    chain_id: int
    address: str
    rpc: str | None
    from_block: int

    def to_dict(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "address": self.address, "rpc": self.rpc, "fromBlock": self.from_block}

    @classmethod
    def from_dict(cls, obj: object) -> Enrollment:
        if not isinstance(obj, dict) or set(obj) != {"chainId", "address", "rpc", "fromBlock"}:
            raise EncodingError("trial file: enrollment must have chainId, address, rpc, fromBlock")
        rpc = obj["rpc"]
        if rpc is not None and not isinstance(rpc, str):
            raise EncodingError("trial file: enrollment.rpc must be a string or null")
        return cls(
            chain_id=_int_member(obj["chainId"], "enrollment.chainId", low=0, high=2**64),
            address=parse_address(obj["address"], what="enrollment.address"),
            rpc=rpc,
            from_block=_int_member(obj["fromBlock"], "enrollment.fromBlock", low=0, high=2**64),
        )


# --------------------------------------------------------------------------- the trial file


@dataclass(frozen=True)
class TrialSpec:
    """``trial.json`` (module docstring), parsed strictly; ``path`` is where it was read from or goes.

    :meth:`load` refuses unknown or missing members, non-canonical numbers, and criteria whose compiled program's
    hash differs from ``programSha256`` (:class:`EncodingError`); invalid criteria raise ``CriteriaSyntaxError``.
    """

    path: Path
    trial_id: str
    name: str
    criteria: str
    program_sha256: str
    policy: Policy
    accepted_window_days: int
    root_grace_seconds: int
    operator: str | None
    roots_file: str | None
    scope: int
    kind: str = DEDICATED
    keys_dir: str | None = None
    vk_sha256: str | None = None
    enrollment: Enrollment | None = None
    _trial: list[Trial] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def new(
        cls,
        path: Path,
        criteria: str,
        *,
        trial_id: str,
        name: str,
        policy: Policy | None = None,
        accepted_window_days: int = 1,
        root_grace_seconds: int = DEFAULT_GRACE_SECONDS,
        operator: str | None = None,
        roots_file: str | None = None,
        scope: int | None = None,
    ) -> TrialSpec:
        """A new, undeployed trial: the criteria are compiled (``CriteriaSyntaxError`` names the clause) and the
        program pinned; the scope defaults to the off-chain scope (chain 0, :data:`ZERO_ADDRESS`)."""
        raw_id = trial_id_bytes(trial_id)
        program = compile_program(criteria, policy)
        if scope is None:
            scope = trial_scope(0, ZERO_ADDRESS, raw_id)
        return cls(
            path=path,
            trial_id=trial_id,
            name=name,
            criteria=criteria,
            program_sha256=program.sha256(),
            policy=program.policy,
            accepted_window_days=accepted_window_days,
            root_grace_seconds=root_grace_seconds,
            operator=_operator(operator, "operator"),
            roots_file=roots_file,
            scope=scope,
        )

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        keys = None
        if self.keys_dir is not None:
            keys = {"dir": self.keys_dir, "verifyingKeySha256": self.vk_sha256}
        return {
            "format": TRIAL_FORMAT,
            "version": _VERSION,
            "kind": self.kind,
            "trialId": self.trial_id,
            "name": self.name,
            "criteria": self.criteria,
            "programSha256": self.program_sha256,
            "policy": _policy_dict(self.policy),
            "acceptedWindowDays": self.accepted_window_days,
            "rootGraceSeconds": self.root_grace_seconds,
            "trust": {"operator": self.operator, "roots": self.roots_file},
            "scope": str(self.scope),
            "keys": keys,
            "enrollment": self.enrollment.to_dict() if self.enrollment is not None else None,
        }

    def save(self) -> None:
        """Write the file to :attr:`path` atomically, as indented UTF-8 JSON."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        atomic_write(self.path, text.encode("utf-8"), mode=0o644)

    @classmethod
    def load(cls, path: Path) -> TrialSpec:
        """Read and check ``path`` (see the class docstring). Cost: reading the file and compiling the criteria."""
        data = read_limited(path, what=str(path), max_bytes=_MAX_TRIAL_BYTES, error=EncodingError)
        return cls.from_dict(loads_strict(data, what=str(path), max_bytes=_MAX_TRIAL_BYTES), path=path)

    @classmethod
    def from_dict(cls, obj: object, *, path: Path) -> TrialSpec:
        """Check a decoded trial file (see the class docstring); ``path`` names it in messages."""
        if isinstance(obj, dict) and obj.get("format") == TRIAL_FORMAT and obj.get("version") == 1:
            raise EncodingError(f"{path}: a version-1 trial file (the retired schema-1 circuit): recreate it with "
                                "`zkhealth trial new` and prove again with version-2 credentials")
        if not isinstance(obj, dict) or set(obj) != _MEMBERS:
            found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise EncodingError(f"{path}: not a trial file (expected members {sorted(_MEMBERS)}, got {found})")
        if obj["format"] != TRIAL_FORMAT or obj["version"] != _VERSION or isinstance(obj["version"], bool):
            raise EncodingError(f"{path}: format must be {TRIAL_FORMAT!r} version {_VERSION}")
        if obj["kind"] not in TRIAL_KINDS:
            raise EncodingError(f"{path}: kind must be one of {', '.join(TRIAL_KINDS)}")
        for member in ("trialId", "name", "criteria"):
            if not isinstance(obj[member], str):
                raise EncodingError(f"{path}: {member} must be a string")
        keys = obj["keys"]
        keys_dir: str | None = None
        vk_sha256: str | None = None
        if keys is not None:
            if not isinstance(keys, dict) or set(keys) != {"dir", "verifyingKeySha256"}:
                raise EncodingError(f"{path}: keys must be null or {{dir, verifyingKeySha256}}")
            if not isinstance(keys["dir"], str) or not keys["dir"]:
                raise EncodingError(f"{path}: keys.dir must be a non-empty string")
            keys_dir = keys["dir"]
            vk_sha256 = _hex64(keys["verifyingKeySha256"], "keys.verifyingKeySha256")
        trust = obj["trust"]
        if not isinstance(trust, dict) or set(trust) != {"operator", "roots"}:
            raise EncodingError(f"{path}: trust must be {{operator, roots}}")
        if trust["roots"] is not None and (not isinstance(trust["roots"], str) or not trust["roots"]):
            raise EncodingError(f"{path}: trust.roots must be a path or null")
        enrollment = Enrollment.from_dict(obj["enrollment"]) if obj["enrollment"] is not None else None
        loaded = cls(
            path=path,
            trial_id=obj["trialId"],
            name=obj["name"],
            criteria=obj["criteria"],
            program_sha256=_hex64(obj["programSha256"], "programSha256"),
            policy=_policy_of(obj["policy"], path),
            accepted_window_days=_int_member(obj["acceptedWindowDays"], "acceptedWindowDays", low=0, high=366),
            root_grace_seconds=_int_member(obj["rootGraceSeconds"], "rootGraceSeconds", low=0, high=2**32 - 1),
            operator=_operator(trust["operator"], "trust.operator"),
            roots_file=trust["roots"],
            scope=parse_field_element(obj["scope"], what="scope"),
            kind=obj["kind"],
            keys_dir=keys_dir,
            vk_sha256=vk_sha256,
            enrollment=enrollment,
        )
        if loaded.trial().program.sha256() != loaded.program_sha256:
            raise EncodingError(f"{path}: the criteria and policy do not match programSha256 (edited by hand?)")
        return loaded

    # ------------------------------------------------------------------ changes

    def with_changes(self, **changes: Any) -> TrialSpec:
        """A copy with ``changes`` (dataclass field names); its :meth:`trial` is built afresh."""
        return replace(self, _trial=[], **changes)

    def with_trust(self, *, operator: str | None, roots_file: str | None) -> TrialSpec:
        """Pin another operator and trust-root file (replacing, not adding to, the previous ones)."""
        return self.with_changes(operator=_operator(operator, "operator"), roots_file=roots_file)

    def with_keys(self, directory: Path, vk_sha256: str) -> TrialSpec:
        """Record a key directory (relative to this file's directory where possible) and its verifying key."""
        return self.with_changes(keys_dir=self._relative(directory), vk_sha256=vk_sha256)

    def with_enrollment(self, enrollment: Enrollment, scope: int) -> TrialSpec:
        """Record a deployed contract and the scope proofs must now be made for."""
        return self.with_changes(enrollment=enrollment, scope=scope)

    def _relative(self, target: Path) -> str:
        try:
            return os.path.relpath(target.resolve(), self.path.resolve().parent)
        except ValueError:  # another drive (Windows)
            return str(target.resolve())

    def relative_path(self, target: Path) -> str:
        """``target`` as this file records paths: relative to its directory where possible."""
        return self._relative(target)

    # ------------------------------------------------------------------ the library objects

    def trial(self) -> Trial:
        """The :class:`~zkhealth.eligibility.trial.Trial` this file describes (built once)."""
        if not self._trial:
            self._trial.append(
                Trial(
                    self.criteria,
                    trial_id=self.trial_id,
                    name=self.name,
                    policy=self.policy,
                    accepted_window_days=self.accepted_window_days,
                    root_grace_seconds=self.root_grace_seconds,
                    scope=self.scope,
                )
            )
        return self._trial[0]

    def _resolve(self, recorded: str) -> Path:
        path = Path(recorded)
        return path if path.is_absolute() else self.path.parent / path

    def recorded_keys_dir(self) -> Path | None:
        """The key directory ``zkhealth setup`` recorded (relative paths resolved against this file's
        directory), or ``None``."""
        return None if self.keys_dir is None else self._resolve(self.keys_dir)

    def recorded_roots_file(self) -> Path | None:
        """The trust-root file this trial reads (resolved against this file's directory), or ``None``."""
        return None if self.roots_file is None else self._resolve(self.roots_file)

    def trust_document(self, path: Path | None = None) -> TrustRootDocument:
        """The operator's trust-root file (``path``, default: :meth:`recorded_roots_file`), its signature checked
        against the pinned operator (:class:`~zkhealth.errors.UntrustedRootError` for another signer)."""
        source = path if path is not None else self.recorded_roots_file()
        if source is None:
            raise EncodingError(f"{self.path} names no trust-root file: pass one (--roots FILE) or read the chain")
        return TrustRootDocument.load(source, operator=self.operator)

    def root_history(self, path: Path | None = None) -> RootHistory:
        """The published roots of :meth:`trust_document` (what :meth:`Trial.verify` checks a proof's root against)."""
        return self.trust_document(path).history

    def load_keys(self, directory: Path) -> TrialKeys:
        """Load the keys in ``directory`` and adopt them into :meth:`trial`.

        Refuses keys made for another program or another circuit, and keys whose verifying key is not the one
        this file pins (:class:`VerifyingKeyMismatchError`). Cost: reading the proving key (about 0.6 s) and
        compiling the circuit (about 1-3 s).
        """
        keys = self.trial().use_keys(TrialKeys.load(directory))
        if self.vk_sha256 is not None and keys.vk_sha256 != self.vk_sha256:
            raise VerifyingKeyMismatchError(
                f"the keys in {directory} are not the ones {self.path} pins (verifying key sha256 differs)"
            )
        return keys

    def load_verifying_key(self, directory: Path) -> VerifyingKey:
        """Load only the verifying key in ``directory`` and adopt it into :meth:`trial`, for verifying.

        When this file pins the verifying key (``zkhealth setup`` records the pin after checking the keys
        against the compiled circuit), the pin is the check: the key must hash to it and to the directory's
        manifest, whose program hash must be this file's. No proving key is read and no circuit compiled:
        a few kilobytes and about 50 ms. Without a pin, the full :meth:`load_keys` checks run.
        """
        if self.vk_sha256 is None:
            return self.load_keys(directory).vk
        vk, program_sha256 = TrialKeys.load_verifying_key_and_criteria(directory)
        if vk.sha256() != self.vk_sha256:
            raise VerifyingKeyMismatchError(
                f"the verifying key in {directory} is not the one {self.path} pins (sha256 differs)"
            )
        if program_sha256 != self.program_sha256:
            raise VerifyingKeyMismatchError(f"the keys in {directory} were made for another criteria program")
        self.trial().use_verifying_key(vk)
        return vk
