"""The dashboard's guards: request size, CSRF tokens, response headers, and the bind address rule.

* **Size.** :class:`SecurityMiddleware` refuses a request body above its limit with 413, from the
  ``Content-Length`` header before reading, and while reading when the header is absent or lies.
* **CSRF.** Every visitor gets a random cookie (``HttpOnly``, ``SameSite=Strict``); forms carry
  ``HMAC-SHA256(server secret, cookie)``; a POST without a cookie, or whose token does not match, is refused with
  403 (:func:`check_csrf`), as is a POST whose ``Origin`` names another site. The secret is drawn per process.
* **Headers.** A Content-Security-Policy without scripts (``script-src 'none'``) and with a per-response nonce
  for the charts' ``<style>`` elements, ``frame-ancestors 'none'``, ``form-action 'self'``; ``nosniff``,
  ``same-origin`` referrers (``no-referrer`` would make browsers send ``Origin: null`` with forms), ``no-store``.
* **Binding.** :func:`check_bind` refuses any address outside the loopback range unless the caller passes
  ``allow_remote`` (``zkhealth serve --allow-remote``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import urlsplit

from zkhealth.errors import InvalidArgumentError

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SecurityMiddleware",
    "check_bind",
    "check_csrf",
    "csrf_token",
    "is_loopback",
]

CSRF_COOKIE: Final[str] = "zkhealth_csrf"
CSRF_FIELD: Final[str] = "csrf_token"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address or ``localhost``) is on this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, allow_remote: bool) -> None:
    """Refuse to serve beyond localhost unless ``allow_remote`` (:class:`InvalidArgumentError`)."""
    if not is_loopback(host) and not allow_remote:
        raise InvalidArgumentError(
            f"refusing to bind {host}: the dashboard serves 127.0.0.1 only, unless --allow-remote is given "
            "(anyone who can reach the port can read the pages and, with a signer, trigger payouts)"
        )


def csrf_token(secret: bytes, cookie: str) -> str:
    """The form token for a visitor's cookie."""
    return hmac.new(secret, cookie.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def check_csrf(secret: bytes, cookie: str | None, token: object, origin: str | None, host: str | None) -> str | None:
    """Why a POST is refused (None: accepted): no cookie, a token that does not match it, or an ``Origin``
    header naming another host than the request's."""
    if not cookie:
        return "no CSRF cookie: load the page again before submitting"
    if not isinstance(token, str) or not hmac.compare_digest(token, csrf_token(secret, cookie)):
        return "the form's CSRF token does not match: load the page again before submitting"
    if origin is not None and origin != "null":
        if host is None or urlsplit(origin).netloc.lower() != host.lower():
            return "the form was posted from another site"
    elif origin == "null":
        return "the form was posted from an opaque origin"
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class _TooLarge(Exception):
    pass


class SecurityMiddleware:
    """Pure ASGI middleware: body limit, the CSRF cookie, the CSP nonce and the headers (module docstring).
    The nonce is ``request.state.csp_nonce`` and the visitor's cookie ``request.state.csrf_cookie``."""

    def __init__(self, app: ASGIApp, *, max_body: int, secret: bytes) -> None:
        self.app = app
        self.max_body = max_body
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        cookies = SimpleCookie()
        raw_cookie = _header(scope, b"cookie")
        if raw_cookie:
            try:
                cookies.load(raw_cookie)
            except Exception:  # noqa: BLE001 - a malformed cookie header counts as no cookie
                cookies = SimpleCookie()
        existing = cookies[CSRF_COOKIE].value if CSRF_COOKIE in cookies else ""
        fresh = not (len(existing) == 64 and all(c in "0123456789abcdef" for c in existing))
        visitor = secrets.token_hex(32) if fresh else existing
        state = scope.setdefault("state", {})
        state["csp_nonce"] = nonce
        state["csrf_cookie"] = visitor
        state["csrf_cookie_sent"] = not fresh

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", (
                        "default-src 'none'; script-src 'none'; "
                        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
                        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
                    ).encode("ascii")),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                if fresh:
                    cookie = f"{CSRF_COOKIE}={visitor}; Path=/; HttpOnly; SameSite=Strict"
                    headers.append((b"set-cookie", cookie.encode("ascii")))
                message["headers"] = headers
            await send(message)

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdecimal() or int(length) > self.max_body):
            await _too_large(send_with_headers, self.max_body)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send_with_headers, self.max_body)


async def _too_large(send: Send, limit: int) -> None:
    body = (
        "<!doctype html><meta charset=utf-8><title>Too large</title>"
        f"<p>The request is larger than this dashboard accepts ({limit // 1024} KiB). A proof file is about 2 KiB."
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
