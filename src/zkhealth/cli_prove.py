"""The patient's proving verbs: ``prove`` (an eligibility proof from the wallet) and ``enroll`` (send it to the
trial's CohortEnrollment contract).

``prove`` checks the criteria natively first: a patient who does not qualify is told the failing clause (exit 1)
and no proof is attempted. The proof file reveals only the six public signals (``zkhealth trial info`` lists
what each one says).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from zkhealth.cli_common import emit, passphrase_file_option, write_json_file
from zkhealth.cli_trial import TrialFile, connect_rpc, parse_address, parse_day, timed_spinner
from zkhealth.cli_wallet import _open_wallet, _wallet_option

__all__ = ["enroll_command", "prove_command"]


@click.command("prove", short_help="Prove eligibility for a trial from the wallet.")
@click.argument("trial_path", metavar="TRIAL.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_wallet_option()
@click.option(
    "--recipient", required=True, metavar="0xADDRESS",
    help="The address allowed to use the proof (the one that will send `enroll`; a fresh one is fine).",
)
@click.option(
    "--registry", "registry_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The trusted-issuer registry (JSON) published by the issuers.",
)
@click.option(
    "--revocations", "revocations_path", required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The issuer's revocation tree (SQLite) for the non-revocation proof.",
)
@click.option(
    "--today", "today_text", default=None, metavar="YYYY-MM-DD", help="The day to prove for (default: today, UTC)."
)
@click.option(
    "--keys", "keys_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The trial's key directory (default: the one recorded in the trial file).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the proof.",
)
@passphrase_file_option()
@click.pass_context
def prove_command(
    ctx: click.Context,
    trial_path: Path,
    wallet_path: str,
    recipient: str,
    registry_path: Path,
    revocations_path: Path,
    today_text: str | None,
    keys_dir: Path | None,
    out: Path,
    passphrase_file: Path | None,
) -> None:
    """Prove that a credential in the wallet meets the trial's criteria; write the proof to --out.

    Uses the first stored credential that qualifies. Before any proving: a patient who does not qualify is
    refused with the failing clause (NotEligibleError, exit 1), and so are an expired, revoked or untrusted
    credential. The proof is bound to --recipient and to the trial's scope (for a deployed trial: its contract
    and chain). Cost: about 10-15 s of proving, plus loading the keys.
    """
    from zkhealth.credentials.dates import epoch_day_to_date
    from zkhealth.credentials.trees import IssuerRegistry, RevocationTree

    day = parse_day(today_text)
    address = parse_address(recipient, what="--recipient")
    trial_file = TrialFile.load(trial_path)
    registry = IssuerRegistry.from_json(registry_path.read_bytes())
    with timed_spinner(ctx, "loading the trial's keys"):
        trial_file.load_keys(keys_dir)
    wallet = _open_wallet(ctx, wallet_path, passphrase_file)
    tree = RevocationTree(revocations_path)
    started = time.perf_counter()
    try:
        with timed_spinner(ctx, "checking the criteria, then proving"):
            proof = wallet.prove(
                trial_file.trial(), today=day, recipient=int(address, 16), registry_proof=registry,
                revocation_proof=tree, scope=trial_file.scope,
            )
    finally:
        tree.close()
    elapsed = time.perf_counter() - started
    write_json_file(out, proof.to_dict())
    proved_day = epoch_day_to_date(proof.today).isoformat()
    emit(
        ctx,
        {
            "out": str(out),
            "nullifier": str(proof.nullifier),
            "today": proved_day,
            "recipient": address,
            "scope": str(proof.scope),
            "seconds": round(elapsed, 2),
        },
        f"wrote {out} in {elapsed:.1f} s: eligible on {proved_day}, bound to {address}\n"
        f"nullifier {proof.nullifier} (the same for every proof you make for this trial)",
    )


@click.command("enroll", short_help="Enroll on-chain with a proof.")
@click.argument("trial_path", metavar="TRIAL.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--rpc", default=None, metavar="URL", help="JSON-RPC endpoint (default: the one in the trial file).")
@click.option(
    "--private-key-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Sign with the hex private key on this file's first line (default: the node's unlocked recipient account).",
)
@click.pass_context
def enroll_command(
    ctx: click.Context, trial_path: Path, proof_path: Path, rpc: str | None, private_key_file: Path | None
) -> None:
    """Send PROOF.json to the trial's CohortEnrollment contract, from the proof's recipient address.

    The contract checks everything again (scope, roots, today, recipient, window, capacity, nullifier, proof);
    a refusal names the Solidity error on one line (exit 1), e.g. NullifierUsed for a second enrollment.
    Cost: about 258,000 gas.
    """
    from eth_utils.address import to_checksum_address

    from zkhealth.chain import client
    from zkhealth.eligibility import EligibilityProof

    proof = EligibilityProof.from_json(proof_path.read_bytes())
    trial_file = TrialFile.load(trial_path)
    if trial_file.enrollment is None:
        raise click.UsageError(f"{trial_path} is not deployed (run `zkhealth deploy {trial_path} --rpc URL`)")
    url = rpc or trial_file.enrollment.rpc
    if url is None:
        raise click.UsageError("give --rpc URL (the trial file records none)")
    w3 = connect_rpc(url, private_key_file)
    sender = to_checksum_address(f"0x{proof.recipient:040x}")
    contract = client.enrollment_at(w3, trial_file.enrollment.address)
    with timed_spinner(ctx, "sending enroll"):
        receipt = client.enroll(w3, contract, proof.proof, list(proof.public), sender=sender)
    emit(
        ctx,
        {
            "enrolled": True,
            "nullifier": str(proof.nullifier),
            "transaction": "0x" + bytes(receipt["transactionHash"]).hex(),
            "block": int(receipt["blockNumber"]),
            "gas_used": int(receipt["gasUsed"]),
        },
        f"enrolled: nullifier {proof.nullifier} in block {int(receipt['blockNumber'])} "
        f"({int(receipt['gasUsed']):,} gas)",
    )
