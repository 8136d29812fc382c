"""zkhealth: zero-knowledge eligibility proofs for healthcare, in Python.

A hospital issues a patient a signed credential of their whole record; the patient proves a statement about it
("type 2 diabetes and at least 18 today") with a Groth16 proof over BN254; a recruiter verifies it in Python or
on-chain. The nouns of that story are here::

    import zkhealth

    issuer = zkhealth.Issuer.generate(revocation=zkhealth.RevocationTree("revocations.sqlite"))
    registry = zkhealth.Registry()                      # the issuer registry (the operator's)
    registry.add(issuer.public_key)
    roots = zkhealth.TrustRootDocument.build(registry, person_root, operator=did)   # signed, published
    wallet = zkhealth.Wallet.create("patient.zkw", passphrase)
    wallet.add_credential(issuer.issue_record(record, subject_commitment=...).document)   # verified first
    trial = zkhealth.Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=scope,
                           roots=roots.history)
    trial.setup()
    proof = zkhealth.prove(trial, wallet, recipient=address, issuers=roots.issuers,
                           revocations=issuer.revocation, person_root=roots.person_registry_root)
    zkhealth.verify(trial, proof)                       # raises a zkhealth.ZkHealthError subclass unless valid

Names are imported on first use (PEP 562), so ``import zkhealth`` stays fast. The packages, from the user down
to the arithmetic, are described in docs/architecture.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zkhealth._lazy import lazy_attributes
from zkhealth.errors import MalformedInputError, RefusedError, ZkHealthError

if TYPE_CHECKING:
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.persons import PersonRegistry
    from zkhealth.credentials.record import PatientRecord
    from zkhealth.credentials.record import RecordCredential as Credential
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.trust import TrustedIssuers as Registry
    from zkhealth.credentials.trust_roots import TrustRootDocument
    from zkhealth.credentials.wallet import Wallet
    from zkhealth.eligibility.program import Policy
    from zkhealth.eligibility.proof import EligibilityProof
    from zkhealth.eligibility.prove import prove
    from zkhealth.eligibility.spec import TrialSpec
    from zkhealth.eligibility.trial import Trial, VerifiedEligibility

__version__ = "0.1.0"

#: Public name -> (module, attribute): what ``zkhealth.<name>`` imports on first use.
_LAZY: dict[str, tuple[str, str]] = {
    "Issuer": ("zkhealth.credentials.issuer", "Issuer"),
    "Wallet": ("zkhealth.credentials.wallet", "Wallet"),
    "Registry": ("zkhealth.credentials.trust", "TrustedIssuers"),
    "PersonRegistry": ("zkhealth.credentials.persons", "PersonRegistry"),
    "RevocationTree": ("zkhealth.credentials.trees", "RevocationTree"),
    "TrustRootDocument": ("zkhealth.credentials.trust_roots", "TrustRootDocument"),
    "PatientRecord": ("zkhealth.credentials.record", "PatientRecord"),
    "Credential": ("zkhealth.credentials.record", "RecordCredential"),
    "Policy": ("zkhealth.eligibility.program", "Policy"),
    "Trial": ("zkhealth.eligibility.trial", "Trial"),
    "TrialSpec": ("zkhealth.eligibility.spec", "TrialSpec"),
    "EligibilityProof": ("zkhealth.eligibility.proof", "EligibilityProof"),
    "VerifiedEligibility": ("zkhealth.eligibility.trial", "VerifiedEligibility"),
    "prove": ("zkhealth.eligibility.prove", "prove"),
}

__all__ = [
    "Credential",
    "EligibilityProof",
    "Issuer",
    "MalformedInputError",
    "PatientRecord",
    "PersonRegistry",
    "Policy",
    "RefusedError",
    "Registry",
    "RevocationTree",
    "TrustRootDocument",
    "Trial",
    "TrialSpec",
    "VerifiedEligibility",
    "Wallet",
    "ZkHealthError",
    "__version__",
    "prove",
    "verify",
]


def verify(trial: Trial, proof: EligibilityProof, **options: Any) -> VerifiedEligibility:
    """Verify ``proof`` against ``trial``: :meth:`zkhealth.Trial.verify` (``roots``, ``today``, ``now``,
    ``expected_scope``, ``expected_recipient`` are its options). Returns the verified signals; raises otherwise."""
    from zkhealth.errors import ArgumentTypeError

    if not callable(getattr(trial, "verify", None)):
        raise ArgumentTypeError(f"expected a Trial, got {type(trial).__name__}")
    return trial.verify(proof, **options)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
