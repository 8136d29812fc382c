"""Ed25519 envelope signatures: RFC 8032 answers, strict lengths, weak keys, bit flips, no nacl leaks."""

from __future__ import annotations

import pickle

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.errors import (
    EncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedSignatureError,
    SignatureError,
    SignatureTypeError,
    WeakIssuerKeyError,
    ZkHealthError,
)
from zkhealth.signature.ed25519 import (
    Ed25519SigningKey,
    Ed25519VerifyKey,
    b64url_decode,
    b64url_encode,
)

pytestmark = pytest.mark.native

# RFC 8032 Section 7.1, TEST 1 and TEST 2.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]

# Encodings of the eight small-order points, plus non-canonical y = p and y = p + 1 (libsodium's blocklist).
SMALL_ORDER = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]

KEY = Ed25519SigningKey.from_seed(bytes(range(32)))
MESSAGE = b'{"credential": "example"}'
SIG = KEY.sign(MESSAGE)


@pytest.mark.parametrize(("seed", "public", "message", "signature"), RFC8032)
def test_rfc8032_vectors(seed: str, public: str, message: str, signature: str) -> None:
    key = Ed25519SigningKey.from_seed(bytes.fromhex(seed))
    assert key.verify_key.to_hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    vk = Ed25519VerifyKey.from_bytes(bytes.fromhex(public))
    assert vk == key.verify_key and hash(vk) == hash(key.verify_key)
    vk.verify(bytes.fromhex(message), bytes.fromhex(signature))


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=300))
def test_roundtrip(seed: bytes, message: bytes) -> None:
    key = Ed25519SigningKey.from_seed(seed)
    signature = key.sign(message)
    assert len(signature) == 64
    key.verify_key.verify(message, signature)
    Ed25519VerifyKey.from_bytes(key.verify_key.to_bytes()).verify(message, signature)
    with pytest.raises(InvalidSignatureError):
        key.verify_key.verify(message + b"\x00", signature)


def test_every_signature_bit_flip_rejected() -> None:
    for bit in range(512):
        tampered = bytearray(SIG)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(InvalidSignatureError):
            KEY.verify_key.verify(MESSAGE, bytes(tampered))


def test_every_message_bit_flip_rejected() -> None:
    for bit in range(len(MESSAGE) * 8):
        tampered = bytearray(MESSAGE)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(InvalidSignatureError):
            KEY.verify_key.verify(bytes(tampered), SIG)


def test_every_key_bit_flip_rejected_with_typed_errors() -> None:
    raw = KEY.verify_key.to_bytes()
    for bit in range(256):
        tampered = bytearray(raw)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises((InvalidKeyError, SignatureError)):
            Ed25519VerifyKey.from_bytes(bytes(tampered)).verify(MESSAGE, SIG)


def test_non_canonical_s_rejected() -> None:
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(SIG[32:], "little") + order
    with pytest.raises(InvalidSignatureError):
        KEY.verify_key.verify(MESSAGE, SIG[:32] + s.to_bytes(32, "little"))


@pytest.mark.parametrize("encoded", SMALL_ORDER)
def test_small_order_keys_rejected(encoded: str) -> None:
    assert not nacl.bindings.crypto_core_ed25519_is_valid_point(bytes.fromhex(encoded))
    with pytest.raises(WeakIssuerKeyError):
        Ed25519VerifyKey.from_bytes(bytes.fromhex(encoded))


def test_key_with_torsion_component_rejected() -> None:
    mixed = nacl.bindings.crypto_core_ed25519_add(KEY.verify_key.to_bytes(), bytes.fromhex(SMALL_ORDER[4]))
    with pytest.raises(InvalidKeyError):
        Ed25519VerifyKey.from_bytes(mixed)


def test_off_curve_key_rejected() -> None:
    candidate = 2
    while True:
        raw = candidate.to_bytes(32, "little")
        try:
            Ed25519VerifyKey.from_bytes(raw)
        except InvalidKeyError:
            if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
                break
        candidate += 1
    with pytest.raises(InvalidKeyError):
        Ed25519VerifyKey.from_bytes(raw)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_key_wrong_length(length: int) -> None:
    with pytest.raises(InvalidKeyError):
        Ed25519VerifyKey.from_bytes(b"\x01" * length)
    with pytest.raises(InvalidKeyError):
        Ed25519SigningKey.from_seed(b"\x01" * length)


@pytest.mark.parametrize("value", ["00" * 32, 5, None, [0] * 32])
def test_key_wrong_type(value: object) -> None:
    with pytest.raises(InvalidKeyError):
        Ed25519VerifyKey.from_bytes(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        Ed25519SigningKey.from_seed(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_signature_wrong_length(length: int) -> None:
    with pytest.raises(MalformedSignatureError):
        KEY.verify_key.verify(MESSAGE, SIG[:1] * length)


def test_wrong_argument_types() -> None:
    with pytest.raises(SignatureTypeError):
        KEY.verify_key.verify("text", SIG)  # type: ignore[arg-type]
    with pytest.raises(SignatureTypeError):
        KEY.verify_key.verify(MESSAGE, SIG.hex())  # type: ignore[arg-type]
    with pytest.raises(SignatureTypeError):
        KEY.sign("text")  # type: ignore[arg-type]


def test_no_nacl_exception_escapes() -> None:
    attempts = [
        lambda: KEY.verify_key.verify(MESSAGE, bytes(64)),
        lambda: KEY.verify_key.verify(MESSAGE, b"\xff" * 64),
        lambda: Ed25519VerifyKey.from_bytes(b"\xff" * 32),
    ]
    for attempt in attempts:
        with pytest.raises(ZkHealthError) as info:
            attempt()
        assert info.value.__cause__ is None or isinstance(info.value.__cause__, ZkHealthError)
        assert info.value.__suppress_context__ or info.value.__context__ is None


def test_repr_never_shows_seed() -> None:
    seed = bytes(range(32))
    text = repr(Ed25519SigningKey.from_seed(seed))
    assert seed.hex() not in text and "redacted" in text
    assert Ed25519SigningKey.from_seed(seed).seed_bytes() == seed


def test_signing_key_not_picklable() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(KEY)


def test_direct_construction_refused() -> None:
    with pytest.raises(TypeError):
        Ed25519VerifyKey(bytes(32))
    with pytest.raises(TypeError):
        Ed25519SigningKey(bytes(32))


def test_generate_gives_distinct_working_keys() -> None:
    a, b = Ed25519SigningKey.generate(), Ed25519SigningKey.generate()
    assert a.verify_key != b.verify_key
    a.verify_key.verify(b"m", a.sign(b"m"))
    with pytest.raises(InvalidSignatureError):
        b.verify_key.verify(b"m", a.sign(b"m"))


def test_hex_roundtrip_and_strictness() -> None:
    hex_key = KEY.verify_key.to_hex()
    assert Ed25519VerifyKey.from_hex(hex_key) == KEY.verify_key
    for bad in (hex_key.upper(), hex_key[:-2], hex_key + "00", " " + hex_key[1:], 5):
        with pytest.raises(InvalidKeyError):
            Ed25519VerifyKey.from_hex(bad)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=100))
def test_b64url_roundtrip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize("bad", ["AA==", "A", "AB", "a+b/", "ab cd", "ab\n", "ÀÀÀÀ", 5, None])
def test_b64url_strict(bad: object) -> None:
    with pytest.raises(EncodingError):
        b64url_decode(bad)  # type: ignore[arg-type]


def test_b64url_encode_rejects_non_bytes() -> None:
    with pytest.raises(EncodingError):
        b64url_encode("text")  # type: ignore[arg-type]
