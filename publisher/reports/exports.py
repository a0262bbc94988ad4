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


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
            title: str = "") -> bytes:
    """One workbook, one sheet per table; a write-only workbook keeps memory flat."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, header, rows in sheets:
        ws = wb.create_sheet(title=name[:31])
        if title:
            ws.append([title])
        ws.append(list(header))
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
