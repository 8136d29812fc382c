"""Eligibility: the trial protocol, from criteria to a verified proof.

Recruiters write criteria as text (:mod:`.criteria` documents the grammar; docs/eligibility.md is the guide); they
compile to a :class:`Program` (:mod:`.program`: atoms over the credential's header and its four record sets, plus
a monotone combination, with the trial :class:`Policy`), which :func:`evaluate_program` runs natively and
:mod:`.dedicated` compiles into the trial's eligibility circuit. :class:`Trial` carries one trial from criteria to
keys and verified proofs (cost report, what a verifier learns, setup, the verification policy with trust-root
freshness); :mod:`.prove` checks a holder's version-2 credential natively (naming the failing clause) and proves;
:class:`EligibilityProof` is the proof file; :class:`TrialSpec` is the trial file (``trial.json``) and
:mod:`.scope` the scope rule every proof is bound to. :mod:`.vote` is the anonymous vote circuit of the DAO.
"""

from zkhealth.eligibility.check import check_criteria_file
from zkhealth.eligibility.criteria import parse_criteria
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS, compile_dedicated_circuit, dedicated_inputs
from zkhealth.eligibility.evaluate import ProgramEvaluation, evaluate_program
from zkhealth.eligibility.program import Policy, Program, compile_program
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.prove import eligibility_inputs, prove, prove_eligibility
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
    "EligibilityProof",
    "Enrollment",
    "Policy",
    "Program",
    "ProgramEvaluation",
    "SignalDisclosure",
    "Trial",
    "TrialKeys",
    "TrialSpec",
    "VerifiedEligibility",
    "check_criteria_file",
    "compile_dedicated_circuit",
    "compile_program",
    "dedicated_inputs",
    "eligibility_inputs",
    "evaluate_program",
    "parse_address",
    "parse_criteria",
    "prove",
    "prove_eligibility",
    "read_criteria_file",
    "trial_id_bytes",
    "trial_scope",
]
