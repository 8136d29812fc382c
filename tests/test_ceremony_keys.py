"""Keys that come from a ceremony (issue 16, item 4): the universal key set (`zkhealth universal-keys import`)
and the provenance a dedicated trial's keys directory records (`zkhealth setup --ceremony`, tested end to end in
tests/test_ceremony_transcript.py).

A 2^17 ceremony does not fit a test run: the universal circuit is replaced by a stand-in with its six public
signals (the importer compiles it through `compile_universal_circuit`, and proves `sample_witness` with the
key), and the ceremony is 2^7.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from groth16_circuits import chain_r1cs, random_circuit

from zkhealth.ceremony import phase2 as zk
from zkhealth.ceremony import powersoftau as pt
from zkhealth.ceremony.transcript import Ceremony, verify_ceremony
from zkhealth.cli import main
from zkhealth.errors import ContributionError, MalformedProofError, TranscriptError, VerifyingKeyMismatchError
from zkhealth.formats import write_r1cs
from zkhealth.formats.ptau_file import read_ptau, write_ptau
from zkhealth.formats.zkey_file import read_zkey_file, write_zkey_file
from zkhealth.groth16.keys import DEV_SETUP
from zkhealth.hazmat.bn254 import g1_double

pytestmark = pytest.mark.prove


def _contribute_ptau(ceremony: Ceremony, folder: Path, who: str) -> Path:
    new, _ = pt.contribute(read_ptau(ceremony.head_ptau()), name=who, entropy=who)
    write_ptau(new, folder / f"{who}.ptau")
    return folder / f"{who}.ptau"


def _contribute_zkey(ceremony: Ceremony, circuit: str, folder: Path, who: str) -> Path:
    new, _ = zk.contribute(read_zkey_file(ceremony.head_zkey(circuit)), name=who, entropy=who)
    write_zkey_file(new, folder / f"{who}.zkey")
    return folder / f"{who}.zkey"


@pytest.fixture(scope="module")
def stand_in() -> tuple[object, list[int]]:
    """A small circuit with the universal circuit's six public signals, and a witness of it."""
    return random_circuit(41, 5, 2, 60)


@pytest.fixture(scope="module")
def universal_ceremony(tmp_path_factory: pytest.TempPathFactory, stand_in: tuple[object, list[int]]) -> Path:
    """A finished 2^7 ceremony whose circuit `universal` is the stand-in (as `universal-keys export-r1cs` then
    `ceremony circuit FOLDER universal FILE` would start it): two phase-2 contributors and a beacon."""
    root = tmp_path_factory.mktemp("universal")
    inbox = root / "inbox"
    inbox.mkdir()
    ceremony = Ceremony.create(root / "c", 7)
    ceremony.accept_ptau(_contribute_ptau(ceremony, inbox, "alice"), name="Alice")
    ceremony.prepare()
    write_r1cs(stand_in[0], inbox / "universal.r1cs")  # type: ignore[arg-type]
    ceremony.start_circuit("universal", inbox / "universal.r1cs")
    for who in ("bob", "chen"):
        ceremony.accept_zkey("universal", _contribute_zkey(ceremony, "universal", inbox, who), name=who.title())
    ceremony.beacon_zkey("universal", bytes.fromhex("3a" * 32), 10)
    ceremony.finish_circuit("universal")
    return root


@pytest.fixture
def universal_circuit(monkeypatch: pytest.MonkeyPatch, stand_in: tuple[object, list[int]]) -> None:
    """The importer's view of the universal circuit: the stand-in, and a sample witness of it."""
    from zkhealth.eligibility import universal, universal_keys

    r1cs, witness = stand_in
    monkeypatch.setattr(universal, "compile_universal_circuit", lambda shape=None: SimpleNamespace(r1cs=r1cs))
    monkeypatch.setattr(universal_keys, "sample_witness", lambda shape=None: (witness, witness[1:7]))


def _import(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["universal-keys", "import", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("universal_circuit")
def test_universal_keys_import_verifies_the_final_key_before_writing(universal_ceremony: Path,
                                                                     tmp_path: Path) -> None:
    """`universal-keys import` runs `zkey verify` of the final key against the universal circuit's .r1cs and
    the prepared .ptau, checks the final hash the replay printed, proves a sample witness, and only then writes
    the key set, with provenance `ceremony` and the final hash; every refusal writes nothing."""
    from zkhealth.eligibility.universal_keys import UniversalKeyManifest
    from zkhealth.formats.snarkjs_json import load_verifying_key
    from zkhealth.formats.zkhpk_file import load_proving_key

    folder = universal_ceremony / "c"
    report = verify_ceremony(folder)
    final_hash = report.final_hashes["universal"]
    final, prepared = Ceremony(folder).final_key("universal")
    code, out, err = _import(str(final), "--ptau", str(prepared), "--ceremony", final_hash.upper(),
                             "--out", str(tmp_path / "set"))
    assert code == 0, err
    manifest = UniversalKeyManifest.from_json((tmp_path / "set" / "manifest.json").read_bytes())
    assert manifest.provenance == "ceremony" and manifest.ceremony == final_hash and not manifest.is_development
    assert manifest.dev_seed is None and f"ceremony final hash {final_hash}" in out
    vk = load_verifying_key(tmp_path / "set" / "verification_key.json")
    assert vk.sha256() == manifest.verifying_key_sha256 == report.verification_keys["universal"]
    assert load_proving_key(tmp_path / "set" / "proving_key.zkhpk").vk.sha256() == vk.sha256()
    # An existing key set is not overwritten (usage error).
    assert _import(str(final), "--ptau", str(prepared), "--ceremony", final_hash, "--out",
                   str(tmp_path / "set"))[0] == 2

    # Refusals (exit 1), and nothing written.
    other, _ = random_circuit(42, 5, 2, 60)
    foreign = zk.contribute(zk.new_zkey(other, read_ptau(prepared)), entropy="x")[0]  # type: ignore[arg-type]
    write_zkey_file(foreign, tmp_path / "foreign.zkey")
    tampered = read_zkey_file(final)
    points = list(tampered.g1(9))
    points[5] = g1_double(points[5])  # one H point with a wrong exponent
    tampered.set_g1(9, points)
    write_zkey_file(tampered, tmp_path / "tampered.zkey")
    cases = {
        "another circuit": (tmp_path / "foreign.zkey", final_hash, "ContributionError"),
        "tampered points": (tmp_path / "tampered.zkey", final_hash, "ContributionError"),
        "no contribution": (folder / "phase2" / "universal" / "0000-new.zkey", final_hash, "no contribution"),
        "not the final key": (folder / "phase2" / "universal" / "0001-bob.zkey", final_hash, "TranscriptError"),
        "another final hash": (final, "ab" * 64, "TranscriptError"),
    }
    for name, (zkey, claimed, needle) in cases.items():
        out_dir = tmp_path / name.replace(" ", "-")
        code, _, err = _import(str(zkey), "--ptau", str(prepared), "--ceremony", claimed, "--out", str(out_dir))
        assert code == 1 and needle in err, (name, code, err)
        assert not out_dir.exists(), name
    # Another ceremony's prepared .ptau: the key's circuit hash does not match (exit 1).
    other_ptau = pt.prepare_phase2(pt.contribute(pt.new_accumulator(7), entropy="other")[0])
    write_ptau(other_ptau, tmp_path / "other.ptau")
    code, _, err = _import(str(final), "--ptau", str(tmp_path / "other.ptau"), "--ceremony", final_hash,
                           "--out", str(tmp_path / "other-ptau"))
    assert code == 1 and not (tmp_path / "other-ptau").exists(), err


def test_the_import_needs_the_ptau_and_the_final_hash(universal_ceremony: Path, tmp_path: Path) -> None:
    final, _ = Ceremony(universal_ceremony / "c").final_key("universal")
    code, _, err = _import(str(final), "--ceremony", "ab" * 64, "--out", str(tmp_path / "x"))
    assert code == 2 and "--ptau" in err
    assert not (tmp_path / "x").exists()


def test_development_key_notice_follows_the_pinned_provenance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every universal verb prints the development-key warning while the pinned set is a development set, and
    stops once a release pins a ceremony's set (`universal-keys info` then names its final hash)."""
    from dataclasses import replace

    from zkhealth.cli import record_trials
    from zkhealth.eligibility import universal_keys

    development = universal_keys.pinned_manifest()
    assert development.is_development
    result = CliRunner().invoke(main, ["universal-keys", "info"])
    assert result.exit_code == 0 and "WARNING: DEVELOPMENT KEYS" in result.stdout
    ceremony = replace(development, provenance="ceremony", dev_seed=None, ceremony="cd" * 64)
    monkeypatch.setattr(universal_keys, "pinned_manifest", lambda: ceremony)
    result = CliRunner().invoke(main, ["universal-keys", "info"])
    assert result.exit_code == 0 and "DEVELOPMENT" not in result.stdout
    assert f"provenance ceremony, ceremony final hash {'cd' * 64}" in result.stdout
    printed: list[str] = []
    monkeypatch.setattr(record_trials, "note", printed.append)
    with record_trials.development_keys_notice(None, "universal"):  # type: ignore[arg-type]
        pass
    assert printed == []
    monkeypatch.setattr(universal_keys, "pinned_manifest", lambda: development)
    with record_trials.development_keys_notice(None, "universal"):  # type: ignore[arg-type]
        pass
    assert len(printed) == 1 and "DEVELOPMENT KEYS" in printed[0]


# --------------------------------------------------------------------------- a dedicated trial's keys directory


def test_keys_manifest_records_the_provenance(tmp_path: Path) -> None:
    """manifest.json of a trial's keys records the provenance and, for a ceremony's key, its final hash; a
    manifest written before provenance was recorded still loads; a wrong label is refused."""
    from zkhealth.eligibility.trial import CEREMONY, TrialKeys
    from zkhealth.groth16.generator import setup

    dev = TrialKeys(*setup(chain_r1cs(3)), "a" * 64, "b" * 64)
    assert dev.provenance == DEV_SETUP and dev.ceremony is None
    dev.save(tmp_path / "dev")
    assert TrialKeys.describe_provenance(tmp_path / "dev") == (DEV_SETUP, None)
    manifest_path = tmp_path / "dev" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["provenance"], manifest["ceremony"]) == (DEV_SETUP, None)

    legacy = tmp_path / "legacy"
    shutil.copytree(tmp_path / "dev", legacy)
    old = {k: v for k, v in manifest.items() if k not in ("provenance", "ceremony")}
    (legacy / "manifest.json").write_text(json.dumps(old))
    assert TrialKeys.load(legacy).provenance == DEV_SETUP  # from the proving key itself
    assert TrialKeys.describe_provenance(legacy) == ("unknown", None)

    bad_labels = [
        {"provenance": "trusted"},  # not a provenance
        {"provenance": ["ceremony"]},
        {"provenance": CEREMONY},  # a ceremony without its final hash
        {"ceremony": "ab" * 64},  # a final hash on a development key's label
        {"provenance": CEREMONY, "ceremony": "AB" * 64},  # not lower-case hex
        {"provenance": CEREMONY, "ceremony": "ab" * 32},  # too short
        {"provenance": CEREMONY, "ceremony": 7},
    ]
    for change in bad_labels:
        (legacy / "manifest.json").write_text(json.dumps({**manifest, **change}))
        with pytest.raises(MalformedProofError):
            TrialKeys.load(legacy)
    # A development key (the proving key says dev-setup) cannot be relabelled as a ceremony's.
    (legacy / "manifest.json").write_text(json.dumps({**manifest, "provenance": CEREMONY, "ceremony": "ab" * 64}))
    with pytest.raises(VerifyingKeyMismatchError):
        TrialKeys.load(legacy)


def test_final_hash_of_a_verified_key() -> None:
    r1cs, _ = random_circuit(43, 1, 1, 20)
    prepared = pt.prepare_phase2(pt.contribute(pt.new_accumulator(6), entropy="p")[0])
    first = zk.new_zkey(r1cs, prepared)
    key, receipt = zk.contribute(first, name="x", entropy="x")
    report = zk.verify(key, r1cs, prepared)
    assert zk.final_hash(report) == receipt.contribution_hash.hex()
    assert zk.final_hash(report, expected=" " + receipt.contribution_hash.hex().upper() + "\n")
    with pytest.raises(TranscriptError):
        zk.final_hash(report, expected="00" * 64)
    with pytest.raises(ContributionError):
        zk.final_hash(zk.ZkeyVerification(circuit_hash=b"", contributions=()))


def test_record_trial_dedicated_keys_from_a_ceremony(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """RecordTrial (the library's version-2 trial, dedicated circuit): ceremony_keys adopts a ceremony's final
    key after `zkey verify` against the trial's circuit and the final hash; other keys are refused and leave
    the trial without keys; setup() keys stay development keys."""
    from zkhealth.eligibility.record_trial import RecordTrial
    from zkhealth.errors import EligibilityError

    small, _ = random_circuit(44, 4, 2, 60)  # five public signals, as the dedicated circuit
    monkeypatch.setattr(RecordTrial, "compile", lambda self: SimpleNamespace(r1cs=small))
    trial = RecordTrial("age >= 18", trial_id="NCT05000043")
    ceremony = Ceremony.create(tmp_path / "c", 7)
    ceremony.accept_ptau(_contribute_ptau(ceremony, tmp_path, "alice"), name="Alice")
    ceremony.prepare()
    write_r1cs(small, tmp_path / "trial.r1cs")
    ceremony.start_circuit("trial", tmp_path / "trial.r1cs")
    ceremony.accept_zkey("trial", _contribute_zkey(ceremony, "trial", tmp_path, "bob"), name="Bob")
    ceremony.finish_circuit("trial")
    final_hash = verify_ceremony(tmp_path / "c").final_hashes["trial"]
    final, prepared = ceremony.final_key("trial")
    other, _ = random_circuit(45, 4, 2, 60)
    foreign = zk.contribute(zk.new_zkey(other, read_ptau(prepared)), entropy="x")[0]
    with pytest.raises(ContributionError):
        trial.ceremony_keys(foreign, read_ptau(prepared))
    with pytest.raises(ContributionError):  # the initial key: no contribution
        trial.ceremony_keys(read_zkey_file(tmp_path / "c" / "phase2" / "trial" / "0000-new.zkey"), read_ptau(prepared))
    with pytest.raises(TranscriptError):
        trial.ceremony_keys(read_zkey_file(final), read_ptau(prepared), final_hash="00" * 64)
    with pytest.raises(EligibilityError):
        trial.keys  # noqa: B018 - nothing was adopted
    assert trial.ceremony_keys(read_zkey_file(final), read_ptau(prepared), final_hash=final_hash) == final_hash
    assert trial.ceremony == final_hash
    assert trial.keys[1].sha256() == verify_ceremony(tmp_path / "c").verification_keys["trial"]
    # Its keys directory records the provenance and the final hash.
    from zkhealth.eligibility.record_spec import dedicated_keys_provenance, load_dedicated_keys, save_dedicated_keys
    from zkhealth.errors import EncodingError

    save_dedicated_keys(trial, trial.keys[0], tmp_path / "keys", ceremony=trial.ceremony)
    assert dedicated_keys_provenance(tmp_path / "keys") == ("ceremony", final_hash)
    assert load_dedicated_keys(tmp_path / "keys", trial).vk.sha256() == trial.keys[1].sha256()
    with pytest.raises(EncodingError):
        save_dedicated_keys(trial, trial.keys[0], tmp_path / "bad", ceremony="not a hash")
    trial.setup()
    assert trial.ceremony is None and trial.keys[0].provenance == DEV_SETUP
    save_dedicated_keys(trial, trial.keys[0], tmp_path / "dev")
    assert dedicated_keys_provenance(tmp_path / "dev") == (DEV_SETUP, None)
    manifest = json.loads((tmp_path / "dev" / "manifest.json").read_text())
    (tmp_path / "dev" / "manifest.json").write_text(json.dumps({**manifest, "provenance": "ceremony",
                                                                "ceremony": final_hash}))
    with pytest.raises(VerifyingKeyMismatchError):  # a development key labelled as a ceremony's
        load_dedicated_keys(tmp_path / "dev", trial)
    (tmp_path / "dev" / "manifest.json").write_text(json.dumps({**manifest, "provenance": ["x"]}))
    with pytest.raises(EncodingError):
        dedicated_keys_provenance(tmp_path / "dev")


# --------------------------------------------------------------------------- docs/ceremony.md, command by command


def test_the_walk_through_of_docs_ceremony_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                stand_in: tuple[object, list[int]]) -> None:
    """docs/ceremony.md steps 1-7 through the command line, at 2^7: phase 1 with two contributors and a
    beacon; phase 2 of a dedicated trial's circuit (opened by `setup --ceremony`) and of the universal circuit
    (exported by `universal-keys export-r1cs`); the replay; the trial's keys and the universal key set adopted
    from the final keys, marked `ceremony` with the final hashes; the release's pinned set installed, after
    which no verb warns. Both circuits are stand-ins of the right public-signal count."""
    from zkhealth.eligibility import universal, universal_keys
    from zkhealth.eligibility.trial import Trial

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def as_json(*args: str) -> dict[str, object]:
        return json.loads(cli("--json", *args))  # type: ignore[no-any-return]

    dedicated, _ = random_circuit(46, 4, 2, 60)
    universal_r1cs, witness = stand_in
    monkeypatch.setattr(universal, "compile_universal_circuit", lambda shape=None: SimpleNamespace(r1cs=universal_r1cs))
    monkeypatch.setattr(universal_keys, "sample_witness", lambda shape=None: (witness, witness[1:7]))
    c, box = tmp_path / "ceremony", tmp_path / "inbox"
    box.mkdir()
    # 1-3: phase 1.
    cli("ceremony", "init", str(c), "--power", "7")
    cli("powersoftau", "new", "bn128", "7", str(box / "mine.ptau"))
    assert (box / "mine.ptau").read_bytes() == (c / "phase1" / "0000-new.ptau").read_bytes()
    cli("powersoftau", "contribute", str(c / "phase1" / "0000-new.ptau"), str(box / "alice.ptau"), "--name",
        "Alice, hospital A", "-e", "any text", "--quiet")
    cli("ceremony", "accept", str(c), str(box / "alice.ptau"), "--name", "Alice, hospital A")
    cli("powersoftau", "verify", str(c / "phase1" / "0001-alice-hospital-a.ptau"))
    cli("powersoftau", "contribute", str(c / "phase1" / "0001-alice-hospital-a.ptau"), str(box / "chen.ptau"),
        "--name", "Chen, patient group", "--quiet")
    cli("ceremony", "accept", str(c), str(box / "chen.ptau"), "--name", "Chen, patient group")
    cli("ceremony", "beacon", str(c), "8f4c" * 8, "10")
    cli("ceremony", "prepare", str(c), "--quiet")
    prepared = c / "phase1" / "prepared.ptau"

    def phase2(circuit: str) -> None:  # step 4 for one circuit
        head = c / "phase2" / circuit / "0000-new.zkey"
        cli("zkey", "contribute", str(head), str(box / f"{circuit}-alice.zkey"), "--name", "Alice", "--quiet")
        cli("ceremony", "accept", str(c), str(box / f"{circuit}-alice.zkey"), "--name", "Alice", "--circuit", circuit,
            "--quiet")
        cli("zkey", "verify", str(c / "phase2" / circuit / "circuit.r1cs"), str(prepared),
            str(c / "phase2" / circuit / "0001-alice.zkey"), "--quiet")
        cli("ceremony", "beacon", str(c), "3a7d" * 8, "10", "--circuit", circuit)
        cli("ceremony", "finish", str(c), circuit)

    # 6: a dedicated trial opens phase 2 of its circuit.
    trial = tmp_path / "trial.json"
    cli("trial", "new", "--dedicated", "--criteria", "age >= 18", "--trial-id", "NCT05000001", "--operator",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "--out", str(trial))
    with monkeypatch.context() as patch:
        patch.setattr(Trial, "compile", lambda self: SimpleNamespace(r1cs=dedicated))
        circuit = str(as_json("setup", str(trial), "--keys", str(tmp_path / "keys"), "--ceremony", str(c))["circuit"])
        assert circuit.startswith("trial-")
        phase2(circuit)
    # 7: the universal circuit.
    cli("universal-keys", "export-r1cs", "--out", str(box / "universal.r1cs"))
    cli("ceremony", "circuit", str(c), "universal", str(box / "universal.r1cs"), "--quiet")
    phase2("universal")
    # 5: the replay, and the final hashes.
    replay = as_json("ceremony", "verify", str(c), "--quiet")
    finals = replay["final_hashes"]
    assert isinstance(finals, dict) and set(finals) == {circuit, "universal"}
    assert f"final hash of universal: {finals['universal']}" in cli("ceremony", "verify", str(c), "--quiet")
    # 6: the trial adopts its final key.
    with monkeypatch.context() as patch:
        patch.setattr(Trial, "compile", lambda self: SimpleNamespace(r1cs=dedicated))
        keys = as_json("setup", str(trial), "--keys", str(tmp_path / "keys"), "--ceremony", str(c))
    assert (keys["provenance"], keys["ceremony"]) == ("ceremony", finals[circuit])
    assert f"provenance ceremony, ceremony final hash {finals[circuit][:16]}" in cli("trial", "info", str(trial))
    # 7: the universal key set adopts its final key; the release pins it; a machine installs it.
    final = c / "phase2" / "universal" / "0002-beacon.zkey"
    manifest = as_json("universal-keys", "import", str(final), "--ptau", str(prepared), "--ceremony",
                       finals["universal"], "--out", str(tmp_path / "universal-keys"))
    assert (manifest["provenance"], manifest["ceremony"]) == ("ceremony", finals["universal"])
    assert "WARNING: DEVELOPMENT KEYS" in cli("universal-keys", "info")  # not pinned yet
    released = tmp_path / "universal-keys"
    monkeypatch.setattr(universal_keys, "_package_file", lambda name: (released / name).read_bytes())
    monkeypatch.setenv("ZKHEALTH_UNIVERSAL_KEY", str(tmp_path / "installed.zkhpk"))
    cli("universal-keys", "install", str(released / "proving_key.zkhpk"))
    info = cli("universal-keys", "info")
    assert f"provenance ceremony, ceremony final hash {finals['universal']}" in info
    assert "DEVELOPMENT" not in info and "installed at" in info
    assert universal_keys.load_proving_key().vk.sha256() == manifest["verifyingKeySha256"]
