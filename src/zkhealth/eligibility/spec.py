"""The trial file, ``trial.json``: what a recruiter publishes and what provers and verifiers agree on.

A :class:`TrialSpec` is the serialisable description of one trial. ``zkhealth trial new`` writes it, patients
prove against it, verifiers check proofs against it, ``zkhealth deploy`` records the contract in it::

    {
      "format": "zkhealth.trial", "version": 1,
      "trialId": "NCT05000001",                    # an ASCII id (<= 32 bytes) or 0x + 64 hex digits
      "name": "Adults with type 2 diabetes",
      "criteria": "diagnosis in E11.* and age >= 18",
      "criteriaSha256": "<64 hex digits>",         # pins the text: a hand edit is refused on load
      "acceptedWindowDays": 1,                     # how old a proof's `today` may be
      "trustedIssuerRoots": ["<decimal>", ...],    # trusted-issuer registry roots the verifier accepts
      "revocationRoots": ["<decimal>", ...],       # revocation-tree roots the verifier accepts
      "scope": "<decimal>",                        # what proofs must be made for (see below)
      "keys": null | {"dir": "keys", "verifyingKeySha256": "<64 hex digits>"},     # set by `zkhealth setup`
      "enrollment": null | {"chainId": 31337, "address": "0x...", "rpc": "http://...", "fromBlock": 1}
    }

The scope is :func:`~zkhealth.eligibility.scope.trial_scope` of (chain, enrollment contract, trial id). A trial
not (yet) deployed uses chain 0 and the zero address; deploying replaces the scope with the contract's, so
proofs for an on-chain trial are made after it is deployed. ``keys.dir`` is relative to the trial file's
directory.
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
from zkhealth.eligibility.resolve import Criteria
from zkhealth.eligibility.scope import ZERO_ADDRESS, parse_address, trial_id_bytes, trial_scope
from zkhealth.eligibility.trial import Trial, TrialKeys
from zkhealth.errors import EncodingError, VerifyingKeyMismatchError
from zkhealth.field import parse_field_element
from zkhealth.groth16.keys import VerifyingKey

__all__ = ["TRIAL_FORMAT", "Enrollment", "TrialSpec"]

TRIAL_FORMAT: Final[str] = "zkhealth.trial"
_VERSION: Final[int] = 1
_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "format", "version", "trialId", "name", "criteria", "criteriaSha256", "acceptedWindowDays",
        "trustedIssuerRoots", "revocationRoots", "scope", "keys", "enrollment",
    }
)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_TRIAL_BYTES: Final[int] = 1 << 20


# --------------------------------------------------------------------------- members


def _hex64(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise EncodingError(f"{what} must be 64 lower-case hex digits")
    return value


def _roots(value: object, what: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise EncodingError(f"{what} must be a list of decimal strings")
    return tuple(parse_field_element(item, what=what) for item in value)


def _int_member(value: object, what: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EncodingError(f"{what} must be an integer in [{low}, {high}]")
    return value


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

    :meth:`load` refuses unknown or missing members, non-canonical numbers, and criteria whose hash differs from
    ``criteriaSha256`` (:class:`EncodingError`); invalid criteria raise ``CriteriaSyntaxError``.
    """

    path: Path
    trial_id: str
    name: str
    criteria: str
    criteria_sha256: str
    accepted_window_days: int
    trusted_issuer_roots: tuple[int, ...]
    revocation_roots: tuple[int, ...]
    scope: int
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
        accepted_window_days: int,
        trusted_issuer_roots: tuple[int, ...],
        revocation_roots: tuple[int, ...],
        scope: int | None = None,
    ) -> TrialSpec:
        """A new, undeployed trial: the criteria are parsed (``CriteriaSyntaxError`` names the clause) and
        pinned; the scope defaults to the off-chain scope (chain 0, :data:`ZERO_ADDRESS`)."""
        raw_id = trial_id_bytes(trial_id)
        parsed = Criteria(criteria)
        if scope is None:
            scope = trial_scope(0, ZERO_ADDRESS, raw_id)
        return cls(
            path=path,
            trial_id=trial_id,
            name=name,
            criteria=parsed.text,
            criteria_sha256=parsed.sha256,
            accepted_window_days=accepted_window_days,
            trusted_issuer_roots=tuple(dict.fromkeys(trusted_issuer_roots)),
            revocation_roots=tuple(dict.fromkeys(revocation_roots)),
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
            "trialId": self.trial_id,
            "name": self.name,
            "criteria": self.criteria,
            "criteriaSha256": self.criteria_sha256,
            "acceptedWindowDays": self.accepted_window_days,
            "trustedIssuerRoots": [str(v) for v in self.trusted_issuer_roots],
            "revocationRoots": [str(v) for v in self.revocation_roots],
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
        """Read and check ``path`` (see the class docstring). Cost: reading the file and parsing the criteria."""
        data = read_limited(path, what=str(path), max_bytes=_MAX_TRIAL_BYTES, error=EncodingError)
        return cls.from_dict(loads_strict(data, what=str(path), max_bytes=_MAX_TRIAL_BYTES), path=path)

    @classmethod
    def from_dict(cls, obj: object, *, path: Path) -> TrialSpec:
        """Check a decoded trial file (see the class docstring); ``path`` names it in messages."""
        if not isinstance(obj, dict) or set(obj) != _MEMBERS:
            found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise EncodingError(f"{path}: not a trial file (expected members {sorted(_MEMBERS)}, got {found})")
        if obj["format"] != TRIAL_FORMAT or obj["version"] != _VERSION or isinstance(obj["version"], bool):
            raise EncodingError(f"{path}: format must be {TRIAL_FORMAT!r} version {_VERSION}")
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
        enrollment = Enrollment.from_dict(obj["enrollment"]) if obj["enrollment"] is not None else None
        loaded = cls(
            path=path,
            trial_id=obj["trialId"],
            name=obj["name"],
            criteria=obj["criteria"],
            criteria_sha256=_hex64(obj["criteriaSha256"], "criteriaSha256"),
            accepted_window_days=_int_member(obj["acceptedWindowDays"], "acceptedWindowDays", low=0, high=366),
            trusted_issuer_roots=_roots(obj["trustedIssuerRoots"], "trustedIssuerRoots"),
            revocation_roots=_roots(obj["revocationRoots"], "revocationRoots"),
            scope=parse_field_element(obj["scope"], what="scope"),
            keys_dir=keys_dir,
            vk_sha256=vk_sha256,
            enrollment=enrollment,
        )
        if loaded.trial().criteria.sha256 != loaded.criteria_sha256:
            raise EncodingError(f"{path}: the criteria text does not match criteriaSha256 (edited by hand?)")
        return loaded

    # ------------------------------------------------------------------ changes

    def with_changes(self, **changes: Any) -> TrialSpec:
        """A copy with ``changes`` (dataclass field names); its :meth:`trial` is built afresh."""
        return replace(self, _trial=[], **changes)

    def with_roots(
        self, trusted_issuer_roots: list[int], revocation_roots: list[int], *, replace_roots: bool = False
    ) -> TrialSpec:
        """Add roots of each kind given (or, with ``replace_roots``, make them the only ones of their kind)."""

        def merge(current: tuple[int, ...], given: list[int]) -> tuple[int, ...]:
            if not given:
                return current
            return tuple(dict.fromkeys(given if replace_roots else [*current, *given]))

        return self.with_changes(
            trusted_issuer_roots=merge(self.trusted_issuer_roots, trusted_issuer_roots),
            revocation_roots=merge(self.revocation_roots, revocation_roots),
        )

    def with_keys(self, directory: Path, vk_sha256: str) -> TrialSpec:
        """Record a key directory (relative to this file's directory where possible) and its verifying key."""
        try:
            recorded = os.path.relpath(directory.resolve(), self.path.resolve().parent)
        except ValueError:  # another drive (Windows)
            recorded = str(directory.resolve())
        return self.with_changes(keys_dir=recorded, vk_sha256=vk_sha256)

    def with_enrollment(self, enrollment: Enrollment, scope: int) -> TrialSpec:
        """Record a deployed contract and the scope proofs must now be made for."""
        return self.with_changes(enrollment=enrollment, scope=scope)

    # ------------------------------------------------------------------ the library objects

    def trial(self) -> Trial:
        """The :class:`~zkhealth.eligibility.trial.Trial` this file describes (built once)."""
        if not self._trial:
            self._trial.append(
                Trial(
                    self.criteria,
                    trial_id=self.trial_id,
                    name=self.name,
                    accepted_window_days=self.accepted_window_days,
                    trusted_issuer_roots=set(self.trusted_issuer_roots),
                    revocation_roots=set(self.revocation_roots),
                    scope=self.scope,
                )
            )
        return self._trial[0]

    def recorded_keys_dir(self) -> Path | None:
        """The key directory ``zkhealth setup`` recorded (relative paths resolved against this file's
        directory), or ``None``."""
        if self.keys_dir is None:
            return None
        recorded = Path(self.keys_dir)
        return recorded if recorded.is_absolute() else self.path.parent / recorded

    def load_keys(self, directory: Path) -> TrialKeys:
        """Load the keys in ``directory`` and adopt them into :meth:`trial`.

        Refuses keys made for other criteria or another circuit, and keys whose verifying key is not the one
        this file pins (:class:`VerifyingKeyMismatchError`). Cost: reading the proving key (about 0.6 s) and
        compiling the circuit (about 1 s).
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
        manifest, whose criteria hash must be this file's. No proving key is read and no circuit compiled:
        a few kilobytes and about 50 ms. Without a pin, the full :meth:`load_keys` checks run.
        """
        if self.vk_sha256 is None:
            return self.load_keys(directory).vk
        vk, criteria_sha256 = TrialKeys.load_verifying_key_and_criteria(directory)
        if vk.sha256() != self.vk_sha256:
            raise VerifyingKeyMismatchError(
                f"the verifying key in {directory} is not the one {self.path} pins (sha256 differs)"
            )
        if criteria_sha256 != self.criteria_sha256:
            raise VerifyingKeyMismatchError(f"the keys in {directory} were made for other criteria")
        self.trial().use_verifying_key(vk)
        return vk
