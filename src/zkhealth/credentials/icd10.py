"""ICD-10-CM codes: validation, normalisation and an order-preserving interval encoding.

The encoding
------------
The ICD-10-CM tabular list is a tree: chapters, blocks (sections such as ``E08-E13``, sometimes nested),
categories (``E11``), subcategories (``E11.6``, ``E11.65``) and 7th-character extensions (``S00.01XA``).
We number every node of that tree in depth-first pre-order, in the order of the tabular list, starting at 1
(0 is reserved for "no diagnosis"). The subtree of a node is then the contiguous interval
``[number(node), number(last descendant of node)]``. Hence:

* ``"E11"``, ``"E11.*"`` (the category and everything below it) is one interval;
* ``"E11.6*"`` (a subcategory and everything below it) is one interval;
* ``"O00-O9A"`` (a range of categories in tabular order) is one interval;
* a child's interval lies inside its parent's and siblings' intervals are disjoint (a test checks this for
  every node of the release).

So "diagnosed with E11.*" costs two range comparisons in a circuit: ``lo <= code <= hi``.

Only codes (categories, subcategories, extensions) can be encoded as diagnoses; chapters and blocks only
appear as the bounds of ranges. The numbering depends on the release: this module ships the table of the
ICD-10-CM release that ``simple_icd_10_cm`` 1.5.0 carries (April 2026, 98,505 nodes) in
``icd10cm_tree.json``, so importing it does not parse the package's 20 MB XML (about 2.5 s); a test
rebuilds the table from the package and checks that it is identical. A new release means a new credential
schema version (schema.py), since the numbers would change.

The package lists a few blocks that have the same name as the single category they contain (``B10`` block
holding category ``B10``): such a name always means the category when encoded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Final

from zkhealth.errors import EncodingError

__all__ = [
    "ICD10_CODE_BITS",
    "ICD10_RELEASE",
    "IcdTable",
    "build_table_from_package",
    "code_range",
    "decode_code",
    "encode_code",
    "is_valid_code",
    "load_table",
    "normalize_code",
]

#: The release the shipped table holds (and that schema version 1 pins).
ICD10_RELEASE: Final[str] = "ICD-10-CM April 2026 (simple_icd_10_cm 1.5.0)"
#: Declared width of an encoded code: the circuit range-checks codes at this many bits.
ICD10_CODE_BITS: Final[int] = 20
_DATA_FILE: Final[str] = "icd10cm_tree.json"
_MAX_INPUT_CHARS: Final[int] = 32

# A letter, then two digits or letters (O9A, C7A and QA0 exist), then up to 4 more characters.
_CODE_NO_DOT = re.compile(r"([A-Z][0-9A-Z][0-9A-Z])([0-9A-Z]{0,4})", re.ASCII)
_CODE_DOT = re.compile(r"([A-Z][0-9A-Z][0-9A-Z])\.([0-9A-Z]{1,4})", re.ASCII)

_KIND_CHAPTER: Final[str] = "c"
_KIND_BLOCK: Final[str] = "b"
_KIND_CODE: Final[str] = "k"


@dataclass(frozen=True)
class IcdTable:
    """The numbered ICD-10-CM tree.

    ``names[i]``, ``kinds[i]`` and ``ends[i]`` describe node number ``i + 1``: its name, its kind
    (``"c"`` chapter, ``"b"`` block, ``"k"`` code) and the number of its last descendant (itself for a leaf).
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    ends: tuple[int, ...]
    parents: tuple[int, ...]
    code_number: dict[str, int]
    category_numbers: tuple[int, ...]

    def subtree(self, number: int) -> tuple[int, int]:
        """The interval ``(number, last descendant)`` of node ``number`` (1-based)."""
        return number, self.ends[number - 1]

    def digest(self) -> str:
        """SHA-256 over the node list (depth-free form: kind, name, end), to pin a release in tests."""
        h = hashlib.sha256()
        for name, kind, end in zip(self.names, self.kinds, self.ends, strict=True):
            h.update(f"{kind}{name}:{end}\n".encode("ascii"))
        return h.hexdigest()


def _table_from_rows(rows: list[tuple[int, str, str]]) -> IcdTable:
    """Build the table from pre-order rows (depth, kind, name). Cost: O(nodes)."""
    count = len(rows)
    ends = [0] * count
    parents = [0] * count
    stack: list[int] = []  # indices of open ancestors
    for index, (depth, _kind, _name) in enumerate(rows):
        while len(stack) > depth:
            closed = stack.pop()
            ends[closed] = index  # number of last descendant = index (1-based: previous node's number)
        if len(stack) != depth:
            raise EncodingError(f"ICD-10-CM table is malformed at node {index}")
        parents[index] = stack[-1] + 1 if stack else 0
        stack.append(index)
    while stack:
        ends[stack.pop()] = count
    names = tuple(name for _d, _k, name in rows)
    kinds = tuple(kind for _d, kind, _n in rows)
    code_number: dict[str, int] = {}
    categories: list[int] = []
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind == _KIND_CODE:
            if name in code_number:
                raise EncodingError(f"ICD-10-CM table lists code {name} twice")
            code_number[name] = index + 1
            if len(name) == 3:
                categories.append(index + 1)
    return IcdTable(names, kinds, tuple(ends), tuple(parents), code_number, tuple(categories))


def build_table_from_package() -> IcdTable:
    """Rebuild the numbered tree from ``simple_icd_10_cm`` (slow: about 3 s to import the package).

    Walks the chapters depth-first through the package's public API and checks that the walk visits exactly
    ``get_all_codes()`` in order, so the numbering is the package's own pre-order.
    """
    import simple_icd_10_cm as icd

    rows: list[tuple[int, str, str]] = []

    def visit(name: str, depth: int, as_block: bool) -> None:
        if depth == 0:
            kind = _KIND_CHAPTER
        elif as_block and icd.is_block(name):
            kind = _KIND_BLOCK
        else:
            kind = _KIND_CODE
        rows.append((depth, kind, name))
        for child in icd.get_children(name, prioritize_blocks=as_block):
            # A child named like its parent is the category inside a same-named block (B10 in B10).
            visit(child, depth + 1, as_block=child != name)

    for chapter in (c for c in icd.get_all_codes(True) if icd.is_chapter(c)):
        visit(chapter, 0, as_block=True)
    if [name for _d, _k, name in rows] != icd.get_all_codes(True):
        raise EncodingError("walking simple_icd_10_cm's tree did not reproduce get_all_codes()")
    return _table_from_rows(rows)


def table_rows_for_data_file(table: IcdTable) -> list[str]:
    """The shipped data format: one string per node, ``"<depth><kind><name>"`` (depth is one digit)."""
    depth = [0] * len(table.names)
    for index, parent in enumerate(table.parents):
        depth[index] = 0 if parent == 0 else depth[parent - 1] + 1
    return [f"{d}{k}{n}" for d, k, n in zip(depth, table.kinds, table.names, strict=True)]


@functools.cache
def load_table() -> IcdTable:
    """Load the shipped table (about 0.1 s, once per process)."""
    text = resources.files("zkhealth.credentials").joinpath(_DATA_FILE).read_text(encoding="ascii")
    data = json.loads(text)
    rows = [(int(item[0]), item[1], item[2:]) for item in data["nodes"]]
    return _table_from_rows(rows)


def _clean(value: object) -> str:
    if not isinstance(value, str):
        raise EncodingError(f"an ICD-10-CM code must be a str, got {type(value).__name__}")
    if len(value) > _MAX_INPUT_CHARS:
        raise EncodingError("ICD-10-CM code text is too long")
    text = unicodedata.normalize("NFC", value).strip().upper()
    if not text.isascii():
        raise EncodingError(f"{value!r} is not an ICD-10-CM code (non-ASCII characters)")
    return text


def normalize_code(value: object) -> str:
    """Return the canonical spelling of an ICD-10-CM code (``"E11.9"``) without checking that it exists.

    Accepts surrounding whitespace, lower case, a missing dot (``"E119"``) and any Unicode normal form (the
    text is NFC-normalised first). Rejects anything else with :class:`EncodingError`: other punctuation,
    non-ASCII characters, a trailing dot, the wrong shape. Cost: O(len).
    """
    text = _clean(value)
    match = _CODE_DOT.fullmatch(text) or _CODE_NO_DOT.fullmatch(text)
    if match is None:
        raise EncodingError(f"{value!r} is not an ICD-10-CM code")
    category, rest = match.group(1), match.group(2)
    return f"{category}.{rest}" if rest else category


def is_valid_code(value: object) -> bool:
    """True when ``value`` normalises to a code (not a chapter or block) of the shipped release."""
    try:
        return normalize_code(value) in load_table().code_number
    except EncodingError:
        return False


def encode_code(value: object) -> int:
    """Encode a code as its pre-order number (>= 1). Unknown codes raise :class:`EncodingError`. O(len)."""
    code = normalize_code(value)
    number = load_table().code_number.get(code)
    if number is None:
        raise EncodingError(f"{code} is not a code of {ICD10_RELEASE}")
    return number


def decode_code(number: object) -> str:
    """The code whose encoding is ``number``. Raises :class:`EncodingError` for 0, blocks and out-of-range."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise EncodingError(f"an encoded ICD-10-CM code must be an int, got {type(number).__name__}")
    table = load_table()
    if not 1 <= number <= len(table.names) or table.kinds[number - 1] != _KIND_CODE:
        raise EncodingError(f"{number} does not encode an ICD-10-CM code")
    return table.names[number - 1]


def _category_interval(table: IcdTable, text: str) -> tuple[int, int]:
    code = normalize_code(text)
    number = table.code_number.get(code)
    if number is None or len(code) != 3:
        raise EncodingError(f"range bound {text!r} is not an ICD-10-CM category of {ICD10_RELEASE}")
    return table.subtree(number)


def code_range(pattern: object) -> tuple[int, int]:
    """The inclusive interval ``(lo, hi)`` of encodings matched by ``pattern``.

    Patterns:

    * ``"E11"`` or ``"E11.65"``: the code and all its descendants (a leaf gives ``(n, n)``);
    * ``"E11.*"``, ``"E11.6*"``, ``"E1*"``: every code starting with the prefix. When the prefix is itself a
      code this is its subtree; otherwise the matching codes must form one contiguous interval, else
      :class:`EncodingError` (the pattern cannot be a two-comparison check);
    * ``"O00-O9A"``: every code whose category lies between the two categories, inclusive, in tabular order
      (the bounds must be categories and in order).

    Raises :class:`EncodingError` for malformed patterns or patterns that match nothing. Cost: O(1) for codes
    and category ranges, O(nodes) for bare prefixes.
    """
    table = load_table()
    text = _clean(pattern)
    if "-" in text:
        parts = text.split("-")
        if len(parts) != 2:
            raise EncodingError(f"{pattern!r}: a range has exactly one '-'")
        lo, _ = _category_interval(table, parts[0])
        first_of_hi, hi = _category_interval(table, parts[1])
        if first_of_hi < lo:
            raise EncodingError(f"{pattern!r}: the range bounds are not in tabular order")
        return lo, hi
    if text.endswith("*"):
        prefix = text[:-1]
        if prefix.endswith("."):
            prefix = prefix[:-1]
        if len(prefix) >= 3:
            code = normalize_code(prefix)
            number = table.code_number.get(code)
            if number is not None:
                return table.subtree(number)
            prefix = code
        if not prefix or not re.fullmatch(r"[A-Z0-9.]+", prefix, re.ASCII):
            raise EncodingError(f"{pattern!r} is not an ICD-10-CM pattern")
        return _prefix_interval(table, prefix, pattern)
    code = normalize_code(text)
    number = table.code_number.get(code)
    if number is None:
        raise EncodingError(f"{code} is not a code of {ICD10_RELEASE}")
    return table.subtree(number)


def _prefix_interval(table: IcdTable, prefix: str, pattern: object) -> tuple[int, int]:
    numbers = [n for name, n in table.code_number.items() if name.startswith(prefix)]
    if not numbers:
        raise EncodingError(f"{pattern!r} matches no ICD-10-CM code")
    lo, hi = min(numbers), max(numbers)
    for number in range(lo, hi + 1):
        if table.kinds[number - 1] == _KIND_CODE and not table.names[number - 1].startswith(prefix):
            raise EncodingError(f"{pattern!r} does not match one contiguous interval of codes")
    return lo, hi
