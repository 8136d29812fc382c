"""The universal trial file, ``trial.json`` of a trial on the universal circuit (``"kind": "universal"``).

``zkhealth trial new`` writes it; patients prove against it, verifiers check proofs against it, and creating
the trial on-chain records where::

    {
      "format": "zkhealth.trial", "version": 2,
      "kind": "universal",                          # a dedicated trial's file is spec.TrialSpec's
      "trialId": "NCT03987919", "name": "SURPASS-2",
      "criteria": "...", "criteriaSha256": "<64 hex>",  # pins the text: a hand edit is refused on load
      "policy": {"maxRecordAgeDays": 365, "onePerPerson": false, "openedDay": null},
      "programSha256": "<64 hex>",                  # the compiled program (atoms, combination, policy)
      "programHash": "<decimal>" | null,            # universal: the public program_hash every proof carries
      "acceptedWindowDays": 1,                      # how old a proof's `today` may be
      "trustRoots": ["<decimal>", ...],             # poseidon([issuer registry root, person registry root])
      "scope": "<decimal>",                         # what proofs must be made for
      "keys": null,                                 # the package's pinned universal key set
      "deployment": null | {"contract": "registry", "chainId": 31337, "address": "0x...",
                            "trialNumber": 1, "rpc": "http://..." | null, "fromBlock": 1}
    }

A universal trial names no keys: every universal trial uses the package's pinned key set
(:mod:`.universal_keys`), and on-chain it is a trial of the TrialRegistry (``contract: registry`` with its
``trialNumber``). The file of a dedicated trial (``"kind": "dedicated"``, keys and a CohortEnrollment of its
own) is :class:`~zkhealth.eligibility.spec.TrialSpec`'s. The scope is
:func:`~zkhealth.eligibility.scope.trial_scope` of (chain, contract, trial): the off-chain scope (chain 0, zero
address, the trial id) until the trial is created on-chain; for the registry the trial's id there is the 32-byte
big-endian trial number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import atomic_write
from zkhealth._json import loads_strict, read_limited
from zkhealth.eligibility.program import Policy
from zkhealth.eligibility.record_trial import CIRCUITS, UNIVERSAL, RecordTrial
from zkhealth.eligibility.scope import ZERO_ADDRESS, parse_address, trial_id_bytes, trial_scope
from zkhealth.errors import EncodingError, VerifyingKeyMismatchError
from zkhealth.field import parse_field_element
from zkhealth.groth16.keys import DEV_SETUP, SNARKJS_ZKEY, UNKNOWN, ProvingKey

__all__ = ["RECORD_TRIAL_VERSION", "Deployment", "RecordTrialSpec", "dedicated_keys_provenance", "load_dedicated_keys",
           "save_dedicated_keys"]

TRIAL_FORMAT: Final[str] = "zkhealth.trial"
RECORD_TRIAL_VERSION: Final[int] = 2
_MEMBERS: Final[frozenset[str]] = frozenset({
    "format", "version", "kind", "trialId", "name", "criteria", "criteriaSha256", "policy", "programSha256",
    "programHash", "acceptedWindowDays", "trustRoots", "scope", "keys", "deployment",
})
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_TRIAL_BYTES: Final[int] = 1 << 20
_KEYS_FORMAT: Final[str] = "zkhealth.record-trial-keys"
_PROVENANCES: Final[frozenset[str]] = frozenset({DEV_SETUP, SNARKJS_ZKEY, UNKNOWN, "ceremony"})
_FINAL_HASH: Final[re.Pattern[str]] = re.compile(r"[0-9a-f]{128}", re.ASCII)


def _hex64(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise EncodingError(f"{what} must be 64 lower-case hex digits")
    return value


def _int(value: object, what: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EncodingError(f"{what} must be an integer in [{low}, {high}]")
    return value


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Deployment:
    """Where a universal trial lives on-chain: the TrialRegistry (``contract == "registry"``), with the trial's
    number there."""

    contract: str
    chain_id: int
    address: str
    trial_number: int | None
    rpc: str | None
    from_block: int

    def to_dict(self) -> dict[str, Any]:
        return {"contract": self.contract, "chainId": self.chain_id, "address": self.address,
                "trialNumber": self.trial_number, "rpc": self.rpc, "fromBlock": self.from_block}

    @classmethod
    def from_dict(cls, obj: object) -> Deployment:
        members = {"contract", "chainId", "address", "trialNumber", "rpc", "fromBlock"}
        if not isinstance(obj, dict) or set(obj) != members:
            raise EncodingError(f"trial file: deployment must have {sorted(members)}")
        contract = obj["contract"]
        if contract not in ("registry", "enrollment"):
            raise EncodingError("trial file: deployment.contract must be registry or enrollment")
        number = obj["trialNumber"]
        if (contract == "registry") != (number is not None):
            raise EncodingError("trial file: deployment.trialNumber is set exactly for a registry trial")
        rpc = obj["rpc"]
        if rpc is not None and not isinstance(rpc, str):
            raise EncodingError("trial file: deployment.rpc must be a string or null")
        return cls(contract, _int(obj["chainId"], "deployment.chainId", low=0, high=2**64),
                   parse_address(obj["address"], what="deployment.address"),
                   None if number is None else _int(number, "deployment.trialNumber", low=1, high=2**64), rpc,
                   _int(obj["fromBlock"], "deployment.fromBlock", low=0, high=2**64))

    def scope(self, trial_id: bytes) -> int:
        """The scope proofs for this deployment carry."""
        if self.trial_number is not None:
            return trial_scope(self.chain_id, self.address, self.trial_number.to_bytes(32, "big"))
        return trial_scope(self.chain_id, self.address, trial_id)


def _policy_dict(policy: Policy) -> dict[str, Any]:
    return {"maxRecordAgeDays": policy.max_record_age_days, "onePerPerson": policy.one_per_person,
            "openedDay": policy.opened_day}


def _policy_from(obj: object) -> Policy:
    if not isinstance(obj, dict) or set(obj) != {"maxRecordAgeDays", "onePerPerson", "openedDay"}:
        raise EncodingError("trial file: policy must have maxRecordAgeDays, onePerPerson, openedDay")
    if not isinstance(obj["onePerPerson"], bool):
        raise EncodingError("trial file: policy.onePerPerson must be true or false")
    opened = obj["openedDay"]
    return Policy(_int(obj["maxRecordAgeDays"], "policy.maxRecordAgeDays", low=0, high=100_000),
                  obj["onePerPerson"], None if opened is None else _int(opened, "policy.openedDay", low=1,
                                                                            high=2**32 - 1))


@dataclass(frozen=True)
class RecordTrialSpec:
    """A version-2 ``trial.json`` (module docstring), parsed strictly; ``path`` is where it was read or goes.

    :meth:`load` recompiles the criteria and refuses a file whose criteria, program or program hash differ
    from what it pins (:class:`EncodingError`); criteria past the universal limits raise
    :class:`~zkhealth.errors.UniversalLimitError` (use the dedicated circuit)."""

    path: Path
    circuit: str
    trial_id: str
    name: str
    criteria: str
    policy: Policy
    accepted_window_days: int
    trust_roots: tuple[int, ...]
    scope: int
    keys_dir: str | None = None
    vk_sha256: str | None = None
    deployment: Deployment | None = None
    _trial: list[RecordTrial] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def new(cls, path: Path, criteria: str, *, circuit: str, trial_id: str, name: str, policy: Policy,
            accepted_window_days: int, trust_roots: tuple[int, ...], scope: int | None = None) -> RecordTrialSpec:
        """A new trial not yet on-chain (its criteria compile and, for the universal circuit, fit)."""
        if circuit not in CIRCUITS:
            raise EncodingError(f"circuit must be one of {', '.join(CIRCUITS)}")
        raw_id = trial_id_bytes(trial_id)
        spec = cls(path, circuit, trial_id, name, criteria, policy, accepted_window_days,
                   tuple(dict.fromkeys(trust_roots)),
                   scope if scope is not None else trial_scope(0, ZERO_ADDRESS, raw_id))
        spec.trial()  # compile (and fit) now: errors name the clause or the limit
        return spec

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        trial = self.trial()
        keys = None if self.keys_dir is None else {"dir": self.keys_dir, "verifyingKeySha256": self.vk_sha256}
        program_hash = trial.program_hash
        return {
            "format": TRIAL_FORMAT, "version": RECORD_TRIAL_VERSION, "kind": self.circuit,
            "trialId": self.trial_id, "name": self.name, "criteria": self.criteria,
            "criteriaSha256": _sha256_text(self.criteria), "policy": _policy_dict(self.policy),
            "programSha256": trial.program.sha256(),
            "programHash": None if program_hash is None else str(program_hash),
            "acceptedWindowDays": self.accepted_window_days, "trustRoots": [str(v) for v in self.trust_roots],
            "scope": str(self.scope), "keys": keys,
            "deployment": None if self.deployment is None else self.deployment.to_dict(),
        }

    def save(self) -> None:
        """Write the file atomically, as indented UTF-8 JSON."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        atomic_write(self.path, text.encode("utf-8"), mode=0o644)

    @staticmethod
    def is_record_trial_file(obj: object) -> bool:
        """Whether a decoded trial file is a universal trial's (version 2, ``kind`` universal)."""
        return (isinstance(obj, dict) and obj.get("format") == TRIAL_FORMAT and obj.get("version") == 2
                and obj.get("kind") == UNIVERSAL)

    @classmethod
    def load(cls, path: Path) -> RecordTrialSpec:
        data = read_limited(path, what=str(path), max_bytes=_MAX_TRIAL_BYTES, error=EncodingError)
        return cls.from_dict(loads_strict(data, what=str(path), max_bytes=_MAX_TRIAL_BYTES), path=path)

    @classmethod
    def from_dict(cls, obj: object, *, path: Path) -> RecordTrialSpec:
        if not isinstance(obj, dict) or set(obj) != _MEMBERS:
            found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise EncodingError(f"{path}: not a version-2 trial file (expected members {sorted(_MEMBERS)}, "
                                f"got {found})")
        if obj["format"] != TRIAL_FORMAT or obj["version"] != RECORD_TRIAL_VERSION or isinstance(obj["version"],
                                                                                                  bool):
            raise EncodingError(f"{path}: format must be {TRIAL_FORMAT!r} version {RECORD_TRIAL_VERSION}")
        for member in ("kind", "trialId", "name", "criteria"):
            if not isinstance(obj[member], str):
                raise EncodingError(f"{path}: {member} must be a string")
        if obj["kind"] != UNIVERSAL:
            raise EncodingError(f"{path}: kind must be {UNIVERSAL!r} (a dedicated trial's file is TrialSpec's)")
        if not isinstance(obj["trustRoots"], list):
            raise EncodingError(f"{path}: trustRoots must be a list of decimal strings")
        keys = obj["keys"]
        keys_dir = vk_sha256 = None
        if keys is not None:
            if obj["kind"] != "dedicated" or not isinstance(keys, dict) or set(keys) != {"dir",
                                                                                           "verifyingKeySha256"}:
                raise EncodingError(f"{path}: keys must be null or, for a dedicated trial, {{dir, verifyingKeySha256}}")
            if not isinstance(keys["dir"], str) or not keys["dir"]:
                raise EncodingError(f"{path}: keys.dir must be a non-empty string")
            keys_dir, vk_sha256 = keys["dir"], _hex64(keys["verifyingKeySha256"], "keys.verifyingKeySha256")
        deployment = None if obj["deployment"] is None else Deployment.from_dict(obj["deployment"])
        if deployment is not None and (deployment.contract == "registry") != (obj["kind"] == UNIVERSAL):
            raise EncodingError(f"{path}: universal trials live in the registry, dedicated ones in an enrollment "
                                "contract")
        loaded = cls(path, obj["kind"], obj["trialId"], obj["name"], obj["criteria"], _policy_from(obj["policy"]),
                     _int(obj["acceptedWindowDays"], "acceptedWindowDays", low=0, high=366),
                     tuple(parse_field_element(v, what="trustRoots") for v in obj["trustRoots"]),
                     parse_field_element(obj["scope"], what="scope"), keys_dir, vk_sha256, deployment)
        if _hex64(obj["criteriaSha256"], "criteriaSha256") != _sha256_text(loaded.criteria):
            raise EncodingError(f"{path}: the criteria text does not match criteriaSha256 (edited by hand?)")
        trial = loaded.trial()
        if _hex64(obj["programSha256"], "programSha256") != trial.program.sha256():
            raise EncodingError(f"{path}: the compiled program does not match programSha256 (another zkhealth "
                                "version compiles these criteria differently)")
        expected = trial.program_hash
        recorded = obj["programHash"]
        if (None if recorded is None else parse_field_element(recorded, what="programHash")) != expected:
            raise EncodingError(f"{path}: programHash is not the hash of this program in the universal circuit")
        return loaded

    # ------------------------------------------------------------------ changes

    def with_changes(self, **changes: Any) -> RecordTrialSpec:
        return replace(self, _trial=[], **changes)

    def with_keys(self, directory: Path, vk_sha256: str) -> RecordTrialSpec:
        try:
            recorded = os.path.relpath(directory.resolve(), self.path.resolve().parent)
        except ValueError:
            recorded = str(directory.resolve())
        return self.with_changes(keys_dir=recorded, vk_sha256=vk_sha256)

    def with_deployment(self, deployment: Deployment) -> RecordTrialSpec:
        """Record the on-chain trial and the scope proofs must now carry."""
        return self.with_changes(deployment=deployment, scope=deployment.scope(trial_id_bytes(self.trial_id)))

    # ------------------------------------------------------------------ the library objects

    def trial(self) -> RecordTrial:
        """The :class:`~zkhealth.eligibility.record_trial.RecordTrial` this file describes (built once)."""
        if not self._trial:
            self._trial.append(RecordTrial(self.criteria, trial_id=self.trial_id, name=self.name, policy=self.policy,
                                           accepted_window_days=self.accepted_window_days,
                                           trust_roots=set(self.trust_roots), scope=self.scope,
                                           circuit=self.circuit))
        return self._trial[0]

    def recorded_keys_dir(self) -> Path | None:
        if self.keys_dir is None:
            return None
        recorded = Path(self.keys_dir)
        return recorded if recorded.is_absolute() else self.path.parent / recorded

    def load_keys(self, directory: Path | None = None) -> None:
        """Adopt the proving key: the pinned universal key set (installed once, :mod:`.universal_keys`), or the
        dedicated trial's keys from ``directory`` (default: the recorded one), checked against the pins."""
        trial = self.trial()
        if self.circuit == "universal":
            trial.keys  # noqa: B018 - loads and checks the installed pinned proving key
            return
        where = directory if directory is not None else self.recorded_keys_dir()
        if where is None:
            raise EncodingError(f"{self.path} names no keys: run `zkhealth setup {self.path} --keys DIR`")
        pk = load_dedicated_keys(where, trial)
        if self.vk_sha256 is not None and pk.vk.sha256() != self.vk_sha256:
            raise VerifyingKeyMismatchError(f"the keys in {where} are not the ones {self.path} pins")
        trial.use_keys(pk)
        trial.ceremony = dedicated_keys_provenance(where)[1]


def save_dedicated_keys(trial: RecordTrial, pk: ProvingKey, directory: Path, *, ceremony: str | None = None) -> str:
    """Write a dedicated trial's ``proving_key.zkhpk``, ``verification_key.json`` and ``manifest.json`` (program
    and circuit pins, and the provenance: ``ceremony`` with the ceremony's final hash ``ceremony``, e.g.
    ``trial.ceremony`` after :meth:`RecordTrial.ceremony_keys`, else the key's own, ``dev-setup`` for
    :meth:`RecordTrial.setup`'s); returns the verifying key's sha256."""
    if ceremony is not None and (not isinstance(ceremony, str) or not _FINAL_HASH.fullmatch(ceremony)):
        raise EncodingError("the ceremony's final hash is 128 lower-case hex digits")
    from zkhealth.formats.r1cs_file import r1cs_to_bytes
    from zkhealth.formats.snarkjs_json import write_verifying_key
    from zkhealth.formats.zkhpk_file import save_proving_key

    directory.mkdir(parents=True, exist_ok=True)
    save_proving_key(pk, directory / "proving_key.zkhpk")
    write_verifying_key(pk.vk, directory / "verification_key.json")
    manifest = {"format": _KEYS_FORMAT, "version": 1, "programSha256": trial.program.sha256(),
                "r1csSha256": hashlib.sha256(r1cs_to_bytes(trial.compile().r1cs)).hexdigest(),
                "verifyingKeySha256": pk.vk.sha256(),
                "provenance": "ceremony" if ceremony is not None else pk.provenance, "ceremony": ceremony}
    atomic_write(directory / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode("ascii"), mode=0o644)
    return pk.vk.sha256()


def load_dedicated_keys(directory: Path, trial: RecordTrial) -> ProvingKey:
    """A dedicated trial's proving key from ``directory``, refused unless its manifest pins this program and
    circuit and its verifying key."""
    from zkhealth.formats.r1cs_file import r1cs_to_bytes
    from zkhealth.formats.zkhpk_file import load_proving_key

    manifest = _dedicated_manifest(directory)
    if manifest["programSha256"] != trial.program.sha256():
        raise VerifyingKeyMismatchError(f"the keys in {directory} were made for another criteria program")
    if manifest["r1csSha256"] != hashlib.sha256(r1cs_to_bytes(trial.compile().r1cs)).hexdigest():
        raise VerifyingKeyMismatchError(f"the keys in {directory} were made for another circuit")
    pk = load_proving_key(directory / "proving_key.zkhpk")
    if pk.vk.sha256() != manifest["verifyingKeySha256"]:
        raise VerifyingKeyMismatchError(f"{directory}: the proving key does not match its manifest")
    if manifest.get("ceremony") is not None and pk.provenance == DEV_SETUP:
        raise VerifyingKeyMismatchError(f"{directory}: a development key is labelled as a ceremony's")
    return pk


def _dedicated_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    data = read_limited(path, what=str(path), max_bytes=1 << 16, error=EncodingError)
    manifest = loads_strict(data, what=str(path))
    members = {"format", "version", "programSha256", "r1csSha256", "verifyingKeySha256"}
    if (not isinstance(manifest, dict) or set(manifest) not in (members, members | {"provenance", "ceremony"})
            or manifest["format"] != _KEYS_FORMAT):
        raise EncodingError(f"{path}: not a {_KEYS_FORMAT} manifest")
    provenance, ceremony = manifest.get("provenance"), manifest.get("ceremony")
    if "provenance" in manifest and (
            not isinstance(provenance, str) or provenance not in _PROVENANCES
            or (provenance == "ceremony") != (ceremony is not None)
            or (ceremony is not None and (not isinstance(ceremony, str) or not _FINAL_HASH.fullmatch(ceremony)))):
        raise EncodingError(f"{path}: provenance must be one of {sorted(_PROVENANCES)}, and ceremony the final hash "
                            "(128 hex digits) exactly when it is 'ceremony'")
    return manifest


def dedicated_keys_provenance(directory: Path) -> tuple[str, str | None]:
    """``(provenance, ceremony final hash or None)`` that a dedicated trial's keys manifest records, without
    reading the keys (``unknown`` for a manifest written before provenance was recorded)."""
    manifest = _dedicated_manifest(directory)
    return str(manifest.get("provenance", UNKNOWN)), manifest.get("ceremony")
