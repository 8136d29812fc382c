"""The pinned universal key set (zkhealth.eligibility.universal_keys): the shipped verifying key and manifest,
where the proving key lives, how it is installed and checked, and (slow) that the development key set rebuilds
to the pinned bytes and proves with the shipped shape."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import pytest
from records import TODAY, make_record_world, t2d_record

from zkhealth import groth16
from zkhealth.eligibility.program import compile_program
from zkhealth.eligibility.universal import compile_universal_circuit, universal_inputs
from zkhealth.eligibility.universal_keys import (
    DevelopmentKeyWarning,
    UniversalKeyManifest,
    default_proving_key_path,
    install_proving_key,
    load_proving_key,
    pinned_manifest,
    pinned_verifying_key,
    r1cs_sha256,
)
from zkhealth.eligibility.universal_program import UNIVERSAL_SHAPE, fit_program
from zkhealth.errors import EncodingError, UniversalKeyMissingError, VerifyingKeyMismatchError
from zkhealth.formats.snarkjs_json import dumps_snarkjs, proof_to_dict, verifying_key_to_dict
from zkhealth.groth16.keys import DEV_SETUP, ProvingKey


def test_manifest_pins_the_shipped_shape_and_key() -> None:
    manifest = pinned_manifest()
    assert manifest.shape == UNIVERSAL_SHAPE and manifest.circuit == "eligibility-universal"
    assert manifest.constraints + 7 <= 1 << 17 < 2 * (manifest.constraints + 7)  # a 2^17 domain
    assert manifest.is_development and manifest.provenance == DEV_SETUP and manifest.dev_seed
    with pytest.warns(DevelopmentKeyWarning):
        vk = pinned_verifying_key()
    assert vk.sha256() == manifest.verifying_key_sha256 and vk.n_public == 6
    assert UniversalKeyManifest.from_json(manifest.to_json()) == manifest


@pytest.mark.parametrize("change", [{"extra": 1}, {"version": 2}, {"provingKeySha256": "AB" * 32},
                                    {"constraints": 0}, {"shape": {"leafSlots": 1}}])
def test_manifest_is_parsed_strictly(change: dict[str, object]) -> None:
    data = json.loads(pinned_manifest().to_json())
    data.update(change)
    with pytest.raises(EncodingError):
        UniversalKeyManifest.from_json(json.dumps(data))


def test_proving_key_location_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ZKHEALTH_UNIVERSAL_KEY", raising=False)
    manifest = pinned_manifest()
    expected = tmp_path / "cache" / "zkhealth" / "universal" / manifest.verifying_key_sha256[:16] / "proving_key.zkhpk"
    assert default_proving_key_path() == expected
    with pytest.raises(UniversalKeyMissingError) as missing:
        load_proving_key()
    assert "universal-keys install" in str(missing.value) and "universal-keys build" in str(missing.value)
    forged = tmp_path / "forged.zkhpk"
    forged.write_bytes(b"zkpk" + bytes(100))
    with pytest.raises(VerifyingKeyMismatchError):
        install_proving_key(forged)
    assert not expected.exists()
    monkeypatch.setenv("ZKHEALTH_UNIVERSAL_KEY", str(forged))
    assert default_proving_key_path() == forged
    with pytest.raises(VerifyingKeyMismatchError):
        load_proving_key()


# --------------------------------------------------------------------------- the shipped shape (slow)


@pytest.mark.slow
def test_the_circuit_is_the_one_the_keys_were_made_for() -> None:
    """A change to any gadget of the universal circuit changes its R1CS: the pinned keys no longer belong to it
    and a new key set (a new ceremony) is needed."""
    manifest = pinned_manifest()
    assert compile_universal_circuit().r1cs.n_constraints == manifest.constraints
    assert r1cs_sha256() == manifest.r1cs_sha256


@pytest.fixture(scope="module")
def shipped_key(universal_key_file: Path) -> ProvingKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        return load_proving_key(universal_key_file)


@pytest.mark.slow
@pytest.mark.prove
@pytest.mark.external
def test_a_shipped_shape_proof_verifies_in_python_and_snarkjs(shipped_key: ProvingKey, snarkjs_cli: Path,
                                                             tmp_path: Path) -> None:
    world = make_record_world()
    holder = world.issue("t2d", t2d_record())
    universal = fit_program(compile_program("diagnosis in E11.* and age >= 18 and latest(hba1c) >= 7"))
    compiled = compile_universal_circuit()
    credential = holder.issued.credential
    values = universal_inputs(universal, credential, holder.issued.signature, holder_secret=holder.holder_secret,
                              today=TODAY, recipient=0xBEEF, scope=4242,
                              issuer=world.trusted.membership(world.issuer.public_key),
                              revocation=world.revocation.non_membership_proof(credential.credential_id))
    witness = compiled.solve_witness(values)
    proof = groth16.prove(shipped_key, witness, r1cs=compiled.r1cs)
    public = compiled.public_signals(witness)
    with pytest.warns(DevelopmentKeyWarning):
        vk = pinned_verifying_key()
    groth16.verify(vk, public, proof, pinned_sha256=pinned_manifest().verifying_key_sha256)
    (tmp_path / "vk.json").write_text(dumps_snarkjs(verifying_key_to_dict(vk)))
    (tmp_path / "proof.json").write_text(json.dumps(proof_to_dict(proof)))
    (tmp_path / "public.json").write_text(json.dumps([str(v) for v in public]))
    result = subprocess.run([str(snarkjs_cli), "groth16", "verify", str(tmp_path / "vk.json"),
                             str(tmp_path / "public.json"), str(tmp_path / "proof.json")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
