"""Client of CohortEnrollment: one contract per trial, for a trial's dedicated eligibility circuit, with the
public signals ``[nullifier, scope, today, trust_root, recipient]``.

The trust root (``poseidon([issuer_registry_root, person_registry_root])``) is published to the contract by its
owner or an authorised publisher (the registry operator, :func:`publish_trust_root`); a superseded root stays
accepted for the trial's grace period (``root_grace_seconds``, 0 allowed) and is refused with ``StaleRoot`` after
it; a root never published is refused with ``UnknownRoot``. ``today`` must be the block's UTC day or the day
before (the Python verifier's window too). Every state-changing call is simulated first
(:func:`zkhealth.chain.client.transact_checked`): a transaction that would revert is never sent, its decoded
custom error is raised instead.

:func:`deploy_trial` deploys the contract of a :class:`~zkhealth.eligibility.Trial` with its keys and checks the
scope and key hash it computed; :func:`enroll` sends an :class:`~zkhealth.eligibility.EligibilityProof`;
:func:`root_history` reads the contract's trust roots into the :class:`~zkhealth.credentials.trust_roots.RootHistory`
a Python verifier checks proofs against, so verifiers read roots from the chain instead of keeping lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from zkhealth.chain import client
from zkhealth.chain.build import load_artifact
from zkhealth.chain.solidity import key_hash, key_words, public_words, scalar_from, to_calldata
from zkhealth.credentials.trust_roots import DEFAULT_GRACE_SECONDS, PublishedRoot, RootHistory
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.scope import trial_scope
from zkhealth.eligibility.trial import Trial, TrialKeys
from zkhealth.errors import ChainError, MalformedProofError, UntrustedRootError
from zkhealth.groth16.keys import Proof, VerifyingKey

__all__ = [
    "DEDICATED_SIGNALS",
    "DEPLOY_GAS",
    "ENROLL_GAS",
    "TrialDeployment",
    "chain_now",
    "check_enroll",
    "cohort_enrollment_at",
    "deploy_cohort_enrollment",
    "deploy_trial",
    "enroll",
    "enroll_signals",
    "publish_trust_root",
    "root_history",
    "withdraw",
]

#: The dedicated circuit's public signals, in order (eligibility's layout).
DEDICATED_SIGNALS: Final[tuple[str, ...]] = PUBLIC_SIGNALS
DEPLOY_GAS: Final[int] = 8_000_000
#: Gas limit of ``enroll`` (passed explicitly, never estimated); an enrollment uses about 258,000.
ENROLL_GAS: Final[int] = 400_000
_RECIPIENT: Final[int] = PUBLIC_SIGNALS.index("recipient")


def cohort_enrollment_at(w3: Web3, address: str) -> Contract:
    """The CohortEnrollment at ``address`` (runtime ABI from the shipped artifact)."""
    return w3.eth.contract(address=to_checksum_address(address), abi=load_artifact("CohortEnrollment")["abi"])


@client.rpc_boundary
def deploy_cohort_enrollment(
    w3: Web3,
    vk: VerifyingKey,
    *,
    trial_id: bytes,
    window: tuple[int, int],
    capacity: int,
    owner: str | None = None,
    trust_root: int = 0,
    root_grace_seconds: int = DEFAULT_GRACE_SECONDS,
    publishers: Sequence[str] = (),
    sender: str | None = None,
    gas: int = DEPLOY_GAS,
) -> Contract:
    """Deploy a CohortEnrollment for the dedicated key ``vk`` (5 public signals). The scope ``trial_scope(chain
    id, new address, trial_id)`` is folded into IC0; ``trust_root`` (if not 0) is published as the first root;
    ``publishers`` may publish roots besides the owner (default: the sender). ``window`` is ``(start, end)`` in
    unix seconds, end exclusive. After deployment the scope and the key hash are compared with the contract's
    (:class:`ChainError`). Cost: ~3.5 MGas (most of it code deposit)."""
    return cohort_enrollment_at(w3, _deploy(w3, vk, trial_id, window, capacity, owner, trust_root,
                                            root_grace_seconds, publishers, sender, gas)["contractAddress"])


def _deploy(
    w3: Web3, vk: VerifyingKey, trial_id: bytes, window: tuple[int, int], capacity: int, owner: str | None,
    trust_root: int, root_grace_seconds: int, publishers: Sequence[str], sender: str | None, gas: int,
) -> Any:
    if not isinstance(trial_id, bytes) or len(trial_id) != 32:
        raise ChainError("trial_id must be exactly 32 bytes")
    words = key_words(vk)
    if len(words) != 14 + 2 * (len(PUBLIC_SIGNALS) + 1):
        raise MalformedProofError(f"CohortEnrollment needs a key with {len(PUBLIC_SIGNALS)} public signals")
    if isinstance(root_grace_seconds, bool) or not 0 <= int(root_grace_seconds) < 1 << 32:
        raise ChainError("root_grace_seconds must fit 32 bits")
    params = (
        words,
        trial_id,
        0 if trust_root == 0 else scalar_from(trust_root, "trust root"),
        int(window[0]),
        int(window[1]),
        int(capacity),
        int(root_grace_seconds),
        client.sender_address(w3, owner),
        [to_checksum_address(p) for p in publishers],
    )
    receipt = client.deploy_receipt(w3, "CohortEnrollmentInit", (params,), sender, gas)
    contract = cohort_enrollment_at(w3, receipt["contractAddress"])
    scope = trial_scope(int(w3.eth.chain_id), str(contract.address), trial_id)
    if int(contract.functions.scope().call()) != scope:
        raise ChainError("the deployed contract's scope differs from trial_scope(chain id, address, trial id)")
    if bytes(contract.functions.verifyingKeyHash().call()) != key_hash(vk):
        raise ChainError("the deployed contract embeds another verifying key")
    return receipt


@dataclass(frozen=True)
class TrialDeployment:
    """A CohortEnrollment deployed for a :class:`~zkhealth.eligibility.Trial` (see :func:`deploy_trial`).

    ``scope`` is what patients must prove for (``prove(..., scope=deployment.scope)``); ``block_number`` is the
    deployment's block (a good ``from_block`` for :class:`~zkhealth.chain.client.EnrollmentWatcher`); ``gas_used``
    its gas."""

    contract: Contract
    chain_id: int
    scope: int
    trial_id: bytes
    vk_sha256: str
    block_number: int
    gas_used: int

    @property
    def address(self) -> ChecksumAddress:
        return to_checksum_address(str(self.contract.address))


@client.rpc_boundary
def deploy_trial(
    w3: Web3,
    trial: Trial,
    keys: TrialKeys | None = None,
    *,
    window: tuple[int, int],
    capacity: int,
    trust_root: int,
    publishers: Sequence[str] = (),
    owner: str | None = None,
    sender: str | None = None,
    gas: int = DEPLOY_GAS,
) -> TrialDeployment:
    """Deploy the CohortEnrollment of ``trial`` with its keys (``keys``, default ``trial.keys``), the trial's
    grace period and ``trust_root`` (the operator's current root) as the first published root.

    Raises :class:`~zkhealth.errors.VerifyingKeyMismatchError` for keys that are not the trial's
    (:meth:`~zkhealth.eligibility.trial.Trial.check_keys`), :class:`ChainError` when the contract's scope or key
    hash differs from ours, :class:`~zkhealth.errors.ContractRevertError` when the EVM refuses the key or the
    parameters. Cost: ~3.5 MGas and two eth_calls."""
    chosen = trial.keys if keys is None else keys
    trial.check_keys(chosen)
    receipt = _deploy(w3, chosen.vk, trial.trial_id, window, capacity, owner, trust_root, trial.root_grace_seconds,
                      publishers, sender, gas)
    contract = cohort_enrollment_at(w3, receipt["contractAddress"])
    chain_id = int(w3.eth.chain_id)
    return TrialDeployment(contract, chain_id, trial_scope(chain_id, str(contract.address), trial.trial_id),
                           trial.trial_id, chosen.vk_sha256, int(receipt["blockNumber"]), int(receipt["gasUsed"]))


@client.rpc_boundary
def publish_trust_root(w3: Web3, contract: Contract, root: int, *, sender: str | None = None) -> Any:
    """Owner or publisher: make ``root`` the current trust root (the previous one enters its grace period).
    Works on any contract with the TrustRoots interface (CohortEnrollment, TrialRegistry). Simulated first."""
    call = contract.functions.publishTrustRoot(scalar_from(root, "trust root"))
    return client.transact_checked(w3, call, sender=sender)


@client.rpc_boundary
def root_history(w3: Web3, contract: Contract, *, include: Iterable[int] = ()) -> RootHistory:
    """The contract's trust roots as a :class:`RootHistory`: the current root and, for each root of ``include``
    that the contract has seen, when it was published and superseded (exactly what the contract's freshness check
    reads, so a Python verifier given this history and the latest block's time decides as the contract would).
    Raises :class:`UntrustedRootError` when the contract has no root yet. Cost: ``1 + len(include)`` eth_calls."""
    current = int(contract.functions.currentTrustRoot().call())
    if current == 0:
        raise UntrustedRootError("the contract has no published trust root yet")
    published, _ = contract.functions.trustRootState(current).call()
    entries = [PublishedRoot(current, int(published), None)]
    superseded = []
    for root in dict.fromkeys(int(r) for r in include):
        if root == current or not 0 < root:
            continue
        published_at, superseded_at = contract.functions.trustRootState(root).call()
        if int(published_at) and int(superseded_at):
            superseded.append(PublishedRoot(root, int(published_at), int(superseded_at)))
    superseded.sort(key=lambda entry: -(entry.superseded_at or 0))
    return RootHistory((*entries, *superseded))


@client.rpc_boundary
def chain_now(w3: Web3) -> int:
    """The latest block's timestamp: the moment the contract's checks would use."""
    return int(w3.eth.get_block("latest")["timestamp"])


@client.rpc_boundary
def enroll(w3: Web3, contract: Contract, proof: EligibilityProof, *, sender: str | None = None,
           gas: int = ENROLL_GAS) -> Any:
    """Send ``enroll`` for an eligibility proof (a proof file becomes one with ``EligibilityProof.load``).

    ``sender`` defaults to the address the proof's ``recipient`` signal names, the only account the contract
    accepts the proof from (docs/security.md K4); the node must hold its key. The call is first simulated with
    ``eth_call``: a refusal (``NullifierUsed``, ``StaleRoot``, ``UnknownRoot``, ``StaleProof``...) raises its
    decoded custom error and no transaction is sent. Returns the receipt. Cost: ~258,000 gas."""
    return enroll_signals(w3, contract, proof.proof, list(proof.public), sender=sender, gas=gas)


@client.rpc_boundary
def enroll_signals(
    w3: Web3,
    contract: Contract,
    proof: Proof,
    public_signals: Sequence[int],
    *,
    sender: str | None = None,
    gas: int = ENROLL_GAS,
) -> Any:
    """Send ``enroll`` with a Groth16 proof and five public signals as given (not reduced, not checked against
    r: the contract refuses what it must), simulated first. As :func:`enroll` otherwise; raises
    :class:`MalformedProofError` for a proof or signals that cannot be encoded."""
    words = public_words(list(public_signals))
    if len(words) != len(PUBLIC_SIGNALS):
        raise MalformedProofError(f"the eligibility circuit has {len(PUBLIC_SIGNALS)} public signals, got {len(words)}")
    if sender is None and words[_RECIPIENT] < 2**160:
        sender = client.recipient_address(words[_RECIPIENT])
    a, b, c = to_calldata(proof)
    return client.transact_checked(w3, contract.functions.enroll(a, b, c, words), sender=sender, gas=gas)


@client.rpc_boundary
def withdraw(w3: Web3, contract: Contract, nullifier: int, *, sender: str | None = None) -> Any:
    """Consent withdrawal by the address that enrolled ``nullifier`` (simulated first). Returns the receipt."""
    return client.transact_checked(w3, contract.functions.withdraw(int(nullifier)), sender=sender)


@client.rpc_boundary
def check_enroll(
    w3: Web3, contract: Contract, proof: Proof, public_signals: Sequence[int], *, gas: int = ENROLL_GAS
) -> None:
    """Would :func:`enroll_signals` succeed now, sent by the proof's recipient? The call is simulated with ``eth_call``
    (every check of the contract, the pairing included); nothing is sent and no key is needed. Raises what
    :func:`enroll_signals` raises. Cost: one ``eth_call`` of ``enroll``."""
    words = public_words(list(public_signals))
    if len(words) != len(DEDICATED_SIGNALS):
        raise MalformedProofError(f"the dedicated circuit has 5 public signals, got {len(words)}")
    a, b, c = to_calldata(proof)
    call = contract.functions.enroll(a, b, c, words)
    client.simulate(w3, call, sender=client.recipient_address(words[_RECIPIENT]), gas=gas)
