"""The DAO verbs of the ``zkhealth`` command against anvil (127.0.0.1, started and stopped here): the operator
publishes a root, the sponsor funds, a patient enrolls with consent (a REAL stand-in universal proof written as
snarkjs files), the recruiter lists the cohort and pays a milestone, a grant is opened and then refused after
revocation, members vote on a proposal that executes, and ``zkhealth audit`` flags the late grant use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chain_standins as standins
import pytest

from zkhealth.chain import client, devchain
from zkhealth.chain.anvil import AnvilNode, find_anvil
from zkhealth.chain.governance import deploy_dao
from zkhealth.chain.grants import DataKeyPair
from zkhealth.chain.registry import RewardTerms, TrialTerms, deploy_reward_token
from zkhealth.cli import run
from zkhealth.credentials.trees import QuaternaryMerkleTree
from zkhealth.eligibility import vote
from zkhealth.formats.snarkjs_json import proof_to_dict
from zkhealth.hash.poseidon import poseidon

pytestmark = [
    pytest.mark.evm,
    pytest.mark.prove,
    pytest.mark.slow,
    pytest.mark.external,
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in verifier_contracts/)"),
]

DAY = 86400
ISSUER_ROOT = 0x1551
CONSENT = bytes.fromhex("ab" * 32)


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    anvil = AnvilNode()
    try:
        anvil.start()
        yield anvil
    finally:
        anvil.stop()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = run(["--json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out


def test_dao_verbs_on_anvil(node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w3 = client.connect(node.url)
    accounts = list(w3.eth.accounts)
    deployer, operator, recruiter, sponsor, patient = accounts[:5]
    universal = standins.universal_standin()
    keys = vote.VoteKeys.setup()
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    members = (0x71, 0x72)
    for index, secret in enumerate(members):
        people.set(index, vote.person_leaf(poseidon([secret]), 20_000))
    root = vote.trust_root(ISSUER_ROOT, people.root)
    dao = deploy_dao(w3, universal_vk=universal.vk, vote_vk=keys.vk, publishers=[operator], creators=[recruiter],
                     voting_period=10, timelock_delay=60, sender=deployer)
    registry = dao.registry.address
    rpc = ["--rpc", node.url]

    code, _ = cli(capsys, "operator", "publish-root", *rpc, "--from", recruiter, "--registry", registry, str(root))
    assert code == 1  # not a publisher: refused
    code, out = cli(capsys, "operator", "publish-root", *rpc, "--from", operator, "--registry", registry, str(root))
    assert code == 0 and out["root"] == str(root)
    code, out = cli(capsys, "operator", "current-root", *rpc, "--registry", registry)
    assert code == 0 and out["root"] == str(root) and out["published_at"] > 0

    token = deploy_reward_token(w3, "Reward", "RWD", owner=deployer, sender=deployer)
    client.transact(w3, token.functions.mint(sponsor, 10**21), sender=deployer)
    data_keys = DataKeyPair.generate()
    program = [3, 1, 4, 1]
    now = int(w3.eth.get_block("latest")["timestamp"])
    trial = dao.registry.create_trial(TrialTerms(
        program_hash=standins.program_hash(program), consent_hash=CONSENT, window=(now - 60, now + 30 * DAY),
        capacity=5, owner=recruiter, rewards=RewardTerms(token.address, sponsor, 10**18, (2 * 10**18,)),
        data_key=data_keys.public_key), sender=recruiter)
    tid = str(trial.trial_id)
    code, _ = cli(capsys, "sponsor", "fund", *rpc, "--from", sponsor, "--registry", registry, tid, str(10 * 10**18))
    assert code == 0

    proof, signals = universal.prove(standins.universal_inputs(
        secret=0x99, program=program, scope=trial.scope, today=now // DAY, issuer_root=ISSUER_ROOT,
        person_root=people.root, recipient=patient))
    (tmp_path / "proof.json").write_text(json.dumps(proof_to_dict(proof)))
    (tmp_path / "public.json").write_text(json.dumps([str(s) for s in signals]))
    enroll = ["patient", "enroll", *rpc, "--registry", registry, "--consent-hash", CONSENT.hex(),
              "--purpose", "trial-participation", "--expiry-day", str(now // DAY + 60), tid,
              str(tmp_path / "proof.json"), str(tmp_path / "public.json")]
    code, out = cli(capsys, *enroll)
    assert code == 0 and out["gas_used"] <= 320_000
    code, _ = cli(capsys, *enroll)
    assert code == 1  # NullifierUsed, refused before sending
    assert int(token.functions.balanceOf(patient).call()) == 10**18
    nullifier = str(signals[0])
    code, out = cli(capsys, "recruiter", "cohort", *rpc, "--registry", registry, tid)
    assert [row["status"] for row in out["cohort"]] == ["active"]
    code, _ = cli(capsys, "recruiter", "payout", *rpc, "--from", recruiter, "--registry", registry, tid, nullifier, "1")
    assert code == 0
    code, _ = cli(capsys, "recruiter", "payout", *rpc, "--from", recruiter, "--registry", registry, tid, nullifier, "1")
    assert code == 1  # AlreadyPaid

    (tmp_path / "bundle.json").write_text('{"resourceType": "Bundle"}')
    code, out = cli(capsys, "patient", "grant", *rpc, "--from", patient, "--registry", registry,
                    "--expiry-day", str(now // DAY + 10), "--uri", "file:///sealed.bin",
                    "--out", str(tmp_path / "sealed.bin"), tid, nullifier, str(tmp_path / "bundle.json"))
    assert code == 0
    grant = str(out["grant"])
    (tmp_path / "data.key").write_text(data_keys.private_key.hex() + "\n")
    open_grant = ["recruiter", "open-grant", *rpc, "--from", recruiter, "--registry", registry, "--data-key-file",
                  str(tmp_path / "data.key"), "--out", str(tmp_path / "opened.json"), grant,
                  str(tmp_path / "sealed.bin")]
    code, _ = cli(capsys, *open_grant)
    assert code == 0 and (tmp_path / "opened.json").read_text() == '{"resourceType": "Bundle"}'
    code, _ = cli(capsys, "patient", "revoke", *rpc, "--from", patient, "--registry", registry, grant)
    assert code == 0
    code, _ = cli(capsys, *open_grant)
    assert code == 1  # the client refuses a revoked grant
    dao.registry.record_access(int(grant), sender=recruiter)  # a dishonest client records a late use anyway

    governor = dao.governance.address
    code, out = cli(capsys, "member", "propose-issuer", *rpc, "--from", patient, "--governor", governor,
                    "--directory", str(dao.directory.address), "--out", str(tmp_path / "proposal.json"),
                    "11", "12", "Hospital D")
    assert code == 0
    proposal_id = int(out["proposal_id"])
    devchain.mine(w3, 2)
    for index, secret in enumerate(members):
        ballot = vote.prove_vote(keys, holder_secret=secret, registered_day=20_000, issuer_registry_root=ISSUER_ROOT,
                                 person_proof=people.proof(index), proposal_scope=int(out["proposal_scope"]), choice=1)
        (tmp_path / f"ballot{index}.json").write_text(ballot.to_json())
        code, _ = cli(capsys, "member", "vote", *rpc, "--from", accounts[6 + index], "--governor", governor,
                      str(proposal_id), str(tmp_path / f"ballot{index}.json"))
        assert code == 0
    code, _ = cli(capsys, "member", "vote", *rpc, "--from", accounts[8], "--governor", governor, str(proposal_id),
                  str(tmp_path / "ballot0.json"))
    assert code == 1  # NullifierAlreadyVoted
    devchain.mine(w3, 11)
    assert cli(capsys, "member", "queue", *rpc, "--from", patient, "--governor", governor,
               str(tmp_path / "proposal.json"))[0] == 0
    devchain.advance_time(w3, 61)
    assert cli(capsys, "member", "execute", *rpc, "--from", patient, "--governor", governor,
               str(tmp_path / "proposal.json"))[0] == 0
    assert dao.directory.functions.isIssuer(dao.directory.functions.issuerKey(11, 12).call()).call()

    code, out = cli(capsys, "audit", *rpc, "--registry", registry, "--directory", str(dao.directory.address),
                    "--governor", governor, "--timelock", str(dao.governance.timelock.address),
                    "--csv", str(tmp_path / "audit.csv"))
    assert code == 1  # the late grant use is a finding
    assert [f["rule"] for f in out["findings"]] == ["grant-after-revocation"]
    assert "ProposalExecuted" in (tmp_path / "audit.csv").read_text()
