"""Published trust roots: which roots a verifier accepts, and the operator's signed trust-root file.

**Freshness.** The registry operator publishes a new trust root whenever the issuer registry or the person
registry changes (an issuer revoked, joined or left; a person registered or rotated). The previous root is then
*superseded*. A verifier (Python or contract) accepts the current root, or a superseded one for at most the
trial's grace period (``root_grace_seconds``, 0 allowed) after it was superseded: a proof made just before a
root update still enrolls, and a credential revoked by that update stops enrolling once the grace period is over.
:class:`RootHistory` holds the roots with their times and :meth:`RootHistory.check` applies the rule, with the
same comparison the contracts make (``now > superseded_at + grace`` is stale): :class:`~zkhealth.errors.StaleRootError`
for a root superseded too long ago, :class:`~zkhealth.errors.UntrustedRootError` for one never published.

**The trust-root file.** :class:`TrustRootDocument` is what the operator publishes for provers and off-chain
verifiers, signed with the operator's Ed25519 key over the RFC 8785 (JCS) bytes of everything but ``proof``::

    {"format": "zkhealth.trust-roots", "version": 1,
     "operator": "did:key:z6Mk...", "sequence": 7,
     "trustRoot": "<decimal>", "issuerRegistryRoot": "<decimal>", "personRegistryRoot": "<decimal>",
     "history": [{"root": "<decimal>", "publishedAt": 1767225600, "supersededAt": null}, ...],
     "issuers": {...},                         # the issuer registry (TrustedIssuers.to_dict): provers' paths
     "proof": {"type": "Ed25519Signature-JCS", "verificationMethod": "did:key:z6Mk...", "signatureValue": "<hex>"}}

``history`` lists the current root first (``supersededAt`` null), then recently superseded roots, newest first.
A verifier pins the operator's ``did:key`` (the trial file records it) and refuses a file signed by another key.
A file cannot say how old it is relative to the verifier's clock: read the chain, or refresh the file, for the
latest roots (docs/security.md lists this as a residual risk).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from zkhealth._fileio import as_path, atomic_write
from zkhealth._json import loads_strict, read_limited
from zkhealth.credentials.jcs import canonicalize
from zkhealth.credentials.trust import TrustedIssuers, trust_root
from zkhealth.credentials.vc import did_key_from_ed25519, ed25519_from_did_key
from zkhealth.errors import EncodingError, SignatureError, StaleRootError, UntrustedRootError
from zkhealth.field import check_field_element, parse_field_element
from zkhealth.signature.ed25519 import Ed25519VerifyKey

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "DEFAULT_KEEP_SECONDS",
    "TRUST_ROOTS_FORMAT",
    "PublishedRoot",
    "RootHistory",
    "TrustRootDocument",
]

TRUST_ROOTS_FORMAT: Final[str] = "zkhealth.trust-roots"
#: A trial's default grace period for a superseded root: one day.
DEFAULT_GRACE_SECONDS: Final[int] = 86_400
#: How long a superseded root stays listed in the trust-root file: 30 days (longer than any sensible grace).
DEFAULT_KEEP_SECONDS: Final[int] = 30 * 86_400
#: Most superseded roots a file lists.
MAX_HISTORY: Final[int] = 64
_PROOF_TYPE: Final[str] = "Ed25519Signature-JCS"
_MAX_BYTES: Final[int] = 2 << 20
_TIME_BOUND: Final[int] = 1 << 40


def _unix(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _TIME_BOUND:
        raise EncodingError(f"{what} must be unix seconds (a non-negative integer)")
    return value


def _now(now: float | int | None) -> int:
    return int(time.time()) if now is None else int(now)


@dataclass(frozen=True)
class PublishedRoot:
    """One trust root: when it was published and when it stopped being current (``None`` while current)."""

    root: int
    published_at: int
    superseded_at: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "publishedAt": self.published_at, "supersededAt": self.superseded_at}

    @classmethod
    def from_dict(cls, obj: object) -> PublishedRoot:
        if not isinstance(obj, dict) or set(obj) != {"root", "publishedAt", "supersededAt"}:
            raise EncodingError("a history entry has root, publishedAt and supersededAt")
        superseded = obj["supersededAt"]
        return cls(parse_field_element(obj["root"], what="history root"), _unix(obj["publishedAt"], "publishedAt"),
                   None if superseded is None else _unix(superseded, "supersededAt"))


@dataclass(frozen=True)
class RootHistory:
    """The trust roots a verifier knows, newest first: ``entries[0]`` is the current root (``superseded_at`` is
    ``None``), the others were superseded. Build it from a trust-root file (:class:`TrustRootDocument`), from a
    contract's events (:func:`zkhealth.chain.enrollment.root_history`), or with :meth:`single` in tests."""

    entries: tuple[PublishedRoot, ...]

    def __post_init__(self) -> None:
        if not self.entries or self.entries[0].superseded_at is not None:
            raise EncodingError("a root history starts with its current root (not superseded)")
        if any(entry.superseded_at is None for entry in self.entries[1:]):
            raise EncodingError("only the first root of a history is current")
        for entry in self.entries:
            if check_field_element(entry.root, what="trust root") == 0:
                raise EncodingError("a trust root is never 0")

    @classmethod
    def single(cls, root: int, published_at: int = 0) -> RootHistory:
        """A history of one current root."""
        return cls((PublishedRoot(root, published_at, None),))

    @property
    def current(self) -> int:
        """The current trust root."""
        return self.entries[0].root

    def published(self, root: int, at: int | None = None, *, keep_seconds: int = DEFAULT_KEEP_SECONDS) -> RootHistory:
        """The history after ``root`` is published at unix time ``at`` (default: now): the current root is
        superseded at ``at``; entries superseded more than ``keep_seconds`` before are dropped (at most
        :data:`MAX_HISTORY` kept). Publishing the current root again changes nothing."""
        when = _now(at)
        if root == self.current:
            return self
        head = self.entries[0]
        older = [PublishedRoot(head.root, head.published_at, when), *self.entries[1:]]
        kept = [entry for entry in older
                if entry.superseded_at is not None and when - entry.superseded_at <= keep_seconds]
        return RootHistory((PublishedRoot(check_field_element(root, what="trust root"), when, None),
                            *kept[:MAX_HISTORY]))

    def lookup(self, root: int) -> PublishedRoot | None:
        """The newest entry for ``root`` (a root published again appears once per publication), or ``None``."""
        for entry in self.entries:
            if entry.root == root:
                return entry
        return None

    def check(self, root: int, *, grace_seconds: int, now: float | int | None = None) -> None:
        """Accept ``root`` if current, or superseded at most ``grace_seconds`` before ``now`` (unix seconds,
        default: the clock). Raises :class:`StaleRootError` for an older one, :class:`UntrustedRootError` for a
        root this history never saw (the contracts: ``StaleRoot()`` and ``UnknownRoot()``)."""
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int) or grace_seconds < 0:
            raise EncodingError("grace_seconds must be a non-negative int")
        if root == self.current:
            return
        entry = self.lookup(root)
        if entry is None or entry.superseded_at is None:
            raise UntrustedRootError("the proof's trust root was never published by the registry operator")
        if _now(now) > entry.superseded_at + grace_seconds:
            raise StaleRootError(
                f"the proof's trust root was superseded {_now(now) - entry.superseded_at} s ago; the trial accepts "
                f"a superseded root for {grace_seconds} s"
            )

    def accepted(self, *, grace_seconds: int, now: float | int | None = None) -> frozenset[int]:
        """Every root :meth:`check` accepts at ``now``."""
        at = _now(now)
        return frozenset(entry.root for entry in self.entries
                         if entry.superseded_at is None or at <= entry.superseded_at + grace_seconds)

    def to_list(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self.entries]

    @classmethod
    def from_list(cls, items: object) -> RootHistory:
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_HISTORY + 1:
            raise EncodingError(f"history must list 1 to {MAX_HISTORY + 1} roots")
        return cls(tuple(PublishedRoot.from_dict(item) for item in items))


@dataclass(frozen=True)
class TrustRootDocument:
    """The operator's trust-root file (module docstring): the issuer registry, the person registry's root, the
    trust root they give, and the recent history of trust roots, signed by ``operator`` (a ``did:key``)."""

    operator: str
    sequence: int
    issuers: TrustedIssuers
    person_registry_root: int
    history: RootHistory

    def __post_init__(self) -> None:
        ed25519_from_did_key(self.operator)
        # A snapshot: later changes to the caller's registry object do not change a built document.
        object.__setattr__(self, "issuers", TrustedIssuers.from_dict(self.issuers.to_dict()))
        if self.history.current != trust_root(self.issuers.root, self.person_registry_root):
            raise EncodingError("the history's current root is not poseidon([issuer root, person root])")

    @property
    def trust_root(self) -> int:
        """The current trust root, ``poseidon([issuer registry root, person registry root])``."""
        return self.history.current

    @classmethod
    def build(
        cls,
        issuers: TrustedIssuers,
        person_registry_root: int,
        *,
        operator: str,
        previous: TrustRootDocument | None = None,
        now: int | None = None,
        keep_seconds: int = DEFAULT_KEEP_SECONDS,
    ) -> TrustRootDocument:
        """The next document: the trust root of ``issuers`` and ``person_registry_root`` becomes current (the
        previous document's current root is superseded now, unless it is the same root)."""
        root = trust_root(issuers.root, person_registry_root)
        when = _now(now)
        if previous is None:
            history = RootHistory.single(root, when)
            sequence = 1
        else:
            history = previous.history.published(root, when, keep_seconds=keep_seconds)
            sequence = previous.sequence + 1
        return cls(operator, sequence, issuers, person_registry_root, history)

    def body(self) -> dict[str, Any]:
        """Everything but the signature."""
        return {
            "format": TRUST_ROOTS_FORMAT,
            "version": 1,
            "operator": self.operator,
            "sequence": self.sequence,
            "trustRoot": str(self.trust_root),
            "issuerRegistryRoot": str(self.issuers.root),
            "personRegistryRoot": str(self.person_registry_root),
            "history": self.history.to_list(),
            "issuers": self.issuers.to_dict(),
        }

    def sign(self, sign_ed25519: Callable[[bytes], bytes]) -> dict[str, Any]:
        """The signed document: ``sign_ed25519`` signs bytes with the operator's key (the key of ``operator``;
        :meth:`zkhealth.credentials.issuer.Issuer.sign_ed25519` for a key file from ``zkhealth keygen``)."""
        body = self.body()
        signature = sign_ed25519(canonicalize(body))
        Ed25519VerifyKey.from_bytes(ed25519_from_did_key(self.operator)).verify(canonicalize(body), signature)
        return {**body, "proof": {"type": _PROOF_TYPE, "verificationMethod": self.operator,
                                  "signatureValue": signature.hex()}}

    def save(self, path: str | os.PathLike[str], sign_ed25519: Callable[[bytes], bytes]) -> None:
        """Sign and write the file atomically."""
        text = json.dumps(self.sign(sign_ed25519), indent=2) + "\n"
        atomic_write(Path(path), text.encode("ascii"), mode=0o644)

    @classmethod
    def from_json(cls, text: str | bytes, *, operator: str | None = None) -> TrustRootDocument:
        """Parse a signed file strictly and check it: the signature under the file's ``operator`` key (which must
        be ``operator`` when given: :class:`UntrustedRootError` otherwise), the issuer registry's root, and that
        the stated roots agree with each other (:class:`EncodingError` otherwise)."""
        obj = loads_strict(text, what="trust-root file", max_bytes=_MAX_BYTES)
        keys = {"format", "version", "operator", "sequence", "trustRoot", "issuerRegistryRoot", "personRegistryRoot",
                "history", "issuers", "proof"}
        if not isinstance(obj, dict) or set(obj) != keys:
            raise EncodingError(f"trust-root file: expected members {sorted(keys)}")
        if obj["format"] != TRUST_ROOTS_FORMAT or obj["version"] != 1 or isinstance(obj["version"], bool):
            raise EncodingError(f"not a version-1 {TRUST_ROOTS_FORMAT} file")
        if operator is not None and obj["operator"] != operator:
            raise UntrustedRootError("the trust-root file is signed by another operator than the one pinned")
        proof = obj["proof"]
        if not isinstance(proof, dict) or set(proof) != {"type", "verificationMethod", "signatureValue"}:
            raise EncodingError("trust-root file: proof must be {type, verificationMethod, signatureValue}")
        if proof["type"] != _PROOF_TYPE or proof["verificationMethod"] != obj["operator"]:
            raise SignatureError("trust-root file: unsupported proof type or another verification method")
        signature = proof["signatureValue"]
        if not isinstance(signature, str) or len(signature) != 128:
            raise SignatureError("trust-root file: the signature is 64 bytes of hex")
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            raise SignatureError("trust-root file: the signature is 64 bytes of hex") from None
        body = {key: value for key, value in obj.items() if key != "proof"}
        Ed25519VerifyKey.from_bytes(ed25519_from_did_key(obj["operator"])).verify(canonicalize(body), raw)
        sequence = obj["sequence"]
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise EncodingError("trust-root file: sequence must be a positive integer")
        document = cls(obj["operator"], sequence, TrustedIssuers.from_dict(obj["issuers"]),
                       parse_field_element(obj["personRegistryRoot"], what="personRegistryRoot"),
                       RootHistory.from_list(obj["history"]))
        if parse_field_element(obj["issuerRegistryRoot"], what="issuerRegistryRoot") != document.issuers.root:
            raise EncodingError("trust-root file: issuerRegistryRoot is not the root of its issuers")
        if parse_field_element(obj["trustRoot"], what="trustRoot") != document.trust_root:
            raise EncodingError("trust-root file: trustRoot is not poseidon([issuer root, person root])")
        return document

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, operator: str | None = None) -> TrustRootDocument:
        """Read and check a trust-root file (:meth:`from_json`); errors name the file."""
        data = read_limited(path, what=os.fspath(as_path(path)), max_bytes=_MAX_BYTES, error=EncodingError)
        return cls.from_json(data, operator=operator)

    @staticmethod
    def operator_did(public_key: bytes) -> str:
        """The ``did:key`` naming an operator's 32-byte Ed25519 public key."""
        return did_key_from_ed25519(public_key)
