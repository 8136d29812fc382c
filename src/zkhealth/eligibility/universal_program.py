"""Criteria programs laid out for the universal eligibility circuit: fixed slots, packed words, one hash.

The universal circuit (:mod:`.universal`) proves "this signed record satisfies the program P" for any P that
fits its fixed shape (:class:`UniversalShape`): ``atom_slots`` set atoms, ``header_slots`` header atoms,
``gate_slots`` threshold gates, and ``leaf_slots`` Merkle openings of set leaves that the set atoms read.
P is data: this module turns a :class:`~zkhealth.eligibility.program.Program` into the values of every slot
(:func:`fit_program`), packs them into field elements (the *words*) and hashes them (:attr:`UniversalProgram.
program_hash`, the circuit's public ``program_hash``).

**Slots.**

* A *set-atom slot* holds one :class:`~zkhealth.eligibility.program.SetAtom`: ``set`` (2 bits), ``mode`` (bit 0
  LAST, bit 1 NONE_OR_LAST, both 0 ANY; both 1 is refused by the circuit), ``key_lo``/``key_hi`` (94 bits),
  ``after`` (1 bit: the key of this slot's leaf must exceed the key of the previous slot's leaf, so a chain of
  ANY atoms sits in consecutive slots), four date bounds ``a_lo, a_hi, b_lo, b_hi`` (a 2-bit kind and a 23-bit
  value each, below), ``value_lo``/``value_hi`` (32 bits) and ``status_lo``/``status_hi`` (4 bits). Open
  bounds take the extreme values, so every bound is always compared. An unused slot is all zeros; no gate reads
  it.
* A *date bound* is ``(kind, v)``, the value ``B = base - (v - 2^22)`` with ``base`` 0 for kind 0 (absolute: ``v
  = 2^22 - ordinal``, compared with the leaf's ``*_ord``), ``today_ord`` for kind 1 (``*_ord``) and
  ``packed(today)`` for kind 2 (``*_packed``, calendar months: 32 per month); kind 3 is refused. An open lower
  bound is ``(0, 2^22)`` (ordinal 0), an open upper bound ``(0, 1)`` (ordinal ``2^22 - 1``); every date field
  lies in between. ``B`` lies in ``(-2^22, 2^23)``: the circuit compares ``B + 2^23`` with ``field + 2^23`` on
  24 bits, so a bound before the epoch or far in the future compares as it does natively.
* A *header-atom slot* holds ``field`` (3 bits: 0 gender, 1 research_consent, 2 record_complete, 3 birth_date,
  4 birth_date_packed, 5 record_as_of; 6 and 7 are refused) and a lower and an upper bound of the same form.
  ``age >= N`` is ``birth_date_packed <= packed(today) - 384 N`` (kind 2); ``age <= N`` is
  ``birth_date_packed >= packed(today) - 384 (N + 1) + 1``; ``record_age_days in [lo, hi]`` bounds
  ``record_as_of`` by ``today_ord - hi`` and ``today_ord - lo`` (kind 1). An unused slot is gender in
  ``[open, open]``: always true, read by no gate.
* A *gate slot* ``g`` holds a threshold ``t`` (6 bits) and one input bit per set-atom slot, per header-atom slot
  and per earlier gate slot ``j < g``: the gate holds when at least ``t`` of its inputs hold (``t = 1`` is OR,
  ``t`` = the number of inputs is AND). The last gate slot is the program's root: the circuit asserts it. The
  compiled combination's gates occupy slots ``0 .. n-2`` in post order and the root the last slot; unused slots
  have ``t = 0`` and no inputs (always true, read by no gate).
* The *policy*: ``max_record_age_days`` (17 bits), ``one_per_person`` (1 bit) and ``opened_day`` (32 bits, 0
  unless one per person).
* A *leaf slot* is not part of P: the prover opens one leaf of one set per slot and each set-atom slot selects
  one leaf slot (one-hot, private); an atom reading a leaf of another set is false. Several atoms can share a
  leaf (:func:`leaf_groups`), so ``leaf_slots`` can be smaller than ``atom_slots``: :func:`fit_program` checks
  that every eligible patient can prove with at most ``leaf_slots`` leaves.

**Words and hash.** The fields are packed, least significant first, into words of at most
:data:`WORD_BITS` bits (a slot's fields never straddle two words); the circuit decomposes every word into
exactly these fields with range checks, so a word has one decoding and a prover cannot change P's meaning
without changing its hash. ``program_hash`` = ``h_n`` with ``h_0`` = :meth:`UniversalShape.tag` (the layout's
domain separator) and ``h_{k+1} = poseidon([h_k, 15 next words])`` (fewer in the last call).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from zkhealth.credentials.sorted_set import KEY_BITS, VALUE_BITS
from zkhealth.eligibility.program import (
    ANY,
    DATE_ABSOLUTE,
    DATE_TODAY_ORD,
    DATE_TODAY_PACKED,
    LAST,
    NONE_OR_LAST,
    DateBound,
    Gate,
    HeaderAtom,
    Leaf,
    Program,
    SetAtom,
    leaf_owners,
)
from zkhealth.errors import EligibilityError, UniversalLimitError
from zkhealth.hash.poseidon import poseidon

__all__ = [
    "BOUND_BITS",
    "BOUND_OFFSET",
    "HEADER_FIELDS",
    "KIND_ABSOLUTE",
    "KIND_TODAY_ORD",
    "KIND_TODAY_PACKED",
    "OPEN_HI",
    "OPEN_LO",
    "POLICY_FIELDS",
    "UNIVERSAL_SHAPE",
    "WORD_BITS",
    "GateSlot",
    "UniversalProgram",
    "UniversalShape",
    "atom_word_fields",
    "decode_words",
    "describe_bound",
    "fit_program",
    "gate_fields",
    "hash_words",
    "header_fields",
    "leaf_groups",
    "pack_words",
]

#: Widest word: a slot's fields packed below 2^248 never wrap modulo r (r > 2^253).
WORD_BITS: Final[int] = 248
KIND_ABSOLUTE: Final[int] = 0
KIND_TODAY_ORD: Final[int] = 1
KIND_TODAY_PACKED: Final[int] = 2
#: Width of a date bound's value ``v = s + 2^22`` (``s`` in ``[-2^22, 2^22)``).
BOUND_BITS: Final[int] = 23
BOUND_OFFSET: Final[int] = 1 << 22
_DATE_MAX: Final[int] = (1 << 22) - 1
OPEN_LO: Final[tuple[int, int]] = (KIND_ABSOLUTE, BOUND_OFFSET)
OPEN_HI: Final[tuple[int, int]] = (KIND_ABSOLUTE, BOUND_OFFSET - _DATE_MAX)
#: Header fields a header-atom slot can bound, in selector order.
HEADER_FIELDS: Final[tuple[str, ...]] = (
    "gender", "research_consent", "record_complete", "birth_date", "birth_date_packed", "record_as_of",
)
THRESHOLD_BITS: Final[int] = 6
STATUS_BITS: Final[int] = 4
MAX_AGE_BITS: Final[int] = 17
DAY_BITS: Final[int] = 32
_KIND: Final[dict[int, int]] = {DATE_ABSOLUTE: KIND_ABSOLUTE, DATE_TODAY_ORD: KIND_TODAY_ORD,
                                DATE_TODAY_PACKED: KIND_TODAY_PACKED}
_MODE_BITS: Final[dict[int, int]] = {ANY: 0, LAST: 1, NONE_OR_LAST: 2}
_YEAR: Final[int] = 384  # packed units per calendar year (32 per month)
_HASH_RATE: Final[int] = 15
_DEDICATED_HINT: Final[str] = "use a dedicated circuit for this trial (`zkhealth trial new --dedicated`)"


# --------------------------------------------------------------------------- shape and layout


@dataclass(frozen=True)
class UniversalShape:
    """The fixed sizes of a universal circuit (module docstring)."""

    leaf_slots: int
    atom_slots: int
    header_slots: int
    gate_slots: int

    def __post_init__(self) -> None:
        for name, value, limit in (("leaf_slots", self.leaf_slots, 64), ("atom_slots", self.atom_slots, 60),
                                   ("header_slots", self.header_slots, 16), ("gate_slots", self.gate_slots, 60)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
                raise EligibilityError(f"{name} must be an int in [1, {limit}]")
        if self.atom_slots + self.header_slots + self.gate_slots >= 1 << THRESHOLD_BITS:
            raise EligibilityError("a gate's inputs must number below 64")

    def tag(self) -> int:
        """The hash's domain separator: the layout's name and version with the four sizes."""
        name = int.from_bytes(b"zkhealth/universal/1", "big")
        return (name << 32) | (self.leaf_slots << 24) | (self.atom_slots << 16) | (self.header_slots << 8) \
            | self.gate_slots

    def describe(self) -> str:
        return (f"{self.atom_slots} set-atom slots, {self.leaf_slots} leaf slots, {self.header_slots} header-atom "
                f"slots, {self.gate_slots} gate slots")

    def words(self) -> tuple[tuple[tuple[str, int], ...], ...]:
        """The packed layout: for each word, its fields ``(name, width)`` from the least significant bit."""
        return _layout(self)

    def field_names(self) -> tuple[str, ...]:
        return tuple(name for word in self.words() for name, _ in word)


#: The shape of the shipped universal circuit: chosen so that every one of the twelve registered trials in
#: circuits/trials/ fits (docs/eligibility.md, "Universal or dedicated"): the largest need 34 set atoms (SPRINT,
#: every slot), 18 gates (EMPEROR-Reduced), 22 leaves (EMPEROR-Reduced, SPRINT) and 2 header atoms (SPRINT).
UNIVERSAL_SHAPE: Final[UniversalShape] = UniversalShape(leaf_slots=23, atom_slots=34, header_slots=3, gate_slots=20)


def _bound_fields(prefix: str) -> list[tuple[str, int]]:
    return [(f"{prefix}_kind", 2), (prefix, BOUND_BITS)]


def atom_word_fields(i: int) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """The two words of set-atom slot ``i``."""
    p = f"atom{i}."
    first = ((p + "key_lo", KEY_BITS), (p + "key_hi", KEY_BITS), (p + "set", 2), (p + "mode", 2),
             (p + "after", 1), (p + "status_lo", STATUS_BITS), (p + "status_hi", STATUS_BITS))
    second: list[tuple[str, int]] = [(p + "value_lo", VALUE_BITS), (p + "value_hi", VALUE_BITS)]
    for bound in ("a_lo", "a_hi", "b_lo", "b_hi"):
        second += _bound_fields(p + bound)
    return first, tuple(second)


def header_fields(h: int) -> tuple[tuple[str, int], ...]:
    p = f"header{h}."
    return ((p + "field", 3), *_bound_fields(p + "lo"), *_bound_fields(p + "hi"))


def gate_fields(shape: UniversalShape, g: int) -> tuple[tuple[str, int], ...]:
    p = f"gate{g}."
    return ((p + "threshold", THRESHOLD_BITS), *((f"{p}atom{i}", 1) for i in range(shape.atom_slots)),
            *((f"{p}header{h}", 1) for h in range(shape.header_slots)), *((f"{p}gate{j}", 1) for j in range(g)))


POLICY_FIELDS: Final[tuple[tuple[str, int], ...]] = (
    ("policy.max_record_age_days", MAX_AGE_BITS), ("policy.one_per_person", 1), ("policy.opened_day", DAY_BITS),
)

_LAYOUTS: dict[UniversalShape, tuple[tuple[tuple[str, int], ...], ...]] = {}


def _layout(shape: UniversalShape) -> tuple[tuple[tuple[str, int], ...], ...]:
    cached = _LAYOUTS.get(shape)
    if cached is not None:
        return cached
    groups: list[tuple[tuple[str, int], ...]] = []
    for i in range(shape.atom_slots):
        groups.extend(atom_word_fields(i))
    groups.extend(header_fields(h) for h in range(shape.header_slots))
    groups.extend(gate_fields(shape, g) for g in range(shape.gate_slots))
    groups.append(POLICY_FIELDS)
    words: list[list[tuple[str, int]]] = []
    used = WORD_BITS
    for group in groups:
        width = sum(w for _, w in group)
        if width > WORD_BITS:
            raise EligibilityError("a slot is wider than a word")
        if used + width > WORD_BITS:
            words.append([])
            used = 0
        words[-1].extend(group)
        used += width
    layout = tuple(tuple(word) for word in words)
    _LAYOUTS[shape] = layout
    return layout


def pack_words(values: Mapping[str, int], shape: UniversalShape) -> tuple[int, ...]:
    """The words of a complete assignment of every field (:meth:`UniversalShape.field_names`)."""
    out: list[int] = []
    for word in shape.words():
        acc, offset = 0, 0
        for name, width in word:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << width:
                raise EligibilityError(f"{name} = {value!r} does not fit {width} bits")
            acc |= value << offset
            offset += width
        out.append(acc)
    return tuple(out)


def decode_words(words: Sequence[int], shape: UniversalShape) -> dict[str, int]:
    """The field values of packed words (the native twin of the circuit's decoding). Raises
    :class:`EligibilityError` where the circuit refuses: a word wider than its fields, a mode of 3, a bound
    kind of 3, a header field selector of 6 or 7."""
    layout = shape.words()
    if len(words) != len(layout):
        raise EligibilityError(f"expected {len(layout)} words, got {len(words)}")
    values: dict[str, int] = {}
    for word, fields in zip(words, layout, strict=True):
        if isinstance(word, bool) or not isinstance(word, int) or word < 0:
            raise EligibilityError("words are non-negative ints")
        rest = word
        for name, width in fields:
            values[name] = rest & ((1 << width) - 1)
            rest >>= width
        if rest:
            raise EligibilityError("a word has bits beyond its fields")
    for name, value in values.items():
        if (name.endswith(".mode") or name.endswith("_kind")) and value == 3:
            raise EligibilityError(f"{name} = 3 is not a valid encoding")
        if name.endswith(".field") and value >= len(HEADER_FIELDS):
            raise EligibilityError(f"{name} = {value} names no header field")
    return values


def hash_words(words: Sequence[int], shape: UniversalShape) -> int:
    """``program_hash`` of packed words (module docstring)."""
    state = shape.tag()
    for start in range(0, len(words), _HASH_RATE):
        state = poseidon([state, *words[start:start + _HASH_RATE]])
    return state


# --------------------------------------------------------------------------- fitting a program


@dataclass(frozen=True)
class GateSlot:
    """One gate slot's content: threshold and inputs (set-atom slots, header slots, earlier gate slots)."""

    threshold: int
    atoms: frozenset[int] = frozenset()
    headers: frozenset[int] = frozenset()
    gates: frozenset[int] = frozenset()


def leaf_groups(program: Program) -> tuple[tuple[object, ...] | None, ...]:
    """For each atom, the key of the leaf it opens in the universal circuit (``None`` for header atoms); atoms
    with equal keys share one leaf, so the number of distinct keys bounds the leaves a proof ever needs.

    * ANY atoms that :func:`~zkhealth.eligibility.program.leaf_owners` lets share a leaf (parts of one OR over
      one set) share their owner's leaf;
    * LAST and NONE_OR_LAST atoms, and ANY atoms without bounds (phi always true) that take no part in an
      ``after`` chain, open the last leaf with ``key <= key_hi`` of their set: atoms of one set with one
      ``key_hi`` share it (the leaf makes each of them as true as the record allows: it is the last item of
      the range when the range has one, its low neighbour otherwise);
    * every other atom opens a leaf of its own.
    """
    owners = leaf_owners(program)
    chained = {atom.after for atom in program.atoms if isinstance(atom, SetAtom) and atom.after is not None}
    members: dict[int, int] = {}
    for owner in owners:
        if owner is not None:
            members[owner] = members.get(owner, 0) + 1
    out: list[tuple[object, ...] | None] = []
    for index, atom in enumerate(program.atoms):
        owner = owners[index]
        if not isinstance(atom, SetAtom) or owner is None:
            out.append(None)
        elif owner != index or members.get(index, 0) > 1:
            out.append(("own", owner))
        elif index not in chained and atom.after is None and (atom.mode != ANY or _no_bounds(atom)):
            out.append(("last", atom.set, atom.key_hi))
        else:
            out.append(("own", index))
    return tuple(out)


def _no_bounds(atom: SetAtom) -> bool:
    return all(getattr(atom, name) is None for name in ("a_lo", "a_hi", "b_lo", "b_hi", "value_lo", "value_hi",
                                                        "status_lo", "status_hi"))


@dataclass(frozen=True)
class UniversalProgram:
    """A program laid out in a :class:`UniversalShape` (module docstring). Make it with :func:`fit_program`.

    ``atom_slot_of[i]`` is the set-atom slot of atom ``i`` (``None`` for header atoms), ``header_slot_of[i]``
    its header slot; ``gates`` has one entry per gate slot; ``leaf_keys[i]`` is atom ``i``'s leaf group
    (:func:`leaf_groups`); ``values`` every field; ``words`` the packed words; ``program_hash`` the public hash.
    """

    program: Program
    shape: UniversalShape
    atom_slot_of: tuple[int | None, ...]
    header_slot_of: tuple[int | None, ...]
    gates: tuple[GateSlot, ...]
    leaf_keys: tuple[tuple[object, ...] | None, ...]
    values: Mapping[str, int]
    words: tuple[int, ...]
    program_hash: int

    @property
    def leaves_needed(self) -> int:
        """The most leaves one proof of this program can need."""
        return len({key for key in self.leaf_keys if key is not None})

    def usage(self) -> dict[str, tuple[int, int]]:
        """Slots used and available, per kind."""
        return {
            "set atoms": (sum(s is not None for s in self.atom_slot_of), self.shape.atom_slots),
            "leaves": (self.leaves_needed, self.shape.leaf_slots),
            "header atoms": (sum(s is not None for s in self.header_slot_of), self.shape.header_slots),
            "gates": (sum(1 for g in self.gates if g.threshold or g.atoms or g.headers or g.gates),
                      self.shape.gate_slots),
        }

    def describe_usage(self) -> str:
        return "; ".join(f"{kind} {used}/{limit}" for kind, (used, limit) in self.usage().items())


def _limit(what: str, needed: int, limit: int, detail: str = "") -> UniversalLimitError:
    extra = f" ({detail})" if detail else ""
    return UniversalLimitError(
        f"these criteria need {needed} {what}{extra}; the universal circuit has {limit}: {_DEDICATED_HINT}",
        limit=what, needed=needed, available=limit,
    )


def _absolute(ordinal: int) -> tuple[int, int]:
    return KIND_ABSOLUTE, BOUND_OFFSET - ordinal


def _encode_bound(bound: DateBound | None, open_value: tuple[int, int]) -> tuple[int, int]:
    if bound is None:
        return open_value
    if bound.kind == DATE_ABSOLUTE:
        return _absolute(bound.value)
    return _KIND[bound.kind], BOUND_OFFSET + bound.value


def _set_atom_values(slot: int, atom: SetAtom, after: bool) -> dict[str, int]:
    p = f"atom{slot}."
    values = {
        p + "key_lo": atom.key_lo, p + "key_hi": atom.key_hi, p + "set": atom.set, p + "mode": _MODE_BITS[atom.mode],
        p + "after": int(after),
        p + "status_lo": 0 if atom.status_lo is None else atom.status_lo,
        p + "status_hi": (1 << STATUS_BITS) - 1 if atom.status_hi is None else atom.status_hi,
        p + "value_lo": 0 if atom.value_lo is None else atom.value_lo,
        p + "value_hi": (1 << VALUE_BITS) - 1 if atom.value_hi is None else atom.value_hi,
    }
    for name, bound, open_value in (("a_lo", atom.a_lo, OPEN_LO), ("a_hi", atom.a_hi, OPEN_HI),
                                    ("b_lo", atom.b_lo, OPEN_LO), ("b_hi", atom.b_hi, OPEN_HI)):
        kind, value = _encode_bound(bound, open_value)
        values[p + name + "_kind"] = kind
        values[p + name] = value
    return values


def _header_bounds(atom: HeaderAtom) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """(field selector, lower bound, upper bound) of a header atom (module docstring)."""
    lo, hi = atom.lo, atom.hi
    if atom.field == "age":
        lower = OPEN_LO if hi is None else (KIND_TODAY_PACKED, BOUND_OFFSET + _YEAR * (hi + 1) - 1)
        upper = OPEN_HI if lo is None else (KIND_TODAY_PACKED, BOUND_OFFSET + _YEAR * lo)
        return HEADER_FIELDS.index("birth_date_packed"), lower, upper
    if atom.field == "record_age_days":
        lower = OPEN_LO if hi is None else (KIND_TODAY_ORD, BOUND_OFFSET + hi)
        upper = OPEN_HI if lo is None else (KIND_TODAY_ORD, BOUND_OFFSET + lo)
        return HEADER_FIELDS.index("record_as_of"), lower, upper
    lower = OPEN_LO if lo is None else _absolute(lo)
    upper = OPEN_HI if hi is None else _absolute(hi)
    return HEADER_FIELDS.index(atom.field), lower, upper


def _header_values(slot: int, selector: int, lower: tuple[int, int], upper: tuple[int, int]) -> dict[str, int]:
    p = f"header{slot}."
    return {p + "field": selector, p + "lo_kind": lower[0], p + "lo": lower[1], p + "hi_kind": upper[0],
            p + "hi": upper[1]}


def _slot_order(program: Program) -> list[int]:
    """Set atoms in slot order: each ``after`` chain in consecutive slots."""
    dependents: dict[int, int] = {}
    for index, atom in enumerate(program.atoms):
        if isinstance(atom, SetAtom) and atom.after is not None:
            if atom.after in dependents:
                raise UniversalLimitError(
                    f"two counts chain to the same atom: {_DEDICATED_HINT}", limit="after chains", needed=2,
                    available=1)
            dependents[atom.after] = index
    order: list[int] = []
    for index, atom in enumerate(program.atoms):
        if not isinstance(atom, SetAtom) or atom.after is not None:
            continue
        current: int | None = index
        while current is not None:
            order.append(current)
            current = dependents.get(current)
    if len(order) != sum(isinstance(atom, SetAtom) for atom in program.atoms):
        raise EligibilityError("internal: an `after` chain does not start at an unchained atom")
    return order


def fit_program(program: Program, shape: UniversalShape = UNIVERSAL_SHAPE) -> UniversalProgram:
    """Lay ``program`` out in ``shape`` (module docstring) and hash it.

    Raises :class:`~zkhealth.errors.UniversalLimitError` (a :class:`~zkhealth.errors.CriteriaNotExpressibleError`)
    naming the limit when the program needs more set-atom, leaf, header-atom or gate slots than the shape has,
    or a wider gate than a threshold can count: such criteria need a dedicated circuit.
    """
    if not isinstance(program, Program):
        raise EligibilityError("fit_program needs a compiled Program")
    order = _slot_order(program)
    if len(order) > shape.atom_slots:
        raise _limit("set atoms", len(order), shape.atom_slots, "one per code range, window and value bound")
    keys = leaf_groups(program)
    leaves = len({key for key in keys if key is not None})
    if leaves > shape.leaf_slots:
        raise _limit("leaves", leaves, shape.leaf_slots, "one Merkle opening per exclusion range or distinct fact")
    header_atoms = [i for i, atom in enumerate(program.atoms) if isinstance(atom, HeaderAtom)]
    if len(header_atoms) > shape.header_slots:
        raise _limit("header atoms", len(header_atoms), shape.header_slots, "age, sex, consent, record dates")

    atom_slot_of: list[int | None] = [None] * len(program.atoms)
    header_slot_of: list[int | None] = [None] * len(program.atoms)
    values: dict[str, int] = {}
    for slot, index in enumerate(order):
        atom = program.atoms[index]
        if not isinstance(atom, SetAtom):
            raise EligibilityError("internal: a header atom in a set-atom slot")
        atom_slot_of[index] = slot
        previous = order[slot - 1] if slot else None
        if atom.after is not None and atom.after != previous:
            raise EligibilityError("internal: an `after` chain is not in consecutive slots")
        values.update(_set_atom_values(slot, atom, atom.after is not None))
    empty = SetAtom(0, ANY, 1, 1)
    for slot in range(len(order), shape.atom_slots):
        values.update({name: 0 for name in _set_atom_values(slot, empty, False)})
    for slot, index in enumerate(header_atoms):
        atom = program.atoms[index]
        if not isinstance(atom, HeaderAtom):
            raise EligibilityError("internal: a set atom in a header slot")
        header_slot_of[index] = slot
        values.update(_header_values(slot, *_header_bounds(atom)))
    for slot in range(len(header_atoms), shape.header_slots):
        values.update(_header_values(slot, 0, OPEN_LO, OPEN_HI))

    gates = _place_gates(program, shape, atom_slot_of, header_slot_of)
    for g, gate in enumerate(gates):
        if gate.threshold >= 1 << THRESHOLD_BITS:
            raise _limit("inputs in one gate", gate.threshold, (1 << THRESHOLD_BITS) - 1)
        values[f"gate{g}.threshold"] = gate.threshold
        for i in range(shape.atom_slots):
            values[f"gate{g}.atom{i}"] = int(i in gate.atoms)
        for h in range(shape.header_slots):
            values[f"gate{g}.header{h}"] = int(h in gate.headers)
        for j in range(g):
            values[f"gate{g}.gate{j}"] = int(j in gate.gates)
    policy = program.policy
    values["policy.max_record_age_days"] = policy.max_record_age_days
    values["policy.one_per_person"] = int(policy.one_per_person)
    values["policy.opened_day"] = policy.opened_day if policy.opened_day is not None else 0
    words = pack_words(values, shape)
    return UniversalProgram(program, shape, tuple(atom_slot_of), tuple(header_slot_of), tuple(gates), keys,
                            dict(values), words, hash_words(words, shape))


def _place_gates(program: Program, shape: UniversalShape, atom_slot_of: Sequence[int | None],
                 header_slot_of: Sequence[int | None]) -> tuple[GateSlot, ...]:
    """The combination in gate slots: inner gates in post order from slot 0, the root in the last slot. A
    gate naming one atom twice reads the second copy through a gate of its own (a count of inputs)."""
    placed: list[GateSlot] = []

    def place(node: Gate) -> int:
        atoms: set[int] = set()
        headers: set[int] = set()
        gates: set[int] = set()
        for child in node.children:
            if isinstance(child, Gate):
                gates.add(place(child))
                continue
            slot = atom_slot_of[child.atom]
            target = atoms if slot is not None else headers
            if slot is None:
                slot = header_slot_of[child.atom]
            if slot is None:
                raise EligibilityError("internal: an atom without a slot")
            if slot in target:
                gates.add(place(Gate(1, (Leaf(child.atom),))))
            else:
                target.add(slot)
        placed.append(GateSlot(node.threshold, frozenset(atoms), frozenset(headers), frozenset(gates)))
        return len(placed) - 1

    place(program.root)
    if len(placed) > shape.gate_slots:
        raise _limit("gates", len(placed), shape.gate_slots, "one per and/or/at-least group, the whole included")
    root = placed.pop()
    neutral = GateSlot(0)
    return (*placed, *([neutral] * (shape.gate_slots - 1 - len(placed))), root)


def describe_bound(kind: int, value: int) -> str:
    """A readable date bound."""
    if kind == KIND_ABSOLUTE:
        ordinal = BOUND_OFFSET - value
        if ordinal <= 0 or ordinal >= _DATE_MAX:
            return "open"
        return _dt.date.fromordinal(ordinal).isoformat() if ordinal < 3_652_060 else str(ordinal)
    s = value - BOUND_OFFSET
    return f"today - {s} d" if kind == KIND_TODAY_ORD else f"packed(today) - {s}"

