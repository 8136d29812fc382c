"""The coordinator's ceremony folder and transcript, its replay (``ceremony verify``), and the command line."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from groth16_circuits import random_circuit

from zkhealth.ceremony import phase2 as zk
from zkhealth.ceremony import powersoftau as pt
from zkhealth.ceremony.transcript import Ceremony, verify_ceremony
from zkhealth.cli import run
from zkhealth.errors import CeremonyError, CeremonyFileError, ContributionError, TranscriptError
from zkhealth.formats import write_r1cs, write_wtns
from zkhealth.formats.ptau_file import parse_ptau, ptau_to_bytes, read_ptau, write_ptau
from zkhealth.formats.snarkjs_json import load_verifying_key
from zkhealth.formats.zkey_file import read_zkey, read_zkey_file, write_zkey_file
from zkhealth.groth16 import prove, public_signals, verify

pytestmark = pytest.mark.prove

POWER = 6


def _contribute_ptau(ceremony: Ceremony, folder: Path, who: str) -> Path:
    new, _ = pt.contribute(read_ptau(ceremony.head_ptau()), name=who, entropy=who)
    path = folder / f"{who}.ptau"
    write_ptau(new, path)
    return path


def _contribute_zkey(ceremony: Ceremony, circuit: str, folder: Path, who: str) -> Path:
    new, _ = zk.contribute(read_zkey_file(ceremony.head_zkey(circuit)), name=who, entropy=who)
    path = folder / f"{who}.zkey"
    write_zkey_file(new, path)
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole 2^6 ceremony: two phase-1 contributors, a beacon, prepare, one circuit with two contributors."""
    root = tmp_path_factory.mktemp("ceremony")
    inbox = root / "inbox"
    inbox.mkdir()
    ceremony = Ceremony.create(root / "c", POWER)
    for who in ("alice", "bob"):
        ceremony.accept_ptau(_contribute_ptau(ceremony, inbox, who), name=who.title())
    ceremony.beacon_ptau(bytes.fromhex("aa" * 32), 10)
    ceremony.prepare()
    r1cs, witness = random_circuit(21, 2, 2, 40)
    write_r1cs(r1cs, inbox / "circuit.r1cs")
    write_wtns(witness, inbox / "witness.wtns")
    ceremony.start_circuit("trial", inbox / "circuit.r1cs")
    for who in ("carol", "dave"):
        ceremony.accept_zkey("trial", _contribute_zkey(ceremony, "trial", inbox, who), name=who.title())
    ceremony.finish_circuit("trial")
    return root


def _fresh_copy(finished: Path, tmp_path: Path) -> Path:
    target = tmp_path / "c"
    shutil.copytree(finished / "c", target)
    return target


def _transcript(folder: Path) -> dict[str, object]:
    return json.loads((folder / "transcript.json").read_text())  # type: ignore[no-any-return]


def _rewrite(folder: Path, body: dict[str, object]) -> None:
    (folder / "transcript.json").write_text(json.dumps(body, indent=1))


def test_replay_checks_every_step_and_the_final_key(finished: Path) -> None:
    seen: list[str] = []
    report = verify_ceremony(finished / "c", on_entry=lambda e: seen.append(f"{e.step}:{e.name}"))
    assert seen == [
        "new:coordinator", "contribution:Alice", "contribution:Bob", "beacon:beacon", "prepare:coordinator",
        "zkey-new:coordinator", "contribution:Carol", "contribution:Dave", "verification-key:coordinator",
    ]  # fmt: skip
    entries = report.entries
    for before, after in zip(entries[1:3], entries[2:4], strict=True):
        assert after.previous_hash == before.next_hash  # phase 1 chains challenge to challenge
    assert entries[7].previous_hash == entries[6].contribution_hash  # phase 2 chains contribution hashes
    vk = load_verifying_key(finished / "c" / "phase2" / "trial" / "verification_key.json")
    assert report.verification_keys == {"trial": vk.sha256()}
    # The final hash: the last contribution hash of the final key, as the transcript records it.
    assert report.final_hashes == {"trial": entries[7].contribution_hash}
    final = zk.verify_records(read_zkey_file(finished / "c" / "phase2" / "trial" / "0002-dave.zkey"))
    assert final.contributions[-1].contribution_hash.hex() == report.final_hashes["trial"]
    # The final key proves, and its proofs verify under the published verification key.
    pk = read_zkey(finished / "c" / "phase2" / "trial" / "0002-dave.zkey")
    from zkhealth.formats import read_wtns

    witness = read_wtns(finished / "inbox" / "witness.wtns")
    verify(vk, public_signals(pk, witness), prove(pk, witness), require_production=True)


def test_coordinator_refuses_what_does_not_extend_the_head(finished: Path, tmp_path: Path) -> None:
    folder = _fresh_copy(finished, tmp_path)
    ceremony = Ceremony(folder)
    inbox = finished / "inbox"
    with pytest.raises(CeremonyError):  # phase 1 is closed
        ceremony.accept_ptau(inbox / "alice.ptau", name="again")
    with pytest.raises(CeremonyError):  # the circuit is finished
        ceremony.accept_zkey("trial", inbox / "dave.zkey", name="again")
    before = (folder / "transcript.json").read_bytes()
    fresh = Ceremony.create(tmp_path / "other", POWER)
    alice = _contribute_ptau(fresh, tmp_path, "alice")
    fresh.accept_ptau(alice, name="Alice")
    with pytest.raises(ContributionError) as info:  # Alice's file again: not the head plus one
        fresh.accept_ptau(alice, name="Alice")
    assert info.value.check == "extends-head"
    stale = pt.contribute(pt.new_accumulator(POWER), entropy="stale")[0]
    write_ptau(stale, tmp_path / "stale.ptau")
    with pytest.raises(ContributionError):
        fresh.accept_ptau(tmp_path / "stale.ptau", name="Mallory")
    prepared = pt.prepare_phase2(read_ptau(_contribute_ptau(fresh, tmp_path, "bob")))
    write_ptau(prepared, tmp_path / "prepared.ptau")
    with pytest.raises(CeremonyError):
        fresh.accept_ptau(tmp_path / "prepared.ptau", name="Bob")
    bigger = pt.contribute(pt.new_accumulator(POWER + 1), entropy="x")[0]
    write_ptau(bigger, tmp_path / "bigger.ptau")
    with pytest.raises(CeremonyError):
        fresh.accept_ptau(tmp_path / "bigger.ptau", name="Bob")
    with pytest.raises(CeremonyError):
        fresh.start_circuit("early", inbox / "circuit.r1cs")
    with pytest.raises(CeremonyError):
        Ceremony.create(folder, POWER)
    assert (folder / "transcript.json").read_bytes() == before
    assert len(Ceremony(tmp_path / "other").entries) == 2


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (a reader that reads it whole allocates ``size``)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_incoming_files_are_bounded_by_the_ceremony_power(finished: Path, tmp_path: Path) -> None:
    """The coordinator refuses an incoming file larger than the head plus one contribution can be (from the
    ceremony's power, or from the circuit's initial key) before reading it, and changes nothing; the replay
    refuses a folder file larger than its place allows the same way."""
    from zkhealth.formats.ptau_file import max_ptau_bytes
    from zkhealth.formats.zkey_file import max_contributed_zkey_bytes

    fresh = Ceremony.create(tmp_path / "p1", POWER)
    alice = _contribute_ptau(fresh, tmp_path, "alice")
    limit = max_ptau_bytes(POWER, 1, prepared=False)
    assert alice.stat().st_size <= limit
    padded = tmp_path / "padded.ptau"
    padded.write_bytes(alice.read_bytes() + bytes(limit + 1 - alice.stat().st_size))
    huge = _sparse(tmp_path / "huge.ptau", 1 << 40)  # 1 TiB: refused from its size alone
    for incoming in (padded, huge):
        with pytest.raises(CeremonyFileError, match="more than this file can have"):
            fresh.accept_ptau(incoming, name="Mallory")
    assert len(Ceremony(tmp_path / "p1").entries) == 1
    fresh.accept_ptau(alice, name="Alice")  # the file itself, within the bound, is accepted

    folder = _fresh_copy(finished, tmp_path / "z")
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    entries.pop()  # reopen phase 2 of the circuit: drop its verification key
    (folder / "phase2" / "trial" / "verification_key.json").unlink()
    _rewrite(folder, body)
    ceremony = Ceremony(folder)
    initial = (folder / "phase2" / "trial" / "0000-new.zkey").stat().st_size
    assert max_contributed_zkey_bytes(initial, 3) >= (finished / "c" / "phase2" / "trial" / "0002-dave.zkey").stat(
    ).st_size
    with pytest.raises(CeremonyFileError, match="more than this file can have"):
        ceremony.accept_zkey("trial", _sparse(tmp_path / "huge.zkey", max_contributed_zkey_bytes(initial, 3) + 1),
                             name="Mallory")
    assert len(Ceremony(folder).entries) == len(entries)
    ceremony.accept_zkey("trial", _contribute_zkey(ceremony, "trial", tmp_path, "erin"), name="Erin")

    replayed = _fresh_copy(finished, tmp_path / "r")
    _sparse(replayed / "phase1" / "0002-bob.ptau", 1 << 40)
    with pytest.raises(TranscriptError, match="more than this file can have"):
        verify_ceremony(replayed)


def test_replay_catches_a_contribution_hash_that_does_not_chain(finished: Path, tmp_path: Path) -> None:
    folder = _fresh_copy(finished, tmp_path)
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    entries[2]["contribution_hash"] = "00" * 64
    _rewrite(folder, body)
    with pytest.raises(TranscriptError):
        verify_ceremony(folder)
    folder = _fresh_copy(finished, tmp_path / "b")
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    entries[7]["previous_hash"] = entries[5]["contribution_hash"]
    _rewrite(folder, body)
    with pytest.raises(TranscriptError):
        verify_ceremony(folder)


def test_replay_catches_replaced_files(finished: Path, tmp_path: Path) -> None:
    folder = _fresh_copy(finished, tmp_path)
    shutil.copy(folder / "phase1" / "0001-alice.ptau", folder / "phase1" / "0002-bob.ptau")
    with pytest.raises(TranscriptError):  # sha256 differs from the transcript
        verify_ceremony(folder)
    # A coordinator who also rewrites the sha256: the replaced file does not extend Alice's.
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    import hashlib

    entries[2]["sha256"] = hashlib.sha256((folder / "phase1" / "0002-bob.ptau").read_bytes()).hexdigest()
    _rewrite(folder, body)
    with pytest.raises(ContributionError):
        verify_ceremony(folder)


def test_replay_catches_a_forged_hash_state(finished: Path, tmp_path: Path) -> None:
    """A contributor (or coordinator) who saves a hash state that is not the hash of the points is caught,
    even with the transcript and file hashes rewritten to match."""
    folder = _fresh_copy(finished, tmp_path)
    alice = parse_ptau((folder / "phase1" / "0001-alice.ptau").read_bytes())
    record = alice.contributions[-1]
    from dataclasses import replace

    from zkhealth.hash.blake2b import Blake2b

    fake_state = Blake2b(b"not the points").partial_state()
    fake = replace(record, partial_hash=fake_state)
    response = pt.response_hash(fake)
    nxt = hashlib_next(response, alice)
    alice.contributions[-1] = replace(fake, next_challenge=nxt)
    data = ptau_to_bytes(alice)
    (folder / "phase1" / "0001-alice.ptau").write_bytes(data)
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    import hashlib

    entries[1].update(sha256=hashlib.sha256(data).hexdigest(), contribution_hash=response.hex(), next_hash=nxt.hex())
    _rewrite(folder, body)
    with pytest.raises(ContributionError) as info:
        verify_ceremony(folder)
    assert info.value.check == "response-hash"


def hashlib_next(response: bytes, ptau: object) -> bytes:
    import hashlib

    from zkhealth.formats._montgomery import g1_uncompressed, g2_uncompressed

    assert hasattr(ptau, "g1")
    hasher = hashlib.blake2b(response)
    for section in (2, 3, 4, 5, 6):
        points = ptau.g2(section) if section in (3, 6) else ptau.g1(section)
        hasher.update(g2_uncompressed(points) if section in (3, 6) else g1_uncompressed(points))  # type: ignore[arg-type]
    return hasher.digest()


def test_transcript_is_untrusted_input(finished: Path, tmp_path: Path) -> None:
    folder = _fresh_copy(finished, tmp_path)
    body = _transcript(folder)
    entries = body["entries"]
    assert isinstance(entries, list)
    entries[3]["file"] = "../../etc/passwd"
    _rewrite(folder, body)
    with pytest.raises(CeremonyFileError):
        verify_ceremony(folder)
    for broken in ("[]", '{"version": 1, "power": 6, "entries": [], "entries": []}', "{" * 100, "x"):
        (folder / "transcript.json").write_text(broken)
        with pytest.raises(CeremonyFileError):
            verify_ceremony(folder)
    body["entries"] = entries[:1] + entries[2:]  # a step removed: indices no longer follow
    entries[3]["file"] = "phase1/0003-beacon.ptau"
    _rewrite(folder, body)
    with pytest.raises(CeremonyFileError):
        verify_ceremony(folder)


# --------------------------------------------------------------------------- command line


def test_command_line_ceremony(tmp_path: Path, finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cli"
    assert run(["ceremony", "init", str(folder), "--power", "6"]) == 0
    assert run(["powersoftau", "contribute", str(folder / "phase1" / "0000-new.ptau"), str(tmp_path / "a.ptau"),
                "-n", "alice", "-e", "some text", "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert run(["--json", "ceremony", "accept", str(folder), str(tmp_path / "a.ptau"), "--name", "Alice"]) == 0
    accepted = json.loads(capsys.readouterr().out)
    assert accepted["name"] == "Alice" and accepted["step"] == "contribution"
    assert run(["ceremony", "accept", str(folder), str(tmp_path / "a.ptau"), "--name", "Alice"]) == 1
    assert "ContributionError" in capsys.readouterr().err
    assert run(["ceremony", "beacon", str(folder), "ab" * 16, "10"]) == 0
    assert run(["ceremony", "prepare", str(folder), "--quiet"]) == 0
    assert run(["ceremony", "circuit", str(folder), "trial", str(finished / "inbox" / "circuit.r1cs"), "--quiet"]) == 0
    head = folder / "phase2" / "trial" / "0000-new.zkey"
    assert run(["zkey", "contribute", str(head), str(tmp_path / "c.zkey"), "-n", "carol", "--quiet"]) == 0
    assert run(["ceremony", "accept", str(folder), str(tmp_path / "c.zkey"), "--name", "Carol", "--circuit", "trial",
                "--quiet"]) == 0  # fmt: skip
    assert run(["ceremony", "finish", str(folder), "trial"]) == 0
    capsys.readouterr()
    assert run(["--json", "ceremony", "verify", str(folder)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and len(report["entries"]) == 7 and "trial" in report["verification_keys"]
    assert run(["ceremony", "status", str(folder)]) == 0
    assert "head of trial" in capsys.readouterr().out


def test_command_line_files(tmp_path: Path, finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ptau = tmp_path / "p.ptau"
    assert run(["powersoftau", "new", "bn128", "5", str(ptau)]) == 0
    assert run(["powersoftau", "contribute", str(ptau), str(tmp_path / "p1.ptau"), "--quiet"]) == 0
    assert run(["powersoftau", "beacon", str(tmp_path / "p1.ptau"), str(tmp_path / "p2.ptau"), "0xabcd", "10",
                "--quiet"]) == 0  # fmt: skip
    prepare = ["powersoftau", "prepare", "phase2", str(tmp_path / "p2.ptau"), str(tmp_path / "pf.ptau"), "--quiet"]
    assert run(prepare) == 0
    capsys.readouterr()
    assert run(["--json", "powersoftau", "verify", str(tmp_path / "pf.ptau")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prepared"] and [c["beacon"] for c in out["contributions"]] == [False, True]
    assert run(["powersoftau", "verify", str(ptau)]) == 1  # no contribution: refused
    assert run(["powersoftau", "beacon", str(tmp_path / "p1.ptau"), str(tmp_path / "x.ptau"), "xyz", "10"]) == 2
    (tmp_path / "junk.ptau").write_bytes(b"ptau" + bytes(20))
    assert run(["powersoftau", "verify", str(tmp_path / "junk.ptau")]) == 2
    r1cs, witness = random_circuit(4, 1, 1, 20)
    write_r1cs(r1cs, tmp_path / "c.r1cs")
    z0, z1, vk = tmp_path / "z0.zkey", tmp_path / "z1.zkey", tmp_path / "vk.json"
    assert run(["zkey", "new", str(tmp_path / "c.r1cs"), str(tmp_path / "pf.ptau"), str(z0), "--quiet"]) == 0
    assert run(["zkey", "contribute", str(z0), str(z1), "-n", "x", "--quiet"]) == 0
    assert run(["zkey", "verify", str(tmp_path / "c.r1cs"), str(tmp_path / "pf.ptau"), str(z1), "--quiet"]) == 0
    assert run(["zkey", "verify", str(tmp_path / "c.r1cs"), str(tmp_path / "pf.ptau"), str(z0), "--quiet"]) == 1
    assert run(["zkey", "export", "verificationkey", str(z1), str(vk)]) == 0
    pk = read_zkey(z1)
    assert load_verifying_key(vk).sha256() == pk.vk.sha256()
    verify(load_verifying_key(vk), public_signals(pk, witness), prove(pk, witness))


# --------------------------------------------------------------------------- a 2^12 ceremony with snarkjs (slow)


def _snarkjs(cli: Path, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.external
def test_power_12_ceremony_mixed_with_snarkjs(tmp_path: Path, snarkjs_cli: Path) -> None:
    """Three contributors per phase, one of them with snarkjs; the final key passes ``snarkjs zkey verify`` and
    proofs made with it verify in both tools; ``ceremony verify`` replays it all."""
    ceremony = Ceremony.create(tmp_path / "c", 12)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ceremony.accept_ptau(_contribute_ptau(ceremony, inbox, "alice"), name="Alice")
    result = _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(ceremony.head_ptau()), str(inbox / "bob.ptau"),
                      "-n=bob", "-e=snarkjs entropy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    ceremony.accept_ptau(inbox / "bob.ptau", name="Bob (snarkjs)")
    ceremony.accept_ptau(_contribute_ptau(ceremony, inbox, "carol"), name="Carol")
    ceremony.beacon_ptau(secrets.token_bytes(32), 10)
    ceremony.prepare()
    r1cs, witness = random_circuit(99, 3, 3, 3000)
    write_r1cs(r1cs, inbox / "circuit.r1cs")
    write_wtns(witness, inbox / "witness.wtns")
    ceremony.start_circuit("big", inbox / "circuit.r1cs")
    ceremony.accept_zkey("big", _contribute_zkey(ceremony, "big", inbox, "alice"), name="Alice")
    result = _snarkjs(snarkjs_cli, "zkey", "contribute", str(ceremony.head_zkey("big")), str(inbox / "bob.zkey"),
                      "-n=bob", "-e=snarkjs entropy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    ceremony.accept_zkey("big", inbox / "bob.zkey", name="Bob (snarkjs)")
    ceremony.accept_zkey("big", _contribute_zkey(ceremony, "big", inbox, "carol"), name="Carol")
    ceremony.beacon_zkey("big", secrets.token_bytes(32), 10)
    ceremony.finish_circuit("big")
    report = verify_ceremony(tmp_path / "c")
    assert len(report.entries) == 12  # new, 3 contributions, beacon, prepare, zkey new, 3, beacon, key
    final = ceremony.head_zkey("big")
    prepared = tmp_path / "c" / "phase1" / "prepared.ptau"
    result = _snarkjs(snarkjs_cli, "zkey", "verify", str(inbox / "circuit.r1cs"), str(prepared), str(final))
    assert result.returncode == 0 and "ZKey Ok" in result.stdout, result.stdout[-2000:]
    vk_path = tmp_path / "c" / "phase2" / "big" / "verification_key.json"
    pk = read_zkey(final)
    from zkhealth.formats import write_proof, write_public

    write_proof(prove(pk, witness), inbox / "proof.json")
    write_public(public_signals(pk, witness), inbox / "public.json")
    result = _snarkjs(
        snarkjs_cli, "groth16", "verify", str(vk_path), str(inbox / "public.json"), str(inbox / "proof.json")
    )
    assert result.returncode == 0 and "OK" in result.stdout


# --------------------------------------------------------------------------- trial keys from a ceremony (item 4)


def test_trial_setup_from_a_ceremony(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dedicated trial (`trial new --dedicated`): `zkhealth setup --ceremony` opens phase 2 of the trial's
    circuit, then adopts the finished key after a full replay, marked `ceremony` with the final hash the replay
    printed; `--ptau/--zkey` adopts a key after `zkey verify`; a key of another circuit, a tampered key, a key
    without a contribution or half the options are refused and write nothing; development keys stay marked.
    The trial's circuit is replaced by a small one with the same five public signals, so that a 2^7 ceremony
    fits."""
    from types import SimpleNamespace

    from zkhealth.eligibility.trial import CEREMONY, Trial, TrialKeys
    from zkhealth.groth16.keys import DEV_SETUP

    small, _ = random_circuit(31, 4, 2, 60)  # five public signals, as the dedicated circuit
    monkeypatch.setattr(Trial, "compile", lambda self: SimpleNamespace(r1cs=small))
    trial_file = tmp_path / "trial.json"
    assert run(["trial", "new", "--criteria", "age >= 18", "--trial-id", "NCT05000042", "--out", str(trial_file),
                "--operator", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                "--dedicated"]) == 0  # fmt: skip
    folder = tmp_path / "c"
    ceremony = Ceremony.create(folder, 7)
    ceremony.accept_ptau(_contribute_ptau(ceremony, tmp_path, "alice"), name="Alice")
    ceremony.prepare()
    capsys.readouterr()
    assert run(["--json", "setup", str(trial_file), "--keys", str(tmp_path / "k"), "--ceremony", str(folder)]) == 0
    opened = json.loads(capsys.readouterr().out)
    assert opened["keys"] is None and not (tmp_path / "k" / "manifest.json").exists()
    circuit = opened["circuit"]
    ceremony = Ceremony(folder)
    ceremony.accept_zkey(circuit, _contribute_zkey(ceremony, circuit, tmp_path, "bob"), name="Bob")
    # Not finished yet: no key to adopt.
    assert run(["setup", str(trial_file), "--keys", str(tmp_path / "k"), "--ceremony", str(folder)]) == 3
    ceremony.finish_circuit(circuit)
    capsys.readouterr()
    assert run(["--json", "ceremony", "verify", str(folder), "--quiet"]) == 0
    final_hash = json.loads(capsys.readouterr().out)["final_hashes"][circuit]
    assert run(["--json", "setup", str(trial_file), "--keys", str(tmp_path / "k"), "--ceremony", str(folder)]) == 0
    adopted = json.loads(capsys.readouterr().out)
    assert adopted["provenance"] == CEREMONY and adopted["ceremony"] == final_hash
    keys = TrialKeys.load(tmp_path / "k")
    assert keys.provenance == CEREMONY and keys.ceremony == final_hash
    assert keys.vk_sha256 == adopted["verifying_key_sha256"]
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text())
    assert (manifest["provenance"], manifest["ceremony"]) == (CEREMONY, final_hash)
    # The same key given directly.
    final, prepared = Ceremony(folder).final_key(circuit)
    assert run(["--json", "setup", str(trial_file), "--keys", str(tmp_path / "k2"), "--ptau", str(prepared),
                "--zkey", str(final)]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["ceremony"] == final_hash
    # Refused (exit 1), nothing written: a key of another circuit, a tampered key, a key without a contribution.
    other, _ = random_circuit(32, 4, 2, 60)
    foreign = zk.contribute(zk.new_zkey(other, read_ptau(prepared)), entropy="x")[0]
    write_zkey_file(foreign, tmp_path / "foreign.zkey")
    tampered = bytearray(final.read_bytes())
    tampered[-200] ^= 1  # inside the last contribution record
    (tmp_path / "tampered.zkey").write_bytes(bytes(tampered))
    for bad in (tmp_path / "foreign.zkey", tmp_path / "tampered.zkey", folder / "phase2" / circuit / "0000-new.zkey"):
        code = run(["setup", str(trial_file), "--keys", str(tmp_path / "k3"), "--ptau", str(prepared), "--zkey",
                    str(bad)])  # fmt: skip
        assert code in (1, 2), bad  # 1: does not verify; 2: a record no longer parses
        assert not (tmp_path / "k3").exists()
    assert "ContributionError" in capsys.readouterr().err
    assert run(["setup", str(trial_file), "--keys", str(tmp_path / "k3"), "--ptau", str(prepared), "--zkey",
                str(folder / "phase2" / circuit / "0000-new.zkey")]) == 1  # fmt: skip
    assert "no contribution" in capsys.readouterr().err
    assert run(["setup", str(trial_file), "--keys", str(tmp_path / "k3"), "--zkey", str(final)]) == 2
    assert not (tmp_path / "k3").exists()
    # `trial info` describes the keys the trial file records (the real circuit from here on: info compiles it).
    ceremony_trial = json.loads(trial_file.read_text())
    monkeypatch.undo()
    capsys.readouterr()
    assert run(["--json", "trial", "info", str(trial_file)]) == 0
    assert json.loads(capsys.readouterr().out)["keys"] == {"dir": "k2", "provenance": CEREMONY, "ceremony": final_hash}
    assert run(["trial", "info", str(trial_file)]) == 0
    assert f"provenance ceremony, ceremony final hash {final_hash[:16]}" in capsys.readouterr().out
    # Keys made in one process stay development keys.
    monkeypatch.setattr(Trial, "compile", lambda self: SimpleNamespace(r1cs=small))
    assert run(["--json", "setup", str(trial_file), "--keys", str(tmp_path / "dev")]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["provenance"] == DEV_SETUP and made["ceremony"] is None
    assert TrialKeys.describe_provenance(tmp_path / "dev") == (DEV_SETUP, None)
    assert json.loads(trial_file.read_text())["keys"] != ceremony_trial["keys"]
    monkeypatch.undo()
    assert run(["trial", "info", str(trial_file)]) == 0
    assert "provenance dev-setup: development keys" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "dev" / "manifest.json").read_text())
    (tmp_path / "dev" / "manifest.json").write_text(json.dumps({**manifest, "provenance": "trusted"}))
    assert run(["trial", "info", str(trial_file)]) == 0  # info needs no keys: it says what is wrong with them
    assert "provenance unreadable" in capsys.readouterr().out
