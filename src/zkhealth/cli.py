"""The ``zkhealth`` command.

Exit codes (documented in docs/cli.md and ``zkhealth --help``):

* 0: success (a proof verified, a command completed);
* 1: a well-formed input was refused: an invalid proof, a patient who is not eligible, a reverted transaction;
* 2: malformed input or a usage error (unreadable file, bad JSON, non-canonical number, unknown option);
* 3: any other zkhealth error (a missing key, a failed check of the environment).

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
from zkhealth.cli_circuit import compile_command, info_command, r1cs_group, wtns_group
from zkhealth.cli_common import emit
from zkhealth.cli_demo import demo_command
from zkhealth.cli_groth16 import groth16_group, zkey_group
from zkhealth.cli_issuer import issue_command, keygen_command, registry_group, revoke_command
from zkhealth.cli_prove import enroll_command, prove_command
from zkhealth.cli_trial import (
    deploy_command,
    enrollments_command,
    export_verifier_command,
    setup_command,
    trial_group,
    verify_batch_command,
    verify_command,
)
from zkhealth.cli_wallet import wallet_group

__all__ = ["EXIT_ERROR", "EXIT_MALFORMED", "EXIT_OK", "EXIT_REFUSED", "ZkGroup", "emit", "exit_code_for", "main", "run"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_MALFORMED = 2
EXIT_ERROR = 3

_REFUSED: tuple[type[BaseException], ...] = (
    zk_errors.InvalidProofError,
    zk_errors.NotEligibleError,
    zk_errors.ContractRevertError,
    zk_errors.SignatureError,
    zk_errors.CredentialError,
    zk_errors.WalletDecryptionError,
    # A verifier's refusals of a well-formed proof (wrong trial or key, stale, untrusted root, wrong recipient).
    zk_errors.WrongScopeError,
    zk_errors.VerifyingKeyMismatchError,
    zk_errors.StaleProofError,
    zk_errors.UntrustedRootError,
    zk_errors.WrongRecipientError,
)
_MALFORMED: tuple[type[BaseException], ...] = (
    zk_errors.MalformedProofError,
    zk_errors.EncodingError,
    zk_errors.FieldTypeError,
    zk_errors.CriteriaSyntaxError,
    zk_errors.WalletFormatError,
    zk_errors.PointError,
)


def exit_code_for(error: BaseException) -> int:
    """Map an exception to the documented exit code."""
    if isinstance(error, _MALFORMED):
        return EXIT_MALFORMED
    if isinstance(error, _REFUSED):
        return EXIT_REFUSED
    return EXIT_ERROR


class ZkGroup(click.Group):
    """A click group that turns zkhealth errors into one line on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except zk_errors.ZkHealthError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            name = type(error).__name__
            click.echo(f"error: {name}: {error}", err=True)
            ctx.exit(exit_code_for(error))
        except (OSError, json.JSONDecodeError) as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {type(error).__name__}: {error}", err=True)
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
    Patient:         wallet, prove, enroll
    Recruiter:       trial, setup, export-verifier, deploy, verify, verify-batch, enrollments
    Circuit author:  compile, info, r1cs, wtns, groth16, zkey

    Passphrases come from --passphrase-file, $ZKHEALTH_PASSPHRASE or a prompt, never from an argument.

    Exit codes: 0 success; 1 refused (invalid proof, not eligible, reverted, untrusted or stale); 2 malformed
    input or usage; 3 other errors.
    """
    ctx.ensure_object(dict)
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
    groth16_group,
    zkey_group,
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
