"""CSV and XLSX exports of the breakdowns and of the per-publication rows.

Unknown metrics are written as empty cells, never 0. Times are in the report's zone. The rows
come from the same queries as the page, already scoped to the viewer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from publisher.reports import metrics as m
from publisher.timeutil import to_zone, zone_label

FIGURES = ("posts", "publications", *m.METRICS, "engagements", "engagement_rate")
PUBLICATION_COLUMNS = ("publication_id", "post_id", "unit", "platform", "channel", "campaign",
                       "published_at", "permalink", *m.METRICS, "engagements",
                       "engagement_rate")


def breakdown_table(rows: Sequence[dict[str, Any]], group_by: str) -> tuple[list[str],
                                                                             list[list[Any]]]:
    header = [group_by, *FIGURES]
    return header, [[r["label"] if r["label"] is not None else "", *[r[c] for c in FIGURES]]
                    for r in rows]


def publication_table(result: Iterable[Any], zone: str) -> tuple[list[str], Iterable[list[Any]]]:
    label = zone_label(zone)

    def rows() -> Iterable[list[Any]]:
        for r in result:
            local = to_zone(r.published_at, zone)
            eng = r.engagements
            yield [r.publication_id, r.post_id, r.unit_name, r.platform, r.channel_name,
                   r.campaign_name or "",
                   f"{local:%Y-%m-%d %H:%M} {label}" if local else "", r.permalink or "",
                   *[getattr(r, c) for c in m.METRICS], eng,
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


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([neutralise(v) for v in header])
    for row in rows:
        w.writerow(["" if v is None else neutralise(v) for v in row])
    return buf.getvalue()


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
            title: str = "") -> bytes:
    """One workbook, one sheet per table; a write-only workbook keeps memory flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for name, header, rows in sheets:
        ws = wb.create_sheet(title=name[:31])

        def cells(values: Iterable[Any], ws: Any = ws) -> list[Any]:
            # Text is written as a string cell (data_type "s"): openpyxl would otherwise
            # store a value starting with "=" as a formula that runs when the file opens.
            out: list[Any] = []
            for v in values:
                if isinstance(v, str):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    out.append(cell)
                else:
                    out.append(v)
            return out

        if title:
            ws.append(cells([title]))
        ws.append(cells(header))
        for row in rows:
            ws.append(cells(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
