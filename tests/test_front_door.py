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
    assert {m for m in loaded if m.startswith("zkhealth")} == {"zkhealth", "zkhealth.errors", "zkhealth._lazy"}
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


@pytest.mark.parametrize("submodules_first", [False, True])
@pytest.mark.parametrize("package", ["zkhealth.groth16", "zkhealth.formats"])
def test_lazy_packages_resolve_every_public_name(package: str, submodules_first: bool) -> None:
    """zkhealth.groth16 and zkhealth.formats import their modules on first use (PEP 562): every name in
    ``__all__`` resolves to its module's object, also when every submodule was imported before (a submodule
    import binds the module to the package's attribute of its name, which must not hide a function)."""
    # No assert in the child (a PYTHONOPTIMIZE environment would strip it): it prints what is wrong.
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        f"if {submodules_first!r}:\n"
        "    for info in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + info.name)\n"
        "bad = []\n"
        "for name in pkg.__all__:\n"
        "    module_name, attribute = pkg._LAZY.get(name, (None, name))\n"
        "    value = getattr(pkg, name)\n"
        "    if isinstance(value, type(sys)):\n"
        "        bad.append(['a module', name])\n"
        "    elif module_name is not None and value is not getattr(importlib.import_module(module_name), attribute):\n"
        "        bad.append(['not the object of its module', name])\n"
        "print(json.dumps(bad))\n"
    )
    run = _fresh_python(code)
    assert json.loads(run.stdout) == []
    module = importlib.import_module(package)
    with pytest.raises(AttributeError):
        module.NoSuchThing  # noqa: B018


def test_proving_from_the_cli_path_does_not_import_the_verifier_or_setup() -> None:
    """What `zkhealth groth16 prove` imports before it proves (the prover, the key and witness readers) leaves
    the verifier, the pairing and the setup unimported: start-up time is spent while the other core waits. (A
    key without its C matrix, as every snarkjs ``.zkey``, still imports the verifier after proving, for the
    self-check: without the setup.) Nor does it import the R1CS model (only ``--r1cs`` needs it) or
    ``concurrent.futures`` (the setup's parallel quotient): 10 ms each in a fresh process."""
    run = _fresh_python(
        "import sys, json\n"
        "from zkhealth.formats.snarkjs_json import write_proof, write_public\n"
        "from zkhealth.formats.wtns_file import read_wtns\n"
        "from zkhealth.formats.zkhpk_file import load_proving_key\n"
        "from zkhealth.groth16.prover import prove, start_quotient\n"
        "before = sorted(sys.modules)\n"
        "from zkhealth.groth16.verifier import verify_with_unchecked_key\n"
        "print(json.dumps([before, sorted(sys.modules)]))\n"
    )
    loaded, after_self_check = map(set, json.loads(run.stdout))
    assert "zkhealth.groth16.prover" in loaded and "zkhealth.groth16.verifier" in after_self_check
    assert not loaded & {"zkhealth.groth16.verifier", "zkhealth.hazmat.pairing", "zkhealth.groth16.generator",
                         "zkhealth.groth16.batch", "zkhealth.r1cs", "concurrent.futures"}
    assert not after_self_check & {"zkhealth.groth16.generator", "zkhealth.r1cs", "concurrent.futures"}


def test_gmpy2_is_imported_without_importlib_metadata() -> None:
    """gmpy2 (2.2 and later) looks its version up with importlib.metadata while it is imported; zkhealth answers
    that lookup without importing the module (15-18 ms of every process's start), and gmpy2's version and a
    later import of importlib.metadata are what they would have been."""
    pytest.importorskip("gmpy2")
    run = _fresh_python(
        "import sys, json\n"
        "before = 'importlib.metadata' in sys.modules\n"
        "import zkhealth._bigint as b\n"
        "after = 'importlib.metadata' in sys.modules\n"
        "import importlib.metadata as m\n"
        "print(json.dumps([before, after, b.HAVE_GMPY2, b._gmpy2.__version__, m.version('gmpy2'),\n"
        "                  type(m).__name__, m.distribution('gmpy2').metadata['Name']]))\n"
    )
    before, after, have_gmpy2, seen, real, kind, name = json.loads(run.stdout)
    assert have_gmpy2 and seen == real and kind == "module" and name.lower() == "gmpy2"
    if not before:  # (an interpreter whose start-up already imported it has nothing to save)
        assert not after


def test_the_metadata_stand_in_answers_version_and_hands_on_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    from zkhealth._bigint import _installed_version, _MetadataStandIn

    stand_in = _MetadataStandIn()
    assert stand_in.version("pytest") == importlib.metadata.version("pytest")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        stand_in.version("no-such-distribution-for-zkhealth")  # handed to the real module
    assert stand_in.distribution is importlib.metadata.distribution
    with pytest.raises(AttributeError):
        stand_in.__no_such_dunder__  # noqa: B018
    # METADATA without a Version header, or unreadable: no answer (the real module is asked instead)
    (tmp_path / "fakedist-1.0.dist-info").mkdir()
    (tmp_path / "fakedist-1.0.dist-info" / "METADATA").write_text("Name: fakedist\n\nVersion: 9.9\n")
    (tmp_path / "otherdist-2.0.dist-info").mkdir()
    (tmp_path / "otherdist-2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 2.0\n")
    (tmp_path / "brokendist-1.0.dist-info").mkdir()
    monkeypatch.setattr("sys.path", [str(tmp_path / "missing"), str(tmp_path)])
    assert _installed_version("fakedist") is None  # the Version line is in the body, not the headers
    assert _installed_version("otherdist") == "2.0"
    assert _installed_version("brokendist") is None
    assert _installed_version("absentdist") is None
