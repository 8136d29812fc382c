"""The universal circuit's key set: one pair of Groth16 keys for every trial, pinned in the package.

The package ships the verifying key (``zkhealth/data/universal/verification_key.json``, a few kilobytes) and a
manifest (``manifest.json``) that pins:

* the circuit: its shape, constraint count and the sha256 of its ``.r1cs`` bytes (a changed gadget anywhere in
  the circuit changes this hash: the keys no longer belong to the circuit, and a test says so);
* the verifying key's sha256 (:meth:`~zkhealth.groth16.keys.VerifyingKey.sha256`);
* the proving key file's sha256 (``.zkhpk`` bytes, :mod:`zkhealth.formats.zkhpk_file`) and its size;
* the provenance: ``dev-setup`` with the public seed it was generated from, or a ceremony's transcript.

The proving key (about 140 MB) is not in the package or in git. A wallet obtains it once and keeps it in
:func:`default_proving_key_path` (``$ZKHEALTH_UNIVERSAL_KEY``, or the user cache directory), from either source:

* :func:`install_proving_key` copies a file the deployment distributes (for a ceremony's keys: the release's
  proving key, downloaded by the deployment's own means) after checking it against the pinned hash;
* :func:`build_development_keys` regenerates the development key set reproducibly (2-3 minutes on two
  cores) and checks it against the pinned hashes.

**Development keys.** Until a ceremony makes the universal keys, the pinned set is a development set whose
toxic waste is derived from a public seed (:data:`DEV_SEED`), so that anyone can rebuild it and check the
hash. Anyone can therefore also forge proofs for it: every use emits :class:`DevelopmentKeyWarning`, and the
command line prints the warning. A ceremony (``zkhealth ceremony``, docs/ceremony.md) over the universal
circuit's ``.r1cs`` (``zkhealth universal-keys export-r1cs``) replaces it: its final key is adopted with
:func:`import_ceremony_zkey` (``zkhealth universal-keys import``), which runs ``zkey verify`` of it against the
circuit's ``.r1cs`` and the ceremony's prepared ``.ptau``, checks its final hash against the ceremony's, proves a
sample witness with it, and writes a new key set with the ceremony's provenance for the release to pin.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from zkhealth._fileio import atomic_write, user_cache_root
from zkhealth._json import loads_strict
from zkhealth.eligibility.universal_program import UNIVERSAL_SHAPE, UniversalShape
from zkhealth.errors import EncodingError, UniversalKeyMissingError, VerifyingKeyMismatchError
from zkhealth.groth16.keys import DEV_SETUP, ProvingKey, VerifyingKey

if TYPE_CHECKING:
    from zkhealth.formats.ptau_file import PtauFile
    from zkhealth.formats.zkey_file import ZkeyFile

__all__ = [
    "DEV_SEED",
    "KEY_SET_FORMAT",
    "DevelopmentKeyWarning",
    "UniversalKeyManifest",
    "build_development_keys",
    "default_proving_key_path",
    "import_ceremony_key",
    "import_ceremony_zkey",
    "install_proving_key",
    "load_proving_key",
    "pinned_manifest",
    "pinned_verifying_key",
    "r1cs_sha256",
    "sample_witness",
    "write_key_set",
]

KEY_SET_FORMAT: Final[str] = "zkhealth.universal-keys"
_VERSION: Final[int] = 1
#: The public seed of the development key set's toxic waste (module docstring: anyone can forge with it).
DEV_SEED: Final[bytes] = b"zkhealth universal circuit development keys, version 1 (NOT FOR PRODUCTION)"
_MEMBERS: Final[frozenset[str]] = frozenset({
    "format", "version", "circuit", "shape", "constraints", "r1csSha256", "verifyingKeySha256",
    "provingKeySha256", "provingKeyBytes", "provenance", "devSeed", "ceremony",
})
_PACKAGE_DIR: Final[tuple[str, ...]] = ("data", "universal")
_MANIFEST: Final[str] = "manifest.json"
_VERIFYING_KEY: Final[str] = "verification_key.json"
_ENV: Final[str] = "ZKHEALTH_UNIVERSAL_KEY"


class DevelopmentKeyWarning(UserWarning):
    """The universal key set in use is a development set: anyone can forge proofs that verify with it."""


DEVELOPMENT_WARNING: Final[str] = (
    "DEVELOPMENT KEYS: the universal key set was generated from a public seed, so anyone can forge proofs "
    "that verify with it. Use it for development and demos only; production needs keys from a ceremony "
    "(docs/ceremony.md)."
)


def warn_if_development(provenance: str) -> None:
    """Emit :class:`DevelopmentKeyWarning` for a development key set."""
    if provenance == DEV_SETUP:
        warnings.warn(DEVELOPMENT_WARNING, DevelopmentKeyWarning, stacklevel=3)


@dataclass(frozen=True)
class UniversalKeyManifest:
    """The pins of a universal key set (module docstring)."""

    circuit: str
    shape: UniversalShape
    constraints: int
    r1cs_sha256: str
    verifying_key_sha256: str
    proving_key_sha256: str
    proving_key_bytes: int
    provenance: str
    dev_seed: str | None = None
    ceremony: str | None = None

    @property
    def is_development(self) -> bool:
        return self.provenance == DEV_SETUP

    def to_dict(self) -> dict[str, Any]:
        shape = self.shape
        return {
            "format": KEY_SET_FORMAT, "version": _VERSION, "circuit": self.circuit,
            "shape": {"leafSlots": shape.leaf_slots, "atomSlots": shape.atom_slots,
                      "headerSlots": shape.header_slots, "gateSlots": shape.gate_slots},
            "constraints": self.constraints, "r1csSha256": self.r1cs_sha256,
            "verifyingKeySha256": self.verifying_key_sha256, "provingKeySha256": self.proving_key_sha256,
            "provingKeyBytes": self.proving_key_bytes, "provenance": self.provenance, "devSeed": self.dev_seed,
            "ceremony": self.ceremony,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, data: str | bytes) -> UniversalKeyManifest:
        obj = loads_strict(data, what="universal key manifest", error=EncodingError)
        if not isinstance(obj, dict) or set(obj) != _MEMBERS:
            raise EncodingError("universal key manifest: unexpected members")
        if obj["format"] != KEY_SET_FORMAT or obj["version"] != _VERSION:
            raise EncodingError("universal key manifest: not a version-1 zkhealth.universal-keys manifest")
        shape = obj["shape"]
        if not isinstance(shape, dict) or set(shape) != {"leafSlots", "atomSlots", "headerSlots", "gateSlots"}:
            raise EncodingError("universal key manifest: shape must name the four slot counts")
        for name in ("r1csSha256", "verifyingKeySha256", "provingKeySha256"):
            value = obj[name]
            if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise EncodingError(f"universal key manifest: {name} must be 64 lower-case hex digits")
        for name in ("constraints", "provingKeyBytes"):
            if isinstance(obj[name], bool) or not isinstance(obj[name], int) or obj[name] < 1:
                raise EncodingError(f"universal key manifest: {name} must be a positive integer")
        for name in ("circuit", "provenance"):
            if not isinstance(obj[name], str):
                raise EncodingError(f"universal key manifest: {name} must be a string")
        for name in ("devSeed", "ceremony"):
            if obj[name] is not None and not isinstance(obj[name], str):
                raise EncodingError(f"universal key manifest: {name} must be a string or null")
        return cls(obj["circuit"], UniversalShape(shape["leafSlots"], shape["atomSlots"], shape["headerSlots"],
                                                  shape["gateSlots"]),
                   obj["constraints"], obj["r1csSha256"], obj["verifyingKeySha256"], obj["provingKeySha256"],
                   obj["provingKeyBytes"], obj["provenance"], obj["devSeed"], obj["ceremony"])


def _package_file(name: str) -> bytes:
    return resources.files("zkhealth").joinpath(*_PACKAGE_DIR, name).read_bytes()


def pinned_manifest() -> UniversalKeyManifest:
    """The manifest shipped with the package."""
    return UniversalKeyManifest.from_json(_package_file(_MANIFEST))


def pinned_verifying_key() -> VerifyingKey:
    """The shipped universal verifying key, checked against the manifest (warns for a development set)."""
    from zkhealth.formats.snarkjs_json import parse_verifying_key

    manifest = pinned_manifest()
    vk = parse_verifying_key(_package_file(_VERIFYING_KEY))
    if vk.sha256() != manifest.verifying_key_sha256:
        raise VerifyingKeyMismatchError("the shipped universal verifying key does not match its manifest")
    if vk.n_public != 6:
        raise VerifyingKeyMismatchError("the universal verifying key must take six public signals")
    warn_if_development(manifest.provenance)
    return vk


def default_proving_key_path(manifest: UniversalKeyManifest | None = None) -> Path:
    """``$ZKHEALTH_UNIVERSAL_KEY`` if set, else ``<cache>/zkhealth/universal/<vk sha256 prefix>/proving_key.zkhpk``
    (``$XDG_CACHE_HOME`` or ``~/.cache``): one file per key set, so a new release never reads an old key."""
    override = os.environ.get(_ENV)
    if override:
        return Path(override)
    pins = manifest if manifest is not None else pinned_manifest()
    return user_cache_root() / "universal" / pins.verifying_key_sha256[:16] / "proving_key.zkhpk"


def _check_bytes(data: bytes, manifest: UniversalKeyManifest, where: str) -> None:
    if len(data) != manifest.proving_key_bytes or hashlib.sha256(data).hexdigest() != manifest.proving_key_sha256:
        raise VerifyingKeyMismatchError(f"{where} is not the pinned universal proving key (size or sha256 differs)")


def load_proving_key(path: str | os.PathLike[str] | None = None) -> ProvingKey:
    """The universal proving key from ``path`` (default :func:`default_proving_key_path`), checked against the
    pinned sha256 and verifying key. Raises :class:`UniversalKeyMissingError` (with what to run) when absent,
    :class:`VerifyingKeyMismatchError` when the file is another key. Cost: about 3 s to read and check the
    first time, less from the proving-key cache (:mod:`zkhealth.formats.key_cache`) after that."""
    from zkhealth.formats.key_cache import load_cached
    from zkhealth.formats.zkhpk_file import parse_proving_key

    manifest = pinned_manifest()
    where = Path(path) if path is not None else default_proving_key_path(manifest)
    if not where.is_file():
        raise UniversalKeyMissingError(
            f"the universal proving key is not installed at {where}: run `zkhealth universal-keys install FILE` "
            "with the file your deployment distributes, or `zkhealth universal-keys build` (development keys, "
            "2-3 minutes)")
    data = where.read_bytes()
    _check_bytes(data, manifest, str(where))
    pk = load_cached(data, parse_proving_key)  # a full parse once per machine, then the key cache
    if pk.vk.sha256() != manifest.verifying_key_sha256:
        raise VerifyingKeyMismatchError(f"{where}: its verifying key is not the pinned one")
    warn_if_development(manifest.provenance)
    return pk


def install_proving_key(source: str | os.PathLike[str], destination: str | os.PathLike[str] | None = None) -> Path:
    """Check ``source`` against the pinned hash and copy it to ``destination`` (default
    :func:`default_proving_key_path`), atomically. Returns the destination."""
    manifest = pinned_manifest()
    data = Path(source).read_bytes()
    _check_bytes(data, manifest, str(source))
    target = Path(destination) if destination is not None else default_proving_key_path(manifest)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data, mode=0o644)
    return target


class _SeededSource:
    """``randrange`` from SHA-256 in counter mode over a seed: the same draws on every machine and Python."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def randrange(self, start: int, stop: int) -> int:
        span = stop - start
        if span <= 0:
            raise ValueError("empty range")
        while True:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            block += hashlib.sha256(self._seed + (self._counter + 1).to_bytes(8, "big")).digest()
            self._counter += 2
            value = int.from_bytes(block, "big") >> (512 - span.bit_length())
            if value < span:
                return start + value


def r1cs_sha256(shape: UniversalShape = UNIVERSAL_SHAPE) -> str:
    """sha256 of the universal circuit's ``.r1cs`` bytes (compiles it: about 20 s)."""
    from zkhealth.eligibility.universal import compile_universal_circuit
    from zkhealth.formats.r1cs_file import r1cs_to_bytes

    return hashlib.sha256(r1cs_to_bytes(compile_universal_circuit(shape).r1cs)).hexdigest()


def build_development_keys(
    shape: UniversalShape = UNIVERSAL_SHAPE,
    *,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[ProvingKey, VerifyingKey]:
    """The development key set of the universal circuit, from the public :data:`DEV_SEED` (module
    docstring: anyone can forge proofs for it). Deterministic: the same circuit gives the same bytes.
    Cost: the compile (about 20 s) and a 2^17 setup (2-3 minutes on two cores)."""
    from zkhealth import groth16
    from zkhealth.eligibility.universal import compile_universal_circuit

    compiled = compile_universal_circuit(shape)
    source = _SeededSource(DEV_SEED + shape.tag().to_bytes(32, "big"))
    warnings.warn(DEVELOPMENT_WARNING, DevelopmentKeyWarning, stacklevel=2)
    return groth16.setup(compiled.r1cs, rng=source, progress=progress, workers=workers)


def write_key_set(pk: ProvingKey, directory: str | os.PathLike[str], *, shape: UniversalShape = UNIVERSAL_SHAPE,
                  ceremony: str | None = None) -> UniversalKeyManifest:
    """Write ``proving_key.zkhpk``, ``verification_key.json`` and ``manifest.json`` of a key set to ``directory``
    (the release copies the last two into the package). ``ceremony``: the transcript's hash for a ceremony's
    key (its provenance then is ``ceremony``); otherwise the key must be a development key from
    :func:`build_development_keys`."""
    from zkhealth.eligibility.universal import CIRCUIT_NAME, compile_universal_circuit
    from zkhealth.formats.snarkjs_json import write_verifying_key
    from zkhealth.formats.zkhpk_file import proving_key_to_bytes

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = proving_key_to_bytes(pk)
    atomic_write(out / "proving_key.zkhpk", data, mode=0o644)
    write_verifying_key(pk.vk, out / _VERIFYING_KEY)
    compiled = compile_universal_circuit(shape)
    manifest = UniversalKeyManifest(
        circuit=CIRCUIT_NAME, shape=shape, constraints=compiled.r1cs.n_constraints, r1cs_sha256=r1cs_sha256(shape),
        verifying_key_sha256=pk.vk.sha256(), proving_key_sha256=hashlib.sha256(data).hexdigest(),
        proving_key_bytes=len(data), provenance="ceremony" if ceremony else pk.provenance,
        dev_seed=None if ceremony else DEV_SEED.decode("ascii"), ceremony=ceremony,
    )
    atomic_write(out / _MANIFEST, manifest.to_json().encode("ascii"), mode=0o644)
    return manifest


def sample_witness(shape: UniversalShape = UNIVERSAL_SHAPE) -> tuple[list[int], list[int]]:
    """A valid witness of the universal circuit (a synthetic issuer, patient and program) and its public
    signals: what :func:`import_ceremony_key` proves with to check that a key belongs to the circuit."""
    import datetime as _dt

    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.record import Condition, PatientRecord
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import TrustedIssuers
    from zkhealth.eligibility.program import compile_program
    from zkhealth.eligibility.universal import compile_universal_circuit, universal_inputs
    from zkhealth.eligibility.universal_program import fit_program

    revocation = RevocationTree(":memory:")
    try:
        issuer = Issuer.generate(revocation=revocation)
        trusted = TrustedIssuers()
        trusted.add(issuer.public_key, revocation.root)
        issued_on = _dt.date(2026, 1, 1)
        record = PatientRecord(birth_date=_dt.date(1970, 1, 1), complete=True, as_of=issued_on,
                               conditions=(Condition("E11.9", _dt.date(2020, 1, 1)),))
        secret = 0x5A_3B1E
        issued = issuer.issue_record(record, subject_commitment=subject_commitment(secret), issued_at=issued_on,
                                     expires_at=issued_on + _dt.timedelta(days=365))
        universal = fit_program(compile_program("diagnosis in E11.* and age >= 18"), shape)
        compiled = compile_universal_circuit(shape)
        values = universal_inputs(universal, issued.credential, issued.signature, holder_secret=secret,
                                  today=issued_on + _dt.timedelta(days=1), recipient=1, scope=2,
                                  issuer=trusted.membership(issuer.public_key),
                                  revocation=revocation.non_membership_proof(issued.credential.credential_id))
        witness = compiled.solve_witness(values)
        return witness, compiled.public_signals(witness)
    finally:
        revocation.close()


def import_ceremony_zkey(zkey: ZkeyFile, ptau: PtauFile, directory: str | os.PathLike[str], *, ceremony: str,
                         shape: UniversalShape = UNIVERSAL_SHAPE, workers: int | None = None,
                         progress: Callable[[str, int, int], None] | None = None) -> UniversalKeyManifest:
    """Adopt a ceremony's final ``.zkey`` as the universal key set, after checking it (in this order; nothing is
    written before every check passed):

    1. ``zkey verify`` against the universal circuit's ``.r1cs`` (of ``shape``) and the ceremony's prepared
       ``ptau``: every contribution, the circuit hash, each section
       (:class:`~zkhealth.errors.ContributionError` for a key of another circuit, a tampered key, a key with
       no contribution or a chain that does not verify);
    2. its final hash (last contribution hash) is ``ceremony``, the final hash ``zkhealth ceremony verify``
       printed for the circuit (:class:`~zkhealth.errors.TranscriptError` otherwise);
    3. :func:`import_ceremony_key`'s checks (six public signals, the circuit's wires, a sample proof).

    Then :func:`write_key_set` writes the key set to ``directory`` with provenance ``ceremony`` and the final
    hash. Cost: the verification (about ``zkey new`` of the circuit) and one proof."""
    from zkhealth.ceremony import phase2
    from zkhealth.eligibility.universal import compile_universal_circuit
    from zkhealth.formats.zkey_file import proving_key_from_zkey

    if not isinstance(ceremony, str) or not ceremony.strip():
        raise EncodingError("name the ceremony's final hash (what `zkhealth ceremony verify` printed)")
    report = phase2.verify(zkey, compile_universal_circuit(shape).r1cs, ptau, workers=workers, progress=progress)
    final = phase2.final_hash(report, expected=ceremony)
    return import_ceremony_key(proving_key_from_zkey(zkey), directory, ceremony=final, shape=shape)


def import_ceremony_key(pk: ProvingKey, directory: str | os.PathLike[str], *, ceremony: str,
                        shape: UniversalShape = UNIVERSAL_SHAPE) -> UniversalKeyManifest:
    """The last checks of :func:`import_ceremony_zkey`, for a proving key already read (it does not run ``zkey
    verify``: use :func:`import_ceremony_zkey` for a ceremony's ``.zkey``): refused unless it takes six public
    signals and the circuit's wires and a proof of a sample witness made with it verifies with its verifying
    key; then :func:`write_key_set` writes the key set with the ceremony's provenance (``ceremony``: the
    ceremony's final hash). A release copies ``manifest.json`` and ``verification_key.json`` into
    ``zkhealth/data/universal/`` and distributes ``proving_key.zkhpk``. Cost: one proof (about a minute on two
    cores)."""
    from zkhealth import groth16
    from zkhealth.eligibility.universal import compile_universal_circuit
    from zkhealth.errors import InvalidProofError

    if not ceremony:
        raise EncodingError("name the ceremony (its transcript hash) the key comes from")
    compiled = compile_universal_circuit(shape)
    if pk.n_public != 6 or pk.n_wires != compiled.r1cs.n_wires:
        raise VerifyingKeyMismatchError("this key is not for the universal circuit (public signals or wires differ)")
    witness, public = sample_witness(shape)
    try:
        groth16.verify(pk.vk, public, groth16.prove(pk, witness))
    except InvalidProofError:
        raise VerifyingKeyMismatchError("a proof made with this key does not verify: it is not the universal "
                                        "circuit's") from None
    return write_key_set(pk, directory, shape=shape, ceremony=ceremony)
