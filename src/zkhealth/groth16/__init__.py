"""Groth16 over BN254, compatible with snarkjs: setup, prove, verify, batch-verify, re-randomise.

One module per protocol step (as arkworks' ``ark-groth16``): :mod:`.r1cs_to_qap`, :mod:`.generator`
(setup), :mod:`.prover`, :mod:`.verifier`, :mod:`.batch`, :mod:`.rerandomize`; the key and proof types in
:mod:`.keys`. Reading and writing key, proof and constraint files is :mod:`zkhealth.formats`' job.
"""

from __future__ import annotations

from zkhealth.groth16.batch import batch_verify, find_invalid
from zkhealth.groth16.generator import ToxicWaste, setup, setup_with_toxic_waste
from zkhealth.groth16.keys import DEV_SETUP, SNARKJS_ZKEY, Proof, ProvingKey, VerifyingKey
from zkhealth.groth16.prover import prove, prove_deterministic, prove_no_zk, public_signals
from zkhealth.groth16.rerandomize import rerandomize
from zkhealth.groth16.verifier import PreparedVerifyingKey, prepare_verifying_key, verify

__all__ = [
    "DEV_SETUP",
    "SNARKJS_ZKEY",
    "PreparedVerifyingKey",
    "Proof",
    "ProvingKey",
    "ToxicWaste",
    "VerifyingKey",
    "batch_verify",
    "find_invalid",
    "prepare_verifying_key",
    "prove",
    "prove_deterministic",
    "prove_no_zk",
    "public_signals",
    "rerandomize",
    "setup",
    "setup_with_toxic_waste",
    "verify",
]
