"""The patient's verbs: ``wallet init|import|list|remove``, ``prove`` (an eligibility proof from the wallet)
and ``enroll`` (send it to the trial's CohortEnrollment contract).

The wallet (:mod:`zkhealth.credentials.wallet`) is one encrypted file holding the holder secret and the
credentials. Its path comes from ``--wallet``, else ``$ZKHEALTH_WALLET``, else ``~/.zkhealth/wallet.zkw``.

``prove`` checks the criteria natively first: a patient who does not qualify is told the failing clause (exit 1)
and no proof is attempted. The proof file reveals only the five public signals (``zkhealth trial info`` lists
what each one says).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkhealth.cli._common import (
    F,
    command_seconds,
    connect_rpc,
    emit,
    kdf_option,
    kdf_params,
    load_trial_spec,
    note,
    parse_day,
    passphrase_file_option,
    private_key_option,
    read_document,
    read_passphrase,
    recipient_address,
    release_at_exit,
    status,
    timed_spinner,
    trial_keys_directory,
)

if TYPE_CHECKING:
    from zkhealth.credentials.wallet import Wallet

__all__ = ["DEFAULT_WALLET", "enroll_command", "prove_command", "wallet_group"]

#: Where the wallet lives when neither --wallet nor $ZKHEALTH_WALLET says otherwise.
DEFAULT_WALLET = Path("~/.zkhealth/wallet.zkw")


def _wallet_option() -> Callable[[F], F]:
    return click.option(
        "--wallet", "wallet_path", envvar="ZKHEALTH_WALLET", default=str(DEFAULT_WALLET), show_default=True,
        type=click.Path(dir_okay=False), help="The wallet file (also $ZKHEALTH_WALLET).",
    )


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _open_wallet(ctx: click.Context, wallet_path: str, passphrase_file: Path | None) -> Wallet:
    from zkhealth.credentials.wallet import Wallet

    path = _path(wallet_path)
    if not path.exists():
        raise click.UsageError(f"no wallet at {path}; create one with `zkhealth wallet init --wallet {path}`")
    passphrase = read_passphrase(passphrase_file, prompt="Wallet passphrase", confirm=False)
    with status(ctx, "unlocking the wallet (Argon2id)"):
        return Wallet.open(path, passphrase)


@contextlib.contextmanager
def _update_wallet(ctx: click.Context, wallet_path: str, passphrase_file: Path | None) -> Iterator[Wallet]:
    """Open the wallet under its lock for a change, saved when the block succeeds (two processes changing
    one wallet take turns: neither change is lost)."""
    from zkhealth.credentials.wallet import Wallet

    path = _path(wallet_path)
    if not path.exists():
        raise click.UsageError(f"no wallet at {path}; create one with `zkhealth wallet init --wallet {path}`")
    passphrase = read_passphrase(passphrase_file, prompt="Wallet passphrase", confirm=False)
    with status(ctx, "unlocking the wallet (Argon2id)"), Wallet.update(path, passphrase) as wallet:
        yield wallet


@click.group("wallet", short_help="The patient's encrypted wallet: init, import, list, remove.")
def wallet_group() -> None:
    """The patient's encrypted wallet: the holder secret and the credentials issued to it.

    The holder secret never leaves the wallet; issuers only ever see its commitment
    poseidon([holder_secret]), printed by `wallet init` and `wallet list`.
    """


@wallet_group.command("init", short_help="Create a wallet; print the holder commitment.")
@_wallet_option()
@passphrase_file_option()
@kdf_option()
@click.option("--force", is_flag=True, help="Replace an existing wallet (its secret and credentials are lost).")
@click.pass_context
def wallet_init(ctx: click.Context, wallet_path: str, passphrase_file: Path | None, kdf: str, force: bool) -> None:
    """Create a wallet with a fresh random holder secret; print the holder commitment for the issuer.

    The file is encrypted with Argon2id + XChaCha20-Poly1305; every header byte is authenticated. An
    existing wallet is never replaced without --force.
    """
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.wallet import Wallet

    path = _path(wallet_path)
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; pass --force to replace it (its secret would be lost)")
    passphrase = read_passphrase(passphrase_file, prompt="New wallet passphrase", confirm=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with status(ctx, "deriving the wallet key (Argon2id)"):
        wallet = Wallet.create(path, passphrase, kdf=kdf_params(kdf), overwrite=force)
    commitment = subject_commitment(wallet.holder_secret)
    emit(
        ctx,
        {"wallet": str(path), "holder_commitment": str(commitment)},
        f"created {path}\nholder commitment (give this to your issuer): {commitment}",
    )


def _credential_summary(document: dict[str, Any]) -> dict[str, Any]:
    """What `wallet list` shows of a stored credential, version 1 (claims) or version 2 (a record)."""
    subject = document.get("credentialSubject", {})
    subject = subject if isinstance(subject, dict) else {}
    identifier = str(document.get("id", ""))
    record = subject.get("record")
    summary: dict[str, Any] = {
        "id": identifier.rsplit(":", 1)[-1],
        "issuer": document.get("issuer"),
        "issued": str(document.get("validFrom", document.get("issuanceDate", "")))[:10],
        "expires": str(document.get("validUntil", document.get("expirationDate", "")))[:10],
        "schema": 2 if isinstance(record, dict) else 1,
    }
    if isinstance(record, dict):
        counts = {name: len(record.get(name) or []) for name in ("conditions", "medications", "procedures",
                                                                 "observations")}
        summary["record"] = {"birthDate": record.get("birthDate"), "complete": record.get("complete"), **counts}
    else:
        summary["claims"] = subject.get("claims", {})
    return summary


@wallet_group.command("import", short_help="Verify a credential and store it.")
@_wallet_option()
@click.argument("credential_path", metavar="CREDENTIAL", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--registry", "registry_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Also require the issuer to be in this issuer registry file.",
)
@click.option(
    "--trust", "trust_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Also require the issuer to be in the issuer registry of this trust-root file.",
)
@passphrase_file_option()
@click.pass_context
def wallet_import(
    ctx: click.Context,
    wallet_path: str,
    credential_path: Path,
    registry_path: Path | None,
    trust_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Verify a credential (VC JSON from `zkhealth issue`) and store it in the wallet.

    Refused (exit 1) when a signature does not verify, the credential is expired or not yet valid, it was
    issued to another holder commitment, or (with --registry or --trust) its issuer is not trusted: nothing that
    would break proving later is ever stored. Importing the same credential twice stores it once.
    """
    from zkhealth._json import load_file
    from zkhealth.credentials.trust import TrustedIssuers
    from zkhealth.credentials.trust_roots import TrustRootDocument
    from zkhealth.credentials.vc import parse_credential_id

    if registry_path is not None and trust_path is not None:
        raise click.UsageError("give --registry or --trust, not both")
    trusted: TrustedIssuers | None = None
    if registry_path is not None:
        trusted = TrustedIssuers.load(registry_path)
    elif trust_path is not None:
        trusted = TrustRootDocument.load(trust_path).issuers
    else:
        note("note: no --registry or --trust given; the issuer's signatures are checked, its trust is not")
    document = load_file(credential_path)
    with _update_wallet(ctx, wallet_path, passphrase_file) as wallet:
        added = wallet.add_credential(document, trusted_issuers=trusted)
    identifier = str(document.get("id", "")) if isinstance(document, dict) else ""
    credential_id = parse_credential_id(identifier) if identifier else 0
    emit(
        ctx,
        {
            "wallet": str(wallet.path),
            "credential_id": str(credential_id),
            "imported": added,
            "credentials": len(wallet.credentials),
        },
        f"{'imported into' if added else 'already in'} {wallet.path}: credential {credential_id}",
    )


@wallet_group.command("remove", short_help="Remove a credential from the wallet.")
@_wallet_option()
@click.argument("credential_id", metavar="ID")
@passphrase_file_option()
@click.pass_context
def wallet_remove(ctx: click.Context, wallet_path: str, credential_id: str, passphrase_file: Path | None) -> None:
    """Remove the credential ID (decimal, or urn:zkhealth:credential:ID, as `wallet list` shows it) from the
    wallet and save it. A credential the wallet does not hold is an error (exit 3) and nothing changes.
    """
    from zkhealth.credentials.vc import parse_credential_id
    from zkhealth.errors import WalletError

    wanted = parse_credential_id(credential_id)
    with _update_wallet(ctx, wallet_path, passphrase_file) as wallet:
        index = wallet.find_credential(wanted)
        if index is None:
            raise WalletError(f"{wallet.path} holds no credential {wanted}")
        wallet.remove_credential(index)
    emit(
        ctx,
        {"wallet": str(wallet.path), "removed": str(wanted), "credentials": len(wallet.credentials)},
        f"removed credential {wanted} from {wallet.path} ({len(wallet.credentials)} left)",
    )


@wallet_group.command("list", short_help="Show the holder commitment and the credentials.")
@_wallet_option()
@passphrase_file_option()
@click.pass_context
def wallet_list(ctx: click.Context, wallet_path: str, passphrase_file: Path | None) -> None:
    """Show the holder commitment and each stored credential (id, issuer, validity, claims)."""
    from zkhealth.credentials.credential import subject_commitment

    wallet = _open_wallet(ctx, wallet_path, passphrase_file)
    commitment = subject_commitment(wallet.holder_secret)
    summaries = [_credential_summary(item) for item in wallet.credentials if isinstance(item, dict)]
    lines = [f"wallet {wallet.path}", f"holder commitment {commitment}", f"{len(summaries)} credential(s)"]
    for number, summary in enumerate(summaries):
        head = (f"[{number}] {summary['id']}  issuer {summary['issuer']}  valid {summary['issued']} .. "
                f"{summary['expires']}")
        if summary["schema"] == 2:
            record = summary["record"]
            lines.append(f"{head}  born {record.get('birthDate', '?')}  record: {record['conditions']} conditions, "
                         f"{record['medications']} medications, {record['procedures']} procedures, "
                         f"{record['observations']} observations ({'complete' if record['complete'] else 'partial'})")
        else:
            claims = summary["claims"] if isinstance(summary["claims"], dict) else {}
            diagnoses = claims.get("diagnoses", [])
            codes = ", ".join(d.get("code", "?") for d in diagnoses if isinstance(d, dict)) or "none"
            lines.append(f"{head}  born {claims.get('birthDate', '?')}  diagnoses {codes}  (schema 1: re-issue as "
                         "schema 2 to prove with it)")
    emit(
        ctx,
        {"wallet": str(wallet.path), "holder_commitment": str(commitment), "credentials": summaries},
        "\n".join(lines),
    )


@click.command("prove", short_help="Prove eligibility for a trial from the wallet.")
@click.argument("trial_path", metavar="TRIAL.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_wallet_option()
@click.option(
    "--recipient", required=True, metavar="0xADDRESS",
    help="The address allowed to use the proof (the one that will send `enroll`; a fresh one is fine).",
)
@click.option(
    "--trust", "trust_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="The registry operator's trust-root file (default: the one the trial file names).",
)
@click.option(
    "--revocations", "revocations_paths", required=True, multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The issuer's revocation tree (SQLite) for the non-revocation proof. Repeatable (one per issuer).",
)
@click.option(
    "--person", "person_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="One-per-person trials: your membership in the person registry (`zkhealth registrar proof`).",
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
    trust_path: Path | None,
    revocations_paths: tuple[Path, ...],
    person_path: Path | None,
    today_text: str | None,
    keys_dir: Path | None,
    out: Path,
    passphrase_file: Path | None,
) -> None:
    """Prove that a credential in the wallet meets the trial's criteria; write the proof to --out.

    Uses the first stored version-2 credential that qualifies. Before any proving: a patient who does not qualify
    is refused with the failing clause (NotEligibleError, exit 1), and so are an expired or revoked credential, an
    issuer not in the registry, a holder not registered before a one-per-person trial opened, and a trust root
    verifiers no longer accept (StaleRootError). The proof is bound to --recipient and to the trial's scope (for a
    deployed trial: its contract and chain). Cost: about 4 s for a dedicated trial of 15,611 constraints on two
    quiet cores with gmpy2 (the command's wall time, keys loaded included; more on a busy machine), about 20 s for
    a universal trial.
    """
    from contextlib import ExitStack

    from zkhealth._json import loads_strict
    from zkhealth.cli.record_trials import is_record_trial_file, record_prove
    from zkhealth.credentials.dates import epoch_day_to_date
    from zkhealth.credentials.persons import PersonMembership
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.eligibility import prove

    release_at_exit()
    if is_record_trial_file(trial_path):
        from zkhealth.credentials.trust_roots import TrustRootDocument

        if trust_path is None:
            raise click.UsageError("a universal trial needs --trust trust.json (the operator's trust-root file)")
        person = (PersonMembership.from_dict(loads_strict(person_path.read_bytes(), what=str(person_path)))
                  if person_path is not None else None)
        record_prove(ctx, path=trial_path, wallet=_open_wallet(ctx, wallet_path, passphrase_file), recipient=recipient,
                     document=TrustRootDocument.load(trust_path), revocations_paths=revocations_paths, person=person,
                     today_text=today_text, out=out)
        return
    day = parse_day(today_text)
    address = recipient_address(recipient, what="--recipient")
    trial_file = load_trial_spec(trial_path)
    document = trial_file.trust_document(trust_path)
    person = None
    if person_path is not None:
        person = PersonMembership.from_dict(loads_strict(person_path.read_bytes(), what=str(person_path)))
    with timed_spinner(ctx, "loading the trial's keys"):
        trial_file.load_keys(trial_keys_directory(trial_file, keys_dir))
    release_at_exit(trial_file)  # its proving key: not freed one by one when the command returns
    wallet = _open_wallet(ctx, wallet_path, passphrase_file)
    with ExitStack() as stack:
        trees = [stack.enter_context(RevocationTree(path)) for path in revocations_paths]
        with timed_spinner(ctx, "checking the criteria, then proving"):
            proof = prove(
                trial_file.trial(), wallet, today=day, recipient=int(address, 16), issuers=document.issuers,
                revocations=trees, persons=person, person_root=document.person_registry_root,
                roots=document.history, scope=trial_file.scope,
            )
    proof.save(out)
    elapsed = command_seconds(ctx)
    proved_day = epoch_day_to_date(proof.today).isoformat()
    emit(
        ctx,
        {
            "out": str(out),
            "nullifier": str(proof.nullifier),
            "today": proved_day,
            "recipient": address,
            "scope": str(proof.scope),
            "trust_root": str(proof.trust_root),
            "seconds": round(elapsed, 2),
        },
        f"wrote {out} in {elapsed:.1f} s: eligible on {proved_day}, bound to {address}\n"
        f"nullifier {proof.nullifier} (the same for every proof you make for this trial)",
    )


@click.command("enroll", short_help="Enroll on-chain with a proof.")
@click.argument("trial_path", metavar="TRIAL.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--rpc", default=None, metavar="URL", help="JSON-RPC endpoint (default: the one in the trial file).")
@private_key_option(
    "Sign with the hex private key on this file's first line (default: the node's unlocked recipient account)."
)
@click.option("--purpose", "purposes", multiple=True,
              help="Registry trials: a purpose you consent to (repeatable; default trial-participation).")
@click.option("--expiry-day", type=click.IntRange(1, 2**32 - 1), default=None,
              help="Registry trials: the first epoch day your consent no longer holds (default: a year).")
@click.pass_context
def enroll_command(
    ctx: click.Context, trial_path: Path, proof_path: Path, rpc: str | None, private_key_file: Path | None,
    purposes: tuple[str, ...], expiry_day: int | None,
) -> None:
    """Send PROOF.json to the trial's CohortEnrollment contract, from the proof's recipient address.

    The contract checks everything again (scope, trust root and its freshness, today, recipient, window,
    capacity, nullifier, proof). The call is simulated first: a refusal names the Solidity error on one line
    (exit 1), e.g. NullifierUsed for a second enrollment or StaleRoot for a root superseded too long ago, and
    no transaction is sent. Cost: about 258,000 gas.

    A universal trial enrolls in its TrialRegistry with your consent terms (the trial's current consent document,
    --purpose, --expiry-day).
    """
    from zkhealth.chain import enrollment
    from zkhealth.cli.record_trials import is_record_trial_file, record_enroll
    from zkhealth.eligibility import EligibilityProof

    if is_record_trial_file(trial_path):
        record_enroll(ctx, path=trial_path, proof_path=proof_path, rpc=rpc, private_key_file=private_key_file,
                      purposes=purposes, expiry_day=expiry_day)
        return

    proof = EligibilityProof.load(proof_path)
    trial_file = load_trial_spec(trial_path)
    if trial_file.enrollment is None:
        raise click.UsageError(f"{trial_path} is not deployed (run `zkhealth deploy {trial_path} --rpc URL`)")
    url = rpc or trial_file.enrollment.rpc
    if url is None:
        raise click.UsageError("give --rpc URL (the trial file records none)")
    w3 = connect_rpc(url, private_key_file)
    contract = enrollment.cohort_enrollment_at(w3, trial_file.enrollment.address)
    with timed_spinner(ctx, "simulating, then sending enroll"):
        receipt = enrollment.enroll(w3, contract, proof)
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


# --------------------------------------------------------------------------- trials of the registry (the DAO)


@click.group("patient", short_help="Enroll with consent in a registry trial, withdraw, grant data access.")
def patient_group() -> None:
    """Patient in a trial of the TrialRegistry. Use a fresh address per trial: it receives the rewards and is
    public on-chain."""


def _registry_client(rpc: str, private_key_file: Path | None, registry: str) -> Any:
    from zkhealth.chain.registry import TrialRegistryClient

    return TrialRegistryClient(connect_rpc(rpc, private_key_file), registry)


@patient_group.command("enroll")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign with the hex private key on this file's first line (default: the proof's recipient).")
@click.option("--consent-hash", required=True, metavar="HEX", help="sha256 of the consent document you read.")
@click.option("--purpose", "purposes", multiple=True, required=True,
              help="A purpose you consent to (repeatable): trial-participation, data-analysis, ...")
@click.option("--expiry-day", required=True, type=int, help="First day (epoch day) the consent no longer holds.")
@click.argument("trial_id", type=int)
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("public_path", metavar="PUBLIC.json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def registry_enroll_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None,
                            consent_hash: str, purposes: tuple[str, ...], expiry_day: int, trial_id: int,
                            proof_path: Path, public_path: Path) -> None:
    """Enroll in TRIAL_ID with a universal eligibility proof (snarkjs PROOF.json and PUBLIC.json) and your
    consent terms. Simulated first: a refusal names the contract's error and sends nothing (exit 1). The
    enrollment reward, if the trial has one, arrives in the same transaction."""
    from zkhealth._json import loads_strict
    from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms
    from zkhealth.errors import MalformedProofError
    from zkhealth.formats.snarkjs_json import parse_public_signal, proof_from_dict

    unknown = [p for p in purposes if p not in CONSENT_PURPOSES]
    if unknown:
        raise click.UsageError(f"unknown purpose {unknown[0]!r}; choose from {', '.join(CONSENT_PURPOSES)}")
    try:
        document = bytes.fromhex(consent_hash.removeprefix("0x"))
    except ValueError:
        raise click.UsageError("--consent-hash must be 64 hex digits") from None
    proof = proof_from_dict(loads_strict(read_document(proof_path, "proof"), what=str(proof_path),
                                         error=MalformedProofError))
    raw = loads_strict(read_document(public_path, "public signals"), what=str(public_path), error=MalformedProofError)
    if not isinstance(raw, list):
        raise MalformedProofError(f"{public_path}: expected a JSON list of public signals")
    signals = [parse_public_signal(v, i) for i, v in enumerate(raw)]
    consent = ConsentTerms(document, sum(CONSENT_PURPOSES[p] for p in set(purposes)), expiry_day)
    receipt = _registry_client(rpc, private_key_file, registry).enroll(trial_id, proof, signals, consent)
    emit(ctx, {"enrolled": True, "nullifier": str(signals[0]), "block": int(receipt["blockNumber"]),
               "gas_used": int(receipt["gasUsed"])},
         f"enrolled in trial {trial_id}: nullifier {signals[0]} ({int(receipt['gasUsed']):,} gas)")


@patient_group.command("withdraw")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign with the hex private key on this file's first line (the address that enrolled).")
@click.option("--from", "sender", default=None, metavar="0xADDRESS", help="Send from this unlocked account.")
@click.argument("trial_id", type=int)
@click.argument("nullifier", type=int)
@click.pass_context
def registry_withdraw_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None,
                              sender: str | None, trial_id: int, nullifier: int) -> None:
    """Withdraw your consent now: you leave the active cohort, no further payouts or data use."""
    _registry_client(rpc, private_key_file, registry).withdraw(trial_id, nullifier, sender=sender)
    emit(ctx, {"withdrawn": True}, f"consent withdrawn from trial {trial_id}")


@patient_group.command("grant")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign with the hex private key on this file's first line (the address that enrolled).")
@click.option("--from", "sender", default=None, metavar="0xADDRESS", help="Send from this unlocked account.")
@click.option("--expiry-day", required=True, type=int, help="First day (epoch day) the grant no longer holds.")
@click.option("--uri", required=True, help="Where the trial will fetch the sealed extract.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the sealed extract (put it at --uri).")
@click.argument("trial_id", type=int)
@click.argument("nullifier", type=int)
@click.argument("extract", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def grant_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None, sender: str | None,
                  expiry_day: int, uri: str, out: Path, trial_id: int, nullifier: int, extract: Path) -> None:
    """Seal EXTRACT (e.g. a FHIR bundle) for the trial's data key and record a time-bound grant on-chain."""
    from zkhealth._fileio import atomic_write
    from zkhealth.chain.roles import Patient

    registry_client = _registry_client(rpc, private_key_file, registry)
    address = sender or str(registry_client.w3.eth.default_account)
    grant_id, sealed = Patient(registry_client, address).grant_access(
        trial_id, nullifier, read_document(extract, "extract"), expiry_day=expiry_day, uri=uri)
    atomic_write(out, sealed.sealed, mode=0o644)
    emit(ctx, {"grant": grant_id, "sha256": sealed.sha256.hex(), "out": str(out)},
         f"grant {grant_id} recorded (sha256 {sealed.sha256.hex()}); sealed extract in {out}")


@patient_group.command("revoke")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry.")
@private_key_option("Sign with the hex private key on this file's first line (the address that granted).")
@click.option("--from", "sender", default=None, metavar="0xADDRESS", help="Send from this unlocked account.")
@click.argument("grant_id", type=int)
@click.pass_context
def revoke_grant_command(ctx: click.Context, rpc: str, registry: str, private_key_file: Path | None,
                         sender: str | None, grant_id: int) -> None:
    """Revoke a data-access grant (later recorded uses are flagged by `zkhealth audit`)."""
    _registry_client(rpc, private_key_file, registry).revoke_access(grant_id, sender=sender)
    emit(ctx, {"revoked": grant_id}, f"grant {grant_id} revoked")
