"""The issuer's verbs: ``keygen``, ``issue`` and ``revoke`` (which also signs the new revocation root).

Each verb is a thin wrapper: :mod:`zkhealth.credentials` does the work, :mod:`zkhealth.credentials.keyfile`
holds the encrypted key file. Heavy modules (``fhir.resources``) are imported inside the verbs, so
``zkhealth --help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkhealth.cli._common import (
    emit,
    is_json,
    kdf_option,
    kdf_params,
    passphrase_file_option,
    read_passphrase,
    status,
    write_json_file,
)
from zkhealth.field import parse_field_element

if TYPE_CHECKING:
    from zkhealth.credentials.issuer import Issuer

__all__ = ["issue_command", "keygen_command", "revoke_command"]

_KEY_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _key_summary(public_key: tuple[int, int], ed25519_public_key: bytes, did: str) -> dict[str, Any]:
    from zkhealth.credentials.trust import empty_revocation_root, trusted_issuer_leaf

    return {
        "did": did,
        "babyjubjub_public_key": [str(public_key[0]), str(public_key[1])],
        "ed25519_public_key": ed25519_public_key.hex(),
        "registry_leaf": str(trusted_issuer_leaf(public_key, empty_revocation_root())),
    }


@click.command("keygen", short_help="Create an issuer's signing keys, encrypted in one file.")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the encrypted issuer key file (e.g. issuer.key).",
)
@passphrase_file_option()
@kdf_option()
@click.option("--force", is_flag=True, help="Replace an existing key file (the old keys are lost).")
@click.pass_context
def keygen_command(ctx: click.Context, out: Path, passphrase_file: Path | None, kdf: str, force: bool) -> None:
    """Create an issuer's signing keys and write them, encrypted, to --out.

    Two keys are generated: a Baby Jubjub key (EdDSA-Poseidon; signs what the eligibility circuit checks)
    and an Ed25519 key (signs the W3C VC envelope; its did:key names the issuer). The file is encrypted
    with Argon2id + XChaCha20-Poly1305 under a passphrase taken from --passphrase-file, $ZKHEALTH_PASSPHRASE
    or a prompt. Its public keys stay readable, so `zkhealth registry add issuer.key` needs no passphrase.
    """
    from zkhealth.credentials.keyfile import create_issuer_key_file

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to replace it (the old keys would be lost)")
    passphrase = read_passphrase(passphrase_file, prompt="New issuer key passphrase", confirm=True)
    with status(ctx, "deriving the file key (Argon2id)"):
        issuer = create_issuer_key_file(out, passphrase, kdf=kdf_params(kdf), overwrite=force)
    summary = _key_summary(issuer.public_key, issuer.ed25519_public_key, issuer.did)
    emit(
        ctx,
        {"key_file": str(out), **summary},
        f"wrote {out} (encrypted)\n"
        f"issuer:          {issuer.did}\n"
        f"baby jubjub key: ({summary['babyjubjub_public_key'][0]}, {summary['babyjubjub_public_key'][1]})\n"
        f"next: zkhealth registry add --registry registry.json {out}",
    )


@click.command("issue", short_help="Issue a signed credential from a FHIR export or a SMART Health Card.")
@click.option(
    "--fhir", "fhir_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The patient's FHIR R4 Bundle (JSON): a full EHR export, a document, or a collection.",
)
@click.option(
    "--shc", "shc_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A SMART Health Card: a .smart-health-card file, a compact JWS or shc:/ QR payload(s), one per line.",
)
@click.option(
    "--shc-trusted-issuers", "shc_trusted", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory of trusted card issuers' keys: <host>/<path>/.well-known/jwks.json per issuer URL.",
)
@click.option(
    "--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The issuer key file written by `zkhealth keygen`.",
)
@click.option(
    "--holder-commitment", required=True,
    help="The patient's commitment poseidon([holder_secret]), a decimal (shown by `zkhealth wallet init`).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed credential (W3C VC JSON).",
)
@passphrase_file_option()
@click.option("--issued-at", default=None, help="First valid day, YYYY-MM-DD (default: today, UTC).")
@click.option("--expires-at", default=None, help="First day NOT valid, YYYY-MM-DD (default: issued + validity).")
@click.option(
    "--validity-days", type=click.IntRange(min=1), default=365, show_default=True,
    help="Validity when --expires-at is not given.",
)
@click.option("--research-consent", is_flag=True, help="Record that the patient consented to research contact.")
@click.option("--strict", is_flag=True, help="Refuse the bundle if anything in it cannot be represented.")
@click.option(
    "--partial", is_flag=True,
    help="The bundle is not the patient's full record (default: documents and cards are partial, other bundles "
         "are full exports as of their timestamp).",
)
@click.option(
    "--complete", is_flag=True,
    help="Attest that the bundle is the patient's complete record: refuse it (exit 1) if anything criteria could "
         "name cannot be recorded, instead of issuing it as a partial record.",
)
@click.option("--as-of", default=None, help="The day the record is current as of, YYYY-MM-DD (default: the "
              "bundle's timestamp or a document's date, else its latest clinical date).")
@click.option(
    "--code-map", "--rxnorm-map", "code_map_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The issuer's code map (CSV: code,ingredients,atc[,icd10cm,icd10pcs,cvx]): the RxNorm ingredients and ATC "
         "codes of its exports' clinical drugs, and the ICD-10-CM, ICD-10-PCS, CVX or drug codes of the SNOMED CT "
         "concepts its exports use alone. Without a row, a drug coded only by a clinical-drug RxCUI, or a "
         "condition, admission reason, procedure, vaccine or allergy substance coded only in SNOMED CT, makes the "
         "record partial (or refused with --complete). --rxnorm-map is the same option.",
)
@click.option("--record", "whole_record", is_flag=True, hidden=True, help="Schema 2 (the default); kept for scripts.")
@click.option(
    "--allow-future-dates", is_flag=True,
    help="Accept a birth or clinical date after today (refused by default: FutureDateError, exit 1).",
)
@click.option(
    "--schema", "schema_version", type=click.Choice(["1", "2"]), default="2", show_default=True,
    help="Credential schema: 2 (the whole record, VC 2.0) or 1 (four diagnoses and three labs, for the "
         "version 1 wallet and circuits).",
)
@click.pass_context
def issue_command(
    ctx: click.Context,
    fhir_path: Path | None,
    shc_path: Path | None,
    shc_trusted: Path | None,
    key_path: Path,
    holder_commitment: str,
    out: Path,
    passphrase_file: Path | None,
    issued_at: str | None,
    expires_at: str | None,
    validity_days: int,
    research_consent: bool,
    strict: bool,
    partial: bool,
    complete: bool,
    as_of: str | None,
    code_map_path: Path | None,
    whole_record: bool,
    allow_future_dates: bool,
    schema_version: str,
) -> None:
    """Issue a signed health credential from a FHIR export or a SMART Health Card to the holder of
    --holder-commitment, and print the import summary.

    Schema 2 (the default) imports the whole record: conditions (ICD-10-CM, SNOMED CT, WHO ICD-10 codes that
    exist in ICD-10-CM), medications (RxNorm, ATC), procedures (SNOMED CT, ICD-10-PCS) and observations of the
    observation table (units converted, values rounded by stated rules). The summary counts, per resource
    kind, what was kept, mapped, listed as unmappable, excluded by rule or not imported; nothing is dropped
    silently, and --strict refuses a bundle with anything unmappable (exit 1). A card is verified against
    --shc-trusted-issuers (ES256, its kid, nbf/exp; no network) and imported as a partial record. A deceased
    patient is refused. The credential is bound to the patient's commitment, never to their secret.
    """
    from zkhealth.credentials import dates
    from zkhealth.credentials.keyfile import load_issuer

    if (fhir_path is None) == (shc_path is None):
        raise click.UsageError("give exactly one of --fhir BUNDLE or --shc CARD")
    if shc_path is not None and shc_trusted is None:
        raise click.UsageError("--shc needs --shc-trusted-issuers DIR (the issuers whose cards you accept)")
    if schema_version == "1" and (shc_path is not None or strict or partial or complete or as_of or whole_record
                                  or code_map_path is not None):
        raise click.UsageError("--shc, --strict, --partial, --complete, --as-of, --code-map and --record need "
                               "--schema 2")
    if partial and complete:
        raise click.UsageError("--partial and --complete contradict each other")
    if shc_path is not None and (partial or complete or as_of is not None):
        raise click.UsageError("a SMART Health Card is a partial record as of its issuance day: no --partial, "
                               "--complete or --as-of")
    commitment = parse_field_element(holder_commitment, what="--holder-commitment")
    passphrase = read_passphrase(passphrase_file, prompt="Issuer key passphrase", confirm=False)
    with status(ctx, "unlocking the issuer key"):
        issuer = load_issuer(key_path, passphrase)
    options: dict[str, Any] = {"validity_days": validity_days, "allow_future_dates": allow_future_dates}
    if issued_at is not None:
        options["issued_at"] = issued_at
    if expires_at is not None:
        options["expires_at"] = expires_at
    if schema_version == "1":
        _issue_v1(ctx, issuer, fhir_path, commitment, out, research_consent, options)
        return
    from zkhealth.credentials.code_map import read_code_map
    from zkhealth.credentials.ehr_import import ImportSummary, import_bundle, import_health_cards
    from zkhealth.errors import RecordImportError

    started = time.perf_counter()
    code_map = None if code_map_path is None else read_code_map(code_map_path)
    try:
        with status(ctx, "reading and importing the record"):
            if shc_path is not None and shc_trusted is not None:
                result = import_health_cards(shc_path, shc_trusted, strict=strict, research_consent=research_consent,
                                             code_map=code_map)
            else:
                result = import_bundle(fhir_path, strict=strict, research_consent=research_consent,
                                       complete=False if partial else True if complete else None,
                                       as_of=None if as_of is None else dates.parse_date(as_of),
                                       code_map=code_map)
    except RecordImportError as error:
        # Under --json the summary travels in the error object (one JSON document on stdout); in text, first.
        if isinstance(error.summary, ImportSummary) and not is_json(ctx):
            click.echo(error.summary.render())
        raise
    with status(ctx, "building the record's sets and signing"):
        issued = issuer.issue_record(result.record, subject_commitment=commitment, **options)
    seconds = time.perf_counter() - started
    write_json_file(out, issued.document)
    credential = issued.credential
    first_day = dates.epoch_day_to_date(credential.issued_at).isoformat()
    end_day = dates.epoch_day_to_date(credential.expires_at).isoformat()
    summary = result.summary
    emit(
        ctx,
        {
            "out": str(out),
            "schema_version": 2,
            "credential_id": str(credential.credential_id),
            "issuer": issuer.did,
            "subject_commitment": str(commitment),
            "issued_at": first_day,
            "expires_at": end_day,
            "import": summary.to_json(),
            "seconds": round(seconds, 3),
        },
        f"{summary.render()}\n"
        f"wrote {out}: credential {credential.credential_id} (schema 2) in {seconds:.1f} s\n"
        f"issuer {issuer.did}; valid from {first_day} until (not including) {end_day}",
    )


def _issue_v1(
    ctx: click.Context,
    issuer: Issuer,
    fhir_path: Path | None,
    commitment: int,
    out: Path,
    research_consent: bool,
    options: dict[str, Any],
) -> None:
    from zkhealth.credentials import dates

    with status(ctx, "reading the FHIR bundle and signing"):
        issued = issuer.issue_from_fhir(
            fhir_path, subject_commitment=commitment, research_consent=research_consent, **options
        )
    write_json_file(out, issued.document)
    credential = issued.credential
    first_day = dates.epoch_day_to_date(credential.issued_at).isoformat()
    end_day = dates.epoch_day_to_date(credential.expires_at).isoformat()
    codes = ", ".join(d.code for d in credential.claims.diagnoses) or "none"
    emit(
        ctx,
        {
            "out": str(out),
            "schema_version": 1,
            "credential_id": str(credential.credential_id),
            "issuer": issuer.did,
            "subject_commitment": str(commitment),
            "issued_at": first_day,
            "expires_at": end_day,
            "claims": credential.claims.to_json(),
        },
        f"wrote {out}: credential {credential.credential_id}\n"
        f"issuer {issuer.did}; valid from {first_day} until (not including) {end_day}; diagnoses: {codes}",
    )


@click.command("revoke", short_help="Revoke credentials; publish the signed revocation root.")
@click.option(
    "--db", "db_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The issuer's revocation tree (SQLite; created if missing).",
)
@click.argument("credential_ids", metavar="[ID]...", nargs=-1)
@click.option(
    "--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="The issuer key file: sign the new revocation root for the registry operator (with --out).",
)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="With --key: where to write the signed revocation root (send it to the registry operator).",
)
@click.option("--verify", "full_check", is_flag=True, help="First recompute every hash of the tree from its leaves.")
@passphrase_file_option()
@click.pass_context
def revoke_command(ctx: click.Context, db_path: Path, credential_ids: tuple[str, ...], key_path: Path | None,
                   out: Path | None, full_check: bool, passphrase_file: Path | None) -> None:
    """Revoke credentials by ID (decimal, or urn:zkhealth:credential:ID) and print the new revocation root.

    Revoking an ID twice changes nothing. Without IDs, print the current root and the number of revoked
    credentials. The tree is an indexed Merkle tree of depth 16 kept in SQLite; every change is one transaction,
    and concurrent runs take turns. The file is checked when opened (checksum, sorted list, root): a damaged one
    exits 2 and nothing is served.

    A revocation takes effect for proofs once the registry operator has applied it: with --key and --out the
    issuer signs its new root (its Baby Jubjub key, the one the registry holds) into a statement the operator
    applies with `zkhealth registry apply` before rebuilding the trust root (`zkhealth operator build-root`).
    """
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.vc import parse_credential_id

    if (key_path is None) != (out is None):
        raise click.UsageError("--key and --out go together (sign the revocation root and write it)")
    ids = list(dict.fromkeys(parse_credential_id(text) for text in credential_ids))
    issuer = None
    if key_path is not None:
        from zkhealth.credentials.keyfile import load_issuer

        passphrase = read_passphrase(passphrase_file, prompt="Issuer key passphrase", confirm=False)
        with status(ctx, "unlocking the issuer key"):
            issuer = load_issuer(key_path, passphrase)
    tree = RevocationTree(db_path)
    try:
        if full_check:
            with status(ctx, "recomputing every hash of the revocation tree"):
                tree.verify(full=True)
        with status(ctx, f"revoking {len(ids)} credential(s)"):
            newly = [credential_id for credential_id in ids if not tree.is_revoked(credential_id)]
            tree.revoke_many(ids)
        root = tree.root
        total = len(tree)
        statement = None
        if issuer is not None and out is not None:
            issuer.revocation = tree
            statement = issuer.revocation_statement()
            write_json_file(out, statement.to_dict())
    finally:
        tree.close()
    already = [credential_id for credential_id in ids if credential_id not in newly]
    lines = [f"revoked {credential_id}" for credential_id in newly]
    lines += [f"already revoked {credential_id}" for credential_id in already]
    lines.append(f"revocation root {root} ({total} revoked)")
    if statement is not None:
        lines.append(f"signed revocation root written to {out}: send it to the registry operator "
                     "(zkhealth registry apply)")
    emit(
        ctx,
        {
            "db": str(db_path),
            "revoked": [str(v) for v in newly],
            "already_revoked": [str(v) for v in already],
            "root": str(root),
            "revoked_count": total,
            "statement": None if statement is None else str(out),
        },
        "\n".join(lines),
    )
