"""Clinical code encodings of schema version 2 (zkhealth.credentials.codes): injective, check digits verified,
every class one contiguous range."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.credentials import codes, icd10
from zkhealth.errors import CodeSystemError, EncodingError

pytestmark = pytest.mark.native

ATC_CODES = ["A10BA02", "A10BB01", "A10BJ02", "A10BK01", "A10AE04", "C09AA02", "C10AA05", "B01AC06", "N06AB06"]


def test_snomed_ids_check_digit_and_partition() -> None:
    assert codes.snomed_encode("44054006") == 44054006  # type 2 diabetes mellitus
    assert codes.snomed_encode(" 73211009 ") == 73211009
    with pytest.raises(CodeSystemError):
        codes.snomed_encode("44054007")  # wrong Verhoeff check digit
    with pytest.raises(CodeSystemError):
        codes.snomed_encode("044054006")  # leading zero
    with pytest.raises(CodeSystemError):
        codes.snomed_encode("12345")  # too short
    # A description id (partition 01) is not a concept, even with a valid check digit.
    description = next(f"1001{d}" + "01" + str(c) for d in range(10) for c in range(10)
                       if codes.verhoeff_valid(f"1001{d}01{c}"))
    with pytest.raises(CodeSystemError):
        codes.snomed_encode(description)


def test_loinc_check_digits_and_table() -> None:
    assert codes.loinc_encode("4548-4") == 45484
    assert codes.loinc_decode(45484) == "4548-4"
    with pytest.raises(CodeSystemError):
        codes.loinc_encode("4548-5")
    with pytest.raises(CodeSystemError):
        codes.loinc_encode("4548")
    for concept in codes.OBSERVATIONS:  # every canonical code and alias carries a valid check digit
        for code in (concept.loinc, *concept.aliases):
            number = codes.encode_clinical_code(concept.system, code)
            assert codes.decode_clinical_code(concept.system, number) == code
    assert {c.system for c in codes.OBSERVATIONS} == {"loinc", "snomed"}  # pack-years: a SNOMED CT observable
    assert codes.observation("17856-6") is codes.observation("hba1c")  # an alias maps to the canonical concept
    required = {"hba1c", "glucose", "egfr", "creatinine", "ldl", "hdl", "total_cholesterol", "triglycerides", "alt",
                "ast", "haemoglobin", "platelets", "bmi", "weight", "height", "systolic_bp", "diastolic_bp",
                "pregnancy_status", "smoking_status"}
    assert required <= {c.name for c in codes.OBSERVATIONS}


def test_observation_values_are_exact() -> None:
    hba1c = codes.observation("hba1c")
    assert hba1c is not None
    assert hba1c.encode_value("7.25") == 725
    with pytest.raises(EncodingError):
        hba1c.encode_value("7.255")  # more decimals than the scale: refused, not rounded
    with pytest.raises(EncodingError):
        hba1c.encode_value(Decimal("-1"))
    smoking = codes.observation("smoking_status")
    assert smoking is not None
    assert smoking.encode_value("8517006") == smoking.encode_value("former") == 2
    with pytest.raises(EncodingError):
        smoking.encode_value("sometimes")


@pytest.mark.parametrize("code", ATC_CODES)
def test_atc_round_trip_and_prefix_ranges(code: str) -> None:
    number = codes.atc_encode(code)
    assert codes.atc_decode(number) == code
    for prefix in codes.atc_prefixes(code):
        lo, hi = codes.atc_range(prefix)
        assert lo <= number <= hi
        assert codes.atc_encode(prefix) == lo  # a prefix is the smallest number of its class
    assert codes.encode_clinical_code("atc", code) == number
    with pytest.raises(CodeSystemError):
        codes.encode_clinical_code("atc", code[:4])  # a class is not a substance


@given(st.sampled_from(ATC_CODES), st.sampled_from(ATC_CODES))
def test_atc_class_membership_is_the_prefix_relation(code: str, other: str) -> None:
    number = codes.atc_encode(other)
    for prefix in codes.atc_prefixes(code):
        lo, hi = codes.atc_range(prefix)
        assert (lo <= number <= hi) == other.startswith(prefix)


_PCS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@settings(max_examples=200)
@given(st.text(alphabet=_PCS, min_size=7, max_size=7), st.text(alphabet=_PCS, min_size=7, max_size=7),
       st.integers(min_value=1, max_value=7))
def test_pcs_prefix_ranges(code: str, other: str, length: int) -> None:
    assert codes.pcs_decode(codes.pcs_encode(code)) == code
    lo, hi = codes.pcs_range(code[:length])
    assert (lo <= codes.pcs_encode(other) <= hi) == other.startswith(code[:length])


def test_pcs_refuses_i_and_o() -> None:
    for bad in ("0DTJ4ZI", "0DTJ4ZO", "0DTJ4Z", "0DTJ4ZZZ"):
        with pytest.raises(CodeSystemError):
            codes.encode_clinical_code("icd10pcs", bad)


def test_icd10_tiling_is_exact_and_small() -> None:
    table = icd10.load_table()
    def tiles(pattern: str) -> list[str]:
        return [table.names[n - 1] for n in codes.icd10_node_tiling(*codes.clinical_code_range("icd10cm", pattern))]

    assert tiles("C77-C79") == ["C77", "C78", "C79"]
    assert tiles("E11.*") == ["E11"]
    assert tiles("O00-O9A") == ["15"]
    rng = random.Random(14)
    categories = table.category_numbers
    for _ in range(30):
        a, b = sorted(rng.sample(range(len(categories)), 2))
        lo = categories[a]
        hi = table.ends[categories[b] - 1]
        nodes = codes.icd10_node_tiling(lo, hi)
        covered = set()
        for node in nodes:
            covered.update(n for n in range(node, table.ends[node - 1] + 1) if table.kinds[n - 1] == "k")
        expected = {n for n in range(lo, hi + 1) if table.kinds[n - 1] == "k"}
        assert covered == expected


def test_ancestors_include_blocks_and_chapter() -> None:
    table = icd10.load_table()
    names = [table.names[n - 1] for n in codes.icd10_ancestors(codes.encode_clinical_code("icd10cm", "E11.9"))]
    assert names == ["E11.9", "E11", "E08-E13", "4"]


def test_unknown_system_and_statuses() -> None:
    with pytest.raises(CodeSystemError):
        codes.encode_clinical_code("cpt", "99213")
    assert codes.condition_status("active", "confirmed") == 1
    assert codes.condition_status("resolved", "provisional") == 14
    with pytest.raises(EncodingError):
        codes.condition_status("active", "refuted")
