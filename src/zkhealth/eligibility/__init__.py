"""Eligibility: the trial protocol, from criteria to a verified proof.

Recruiters write criteria as text (:mod:`.criteria` documents the grammar; docs/eligibility.md is the guide);
:class:`Trial` compiles them into the standard eligibility circuit (:mod:`.circuit`), reports its cost and
what a verifier learns, runs the setup and verifies proofs; :mod:`.prove` checks a holder's credential natively
(naming the failing clause) and proves; :class:`TrialSpec` is the trial file (``trial.json``) and
:mod:`.scope` the scope rule every proof is bound to.
"""

from zkhealth.eligibility.circuit import (
    PUBLIC_SIGNALS,
    compile_eligibility_circuit,
    eligibility_circuit,
    eligibility_inputs,
)
from zkhealth.eligibility.criteria import parse_criteria
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.prove import prove, prove_eligibility
from zkhealth.eligibility.resolve import Criteria, Evaluation, evaluate, resolve
from zkhealth.eligibility.scope import ZERO_ADDRESS, parse_address, trial_id_bytes, trial_scope
from zkhealth.eligibility.spec import TRIAL_FORMAT, Enrollment, TrialSpec
from zkhealth.eligibility.trial import (
    CostReport,
    SignalDisclosure,
    Trial,
    TrialKeys,
    VerifiedEligibility,
    read_criteria_file,
)

__all__ = [
    "PUBLIC_SIGNALS",
    "TRIAL_FORMAT",
    "ZERO_ADDRESS",
    "CostReport",
    "Criteria",
    "EligibilityProof",
    "Enrollment",
    "Evaluation",
    "SignalDisclosure",
    "Trial",
    "TrialKeys",
    "TrialSpec",
    "VerifiedEligibility",
    "compile_eligibility_circuit",
    "eligibility_circuit",
    "eligibility_inputs",
    "evaluate",
    "parse_address",
    "parse_criteria",
    "prove",
    "prove_eligibility",
    "read_criteria_file",
    "resolve",
    "trial_id_bytes",
    "trial_scope",
]
