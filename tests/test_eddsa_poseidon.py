"""EdDSA-Poseidon over Baby Jubjub: circomlibjs vectors byte for byte, and adversarial signatures and keys."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedSignatureError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    SignatureError,
    SignaturePointNotInSubgroupError,
    SignaturePointNotOnCurveError,
    SignatureTypeError,
    WeakIssuerKeyError,
)
from zkhealth.field import FIELD_R, Fr
from zkhealth.hazmat import babyjubjub as bjj
from zkhealth.signature.eddsa_poseidon import PrivateKey, PublicKey, Signature, sign, verify

pytestmark = pytest.mark.native

CASES = json.loads((Path(__file__).resolve().parent / "vectors" / "eddsa_poseidon.json").read_text())["cases"]
VALID = [c for c in CASES if c["valid"]]
INVALID = [c for c in CASES if not c["valid"]]
L = bjj.SUBORDER

KEY = PrivateKey(bytes.fromhex(VALID[0]["private_key_hex"]))
MESSAGE = 123456789
SIG = sign(KEY, MESSAGE)
PK = KEY.public_key()


def parse(case: dict[str, object]) -> tuple[PrivateKey, PublicKey, int, Signature]:
    sig = case["signature"]
    assert isinstance(sig, dict)
    return (
        PrivateKey(bytes.fromhex(str(case["private_key_hex"]))),
        PublicKey.from_point(tuple(int(v) for v in case["public_key"])),  # type: ignore[arg-type, attr-defined]
        int(case["message"]),  # type: ignore[call-overload]
        Signature((int(sig["R8"][0]), int(sig["R8"][1])), int(sig["S"])),
    )


def full_curve_point(seed: int) -> tuple[int, int]:
    y = seed
    while True:
        try:
            return bjj.unpack_point(y.to_bytes(32, "little"))
        except PointNotOnCurveError:
            y += 1


# --------------------------------------------------------------------------- known answers


def test_vectors_have_valid_and_invalid_cases() -> None:
    assert len(VALID) >= 20 and len(INVALID) >= 2


@pytest.mark.parametrize("case", VALID, ids=lambda c: c["message"][:10])
def test_valid_vectors_sign_byte_for_byte_and_verify(case: dict[str, object]) -> None:
    private_key, public_key, message, signature = parse(case)
    assert private_key.public_key() == public_key
    assert sign(private_key, message) == signature
    verify(public_key, message, signature)
    assert Signature.from_bytes(signature.to_bytes()) == signature
    assert PublicKey.from_bytes(public_key.to_bytes()) == public_key


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c["why"])
def test_invalid_vectors_rejected(case: dict[str, object]) -> None:
    _, public_key, message, signature = parse(case)
    expected = MalformedSignatureError if case["why"] == "S + l" else InvalidSignatureError
    with pytest.raises(expected):
        verify(public_key, message, signature)


# --------------------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=0, max_value=FIELD_R - 1))
def test_sign_verify_roundtrip(secret: bytes, message: int) -> None:
    key = PrivateKey(secret)
    signature = sign(key, message)
    assert 0 <= signature.S < L
    verify(key.public_key(), message, signature)
    assert sign(key, message) == signature  # deterministic
    with pytest.raises(InvalidSignatureError):
        verify(key.public_key(), (message + 1) % FIELD_R, signature)


def test_accepts_fr_message() -> None:
    assert sign(KEY, Fr(MESSAGE)) == SIG
    verify(PK, Fr(MESSAGE), SIG)


# --------------------------------------------------------------------------- tampered S


@pytest.mark.parametrize("s", [SIG.S + L, L, 2**253, 2**256, FIELD_R, -1, -SIG.S])
def test_out_of_range_s_rejected(s: int) -> None:
    with pytest.raises(MalformedSignatureError):
        verify(PK, MESSAGE, Signature(SIG.R8, s))


@pytest.mark.parametrize("s", [True, False, 1.0, "1", None, Fr(1)])
def test_non_int_s_rejected(s: object) -> None:
    with pytest.raises(SignatureTypeError):
        Signature(SIG.R8, s)  # type: ignore[arg-type]
    with pytest.raises(SignatureError):  # also a SignatureError
        Signature(SIG.R8, s)  # type: ignore[arg-type]


def test_huge_s_is_rejected_fast() -> None:
    with pytest.raises(MalformedSignatureError):
        verify(PK, MESSAGE, Signature(SIG.R8, 2**1_000_000))


# --------------------------------------------------------------------------- tampered R8, message, key


def test_changed_message_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify(PK, MESSAGE + 1, SIG)


def test_swapped_public_key_rejected() -> None:
    other = PrivateKey(b"\x07" * 32).public_key()
    with pytest.raises(InvalidSignatureError):
        verify(other, MESSAGE, SIG)


def test_r8_negated_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify(PK, MESSAGE, Signature(bjj.neg(SIG.R8), SIG.S))


def test_r8_with_torsion_component_rejected() -> None:
    torsion = bjj.mul(full_curve_point(5), L)
    assert torsion != bjj.IDENTITY
    with pytest.raises(InvalidSignatureError):
        verify(PK, MESSAGE, Signature(bjj.add(SIG.R8, torsion), SIG.S))


def test_r8_off_curve_rejected_both_ways() -> None:
    bad = Signature((SIG.R8[0], (SIG.R8[1] + 1) % FIELD_R), SIG.S)
    with pytest.raises(SignaturePointNotOnCurveError):
        verify(PK, MESSAGE, bad)
    with pytest.raises(PointNotOnCurveError):
        verify(PK, MESSAGE, bad)
    with pytest.raises(SignatureError):
        verify(PK, MESSAGE, bad)


@pytest.mark.parametrize("r8", [(FIELD_R + 5, 1), (-1, 1), (SIG.R8[0] + FIELD_R, SIG.R8[1])])
def test_r8_non_canonical_rejected(r8: tuple[int, int]) -> None:
    with pytest.raises(MalformedSignatureError):
        verify(PK, MESSAGE, Signature(r8, SIG.S))


@pytest.mark.parametrize("r8", [(True, 1), (0, 1.0), (1,), "ab", None])
def test_r8_wrong_type_rejected(r8: object) -> None:
    with pytest.raises(SignatureTypeError):
        Signature(r8, SIG.S)  # type: ignore[arg-type]


@pytest.mark.parametrize("message", [FIELD_R, FIELD_R + MESSAGE, -1])
def test_message_out_of_field_rejected(message: int) -> None:
    with pytest.raises(FieldRangeError):
        verify(PK, message, SIG)
    with pytest.raises(FieldRangeError):
        sign(KEY, message)


@pytest.mark.parametrize("message", [True, 1.0, "5", None])
def test_message_wrong_type_rejected(message: object) -> None:
    with pytest.raises(FieldTypeError):
        verify(PK, message, SIG)  # type: ignore[arg-type]
    with pytest.raises(FieldTypeError):
        sign(KEY, message)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- weak and malformed keys


def torsion_points() -> list[tuple[int, int]]:
    return sorted({bjj.mul(bjj.GENERATOR, L * k) for k in range(8)})


@pytest.mark.parametrize("point", torsion_points())
def test_small_order_keys_rejected(point: tuple[int, int]) -> None:
    # With 8A = 0 the equation reads S * Base8 == R8: anyone could "sign" with R8 = S * Base8.
    s = 42
    forged = Signature(bjj.mul_base8(s), s)
    with pytest.raises(WeakIssuerKeyError):
        verify(PublicKey.from_point(point), MESSAGE, forged)
    with pytest.raises(WeakIssuerKeyError):
        PublicKey.from_point(point).validate()


def test_identity_and_order_two_keys_named() -> None:
    for point in [(0, 1), (0, FIELD_R - 1)]:
        with pytest.raises(WeakIssuerKeyError):
            verify(PublicKey(*point), MESSAGE, SIG)


def test_random_torsion_key_from_l_times_q_rejected() -> None:
    torsion = bjj.mul(full_curve_point(123456789), L)
    assert bjj.is_small_order(torsion)
    with pytest.raises(WeakIssuerKeyError):
        verify(PublicKey.from_point(torsion), MESSAGE, SIG)


def test_key_with_torsion_component_rejected() -> None:
    torsion = bjj.mul(full_curve_point(99), L)
    assert torsion != bjj.IDENTITY
    mixed = PublicKey.from_point(bjj.add(PK.point, torsion))
    with pytest.raises(SignaturePointNotInSubgroupError):
        verify(mixed, MESSAGE, SIG)
    with pytest.raises(PointNotInSubgroupError):
        mixed.validate()


def test_key_off_curve_rejected_both_ways() -> None:
    bad = PublicKey(PK.x, (PK.y + 1) % FIELD_R)
    with pytest.raises(SignaturePointNotOnCurveError):
        verify(bad, MESSAGE, SIG)
    with pytest.raises(PointNotOnCurveError):
        bad.validate()


@pytest.mark.parametrize("coords", [(PK.x + FIELD_R, PK.y), (-1, 1)])
def test_key_non_canonical_rejected(coords: tuple[int, int]) -> None:
    with pytest.raises(MalformedSignatureError):
        verify(PublicKey(*coords), MESSAGE, SIG)


@pytest.mark.parametrize("coords", [(True, 1), (1.0, 2), ("1", "2")])
def test_key_wrong_type_rejected(coords: tuple[object, object]) -> None:
    with pytest.raises(SignatureTypeError):
        PublicKey(*coords)  # type: ignore[arg-type]


def test_verify_argument_types() -> None:
    with pytest.raises(SignatureTypeError):
        verify(PK.point, MESSAGE, SIG)  # type: ignore[arg-type]
    with pytest.raises(SignatureTypeError):
        verify(PK, MESSAGE, (SIG.R8, SIG.S))  # type: ignore[arg-type]


def test_validation_is_cached_but_not_compared() -> None:
    fresh = PublicKey(PK.x, PK.y)
    assert fresh == PK and hash(fresh) == hash(PK)
    assert fresh.validate() is fresh


# --------------------------------------------------------------------------- private key


def test_private_key_repr_redacted() -> None:
    secret = bytes(range(32))
    key = PrivateKey(secret)
    for text in (repr(key), str(key)):
        assert secret.hex() not in text and "redacted" in text
    assert key.to_bytes() == secret


@pytest.mark.parametrize("secret", [b"", b"\x01" * 31, b"\x01" * 33, b"\x01" * 64])
def test_private_key_wrong_length(secret: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        PrivateKey(secret)


@pytest.mark.parametrize("secret", ["00" * 32, 5, None])
def test_private_key_wrong_type(secret: object) -> None:
    with pytest.raises(InvalidKeyError):
        PrivateKey(secret)  # type: ignore[arg-type]


def test_generate_is_random_and_valid() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    assert a.to_bytes() != b.to_bytes()
    assert a.public_key() != b.public_key()
    assert a.public_key().validate() is a.public_key()
    verify(a.public_key(), 7, sign(a, 7))


def test_private_key_not_picklable() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(KEY)


def test_sign_requires_private_key() -> None:
    with pytest.raises(InvalidKeyError):
        sign(b"\x01" * 32, MESSAGE)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- packed forms


def test_packed_signature_layout() -> None:
    packed = SIG.to_bytes()
    assert len(packed) == 64
    assert packed[:32] == bjj.pack_point(SIG.R8)
    assert int.from_bytes(packed[32:], "little") == SIG.S


@pytest.mark.parametrize("length", [0, 63, 65])
def test_packed_signature_wrong_length(length: int) -> None:
    with pytest.raises(MalformedSignatureError):
        Signature.from_bytes(bytes(length))


def test_packed_signature_s_not_reduced() -> None:
    packed = SIG.to_bytes()[:32] + (SIG.S + L).to_bytes(32, "little")
    with pytest.raises(MalformedSignatureError):
        Signature.from_bytes(packed)


def test_packed_signature_bad_r8() -> None:
    with pytest.raises(MalformedSignatureError):
        Signature.from_bytes(FIELD_R.to_bytes(32, "little") + bytes(32))
    y = 2
    while True:
        try:
            bjj.unpack_point(y.to_bytes(32, "little"))
            y += 1
        except PointNotOnCurveError:
            break
    with pytest.raises(SignaturePointNotOnCurveError):
        Signature.from_bytes(y.to_bytes(32, "little") + bytes(32))


def test_packing_out_of_range_signature_refused() -> None:
    with pytest.raises(MalformedSignatureError):
        Signature(SIG.R8, SIG.S + L).to_bytes()


def test_packed_public_key_weak_refused() -> None:
    with pytest.raises(WeakIssuerKeyError):
        PublicKey.from_bytes((1).to_bytes(32, "little"))
    with pytest.raises(MalformedSignatureError):
        PublicKey.from_bytes(b"\x01" * 31)
