"""The one exception hierarchy of zkhealth.

Every error the library raises on purpose derives from :class:`ZkHealthError`. Each subclass also derives
from the builtin a caller would expect (``ValueError`` for bad values, ``TypeError`` for wrong types), so
``except ValueError`` keeps working. Tests assert the class, never the message.

Two marker bases sort the errors a caller can act on:

* :class:`MalformedInputError`: the input itself is malformed (bad JSON, a non-canonical number, a point off
  the curve, a truncated key file). The ``zkhealth`` command exits with code 2.
* :class:`RefusedError`: the input is well formed but refused (an invalid proof, an ineligible patient, a
  revoked credential, a reverted transaction). The command exits with code 1.

Everything else (a circuit that fails its lints, a missing key, an unreachable node) exits with code 3. A
class under both markers counts as malformed.

Messages say what was wrong and, where it helps, what to do about it. They never contain secret material.
"""

from __future__ import annotations

from typing import Any


class ZkHealthError(Exception):
    """Root of every error zkhealth raises deliberately."""


class MalformedInputError(ZkHealthError):
    """Marker base: the input is malformed (the command exits with code 2)."""


class RefusedError(ZkHealthError):
    """Marker base: the input is well formed but refused (the command exits with code 1)."""


class ArgumentTypeError(MalformedInputError, TypeError):
    """A public function was called with an argument of the wrong type (``None`` for a sequence, a str for a
    key). Catchable as ``TypeError``."""


# --------------------------------------------------------------------------- files and stored state


class FileAccessError(MalformedInputError, OSError):
    """A file cannot be read or written where it was named: it is missing, a directory, not permitted, or
    its directory does not exist. The message names the file. Catchable as ``OSError``."""


class StorageError(ZkHealthError, OSError):
    """Writing failed for a reason outside the input (a full disk, an I/O error). The old file, if any, is
    left as it was. Catchable as ``OSError``."""


class CorruptStateError(MalformedInputError, ValueError):
    """Stored state (a revocation database, a keys directory) fails its own integrity check: a checksum or a
    recomputed root differs from what the file claims. Nothing read from it is served."""


class ResourceBusyError(ZkHealthError, RuntimeError):
    """Another process holds the lock on a database or a wallet for longer than the wait allows."""


# --------------------------------------------------------------------------- encoding and fields


class EncodingError(MalformedInputError, ValueError):
    """A value could not be encoded or decoded (dates, codes, strings, numbers)."""


class NonCanonicalEncodingError(EncodingError):
    """A number or point was written in a non-canonical form (``"0012"``, ``"1_000"``, ``x + q``...)."""


class FieldRangeError(EncodingError):
    """An integer lies outside [0, r) where a canonical field element was required."""


class FieldTypeError(MalformedInputError, TypeError):
    """A value of the wrong Python type was given where a field element was required (bool, float...)."""


# --------------------------------------------------------------------------- curves and points


class PointError(MalformedInputError, ValueError):
    """A curve point is unusable."""


class PointNotOnCurveError(PointError):
    """The coordinates do not satisfy the curve equation."""


class PointNotInSubgroupError(PointError):
    """The point is on the curve but outside the prime-order subgroup."""


class PointAtInfinityError(PointError):
    """The identity appeared where a non-identity point is required."""


# --------------------------------------------------------------------------- signatures


class SignatureError(RefusedError, ValueError):
    """A signature is malformed or does not verify. Wraps, and never leaks, backend exceptions."""


class InvalidKeyError(ZkHealthError, ValueError):
    """A key is malformed (wrong length, wrong encoding)."""


class WeakIssuerKeyError(SignatureError):
    """An issuer public key is the identity or of small order: it would verify forged signatures."""


# --------------------------------------------------------------------------- circuits


class CircuitError(ZkHealthError, ValueError):
    """Base class of circuit description, compilation and witness errors."""


class CircuitDefinitionError(CircuitError):
    """The circuit description is invalid (bad parameters, wrong signal use)."""


class UnconstrainedSignalError(CircuitDefinitionError):
    """A hint output (or other signal) is used by no constraint: a prover could set it freely."""


class UnusedPublicInputError(CircuitDefinitionError):
    """A public input appears in no constraint, so a proof would not bind it."""


class GatedSecurityCheckError(CircuitDefinitionError):
    """A security check can be switched off by a witness-controlled flag."""


class WitnessError(CircuitError):
    """Witness solving failed or a constraint is not satisfied by the given values."""


class UnderconstrainedError(CircuitError):
    """Two different witnesses satisfy the circuit for the same public values where uniqueness is required."""


class ConstraintCountDriftError(CircuitError):
    """A pinned constraint count changed."""


class R1csFormatError(EncodingError):
    """A ``.r1cs``, ``.wtns`` or ``.zkey`` file is malformed or unsupported."""


# --------------------------------------------------------------------------- Groth16


class ProofError(ZkHealthError, ValueError):
    """Base class of proof and key errors."""


class MalformedProofError(ProofError, MalformedInputError):
    """The proof, key or public inputs are not well formed (JSON, shapes, lengths, numbers, points)."""


class PublicInputOutOfRangeError(MalformedProofError):
    """A public input is not below r. Raised before any reduction, so ``x + r`` can never alias ``x``."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class PublicInputCountError(MalformedProofError):
    """The number of public inputs differs from what the verifying key expects."""

    def __init__(self, message: str, *, expected: int | None = None, got: int | None = None) -> None:
        super().__init__(message)
        self.expected = expected
        self.got = got


class InvalidProofError(ProofError, RefusedError):
    """A well-formed proof does not verify against these public inputs and this key."""


class InsecureVerifyingKeyError(ProofError):
    """The verifying key allows forgeries (gamma == delta, or delta is the G2 generator)."""


class DevSetupKeyError(ProofError):
    """A development-setup key was used where production keys are required."""


class VerifyingKeyMismatchError(ProofError, RefusedError):
    """The verifying key is not the pinned one for this circuit."""


# --------------------------------------------------------------------------- credentials and issuers


class CredentialError(RefusedError, ValueError):
    """Base class of credential errors."""


class SchemaMismatchError(CredentialError):
    """The credential or proof is for another schema or schema version."""


class CredentialExpiredError(CredentialError):
    """The credential's expiry lies before the reference day."""


class CredentialNotYetValidError(CredentialError):
    """The credential's validity starts after the reference day."""


class CredentialRevokedError(CredentialError):
    """The credential id is in the issuer's revocation tree."""


class UnknownIssuerError(CredentialError):
    """The issuer key is not in the trusted-issuer registry."""


class FhirImportError(CredentialError):
    """A FHIR bundle holds an unsupported coding, unit or resource."""


class MalformedFhirError(FhirImportError, MalformedInputError):
    """The FHIR document itself is malformed: not JSON, not a Bundle, or not valid FHIR R4 (exit code 2, where
    an unsupported coding or unit in a valid bundle is a refusal, exit code 1)."""


class CodeMapError(FhirImportError, MalformedInputError):
    """The issuer's code map file (``--code-map``, alias ``--rxnorm-map``) is malformed: not a CSV of the stated
    columns, a code of the wrong system for its column, a code mapped twice, or a file above the size limit. The
    message names the file and the line."""


class FutureDateError(CredentialError):
    """A date lies after the day it is recorded on (a birth or a diagnosis after issuance). Issuers can allow
    it explicitly for the rare legitimate case (``allow_future_dates``)."""


class CorruptDatabaseError(CredentialError, CorruptStateError):
    """A revocation database is not one, or fails its integrity check (checksum, root, sorted-list
    invariant). Catchable as :class:`CredentialError` and :class:`CorruptStateError` (exit code 2)."""


class MerkleProofError(CredentialError):
    """A Merkle inclusion or non-inclusion proof does not check."""


class PersonRegistryError(CredentialError):
    """The person registry refuses: a holder commitment or person registered twice, one not registered, or
    registered too late for a one-per-person trial."""


class RollbackError(CredentialError):
    """A signed statement (an issuer's revocation root, a published trust root) is older than the one already
    accepted: accepting it would undo revocations."""


# --------------------------------------------------------------------------- wallets


class WalletError(ZkHealthError, ValueError):
    """Base class of wallet file errors."""


class WalletDecryptionError(WalletError, RefusedError):
    """Wrong passphrase, tampering or truncation. No partial plaintext is ever returned."""


class WalletFormatError(WalletError, MalformedInputError):
    """The wallet header is malformed or asks for parameters outside the accepted bounds."""


class WeakKdfParametersError(WalletFormatError):
    """The Argon2id parameters in the header are below the enforced floor."""


class UnsupportedWalletVersionError(WalletError):
    """The wallet file has a version this library does not read."""


class WalletConflictError(WalletError):
    """The wallet file changed on disk since this wallet was opened (another process saved it): saving now
    would lose that change, so nothing is written. Reopen the wallet and apply the change again."""


# --------------------------------------------------------------------------- eligibility


class EligibilityError(ZkHealthError, ValueError):
    """Base class of eligibility errors."""


class CriteriaSyntaxError(EligibilityError, MalformedInputError):
    """The criteria text does not parse. ``column`` points at the offending character (1-based)."""

    def __init__(self, message: str, *, column: int | None = None, text: str | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.text = text


class NotEligibleError(EligibilityError, RefusedError):
    """The patient does not meet the criteria. ``clause`` names the first failing clause."""

    def __init__(self, message: str, *, clause: str | None = None) -> None:
        super().__init__(message)
        self.clause = clause


class StaleProofError(EligibilityError, RefusedError):
    """The proof's ``today`` lies outside the verifier's accepted window."""


class UntrustedRootError(EligibilityError, RefusedError):
    """The proof uses a trust root the verifier does not accept (never published by the registry operator)."""


class StaleRootError(UntrustedRootError):
    """The proof's trust root was published, but superseded longer ago than the trial's grace period allows
    (``StaleRoot()`` on-chain)."""


class DuplicateProofError(EligibilityError, RefusedError):
    """A proof, or its nullifier, was already counted: one patient, one enrollment per trial."""


class WrongScopeError(EligibilityError, RefusedError):
    """The proof is for another trial, chain or contract."""


# --------------------------------------------------------------------------- chain


class ChainError(ZkHealthError, RuntimeError):
    """Base class of on-chain client errors."""


class ContractRevertError(ChainError, RefusedError):
    """A transaction reverted. ``error_name`` holds the decoded custom error, if any."""

    def __init__(self, message: str, *, error_name: str | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name


class NullifierAlreadyUsedError(ContractRevertError):
    """The nullifier was already used: this patient is already enrolled in this trial."""


class ChainFileError(ChainError, MalformedInputError):
    """A file of the chain's verbs (a proposal) is malformed: not the JSON the verb wrote, or missing members."""


class RpcAnswerError(ChainError):
    """A node's answer is malformed or unusable (a log without its topics, a block number that is not a
    number, an error where a result was due). Nothing from it is used."""


class ArtifactStaleError(ChainError):
    """A compiled contract artifact does not match its Solidity source."""


# --------------------------------------------------------------------------- hazmat (MSM, NTT, worker processes)


class InputLengthError(ZkHealthError, ValueError):
    """Sequences have mismatched lengths, or an NTT size is not a power of two in [1, 2^28]."""


class InvalidArgumentError(ZkHealthError, ValueError):
    """A low-level parameter is outside its documented range (a worker count, an NTT coset shift of 0)."""


class WorkerError(ZkHealthError, RuntimeError):
    """A worker process of :mod:`zkhealth.hazmat.parallel` failed or exited unexpectedly."""


# --------------------------------------------------------------------------- circuit details


class UnsatisfiedConstraintError(WitnessError):
    """A witness violates a constraint. ``index`` is the R1CS row (``None`` if the optimizer substituted the
    constraint away), ``label`` its scope path, ``source`` the ``file:line`` that created it, and ``lhs`` /
    ``rhs`` the values of ``A*B`` and ``C``."""

    def __init__(
        self, message: str, *, index: int | None, label: str, source: str, lhs: int, rhs: int
    ) -> None:
        super().__init__(message)
        self.index = index
        self.label = label
        self.source = source
        self.lhs = lhs
        self.rhs = rhs


class UnderconstrainedWitnessError(UnderconstrainedError):
    """Two full witnesses that both satisfy the R1CS, share the inputs and differ on the compared signals."""

    def __init__(self, message: str, *, witness_a: list[int], witness_b: list[int], signal: str) -> None:
        super().__init__(message)
        self.witness_a = witness_a
        self.witness_b = witness_b
        self.signal = signal


# --------------------------------------------------------------------------- signature details


class MalformedSignatureError(SignatureError):
    """A signature is not well formed: S outside [0, l), a coordinate not below r, a bad packed encoding."""


class SignatureTypeError(MalformedSignatureError, TypeError):
    """A signature or key component has the wrong Python type (bool, float, str where an int is needed)."""


class SignaturePointNotOnCurveError(MalformedSignatureError, PointNotOnCurveError):
    """R8 or the public key A is off the curve. Catchable as SignatureError and as PointNotOnCurveError."""


class SignaturePointNotInSubgroupError(MalformedSignatureError, PointNotInSubgroupError):
    """The public key A is on the curve but outside the prime-order subgroup (it has a torsion component)."""


class InvalidSignatureError(SignatureError):
    """A well-formed signature does not verify for this message and this public key."""


# --------------------------------------------------------------------------- eligibility details


class WrongRecipientError(EligibilityError, RefusedError):
    """The eligibility proof is bound to another recipient address than the one the verifier expected."""


# --------------------------------------------------------------------------- trusted-setup ceremony (issue 16)


class CeremonyError(ZkHealthError, ValueError):
    """A ceremony step cannot run as asked (bad parameters, a file that does not fit the step)."""


class CeremonyFileError(R1csFormatError, CeremonyError):
    """A ``.ptau``, ``.zkey`` or transcript file is malformed. ``path`` names the file and ``section`` the part
    (a section number, or ``None`` for the container itself)."""

    def __init__(self, message: str, *, path: str | None = None, section: int | str | None = None) -> None:
        where = path if path is not None else "<bytes>"
        if section is not None:
            where += f", section {section}"
        super().__init__(f"{where}: {message}")
        self.message = message
        self.path = path
        self.section = section

    def __reduce__(self) -> tuple[Any, ...]:  # the ceremony's worker processes send errors back pickled
        return (_rebuild, (type(self), (self.message,), {"path": self.path, "section": self.section}))


class ContributionError(CeremonyError, RefusedError):
    """A ceremony file does not verify: a contribution, a section or a hash chain is wrong. ``check`` names
    the failing check, ``contribution`` the contribution (1-based) it concerns, when one does."""

    def __init__(self, message: str, *, check: str, contribution: int | None = None, path: str | None = None) -> None:
        prefix = f"{path}: " if path is not None else ""
        if contribution is not None:
            prefix += f"contribution #{contribution}: "
        super().__init__(prefix + message)
        self.message = message
        self.check = check
        self.contribution = contribution
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        keywords = {"check": self.check, "contribution": self.contribution, "path": self.path}
        return (_rebuild, (type(self), (self.message,), keywords))


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], keywords: dict[str, Any]) -> BaseException:
    """Unpickle an error whose constructor takes keyword arguments."""
    return cls(*args, **keywords)


class TranscriptError(CeremonyError, RefusedError):
    """A ceremony transcript is inconsistent with its files (a hash that does not chain, a missing file)."""


# --------------------------------------------------------------------------- whole patient records (schema v2)


class CodeSystemError(EncodingError):
    """A clinical code (SNOMED CT, ATC, RxNorm, ICD-10-PCS, LOINC) is malformed or fails its check digit."""


class RecordCapacityError(CredentialError):
    """A record's set (``set_name``) needs more leaves, aggregates included, than its tree holds."""

    def __init__(self, message: str, *, set_name: str) -> None:
        super().__init__(message)
        self.set_name = set_name


class CriteriaNotExpressibleError(CriteriaSyntaxError):
    """The criteria parse, but one clause cannot be checked soundly over the record schema (``column`` names it).

    For example "no HbA1c value ever above 9" (the record keeps no per-code maximum), or a negated count."""


# --------------------------------------------------------------------------- patient data DAO (issue 17)


class VoteError(EligibilityError, RefusedError):
    """An anonymous vote cannot be proven: the choice is not 0, 1 or 2, or the holder is not in the person
    registry the proposal uses."""


class GrantError(ChainError, RefusedError):
    """A data-access grant cannot be used: unknown, revoked, expired, or its extract does not match the hash
    recorded on-chain or does not open with the trial's key."""


class AuditError(ChainError):
    """The audit trail could not be rebuilt (a contract address without the expected events)."""


class WrongProgramError(EligibilityError, RefusedError):
    """The proof is for another criteria program than the trial's (its program hash differs)."""


# --------------------------------------------------------------------------- outside records (issue 22)


class InputLimitError(EncodingError):
    """An outside input (bundle, card, JWKS, JWS) exceeds a size, depth or count limit; refused before allocating."""


class RecordImportError(FhirImportError):
    """A FHIR export cannot be imported: a deceased patient, no Patient, or (under ``--strict``) unmapped content.

    ``summary`` holds the import summary when one was computed (what was kept, mapped and listed as unmappable).
    """

    def __init__(self, message: str, *, summary: object | None = None) -> None:
        super().__init__(message)
        self.summary = summary

    def json_details(self) -> dict[str, Any]:
        """What the CLI's ``--json`` error object carries besides the error: the import summary, if any."""
        to_json = getattr(self.summary, "to_json", None)
        return {"import": to_json()} if callable(to_json) else {}


class DeceasedPatientError(RecordImportError):
    """The bundle's Patient is deceased: no credential is issued for a deceased patient."""


class UnmappedContentError(RecordImportError):
    """``strict`` import: the bundle holds clinical content that the credential cannot represent."""


class UnitConversionError(FhirImportError):
    """A quantity's unit cannot be converted to the canonical unit of its LOINC code."""


class HealthCardError(CredentialError):
    """Base class of SMART Health Card errors. Messages name the file or input and the place in it."""


class HealthCardFormatError(HealthCardError, MalformedInputError):
    """The card is not a well-formed SMART Health Card (file, JWS, header, payload, QR numeric encoding)."""


class HealthCardSignatureError(HealthCardError, SignatureError):
    """The card's ES256 signature does not verify against the issuer's key (a flipped bit, a forged card)."""


class HealthCardUnknownKeyError(HealthCardError):
    """The trusted issuer's JWKS holds no key with the card's ``kid``."""


class UntrustedCardIssuerError(HealthCardError, UnknownIssuerError):
    """The card's ``iss`` is not in the trusted-issuer directory."""


class HealthCardNotYetValidError(HealthCardError, CredentialNotYetValidError):
    """The card's ``nbf`` lies after the reference time."""


class HealthCardExpiredError(HealthCardError, CredentialExpiredError):
    """The card's ``exp`` lies before the reference time."""


class UniversalLimitError(CriteriaNotExpressibleError):
    """The criteria compile, but need more slots of one kind (``limit``: set atoms, leaves, header atoms, gates)
    than the universal eligibility circuit has (``needed`` > ``available``): use a dedicated circuit."""

    def __init__(self, message: str, *, limit: str, needed: int, available: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.needed = needed
        self.available = available


class UniversalKeyMissingError(EligibilityError, RefusedError):
    """The universal circuit's proving key is not installed where it is looked for (the message says how to get
    it: install the file the deployment distributes, or rebuild the development keys)."""
