"""The patient's verbs: ``wallet init``, ``wallet import`` and ``wallet list``.

The wallet (:mod:`zkhealth.credentials.wallet`) is one encrypted file holding the holder secret and the
credentials. Its path comes from ``--wallet``, else ``$ZKHEALTH_WALLET``, else ``~/.zkhealth/wallet.zkw``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zkhealth.cli_common import F, emit, kdf_option, kdf_params, note, passphrase_file_option, read_passphrase, status
from zkhealth.errors import CredentialError

__all__ = ["DEFAULT_WALLET", "wallet_group"]

#: Where the wallet lives when neither --wallet nor $ZKHEALTH_WALLET says otherwise.
DEFAULT_WALLET = Path("~/.zkhealth/wallet.zkw")


def _wallet_option() -> Callable[[F], F]:
    return click.option(
        "--wallet", "wallet_path", envvar="ZKHEALTH_WALLET", default=str(DEFAULT_WALLET), show_default=True,
        type=click.Path(dir_okay=False), help="The wallet file (also $ZKHEALTH_WALLET).",
    )


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _open_wallet(ctx: click.Context, wallet_path: str, passphrase_file: Path | None) -> Any:
    from zkhealth.credentials.wallet import Wallet

    path = _path(wallet_path)
    if not path.exists():
        raise click.UsageError(f"no wallet at {path}; create one with `zkhealth wallet init --wallet {path}`")
    passphrase = read_passphrase(passphrase_file, prompt="Wallet passphrase", confirm=False)
    with status(ctx, "unlocking the wallet (Argon2id)"):
        return Wallet.open(path, passphrase)


@click.group("wallet", short_help="The patient's encrypted wallet: init, import, list.")
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
    subject = document.get("credentialSubject", {})
    claims = subject.get("claims", {}) if isinstance(subject, dict) else {}
    identifier = str(document.get("id", ""))
    return {
        "id": identifier.rsplit(":", 1)[-1],
        "issuer": document.get("issuer"),
        "issued": str(document.get("issuanceDate", ""))[:10],
        "expires": str(document.get("expirationDate", ""))[:10],
        "claims": claims,
    }


@wallet_group.command("import", short_help="Verify a credential and store it.")
@_wallet_option()
@click.argument("credential_path", metavar="CREDENTIAL", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--registry", "registry_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Also require the issuer to be in this trusted-issuer registry.",
)
@passphrase_file_option()
@click.pass_context
def wallet_import(
    ctx: click.Context,
    wallet_path: str,
    credential_path: Path,
    registry_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Verify a credential (VC JSON from `zkhealth issue`) and store it in the wallet.

    Refused (exit 1) when a signature does not verify, the credential is expired or not yet valid, it was
    issued to another holder commitment, or (with --registry) its issuer is not trusted. Importing the same
    credential twice stores it once.
    """
    from zkhealth._json import loads_strict
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.trees import IssuerRegistry
    from zkhealth.credentials.vc import parse_document, verify_credential
    from zkhealth.field import parse_field_element

    document = parse_document(loads_strict(credential_path.read_bytes()))
    trusted: Any
    if registry_path is not None:
        trusted = IssuerRegistry.from_json(registry_path.read_bytes())
    else:
        signature = document.get("babyJubjubSignature")
        key = signature.get("publicKey") if isinstance(signature, dict) else None
        if not isinstance(key, list) or len(key) != 2:
            raise CredentialError("the credential has no Baby Jubjub public key")
        trusted = [(parse_field_element(key[0], what="issuer Ax"), parse_field_element(key[1], what="issuer Ay"))]
        note("note: no --registry given; the issuer's signatures are checked, its trust is not")
    credential = verify_credential(document, trusted_issuers=trusted)
    wallet = _open_wallet(ctx, wallet_path, passphrase_file)
    if credential.subject_commitment != subject_commitment(wallet.holder_secret):
        raise CredentialError("the credential was issued to another holder commitment, not to this wallet")
    identifier = f"urn:zkhealth:credential:{credential.credential_id}"
    present = any(isinstance(item, dict) and item.get("id") == identifier for item in wallet.credentials)
    if not present:
        wallet.add_credential(document)
        wallet.save()
    emit(
        ctx,
        {
            "wallet": str(wallet.path),
            "credential_id": str(credential.credential_id),
            "imported": not present,
            "credentials": len(wallet.credentials),
        },
        f"{'already in' if present else 'imported into'} {wallet.path}: credential {credential.credential_id}",
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
        claims = summary["claims"] if isinstance(summary["claims"], dict) else {}
        diagnoses = claims.get("diagnoses", [])
        codes = ", ".join(d.get("code", "?") for d in diagnoses if isinstance(d, dict)) or "none"
        lines.append(
            f"[{number}] {summary['id']}  issuer {summary['issuer']}  valid {summary['issued']} .. "
            f"{summary['expires']}  born {claims.get('birthDate', '?')}  diagnoses {codes}"
        )
    emit(
        ctx,
        {"wallet": str(wallet.path), "holder_commitment": str(commitment), "credentials": summaries},
        "\n".join(lines),
    )
