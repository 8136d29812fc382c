"""Formal uniqueness: prove that a circuit's signals are functions of its inputs, or show two witnesses.

The question (Picus, Pailoor et al., PLDI 2023): do two assignments that satisfy every constraint and agree on
the inputs agree on every output and internal signal? A "no" is an under-constrained circuit, the most common
real ZK bug (security.md C1, C4, C6, C7). :func:`prove_unique` answers with a :class:`UniquenessVerdict`:

* ``unique``: a proof, by the rules below, that every target signal is determined by the inputs;
* ``not unique``: two concrete witnesses, in the R1CS wire layout, that the R1CS accepts, with the same inputs
  and a different value of a named signal;
* ``unknown``: neither, with the reason (a case the rules cannot decide, or the time limit).

How the proof works (uniqueness propagation with case splits, Picus's first stage, done exactly):
a signal is *known* when it is equal in any two witnesses with the same inputs. Inputs are known; then

* **linear rule**: a constraint whose unknown part is ``k * v`` for one unknown signal ``v`` and a non-zero
  constant ``k`` makes ``v`` known (the difference of the two copies is ``k * (v1 - v2) = 0``); rows of
  several unknowns with constant coefficients are combined by Gaussian elimination;
* **product rule**: ``A * B = C`` with A known and the unknowns of B and C reduced to one ``v``: the copies
  differ by ``(A * beta - gamma) * (v1 - v2)``, so ``v`` is known when that factor is non-zero. When the
  factor is a non-constant function of known signals, the proof **splits** on it: in one branch it is non-zero
  (``v`` known), in the other it is zero, a linear fact about known signals that is substituted into every
  constraint (``is_zero`` needs this split: ``x * out = 0`` decides ``out`` when ``x != 0``, and
  ``x * inv = 1 - out`` decides it when ``x = 0``). A branch whose constraints reduce to ``0 = 1`` is empty;
* **binary rule**: booleans (``b * (b - 1) = 0``) whose weighted sum with weights ``s * 2^e`` (distinct e,
  ``sum 2^e < r``) is known are known: their differences lie in {-1, 0, 1}, and no signed binary sum below r
  vanishes mod r. This is what makes bit decompositions, range checks and comparators unique, and it
  refuses exactly the 254-bit decompositions whose sum can wrap (security.md C4);
* **gadget rule** (modular checking, as Picus's "known-unique sub-circuits"): a call of a ``@gadget`` whose
  own verdict is ``unique`` is a function of its inputs: once every signal it reads from outside is known,
  every signal it exposes is known. Its own constraints are not re-proven here;
* **curve lemmas** (:mod:`zkhealth.circuit.formal_curves`): factors that cannot vanish on a twisted Edwards
  curve, proven from the circuit's own constraints when the proof would otherwise split on them: the
  denominators of the complete addition law (a square and d a non-square, checked by Euler's criterion; the
  operands proven on the curve), of the Edwards-Montgomery maps, and of Montgomery steps whose operands are
  multiples ``[k1]G != +-[k2]G`` of a point of prime order. The verdict lists the lemmas it used.

When the rules stop with a target signal unknown, a concrete search looks for the second witness: for sample
inputs (given, or small and random values), it fixes one unknown signal to another value (or picks another
bit decomposition of a wrapped sum) and re-solves every constraint of the circuit, sub-gadgets included, by
the same rules applied to values. Any pair it returns has been checked against the whole R1CS. If neither
the proof nor the search succeeds, the verdict is ``unknown``: the rules are sound but incomplete (a curve
formula written in a shape the lemmas do not recognise stays undecided), and the search proves nothing by
failing.

Why no SMT solver: cvc5's finite-field theory (the solver the issue proposed) is not in the PyPI wheel
(``cvc5`` is built without CoCoA; ``cvc5-gpl`` has it but is GPL-3, and took seconds on an 8-bit
decomposition and did not finish a 254-bit one in minutes); z3 over integers with an explicit modulus
returned ``unknown`` on the 254-bit alias query within 20 s. The rules above decide every standard gadget,
the curve gadgets included, in at most a few seconds each. See docs/circuits.md.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from zkhealth.circuit.builder import (
    VAR_HINT,
    VAR_MUL,
    VAR_OUTPUT,
    VAR_PRIVATE_INPUT,
    VAR_PUBLIC_INPUT,
    Builder,
    GadgetCall,
    format_source,
)
from zkhealth.circuit.compiler import Circuit, CompiledCircuit, Inputs, _compile, build
from zkhealth.circuit.formal_curves import curve_lemmas, normalize_lc
from zkhealth.circuit.signal import LC, R
from zkhealth.errors import CircuitDefinitionError, WitnessError

__all__ = [
    "NOT_UNIQUE",
    "find_witness",
    "PINNED_VERDICTS_PATH",
    "UNIQUE",
    "UNKNOWN",
    "UniquenessVerdict",
    "default_assumed_gadgets",
    "load_verdicts",
    "prove_unique",
    "render_verdicts",
    "verdict_row",
]

UNIQUE: Final[str] = "unique"
NOT_UNIQUE: Final[str] = "not unique"
UNKNOWN: Final[str] = "unknown"

#: The pinned verdict table of the standard gadgets (beside ``counts.csv``).
PINNED_VERDICTS_PATH: Final[Path] = Path(__file__).with_name("gadgets") / "verdicts.csv"
VERDICT_HEADER: Final[tuple[str, ...]] = ("gadget", "params", "verdict", "auxiliary", "note")

_POW2: Final[dict[int, int]] = {}
_INV2 = pow(2, -1, R)
for _k in range(0, 255):
    _POW2.setdefault(pow(2, _k, R), _k)
    _POW2.setdefault(pow(_INV2, _k, R), -_k)


class _Timeout(Exception):
    pass


class _Infeasible(Exception):
    pass


@dataclass(frozen=True)
class UniquenessVerdict:
    """The answer of :func:`prove_unique`."""

    #: ``"unique"``, ``"not unique"`` or ``"unknown"``.
    verdict: str
    #: Wall-clock seconds of the whole check (build, proof, search).
    seconds: float
    #: One line: how the verdict was reached, or why it is unknown.
    reason: str
    #: The signal that differs (not unique) or that could not be proven determined (unknown).
    signal: str | None = None
    #: Where that signal was made (``path:line``).
    source: str | None = None
    #: Two full witnesses in the R1CS wire layout, both accepted by the R1CS (not unique only).
    witness_a: list[int] | None = None
    witness_b: list[int] | None = None
    #: The inputs both witnesses share (not unique only).
    inputs: dict[str, object] | None = None
    #: Branches of the case split explored by the proof.
    branches: int = 0
    #: Gadgets whose calls were treated as functions of their inputs.
    assumed: tuple[str, ...] = ()
    #: Number of target signals.
    targets: int = 0
    #: Curve lemmas (formal_curves) the proof used, by reason.
    lemmas: tuple[str, ...] = ()

    @property
    def is_unique(self) -> bool:
        return self.verdict == UNIQUE

    def summary(self) -> str:
        """``verdict (seconds s): reason``."""
        return f"{self.verdict} ({self.seconds:.2f} s): {self.reason}"


# --------------------------------------------------------------------------- the pinned table


def load_verdicts(path: str | Path = PINNED_VERDICTS_PATH) -> dict[tuple[str, str], dict[str, str]]:
    """Read a verdict table (``gadget,params,verdict,auxiliary,note``), keyed by (gadget, params)."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != VERDICT_HEADER:
            raise ValueError(f"{path}: header must be {','.join(VERDICT_HEADER)}")
        for line in reader:
            key = (line["gadget"], line["params"])
            if key in rows:
                raise ValueError(f"{path}: duplicate row {key}")
            if line["verdict"] not in (UNIQUE, NOT_UNIQUE, UNKNOWN):
                raise ValueError(f"{path}: bad verdict {line['verdict']!r} for {key}")
            rows[key] = {k: (v or "") for k, v in line.items()}
    return rows


def verdict_row(
    gadget: str, params: str, verdict: UniquenessVerdict, auxiliary: Sequence[str], note: str = ""
) -> dict[str, str]:
    """One row of the verdict table for a fresh ``verdict``. ``note`` (the author's explanation of a unique
    verdict) is kept while the verdict stays ``unique``; any other verdict is noted with the checker's reason
    (and the signal it stopped at), so a row never says ``unknown`` without saying why."""
    if verdict.verdict != UNIQUE:
        where = f" ({verdict.signal} at {verdict.source})" if verdict.signal else ""
        note = f"{verdict.reason}{where}"
    return {"gadget": gadget, "params": params, "verdict": verdict.verdict, "auxiliary": " ".join(auxiliary),
            "note": note}


def render_verdicts(rows: Iterable[Mapping[str, str]]) -> str:
    """The text of a verdict table: the header, then the rows sorted by (gadget, params), ``\n`` line ends,
    minimal quoting. ``verdicts.csv`` is exactly this text of its own rows (a test checks it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(VERDICT_HEADER)
    for row in sorted(rows, key=lambda r: (r["gadget"], r["params"])):
        writer.writerow([row[name] for name in VERDICT_HEADER])
    return out.getvalue()


def _pinned_auxiliary() -> dict[str, frozenset[str]]:
    if not PINNED_VERDICTS_PATH.exists():
        return {}
    out: dict[str, set[str]] = {}
    for (gadget, _), row in load_verdicts().items():
        out.setdefault(gadget, set()).update(row["auxiliary"].split())
    return {gadget: frozenset(names) for gadget, names in out.items()}


def default_assumed_gadgets(path: str | Path = PINNED_VERDICTS_PATH) -> frozenset[str]:
    """Gadgets whose every pinned row is ``unique``: their calls may be treated as functions of their inputs.

    A gadget pinned ``unique`` only with auxiliary hints (``is_zero``'s inverse) counts: the auxiliary
    signals stay inside the call and no signal outside it depends on them.
    """
    if not Path(path).exists():
        return frozenset()
    by_gadget: dict[str, bool] = {}
    for (gadget, _), row in load_verdicts(path).items():
        by_gadget[gadget] = by_gadget.get(gadget, True) and row["verdict"] == UNIQUE
    return frozenset(name for name, ok in by_gadget.items() if ok)


# --------------------------------------------------------------------------- the system


@dataclass
class _Call:
    gadget: str
    reads: frozenset[int]
    exposes: frozenset[int]


@dataclass
class _System:
    builder: Builder
    ca: list[LC]
    cb: list[LC]
    cc: list[LC]
    own: list[int]
    inputs: frozenset[int]
    booleans: frozenset[int]
    calls: list[_Call]
    hidden: frozenset[int]
    deadline: float

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Timeout


def _outermost_assumed(calls: Sequence[GadgetCall], assumed: frozenset[str]) -> list[GadgetCall]:
    chosen: list[GadgetCall] = []
    for call in calls:
        if call.gadget not in assumed or call.constraint_end == call.constraint_start:
            continue
        chosen.append(call)
    chosen.sort(key=lambda c: (c.var_start, -c.var_end))
    outer: list[GadgetCall] = []
    for call in chosen:
        if outer and call.var_start >= outer[-1].var_start and call.var_end <= outer[-1].var_end:
            continue
        outer.append(call)
    return outer


def _is_boolean_constraint(a: LC, b: LC, c: LC) -> int | None:
    """The variable v when the constraint says ``v * (m*v - m) = 0`` (either order) or ``v * v = v``."""
    for x, y in ((a, b), (b, a)):
        if len(x) != 1 or 0 in x:
            continue
        ((v, k),) = x.items()
        if not c and set(y) == {v, 0} and y[0] == (R - y[v]) % R:
            return v
        if set(y) == {v} and set(c) == {v} and c[v] == k * y[v] % R:
            return v
    return None


def _make_system(builder: Builder, assumed: frozenset[str], deadline: float) -> _System:
    ca, cb, cc = builder._ca, builder._cb, builder._cc
    n = len(ca)
    inputs = {0}
    for decl in builder._public + builder._private:
        inputs.update(decl.variables)
    outer = _outermost_assumed(builder._gadget_calls, assumed)
    in_call = [-1] * n
    var_call: dict[int, int] = {}
    for index, call in enumerate(outer):
        for i in range(call.constraint_start, call.constraint_end):
            in_call[i] = index
        for v in range(call.var_start, call.var_end):
            var_call[v] = index
    reads: list[set[int]] = [set() for _ in outer]
    exposes: list[set[int]] = [set() for _ in outer]
    for index, call in enumerate(outer):
        for lc in call.results:
            exposes[index].update(v for v in lc if v in var_call and var_call[v] == index)
    for i in range(n):
        vars_i = {*ca[i], *cb[i], *cc[i]}
        owner = in_call[i]
        if owner >= 0:
            reads[owner].update(v for v in vars_i if var_call.get(v) != owner and v != 0)
        else:
            for v in vars_i:
                if v in var_call:
                    exposes[var_call[v]].add(v)
    for decl in builder._outputs:
        for v in decl.variables:
            if v in var_call:
                exposes[var_call[v]].add(v)
    hidden = frozenset(v for v, owner in var_call.items() if v not in exposes[owner])
    # An auxiliary hint of an assumed gadget is not determined by the gadget's inputs: if a constraint
    # outside the call reads it, the call does not make it known.
    auxiliary = _pinned_auxiliary()
    for index, call in enumerate(outer):
        names = auxiliary.get(call.gadget, frozenset())
        for info in builder._hints:
            if info.name in names:
                exposes[index].difference_update(info.outputs)
    booleans: set[int] = set()
    for i in range(n):
        boolean = _is_boolean_constraint(ca[i], cb[i], cc[i])
        if boolean is not None:
            booleans.add(boolean)
    calls = [
        _Call(call.gadget, frozenset(reads[k]), frozenset(exposes[k])) for k, call in enumerate(outer)
    ]
    own = [i for i in range(n) if in_call[i] < 0]
    return _System(builder, ca, cb, cc, own, frozenset(inputs), frozenset(booleans), calls, hidden, deadline)


# --------------------------------------------------------------------------- linear algebra helpers


def _substitute(lc: LC, subst: Mapping[int, LC]) -> LC:
    if not subst or not any(v in subst for v in lc):
        return lc
    out: LC = {}
    for v, k in lc.items():
        expr = subst.get(v)
        if expr is None:
            s = (out.get(v, 0) + k) % R
            if s:
                out[v] = s
            else:
                out.pop(v, None)
        else:
            for u, d in expr.items():
                s = (out.get(u, 0) + k * d) % R
                if s:
                    out[u] = s
                else:
                    out.pop(u, None)
    return out


def _normalize(lc: LC) -> tuple[tuple[int, int], ...]:
    return normalize_lc(lc)


def _binary_row(row: Mapping[int, int], booleans: frozenset[int]) -> bool:
    """True when ``row`` (coefficients of unknown booleans) is ``s * sum 2^e_i * v_i`` with distinct e_i and
    ``sum 2^e_i < r``: then a vanishing difference forces every difference to 0."""
    if len(row) < 2 or any(v not in booleans for v in row):
        return False
    items = list(row.items())
    base_inv = pow(items[0][1], -1, R)
    exponents = []
    for _, k in items:
        e = _POW2.get(k * base_inv % R)
        if e is None:
            return False
        exponents.append(e)
    low = min(exponents)
    shifted = [e - low for e in exponents]
    if len(set(shifted)) != len(shifted):
        return False
    return sum(1 << e for e in shifted) < R


# --------------------------------------------------------------------------- the proof


@dataclass
class _State:
    known: set[int]
    subst: dict[int, LC] = field(default_factory=dict)
    nonzero: set[tuple[tuple[int, int], ...]] = field(default_factory=set)
    extra_rows: list[dict[int, int]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(set(self.known), dict(self.subst), set(self.nonzero), list(self.extra_rows),
                      list(self.assumptions))


@dataclass
class _Split:
    factor: LC
    row: dict[int, int]
    constraint: int


@dataclass
class _Outcome:
    unique: bool
    branches: int
    state: _State | None = None
    undetermined: list[int] = field(default_factory=list)


class _Prover:
    def __init__(
        self,
        system: _System,
        targets: frozenset[int],
        max_depth: int,
        max_branches: int,
        lemmas: Callable[[], Mapping[tuple[tuple[int, int], ...], str]] | None = None,
    ) -> None:
        self.s = system
        self.targets = targets
        self.max_depth = max_depth
        self.max_branches = max_branches
        self.branches = 0
        #: Factors proven non-zero in every witness (curve lemmas, formal_curves), computed the first time the
        #: proof would otherwise split, and which of them the proof used.
        self._lemma_source = lemmas
        self.lemmas: dict[tuple[tuple[int, int], ...], str] = {}
        self.used_lemmas: dict[str, int] = {}
        self._alias_cache: dict[frozenset[int], bool] = {}
        self._defined_by: dict[int, int] = {}
        for i, c in enumerate(system.cc):
            if len(c) == 1 and 0 not in c and c[next(iter(c))] == 1:
                (v,) = c
                a, b = system.ca[i], system.cb[i]
                if len(a) == 1 and len(b) == 1 and 0 not in a and 0 not in b:
                    self._defined_by.setdefault(v, i)

    def run(self) -> _Outcome:
        state = _State(set(self.s.inputs))
        return self._branch(state, 0)

    def _nonzero(self, lc: LC, state: _State) -> bool:
        key = _normalize(lc)
        if key in state.nonzero:
            return True
        reason = self.lemmas.get(key)
        if reason is None:
            return False
        self.used_lemmas[reason] = self.used_lemmas.get(reason, 0) + 1
        return True

    def _load_lemmas(self) -> bool:
        """Compute the curve lemmas once; True if that brought any."""
        if self._lemma_source is None:
            return False
        source, self._lemma_source = self._lemma_source, None
        self.lemmas = dict(source())
        return bool(self.lemmas)

    def _branch(self, state: _State, depth: int) -> _Outcome:
        self.branches += 1
        try:
            split = self._propagate(state)
        except _Infeasible:
            return _Outcome(True, 1)
        missing = [v for v in sorted(self.targets) if v not in state.known]
        if missing and split is not None and self._load_lemmas():
            try:
                split = self._propagate(state)
            except _Infeasible:
                return _Outcome(True, 1)
            missing = [v for v in sorted(self.targets) if v not in state.known]
        if not missing:
            return _Outcome(True, 1)
        if split is None or depth >= self.max_depth or self.branches >= self.max_branches:
            return _Outcome(False, 1, state, missing)
        total = 0
        # Branch 1: the factor is non-zero, so the row holds.
        nonzero = state.copy()
        nonzero.nonzero.add(_normalize(split.factor))
        nonzero.extra_rows.append(split.row)
        nonzero.assumptions.append(f"{self._show(split.factor)} != 0 (constraint {split.constraint})")
        first = self._branch(nonzero, depth + 1)
        total += first.branches
        if not first.unique:
            first.branches = total
            return first
        # Branch 2: the factor is zero: substitute one of its (known) variables.
        zero = state.copy()
        pivot = max(v for v in split.factor if v != 0)
        k = split.factor[pivot]
        inv = (R - pow(k, -1, R)) % R
        expr = {v: c * inv % R for v, c in split.factor.items() if v != pivot}
        zero.subst = {u: _substitute(e, {pivot: expr}) for u, e in zero.subst.items()}
        zero.subst[pivot] = expr
        zero.assumptions.append(f"{self._show(split.factor)} = 0 (constraint {split.constraint})")
        for fact in zero.nonzero:
            if not _substitute(dict(fact), {pivot: expr}):
                total += 1
                return _Outcome(True, total)
        second = self._branch(zero, depth + 1)
        second.branches += total
        return second

    def _show(self, lc: LC) -> str:
        names = _Names(self.s.builder)
        parts = []
        for v, k in sorted(lc.items()):
            term = names.short(v) if v else ""
            coefficient = k if k <= R // 2 else -(R - k)
            if v == 0:
                parts.append(str(coefficient))
            elif coefficient == 1:
                parts.append(term)
            else:
                parts.append(f"{coefficient}*{term}")
        return " + ".join(parts) or "0"

    def _propagate(self, state: _State) -> _Split | None:
        s = self.s
        known = state.known
        while True:
            progress = False
            candidate: _Split | None = None
            rows: list[dict[int, int]] = []
            for row in state.extra_rows:
                reduced = {v: k for v, k in row.items() if v not in known}
                if reduced:
                    rows.append(reduced)
            for i in s.own:
                s.tick()
                a = _substitute(s.ca[i], state.subst)
                b = _substitute(s.cb[i], state.subst)
                c = _substitute(s.cc[i], state.subst)
                ua = [v for v in a if v not in known]
                ub = [v for v in b if v not in known]
                uc = [v for v in c if v not in known]
                if not ua and not ub and not uc:
                    self._check_constant(a, b, c)
                    continue
                found = self._rule(i, a, b, c, ua, ub, uc, state)
                if isinstance(found, dict):
                    if len(found) == 1:
                        (v,) = found
                        if v not in known:
                            known.add(v)
                            progress = True
                    elif found:
                        rows.append(found)
                elif isinstance(found, _Split) and candidate is None:
                    candidate = found
            for row in rows:
                live = {v: k for v, k in row.items() if v not in known}
                if len(live) == 1 or (live and (_binary_row(live, s.booleans) or self._alias_checked(live))):
                    known.update(live)
                    progress = True
            for call in s.calls:
                if not call.exposes <= known and call.reads <= known:
                    known.update(call.exposes)
                    progress = True
            if not progress:
                live_rows = [{v: k for v, k in row.items() if v not in known} for row in rows]
                solved = self._eliminate([r for r in live_rows if r])
                if solved - known:
                    known.update(solved)
                    progress = True
            if not progress:
                return candidate

    def _alias_checked(self, row: Mapping[int, int]) -> bool:
        """The alias-check rule: a 254-bit decomposition whose bits the constraints bound by ``r - 1``.

        The row must be ``s * sum 2^i b_i`` over booleans b_0..b_253. Its two copies then differ by 0 or
        +-r; if the constraints prove each copy's bits, read as an integer, are at most ``r - 1``, the
        difference is 0. The bound is proven from the constraints themselves (the shape
        :func:`~zkhealth.circuit.gadgets.bits.assert_bits_le_constant` builds, checked here, not trusted):
        for every 0-bit i of ``r - 1`` there must be a constraint ``P * S = 0`` with S a plain sum of
        booleans containing b_i and P a product of bits b_j with j > i where ``r - 1`` has a 1. Then a value
        above ``r - 1``, whose highest differing bit i has b_i = 1 and ones above, makes ``P * S != 0``.
        """
        if len(row) != 254 or any(v not in self.s.booleans for v in row):
            return False
        key = frozenset(row)
        cached = self._alias_cache.get(key)
        if cached is not None:
            return cached
        items = list(row.items())
        base_inv = pow(items[0][1], -1, R)
        exponents: dict[int, int] = {}
        for v, k in items:
            e = _POW2.get(k * base_inv % R)
            if e is None:
                self._alias_cache[key] = False
                return False
            exponents[v] = e
        low = min(exponents.values())
        position = {v: e - low for v, e in exponents.items()}
        ok = sorted(position.values()) == list(range(254)) and self._bound_proven(position, R - 1)
        self._alias_cache[key] = ok
        return ok

    def _bound_proven(self, position: Mapping[int, int], bound: int) -> bool:
        s = self.s
        runs: list[tuple[set[int], set[int]]] = []
        for i in range(len(s.ca)):
            a, b, c = s.ca[i], s.cb[i], s.cc[i]
            if c:
                continue
            for prefix, total in ((a, b), (b, a)):
                if not total or any(v not in position or k != 1 for v, k in total.items()):
                    continue
                if prefix == {0: 1}:
                    runs.append((set(total), set()))
                    continue
                factors = self._product_factors(prefix, position)
                if factors is not None:
                    runs.append((set(total), factors))
        by_position = {p: v for v, p in position.items()}
        for i in range(254):
            if (bound >> i) & 1:
                continue
            needed = by_position[i]
            allowed = {by_position[j] for j in range(i + 1, 254) if (bound >> j) & 1}
            if not any(needed in total and factors <= allowed for total, factors in runs):
                return False
        return True

    def _product_factors(self, lc: LC, position: Mapping[int, int]) -> set[int] | None:
        if len(lc) != 1 or 0 in lc:
            return None
        ((v, k),) = lc.items()
        if k != 1:
            return None
        if v in position:
            return {v}
        index = self._defined_by.get(v)
        if index is None:
            return None
        a, b = self.s.ca[index], self.s.cb[index]
        left = self._product_factors(a, position)
        right = self._product_factors(b, position)
        if left is None or right is None:
            return None
        return left | right

    def _check_constant(self, a: LC, b: LC, c: LC) -> None:
        ka, kb, kc = a.get(0, 0) if len(a) <= 1 and set(a) <= {0} else None, None, None
        if len(b) <= 1 and set(b) <= {0}:
            kb = b.get(0, 0)
        if len(c) <= 1 and set(c) <= {0}:
            kc = c.get(0, 0)
        if ka is not None and kb is not None and kc is not None and ka * kb % R != kc:
            raise _Infeasible

    def _rule(
        self, index: int, a: LC, b: LC, c: LC, ua: list[int], ub: list[int], uc: list[int], state: _State
    ) -> dict[int, int] | _Split | None:
        if not ua and not ub:
            return {v: c[v] for v in uc}
        if ua and ub:
            return None
        if ua:
            a, b, ub = b, a, ua
        # Now A is known, B has unknowns.
        ka = a.get(0) if set(a) <= {0} else None
        if not a:
            ka = 0
        if ka == 0 and not uc and c:
            if set(c) == {0}:
                raise _Infeasible  # 0 * B = non-zero constant
            return None
        if ka is not None:
            row: dict[int, int] = {}
            for v in set(ub) | set(uc):
                k = (ka * b.get(v, 0) - c.get(v, 0)) % R
                if k:
                    row[v] = k
            return row
        unknown = set(ub) | set(uc)
        if len(unknown) == 1:
            (v,) = unknown
            factor: LC = {u: k * b.get(v, 0) % R for u, k in a.items()}
            gamma = c.get(v, 0)
            if gamma:
                factor[0] = (factor.get(0, 0) - gamma) % R
                if not factor[0]:
                    del factor[0]
            factor = {u: k for u, k in factor.items() if k}
            if not factor:
                return None
            if set(factor) == {0} or self._nonzero(factor, state):
                return {v: 1}
            return _Split(factor, {v: 1}, index)
        if not uc:
            row = {v: b[v] for v in ub}
            if self._nonzero(a, state):
                return row
            return _Split(dict(a), row, index)
        return None

    def _eliminate(self, rows: list[dict[int, int]]) -> set[int]:
        """Gaussian elimination of the constant-coefficient difference rows; returns variables forced to 0."""
        if not rows or len(rows) > 4000:
            return set()
        pivots: dict[int, dict[int, int]] = {}
        for raw in rows:
            self.s.tick()
            row = dict(raw)
            for p in [v for v in row if v in pivots]:
                k = row.get(p)
                if not k:
                    continue
                for u, d in pivots[p].items():
                    t = (row.get(u, 0) - k * d) % R
                    if t:
                        row[u] = t
                    else:
                        row.pop(u, None)
            if not row:
                continue
            p = min(row)
            inv = pow(row[p], -1, R)
            row = {u: d * inv % R for u, d in row.items()}
            for other in pivots.values():
                k = other.get(p)
                if k:
                    for u, d in row.items():
                        t = (other.get(u, 0) - k * d) % R
                        if t:
                            other[u] = t
                        else:
                            other.pop(u, None)
            pivots[p] = row
        return {p for p, row in pivots.items() if len(row) == 1}


# --------------------------------------------------------------------------- names


class _Names:
    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.names: dict[int, str] = {}
        for decl in builder._outputs + builder._public + builder._private:
            for i, v in enumerate(decl.variables):
                self.names[v] = f"{decl.name}[{i}]" if decl.is_array else decl.name
        self.made_at: dict[int, int] = {}
        for i, c in enumerate(builder._cc):
            for v in c:
                if v not in self.made_at and builder._var_kind[v] == VAR_MUL:
                    self.made_at[v] = i

    def short(self, v: int) -> str:
        if v in self.names:
            return self.names[v]
        kind = self.b._var_kind[v]
        if kind == VAR_HINT and v in self.b._hint_of_var:
            info = self.b._hints[self.b._hint_of_var[v]]
            return f"{info.name}[{info.outputs.index(v)}]"
        return f"v{v}"

    def describe(self, v: int) -> tuple[str, str | None]:
        """(a name with its scope path, its source line)."""
        if v in self.names:
            decl_source = None
            for decl in self.b._outputs + self.b._public + self.b._private:
                if v in decl.variables:
                    decl_source = format_source(decl.source)
            return self.names[v], decl_source
        kind = self.b._var_kind[v]
        if kind == VAR_HINT and v in self.b._hint_of_var:
            info = self.b._hints[self.b._hint_of_var[v]]
            return f"{info.label}:{info.name}[{info.outputs.index(v)}]", format_source(info.site)
        index = self.made_at.get(v)
        if index is not None:
            return f"{self.b._clabel[index]}:product v{v}", format_source(self.b._csite[index])
        return f"v{v}", None


# --------------------------------------------------------------------------- the concrete search


def _eval(lc: LC, values: Sequence[int | None]) -> int:
    total = 0
    for v, k in lc.items():
        value = values[v]
        if value is None:
            raise KeyError(v)
        total += k * value
    return total % R


def _decompositions(target: int, exponents: Sequence[int]) -> list[int]:
    """Integers ``target + j * r`` whose set bits are among ``exponents`` (low-bit aligned)."""
    allowed = 0
    for e in exponents:
        allowed |= 1 << e
    top = 1 << (max(exponents) + 1)
    out: list[int] = []
    value = target
    while value < top and len(out) < 4:
        if value & ~allowed == 0:
            out.append(value)
        value += R
    return out


def _power_row(row: Mapping[int, int], booleans: frozenset[int]) -> tuple[list[tuple[int, int]], int] | None:
    """``(items with their bit positions, scale)`` when ``row`` is ``scale * sum 2^e_v * v`` over booleans with
    distinct positions (the sum may exceed r: the searcher then tries ``target + k * r``)."""
    if len(row) < 2 or any(v not in booleans for v in row):
        return None
    items = list(row.items())
    base = items[0][1]
    base_inv = pow(base, -1, R)
    exponents = []
    for _, k in items:
        e = _POW2.get(k * base_inv % R)
        if e is None:
            return None
        exponents.append(e)
    low = min(exponents)
    shifted = [e - low for e in exponents]
    if len(set(shifted)) != len(shifted) or max(shifted) > 260:
        return None
    scale = base * pow(2, low, R) % R if low >= 0 else base * pow(_INV2, -low, R) % R
    return [(v, e) for (v, _), e in zip(items, shifted, strict=True)], scale


class _Searcher:
    """Solves every constraint for values, the way a prover who writes the witness by hand would.

    Event-driven: a constraint is looked at again when one of its variables gets a value. A constraint with
    one unknown appearing linearly is solved for it; a weighted sum of unknown booleans with power-of-two
    weights takes a bit decomposition of its target (or of ``target + k * r``: the "alternative" one when
    asked, which is how a wrapped decomposition is found). When nothing is solvable, the lowest unassigned
    variable takes its default value (the witness solver's).
    """

    def __init__(self, system: _System, honest: list[int], inputs: frozenset[int]) -> None:
        self.s = system
        self.honest = honest
        self.inputs = inputs
        self.n = len(system.ca)
        self.var_constraints: list[list[int]] = [[] for _ in range(len(honest))]
        for i in range(self.n):
            for v in {*system.ca[i], *system.cb[i], *system.cc[i]}:
                self.var_constraints[v].append(i)

    def solve(self, fixed: Mapping[int, int], alternative_bits: bool) -> list[int] | None:
        s = self.s
        n_vars = len(self.honest)
        values: list[int | None] = [None] * n_vars
        for v in self.inputs:
            values[v] = self.honest[v]
        for v, value in fixed.items():
            values[v] = value % R
        done = [False] * self.n
        remaining = self.n
        queue = list(range(self.n - 1, -1, -1))
        self.used_alternative = not alternative_bits
        lowest = 0
        steps = 0
        while remaining:
            while queue:
                i = queue.pop()
                if done[i]:
                    continue
                steps += 1
                if steps & 1023 == 0:
                    s.tick()
                status, assigned = self._step(i, values)
                if status == "fail":
                    return None
                if status == "done":
                    done[i] = True
                    remaining -= 1
                for v in assigned:
                    queue.extend(self.var_constraints[v])
            if not remaining:
                break
            while lowest < n_vars and values[lowest] is not None:
                lowest += 1
            if lowest == n_vars:
                return None
            values[lowest] = self.honest[lowest]
            queue.extend(self.var_constraints[lowest])
        return [self.honest[v] if value is None else value for v, value in enumerate(values)]

    def _step(self, i: int, values: list[int | None]) -> tuple[str, list[int]]:
        a, b, c = self.s.ca[i], self.s.cb[i], self.s.cc[i]
        ua = [v for v in a if values[v] is None]
        ub = [v for v in b if values[v] is None]
        if not ua and not ub and all(values[v] is not None for v in c):
            ok = _eval(a, values) * _eval(b, values) % R == _eval(c, values)
            return ("done" if ok else "fail"), []
        if ua and ub:
            return "wait", []
        if ua:
            a, b = b, a
        va = _eval(a, values)
        # va * B = C: linear in the unknowns.
        row: dict[int, int] = {}
        rest = 0
        for v, k in b.items():
            value = values[v]
            if value is None:
                row[v] = (row.get(v, 0) + va * k) % R
            else:
                rest += va * k * value
        for v, k in c.items():
            value = values[v]
            if value is None:
                row[v] = (row.get(v, 0) - k) % R
            else:
                rest -= k * value
        row = {v: k for v, k in row.items() if k}
        rest %= R
        if not row:
            return ("done", []) if rest == 0 else ("wait", [])
        if len(row) == 1:
            ((v, k),) = row.items()
            values[v] = (-rest) * pow(k, -1, R) % R
            return "wait", [v]
        shape = _power_row(row, self.s.booleans)
        if shape is None:
            return "wait", []
        items, scale = shape
        target = (-rest) * pow(scale, -1, R) % R
        options = _decompositions(target, [e for _, e in items])
        if not options:
            return "fail", []
        honest_value = sum(self.honest[v] << e for v, e in items)
        choice = options[0]
        if not self.used_alternative:
            others = [o for o in options if o != honest_value]
            if others:
                choice = others[0]
                self.used_alternative = True
        elif honest_value in options:
            choice = honest_value
        for v, e in items:
            values[v] = (choice >> e) & 1
        return "wait", [v for v, _ in items]


def _sample_inputs(builder: Builder, rng: random.Random, count: int) -> list[dict[str, object]]:
    decls = builder._public + builder._private
    samples: list[dict[str, object]] = []
    generators: list[Callable[[int], int]] = [
        lambda i: 0,
        lambda i: 1,
        lambda i: i + 1,
        lambda i: rng.randrange(1, 256),
        lambda i: rng.randrange(R),
        lambda i: rng.randrange(1 << 32),
    ]
    for g in generators[:count]:
        sample: dict[str, object] = {}
        counter = 0
        for decl in decls:
            values: list[int] = []
            for _ in decl.variables:
                values.append(g(counter))
                counter += 1
            sample[decl.name] = values if decl.is_array else values[0]
        samples.append(sample)
    return samples


# --------------------------------------------------------------------------- the entry point


def _auxiliary_vars(builder: Builder, auxiliary: Sequence[str]) -> tuple[frozenset[int], frozenset[int]]:
    """``(given, excluded)`` for the auxiliary names of a check.

    ``given``: outputs of the hints of those names: free choices of the prover. ``excluded``: those, plus every
    variable made inside a scope of that name (the signals computed from a free choice, such as the multiples
    of the subgroup check's ``P' = P / 8``). Excluded signals are not required to be determined by the inputs,
    only by the inputs and the given hints (a second proof).
    """
    if not auxiliary:
        return frozenset(), frozenset()
    names = set(auxiliary)
    given: set[int] = set()
    for info in builder._hints:
        if info.name in names:
            given.update(info.outputs)

    def in_scope(label: str) -> bool:
        return any(part in names for part in label.split("/")[1:])

    excluded = set(given)
    for info in builder._hints:
        if in_scope(info.label):
            excluded.update(info.outputs)
    kinds = builder._var_kind
    for i, c in enumerate(builder._cc):
        if in_scope(builder._clabel[i]):
            excluded.update(v for v in c if v and kinds[v] == VAR_MUL)
    return frozenset(given), frozenset(excluded)


def _targets(
    builder: Builder, system: _System, targets: str | Sequence[str], excluded: frozenset[int]
) -> frozenset[int]:
    if isinstance(targets, str) and targets == "outputs":
        chosen = {v for d in builder._outputs for v in d.variables}
    elif isinstance(targets, str) and targets == "all":
        kinds = builder._var_kind
        outputs = {v for d in builder._outputs for v in d.variables}
        chosen = {
            v for v in range(1, len(kinds))
            if kinds[v] in (VAR_OUTPUT, VAR_MUL, VAR_HINT) and v not in system.hidden
            and (v not in excluded or v in outputs)
        }
    else:
        names = list(targets) if not isinstance(targets, str) else [targets]
        by_name = {}
        for decl in builder._outputs + builder._public + builder._private:
            by_name[decl.name] = decl.variables
            for i, v in enumerate(decl.variables):
                by_name[f"{decl.name}[{i}]"] = (v,)
        chosen = set()
        for name in names:
            if name not in by_name:
                raise CircuitDefinitionError(f"prove_unique: no output or input named {name!r}")
            chosen.update(by_name[name])
    unknown_kinds = {VAR_PUBLIC_INPUT, VAR_PRIVATE_INPUT}
    return frozenset(v for v in chosen if builder._var_kind[v] not in unknown_kinds)


def _lemma_note(used: Mapping[str, int]) -> str:
    if not used:
        return ""
    parts = [f"{reason} (x{count})" for reason, count in sorted(used.items())]
    return "; curve lemmas used: " + "; ".join(parts)


def prove_unique(
    circuit: Circuit | Builder,
    *,
    targets: str | Sequence[str] = "all",
    auxiliary: Sequence[str] = (),
    assume: Iterable[str] | None = None,
    samples: Sequence[Inputs] = (),
    time_limit: float = 30.0,
    max_splits: int = 16,
    seed: int = 0,
) -> UniquenessVerdict:
    """Decide whether ``circuit``'s signals are determined by its inputs (see the module docstring).

    ``targets``: ``"all"`` (default: every output and internal signal, as the issue asks), ``"outputs"``
    (Picus's question), or names of outputs. ``auxiliary``: hint names or scope names whose signals are
    helpers the circuit does not need to determine, such as ``is_zero``'s inverse (free when x = 0) or the
    subgroup check's ``eighth`` scope (``P' = P / 8`` and its multiples): the named hints are free choices,
    and the other signals of a named scope must be determined by the inputs and those choices (a second
    proof, with the free choices as inputs). Outputs are never auxiliary.
    ``assume``: gadget names whose calls count as functions of their inputs (default: every gadget pinned
    ``unique`` in ``gadgets/verdicts.csv``); pass ``()`` to prove everything from scratch. ``samples``: input
    sets for the search of a second witness (small and random values are tried too). ``time_limit`` bounds the
    whole check; past it the verdict is ``unknown``. Never raises for an under-constrained circuit: the
    verdict says so (:func:`zkhealth.testing.assert_unique` turns it into an exception).
    """
    started = time.monotonic()
    deadline = started + time_limit
    builder = circuit if isinstance(circuit, Builder) else build(circuit)
    builder._frozen = True
    assumed = frozenset(default_assumed_gadgets() if assume is None else assume)
    system = _make_system(builder, assumed, deadline)
    given, excluded = _auxiliary_vars(builder, auxiliary)
    target_vars = _targets(builder, system, targets, excluded)
    names = _Names(builder)
    used = tuple(sorted({c.gadget for c in system.calls}))

    def verdict(kind: str, reason: str, **extra: object) -> UniquenessVerdict:
        return UniquenessVerdict(
            kind, time.monotonic() - started, reason, assumed=used, targets=len(target_vars), **extra  # type: ignore[arg-type]
        )

    computed: list[Mapping[tuple[tuple[int, int], ...], str]] = []

    def lemmas() -> Mapping[tuple[tuple[int, int], ...], str]:
        if not computed:
            computed.append(curve_lemmas(builder, system.booleans, deadline).nonzero)
        return computed[0]

    prover = _Prover(system, target_vars, max_splits, 4096, lemmas)
    try:
        outcome = prover.run()
    except _Timeout:
        return verdict(UNKNOWN, f"time limit ({time_limit:g} s) reached during the proof", branches=prover.branches)
    derived = frozenset(excluded - given) if isinstance(targets, str) and targets == "all" else frozenset()
    derived = frozenset(v for v in derived if v not in system.hidden)
    auxiliary_system = system
    if outcome.unique and derived:
        # The signals computed from the free choices: determined by the inputs and those choices.
        auxiliary_system = replace(system, inputs=system.inputs | given)
        second = _Prover(auxiliary_system, derived, max_splits, 4096, lemmas)
        try:
            outcome = second.run()
        except _Timeout:
            return verdict(UNKNOWN, f"time limit ({time_limit:g} s) reached during the proof of the auxiliary "
                           "signals", branches=prover.branches + second.branches)
        prover.branches += second.branches
        for reason, count in second.used_lemmas.items():
            prover.used_lemmas[reason] = prover.used_lemmas.get(reason, 0) + count
        target_vars = target_vars | derived
    note = _lemma_note(prover.used_lemmas)
    if outcome.unique:
        how = "propagation" if prover.branches == 1 else f"propagation with case splits ({prover.branches} branches)"
        extra = ", the auxiliary signals by the inputs and the free hints" if derived else ""
        return verdict(UNIQUE, f"every target signal is determined by the inputs ({how}){extra}{note}",
                       branches=prover.branches, lemmas=tuple(sorted(prover.used_lemmas)))
    undetermined = outcome.undetermined
    first_name, first_source = names.describe(undetermined[0])
    compiled, _ = _compile(builder, optimize=True)
    try:
        found = _search(auxiliary_system, compiled, builder, undetermined, target_vars, samples, seed)
    except _Timeout:
        found = None
        timed_out = True
    else:
        timed_out = False
    if found is not None:
        inputs, values_a, values_b, var = found
        name, source = names.describe(var)
        witness_a = [values_a[v] for v in compiled.wire_vars]
        witness_b = [values_b[v] for v in compiled.wire_vars]
        return verdict(
            NOT_UNIQUE,
            f"two witnesses with the same inputs give {name} = {_show_value(values_a[var])} and "
            f"{_show_value(values_b[var])}",
            signal=name, source=source, witness_a=witness_a, witness_b=witness_b, inputs=dict(inputs),
            branches=prover.branches,
        )
    case = "; ".join(outcome.state.assumptions) if outcome.state and outcome.state.assumptions else ""
    where = f" in the case {case}" if case else ""
    if timed_out:
        reason = (f"time limit ({time_limit:g} s): {first_name} is not proven determined{where}, and the "
                  "search for a second witness did not finish")
    else:
        reason = (f"{first_name} ({first_source or 'no source'}) is not proven determined{where}, and no "
                  "second witness was found")
    return verdict(UNKNOWN, reason + note, signal=first_name, source=first_source, branches=prover.branches)


def _show_value(value: int) -> str:
    return f"-{R - value}" if value > R - (1 << 64) else str(value)


def _search(
    system: _System,
    compiled: CompiledCircuit,
    builder: Builder,
    undetermined: Sequence[int],
    targets: frozenset[int],
    samples: Sequence[Inputs],
    seed: int,
) -> tuple[Mapping[str, object], list[int], list[int], int] | None:
    rng = random.Random(seed)
    program = compiled.program
    candidates = list(samples) + _sample_inputs(builder, rng, 6)
    # Search over every constraint, inside assumed gadgets too: the witnesses must satisfy the whole R1CS.
    full = _System(builder, system.ca, system.cb, system.cc, list(range(len(system.ca))), system.inputs,
                   system.booleans, [], frozenset(), system.deadline)
    kinds = builder._var_kind
    occurrences = [0] * len(kinds)
    for i in range(len(system.ca)):
        for v in {*system.ca[i], *system.cb[i], *system.cc[i]}:
            occurrences[v] += 1
    # A signal that should be pinned and is not is usually read by one constraint: try those first.
    free = sorted(
        (v for v in undetermined if kinds[v] in (VAR_HINT, VAR_MUL, VAR_OUTPUT)),
        key=lambda v: (occurrences[v], kinds[v] != VAR_HINT, v),
    )
    hint_vars = sorted({v for info in builder._hints for v in info.outputs} - set(free),
                       key=lambda v: (occurrences[v], v))
    outputs = {v for decl in builder._outputs for v in decl.variables}
    fallback: tuple[Mapping[str, object], list[int], list[int], int] | None = None
    for inputs in candidates:
        system.tick()
        try:
            honest = compiled.solve_values(inputs)
        except WitnessError:
            continue
        searcher = _Searcher(full, honest, system.inputs)
        attempts: list[tuple[dict[int, int], bool]] = [({}, True)]
        for v in free[:16] + hint_vars[:4]:
            h = honest[v]
            options = [0, 1, R - 1, 2, (h + 1) % R, (h - 1) % R, rng.randrange(R)]
            for value in dict.fromkeys(options):
                if value != h:
                    attempts.append(({v: value}, False))
        for fixed, alternative in attempts:
            values = searcher.solve(fixed, alternative)
            if values is None or not program.satisfied(values):
                continue
            differing = [v for v in sorted(targets) if values[v] != honest[v]]
            if not differing:
                continue
            witness = [values[v] for v in compiled.wire_vars]
            try:
                compiled.r1cs.check_witness(witness)
            except WitnessError:
                continue
            # Prefer a pair that differs on an output: it shows what a prover gains.
            on_output = [v for v in differing if v in outputs]
            if on_output:
                return inputs, honest, values, on_output[0]
            if fallback is None:
                fallback = (inputs, honest, values, differing[0])
    return fallback


def find_witness(
    circuit: Circuit | Builder,
    inputs: Inputs,
    *,
    pivots: int = 32,
    substitute: Mapping[int, int] | None = None,
    time_limit: float = 30.0,
    seed: int = 0,
) -> list[int] | None:
    """Search for a full witness (R1CS wire layout) the R1CS accepts for ``inputs``, without the witness solver.

    This is what a malicious prover does: the solver would refuse invalid inputs, but the R1CS is the only
    judge. The search solves the constraints by the propagation rules applied to values, taking the solver's
    (lenient) values where it must choose, then again with one hint output or product at a time set to 0, 1,
    -1 or a neighbour of its value (those fewest constraints read come first: a signal that should be pinned
    and is not is usually read once). Returns a witness, or ``None`` when none was found: evidence, not
    proof. ``substitute`` maps values to others: any hint output whose value is a key is first set to the
    mapped value (a prover who, say, swaps a leaf hash for the hash of a leaf that is in the tree; it has no
    effect where that value is not a hint). Used by :func:`zkhealth.testing.assert_no_witness`.
    """
    deadline = time.monotonic() + time_limit
    builder = circuit if isinstance(circuit, Builder) else build(circuit)
    builder._frozen = True
    compiled, _ = _compile(builder, optimize=True)
    program = compiled.program
    defaults = program.assign_inputs(inputs)
    try:
        program.run(defaults, lenient=True)
    except WitnessError:
        return None
    system = _make_system(builder, frozenset(), deadline)
    occurrences = [0] * len(defaults)
    for i in range(len(system.ca)):
        for v in {*system.ca[i], *system.cb[i], *system.cc[i]}:
            occurrences[v] += 1
    kinds = builder._var_kind
    hints = sorted(
        {v for info in builder._hints for v in info.outputs} | {v for v in range(len(kinds)) if kinds[v] == VAR_MUL},
        key=lambda v: (occurrences[v], kinds[v] == VAR_MUL, v),
    )
    rng = random.Random(seed)
    searcher = _Searcher(system, defaults, system.inputs)
    attempts: list[dict[int, int]] = [{}]
    if substitute:
        swapped = {v: substitute[defaults[v]] for v in hints if defaults[v] in substitute}
        if swapped:
            attempts.insert(0, swapped)
    for v in hints[:pivots]:
        h = defaults[v]
        for value in dict.fromkeys([0, 1, R - 1, (h + 1) % R, (h - 1) % R, rng.randrange(R)]):
            if value != h:
                attempts.append({v: value})
    try:
        for fixed in attempts:
            values = searcher.solve(fixed, False)
            if values is None or not program.satisfied(values):
                continue
            witness = [values[v] for v in compiled.wire_vars]
            try:
                compiled.r1cs.check_witness(witness)
            except WitnessError:
                continue
            return witness
    except _Timeout:
        return None
    return None
