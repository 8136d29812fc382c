"""Curve lemmas for the uniqueness checker: denominators that provably never vanish on a twisted Edwards curve.

The propagation rules of :mod:`zkhealth.circuit.formal` decide a division ``q * den = num`` once ``den`` is
known to be non-zero. For curve arithmetic that fact is not algebraic bookkeeping: it rests on theorems about
the curve. This module proves such facts for one circuit, from its own constraints, and hands them to the
prover as linear combinations that are non-zero in every witness the R1CS accepts. Nothing is taken from the
gadgets' documentation; every premise is checked here, by computation or by polynomial identity:

* **On-curve points.** A constraint whose polynomial (products expanded) is ``k*(a*X^2 + Y^2 - 1 -
  d*X^2*Y^2)`` puts ``(X, Y)`` on the twisted Edwards curve E(a, d). The rule is only used when a is a square
  and d is not (Euler's criterion, computed) and ``a != d``.
* **Completeness (Edwards addition and doubling).** For points P1, P2 on E(a, d) with a a square and d a
  non-square, ``d*x1*x2*y1*y2 != +-1`` (Bernstein-Lange 2007, "Faster addition and doubling on elliptic
  curves", Thm 3.3 for a = 1; Bernstein-Birkner-Joye-Lange-Peters 2008, "Twisted Edwards curves", section 6,
  for a square via ``x -> sqrt(a)*x``). So a division whose numerator and denominator are, as polynomials,
  the x or y formula of the addition law applied to two proven curve points (or the doubling formula, the same
  law reduced by the curve equation) has a non-zero denominator, and its result is the sum, again on the curve.
  An operand may depend on bits (a selected point, ``+-P``, a table lookup): it must then be a curve point for
  every value of the booleans it depends on (each case checked: a constant on the curve, or a proven point or
  its negation).
* **Montgomery form.** ``u = (1 + y)/(1 - y)``, ``v = u/x`` maps E(a, d) to ``B*v^2 = u^3 + A*u^2 + u`` with
  ``A = 2(a+d)/(a-d)``, ``B = 4/(a-d)`` (BBJLP 2008, Thm 3.2). ``1 - y != 0`` for a curve point with x
  invertible (y = 1 forces ``(a - d) x^2 = 0``). The back map divides by v (non-zero unless the point has
  order 2) and ``u + 1`` (no point has u = -1: that needs ``v^2 = (A - 2)/B = d``, a non-square).
* **Exception-free incomplete additions.** Montgomery slopes divide by ``u2 - u1``, non-zero iff P1 != +-P2.
  The checker tracks, for Montgomery points, ``P = [k]G`` with G of prime order l and k in a set of integers
  (an affine form over symbols with interval ranges): the multiples of a constant base come from claims the
  circuit records (:meth:`zkhealth.circuit.builder.Builder.claim_curve_multiples`), each verified here by
  computing ``[m]G``; a variable base is a point ``[8]Q`` (three proven doublings) whose x has an inverse, so
  it has order l once the group order ``8 * l`` is verified (l prime by Miller-Rabin, a point of order 8l,
  Hasse's bound). A slope is then non-zero when no k1 - k2 or k1 + k2 can be a multiple of l, which interval
  arithmetic shows (the argument of halo2's incomplete addition and Zcash's variable-base multiplication).

Everything is sound but incomplete: a shape the matcher does not recognise simply yields no lemma, and the
prover then reports the signal as undetermined (``unknown``) as before.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from zkhealth.circuit.builder import VAR_HINT, VAR_MUL, VAR_OUTPUT, Builder
from zkhealth.circuit.signal import LC, R

__all__ = ["CurveLemmas", "curve_lemmas", "normalize_lc"]

#: A monomial: sorted ((atom, exponent), ...); a polynomial: monomial -> non-zero coefficient mod r.
Mono = tuple[tuple[int, int], ...]
Poly = dict[Mono, int]
PolyKey = tuple[tuple[Mono, int], ...]

_ONE: Final[Mono] = ()
#: Polynomials larger than this stay atoms (the variable itself): keeps expansion of hash rounds cheap.
_MAX_TERMS: Final[int] = 96
_MAX_DEGREE: Final[int] = 8
#: Booleans and selections a point may depend on for the case enumeration.
_MAX_UNITS: Final[int] = 6
#: Definitions (and boolean proofs) followed this deep; deeper ones stay atoms (hash rounds, long carries).
_MAX_NESTING: Final[int] = 24
#: Largest combination tested for being boolean (an adder's carry after a run of ones grows by two terms a bit).
_MAX_BOOLEAN_TERMS: Final[int] = 64
#: How many recent points per atom the candidate index keeps.
_INDEX_DEPTH: Final[int] = 48

COMPLETENESS: Final[str] = (
    "complete twisted Edwards law: d*x1*x2*y1*y2 != +-1 on the curve when a is a square and d is not "
    "(Bernstein-Lange 2007 Thm 3.3; Bernstein-Birkner-Joye-Lange-Peters 2008 section 6)"
)
TO_MONTGOMERY: Final[str] = "1 - y != 0 for a curve point with x invertible (y = 1 forces (a - d) x^2 = 0)"
FROM_MONTGOMERY: Final[str] = (
    "Montgomery to Edwards: v != 0 (points of odd order), u + 1 != 0 (u = -1 needs v^2 = d, a non-square)"
)
INCOMPLETE: Final[str] = (
    "exception-free Montgomery steps: [k1]G != +-[k2]G for G of prime order l and the multiples' ranges"
)


def normalize_lc(lc: Mapping[int, int]) -> tuple[tuple[int, int], ...]:
    """A linear combination scaled so that its lowest variable has coefficient 1 (the prover's fact key)."""
    if not lc:
        return ()
    first = min(lc)
    inv = pow(lc[first], -1, R)
    return tuple(sorted((v, k * inv % R) for v, k in lc.items()))


def _is_square(value: int) -> bool:
    """Euler's criterion: value^((r-1)/2) == 1 (0 counts as not a square here)."""
    value %= R
    return value != 0 and pow(value, (R - 1) // 2, R) == 1


# --------------------------------------------------------------------------- polynomials


def _key(p: Poly) -> PolyKey:
    return tuple(sorted(p.items()))


def _const(value: int) -> Poly:
    value %= R
    return {_ONE: value} if value else {}


def _atom(a: int) -> Poly:
    return {((a, 1),): 1}


def _add(p: Poly, q: Poly, k: int = 1) -> Poly:
    out = dict(p)
    for m, c in q.items():
        s = (out.get(m, 0) + k * c) % R
        if s:
            out[m] = s
        else:
            out.pop(m, None)
    return out


def _scale(p: Poly, k: int) -> Poly:
    k %= R
    if not k:
        return {}
    return {m: c * k % R for m, c in p.items()}


def _mono_mul(m1: Mono, m2: Mono, booleans: frozenset[int]) -> Mono:
    if not m1:
        return m2
    if not m2:
        return m1
    exps = dict(m1)
    for a, e in m2:
        exps[a] = exps.get(a, 0) + e
    return tuple(sorted((a, 1 if a in booleans else e) for a, e in exps.items()))


def _mul(p: Poly, q: Poly, booleans: frozenset[int], limit: int | None = None) -> Poly | None:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = _mono_mul(m1, m2, booleans)
            s = (out.get(m, 0) + c1 * c2) % R
            if s:
                out[m] = s
            else:
                out.pop(m, None)
        if limit is not None and len(out) > limit:
            return None
    return out


def _atoms(p: Poly) -> set[int]:
    return {a for m in p for a, _ in m}


def _degree(p: Poly) -> int:
    return max((sum(e for _, e in m) for m in p), default=0)


def _single_atom(p: Poly) -> int | None:
    """The atom a when ``p == a``."""
    if len(p) != 1:
        return None
    ((m, c),) = p.items()
    if c != 1 or len(m) != 1 or m[0][1] != 1:
        return None
    return m[0][0]


def _split_linear(p: Poly, atom: int) -> tuple[Poly, Poly] | None:
    """``(coefficient of atom, rest)`` when ``p`` is linear in ``atom``; ``None`` otherwise."""
    coefficient: Poly = {}
    rest: Poly = {}
    for m, c in p.items():
        exps = dict(m)
        e = exps.get(atom, 0)
        if e == 0:
            rest[m] = c
        elif e == 1:
            del exps[atom]
            coefficient[tuple(sorted(exps.items()))] = c
        else:
            return None
    return coefficient, rest


def _ratio(p: Poly, q: Poly) -> int | None:
    """c with ``p == c * q`` (q non-zero), else ``None``."""
    if not q:
        return None
    m, k = next(iter(q.items()))
    c = p.get(m, 0) * pow(k, -1, R) % R
    if c == 0 or len(p) != len(q):
        return None
    for mono, coefficient in q.items():
        if p.get(mono, 0) != coefficient * c % R:
            return None
    return c


def _constant_value(p: Poly) -> int | None:
    if not p:
        return 0
    if len(p) == 1 and _ONE in p:
        return p[_ONE]
    return None


# --------------------------------------------------------------------------- multiples as affine forms


Interval = tuple[int, int]
_MAX_INTERVALS: Final[int] = 6


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    if len(out) > _MAX_INTERVALS:
        # Bridge the smallest gaps (a superset: sound for "never a multiple of l" checks).
        gaps = sorted(range(len(out) - 1), key=lambda i: out[i + 1][0] - out[i][1])
        bridged = set(gaps[: len(out) - _MAX_INTERVALS])
        merged: list[Interval] = []
        for i, interval in enumerate(out):
            if i and i - 1 in bridged:
                merged[-1] = (merged[-1][0], interval[1])
            else:
                merged.append(interval)
        out = merged
    return out


def _interval_sum(x: Sequence[Interval], y: Sequence[Interval]) -> list[Interval]:
    return _merge((a + c, b + d) for a, b in x for c, d in y)


def _interval_scale(x: Sequence[Interval], k: int) -> list[Interval]:
    return _merge((a * k, b * k) if k >= 0 else (b * k, a * k) for a, b in x)


@dataclass(frozen=True)
class _Form:
    """``const + sum(coefficient * symbol)``: an integer k with ``P = [k]G``."""

    const: int
    terms: tuple[tuple[int, int], ...] = ()

    def __add__(self, other: _Form) -> _Form:
        terms = dict(self.terms)
        for s, c in other.terms:
            terms[s] = terms.get(s, 0) + c
        return _Form(self.const + other.const, tuple(sorted((s, c) for s, c in terms.items() if c)))

    def scaled(self, k: int) -> _Form:
        return _Form(self.const * k, tuple((s, c * k) for s, c in self.terms if c * k))


# --------------------------------------------------------------------------- the curves


@dataclass(frozen=True)
class _Curve:
    a: int
    d: int
    #: Montgomery coefficients of the birationally equivalent curve.
    mont_a: int
    mont_b: int
    #: No Montgomery point has u = -1: ``(A - 2) / B`` is a non-square (it is d). Checked, not assumed.
    no_u_minus_one: bool
    #: The prime order l of the large subgroup, when the group order 8 * l is verified (Baby Jubjub).
    subgroup_order: int | None


def _miller_rabin(n: int) -> bool:
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for base in small:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@functools.cache
def _verified_subgroup_order(a: int, d: int) -> int | None:
    """l when the curve E(a, d) is Baby Jubjub and its group order 8 * l is verified by computation."""
    from zkhealth.hazmat import babyjubjub as bjj

    if (a, d) != (bjj.A, bjj.D):
        return None
    order, sub = bjj.ORDER, bjj.SUBORDER
    if order != 8 * sub or not _miller_rabin(sub):
        return None
    g = bjj.GENERATOR
    # ord(G) divides 8l, not 4l and is not 8: it is 8l, so #E is a multiple of 8l ...
    if bjj.mul(g, order) != bjj.IDENTITY or bjj.mul(g, order // 2) == bjj.IDENTITY or bjj.mul(g, 8) == bjj.IDENTITY:
        return None
    # ... and Hasse's bound |#E - (r + 1)| <= 2 sqrt(r) leaves room for one multiple only.
    root = _isqrt(R) + 1
    if abs(order - (R + 1)) > 2 * root or 2 * order <= R + 1 + 2 * root:
        return None
    return sub


def _isqrt(n: int) -> int:
    x = 1 << ((n.bit_length() + 1) // 2)
    while True:
        y = (x + n // x) // 2
        if y >= x:
            return x
        x = y


@functools.cache
def _curve(a: int, d: int) -> _Curve | None:
    """E(a, d) when the completeness premises hold: a a square, d a non-square, a != d."""
    if a == d or not _is_square(a) or _is_square(d) or d % R == 0:
        return None
    mont_a = 2 * (a + d) * pow(a - d, -1, R) % R
    mont_b = 4 * pow(a - d, -1, R) % R
    no_u_minus_one = not _is_square((mont_a - 2) * pow(mont_b, -1, R))
    return _Curve(a, d, mont_a, mont_b, no_u_minus_one, _verified_subgroup_order(a, d))


def _on_curve_value(curve: _Curve, x: int, y: int) -> bool:
    xx, yy = x * x % R, y * y % R
    return (curve.a * xx + yy - 1 - curve.d * xx % R * yy) % R == 0


@functools.cache
def _edwards_multiple(base: tuple[int, int], m: int) -> tuple[int, int]:
    from zkhealth.hazmat import babyjubjub as bjj

    return bjj.mul(base, m % bjj.ORDER)


@functools.cache
def _constant_point_level(curve: _Curve, x: int, y: int) -> int:
    """3 when the constant point is in the order-l subgroup (then it is [8]Q), else 0."""
    if curve.subgroup_order is None:
        return 0
    from zkhealth.hazmat import babyjubjub as bjj

    return 3 if bjj.in_subgroup((x, y)) else 0


def _to_montgomery_value(curve: _Curve, x: int, y: int) -> tuple[int, int] | None:
    if x == 0 or y == 1:
        return None
    u = (1 + y) * pow(1 - y, -1, R) % R
    return (u, u * pow(x, -1, R) % R)


# --------------------------------------------------------------------------- facts about points


@dataclass
class _EdPoint:
    curve: _Curve
    x: Poly
    y: Poly
    #: 2-adic cofactor level: 3 means the point is [8]Q for a curve point Q, so its order divides l.
    level: int
    #: The inverse atom of x, when a constraint proves x invertible.
    x_inverse: int | None = None


@dataclass
class _MontPoint:
    curve: _Curve
    u: Poly
    vs: list[Poly]
    #: Base: ("const", (x, y)) for a constant point of order l, or ("point", key) for a proven point.
    base: tuple[str, object]
    own: _Form
    definition: _Form
    index: int = 0
    #: ``3u^2 + 2Au + 1``, the numerator of its doubling slope (computed once).
    double_numerator: Poly | None = None


@dataclass
class _Division:
    """``q * den = num`` in constraint ``index``: q appears once, on one side, with the other side ``den``.

    For ``(k*q + rest) * other = c`` the numerator is ``c - rest * other`` (``rest`` empty for a plain division).
    """

    index: int
    q: int
    den_lc: LC
    num_c: LC
    num_rest: LC
    num_other: LC
    done: bool = False
    #: The registry generation of the last attempt (-1: never), and the atoms of den and num.
    tried: int = -1
    atoms: set[int] | None = None


@dataclass
class CurveLemmas:
    """Linear combinations proven non-zero in every witness, with the reason for each (the prover's input)."""

    nonzero: dict[tuple[tuple[int, int], ...], str] = field(default_factory=dict)
    #: Edwards points proven on a curve, and Montgomery points with their multiples (for reports and tests).
    edwards_points: int = 0
    montgomery_points: int = 0


# --------------------------------------------------------------------------- the analysis


class _Analysis:
    def __init__(self, builder: Builder, booleans: frozenset[int], deadline: float | None = None) -> None:
        self.b = builder
        self.deadline = deadline
        self.ca, self.cb, self.cc = builder._ca, builder._cb, builder._cc
        self.kinds = builder._var_kind
        n_vars = len(self.kinds)
        self.parent = list(range(n_vars))
        self.var_constraints: list[list[int]] = [[] for _ in range(n_vars)]
        for i in range(len(self.ca)):
            for v in {*self.ca[i], *self.cb[i], *self.cc[i]}:
                if v:
                    self.var_constraints[v].append(i)
        self._union_linear()
        self.booleans = frozenset(self.find(v) for v in booleans)
        self.definition: dict[int, tuple[LC, LC, int, int]] = {}
        #: Constraints that define a product (``A * B = m``): not divisions.
        self.defining: set[int] = set()
        self._find_definitions()
        self._poly_cache: dict[int, Poly] = {}
        self._depth = 0
        self._cut = False
        self._bool_cache: dict[tuple[tuple[int, int], ...], bool] = {}
        #: Selection atoms: -m for a product m = A * B with A = alpha * U + beta, U a boolean combination.
        self.selections: dict[int, tuple[tuple[tuple[int, int], ...], Poly, Poly]] = {}
        self.lemmas = CurveLemmas()
        self.curves: dict[tuple[int, int], _Curve] = {}
        self.edwards: dict[tuple[PolyKey, PolyKey], _EdPoint] = {}
        self.edwards_by_y: dict[PolyKey, list[_EdPoint]] = {}
        self.edwards_by_atom: dict[int, list[_EdPoint]] = {}
        self.montgomery: dict[PolyKey, list[_MontPoint]] = {}
        self.montgomery_by_atom: dict[int, list[_MontPoint]] = {}
        self.inverses: dict[PolyKey, int] = {}
        self._pending_inverses: list[tuple[LC, int, int]] = []
        self.symbols: list[list[Interval]] = []
        self._symbol_cache: dict[object, int] = {}
        self.constant_multiples: dict[tuple[int, int], list[tuple[_Curve, tuple[int, int], int]]] = {}
        #: Pending halves of an Edwards addition or doubling: key -> {"x": q, "y": q}.
        self._halves: dict[object, dict[str, tuple[int, tuple[_Curve, int]]]] = {}
        self._mont_halves: dict[int, dict[str, int]] = {}
        #: Atoms of each point registered, in order (generation = its length), and all of them as variables.
        self.new_atoms: list[set[int]] = []
        self.point_vars: set[int] = set()
        self._double_cache: dict[tuple[PolyKey, PolyKey], tuple[Poly, Poly, Poly, Poly]] = {}

    @property
    def generation(self) -> int:
        return len(self.new_atoms)

    # ------------------------------------------------------------------ variables

    def find(self, v: int) -> int:
        root = v
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[v] != root:
            self.parent[v], v = root, self.parent[v]
        return root

    def _union_linear(self) -> None:
        """Merge x and y for every constraint that says ``x = y`` (assert_equal, an output of one variable)."""
        for i in range(len(self.ca)):
            a, b, c = self.ca[i], self.cb[i], self.cc[i]
            for side, other in ((a, b), (b, a)):
                if set(other) != {0} or len(side) != 1:
                    continue
                ((v, k),) = side.items()
                if v == 0 or len(c) != 1 or 0 in c:
                    continue
                ((u, kc),) = c.items()
                if kc == k * other[0] % R:
                    ru, rv = self.find(u), self.find(v)
                    if ru != rv:
                        lo, hi = min(ru, rv), max(ru, rv)
                        self.parent[hi] = lo

    def _find_definitions(self) -> None:
        """``m = (A * B - c0) / k`` for products (and outputs: ``out * 1 = L``), from their first constraint."""
        for i in range(len(self.ca)):
            a, b, c = self.ca[i], self.cb[i], self.cc[i]
            candidates = [v for v in c if v and self.kinds[v] in (VAR_MUL, VAR_OUTPUT)]
            for m in candidates:
                if m in self.definition or m in a or m in b or any(v and v != m for v in c):
                    continue
                self.definition[m] = (a, b, c[m], c.get(0, 0))
                self.defining.add(i)
            if set(b) == {0} and len(a) == 1:
                ((out, k),) = a.items()
                if out and self.kinds[out] == VAR_OUTPUT and out not in self.definition and out not in c:
                    # out * k_b = C: out = C / (k * k_b).
                    self.definition[out] = ({0: 1}, c, k * b[0] % R, 0)

    def poly_var(self, v: int) -> Poly:
        rep = self.find(v)
        cached = self._poly_cache.get(rep)
        if cached is not None:
            return cached
        if self._depth >= _MAX_NESTING:
            # Too deep to matter for curve shapes: an atom here, not remembered (a shallower visit expands it).
            self._cut = True
            return _atom(rep)
        self._poly_cache[rep] = _atom(rep)  # stands in while expanding: definitions cannot loop
        outer, self._cut = self._cut, False
        self._depth += 1
        try:
            out = self._expand(rep)
        finally:
            self._depth -= 1
        if self._cut:
            del self._poly_cache[rep]
        else:
            self._poly_cache[rep] = out
        self._cut = self._cut or outer
        return out

    def _expand(self, rep: int) -> Poly:
        candidates = [rep] + [v for v in self._class_members(rep) if v != rep]
        for v in candidates:
            definition = self.definition.get(v)
            if definition is None:
                continue
            a, b, k, c0 = definition
            selection = self._selection(v, a, b)
            if selection is not None:
                return selection
            pa, pb = self.poly_lc(a), self.poly_lc(b)
            if len(pa) * len(pb) > 4 * _MAX_TERMS:
                continue
            product = _mul(pa, pb, self.booleans, _MAX_TERMS)
            if product is None:
                continue
            out = _scale(_add(product, _const(c0), -1), pow(k, -1, R))
            if len(out) <= _MAX_TERMS and _degree(out) <= _MAX_DEGREE:
                return out
        return _atom(rep)

    @functools.cached_property
    def _classes(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for v in range(len(self.parent)):
            r = self.find(v)
            if r != v:
                out.setdefault(r, []).append(v)
        return out

    def _class_members(self, rep: int) -> list[int]:
        return self._classes.get(rep, [])

    def poly_lc(self, lc: Mapping[int, int]) -> Poly:
        out: Poly = {}
        for v, k in lc.items():
            if v == 0:
                out = _add(out, _const(k))
            else:
                out = _add(out, self.poly_var(v), k)
        return out

    # ------------------------------------------------------------------ booleans and selections

    def is_bool(self, lc: Mapping[int, int]) -> bool:
        """The combination takes only the values 0 and 1 in every witness (shapes of booleans and their logic)."""
        key = tuple(sorted(lc.items()))
        cached = self._bool_cache.get(key)
        if cached is not None:
            return cached
        if len(lc) > _MAX_BOOLEAN_TERMS:
            return False
        if self._depth >= _MAX_NESTING:
            self._cut = True
            return False
        self._bool_cache[key] = False  # stands in while proving: no loops
        outer, self._cut = self._cut, False
        self._depth += 1
        try:
            result = self._is_bool(dict(lc))
        finally:
            self._depth -= 1
        if result or not self._cut:
            self._bool_cache[key] = result
        else:
            del self._bool_cache[key]
        self._cut = self._cut or outer
        return result

    def _warm_up(self) -> None:
        """Prove booleans bottom-up (carry chains are long; each link then needs only the one before)."""
        for m in sorted(self.definition):
            if self.kinds[m] != VAR_MUL:
                continue
            a, b, _, _ = self.definition[m]
            for factor in (a, b):
                if 2 <= len(factor) <= _MAX_BOOLEAN_TERMS and any(self.find(v) in self.booleans for v in factor if v):
                    self.is_bool(factor)

    def _is_bool(self, lc: dict[int, int]) -> bool:
        const = lc.get(0, 0)
        variables = {v: k for v, k in lc.items() if v}
        if not variables:
            return const in (0, 1)
        if len(variables) == 1:
            ((v, k),) = variables.items()
            if (k, const) == (1, 0) or (k, const) == (R - 1, 1):
                return self._bool_var(v)
        # delta + alpha*X + beta*Y + gamma*(X*Y) for a product m = X * Y of booleans X, Y.
        for m, gamma in variables.items():
            definition = self.definition.get(m)
            if definition is None or self.kinds[m] != VAR_MUL:
                continue
            x, y, k, c0 = definition
            if k != 1 or c0 or not self.is_bool(x) or not self.is_bool(y):
                continue
            rest = {v: c for v, c in variables.items() if v != m}
            alpha = self._coefficient_of(rest, x, y)
            beta = self._coefficient_of(rest, y, x)
            if alpha is None or beta is None:
                continue
            combined: dict[int, int] = {}
            for source, scale in ((x, alpha), (y, beta)):
                for v, c in source.items():
                    combined[v] = (combined.get(v, 0) + c * scale) % R
            combined = {v: c for v, c in combined.items() if c}
            base = (const - combined.pop(0, 0)) % R
            if combined != rest:
                continue
            values = {(base + alpha * xv + beta * yv + gamma * xv * yv) % R for xv in (0, 1) for yv in (0, 1)}
            if values <= {0, 1}:
                return True
        return False

    @staticmethod
    def _coefficient_of(rest: Mapping[int, int], x: Mapping[int, int], y: Mapping[int, int]) -> int | None:
        own = [v for v in x if v and v not in y]
        if not own:
            return 0 if not any(v in rest for v in x if v) else None
        v = own[0]
        return rest.get(v, 0) * pow(x[v], -1, R) % R

    def _bool_var(self, v: int) -> bool:
        if self.find(v) in self.booleans:
            return True
        definition = self.definition.get(v)
        if definition is not None and self.kinds[v] == VAR_MUL:
            x, y, k, c0 = definition
            return k == 1 and not c0 and self.is_bool(x) and self.is_bool(y)
        return False

    def _unit(self, lc: Mapping[int, int]) -> tuple[tuple[tuple[int, int], ...], int, int] | None:
        """(key of U, alpha, beta) with ``lc = alpha * U + beta`` and U boolean, U not a single variable."""
        variables = {v: k for v, k in lc.items() if v}
        if not 2 <= len(variables) <= _MAX_BOOLEAN_TERMS:
            return None
        first = min(variables)
        scale = variables[first]
        inv = pow(scale, -1, R)
        unit = {v: k * inv % R for v, k in variables.items()}
        for sign in (1, R - 1):
            candidate = {v: k * sign % R for v, k in unit.items()}
            if self.is_bool(candidate):
                return (tuple(sorted(candidate.items())), scale * sign % R, lc.get(0, 0))
        return None

    def _selection(self, m: int, a: LC, b: LC) -> Poly | None:
        for factor, other in ((a, b), (b, a)):
            unit = self._unit(factor)
            if unit is None:
                continue
            key, alpha, beta = unit
            rest = self.poly_lc(other)
            self.selections[-m] = (key, _scale(rest, beta), _scale(rest, alpha + beta))
            return _atom(-m)
        return None

    # ------------------------------------------------------------------ case enumeration

    def _units_of(self, polys: Sequence[Poly]) -> list[object]:
        units: list[object] = []
        for p in polys:
            for a in sorted(_atoms(p)):
                unit: object
                if a < 0:
                    unit = self.selections[a][0]
                elif a in self.booleans:
                    unit = a
                else:
                    continue
                if unit not in units:
                    units.append(unit)
        return units

    def _assign(self, p: Poly, unit: object, value: int) -> Poly:
        out: Poly = {}
        for m, c in p.items():
            term: Poly = {_ONE: c}
            for a, e in m:
                factor: Poly
                if a < 0 and self.selections[a][0] == unit:
                    branch = self.selections[a][2] if value else self.selections[a][1]
                    factor = branch
                    for _ in range(e - 1):
                        factor = _mul(factor, branch, self.booleans) or {}
                elif a == unit:
                    factor = _const(value)
                else:
                    factor = {((a, e),): 1}
                term = _mul(term, factor, self.booleans) or {}
                if not term:
                    break
            out = _add(out, term)
        return out

    def cases(self, polys: Sequence[Poly]) -> Iterator[list[Poly]] | None:
        """Every assignment of the booleans (and selections) the polynomials depend on; None if too many.

        Iterating raises ``_TooManyCases`` when substituted selections bring in more than ``_MAX_UNITS``.
        """
        if len(self._units_of(polys)) > _MAX_UNITS:
            return None

        def walk(current: list[Poly], level: int) -> Iterator[list[Poly]]:
            remaining = self._units_of(current)
            if not remaining:
                yield current
                return
            if level >= _MAX_UNITS:
                raise _TooManyCases
            unit = remaining[0]
            for value in (0, 1):
                yield from walk([self._assign(p, unit, value) for p in current], level + 1)

        return walk(list(polys), 0)

    # ------------------------------------------------------------------ registries

    def curve_of(self, a: int, d: int) -> _Curve | None:
        key = (a % R, d % R)
        if key not in self.curves:
            curve = _curve(*key)
            if curve is None:
                return None
            self.curves[key] = curve
        return self.curves[key]

    def add_edwards(self, curve: _Curve, x: Poly, y: Poly, level: int) -> bool:
        key = (_key(x), _key(y))
        existing = self.edwards.get(key)
        if existing is not None:
            if level > existing.level:
                existing.level = level
                self._note_atoms(_atoms(x) | _atoms(y))
                return True
            return False
        point = _EdPoint(curve, x, y, level)
        self.edwards[key] = point
        self._note_atoms(_atoms(x) | _atoms(y))
        self.edwards_by_y.setdefault(_key(y), []).append(point)
        for a in _atoms(x) | _atoms(y):
            bucket = self.edwards_by_atom.setdefault(a, [])
            bucket.append(point)
            del bucket[:-_INDEX_DEPTH]
        self.lemmas.edwards_points += 1
        return True

    def _note_atoms(self, atoms: set[int]) -> None:
        variables = {abs(a) for a in atoms}
        self.new_atoms.append(variables)
        self.point_vars |= variables

    def classify_edwards(self, x: Poly, y: Poly) -> tuple[_Curve, int] | None:
        """(curve, level) when (x, y) is a curve point in every case of its booleans."""
        direct = self._edwards_case(x, y)
        if direct is not None:
            return direct
        try:
            enumeration = self.cases([x, y])
            if enumeration is None:
                return None
            found: tuple[_Curve, int] | None = None
            for cx, cy in enumeration:
                one = self._edwards_case(cx, cy)
                if one is None or (found is not None and one[0] != found[0]):
                    return None
                found = one if found is None else (found[0], min(found[1], one[1]))
            return found
        except _TooManyCases:
            return None

    def _edwards_case(self, x: Poly, y: Poly) -> tuple[_Curve, int] | None:
        vx, vy = _constant_value(x), _constant_value(y)
        if vx is not None and vy is not None:
            for curve in self.curves.values():
                if _on_curve_value(curve, vx, vy):
                    return curve, _constant_point_level(curve, vx, vy)
            return None
        for candidate in (x, _scale(x, -1)):
            point = self.edwards.get((_key(candidate), _key(y)))
            if point is not None:
                return point.curve, point.level
        return None

    def add_montgomery(self, point: _MontPoint) -> None:
        bucket = self.montgomery.setdefault(_key(point.u), [])
        for existing in bucket:
            if existing.base == point.base and {_key(v) for v in existing.vs} & {_key(v) for v in point.vs}:
                for v in point.vs:
                    if _key(v) not in {_key(w) for w in existing.vs}:
                        existing.vs.append(v)
                return
        point.index = self.lemmas.montgomery_points
        bucket.append(point)
        atoms = _atoms(point.u)
        for v in point.vs:
            atoms |= _atoms(v)
        self._note_atoms(atoms)
        for a in atoms:
            index = self.montgomery_by_atom.setdefault(a, [])
            index.append(point)
            del index[:-_INDEX_DEPTH]
        self.lemmas.montgomery_points += 1

    def find_montgomery(self, u: Poly, v: Poly) -> tuple[_MontPoint, int] | None:
        """(point, sign): ``(u, v)`` is the point (sign 1) or its negation (sign -1)."""
        for point in self.montgomery.get(_key(u), []):
            keys = {_key(w) for w in point.vs}
            if _key(v) in keys:
                return point, 1
            if _key(_scale(v, -1)) in keys:
                return point, -1
        return None

    def symbol(self, ranges: list[Interval], cache_key: object = None) -> _Form:
        if cache_key is not None and cache_key in self._symbol_cache:
            return _Form(0, ((self._symbol_cache[cache_key], 1),))
        self.symbols.append(_merge(ranges))
        index = len(self.symbols) - 1
        if cache_key is not None:
            self._symbol_cache[cache_key] = index
        return _Form(0, ((index, 1),))

    def form_range(self, form: _Form) -> list[Interval]:
        out: list[Interval] = [(form.const, form.const)]
        for s, c in form.terms:
            out = _interval_sum(out, _interval_scale(self.symbols[s], c))
        return out

    def avoids_multiples(self, form: _Form, order: int) -> bool:
        """No value of the form is a multiple of l (so the point is not the identity)."""
        for lo, hi in self.form_range(form):
            first = -((-lo) // order)  # ceil(lo / l)
            if first * order <= hi:
                return False
        return True

    def classify_montgomery(self, u: Poly, v: Poly) -> tuple[_Curve, tuple[str, object], _Form] | None:
        direct = self._montgomery_case(u, v)
        if direct is not None:
            return direct
        try:
            enumeration = self.cases([u, v])
            if enumeration is None:
                return None
            results = []
            for cu, cv in enumeration:
                one = self._montgomery_case(cu, cv)
                if one is None:
                    return None
                results.append(one)
        except _TooManyCases:
            return None
        curve, base, form = results[0]
        if any(r[0] != curve or r[1] != base for r in results):
            return None
        if all(r[2] == form for r in results):
            return curve, base, form
        ranges: list[Interval] = []
        for r in results:
            ranges.extend(self.form_range(r[2]))
        return curve, base, self.symbol(ranges, ("montgomery", _key(u), _key(v)))

    def _montgomery_case(self, u: Poly, v: Poly) -> tuple[_Curve, tuple[str, object], _Form] | None:
        cu, cv = _constant_value(u), _constant_value(v)
        if cu is not None and cv is not None:
            for sign in (1, -1):
                for curve, base, m in self.constant_multiples.get((cu, cv * sign % R), []):
                    return curve, ("const", base), _Form(m * sign)
            return None
        found = self.find_montgomery(u, v)
        if found is None:
            return None
        point, sign = found
        return point.curve, point.base, point.own.scaled(sign)

    # ------------------------------------------------------------------ the passes

    def _may_have_curves(self) -> bool:
        """Cheap shape test: a constraint that could be an on-curve check, or a claim."""
        if self.b._curve_claims:
            return True
        for i in range(len(self.ca)):
            a, b, c = self.ca[i], self.cb[i], self.cc[i]
            if len(a) == 1 and len(b) == 1 and 2 <= len(c) <= 4 and 0 in c and 0 not in a and 0 not in b:
                return True
        return False

    def run(self) -> CurveLemmas:
        if not self._may_have_curves():
            return self.lemmas
        self._warm_up()
        divisions = self._collect()
        self._claims()
        if not self.curves:
            return self.lemmas
        for _ in range(8):
            progress = False
            for division in divisions:
                if division.done or not self._worth_retrying(division):
                    continue
                if self.deadline is not None and time.monotonic() > self.deadline:
                    return self.lemmas
                division.tried = self.generation
                if self._division(division):
                    division.done = True
                    progress = True
            if not progress:
                break
        return self.lemmas

    def _worth_retrying(self, division: _Division) -> bool:
        """First attempt, or a point registered since shares an atom with the division."""
        if division.tried < 0:
            return True
        if division.tried == self.generation:
            return False
        atoms = division.atoms
        if atoms is None:
            atoms = set()
            for lc in (division.den_lc, division.num_c, division.num_rest):
                for v in lc:
                    if v:
                        atoms.add(self.find(v))
                        definition = self.definition.get(v)
                        if definition is not None:
                            atoms.update(self.find(u) for u in (*definition[0], *definition[1]) if u)
            division.atoms = atoms
        return any(not atoms.isdisjoint(new) for new in self.new_atoms[division.tried:])

    def _collect(self) -> list[_Division]:
        divisions: list[_Division] = []
        for i in range(len(self.ca)):
            a, b, c = self.ca[i], self.cb[i], self.cc[i]
            if len(a) + len(b) + len(c) > 40:
                continue
            self._on_curve_constraint(a, b, c)
            self._inverse_constraint(a, b, c)
            if i in self.defining:
                continue
            for side, other in ((a, b), (b, a)):
                if not other or set(other) == {0} or len(other) > 16:
                    continue
                hints = [v for v in side if v and self.kinds[v] == VAR_HINT]
                for q, kq in side.items():
                    if q == 0 or self.kinds[q] != VAR_HINT or q in other or q in c or self.find(q) in self.booleans:
                        continue
                    # The latest hint of its side, and no hint made after it in c (that would be a definition
                    # of that hint, as in lam * (u1 - u3) = v3 + v1, not a division).
                    if q != max(hints) or any(v > q and self.kinds[v] == VAR_HINT for v in c):
                        continue
                    # (kq*q + rest) * other = c: q * (kq * other) = c - rest * other.
                    rest = {v: k for v, k in side.items() if v != q}
                    den = {v: k * kq % R for v, k in other.items()}
                    divisions.append(_Division(i, q, den, c, rest, other))
        return divisions

    def num_poly(self, division: _Division) -> Poly | None:
        num = self.poly_lc(division.num_c)
        if not division.num_rest:
            return num
        product = _mul(self.poly_lc(division.num_rest), self.poly_lc(division.num_other), self.booleans,
                       _MAX_TERMS)
        return None if product is None else _add(num, product, -1)

    def _is_square_var(self, lc: LC) -> bool:
        """``lc`` is ``k * s`` for a product ``s = L * L`` of a combination L of at most two variables."""
        if len(lc) != 1 or 0 in lc:
            return False
        (v,) = lc
        definition = self.definition.get(v)
        return definition is not None and definition[0] == definition[1] and len(definition[0]) <= 2

    def _on_curve_constraint(self, a: LC, b: LC, c: LC) -> None:
        # Shape first (k x^2) * (y^2) = a' x^2 + y^2 - 1, before any polynomial is expanded.
        if not 2 <= len(c) <= 4 or 0 not in c:
            return
        if not (self._is_square_var(a) or self._is_square_var(b)):
            return
        pa, pb = self.poly_lc(a), self.poly_lc(b)
        if len(pa) * len(pb) > 16:
            return
        product = _mul(pa, pb, self.booleans)
        if product is None:
            return
        p = _add(product, self.poly_lc(c), -1)
        if len(p) != 4 or _ONE not in p:
            return
        squares = [m for m in p if len(m) == 1 and m[0][1] == 2]
        quartic = [m for m in p if len(m) == 2 and m[0][1] == 2 and m[1][1] == 2]
        if len(squares) != 2 or len(quartic) != 1:
            return
        kappa = (-p[_ONE]) % R
        if not kappa:
            return
        inv = pow(kappa, -1, R)
        for mx, my in ((squares[0], squares[1]), (squares[1], squares[0])):
            x_atom, y_atom = mx[0][0], my[0][0]
            if {x_atom, y_atom} != {quartic[0][0][0], quartic[0][1][0]}:
                continue
            if p[my] * inv % R != 1:
                continue
            curve_a = p[mx] * inv % R
            curve_d = (-p[quartic[0]]) * inv % R
            curve = self.curve_of(curve_a, curve_d)
            if curve is not None:
                self.add_edwards(curve, _atom(x_atom), _atom(y_atom), 0)

    def _inverse_constraint(self, a: LC, b: LC, c: LC) -> None:
        """Record ``X * w = 1`` (w a hint): X is invertible, w its inverse (polynomials only when X is small)."""
        if set(c) != {0}:
            return
        for side, other in ((a, b), (b, a)):
            if len(side) == 1 and 0 not in side and len(other) <= 2:
                ((w, k),) = side.items()
                if self.kinds[w] == VAR_HINT and w not in other:
                    self._pending_inverses.append((other, k * pow(c[0], -1, R), w))

    def inverse_of(self, x: Poly) -> int | None:
        while self._pending_inverses:
            other, k, w = self._pending_inverses.pop()
            self.inverses[_key(_scale(self.poly_lc(other), k))] = self.find(w)
        return self.inverses.get(_key(x))

    def _claims(self) -> None:
        for claim in self.b._curve_claims:
            curve = self.curve_of(*claim.curve)
            if curve is not None:
                self._claim(curve, claim.point, claim.base, claim.multiples, claim.montgomery)

    def _claim(
        self, curve: _Curve, point: tuple[LC, LC], base: tuple[int, int], multiples: Sequence[int], montgomery: bool
    ) -> None:
        """Verify a claim ``point in {[m] base}`` case by case, by computing each multiple."""
        if not _on_curve_value(curve, *base) or base == (0, 1):
            return
        order = curve.subgroup_order
        if order is None or _edwards_multiple(base, order) != (0, 1):
            return
        values: dict[tuple[int, int], int] = {}
        for m in multiples:
            if m % order == 0:
                return
            px, py = _edwards_multiple(base, m)
            image = _to_montgomery_value(curve, px, py) if montgomery else (px, py)
            if image is None:
                return
            values[image] = m
        u, v = self.poly_lc(point[0]), self.poly_lc(point[1])
        try:
            enumeration = self.cases([u, v])
            if enumeration is None:
                return
            seen: list[int] = []
            for cu, cv in enumeration:
                u_value, v_value = _constant_value(cu), _constant_value(cv)
                if u_value is None or v_value is None or (u_value, v_value) not in values:
                    return
                seen.append(values[(u_value, v_value)])
        except _TooManyCases:
            return
        if not montgomery:
            self.add_edwards(curve, u, v, 3)
            return
        for image, m in values.items():
            self.constant_multiples.setdefault(image, []).append((curve, base, m))
        form = _Form(seen[0]) if len(set(seen)) == 1 else self.symbol([(m, m) for m in seen])
        self.add_montgomery(_MontPoint(curve, u, [v], ("const", base), form, form))

    # ------------------------------------------------------------------ one division

    def _division(self, division: _Division) -> bool:
        if not self._near_points(division):
            return False
        den = self.poly_lc(division.den_lc)
        if not den or _constant_value(den) is not None:
            return False
        num = self.num_poly(division)
        if num is None:
            return False
        for rule in (self._edwards_add, self._edwards_double, self._to_montgomery, self._from_montgomery,
                     self._montgomery_double, self._montgomery_add):
            reason = rule(division, den, num)
            if reason is not None:
                self.lemmas.nonzero.setdefault(normalize_lc(division.den_lc), reason)
                return True
        return False

    def _near_points(self, division: _Division) -> bool:
        """Cheap test: the division reads a variable of a known point, or squares (a doubling)."""
        for lc in (division.den_lc, division.num_c, division.num_rest):
            for v in lc:
                if v and (self.find(v) in self.point_vars or self._is_square_var({v: 1})):
                    return True
                definition = self.definition.get(v) if v else None
                if definition is not None and any(self.find(u) in self.point_vars for u in (*definition[0],
                                                                                             *definition[1]) if u):
                    return True
        return False

    def q_poly(self, division: _Division) -> Poly:
        return self.poly_var(division.q)

    # Edwards -----------------------------------------------------------

    def _edwards_add(self, division: _Division, den: Poly, num: Poly) -> str | None:
        c = den.get(_ONE, 0)
        if not c:
            return None
        atoms = _atoms(num)
        candidates: list[_EdPoint] = []
        for a in atoms:
            for point in self.edwards_by_atom.get(a, []):
                if point not in candidates:
                    candidates.append(point)
        inv_c = pow(c, -1, R)
        matched = False
        for p1 in candidates:
            x1, y1 = _single_atom(p1.x), _single_atom(p1.y)
            if x1 is None or y1 is None or x1 == y1:
                continue
            split_x = _split_linear(num, x1)
            if split_x is None:
                continue
            coefficient_x, rest = split_x
            split_y = _split_linear(rest, y1)
            if split_y is None or split_y[1]:
                continue
            coefficient_y = split_y[0]
            if x1 in _atoms(coefficient_y) or y1 in _atoms(coefficient_x) or y1 in _atoms(coefficient_x):
                continue
            curve = p1.curve
            xy = _mul(_mul(p1.x, p1.y, self.booleans) or {}, _mul(coefficient_x, coefficient_y, self.booleans) or {},
                      self.booleans) or {}
            # x-type: num = c (x1*y2 + y1*x2), den = c (1 + d x1 x2 y1 y2).
            y2, x2 = _scale(coefficient_x, inv_c), _scale(coefficient_y, inv_c)
            if den == _add(_const(c), _scale(xy, curve.d * inv_c)):
                kind = "x"
            else:
                # y-type: num = c (y1*y2 - a*x1*x2), den = c (1 - d x1 x2 y1 y2).
                y2 = _scale(coefficient_y, inv_c)
                x2 = _scale(coefficient_x, (-inv_c) * pow(curve.a, -1, R))
                if den != _add(_const(c), _scale(xy, curve.d * inv_c * pow(curve.a, -1, R))):
                    continue
                kind = "y"
            other = self.classify_edwards(x2, y2)
            if other is None or other[0] != curve:
                continue
            level = min(p1.level, other[1])
            pair = frozenset({(_key(p1.x), _key(p1.y)), (_key(x2), _key(y2))})
            # Every reading is recorded: y1*y2 - a*x1*x2 is also the y of (s*x1, y1) + (x2/s, y2) for s = +-1,
            # and only the reading shared with the x coordinate's division gives the sum.
            self._half(("add", pair), kind, division.q, curve, level)
            matched = True
        return COMPLETENESS if matched else None

    def _edwards_double(self, division: _Division, den: Poly, num: Poly) -> str | None:
        candidates: list[tuple[Poly, Poly]] = []
        for a in _atoms(num):
            for point in self.edwards_by_atom.get(a, []):
                candidates.append((point.x, point.y))
        squares = []
        for v in division.den_lc:
            definition = self.definition.get(v) if v else None
            if definition is not None and self.kinds[v] == VAR_MUL:
                fa, fb, _, c0 = definition
                if fa == fb and not c0:
                    squares.append(self.poly_lc(fa))
        for s1 in squares:
            for s2 in squares:
                if s1 is not s2:
                    candidates.append((s1, s2))
        for x, y in candidates:
            cache_key = (_key(x), _key(y))
            cached = self._double_cache.get(cache_key)
            if cached is None:
                products = (_mul(x, y, self.booleans), _mul(x, x, self.booleans), _mul(y, y, self.booleans))
                if not all(products):
                    continue
                xy, xx, yy = (p or {} for p in products)
                cached = (xy, xx, yy, _mul(xx, yy, self.booleans) or {})
                self._double_cache[cache_key] = cached
            xy, xx, yy, xxyy = cached
            for curve in self.curves.values():
                on_curve = _add(_add(_add(_scale(xx, curve.a), yy), _const(-1)), xxyy, -curve.d)
                c = _ratio(num, _scale(xy, 2))
                if c is not None:
                    kind, target = "x", _add(_const(c), _scale(xxyy, c * curve.d))
                else:
                    c = _ratio(num, _add(yy, _scale(xx, -curve.a)))
                    if c is None:
                        continue
                    kind, target = "y", _add(_const(c), _scale(xxyy, -c * curve.d))
                difference = _add(den, target, -1)
                if difference and _ratio(difference, on_curve) is None:
                    continue
                classified = self.classify_edwards(x, y)
                if classified is None or classified[0] != curve:
                    continue
                self._half(("double", (_key(x), _key(y))), kind, division.q, curve, min(3, classified[1] + 1))
                return COMPLETENESS
        return None

    def _half(self, key: object, kind: str, q: int, curve: _Curve, level: int) -> None:
        halves = self._halves.setdefault(key, {})
        halves[kind] = (q, (curve, level))
        if "x" in halves and "y" in halves:
            (qx, (curve_x, level_x)), (qy, _) = halves["x"], halves["y"]
            self.add_edwards(curve_x, self.poly_var(qx), self.poly_var(qy), level_x)

    # Edwards <-> Montgomery -------------------------------------------------

    def _to_montgomery(self, division: _Division, den: Poly, num: Poly) -> str | None:
        total = _constant_value(_add(den, num))
        if not total:
            return None
        c = total * pow(2, -1, R) % R
        y = _scale(_add(num, den, -1), pow(2 * c, -1, R))
        for point in self.edwards_by_y.get(_key(y), []):
            x_inverse = point.x_inverse if point.x_inverse is not None else self.inverse_of(point.x)
            if x_inverse is None:
                continue
            point.x_inverse = x_inverse
            curve = point.curve
            if point.level >= 3 and curve.subgroup_order is not None:
                u = self.q_poly(division)
                v = _mul(u, _atom(x_inverse), self.booleans) or {}
                base = ("point", (_key(point.x), _key(point.y)))
                self.add_montgomery(_MontPoint(curve, u, [v], base, _Form(1), _Form(1)))
            return TO_MONTGOMERY
        return None

    def _from_montgomery(self, division: _Division, den: Poly, num: Poly) -> str | None:
        difference = _constant_value(_add(den, num, -1))
        if difference:
            # y = (u - 1) / (u + 1): den - num = 2c.
            c = difference * pow(2, -1, R) % R
            u = _scale(_add(den, num), pow(2 * c, -1, R))
            for point in self.montgomery.get(_key(u), []):
                if not point.curve.no_u_minus_one:
                    continue
                self._mont_half(point, "y", division.q)
                return FROM_MONTGOMERY
            return None
        # x = u / v: den = c v, num = c u.
        for a in _atoms(num):
            for point in self.montgomery_by_atom.get(a, []):
                scale = _ratio(num, point.u)
                if scale is None:
                    continue
                if any(_ratio(den, v) == scale for v in point.vs):
                    self._mont_half(point, "x", division.q)
                    return FROM_MONTGOMERY
        return None

    def _mont_half(self, point: _MontPoint, kind: str, q: int) -> None:
        halves = self._mont_halves.setdefault(id(point), {})
        halves[kind] = q
        if "x" in halves and "y" in halves:
            self.add_edwards(point.curve, self.poly_var(halves["x"]), self.poly_var(halves["y"]), 3)

    # Montgomery arithmetic ------------------------------------------------

    def _montgomery_double(self, division: _Division, den: Poly, num: Poly) -> str | None:
        for a in _atoms(den):
            for point in self.montgomery_by_atom.get(a, []):
                curve = point.curve
                if point.double_numerator is None:
                    uu = _mul(point.u, point.u, self.booleans) or {}
                    point.double_numerator = _add(_add(_scale(uu, 3), _scale(point.u, 2 * curve.mont_a)), _const(1))
                c = _ratio(num, point.double_numerator)
                if c is None:
                    continue
                if not any(_ratio(den, _scale(v, 2 * curve.mont_b)) == c for v in point.vs):
                    continue
                # v != 0: the point is [k]G with G of odd prime order and k not a multiple of l.
                lam = self.q_poly(division)
                u2 = self._materialize(_add(_add(_scale(_mul(lam, lam, self.booleans) or {}, curve.mont_b),
                                                 _const(-curve.mont_a)), _scale(point.u, -2)), division.q)
                vs = []
                for v in point.vs:
                    v2 = _add(_mul(lam, _add(point.u, u2, -1), self.booleans) or {}, v, -1)
                    vs.append(self._materialize(v2, division.q))
                order = curve.subgroup_order
                definition = point.own.scaled(2)
                if order is None or not self.avoids_multiples(definition, order):
                    return INCOMPLETE
                own = self._own(definition)
                self.add_montgomery(_MontPoint(curve, u2, vs, point.base, own, definition))
                return INCOMPLETE
        return None

    def _own(self, definition: _Form) -> _Form:
        if not definition.terms:
            return definition
        return self.symbol(self.form_range(definition))

    def _montgomery_add(self, division: _Division, den: Poly, num: Poly) -> str | None:
        registered: list[_MontPoint] = []
        for a in sorted(_atoms(den)):
            for point in reversed(self.montgomery_by_atom.get(a, [])):
                if point not in registered:
                    registered.append(point)
        # The most recent points first (operands are usually made just before their sum).
        registered.sort(key=lambda p: -p.index)
        del registered[16:]
        for p1 in registered:
            # The other operand: registered, or read off the division.
            for p2 in registered:
                if p2 is p1 or p2.base != p1.base:
                    continue
                c = _ratio(den, _add(p2.u, p1.u, -1))
                if c is None:
                    continue
                for v1 in p1.vs:
                    for v2 in p2.vs:
                        if _ratio(num, _add(v2, v1, -1)) == c:
                            reason = self._montgomery_sum(division, p1, v1, (p2.u, v2, p2.own, p2.definition))
                            if reason is not None:
                                return reason
            monomials = [m for m in p1.u if m != _ONE][:3]
            for v1 in p1.vs:
                for m in monomials:
                    c = (-den.get(m, 0)) * pow(p1.u[m], -1, R) % R
                    if not c:
                        continue
                    inv_c = pow(c, -1, R)
                    u2 = _add(_scale(den, inv_c), p1.u)
                    v2 = _add(_scale(num, inv_c), v1)
                    found = self.classify_montgomery(u2, v2)
                    if found is None or found[1] != p1.base:
                        continue
                    reason = self._montgomery_sum(division, p1, v1, (u2, v2, found[2], found[2]))
                    if reason is not None:
                        return reason
        return None

    def _montgomery_sum(
        self, division: _Division, p1: _MontPoint, v1: Poly, other: tuple[Poly, Poly, _Form, _Form]
    ) -> str | None:
        u2, v2, own2, definition2 = other
        curve = p1.curve
        order = curve.subgroup_order
        if order is None:
            return None
        # P1 != +-P2: neither k1 - k2 nor k1 + k2 is a multiple of l, in some exact representation.
        pairs = [(f1, f2) for f1 in (p1.own, p1.definition) for f2 in (own2, definition2)]
        if not any(self.avoids_multiples(f1 + f2.scaled(-1), order) for f1, f2 in pairs):
            return None
        sums = [f1 + f2 for f1, f2 in pairs]
        good = [s for s in sums if self.avoids_multiples(s, order)]
        if not good:
            return None
        definition = min(good, key=lambda f: sum(hi - lo for lo, hi in self.form_range(f)))
        lam = self.q_poly(division)
        lam2 = _mul(lam, lam, self.booleans) or {}
        u3 = _add(_add(_add(_scale(lam2, curve.mont_b), _const(-curve.mont_a)), p1.u, -1), u2, -1)
        u3 = self._materialize(u3, division.q)
        vs = []
        for ua, va in ((p1.u, v1), (u2, v2)):
            v3 = _add(_mul(lam, _add(ua, u3, -1), self.booleans) or {}, va, -1)
            vs.append(self._materialize(v3, division.q))
        self.add_montgomery(_MontPoint(curve, u3, vs, p1.base, self._own(definition), definition))
        return INCOMPLETE

    def _materialize(self, expected: Poly, near: int) -> Poly:
        """The hint variable whose defining constraint says it equals ``expected``, else ``expected`` itself."""
        target = _key(expected)
        for i in self.var_constraints[near]:
            a, b, c = self.ca[i], self.cb[i], self.cc[i]
            candidates = [z for z in c if z and self.kinds[z] == VAR_HINT and z not in a and z not in b]
            if not candidates:
                continue
            product = _mul(self.poly_lc(a), self.poly_lc(b), self.booleans, _MAX_TERMS)
            if product is None:
                continue
            for z in candidates:
                # A * B = k z + rest holds in every witness: z = (A * B - rest) / k.
                rest = {v: k for v, k in c.items() if v != z}
                definition = _scale(_add(product, self.poly_lc(rest), -1), pow(c[z], -1, R))
                if _key(definition) == target:
                    return self.poly_var(z)
        return expected


class _TooManyCases(Exception):
    pass


def curve_lemmas(builder: Builder, booleans: frozenset[int], deadline: float | None = None) -> CurveLemmas:
    """Prove non-zero denominators of curve arithmetic in ``builder`` (see the module docstring).

    ``booleans``: variables the constraints force to 0 or 1. Returns the lemmas (empty when the circuit has no
    constraint that puts a point on a twisted Edwards curve with a square a and a non-square d). Past
    ``deadline`` (``time.monotonic()``) the analysis stops with the lemmas proven so far.
    """
    return _Analysis(builder, booleans, deadline).run()
