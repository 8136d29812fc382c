"""The dashboard's web application (Starlette): routes, page data and templates.

Routes (all pages are server-rendered HTML, no script):

* ``GET /``: the trials, each with its state, window, capacity, enrolled and active counts;
* ``GET /trials/registry/{id}``, ``GET /trials/contract/{address}``: one trial (charts of enrollments over time
  and consents by state, root freshness, reward pool, criteria and what the verifier learns, the cohort);
* ``POST /trials/registry/{id}/payout``: pay a milestone (needs a configured signer and the CSRF token);
* ``GET /verify``, ``POST /verify``: judge an uploaded or pasted proof file (:mod:`.proofcheck`);
* ``GET /samples/{n}.json``: a sample proof file (the demo's), to try the verify page;
* ``GET /audit``, ``GET /audit.csv``: the audit trail, filtered, and its CSV export;
* ``GET /healthz``: ``ok`` once the app is up; ``/static/...``: the stylesheet and the icon.

Every template is rendered with autoescaping on: strings from the chain (grant URIs, issuer labels, token
symbols) and from uploads are shown as text. Responses carry ``Server-Timing: app;dur=<ms>``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from zkhealth.chain.audit import AuditEvent, AuditReport
from zkhealth.chain.registry import ConsentStatus
from zkhealth.chain.views import RegistryTrialReader, TrialOverview
from zkhealth.dashboard import charts
from zkhealth.dashboard.proofcheck import MAX_PROOF_BYTES, check_proof
from zkhealth.dashboard.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SecurityMiddleware,
    check_csrf,
    csrf_token,
)
from zkhealth.dashboard.source import DashboardSource, TrialRef
from zkhealth.errors import ZkHealthError

__all__ = ["MAX_BODY_BYTES", "create_app"]

#: The largest request body accepted: a proof file (64 KiB at most) and the form around it.
MAX_BODY_BYTES: Final[int] = 2 * MAX_PROOF_BYTES
#: The most audit events one page shows (the CSV export has them all).
AUDIT_PAGE_ROWS: Final[int] = 500
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = re.compile(r"[0-9]{1,78}")
_LOOPBACK_HOSTS: Final[tuple[str, ...]] = ("127.0.0.1", "localhost", "::1", "[::1]")


# --------------------------------------------------------------------------- formatting


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return _dt.datetime.fromtimestamp(int(timestamp), _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(day: int | None) -> str:
    if not day:
        return "-"
    return (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(day))).isoformat()


def _short(value: object, keep: int = 8) -> str:
    """A long number or hex string as its head and tail (the whole value is in the element's title)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= 2 * keep + 3:
        return text
    return f"{text[:keep]}…{text[-keep:]}"


_DAY_WORDS = re.compile(r"\bday ([0-9]{1,7})\b")


def _daytext(text: str) -> str:
    """``"withdrawn on day 20795"`` as ``"withdrawn on 2026-12-08"``."""
    return _DAY_WORDS.sub(lambda m: _day(int(m.group(1))), text)


def _amount(value: int, decimals: int) -> str:
    quantised = Decimal(int(value)).scaleb(-int(decimals))
    text = format(quantised.normalize(), "f") if quantised else "0"
    return text


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} days" if seconds != 86_400 else "1 day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds} s"


def _arg(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_arg(v) for v in value) + "]"
    return str(value)


def _argtext(value: object) -> str:
    """An event argument for a table cell: numbers and bytes shortened, text kept (up to 300 characters)."""
    if isinstance(value, str):
        return value if len(value) <= 300 else value[:300] + "…"
    return _short(_arg(value), 12)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("zkhealth.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, day=_day, short=_short, amount=_amount, duration=_duration, arg=_arg,
                       argtext=_argtext, daytext=_daytext)
    return env


# --------------------------------------------------------------------------- page data


@dataclass(frozen=True)
class _Row:
    ref: TrialRef
    overview: TrialOverview


def _trial_rows(source: DashboardSource) -> list[_Row]:
    return [_Row(ref, overview) for ref, _reader, overview in source.overviews()]


def _trial_page(source: DashboardSource, kind: str, key: str, nonce: str) -> dict[str, Any] | None:
    found = source.trial(kind, key)
    if found is None:
        return None
    ref, reader = found
    overview, points, members, roots, pool = source.memo(
        ("trial", ref), lambda: (reader.overview(), reader.enrollments(), reader.members(), reader.roots(),
                                 reader.pool())
    )
    counts = dict.fromkeys(ConsentStatus, 0)
    for member in members:
        counts[member.status] += 1
    milestones = pool.milestone_rewards if pool is not None else ()
    can_pay = (
        isinstance(reader, RegistryTrialReader)
        and source.signer is not None
        and source.signer.lower() == overview.owner.lower()
        and bool(milestones)
    )
    return {
        "ref": ref,
        "trial": overview,
        "points": points,
        "members": members,
        "consents": [(status.value, counts[status]) for status in ConsentStatus],
        "enrollment_svg": charts.enrollment_chart(points, nonce),
        "consent_svg": charts.consent_chart(counts, nonce),
        "roots": roots,
        "pool": pool,
        "known": source.known_trial(overview.scope),
        "can_pay": can_pay,
        "milestones": list(range(1, len(milestones) + 1)),
    }


def _audit_filters(request: Request) -> dict[str, str]:
    params = request.query_params
    return {name: params.get(name, "").strip()[:200] for name in ("trial", "event", "contract", "q")}


def _matches(event: AuditEvent, filters: dict[str, str]) -> bool:
    trial = filters["trial"]
    if trial:
        if _ADDRESS.fullmatch(trial):
            if event.address.lower() != trial.lower():
                return False
        elif event.contract != "TrialRegistry" or event.trial_id is None or str(event.trial_id) != trial:
            return False
    if filters["event"] and event.event != filters["event"]:
        return False
    if filters["contract"] and event.contract != filters["contract"]:
        return False
    query = filters["q"].lower()
    if query:
        haystack = " ".join([event.contract, event.event, event.sender, event.transaction_hash, event.address,
                             json.dumps({k: _arg(v) for k, v in event.args.items()})]).lower()
        if query not in haystack:
            return False
    return True


def _audit_page(source: DashboardSource, filters: dict[str, str]) -> dict[str, Any]:
    report = source.audit_report()
    if report is None:
        return {"report": None, "events": [], "filters": filters, "event_names": [], "contract_names": [],
                "trial_options": [], "total": 0, "truncated": False}
    events = [e for e in report.events if _matches(e, filters)]
    trial_options = [(row.ref.key, f"{row.overview.label} ({row.ref.kind} {_short(row.ref.key, 6)})")
                     for row in _trial_rows(source)]
    return {
        "report": report,
        "events": events[:AUDIT_PAGE_ROWS],
        "total": len(events),
        "truncated": len(events) > AUDIT_PAGE_ROWS,
        "filters": filters,
        "event_names": sorted({e.event for e in report.events}),
        "contract_names": sorted({e.contract for e in report.events}),
        "trial_options": trial_options,
    }


# --------------------------------------------------------------------------- the app


def create_app(
    source: DashboardSource,
    *,
    allowed_hosts: tuple[str, ...] = _LOOPBACK_HOSTS,
    secret: bytes | None = None,
    debug: bool = False,
) -> Starlette:
    """The dashboard over ``source``. ``allowed_hosts``: the ``Host`` header values accepted (loopback names by
    default, which stops DNS-rebinding pages from reading the dashboard; ``("*",)`` accepts any). ``secret``:
    the CSRF key (random per process by default)."""
    key = secret if secret is not None else secrets.token_bytes(32)
    templates = Jinja2Templates(env=_environment())

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        state = request.state
        context = {
            **context,
            "request": request,
            "nonce": state.csp_nonce,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(key, state.csrf_cookie),
            "chain_label": source.chain_label,
            "signer": source.signer,
            "nav": name.removesuffix(".html"),
        }
        started = getattr(state, "started", time.perf_counter())
        response = templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    async def chain(fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in the thread pool, holding the chain lock."""

        def locked() -> Any:
            with source.locked():
                return fn(*args)

        return await run_in_threadpool(locked)

    def not_found(request: Request, what: str) -> Response:
        return page(request, "error.html", {"title": "Not found", "message": what}, 404)

    def refused(request: Request, why: str) -> Response:
        return page(request, "error.html", {"title": "Refused", "message": why}, 403)

    async def csrf_refusal(request: Request, form: Any) -> str | None:
        return check_csrf(key, request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD),
                          request.headers.get("origin"), request.headers.get("host"))

    async def trials(request: Request) -> Response:
        request.state.started = time.perf_counter()
        rows = await chain(_trial_rows, source)
        return page(request, "trials.html", {"rows": rows})

    async def trial(request: Request) -> Response:
        request.state.started = time.perf_counter()
        kind, key_text = request.path_params["kind"], request.path_params["key"]
        if kind not in ("registry", "contract") or not (_DECIMAL.fullmatch(key_text) or _ADDRESS.fullmatch(key_text)):
            return not_found(request, "No such trial on this dashboard.")
        data = await chain(_trial_page, source, kind, key_text, request.state.csp_nonce)
        if data is None:
            return not_found(request, "No such trial on this dashboard.")
        return page(request, "trial.html", data)

    async def payout(request: Request) -> Response:
        request.state.started = time.perf_counter()
        async with request.form(max_files=0, max_fields=8, max_part_size=1024) as form:
            why = await csrf_refusal(request, form)
            nullifier_text = str(form.get("nullifier", ""))
            milestone_text = str(form.get("milestone", ""))
        if why is not None:
            return refused(request, why)
        if source.signer is None or source.registry is None:
            return refused(request, "no signer is configured: start the dashboard with --private-key-file or "
                                    "--from to make payouts")
        trial_text = request.path_params["key"]
        if not (_DECIMAL.fullmatch(trial_text) and _DECIMAL.fullmatch(nullifier_text)
                and milestone_text.isdecimal() and 1 <= int(milestone_text) <= 255):
            return page(request, "error.html", {"title": "Bad request",
                                                "message": "trial, nullifier and milestone must be numbers"}, 400)
        trial_id, nullifier, milestone = int(trial_text), int(nullifier_text), int(milestone_text)
        registry, signer = source.registry, source.signer

        def pay() -> tuple[bool, str]:
            try:
                receipt = registry.pay_milestone(trial_id, nullifier, milestone, sender=signer)
            except ZkHealthError as error:
                return False, f"{type(error).__name__}: {error}"
            return True, "0x" + bytes(receipt["transactionHash"]).hex()

        ok, detail = await chain(pay)
        context = {"ok": ok, "detail": detail, "trial_id": trial_id, "nullifier": nullifier, "milestone": milestone,
                   "back": TrialRef("registry", str(trial_id)).path}
        return page(request, "payout.html", context, 200 if ok else 409)

    async def verify_get(request: Request) -> Response:
        request.state.started = time.perf_counter()
        return page(request, "verify.html", {"verdict": None, "samples": list(enumerate(source.samples)),
                                             "limit_kib": MAX_PROOF_BYTES // 1024})

    async def verify_post(request: Request) -> Response:
        request.state.started = time.perf_counter()
        async with request.form(max_files=1, max_fields=4, max_part_size=MAX_PROOF_BYTES + 1) as form:
            why = await csrf_refusal(request, form)
            upload = form.get("proof_file")
            data = b""
            if why is None and isinstance(upload, UploadFile):
                data = await upload.read(MAX_PROOF_BYTES + 1)
            if not data.strip():
                text = form.get("proof_text")
                data = text.encode("utf-8") if isinstance(text, str) else b""
        if why is not None:
            return refused(request, why)
        if not data.strip():
            return page(request, "verify.html", {"verdict": None, "samples": list(enumerate(source.samples)),
                                                 "limit_kib": MAX_PROOF_BYTES // 1024,
                                                 "message": "Choose a proof file or paste one."}, 400)
        verdict = await chain(check_proof, source, data)
        return page(request, "verify.html", {"verdict": verdict, "samples": list(enumerate(source.samples)),
                                             "limit_kib": MAX_PROOF_BYTES // 1024})

    async def sample(request: Request) -> Response:
        index_text = request.path_params["index"]
        index = int(index_text) if index_text.isdecimal() and len(index_text) < 4 else -1
        if not 0 <= index < len(source.samples):
            return not_found(request, "No such sample proof.")
        item = source.samples[index]
        return Response(item.text, media_type="application/json",
                        headers={"content-disposition": f'attachment; filename="sample-proof-{index}.json"'})

    async def audit_page(request: Request) -> Response:
        request.state.started = time.perf_counter()
        filters = _audit_filters(request)
        data = await chain(_audit_page, source, filters)
        return page(request, "audit.html", data)

    async def audit_csv(request: Request) -> Response:
        filters = _audit_filters(request)

        def export() -> str | None:
            report = source.audit_report()
            if report is None:
                return None
            events = tuple(e for e in report.events if _matches(e, filters))
            return AuditReport(events, report.findings, report.contracts).to_csv()

        text = await chain(export)
        if text is None:
            return not_found(request, "Nothing to audit: no registry or enrollment contract is configured.")
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="zkhealth-audit.csv"'})

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def not_found_handler(request: Request, exc: Exception) -> Response:
        if not hasattr(request.state, "csp_nonce"):
            return HTMLResponse("Not found", status_code=404)
        return not_found(request, "There is no page here.")

    routes = [
        Route("/", trials),
        Route("/trials/registry/{key}/payout", payout, methods=["POST"]),
        Route("/trials/{kind}/{key}", trial),
        Route("/verify", verify_get, methods=["GET"]),
        Route("/verify", verify_post, methods=["POST"]),
        Route("/samples/{index}.json", sample),
        Route("/audit", audit_page),
        Route("/audit.csv", audit_csv),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(packages=[("zkhealth.dashboard", "static")]), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        Middleware(SecurityMiddleware, max_body=MAX_BODY_BYTES, secret=key),
    ]
    return Starlette(debug=debug, routes=routes, middleware=middleware,
                     exception_handlers={404: not_found_handler})
