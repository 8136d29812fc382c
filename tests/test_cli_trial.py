"""The recruiter, patient, registrar and operator verbs: trial new|roots|info, setup, export-verifier, deploy,
verify, verify-batch, enrollments, prove, enroll, revoke --key, registry apply, operator build-root|publish-root,
registrar.

The fast tests need no keys: help texts, trial files, the revocation cycle up to the signed trust-root file, and
refusals with their exit codes. The slow ones share one session fixture that builds a world with the CLI (issuer
and operator keys, issuer registry, revocation tree, trust-root file, two wallets with version-2 credentials), runs
`zkhealth setup` once and `zkhealth prove` once; every verifier-side test reuses that proof. The anvil test deploys
for real, proves against the deployed scope, enrolls, is refused a second time, then follows a revocation to the
contract: the root update, a day later `StaleRoot` for a proof made before it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zkhealth.cli import EXIT_ERROR, EXIT_MALFORMED, EXIT_OK, EXIT_REFUSED, main
from zkhealth.credentials.trust_roots import TrustRootDocument
from zkhealth.eligibility import TrialSpec, parse_address
from zkhealth.errors import EncodingError
from zkhealth.field import FIELD_R

ROOT = Path(__file__).resolve().parent.parent
FHIR = ROOT / "tests" / "fhir"
CRITERIA = "diagnosis in E11.* and age >= 18"
PASSPHRASE = "a patient passphrase for tests"
ENV = {"ZKHEALTH_PASSPHRASE": PASSPHRASE}
RECIPIENT = "0x000000000000000000000000000000000000beef"


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, env=ENV, catch_exceptions=False, prog_name="zkhealth")


def ok(args: list[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    return result


def as_json(args: list[str]) -> Any:
    return json.loads(ok(["--json", *args]).stdout)


def refused(args: list[str], code: int, error_name: str) -> str:
    """Run a command that must fail with ``code`` and one ``error: NAME: ...`` line; return that line."""
    result = invoke(args)
    assert result.exit_code == code, result.output + result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {error_name}:"), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def usage_error(args: list[str], needle: str) -> None:
    result = invoke(args)
    assert result.exit_code == EXIT_MALFORMED, result.output + result.stderr
    assert needle in result.stderr, result.stderr


@dataclass
class World:
    base: Path
    key: Path
    operator_key: Path
    registry: Path
    revocations: Path
    trust: Path
    adult_wallet: Path
    minor_wallet: Path
    credentials: dict[str, Path]

    def revoke(self, credential_id: str) -> None:
        """The whole revocation cycle: the issuer revokes and signs, the operator applies and rebuilds."""
        statement = self.base / f"revoked-{credential_id[:8]}.json"
        ok(["revoke", "--db", str(self.revocations), credential_id, "--key", str(self.key), "--out", str(statement)])
        ok(["registry", "apply", "--registry", str(self.registry), str(statement)])
        ok(["operator", "build-root", "--registry", str(self.registry), "--key", str(self.operator_key),
            "--out", str(self.trust)])


def make_world(base: Path) -> World:
    """Issuer and operator keys, the issuer registry with the issuer's signed revocation root, the signed
    trust-root file, and two wallets holding version-2 credentials (everything built with the CLI)."""
    world = World(base, base / "issuer.key", base / "operator.key", base / "registry.json", base / "revocations.sqlite",
                  base / "trust.json", base / "adult.zkw", base / "minor.zkw", {})
    ok(["keygen", "--out", str(world.key), "--kdf", "interactive"])
    ok(["keygen", "--out", str(world.operator_key), "--kdf", "interactive"])
    ok(["registry", "add", "--registry", str(world.registry), str(world.key)])
    world.revoke(str(1 + secrets.randbelow(2**127)))
    for wallet, bundle in ((world.adult_wallet, "t2d_adult.json"), (world.minor_wallet, "minor.json")):
        commitment = as_json(["wallet", "init", "--wallet", str(wallet), "--kdf", "interactive"])["holder_commitment"]
        credential = base / f"{wallet.stem}.credential.json"
        ok(["issue", "--record", "--fhir", str(FHIR / bundle), "--key", str(world.key), "--holder-commitment",
            commitment, "--out", str(credential), "--validity-days", "30"])
        ok(["wallet", "import", "--wallet", str(wallet), "--trust", str(world.trust), str(credential)])
        world.credentials[wallet.stem] = credential
    return world


def new_trial(world: World, out: Path, *extra: str) -> Path:
    ok(["trial", "new", "--criteria", CRITERIA, "--trial-id", "NCT05000001", "--out", str(out),
        "--trust", str(world.trust), "--dedicated", *extra])
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("trial-world"))


# --------------------------------------------------------------------------- fast: no keys


@pytest.mark.native
def test_parse_address_checks_shape_and_checksum() -> None:
    assert parse_address("0x52908400098527886E0F7030069857D2E4169EE7") == "0x52908400098527886e0f7030069857d2e4169ee7"
    assert parse_address(RECIPIENT) == RECIPIENT
    for bad in ("0x1234", "52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886E0F7030069857D2E4169EE8x"):
        with pytest.raises(EncodingError):
            parse_address(bad)
    with pytest.raises(EncodingError):  # EIP-55 checksum with one letter's case flipped
        parse_address("0x52908400098527886E0F7030069857D2E4169Ee7")


@pytest.mark.native
def test_trial_new_writes_a_strict_file(world: World, tmp_path: Path) -> None:
    out = tmp_path / "trial.json"
    payload = as_json(["trial", "new", "--criteria", CRITERIA, "--trial-id", "NCT05000001", "--out", str(out),
                       "--trust", str(world.trust), "--dedicated", "--name", "T2D adults", "--window-days", "2",
                       "--grace-seconds", "3600"])
    loaded = TrialSpec.load(out)
    document = TrustRootDocument.load(world.trust)
    assert payload["trialId"] == "NCT05000001" and loaded.name == "T2D adults" and loaded.kind == "dedicated"
    assert loaded.accepted_window_days == 2 and loaded.keys_dir is None and loaded.enrollment is None
    assert loaded.root_grace_seconds == 3600 and loaded.operator == document.operator
    assert loaded.trial().text == CRITERIA and not loaded.policy.one_per_person
    assert loaded.root_history().current == document.trust_root
    # the off-chain scope: chain 0 and the zero address
    from zkhealth.eligibility import trial_scope

    assert loaded.scope == trial_scope(0, "0x" + "00" * 20, loaded.trial().trial_id)
    # a criteria file works too, its `# name:` line becomes the name; one per person pins the opening day
    from_file = tmp_path / "from-file.json"
    ok(["trial", "new", "--criteria", str(ROOT / "circuits" / "criteria" / "standard_t2d_adult.txt"),
        "--trial-id", "NCT05000001", "--out", str(from_file), "--operator", document.operator,
        "--one-per-person", "--opened", "2026-01-01", "--dedicated"])
    spec = TrialSpec.load(from_file)
    assert spec.name.startswith("Standard eligibility") and spec.roots_file is None
    assert spec.policy.one_per_person and spec.policy.opened_day == 20454
    assert spec.program_sha256 != loaded.program_sha256  # the policy is part of the program


@pytest.mark.native
def test_trial_new_refusals(world: World, tmp_path: Path) -> None:
    out = tmp_path / "trial.json"
    base = ["trial", "new", "--trial-id", "NCT05000001", "--out", str(out), "--trust", str(world.trust), "--dedicated"]
    refused([*base, "--criteria", "diagnosis in E11.* and age >>= 18"], EXIT_MALFORMED, "CriteriaSyntaxError")
    usage_error(["trial", "new", "--criteria", CRITERIA, "--trial-id", "X", "--out", str(out)], "--operator")
    usage_error([*base, "--criteria", CRITERIA, "--opened", "2026-01-01"], "--one-per-person")
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    refused([*base, "--criteria", CRITERIA, "--operator", other], EXIT_REFUSED, "UntrustedRootError")
    ok([*base, "--criteria", CRITERIA])
    usage_error([*base, "--criteria", CRITERIA], "--force")
    ok([*base, "--criteria", CRITERIA, "--force"])


@pytest.mark.native
def test_the_revocation_cycle_replaces_the_roots_instead_of_accumulating(world: World, tmp_path: Path) -> None:
    """Issue 13: the issuer revokes and signs; the operator applies it and rebuilds the signed trust root; the
    trial reads the new file (one current root, the superseded one with its time), never a growing list."""
    path = new_trial(world, tmp_path / "trial.json")
    before = TrustRootDocument.load(world.trust)
    revoked = str(1 + secrets.randbelow(2**127))
    statement = tmp_path / "statement.json"
    payload = as_json(["revoke", "--db", str(world.revocations), revoked, "--key", str(world.key),
                       "--out", str(statement)])
    assert payload["statement"] == str(statement) and payload["revoked"] == [revoked]
    applied = as_json(["registry", "apply", "--registry", str(world.registry), str(statement)])
    assert applied["applied"][0]["revocation_root"] == payload["root"]
    # applying the same statement again changes nothing; an older one is a rollback (exit 1)
    assert as_json(["registry", "apply", "--registry", str(world.registry), str(statement)])["applied"] == []
    old = sorted(world.base.glob("revoked-*.json"))[0]
    refused(["registry", "apply", "--registry", str(world.registry), str(old)], EXIT_REFUSED, "RollbackError")
    built = as_json(["operator", "build-root", "--registry", str(world.registry), "--key", str(world.operator_key),
                     "--out", str(world.trust)])
    assert built["changed"] and built["superseded"][0]["root"] == str(before.trust_root)
    after = TrustRootDocument.load(world.trust)
    assert after.sequence == before.sequence + 1 and after.history.lookup(before.trust_root) is not None
    rooted = as_json(["trial", "roots", str(path), "--from", str(world.trust)])
    assert rooted["current"] == str(after.trust_root) and len(rooted["accepted"]) == 2
    assert TrialSpec.load(path).root_history().current == after.trust_root
    # a forged statement (another issuer key signed it) and a forged trust-root file are refused
    forged = json.loads(statement.read_text())
    forged["revokedCount"] += 1
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused(["registry", "apply", "--registry", str(world.registry), str(tmp_path / "forged.json")], EXIT_REFUSED,
            "InvalidSignatureError")
    tampered = json.loads(world.trust.read_text())
    tampered["history"][0]["publishedAt"] += 1
    (tmp_path / "trust.json").write_text(json.dumps(tampered))
    refused(["trial", "roots", str(path), "--from", str(tmp_path / "trust.json")], EXIT_REFUSED,
            "InvalidSignatureError")


@pytest.mark.native
def test_registrar_add_rotate_remove_and_proof(tmp_path: Path) -> None:
    db = tmp_path / "persons.sqlite"
    first = as_json(["registrar", "add", "--db", str(db), "111", "--person", "ref-alice", "--day", "2026-01-01"])
    assert first["slot"] == 0 and first["registered_day"] == 20454
    refused(["registrar", "add", "--db", str(db), "222", "--person", "ref-alice"], EXIT_REFUSED, "PersonRegistryError")
    refused(["registrar", "add", "--db", str(db), "111"], EXIT_REFUSED, "PersonRegistryError")
    rotated = as_json(["registrar", "rotate", "--db", str(db), "111", "222", "--day", "2026-02-01"])
    assert rotated["slot"] == 1 and rotated["registered_day"] == 20485
    listing = as_json(["registrar", "list", "--db", str(db)])
    assert [(p["commitment"], p["person"]) for p in listing["persons"]] == [("222", "ref-alice")]
    assert ok(["registrar", "root", "--db", str(db)]).stdout.strip() == listing["root"]
    membership = tmp_path / "person.json"
    proved = as_json(["registrar", "proof", "--db", str(db), "222", "--out", str(membership)])
    assert proved["root"] == listing["root"] and json.loads(membership.read_text())["registeredDay"] == 20485
    refused(["registrar", "proof", "--db", str(db), "111", "--out", str(membership)], EXIT_REFUSED,
            "PersonRegistryError")
    ok(["registrar", "remove", "--db", str(db), "222"])
    assert as_json(["registrar", "list", "--db", str(db)])["persons"] == []
    usage_error(["registrar", "list", "--db", str(tmp_path / "missing.sqlite")], "no person registry")


@pytest.mark.native
def test_a_hand_edited_or_version_1_trial_file_is_refused(world: World, tmp_path: Path) -> None:
    path = new_trial(world, tmp_path / "trial.json")
    data = json.loads(path.read_text())
    data["criteria"] = "diagnosis in E11.* and age >= 16"
    path.write_text(json.dumps(data))
    refused(["trial", "info", str(path)], EXIT_MALFORMED, "EncodingError")
    data = json.loads(new_trial(world, path, "--force").read_text())
    data["policy"]["maxRecordAgeDays"] = 10
    path.write_text(json.dumps(data))
    refused(["trial", "info", str(path)], EXIT_MALFORMED, "EncodingError")
    data = json.loads(new_trial(world, path, "--force").read_text())
    data["extra"] = 1
    path.write_text(json.dumps(data))
    refused(["trial", "info", str(path)], EXIT_MALFORMED, "EncodingError")
    path.write_text(json.dumps({"format": "zkhealth.trial", "version": 1}))
    line = refused(["trial", "info", str(path)], EXIT_MALFORMED, "EncodingError")
    assert "version-1" in line


@pytest.mark.native
def test_trial_info_reports_cost_and_what_the_verifier_learns(world: World, tmp_path: Path) -> None:
    path = new_trial(world, tmp_path / "trial.json")
    text = ok(["trial", "info", str(path)]).stdout
    for needle in ("constraints:", "age", "predicted prove time", "nullifier", "recipient", "not deployed",
                   "one enrollment per wallet", "trust_root"):
        assert needle in text
    payload = as_json(["trial", "info", str(path)])
    assert payload["cost"]["constraints"] == 15_611
    assert len(payload["cost"]["atoms"]) == 2
    assert [s["signal"] for s in payload["verifier_learns"]] == ["nullifier", "scope", "today", "trust_root",
                                                                 "recipient"]


@pytest.mark.native
def test_verbs_that_need_keys_say_how_to_get_them(world: World, tmp_path: Path) -> None:
    path = new_trial(world, tmp_path / "trial.json")
    proof = tmp_path / "proof.json"
    proof.write_text("{}")
    usage_error(["verify", str(path), str(proof)], "zkhealth setup")
    usage_error(["verify-batch", str(path), str(proof)], "zkhealth setup")
    usage_error(["deploy", str(path)], "zkhealth setup")
    usage_error(["export-verifier", "--keys", str(tmp_path), "--out", str(tmp_path / "V.sol")], "manifest.json")
    usage_error(["prove", str(path), "--wallet", str(world.adult_wallet), "--recipient", RECIPIENT,
                 "--revocations", str(world.revocations), "--out", str(proof)], "zkhealth setup")
    refused(["prove", str(path), "--wallet", str(world.adult_wallet), "--recipient", "0xbeef",
             "--revocations", str(world.revocations), "--out", str(proof)], EXIT_MALFORMED, "EncodingError")
    usage_error(["verify", str(path), str(proof), "--today", "2026-02-30"], "--today")


@pytest.mark.native
def test_enrollments_and_enroll_without_a_chain(world: World, tmp_path: Path) -> None:
    usage_error(["enrollments"], "--rpc")
    path = new_trial(world, tmp_path / "trial.json")
    usage_error(["enrollments", "--trial", str(path)], "not deployed")
    (tmp_path / "proof.json").write_text("{}")
    refused(["enroll", str(path), str(tmp_path / "proof.json")], EXIT_MALFORMED, "MalformedProofError")
    # nothing listens on port 9 (discard): one line, exit 3
    refused(["enrollments", "--rpc", "http://127.0.0.1:9", "--address", RECIPIENT], EXIT_ERROR, "ChainError")


# --------------------------------------------------------------------------- slow: one setup, one proof


@dataclass
class Proved:
    world: World
    trial: Path
    keys: Path
    proof: Path
    setup_seconds: float


@pytest.fixture(scope="session")
def proved(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    """The world, a trial, `zkhealth setup` (once per session) and one proof by the eligible patient."""
    base = tmp_path_factory.mktemp("proved")
    world = make_world(base)
    trial = new_trial(world, base / "trial.json", "--window-days", "2")
    keys = base / "keys"
    setup = as_json(["setup", str(trial), "--keys", str(keys)])
    proof = base / "proof.json"
    ok(["prove", str(trial), "--wallet", str(world.adult_wallet), "--recipient", RECIPIENT,
        "--revocations", str(world.revocations), "--out", str(proof)])
    # the trial file holding the loaded proving key stays referenced until the process ends (not freed one
    # object at a time when the command returns; the CLI ends with os._exit)
    from zkhealth.cli import _common

    assert [type(kept) for kept in _common._kept] == [TrialSpec]
    return Proved(world, trial, keys, proof, float(setup["seconds"]))


@pytest.mark.prove
@pytest.mark.slow
def test_setup_records_its_keys_and_refuses_to_overwrite(proved: Proved) -> None:
    loaded = TrialSpec.load(proved.trial)
    assert loaded.keys_dir == "keys" and loaded.vk_sha256 is not None
    manifest = json.loads((proved.keys / "manifest.json").read_text())
    assert manifest["verifyingKeySha256"] == loaded.vk_sha256
    assert manifest["criteriaSha256"] == loaded.program_sha256
    usage_error(["setup", str(proved.trial), "--keys", str(proved.keys)], "--force")


@pytest.mark.prove
@pytest.mark.slow
def test_verify_needs_only_the_verifying_key(proved: Proved, tmp_path: Path) -> None:
    """`zkhealth verify` and `verify-batch` read the verifying key the trial file pins, not the proving key:
    they work with the proving key gone, and refuse a verifying key that is not the pinned one."""
    import shutil

    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("manifest.json", "verification_key.json"):
        shutil.copy(proved.keys / name, keys / name)
    assert not (keys / "proving_key.zkhpk").exists()
    assert as_json(["verify", str(proved.trial), str(proved.proof), "--keys", str(keys)])["valid"] is True
    assert as_json(["verify-batch", str(proved.trial), str(proved.proof), "--keys", str(keys)])["valid"] == 1
    # another verifying key with a matching manifest: refused by the trial file's pin
    other = json.loads((keys / "verification_key.json").read_text())
    other["vk_alpha_1"], other["IC"][0] = other["IC"][0], other["vk_alpha_1"]
    (keys / "verification_key.json").write_text(json.dumps(other))
    from zkhealth.formats import load_verifying_key

    manifest = json.loads((keys / "manifest.json").read_text())
    manifest["verifyingKeySha256"] = load_verifying_key(keys / "verification_key.json").sha256()
    (keys / "manifest.json").write_text(json.dumps(manifest))
    refused(["verify", str(proved.trial), str(proved.proof), "--keys", str(keys)], EXIT_REFUSED,
            "VerifyingKeyMismatchError")
    # a trial file without a pin falls back to the full check, which needs the proving key
    spec = TrialSpec.load(proved.trial)
    unpinned = proved.trial.with_name(f"unpinned-{secrets.token_hex(4)}.json")  # beside the trust file it names
    spec.with_changes(vk_sha256=None, keys_dir=None, path=unpinned).save()
    assert TrialSpec.load(unpinned).vk_sha256 is None
    refused(["verify", str(unpinned), str(proved.proof), "--keys", str(keys)], EXIT_MALFORMED, "FileAccessError")
    assert as_json(["verify", str(unpinned), str(proved.proof), "--keys", str(proved.keys)])["valid"] is True
    unpinned.unlink()


@pytest.mark.prove
@pytest.mark.slow
def test_prove_refuses_an_ineligible_patient_with_the_clause(proved: Proved, tmp_path: Path) -> None:
    world = proved.world
    line = refused(["prove", str(proved.trial), "--wallet", str(world.minor_wallet), "--recipient", RECIPIENT,
                    "--revocations", str(world.revocations), "--out", str(tmp_path / "p.json")], EXIT_REFUSED,
                   "NotEligibleError")
    assert line == "error: NotEligibleError: criterion `diagnosis in E11.*` not met"
    assert not (tmp_path / "p.json").exists()


@pytest.mark.prove
@pytest.mark.slow
def test_verify_valid_refused_and_malformed(proved: Proved, tmp_path: Path) -> None:
    payload = as_json(["verify", str(proved.trial), str(proved.proof)])
    assert payload["valid"] is True and payload["recipient"] == RECIPIENT
    assert "valid:" in ok(["verify", str(proved.trial), str(proved.proof), "--recipient", RECIPIENT]).stdout
    refused(["verify", str(proved.trial), str(proved.proof), "--today", "2999-01-01"], EXIT_REFUSED,
            "StaleProofError")
    refused(["verify", str(proved.trial), str(proved.proof), "--recipient", "0x" + "11" * 20], EXIT_REFUSED,
            "WrongRecipientError")
    tampered = _tampered(proved.proof, tmp_path / "tampered.json")
    refused(["verify", str(proved.trial), str(tampered)], EXIT_REFUSED, "InvalidProofError")
    aliased = json.loads(proved.proof.read_text())
    aliased["public"][4] = str(int(aliased["public"][4]) + FIELD_R)
    aliased["publicSignals"]["recipient"] = aliased["public"][4]
    (tmp_path / "aliased.json").write_text(json.dumps(aliased))
    refused(["verify", str(proved.trial), str(tmp_path / "aliased.json")], EXIT_MALFORMED,
            "PublicInputOutOfRangeError")
    (tmp_path / "broken.json").write_text("{not json")
    assert invoke(["verify", str(proved.trial), str(tmp_path / "broken.json")]).exit_code == EXIT_MALFORMED


def _tampered(source: Path, target: Path) -> Path:
    """The proof with its `today` moved back one day: well formed, within the window, and invalid."""
    data = json.loads(source.read_text())
    data["public"][2] = str(int(data["public"][2]) - 1)
    data["publicSignals"]["today"] = data["public"][2]
    target.write_text(json.dumps(data))
    return target


@pytest.mark.prove
@pytest.mark.slow
def test_verify_batch_reports_failures_and_duplicates(proved: Proved, tmp_path: Path) -> None:
    """Issue 13: the same proof listed twice (or a second proof with the same nullifier) is a duplicate, never a
    second valid enrollment."""
    assert as_json(["verify-batch", str(proved.trial), str(proved.proof)])["valid"] == 1
    tampered = _tampered(proved.proof, tmp_path / "tampered.json")
    copy = tmp_path / "copy.json"
    copy.write_text(proved.proof.read_text())
    result = invoke(["--json", "verify-batch", str(proved.trial), str(proved.proof), str(tampered), str(copy),
                     str(proved.proof)])
    assert result.exit_code == EXIT_REFUSED, result.output
    report = json.loads(result.stdout)
    assert [r["status"] for r in report["proofs"]] == ["valid", "refused", "duplicate", "duplicate"]
    assert report["valid"] == 1 and report["duplicate"] == 2
    assert report["proofs"][1]["error"].startswith("InvalidProofError")
    assert report["proofs"][2]["error"].startswith("DuplicateProofError")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1}')
    result = invoke(["verify-batch", str(proved.trial), str(proved.proof), str(broken)])
    assert result.exit_code == EXIT_MALFORMED
    assert f"{broken}: malformed: MalformedProofError" in result.stdout
    assert "1 valid, 0 refused, 0 duplicate, 1 malformed" in result.stdout


@pytest.mark.prove
@pytest.mark.slow
def test_export_verifier_renders_solidity(proved: Proved, tmp_path: Path) -> None:
    out = tmp_path / "Verifier.sol"
    payload = as_json(["export-verifier", "--keys", str(proved.keys), "--out", str(out), "--contract-name", "T2D"])
    source = out.read_text()
    assert "contract T2D" in source and payload["verifying_key_sha256"] == TrialSpec.load(proved.trial).vk_sha256
    assert payload["public_inputs"] == 5
    refused(["export-verifier", "--keys", str(proved.keys), "--out", str(out), "--contract-name", "1x"],
            EXIT_MALFORMED, "NonCanonicalEncodingError")


@pytest.mark.prove
@pytest.mark.evm
@pytest.mark.slow
def test_deploy_on_the_embedded_evm_leaves_the_trial_file_alone(proved: Proved) -> None:
    before = proved.trial.read_bytes()
    result = ok(["deploy", str(proved.trial), "--capacity", "10"])
    assert "CohortEnrollment deployed at 0x" in result.stdout and "embedded EVM" in result.stdout
    assert proved.trial.read_bytes() == before
    usage_error(["deploy", str(proved.trial), "--opens", "2030-01-02", "--closes", "2030-01-01"], "--closes")


# --------------------------------------------------------------------------- anvil: the on-chain flow


@pytest.fixture(scope="module")
def anvil() -> Iterator[Any]:
    from zkhealth.chain.anvil import AnvilNode, find_anvil

    if find_anvil() is None:
        pytest.skip("anvil not installed (npm ci in verifier_contracts/)")
    node = AnvilNode()
    try:
        node.start()
        yield node
    finally:
        node.stop()


# anvil's first default account (its key is public: a development chain only)
ANVIL_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


@pytest.mark.prove
@pytest.mark.evm
@pytest.mark.external
@pytest.mark.slow
def test_deploy_prove_enroll_revoke_and_list_on_anvil(proved: Proved, anvil: Any, tmp_path: Path) -> None:
    from zkhealth.chain import client, devchain, enrollment

    trial = tmp_path / "trial.json"
    data = json.loads(proved.trial.read_text())
    data["keys"]["dir"] = str(proved.keys)
    data["trust"]["roots"] = str(proved.world.trust)
    trial.write_text(json.dumps(data))
    key_file = tmp_path / "deployer.key"
    key_file.write_text(ANVIL_KEY + "\n")
    deployed = as_json(["deploy", str(trial), "--rpc", anvil.url, "--private-key-file", str(key_file)])
    recorded = TrialSpec.load(trial)
    assert recorded.enrollment is not None and recorded.enrollment.address == deployed["address"].lower()
    assert recorded.scope == int(deployed["scope"]) != TrialSpec.load(proved.trial).scope
    assert deployed["trust_root"] == str(TrustRootDocument.load(proved.world.trust).trust_root)
    w3 = client.connect(anvil.url)
    contract = enrollment.cohort_enrollment_at(w3, deployed["address"])
    assert contract.functions.owner().call().lower() == ANVIL_ADDRESS
    # the patient proves against the deployed trial, bound to an unlocked anvil account, and enrolls
    patient = str(w3.eth.accounts[3]).lower()
    world = proved.world
    proof = tmp_path / "proof.json"
    ok(["prove", str(trial), "--wallet", str(world.adult_wallet), "--recipient", patient,
        "--revocations", str(world.revocations), "--out", str(proof)])
    assert as_json(["verify", str(trial), str(proof), "--rpc", anvil.url])["valid"] is True
    enrolled = as_json(["enroll", str(trial), str(proof)])
    assert enrolled["enrolled"] is True and enrolled["gas_used"] <= 260_000
    refused(["enroll", str(trial), str(proof)], EXIT_REFUSED, "NullifierAlreadyUsedError")
    listed = as_json(["enrollments", "--trial", str(trial), "--confirmations", "1"])
    assert listed["count"] == 1 and listed["enrollments"][0]["status"] == "enrolled"
    assert listed["enrollments"][0]["recipient"].lower() == patient
    pending = as_json(["enrollments", "--rpc", anvil.url, "--address", deployed["address"]])
    assert pending["enrollments"][0]["status"] == "pending"
    # a second adult proves (valid now); then the issuer revokes that credential and the operator publishes
    second = tmp_path / "second.zkw"
    commitment = as_json(["wallet", "init", "--wallet", str(second), "--kdf", "interactive"])["holder_commitment"]
    credential = tmp_path / "second.json"
    issued = as_json(["issue", "--record", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(world.key),
                      "--holder-commitment", commitment, "--out", str(credential), "--validity-days", "30"])
    ok(["wallet", "import", "--wallet", str(second), "--trust", str(world.trust), str(credential)])
    early = tmp_path / "early.json"
    other = str(w3.eth.accounts[4]).lower()
    ok(["prove", str(trial), "--wallet", str(second), "--recipient", other, "--revocations", str(world.revocations),
        "--out", str(early)])
    world.revoke(issued["credential_id"])
    published = as_json(["operator", "publish-root", "--rpc", anvil.url, "--private-key-file", str(key_file),
                         "--enrollment", deployed["address"], "--trust", str(world.trust)])
    assert published["root"] == str(TrustRootDocument.load(world.trust).trust_root)
    current = as_json(["operator", "current-root", "--rpc", anvil.url, "--enrollment", deployed["address"]])
    assert current["root"] == published["root"]
    devchain.advance_time(w3, recorded.root_grace_seconds + 60)
    refused(["verify", str(trial), str(early), "--rpc", anvil.url], EXIT_REFUSED, "StaleRootError")
    refused(["enroll", str(trial), str(early)], EXIT_REFUSED, "ContractRevertError")
    refused(["prove", str(trial), "--wallet", str(second), "--recipient", other, "--revocations",
             str(world.revocations), "--out", str(tmp_path / "again.json")], EXIT_REFUSED, "CredentialRevokedError")
    assert as_json(["enrollments", "--trial", str(trial), "--confirmations", "1"])["count"] == 1
