"""File formats shared with circom and snarkjs: ``.r1cs``, ``.wtns``, ``.zkey`` and snarkjs JSON."""

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

__all__ = [
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
