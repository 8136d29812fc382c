"""zkhealth: zero-knowledge eligibility proofs for healthcare, in Python.

A hospital issues a patient a signed credential; the patient proves a statement about it ("type 2
diabetes and at least 18 today") with a Groth16 proof over BN254; a recruiter verifies it in Python or
on-chain. See the README and docs/ for the tour.
"""

from __future__ import annotations

from zkhealth.errors import ZkHealthError
from zkhealth.field import FIELD_R, Fr

__version__ = "0.1.0"

__all__ = ["FIELD_R", "Fr", "ZkHealthError", "__version__"]
