"""Curve points and proving keys as the binary key files hold them, once for every reader.

A reader turns its bytes into coordinates (big-endian for ``.zkhpk``, little-endian Montgomery form for
``.zkey``); the functions here check each coordinate is below q, map all-zero points to the identity
(``None``), check curve membership with :mod:`zkhealth.hazmat.bn254` (an off-curve base would turn the
prover's MSMs into an invalid-curve oracle on the witness) and assemble the :class:`ProvingKey`.
Every failure raises :class:`~zkhealth.errors.R1csFormatError` naming the file kind and the section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q
from zkhealth.groth16.keys import G1Point, G2Point, ProvingKey, QapEntry, VerifyingKey
from zkhealth.hazmat.bn254 import g1_is_on_curve, g2_is_on_curve

__all__ = ["assemble_proving_key", "g1_points", "g2_points"]


def _check_below_q(coords: Sequence[int], what: str) -> None:
    if coords and max(coords) >= FIELD_Q:
        raise R1csFormatError(f"{what}: a coordinate is not below q")


def g1_points(coords: Sequence[int], what: str) -> list[G1Point | None]:
    """G1 points from ``x0, y0, x1, y1, ...``: ``(0, 0)`` is the identity, every other point must be on
    the curve."""
    _check_below_q(coords, what)
    points: list[G1Point | None] = []
    for i in range(0, len(coords), 2):
        point = (coords[i], coords[i + 1])
        if point == (0, 0):
            points.append(None)
        elif g1_is_on_curve(point):
            points.append(point)
        else:
            raise R1csFormatError(f"{what}: a G1 point is not on the curve")
    return points


def g2_points(coords: Sequence[int], what: str) -> list[G2Point | None]:
    """G2 points from ``x0, x1, y0, y1, ...`` (real parts first): all zeros is the identity, every other
    point must be on the twist. Subgroup membership matters only to a verifier, which checks the proof's
    B itself."""
    _check_below_q(coords, what)
    points: list[G2Point | None] = []
    for i in range(0, len(coords), 4):
        point = ((coords[i], coords[i + 1]), (coords[i + 2], coords[i + 3]))
        if point == ((0, 0), (0, 0)):
            points.append(None)
        elif g2_is_on_curve(point):
            points.append(point)
        else:
            raise R1csFormatError(f"{what}: a G2 point is not on the twist")
    return points


def _required(point: G1Point | G2Point | None, what: str, kind: str) -> Any:
    if point is None:
        raise R1csFormatError(f"{kind}: {what} is the identity")
    return point


def assemble_proving_key(
    kind: str,
    *,
    provenance: str,
    n_wires: int,
    domain_size: int,
    g1: dict[str, G1Point | None],
    g2: dict[str, G2Point | None],
    queries: dict[str, list[Any]],
    entries: tuple[list[QapEntry], list[QapEntry], list[QapEntry] | None],
    n_constraints: int | None = None,
) -> ProvingKey:
    """The :class:`ProvingKey` a key file describes. ``g1`` holds ``alpha_1``, ``beta_1``, ``delta_1``;
    ``g2`` holds ``beta_2``, ``gamma_2``, ``delta_2`` (none may be the identity); ``queries`` holds ``ic``,
    ``a``, ``b1``, ``b2``, ``l``, ``h``; ``entries`` the sparse A, B and (when known) C matrices."""
    vk = VerifyingKey(
        alpha_g1=_required(g1["alpha_1"], "alpha_1", kind),
        beta_g2=_required(g2["beta_2"], "beta_2", kind),
        gamma_g2=_required(g2["gamma_2"], "gamma_2", kind),
        delta_g2=_required(g2["delta_2"], "delta_2", kind),
        gamma_abc_g1=tuple(queries["ic"]),
        provenance=provenance,
    )
    a_entries, b_entries, c_entries = entries
    return ProvingKey(
        vk=vk,
        beta_g1=_required(g1["beta_1"], "beta_1", kind),
        delta_g1=_required(g1["delta_1"], "delta_1", kind),
        n_wires=n_wires,
        domain_size=domain_size,
        a_query=queries["a"],
        b_g1_query=queries["b1"],
        b_g2_query=queries["b2"],
        h_query=queries["h"],
        l_query=queries["l"],
        a_entries=a_entries,
        b_entries=b_entries,
        c_entries=c_entries,
        n_constraints=n_constraints,
    )
