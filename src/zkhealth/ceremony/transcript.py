"""A ceremony a group can run: a coordinator's folder, its transcript, and a replay that checks everything.

The coordinator keeps one folder (the **ceremony folder**)::

    transcript.json                       every accepted step, in order (below)
    phase1/0000-new.ptau                  the fresh accumulator
    phase1/0001-<contributor>.ptau ...    one file per accepted contribution (and the beacon)
    phase1/prepared.ptau                  the last one after prepare phase2
    phase2/<circuit>/circuit.r1cs         the constraint system of each circuit
    phase2/<circuit>/0000-new.zkey        its initial key (zkey new)
    phase2/<circuit>/0001-<contributor>.zkey ...
    phase2/<circuit>/verification_key.json

Contributions travel as files: a contributor fetches the current head file, runs ``zkhealth powersoftau
contribute`` (or ``zkey contribute``, or the same snarkjs command), publishes the hash it prints and sends the
output back. How the files move (a shared folder, object storage, a USB stick) does not matter: the coordinator
checks whatever arrives with :meth:`Ceremony.accept_ptau` / :meth:`Ceremony.accept_zkey`, which refuse a file
that is not the head plus exactly one valid contribution, then copies it into the folder and appends an entry.

Each transcript entry records: index, phase, step (``new``, ``contribution``, ``beacon``, ``prepare``,
``zkey-new``, ``verification-key``), circuit (phase 2), the contributor's name, the file (path relative to
the folder) and its sha256, the **contribution hash** (phase 1: the response hash; phase 2: snarkjs'
contribution hash), the **previous hash** (phase 1: the challenge answered, i.e. the previous entry's next
challenge; phase 2: the previous contribution hash, or the circuit hash for the first), the **next hash**
(phase 1: the next challenge; phase 2: the transcript hash the record commits to), the UTC time, and a
beacon's value and iteration exponent.

:func:`verify_ceremony` replays the transcript from the first file to the final keys using only the folder:
the first file must be the fresh accumulator of its power; every later file must be its predecessor plus one
contribution whose proofs verify, whose hashes are recomputed from the points (not read from the file) and
equal the transcript's, and whose previous hash is the predecessor's next hash; the last phase-1 file, the
prepared file and each final key get the full verification of :mod:`.powersoftau` / :mod:`.phase2`; each
initial key must be exactly ``zkey new`` of its circuit; the verification key must be the final key's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from zkhealth._fileio import atomic_write, read_bytes, wrap_os_error
from zkhealth._json import loads_strict, read_limited
from zkhealth.ceremony import phase2 as zk
from zkhealth.ceremony import powersoftau as pt
from zkhealth.ceremony._work import ProgressCallback
from zkhealth.errors import CeremonyError, CeremonyFileError, ContributionError, TranscriptError
from zkhealth.formats._binfile import read_binary
from zkhealth.formats.ptau_file import PtauFile, max_ptau_bytes, parse_ptau, ptau_to_bytes
from zkhealth.formats.r1cs_file import parse_r1cs, r1cs_to_bytes
from zkhealth.formats.snarkjs_json import verifying_key_to_dict
from zkhealth.formats.zkey_file import ZkeyFile, max_contributed_zkey_bytes, parse_zkey_file, zkey_file_to_bytes
from zkhealth.r1cs import R1CS

__all__ = ["Ceremony", "CeremonyReport", "TranscriptEntry", "verify_ceremony"]

TRANSCRIPT: Final[str] = "transcript.json"
VERSION: Final[int] = 1
#: A transcript larger than this is refused before parsing.
MAX_TRANSCRIPT_BYTES: Final[int] = 16 << 20
_SLUG: Final[re.Pattern[str]] = re.compile(r"[^a-z0-9]+")
_CIRCUIT: Final[re.Pattern[str]] = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_STEPS: Final[frozenset[str]] = frozenset({"new", "contribution", "beacon", "prepare", "zkey-new", "verification-key"})


@dataclass(frozen=True)
class TranscriptEntry:
    """One accepted step (see the module docstring). Hashes are lowercase hex."""

    index: int
    phase: str
    step: str
    name: str
    file: str
    sha256: str
    time: str
    circuit: str | None = None
    contribution_hash: str | None = None
    previous_hash: str | None = None
    next_hash: str | None = None
    beacon_value: str | None = None
    beacon_exponent: int | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:40] or "anonymous"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_ceremony_file(path: str | Path, *, max_bytes: int) -> bytes:
    """The bytes of a ceremony file (an incoming contribution, or a file of a ceremony folder), refused with
    :class:`CeremonyFileError` when it is larger than ``max_bytes`` (what the ceremony's power and the file's
    place in it allow: :func:`~zkhealth.formats.ptau_file.max_ptau_bytes`,
    :func:`~zkhealth.formats.zkey_file.max_contributed_zkey_bytes`) before anything is read. A missing or
    unreadable file raises :class:`~zkhealth.errors.FileAccessError`."""
    source = Path(path)
    try:
        size = source.stat().st_size
    except OSError:
        size = 0  # read_bytes names the missing or unreadable file
    if size > max_bytes:
        raise CeremonyFileError(f"{size} bytes, more than this file can have in the ceremony ({max_bytes} bytes)",
                                path=str(source))
    return read_bytes(source, max_bytes=max_bytes, error=CeremonyFileError, what=str(source))


def _check_circuit(circuit: str) -> str:
    if not isinstance(circuit, str) or not _CIRCUIT.match(circuit):
        raise CeremonyError("a circuit name is 1-64 lowercase letters, digits, '-' or '_'")
    return circuit


class Ceremony:
    """The coordinator's view of a ceremony folder (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.power, self.entries = _load_transcript(self.folder)

    # ----------------------------------------------------------------- bookkeeping

    @classmethod
    def create(cls, folder: str | Path, power: int) -> Ceremony:
        """Start a ceremony of 2^power in an empty (or new) folder: the fresh accumulator and the transcript."""
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        if (root / TRANSCRIPT).exists():
            raise CeremonyError(f"{root / TRANSCRIPT} exists: this folder already holds a ceremony")
        data = ptau_to_bytes(pt.new_accumulator(power))
        relative = "phase1/0000-new.ptau"
        (root / "phase1").mkdir(exist_ok=True)
        atomic_write(root / relative, data, mode=0o644)
        entry = TranscriptEntry(
            index=0,
            phase="phase1",
            step="new",
            name="coordinator",
            file=relative,
            sha256=_sha256(data),
            time=_now(),
            next_hash=pt.first_challenge(power).hex(),
        )
        _write_transcript(root, power, [entry])
        return cls(root)

    def _append(self, entry: TranscriptEntry) -> TranscriptEntry:
        self.entries.append(entry)
        _write_transcript(self.folder, self.power, self.entries)
        return entry

    def _store(self, relative: str, data: bytes) -> str:
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise CeremonyError(f"{target} exists already")
        atomic_write(target, data, mode=0o644)
        return _sha256(data)

    def _last(self, phase: str, circuit: str | None = None) -> TranscriptEntry:
        for entry in reversed(self.entries):
            if entry.phase == phase and entry.circuit == circuit and entry.step != "verification-key":
                return entry
        raise CeremonyError(f"the ceremony has no {phase} step" + (f" for circuit {circuit}" if circuit else ""))

    def head_ptau(self) -> Path:
        """The file the next phase-1 contributor starts from (the prepared file once phase 1 is closed)."""
        return self.folder / self._last("phase1").file

    def head_zkey(self, circuit: str) -> Path:
        """The key the next phase-2 contributor to ``circuit`` starts from."""
        return self.folder / self._last("phase2", _check_circuit(circuit)).file

    def _phase1_contributions(self) -> int:
        """How many contributions (beacon included) the phase-1 head holds."""
        return sum(1 for e in self.entries if e.phase == "phase1" and e.step in ("contribution", "beacon"))

    def _read_ptau(self, path: Path, contributions: int, *, prepared: bool) -> PtauFile:
        limit = max_ptau_bytes(self.power, contributions, prepared=prepared)
        return parse_ptau(read_ceremony_file(path, max_bytes=limit), path=str(path))

    def _initial_zkey_path(self, circuit: str) -> Path:
        """The initial key of ``circuit``: the coordinator's own ``zkey new`` file (the replay rebuilds it)."""
        entry = next((e for e in self.entries if e.circuit == circuit and e.step == "zkey-new"), None)
        if entry is None:
            raise CeremonyError(f"the ceremony has no circuit {circuit}")
        return self.folder / entry.file

    def _initial_zkey(self, circuit: str) -> tuple[ZkeyFile, int]:
        """The initial key of ``circuit`` and its size in bytes."""
        path = self._initial_zkey_path(circuit)
        data = read_binary(path)
        return parse_zkey_file(data, path=str(path)), len(data)

    def _initial_zkey_bytes(self, circuit: str) -> int:
        path = self._initial_zkey_path(circuit)
        try:
            return path.stat().st_size
        except OSError as exc:
            raise wrap_os_error(exc, path, "read it") from None

    def _zkey_contributions(self, circuit: str) -> int:
        """How many contributions (beacon included) the head key of ``circuit`` holds."""
        return sum(1 for e in self.entries if e.circuit == circuit and e.step in ("contribution", "beacon"))

    def _read_zkey(self, path: Path, initial_bytes: int, contributions: int) -> tuple[ZkeyFile, bytes]:
        data = read_ceremony_file(path, max_bytes=max_contributed_zkey_bytes(initial_bytes, contributions))
        return parse_zkey_file(data, path=str(path)), data

    def _phase1_open(self) -> bool:
        return not any(e.step == "prepare" for e in self.entries)

    def _next_number(self, phase: str, circuit: str | None = None) -> int:
        return sum(1 for e in self.entries if e.phase == phase and e.circuit == circuit)

    # ----------------------------------------------------------------- phase 1

    def _accept_ptau_file(self, new: PtauFile, data: bytes, *, name: str, step: str) -> TranscriptEntry:
        head = self._read_ptau(self.head_ptau(), self._phase1_contributions(), prepared=False)
        _check_extends_ptau(head, new)
        challenge = pt.current_challenge(head)
        report = pt.verify(new)
        response, next_challenge = pt.recompute_hashes(new, challenge)
        info = report.contributions[-1]
        if response != info.response_hash or next_challenge != info.next_challenge:
            raise ContributionError(
                "the saved hash state does not match the points", check="response-hash", contribution=info.index
            )
        record = new.contributions[-1]
        number = self._next_number("phase1")
        relative = f"phase1/{number:04d}-{_slug(name)}.ptau"
        sha = self._store(relative, data)
        return self._append(
            TranscriptEntry(
                index=len(self.entries),
                phase="phase1",
                step=step,
                name=name,
                file=relative,
                sha256=sha,
                time=_now(),
                contribution_hash=response.hex(),
                previous_hash=challenge.hex(),
                next_hash=next_challenge.hex(),
                beacon_value=record.beacon_value.hex() if record.beacon_value is not None else None,
                beacon_exponent=record.beacon_exponent,
            )
        )

    def accept_ptau(self, incoming: str | Path, *, name: str) -> TranscriptEntry:
        """Check a phase-1 contribution (the head plus one contribution, made by zkhealth or snarkjs) and
        append it. Raises :class:`CeremonyError` / :class:`ContributionError` and changes nothing on refusal."""
        if not self._phase1_open():
            raise CeremonyError("phase 1 is closed (prepare phase2 was run)")
        limit = max_ptau_bytes(self.power, self._phase1_contributions() + 1, prepared=False)
        data = read_ceremony_file(incoming, max_bytes=limit)
        new = parse_ptau(data, path=str(incoming))
        step = "beacon" if new.contributions and new.contributions[-1].is_beacon else "contribution"
        return self._accept_ptau_file(new, data, name=name, step=step)

    def beacon_ptau(self, beacon_value: bytes, exponent: int, *, name: str = "beacon") -> TranscriptEntry:
        """Apply a beacon to the phase-1 head (the coordinator's last contribution) and append it."""
        if not self._phase1_open():
            raise CeremonyError("phase 1 is closed (prepare phase2 was run)")
        head = self._read_ptau(self.head_ptau(), self._phase1_contributions(), prepared=False)
        new, _ = pt.beacon(head, beacon_value, exponent, name=name)
        data = ptau_to_bytes(new)
        return self._accept_ptau_file(parse_ptau(data), data, name=name, step="beacon")

    def prepare(self, *, progress: ProgressCallback | None = None) -> TranscriptEntry:
        """Close phase 1: verify the head, add the Lagrange sections and append the prepared file."""
        if not self._phase1_open():
            raise CeremonyError("phase 1 is already prepared")
        head = self._read_ptau(self.head_ptau(), self._phase1_contributions(), prepared=False)
        pt.verify(head)
        prepared = pt.prepare_phase2(head, progress=progress)
        data = ptau_to_bytes(prepared)
        sha = self._store("phase1/prepared.ptau", data)
        last = head.contributions[-1]
        return self._append(
            TranscriptEntry(
                index=len(self.entries),
                phase="phase1",
                step="prepare",
                name="coordinator",
                file="phase1/prepared.ptau",
                sha256=sha,
                time=_now(),
                previous_hash=last.next_challenge.hex(),
            )
        )

    # ----------------------------------------------------------------- phase 2

    def _prepared(self) -> PtauFile:
        if self._phase1_open():
            raise CeremonyError("phase 1 is not closed: run prepare first")
        return self._read_ptau(self.folder / self._last("phase1").file, self._phase1_contributions(), prepared=True)

    def start_circuit(
        self, circuit: str, r1cs_source: str | Path | R1CS, *, progress: ProgressCallback | None = None
    ) -> TranscriptEntry:
        """Start phase 2 for ``circuit``: store its ``.r1cs`` (a file, or an :class:`R1CS` written as circom
        would) and write ``zkey new`` of it."""
        _check_circuit(circuit)
        if any(e.circuit == circuit for e in self.entries):
            raise CeremonyError(f"circuit {circuit} is already in the ceremony")
        if isinstance(r1cs_source, R1CS):
            r1cs_data = r1cs_to_bytes(r1cs_source)
        else:
            r1cs_data = read_binary(r1cs_source)
        r1cs = parse_r1cs(r1cs_data)
        zkey = zk.new_zkey(r1cs, self._prepared(), progress=progress)
        self._store(f"phase2/{circuit}/circuit.r1cs", r1cs_data)
        data = zkey_file_to_bytes(zkey)
        relative = f"phase2/{circuit}/0000-new.zkey"
        sha = self._store(relative, data)
        circuit_hash = (zkey.cs_hash or b"").hex()
        return self._append(
            TranscriptEntry(
                index=len(self.entries),
                phase="phase2",
                step="zkey-new",
                name="coordinator",
                file=relative,
                sha256=sha,
                time=_now(),
                circuit=circuit,
                contribution_hash=circuit_hash,
                next_hash=circuit_hash,
            )
        )

    def _accept_zkey_file(
        self, circuit: str, new: ZkeyFile, data: bytes, *, name: str, progress: ProgressCallback | None
    ) -> TranscriptEntry:
        init, initial_bytes = self._initial_zkey(circuit)
        head, _ = self._read_zkey(self.head_zkey(circuit), initial_bytes, self._zkey_contributions(circuit))
        _check_extends_zkey(head, new)
        report = zk.verify_from_init(new, init, self._prepared(), progress=progress)
        info = report.contributions[-1]
        record = new.contributions[-1]
        previous = self._last("phase2", circuit).contribution_hash
        number = self._next_number("phase2", circuit)
        relative = f"phase2/{circuit}/{number:04d}-{_slug(name)}.zkey"
        sha = self._store(relative, data)
        return self._append(
            TranscriptEntry(
                index=len(self.entries),
                phase="phase2",
                step="beacon" if record.is_beacon else "contribution",
                name=name,
                file=relative,
                sha256=sha,
                time=_now(),
                circuit=circuit,
                contribution_hash=info.contribution_hash.hex(),
                previous_hash=previous,
                next_hash=record.transcript.hex(),
                beacon_value=record.beacon_value.hex() if record.beacon_value is not None else None,
                beacon_exponent=record.beacon_exponent,
            )
        )

    def accept_zkey(
        self, circuit: str, incoming: str | Path, *, name: str, progress: ProgressCallback | None = None
    ) -> TranscriptEntry:
        """Check a phase-2 contribution to ``circuit`` (the head plus one contribution) and append it."""
        self._check_open(circuit)
        limit = max_contributed_zkey_bytes(self._initial_zkey_bytes(circuit), self._zkey_contributions(circuit) + 1)
        data = read_ceremony_file(incoming, max_bytes=limit)
        return self._accept_zkey_file(
            circuit, parse_zkey_file(data, path=str(incoming)), data, name=name, progress=progress
        )

    def beacon_zkey(self, circuit: str, beacon_value: bytes, exponent: int, *, name: str = "beacon") -> TranscriptEntry:
        """Apply a beacon to the head key of ``circuit`` and append it."""
        self._check_open(circuit)
        head, _ = self._read_zkey(self.head_zkey(circuit), self._initial_zkey_bytes(circuit),
                                  self._zkey_contributions(circuit))
        new, _ = zk.beacon(head, beacon_value, exponent, name=name)
        data = zkey_file_to_bytes(new)
        return self._accept_zkey_file(circuit, parse_zkey_file(data), data, name=name, progress=None)

    def final_key(self, circuit: str) -> tuple[Path, Path]:
        """``(final .zkey, prepared .ptau)`` of a circuit whose phase 2 is finished (:meth:`finish_circuit`)."""
        _check_circuit(circuit)
        if not any(e.circuit == circuit and e.step == "verification-key" for e in self.entries):
            raise CeremonyError(f"phase 2 of {circuit} is not finished")
        return self.head_zkey(circuit), self.folder / self._last("phase1").file

    def has_circuit(self, circuit: str) -> bool:
        return any(e.circuit == circuit for e in self.entries)

    def _check_open(self, circuit: str) -> None:
        _check_circuit(circuit)
        if any(e.circuit == circuit and e.step == "verification-key" for e in self.entries):
            raise CeremonyError(f"phase 2 of {circuit} is finished")

    def finish_circuit(self, circuit: str) -> TranscriptEntry:
        """Close phase 2 of ``circuit``: export the verification key of its head key into the folder."""
        self._check_open(circuit)
        head, _ = self._read_zkey(self.head_zkey(circuit), self._initial_zkey_bytes(circuit),
                                  self._zkey_contributions(circuit))
        if not head.contributions:
            raise CeremonyError("the key has no contribution yet: its delta is 1")
        vk = zk.export_verification_key(head)
        data = _vk_json(vk)
        relative = f"phase2/{circuit}/verification_key.json"
        sha = self._store(relative, data)
        return self._append(
            TranscriptEntry(
                index=len(self.entries),
                phase="phase2",
                step="verification-key",
                name="coordinator",
                file=relative,
                sha256=sha,
                time=_now(),
                circuit=circuit,
                contribution_hash=vk.sha256(),
                previous_hash=self._last("phase2", circuit).contribution_hash,
            )
        )


def _vk_json(vk: Any) -> bytes:
    return (json.dumps(verifying_key_to_dict(vk), indent=1) + "\n").encode("ascii")


def _check_extends_ptau(head: PtauFile, new: PtauFile) -> None:
    if (new.power, new.ceremony_power) != (head.power, head.ceremony_power):
        raise CeremonyError(f"the file is of power {new.power}, the ceremony of {head.power}")
    if new.prepared:
        raise CeremonyError("a contribution must not be prepared (prepare phase2 comes after the last one)")
    if len(new.contributions) != len(head.contributions) + 1 or new.contributions[:-1] != head.contributions:
        raise ContributionError(
            "the file is not the current head plus exactly one contribution", check="extends-head",
            contribution=len(new.contributions),
        )  # fmt: skip


def _check_extends_zkey(head: ZkeyFile, new: ZkeyFile) -> None:
    sizes = (new.n_vars, new.n_public, new.domain_size, new.cs_hash)
    same = sizes == (head.n_vars, head.n_public, head.domain_size, head.cs_hash) and all(
        new.sections[s] == head.sections[s] for s in (3, 4, 5, 6, 7)
    )
    if (
        not same
        or len(new.contributions) != len(head.contributions) + 1
        or new.contributions[:-1] != head.contributions
    ):
        raise ContributionError(
            "the key is not the current head plus exactly one contribution", check="extends-head",
            contribution=len(new.contributions),
        )  # fmt: skip


# --------------------------------------------------------------------------- transcript file


def _write_transcript(folder: Path, power: int, entries: list[TranscriptEntry]) -> None:
    body = {"version": VERSION, "power": power, "entries": [asdict(e) for e in entries]}
    atomic_write(folder / TRANSCRIPT, (json.dumps(body, indent=1) + "\n").encode("utf-8"), mode=0o644)


def _load_transcript(folder: Path) -> tuple[int, list[TranscriptEntry]]:
    path = folder / TRANSCRIPT
    what = str(path)
    try:
        raw = read_limited(path, what=what, max_bytes=MAX_TRANSCRIPT_BYTES, error=CeremonyFileError)
    except OSError as exc:
        raise CeremonyFileError(f"cannot read: {exc.strerror}", path=what) from exc
    body = loads_strict(raw, what=what, error=CeremonyFileError)
    if not isinstance(body, dict) or set(body) != {"version", "power", "entries"} or body["version"] != VERSION:
        raise CeremonyFileError("not a version-1 ceremony transcript", path=what)
    power = body["power"]
    if isinstance(power, bool) or not isinstance(power, int) or not 1 <= power <= 28:
        raise CeremonyFileError("the power must be an int in [1, 28]", path=what)
    if not isinstance(body["entries"], list) or not body["entries"]:
        raise CeremonyFileError("the transcript has no entries", path=what)
    fields = set(TranscriptEntry.__dataclass_fields__)
    entries = []
    for index, item in enumerate(body["entries"]):
        if not isinstance(item, dict) or set(item) != fields:
            raise CeremonyFileError(f"entry {index} does not have the transcript fields", path=what)
        entry = TranscriptEntry(**item)
        _check_entry(entry, index, what)
        entries.append(entry)
    return power, entries


_HEX: Final[re.Pattern[str]] = re.compile(r"^[0-9a-f]*$")


def _check_entry(entry: TranscriptEntry, index: int, what: str) -> None:
    def bad(message: str) -> CeremonyFileError:
        return CeremonyFileError(f"entry {index}: {message}", path=what)

    if entry.index != index:
        raise bad("the index does not follow the previous entry")
    if entry.phase not in ("phase1", "phase2") or entry.step not in _STEPS:
        raise bad("unknown phase or step")
    for label in ("name", "file", "sha256", "time"):
        if not isinstance(getattr(entry, label), str):
            raise bad(f"{label} must be a string")
    for label in ("contribution_hash", "previous_hash", "next_hash", "beacon_value", "sha256"):
        value = getattr(entry, label)
        if value is not None and (not isinstance(value, str) or not _HEX.match(value) or len(value) > 510):
            raise bad(f"{label} must be lowercase hex")
    if entry.circuit is not None and (not isinstance(entry.circuit, str) or not _CIRCUIT.match(entry.circuit)):
        raise bad("bad circuit name")
    if entry.beacon_exponent is not None and (
        isinstance(entry.beacon_exponent, bool) or not isinstance(entry.beacon_exponent, int)
    ):
        raise bad("the beacon exponent must be an int")
    relative = PurePosixPath(entry.file)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise bad("file paths stay inside the ceremony folder")


# --------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class CeremonyReport:
    """A replayed ceremony: its entries (every hash checked), each finished circuit's verification-key sha256
    and its **final hash**: the contribution hash of its final key's last contribution (BLAKE2b-512, hex), which
    chains from the circuit hash through every contribution, and which a key adopted from the ceremony records
    (``zkhealth setup --ceremony``, ``zkhealth universal-keys import``)."""

    power: int
    entries: tuple[TranscriptEntry, ...]
    verification_keys: dict[str, str]
    final_hashes: dict[str, str] = field(default_factory=dict)


def verify_ceremony(
    folder: str | Path,
    *,
    progress: ProgressCallback | None = None,
    on_entry: Callable[[TranscriptEntry], None] | None = None,
) -> CeremonyReport:
    """Replay the transcript of ``folder`` from the first file to the final keys (module docstring).

    ``on_entry`` is called with each entry once it is checked (to print the hashes as they are confirmed).
    Raises :class:`TranscriptError` for a transcript that does not match its files, or the error of the
    failing check (:class:`ContributionError`, :class:`CeremonyFileError`).
    """
    root = Path(folder)
    power, entries = _load_transcript(root)

    def load(entry: TranscriptEntry, max_bytes: int) -> bytes:
        path = root / entry.file
        try:
            data = read_ceremony_file(path, max_bytes=max_bytes)
        except OSError as exc:
            raise TranscriptError(f"entry {entry.index}: cannot read {entry.file}: {exc}") from exc
        except CeremonyFileError as exc:  # larger than its place in the ceremony allows: not the recorded file
            raise TranscriptError(f"entry {entry.index}: {entry.file}: {exc.message}") from exc
        if _sha256(data) != entry.sha256:
            raise TranscriptError(f"entry {entry.index}: {entry.file} is not the file the transcript recorded (sha256)")
        return data

    def done(entry: TranscriptEntry) -> None:
        if on_entry is not None:
            on_entry(entry)

    def mismatch(entry: TranscriptEntry, what: str) -> TranscriptError:
        return TranscriptError(f"entry {entry.index} ({entry.name}): the {what} does not chain")

    first = entries[0]
    if (first.phase, first.step) != ("phase1", "new"):
        raise TranscriptError("the transcript does not start with a fresh accumulator")
    fresh = pt.new_accumulator(power)
    if load(first, max_ptau_bytes(power, 0, prepared=False)) != ptau_to_bytes(fresh):
        raise TranscriptError(f"entry 0: {first.file} is not the fresh accumulator of 2^{power}")
    if first.next_hash != pt.first_challenge(power).hex():
        raise mismatch(first, "first challenge")
    done(first)
    previous: PtauFile = fresh
    previous_entry = first
    phase1 = [e for e in entries[1:] if e.phase == "phase1" and e.step in ("contribution", "beacon")]
    prepare = [e for e in entries if e.step == "prepare"]
    for position, entry in enumerate(phase1):
        new = parse_ptau(load(entry, max_ptau_bytes(power, position + 1, prepared=False)), path=entry.file)
        _check_extends_ptau(previous, new)
        challenge = pt.current_challenge(previous)
        if entry.previous_hash != challenge.hex() or previous_entry.next_hash != entry.previous_hash:
            raise mismatch(entry, "previous hash")
        last_of_phase = position == len(phase1) - 1
        if last_of_phase:
            pt.verify(new, progress=progress)
        else:
            _check_contribution_only(previous, new)
        response, next_challenge = pt.recompute_hashes(new, challenge)
        record = new.contributions[-1]
        if response != pt.response_hash(record) or next_challenge != record.next_challenge:
            raise ContributionError(
                "the saved hash state does not match the points", check="response-hash",
                contribution=len(new.contributions), path=entry.file,
            )  # fmt: skip
        if entry.contribution_hash != response.hex() or entry.next_hash != next_challenge.hex():
            raise mismatch(entry, "contribution hash")
        if (entry.step == "beacon") != record.is_beacon:
            raise TranscriptError(f"entry {entry.index}: the transcript and the file disagree on the beacon")
        done(entry)
        previous, previous_entry = new, entry
    if not prepare:
        return CeremonyReport(power, tuple(entries), {})
    prepared_entry = prepare[0]
    prepared = parse_ptau(load(prepared_entry, max_ptau_bytes(power, len(phase1), prepared=True)),
                          path=prepared_entry.file)
    if not prepared.prepared or any(prepared.sections[s] != previous.sections[s] for s in (2, 3, 4, 5, 6)):
        raise TranscriptError("the prepared file is not the last phase-1 file")
    if prepared.contributions != previous.contributions:
        raise TranscriptError("the prepared file's contributions are not the last phase-1 file's")
    pt.verify(prepared, progress=progress)
    done(prepared_entry)
    keys: dict[str, str] = {}
    finals: dict[str, str] = {}
    circuits = [e.circuit for e in entries if e.step == "zkey-new"]
    for circuit in circuits:
        vk_sha, final = _replay_circuit(root, [e for e in entries if e.circuit == circuit], prepared, load, done,
                                        progress)
        keys[circuit or ""] = vk_sha
        if vk_sha:
            finals[circuit or ""] = final
    return CeremonyReport(power, tuple(entries), keys, finals)


def _check_contribution_only(previous: PtauFile, new: PtauFile) -> None:
    """The cheap checks of an intermediate file: the new record's proofs and chain against the previous file,
    and its points are the file's. (The final file's full verification covers the powers.)"""
    record = new.contributions[-1]
    if (new.g1(2)[1], new.g2(3)[1], new.g1(4)[0], new.g1(5)[0], new.g2(6)[0]) != (
        record.tau_g1, record.tau_g2, record.alpha_g1, record.beta_g1, record.beta_g2,
    ):  # fmt: skip
        raise ContributionError(
            "the file's points are not its last contribution's", check="last-contribution-points",
            contribution=len(new.contributions), path=new.path,
        )  # fmt: skip
    pt.verify_last_contribution(previous, new)


def _replay_circuit(
    root: Path,
    entries: list[TranscriptEntry],
    prepared: PtauFile,
    load: Callable[[TranscriptEntry, int], bytes],
    done: Callable[[TranscriptEntry], None],
    progress: ProgressCallback | None,
) -> tuple[str, str]:
    """Replay one circuit's phase 2: (its verification key's sha256, or "" while unfinished; its final hash)."""
    start = entries[0]
    circuit = start.circuit or ""
    if start.step != "zkey-new":
        raise TranscriptError(f"circuit {circuit}: the first step is not zkey-new")
    r1cs_path = root / f"phase2/{circuit}/circuit.r1cs"
    try:
        r1cs = parse_r1cs(read_binary(r1cs_path))
    except OSError as exc:
        raise TranscriptError(f"circuit {circuit}: cannot read {r1cs_path}") from exc
    expected_init = zkey_file_to_bytes(zk.new_zkey(r1cs, prepared, progress=progress))
    init_data = load(start, len(expected_init))
    if init_data != expected_init:
        raise TranscriptError(f"circuit {circuit}: {start.file} is not zkey new of its circuit and the prepared file")
    init = parse_zkey_file(init_data, path=start.file)
    if start.contribution_hash != (init.cs_hash or b"").hex():
        raise TranscriptError(f"circuit {circuit}: the circuit hash does not match")
    done(start)
    previous, previous_hash = init, start.contribution_hash
    vk_sha = ""
    contributions = [e for e in entries[1:] if e.step in ("contribution", "beacon")]
    for position, entry in enumerate(contributions):
        new = parse_zkey_file(load(entry, max_contributed_zkey_bytes(len(expected_init), position + 1)),
                              path=entry.file)
        _check_extends_zkey(previous, new)
        if position == len(contributions) - 1:
            report = zk.verify_from_init(new, init, prepared, progress=progress)
        else:
            report = zk.verify_records(new)
        record = new.contributions[-1]
        if entry.previous_hash != previous_hash:
            raise TranscriptError(f"entry {entry.index} ({entry.name}): the previous hash does not chain")
        if (
            entry.contribution_hash != report.contributions[-1].contribution_hash.hex()
            or entry.next_hash != record.transcript.hex()
        ):
            raise TranscriptError(f"entry {entry.index} ({entry.name}): the contribution hash does not chain")
        done(entry)
        previous, previous_hash = new, entry.contribution_hash
    for entry in entries[1:]:
        if entry.step == "verification-key":
            expected = _vk_json(zk.export_verification_key(previous))
            data = load(entry, len(expected))
            if data != expected or entry.contribution_hash != zk.export_verification_key(previous).sha256():
                raise TranscriptError(f"circuit {circuit}: the verification key is not the final key's")
            vk_sha = entry.contribution_hash or ""
            done(entry)
    return vk_sha, previous_hash or ""
