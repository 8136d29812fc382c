"""The zkhealth circuit DSL: describe a circuit once in Python, get its R1CS and its witnesses.

A circuit is a function (or an object's method) ``define(b)`` that receives a :class:`Builder`::

    from zkhealth.circuit import compile

    def cubic(b):
        x = b.private_input("x")
        b.output("out", x * x * x + x + 5)

    compiled = compile(cubic)             # R1CS, no values involved: compiled.r1cs
    witness = compiled.solve_witness({"x": 3})
    compiled.r1cs.check_witness(witness)

Signals are linear combinations over Fr: ``+``, ``-`` and multiplication by a constant are free,
``Signal * Signal`` costs one constraint. Hints (:meth:`Builder.hint_unconstrained`) compute values outside
the constraints; the compile-time lints reject hint outputs nothing constrains and public inputs nothing
uses. Linear constraints are substituted away (circom ``--O2``), so the count is the number of
multiplications; :attr:`CompiledCircuit.stats` reports the count before and after. A failing witness names
the first unsatisfied constraint, its scope path and its source line.

Standard gadgets live in :mod:`zkhealth.circuit.gadgets`; the test kit in :mod:`zkhealth.testing`.
See docs/circuits.md.
"""

from zkhealth.circuit.builder import Builder, HintFunction, gadget
from zkhealth.circuit.compiler import Circuit, CircuitStats, CompiledCircuit, Inputs, build, compile, lint
from zkhealth.circuit.formal import UniquenessVerdict, prove_unique
from zkhealth.circuit.lint import (
    CircuitWarning,
    LintFinding,
    NonStrictBitsWarning,
    UnrangedComparatorWarning,
    UnusedComponentOutputWarning,
    UnusedPrivateInputWarning,
)
from zkhealth.circuit.mutation import activate_from_environment as _activate_mutant
from zkhealth.circuit.report import ConstraintReport, ScopeCount
from zkhealth.circuit.signal import Signal, SignalLike
from zkhealth.circuit.uniqueness import check_unique

# Mutation testing (``zkhealth circuit mutate``) runs the author's tests with $ZKHEALTH_MUTANT set; without it
# this does nothing.
_activate_mutant()

__all__ = [
    "Builder",
    "Circuit",
    "CircuitStats",
    "CircuitWarning",
    "CompiledCircuit",
    "ConstraintReport",
    "HintFunction",
    "Inputs",
    "LintFinding",
    "NonStrictBitsWarning",
    "ScopeCount",
    "Signal",
    "SignalLike",
    "UnrangedComparatorWarning",
    "UnusedComponentOutputWarning",
    "UniquenessVerdict",
    "UnusedPrivateInputWarning",
    "build",
    "check_unique",
    "compile",
    "gadget",
    "lint",
    "prove_unique",
]
