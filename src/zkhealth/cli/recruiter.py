"""The recruiter's verbs: ``trial new|roots|info``, ``setup``, ``export-verifier``, ``deploy``, ``verify``,
``verify-batch`` and ``enrollments``.

A trial is one JSON file, ``trial.json``, that the recruiter writes with ``zkhealth trial new`` and publishes to
patients: :class:`zkhealth.eligibility.TrialSpec` reads and writes it (its docstring, and docs/cli.md, give the
format). ``keys.dir`` is relative to the trial file's directory; ``--keys DIR`` overrides it on every verb.

Heavy modules (web3, the circuit compiler) are imported inside the verbs so that ``zkhealth --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

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


def _root_options() -> Callable[[F], F]:
    """--registry, --issuer-root, --revocations and --revocation-root: the roots a trial trusts."""
    options = (
        click.option(
            "--registry", "registry_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
            default=None, help="Trust the current root of this trusted-issuer registry (from `zkhealth registry add`).",
        ),
        click.option(
            "--issuer-root", "issuer_roots", multiple=True, metavar="DECIMAL",
            help="A trusted-issuer root. Repeatable.",
        ),
        click.option(
            "--revocations", "revocations_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
            default=None, help="Accept the current root of this revocation tree (from `zkhealth revoke`).",
        ),
        click.option(
            "--revocation-root", "revocation_roots", multiple=True, metavar="DECIMAL",
            help="An accepted revocation root. Repeatable.",
        ),
    )

    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _today_option(help_text: str) -> Callable[[F], F]:
    return click.option("--today", "today_text", default=None, metavar="YYYY-MM-DD", help=help_text)


@click.group("trial", short_help="A trial definition file: new, roots, info.")
def trial_group() -> None:
    """A trial definition file (trial.json): the criteria, the trial id and the verifier's policy.

    Recruiters write it with `trial new` and publish it; patients prove against it, verifiers check proofs
    against it. `trial roots` updates the trusted roots; `trial info` prints its cost report and what a
    verifier learns from a proof; `trial check` compiles criteria files and lists what needs judgement.
    """


@trial_group.command("check", short_help="Compile criteria files; list criteria that need judgement.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--program", "show_program", is_flag=True, help="Also print each compiled program (atoms, combination).")
@click.option("--cost", "show_cost", is_flag=True,
              help="Also compile each dedicated circuit and print its constraints per part and per atom.")
@click.pass_context
def trial_check(ctx: click.Context, files: tuple[Path, ...], show_program: bool, show_cost: bool) -> None:
    """Compile each criteria FILE (schema version 2) and report: the atoms it compiles to, the transcribed
    atomic criteria (`# criterion: expressed | inexpressible | judgement | text`) and every comment that needs
    judgement (`# judgement: text`), which is not machine-checkable. A criteria error names the clause and
    column (exit 2)."""
    from zkhealth.eligibility.check import check_criteria_file
    from zkhealth.eligibility.record_trial import RecordTrial

    checks = [check_criteria_file(path) for path in files]
    costs = {}
    if show_cost:
        with status(ctx, "compiling the dedicated circuits"):
            costs = {check.path: RecordTrial(check.text, trial_id="cost-report").cost_report() for check in checks}
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
@_root_options()
@click.option(
    "--window-days", type=click.IntRange(0, 366), default=1, show_default=True,
    help="How many days old a proof's `today` may be when it is verified.",
)
@click.option("--scope", "scope_text", default=None, metavar="DECIMAL", help="An explicit scope (advanced).")
@click.option("--force", is_flag=True, help="Replace an existing trial file.")
@click.pass_context
def trial_new(
    ctx: click.Context,
    criteria: str,
    trial_id: str,
    out: Path,
    name: str | None,
    registry_path: Path | None,
    issuer_roots: tuple[str, ...],
    revocations_path: Path | None,
    revocation_roots: tuple[str, ...],
    window_days: int,
    scope_text: str | None,
    force: bool,
) -> None:
    """Write a trial definition file: criteria, trial id, name, accepted window and trusted roots.

    Invalid criteria are refused with the clause and column (exit 2). At least one trusted-issuer root
    (--registry or --issuer-root) and one revocation root (--revocations or --revocation-root) are required:
    a verifier accepts proofs made against these roots only. The scope starts as the off-chain scope (chain 0,
    zero address); `zkhealth deploy --rpc URL` replaces it with the contract's.
    """
    from zkhealth.eligibility import TrialSpec, read_criteria_file

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to replace it")
    metadata: dict[str, str] = {}
    criteria_path = Path(criteria)
    if "\n" not in criteria and len(criteria) < 4096 and criteria_path.is_file():
        text, metadata = read_criteria_file(criteria_path)
    else:
        text = criteria
    trusted, accepted = _gather_roots(registry_path, issuer_roots, revocations_path, revocation_roots)
    if not trusted:
        raise click.UsageError("give the trusted issuers: --registry registry.json or --issuer-root DECIMAL")
    if not accepted:
        raise click.UsageError("give the revocation list: --revocations db.sqlite or --revocation-root DECIMAL")
    display_name = name if name is not None else metadata.get("name", "")
    spec = TrialSpec.new(
        out,
        text,
        trial_id=trial_id,
        name=display_name,
        accepted_window_days=window_days,
        trusted_issuer_roots=tuple(trusted),
        revocation_roots=tuple(accepted),
        scope=parse_field_element(scope_text, what="--scope") if scope_text is not None else None,
    )
    spec.save()
    warnings = criteria_warnings(spec.criteria)
    emit(
        ctx,
        {"out": str(out), **spec.to_dict(), "warnings": warnings},
        f"wrote {out}: trial {trial_id}{f' ({display_name})' if display_name else ''}\n"
        f"criteria: {spec.criteria}\n"
        f"next: zkhealth trial info {out}; zkhealth setup {out} --keys keys/",
    )


@trial_group.command("roots", short_help="Add (or replace) the trial's trusted roots.")
@_trial_file_argument()
@_root_options()
@click.option("--replace", "replace_roots", is_flag=True,
              help="Replace the roots of each kind given instead of adding to them.")
@click.pass_context
def trial_roots(
    ctx: click.Context,
    trial_path: Path,
    registry_path: Path | None,
    issuer_roots: tuple[str, ...],
    revocations_path: Path | None,
    revocation_roots: tuple[str, ...],
    replace_roots: bool,
) -> None:
    """Add trusted-issuer or revocation roots to the trial file (after an issuer joins, or revokes a
    credential), or with --replace make them the only ones of their kind. The criteria, keys and deployment
    stay; proofs made against a root no longer listed stop verifying.
    """
    spec = load_trial_spec(trial_path)
    issuers, revocations = _gather_roots(registry_path, issuer_roots, revocations_path, revocation_roots)
    if not issuers and not revocations:
        raise click.UsageError("give --registry, --issuer-root, --revocations or --revocation-root")
    changed = spec.with_roots(issuers, revocations, replace_roots=replace_roots)
    changed.save()
    trusted, accepted = changed.trusted_issuer_roots, changed.revocation_roots
    emit(
        ctx,
        {"trial": str(trial_path), "trustedIssuerRoots": [str(v) for v in trusted],
         "revocationRoots": [str(v) for v in accepted]},
        f"{trial_path}: {len(trusted)} trusted-issuer root(s), {len(accepted)} revocation root(s)",
    )


def _gather_roots(
    registry_path: Path | None,
    issuer_roots: tuple[str, ...],
    revocations_path: Path | None,
    revocation_roots: tuple[str, ...],
) -> tuple[list[int], list[int]]:
    """Roots from the options of `trial new` / `trial roots`: decimals, a registry file, a revocation tree."""
    from zkhealth.credentials.trees import IssuerRegistry, RevocationTree

    trusted = [parse_field_element(v, what="--issuer-root") for v in issuer_roots]
    if registry_path is not None:
        trusted.append(IssuerRegistry.load(registry_path).root)
    accepted = [parse_field_element(v, what="--revocation-root") for v in revocation_roots]
    if revocations_path is not None:
        tree = RevocationTree(revocations_path)
        try:
            accepted.append(tree.root)
        finally:
            tree.close()
    return trusted, accepted


@trial_group.command("info", short_help="Cost report and what the verifier learns.")
@_trial_file_argument()
@click.pass_context
def trial_info(ctx: click.Context, trial_path: Path) -> None:
    """Print the trial's cost report (constraints per part and per clause, predicted prove and setup times),
    what a verifier learns from each public signal, and the file's policy, keys and deployment.

    Needs no keys: it compiles the circuit (about 1-2 s).
    """
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
            "clauses": [{"clause": n, "constraints": c} for n, c in report.clauses],
            "predicted_prove_seconds": round(report.predicted_prove_seconds, 2),
            "predicted_setup_seconds": round(report.predicted_setup_seconds, 2),
        },
        "verifier_learns": [{"signal": item.name, "reveals": item.reveals} for item in learns],
        "warnings": criteria_warnings(trial_file.criteria),
    }
    where = "not deployed (off-chain scope)"
    if trial_file.enrollment is not None:
        where = f"CohortEnrollment {trial_file.enrollment.address} on chain {trial_file.enrollment.chain_id}"
    lines = [
        f"trial {trial_file.trial_id}{f' ({trial_file.name})' if trial_file.name else ''}",
        f"accepted window: {trial_file.accepted_window_days} day(s); "
        f"{len(trial_file.trusted_issuer_roots)} trusted-issuer root(s), "
        f"{len(trial_file.revocation_roots)} revocation root(s)",
        f"keys: {trial_file.keys_dir or 'none yet (zkhealth setup)'}; deployment: {where}",
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

    Without options: a development Groth16 setup (this process knew the toxic waste: the keys are marked
    dev-setup and refused where production keys are required). With --ptau and --zkey: a ceremony's final key,
    verified against this trial's circuit first. With --ceremony FOLDER: phase 2 of this trial's circuit in a
    ceremony folder (see docs/ceremony.md): the first call opens it, a call after `ceremony finish` replays
    the whole ceremony and uses its key. A development setup writes a proving key of about 17 MB. The printed
    time is the whole command's wall time.
    """
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
            verify_ceremony(ceremony_dir)
        zkey_path, ptau_path = Ceremony(ceremony_dir).final_key(circuit)
        origin = f"keys of ceremony {ceremony_dir} (circuit {circuit})"
    if zkey_path is not None and ptau_path is not None:
        from zkhealth.formats.ptau_file import read_ptau
        from zkhealth.formats.zkey_file import read_zkey_file

        with status(ctx, "verifying the ceremony's key against the trial's circuit"):
            keys = trial.ceremony_keys(read_zkey_file(zkey_path), read_ptau(ptau_path), workers=workers)
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
            "provenance": keys.pk.provenance,
            "verifying_key_sha256": keys.vk_sha256,
            "criteria_sha256": keys.criteria_sha256,
            "r1cs_sha256": keys.r1cs_sha256,
            "proving_key_bytes": size,
            "seconds": round(elapsed, 2),
            "trial": str(trial_path),
        },
        f"wrote {keys_dir}: {origin} ({size / 1e6:.1f} MB proving key, provenance {keys.pk.provenance}) "
        f"in {elapsed:.1f} s\nverifying key sha256 {keys.vk_sha256}; recorded in {trial_path}",
    )


@click.command("export-verifier", short_help="Write a standalone Solidity verifier for the keys.")
@_keys_option(required=True)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .sol file to write.",
)
@click.option("--contract-name", default="Groth16Verifier", show_default=True, help="The Solidity contract name.")
@click.pass_context
def export_verifier_command(ctx: click.Context, keys_dir: Path, out: Path, contract_name: str) -> None:
    """Render a self-contained Solidity Groth16 verifier with the trial's verifying key as constants.

    For auditors and users who compile their own contracts (same calldata and checks as the installed verifier;
    `zkhealth deploy` needs no compiler). The key must match its manifest's pin (exit 1 otherwise).
    """
    from zkhealth.chain.solidity import render_verifier
    from zkhealth.eligibility import TrialKeys

    if not (keys_dir / "manifest.json").is_file():
        raise click.UsageError(f"{keys_dir} holds no trial keys (manifest.json is missing)")
    vk = TrialKeys.load_verifying_key(keys_dir)
    source = render_verifier(vk, contract_name=contract_name)
    atomic_write(out, source.encode("utf-8"))
    emit(
        ctx,
        {"out": str(out), "contract": contract_name, "verifying_key_sha256": vk.sha256(), "public_inputs": 6},
        f"wrote {out}: contract {contract_name}, verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[6])",
    )


def _day_to_unix(day: _dt.date) -> int:
    return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp())


def _single_root(values: tuple[int, ...], override: str | None, what: str, option: str) -> int:
    if override is not None:
        value = parse_field_element(override, what=option)
        if value not in values:
            raise click.UsageError(f"{option} {value} is not one of the trial file's {what}")
        return value
    if len(values) != 1:
        raise click.UsageError(f"the trial file lists {len(values)} {what}: choose the current one with {option}")
    return values[0]


@click.command("deploy", short_help="Deploy the trial's CohortEnrollment contract.")
@_trial_file_argument()
@_keys_option()
@click.option(
    "--rpc", default=None, metavar="URL",
    help="JSON-RPC endpoint (http:// or https://). Without it, an embedded EVM that lives only for this process.",
)
@click.option("--capacity", type=click.IntRange(min=1, max=2**32 - 1), default=DEFAULT_CAPACITY, show_default=True,
              help="Maximum number of enrolled patients.")
@click.option("--opens", "opens_text", default=None, metavar="YYYY-MM-DD", help="Enrollment opens (default: now).")
@click.option("--closes", "closes_text", default=None, metavar="YYYY-MM-DD",
              help=f"Enrollment closes, exclusive (default: {DEFAULT_OPEN_DAYS} days after opening).")
@click.option("--owner", default=None, metavar="0xADDRESS", help="The contract owner (default: the sender).")
@click.option("--issuer-root", default=None, metavar="DECIMAL",
              help="The initial trusted-issuer root, when the trial file lists several.")
@click.option("--revocation-root", default=None, metavar="DECIMAL",
              help="The initial revocation root, when the trial file lists several.")
@private_key_option(
    "Sign transactions with the hex private key on this file's first line (default: the node's first "
    "unlocked account)."
)
@click.pass_context
def deploy_command(
    ctx: click.Context,
    trial_path: Path,
    keys_dir: Path | None,
    rpc: str | None,
    capacity: int,
    opens_text: str | None,
    closes_text: str | None,
    owner: str | None,
    issuer_root: str | None,
    revocation_root: str | None,
    private_key_file: Path | None,
) -> None:
    """Deploy the trial's CohortEnrollment contract (with its embedded verifier) and print its address.

    With --rpc URL (anvil, a node, a hosted endpoint) the contract, its chain id and its scope are recorded in
    the trial file: proofs for the on-chain trial are made after this. Without --rpc the contract goes to an
    embedded py-evm chain that disappears when the command ends: it checks that the key deploys and shows the
    gas, and the trial file is left unchanged. No compiler is needed. Cost: about 3.5 MGas.
    """
    from eth_utils.address import to_checksum_address

    from zkhealth.chain import client
    from zkhealth.eligibility import Enrollment

    trial_file = load_trial_spec(trial_path)
    keys = trial_file.load_keys(trial_keys_directory(trial_file, keys_dir))
    trial = trial_file.trial()
    issuer = _single_root(trial_file.trusted_issuer_roots, issuer_root, "trusted-issuer roots", "--issuer-root")
    revocation = _single_root(trial_file.revocation_roots, revocation_root, "revocation roots", "--revocation-root")
    opens = parse_day(opens_text, what="--opens")
    closes = parse_day(closes_text, what="--closes")
    owner_address = recipient_address(owner, what="--owner") if owner is not None else None
    with timed_spinner(ctx, "connecting"):
        w3 = connect_rpc(rpc, private_key_file)
    now = int(w3.eth.get_block("latest")["timestamp"])
    start = _day_to_unix(opens) if opens is not None else now - 60
    end = _day_to_unix(closes) if closes is not None else start + DEFAULT_OPEN_DAYS * 86400
    if end <= start:
        raise click.UsageError("--closes must come after --opens")
    started = time.perf_counter()
    with timed_spinner(ctx, "deploying CohortEnrollment (the EVM validates the key)"):
        # deploy_trial also checks the keys against the criteria and circuit, and the contract's scope and
        # key hash against ours.
        deployment = client.deploy_trial(
            w3, trial, keys, issuer_root=issuer, revocation_root=revocation, window=(start, end),
            capacity=capacity, owner=None if owner_address is None else to_checksum_address(owner_address),
        )
    elapsed = time.perf_counter() - started
    chain_id = deployment.chain_id
    scope = deployment.scope
    address = str(deployment.address)
    payload = {
        "address": address,
        "chain_id": chain_id,
        "scope": str(scope),
        "gas_used": deployment.gas_used,
        "block": deployment.block_number,
        "window": [start, end],
        "capacity": capacity,
        "embedded": rpc is None,
        "seconds": round(elapsed, 2),
    }
    lines = [f"CohortEnrollment deployed at {address} on chain {chain_id} ({deployment.gas_used:,} gas, "
             f"{elapsed:.1f} s)"]
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
        "trusted_issuer_root": str(result.trusted_issuer_root),
        "revocation_root": str(result.revocation_root),
        "scope": str(result.scope),
    }


@click.command("verify", short_help="Verify one eligibility proof against the trial.")
@_trial_file_argument()
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_today_option("The verifier's day (default: today, UTC).")
@_keys_option()
@click.option("--recipient", default=None, metavar="0xADDRESS", help="Also require the proof to name this recipient.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    trial_path: Path,
    proof_path: Path,
    today_text: str | None,
    keys_dir: Path | None,
    recipient: str | None,
) -> None:
    """Verify PROOF.json (from `zkhealth prove`) against the trial: exit 0 valid, 1 refused, 2 malformed.

    Checks, in order: strict JSON; the trial, criteria and verifying key pins; the scope; `today` within the
    accepted window; trusted roots; the recipient (with --recipient); the Groth16 proof. A refusal prints the
    reason on one line. Needs only the verifying key (the proving key is not read). Wall time, the whole
    command: about 0.3-0.5 s, most of it starting Python.
    """
    from zkhealth.eligibility import EligibilityProof

    day = parse_day(today_text)
    expected = int(recipient_address(recipient, what="--recipient"), 16) if recipient is not None else None
    trial_file = load_trial_spec(trial_path)
    directory = trial_keys_directory(trial_file, keys_dir)
    proof = EligibilityProof.load(proof_path)
    trial_file.load_verifying_key(directory)
    result = trial_file.trial().verify(proof, today=day, expected_recipient=expected)
    summary = _verified_dict(result)
    emit(
        ctx,
        {"valid": True, "proof": str(proof_path), **summary},
        f"valid: {proof_path} (nullifier {result.nullifier}, today {summary['today']}, "
        f"recipient {summary['recipient']})",
    )


@click.command("verify-batch", short_help="Verify many proofs; report the ones that fail.")
@_trial_file_argument()
@click.argument(
    "proof_paths", metavar="PROOF.json...", nargs=-1, required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@_today_option("The verifier's day (default: today, UTC).")
@_keys_option()
@click.pass_context
def verify_batch_command(
    ctx: click.Context, trial_path: Path, proof_paths: tuple[Path, ...], today_text: str | None, keys_dir: Path | None
) -> None:
    """Verify many proofs with one batched pairing check and report each file: valid, refused (and why) or
    malformed. A nullifier seen twice (one patient, two proofs) refuses the later files.

    Exit codes: 0 all valid; 1 some refused; 2 some malformed. Cost: about one Miller loop per proof; when the
    batch fails, each proof is checked on its own to name the failures.
    """
    from zkhealth.eligibility import EligibilityProof
    from zkhealth.errors import EncodingError, MalformedProofError, ZkHealthError

    day = parse_day(today_text)
    trial_file = load_trial_spec(trial_path)
    trial_file.load_verifying_key(trial_keys_directory(trial_file, keys_dir))
    trial = trial_file.trial()
    outcomes: dict[Path, dict[str, Any]] = {}
    parsed: list[tuple[Path, Any]] = []
    for path in proof_paths:
        try:
            parsed.append((path, EligibilityProof.load(path)))
        except (MalformedProofError, EncodingError) as error:
            outcomes[path] = {"status": "malformed", "error": f"{type(error).__name__}: {error}"}
    results: list[Any] | None = None
    if parsed:
        with contextlib.suppress(ZkHealthError):
            results = trial.verify_batch([p for _, p in parsed], today=day)
    for index, (path, proof) in enumerate(parsed):
        try:
            result = results[index] if results is not None else trial.verify(proof, today=day)
        except ZkHealthError as error:
            outcomes[path] = {"status": "refused", "error": f"{type(error).__name__}: {error}"}
        else:
            outcomes[path] = {"status": "valid", **_verified_dict(result)}
    seen: dict[str, Path] = {}
    for path in proof_paths:
        outcome = outcomes[path]
        if outcome["status"] != "valid":
            continue
        first = seen.setdefault(outcome["nullifier"], path)
        if first != path:
            outcomes[path] = {"status": "refused", "error": f"DuplicateNullifier: the same patient as {first}"}
    rows = [{"proof": str(path), **outcomes[path]} for path in proof_paths]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("valid", "refused", "malformed")}
    lines = [
        f"{row['proof']}: valid (nullifier {row['nullifier']})" if row["status"] == "valid"
        else f"{row['proof']}: {row['status']}: {row['error']}"
        for row in rows
    ]
    lines.append(f"{counts['valid']} valid, {counts['refused']} refused, {counts['malformed']} malformed")
    emit(ctx, {"proofs": rows, **counts}, "\n".join(lines))
    if counts["malformed"]:
        ctx.exit(2)
    if counts["refused"]:
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

    Nothing here identifies a patient: a nullifier is per trial and unlinkable elsewhere.
    """
    from zkhealth.chain import client

    start = from_block
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
