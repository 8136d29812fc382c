"""The issuer's medication map: what each RxNorm (or ATC) code of its exports names, as its formulary knows it.

An export codes a medication by whatever RxNorm concept the prescribing system uses, often a clinical drug
(SCD, "metformin hydrochloride 500 MG Oral Tablet") rather than the ingredient (metformin, RxCUI 6809), and
seldom by ATC. Criteria name medications by ATC class (``medication in atc:A10A``) or RxNorm ingredient
(``rxnorm:6809``). RxNorm's relationships (SCD -> ingredient) and the RxNorm -> ATC links are not shipped with
zkhealth, so the importer (:mod:`zkhealth.credentials.ehr_import`) learns them from this map, and without a map
entry it cannot tell what class a clinical drug belongs to: it then issues the record as partial (see the
importer's docstring, "Completeness").

File format: UTF-8 CSV, at most :data:`MAX_MAP_BYTES` bytes and :data:`MAX_MAP_ROWS` rows. Lines starting with
``#`` and empty lines are skipped. The first other line is the header ``code,ingredients,atc``; then one row
per code:

* ``code``: an RxCUI (digits: an ingredient, a clinical or branded drug, a pack) or a 5-level ATC substance
  code (``A10AE04``: for exports that code a drug by ATC only, it names the RxNorm ingredients of that code);
  each code at most once (a second row for it is refused, naming both lines);
* ``ingredients``: the RxNorm ingredient RxCUIs (IN) of the drug, separated by spaces, at least one;
* ``atc``: its 5-level ATC codes separated by spaces, or ``none`` when WHO assigns it no ATC code (it then is
  in no ATC class); may be empty only on a row whose ``code`` is an ATC code (the code is its own class).

At most :data:`MAX_CODES_PER_CELL` codes per cell. Every code is validated with the encoders of
:mod:`zkhealth.credentials.codes`; an ATC class (fewer than 5 levels) is refused. Errors are
:class:`~zkhealth.errors.MedicationMapError` naming the file and the line (1-based).

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
from zkhealth.errors import CodeSystemError, MedicationMapError

__all__ = [
    "MAP_HEADER", "MAX_CODES_PER_CELL", "MAX_MAP_BYTES", "MAX_MAP_ROWS", "MapEntry", "RxNormMap", "parse_rxnorm_map",
    "read_rxnorm_map",
]

#: A map file is at most 16 MiB (every RxNorm clinical and branded drug with its ATC codes is a few MiB).
MAX_MAP_BYTES: Final[int] = 16 << 20
#: At most 500,000 rows.
MAX_MAP_ROWS: Final[int] = 500_000
#: At most 32 codes in one cell (the largest combination products have about a dozen ingredients).
MAX_CODES_PER_CELL: Final[int] = 32
#: The header line.
MAP_HEADER: Final[tuple[str, str, str]] = ("code", "ingredients", "atc")


@dataclass(frozen=True)
class MapEntry:
    """One row: the ``ingredients`` (RxCUIs) and ``atc`` codes (empty: none assigned) of a code, from ``line``."""

    system: str
    code: str
    ingredients: tuple[str, ...]
    atc: tuple[str, ...]
    line: int


class RxNormMap:
    """The rows of a map file, by ``(system, code)`` (``"rxnorm"`` or ``"atc"``, canonical spelling)."""

    def __init__(self, entries: Iterable[MapEntry] = (), *, source: str = "medication map") -> None:
        table: dict[tuple[str, str], MapEntry] = {}
        for entry in entries:
            key = (entry.system, entry.code)
            if key in table:
                raise MedicationMapError(f"{source}: line {entry.line}: {entry.system} code {entry.code} is already "
                                         f"mapped on line {table[key].line}")
            table[key] = entry
        self.source = source
        self._table: Mapping[tuple[str, str], MapEntry] = MappingProxyType(table)
        self._ingredients: frozenset[str] = frozenset(i for entry in table.values() for i in entry.ingredients)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> RxNormMap:
        """:func:`read_rxnorm_map`."""
        return read_rxnorm_map(path)

    def __len__(self) -> int:
        return len(self._table)

    def lookup(self, system: str, code: str) -> MapEntry | None:
        """The row of a code (``system`` ``"rxnorm"`` or ``"atc"``), or ``None``. Raises
        :class:`~zkhealth.errors.CodeSystemError` for a malformed code."""
        if system not in ("rxnorm", "atc"):
            return None
        return self._table.get((system, codes.normalize_clinical_code(system, code)))

    def is_ingredient(self, rxcui: str) -> bool:
        """Whether the map names ``rxcui`` as an ingredient of some drug."""
        return rxcui in self._ingredients


def _cell(text: str, system: str, *, what: str, where: str) -> tuple[str, ...]:
    items = text.split()
    if len(items) > MAX_CODES_PER_CELL:
        raise MedicationMapError(f"{where}: more than {MAX_CODES_PER_CELL} {what} codes")
    out: list[str] = []
    for item in items:
        try:
            code = codes.normalize_clinical_code(system, item)
        except CodeSystemError as exc:
            raise MedicationMapError(f"{where}: {what}: {exc}") from None
        if code in out:
            raise MedicationMapError(f"{where}: {what} code {code} is listed twice")
        out.append(code)
    return tuple(out)


def parse_rxnorm_map(data: bytes | str, *, source: str = "medication map") -> RxNormMap:
    """Parse the text of a map file (module docstring); :class:`~zkhealth.errors.MedicationMapError` names
    ``source`` and the line of the first problem."""
    if isinstance(data, bytes):
        if len(data) > MAX_MAP_BYTES:
            raise MedicationMapError(f"{source}: more than the {MAX_MAP_BYTES}-byte limit")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MedicationMapError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
        if len(text) > MAX_MAP_BYTES:
            raise MedicationMapError(f"{source}: more than the {MAX_MAP_BYTES}-character limit")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise MedicationMapError(f"{source}: a NUL character (a binary file?)")
    entries: list[MapEntry] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source}: line {number}"
        try:
            rows = list(csv.reader(io.StringIO(stripped), strict=True))
        except csv.Error as exc:
            raise MedicationMapError(f"{where}: not a CSV row ({exc})") from None
        cells = tuple(cell.strip() for cell in rows[0]) if len(rows) == 1 else ()
        if len(cells) != len(MAP_HEADER):
            raise MedicationMapError(f"{where}: a row has {len(MAP_HEADER)} cells ({','.join(MAP_HEADER)}), this one "
                                     f"{len(cells)}")
        if not header_seen:
            if tuple(cell.lower() for cell in cells) != MAP_HEADER:
                raise MedicationMapError(f"{where}: the first row must be the header {','.join(MAP_HEADER)}")
            header_seen = True
            continue
        if len(entries) >= MAX_MAP_ROWS:
            raise MedicationMapError(f"{where}: more than {MAX_MAP_ROWS} rows")
        key, ingredients_text, atc_text = cells
        system = "rxnorm" if key[:1].isdigit() else "atc"
        try:
            code = codes.normalize_clinical_code(system, key)
        except CodeSystemError as exc:
            raise MedicationMapError(f"{where}: code: {exc} (an RxCUI or a 5-level ATC code)") from None
        ingredients = _cell(ingredients_text, "rxnorm", what="ingredient", where=where)
        if not ingredients:
            raise MedicationMapError(f"{where}: {system}:{code} names no ingredient RxCUI")
        if atc_text.lower() == "none":
            atc: tuple[str, ...] = ()
        elif not atc_text and system == "rxnorm":
            raise MedicationMapError(f"{where}: rxnorm:{code} has no ATC code: give one, or 'none' when WHO "
                                     "assigns it none")
        else:
            atc = _cell(atc_text, "atc", what="ATC", where=where)
        if system == "atc" and code not in atc:
            atc = (code, *atc)
        entries.append(MapEntry(system, code, ingredients, atc, number))
    if not header_seen:
        raise MedicationMapError(f"{source}: no header row ({','.join(MAP_HEADER)})")
    return RxNormMap(entries, source=source)


def read_rxnorm_map(path: str | os.PathLike[str]) -> RxNormMap:
    """Read a map file (module docstring), refusing one above :data:`MAX_MAP_BYTES` before reading it."""
    name = os.fspath(path)
    data = read_bytes(Path(path), max_bytes=MAX_MAP_BYTES, error=MedicationMapError, what=name)
    return parse_rxnorm_map(data, source=name)

