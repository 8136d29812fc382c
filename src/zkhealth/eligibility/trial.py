"""Trials: criteria, keys and verification, for app developers and recruiters.

A :class:`Trial` holds one trial's criteria, compiled to a :class:`~zkhealth.eligibility.program.Program` with the
trial's :class:`~zkhealth.eligibility.program.Policy` (one enrollment per person and the day the trial opened,
the largest record age), the trial id, and the verifier's policy: how old a proof's ``today`` may be, how long a
superseded trust root stays accepted (``root_grace_seconds``), where the current trust roots come from
(``roots``, a :class:`~zkhealth.credentials.trust_roots.RootHistory` read from the operator's signed file or from
the chain), and the scope (chain, enrollment contract, trial) proofs must be made for. Its circuit is the
*dedicated* eligibility circuit (:mod:`.dedicated`): the criteria compiled in, public signals ``[nullifier,
scope, today, trust_root, recipient]``. Typical use::

    trial = Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=scope,
                  roots=TrustRootDocument.load("trust.json", operator=did).history)
    print(trial.cost_report())          # constraints per part and per atom: before any setup
    print(trial.verifier_learns_text())  # what each public signal reveals
    trial.setup()                        # development keys (pinned to the program hash)
    proof = prove(trial, wallet, recipient=address, issuers=document.issuers, revocations=[tree])
    result = trial.verify(proof)

Proving is :mod:`zkhealth.eligibility.prove`. :meth:`Trial.verify` checks, in order: the proof is for this trial
(``WrongScopeError``), this program and this verifying key (``VerifyingKeyMismatchError``); its scope is the
expected one (``WrongScopeError``); its trust root is current or superseded within the grace period
(``StaleRootError``, ``UntrustedRootError``); its ``today`` is the verifier's day or the day before, at most
``accepted_window_days`` old (``StaleProofError``: the contracts accept ``[block day - 1, block day]``, the same
window with the default of 1), the contracts' order of checks too; its recipient is the expected one, if given
(``WrongRecipientError``); and the Groth16 proof verifies (``InvalidProofError``). :meth:`Trial.verify_each`
checks many proofs at once and reports a repeated proof or a repeated nullifier as a duplicate
(``DuplicateProofError``), never as a second valid enrollment.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from zkhealth import groth16
from zkhealth._fileio import as_path, atomic_write, fsync_directory, read_bytes, wrap_os_error
from zkhealth.circuit import CompiledCircuit
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, today_epoch_day
from zkhealth.credentials.record import PatientRecord, RecordCredential
from zkhealth.credentials.trust_roots import DEFAULT_GRACE_SECONDS, RootHistory
from zkhealth.eligibility.analysis import CriteriaFinding, analyze_program
from zkhealth.eligibility.batch import settle_batch
from zkhealth.eligibility.check import check_criteria_file
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS, compile_dedicated_circuit
from zkhealth.eligibility.evaluate import ProgramEvaluation, evaluate_program, today_values
from zkhealth.eligibility.program import Policy, Program, compile_program
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.scope import trial_id_bytes, trial_scope
from zkhealth.errors import (
    ArgumentTypeError,
    CriteriaSyntaxError,
    EligibilityError,
    MalformedProofError,
    StaleProofError,
    VerifyingKeyMismatchError,
    WrongRecipientError,
    WrongScopeError,
    ZkHealthError,
)
from zkhealth.field import FIELD_R
from zkhealth.formats.r1cs_file import r1cs_to_bytes
from zkhealth.formats.snarkjs_json import load_verifying_key, loads_json, read_json_bytes, write_verifying_key
from zkhealth.formats.zkhpk_file import load_proving_key, save_proving_key
from zkhealth.groth16.keys import DEV_SETUP, SNARKJS_ZKEY, UNKNOWN, ProvingKey, VerifyingKey

if TYPE_CHECKING:
    from zkhealth.formats.ptau_file import PtauFile
    from zkhealth.formats.zkey_file import ZkeyFile

#: ``progress(stage, done, total)``, as the setup and the ceremony steps report.
ProgressCallback = Callable[[str, int, int], None]

__all__ = [
    "CEREMONY",
    "DEDICATED",
    "CostReport",
    "SignalDisclosure",
    "Trial",
    "TrialKeys",
    "VerifiedEligibility",
    "epoch_day",
    "read_criteria_file",
]

#: The circuit kind of a :class:`Trial`: the per-trial (dedicated) circuit.
DEDICATED: Final[str] = "dedicated"
#: Number of public signals: the QAP adds one row per public signal plus one (docs/security.md G7).
_PUBLIC_ROWS: Final[int] = len(PUBLIC_SIGNALS) + 1
_KEYS_FORMAT: Final[str] = "zkhealth.eligibility-keys"
#: The provenance of keys adopted from a ceremony (:meth:`Trial.ceremony_keys`), with the ceremony's final hash.
CEREMONY: Final[str] = "ceremony"
_KEY_PROVENANCES: Final[frozenset[str]] = frozenset({DEV_SETUP, SNARKJS_ZKEY, UNKNOWN, CEREMONY})
_PROVENANCE_MEMBERS: Final[frozenset[str]] = frozenset({"provenance", "ceremony"})
_FINAL_HASH: Final[re.Pattern[str]] = re.compile(r"[0-9a-f]{128}", re.ASCII)
_MANIFEST: Final[str] = "manifest.json"
_PROVING_KEY: Final[str] = "proving_key.zkhpk"
_VERIFYING_KEY: Final[str] = "verification_key.json"
#: Largest criteria file read (comments included).
_MAX_CRITERIA_FILE_BYTES: Final[int] = 1 << 20

# Prove-time model: seconds = base + per_row * domain_size + per_wire * n_wires (the NTTs scale with the
# domain, the MSMs with the wires). Fitted to benchmarks/eligibility.py on the reference machine (2 cores,
# gmpy2, two worker processes, quiet machine): 2^14 rows and 13,394 wires proved in 2.6 s (median), set up
# in 3.9 s. On a machine busy with other work expect up to about three times as long.
_PROVE_BASE_S: Final[float] = 0.15
_PROVE_PER_ROW_S: Final[float] = 5.4e-5
_PROVE_PER_WIRE_S: Final[float] = 1.16e-4
_SETUP_PER_WIRE_S: Final[float] = 2.9e-4


def read_criteria_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, str]]:
    """Read a criteria file: lines starting with ``#`` are comments. ``# key: value`` comments are metadata
    (``name``, ``modelled on``...; keys lower-cased, spaces as ``_``), and a comment line without a key
    continues the previous value. The other lines, joined by spaces, are the criteria text."""
    metadata: dict[str, str] = {}
    lines: list[str] = []
    key: str | None = None
    data = read_bytes(path, max_bytes=_MAX_CRITERIA_FILE_BYTES, error=CriteriaSyntaxError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CriteriaSyntaxError(f"{os.fspath(path)}: the criteria file is not UTF-8 text") from None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment = stripped[1:].strip()
            match = re.fullmatch(r"([A-Za-z][A-Za-z_ ]{0,30}?)\s*:\s*(.*)", comment)
            if match:
                key = match.group(1).strip().lower().replace(" ", "_")
                metadata[key] = match.group(2).strip()
            elif key is not None and comment:
                metadata[key] = f"{metadata[key]} {comment}".strip()
            continue
        key = None
        if stripped:
            lines.append(stripped)
    return " ".join(lines), metadata


def epoch_day(today: int | _dt.date) -> int:
    """An epoch day, or a date as its epoch day (UTC)."""
    return today_values(today)[0] - CLINICAL_DATE_OFFSET


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class CostReport:
    """Constraints per part and per atom, the QAP domain, predicted times and the public signals."""

    criteria: str
    constraints: int
    public_rows: int
    domain_size: int
    wires: int
    parts: tuple[tuple[str, int], ...]
    clauses: tuple[tuple[str, int], ...]
    predicted_prove_seconds: float
    predicted_setup_seconds: float
    public_signals: tuple[str, ...]

    @property
    def fits_domain(self) -> bool:
        """Whether constraints plus public-input rows fit the power-of-two domain of 2^14 or less."""
        return self.constraints + self.public_rows <= 1 << 14

    def format(self) -> str:
        lines = [
            f"criteria: {self.criteria}",
            f"constraints: {self.constraints} (+{self.public_rows} public-input rows = "
            f"{self.constraints + self.public_rows}; QAP domain 2^{self.domain_size.bit_length() - 1})",
            f"wires: {self.wires}",
            "per part:",
            *(f"  {name:<40} {count:>7}" for name, count in self.parts),
            "per atom (criteria part):",
            *(f"  {name:<60} {count:>7}" for name, count in self.clauses),
            f"predicted prove time: {self.predicted_prove_seconds:.1f} s; "
            f"setup: {self.predicted_setup_seconds:.0f} s",
            f"public signals: {', '.join(self.public_signals)}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class SignalDisclosure:
    """One public signal and what a verifier (or anyone reading the chain) learns from it."""

    name: str
    reveals: str


_DISCLOSURES: Final[tuple[SignalDisclosure, ...]] = (
    SignalDisclosure(
        "nullifier",
        "Poseidon(holder secret, scope): the same value every time this patient proves for this trial "
        "(replay guard); unlinkable to the patient's nullifiers in other trials and to the credential.",
    ),
    SignalDisclosure(
        "scope", "which trial, enrollment contract and chain the proof is for; nothing about the patient."
    ),
    SignalDisclosure(
        "today",
        "the day the prover claims the criteria held (days since 1970-01-01, UTC); chosen by the prover, "
        "checked by the verifier against its window. No patient date (birth, diagnosis, lab) is revealed.",
    ),
    SignalDisclosure(
        "trust_root",
        "which published trust root was used: poseidon(issuer registry root, person registry root). It shows "
        "that some trusted issuer signed the credential and has not revoked it (and, in one-per-person trials, "
        "that the holder is registered), not which issuer or which person.",
    ),
    SignalDisclosure(
        "recipient",
        "the address allowed to use the proof (front-running guard); the patient chooses it and may use a "
        "fresh address.",
    ),
)


@dataclass(frozen=True)
class VerifiedEligibility:
    """What :meth:`Trial.verify` returns for a valid proof."""

    trial_id: bytes
    nullifier: int
    scope: int
    today: int
    trust_root: int
    recipient: int


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class TrialKeys:
    """Proving and verifying keys pinned to a criteria program's hash (``criteria_sha256``: the program's
    sha256, criteria and trial policy) and to the circuit's R1CS hash.

    ``ceremony``: for keys adopted from a ceremony (:meth:`Trial.ceremony_keys`), its final hash (the final
    key's last contribution hash, 128 hex digits, as ``zkhealth ceremony verify`` prints it); their
    :attr:`provenance` is then ``ceremony``. Keys of :meth:`Trial.setup` have none and stay ``dev-setup``."""

    pk: ProvingKey
    vk: VerifyingKey
    criteria_sha256: str
    r1cs_sha256: str
    ceremony: str | None = None

    @property
    def vk_sha256(self) -> str:
        return self.vk.sha256()

    @property
    def provenance(self) -> str:
        """``ceremony`` for a ceremony's verified key, else the proving key's (``dev-setup`` for keys made in
        one process)."""
        return CEREMONY if self.ceremony is not None else self.pk.provenance

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``proving_key.zkhpk``, ``verification_key.json`` (snarkjs) and ``manifest.json`` (the pins).

        A crash, a kill or a full disk at any point leaves a directory that loads as the old keys or as the
        new ones, never a mix: the keys are first written (each atomically) under staging names, then the
        manifest (atomically: the commit point), then the staged files are renamed into place. A reader that
        finds a key file not matching the manifest's pin uses the staged one (see :meth:`load`).
        """
        target = as_path(directory, what="keys directory")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise wrap_os_error(exc, target, "create the keys directory") from None
        save_proving_key(self.pk, target / _staged(_PROVING_KEY))
        write_verifying_key(self.vk, target / _staged(_VERIFYING_KEY))
        manifest = {
            "format": _KEYS_FORMAT,
            "criteriaSha256": self.criteria_sha256,
            "r1csSha256": self.r1cs_sha256,
            "verifyingKeySha256": self.vk_sha256,
            "provenance": self.provenance,
            "ceremony": self.ceremony,
        }
        atomic_write(target / _MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("ascii"), mode=0o644)
        _promote(target, _PROVING_KEY)
        _promote(target, _VERIFYING_KEY)

    @staticmethod
    def _manifest(source: Path) -> dict[str, Any]:
        manifest = loads_json(
            read_json_bytes(source / _MANIFEST, what=str(source / _MANIFEST)), what=str(source / _MANIFEST)
        )
        keys = {"format", "criteriaSha256", "r1csSha256", "verifyingKeySha256"}
        if (not isinstance(manifest, dict) or set(manifest) not in (keys, keys | _PROVENANCE_MEMBERS)
                or manifest["format"] != _KEYS_FORMAT):
            raise MalformedProofError(f"{source / _MANIFEST}: unexpected shape")
        provenance, ceremony = manifest.get("provenance"), manifest.get("ceremony")
        if "provenance" in manifest and (
                not isinstance(provenance, str) or provenance not in _KEY_PROVENANCES
                or (provenance == CEREMONY) != (ceremony is not None)
                or (ceremony is not None and (not isinstance(ceremony, str) or not _FINAL_HASH.fullmatch(ceremony)))):
            raise MalformedProofError(f"{source / _MANIFEST}: provenance must be one of {sorted(_KEY_PROVENANCES)}, "
                                      "and ceremony the final hash (128 hex digits) exactly when it is 'ceremony'")
        return manifest

    @classmethod
    def describe_provenance(cls, directory: str | os.PathLike[str]) -> tuple[str, str | None]:
        """``(provenance, ceremony final hash or None)`` that the manifest of ``directory`` records, without
        reading the keys (``unknown`` for a manifest written before provenance was recorded)."""
        manifest = cls._manifest(as_path(directory, what="keys directory"))
        return str(manifest.get("provenance", UNKNOWN)), manifest.get("ceremony")

    @classmethod
    def load_verifying_key(cls, directory: str | os.PathLike[str]) -> VerifyingKey:
        """Only the verifying key of a directory written by :meth:`save`, checked against the manifest's pin
        (:class:`VerifyingKeyMismatchError` otherwise). Cost: a few kB read, no proving key."""
        source = as_path(directory, what="keys directory")
        pin = cls._manifest(source)["verifyingKeySha256"]
        vk = load_verifying_key(source / _VERIFYING_KEY)
        if vk.sha256() != pin and (source / _staged(_VERIFYING_KEY)).is_file():
            vk = load_verifying_key(source / _staged(_VERIFYING_KEY))  # a save interrupted after its commit
            if vk.sha256() == pin:
                _promote(source, _VERIFYING_KEY, missing_ok=True)
        if vk.sha256() != pin:
            raise VerifyingKeyMismatchError(f"{source}: verification_key.json does not match manifest.json")
        return vk

    @classmethod
    def load_verifying_key_and_criteria(cls, directory: str | os.PathLike[str]) -> tuple[VerifyingKey, str]:
        """:meth:`load_verifying_key` and the program hash the manifest records for these keys."""
        vk = cls.load_verifying_key(directory)
        return vk, str(cls._manifest(Path(directory))["criteriaSha256"])

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TrialKeys:
        """Read keys written by :meth:`save`; the verifying key must hash to the manifest's pin and equal the
        proving key's (:class:`VerifyingKeyMismatchError` otherwise). A save interrupted after writing its
        manifest is completed from the staged files."""
        source = as_path(directory, what="keys directory")
        manifest = cls._manifest(source)
        vk = cls.load_verifying_key(source)
        pk = load_proving_key(source / _PROVING_KEY)
        if pk.vk.sha256() != vk.sha256() and (source / _staged(_PROVING_KEY)).is_file():
            pk = load_proving_key(source / _staged(_PROVING_KEY))
            if pk.vk.sha256() == vk.sha256():
                _promote(source, _PROVING_KEY, missing_ok=True)
        if pk.vk.sha256() != vk.sha256():
            raise VerifyingKeyMismatchError("the verifying key does not match the manifest or the proving key")
        ceremony = manifest.get("ceremony")
        if ceremony is not None and pk.provenance == DEV_SETUP:
            raise VerifyingKeyMismatchError(f"{source / _MANIFEST}: a development key is labelled as a ceremony's")
        return cls(pk, pk.vk, str(manifest["criteriaSha256"]), str(manifest["r1csSha256"]), ceremony)


def _staged(name: str) -> str:
    """The staging name of a key file while :meth:`TrialKeys.save` runs."""
    return f".{name}.next"


def _promote(directory: Path, name: str, *, missing_ok: bool = False) -> None:
    """Rename the staged ``name`` into place and make the rename durable (a reader that finds it does so
    too; failing there is harmless: the staged file keeps serving)."""
    try:
        os.replace(directory / _staged(name), directory / name)
        fsync_directory(directory)
    except OSError as exc:
        if not missing_ok:
            raise wrap_os_error(exc, directory / name, "write it") from None


# --------------------------------------------------------------------------- the trial


def _field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise EligibilityError(f"{what} must be a field element")
    return value


class Trial:
    """One trial: its criteria program, id, verifier policy and (after :meth:`setup` / :meth:`use_keys`) keys.

    ``criteria``: the criteria text, or the path of a criteria file (``# name:`` and other comment metadata;
    :func:`~zkhealth.eligibility.check.check_criteria_file`). ``trial_id``: 32 bytes, ``0x`` + 64 hex digits,
    or an ASCII registry id such as ``"NCT05000001"`` (padded to 32 bytes). ``policy``: one enrollment per person
    (with the day the trial opened) and the largest record age; the policy is part of the program, hence of the
    circuit and its keys. ``accepted_window_days``: a proof's ``today`` may be at most this many days before the
    verifier's today (never after it). ``root_grace_seconds``: how long a superseded trust root is still
    accepted. ``roots``: the published trust roots (:class:`~zkhealth.credentials.trust_roots.RootHistory`);
    :meth:`verify` takes them per call too. ``scope``: the expected scope, or give ``chain_id`` and
    ``enrollment_address`` to compute it (:meth:`scope`).

    Invalid criteria raise :class:`~zkhealth.errors.CriteriaSyntaxError` here, naming the clause.
    """

    kind: Final[str] = DEDICATED

    def __init__(
        self,
        criteria: str | os.PathLike[str],
        *,
        trial_id: bytes | str,
        name: str | None = None,
        policy: Policy | None = None,
        accepted_window_days: int = 1,
        root_grace_seconds: int = DEFAULT_GRACE_SECONDS,
        roots: RootHistory | None = None,
        scope: int | None = None,
        chain_id: int | None = None,
        enrollment_address: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        found: dict[str, str] = {}
        if isinstance(criteria, os.PathLike):
            check = check_criteria_file(criteria, policy)
            text, found, program = check.text, check.metadata, check.program
        elif isinstance(criteria, str):
            text, program = criteria, compile_program(criteria, policy)
        else:
            raise EligibilityError("criteria must be text or the path of a criteria file")
        self.text: str = text
        self.program: Program = program
        self.metadata = {**found, **(metadata or {})}
        self.name = name if name is not None else self.metadata.get("name", "")
        self.trial_id = trial_id_bytes(trial_id)
        if (isinstance(accepted_window_days, bool) or not isinstance(accepted_window_days, int)
                or not 0 <= accepted_window_days <= 366):
            raise EligibilityError("accepted_window_days must be an int in [0, 366]")
        self.accepted_window_days = accepted_window_days
        if (isinstance(root_grace_seconds, bool) or not isinstance(root_grace_seconds, int)
                or not 0 <= root_grace_seconds < 1 << 32):
            raise EligibilityError("root_grace_seconds must be an int in [0, 2^32)")
        self.root_grace_seconds = root_grace_seconds
        if roots is not None and not isinstance(roots, RootHistory):
            raise EligibilityError("roots must be a RootHistory (a trust-root file's or the chain's)")
        self.roots: RootHistory | None = roots
        if scope is not None and (chain_id is not None or enrollment_address is not None):
            raise EligibilityError("give either scope or chain_id and enrollment_address, not both")
        if scope is None and chain_id is not None and enrollment_address is not None:
            scope = self.scope(chain_id, enrollment_address)
        elif (chain_id is None) != (enrollment_address is None):
            raise EligibilityError("chain_id and enrollment_address go together")
        self.expected_scope: int | None = None if scope is None else _field(scope, "scope")
        self._compiled: CompiledCircuit | None = None
        self._keys: TrialKeys | None = None
        #: A verifying key adopted alone (:meth:`use_verifying_key`): enough to verify, not to prove.
        self._verifying_key: tuple[VerifyingKey, str] | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, trial_id: bytes | str, **options: Any) -> Trial:
        """The trial of a criteria file; its ``# name:`` line names the trial unless ``name`` is given."""
        return cls(Path(path), trial_id=trial_id, **options)

    @property
    def policy(self) -> Policy:
        return self.program.policy

    def __repr__(self) -> str:
        label = self.name or self.trial_id.rstrip(b"\0").decode("ascii", "replace")
        return f"Trial({label!r}, criteria={self.text!r}, kind={self.kind!r})"

    # ------------------------------------------------------------------ circuit and reports

    def compile(self) -> CompiledCircuit:
        """The dedicated eligibility circuit of this program (compiled once, then cached)."""
        if self._compiled is None:
            self._compiled = compile_dedicated_circuit(self.program)
        return self._compiled

    def r1cs_sha256(self) -> str:
        """sha256 of the circuit's ``.r1cs`` bytes: pins the exact constraint system the keys belong to."""
        return hashlib.sha256(r1cs_to_bytes(self.compile().r1cs)).hexdigest()

    def criteria_findings(self) -> list[CriteriaFinding]:
        """Parts of the criteria that no record can meet, or that every record meets, each with the clauses
        that cause it (:func:`zkhealth.eligibility.analysis.analyze_program`): almost always a mistake in
        the criteria, worth a warning before any setup."""
        return analyze_program(self.program)

    def cost_report(self) -> CostReport:
        """Constraints per part and per atom, predicted prove/setup time and the public signals.

        Needs only the compiled circuit (about 1-3 s), no keys. The prove-time prediction is a linear model in
        the QAP domain size and the wire count, measured on the reference machine.
        """
        compiled = self.compile()
        rows = {row.path: row.after for row in compiled.report().rows}
        root = compiled.name
        parts = tuple((path[len(root) + 1:], count) for path, count in rows.items()
                      if path.count("/") == 1 and path.startswith(root + "/"))
        atoms = tuple((f"atom{i} {atom.describe()}", rows.get(f"{root}/criteria/atom{i}", 0))
                      for i, atom in enumerate(self.program.atoms))
        combine = rows.get(f"{root}/criteria/combine", 0)
        if combine:
            atoms += (("(and/or combination)", combine),)
        n = compiled.r1cs.n_constraints
        domain = 1
        while domain < n + _PUBLIC_ROWS:
            domain *= 2
        wires = compiled.r1cs.n_wires
        return CostReport(
            criteria=self.text,
            constraints=n,
            public_rows=_PUBLIC_ROWS,
            domain_size=domain,
            wires=wires,
            parts=parts,
            clauses=atoms,
            predicted_prove_seconds=_PROVE_BASE_S + _PROVE_PER_ROW_S * domain + _PROVE_PER_WIRE_S * wires,
            predicted_setup_seconds=_SETUP_PER_WIRE_S * wires,
            public_signals=PUBLIC_SIGNALS,
        )

    def verifier_learns(self) -> list[SignalDisclosure]:
        """Each public signal and what it reveals. The criteria themselves are public (compiled into the
        verifying key); nothing about the patient is revealed beyond "meets these criteria"."""
        return list(_DISCLOSURES)

    def verifier_learns_text(self) -> str:
        """:meth:`verifier_learns` as a printable report."""
        policy = self.policy
        person = (f" The holder is registered in the person registry before day {policy.opened_day} (one enrollment "
                  f"per person)." if policy.one_per_person else
                  " One enrollment per wallet: a person with two wallets can enroll twice (no person registry).")
        lines = [f"A valid proof for this trial shows: the holder of a credential signed by a trusted issuer, "
                 f"unrevoked and unexpired on `today`, meets: {self.text}.{person}", "Public signals:"]
        lines += [f"  {item.name}: {item.reveals}" for item in _DISCLOSURES]
        return "\n".join(lines)

    # ------------------------------------------------------------------ keys

    def setup(
        self,
        progress: Callable[[str, int, int], None] | None = None,
        *,
        rng: Any = None,
        workers: int | None = None,
    ) -> TrialKeys:
        """Run a (development) Groth16 setup for this trial's circuit and keep the keys.

        The keys are pinned to the program's sha256 and :meth:`r1cs_sha256`. Keys made here are ``dev-setup``
        keys (this process knew the toxic waste): production trials use a ceremony's keys via :meth:`use_keys`.
        Cost: about ``predicted_setup_seconds`` of :meth:`cost_report`.
        """
        compiled = self.compile()
        pk, vk = groth16.setup(compiled.r1cs, rng=rng, progress=progress, workers=workers)
        keys = TrialKeys(pk, vk, self.program.sha256(), self.r1cs_sha256())
        self._keys = keys
        return keys

    def ceremony_circuit_name(self) -> str:
        """The name this trial's circuit takes in a ceremony folder: ``trial-`` and 16 hex digits of its
        R1CS hash (so another circuit never picks up this one's key)."""
        return "trial-" + self.r1cs_sha256()[:16]

    def start_ceremony(self, folder: str | os.PathLike[str], *, progress: ProgressCallback | None = None) -> str:
        """Open phase 2 of this trial's circuit in a ceremony folder whose phase 1 is prepared (see
        docs/ceremony.md); returns the circuit's name there. Contributors then run ``zkey contribute`` and the
        coordinator ``ceremony accept``; :meth:`ceremony_keys` adopts the finished key."""
        from zkhealth.ceremony.transcript import Ceremony

        name = self.ceremony_circuit_name()
        Ceremony(Path(folder)).start_circuit(name, self.compile().r1cs, progress=progress)
        return name

    def ceremony_keys(
        self,
        zkey: ZkeyFile,
        ptau: PtauFile,
        *,
        final_hash: str | None = None,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> TrialKeys:
        """Adopt a ceremony's final ``.zkey`` for this trial, after checking it: ``zkey verify`` against this
        trial's circuit and the prepared ``.ptau`` (every contribution, the circuit hash, each section), which
        raises :class:`~zkhealth.errors.ContributionError` for a key of another circuit, a key without a
        contribution or a bad contribution. ``final_hash``: the ceremony's final hash for this circuit (what
        ``zkhealth ceremony verify`` printed); the key's last contribution hash must be it
        (:class:`~zkhealth.errors.TranscriptError` otherwise).

        The keys are pinned like :meth:`setup`'s; their provenance is ``ceremony`` (not ``dev-setup``: no
        single process knew their toxic waste if one contributor was honest), with the key's final hash.
        """
        from zkhealth.ceremony import phase2
        from zkhealth.formats.zkey_file import proving_key_from_zkey

        report = phase2.verify(zkey, self.compile().r1cs, ptau, workers=workers, progress=progress)
        final = phase2.final_hash(report, expected=final_hash)
        pk = proving_key_from_zkey(zkey)
        return self.use_keys(TrialKeys(pk, pk.vk, self.program.sha256(), self.r1cs_sha256(), final))

    def check_keys(self, keys: TrialKeys) -> None:
        """Refuse keys that are not this trial's: made for another program, for another circuit, or for another
        number of public signals (:class:`VerifyingKeyMismatchError`). :meth:`use_keys` and the chain's
        ``deploy_trial`` both call it."""
        if keys.criteria_sha256 != self.program.sha256():
            raise VerifyingKeyMismatchError("these keys were made for another criteria program (its hash differs)")
        if keys.pk.n_public != len(PUBLIC_SIGNALS) or keys.vk.n_public != len(PUBLIC_SIGNALS):
            raise VerifyingKeyMismatchError("these keys expect another number of public signals")
        if keys.r1cs_sha256 != self.r1cs_sha256():
            raise VerifyingKeyMismatchError("these keys were made for another circuit (R1CS hash differs)")

    def use_keys(self, keys: TrialKeys) -> TrialKeys:
        """Adopt keys (e.g. ``TrialKeys.load(directory)``, a ceremony's) after :meth:`check_keys`."""
        self.check_keys(keys)
        self._keys = keys
        return keys

    @property
    def keys(self) -> TrialKeys:
        """The keys; :class:`EligibilityError` before :meth:`setup` or :meth:`use_keys`."""
        if self._keys is None:
            raise EligibilityError("this trial has no keys yet: call setup() or use_keys()")
        return self._keys

    def use_verifying_key(self, vk: VerifyingKey) -> None:
        """Adopt only a verifying key, for :meth:`verify` and :meth:`verify_each` (not for proving).

        The caller vouches that ``vk`` belongs to this trial's circuit (a trial file's pin does:
        :meth:`zkhealth.eligibility.TrialSpec.load_verifying_key`); here only the public-signal count is
        checked (:class:`VerifyingKeyMismatchError`)."""
        if vk.n_public != len(PUBLIC_SIGNALS):
            raise VerifyingKeyMismatchError("this verifying key expects another number of public signals")
        self._verifying_key = (vk, vk.sha256())

    def _verifier_key(self) -> tuple[VerifyingKey, str]:
        """The verifying key and its sha256: the full keys' if adopted, else :meth:`use_verifying_key`'s."""
        if self._keys is not None:
            return self._keys.vk, self._keys.vk_sha256
        if self._verifying_key is not None:
            return self._verifying_key
        raise EligibilityError("this trial has no keys yet: call setup(), use_keys() or use_verifying_key()")

    # ------------------------------------------------------------------ scope

    def scope(self, chain_id: int, enrollment_address: str) -> int:
        """The scope of this trial on ``chain_id`` at ``enrollment_address`` (what the contract computes)."""
        return trial_scope(chain_id, enrollment_address, self.trial_id)

    # ------------------------------------------------------------------ native check

    def evaluate(self, credential: RecordCredential | PatientRecord, today: int | _dt.date) -> ProgramEvaluation:
        """Evaluate the program natively (no circuit, no proof); the verdict names the failing clause."""
        return evaluate_program(self.program, credential, today)

    # ------------------------------------------------------------------ verification

    def _clock(self, today: int | _dt.date | None, now: float | None) -> tuple[int, int]:
        """``(verifier's day, verifier's unix time)``: the clock by default; a given day alone is taken at its
        last second (the strictest moment of that day for a superseded root)."""
        if now is not None and today is None:
            return int(now) // 86_400, int(now)
        day = today_epoch_day() if today is None else epoch_day(today)
        at = int(time.time()) if today is None else day * 86_400 + 86_399
        return day, at if now is None else int(now)

    def _policy(self, proof: EligibilityProof, day: int, now: int, roots: RootHistory | None,
                expected_scope: int | None, expected_recipient: int | None) -> VerifiedEligibility:
        if not isinstance(proof, EligibilityProof):
            raise MalformedProofError("expected an EligibilityProof (EligibilityProof.load reads a proof file)")
        if proof.trial_id != self.trial_id:
            raise WrongScopeError("the proof is for another trial")
        if proof.program_sha256 != self.program.sha256():
            raise VerifyingKeyMismatchError("the proof was made for another criteria program")
        if proof.vk_sha256 != self._verifier_key()[1]:
            raise VerifyingKeyMismatchError("the proof names another verifying key")
        scope = expected_scope if expected_scope is not None else self.expected_scope
        if scope is None:
            raise EligibilityError("no expected scope: pass expected_scope or create the trial with one")
        if proof.scope != scope:
            raise WrongScopeError("the proof is for another trial scope (trial, contract or chain)")
        history = roots if roots is not None else self.roots
        if history is None:
            raise EligibilityError("no trust roots to check the proof against: give roots (a trust-root file's "
                                   "or the chain's RootHistory)")
        history.check(proof.trust_root, grace_seconds=self.root_grace_seconds, now=now)
        if proof.today > day:
            raise StaleProofError("the proof's today lies after the verifier's today")
        if day - proof.today > self.accepted_window_days:
            raise StaleProofError(
                f"the proof's today is {day - proof.today} days old; the window is {self.accepted_window_days} days"
            )
        if expected_recipient is not None and proof.recipient != expected_recipient:
            raise WrongRecipientError("the proof is bound to another recipient")
        return VerifiedEligibility(proof.trial_id, proof.nullifier, proof.scope, proof.today, proof.trust_root,
                                   proof.recipient)

    def verify(
        self,
        proof: EligibilityProof,
        *,
        today: int | _dt.date | None = None,
        now: float | None = None,
        roots: RootHistory | None = None,
        expected_scope: int | None = None,
        expected_recipient: int | None = None,
    ) -> VerifiedEligibility:
        """Check everything a recruiter must check (module docstring) and return the verified signals.

        ``today`` is the verifier's day (epoch day or date), ``now`` its unix time (for the trust root's grace
        period); both default to the clock. ``roots`` defaults to :attr:`roots`. Cost: the policy checks
        (microseconds) and one Groth16 verification (about 15-25 ms).
        """
        if not isinstance(proof, EligibilityProof):
            raise ArgumentTypeError(f"expected an EligibilityProof, got {type(proof).__name__}")
        day, at = self._clock(today, now)
        result = self._policy(proof, day, at, roots, expected_scope, expected_recipient)
        vk, vk_sha256 = self._verifier_key()
        groth16.verify(vk, list(proof.public), proof.proof, pinned_sha256=vk_sha256)
        return result

    def verify_each(
        self,
        proofs: Sequence[EligibilityProof],
        *,
        today: int | _dt.date | None = None,
        now: float | None = None,
        roots: RootHistory | None = None,
        expected_scope: int | None = None,
    ) -> list[VerifiedEligibility | ZkHealthError]:
        """Verify many proofs: one outcome per proof, in order (a :class:`VerifiedEligibility`, or the error
        that refuses it). Policy checks for each, then one batched pairing check for the rest (each proof on its
        own only when the batch fails). A proof whose nullifier an earlier valid proof of the list already has
        (the same proof listed twice, a re-randomised copy, or a second proof by the same patient) is a
        :class:`DuplicateProofError`: one patient counts once. Cost: about one Miller loop per proof."""
        day, at = self._clock(today, now)
        outcomes: list[VerifiedEligibility | ZkHealthError] = []
        for proof in proofs:
            try:
                outcomes.append(self._policy(proof, day, at, roots, expected_scope, None))
            except ZkHealthError as error:
                outcomes.append(error)
        settle_batch(lambda: self._verifier_key()[0], proofs, outcomes)
        return outcomes

    def verify_batch(
        self,
        proofs: Sequence[EligibilityProof],
        *,
        today: int | _dt.date | None = None,
        now: float | None = None,
        roots: RootHistory | None = None,
        expected_scope: int | None = None,
    ) -> list[VerifiedEligibility]:
        """:meth:`verify_each`, raising the first refusal (a duplicate included) instead of returning it."""
        outcomes = self.verify_each(proofs, today=today, now=now, roots=roots, expected_scope=expected_scope)
        for outcome in outcomes:
            if isinstance(outcome, ZkHealthError):
                raise outcome
        return [outcome for outcome in outcomes if isinstance(outcome, VerifiedEligibility)]
