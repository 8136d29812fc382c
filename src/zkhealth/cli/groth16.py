"""``zkhealth groth16 ...`` and ``zkhealth zkey ...``: the snarkjs verbs, in snarkjs' argument order.

* ``groth16 setup circuit.r1cs out.zkhpk [--verification-key vk.json]`` (development keys only);
* ``groth16 prove key witness.wtns proof.json public.json`` (key: ours or a snarkjs ``.zkey``, by magic);
* ``groth16 verify verification_key.json public.json proof.json``: exit 0 valid, 1 well-formed but invalid
  (or not the ``--pin`` key), 2 malformed input (one line on stderr), 3 an insecure or development key;
* ``zkey export verificationkey key vk.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zkhealth.cli._common import (
    command_seconds,
    emit,
    is_json,
    mark_command_start,
    note,
    progress_bar,
    release_at_exit,
)


@click.group("groth16")
def groth16_group() -> None:
    """Groth16 over BN254, with snarkjs' verbs and files."""


@groth16_group.command("setup")
@click.argument("circuit", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("key_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--verification-key",
    "vk_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the snarkjs verification_key.json.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def setup_command(ctx: click.Context, circuit: Path, key_out: Path, vk_out: Path | None, quiet: bool) -> None:
    """Development setup for CIRCUIT (.r1cs); writes our proving key to KEY_OUT.

    The toxic waste is known to this process: the keys are marked dev-setup and refused where production
    keys are required. Use a snarkjs ceremony for production. Prints the command's wall time (start-up
    included).
    """
    from zkhealth.formats.r1cs_file import read_r1cs
    from zkhealth.formats.snarkjs_json import write_verifying_key
    from zkhealth.formats.zkhpk_file import save_proving_key
    from zkhealth.groth16.generator import setup

    mark_command_start(ctx)
    r1cs = read_r1cs(circuit)
    if quiet:
        pk, vk = setup(r1cs)
    else:
        with progress_bar(ctx, f"setup ({r1cs.n_constraints} constraints)", 5) as progress:
            pk, vk = setup(r1cs, progress=progress)
    save_proving_key(pk, key_out)
    if vk_out is not None:
        write_verifying_key(vk, vk_out)
    elapsed = command_seconds(ctx)
    emit(
        ctx,
        {"key": str(key_out), "verification_key": str(vk_out) if vk_out is not None else None,
         "vk_sha256": vk.sha256(), "provenance": vk.provenance, "constraints": r1cs.n_constraints,
         "seconds": round(elapsed, 3)},
        f"wrote {key_out} (dev-setup key; vk sha256 {vk.sha256()}; {elapsed:.2f} s)",
    )


@groth16_group.command("prove")
@click.argument("key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("witness", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("proof_out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("public_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: all cores).")
@click.option(
    "--r1cs", "r1cs_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Check the witness against this .r1cs first (names the failing constraint).",
)
@click.pass_context
def prove_command(
    ctx: click.Context,
    key: Path, witness: Path, proof_out: Path, public_out: Path, workers: int | None, r1cs_path: Path | None
) -> None:
    """Prove with KEY (ours or a snarkjs .zkey) and WITNESS (.wtns); write snarkjs proof and public JSON.

    Prints the command's wall time on stderr (start-up and key loading included)."""
    mark_command_start(ctx)
    from zkhealth.formats.snarkjs_json import write_proof, write_public
    from zkhealth.formats.wtns_file import read_wtns
    from zkhealth.formats.zkhpk_file import load_proving_key
    from zkhealth.groth16.prover import QuotientJob, prove, public_signals, start_quotient
    from zkhealth.hazmat.parallel import default_workers

    values = read_wtns(witness)
    jobs: list[QuotientJob] = []

    def start(a_entries: Any, b_entries: Any, domain_size: int) -> None:
        # A key from the cache has its matrices decoded before its points: the quotient, which needs only
        # them and the witness, runs in a child on the other core while this process decodes the points.
        if not jobs and (workers if workers is not None else default_workers()) > 1:
            job = start_quotient(a_entries, b_entries, domain_size, values)
            if job is not None:
                jobs.append(job)

    try:
        pk = load_proving_key(key, on_matrices=start)
        release_at_exit(pk)
        r1cs = None
        if r1cs_path is not None:
            from zkhealth.formats.r1cs_file import read_r1cs  # with the R1CS model: 10 ms of imports

            r1cs = read_r1cs(r1cs_path)
        proof = prove(pk, values, workers=workers, r1cs=r1cs, quotient=jobs[0] if jobs else None)
    finally:
        for job in jobs:
            job.cancel()  # a job whose result the proof took is already finished
    write_proof(proof, proof_out)
    public = public_signals(pk, values)
    write_public(public, public_out)
    elapsed = command_seconds(ctx)
    if is_json(ctx):
        emit(ctx, {"proof": str(proof_out), "public": str(public_out), "public_signals": [str(v) for v in public],
                   "seconds": round(elapsed, 3)}, "")
    else:
        note(f"wrote {proof_out} and {public_out} ({elapsed:.2f} s)")


@groth16_group.command("verify")
@click.argument("vk_path", metavar="VERIFICATION_KEY", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("public_path", metavar="PUBLIC", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("proof_path", metavar="PROOF", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--require-production", is_flag=True, help="Refuse development-setup keys.")
@click.option("--pin", "pinned", default=None, help="Expected sha256 of the verification key.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    vk_path: Path, public_path: Path, proof_path: Path, require_production: bool, pinned: str | None
) -> None:
    """Verify PROOF for PUBLIC under VERIFICATION_KEY (snarkjs JSON files).

    Exit codes: 0 valid; 1 well-formed but invalid; 2 malformed input; 3 refused key.
    """
    from zkhealth.formats.snarkjs_json import load_proof, load_public, load_verifying_key
    from zkhealth.groth16.verifier import verify

    vk = load_verifying_key(vk_path)
    public = load_public(public_path)
    proof = load_proof(proof_path)
    verify(vk, public, proof, require_production=require_production, pinned_sha256=pinned)
    emit(ctx, {"valid": True, "vk_sha256": vk.sha256(), "public_signals": len(public)}, "OK")


@click.group("zkey")
def zkey_group() -> None:
    """Proving-key utilities (snarkjs' zkey verbs)."""


@zkey_group.group("export")
def _export_group() -> None:
    """Export parts of a proving key."""


@_export_group.command("verificationkey")
@click.argument("key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("vk_out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export_verificationkey(ctx: click.Context, key: Path, vk_out: Path) -> None:
    """Write the snarkjs verification_key.json of KEY (ours or a snarkjs .zkey)."""
    from zkhealth.formats.snarkjs_json import write_verifying_key
    from zkhealth.formats.zkhpk_file import load_proving_key

    pk = load_proving_key(key)
    write_verifying_key(pk.vk, vk_out)
    if is_json(ctx):
        emit(ctx, {"verification_key": str(vk_out), "vk_sha256": pk.vk.sha256()}, "")
    else:
        note(f"wrote {vk_out} (sha256 {pk.vk.sha256()})")
