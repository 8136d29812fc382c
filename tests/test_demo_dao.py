"""The patient data DAO story (zkhealth.demo_dao.run_dao_demo): with the STAND-IN universal circuit of
tests/chain_standins.py (real Groth16 keys, a tiny circuit: the story's checks), and through ``zkhealth demo dao``
with the REAL universal circuit and its pinned key set; the real vote circuit both times, on py-evm with the fast
pairing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import chain_standins as standins
import pytest
from click.testing import CliRunner

from zkhealth.cli import EXIT_OK, main
from zkhealth.demo_dao import DAO_STEP_TITLES, UniversalEnrollment, run_dao_demo

pytestmark = [pytest.mark.evm, pytest.mark.prove, pytest.mark.slow]

PROGRAM = [9, 9, 9, 9]


def test_dao_story_goes_as_told() -> None:
    standin = standins.universal_standin()

    def prove(scope: int, today: int, recipient: str, issuer_root: int, person_root: int) -> tuple[Any, list[int]]:
        return standin.prove(standins.universal_inputs(
            secret=0xFEED, program=PROGRAM, scope=scope, today=today, issuer_root=issuer_root,
            person_root=person_root, recipient=recipient))

    seen: list[str] = []
    result = run_dao_demo(UniversalEnrollment(standin.vk, standins.program_hash(PROGRAM), prove),
                          on_step_start=lambda n, total, title: seen.append(title))
    assert [s.key for s in result.steps] == [key for key, _ in DAO_STEP_TITLES]
    assert seen == [title for _, title in DAO_STEP_TITLES]
    assert result.findings == []
    audit_lines = result.steps[-1].outcome.splitlines()
    assert "no finding" in audit_lines[0] and [line.strip() for line in audit_lines[1:]] == result.history
    assert result.figures["enroll_with_reward_gas"] <= 320_000
    assert result.figures["vote_gas"] <= 350_000
    assert "NullifierAlreadyVoted" in result.steps[6].outcome
    assert any("IssuerAdded" in line for line in result.history)
    assert any("RewardPaid" in line for line in result.history)
    assert result.to_dict()["steps"][3]["key"] == "enroll"


@pytest.mark.filterwarnings("ignore::zkhealth.eligibility.universal_keys.DevelopmentKeyWarning")
def test_demo_dao_with_the_real_universal_circuit(universal_key_file: Path) -> None:
    result = CliRunner().invoke(main, ["--json", "demo", "dao"], prog_name="zkhealth")
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    assert "DEVELOPMENT KEYS" in result.stderr
    story = json.loads(result.stdout)
    assert [s["key"] for s in story["steps"]] == [key for key, _ in DAO_STEP_TITLES]
    assert story["findings"] == [] and story["figures"]["enroll_with_reward_gas"] <= 320_000
