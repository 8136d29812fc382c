"""The ``zkhealth`` command: issuer and wallet verbs, help texts, exit codes and error lines.

Every verb is run through click's CliRunner (and the real entry point once, in a subprocess) with a valid
input and with an input it must refuse; the refusal must exit with the documented code and print one line.
Files use the ``interactive`` Argon2id profile to keep the suite fast.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from zkhealth.cli import EXIT_ERROR, EXIT_MALFORMED, EXIT_OK, EXIT_REFUSED, main, run
from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.keyfile import load_issuer, read_issuer_public_key
from zkhealth.credentials.trees import MerkleProof, RevocationTree, verify_merkle_proof
from zkhealth.credentials.trust import TrustedIssuers, empty_revocation_root, trusted_issuer_leaf
from zkhealth.credentials.vc import verify_credential
from zkhealth.credentials.wallet import Wallet
from zkhealth.errors import WalletDecryptionError, ZkHealthError
from zkhealth.field import FIELD_R

pytestmark = pytest.mark.native

ROOT = Path(__file__).resolve().parent.parent
FHIR = ROOT / "tests" / "fhir"
PASSPHRASE = "correct horse battery staple"
ENV = {"ZKHEALTH_PASSPHRASE": PASSPHRASE}


def invoke(args: list[str], *, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run ``zkhealth ARGS`` in-process; the passphrase comes from the environment unless ``env`` says otherwise."""
    return CliRunner().invoke(
        main, args, env=ENV if env is None else env, input=input, catch_exceptions=False, prog_name="zkhealth"
    )


def ok(args: list[str], **kwargs: Any) -> Result:
    result = invoke(args, **kwargs)
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    return result


def as_json(args: list[str], **kwargs: Any) -> Any:
    return json.loads(ok(["--json", *args], **kwargs).stdout)


def assert_one_line_error(result: Result, code: int, error_name: str) -> None:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {error_name}:"), result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An issuer key, a registry holding it, a wallet and a credential imported into it (built with the CLI)."""
    base = tmp_path_factory.mktemp("cli")
    paths = {
        "key": base / "issuer.key",
        "registry": base / "registry.json",
        "wallet": base / "wallet.zkw",
        "credential": base / "credential.json",
        "base": base,
    }
    ok(["keygen", "--out", str(paths["key"]), "--kdf", "interactive"])
    ok(["registry", "add", "--registry", str(paths["registry"]), str(paths["key"])])
    commitment = as_json(["wallet", "init", "--wallet", str(paths["wallet"]), "--kdf", "interactive"])[
        "holder_commitment"
    ]
    ok(
        [
            "issue", "--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(paths["key"]),
            "--holder-commitment", commitment, "--out", str(paths["credential"]),
        ]
    )
    ok(["wallet", "import", "--wallet", str(paths["wallet"]), "--registry", str(paths["registry"]),
        str(paths["credential"])])
    return paths


# --------------------------------------------------------------------------- help and exit codes


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, path))
    return found


EXPECTED_VERBS = {
    ("keygen",), ("issue",), ("revoke",), ("registry",), ("registry", "add"), ("registry", "remove"),
    ("registry", "apply"), ("registry", "list"), ("registry", "root"), ("registry", "proof"),
    ("registrar",), ("registrar", "add"), ("registrar", "rotate"), ("registrar", "remove"), ("registrar", "list"),
    ("registrar", "root"), ("registrar", "proof"), ("operator", "build-root"), ("operator", "publish-root"),
    ("operator", "current-root"), ("wallet",), ("wallet", "init"),
    ("wallet", "import"), ("wallet", "list"), ("wallet", "remove"), ("compile",), ("info",), ("r1cs",),
    ("r1cs", "export"),
    ("r1cs", "info"), ("wtns",), ("wtns", "calculate"), ("groth16",), ("groth16", "setup"),
    ("groth16", "prove"), ("groth16", "verify"), ("zkey",),
}


def test_every_expected_verb_is_mounted() -> None:
    mounted = {path for path, _ in _all_commands(main)}
    assert EXPECTED_VERBS <= mounted, EXPECTED_VERBS - mounted


@pytest.mark.parametrize("path", sorted(p for p, _ in _all_commands(main)), ids=" ".join)
def test_every_help_is_meaningful(path: tuple[str, ...]) -> None:
    result = ok([*path, "--help"])
    assert result.stdout.startswith(f"Usage: zkhealth {' '.join(path)}")
    command = dict(_all_commands(main))[path]
    summary = (command.help or "").strip()
    assert len(summary.split()) >= 5, f"{' '.join(path)} has no real help text"
    assert summary.split()[0] in result.stdout


def test_top_level_help_documents_exit_codes_and_kinds_of_user() -> None:
    text = ok(["--help"]).stdout
    for needle in ("Exit codes", "0 success", "1 refused", "2", "3 other", "Issuer", "Patient", "Circuit author"):
        assert needle in text


def test_version() -> None:
    from zkhealth import __version__

    assert __version__ in ok(["--version"]).stdout


def test_unknown_command_and_option_are_usage_errors() -> None:
    assert invoke(["no-such-verb"]).exit_code == EXIT_MALFORMED
    assert invoke(["keygen", "--no-such-option"]).exit_code == EXIT_MALFORMED
    assert run(["no-such-verb"]) == EXIT_MALFORMED


# --------------------------------------------------------------------------- keygen


def test_keygen_writes_an_encrypted_private_file(world: dict[str, Path]) -> None:
    key = world["key"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text()
    issuer = load_issuer(key, PASSPHRASE)
    public = read_issuer_public_key(key)
    assert public.public_key == issuer.public_key and public.did == issuer.did
    # no secret in the clear: the file holds neither key's secret bytes in hex
    assert issuer.did in text and "ciphertext" in text


def test_keygen_json_output(tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    payload = as_json(["keygen", "--out", str(out), "--kdf", "interactive"])
    issuer = load_issuer(out, PASSPHRASE)
    assert payload["did"] == issuer.did
    assert payload["babyjubjub_public_key"] == [str(v) for v in issuer.public_key]
    assert payload["ed25519_public_key"] == issuer.ed25519_public_key.hex()


def test_keygen_refuses_to_overwrite_without_force(world: dict[str, Path]) -> None:
    before = world["key"].read_bytes()
    result = invoke(["keygen", "--out", str(world["key"]), "--kdf", "interactive"])
    assert result.exit_code == EXIT_MALFORMED
    assert world["key"].read_bytes() == before


def test_keygen_force_replaces(tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    ok(["keygen", "--out", str(out), "--kdf", "interactive"])
    first = read_issuer_public_key(out).public_key
    ok(["keygen", "--out", str(out), "--kdf", "interactive", "--force"])
    assert read_issuer_public_key(out).public_key != first


def test_passphrase_from_file_and_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZKHEALTH_PASSPHRASE", raising=False)
    secret_file = tmp_path / "pass.txt"
    secret_file.write_text("from a file\nignored second line\n")
    ok(["keygen", "--out", str(tmp_path / "a.key"), "--kdf", "interactive", "--passphrase-file", str(secret_file)],
       env={})
    # only the file's first line is the passphrase: the key opens with it (a wrong one raises)
    assert load_issuer(tmp_path / "a.key", "from a file") is not None
    ok(["keygen", "--out", str(tmp_path / "b.key"), "--kdf", "interactive"], env={}, input="typed in\n")
    assert load_issuer(tmp_path / "b.key", "typed in") is not None
    with pytest.raises(ZkHealthError):
        load_issuer(tmp_path / "a.key", "from a file\nignored second line")


def test_no_passphrase_anywhere_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZKHEALTH_PASSPHRASE", raising=False)
    result = invoke(["keygen", "--out", str(tmp_path / "k.key"), "--kdf", "interactive"], env={}, input="")
    assert result.exit_code == EXIT_MALFORMED
    assert not (tmp_path / "k.key").exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    result = invoke(["keygen", "--out", str(tmp_path / "k.key"), "--passphrase-file", str(empty)], env={})
    assert result.exit_code == EXIT_MALFORMED


def test_key_file_tampering_is_refused(world: dict[str, Path], tmp_path: Path) -> None:
    document = json.loads(world["key"].read_text())
    # swap in another issuer's public key: authenticated as associated data, so decryption fails
    other = tmp_path / "other.key"
    ok(["keygen", "--out", str(other), "--kdf", "interactive"])
    forged = dict(document, babyJubjubPublicKey=json.loads(other.read_text())["babyJubjubPublicKey"])
    forged_path = tmp_path / "forged.key"
    forged_path.write_text(json.dumps(forged))
    with pytest.raises(WalletDecryptionError):
        load_issuer(forged_path, PASSPHRASE)
    # KDF downgrade below the floor is refused before any work (exit 2)
    weak = dict(document, kdf=dict(document["kdf"], opslimit=1))
    weak_path = tmp_path / "weak.key"
    weak_path.write_text(json.dumps(weak))
    result = invoke(["issue", "--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(weak_path),
                     "--holder-commitment", "1", "--out", str(tmp_path / "c.json")])
    assert_one_line_error(result, EXIT_MALFORMED, "WeakKdfParametersError")
    # duplicate keys in the JSON are refused (strict parsing)
    duplicated = world["key"].read_text().replace('"version": 1,', '"version": 1, "version": 1,', 1)
    dup_path = tmp_path / "dup.key"
    dup_path.write_text(duplicated)
    result = invoke(["registry", "add", "--registry", str(tmp_path / "r.json"), str(dup_path)])
    assert_one_line_error(result, EXIT_MALFORMED, "EncodingError")


# --------------------------------------------------------------------------- issue


def test_issue_writes_a_credential_that_verifies(world: dict[str, Path]) -> None:
    registry = TrustedIssuers.load(world["registry"])
    credential = verify_credential(world["credential"].read_text(),
                                   trusted_issuers=[entry.point for entry in registry.issuers()])
    wallet = Wallet.open(world["wallet"], PASSPHRASE)
    assert credential.subject_commitment == subject_commitment(wallet.holder_secret)
    assert [d.code for d in credential.claims.diagnoses] == ["E11.9", "I10"]


def test_issue_json_output_and_dates(world: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    payload = as_json(
        ["issue", "--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(world["key"]),
         "--holder-commitment", "42",
         "--out", str(out), "--issued-at", "2025-01-01", "--expires-at", "2026-01-01", "--research-consent"]
    )
    assert payload["issued_at"] == "2025-01-01" and payload["expires_at"] == "2026-01-01"
    assert payload["subject_commitment"] == "42" and payload["claims"]["researchConsent"] is True
    assert json.loads(out.read_text())["id"] == f"urn:zkhealth:credential:{payload['credential_id']}"


@pytest.mark.parametrize("commitment", ["012", "-1", "0x2a", " 42", str(2**254)])
def test_issue_refuses_a_non_canonical_commitment(world: dict[str, Path], tmp_path: Path, commitment: str) -> None:
    result = invoke(["issue", "--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(world["key"]),
                     "--holder-commitment", commitment, "--out", str(tmp_path / "c.json")])
    assert result.exit_code == EXIT_MALFORMED
    assert not (tmp_path / "c.json").exists()


def test_issue_refuses_unsupported_fhir(world: dict[str, Path], tmp_path: Path) -> None:
    for bundle in ("unsupported_unit.json", "unsupported_coding.json"):
        result = invoke(["issue", "--schema", "1", "--fhir", str(FHIR / bundle), "--key", str(world["key"]),
                         "--holder-commitment", "1", "--out", str(tmp_path / "c.json")])
        assert_one_line_error(result, EXIT_REFUSED, "FhirImportError")


def test_issue_with_a_wrong_passphrase(world: dict[str, Path], tmp_path: Path) -> None:
    result = invoke(["issue", "--schema", "1", "--fhir", str(FHIR / "t2d_adult.json"), "--key", str(world["key"]),
                     "--holder-commitment", "1", "--out", str(tmp_path / "c.json")],
                    env={"ZKHEALTH_PASSPHRASE": "wrong"})
    assert_one_line_error(result, EXIT_REFUSED, "WalletDecryptionError")


def test_issue_with_a_missing_bundle(world: dict[str, Path], tmp_path: Path) -> None:
    result = invoke(["issue", "--schema", "1", "--fhir", str(tmp_path / "nope.json"), "--key", str(world["key"]),
                     "--holder-commitment", "1", "--out", str(tmp_path / "c.json")])
    assert result.exit_code == EXIT_MALFORMED


# --------------------------------------------------------------------------- revoke


def test_revoke_updates_the_tree(tmp_path: Path) -> None:
    db = tmp_path / "rev.sqlite"
    payload = as_json(["revoke", "--db", str(db), "5", "urn:zkhealth:credential:7", "5"])
    assert payload["revoked"] == ["5", "7"] and payload["already_revoked"] == []
    expected = RevocationTree()
    expected.revoke_many([5, 7])
    assert payload["root"] == str(expected.root) and payload["revoked_count"] == 2
    again = as_json(["revoke", "--db", str(db), "7"])
    assert again["revoked"] == [] and again["already_revoked"] == ["7"] and again["root"] == payload["root"]
    status = as_json(["revoke", "--db", str(db)])
    assert status["root"] == payload["root"] and status["revoked_count"] == 2
    tree = RevocationTree(db)
    try:
        assert tree.is_revoked(5) and tree.is_revoked(7) and not tree.is_revoked(6)
    finally:
        tree.close()


@pytest.mark.parametrize(
    ("credential_id", "error"),
    [("0x12", "NonCanonicalEncodingError"), ("0", "FieldRangeError"), (str(2**128), "FieldRangeError"),
     ("007", "NonCanonicalEncodingError")],
)
def test_revoke_refuses_bad_ids(tmp_path: Path, credential_id: str, error: str) -> None:
    result = invoke(["revoke", "--db", str(tmp_path / "rev.sqlite"), credential_id])
    assert_one_line_error(result, EXIT_MALFORMED, error)


# --------------------------------------------------------------------------- registry


def test_registry_root_list_and_proof(world: dict[str, Path]) -> None:
    registry = TrustedIssuers.load(world["registry"])
    issuer_key = read_issuer_public_key(world["key"]).public_key
    assert ok(["registry", "root", "--registry", str(world["registry"])]).stdout.strip() == str(registry.root)
    listing = as_json(["registry", "list", "--registry", str(world["registry"])])
    empty = str(empty_revocation_root())
    assert listing["issuers"] == [{"index": 0, "x": str(issuer_key[0]), "y": str(issuer_key[1]),
                                   "revocation_root": empty, "revoked": 0}]
    proof_payload = json.loads(
        ok(["registry", "proof", "--registry", str(world["registry"]), str(world["key"])]).stdout
    )
    proof = MerkleProof.from_dict(proof_payload["proof"])
    verify_merkle_proof(registry.root, proof)
    assert proof.leaf == trusted_issuer_leaf(issuer_key, empty_revocation_root())
    assert proof_payload["root"] == str(registry.root) and proof_payload["revocationRoot"] == empty


def test_registry_add_public_key_and_remove(world: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    issuer_key = read_issuer_public_key(world["key"]).public_key
    added = as_json(["registry", "add", "--registry", str(path), "--public-key", str(issuer_key[0]),
                     str(issuer_key[1])])
    assert added["root"] == str(TrustedIssuers.load(world["registry"]).root)
    removed = as_json(["registry", "remove", "--registry", str(path), str(world["key"])])
    assert removed["root"] == str(TrustedIssuers().root)
    result = invoke(["registry", "remove", "--registry", str(path), str(world["key"])])
    assert_one_line_error(result, EXIT_REFUSED, "UnknownIssuerError")


@pytest.mark.parametrize("weak_key", [("0", "1"), ("0", str(FIELD_R - 1))])
def test_registry_refuses_small_order_keys(tmp_path: Path, weak_key: tuple[str, str]) -> None:
    path = tmp_path / "registry.json"
    result = invoke(["registry", "add", "--registry", str(path), "--public-key", *weak_key])
    assert_one_line_error(result, EXIT_REFUSED, "WeakIssuerKeyError")
    assert not path.exists()


def test_registry_usage_errors(world: dict[str, Path], tmp_path: Path) -> None:
    assert invoke(["registry", "add", "--registry", str(tmp_path / "r.json")]).exit_code == EXIT_MALFORMED
    assert invoke(["registry", "list", "--registry", str(tmp_path / "missing.json")]).exit_code == EXIT_MALFORMED
    assert invoke(["registry", "proof", "--registry", str(world["registry"])]).exit_code == EXIT_MALFORMED
    result = invoke(["registry", "proof", "--registry", str(world["registry"]), "--public-key", "1", "2"])
    assert result.exit_code in (EXIT_MALFORMED, EXIT_REFUSED)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "zkhealth.trusted-issuers", "format": "x"}')
    assert_one_line_error(invoke(["registry", "root", "--registry", str(bad)]), EXIT_MALFORMED, "EncodingError")


def test_registry_proof_of_an_unknown_issuer(world: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    ok(["keygen", "--out", str(other), "--kdf", "interactive"])
    result = invoke(["registry", "proof", "--registry", str(world["registry"]), str(other)])
    assert_one_line_error(result, EXIT_REFUSED, "UnknownIssuerError")


# --------------------------------------------------------------------------- wallet


def test_wallet_list_shows_the_commitment_and_the_credential(world: dict[str, Path]) -> None:
    payload = as_json(["wallet", "list", "--wallet", str(world["wallet"])])
    wallet = Wallet.open(world["wallet"], PASSPHRASE)
    assert payload["holder_commitment"] == str(subject_commitment(wallet.holder_secret))
    assert len(payload["credentials"]) == 1
    stored = json.loads(world["credential"].read_text())
    assert payload["credentials"][0]["id"] == stored["id"].rsplit(":", 1)[-1]
    text = ok(["wallet", "list", "--wallet", str(world["wallet"])]).stdout
    assert "E11.9" in text and str(subject_commitment(wallet.holder_secret)) in text
    assert str(wallet.holder_secret) not in text


def test_wallet_remove_drops_one_credential(world: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.zkw"
    copy.write_bytes(world["wallet"].read_bytes())
    stored = json.loads(world["credential"].read_text())
    missing = invoke(["wallet", "remove", "--wallet", str(copy), "12345"])
    assert missing.exit_code == EXIT_ERROR and "WalletError" in missing.stderr
    assert invoke(["wallet", "remove", "--wallet", str(copy), "0x12"]).exit_code == EXIT_MALFORMED
    payload = as_json(["wallet", "remove", "--wallet", str(copy), stored["id"]])
    assert payload["removed"] == stored["id"].rsplit(":", 1)[-1] and payload["credentials"] == 0
    assert as_json(["wallet", "list", "--wallet", str(copy)])["credentials"] == []
    assert len(Wallet.open(world["wallet"], PASSPHRASE).credentials) == 1  # the original is untouched


def test_wallet_import_is_idempotent(world: dict[str, Path]) -> None:
    payload = as_json(["wallet", "import", "--wallet", str(world["wallet"]), str(world["credential"])])
    assert payload["imported"] is False and payload["credentials"] == 1


def test_wallet_import_refuses_a_credential_for_another_holder(world: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.zkw"
    ok(["wallet", "init", "--wallet", str(other), "--kdf", "interactive"])
    result = invoke(["wallet", "import", "--wallet", str(other), str(world["credential"])])
    assert_one_line_error(result, EXIT_REFUSED, "CredentialError")
    assert Wallet.open(other, PASSPHRASE).credentials == []


def test_wallet_import_refuses_tampered_and_untrusted_credentials(world: dict[str, Path], tmp_path: Path) -> None:
    document = json.loads(world["credential"].read_text())
    document["credentialSubject"]["claims"]["birthDate"] = "2010-01-01"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    result = invoke(["wallet", "import", "--wallet", str(world["wallet"]), str(tampered)])
    assert result.exit_code == EXIT_REFUSED
    assert len(Wallet.open(world["wallet"], PASSPHRASE).credentials) == 1  # nothing was stored
    empty_registry = tmp_path / "registry.json"
    empty_registry.write_text(TrustedIssuers().to_json())
    result = invoke(["wallet", "import", "--wallet", str(world["wallet"]), "--registry", str(empty_registry),
                     str(world["credential"])])
    assert_one_line_error(result, EXIT_REFUSED, "UnknownIssuerError")
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert invoke(["wallet", "import", "--wallet", str(world["wallet"]), str(not_json)]).exit_code == EXIT_MALFORMED


def test_wallet_init_refuses_to_overwrite(world: dict[str, Path]) -> None:
    before = world["wallet"].read_bytes()
    result = invoke(["wallet", "init", "--wallet", str(world["wallet"]), "--kdf", "interactive"])
    assert result.exit_code == EXIT_MALFORMED
    assert world["wallet"].read_bytes() == before


def test_wallet_errors(world: dict[str, Path], tmp_path: Path) -> None:
    result = invoke(["wallet", "list", "--wallet", str(world["wallet"])], env={"ZKHEALTH_PASSPHRASE": "wrong"})
    assert_one_line_error(result, EXIT_REFUSED, "WalletDecryptionError")
    assert invoke(["wallet", "list", "--wallet", str(tmp_path / "none.zkw")]).exit_code == EXIT_MALFORMED
    garbage = tmp_path / "garbage.zkw"
    garbage.write_bytes(b"not a wallet at all, just bytes" * 4)
    assert_one_line_error(invoke(["wallet", "list", "--wallet", str(garbage)]), EXIT_MALFORMED, "WalletFormatError")


def test_wallet_path_from_the_environment(world: dict[str, Path]) -> None:
    payload = as_json(["wallet", "list"], env={**ENV, "ZKHEALTH_WALLET": str(world["wallet"])})
    assert payload["wallet"] == str(world["wallet"])


# --------------------------------------------------------------------------- the real entry point


def _zkhealth(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "zkhealth", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_entry_point_error_is_one_line_and_debug_shows_the_traceback(world: dict[str, Path], tmp_path: Path) -> None:
    args = ["revoke", "--db", str(tmp_path / "rev.sqlite"), "0x12"]
    plain = _zkhealth(*args)
    assert plain.returncode == EXIT_MALFORMED
    assert plain.stderr.strip().splitlines() == [plain.stderr.strip()]
    assert plain.stderr.startswith("error: NonCanonicalEncodingError:")
    debug = _zkhealth("--debug", *args)
    assert debug.returncode != EXIT_OK
    assert "Traceback (most recent call last)" in debug.stderr and "NonCanonicalEncodingError" in debug.stderr


def test_debug_reraises_in_process(tmp_path: Path) -> None:
    from zkhealth.errors import NonCanonicalEncodingError

    with pytest.raises(NonCanonicalEncodingError):
        CliRunner().invoke(main, ["--debug", "revoke", "--db", str(tmp_path / "r.sqlite"), "0x1"],
                           catch_exceptions=False)
