"""The ``zkhealth`` command: one module per kind of user, and the one place errors become exit codes.

* :mod:`.issuer` (keygen, issue, revoke), :mod:`.operator` (registry, operator), :mod:`.registrar` (registrar),
  :mod:`.patient` (wallet, prove, enroll), :mod:`.recruiter` (trial, setup, export-verifier, deploy, verify,
  verify-batch, enrollments),
  :mod:`.circuit` (compile, info, r1cs, wtns), :mod:`.groth16` (snarkjs' groth16 and zkey verbs),
  :mod:`.ceremony` (powersoftau, the zkey ceremony verbs, ceremony), :mod:`.demo`, :mod:`.dashboard` (serve);
  :mod:`._common` holds what they share. A verb parses its arguments, calls the library and prints: formats
  and protocol rules live in the library.
* Exit codes (:func:`exit_code_for`, documented in docs/cli.md, whose table :func:`exit_code_table`
  generates): 0 success; 1 a well-formed input was refused (:class:`~zkhealth.errors.RefusedError`);
  2 malformed input or a usage error (:class:`~zkhealth.errors.MalformedInputError`, unreadable files, bad
  options); 3 any other zkhealth error.

An error prints one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from zkhealth import __version__
from zkhealth import errors as zk_errors
from zkhealth.cli._common import emit, exit_process, mark_command_start, own_process

__all__ = [
    "EXIT_ERROR",
    "EXIT_MALFORMED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "ZkGroup",
    "emit",
    "exit_code_for",
    "exit_code_table",
    "main",
    "run",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_MALFORMED = 2
EXIT_ERROR = 3

_MEANINGS: dict[int, str] = {
    EXIT_REFUSED: "a well-formed input was refused",
    EXIT_MALFORMED: "malformed input, or a usage error (unknown option, unreadable or missing file)",
    EXIT_ERROR: "any other zkhealth error",
}


def exit_code_for(error: BaseException) -> int:
    """The exit code of an error: the one mapping from error classes to exit codes (malformed wins when a
    class is under both markers; a usage error or an unreadable file is malformed input)."""
    if isinstance(error, zk_errors.MalformedInputError):
        return EXIT_MALFORMED
    if isinstance(error, zk_errors.RefusedError):
        return EXIT_REFUSED
    if isinstance(error, zk_errors.ZkHealthError):
        return EXIT_ERROR
    if isinstance(error, (click.UsageError, click.FileError, OSError, json.JSONDecodeError)):
        return EXIT_MALFORMED
    return EXIT_ERROR


def _error_classes() -> list[type[zk_errors.ZkHealthError]]:
    return sorted(
        (value for value in vars(zk_errors).values()
         if isinstance(value, type) and issubclass(value, zk_errors.ZkHealthError)),
        key=lambda cls: cls.__name__,
    )


def exit_code_table() -> str:
    """The Markdown exit-code table of docs/cli.md, generated from :func:`exit_code_for` and the classes of
    :mod:`zkhealth.errors` (a test keeps the page equal to it)."""
    rows = ["| code | meaning | error classes |", "|---|---|---|", "| 0 | success | |"]
    for code in (EXIT_REFUSED, EXIT_MALFORMED, EXIT_ERROR):
        names = [cls.__name__ for cls in _error_classes() if exit_code_for(cls.__new__(cls)) == code]
        if code == EXIT_MALFORMED:
            names.append("UsageError")
        rows.append(f"| {code} | {_MEANINGS[code]} | {', '.join(f'`{name}`' for name in sorted(names))} |")
    return "\n".join(rows)


def _global_flags(argv: Sequence[str]) -> frozenset[str]:
    """The global options given before the verb (``--json``, ``--debug``)."""
    flags = set()
    for token in argv:
        if not token.startswith("-"):
            break
        flags.add(token)
    return frozenset(flags)


def _first_line(error: BaseException) -> str:
    if isinstance(error, click.ClickException):
        text = error.format_message()
    else:
        text = str(error)
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _report(error: BaseException, code: int, *, as_json: bool, hint: str | None = None) -> None:
    """One line on stderr, ``error: ErrorClass: the first line of the message`` (plus a ``hint:`` line for a
    usage error); under ``--json`` also the object ``{"error", "message", "exit"}`` on stdout."""
    name = type(error).__name__
    if isinstance(error, click.UsageError):
        name = "UsageError"
    message = _first_line(error)
    if not isinstance(error, (zk_errors.ZkHealthError, click.ClickException, OSError)):
        message = f"{message} (unexpected: rerun with --debug for the traceback, and report it)"
    if as_json:
        payload: dict[str, Any] = {"error": name, "message": message, "exit": code}
        if hint is not None:
            payload["hint"] = hint
        details = getattr(error, "json_details", None)  # e.g. the import summary of a refused FHIR bundle
        if isinstance(error, zk_errors.ZkHealthError) and callable(details):
            payload.update({key: value for key, value in details().items() if key not in payload})
        click.echo(json.dumps(payload, sort_keys=True))
    click.echo(f"error: {name}: {message}", err=True)
    if hint is not None:
        click.echo(f"hint: {hint}", err=True)


def _usage_hint(error: click.UsageError) -> str:
    context = error.ctx
    if context is None:
        return "run 'zkhealth --help' for the verbs and options"
    return f"run '{context.command_path} --help' for its arguments and options"


class ZkGroup(click.Group):
    """The ``zkhealth`` group: every failure becomes one line on stderr (a JSON object on stdout under
    ``--json``) and the exit code of :func:`exit_code_for`, whichever way the command is called (the console
    script, ``python -m zkhealth``, :func:`run`, click's test runner)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        flags = _global_flags(argv)
        as_json, debug = "--json" in flags, "--debug" in flags
        if standalone_mode and args is None:  # the console script: this process runs one command
            own_process()
        try:
            result = super().main(
                args=argv, prog_name=prog_name or "zkhealth", complete_var=complete_var, standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK
        except click.exceptions.Exit as done:
            code = int(done.exit_code)
        except click.UsageError as error:
            code = EXIT_MALFORMED
            _report(error, code, as_json=as_json, hint=_usage_hint(error))
        except click.Abort:
            code = EXIT_ERROR
            _report(zk_errors.ZkHealthError("aborted"), code, as_json=as_json)
        except Exception as error:
            if debug:
                raise
            code = exit_code_for(error)
            _report(error, code, as_json=as_json)
        if standalone_mode:
            if args is None:  # this process's own command line (the console script): end it
                exit_process(code)
            sys.exit(code)
        return code


@click.group("zkhealth", cls=ZkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zkhealth")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, as_json: bool, debug: bool) -> None:
    """zkhealth: zero-knowledge eligibility proofs for healthcare.

    \b
    Start here:      demo (the whole story on synthetic data); serve --demo (the same, in a web dashboard);
                     samples (the tour's input files)
    Issuer:          keygen, issue, revoke (signs the new revocation root)
    Trust:           registry (issuers), registrar (persons), operator (build-root, publish-root, current-root,
                     deploy-registry)
    Patient:         wallet, prove, enroll, universal-keys (the universal proving key, once);
                     patient (registry trials: enroll with consent, withdraw, grant, revoke)
    Recruiter:       trial, setup, export-verifier, deploy, verify, verify-batch, enrollments;
                     recruiter (registry trials: cohort, payout, open-grant); serve (the dashboard)
    DAO:             sponsor (fund, reclaim), member (propose-issuer, vote, queue, execute), audit
    Circuit author:  compile, info, r1cs, wtns, groth16, zkey, circuit (check-unique, mutate)
    Trusted setup:   powersoftau, zkey, ceremony

    Passphrases come from --passphrase-file, $ZKHEALTH_PASSPHRASE or a prompt, never from an argument.

    Exit codes: 0 success; 1 refused (invalid proof, not eligible, reverted, untrusted or stale); 2 malformed
    input or usage; 3 other errors.
    """
    ctx.ensure_object(dict)
    mark_command_start(ctx)
    ctx.obj["json"] = as_json
    ctx.obj["debug"] = debug


#: Every verb of ``zkhealth``: the module that defines it and the attribute that holds it. A verb's module is
#: imported when the verb is used (or listed, for ``--help``), so a command pays only for its own module:
#: importing all of them (mostly click building their options) cost 10-15 ms of CPU time per process with
#: compiled bytecode, 40-60 ms without.
_VERBS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "demo_command"),
    "samples": ("demo", "samples_command"),
    "keygen": ("issuer", "keygen_command"),
    "issue": ("issuer", "issue_command"),
    "revoke": ("issuer", "revoke_command"),
    "registry": ("operator", "registry_group"),
    "registrar": ("registrar", "registrar_group"),
    "wallet": ("patient", "wallet_group"),
    "prove": ("patient", "prove_command"),
    "enroll": ("patient", "enroll_command"),
    "trial": ("recruiter", "trial_group"),
    "setup": ("recruiter", "setup_command"),
    "export-verifier": ("recruiter", "export_verifier_command"),
    "deploy": ("recruiter", "deploy_command"),
    "verify": ("recruiter", "verify_command"),
    "verify-batch": ("recruiter", "verify_batch_command"),
    "enrollments": ("recruiter", "enrollments_command"),
    "compile": ("circuit", "compile_command"),
    "info": ("circuit", "info_command"),
    "r1cs": ("circuit", "r1cs_group"),
    "wtns": ("circuit", "wtns_group"),
    "circuit": ("circuit", "circuit_group"),
    "groth16": ("groth16", "groth16_group"),
    "zkey": ("groth16", "zkey_group"),
    "powersoftau": ("ceremony", "powersoftau_group"),
    "ceremony": ("ceremony", "ceremony_group"),
    "patient": ("patient", "patient_group"),
    "recruiter": ("recruiter", "recruiter_group"),
    "sponsor": ("sponsor", "sponsor_group"),
    "member": ("member", "member_group"),
    "operator": ("operator", "operator_group"),
    "audit": ("auditor", "audit_command"),
    "universal-keys": ("record_trials", "universal_keys_group"),
    "serve": ("dashboard", "serve_command"),
}


def _load_verb(name: str) -> click.Command:
    module_name, attribute = _VERBS[name]
    command: click.Command = getattr(importlib.import_module(f"zkhealth.cli.{module_name}"), attribute)
    if name == "zkey" and isinstance(command, click.Group):
        from zkhealth.cli.ceremony import ZKEY_COMMANDS  # the zkey ceremony verbs live with the ceremony

        for verb in ZKEY_COMMANDS:
            command.add_command(verb)
    return command


class _Verbs(dict):  # type: ignore[type-arg]
    """``main.commands``: every name of :data:`_VERBS` is a key from the start, and its command is imported on
    first access (``get``, ``[]``, ``items``, ``values``, iteration loads them all, as ``--help`` does). Click
    reads a group's commands only through these."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = set(_VERBS)

    def _load(self, name: object) -> None:
        if name in self._pending and isinstance(name, str):
            super().__setitem__(name, _load_verb(name))  # an import error leaves the verb pending
            self._pending.discard(name)

    def _load_all(self) -> None:
        for name in sorted(self._pending):
            self._load(name)

    def __getitem__(self, name: Any) -> Any:
        self._load(name)
        return super().__getitem__(name)

    def get(self, name: Any, default: Any = None) -> Any:
        self._load(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._pending or super().__contains__(name)

    def __len__(self) -> int:
        return len(self._pending) + super().__len__()

    def __iter__(self) -> Any:
        self._load_all()
        return super().__iter__()

    def keys(self) -> Any:
        self._load_all()
        return super().keys()

    def values(self) -> Any:
        self._load_all()
        return super().values()

    def items(self) -> Any:
        self._load_all()
        return super().items()

    def __setitem__(self, name: Any, command: Any) -> None:
        self._pending.discard(name)
        super().__setitem__(name, command)


main.commands = _Verbs()


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` and return the exit code (the console script, ``python -m zkhealth``
    and tests)."""
    return int(main.main(args=list(argv) if argv is not None else None, prog_name="zkhealth", standalone_mode=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
