"""The registrar's verbs: the person registry (``registrar add|rotate|remove|list|root|proof``).

A registrar (a health authority, an insurer, the trial network) checks each person's identity off-chain and keeps
one leaf per person, ``poseidon([holder_commitment, registered_day])``, in a SQLite person registry
(:class:`zkhealth.credentials.persons.PersonRegistry`). Trials that admit one enrollment per person require the
credential's holder commitment to be registered before the trial opened. The registrar learns who registered and
their wallet's commitment; it does not learn which trials they join.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zkhealth.cli._common import F, emit, parse_day, write_json_file
from zkhealth.field import parse_field_element

__all__ = ["registrar_group"]


def _db_option() -> Callable[[F], F]:
    return click.option(
        "--db", "db_path", default="persons.sqlite", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
        help="The person registry (SQLite; created by `registrar add` if missing).",
    )


def _day(text: str | None) -> int:
    from zkhealth.credentials.dates import date_to_epoch_day, today_epoch_day

    day = parse_day(text, what="--day")
    return today_epoch_day() if day is None else date_to_epoch_day(day)


def _open(path: Path, *, create: bool = False) -> Any:
    from zkhealth.credentials.persons import PersonRegistry

    if not create and not path.exists():
        raise click.UsageError(f"no person registry at {path} (create it with `zkhealth registrar add`)")
    return PersonRegistry(path)


def _commitment(text: str, what: str) -> int:
    return parse_field_element(text, what=what)


@click.group("registrar", short_help="The person registry: add, rotate, remove, list, root, proof.")
def registrar_group() -> None:
    """The person registry: one leaf per person, poseidon([holder_commitment, registered_day]), in a quaternary
    Poseidon tree of depth 12 (16.7 million people) kept in SQLite.

    Check the person's identity first (off-chain), then `add` their wallet's holder commitment (`zkhealth wallet
    init` prints it). A person with a new wallet is `rotate`d: the old leaf goes, the new one gets today's day, so
    the new wallet cannot enroll in one-per-person trials that opened before. The registry root goes into the
    trust root (`zkhealth operator build-root --persons DB`).
    """


@registrar_group.command("add", short_help="Register a person's holder commitment.")
@_db_option()
@click.argument("commitment", metavar="COMMITMENT")
@click.option("--person", default=None, metavar="REF",
              help="An opaque reference of the person (e.g. a salted hash of an id): one leaf per reference.")
@click.option("--day", "day_text", default=None, metavar="YYYY-MM-DD", help="Registration day (default: today, UTC).")
@click.pass_context
def registrar_add(ctx: click.Context, db_path: Path, commitment: str, person: str | None, day_text: str | None) -> None:
    """Register COMMITMENT (a decimal holder commitment). A commitment, or a --person reference, already registered
    is refused (PersonRegistryError, exit 1): rotate instead."""
    value = _commitment(commitment, "COMMITMENT")
    day = _day(day_text)
    with _open(db_path, create=True) as registry:
        slot = registry.register(value, day, person=person)
        root = registry.root
    emit(ctx, {"db": str(db_path), "slot": slot, "registered_day": day, "root": str(root)},
         f"registered in slot {slot} (day {day}); person registry root {root}")


@registrar_group.command("rotate", short_help="Replace a person's commitment (a new wallet).")
@_db_option()
@click.argument("old", metavar="OLD_COMMITMENT")
@click.argument("new", metavar="NEW_COMMITMENT")
@click.option("--day", "day_text", default=None, metavar="YYYY-MM-DD", help="Registration day (default: today, UTC).")
@click.pass_context
def registrar_rotate(ctx: click.Context, db_path: Path, old: str, new: str, day_text: str | None) -> None:
    """Remove OLD_COMMITMENT's leaf and register NEW_COMMITMENT with a new day, in one transaction. The new wallet
    cannot enroll in one-per-person trials that opened on or before that day."""
    day = _day(day_text)
    with _open(db_path) as registry:
        slot = registry.rotate(_commitment(old, "OLD_COMMITMENT"), _commitment(new, "NEW_COMMITMENT"), day)
        root = registry.root
    emit(ctx, {"db": str(db_path), "slot": slot, "registered_day": day, "root": str(root)},
         f"rotated into slot {slot} (day {day}); person registry root {root}")


@registrar_group.command("remove", short_help="Remove a person's leaf.")
@_db_option()
@click.argument("commitment", metavar="COMMITMENT")
@click.pass_context
def registrar_remove(ctx: click.Context, db_path: Path, commitment: str) -> None:
    """Remove COMMITMENT's leaf (its slot becomes empty; it is never reused)."""
    with _open(db_path) as registry:
        registry.remove(_commitment(commitment, "COMMITMENT"))
        root = registry.root
    emit(ctx, {"db": str(db_path), "root": str(root)}, f"removed; person registry root {root}")


@registrar_group.command("list")
@_db_option()
@click.pass_context
def registrar_list(ctx: click.Context, db_path: Path) -> None:
    """List the registered leaves (slot, commitment, registration day, person reference) and the root."""
    from zkhealth.credentials.dates import epoch_day_to_date

    with _open(db_path) as registry:
        entries = registry.entries()
        root = registry.root
    rows = [{"slot": e.slot, "commitment": str(e.holder_commitment), "registered_day": e.registered_day,
             "person": e.person} for e in entries]
    lines = [f"slot {e.slot}: {e.holder_commitment} registered {epoch_day_to_date(e.registered_day)}"
             + (f" ({e.person})" if e.person else "") for e in entries] or ["(nobody registered)"]
    emit(ctx, {"db": str(db_path), "persons": rows, "root": str(root)}, "\n".join([*lines, f"root {root}"]))


@registrar_group.command("root")
@_db_option()
@click.pass_context
def registrar_root(ctx: click.Context, db_path: Path) -> None:
    """Print the person registry's root (recomputed from its leaves when the file is opened)."""
    with _open(db_path) as registry:
        root, people = registry.root, len(registry)
    emit(ctx, {"db": str(db_path), "root": str(root), "persons": people}, str(root))


@registrar_group.command("proof", short_help="A person's membership, for proving.")
@_db_option()
@click.argument("commitment", metavar="COMMITMENT")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the membership (give it to the patient: `zkhealth prove --person FILE`).")
@click.pass_context
def registrar_proof(ctx: click.Context, db_path: Path, commitment: str, out: Path) -> None:
    """Write COMMITMENT's membership (registration day and Merkle path) for a one-per-person proof. It is only
    valid while the person registry root it leads to is the one in the published trust root."""
    with _open(db_path) as registry:
        membership = registry.membership(_commitment(commitment, "COMMITMENT"))
    write_json_file(out, membership.to_dict())
    day = _dt.date(1970, 1, 1) + _dt.timedelta(days=membership.registered_day)
    emit(ctx, {"out": str(out), "registered_day": membership.registered_day,
               "root": str(membership.proof.compute_root())},
         f"wrote {out}: registered {day.isoformat()}, slot {membership.proof.index}")
