"""Phase 1 of a Groth16 ceremony, powers of tau, interchangeable with snarkjs ``powersoftau``.

The accumulator holds ``tau^i G1`` (i < 2n - 1), ``tau^i G2``, ``alpha tau^i G1``, ``beta tau^i G1`` (i < n) and
``beta G2`` for secrets nobody knows as long as one contributor forgot theirs (Bowe, Gabizon, Miers,
"Scalable multi-party computation for zk-SNARK parameters in the random beacon model", eprint 2017/1050).

Steps (each takes and returns a :class:`~zkhealth.formats.ptau_file.PtauFile`):

* :func:`new_accumulator`: every point is a generator; no contribution yet.
* :func:`contribute`: fresh secrets (tau', alpha', beta') from the OS and optional user text (snarkjs'
  derivation, :mod:`.keypair`); point i of a tau section is multiplied by ``tau'^i``, of the alpha and beta
  sections by ``alpha' tau'^i`` and ``beta' tau'^i``. The secrets live in local variables of this call only.
* :func:`beacon`: the same with secrets derived from a public random value hashed ``2^n`` times.
* :func:`verify`: see below.
* :func:`prepare_phase2`: appends the Lagrange-basis points (sections 12-15) by an FFT over the group
  (:mod:`zkhealth.hazmat.group_fft`).

Hash chain (as snarkjs, with BLAKE2b-512 everywhere): the first challenge is
``H(H("") || the new accumulator, uncompressed)``. A contribution answering challenge ``c`` has the
**response hash** ``H(c || its points, compressed || its public key, uncompressed)``, and the **next
challenge** ``H(response || its points, uncompressed)``, which the next contributor answers. The file keeps
each contribution's hash state before the public key (``partialHash``), so the response hash is recomputed
from the file alone. The contribution hash a contributor publishes is the response hash.

Verification (:func:`verify`) checks, for every contribution against the one before: the three proofs of
knowledge (``e(g1_s, g2_spx) = e(g1_sx, g2_sp)`` with ``g2_sp`` hashed from the previous challenge, so a key
cannot be replayed into another ceremony position), that the new tau G1/G2, alpha G1, beta G1/G2 are the
previous ones raised by the same secrets, and a beacon's key against its beacon; then that the file's
points start with the last contribution's, that each section's consecutive points have the ratio tau
(one random linear combination per section, 64-bit coefficients: ``e(sum r_i P_i, tau G2) = e(sum r_i
P_(i+1), G2)``), that every G2 point lies in G2, that the last next-challenge is the hash of the file, and
(when prepared) that the Lagrange sections are the transforms of the power sections. All pairing equations
are checked at once with random weights; a failure is re-checked one by one to name it. Any failure raises
:class:`~zkhealth.errors.ContributionError` whose ``check`` names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from zkhealth.ceremony._checks import Ratio, all_in_g2, first_false_ratio, random_scalars
from zkhealth.ceremony._work import ProgressCallback, Task, check_workers, run_tasks
from zkhealth.ceremony.keypair import (
    ChaCha,
    PtauKey,
    beacon_rng,
    check_beacon,
    contribution_rng,
    create_ptau_key,
    g2_sp,
)
from zkhealth.errors import CeremonyError, CeremonyFileError, ContributionError
from zkhealth.field import FIELD_R
from zkhealth.formats._montgomery import (
    decode_g1,
    decode_g2,
    encode_g1,
    encode_g2,
    g1_compressed,
    g1_uncompressed,
    g2_compressed,
    g2_uncompressed,
)
from zkhealth.formats.ptau_file import (
    LAGRANGE_SECTIONS,
    MAX_POWER,
    PtauContribution,
    PtauFile,
    PtauPublicKey,
    section_point_count,
)
from zkhealth.hash.blake2b import Blake2b
from zkhealth.hazmat.batch_ec import g1_mul_many, g2_mul_many
from zkhealth.hazmat.bn254 import G1, G1_GENERATOR, G2, G2_GENERATOR, g2_in_subgroup
from zkhealth.hazmat.group_fft import g1_ifft, g2_ifft, ifft_cost
from zkhealth.hazmat.msm import msm_g1, msm_g2
from zkhealth.hazmat.ntt import intt

__all__ = [
    "ContributionReceipt",
    "PtauContributionInfo",
    "PtauVerification",
    "beacon",
    "contribute",
    "first_challenge",
    "format_hash",
    "new_accumulator",
    "prepare_phase2",
    "response_hash",
    "verify",
]

#: Relative cost of a G2 scalar multiplication (a G1 one is 1), to balance work between processes.
G2_COST: Final[int] = 3
_G1_SECTIONS: Final[tuple[int, ...]] = (2, 4, 5)
_EMPTY_HASH: Final[bytes] = hashlib.blake2b(b"").digest()


def format_hash(digest: bytes) -> str:
    """A 64-byte hash as snarkjs prints it: four lines of four 8-hex-digit groups."""
    h = digest.hex()
    return "\n".join(" ".join(h[32 * row + 8 * col : 32 * row + 8 * col + 8] for col in range(4)) for row in range(4))


# --------------------------------------------------------------------------- hashes


def first_challenge(power: int) -> bytes:
    """The challenge of the first contribution: ``H(H("") || the fresh accumulator, uncompressed)``."""
    n = 1 << power
    g1 = g1_uncompressed([G1_GENERATOR])
    g2 = g2_uncompressed([G2_GENERATOR])
    hasher = hashlib.blake2b(_EMPTY_HASH)
    hasher.update(g1 * (2 * n - 1))
    hasher.update(g2 * n)
    hasher.update(g1 * n)
    hasher.update(g1 * n)
    hasher.update(g2)
    return hasher.digest()


def _public_key_uncompressed(key: PtauPublicKey) -> bytes:
    return g1_uncompressed(key.g1_points()) + g2_uncompressed(key.g2_points())


def response_hash(contribution: PtauContribution) -> bytes:
    """The contribution's response hash, finished from its saved ``partialHash`` and its public key."""
    try:
        state = Blake2b.from_partial_state(contribution.partial_hash)
    except ValueError as exc:
        raise ContributionError(str(exc), check="partial-hash") from exc
    state.update(_public_key_uncompressed(contribution.key))
    return state.digest()


def _points_uncompressed(ptau: PtauFile) -> list[bytes]:
    return [
        g1_uncompressed(ptau.g1(2)),
        g2_uncompressed(ptau.g2(3)),
        g1_uncompressed(ptau.g1(4)),
        g1_uncompressed(ptau.g1(5)),
        g2_uncompressed(ptau.g2(6)),
    ]


def _next_challenge(response: bytes, uncompressed_sections: Sequence[bytes]) -> bytes:
    hasher = hashlib.blake2b(response)
    for part in uncompressed_sections:
        hasher.update(part)
    return hasher.digest()


def recompute_hashes(ptau: PtauFile, challenge: bytes) -> tuple[bytes, bytes]:
    """``(response hash, next challenge)`` of the last contribution of ``ptau`` recomputed from the file's points
    and the ``challenge`` it answered, without trusting its saved hash state. A transcript replay compares
    them with the record (:func:`response_hash`) and with what the contributor published."""
    if not ptau.contributions:
        raise CeremonyError("the file has no contribution")
    hasher = hashlib.blake2b(challenge)
    hasher.update(g1_compressed(ptau.g1(2)))
    hasher.update(g2_compressed(ptau.g2(3)))
    hasher.update(g1_compressed(ptau.g1(4)))
    hasher.update(g1_compressed(ptau.g1(5)))
    hasher.update(g2_compressed(ptau.g2(6)))
    hasher.update(_public_key_uncompressed(ptau.contributions[-1].key))
    response = hasher.digest()
    return response, _next_challenge(response, _points_uncompressed(ptau))


def current_challenge(ptau: PtauFile) -> bytes:
    """The challenge the next contribution to ``ptau`` answers."""
    if ptau.contributions:
        return ptau.contributions[-1].next_challenge
    return first_challenge(ptau.ceremony_power)


# --------------------------------------------------------------------------- new


def new_accumulator(power: int) -> PtauFile:
    """A fresh accumulator of 2^power (every point a generator), as ``snarkjs powersoftau new bn128 power``."""
    if isinstance(power, bool) or not isinstance(power, int) or not 1 <= power <= MAX_POWER:
        raise CeremonyError(f"the power must be an int in [1, {MAX_POWER}]")
    n = 1 << power
    g1 = encode_g1([G1_GENERATOR])
    g2 = encode_g2([G2_GENERATOR])
    sections = {2: g1 * (2 * n - 1), 3: g2 * n, 4: g1 * n, 5: g1 * n, 6: g2}
    return PtauFile(power=power, ceremony_power=power, sections=sections, contributions=[])


# --------------------------------------------------------------------------- contribute and beacon


@dataclass(frozen=True)
class ContributionReceipt:
    """What a contributor publishes: the challenge answered, the response hash and the next challenge."""

    index: int
    name: str
    challenge: bytes
    response_hash: bytes
    next_challenge: bytes


def _apply_key_chunk(
    group: str, raw: bytes, count: int, first: int, inc: int, path: str | None, section: int
) -> tuple[bytes, bytes, bytes]:
    """Multiply ``count`` LEM points by ``first * inc^i``; return their LEM, compressed and uncompressed bytes.

    The input points are checked on their curves here; G2 membership is checked by :func:`_g2_section_check`
    alongside, and the outputs are dropped unless it passes (see :func:`_contribute_with_key`).
    """
    r = FIELD_R
    scalars = [0] * count
    t = first
    for i in range(count):
        scalars[i] = t
        t = t * inc % r
    if group == "g1":
        points_g1 = decode_g1(raw, count, path=path, section=section)
        out_g1 = g1_mul_many(points_g1, scalars)
        return encode_g1(out_g1), g1_compressed(out_g1), g1_uncompressed(out_g1)
    out_g2 = g2_mul_many(decode_g2(raw, count, path=path, section=section), scalars)
    return encode_g2(out_g2), g2_compressed(out_g2), g2_uncompressed(out_g2)


def _g2_section_check(raw: bytes, count: int, path: str | None, section: int) -> bool:
    """Whether every point of a G2 section lies in G2 (batched, :func:`~._checks.all_in_g2`). Multiplying a
    point with a small-order component by a secret would leak the secret modulo that order, so a contribution
    whose input fails this check is not written."""
    return all_in_g2(decode_g2(raw, count, path=path, section=section))


def _chunks(count: int, pieces: int) -> list[tuple[int, int]]:
    pieces = max(1, min(pieces, count))
    bounds = [count * j // pieces for j in range(pieces + 1)]
    return [(bounds[j], bounds[j + 1]) for j in range(pieces)]


def _contribute_with_key(
    ptau: PtauFile,
    key_secrets: tuple[int, int, int],
    key: PtauKey,
    challenge: bytes,
    *,
    name: str,
    kind: int,
    beacon_value: bytes | None,
    beacon_exponent: int | None,
    workers: int,
    progress: ProgressCallback | None,
) -> tuple[PtauFile, ContributionReceipt]:
    tau, alpha, beta = key_secrets
    power = ptau.power
    r = FIELD_R
    pieces = 4 * workers if workers > 1 else 1
    plan: list[tuple[int, int, int, str]] = []  # (section, start, end, group)
    tasks: list[Task] = []
    for section, first, group in ((2, 1, "g1"), (3, 1, "g2"), (4, alpha, "g1"), (5, beta, "g1"), (6, beta, "g2")):
        count = section_point_count(section, power)
        size = 64 if group == "g1" else 128
        for start, end in _chunks(count, pieces if count > 1 else 1):
            plan.append((section, start, end, group))
            tasks.append(
                Task(
                    _apply_key_chunk,
                    (
                        group,
                        ptau.sections[section][start * size : end * size],
                        end - start,
                        first * pow(tau, start, r) % r,
                        tau,
                        ptau.path,
                        section,
                    ),
                    (end - start) * (G2_COST if group == "g2" else 1),
                )
            )
    for section in (3, 6):
        count = section_point_count(section, power)
        tasks.append(Task(_g2_section_check, (ptau.sections[section], count, ptau.path, section), count // 4 + 1))
    results = run_tasks(tasks, workers=workers, stage="contribute", progress=progress)
    checks = results[len(plan) :]
    results = results[: len(plan)]
    for section, in_g2 in zip((3, 6), checks, strict=True):
        if not in_g2:
            raise CeremonyFileError("a G2 point is not in the prime-order subgroup", path=ptau.path, section=section)
    lem: dict[int, list[bytes]] = {s: [] for s in (2, 3, 4, 5, 6)}
    compressed: dict[int, list[bytes]] = {s: [] for s in (2, 3, 4, 5, 6)}
    uncompressed: dict[int, list[bytes]] = {s: [] for s in (2, 3, 4, 5, 6)}
    for (section, _, _, _), (a, b, c) in zip(plan, results, strict=True):
        lem[section].append(a)
        compressed[section].append(b)
        uncompressed[section].append(c)
    if progress is not None:
        progress("hash", 0, 1)
    response = Blake2b(challenge)
    reference = hashlib.blake2b(challenge)
    for section in (2, 3, 4, 5, 6):
        part = b"".join(compressed[section])
        response.update(part)
        reference.update(part)
    partial = response.partial_state()
    public = PtauPublicKey(
        key.tau.g1_s, key.tau.g1_sx, key.alpha.g1_s, key.alpha.g1_sx, key.beta.g1_s, key.beta.g1_sx,
        key.tau.g2_spx, key.alpha.g2_spx, key.beta.g2_spx,
    )  # fmt: skip
    response.update(_public_key_uncompressed(public))
    reference.update(_public_key_uncompressed(public))
    response_digest = response.digest()
    if response_digest != reference.digest():  # pragma: no cover - the saved state is checked end to end
        raise CeremonyError("internal error: the saved BLAKE2b state does not reproduce the response hash")
    next_challenge = _next_challenge(response_digest, [b"".join(uncompressed[s]) for s in (2, 3, 4, 5, 6)])
    new_sections = {s: b"".join(lem[s]) for s in (2, 3, 4, 5, 6)}
    out = PtauFile(power=power, ceremony_power=ptau.ceremony_power, sections=new_sections, contributions=[])
    tau_g1 = decode_g1(new_sections[2][64:128], 1)[0]
    tau_g2 = decode_g2(new_sections[3][128:256], 1)[0]
    name_bytes = _name_bytes(name)
    record = PtauContribution(
        tau_g1=tau_g1,
        tau_g2=tau_g2,
        alpha_g1=decode_g1(new_sections[4][:64], 1)[0],
        beta_g1=decode_g1(new_sections[5][:64], 1)[0],
        beta_g2=decode_g2(new_sections[6], 1)[0],
        key=public,
        partial_hash=partial,
        next_challenge=next_challenge,
        kind=kind,
        name_bytes=name_bytes,
        beacon_exponent=beacon_exponent,
        beacon_value=beacon_value,
    )
    out.contributions = [*ptau.contributions, record]
    if progress is not None:
        progress("hash", 1, 1)
    receipt = ContributionReceipt(
        index=len(out.contributions),
        name=name,
        challenge=challenge,
        response_hash=response_digest,
        next_challenge=next_challenge,
    )
    return out, receipt


def _name_bytes(name: str) -> bytes | None:
    """snarkjs keeps the first 64 UTF-16 code units of a name; we refuse longer names instead of cutting."""
    if not isinstance(name, str):
        raise CeremonyError("a contributor name must be a str")
    if len(name.encode("utf-16-le")) > 128:
        raise CeremonyError("a contributor name is at most 64 characters (snarkjs' limit)")
    encoded = name.encode("utf-8")
    return encoded or None


def _check_contributable(ptau: PtauFile) -> None:
    if ptau.power != ptau.ceremony_power:
        raise CeremonyError("this file was truncated from a larger ceremony: contribute to the full file")


def _key_secrets(key: PtauKey) -> tuple[int, int, int]:
    if key.secrets is None:  # pragma: no cover - create_ptau_key always returns the secrets
        raise CeremonyError("the contribution key has no secrets")
    return key.secrets


def contribute(
    ptau: PtauFile,
    *,
    name: str = "",
    entropy: str = "",
    rng: ChaCha | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[PtauFile, ContributionReceipt]:
    """Add a contribution (``snarkjs powersoftau contribute``): returns the new file and the receipt.

    The secrets come from 64 bytes of :func:`os.urandom` and the optional ``entropy`` text (``rng`` replaces
    both, for known-answer tests only). Prepared sections of the input are dropped (prepare again after the
    last contribution). Cost: about ``4n`` G1 and ``n`` G2 scalar multiplications for 2^power = n.
    """
    _check_contributable(ptau)
    challenge = current_challenge(ptau)
    source = rng if rng is not None else contribution_rng(entropy)
    key = create_ptau_key(challenge, source)
    return _contribute_with_key(
        ptau,
        _key_secrets(key),
        key,
        challenge,
        name=name,
        kind=0,
        beacon_value=None,
        beacon_exponent=None,
        workers=check_workers(workers),
        progress=progress,
    )


def beacon_key(challenge: bytes, beacon_value: bytes, exponent: int) -> PtauKey:
    """The key a beacon contribution must use: derived from the beacon alone (and the challenge)."""
    return create_ptau_key(challenge, beacon_rng(beacon_value, exponent))


def beacon(
    ptau: PtauFile,
    beacon_value: bytes,
    exponent: int,
    *,
    name: str = "",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[PtauFile, ContributionReceipt]:
    """Add a beacon contribution (``snarkjs powersoftau beacon``): the secrets come from ``beacon_value``
    hashed with SHA-256 ``2^exponent`` times, so anyone can recompute them (and :func:`verify` does)."""
    _check_contributable(ptau)
    check_beacon(beacon_value, exponent)
    challenge = current_challenge(ptau)
    key = beacon_key(challenge, beacon_value, exponent)
    return _contribute_with_key(
        ptau,
        _key_secrets(key),
        key,
        challenge,
        name=name,
        kind=1,
        beacon_value=bytes(beacon_value),
        beacon_exponent=exponent,
        workers=check_workers(workers),
        progress=progress,
    )


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class PtauContributionInfo:
    """One verified contribution, as :func:`verify` reports it."""

    index: int
    name: str
    is_beacon: bool
    challenge: bytes
    response_hash: bytes
    next_challenge: bytes
    beacon_value: bytes | None
    beacon_exponent: int | None


@dataclass(frozen=True)
class PtauVerification:
    """The result of a successful :func:`verify`."""

    power: int
    ceremony_power: int
    first_challenge: bytes
    contributions: tuple[PtauContributionInfo, ...]
    prepared: bool


@dataclass(frozen=True)
class _Prev:
    tau_g1: G1 | None
    tau_g2: G2 | None
    alpha_g1: G1 | None
    beta_g1: G1 | None
    beta_g2: G2 | None
    next_challenge: bytes


def _key_ratios(c: PtauContribution, prev: _Prev, index: int) -> tuple[list[Ratio], dict[str, G2]]:
    key = c.key
    parts = {
        "tau": (0, key.tau_g1_s, key.tau_g1_sx, key.tau_g2_spx),
        "alpha": (1, key.alpha_g1_s, key.alpha_g1_sx, key.alpha_g2_spx),
        "beta": (2, key.beta_g1_s, key.beta_g1_sx, key.beta_g2_spx),
    }
    sp: dict[str, G2] = {}
    ratios: list[Ratio] = []
    for label, (personalization, g1_s, g1_sx, g2_spx) in parts.items():
        if g1_s is None or g1_sx is None:
            raise ContributionError(f"the {label} key has an identity point", check=f"key-{label}", contribution=index)
        sp[label] = g2_sp(personalization, prev.next_challenge, g1_s, g1_sx)
        ratios.append((f"key-{label}", index, g1_s, g1_sx, sp[label], g2_spx))
    ratios += [
        ("tau-g1-chain", index, prev.tau_g1, c.tau_g1, sp["tau"], key.tau_g2_spx),
        ("tau-g2-chain", index, key.tau_g1_s, key.tau_g1_sx, prev.tau_g2, c.tau_g2),
        ("alpha-g1-chain", index, prev.alpha_g1, c.alpha_g1, sp["alpha"], key.alpha_g2_spx),
        ("beta-g1-chain", index, prev.beta_g1, c.beta_g1, sp["beta"], key.beta_g2_spx),
        ("beta-g2-chain", index, key.beta_g1_s, key.beta_g1_sx, prev.beta_g2, c.beta_g2),
    ]
    return ratios, sp


def _check_beacon_key(c: PtauContribution, prev: _Prev, index: int) -> None:
    if c.beacon_value is None or c.beacon_exponent is None:
        raise ContributionError(
            "a beacon contribution lacks its beacon value or exponent", check="beacon", contribution=index
        )
    try:
        expected = beacon_key(prev.next_challenge, c.beacon_value, c.beacon_exponent)
    except CeremonyError as exc:
        raise ContributionError(str(exc), check="beacon", contribution=index) from exc
    got = c.key
    want = PtauPublicKey(
        expected.tau.g1_s, expected.tau.g1_sx, expected.alpha.g1_s, expected.alpha.g1_sx,
        expected.beta.g1_s, expected.beta.g1_sx, expected.tau.g2_spx, expected.alpha.g2_spx, expected.beta.g2_spx,
    )  # fmt: skip
    if got != want:
        raise ContributionError(
            "the key is not the one the beacon value and iteration count give", check="beacon", contribution=index
        )


def _consecutive(points: list[G1 | None]) -> tuple[G1 | None, G1 | None]:
    """``(sum r_i P_i, sum r_i P_(i+1))`` over i < len - 1 with fresh random r_i."""
    r = random_scalars(len(points) - 1)
    return msm_g1(points[:-1], r), msm_g1(points[1:], r)


def _consecutive_g2(points: list[G2 | None]) -> tuple[G2 | None, G2 | None]:
    r = random_scalars(len(points) - 1)
    return msm_g2(points[:-1], r), msm_g2(points[1:], r)


def _initial(ceremony_power: int) -> _Prev:
    return _Prev(G1_GENERATOR, G2_GENERATOR, G1_GENERATOR, G1_GENERATOR, G2_GENERATOR, first_challenge(ceremony_power))


def _check_records(
    records: Sequence[PtauContribution],
    prev: _Prev,
    first_index: int,
    path: str | None,
    report: ProgressCallback,
) -> list[PtauContributionInfo]:
    """Check contributions ``records`` (numbered from ``first_index``) each against the one before, starting
    from ``prev``: G2 membership of their G2 points, a beacon's key, and every same-ratio claim (batched)."""
    ratios: list[Ratio] = []
    infos: list[PtauContributionInfo] = []
    total = len(records)
    for offset, c in enumerate(records):
        index = first_index + offset
        report("contributions", offset, total)
        for label, point in (
            ("tau G2", c.tau_g2), ("beta G2", c.beta_g2), ("tau key G2", c.key.tau_g2_spx),
            ("alpha key G2", c.key.alpha_g2_spx), ("beta key G2", c.key.beta_g2_spx),
        ):  # fmt: skip
            if point is not None and not g2_in_subgroup(point):
                raise ContributionError(
                    f"the {label} point is not in G2", check="g2-subgroup", contribution=index, path=path
                )
        if c.is_beacon:
            _check_beacon_key(c, prev, index)
        key_ratios, _ = _key_ratios(c, prev, index)
        ratios += key_ratios
        infos.append(
            PtauContributionInfo(
                index=index,
                name=c.name,
                is_beacon=c.is_beacon,
                challenge=prev.next_challenge,
                response_hash=response_hash(c),
                next_challenge=c.next_challenge,
                beacon_value=c.beacon_value,
                beacon_exponent=c.beacon_exponent,
            )
        )
        prev = _Prev(c.tau_g1, c.tau_g2, c.alpha_g1, c.beta_g1, c.beta_g2, c.next_challenge)
    report("contributions", total, total)
    failed = first_false_ratio(ratios)
    if failed is not None:
        raise ContributionError(f"{failed[0]} does not hold", check=failed[0], contribution=failed[1], path=path)
    return infos


def verify_last_contribution(previous: PtauFile, new: PtauFile) -> PtauContributionInfo:
    """Check only the last contribution of ``new`` against ``previous`` (its proofs of knowledge, its chain
    from the previous contribution, a beacon's key). A transcript replay uses it for intermediate files."""
    if len(new.contributions) != len(previous.contributions) + 1:
        raise CeremonyError("the file does not add exactly one contribution")
    if previous.contributions:
        last = previous.contributions[-1]
        prev = _Prev(last.tau_g1, last.tau_g2, last.alpha_g1, last.beta_g1, last.beta_g2, last.next_challenge)
    else:
        prev = _initial(previous.ceremony_power)

    def quiet(stage: str, done: int, total: int) -> None:
        del stage, done, total

    return _check_records(new.contributions[-1:], prev, len(new.contributions), new.path, quiet)[0]


def verify(ptau: PtauFile, *, progress: ProgressCallback | None = None) -> PtauVerification:
    """Verify every contribution, the points and the hash chain of ``ptau`` (module docstring).

    Raises :class:`ContributionError` (with ``check`` and ``contribution``) on the first failure, including
    a file without contributions (snarkjs refuses those too: their secrets are 1). Cost: a few MSMs per
    section with 64-bit scalars, two pairings per check (batched), a hash of the file; prepared files add
    an MSM over each Lagrange section.
    """
    path = ptau.path

    def fail(message: str, check: str, contribution: int | None = None) -> ContributionError:
        return ContributionError(message, check=check, contribution=contribution, path=path)

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    if not ptau.contributions:
        raise fail("the file has no contribution: its secrets are known (1)", "no-contribution")
    initial = _initial(ptau.ceremony_power)
    infos = _check_records(ptau.contributions, initial, 1, path, report)

    last = ptau.contributions[-1]
    report("points", 0, 5)
    tau_g1 = ptau.g1(2)
    tau_g2 = ptau.g2(3)
    alpha_g1 = ptau.g1(4)
    beta_g1 = ptau.g1(5)
    beta_g2 = ptau.g2(6)
    if tau_g1[0] != G1_GENERATOR or tau_g2[0] != G2_GENERATOR:
        raise fail("the first tau point is not the generator", "first-point")
    for label, got, want in (
        ("tau G1", tau_g1[1], last.tau_g1),
        ("tau G2", tau_g2[1], last.tau_g2),
        ("alpha G1", alpha_g1[0], last.alpha_g1),
        ("beta G1", beta_g1[0], last.beta_g1),
        ("beta G2", beta_g2[0], last.beta_g2),
    ):
        if got != want:
            raise fail(f"the file's {label} point is not the last contribution's", "last-contribution-points")
    report("points", 1, 5)
    if not all_in_g2(tau_g2):
        raise fail("a point of the tau G2 section is not in G2", "g2-subgroup")
    sections: list[Ratio] = []
    for label, points in (("tau-g1-powers", tau_g1), ("alpha-g1-powers", alpha_g1), ("beta-g1-powers", beta_g1)):
        r1, r2 = _consecutive(points)
        sections.append((label, None, r1, r2, G2_GENERATOR, last.tau_g2))
    report("points", 3, 5)
    s1, s2 = _consecutive_g2(tau_g2)
    sections.append(("tau-g2-powers", None, G1_GENERATOR, last.tau_g1, s1, s2))
    if None in tau_g1 or None in alpha_g1 or None in beta_g1 or None in tau_g2:
        raise fail("a power is the identity", "identity-power")
    failed = first_false_ratio(sections)
    if failed is not None:
        raise fail(f"{failed[0]}: consecutive points do not differ by tau", failed[0])
    report("points", 4, 5)
    if ptau.power == ptau.ceremony_power:
        digest = _next_challenge(response_hash(last), _points_uncompressed(ptau))
        if digest != last.next_challenge:
            raise fail(
                "the last next-challenge is not the hash of the file's points",
                "next-challenge",
                len(ptau.contributions),
            )
    report("points", 5, 5)
    if ptau.prepared:
        _verify_lagrange(ptau, fail, report)
    return PtauVerification(
        power=ptau.power,
        ceremony_power=ptau.ceremony_power,
        first_challenge=initial.next_challenge,
        contributions=tuple(infos),
        prepared=ptau.prepared,
    )


def _lagrange_coefficients(size: int) -> tuple[list[int], list[int]]:
    """Random weights ``rho`` for the Lagrange points of one domain, and the matching weights on the powers:
    ``sum_j rho_j L_j(tau) = sum_i c_i tau^i`` with ``c = intt(rho)`` (the inverse transform's transpose is
    itself, the DFT matrix being symmetric)."""
    rho = random_scalars(size)
    return rho, intt(rho)


def _verify_lagrange(ptau: PtauFile, fail: Callable[[str, str], ContributionError], report: ProgressCallback) -> None:
    """Each Lagrange section against its power section, all domains at once with random weights."""
    power = ptau.power
    r = FIELD_R
    for source, target in LAGRANGE_SECTIONS.items():
        top = power + 1 if source == 2 else power
        lagrange_weights: list[int] = []
        power_weights = [0] * section_point_count(source, power)
        for p in range(top + 1):
            rho, coeffs = _lagrange_coefficients(1 << p)
            lagrange_weights += rho
            # For tau G1's largest domain the last power is not in the file: its Lagrange points were made
            # with the identity in its place, so its coefficient is dropped.
            for i, c in enumerate(coeffs[: len(power_weights)]):
                power_weights[i] = (power_weights[i] + c) % r
        if source == 3:
            ok = msm_g2(ptau.g2(target), lagrange_weights) == msm_g2(ptau.g2(source), power_weights)
        else:
            ok = msm_g1(ptau.g1(target), lagrange_weights) == msm_g1(ptau.g1(source), power_weights)
        if not ok:
            raise fail(f"section {target} is not the Lagrange transform of section {source}", f"lagrange-{target}")
        report("lagrange", target - 11, 4)


# --------------------------------------------------------------------------- prepare phase 2


def _lagrange_task(group: str, raw: bytes, count: int, size: int, path: str | None, section: int) -> bytes:
    """LEM bytes of the inverse FFT of the first ``count`` points of a section, padded with the identity to
    ``size`` (tauG1's largest domain lacks its last power)."""
    if group == "g1":
        points = decode_g1(raw, count, path=path, section=section) + [None] * (size - count)
        return encode_g1(g1_ifft(points))
    points2 = decode_g2(raw, count, path=path, section=section) + [None] * (size - count)
    return encode_g2(g2_ifft(points2))


def prepare_phase2(ptau: PtauFile, *, workers: int | None = None, progress: ProgressCallback | None = None) -> PtauFile:
    """Add the Lagrange sections 12-15 (``snarkjs powersoftau prepare phase2``): for every domain 2^p,
    p = 0 .. power (.. power + 1 for tau G1), the points ``L_j(tau) G`` computed from the powers by an inverse
    FFT over the group. Sections 1-7 are kept as they are.

    Cost: about ``sum_p 2^(p-1) p`` scalar multiplications per section, tau G2's over G2 (minutes at 2^14).
    """
    n_workers = check_workers(workers)
    power = ptau.power
    tasks: list[Task] = []
    plan: list[tuple[int, int]] = []
    for source, target in LAGRANGE_SECTIONS.items():
        group = "g2" if source == 3 else "g1"
        size_of = 128 if group == "g2" else 64
        available = section_point_count(source, power)
        top = power + 1 if source == 2 else power
        for p in range(top + 1):
            size = 1 << p
            count = min(size, available)
            cost = ifft_cost(size) * (G2_COST if group == "g2" else 1) + 1
            raw = ptau.sections[source][: count * size_of]
            tasks.append(Task(_lagrange_task, (group, raw, count, size, ptau.path, source), cost))
            plan.append((target, p))
    results = run_tasks(tasks, workers=n_workers, stage="prepare phase2", progress=progress)
    sections = dict(ptau.sections)
    for target in LAGRANGE_SECTIONS.values():
        sections[target] = b"".join(out for (t, _), out in zip(plan, results, strict=True) if t == target)
    return PtauFile(
        power=power,
        ceremony_power=ptau.ceremony_power,
        sections=sections,
        contributions=list(ptau.contributions),
        path=None,
    )
