"""The dashboard in a real browser: Playwright for Python driving the Chromium of Debian's package
(``apt-get install chromium``; Playwright's own browser download is not used), against the server on 127.0.0.1.

Every page loads without a console error or a failed request, on a laptop and on a phone (and nothing is wider
than the phone's screen); a valid and a tampered proof upload show their verdicts; the enrollment chart draws as
many points as the chain has ``Enrolled`` events; HTML in a chain string or an upload is shown as text.

Screenshots of the pages go to ``$ZKHEALTH_DASHBOARD_SCREENSHOTS`` when it is set (docs/dashboard.md's are
made so: ``ZKHEALTH_DASHBOARD_SCREENSHOTS=docs/img/dashboard pytest -m browser tests/test_dashboard_browser.py``),
else to a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dashboard_world as dw
import pytest

from zkhealth.dashboard.server import RunningServer
from zkhealth.field import FIELD_Q

pytestmark = [pytest.mark.browser, pytest.mark.evm]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1280, "height": 900}
#: The pages docs/dashboard.md shows, and whether the whole page (True) or its first screen is taken.
SCREENSHOTS = {("laptop", "trials"): True, ("laptop", "trial-registry"): True, ("laptop", "trial-contract"): False,
               ("laptop", "audit"): False, ("phone", "trials"): True, ("phone", "trial-registry"): False}
PHONE = {"width": 390, "height": 844}


def _need_chromium() -> None:
    if CHROMIUM.exists() and shutil.which("chromium"):
        return
    message = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def world() -> dw.World:
    return dw.build_world()


@pytest.fixture(scope="module")
def server(world: dw.World) -> Iterator[RunningServer]:
    with RunningServer(world.source(signer=world.recruiter)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("ZKHEALTH_DASHBOARD_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Watched:
    """A page whose console errors, page errors, failed requests and HTTP errors are collected."""

    def __init__(self, browser: Any, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _failed(self, request: Any) -> None:
        # A download (an attachment) ends its navigation with net::ERR_ABORTED, and so does the icon's request
        # when the next navigation starts before it finished: neither is a failure of the page.
        if "/audit.csv" in request.url or "/samples/" in request.url:
            return
        if request.url.endswith("/static/favicon.svg") and "ERR_ABORTED" in str(request.failure):
            return
        self.problems.append(f"failed: {request.url} {request.failure}")

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def laptop(browser: Any) -> Iterator[Watched]:
    watched = Watched(browser, LAPTOP)
    yield watched
    watched.close()


def pages(world: dw.World) -> list[tuple[str, str]]:
    return [
        ("trials", ""),
        ("trial-registry", "trials/registry/1"),
        ("trial-hostile-id", "trials/registry/2"),
        ("trial-contract", f"trials/contract/{world.v2_address}"),
        ("verify", "verify"),
        ("audit", "audit"),
        ("audit-filtered", "audit?event=Enrolled"),
    ]


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_every_page_loads_without_console_errors(world: dw.World, server: RunningServer, browser: Any, shots: Path,
                                                device: str) -> None:
    watched = Watched(browser, LAPTOP if device == "laptop" else PHONE)
    try:
        for name, path in pages(world):
            page = watched.open(server.url + path)
            assert page.locator("h1").count() == 1, path
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{path} is wider than the screen: {width}"
            if (device, name) in SCREENSHOTS:
                page.screenshot(path=str(shots / f"{device}-{name}.png"), full_page=SCREENSHOTS[device, name])
        assert watched.problems == []
    finally:
        watched.close()


def test_enrollment_chart_has_one_point_per_enrolled_event(world: dw.World, server: RunningServer,
                                                          laptop: Watched) -> None:
    registry_events = world.registry.contract.events.Enrolled().get_logs(argument_filters={"trialId": 1},
                                                                         from_block=0)
    v2_events = world.v2_contract.events.Enrolled().get_logs(from_block=0)
    for path, expected in (("trials/registry/1", len(registry_events)),
                           (f"trials/contract/{world.v2_address}", len(v2_events)),
                           ("trials/registry/2", 0)):
        page = laptop.open(server.url + path)
        assert page.locator("#enrollment-chart svg circle").count() == expected, path
        assert page.locator("#enrolled-count").inner_text() == str(expected)
    assert len(registry_events) == dw.REGISTRY_ENROLLMENTS and len(v2_events) == dw.V2_ENROLLMENTS
    assert laptop.problems == []


def test_proof_uploads_show_their_verdicts(world: dw.World, server: RunningServer, laptop: Watched,
                                          tmp_path: Path, shots: Path) -> None:
    fresh = world.v2_proof(0xBEEF, world.accounts[9])
    valid = tmp_path / "valid.json"
    valid.write_text(fresh.to_json(), encoding="utf-8")
    tampered_doc = fresh.to_dict()
    tampered_doc["proof"]["pi_a"][1] = str(FIELD_Q - int(tampered_doc["proof"]["pi_a"][1]))
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(tampered_doc), encoding="utf-8")

    page = laptop.open(server.url + "verify")
    page.set_input_files("#proof_file", str(valid))
    page.click("button[type=submit]")
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "would enroll it now" in verdict.inner_text()
    signals = page.locator("table.signals tbody tr")
    assert signals.count() == len(fresh.public)
    assert signals.nth(0).inner_text().split() == ["nullifier", str(fresh.public[0])]
    page.screenshot(path=str(shots / "laptop-verify-valid.png"), full_page=True)

    page = laptop.open(server.url + "verify")
    page.set_input_files("#proof_file", str(tampered))
    page.click("button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-verdict") == "invalid"
    assert "pairing check failed" in page.locator("#verdict .reason").inner_text()
    page.screenshot(path=str(shots / "laptop-verify-tampered.png"), full_page=True)

    enrolled = world.v2_proof(world.v2_nullifiers[1], world.accounts[7])
    page = laptop.open(server.url + "verify")
    page.fill("#proof_text", enrolled.to_json())
    page.click("button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-verdict") == "refused"
    assert "already enrolled" in page.locator("#verdict .reason").inner_text()
    assert laptop.problems == []


def test_sample_proof_downloads_and_verifies(server: RunningServer, laptop: Watched, tmp_path: Path) -> None:
    page = laptop.open(server.url + "verify")
    with page.expect_download() as download:
        page.click("a[href='/samples/0.json']")
    saved = tmp_path / "sample.json"
    download.value.save_as(str(saved))
    page.set_input_files("#proof_file", str(saved))
    page.click("button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-verdict") == "valid"


def test_html_from_the_chain_and_uploads_is_text(world: dw.World, server: RunningServer, laptop: Watched) -> None:
    page = laptop.open(server.url)
    link = page.locator("a[href='/trials/registry/2']")
    assert link.inner_text() == "<b>x</b>" and link.locator("b").count() == 0
    page = laptop.open(server.url + "audit?event=AccessGranted")
    assert page.locator("#injected").count() == 0 and page.locator("main script").count() == 0
    assert page.evaluate("() => window.hacked === undefined")
    assert dw.HOSTILE_URI in page.locator("table.events").inner_text()
    page = laptop.open(server.url + "verify")
    page.fill("#proof_text", json.dumps({"format": "zkhealth.eligibility-proof", "version": '<b id="injected">v</b>'}))
    page.click("button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-verdict") == "invalid"
    assert '<b id="injected">v</b>' in page.locator("#verdict .reason").inner_text()
    assert page.locator("#injected").count() == 0
    assert laptop.problems == []


def test_payout_from_the_trial_page(world: dw.World, server: RunningServer, laptop: Watched) -> None:
    nullifier = world.nullifiers[5]
    page = laptop.open(server.url + "trials/registry/1")
    row = page.locator("table.cohort tbody tr", has=page.locator(f"input[name=nullifier][value='{nullifier}']"))
    row.locator("select[name=milestone]").select_option("2")
    row.locator("button").click()
    assert "Milestone #2 paid" in page.locator("main").inner_text()
    assert world.registry.contract.functions.milestonesPaid(1, nullifier).call() & (1 << 2)
    page.click("text=Back to the trial")
    row = page.locator("table.cohort tbody tr", has=page.locator(f"input[name=nullifier][value='{nullifier}']"))
    assert "#2" in row.inner_text()
    assert laptop.problems == []


def test_audit_filter_and_csv_export(world: dw.World, server: RunningServer, laptop: Watched, tmp_path: Path) -> None:
    page = laptop.open(server.url + "audit")
    page.select_option("select[name=event]", "Enrolled")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.events tbody tr")
    assert rows.count() == dw.REGISTRY_ENROLLMENTS + dw.V1_ENROLLMENTS + dw.V2_ENROLLMENTS
    with page.expect_download() as download:
        page.click("#csv-export")
    saved = tmp_path / "audit.csv"
    download.value.save_as(str(saved))
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("kind,block") and sum(line.startswith("event,") for line in lines) == rows.count()
    assert laptop.problems == []
