"""The recruiter's dashboard: a local web app that shows trials, their cohorts and their proofs, read from the
chain (``zkhealth serve``; docs/dashboard.md).

* :mod:`.source`: what the dashboard reads (:class:`DashboardSource`: the chain, the registry and per-trial
  contracts, :class:`KnownTrial` records of criteria and verifying keys, the optional signer);
* :mod:`.app`: the Starlette application (:func:`create_app`), its routes and page data;
* :mod:`.proofcheck`: the verify page's judgement of an uploaded proof;
* :mod:`.charts`: server-rendered SVG charts (pygal);
* :mod:`.security`: size limits, CSRF, headers and the bind rule;
* :mod:`.server`: serving with uvicorn (:func:`serve`, :class:`RunningServer`);
* :mod:`.story`: ``zkhealth serve --demo``, the demo story on an embedded chain.

The dashboard holds no patient data: it shows public chain state and judges uploaded proofs without keeping
them. Requires the ``dashboard`` and ``chain`` extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zkhealth.dashboard.app import create_app
    from zkhealth.dashboard.server import RunningServer, serve
    from zkhealth.dashboard.source import DashboardSource, KnownTrial, SampleProof

__all__ = ["DashboardSource", "KnownTrial", "RunningServer", "SampleProof", "create_app", "serve"]

_HOMES = {
    "create_app": "zkhealth.dashboard.app",
    "RunningServer": "zkhealth.dashboard.server",
    "serve": "zkhealth.dashboard.server",
    "DashboardSource": "zkhealth.dashboard.source",
    "KnownTrial": "zkhealth.dashboard.source",
    "SampleProof": "zkhealth.dashboard.source",
}


def __getattr__(name: str) -> Any:
    """Import on first use: the web stack loads only when the dashboard is used."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'zkhealth.dashboard' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
