"""Reading and writing every key, proof and constraint file: circom's ``.r1cs`` and ``.wtns``, snarkjs' ``.zkey``
and JSON files, and zkhealth's own proving key ``.zkhpk``. The types they hold live in :mod:`zkhealth.groth16`
and :mod:`zkhealth.r1cs`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkhealth._lazy import lazy_attributes

if TYPE_CHECKING:
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

#: Public name -> (module, attribute): imported on first use (PEP 562), so that importing one module of
#: this package does not import all of them.
_LAZY: dict[str, tuple[str, str]] = {
    "parse_r1cs": ("zkhealth.formats.r1cs_file", "parse_r1cs"),
    "r1cs_to_bytes": ("zkhealth.formats.r1cs_file", "r1cs_to_bytes"),
    "read_r1cs": ("zkhealth.formats.r1cs_file", "read_r1cs"),
    "write_r1cs": ("zkhealth.formats.r1cs_file", "write_r1cs"),
    "load_proof": ("zkhealth.formats.snarkjs_json", "load_proof"),
    "load_public": ("zkhealth.formats.snarkjs_json", "load_public"),
    "load_verifying_key": ("zkhealth.formats.snarkjs_json", "load_verifying_key"),
    "parse_proof": ("zkhealth.formats.snarkjs_json", "parse_proof"),
    "parse_public": ("zkhealth.formats.snarkjs_json", "parse_public"),
    "parse_verifying_key": ("zkhealth.formats.snarkjs_json", "parse_verifying_key"),
    "write_proof": ("zkhealth.formats.snarkjs_json", "write_proof"),
    "write_public": ("zkhealth.formats.snarkjs_json", "write_public"),
    "write_verifying_key": ("zkhealth.formats.snarkjs_json", "write_verifying_key"),
    "parse_wtns": ("zkhealth.formats.wtns_file", "parse_wtns"),
    "read_wtns": ("zkhealth.formats.wtns_file", "read_wtns"),
    "write_wtns": ("zkhealth.formats.wtns_file", "write_wtns"),
    "wtns_to_bytes": ("zkhealth.formats.wtns_file", "wtns_to_bytes"),
    "parse_zkey": ("zkhealth.formats.zkey_file", "parse_zkey"),
    "read_zkey": ("zkhealth.formats.zkey_file", "read_zkey"),
    "load_proving_key": ("zkhealth.formats.zkhpk_file", "load_proving_key"),
    "parse_proving_key": ("zkhealth.formats.zkhpk_file", "parse_proving_key"),
    "proving_key_to_bytes": ("zkhealth.formats.zkhpk_file", "proving_key_to_bytes"),
    "save_proving_key": ("zkhealth.formats.zkhpk_file", "save_proving_key"),
}

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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
