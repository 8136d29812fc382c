"""Registry operator verbs: publish the trust root to the registry and to per-trial enrollment contracts."""

from __future__ import annotations

from pathlib import Path

import click

from zkhealth.cli._common import emit
from zkhealth.cli._dao import chain_options, open_chain, receipt_payload

__all__ = ["operator_group"]


@click.group("operator", short_help="Publish trust roots to the contracts.")
def operator_group() -> None:
    """Registry operator: publish the trust root poseidon([issuer_registry_root, person_registry_root])."""


@operator_group.command("publish-root")
@chain_options
@click.option("--registry", "registries", multiple=True, metavar="0xADDRESS",
              help="A TrialRegistry to publish to (repeatable).")
@click.option("--enrollment", "enrollments", multiple=True, metavar="0xADDRESS",
              help="A per-trial CohortEnrollmentV2 to publish to (repeatable).")
@click.argument("root", type=int)
@click.pass_context
def publish_root_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                         registries: tuple[str, ...], enrollments: tuple[str, ...], root: int) -> None:
    """Make ROOT (a decimal field element) the current trust root of each contract given. The previous root
    stays accepted for each trial's grace period. Refused (exit 1) unless the sender is the contract's owner or
    an authorised publisher."""
    from zkhealth.chain import enrollment
    from zkhealth.chain.registry import TrialRegistryClient

    if not registries and not enrollments:
        raise click.UsageError("give at least one --registry or --enrollment address")
    w3, sender = open_chain(rpc, private_key_file, sender)
    published = []
    for address in registries:
        receipt = TrialRegistryClient(w3, address).publish_trust_root(root, sender=sender)
        published.append({"contract": address, **receipt_payload(receipt)})
    for address in enrollments:
        contract = enrollment.cohort_enrollment_at(w3, address)
        receipt = enrollment.publish_trust_root(w3, contract, root, sender=sender)
        published.append({"contract": address, **receipt_payload(receipt)})
    emit(ctx, {"root": str(root), "published": published},
         "\n".join(f"published {root} to {p['contract']} in block {p['block']}" for p in published))


@operator_group.command("current-root")
@click.option("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain.")
@click.option("--registry", required=True, metavar="0xADDRESS", help="The TrialRegistry (or a CohortEnrollmentV2).")
@click.pass_context
def current_root_command(ctx: click.Context, rpc: str, registry: str) -> None:
    """Print the contract's current trust root and when it was published: what verifiers and provers should
    use, read from the chain rather than from a list kept by hand."""
    from zkhealth.chain.registry import TrialRegistryClient
    from zkhealth.cli._common import connect_rpc

    client_ = TrialRegistryClient(connect_rpc(rpc), registry)
    root = client_.current_trust_root()
    published, _ = client_.contract.functions.trustRootState(root).call()
    emit(ctx, {"root": str(root), "published_at": int(published)},
         f"current trust root {root} (published at unix time {int(published)})")
