"""The words and formats of the reports' exports in the viewer's language: column headers and
sheet names (Indonesian first, English when the UI is in English), the CSV separator and
decimal mark, the XLSX date formats.

CSV: by default a semicolon with a decimal comma in Indonesian (what Excel expects under
Indonesian regional settings, where a comma-separated file opens as one column) and a comma
with a decimal point in English; ``sep=comma`` / ``sep=semicolon`` on the URL overrides it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from publisher.reports import exports as x
from publisher.timeutil import zone_label
from web.formatting import lang

_SEPARATORS = {"semicolon": x.SEMICOLON, ";": x.SEMICOLON, "comma": x.COMMA, ",": x.COMMA}


def header(keys: list[str], zone: str) -> list[str]:
    """The translated headers of ``keys``; the time column says its zone ("Waktu terbit
    (WIB)"), since a spreadsheet's date cell carries none."""
    words = x.header_words(_)
    return [_("Published at (%(zone)s)", zone=zone_label(zone)) if k == "published_at"
            else words[k] for k in keys]


def kinds(keys: list[str]) -> list[str]:
    return [x.kind_of(k) for k in keys]


def sheet_name(table: str) -> str:
    return x.sheet_words(_)[table]


def file_name(table: str | None, first: date, last: date, ext: str) -> str:
    """"laporan-penayangan-2026-11-01-2026-11-30.csv" ("report-publications-…" in English);
    the workbook of every table is "laporan-semua-…"."""
    what = (sheet_name(table) if table else _("all")).lower().replace(" ", "-")
    prefix = _("report")
    return f"{prefix}-{what}-{first}-{last}.{ext}"


def no_campaign() -> str:
    return _("No campaign")


def csv_dialect() -> x.CsvDialect:
    """From ``sep`` on the URL, else by the UI language; an unknown value is a 400."""
    raw = request.args.get("sep", "").strip().lower()
    if not raw:
        return x.COMMA if lang() == "en" else x.SEMICOLON
    if raw not in _SEPARATORS:
        abort(400, description=_("Unknown separator '%(sep)s': use sep=semicolon or "
                                 "sep=comma.", sep=raw[:20]))
    return _SEPARATORS[raw]


def xlsx_formats() -> dict[str, Any]:
    return x.xlsx_formats(lang())
