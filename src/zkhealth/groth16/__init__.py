"""Groth16 over BN254, compatible with snarkjs: setup, prove, verify, batch-verify, re-randomise.

One module per protocol step (as arkworks' ``ark-groth16``): :mod:`.r1cs_to_qap`, :mod:`.generator`
(setup), :mod:`.prover`, :mod:`.verifier`, :mod:`.batch`, :mod:`.rerandomize`; the key and proof types in
:mod:`.keys`. Reading and writing key, proof and constraint files is :mod:`zkhealth.formats`' job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkhealth._lazy import lazy_attributes

# Eager: the submodule ``rerandomize`` has the function's name, and importing the submodule later would bind
# the module to the package's attribute instead of the function.
from zkhealth.groth16.rerandomize import rerandomize

if TYPE_CHECKING:
    from zkhealth.groth16.batch import batch_verify, find_invalid
    from zkhealth.groth16.generator import ToxicWaste, setup, setup_with_toxic_waste
    from zkhealth.groth16.keys import DEV_SETUP, SNARKJS_ZKEY, Proof, ProvingKey, VerifyingKey
    from zkhealth.groth16.prover import prove, prove_deterministic, prove_no_zk, public_signals
    from zkhealth.groth16.verifier import PreparedVerifyingKey, prepare_verifying_key, verify

#: Public name -> (module, attribute): imported on first use (PEP 562), so that importing one module of
#: this package does not import all of them.
_LAZY: dict[str, tuple[str, str]] = {
    "batch_verify": ("zkhealth.groth16.batch", "batch_verify"),
    "find_invalid": ("zkhealth.groth16.batch", "find_invalid"),
    "ToxicWaste": ("zkhealth.groth16.generator", "ToxicWaste"),
    "setup": ("zkhealth.groth16.generator", "setup"),
    "setup_with_toxic_waste": ("zkhealth.groth16.generator", "setup_with_toxic_waste"),
    "DEV_SETUP": ("zkhealth.groth16.keys", "DEV_SETUP"),
    "SNARKJS_ZKEY": ("zkhealth.groth16.keys", "SNARKJS_ZKEY"),
    "Proof": ("zkhealth.groth16.keys", "Proof"),
    "ProvingKey": ("zkhealth.groth16.keys", "ProvingKey"),
    "VerifyingKey": ("zkhealth.groth16.keys", "VerifyingKey"),
    "prove": ("zkhealth.groth16.prover", "prove"),
    "prove_deterministic": ("zkhealth.groth16.prover", "prove_deterministic"),
    "prove_no_zk": ("zkhealth.groth16.prover", "prove_no_zk"),
    "public_signals": ("zkhealth.groth16.prover", "public_signals"),
    "PreparedVerifyingKey": ("zkhealth.groth16.verifier", "PreparedVerifyingKey"),
    "prepare_verifying_key": ("zkhealth.groth16.verifier", "prepare_verifying_key"),
    "verify": ("zkhealth.groth16.verifier", "verify"),
}

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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
