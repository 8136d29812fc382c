"""`zkhealth trial check FILE...`: compile criteria files and list what needs judgement (thin: the logic is
:mod:`zkhealth.eligibility.check`)."""

from __future__ import annotations

from pathlib import Path

import click

from zkhealth.cli_common import emit

__all__ = ["trial_check_command"]


@click.command("check", short_help="Compile criteria files; list criteria that need judgement.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--program", "show_program", is_flag=True, help="Also print each compiled program (atoms, combination).")
@click.pass_context
def trial_check_command(ctx: click.Context, files: tuple[Path, ...], show_program: bool) -> None:
    """Compile each criteria FILE (schema version 2) and report: the atoms it compiles to, the transcribed
    atomic criteria (`# criterion: expressed | inexpressible | judgement | text`) and every comment that needs
    judgement (`# judgement: text`), which is not machine-checkable. A criteria error names the clause and
    column (exit 2)."""
    from zkhealth.eligibility.check import check_criteria_file

    checks = [check_criteria_file(path) for path in files]
    human = "\n".join(check.format() + (f"\n{check.program.describe()}" if show_program else "") for check in checks)
    payload = {
        "files": [
            {
                "path": check.path,
                "metadata": check.metadata,
                "atoms": len(check.program.atoms),
                "programSha256": check.program.sha256(),
                "counts": check.counts,
                "notMachineCheckable": list(check.judgement),
            }
            for check in checks
        ]
    }
    emit(ctx, payload, human)
