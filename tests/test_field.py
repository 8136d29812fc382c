"""zkhealth.field: canonical parsing (security.md G1, G13, Python traps) and Fr laws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    NonCanonicalEncodingError,
    ZkHealthError,
)
from zkhealth.field import FIELD_Q, FIELD_R, Fr, check_field_element, parse_canonical_int, parse_field_element

pytestmark = pytest.mark.native

R = FIELD_R
elements = st.integers(min_value=0, max_value=R - 1)


def test_moduli_are_distinct_and_ordered() -> None:
    # security.md G2: r and q must never be confused; q - r is the documented gap.
    assert FIELD_R != FIELD_Q
    assert FIELD_Q - FIELD_R == 147946756881789318990833708069417712966


@pytest.mark.parametrize("text", ["0", "1", "12", str(R - 1)])
def test_accepts_canonical_strings(text: str) -> None:
    assert parse_field_element(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        "1_000",
        " 12",
        "12 ",
        "+5",
        "-1",
        "0x1f",
        "0012",
        "00",
        "",
        "１２",  # full-width digits: int() accepts them
        "١٢",  # Arabic-Indic digits: int() accepts them
        "1e3",
        "NaN",
        "Infinity",
        "12\n",
    ],
)
def test_rejects_non_canonical_strings(text: str) -> None:
    with pytest.raises(NonCanonicalEncodingError):
        parse_field_element(text)


def test_python_int_would_have_accepted_several() -> None:
    # The reason the parser exists: int() is lenient.
    for text in ["1_000", " 12", "+5", "１２", "١٢"]:
        int(text)
        with pytest.raises(NonCanonicalEncodingError):
            parse_field_element(text)


@pytest.mark.parametrize("value", [R, R + 1, 2 * R, 2**256 - 1, str(R), str(R + 5)])
def test_rejects_values_not_below_r(value: object) -> None:
    with pytest.raises(FieldRangeError):
        parse_field_element(value)


@pytest.mark.parametrize("value", [-1, -R])
def test_rejects_negatives(value: int) -> None:
    with pytest.raises(FieldRangeError):
        parse_field_element(value)


@pytest.mark.parametrize("value", [True, False, 1.0, float("nan"), float("inf"), None, b"1", [1], 1j])
def test_rejects_wrong_types(value: object) -> None:
    with pytest.raises(FieldTypeError):
        parse_field_element(value)


def test_rejects_long_strings_quickly() -> None:
    # CVE-2020-10735: int() of a huge decimal raises ValueError (or is quadratic); we refuse at 80 digits.
    with pytest.raises(NonCanonicalEncodingError):
        parse_field_element("1" * 81)
    with pytest.raises(NonCanonicalEncodingError):
        parse_field_element("9" * 5000)


def test_errors_are_catchable_as_builtins() -> None:
    with pytest.raises(ValueError):
        parse_field_element("0012")
    with pytest.raises(TypeError):
        parse_field_element(True)
    with pytest.raises(ZkHealthError):
        parse_field_element(R)


def test_custom_modulus_for_base_field() -> None:
    assert parse_canonical_int(str(FIELD_Q - 1), FIELD_Q) == FIELD_Q - 1
    with pytest.raises(FieldRangeError):
        parse_canonical_int(FIELD_Q, FIELD_Q)
    # A value in [r, q) is a valid coordinate but not a valid signal.
    assert parse_canonical_int(R, FIELD_Q) == R
    with pytest.raises(FieldRangeError):
        parse_field_element(R)


def test_check_field_element() -> None:
    assert check_field_element(5) == 5
    with pytest.raises(FieldRangeError):
        check_field_element(R)
    with pytest.raises(FieldTypeError):
        check_field_element(True)


@given(elements)
def test_decimal_round_trip(value: int) -> None:
    assert parse_field_element(str(value)) == value
    assert Fr(str(value)) == Fr(value)


@given(elements, elements, elements)
def test_field_laws(a: int, b: int, c: int) -> None:
    x, y, z = Fr(a), Fr(b), Fr(c)
    assert x + y == y + x
    assert x * y == y * x
    assert (x + y) + z == x + (y + z)
    assert (x * y) * z == x * (y * z)
    assert x * (y + z) == x * y + x * z
    assert x - x == Fr(0)
    assert x + (-x) == Fr(0)
    if a != 0:
        assert x * x.inverse() == Fr(1)
        assert (y / x) * x == y


def test_fr_is_immutable_hashable_and_readable() -> None:
    x = Fr(7)
    with pytest.raises(AttributeError):
        x._value = 8  # type: ignore[misc]
    assert {Fr(7), Fr(7), Fr(8)} == {Fr(7), Fr(8)}
    assert repr(x) == "Fr(7)"
    assert str(x) == "7"
    assert x.to_json() == "7"
    assert int(Fr(R - 1) + 1) == 0


def test_fr_never_reduces_silently() -> None:
    with pytest.raises(FieldRangeError):
        Fr(R + 3)
    assert Fr.reduce(R + 3) == Fr(3)
    with pytest.raises(FieldRangeError):
        Fr(0).inverse()


def test_fr_pow_matches_int_pow() -> None:
    assert Fr(3) ** 5 == Fr(243)
    assert Fr(3) ** -1 == Fr(3).inverse()
