"""The dashboard's charts: SVG rendered on the server by pygal, inlined in the page.

Why server-rendered SVG (pygal) rather than a JavaScript chart library: the page needs no script at all (the
Content-Security-Policy forbids scripts outright), nothing is fetched from anywhere (there are no assets to
ship), the charts print and scale with the page, and each point is an element of the page (a test counts the
enrollment chart's points against the ``Enrolled`` events). pygal is a maintained, pure-Python SVG charting
library with one small dependency; matplotlib would draw the same charts but brings numpy, Pillow and a font
stack for two small charts.

pygal's output is post-processed: its ``<script>`` (a configuration object for its optional tooltip script,
which we do not load), its tooltip overlay and its comments are removed, and its ``<style>`` element gets the
page's CSP nonce. The values drawn are numbers and dates only; no string from the chain reaches a chart.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any, Final

import pygal
from pygal.etree import etree
from pygal.style import Style

from zkhealth.chain.registry import ConsentStatus
from zkhealth.chain.views import EnrollmentPoint

__all__ = ["consent_chart", "enrollment_chart"]

_STYLE: Final[Style] = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#0f766e", "#b45309", "#6b7280"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=17,
    major_label_font_size=17,
    value_font_size=18,
    legend_font_size=17,
    title_font_size=18,
)
_CONSENT_ORDER: Final[tuple[ConsentStatus, ...]] = (
    ConsentStatus.ACTIVE, ConsentStatus.WITHDRAWN, ConsentStatus.EXPIRED
)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _finish(chart: Any, nonce: str, label: str) -> str:
    """The chart as an inline ``<svg>``: scripts, tooltip overlay and comments out, the nonce on its style."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            name = _local(child.tag)
            if not name or name == "script" or "tooltip-overlay" in (child.get("class") or ""):
                parent.remove(child)
            elif name == "style":
                child.set("nonce", nonce)
    root.set("role", "img")
    root.set("aria-label", label)
    text: str = etree.tostring(root, encoding="unicode")
    return text


def _config(**options: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "style": _STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "show_legend": False,
        "height": 360,
        "width": 640,
        "margin": 12,
        "no_data_text": "nothing yet",
    }
    base.update(options)
    return base


def enrollment_chart(points: Sequence[EnrollmentPoint], nonce: str) -> str:
    """Cumulative enrollments over time: one point per ``Enrolled`` event, at its block's time (UTC)."""
    chart = pygal.DateTimeLine(**_config(
        x_value_formatter=lambda when: when.strftime("%Y-%m-%d"),
        x_label_rotation=25,
        dots_size=5,
        stroke_style={"width": 2},
        show_x_guides=False,
        min_scale=2,
        max_scale=8,
    ))
    values = [
        (_dt.datetime.fromtimestamp(point.timestamp, _dt.UTC).replace(tzinfo=None), count)
        for count, point in enumerate(points, start=1)
    ]
    chart.add("enrolled", values)
    return _finish(chart, nonce, f"Enrollments over time: {len(values)} enrollments")


def consent_chart(counts: dict[ConsentStatus, int], nonce: str) -> str:
    """Consents by state (active, withdrawn, expired) as bars."""
    chart = pygal.Bar(**_config(
        show_legend=True,
        legend_at_bottom=True,
        print_values=True,
        min_scale=1,
        max_scale=6,
    ))
    chart.x_labels = ["consents"]
    for status in _CONSENT_ORDER:
        chart.add(status.value, [counts.get(status, 0)])
    total = sum(counts.values())
    summary = ", ".join(f"{counts.get(s, 0)} {s.value}" for s in _CONSENT_ORDER)
    return _finish(chart, nonce, f"Consents by state ({total} in all): {summary}")
