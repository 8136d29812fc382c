"""`zkhealth demo` and :func:`zkhealth.demo.run_demo`: the whole story, twice, with a temporary key cache.

The slow test runs the story from Python on a fresh cache (setup included), then through the command with
``--json`` on the same cache (keys reused), and checks the story's outcomes both times: one enrollment, the
ineligible patient refused with `age >= 18` before proving, the second enrollment refused with NullifierUsed, the
revoked credential refused after the root update (StaleRootError in Python, StaleRoot on-chain,
CredentialRevokedError at proving time), a cohort of one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zkhealth.cli import EXIT_ERROR, EXIT_OK, main
from zkhealth.demo import (
    STEP_TITLES,
    DemoResult,
    DemoStep,
    _aged_minor,
    _load_or_setup,
    default_cache_dir,
    demo_data,
    run_demo,
)
from zkhealth.demo_universal import UNIVERSAL_STEP_TITLES
from zkhealth.eligibility import Trial


@pytest.mark.native
def test_demo_data_is_packaged_and_the_minor_never_ages() -> None:
    spec = demo_data("trial.json")
    assert spec["criteria"] == "diagnosis in E11.* and age >= 18"
    adult = demo_data("t2d_adult.json")
    assert adult["resourceType"] == "Bundle"
    for today in (dt.date(2026, 11, 21), dt.date(2040, 2, 29)):
        minor = _aged_minor(demo_data("t2d_minor.json"), today)
        patient = next(e["resource"] for e in minor["entry"] if e["resource"]["resourceType"] == "Patient")
        born = dt.date.fromisoformat(patient["birthDate"])
        assert 14 <= (today - born).days // 365 <= 15 and born.year == today.year - 15


@pytest.mark.native
def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "zkhealth" / "demo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "zkhealth" / "demo"


@pytest.mark.native
def test_demo_help_and_an_unreachable_node() -> None:
    runner = CliRunner()
    help_text = runner.invoke(main, ["demo", "--help"], prog_name="zkhealth").stdout
    for needle in ("FHIR", "age >= 18", "NullifierUsed", "StaleRoot", "--rpc", "--cache"):
        assert needle in help_text
    result = runner.invoke(main, ["demo", "--rpc", "http://127.0.0.1:9", "--no-cache"], prog_name="zkhealth")
    assert result.exit_code == EXIT_ERROR
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: ChainError: cannot reach the node"), result.stderr


def _check_story(result: DemoResult, *, universal: bool) -> None:
    expected = STEP_TITLES + (UNIVERSAL_STEP_TITLES if universal else ())
    assert [s.key for s in result.steps] == [key for key, _ in expected]
    assert all(s.seconds > 0 for s in result.steps)
    assert result.refused_clause == "age >= 18"
    assert result.second_enrollment_error == "NullifierUsed"
    assert result.revoked_refusals == {"python": "StaleRootError", "contract": "StaleRoot",
                                       "prover": "CredentialRevokedError"}
    assert len(result.cohort) == 1 and result.cohort[0]["status"] == "enrolled"
    assert result.cohort[0]["nullifier"] == str(result.enrolled_nullifier)
    assert result.step("enroll").details["gas_used"] < 300_000
    assert result.contract_address.startswith("0x") and result.chain == "embedded py-evm"


@pytest.mark.evm
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::zkhealth.eligibility.universal_keys.DevelopmentKeyWarning")
def test_the_demo_tells_the_story_twice_and_reuses_its_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            universal_key_file: Path) -> None:
    """The first run stops after step 12 (``universal=False``); the command's run tells the whole story,
    the universal steps included: two registry trials, one key set, two nullifiers."""
    cache = tmp_path / "cache"
    started: list[tuple[int, int, str]] = []
    finished: list[DemoStep] = []
    first = run_demo(cache_dir=cache, on_step_start=lambda n, t, title: started.append((n, t, title)),
                     on_step_done=lambda n, step: finished.append(step), universal=False)
    _check_story(first, universal=False)
    assert first.universal is None
    assert not first.used_cached_keys and first.step("setup").details["cached"] is False
    assert [n for n, _, _ in started] == list(range(1, len(STEP_TITLES) + 1)) and finished == first.steps
    slots = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(slots) == 1 and (slots[0] / "manifest.json").is_file()

    result = CliRunner().invoke(main, ["--json", "demo", "--cache", str(cache)], prog_name="zkhealth")
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    second = json.loads(result.stdout)
    assert second["used_cached_keys"] is True
    assert second["refused_clause"] == "age >= 18" and second["second_enrollment_error"] == "NullifierUsed"
    assert second["revoked_refusals"]["contract"] == "StaleRoot"
    assert len(second["cohort"]) == 1 and second["cohort"][0]["nullifier"] == second["enrolled_nullifier"]
    steps = {s["key"]: s for s in second["steps"]}
    assert [s["key"] for s in second["steps"]] == [key for key, _ in STEP_TITLES + UNIVERSAL_STEP_TITLES]
    assert steps["setup"]["details"]["cached"] is True
    universal = second["universal"]
    assert len(set(universal["nullifiers"])) == 2 and second["enrolled_nullifier"] not in universal["nullifiers"]
    assert universal["enroll_gas"] <= 260_000 and universal["create_trial_gas"] <= 300_000
    # the first registry trial pays its enrollment reward (10 TRW) in the enrollment transaction
    assert universal["reward_paid"] == 10 * 10**18 and universal["enroll_with_reward_gas"] <= 320_000
    assert "paid 10 TRW in the same transaction" in steps["enroll_universal"]["outcome"]
    assert len(steps["trials"]["details"]["trials"]) == 2
    assert steps["setup"]["seconds"] < first.step("setup").seconds
    # A stale cache (keys pinned to other criteria under this slot's name) is not used: setup would run again.
    manifest = slots[0] / "manifest.json"
    data = json.loads(manifest.read_text())
    data["criteriaSha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    trial = Trial(demo_data("trial.json")["criteria"], trial_id="stale-cache-check")

    def no_setup() -> None:
        raise LookupError("setup would run again")

    monkeypatch.setattr(trial, "setup", no_setup)
    record: dict[str, Any] = {"outcome": "", "details": {}}
    with pytest.raises(LookupError):
        _load_or_setup(trial, cache, record)
    assert record["details"]["cache_error"].startswith("VerifyingKeyMismatchError")
