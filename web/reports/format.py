"""Template filters for reports: numbers, rates and local dates through Babel, and "Tidak
tersedia" for unknown metrics (never 0). Registered under ``rp_`` names to stay out of the
general UI's way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import format_decimal, format_percent, get_locale, gettext

from publisher.timeutil import to_zone, zone_label


def number(value: Any) -> str:
    return gettext("Not available") if value is None else format_decimal(value)


def percent(value: Any) -> str:
    if value is None:
        return gettext("Not available")
    return format_percent(value, format="#,##0.0%")


def change(value: Any) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else ""
    return sign + format_percent(value, format="#,##0.0%")


def local_datetime(value: datetime | None, zone: str) -> str:
    """'Senin, 30 November 2026 09.00 WIB' (English: 'Monday, 30 November 2026 09:00 WIB')."""
    if value is None:
        return ""
    from babel.dates import format_datetime

    local = to_zone(value, zone)
    locale = str(get_locale() or "id")
    pattern = "EEEE, d MMMM y HH.mm" if locale.startswith("id") else "EEEE, d MMMM y HH:mm"
    return f"{format_datetime(local, pattern, locale=locale)} {zone_label(zone)}"


def local_date(value: Any) -> str:
    from datetime import date

    from babel.dates import format_date

    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "d MMMM y", locale=str(get_locale() or "id"))


def register_filters(app: Flask) -> None:
    app.add_template_filter(number, "rp_number")
    app.add_template_filter(percent, "rp_percent")
    app.add_template_filter(change, "rp_change")
    app.add_template_filter(local_datetime, "rp_datetime")
    app.add_template_filter(local_date, "rp_date")
