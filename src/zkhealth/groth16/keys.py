"""Groth16 keys and proofs, named as in the paper (Groth, "On the Size of Pairing-based Non-interactive
Arguments", EUROCRYPT 2016) and in arkworks' ``ark-groth16``.

Points are affine tuples (see the shared interface contracts): G1 ``(x, y)``, G2 ``((x0, x1), (y0, y1))``,
the identity ``None``. The proving key uses snarkjs' basis, so a snarkjs ``.zkey`` loads into the same
structure and the same prover handles both:

* ``a_query[i] = A_i(tau) G1``, ``b_g1_query[i] = B_i(tau) G1``, ``b_g2_query[i] = B_i(tau) G2`` for every wire;
* ``l_query[j] = (beta A_i(tau) + alpha B_i(tau) + C_i(tau)) / delta G1`` for the private wires
  ``i = n_public + 1 + j``;
* ``h_query[j] = L_{2j+1}(tau) / delta G1`` where ``L_k`` is the k-th Lagrange polynomial of the size-2n domain:
  the prover feeds it the evaluations of ``A*B - C`` on the odd coset (see :mod:`.r1cs_to_qap`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Final

G1Point = tuple[int, int]
Fq2 = tuple[int, int]
G2Point = tuple[Fq2, Fq2]

#: Provenance of keys made by :func:`zkhealth.groth16.setup`: toxic waste was known to this process.
DEV_SETUP: Final[str] = "dev-setup"
#: Keys read from a snarkjs ``.zkey`` (a ceremony's output, or a test key: check it with ``snarkjs zkey verify``).
SNARKJS_ZKEY: Final[str] = "snarkjs-zkey"
#: Keys of unknown origin (a verification_key.json without our provenance marker).
UNKNOWN: Final[str] = "unknown"
PROVENANCES: Final[frozenset[str]] = frozenset({DEV_SETUP, SNARKJS_ZKEY, UNKNOWN})

#: A sparse QAP matrix entry: (row, wire, coefficient). Rows include the public-input rows.
QapEntry = tuple[int, int, int]


def g1_to_json(point: G1Point | None) -> list[str]:
    """snarkjs' text form of a G1 point: ``[x, y, "1"]``, the identity ``["0", "1", "0"]`` (ffjavascript)."""
    if point is None:
        return ["0", "1", "0"]
    return [str(point[0]), str(point[1]), "1"]


def g2_to_json(point: G2Point | None) -> list[list[str]]:
    """snarkjs' text form of a G2 point: ``[[x0, x1], [y0, y1], ["1", "0"]]`` (real parts first), the
    identity ``[["0", "0"], ["1", "0"], ["0", "0"]]``."""
    if point is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = point
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof (A in G1, B in G2, C in G1)."""

    a: G1Point | None
    b: G2Point | None
    c: G1Point | None


@dataclass(frozen=True)
class VerifyingKey:
    """alpha_g1, beta_g2, gamma_g2, delta_g2 and ``gamma_abc_g1`` (snarkjs ``IC``; one point per public
    signal plus one for the constant wire)."""

    alpha_g1: G1Point
    beta_g2: G2Point
    gamma_g2: G2Point
    delta_g2: G2Point
    gamma_abc_g1: tuple[G1Point | None, ...]
    provenance: str = UNKNOWN

    @property
    def n_public(self) -> int:
        """Number of public signals the key expects."""
        return len(self.gamma_abc_g1) - 1

    def snarkjs_fields(self) -> dict[str, Any]:
        """The fields of snarkjs' ``verification_key.json`` that matter for verification, in snarkjs' order
        (no ``vk_alphabeta_12``, no provenance). :mod:`zkhealth.formats.snarkjs_json` writes the file."""
        return {
            "protocol": "groth16",
            "curve": "bn128",
            "nPublic": self.n_public,
            "vk_alpha_1": g1_to_json(self.alpha_g1),
            "vk_beta_2": g2_to_json(self.beta_g2),
            "vk_gamma_2": g2_to_json(self.gamma_g2),
            "vk_delta_2": g2_to_json(self.delta_g2),
            "IC": [g1_to_json(p) for p in self.gamma_abc_g1],
        }

    def canonical_json(self) -> str:
        """The key's canonical JSON: :meth:`snarkjs_fields`, keys sorted, no spaces. :meth:`sha256` hashes it."""
        return json.dumps(self.snarkjs_fields(), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        """Hex sha256 of :meth:`canonical_json`: pin this to detect a swapped key (docs/security.md G9)."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()


@dataclass
class ProvingKey:
    """Everything the prover needs, in snarkjs' basis (see the module docstring)."""

    vk: VerifyingKey
    beta_g1: G1Point
    delta_g1: G1Point
    n_wires: int
    domain_size: int
    a_query: list[G1Point | None]
    b_g1_query: list[G1Point | None]
    b_g2_query: list[G2Point | None]
    h_query: list[G1Point | None]
    l_query: list[G1Point | None]
    #: QAP matrices A and B as sparse entries (snarkjs ``.zkey`` section 4), public-input rows included.
    a_entries: list[QapEntry]
    b_entries: list[QapEntry]
    #: The R1CS's C matrix (real constraints only) when known, so the prover can name a failing constraint.
    c_entries: list[QapEntry] | None = None
    #: Number of R1CS constraints (without the public-input rows), when known.
    n_constraints: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: The prover's base-point lists, built once per key (see :meth:`msm_bases`).
    _msm_bases: dict[str, list[Any]] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: :mod:`zkhealth.hazmat.parallel` dataset token of the bases the prover's worker process uses (0: none yet).
    _worker_token: int = field(default=0, init=False, repr=False, compare=False)
    #: True when every point was checked on its curve as the key was made or read (the key file readers and
    #: the setup set it): the prover's first preparation of the bases then skips checking them again. Code
    #: that changes points in place before the first proof must set it to False.
    points_checked: bool = field(default=False, repr=False, compare=False)
    #: Set by the proving-key cache (:mod:`zkhealth.formats.key_cache`): the expected :meth:`msm_bases` lists
    #: (as tuples of the same point objects) and their coordinates as big-integer-backend columns, so the
    #: prover's first preparation skips converting every coordinate. Used once, only if the lists still hold
    #: those points and ``points_checked`` is True; then dropped.
    _cached_columns: tuple[dict[str, tuple[Any, ...]], dict[str, list[list[Any]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def msm_bases(self) -> dict[str, list[Any]]:
        """The fixed base-point lists of the prover's four MSMs, built once and reused.

        Reusing the same list objects lets the MSM layer validate and ship each list to its worker
        processes once per key instead of once per proof. Keys: ``a`` (alpha, delta, A query), ``b1``
        (beta, delta, B query in G1), ``b2`` (beta, delta, B query in G2), ``c`` (L query, then H query).
        """
        if not self._msm_bases:
            vk = self.vk
            self._msm_bases.update(
                a=[vk.alpha_g1, self.delta_g1, *self.a_query],
                b1=[self.beta_g1, self.delta_g1, *self.b_g1_query],
                b2=[vk.beta_g2, vk.delta_g2, *self.b_g2_query],
                c=[*self.l_query, *self.h_query],
            )
        return self._msm_bases

    @property
    def n_public(self) -> int:
        return self.vk.n_public

    @property
    def provenance(self) -> str:
        return self.vk.provenance
