"""The member's verbs of the ``zkhealth`` command on py-evm (the in-process chain stands behind ``--rpc``):
``member propose`` (any call of a DAO contract), ``member prove-vote`` (a real proof of the vote circuit from the
wallet's holder secret and the registrar's membership document; cast at once, or written and cast by
``member vote`` from another address), the refusals before proving (a second vote, a membership outside the
electorate, a wallet that is not the member, the vote over) and queue/execute changing the TrustDirectory.
The registry's universal key is a test trapdoor key: nobody enrolls here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import chain_testkeys as testkeys
import pytest

from zkhealth.chain import client, devchain
from zkhealth.chain.governance import ProposalState, deploy_dao
from zkhealth.cli import EXIT_MALFORMED, EXIT_OK, EXIT_REFUSED, run
from zkhealth.credentials.trees import QuaternaryMerkleTree
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.eligibility import vote
from zkhealth.errors import EncodingError, VoteError
from zkhealth.formats.zkhpk_file import save_proving_key
from zkhealth.hash.poseidon import poseidon

pytestmark = [pytest.mark.evm, pytest.mark.prove]

ISSUER_ROOT = 0x1551
DAY = 20_000
MEMBERS = (0x5EC1, 0x5EC2, 0x5EC3)
PASSPHRASE = "member passphrase"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = run(["--json", *argv])
    captured = capsys.readouterr()
    out = captured.out
    return code, json.loads(out) if out.strip().startswith("{") else out + captured.err


@pytest.mark.slow
def test_member_proposes_proves_votes_queues_and_executes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    monkeypatch.setattr(client, "connect", lambda url: w3)
    accounts = list(w3.eth.accounts)
    deployer, operator, proposer = accounts[:3]
    keys = vote.VoteKeys.setup()
    save_proving_key(keys.pk, tmp_path / "vote.zkhpk")
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(MEMBERS):
        people.set(index, vote.person_leaf(poseidon([secret]), DAY))
    for index, secret in enumerate(MEMBERS):
        (tmp_path / f"member{index}.json").write_text(vote.person_membership_to_json(DAY, people.proof(index)))
        Wallet.create(tmp_path / f"wallet{index}.zkw", PASSPHRASE, kdf=KDF_FLOOR, holder_secret=secret)
    outsiders = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    outsiders.set(0, vote.person_leaf(poseidon([0xBAD]), DAY))
    (tmp_path / "outsider.json").write_text(vote.person_membership_to_json(DAY, outsiders.proof(0)))
    Wallet.create(tmp_path / "outsider.zkw", PASSPHRASE, kdf=KDF_FLOOR, holder_secret=0xBAD)
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")

    dao = deploy_dao(w3, universal_vk=testkeys.TrapdoorKey.generate(6, seed=5).key(), vote_vk=keys.vk,
                     publishers=[operator], voting_period=10, quorum=2, timelock_delay=60, sender=deployer)
    dao.registry.publish_trust_root(vote.trust_root(ISSUER_ROOT, people.root), sender=operator)
    governor, directory = dao.governance.address, str(dao.directory.address)
    rpc = ["--rpc", "http://in-process.invalid"]

    code, _ = cli(capsys, "member", "propose", *rpc, "--from", proposer, "--governor", governor, "--description",
                  "x", "--out", str(tmp_path / "p.json"), "TrustDirectory", directory, "addIssuer", "1", "2")
    assert code == EXIT_MALFORMED  # addIssuer takes three arguments
    code, _ = cli(capsys, "member", "propose", *rpc, "--from", proposer, "--governor", governor, "--description",
                  "x", "--out", str(tmp_path / "p.json"), "TrustDirectory", directory, "setRegistrar", "0x12", "yes")
    assert code == EXIT_MALFORMED  # not an address, not a bool
    code, out = cli(capsys, "member", "propose", *rpc, "--from", proposer, "--governor", governor,
                    "--description", "Admit Hospital E", "--out", str(tmp_path / "proposal.json"),
                    "TrustDirectory", directory, "addIssuer", "21", "0x16", "Hospital E")
    assert code == EXIT_OK
    proposal_id = int(out["proposal_id"])
    assert int(out["proposal_scope"]) == dao.governance.proposal_scope(proposal_id)
    devchain.mine(w3, 2)
    assert dao.governance.state(proposal_id) is ProposalState.ACTIVE

    def prove_vote(index: int | str, *extra: str, choice: str = "for",
                   issuer_root: int = ISSUER_ROOT) -> tuple[int, Any]:
        membership = f"member{index}.json" if isinstance(index, int) else f"{index}.json"
        wallet = f"wallet{index}.zkw" if isinstance(index, int) else f"{index}.zkw"
        return cli(capsys, "member", "prove-vote", *rpc, "--governor", governor, "--choice", choice,
                   "--wallet", str(tmp_path / wallet), "--passphrase-file", str(tmp_path / "pass"),
                   "--membership", str(tmp_path / membership), "--issuer-root", str(issuer_root),
                   "--key", str(tmp_path / "vote.zkhpk"), *extra, str(proposal_id))

    # Member 0 proves and casts in one go, from an address of its own.
    code, out = prove_vote(0, "--cast", "--from", accounts[5], "--out", str(tmp_path / "ballot0.json"))
    assert code == EXIT_OK, out
    assert out["choice"] == 1 and out["gas_used"] <= 350_000
    assert dao.governance.nullifier_has_voted(proposal_id, int(out["nullifier"]))
    # Member 1 proves offline; anyone relays the ballot with `member vote`.
    code, out = prove_vote(1, "--out", str(tmp_path / "ballot1.json"), choice="abstain")
    assert code == EXIT_OK and "gas_used" not in out
    assert dao.governance.votes(proposal_id) == (0, 1, 0)
    code, out = cli(capsys, "member", "vote", *rpc, "--from", accounts[6], "--governor", governor,
                    str(proposal_id), str(tmp_path / "ballot1.json"))
    assert code == EXIT_OK and out["choice"] == 2
    assert dao.governance.votes(proposal_id) == (0, 1, 1)

    # Refusals, each before proving or sending.
    assert prove_vote(0, "--out", str(tmp_path / "again.json"), choice="against")[0] == EXIT_REFUSED  # voted
    assert not (tmp_path / "again.json").exists()
    assert prove_vote("outsider", "--out", str(tmp_path / "o.json"))[0] == EXIT_REFUSED  # not in the electorate
    assert prove_vote(2, "--out", str(tmp_path / "o.json"), issuer_root=ISSUER_ROOT + 1)[0] == EXIT_REFUSED
    (tmp_path / "wallet-mismatch.json").write_text((tmp_path / "member2.json").read_text())
    code, _ = cli(capsys, "member", "prove-vote", *rpc, "--governor", governor, "--choice", "for", "--wallet",
                  str(tmp_path / "outsider.zkw"), "--passphrase-file", str(tmp_path / "pass"), "--membership",
                  str(tmp_path / "member2.json"), "--issuer-root", str(ISSUER_ROOT), "--key",
                  str(tmp_path / "vote.zkhpk"), "--out", str(tmp_path / "o.json"), str(proposal_id))
    assert code == EXIT_REFUSED  # the wallet's secret is not the member's leaf
    assert not (tmp_path / "o.json").exists()
    broken = json.loads((tmp_path / "member2.json").read_text())
    broken["root"] = str(int(broken["root"]) ^ 1)
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    assert prove_vote("broken", "--out", str(tmp_path / "o.json"))[0] == EXIT_MALFORMED
    assert prove_vote(2)[0] == EXIT_MALFORMED  # neither --out nor --cast
    assert dao.governance.votes(proposal_id) == (0, 1, 1)

    devchain.mine(w3, 11)
    assert dao.governance.state(proposal_id) is ProposalState.SUCCEEDED
    assert prove_vote(2, "--out", str(tmp_path / "late.json"))[0] == EXIT_REFUSED  # the vote is over
    code, _ = cli(capsys, "member", "queue", *rpc, "--from", proposer, "--governor", governor,
                  str(tmp_path / "proposal.json"))
    assert code == EXIT_OK
    devchain.advance_time(w3, 61)
    code, _ = cli(capsys, "member", "execute", *rpc, "--from", proposer, "--governor", governor,
                  str(tmp_path / "proposal.json"))
    assert code == EXIT_OK
    assert dao.governance.state(proposal_id) is ProposalState.EXECUTED
    assert dao.directory.functions.isIssuer(dao.directory.functions.issuerKey(21, 0x16).call()).call()


def test_person_membership_documents_round_trip_and_refuse_tampering() -> None:
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    people.set(7, vote.person_leaf(poseidon([0x77]), DAY))
    text = vote.person_membership_to_json(DAY, people.proof(7))
    day, proof = vote.person_membership_from_json(text)
    assert day == DAY and proof == people.proof(7) and proof.compute_root() == people.root
    body = json.loads(text)
    for key, value in (("registeredDay", -1), ("registeredDay", 2**32), ("version", 2), ("format", "zkhealth.vote"),
                       ("root", str(people.root + 1)), ("extra", 1)):
        changed = {**body, key: value}
        with pytest.raises(EncodingError):
            vote.person_membership_from_json(json.dumps(changed))
    shallow = QuaternaryMerkleTree(5)
    shallow.set(0, 5)
    with pytest.raises(VoteError):
        vote.person_membership_to_json(DAY, shallow.proof(0))


def test_a_proving_key_of_another_circuit_is_refused() -> None:
    from zkhealth import groth16
    from zkhealth.circuit import Builder, compile

    def define(b: Builder) -> None:
        x, y, z = (b.public_input(name) for name in ("x", "y", "z"))
        b.output("w", b.mul(b.mul(x, y), z))

    compiled = compile(define, name="not-the-vote-circuit")
    pk, _ = groth16.setup(compiled.r1cs)
    assert pk.vk.n_public == len(vote.VOTE_PUBLIC_SIGNALS)  # same shape of public signals, another circuit
    with pytest.raises(VoteError):
        vote.VoteKeys.from_proving_key(pk)
