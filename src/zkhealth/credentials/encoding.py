"""Injective encoders from typed claim values to field elements, one rule per claim kind.

Each encoder checks its input strictly and raises :class:`EncodingError` instead of rounding, wrapping or
guessing. Each declares the bit width its outputs fit in, which is the width a circuit must range-check
the value at. ``0`` is never the encoding of a *present* optional value, so "absent" is distinguishable.

Kinds (schema.py assigns one to every slot of the credential vector):

==============  ===================================================================  ==========
kind            rule                                                                 absent = 0
==============  ===================================================================  ==========
``field``       the integer itself, ``0 <= x < r``                                   no
``uint``        the integer itself, ``0 <= x < 2^bits`` (optional: ``1 <= x``)      optional
``bool``        ``False -> 0``, ``True -> 1``                                        no
``enum``        1-based position in the declared value list                          optional
``fixed``       ``value * 10^decimals`` exactly (more decimals or ``value <= 0``:     yes
                error), ``< 2^bits``
``epoch_day``   days since 1970-01-01 (dates.py)                                     no
``date``        proleptic ordinal = epoch day + 719163 (dates.py)                    optional
``icd10``       pre-order number of the code (icd10.py)                              optional
==============  ===================================================================  ==========
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from zkhealth.credentials import dates, icd10
from zkhealth.errors import EncodingError
from zkhealth.field import FIELD_R

__all__ = [
    "ClaimSpec",
    "decode_fixed",
    "encode_fixed",
    "format_fixed",
    "parse_decimal",
]

_KINDS: Final[frozenset[str]] = frozenset({"field", "uint", "bool", "enum", "fixed", "epoch_day", "date", "icd10"})
_MAX_DECIMAL_CHARS: Final[int] = 40


def parse_decimal(value: object) -> Decimal:
    """Parse a finite decimal from ``str``, ``int``, ``Decimal`` or ``float`` (via its shortest repr).

    A float is read as the literal Python prints for it (``7.2`` is ``Decimal("7.2")``), never as its exact
    binary value. Strings are plain ASCII decimals (``"7.25"``, ``"-1"``, ``"12"``); exponents, spaces, NaN
    and infinities raise :class:`EncodingError`.
    """
    if isinstance(value, bool):
        raise EncodingError("a bool is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if len(value) > _MAX_DECIMAL_CHARS or not _is_plain_decimal(value):
            raise EncodingError(f"{value[:40]!r} is not a plain decimal number")
        number = Decimal(value)
    else:
        raise EncodingError(f"expected a number, got {type(value).__name__}")
    if not number.is_finite():
        raise EncodingError("a claim value must be finite")
    return number


def _is_plain_decimal(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    whole, dot, frac = body.partition(".")
    if not whole or not whole.isascii() or not whole.isdigit():
        return False
    return not dot or (bool(frac) and frac.isascii() and frac.isdigit())


def encode_fixed(value: object, decimals: int, bits: int) -> int:
    """``value * 10^decimals`` as an exact integer in ``[1, 2^bits)``.

    Raises :class:`EncodingError` when the value has more decimal places than ``decimals`` (no silent
    rounding), is zero or negative, or does not fit in ``bits`` bits.
    """
    number = parse_decimal(value)
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[decimal.Inexact] = True
        scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise EncodingError(f"{number} has more than {decimals} decimal places")
    encoded = int(scaled)
    if encoded <= 0:
        raise EncodingError(f"{number} is not a positive value")
    if encoded >= 1 << bits:
        raise EncodingError(f"{number} does not fit in {bits} bits at {decimals} decimal places")
    return encoded


def decode_fixed(encoded: int, decimals: int) -> Decimal:
    """Inverse of :func:`encode_fixed` (exact)."""
    return Decimal(encoded).scaleb(-decimals)


def format_fixed(encoded: int, decimals: int) -> str:
    """Canonical text of an encoded fixed-point value: no exponent, no trailing fractional zeros."""
    whole, frac = divmod(encoded, 10**decimals)
    if decimals == 0 or frac == 0:
        return str(whole)
    return f"{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


@dataclass(frozen=True)
class ClaimSpec:
    """One slot of the credential vector: its name, index, kind and declared width.

    ``decimals`` and ``unit`` describe fixed-point lab values; ``values`` lists an enum's members in
    encoding order (first member encodes to 1). ``optional`` slots encode an absent value (``None``) as 0.
    """

    name: str
    index: int
    kind: str
    bits: int
    optional: bool = False
    decimals: int = 0
    unit: str = ""
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise EncodingError(f"unknown claim kind {self.kind!r}")
        if not 1 <= self.bits <= 254:
            raise EncodingError("claim widths lie between 1 and 254 bits")

    def encode(self, value: object) -> int:
        """Encode one value of this slot (``None`` for an absent optional value)."""
        if value is None:
            if not self.optional:
                raise EncodingError(f"claim {self.name} is required")
            return 0
        encoded = self._encode_present(value)
        if not (1 if self.optional else 0) <= encoded < 1 << self.bits or encoded >= FIELD_R:
            raise EncodingError(f"claim {self.name}: value does not fit the declared {self.bits}-bit width")
        return encoded

    def _encode_present(self, value: object) -> int:
        kind = self.kind
        if kind in ("field", "uint"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise EncodingError(f"claim {self.name} must be an int, got {type(value).__name__}")
            if value < 0:
                raise EncodingError(f"claim {self.name} must not be negative")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise EncodingError(f"claim {self.name} must be a bool, got {type(value).__name__}")
            return int(value)
        if kind == "enum":
            if not isinstance(value, str) or value not in self.values:
                raise EncodingError(f"claim {self.name} must be one of {', '.join(self.values)}")
            return self.values.index(value) + 1
        if kind == "fixed":
            return encode_fixed(value, self.decimals, self.bits)
        if kind == "epoch_day":
            return dates.date_to_epoch_day(value)
        if kind == "date":
            return dates.date_to_clinical(value)
        return icd10.encode_code(value)

    def decode(self, encoded: int) -> object:
        """Inverse of :meth:`encode`; raises :class:`EncodingError` for values no input encodes to."""
        if isinstance(encoded, bool) or not isinstance(encoded, int):
            raise EncodingError(f"claim {self.name}: encoded value must be an int")
        if not 0 <= encoded < 1 << self.bits or encoded >= FIELD_R:
            raise EncodingError(f"claim {self.name}: encoded value is outside its {self.bits}-bit width")
        if encoded == 0 and self.optional:
            return None
        kind = self.kind
        if kind in ("field", "uint"):
            return encoded
        if kind == "bool":
            return encoded == 1
        if kind == "enum":
            if not 1 <= encoded <= len(self.values):
                raise EncodingError(f"claim {self.name}: {encoded} is not an enum member")
            return self.values[encoded - 1]
        if kind == "fixed":
            return decode_fixed(encoded, self.decimals)
        if kind == "epoch_day":
            return dates.epoch_day_to_date(encoded)
        if kind == "date":
            return dates.clinical_date_to_date(encoded)
        return icd10.decode_code(encoded)
