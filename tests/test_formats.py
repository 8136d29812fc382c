"""circom .r1cs / .wtns, snarkjs .zkey and snarkjs JSON: round trips, byte compatibility, strict parsing."""

from __future__ import annotations

import json
import struct
import subprocess
import time
from pathlib import Path

import pytest
from groth16_circuits import chain_r1cs, chain_witness

from zkhealth.errors import (
    MalformedProofError,
    NonCanonicalEncodingError,
    PublicInputOutOfRangeError,
    R1csFormatError,
    ZkHealthError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats import (
    parse_proof,
    parse_public,
    parse_r1cs,
    parse_verifying_key,
    parse_wtns,
    parse_zkey,
    r1cs_to_bytes,
    wtns_to_bytes,
)
from zkhealth.formats.snarkjs_json import (
    MAX_JSON_BYTES,
    dumps_snarkjs,
    loads_json,
    proof_to_dict,
    verifying_key_to_dict,
)
from zkhealth.groth16.r1cs_to_qap import qap_entries

pytestmark = pytest.mark.native

SNARKJS = Path(__file__).parent / "vectors" / "snarkjs"


def _section(data: bytes, wanted: int) -> tuple[int, int]:
    """(offset, length) of section ``wanted`` in an iden3 container."""
    (count,) = struct.unpack_from("<I", data, 8)
    pos = 12
    for _ in range(count):
        kind, length = struct.unpack_from("<IQ", data, pos)
        if kind == wanted:
            return pos + 12, length
        pos += 12 + length
    raise KeyError(wanted)


# --------------------------------------------------------------------------- .r1cs


def test_r1cs_round_trip_small() -> None:
    r1cs = chain_r1cs(5)
    data = r1cs_to_bytes(r1cs)
    back = parse_r1cs(data)
    assert back.n_wires == r1cs.n_wires and back.n_public == r1cs.n_public
    assert [(c.a, c.b, c.c) for c in back.constraints] == [(c.a, c.b, c.c) for c in r1cs.constraints]
    assert back.wire_to_label == list(range(r1cs.n_wires))
    assert r1cs_to_bytes(back) == data
    back.check_witness(chain_witness(5, 7))


def test_r1cs_anchor_is_reproduced_byte_for_byte(shared_anchor_dir: Path) -> None:
    original = (shared_anchor_dir / "eligibility.r1cs").read_bytes()
    r1cs = parse_r1cs(original)
    assert (r1cs.n_constraints, r1cs.n_wires, r1cs.n_public_outputs, r1cs.n_public_inputs) == (10272, 10285, 1, 14)
    assert r1cs_to_bytes(r1cs) == original


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: b"r1cz" + d[4:],
        lambda d: d[:4] + struct.pack("<I", 2) + d[8:],
        lambda d: d[:-1],
        lambda d: d + b"\0",
        lambda d: d[:8] + struct.pack("<I", 99) + d[12:],
    ],
    ids=["magic", "version", "truncated", "trailing", "section-count"],
)
def test_r1cs_container_errors(mutate: object) -> None:
    data = r1cs_to_bytes(chain_r1cs(3))
    with pytest.raises(R1csFormatError):
        parse_r1cs(mutate(data))  # type: ignore[operator]


def test_r1cs_custom_gates_refused() -> None:
    data = r1cs_to_bytes(chain_r1cs(3))
    (count,) = struct.unpack_from("<I", data, 8)
    extra = struct.pack("<IQ", 4, 4) + b"\0\0\0\0" + struct.pack("<IQ", 5, 4) + b"\0\0\0\0"
    patched = data[:8] + struct.pack("<I", count + 2) + data[12:] + extra
    with pytest.raises(R1csFormatError):
        parse_r1cs(patched)


def test_r1cs_coefficient_not_below_r_refused() -> None:
    r1cs = chain_r1cs(2)
    data = bytearray(r1cs_to_bytes(r1cs))
    offset, _ = _section(bytes(data), 2)
    # first constraint, A: u32 nTerms, u32 wire, coefficient
    data[offset + 8 : offset + 40] = FIELD_R.to_bytes(32, "little")
    with pytest.raises(R1csFormatError):
        parse_r1cs(bytes(data))


def test_r1cs_wire_out_of_range_refused() -> None:
    data = bytearray(r1cs_to_bytes(chain_r1cs(2)))
    offset, _ = _section(bytes(data), 2)
    data[offset + 4 : offset + 8] = struct.pack("<I", 10_000)
    with pytest.raises(R1csFormatError):
        parse_r1cs(bytes(data))


def test_r1cs_wrong_prime_refused() -> None:
    data = bytearray(r1cs_to_bytes(chain_r1cs(2)))
    offset, _ = _section(bytes(data), 1)
    data[offset + 4 : offset + 36] = FIELD_Q.to_bytes(32, "little")
    with pytest.raises(R1csFormatError):
        parse_r1cs(bytes(data))


# --------------------------------------------------------------------------- .wtns


def test_wtns_round_trip() -> None:
    witness = chain_witness(6, 3)
    assert parse_wtns(wtns_to_bytes(witness)) == witness


def test_wtns_anchor_byte_for_byte(shared_anchor_dir: Path) -> None:
    original = (shared_anchor_dir / "witness.wtns").read_bytes()
    witness = parse_wtns(original)
    assert len(witness) == 10285 and witness[0] == 1
    assert wtns_to_bytes(witness) == original


def test_wtns_value_not_below_r_refused() -> None:
    data = bytearray(wtns_to_bytes([1, 5, 6]))
    offset, _ = _section(bytes(data), 2)
    data[offset + 32 : offset + 64] = (5 + FIELD_R).to_bytes(32, "little")
    with pytest.raises(R1csFormatError):
        parse_wtns(bytes(data))


def test_wtns_size_mismatch_refused() -> None:
    data = bytearray(wtns_to_bytes([1, 5, 6]))
    offset, _ = _section(bytes(data), 1)
    data[offset + 36 : offset + 40] = struct.pack("<I", 4)
    with pytest.raises(R1csFormatError):
        parse_wtns(bytes(data))
    with pytest.raises(R1csFormatError):
        wtns_to_bytes([1, FIELD_R])


# --------------------------------------------------------------------------- .zkey


def test_zkey_anchor_matches_its_r1cs(shared_anchor_dir: Path) -> None:
    pk = parse_zkey((shared_anchor_dir / "eligibility_final.zkey").read_bytes())
    r1cs = parse_r1cs((shared_anchor_dir / "eligibility.r1cs").read_bytes())
    a_entries, b_entries, _ = qap_entries(r1cs)
    assert sorted(pk.a_entries) == sorted(a_entries)
    assert sorted(pk.b_entries) == sorted(b_entries)
    assert pk.domain_size == 16384 and pk.n_public == 15 and pk.n_wires == 10285
    assert len(pk.l_query) == pk.n_wires - pk.n_public - 1 and len(pk.h_query) == pk.domain_size


def test_zkey_truncated_or_wrong_protocol_refused(shared_anchor_dir: Path) -> None:
    data = (shared_anchor_dir / "eligibility_final.zkey").read_bytes()
    with pytest.raises(R1csFormatError):
        parse_zkey(data[:-10])
    offset, _ = _section(data, 1)
    patched = data[:offset] + struct.pack("<I", 2) + data[offset + 4 :]
    with pytest.raises(R1csFormatError):
        parse_zkey(patched)


# --------------------------------------------------------------------------- snarkjs JSON


@pytest.mark.parametrize("name", ["proof.json", "verification_key.json"])
def test_snarkjs_json_written_byte_for_byte(name: str) -> None:
    text = (SNARKJS / name).read_text()
    if name == "proof.json":
        assert dumps_snarkjs(proof_to_dict(parse_proof(text))) == text
    else:
        assert dumps_snarkjs(verifying_key_to_dict(parse_verifying_key(text))) == text


def test_public_json_round_trip() -> None:
    text = (SNARKJS / "public.json").read_text()
    values = parse_public(text)
    assert len(values) == 15
    assert dumps_snarkjs([str(v) for v in values]) == text


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[1.5]",
        "[1e3]",
        "{",
        "\xff",
    ],
)
def test_strict_json_refuses(text: str) -> None:
    with pytest.raises(MalformedProofError):
        loads_json(text)


def test_strict_json_refuses_huge_and_deep_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedProofError):
        loads_json(b" " * (MAX_JSON_BYTES + 1))
    with pytest.raises(MalformedProofError):
        loads_json("[" * 200_000 + "]" * 200_000)
    with pytest.raises(MalformedProofError):
        parse_public(b"[" + b'"1",' * 3_000_000 + b'"1"]')
    assert time.perf_counter() - started < 3.0


def test_deep_nesting_refused_even_with_a_raised_recursion_limit() -> None:
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(MalformedProofError):
            loads_json("[" * 2_000_000 + "]" * 2_000_000)
        with pytest.raises(MalformedProofError):
            loads_json('{"a":' * 40 + "1" + "}" * 40)
    finally:
        sys.setrecursionlimit(old)
    assert loads_json('{"a": [[["]]]["]]]}') == {"a": [[["]]]["]]]}


def test_huge_number_literal_refused() -> None:
    with pytest.raises(NonCanonicalEncodingError):
        loads_json("[" + "9" * 5000 + "]")
    with pytest.raises(NonCanonicalEncodingError):
        parse_public('["' + "9" * 5000 + '"]')


@pytest.mark.parametrize(
    ("signal", "error"),
    [
        (str(FIELD_R), PublicInputOutOfRangeError),
        (str(FIELD_R + 5), PublicInputOutOfRangeError),
        (str(2**256 - 1), PublicInputOutOfRangeError),
        ("-1", PublicInputOutOfRangeError),
        ("01", NonCanonicalEncodingError),
        ("+1", NonCanonicalEncodingError),
        (" 1", NonCanonicalEncodingError),
        ("1_000", NonCanonicalEncodingError),
        ("\u0661", NonCanonicalEncodingError),
        ("0x10", NonCanonicalEncodingError),
    ],
)
def test_public_signal_spellings(signal: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse_public(json.dumps(["1", signal]))
    if error is PublicInputOutOfRangeError:
        assert info.value.index == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [[["1"]], "1", {"0": "1"}, [None], [True], [[1, 2]]])
def test_public_signal_shapes(bad: object) -> None:
    with pytest.raises(MalformedProofError):
        parse_public(json.dumps(bad))


def _proof_obj() -> dict[str, object]:
    return json.loads((SNARKJS / "proof.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("pi_a"),
        lambda p: p.__setitem__("pi_a", p["pi_a"][:2]),
        lambda p: p.__setitem__("pi_a", "1"),
        lambda p: p.__setitem__("pi_b", p["pi_b"][:2]),
        lambda p: p["pi_b"].__setitem__(0, ["1"]),
        lambda p: p["pi_a"].__setitem__(2, "2"),
        lambda p: p["pi_b"].__setitem__(2, ["1", "1"]),
        lambda p: p.__setitem__("protocol", "plonk"),
        lambda p: p.__setitem__("curve", "bls12381"),
        lambda p: p["pi_c"].__setitem__(0, 1.5),
        lambda p: p["pi_c"].__setitem__(0, [1]),
    ],
)
def test_proof_shapes_refused(mutate: object) -> None:
    obj = _proof_obj()
    mutate(obj)  # type: ignore[operator]
    with pytest.raises(MalformedProofError):
        parse_proof(json.dumps(obj))


def test_proof_non_canonical_coordinates() -> None:
    obj = _proof_obj()
    obj["pi_a"][0] = str(int(obj["pi_a"][0]) + FIELD_Q)  # type: ignore[index]
    with pytest.raises(NonCanonicalEncodingError):
        parse_proof(json.dumps(obj))
    obj = _proof_obj()
    obj["pi_b"][0][1] = "0" + obj["pi_b"][0][1]  # type: ignore[index]
    with pytest.raises(NonCanonicalEncodingError):
        parse_proof(json.dumps(obj))


def test_verifying_key_shapes_refused() -> None:
    base = json.loads((SNARKJS / "verification_key.json").read_text())
    for mutate in (
        lambda v: v.__setitem__("nPublic", 14),
        lambda v: v.__setitem__("nPublic", "15"),
        lambda v: v.__setitem__("nPublic", True),
        lambda v: v.__setitem__("protocol", "plonk"),
        lambda v: v.pop("IC"),
        lambda v: v.__setitem__("vk_alphabeta_12", [[]]),
        lambda v: v.__setitem__("provenance", "trusted-by-me"),
    ):
        obj = json.loads(json.dumps(base))
        mutate(obj)
        with pytest.raises(MalformedProofError):
            parse_verifying_key(json.dumps(obj))


def test_every_format_error_is_a_zkhealth_error() -> None:
    for call in (lambda: parse_r1cs(b"junk"), lambda: parse_wtns(b""), lambda: parse_proof("[")):
        with pytest.raises(ZkHealthError):
            call()


# --------------------------------------------------------------------------- snarkjs accepts our files


@pytest.mark.external
def test_snarkjs_reads_our_r1cs_and_wtns(tmp_path: Path, snarkjs_cli: Path) -> None:
    from zkhealth.formats import write_r1cs, write_wtns

    r1cs = chain_r1cs(20)
    write_r1cs(r1cs, tmp_path / "chain.r1cs")
    write_wtns(chain_witness(20, 11), tmp_path / "chain.wtns")
    info = subprocess.run(
        [str(snarkjs_cli), "r1cs", "info", str(tmp_path / "chain.r1cs")],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "# of Constraints: 20" in info
    assert "# of Wires: 22" in info
    assert "# of Public Inputs: 1" in info and "# of Outputs: 1" in info
    check = subprocess.run(
        [str(snarkjs_cli), "wtns", "check", str(tmp_path / "chain.r1cs"), str(tmp_path / "chain.wtns")],
        capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WITNESS IS CORRECT" in check.stdout
