"""The front door: ``import zkhealth`` gives the nouns a user needs, imported on first use, and fast."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import zkhealth
import zkhealth.credentials as credentials

pytestmark = pytest.mark.native

SRC = Path(__file__).resolve().parent.parent / "src"


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True, text=True, timeout=60, check=True, env={"PYTHONPATH": str(SRC), "PATH": ""},
    )


def test_import_zkhealth_loads_nothing_heavy() -> None:
    run = _fresh_python("import sys, json, zkhealth; print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(run.stdout))
    assert {m for m in loaded if m.startswith("zkhealth")} == {"zkhealth", "zkhealth.errors"}
    assert not loaded & {"nacl", "web3", "click", "fhir", "gmpy2", "rich", "sqlite3"}
    # -X importtime: the cumulative microseconds of importing the package itself (budget 0.3 s, uses ~3 ms)
    line = next(row for row in run.stderr.splitlines() if row.rstrip().endswith("| zkhealth"))
    assert int(line.split("|")[1]) < 300_000


def test_the_nouns_resolve_to_the_library_classes() -> None:
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.persons import PersonRegistry
    from zkhealth.credentials.record import PatientRecord, RecordCredential
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import TrustedIssuers
    from zkhealth.credentials.trust_roots import TrustRootDocument
    from zkhealth.credentials.wallet import Wallet
    from zkhealth.eligibility import EligibilityProof, Policy, Trial, TrialSpec, prove
    from zkhealth.errors import MalformedInputError, RefusedError, ZkHealthError

    expected = {
        "Issuer": Issuer, "Wallet": Wallet, "Registry": TrustedIssuers, "RevocationTree": RevocationTree,
        "PersonRegistry": PersonRegistry, "TrustRootDocument": TrustRootDocument, "PatientRecord": PatientRecord,
        "Credential": RecordCredential, "Policy": Policy, "Trial": Trial, "TrialSpec": TrialSpec,
        "EligibilityProof": EligibilityProof, "prove": prove, "ZkHealthError": ZkHealthError,
        "MalformedInputError": MalformedInputError, "RefusedError": RefusedError,
    }
    for name, value in expected.items():
        assert getattr(zkhealth, name) is value, name
        assert name in zkhealth.__all__ and name in dir(zkhealth)
    assert callable(zkhealth.verify)
    with pytest.raises(AttributeError):
        zkhealth.NoSuchThing  # noqa: B018


def test_verify_is_the_trials_verification() -> None:
    calls = []

    class Recorder:
        def verify(self, proof: object, **options: object) -> str:
            calls.append((proof, options))
            return "verified"

    assert zkhealth.verify(Recorder(), "proof", today=3) == "verified"  # type: ignore[arg-type]
    assert calls == [("proof", {"today": 3})]


def test_credentials_exports_its_whole_public_surface() -> None:
    for info in pkgutil.iter_modules(credentials.__path__):
        module = importlib.import_module(f"zkhealth.credentials.{info.name}")
        for name in getattr(module, "__all__", ()):
            assert name in credentials.__all__, f"zkhealth.credentials does not export {info.name}.{name}"
            # the package's name is this module's object: two modules exporting one name would shadow each other
            assert getattr(credentials, name) is getattr(module, name), f"{info.name}.{name} is shadowed"
    assert credentials.Wallet is importlib.import_module("zkhealth.credentials.wallet").Wallet
    with pytest.raises(AttributeError):
        credentials.NoSuchThing  # noqa: B018
