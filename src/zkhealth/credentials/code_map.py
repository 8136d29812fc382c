"""The issuer's code map: what each code of its exports names in the code systems criteria use.

Criteria name each kind of entry by one code system first: diagnoses and admission reasons by ICD-10-CM
(``diagnosis in C00-C96``), medications by ATC class or RxNorm ingredient (``medication in atc:A10A``,
``rxnorm:6809``), allergy substances by ATC (or RxNorm, SNOMED CT), procedures by ICD-10-PCS and vaccines by CVX.
An export may code an entry in another system only: a drug by a clinical-drug RxCUI (SCD, "metformin
hydrochloride 500 MG Oral Tablet") rather than its ingredient, a condition, an admission reason, a procedure or a
vaccine in SNOMED CT only (Synthea codes conditions so), an allergy to a SNOMED CT substance. The links between
these systems (RxNorm's relationships, RxNorm -> ATC, NLM's SNOMED CT -> ICD-10-CM map) are not shipped with
zkhealth (most need the UMLS licence), so the importer (:mod:`zkhealth.credentials.ehr_import`) learns them from
this map. Without a row it cannot tell whether ``not diagnosis in C00-C96`` sees the entry, and then issues the
record as partial (see the importer's docstring, "Completeness").

File format: UTF-8 CSV, at most :data:`MAX_MAP_BYTES` bytes and :data:`MAX_MAP_ROWS` rows. Lines starting with
``#`` and empty lines are skipped. The first other line is the header: ``code``, then one or more of the target
columns of :data:`MAP_COLUMNS` (each at most once, in any order; the medication map's ``code,ingredients,atc`` is
one such header). Then one row per code:

* ``code``: the code the export writes, each at most once (a second row for it is refused, naming both lines):
  an RxCUI (digits, or ``rxnorm:`` digits: an ingredient, a clinical or branded drug, a pack), a 5-level ATC
  code (``A10AE04``, or ``atc:A10AE04``: for exports that code a drug by ATC only, it names the RxNorm
  ingredients of that code), or a SNOMED CT concept, written ``snomed:44054006`` (the prefix is needed: SNOMED CT
  ids are digits too);
* each target cell: that system's codes for the concept, separated by spaces; ``none`` when the concept has no
  code in that system (a SNOMED CT finding with no ICD-10-CM code, a food allergen with no ATC code); empty
  when the row says nothing about that system. ``ingredients`` are RxNorm ingredient RxCUIs (IN), ``atc``
  5-level ATC codes, ``icd10cm`` ICD-10-CM codes of the release, ``icd10pcs`` full 7-character ICD-10-PCS codes,
  ``cvx`` CVX vaccine codes.

Rows of an RxCUI or an ATC code describe a drug: at least one ingredient; an ATC code or ``none`` (may be empty
only on an ATC row, whose code is its own class); no ``icd10cm``, ``icd10pcs`` or ``cvx``. A SNOMED CT row
states at least one target; when it states ``ingredients`` or ``atc`` (a substance) it states both (``none``
allowed in both: a food or an environmental substance is no drug).

At most :data:`MAX_CODES_PER_CELL` codes per cell. Every code is validated with the encoders of
:mod:`zkhealth.credentials.codes`; an ATC class (fewer than 5 levels) is refused. Errors are
:class:`~zkhealth.errors.CodeMapError` naming the file and the line (1-based).

An RxCUI named in any ``ingredients`` cell is *known to be an ingredient*: an export coding that RxCUI needs no
row of its own, except to state its ATC code.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from zkhealth._fileio import read_bytes
from zkhealth.credentials import codes
from zkhealth.errors import CodeMapError, EncodingError

__all__ = [
    "MAP_COLUMNS", "MAP_HEADER", "MAX_CODES_PER_CELL", "MAX_MAP_BYTES", "MAX_MAP_ROWS", "CodeMap", "MapEntry",
    "parse_code_map", "read_code_map",
]

#: A map file is at most 16 MiB (every RxNorm clinical and branded drug with its ATC codes is a few MiB).
MAX_MAP_BYTES: Final[int] = 16 << 20
#: At most 500,000 rows.
MAX_MAP_ROWS: Final[int] = 500_000
#: At most 32 codes in one cell (the largest combination products have about a dozen ingredients).
MAX_CODES_PER_CELL: Final[int] = 32
#: The target columns a header may name after ``code``, and the code system of each.
MAP_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {"ingredients": "rxnorm", "atc": "atc", "icd10cm": "icd10cm", "icd10pcs": "icd10pcs", "cvx": "cvx"})
#: The header naming every column.
MAP_HEADER: Final[tuple[str, ...]] = ("code", *MAP_COLUMNS)
#: The code systems a row may be keyed by, and their prefixes.
_KEY_PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {"rxnorm": "rxnorm", "rxcui": "rxnorm", "atc": "atc", "snomed": "snomed", "sct": "snomed"})
_WHAT: Final[Mapping[str, str]] = MappingProxyType(
    {"ingredients": "ingredient", "atc": "ATC", "icd10cm": "ICD-10-CM", "icd10pcs": "ICD-10-PCS", "cvx": "CVX"})
_DRUG_TARGETS: Final[frozenset[str]] = frozenset({"rxnorm", "atc"})


@dataclass(frozen=True)
class MapEntry:
    """One row, from ``line``: the code ``system:code`` and what it states, ``targets``: pairs (target system,
    its codes), one per stated cell (no codes: ``none``, the concept has none in that system)."""

    system: str
    code: str
    targets: tuple[tuple[str, tuple[str, ...]], ...]
    line: int

    def codes_in(self, system: str) -> tuple[str, ...] | None:
        """The codes the row gives in ``system`` (empty: it has none), or ``None`` when the row does not say."""
        return next((found for target, found in self.targets if target == system), None)

    @property
    def ingredients(self) -> tuple[str, ...]:
        """The RxNorm ingredient RxCUIs of the row (empty: none stated)."""
        return self.codes_in("rxnorm") or ()

    @property
    def atc(self) -> tuple[str, ...]:
        """The 5-level ATC codes of the row (empty: none assigned, or not stated)."""
        return self.codes_in("atc") or ()


class CodeMap:
    """The rows of a map file, by ``(system, code)`` (``"rxnorm"``, ``"atc"`` or ``"snomed"``, canonical
    spelling)."""

    def __init__(self, entries: Iterable[MapEntry] = (), *, source: str = "code map") -> None:
        table: dict[tuple[str, str], MapEntry] = {}
        for entry in entries:
            key = (entry.system, entry.code)
            if key in table:
                raise CodeMapError(f"{source}: line {entry.line}: {entry.system} code {entry.code} is already "
                                   f"mapped on line {table[key].line}")
            table[key] = entry
        self.source = source
        self._table: Mapping[tuple[str, str], MapEntry] = MappingProxyType(table)
        self._ingredients: frozenset[str] = frozenset(i for entry in table.values() for i in entry.ingredients)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CodeMap:
        """:func:`read_code_map`."""
        return read_code_map(path)

    def __len__(self) -> int:
        return len(self._table)

    def lookup(self, system: str, code: str) -> MapEntry | None:
        """The row of a code (``system`` ``"rxnorm"``, ``"atc"`` or ``"snomed"``), or ``None``. Raises
        :class:`~zkhealth.errors.EncodingError` for a malformed code."""
        if system not in ("rxnorm", "atc", "snomed"):
            return None
        return self._table.get((system, codes.normalize_clinical_code(system, code)))

    def targets(self, system: str, code: str, target: str) -> tuple[str, ...] | None:
        """What the row of ``system:code`` gives in ``target`` (:meth:`MapEntry.codes_in`), ``None`` without a row
        or when the row does not say; a malformed code has no row."""
        try:
            row = self.lookup(system, code)
        except EncodingError:
            return None
        return None if row is None else row.codes_in(target)

    def is_ingredient(self, rxcui: str) -> bool:
        """Whether the map names ``rxcui`` as an ingredient of some drug."""
        return rxcui in self._ingredients


def _cell(text: str, system: str, *, what: str, where: str) -> tuple[str, ...] | None:
    """The codes of a cell (``none``: empty tuple; an empty cell: ``None``)."""
    if not text:
        return None
    if text.lower() == "none":
        return ()
    items = text.split()
    if len(items) > MAX_CODES_PER_CELL:
        raise CodeMapError(f"{where}: more than {MAX_CODES_PER_CELL} {what} codes")
    out: list[str] = []
    for item in items:
        try:
            code = codes.normalize_clinical_code(system, item)
        except EncodingError as exc:
            raise CodeMapError(f"{where}: {what}: {exc}") from None
        if code in out:
            raise CodeMapError(f"{where}: {what} code {code} is listed twice")
        out.append(code)
    return tuple(out)


def _header(cells: tuple[str, ...], where: str) -> tuple[str, ...]:
    names = tuple(cell.lower() for cell in cells)
    if (len(names) < 2 or names[0] != "code" or len(set(names)) != len(names)
            or not all(name in MAP_COLUMNS for name in names[1:])):
        raise CodeMapError(f"{where}: the first row must be the header: code, then one or more of "
                           f"{', '.join(MAP_COLUMNS)} (each once), e.g. code,ingredients,atc")
    return names


def _key(text: str, where: str) -> tuple[str, str]:
    prefix, colon, rest = text.partition(":")
    if colon:
        system = _KEY_PREFIXES.get(prefix.lower())
        if system is None:
            raise CodeMapError(f"{where}: code: unknown prefix {prefix[:20]!r} (rxnorm:, atc: or snomed:)")
    else:
        system, rest = ("rxnorm" if text[:1].isdigit() else "atc"), text
    try:
        return system, codes.normalize_clinical_code(system, rest)
    except EncodingError as exc:
        raise CodeMapError(f"{where}: code: {exc} (an RxCUI, a 5-level ATC code or snomed: and a SNOMED CT "
                           "id)") from None


def _entry(system: str, code: str, stated: dict[str, tuple[str, ...]], number: int, where: str) -> MapEntry:
    """A row's entry, after the rules of the module docstring on what a row of its code system states."""
    label = f"{system}:{code}"
    if system == "snomed":
        if not stated:
            raise CodeMapError(f"{where}: {label} states no target code (give codes, or 'none')")
        if ("rxnorm" in stated) != ("atc" in stated):
            raise CodeMapError(f"{where}: {label}: a substance states both ingredients and atc ('none' allowed)")
        return MapEntry(system, code, tuple(stated.items()), number)
    others = sorted(set(stated) - _DRUG_TARGETS)
    if others:
        raise CodeMapError(f"{where}: {label} is a drug: {', '.join(others)} codes are for snomed: rows")
    if not stated.get("rxnorm"):
        raise CodeMapError(f"{where}: {label} names no ingredient RxCUI")
    atc = stated.get("atc")
    if atc is None and system == "rxnorm":
        raise CodeMapError(f"{where}: {label} has no ATC code: give one, or 'none' when WHO assigns it none")
    if system == "atc" and code not in (atc or ()):
        stated["atc"] = (code, *(atc or ()))
    return MapEntry(system, code, tuple(stated.items()), number)


def parse_code_map(data: bytes | str, *, source: str = "code map") -> CodeMap:
    """Parse the text of a map file (module docstring); :class:`~zkhealth.errors.CodeMapError` names ``source``
    and the line of the first problem."""
    if isinstance(data, bytes):
        if len(data) > MAX_MAP_BYTES:
            raise CodeMapError(f"{source}: more than the {MAX_MAP_BYTES}-byte limit")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodeMapError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
        if len(text) > MAX_MAP_BYTES:
            raise CodeMapError(f"{source}: more than the {MAX_MAP_BYTES}-character limit")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise CodeMapError(f"{source}: a NUL character (a binary file?)")
    entries: list[MapEntry] = []
    header: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source}: line {number}"
        try:
            rows = list(csv.reader(io.StringIO(stripped), strict=True))
        except csv.Error as exc:
            raise CodeMapError(f"{where}: not a CSV row ({exc})") from None
        cells = tuple(cell.strip() for cell in rows[0]) if len(rows) == 1 else ()
        if not header:
            header = _header(cells, where)
            continue
        if len(cells) != len(header):
            raise CodeMapError(f"{where}: a row has {len(header)} cells ({','.join(header)}), this one "
                               f"{len(cells)}")
        if len(entries) >= MAX_MAP_ROWS:
            raise CodeMapError(f"{where}: more than {MAX_MAP_ROWS} rows")
        system, code = _key(cells[0], where)
        stated: dict[str, tuple[str, ...]] = {}
        for column, cell in zip(header[1:], cells[1:], strict=True):
            found = _cell(cell, MAP_COLUMNS[column], what=_WHAT[column], where=where)
            if found is not None:
                stated[MAP_COLUMNS[column]] = found
        entries.append(_entry(system, code, stated, number, where))
    if not header:
        raise CodeMapError(f"{source}: no header row (code, then one or more of {', '.join(MAP_COLUMNS)})")
    return CodeMap(entries, source=source)


def read_code_map(path: str | os.PathLike[str]) -> CodeMap:
    """Read a map file (module docstring), refusing one above :data:`MAX_MAP_BYTES` before reading it."""
    name = os.fspath(path)
    data = read_bytes(Path(path), max_bytes=MAX_MAP_BYTES, error=CodeMapError, what=name)
    return parse_code_map(data, source=name)
