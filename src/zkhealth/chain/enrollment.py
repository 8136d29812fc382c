"""Client of CohortEnrollmentV2: one contract per trial for a dedicated (per-trial) eligibility circuit with the
version-2 public signals ``[nullifier, scope, today, trust_root, recipient]``.

The trust root (``poseidon([issuer_registry_root, person_registry_root])``) is published to the contract by its
owner or an authorised publisher; a superseded root stays accepted for the trial's grace period
(``root_grace_seconds``, 0 allowed) and is refused with ``StaleRoot`` after it. ``today`` must be the block's
UTC day or the day before. Every state-changing call is simulated first
(:func:`zkhealth.chain.client.transact_checked`).

The six-signal ``CohortEnrollment`` of :mod:`zkhealth.chain.client` serves the version-1 circuit (separate
issuer and revocation roots) until that circuit is retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from zkhealth.chain import client
from zkhealth.chain.build import load_artifact
from zkhealth.chain.solidity import key_hash, key_words, public_words, scalar_from, to_calldata
from zkhealth.eligibility.scope import trial_scope
from zkhealth.errors import ChainError, MalformedProofError
from zkhealth.groth16.keys import Proof, VerifyingKey

__all__ = [
    "DEDICATED_SIGNALS",
    "check_enroll",
    "cohort_enrollment_at",
    "deploy_cohort_enrollment",
    "enroll",
    "publish_trust_root",
]

#: The dedicated v2 circuit's public signals, in order.
DEDICATED_SIGNALS: Final[tuple[str, ...]] = ("nullifier", "scope", "today", "trust_root", "recipient")
DEPLOY_GAS: Final[int] = 8_000_000
ENROLL_GAS: Final[int] = 400_000


def cohort_enrollment_at(w3: Web3, address: str) -> Contract:
    """The CohortEnrollmentV2 at ``address``."""
    return w3.eth.contract(address=to_checksum_address(address), abi=load_artifact("CohortEnrollmentV2")["abi"])


@client.rpc_boundary
def deploy_cohort_enrollment(
    w3: Web3,
    vk: VerifyingKey,
    *,
    trial_id: bytes,
    window: tuple[int, int],
    capacity: int,
    owner: str,
    trust_root: int = 0,
    root_grace_seconds: int = 86_400,
    publishers: Sequence[str] = (),
    sender: str | None = None,
    gas: int = DEPLOY_GAS,
) -> Contract:
    """Deploy a CohortEnrollmentV2 for the dedicated v2 key ``vk`` (5 public signals). The scope
    ``trial_scope(chain id, new address, trial_id)`` is folded into IC0; ``trust_root`` (if not 0) is published
    as the first root. After deployment the scope and the key hash are compared with the contract's."""
    if not isinstance(trial_id, bytes) or len(trial_id) != 32:
        raise ChainError("trial_id must be exactly 32 bytes")
    words = key_words(vk)
    if len(words) != 26:
        raise MalformedProofError("CohortEnrollmentV2 needs the 5-signal dedicated v2 key")
    root = 0 if trust_root == 0 else scalar_from(trust_root, "trust root")
    params = (
        words,
        trial_id,
        root,
        int(window[0]),
        int(window[1]),
        int(capacity),
        int(root_grace_seconds),
        to_checksum_address(owner),
        [to_checksum_address(p) for p in publishers],
    )
    address = client._deploy(w3, "CohortEnrollmentV2Init", (params,), sender, gas)
    contract = cohort_enrollment_at(w3, address)
    scope = trial_scope(int(w3.eth.chain_id), address, trial_id)
    if int(contract.functions.scope().call()) != scope:
        raise ChainError("the deployed contract's scope differs from trial_scope(chain id, address, trial id)")
    if bytes(contract.functions.verifyingKeyHash().call()) != key_hash(vk):
        raise ChainError("the deployed contract embeds another verifying key")
    return contract


@client.rpc_boundary
def publish_trust_root(w3: Web3, contract: Contract, root: int, *, sender: str | None = None) -> Any:
    """Owner or publisher: make ``root`` the current trust root (the previous one enters its grace period)."""
    call = contract.functions.publishTrustRoot(scalar_from(root, "trust root"))
    return client.transact_checked(w3, call, sender=sender)


@client.rpc_boundary
def enroll(
    w3: Web3,
    contract: Contract,
    proof: Proof,
    public_signals: Sequence[int],
    *,
    sender: str | None = None,
    gas: int = ENROLL_GAS,
) -> Any:
    """Send ``enroll`` for a dedicated v2 proof, simulated first: a refusal raises its decoded custom error
    (``NullifierUsed`` as :class:`~zkhealth.errors.NullifierAlreadyUsedError`) and sends nothing. ``sender``
    defaults to the proof's recipient. Cost: ~256,000 gas."""
    words = public_words(list(public_signals))
    if len(words) != len(DEDICATED_SIGNALS):
        raise MalformedProofError(f"the dedicated v2 circuit has 5 public signals, got {len(words)}")
    if sender is None:
        sender = client.recipient_address(words[4])
    a, b, c = to_calldata(proof)
    return client.transact_checked(w3, contract.functions.enroll(a, b, c, words), sender=sender, gas=gas)


def check_enroll(
    w3: Web3, contract: Contract, proof: Proof, public_signals: Sequence[int], *, gas: int = ENROLL_GAS
) -> None:
    """Would :func:`enroll` succeed now, sent by the proof's recipient? The call is simulated with ``eth_call``
    (every check of the contract, the pairing included); nothing is sent and no key is needed. Raises what
    :func:`enroll` raises. Cost: one ``eth_call`` of ``enroll``."""
    words = public_words(list(public_signals))
    if len(words) != len(DEDICATED_SIGNALS):
        raise MalformedProofError(f"the dedicated v2 circuit has 5 public signals, got {len(words)}")
    a, b, c = to_calldata(proof)
    call = contract.functions.enroll(a, b, c, words)
    client.simulate(w3, call, sender=client.recipient_address(words[4]), gas=gas)
