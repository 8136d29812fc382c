"""Trials over version-2 records: criteria program, circuit (universal or dedicated), keys, proving, verifying.

A :class:`RecordTrial` holds one trial's criteria (text or a criteria file), compiled to a
:class:`~zkhealth.eligibility.program.Program` with the trial's :class:`~zkhealth.eligibility.program.Policy`
(largest record age, one enrollment per person), the trial id and the verifier's policy: the trust roots it
accepts, how old a proof's ``today`` may be, and the expected scope.

Two circuits prove a program. ``circuit="universal"`` uses the one universal circuit (:mod:`.universal`): the
program is laid out in its slots (:func:`~zkhealth.eligibility.universal_program.fit_program`, which refuses a
program past its limits with :class:`~zkhealth.errors.UniversalLimitError`), its hash is a public signal, and
the keys are the one pinned key set (:mod:`.universal_keys`): no setup, no verifier of its own.
``circuit="dedicated"`` compiles the program into a circuit of its own (:mod:`.dedicated`): smaller proofs,
no slot limits, one setup per trial. Typical use::

    trial = RecordTrial(Path("circuits/trials/surpass2_t2d.txt"), trial_id="NCT03987919",
                        trust_roots={trust_root(trusted.root)}, scope=scope)
    print(trial.cost_report())
    trial.setup()
    proof = prove_record_eligibility(trial, issued, holder_secret, today=day, recipient=address,
                                     trusted=trusted, revocation=revocations)
    trial.verify(proof, today=day)

:func:`prove_record_eligibility` evaluates the program natively first and raises
:class:`~zkhealth.errors.NotEligibleError` naming the failing clause: no witness is solved, no proof attempted.
:meth:`RecordTrial.verify` checks: the proof's trial, circuit, program and verifying key; for the universal
circuit, that its ``program_hash`` signal is this trial's; its scope; its ``today`` (never after the verifier's
day, at most ``accepted_window_days`` before); its trust root (one the verifier accepts); its recipient when one
is expected; then the Groth16 proof.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from zkhealth import groth16
from zkhealth._json import loads_strict
from zkhealth.circuit import CompiledCircuit
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, today_epoch_day
from zkhealth.credentials.record import RecordCredential
from zkhealth.credentials.record_vc import IssuedRecord, is_record_document, parse_record_document
from zkhealth.credentials.trees import NonMembershipProof, RevocationTree, verify_non_membership
from zkhealth.credentials.trust import (
    IssuerMembership,
    PersonMembership,
    PersonRegistry,
    TrustedIssuers,
    empty_person_root,
    trust_root,
    trusted_issuer_leaf,
)
from zkhealth.credentials.wallet import Wallet
from zkhealth.eligibility.batch import settle_batch
from zkhealth.eligibility.check import check_criteria_file
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS, compile_dedicated_circuit, dedicated_inputs
from zkhealth.eligibility.evaluate import ProgramEvaluation, evaluate_program, today_values
from zkhealth.eligibility.program import Policy, Program, compile_program
from zkhealth.eligibility.scope import trial_id_bytes
from zkhealth.eligibility.universal import PUBLIC_SIGNALS as UNIVERSAL_SIGNALS
from zkhealth.eligibility.universal import compile_universal_circuit, universal_inputs
from zkhealth.eligibility.universal_program import UNIVERSAL_SHAPE, UniversalProgram, UniversalShape, fit_program
from zkhealth.errors import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    EligibilityError,
    MalformedProofError,
    NotEligibleError,
    StaleProofError,
    UnknownIssuerError,
    UntrustedRootError,
    VerifyingKeyMismatchError,
    WrongProgramError,
    WrongRecipientError,
    WrongScopeError,
    ZkHealthError,
)
from zkhealth.field import FIELD_R
from zkhealth.formats.snarkjs_json import parse_public_signal, proof_from_dict, proof_to_dict
from zkhealth.groth16.keys import Proof, ProvingKey, VerifyingKey
from zkhealth.signature.eddsa_poseidon import Signature

if TYPE_CHECKING:
    from zkhealth.formats.ptau_file import PtauFile
    from zkhealth.formats.zkey_file import ZkeyFile

__all__ = [
    "CIRCUITS", "UNIVERSAL", "RecordProof", "RecordTrial", "VerifiedRecordEligibility", "prove_record_eligibility",
]

#: The circuits a version-2 trial can use, with their public signals.
#: The circuit kind of a universal trial (its trial file says ``"kind": "universal"``).
UNIVERSAL: Final[str] = "universal"
CIRCUITS: Final[dict[str, tuple[str, ...]]] = {"dedicated": PUBLIC_SIGNALS, UNIVERSAL: UNIVERSAL_SIGNALS}

PROOF_FORMAT: Final[str] = "zkhealth.eligibility-proof"
PROOF_VERSION: Final[int] = 2
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PROOF_KEYS: Final[frozenset[str]] = frozenset(
    {"format", "version", "circuit", "trialId", "programSha256", "verifyingKeySha256", "publicSignals", "proof",
     "public"}
)


def _epoch_day(today: int | _dt.date) -> int:
    return today_values(today)[0] - CLINICAL_DATE_OFFSET


@dataclass(frozen=True)
class RecordProof:
    """A Groth16 proof of a version-2 circuit (``circuit``: ``dedicated``, five public signals, or
    ``universal``, six), its public signals and the pins (trial id, program sha256, verifying-key hash). JSON:
    format ``zkhealth.eligibility-proof`` version 2, with snarkjs ``proof`` and ``public`` inside."""

    trial_id: bytes
    program_sha256: str
    vk_sha256: str
    proof: Proof
    public: tuple[int, ...]
    circuit: str = "dedicated"

    def __post_init__(self) -> None:
        if self.circuit not in CIRCUITS:
            raise MalformedProofError(f"circuit must be one of {', '.join(CIRCUITS)}")
        if not isinstance(self.trial_id, bytes) or len(self.trial_id) != 32:
            raise MalformedProofError("trial_id must be 32 bytes")
        for name in ("program_sha256", "vk_sha256"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise MalformedProofError(f"{name} must be 64 lower-case hex digits")
        if not isinstance(self.proof, Proof):
            raise MalformedProofError("proof must be a groth16 Proof")
        names = CIRCUITS[self.circuit]
        if len(self.public) != len(names):
            raise MalformedProofError(f"a {self.circuit} eligibility proof has {len(names)} public signals")
        object.__setattr__(self, "public", tuple(
            parse_public_signal(str(v) if isinstance(v, int) and not isinstance(v, bool) else v, i)
            for i, v in enumerate(self.public)))

    @property
    def signals(self) -> dict[str, int]:
        """The public signals by name."""
        return dict(zip(CIRCUITS[self.circuit], self.public, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "circuit": self.circuit,
            "trialId": "0x" + self.trial_id.hex(),
            "programSha256": self.program_sha256,
            "verifyingKeySha256": self.vk_sha256,
            "publicSignals": {name: str(value) for name, value in self.signals.items()},
            "proof": proof_to_dict(self.proof),
            "public": [str(v) for v in self.public],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str | bytes) -> RecordProof:
        """Parse strictly (exact keys, canonical decimals, signals below r, named signals agree)."""
        obj = loads_strict(data, what="eligibility proof", error=MalformedProofError)
        if not isinstance(obj, dict) or set(obj) != _PROOF_KEYS:
            raise MalformedProofError("eligibility proof: unexpected keys")
        if obj["format"] != PROOF_FORMAT or obj["version"] != PROOF_VERSION or isinstance(obj["version"], bool):
            raise MalformedProofError("eligibility proof: not a version-2 eligibility proof")
        trial = obj["trialId"]
        if not isinstance(trial, str) or not trial.startswith("0x") or not _HEX64.fullmatch(trial[2:]):
            raise MalformedProofError("eligibility proof: trialId must be 0x and 64 lower-case hex digits")
        circuit = obj["circuit"]
        if not isinstance(circuit, str) or circuit not in CIRCUITS:
            raise MalformedProofError(f"eligibility proof: circuit must be one of {', '.join(CIRCUITS)}")
        names = CIRCUITS[circuit]
        public_list = obj["public"]
        if not isinstance(public_list, list) or len(public_list) != len(names):
            raise MalformedProofError(f"eligibility proof: public must list {len(names)} signals")
        public = tuple(parse_public_signal(value, index) for index, value in enumerate(public_list))
        named = obj["publicSignals"]
        if not isinstance(named, dict) or set(named) != set(names):
            raise MalformedProofError("eligibility proof: publicSignals must name every public signal")
        for index, name in enumerate(names):
            if parse_public_signal(named[name], index) != public[index]:
                raise MalformedProofError(f"eligibility proof: publicSignals.{name} differs from public[{index}]")
        return cls(bytes.fromhex(trial[2:]), obj["programSha256"], obj["verifyingKeySha256"],
                   proof_from_dict(obj["proof"]), public, circuit)


@dataclass(frozen=True)
class VerifiedRecordEligibility:
    """What :meth:`RecordTrial.verify` returns for a valid proof."""

    trial_id: bytes
    nullifier: int
    scope: int
    today: int
    trust_root: int
    recipient: int


class RecordTrial:
    """One trial over version-2 records (module docstring). ``criteria`` is text or a criteria file path;
    ``circuit`` is ``"dedicated"`` or ``"universal"`` (``shape``: the universal circuit's, the shipped one by
    default)."""

    def __init__(
        self,
        criteria: str | os.PathLike[str],
        *,
        trial_id: bytes | str,
        name: str | None = None,
        policy: Policy | None = None,
        accepted_window_days: int = 1,
        trust_roots: Iterable[int] | int | None = None,
        scope: int | None = None,
        circuit: str = "dedicated",
        shape: UniversalShape = UNIVERSAL_SHAPE,
    ) -> None:
        metadata: dict[str, str] = {}
        if isinstance(criteria, os.PathLike):
            check = check_criteria_file(criteria, policy)
            text, metadata, program = check.text, check.metadata, check.program
        elif isinstance(criteria, str):
            text, program = criteria, compile_program(criteria, policy)
        else:
            raise EligibilityError("criteria must be text or a path to a criteria file")
        if circuit not in CIRCUITS:
            raise EligibilityError(f"circuit must be one of {', '.join(CIRCUITS)}")
        self.circuit = circuit
        self.text = text
        self.program: Program = program
        #: The program laid out for the universal circuit (``None`` for a dedicated trial).
        self.universal: UniversalProgram | None = fit_program(program, shape) if circuit == "universal" else None
        self.metadata = metadata
        self.name = name if name is not None else metadata.get("name", "")
        self.trial_id = trial_id_bytes(trial_id)
        if isinstance(accepted_window_days, bool) or not 0 <= accepted_window_days <= 366:
            raise EligibilityError("accepted_window_days must be an int in [0, 366]")
        self.accepted_window_days = accepted_window_days
        roots = [trust_roots] if isinstance(trust_roots, int) else list(trust_roots or ())
        if any(isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < FIELD_R for r in roots):
            raise EligibilityError("trust roots must be field elements")
        self.trust_roots = frozenset(roots)
        if scope is not None and (isinstance(scope, bool) or not isinstance(scope, int) or not 0 <= scope < FIELD_R):
            raise EligibilityError("scope must be a field element")
        self.expected_scope = scope
        self._compiled: CompiledCircuit | None = None
        self._keys: tuple[ProvingKey, VerifyingKey] | None = None
        self._vk: VerifyingKey | None = None
        #: The final hash of the ceremony the keys come from (:meth:`ceremony_keys`); ``None`` otherwise.
        self.ceremony: str | None = None

    @property
    def public_signals(self) -> tuple[str, ...]:
        """The names of this trial's public signals, in order."""
        return CIRCUITS[self.circuit]

    @property
    def program_hash(self) -> int | None:
        """The universal circuit's public ``program_hash`` of this trial (``None`` for a dedicated trial)."""
        return self.universal.program_hash if self.universal is not None else None

    @property
    def uses_pinned_keys(self) -> bool:
        """Whether this trial proves with the package's pinned universal key set (the shipped shape)."""
        return self.universal is not None and self.universal.shape == UNIVERSAL_SHAPE

    def compile(self) -> CompiledCircuit:
        """The circuit (compiled once): the dedicated circuit of this program, or the universal circuit."""
        if self._compiled is None:
            if self.universal is not None:
                self._compiled = compile_universal_circuit(self.universal.shape)
            else:
                self._compiled = compile_dedicated_circuit(self.program)
        return self._compiled

    def setup(self) -> tuple[ProvingKey, VerifyingKey]:
        """Development Groth16 keys for this trial's circuit (the process knows the toxic waste). A universal
        trial of the shipped shape needs none: it uses the pinned key set (:mod:`.universal_keys`); this is for
        dedicated trials and universal circuits of other shapes (tests)."""
        keys = groth16.setup(self.compile().r1cs)
        self._keys = keys
        self._vk = keys[1]
        self.ceremony = None
        return keys

    def ceremony_keys(self, zkey: ZkeyFile, ptau: PtauFile, *, final_hash: str | None = None,
                      workers: int | None = None) -> str:
        """Adopt a ceremony's final ``.zkey`` for this trial's circuit after ``zkey verify`` against the circuit
        and the prepared ``ptau`` (:class:`~zkhealth.errors.ContributionError` for a key of another circuit, a
        tampered key or one without a contribution) and, with ``final_hash`` (what ``zkhealth ceremony verify``
        printed), the key's final hash (:class:`~zkhealth.errors.TranscriptError`); then :meth:`use_keys`.
        Returns the final hash, kept in :attr:`ceremony`. The keys' provenance is then ``ceremony``, not
        ``dev-setup`` as :meth:`setup`'s. (A universal trial of the shipped shape takes only the pinned set:
        a release adopts a ceremony's with ``zkhealth universal-keys import``.)"""
        from zkhealth.ceremony import phase2
        from zkhealth.formats.zkey_file import proving_key_from_zkey

        report = phase2.verify(zkey, self.compile().r1cs, ptau, workers=workers)
        final = phase2.final_hash(report, expected=final_hash)
        self.use_keys(proving_key_from_zkey(zkey))
        self.ceremony = final
        return final

    def use_keys(self, pk: ProvingKey) -> None:
        """Adopt a proving key (its verifying key is inside); it must belong to this circuit (and, for the
        shipped universal shape, be the pinned key set)."""
        n = self.compile().r1cs.n_constraints
        if pk.n_public != len(self.public_signals) or (pk.n_constraints is not None and pk.n_constraints != n):
            raise VerifyingKeyMismatchError("these keys belong to another circuit")
        if self.uses_pinned_keys and pk.vk.sha256() != self.verifying_key.sha256():
            raise VerifyingKeyMismatchError("these are not the pinned universal keys")
        self._keys = (pk, pk.vk)
        self._vk = pk.vk
        self.ceremony = None

    @property
    def verifying_key(self) -> VerifyingKey:
        """The verifying key: the pinned universal one, or this trial's (after :meth:`setup` / :meth:`use_keys`)."""
        if self._vk is None and self.uses_pinned_keys:
            from zkhealth.eligibility.universal_keys import pinned_verifying_key

            self._vk = pinned_verifying_key()
        if self._vk is None:
            raise EligibilityError("this trial has no keys yet: call setup() or use_keys()")
        return self._vk

    @property
    def keys(self) -> tuple[ProvingKey, VerifyingKey]:
        """The proving and verifying keys (a universal trial of the shipped shape loads the installed pinned
        proving key on first use: :func:`~zkhealth.eligibility.universal_keys.load_proving_key`)."""
        if self._keys is None and self.uses_pinned_keys:
            from zkhealth.eligibility.universal_keys import load_proving_key

            self.use_keys(load_proving_key())
        if self._keys is None:
            raise EligibilityError("this trial has no keys yet: call setup() or use_keys()")
        return self._keys

    def evaluate(self, credential: RecordCredential, today: int | _dt.date) -> ProgramEvaluation:
        """The native verdict on a credential."""
        return evaluate_program(self.program, credential, today)

    def cost_report(self) -> str:
        """Constraints per part (and per atom for a dedicated circuit), the slots a universal program uses, and
        the QAP domain (needs the compiled circuit only)."""
        compiled = self.compile()
        rows = {row.path: row.after for row in compiled.report().rows}
        n = compiled.r1cs.n_constraints
        total = n + len(self.public_signals) + 1
        domain = 1 << (total - 1).bit_length()
        lines = [f"criteria: {self.text}", f"circuit: {self.circuit}",
                 f"constraints: {n} (+{len(self.public_signals) + 1} public-input rows = {total}; QAP domain "
                 f"2^{domain.bit_length() - 1}); wires {compiled.r1cs.n_wires}", "per part:"]
        lines += [f"  {path.split('/', 1)[1]:<40} {count:>7}" for path, count in rows.items() if path.count("/") == 1]
        if self.universal is not None:
            lines.append(f"slots used: {self.universal.describe_usage()}")
            lines.append(f"program hash: {self.universal.program_hash}")
            return "\n".join(lines)
        lines.append("per atom:")
        lines += [f"  atom{i:<3} {rows.get(f'eligibility/criteria/atom{i}', 0):>7}  {atom.describe()}"
                  for i, atom in enumerate(self.program.atoms)]
        return "\n".join(lines)

    def verify(self, proof: RecordProof | str | bytes, *, today: int | _dt.date | None = None,
               expected_scope: int | None = None, expected_recipient: int | None = None) -> VerifiedRecordEligibility:
        """Check everything a recruiter must check (module docstring) and return the verified signals."""
        parsed = proof if isinstance(proof, RecordProof) else RecordProof.from_json(proof)
        day = today_epoch_day() if today is None else _epoch_day(today)
        verified = self._policy(parsed, day, expected_scope, expected_recipient)
        vk = self.verifying_key
        groth16.verify(vk, list(parsed.public), parsed.proof, pinned_sha256=vk.sha256())
        return verified

    def verify_each(self, proofs: Sequence[RecordProof], *, today: int | _dt.date | None = None,
                    expected_scope: int | None = None) -> list[VerifiedRecordEligibility | ZkHealthError]:
        """Verify many proofs: one outcome per proof, in order (the verified signals, or the error that refuses
        it). The policy checks of :meth:`verify` for each, then one batched pairing check for the rest (each proof
        on its own only when the batch fails). A proof whose nullifier an earlier valid proof of the list already
        has (the same proof listed twice, or a second proof by the same patient) is a
        :class:`~zkhealth.errors.DuplicateProofError`: one patient counts once. Cost: about one Miller loop per
        proof."""
        day = today_epoch_day() if today is None else _epoch_day(today)
        outcomes: list[VerifiedRecordEligibility | ZkHealthError] = []
        for proof in proofs:
            try:
                outcomes.append(self._policy(proof, day, expected_scope, None))
            except ZkHealthError as error:
                outcomes.append(error)
        settle_batch(lambda: self.verifying_key, proofs, outcomes)
        return outcomes

    def _policy(self, parsed: RecordProof, day: int, expected_scope: int | None,
                expected_recipient: int | None) -> VerifiedRecordEligibility:
        """Every check of :meth:`verify` but the pairing check: pins, program, scope, day window, trust root and
        recipient."""
        vk = self.verifying_key
        if parsed.trial_id != self.trial_id:
            raise WrongScopeError("the proof is for another trial")
        if parsed.circuit != self.circuit:
            raise VerifyingKeyMismatchError(f"the proof was made with the {parsed.circuit} circuit, this trial uses "
                                            f"the {self.circuit} circuit")
        if parsed.program_sha256 != self.program.sha256():
            raise WrongProgramError("the proof was made for another criteria program")
        if parsed.vk_sha256 != vk.sha256():
            raise VerifyingKeyMismatchError("the proof names another verifying key")
        signals = parsed.signals
        if self.universal is not None and signals["program_hash"] != self.universal.program_hash:
            raise WrongProgramError("the proof's program hash is not this trial's program")
        scope = expected_scope if expected_scope is not None else self.expected_scope
        if scope is None:
            raise EligibilityError("no expected scope: pass expected_scope or create the trial with one")
        if signals["scope"] != scope:
            raise WrongScopeError("the proof is for another trial scope (trial, contract or chain)")
        if signals["today"] > day or day - signals["today"] > self.accepted_window_days:
            raise StaleProofError("the proof's today lies outside the accepted window")
        if signals["trust_root"] not in self.trust_roots:
            raise UntrustedRootError("the proof uses a trust root this verifier does not accept")
        if expected_recipient is not None and signals["recipient"] != expected_recipient:
            raise WrongRecipientError("the proof is bound to another recipient")
        return VerifiedRecordEligibility(parsed.trial_id, signals["nullifier"], signals["scope"], signals["today"],
                                         signals["trust_root"], signals["recipient"])


def _pairs(source: object) -> list[tuple[RecordCredential, Signature]]:
    if isinstance(source, IssuedRecord):
        return [(source.credential, source.signature)]
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], RecordCredential):
        if not isinstance(source[1], Signature):
            raise EligibilityError("a (RecordCredential, Signature) pair needs an eddsa_poseidon.Signature")
        return [(source[0], source[1])]
    if isinstance(source, dict | str | bytes):
        if not is_record_document(source):
            return []  # a version-1 document: readable, not provable
        credential, signature, _ = parse_record_document(source)
        return [(credential, signature)]
    if isinstance(source, list):
        return [pair for item in source for pair in _pairs(item)]
    raise EligibilityError("expected an IssuedRecord, a version-2 VC document, a (RecordCredential, Signature) "
                           "pair or a list of them")


def prove_record_eligibility(
    trial: RecordTrial,
    credentials: object,
    holder_secret: int | None = None,
    *,
    today: int | _dt.date | None = None,
    recipient: int,
    trusted: TrustedIssuers,
    revocation: RevocationTree | NonMembershipProof,
    person: PersonRegistry | PersonMembership | None = None,
    person_root: int | None = None,
    scope: int | None = None,
) -> RecordProof:
    """Prove that the holder meets ``trial``'s program, after checking it natively (module docstring).

    ``credentials``: an open :class:`~zkhealth.credentials.wallet.Wallet` (its holder secret and documents), or
    one or several version-2 credentials with ``holder_secret`` (the first eligible one is used; version-1
    documents are skipped: they are not provable). Raises, before any witness is solved:
    :class:`NotEligibleError` naming the failing clause, :class:`CredentialNotYetValidError` /
    :class:`CredentialExpiredError`, :class:`UnknownIssuerError`, revocation errors, and
    :class:`UntrustedRootError` when the trust root is not one the trial accepts.
    """
    day = today_epoch_day() if today is None else _epoch_day(today)
    if isinstance(credentials, Wallet):
        holder_secret = credentials.holder_secret if holder_secret is None else holder_secret
        credentials = list(credentials.credentials)
    if holder_secret is None:
        raise EligibilityError("holder_secret is required unless a wallet is given")
    pairs = _pairs(credentials)
    if not pairs:
        raise NotEligibleError("no version-2 credential to prove with (version-1 credentials must be re-issued)",
                               clause=None)
    chosen: tuple[RecordCredential, Signature] | None = None
    first: ProgramEvaluation | None = None
    for credential, signature in pairs:
        verdict = trial.evaluate(credential, day)
        if verdict.eligible:
            chosen = (credential, signature)
            break
        first = first or verdict
    if chosen is None:
        if first is not None:
            first.raise_if_not_eligible()
        raise NotEligibleError("not eligible", clause=None)
    credential, signature = chosen
    if day < credential.issued_at:
        raise CredentialNotYetValidError("the credential is not valid yet on this day")
    if day >= credential.expires_at:
        raise CredentialExpiredError("the credential has expired on this day")
    membership: IssuerMembership = trusted.membership(credential.issuer_public_key)
    if membership.proof.leaf != trusted_issuer_leaf(credential.issuer_public_key, membership.revocation_root):
        raise UnknownIssuerError("the registry proof is for another issuer")
    if isinstance(revocation, RevocationTree):
        revocation = revocation.non_membership_proof(credential.credential_id)
    verify_non_membership(membership.revocation_root, credential.credential_id, revocation)
    person_membership: PersonMembership | None = None
    if trial.program.policy.one_per_person:
        if isinstance(person, PersonRegistry):
            person_membership = person.membership(credential.subject_commitment)
        elif isinstance(person, PersonMembership):
            person_membership = person
        else:
            raise EligibilityError("a one-per-person trial needs the person registry")
        chosen_root = trust_root(membership.proof.compute_root(), person_membership.proof.compute_root())
    else:
        chosen_root = trust_root(membership.proof.compute_root(),
                                 person_root if person_root is not None else empty_person_root())
    if trial.trust_roots and chosen_root not in trial.trust_roots:
        raise UntrustedRootError("the trust root of these proofs is not one this trial accepts")
    chosen_scope = scope if scope is not None else trial.expected_scope
    if chosen_scope is None:
        raise EligibilityError("no scope: pass scope= or create the trial with one")
    compiled = trial.compile()
    pk, vk = trial.keys
    if trial.universal is not None:
        inputs = universal_inputs(trial.universal, credential, signature, holder_secret=holder_secret, today=day,
                                  recipient=recipient, scope=chosen_scope, issuer=membership, revocation=revocation,
                                  person=person_membership, person_root=person_root)
    else:
        inputs = dedicated_inputs(trial.program, credential, signature, holder_secret=holder_secret, today=day,
                                  recipient=recipient, scope=chosen_scope, issuer=membership, revocation=revocation,
                                  person=person_membership, person_root=person_root)
    witness = compiled.solve_witness(inputs)
    proof = groth16.prove(pk, witness, r1cs=compiled.r1cs)
    return RecordProof(trial.trial_id, trial.program.sha256(), vk.sha256(), proof,
                       tuple(compiled.public_signals(witness)), trial.circuit)
