"""RFC 8785 (JCS) canonicalisation and strict JSON parsing (security.md S12)."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkhealth._json import loads_strict
from zkhealth.credentials.jcs import canonicalize, format_number
from zkhealth.errors import EncodingError

pytestmark = pytest.mark.native


@pytest.mark.parametrize(
    ("bits", "expected"),
    [
        # RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript serialisations.
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_rfc8785_number_vectors(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert format_number(value) == expected


def test_rfc8785_sorting_example() -> None:
    # RFC 8785 §3.2.3: property names sorted by UTF-16 code units.
    data = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonicalize(data)).keys())
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc8785_structure_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], '
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_integers() -> None:
    assert canonicalize([1, -1, 0, 2**53 - 1]) == b"[1,-1,0,9007199254740991]"
    with pytest.raises(EncodingError):
        canonicalize(2**53)
    with pytest.raises(EncodingError):
        canonicalize(float("nan"))
    with pytest.raises(EncodingError):
        canonicalize({1: "x"})
    with pytest.raises(EncodingError):
        canonicalize({"x": b"bytes"})
    with pytest.raises(EncodingError):
        canonicalize("\ud800")


def test_one_point_zero_and_one_canonicalise_alike() -> None:
    assert canonicalize(json.loads("[1.0, 1, 1e0, 10e-1]")) == b"[1,1,1,1]"


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(min_value=-(2.0**53), max_value=2.0**53, exclude_min=True, exclude_max=True)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_canonical_form_is_stable_and_parses_back(value: object) -> None:
    try:
        data = canonicalize(value)
    except EncodingError:
        return  # lone surrogates in generated text
    parsed = loads_strict(data)
    assert canonicalize(parsed) == data
    assert canonicalize(json.loads(json.dumps(value, indent=2, ensure_ascii=True))) == data


def test_strict_loads() -> None:
    assert loads_strict('{"a": [1, "é"]}') == {"a": [1, "é"]}
    for bad in ('{"a": 1, "a": 2}', "[NaN]", "[Infinity]", "[-Infinity]", "{", "[" * 100 + "]" * 100, b"\xff\xfe"):
        with pytest.raises(EncodingError):
            loads_strict(bad)
    with pytest.raises(EncodingError):
        loads_strict("[" + "1," * 100 + "1]", max_bytes=50)
