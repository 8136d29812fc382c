"""The per-key cache of decoded proving keys (zkhealth.formats.key_cache): same key and same proofs from an
entry as from a full load, every damaged or foreign entry ignored and rebuilt, off switch, unusable
directories, and the bound on the directory. Every test gets its own cache directory (XDG_CACHE_HOME)."""

from __future__ import annotations

import hashlib
import os
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from groth16_circuits import chain_r1cs, chain_witness

from zkhealth.errors import InvalidArgumentError
from zkhealth.field import FIELD_R
from zkhealth.formats import key_cache
from zkhealth.formats._montgomery import encode_g1, encode_g2
from zkhealth.formats.zkey_file import ZkeyFile, coefficient_bytes, zkey_file_to_bytes
from zkhealth.formats.zkhpk_file import _parse_any, load_proving_key, proving_key_to_bytes
from zkhealth.groth16 import prove, prove_deterministic, setup, verify
from zkhealth.groth16.keys import ProvingKey
from zkhealth.groth16.prover import _key_state
from zkhealth.hazmat import msm

pytestmark = pytest.mark.prove

N = 24  # constraints of the test circuit (domain 32)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's cache directory: ``<tmp>/xdg/zkhealth/keys``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ZKHEALTH_KEY_CACHE_DIR", raising=False)
    monkeypatch.delenv("ZKHEALTH_KEY_CACHE", raising=False)
    return tmp_path / "xdg" / "zkhealth" / "keys"


@pytest.fixture(scope="module")
def keys() -> tuple[ProvingKey, Any]:
    return setup(chain_r1cs(N), workers=1)


def _zkey_bytes(pk: ProvingKey) -> bytes:
    """``pk`` as a snarkjs-layout ``.zkey`` (the library's writer, as the ceremony uses it)."""
    vk = pk.vk
    coefficients = [(0, *e) for e in pk.a_entries] + [(1, *e) for e in pk.b_entries]
    sections = {
        3: encode_g1(vk.gamma_abc_g1), 4: coefficient_bytes(coefficients), 5: encode_g1(pk.a_query),
        6: encode_g1(pk.b_g1_query), 7: encode_g2(pk.b_g2_query), 8: encode_g1(pk.l_query), 9: encode_g1(pk.h_query),
    }  # fmt: skip
    zkey = ZkeyFile(
        n_vars=pk.n_wires, n_public=pk.n_public, domain_size=pk.domain_size, alpha_1=vk.alpha_g1, beta_1=pk.beta_g1,
        beta_2=vk.beta_g2, gamma_2=vk.gamma_g2, delta_1=pk.delta_g1, delta_2=vk.delta_g2, sections=sections,
        cs_hash=None, contributions=[],
    )  # fmt: skip
    return zkey_file_to_bytes(zkey)


def _key_file(tmp_path: Path, pk: ProvingKey, kind: str) -> Path:
    path = tmp_path / f"key.{kind}"
    path.write_bytes(proving_key_to_bytes(pk) if kind == "zkhpk" else _zkey_bytes(pk))
    return path


def _entry(cache: Path, key: Path) -> Path:
    return cache / (hashlib.sha256(key.read_bytes()).hexdigest() + key_cache.SUFFIX)


def _stats() -> dict[str, int]:
    return dict(key_cache.STATS)


def _delta(before: dict[str, int]) -> dict[str, int]:
    return {k: v - before[k] for k, v in key_cache.STATS.items() if v != before[k]}


def _reseal(data: bytes) -> bytes:
    """``data`` with its trailing sha256 recomputed (so only the check under test can refuse it)."""
    return data[:-32] + hashlib.sha256(data[:-32]).digest()


@pytest.mark.parametrize("kind", ["zkhpk", "zkey"])
def test_second_load_uses_the_entry_and_proves_the_same(
    kind: str, keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path
) -> None:
    pk, vk = keys
    path = _key_file(tmp_path, pk, kind)
    before = _stats()
    first = load_proving_key(path)
    assert _delta(before) == {"misses": 1, "writes": 1}
    entry = _entry(own_cache, path)
    assert entry.is_file() and entry.stat().st_mode & 0o777 == 0o600
    assert own_cache.stat().st_mode & 0o077 == 0
    before = _stats()
    second = load_proving_key(path)
    assert _delta(before) == {"hits": 1}
    assert second == first and second.points_checked and second.n_constraints == first.n_constraints
    assert second._cached_columns is not None
    witness = chain_witness(N, 3)
    proof = prove_deterministic(second, witness, 11, 13, workers=1)
    assert second._cached_columns is None  # used once, then dropped
    assert proof == prove_deterministic(first, witness, 11, 13, workers=1)
    verify(vk, witness[1 : 1 + pk.n_public], proof)


def test_the_prepared_bases_are_the_same_as_from_a_full_load(keys: tuple[ProvingKey, Any], tmp_path: Path) -> None:
    path = _key_file(tmp_path, keys[0], "zkhpk")
    full = load_proving_key(path)
    cached = load_proving_key(path)
    assert cached._cached_columns is not None
    _assert_same_bases(full, cached)


def _assert_same_bases(full: ProvingKey, cached: ProvingKey) -> None:
    a, b = _key_state(full).bases, _key_state(cached).bases
    assert a.keys() == b.keys()
    for name in a:
        shape_a = (a[name].kind, a[name].present, a[name].table.stride)
        assert shape_a == (b[name].kind, b[name].present, b[name].table.stride)
        present, stride = a[name].present, a[name].table.stride
        a_coords = [_ints(c, present, stride) for c in a[name].table.coords]
        assert a_coords == [_ints(c, present, stride) for c in b[name].table.coords]
        # the identities' slots are placeholders (never read), whatever they hold; every other slot is a point
        assert all(v is not None for col in a_coords for v in col[: stride * len(present)] if v != "identity")


def _ints(column: list[Any], present: bytes, stride: int) -> list[int | str | None]:
    return ["identity" if not present[i // stride] else None if v is None else int(v) for i, v in enumerate(column)]


def test_anchor_zkey_from_the_entry_equals_the_full_load(shared_anchor_dir: Path) -> None:
    """The circom/snarkjs anchor (10k constraints, a .zkey made by snarkjs): the same key, the same prepared
    bases and the same deterministic proof from its entry."""
    from zkhealth.formats import read_wtns

    path = shared_anchor_dir / "eligibility_final.zkey"
    full = load_proving_key(path)
    before = _stats()
    cached = load_proving_key(path)
    assert _delta(before) == {"hits": 1}
    assert cached == full
    witness = read_wtns(shared_anchor_dir / "witness.wtns")
    proof = prove_deterministic(cached, witness, 123, 456, workers=1)
    assert proof == prove_deterministic(full, witness, 123, 456, workers=1)
    fresh = load_proving_key(path)
    _assert_same_bases(full, fresh)


def test_random_damage_is_never_used(keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path) -> None:
    """Flipped bits anywhere and truncations at any length: ignored, and the key still loads exactly."""
    import random

    path = _key_file(tmp_path, keys[0], "zkey")
    full = load_proving_key(path)
    entry = _entry(own_cache, path)
    good = entry.read_bytes()
    rng = random.Random(18)
    for _ in range(40):
        at = rng.randrange(len(good))
        entry.write_bytes(good[:at] + bytes([good[at] ^ (1 << rng.randrange(8))]) + good[at + 1 :])
        before = _stats()
        assert load_proving_key(path) == full
        assert _delta(before)["rejected"] == 1
        entry.write_bytes(good[: rng.randrange(len(good))])
        assert load_proving_key(path) == full


def _damage(kind: str, data: bytes, other: bytes) -> bytes:
    header = key_cache._HEADER.size
    if kind == "payload byte":
        middle = (header + len(data)) // 2
        return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    if kind == "checksum byte":
        return data[:-1] + bytes([data[-1] ^ 0x80])
    if kind == "truncated":
        return data[:-100]
    if kind == "padded":
        return data + bytes(32)
    if kind == "empty":
        return b""
    if kind == "wrong digest":
        return _reseal(data[:8] + bytes(32) + data[40:])
    if kind == "wrong version":
        return _reseal(data[:4] + struct.pack("<I", key_cache.VERSION + 1) + data[8:])
    if kind == "wrong magic":
        return _reseal(b"zkhX" + data[4:])
    if kind == "wrong counts":  # n_wires + 1: the size no longer matches, refused before reading on
        (n_wires,) = struct.unpack_from("<I", data, 40)
        return _reseal(data[:40] + struct.pack("<I", n_wires + 1) + data[44:])
    if kind == "unknown provenance":
        return _reseal(data[: header - 16] + b"forged".ljust(16, b"\0") + data[header:])
    if kind in ("row out of range", "coefficient index out of range"):  # the first A entry's, resealed
        n_wires, n_public, domain = struct.unpack_from("<3I", data, 40)
        (n_a,) = struct.unpack_from("<I", data, 56)
        (n_table,) = struct.unpack_from("<I", data, 68)
        n_coords = sum(width * count for _, width, count in key_cache._layout(n_wires, n_public, domain))
        pos = header + 32 * (n_coords + n_table) + (0 if kind == "row out of range" else 8 * n_a)
        bad = domain if kind == "row out of range" else n_table
        return _reseal(data[:pos] + struct.pack("<I", bad) + data[pos + 4 :])
    if kind == "coefficient not below r":  # the first coefficient of the table := r, resealed
        n_wires, n_public, domain = struct.unpack_from("<3I", data, 40)
        n_coords = sum(width * count for _, width, count in key_cache._layout(n_wires, n_public, domain))
        pos = header + 32 * n_coords
        return _reseal(data[:pos] + FIELD_R.to_bytes(32, "little") + data[pos + 32 :])
    if kind == "another key's entry":
        return other
    raise AssertionError(kind)


DAMAGE = [
    "payload byte", "checksum byte", "truncated", "padded", "empty", "wrong digest", "wrong version", "wrong magic",
    "wrong counts", "unknown provenance", "row out of range", "coefficient index out of range",
    "coefficient not below r", "another key's entry",
]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(
    damage: str, keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path
) -> None:
    pk, _ = keys
    path = _key_file(tmp_path, pk, "zkhpk")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_key = _key_file(other_dir, setup(chain_r1cs(N), workers=1)[0], "zkhpk")
    full = load_proving_key(path)
    load_proving_key(other_key)
    entry = _entry(own_cache, path)
    good = entry.read_bytes()
    entry.write_bytes(_damage(damage, good, _entry(own_cache, other_key).read_bytes()))
    before = _stats()
    loaded = load_proving_key(path)
    assert _delta(before) == {"rejected": 1, "misses": 1, "writes": 1}
    assert loaded == full and loaded._cached_columns is None
    witness = chain_witness(N, 5)
    assert prove_deterministic(loaded, witness, 3, 4, workers=1) == prove_deterministic(full, witness, 3, 4, workers=1)
    assert entry.read_bytes() == good  # rebuilt
    before = _stats()
    assert load_proving_key(path) == full
    assert _delta(before) == {"hits": 1}


def test_an_entry_whose_header_changes_while_it_is_read_is_refused(
    keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry is read whole after its header was checked: if the file's start changed in between (written
    in place by someone else), the checked header no longer describes the data, and the entry is refused even
    though the data's own seal is intact."""
    import io

    pk, _ = keys
    path = _key_file(tmp_path, pk, "zkhpk")
    full = load_proving_key(path)
    entry = _entry(own_cache, path)
    good = entry.read_bytes()
    # Another well-sealed entry whose header differs (the provenance byte range is free text padded with NULs).
    other = bytearray(good[:-32])
    other[5] ^= 1  # inside the header: the version field
    changed = _reseal(bytes(other) + good[-32:])

    real = open(entry, "rb")  # noqa: SIM115 (closed below): a real descriptor for os.fstat

    class Swapping(io.BytesIO):
        def fileno(self) -> int:
            return real.fileno()

        def seek(self, pos: int, whence: int = 0) -> int:
            if pos == 0 and whence == 0 and self.tell():
                data = self.getvalue()
                self.__init__(changed)  # type: ignore[misc]
                assert self.getvalue() != data
            return super().seek(pos, whence)

    real_open = open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if Path(file) == entry and mode == "rb":
            return Swapping(good)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(key_cache, "open", fake_open, raising=False)
    before = _stats()
    try:
        loaded = load_proving_key(path)
    finally:
        real.close()
    assert _delta(before)["rejected"] == 1
    assert loaded == full and loaded._cached_columns is None


def test_entries_are_bound_to_the_key_bytes(keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path) -> None:
    """A key file changed by one byte is another key: a new entry; a corrupt key is still refused."""
    from zkhealth.errors import R1csFormatError

    path = _key_file(tmp_path, keys[0], "zkhpk")
    load_proving_key(path)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    before = _stats()
    with pytest.raises(R1csFormatError):
        load_proving_key(path)
    assert _delta(before) == {"misses": 1}
    assert len(list(own_cache.glob("*" + key_cache.SUFFIX))) == 1


def test_switched_off_writes_nothing(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _key_file(tmp_path, keys[0], "zkey")
    monkeypatch.setenv("ZKHEALTH_KEY_CACHE", "0")
    before = _stats()
    first = load_proving_key(path)
    assert load_proving_key(path) == first
    assert _delta(before) == {}
    assert not (tmp_path / "xdg").exists()


def test_an_unusable_directory_means_no_cache(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _key_file(tmp_path, keys[0], "zkhpk")
    expected = _parse_any(path.read_bytes())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    before = _stats()
    assert load_proving_key(path) == expected
    assert _delta(before) == {}
    shared = tmp_path / "shared"
    (shared / "zkhealth" / "keys").mkdir(parents=True)
    (shared / "zkhealth" / "keys").chmod(0o777)  # others could plant entries: not used
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    assert key_cache.cache_directory() is None
    assert load_proving_key(path) == expected and not list((shared / "zkhealth" / "keys").iterdir())


def test_a_failing_write_is_silent(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that cannot be written (simulated: running as root ignores modes) or a full disk."""
    from zkhealth.errors import StorageError

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(key_cache, "atomic_write", refuse)
    path = _key_file(tmp_path, keys[0], "zkhpk")
    before = _stats()
    assert load_proving_key(path) == _parse_any(path.read_bytes())
    assert _delta(before) == {"misses": 1}
    if os.geteuid() != 0:
        monkeypatch.undo()
        own = tmp_path / "ro"
        (own / "zkhealth" / "keys").mkdir(parents=True)
        (own / "zkhealth" / "keys").chmod(0o500)
        monkeypatch.setenv("XDG_CACHE_HOME", str(own))
        monkeypatch.delenv("ZKHEALTH_KEY_CACHE_DIR", raising=False)
        assert load_proving_key(path) == _parse_any(path.read_bytes())


def test_the_directory_is_bounded(tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_cache, "MAX_ENTRIES", 2)
    paths = []
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        paths.append(_key_file(tmp_path / str(i), setup(chain_r1cs(4 + i), workers=1)[0], "zkhpk"))
    stale = own_cache.parent / "keys" / ".x.zkhc.abc.tmp"
    for i, path in enumerate(paths):
        load_proving_key(path)
        entry = _entry(own_cache, path)
        os.utime(entry, (time.time() - 100 + i, time.time() - 100 + i))
        if i == 0:
            stale.write_bytes(b"left by a killed writer")
            os.utime(stale, (time.time() - 7200, time.time() - 7200))
    names = sorted(p.name for p in own_cache.iterdir())
    assert names == sorted(_entry(own_cache, p).name for p in paths[1:])  # the oldest and the stale file went
    load_proving_key(paths[1])  # a hit makes it the most recent
    monkeypatch.setattr(key_cache, "MAX_ENTRIES", 8)
    monkeypatch.setattr(key_cache, "MAX_TOTAL_BYTES", 1)
    before = _stats()
    load_proving_key(paths[0])  # larger than the byte bound: not written
    assert _delta(before) == {"misses": 1} and not _entry(own_cache, paths[0]).exists()
    monkeypatch.setattr(key_cache, "MAX_TOTAL_BYTES", sum(p.stat().st_size for p in own_cache.iterdir()))
    load_proving_key(paths[0])  # written; then only what fits stays, the most recently used first
    left = {p.name for p in own_cache.iterdir()}
    assert left == {_entry(own_cache, paths[0]).name, _entry(own_cache, paths[1]).name}


def test_cached_columns_are_not_used_for_changed_points(keys: tuple[ProvingKey, Any], tmp_path: Path) -> None:
    """The entry's columns serve only the points they were decoded with: a base replaced before the first
    proof (by another valid point) is prepared from the key's lists, exactly as without the cache."""
    path = _key_file(tmp_path, keys[0], "zkhpk")
    full = load_proving_key(path)
    cached = load_proving_key(path)
    assert cached._cached_columns is not None
    for pk in (full, cached):
        pk.a_query[5] = pk.a_query[6]
    witness = chain_witness(N, 2)
    assert prove_deterministic(cached, witness, 8, 9, workers=1) == prove_deterministic(full, witness, 8, 9, workers=1)


def test_prepare_columns_refuses_mismatched_columns() -> None:
    with pytest.raises(InvalidArgumentError):
        msm.prepare_columns("g1", [[1, 2], [3]], b"\x01\x01")
    with pytest.raises(InvalidArgumentError):
        msm.prepare_columns("g2", [[1], [2]], b"\x01")
    with pytest.raises(InvalidArgumentError):
        msm.prepare_columns("g1", [[1], [2]], b"\x01\x01")


def test_cli_prove_starts_from_the_entry_on_the_second_run(
    keys: tuple[ProvingKey, Any], tmp_path: Path, own_cache: Path
) -> None:
    """``zkhealth groth16 prove KEY WITNESS ...`` (a snarkjs-layout key): the first run writes the entry, the
    second starts from it, and both proofs verify."""
    from click.testing import CliRunner

    from zkhealth.cli import EXIT_OK, main
    from zkhealth.formats import load_proof, load_public, write_wtns

    pk, vk = keys
    key = _key_file(tmp_path, pk, "zkey")
    write_wtns(chain_witness(N, 4), tmp_path / "w.wtns")
    for run, expected in enumerate(({"misses": 1, "writes": 1}, {"hits": 1})):
        before = _stats()
        proof, public = tmp_path / f"proof{run}.json", tmp_path / f"public{run}.json"
        args = ["groth16", "prove", str(key), str(tmp_path / "w.wtns"), str(proof), str(public), "--workers", "1"]
        result = CliRunner().invoke(main, args, catch_exceptions=False, prog_name="zkhealth")
        assert result.exit_code == EXIT_OK, result.output
        assert _delta(before) == expected
        verify(vk, load_public(public), load_proof(proof))
    assert _entry(own_cache, key).is_file()


def test_a_key_the_entry_format_cannot_hold_is_not_cached(keys: tuple[ProvingKey, Any], own_cache: Path) -> None:
    """Extra fields, an unknown provenance or a count beyond u32: the key is returned, no entry is written."""
    import copy
    import dataclasses

    extra = copy.copy(keys[0])
    extra.extra = {"note": "x"}
    huge = copy.copy(keys[0])
    huge.n_constraints = 2**32
    other = copy.copy(keys[0])
    other.vk = dataclasses.replace(keys[0].vk, provenance="ceremony")
    for pk in (extra, huge, other):
        before = _stats()
        assert key_cache.load_cached(b"key bytes", lambda _data, pk=pk: pk) is pk
        assert _delta(before) == {"misses": 1}
    assert not list(own_cache.glob("*" + key_cache.SUFFIX))


# --------------------------------------------------------------------------- the quotient started early


def test_on_matrices_gets_the_keys_own_matrices_on_a_hit_only(keys: tuple[ProvingKey, Any], tmp_path: Path) -> None:
    path = _key_file(tmp_path, keys[0], "zkey")
    seen: list[tuple[Any, ...]] = []
    first = load_proving_key(path, on_matrices=lambda a, b, n: seen.append((a, b, n)))
    assert seen == []  # a miss: the full parse, no early matrices
    second = load_proving_key(path, on_matrices=lambda a, b, n: seen.append((a, b, n)))
    assert len(seen) == 1
    a, b, n = seen[0]
    assert a is second.a_entries and b is second.b_entries and n == second.domain_size
    assert a == first.a_entries and b == first.b_entries


def _job_key(tmp_path: Path, pk: ProvingKey, monkeypatch: pytest.MonkeyPatch) -> tuple[ProvingKey, Any]:
    """A key loaded from its cache entry, and the quotient job its early matrices started (threshold lowered
    to the test circuit's domain)."""
    from zkhealth.groth16 import prover

    monkeypatch.setattr(prover, "QUOTIENT_JOB_MIN_DOMAIN", 8)
    path = _key_file(tmp_path, pk, "zkhpk")
    load_proving_key(path)  # writes the entry
    witness = chain_witness(N, 5)
    jobs: list[Any] = []
    cached = load_proving_key(path, on_matrices=lambda a, b, n: jobs.append(prover.start_quotient(a, b, n, witness)))
    assert len(jobs) == 1 and isinstance(jobs[0], prover.QuotientJob)
    return cached, jobs[0]


def _child_gone(job: Any) -> bool:
    try:
        os.waitpid(job._pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_quotient_job_gives_the_same_proof(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zkhealth.groth16 import prover

    pk, job = _job_key(tmp_path, keys[0], monkeypatch)
    witness = chain_witness(N, 5)
    assert job.matches(pk, witness) and not job.matches(pk, chain_witness(N, 6))
    before = dict(prover.QUOTIENT_STATS)
    with_job = prove_deterministic(pk, witness, 11, 13, workers=1, quotient=job)
    assert prover.QUOTIENT_STATS["job"] == before["job"] + 1
    assert job.result() == prover._quotient(pk.a_entries, pk.b_entries, pk.domain_size, witness)
    assert _child_gone(job)
    assert with_job == prove_deterministic(pk, witness, 11, 13, workers=1)
    verify(keys[1], witness[1 : 1 + pk.n_public], with_job)


@pytest.mark.parametrize("fault", ["other witness", "child fails", "short result", "value out of range"])
def test_a_quotient_job_that_cannot_be_used_is_refused(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A job for another witness, or whose child failed or sent a wrong result, is not used: the proof computes
    the quotient itself and is the same proof; the child is reaped."""
    from zkhealth.groth16 import prover

    real = prover._quotient
    if fault == "child fails":
        monkeypatch.setattr(prover, "_quotient", lambda *args: 1 // 0)
    elif fault == "short result":
        monkeypatch.setattr(prover, "_quotient", lambda *args: real(*args)[:-1])
    elif fault == "value out of range":
        monkeypatch.setattr(prover, "_quotient", lambda *args: [FIELD_R, *real(*args)[1:]])
    pk, job = _job_key(tmp_path, keys[0], monkeypatch)
    monkeypatch.setattr(prover, "_quotient", real)
    witness = chain_witness(N, 6 if fault == "other witness" else 5)
    before = dict(prover.QUOTIENT_STATS)
    proof = prove_deterministic(pk, witness, 11, 13, workers=1, quotient=job)
    assert prover.QUOTIENT_STATS["refused"] == before["refused"] + 1
    assert prover.QUOTIENT_STATS["here"] == before["here"] + 1
    assert proof == prove_deterministic(pk, witness, 11, 13, workers=1)
    assert _child_gone(job)


@pytest.mark.parametrize("refused", ["witness", "witness via prove", "blinding factor"])
def test_a_refused_witness_cancels_the_job(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    from zkhealth.errors import FieldTypeError, WitnessError

    pk, job = _job_key(tmp_path, keys[0], monkeypatch)
    witness = chain_witness(N, 5)
    if refused.startswith("witness"):
        witness[3] = (witness[3] + 1) % FIELD_R
    with pytest.raises(FieldTypeError if refused == "blinding factor" else WitnessError):
        if refused == "witness via prove":
            prove(pk, witness, workers=1, quotient=job)
        else:
            prove_deterministic(pk, witness, 0 if refused == "blinding factor" else 11, 13, workers=1, quotient=job)
    assert _child_gone(job) and job.result() is None
    job.cancel()  # idempotent


def test_no_job_below_the_threshold(keys: tuple[ProvingKey, Any]) -> None:
    from zkhealth.groth16 import prover

    pk = keys[0]
    assert pk.domain_size < prover.QUOTIENT_JOB_MIN_DOMAIN
    assert prover.start_quotient(pk.a_entries, pk.b_entries, pk.domain_size, chain_witness(N, 5)) is None


def test_cli_prove_uses_the_quotient_job(
    keys: tuple[ProvingKey, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`groth16 prove` with a key from the cache: the quotient comes from the job started while the points
    were decoded, and the proof verifies (snarkjs JSON out)."""
    from click.testing import CliRunner

    from zkhealth.cli import main
    from zkhealth.formats import write_wtns
    from zkhealth.formats.snarkjs_json import load_proof, load_public
    from zkhealth.groth16 import prover

    monkeypatch.setattr(prover, "QUOTIENT_JOB_MIN_DOMAIN", 8)
    path = _key_file(tmp_path, keys[0], "zkey")
    load_proving_key(path)  # writes the entry
    witness = chain_witness(N, 5)
    write_wtns(witness, tmp_path / "w.wtns")
    before = dict(prover.QUOTIENT_STATS)
    outputs = [str(tmp_path / "p.json"), str(tmp_path / "pub.json")]
    args = ["groth16", "prove", str(path), str(tmp_path / "w.wtns"), *outputs]
    result = CliRunner().invoke(main, [*args, "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert prover.QUOTIENT_STATS["job"] == before["job"] + 1
    proof = load_proof(tmp_path / "p.json")
    assert load_public(tmp_path / "pub.json") == witness[1 : 1 + keys[0].n_public]
    verify(keys[1], witness[1 : 1 + keys[0].n_public], proof)
    # one worker asked for: no child process
    result = CliRunner().invoke(main, [*args, "--workers", "1"], catch_exceptions=False)
    assert result.exit_code == 0 and prover.QUOTIENT_STATS["job"] == before["job"] + 1


def test_the_c_plan_shares_the_witness_split_through_the_memo(keys: tuple[ProvingKey, Any]) -> None:
    """_c_plan splits the witness once per process: it takes ``memo["splits"]`` (left there by A's or B1's plan)
    or leaves it there for them, and the plan is the one built from fresh splits."""
    from zkhealth.groth16 import prover

    pk, _ = keys
    witness = chain_witness(N, 5)
    bases = _key_state(pk).bases
    plain = prover._c_plan(pk, bases, witness)
    memo: dict[Any, Any] = {}
    first = prover._c_plan(pk, bases, witness, memo=memo)
    assert memo["splits"] == msm.glv_splits(witness)
    again = prover._c_plan(pk, bases, witness, memo=memo)  # from the memo's split
    for plan in (first, again):
        assert (plan.c, plan.windows, plan.codes, plan.kk, plan.ones) == (
            plain.c, plain.windows, plain.codes, plain.kk, plain.ones
        )
    # A's plan in the same process then uses the split the C plan left
    common = (witness, 3, 4, pk.n_public)
    prover._plan(bases, "a", common, memo)
    assert memo["splits"] is not None and "a" in memo
    memo["splits"] = [(0, 0)] * len(witness)  # a wrong split in the memo is used as given (trusted, internal)
    assert prover._c_plan(pk, bases, witness, memo=memo).kk != plain.kk
