"""BLAKE-512 (SHA-3 finalist, round 3): the submission's known answers and padding boundaries."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.hash.blake512 import blake512

pytestmark = pytest.mark.native

# The BLAKE submission's test values (1-byte and 144-byte zero messages, BLAKE-512), and other
# published answers (empty message, a sentence, 111 zero bytes: the one-free-byte padding 0x81 case).
SUBMISSION_VECTORS = {
    b"\x00": "97961587f6d970faba6d2478045de6d1fabd09b61ae50932054d52bc29d31be4"
    "ff9102b9f69e2bbdb83be13d4b9c06091e5fa0b48bd081b634058be0ec49beb3",
    b"\x00" * 144: "313717d608e9cf758dcb1eb0f0c3cf9fc150b2d500fb33f51c52afc99d358a2f"
    "1374b8a38bba7974e7f6ef79cab16f22ce1e649d6e01ad9589c213045d545dde",
    b"": "a8cfbbd73726062df0c6864dda65defe58ef0cc52a5625090fa17601e1eecd1b"
    "628e94f396ae402a00acc9eab77b4d4c2e852aaaa25a636d80af3fc7913ef5b8",
    b"The quick brown fox jumps over the lazy dog": "1f7e26f63b6ad25a0896fd978fd050a1766391d2fd0471a77afb975e5034b7ad"
    "2d9ccf8dfb47abbbe656e1b82fbc634ba42ce186e8dc5e1ce09a885d41f43451",
    b"\x00" * 111: "125695c5cc01de48d8b107c101778fc447a55ad3440a17dc153c6c652faecdbf"
    "017aed68f4f48826b9dfc413ef8f14ae7dfd8b74a0afcf47b61ce7dcb1058976",
}

# Made with npm blake-hash (what circomlibjs uses) for bytes((7 * i + 3) & 255 for i in range(n)):
# the padding boundaries 112 (two-block tail), 127, 128 (padding-only block, counter 0), 129, 256.
BLAKE_HASH_VECTORS = {
    112: "98db0413b1d5d00701e47201b3231775469848e6dcc466518eb558bbc70a6f90"
    "52565dae93bb6492e6561191cb35cd6ff1d74acae40eac1f32adab1260438f01",
    127: "302dfa20f58f21868b5da6659eafa0ec775ed3aa5b14638ce143d0782856c254"
    "c98268b0e427f69d7be55c57d83b70748e71747bbdfd77434726c7e70c94ce90",
    128: "3c350078680ce05cd542e0b8fcf0757ce88131135ab58a5ec9785f02052d62fc"
    "799244607d404cfd97dfcd158474448d35d77cca9cffb931f261866cb1c38901",
    129: "d38d489c398a15651b72c4704d9ed5ab8c6875e2a2e8214b240d596566225c2e"
    "f9ca35979222b943c5b875138c49b5af906c86cf28848d5c288764128619ad82",
    256: "87d67e192348857ffe9b0aeb84ae6df1c41d18b42df1c57435ff2a758d9f56bb"
    "3319366be9d7c7c212edc17728d8484809605176fe988db3754ec3f5a7f34fe2",
}


@pytest.mark.parametrize("message", list(SUBMISSION_VECTORS), ids=lambda m: f"len{len(m)}")
def test_published_vectors(message: bytes) -> None:
    assert blake512(message).hex() == SUBMISSION_VECTORS[message]


@pytest.mark.parametrize("length", list(BLAKE_HASH_VECTORS))
def test_padding_boundaries_against_blake_hash(length: int) -> None:
    message = bytes((7 * i + 3) & 255 for i in range(length))
    assert blake512(message).hex() == BLAKE_HASH_VECTORS[length]


def test_not_blake2b() -> None:
    assert blake512(b"") != hashlib.blake2b(b"").digest()
    assert blake512(b"\x00") != hashlib.blake2b(b"\x00").digest()


def test_accepts_bytes_like() -> None:
    data = b"\x01\x02\x03"
    assert blake512(bytearray(data)) == blake512(memoryview(data)) == blake512(data)


@pytest.mark.parametrize("bad", ["abc", 5, None, [1, 2]])
def test_rejects_non_bytes(bad: object) -> None:
    with pytest.raises(TypeError):
        blake512(bad)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=400), st.binary(min_size=1, max_size=3))
def test_output_size_and_sensitivity(message: bytes, extra: bytes) -> None:
    digest = blake512(message)
    assert len(digest) == 64
    assert blake512(message + extra) != digest
    assert blake512(message) == digest
