"""The words and formats of the reports' exports in the viewer's language: column headers and
sheet names (Indonesian first, English when the UI is in English), the CSV separator and
decimal mark, the XLSX date formats.

CSV: by default a semicolon with a decimal comma in Indonesian (what Excel expects under
Indonesian regional settings, where a comma-separated file opens as one column) and a comma
with a decimal point in English; ``sep=comma`` / ``sep=semicolon`` on the URL overrides it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from publisher.reports import exports as x
from publisher.timeutil import zone_label
from web.formatting import lang

#: Header words per column key; ``published_at`` names the zone of its times.
_HEADERS: dict[str, Callable[[], str]] = {
    "unit": lambda: _("Unit"), "platform": lambda: _("Platform"),
    "channel": lambda: _("Account"), "campaign": lambda: _("Campaign"),
    "day": lambda: _("Date"), "posts": lambda: _("Posts"),
    "publications": lambda: _("Publications"), "likes": lambda: _("Likes"),
    "comments": lambda: _("Comments"), "shares": lambda: _("Shares"),
    "views": lambda: _("Views"), "impressions": lambda: _("Impressions"),
    "reach": lambda: _("Reach"), "saves": lambda: _("Saves"),
    "engagements": lambda: _("Engagement"), "engagement_rate": lambda: _("Engagement rate"),
    "publication_id": lambda: _("Publication no."), "post_id": lambda: _("Post no."),
    "permalink": lambda: _("Link on the platform"),
}
#: Sheet (and file) names per table.
_SHEETS: dict[str, Callable[[], str]] = {
    "unit": lambda: _("Unit"), "platform": lambda: _("Platform"),
    "channel": lambda: _("Account"), "campaign": lambda: _("Campaign"),
    "day": lambda: _("Date"), "publications": lambda: _("Publications"),
}

#: XLSX date formats per UI language (Excel shows its own separators for "/" and ":").
_XLSX_FORMATS = {"id": {x.DATE: "dd/mm/yyyy", x.DATETIME: "dd/mm/yyyy hh:mm"},
                 "en": {x.DATE: "yyyy-mm-dd", x.DATETIME: "yyyy-mm-dd hh:mm"}}

_SEPARATORS = {"semicolon": x.SEMICOLON, ";": x.SEMICOLON, "comma": x.COMMA, ",": x.COMMA}


def header(keys: list[str], zone: str) -> list[str]:
    """The translated headers of ``keys``; the time column says its zone ("Waktu terbit
    (WIB)"), since a spreadsheet's date cell carries none."""
    return [_("Published at (%(zone)s)", zone=zone_label(zone)) if k == "published_at"
            else _HEADERS[k]() for k in keys]


def kinds(keys: list[str]) -> list[str]:
    return [x.kind_of(k) for k in keys]


def sheet_name(table: str) -> str:
    return _SHEETS[table]()


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
    return _XLSX_FORMATS.get(lang(), _XLSX_FORMATS["id"])
