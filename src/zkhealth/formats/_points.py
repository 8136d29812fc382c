"""Curve points and proving keys as the binary key files hold them, once for every reader.

A reader turns its bytes into coordinates (big-endian for ``.zkhpk``, little-endian Montgomery form for
``.zkey``); the functions here check each coordinate is below q, map all-zero points to the identity
(``None``), check curve membership with :mod:`zkhealth.hazmat.bn254` (an off-curve base would turn the
prover's MSMs into an invalid-curve oracle on the witness) and assemble the :class:`ProvingKey`.
Every failure raises :class:`~zkhealth.errors.R1csFormatError` naming the file kind and the section.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, repeat
from operator import add, eq, mod, mul, not_, or_, sub
from typing import Any, Literal

from zkhealth._bigint import HAVE_GMPY2, mpz
from zkhealth.errors import R1csFormatError
from zkhealth.field import FIELD_Q
from zkhealth.groth16.keys import G1Point, G2Point, ProvingKey, QapEntry, VerifyingKey
from zkhealth.hazmat.bn254 import TWIST_B

if HAVE_GMPY2:
    import gmpy2 as _gmpy2

__all__ = ["assemble_proving_key", "decode_coordinates", "g1_points", "g2_points"]

_TWIST_B = (mpz(TWIST_B[0]), mpz(TWIST_B[1]))


def _check_below_q(coords: Sequence[int], what: str) -> None:
    if coords and max(coords) >= FIELD_Q:
        raise R1csFormatError(f"{what}: a coordinate is not below q")


def decode_coordinates(
    raw: bytes | memoryview, count: int, byteorder: Literal["little", "big"], *, backend: bool = False
) -> list[Any]:
    """``count`` 32-byte coordinates from ``raw`` (each in ``byteorder``), decoded with one big-integer
    conversion of the whole buffer and one split (``gmpy2.unpack`` when available) instead of a conversion
    per coordinate. Python ints, or with ``backend=True`` the big-integer backend's type (for further
    arithmetic). Range checks are the caller's."""
    data = bytes(raw)
    if len(data) != 32 * count:
        raise R1csFormatError(f"expected {32 * count} bytes of coordinates, got {len(data)}")
    if not count:
        return []
    if not HAVE_GMPY2:
        return [int.from_bytes(data[i : i + 32], byteorder) for i in range(0, len(data), 32)]
    # Little-endian: the first coordinate is the least significant 256 bits of the whole buffer. Big-endian
    # coordinates: the whole buffer read big-endian holds the last coordinate lowest.
    values = _gmpy2.unpack(_whole(data, byteorder), 256)
    values += [mpz(0)] * (count - len(values))
    if byteorder == "big":
        values.reverse()
    return values if backend else list(map(int, values))


def _whole(data: bytes, byteorder: Literal["little", "big"]) -> Any:
    """The whole buffer as one gmpy2 integer: ``mpz.from_bytes`` (gmpy2 2.2+) skips the Python int that
    ``int.from_bytes`` builds first (25 MB, a 2^16 key's coordinates: 0.044-0.058 -> 0.029-0.038 s)."""
    from_bytes = getattr(mpz, "from_bytes", None)
    if from_bytes is not None:
        return from_bytes(data, byteorder)
    return mpz(int.from_bytes(data, byteorder))


def _on_curve_g1(xs: list[Any], ys: list[Any]) -> list[bool]:
    """Per point: y^2 = x^3 + 3 (whole-list operations over backend integers)."""
    q = mpz(FIELD_Q)
    xs = list(map(mpz, xs))
    ys = list(map(mpz, ys))
    x3 = map(mul, map(mul, xs, xs), xs)
    return list(map(not_, map(mod, map(sub, map(sub, map(mul, ys, ys), x3), repeat(3)), repeat(q))))


def _on_curve_g2(x0: list[Any], x1: list[Any], y0: list[Any], y1: list[Any]) -> list[bool]:
    """Per point: y^2 = x^3 + 3/(9+u) in Fq2 (u^2 = -1), whole-list operations."""
    q = mpz(FIELD_Q)
    x0, x1, y0, y1 = (list(map(mpz, c)) for c in (x0, x1, y0, y1))
    s0 = list(map(sub, map(mul, x0, x0), map(mul, x1, x1)))
    s1 = list(map(mul, map(mul, x0, x1), repeat(2)))
    c0 = map(sub, map(mul, s0, x0), map(mul, s1, x1))
    c1 = map(add, map(mul, s0, x1), map(mul, s1, x0))
    r0 = map(mod, map(sub, map(sub, map(sub, map(mul, y0, y0), map(mul, y1, y1)), c0), repeat(_TWIST_B[0])), repeat(q))
    r1 = map(mod, map(sub, map(sub, map(mul, map(mul, y0, y1), repeat(2)), c1), repeat(_TWIST_B[1])), repeat(q))
    return list(map(not_, map(or_, r0, r1)))


def g1_points(coords: Sequence[int], what: str) -> list[G1Point | None]:
    """G1 points from ``x0, y0, x1, y1, ...`` (ints or backend integers): ``(0, 0)`` is the identity, every
    other point must be on the curve. Checked with whole-list operations (about 0.3 us a point); the
    points hold Python ints."""
    _check_below_q(coords, what)
    xs = list(coords[0::2])
    ys = list(coords[1::2])
    points: list[Any] = list(zip(map(int, xs), map(int, ys), strict=True))
    identity = list(map(eq, points, repeat((0, 0))))
    on_curve = _on_curve_g1(xs, ys)
    if not all(map(or_, on_curve, identity)):
        raise R1csFormatError(f"{what}: a G1 point is not on the curve")
    for i in compress(range(len(points)), identity):
        points[i] = None
    return points


def g2_points(coords: Sequence[int], what: str) -> list[G2Point | None]:
    """G2 points from ``x0, x1, y0, y1, ...`` (real parts first): all zeros is the identity, every other
    point must be on the twist. Subgroup membership matters only to a verifier, which checks the proof's
    B itself. Checked with whole-list operations."""
    _check_below_q(coords, what)
    cols = [list(coords[k::4]) for k in range(4)]
    ints = [list(map(int, col)) for col in cols]
    points: list[Any] = list(zip(zip(ints[0], ints[1], strict=True), zip(ints[2], ints[3], strict=True), strict=True))
    identity = list(map(eq, points, repeat(((0, 0), (0, 0)))))
    on_curve = _on_curve_g2(*cols)
    if not all(map(or_, on_curve, identity)):
        raise R1csFormatError(f"{what}: a G2 point is not on the twist")
    for i in compress(range(len(points)), identity):
        points[i] = None
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
        points_checked=True,
    )
