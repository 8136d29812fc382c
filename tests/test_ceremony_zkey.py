"""Phase 2 of the ceremony (.zkey): snarkjs' bytes, interop both ways with snarkjs 0.7.6, proofs made with the
final key, and every tampering ``zkey verify`` must catch."""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from groth16_circuits import random_circuit

from zkhealth.ceremony import phase2 as zk
from zkhealth.ceremony import powersoftau as pt
from zkhealth.errors import CeremonyError, CeremonyFileError, ContributionError, InsecureVerifyingKeyError
from zkhealth.formats import write_r1cs, write_wtns
from zkhealth.formats.ptau_file import PtauFile, parse_ptau, ptau_to_bytes, write_ptau
from zkhealth.formats.snarkjs_json import load_proof, load_public, write_proof, write_public, write_verifying_key
from zkhealth.formats.zkey_file import (
    ZkeyFile,
    parse_zkey,
    parse_zkey_file,
    read_zkey_file,
    write_zkey_file,
    zkey_file_to_bytes,
)
from zkhealth.groth16 import prove, public_signals, verify
from zkhealth.hazmat import bn254
from zkhealth.r1cs import R1CS

pytestmark = pytest.mark.prove

BEACON = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")


def _snarkjs(cli: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def prepared() -> PtauFile:
    """A verified, prepared 2^7 powers of tau (two contributions)."""
    one, _ = pt.contribute(pt.new_accumulator(7), name="p1", entropy="a")
    two, _ = pt.contribute(one, name="p2", entropy="b")
    return parse_ptau(ptau_to_bytes(pt.prepare_phase2(two)))


@pytest.fixture(scope="module")
def circuit() -> tuple[R1CS, list[int]]:
    """A random satisfiable circuit: 3 public inputs, 2 private, 70 constraints (domain 2^7)."""
    return random_circuit(11, 3, 2, 70)


@pytest.fixture(scope="module")
def keys(prepared: PtauFile, circuit: tuple[R1CS, list[int]]) -> tuple[ZkeyFile, ZkeyFile, ZkeyFile]:
    """Initial key, one contribution, and a beacon on top."""
    init = zk.new_zkey(circuit[0], prepared)
    one, _ = zk.contribute(parse_zkey_file(zkey_file_to_bytes(init)), name="carol", entropy="c")
    final, _ = zk.beacon(parse_zkey_file(zkey_file_to_bytes(one)), BEACON, 10, name="beacon")
    return init, parse_zkey_file(zkey_file_to_bytes(one)), parse_zkey_file(zkey_file_to_bytes(final))


def test_ceremony_key_verifies_and_proves(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    init, one, final = keys
    report = zk.verify(final, circuit[0], prepared)
    assert [c.name for c in report.contributions] == ["carol", "beacon"]
    assert report.contributions[0].contribution_hash == zk.contribution_hash(one.contributions[0])
    assert report.circuit_hash == init.cs_hash
    pk = parse_zkey(zkey_file_to_bytes(final))
    witness = circuit[1]
    proof = prove(pk, witness)
    verify(pk.vk, public_signals(pk, witness), proof, require_production=True)
    assert report.verifying_key_sha256 == pk.vk.sha256()
    # The initial key has delta = 1: verify refuses it, and so does the Groth16 verifier (security.md G8).
    with pytest.raises(ContributionError) as info:
        zk.verify(init, circuit[0], prepared)
    assert info.value.check == "no-contribution"
    init_pk = parse_zkey(zkey_file_to_bytes(init))
    with pytest.raises(InsecureVerifyingKeyError):
        verify(init_pk.vk, public_signals(init_pk, witness), prove(init_pk, witness))


def test_beacon_is_deterministic(keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile]) -> None:
    _, one, final = keys
    again, receipt = zk.beacon(one, BEACON, 10, name="beacon")
    assert zkey_file_to_bytes(again) == zkey_file_to_bytes(final)
    assert receipt.contribution_hash == zk.contribution_hash(final.contributions[-1])
    for value, exponent in ((b"", 10), (BEACON, 9), (BEACON, 64)):
        with pytest.raises(CeremonyError):
            zk.beacon(one, value, exponent)


def test_circuit_must_fit_the_ptau(prepared: PtauFile) -> None:
    big, _ = random_circuit(3, 1, 1, 200)
    with pytest.raises(CeremonyError):
        zk.new_zkey(big, prepared)
    unprepared = parse_ptau(ptau_to_bytes(prepared))
    unprepared.sections = {s: v for s, v in unprepared.sections.items() if s < 12}
    small, _ = random_circuit(3, 1, 1, 10)
    with pytest.raises(CeremonyError):
        zk.new_zkey(small, unprepared)


# --------------------------------------------------------------------------- tampering


def _copy(z: ZkeyFile) -> ZkeyFile:
    return parse_zkey_file(zkey_file_to_bytes(z))


def _check(z: ZkeyFile, circuit: tuple[R1CS, list[int]], prepared: PtauFile) -> str:
    with pytest.raises(ContributionError) as info:
        zk.verify(parse_zkey_file(zkey_file_to_bytes(z)), circuit[0], prepared)
    return info.value.check


def test_tamper_contribution_reusing_previous_points(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    _, one, final = keys
    lazy = _copy(final)
    lazy.sections[8], lazy.sections[9] = one.sections[8], one.sections[9]  # the beacon's delta, carol's points
    assert _check(lazy, circuit, prepared) in {"section-8", "section-9"}
    lazy_h = _copy(final)
    lazy_h.sections[9] = one.sections[9]
    assert _check(lazy_h, circuit, prepared) == "section-9"


def test_tamper_wrong_exponent_in_one_point(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    _, _, final = keys
    for section, index in ((9, 17), (8, 3)):
        bad = _copy(final)
        points = list(bad.g1(section))
        points[index] = bn254.g1_double(points[index])
        bad.set_g1(section, points)
        assert _check(bad, circuit, prepared) == f"section-{section}"
    for section in (3, 5, 6):
        bad = _copy(final)
        points = list(bad.g1(section))
        assert points[2] is not None  # wire 2 (a public input) is in A and B
        points[2] = bn254.g1_double(points[2])
        bad.set_g1(section, points)
        assert _check(bad, circuit, prepared) == f"section-{section}"


def test_tamper_swapped_sections(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    _, _, final = keys
    swapped = _copy(final)
    swapped.sections[5], swapped.sections[6] = final.sections[6], final.sections[5]
    assert _check(swapped, circuit, prepared) == "section-5"
    other = _copy(final)
    other.sections[8] = final.sections[9][: len(final.sections[8])]
    assert _check(other, circuit, prepared) == "section-8"


def test_tamper_truncated_and_malformed(keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], tmp_path: Path) -> None:
    _, _, final = keys
    raw = zkey_file_to_bytes(final)
    for cut in (len(raw) - 1, len(raw) - 300, len(raw) // 2, 30):
        path = tmp_path / "cut.zkey"
        path.write_bytes(raw[:cut])
        with pytest.raises(CeremonyFileError) as info:
            read_zkey_file(path)
        assert str(path) in str(info.value)
    with pytest.raises(CeremonyFileError):
        parse_zkey_file(raw + b"\x00")
    plonk = bytearray(raw)
    plonk[12 + 12] = 2  # section 1: protocol id 2 (PLONK)
    with pytest.raises(CeremonyFileError):
        parse_zkey_file(bytes(plonk))
    # A header claiming 2^31 wires: refused from the section sizes, before any point is decoded.
    huge = bytearray(raw)
    header_at = 12 + 12 + 4 + 12  # after section 1 (u32 protocol) and section 2's own header
    struct.pack_into("<I", huge, header_at + 4 + 32 + 4 + 32, 2**31)
    with pytest.raises(CeremonyFileError) as info:
        parse_zkey_file(bytes(huge), path="huge.zkey")
    assert info.value.path == "huge.zkey" and info.value.section == 5  # A: n_vars points


def test_tamper_beacon_iteration_count(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    _, _, final = keys
    wrong = _copy(final)
    wrong.contributions[-1] = replace(wrong.contributions[-1], beacon_exponent=11)
    assert _check(wrong, circuit, prepared) == "beacon"
    not_a_beacon = _copy(final)
    first = not_a_beacon.contributions[0]
    not_a_beacon.contributions[0] = replace(first, kind=1, beacon_value=BEACON, beacon_exponent=10)
    assert _check(not_a_beacon, circuit, prepared) == "beacon"


def test_tamper_hash_that_does_not_chain(
    keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    _, _, final = keys
    first = _copy(final)
    first.contributions[0] = replace(first.contributions[0], transcript=bytes(64))
    assert _check(first, circuit, prepared) == "transcript"
    # Carol's record altered after the fact: the beacon's transcript committed to the original.
    moved = _copy(final)
    moved.contributions[0] = replace(moved.contributions[0], g1_s=bn254.g1_double(moved.contributions[0].g1_s))
    assert _check(moved, circuit, prepared) == "transcript"
    other_circuit = _copy(final)
    other_circuit.cs_hash = bytes(64)
    assert _check(other_circuit, circuit, prepared) == "transcript"
    delta = _copy(final)
    delta.delta_1 = bn254.g1_double(delta.delta_1)
    assert _check(delta, circuit, prepared) == "delta"


def test_key_of_another_circuit(keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], prepared: PtauFile) -> None:
    _, _, final = keys
    other, _ = random_circuit(12, 3, 2, 70)
    with pytest.raises(ContributionError) as info:
        zk.verify(final, other, prepared)
    assert info.value.check in {"circuit-hash", "circuit"}


# --------------------------------------------------------------------------- interop with snarkjs 0.7.6


@pytest.fixture(scope="module")
def files(
    prepared: PtauFile, circuit: tuple[R1CS, list[int]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp("zkey")
    write_ptau(prepared, folder / "final.ptau")
    write_r1cs(circuit[0], folder / "circuit.r1cs")
    write_wtns(circuit[1], folder / "witness.wtns")
    return folder


@pytest.mark.external
def test_zkey_new_and_beacon_are_snarkjs_bytes(files: Path, snarkjs_cli: Path, keys: tuple[ZkeyFile, ...]) -> None:
    init, one, _ = keys
    result = _snarkjs(snarkjs_cli, "zkey", "new", str(files / "circuit.r1cs"), str(files / "final.ptau"),
                      str(files / "sj0.zkey"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (files / "sj0.zkey").read_bytes() == zkey_file_to_bytes(init)
    write_zkey_file(one, files / "one.zkey")
    result = _snarkjs(snarkjs_cli, "zkey", "beacon", str(files / "one.zkey"), str(files / "sjb.zkey"), BEACON.hex(),
                      "10", "-n=beacon")  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours, _ = zk.beacon(one, BEACON, 10, name="beacon")
    assert (files / "sjb.zkey").read_bytes() == zkey_file_to_bytes(ours)


@pytest.mark.external
def test_started_by_snarkjs_continued_by_us(
    files: Path, snarkjs_cli: Path, circuit: tuple[R1CS, list[int]], prepared: PtauFile
) -> None:
    assert _snarkjs(snarkjs_cli, "zkey", "new", str(files / "circuit.r1cs"), str(files / "final.ptau"),
                    str(files / "a0.zkey")).returncode == 0  # fmt: skip
    result = _snarkjs(snarkjs_cli, "zkey", "contribute", str(files / "a0.zkey"), str(files / "a1.zkey"),
                      "--name=snarkjs user", "-e=entropy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours, _ = zk.contribute(read_zkey_file(files / "a1.zkey"), name="zkhealth user", entropy="x")
    write_zkey_file(ours, files / "a2.zkey")
    result = _snarkjs(snarkjs_cli, "zkey", "verify", str(files / "circuit.r1cs"), str(files / "final.ptau"),
                      str(files / "a2.zkey"))  # fmt: skip
    assert result.returncode == 0 and "ZKey Ok" in result.stdout, result.stdout[-2000:]
    report = zk.verify(read_zkey_file(files / "a2.zkey"), circuit[0], prepared)
    assert [c.name for c in report.contributions] == ["snarkjs user", "zkhealth user"]


@pytest.mark.external
def test_started_by_us_continued_by_snarkjs_and_proofs_verify_in_both(
    files: Path, snarkjs_cli: Path, keys: tuple[ZkeyFile, ZkeyFile, ZkeyFile], circuit: tuple[R1CS, list[int]],
    prepared: PtauFile,
) -> None:  # fmt: skip
    _, one, _ = keys
    write_zkey_file(one, files / "b1.zkey")
    result = _snarkjs(snarkjs_cli, "zkey", "contribute", str(files / "b1.zkey"), str(files / "b2.zkey"),
                      "--name=snarkjs second", "-e=more")  # fmt: skip
    assert result.returncode == 0, result.stderr
    final = read_zkey_file(files / "b2.zkey")
    assert len(zk.verify(final, circuit[0], prepared).contributions) == 2
    result = _snarkjs(snarkjs_cli, "zkey", "verify", str(files / "circuit.r1cs"), str(files / "final.ptau"),
                      str(files / "b2.zkey"))  # fmt: skip
    assert result.returncode == 0 and "ZKey Ok" in result.stdout, result.stdout[-2000:]
    # Our proof with the final key, verified by snarkjs; snarkjs' proof verified by us.
    pk = parse_zkey((files / "b2.zkey").read_bytes())
    witness = circuit[1]
    write_verifying_key(zk.export_verification_key(final), files / "vk.json")
    write_proof(prove(pk, witness), files / "proof.json")
    write_public(public_signals(pk, witness), files / "public.json")
    result = _snarkjs(snarkjs_cli, "groth16", "verify", str(files / "vk.json"), str(files / "public.json"),
                      str(files / "proof.json"))  # fmt: skip
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout
    result = _snarkjs(snarkjs_cli, "groth16", "prove", str(files / "b2.zkey"), str(files / "witness.wtns"),
                      str(files / "sj_proof.json"), str(files / "sj_public.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    verify(pk.vk, load_public(files / "sj_public.json"), load_proof(files / "sj_proof.json"), require_production=True)
    # snarkjs exports the same verification key.
    result = _snarkjs(
        snarkjs_cli, "zkey", "export", "verificationkey", str(files / "b2.zkey"), str(files / "sj_vk.json")
    )
    assert result.returncode == 0
    ours_json = json.loads((files / "vk.json").read_text())
    theirs_json = json.loads((files / "sj_vk.json").read_text())
    for field in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC", "nPublic"):
        assert ours_json[field] == theirs_json[field]


@pytest.mark.external
def test_snarkjs_rejects_our_tampered_key(files: Path, snarkjs_cli: Path, keys: tuple[ZkeyFile, ...]) -> None:
    _, _, final = keys
    bad = _copy(final)
    points = list(bad.g1(9))
    points[5] = bn254.g1_double(points[5])
    bad.set_g1(9, points)
    write_zkey_file(bad, files / "bad.zkey")
    result = _snarkjs(snarkjs_cli, "zkey", "verify", str(files / "circuit.r1cs"), str(files / "final.ptau"),
                      str(files / "bad.zkey"))  # fmt: skip
    assert result.returncode != 0 or "ZKey Ok" not in result.stdout
