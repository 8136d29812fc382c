"""``zkhealth serve --demo``: play the demo story on a chain, then show that chain.

:func:`demo_source` runs :func:`zkhealth.demo.run_demo` without its universal steps (a hospital issues
credentials, a trial is set up and its CohortEnrollment deployed, a patient proves and enrolls, an ineligible
patient is refused, a second enrollment is refused, a revoked credential is refused) on an embedded py-evm chain
that outlives the story (or on ``rpc``), and returns a :class:`~zkhealth.dashboard.source.DashboardSource` over it:
the trial's contract, its criteria and verifying key, and the enrolled patient's proof as a sample for the verify
page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zkhealth.dashboard.source import DashboardSource, KnownTrial, SampleProof
from zkhealth.errors import ZkHealthError

__all__ = ["demo_source"]


def demo_source(
    *,
    rpc: str | None = None,
    cache_dir: Path | bool | None = True,
    on_step: Callable[[int, int, str], None] | None = None,
) -> DashboardSource:
    """Run the demo story and return the dashboard's source over its chain (module docstring). ``cache_dir``
    as :func:`zkhealth.demo.run_demo`'s; ``on_step(number, total, title)`` reports progress. Cost: the story's
    (about 15-30 s on a first run, less with cached keys)."""
    from zkhealth.chain import client
    from zkhealth.demo import run_demo

    provider = client.embedded_provider() if rpc is None else None
    # The dedicated story only (steps 1-12): the universal steps need the 140 MB universal proving key (minutes to
    # rebuild on a fresh machine) and two 2^17 proofs, and the dashboard shows the per-trial contract they leave out.
    result = run_demo(rpc=provider if provider is not None else rpc, cache_dir=cache_dir, on_step_start=on_step,
                      universal=False)
    w3 = client.connect(provider if provider is not None else str(rpc))
    if result.trial is None or result.proof_json is None:
        raise ZkHealthError("the demo story returned no trial")
    scope = int(result.step("deploy").details["scope"])
    known = KnownTrial.from_trial(result.trial, scope)
    where = "the demo's embedded py-evm chain" if rpc is None else str(rpc)
    return DashboardSource(
        w3,
        enrollments=[result.contract_address],
        from_block=max(0, result.deploy_block - 1),
        known=[known],
        chain_label=where,
        samples=[SampleProof("the demo patient's proof (enrolled, then its trust root was superseded)",
                             result.proof_json)],
    )
