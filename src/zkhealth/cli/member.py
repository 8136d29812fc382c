"""Member verbs: propose, vote anonymously, queue and execute DAO proposals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkhealth.cli._common import emit, read_document
from zkhealth.cli._dao import chain_options, open_chain, receipt_payload

if TYPE_CHECKING:
    from zkhealth.chain.governance import Governance

__all__ = ["member_group"]


def _governance(w3: Any, governor: str) -> Governance:
    """The governor at ``governor`` and its timelock (read from the governor)."""
    from eth_utils.address import to_checksum_address

    from zkhealth.chain.build import load_artifact
    from zkhealth.chain.governance import Governance

    address = to_checksum_address(governor)
    probe = w3.eth.contract(address=address, abi=load_artifact("ZkHealthGovernor")["abi"])
    return Governance(w3, address, str(probe.functions.timelock().call()))


@click.group("member", short_help="Propose, prove and cast anonymous votes, queue and execute.")
def member_group() -> None:
    """Member of the person registry: one person, one anonymous vote per proposal."""


@member_group.command("propose-issuer")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.option("--directory", required=True, metavar="0xADDRESS", help="The TrustDirectory.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the proposal file (queue and execute read it).")
@click.argument("ax", type=int)
@click.argument("ay", type=int)
@click.argument("label")
@click.pass_context
def propose_issuer_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                           governor: str, directory: str, out: Path, ax: int, ay: int, label: str) -> None:
    """Propose to admit the issuer with Baby Jubjub key (AX, AY) to the TrustDirectory."""
    from eth_utils.address import to_checksum_address

    from zkhealth._fileio import atomic_write
    from zkhealth.chain.build import load_artifact
    from zkhealth.chain.governance import Action

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    contract = w3.eth.contract(address=to_checksum_address(directory), abi=load_artifact("TrustDirectory")["abi"])
    proposal = g.propose([Action.call(contract, "addIssuer", ax, ay, label)], f"Admit issuer {label}", sender=sender)
    atomic_write(out, proposal.to_json().encode("utf-8"), mode=0o644)
    scope = g.proposal_scope(proposal.proposal_id)
    emit(ctx, {"proposal_id": str(proposal.proposal_id), "proposal_scope": str(scope)},
         f"proposal {proposal.proposal_id} written to {out}; votes prove for scope {scope}")


#: The DAO's contracts a proposal may call (their artifacts give the functions and argument types).
_PROPOSAL_TARGETS = ("TrialRegistry", "TrustDirectory", "ZkHealthGovernor", "ZkHealthTimelock")


def _abi_argument(kind: str, text: str, position: int) -> Any:
    """One command-line argument as the ABI type ``kind`` wants it (scalar types only)."""
    from eth_utils.address import is_address, to_checksum_address

    what = f"argument {position} ({kind})"
    try:
        if kind.startswith(("uint", "int")):
            value = int(text, 0)
            bits = int(kind.lstrip("uint") or 256)
            low, high = (0, 2**bits) if kind.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1))
            if not low <= value < high:
                raise click.BadParameter(f"{what}: {text} is out of range")
            return value
        if kind == "address":
            if not is_address(text):
                raise click.BadParameter(f"{what}: {text} is not an address")
            return to_checksum_address(text)
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise click.BadParameter(f"{what}: expected true or false")
            return text.lower() == "true"
        if kind == "string":
            return text
        if kind.startswith("bytes") and kind != "bytes" and "[" not in kind:
            raw = bytes.fromhex(text.removeprefix("0x"))
            if len(raw) != int(kind[5:]):
                raise click.BadParameter(f"{what}: expected {kind[5:]} bytes in hex")
            return raw
    except ValueError as exc:
        raise click.BadParameter(f"{what}: {text!r} is not a valid {kind}") from exc
    raise click.BadParameter(f"{what}: the command line cannot pass a {kind}; use the Python API "
                             "(zkhealth.chain.governance.Action)")


@member_group.command("propose", short_help="Propose any call of a DAO contract (one action).")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.option("--description", required=True, help="What the proposal does (its text is part of its id).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the proposal file (queue and execute read it).")
@click.argument("contract", type=click.Choice(_PROPOSAL_TARGETS))
@click.argument("address", metavar="0xADDRESS")
@click.argument("function")
@click.argument("arguments", nargs=-1)
@click.pass_context
def propose_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                    governor: str, description: str, out: Path, contract: str, address: str, function: str,
                    arguments: tuple[str, ...]) -> None:
    """Propose that the timelock call FUNCTION(ARGUMENTS...) of CONTRACT at ADDRESS, e.g. `TrustDirectory
    0x... removeIssuer AX AY`, `TrustDirectory 0x... setRegistrar 0x... true`, `TrialRegistry 0x...
    setPublisher 0x... false`, `ZkHealthGovernor 0x... setQuorum 3`. Arguments are converted by the function's
    ABI types (integers in decimal or 0x hex, addresses, true/false, hex for bytesN, text for strings)."""
    from eth_utils.address import is_address, to_checksum_address

    from zkhealth._fileio import atomic_write
    from zkhealth.chain.build import load_artifact
    from zkhealth.chain.governance import Action

    if not is_address(address):
        raise click.BadParameter(f"{address} is not an address", param_hint="ADDRESS")
    abi = load_artifact(contract)["abi"]
    candidates = [item for item in abi if item.get("type") == "function" and item.get("name") == function
                  and item.get("stateMutability") not in ("view", "pure")
                  and len(item.get("inputs", ())) == len(arguments)]
    if len(candidates) != 1:
        names = sorted({item["name"] for item in abi if item.get("type") == "function"
                        and item.get("stateMutability") not in ("view", "pure")})
        raise click.BadParameter(f"{contract} has no state-changing function {function} taking "
                                 f"{len(arguments)} arguments; its functions: {', '.join(names)}",
                                 param_hint="FUNCTION")
    values = [_abi_argument(str(spec["type"]), text, position)
              for position, (spec, text) in enumerate(zip(candidates[0]["inputs"], arguments, strict=True), 1)]
    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    target = w3.eth.contract(address=to_checksum_address(address), abi=abi)
    proposal = g.propose([Action.call(target, function, *values)], description, sender=sender)
    atomic_write(out, proposal.to_json().encode("utf-8"), mode=0o644)
    scope = g.proposal_scope(proposal.proposal_id)
    emit(ctx, {"proposal_id": str(proposal.proposal_id), "proposal_scope": str(scope), "proposal_file": str(out)},
         f"proposal {proposal.proposal_id} written to {out}; votes prove for scope {scope}")


@member_group.command("prove-vote", short_help="Prove your anonymous vote on a proposal; optionally cast it.")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.option("--choice", required=True, type=click.Choice(["for", "against", "abstain"]), help="Your vote.")
@click.option(
    "--wallet", "wallet_path", envvar="ZKHEALTH_WALLET", default="~/.zkhealth/wallet.zkw", show_default=True,
    type=click.Path(dir_okay=False), help="The wallet holding your holder secret (also $ZKHEALTH_WALLET).",
)
@click.option(
    "--passphrase-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Read the wallet passphrase from the first line of this file (else $ZKHEALTH_PASSPHRASE, else a prompt).",
)
@click.option(
    "--membership", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your person-registry membership from the registrar (zkhealth.person-membership JSON).",
)
@click.option("--issuer-root", "issuer_root", required=True, metavar="DECIMAL",
              help="The issuer registry root the proposal's trust root was built from.")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The DAO's vote proving key (ours or a snarkjs .zkey).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ballot here (a zkhealth.vote file that `member vote` or anyone can cast).")
@click.option("--cast", is_flag=True, help="Also cast the ballot now, from --private-key-file/--from.")
@click.argument("proposal_id", type=int)
@click.pass_context
def prove_vote_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                       governor: str, choice: str, wallet_path: str, passphrase_file: Path | None,
                       membership: Path, issuer_root: str, key_path: Path, out: Path | None, cast: bool,
                       proposal_id: int) -> None:
    """Prove an anonymous vote on PROPOSAL_ID with the holder secret of your wallet: the proof shows that your
    holder commitment is in the person registry of the proposal's electorate, binds your choice, and carries
    the nullifier poseidon([holder_secret, proposal scope]), so you vote once per proposal. Checks first that
    the vote is open, that your membership and --issuer-root make the proposal's trust root, and that you have
    not voted yet. Nothing is sent unless --cast: write the ballot with --out and cast it with `member vote`
    from a fresh address (the sender of a vote is public; the governor ignores who it is)."""
    from zkhealth._fileio import atomic_write
    from zkhealth.cli._common import read_document, read_passphrase, status
    from zkhealth.credentials.wallet import Wallet
    from zkhealth.eligibility.vote import CHOICES, VoteKeys, person_membership_from_json
    from zkhealth.field import parse_field_element
    from zkhealth.formats.zkhpk_file import load_proving_key

    if out is None and not cast:
        raise click.UsageError("nothing to do: give --out FILE to write the ballot, --cast to send it, or both")
    registered_day, person_proof = person_membership_from_json(read_document(membership, "person membership"))
    root = parse_field_element(issuer_root, what="--issuer-root")
    wallet_file = Path(wallet_path).expanduser()
    if not wallet_file.is_file():
        raise click.UsageError(f"no wallet at {wallet_file}")
    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    passphrase = read_passphrase(passphrase_file, prompt="Wallet passphrase", confirm=False)
    with status(ctx, "unlocking the wallet (Argon2id)"):
        secret = Wallet.open(wallet_file, passphrase).holder_secret
    keys = VoteKeys.from_proving_key(load_proving_key(key_path))
    with status(ctx, "proving the vote"):
        ballot = g.prove_ballot(keys, proposal_id, holder_secret=secret, registered_day=registered_day,
                                person_proof=person_proof, issuer_registry_root=root, choice=CHOICES[choice])
    payload: dict[str, Any] = {"proposal_id": str(proposal_id), "nullifier": str(ballot.nullifier),
                               "choice": ballot.choice}
    lines = [f"proved a vote {choice} on {proposal_id} (nullifier {ballot.nullifier})"]
    if out is not None:
        atomic_write(out, ballot.to_json().encode("utf-8"), mode=0o644)
        payload["ballot"] = str(out)
        lines.append(f"ballot written to {out}")
    if cast:
        receipt = g.vote(proposal_id, ballot, sender=sender)
        payload.update(receipt_payload(receipt))
        lines.append(f"cast in block {int(receipt['blockNumber'])} ({int(receipt['gasUsed']):,} gas)")
    emit(ctx, payload, "; ".join(lines))


@member_group.command("vote")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_id", type=int)
@click.argument("ballot", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def vote_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                 governor: str, proposal_id: int, ballot: Path) -> None:
    """Cast the anonymous vote in BALLOT (a zkhealth.vote file: the proof and its four public signals; the
    choice is the proof's). Send it from a fresh address: the governor ignores who sends it."""
    from zkhealth.eligibility.vote import VoteProof

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    vote = VoteProof.from_json(read_document(ballot, "ballot"))
    receipt = g.vote(proposal_id, vote, sender=sender)
    emit(ctx, {**receipt_payload(receipt), "nullifier": str(vote.nullifier), "choice": vote.choice},
         f"voted {('against', 'for', 'abstain')[vote.choice]} on {proposal_id} ({int(receipt['gasUsed']):,} gas)")


@member_group.command("queue")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def queue_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                  governor: str, proposal_file: Path) -> None:
    """Queue a succeeded proposal in the timelock."""
    from zkhealth.chain.governance import Proposal

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    receipt = g.queue(Proposal.from_json(read_document(proposal_file, "proposal")), sender=sender)
    emit(ctx, receipt_payload(receipt), f"queued in block {int(receipt['blockNumber'])}")


@member_group.command("execute")
@chain_options
@click.option("--governor", required=True, metavar="0xADDRESS", help="The ZkHealthGovernor.")
@click.argument("proposal_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def execute_command(ctx: click.Context, rpc: str, private_key_file: Path | None, sender: str | None,
                    governor: str, proposal_file: Path) -> None:
    """Execute a queued proposal once the timelock's delay has passed."""
    from zkhealth.chain.governance import Proposal

    w3, sender = open_chain(rpc, private_key_file, sender)
    g = _governance(w3, governor)
    receipt = g.execute(Proposal.from_json(read_document(proposal_file, "proposal")), sender=sender)
    emit(ctx, receipt_payload(receipt), f"executed in block {int(receipt['blockNumber'])}")
