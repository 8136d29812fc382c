"""snarkjs JSON files: ``proof.json``, ``public.json`` and ``verification_key.json``, read strictly and
written byte for byte as snarkjs 0.7.6 writes them (``bfj`` with one-space indentation, numbers as decimal
strings, no trailing newline).

Shapes (snarkjs, curve "bn128" = BN254)::

    proof.json   {"pi_a": [x, y, "1"], "pi_b": [[x0, x1], [y0, y1], ["1", "0"]], "pi_c": [x, y, "1"],
                  "protocol": "groth16", "curve": "bn128"}
    public.json  ["signal", ...]          (decimal strings; outputs first, then public inputs)
    verification_key.json
                 {"protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2",
                  "vk_alphabeta_12", "IC": [[x, y, "1"], ...]}

G2 coordinates are ``[c0, c1]`` (real part first); EIP-197 calldata uses the opposite order. The identity is
written ``["0", "1", "0"]`` (G1) and ``[["0","0"],["1","0"],["0","0"]]`` (G2), as ffjavascript's ``toObject``
does. We add one key snarkjs ignores, ``"provenance"``, to development keys only.

Reading goes through the strict loader (:mod:`zkhealth._json`) and refuses, with typed errors: more than
:data:`MAX_JSON_BYTES`; invalid UTF-8 or JSON; duplicate keys; ``NaN``/``Infinity``; floats; deep nesting;
wrong shapes or missing fields
(:class:`MalformedProofError`); non-canonical numbers and coordinates >= q
(:class:`NonCanonicalEncodingError`); public signals >= r or negative
(:class:`PublicInputOutOfRangeError` with the index). Curve membership is checked by the verifier.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any, Final

from zkhealth._fileio import as_path, atomic_write, naming
from zkhealth._json import loads_strict, read_limited
from zkhealth.errors import (
    FieldRangeError,
    FieldTypeError,
    MalformedProofError,
    NonCanonicalEncodingError,
    PublicInputOutOfRangeError,
)
from zkhealth.field import FIELD_Q, FIELD_R, MAX_DECIMAL_DIGITS, parse_canonical_int
from zkhealth.groth16.keys import (
    DEV_SETUP,
    PROVENANCES,
    UNKNOWN,
    G1Point,
    G2Point,
    Proof,
    VerifyingKey,
    g1_to_json,
    g2_to_json,
)

#: Largest JSON document accepted (a verification key with ~40k public inputs fits).
MAX_JSON_BYTES: Final[int] = 8 * 1024 * 1024

_NEGATIVE_DECIMAL = re.compile(r"-[0-9]+", re.ASCII)


# --------------------------------------------------------------------------- strict JSON


def loads_json(data: str | bytes, *, what: str = "JSON") -> Any:
    """Parse a snarkjs-family JSON document with the strict loader (:func:`zkhealth._json.loads_strict`):
    integers only, at most :data:`MAX_JSON_BYTES`; refusals raise :class:`MalformedProofError`."""
    return loads_strict(data, what=what, max_bytes=MAX_JSON_BYTES, integers_only=True, error=MalformedProofError)


def read_json_bytes(path: str | os.PathLike[str], *, what: str) -> bytes:
    """The bytes of a snarkjs-family JSON file, refused (:class:`MalformedProofError`) above
    :data:`MAX_JSON_BYTES` without reading more."""
    return read_limited(path, what=what, max_bytes=MAX_JSON_BYTES, error=MalformedProofError)


def dumps_snarkjs(obj: Any) -> str:
    """JSON exactly as snarkjs' ``bfj.write(..., {space: 1})`` writes it (no trailing newline)."""
    return json.dumps(obj, indent=1, ensure_ascii=True)


# --------------------------------------------------------------------------- numbers and points


def _coordinate(value: Any, what: str) -> int:
    try:
        return parse_canonical_int(value, FIELD_Q, what=what)
    except FieldRangeError:
        raise NonCanonicalEncodingError(f"{what}: coordinate is not below q") from None
    except FieldTypeError:
        raise MalformedProofError(f"{what}: expected a decimal string") from None


def _exact(value: Any, expected: str, what: str) -> None:
    if value != expected and not (isinstance(value, int) and not isinstance(value, bool) and str(value) == expected):
        raise MalformedProofError(f"{what}: expected {expected!r}")


def _list(value: Any, length: int, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) != length:
        raise MalformedProofError(f"{what}: expected a list of {length} items")
    return value


def parse_g1(value: Any, what: str) -> G1Point | None:
    """``[x, y, "1"]`` -> ``(x, y)``; ``[x, y, "0"]`` (projective identity) -> ``None``."""
    items = _list(value, 3, what)
    x = _coordinate(items[0], f"{what}.x")
    y = _coordinate(items[1], f"{what}.y")
    if items[2] == "0" or items[2] == 0:
        if isinstance(items[2], bool):
            raise MalformedProofError(f"{what}: bad z")
        return None
    _exact(items[2], "1", f"{what}.z")
    return (x, y)


def parse_g2(value: Any, what: str) -> G2Point | None:
    """``[[x0, x1], [y0, y1], ["1", "0"]]`` -> ``((x0, x1), (y0, y1))``; z = ``["0", "0"]`` -> ``None``."""
    items = _list(value, 3, what)
    xs = _list(items[0], 2, f"{what}.x")
    ys = _list(items[1], 2, f"{what}.y")
    zs = _list(items[2], 2, f"{what}.z")
    x = (_coordinate(xs[0], f"{what}.x0"), _coordinate(xs[1], f"{what}.x1"))
    y = (_coordinate(ys[0], f"{what}.y0"), _coordinate(ys[1], f"{what}.y1"))
    if zs in (["0", "0"], [0, 0]):
        return None
    _exact(zs[0], "1", f"{what}.z0")
    _exact(zs[1], "0", f"{what}.z1")
    return (x, y)


def parse_public_signal(value: Any, index: int) -> int:
    """One public signal: canonical decimal string (or JSON int) in [0, r).

    Values >= r and negative values raise :class:`PublicInputOutOfRangeError` with ``index``; other bad
    spellings raise :class:`NonCanonicalEncodingError`; other types :class:`MalformedProofError`.
    """
    what = f"public signal {index}"
    if isinstance(value, str) and len(value) <= MAX_DECIMAL_DIGITS + 1 and _NEGATIVE_DECIMAL.fullmatch(value):
        raise PublicInputOutOfRangeError(f"{what} is negative", index=index)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise PublicInputOutOfRangeError(f"{what} is negative", index=index)
    try:
        return parse_canonical_int(value, FIELD_R, what=what)
    except FieldRangeError:
        raise PublicInputOutOfRangeError(f"{what} is not below r", index=index) from None
    except FieldTypeError:
        raise MalformedProofError(f"{what}: expected a decimal string") from None


# --------------------------------------------------------------------------- proof.json


def proof_from_dict(obj: Any) -> Proof:
    """Parse a decoded ``proof.json``. ``protocol``/``curve``, when present, must be groth16/bn128."""
    if not isinstance(obj, dict):
        raise MalformedProofError("proof: expected a JSON object")
    for key in ("pi_a", "pi_b", "pi_c"):
        if key not in obj:
            raise MalformedProofError(f"proof: missing {key}")
    if "protocol" in obj and obj["protocol"] != "groth16":
        raise MalformedProofError("proof: protocol is not groth16")
    if "curve" in obj and obj["curve"] != "bn128":
        raise MalformedProofError("proof: curve is not bn128")
    return Proof(a=parse_g1(obj["pi_a"], "pi_a"), b=parse_g2(obj["pi_b"], "pi_b"), c=parse_g1(obj["pi_c"], "pi_c"))


def proof_to_dict(proof: Proof) -> dict[str, Any]:
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def parse_proof(data: str | bytes) -> Proof:
    return proof_from_dict(loads_json(data, what="proof.json"))


def load_proof(path: str | os.PathLike[str]) -> Proof:
    data = read_json_bytes(path, what=os.fspath(as_path(path)))
    with naming(path):
        return parse_proof(data)


def write_proof(proof: Proof, path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps_snarkjs(proof_to_dict(proof)).encode("ascii"), mode=0o644)


# --------------------------------------------------------------------------- public.json


def public_from_list(obj: Any) -> list[int]:
    if not isinstance(obj, list):
        raise MalformedProofError("public signals: expected a JSON array")
    return [parse_public_signal(value, index) for index, value in enumerate(obj)]


def parse_public(data: str | bytes) -> list[int]:
    return public_from_list(loads_json(data, what="public.json"))


def load_public(path: str | os.PathLike[str]) -> list[int]:
    data = read_json_bytes(path, what=os.fspath(as_path(path)))
    with naming(path):
        return parse_public(data)


def write_public(signals: Sequence[int], path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps_snarkjs([str(int(v)) for v in signals]).encode("ascii"), mode=0o644)


# --------------------------------------------------------------------------- verification_key.json


def fq12_to_json(value: Sequence[Sequence[Sequence[int]]]) -> list[list[list[str]]]:
    """An Fq12 element as ``[[[c000, c001], [c010, c011], [c020, c021]], [[...], [...], [...]]]``."""
    return [[[str(int(c)) for c in fq2] for fq2 in fq6] for fq6 in value]


def alphabeta_12(vk: VerifyingKey) -> list[list[list[str]]]:
    """``vk_alphabeta_12``: e(alpha, beta) in ffjavascript's tower (Fq12 = Fq6[w]/(w^2 - v), Fq6 =
    Fq2[v]/(v^3 - (9 + u))). snarkjs writes it but never reads it; we write it for byte compatibility."""
    from zkhealth.hazmat.pairing import pairing

    return fq12_to_json(_fq12_tower(pairing(vk.alpha_g1, vk.beta_g2)))


def _fq12_tower(value: Any) -> list[list[list[int]]]:
    """Coerce the pairing module's Fq12 into nested ``[fq6][fq2][coefficient]`` integer lists."""
    def flatten(item: Any) -> list[int]:
        if isinstance(item, int):
            return [int(item)]
        out: list[int] = []
        for sub in item:
            out.extend(flatten(sub))
        return out

    flat = flatten(value)
    if len(flat) != 12:
        raise TypeError("unexpected Fq12 representation")
    return [[flat[6 * i + 2 * j : 6 * i + 2 * j + 2] for j in range(3)] for i in range(2)]


def verifying_key_to_dict(
    vk: VerifyingKey, *, include_alphabeta: bool = True, include_provenance: bool = True
) -> dict[str, Any]:
    """The snarkjs ``verification_key.json`` object, keys in snarkjs' order."""
    body = vk.snarkjs_fields()
    ic = body.pop("IC")
    if include_alphabeta:
        body["vk_alphabeta_12"] = alphabeta_12(vk)
    body["IC"] = ic
    if include_provenance and vk.provenance == DEV_SETUP:
        body["provenance"] = vk.provenance
    return body


def _required_point(value: G1Point | G2Point | None, what: str) -> Any:
    if value is None:
        raise MalformedProofError(f"verification key: {what} is the identity")
    return value


def verifying_key_from_dict(obj: Any) -> VerifyingKey:
    """Parse a decoded ``verification_key.json`` (shapes and canonical coordinates; curve checks happen when
    the key is prepared for verification). ``vk_alphabeta_12`` is shape-checked and otherwise ignored: the
    verifier recomputes what it needs from alpha and beta."""
    if not isinstance(obj, dict):
        raise MalformedProofError("verification key: expected a JSON object")
    for key in ("protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        if key not in obj:
            raise MalformedProofError(f"verification key: missing {key}")
    if obj["protocol"] != "groth16":
        raise MalformedProofError("verification key: protocol is not groth16")
    if obj["curve"] != "bn128":
        raise MalformedProofError("verification key: curve is not bn128")
    n_public = obj["nPublic"]
    if isinstance(n_public, bool) or not isinstance(n_public, int) or n_public < 0:
        raise MalformedProofError("verification key: nPublic must be a non-negative integer")
    ic = obj["IC"]
    if not isinstance(ic, list) or len(ic) != n_public + 1:
        raise MalformedProofError("verification key: IC must hold nPublic + 1 points")
    if "vk_alphabeta_12" in obj:
        fq12 = _list(obj["vk_alphabeta_12"], 2, "vk_alphabeta_12")
        for i, fq6 in enumerate(fq12):
            for j, fq2 in enumerate(_list(fq6, 3, f"vk_alphabeta_12[{i}]")):
                for k, c in enumerate(_list(fq2, 2, f"vk_alphabeta_12[{i}][{j}]")):
                    _coordinate(c, f"vk_alphabeta_12[{i}][{j}][{k}]")
    provenance = obj.get("provenance", UNKNOWN)
    if provenance not in PROVENANCES:
        raise MalformedProofError("verification key: unknown provenance")
    return VerifyingKey(
        alpha_g1=_required_point(parse_g1(obj["vk_alpha_1"], "vk_alpha_1"), "vk_alpha_1"),
        beta_g2=_required_point(parse_g2(obj["vk_beta_2"], "vk_beta_2"), "vk_beta_2"),
        gamma_g2=_required_point(parse_g2(obj["vk_gamma_2"], "vk_gamma_2"), "vk_gamma_2"),
        delta_g2=_required_point(parse_g2(obj["vk_delta_2"], "vk_delta_2"), "vk_delta_2"),
        gamma_abc_g1=tuple(parse_g1(point, f"IC[{i}]") for i, point in enumerate(ic)),
        provenance=str(provenance),
    )


def parse_verifying_key(data: str | bytes) -> VerifyingKey:
    return verifying_key_from_dict(loads_json(data, what="verification_key.json"))


def load_verifying_key(path: str | os.PathLike[str]) -> VerifyingKey:
    data = read_json_bytes(path, what=os.fspath(as_path(path)))
    with naming(path):
        return parse_verifying_key(data)


def write_verifying_key(vk: VerifyingKey, path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps_snarkjs(verifying_key_to_dict(vk)).encode("ascii"), mode=0o644)
