"""Build a version-2 :class:`~zkhealth.credentials.record.PatientRecord` from a FHIR R4 Bundle: the short form
of :func:`zkhealth.credentials.ehr_import.import_bundle`, for callers that state completeness themselves.

:func:`record_from_bundle` imports the bundle by the rules of :mod:`zkhealth.credentials.ehr_import` (codings,
statuses, dates, unit conversion and rounding, what is listed as unmappable) and returns the record with the list
of what was left out (unmappable resources and parts of recorded ones), as ``"<resource>: <reason>"``.
``complete=False`` (the default) makes a partial record; ``complete=True`` is the issuer's statement that the
bundle is the patient's complete record, and a bundle that leaves out anything criteria could name is then
refused with :class:`~zkhealth.errors.UnmappedContentError` (a :class:`~zkhealth.errors.FhirImportError`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkhealth.credentials.code_map import CodeMap
from zkhealth.credentials.ehr_import import import_bundle
from zkhealth.credentials.record import PatientRecord

__all__ = ["ImportResult", "record_from_bundle"]


@dataclass
class ImportResult:
    """The imported record and what was left out of it, as ``"<resource>: <reason>"``."""

    record: PatientRecord
    skipped: list[str] = field(default_factory=list)


def record_from_bundle(
    source: dict[str, Any] | str | bytes | Path,
    *,
    complete: bool = False,
    as_of: _dt.date | None = None,
    research_consent: bool = False,
    code_map: CodeMap | None = None,
) -> ImportResult:
    """Import a bundle (dict, JSON text or path) as a version-2 record (module docstring).

    ``complete`` and ``research_consent`` are the issuer's statements (not read from FHIR); ``as_of`` defaults
    to the bundle's timestamp, else its latest clinical date; ``code_map`` is the issuer's code map
    (:mod:`zkhealth.credentials.code_map`). Raises :class:`~zkhealth.errors.FhirImportError`
    subclasses naming the resource.
    """
    result = import_bundle(source, complete=complete, as_of=as_of, research_consent=research_consent,
                           code_map=code_map)
    summary = result.summary
    return ImportResult(result.record, [f"{item.where}: {item.reason}" for item in (*summary.unmappable,
                                                                                    *summary.partly)])
