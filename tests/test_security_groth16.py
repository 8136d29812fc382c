"""security.md section 2.2 (G rows) and the source-level checks CI runs with them.

* G4 / python -O: no ``assert`` statement in src/ does validation (``python -O`` strips them), and the
  validation paths still raise their typed errors in a ``python -O`` interpreter.
* G6: no code path keys anything on proof bytes (hashing ``pi_a``/``pi_b``/``pi_c``, a Proof as a dict key or
  a set member): replay protection is the nullifier alone. Python sources and the Solidity contracts.
* G10: a development key stays marked through its JSON file and is refused in production mode.
* G14 (b): batch-verification weights come from :mod:`secrets` and are never zero.
"""

from __future__ import annotations

import ast
import re
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from groth16_circuits import chain_r1cs, chain_witness

from zkhealth import groth16
from zkhealth.errors import DevSetupKeyError, InvalidProofError
from zkhealth.formats.snarkjs_json import load_verifying_key, write_verifying_key
from zkhealth.groth16 import batch as batch_module

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "zkhealth"
CONTRACTS = ROOT / "verifier_contracts" / "src"


def _python_sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --------------------------------------------------------------------------- G4 and python -O


def _is_type_narrowing(node: ast.Assert) -> bool:
    """``assert isinstance(x, T)`` / ``assert x is not None``: hints for mypy, never the only check."""
    test = node.test
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
        return True
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


@pytest.mark.native
def test_no_assert_statement_validates_anything_in_src() -> None:
    """python -O removes ``assert``: validation must be an explicit check raising a typed error."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for path, tree in _python_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert) and not _is_type_narrowing(node)
    ]
    assert offenders == []


_UNDER_O = textwrap.dedent(
    """
    import dataclasses, sys
    assert False, "asserts must be stripped in this interpreter"
    from zkhealth import errors
    from zkhealth.field import FIELD_Q, FIELD_R, parse_field_element
    from zkhealth.hazmat import babyjubjub, bn254
    from zkhealth.signature import eddsa_poseidon as ed

    def expect(error, fn, *args):
        try:
            fn(*args)
        except error:
            return
        raise SystemExit(f"{fn.__name__}{args!r} did not raise {error.__name__}")

    expect(errors.FieldRangeError, parse_field_element, FIELD_R)
    expect(errors.NonCanonicalEncodingError, parse_field_element, "9" * 5000)
    expect(errors.PointNotOnCurveError, bn254.validate_g1, 1, 3)
    expect(errors.PointAtInfinityError, bn254.validate_g1, 0, 0)
    expect(errors.NonCanonicalEncodingError, bn254.validate_g1, 1 + FIELD_Q, 2)
    x0 = 1
    while True:
        x = (x0, 1)
        y = bn254.fq2_sqrt(bn254.fq2_add(bn254.fq2_mul(bn254.fq2_sqr(x), x), bn254.TWIST_B))
        if y is not None and not bn254.g2_in_subgroup((x, y)):
            break
        x0 += 1
    expect(errors.PointNotInSubgroupError, bn254.validate_g2, x, y)
    key = ed.PrivateKey(bytes(range(32)))
    signature = ed.sign(key, 5)
    malleated = ed.Signature(signature.R8, signature.S + babyjubjub.SUBORDER)
    expect(errors.SignatureError, ed.verify, key.public_key(), 5, malleated)
    expect(errors.SignatureError, ed.verify, key.public_key(), 6, signature)
    print("ok", sys.flags.optimize)
    """
)


@pytest.mark.native
def test_validation_raises_typed_errors_under_python_O() -> None:
    """G4: field, point, subgroup and signature validation survive ``python -O`` (asserts stripped)."""
    result = subprocess.run(
        [sys.executable, "-O", "-c", _UNDER_O], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["ok", "1"]


# --------------------------------------------------------------------------- G6: nothing keyed on proof bytes

#: Identifiers that hold Groth16 proof material.
_PROOF_NAME = re.compile(r"^(pi_[abc]|proofs?|proof_\w+|\w+_proofs?|calldata)$")
_PROOF_ATTR = re.compile(r"^(pi_[abc]|proof|snarkjs_proof)$")
#: Functions that hash, digest or derive identifiers.
_HASHING = re.compile(r"(sha\d*|sha3\w*|keccak\w*|blake\w*|md5|poseidon\w*|digest|hexdigest|hash|new|update|uuid\w*)$")
#: Merkle and non-membership proofs are field data of the trees, not Groth16 proofs: hashing them is the point.
_TREE_MODULES = {"credentials/trees.py", "circuit/gadgets/merkle.py"}


def _mentions_proof(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and _PROOF_NAME.match(sub.id):
            return True
        if isinstance(sub, ast.Attribute) and _PROOF_ATTR.match(sub.attr):
            return True
        if isinstance(sub, ast.Constant) and sub.value in ("pi_a", "pi_b", "pi_c"):
            return True
    return False


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def proof_keying_findings(tree: ast.AST) -> list[tuple[int, str]]:
    """Places where proof material is hashed, used as a mapping key, or stored in a set."""
    findings: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            arguments = [*node.args, *(k.value for k in node.keywords)]
            if _HASHING.search(name.lower()) and any(_mentions_proof(a) for a in arguments):
                findings.append((node.lineno, f"{name}() of proof material"))
            if name in ("add", "setdefault") and node.args and _mentions_proof(node.args[0]):
                findings.append((node.lineno, f".{name}() keyed on proof material"))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _mentions_proof(node.slice):
            findings.append((node.lineno, "mapping keyed on proof material"))
        elif isinstance(node, ast.Dict):
            if any(k is not None and not isinstance(k, ast.Constant) and _mentions_proof(k) for k in node.keys):
                findings.append((node.lineno, "dict literal keyed on proof material"))
        elif isinstance(node, ast.Set | ast.SetComp) and _mentions_proof(node):
            findings.append((node.lineno, "set of proof material"))
    return findings


@pytest.mark.native
def test_the_proof_keying_scan_catches_the_patterns_it_names() -> None:
    """The scanner itself: each forbidden pattern is found, the legitimate uses are not."""
    bad = textwrap.dedent(
        """
        seen = set()
        key = hashlib.sha256(json.dumps(proof["pi_a"]).encode()).hexdigest()
        digest = keccak(proof_bytes)
        used[proof.a] = True
        seen.add(snarkjs_proof)
        lookup = {proof: 1}
        nid = poseidon([pi_c[0], pi_c[1]])
        """
    )
    assert len(proof_keying_findings(ast.parse(bad))) == 6
    good = textwrap.dedent(
        """
        used[nullifier] = True
        key = hashlib.sha256(vk.canonical_json().encode()).hexdigest()
        verify(vk, public, proof)
        nullifier = poseidon([secret, scope])
        """
    )
    assert proof_keying_findings(ast.parse(good)) == []


@pytest.mark.native
def test_no_python_code_path_keys_on_proof_bytes() -> None:
    """G6: re-randomised proofs are valid and differ, so an ID or replay cache derived from proof bytes is
    bypassed. No module of src/ hashes proof material or uses it as a key."""
    offenders = []
    for path, tree in _python_sources():
        relative = path.relative_to(SRC).as_posix()
        if relative in _TREE_MODULES:
            continue
        offenders += [f"{relative}:{line}: {what}" for line, what in proof_keying_findings(tree)]
    assert offenders == []


@pytest.mark.native
def test_no_contract_keys_on_proof_bytes() -> None:
    """G6 / K2 on-chain: the only per-enrollment state is keyed by the nullifier; no keccak256 input and no
    mapping key is a proof word (the calldata arguments ``a``, ``b``, ``c``, ``pA``, ``pB``, ``pC``)."""
    sources = sorted(CONTRACTS.glob("*.sol"))
    assert sources
    proof_words = re.compile(r"\b(a|b|c|pA|pB|pC|proof|_pA|_pB|_pC)\b")
    for path in sources:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            code = line.split("//", 1)[0]
            for _key_type, key_name in re.findall(r"mapping\((\w+)\s*(\w*)\s*=>", code):
                assert key_name not in ("proof", "proofHash"), f"{path.name}:{number}"
                assert not proof_words.search(key_name), f"{path.name}:{number}"
            if "keccak256(" in code:
                window = "\n".join(part.split("//", 1)[0] for part in lines[max(0, number - 4) : number])
                hashed = window[window.rfind("keccak256(") :]
                stores = re.findall(r"mstore\([^,]+,\s*(\w+)\)", window)
                assert not proof_words.search(hashed.replace("keccak256", "")), f"{path.name}:{number}: {line}"
                assert not any(proof_words.fullmatch(s) for s in stores), f"{path.name}:{number}: {line}"
    enrollment = (CONTRACTS / "CohortEnrollment.sol").read_text(encoding="utf-8")
    assert re.search(r"mapping\(uint256 nullifier => Record\)", enrollment)


# --------------------------------------------------------------------------- G10: dev keys stay marked


@pytest.fixture(scope="module")
def dev_keys() -> tuple[groth16.ProvingKey, groth16.VerifyingKey]:
    return groth16.setup(chain_r1cs(4))


@pytest.mark.prove
def test_dev_key_marker_survives_its_json_file(
    dev_keys: tuple[groth16.ProvingKey, groth16.VerifyingKey], tmp_path: Path
) -> None:
    """G10: ``setup()`` keys are dev-only; written to verification_key.json and read back, they are still
    refused where production keys are required, and the pin still matches."""
    pk, vk = dev_keys
    assert vk.provenance == groth16.DEV_SETUP and pk.provenance == groth16.DEV_SETUP
    path = tmp_path / "verification_key.json"
    write_verifying_key(vk, path)
    reloaded = load_verifying_key(path)
    assert reloaded.provenance == groth16.DEV_SETUP
    witness = chain_witness(4, 7)
    proof = groth16.prove(pk, witness)
    groth16.verify(reloaded, witness[1:3], proof, pinned_sha256=vk.sha256())
    with pytest.raises(DevSetupKeyError):
        groth16.verify(reloaded, witness[1:3], proof, require_production=True)


# --------------------------------------------------------------------------- G14 (b): batch weights


def _batch_items(keys: tuple[groth16.ProvingKey, groth16.VerifyingKey]) -> list[tuple[list[int], groth16.Proof]]:
    pk, _ = keys
    items = [(chain_witness(4, x)[1:3], groth16.prove(pk, chain_witness(4, x))) for x in (2, 3)]
    return [(items[0][0], items[1][1]), items[1]]  # item 0: a valid proof for other inputs


@pytest.mark.prove
def test_batch_weights_come_from_secrets_and_zero_draws_are_discarded(
    dev_keys: tuple[groth16.ProvingKey, groth16.VerifyingKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """G14 (b): the weights are drawn from :mod:`secrets`; when the CSPRNG returns zeros first, a zero weight
    (which would silently drop the invalid item 0 from the check) is never used."""
    real_randbits = secrets.randbits
    calls: list[int] = []

    def zeros_first(bits: int) -> int:
        calls.append(bits)
        return 0 if len(calls) <= 4 else real_randbits(bits)

    _, vk = dev_keys
    bad = _batch_items(dev_keys)
    monkeypatch.setattr(secrets, "randbits", zeros_first)  # the module batch.py draws from
    with pytest.raises(InvalidProofError):
        groth16.batch_verify(vk, bad)
    assert len(calls) > 4  # the zero draws were discarded and redrawn
    imported = {
        alias.name
        for node in ast.walk(ast.parse(Path(batch_module.__file__).read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "random" not in imported and "secrets" in imported


@pytest.mark.prove
def test_seeding_random_does_not_make_an_invalid_batch_pass(
    dev_keys: tuple[groth16.ProvingKey, groth16.VerifyingKey],
) -> None:
    import random

    _, vk = dev_keys
    good = [(chain_witness(4, x)[1:3], groth16.prove(dev_keys[0], chain_witness(4, x))) for x in (2, 3)]
    for _ in range(2):
        random.seed(1)
        groth16.batch_verify(vk, good)
        random.seed(1)
        with pytest.raises(InvalidProofError):
            groth16.batch_verify(vk, _batch_items(dev_keys))
