"""The standard eligibility circuit (docs/eligibility.md) for the reference trial "diagnosis in E11.* and
age >= 18": issuer signature, trusted issuer, non-revocation, expiry, holder binding, criteria, nullifier
and recipient. The builder lives in :mod:`zkhealth.eligibility.circuit`; this entry point compiles it for
any criteria text or file and prints the constraint count per part::

    python circuits/eligibility.py                                   # the reference trial
    python circuits/eligibility.py circuits/criteria/ckd_diabetic.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from zkhealth.eligibility import Trial, eligibility_circuit

#: The reference criteria of the issue's "done when".
STANDARD_CRITERIA = "diagnosis in E11.* and age >= 18"

#: ``define(b)`` of the reference trial's circuit, for ``zkhealth.circuit.compile``.
define = eligibility_circuit(STANDARD_CRITERIA)


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else None
    trial = Trial(source if source is not None else STANDARD_CRITERIA, trial_id="report")
    print(trial.cost_report())


if __name__ == "__main__":
    main(sys.argv[1:])
