"""Trusted-setup ceremonies in snarkjs's formats: production Groth16 keys from many contributors.

* :mod:`.powersoftau`: phase 1 (``.ptau``): new, contribute, beacon, verify, prepare phase2.
* :mod:`.phase2`: phase 2 (``.zkey``): new from an ``.r1cs`` and a prepared ``.ptau``, contribute, beacon,
  verify, export the verifying key.
* :mod:`.transcript`: the coordinator's folder and transcript, and :func:`~.transcript.verify_ceremony`, the
  replay of a whole ceremony from its first file to its final keys.
* :mod:`.keypair`: contribution keys derived exactly as snarkjs derives them (beacons, proofs of knowledge).

Files are read and written by :mod:`zkhealth.formats.ptau_file` and :mod:`zkhealth.formats.zkey_file`; the group
arithmetic is :mod:`zkhealth.hazmat.batch_ec` and :mod:`zkhealth.hazmat.group_fft`. docs/ceremony.md walks a
ceremony end to end.
"""
