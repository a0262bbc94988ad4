"""CSV and XLSX exports of the breakdowns and of the per-publication rows.

Unknown metrics are written as empty cells, never 0. Times are in the report's zone. The rows
come from the same queries as the page, already scoped to the viewer.

A table is its column keys (``posts``, ``published_at``, …), one value per key and row, and a
kind per key that says how a spreadsheet should see the value: whole numbers, a rate (a
fraction, shown as a percentage), a date, a local date and time, or text. The words of the
header are the caller's (the web layer translates them); this module only knows the keys.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, repeat
from typing import Any

from publisher.reports import metrics as m
from publisher.timeutil import to_zone

FIGURES = ("posts", "publications", *m.METRICS, "engagements", "engagement_rate")
PUBLICATION_COLUMNS = ("publication_id", "post_id", "unit", "platform", "channel", "campaign",
                       "published_at", "permalink", *m.METRICS, "engagements",
                       "engagement_rate")

#: What a value is to a spreadsheet.
TEXT, ID, COUNT, RATE, DATE, DATETIME = "text", "id", "count", "rate", "date", "datetime"
_KINDS = {"publication_id": ID, "post_id": ID, "published_at": DATETIME, "day": DATE,
          "engagement_rate": RATE, **{k: COUNT for k in FIGURES if k != "engagement_rate"}}


def kind_of(key: str) -> str:
    return _KINDS.get(key, TEXT)


# -- the words ------------------------------------------------------------------------------
# One table of header and sheet words for every export (the reports page's download and the
# weekly e-mail's workbook), written with English msgids and translated by the caller's
# ``gettext``: the web layer passes Flask-Babel's, the notifier the recipient's catalogue.

def header_words(_: Callable[[str], str]) -> dict[str, str]:
    """Header words per column key (``published_at`` names its zone and is the caller's)."""
    return {
        "unit": _("Unit"), "platform": _("Platform"), "channel": _("Account"),
        "campaign": _("Campaign"), "day": _("Date"), "posts": _("Posts"),
        "publications": _("Publications"), "likes": _("Likes"), "comments": _("Comments"),
        "shares": _("Shares"), "views": _("Views"), "impressions": _("Impressions"),
        "reach": _("Reach"), "saves": _("Saves"), "engagements": _("Engagement"),
        "engagement_rate": _("Engagement rate"), "publication_id": _("Publication no."),
        "post_id": _("Post no."), "permalink": _("Link on the platform"),
    }


def sheet_words(_: Callable[[str], str]) -> dict[str, str]:
    """Sheet (and file) names per table."""
    return {"unit": _("Unit"), "platform": _("Platform"), "channel": _("Account"),
            "campaign": _("Campaign"), "day": _("Date"), "publications": _("Publications")}


#: XLSX date formats per UI language (Excel shows its own separators for "/" and ":").
XLSX_DATE_FORMATS = {"id": {DATE: "dd/mm/yyyy", DATETIME: "dd/mm/yyyy hh:mm"},
                     "en": {DATE: "yyyy-mm-dd", DATETIME: "yyyy-mm-dd hh:mm"}}


def xlsx_formats(locale: str) -> dict[str, str]:
    return XLSX_DATE_FORMATS.get(locale, XLSX_DATE_FORMATS["id"])


def breakdown_table(rows: Sequence[dict[str, Any]], group_by: str,
                    no_label: str = "") -> tuple[list[str], list[list[Any]]]:
    """One row per group; a group without a label (posts outside any campaign) is called
    ``no_label``. Days are dates."""
    header = [group_by, *FIGURES]

    def label(value: Any) -> Any:
        if value is None:
            return no_label
        if group_by == "day" and isinstance(value, str):
            return date.fromisoformat(value)
        return value
    return header, [[label(r["label"]), *[r[c] for c in FIGURES]] for r in rows]


def publication_table(result: Iterable[Any], zone: str) -> tuple[list[str], Iterable[list[Any]]]:
    """Every publication, streamed from ``result``; its time is the wall-clock time in
    ``zone`` (the header names the zone: a spreadsheet's date cell has none)."""
    def rows() -> Iterable[list[Any]]:
        for r in result:
            local = to_zone(r.published_at, zone)
            eng = r.engagements
            yield [r.publication_id, r.post_id, r.unit_name, r.platform, r.channel_name,
                   r.campaign_name or "", local.replace(tzinfo=None) if local else None,
                   r.permalink or "", *[getattr(r, c) for c in m.METRICS], eng,
                   m.rate(eng if r.denominator is not None else None, r.denominator)]
    return list(PUBLICATION_COLUMNS), rows()


#: What a spreadsheet reads as the start of a formula (OWASP's "CSV injection" list): a
#: channel or campaign named "=HYPERLINK(…)" must open as text, not as a live formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that cannot be read as a formula: prefixed with ``'`` when it starts with
    one of ``FORMULA_STARTS``. Numbers are numbers and stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class CsvDialect:
    """Separator and decimal mark together, as Excel reads a CSV file under the computer's
    regional settings: where the decimal mark is a comma (Indonesian), the list separator is
    a semicolon, and a comma-separated file opens as one column."""

    separator: str
    decimal: str


COMMA = CsvDialect(",", ".")
SEMICOLON = CsvDialect(";", ",")


def csv_value(value: Any, kind: str, dialect: CsvDialect) -> Any:
    """One CSV cell: a rate as a percentage with two decimals in the dialect's decimal mark
    ("14,42%", which Excel reads as the number 0.1442), a time as "2026-11-03 09:00" and a
    date as "2026-11-03" (both read as dates), counts as digits without grouping."""
    if value is None:
        return ""
    if kind == RATE and isinstance(value, int | float):
        return f"{value * 100:.2f}".replace(".", dialect.decimal) + "%"
    if kind == DATETIME and isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]],
           kinds: Sequence[str] | None = None, *, dialect: CsvDialect = COMMA,
           bom: bool = False) -> str:
    """The table as CSV text. ``kinds`` (one per column) formats the values for a spreadsheet;
    without, values are written as they are. ``bom`` starts the text with a UTF-8 byte order
    mark, without which Excel reads the file as the computer's legacy code page."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    w = csv.writer(buf, delimiter=dialect.separator)
    w.writerow([neutralise(v) for v in header])
    cols = list(kinds) if kinds is not None else None
    for row in rows:
        if cols is None:
            w.writerow(["" if v is None else neutralise(v) for v in row])
        else:
            w.writerow([csv_value(v, k, dialect) for v, k in zip(row, cols, strict=True)])
    return buf.getvalue()


#: Number formats of the XLSX cells, by kind (the caller may give its language's own).
XLSX_FORMATS = {ID: "0", COUNT: "#,##0", RATE: "0.0%", DATE: "yyyy-mm-dd",
                DATETIME: "yyyy-mm-dd hh:mm"}
_WIDTHS = {DATE: 12, DATETIME: 17, TEXT: 24, RATE: 14, COUNT: 12, ID: 10}


def to_xlsx(sheets: Sequence[tuple[Any, ...]], title: str = "",
            formats: dict[str, str] | None = None) -> bytes:
    """One workbook, one sheet per table: ``(name, header, rows)`` or ``(name, header, rows,
    kinds)``. With kinds, numbers, rates and times are typed cells with a number format (a
    rate is the fraction, formatted as a percentage). A write-only workbook keeps memory
    flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    fmt = {**XLSX_FORMATS, **(formats or {})}
    wb = Workbook(write_only=True)
    for name, header, rows, *rest in sheets:
        kinds = list(rest[0]) if rest else [TEXT] * len(header)
        ws = wb.create_sheet(title=name[:31])
        for i, kind in enumerate(kinds, 1):
            ws.column_dimensions[get_column_letter(i)].width = max(_WIDTHS[kind],
                                                                   len(header[i - 1]) + 2)
        ws.freeze_panes = "A3" if title else "A2"

        def cells(values: Iterable[Any], ws: Any = ws, kinds: Sequence[str] = kinds) -> list:
            # Text is written as a string cell (data_type "s"): openpyxl would otherwise
            # store a value starting with "=" as a formula that runs when the file opens.
            out: list[Any] = []
            for v, kind in zip(values, chain(kinds, repeat(TEXT))):  # noqa: B905
                if isinstance(v, str):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    out.append(cell)
                elif v is not None and kind in fmt:
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = fmt[kind]
                    out.append(cell)
                else:
                    out.append(v)
            return out

        if title:
            ws.append(cells([title], kinds=[TEXT]))
        ws.append(cells(header, kinds=[TEXT] * len(header)))
        for row in rows:
            ws.append(cells(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
