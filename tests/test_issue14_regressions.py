"""The two bugs of issue 14, each with a test that failed before the fix.

1. Criteria whose top level is a negated diagnosis clause, or a negated `or` of three or more parts, failed
   to compile with ``UnconstrainedSignalError: is_zero_inverse`` (the v1 compiler's zero test of a sum,
   forced to 0 by the negation, left its inverse hint in no constraint). The criteria programs, and the
   dedicated circuit that replaced the v1 circuit, compile them.
2. ``zkhealth trial new`` said it "needs web3" under the ``[fast]`` install, although the scope defaults to
   the off-chain one: the scope rule now has one implementation without web3 (``zkhealth.eligibility.scope``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zkhealth.eligibility import compile_dedicated_circuit
from zkhealth.eligibility.program import compile_program
from zkhealth.eligibility.scope import parse_address, trial_scope
from zkhealth.errors import EligibilityError, EncodingError
from zkhealth.hash.keccak import keccak256

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
NEGATED = [
    "not diagnosis in E10",
    "diagnosis not in E10",
    "not diagnosed_within(I21, 84 days)",
    "not (age < 18 or egfr < 30 or systolic_bp > 180)",
]


@pytest.mark.witness
@pytest.mark.parametrize("criteria", NEGATED)
def test_negated_top_level_clauses_compile_in_the_dedicated_circuit(criteria: str) -> None:
    compiled = compile_dedicated_circuit(compile_program(criteria))
    assert compiled.r1cs.n_constraints > 13_000


@pytest.mark.native
@pytest.mark.parametrize("criteria", NEGATED)
def test_negated_top_level_clauses_compile_to_programs(criteria: str) -> None:
    program = compile_program(criteria)
    assert program.atoms
    assert program.root.is_and


@pytest.mark.native
def test_keccak256_known_answers() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    # Around the 136-byte rate: padding in the same block, in a block of its own.
    for size in (135, 136, 137, 272):
        assert len(keccak256(b"\xa5" * size)) == 32
    assert keccak256(b"\xa5" * 135) != keccak256(b"\xa5" * 136)


@pytest.mark.native
def test_keccak_and_scope_match_eth_hash_when_installed() -> None:
    eth_hash = pytest.importorskip("eth_hash.auto")
    for size in (0, 1, 64, 135, 136, 137, 500):
        data = bytes(range(256))[:size] * 1 if size <= 256 else os.urandom(size)
        assert keccak256(data) == eth_hash.keccak(data)
    eth_utils = pytest.importorskip("eth_utils.address")
    address = eth_utils.to_checksum_address("0x" + os.urandom(20).hex())
    assert parse_address(address) == address.lower()  # a correct EIP-55 checksum is accepted


@pytest.mark.native
def test_scope_refuses_a_wrong_checksum_and_bad_inputs() -> None:
    good = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert parse_address(good) == good.lower()
    letter = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
    bad_case = good[:letter] + good[letter].swapcase() + good[letter + 1 :]
    with pytest.raises(EncodingError):
        parse_address(bad_case)
    with pytest.raises(EligibilityError):
        trial_scope(1, good, b"short")
    with pytest.raises(EligibilityError):
        trial_scope(-1, good, b"\0" * 32)
    assert trial_scope(0, "0x" + "00" * 20, b"\0" * 32) < 1 << 253


@pytest.mark.native
def test_trial_new_works_without_web3(tmp_path: Path) -> None:
    """Run `zkhealth trial new` in a process where web3 and eth_* cannot be imported (the [fast] install)."""
    out = tmp_path / "trial.json"
    script = (
        "import sys\n"
        "for name in ('web3', 'eth_utils', 'eth_hash', 'eth_account', 'eth_typing', 'eth_abi'):\n"
        "    sys.modules[name] = None\n"
        "from zkhealth.cli import main\n"
        f"main(['trial', 'new', '--criteria', 'diagnosis in E11.* and age >= 18', '--trial-id', 'NCT05000001',"
        f" '--out', {str(out)!r}, '--operator', {OPERATOR!r}, '--dedicated'], standalone_mode=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    trial = json.loads(out.read_text())
    assert "web3" not in result.stderr
    assert int(trial["scope"]) == trial_scope(0, "0x" + "00" * 20, b"NCT05000001".ljust(32, b"\0"))
