"""The fuzz harness of tests/test_fuzz_readers.py (helper module, no tests here).

:func:`check` runs one input through one reader and holds it to the input boundary's promise: the reader
returns, or raises an error of the library's tree (:class:`~zkhealth.errors.ZkHealthError`); it never lets
another exception escape, never runs longer than :data:`TIME_LIMIT_SECONDS` and never allocates more than
:data:`MEMORY_LIMIT_BYTES` (traced Python allocations) plus a small multiple of the input's size. Every input
is counted per reader (:data:`COUNTS`); the session prints the counts and, with ``ZKHEALTH_FUZZ_REPORT=PATH``,
writes them as JSON.

Budgets: :data:`SHORT` examples per reader in the fast tier, :data:`LONG` in the slow tier
(``ZKHEALTH_FUZZ_EXAMPLES`` overrides the long budget).

Strategies: :func:`mutated_bytes` (bit flips, overwritten length and count fields, truncation, insertion,
splices of a valid seed file), :func:`mutated_json` (a valid document with one node replaced by a hostile
value: deep nesting, huge or non-canonical numbers, wrong types, NaN, duplicate keys), :func:`json_text`
(arbitrary JSON and near-JSON text) and :func:`hostile_values` (Python values of every type, for public
functions called with the wrong ones).
"""

from __future__ import annotations

import json
import os
import struct
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from zkhealth.errors import ZkHealthError

#: Inputs per reader in the fast tier and in the slow tier.
SHORT: Final[int] = int(os.environ.get("ZKHEALTH_FUZZ_SHORT", "60"))
LONG: Final[int] = int(os.environ.get("ZKHEALTH_FUZZ_EXAMPLES", "400"))
#: The longest one input may take (the machine running CI may be busy: this is generous for "a few seconds").
TIME_LIMIT_SECONDS: Final[float] = 5.0
#: The most one input may allocate (traced), beyond 64 bytes per input byte.
MEMORY_LIMIT_BYTES: Final[int] = 96 << 20

COUNTS: Counter[str] = Counter()
#: Inputs that raised a library error (refused), per reader: the rest were accepted.
REFUSED: Counter[str] = Counter()


def budget_settings(examples: int) -> settings:
    """Hypothesis settings for a fuzz run of ``examples`` inputs (the time limit is :func:`check`'s)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                               HealthCheck.large_base_example],
    )


def check(reader: str, target: Callable[[], object], *, size: int = 0) -> None:
    """Run ``target`` (one input through ``reader``) under the boundary's promise (module docstring)."""
    COUNTS[reader] += 1
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        target()
    except ZkHealthError:
        REFUSED[reader] += 1
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise AssertionError(f"{reader}: {type(exc).__name__} escaped the library's errors: {exc!r}"[:2000]) from exc
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        if started_tracing:
            tracemalloc.stop()
    assert elapsed < TIME_LIMIT_SECONDS, f"{reader}: one input took {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT_BYTES + 64 * size, f"{reader}: one input of {size} bytes allocated {peak} bytes"


# --------------------------------------------------------------------------- binary inputs

_INTERESTING_U32: Final[tuple[int, ...]] = (0, 1, 2, 3, 31, 32, 33, 64, 255, 256, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE,
                                              0xFFFFFFFF)
_INTERESTING_U64: Final[tuple[int, ...]] = (0, 1, 1 << 32, 1 << 40, 1 << 62, (1 << 64) - 1)


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes, *, max_ops: int = 4) -> bytes:
    """``seed`` with 1..``max_ops`` mutations: bit flips, a u32/u64 field overwritten with a boundary value
    (counts and lengths that claim 2^32 or 2^40 items), truncation, inserted or duplicated bytes."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        kind = draw(st.sampled_from(["flip", "u32", "u64", "truncate", "insert", "duplicate", "zero"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "u32" and len(data) >= 4:
            position = min(position - position % 4, len(data) - 4)
            struct.pack_into("<I", data, position, draw(st.sampled_from(_INTERESTING_U32)))
        elif kind == "u64" and len(data) >= 8:
            position = min(position - position % 4, len(data) - 8)
            struct.pack_into("<Q", data, position, draw(st.sampled_from(_INTERESTING_U64)))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "duplicate" and data:
            end = min(len(data), position + draw(st.integers(1, 256)))
            data[position:position] = data[position:end]
        elif kind == "zero" and data:
            end = min(len(data), position + draw(st.integers(1, 64)))
            data[position:end] = bytes(end - position)
    return bytes(data)


def binary_inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of a valid file, and unrelated bytes (including the file's magic followed by garbage)."""
    return st.one_of(
        mutated_bytes(seed),
        st.binary(max_size=512),
        st.binary(max_size=256).map(lambda tail: seed[:12] + tail),
    )


# --------------------------------------------------------------------------- JSON inputs


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


#: Hostile JSON fragments, as text (spliced in place of a value).
HOSTILE_JSON_TEXT: Final[tuple[str, ...]] = (
    _deep(33, "list"), _deep(40, "dict"), _deep(5000, "list"), _deep(3000, "dict"),
    "9" * 5000, "-" + "9" * 100, "1e400", "-1", "1.5", "0.0", "1e2", "NaN", "Infinity", "-Infinity",
    '"' + "\\u0000" * 10 + '"', '"' + "x" * 70000 + '"', '"\\ud800"', "null", "true", "[]", "{}", '""',
    '"00012"', '"1_000"', '" 12"', '"0x10"', '"٣"', '"' + "9" * 5000 + '"', '"-5"',
    '{"a": 1, "a": 2}', "[" + ",".join(["0"] * 20000) + "]",
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out.extend(_paths(child, (*prefix, index)))
    return out


_MARK: Final[str] = "\u0000HOSTILE\u0000"


@st.composite
def mutated_json(draw: st.DrawFn, seed: Any) -> bytes:
    """The JSON document ``seed`` with one node replaced: by a hostile fragment (spliced as text, so it can
    be invalid JSON), by another JSON value, or deleted; or the whole text truncated or a key duplicated."""
    paths = _paths(seed)
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["hostile", "value", "delete", "truncate", "duplicate-key", "add-key", "tweak",
                                   "tweak"]))
    document = json.loads(json.dumps(seed))
    if action == "truncate":
        text = json.dumps(document)
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if not path:
        replacement = draw(st.sampled_from(HOSTILE_JSON_TEXT))
        return replacement.encode()
    last = path[-1]
    if action == "delete":
        del parent[last]
        return json.dumps(document).encode()
    if action == "add-key" and isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = draw(json_values())
        return json.dumps(document).encode()
    if action == "duplicate-key" and isinstance(parent, dict):
        text = json.dumps(document)
        key = json.dumps(last)
        return text.replace(f"{key}:", f"{key}: null, {key}:", 1).encode()
    if action == "value":
        parent[last] = draw(json_values())
        return json.dumps(document).encode()
    if action == "tweak":
        parent[last] = draw(_tweaked(parent[last]))
        return json.dumps(document).encode()
    parent[last] = _MARK
    text = json.dumps(document).replace(json.dumps(_MARK), draw(st.sampled_from(HOSTILE_JSON_TEXT)), 1)
    return text.encode()


def _tweaked(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same JSON type, slightly changed (keeps most of a document well-formed)."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int):
        return st.sampled_from([value + 1, value - 1, -value, value * 10, 0, 1 << 64])
    if isinstance(value, float):
        return st.sampled_from([value + 0.5, -value, 0.0, 1e308])
    if isinstance(value, str):
        return st.one_of(
            st.just(value.upper()), st.just(value.lower()), st.just(value[:-1]), st.just(value + "0"),
            st.just(" " + value), st.just(value.replace("-", "")), st.just(value[::-1]), st.just(value * 3),
        )
    if isinstance(value, list):
        return st.one_of(st.just(value[:-1]), st.just(value + value[-1:]), st.just(value[::-1]))
    if isinstance(value, dict):
        return st.just(dict(list(value.items())[:-1]))
    return st.just(value)


def json_values() -> st.SearchStrategy[Any]:
    """Arbitrary JSON values (small)."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20), st.sampled_from(["0", "1", "-1", "00", "1.0", "E11.9", "2024-02-30", "0x01"]),
    )
    return st.recursive(scalars, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=12)


def json_inputs(seed: Any) -> st.SearchStrategy[bytes]:
    """Mutations of a valid document, arbitrary JSON values, and near-JSON text."""
    return st.one_of(
        mutated_json(seed),
        json_values().map(lambda value: json.dumps(value).encode()),
        st.sampled_from(HOSTILE_JSON_TEXT).map(str.encode),
        st.binary(max_size=200),
    )


# --------------------------------------------------------------------------- Python values


class _Weird:
    """An object of no expected type, whose conversions to an index or a length fail loudly."""

    def __index__(self) -> int:
        raise RuntimeError("not an index")

    def __len__(self) -> int:
        raise RuntimeError("no length")


def hostile_values() -> st.SearchStrategy[Any]:
    """Python values of the wrong type or range for any parameter: bools, floats (NaN), negative and huge
    ints, bytes, str, None, containers, a date, a Decimal, an object whose conversions raise."""
    import datetime
    from decimal import Decimal

    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(1 << 300), max_value=1 << 300),
        st.floats(), st.text(max_size=30), st.binary(max_size=30), st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), st.tuples(st.integers(), st.integers()),
        st.just(datetime.date(2024, 1, 1)), st.just(Decimal("NaN")), st.just(Decimal("1e999")),
        st.just(_Weird()), st.just(object()), st.just(float("inf")),
    )


def report() -> dict[str, dict[str, int]]:
    """The counts per reader: inputs seen, refused with a library error, accepted."""
    return {name: {"inputs": COUNTS[name], "refused": REFUSED[name], "accepted": COUNTS[name] - REFUSED[name]}
            for name in sorted(COUNTS)}
