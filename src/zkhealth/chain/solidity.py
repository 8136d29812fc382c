"""Verifying keys and proofs in the word layout the EVM expects, and the Solidity verifier export.

Everything here is pure Python: no compiler and no node are needed. The one place where G2 coordinates are put
into EIP-197 order is :func:`g2_to_eip197`; every other function that writes a G2 point for the EVM calls it.

Keys are accepted as snarkjs ``verification_key.json`` dictionaries or as objects with the arkworks/zkhealth
attribute names (``alpha_g1``, ``beta_g2``, ``gamma_g2``, ``delta_g2``, ``gamma_abc_g1``); proofs as snarkjs
``proof.json`` dictionaries or objects with ``a``, ``b``, ``c``. Numbers are parsed canonically (no reduction
modulo q: a coordinate >= q is refused, security.md G5).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zkhealth.errors import MalformedProofError, NonCanonicalEncodingError, ZkHealthError
from zkhealth.field import FIELD_Q, FIELD_R, parse_canonical_int

G1Point = tuple[int, int]
Fq2 = tuple[int, int]
G2Point = tuple[Fq2, Fq2]

#: Calldata of ``verifyProof``: a (2 words), b (4 words, EIP-197 order), c (2 words).
Calldata = tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]], tuple[int, int]]

#: Sentinel for "no public signal folded into IC0" in Groth16VerifierInit's constructor.
NOT_FOLDED: Final[int] = 2**256 - 1


def g2_to_eip197(point: G2Point) -> tuple[int, int, int, int]:
    """The EVM word order of a G2 point: ``(x_im, x_re, y_im, y_re)``.

    EIP-197 encodes an Fq2 element ``c0 + c1*u`` as ``(c1, c0)`` (imaginary first), while snarkjs JSON and
    zkhealth tuples hold ``(c0, c1)`` (security.md K5, snarkjs #631). This is the only function in zkhealth
    that performs the swap. Cost: O(1)."""
    (x_re, x_im), (y_re, y_im) = point
    return (x_im, x_re, y_im, y_re)


@dataclass(frozen=True)
class KeyPoints:
    """A Groth16 verifying key's points, coordinates canonical (< q): enough to install a verifier."""

    alpha_g1: G1Point
    beta_g2: G2Point
    gamma_g2: G2Point
    delta_g2: G2Point
    ic: tuple[G1Point, ...]

    @property
    def n_public(self) -> int:
        """Number of public signals (one IC point each, plus IC0 for the constant wire)."""
        return len(self.ic) - 1


def _coordinate(value: object, what: str) -> int:
    try:
        return parse_canonical_int(value, FIELD_Q, what=what)
    except ZkHealthError as exc:
        raise MalformedProofError(f"{what}: {exc}") from exc


def _g1_from(value: object, what: str) -> G1Point:
    if isinstance(value, tuple) and len(value) == 2:
        return (_coordinate(value[0], what), _coordinate(value[1], what))
    if isinstance(value, list) and len(value) == 3 and value[2] in ("1", 1):
        return (_coordinate(value[0], what), _coordinate(value[1], what))
    raise MalformedProofError(f"{what}: expected an affine G1 point")


def _g2_from(value: object, what: str) -> G2Point:
    pairs: Sequence[object]
    if isinstance(value, tuple) and len(value) == 2:
        pairs = value
    elif isinstance(value, list) and len(value) == 3 and value[2] in (["1", "0"], [1, 0]):
        pairs = value[:2]
    else:
        raise MalformedProofError(f"{what}: expected an affine G2 point")
    coords: list[Fq2] = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise MalformedProofError(f"{what}: expected an Fq2 pair")
        coords.append((_coordinate(pair[0], what), _coordinate(pair[1], what)))
    return (coords[0], coords[1])


def key_points(vk: object) -> KeyPoints:
    """Read a verifying key (snarkjs JSON dict or an object with arkworks names) into :class:`KeyPoints`.

    Enforces: Groth16 over bn128, every coordinate canonical and < q, no point at infinity among alpha,
    beta, gamma, delta, at least one public signal. Curve membership is checked by the EVM at install time
    (Groth16Key.validate). Raises :class:`MalformedProofError`. Cost: O(n_public)."""
    if isinstance(vk, Mapping):
        if vk.get("protocol") != "groth16" or vk.get("curve") not in ("bn128", "bn254"):
            raise MalformedProofError("verifying key: expected protocol groth16 on bn128")
        raw_ic = vk.get("IC")
        if not isinstance(raw_ic, list):
            raise MalformedProofError("verifying key: IC must be a list")
        alpha = _g1_from(vk.get("vk_alpha_1"), "vk_alpha_1")
        beta = _g2_from(vk.get("vk_beta_2"), "vk_beta_2")
        gamma = _g2_from(vk.get("vk_gamma_2"), "vk_gamma_2")
        delta = _g2_from(vk.get("vk_delta_2"), "vk_delta_2")
        ic = tuple(_g1_from(p, f"IC[{i}]") for i, p in enumerate(raw_ic))
        n_public = vk.get("nPublic")
        if isinstance(n_public, bool) or not isinstance(n_public, int) or n_public != len(ic) - 1:
            raise MalformedProofError("verifying key: nPublic does not match the IC length")
    else:
        try:
            alpha_obj = vk.alpha_g1  # type: ignore[attr-defined]
            beta_obj, gamma_obj, delta_obj = vk.beta_g2, vk.gamma_g2, vk.delta_g2  # type: ignore[attr-defined]
            ic_obj = vk.gamma_abc_g1  # type: ignore[attr-defined]
        except AttributeError as exc:
            raise MalformedProofError("verifying key: expected a snarkjs dict or a VerifyingKey") from exc
        if any(p is None for p in (alpha_obj, beta_obj, gamma_obj, delta_obj)):
            raise MalformedProofError("verifying key: a point is at infinity")
        alpha = _g1_from(tuple(alpha_obj), "alpha_g1")
        beta = _g2_from(tuple(beta_obj), "beta_g2")
        gamma = _g2_from(tuple(gamma_obj), "gamma_g2")
        delta = _g2_from(tuple(delta_obj), "delta_g2")
        ic = tuple((0, 0) if p is None else _g1_from(tuple(p), f"IC[{i}]") for i, p in enumerate(ic_obj))
    if len(ic) < 2:
        raise MalformedProofError("verifying key: at least one public signal is required")
    if alpha == (0, 0) or ((0, 0), (0, 0)) in (beta, gamma, delta):
        raise MalformedProofError("verifying key: alpha, beta, gamma and delta must not be at infinity")
    return KeyPoints(alpha, beta, gamma, delta, ic)


def key_words(vk: object) -> list[int]:
    """The key as the words Groth16Key.sol reads: alpha(2) beta(4) gamma(4) delta(4) IC0(2) .. ICn(2), every
    G2 point through :func:`g2_to_eip197`. Cost: O(n_public)."""
    points = key_points(vk)
    words: list[int] = [*points.alpha_g1]
    for g2 in (points.beta_g2, points.gamma_g2, points.delta_g2):
        words.extend(g2_to_eip197(g2))
    for g1 in points.ic:
        words.extend(g1)
    return words


def key_hash(vk: object) -> bytes:
    """keccak256 of the 32-byte big-endian key words (what CohortEnrollment's ``verifyingKeyHash`` returns)."""
    from eth_utils.crypto import keccak

    return bytes(keccak(b"".join(w.to_bytes(32, "big") for w in key_words(vk))))


def _public_int(value: object, index: int) -> int:
    """A public signal as an int. Refuses bool, floats and non-canonical strings; does NOT reduce mod r, so
    the EVM sees exactly what the caller passed (the contract's own range check is what tests exercise)."""
    if isinstance(value, bool):
        raise MalformedProofError(f"public signal {index}: a bool is not a field element")
    if isinstance(value, int):
        if not 0 <= value < 2**256:
            raise MalformedProofError(f"public signal {index}: does not fit in a uint256")
        return value
    try:
        return parse_canonical_int(value, 2**256, what=f"public signal {index}")
    except ZkHealthError as exc:
        raise MalformedProofError(f"public signal {index}: {exc}") from exc


def public_words(public_signals: Sequence[object]) -> list[int]:
    """Public signals as uint256 words (ints or canonical decimal strings; not reduced, not range-checked
    against r: the contracts check that). Raises :class:`MalformedProofError`."""
    return [_public_int(v, i) for i, v in enumerate(public_signals)]


def to_calldata(proof: object) -> Calldata:
    """The proof as ``verifyProof``'s ``(a, b, c)`` arguments, b through :func:`g2_to_eip197`.

    Accepts a snarkjs proof dict (``pi_a``, ``pi_b``, ``pi_c``) or an object with ``a``, ``b``, ``c``.
    Coordinates must be canonical (< q). Raises :class:`MalformedProofError`. Cost: O(1)."""
    if isinstance(proof, Mapping):
        a = _g1_from(proof.get("pi_a"), "pi_a")
        b = _g2_from(proof.get("pi_b"), "pi_b")
        c = _g1_from(proof.get("pi_c"), "pi_c")
    else:
        try:
            a_obj, b_obj, c_obj = proof.a, proof.b, proof.c  # type: ignore[attr-defined]
        except AttributeError as exc:
            raise MalformedProofError("proof: expected a snarkjs dict or a Proof") from exc
        a = (0, 0) if a_obj is None else _g1_from(tuple(a_obj), "a")
        b = ((0, 0), (0, 0)) if b_obj is None else _g2_from(tuple(b_obj), "b")
        c = (0, 0) if c_obj is None else _g1_from(tuple(c_obj), "c")
    bx_im, bx_re, by_im, by_re = g2_to_eip197(b)
    return (a, ((bx_im, bx_re), (by_im, by_re)), c)


def verify_proof_signature(n_public: int) -> str:
    """The Solidity signature of ``verifyProof`` for ``n_public`` signals (snarkjs' exported verifier's)."""
    if n_public < 1:
        raise MalformedProofError("a verifier needs at least one public signal")
    return f"verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{n_public}])"


def verifier_abi(n_public: int) -> list[dict[str, Any]]:
    """ABI of an installed Groth16Verifier serving ``n_public`` calldata signals (its runtime dispatches in
    assembly, so solc's ABI lists only its errors; these are the functions it serves)."""

    def arr(name: str, type_: str) -> dict[str, Any]:
        return {"name": name, "type": type_, "internalType": type_}

    return [
        {
            "type": "function",
            "name": "verifyProof",
            "stateMutability": "view",
            "inputs": [
                arr("a", "uint256[2]"),
                arr("b", "uint256[2][2]"),
                arr("c", "uint256[2]"),
                arr("publicSignals", f"uint256[{n_public}]"),
            ],
            "outputs": [arr("", "bool")],
        },
        {
            "type": "function",
            "name": "publicInputCount",
            "stateMutability": "view",
            "inputs": [],
            "outputs": [arr("", "uint256")],
        },
        {
            "type": "function",
            "name": "foldedSignal",
            "stateMutability": "view",
            "inputs": [],
            "outputs": [arr("index", "uint256"), arr("value", "uint256")],
        },
    ]


def scalar_from(value: object, what: str) -> int:
    """A field element (< r) from an int or a canonical decimal string, for values folded at deployment."""
    try:
        return parse_canonical_int(value, FIELD_R, what=what)
    except ZkHealthError as exc:
        raise MalformedProofError(f"{what}: {exc}") from exc


# --------------------------------------------------------------------------- export (render a per-key verifier)


def _template_text() -> str:
    """The export template, shipped inside the ``Groth16Verifier.template`` artifact (package data)."""
    from zkhealth.chain.build import TEMPLATE_ARTIFACT, load_artifact

    return str(load_artifact(TEMPLATE_ARTIFACT)["template"])


def _selector(signature: str) -> str:
    from eth_utils.crypto import keccak

    return bytes(keccak(text=signature))[:4].hex()


def render_verifier(vk: object, *, contract_name: str = "Groth16Verifier") -> str:
    """A standalone Solidity verifier with the key as constants, for users who audit and compile themselves
    (``zkhealth export-verifier``). Same calldata and the same checks as the installed Groth16Verifier.

    The header names the generator and the key's sha256 (style.md §10). Cost: O(n_public)."""
    if not contract_name.isidentifier() or not contract_name.isascii():
        raise NonCanonicalEncodingError("contract name must be an ASCII identifier")
    points = key_points(vk)
    words = key_words(vk)
    digest = hashlib.sha256(b"".join(w.to_bytes(32, "big") for w in words)).hexdigest()
    n = points.n_public
    key_lines = []
    names = [
        "alphax",
        "alphay",
        "betax1",
        "betax0",
        "betay1",
        "betay0",
        "gammax1",
        "gammax0",
        "gammay1",
        "gammay0",
        "deltax1",
        "deltax0",
        "deltay1",
        "deltay0",
    ]
    for name, word in zip(names, words[:14], strict=True):
        key_lines.append(f"    uint256 internal constant {name} = {word};")
    accumulate = []
    for i in range(n):
        x, y = points.ic[i + 1]
        accumulate.append(f"            ok := and(ok, mulAccAt(acc, scratch, {x}, {y}, calldataload({260 + 32 * i})))")
    checks = [f"            checkField(calldataload({260 + 32 * i}), {i})" for i in range(n)]
    return string.Template(_template_text()).substitute(
        contract_name=contract_name,
        key_sha256=digest,
        n_public=n,
        key_constants="\n".join(key_lines),
        ic0x=points.ic[0][0],
        ic0y=points.ic[0][1],
        field_checks="\n".join(checks),
        accumulate="\n".join(accumulate),
        input_not_in_field_selector=_selector("InputNotInField(uint256)"),
        proof_not_canonical_selector=_selector("ProofNotCanonical()"),
    )
