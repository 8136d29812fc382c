"""Sorted-set gadgets (zkhealth.circuit.gadgets.sorted_set) against their native twins, with adversarial
witnesses: a forged neighbour, an older value claimed as the latest, "no code in [a, b]" when the set has
one, reordered and duplicated leaves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkhealth.circuit import Builder, CompiledCircuit, compile
from zkhealth.circuit.gadgets.sorted_set import (
    ANY,
    LAST,
    LEAF_WIDTHS,
    NONE_OR_LAST,
    FieldBound,
    SetLeafSignals,
    assert_set_atom,
    assert_set_member,
    set_atom,
    set_atom_native,
    set_atom_selected,
    set_leaf_hash,
    set_leaf_hash_native,
    set_member_native,
)
from zkhealth.credentials.sorted_set import LEAF_FIELDS, SetLeaf, SortedSet, make_key
from zkhealth.errors import CircuitDefinitionError, WitnessError
from zkhealth.field import FIELD_R
from zkhealth.testing import ConstraintCountSnapshot

pytestmark = pytest.mark.witness

CODE = 4548
KEY_LO, KEY_HI = make_key(1, CODE, 0, 0), make_key(1, CODE, (1 << 22) - 1, 255)
DAY = dt.date(2025, 1, 1).toordinal()


def _items(days_values: list[tuple[int, int]], neighbours: bool = True) -> list[tuple[int, ...]]:
    items = [(make_key(1, CODE, DAY + day, 0), DAY + day, 0, DAY + day, 0, value, 1) for day, value in days_values]
    if neighbours:
        items.append((make_key(1, CODE - 1, DAY, 0), DAY, 0, DAY, 0, 5, 1))
        items.append((make_key(1, CODE + 1, DAY, 0), DAY, 0, DAY, 0, 5, 1))
    return items


def _set(days_values: list[tuple[int, int]], neighbours: bool = True) -> SortedSet:
    return SortedSet("observations", _items(days_values, neighbours))


def atom_circuit(mode: int, *, asserting: bool, value_lo: bool = True) -> Callable[[Builder], None]:
    """One member leaf, one atom on the code CODE, with ``value >= bound`` (``bound`` a private input)."""

    def define(b: Builder) -> None:
        root = b.public_input("root")
        fields = b.private_inputs("fields", 8)
        siblings = b.private_inputs("siblings", 18)
        bits = b.private_inputs("path", 12)
        bound = b.private_input("bound")
        leaf = assert_set_member(b, root, fields, [siblings[3 * i : 3 * i + 3] for i in range(6)], bits)
        bounds = [FieldBound("value", lo=bound)] if value_lo else []
        if asserting:
            assert_set_atom(b, leaf, mode=mode, key_lo=KEY_LO, key_hi=KEY_HI, bounds=bounds)
        else:
            b.output("holds", set_atom(b, leaf, mode=mode, key_lo=KEY_LO, key_hi=KEY_HI, bounds=bounds))

    return define


def inputs(tree: SortedSet, index: int, bound: int, **overrides: Any) -> dict[str, Any]:
    proof = tree.proof(index)
    out: dict[str, Any] = {
        "root": tree.root,
        "fields": list(tree.leaves[index].fields()),
        "siblings": list(proof.flat_siblings),
        "path": list(proof.path_bits),
        "bound": bound,
    }
    out.update(overrides)
    return out


CIRCUITS: dict[tuple[int, bool], CompiledCircuit] = {}


def circuit(mode: int, asserting: bool) -> CompiledCircuit:
    if (mode, asserting) not in CIRCUITS:
        CIRCUITS[(mode, asserting)] = compile(atom_circuit(mode, asserting=asserting))
    return CIRCUITS[(mode, asserting)]


def test_leaf_layout_matches_the_credentials_schema() -> None:
    assert LEAF_WIDTHS == LEAF_FIELDS


def test_pinned_counts(constraint_counts: ConstraintCountSnapshot) -> None:
    snapshot = constraint_counts

    def leaf_hash(b: Builder) -> None:
        b.output("leaf", set_leaf_hash(b, b.private_inputs("fields", 8)))

    def member(b: Builder) -> None:
        root = b.public_input("root")
        siblings = b.private_inputs("siblings", 18)
        assert_set_member(b, root, b.private_inputs("fields", 8), [siblings[3 * i : 3 * i + 3] for i in range(6)],
                          b.private_inputs("path", 12))

    snapshot.check("set_leaf", "8 fields", compile(leaf_hash), description="Poseidon of 8 (t = 9)")
    snapshot.check("assert_set_member", "depth=6", compile(member),
                   description="set_leaf 402 + quaternary inclusion at depth 6 (1,825)")
    member_cost = 2227
    for mode, name in ((ANY, "ANY"), (LAST, "LAST"), (NONE_OR_LAST, "NONE_OR_LAST")):
        for asserting in (False, True):
            compiled = compile(atom_circuit(mode, asserting=asserting))
            gadget = "assert_set_atom" if asserting else "set_atom"
            snapshot.check(gadget, f"{name},value>=input", compiled.r1cs.n_constraints - member_cost,
                           description="the atom alone (membership subtracted), one 32-bit value bound fed by "
                                       "a fresh input" + ("" if asserting else " (+1 output row)"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 1000)), max_size=4, unique_by=lambda x: x[0]),
       st.integers(0, 1000), st.booleans(), st.sampled_from([ANY, LAST, NONE_OR_LAST]))
def test_boolean_atom_matches_native_on_every_leaf(days_values: list[tuple[int, int]], bound: int,
                                                   neighbours: bool, mode: int) -> None:
    tree = _set(days_values, neighbours)
    compiled = circuit(mode, asserting=False)
    for index, leaf in enumerate(tree.leaves):
        expected = set_atom_native(leaf.fields(), mode=mode, key_lo=KEY_LO, key_hi=KEY_HI,
                                   bounds=[("value", bound, None)])
        witness = compiled.solve_witness(inputs(tree, index, bound))
        assert compiled.output_values(witness)["holds"] == expected


def _selected_circuit(b: Builder) -> None:
    """set_atom_selected with every switch an input (booleans checked here, as the universal circuit does)."""
    leaf = SetLeafSignals(*b.private_inputs("fields", 8))
    last, none_or_last, phi, after = b.private_inputs("flags", 4)
    for flag in (last, none_or_last, phi, after):
        b.assert_bool(flag)
    key_lo, key_hi, after_key = b.private_inputs("keys", 3)
    b.output("holds", set_atom_selected(b, leaf, last=last, none_or_last=none_or_last, key_lo=key_lo, key_hi=key_hi,
                                        phi=phi, after=after, after_key=after_key))


def test_selected_atom_matches_the_native_twin_in_every_mode() -> None:
    """The universal circuit's atom (mode, phi, after and the key range as signals) agrees with set_atom_native
    on every leaf of a set, in each mode, with phi true and false, with and without ``after``, over the code's
    range, an empty range and a range holding only the neighbours."""
    compiled = compile(_selected_circuit, lint=False)  # phi is an input: the value fields are read by no constraint
    tree = _set([(0, 70), (30, 80), (60, 90)])
    other_lo, other_hi = make_key(1, CODE - 1, 0, 0), make_key(1, CODE - 1, (1 << 22) - 1, 255)
    ranges = [(KEY_LO, KEY_HI), (other_lo, other_hi), (make_key(1, CODE + 7, 0, 0), make_key(1, CODE + 8, 0, 0))]
    seen: set[tuple[int, int]] = set()
    for leaf in tree.leaves:
        fields = list(leaf.fields())
        for mode, last, none_or_last in ((ANY, 0, 0), (LAST, 1, 0), (NONE_OR_LAST, 0, 1)):
            for phi in (0, 1):
                for after_key in (None, make_key(1, CODE, DAY + 30, 0)):
                    for key_lo, key_hi in ranges:
                        expected = set_atom_native(
                            fields, mode=mode, key_lo=key_lo, key_hi=key_hi,
                            bounds=[] if phi else [("value", 1, 0)],
                            after=after_key if mode == ANY else None,
                        )
                        values = {"fields": fields, "flags": [last, none_or_last, phi, int(after_key is not None)],
                                  "keys": [key_lo, key_hi, after_key or 0]}
                        got = compiled.output_values(compiled.solve_witness(values))["holds"]
                        assert got == expected, (mode, phi, after_key, key_lo, fields)
                        seen.add((mode, expected))
    assert seen == {(mode, value) for mode in (ANY, LAST, NONE_OR_LAST) for value in (0, 1)}


def _solves(compiled: CompiledCircuit, values: dict[str, Any]) -> bool:
    try:
        compiled.solve_witness(values)
    except WitnessError:
        return False
    return True


def test_asserting_atoms_accept_exactly_the_true_leaves() -> None:
    tree = _set([(10, 700), (200, 900), (300, 650)])
    for mode in (ANY, LAST, NONE_OR_LAST):
        compiled = circuit(mode, asserting=True)
        for index, leaf in enumerate(tree.leaves):
            for bound in (600, 680, 800, 950):
                expected = set_atom_native(leaf.fields(), mode=mode, key_lo=KEY_LO, key_hi=KEY_HI,
                                           bounds=[("value", bound, None)])
                assert _solves(compiled, inputs(tree, index, bound)) == bool(expected), (mode, index, bound)


def test_an_older_value_cannot_pass_as_the_latest() -> None:
    tree = _set([(10, 900), (300, 650)])  # latest value 6.50, an older 9.00
    older = next(i for i, leaf in enumerate(tree.leaves) if leaf.value == 900)
    compiled = circuit(LAST, asserting=True)
    assert not _solves(compiled, inputs(tree, older, 800))  # "latest >= 8.00" with the older leaf
    # Forging its next_key (to claim it is last) breaks membership.
    forged = list(tree.leaves[older].fields())
    forged[1] = 0
    assert not _solves(compiled, inputs(tree, older, 800, fields=forged))
    booleans = circuit(LAST, asserting=False)
    assert booleans.output_values(booleans.solve_witness(inputs(tree, older, 800)))["holds"] == 0


def test_no_code_in_range_cannot_be_claimed_when_one_is_recorded() -> None:
    tree = _set([(50, 700)])
    compiled = compile(_none_circuit)
    low = tree.last_at_most(KEY_LO - 1)  # the low neighbour: below the range, but its successor is in it
    for index in range(len(tree.leaves)):
        assert not _solves(compiled, inputs(tree, index, 0))
    forged = list(tree.leaves[low].fields())
    forged[1] = KEY_HI + 1  # skip the recorded item
    assert not _solves(compiled, inputs(tree, low, 0, fields=forged))
    empty = _set([])
    assert _solves(compiled, inputs(empty, empty.last_at_most(KEY_HI), 0))


def _none_circuit(b: Builder) -> None:
    root = b.public_input("root")
    fields = b.private_inputs("fields", 8)
    siblings = b.private_inputs("siblings", 18)
    bits = b.private_inputs("path", 12)
    bound = b.private_input("bound")
    leaf = assert_set_member(b, root, fields, [siblings[3 * i : 3 * i + 3] for i in range(6)], bits)
    assert_set_atom(b, leaf, mode=NONE_OR_LAST, key_lo=KEY_LO, key_hi=KEY_HI,
                    bounds=[FieldBound("value", 1, 0)])
    b.assert_equal(bound, 0)  # the harness's unused input, pinned


def test_reordered_or_misplaced_leaves_are_not_members() -> None:
    tree = _set([(10, 700), (200, 900)])
    compiled = circuit(ANY, asserting=True)
    good = inputs(tree, 1, 0)
    # The same leaf opened at another index (its neighbour's path): the root differs.
    moved = inputs(tree, 2, 0, fields=good["fields"])
    assert not _solves(compiled, moved)
    # A non-boolean path "bit" would mix children; it is refused.
    bad_bits = list(good["path"])
    bad_bits[0] = 2
    assert not _solves(compiled, dict(good, path=bad_bits))
    # A field moved by r is not a field element: refused before any constraint.
    shifted = list(good["fields"])
    shifted[6] = shifted[6] + FIELD_R
    with pytest.raises((WitnessError, ValueError)):
        compiled.solve_witness(dict(good, fields=shifted))
    proof = tree.proof(1)
    assert set_member_native(tree.root, tree.leaves[1].fields(), proof.siblings, proof.path_bits)
    assert not set_member_native(tree.root, tree.leaves[2].fields(), proof.siblings, proof.path_bits)


def test_duplicated_leaf_cannot_count_twice() -> None:
    def define(b: Builder) -> None:
        root = b.public_input("root")
        leaves = []
        for n in range(2):
            fields = b.private_inputs(f"fields{n}", 8)
            siblings = b.private_inputs(f"siblings{n}", 18)
            leaves.append(assert_set_member(b, root, fields, [siblings[3 * i : 3 * i + 3] for i in range(6)],
                                            b.private_inputs(f"path{n}", 12)))
        assert_set_atom(b, leaves[0], mode=ANY, key_lo=KEY_LO, key_hi=KEY_HI)
        assert_set_atom(b, leaves[1], mode=ANY, key_lo=KEY_LO, key_hi=KEY_HI, after=leaves[0].key)

    compiled = compile(define)
    tree = _set([(10, 700), (200, 900)])
    first, second = tree.in_range(KEY_LO, KEY_HI)

    def values(i: int, j: int) -> dict[str, Any]:
        p, q = tree.proof(i), tree.proof(j)
        return {"root": tree.root, "fields0": list(tree.leaves[i].fields()), "siblings0": list(p.flat_siblings),
                "path0": list(p.path_bits), "fields1": list(tree.leaves[j].fields()),
                "siblings1": list(q.flat_siblings), "path1": list(q.path_bits)}

    assert _solves(compiled, values(first, second))
    assert not _solves(compiled, values(first, first))  # the same item twice
    assert not _solves(compiled, values(second, first))  # out of order
    single = _set([(10, 700)])
    only = single.in_range(KEY_LO, KEY_HI)[0]
    p = single.proof(only)
    assert not _solves(compiled, {"root": single.root, "fields0": list(single.leaves[only].fields()),
                                  "siblings0": list(p.flat_siblings), "path0": list(p.path_bits),
                                  "fields1": list(single.leaves[only].fields()),
                                  "siblings1": list(p.flat_siblings), "path1": list(p.path_bits)})


def test_fields_and_keys_at_their_full_width() -> None:
    """An ongoing entry (``b = MAX_DATE``, all 22 bits) under an upper date bound, and chained keys of tag 15
    (at least 2^93): each comparison reads its operands' whole declared width."""
    max_date = (1 << 22) - 1
    key_lo, key_hi = make_key(15, CODE, 0, 0), make_key(15, CODE, max_date, 255)
    key = make_key(15, CODE, max_date - 5, 3)
    assert key >= 1 << 93

    def define(b: Builder) -> None:
        leaf = SetLeafSignals(*b.private_inputs("fields", 8))
        bounds = [FieldBound("b_ord", hi=b.private_input("hi"))]
        b.output("holds", set_atom(b, leaf, mode=ANY, key_lo=key_lo, key_hi=key_hi, bounds=bounds,
                                   after=b.private_input("after")))

    compiled = compile(define, lint=False)  # fields outside the atom stay unread
    fields = [key, 0, DAY, 0, max_date, max_date, 7, 1]
    for hi in (max_date, max_date - 1):
        for after in (key - 1, key, make_key(15, CODE, 0, 0)):
            expected = set_atom_native(fields, mode=ANY, key_lo=key_lo, key_hi=key_hi,
                                       bounds=[("b_ord", None, hi)], after=after)
            witness = compiled.solve_witness({"fields": fields, "hi": hi, "after": after})
            assert compiled.output_values(witness)["holds"] == expected
            assert expected == int(hi == max_date and after < key)


def test_asserting_atoms_at_the_full_width() -> None:
    """The asserting forms on the same widest values: ``key - after - 1`` and ``key_lo - 1 - key`` at least
    2^93, an ongoing ``b = MAX_DATE`` under an upper bound."""
    max_date = (1 << 22) - 1
    key_lo, key_hi = make_key(15, CODE, 0, 0), make_key(15, CODE, max_date, 255)
    key = make_key(15, CODE, max_date - 5, 3)

    def chained(b: Builder) -> None:
        leaf = SetLeafSignals(*b.private_inputs("fields", 8))
        assert_set_atom(b, leaf, mode=ANY, key_lo=key_lo, key_hi=key_hi,
                        bounds=[FieldBound("b_ord", hi=b.private_input("hi"))], after=b.private_input("after"))

    def none(b: Builder) -> None:
        leaf = SetLeafSignals(*b.private_inputs("fields", 8))
        assert_set_atom(b, leaf, mode=NONE_OR_LAST, key_lo=key_lo, key_hi=key_hi,
                        bounds=[FieldBound("value", lo=1, hi=0)])

    compiled = compile(chained, lint=False)
    fields = [key, 0, DAY, 0, max_date, max_date, 7, 1]
    assert _solves(compiled, {"fields": fields, "hi": max_date, "after": 0})
    assert not _solves(compiled, {"fields": fields, "hi": max_date - 1, "after": 0})
    assert not _solves(compiled, {"fields": fields, "hi": max_date, "after": key})
    empty = compile(none, lint=False)
    sentinel = [0, 0, 0, 0, 0, 0, 0, 0]  # the sentinel of an empty set: no item in the range
    assert _solves(empty, {"fields": sentinel})
    assert not _solves(empty, {"fields": fields})


def test_native_twins_and_definition_errors() -> None:
    leaf = SetLeaf(5, 9, 1, 2, 3, 4, 5, 6)
    assert set_leaf_hash_native(leaf.fields()) == leaf.hash()
    with pytest.raises(ValueError):
        set_atom_native([1 << 94, 0, 0, 0, 0, 0, 0, 0], mode=ANY, key_lo=1, key_hi=2)
    b = Builder()
    fields = b.private_inputs("f", 8)
    siblings = b.private_inputs("s", 18)
    member = assert_set_member(b, 1, fields, [siblings[3 * i : 3 * i + 3] for i in range(6)],
                               b.private_inputs("p", 12))
    with pytest.raises(CircuitDefinitionError):
        set_atom(b, member, mode=LAST, key_lo=1, key_hi=2, after=member.key)  # only ANY chains
    with pytest.raises(CircuitDefinitionError):
        set_atom(b, member, mode=ANY, key_lo=3, key_hi=2)
    with pytest.raises(CircuitDefinitionError):
        FieldBound("key", 1, 2)
