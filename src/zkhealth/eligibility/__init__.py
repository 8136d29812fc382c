"""Eligibility: trial criteria -> circuit -> proof -> verification.

Recruiters write criteria as text (:mod:`.criteria` documents the grammar; docs/eligibility.md is the
guide); :class:`Trial` compiles them into the standard eligibility circuit (:mod:`.circuit`, design.md
section 5), reports its cost and what a verifier learns, runs the setup and verifies proofs;
:func:`prove_eligibility` checks a patient's credential natively (naming the failing clause) and proves.
"""

from zkhealth.eligibility.circuit import (
    PUBLIC_SIGNALS,
    compile_eligibility_circuit,
    eligibility_circuit,
    eligibility_inputs,
)
from zkhealth.eligibility.criteria import parse_criteria
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.resolve import Criteria, Evaluation, evaluate, resolve
from zkhealth.eligibility.trial import (
    CostReport,
    SignalDisclosure,
    Trial,
    TrialKeys,
    VerifiedEligibility,
    prove_eligibility,
    read_criteria_file,
)

__all__ = [
    "PUBLIC_SIGNALS",
    "CostReport",
    "Criteria",
    "EligibilityProof",
    "Evaluation",
    "SignalDisclosure",
    "Trial",
    "TrialKeys",
    "VerifiedEligibility",
    "compile_eligibility_circuit",
    "eligibility_circuit",
    "eligibility_inputs",
    "evaluate",
    "parse_criteria",
    "prove_eligibility",
    "read_criteria_file",
    "resolve",
]
