"""Trusted setup: ``zkhealth powersoftau ...``, ``zkhealth zkey new|contribute|beacon|verify``, ``zkhealth ceremony``.

The verbs and argument orders are snarkjs' (``powersoftau new bn128 12 out.ptau``, ``zkey new c.r1cs f.ptau
out.zkey`` ...), so a group can mix both tools. Each command only parses, calls :mod:`zkhealth.ceremony` and
prints: the hashes a contributor publishes (in snarkjs' 4 x 4 layout, or as hex under ``--json``), with a
progress bar on stderr for the steps that take minutes (``--quiet`` or ``--json`` turn it off).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from zkhealth.cli._common import emit, is_json, note

ProgressCallback = Callable[[str, int, int], None]

_PATH_IN = click.Path(dir_okay=False, exists=True, path_type=Path)
_PATH_OUT = click.Path(dir_okay=False, path_type=Path)
_FOLDER = click.Path(file_okay=False, path_type=Path)


@contextlib.contextmanager
def _progress(ctx: click.Context, quiet: bool, label: str) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr fed by the library's ``progress(stage, done, total)`` callbacks."""
    if quiet or is_json(ctx):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # No refresh thread (auto_refresh=False): the work forks processes, and a child must not inherit a
    # thread that holds the console's lock. The bar is redrawn on every report instead.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task(label, total=1)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{label}: {stage}", completed=done, total=max(total, 1))
            bar.refresh()

        yield report


def _hash_text(title: str, digest: bytes) -> str:
    from zkhealth.ceremony.powersoftau import format_hash

    body = "\n".join("    " + line for line in format_hash(digest).splitlines())
    return f"{title}\n{body}"


def _beacon_bytes(value: str) -> bytes:
    text = value[2:] if value.startswith("0x") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter("the beacon must be hexadecimal") from None
    if not raw or len(raw) * 2 != len(text):
        raise click.BadParameter("the beacon must be a non-empty even-length hexadecimal string")
    return raw


def _elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


# --------------------------------------------------------------------------- powersoftau


@click.group("powersoftau")
def powersoftau_group() -> None:
    """Phase 1 of a trusted setup (snarkjs powersoftau): new, contribute, beacon, prepare phase2, verify."""


@powersoftau_group.command("new")
@click.argument("curve", type=click.Choice(["bn128", "bn254"]))
@click.argument("power", type=click.IntRange(1, 28))
@click.argument("out", type=_PATH_OUT)
@click.pass_context
def ptau_new(ctx: click.Context, curve: str, power: int, out: Path) -> None:
    """Write a fresh accumulator of 2^POWER to OUT (every point a generator; nobody's secret yet)."""
    from zkhealth.ceremony.powersoftau import first_challenge, new_accumulator
    from zkhealth.formats.ptau_file import write_ptau

    del curve
    write_ptau(new_accumulator(power), out)
    challenge = first_challenge(power)
    emit(
        ctx,
        {"file": str(out), "power": power, "first_challenge": challenge.hex()},
        f"wrote {out}\n" + _hash_text("First contribution hash (the challenge):", challenge),
    )


@powersoftau_group.command("contribute")
@click.argument("source", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.option("-n", "--name", default="", help="Your name, recorded in the file (64 characters at most).")
@click.option("-e", "--entropy", default="", help="Extra random text mixed with 64 bytes from the OS.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: 2 or ZKHEALTH_WORKERS).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ptau_contribute(
    ctx: click.Context, source: Path, out: Path, name: str, entropy: str, workers: int | None, quiet: bool
) -> None:
    """Add your contribution to SOURCE and write OUT. Publish the contribution (response) hash it prints."""
    from zkhealth.ceremony.powersoftau import contribute
    from zkhealth.formats.ptau_file import read_ptau, write_ptau

    started = time.perf_counter()
    ptau = read_ptau(source)
    if ptau.prepared:
        note("note: the Lagrange sections of the input are dropped; run prepare phase2 after the last contribution")
    with _progress(ctx, quiet, "contribute") as progress:
        new, receipt = contribute(ptau, name=name, entropy=entropy, workers=workers, progress=progress)
    write_ptau(new, out)
    emit(
        ctx,
        {
            "file": str(out),
            "contribution": receipt.index,
            "name": name,
            "challenge": receipt.challenge.hex(),
            "response_hash": receipt.response_hash.hex(),
            "next_challenge": receipt.next_challenge.hex(),
            "seconds": round(time.perf_counter() - started, 2),
        },
        f"wrote {out} ({_elapsed(started)})\n"
        + _hash_text("Contribution (response) hash, publish it:", receipt.response_hash)
        + "\n"
        + _hash_text("Next challenge hash:", receipt.next_challenge),
    )


@powersoftau_group.command("beacon")
@click.argument("source", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.argument("beacon_hash")
@click.argument("exponent", type=click.IntRange(10, 63))
@click.option("-n", "--name", default="", help="Name recorded with the beacon contribution.")
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ptau_beacon(
    ctx: click.Context,
    source: Path,
    out: Path,
    beacon_hash: str,
    exponent: int,
    name: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Apply a public random BEACON_HASH (hex), hashed 2^EXPONENT times with SHA-256, as a contribution."""
    from zkhealth.ceremony.powersoftau import beacon
    from zkhealth.formats.ptau_file import read_ptau, write_ptau

    value = _beacon_bytes(beacon_hash)
    started = time.perf_counter()
    with _progress(ctx, quiet, "beacon") as progress:
        new, receipt = beacon(read_ptau(source), value, exponent, name=name, workers=workers, progress=progress)
    write_ptau(new, out)
    emit(
        ctx,
        {
            "file": str(out),
            "contribution": receipt.index,
            "response_hash": receipt.response_hash.hex(),
            "next_challenge": receipt.next_challenge.hex(),
            "seconds": round(time.perf_counter() - started, 2),
        },
        f"wrote {out} ({_elapsed(started)})\n"
        + _hash_text("Beacon contribution (response) hash:", receipt.response_hash),
    )


@powersoftau_group.group("prepare")
def ptau_prepare_group() -> None:
    """Prepare a finished phase 1 for phase 2."""


@ptau_prepare_group.command("phase2")
@click.argument("source", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ptau_prepare_phase2(ctx: click.Context, source: Path, out: Path, workers: int | None, quiet: bool) -> None:
    """Add the Lagrange-basis points (an FFT over the group) to SOURCE; write OUT. Takes minutes at 2^14."""
    from zkhealth.ceremony.powersoftau import prepare_phase2
    from zkhealth.formats.ptau_file import read_ptau, write_ptau

    started = time.perf_counter()
    ptau = read_ptau(source)
    with _progress(ctx, quiet, "prepare phase2") as progress:
        prepared = prepare_phase2(ptau, workers=workers, progress=progress)
    write_ptau(prepared, out)
    emit(
        ctx,
        {"file": str(out), "power": ptau.power, "seconds": round(time.perf_counter() - started, 2)},
        f"wrote {out} ({_elapsed(started)})",
    )


@powersoftau_group.command("verify")
@click.argument("ptau_path", metavar="PTAU", type=_PATH_IN)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ptau_verify(ctx: click.Context, ptau_path: Path, quiet: bool) -> None:
    """Verify every contribution, the points and the hash chain of PTAU; print every contribution's hashes.

    Exit codes: 0 valid; 1 a check failed; 2 malformed file.
    """
    from zkhealth.ceremony.powersoftau import verify
    from zkhealth.formats.ptau_file import read_ptau

    with _progress(ctx, quiet, "verify") as progress:
        report = verify(read_ptau(ptau_path), progress=progress)
    lines = [
        f"{ptau_path}: powers of tau OK (2^{report.power}, {len(report.contributions)} contributions"
        + (", prepared for phase 2)" if report.prepared else ")")
    ]
    for c in report.contributions:
        kind = f"beacon {c.beacon_value.hex() if c.beacon_value else ''} 2^{c.beacon_exponent}" if c.is_beacon else ""
        lines.append(f"#{c.index} {c.name} {kind}".rstrip())
        lines.append(_hash_text("  contribution (response) hash:", c.response_hash))
        lines.append(_hash_text("  next challenge:", c.next_challenge))
    emit(
        ctx,
        {
            "ok": True,
            "power": report.power,
            "prepared": report.prepared,
            "first_challenge": report.first_challenge.hex(),
            "contributions": [_ptau_info_json(c) for c in report.contributions],
        },
        "\n".join(lines),
    )


def _ptau_info_json(c: Any) -> dict[str, Any]:
    return {
        "index": c.index,
        "name": c.name,
        "beacon": c.is_beacon,
        "challenge": c.challenge.hex(),
        "response_hash": c.response_hash.hex(),
        "next_challenge": c.next_challenge.hex(),
        "beacon_value": c.beacon_value.hex() if c.beacon_value is not None else None,
        "beacon_exponent": c.beacon_exponent,
    }


# --------------------------------------------------------------------------- zkey (phase 2)


@click.command("new")
@click.argument("r1cs_path", metavar="R1CS", type=_PATH_IN)
@click.argument("ptau_path", metavar="PTAU", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def zkey_new(ctx: click.Context, r1cs_path: Path, ptau_path: Path, out: Path, workers: int | None, quiet: bool) -> None:
    """Write the initial phase-2 key of R1CS from a prepared PTAU (not usable before a contribution)."""
    from zkhealth.ceremony.phase2 import new_zkey
    from zkhealth.formats.ptau_file import read_ptau
    from zkhealth.formats.r1cs_file import read_r1cs
    from zkhealth.formats.zkey_file import write_zkey_file

    started = time.perf_counter()
    with _progress(ctx, quiet, "zkey new") as progress:
        zkey = new_zkey(read_r1cs(r1cs_path), read_ptau(ptau_path), workers=workers, progress=progress)
    write_zkey_file(zkey, out)
    circuit_hash = zkey.cs_hash or b""
    emit(
        ctx,
        {"file": str(out), "circuit_hash": circuit_hash.hex(), "seconds": round(time.perf_counter() - started, 2)},
        f"wrote {out} ({_elapsed(started)})\n" + _hash_text("Circuit hash:", circuit_hash),
    )


@click.command("contribute")
@click.argument("source", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.option("-n", "--name", default="", help="Your name, recorded in the key (64 characters at most).")
@click.option("-e", "--entropy", default="", help="Extra random text mixed with 64 bytes from the OS.")
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def zkey_contribute(
    ctx: click.Context, source: Path, out: Path, name: str, entropy: str, workers: int | None, quiet: bool
) -> None:
    """Add your phase-2 contribution to SOURCE and write OUT. Publish the contribution hash it prints."""
    from zkhealth.ceremony.phase2 import contribute
    from zkhealth.formats.zkey_file import read_zkey_file, write_zkey_file

    started = time.perf_counter()
    with _progress(ctx, quiet, "zkey contribute") as progress:
        new, receipt = contribute(
            read_zkey_file(source), name=name, entropy=entropy, workers=workers, progress=progress
        )
    write_zkey_file(new, out)
    emit(
        ctx,
        {
            "file": str(out),
            "contribution": receipt.index,
            "name": name,
            "circuit_hash": receipt.circuit_hash.hex(),
            "contribution_hash": receipt.contribution_hash.hex(),
            "seconds": round(time.perf_counter() - started, 2),
        },
        f"wrote {out} ({_elapsed(started)})\n"
        + _hash_text("Contribution hash, publish it:", receipt.contribution_hash),
    )


@click.command("beacon")
@click.argument("source", type=_PATH_IN)
@click.argument("out", type=_PATH_OUT)
@click.argument("beacon_hash")
@click.argument("exponent", type=click.IntRange(10, 63))
@click.option("-n", "--name", default="", help="Name recorded with the beacon contribution.")
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def zkey_beacon(
    ctx: click.Context,
    source: Path,
    out: Path,
    beacon_hash: str,
    exponent: int,
    name: str,
    workers: int | None,
    quiet: bool,
) -> None:
    """Apply a public random BEACON_HASH (hex), hashed 2^EXPONENT times, as the last phase-2 contribution."""
    from zkhealth.ceremony.phase2 import beacon
    from zkhealth.formats.zkey_file import read_zkey_file, write_zkey_file

    value = _beacon_bytes(beacon_hash)
    started = time.perf_counter()
    with _progress(ctx, quiet, "zkey beacon") as progress:
        new, receipt = beacon(read_zkey_file(source), value, exponent, name=name, workers=workers, progress=progress)
    write_zkey_file(new, out)
    emit(
        ctx,
        {"file": str(out), "contribution": receipt.index, "contribution_hash": receipt.contribution_hash.hex()},
        f"wrote {out} ({_elapsed(started)})\n" + _hash_text("Beacon contribution hash:", receipt.contribution_hash),
    )


@click.command("verify")
@click.argument("r1cs_path", metavar="R1CS", type=_PATH_IN)
@click.argument("ptau_path", metavar="PTAU", type=_PATH_IN)
@click.argument("zkey_path", metavar="ZKEY", type=_PATH_IN)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def zkey_verify(
    ctx: click.Context, r1cs_path: Path, ptau_path: Path, zkey_path: Path, workers: int | None, quiet: bool
) -> None:
    """Verify ZKEY against its circuit (R1CS) and the prepared PTAU; print every contribution hash.

    Exit codes: 0 valid; 1 a check failed; 2 malformed file.
    """
    from zkhealth.ceremony.phase2 import verify
    from zkhealth.formats.ptau_file import read_ptau
    from zkhealth.formats.r1cs_file import read_r1cs
    from zkhealth.formats.zkey_file import read_zkey_file

    with _progress(ctx, quiet, "zkey verify") as progress:
        report = verify(
            read_zkey_file(zkey_path), read_r1cs(r1cs_path), read_ptau(ptau_path), workers=workers, progress=progress
        )
    lines = [
        f"{zkey_path}: key OK ({len(report.contributions)} contributions)",
        _hash_text("Circuit hash:", report.circuit_hash),
    ]
    for c in report.contributions:
        kind = (
            f" (beacon {c.beacon_value.hex() if c.beacon_value else ''} 2^{c.beacon_exponent})" if c.is_beacon else ""
        )
        lines.append(_hash_text(f"#{c.index} {c.name}{kind}:", c.contribution_hash))
    lines.append(f"verification key sha256 {report.verifying_key_sha256}")
    emit(
        ctx,
        {
            "ok": True,
            "circuit_hash": report.circuit_hash.hex(),
            "verifying_key_sha256": report.verifying_key_sha256,
            "contributions": [
                {
                    "index": c.index,
                    "name": c.name,
                    "beacon": c.is_beacon,
                    "contribution_hash": c.contribution_hash.hex(),
                }
                for c in report.contributions
            ],
        },
        "\n".join(lines),
    )


ZKEY_COMMANDS = (zkey_new, zkey_contribute, zkey_beacon, zkey_verify)


# --------------------------------------------------------------------------- ceremony (coordinator)


@click.group("ceremony")
def ceremony_group() -> None:
    """Coordinate a ceremony: a folder, a transcript, checks of every incoming contribution, and a replay.

    \b
    init FOLDER --power N          start phase 1
    accept FOLDER FILE --name WHO  check and append a contribution (.ptau, or .zkey with --circuit)
    beacon FOLDER HEX EXP          close a phase with a public random beacon
    prepare FOLDER                 close phase 1 (prepare phase2)
    circuit FOLDER NAME R1CS       start phase 2 for a circuit
    finish FOLDER NAME             export the circuit's verification key
    status FOLDER                  what to send to the next contributor
    verify FOLDER                  replay everything and print every hash
    """


def _entry_json(e: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(e)


def _entry_text(e: Any) -> str:
    where = f"{e.phase}" + (f"/{e.circuit}" if e.circuit else "")
    head = f"[{e.index}] {where} {e.step} by {e.name} at {e.time}: {e.file}"
    parts = [head]
    if e.contribution_hash:
        labels = {"verification-key": "key sha256       ", "zkey-new": "circuit hash     "}
        label = labels.get(e.step, "contribution hash")
        parts.append(f"    {label} {e.contribution_hash}")
    if e.previous_hash:
        parts.append(f"    previous hash     {e.previous_hash}")
    if e.next_hash:
        parts.append(f"    next hash         {e.next_hash}")
    if e.beacon_value:
        parts.append(f"    beacon {e.beacon_value} iterated 2^{e.beacon_exponent}")
    return "\n".join(parts)


@ceremony_group.command("init")
@click.argument("folder", type=_FOLDER)
@click.option("--power", type=click.IntRange(1, 28), required=True, help="Size of the ceremony: 2^power constraints.")
@click.pass_context
def ceremony_init(ctx: click.Context, folder: Path, power: int) -> None:
    """Create the ceremony FOLDER with the fresh accumulator and its transcript."""
    from zkhealth.ceremony.transcript import Ceremony

    ceremony = Ceremony.create(folder, power)
    entry = ceremony.entries[0]
    emit(
        ctx,
        _entry_json(entry),
        f"ceremony of 2^{power} in {folder}\nsend {ceremony.head_ptau()} to the first contributor",
    )


@ceremony_group.command("accept")
@click.argument("folder", type=_FOLDER)
@click.argument("incoming", type=_PATH_IN)
@click.option("--name", required=True, help="The contributor's name, as the group knows them.")
@click.option("--circuit", default=None, help="For a .zkey: the circuit it contributes to.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ceremony_accept(
    ctx: click.Context, folder: Path, incoming: Path, name: str, circuit: str | None, quiet: bool
) -> None:
    """Check INCOMING (the head plus one contribution) and append it; refuse anything else (exit 1)."""
    from zkhealth.ceremony.transcript import Ceremony
    from zkhealth.formats.zkey_file import is_zkey

    ceremony = Ceremony(folder)
    with incoming.open("rb") as handle:
        magic = handle.read(4)
    if is_zkey(magic):
        if circuit is None:
            raise click.UsageError("a .zkey contribution needs --circuit")
        with _progress(ctx, quiet, "checking") as progress:
            entry = ceremony.accept_zkey(circuit, incoming, name=name, progress=progress)
    else:
        entry = ceremony.accept_ptau(incoming, name=name)
    emit(ctx, _entry_json(entry), "accepted\n" + _entry_text(entry))


@ceremony_group.command("beacon")
@click.argument("folder", type=_FOLDER)
@click.argument("beacon_hash")
@click.argument("exponent", type=click.IntRange(10, 63))
@click.option("--circuit", default=None, help="Apply to this circuit's phase 2 (default: phase 1).")
@click.option("--name", default="beacon", show_default=True)
@click.pass_context
def ceremony_beacon(
    ctx: click.Context, folder: Path, beacon_hash: str, exponent: int, circuit: str | None, name: str
) -> None:
    """Apply a public beacon (e.g. a future block hash announced in advance) as the last contribution."""
    from zkhealth.ceremony.transcript import Ceremony

    ceremony = Ceremony(folder)
    value = _beacon_bytes(beacon_hash)
    if circuit is None:
        entry = ceremony.beacon_ptau(value, exponent, name=name)
    else:
        entry = ceremony.beacon_zkey(circuit, value, exponent, name=name)
    emit(ctx, _entry_json(entry), _entry_text(entry))


@ceremony_group.command("prepare")
@click.argument("folder", type=_FOLDER)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ceremony_prepare(ctx: click.Context, folder: Path, quiet: bool) -> None:
    """Close phase 1: verify it and add the Lagrange sections (minutes at 2^14)."""
    from zkhealth.ceremony.transcript import Ceremony

    with _progress(ctx, quiet, "prepare phase2") as progress:
        entry = Ceremony(folder).prepare(progress=progress)
    emit(ctx, _entry_json(entry), _entry_text(entry))


@ceremony_group.command("circuit")
@click.argument("folder", type=_FOLDER)
@click.argument("circuit")
@click.argument("r1cs_path", metavar="R1CS", type=_PATH_IN)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ceremony_circuit(ctx: click.Context, folder: Path, circuit: str, r1cs_path: Path, quiet: bool) -> None:
    """Start phase 2 of CIRCUIT (a short name) from R1CS and the prepared phase 1."""
    from zkhealth.ceremony.transcript import Ceremony

    ceremony = Ceremony(folder)
    with _progress(ctx, quiet, "zkey new") as progress:
        entry = ceremony.start_circuit(circuit, r1cs_path, progress=progress)
    emit(ctx, _entry_json(entry), _entry_text(entry) + f"\nsend {ceremony.head_zkey(circuit)} to the first contributor")


@ceremony_group.command("finish")
@click.argument("folder", type=_FOLDER)
@click.argument("circuit")
@click.pass_context
def ceremony_finish(ctx: click.Context, folder: Path, circuit: str) -> None:
    """Close phase 2 of CIRCUIT: write its verification_key.json into the folder."""
    from zkhealth.ceremony.transcript import Ceremony

    entry = Ceremony(folder).finish_circuit(circuit)
    emit(ctx, _entry_json(entry), _entry_text(entry))


@ceremony_group.command("status")
@click.argument("folder", type=_FOLDER)
@click.pass_context
def ceremony_status(ctx: click.Context, folder: Path) -> None:
    """Show the transcript and the files the next contributors start from."""
    from zkhealth.ceremony.transcript import Ceremony

    ceremony = Ceremony(folder)
    heads: dict[str, str] = {"phase1": str(ceremony.head_ptau())}
    for circuit in sorted({e.circuit for e in ceremony.entries if e.circuit}):
        heads[circuit] = str(ceremony.head_zkey(circuit))
    text = "\n".join(_entry_text(e) for e in ceremony.entries)
    text += "\n" + "\n".join(f"head of {k}: {v}" for k, v in heads.items())
    emit(ctx, {"power": ceremony.power, "heads": heads, "entries": [_entry_json(e) for e in ceremony.entries]}, text)


@ceremony_group.command("verify")
@click.argument("folder", type=_FOLDER)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ceremony_verify(ctx: click.Context, folder: Path, quiet: bool) -> None:
    """Replay FOLDER's transcript from the first file to the final keys, printing every hash as it is checked.

    Contributors compare their line with the hash they published. Each finished circuit ends with its
    verification key's sha256 and its final hash (the last contribution hash of its final key), which
    `zkhealth setup --ceremony` and `zkhealth universal-keys import --ceremony` record with the adopted key.
    Exit codes: 0 the whole ceremony checks out; 1 a contribution or hash does not; 2 a malformed file.
    """
    from zkhealth.ceremony.transcript import verify_ceremony

    checked: list[Any] = []

    def on_entry(entry: Any) -> None:
        checked.append(entry)
        if not is_json(ctx):
            click.echo(_entry_text(entry))

    with _progress(ctx, quiet, "verify") as progress:
        report = verify_ceremony(folder, progress=progress, on_entry=on_entry)
    keys = "\n".join(
        f"verification key of {name}: sha256 {sha}\nfinal hash of {name}: {report.final_hashes.get(name, '')}"
        for name, sha in report.verification_keys.items() if sha
    )
    emit(
        ctx,
        {
            "ok": True,
            "power": report.power,
            "entries": [_entry_json(e) for e in checked],
            "verification_keys": report.verification_keys,
            "final_hashes": report.final_hashes,
        },
        f"ceremony OK: {len(checked)} steps checked" + (f"\n{keys}" if keys else ""),
    )
