"""Phase 2 of a Groth16 ceremony: the circuit's key, interchangeable with snarkjs ``zkey new/contribute/
beacon/verify``.

:func:`new_zkey` builds the initial ``.zkey`` of an ``.r1cs`` from a prepared ``.ptau``, exactly as snarkjs
(``zkey_new.js``): with the domain ``n = 2^k``, k the bit length of ``constraints + public signals``, and
``L_j`` the Lagrange points of the ``.ptau`` for that domain,

* ``A_i = sum_j a_ij L_j(tau) G1`` (plus ``L_(m+i)`` for the public-input rows ``i <= n_public``, m the number
  of constraints), ``B1_i``, ``B2_i`` likewise from B in G1 and G2;
* ``C_i = sum_j (a_ij beta L_j + b_ij alpha L_j + c_ij L_j) G1`` for every wire, the public ones (and the
  constant) going to the IC section, the others to section 8 (gamma and delta are 1: the generators);
* ``H_j = L^(2n)_(2j+1)(tau) G1``, the odd Lagrange points of the doubled domain (what the prover's odd-coset
  evaluations of ``A B - C`` need).

The **circuit hash** (section 10) is BLAKE2b-512 over alpha1, beta1, beta2, gamma2, delta1, delta2, then
each point section preceded by its point count (u32, big-endian): IC, the H "proxies" ``tau^(n+i) - tau^i``
(snarkjs hashes these instead of H), C, A, B1, B2, all uncompressed.

:func:`contribute` multiplies delta (header, both groups) by a fresh secret d and sections 8 and 9 by
``1/d``, and appends the record ``(deltaAfter, g1_s, g1_sx = d g1_s, g2_spx = d g2_sp)`` where ``g2_sp`` is
hashed from the **transcript** ``BLAKE2b(circuit hash || every previous record || g1_s || g1_sx)``. A
contribution's **hash** (what its author publishes) is BLAKE2b over its record. :func:`beacon` derives d
from a public value as in phase 1.

:func:`verify` rebuilds the initial key from the ``.r1cs`` and ``.ptau`` and checks every record's
transcript, proof of knowledge and delta chain (one batched multi-pairing), a beacon's key, that the key's
delta is the last deltaAfter in both groups, that sections 3-7 and the circuit hash are the rebuilt ones, and
that sections 8 and 9 are the initial ones divided by the same delta (random linear combinations: 64-bit
coefficients on C; on H, coefficients transported through the coset FFT so that the ``.ptau``'s powers check
the H points directly, as snarkjs does). A key without contribution (delta = 1) is refused.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any, Final

from zkhealth.ceremony._checks import Ratio, first_false_ratio, random_scalars
from zkhealth.ceremony._work import ProgressCallback, Task, check_workers, run_tasks
from zkhealth.ceremony.keypair import (
    ChaCha,
    DeltaKey,
    beacon_rng,
    check_beacon,
    contribution_rng,
    create_delta_key,
    g1_uncompressed,
    g2_uncompressed,
    hash_to_g2,
)
from zkhealth.ceremony.powersoftau import G2_COST
from zkhealth.errors import CeremonyError, ContributionError, TranscriptError
from zkhealth.field import FIELD_R
from zkhealth.formats._montgomery import (
    decode_g1,
    decode_g2,
    encode_g1,
    encode_g2,
)
from zkhealth.formats._montgomery import (
    g1_uncompressed as g1_many_uncompressed,
)
from zkhealth.formats._montgomery import (
    g2_uncompressed as g2_many_uncompressed,
)
from zkhealth.formats.ptau_file import PtauFile
from zkhealth.formats.zkey_file import (
    ORDER_CONTRIBUTED,
    ORDER_NEW,
    ZkeyContribution,
    ZkeyFile,
    coefficient_bytes,
    proving_key_from_zkey,
)
from zkhealth.groth16.keys import G1Point, VerifyingKey
from zkhealth.hazmat.batch_ec import g1_mul_many, g1_sub_many, g1_sum_groups, g2_mul_many, g2_sum_groups
from zkhealth.hazmat.bn254 import G1_GENERATOR, G2_GENERATOR, g1_mul, g1_neg, g2_in_subgroup, g2_mul, g2_neg
from zkhealth.hazmat.msm import msm_g1
from zkhealth.hazmat.ntt import coset_ntt, root_of_unity
from zkhealth.r1cs import R1CS

__all__ = [
    "ZkeyContributionInfo",
    "ZkeyContributionReceipt",
    "ZkeyVerification",
    "beacon",
    "circuit_power",
    "contribute",
    "contribution_hash",
    "export_verification_key",
    "final_hash",
    "new_zkey",
    "verify",
    "verify_from_init",
    "verify_records",
]

#: snarkjs hashes the H proxies in chunks of this many points (``zkey_new.js`` ``hashHPoints``).
_H_HASH_CHUNK: Final[int] = 1 << 14
#: Products per task when the work is split between processes.
_CHUNK: Final[int] = 2048


# --------------------------------------------------------------------------- zkey new


def circuit_power(r1cs: R1CS) -> int:
    """snarkjs' domain exponent: the bit length of ``constraints + public signals`` (at least 1)."""
    return max(1, (r1cs.n_constraints + r1cs.n_public).bit_length())


def _u32be(value: int) -> bytes:
    return struct.pack(">I", value)


def _mul_task(group: str, points: list[Any], scalars: list[int]) -> list[Any]:
    return g1_mul_many(points, scalars) if group == "g1" else g2_mul_many(points, scalars)


def _combine(
    group: str, terms: list[list[tuple[Any, int]]], workers: int, progress: ProgressCallback | None, stage: str
) -> list[Any]:
    """``[sum(c * P for P, c in wire_terms) for wire_terms in terms]``: coefficients 1 and -1 cost an
    addition, the others go through the batched multiplication (split between processes)."""
    r = FIELD_R
    neg = g1_neg if group == "g1" else g2_neg
    groups: list[list[Any]] = [[] for _ in terms]
    pending_points: list[Any] = []
    pending_scalars: list[int] = []
    owners: list[int] = []
    for wire, wire_terms in enumerate(terms):
        for point, coefficient in wire_terms:
            if point is None or coefficient == 0:
                continue
            if coefficient == 1:
                groups[wire].append(point)
            elif coefficient == r - 1:
                groups[wire].append(neg(point))
            else:
                pending_points.append(point)
                pending_scalars.append(coefficient)
                owners.append(wire)
    weight = G2_COST if group == "g2" else 1
    tasks = [
        Task(
            _mul_task,
            (group, pending_points[i : i + _CHUNK], pending_scalars[i : i + _CHUNK]),
            weight * sum(max(1, k.bit_length() // 16) for k in pending_scalars[i : i + _CHUNK]),
        )
        for i in range(0, len(pending_points), _CHUNK)
    ]
    products: list[Any] = []
    for part in run_tasks(tasks, workers=workers, stage=stage, progress=progress):
        products += part
    for wire, product in zip(owners, products, strict=True):
        groups[wire].append(product)
    return g1_sum_groups(groups) if group == "g1" else g2_sum_groups(groups)


def _h_proxy_count(domain_size: int) -> int:
    """How many ``tau^(n+i) - tau^i`` snarkjs hashes: n - 1, rounded up to whole chunks past 2^14."""
    if domain_size <= 1:
        return 0
    first = min(domain_size - 1, _H_HASH_CHUNK)
    chunks = -(-(domain_size - 1) // _H_HASH_CHUNK)
    return first * chunks


def new_zkey(
    r1cs: R1CS, ptau: PtauFile, *, workers: int | None = None, progress: ProgressCallback | None = None
) -> ZkeyFile:
    """The initial ``.zkey`` of ``r1cs`` from a prepared ``ptau`` (``snarkjs zkey new``), byte for byte.

    Raises :class:`CeremonyError` if the circuit is over another field, does not fit the ceremony, or the
    ``.ptau`` is not prepared. Cost: one addition per ±1 coefficient of the R1CS and one scalar
    multiplication per other coefficient (split between processes), plus a hash of the key.
    """
    n_workers = check_workers(workers)
    if r1cs.prime != FIELD_R:
        raise CeremonyError("the R1CS is not over BN254's scalar field")
    power = circuit_power(r1cs)
    if power > ptau.power:
        raise CeremonyError(f"the circuit needs a powers-of-tau file of power {power} or more (this one: {ptau.power})")
    if not ptau.prepared:
        raise CeremonyError("the powers-of-tau file is not prepared: run prepare phase2 first")
    n = 1 << power
    n_public = r1cs.n_public
    n_vars = r1cs.n_wires
    n_constraints = r1cs.n_constraints
    proxies = _h_proxy_count(n)
    if n + proxies - 1 > 2 * (1 << ptau.power) - 2:
        raise CeremonyError(
            "for this circuit snarkjs would hash points past the end of the tau G1 section: use a powers-of-tau "
            f"file of power {power + 1} or more"
        )

    def lagrange(section: int) -> bytes:
        size = 128 if section == 13 else 64
        return ptau.sections[section][(n - 1) * size : (2 * n - 1) * size]

    if progress is not None:
        progress("zkey new: reading", 0, 1)
    tau_g1 = decode_g1(lagrange(12), n, path=ptau.path, section=12)
    tau_g2 = decode_g2(lagrange(13), n, path=ptau.path, section=13)
    alpha_tau = decode_g1(lagrange(14), n, path=ptau.path, section=14)
    beta_tau = decode_g1(lagrange(15), n, path=ptau.path, section=15)

    a_terms: list[list[tuple[Any, int]]] = [[] for _ in range(n_vars)]
    b1_terms: list[list[tuple[Any, int]]] = [[] for _ in range(n_vars)]
    b2_terms: list[list[tuple[Any, int]]] = [[] for _ in range(n_vars)]
    c_terms: list[list[tuple[Any, int]]] = [[] for _ in range(n_vars)]
    coefficients: list[tuple[int, int, int, int]] = []
    for row, constraint in enumerate(r1cs.constraints):
        for wire, value in constraint.a.items():
            a_terms[wire].append((tau_g1[row], value))
            c_terms[wire].append((beta_tau[row], value))
            coefficients.append((0, row, wire, value))
        for wire, value in constraint.b.items():
            b1_terms[wire].append((tau_g1[row], value))
            b2_terms[wire].append((tau_g2[row], value))
            c_terms[wire].append((alpha_tau[row], value))
            coefficients.append((1, row, wire, value))
        for wire, value in constraint.c.items():
            c_terms[wire].append((tau_g1[row], value))
    for wire in range(n_public + 1):
        row = n_constraints + wire
        a_terms[wire].append((tau_g1[row], 1))
        c_terms[wire].append((beta_tau[row], 1))
        coefficients.append((0, row, wire, 1))

    a_points = _combine("g1", a_terms, n_workers, progress, "zkey new: A")
    b1_points = _combine("g1", b1_terms, n_workers, progress, "zkey new: B1")
    b2_points = _combine("g2", b2_terms, n_workers, progress, "zkey new: B2")
    c_points = _combine("g1", c_terms, n_workers, progress, "zkey new: C")
    ic = c_points[: n_public + 1]
    private_c = c_points[n_public + 1 :]

    # H: the odd Lagrange points of the doubled domain, copied as bytes.
    doubled = ptau.sections[12][(2 * n - 1) * 64 : (4 * n - 1) * 64]
    h_raw = b"".join(doubled[(2 * j + 1) * 64 : (2 * j + 2) * 64] for j in range(n))

    powers = decode_g1(ptau.sections[2][: (n + proxies) * 64], n + proxies, path=ptau.path, section=2)
    proxy_points = g1_sub_many(powers[n : n + proxies], powers[:proxies])

    alpha_1 = decode_g1(ptau.sections[4][:64], 1)[0]
    beta_1 = decode_g1(ptau.sections[5][:64], 1)[0]
    beta_2 = decode_g2(ptau.sections[6], 1)[0]
    hasher = hashlib.blake2b()
    hasher.update(g1_many_uncompressed([alpha_1, beta_1]))
    hasher.update(g2_many_uncompressed([beta_2, G2_GENERATOR]))
    hasher.update(g1_many_uncompressed([G1_GENERATOR]))
    hasher.update(g2_many_uncompressed([G2_GENERATOR]))
    for count, data in (
        (len(ic), g1_many_uncompressed(ic)),
        (n - 1, g1_many_uncompressed(proxy_points)),
        (len(private_c), g1_many_uncompressed(private_c)),
        (n_vars, g1_many_uncompressed(a_points)),
        (n_vars, g1_many_uncompressed(b1_points)),
        (n_vars, g2_many_uncompressed(b2_points)),
    ):
        hasher.update(_u32be(count))
        hasher.update(data)
    if progress is not None:
        progress("zkey new: reading", 1, 1)
    return ZkeyFile(
        n_vars=n_vars,
        n_public=n_public,
        domain_size=n,
        alpha_1=alpha_1,
        beta_1=beta_1,
        beta_2=beta_2,
        gamma_2=G2_GENERATOR,
        delta_1=G1_GENERATOR,
        delta_2=G2_GENERATOR,
        sections={
            3: encode_g1(ic),
            4: coefficient_bytes(coefficients),
            5: encode_g1(a_points),
            6: encode_g1(b1_points),
            7: encode_g2(b2_points),
            8: encode_g1(private_c),
            9: h_raw,
        },
        cs_hash=hasher.digest(),
        contributions=[],
        order=ORDER_NEW,
    )


# --------------------------------------------------------------------------- contribute and beacon


def _record_bytes(c: ZkeyContribution) -> bytes:
    """snarkjs ``hashPubKey``: deltaAfter, g1_s, g1_sx, g2_spx (uncompressed) and the transcript."""
    return (
        g1_uncompressed(c.delta_after)
        + g1_uncompressed(c.g1_s)
        + g1_uncompressed(c.g1_sx)
        + g2_uncompressed(c.g2_spx)
        + c.transcript
    )


def contribution_hash(c: ZkeyContribution) -> bytes:
    """The hash a phase-2 contributor publishes: BLAKE2b-512 over the record (:func:`_record_bytes`)."""
    return hashlib.blake2b(_record_bytes(c)).digest()


def _transcript_hasher(zkey: ZkeyFile, upto: int) -> Any:
    if zkey.cs_hash is None:
        raise CeremonyError("the key has no ceremony section (10): it was not made by zkey new")
    hasher = hashlib.blake2b(zkey.cs_hash)
    for c in zkey.contributions[:upto]:
        hasher.update(_record_bytes(c))
    return hasher


@dataclass(frozen=True)
class ZkeyContributionReceipt:
    """What a phase-2 contributor publishes."""

    index: int
    name: str
    circuit_hash: bytes
    contribution_hash: bytes


def _scale_task(raw: bytes, count: int, scalar: int, path: str | None, section: int) -> bytes:
    points = decode_g1(raw, count, path=path, section=section)
    return encode_g1(g1_mul_many(points, [scalar] * count))


def _scale_sections(zkey: ZkeyFile, scalar: int, workers: int, progress: ProgressCallback | None) -> dict[int, bytes]:
    pieces = 4 * workers if workers > 1 else 1
    tasks: list[Task] = []
    plan: list[int] = []
    for section in (8, 9):
        count = zkey.point_count(section)
        if not count:
            continue
        bounds = [count * j // pieces for j in range(pieces + 1)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            if end > start:
                tasks.append(
                    Task(
                        _scale_task,
                        (zkey.sections[section][64 * start : 64 * end], end - start, scalar, zkey.path, section),
                        end - start,
                    )
                )
                plan.append(section)
    results = run_tasks(tasks, workers=workers, stage="zkey contribute", progress=progress)
    out = {8: b"", 9: b""}
    for section, data in zip(plan, results, strict=True):
        out[section] += data
    return out


def _apply_delta(
    zkey: ZkeyFile,
    key: DeltaKey,
    *,
    name: str,
    kind: int,
    beacon_value: bytes | None,
    beacon_exponent: int | None,
    workers: int,
    progress: ProgressCallback | None,
) -> tuple[ZkeyFile, ZkeyContributionReceipt]:
    if key.delta is None:  # pragma: no cover - create_delta_key always returns the secret
        raise CeremonyError("the contribution key has no secret")
    delta = key.delta
    hasher = _transcript_hasher(zkey, len(zkey.contributions))
    hasher.update(g1_uncompressed(key.g1_s) + g1_uncompressed(key.g1_sx))
    transcript = hasher.digest()
    g2_spx = g2_mul(hash_to_g2(transcript), delta)
    delta_1 = g1_mul(zkey.delta_1, delta)
    delta_2 = g2_mul(zkey.delta_2, delta)
    name_bytes = _name_bytes(name)
    record = ZkeyContribution(
        delta_after=delta_1,
        g1_s=key.g1_s,
        g1_sx=key.g1_sx,
        g2_spx=g2_spx,
        transcript=transcript,
        kind=kind,
        name_bytes=name_bytes,
        beacon_exponent=beacon_exponent,
        beacon_value=beacon_value,
    )
    scaled = _scale_sections(zkey, pow(delta, -1, FIELD_R), workers, progress)
    sections = dict(zkey.sections)
    sections.update({s: scaled[s] for s in (8, 9) if zkey.point_count(s)})
    out = ZkeyFile(
        n_vars=zkey.n_vars,
        n_public=zkey.n_public,
        domain_size=zkey.domain_size,
        alpha_1=zkey.alpha_1,
        beta_1=zkey.beta_1,
        beta_2=zkey.beta_2,
        gamma_2=zkey.gamma_2,
        delta_1=delta_1,
        delta_2=delta_2,
        sections=sections,
        cs_hash=zkey.cs_hash,
        contributions=[*zkey.contributions, record],
        order=ORDER_CONTRIBUTED,
    )
    receipt = ZkeyContributionReceipt(
        index=len(out.contributions),
        name=name,
        circuit_hash=zkey.cs_hash or b"",
        contribution_hash=contribution_hash(record),
    )
    return out, receipt


def _name_bytes(name: str) -> bytes | None:
    if not isinstance(name, str):
        raise CeremonyError("a contributor name must be a str")
    if len(name.encode("utf-16-le")) > 128:
        raise CeremonyError("a contributor name is at most 64 characters (snarkjs' limit)")
    return name.encode("utf-8") or None


def _check_contributable(zkey: ZkeyFile) -> None:
    if zkey.cs_hash is None:
        raise CeremonyError("the key has no ceremony section (10): start from zkey new")


def contribute(
    zkey: ZkeyFile,
    *,
    name: str = "",
    entropy: str = "",
    rng: ChaCha | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[ZkeyFile, ZkeyContributionReceipt]:
    """Add a phase-2 contribution (``snarkjs zkey contribute``). The secret d comes from the OS and the optional
    ``entropy`` text (``rng`` only for known-answer tests) and is dropped when this returns.

    Cost: one G1 scalar multiplication per point of sections 8 and 9 (split between processes).
    """
    _check_contributable(zkey)
    key = create_delta_key(rng if rng is not None else contribution_rng(entropy))
    return _apply_delta(
        zkey, key, name=name, kind=0, beacon_value=None, beacon_exponent=None,
        workers=check_workers(workers), progress=progress,
    )  # fmt: skip


def beacon(
    zkey: ZkeyFile,
    beacon_value: bytes,
    exponent: int,
    *,
    name: str = "",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[ZkeyFile, ZkeyContributionReceipt]:
    """Add a beacon contribution (``snarkjs zkey beacon``): d is derived from ``beacon_value`` hashed with
    SHA-256 ``2^exponent`` times, so anyone can recompute it."""
    _check_contributable(zkey)
    check_beacon(beacon_value, exponent)
    key = create_delta_key(beacon_rng(beacon_value, exponent))
    return _apply_delta(
        zkey, key, name=name, kind=1, beacon_value=bytes(beacon_value), beacon_exponent=exponent,
        workers=check_workers(workers), progress=progress,
    )  # fmt: skip


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class ZkeyContributionInfo:
    index: int
    name: str
    is_beacon: bool
    contribution_hash: bytes
    beacon_value: bytes | None
    beacon_exponent: int | None


@dataclass(frozen=True)
class ZkeyVerification:
    """A verified key: its circuit hash and every contribution, oldest first."""

    circuit_hash: bytes
    contributions: tuple[ZkeyContributionInfo, ...]
    verifying_key_sha256: str = field(default="")


def final_hash(report: ZkeyVerification, *, expected: str | None = None) -> str:
    """The **final hash** of a verified key: its last contribution hash (hex), which chains from the circuit
    hash through every contribution and is what ``zkhealth ceremony verify`` prints for the circuit. With
    ``expected`` (the ceremony's published final hash; case and surrounding blanks ignored), another hash
    raises :class:`~zkhealth.errors.TranscriptError`: the key is not the ceremony's final key."""
    if not report.contributions:
        raise ContributionError("the key has no contribution: delta is 1 and anyone could forge proofs",
                                check="no-contribution")
    found = report.contributions[-1].contribution_hash.hex()
    if expected is not None and expected.strip().lower() != found:
        raise TranscriptError(f"the key's final hash is {found}, not the ceremony's {expected.strip()}")
    return found


def verify(
    zkey: ZkeyFile,
    r1cs: R1CS,
    ptau: PtauFile,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> ZkeyVerification:
    """Verify ``zkey`` against the circuit and the ``.ptau`` it was made from (``snarkjs zkey verify``).

    Rebuilds the initial key (:func:`new_zkey`) and calls :func:`verify_from_init`. The ``.ptau`` itself is
    not verified here (see :func:`zkhealth.ceremony.powersoftau.verify`).
    """
    init = new_zkey(r1cs, ptau, workers=workers, progress=progress)
    return verify_from_init(zkey, init, ptau, progress=progress)


def _check_records(zkey: ZkeyFile) -> tuple[list[Ratio], list[ZkeyContributionInfo]]:
    """Per record: the transcript chain, G2 membership of g2_spx, a beacon's key; the proof-of-knowledge and
    delta-chain claims are returned for one batched pairing check. Also delta_1/delta_2 against the last record."""
    path = zkey.path

    def fail(message: str, check: str, contribution: int | None = None) -> ContributionError:
        return ContributionError(message, check=check, contribution=contribution, path=path)

    if zkey.cs_hash is None:
        raise fail("the key has no ceremony section (10)", "no-ceremony")
    if not zkey.contributions:
        raise fail("the key has no contribution: delta is 1 and anyone could forge proofs", "no-contribution")
    ratios: list[Ratio] = []
    infos: list[ZkeyContributionInfo] = []
    hasher = hashlib.blake2b(zkey.cs_hash)
    current_delta: G1Point | None = G1_GENERATOR
    for index, c in enumerate(zkey.contributions, start=1):
        expected = hasher.copy()
        expected.update(g1_uncompressed(c.g1_s) + g1_uncompressed(c.g1_sx))
        if expected.digest() != c.transcript:
            raise fail(
                "the transcript hash does not chain from the circuit hash and earlier records", "transcript", index
            )
        if c.g2_spx is not None and not g2_in_subgroup(c.g2_spx):
            raise fail("g2_spx is not in G2", "g2-subgroup", index)
        g2_sp = hash_to_g2(c.transcript)
        ratios.append(("key", index, c.g1_s, c.g1_sx, g2_sp, c.g2_spx))
        ratios.append(("delta-chain", index, current_delta, c.delta_after, g2_sp, c.g2_spx))
        if c.is_beacon:
            if c.beacon_value is None or c.beacon_exponent is None:
                raise fail("a beacon contribution lacks its beacon value or exponent", "beacon", index)
            try:
                beacon_key = create_delta_key(beacon_rng(c.beacon_value, c.beacon_exponent))
            except CeremonyError as exc:
                raise fail(str(exc), "beacon", index) from exc
            if (beacon_key.g1_s, beacon_key.g1_sx) != (c.g1_s, c.g1_sx):
                raise fail("the key is not the one the beacon value and iteration count give", "beacon", index)
        hasher.update(_record_bytes(c))
        infos.append(
            ZkeyContributionInfo(
                index=index,
                name=c.name,
                is_beacon=c.is_beacon,
                contribution_hash=contribution_hash(c),
                beacon_value=c.beacon_value,
                beacon_exponent=c.beacon_exponent,
            )
        )
        current_delta = c.delta_after
    if zkey.delta_1 != current_delta:
        raise fail("delta_1 is not the last contribution's deltaAfter", "delta")
    if zkey.delta_2 is None or not g2_in_subgroup(zkey.delta_2):
        raise fail("delta_2 is not a point of G2", "delta")
    ratios.append(("delta-g2", None, G1_GENERATOR, current_delta, G2_GENERATOR, zkey.delta_2))
    return ratios, infos


def verify_records(zkey: ZkeyFile) -> ZkeyVerification:
    """Check only the contribution records and delta of ``zkey`` (not its sections against a circuit): what a
    transcript replay does for intermediate keys, whose sections the final key's verification covers."""
    ratios, infos = _check_records(zkey)
    failed = first_false_ratio(ratios)
    if failed is not None:
        raise ContributionError(f"{failed[0]} does not hold", check=failed[0], contribution=failed[1], path=zkey.path)
    return ZkeyVerification(circuit_hash=zkey.cs_hash or b"", contributions=tuple(infos))


def verify_from_init(
    zkey: ZkeyFile, init: ZkeyFile, ptau: PtauFile, *, progress: ProgressCallback | None = None
) -> ZkeyVerification:
    """Verify ``zkey`` against the initial key ``init`` (``snarkjs zkey verify`` after its rebuild): see the
    module docstring. Raises :class:`ContributionError` naming the failed check."""
    path = zkey.path

    def fail(message: str, check: str, contribution: int | None = None) -> ContributionError:
        return ContributionError(message, check=check, contribution=contribution, path=path)

    if progress is not None:
        progress("zkey verify", 0, 3)
    ratios, infos = _check_records(zkey)
    if (zkey.n_vars, zkey.n_public, zkey.domain_size) != (init.n_vars, init.n_public, init.domain_size):
        raise fail("the key's sizes are not the circuit's", "circuit")
    if zkey.cs_hash != init.cs_hash:
        raise fail("the circuit hash is not this circuit's (another circuit, or another .ptau)", "circuit-hash")
    for label, point, rebuilt in (
        ("alpha_1", zkey.alpha_1, init.alpha_1),
        ("beta_1", zkey.beta_1, init.beta_1),
        ("beta_2", zkey.beta_2, init.beta_2),
        ("gamma_2", zkey.gamma_2, init.gamma_2),
    ):
        if point != rebuilt:
            raise fail(f"{label} is not the one of the powers of tau", "header")
    for section, label in ((3, "IC"), (4, "coefficients"), (5, "A"), (6, "B1"), (7, "B2")):
        if zkey.sections[section] != init.sections[section]:
            raise fail(f"section {section} ({label}) is not the circuit's", f"section-{section}")
    if progress is not None:
        progress("zkey verify", 1, 3)
    failed = first_false_ratio(ratios)
    if failed is not None:
        raise fail(f"{failed[0]} does not hold", failed[0], failed[1])
    delta_2_init = init.delta_2
    scaled: list[Ratio] = []
    if zkey.point_count(8):
        r = random_scalars(zkey.point_count(8))
        scaled.append(("section-8", None, msm_g1(init.g1(8), r), msm_g1(zkey.g1(8), r), zkey.delta_2, delta_2_init))
    scaled.append(("section-9", None, *_h_combinations(zkey, ptau), zkey.delta_2, delta_2_init))
    if progress is not None:
        progress("zkey verify", 2, 3)
    failed = first_false_ratio([s for s in scaled if s[2] is not None or s[3] is not None])
    if failed is not None:
        raise fail(f"{failed[0]}: the points are not the initial ones divided by delta", failed[0])
    if progress is not None:
        progress("zkey verify", 3, 3)
    vk = proving_key_from_zkey(zkey).vk
    return ZkeyVerification(
        circuit_hash=zkey.cs_hash or b"", contributions=tuple(infos), verifying_key_sha256=vk.sha256()
    )


def _h_combinations(zkey: ZkeyFile, ptau: PtauFile) -> tuple[G1Point | None, G1Point | None]:
    """``(sum_i r_i (tau^(n+i) - tau^i) G, sum_j s_j H_j)`` with ``s = -2 coset_fft(r, omega_2n)``.

    With ``R(x) = sum r_i x^i`` and ``p(x) = R(x)(x^n - 1)``: p vanishes on the domain and equals ``-2 R`` on the
    odd coset, so ``p(tau) = sum_j -2 R(omega_2n omega_n^j) L^(2n)_(2j+1)(tau)``; the initial H_j are those
    Lagrange points, so the second sum is ``p(tau) G / delta`` exactly when H is right.
    """
    n = zkey.domain_size
    if n == 1:
        return None, None
    r = [*random_scalars(n - 1), 0]
    powers = ptau.g1(2)
    left = msm_g1(powers[n : 2 * n - 1], r[: n - 1])
    right = msm_g1(powers[: n - 1], r[: n - 1])
    proxy = None if left == right else _g1_sub(left, right)
    shift = root_of_unity(n.bit_length())
    s = [(-2 * v) % FIELD_R for v in coset_ntt(r, shift=shift)]
    return proxy, msm_g1(zkey.g1(9), s)


def _g1_sub(a: G1Point | None, b: G1Point | None) -> G1Point | None:
    return g1_sub_many([a], [b])[0]


def export_verification_key(zkey: ZkeyFile) -> VerifyingKey:
    """The verifying key of a ``.zkey`` (``snarkjs zkey export verificationkey``)."""
    return proving_key_from_zkey(zkey).vk
