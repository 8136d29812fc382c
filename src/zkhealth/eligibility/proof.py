"""EligibilityProof: what a patient hands a recruiter (or a contract), as strict JSON.

::

    {
      "format": "zkhealth.eligibility-proof",
      "version": 2,
      "trialId": "0x<64 hex digits>",
      "programSha256": "<64 hex digits>",          # the trial's criteria program (criteria and trial policy)
      "verifyingKeySha256": "<64 hex digits>",
      "publicSignals": {"nullifier": "...", "scope": "...", "today": "...", "trust_root": "...",
                        "recipient": "..."},
      "proof": { snarkjs proof.json: pi_a, pi_b, pi_c, protocol, curve },
      "public": [ snarkjs public.json: the five signals above, in that order, as decimal strings ]
    }

The public signals are the dedicated eligibility circuit's (:data:`~zkhealth.eligibility.dedicated.PUBLIC_SIGNALS`):
``[nullifier, scope, today, trust_root, recipient]``. ``proof`` and ``public`` are byte-for-byte what ``snarkjs
groth16 verify`` reads. ``publicSignals`` names the same values for humans and must agree with ``public``.
Parsing is strict: exact key sets, duplicate keys refused, canonical decimals only, every public signal below r
(a value ``x + r`` raises :class:`~zkhealth.errors.PublicInputOutOfRangeError`), proof points canonical. Nothing
here is keyed on proof bytes: Groth16 proofs are malleable (docs/security.md G6), the nullifier is the replay
guard. A version-1 proof file (the retired schema-1 circuit, six signals) is refused as malformed: prove again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Final

from zkhealth._fileio import atomic_write
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS
from zkhealth.errors import MalformedProofError
from zkhealth.formats.snarkjs_json import (
    loads_json,
    parse_public_signal,
    proof_from_dict,
    proof_to_dict,
    read_json_bytes,
)
from zkhealth.groth16.keys import Proof

__all__ = ["PROOF_FORMAT", "PROOF_VERSION", "EligibilityProof"]

PROOF_FORMAT: Final[str] = "zkhealth.eligibility-proof"
PROOF_VERSION: Final[int] = 2
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEYS: Final[frozenset[str]] = frozenset(
    {"format", "version", "trialId", "programSha256", "verifyingKeySha256", "publicSignals", "proof", "public"}
)


@dataclass(frozen=True)
class EligibilityProof:
    """A Groth16 proof of a trial's eligibility circuit with its five public signals and the pins (trial id,
    program hash, verifying-key hash) the verifier compares with its own."""

    trial_id: bytes
    program_sha256: str
    vk_sha256: str
    proof: Proof
    public: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.trial_id, bytes) or len(self.trial_id) != 32:
            raise MalformedProofError("trial_id must be 32 bytes")
        for name in ("program_sha256", "vk_sha256"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise MalformedProofError(f"{name} must be 64 lower-case hex digits")
        if not isinstance(self.proof, Proof):
            raise MalformedProofError("proof must be a groth16 Proof")
        values = tuple(self.public)
        if len(values) != len(PUBLIC_SIGNALS):
            raise MalformedProofError(f"an eligibility proof has {len(PUBLIC_SIGNALS)} public signals")
        checked = tuple(parse_public_signal(str(v) if isinstance(v, int) and not isinstance(v, bool) else v, i)
                        for i, v in enumerate(values))
        object.__setattr__(self, "public", checked)

    # ------------------------------------------------------------------ named signals

    def signal(self, name: str) -> int:
        """A public signal by name (one of :data:`~zkhealth.eligibility.dedicated.PUBLIC_SIGNALS`)."""
        if name not in PUBLIC_SIGNALS:
            raise KeyError(name)
        return self.public[PUBLIC_SIGNALS.index(name)]

    @property
    def public_signals(self) -> dict[str, int]:
        """The five public signals by name."""
        return dict(zip(PUBLIC_SIGNALS, self.public, strict=True))

    @property
    def nullifier(self) -> int:
        return self.public[0]

    @property
    def scope(self) -> int:
        return self.public[1]

    @property
    def today(self) -> int:
        return self.public[2]

    @property
    def trust_root(self) -> int:
        return self.public[3]

    @property
    def recipient(self) -> int:
        return self.public[4]

    # ------------------------------------------------------------------ JSON

    def snarkjs_proof(self) -> dict[str, Any]:
        """The snarkjs ``proof.json`` object."""
        return proof_to_dict(self.proof)

    def snarkjs_public(self) -> list[str]:
        """The snarkjs ``public.json`` array."""
        return [str(v) for v in self.public]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the module docstring."""
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "trialId": "0x" + self.trial_id.hex(),
            "programSha256": self.program_sha256,
            "verifyingKeySha256": self.vk_sha256,
            "publicSignals": {name: str(value) for name, value in self.public_signals.items()},
            "proof": self.snarkjs_proof(),
            "public": self.snarkjs_public(),
        }

    def to_json(self) -> str:
        """Compact JSON text of :meth:`to_dict` (about 1 kB)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, obj: object) -> EligibilityProof:
        """Parse :meth:`to_dict` output strictly; raises :class:`MalformedProofError` (or its subclasses)."""
        if isinstance(obj, dict) and obj.get("format") == PROOF_FORMAT and obj.get("version") == 1:
            raise MalformedProofError("a version-1 eligibility proof (the retired schema-1 circuit): prove again")
        if not isinstance(obj, dict) or set(obj) != _KEYS:
            found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise MalformedProofError(f"eligibility proof: expected keys {sorted(_KEYS)}, got {found}")
        if obj["format"] != PROOF_FORMAT:
            raise MalformedProofError(f"eligibility proof: format must be {PROOF_FORMAT!r}")
        version = obj["version"]
        if isinstance(version, bool) or version != PROOF_VERSION:
            raise MalformedProofError(f"eligibility proof: unsupported version {version!r}")
        trial = obj["trialId"]
        if not isinstance(trial, str) or not trial.startswith("0x") or not _HEX64.fullmatch(trial[2:]):
            raise MalformedProofError("eligibility proof: trialId must be 0x and 64 lower-case hex digits")
        public_list = obj["public"]
        if not isinstance(public_list, list) or len(public_list) != len(PUBLIC_SIGNALS):
            raise MalformedProofError(f"eligibility proof: public must list {len(PUBLIC_SIGNALS)} signals")
        public = tuple(parse_public_signal(value, index) for index, value in enumerate(public_list))
        named = obj["publicSignals"]
        if not isinstance(named, dict) or set(named) != set(PUBLIC_SIGNALS):
            raise MalformedProofError(f"eligibility proof: publicSignals must name {', '.join(PUBLIC_SIGNALS)}")
        for index, name in enumerate(PUBLIC_SIGNALS):
            if parse_public_signal(named[name], index) != public[index]:
                raise MalformedProofError(f"eligibility proof: publicSignals.{name} differs from public[{index}]")
        return cls(
            trial_id=bytes.fromhex(trial[2:]),
            program_sha256=obj["programSha256"],
            vk_sha256=obj["verifyingKeySha256"],
            proof=proof_from_dict(obj["proof"]),
            public=public,
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> EligibilityProof:
        """Parse JSON text strictly (duplicate keys, floats, NaN and oversized input refused)."""
        return cls.from_dict(loads_json(data, what="eligibility proof"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EligibilityProof:
        """Read a proof file (``zkhealth prove`` writes them) strictly: :meth:`from_json` of its bytes, read
        with the size limit of snarkjs files."""
        return cls.from_json(read_json_bytes(path, what=str(path)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the proof file atomically as indented JSON (what :meth:`load` reads)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        atomic_write(path, text.encode("utf-8"), mode=0o644)
