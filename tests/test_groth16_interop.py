"""Groth16 interop with snarkjs 0.7.6: its vectors verify with us, our proofs verify with it, its ``.zkey``
proves with our prover; and the ``zkhealth groth16`` / ``zkey`` commands."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from groth16_circuits import chain_r1cs, chain_witness

from zkhealth.cli import main
from zkhealth.cli.groth16 import groth16_group, zkey_group
from zkhealth.errors import (
    InvalidProofError,
    NonCanonicalEncodingError,
    PointAtInfinityError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats import (
    load_proof,
    load_public,
    load_verifying_key,
    parse_proof,
    read_wtns,
    read_zkey,
    write_proof,
    write_public,
    write_r1cs,
    write_verifying_key,
    write_wtns,
)
from zkhealth.groth16 import prove, public_signals, setup, verify

pytestmark = pytest.mark.prove

VECTORS = Path(__file__).parent / "vectors" / "snarkjs"


@pytest.fixture(scope="module")
def snarkjs_vectors() -> tuple[object, list[int], object, dict[str, object]]:
    vk = load_verifying_key(VECTORS / "verification_key.json")
    public = load_public(VECTORS / "public.json")
    proof = load_proof(VECTORS / "proof.json")
    raw = json.loads((VECTORS / "proof.json").read_text())
    return vk, public, proof, raw


def test_snarkjs_vector_verifies(snarkjs_vectors: tuple[object, ...]) -> None:
    vk, public, proof, _ = snarkjs_vectors
    verify(vk, public, proof)  # type: ignore[arg-type]


@pytest.mark.parametrize("delta", [FIELD_R, 2 * FIELD_R])
def test_snarkjs_vector_input_aliasing(snarkjs_vectors: tuple[object, ...], delta: int) -> None:
    vk, public, proof, _ = snarkjs_vectors
    for bad in (public[0] + delta, 2**256 - 1, -1):  # type: ignore[index]
        with pytest.raises(PublicInputOutOfRangeError) as info:
            verify(vk, [bad, *public[1:]], proof)  # type: ignore[arg-type, index]
        assert info.value.index == 0


def test_snarkjs_vector_counts_and_order(snarkjs_vectors: tuple[object, ...]) -> None:
    vk, public, proof, _ = snarkjs_vectors
    n = len(public)  # type: ignore[arg-type]
    for values in (public[:-1], [*public, 0], []):  # type: ignore[index]
        with pytest.raises(PublicInputCountError) as info:
            verify(vk, values, proof)  # type: ignore[arg-type]
        assert info.value.expected == n
    swapped = list(public)  # type: ignore[call-overload]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    with pytest.raises(InvalidProofError):
        verify(vk, swapped, proof)  # type: ignore[arg-type]


def test_snarkjs_vector_tampered_points(snarkjs_vectors: tuple[object, ...]) -> None:
    vk, public, _, raw = snarkjs_vectors

    def tampered(key: str, value: object) -> object:
        obj = json.loads(json.dumps(raw))
        obj[key] = value
        return parse_proof(json.dumps(obj))

    a = raw["pi_a"]  # type: ignore[index]
    with pytest.raises(PointNotOnCurveError):
        verify(vk, public, tampered("pi_a", ["1", "3", "1"]))  # type: ignore[arg-type]
    with pytest.raises(PointAtInfinityError):
        verify(vk, public, tampered("pi_a", ["0", "0", "1"]))  # type: ignore[arg-type]
    with pytest.raises(PointAtInfinityError):
        verify(vk, public, tampered("pi_c", ["0", "1", "0"]))  # type: ignore[arg-type]
    with pytest.raises(NonCanonicalEncodingError):
        tampered("pi_a", [str(int(a[0]) + FIELD_Q), a[1], "1"])  # type: ignore[index]
    with pytest.raises(InvalidProofError):
        verify(vk, public, tampered("pi_c", raw["pi_a"]))  # type: ignore[arg-type, index]


# --------------------------------------------------------------------------- the command line


def _run(group: click.Group, args: list[str]) -> tuple[int, str, str]:
    """``zkhealth GROUP ARGS...``: through the main command, which maps errors to exit codes."""
    assert group.name is not None
    result = CliRunner().invoke(main, [group.name, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    write_r1cs(chain_r1cs(8), folder / "chain.r1cs")
    write_wtns(chain_witness(8, 3), folder / "chain.wtns")
    code, _, err = _run(
        groth16_group,
        ["setup", str(folder / "chain.r1cs"), str(folder / "chain.zkhpk"), "--quiet",
         "--verification-key", str(folder / "vk_setup.json")],
    )
    assert code == 0, err
    code, _, err = _run(zkey_group, ["export", "verificationkey", str(folder / "chain.zkhpk"), str(folder / "vk.json")])
    assert code == 0, err
    code, _, err = _run(
        groth16_group,
        ["prove", str(folder / "chain.zkhpk"), str(folder / "chain.wtns"), str(folder / "proof.json"),
         str(folder / "public.json"), "--workers", "1"],
    )
    assert code == 0, err
    return folder


def test_cli_verify_exit_codes(cli_files: Path) -> None:
    f = cli_files
    assert (f / "vk.json").read_text() == (f / "vk_setup.json").read_text()
    ok = [str(f / "vk.json"), str(f / "public.json"), str(f / "proof.json")]
    assert _run(groth16_group, ["verify", *ok])[0] == 0
    code, _, err = _run(groth16_group, ["verify", "--require-production", *ok])
    assert code == 3 and err.count("\n") == 1 and "DevSetupKeyError" in err

    public = json.loads((f / "public.json").read_text())
    (f / "public_wrong.json").write_text(json.dumps([public[0], str((int(public[1]) + 1) % FIELD_R)]))
    code, _, err = _run(
        groth16_group, ["verify", str(f / "vk.json"), str(f / "public_wrong.json"), str(f / "proof.json")]
    )
    assert code == 1 and "InvalidProofError" in err

    (f / "public_big.json").write_text(json.dumps([public[0], str(int(public[1]) + FIELD_R)]))
    (f / "public_bad.json").write_text('["1", "1", }')
    (f / "public_nan.json").write_text("[NaN, 1]")
    for name in ("public_big.json", "public_bad.json", "public_nan.json"):
        code, out, err = _run(groth16_group, ["verify", str(f / "vk.json"), str(f / name), str(f / "proof.json")])
        assert code == 2, (name, err)
        assert err.count("\n") == 1 and err.startswith("error: ")
        assert "Traceback" not in err + out
    code, _, err = _run(
        groth16_group, ["verify", str(f / "missing.json"), str(f / "public.json"), str(f / "proof.json")]
    )
    assert code == 2 and err.count("\n") == 1


def test_cli_export_matches_snarkjs_for_their_zkey(shared_anchor_dir: Path, tmp_path: Path) -> None:
    code, _, err = _run(
        zkey_group,
        ["export", "verificationkey", str(shared_anchor_dir / "eligibility_final.zkey"), str(tmp_path / "vk.json")],
    )
    assert code == 0, err
    assert (tmp_path / "vk.json").read_text() == (shared_anchor_dir / "verification_key.json").read_text()


# --------------------------------------------------------------------------- snarkjs accepts our proofs


def _snarkjs_verify(snarkjs_cli: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(snarkjs_cli), "groth16", "verify", str(folder / "vk.json"), str(folder / "public.json"),
         str(folder / "proof.json")],
        capture_output=True, text=True, timeout=180,
    )


@pytest.mark.external
def test_snarkjs_verifies_our_proof(cli_files: Path, snarkjs_cli: Path, tmp_path: Path) -> None:
    result = _snarkjs_verify(snarkjs_cli, cli_files)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
    # and refuses it for other public signals
    for name in ("vk.json", "proof.json"):
        (tmp_path / name).write_text((cli_files / name).read_text())
    public = json.loads((cli_files / "public.json").read_text())
    public[1] = str(int(public[1]) + 1)
    (tmp_path / "public.json").write_text(json.dumps(public))
    assert _snarkjs_verify(snarkjs_cli, tmp_path).returncode != 0


@pytest.mark.external
@pytest.mark.slow
def test_anchor_their_zkey_our_prover(shared_anchor_dir: Path, snarkjs_cli: Path, tmp_path: Path) -> None:
    pk = read_zkey(shared_anchor_dir / "eligibility_final.zkey")
    witness = read_wtns(shared_anchor_dir / "witness.wtns")
    proof = prove(pk, witness)
    vk = load_verifying_key(shared_anchor_dir / "verification_key.json")
    public = public_signals(pk, witness)
    verify(vk, public, proof)
    write_proof(proof, tmp_path / "proof.json")
    write_public(public, tmp_path / "public.json")
    write_verifying_key(vk, tmp_path / "vk.json")
    result = _snarkjs_verify(snarkjs_cli, tmp_path)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr


@pytest.mark.external
def test_snarkjs_verifies_small_setup(tmp_path: Path, snarkjs_cli: Path) -> None:
    r1cs = chain_r1cs(3)
    pk, vk = setup(r1cs)
    witness = chain_witness(3, 2)
    write_proof(prove(pk, witness), tmp_path / "proof.json")
    write_public(public_signals(pk, witness), tmp_path / "public.json")
    write_verifying_key(vk, tmp_path / "vk.json")
    result = _snarkjs_verify(snarkjs_cli, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
