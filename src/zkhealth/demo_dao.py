"""The patient data DAO story, callable from Python: :func:`run_dao_demo` plays and times nine steps.

1. the DAO is deployed: TrialRegistry and TrustDirectory owned by the TimelockController, the Governor with
   anonymous one-person-one-vote (the vote circuit's keys come from a development setup);
2. the registry operator publishes the trust root over a person registry of three members;
3. a recruiter creates a trial with an ERC-20 reward pool and a sponsor funds it;
4. a patient enrolls with an eligibility proof and consent terms, and is paid in the same transaction;
5. the recruiter pays the patient's first milestone;
6. a member proposes to admit a new issuer (Hospital B) to the TrustDirectory;
7. two members vote for it anonymously; the first member's second vote is refused (NullifierAlreadyVoted);
8. the proposal is queued and, after the timelock's delay, executed: Hospital B is admitted;
9. the audit trail rebuilds the history from events and finds nothing wrong.

Enrollment (step 4) needs a prover of the universal eligibility circuit, passed as :class:`UniversalEnrollment`
(its verifying key, the trial's program hash and a function that proves for a scope, a day and a recipient);
the registry is deployed with that key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from zkhealth.errors import ChainError, ContractRevertError, ZkHealthError

if TYPE_CHECKING:
    from zkhealth.groth16.keys import Proof, VerifyingKey

__all__ = ["DAO_STEP_TITLES", "DaoDemoResult", "DaoDemoStep", "UniversalEnrollment", "run_dao_demo"]

DAY: Final[int] = 86_400
DAO_STEP_TITLES: Final[tuple[tuple[str, str], ...]] = (
    ("deploy", "The DAO is deployed: registry and directory owned by the timelock, an anonymous-vote governor"),
    ("root", "The registry operator publishes the trust root (three people in the person registry)"),
    ("fund", "A recruiter creates a trial with a reward pool; the sponsor funds it"),
    ("enroll", "A patient enrolls with consent terms and is paid in the same transaction"),
    ("milestone", "The recruiter pays the patient's first milestone"),
    ("propose", "A member proposes to admit Hospital B"),
    ("vote", "Two members vote for it anonymously; a second vote by one of them is refused"),
    ("execute", "The proposal is queued and executed through the timelock"),
    ("audit", "The audit trail rebuilds the history and checks the invariants"),
)
_MEMBERS: Final[tuple[int, ...]] = (0xD0_0001, 0xD0_0002, 0xD0_0003)
_REGISTERED_DAY: Final[int] = 20_000
_CONSENT_DOCUMENT: Final[bytes] = b"zkhealth demo consent: trial participation and data analysis, 1 year"


@dataclass(frozen=True)
class UniversalEnrollment:
    """What the story needs from the universal eligibility circuit: its verifying key, the trial's program
    hash, ``prove(scope, today, recipient, issuer_registry_root, person_registry_root)`` returning a proof and
    its six public signals, and the issuer registry root the prover's credential is trusted under (the story
    publishes the trust root over it and the story's person registry).
    :func:`zkhealth.demo_universal.universal_enrollment` builds the real one."""

    vk: VerifyingKey
    program_hash: int
    prove: Callable[[int, int, str, int, int], tuple[Proof, list[int]]]
    issuer_registry_root: int = 0x155_1E5


@dataclass(frozen=True)
class DaoDemoStep:
    """One step: key, title, wall time, a one-line outcome."""

    key: str
    title: str
    seconds: float
    outcome: str


@dataclass
class DaoDemoResult:
    """The steps, the audit history and the figures the story produced."""

    steps: list[DaoDemoStep]
    history: list[str]
    findings: list[str]
    figures: dict[str, int] = field(default_factory=dict)
    total_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [
                {"key": s.key, "title": s.title, "seconds": round(s.seconds, 3), "outcome": s.outcome}
                for s in self.steps
            ],
            "history": self.history,
            "findings": self.findings,
            "figures": dict(self.figures),
            "total_seconds": round(self.total_seconds, 3),
        }


class _Steps:
    def __init__(self, on_start: Callable[[int, int, str], None] | None,
                 on_done: Callable[[int, DaoDemoStep], None] | None) -> None:
        self.done: list[DaoDemoStep] = []
        self._titles = dict(DAO_STEP_TITLES)
        self._on_start = on_start
        self._on_done = on_done

    @contextmanager
    def step(self, key: str) -> Iterator[dict[str, str]]:
        number = len(self.done) + 1
        if self._on_start is not None:
            self._on_start(number, len(DAO_STEP_TITLES), self._titles[key])
        record = {"outcome": ""}
        started = time.perf_counter()
        yield record
        step = DaoDemoStep(key, self._titles[key], time.perf_counter() - started, record["outcome"])
        self.done.append(step)
        if self._on_done is not None:
            self._on_done(number, step)


def run_dao_demo(
    universal: UniversalEnrollment,
    *,
    rpc: str | None = None,
    on_step_start: Callable[[int, int, str], None] | None = None,
    on_step_done: Callable[[int, DaoDemoStep], None] | None = None,
) -> DaoDemoResult:
    """Play the story of the module docstring on a fresh embedded py-evm chain (or ``rpc``, a node with
    unlocked, funded accounts). Raises :class:`~zkhealth.errors.ZkHealthError` when the story does not go as
    told: the demo is also an end-to-end check. Requires the ``chain`` extra."""
    import hashlib

    from zkhealth.chain import client, devchain
    from zkhealth.chain.audit import audit
    from zkhealth.chain.governance import Action, ProposalState, deploy_dao
    from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, RewardTerms, TrialTerms, deploy_reward_token
    from zkhealth.chain.roles import Member, Patient, Recruiter, RegistryOperator, Sponsor
    from zkhealth.credentials.trees import QuaternaryMerkleTree
    from zkhealth.eligibility import vote
    from zkhealth.hash.poseidon import poseidon

    steps = _Steps(on_step_start, on_step_done)
    started = time.perf_counter()
    w3 = client.connect(client.embedded_provider(fast_pairing=True) if rpc is None else rpc)
    accounts = list(w3.eth.accounts)
    if len(accounts) < 10:
        raise ChainError("the DAO demo needs ten unlocked, funded accounts (the embedded chain or anvil)")
    deployer, operator, recruiter, sponsor, patient = accounts[:5]
    voters = accounts[5:9]
    figures: dict[str, int] = {}

    with steps.step("deploy") as record:
        keys = vote.VoteKeys.setup()
        dao = deploy_dao(w3, universal_vk=universal.vk, vote_vk=keys.vk, publishers=[operator],
                         creators=[recruiter], voting_period=10, quorum=2, timelock_delay=3600, sender=deployer)
        record["outcome"] = (f"registry {dao.registry.address}, governor {dao.governance.address}, "
                             f"timelock {dao.governance.timelock.address} (vote circuit: "
                             f"{keys.circuit.r1cs.n_constraints:,} constraints)")
    people = QuaternaryMerkleTree(vote.PERSON_REGISTRY_DEPTH)
    for index, secret in enumerate(_MEMBERS):
        people.set(index, vote.person_leaf(poseidon([secret]), _REGISTERED_DAY))
    root = vote.trust_root(universal.issuer_registry_root, people.root)
    with steps.step("root") as record:
        RegistryOperator(dao.registry, operator).publish_trust_root(root)
        record["outcome"] = f"trust root {str(root)[:12]}… published by the operator"
    with steps.step("fund") as record:
        token = deploy_reward_token(w3, "Trial Reward", "TRW", owner=deployer, sender=deployer)
        client.transact(w3, token.functions.mint(sponsor, 1_000 * 10**18), sender=deployer)
        now = int(w3.eth.get_block("latest")["timestamp"])
        consent_hash = hashlib.sha256(_CONSENT_DOCUMENT).digest()
        trial_id = Recruiter(dao.registry, recruiter).create_trial(TrialTerms(
            program_hash=universal.program_hash, consent_hash=consent_hash, window=(now - 60, now + 30 * DAY),
            capacity=100, owner=recruiter, rewards=RewardTerms(token.address, sponsor, 10 * 10**18, (25 * 10**18,))))
        Sponsor(dao.registry, sponsor).fund(trial_id, 500 * 10**18)
        record["outcome"] = f"trial {trial_id} created; pool funded with 500 TRW (10 on enrollment, 25 at milestone 1)"
    with steps.step("enroll") as record:
        today = int(w3.eth.get_block("latest")["timestamp"]) // DAY
        proof, signals = universal.prove(dao.registry.scope(trial_id), today, patient, universal.issuer_registry_root,
                                         people.root)
        consent = ConsentTerms(consent_hash, CONSENT_PURPOSES["trial-participation"] | CONSENT_PURPOSES[
            "data-analysis"], today + 365)
        receipt = Patient(dao.registry, patient).enroll(trial_id, proof, signals, consent)
        figures["enroll_with_reward_gas"] = int(receipt["gasUsed"])
        paid = int(token.functions.balanceOf(patient).call())
        if paid != 10 * 10**18:
            raise ZkHealthError("the enrollment reward was not paid in the enrollment transaction")
        record["outcome"] = f"enrolled and paid 10 TRW in one transaction ({int(receipt['gasUsed']):,} gas)"
    with steps.step("milestone") as record:
        receipt = Recruiter(dao.registry, recruiter).pay_milestone(trial_id, signals[0], 1)
        figures["milestone_gas"] = int(receipt["gasUsed"])
        held = int(token.functions.balanceOf(patient).call()) // 10**18
        record["outcome"] = f"milestone 1 paid: the patient holds {held} TRW"
    g = dao.governance
    with steps.step("propose") as record:
        action = Action.call(dao.directory, "addIssuer", 0xB0_0001, 0xB0_0002, "Hospital B")
        proposal = Member(g, patient).propose([action], "Admit Hospital B as a trusted issuer")
        devchain.mine(w3, 2)
        record["outcome"] = f"proposal {str(proposal.proposal_id)[:12]}… is {g.state(proposal.proposal_id).name}"
    with steps.step("vote") as record:
        scope = g.proposal_scope(proposal.proposal_id)
        ballots = [
            vote.prove_vote(keys, holder_secret=secret, registered_day=_REGISTERED_DAY,
                            issuer_registry_root=universal.issuer_registry_root, person_proof=people.proof(index),
                            proposal_scope=scope, choice=vote.CHOICES["for"])
            for index, secret in enumerate(_MEMBERS[:2])
        ]
        for ballot, address in zip(ballots, voters, strict=False):
            figures.setdefault("vote_gas", int(Member(g, address).vote(proposal.proposal_id, ballot)["gasUsed"]))
        try:
            Member(g, voters[2]).vote(proposal.proposal_id, ballots[0])
        except ContractRevertError as exc:
            refused = exc.error_name
        else:
            raise ZkHealthError("a second vote with the same nullifier was counted")
        against, for_, abstain = g.votes(proposal.proposal_id)
        record["outcome"] = f"for {for_}, against {against}, abstain {abstain}; a repeated vote refused ({refused})"
    with steps.step("execute") as record:
        devchain.mine(w3, 11)
        Member(g, patient).queue(proposal)
        devchain.advance_time(w3, 3601)
        Member(g, patient).execute(proposal)
        admitted = dao.directory.functions.isIssuer(dao.directory.functions.issuerKey(0xB0_0001, 0xB0_0002).call())
        if g.state(proposal.proposal_id) is not ProposalState.EXECUTED or not admitted.call():
            raise ZkHealthError("the proposal did not admit Hospital B")
        record["outcome"] = "executed by the timelock: Hospital B is a trusted issuer"
    with steps.step("audit") as record:
        report = audit(w3, registry=dao.registry.address, directory=str(dao.directory.address),
                       governor=g.address, timelock=str(g.timelock.address))
        if not report.ok:
            raise ZkHealthError(f"the audit found {len(report.findings)} problems")
        record["outcome"] = "\n".join([
            f"{len(report.events)} events, no finding; the history, as `zkhealth audit` prints it:",
            *(f"        {line}" for line in report.history()),
        ])
    return DaoDemoResult(
        steps=steps.done,
        history=report.history(),
        findings=[f"{f.rule}: {f.message}" for f in report.findings],
        figures=figures,
        total_seconds=time.perf_counter() - started,
    )
