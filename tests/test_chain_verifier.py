"""The installed Groth16Verifier on py-evm: the snarkjs vector, mutations, malformed calls, folding, and a
differential corpus against the Python verifier (security.md K5, K6, G1-G6).

Proof sources are fixtures (`vector_case`, `trapdoor_case`): swap in proofs from zkhealth's own prover once the
eligibility circuit exists. Most tests run on py-evm with zkhealth's pairing in the ecPairing precompile
(`fast_pairing`, same gas and validation); `test_vector_on_stock_py_evm` anchors the result on stock py-evm.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chain_testkeys as testkeys
import pytest

from zkhealth.chain import client, solidity
from zkhealth.errors import ContractRevertError, MalformedProofError, NonCanonicalEncodingError, ZkHealthError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats.snarkjs_json import proof_from_dict, verifying_key_from_dict

pytestmark = pytest.mark.evm

VECTORS = Path(__file__).parent / "vectors" / "snarkjs"


@dataclass
class Case:
    """A verifying key with one valid proof and its public signals (snarkjs JSON shapes)."""

    vk: dict[str, Any]
    proof: dict[str, Any]
    signals: list[int]


@pytest.fixture(scope="module")
def vector_case() -> Case:
    return Case(
        json.loads((VECTORS / "verification_key.json").read_text()),
        json.loads((VECTORS / "proof.json").read_text()),
        [int(s) for s in json.loads((VECTORS / "public.json").read_text())],
    )


@pytest.fixture(scope="module")
def trapdoor_case() -> Case:
    key = testkeys.TrapdoorKey.generate(6, seed=7)
    rng = random.Random(7)
    signals = [rng.randrange(FIELD_R) for _ in range(6)]
    return Case(key.verifying_key(), key.prove(signals, rng).to_snarkjs(), signals)


@pytest.fixture(scope="module")
def w3() -> Any:
    return client.connect(client.embedded_provider(fast_pairing=True))


@pytest.fixture(scope="module")
def vector_verifier(w3: Any, vector_case: Case) -> Any:
    return client.deploy_verifier(w3, verifying_key_from_dict(vector_case.vk))


def raw_verify(verifier: Any, a: list[int], b: list[int], c: list[int], signals: list[int]) -> bool:
    """verifyProof with raw words (b already in EIP-197 order): True/False, or raises ContractRevertError."""
    return client.call_or_raise(
        lambda: verifier.functions.verifyProof(a, [b[0:2], b[2:4]], c, signals).call({"gas": client.VERIFY_GAS})
    )


def raw_call(w3: Any, to: str, data: bytes) -> bytes:
    return client.call_or_raise(lambda: w3.eth.call({"to": to, "data": data, "gas": client.VERIFY_GAS}))


def words(case: Case) -> tuple[list[int], list[int], list[int]]:
    (ax, ay), ((b0, b1), (b2, b3)), (cx, cy) = solidity.to_calldata(proof_from_dict(case.proof))
    return [ax, ay], [b0, b1, b2, b3], [cx, cy]


def test_vector_proof_verifies(vector_verifier: Any, vector_case: Case) -> None:
    assert client.verify_on_chain(vector_verifier, proof_from_dict(vector_case.proof), vector_case.signals) is True
    assert vector_verifier.functions.publicInputCount().call() == 15
    assert vector_verifier.functions.foldedSignal().call() == [solidity.NOT_FOLDED, 0]


@pytest.mark.slow
def test_vector_on_stock_py_evm(vector_case: Case) -> None:
    stock = client.connect("embedded")
    verifier = client.deploy_verifier(stock, verifying_key_from_dict(vector_case.vk))
    assert client.verify_on_chain(verifier, proof_from_dict(vector_case.proof), vector_case.signals) is True
    a, b, c = words(vector_case)
    swapped = [b[1], b[0], b[3], b[2]]
    assert raw_verify(verifier, a, swapped, c, vector_case.signals) is False


@pytest.mark.parametrize("position", range(8))
def test_each_coordinate_plus_one_is_rejected(vector_verifier: Any, vector_case: Case, position: int) -> None:
    a, b, c = words(vector_case)
    flat = a + b + c
    flat[position] += 1
    if flat[position] >= FIELD_Q:
        with pytest.raises(ContractRevertError) as info:
            raw_verify(vector_verifier, flat[0:2], flat[2:6], flat[6:8], vector_case.signals)
        assert info.value.error_name == "ProofNotCanonical"
    else:
        assert raw_verify(vector_verifier, flat[0:2], flat[2:6], flat[6:8], vector_case.signals) is False


def test_only_the_canonical_g2_order_verifies(vector_verifier: Any, vector_case: Case) -> None:
    a, b, c = words(vector_case)
    assert raw_verify(vector_verifier, a, b, c, vector_case.signals) is True
    real_first = [b[1], b[0], b[3], b[2]]  # snarkjs JSON order, handed over without the EIP-197 swap
    halves_swapped = [b[2], b[3], b[0], b[1]]
    assert raw_verify(vector_verifier, a, real_first, c, vector_case.signals) is False
    assert raw_verify(vector_verifier, a, halves_swapped, c, vector_case.signals) is False


@pytest.mark.parametrize("index", [0, 7, 14])
def test_signal_plus_r_reverts_input_not_in_field(vector_verifier: Any, vector_case: Case, index: int) -> None:
    a, b, c = words(vector_case)
    for alias in (vector_case.signals[index] + FIELD_R, 2**256 - 1):
        signals = list(vector_case.signals)
        signals[index] = alias
        with pytest.raises(ContractRevertError) as info:
            raw_verify(vector_verifier, a, b, c, signals)
        assert info.value.error_name == "InputNotInField"
        assert "InputNotInField(" + str(index) + ")" in str(info.value)


def test_each_signal_plus_one_is_rejected(vector_verifier: Any, vector_case: Case) -> None:
    a, b, c = words(vector_case)
    for index in range(15):
        signals = list(vector_case.signals)
        signals[index] = (signals[index] + 1) % FIELD_R
        assert raw_verify(vector_verifier, a, b, c, signals) is False


def test_wrong_count_and_length_revert(w3: Any, vector_verifier: Any, vector_case: Case) -> None:
    a, b, c = words(vector_case)
    head = b"".join(v.to_bytes(32, "big") for v in a + b + c)
    body = b"".join(v.to_bytes(32, "big") for v in vector_case.signals)
    from eth_utils import keccak

    for n in (14, 16):
        selector = keccak(text=solidity.verify_proof_signature(n))[:4]
        padded = body[: 32 * n] + b"\0" * max(0, 32 * n - len(body))
        with pytest.raises(ContractRevertError) as info:
            raw_call(w3, vector_verifier.address, selector + head + padded)
        assert info.value.error_name == "UnknownSelector"
    selector = keccak(text=solidity.verify_proof_signature(15))[:4]
    for data in (selector + head + body[:-32], selector + head + body + b"\0" * 32, selector):
        with pytest.raises(ContractRevertError) as info:
            raw_call(w3, vector_verifier.address, data)
        assert info.value.error_name == "MalformedCalldata"


def test_bare_runtime_refuses_to_run(w3: Any) -> None:
    from zkhealth.chain.build import load_artifact

    artifact = load_artifact("Groth16Verifier")
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"gas": 2_000_000}))
    with pytest.raises(ContractRevertError) as info:
        raw_call(w3, receipt["contractAddress"], b"\x01\x02\x03\x04")
    assert info.value.error_name == "NotInstalled"


def test_folded_verifier_takes_one_signal_less(w3: Any, vector_case: Case) -> None:
    folded = client.deploy_verifier(w3, verifying_key_from_dict(vector_case.vk), fold=(1, vector_case.signals[1]))
    assert folded.functions.publicInputCount().call() == 14
    assert folded.functions.foldedSignal().call() == [1, vector_case.signals[1]]
    rest = vector_case.signals[:1] + vector_case.signals[2:]
    assert client.verify_on_chain(folded, proof_from_dict(vector_case.proof), rest) is True
    vk = verifying_key_from_dict(vector_case.vk)
    wrong = client.deploy_verifier(w3, vk, fold=(1, (vector_case.signals[1] + 1) % FIELD_R))
    assert client.verify_on_chain(wrong, proof_from_dict(vector_case.proof), rest) is False
    with pytest.raises(MalformedProofError):
        client.deploy_verifier(w3, verifying_key_from_dict(vector_case.vk), fold=(15, 1))
    with pytest.raises(MalformedProofError):
        client.deploy_verifier(w3, verifying_key_from_dict(vector_case.vk), fold=(0, FIELD_R))


def test_insecure_and_invalid_keys_are_refused_on_chain(w3: Any, vector_case: Case) -> None:
    vk = json.loads(json.dumps(vector_case.vk))
    vk["vk_delta_2"] = vk["vk_gamma_2"]  # gamma == delta (security.md G8)
    with pytest.raises(ContractRevertError) as info:
        client.deploy_verifier(w3, verifying_key_from_dict(vk))
    assert info.value.error_name == "InsecureVerifyingKey"
    vk = json.loads(json.dumps(vector_case.vk))
    vk["IC"][3] = ["1", "3", "1"]  # not on the curve
    with pytest.raises(ContractRevertError) as info:
        client.deploy_verifier(w3, verifying_key_from_dict(vk))
    assert info.value.error_name == "InvalidVerifyingKey"


# --------------------------------------------------------------------------- differential corpus (K5)


def python_accepts(case_vk: dict[str, Any], proof: dict[str, Any], signals: list[int]) -> bool:
    """The Python verifier's verdict: zkhealth.groth16 when present, else a py_ecc reference."""
    try:
        from zkhealth.formats.snarkjs_json import proof_from_dict, verifying_key_from_dict
        from zkhealth.groth16.verifier import verify_with_unchecked_key
    except ImportError:
        return _py_ecc_accepts(case_vk, proof, signals)
    try:
        verify_with_unchecked_key(verifying_key_from_dict(case_vk), signals, proof_from_dict(proof))
    except ZkHealthError:
        return False
    return True


def _py_ecc_accepts(vk: dict[str, Any], proof: dict[str, Any], signals: list[int]) -> bool:
    from py_ecc import optimized_bn128 as bn

    def g1(p: list[Any]) -> Any:
        x, y = int(p[0]), int(p[1])
        if x >= FIELD_Q or y >= FIELD_Q:
            raise ValueError
        point = (bn.FQ(x), bn.FQ(y), bn.FQ.one())
        if not bn.is_on_curve(point, bn.b):
            raise ValueError
        return point

    def g2(p: list[Any]) -> Any:
        coords = [int(v) for pair in p[:2] for v in pair]
        if any(v >= FIELD_Q for v in coords):
            raise ValueError
        point = (bn.FQ2(coords[0:2]), bn.FQ2(coords[2:4]), bn.FQ2.one())
        if not bn.is_on_curve(point, bn.b2) or not bn.is_inf(bn.multiply(point, bn.curve_order)):
            raise ValueError
        return point

    try:
        if len(signals) != len(vk["IC"]) - 1 or any(not 0 <= s < FIELD_R for s in signals):
            return False
        a, b, c = g1(proof["pi_a"]), g2(proof["pi_b"]), g1(proof["pi_c"])
    except ValueError:
        return False
    vk_x = g1(vk["IC"][0])
    for s, point in zip(signals, vk["IC"][1:], strict=True):
        vk_x = bn.add(vk_x, bn.multiply(g1(point), s))
    lhs = bn.final_exponentiate(bn.pairing(b, a, final_exponentiate=False))
    rhs = bn.final_exponentiate(
        bn.pairing(g2(vk["vk_beta_2"]), g1(vk["vk_alpha_1"]), final_exponentiate=False)
        * bn.pairing(g2(vk["vk_gamma_2"]), vk_x, final_exponentiate=False)
        * bn.pairing(g2(vk["vk_delta_2"]), c, final_exponentiate=False)
    )
    return bool(lhs == rhs)


def _non_subgroup_g2() -> list[list[str]]:
    """A point on the G2 twist outside the r-torsion (security.md K6, G4)."""
    from zkhealth.hazmat.bn254 import FQ2_ONE, TWIST_B, fq2_add, fq2_mul, fq2_sqrt, g2_in_subgroup

    for k in range(1, 200):
        x = (k, 1)
        y = fq2_sqrt(fq2_add(fq2_mul(fq2_mul(x, x), x), TWIST_B))
        if y is not None and not g2_in_subgroup((x, y)):
            assert FQ2_ONE == (1, 0)
            return [[str(x[0]), str(x[1])], [str(y[0]), str(y[1])], ["1", "0"]]
    raise AssertionError("no non-subgroup point found")


def corpus(case: Case) -> list[tuple[str, dict[str, Any], list[int]]]:
    """Valid, mutated, re-randomised and malformed (proof, signals) pairs for one key."""
    out: list[tuple[str, dict[str, Any], list[int]]] = [("valid", case.proof, case.signals)]

    def mutated(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        proof = json.loads(json.dumps(case.proof))
        change(proof)
        out.append((name, proof, case.signals))

    for field, rows in (("pi_a", [(0,), (1,)]), ("pi_c", [(0,), (1,)])):
        for (i,) in rows:
            mutated(f"{field}[{i}]+1", lambda p, f=field, i=i: p[f].__setitem__(i, str(int(p[f][i]) + 1)))
    for i in range(2):
        for j in range(2):
            mutated(
                f"pi_b[{i}][{j}]+1",
                lambda p, i=i, j=j: p["pi_b"][i].__setitem__(j, str((int(p["pi_b"][i][j]) + 1) % FIELD_Q)),
            )
    mutated("pi_b halves swapped", lambda p: p.__setitem__("pi_b", [p["pi_b"][1], p["pi_b"][0], ["1", "0"]]))
    mutated(
        "pi_b imaginary first", lambda p: p.__setitem__("pi_b", [p["pi_b"][0][::-1], p["pi_b"][1][::-1], ["1", "0"]])
    )
    mutated("A negated", lambda p: p["pi_a"].__setitem__(1, str(FIELD_Q - int(p["pi_a"][1]))))
    mutated("A off curve", lambda p: p.__setitem__("pi_a", ["1", "3", "1"]))
    mutated("A = C", lambda p: p.__setitem__("pi_a", list(p["pi_c"])))
    mutated("B outside subgroup", lambda p: p.__setitem__("pi_b", _non_subgroup_g2()))
    from zkhealth.hazmat.bn254 import G2_GENERATOR

    (gx0, gx1), (gy0, gy1) = G2_GENERATOR
    mutated("B = generator", lambda p: p.__setitem__("pi_b", [[str(gx0), str(gx1)], [str(gy0), str(gy1)], ["1", "0"]]))
    delta = case.vk["vk_delta_2"]
    delta_point = ((int(delta[0][0]), int(delta[0][1])), (int(delta[1][0]), int(delta[1][1])))
    parsed = testkeys.SimulatedProof(
        (int(case.proof["pi_a"][0]), int(case.proof["pi_a"][1])),
        (
            (int(case.proof["pi_b"][0][0]), int(case.proof["pi_b"][0][1])),
            (int(case.proof["pi_b"][1][0]), int(case.proof["pi_b"][1][1])),
        ),
        (int(case.proof["pi_c"][0]), int(case.proof["pi_c"][1])),
    )
    rerandomized = testkeys.rerandomize(parsed, delta_point, 12345, 678)
    out.append(("re-randomised", rerandomized.to_snarkjs(), case.signals))
    for index in (0, len(case.signals) - 1):
        signals = list(case.signals)
        signals[index] = (signals[index] + 1) % FIELD_R
        out.append((f"signal {index} + 1", case.proof, signals))
    reordered = list(case.signals)
    reordered[0], reordered[1] = reordered[1], reordered[0]
    out.append(("signals swapped", case.proof, reordered))
    aliased = list(case.signals)
    aliased[0] += FIELD_R
    out.append(("signal 0 + r", case.proof, aliased))
    return out


def evm_accepts(w3: Any, verifier: Any, proof: dict[str, Any], signals: list[int], n_public: int) -> bool:
    """The Solidity verifier's verdict: True only for a `true` return; reverts count as rejection."""
    if len(signals) != n_public:
        return False
    try:
        parsed = proof_from_dict(proof)
        solidity.to_calldata(parsed)
    except (MalformedProofError, NonCanonicalEncodingError):
        return False
    try:
        return client.verify_on_chain(verifier, parsed, signals)
    except ContractRevertError:
        return False


@pytest.mark.parametrize("which", ["vector", "trapdoor"])
def test_python_and_solidity_verifiers_agree(
    w3: Any, vector_verifier: Any, vector_case: Case, trapdoor_case: Case, which: str
) -> None:
    case = vector_case if which == "vector" else trapdoor_case
    verifier = vector_verifier if which == "vector" else client.deploy_verifier(w3, verifying_key_from_dict(case.vk))
    n_public = len(case.vk["IC"]) - 1
    disagreements = []
    accepted = []
    entries = corpus(case) + [
        ("count - 1", case.proof, case.signals[:-1]),
        ("count + 1", case.proof, case.signals + [1]),
    ]
    for name, proof, signals in entries:
        py = python_accepts(case.vk, proof, signals)
        evm = evm_accepts(w3, verifier, proof, signals, n_public)
        if py != evm:
            disagreements.append(name)
        if evm:
            accepted.append(name)
    assert disagreements == []
    assert sorted(accepted) == ["re-randomised", "valid"]


def test_verifier_gas_is_below_snarkjs(w3: Any, vector_verifier: Any, vector_case: Case) -> None:
    """snarkjs 0.7.6's exported verifier for this key: 310,680 gas with its usual compile, 309,631 with ours
    (benchmarks/gas.py measures both live)."""
    gas = client.verify_proof_gas(w3, vector_verifier, proof_from_dict(vector_case.proof), vector_case.signals)
    assert gas < 309_631
    folded = client.deploy_verifier(w3, verifying_key_from_dict(vector_case.vk), fold=(1, vector_case.signals[1]))
    rest = vector_case.signals[:1] + vector_case.signals[2:]
    assert client.verify_proof_gas(w3, folded, proof_from_dict(vector_case.proof), rest) <= gas - 6_000
