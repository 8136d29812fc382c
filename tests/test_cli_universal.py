"""Universal trials on the command line: trial new (universal by default, --dedicated for a trial's own circuit),
trial info, setup (refused: none needed), deploy in the registry, prove, verify, enroll, and the universal-keys
group. The trust side is the operator's signed trust-root file (`registry add`, `revoke`, `operator build-root`),
the same one dedicated trials use.

The fast tests need no proving key; the slow one creates the trial in a TrialRegistry on anvil, proves with the
shipped universal key set (the session's ``universal_key_file``), verifies (and refuses the proof for another
trial) and enrolls twice (the second is refused)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zkhealth.cli import EXIT_MALFORMED, EXIT_OK, EXIT_REFUSED, main
from zkhealth.credentials.trust_roots import TrustRootDocument
from zkhealth.eligibility import TrialSpec
from zkhealth.eligibility.record_spec import RecordTrialSpec
from zkhealth.eligibility.universal_keys import pinned_manifest

ROOT = Path(__file__).resolve().parent.parent
FHIR = ROOT / "tests" / "fhir"
ENV = {"ZKHEALTH_PASSPHRASE": "a patient passphrase for tests"}
RECIPIENT = "0x000000000000000000000000000000000000beef"
SURPASS2 = ROOT / "circuits" / "trials" / "surpass2_t2d.txt"


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env={**ENV, **(env or {})}, catch_exceptions=False, prog_name="zkhealth")


def ok(args: list[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    return result


def as_json(args: list[str]) -> Any:
    return json.loads(ok(["--json", *args]).stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An issuer in the operator's issuer registry with its signed revocation root, the signed trust-root file
    (trust.json), and a wallet holding a whole-record credential (everything built with the CLI)."""
    base = tmp_path_factory.mktemp("cli-universal")
    ok(["keygen", "--out", str(base / "issuer.key"), "--kdf", "interactive"])
    ok(["keygen", "--out", str(base / "operator.key"), "--kdf", "interactive"])
    ok(["registry", "add", "--registry", str(base / "registry.json"), str(base / "issuer.key")])
    statement = base / "revoked.json"
    ok(["revoke", "--db", str(base / "revocations.sqlite"), str(1 + secrets.randbelow(2**127)), "--key",
        str(base / "issuer.key"), "--out", str(statement)])
    ok(["registry", "apply", "--registry", str(base / "registry.json"), str(statement)])
    ok(["operator", "build-root", "--registry", str(base / "registry.json"), "--key", str(base / "operator.key"),
        "--out", str(base / "trust.json")])
    ok(["wallet", "init", "--wallet", str(base / "patient.zkw"), "--kdf", "interactive"])
    commitment = as_json(["wallet", "list", "--wallet", str(base / "patient.zkw")])["holder_commitment"]
    ok(["issue", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(base / "issuer.key"), "--holder-commitment",
        commitment, "--out", str(base / "record.json"), "--record", "--complete"])
    imported = as_json(["wallet", "import", "--wallet", str(base / "patient.zkw"), "--trust",
                        str(base / "trust.json"), str(base / "record.json")])
    assert imported["imported"]
    return base


def test_trial_new_is_universal_by_default(world: Path) -> None:
    out = world / "universal.json"
    result = invoke(["--json", "trial", "new", "--criteria", str(SURPASS2), "--trial-id", "NCT03987919",
                     "--trust", str(world / "trust.json"), "--out", str(out), "--force"])
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    assert "DEVELOPMENT KEYS" in result.stderr  # the pinned key set is a development set: said on every use
    data = json.loads(result.stdout)
    assert data["kind"] == "universal" and data["keys"] is None and data["programHash"]
    assert int(data["trustRoots"][0]) == TrustRootDocument.load(world / "trust.json").trust_root
    spec = RecordTrialSpec.load(out)
    assert spec.trial().program_hash == int(data["programHash"])
    info = as_json(["trial", "info", str(out)])
    assert info["universal"]["usage"]["leaves"] == {"used": 12, "available": 23}
    assert info["universal"]["constraints"] == pinned_manifest().constraints
    assert info["public_signals"][1] == "program_hash"
    # No setup for a universal trial: the one key set serves it.
    setup = invoke(["setup", str(out), "--keys", str(world / "keys")])
    assert setup.exit_code == EXIT_MALFORMED and "needs no setup" in setup.stderr


def test_trial_roots_replaces_a_universal_trials_accepted_roots(world: Path) -> None:
    out = world / "universal-roots.json"
    ok(["trial", "new", "--criteria", "diagnosis in E11.* and age >= 18", "--trial-id", "NCT05000012",
        "--trust-root", "5", "--out", str(out), "--force"])
    assert RecordTrialSpec.load(out).trust_roots == (5,)
    document = TrustRootDocument.load(world / "trust.json")
    before = out.read_bytes()
    wrong = invoke(["trial", "roots", str(out), "--from", str(world / "trust.json"), "--operator",
                    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"])
    assert wrong.exit_code in (EXIT_REFUSED, EXIT_MALFORMED) and out.read_bytes() == before  # another signer
    result = as_json(["trial", "roots", str(out), "--from", str(world / "trust.json")])
    assert result["current"] == str(document.trust_root) and result["operator"] == document.operator
    assert RecordTrialSpec.load(out).trust_roots[0] == document.trust_root
    assert 5 not in RecordTrialSpec.load(out).trust_roots  # replaced, never accumulated


def test_criteria_past_the_limits_point_to_dedicated(world: Path) -> None:
    # Windowed exclusions over 25 distant classes: one aggregate leaf each, more leaves than the circuit has.
    many = " and ".join(f"not diagnosis in {code} within 12 months" for code in (
        "E10", "I21", "I63", "K85", "N18.6", "Z94", "C50", "J44", "G40", "A00", "B20", "D57", "F32", "G30", "H40",
        "J45", "K50", "L40", "M05", "N04", "O00", "Q61", "R00", "S00", "T36"))
    base = ["trial", "new", "--criteria", many, "--trial-id", "NCT1", "--trust", str(world / "trust.json"),
            "--force", "--out"]
    result = invoke([*base, str(world / "too_big.json")])
    assert result.exit_code == EXIT_MALFORMED
    assert "UniversalLimitError" in result.stderr and "--dedicated" in result.stderr
    dedicated = as_json([*base, str(world / "dedicated.json"), "--dedicated"])
    assert dedicated["kind"] == "dedicated" and "programHash" not in dedicated
    assert TrialSpec.load(world / "dedicated.json").kind == "dedicated"  # the dedicated trial file (TrialSpec)


def test_a_universal_trial_needs_a_trust_root(world: Path) -> None:
    missing = invoke(["trial", "new", "--criteria", "age >= 18", "--trial-id", "NCT1", "--out",
                      str(world / "none.json")])
    assert missing.exit_code == EXIT_MALFORMED and "--trust" in missing.stderr
    explicit = as_json(["trial", "new", "--criteria", "age >= 18", "--trial-id", "NCT1", "--trust-root", "12345",
                        "--out", str(world / "explicit.json"), "--force"])
    assert explicit["trustRoots"] == ["12345"]


def test_a_hand_edited_program_hash_is_refused(world: Path) -> None:
    out = world / "edited.json"
    ok(["trial", "new", "--criteria", "diagnosis in E11.*", "--trial-id", "NCT2", "--trust", str(world / "trust.json"),
        "--out", str(out), "--force"])
    data = json.loads(out.read_text())
    data["programHash"] = str(int(data["programHash"]) + 1)
    out.write_text(json.dumps(data))
    result = invoke(["trial", "info", str(out)])
    assert result.exit_code == EXIT_MALFORMED and "programHash" in result.stderr


def test_universal_keys_info(world: Path) -> None:
    info = as_json(["universal-keys", "info"])
    assert info["provenance"] == "dev-setup" and info["shape"]["leafSlots"] == 23
    bogus = world / "bogus.zkhpk"
    bogus.write_bytes(b"zkpk" + bytes(64))
    result = invoke(["universal-keys", "install", str(bogus)], env={"ZKHEALTH_UNIVERSAL_KEY": str(world / "x")})
    assert result.exit_code == EXIT_REFUSED and "VerifyingKeyMismatchError" in result.stderr
    assert not (world / "x").exists()


@pytest.mark.slow
@pytest.mark.prove
@pytest.mark.evm
@pytest.mark.external
@pytest.mark.filterwarnings("ignore::zkhealth.eligibility.universal_keys.DevelopmentKeyWarning")
def test_export_verifier_renders_the_pinned_universal_key(tmp_path: Path) -> None:
    out = tmp_path / "UniversalVerifier.sol"
    result = invoke(["--json", "export-verifier", "--universal", "--out", str(out), "--contract-name", "Universal"])
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    payload = json.loads(result.stdout)
    assert payload["verifying_key_sha256"] == pinned_manifest().verifying_key_sha256
    assert payload["public_inputs"] == 6 and "contract Universal" in out.read_text()
    if pinned_manifest().is_development:
        assert "WARNING" in result.stderr
    both = invoke(["export-verifier", "--universal", "--keys", str(tmp_path), "--out", str(out)])
    neither = invoke(["export-verifier", "--out", str(out)])
    assert both.exit_code == neither.exit_code == EXIT_MALFORMED and "--universal" in both.stderr + neither.stderr


def test_create_in_the_registry_prove_and_enroll_on_anvil(world: Path, universal_key_file: Path) -> None:
    from zkhealth.chain import client
    from zkhealth.chain.anvil import AnvilNode, find_anvil
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.eligibility.universal_keys import pinned_verifying_key

    if find_anvil() is None:
        pytest.skip("anvil not installed (npm ci in verifier_contracts/)")
    with AnvilNode() as node:
        w3 = client.connect(node.url)
        accounts = list(w3.eth.accounts)
        deployed = as_json(["operator", "deploy-registry", "--rpc", node.url, "--trust", str(world / "trust.json")])
        registry = TrialRegistryClient(w3, deployed["registry"], deployed_block=deployed["block"])
        assert deployed["owner"] == accounts[0] and deployed["published"]["block"] > deployed["block"]
        assert deployed["verifying_key_sha256"] == pinned_verifying_key().sha256()
        assert registry.current_trust_root() == TrustRootDocument.load(world / "trust.json").trust_root
        trial = world / "onchain.json"
        ok(["trial", "new", "--criteria", "diagnosis in E11.* and age >= 18", "--trial-id", "NCT05000010",
            "--trust", str(world / "trust.json"), "--out", str(trial), "--force"])
        created = as_json(["deploy", str(trial), "--rpc", node.url, "--registry", registry.address])
        assert created["trial_number"] == 1 and RecordTrialSpec.load(trial).scope == registry.scope(1)
        proof = world / "onchain-proof.json"
        proved = as_json(["prove", str(trial), "--wallet", str(world / "patient.zkw"), "--recipient", accounts[1],
                          "--trust", str(world / "trust.json"), "--revocations", str(world / "revocations.sqlite"),
                          "--out", str(proof)])
        assert proved["circuit"] == "universal"
        # the printed time is the whole command's; the spec holding the universal proving key stays referenced
        # until the process ends (the CLI ends with os._exit instead of freeing it object by object)
        from zkhealth.cli import _common

        assert proved["seconds"] > 0 and [type(kept) for kept in _common._kept] == [RecordTrialSpec]
        verified = as_json(["verify", str(trial), str(proof), "--recipient", accounts[1]])
        assert verified["valid"] and verified["nullifier"] == proved["nullifier"]
        # verify-batch reads universal trial files too: the same proof twice counts once, a broken file is
        # malformed (exit 2), and the trial file's own keys and roots are used (--keys does not apply).
        junk = world / "junk-proof.json"
        junk.write_text('{"format": "zkhealth.eligibility-proof"}', encoding="utf-8")
        batch = invoke(["--json", "verify-batch", str(trial), str(proof), str(proof), str(junk)])
        assert batch.exit_code == EXIT_MALFORMED, batch.output + batch.stderr
        report = json.loads(batch.stdout)
        assert [row["status"] for row in report["proofs"]] == ["valid", "duplicate", "malformed"]
        assert report["proofs"][0]["nullifier"] == proved["nullifier"] and report["valid"] == 1
        assert "DuplicateProofError" in report["proofs"][1]["error"]
        assert as_json(["verify-batch", str(trial), str(proof)])["valid"] == 1
        assert invoke(["verify-batch", str(trial), str(proof), "--keys", str(world)]).exit_code == EXIT_MALFORMED
        # The same proof shown to another trial (another program, another scope): refused.
        other = world / "other.json"
        ok(["trial", "new", "--criteria", "age >= 18", "--trial-id", "NCT05000011", "--trust",
            str(world / "trust.json"), "--out", str(other), "--force"])
        refused = invoke(["verify", str(other), str(proof)])
        assert refused.exit_code == EXIT_REFUSED and "error:" in refused.stderr
        refused_batch = invoke(["--json", "verify-batch", str(other), str(proof)])
        assert refused_batch.exit_code == EXIT_REFUSED
        assert [row["status"] for row in json.loads(refused_batch.stdout)["proofs"]] == ["refused"]
        enrolled = as_json(["enroll", str(trial), str(proof), "--purpose", "data-analysis", "--purpose",
                            "trial-participation"])
        assert enrolled["enrolled"] and enrolled["gas_used"] <= 260_000
        again = invoke(["enroll", str(trial), str(proof)])
        assert again.exit_code == EXIT_REFUSED and "NullifierUsed" in again.stderr
        assert registry.enrollment(1, int(enrolled["nullifier"])).purposes == 3
        listed = as_json(["enrollments", "--trial", str(trial), "--confirmations", "1"])
        assert listed["count"] == 1 and listed["trial_number"] == 1
        assert listed["enrollments"][0]["nullifier"] == enrolled["nullifier"]
        assert listed["enrollments"][0]["status"] == "active" and listed["enrollments"][0]["purposes"] == 3
