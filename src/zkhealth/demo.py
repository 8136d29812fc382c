"""The whole zkhealth story on synthetic data, callable from Python (``zkhealth demo`` prints it).

:func:`run_demo` plays, and times, twelve steps:

1. a hospital issues whole-record (schema version 2) credentials from FHIR R4 bundles (package data
   ``zkhealth/data/demo/``): two adults with type 2 diabetes (A and B) and a 15-year-old with type 2 diabetes;
   each patient's wallet verifies and keeps theirs;
2. the registry operator registers the hospital in the issuer registry (leaf ``poseidon([Ax, Ay,
   revocation_root])``) and signs the trust-root file (Ed25519 over JCS);
3. a trial is defined: "type 2 diabetes and at least 18" (``diagnosis in E11.* and age >= 18``), with the
   default grace period of one day for a superseded trust root;
4. setup runs, or its keys come from the cache (``cache_dir``, keyed by the program hash and the circuit's
   R1CS hash, so keys for other criteria or another circuit are never used);
5. the trial's CohortEnrollment contract is deployed with the current trust root (an embedded py-evm chain,
   py-evm's own ecPairing; or ``rpc``);
6. patient A proves, and the recruiter verifies the proof off-chain against the roots the contract holds;
7. patient A enrolls on-chain;
8. the ineligible patient is refused with the failing clause before any proving;
9. patient A's second enrollment, with a re-randomised proof (other bytes, same nullifier), is refused by the
   contract with ``NullifierUsed`` (simulated first: nothing is sent);
10. patient B proves (valid); then the hospital revokes B's credential and signs its new revocation root, and
    the operator applies it, rebuilds the trust root and publishes it to the contract;
11. a day passes (the grace period): B's earlier proof is refused by the Python verifier (``StaleRootError``)
    and by the contract (``StaleRoot``), and B cannot prove again (``CredentialRevokedError``, before proving);
12. the cohort is listed from the contract's ``Enrolled`` events;
13-16. one key set for every trial (:mod:`zkhealth.demo_universal`, skipped with ``universal=False``): the
    TrialRegistry is deployed with the universal verifying key; two trials are created in it with one
    transaction each; an adult holding a whole-record credential from the same bundle as patient A proves for
    both with the universal circuit and enrolls in both with two nullifiers nobody can link.

The minor's birth date and diagnosis date are set relative to the chain's today (15 years and 1 year before),
so the story does not age. Cost, measured on a 2-core machine with gmpy2: steps 1-12 about 15-20 s on a first
run (setup, two proofs, compiling, py-evm's pairing), about 10 s with cached keys; the universal steps add about
45 s (two proofs of a 2^17 circuit), and a first run without the universal proving key installed rebuilds its
development set once (about 1 minute).
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

from zkhealth._fileio import user_cache_root
from zkhealth.errors import (
    ChainError,
    ContractRevertError,
    CredentialRevokedError,
    NotEligibleError,
    NullifierAlreadyUsedError,
    StaleRootError,
    ZkHealthError,
)

if TYPE_CHECKING:
    from web3.providers.base import BaseProvider

    from zkhealth.eligibility import Trial

__all__ = ["SAMPLE_FILES", "DemoResult", "DemoStep", "default_cache_dir", "demo_data", "run_demo", "write_samples"]

#: The demo's wallets use the Argon2id floor: they live in a temporary directory for a few seconds.
_MINOR_AGE_YEARS: Final[int] = 15
_ENROLLMENT_DAYS: Final[int] = 30
_CAPACITY: Final[int] = 100
STEP_TITLES: Final[tuple[tuple[str, str], ...]] = (
    ("issue", "A hospital issues whole-record credentials from FHIR bundles"),
    ("trust", "The registry operator publishes the trust root"),
    ("trial", "A trial is defined"),
    ("setup", "Setup: proving and verifying keys"),
    ("deploy", "The trial's enrollment contract is deployed"),
    ("prove", "Patient A proves; the recruiter verifies off-chain"),
    ("enroll", "Patient A enrolls on-chain"),
    ("refuse", "The ineligible patient is refused before any proving"),
    ("again", "Patient A tries to enroll a second time"),
    ("revoke", "Patient B proves; then B's credential is revoked and the new trust root published"),
    ("stale", "A day later, B's proof from before the revocation is refused"),
    ("cohort", "The cohort is listed from Enrolled events"),
)


def _titles(universal: bool) -> tuple[tuple[str, str], ...]:
    from zkhealth.demo_universal import UNIVERSAL_STEP_TITLES

    return STEP_TITLES + (UNIVERSAL_STEP_TITLES if universal else ())


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
    revoked_refusals: dict[str, str]
    cohort: list[dict[str, Any]]
    total_seconds: float
    #: The universal steps' figures (registry, trials, gas, the two nullifiers); ``None`` when skipped.
    universal: dict[str, Any] | None = None
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
            "revoked_refusals": self.revoked_refusals,
            "cohort": self.cohort,
            "total_seconds": round(self.total_seconds, 3),
            "universal": self.universal,
        }


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/zkhealth/demo``, else ``~/.cache/zkhealth/demo``."""
    return user_cache_root() / "demo"


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
        titles: tuple[tuple[str, str], ...] = STEP_TITLES,
    ) -> None:
        self.steps: list[DemoStep] = []
        self._on_start = on_start
        self._on_done = on_done
        self._titles = dict(titles)

    @contextmanager
    def step(self, key: str) -> Iterator[dict[str, Any]]:
        """Time the block; it fills ``outcome`` (str) and ``details`` (dict) in the yielded record."""
        number = len(self.steps) + 1
        title = self._titles[key]
        if self._on_start is not None:
            self._on_start(number, len(self._titles), title)
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
        slot = cache_dir / f"{trial.program.sha256()[:16]}-{r1cs_sha256[:16]}"
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
    universal: bool = True,
) -> DemoResult:
    """Play the story of the module docstring and return its :class:`DemoResult`.

    ``rpc``: a JSON-RPC URL whose node has unlocked, funded accounts and a development clock (anvil: the story
    moves time forward by a day), or a web3 provider (such as :func:`zkhealth.chain.client.embedded_provider`, to
    read the chain afterwards); default: a fresh embedded py-evm chain (web3's EthereumTesterProvider) that lives
    for this call. ``cache_dir``: where keys are cached (``True``: :func:`default_cache_dir`; ``None``/``False``:
    no cache). ``on_step_start(number, total, title)`` and ``on_step_done(number, step)`` report progress.
    ``universal=False`` skips steps 13-16.

    Raises :class:`~zkhealth.errors.ZkHealthError` when the story does not go as told (a proof that does not
    verify, an ineligible patient or a revoked credential that is not refused...): the demo is also an end-to-end
    check. Requires the ``chain`` extra (web3 with py-evm).
    """
    from zkhealth.chain import client, devchain, enrollment
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.dates import epoch_day_to_date
    from zkhealth.credentials.fhir_record import record_from_bundle
    from zkhealth.credentials.issuer import Issuer, new_credential_id
    from zkhealth.credentials.persons import empty_person_root
    from zkhealth.credentials.record_vc import IssuedRecord
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import RevocationStatement, TrustedIssuers
    from zkhealth.credentials.trust_roots import TrustRootDocument
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
    recorder = _Recorder(on_step_start, on_step_done, _titles(universal))
    started = time.perf_counter()
    w3 = client.connect("embedded" if rpc is None else rpc)
    accounts = list(w3.eth.accounts)
    if len(accounts) < 3:
        raise ChainError("the node needs three unlocked accounts to deploy and enroll from (use anvil or a dev node)")
    owner, patient_a, patient_b = accounts[0], accounts[1], accounts[2]
    chain_time = enrollment.chain_now(w3)
    today = epoch_day_to_date(chain_time // 86400)
    spec = demo_data("trial.json")

    with tempfile.TemporaryDirectory(prefix="zkhealth-demo-") as workdir:
        work = Path(workdir)
        # ------------------------------------------------------------------ 1. issue
        with recorder.step("issue") as record:
            revocations = RevocationTree(":memory:")
            hospital = Issuer.generate(revocation=revocations)
            hospital.revoke(new_credential_id())  # an earlier credential, revoked: the tree is not empty
            wallets: dict[str, Wallet] = {}
            issued: dict[str, IssuedRecord] = {}
            summaries = []
            for name, bundle in (
                ("A", demo_data("t2d_adult.json")),
                ("B", demo_data("t2d_adult.json")),
                ("minor", _aged_minor(demo_data("t2d_minor.json"), today)),
            ):
                wallet = Wallet.create(work / f"{name}.zkw", secrets.token_hex(16), kdf=KDF_FLOOR)
                imported = record_from_bundle(bundle, research_consent=True)
                credential = hospital.issue_record(
                    imported.record, subject_commitment=subject_commitment(wallet.holder_secret),
                    issued_at=today - _dt.timedelta(days=30), validity_days=365,
                )
                wallet.add_credential(credential.document, trusted_issuers=[hospital.public_key], today=today)
                wallet.save()
                wallets[name] = wallet
                issued[name] = credential
                patient = credential.credential.record
                codes = ", ".join(sorted({c.code for c in patient.conditions}))
                summaries.append(f"{name} (born {patient.birth_date.isoformat()}, {codes})")
            record["outcome"] = f"{hospital.did[:24]}... issued 3 credentials: " + "; ".join(summaries)
            record["details"] = {"issuer": hospital.did, "revocation_root": str(revocations.root),
                                 "patients": summaries}

        # ------------------------------------------------------------------ 2. trust
        with recorder.step("trust") as record:
            operator = Issuer.generate()
            operator_did = TrustRootDocument.operator_did(operator.ed25519_public_key)
            registry = TrustedIssuers()
            registry.add(hospital.public_key)
            registry.apply(hospital.revocation_statement(published_at=chain_time))
            document = TrustRootDocument.build(registry, empty_person_root(), operator=operator_did, now=chain_time)
            document.save(work / "trust.json", operator.sign_ed25519)
            document = TrustRootDocument.load(work / "trust.json", operator=operator_did)
            record["outcome"] = (f"issuer registry root folded into trust root {str(document.trust_root)[:20]}..., "
                                 f"signed by the operator {operator_did[:24]}...")
            record["details"] = {"trust_root": str(document.trust_root), "operator": operator_did,
                                 "issuer_registry_root": str(registry.root)}

        # ------------------------------------------------------------------ 3. trial
        with recorder.step("trial") as record:
            trial = Trial(spec["criteria"], trial_id=spec["trialId"], name=spec["name"])
            report = trial.cost_report()
            record["outcome"] = (
                f"`{trial.text}`: {report.constraints:,} constraints, {len(report.public_signals)} public signals, "
                f"superseded trust roots accepted for {trial.root_grace_seconds // 3600} h"
            )
            record["details"] = {"criteria": trial.text, "constraints": report.constraints,
                                 "program_sha256": trial.program.sha256()}

        # ------------------------------------------------------------------ 4. setup
        with recorder.step("setup") as record:
            used_cache = _load_or_setup(trial, cache, record)
        keys = trial.keys

        # ------------------------------------------------------------------ 5. deploy
        with recorder.step("deploy") as record:
            now = enrollment.chain_now(w3)
            deployment = enrollment.deploy_trial(
                w3, trial, keys, window=(now - 60, now + _ENROLLMENT_DAYS * 86400), capacity=_CAPACITY,
                trust_root=document.trust_root, owner=owner,
            )
            contract = deployment.contract
            scope = deployment.scope
            chain_id = deployment.chain_id
            deploy_block = deployment.block_number
            record["outcome"] = (f"CohortEnrollment at {contract.address} on chain {chain_id} "
                                 f"({deployment.gas_used:,} gas)")
            record["details"] = {"address": str(contract.address), "chain_id": chain_id, "scope": str(scope)}

        def prove_for(name: str, address: str) -> Any:
            return prove(trial, wallets[name], today=today, recipient=int(address, 16), issuers=document.issuers,
                         revocations=revocations, person_root=document.person_registry_root,
                         roots=document.history, now=enrollment.chain_now(w3), scope=scope)

        def roots_on_chain(*extra: int) -> Any:
            return enrollment.root_history(w3, contract, include=extra)

        # ------------------------------------------------------------------ 6. prove
        with recorder.step("prove") as record:
            proof = prove_for("A", patient_a)
            verified = trial.verify(proof, today=today, now=enrollment.chain_now(w3), roots=roots_on_chain(),
                                    expected_scope=scope)
            record["outcome"] = f"proof made and verified off-chain; nullifier {str(verified.nullifier)[:20]}..."
            record["details"] = {"nullifier": str(verified.nullifier), "proof_bytes": len(proof.to_json())}

        # ------------------------------------------------------------------ 7. enroll
        with recorder.step("enroll") as record:
            receipt = enrollment.enroll(w3, contract, proof, sender=patient_a)
            record["outcome"] = f"enrolled from {patient_a} in block {receipt['blockNumber']} " \
                                f"({int(receipt['gasUsed']):,} gas)"
            record["details"] = {"gas_used": int(receipt["gasUsed"]), "block": int(receipt["blockNumber"])}

        # ------------------------------------------------------------------ 8. refuse
        with recorder.step("refuse") as record:
            clause: str | None = None
            try:
                prove_for("minor", patient_a)
            except NotEligibleError as error:
                clause = error.clause
                record["outcome"] = f"refused: {error}"
            else:
                raise ZkHealthError("the demo's ineligible patient was not refused")
            record["details"] = {"clause": clause}

        # ------------------------------------------------------------------ 9. again
        with recorder.step("again") as record:
            second = replace(proof, proof=rerandomize(keys.vk, proof.proof))
            trial.verify(second, today=today, now=enrollment.chain_now(w3), roots=roots_on_chain(),
                         expected_scope=scope)
            error_name: str | None = None
            try:
                enrollment.enroll(w3, contract, second, sender=patient_a)
            except NullifierAlreadyUsedError as error:
                error_name = error.error_name
                record["outcome"] = (
                    f"a re-randomised proof (valid, other bytes, same nullifier) is refused on-chain: {error_name}"
                )
            else:
                raise ZkHealthError("the demo's second enrollment was not refused")
            record["details"] = {"error": error_name}

        # ------------------------------------------------------------------ 10. revoke
        with recorder.step("revoke") as record:
            early = prove_for("B", patient_b)
            trial.verify(early, today=today, now=enrollment.chain_now(w3), roots=roots_on_chain(), expected_scope=scope)
            hospital.revoke(issued["B"].credential.credential_id)
            statement = RevocationStatement.from_json(hospital.revocation_statement().to_json())
            registry.apply(statement)
            document = TrustRootDocument.build(registry, empty_person_root(), operator=operator_did,
                                               previous=document, now=enrollment.chain_now(w3))
            enrollment.publish_trust_root(w3, contract, document.trust_root, sender=owner)
            record["outcome"] = (f"B's proof verified, then B's credential revoked; the operator applied the signed "
                                 f"revocation root and published trust root {str(document.trust_root)[:20]}...")
            record["details"] = {"trust_root": str(document.trust_root),
                                 "revoked": str(issued["B"].credential.credential_id)}

        # ------------------------------------------------------------------ 11. stale
        with recorder.step("stale") as record:
            devchain.advance_time(w3, trial.root_grace_seconds + 60)
            refusals: dict[str, str] = {}
            try:
                trial.verify(early, now=enrollment.chain_now(w3), roots=roots_on_chain(early.trust_root),
                             expected_scope=scope)
            except StaleRootError as error:
                refusals["python"] = type(error).__name__
            try:
                enrollment.enroll(w3, contract, early, sender=patient_b)
            except ContractRevertError as error:
                refusals["contract"] = str(error.error_name)
            later = epoch_day_to_date(enrollment.chain_now(w3) // 86400)
            try:
                prove(trial, wallets["B"], today=later, recipient=int(patient_b, 16), issuers=document.issuers,
                      revocations=revocations, person_root=document.person_registry_root, roots=document.history,
                      now=enrollment.chain_now(w3), scope=scope)
            except CredentialRevokedError as error:
                refusals["prover"] = type(error).__name__
            if refusals != {"python": "StaleRootError", "contract": "StaleRoot", "prover": "CredentialRevokedError"}:
                raise ZkHealthError(f"the demo's revoked credential was not refused everywhere: {refusals}")
            record["outcome"] = ("refused by the Python verifier (StaleRootError), by the contract (StaleRoot, "
                                 "simulated: nothing sent), and at proving time (CredentialRevokedError)")
            record["details"] = {"refusals": refusals}

        # ------------------------------------------------------------------ 12. cohort
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

        # ------------------------------------------------------------------ 13-16. one key set, two trials
        universal_figures: dict[str, Any] | None = None
        if universal:
            from zkhealth.demo_universal import run_universal_steps

            addresses = (accounts[3], accounts[4]) if len(accounts) > 4 else (patient_a, patient_a)
            universal_figures = run_universal_steps(
                recorder.step, w3, owner=owner, recruiter=owner, patient_addresses=addresses,
                today=epoch_day_to_date(enrollment.chain_now(w3) // 86400), bundle=demo_data("t2d_adult.json"))

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
        revoked_refusals=refusals,
        cohort=cohort,
        total_seconds=time.perf_counter() - started,
        universal=universal_figures,
        trial=trial,
        proof_json=proof.to_json(),
        deploy_block=deploy_block,
    )
