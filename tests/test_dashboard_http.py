"""The dashboard over HTTP (Starlette's TestClient, no browser): routing, escaping, CSRF, size limits, the host
check, headers, the proof verdicts, payouts, the CSV export, and the bind rule of `zkhealth serve`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import dashboard_world as dw
import pytest
from starlette.testclient import TestClient

from zkhealth.cli import run
from zkhealth.dashboard.app import MAX_BODY_BYTES, create_app
from zkhealth.dashboard.proofcheck import MAX_PROOF_BYTES
from zkhealth.dashboard.security import CSRF_COOKIE, check_bind, is_loopback
from zkhealth.dashboard.server import RunningServer, bind_socket
from zkhealth.errors import InvalidArgumentError
from zkhealth.field import FIELD_Q

pytestmark = pytest.mark.evm

BASE = "http://127.0.0.1"


@pytest.fixture(scope="module")
def world() -> dw.World:
    return dw.build_world()


@pytest.fixture
def http(world: dw.World) -> Iterator[TestClient]:
    with TestClient(create_app(world.source(signer=world.recruiter)), base_url=BASE) as client:
        yield client


def token(client: TestClient, path: str = "/verify") -> str:
    """Load a page (which sets the CSRF cookie) and return its form token."""
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert found is not None
    return found.group(1)


def verdict_of(text: str) -> str:
    found = re.search(r'data-verdict="(\w+)"', text)
    assert found is not None, text
    return found.group(1)


def test_pages_and_routing(world: dw.World, http: TestClient) -> None:
    for path in ["/", "/trials/registry/1", "/trials/registry/2", f"/trials/contract/{world.v1_address}",
                 f"/trials/contract/{world.v2_address.lower()}", "/verify", "/audit", "/audit?event=Enrolled"]:
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert re.fullmatch(r"app;dur=[0-9.]+", response.headers["server-timing"])
    for path in ["/trials/registry/3", "/trials/registry/0", "/trials/registry/abc", "/trials/other/1",
                 f"/trials/contract/{world.accounts[0]}", "/trials/contract/0x1234", "/nowhere", "/samples/7.json"]:
        assert http.get(path).status_code == 404, path
    assert http.post("/").status_code == 405
    assert http.get("/healthz").text == "ok"
    assert http.get("/static/style.css").headers["content-type"].startswith("text/css")
    sample = http.get("/samples/0.json")
    assert sample.status_code == 200 and json.loads(sample.text)["format"] == "zkhealth.eligibility-proof"


def test_trials_page_counts(world: dw.World, http: TestClient) -> None:
    text = http.get("/").text
    rows = re.findall(r'<tr data-trial="([^"]+)">.*?class="num enrolled">(\d+)<.*?class="num active">(\d+)<', text,
                      re.S)
    assert rows == [("/trials/registry/1", "8", "6"), ("/trials/registry/2", "0", "0"),
                    (f"/trials/contract/{world.v1_address}", "2", "2"),
                    (f"/trials/contract/{world.v2_address}", "3", "2")]


def test_strings_from_the_chain_are_escaped(http: TestClient) -> None:
    trials = http.get("/").text
    assert "&lt;b&gt;x&lt;/b&gt;" in trials and "<b>x</b>" not in trials
    audit = http.get("/audit").text
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in audit
    assert "<script" not in audit and 'id="injected"' not in audit
    trial = http.get("/trials/registry/2").text
    assert "<b>x</b>" not in trial and "&lt;b&gt;x&lt;/b&gt;" in trial


def test_upload_strings_are_escaped(http: TestClient) -> None:
    hostile = json.dumps({"format": "zkhealth.eligibility-proof", "version": "<img src=x id=injected>"})
    page = http.post("/verify", data={"csrf_token": token(http), "proof_text": hostile})
    assert page.status_code == 200 and verdict_of(page.text) == "invalid"
    assert "&lt;img src=x id=injected&gt;" in page.text and "<img" not in page.text


def test_headers(http: TestClient) -> None:
    response = http.get("/trials/registry/1")
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", policy)
    assert nonce is not None
    styles = re.findall(r"<style[^>]*>", response.text)
    assert styles and all(f'nonce="{nonce.group(1)}"' in s for s in styles)
    assert "<script" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(CSRF_COOKIE + "=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_host_header_is_checked(world: dw.World) -> None:
    """A DNS-rebinding page reaches the port under another host name: refused."""
    with TestClient(create_app(world.source()), base_url="http://attacker.example") as client:
        assert client.get("/").status_code == 400
    with TestClient(create_app(world.source()), base_url="http://localhost:8000") as client:
        assert client.get("/").status_code == 200


def test_csrf(world: dw.World, http: TestClient) -> None:
    proof = world.v1_proof(0xE1, world.accounts[9]).to_json()
    good = token(http)
    assert http.post("/verify", data={"csrf_token": good, "proof_text": proof}).status_code == 200
    assert http.post("/verify", data={"csrf_token": "0" * 64, "proof_text": proof}).status_code == 403
    assert http.post("/verify", data={"proof_text": proof}).status_code == 403
    other = http.post("/verify", data={"csrf_token": good, "proof_text": proof},
                      headers={"origin": "http://attacker.example"})
    assert other.status_code == 403
    assert http.post("/verify", data={"csrf_token": good, "proof_text": proof},
                     headers={"origin": "null"}).status_code == 403
    with TestClient(create_app(world.source()), base_url=BASE) as fresh:  # no cookie yet
        assert fresh.post("/verify", data={"csrf_token": good, "proof_text": proof}).status_code == 403
        # another visitor's token does not fit this visitor's cookie
        fresh.cookies.set(CSRF_COOKIE, "ab" * 32)
        assert fresh.post("/verify", data={"csrf_token": good, "proof_text": proof}).status_code == 403


def test_size_limits(world: dw.World, http: TestClient) -> None:
    good = token(http)
    huge = b"x" * (MAX_BODY_BYTES + 1)
    assert http.post("/verify", content=huge, headers={"content-type": "application/json"}).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b"y" * 4096

    streamed = http.post("/verify", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
    assert streamed.status_code == 413
    big_file = b'{"format": "zkhealth.eligibility-proof", "pad": "' + b"z" * MAX_PROOF_BYTES + b'"}'
    assert len(big_file) < MAX_BODY_BYTES
    page = http.post("/verify", data={"csrf_token": good}, files={"proof_file": ("p.json", big_file)})
    assert page.status_code in (200, 400, 413)
    if page.status_code == 200:
        assert verdict_of(page.text) == "invalid"
    deep = "[" * 40 + "]" * 40  # the strict loader's depth limit
    page = http.post("/verify", data={"csrf_token": good, "proof_text": deep})
    assert verdict_of(page.text) == "invalid" and "nested deeper" in page.text


def test_verdicts(world: dw.World, http: TestClient) -> None:
    good = token(http)

    def judge(text: str) -> tuple[str, str]:
        page = http.post("/verify", data={"csrf_token": good}, files={"proof_file": ("proof.json", text.encode())})
        assert page.status_code == 200
        return verdict_of(page.text), page.text

    fresh = world.v1_proof(0xE2, world.accounts[9])
    kind, text = judge(fresh.to_json())
    assert kind == "valid" and str(fresh.public[0]) in text and "NCT09000009" in text
    enrolled = world.v1_proof(world.v1_nullifiers[0], world.accounts[5])
    kind, text = judge(enrolled.to_json())
    assert kind == "refused" and "NullifierUsed" in text
    tampered = fresh.to_dict()  # A negated: still a curve point, no longer the proof
    tampered["proof"]["pi_a"][1] = str(FIELD_Q - int(tampered["proof"]["pi_a"][1]))
    kind, text = judge(json.dumps(tampered))
    assert kind == "invalid" and "pairing check failed" in text
    signal = fresh.to_dict()
    signal["public"][4] = str(int(world.accounts[8], 16))
    signal["publicSignals"]["recipient"] = signal["public"][4]
    kind, text = judge(json.dumps(signal))
    assert kind == "invalid" and "pairing check failed" in text
    v2 = world.v2_proof(0xE3, world.accounts[9])
    assert judge(v2.to_json())[0] == "valid"
    stale_root = world.v2_proof(0xE4, world.accounts[9], root=999)
    kind, text = judge(stale_root.to_json())
    assert kind == "invalid" and "UnknownRoot" in text
    other_trial = world.v1_proof(0xE5, world.accounts[9]).to_dict()
    other_trial["public"][1] = other_trial["publicSignals"]["scope"] = "12345"
    kind, text = judge(json.dumps(other_trial))
    assert kind == "invalid" and "WrongScope" in text
    assert judge("not json")[0] == "invalid"
    assert judge('{"a": 1, "a": 2}')[0] == "invalid"
    empty = http.post("/verify", data={"csrf_token": good, "proof_text": "  "})
    assert empty.status_code == 400


def test_payout_needs_signer_and_token(world: dw.World) -> None:
    nullifier = world.nullifiers[3]
    paid_before = world.registry.contract.functions.milestonesPaid(1, nullifier).call()
    with TestClient(create_app(world.source()), base_url=BASE) as readonly:
        form = {"csrf_token": token(readonly), "nullifier": str(nullifier), "milestone": "1"}
        assert 'action="/trials/registry/1/payout"' not in readonly.get("/trials/registry/1").text
        assert readonly.post("/trials/registry/1/payout", data=form).status_code == 403
    with TestClient(create_app(world.source(signer=world.recruiter)), base_url=BASE) as signed:
        page = signed.get("/trials/registry/1").text
        assert 'action="/trials/registry/1/payout"' in page
        form = {"nullifier": str(nullifier), "milestone": "1"}
        assert signed.post("/trials/registry/1/payout", data=form).status_code == 403  # no token
        assert world.registry.contract.functions.milestonesPaid(1, nullifier).call() == paid_before
        form["csrf_token"] = token(signed, "/trials/registry/1")
        done = signed.post("/trials/registry/1/payout", data=form)
        assert done.status_code == 200 and "Milestone #1 paid" in done.text
        assert world.registry.contract.functions.milestonesPaid(1, nullifier).call() != paid_before
        again = signed.post("/trials/registry/1/payout", data=form)
        assert again.status_code == 409 and "AlreadyPaid" in again.text
        bad = signed.post("/trials/registry/1/payout", data={**form, "milestone": "x"})
        assert bad.status_code == 400


def test_audit_filters_and_csv(world: dw.World, http: TestClient) -> None:
    everything = http.get("/audit").text
    total = int(re.search(r'id="event-count">(\d+) events', everything).group(1))  # type: ignore[union-attr]
    enrolled = http.get("/audit", params={"event": "Enrolled"}).text
    rows = re.findall(r'<tr data-event="(\w+)">', enrolled)
    assert set(rows) == {"Enrolled"}
    assert len(rows) == dw.REGISTRY_ENROLLMENTS + dw.V1_ENROLLMENTS + dw.V2_ENROLLMENTS < total
    trial_rows = re.findall(r'<tr data-event="(\w+)">', http.get("/audit", params={"trial": "1"}).text)
    assert trial_rows.count("Enrolled") == dw.REGISTRY_ENROLLMENTS and "TrustRootUpdated" not in trial_rows
    v2_rows = re.findall(r'<tr data-event="(\w+)">', http.get("/audit", params={"trial": world.v2_address}).text)
    assert v2_rows.count("Enrolled") == dw.V2_ENROLLMENTS and v2_rows.count("Withdrawn") == 1
    searched = re.findall(r'<tr data-event="(\w+)">', http.get("/audit", params={"q": "window.hacked"}).text)
    assert searched == ["AccessGranted"]
    export = http.get("/audit.csv", params={"event": "Enrolled"})
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(export.text)))
    assert table[0][:3] == ["kind", "block", "timestamp"]
    events = [row for row in table[1:] if row[0] == "event"]
    assert len(events) == len(rows) and {row[7] for row in events} == {"Enrolled"}
    granted = list(csv.reader(io.StringIO(http.get("/audit.csv", params={"event": "AccessGranted"}).text)))
    assert json.loads(granted[1][8])["uri"] == dw.HOSTILE_URI


def test_bind_rule() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host)
        check_bind(host, allow_remote=False)
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):  # noqa: S104 - the addresses refused
        assert not is_loopback(host)
        with pytest.raises(InvalidArgumentError):
            check_bind(host, allow_remote=False)
        check_bind(host, allow_remote=True)
    with pytest.raises(InvalidArgumentError):
        bind_socket("0.0.0.0", 0)  # noqa: S104
    sock = bind_socket("127.0.0.1", 0)
    try:
        with pytest.raises(InvalidArgumentError):
            bind_socket("127.0.0.1", sock.getsockname()[1])  # in use
    finally:
        sock.close()


def test_serve_command_refuses_remote_and_missing_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["serve", "--host", "0.0.0.0", "--demo"]) == 2  # noqa: S104
    assert "refusing to bind" in capsys.readouterr().err
    assert run(["serve"]) == 2
    assert run(["serve", "--rpc", "http://127.0.0.1:9"]) == 2
    assert run(["serve", "--demo", "--registry", "0x" + "1" * 40]) == 2


def test_running_server_serves_loopback_and_stops(world: dw.World) -> None:
    import urllib.request

    with RunningServer(world.source()) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "healthz", timeout=10) as reply:  # noqa: S310 - loopback
            assert reply.read() == b"ok"
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "healthz", timeout=2)  # noqa: S310 - stopped: refused
