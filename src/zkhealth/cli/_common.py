"""Helpers shared by the ``zkhealth`` command's verbs: output, passphrases, atomic files, progress, days and
the chain connection.

Every verb prints either a human-readable text or, under the global ``--json`` option, one JSON object on
stdout (:func:`emit`). Progress and notes go to stderr, so ``--json`` output can be piped.

Passphrases (issuer key files, wallets) come from, in this order: ``--passphrase-file`` (its first line),
the environment variable ``ZKHEALTH_PASSPHRASE``, or a prompt (hidden input on a terminal, one line read
from stdin otherwise). They are never accepted as a command-line argument, where ``ps`` and shell history
would show them.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import gc
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar

import click

from zkhealth._fileio import atomic_write as _atomic_write

if TYPE_CHECKING:
    from zkhealth.credentials.wallet import KdfParams
    from zkhealth.eligibility import TrialSpec

__all__ = [
    "KDF_PROFILES",
    "criteria_warnings",
    "PASSPHRASE_ENV",
    "atomic_write",
    "command_seconds",
    "connect_rpc",
    "emit",
    "is_json",
    "kdf_option",
    "kdf_params",
    "load_trial_spec",
    "note",
    "parse_day",
    "passphrase_file_option",
    "private_key_option",
    "progress_bar",
    "read_document",
    "read_first_line",
    "read_passphrase",
    "recipient_address",
    "status",
    "timed_spinner",
    "trial_keys_directory",
    "write_json_file",
]

#: A click command callback, as click's decorators take and return it.
F = TypeVar("F", bound=Callable[..., Any])

#: Environment variable read for a passphrase when no ``--passphrase-file`` is given.
PASSPHRASE_ENV: Final[str] = "ZKHEALTH_PASSPHRASE"

#: Argon2id profiles offered by ``--kdf`` (libsodium's names; all above the OWASP floor the wallet enforces).
KDF_PROFILES: Final[tuple[str, ...]] = ("interactive", "moderate", "sensitive")


def _process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; 0 where that cannot be read)."""
    try:
        with open("/proc/self/stat", "rb") as stat, open("/proc/uptime", "rb") as uptime:
            start_ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
            return max(0.0, float(uptime.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


_first_command = True


def mark_command_start(ctx: click.Context) -> None:
    """Record when the user started waiting for this command: when the process started, for the first
    command of a process (``zkhealth ...`` from a shell: Python's start-up and imports count), or now for
    later ones (tests invoking the CLI in one process). Idempotent per command; :func:`command_seconds`
    reads it."""
    global _first_command
    root = ctx.find_root()
    root.ensure_object(dict)
    if isinstance(root.obj, dict) and "started" not in root.obj:
        root.obj["started"] = time.monotonic() - (_process_age() if _first_command else 0.0)
        _first_command = False


_release_at_exit = False
#: What the last command asked to keep until the process ends (see :func:`release_at_exit`).
_kept: list[object] = []
#: Set by the entry points that own the process (the console script, ``python -m zkhealth``): its command
#: is the only one, and :func:`exit_process` ends the process after it.
_owns_process = False


def own_process() -> None:
    """Called by an entry point that runs one command and then ends the process with :func:`exit_process`
    (never by in-process callers such as tests): :func:`release_at_exit` may then freeze the collector."""
    global _owns_process
    _owns_process = True


def release_at_exit(*keep: object) -> None:
    """Called by a command that leaves large structures behind (a proving key's decoded points and MSM
    tables, hundreds of thousands of objects): when the process ends after it, :func:`exit_process` skips
    freeing them one by one. ``keep`` are such structures the command holds in local variables: they are
    referenced here until the process ends (only the last command's, for in-process callers such as tests),
    so that returning from the command does not free them either (0.12 s after a 2^16 proof, measured).

    In a process that runs only this command (:func:`own_process`), every object alive now, the kept key
    included, is moved out of the cyclic collector's generations (``gc.freeze``): a proving key's decoding
    leaves about 590,000 tracked objects at 2^16 (none in a reference cycle), and the first collection
    after it walked them all (gc on against off, key load, witness read and MSM preparation: 0.612 against
    0.575 s at 2^16, 0.087 against 0.082 s with the anchor key)."""
    global _release_at_exit
    _release_at_exit = True
    _kept[:] = keep
    if _owns_process:
        gc.freeze()


def exit_process(code: int) -> NoReturn:
    """End the process (the ``zkhealth`` console script, ``python -m zkhealth``) with exit code ``code``.

    After a command that called :func:`release_at_exit`, with only the main thread left and no profiler or
    tracer installed (``python -m cProfile`` writes its output after the program returns): flush stdout and
    stderr, run the ``atexit`` handlers (worker shutdown, temporary files), then ``os._exit``, which skips
    the interpreter's teardown of every object. That teardown is time the user waits for and nothing needs
    (about 0.05-0.2 s after proving with the 10k-constraint anchor key, measured under load; it grows with
    the key). Otherwise, or if stdout cannot be flushed, ``sys.exit(code)``."""
    quiet = sys.getprofile() is None and sys.gettrace() is None
    if _release_at_exit and quiet and threading.active_count() == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)
        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    sys.exit(code)


def command_seconds(ctx: click.Context) -> float:
    """Wall-clock seconds the user has waited for this command so far (see :func:`mark_command_start`): what
    the CLI prints as a command's time, so that it matches the clock on the wall, not a part of the work."""
    root = ctx.find_root()
    started = root.obj.get("started") if isinstance(root.obj, dict) else None
    return time.monotonic() - started if isinstance(started, float) else 0.0


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
        text = _read_small_text(passphrase_file, "passphrase file")
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


#: Largest passphrase or private-key file read (its first line is used).
_SMALL_FILE_BYTES: Final[int] = 64 << 10


def _read_small_text(path: Path, what: str) -> str:
    """A small UTF-8 text file (a passphrase, a private key): a usage error (exit 2) when too large or not
    UTF-8; a missing file raises :class:`~zkhealth.errors.FileAccessError`."""
    from zkhealth._fileio import read_bytes
    from zkhealth.errors import EncodingError

    data = read_bytes(path, max_bytes=_SMALL_FILE_BYTES, error=EncodingError, what=f"{path} ({what})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise click.UsageError(f"{path}: the {what} is not UTF-8 text") from None


#: Largest document a verb reads whole (a proof, a ballot, a proposal, a sealed extract).
DOCUMENT_BYTES: Final[int] = 64 << 20


def read_document(path: Path, what: str, *, max_bytes: int = DOCUMENT_BYTES) -> bytes:
    """The bytes of an input file, refused before reading above ``max_bytes``
    (:class:`~zkhealth.errors.InputLimitError`, exit 2); a missing file is a FileAccessError (exit 2)."""
    from zkhealth._fileio import read_bytes
    from zkhealth.errors import InputLimitError

    return read_bytes(path, max_bytes=max_bytes, error=InputLimitError, what=f"{path} ({what})")


def read_first_line(path: Path, what: str) -> str:
    """The first line of a small text file (a key): a usage error when the file is not UTF-8 text."""
    lines = _read_small_text(path, what).splitlines()
    return lines[0].strip() if lines else ""


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


def criteria_warnings(criteria: str) -> list[str]:
    """Print (on stderr) and return the warnings of :func:`zkhealth.eligibility.analysis.analyze_program`:
    criteria, or parts of them, that no record can meet or that every record meets."""
    from zkhealth.eligibility.analysis import analyze_program
    from zkhealth.eligibility.program import compile_program

    messages = [finding.message for finding in analyze_program(compile_program(criteria))]
    for message in messages:
        note(f"warning: CriteriaWarning: {message}")
    return messages


# --------------------------------------------------------------------------- days and addresses

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_day(text: str | None, *, what: str = "--today") -> _dt.date | None:
    """A ``YYYY-MM-DD`` day (None stays None). Anything else is a usage error (exit 2)."""
    if text is None:
        return None
    if not _DAY.fullmatch(text):
        raise click.BadParameter(f"{text!r} is not a day YYYY-MM-DD", param_hint=what)
    try:
        return _dt.date.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r}: {error}", param_hint=what) from None


def recipient_address(text: str, *, what: str) -> str:
    """An address option (``0x`` + 40 hex digits, EIP-55 checked when mixed-case), lower-case (exit 2 if not)."""
    from zkhealth.eligibility.scope import parse_address

    return parse_address(text, what=what)


# --------------------------------------------------------------------------- progress


@contextlib.contextmanager
def progress_bar(ctx: click.Context, description: str, total: int) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr for ``progress(stage, done, total)`` callbacks (setup). It is shown only on
    a terminal and without ``--json``; otherwise the callback does nothing."""
    if is_json(ctx) or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(stage: str, done: int, steps: int) -> None:
            bar.update(task, completed=done, total=steps, description=f"{description}: {stage}")

        yield update


@contextlib.contextmanager
def timed_spinner(ctx: click.Context, message: str) -> Iterator[None]:
    """A rich spinner with the elapsed time on stderr (terminal only, not under ``--json``)."""
    if is_json(ctx) or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        bar.add_task(message, total=None)
        yield


# --------------------------------------------------------------------------- the chain


def private_key_option(help_text: str) -> Callable[[F], F]:
    """The ``--private-key-file`` option (the hex private key on the file's first line)."""
    return click.option(
        "--private-key-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
        help=help_text,
    )


def connect_rpc(rpc: str | None, private_key_file: Path | None = None) -> Any:
    """A Web3 for ``rpc`` (``None``: a fresh embedded py-evm chain). With ``private_key_file``, transactions are
    signed locally by the key on its first line, and its address becomes the default account."""
    from zkhealth.chain import client
    from zkhealth.errors import ChainError

    w3 = client.connect("embedded" if rpc is None else rpc)
    if private_key_file is not None:
        lines = _read_small_text(private_key_file, "private key file").splitlines()
        try:
            client.use_private_key(w3, lines[0].strip() if lines else "")
        except ChainError:
            raise click.UsageError(f"{private_key_file}: the first line must be a 32-byte hex private key") from None
    return w3


# --------------------------------------------------------------------------- trial files


def load_trial_spec(path: Path) -> TrialSpec:
    """The trial file at ``path`` (:class:`zkhealth.eligibility.TrialSpec`, read strictly)."""
    from zkhealth.eligibility import TrialSpec

    return TrialSpec.load(path)


def trial_keys_directory(spec: TrialSpec, override: Path | None) -> Path:
    """``--keys`` if given, else the directory recorded by ``zkhealth setup``; a usage error (exit 2) when there
    is none or it holds no ``manifest.json``."""
    directory = override if override is not None else spec.recorded_keys_dir()
    if directory is None:
        raise click.UsageError(
            f"{spec.path} names no keys: run `zkhealth setup {spec.path} --keys DIR` or pass --keys DIR"
        )
    if not (directory / "manifest.json").is_file():
        raise click.UsageError(f"{directory} holds no trial keys (manifest.json is missing)")
    return directory
