"""The verify page's judgement of an uploaded proof file: valid, refused or invalid, with the decoded reason.

Steps, each recorded for the page:

1. **parse**: the strict JSON loader (size, depth, duplicate keys, no floats) and the proof format's own strict
   parser: an eligibility proof of the dedicated circuit (five signals);
2. **trial**: the on-chain trial whose scope is the proof's (registry trials and per-trial contracts);
3. **pairing**: the Groth16 check in Python, when the dashboard holds the trial's verifying key and that key's
   hash equals the contract's ``verifyingKeyHash`` (so Python and the contract check the same key);
4. **contract**: the contract's own ``enroll`` simulated with ``eth_call``, sent by the proof's recipient
   (every on-chain check, in the contract's order; nothing is sent).

The verdict is **valid** when the contract would enroll the proof now; **refused** when the proof verifies but
the contract refuses it now for a reason that is not the proof's (already enrolled, the window closed, the day
passed, the cohort is full, a stale root); **invalid** otherwise (malformed, for no trial here, the pairing
fails, or the contract finds the proof itself wrong). Nothing is kept: the upload is judged and dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final

from zkhealth._json import loads_strict
from zkhealth.chain import enrollment
from zkhealth.chain.solidity import key_hash
from zkhealth.chain.views import CohortTrialReader, RegistryTrialReader, TrialReader
from zkhealth.dashboard.source import DashboardSource, TrialRef
from zkhealth.errors import ContractRevertError, MalformedProofError, ZkHealthError
from zkhealth.groth16.keys import Proof

__all__ = ["MAX_PROOF_BYTES", "Step", "Verdict", "VerdictKind", "check_proof"]

#: The largest proof file accepted (a proof file is about 1.5 kB).
MAX_PROOF_BYTES: Final[int] = 64 * 1024

#: Contract errors that say the proof is fine but the contract will not take it now.
_STATE_REFUSALS: Final[dict[str, str]] = {
    "NullifierUsed": "this patient is already enrolled in this trial (the proof's nullifier is used)",
    "WindowClosed": "the trial's enrollment window is closed",
    "CohortFull": "the cohort is full",
    "TrialIsClosed": "the trial was closed by its owner",
    "StaleProof": "the proof's day is neither the chain's today nor yesterday: the patient must prove again",
    "StaleRoot": "the proof's trust root was superseded longer ago than the trial's grace period",
    "UnknownRootPair": "the proof's roots are no longer among the contract's recent root epochs",
    "UnknownIssuerRoot": "the proof's trusted-issuer root is not one the contract accepts now",
    "UnknownRevocationRoot": "the proof's revocation root is not one the contract accepts now",
    "PoolUnderfunded": "the trial's reward pool cannot pay the enrollment reward",
}
#: Contract errors that say the proof itself is wrong.
_PROOF_FAULTS: Final[dict[str, str]] = {
    "InvalidProof": "the Groth16 pairing check failed: the proof or one of its public signals was altered",
    "ProofNotCanonical": "a proof coordinate is not in canonical form",
    "InputNotInField": "a public signal is not below the field modulus r",
    "WrongScope": "the proof was made for another trial, contract or chain",
    "WrongRecipient": "the proof is bound to another address than the one sending it",
    "UnknownRoot": "the proof's trust root was never published to this contract",
    "WrongRootPoint": "the proof's trust root does not match its curve point",
}


class VerdictKind(enum.Enum):
    VALID = "valid"
    REFUSED = "refused"
    INVALID = "invalid"


@dataclass(frozen=True)
class Step:
    """One check: its name, whether it passed (None: not run) and what it found."""

    name: str
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class Verdict:
    """What the verify page shows (module docstring)."""

    kind: VerdictKind
    reason: str
    error: str | None = None
    proof_format: str | None = None
    signals: tuple[tuple[str, str], ...] = ()
    trial: TrialRef | None = None
    trial_label: str | None = None
    steps: tuple[Step, ...] = field(default=())


@dataclass(frozen=True)
class _Parsed:
    proof_format: str
    names: tuple[str, ...]
    proof: Proof
    public: tuple[int, ...]
    scope_index: int
    kinds: tuple[str, ...]  # the contracts that take this layout


def _parse(data: bytes) -> _Parsed:
    from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS
    from zkhealth.eligibility.proof import PROOF_FORMAT, PROOF_VERSION, EligibilityProof

    obj = loads_strict(data, what="proof file", max_bytes=MAX_PROOF_BYTES, integers_only=True,
                       error=MalformedProofError)
    if not isinstance(obj, dict) or obj.get("format") != PROOF_FORMAT:
        raise MalformedProofError(f"not an eligibility proof file (its format must be {PROOF_FORMAT!r})")
    version = obj.get("version")
    if version == PROOF_VERSION and not isinstance(version, bool):
        proof = EligibilityProof.from_dict(obj)
        return _Parsed("eligibility proof (dedicated circuit)", PUBLIC_SIGNALS, proof.proof, proof.public, 1,
                       ("CohortEnrollment",))
    raise MalformedProofError(f"eligibility proof: unsupported version {version!r} (version 1 proofs are retired: "
                              "prove again with a version-2 credential)")


def _explain(error: BaseException) -> str:
    name = getattr(error, "error_name", None)
    if isinstance(name, str):
        known = _STATE_REFUSALS.get(name) or _PROOF_FAULTS.get(name)
        if known:
            return f"{known} ({name})"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _error_name(error: BaseException) -> str:
    name = getattr(error, "error_name", None)
    return name if isinstance(name, str) else type(error).__name__


def _find_trial(source: DashboardSource, parsed: _Parsed) -> tuple[TrialRef, TrialReader, Any] | None:
    scope = parsed.public[parsed.scope_index]
    for ref, reader, overview in source.overviews():
        if overview.kind in parsed.kinds and overview.scope == scope:
            return ref, reader, overview
    return None


def _contract_check(reader: TrialReader, parsed: _Parsed) -> None:
    proof, public = parsed.proof, list(parsed.public)
    if isinstance(reader, RegistryTrialReader):
        reader.registry.check_enroll(reader.trial_id, proof, public)
    elif isinstance(reader, CohortTrialReader):
        enrollment.check_enroll(reader.w3, reader.contract, proof, public)


def check_proof(source: DashboardSource, data: bytes) -> Verdict:
    """Judge an uploaded proof file against the trials of ``source`` (module docstring). Call it holding
    ``source.locked()``."""
    from zkhealth import groth16

    steps: list[Step] = []
    try:
        parsed = _parse(data)
    except ZkHealthError as error:
        steps.append(Step("parse", False, _explain(error)))
        return Verdict(VerdictKind.INVALID, _explain(error), _error_name(error), steps=tuple(steps))
    signals = tuple((name, str(value)) for name, value in zip(parsed.names, parsed.public, strict=True))
    steps.append(Step("parse", True, parsed.proof_format))

    def verdict(kind: VerdictKind, reason: str, error: str | None = None, **extra: Any) -> Verdict:
        return Verdict(kind, reason, error, parsed.proof_format, signals, steps=tuple(steps), **extra)

    found = _find_trial(source, parsed)
    if found is None:
        reason = "no trial on this dashboard has the proof's scope: it was made for another trial, contract or chain"
        steps.append(Step("trial", False, reason))
        return verdict(VerdictKind.INVALID, reason, "WrongScope")
    ref, reader, overview = found
    where = dict(trial=ref, trial_label=overview.label)
    steps.append(Step("trial", True, f"{overview.label} ({overview.kind} {overview.contract})"))

    known = source.known_trial(overview.scope)
    contract_hash = bytes(_contract(reader).functions.verifyingKeyHash().call())
    if known is not None and known.verifying_key is not None and key_hash(known.verifying_key) == contract_hash:
        try:
            groth16.verify(known.verifying_key, list(parsed.public), parsed.proof)
        except ZkHealthError as error:
            reason = "the Groth16 pairing check failed: the proof or one of its public signals was altered"
            steps.append(Step("pairing", False, f"{type(error).__name__}: {error}"))
            return verdict(VerdictKind.INVALID, reason, type(error).__name__, **where)
        steps.append(Step("pairing", True, "the Groth16 proof verifies under the contract's verifying key"))
        pairing_ok = True
    else:
        steps.append(Step("pairing", None, "no verifying key for this trial here: the contract checks the pairing"))
        pairing_ok = False

    try:
        _contract_check(reader, parsed)
    except ContractRevertError as error:
        name = _error_name(error)
        steps.append(Step("contract", False, _explain(error)))
        if name in _STATE_REFUSALS:
            reason = _explain(error)
            if not pairing_ok:
                reason += ("; the contract stops before its pairing check and this dashboard holds no verifying key "
                           "for the trial, so whether the proof itself verifies is not known")
            return verdict(VerdictKind.REFUSED, reason, name, **where)
        return verdict(VerdictKind.INVALID, _explain(error), name, **where)
    except ZkHealthError as error:
        steps.append(Step("contract", False, _explain(error)))
        return verdict(VerdictKind.INVALID, _explain(error), _error_name(error), **where)
    steps.append(Step("contract", True, "the contract's enroll would accept it now (simulated, nothing sent)"))
    return verdict(VerdictKind.VALID, "the proof verifies and the contract would enroll it now", None, **where)


def _contract(reader: TrialReader) -> Any:
    if isinstance(reader, RegistryTrialReader):
        return reader.registry.contract
    if isinstance(reader, CohortTrialReader):
        return reader.contract
    raise MalformedProofError("unknown trial reader")
