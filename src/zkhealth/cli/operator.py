"""The registry operator's verbs: the issuer registry (``registry add|remove|apply|list|root|proof``) and the trust
root (``operator build-root|publish-root|current-root``).

The operator keeps the issuer registry file (leaf ``poseidon([Ax, Ay, revocation_root])`` per trusted issuer,
:class:`zkhealth.credentials.trust.TrustedIssuers`), applies each issuer's signed revocation root to it, folds it
with the registrar's person registry root into the trust root ``poseidon([issuer_registry_root,
person_registry_root])``, signs the trust-root file (Ed25519 over JCS, the operator's key) and publishes the root
to the contracts. Every contract call is simulated before it is sent.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zkhealth.cli._common import F, emit, note, passphrase_file_option, read_passphrase, status
from zkhealth.cli._dao import chain_options, open_chain, receipt_payload
from zkhealth.field import parse_field_element

__all__ = ["operator_group", "registry_group"]

_KEY_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


# --------------------------------------------------------------------------- the issuer registry


def _registry_option() -> Callable[[F], F]:
    return click.option(
        "--registry", "registry_path", default="registry.json", show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The issuer registry file (JSON, kept by the registry operator).",
    )


def _public_key_option() -> Callable[[F], F]:
    return click.option(
        "--public-key", "public_keys", nargs=2, multiple=True, metavar="AX AY",
        help="An issuer's Baby Jubjub public key as two decimals (instead of a key file). Repeatable.",
    )


def _load_registry(path: Path, *, create: bool = False) -> Any:
    from zkhealth.credentials.trust import TrustedIssuers

    if create and not path.exists():
        return TrustedIssuers()
    return TrustedIssuers.load(path)


def _gather_keys(key_files: tuple[Path, ...], public_keys: tuple[tuple[str, str], ...]) -> list[tuple[int, int]]:
    from zkhealth.credentials.keyfile import read_issuer_public_key

    keys = [read_issuer_public_key(path).public_key for path in key_files]
    for ax, ay in public_keys:
        keys.append((parse_field_element(ax, what="issuer key Ax"), parse_field_element(ay, what="issuer key Ay")))
    return keys


def _issuer_rows(registry: Any) -> list[dict[str, Any]]:
    return [{"index": e.index, "x": str(e.point[0]), "y": str(e.point[1]), "revocation_root": str(e.revocation_root),
             "revoked": e.revoked_count} for e in registry.issuers()]


@click.group("registry", short_help="The issuer registry: add, remove, apply, list, root, proof.")
def registry_group() -> None:
    """The issuer registry: a depth-5 quaternary Poseidon Merkle tree (1,024 slots) whose leaf per trusted issuer is
    poseidon([Ax, Ay, revocation_root]), its Baby Jubjub key and the root of its own revocation tree.

    A proof shows that the credential's issuer is in the tree, and that the credential is not revoked under that
    issuer's root, without saying which issuer it is. The operator applies each issuer's signed revocation root
    (`registry apply`), then rebuilds and signs the trust root (`operator build-root`). A version-1 registry file is
    read and converted (its issuers get the empty revocation root).
    """


@registry_group.command("add", short_help="Add issuers; print the new root.")
@_registry_option()
@click.argument("key_files", metavar="[KEY_FILE]...", nargs=-1, type=_KEY_FILE)
@_public_key_option()
@click.option("--revocation-root", default=None, metavar="DECIMAL",
              help="The issuers' current revocation root (default: the empty tree's; later roots come by "
              "`registry apply`).")
@click.pass_context
def registry_add(ctx: click.Context, registry_path: Path, key_files: tuple[Path, ...],
                 public_keys: tuple[tuple[str, str], ...], revocation_root: str | None) -> None:
    """Add issuers (key files from `zkhealth keygen`, or --public-key AX AY) and print the new root.

    Creates the registry file if it does not exist. Keys that are the identity or of small order are refused
    (they would verify forged signatures). Adding a registered key again keeps its slot.
    """
    if not key_files and not public_keys:
        raise click.UsageError("give at least one KEY_FILE or --public-key AX AY")
    registry = _load_registry(registry_path, create=True)
    root = None if revocation_root is None else parse_field_element(revocation_root, what="--revocation-root")
    slots = [(registry.add(key, root), key) for key in _gather_keys(key_files, public_keys)]
    registry.save(registry_path)
    emit(
        ctx,
        {"registry": str(registry_path), "added": [{"index": i, "x": str(x), "y": str(y)} for i, (x, y) in slots],
         "root": str(registry.root)},
        "\n".join([f"slot {index}: ({x}, {y})" for index, (x, y) in slots] + [f"root {registry.root}"]),
    )


@registry_group.command("remove", short_help="Withdraw issuers; print the new root.")
@_registry_option()
@click.argument("key_files", metavar="[KEY_FILE]...", nargs=-1, type=_KEY_FILE)
@_public_key_option()
@click.pass_context
def registry_remove(
    ctx: click.Context, registry_path: Path, key_files: tuple[Path, ...], public_keys: tuple[tuple[str, str], ...]
) -> None:
    """Withdraw issuers: their slots become empty leaves. Prints the new root (rebuild the trust root next).

    An issuer that is not registered is an error (UnknownIssuerError, exit 1) and nothing is changed.
    """
    if not key_files and not public_keys:
        raise click.UsageError("give at least one KEY_FILE or --public-key AX AY")
    registry = _load_registry(registry_path)
    keys = _gather_keys(key_files, public_keys)
    for key in keys:
        registry.entry(key)
    for key in keys:
        registry.remove(key)
    registry.save(registry_path)
    emit(
        ctx,
        {"registry": str(registry_path), "removed": [[str(x), str(y)] for x, y in keys], "root": str(registry.root)},
        f"removed {len(keys)} issuer(s); root {registry.root}",
    )


@registry_group.command("apply", short_help="Apply issuers' signed revocation roots.")
@_registry_option()
@click.argument("statements", metavar="STATEMENT.json...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def registry_apply(ctx: click.Context, registry_path: Path, statements: tuple[Path, ...]) -> None:
    """Apply revocation statements (from `zkhealth revoke --key --out`) to the issuer registry.

    Each is checked first: the signature under the issuer's registered Baby Jubjub key (exit 1 for a forgery or an
    unknown issuer), and that it is not older than the statement already applied (RollbackError, exit 1: an
    older root would un-revoke credentials). All or nothing: one refused statement changes nothing.
    """
    from zkhealth.credentials.trust import RevocationStatement

    registry = _load_registry(registry_path)
    changed = []
    for path in statements:
        statement = RevocationStatement.load(path)
        if registry.apply(statement):
            changed.append({"statement": str(path), "issuer": registry.entry(statement.issuer).index,
                            "revocation_root": str(statement.revocation_root),
                            "revoked": statement.revoked_count})
    registry.save(registry_path)
    lines = [f"issuer {c['issuer']}: revocation root {c['revocation_root']} ({c['revoked']} revoked)" for c in changed]
    lines.append(f"registry root {registry.root}" + ("" if changed else " (unchanged)"))
    if changed:
        lines.append("next: zkhealth operator build-root (then publish-root) so that proofs and contracts use it")
    emit(ctx, {"registry": str(registry_path), "applied": changed, "root": str(registry.root)}, "\n".join(lines))


@registry_group.command("list")
@_registry_option()
@click.pass_context
def registry_list(ctx: click.Context, registry_path: Path) -> None:
    """List the registered issuers (slot, Baby Jubjub key, revocation root) and the root."""
    registry = _load_registry(registry_path)
    rows = _issuer_rows(registry)
    lines = [f"slot {r['index']}: ({r['x']}, {r['y']}) revocation root {r['revocation_root']} ({r['revoked']} "
             "revoked)" for r in rows] or ["(no issuers)"]
    emit(ctx, {"registry": str(registry_path), "issuers": rows, "root": str(registry.root)},
         "\n".join([*lines, f"root {registry.root}"]))


@registry_group.command("root")
@_registry_option()
@click.pass_context
def registry_root(ctx: click.Context, registry_path: Path) -> None:
    """Print the issuer registry's root (the issuer half of the trust root)."""
    registry = _load_registry(registry_path)
    emit(ctx, {"registry": str(registry_path), "root": str(registry.root), "issuers": len(registry)},
         str(registry.root))


@registry_group.command("proof", short_help="Membership proof of one issuer.")
@_registry_option()
@click.argument("key_file", required=False, type=_KEY_FILE)
@_public_key_option()
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof here.")
@click.pass_context
def registry_proof(ctx: click.Context, registry_path: Path, key_file: Path | None,
                   public_keys: tuple[tuple[str, str], ...], out: Path | None) -> None:
    """Print one issuer's registry leaf proof (its revocation root, leaf, index and siblings) as JSON.

    The path is checked against the root before it is printed. An unregistered issuer is refused with
    UnknownIssuerError (exit 1).
    """
    import json

    from zkhealth.cli._common import write_json_file
    from zkhealth.credentials.trees import verify_merkle_proof

    keys = _gather_keys((key_file,) if key_file is not None else (), public_keys)
    if len(keys) != 1:
        raise click.UsageError("give exactly one KEY_FILE or one --public-key AX AY")
    registry = _load_registry(registry_path)
    membership = registry.membership(keys[0])
    verify_merkle_proof(registry.root, membership.proof, depth=registry.depth)
    payload = {"root": str(registry.root), "revocationRoot": str(membership.revocation_root),
               "proof": membership.proof.to_dict()}
    if out is not None:
        write_json_file(out, payload)
    emit(ctx, payload, json.dumps(payload, indent=2) if out is None else f"wrote {out} (slot {membership.proof.index})")


# --------------------------------------------------------------------------- the trust root


@click.group("operator", short_help="Build, sign and publish the trust root; deploy the TrialRegistry.")
def operator_group() -> None:
    """Registry operator: the trust root poseidon([issuer_registry_root, person_registry_root]), built from the
    issuer registry and the person registry, signed into the trust-root file and published to the contracts."""


@operator_group.command("build-root", short_help="Rebuild and sign the trust-root file.")
@_registry_option()
@click.option("--persons", "persons_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The registrar's person registry (SQLite); default: no person registry (its empty root).")
@click.option("--person-root", default=None, metavar="DECIMAL",
              help="The person registry's root as the registrar published it (instead of --persons).")
@click.option("--key", "key_path", required=True, type=_KEY_FILE,
              help="The operator's key file (`zkhealth keygen`): its Ed25519 key signs the trust-root file.")
@click.option("--out", "out", default="trust.json", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The trust-root file: read first (its history carries on), then replaced.")
@click.option("--keep-days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="How long superseded roots stay listed (longer than any trial's grace period).")
@passphrase_file_option()
@click.pass_context
def build_root_command(ctx: click.Context, registry_path: Path, persons_path: Path | None, person_root: str | None,
                       key_path: Path, out: Path, keep_days: int, passphrase_file: Path | None) -> None:
    """Fold the issuer registry and the person registry into the trust root and write the signed trust-root file.

    When --out exists, it must be signed by this operator; its current root becomes superseded now (listed with
    the time, so verifiers apply each trial's grace period) unless the root did not change. Send the root to the
    contracts next: `zkhealth operator publish-root --trust trust.json --rpc URL --enrollment ADDRESS`.
    """
    from zkhealth.credentials.keyfile import load_issuer
    from zkhealth.credentials.persons import PersonRegistry, empty_person_root
    from zkhealth.credentials.trust_roots import TrustRootDocument

    if persons_path is not None and person_root is not None:
        raise click.UsageError("give --persons or --person-root, not both")
    registry = _load_registry(registry_path)
    person = empty_person_root()
    if person_root is not None:
        person = parse_field_element(person_root, what="--person-root")
    elif persons_path is not None:
        with status(ctx, "opening the person registry (its root is recomputed)"), PersonRegistry(persons_path) as db:
            person = db.root
    passphrase = read_passphrase(passphrase_file, prompt="Operator key passphrase", confirm=False)
    with status(ctx, "unlocking the operator key"):
        operator = load_issuer(key_path, passphrase)
    did = TrustRootDocument.operator_did(operator.ed25519_public_key)
    previous = TrustRootDocument.load(out, operator=did) if out.exists() else None
    document = TrustRootDocument.build(registry, person, operator=did, previous=previous,
                                       keep_seconds=keep_days * 86_400)
    document.save(out, operator.sign_ed25519)
    changed = previous is None or previous.trust_root != document.trust_root
    emit(
        ctx,
        {"out": str(out), "trust_root": str(document.trust_root), "issuer_registry_root": str(registry.root),
         "person_registry_root": str(person), "operator": did, "sequence": document.sequence, "changed": changed,
         "superseded": [entry.to_dict() for entry in document.history.entries[1:]]},
        f"wrote {out} (sequence {document.sequence}, signed by {did})\n"
        f"trust root {document.trust_root}" + ("" if changed else " (unchanged)") + "\n"
        f"next: zkhealth operator publish-root --trust {out} --rpc URL --enrollment 0xADDRESS",
    )


@operator_group.command("publish-root", short_help="Send the trust root to the contracts.")
@chain_options
@click.option("--registry", "registries", multiple=True, metavar="0xADDRESS",
              help="A TrialRegistry to publish to (repeatable).")
@click.option("--enrollment", "enrollments", multiple=True, metavar="0xADDRESS",
              help="A per-trial CohortEnrollment to publish to (repeatable).")
@click.option("--trust", "trust_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Publish the current root of this trust-root file (instead of ROOT).")
@click.argument("root", required=False)
@click.pass_context
def publish_root_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                         registries: tuple[str, ...], enrollments: tuple[str, ...], trust_path: Path | None,
                         root: str | None) -> None:
    """Make the trust root (ROOT, a decimal, or --trust FILE's current root) current on each contract given. The
    previous root stays accepted for each trial's grace period, then reverts StaleRoot. Each call is simulated
    first: a refusal (NotPublisher unless the sender is the owner or an authorised publisher) sends nothing
    (exit 1)."""
    from zkhealth.chain import enrollment
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.credentials.trust_roots import TrustRootDocument

    if not registries and not enrollments:
        raise click.UsageError("give at least one --registry or --enrollment address")
    if (trust_path is None) == (root is None):
        raise click.UsageError("give ROOT or --trust FILE (one of them)")
    value = (TrustRootDocument.load(trust_path).trust_root if trust_path is not None
             else parse_field_element(root, what="ROOT"))
    w3, sender = open_chain(rpc, private_key_file, sender)
    published = []
    for address in registries:
        receipt = TrialRegistryClient(w3, address).publish_trust_root(value, sender=sender)
        published.append({"contract": address, **receipt_payload(receipt)})
    for address in enrollments:
        contract = enrollment.cohort_enrollment_at(w3, address)
        receipt = enrollment.publish_trust_root(w3, contract, value, sender=sender)
        published.append({"contract": address, **receipt_payload(receipt)})
    emit(ctx, {"root": str(value), "published": published},
         "\n".join(f"published {value} to {p['contract']} in block {p['block']}" for p in published))


@operator_group.command("deploy-registry", short_help="Deploy a TrialRegistry for the universal key set.")
@chain_options
@click.option("--owner", default=None, metavar="0xADDRESS",
              help="The registry's owner (the DAO's timelock in production; default: the sender).")
@click.option("--publisher", "publishers", multiple=True, metavar="0xADDRESS",
              help="An account allowed to publish trust roots (repeatable).")
@click.option("--creator", "creators", multiple=True, metavar="0xADDRESS",
              help="An account allowed to create trials (repeatable; none: anyone may).")
@click.option("--trust", "trust_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Also publish this trust-root file's current root (the sender must then be a publisher or owner).")
@click.pass_context
def deploy_registry_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                            owner: str | None, publishers: tuple[str, ...], creators: tuple[str, ...],
                            trust_path: Path | None) -> None:
    """Deploy one TrialRegistry with the universal circuit's pinned verifying key: every universal trial is then
    created in it with one transaction (`zkhealth deploy TRIAL.json --registry 0x...`), with no setup and no new
    verifier. The EVM checks the key at deployment. Cost: about 6 MGas, once."""
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.cli.record_trials import development_keys_notice
    from zkhealth.credentials.trust_roots import TrustRootDocument
    from zkhealth.eligibility.universal_keys import pinned_verifying_key

    document = TrustRootDocument.load(trust_path) if trust_path is not None else None
    w3, sender = open_chain(rpc, private_key_file, sender)
    account = sender or w3.eth.default_account or w3.eth.accounts[0]
    with development_keys_notice(ctx, "universal"):
        vk = pinned_verifying_key()
    registry = TrialRegistryClient.deploy(w3, vk, owner=owner or account, publishers=publishers,
                                          creators=creators, sender=sender)
    published = None
    if document is not None:
        published = receipt_payload(registry.publish_trust_root(document.trust_root, sender=sender))
    emit(
        ctx,
        {"registry": registry.address, "block": registry.deployed_block, "owner": owner or account,
         "verifying_key_sha256": vk.sha256(), "trust_root": None if document is None else str(document.trust_root),
         "published": published},
        f"deployed the TrialRegistry at {registry.address} (block {registry.deployed_block}, owner "
        f"{owner or account}, universal verifying key {vk.sha256()[:16]}...)"
        + (f"\npublished trust root {document.trust_root}" if document is not None else "")
        + f"\nnext: zkhealth deploy TRIAL.json --rpc {rpc} --registry {registry.address}",
    )


@operator_group.command("current-root")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", "registry", default=None, metavar="0xADDRESS", help="A TrialRegistry.")
@click.option("--enrollment", "enrollment_address", default=None, metavar="0xADDRESS", help="A CohortEnrollment.")
@click.pass_context
def current_root_command(ctx: click.Context, rpc: str, registry: str | None, enrollment_address: str | None) -> None:
    """Print the contract's current trust root and when it was published: what verifiers and provers should use,
    read from the chain rather than from a list kept by hand."""
    from zkhealth.chain import enrollment
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.cli._common import connect_rpc

    if (registry is None) == (enrollment_address is None):
        raise click.UsageError("give --registry or --enrollment (one of them)")
    w3 = connect_rpc(rpc)
    contract = (TrialRegistryClient(w3, registry).contract if registry is not None
                else enrollment.cohort_enrollment_at(w3, str(enrollment_address)))
    history = enrollment.root_history(w3, contract)
    published = history.entries[0].published_at
    when = _dt.datetime.fromtimestamp(published, _dt.UTC).isoformat(timespec="seconds")
    if published == 0:
        note("note: the contract reports no publication time for its current root")
    emit(ctx, {"root": str(history.current), "published_at": published},
         f"current trust root {history.current} (published {when})")
