"""One small harness circuit per standard gadget: fresh inputs, the gadget's preconditions, its result as outputs.

The harnesses are what the assurance tools run on: :func:`zkhealth.circuit.formal.prove_unique` gives each
gadget a verdict (pinned in ``verdicts.csv`` beside ``counts.csv``), and ``zkhealth circuit mutate --gadgets``
builds them to find the constraint sites of every gadget module. Each entry also carries sample inputs that
satisfy the gadget (for the search of a second witness) and the names of the gadget's *auxiliary* hints or
scopes: helper signals the gadget does not need to determine, such as ``is_zero``'s inverse (any value
satisfies ``x * inv = 0`` when x = 0) or the subgroup check's ``eighth`` scope, the point ``P' = P / 8``
(``P' + T`` works for each 8-torsion point T) and its multiples, which must be determined by P'.

A new gadget gets an entry here (``harness(...)`` at the end of the module) and a row in ``verdicts.csv``;
``tests/test_circuit_assurance.py`` fails until the row matches what the checker finds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkhealth.circuit.builder import Builder
from zkhealth.circuit.gadgets import babyjubjub, basic, bits, comparators, eddsa, merkle, poseidon, sorted_set
from zkhealth.hazmat import babyjubjub as bjj

__all__ = ["HARNESSES", "Harness", "gadget_module_files", "harness_by_key"]


@dataclass(frozen=True)
class Harness:
    """A gadget harness: ``define(b)`` and what the checkers need to know about it."""

    #: The gadget's name (its ``@gadget`` name, or the function name of an assertion helper).
    gadget: str
    #: The parameters, as in ``counts.csv``.
    params: str
    define: Callable[[Builder], None]
    #: Hint names whose outputs the gadget does not determine on purpose.
    auxiliary: tuple[str, ...] = ()
    #: Inputs the gadget accepts (used to search for a second witness and to check the harness).
    samples: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    #: Gadgets this harness checks from scratch (its own name when it is a ``@gadget``).
    subject: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.gadget, self.params)

    @property
    def label(self) -> str:
        return f"{self.gadget}[{self.params}]" if self.params else self.gadget


HARNESSES: list[Harness] = []


def harness(
    gadget: str,
    params: str = "",
    *,
    auxiliary: Sequence[str] = (),
    samples: Sequence[Mapping[str, Any]] = (),
    subject: Sequence[str] | None = None,
) -> Callable[[Callable[[Builder], None]], Callable[[Builder], None]]:
    """Register ``define`` as the harness of ``gadget`` with ``params``."""

    def register(define: Callable[[Builder], None]) -> Callable[[Builder], None]:
        define.__name__ = f"{gadget}_{params}".replace(",", "_").replace("=", "").replace(" ", "_").strip("_")
        HARNESSES.append(
            Harness(gadget, params, define, tuple(auxiliary), tuple(samples),
                    tuple(subject) if subject is not None else (gadget,))
        )
        return define

    return register


def harness_by_key(gadget: str, params: str = "") -> Harness:
    """The harness of ``(gadget, params)``; ``KeyError`` if there is none."""
    for entry in HARNESSES:
        if entry.key == (gadget, params):
            return entry
    raise KeyError(f"no harness for {gadget}[{params}]")


def gadget_module_files() -> list[str]:
    """The gadget modules (this package's ``.py`` files other than ``__init__`` and this catalog), absolute."""
    here = Path(__file__).resolve().parent
    return sorted(str(p) for p in here.glob("*.py") if p.name not in ("__init__.py", "catalog.py"))


_POINT = bjj.mul(bjj.BASE8, 12345)
_POINT2 = bjj.mul(bjj.BASE8, 987654321)


# --------------------------------------------------------------------------- bits


@harness("to_bits", "n=8", samples=[{"x": 0}, {"x": 255}, {"x": 77}])
def _to_bits_8(b: Builder) -> None:
    x = b.private_input("x")
    for i, bit in enumerate(bits.to_bits(b, x, 8)):
        b.output(f"bit{i}", bit)


@harness("to_bits", "n=253", samples=[{"x": 0}, {"x": (1 << 253) - 1}])
def _to_bits_253(b: Builder) -> None:
    x = b.private_input("x")
    out = bits.to_bits(b, x, 253)
    b.output("low", out[0])
    b.output("high", out[252])


@harness("to_bits_strict", samples=[{"x": 1}, {"x": 0}, {"x": 2**253}])
def _to_bits_strict(b: Builder) -> None:
    x = b.private_input("x")
    out = bits.to_bits_strict(b, x)
    b.output("low", out[0])
    b.output("high", out[253])


@harness("from_bits", "n=8", samples=[{"bits": [1, 0, 1, 1, 0, 0, 1, 0]}], subject=())
def _from_bits(b: Builder) -> None:
    b.output("value", bits.from_bits(b, b.private_inputs("bits", 8)))


@harness("range_check", "n=32", samples=[{"x": 0}, {"x": 2**32 - 1}], subject=())
def _range_check(b: Builder) -> None:
    bits.range_check(b, b.private_input("x"), 32)


@harness("assert_bits_le_constant", "n=8,constant=200", samples=[{"x": 200}, {"x": 3}], subject=())
def _le_constant(b: Builder) -> None:
    x = b.private_input("x")
    bits.assert_bits_le_constant(b, bits.to_bits(b, x, 8), 200)


# --------------------------------------------------------------------------- basic


@harness("ensure_bool", samples=[{"x": 1}, {"x": 0}], subject=())
def _ensure_bool(b: Builder) -> None:
    basic.ensure_bool(b, b.private_input("x"))


@harness("is_zero", auxiliary=["is_zero_inverse"], samples=[{"x": 0}, {"x": 5}])
def _is_zero(b: Builder) -> None:
    b.output("out", basic.is_zero(b, b.private_input("x")))


@harness("is_equal", auxiliary=["is_zero_inverse"], samples=[{"x": 3, "y": 3}, {"x": 3, "y": 4}],
         subject=("is_equal", "is_zero"))
def _is_equal(b: Builder) -> None:
    b.output("out", basic.is_equal(b, b.private_input("x"), b.private_input("y")))


@harness("select", samples=[{"s": 0, "t": 5, "f": 7}, {"s": 1, "t": 5, "f": 7}])
def _select(b: Builder) -> None:
    s, t, f = b.private_input("s"), b.private_input("t"), b.private_input("f")
    b.output("out", basic.select(b, s, t, f))


@harness("mux", "k=2", samples=[{"s": [1, 0], "v": [10, 11, 12, 13]}])
def _mux(b: Builder) -> None:
    s = b.private_inputs("s", 2)
    v = b.private_inputs("v", 4)
    b.output("out", basic.mux(b, s, v))


@harness("in_set", "5 constants", auxiliary=["is_zero_inverse"], samples=[{"x": 3}, {"x": 4}],
         subject=("in_set", "is_zero"))
def _in_set(b: Builder) -> None:
    b.output("out", basic.in_set(b, b.private_input("x"), [1, 3, 5, 7, 9]))


@harness("assert_in_set", "5 constants", samples=[{"x": 3}], subject=())
def _assert_in_set(b: Builder) -> None:
    basic.assert_in_set(b, b.private_input("x"), [1, 3, 5, 7, 9])


@harness("and", samples=[{"x": 1, "y": 0}, {"x": 1, "y": 1}])
def _and(b: Builder) -> None:
    b.output("out", basic.logical_and(b, b.private_input("x"), b.private_input("y")))


@harness("or", samples=[{"x": 1, "y": 0}, {"x": 0, "y": 0}])
def _or(b: Builder) -> None:
    b.output("out", basic.logical_or(b, b.private_input("x"), b.private_input("y")))


@harness("not", samples=[{"x": 1}, {"x": 0}])
def _not(b: Builder) -> None:
    b.output("out", basic.logical_not(b, b.private_input("x")))


# --------------------------------------------------------------------------- comparators


def _two(gadget: Callable[..., Any], bit_width: int) -> Callable[[Builder], None]:
    def define(b: Builder) -> None:
        b.output("out", gadget(b, b.private_input("x"), b.private_input("y"), bits=bit_width))

    return define


_CMP_SAMPLES = [{"x": 3, "y": 9}, {"x": 9, "y": 3}, {"x": 7, "y": 7}]
for _name, _fn in (
    ("less_than", comparators.less_than),
    ("less_eq", comparators.less_eq),
    ("greater_than", comparators.greater_than),
    ("greater_eq", comparators.greater_eq),
    ("less_than_unchecked", comparators.less_than_unchecked),
):
    harness(_name, "bits=32", samples=_CMP_SAMPLES)(_two(_fn, 32))
harness("less_than", "bits=252", samples=_CMP_SAMPLES)(_two(comparators.less_than, 252))


@harness("assert_less_than", "bits=32", samples=[{"x": 3, "y": 9}], subject=())
def _assert_less_than(b: Builder) -> None:
    comparators.assert_less_than(b, b.private_input("x"), b.private_input("y"), bits=32)


@harness("assert_less_eq", "bits=32", samples=[{"x": 3, "y": 3}], subject=())
def _assert_less_eq(b: Builder) -> None:
    comparators.assert_less_eq(b, b.private_input("x"), b.private_input("y"), bits=32)


@harness("in_range", "bits=32,constant bounds", samples=[{"x": 50}, {"x": 5}])
def _in_range(b: Builder) -> None:
    b.output("out", comparators.in_range(b, b.private_input("x"), 10, 100, bits=32))


@harness("assert_in_range", "bits=32,constant bounds", samples=[{"x": 50}], subject=())
def _assert_in_range(b: Builder) -> None:
    comparators.assert_in_range(b, b.private_input("x"), 10, 100, bits=32)


# --------------------------------------------------------------------------- Poseidon


@harness("poseidon", "n=2", samples=[{"x": [1, 2]}])
def _poseidon2(b: Builder) -> None:
    b.output("hash", poseidon.poseidon(b, b.private_inputs("x", 2)))


@harness("poseidon", "n=16", samples=[{"x": list(range(16))}])
def _poseidon16(b: Builder) -> None:
    b.output("hash", poseidon.poseidon(b, b.private_inputs("x", 16)))


@harness("poseidon_permutation", "t=3", samples=[{"x": [0, 1, 2]}])
def _permutation(b: Builder) -> None:
    for i, cell in enumerate(poseidon.poseidon_permutation(b, b.private_inputs("x", 3))):
        b.output(f"out{i}", cell)


# --------------------------------------------------------------------------- Merkle


def _merkle_samples(depth: int, arity: int) -> list[dict[str, Any]]:
    width = 3 * depth if arity == 4 else depth
    return [{"leaf": 7, "siblings": list(range(1, width + 1)), "path": [1, 0] * depth if arity == 4 else [1] * depth}]


@harness("quaternary_merkle_root", "depth=2", samples=_merkle_samples(2, 4))
def _quaternary_root(b: Builder) -> None:
    leaf = b.private_input("leaf")
    flat = b.private_inputs("siblings", 6)
    path = b.private_inputs("path", 4)
    b.output("root", merkle.quaternary_merkle_root(b, leaf, [flat[0:3], flat[3:6]], path))


@harness("binary_merkle_root", "depth=3", samples=_merkle_samples(3, 2))
def _binary_root(b: Builder) -> None:
    leaf = b.private_input("leaf")
    siblings = b.private_inputs("siblings", 3)
    path = b.private_inputs("path", 3)
    b.output("root", merkle.binary_merkle_root(b, leaf, siblings, path))


def _inclusion_samples(arity: int) -> list[dict[str, Any]]:
    if arity == 4:
        siblings = [[11, 12, 13], [14, 15, 16]]
        path = [1, 0, 0, 1]
        root = merkle.quaternary_merkle_root_native(7, siblings, path)
        return [{"leaf": 7, "root": root, "siblings": [v for t in siblings for v in t], "path": path}]
    flat = [21, 22, 23]
    path = [1, 0, 1]
    return [{"leaf": 7, "root": merkle.binary_merkle_root_native(7, flat, path), "siblings": flat, "path": path}]


@harness("assert_quaternary_merkle_inclusion", "depth=2", samples=_inclusion_samples(4), subject=())
def _quaternary_inclusion(b: Builder) -> None:
    leaf, root = b.private_input("leaf"), b.public_input("root")
    flat = b.private_inputs("siblings", 6)
    merkle.assert_quaternary_merkle_inclusion(b, leaf, root, [flat[0:3], flat[3:6]], b.private_inputs("path", 4))


@harness("assert_binary_merkle_inclusion", "depth=3", samples=_inclusion_samples(2), subject=())
def _binary_inclusion(b: Builder) -> None:
    leaf, root = b.private_input("leaf"), b.public_input("root")
    merkle.assert_binary_merkle_inclusion(b, leaf, root, b.private_inputs("siblings", 3), b.private_inputs("path", 3))


def _sparse_samples(leaf: int) -> list[dict[str, Any]]:
    flat = [31, 32, 33, 34]
    key = 0b1010
    root = merkle.binary_merkle_root_native(leaf, flat, [(key >> i) & 1 for i in range(4)])
    sample: dict[str, Any] = {"root": root, "key": key, "siblings": flat}
    if leaf:
        sample["leaf"] = leaf
    return [sample]


@harness("assert_sparse_merkle_non_inclusion", "depth=4", samples=_sparse_samples(0), subject=())
def _sparse_non_inclusion(b: Builder) -> None:
    merkle.assert_sparse_merkle_non_inclusion(
        b, b.public_input("root"), b.private_input("key"), b.private_inputs("siblings", 4)
    )


@harness("assert_sparse_merkle_inclusion", "depth=4", samples=_sparse_samples(9), subject=())
def _sparse_inclusion(b: Builder) -> None:
    merkle.assert_sparse_merkle_inclusion(
        b, b.public_input("root"), b.private_input("key"), b.private_input("leaf"), b.private_inputs("siblings", 4)
    )


def _indexed_samples() -> list[dict[str, Any]]:
    from zkhealth.hash.poseidon import poseidon as native

    siblings = [[11, 12, 13], [14, 15, 16]]
    path = [0, 0, 0, 0]
    leaf = native([5, 50])
    root = merkle.quaternary_merkle_root_native(leaf, siblings, path)
    flat = [v for triple in siblings for v in triple]
    return [{"root": root, "id": 20, "low": 5, "next": 50, "siblings": flat, "path": path}]


@harness("assert_indexed_non_membership", "depth=2", auxiliary=["is_zero_inverse"], samples=_indexed_samples(),
         subject=())
def _indexed(b: Builder) -> None:
    root = b.public_input("root")
    credential_id = b.private_input("id")
    low, nxt = b.private_input("low"), b.private_input("next")
    flat = b.private_inputs("siblings", 6)
    path = b.private_inputs("path", 4)
    merkle.assert_indexed_non_membership(b, root, credential_id, low, nxt, [flat[0:3], flat[3:6]], path)


# --------------------------------------------------------------------------- Baby Jubjub and EdDSA


def _point_inputs(b: Builder, name: str) -> tuple[Any, Any]:
    x, y = b.private_input(f"{name}x"), b.private_input(f"{name}y")
    babyjubjub.assert_on_curve(b, x, y)  # the gadgets' precondition
    return x, y


@harness("assert_on_curve", samples=[{"px": _POINT[0], "py": _POINT[1]}], subject=())
def _on_curve(b: Builder) -> None:
    babyjubjub.assert_on_curve(b, b.private_input("px"), b.private_input("py"))


@harness("point_add", samples=[{"px": _POINT[0], "py": _POINT[1], "qx": _POINT2[0], "qy": _POINT2[1]}])
def _point_add(b: Builder) -> None:
    x, y = babyjubjub.point_add(b, _point_inputs(b, "p"), _point_inputs(b, "q"))
    b.output("x", x)
    b.output("y", y)


@harness("point_double", samples=[{"px": _POINT[0], "py": _POINT[1]}])
def _point_double(b: Builder) -> None:
    x, y = babyjubjub.point_double(b, _point_inputs(b, "p"))
    b.output("x", x)
    b.output("y", y)


@harness("assert_in_subgroup", auxiliary=["eighth"], samples=[{"px": _POINT[0], "py": _POINT[1]}], subject=())
def _in_subgroup(b: Builder) -> None:
    babyjubjub.assert_in_subgroup(b, b.private_input("px"), b.private_input("py"))


@harness("fixed_base_mul", "n=8", samples=[{"k": [1, 0, 1, 1, 0, 0, 1, 0]}])
def _fixed_base(b: Builder) -> None:
    x, y = babyjubjub.fixed_base_mul(b, b.private_inputs("k", 8))
    b.output("x", x)
    b.output("y", y)


@harness("fixed_base_mul", "n=251", samples=[{"k": [(12345 >> i) & 1 for i in range(251)]}])
def _fixed_base_251(b: Builder) -> None:
    """The width of an EdDSA S: 124 Montgomery windows, then Edwards bits (what callers assume)."""
    x, y = babyjubjub.fixed_base_mul(b, b.private_inputs("k", 251))
    b.output("x", x)
    b.output("y", y)


@harness("scalar_mul", "n=4", samples=[{"px": _POINT[0], "py": _POINT[1], "k": [1, 1, 0, 1]}])
def _scalar_mul(b: Builder) -> None:
    x, y = babyjubjub.scalar_mul(b, _point_inputs(b, "p"), b.private_inputs("k", 4))
    b.output("x", x)
    b.output("y", y)


@harness("scalar_mul_prime_order", auxiliary=["eighth"], samples=[{"px": _POINT[0], "py": _POINT[1], "h": 99}])
def _scalar_mul_prime_order(b: Builder) -> None:
    x, y = babyjubjub.scalar_mul_prime_order(b, (b.private_input("px"), b.private_input("py")), b.private_input("h"))
    b.output("x", x)
    b.output("y", y)


def _eddsa_samples() -> list[dict[str, Any]]:
    from zkhealth.signature.eddsa_poseidon import PrivateKey, sign

    key = PrivateKey(bytes(range(32)))
    signature = sign(key, 42)
    ax, ay = key.public_key().point
    return [{"ax": ax, "ay": ay, "r8x": signature.R8[0], "r8y": signature.R8[1], "s": signature.S, "m": 42}]


@harness("assert_eddsa_poseidon_valid", auxiliary=["eighth"], samples=_eddsa_samples(), subject=())
def _eddsa(b: Builder) -> None:
    names = ("ax", "ay", "r8x", "r8y", "s", "m")
    eddsa.assert_eddsa_poseidon_valid(b, *(b.private_input(n) for n in names))


# --------------------------------------------------------------------------- sorted sets (credential schema v2)


def _set_key(code: int, day: int, seq: int = 0, tag: int = 1) -> int:
    """The schema-v2 set key ``((tag * 2^60 + code) * 2^22 + day) * 2^8 + seq`` (credentials.sorted_set)."""
    return (((tag << 60) + code) << 30) + (day << 8) + seq


_CODE = 4548
_KEY_LO, _KEY_HI = _set_key(_CODE, 0), _set_key(_CODE, (1 << 22) - 1, 255)
_DAY = 739252  # 2025-01-01 as an ordinal
_MAX_DATE = (1 << 22) - 1


def _leaf(day: int, value: int, next_key: int, seq: int = 0, code: int = _CODE) -> list[int]:
    """Fields of a raw observation leaf: key, next_key, a = b = day, value, status final (1)."""
    return [_set_key(code, day, seq), next_key, day, 0, day, 0, value, 1]


#: The latest item of the range (next key beyond it), an earlier one (next key inside), the last leaf of the set.
_LAST_LEAF = _leaf(_DAY + 30, 80, _set_key(_CODE + 1, _DAY))
_EARLIER_LEAF = _leaf(_DAY, 75, _set_key(_CODE, _DAY + 30))
_FINAL_LEAF = _leaf(_DAY + 30, 80, 0)
#: A leaf below the range whose successor lies beyond it: the range is empty.
_BELOW_LEAF = _leaf(_DAY, 5, _set_key(_CODE + 1, _DAY), code=_CODE - 1)


def _fields(b: Builder) -> sorted_set.SetLeafSignals:
    return sorted_set.SetLeafSignals(*b.private_inputs("fields", 8))


def _bounds(b: Builder) -> list[sorted_set.FieldBound]:
    """``value >= bound`` (a private input) and ``a_ord <= constant``: a signal bound and a constant one."""
    return [sorted_set.FieldBound("value", lo=b.private_input("bound")),
            sorted_set.FieldBound("a_ord", hi=_DAY + 365)]


@harness("set_leaf", "8 fields", samples=[{"fields": _LAST_LEAF}])
def _set_leaf(b: Builder) -> None:
    b.output("leaf", sorted_set.set_leaf_hash(b, b.private_inputs("fields", 8)))


def _member_samples() -> list[dict[str, Any]]:
    siblings = [[11 * level + j for j in range(1, 4)] for level in range(sorted_set.SET_DEPTH)]
    path = [1, 0] * sorted_set.SET_DEPTH
    leaf = sorted_set.set_leaf_hash_native(_LAST_LEAF)
    root = merkle.quaternary_merkle_root_native(leaf, siblings, path)
    return [{"root": root, "fields": _LAST_LEAF, "siblings": [v for t in siblings for v in t], "path": path}]


@harness("assert_set_member", "depth=6", samples=_member_samples(), subject=())
def _set_member(b: Builder) -> None:
    root = b.public_input("root")
    flat = b.private_inputs("siblings", 3 * sorted_set.SET_DEPTH)
    path = b.private_inputs("path", 2 * sorted_set.SET_DEPTH)
    sorted_set.assert_set_member(b, root, b.private_inputs("fields", 8),
                                 [flat[3 * k : 3 * k + 3] for k in range(sorted_set.SET_DEPTH)], path)


@harness("set_atom", "ANY,bounds", samples=[{"fields": _LAST_LEAF, "bound": 78}, {"fields": _BELOW_LEAF, "bound": 0},
                                            {"fields": _EARLIER_LEAF, "bound": 78}])
def _set_atom_any(b: Builder) -> None:
    leaf = _fields(b)
    b.output("holds", sorted_set.set_atom(b, leaf, mode=sorted_set.ANY, key_lo=_KEY_LO, key_hi=_KEY_HI,
                                          bounds=_bounds(b)))


@harness("set_atom", "ANY,after", samples=[{"fields": _LAST_LEAF, "after": _EARLIER_LEAF[0]},
                                           {"fields": _EARLIER_LEAF, "after": _LAST_LEAF[0]}])
def _set_atom_after(b: Builder) -> None:
    leaf = _fields(b)
    after = b.private_input("after")
    b.output("holds", sorted_set.set_atom(b, leaf, mode=sorted_set.ANY, key_lo=_KEY_LO, key_hi=_KEY_HI,
                                          after=after))


@harness("set_atom", "LAST,bounds", auxiliary=["is_zero_inverse"],
         samples=[{"fields": _LAST_LEAF, "bound": 78}, {"fields": _FINAL_LEAF, "bound": 90},
                  {"fields": _EARLIER_LEAF, "bound": 0}])
def _set_atom_last(b: Builder) -> None:
    leaf = _fields(b)
    b.output("holds", sorted_set.set_atom(b, leaf, mode=sorted_set.LAST, key_lo=_KEY_LO, key_hi=_KEY_HI,
                                          bounds=_bounds(b)))


@harness("set_atom", "NONE_OR_LAST,bounds", auxiliary=["is_zero_inverse"],
         samples=[{"fields": _LAST_LEAF, "bound": 78}, {"fields": _BELOW_LEAF, "bound": 0},
                  {"fields": _EARLIER_LEAF, "bound": 0}])
def _set_atom_none_or_last(b: Builder) -> None:
    leaf = _fields(b)
    b.output("holds", sorted_set.set_atom(b, leaf, mode=sorted_set.NONE_OR_LAST, key_lo=_KEY_LO, key_hi=_KEY_HI,
                                          bounds=_bounds(b)))


@harness("set_atom", "NONE", auxiliary=["is_zero_inverse"],
         samples=[{"fields": _BELOW_LEAF}, {"fields": _LAST_LEAF}])
def _set_atom_none(b: Builder) -> None:
    leaf = _fields(b)
    never = [sorted_set.FieldBound("value", lo=1, hi=0)]
    b.output("holds", sorted_set.set_atom(b, leaf, mode=sorted_set.NONE_OR_LAST, key_lo=_KEY_LO, key_hi=_KEY_HI,
                                          bounds=never))


@harness("assert_set_atom", "ANY,bounds,after", samples=[{"fields": _LAST_LEAF, "bound": 78,
                                                          "after": _EARLIER_LEAF[0]}], subject=())
def _assert_set_atom_any(b: Builder) -> None:
    leaf = _fields(b)
    bounds = _bounds(b)
    sorted_set.assert_set_atom(b, leaf, mode=sorted_set.ANY, key_lo=_KEY_LO, key_hi=_KEY_HI, bounds=bounds,
                               after=b.private_input("after"))


@harness("assert_set_atom", "LAST,bounds", auxiliary=["is_zero_inverse"],
         samples=[{"fields": _LAST_LEAF, "bound": 78}, {"fields": _FINAL_LEAF, "bound": 80}], subject=())
def _assert_set_atom_last(b: Builder) -> None:
    leaf = _fields(b)
    sorted_set.assert_set_atom(b, leaf, mode=sorted_set.LAST, key_lo=_KEY_LO, key_hi=_KEY_HI, bounds=_bounds(b))


@harness("assert_set_atom", "NONE_OR_LAST,bounds", auxiliary=["is_zero_inverse"],
         samples=[{"fields": _LAST_LEAF, "bound": 78}, {"fields": _BELOW_LEAF, "bound": 0}], subject=())
def _assert_set_atom_none_or_last(b: Builder) -> None:
    leaf = _fields(b)
    sorted_set.assert_set_atom(b, leaf, mode=sorted_set.NONE_OR_LAST, key_lo=_KEY_LO, key_hi=_KEY_HI,
                               bounds=_bounds(b))


@harness("assert_set_atom", "NONE", auxiliary=["is_zero_inverse"], samples=[{"fields": _BELOW_LEAF}], subject=())
def _assert_set_atom_none(b: Builder) -> None:
    leaf = _fields(b)
    sorted_set.assert_set_atom(b, leaf, mode=sorted_set.NONE_OR_LAST, key_lo=_KEY_LO, key_hi=_KEY_HI,
                               bounds=[sorted_set.FieldBound("value", lo=1, hi=0)])


def _selected(fields: list[int], last: int = 0, none_or_last: int = 0, phi: int = 1, after: int = 0,
              after_key: int = 0) -> dict[str, Any]:
    return {"fields": fields, "flags": [last, none_or_last, phi, after], "keys": [_KEY_LO, _KEY_HI, after_key]}


@harness("set_atom_selected", "signals", auxiliary=["is_zero_inverse"],
         samples=[_selected(_LAST_LEAF, after=1, after_key=_EARLIER_LEAF[0]), _selected(_EARLIER_LEAF, after=1,
                  after_key=_LAST_LEAF[0]), _selected(_LAST_LEAF, last=1), _selected(_EARLIER_LEAF, last=1),
                  _selected(_BELOW_LEAF, none_or_last=1), _selected(_FINAL_LEAF, none_or_last=1, phi=0)])
def _set_atom_selected(b: Builder) -> None:
    """The universal circuit's atom: mode flags, phi, ``after`` and the key range as signals (booleans checked
    here, as the universal circuit checks them)."""
    leaf = _fields(b)
    last, none_or_last, phi, after = b.private_inputs("flags", 4)
    for flag in (last, none_or_last, phi, after):
        basic.ensure_bool(b, flag)
    key_lo, key_hi, after_key = b.private_inputs("keys", 3)
    b.output("holds", sorted_set.set_atom_selected(b, leaf, last=last, none_or_last=none_or_last, key_lo=key_lo,
                                                   key_hi=key_hi, phi=phi, after=after, after_key=after_key))
