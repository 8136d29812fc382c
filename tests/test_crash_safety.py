"""Crash tests: a process killed (SIGKILL) at a random moment while it writes leaves old or new state, never
a mix, and what is left verifies.

A writer subprocess repeats one kind of write and acknowledges each on stdout once it returned: a wallet
save (a credential added each time), a revocation (one id each time) and a proving key / keys directory
(alternating between two key sets). The test kills it after a random delay, then reopens the file: it must
open and verify, and hold the last acknowledged state or the one after it (the write under way when the
kill came). The fast tier runs a few kills per kind; the slow tier many.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_WRITER = r'''
import json, sys, random
from pathlib import Path
kind, target = sys.argv[1], Path(sys.argv[2])

def ack(value):
    print(json.dumps(value), flush=True)

if kind == "wallet":
    import datetime as dt
    from zkhealth.credentials.credential import HealthClaims, subject_commitment
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.wallet import Wallet
    wallet = Wallet.open(target, "pass")
    count = len(wallet.credentials)
    issuer = Issuer.generate()
    commitment = subject_commitment(wallet.holder_secret)
    claims = HealthClaims(birth_date=dt.date(1970, 1, 1))
    ack({"ready": count})
    while True:
        # a real credential: the wallet verifies what it stores
        document = issuer.issue(claims, subject_commitment=commitment, issued_at=20_499, expires_at=20_530).document
        wallet.add_credential(document, today=20_500)
        wallet.save()
        count += 1
        ack({"saved": count})
elif kind == "revocations":
    from zkhealth.credentials.trees import RevocationTree
    tree = RevocationTree(target)
    count = len(tree)
    ack({"ready": count})
    while True:
        tree.revoke(count + 1)
        count += 1
        ack({"saved": count})
else:
    sys.path.insert(0, sys.argv[3])
    from groth16_circuits import chain_r1cs
    from zkhealth.eligibility.trial import TrialKeys
    from zkhealth.formats.zkhpk_file import save_proving_key
    from zkhealth.groth16.generator import setup
    keys = [TrialKeys(*setup(chain_r1cs(60), rng=random.Random(seed)), "a" * 64, "b" * 64) for seed in (1, 2)]
    ack({"ready": [k.vk_sha256 for k in keys]})
    turn = 0
    while True:
        chosen = keys[turn % 2]
        if kind == "key":
            save_proving_key(chosen.pk, target)
        else:
            chosen.save(target)
        ack({"saved": chosen.vk_sha256})
        turn += 1
'''


def _kill_while_writing(kind: str, target: Path, delay: float) -> list[dict[str, object]]:
    """Start the writer, kill it ``delay`` seconds after it is ready; return its acknowledgements."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, kind, str(target), str(ROOT / "tests")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first, process.stderr.read() if process.stderr else ""
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, errors
    return [json.loads(line) for line in [first, *rest.splitlines()] if line.strip()]


def _kills(count_fast: int, count_slow: int) -> list[object]:
    return [pytest.param(count_fast, id="fast", marks=pytest.mark.native),
            pytest.param(count_slow, id="many", marks=pytest.mark.slow)]


@pytest.mark.parametrize("kills", _kills(4, 15))
def test_a_wallet_killed_while_saving_is_old_or_new(kills: int, tmp_path: Path) -> None:
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet

    path = tmp_path / "wallet.zkw"
    Wallet.create(path, "pass", kdf=KDF_FLOOR)
    rng = random.Random(19)
    for _ in range(kills):
        acks = _kill_while_writing("wallet", path, rng.uniform(0.05, 0.8))
        acknowledged = acks[-1].get("saved", acks[0]["ready"])
        stored = Wallet.open(path, "pass").credentials
        assert len(stored) in (acknowledged, acknowledged + 1)  # type: ignore[operator]
        ids = [d["id"] for d in stored]
        assert len(set(ids)) == len(ids) and all(i.startswith("urn:zkhealth:credential:") for i in ids)
        # A kill leaves the temporary file of the save under way; the next save removes it.
        assert len([p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]) <= 1


@pytest.mark.parametrize("kills", _kills(4, 15))
def test_a_revocation_database_killed_while_revoking_is_old_or_new(kills: int, tmp_path: Path) -> None:
    from zkhealth.credentials.trees import RevocationTree

    path = tmp_path / "revocations.sqlite"
    RevocationTree(path).close()
    rng = random.Random(19)
    for _ in range(kills):
        acks = _kill_while_writing("revocations", path, rng.uniform(0.05, 0.8))
        acknowledged = acks[-1].get("saved", acks[0]["ready"])
        with RevocationTree(path) as tree:
            tree.verify(full=True)
            revoked = tree.revoked_ids()
            assert len(revoked) in (acknowledged, acknowledged + 1)  # type: ignore[operator]
            assert revoked == list(range(1, len(revoked) + 1))
            assert tree.roots(1)[0].root == tree.root


@pytest.mark.parametrize("kind", ["key", "keys-directory"])
@pytest.mark.parametrize("kills", _kills(3, 10))
def test_a_key_killed_while_written_is_old_or_new(kind: str, kills: int, tmp_path: Path) -> None:
    from zkhealth.eligibility.trial import TrialKeys
    from zkhealth.formats.zkhpk_file import load_proving_key

    target = tmp_path / ("key.zkhpk" if kind == "key" else "keys")
    rng = random.Random(19)
    for _ in range(kills):
        acks = _kill_while_writing(kind, target, rng.uniform(0.3, 2.5))
        valid = set(acks[0]["ready"])  # type: ignore[arg-type]
        if len(acks) == 1:
            continue  # killed before the first write: nothing to check
        # Alternating between two key sets, "old or new" is "one of the two, whole": the key file loads (its
        # sha256 trailer checks) and the keys directory's three files agree with each other.
        loaded = load_proving_key(target).vk.sha256() if kind == "key" else TrialKeys.load(target).vk_sha256
        assert loaded in valid
