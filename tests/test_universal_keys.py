"""The pinned universal key set (zkhealth.eligibility.universal_keys): the shipped verifying key and manifest,
where the proving key lives, how it is installed and checked, and (slow) that the circuit is still the one the
keys were made for. The session fixture ``universal_key_file`` (tests/conftest.py) rebuilds the development set
and compares it byte for byte with the pinned hashes when no key is installed; tests/test_chain_universal.py
proves with it and has snarkjs verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkhealth.eligibility.universal import compile_universal_circuit
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
from zkhealth.eligibility.universal_program import UNIVERSAL_SHAPE
from zkhealth.errors import EncodingError, UniversalKeyMissingError, VerifyingKeyMismatchError
from zkhealth.groth16.keys import DEV_SETUP


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
