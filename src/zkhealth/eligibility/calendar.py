"""Calendar arithmetic for the criteria: civil dates from day numbers, natively and in a circuit.

Ages and "diagnosed within N years" are calendar statements, not day counts: someone born on 29 February
2008 is 18 on 1 March 2026, not on 28 February, and "5 years before 2026-03-01" is 2021-03-01 whatever the
leap days in between. Both twins here compare dates through one packed, order-preserving number::

    packed(y, m, d) = 32 * (12 * yy + (m - 1)) + (d - 1)        with yy = y + 399

(``d - 1 <= 30 < 32`` and ``m - 1 <= 11 < 12``, so the packing is lexicographic on (y, m, d)). Adding
``N`` calendar years to a date adds ``384 * N`` to its packed value, adding ``N`` months adds ``32 * N``
(days keep their number: 31 August plus 6 months is "31 February", which sorts after every real day of
February). So, with ``t`` = today and ``b`` = the birth date::

    age >= N                       <=>  packed(b) + 384 * N <= packed(t)
    diagnosed within N years       <=>  packed(t) <= packed(dx) + 384 * N  and  packed(dx) <= packed(t)

The in-circuit twin, :func:`civil_date`, turns a proleptic ordinal (``date.toordinal()``, see
:mod:`zkhealth.credentials.dates`) into ``(yy, m - 1, d - 1)`` from hints and proves the decomposition
correct and complete: every component is range-checked, ``1 <= m <= 12`` and
``1 <= d <= days_in_month(y, m)`` with Gregorian leap years. Without the day check a prover could present
1 March as "30 February" of the same year, shifting a birthday or a diagnosis by days (an alias).

Ordinals are shifted by one 400-year Gregorian cycle (146,097 days) before decomposing, so the ordinal 0
(an absent optional date) decomposes into a real date (31 December of year 0, read as year 400) and every
intermediate value stays non-negative; the shift changes no comparison (the calendar repeats every 400
years). The circuit accepts years up to 7,792.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Final

from zkhealth.circuit.builder import Builder
from zkhealth.circuit.gadgets.basic import is_equal
from zkhealth.circuit.gadgets.bits import range_check, to_bits
from zkhealth.circuit.gadgets.comparators import assert_less_eq
from zkhealth.circuit.signal import R, Signal, SignalLike
from zkhealth.credentials.dates import packed_date
from zkhealth.errors import EligibilityError

__all__ = [
    "CYCLE_DAYS",
    "MONTH_SPAN",
    "ORDINAL_BITS",
    "PACKED_BITS",
    "YEAR_SPAN",
    "CivilDate",
    "civil_date",
    "civil_date_constraint_count",
    "packed_date",
    "packed_ordinal",
]

#: Days in a 400-year Gregorian cycle: the shift applied to ordinals before decomposing.
CYCLE_DAYS: Final[int] = 146_097
#: Years added to y (plus the 399 of ``yy = y + 399``): yy = shifted year - 1.
_YEAR_OFFSET: Final[int] = 399
#: Declared width of every date slot in the credential schema (zkhealth.credentials.schema): 32 bits.
ORDINAL_BITS: Final[int] = 32
#: Width of yy in the circuit (yy < 8192, so years up to 7,792).
YEAR_BITS: Final[int] = 13
#: Packed value of one calendar year / one calendar month.
YEAR_SPAN: Final[int] = 384
MONTH_SPAN: Final[int] = 32
#: Every packed date is below 2^22 (32 * (12 * 8191 + 11) + 30 < 2^22).
PACKED_BITS: Final[int] = 22

_DAYS_BEFORE_MONTH: Final[tuple[int, ...]] = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS_IN_MONTH: Final[tuple[int, ...]] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)




def packed_ordinal(ordinal: int) -> int:
    """:func:`packed_date` of a proleptic ordinal; 0 (an absent date) is 31 December of year 0.

    Raises :class:`EligibilityError` for ordinals outside ``[0, date.max]``.
    """
    if isinstance(ordinal, bool) or not isinstance(ordinal, int) or not 0 <= ordinal <= _dt.date.max.toordinal():
        raise EligibilityError(f"{ordinal!r} is not a date ordinal")
    if ordinal == 0:
        return MONTH_SPAN * (12 * _YEAR_OFFSET + 11) + 30
    return packed_date(_dt.date.fromordinal(ordinal))


# --------------------------------------------------------------------------- native decomposition


def _days_before_year(yy: int) -> int:
    """Days before the year whose ``yy`` (= year - 1 after the shift) is given: 365 yy + leap days."""
    return 365 * yy + yy // 4 - yy // 100 + yy // 400


def _decompose_shifted(shifted: int) -> tuple[int, int, int]:
    """``(yy, m - 1, d - 1)`` of a shifted ordinal (ordinal + 146097), by the proleptic Gregorian rules."""
    if shifted < 1:
        raise EligibilityError("a shifted ordinal is at least 1")
    yy = (shifted - 1) * 400 // CYCLE_DAYS
    while _days_before_year(yy + 1) < shifted:
        yy += 1
    while _days_before_year(yy) >= shifted:
        yy -= 1
    day_of_year = shifted - _days_before_year(yy) - 1
    year = yy + 1
    leap = 1 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 0
    month0 = 11
    while _DAYS_BEFORE_MONTH[month0] + (leap if month0 >= 2 else 0) > day_of_year:
        month0 -= 1
    day0 = day_of_year - _DAYS_BEFORE_MONTH[month0] - (leap if month0 >= 2 else 0)
    return yy, month0, day0


# --------------------------------------------------------------------------- in-circuit twin


def _interpolate(values: tuple[int, ...]) -> tuple[int, ...]:
    """Coefficients (mod r, lowest degree first) of the polynomial through ``(i, values[i])``."""
    n = len(values)
    coefficients = [0] * n
    for i, value in enumerate(values):
        # Lagrange basis polynomial for node i, expanded.
        basis = [1]
        denominator = 1
        for j in range(n):
            if j == i:
                continue
            basis = [(a - j * b_) % R for a, b_ in zip([0, *basis], [*basis, 0], strict=True)]
            denominator = denominator * (i - j) % R
        scale = value * pow(denominator, -1, R) % R
        for k, c in enumerate(basis):
            coefficients[k] = (coefficients[k] + c * scale) % R
    return tuple(coefficients)


_POLY_DAYS_BEFORE: Final[tuple[int, ...]] = _interpolate(_DAYS_BEFORE_MONTH)
_POLY_DAYS_IN: Final[tuple[int, ...]] = _interpolate(_DAYS_IN_MONTH)
_POLY_AFTER_FEBRUARY: Final[tuple[int, ...]] = _interpolate(tuple(1 if m >= 2 else 0 for m in range(12)))
_POLY_IS_FEBRUARY: Final[tuple[int, ...]] = _interpolate(tuple(1 if m == 1 else 0 for m in range(12)))


@dataclass(frozen=True)
class CivilDate:
    """A date decomposed in a circuit: ``yy`` (= year + 399), ``month0`` (= m - 1), ``day0`` (= d - 1),
    each range-checked, and their :attr:`packed` value (a free linear combination below 2^22)."""

    yy: Signal
    month0: Signal
    day0: Signal
    packed: Signal


def _hint_parts(shifted: int) -> list[int]:
    if not 1 <= shifted < 1 << 33:
        # No calendar date: any values fail the constraints (the solver then names the failing one).
        return [0] * 6
    yy, month0, day0 = _decompose_shifted(shifted)
    q4 = yy // 4
    return [yy, month0, day0, q4, q4 // 25, q4 // 100]


def civil_date(b: Builder, ordinal: SignalLike) -> CivilDate:
    """Decompose a proleptic ordinal (0 allowed: an absent date) into a :class:`CivilDate`.

    Enforces, for the hinted ``yy, m0, d0`` and quotients ``q4 = yy // 4``, ``q100 = yy // 100``,
    ``q400 = yy // 400``: ``yy < 2^13``, ``q4 < 2^11``, ``q100 < 2^7``, ``q400 < 2^5``, remainders
    ``yy - 4 q4`` in [0, 3], ``q4 - 25 q100`` in [0, 24], ``q100 - 4 q400`` in [0, 3] (so the quotients are the
    floor divisions); ``0 <= m0 <= 11``; ``0 <= d0 <= days_in_month - 1`` with the leap day in February of
    Gregorian leap years; and ``ordinal + 146097 = 365 yy + q4 - q100 + q400 + days_before(m0) + leap *
    [m0 >= 2] + d0 + 1``. Together these admit exactly one decomposition per ordinal, and every accepted
    ordinal lies in ``[-146096, ordinal of 7792-12-31]``; in addition the ordinal itself is range-checked to
    32 bits, its declared width in the schema (so ``r - k`` never passes as a date in the 400 years before year
    1; docs/security.md C12), unless the builder already knows it is that narrow (``today`` is range-checked once).
    Month tables are degree-11 polynomials in m0 (valid on 0..11).
    Cost: :func:`civil_date_constraint_count` = 118 constraints for a fresh ordinal (86, plus 32 for the width
    check); 86 when the ordinal is already known to fit 32 bits; 0 for a constant ordinal.
    """
    with b.scope("civil_date"):
        range_check(b, ordinal, ORDINAL_BITS)
        shifted = b.constant(CYCLE_DAYS) + ordinal
        yy, month0, day0, q4, q100, q400 = b.hint_unconstrained(
            _hint_parts, shifted, n_outputs=6, name="civil_date"
        )
        range_check(b, yy, YEAR_BITS)
        range_check(b, q4, YEAR_BITS - 2)
        range_check(b, q100, 7)
        range_check(b, q400, 5)
        # yy - 4 q4 in [0, 3]: its two bits also give "year divisible by 4" (yy = year + 399 = 3 mod 4).
        rem4_bits = to_bits(b, yy - 4 * q4, 2)
        rem25 = q4 - 25 * q100
        assert_less_eq(b, rem25, 24, bits=5)
        rem400_bits = to_bits(b, q100 - 4 * q400, 2)
        with b.scope("leap"):
            divisible_4 = b.mul(rem4_bits[0], rem4_bits[1])
            divisible_100 = b.mul(divisible_4, is_equal(b, rem25, 24))
            divisible_400 = b.mul(divisible_100, b.mul(rem400_bits[0], rem400_bits[1]))
            leap = divisible_4 - divisible_100 + divisible_400
        with b.scope("month"):
            assert_less_eq(b, month0, 11, bits=4)
            powers: list[Signal] = [b.constant(1), month0]
            for _ in range(10):
                powers.append(b.mul(powers[-1], month0))
            days_before = b.linear_combination(powers, list(_POLY_DAYS_BEFORE))
            days_in = b.linear_combination(powers, list(_POLY_DAYS_IN))
            after_february = b.linear_combination(powers, list(_POLY_AFTER_FEBRUARY))
            is_february = b.linear_combination(powers, list(_POLY_IS_FEBRUARY))
            days_before = days_before + b.mul(leap, after_february)
            days_in = days_in + b.mul(leap, is_february)
        with b.scope("day"):
            range_check(b, day0, 5)
            range_check(b, days_in - 1 - day0, 5)
        days_before_year = b.linear_combination([yy, q4, q100, q400], [365, 1, -1, 1])
        b.assert_equal(days_before_year + days_before + day0 + 1, shifted)
        packed = b.linear_combination([yy, month0, day0], [MONTH_SPAN * 12, MONTH_SPAN, 1])
        return CivilDate(yy, month0, day0, packed)


def civil_date_constraint_count() -> int:
    """Constraints of one :func:`civil_date` with a fresh ordinal (pinned by the tests)."""
    # yy 13 + q4 11 + q100 7 + q400 5 + rem4 2 + rem25 5+5 + rem400 2 + leap 1+2+1+1+1
    # + month 4+4 + powers 10 + 2 + day 5+5, + the 32-bit width check of the ordinal
    return 13 + 11 + 7 + 5 + 2 + 10 + 2 + 6 + 8 + 10 + 2 + 10 + ORDINAL_BITS
