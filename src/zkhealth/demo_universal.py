"""The universal circuit in the stories: one key set for every trial.

* :func:`run_universal_steps` plays the last steps of ``zkhealth demo`` (:data:`UNIVERSAL_STEP_TITLES`): the
  TrialRegistry is deployed with the universal verifying key; two trials are created in it, one transaction
  each (a program hash, no setup, no verifier of their own); the adult patient of the story, holding a
  whole-record credential issued from the same FHIR bundle, proves for both with the one universal circuit and
  enrolls in both, with two nullifiers nobody can link.
* :func:`universal_enrollment` is the real universal prover the DAO story (:func:`zkhealth.demo_dao.
  run_dao_demo`, ``zkhealth demo dao``) enrolls with.

Both use the pinned universal key set (:mod:`zkhealth.eligibility.universal_keys`): the verifying key ships
with zkhealth; the proving key is the installed one, or is rebuilt once from the development seed (2-5 minutes,
then cached where every verb finds it). While the key set is a development set, :class:`~zkhealth.eligibility.
universal_keys.DevelopmentKeyWarning` is emitted: anyone can forge proofs for it. Cost: about 20-90 s per
universal proof on two cores.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from zkhealth.errors import ZkHealthError

if TYPE_CHECKING:
    from zkhealth.credentials.record_vc import IssuedRecord
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import TrustedIssuers
    from zkhealth.demo_dao import UniversalEnrollment
    from zkhealth.groth16.keys import ProvingKey

__all__ = [
    "DEMO_TRIALS",
    "UNIVERSAL_STEP_TITLES",
    "DemoPatient",
    "demo_patient",
    "ensure_universal_proving_key",
    "run_universal_steps",
    "universal_enrollment",
]

UNIVERSAL_STEP_TITLES: Final[tuple[tuple[str, str], ...]] = (
    ("registry", "One registry for every trial: the TrialRegistry is deployed with the universal key set"),
    ("trials", "Two trials are created in the registry, one transaction each: no setup, no new verifier; "
               "the first has a funded reward pool"),
    ("prove_universal", "The patient proves eligibility for both trials with the one universal circuit"),
    ("enroll_universal", "The patient enrolls in both trials (paid in the same transaction where a reward is "
                         "offered): two nullifiers nobody can link"),
)
#: The first registry trial's reward pool and enrollment reward (18-decimal TRW units).
_POOL: Final[int] = 100 * 10**18
_REWARD: Final[int] = 10 * 10**18
#: The registry trials of the story: (trial id, name, criteria).
DEMO_TRIALS: Final[tuple[tuple[str, str, str], ...]] = (
    ("NCT05000001", "Adults with type 2 diabetes", "diagnosis in E11.* and age >= 18"),
    ("NCT05000002", "Hypertension, 40 and over, no type 1 diabetes",
     "diagnosis in I10 and age >= 40 and not diagnosis in E10.*"),
)
_DAY: Final[int] = 86_400
_CONSENT_DOCUMENT: Final[bytes] = b"zkhealth demo consent: registry trial participation, 1 year"


@dataclass
class DemoPatient:
    """A patient of the universal steps: the hospital's trust state and a whole-record credential."""

    trusted: TrustedIssuers
    revocation: RevocationTree
    holder_secret: int
    issued: IssuedRecord


def demo_patient(bundle: dict[str, Any], *, today: _dt.date) -> DemoPatient:
    """A hospital (its revocation tree holds one earlier credential) issues a whole-record credential from
    ``bundle`` 30 days before ``today`` (complete as of that day, valid until a year after ``today``) to a fresh
    holder secret."""
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.fhir_record import record_from_bundle
    from zkhealth.credentials.issuer import Issuer, new_credential_id
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import TrustedIssuers

    revocation = RevocationTree(":memory:")
    hospital = Issuer.generate(revocation=revocation)
    hospital.revoke(new_credential_id())
    trusted = TrustedIssuers()
    trusted.add(hospital.public_key, revocation.root)
    secret = 1 + secrets.randbelow((1 << 250) - 1)
    issued_on = today - _dt.timedelta(days=30)
    imported = record_from_bundle(bundle, complete=True, as_of=issued_on, research_consent=True)
    issued = hospital.issue_record(imported.record, subject_commitment=subject_commitment(secret),
                                   issued_at=issued_on, expires_at=today + _dt.timedelta(days=365))
    return DemoPatient(trusted, revocation, secret, issued)


def ensure_universal_proving_key(on_build: Callable[[], None] | None = None) -> ProvingKey:
    """The pinned universal proving key: the installed one, or the development set rebuilt from its seed,
    checked against the pinned hash and installed (``on_build`` is called before the rebuild starts)."""
    import tempfile
    from pathlib import Path

    from zkhealth.eligibility.universal_keys import (
        DevelopmentKeyWarning,
        build_development_keys,
        install_proving_key,
        load_proving_key,
        pinned_manifest,
    )
    from zkhealth.errors import UniversalKeyMissingError
    from zkhealth.formats.zkhpk_file import proving_key_to_bytes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        try:
            return load_proving_key()
        except UniversalKeyMissingError:
            if not pinned_manifest().is_development:
                raise
        if on_build is not None:
            on_build()
        pk, _ = build_development_keys()
        with tempfile.TemporaryDirectory(prefix="zkhealth-universal-") as staging:
            source = Path(staging) / "proving_key.zkhpk"
            source.write_bytes(proving_key_to_bytes(pk))
            install_proving_key(source)
        return load_proving_key()


def universal_enrollment(bundle: dict[str, Any], criteria: str = DEMO_TRIALS[0][2], *,
                         pk: ProvingKey | None = None) -> UniversalEnrollment:
    """The real universal prover for :func:`zkhealth.demo_dao.run_dao_demo`: a patient with a whole-record
    credential issued from the FHIR ``bundle`` (the demo's adult: ``zkhealth.demo.demo_data("t2d_adult.json")``),
    the program of ``criteria``, the pinned key set. Its
    ``issuer_registry_root`` is the patient's trusted-issuer root, so the story publishes a trust root this
    proof can meet; the person registry root of the story goes into the trust root as a free input (the program
    is not one-per-person)."""
    from zkhealth.demo_dao import UniversalEnrollment
    from zkhealth.eligibility.record_trial import RecordTrial, prove_record_eligibility
    from zkhealth.eligibility.universal_keys import DevelopmentKeyWarning, pinned_verifying_key

    patient = demo_patient(bundle, today=_dt.datetime.now(_dt.UTC).date())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        vk = pinned_verifying_key()
    key = pk if pk is not None else ensure_universal_proving_key()
    trial = RecordTrial(criteria, trial_id="NCT05000099", circuit="universal")
    trial.use_keys(key)
    if trial.program_hash is None:
        raise ZkHealthError("internal: a universal trial without a program hash")

    def prove(scope: int, today: int, recipient: str, issuer_registry_root: int,
              person_registry_root: int) -> tuple[Any, list[int]]:
        if issuer_registry_root != patient.trusted.root:
            raise ZkHealthError("the story's issuer registry root is not the patient's trusted issuers")
        proof = prove_record_eligibility(trial, patient.issued, patient.holder_secret, today=today,
                                         recipient=int(recipient, 16), trusted=patient.trusted,
                                         revocation=patient.revocation, person_root=person_registry_root,
                                         scope=scope)
        return proof.proof, list(proof.public)

    return UniversalEnrollment(vk, trial.program_hash, prove, patient.trusted.root)


def run_universal_steps(step: Callable[[str], Any], w3: Any, *, owner: str, recruiter: str,
                        patient_addresses: tuple[str, str], today: _dt.date, bundle: dict[str, Any],
                        pk: ProvingKey | None = None) -> dict[str, Any]:
    """The universal steps of ``zkhealth demo`` (module docstring). ``step(key)`` is the story's step recorder
    (a context manager yielding the step's record, whose ``outcome`` and ``details`` this fills). The patient
    enrolls in each trial from its own address (``patient_addresses``): an address is public, so one address
    for both trials would link the enrollments the nullifiers keep apart. ``pk``: the universal proving key
    (default: :func:`ensure_universal_proving_key`, inside the first step). Returns the figures: registry
    address, trial numbers, program hashes, gas, the two nullifiers."""
    from zkhealth.chain import client
    from zkhealth.chain.registry import (
        CONSENT_PURPOSES,
        ConsentTerms,
        RewardTerms,
        TrialRegistryClient,
        TrialTerms,
        deploy_reward_token,
    )
    from zkhealth.credentials.trust import trust_root
    from zkhealth.eligibility.record_trial import RecordTrial, prove_record_eligibility
    from zkhealth.eligibility.universal_keys import DevelopmentKeyWarning, pinned_verifying_key

    patient = demo_patient(bundle, today=today)
    root = trust_root(patient.trusted.root)
    day = int(w3.eth.get_block("latest")["timestamp"]) // _DAY
    consent_hash = hashlib.sha256(_CONSENT_DOCUMENT).digest()
    figures: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        with step("registry") as record:
            built: list[bool] = []
            key = pk if pk is not None else ensure_universal_proving_key(lambda: built.append(True))
            vk = pinned_verifying_key()
            registry = TrialRegistryClient.deploy(w3, vk, owner=owner, creators=[recruiter])
            registry.publish_trust_root(root, sender=owner)
            figures["registry"] = registry.address
            record["outcome"] = (f"TrialRegistry at {registry.address} embeds the universal verifying key "
                                 f"{vk.sha256()[:16]}... (DEVELOPMENT keys: anyone can forge proofs for them"
                                 + ("; the proving key was rebuilt from the development seed and installed)"
                                    if built else ")"))
            record["details"] = {"registry": registry.address, "verifying_key_sha256": vk.sha256(),
                                 "trust_root": str(root)}
        trials: list[tuple[int, RecordTrial]] = []
        with step("trials") as record:
            now = int(w3.eth.get_block("latest")["timestamp"])
            # The first trial pays an enrollment reward from a pool the recruiter (here also the sponsor) funds.
            token = deploy_reward_token(w3, "Trial Reward", "TRW", owner=owner, sender=owner)
            client.transact(w3, token.functions.mint(recruiter, _POOL), sender=owner)
            rewards = [RewardTerms(token.address, recruiter, _REWARD, ()), None]
            lines = []
            for (trial_id, name, criteria), reward in zip(DEMO_TRIALS, rewards, strict=True):
                trial = RecordTrial(criteria, trial_id=trial_id, name=name, trust_roots={root}, circuit="universal")
                trial.use_keys(key)
                if trial.program_hash is None:
                    raise ZkHealthError("internal: a universal trial without a program hash")
                created = registry.create_trial(TrialTerms(
                    program_hash=trial.program_hash, consent_hash=consent_hash, window=(now - 60, now + 30 * _DAY),
                    capacity=100, owner=recruiter, external_id=trial_id.encode("ascii").ljust(32, b"\0"),
                    rewards=reward), sender=recruiter)
                if reward is not None:
                    registry.fund(created.trial_id, _POOL, sender=recruiter)
                (transaction,) = w3.eth.get_block(created.block_number)["transactions"]
                gas = int(w3.eth.get_transaction_receipt(transaction)["gasUsed"])
                figures.setdefault("create_trial_gas", gas)
                trial.expected_scope = created.scope
                trials.append((created.trial_id, trial))
                pool = f", {_POOL // 10**18} TRW pool funded, {_REWARD // 10**18} TRW per enrollment" if reward else ""
                lines.append(f"trial {created.trial_id} `{criteria}` ({gas:,} gas{pool})")
            record["outcome"] = "; ".join(lines)
            record["details"] = {"trials": [{"number": n, "program_hash": str(t.program_hash),
                                             "criteria": t.text} for n, t in trials]}
        proofs = []
        with step("prove_universal") as record:
            for (_, trial), address in zip(trials, patient_addresses, strict=True):
                proof = prove_record_eligibility(trial, patient.issued, patient.holder_secret, today=day,
                                                 recipient=int(address, 16), trusted=patient.trusted,
                                                 revocation=patient.revocation)
                trial.verify(proof, today=day)
                proofs.append(proof)
            hashes = [str(trial.program_hash)[:10] for _, trial in trials]
            record["outcome"] = (f"two proofs of the same circuit, verified off-chain; program hashes "
                                 f"{hashes[0]}... and {hashes[1]}...")
        with step("enroll_universal") as record:
            consent = ConsentTerms(consent_hash, CONSENT_PURPOSES["trial-participation"], day + 365)
            nullifiers = []
            gas_used = []
            for (number, _), proof in zip(trials, proofs, strict=True):
                receipt = registry.enroll(number, proof.proof, list(proof.public), consent)
                gas_used.append(int(receipt["gasUsed"]))
                nullifiers.append(proof.signals["nullifier"])
            paid = int(token.functions.balanceOf(patient_addresses[0]).call())
            if paid != _REWARD:
                raise ZkHealthError(f"the enrollment reward was not paid: the patient holds {paid} base units")
            figures["enroll_with_reward_gas"], figures["enroll_gas"] = gas_used
            figures["reward_paid"] = paid
            if nullifiers[0] == nullifiers[1]:
                raise ZkHealthError("the two trials gave the same nullifier")
            figures["nullifiers"] = [str(n) for n in nullifiers]
            record["outcome"] = (f"enrolled in trial {trials[0][0]} and paid {paid // 10**18} TRW in the same "
                                 f"transaction ({gas_used[0]:,} gas), and in trial {trials[1][0]} ({gas_used[1]:,} "
                                 f"gas); nullifiers {str(nullifiers[0])[:12]}... and {str(nullifiers[1])[:12]}...: "
                                 "different, and nothing links them")
            record["details"] = {"nullifiers": figures["nullifiers"], "enroll_gas": figures["enroll_gas"],
                                 "enroll_with_reward_gas": figures["enroll_with_reward_gas"],
                                 "reward_paid": str(paid)}
    patient.revocation.close()
    return figures
