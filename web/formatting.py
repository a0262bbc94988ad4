"""Numbers, percentages, dates and times in the viewer's language and zone: the one
implementation behind the UI's template filters (``num``, ``pct``, ``dt``, ``day``) and the
reports' (``rp_*``). Each family only chooses its word for "unknown".

Whole numbers take a fast path: a report page formats a couple of thousand of them, and Babel's
general formatter was a fifth of the page's time (``bench/reports.py``). The fast path is used
only for locales whose decimal pattern is the plain ``#,##0.###`` (Indonesian and English are),
and ``tests/web/test_formatting.py`` checks it against Babel.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent, get_group_symbol, get_minus_sign_symbol
from flask import g, has_request_context
from flask_babel import get_locale, gettext

from publisher.timeutil import zone_label


def lang() -> str:
    """The viewer's language code: "id" (default) or "en".

    Kept on ``g`` for the request: Flask-Babel's lookup costs more than formatting a number,
    and a report page formats a couple of thousand.
    """
    if not has_request_context():
        return str(get_locale() or "id")
    code = g.get("warta_lang")
    if code is None:
        code = g.warta_lang = str(get_locale() or "id")
    return str(code)


def translated(message: str) -> str:
    """``gettext(message)``, looked up once per request (for words repeated in every cell,
    like "Not available")."""
    if not has_request_context():
        return str(gettext(message))
    cache = g.get("warta_words")
    if cache is None:
        cache = g.warta_words = {}
    if message not in cache:
        cache[message] = str(gettext(message))
    return str(cache[message])


@lru_cache(maxsize=16)
def _plain_grouping(locale: str) -> tuple[str, str] | None:
    """(group separator, minus sign) when whole numbers are grouped by threes, else None."""
    pattern = Locale.parse(locale).decimal_formats.get(None)
    if pattern is None or pattern.pattern != "#,##0.###":
        return None
    return get_group_symbol(locale), get_minus_sign_symbol(locale)


def number(value: float | int, locale: str | None = None) -> str:
    """'1.234.567' (id) or '1,234,567' (en); fractions as Babel formats them."""
    locale = locale or lang()
    if isinstance(value, int) and not isinstance(value, bool):
        plain = _plain_grouping(locale)
        if plain is not None:
            group, minus = plain
            text = f"{abs(value):,}".replace(",", group)
            return minus + text if value < 0 else text
    return format_decimal(value, locale=locale)


def percent(value: float, pattern: str = "#,##0.#%", locale: str | None = None) -> str:
    return format_percent(value, pattern, locale=locale or lang())


def local_datetime(value: datetime, zone: str, short: bool = False,
                   locale: str | None = None) -> str:
    """'Senin, 30 November 2026 09.00 WIB' (id) or 'Monday, 30 November 2026 09:00 WIB' (en);
    ``short``: '30 Nov 2026 09.00 WIB'. A time the zone cannot hold is shown in UTC."""
    locale = locale or lang()
    try:
        local = value.astimezone(ZoneInfo(zone))
    except OverflowError:  # a time at the very end of datetime (stored before it was refused)
        local, zone = value, "UTC"
    sep = "." if locale.startswith("id") else ":"
    pattern = f"d MMM y HH{sep}mm" if short else f"EEEE, d MMMM y HH{sep}mm"
    return f"{format_datetime(local, pattern, locale=locale)} {zone_label(zone)}"


def day(value: date | str, pattern: str = "EEEE, d MMMM y", locale: str | None = None) -> str:
    """A calendar date ('2026-11-30' or a date) in words."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, pattern, locale=locale or lang())

