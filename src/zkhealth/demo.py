"""The whole zkhealth story on synthetic data, callable from Python (``zkhealth demo`` prints it).

:func:`run_demo` plays, and times, nine steps:

1. a hospital issues credentials from two FHIR R4 bundles (package data ``zkhealth/data/demo/``): an adult
   with type 2 diabetes and a 15-year-old with type 2 diabetes; each patient keeps theirs in a wallet;
2. a trial is defined: "type 2 diabetes and at least 18" (``diagnosis in E11.* and age >= 18``);
3. setup runs, or its keys come from the cache (``cache_dir``, keyed by the criteria hash and the circuit's
   R1CS hash, so keys for other criteria or another circuit are never used);
4. the trial's CohortEnrollment contract is deployed (an embedded py-evm chain, py-evm's own ecPairing; or
   ``rpc``);
5. the eligible patient proves, and the recruiter verifies the proof off-chain;
6. the eligible patient enrolls on-chain;
7. the ineligible patient is refused with the failing clause before any proving;
8. the eligible patient's second enrollment, with a re-randomised proof (other bytes, same nullifier), is
   refused by the contract with ``NullifierUsed``;
9. the cohort is listed from the contract's ``Enrolled`` events.

The minor's birth date and diagnosis date are set relative to the chain's today (15 years and 1 year before),
so the story does not age. Cost: about 15-30 s on a first run (setup about 5 s, one proof about 3-4 s, the
rest compiling and py-evm's pairing), about 15 s with cached keys, on a 2-core machine with gmpy2.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from zkhealth.errors import ChainError, NotEligibleError, NullifierAlreadyUsedError, ZkHealthError

if TYPE_CHECKING:
    from web3.providers.base import BaseProvider

    from zkhealth.eligibility import Trial

__all__ = ["SAMPLE_FILES", "DemoResult", "DemoStep", "default_cache_dir", "demo_data", "run_demo", "write_samples"]

#: The demo's wallets use the Argon2id floor: they live in a temporary directory for a few seconds.
_MINOR_AGE_YEARS: Final[int] = 15
_ENROLLMENT_DAYS: Final[int] = 30
_CAPACITY: Final[int] = 100
STEP_TITLES: Final[tuple[tuple[str, str], ...]] = (
    ("issue", "A hospital issues credentials from FHIR bundles"),
    ("trial", "A trial is defined"),
    ("setup", "Setup: proving and verifying keys"),
    ("deploy", "The trial's enrollment contract is deployed"),
    ("prove", "The eligible patient proves; the recruiter verifies off-chain"),
    ("enroll", "The eligible patient enrolls on-chain"),
    ("refuse", "The ineligible patient is refused before any proving"),
    ("again", "The eligible patient tries to enroll a second time"),
    ("cohort", "The cohort is listed from Enrolled events"),
)


@dataclass(frozen=True)
class DemoStep:
    """One step of the story: its key, title, wall time, a one-line outcome and machine-readable details."""

    key: str
    title: str
    seconds: float
    outcome: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "details": self.details,
        }


@dataclass
class DemoResult:
    """What :func:`run_demo` returns: every step with its timing, and the story's outcomes."""

    steps: list[DemoStep]
    used_cached_keys: bool
    cache_dir: Path | None
    chain: str
    chain_id: int
    contract_address: str
    enrolled_nullifier: int
    refused_clause: str | None
    second_enrollment_error: str | None
    cohort: list[dict[str, Any]]
    total_seconds: float
    #: The trial (criteria, keys), the enrolled patient's proof file and the contract's deployment block, for
    #: whoever shows the story afterwards (``zkhealth serve --demo``); not part of :meth:`to_dict`.
    trial: Trial | None = None
    proof_json: str | None = None
    deploy_block: int = 0

    def step(self, key: str) -> DemoStep:
        """The step named ``key`` (see :data:`STEP_TITLES`)."""
        for item in self.steps:
            if item.key == key:
                return item
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [s.to_dict() for s in self.steps],
            "used_cached_keys": self.used_cached_keys,
            "cache_dir": None if self.cache_dir is None else str(self.cache_dir),
            "chain": self.chain,
            "chain_id": self.chain_id,
            "contract_address": self.contract_address,
            "enrolled_nullifier": str(self.enrolled_nullifier),
            "refused_clause": self.refused_clause,
            "second_enrollment_error": self.second_enrollment_error,
            "cohort": self.cohort,
            "total_seconds": round(self.total_seconds, 3),
        }


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/zkhealth/demo``, else ``~/.cache/zkhealth/demo``."""
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "zkhealth" / "demo"


def demo_data(name: str) -> Any:
    """A JSON file of the demo's package data (``t2d_adult.json``, ``t2d_minor.json``, ``trial.json``)."""
    return json.loads(resources.files("zkhealth").joinpath("data", "demo", name).read_text(encoding="utf-8"))


def _years_before(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def _aged_minor(bundle: dict[str, Any], today: _dt.date) -> dict[str, Any]:
    """The minor's bundle with the birth date 15 years and the diagnosis 1 year before ``today``."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["birthDate"] = _years_before(today, _MINOR_AGE_YEARS).isoformat()
        elif resource["resourceType"] == "Condition":
            resource["onsetDateTime"] = _years_before(today, 1).isoformat()
    return bundle


#: What :func:`write_samples` writes: the getting-started tour's inputs.
SAMPLE_FILES: Final[tuple[str, ...]] = ("t2d_adult.json", "t2d_minor.json", "cubic.py")


def write_samples(
    directory: str | os.PathLike[str], *, today: _dt.date | None = None, force: bool = False
) -> list[Path]:
    """Write the getting-started tour's inputs into ``directory`` (created if needed): two synthetic FHIR R4
    bundles, ``t2d_adult.json`` (type 2 diabetes and hypertension, born 1961) and ``t2d_minor.json`` (type 2
    diabetes, 15 years old on ``today``), and the circuit ``cubic.py``. Existing files are kept unless
    ``force`` (:class:`~zkhealth.errors.FileAccessError` names the first one). Returns the paths written."""
    from zkhealth._fileio import as_path, atomic_write, wrap_os_error
    from zkhealth.credentials.dates import epoch_day_to_date, today_epoch_day
    from zkhealth.errors import FileAccessError

    target = as_path(directory, what="directory")
    day = today if today is not None else epoch_day_to_date(today_epoch_day())
    contents = {
        "t2d_adult.json": json.dumps(demo_data("t2d_adult.json"), indent=2) + "\n",
        "t2d_minor.json": json.dumps(_aged_minor(demo_data("t2d_minor.json"), day), indent=2) + "\n",
        "cubic.py": resources.files("zkhealth").joinpath("data", "samples", "cubic.py.txt").read_text(encoding="utf-8"),
    }
    if not force:
        for name in SAMPLE_FILES:
            if (target / name).exists():
                raise FileAccessError(f"{target / name} exists; pass force=True (--force) to replace it")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise wrap_os_error(exc, target, "create the directory") from None
    written = []
    for name in SAMPLE_FILES:
        atomic_write(target / name, contents[name].encode("utf-8"), mode=0o644)
        written.append(target / name)
    return written


class _Recorder:
    """Times the steps and forwards them to the caller's callbacks."""

    def __init__(
        self,
        on_start: Callable[[int, int, str], None] | None,
        on_done: Callable[[int, DemoStep], None] | None,
    ) -> None:
        self.steps: list[DemoStep] = []
        self._on_start = on_start
        self._on_done = on_done
        self._titles = dict(STEP_TITLES)

    @contextmanager
    def step(self, key: str) -> Iterator[dict[str, Any]]:
        """Time the block; it fills ``outcome`` (str) and ``details`` (dict) in the yielded record."""
        number = len(self.steps) + 1
        title = self._titles[key]
        if self._on_start is not None:
            self._on_start(number, len(STEP_TITLES), title)
        record: dict[str, Any] = {"outcome": "", "details": {}}
        started = time.perf_counter()
        yield record
        done = DemoStep(key, title, time.perf_counter() - started, str(record["outcome"]), dict(record["details"]))
        self.steps.append(done)
        if self._on_done is not None:
            self._on_done(number, done)


def _load_or_setup(trial: Trial, cache_dir: Path | None, record: dict[str, Any]) -> bool:
    """Adopt cached keys for ``trial`` or run the setup (and cache it). Returns whether the cache was used."""
    from zkhealth.eligibility import TrialKeys

    r1cs_sha256 = trial.r1cs_sha256()
    slot = None
    if cache_dir is not None:
        slot = cache_dir / f"{trial.criteria.sha256[:16]}-{r1cs_sha256[:16]}"
        if (slot / "manifest.json").is_file():
            try:
                keys = trial.use_keys(TrialKeys.load(slot))
            except (ZkHealthError, OSError, ValueError) as error:
                record["details"]["cache_error"] = f"{type(error).__name__}: {error}"
            else:
                record["outcome"] = f"keys loaded from the cache {slot} (vk sha256 {keys.vk_sha256[:16]}...)"
                record["details"].update({"cached": True, "keys": str(slot), "vk_sha256": keys.vk_sha256})
                return True
    keys = trial.setup()
    record["details"].update({"cached": False, "vk_sha256": keys.vk_sha256})
    record["outcome"] = f"development keys made (vk sha256 {keys.vk_sha256[:16]}...)"
    if slot is not None and cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".keys-", dir=cache_dir))
            keys.save(staging)
            if slot.exists():
                shutil.rmtree(slot)
            os.replace(staging, slot)
            TrialKeys.load(slot)
        except (OSError, ZkHealthError) as error:
            record["details"]["cache_error"] = f"{type(error).__name__}: {error}"
        else:
            record["outcome"] += f"; cached in {slot}"
            record["details"]["keys"] = str(slot)
    return False


def run_demo(
    *,
    rpc: str | BaseProvider | None = None,
    cache_dir: Path | None | bool = True,
    on_step_start: Callable[[int, int, str], None] | None = None,
    on_step_done: Callable[[int, DemoStep], None] | None = None,
) -> DemoResult:
    """Play the story of the module docstring and return its :class:`DemoResult`.

    ``rpc``: a JSON-RPC URL whose node has unlocked, funded accounts (anvil, a dev geth), or a web3 provider
    (such as :func:`zkhealth.chain.client.embedded_provider`, to read the chain afterwards); default: a fresh
    embedded py-evm chain (web3's EthereumTesterProvider) that lives for this call. ``cache_dir``: where keys
    are cached (``True``: :func:`default_cache_dir`; ``None``/``False``: no cache). ``on_step_start(number,
    total, title)`` and ``on_step_done(number, step)`` report progress.

    Raises :class:`~zkhealth.errors.ZkHealthError` when the story does not go as told (a proof that does not
    verify, an ineligible patient who is not refused...): the demo is also an end-to-end check.
    Requires the ``chain`` extra (web3 with py-evm).
    """
    from zkhealth.chain import client
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.dates import epoch_day_to_date
    from zkhealth.credentials.issuer import Issuer, new_credential_id
    from zkhealth.credentials.trees import IssuerRegistry, RevocationTree
    from zkhealth.credentials.vc import verify_credential
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
    from zkhealth.eligibility import Trial, prove
    from zkhealth.groth16.rerandomize import rerandomize

    cache: Path | None
    if cache_dir is True:
        cache = default_cache_dir()
    elif cache_dir is None or cache_dir is False:
        cache = None
    else:
        cache = Path(cache_dir)
    recorder = _Recorder(on_step_start, on_step_done)
    started = time.perf_counter()
    w3 = client.connect("embedded" if rpc is None else rpc)
    accounts = list(w3.eth.accounts)
    if not accounts:
        raise ChainError("the node has no unlocked account to deploy and enroll from (use anvil or a dev node)")
    owner = accounts[0]
    patient_address = accounts[1] if len(accounts) > 1 else accounts[0]
    chain_time = int(w3.eth.get_block("latest")["timestamp"])
    today = epoch_day_to_date(chain_time // 86400)
    spec = demo_data("trial.json")

    with tempfile.TemporaryDirectory(prefix="zkhealth-demo-") as workdir:
        work = Path(workdir)
        # ------------------------------------------------------------------ 1. issue
        with recorder.step("issue") as record:
            revocations = RevocationTree(":memory:")
            hospital = Issuer.generate(revocation=revocations)
            registry = IssuerRegistry()
            registry.add(hospital.public_key)
            hospital.revoke(new_credential_id())  # an earlier credential, revoked: the tree is not empty
            wallets: dict[str, Wallet] = {}
            summaries = []
            for name, bundle in (
                ("adult", demo_data("t2d_adult.json")),
                ("minor", _aged_minor(demo_data("t2d_minor.json"), today)),
            ):
                wallet = Wallet.create(work / f"{name}.zkw", secrets.token_hex(16), kdf=KDF_FLOOR)
                issued = hospital.issue_from_fhir(
                    bundle,
                    subject_commitment=subject_commitment(wallet.holder_secret),
                    issued_at=today - _dt.timedelta(days=30),
                    validity_days=365,
                    research_consent=True,
                )
                verify_credential(issued.document, trusted_issuers=registry, today=today, revocation=revocations)
                wallet.add_credential(issued.document)
                wallet.save()
                wallets[name] = wallet
                claims = issued.credential.claims
                codes = ", ".join(d.code for d in claims.diagnoses)
                summaries.append(f"{name} (born {claims.birth_date.isoformat()}, {codes})")
            record["outcome"] = f"{hospital.did[:24]}... issued 2 credentials: " + "; ".join(summaries)
            record["details"] = {
                "issuer": hospital.did,
                "trusted_issuer_root": str(registry.root),
                "revocation_root": str(revocations.root),
                "patients": summaries,
            }

        # ------------------------------------------------------------------ 2. trial
        with recorder.step("trial") as record:
            trial = Trial(
                spec["criteria"],
                trial_id=spec["trialId"],
                name=spec["name"],
                trusted_issuer_roots={registry.root},
                revocation_roots={revocations.root},
            )
            report = trial.cost_report()
            record["outcome"] = (
                f"`{trial.criteria.text}`: {report.constraints:,} constraints, "
                f"{len(report.public_signals)} public signals"
            )
            record["details"] = {"criteria": trial.criteria.text, "constraints": report.constraints,
                                 "criteria_sha256": trial.criteria.sha256}

        # ------------------------------------------------------------------ 3. setup
        with recorder.step("setup") as record:
            used_cache = _load_or_setup(trial, cache, record)
        keys = trial.keys

        # ------------------------------------------------------------------ 4. deploy
        with recorder.step("deploy") as record:
            now = int(w3.eth.get_block("latest")["timestamp"])
            contract = client.deploy_enrollment(
                w3, keys.vk, trial_id=trial.trial_id, issuer_root=registry.root,
                revocation_root=revocations.root, window=(now - 60, now + _ENROLLMENT_DAYS * 86400),
                capacity=_CAPACITY, owner=owner,
            )
            scope = int(contract.functions.scope().call())
            chain_id = int(w3.eth.chain_id)
            deploy_block = int(w3.eth.block_number)
            record["outcome"] = f"CohortEnrollment at {contract.address} on chain {chain_id}"
            record["details"] = {"address": str(contract.address), "chain_id": chain_id, "scope": str(scope)}

        # ------------------------------------------------------------------ 5. prove
        with recorder.step("prove") as record:
            proof = prove(
                trial, wallets["adult"], today=today, recipient=int(patient_address, 16), registry=registry,
                revocations=revocations, scope=scope,
            )
            verified = trial.verify(proof, today=today, expected_scope=scope)
            record["outcome"] = f"proof made and verified off-chain; nullifier {str(verified.nullifier)[:20]}..."
            record["details"] = {"nullifier": str(verified.nullifier), "proof_bytes": len(proof.to_json())}

        # ------------------------------------------------------------------ 6. enroll
        with recorder.step("enroll") as record:
            receipt = client.enroll(w3, contract, proof, sender=patient_address)
            record["outcome"] = f"enrolled from {patient_address} in block {receipt['blockNumber']} " \
                                f"({int(receipt['gasUsed']):,} gas)"
            record["details"] = {"gas_used": int(receipt["gasUsed"]), "block": int(receipt["blockNumber"])}

        # ------------------------------------------------------------------ 7. refuse
        with recorder.step("refuse") as record:
            clause: str | None = None
            try:
                prove(
                    trial, wallets["minor"], today=today, recipient=int(patient_address, 16), registry=registry,
                    revocations=revocations, scope=scope,
                )
            except NotEligibleError as error:
                clause = error.clause
                record["outcome"] = f"refused: {error}"
            else:
                raise ZkHealthError("the demo's ineligible patient was not refused")
            record["details"] = {"clause": clause}

        # ------------------------------------------------------------------ 8. again
        with recorder.step("again") as record:
            second = replace(proof, proof=rerandomize(keys.vk, proof.proof))
            trial.verify(second, today=today, expected_scope=scope)
            error_name: str | None = None
            try:
                client.enroll(w3, contract, second, sender=patient_address)
            except NullifierAlreadyUsedError as error:
                error_name = error.error_name
                record["outcome"] = (
                    f"a re-randomised proof (valid, other bytes, same nullifier) is refused on-chain: {error_name}"
                )
            else:
                raise ZkHealthError("the demo's second enrollment was not refused")
            record["details"] = {"error": error_name}

        # ------------------------------------------------------------------ 9. cohort
        with recorder.step("cohort") as record:
            records = client.enrollments(w3, str(contract.address), confirmations=1)
            cohort = [
                {
                    "nullifier": str(r.nullifier),
                    "recipient": r.recipient,
                    "day": epoch_day_to_date(r.day).isoformat(),
                    "status": r.status.value,
                }
                for r in records
            ]
            lines = [f"{c['status']} {c['nullifier'][:20]}... from {c['recipient']} on {c['day']}" for c in cohort]
            record["outcome"] = f"{len(cohort)} enrolled: " + "; ".join(lines)
            record["details"] = {"cohort": cohort}
        revocations.close()

    return DemoResult(
        steps=recorder.steps,
        used_cached_keys=used_cache,
        cache_dir=cache,
        chain="embedded py-evm" if rpc is None or not isinstance(rpc, str) else rpc,
        chain_id=chain_id,
        contract_address=str(contract.address),
        enrolled_nullifier=proof.nullifier,
        refused_clause=clause,
        second_enrollment_error=error_name,
        cohort=cohort,
        total_seconds=time.perf_counter() - started,
        trial=trial,
        proof_json=proof.to_json(),
        deploy_block=deploy_block,
    )
