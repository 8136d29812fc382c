"""The ``zkhealth`` command: one module per kind of user, and the one place errors become exit codes.

* :mod:`.issuer` (keygen, issue, revoke, registry), :mod:`.patient` (wallet, prove, enroll),
  :mod:`.recruiter` (trial, setup, export-verifier, deploy, verify, verify-batch, enrollments),
  :mod:`.circuit` (compile, info, r1cs, wtns), :mod:`.groth16` (snarkjs' groth16 and zkey verbs),
  :mod:`.demo`; :mod:`._common` holds what they share. A verb parses its arguments, calls the library and
  prints: formats and protocol rules live in the library.
* Exit codes (:func:`exit_code_for`, documented in docs/cli.md, whose table :func:`exit_code_table`
  generates): 0 success; 1 a well-formed input was refused (:class:`~zkhealth.errors.RefusedError`);
  2 malformed input or a usage error (:class:`~zkhealth.errors.MalformedInputError`, unreadable files, bad
  options); 3 any other zkhealth error.

An error prints one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from zkhealth import __version__
from zkhealth import errors as zk_errors
from zkhealth.cli._common import emit, mark_command_start
from zkhealth.cli.auditor import audit_command
from zkhealth.cli.circuit import circuit_group, compile_command, info_command, r1cs_group, wtns_group
from zkhealth.cli.demo import demo_command
from zkhealth.cli.groth16 import groth16_group, zkey_group
from zkhealth.cli.issuer import issue_command, keygen_command, registry_group, revoke_command
from zkhealth.cli.member import member_group
from zkhealth.cli.operator import operator_group
from zkhealth.cli.patient import enroll_command, patient_group, prove_command, wallet_group
from zkhealth.cli.recruiter import (
    deploy_command,
    enrollments_command,
    export_verifier_command,
    recruiter_group,
    setup_command,
    trial_group,
    verify_batch_command,
    verify_command,
)
from zkhealth.cli.sponsor import sponsor_group

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
    class is under both markers)."""
    if isinstance(error, (zk_errors.MalformedInputError, OSError, json.JSONDecodeError)):
        return EXIT_MALFORMED
    if isinstance(error, zk_errors.RefusedError):
        return EXIT_REFUSED
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
        rows.append(f"| {code} | {_MEANINGS[code]} | {', '.join(f'`{name}`' for name in names)} |")
    return "\n".join(rows)


def _report(error: BaseException) -> None:
    """One line on stderr: ``error: ErrorClass: the first line of the message``."""
    lines = str(error).splitlines()
    click.echo(f"error: {type(error).__name__}: {lines[0] if lines else ''}", err=True)


class ZkGroup(click.Group):
    """A click group that turns zkhealth errors into one line on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except zk_errors.ZkHealthError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _report(error)
            ctx.exit(exit_code_for(error))
        except (OSError, json.JSONDecodeError) as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _report(error)
            ctx.exit(EXIT_MALFORMED)


@click.group(cls=ZkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zkhealth")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, as_json: bool, debug: bool) -> None:
    """zkhealth: zero-knowledge eligibility proofs for healthcare.

    \b
    Start here:      demo (the whole story on synthetic data)
    Issuer:          keygen, issue, revoke, registry
    Patient:         wallet, prove, enroll; patient (registry trials: enroll with consent, withdraw, grant, revoke)
    Recruiter:       trial, setup, export-verifier, deploy, verify, verify-batch, enrollments;
                     recruiter (registry trials: cohort, payout, open-grant)
    DAO:             sponsor (fund, reclaim), member (propose-issuer, vote, queue, execute),
                     operator (publish-root), audit
    Circuit author:  compile, info, r1cs, wtns, groth16, zkey, circuit (check-unique, mutate)

    Passphrases come from --passphrase-file, $ZKHEALTH_PASSPHRASE or a prompt, never from an argument.

    Exit codes: 0 success; 1 refused (invalid proof, not eligible, reverted, untrusted or stale); 2 malformed
    input or usage; 3 other errors.
    """
    ctx.ensure_object(dict)
    mark_command_start(ctx)
    ctx.obj["json"] = as_json
    ctx.obj["debug"] = debug


for _command in (
    demo_command,
    keygen_command,
    issue_command,
    revoke_command,
    registry_group,
    wallet_group,
    prove_command,
    enroll_command,
    trial_group,
    setup_command,
    export_verifier_command,
    deploy_command,
    verify_command,
    verify_batch_command,
    enrollments_command,
    compile_command,
    info_command,
    r1cs_group,
    wtns_group,
    circuit_group,
    groth16_group,
    zkey_group,
    patient_group,
    recruiter_group,
    sponsor_group,
    member_group,
    operator_group,
    audit_command,
):
    main.add_command(_command)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` and return the exit code (for tests and ``python -m zkhealth``)."""
    try:
        # Without standalone mode, click returns the code of ctx.exit() instead of raising Exit.
        result = main.main(args=list(argv) if argv is not None else None, prog_name="zkhealth", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.UsageError as error:
        error.show()
        return EXIT_MALFORMED
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    except click.Abort:
        return EXIT_ERROR
    return result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
