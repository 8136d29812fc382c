"""Whole-list decoding and checking of proving-key files (formats._points, .zkey, .zkhpk)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats import _points, parse_zkey
from zkhealth.hazmat.bn254 import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul

pytestmark = pytest.mark.native


@pytest.mark.parametrize("byteorder", ["little", "big"])
@pytest.mark.parametrize("backend", [False, True])
def test_decode_coordinates_matches_per_coordinate_decoding(byteorder: str, backend: bool) -> None:
    rng = random.Random(7)
    for values in (
        [],
        [0],
        [5, 0, 0],
        [0, 0, 7],
        [FIELD_Q - 1, 0, 1, 2**255],
        [rng.randrange(2**256) for _ in range(50)] + [0] * 4,
    ):
        raw = b"".join(v.to_bytes(32, byteorder) for v in values)  # type: ignore[arg-type]
        decoded = _points.decode_coordinates(raw, len(values), byteorder, backend=backend)  # type: ignore[arg-type]
        assert [int(v) for v in decoded] == values
        if not backend:
            assert all(type(v) is int for v in decoded)
    with pytest.raises(R1csFormatError):
        _points.decode_coordinates(bytes(63), 2, "little")


def test_point_lists_identity_and_checks() -> None:
    p, q = g1_mul(G1_GENERATOR, 3), g1_mul(G1_GENERATOR, 4)
    assert p is not None and q is not None
    coords = [0, 0, *p, 0, 0, *q, 0, 0]
    assert _points.g1_points(coords, "test") == [None, p, None, q, None]
    assert _points.g1_points([], "test") == []
    with pytest.raises(R1csFormatError, match="not on the curve"):
        _points.g1_points([*p, p[0], (p[1] + 1) % FIELD_Q], "test")
    with pytest.raises(R1csFormatError, match="not below q"):
        _points.g1_points([*p, 1, FIELD_Q + 2], "test")
    g = g2_mul(G2_GENERATOR, 5)
    assert g is not None
    flat = [*g[0], *g[1]]
    assert _points.g2_points([0, 0, 0, 0, *flat], "test") == [None, g]
    with pytest.raises(R1csFormatError, match="not on the twist"):
        _points.g2_points([*flat[:3], (flat[3] + 1) % FIELD_Q], "test")
    with pytest.raises(R1csFormatError, match="not on the twist"):
        _points.g2_points([0, 0, 0, 1], "test")


def _section(data: bytes, wanted: int) -> tuple[int, int]:
    """Offset and length of section ``wanted`` of an iden3 container."""
    (count,) = struct.unpack_from("<I", data, 8)
    pos = 12
    for _ in range(count):
        kind, length = struct.unpack_from("<IQ", data, pos)
        if kind == wanted:
            return pos + 12, length
        pos += 12 + length
    raise AssertionError(f"no section {wanted}")


def test_zkey_coefficients_decoded_and_checked(shared_anchor_dir: Path) -> None:
    data = (shared_anchor_dir / "eligibility_final.zkey").read_bytes()
    pk = parse_zkey(data)
    start, length = _section(data, 4)
    (n_coeffs,) = struct.unpack_from("<I", data, start)
    assert len(pk.a_entries) + len(pk.b_entries) == n_coeffs
    # entry k decodes as (row, wire, stored / 2^512 mod r), in file order, A then B by matrix id
    matrix, row, wire = struct.unpack_from("<III", data, start + 4)
    stored = int.from_bytes(data[start + 16 : start + 48], "little")
    r2_inv = pow(2**512, -1, FIELD_R)
    assert (pk.a_entries if matrix == 0 else pk.b_entries)[0] == (row, wire, stored * r2_inv % FIELD_R)
    for field, value in ((1, pk.domain_size), (2, pk.n_wires), (0, 2)):  # row, wire, matrix id too large
        bad = bytearray(data)
        k = n_coeffs - 1
        struct.pack_into("<I", bad, start + 4 + 44 * k + 4 * field, value)
        with pytest.raises(R1csFormatError, match=f"coefficient {k} out of range"):
            parse_zkey(bytes(bad))
    bad = bytearray(data)
    bad[start + 4 + 12 : start + 4 + 44] = FIELD_R.to_bytes(32, "little")
    with pytest.raises(R1csFormatError, match="coefficient 0 out of range"):
        parse_zkey(bytes(bad))
    assert start + 4 + 44 * n_coeffs == start + length


def test_prover_checks_points_once_and_again_after_a_change(tmp_path: Path) -> None:
    """A key read from a file is not checked twice; a point changed in place after a proof is checked, and
    an off-curve base is refused before any MSM uses it."""
    from groth16_circuits import chain_r1cs, chain_witness

    from zkhealth.errors import PointNotOnCurveError
    from zkhealth.formats import load_proving_key, save_proving_key
    from zkhealth.groth16 import prove_deterministic, setup, verify

    pk, vk = setup(chain_r1cs(40), workers=1)
    assert pk.points_checked
    save_proving_key(pk, tmp_path / "key.zkhpk")
    loaded = load_proving_key(tmp_path / "key.zkhpk")
    assert loaded.points_checked
    witness = chain_witness(40, 3)
    proof = prove_deterministic(loaded, witness, 5, 7, workers=1)
    verify(vk, witness[1:3], proof)
    point = loaded.a_query[5]
    assert point is not None
    loaded.a_query[5] = (point[0], (point[1] + 1) % FIELD_Q)
    loaded._msm_bases.clear()  # the base lists are rebuilt from the changed query
    with pytest.raises(PointNotOnCurveError):
        prove_deterministic(loaded, witness, 5, 7, workers=1)
    fresh = load_proving_key(tmp_path / "key.zkhpk")
    fresh.a_query[5] = (point[0], (point[1] + 1) % FIELD_Q)
    fresh.points_checked = False
    with pytest.raises(PointNotOnCurveError):
        prove_deterministic(fresh, witness, 5, 7, workers=1)
