"""Sorted-set gadgets: membership of a leaf in a committed sorted set, and the three atom modes over it.

The in-circuit twins of :mod:`zkhealth.credentials.sorted_set` (same leaf hash, same quaternary tree). A
leaf is ``poseidon([key, next_key, a_ord, a_packed, b_ord, b_packed, value, status])``; the set's leaves form
a sorted linked list (``next_key`` is the next larger key, 0 for the largest; index 0 holds the sentinel
``key = 0``). With one leaf ``L`` proven in the tree:

* ``in_range = key_lo <= L.key <= key_hi``; ``ends_range = (L.next_key == 0 or L.next_key > key_hi)``;
  ``below = L.key < key_lo``; ``phi`` = every field bound holds (``lo <= field <= hi``);
* :data:`ANY` = ``in_range and phi`` (some item of the range satisfies phi);
* :data:`LAST` = ``in_range and ends_range and phi`` (the last item of the range satisfies phi: with keys
  ordered by date within a code, the latest value);
* :data:`NONE_OR_LAST` = ``ends_range and (below or (in_range and phi))`` (the range is empty, or its last
  item satisfies phi). With phi false (a bound ``lo > hi``) it is "no item in the range".
* ``after`` (ANY only): ``L.key > after``, the key of another atom's leaf, so K chained atoms prove K
  distinct items.

**Precondition (trust):** the leaf's fields lie within their declared widths (:data:`LEAF_WIDTHS`). Every
leaf of a set built by :class:`zkhealth.credentials.sorted_set.SortedSet` does (``SetLeaf`` refuses anything
else), and membership binds the leaf to a root the issuer signed, so a prover cannot bring a leaf of its
own. The gadgets still range-check every field a *boolean* comparison reads (comparators need it); the
*asserting* forms compare through range checks of differences, which are sound for any field value below
``r - 2^95`` and so need no range check of the key itself.

Costs (after linear elimination; pinned in ``counts.csv``): leaf hash 402 (Poseidon of 8), membership at
depth 6: 1,825 (6 x 304 + leaf != 0). Key logic, boolean form: 2 x 94 range checks (key, next_key) +
95 per key comparison + 2 for ``next_key == 0``; asserting form: 94 per difference check. A date bound:
23 (a comparison of 22-bit values) plus 22 for each input not yet range-checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from zkhealth.circuit.builder import Builder, gadget
from zkhealth.circuit.gadgets.basic import is_zero
from zkhealth.circuit.gadgets.bits import range_check
from zkhealth.circuit.gadgets.comparators import assert_less_eq, less_eq, less_than
from zkhealth.circuit.gadgets.merkle import assert_quaternary_merkle_inclusion, quaternary_merkle_root_native
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.errors import CircuitDefinitionError
from zkhealth.hash.poseidon import poseidon as poseidon_native

__all__ = [
    "ANY",
    "KEY_BITS",
    "LAST",
    "LEAF_WIDTHS",
    "MODES",
    "NONE_OR_LAST",
    "SET_DEPTH",
    "FieldBound",
    "SetLeafSignals",
    "assert_set_atom",
    "assert_set_member",
    "set_atom",
    "set_atom_native",
    "set_leaf_hash",
    "set_leaf_hash_native",
    "set_member_native",
]

#: The atom modes.
ANY: Final[int] = 0
LAST: Final[int] = 1
NONE_OR_LAST: Final[int] = 2
MODES: Final[tuple[str, ...]] = ("ANY", "LAST", "NONE_OR_LAST")
#: Depth of the sets' quaternary trees (4,096 slots).
SET_DEPTH: Final[int] = 6
KEY_BITS: Final[int] = 94
#: Leaf fields in hash order and their declared widths (equal to zkhealth.credentials.sorted_set.LEAF_FIELDS).
LEAF_WIDTHS: Final[tuple[tuple[str, int], ...]] = (
    ("key", KEY_BITS),
    ("next_key", KEY_BITS),
    ("a_ord", 22),
    ("a_packed", 22),
    ("b_ord", 22),
    ("b_packed", 22),
    ("value", 32),
    ("status", 4),
)
_WIDTH: Final[dict[str, int]] = dict(LEAF_WIDTHS)
_BOUNDED_FIELDS: Final[frozenset[str]] = frozenset(name for name, _ in LEAF_WIDTHS[2:])


@dataclass(frozen=True)
class SetLeafSignals:
    """The eight field signals of a leaf proven in a set (in hash order)."""

    key: Signal
    next_key: Signal
    a_ord: Signal
    a_packed: Signal
    b_ord: Signal
    b_packed: Signal
    value: Signal
    status: Signal

    def field(self, name: str) -> Signal:
        """A field by name."""
        if name not in _WIDTH:
            raise CircuitDefinitionError(f"unknown leaf field {name!r}")
        signal: Signal = getattr(self, name)
        return signal


@dataclass(frozen=True)
class FieldBound:
    """``lo <= field <= hi`` on one non-key leaf field; ``None`` leaves that side open. Bounds are constants
    or signals below ``2^width`` (range-checked where used). Constant bounds with ``lo > hi`` make the
    bound (hence phi) false."""

    field: str
    lo: SignalLike | None = None
    hi: SignalLike | None = None

    def __post_init__(self) -> None:
        if self.field not in _BOUNDED_FIELDS:
            raise CircuitDefinitionError(f"a bound applies to {sorted(_BOUNDED_FIELDS)}, not {self.field!r}")


def _check_leaf_inputs(fields: Sequence[SignalLike]) -> None:
    if len(fields) != len(LEAF_WIDTHS):
        raise CircuitDefinitionError(f"a set leaf has {len(LEAF_WIDTHS)} fields, got {len(fields)}")


@gadget("set_leaf")
def set_leaf_hash(b: Builder, fields: Sequence[SignalLike]) -> Signal:
    """``poseidon(fields)`` of the eight leaf fields. Cost: 402 constraints (Poseidon of 8 inputs)."""
    _check_leaf_inputs(fields)
    return poseidon(b, list(fields))


def set_leaf_hash_native(fields: Sequence[int]) -> int:
    """Native twin of :func:`set_leaf_hash`."""
    if len(fields) != len(LEAF_WIDTHS):
        raise ValueError("a set leaf has eight fields")
    return poseidon_native(list(fields))


def assert_set_member(
    b: Builder,
    root: SignalLike,
    fields: Sequence[Signal],
    siblings: Sequence[Sequence[SignalLike]],
    path_bits: Sequence[SignalLike],
) -> SetLeafSignals:
    """Enforce that the leaf with these ``fields`` sits in the set tree with ``root``; return its signals.

    Enforces: boolean path bits, leaf hash != 0 and the recomputed root equals ``root`` (the quaternary
    Merkle gadget). Fields are not range-checked here (module docstring). Cost: 402 + 304 * depth + 1
    (2,227 at depth 6).
    """
    _check_leaf_inputs(fields)
    if len(siblings) != SET_DEPTH:
        raise CircuitDefinitionError(f"a set path has {SET_DEPTH} levels, got {len(siblings)}")
    with b.scope("assert_set_member"):
        leaf = set_leaf_hash(b, fields)
        assert_quaternary_merkle_inclusion(b, leaf, root, siblings, path_bits)
    return SetLeafSignals(*fields)


def set_member_native(
    root: int, fields: Sequence[int], siblings: Sequence[Sequence[int]], path_bits: Sequence[int]
) -> bool:
    """Native twin of :func:`assert_set_member`: whether the leaf is a non-zero member under ``root``."""
    try:
        leaf = set_leaf_hash_native(fields)
        return leaf != 0 and quaternary_merkle_root_native(leaf, siblings, path_bits) == root
    except ValueError:
        return False


def _check_mode(mode: int, after: object) -> None:
    if mode not in (ANY, LAST, NONE_OR_LAST):
        raise CircuitDefinitionError(f"unknown atom mode {mode!r}")
    if after is not None and mode != ANY:
        raise CircuitDefinitionError("only ANY atoms chain with `after`")


def _check_key_bounds(key_lo: int, key_hi: int) -> None:
    for value in (key_lo, key_hi):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 1 << KEY_BITS:
            raise CircuitDefinitionError(f"key bounds are ints in [1, 2^{KEY_BITS}), got {value!r}")
    if key_lo > key_hi:
        raise CircuitDefinitionError("key_lo > key_hi: an empty key range")


def _constant(x: SignalLike | None) -> int | None:
    if x is None:
        return None
    if isinstance(x, Signal):
        return x.constant_value()
    return x


def _bound_false(bound: FieldBound) -> bool:
    lo, hi = _constant(bound.lo), _constant(bound.hi)
    return lo is not None and hi is not None and lo > hi


def _and(b: Builder, signals: Sequence[Signal]) -> Signal:
    out = signals[0]
    for signal in signals[1:]:
        out = b.mul(out, signal)
        b.note_range(out, 1)
    return out


def _phi(b: Builder, leaf: SetLeafSignals, bounds: Sequence[FieldBound]) -> Signal:
    """1 iff every bound holds (boolean comparisons, inputs range-checked)."""
    if any(_bound_false(bound) for bound in bounds):
        return b.constant(0)
    parts: list[Signal] = []
    with b.scope("phi"):
        for bound in bounds:
            value = leaf.field(bound.field)
            bits = _WIDTH[bound.field]
            if bound.lo is not None and _constant(bound.lo) != 0:
                parts.append(less_eq(b, bound.lo, value, bits=bits))
            if bound.hi is not None and _constant(bound.hi) != (1 << bits) - 1:
                parts.append(less_eq(b, value, bound.hi, bits=bits))
    if not parts:
        return b.constant(1)
    return _and(b, parts)


def _key_flags(b: Builder, leaf: SetLeafSignals, key_lo: int, key_hi: int, need_ends: bool) -> tuple[
    Signal, Signal, Signal | None
]:
    """(below, in_range, ends_range) as booleans; key and next_key range-checked to KEY_BITS."""
    with b.scope("key"):
        below = less_than(b, leaf.key, key_lo, bits=KEY_BITS)
        above = less_than(b, key_hi, leaf.key, bits=KEY_BITS)
        in_range = b.mul(1 - below, 1 - above)
        b.note_range(in_range, 1)
        ends: Signal | None = None
        if need_ends:
            no_successor = is_zero(b, leaf.next_key)
            beyond = less_than(b, key_hi, leaf.next_key, bits=KEY_BITS)
            # next_key == 0 makes `beyond` 0 (key_hi >= 1), so the two are exclusive and their sum is the OR.
            ends = no_successor + beyond
            b.note_range(ends, 1)
    return below, in_range, ends


@gadget("set_atom")
def set_atom(
    b: Builder,
    leaf: SetLeafSignals,
    *,
    mode: int,
    key_lo: int,
    key_hi: int,
    bounds: Sequence[FieldBound] = (),
    after: SignalLike | None = None,
) -> Signal:
    """1 iff the atom (module docstring) holds for ``leaf``, else 0. The leaf must be a proven member.

    ``key_lo``/``key_hi`` are constants in ``[1, 2^94)``; ``after`` (ANY only) is another leaf's key.
    Enforces: range checks of the key fields (94 bits each) and of every bounded field and non-constant
    bound (the field's width); the comparisons. Cost: 188 + 95 * 2 + 1 for the key range, + 97 for ends
    (LAST, NONE_OR_LAST), + 1 to 2 products, + a bound's comparison (23 plus range checks) each, + 95 for
    ``after``.
    """
    _check_mode(mode, after)
    _check_key_bounds(key_lo, key_hi)
    below, in_range, ends = _key_flags(b, leaf, key_lo, key_hi, need_ends=mode != ANY)
    phi = _phi(b, leaf, bounds)
    if mode == ANY:
        parts = [in_range, phi]
        if after is not None:
            parts.append(less_than(b, after, leaf.key, bits=KEY_BITS))
        return _and(b, [p for p in parts if p.constant_value() != 1] or [phi])
    if ends is None:
        raise CircuitDefinitionError("internal: ends_range missing")
    if mode == LAST:
        return _and(b, [p for p in (in_range, ends, phi) if p.constant_value() != 1])
    inside = in_range if phi.constant_value() == 1 else b.mul(in_range, phi)
    either = below + inside  # exclusive: below means the key is not in the range
    b.note_range(either, 1)
    out = b.mul(ends, either)
    b.note_range(out, 1)
    return out


def _assert_ge_constant(b: Builder, x: Signal, constant: int, bits: int) -> None:
    """x >= constant by a range check of the difference (sound for any x below r - 2^bits)."""
    range_check(b, x - constant, bits)


def assert_set_atom(
    b: Builder,
    leaf: SetLeafSignals,
    *,
    mode: int,
    key_lo: int,
    key_hi: int,
    bounds: Sequence[FieldBound] = (),
    after: SignalLike | None = None,
) -> None:
    """Enforce that the atom holds for ``leaf`` (the asserting twin of :func:`set_atom`, cheaper).

    Key facts are range checks of differences (94 each): ``key - key_lo``, ``key_hi - key``, ``key - after
    - 1``; ``ends_range`` is ``(next_key or 2^94) - key_hi - 1`` in range (97 with the zero test). Field bounds
    are assertions (:func:`~zkhealth.circuit.gadgets.comparators.assert_less_eq`, the field's width).
    NONE_OR_LAST with a non-trivial phi asserts ends_range, ``key <= key_hi`` and ``below or phi`` (booleans).
    Cost: ANY 188 + bounds (+94 with after); LAST 285 + bounds; NONE 191; NONE_OR_LAST with phi about 380 + the
    boolean bounds.
    """
    _check_mode(mode, after)
    _check_key_bounds(key_lo, key_hi)
    with b.scope("assert_set_atom"):
        if mode != ANY:
            with b.scope("ends"):
                no_successor = is_zero(b, leaf.next_key)
                effective_next = leaf.next_key + no_successor * (1 << KEY_BITS)
                _assert_ge_constant(b, effective_next, key_hi + 1, KEY_BITS)
        phi_false = any(_bound_false(bound) for bound in bounds)
        if mode == NONE_OR_LAST and phi_false:
            range_check(b, b.constant(key_lo - 1) - leaf.key, KEY_BITS)  # key < key_lo: the range is empty
            return
        if phi_false:
            raise CircuitDefinitionError("an ANY or LAST atom with a false bound can never hold")
        if mode == NONE_OR_LAST:
            range_check(b, b.constant(key_hi) - leaf.key, KEY_BITS)
            below = less_than(b, leaf.key, key_lo, bits=KEY_BITS)
            phi = _phi(b, leaf, bounds)
            either = below + phi - b.mul(below, phi)
            b.assert_equal(either, 1)
            return
        _assert_ge_constant(b, leaf.key, key_lo, KEY_BITS)
        range_check(b, b.constant(key_hi) - leaf.key, KEY_BITS)
        if after is not None:
            range_check(b, leaf.key - after - 1, KEY_BITS)
        for bound in bounds:
            value = leaf.field(bound.field)
            bits = _WIDTH[bound.field]
            if bound.lo is not None and _constant(bound.lo) != 0:
                assert_less_eq(b, bound.lo, value, bits=bits)
            if bound.hi is not None and _constant(bound.hi) != (1 << bits) - 1:
                assert_less_eq(b, value, bound.hi, bits=bits)


def set_atom_native(
    fields: Sequence[int],
    *,
    mode: int,
    key_lo: int,
    key_hi: int,
    bounds: Sequence[tuple[str, int | None, int | None]] = (),
    after: int | None = None,
) -> int:
    """Native twin of :func:`set_atom` on one leaf's fields (bounds as ``(field, lo, hi)`` ints or None).

    Raises ``ValueError`` where the circuit refuses the witness: a field outside its declared width."""
    if len(fields) != len(LEAF_WIDTHS):
        raise ValueError("a set leaf has eight fields")
    for (name, bits), value in zip(LEAF_WIDTHS, fields, strict=True):
        if not 0 <= value < 1 << bits:
            raise ValueError(f"leaf field {name} is outside {bits} bits")
    named = dict(zip((name for name, _ in LEAF_WIDTHS), fields, strict=True))
    key, next_key = named["key"], named["next_key"]
    in_range = key_lo <= key <= key_hi
    ends = next_key == 0 or next_key > key_hi
    phi = all((lo is None or lo <= named[field]) and (hi is None or named[field] <= hi) for field, lo, hi in bounds)
    if mode == ANY:
        return int(in_range and phi and (after is None or key > after))
    if mode == LAST:
        return int(in_range and ends and phi)
    if mode == NONE_OR_LAST:
        return int(ends and (key < key_lo or (in_range and phi)))
    raise ValueError(f"unknown mode {mode!r}")
