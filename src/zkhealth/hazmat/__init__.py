"""Hazardous low-level arithmetic: BN254 fields, curves, pairing, MSM, NTT and Baby Jubjub.

Nothing here validates its inputs beyond what each function's docstring states. Use the public API
(:mod:`zkhealth.groth16`, :mod:`zkhealth.credentials`) unless you know which checks you are skipping.
"""
