"""Native Poseidon: circomlibjs known answers, the generated constants, the optimised form, input checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkhealth.errors import EncodingError, FieldRangeError, FieldTypeError
from zkhealth.field import FIELD_R, Fr
from zkhealth.hash.poseidon import (
    MAX_INPUTS,
    N_ROUNDS_F,
    N_ROUNDS_P,
    poseidon,
    poseidon_constants,
    poseidon_permutation,
)

pytestmark = pytest.mark.native

VECTORS = Path(__file__).resolve().parent / "vectors" / "poseidon.json"
CASES = json.loads(VECTORS.read_text())["cases"]

field_elements = st.integers(min_value=0, max_value=FIELD_R - 1)


def reference_permutation(state: Sequence[int]) -> list[int]:
    """The textbook permutation from the plain constants (no optimisation), as circomlibjs writes it."""
    t = len(state)
    consts = poseidon_constants(t)
    half = consts.n_rounds_f // 2
    s = list(state)
    for r, round_constants in enumerate(consts.round_constants):
        s = [(a + c) % FIELD_R for a, c in zip(s, round_constants, strict=True)]
        if r < half or r >= half + consts.n_rounds_p:
            s = [pow(a, 5, FIELD_R) for a in s]
        else:
            s[0] = pow(s[0], 5, FIELD_R)
        s = [sum(m * a for m, a in zip(row, s, strict=True)) % FIELD_R for row in consts.mds]
    return s


def grain_bits_bitwise(t: int, n_rounds_p: int, count: int) -> list[int]:
    """The Grain LFSR of generate_parameters_grain.sage, one bit at a time (independent of the 18-bit trick)."""
    init = f"{1:02b}{0:04b}{254:012b}{t:012b}{N_ROUNDS_F:010b}{n_rounds_p:010b}" + "1" * 30
    reg = [int(b) for b in init]

    def step() -> int:
        new = reg[62] ^ reg[51] ^ reg[38] ^ reg[23] ^ reg[13] ^ reg[0]
        reg.pop(0)
        reg.append(new)
        return new

    for _ in range(160):
        step()
    out: list[int] = []
    while len(out) < count:
        flag, bit = step(), step()
        if flag:
            out.append(bit)
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"n{len(c['inputs'])}")
def test_circomlibjs_vectors(case: dict[str, object]) -> None:
    inputs = [int(x) for x in case["inputs"]]  # type: ignore[attr-defined]
    assert poseidon(inputs) == int(case["output"])  # type: ignore[arg-type]


def test_vectors_cover_every_arity() -> None:
    assert {len(c["inputs"]) for c in CASES} == set(range(1, MAX_INPUTS + 1))
    assert len(CASES) == 96


@pytest.mark.parametrize("t", range(2, MAX_INPUTS + 2))
def test_constants_shape_and_round_counts(t: int) -> None:
    consts = poseidon_constants(t)
    assert consts.t == t
    assert consts.n_rounds_f == 8
    assert consts.n_rounds_p == N_ROUNDS_P[t - 2]
    assert len(consts.round_constants) == consts.n_rounds_f + consts.n_rounds_p
    assert all(len(r) == t and all(0 <= c < FIELD_R for c in r) for r in consts.round_constants)
    assert len(consts.mds) == t and all(len(r) == t for r in consts.mds)
    assert len(consts.partial_constants) == consts.n_rounds_p
    assert len(consts.sparse_rows) == consts.n_rounds_p and len(consts.sparse_columns) == consts.n_rounds_p
    assert len(consts.post_partial_matrix) == t - 1
    assert poseidon_constants(t) is consts  # cached


def test_constants_spot_values_from_circomlib() -> None:
    # circomlibjs src/poseidon_constants.json, t = 3: C[0], C[last], M[0][0]; t = 17: C[last], M[16][16].
    c3 = poseidon_constants(3)
    assert c3.round_constants[0][0] == 0x0EE9A592BA9A9518D05986D656F40C2114C4993C11BB29938D21D47304CD8E6E
    assert c3.round_constants[-1][-1] == 0x1DA55CC900F0D21F4A3E694391918A1B3C23B2AC773C6B3EF88E2E4228325161
    assert c3.mds[0][0] == 0x109B7F411BA0E4C9B2B70CAF5C36A7B194BE7C11AD24378BFEDB68592BA8118B
    c17 = poseidon_constants(17)
    assert c17.round_constants[-1][-1] == 0x2A437B970FF32645BD5303F9474B5743427333C6663D17F44D918E9F2CA005D4
    assert c17.mds[16][16] == 0x1D3EE85F078FBEECDA2473EFC2BEDD1BA7EC6F4795FAAEAE3B0DE48D3080C625


@pytest.mark.parametrize("t", [2, 3, 9])
def test_round_constants_follow_bitwise_grain(t: int) -> None:
    """The first round constants equal a bit-at-a-time Grain LFSR with rejection sampling."""
    bits = grain_bits_bitwise(t, N_ROUNDS_P[t - 2], 254 * 8)
    samples = [int("".join(map(str, bits[i : i + 254])), 2) for i in range(0, len(bits), 254)]
    accepted = [v for v in samples if v < FIELD_R]
    flat = [c for r in poseidon_constants(t).round_constants for c in r]
    # Every rejection shifts later constants; the accepted prefix must match exactly.
    assert accepted == flat[: len(accepted)]
    assert len(accepted) >= 4


@pytest.mark.parametrize("t", [2, 5, 17])
def test_mds_is_cauchy_and_invertible(t: int) -> None:
    mds = poseidon_constants(t).mds
    # In a Cauchy matrix 1/M[i][j] = x_i + y_j, so 1/M[i][j] - 1/M[i][0] does not depend on i.
    inv = [[pow(v, -1, FIELD_R) for v in row] for row in mds]
    for j in range(t):
        diffs = {(inv[i][j] - inv[i][0]) % FIELD_R for i in range(t)}
        assert len(diffs) == 1


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=1, max_value=MAX_INPUTS).flatmap(lambda n: st.lists(field_elements, min_size=n, max_size=n))
)
def test_optimised_equals_reference(inputs: list[int]) -> None:
    assert poseidon(inputs) == reference_permutation([0, *inputs])[0]


@settings(max_examples=20, deadline=None)
@given(st.lists(field_elements, min_size=2, max_size=17))
def test_permutation_equals_reference(state: list[int]) -> None:
    assert poseidon_permutation(state) == reference_permutation(state)


@settings(max_examples=20, deadline=None)
@given(st.lists(field_elements, min_size=1, max_size=MAX_INPUTS))
def test_hash_is_first_cell_of_permutation(inputs: list[int]) -> None:
    assert poseidon(inputs) == poseidon_permutation([0, *inputs])[0]


def test_accepts_fr_and_tuples() -> None:
    assert (
        poseidon((Fr(1), 2))
        == poseidon([1, 2])
        == 7853200120776062878684798364095072458815029376092732009249414926327459813530
    )


def test_input_order_and_length_matter() -> None:
    assert poseidon([1, 2]) != poseidon([2, 1])
    assert poseidon([1]) != poseidon([1, 0])
    assert poseidon([0]) != poseidon([0, 0])


@pytest.mark.parametrize("bad", [[], list(range(MAX_INPUTS + 1))])
def test_wrong_count_rejected(bad: list[int]) -> None:
    with pytest.raises(EncodingError):
        poseidon(bad)


@pytest.mark.parametrize("bad", ["12", b"\x01", 5, None, {1, 2}])
def test_non_sequence_rejected(bad: object) -> None:
    with pytest.raises(EncodingError):
        poseidon(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("item", [True, False, 1.0, "1", None, b"\x01"])
def test_wrong_item_type_rejected(item: object) -> None:
    with pytest.raises(FieldTypeError):
        poseidon([1, item])  # type: ignore[list-item]


@pytest.mark.parametrize("item", [FIELD_R, FIELD_R + 1, 2 * FIELD_R, -1, 2**256 - 1, -FIELD_R])
def test_out_of_range_rejected_not_reduced(item: int) -> None:
    with pytest.raises(FieldRangeError):
        poseidon([item])
    with pytest.raises(FieldRangeError):
        poseidon_permutation([0, item])


@pytest.mark.parametrize("t", [0, 1, 18, 100])
def test_unsupported_width_rejected(t: int) -> None:
    with pytest.raises(EncodingError):
        poseidon_constants(t)
    with pytest.raises(EncodingError):
        poseidon_permutation([0] * t)


@pytest.mark.parametrize("t", [True, 3.0, "3"])
def test_width_type_rejected(t: object) -> None:
    with pytest.raises(FieldTypeError):
        poseidon_constants(t)  # type: ignore[arg-type]


def test_result_is_plain_int() -> None:
    out = poseidon([1, 2, 3])
    assert type(out) is int
    assert all(type(v) is int for v in poseidon_permutation([1, 2, 3]))
