"""BN254's scalar field Fr, and canonical parsing of field elements.

Every number that enters zkhealth from outside (JSON, files, command lines) goes through
:func:`parse_canonical_int`. It accepts exactly one spelling per value:

* Python ``int`` (never ``bool``) in ``[0, modulus)``;
* ``str`` matching ``^(0|[1-9][0-9]*)$`` in ASCII, at most 80 digits, whose value is below the modulus.

Everything else raises a typed error *before* any reduction, so ``x + r`` can never alias ``x``
(docs/security.md G1) and ``int()``'s leniency (``"1_000"``, ``" 12"``, ``"+5"``, Unicode digits) never leaks in.
The 80-digit cap also keeps clear of CPython's quadratic ``int(str)`` (CVE-2020-10735).
"""

from __future__ import annotations

import re
from typing import Final

from zkhealth.errors import FieldRangeError, FieldTypeError, NonCanonicalEncodingError

#: BN254 (alt_bn128) scalar field modulus r: the field of circuit signals, and Baby Jubjub's base field.
FIELD_R: Final[int] = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: BN254 base field modulus q: the field of G1/G2 coordinates. Never use it to range-check signals (snarkjs #480).
FIELD_Q: Final[int] = 21888242871839275222246405745257275088696311157297823662689037894645226208583

#: Longest decimal string accepted for any field element (r has 77 digits).
MAX_DECIMAL_DIGITS: Final[int] = 80

_CANONICAL_DECIMAL = re.compile(r"(0|[1-9][0-9]*)", re.ASCII)


def parse_canonical_int(value: object, modulus: int = FIELD_R, *, what: str = "field element") -> int:
    """Parse ``value`` as the canonical spelling of an integer in ``[0, modulus)``.

    Enforces: type is ``int`` (not ``bool``) or ``str``; strings are ASCII decimal without sign, spaces,
    underscores or leading zeros, at most 80 digits; the value is below ``modulus``.

    Raises :class:`FieldTypeError` for a wrong type, :class:`NonCanonicalEncodingError` for a badly written
    string and :class:`FieldRangeError` for a value outside the range. Cost: O(digits).
    """
    if isinstance(value, bool):
        raise FieldTypeError(f"{what}: a bool is not a field element")
    if isinstance(value, int):
        number = int(value)
    elif isinstance(value, str):
        if len(value) > MAX_DECIMAL_DIGITS:
            raise NonCanonicalEncodingError(
                f"{what}: decimal string of {len(value)} characters exceeds {MAX_DECIMAL_DIGITS} digits"
            )
        if _CANONICAL_DECIMAL.fullmatch(value) is None:
            raise NonCanonicalEncodingError(
                f"{what}: {value[:20]!r} is not a canonical decimal (digits 0-9, no sign, spaces, "
                "underscores or leading zeros)"
            )
        number = int(value)
    else:
        raise FieldTypeError(f"{what}: expected int or decimal string, got {type(value).__name__}")
    if number < 0:
        raise FieldRangeError(f"{what}: negative value")
    if number >= modulus:
        raise FieldRangeError(f"{what}: value is not below the modulus")
    return number


def parse_field_element(value: object, *, what: str = "field element") -> int:
    """Parse a canonical element of Fr (see :func:`parse_canonical_int`) and return it as an ``int``."""
    return parse_canonical_int(value, FIELD_R, what=what)


def check_field_element(value: int, *, what: str = "field element") -> int:
    """Check that an ``int`` (not ``bool``) lies in [0, r) and return it. Cheaper than parsing."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldTypeError(f"{what}: expected int, got {type(value).__name__}")
    if not 0 <= value < FIELD_R:
        raise FieldRangeError(f"{what}: value is not in [0, r)")
    return value


class Fr:
    """An immutable element of BN254's scalar field.

    Construction is canonical: ``Fr(x)`` accepts what :func:`parse_field_element` accepts, and never
    reduces silently. Use :meth:`reduce` to reduce an arbitrary integer on purpose.
    Arithmetic with ``Fr`` or ``int`` operands returns ``Fr``. Equal values are equal and hash alike.
    """

    __slots__ = ("_value",)
    _value: int

    def __init__(self, value: object) -> None:
        object.__setattr__(self, "_value", parse_field_element(value))

    @classmethod
    def reduce(cls, value: int) -> Fr:
        """Return ``value mod r`` as a field element (an explicit, deliberate reduction)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldTypeError(f"expected int, got {type(value).__name__}")
        return cls(value % FIELD_R)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Fr is immutable")

    def __int__(self) -> int:
        return self._value

    def __index__(self) -> int:
        return self._value

    @property
    def value(self) -> int:
        """The canonical integer representative in [0, r)."""
        return self._value

    def __repr__(self) -> str:
        return f"Fr({self._value})"

    def __str__(self) -> str:
        return str(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fr):
            return self._value == other._value
        if isinstance(other, int) and not isinstance(other, bool):
            return self._value == other % FIELD_R
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Fr", self._value))

    @staticmethod
    def _coerce(other: object) -> int | None:
        if isinstance(other, Fr):
            return other._value
        if isinstance(other, int) and not isinstance(other, bool):
            return other % FIELD_R
        return None

    def __add__(self, other: object) -> Fr:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Fr((self._value + o) % FIELD_R)

    __radd__ = __add__

    def __sub__(self, other: object) -> Fr:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Fr((self._value - o) % FIELD_R)

    def __rsub__(self, other: object) -> Fr:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Fr((o - self._value) % FIELD_R)

    def __mul__(self, other: object) -> Fr:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Fr(self._value * o % FIELD_R)

    __rmul__ = __mul__

    def __neg__(self) -> Fr:
        return Fr((-self._value) % FIELD_R)

    def inverse(self) -> Fr:
        """Multiplicative inverse. Raises :class:`FieldRangeError` for zero."""
        if self._value == 0:
            raise FieldRangeError("zero has no inverse")
        return Fr(pow(self._value, -1, FIELD_R))

    def __truediv__(self, other: object) -> Fr:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self * Fr(o).inverse()

    def __pow__(self, exponent: int) -> Fr:
        if exponent < 0:
            return self.inverse() ** (-exponent)
        return Fr(pow(self._value, exponent, FIELD_R))

    def __bool__(self) -> bool:
        return self._value != 0

    def to_json(self) -> str:
        """The canonical decimal string, as snarkjs writes field elements."""
        return str(self._value)
