"""Dates as whole days, parsed strictly.

Two encodings, each injective, each used for one kind of claim (schema.py says which):

* **epoch day** (validity claims ``issued_at``, ``expires_at``, and the circuit's public ``today``): whole
  days since 1970-01-01 UTC, ``0 <= day < 2^32``. Dates before 1970 are rejected.
* **clinical date** (birth date, diagnosis dates, lab dates): the proleptic Gregorian ordinal,
  ``epoch_day + 719163`` (so 0001-01-01 is 1 and 1970-01-01 is 719163). Patients are born before 1970, and
  a circuit's range checks need non-negative values; the ordinal keeps every date positive and leaves 0
  free to mean "absent". In a circuit compare with ``today + CLINICAL_DATE_OFFSET`` (a free linear term).

Strings must be ISO ``YYYY-MM-DD`` exactly (ASCII digits, no time, no spaces). Impossible dates
(``2024-02-30``, ``2024-13-01``) raise :class:`EncodingError`.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Final

from zkhealth.errors import EncodingError

__all__ = [
    "CLINICAL_DATE_OFFSET",
    "DATE_BITS",
    "EPOCH",
    "clinical_date_to_date",
    "date_to_clinical",
    "date_to_epoch_day",
    "epoch_day_to_date",
    "packed_date",
    "parse_date",
    "today_epoch_day",
]

#: 1970-01-01, day 0 of the epoch-day encoding.
EPOCH: Final[_dt.date] = _dt.date(1970, 1, 1)
#: ``date.toordinal()`` of 1970-01-01: clinical date = epoch day + this.
CLINICAL_DATE_OFFSET: Final[int] = EPOCH.toordinal()
#: Declared width of every date claim (both kinds) for the circuit's range checks.
DATE_BITS: Final[int] = 32
#: ``packed(y, m, d) = 32 * (12 * (y + PACKED_YEAR_OFFSET) + m - 1) + d - 1`` (see :func:`packed_date`).
PACKED_YEAR_OFFSET: Final[int] = 399

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)


def parse_date(value: object) -> _dt.date:
    """Accept a ``datetime.date`` (not a ``datetime``) or a strict ISO ``YYYY-MM-DD`` string.

    A ``datetime`` is refused: converting it to a day needs a time-zone decision the caller must make.
    Raises :class:`EncodingError` on anything else, including impossible dates. Cost: O(1).
    """
    if isinstance(value, _dt.datetime):
        raise EncodingError("a datetime is not a date: convert it to a UTC date first")
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        raise EncodingError(f"a date must be a datetime.date or an ISO string, got {type(value).__name__}")
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        raise EncodingError(f"{value[:40]!r} is not an ISO date YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    try:
        return _dt.date(year, month, day)
    except ValueError as exc:
        raise EncodingError(f"{value!r} is not a calendar date") from exc


def date_to_epoch_day(value: object) -> int:
    """Whole days since 1970-01-01; dates before 1970 raise :class:`EncodingError`."""
    days = (parse_date(value) - EPOCH).days
    if days < 0:
        raise EncodingError("validity dates before 1970-01-01 cannot be encoded as epoch days")
    return days


def epoch_day_to_date(day: int) -> _dt.date:
    """Inverse of :func:`date_to_epoch_day`; raises :class:`EncodingError` outside Python's date range."""
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < 1 << DATE_BITS:
        raise EncodingError("an epoch day must be an int in [0, 2^32)")
    try:
        return EPOCH + _dt.timedelta(days=day)
    except OverflowError as exc:
        raise EncodingError(f"epoch day {day} is beyond year 9999") from exc


def date_to_clinical(value: object) -> int:
    """The proleptic Gregorian ordinal of the date (>= 1)."""
    return parse_date(value).toordinal()


def clinical_date_to_date(value: int) -> _dt.date:
    """Inverse of :func:`date_to_clinical`; 0 and values beyond 9999-12-31 raise :class:`EncodingError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _dt.date.max.toordinal():
        raise EncodingError(f"{value!r} is not an encoded clinical date")
    return _dt.date.fromordinal(value)


def packed_date(value: _dt.date) -> int:
    """``32 * (12 * (y + 399) + m - 1) + d - 1``: an order-preserving number in which adding ``N`` calendar
    years adds ``384 * N`` and ``N`` calendar months adds ``32 * N`` (days keep their number).

    The calendar packing that ages and month windows compare (``zkhealth.eligibility.calendar`` proves it in a
    circuit). Every ``datetime.date`` packs below 2^22.
    """
    day = parse_date(value)
    return 32 * (12 * (day.year + PACKED_YEAR_OFFSET) + day.month - 1) + day.day - 1


def today_epoch_day() -> int:
    """Today's epoch day in UTC."""
    return (_dt.datetime.now(_dt.UTC).date() - EPOCH).days
