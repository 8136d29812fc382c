"""The dedicated eligibility circuit of schema version 2: one criteria program compiled into one circuit.

It proves, for a version-2 credential (header ``h``, record.py) held privately:

1. ``h[0], h[1]`` are the schema id and version 2 (constants);
2. the issuer's EdDSA-Poseidon signature ``(R8, S)`` over ``poseidon([poseidon(h[0:16]), poseidon(h[16:20])])``
   verifies under ``A = (h[4], h[5])``;
3. ``poseidon([Ax, Ay, revocation_root])`` is a leaf of the issuer registry (depth 5), where
   ``revocation_root`` is the root of that issuer's own revocation tree;
4. ``credential_id = h[2]`` is absent from that revocation tree (indexed tree, depth 16);
5. ``trust_root = poseidon([issuer_registry_root, person_registry_root])``, the one public root;
6. one per person (a trial setting compiled in): ``poseidon([subject_commitment, registered_day])`` is a leaf
   of the person registry (depth 12) with ``registered_day < opened_day``; otherwise the person root is a
   free private input that only enters the trust root;
7. ``issued_at <= today < expires_at`` (32 bits);
8. ``poseidon([holder_secret]) == subject_commitment = h[3]``;
9. the criteria program holds (:mod:`.program`): each set atom opens one leaf of the set whose root is in
   the header and proves its mode; header atoms compare header fields; LAST and NONE_OR_LAST atoms hold only
   on a complete record no older than the program's ``max_record_age_days``; the monotone combination is
   compiled directly (atoms that are whole top-level clauses are asserted, the others are booleans);
10. ``nullifier = poseidon([holder_secret, scope])``; ``recipient`` enters ``recipient * recipient``.

Public signals, in order: ``[nullifier, scope, today, trust_root, recipient]`` (the nullifier is the output).

The holder secret is not range-checked: it only enters Poseidon, whose inputs are field elements, so
``subject_commitment`` determines it (collision resistance) and there is no ``secret + r`` alias (that aliasing,
docs/security.md C9, arises when a secret is a curve scalar).
Constraint labels are ``eligibility/<part>/...`` with parts ``schema``, ``signature``, ``issuer``,
``revocation``, ``person``, ``trust``, ``validity``, ``holder``, ``criteria/atom<i> <clause>``,
``criteria/combine``, ``nullifier``, ``recipient``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any, Final

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.basic import ensure_bool
from zkhealth.circuit.gadgets.bits import range_check
from zkhealth.circuit.gadgets.comparators import (
    assert_less_eq,
    assert_less_than,
    greater_eq,
    less_eq,
    less_than,
)
from zkhealth.circuit.gadgets.merkle import (
    quaternary_merkle_root,
)
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.gadgets.sorted_set import (
    FieldBound,
    SetLeafSignals,
    assert_set_atom,
    assert_set_member,
    set_atom,
)
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.credentials.dates import CLINICAL_DATE_OFFSET, DATE_BITS
from zkhealth.credentials.record import HEADER_INDEX, HEADER_LENGTH, RecordCredential
from zkhealth.credentials.sorted_set import DATE_FIELD_BITS, SET_DEPTH
from zkhealth.credentials.trees import ISSUER_REGISTRY_DEPTH, REVOCATION_TREE_DEPTH, NonMembershipProof
from zkhealth.credentials.trust import PERSON_REGISTRY_DEPTH, IssuerMembership, PersonMembership
from zkhealth.eligibility.calendar import YEAR_SPAN, civil_date
from zkhealth.eligibility.credential_core import (
    assert_credential,
    assert_valid_and_held,
    bind_proof,
    declare_credential_inputs,
    header_message,
)
from zkhealth.eligibility.evaluate import choose_leaves, today_values
from zkhealth.eligibility.program import (
    ANY,
    DATE_ABSOLUTE,
    DATE_TODAY_ORD,
    DateBound,
    Formula,
    Gate,
    HeaderAtom,
    Leaf,
    Program,
    SetAtom,
    leaf_owners,
)
from zkhealth.errors import CircuitDefinitionError, EligibilityError
from zkhealth.field import FIELD_R
from zkhealth.signature.eddsa_poseidon import Signature

__all__ = [
    "CIRCUIT_NAME",
    "PUBLIC_SIGNALS",
    "asserted_atoms",
    "compile_dedicated_circuit",
    "criteria_circuit",
    "criteria_inputs",
    "dedicated_circuit",
    "dedicated_inputs",
]

CIRCUIT_NAME: Final[str] = "eligibility"
#: The public signals, in wire order.
PUBLIC_SIGNALS: Final[tuple[str, ...]] = ("nullifier", "scope", "today", "trust_root", "recipient")
_RECIPIENT_BOUND: Final[int] = 1 << 160
#: Width of ``birth_date_packed + 384 * years`` (years <= 201).
_AGE_BITS: Final[int] = 23
_HEADER_WIDTH: Final[dict[str, int]] = {
    "gender": 3, "research_consent": 1, "record_complete": 1, "birth_date": DATE_FIELD_BITS,
    "record_as_of": DATE_FIELD_BITS,
}


def _h(name: str) -> int:
    return HEADER_INDEX[name]


def asserted_atoms(program: Program) -> frozenset[int]:
    """Atoms the circuit asserts (a whole top-level clause of an AND, used nowhere else); the others are
    computed as booleans and combined."""
    uses: dict[int, int] = {}

    def walk(node: Formula) -> None:
        if isinstance(node, Leaf):
            uses[node.atom] = uses.get(node.atom, 0) + 1
            return
        for child in node.children:
            walk(child)

    walk(program.root)
    root = program.root
    top: list[int] = []
    if root.is_and or len(root.children) == 1:
        top = [child.atom for child in root.children if isinstance(child, Leaf)]
    return frozenset(i for i in top if uses.get(i) == 1)


class _Criteria:
    """Compiles a program's atoms and combination into constraints."""

    def __init__(self, b: Builder, program: Program, header: Sequence[Signal], today: Signal,
                 leaves: dict[int, SetLeafSignals]) -> None:
        self.b = b
        self.program = program
        self.header = header
        self.today = today
        self.leaves = leaves
        self.asserted = asserted_atoms(program)
        self._today_ord: Signal | None = None
        self._today_packed: Signal | None = None
        self._fresh: Signal | None = None
        self._values: dict[int, Signal] = {}

    # ------------------------------------------------------------------ shared values

    def today_ord(self) -> Signal:
        if self._today_ord is None:
            with self.b.scope("today"):
                ordinal = self.today + CLINICAL_DATE_OFFSET
                range_check(self.b, ordinal, DATE_FIELD_BITS)
            self._today_ord = ordinal
        return self._today_ord

    def today_packed(self) -> Signal:
        if self._today_packed is None:
            with self.b.scope("today"):
                self._today_packed = civil_date(self.b, self.today_ord()).packed
        return self._today_packed

    def header_field(self, name: str, bits: int) -> Signal:
        signal = self.header[_h(name)]
        with self.b.scope("ranges"):
            range_check(self.b, signal, bits)
        return signal

    def bound(self, bound: DateBound) -> SignalLike:
        if bound.kind == DATE_ABSOLUTE:
            return bound.value
        if bound.kind == DATE_TODAY_ORD:
            return self.today_ord() - bound.value
        return self.today_packed() - bound.value

    def fresh_record(self, *, assert_it: bool) -> Signal | None:
        """``record_complete == 1`` and ``record_as_of >= today_ord - max_record_age_days``."""
        b = self.b
        complete = self.header[_h("record_complete")]
        as_of = self.header_field("record_as_of", DATE_FIELD_BITS)
        oldest = self.today_ord() - self.program.policy.max_record_age_days
        with b.scope("complete_record"):
            if assert_it:
                b.assert_equal(complete, 1)
                assert_less_eq(b, oldest, as_of, bits=DATE_FIELD_BITS)
                return None
            if self._fresh is None:
                ensure_bool(b, complete)
                recent = less_eq(b, oldest, as_of, bits=DATE_FIELD_BITS)
                self._fresh = b.mul(complete, recent)
                b.note_range(self._fresh, 1)
            return self._fresh

    # ------------------------------------------------------------------ atoms

    def set_bounds(self, atom: SetAtom) -> list[FieldBound]:
        out: list[FieldBound] = []
        for name, lo, hi in (("a", atom.a_lo, atom.a_hi), ("b", atom.b_lo, atom.b_hi)):
            for bound, is_lo in ((lo, True), (hi, False)):
                if bound is None:
                    continue
                field = name + ("_packed" if bound.packed else "_ord")
                value = self.bound(bound)
                out.append(FieldBound(field, lo=value) if is_lo else FieldBound(field, hi=value))
        if atom.value_lo is not None or atom.value_hi is not None:
            out.append(FieldBound("value", atom.value_lo, atom.value_hi))
        if atom.status_lo is not None or atom.status_hi is not None:
            out.append(FieldBound("status", atom.status_lo, atom.status_hi))
        return out

    def assert_atom(self, index: int) -> None:
        atom = self.program.atoms[index]
        b = self.b
        with b.scope(f"atom{index}"):
            if isinstance(atom, HeaderAtom):
                self.header_atom(atom, assert_it=True)
                return
            after = self.leaves[atom.after].key if atom.after is not None else None
            if atom.mode != ANY:
                self.fresh_record(assert_it=True)
            assert_set_atom(b, self.leaves[index], mode=atom.mode, key_lo=atom.key_lo, key_hi=atom.key_hi,
                            bounds=self.set_bounds(atom), after=after)

    def value(self, index: int) -> Signal:
        cached = self._values.get(index)
        if cached is not None:
            return cached
        atom = self.program.atoms[index]
        b = self.b
        with b.scope(f"atom{index}"):
            if isinstance(atom, HeaderAtom):
                out = self.header_atom(atom, assert_it=False)
            else:
                after = self.leaves[atom.after].key if atom.after is not None else None
                out = set_atom(b, self.leaves[index], mode=atom.mode, key_lo=atom.key_lo, key_hi=atom.key_hi,
                               bounds=self.set_bounds(atom), after=after)
                if atom.mode != ANY:
                    fresh = self.fresh_record(assert_it=False)
                    if fresh is None:
                        raise CircuitDefinitionError("internal: freshness missing")
                    out = b.mul(out, fresh)
                    b.note_range(out, 1)
        if out is None:
            raise CircuitDefinitionError("internal: header atom without a value")
        self._values[index] = out
        return out

    def header_atom(self, atom: HeaderAtom, *, assert_it: bool) -> Signal | None:
        """``lo <= field <= hi`` (module docstring of program.py); asserted, or a boolean."""
        b = self.b
        checks: list[tuple[SignalLike, SignalLike, int, bool]] = []  # (x, y, bits, strict): x <= y or x < y
        if atom.field == "age":
            birth = self.header_field("birth_date_packed", DATE_FIELD_BITS)
            today = self.today_packed()
            if atom.lo is not None:
                checks.append((birth + YEAR_SPAN * atom.lo, today, _AGE_BITS, False))
            if atom.hi is not None:
                checks.append((today, birth + YEAR_SPAN * (atom.hi + 1), _AGE_BITS, True))
        elif atom.field == "record_age_days":
            as_of = self.header_field("record_as_of", DATE_FIELD_BITS)
            if atom.hi is not None:
                checks.append((self.today_ord() - atom.hi, as_of, DATE_FIELD_BITS, False))
            if atom.lo is not None:
                checks.append((as_of, self.today_ord() - atom.lo, DATE_FIELD_BITS, False))
        else:
            bits = _HEADER_WIDTH[atom.field]
            value = self.header_field(atom.field, bits)
            if atom.lo is not None:
                checks.append((atom.lo, value, bits, False))
            if atom.hi is not None:
                checks.append((value, atom.hi, bits, False))
        if assert_it:
            for x, y, bits, strict in checks:
                (assert_less_than if strict else assert_less_eq)(b, x, y, bits=bits)
            return None
        parts = [(less_than if strict else less_eq)(b, x, y, bits=bits) for x, y, bits, strict in checks]
        if not parts:
            return b.constant(1)
        out = parts[0]
        for part in parts[1:]:
            out = b.mul(out, part)
            b.note_range(out, 1)
        return out

    # ------------------------------------------------------------------ combination

    def gate_value(self, node: Formula) -> Signal:
        if isinstance(node, Leaf):
            return self.value(node.atom)
        values = [self.gate_value(child) for child in node.children]
        b = self.b
        with b.scope("combine"):
            if node.is_and:
                out = values[0]
                for value in values[1:]:
                    out = b.mul(out, value)
                    b.note_range(out, 1)
                return out
            if node.threshold == 1:
                none = 1 - values[0]
                for value in values[1:]:
                    none = b.mul(none, 1 - value)
                out = 1 - none
                b.note_range(out, 1)
                return out
            total = b.linear_combination(values, [1] * len(values))
            return greater_eq(b, total, node.threshold, bits=len(values).bit_length())

    def assert_gate(self, node: Gate) -> None:
        b = self.b
        if node.is_and:
            for child in node.children:
                if isinstance(child, Leaf) and child.atom in self.asserted:
                    self.assert_atom(child.atom)
                elif isinstance(child, Gate):
                    self.assert_gate(child)
                else:
                    value = self.gate_value(child)
                    with b.scope("combine"):
                        b.assert_equal(value, 1)
            return
        values = [self.gate_value(child) for child in node.children]
        with b.scope("combine"):
            total = b.linear_combination(values, [1] * len(values))
            if node.threshold == 1:
                b.assert_not_equal(total, 0)  # some child holds: the sum of booleans has an inverse
            else:
                range_check(b, total - node.threshold, len(values).bit_length())

    def build(self) -> None:
        root = self.program.root
        if len(root.children) == 1 and isinstance(root.children[0], Leaf) and root.children[0].atom in self.asserted:
            self.assert_atom(root.children[0].atom)
            return
        self.assert_gate(root)


def _leaf_atoms(program: Program) -> list[int]:
    """The set atoms that open a leaf of their own (the owners of :func:`leaf_owners`)."""
    return [i for i, owner in enumerate(leaf_owners(program)) if owner == i]


def _share_leaves(program: Program, leaves: dict[int, SetLeafSignals]) -> None:
    """Point each atom that shares a leaf at its owner's leaf signals."""
    for i, owner in enumerate(leaf_owners(program)):
        if owner is not None and owner != i:
            leaves[i] = leaves[owner]


def criteria_circuit(program: Program, *, output: bool = False) -> Callable[[Builder], None]:
    """Only the criteria part of the dedicated circuit, for tests and cost reports: inputs ``today``, the
    ``header`` (20) and each set atom's leaf and path (proven against the header's set roots); output
    ``message``, the header hash the issuer signs (so every header input is bound). With ``output=True`` every
    atom is a boolean and the combination is the public output ``eligible`` instead of an assertion."""
    set_atoms = _leaf_atoms(program)

    def define(b: Builder) -> None:
        today = b.public_input("today")
        header = b.private_inputs("header", HEADER_LENGTH)
        range_check(b, today, DATE_BITS)
        leaves: dict[int, SetLeafSignals] = {}
        for i in set_atoms:
            atom = program.atoms[i]
            if not isinstance(atom, SetAtom):
                raise CircuitDefinitionError("internal: not a set atom")
            fields = b.private_inputs(f"atom{i}_leaf", 8)
            flat = b.private_inputs(f"atom{i}_siblings", 3 * SET_DEPTH)
            bits = b.private_inputs(f"atom{i}_path", 2 * SET_DEPTH)
            with b.scope(f"atom{i}"):
                root = header[_h("conditions_root") + atom.set]
                leaves[i] = assert_set_member(b, root, fields, [flat[3 * k : 3 * k + 3] for k in range(SET_DEPTH)],
                                              bits)
        _share_leaves(program, leaves)
        b.output("message", header_message(b, header))
        criteria = _Criteria(b, program, header, today, leaves)
        if output:
            criteria.asserted = frozenset()
            b.output("eligible", criteria.gate_value(program.root))
        else:
            criteria.build()

    return define


def criteria_inputs(program: Program, credential: RecordCredential, today: int | _dt.date) -> dict[str, Any]:
    """Solver inputs of :func:`criteria_circuit` (the chosen leaves of
    :func:`~zkhealth.eligibility.evaluate.choose_leaves`)."""
    today_ord, _ = today_values(today)
    inputs: dict[str, Any] = {"today": today_ord - CLINICAL_DATE_OFFSET, "header": credential.header()}
    inputs.update(_leaf_inputs(program, credential, today))
    return inputs


def _leaf_inputs(program: Program, credential: RecordCredential, today: int | _dt.date) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    sets = credential.sets()
    owners = leaf_owners(program)
    for index, leaf_index in enumerate(choose_leaves(program, credential.record, today)):
        atom = program.atoms[index]
        if not isinstance(atom, SetAtom) or leaf_index is None or owners[index] != index:
            continue
        tree = sets[atom.set_name]
        proof = tree.proof(leaf_index)
        inputs[f"atom{index}_leaf"] = list(tree.leaves[leaf_index].fields())
        inputs[f"atom{index}_siblings"] = list(proof.flat_siblings)
        inputs[f"atom{index}_path"] = list(proof.path_bits)
    return inputs


def dedicated_circuit(program: Program) -> Callable[[Builder], None]:
    """The circuit description ``define(b)`` of the dedicated version-2 circuit for ``program``."""
    if not isinstance(program, Program):
        raise EligibilityError("dedicated_circuit needs a compiled Program")
    set_atoms = _leaf_atoms(program)
    policy = program.policy

    def define(b: Builder) -> None:
        scope = b.public_input("scope")
        today = b.public_input("today")
        trust_root = b.public_input("trust_root")
        recipient = b.public_input("recipient")

        credential = declare_credential_inputs(b)
        header = credential.header
        if policy.one_per_person:
            registered_day = b.private_input("person_registered_day")
            person_flat = b.private_inputs("person_siblings", 3 * PERSON_REGISTRY_DEPTH)
            person_bits = b.private_inputs("person_path_bits", 2 * PERSON_REGISTRY_DEPTH)
        else:
            person_root = b.private_input("person_root")
        atom_inputs = {
            i: (b.private_inputs(f"atom{i}_leaf", 8), b.private_inputs(f"atom{i}_siblings", 3 * SET_DEPTH),
                b.private_inputs(f"atom{i}_path", 2 * SET_DEPTH))
            for i in set_atoms
        }

        issuer_root = assert_credential(b, credential)
        if policy.one_per_person:
            with b.scope("person"):
                person = poseidon(b, [header[_h("subject_commitment")], registered_day])
                b.assert_not_equal(person, 0)
                triples = [person_flat[3 * k : 3 * k + 3] for k in range(PERSON_REGISTRY_DEPTH)]
                person_root = quaternary_merkle_root(b, person, triples, person_bits)
                if policy.opened_day is None:
                    raise CircuitDefinitionError("a one-per-person trial needs its opening day")
                assert_less_than(b, registered_day, policy.opened_day, bits=DATE_BITS)
        with b.scope("trust"):
            b.assert_equal(poseidon(b, [issuer_root, person_root]), trust_root)
        assert_valid_and_held(b, credential, today)
        with b.scope("criteria"):
            leaves: dict[int, SetLeafSignals] = {}
            for i in set_atoms:
                atom = program.atoms[i]
                if not isinstance(atom, SetAtom):
                    raise CircuitDefinitionError("internal: not a set atom")
                fields, flat, bits = atom_inputs[i]
                with b.scope(f"atom{i}"):
                    root = header[_h("conditions_root") + atom.set]
                    leaves[i] = assert_set_member(b, root, fields, [flat[3 * k : 3 * k + 3] for k in range(SET_DEPTH)],
                                                  bits)
            _share_leaves(program, leaves)
            _Criteria(b, program, header, today, leaves).build()
        bind_proof(b, credential, scope, recipient)

    return define


def compile_dedicated_circuit(program: Program) -> CompiledCircuit:
    """Compile the dedicated version-2 circuit (lints on). Cost: about 1-3 s for a trial of 8 criteria."""
    return compile(dedicated_circuit(program), name=CIRCUIT_NAME)


def _field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_R:
        raise EligibilityError(f"{what} must be a field element (an int in [0, r))")
    return value


def dedicated_inputs(
    program: Program,
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
    """The solver inputs of the dedicated circuit for ``program``.

    ``issuer``: the issuer's revocation root and registry path (:class:`~zkhealth.credentials.trust.TrustedIssuers`);
    ``revocation``: the credential's non-membership proof in that issuer's revocation tree; ``person``: the
    person-registry leaf (one-per-person programs) or else ``person_root`` (the registry root the trust root
    was published with; default: the empty registry's). Leaves are chosen by
    :func:`~zkhealth.eligibility.evaluate.choose_leaves`. Checks shapes only; whether the values satisfy the
    circuit is the solver's verdict.
    """
    if not isinstance(credential, RecordCredential) or not isinstance(signature, Signature):
        raise EligibilityError("a RecordCredential and its eddsa_poseidon.Signature are required")
    if not isinstance(issuer, IssuerMembership) or issuer.proof.depth != ISSUER_REGISTRY_DEPTH:
        raise EligibilityError(f"issuer must be an IssuerMembership of depth {ISSUER_REGISTRY_DEPTH}")
    if not isinstance(revocation, NonMembershipProof) or revocation.merkle.depth != REVOCATION_TREE_DEPTH:
        raise EligibilityError(f"revocation must be a NonMembershipProof of depth {REVOCATION_TREE_DEPTH}")
    if isinstance(recipient, bool) or not isinstance(recipient, int) or not 0 <= recipient < _RECIPIENT_BOUND:
        raise EligibilityError("recipient must be a 160-bit address as an int")
    today_ord, _ = today_values(today)
    inputs: dict[str, Any] = {
        "scope": _field(scope, "scope"),
        "today": today_ord - CLINICAL_DATE_OFFSET,
        "recipient": recipient,
        "header": credential.header(),
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
    from zkhealth.credentials.trust import empty_person_root, trust_root

    if program.policy.one_per_person:
        if not isinstance(person, PersonMembership) or person.proof.depth != PERSON_REGISTRY_DEPTH:
            raise EligibilityError("a one-per-person trial needs the holder's person-registry membership")
        inputs["person_registered_day"] = person.registered_day
        inputs["person_siblings"] = list(person.proof.flat_siblings)
        inputs["person_path_bits"] = list(person.proof.path_bits)
        chosen_person_root = person.proof.compute_root()
    else:
        chosen_person_root = empty_person_root() if person_root is None else _field(person_root, "person_root")
        inputs["person_root"] = chosen_person_root
    inputs["trust_root"] = trust_root(issuer.proof.compute_root(), chosen_person_root)
    inputs.update(_leaf_inputs(program, credential, today))
    return inputs
