"""On-chain side of zkhealth: the Groth16 verifier and the CohortEnrollment contract, their compiled artifacts
(shipped, so no compiler is needed), and a web3.py client (:mod:`zkhealth.chain.client`, needs ``web3``).
"""
