"""The recruiter's verbs: ``trial new|roots|info|check``, ``setup``, ``export-verifier``, ``deploy``, ``verify``,
``verify-batch`` and ``enrollments``.

A trial is one JSON file, ``trial.json``, that the recruiter writes with ``zkhealth trial new`` and publishes to
patients: :class:`zkhealth.eligibility.TrialSpec` reads and writes it (its docstring, and docs/cli.md, give the
format). ``keys.dir`` and ``trust.roots`` are relative to the trial file's directory; ``--keys DIR`` overrides the
keys on every verb. The file keeps no list of roots: verifiers read the registry operator's signed trust-root file
(``--roots FILE``, default the one the trial file names) or the deployed contract (``--rpc URL``).

Heavy modules (web3, the circuit compiler) are imported inside the verbs so that ``zkhealth --help`` stays fast.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from zkhealth.cli._common import (
    F,
    atomic_write,
    command_seconds,
    connect_rpc,
    criteria_warnings,
    emit,
    load_trial_spec,
    note,
    parse_day,
    private_key_option,
    progress_bar,
    read_document,
    read_first_line,
    recipient_address,
    status,
    timed_spinner,
    trial_keys_directory,
)
from zkhealth.field import parse_field_element

if TYPE_CHECKING:
    from zkhealth.credentials.trust_roots import RootHistory
    from zkhealth.eligibility import EligibilityProof, TrialSpec

__all__ = [
    "deploy_command",
    "enrollments_command",
    "export_verifier_command",
    "setup_command",
    "trial_group",
    "verify_batch_command",
    "verify_command",
]

#: Deployment defaults: how long enrollment stays open, and the cohort size.
DEFAULT_OPEN_DAYS: Final[int] = 365
DEFAULT_CAPACITY: Final[int] = 1000


def _trial_file_argument() -> Callable[[F], F]:
    return click.argument(
        "trial_path", metavar="TRIAL.json", type=click.Path(dir_okay=False, exists=True, path_type=Path)
    )


def _keys_option(required: bool = False) -> Callable[[F], F]:
    return click.option(
        "--keys", "keys_dir", required=required, type=click.Path(file_okay=False, path_type=Path),
        help="The trial's key directory (default: the one `zkhealth setup` recorded in the trial file).",
    )


def _roots_options() -> Callable[[F], F]:
    """--roots FILE and --rpc URL: where a verifier reads the current trust roots."""
    options = (
        click.option(
            "--roots", "roots_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
            help="The registry operator's trust-root file (default: the one the trial file names).",
        ),
        click.option(
            "--rpc", "rpc", default=None, metavar="URL",
            help="Read the trust roots from the deployed contract over this JSON-RPC endpoint instead (and its "
            "block time as the clock).",
        ),
    )

    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _today_option(help_text: str) -> Callable[[F], F]:
    return click.option("--today", "today_text", default=None, metavar="YYYY-MM-DD", help=help_text)


def _roots_for(spec: TrialSpec, roots_path: Path | None, rpc: str | None,
               proofs: Sequence[EligibilityProof]) -> tuple[RootHistory, int | None, str]:
    """The trust roots to verify against, the clock to use (``None``: this machine's) and where they came from:
    ``--roots`` FILE, ``--rpc`` (the deployed contract; its latest block's time), else the trial file's
    trust-root file, else the trial's contract at the rpc the trial file records."""
    if roots_path is not None and rpc is not None:
        raise click.UsageError("give --roots FILE or --rpc URL, not both")
    if roots_path is None and (rpc is not None or (spec.roots_file is None and spec.enrollment is not None)):
        from zkhealth.chain import client, enrollment

        if spec.enrollment is None:
            raise click.UsageError(f"{spec.path} is not deployed: read the roots from a file (--roots FILE)")
        url = rpc or spec.enrollment.rpc
        if url is None:
            raise click.UsageError("give --rpc URL (the trial file records none)")
        w3 = client.connect(url)
        contract = enrollment.cohort_enrollment_at(w3, spec.enrollment.address)
        history = enrollment.root_history(w3, contract, include=[proof.trust_root for proof in proofs])
        return history, enrollment.chain_now(w3), f"the contract {spec.enrollment.address}"
    if roots_path is None and spec.roots_file is None:
        raise click.UsageError(f"{spec.path} names no trust-root file: give --roots FILE (from `zkhealth operator "
                               "build-root`) or --rpc URL")
    source = roots_path if roots_path is not None else spec.recorded_roots_file()
    return spec.root_history(roots_path), None, str(source)


@click.group("trial", short_help="A trial definition file: new, roots, info, check.")
def trial_group() -> None:
    """A trial definition file (trial.json): the criteria, the trial id, the trial's policy and the verifier's.

    Recruiters write it with `trial new` and publish it; patients prove against it, verifiers check proofs against
    it. `trial roots` points it at the registry operator's current trust-root file; `trial info` prints its cost
    report and what a verifier learns from a proof; `trial check` compiles criteria files and lists what needs
    judgement.
    """


@trial_group.command("check", short_help="Compile criteria files; list criteria that need judgement.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--program", "show_program", is_flag=True, help="Also print each compiled program (atoms, combination).")
@click.option("--cost", "show_cost", is_flag=True,
              help="Also compile each dedicated circuit and print its constraints per part and per atom.")
@click.pass_context
def trial_check(ctx: click.Context, files: tuple[Path, ...], show_program: bool, show_cost: bool) -> None:
    """Compile each criteria FILE and report: the atoms it compiles to, the transcribed atomic criteria
    (`# criterion: expressed | inexpressible | judgement | text`) and every comment that needs judgement
    (`# judgement: text`), which is not machine-checkable. A criteria error names the clause and column (exit 2)."""
    from zkhealth.eligibility import Trial
    from zkhealth.eligibility.check import check_criteria_file

    checks = [check_criteria_file(path) for path in files]
    costs = {}
    if show_cost:
        with status(ctx, "compiling the dedicated circuits"):
            costs = {check.path: Trial(check.text, trial_id="cost-report").cost_report().format() for check in checks}
    human = "\n".join(
        check.format()
        + (f"\n{check.program.describe()}" if show_program else "")
        + (f"\n{costs[check.path]}" if show_cost else "")
        for check in checks
    )
    payload = {
        "files": [
            {
                "path": check.path,
                "metadata": check.metadata,
                "atoms": len(check.program.atoms),
                "programSha256": check.program.sha256(),
                "counts": check.counts,
                "notMachineCheckable": list(check.judgement),
                "warnings": [finding.message for finding in check.findings],
                **({"costReport": costs[check.path]} if show_cost else {}),
            }
            for check in checks
        ]
    }
    emit(ctx, payload, human)


def _trust_source(trust: Path | None, operator: str | None) -> tuple[str | None, Any]:
    """The operator to pin and the trust-root document (checked), from --trust FILE and/or --operator DID."""
    from zkhealth.credentials.trust_roots import TrustRootDocument

    if trust is None:
        return operator, None
    document = TrustRootDocument.load(trust, operator=operator)
    return document.operator, document


@trial_group.command("new", short_help="Write a trial definition file.")
@click.option(
    "--criteria", "criteria", required=True, metavar="FILE|TEXT",
    help="The criteria: a criteria file (lines starting with # are comments) or the text itself, "
    "e.g. 'diagnosis in E11.* and age >= 18'.",
)
@click.option("--trial-id", required=True, help="The trial id: ASCII up to 32 bytes (NCT05000001) or 0x + 64 hex.")
@click.option(
    "--out", "out", default="trial.json", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the trial file.",
)
@click.option("--name", default=None, help="A display name (default: the criteria file's `# name:` line).")
@click.option(
    "--trust", "trust_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="The registry operator's trust-root file (`zkhealth operator build-root`): its operator is pinned and "
    "verifiers read their roots from it.",
)
@click.option("--operator", default=None, metavar="DID",
              help="The registry operator's did:key to pin (default: the --trust file's signer).")
@click.option("--dedicated", "dedicated", is_flag=True,
              help="Compile a circuit for these criteria alone (smaller proofs, no slot limits; one setup and one "
              "contract per trial) instead of using the universal circuit (the default).")
@click.option("--one-per-person", is_flag=True,
              help="One enrollment per person: proofs show the holder is registered in the person registry "
              "before the trial opened (adds about 4,000 constraints).")
@click.option("--opened", "opened_text", default=None, metavar="YYYY-MM-DD",
              help="With --one-per-person: the day the trial opened (default: today, UTC). Wallets registered or "
              "rotated on or after it cannot enroll.")
@click.option(
    "--window-days", type=click.IntRange(0, 366), default=1, show_default=True,
    help="How many days old a proof's `today` may be when it is verified.",
)
@click.option("--grace-seconds", type=click.IntRange(0, 2**32 - 1), default=86_400, show_default=True,
              help="How long a superseded trust root stays accepted (0: only the current root).")
@click.option("--scope", "scope_text", default=None, metavar="DECIMAL", help="An explicit scope (advanced).")
@click.option("--trust-root", "trust_roots", multiple=True, metavar="DECIMAL",
              help="Universal trials: an accepted trust root, when no --trust file is given. Repeatable.")
@click.option("--max-record-age-days", type=click.IntRange(0, 100_000), default=365, show_default=True,
              help="How old a complete record may be for exclusions and latest values.")
@click.option("--force", is_flag=True, help="Replace an existing trial file.")
@click.pass_context
def trial_new(
    ctx: click.Context,
    criteria: str,
    trial_id: str,
    out: Path,
    name: str | None,
    trust_path: Path | None,
    operator: str | None,
    dedicated: bool,
    one_per_person: bool,
    opened_text: str | None,
    window_days: int,
    grace_seconds: int,
    scope_text: str | None,
    trust_roots: tuple[str, ...],
    max_record_age_days: int,
    force: bool,
) -> None:
    """Write a trial definition file: criteria, trial id, name, the trial's policy (one enrollment per person or
    per wallet) and the verifier's (accepted window, the trust root's grace period, the registry operator).

    The default is the universal circuit: no setup and no contract of its own, one key set for every trial (the
    trial is created in a TrialRegistry with `zkhealth deploy --registry`); criteria past its limits are refused
    with the limit named (exit 2), and --dedicated compiles a circuit for the trial instead (`zkhealth setup`,
    then a CohortEnrollment of its own).

    Invalid criteria are refused with the clause and column (exit 2). Give the registry operator's trust-root
    file (--trust) or its did:key (--operator): verifiers accept only roots this operator signed (or the
    contract holds); a universal trial accepts the file's current trust root (or the --trust-root values). The
    scope starts as the off-chain scope (chain 0, zero address); `zkhealth deploy --rpc URL` replaces it with the
    contract's.
    """
    from zkhealth.credentials.dates import date_to_epoch_day, today_epoch_day
    from zkhealth.eligibility import Policy, TrialSpec, read_criteria_file

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to replace it")
    if opened_text is not None and not one_per_person:
        raise click.UsageError("--opened goes with --one-per-person")
    if trust_path is None and operator is None and (dedicated or not trust_roots):
        raise click.UsageError("give the registry operator: --trust trust.json or --operator did:key:...")
    metadata: dict[str, str] = {}
    criteria_path = Path(criteria)
    try:
        names_a_file = "\n" not in criteria and len(criteria) < 4096 and criteria_path.is_file()
    except OSError:  # criteria text longer than a file name can be
        names_a_file = False
    if names_a_file:
        text, metadata = read_criteria_file(criteria_path)
    else:
        text = criteria
    pinned, document = _trust_source(trust_path, operator)
    policy = Policy(max_record_age_days)
    if one_per_person:
        opened = parse_day(opened_text, what="--opened")
        policy = Policy(max_record_age_days, one_per_person=True,
                        opened_day=today_epoch_day() if opened is None else date_to_epoch_day(opened))
    if not dedicated:
        from zkhealth.cli.record_trials import record_trial_new

        record_trial_new(ctx, criteria_text=text, metadata=metadata, trial_id=trial_id, out=out, name=name,
                         document=document, trust_roots=trust_roots, window_days=window_days, policy=policy,
                         scope=parse_field_element(scope_text, what="--scope") if scope_text is not None else None)
        return
    display_name = name if name is not None else metadata.get("name", "")
    spec = TrialSpec.new(
        out,
        text,
        trial_id=trial_id,
        name=display_name,
        policy=policy,
        accepted_window_days=window_days,
        root_grace_seconds=grace_seconds,
        operator=pinned,
        scope=parse_field_element(scope_text, what="--scope") if scope_text is not None else None,
    )
    if trust_path is not None:
        spec = spec.with_trust(operator=pinned, roots_file=spec.relative_path(trust_path))
    spec.save()
    mode = (f"one enrollment per person (registered before day {policy.opened_day})" if policy.one_per_person
            else "one enrollment per wallet (no person registry)")
    warnings = criteria_warnings(spec.criteria)
    emit(
        ctx,
        {"out": str(out), **spec.to_dict(), "warnings": warnings},
        f"wrote {out}: trial {trial_id}{f' ({display_name})' if display_name else ''}\n"
        f"criteria: {spec.criteria}\n{mode}; trust roots signed by {pinned}"
        + (f" (current {document.trust_root})" if document is not None else "") + "\n"
        f"next: zkhealth trial info {out}; zkhealth setup {out} --keys keys/",
    )


@trial_group.command("roots", short_help="Point the trial at the operator's current trust-root file.")
@_trial_file_argument()
@click.option("--from", "trust_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The registry operator's trust-root file.")
@click.option("--operator", default=None, metavar="DID",
              help="Pin another registry operator (the file must be signed by it).")
@click.pass_context
def trial_roots(ctx: click.Context, trial_path: Path, trust_path: Path, operator: str | None) -> None:
    """Make the trial read its trust roots from this trust-root file (replacing the one it named: roots are never
    accumulated). The file must be signed by the pinned operator (or --operator, which then becomes pinned).
    Verifiers accept its current root and the roots it lists as superseded within the trial's grace period.

    A universal trial's file keeps its accepted roots in the file: they become this file's current root and the
    roots it lists as superseded within 24 hours (the registry contract applies its own grace period on-chain);
    the file must be signed by --operator when given."""
    from zkhealth.cli.record_trials import is_record_trial_file

    if is_record_trial_file(trial_path):
        _record_trial_roots(ctx, trial_path, trust_path, operator)
        return
    spec = load_trial_spec(trial_path)
    pinned = operator if operator is not None else spec.operator
    if pinned is None:
        raise click.UsageError(f"{trial_path} pins no operator: give --operator did:key:...")
    document = _trust_source(trust_path, pinned)[1]
    changed = spec.with_trust(operator=pinned, roots_file=spec.relative_path(trust_path))
    changed.save()
    accepted = document.history.accepted(grace_seconds=spec.root_grace_seconds)
    emit(
        ctx,
        {"trial": str(trial_path), "roots": changed.roots_file, "operator": pinned,
         "current": str(document.trust_root), "accepted": sorted(str(r) for r in accepted)},
        f"{trial_path}: trust roots from {changed.roots_file} (operator {pinned})\n"
        f"current root {document.trust_root}; {len(accepted) - 1} superseded root(s) still within the "
        f"{spec.root_grace_seconds} s grace period",
    )


#: The grace period a universal trial file's off-chain verifier gives a superseded trust root (`trial roots`).
UNIVERSAL_ROOT_GRACE_SECONDS = 86_400


def _record_trial_roots(ctx: click.Context, trial_path: Path, trust_path: Path, operator: str | None) -> None:
    """``trial roots`` for a universal trial file: its accepted roots become the trust-root file's."""
    from zkhealth.eligibility.record_spec import RecordTrialSpec

    spec = RecordTrialSpec.load(trial_path)
    signer, document = _trust_source(trust_path, operator)
    accepted = document.history.accepted(grace_seconds=UNIVERSAL_ROOT_GRACE_SECONDS)
    roots = (document.trust_root, *sorted(r for r in accepted if r != document.trust_root))
    spec.with_changes(trust_roots=roots).save()
    emit(
        ctx,
        {"trial": str(trial_path), "operator": signer, "current": str(document.trust_root),
         "accepted": [str(r) for r in roots]},
        f"{trial_path}: trust roots from {trust_path} (signed by {signer})\n"
        f"current root {document.trust_root}; {len(roots) - 1} superseded root(s) still within "
        f"{UNIVERSAL_ROOT_GRACE_SECONDS} s",
    )


@trial_group.command("info", short_help="Cost report and what the verifier learns.")
@_trial_file_argument()
@click.pass_context
def trial_info(ctx: click.Context, trial_path: Path) -> None:
    """Print the trial's cost report (constraints per part and per atom, predicted prove and setup times), what a
    verifier learns from each public signal, and the file's policy, trust source, keys and deployment.

    Needs no keys: it compiles the circuit (about 1-3 s; a universal trial reads the pinned key set's manifest).
    """
    from zkhealth.cli.record_trials import is_record_trial_file, record_trial_info

    if is_record_trial_file(trial_path):
        record_trial_info(ctx, trial_path)
        return
    trial_file = load_trial_spec(trial_path)
    trial = trial_file.trial()
    with status(ctx, "compiling the eligibility circuit"):
        report = trial.cost_report()
    learns = trial.verifier_learns()
    payload = {
        "trial": trial_file.to_dict(),
        "cost": {
            "constraints": report.constraints,
            "public_rows": report.public_rows,
            "domain_size": report.domain_size,
            "wires": report.wires,
            "parts": [{"name": n, "constraints": c} for n, c in report.parts],
            "atoms": [{"atom": n, "constraints": c} for n, c in report.clauses],
            "predicted_prove_seconds": round(report.predicted_prove_seconds, 2),
            "predicted_setup_seconds": round(report.predicted_setup_seconds, 2),
        },
        "verifier_learns": [{"signal": item.name, "reveals": item.reveals} for item in learns],
        "warnings": criteria_warnings(trial_file.criteria),
    }
    keys_text = "none yet (zkhealth setup)"
    keys_dir = trial_file.recorded_keys_dir()
    if keys_dir is not None and (keys_dir / "manifest.json").is_file():
        from zkhealth.eligibility import TrialKeys
        from zkhealth.errors import ZkHealthError

        try:
            provenance, final_hash = TrialKeys.describe_provenance(keys_dir)
        except ZkHealthError as exc:  # info needs no keys: say what is wrong with them and go on
            provenance, final_hash = f"unreadable ({exc})", None
        payload["keys"] = {"dir": trial_file.keys_dir, "provenance": provenance, "ceremony": final_hash}
        keys_text = f"{trial_file.keys_dir} (provenance {provenance}" + (
            f", ceremony final hash {final_hash[:16]}...)" if final_hash else
            ": development keys, refused where production keys are required)" if provenance == "dev-setup" else ")")
    elif trial_file.keys_dir:
        keys_text = f"{trial_file.keys_dir} (missing)"
    where = "not deployed (off-chain scope)"
    if trial_file.enrollment is not None:
        where = f"CohortEnrollment {trial_file.enrollment.address} on chain {trial_file.enrollment.chain_id}"
    policy = trial_file.policy
    lines = [
        f"trial {trial_file.trial_id}{f' ({trial_file.name})' if trial_file.name else ''}: {trial_file.kind} circuit",
        "one enrollment per " + (f"person (registered before day {policy.opened_day})" if policy.one_per_person
                                 else "wallet (no person registry)"),
        f"accepted window: {trial_file.accepted_window_days} day(s); superseded trust roots accepted for "
        f"{trial_file.root_grace_seconds} s; operator {trial_file.operator}; roots from "
        f"{trial_file.roots_file or ('the contract' if trial_file.enrollment else 'nowhere yet (trial roots)')}",
        f"keys: {keys_text}; deployment: {where}",
        "",
        report.format(),
        "",
        trial.verifier_learns_text(),
    ]
    emit(ctx, payload, "\n".join(lines))


# --------------------------------------------------------------------------- setup, export-verifier


@click.command("setup", short_help="Make the trial's proving and verifying keys.")
@_trial_file_argument()
@click.option(
    "--keys", "keys_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Directory for proving_key.zkhpk, verification_key.json and manifest.json (created if missing).",
)
@click.option("--ptau", "ptau_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="With --zkey: the ceremony's prepared powers of tau the key was made from.")
@click.option("--zkey", "zkey_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A ceremony's final key for this trial's circuit: verified, then used (production keys).")
@click.option("--ceremony", "ceremony_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="A ceremony folder: opens phase 2 of this trial's circuit there, or, once that "
              "phase is finished, replays the whole ceremony and uses its key.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: all cores).")
@click.option("--force", is_flag=True, help="Replace keys already in --keys (proofs made with them stop verifying).")
@click.pass_context
def setup_command(
    ctx: click.Context, trial_path: Path, keys_dir: Path, ptau_path: Path | None, zkey_path: Path | None,
    ceremony_dir: Path | None, workers: int | None, force: bool,
) -> None:  # fmt: skip
    """Make the trial's keys and record them in the trial file.

    The keys are pinned to the criteria program's hash and the circuit's R1CS hash. Without options: a
    development Groth16 setup (this process knew the toxic waste: the keys are marked dev-setup and refused where
    production keys are required). With --ptau and --zkey: a ceremony's final key, verified against this trial's
    circuit and the .ptau first (another circuit's key, a tampered key or one without a contribution: exit 1,
    nothing written). With --ceremony FOLDER: phase 2 of this trial's circuit in a ceremony folder (see
    docs/ceremony.md): the first call opens it, a call after `ceremony finish` replays the whole ceremony and uses
    its key. A ceremony's keys are marked provenance `ceremony` with its final hash. Cost of a development
    setup: about 5 s on two quiet cores for the standard trial, a 20 MB proving key. A universal trial needs no
    setup.
    """
    from zkhealth.cli.record_trials import is_record_trial_file, record_setup

    if is_record_trial_file(trial_path):
        record_setup(trial_path)
        return
    trial_file = load_trial_spec(trial_path)
    if (keys_dir / "manifest.json").exists() and not force:
        raise click.UsageError(f"{keys_dir} already holds keys; pass --force to replace them")
    if (ptau_path is None) != (zkey_path is None):
        raise click.UsageError("--ptau and --zkey go together")
    if ceremony_dir is not None and zkey_path is not None:
        raise click.UsageError("use either --ceremony or --ptau/--zkey")
    trial = trial_file.trial()
    with status(ctx, "compiling the eligibility circuit"):
        compiled = trial.compile()
    origin = "development keys"
    final_hash: str | None = None
    if ceremony_dir is not None:
        from zkhealth.ceremony.transcript import Ceremony, verify_ceremony

        ceremony = Ceremony(ceremony_dir)
        circuit = trial.ceremony_circuit_name()
        if not ceremony.has_circuit(circuit):
            trial.start_ceremony(ceremony_dir)
            head = ceremony_dir / f"phase2/{circuit}/0000-new.zkey"
            emit(ctx, {"ceremony": str(ceremony_dir), "circuit": circuit, "head": str(head), "keys": None},
                 f"opened phase 2 of circuit {circuit} in {ceremony_dir}: send {head} to the first contributor; "
                 f"run this command again after `zkhealth ceremony finish {ceremony_dir} {circuit}`")  # fmt: skip
            return
        with status(ctx, "replaying the ceremony"):
            replay = verify_ceremony(ceremony_dir)
        zkey_path, ptau_path = Ceremony(ceremony_dir).final_key(circuit)
        final_hash = replay.final_hashes.get(circuit)
        origin = f"keys of ceremony {ceremony_dir} (circuit {circuit})"
    if zkey_path is not None and ptau_path is not None:
        from zkhealth.formats.ptau_file import read_ptau
        from zkhealth.formats.zkey_file import read_zkey_file

        with status(ctx, "verifying the ceremony's key against the trial's circuit"):
            keys = trial.ceremony_keys(read_zkey_file(zkey_path), read_ptau(ptau_path), final_hash=final_hash,
                                       workers=workers)
        if ceremony_dir is None:
            origin = f"keys of the ceremony key {zkey_path}"
    else:
        with progress_bar(ctx, f"setup ({compiled.r1cs.n_constraints} constraints)", 5) as update:
            keys = trial.setup(update, workers=workers)
    keys.save(keys_dir)
    trial_file.with_keys(keys_dir, keys.vk_sha256).save()
    elapsed = command_seconds(ctx)
    if trial_file.enrollment is not None:
        note(f"note: the contract at {trial_file.enrollment.address} keeps the old key; run `zkhealth deploy` again")
    size = (keys_dir / "proving_key.zkhpk").stat().st_size
    emit(
        ctx,
        {
            "keys": str(keys_dir),
            "provenance": keys.provenance,
            "ceremony": keys.ceremony,
            "verifying_key_sha256": keys.vk_sha256,
            "criteria_sha256": keys.criteria_sha256,
            "r1cs_sha256": keys.r1cs_sha256,
            "proving_key_bytes": size,
            "seconds": round(elapsed, 2),
            "trial": str(trial_path),
        },
        f"wrote {keys_dir}: {origin} ({size / 1e6:.1f} MB proving key, provenance {keys.provenance}) "
        f"in {elapsed:.1f} s\nverifying key sha256 {keys.vk_sha256}; recorded in {trial_path}"
        + (f"\nceremony final hash {keys.ceremony}" if keys.ceremony else ""),
    )


@click.command("export-verifier", short_help="Write a standalone Solidity verifier for the keys.")
@_keys_option()
@click.option("--universal", is_flag=True,
              help="The universal circuit's verifying key, pinned in zkhealth (instead of --keys).")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .sol file to write.",
)
@click.option("--contract-name", default="Groth16Verifier", show_default=True, help="The Solidity contract name.")
@click.pass_context
def export_verifier_command(ctx: click.Context, keys_dir: Path | None, universal: bool, out: Path,
                            contract_name: str) -> None:
    """Render a self-contained Solidity Groth16 verifier with a verifying key as constants: a dedicated trial's
    (--keys DIR) or the universal circuit's pinned one (--universal; the TrialRegistry of every universal trial
    verifies with it).

    For auditors and users who compile their own contracts (same calldata and checks as the installed verifier;
    `zkhealth deploy` needs no compiler). The key must match its pin (exit 1 otherwise).
    """
    from zkhealth.chain.solidity import render_verifier
    from zkhealth.eligibility import TrialKeys

    if universal:
        if keys_dir is not None:
            raise click.UsageError("give --keys DIR (a dedicated trial's keys) or --universal, not both")
        from zkhealth.cli.record_trials import development_keys_notice
        from zkhealth.eligibility.universal_keys import pinned_verifying_key

        with development_keys_notice(ctx, "universal"):
            vk = pinned_verifying_key()
    else:
        if keys_dir is None:
            raise click.UsageError("give --keys DIR (a dedicated trial's keys) or --universal")
        if not (keys_dir / "manifest.json").is_file():
            raise click.UsageError(f"{keys_dir} holds no trial keys (manifest.json is missing)")
        vk = TrialKeys.load_verifying_key(keys_dir)
    source = render_verifier(vk, contract_name=contract_name)
    atomic_write(out, source.encode("utf-8"))
    emit(
        ctx,
        {"out": str(out), "contract": contract_name, "verifying_key_sha256": vk.sha256(),
         "public_inputs": vk.n_public},
        f"wrote {out}: contract {contract_name}, verifyProof(uint256[2],uint256[2][2],uint256[2],"
        f"uint256[{vk.n_public}])",
    )


def _day_to_unix(day: _dt.date) -> int:
    return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp())


@click.command("deploy", short_help="Deploy the trial's CohortEnrollment contract.")
@_trial_file_argument()
@_keys_option()
@click.option(
    "--rpc", default=None, metavar="URL",
    help="JSON-RPC endpoint (http:// or https://). Without it, an embedded EVM that lives only for this process.",
)
@click.option("--roots", "roots_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The trust-root file whose current root the contract starts with (default: the trial file's).")
@click.option("--capacity", type=click.IntRange(min=1, max=2**32 - 1), default=DEFAULT_CAPACITY, show_default=True,
              help="Maximum number of enrolled patients.")
@click.option("--opens", "opens_text", default=None, metavar="YYYY-MM-DD", help="Enrollment opens (default: now).")
@click.option("--closes", "closes_text", default=None, metavar="YYYY-MM-DD",
              help=f"Enrollment closes, exclusive (default: {DEFAULT_OPEN_DAYS} days after opening).")
@click.option("--owner", default=None, metavar="0xADDRESS", help="The contract owner (default: the sender).")
@click.option("--publisher", "publishers", multiple=True, metavar="0xADDRESS",
              help="An address allowed to publish trust roots besides the owner (the registry operator's). "
              "Repeatable.")
@private_key_option(
    "Sign transactions with the hex private key on this file's first line (default: the node's first "
    "unlocked account)."
)
@click.option("--registry", default=None, metavar="0xADDRESS",
              help="Universal trials: the TrialRegistry to create the trial in (createTrial).")
@click.option("--consent-document", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Universal trials: the consent document patients agree to (its sha256 is recorded).")
@click.option("--root-grace-seconds", type=click.IntRange(0, 2**32 - 1), default=86_400, show_default=True,
              help="Universal trials: how long a superseded trust root stays accepted.")
@click.pass_context
def deploy_command(
    ctx: click.Context,
    trial_path: Path,
    keys_dir: Path | None,
    rpc: str | None,
    roots_path: Path | None,
    capacity: int,
    opens_text: str | None,
    closes_text: str | None,
    owner: str | None,
    publishers: tuple[str, ...],
    private_key_file: Path | None,
    registry: str | None,
    consent_document: Path | None,
    root_grace_seconds: int,
) -> None:
    """Deploy the trial's CohortEnrollment contract (with its embedded verifier) and print its address.

    The contract starts with the current root of the operator's trust-root file and the trial's grace period;
    the operator (the owner, or a --publisher) sends later roots with `zkhealth operator publish-root`. With --rpc
    URL (anvil, a node, a hosted endpoint) the contract, its chain id and its scope are recorded in the trial
    file: proofs for the on-chain trial are made after this. Without --rpc the contract goes to an embedded py-evm
    chain that disappears when the command ends: it checks that the key deploys and shows the gas, and the trial
    file is left unchanged. No compiler is needed. Cost: about 3.5 MGas.

    A universal trial gets no contract: `--registry 0xADDRESS` creates it in the TrialRegistry (one transaction,
    about 245,000 gas); it needs --rpc.
    """
    from eth_utils.address import to_checksum_address

    from zkhealth.chain import enrollment as cohort
    from zkhealth.cli.record_trials import is_record_trial_file, record_deploy
    from zkhealth.eligibility import Enrollment

    if is_record_trial_file(trial_path):
        if rpc is None:
            raise click.UsageError("a whole-record trial goes on-chain with --rpc URL")
        opens_day = parse_day(opens_text, what="--opens")
        closes_day = parse_day(closes_text, what="--closes")
        record_deploy(ctx, path=trial_path, rpc=rpc, private_key_file=private_key_file, registry=registry,
                      capacity=capacity, start=_day_to_unix(opens_day) if opens_day is not None else None,
                      end=_day_to_unix(closes_day) if closes_day is not None else None, owner=owner,
                      consent_document=consent_document, root_grace_seconds=root_grace_seconds)
        return

    trial_file = load_trial_spec(trial_path)
    keys = trial_file.load_keys(trial_keys_directory(trial_file, keys_dir))
    trial = trial_file.trial()
    document = trial_file.trust_document(roots_path)
    opens = parse_day(opens_text, what="--opens")
    closes = parse_day(closes_text, what="--closes")
    owner_address = recipient_address(owner, what="--owner") if owner is not None else None
    extra = [to_checksum_address(recipient_address(p, what="--publisher")) for p in publishers]
    with timed_spinner(ctx, "connecting"):
        w3 = connect_rpc(rpc, private_key_file)
    now = int(w3.eth.get_block("latest")["timestamp"])
    start = _day_to_unix(opens) if opens is not None else now - 60
    end = _day_to_unix(closes) if closes is not None else start + DEFAULT_OPEN_DAYS * 86400
    if end <= start:
        raise click.UsageError("--closes must come after --opens")
    started = time.perf_counter()
    with timed_spinner(ctx, "deploying CohortEnrollment (the EVM validates the key)"):
        # deploy_trial also checks the keys against the program and circuit, and the contract's scope and key hash
        # against ours.
        deployment = cohort.deploy_trial(
            w3, trial, keys, window=(start, end), capacity=capacity, trust_root=document.trust_root,
            publishers=extra, owner=None if owner_address is None else to_checksum_address(owner_address),
        )
    elapsed = time.perf_counter() - started
    chain_id = deployment.chain_id
    scope = deployment.scope
    address = str(deployment.address)
    payload = {
        "address": address,
        "chain_id": chain_id,
        "scope": str(scope),
        "trust_root": str(document.trust_root),
        "root_grace_seconds": trial.root_grace_seconds,
        "gas_used": deployment.gas_used,
        "block": deployment.block_number,
        "window": [start, end],
        "capacity": capacity,
        "embedded": rpc is None,
        "seconds": round(elapsed, 2),
    }
    lines = [f"CohortEnrollment deployed at {address} on chain {chain_id} ({deployment.gas_used:,} gas, "
             f"{elapsed:.1f} s); trust root {document.trust_root}"]
    if rpc is None:
        lines.append(
            "note: no --rpc, so this ran on an embedded EVM that is gone now; the trial file is unchanged. "
            "Deploy for real with --rpc URL (e.g. a local anvil: --rpc http://127.0.0.1:8545)."
        )
    else:
        enrollment = Enrollment(chain_id, address.lower(), rpc, deployment.block_number)
        trial_file.with_enrollment(enrollment, scope).save()
        lines.append(f"recorded in {trial_path}: scope {scope}; patients prove against this file from now on")
    emit(ctx, payload, "\n".join(lines))


# --------------------------------------------------------------------------- verify, verify-batch


def _verified_dict(result: Any) -> dict[str, Any]:
    from zkhealth.credentials.dates import epoch_day_to_date

    return {
        "nullifier": str(result.nullifier),
        "today": epoch_day_to_date(result.today).isoformat(),
        "recipient": f"0x{result.recipient:040x}",
        "trust_root": str(result.trust_root),
        "scope": str(result.scope),
    }


@click.command("verify", short_help="Verify one eligibility proof against the trial.")
@_trial_file_argument()
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_today_option("The verifier's day (default: today, UTC).")
@_keys_option()
@_roots_options()
@click.option("--recipient", default=None, metavar="0xADDRESS", help="Also require the proof to name this recipient.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    trial_path: Path,
    proof_path: Path,
    today_text: str | None,
    keys_dir: Path | None,
    roots_path: Path | None,
    rpc: str | None,
    recipient: str | None,
) -> None:
    """Verify PROOF.json (from `zkhealth prove`) against the trial: exit 0 valid, 1 refused, 2 malformed.

    Checks, in order: strict JSON; the trial, program and verifying key pins; the scope; `today` (the verifier's
    day or the day before); the trust root, current or superseded within the trial's grace period (StaleRootError,
    UntrustedRootError), as the operator's signed trust-root file (or, with --rpc, the contract) says; the
    recipient (with --recipient); the Groth16 proof. A refusal prints the reason on one line. Reads only the
    verifying key (a universal trial's ships with zkhealth; its program hash is checked against the
    trial's). Cost: about 20 ms plus loading.
    """
    from zkhealth.cli.record_trials import is_record_trial_file, record_verify
    from zkhealth.eligibility import EligibilityProof

    if is_record_trial_file(trial_path):
        record_verify(ctx, path=trial_path, proof_path=proof_path, today_text=today_text, recipient=recipient)
        return

    day = parse_day(today_text)
    expected = int(recipient_address(recipient, what="--recipient"), 16) if recipient is not None else None
    trial_file = load_trial_spec(trial_path)
    directory = trial_keys_directory(trial_file, keys_dir)
    proof = EligibilityProof.load(proof_path)
    history, now, source = _roots_for(trial_file, roots_path, rpc, [proof])
    trial_file.load_verifying_key(directory)
    result = trial_file.trial().verify(proof, today=day, now=now, roots=history, expected_recipient=expected)
    summary = _verified_dict(result)
    emit(
        ctx,
        {"valid": True, "proof": str(proof_path), "roots": source, **summary},
        f"valid: {proof_path} (nullifier {result.nullifier}, today {summary['today']}, "
        f"recipient {summary['recipient']}; trust root checked against {source})",
    )


@click.command("verify-batch", short_help="Verify many proofs; report the ones that fail or repeat.")
@_trial_file_argument()
@click.argument(
    "proof_paths", metavar="PROOF.json...", nargs=-1, required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@_today_option("The verifier's day (default: today, UTC).")
@_keys_option()
@_roots_options()
@click.pass_context
def verify_batch_command(
    ctx: click.Context, trial_path: Path, proof_paths: tuple[Path, ...], today_text: str | None,
    keys_dir: Path | None, roots_path: Path | None, rpc: str | None,
) -> None:
    """Verify many proofs with one batched pairing check and report each file: valid, refused (and why), duplicate
    or malformed. A proof listed twice, or a second proof with a nullifier already counted (the same patient), is
    a duplicate, never a second valid enrollment.

    Exit codes: 0 all valid; 1 some refused or duplicate; 2 some malformed. Cost: about one Miller loop per proof;
    when the batch fails, each proof is checked on its own to name the failures. A universal trial's file reads
    the verifying key that ships with zkhealth and its own trust roots (--keys, --roots and --rpc do not apply).
    """
    from zkhealth.cli.record_trials import is_record_trial_file, record_verify_batch
    from zkhealth.eligibility import EligibilityProof
    from zkhealth.errors import DuplicateProofError, EncodingError, MalformedProofError

    if is_record_trial_file(trial_path):
        if keys_dir is not None or roots_path is not None or rpc is not None:
            raise click.UsageError("a universal trial's file names its keys and trust roots: --keys, --roots and "
                                   "--rpc do not apply")
        rows, source = record_verify_batch(ctx, path=trial_path, proof_paths=proof_paths, today_text=today_text)
        _report_batch(ctx, rows, source)
        return
    day = parse_day(today_text)
    trial_file = load_trial_spec(trial_path)
    directory = trial_keys_directory(trial_file, keys_dir)
    outcomes: dict[int, dict[str, Any]] = {}
    parsed: list[tuple[int, EligibilityProof]] = []
    for position, path in enumerate(proof_paths):
        try:
            parsed.append((position, EligibilityProof.load(path)))
        except (MalformedProofError, EncodingError) as error:
            outcomes[position] = {"status": "malformed", "error": f"{type(error).__name__}: {error}"}
    history, now, source = _roots_for(trial_file, roots_path, rpc, [proof for _, proof in parsed])
    trial_file.load_verifying_key(directory)
    results = trial_file.trial().verify_each([proof for _, proof in parsed], today=day, now=now, roots=history)
    for (position, _), result in zip(parsed, results, strict=True):
        if isinstance(result, DuplicateProofError):
            outcomes[position] = {"status": "duplicate", "error": f"{type(result).__name__}: {result}"}
        elif isinstance(result, Exception):
            outcomes[position] = {"status": "refused", "error": f"{type(result).__name__}: {result}"}
        else:
            outcomes[position] = {"status": "valid", **_verified_dict(result)}
    rows = [{"proof": str(path), **outcomes[position]} for position, path in enumerate(proof_paths)]
    _report_batch(ctx, rows, source)


def _report_batch(ctx: click.Context, rows: list[dict[str, Any]], source: str) -> None:
    """Print verify-batch's rows and totals; exit 2 if some proof is malformed, else 1 if some is refused or a
    duplicate."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("valid", "refused", "duplicate", "malformed")}
    lines = [
        f"{row['proof']}: valid (nullifier {row['nullifier']})" if row["status"] == "valid"
        else f"{row['proof']}: {row['status']}: {row['error']}"
        for row in rows
    ]
    lines.append(f"{counts['valid']} valid, {counts['refused']} refused, {counts['duplicate']} duplicate, "
                 f"{counts['malformed']} malformed (trust roots from {source})")
    emit(ctx, {"proofs": rows, "roots": source, **counts}, "\n".join(lines))
    if counts["malformed"]:
        ctx.exit(2)
    if counts["refused"] or counts["duplicate"]:
        ctx.exit(1)


# --------------------------------------------------------------------------- enrollments


def enrollment_rows(records: Sequence[Any]) -> list[dict[str, Any]]:
    """JSON-ready rows of :class:`~zkhealth.chain.client.EnrollmentRecord` values."""
    from zkhealth.credentials.dates import epoch_day_to_date

    return [
        {
            "nullifier": str(r.nullifier),
            "recipient": r.recipient,
            "day": epoch_day_to_date(r.day).isoformat(),
            "block": r.block_number,
            "confirmations": r.confirmations,
            "status": r.status.value,
        }
        for r in records
    ]


@click.command("enrollments", short_help="List a trial's enrollments from the chain.")
@click.option("--rpc", default=None, metavar="URL", help="JSON-RPC endpoint (default: the trial file's).")
@click.option("--address", default=None, metavar="0xADDRESS", help="The CohortEnrollment contract.")
@click.option(
    "--trial", "trial_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Take --rpc and --address from this deployed trial file.",
)
@click.option(
    "--confirmations", type=click.IntRange(min=1), default=12, show_default=True,
    help="Depth at which an enrollment counts as final (below it: pending).",
)
@click.option(
    "--from-block", type=click.IntRange(min=0), default=None, help="First block to scan (default: deployment)."
)
@click.pass_context
def enrollments_command(
    ctx: click.Context,
    rpc: str | None,
    address: str | None,
    trial_path: Path | None,
    confirmations: int,
    from_block: int | None,
) -> None:
    """List the cohort from the contract's Enrolled and Withdrawn events: nullifier, recipient, day, block,
    confirmations and status (pending, enrolled, withdrawn, reorged).

    Nothing here identifies a patient: a nullifier is per trial and unlinkable elsewhere. A universal trial's file
    (deployed in a TrialRegistry) lists that trial's enrollments from the registry, with each consent's status.
    """
    from zkhealth.chain import client
    from zkhealth.cli.record_trials import is_record_trial_file

    start = from_block
    if trial_path is not None and is_record_trial_file(trial_path):
        _registry_enrollments(ctx, trial_path, rpc, confirmations, from_block)
        return
    if trial_path is not None:
        enrollment = load_trial_spec(trial_path).enrollment
        if enrollment is None:
            raise click.UsageError(f"{trial_path} is not deployed (run `zkhealth deploy --rpc URL`)")
        rpc = rpc or enrollment.rpc
        address = address or enrollment.address
        start = enrollment.from_block if start is None else start
    if rpc is None or address is None:
        raise click.UsageError("give --rpc URL and --address 0x... (or --trial trial.json)")
    contract_address = recipient_address(address, what="--address")
    w3 = client.connect(rpc)
    records = client.enrollments(w3, contract_address, from_block=start or 0, confirmations=confirmations)
    rows = enrollment_rows(records)
    lines = [f"{len(rows)} enrollment(s) at {contract_address}"]
    lines += [
        f"  {row['status']:<9} nullifier {row['nullifier']}  recipient {row['recipient']}  day {row['day']}  "
        f"block {row['block']} ({row['confirmations']} confirmations)"
        for row in rows
    ]
    emit(ctx, {"address": contract_address, "enrollments": rows, "count": len(rows)}, "\n".join(lines))


def _registry_enrollments(ctx: click.Context, trial_path: Path, rpc: str | None, confirmations: int,
                          from_block: int | None) -> None:
    """``enrollments --trial`` for a universal trial: its enrollments in the TrialRegistry it names."""
    from zkhealth.chain import client
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.eligibility.record_spec import RecordTrialSpec

    spec = RecordTrialSpec.load(trial_path)
    deployment = spec.deployment
    if deployment is None or deployment.trial_number is None:
        raise click.UsageError(f"{trial_path} is not created in a registry (run `zkhealth deploy --registry 0x...`)")
    rpc = rpc or deployment.rpc
    if rpc is None:
        raise click.UsageError("give --rpc URL (the trial file names no endpoint)")
    start = deployment.from_block if from_block is None else from_block
    registry = TrialRegistryClient(client.connect(rpc), deployment.address, deployed_block=start)
    members = registry.cohort(deployment.trial_number)
    rows = [
        {"nullifier": str(m.nullifier), "recipient": m.recipient, "block": m.enrolled_block,
         "confirmations": m.confirmations,
         "status": "pending" if m.confirmations < confirmations else m.status.value,
         "ended": m.ended_reason, "purposes": m.purposes, "consent_expiry_day": m.consent_expiry_day}
        for m in members
    ]
    lines = [f"{len(rows)} enrollment(s) in trial {deployment.trial_number} of the registry at {deployment.address}"]
    lines += [
        f"  {row['status']:<9} nullifier {row['nullifier']}  recipient {row['recipient']}  block {row['block']} "
        f"({row['confirmations']} confirmations)" + (f"  {row['ended']}" if row["ended"] else "")
        for row in rows
    ]
    emit(ctx, {"registry": deployment.address, "trial_number": deployment.trial_number, "enrollments": rows,
               "count": len(rows)}, "\n".join(lines))


# --------------------------------------------------------------------------- trials of the registry (the DAO)


@click.group("recruiter", short_help="Cohort, milestone payouts and data grants of a registry trial.")
def recruiter_group() -> None:
    """Recruiter of a trial in the TrialRegistry: the cohort with each consent's status, milestone payouts,
    opening a patient's data-access grant, closing the trial."""


def _registry(rpc: str, private_key_file: Path | None, registry: str) -> Any:
    from zkhealth.chain.registry import TrialRegistryClient

    return TrialRegistryClient(connect_rpc(rpc, private_key_file), registry)


@recruiter_group.command("cohort")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@click.option("--all", "show_all", is_flag=True, help="Also list ended consents, with why they ended.")
@click.argument("trial_id", type=int)
@click.pass_context
def cohort_command(ctx: click.Context, rpc: str, registry: str, show_all: bool, trial_id: int) -> None:
    """List TRIAL_ID's enrollments with an active consent (``--all``: every one, with its status)."""
    members = _registry(rpc, None, registry).cohort(trial_id, active_only=not show_all)
    rows = [
        {"nullifier": str(m.nullifier), "recipient": m.recipient, "status": m.status.value,
         "ended": m.ended_reason, "purposes": m.purposes, "consent_expiry_day": m.consent_expiry_day,
         "rewards_paid": list(m.rewards_paid), "confirmations": m.confirmations}
        for m in members
    ]
    lines = [f"{r['nullifier'][:12]}… {r['recipient']} {r['status']}"
             + (f" ({r['ended']})" if r["ended"] else f" until day {r['consent_expiry_day']}") for r in rows]
    emit(ctx, {"trial": trial_id, "cohort": rows}, "\n".join(lines) or "no enrollments")


@recruiter_group.command("payout")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign with the hex private key on this file's first line.")
@click.option("--from", "sender", default=None, metavar="0xADDRESS", help="Send from this unlocked account.")
@click.argument("trial_id", type=int)
@click.argument("nullifier", type=int)
@click.argument("milestone", type=int)
@click.pass_context
def payout_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None, sender: str | None,
                   trial_id: int, nullifier: int, milestone: int) -> None:
    """Pay MILESTONE (1-based) of TRIAL_ID to the address that enrolled NULLIFIER (once per milestone; the pool
    is checked first; refused for a withdrawn or expired consent)."""
    receipt = _registry(rpc, private_key_file, registry).pay_milestone(trial_id, nullifier, milestone, sender=sender)
    emit(ctx, {"transaction": "0x" + bytes(receipt["transactionHash"]).hex(), "gas_used": int(receipt["gasUsed"])},
         f"paid milestone {milestone} ({int(receipt['gasUsed']):,} gas)")


@recruiter_group.command("open-grant")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign the on-chain use record with the hex private key on this file's first line.")
@click.option("--from", "sender", default=None, metavar="0xADDRESS", help="Send from this unlocked account.")
@click.option("--data-key-file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The trial's X25519 private key (64 hex digits on the first line).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write it.")
@click.argument("grant_id", type=int)
@click.argument("sealed", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def open_grant_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None,
                       sender: str | None, data_key_file: Path, out: Path, grant_id: int, sealed: Path) -> None:
    """Check GRANT_ID is active, check SEALED against its on-chain hash, open it, record the use on-chain."""
    from nacl.public import PrivateKey

    from zkhealth._fileio import atomic_write
    from zkhealth.chain.grants import DataKeyPair
    from zkhealth.chain.roles import Recruiter

    first = read_first_line(data_key_file, "data key file")
    try:
        private = bytes.fromhex(first)
        keys = DataKeyPair(private, bytes(PrivateKey(private).public_key))
    except ValueError:
        raise click.UsageError(f"{data_key_file}: the first line must be 64 hex digits") from None
    registry_client = _registry(rpc, private_key_file, registry)
    address = sender or str(registry_client.w3.eth.default_account)
    extract = Recruiter(registry_client, address, data_keys=keys).open_grant(grant_id,
                                                                          read_document(sealed, "sealed extract"))
    atomic_write(out, extract)
    emit(ctx, {"grant": grant_id, "bytes": len(extract), "out": str(out)},
         f"opened grant {grant_id}: {len(extract)} bytes written to {out}")
