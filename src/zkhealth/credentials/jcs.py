"""RFC 8785 JSON Canonicalization Scheme (JCS).

:func:`canonicalize` serialises a JSON value (dict, list, str, int, float, bool, None) to its unique JCS
UTF-8 bytes:

* objects: members sorted by their names compared as arrays of UTF-16 code units (RFC 8785 §3.2.3), no
  whitespace; duplicate names cannot occur in a dict;
* strings: RFC 8785 §3.2.2.2 minimal escaping: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other controls
  below U+0020 as ``\\u00xx`` (lowercase hex); everything else, including non-ASCII, is written as UTF-8
  (lone surrogates are rejected);
* numbers: ECMAScript ``Number.prototype.toString`` of the IEEE-754 double (§3.2.2.3). Integers beyond
  2^53 are not exactly representable as doubles and are rejected rather than silently rounded: write big
  numbers as strings (zkhealth always does).

Parsing JSON from outside is :func:`zkhealth._json.loads_strict`'s job.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from zkhealth.errors import EncodingError

__all__ = ["canonicalize", "format_number"]

_MAX_SAFE_INTEGER: Final[int] = (1 << 53) - 1
_MAX_DEPTH: Final[int] = 64
_ESCAPES: Final[dict[str, str]] = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    escaped = _ESCAPES.get(char)
    if escaped is not None:
        return escaped
    if ord(char) < 0x20:
        return f"\\u{ord(char):04x}"
    raise EncodingError("a lone UTF-16 surrogate cannot be canonicalised")


def _string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def format_number(value: float | int) -> str:
    """ECMAScript ``Number.prototype.toString`` for a finite double (RFC 8785 §3.2.2.3)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise EncodingError("integers beyond 2^53 - 1 are not exact in JSON numbers; use a string")
        value = float(value)
    if not isinstance(value, float) or not math.isfinite(value):
        raise EncodingError("JSON numbers must be finite")
    if value == 0:
        return "0"  # also for -0.0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, as ECMAScript requires; re-lay them out as
    # value = int(digits) * 10^e with no leading or trailing zeros in digits.
    mantissa, _, exponent_text = repr(abs(value)).partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = (whole + frac).lstrip("0")
    digits = all_digits.rstrip("0")
    e = (int(exponent_text) if exponent_text else 0) - len(frac) + (len(all_digits) - len(digits))
    k = len(digits)
    n = k + e  # value = 0.digits * 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        exp_text = f"e+{exp}" if exp >= 0 else f"e-{-exp}"
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + exp_text
    return sign + text


def _serialise(value: Any, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise EncodingError("JSON nesting is too deep")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float):
        out.append(format_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise EncodingError("JSON object keys must be strings")
        out.append("{")
        for position, key in enumerate(sorted(value, key=_utf16_key)):
            if position:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _serialise(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _serialise(item, out, depth + 1)
        out.append("]")
    else:
        raise EncodingError(f"{type(value).__name__} is not a JSON value")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``. Cost: O(size · log keys)."""
    out: list[str] = []
    _serialise(value, out, 0)
    return "".join(out).encode("utf-8")
