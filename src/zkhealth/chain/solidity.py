"""Verifying keys and proofs in the word layout the EVM expects, and the Solidity verifier export.

Everything here is pure Python: no compiler and no node are needed. The one place where G2 coordinates are put
into EIP-197 order is :func:`g2_to_eip197`; every other function that writes a G2 point for the EVM calls it.

Keys are :class:`~zkhealth.groth16.keys.VerifyingKey` and proofs :class:`~zkhealth.groth16.keys.Proof` (snarkjs
files become them through :mod:`zkhealth.formats.snarkjs_json`). Coordinates are never reduced modulo q: a
coordinate >= q is refused (docs/security.md G5).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from zkhealth.errors import MalformedProofError, NonCanonicalEncodingError
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.groth16.keys import G1Point, G2Point, Proof, VerifyingKey

#: Calldata of ``verifyProof``: a (2 words), b (4 words, EIP-197 order), c (2 words).
Calldata = tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]], tuple[int, int]]

#: Sentinel for "no public signal folded into IC0" in Groth16VerifierInit's constructor.
NOT_FOLDED: Final[int] = 2**256 - 1


def g2_to_eip197(point: G2Point) -> tuple[int, int, int, int]:
    """The EVM word order of a G2 point: ``(x_im, x_re, y_im, y_re)``.

    EIP-197 encodes an Fq2 element ``c0 + c1*u`` as ``(c1, c0)`` (imaginary first), while snarkjs JSON and
    zkhealth tuples hold ``(c0, c1)`` (docs/security.md K5, snarkjs #631). This is the only function in zkhealth
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


def _coordinate(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_Q:
        raise MalformedProofError(f"{what}: a coordinate must be an integer below q")
    return value


def _g1(point: G1Point | None, what: str) -> G1Point:
    if point is None:
        return (0, 0)
    return (_coordinate(point[0], what), _coordinate(point[1], what))


def _g2(point: G2Point | None, what: str) -> G2Point:
    if point is None:
        return ((0, 0), (0, 0))
    (x0, x1), (y0, y1) = point
    return ((_coordinate(x0, what), _coordinate(x1, what)), (_coordinate(y0, what), _coordinate(y1, what)))


def key_points(vk: VerifyingKey) -> KeyPoints:
    """The points of ``vk`` for the EVM (the identity as (0, 0)).

    Enforces: every coordinate below q, no point at infinity among alpha, beta, gamma, delta, at least one
    public signal. Curve membership is checked by the EVM at install time (Groth16Key.validate). A snarkjs
    ``verification_key.json`` becomes a :class:`VerifyingKey` with :mod:`zkhealth.formats.snarkjs_json`.
    Raises :class:`MalformedProofError`. Cost: O(n_public)."""
    alpha = _g1(vk.alpha_g1, "alpha_g1")
    beta, gamma, delta = _g2(vk.beta_g2, "beta_g2"), _g2(vk.gamma_g2, "gamma_g2"), _g2(vk.delta_g2, "delta_g2")
    ic = tuple(_g1(p, f"IC[{i}]") for i, p in enumerate(vk.gamma_abc_g1))
    if len(ic) < 2:
        raise MalformedProofError("verifying key: at least one public signal is required")
    if alpha == (0, 0) or ((0, 0), (0, 0)) in (beta, gamma, delta):
        raise MalformedProofError("verifying key: alpha, beta, gamma and delta must not be at infinity")
    return KeyPoints(alpha, beta, gamma, delta, ic)


def key_words(vk: VerifyingKey) -> list[int]:
    """The key as the words Groth16Key.sol reads: alpha(2) beta(4) gamma(4) delta(4) IC0(2) .. ICn(2), every
    G2 point through :func:`g2_to_eip197`. Cost: O(n_public)."""
    points = key_points(vk)
    words: list[int] = [*points.alpha_g1]
    for g2 in (points.beta_g2, points.gamma_g2, points.delta_g2):
        words.extend(g2_to_eip197(g2))
    for g1 in points.ic:
        words.extend(g1)
    return words


def key_hash(vk: VerifyingKey) -> bytes:
    """keccak256 of the 32-byte big-endian key words (what CohortEnrollment's ``verifyingKeyHash`` returns)."""
    from eth_utils.crypto import keccak

    return bytes(keccak(b"".join(w.to_bytes(32, "big") for w in key_words(vk))))


def public_words(public_signals: Sequence[int]) -> list[int]:
    """Public signals as uint256 words: ints in [0, 2^256), not reduced and not range-checked against r (the
    contracts check that, and tests exercise it). Raises :class:`MalformedProofError`."""
    words = []
    for index, value in enumerate(public_signals):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
            raise MalformedProofError(f"public signal {index}: not an integer that fits in a uint256")
        words.append(value)
    return words


def to_calldata(proof: Proof) -> Calldata:
    """The proof as ``verifyProof``'s ``(a, b, c)`` arguments, b through :func:`g2_to_eip197`.

    Coordinates must be below q (the identity becomes zeros). A snarkjs ``proof.json`` becomes a
    :class:`Proof` with :mod:`zkhealth.formats.snarkjs_json`. Raises :class:`MalformedProofError`. Cost: O(1)."""
    a, b, c = _g1(proof.a, "a"), _g2(proof.b, "b"), _g1(proof.c, "c")
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


def scalar_from(value: int, what: str) -> int:
    """A field element (< r), for values folded at deployment. Raises :class:`MalformedProofError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise MalformedProofError(f"{what}: must be an integer below r")
    return value


# --------------------------------------------------------------------------- export (render a per-key verifier)


def _template_text() -> str:
    """The export template, shipped inside the ``Groth16Verifier.template`` artifact (package data)."""
    from zkhealth.chain.build import TEMPLATE_ARTIFACT, load_artifact

    return str(load_artifact(TEMPLATE_ARTIFACT)["template"])


def _selector(signature: str) -> str:
    from eth_utils.crypto import keccak

    return bytes(keccak(text=signature))[:4].hex()


def render_verifier(vk: VerifyingKey, *, contract_name: str = "Groth16Verifier") -> str:
    """A standalone Solidity verifier with the key as constants, for users who audit and compile themselves
    (``zkhealth export-verifier``). Same calldata and the same checks as the installed Groth16Verifier.

    The header names the generator and the key's sha256, as every generated file of zkhealth does. Cost: O(n_public)."""
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
