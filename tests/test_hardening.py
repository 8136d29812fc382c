"""Issue 19: every bad input gets a clear error, no fault loses data, and the command keeps its promises.

One section per class of the issue: the input boundary (limits checked before allocating, typed errors that
name the file), the integrity of stored state (checksums, atomic writes, a full disk), concurrency (wallets
and revocation databases shared by processes), semantic checks (future dates, criteria that can never or
always hold) and the command line (JSON error objects on every verb, one-line usage errors).
"""

from __future__ import annotations

import datetime as _dt
import datetime as dt
import errno
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from zkhealth import errors
from zkhealth.cli import EXIT_ERROR, EXIT_MALFORMED, EXIT_OK, EXIT_REFUSED, main
from zkhealth.field import FIELD_R

OPERATOR = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

pytestmark = pytest.mark.native

ROOT = Path(__file__).resolve().parent.parent
FHIR = ROOT / "tests" / "fhir"
PASSPHRASE = "correct horse battery staple"
ENV = {"ZKHEALTH_PASSPHRASE": PASSPHRASE}


def invoke(args: list[str], *, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=ENV if env is None else env, catch_exceptions=False)


def one_line_error(result: Result, code: int, name: str) -> str:
    """The error line of a failed command, after checking the exit code, the class and that it is alone."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith(f"error: {name}: "), result.stderr
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert "Traceback" not in result.output and "(unexpected" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def issuer_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "issuer.key"
    assert invoke(["keygen", "--out", str(path), "--kdf", "interactive"]).exit_code == EXIT_OK
    return path


def _bundle(**changes: str) -> dict[str, Any]:
    bundle = json.loads((FHIR / "t2d_adult.json").read_text())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for key, value in changes.items():
            kind, _, member = key.partition("__")
            if resource["resourceType"] == kind:
                resource[member] = value
    return bundle


# --------------------------------------------------------------------------- 1. the input boundary


def test_deeply_nested_fhir_bundle_is_malformed_input(issuer_key: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "deep.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [' + "[" * 5000 + "]" * 5000 + "]}")
    for schema in ("1", "2"):
        result = invoke(["issue", "--schema", schema, "--fhir", str(bundle), "--key", str(issuer_key),
                         "--holder-commitment", "1", "--out", str(tmp_path / "c.json")])
        line = one_line_error(result, EXIT_MALFORMED, "MalformedFhirError")
        assert str(bundle) in line and "nested deeper" in line
    assert not (tmp_path / "c.json").exists()


def test_deeply_nested_bundle_object_is_refused_without_recursion() -> None:
    from zkhealth.credentials.fhir import claims_from_bundle

    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(errors.MalformedFhirError):
        claims_from_bundle({"resourceType": "Bundle", "type": "collection", "entry": value})


@pytest.mark.parametrize("document", ["not json", "[]", '{"resourceType": "Patient"}',
                                      '{"resourceType": "Bundle", "entry": 5}'])
def test_malformed_fhir_exits_2_and_unsupported_fhir_exits_1(issuer_key: Path, tmp_path: Path, document: str) -> None:
    bundle = tmp_path / "bad.json"
    bundle.write_text(document)
    args = ["--key", str(issuer_key), "--holder-commitment", "1", "--out", str(tmp_path / "c.json")]
    for schema in ("1", "2"):
        line = one_line_error(invoke(["issue", "--schema", schema, "--fhir", str(bundle), *args]), EXIT_MALFORMED,
                              "MalformedFhirError")
        assert bundle.name in line, line
    line = one_line_error(invoke(["issue", "--schema", "1", "--fhir", str(FHIR / "unsupported_unit.json"), *args]),
                          EXIT_REFUSED, "FhirImportError")
    assert "unsupported unit 'mmol/mol'" in line, line
    assert not (tmp_path / "c.json").exists()


def test_deeply_nested_registry_file(tmp_path: Path) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text('{"format": "zkhealth.issuer-registry", "issuers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    line = one_line_error(invoke(["registry", "list", "--registry", str(registry)]), EXIT_MALFORMED, "EncodingError")
    assert str(registry) in line


@pytest.mark.parametrize("text", [
    "(" * 5000 + "age >= 18" + ")" * 5000,
    "not " * 5000 + "age >= 18",
    "(not " * 40 + "age >= 18" + ")" * 40,
    " or ".join(["age >= 18"] * 1000),
    "age >= " + "9" * 5000,
    "diagnosed_within(E11, " + "9" * 5000 + " days)",
])
def test_criteria_beyond_the_limits_are_syntax_errors(text: str, tmp_path: Path) -> None:
    result = invoke(["trial", "new", "--criteria", text, "--trial-id", "T", "--operator", OPERATOR,
                     "--out", str(tmp_path / "t.json")])
    one_line_error(result, EXIT_MALFORMED, "CriteriaSyntaxError")
    assert not (tmp_path / "t.json").exists()


def test_criteria_nesting_limit_is_explicit_and_independent_of_the_recursion_limit() -> None:
    from zkhealth.eligibility.criteria import MAX_NESTING, parse_criteria

    parse_criteria("(" * MAX_NESTING + "age >= 18" + ")" * MAX_NESTING)
    with pytest.raises(errors.CriteriaSyntaxError) as caught:
        parse_criteria("(" * (MAX_NESTING + 1) + "age >= 18" + ")" * (MAX_NESTING + 1))
    assert caught.value.column == MAX_NESTING + 1
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(120)
    try:
        with pytest.raises(errors.CriteriaSyntaxError):
            parse_criteria("not " * 10_000 + "age >= 18")
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("verb", [
    ["revoke", "--db", "{missing}/revocations.sqlite", "5"],
    ["registry", "add", "--registry", "{missing}/registry.json", "--public-key", "1", "2"],
    ["keygen", "--out", "{missing}/issuer.key", "--kdf", "interactive"],
    ["compile", str(ROOT / "circuits" / "examples" / "cubic.py") + ":cubic", "--out", "{file}/build"],
    ["samples", "{file}/samples"],
])
def test_an_output_in_a_missing_directory_is_one_line(verb: list[str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    args = [part.format(missing=tmp_path / "missing" / "deeper", file=tmp_path / "file") for part in verb]
    result = invoke(args)
    assert result.exit_code in (EXIT_MALFORMED, EXIT_REFUSED), result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert "(unexpected" not in result.stderr


def test_revoke_in_a_missing_directory(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "revocations.sqlite"
    line = one_line_error(invoke(["revoke", "--db", str(target), "5"]), EXIT_MALFORMED, "FileAccessError")
    assert str(target) in line
    assert not (tmp_path / "nope").exists()


def test_binary_headers_that_claim_huge_counts_do_not_allocate() -> None:
    """A .wtns, .r1cs or .zkhpk header announcing 2^32 - 1 entries is refused from the section sizes."""
    import tracemalloc

    from groth16_circuits import chain_r1cs, chain_witness

    from zkhealth.formats.r1cs_file import parse_r1cs, r1cs_to_bytes
    from zkhealth.formats.wtns_file import parse_wtns, wtns_to_bytes

    witness = bytearray(wtns_to_bytes(chain_witness(2, 3)))
    n_witness_at = 12 + 12 + 4 + 32  # container header, section header, n8, prime
    witness[n_witness_at : n_witness_at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    r1cs = bytearray(r1cs_to_bytes(chain_r1cs(2)))
    at = r1cs.index((32).to_bytes(4, "little") + FIELD_R.to_bytes(32, "little"))
    r1cs[at + 36 + 4 * 4 + 8 : at + 36 + 4 * 4 + 12] = (0xFFFFFFFF).to_bytes(4, "little")  # mConstraints
    tracemalloc.start()
    try:
        with pytest.raises(errors.R1csFormatError):
            parse_wtns(bytes(witness))
        with pytest.raises(errors.R1csFormatError):
            parse_r1cs(bytes(r1cs))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    import tracemalloc

    from zkhealth.credentials.trees import IssuerRegistry
    from zkhealth.formats.r1cs_file import read_r1cs

    big = tmp_path / "big"
    with big.open("wb") as handle:
        handle.truncate(5 << 30)  # sparse: 5 GiB that cost no disk
    tracemalloc.start()
    try:
        with pytest.raises(errors.EncodingError, match="limit"):
            IssuerRegistry.load(big)
        with pytest.raises(errors.R1csFormatError, match="limit"):
            read_r1cs(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_paths_of_the_wrong_type_are_refused_not_opened() -> None:
    """``open(1)`` would read (and close) stdout's descriptor: an int is never taken for a path."""
    from zkhealth.credentials.wallet import Wallet
    from zkhealth.formats.r1cs_file import read_r1cs

    for reader in (lambda: read_r1cs(1), lambda: Wallet.open(0, "x")):  # type: ignore[arg-type]
        with pytest.raises(errors.ArgumentTypeError):
            reader()
    os.fstat(1)  # still open


def test_errors_name_the_file_and_the_place(tmp_path: Path) -> None:
    from zkhealth.formats.snarkjs_json import load_proof

    target = tmp_path / "proof.json"
    target.write_text('{"pi_a": ["1", "2", "1"], "pi_b": 5, "pi_c": ["1", "2", "1"]}')
    with pytest.raises(errors.MalformedProofError) as caught:
        load_proof(target)
    assert str(caught.value).startswith(f"{target}: ") and "pi_b" in str(caught.value)


# --------------------------------------------------------------------------- 2. integrity of stored state


def _damage(source: Path, target: Path, statement: str) -> None:
    shutil.copyfile(source, target)
    connection = sqlite3.connect(target)
    connection.execute(statement)
    connection.commit()
    connection.close()


@pytest.fixture()
def revocations(tmp_path: Path) -> Path:
    from zkhealth.credentials.trees import RevocationTree

    path = tmp_path / "revocations.sqlite"
    with RevocationTree(path) as tree:
        tree.revoke_many([5, 10, 7, 99, 1234])
    return path


@pytest.mark.parametrize("statement", [
    "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0",
    "UPDATE nodes SET hash = zeroblob(32) WHERE level = 16",
    "UPDATE leaves SET next_value = zeroblob(16) WHERE idx = 2",
    "DELETE FROM leaves WHERE idx = 3",
    "UPDATE roots SET root = '5' WHERE seq = (SELECT MAX(seq) FROM roots)",
    "UPDATE meta SET value = '00' WHERE key = 'checksum'",
    "UPDATE meta SET value = '99' WHERE key = 'depth'",
])
def test_a_corrupted_revocation_database_serves_no_root(revocations: Path, tmp_path: Path, statement: str) -> None:
    from zkhealth.credentials.trees import RevocationTree

    damaged = tmp_path / "damaged.sqlite"
    _damage(revocations, damaged, statement)
    with pytest.raises(errors.CorruptDatabaseError):
        RevocationTree(damaged)
    line = one_line_error(invoke(["revoke", "--db", str(damaged)]), EXIT_MALFORMED, "CorruptDatabaseError")
    assert str(damaged) in line


def test_garbage_and_truncated_databases(revocations: Path, tmp_path: Path) -> None:
    from zkhealth.credentials.trees import RevocationTree

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"SQLite format 3\0" + os.urandom(4000))
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(revocations.read_bytes()[:6000])
    for path in (garbage, truncated):
        with pytest.raises(errors.CorruptDatabaseError):
            RevocationTree(path).root  # noqa: B018


def test_a_node_damaged_consistently_is_caught_when_serving_a_proof(revocations: Path, tmp_path: Path) -> None:
    """An edit that also rewrites the checksum (no random corruption does) still cannot slip a wrong
    proof out: every proof is checked against the root first, and verify(full=True) recomputes it all."""
    from zkhealth.credentials.trees import RevocationTree, _node_row_hash

    damaged = tmp_path / "damaged.sqlite"
    shutil.copyfile(revocations, damaged)
    connection = sqlite3.connect(damaged)
    # Leaf 2 (the id 10) is a sibling on the path of leaf 1 (the id 5, the low leaf of 6).
    old = connection.execute("SELECT hash FROM nodes WHERE level = 0 AND idx = 2").fetchone()[0]
    checksum = int(connection.execute("SELECT value FROM meta WHERE key = 'checksum'").fetchone()[0], 16)
    checksum = (checksum - _node_row_hash(0, 2, old) + _node_row_hash(0, 2, bytes(32))) % (1 << 256)
    connection.execute("UPDATE nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 2")
    connection.execute("UPDATE meta SET value = ? WHERE key = 'checksum'", (f"{checksum:064x}",))
    connection.commit()
    connection.close()
    with RevocationTree(damaged) as tree:
        with pytest.raises(errors.CorruptDatabaseError):
            tree.non_membership_proof(6)
        with pytest.raises(errors.CorruptDatabaseError):
            tree.verify(full=True)
    assert one_line_error(invoke(["revoke", "--db", str(damaged), "--verify"]), EXIT_MALFORMED, "CorruptDatabaseError")


def test_a_database_written_before_checksums_is_verified_once_and_upgraded(revocations: Path, tmp_path: Path) -> None:
    from zkhealth.credentials.trees import RevocationTree

    legacy = tmp_path / "legacy.sqlite"
    _damage(revocations, legacy, "DELETE FROM meta WHERE key = 'checksum'")
    with RevocationTree(revocations) as tree:
        root = tree.root
    with RevocationTree(legacy) as tree:
        assert tree.root == root
    connection = sqlite3.connect(legacy)
    assert connection.execute("SELECT value FROM meta WHERE key = 'checksum'").fetchone() is not None
    connection.close()
    tampered = tmp_path / "tampered.sqlite"
    shutil.copyfile(revocations, tampered)
    connection = sqlite3.connect(tampered)
    connection.execute("DELETE FROM meta WHERE key = 'checksum'")
    connection.execute("UPDATE nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0")
    connection.commit()
    connection.close()
    with pytest.raises(errors.CorruptDatabaseError):
        RevocationTree(tampered)


def test_wallet_and_key_files_carry_an_authentication_tag(tmp_path: Path, issuer_key: Path) -> None:
    from zkhealth.credentials.keyfile import load_issuer
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet

    wallet = Wallet.create(tmp_path / "w.zkw", "pass", kdf=KDF_FLOOR)
    data = bytearray((tmp_path / "w.zkw").read_bytes())
    data[-20] ^= 1
    (tmp_path / "w.zkw").write_bytes(bytes(data))
    with pytest.raises(errors.WalletDecryptionError):
        Wallet.open(wallet.path, "pass")
    document = json.loads(issuer_key.read_text())
    document["ciphertext"] = document["ciphertext"][:-4] + ("AAAA" if document["ciphertext"][-4:] != "AAAA" else "BBBB")
    damaged = tmp_path / "damaged.key"
    damaged.write_text(json.dumps(document))
    with pytest.raises((errors.WalletDecryptionError, errors.EncodingError)):
        load_issuer(damaged, PASSPHRASE)


def test_atomic_write_leaves_the_old_file_on_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zkhealth import _fileio

    target = tmp_path / "key.zkhpk"
    target.write_bytes(b"old key")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_fileio.os, "fsync", full_disk)
    with pytest.raises(errors.StorageError) as caught:
        _fileio.atomic_write(target, b"new key" * 1000)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == b"old key"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["key.zkhpk"]


_FULL_DISK_SCRIPT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from zkhealth.cli import run
sys.exit(run(sys.argv[2:]))
"""


def test_setup_on_a_full_disk_leaves_no_truncated_key(tmp_path: Path) -> None:
    """A file-size limit stands in for a full disk: the proving key cannot be written whole. The command
    exits 3 (StorageError, naming the file), and the old key file is intact and loads."""
    from groth16_circuits import chain_r1cs

    from zkhealth.formats.r1cs_file import write_r1cs
    from zkhealth.formats.zkhpk_file import load_proving_key

    write_r1cs(chain_r1cs(40), tmp_path / "c.r1cs")
    key = tmp_path / "c.zkhpk"
    assert invoke(["groth16", "setup", str(tmp_path / "c.r1cs"), str(key), "--quiet"]).exit_code == EXIT_OK
    old = key.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    completed = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_SCRIPT, str(len(old) // 2), "groth16", "setup", str(tmp_path / "c.r1cs"),
         str(key), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert completed.returncode == EXIT_ERROR, completed.stderr
    assert completed.stderr.startswith("error: StorageError: ") and str(key) in completed.stderr
    assert key.read_bytes() == old
    load_proving_key(key)
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_an_interrupted_keys_save_loads_as_the_old_or_the_new_keys(tmp_path: Path) -> None:
    from groth16_circuits import chain_r1cs

    from zkhealth.eligibility.trial import TrialKeys, _promote, _staged
    from zkhealth.formats.snarkjs_json import write_verifying_key
    from zkhealth.formats.zkhpk_file import save_proving_key
    from zkhealth.groth16.generator import setup

    old = TrialKeys(*setup(chain_r1cs(3)), "a" * 64, "b" * 64)
    new = TrialKeys(*setup(chain_r1cs(3)), "a" * 64, "b" * 64)
    directory = tmp_path / "keys"
    old.save(directory)
    # Killed after staging both files: the manifest still pins the old keys.
    save_proving_key(new.pk, directory / _staged("proving_key.zkhpk"))
    write_verifying_key(new.vk, directory / _staged("verification_key.json"))
    assert TrialKeys.load(directory).vk_sha256 == old.vk_sha256
    # Killed after the manifest and one rename: the new keys, completed from the staged file.
    new.save(directory)
    old_layout = tmp_path / "mixed"
    shutil.copytree(directory, old_layout)
    save_proving_key(old.pk, old_layout / "proving_key.zkhpk")
    save_proving_key(new.pk, old_layout / _staged("proving_key.zkhpk"))
    loaded = TrialKeys.load(old_layout)
    assert loaded.vk_sha256 == new.vk_sha256 and loaded.pk.vk.sha256() == new.vk_sha256
    assert not (old_layout / _staged("proving_key.zkhpk")).exists()  # the load completed the rename
    with pytest.raises(errors.FileAccessError):
        _promote(old_layout, "proving_key.zkhpk")


# --------------------------------------------------------------------------- 3. concurrency


def _import_credentials(wallet: str, documents: list[str], start: Any) -> None:
    from zkhealth.credentials.wallet import Wallet

    start.wait()
    for document in documents:
        with Wallet.update(wallet, "pass") as opened:
            opened.add_credential(document, today=_WALLET_DAY)


_WALLET_DAY = 20_500


def _credentials_for(wallet: Any, count: int) -> list[str]:
    """``count`` real credentials issued to ``wallet``'s holder commitment (the wallet verifies what it stores)."""
    from zkhealth.credentials.credential import HealthClaims, subject_commitment
    from zkhealth.credentials.issuer import Issuer

    commitment = subject_commitment(wallet.holder_secret)
    issuer = Issuer.generate()
    claims = HealthClaims(birth_date=dt.date(1970, 1, 1))
    return [json.dumps(issuer.issue(claims, subject_commitment=commitment, issued_at=_WALLET_DAY - 1,
                                    expires_at=_WALLET_DAY + 30).document) for _ in range(count)]


def test_two_processes_saving_one_wallet_lose_nothing(tmp_path: Path) -> None:
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet

    path = tmp_path / "w.zkw"
    documents = _credentials_for(Wallet.create(path, "pass", kdf=KDF_FLOOR), 12)
    batches = [documents[0:4], documents[4:8], documents[8:12]]
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_import_credentials, args=(str(path), batch, start)) for batch in batches]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    stored = {document["id"] for document in Wallet.open(path, "pass").credentials}
    assert stored == {json.loads(d)["id"] for batch in batches for d in batch}


def test_a_stale_wallet_refuses_to_overwrite_a_newer_file(tmp_path: Path) -> None:
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet

    path = tmp_path / "w.zkw"
    Wallet.create(path, "pass", kdf=KDF_FLOOR)
    first, second = Wallet.open(path, "pass"), Wallet.open(path, "pass")
    one, two, three = _credentials_for(first, 3)
    first.add_credential(one, today=_WALLET_DAY)
    first.save()
    second.add_credential(two, today=_WALLET_DAY)
    with pytest.raises(errors.WalletConflictError):
        second.save()
    assert [d["id"] for d in Wallet.open(path, "pass").credentials] == [json.loads(one)["id"]]
    first.add_credential(three, today=_WALLET_DAY)
    first.save()  # the wallet that wrote last may write again


def _revoke_range(path: str, ids: list[int], start: Any) -> None:
    from zkhealth.credentials.trees import RevocationTree

    start.wait()
    with RevocationTree(path) as tree:
        for credential_id in ids:
            tree.revoke(credential_id)


def test_two_processes_revoking_in_one_database_lose_nothing(tmp_path: Path) -> None:
    from zkhealth.credentials.trees import RevocationTree

    path = tmp_path / "revocations.sqlite"
    RevocationTree(path).close()
    batches = [list(range(1000 + 100 * p, 1000 + 100 * p + 12)) for p in range(3)]
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_revoke_range, args=(str(path), batch, start)) for batch in batches]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(300)
        assert worker.exitcode == 0
    with RevocationTree(path) as tree:
        assert tree.revoked_ids() == sorted(i for batch in batches for i in batch)
        tree.verify(full=True)
        assert len(tree.roots(1000)) == 1 + sum(len(batch) for batch in batches)


def test_a_database_locked_too_long_is_a_typed_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zkhealth.credentials import trees

    path = tmp_path / "revocations.sqlite"
    trees.RevocationTree(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(trees, "BUSY_TIMEOUT_SECONDS", 0.2)
    try:
        with trees.RevocationTree(path) as tree, pytest.raises(errors.ResourceBusyError):
            tree.revoke(5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --------------------------------------------------------------------------- 4. semantic checks


@pytest.mark.parametrize(("schema", "changes"), [
    ("1", {"Patient__birthDate": "2999-01-01"}),
    ("1", {"Condition__onsetDateTime": "2999-03-04"}),
    ("1", {"Observation__effectiveDateTime": "2999-01-10"}),
    ("2", {"Patient__birthDate": "2999-01-01"}),
])
def test_future_dates_are_refused_at_issuance(
    issuer_key: Path, tmp_path: Path, schema: str, changes: dict[str, str]
) -> None:
    """Version 2 imports list a clinical entry dated after the record's as-of day and leave it out (see
    test_ehr_import.py); a birth date in the future is refused at issuance, as every future date is in v1."""
    bundle = tmp_path / "future.json"
    bundle.write_text(json.dumps(_bundle(**changes)))
    args = ["issue", "--schema", schema, "--fhir", str(bundle), "--key", str(issuer_key), "--holder-commitment",
            "1", "--out", str(tmp_path / "c.json")]
    one_line_error(invoke(args), EXIT_REFUSED, "FutureDateError")
    assert not (tmp_path / "c.json").exists()
    if schema == "1":  # a version 2 record dated ahead of its issuance is refused by the schema itself
        assert invoke([*args, "--allow-future-dates"]).exit_code == EXIT_OK


def test_tomorrow_is_the_future_and_today_is_not() -> None:
    from zkhealth.credentials.credential import HealthClaims
    from zkhealth.credentials.dates import epoch_day_to_date, today_epoch_day
    from zkhealth.credentials.issuer import Issuer

    issuer = Issuer.generate()
    today = epoch_day_to_date(today_epoch_day())
    issuer.issue(HealthClaims(birth_date=today), subject_commitment=1)
    with pytest.raises(errors.FutureDateError):
        issuer.issue(HealthClaims(birth_date=today + _dt.timedelta(days=1)), subject_commitment=1)
    issuer.issue(HealthClaims(birth_date=today + _dt.timedelta(days=1)), subject_commitment=1, allow_future_dates=True)


@pytest.mark.parametrize(("criteria", "kind", "named"), [
    ("age >= 18 and age < 10", "never", ["age >= 18", "age < 10"]),
    ("diagnosis in E11.* and age >= 18 and hba1c >= 7 and hba1c < 6.5", "never", ["hba1c >= 7", "hba1c < 6.5"]),
    ("diagnosis in E11.9 and not diagnosis in E11.*", "never", ["diagnosis in E11.9", "not diagnosis in E11.*"]),
    ("gender = male and sex = female", "never", ["gender = male", "sex = female"]),
    # (`hba1c < 7 or not hba1c < 7` is no longer "always": an absent value satisfies neither, docs/eligibility.md)
    ("age >= 18 or age < 18", "always", ["age >= 18", "age < 18"]),
])
def test_criteria_that_never_or_always_hold_get_a_warning_naming_the_clauses(
    criteria: str, kind: str, named: list[str], tmp_path: Path
) -> None:
    result = invoke(["--json", "trial", "new", "--criteria", criteria, "--trial-id", "T", "--operator", OPERATOR,
                     "--dedicated", "--out", str(tmp_path / "t.json")])
    assert result.exit_code == EXIT_OK
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1
    assert ("never be met" if kind == "never" else "always hold") in warnings[0]
    assert all(f"`{clause}`" in warnings[0] for clause in named)
    assert result.stderr.startswith("warning: CriteriaWarning: ")


@pytest.mark.parametrize("criteria", [
    "diagnosis in E11.* and age >= 18", "hba1c < 7 or hba1c >= 7", "age >= 18 and not diagnosis in I10",
    "diagnosis in E11 and diagnosis in I10", "diagnosis in E11 within 5 years or not diagnosis in E11",
])
def test_sound_criteria_get_no_warning(criteria: str) -> None:
    from zkhealth.eligibility.analysis import analyze_program
    from zkhealth.eligibility.program import compile_program

    assert analyze_program(compile_program(criteria)) == []


def test_a_contradiction_inside_an_alternative_is_named_there() -> None:
    from zkhealth.eligibility.analysis import analyze_program
    from zkhealth.eligibility.program import compile_program

    (finding,) = analyze_program(compile_program("(age >= 18 and age < 10) or diagnosis in E11"))
    assert finding.kind == "never" and not finding.whole and finding.where == "age >= 18 and age < 10"


# --------------------------------------------------------------------------- 5. the command's promises


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out.extend(_commands(command, (*prefix, name)))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("verb", _commands(main), ids=" ".join)
def test_every_verb_gives_a_json_error_object_and_a_one_line_usage_error(verb: tuple[str, ...]) -> None:
    result = invoke(["--json", *verb, "--no-such-option"])
    assert result.exit_code == EXIT_MALFORMED
    payload = json.loads(result.stdout)
    assert payload["error"] == "UsageError" and payload["exit"] == EXIT_MALFORMED and payload["message"]
    assert payload["hint"] == f"run 'zkhealth {' '.join(verb)} --help' for its arguments and options"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: UsageError: ") and lines[1].startswith("hint: ")


def test_unknown_verbs_and_missing_arguments_are_one_line_plus_a_hint() -> None:
    for args in (["trial", "nw"], ["issue"], ["revoke", "--db"], ["wallet", "import"]):
        result = invoke(args)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == EXIT_MALFORMED and len(lines) == 2, result.stderr
        assert lines[0].startswith("error: UsageError: ") and lines[1].startswith("hint: run 'zkhealth")


def test_groth16_verbs_answer_in_json(tmp_path: Path) -> None:
    vectors = ROOT / "tests" / "vectors" / "snarkjs"
    ok = invoke(["--json", "groth16", "verify", str(vectors / "verification_key.json"), str(vectors / "public.json"),
                 str(vectors / "proof.json")])
    assert ok.exit_code in (EXIT_OK, EXIT_ERROR)
    assert json.loads(ok.stdout)["exit" if ok.exit_code else "valid"] in (True, EXIT_ERROR)
    (tmp_path / "proof.json").write_text("{")
    bad = invoke(["--json", "groth16", "verify", str(vectors / "verification_key.json"), str(vectors / "public.json"),
                  str(tmp_path / "proof.json")])
    payload = json.loads(bad.stdout)
    assert payload == {"error": "MalformedProofError", "exit": EXIT_MALFORMED, "message": payload["message"]}
    assert str(tmp_path / "proof.json") in payload["message"]
    missing = invoke(["--json", "zkey", "export", "verificationkey", str(tmp_path / "none.zkey"), "vk.json"])
    assert json.loads(missing.stdout)["error"] == "UsageError"


def test_an_unexpected_exception_is_still_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*args: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr("zkhealth.eligibility.spec.compile_program", broken)
    result = invoke(["--json", "trial", "new", "--criteria", "age >= 18", "--trial-id", "T", "--operator", OPERATOR,
                     "--dedicated", "--out", str(tmp_path / "t.json")])
    assert result.exit_code == EXIT_ERROR and "Traceback" not in result.output
    assert json.loads(result.stdout)["error"] == "KeyError"
    assert "rerun with --debug" in result.stderr


def test_samples_write_the_tour_inputs(tmp_path: Path) -> None:
    from zkhealth.credentials.fhir import claims_from_bundle

    assert invoke(["samples", str(tmp_path)]).exit_code == EXIT_OK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cubic.py", "t2d_adult.json", "t2d_minor.json"]
    assert (tmp_path / "cubic.py").read_text() == (ROOT / "circuits" / "examples" / "cubic.py").read_text()
    assert claims_from_bundle(tmp_path / "t2d_adult.json").diagnoses
    minor = claims_from_bundle(tmp_path / "t2d_minor.json")
    assert 14 <= (_dt.date.today() - minor.birth_date).days // 365 <= 15
    one_line_error(invoke(["samples", str(tmp_path)]), EXIT_MALFORMED, "FileAccessError")
    assert invoke(["samples", str(tmp_path), "--force"]).exit_code == EXIT_OK


def test_npm_locks_are_complete_and_installed_with_npm_ci() -> None:
    """`npm ci` needs every package the lock's dependencies can pull, anvil's per-platform binaries included;
    pinned installs use `npm ci` (which never rewrites the lock), in CI and in the docs."""
    for folder in ("verifier_contracts", "tests/js"):
        lock = json.loads((ROOT / folder / "package-lock.json").read_text())
        packages = lock["packages"]
        manifest = json.loads((ROOT / folder / "package.json").read_text())
        assert packages[""]["dependencies"] == manifest["dependencies"], folder
        for path, entry in packages.items():
            for name in {**entry.get("dependencies", {}), **entry.get("optionalDependencies", {})}:
                nested = f"{path}/node_modules/{name}" if path else f"node_modules/{name}"
                found = packages.get(nested) or packages.get(f"node_modules/{name}")
                assert found is not None and found.get("version") and found.get("integrity"), (folder, name)
    anvil = json.loads((ROOT / "verifier_contracts" / "package-lock.json").read_text())["packages"]
    platforms = [name for name in anvil if name.startswith("node_modules/@foundry-rs/anvil-")]
    assert len(platforms) >= 4, platforms
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "npm install" not in script.replace("# `npm install`", "")
    assert "npm ci --prefix verifier_contracts" in script and "npm ci --prefix tests/js" in script
    for page in (ROOT / "docs").glob("*.md"):
        assert "npm install --prefix" not in page.read_text(), page
