"""Settling a list of eligibility proofs after their policy checks: one batched pairing check, each proof on its
own only when the batch fails, and a repeated nullifier counted once. Shared by :meth:`Trial.verify_each
<zkhealth.eligibility.trial.Trial.verify_each>` (dedicated trials) and :meth:`RecordTrial.verify_each
<zkhealth.eligibility.record_trial.RecordTrial.verify_each>` (version-2 trials)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from zkhealth import groth16
from zkhealth.errors import DuplicateProofError, InvalidProofError, ZkHealthError
from zkhealth.groth16.keys import VerifyingKey

__all__ = ["settle_batch"]


class _Verified(Protocol):
    @property
    def nullifier(self) -> int: ...


V = TypeVar("V", bound=_Verified)


def settle_batch(verifying_key: Callable[[], VerifyingKey], proofs: Sequence[Any],
                 outcomes: list[V | ZkHealthError]) -> list[V | ZkHealthError]:
    """Finish ``outcomes`` (one per proof, in order: the verified signals after the policy checks, or the error
    that refused the proof) in place and return it. ``verifying_key`` is called only when some proof still
    stands (a trial without keys can still report the policy refusals). The proofs still standing go through one
    batched pairing check (:func:`zkhealth.groth16.batch_verify`); when it fails,
    :func:`~zkhealth.groth16.find_invalid` names the proofs that do not verify (``InvalidProofError``). Then a
    proof whose nullifier an earlier valid proof of the list already has (the same proof listed twice, or a
    second proof by the same patient) becomes a ``DuplicateProofError``: one patient counts once. Each proof
    needs ``public``, ``proof`` and ``to_json()``. Cost: about one Miller loop per proof."""
    pending = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, ZkHealthError)]
    items = [(list(proofs[i].public), proofs[i].proof) for i in pending]
    if items:
        vk = verifying_key()
        try:
            groth16.batch_verify(vk, items)
        except InvalidProofError:
            for position in groth16.find_invalid(vk, items):
                outcomes[pending[position]] = InvalidProofError("the proof does not verify")
    seen: dict[int, int] = {}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ZkHealthError):
            continue
        first = seen.setdefault(outcome.nullifier, index)
        if first != index:
            same = proofs[first].to_json() == proofs[index].to_json()
            outcomes[index] = DuplicateProofError(
                f"{'the same proof as' if same else 'the same nullifier (the same patient) as'} proof {first}: "
                "counted once"
            )
    return outcomes
