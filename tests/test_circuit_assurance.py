"""Circuit authors' assurance: formal uniqueness (pinned per gadget) and mutation testing.

* Known under-constraint bugs, rebuilt as small DSL circuits (security.md C1, C2, C4, C6, C7): the checker
  answers "not unique" with two witnesses the R1CS accepts, and the matching mutant of the correct gadget is
  killed by our gadget tests.
* Every gadget of ``circuit/gadgets/`` has its verdict pinned in ``verdicts.csv``; a drift fails.
* The eligibility circuit's outputs are unique with the standard gadgets assumed.
* The mutation tool finds, runs and scores mutants; ``zkhealth circuit check-unique`` and ``mutate`` work.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from zkhealth.circuit import Builder, Signal, check_unique, compile
from zkhealth.circuit.formal import (
    NOT_UNIQUE,
    PINNED_VERDICTS_PATH,
    UNIQUE,
    UNKNOWN,
    UniquenessVerdict,
    default_assumed_gadgets,
    load_verdicts,
    prove_unique,
    render_verdicts,
    verdict_row,
)
from zkhealth.circuit.gadgets import babyjubjub, catalog
from zkhealth.circuit.gadgets.comparators import less_than_unchecked
from zkhealth.circuit.gadgets.poseidon import poseidon
from zkhealth.circuit.mutation import Mutant, discover, load_equivalents, run_mutants
from zkhealth.cli import run
from zkhealth.errors import CircuitDefinitionError, UnderconstrainedError
from zkhealth.field import FIELD_R
from zkhealth.hazmat import babyjubjub as bjj
from zkhealth.testing import assert_unique

pytestmark = pytest.mark.witness
ROOT = Path(__file__).resolve().parent.parent
GADGETS = ROOT / "src" / "zkhealth" / "circuit" / "gadgets"
EXAMPLES = ROOT / "circuits" / "examples"


# --------------------------------------------------------------------------- known bugs, rebuilt


def bits_without_alias_check(b: Builder) -> None:
    """C4: 254 bits whose weighted sum is x, no check that the bits encode a value below r."""
    x = b.private_input("x")
    bits = b.hint_unconstrained(lambda v: [(v >> i) & 1 for i in range(254)], x, n_outputs=254, name="bits")
    for bit in bits:
        b.assert_bool(bit)
    b.assert_equal(b.linear_combination(bits, [1 << i for i in range(254)]), x)
    b.output("low_bit", bits[0])


def is_zero_without_second_constraint(b: Builder) -> None:
    """C6: out = 1 - x * inv, without x * out = 0."""
    x = b.private_input("x")
    (inv,) = b.hint_unconstrained(lambda v: pow(v, -1, FIELD_R) if v else 0, x, name="inverse")
    b.output("out", 1 - x * inv)


def division_with_unranged_comparator(b: Builder) -> None:
    """C2/C5: x = 10 q + rem with rem < 10 checked by a comparator whose input has no range check."""
    x = b.private_input("x")
    q, rem = b.hint_unconstrained(lambda v: [v // 10, v % 10], x, n_outputs=2, name="divmod")
    b.assert_equal(q * 10 + rem, x)
    b.assert_equal(less_than_unchecked(b, rem, 10, bits=4), 1)
    b.output("quotient", q)


def merkle_with_non_boolean_path_bits(b: Builder) -> None:
    """C7: a binary Merkle path whose position bits come from the leaf index with no boolean check."""
    leaf, index = b.private_input("leaf"), b.private_input("index")
    siblings = b.private_inputs("siblings", 2)
    bits = b.hint_unconstrained(lambda v: [v & 1, (v >> 1) & 1], index, n_outputs=2, name="path_bits")
    b.assert_equal(bits[0] + bits[1] * 2, index)
    node = b.constant(0) + leaf
    for bit, sibling in zip(bits, siblings, strict=True):
        swap = bit * (sibling - node)
        node = poseidon(b, [node + swap, sibling - swap])
    b.output("root", node)


def hint_output_no_constraint_uses(b: Builder) -> None:
    """C1: an output computed by a hint and constrained by nothing (circomlib MiMC's ``<--``)."""
    x = b.private_input("x")
    (square,) = b.hint_unconstrained(lambda v: v * v, x, name="square")
    b.output("out", square)


KNOWN_BUGS: dict[str, Callable[[Builder], None]] = {
    "to_bits without alias check": bits_without_alias_check,
    "is_zero without x*out=0": is_zero_without_second_constraint,
    "comparator without range checks": division_with_unranged_comparator,
    "Merkle path with non-boolean bits": merkle_with_non_boolean_path_bits,
    "hint output no constraint uses": hint_output_no_constraint_uses,
}


@pytest.mark.parametrize("name", sorted(KNOWN_BUGS))
def test_known_bug_is_not_unique_with_two_accepted_witnesses(name: str) -> None:
    circuit = KNOWN_BUGS[name]
    verdict = prove_unique(circuit, samples=[{"x": 25, "leaf": 7, "index": 1, "siblings": [3, 4]}], time_limit=30)
    assert verdict.verdict == NOT_UNIQUE, verdict.summary()
    assert verdict.witness_a is not None and verdict.witness_b is not None
    compiled = compile(circuit, lint=False)
    compiled.r1cs.check_witness(verdict.witness_a)
    compiled.r1cs.check_witness(verdict.witness_b)
    r1cs = compiled.r1cs
    first_input = 1 + r1cs.n_public_outputs
    last_input = first_input + r1cs.n_public_inputs + r1cs.n_private_inputs
    assert verdict.witness_a[first_input:last_input] == verdict.witness_b[first_input:last_input]
    assert verdict.witness_a != verdict.witness_b
    # Each of these bugs lets the prover change a public output.
    assert verdict.witness_a[1:first_input] != verdict.witness_b[1:first_input]
    with pytest.raises(UnderconstrainedError):
        assert_unique(circuit)


def test_alias_witnesses_are_x_and_x_plus_r() -> None:
    verdict = prove_unique(bits_without_alias_check, samples=[{"x": 1}])
    assert verdict.witness_a is not None and verdict.witness_b is not None and verdict.inputs is not None
    x = verdict.inputs["x"]
    assert isinstance(x, int) and x + FIELD_R < 2**254  # only such x have a second decomposition
    assert verdict.witness_a[1] != verdict.witness_b[1]  # the low bits of x and x + r differ (r is odd)


def test_comparator_bug_gives_a_wrapped_remainder() -> None:
    verdict = prove_unique(division_with_unranged_comparator, samples=[{"x": 25}])
    assert verdict.verdict == NOT_UNIQUE and verdict.signal == "quotient"
    assert verdict.witness_a is not None and verdict.witness_b is not None
    assert {verdict.witness_a[1], verdict.witness_b[1]} == {2, 3}  # 25 = 10*2 + 5 = 10*3 + (r - 5)


def _line(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    matches = [i + 1 for i, line in enumerate(lines) if text in line]
    assert len(matches) == 1, f"{text!r} appears {len(matches)} times in {path.name}"
    return matches[0]


#: The mutant of the correct gadget that matches each known bug, and the tests that must kill it.
MATCHING_MUTANTS: dict[str, tuple[str, str, str, list[str]]] = {
    "to_bits without alias check": (
        "bits.py", "b.assert_mul(prefix, total, 0)", "drop",
        ["tests/test_gadgets_basic.py", "-k", "x_plus_r or strict"],
    ),
    "is_zero without x*out=0": (
        "basic.py", "b.assert_mul(sx, out, 0)", "drop", ["tests/test_gadgets_basic.py", "-k", "is_zero"],
    ),
    "comparator without range checks": (
        "bits.py", "b.assert_equal(b.linear_combination(bits, [1 << i for i in range(width)]), x)", "drop",
        ["tests/test_gadgets_basic.py", "-k", "comparator or less_than"],
    ),
    "Merkle path with non-boolean bits": (
        "merkle.py", "ensure_bool(b, bit)", "drop", ["tests/test_gadgets_merkle.py", "-k", "binary or non_boolean"],
    ),
    "hint output no constraint uses": (
        "basic.py", "return is_zero(b, b.as_signal(x) - y)", "unconstrain",
        ["tests/test_gadgets_basic.py", "-k", "is_equal"],
    ),
}


@functools.cache
def _mutant_ids(path: str) -> frozenset[str]:
    return frozenset(m.id for m in discover([h.define for h in catalog.HARNESSES], [path]))


def _matching_mutant(name: str) -> tuple[Mutant, list[str]]:
    file_name, text, operator, tests = MATCHING_MUTANTS[name]
    path = GADGETS / file_name
    mutant = Mutant(str(path), _line(path, text), operator)
    assert mutant.id in _mutant_ids(str(path)), f"{mutant.id} is not a mutant the tool makes"
    return mutant, tests


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MATCHING_MUTANTS))
def test_matching_mutant_of_the_correct_gadget_is_killed(name: str) -> None:
    mutant, tests = _matching_mutant(name)
    report = run_mutants([mutant], tests, cwd=ROOT, timeout=300)
    assert [r.status for r in report.results] == ["killed"], report.results


def test_matching_mutants_are_real_mutants_of_the_gadgets() -> None:
    for name in MATCHING_MUTANTS:
        mutant, tests = _matching_mutant(name)
        assert mutant.id in _mutant_ids(mutant.file), f"{mutant.id} is not a mutant the tool makes"
        assert tests, f"{name} names no test that should kill it"


def test_an_assumed_gadget_whose_result_became_a_hint_is_not_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``unconstrain`` mutant of a ``@gadget`` call: the hints it returns are made after the call, so the
    modular check (the gadget assumed unique) still finds them free, here the set leaf hash before the Merkle
    path (the mutant once survived because the call recorded the hints as its own results)."""
    from zkhealth.circuit import builder as builder_module
    from zkhealth.circuit.mutation import ENV_MUTANT, activate_from_environment

    path = GADGETS / "sorted_set.py"
    mutant = Mutant(str(path), _line(path, "leaf = set_leaf_hash(b, fields)"), "unconstrain")
    assert mutant.id in _mutant_ids(str(path))
    harness = catalog.harness_by_key("assert_set_member", "depth=6")
    monkeypatch.setenv(ENV_MUTANT, mutant.to_json())
    try:
        assert activate_from_environment() == mutant
        verdict = prove_unique(harness.define, samples=harness.samples, time_limit=3)
    finally:
        builder_module._MUTATION.clear()
    assert verdict.verdict != UNIQUE and "set_leaf" in (verdict.signal or ""), verdict.summary()
    assert "set_leaf" in default_assumed_gadgets()
    assert prove_unique(harness.define, samples=harness.samples).verdict == UNIQUE


# --------------------------------------------------------------------------- curve lemmas: sound, not credulous


def _point(b: Builder, name: str) -> tuple[Signal, Signal]:
    return b.private_input(f"{name}x"), b.private_input(f"{name}y")


def doubling_without_on_curve_check(b: Builder) -> None:
    """A doubling of a point nobody checked on the curve: at (0, 0) both sides of x3 * (a x^2 + y^2) = 2xy are 0."""
    x, y = babyjubjub.point_double(b, _point(b, "p"))
    b.output("x", x)
    b.output("y", y)


def addition_with_an_unchecked_input(b: Builder) -> None:
    """An addition whose second input is not checked on the curve: the completeness premise is missing."""
    p = _point(b, "p")
    babyjubjub.assert_on_curve(b, *p)
    x, y = babyjubjub.point_add(b, p, _point(b, "q"))
    b.output("x", x)
    b.output("y", y)


def addition_on_a_curve_with_square_d(b: Builder) -> None:
    """The addition law of a curve whose d is a square (d = 4): not complete, so no lemma may be used."""
    a, d = babyjubjub.A, 4
    points = [_point(b, "p"), _point(b, "q")]
    for x, y in points:
        xx, yy = b.mul(x, x), b.mul(y, y)
        b.assert_mul(xx * d, yy, xx * a + yy - 1)
    (x1, y1), (x2, y2) = points
    tau = b.mul(b.mul(x1, y2), b.mul(y1, x2))
    b.output("x", b.div_unchecked(b.mul(x1, y2) + b.mul(y1, x2), 1 + tau * d))


def montgomery_doubling_by_addition(b: Builder) -> None:
    """P + P with the incomplete Montgomery addition: the slope constraint reads lam * 0 = 0."""
    p = _point(b, "p")
    babyjubjub.assert_in_subgroup(b, *p)
    pm = babyjubjub._to_montgomery(b, p)
    u, v = babyjubjub._montgomery_add(b, pm, pm)
    b.output("u", u)
    b.output("v", v)


def _colliding_tables(claimed: list[int]) -> Callable[[Builder], None]:
    """Two one-bit Montgomery lookups of multiples of BASE8, [2 or 3] and [3 or 5]: bits (1, 0) add [3] to [3]."""
    base = bjj.BASE8
    first = [babyjubjub.edwards_to_montgomery_native(bjj.mul(base, m)) for m in (2, 3)]
    second = [babyjubjub.edwards_to_montgomery_native(bjj.mul(base, m)) for m in (3, 5)]

    def define(b: Builder) -> None:
        bits = b.private_inputs("bits", 2)
        for bit in bits:
            b.assert_bool(bit)
        p = babyjubjub._point_lookup(b, [bits[0]], first)
        q = babyjubjub._point_lookup(b, [bits[1]], second)
        b.claim_curve_multiples(p, base, [2, 3], curve=(babyjubjub.A, babyjubjub.D), montgomery=True)
        b.claim_curve_multiples(q, base, claimed, curve=(babyjubjub.A, babyjubjub.D), montgomery=True)
        u, v = babyjubjub._montgomery_add(b, p, q)
        b.output("u", u)
        b.output("v", v)

    return define


_P = bjj.mul(bjj.BASE8, 4242)
_Q = bjj.mul(bjj.BASE8, 777)


def test_doubling_off_the_curve_is_not_unique_with_witnesses() -> None:
    verdict = prove_unique(doubling_without_on_curve_check, assume=(), samples=[{"px": 0, "py": 0}])
    assert verdict.verdict == NOT_UNIQUE, verdict.summary()
    assert verdict.inputs == {"px": 0, "py": 0} and verdict.witness_a != verdict.witness_b
    compiled = compile(doubling_without_on_curve_check, lint=False)
    for witness in (verdict.witness_a, verdict.witness_b):
        assert witness is not None
        compiled.r1cs.check_witness(witness)
    assert not bjj.is_on_curve((0, 0))


def test_missing_premises_are_never_unique() -> None:
    """No on-curve check of one input, or a square d: the rule does not apply, and nothing says unique."""
    samples = [{"px": _P[0], "py": _P[1], "qx": _Q[0], "qy": _Q[1]}]
    for circuit in (addition_with_an_unchecked_input, addition_on_a_curve_with_square_d):
        verdict = prove_unique(circuit, assume=(), samples=samples, time_limit=20)
        assert verdict.verdict in (UNKNOWN, NOT_UNIQUE), (circuit.__name__, verdict.summary())
        assert not verdict.lemmas, verdict.lemmas


def test_incomplete_montgomery_addition_of_a_point_to_itself_is_never_unique() -> None:
    """[1]P + [1]P: the multiples coincide, so the exception-free lemma is refused and the slope stays open
    (the honest solver cannot even build a witness: its hint divides by u_P - u_P)."""
    verdict = prove_unique(montgomery_doubling_by_addition, auxiliary=["eighth"], assume=(),
                           samples=[{"px": _P[0], "py": _P[1]}], time_limit=30)
    assert verdict.verdict in (UNKNOWN, NOT_UNIQUE), verdict.summary()
    assert "montgomery_add" in (verdict.signal or "")
    assert not any("exception-free" in lemma for lemma in verdict.lemmas), verdict.lemmas


@pytest.mark.parametrize("claimed", [[3, 5], [4, 5]], ids=["true claim", "false claim"])
def test_multiples_that_can_collide_are_never_unique(claimed: list[int]) -> None:
    """[2 or 3] + [3 or 5]: equal operands for bits (1, 0). A true claim shows the ranges overlap; a false one
    (multiples 4, 5) is recomputed and refused. Either way no exception-free lemma is used."""
    verdict = prove_unique(_colliding_tables(claimed), assume=(), samples=[{"bits": [0, 1]}], time_limit=30)
    assert verdict.verdict in (UNKNOWN, NOT_UNIQUE), verdict.summary()
    assert "montgomery_add" in (verdict.signal or "")
    assert not any("exception-free" in lemma for lemma in verdict.lemmas), verdict.lemmas


def test_multiples_that_cannot_collide_are_unique() -> None:
    """The same tables with [4 or 5] second: ranges {2, 3} and {4, 5} never meet, nor sum to l."""
    base = bjj.BASE8
    first = [babyjubjub.edwards_to_montgomery_native(bjj.mul(base, m)) for m in (2, 3)]
    second = [babyjubjub.edwards_to_montgomery_native(bjj.mul(base, m)) for m in (4, 5)]

    def define(b: Builder) -> None:
        bits = b.private_inputs("bits", 2)
        for bit in bits:
            b.assert_bool(bit)
        p = babyjubjub._point_lookup(b, [bits[0]], first)
        q = babyjubjub._point_lookup(b, [bits[1]], second)
        b.claim_curve_multiples(p, base, [2, 3], curve=(babyjubjub.A, babyjubjub.D), montgomery=True)
        b.claim_curve_multiples(q, base, [4, 5], curve=(babyjubjub.A, babyjubjub.D), montgomery=True)
        u, v = babyjubjub._montgomery_add(b, p, q)
        b.output("u", u)
        b.output("v", v)

    verdict = prove_unique(define, assume=(), samples=[{"bits": [1, 0]}])
    assert verdict.verdict == UNIQUE, verdict.summary()
    assert any("exception-free" in lemma for lemma in verdict.lemmas)


def test_curve_premises_are_computed() -> None:
    """Euler's criterion on a and d, the group order 8l by Hasse's bound, l prime."""
    from zkhealth.circuit.formal_curves import _curve

    curve = _curve(babyjubjub.A, babyjubjub.D)
    assert curve is not None and curve.subgroup_order == bjj.SUBORDER and curve.no_u_minus_one
    assert curve.mont_a == babyjubjub.MONTGOMERY_A and curve.mont_b == 1
    assert _curve(babyjubjub.A, 4) is None  # d a square
    assert _curve(babyjubjub.D, babyjubjub.D) is None  # a = d
    assert _curve(5, babyjubjub.D) is None  # a = 5 generates Fr^*, not a square


CROSS_CHECKED = ("point_add", "point_double", "assert_in_subgroup", "fixed_base_mul", "scalar_mul")


@pytest.mark.parametrize("harness", [h for h in catalog.HARNESSES if h.gadget in CROSS_CHECKED and h.params != "n=251"],
                         ids=lambda h: h.label)
def test_curve_verdicts_agree_with_the_perturbation_search(harness: catalog.Harness) -> None:
    """What the lemmas prove unique, the second-witness search (zkhealth.circuit.check_unique) cannot break."""
    compiled = compile(harness.define, lint=False)
    for sample in harness.samples:
        check_unique(compiled, sample)


# --------------------------------------------------------------------------- pinned verdicts


PINNED = load_verdicts()
SLOW_HARNESSES: set[str] = set()


def _verdict_of(harness: catalog.Harness) -> str:
    assumed = default_assumed_gadgets() - set(harness.subject)
    verdict = prove_unique(harness.define, auxiliary=harness.auxiliary, samples=harness.samples,
                           assume=assumed, time_limit=30)
    return verdict.verdict


@pytest.mark.parametrize(
    "harness",
    [pytest.param(h, marks=pytest.mark.slow) if h.gadget in SLOW_HARNESSES else h for h in catalog.HARNESSES],
    ids=lambda h: h.label,
)
def test_gadget_verdict_is_pinned(harness: catalog.Harness) -> None:
    """A gadget pinned unique must stay unique; any other drift must be pinned on purpose."""
    row = PINNED.get(harness.key)
    assert row is not None, f"{harness.label}: add a row to verdicts.csv"
    assert row["auxiliary"].split() == list(harness.auxiliary)
    got = _verdict_of(harness)
    if row["verdict"] == UNIQUE:
        assert got == UNIQUE, f"{harness.label} was proven unique and is now {got}"
    assert got == row["verdict"], f"{harness.label}: pinned {row['verdict']}, now {got}: update verdicts.csv"


def test_every_pinned_verdict_has_a_harness_and_every_harness_works() -> None:
    keys = {h.key for h in catalog.HARNESSES}
    assert set(PINNED) == keys
    for harness in catalog.HARNESSES:
        compiled = compile(harness.define, lint=False)
        assert harness.samples, harness.label
        for sample in harness.samples:
            compiled.r1cs.check_witness(compiled.solve_witness(sample))


def test_every_gadget_of_the_gadget_modules_has_a_harness() -> None:
    """A ``@gadget`` without a harness would have no pinned verdict and no mutants (set_atom_selected, the
    universal circuit's atom, had none)."""
    import re

    names: set[str] = set()
    for path in catalog.gadget_module_files():
        names |= set(re.findall(r'^@gadget\("(\w+)"', Path(path).read_text(encoding="utf-8"), re.MULTILINE))
    assert {"set_atom_selected", "is_zero", "poseidon"} <= names
    missing = names - {h.gadget for h in catalog.HARNESSES}
    assert not missing, f"gadgets without a harness in catalog.py: {sorted(missing)}"


def test_every_gadget_is_proven_unique() -> None:
    """The curve gadgets included, by the curve lemmas (docs/circuits.md)."""
    for key, row in PINNED.items():
        assert row["verdict"] == UNIQUE, key


def test_verdict_table_is_what_the_tool_writes() -> None:
    """verdicts.csv is exactly the text ``zkhealth circuit check-unique --gadgets --write-verdicts`` writes for
    the catalog when each harness gets its pinned verdict (test_gadget_verdict_is_pinned checks those)."""
    rows = []
    for harness in catalog.HARNESSES:
        row = PINNED[harness.key]
        verdict = UniquenessVerdict(row["verdict"], 0.0, row["note"])
        rows.append(verdict_row(harness.gadget, harness.params, verdict, harness.auxiliary, row["note"]))
    assert render_verdicts(rows) == PINNED_VERDICTS_PATH.read_text(encoding="utf-8")


def test_a_row_that_is_not_unique_carries_the_reason() -> None:
    verdict = prove_unique(addition_with_an_unchecked_input, assume=(), time_limit=20)
    row = verdict_row("point_add", "broken", verdict, (), note="an author's note, no longer true")
    assert row["verdict"] == UNKNOWN and "not proven determined" in row["note"] and "babyjubjub.py" in row["note"]
    unique = prove_unique(catalog.harness_by_key("select").define)
    assert verdict_row("select", "", unique, (), note="kept")["note"] == "kept"
    text = render_verdicts([row, verdict_row("select", "", unique, ())])
    assert text.splitlines()[0] == "gadget,params,verdict,auxiliary,note"
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["point_add", "select"]


@pytest.mark.slow
def test_cli_regenerates_the_verdict_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The tool itself, over every harness, writes verdicts.csv byte for byte."""
    out = tmp_path / "verdicts.csv"
    assert run(["circuit", "check-unique", "--gadgets", "--write-verdicts", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == PINNED_VERDICTS_PATH.read_text(encoding="utf-8")
    assert "set_atom[LAST,bounds]: unique" in capsys.readouterr().out


def test_auxiliary_hints_are_needed() -> None:
    """Without naming is_zero's inverse auxiliary, the checker shows it is free at x = 0."""
    harness = catalog.harness_by_key("is_zero")
    verdict = prove_unique(harness.define, assume=())
    assert verdict.verdict == NOT_UNIQUE and "is_zero_inverse" in (verdict.signal or "")
    assert verdict.inputs == {"x": 0}


def test_modular_check_uses_the_pinned_gadgets() -> None:
    harness = catalog.harness_by_key("quaternary_merkle_root", "depth=2")
    verdict = prove_unique(harness.define, assume=default_assumed_gadgets() - {"quaternary_merkle_root"})
    assert verdict.verdict == UNIQUE and "poseidon" in verdict.assumed


def test_unknown_carries_the_reason() -> None:
    verdict = prove_unique(addition_with_an_unchecked_input, assume=(), time_limit=20)
    assert verdict.verdict == UNKNOWN
    assert "babyjubjub.py" in (verdict.source or "") and "not proven determined" in verdict.reason


def test_time_limit_gives_unknown() -> None:
    verdict = prove_unique(catalog.harness_by_key("poseidon", "n=16").define, assume=(), time_limit=0.001)
    assert verdict.verdict == UNKNOWN and "time limit" in verdict.reason


def test_eligibility_circuit_outputs_are_unique() -> None:
    from zkhealth.eligibility.dedicated import dedicated_circuit
    from zkhealth.eligibility.program import compile_program

    verdict = prove_unique(dedicated_circuit(compile_program("diagnosis in E11.* and age >= 18")), targets="outputs")
    assert verdict.verdict == UNIQUE, verdict.summary()
    assert {"poseidon", "to_bits_strict"} <= set(verdict.assumed)


# --------------------------------------------------------------------------- the mutation tool


def test_discovery_finds_each_operator_on_the_cubic() -> None:
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("cubic_example", EXAMPLES / "cubic.py")
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = discover([module.cubic], [str(EXAMPLES / "cubic.py")])
    assert [m.operator for m in mutants] == ["drop", "swap", "constant", "unconstrain"]
    assert all(m.id.startswith("circuits/examples/cubic.py:8:") or m.id.endswith(m.operator) for m in mutants)


def test_discovery_finds_shrink_on_gadget_range_checks() -> None:
    mutants = discover([catalog.harness_by_key("less_than", "bits=32").define], [str(GADGETS / "comparators.py")])
    assert {m.operator for m in mutants} >= {"shrink"}
    with pytest.raises(CircuitDefinitionError):
        discover([], [], operators=["delete"])


KEY = "src/a.py:f:swap:0123456789ab"


def test_equivalent_file_needs_reasons(tmp_path: Path) -> None:
    good = tmp_path / "equivalent.txt"
    good.write_text(f"# comment\n{KEY}  (line 3)  A*B = C and A*C = B coincide when B = C\n"
                    f"{KEY[:-1]}c#1+2  no line hint\n", encoding="utf-8")
    assert load_equivalents(good) == {KEY: "A*B = C and A*C = B coincide when B = C",
                                      f"{KEY[:-1]}c#1+2": "no line hint"}
    for text in (f"{KEY}\n", f"{KEY}  (line 3)\n",  # no reason
                 "src/a.py:3:swap  a line-numbered id, which moves with every edit above it\n",
                 "src/a.py:f:delete:0123456789ab  no such operator\n",
                 "src/a.py:f:swap:0123  a truncated digest\n",
                 f"{KEY}  twice\n{KEY}  twice\n"):
        bad = tmp_path / "bad.txt"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(CircuitDefinitionError):
            load_equivalents(bad)


_KEYED = """from zkhealth.circuit import Builder


def keyed(b: Builder) -> None:
    x = b.private_input("x")
    y = x * x
    b.output("out", y * x + 5)
"""
#: The same circuit after edits above and around its statements: a docstring, a helper, blank lines, comments,
#: other spacing and redundant parentheses. The mutated statements' canonical text is unchanged.
_KEYED_SHIFTED = '"""Shifted: every line of the circuit moved."""\n' + """
from zkhealth.circuit import Builder


def helper() -> int:
    return 1


def keyed(b: Builder) -> None:
    # a comment above the statements
    x = b.private_input("x")

    y = x*x  # a trailing comment, other spacing
    b.output("out", (y * x) + 5)
"""


def _keyed_mutants(directory: Path, source: str, name: str) -> list[Mutant]:
    """Mutants of ``keyed`` in ``directory/keyed.py`` holding ``source`` (loaded as module ``name``)."""
    from importlib.util import module_from_spec, spec_from_file_location

    path = directory / "keyed.py"
    path.write_text(source, encoding="utf-8")
    spec = spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return discover([module.keyed], [str(path)])


def test_mutant_keys_survive_edits_elsewhere_and_stale_entries_are_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Equivalent-mutant entries are keyed by scope and statement, not by line: shifting every line keeps them,
    changing the mutated statement makes them stale."""
    from zkhealth.circuit.mutation import stale_equivalents

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.dont_write_bytecode", True)
    before = _keyed_mutants(tmp_path, _KEYED, "keyed_before")
    assert {m.operator for m in before} == {"drop", "swap", "constant", "unconstrain"}
    listed = tmp_path / "equivalent.txt"
    listed.write_text("".join(f"{m.key}  (line {m.line})  reason {i}\n" for i, m in enumerate(before)),
                      encoding="utf-8")
    equivalents = load_equivalents(listed)
    assert len(equivalents) == len(before) and all(key.startswith("keyed.py:keyed:") for key in equivalents)

    after = _keyed_mutants(tmp_path, _KEYED_SHIFTED, "keyed_after")
    assert {m.line for m in after}.isdisjoint({m.line for m in before})  # every line moved
    assert [m.key for m in after] == [m.key for m in before]
    assert stale_equivalents(equivalents, after) == []
    # The run matches by key: every mutant is listed, so none is run (no pytest process, no baseline).
    report = run_mutants(after, ["no-such-test.py"], cwd=tmp_path, equivalents=equivalents)
    assert [r.status for r in report.results] == ["equivalent"] * len(after)

    # Changing the mutated statement (5 -> 6) makes its entries stale: they name no mutant any more, and the
    # changed statement's mutants are no longer taken as equivalent.
    changed = _keyed_mutants(tmp_path, _KEYED_SHIFTED.replace("(y * x) + 5", "(y * x) + 6"), "keyed_changed")
    stale = stale_equivalents(equivalents, changed)
    assert stale == sorted(m.key for m in before if m.line == 7)
    assert len([m for m in changed if m.key not in equivalents]) == len(stale)


def test_mutant_keys_name_scope_occurrence_and_continuation_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zkhealth.circuit.mutation import mutant_key

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "scopes.py"
    path.write_text("class A:\n    def f(self, b):\n        b.assert_bool(1)\n        b.assert_bool(1)\n"
                    "        b.assert_equal(\n            1, 2)\n        for i in range(3):\n"
                    "            pass\n", encoding="utf-8")
    first, second = mutant_key(str(path), 3, "drop"), mutant_key(str(path), 4, "drop")
    assert first.startswith("scopes.py:A.f:drop:") and second == first + "#1"
    assert mutant_key(str(path), 6, "drop") == mutant_key(str(path), 5, "drop")  # one statement, one key
    # A compound statement is named by its header: editing its body keeps the key of the header line.
    loop = mutant_key(str(path), 7, "shrink")
    path.write_text(path.read_text(encoding="utf-8").replace("pass", "x = i"), encoding="utf-8")
    assert mutant_key(str(path), 7, "shrink") == loop
    for line in (0, 99):
        with pytest.raises(CircuitDefinitionError):
            mutant_key(str(path), line, "drop")
    with pytest.raises(CircuitDefinitionError):
        mutant_key(str(tmp_path / "missing.py"), 1, "drop")
    # Two mutants of one operator in one statement, on two lines: discovery tells them apart by the offset.
    monkeypatch.setattr("sys.dont_write_bytecode", True)
    two = tmp_path / "keyed.py"
    two.write_text("def keyed(b):\n    x = b.private_input('x')\n    b.output('out', x * x\n"
                   "             + (x + 1) * x)\n", encoding="utf-8")
    drops = [m for m in _keyed_mutants(tmp_path, two.read_text(encoding="utf-8"), "keyed_two")
             if m.operator == "drop"]
    assert sorted(m.key.rpartition(":")[2][12:] for m in drops) == ["+0", "+1"]


def test_mutant_json_round_trip() -> None:
    mutant = Mutant("/x/y.py", 12, "shrink", "f", "c/g")
    assert Mutant.from_json(mutant.to_json()) == mutant
    with pytest.raises(CircuitDefinitionError):
        Mutant.from_json(json.dumps({"file": "a", "line": 1, "operator": "delete"}))


@pytest.mark.slow
def test_cubic_mutants_are_all_killed_and_the_gate_passes() -> None:
    code = run(["--json", "circuit", "mutate", "circuits/examples/cubic.py:cubic",
                "--tests", "tests/test_circuit_examples.py -k cubic", "--min-score", "100"])
    assert code == 0


# --------------------------------------------------------------------------- the CLI


def test_cli_check_unique_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--json", "circuit", "check-unique", "circuits/examples/cubic.py:cubic"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == UNIQUE
    assert run(["--json", "circuit", "check-unique", "circuits/examples/broken_is_zero.py:broken_is_zero"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == NOT_UNIQUE and payload["signal"] == "out"
    assert payload["witness_a"] != payload["witness_b"]
    assert run(["circuit", "check-unique"]) == 2
    assert run(["circuit", "check-unique", "circuits/examples/cubic.py:cubic", "--write-verdicts", "x.csv"]) == 2


def test_cli_mutate_lists_mutants(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--json", "circuit", "mutate", "circuits/examples/broken_is_zero.py:broken_is_zero",
                "--tests", "tests/test_circuit_examples.py", "--list"])
    assert code == 0
    ids = [m["id"] for m in json.loads(capsys.readouterr().out)["mutants"]]
    assert "circuits/examples/broken_is_zero.py:18:unconstrain" in ids
