"""Linear-constraint elimination, like circom's ``--O2``.

A constraint is *linear* when one of A, B is a constant: it then reads ``L = 0`` for a linear combination L.
When L involves an internal variable v (not an input, not an output, not the constant), the constraint
defines v as a linear function of the others: we record that substitution, drop the constraint, and
replace v everywhere. What remains is one constraint per multiplication (plus linear constraints among
inputs and outputs only). Public inputs and outputs, and private inputs, are never eliminated.

Eliminated variables are still computed by the witness solver, and the solver still checks the dropped
linear constraints, so a witness the solver accepts satisfies the reduced system, and the reduced system
accepts exactly the assignments of the kept wires that extend to the original system.

Substitutions are kept fully reduced (no substitution mentions an eliminated variable), through a reverse
index from a variable to the substitutions that mention it. Among the candidates in a linear constraint, the
variable occurring in the fewest constraints is eliminated (ties: the oldest), which limits fill-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkhealth.circuit.signal import LC, R, lc_constant
from zkhealth.errors import CircuitDefinitionError


@dataclass
class Reduced:
    """The reduced system in builder variables."""

    #: Surviving rows, in original order: (original index, A, B, C).
    rows: list[tuple[int, LC, LC, LC]]
    #: Eliminated variable -> its value as a linear combination of kept variables.
    substitutions: dict[int, LC]
    #: Original constraints found redundant (0 = 0 after substitution).
    redundant: list[int]


def _linear_form(a: LC, b: LC, c: LC) -> LC | None:
    """``L`` with ``L = 0`` equivalent to ``a * b = c`` when a or b is constant, else ``None``."""
    ka = lc_constant(a)
    other = b
    if ka is None:
        ka = lc_constant(b)
        other = a
        if ka is None:
            return None
    out: LC = {}
    if ka:
        for v, coeff in other.items():
            out[v] = coeff * ka % R
    for v, coeff in c.items():
        s = (out.get(v, 0) - coeff) % R
        if s:
            out[v] = s
        elif v in out:
            del out[v]
    return {v: coeff for v, coeff in out.items() if coeff}


class _Eliminator:
    def __init__(self, eliminable: Sequence[bool], occurrences: Sequence[int], labels: Sequence[str]) -> None:
        self.eliminable = eliminable
        self.occ = occurrences
        self.labels = labels
        self.subs: dict[int, LC] = {}
        self.uses: dict[int, set[int]] = {}
        self.redundant: list[int] = []
        self.kept_linear: list[tuple[int, LC]] = []

    def substitute(self, lc: LC) -> LC:
        subs = self.subs
        if not any(v in subs for v in lc):
            return lc
        out: LC = {}
        for v, coeff in lc.items():
            expr = subs.get(v)
            if expr is None:
                s = (out.get(v, 0) + coeff) % R
                if s:
                    out[v] = s
                elif v in out:
                    del out[v]
            else:
                for u, d in expr.items():
                    s = (out.get(u, 0) + coeff * d) % R
                    if s:
                        out[u] = s
                    elif u in out:
                        del out[u]
        return out

    def process(self, index: int, linear: LC) -> None:
        lc = self.substitute(linear)
        if not lc:
            self.redundant.append(index)
            return
        const = lc_constant(lc)
        if const is not None:
            raise CircuitDefinitionError(
                f"constraint {index} ({self.labels[index]}) can never be satisfied: it reduces to "
                f"{const} = 0"
            )
        best = -1
        best_key = (0, 0)
        for v in lc:
            if v and self.eliminable[v]:
                key = (self.occ[v], v)
                if best < 0 or key < best_key:
                    best, best_key = v, key
        if best < 0:
            self.kept_linear.append((index, lc))
            return
        factor = (R - pow(lc[best], -1, R)) % R
        expr = {u: coeff * factor % R for u, coeff in lc.items() if u != best}
        for w in self.uses.pop(best, set()):
            current = self.subs[w]
            coeff = current.get(best)
            if coeff is None:
                continue
            updated = dict(current)
            del updated[best]
            for u, d in expr.items():
                s = (updated.get(u, 0) + coeff * d) % R
                if s:
                    updated[u] = s
                elif u in updated:
                    del updated[u]
            self.subs[w] = updated
            for u in expr:
                self.uses.setdefault(u, set()).add(w)
        self.subs[best] = expr
        for u in expr:
            self.uses.setdefault(u, set()).add(best)


def eliminate_linear(
    ca: Sequence[LC],
    cb: Sequence[LC],
    cc: Sequence[LC],
    eliminable: Sequence[bool],
    labels: Sequence[str],
) -> Reduced:
    """Substitute away every internal variable a linear constraint defines. Cost: about O(nonzeros) for
    typical circuits (fill-in depends on the circuit)."""
    n = len(ca)
    occ = [0] * len(eliminable)
    for i in range(n):
        for v in {*ca[i], *cb[i], *cc[i]}:
            occ[v] += 1
    elim = _Eliminator(eliminable, occ, labels)
    current: dict[int, tuple[LC, LC, LC]] = {}
    nonlinear: list[int] = []
    for i in range(n):
        linear = _linear_form(ca[i], cb[i], cc[i])
        if linear is None:
            nonlinear.append(i)
            current[i] = (ca[i], cb[i], cc[i])
        else:
            elim.process(i, linear)
    while True:
        changed = False
        still: list[int] = []
        for i in nonlinear:
            a, b, c = current[i]
            a, b, c = elim.substitute(a), elim.substitute(b), elim.substitute(c)
            linear = _linear_form(a, b, c)
            if linear is None:
                current[i] = (a, b, c)
                still.append(i)
            else:
                del current[i]
                elim.process(i, linear)
                changed = True
        nonlinear = still
        if not changed:
            break
    rows: list[tuple[int, LC, LC, LC]] = [(i, *current[i]) for i in nonlinear]
    rows.extend((i, {}, {}, lc) for i, lc in elim.kept_linear)
    rows.sort(key=lambda row: row[0])
    return Reduced(rows, elim.subs, sorted(elim.redundant))
