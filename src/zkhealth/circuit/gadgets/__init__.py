"""Standard gadgets of the zkhealth circuit DSL, and the conventions for writing more.

Modules: :mod:`.bits` (decomposition, range checks), :mod:`.comparators`, :mod:`.basic` (is_zero, is_equal,
select, mux, set membership, boolean logic). Hash, curve, signature and Merkle gadgets live beside them
(``poseidon.py``, ``babyjubjub.py``, ``eddsa.py``, ``merkle.py``).

Gadget-authoring conventions
----------------------------
1. **Shape.** A gadget is a function ``name(b, signals..., *, params) -> Signal | list[Signal] | None``,
   decorated with ``@gadget("name")`` (from :mod:`zkhealth.circuit`). The decorator opens the scope
   ``name`` (constraint labels become paths such as ``eligibility/issuer/poseidon``) and registers the result
   so the compile-time lint warns when nothing reads it. Assertion helpers (``assert_*``) return ``None``
   and open a scope with ``with b.scope("assert_..."):`` instead. Accept ``Signal | int`` (``SignalLike``)
   where a constant makes sense.
2. **Docstring.** First line: what it returns. Then what it *enforces*, its preconditions (what must
   already be constrained by the caller), and its exact constraint count after linear elimination.
3. **Native twin.** Each gadget has a plain-Python twin built from the same constants, named
   ``<name>_native`` in the same module (or the library's native primitive, e.g.
   ``zkhealth.hash.poseidon.poseidon``). Tests compare the two on random and edge inputs.
4. **Pinned count.** Add a row ``gadget,params,constraints,description`` to ``counts.csv`` (this package) and a
   case in your test that builds a minimal circuit (fresh private inputs, the result as an output) and checks
   it with :class:`zkhealth.testing.ConstraintCountSnapshot`; drift raises ``ConstraintCountDriftError``.
5. **Hints.** Compute witness-only values with ``b.hint_unconstrained(fn, *inputs, n_outputs=k, name=...)``;
   ``fn`` gets ints and returns ints. Constrain every output: unconstrained hint outputs are a compile error.
   Use ``b.div``/``b.inverse`` (checked, ``x != 0`` enforced) rather than hand-made division hints.
6. **Ranges.** Never trust a range you did not constrain. Call ``b.note_range(x, n)`` only right after
   constraints that imply ``0 <= x < 2**n``; comparators then skip redundant checks. Booleans that drive a
   selection must be boolean-constrained (``basic.ensure_bool``), docs/security.md C7.
7. **No witness switches.** A security check has no ``enabled`` input (docs/security.md C10). If a gadget needs a
   compile-time option, take a Python value, or a signal checked with ``b.require_constant(x, "enabled")``
   which raises ``GatedSecurityCheckError`` for witness-dependent signals.
8. **Parameters.** Validate at definition time and raise ``CircuitDefinitionError`` (e.g. ``bits > 252``).
   Never branch on a Signal (it refuses ``bool()``); branch on Python parameters only.
9. **Tests.** Valid witnesses, and adversarial invalid ones (``2**n`` for n bits, ``x + r``, boundary
   values, a hand-made mutant without one constraint that the real gadget rejects), marked
   ``@pytest.mark.witness``. :func:`zkhealth.testing.check_circuit` runs both kinds.
10. **Speed.** Build sums with ``b.linear_combination(signals, coeffs)`` (one pass) rather than Python ``sum``
    over many signals.
"""

from __future__ import annotations

from pathlib import Path

from zkhealth.circuit.gadgets.basic import (
    assert_in_set,
    ensure_bool,
    in_set,
    is_equal,
    is_zero,
    logical_and,
    logical_not,
    logical_or,
    mux,
    select,
)
from zkhealth.circuit.gadgets.bits import (
    assert_bits_le_constant,
    from_bits,
    range_check,
    to_bits,
    to_bits_strict,
)
from zkhealth.circuit.gadgets.comparators import (
    MAX_COMPARATOR_BITS,
    assert_in_range,
    assert_less_eq,
    assert_less_than,
    greater_eq,
    greater_than,
    in_range,
    less_eq,
    less_than,
    less_than_unchecked,
)

#: The pinned constraint-count table of the standard gadgets.
PINNED_COUNTS_PATH: Path = Path(__file__).with_name("counts.csv")

__all__ = [
    "MAX_COMPARATOR_BITS",
    "PINNED_COUNTS_PATH",
    "assert_bits_le_constant",
    "assert_in_range",
    "assert_in_set",
    "assert_less_eq",
    "assert_less_than",
    "ensure_bool",
    "from_bits",
    "greater_eq",
    "greater_than",
    "in_range",
    "in_set",
    "is_equal",
    "is_zero",
    "less_eq",
    "less_than",
    "less_than_unchecked",
    "logical_and",
    "logical_not",
    "logical_or",
    "mux",
    "range_check",
    "select",
    "to_bits",
    "to_bits_strict",
]
