"""Template filters of the reports: "Tidak tersedia" / "Not available" for an unknown metric
(never 0), the rest as ``web.formatting`` formats it. Registered under ``rp_`` names to stay out
of the general UI's way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from web import formatting


def number(value: Any) -> str:
    return formatting.translated("Not available") if value is None else formatting.number(value)


def percent(value: Any) -> str:
    if value is None:
        return formatting.translated("Not available")
    return formatting.percent(value, "#,##0.0%")


def change(value: Any) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else ""
    return sign + formatting.percent(value, "#,##0.0%")


def local_datetime(value: datetime | None, zone: str) -> str:
    """'Senin, 30 November 2026 09.00 WIB' (English: 'Monday, 30 November 2026 09:00 WIB')."""
    return "" if value is None else formatting.local_datetime(value, zone)


def local_date(value: Any) -> str:
    return formatting.day(value, "d MMMM y")


def register_filters(app: Flask) -> None:
    app.add_template_filter(number, "rp_number")
    app.add_template_filter(percent, "rp_percent")
    app.add_template_filter(change, "rp_change")
    app.add_template_filter(local_datetime, "rp_datetime")
    app.add_template_filter(local_date, "rp_date")
