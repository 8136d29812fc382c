"""Helpers shared by the ``zkhealth`` command's verbs: output, passphrases, atomic files, progress.

Every verb prints either a human-readable text or, under the global ``--json`` option, one JSON object on
stdout (:func:`emit`). Progress and notes go to stderr, so ``--json`` output can be piped.

Passphrases (issuer key files, wallets) come from, in this order: ``--passphrase-file`` (its first line),
the environment variable ``ZKHEALTH_PASSPHRASE``, or a prompt (hidden input on a terminal, one line read
from stdin otherwise). They are never accepted as a command-line argument, where ``ps`` and shell history
would show them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from zkhealth._fileio import atomic_write as _atomic_write

if TYPE_CHECKING:
    from zkhealth.credentials.wallet import KdfParams

__all__ = [
    "KDF_PROFILES",
    "PASSPHRASE_ENV",
    "atomic_write",
    "emit",
    "is_json",
    "kdf_option",
    "kdf_params",
    "note",
    "passphrase_file_option",
    "read_passphrase",
    "status",
    "write_json_file",
]

#: A click command callback, as click's decorators take and return it.
F = TypeVar("F", bound=Callable[..., Any])

#: Environment variable read for a passphrase when no ``--passphrase-file`` is given.
PASSPHRASE_ENV: Final[str] = "ZKHEALTH_PASSPHRASE"

#: Argon2id profiles offered by ``--kdf`` (libsodium's names; all above the OWASP floor the wallet enforces).
KDF_PROFILES: Final[tuple[str, ...]] = ("interactive", "moderate", "sensitive")


def is_json(ctx: click.Context) -> bool:
    """Whether the global ``--json`` option is set."""
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("json"))


def emit(ctx: click.Context, payload: dict[str, Any], human: str) -> None:
    """Print ``payload`` as JSON under ``--json``, otherwise the human-readable text."""
    if is_json(ctx):
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
    else:
        click.echo(human)


def note(message: str) -> None:
    """A line of information on stderr (kept out of ``--json`` output)."""
    click.echo(message, err=True)


@contextlib.contextmanager
def status(ctx: click.Context, message: str) -> Iterator[None]:
    """Show a rich spinner on stderr while the block runs, only when stderr is a terminal and not ``--json``."""
    if is_json(ctx) or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def kdf_params(profile: str) -> KdfParams:
    """The :class:`~zkhealth.credentials.wallet.KdfParams` of a ``--kdf`` profile name."""
    import nacl.pwhash

    from zkhealth.credentials.wallet import KdfParams

    argon = nacl.pwhash.argon2id
    table = {
        "interactive": (argon.OPSLIMIT_INTERACTIVE, argon.MEMLIMIT_INTERACTIVE),
        "moderate": (argon.OPSLIMIT_MODERATE, argon.MEMLIMIT_MODERATE),
        "sensitive": (argon.OPSLIMIT_SENSITIVE, argon.MEMLIMIT_SENSITIVE),
    }
    opslimit, memlimit = table[profile]
    return KdfParams(int(opslimit), int(memlimit))


def kdf_option() -> Callable[[F], F]:
    """The ``--kdf`` option: the Argon2id cost profile for a new encrypted file."""
    return click.option(
        "--kdf",
        "kdf",
        type=click.Choice(KDF_PROFILES),
        default="moderate",
        show_default=True,
        help="Argon2id cost of the new file: interactive (64 MiB), moderate (256 MiB, about 1 s), sensitive (1 GiB).",
    )


def passphrase_file_option() -> Callable[[F], F]:
    """The ``--passphrase-file`` option (first line of the file; else $ZKHEALTH_PASSPHRASE; else a prompt)."""
    return click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help=f"Read the passphrase from the first line of this file (else ${PASSPHRASE_ENV}, else a prompt).",
    )


def read_passphrase(passphrase_file: Path | None, *, prompt: str, confirm: bool) -> str:
    """Get a passphrase from ``passphrase_file``, ``$ZKHEALTH_PASSPHRASE`` or a prompt (in that order).

    ``confirm`` asks twice on a terminal (for new files). Raises :class:`click.UsageError` (exit code 2) for
    an empty passphrase or when none can be read (no file, no variable, stdin at EOF).
    """
    if passphrase_file is not None:
        text = passphrase_file.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        if not first:
            raise click.UsageError(f"{passphrase_file}: the first line is empty; a passphrase is required")
        return first
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        entered = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
        if not isinstance(entered, str) or not entered:
            raise click.UsageError("a passphrase is required")
        return entered
    line = stdin.readline()
    if not line:
        raise click.UsageError(f"no passphrase: use --passphrase-file, set {PASSPHRASE_ENV}, or run in a terminal")
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise click.UsageError("the passphrase read from stdin is empty")
    return passphrase


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    A crash leaves the old file or the new one, never half of one. ``mode`` sets the permissions (use
    ``0o600`` for secrets; the temporary file is private from the start). With ``overwrite=False`` an
    existing ``path`` raises :class:`click.UsageError` (exit code 2) before anything is written.
    """
    if not overwrite and path.exists():
        raise click.UsageError(f"{path} exists; pass --force to replace it")
    _atomic_write(path, data, mode=mode)


def write_json_file(path: Path, value: Any, *, mode: int = 0o644, overwrite: bool = True) -> None:
    """Write ``value`` as indented UTF-8 JSON with a final newline, atomically (see :func:`atomic_write`)."""
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"), mode=mode, overwrite=overwrite)
