"""ICD-10-CM normalisation and the interval encoding, checked over every node of the shipped release."""

from __future__ import annotations

import functools
import json
import unicodedata
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.credentials import icd10
from zkhealth.errors import EncodingError

pytestmark = pytest.mark.native


@pytest.fixture(scope="module")
def table() -> icd10.IcdTable:
    return icd10.load_table()


def test_shipped_table_matches_the_package() -> None:
    rebuilt = icd10.build_table_from_package()
    shipped = icd10.load_table()
    assert rebuilt.names == shipped.names
    assert rebuilt.kinds == shipped.kinds
    assert rebuilt.ends == shipped.ends
    data = json.loads(resources.files("zkhealth.credentials").joinpath("icd10cm_tree.json").read_text())
    assert data["sha256"] == rebuilt.digest()
    assert icd10.table_rows_for_data_file(rebuilt) == data["nodes"]


def test_every_code_of_the_package_is_encoded_and_decoded() -> None:
    import simple_icd_10_cm as package

    codes = [c for c in package.get_all_codes(True) if not package.is_chapter(c)]
    numbers = set()
    for code in codes:
        if package.is_block(code) and "-" in code:
            continue
        number = icd10.encode_code(code)
        assert icd10.decode_code(number) == code
        assert number >= 1
        numbers.add(number)
    assert max(numbers) < 1 << icd10.ICD10_CODE_BITS


def test_intervals_nest_and_siblings_are_disjoint(table: icd10.IcdTable) -> None:
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(table.parents):
        number = index + 1
        lo, hi = table.subtree(number)
        assert lo == number <= hi
        if parent:
            plo, phi = table.subtree(parent)
            assert plo < lo and hi <= phi  # strictly inside the parent's interval
        children.setdefault(parent, []).append(number)
    for siblings in children.values():
        intervals = [table.subtree(n) for n in siblings]
        for (_, hi_a), (lo_b, _) in zip(intervals, intervals[1:], strict=False):
            assert hi_a < lo_b


def test_package_hierarchy_is_preserved_for_every_code() -> None:
    import simple_icd_10_cm as package

    for code in package.get_all_codes(True):
        if package.is_chapter_or_block(code):
            continue
        lo, hi = icd10.code_range(code)
        parent = package.get_parent(code)
        if package.is_category_or_subcategory(parent):
            plo, phi = icd10.code_range(parent)
            assert plo <= lo <= hi <= phi and (plo, phi) != (lo, hi)
        for child in package.get_children(code):
            assert lo < icd10.encode_code(child) <= hi


def test_encoding_is_injective(table: icd10.IcdTable) -> None:
    assert len(set(table.code_number.values())) == len(table.code_number)


@pytest.mark.parametrize("text", ["E11.9", "e11.9", "E119", " E11.9 ", "\tE11.9\n", "e119"])
def test_normalisation_variants(text: str) -> None:
    assert icd10.normalize_code(text) == "E11.9"
    assert icd10.encode_code(text) == icd10.encode_code("E11.9")


def test_nfd_and_nfc_forms_normalise_alike() -> None:
    assert icd10.normalize_code(unicodedata.normalize("NFD", "E11.9")) == "E11.9"
    assert icd10.normalize_code(unicodedata.normalize("NFKD", "s00.01xa")) == "S00.01XA"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "E",
        "E1",
        "E11.",
        "E11..9",
        "E11-9",
        "E 11.9",
        "1E1",
        "E11.99999",
        "E11.9é",
        "Ｅ11.9",
        "E11,9",
        "x" * 100,
        "E11.9*",
    ],
)
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(EncodingError):
        icd10.normalize_code(text)


@pytest.mark.parametrize("value", [None, 11, b"E11.9", ["E11.9"]])
def test_wrong_types_are_rejected(value: object) -> None:
    with pytest.raises(EncodingError):
        icd10.encode_code(value)


@pytest.mark.parametrize("code", ["E11.99", "Z99.99", "A00.3", "U99", "E10-E14", "EE1"])
def test_unknown_codes_are_refused(code: str) -> None:
    with pytest.raises(EncodingError):
        icd10.encode_code(code)


@pytest.mark.parametrize("number", [0, -1, 10**9, True, 1])
def test_decode_rejects_non_codes(number: object) -> None:
    # number 1 is chapter 1, not a code
    with pytest.raises(EncodingError):
        icd10.decode_code(number)


def test_code_range_patterns(table: icd10.IcdTable) -> None:
    e11 = icd10.code_range("E11")
    assert icd10.code_range("E11.*") == e11 == icd10.code_range("e11*")
    assert e11[0] == icd10.encode_code("E11")
    for code in ("E11.9", "E11.65", "E11.3211", "E11.A"):
        assert e11[0] <= icd10.encode_code(code) <= e11[1]
    for code in ("E10.9", "E13.9", "I10", "E08.00"):
        assert not e11[0] <= icd10.encode_code(code) <= e11[1]
    e116 = icd10.code_range("E11.6*")
    assert e116 == icd10.code_range("E116*")
    assert e11[0] < e116[0] <= e116[1] < e11[1]
    assert e116[0] <= icd10.encode_code("E11.65") <= e116[1]
    assert not e116[0] <= icd10.encode_code("E11.9") <= e116[1]
    leaf = icd10.encode_code("E11.65")
    assert icd10.code_range("E11.65") == (leaf, leaf)


def test_category_ranges_cover_exactly_their_categories(table: icd10.IcdTable) -> None:
    lo, hi = icd10.code_range("O00-O9A")
    for name, number in table.code_number.items():
        assert (lo <= number <= hi) == name.startswith("O"), name
    lo, hi = icd10.code_range("E08-E13")
    inside = {name[:3] for name, number in table.code_number.items() if lo <= number <= hi}
    assert inside == {"E08", "E09", "E10", "E11", "E13"}
    # a "super-block" the package lists without children still has a range
    lo, hi = icd10.code_range("C00-C96")
    assert lo <= icd10.encode_code("C50.911") <= hi
    assert not lo <= icd10.encode_code("D05.10") <= hi


def test_prefix_patterns(table: icd10.IcdTable) -> None:
    lo, hi = icd10.code_range("E1*")
    for name, number in table.code_number.items():
        assert (lo <= number <= hi) == name.startswith("E1"), name


@pytest.mark.parametrize("pattern", ["E13-E11", "E11-E13-E14", "E11.9-E13", "Z99-A00", "Q*Q", "E11.7*", "*", "E1-"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(EncodingError):
        icd10.code_range(pattern)


@functools.cache
def _sorted_codes() -> list[str]:
    return sorted(icd10.load_table().code_number)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_codes_roundtrip_and_nest(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(_sorted_codes()))
    variant = data.draw(st.sampled_from([code, code.lower(), code.replace(".", ""), f"  {code} "]))
    number = icd10.encode_code(variant)
    assert icd10.decode_code(number) == code
    lo, hi = icd10.code_range(code[:3])
    assert lo <= number <= hi
