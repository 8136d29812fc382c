"""Reading and writing every key, proof and constraint file: circom's ``.r1cs`` and ``.wtns``, snarkjs' ``.zkey``
and JSON files, and zkhealth's own proving key ``.zkhpk``. The types they hold live in :mod:`zkhealth.groth16`
and :mod:`zkhealth.r1cs`."""

from __future__ import annotations

from zkhealth.formats.r1cs_file import parse_r1cs, r1cs_to_bytes, read_r1cs, write_r1cs
from zkhealth.formats.snarkjs_json import (
    load_proof,
    load_public,
    load_verifying_key,
    parse_proof,
    parse_public,
    parse_verifying_key,
    write_proof,
    write_public,
    write_verifying_key,
)
from zkhealth.formats.wtns_file import parse_wtns, read_wtns, write_wtns, wtns_to_bytes
from zkhealth.formats.zkey_file import parse_zkey, read_zkey
from zkhealth.formats.zkhpk_file import load_proving_key, parse_proving_key, proving_key_to_bytes, save_proving_key

__all__ = [
    "load_proving_key",
    "parse_proving_key",
    "proving_key_to_bytes",
    "save_proving_key",
    "load_proof",
    "load_public",
    "load_verifying_key",
    "parse_proof",
    "parse_public",
    "parse_r1cs",
    "parse_verifying_key",
    "parse_wtns",
    "parse_zkey",
    "r1cs_to_bytes",
    "read_r1cs",
    "read_wtns",
    "read_zkey",
    "write_proof",
    "write_public",
    "write_r1cs",
    "write_verifying_key",
    "write_wtns",
    "wtns_to_bytes",
]
