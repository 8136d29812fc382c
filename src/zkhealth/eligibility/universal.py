"""The universal eligibility circuit: one circuit, one key set, for every trial whose program fits its shape.

The criteria program P is a private input, laid out in fixed slots and packed into words
(:mod:`.universal_program`); its hash is the public ``program_hash``, so the verifier knows exactly which
program was proven and no trial needs a circuit, a setup or a verifier of its own. For a version-2 credential
(header ``h``, record.py) held privately, the circuit proves:

1. ``h[0], h[1]`` are the schema id and version 2;
2. the issuer's EdDSA-Poseidon signature over ``poseidon([poseidon(h[0:16]), poseidon(h[16:20])])`` verifies
   under ``A = (h[4], h[5])``;
3. ``poseidon([Ax, Ay, revocation_root])`` is a leaf of the issuer registry (depth 5), ``revocation_root``
   being that issuer's own revocation tree, and ``h[2]`` (the credential id) is absent from it (depth 16);
4. ``trust_root = poseidon([issuer_registry_root, person_registry_root])``;
5. when P's policy says one per person: ``poseidon([h[3], registered_day])`` is a leaf of the person registry
   (depth 12), its root is the person root, and ``registered_day < opened_day`` (P's); otherwise the person
   root is a free private input that only enters the trust root. The path is opened either way (its cost is
   fixed), and P, not the prover, decides which;
6. ``issued_at <= today < expires_at``; ``poseidon([holder_secret]) == h[3]``;
7. every word of P decomposes into exactly its fields (range checks: the packing is injective), and
   ``program_hash`` is their hash;
8. P holds: each leaf slot opens one leaf of the set its two private bits name (root from the header); each
   set-atom slot selects one leaf slot (one-hot) and evaluates its atom on that leaf
   (:func:`~zkhealth.circuit.gadgets.sorted_set.set_atom_selected`, the key logic shared with the dedicated
   circuit), false unless the leaf is from the atom's set; LAST and NONE_OR_LAST atoms also need a complete
   record no older than P's ``max_record_age_days``; header atoms bound a header field; every gate counts its
   inputs against its threshold; the last gate is asserted;
9. ``nullifier = poseidon([holder_secret, scope])``; ``recipient`` enters ``recipient * recipient``.

Public signals, in order: ``[nullifier, program_hash, scope, today, trust_root, recipient]``. Constraint
labels are ``universal/<part>/...`` with parts ``schema``, ``signature``, ``issuer``, ``revocation``,
``person``, ``trust``, ``validity``, ``holder``, ``program`` (decoding and hash), ``criteria`` (``today``,
``header``, ``leaf<j>``, ``atom<i>``, ``headeratom<h>``, ``gate<g>``), ``nullifier``, ``recipient``.

Soundness of the slots: an atom is sound on any member leaf of its set, so the prover's free choices (which
leaf each slot opens, which leaf slot each atom reads, what unused slots hold) can only make atoms false that
could be true, never the reverse; P's own slots are fixed by its hash.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.basic import ensure_bool, is_equal, mux
from zkhealth.circuit.gadgets.bits import from_bits, range_check, to_bits
from zkhealth.circuit.gadgets.comparators import greater_eq, less_eq, less_than
from zkhealth.circuit.gadgets.merkle import quaternary_merkle_root
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.gadgets.sorted_set import (
    LEAF_WIDTHS,
    SetLeafSignals,
    assert_set_member,
    set_atom_selected,
)
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, DATE_BITS
from zkhealth.credentials.record import (
    HEADER_INDEX,
    HEADER_LENGTH,
    PatientRecord,
    RecordCredential,
)
from zkhealth.credentials.sorted_set import DATE_FIELD_BITS, SET_DEPTH
from zkhealth.credentials.trees import ISSUER_REGISTRY_DEPTH, REVOCATION_TREE_DEPTH, NonMembershipProof
from zkhealth.credentials.trust import PERSON_REGISTRY_DEPTH, IssuerMembership, PersonMembership
from zkhealth.eligibility.calendar import civil_date
from zkhealth.eligibility.credential_core import (
    assert_credential,
    assert_valid_and_held,
    bind_proof,
    declare_credential_inputs,
    header_message,
)
from zkhealth.eligibility.evaluate import choose_leaves, today_values
from zkhealth.eligibility.program import SetAtom
from zkhealth.eligibility.universal_program import (
    BOUND_OFFSET,
    HEADER_FIELDS,
    UNIVERSAL_SHAPE,
    UniversalProgram,
    UniversalShape,
)
from zkhealth.errors import CircuitDefinitionError, EligibilityError
from zkhealth.field import FIELD_R
from zkhealth.signature.eddsa_poseidon import Signature

__all__ = [
    "CIRCUIT_NAME",
    "PUBLIC_SIGNALS",
    "LeafChoice",
    "choose_universal_leaves",
    "compile_universal_circuit",
    "universal_circuit",
    "universal_criteria_circuit",
    "universal_criteria_inputs",
    "universal_inputs",
]

CIRCUIT_NAME: Final[str] = "eligibility-universal"
#: The public signals, in wire order.
PUBLIC_SIGNALS: Final[tuple[str, ...]] = ("nullifier", "program_hash", "scope", "today", "trust_root", "recipient")
_RECIPIENT_BOUND: Final[int] = 1 << 160
#: Comparisons of date fields with date bounds are made on ``value + 2^23`` (24 bits): module docstring of
#: universal_program (a bound lies in (-2^22, 2^23)).
_SHIFT: Final[int] = 1 << 23
_CMP_BITS: Final[int] = 24
_HASH_RATE: Final[int] = 15
_ROOT_FIELDS: Final[tuple[str, ...]] = ("conditions_root", "medications_root", "procedures_root", "observations_root")
_LEAF_FIELD_NAMES: Final[tuple[str, ...]] = tuple(name for name, _ in LEAF_WIDTHS)


def _h(name: str) -> int:
    return HEADER_INDEX[name]


# --------------------------------------------------------------------------- program words


def _decode_program(b: Builder, words: Sequence[Signal], shape: UniversalShape) -> dict[str, Signal]:
    """Every field of every word, from a range-checked bit decomposition (one decoding per word)."""
    fields: dict[str, Signal] = {}
    for index, (word, layout) in enumerate(zip(words, shape.words(), strict=True)):
        width = sum(w for _, w in layout)
        with b.scope(f"word{index}"):
            bits = to_bits(b, word, width)
        offset = 0
        for name, w in layout:
            fields[name] = bits[offset] if w == 1 else from_bits(b, bits[offset:offset + w])
            offset += w
    return fields


def _program_hash(b: Builder, words: Sequence[Signal], shape: UniversalShape) -> Signal:
    state: SignalLike = shape.tag()
    for start in range(0, len(words), _HASH_RATE):
        state = poseidon(b, [state, *words[start:start + _HASH_RATE]])
    if not isinstance(state, Signal):
        raise CircuitDefinitionError("internal: a program without words")
    return state


def _kind_bits(b: Builder, kind: Signal) -> tuple[Signal, Signal]:
    """The two bits of a date-bound kind (0 absolute, 1 today_ord, 2 packed(today)); kind 3 is refused."""
    k0, k1 = to_bits(b, kind, 2)
    b.assert_mul(k0, k1, 0)
    return k0, k1


def _bound_shifted(b: Builder, k0: Signal, k1: Signal, value: Signal, today_ord: Signal,
                   today_packed: Signal) -> Signal:
    """``B + 2^23`` for the bound ``B = base - (value - 2^22)``, base chosen by the kind bits; 24 bits."""
    base = b.mul(k0, today_ord) + b.mul(k1, today_packed)
    shifted = base - value + (BOUND_OFFSET + _SHIFT)
    # base < 2^22 (both days range-checked, at most one kind bit set) and value < 2^23: the sum lies in
    # (2^22, 2^24).
    b.note_range(shifted, _CMP_BITS)
    return shifted


# --------------------------------------------------------------------------- the criteria part


@dataclass(frozen=True)
class _LeafSlot:
    set_index: Signal
    fields: SetLeafSignals


class _Criteria:
    """Builds part 8 of the module docstring; returns the root gate's value."""

    def __init__(self, b: Builder, shape: UniversalShape, header: Sequence[Signal], today: Signal,
                 program: dict[str, Signal]) -> None:
        self.b = b
        self.shape = shape
        self.header = header
        self.today = today
        self.p = program

    def build(self, leaf_inputs: Sequence[tuple[Signal, Sequence[Signal], Sequence[Signal], Sequence[Signal]]],
              selects: Sequence[Sequence[Signal]]) -> Signal:
        b = self.b
        with b.scope("today"):
            self.today_ord = self.today + CLINICAL_DATE_OFFSET
            range_check(b, self.today_ord, DATE_FIELD_BITS)
            self.today_packed = civil_date(b, self.today_ord).packed
            range_check(b, self.today_packed, DATE_FIELD_BITS)
        with b.scope("header"):
            self.header_values = []
            for name in HEADER_FIELDS:
                signal = self.header[_h(name)]
                range_check(b, signal, DATE_FIELD_BITS)
                self.header_values.append(signal)
            complete = self.header[_h("record_complete")]
            ensure_bool(b, complete)
            max_age = self.p["policy.max_record_age_days"]
            oldest = self.today_ord - max_age
            # today_ord >= 719,163 (epoch day 0) > 2^17 > max_age, and today_ord < 2^22.
            b.note_range(oldest, DATE_FIELD_BITS)
            recent = less_eq(b, oldest, self.header[_h("record_as_of")], bits=DATE_FIELD_BITS)
            self.fresh = b.mul(complete, recent)
            b.note_range(self.fresh, 1)
        slots = [self.leaf_slot(j, *leaf_inputs[j]) for j in range(self.shape.leaf_slots)]
        atom_values: list[Signal] = []
        previous_key: SignalLike = 0
        for i in range(self.shape.atom_slots):
            with b.scope(f"atom{i}"):
                leaf = self.select_leaf(slots, selects[i])
                atom_values.append(self.set_atom(i, leaf, previous_key))
            previous_key = leaf.fields.key
        header_values = [self.header_atom(h) for h in range(self.shape.header_slots)]
        gate_values: list[Signal] = []
        for g in range(self.shape.gate_slots):
            gate_values.append(self.gate(g, atom_values, header_values, gate_values))
        return gate_values[-1]

    # ------------------------------------------------------------------ leaves

    def leaf_slot(self, j: int, set_index: Signal, fields: Sequence[Signal], siblings: Sequence[Signal],
                  path: Sequence[Signal]) -> _LeafSlot:
        b = self.b
        with b.scope(f"leaf{j}"):
            set_bits = to_bits(b, set_index, 2)
            root = mux(b, set_bits, [self.header[_h(name)] for name in _ROOT_FIELDS])
            leaf = assert_set_member(b, root, list(fields), [siblings[3 * k:3 * k + 3] for k in range(SET_DEPTH)],
                                     path)
            with b.scope("ranges"):
                for (_, width), signal in zip(LEAF_WIDTHS, fields, strict=True):
                    range_check(b, signal, width)
        return _LeafSlot(set_index, leaf)

    def select_leaf(self, slots: Sequence[_LeafSlot], select: Sequence[Signal]) -> _LeafSlot:
        """The leaf slot a one-hot selector picks (the selector is constrained one-hot)."""
        b = self.b
        with b.scope("select"):
            for bit in select:
                ensure_bool(b, bit)
            b.assert_equal(b.linear_combination(list(select), [1] * len(select)), 1)
            picked: list[Signal] = []
            for (name, width) in LEAF_WIDTHS:
                value = b.constant(0)
                for bit, slot in zip(select, slots, strict=True):
                    value = value + b.mul(bit, slot.fields.field(name))
                b.note_range(value, width)  # one of range-checked values: the selector is one-hot
                picked.append(value)
            set_index = b.constant(0)
            for bit, slot in zip(select, slots, strict=True):
                set_index = set_index + b.mul(bit, slot.set_index)
        return _LeafSlot(set_index, SetLeafSignals(*picked))

    # ------------------------------------------------------------------ atoms

    def date_ok(self, prefix: str, ord_field: Signal, packed_field: Signal, upper: bool) -> Signal:
        """One date bound of a set atom (kind 2 compares the packed field, the others the ordinal)."""
        b = self.b
        k0, k1 = _kind_bits(b, self.p[prefix + "_kind"])
        bound = _bound_shifted(b, k0, k1, self.p[prefix], self.today_ord, self.today_packed)
        field = ord_field + b.mul(k1, packed_field - ord_field)
        b.note_range(field, DATE_FIELD_BITS)  # one of two range-checked fields: k1 is a bit
        shifted = field + _SHIFT
        if upper:
            return less_eq(b, shifted, bound, bits=_CMP_BITS)
        return less_eq(b, bound, shifted, bits=_CMP_BITS)

    def set_atom(self, i: int, slot: _LeafSlot, previous_key: SignalLike) -> Signal:
        b = self.b
        p = f"atom{i}."
        leaf = slot.fields
        with b.scope("mode"):
            last, none_or_last = to_bits(b, self.p[p + "mode"], 2)
            b.assert_mul(last, none_or_last, 0)
        with b.scope("phi"):
            parts = [
                self.date_ok(p + "a_lo", leaf.a_ord, leaf.a_packed, upper=False),
                self.date_ok(p + "a_hi", leaf.a_ord, leaf.a_packed, upper=True),
                self.date_ok(p + "b_lo", leaf.b_ord, leaf.b_packed, upper=False),
                self.date_ok(p + "b_hi", leaf.b_ord, leaf.b_packed, upper=True),
            ]
            for field, width in (("value", 32), ("status", 4)):
                value = leaf.field(field)
                parts.append(less_eq(b, self.p[f"{p}{field}_lo"], value, bits=width))
                parts.append(less_eq(b, value, self.p[f"{p}{field}_hi"], bits=width))
            phi = is_equal(b, b.linear_combination(parts, [1] * len(parts)), len(parts))
        raw = set_atom_selected(b, leaf, last=last, none_or_last=none_or_last, key_lo=self.p[p + "key_lo"],
                                key_hi=self.p[p + "key_hi"], phi=phi, after=self.p[p + "after"],
                                after_key=previous_key)
        with b.scope("gate"):
            stale = b.mul(last + none_or_last, 1 - self.fresh)
            same_set = is_equal(b, slot.set_index, self.p[p + "set"])
            out = b.mul(b.mul(raw, 1 - stale), same_set)
            b.note_range(out, 1)
        return out

    def header_atom(self, h: int) -> Signal:
        b = self.b
        p = f"header{h}."
        with b.scope(f"headeratom{h}"):
            selector = to_bits(b, self.p[p + "field"], 3)
            b.assert_mul(selector[1], selector[2], 0)  # 6 and 7 name no field
            value = mux(b, selector, [*self.header_values, b.constant(0), b.constant(0)])
            b.note_range(value, DATE_FIELD_BITS)
            shifted = value + _SHIFT
            lo0, lo1 = _kind_bits(b, self.p[p + "lo_kind"])
            hi0, hi1 = _kind_bits(b, self.p[p + "hi_kind"])
            lower = _bound_shifted(b, lo0, lo1, self.p[p + "lo"], self.today_ord, self.today_packed)
            upper = _bound_shifted(b, hi0, hi1, self.p[p + "hi"], self.today_ord, self.today_packed)
            out = b.mul(less_eq(b, lower, shifted, bits=_CMP_BITS), less_eq(b, shifted, upper, bits=_CMP_BITS))
            b.note_range(out, 1)
        return out

    # ------------------------------------------------------------------ combination

    def gate(self, g: int, atoms: Sequence[Signal], headers: Sequence[Signal], gates: Sequence[Signal]) -> Signal:
        b = self.b
        p = f"gate{g}."
        with b.scope(f"gate{g}"):
            terms = [b.mul(self.p[f"{p}atom{i}"], value) for i, value in enumerate(atoms)]
            terms += [b.mul(self.p[f"{p}header{h}"], value) for h, value in enumerate(headers)]
            terms += [b.mul(self.p[f"{p}gate{j}"], value) for j, value in enumerate(gates)]
            count = b.linear_combination(terms, [1] * len(terms))
            b.note_range(count, 6)  # fewer than 64 booleans (UniversalShape)
            return greater_eq(b, count, self.p[p + "threshold"], bits=6)


# --------------------------------------------------------------------------- circuit descriptions


def _leaf_inputs(b: Builder, shape: UniversalShape) -> list[tuple[Signal, list[Signal], list[Signal], list[Signal]]]:
    return [(b.private_input(f"leaf{j}_set"), b.private_inputs(f"leaf{j}_fields", len(LEAF_WIDTHS)),
             b.private_inputs(f"leaf{j}_siblings", 3 * SET_DEPTH), b.private_inputs(f"leaf{j}_path", 2 * SET_DEPTH))
            for j in range(shape.leaf_slots)]


def _selects(b: Builder, shape: UniversalShape) -> list[list[Signal]]:
    return [b.private_inputs(f"atom{i}_select", shape.leaf_slots) for i in range(shape.atom_slots)]


def universal_criteria_circuit(shape: UniversalShape = UNIVERSAL_SHAPE, *, output: bool = False
                               ) -> Callable[[Builder], None]:
    """Only parts 7 and 8 (program and criteria), for tests and cost reports: public ``today``; private
    ``header`` (20), ``program`` (the words) and the leaf slots and selectors; outputs ``program_hash`` and
    ``message`` (the header hash the issuer signs, so every header input is bound). With ``output=True`` the
    root gate is the output ``eligible`` instead of an assertion."""

    def define(b: Builder) -> None:
        today = b.public_input("today")
        header = b.private_inputs("header", HEADER_LENGTH)
        words = b.private_inputs("program", len(shape.words()))
        leaves = _leaf_inputs(b, shape)
        selects = _selects(b, shape)
        range_check(b, today, DATE_BITS)
        with b.scope("program"):
            fields = _decode_program(b, words, shape)
            b.output("program_hash", _program_hash(b, words, shape))
        b.output("message", header_message(b, header))
        with b.scope("criteria"):
            root = _Criteria(b, shape, header, today, fields).build(leaves, selects)
            if output:
                b.output("eligible", root)
            else:
                b.assert_equal(root, 1)

    return define


def universal_circuit(shape: UniversalShape = UNIVERSAL_SHAPE) -> Callable[[Builder], None]:
    """The circuit description ``define(b)`` of the universal eligibility circuit (module docstring)."""

    def define(b: Builder) -> None:
        program_hash = b.public_input("program_hash")
        scope = b.public_input("scope")
        today = b.public_input("today")
        trust_root = b.public_input("trust_root")
        recipient = b.public_input("recipient")

        credential = declare_credential_inputs(b)
        header = credential.header
        registered_day = b.private_input("person_registered_day")
        person_flat = b.private_inputs("person_siblings", 3 * PERSON_REGISTRY_DEPTH)
        person_bits = b.private_inputs("person_path_bits", 2 * PERSON_REGISTRY_DEPTH)
        free_person_root = b.private_input("person_root")
        words = b.private_inputs("program", len(shape.words()))
        leaves = _leaf_inputs(b, shape)
        selects = _selects(b, shape)

        with b.scope("program"):
            fields = _decode_program(b, words, shape)
            b.assert_equal(_program_hash(b, words, shape), program_hash)
        issuer_root = assert_credential(b, credential)
        with b.scope("person"):
            one_per_person = fields["policy.one_per_person"]
            person = poseidon(b, [header[_h("subject_commitment")], registered_day])
            # One per person: the leaf is not an empty slot (it has an inverse); otherwise inverse 0 passes.
            (inverse,) = b.hint_unconstrained(_inverse_when, person, one_per_person, name="person_leaf_inverse")
            b.assert_mul(person, inverse, one_per_person)
            triples = [person_flat[3 * k : 3 * k + 3] for k in range(PERSON_REGISTRY_DEPTH)]
            registry_root = quaternary_merkle_root(b, person, triples, person_bits)
            person_root = free_person_root + b.mul(one_per_person, registry_root - free_person_root)
            registered_before = less_than(b, registered_day, fields["policy.opened_day"], bits=DATE_BITS)
            b.assert_mul(one_per_person, 1 - registered_before, 0)
        with b.scope("trust"):
            b.assert_equal(poseidon(b, [issuer_root, person_root]), trust_root)
        assert_valid_and_held(b, credential, today)
        with b.scope("criteria"):
            root = _Criteria(b, shape, header, today, fields).build(leaves, selects)
            b.assert_equal(root, 1)
        bind_proof(b, credential, scope, recipient)

    return define


def _inverse_when(value: int, flag: int) -> int:
    return pow(value, -1, FIELD_R) if flag and value % FIELD_R else 0


_COMPILED: dict[UniversalShape, CompiledCircuit] = {}


def compile_universal_circuit(shape: UniversalShape = UNIVERSAL_SHAPE) -> CompiledCircuit:
    """Compile the universal circuit (lints on; compiled once per shape and process). Cost: about 20 s for the
    shipped shape."""
    compiled = _COMPILED.get(shape)
    if compiled is None:
        compiled = compile(universal_circuit(shape), name=CIRCUIT_NAME)
        _COMPILED[shape] = compiled
    return compiled


# --------------------------------------------------------------------------- witnesses


@dataclass(frozen=True)
class LeafChoice:
    """The prover's openings: ``slots[j] = (set, leaf index)`` per leaf slot and ``select[i]`` the leaf slot each
    set-atom slot reads."""

    slots: tuple[tuple[int, int], ...]
    select: tuple[int, ...]


def choose_universal_leaves(universal: UniversalProgram, record: PatientRecord, today: int | _dt.date) -> LeafChoice:
    """The leaves a proof opens: one per leaf group (:func:`~zkhealth.eligibility.universal_program.leaf_groups`)
    holding an atom; the group's leaf is the one :func:`~zkhealth.eligibility.evaluate.choose_leaves` picks, and
    for a ``last`` group the last leaf with ``key <= key_hi``. Unused slots open the conditions sentinel."""
    program = universal.program
    shape = universal.shape
    chosen = choose_leaves(program, record, today)
    sets = record.sets()
    slot_of_group: dict[tuple[object, ...], int] = {}
    slots: list[tuple[int, int]] = []
    select = [0] * shape.atom_slots
    for index, atom in enumerate(program.atoms):
        key = universal.leaf_keys[index]
        atom_slot = universal.atom_slot_of[index]
        if not isinstance(atom, SetAtom) or key is None or atom_slot is None:
            continue
        if key not in slot_of_group:
            if key[0] == "last":
                leaf_index = sets[atom.set_name].last_at_most(atom.key_hi)
            else:
                picked = chosen[index]
                leaf_index = 0 if picked is None else picked
            slot_of_group[key] = len(slots)
            slots.append((atom.set, leaf_index))
        select[atom_slot] = slot_of_group[key]
    if len(slots) > shape.leaf_slots:
        raise EligibilityError("internal: more leaves than leaf slots for a program that fits")
    slots += [(0, 0)] * (shape.leaf_slots - len(slots))
    return LeafChoice(tuple(slots), tuple(select))


def _leaf_values(universal: UniversalProgram, record: PatientRecord, choice: LeafChoice) -> dict[str, Any]:
    shape = universal.shape
    sets = record.sets()
    names = ("conditions", "medications", "procedures", "observations")
    inputs: dict[str, Any] = {}
    for j, (set_index, leaf_index) in enumerate(choice.slots):
        tree = sets[names[set_index]]
        proof = tree.proof(leaf_index)
        inputs[f"leaf{j}_set"] = set_index
        inputs[f"leaf{j}_fields"] = list(tree.leaves[leaf_index].fields())
        inputs[f"leaf{j}_siblings"] = list(proof.flat_siblings)
        inputs[f"leaf{j}_path"] = list(proof.path_bits)
    for i in range(shape.atom_slots):
        inputs[f"atom{i}_select"] = [int(j == choice.select[i]) for j in range(shape.leaf_slots)]
    return inputs


def universal_criteria_inputs(universal: UniversalProgram, credential: RecordCredential, today: int | _dt.date,
                              choice: LeafChoice | None = None) -> dict[str, Any]:
    """Solver inputs of :func:`universal_criteria_circuit` (the leaves of :func:`choose_universal_leaves` unless
    ``choice`` is given)."""
    today_ord, _ = today_values(today)
    picked = choice if choice is not None else choose_universal_leaves(universal, credential.record, today)
    inputs: dict[str, Any] = {"today": today_ord - CLINICAL_DATE_OFFSET, "header": credential.header(),
                              "program": list(universal.words)}
    inputs.update(_leaf_values(universal, credential.record, picked))
    return inputs


def _field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise EligibilityError(f"{what} must be a field element (an int in [0, r))")
    return value


def universal_inputs(
    universal: UniversalProgram,
    credential: RecordCredential,
    signature: Signature,
    *,
    holder_secret: int,
    today: int | _dt.date,
    recipient: int,
    scope: int,
    issuer: IssuerMembership,
    revocation: NonMembershipProof,
    person: PersonMembership | None = None,
    person_root: int | None = None,
) -> dict[str, Any]:
    """The solver inputs of the universal circuit for ``universal`` (arguments as
    :func:`~zkhealth.eligibility.dedicated.dedicated_inputs`). Checks shapes only; whether the values satisfy
    the circuit is the solver's verdict."""
    if not isinstance(universal, UniversalProgram):
        raise EligibilityError("universal_inputs needs a UniversalProgram (fit_program)")
    if not isinstance(credential, RecordCredential) or not isinstance(signature, Signature):
        raise EligibilityError("a RecordCredential and its eddsa_poseidon.Signature are required")
    if not isinstance(issuer, IssuerMembership) or issuer.proof.depth != ISSUER_REGISTRY_DEPTH:
        raise EligibilityError(f"issuer must be an IssuerMembership of depth {ISSUER_REGISTRY_DEPTH}")
    if not isinstance(revocation, NonMembershipProof) or revocation.merkle.depth != REVOCATION_TREE_DEPTH:
        raise EligibilityError(f"revocation must be a NonMembershipProof of depth {REVOCATION_TREE_DEPTH}")
    if isinstance(recipient, bool) or not isinstance(recipient, int) or not 0 <= recipient < _RECIPIENT_BOUND:
        raise EligibilityError("recipient must be a 160-bit address as an int")
    from zkhealth.credentials.trust import empty_person_root, trust_root

    # A dict display, not dict.update(): the G6 check (no hashing of proof material) reads update() as hashing.
    inputs: dict[str, Any] = {
        **universal_criteria_inputs(universal, credential, today),
        "program_hash": universal.program_hash,
        "scope": _field(scope, "scope"),
        "recipient": recipient,
        "signature_r8x": _field(signature.R8[0], "signature R8x"),
        "signature_r8y": _field(signature.R8[1], "signature R8y"),
        "signature_s": _field(signature.S, "signature S"),
        "holder_secret": _field(holder_secret, "holder_secret"),
        "issuer_revocation_root": _field(issuer.revocation_root, "revocation root"),
        "issuer_siblings": list(issuer.proof.flat_siblings),
        "issuer_path_bits": list(issuer.proof.path_bits),
        "revocation_low_value": revocation.low_value,
        "revocation_next_value": revocation.next_value,
        "revocation_siblings": list(revocation.merkle.flat_siblings),
        "revocation_path_bits": list(revocation.merkle.path_bits),
    }
    if universal.program.policy.one_per_person:
        if not isinstance(person, PersonMembership) or person.proof.depth != PERSON_REGISTRY_DEPTH:
            raise EligibilityError("a one-per-person trial needs the holder's person-registry membership")
        inputs["person_registered_day"] = person.registered_day
        inputs["person_siblings"] = list(person.proof.flat_siblings)
        inputs["person_path_bits"] = list(person.proof.path_bits)
        chosen_person_root = person.proof.compute_root()
        inputs["person_root"] = 0
    else:
        chosen_person_root = empty_person_root() if person_root is None else _field(person_root, "person_root")
        inputs["person_registered_day"] = 0
        inputs["person_siblings"] = [0] * (3 * PERSON_REGISTRY_DEPTH)
        inputs["person_path_bits"] = [0] * (2 * PERSON_REGISTRY_DEPTH)
        inputs["person_root"] = chosen_person_root
    inputs["trust_root"] = trust_root(issuer.proof.compute_root(), chosen_person_root)
    return inputs
