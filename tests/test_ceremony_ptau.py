"""Phase 1 of the ceremony (powers of tau): our primitives, the .ptau format, interop with snarkjs 0.7.6 both
ways, and every tampering ``verify`` must catch."""

from __future__ import annotations

import hashlib
import random
import secrets
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from zkhealth.ceremony import powersoftau as pt
from zkhealth.ceremony.keypair import ChaCha, contribution_rng, fr_from_rng, g1_from_rng, g2_from_rng, hash_to_g2
from zkhealth.errors import ArgumentTypeError, CeremonyError, CeremonyFileError, ContributionError, FileAccessError
from zkhealth.field import FIELD_R
from zkhealth.formats.ptau_file import PtauFile, parse_ptau, ptau_to_bytes, read_ptau, write_ptau
from zkhealth.groth16.r1cs_to_qap import lagrange_basis_at
from zkhealth.hash.blake2b import Blake2b
from zkhealth.hazmat import bn254
from zkhealth.hazmat.batch_ec import (
    G2_GLS_LAMBDA,
    g1_add_many,
    g1_mul_many,
    g1_sub_many,
    g2_add_many,
    g2_mul_many,
    g2_sub_many,
)
from zkhealth.hazmat.group_fft import g1_ifft, g2_ifft, ifft_cost

BEACON = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
POWER = 8


def _snarkjs(cli: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------- primitives (tier 1)


@pytest.mark.native
@pytest.mark.parametrize("length", [0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000])
def test_blake2b_matches_hashlib_and_resumes(length: int) -> None:
    data = bytes(random.Random(length).randrange(256) for _ in range(length + 700))
    head, tail = data[:length], data[length:]
    state = Blake2b(head)
    assert state.digest() == hashlib.blake2b(head).digest()
    resumed = Blake2b.from_partial_state(state.partial_state())
    resumed.update(tail)
    assert resumed.digest() == hashlib.blake2b(data).digest()
    copy = state.copy()
    copy.update(b"x")
    assert state.digest() == hashlib.blake2b(head).digest()


@pytest.mark.native
def test_blake2b_libsodium_and_pure_python_states_agree() -> None:
    data = bytes(range(256)) * 40
    for length in (0, 1, 127, 128, 129, 255, 256, 257, 5000):
        fast = Blake2b(data[:length])
        pure = Blake2b(data[:length], use_libsodium=False)
        assert fast.partial_state() == pure.partial_state()
        assert fast.digest() == pure.digest() == hashlib.blake2b(data[:length]).digest()


@pytest.mark.native
def test_blake2b_rejects_impossible_states() -> None:
    good = Blake2b(bytes(300)).partial_state()
    with pytest.raises(ValueError):
        Blake2b.from_partial_state(good[:-1])
    bad_pos = bytearray(good)
    bad_pos[200:208] = struct.pack("<Q", 129)
    with pytest.raises(ValueError):
        Blake2b.from_partial_state(bytes(bad_pos))
    bad_count = bytearray(good)
    bad_count[192:200] = struct.pack("<Q", 100)
    with pytest.raises(ValueError):
        Blake2b.from_partial_state(bytes(bad_count))
    with pytest.raises(TypeError):
        Blake2b().update("text")  # type: ignore[arg-type]


@pytest.mark.native
def test_chacha_known_answer() -> None:
    # RFC 7539 section 2.3.2 keystream block with key 00..1f, but ffjavascript's layout: nonce and counter 0.
    rng = ChaCha(list(struct.unpack("<8I", bytes(range(32)))))
    words = [rng.next_u32() for _ in range(16)]
    # Independent ChaCha20 (cryptography-free): the all-zero-nonce block is fixed by the RFC 7539 key schedule.
    expected = _reference_chacha_block(bytes(range(32)))
    assert words == expected
    assert ChaCha([0] * 8).next_u64() == (ChaCha([0] * 8).next_u32() << 32) | _second_word([0] * 8)
    with pytest.raises(CeremonyError):
        ChaCha([0] * 7)
    with pytest.raises(CeremonyError):
        ChaCha([2**32] + [0] * 7)


def _second_word(seed: list[int]) -> int:
    rng = ChaCha(seed)
    rng.next_u32()
    return rng.next_u32()


def _reference_chacha_block(key: bytes) -> list[int]:
    """ChaCha20 block (RFC 7539 section 2.3), written out independently for the known-answer test."""

    def rotl(v: int, c: int) -> int:
        return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *struct.unpack("<8I", key), 0, 0, 0, 0]
    x = list(state)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):  # fmt: skip
            x[a] = (x[a] + x[b]) & 0xFFFFFFFF
            x[d] = rotl(x[d] ^ x[a], 16)
            x[c] = (x[c] + x[d]) & 0xFFFFFFFF
            x[b] = rotl(x[b] ^ x[c], 12)
            x[a] = (x[a] + x[b]) & 0xFFFFFFFF
            x[d] = rotl(x[d] ^ x[a], 8)
            x[c] = (x[c] + x[d]) & 0xFFFFFFFF
            x[b] = rotl(x[b] ^ x[c], 7)
    return [(u + v) & 0xFFFFFFFF for u, v in zip(x, state, strict=True)]


@pytest.mark.native
def test_sampling_gives_valid_points() -> None:
    rng = contribution_rng("text", os_entropy=bytes(64))
    scalar = fr_from_rng(rng)
    assert 0 < scalar < FIELD_R
    p = g1_from_rng(rng)
    assert bn254.g1_is_on_curve(p)
    q = g2_from_rng(rng)
    assert bn254.g2_is_on_curve(q) and bn254.g2_in_subgroup(q)
    assert hash_to_g2(bytes(64)) == hash_to_g2(bytes(64)) != hash_to_g2(b"\x01" + bytes(63))
    with pytest.raises(CeremonyError):
        contribution_rng("", os_entropy=bytes(10))


@pytest.mark.native
def test_batch_scalar_multiplication_matches_bn254() -> None:
    rng = random.Random(7)
    g1 = [bn254.g1_mul(bn254.G1_GENERATOR, rng.randrange(1, FIELD_R)) for _ in range(12)]
    scalars = [rng.randrange(FIELD_R) for _ in range(12)]
    g1[3] = None
    scalars[4:8] = [0, 1, FIELD_R - 1, FIELD_R + 5]
    g1[8] = g1[9]  # the same base twice
    out = g1_mul_many(g1, scalars)
    assert out == [bn254.g1_mul(p, k) for p, k in zip(g1, scalars, strict=True)]
    g2 = [bn254.g2_mul(bn254.G2_GENERATOR, rng.randrange(1, FIELD_R)) for _ in range(6)]
    scalars2 = [rng.randrange(FIELD_R), 0, 1, FIELD_R - 1, G2_GLS_LAMBDA, G2_GLS_LAMBDA + 1]
    assert g2_mul_many(g2, scalars2) == [bn254.g2_mul(p, k % FIELD_R) for p, k in zip(g2, scalars2, strict=True)]
    assert g1_add_many(g1[:3], g1[:3]) == [bn254.g1_double(p) for p in g1[:3]]
    assert g1_sub_many(g1[:3], g1[:3]) == [None, None, None]
    assert g1_add_many([None, g1[0]], [g1[1], bn254.g1_neg(g1[0])]) == [g1[1], None]
    assert g2_add_many(g2[:2], g2[2:4]) == [bn254.g2_add(a, b) for a, b in zip(g2[:2], g2[2:4], strict=True)]
    assert g2_sub_many(g2[:2], g2[:2]) == [None, None]
    with pytest.raises(ValueError):
        g1_mul_many(g1, scalars[:-1])


@pytest.mark.native
@pytest.mark.parametrize("log_size", [0, 1, 2, 3, 5])
def test_group_ifft_gives_lagrange_points(log_size: int) -> None:
    size = 1 << log_size
    tau = random.Random(log_size).randrange(2, FIELD_R)
    powers = [pow(tau, i, FIELD_R) for i in range(size)]
    lagrange = lagrange_basis_at(tau, size)
    g1 = g1_ifft([bn254.g1_mul(bn254.G1_GENERATOR, k) for k in powers])
    assert g1 == [bn254.g1_mul(bn254.G1_GENERATOR, k) for k in lagrange]
    if log_size <= 2:
        g2 = g2_ifft([bn254.g2_mul(bn254.G2_GENERATOR, k) for k in powers])
        assert g2 == [bn254.g2_mul(bn254.G2_GENERATOR, k) for k in lagrange]
    assert ifft_cost(1) == 0


@pytest.mark.native
def test_group_ifft_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        g1_ifft([bn254.G1_GENERATOR] * 3)
    with pytest.raises(ValueError):
        g1_ifft([])


# --------------------------------------------------------------------------- ceremonies made here (fixtures)


@pytest.fixture(scope="module")
def two_contributions() -> tuple[PtauFile, PtauFile, PtauFile]:
    """A 2^8 ceremony: fresh, one contribution, two contributions (all ours)."""
    fresh = pt.new_accumulator(POWER)
    one, _ = pt.contribute(fresh, name="alice", entropy="first")
    two, _ = pt.contribute(parse_ptau(ptau_to_bytes(one)), name="bob", entropy="second")
    return fresh, parse_ptau(ptau_to_bytes(one)), parse_ptau(ptau_to_bytes(two))


@pytest.mark.prove
def test_our_ceremony_verifies_and_chains(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    fresh, one, two = two_contributions
    report = pt.verify(two)
    assert [c.name for c in report.contributions] == ["alice", "bob"]
    first, second = report.contributions
    assert first.challenge == pt.first_challenge(POWER)
    assert second.challenge == first.next_challenge
    # The response hash is the BLAKE2b of the challenge, the new points (compressed) and the public key.
    assert first.response_hash == pt.response_hash(one.contributions[0])
    with pytest.raises(ContributionError) as info:
        pt.verify(fresh)
    assert info.value.check == "no-contribution"


@pytest.mark.prove
def test_contribution_is_random_and_text_is_optional(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    fresh, one, _ = two_contributions
    again, _ = pt.contribute(fresh, name="alice", entropy="first")
    assert again.sections[2] != one.sections[2]  # same text, fresh OS entropy
    silent, receipt = pt.contribute(fresh)
    assert silent.contributions[-1].name_bytes is None and receipt.index == 1
    pt.verify(silent)
    with pytest.raises(CeremonyError):
        pt.contribute(fresh, name="x" * 65)


@pytest.mark.prove
def test_beacon_is_deterministic_and_checked(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, one, _ = two_contributions
    a, ra = pt.beacon(one, BEACON, 10, name="beacon")
    b, rb = pt.beacon(one, BEACON, 10, name="beacon")
    assert ptau_to_bytes(a) == ptau_to_bytes(b) and ra == rb
    pt.verify(a)
    for value, exponent in ((b"", 10), (BEACON, 9), (BEACON, 64), (bytes(256), 10)):
        with pytest.raises(CeremonyError):
            pt.beacon(one, value, exponent)


# --------------------------------------------------------------------------- tampering


def _replace_last(ptau: PtauFile, **changes: object) -> PtauFile:
    contributions = [*ptau.contributions[:-1], replace(ptau.contributions[-1], **changes)]  # type: ignore[arg-type]
    return PtauFile(ptau.power, ptau.ceremony_power, dict(ptau.sections), contributions)


def _check(ptau: PtauFile) -> str:
    with pytest.raises(ContributionError) as info:
        pt.verify(parse_ptau(ptau_to_bytes(ptau)))
    return info.value.check


@pytest.mark.prove
def test_tamper_contribution_reusing_previous_points(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, one, two = two_contributions
    # Bob's record and key, but Alice's points: nothing was raised to Bob's secrets.
    lazy = PtauFile(two.power, two.ceremony_power, dict(one.sections), list(two.contributions))
    assert _check(lazy) == "last-contribution-points"
    # Claim Alice's points in the record too: the chain checks against Bob's key fail.
    lazy_record = _replace_last(
        lazy, tau_g1=one.contributions[0].tau_g1, tau_g2=one.contributions[0].tau_g2,
        alpha_g1=one.contributions[0].alpha_g1, beta_g1=one.contributions[0].beta_g1,
        beta_g2=one.contributions[0].beta_g2,
    )  # fmt: skip
    assert _check(lazy_record).endswith("-chain")


@pytest.mark.prove
def test_tamper_wrong_exponent_in_one_power(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, _, two = two_contributions
    for section, index in ((2, 100), (4, 7), (5, 255)):
        bad = parse_ptau(ptau_to_bytes(two))
        points = list(bad.g1(section))
        points[index] = bn254.g1_double(points[index])  # tau^i becomes 2 tau^i
        bad.set_points(section, points)
        assert _check(bad).endswith("-powers")
    bad = parse_ptau(ptau_to_bytes(two))
    g2 = list(bad.g2(3))
    g2[50] = bn254.g2_double(g2[50])
    bad.set_points(3, g2)
    assert _check(bad) == "tau-g2-powers"


@pytest.mark.prove
def test_tamper_swapped_sections(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, _, two = two_contributions
    swapped = PtauFile(two.power, two.ceremony_power, dict(two.sections), list(two.contributions))
    swapped.sections[4], swapped.sections[5] = two.sections[5], two.sections[4]
    assert _check(swapped) == "last-contribution-points"
    # Swapping the section ids in the container itself: the same file, sections 4 and 5 exchanged.
    raw = bytearray(ptau_to_bytes(two))
    offsets = _section_offsets(bytes(raw))
    struct.pack_into("<I", raw, offsets[4], 5)
    struct.pack_into("<I", raw, offsets[5], 4)
    with pytest.raises(ContributionError):
        pt.verify(parse_ptau(bytes(raw)))


def _section_offsets(raw: bytes) -> dict[int, int]:
    (count,) = struct.unpack_from("<I", raw, 8)
    offsets = {}
    pos = 12
    for _ in range(count):
        section, length = struct.unpack_from("<IQ", raw, pos)
        offsets[section] = pos
        pos += 12 + length
    return offsets


@pytest.mark.prove
def test_tamper_truncated_file(two_contributions: tuple[PtauFile, PtauFile, PtauFile], tmp_path: Path) -> None:
    _, _, two = two_contributions
    raw = ptau_to_bytes(two)
    for cut in (len(raw) - 1, len(raw) - 700, len(raw) // 2, 100, 11):
        path = tmp_path / "cut.ptau"
        path.write_bytes(raw[:cut])
        with pytest.raises(CeremonyFileError) as info:
            read_ptau(path)
        assert str(path) in str(info.value)


@pytest.mark.prove
def test_tamper_beacon_iteration_count(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, one, _ = two_contributions
    beaconed, _ = pt.beacon(one, BEACON, 10, name="beacon")
    assert _check(_replace_last(beaconed, beacon_exponent=11)) == "beacon"
    assert _check(_replace_last(beaconed, beacon_value=BEACON[:-1] + b"\x00")) == "beacon"
    assert _check(_replace_last(beaconed, beacon_exponent=None)) == "beacon"
    # A normal contribution passed off as a beacon.
    _, _, two = two_contributions
    assert _check(_replace_last(two, kind=1, beacon_value=BEACON, beacon_exponent=10)) == "beacon"


@pytest.mark.prove
def test_tamper_hash_that_does_not_chain(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, _, two = two_contributions
    # Alice's next challenge altered: Bob's key was bound to the real one.
    first = replace(two.contributions[0], next_challenge=bytes(64))
    broken = PtauFile(two.power, two.ceremony_power, dict(two.sections), [first, two.contributions[1]])
    assert _check(broken) == "key-tau"
    # Bob's next challenge or his saved hash state altered: the file no longer hashes to it.
    assert _check(_replace_last(two, next_challenge=bytes(64))) == "next-challenge"
    state = bytearray(two.contributions[1].partial_hash)
    state[130] ^= 1
    assert _check(_replace_last(two, partial_hash=bytes(state))) == "next-challenge"


@pytest.mark.prove
def test_tamper_key_and_g2_points(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, _, two = two_contributions
    key = two.contributions[1].key
    forged = replace(key, tau_g1_sx=bn254.g1_double(key.tau_g1_sx))
    assert _check(_replace_last(two, key=forged)) in {"key-tau", "tau-g2-chain"}
    # A twist point outside G2 in a key: refused before any pairing.
    outside = _twist_point_outside_g2()
    assert _check(_replace_last(two, key=replace(key, beta_g2_spx=outside))) == "g2-subgroup"


def _twist_point_outside_g2() -> bn254.G2:
    x = (1, 0)
    while True:
        rhs = bn254.fq2_add(bn254.fq2_mul(bn254.fq2_sqr(x), x), bn254.TWIST_B)
        y = bn254.fq2_sqrt(rhs)
        if y is not None and not bn254.g2_in_subgroup((x, y)):
            return (x, y)
        x = (x[0] + 1, 0)


@pytest.mark.prove
def test_contribute_refuses_small_subgroup_points(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, one, _ = two_contributions
    poisoned = parse_ptau(ptau_to_bytes(one))
    g2 = list(poisoned.g2(3))
    g2[9] = bn254.g2_add(g2[9], _twist_point_outside_g2())
    poisoned.set_points(3, g2)
    with pytest.raises(CeremonyFileError) as info:
        pt.contribute(poisoned, entropy="x", workers=1)
    assert info.value.section == 3


@pytest.mark.prove
def test_prepared_file_tampering(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, _, two = two_contributions
    small = pt.contribute(pt.new_accumulator(3), entropy="small")[0]
    prepared = pt.prepare_phase2(small)
    assert pt.verify(parse_ptau(ptau_to_bytes(prepared))).prepared
    for section in (12, 14):
        bad = parse_ptau(ptau_to_bytes(prepared))
        points = list(bad.g1(section))
        points[5] = bn254.g1_double(points[5])
        bad.set_points(section, points)
        assert _check(bad) == f"lagrange-{section}"
    bad = parse_ptau(ptau_to_bytes(prepared))
    g2 = list(bad.g2(13))
    g2[2] = bn254.g2_neg(g2[2])
    bad.set_points(13, g2)
    assert _check(bad) == "lagrange-13"
    # A contribution after prepare drops the Lagrange sections (they would be stale).
    assert not pt.contribute(prepared, entropy="later")[0].prepared


# --------------------------------------------------------------------------- the .ptau format (untrusted files)


def _header_with_power(power: int) -> bytes:
    header = struct.pack("<I32sII", 32, bn254.Q.to_bytes(32, "little"), power, power)
    return b"ptau" + struct.pack("<II", 1, 1) + struct.pack("<IQ", 1, len(header)) + header


@pytest.mark.native
def test_huge_power_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.ptau"
    path.write_bytes(_header_with_power(40))
    with pytest.raises(CeremonyFileError) as info:
        read_ptau(path)
    assert info.value.section == 1 and info.value.path == str(path)
    with pytest.raises(CeremonyFileError):
        parse_ptau(_header_with_power(40))
    # A 2^20 header is within MAX_POWER but the sections are missing: refused without reading points.
    with pytest.raises(CeremonyFileError):
        parse_ptau(_header_with_power(20))
    with pytest.raises(FileAccessError, match="missing.ptau"):  # as every reader: exit 2, the file named
        read_ptau(tmp_path / "missing.ptau")
    with pytest.raises(ArgumentTypeError):  # an int would open a file descriptor
        read_ptau(3)  # type: ignore[arg-type]


@pytest.mark.native
def test_malformed_containers_are_named() -> None:
    good = ptau_to_bytes(pt.contribute(pt.new_accumulator(2), entropy="x")[0])
    assert ptau_to_bytes(parse_ptau(good)) == good
    offsets = _section_offsets(good)
    cases: list[bytes] = [
        b"zkey" + good[4:],  # wrong magic
        good[:4] + struct.pack("<I", 2) + good[8:],  # wrong version
        good + b"\x00",  # trailing byte
    ]
    bad_prime = bytearray(good)
    bad_prime[offsets[1] + 12 + 4] ^= 1
    cases.append(bytes(bad_prime))
    unknown = bytearray(good)
    struct.pack_into("<I", unknown, offsets[6], 9)
    cases.append(bytes(unknown))
    repeated = bytearray(good)
    struct.pack_into("<I", repeated, offsets[5], 4)
    cases.append(bytes(repeated))
    off_curve = bytearray(good)
    off_curve[offsets[4] + 12 + 70] ^= 1  # a coordinate of the second alpha point
    cases.append(bytes(off_curve))
    for data in cases:
        with pytest.raises(CeremonyFileError):
            pt.verify(parse_ptau(data, path="x.ptau"))


@pytest.mark.native
def test_contribution_records_are_strict(two_contributions: tuple[PtauFile, PtauFile, PtauFile]) -> None:
    _, one, _ = two_contributions
    raw = ptau_to_bytes(one)
    start = _section_offsets(raw)[7] + 12
    count_too_big = bytearray(raw)
    struct.pack_into("<I", count_too_big, start, 10**6)
    params_at = start + 4 + 3 * 64 + 2 * 128 + 6 * 64 + 3 * 128 + 216 + 64
    bad_type = bytearray(raw)
    struct.pack_into("<I", bad_type, params_at, 7)
    bad_name = bytearray(raw)
    bad_name[params_at + 8 + 2] = 0xFF  # first byte of "alice"
    unsorted = bytearray(raw)
    unsorted[params_at + 8] = 0  # tag 0 cannot follow "no tag yet": parameters must be sorted and known
    for data, section in ((count_too_big, 7), (bad_type, "7 (contribution #1)"), (bad_name, "7 (contribution #1)")):
        with pytest.raises(CeremonyFileError) as info:
            parse_ptau(bytes(data), path="c.ptau")
        assert info.value.section == section
    with pytest.raises(CeremonyFileError):
        parse_ptau(bytes(unsorted))


# --------------------------------------------------------------------------- interop with snarkjs 0.7.6


@pytest.fixture(scope="module")
def snarkjs_started(snarkjs_cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """snarkjs: new (2^8) and one contribution."""
    folder = tmp_path_factory.mktemp("ptau_snarkjs")
    assert _snarkjs(snarkjs_cli, "powersoftau", "new", "bn128", str(POWER), str(folder / "0.ptau")).returncode == 0
    result = _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(folder / "0.ptau"), str(folder / "1.ptau"),
                      "--name=snarkjs user", "-e=some entropy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.prove
@pytest.mark.external
def test_new_is_byte_identical_to_snarkjs(snarkjs_started: Path) -> None:
    assert ptau_to_bytes(pt.new_accumulator(POWER)) == (snarkjs_started / "0.ptau").read_bytes()
    assert ptau_to_bytes(read_ptau(snarkjs_started / "1.ptau")) == (snarkjs_started / "1.ptau").read_bytes()


@pytest.mark.prove
@pytest.mark.external
def test_started_by_snarkjs_continued_by_us(snarkjs_started: Path, snarkjs_cli: Path) -> None:
    folder = snarkjs_started
    ours, _ = pt.contribute(read_ptau(folder / "1.ptau"), name="zkhealth user", entropy="abc")
    write_ptau(ours, folder / "2.ptau")
    result = _snarkjs(snarkjs_cli, "powersoftau", "verify", str(folder / "2.ptau"))
    assert result.returncode == 0, result.stdout + result.stderr
    # snarkjs continues after us, and we verify the whole chain.
    result = _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(folder / "2.ptau"), str(folder / "3.ptau"),
                      "--name=snarkjs again", "-e=more")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = pt.verify(read_ptau(folder / "3.ptau"))
    assert [c.name for c in report.contributions] == ["snarkjs user", "zkhealth user", "snarkjs again"]


@pytest.mark.prove
@pytest.mark.external
def test_started_by_us_continued_by_snarkjs(snarkjs_cli: Path, tmp_path: Path) -> None:
    first, _ = pt.contribute(pt.new_accumulator(POWER), name="zkhealth first", entropy="1")
    write_ptau(first, tmp_path / "1.ptau")
    result = _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(tmp_path / "1.ptau"), str(tmp_path / "2.ptau"),
                      "--name=snarkjs second", "-e=2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    pt.verify(read_ptau(tmp_path / "2.ptau"))
    result = _snarkjs(snarkjs_cli, "powersoftau", "verify", str(tmp_path / "2.ptau"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.prove
@pytest.mark.external
def test_beacon_and_prepare_match_snarkjs_byte_for_byte(snarkjs_started: Path, snarkjs_cli: Path) -> None:
    folder = snarkjs_started
    result = _snarkjs(snarkjs_cli, "powersoftau", "beacon", str(folder / "1.ptau"), str(folder / "b.ptau"),
                      BEACON.hex(), "10", "-n=final beacon")  # fmt: skip
    assert result.returncode == 0, result.stderr
    theirs = read_ptau(folder / "b.ptau")
    ours, receipt = pt.beacon(read_ptau(folder / "1.ptau"), BEACON, 10, name="final beacon")
    assert ours.sections == theirs.sections
    mine, their = ours.contributions[-1], theirs.contributions[-1]
    assert mine.key == their.key and mine.next_challenge == their.next_challenge
    assert receipt.response_hash == pt.response_hash(their)
    # The saved hash states agree on everything but the unused tail of the block buffer.
    pos = int.from_bytes(their.partial_hash[200:208], "little")
    assert mine.partial_hash[:pos] == their.partial_hash[:pos] and mine.partial_hash[128:] == their.partial_hash[128:]
    result = _snarkjs(snarkjs_cli, "powersoftau", "prepare", "phase2", str(folder / "b.ptau"), str(folder / "f.ptau"))
    assert result.returncode == 0, result.stderr
    prepared = pt.prepare_phase2(theirs)
    assert ptau_to_bytes(prepared) == (folder / "f.ptau").read_bytes()
    assert pt.verify(read_ptau(folder / "f.ptau")).prepared


@pytest.mark.prove
@pytest.mark.external
def test_snarkjs_rejects_our_tampered_file(two_contributions: tuple[PtauFile, PtauFile, PtauFile], snarkjs_cli: Path,
                                           tmp_path: Path) -> None:  # fmt: skip
    _, _, two = two_contributions
    write_ptau(two, tmp_path / "good.ptau")
    assert _snarkjs(snarkjs_cli, "powersoftau", "verify", str(tmp_path / "good.ptau")).returncode == 0
    bad = parse_ptau(ptau_to_bytes(two))
    points = list(bad.g1(2))
    points[17] = bn254.g1_double(points[17])
    bad.set_points(2, points)
    write_ptau(bad, tmp_path / "bad.ptau")
    result = _snarkjs(snarkjs_cli, "powersoftau", "verify", str(tmp_path / "bad.ptau"))
    assert result.returncode != 0 or "Powers of Tau Ok" not in result.stdout


@pytest.mark.slow
@pytest.mark.external
def test_power_10_ceremony_both_ways(snarkjs_cli: Path, tmp_path: Path) -> None:
    """A 2^10 ceremony: snarkjs starts, we contribute, snarkjs contributes, we beacon and prepare; both verify.
    (The slow tier's one 2^12 ceremony, with a phase 2 and proofs, is in tests/test_ceremony_transcript.py.)"""
    f = tmp_path
    assert _snarkjs(snarkjs_cli, "powersoftau", "new", "bn128", "10", str(f / "0.ptau")).returncode == 0
    assert _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(f / "0.ptau"), str(f / "1.ptau"), "-n=a",
                    "-e=x").returncode == 0  # fmt: skip
    ours, _ = pt.contribute(read_ptau(f / "1.ptau"), name="b", entropy="y")
    write_ptau(ours, f / "2.ptau")
    assert _snarkjs(snarkjs_cli, "powersoftau", "contribute", str(f / "2.ptau"), str(f / "3.ptau"), "-n=c",
                    "-e=z").returncode == 0  # fmt: skip
    beaconed, _ = pt.beacon(read_ptau(f / "3.ptau"), secrets.token_bytes(32), 10, name="beacon")
    prepared = pt.prepare_phase2(beaconed)
    write_ptau(prepared, f / "final.ptau")
    result = _snarkjs(snarkjs_cli, "powersoftau", "verify", str(f / "final.ptau"), timeout=1800)
    assert result.returncode == 0 and "Powers of Tau Ok" in result.stdout, result.stdout[-2000:]
    assert len(pt.verify(read_ptau(f / "final.ptau")).contributions) == 4


@pytest.mark.native
def test_errors_from_worker_processes_keep_their_details() -> None:
    """The heavy steps run in worker processes: an error raised there comes back with its file and section."""
    import pickle

    for error in (
        CeremonyFileError("bad point", path="a.ptau", section=4),
        ContributionError("no", check="key-tau", contribution=2, path="a.ptau"),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error) and vars(back) == vars(error)
    small = pt.contribute(pt.new_accumulator(3), entropy="w")[0]
    raw = bytearray(ptau_to_bytes(small))
    raw[_section_offsets(bytes(raw))[4] + 12 + 64 + 5] ^= 1  # the second alpha point goes off the curve
    with pytest.raises(CeremonyFileError) as info:
        pt.prepare_phase2(parse_ptau(bytes(raw), path="w.ptau"), workers=2)
    assert info.value.section == 4
