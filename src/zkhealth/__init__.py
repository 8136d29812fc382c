"""zkhealth: zero-knowledge eligibility proofs for healthcare, in Python.

A hospital issues a patient a signed credential; the patient proves a statement about it ("type 2
diabetes and at least 18 today") with a Groth16 proof over BN254; a recruiter verifies it in Python or
on-chain. The nouns of that story are here::

    import zkhealth

    issuer = zkhealth.Issuer.generate(revocation=zkhealth.RevocationTree("revocations.sqlite"))
    registry = zkhealth.Registry()                      # the trusted-issuer registry
    registry.add(issuer.public_key)
    wallet = zkhealth.Wallet.create("patient.zkw", passphrase)
    wallet.add_credential(issuer.issue(claims, subject_commitment=...).document)
    trial = zkhealth.Trial("diagnosis in E11.* and age >= 18", trial_id="NCT05000001", scope=scope,
                           trusted_issuer_roots={registry.root}, revocation_roots={issuer.revocation.root})
    trial.setup()
    proof = zkhealth.prove(trial, wallet, recipient=address, registry=registry, revocations=issuer.revocation)
    zkhealth.verify(trial, proof)                       # raises a zkhealth.ZkHealthError subclass unless valid

Names are imported on first use (PEP 562), so ``import zkhealth`` stays fast. The packages, from the user down
to the arithmetic, are described in docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zkhealth.errors import MalformedInputError, RefusedError, ZkHealthError

if TYPE_CHECKING:
    from zkhealth.credentials.credential import Credential
    from zkhealth.credentials.issuer import Issuer
    from zkhealth.credentials.trees import IssuerRegistry as Registry
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.credentials.wallet import Wallet
    from zkhealth.eligibility.proof import EligibilityProof
    from zkhealth.eligibility.prove import prove
    from zkhealth.eligibility.resolve import Criteria
    from zkhealth.eligibility.spec import TrialSpec
    from zkhealth.eligibility.trial import Trial, VerifiedEligibility

__version__ = "0.1.0"

#: Public name -> (module, attribute): what ``zkhealth.<name>`` imports on first use.
_LAZY: dict[str, tuple[str, str]] = {
    "Issuer": ("zkhealth.credentials.issuer", "Issuer"),
    "Wallet": ("zkhealth.credentials.wallet", "Wallet"),
    "Registry": ("zkhealth.credentials.trees", "IssuerRegistry"),
    "RevocationTree": ("zkhealth.credentials.trees", "RevocationTree"),
    "Credential": ("zkhealth.credentials.credential", "Credential"),
    "Criteria": ("zkhealth.eligibility.resolve", "Criteria"),
    "Trial": ("zkhealth.eligibility.trial", "Trial"),
    "TrialSpec": ("zkhealth.eligibility.spec", "TrialSpec"),
    "EligibilityProof": ("zkhealth.eligibility.proof", "EligibilityProof"),
    "VerifiedEligibility": ("zkhealth.eligibility.trial", "VerifiedEligibility"),
    "prove": ("zkhealth.eligibility.prove", "prove"),
}

__all__ = [
    "Credential",
    "Criteria",
    "EligibilityProof",
    "Issuer",
    "MalformedInputError",
    "RefusedError",
    "Registry",
    "RevocationTree",
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
    """Verify ``proof`` against ``trial``: :meth:`zkhealth.Trial.verify` (``today``, ``expected_scope``,
    ``expected_recipient`` are its options). Returns the verified signals; raises otherwise."""
    from zkhealth.errors import ArgumentTypeError

    if not callable(getattr(trial, "verify", None)):
        raise ArgumentTypeError(f"expected a Trial, got {type(trial).__name__}")
    return trial.verify(proof, **options)


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it in the module."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'zkhealth' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
