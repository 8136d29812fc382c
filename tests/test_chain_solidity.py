"""zkhealth.chain without an EVM: word layouts, EIP-197 order, scope, artifacts and their freshness."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from zkhealth.chain import build, solidity
from zkhealth.chain.client import decode_revert
from zkhealth.eligibility import trial_scope
from zkhealth.errors import (
    ArtifactStaleError,
    ChainError,
    ContractRevertError,
    EligibilityError,
    MalformedProofError,
    NonCanonicalEncodingError,
    NullifierAlreadyUsedError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats.snarkjs_json import proof_from_dict, verifying_key_from_dict
from zkhealth.groth16.keys import Proof, VerifyingKey

VECTORS = Path(__file__).parent / "vectors" / "snarkjs"


@pytest.fixture(scope="module")
def vk_json() -> dict[str, Any]:
    return json.loads((VECTORS / "verification_key.json").read_text())


@pytest.fixture(scope="module")
def proof_json() -> dict[str, Any]:
    return json.loads((VECTORS / "proof.json").read_text())


@pytest.fixture(scope="module")
def vk(vk_json: dict[str, Any]) -> VerifyingKey:
    return verifying_key_from_dict(vk_json)


@pytest.fixture(scope="module")
def proof(proof_json: dict[str, Any]) -> Proof:
    return proof_from_dict(proof_json)


def test_g2_to_eip197_puts_imaginary_first() -> None:
    assert solidity.g2_to_eip197(((1, 2), (3, 4))) == (2, 1, 4, 3)


def test_to_calldata_swaps_b_and_keeps_a_c(proof: Proof, proof_json: dict[str, list[list[str]]]) -> None:
    a, b, c = solidity.to_calldata(proof)
    pi_b = proof_json["pi_b"]
    assert a == (int(proof_json["pi_a"][0]), int(proof_json["pi_a"][1]))
    assert c == (int(proof_json["pi_c"][0]), int(proof_json["pi_c"][1]))
    assert b == ((int(pi_b[0][1]), int(pi_b[0][0])), (int(pi_b[1][1]), int(pi_b[1][0])))


@pytest.mark.parametrize("bad", [FIELD_Q, -1, 2**256, True])
def test_to_calldata_rejects_coordinates_outside_q(proof: Proof, bad: int) -> None:
    assert proof.a is not None
    with pytest.raises(MalformedProofError):
        solidity.to_calldata(dataclasses.replace(proof, a=(bad, proof.a[1])))


@pytest.mark.parametrize("bad", [str(FIELD_Q), "-1", "01", "1_0", " 1", 1.0, True])
def test_to_calldata_rejects_non_canonical_coordinates(proof_json: dict[str, list[object]], bad: object) -> None:
    """A snarkjs proof with a non-canonical or out-of-range coordinate never becomes a Proof, so never calldata."""
    mutated = json.loads(json.dumps(proof_json))
    mutated["pi_a"][0] = bad
    with pytest.raises((MalformedProofError, NonCanonicalEncodingError)):
        proof_from_dict(mutated)


def test_key_words_layout(vk: VerifyingKey, vk_json: dict[str, list[list[str]]]) -> None:
    words = solidity.key_words(vk)
    assert len(words) == 14 + 2 * len(vk_json["IC"])
    assert words[0:2] == [int(v) for v in vk_json["vk_alpha_1"][:2]]
    beta = vk_json["vk_beta_2"]
    assert words[2:6] == [int(beta[0][1]), int(beta[0][0]), int(beta[1][1]), int(beta[1][0])]
    assert words[14:16] == [int(v) for v in vk_json["IC"][0][:2]]


def test_key_words_rejects_bad_keys(vk: VerifyingKey) -> None:
    with pytest.raises(MalformedProofError):
        solidity.key_words(dataclasses.replace(vk, alpha_g1=(FIELD_Q, 1)))
    with pytest.raises(MalformedProofError):
        solidity.key_words(dataclasses.replace(vk, alpha_g1=(0, 0)))
    with pytest.raises(MalformedProofError):
        solidity.key_words(dataclasses.replace(vk, gamma_abc_g1=((1, 2),)))


def test_public_words_does_not_reduce() -> None:
    assert solidity.public_words([1, FIELD_R + 5]) == [1, FIELD_R + 5]
    for bad in (True, "1", -1, 2**256, 1.0):
        with pytest.raises(MalformedProofError):
            solidity.public_words([bad])  # type: ignore[list-item]


def test_trial_scope_matches_abi_encoding() -> None:
    address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    trial = bytes(range(32))
    expected = int.from_bytes(keccak(encode(["uint256", "address", "bytes32"], [31337, address, trial])), "big") >> 3
    scope = trial_scope(31337, address, trial)
    assert scope == expected
    assert scope < 2**253 < FIELD_R
    assert trial_scope(1, address, trial) != scope
    assert trial_scope(31337, "0x" + "11" * 20, trial) != scope
    with pytest.raises(EligibilityError):
        trial_scope(1, address, b"short")


def test_verify_proof_signature_matches_snarkjs_selector() -> None:
    assert solidity.verify_proof_signature(15) == "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[15])"
    with pytest.raises(MalformedProofError):
        solidity.verify_proof_signature(0)


def test_decode_revert_maps_custom_errors() -> None:
    used = decode_revert(keccak(text="NullifierUsed()")[:4])
    assert isinstance(used, NullifierAlreadyUsedError) and used.error_name == "NullifierUsed"
    data = keccak(text="InputNotInField(uint256)")[:4] + (3).to_bytes(32, "big")
    aliased = decode_revert("0x" + data.hex())
    assert type(aliased) is ContractRevertError and aliased.error_name == "InputNotInField"
    assert decode_revert(b"").error_name is None
    assert decode_revert(b"\x01\x02\x03\x04").error_name is None


def test_render_verifier_is_marked_generated(vk: VerifyingKey) -> None:
    source = solidity.render_verifier(vk, contract_name="EligibilityVerifier")
    assert "Generated by zkhealth.chain.solidity.render_verifier" in source
    assert "contract EligibilityVerifier" in source
    assert "uint256[15] calldata publicSignals" in source
    assert "$" not in source
    with pytest.raises(ValueError):
        solidity.render_verifier(vk, contract_name="Bad Name")


# --------------------------------------------------------------------------- artifacts


def test_artifacts_ship_abi_bytecode_version_and_hashes() -> None:
    for names in build.CONTRACTS.values():
        for name in names:
            artifact = build.load_artifact(name)
            assert artifact["solcVersion"].startswith("0.8.28+")
            assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 100
            assert artifact["settings"]["optimizer"]["enabled"] is True
            assert set(artifact["sources"]) == set(build.source_hashes(build.contracts_dir()))
    with pytest.raises(ChainError):
        build.load_artifact("NoSuchContract")


def test_artifacts_are_fresh() -> None:
    build.check_artifacts()


def test_stale_artifact_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "verifier_contracts"
    shutil.copytree(build.contracts_dir() / "src", root / "src")
    shutil.copytree(build.contracts_dir() / "templates", root / "templates")
    build.check_artifacts(root)
    source = root / "src" / "CohortEnrollment.sol"
    source.write_text(source.read_text() + "\n// edited\n")
    with pytest.raises(ArtifactStaleError):
        build.check_artifacts(root)


def test_stale_template_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "verifier_contracts"
    shutil.copytree(build.contracts_dir() / "src", root / "src")
    shutil.copytree(build.contracts_dir() / "templates", root / "templates")
    template = root / build.TEMPLATE_PATH
    template.write_text(template.read_text() + "// edited\n")
    with pytest.raises(ArtifactStaleError):
        build.check_artifacts(root)


def _solc_available() -> bool:
    return shutil.which("node") is not None and (build.contracts_dir() / "node_modules" / "solc").is_dir()


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.skipif(not _solc_available(), reason="node and verifier_contracts/node_modules/solc needed")
def test_recompiling_gives_the_committed_bytecode() -> None:
    fresh = build.build_artifacts()
    for name, artifact in fresh.items():
        test_only = name in build.test_contract_names()
        shipped = build.load_test_artifact(name) if test_only else build.load_artifact(name)
        for field in ("bytecode", "deployedBytecode", "abi", "solcVersion", "template"):
            assert artifact.get(field) == shipped.get(field), (name, field)
