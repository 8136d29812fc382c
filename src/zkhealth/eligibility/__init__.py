"""Eligibility: the trial protocol, from criteria to a verified proof.

Recruiters write criteria as text (:mod:`.criteria` documents the grammar; docs/eligibility.md is the guide);
:class:`Trial` compiles them into the standard eligibility circuit (:mod:`.circuit`), reports its cost and
what a verifier learns, runs the setup and verifies proofs; :mod:`.prove` checks a holder's credential natively
(naming the failing clause) and proves; :class:`TrialSpec` is the trial file (``trial.json``) and
:mod:`.scope` the scope rule every proof is bound to.

Schema version 2 (whole records): criteria compile to a :class:`Program` (:mod:`.program`: atoms plus a
monotone combination), :func:`evaluate_program` runs it natively, :mod:`.dedicated` builds its circuit, and
:class:`RecordTrial` / :func:`prove_record_eligibility` carry a trial from criteria to a verified proof.
"""

from zkhealth.eligibility.check import check_criteria_file
from zkhealth.eligibility.circuit import (
    PUBLIC_SIGNALS,
    compile_eligibility_circuit,
    eligibility_circuit,
    eligibility_inputs,
)
from zkhealth.eligibility.criteria import parse_criteria
from zkhealth.eligibility.evaluate import ProgramEvaluation, evaluate_program
from zkhealth.eligibility.program import Policy, Program, compile_program
from zkhealth.eligibility.proof import EligibilityProof
from zkhealth.eligibility.prove import prove, prove_eligibility
from zkhealth.eligibility.record_trial import RecordProof, RecordTrial, prove_record_eligibility
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
    "Policy",
    "Program",
    "ProgramEvaluation",
    "RecordProof",
    "RecordTrial",
    "SignalDisclosure",
    "Trial",
    "TrialKeys",
    "TrialSpec",
    "VerifiedEligibility",
    "check_criteria_file",
    "compile_eligibility_circuit",
    "compile_program",
    "eligibility_circuit",
    "eligibility_inputs",
    "evaluate",
    "evaluate_program",
    "parse_address",
    "parse_criteria",
    "prove",
    "prove_eligibility",
    "prove_record_eligibility",
    "read_criteria_file",
    "resolve",
    "trial_id_bytes",
    "trial_scope",
]
