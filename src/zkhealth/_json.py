"""The one strict JSON loader: every reader of JSON from outside (files, documents, network) goes through it.

:func:`loads_strict` refuses, before or while parsing, with the caller's error class (default
:class:`~zkhealth.errors.EncodingError`):

* input above ``max_bytes`` (checked before decoding);
* invalid UTF-8, invalid JSON;
* duplicate object keys (``{"a": 1, "a": 2}``: two parsers could read two different documents);
* ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON;
* nesting deeper than :data:`MAX_DEPTH` (checked before ``json.loads`` runs: the C decoder recurses as deep
  as the interpreter's recursion limit, which other code may have raised far enough to overflow the C stack);
* floats, where the caller asks for integers only (snarkjs files, proofs);
* integer literals longer than a field element's decimal form (:class:`~zkhealth.errors.NonCanonicalEncodingError`),
  so a hostile number cannot make ``int()`` do quadratic work.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Final

from zkhealth._fileio import as_path, read_bytes
from zkhealth.errors import EncodingError, NonCanonicalEncodingError, ZkHealthError
from zkhealth.field import MAX_DECIMAL_DIGITS

__all__ = ["DEFAULT_MAX_BYTES", "MAX_DEPTH", "check_tree", "load_file", "loads_strict", "read_limited"]

#: Deepest nesting accepted. zkhealth's own documents nest at most 6 deep, FHIR bundles about 10.
MAX_DEPTH: Final[int] = 32
#: Largest document accepted unless the caller says otherwise.
DEFAULT_MAX_BYTES: Final[int] = 4 << 20

# Every '"' starts a match that runs to the closing quote or to the end of the text (possessively, so an
# unterminated string costs one scan, never one per quote: '"\\"\\"...' was quadratic with a plain '*').
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _depth_ok(text: str) -> bool:
    """Whether ``text`` nests at most :data:`MAX_DEPTH` deep: strings are removed, then the innermost bracket
    pairs are peeled off once per level. Cost: O(size * depth) in C-level string operations."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        if not brackets:
            return True
        shorter = brackets.replace("[]", "").replace("{}", "")
        if len(shorter) == len(brackets):
            return True  # unbalanced: json.loads reports it
        brackets = shorter
    return not brackets


def loads_strict(
    data: str | bytes,
    *,
    what: str = "JSON",
    max_bytes: int = DEFAULT_MAX_BYTES,
    integers_only: bool = False,
    error: type[ZkHealthError] = EncodingError,
) -> Any:
    """Parse JSON text strictly (see the module docstring); ``what`` names the document in messages and
    ``error`` is the class raised. Cost: O(size), refused early above ``max_bytes``."""
    if not isinstance(data, str | bytes):
        raise error(f"{what}: JSON text must be str or bytes")
    if len(data) > max_bytes:
        raise error(f"{what}: {len(data)} bytes exceeds the {max_bytes}-byte limit")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise error(f"{what}: not UTF-8") from None
    else:
        text = data
    if not _depth_ok(text):
        raise error(f"{what}: nested deeper than {MAX_DEPTH} levels")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise error(f"{what}: duplicate JSON key {key[:40]!r}")
            out[key] = value
        return out

    def no_constant(name: str) -> Any:
        raise error(f"{what}: JSON constant {name} is not allowed")

    def no_float(literal: str) -> Any:
        raise error(f"{what}: JSON number {literal[:20]!r} is not an integer")

    def bounded_int(literal: str) -> int:
        if len(literal) > MAX_DECIMAL_DIGITS + 1:
            raise NonCanonicalEncodingError(f"{what}: JSON integer of {len(literal)} characters is too long")
        return int(literal)

    try:
        return json.loads(
            text,
            object_pairs_hook=no_duplicates,
            parse_constant=no_constant,
            parse_float=no_float if integers_only else float,
            parse_int=bounded_int,
        )
    except RecursionError:
        raise error(f"{what}: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what}: invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


def check_tree(
    value: object, *, what: str, max_depth: int = MAX_DEPTH, max_nodes: int = 1 << 22,
    error: type[ZkHealthError] = EncodingError,
) -> None:
    """Refuse a decoded JSON value (dicts, lists and scalars, as :func:`loads_strict` returns them, or as a
    caller built them) that nests deeper than ``max_depth`` or holds more than ``max_nodes`` values, or that
    holds a value JSON cannot carry (a key that is not a string, a float NaN or infinity, an object of
    another type). Iterative, so a hostile value cannot overflow the stack. Cost: O(number of values)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise error(f"{what}: more than {max_nodes} JSON values")
        if isinstance(item, dict):
            if depth > max_depth:
                raise error(f"{what}: nested deeper than {max_depth} levels")
            for key, child in item.items():
                if not isinstance(key, str):
                    raise error(f"{what}: an object key is not a string")
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            if depth > max_depth:
                raise error(f"{what}: nested deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise error(f"{what}: NaN and infinities are not JSON")
        elif item is not None and not isinstance(item, str | int):
            raise error(f"{what}: a {type(item).__name__} is not a JSON value")


def read_limited(path: str | os.PathLike[str], *, what: str, max_bytes: int, error: type[ZkHealthError]) -> bytes:
    """The bytes of ``path``, refused with ``error`` when the file holds more than ``max_bytes`` (checked
    before reading; see :func:`zkhealth._fileio.read_bytes`, which also names the file in access errors)."""
    return read_bytes(path, max_bytes=max_bytes, error=error, what=what)


def load_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    integers_only: bool = False,
    error: type[ZkHealthError] = EncodingError,
) -> Any:
    """Read and parse the JSON file at ``path`` strictly; every refusal names the file."""
    name = os.fspath(as_path(path))
    data = read_bytes(path, max_bytes=max_bytes, error=error, what=name)
    return loads_strict(data, what=name, max_bytes=max_bytes, integers_only=integers_only, error=error)
