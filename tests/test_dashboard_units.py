"""The dashboard's pure parts: charts (SVG without script, one point per enrollment, the page's nonce on the
style), CSRF tokens and their checks, and the page filters' formatting."""

from __future__ import annotations

import re

import pytest

from zkhealth.chain.registry import ConsentStatus
from zkhealth.chain.views import EnrollmentPoint
from zkhealth.dashboard import app, charts
from zkhealth.dashboard.security import check_csrf, csrf_token

pytestmark = pytest.mark.native

SECRET = b"k" * 32


def points(n: int) -> list[EnrollmentPoint]:
    return [EnrollmentPoint(i + 1, 1_790_000_000 + 86_400 * i, 7 + i, f"0x{i:064x}") for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_enrollment_chart_has_one_point_per_enrollment(n: int) -> None:
    svg = charts.enrollment_chart(points(n), "NONCE")
    assert svg.startswith("<svg") and svg.count("<circle") == n
    assert "<script" not in svg and "tooltip-overlay" not in svg and "<!--" not in svg
    assert re.findall(r"<style[^>]*>", svg) == ['<style type="text/css" nonce="NONCE">']
    assert f"{n} enrollments" in svg  # the accessible label


def test_consent_chart_draws_each_state() -> None:
    svg = charts.consent_chart({ConsentStatus.ACTIVE: 6, ConsentStatus.WITHDRAWN: 1, ConsentStatus.EXPIRED: 2}, "N")
    assert "<script" not in svg and svg.count('class="rect reactive tooltip-trigger"') == 3
    assert "6 active, 1 withdrawn, 2 expired" in svg


def test_csrf_checks() -> None:
    cookie = "ab" * 32
    token = csrf_token(SECRET, cookie)
    assert check_csrf(SECRET, cookie, token, None, "127.0.0.1:8000") is None
    assert check_csrf(SECRET, cookie, token, "http://127.0.0.1:8000", "127.0.0.1:8000") is None
    assert check_csrf(SECRET, None, token, None, "127.0.0.1:8000") is not None
    assert check_csrf(SECRET, "cd" * 32, token, None, "127.0.0.1:8000") is not None
    assert check_csrf(b"other" * 8, cookie, token, None, "127.0.0.1:8000") is not None
    assert check_csrf(SECRET, cookie, None, None, "127.0.0.1:8000") is not None
    assert check_csrf(SECRET, cookie, token, "http://evil.example", "127.0.0.1:8000") is not None
    assert check_csrf(SECRET, cookie, token, "http://127.0.0.1:9999", "127.0.0.1:8000") is not None
    assert check_csrf(SECRET, cookie, token, "null", "127.0.0.1:8000") is not None


def test_formatting_filters() -> None:
    assert app._amount(187 * 10**18, 18) == "187"
    assert app._amount(15 * 10**17, 18) == "1.5"
    assert app._amount(0, 18) == "0"
    assert app._daytext("withdrawn on day 20795") == "withdrawn on 2026-12-08"
    assert app._short("0x" + "ab" * 20, 6) == "0xabab…ababab"
    assert app._short("12345") == "12345"
    assert app._arg(True) == "true" and app._arg(b"\x01\x02") == "0x0102"
    assert app._argtext("<b>x</b>") == "<b>x</b>"  # escaped by the template, never here
    assert app._duration(86_400) == "1 day" and app._duration(7200) == "2 h"
    assert app._when(0) == "1970-01-01 00:00 UTC" and app._when(None) == "-"
