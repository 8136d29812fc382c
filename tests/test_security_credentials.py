"""security.md section 2.3 (S rows): signatures and credentials, where the module suites leave a gap.

* S2: negative, fractional, string and huge ``S`` are refused with typed errors, fast.
* S5: the Baby Jubjub signature binds the field ORDER of the claims vector (two fields swapped fail).
* S10: every Wycheproof ``ed25519_test.json`` vector (C2SP/wycheproof, 151 cases) gets the expected verdict,
  and every refusal is a typed zkhealth error (PyNaCl's exceptions never escape).
* S11: no signing function takes a public key next to the secret (the double-public-key oracle).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import time
from pathlib import Path
from typing import Any

import pytest
from patients import EXPIRES, ISSUED, PATIENTS

import zkhealth.credentials as credentials_package
import zkhealth.signature as signature_package
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.schema import CLAIM_LAYOUT, HASH_CHUNK
from zkhealth.errors import (
    InvalidKeyError,
    InvalidSignatureError,
    NonCanonicalEncodingError,
    SignatureError,
    ZkHealthError,
)
from zkhealth.hash.poseidon import poseidon
from zkhealth.hazmat.babyjubjub import SUBORDER
from zkhealth.signature import eddsa_poseidon
from zkhealth.signature.ed25519 import Ed25519SigningKey, Ed25519VerifyKey

pytestmark = pytest.mark.native

WYCHEPROOF = json.loads((Path(__file__).parent / "vectors" / "wycheproof_ed25519.json").read_text())
KEY = eddsa_poseidon.PrivateKey(bytes(range(1, 33)))
MESSAGE = 123456789
SIGNATURE = eddsa_poseidon.sign(KEY, MESSAGE)


# --------------------------------------------------------------------------- S2


@pytest.mark.parametrize("s", [-1, -SUBORDER, 1.5, "0x1f", "12", b"\x01", 2**4096, -(2**4096)])
def test_malformed_s_is_refused_with_a_typed_error_fast(s: Any) -> None:
    """circomlibjs PR #38: a negative S made verification loop forever. Here every malformed S is refused by
    class (SignatureError, or NonCanonicalEncodingError for encodings) in well under a second."""
    started = time.perf_counter()
    with pytest.raises((SignatureError, NonCanonicalEncodingError)):
        eddsa_poseidon.verify(KEY.public_key(), MESSAGE, eddsa_poseidon.Signature(SIGNATURE.R8, s))
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------- S5


def _claims_hash(vector: list[int]) -> int:
    """schema.py's two-level claims hash: poseidon of the two chunk hashes."""
    return poseidon([poseidon(vector[:HASH_CHUNK]), poseidon(vector[HASH_CHUNK:])])


@pytest.mark.parametrize(
    ("first", "second"),
    [("hba1c", "egfr"), ("birth_date", "dx1_date"), ("issued_at", "expires_at"), ("dx1_code", "dx2_code")],
)
def test_swapping_two_claim_fields_breaks_the_signature(first: str, second: str) -> None:
    """S5: the message is the hash of the whole vector in schema order; the same values in other slots do
    not verify."""
    issuer = Issuer.generate()
    issued = issuer.issue(PATIENTS["ckd_diabetic"], subject_commitment=poseidon([7]), issued_at=ISSUED,
                          expires_at=EXPIRES)
    vector = issued.credential.field_elements()
    key = eddsa_poseidon.PublicKey.from_point(issuer.public_key)
    assert _claims_hash(vector) == issued.credential.claims_hash()
    eddsa_poseidon.verify(key, _claims_hash(vector), issued.signature)
    i, j = CLAIM_LAYOUT[first][0], CLAIM_LAYOUT[second][0]
    assert vector[i] != vector[j]
    vector[i], vector[j] = vector[j], vector[i]
    with pytest.raises(InvalidSignatureError):
        eddsa_poseidon.verify(key, _claims_hash(vector), issued.signature)


# --------------------------------------------------------------------------- S10: Wycheproof


def _wycheproof_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(group["pk"], test) for group in WYCHEPROOF["testGroups"] for test in group["tests"]]


def test_wycheproof_file_is_complete() -> None:
    cases = _wycheproof_cases()
    assert len(cases) == WYCHEPROOF["numberOfTests"] == 151
    assert {test["result"] for _, test in cases} == {"valid", "invalid"}


def _case_id(value: object) -> str:
    return f"tc{value['tcId']}" if isinstance(value, dict) else "pk"


@pytest.mark.parametrize(("pk", "test"), _wycheproof_cases(), ids=_case_id)
def test_wycheproof_ed25519(pk: str, test: dict[str, Any]) -> None:
    """S10: 100% agreement with Wycheproof; refusals are zkhealth errors, never nacl exceptions."""
    message, signature = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        Ed25519VerifyKey.from_bytes(bytes.fromhex(pk)).verify(message, signature)
        return
    with pytest.raises((SignatureError, InvalidKeyError)) as caught:
        Ed25519VerifyKey.from_bytes(bytes.fromhex(pk)).verify(message, signature)
    assert isinstance(caught.value, ZkHealthError)
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, ZkHealthError)


# --------------------------------------------------------------------------- S11


PUBLIC_KEY_PARAMETERS = {"public_key", "public", "pk", "pub", "pubkey", "verify_key", "vk", "a", "point"}


def _functions_named_sign() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for package in (signature_package, credentials_package):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, obj in vars(module).items():
                if getattr(obj, "__module__", None) != module.__name__:
                    continue
                if inspect.isfunction(obj) and "sign" in name and not name.startswith("_"):
                    found.append((f"{module.__name__}.{name}", obj))
                if inspect.isclass(obj):
                    for method_name, method in vars(obj).items():
                        if inspect.isfunction(method) and "sign" in method_name and not method_name.startswith("_"):
                            found.append((f"{module.__name__}.{name}.{method_name}", method))
    return found


def test_no_signing_function_takes_a_public_key() -> None:
    """S11 (libsodium #170, RUSTSEC-2022-0093): signing derives the public key from the secret; no API lets a
    caller pass a (secret, public, message) triple."""
    functions = _functions_named_sign()
    names = {name for name, _ in functions}
    assert "zkhealth.signature.eddsa_poseidon.sign" in names
    assert "zkhealth.signature.ed25519.Ed25519SigningKey.sign" in names
    offenders = [
        name for name, fn in functions
        if "verify" not in name and PUBLIC_KEY_PARAMETERS & set(inspect.signature(fn).parameters)
    ]
    assert offenders == []


def test_eddsa_nonce_is_deterministic_and_bound_to_the_message() -> None:
    """S11, circomlibjs ``signPoseidon``: r = H(prefix(sk) || M), so one message gives one signature and two
    messages never share R8 (a repeated nonce would leak the key)."""
    assert eddsa_poseidon.sign(KEY, MESSAGE) == SIGNATURE
    other = eddsa_poseidon.sign(KEY, MESSAGE + 1)
    assert other.R8 != SIGNATURE.R8
    seed = Ed25519SigningKey.from_seed(bytes(32))
    assert seed.sign(b"m") == seed.sign(b"m") and seed.sign(b"m")[:32] != seed.sign(b"n")[:32]
