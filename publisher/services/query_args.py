"""Reading query arguments (``?channel=3&created_from=2026-11-01``) strictly.

A page may ignore junk in its own links: a hand-edited address just loses that filter. An API
client must hear about its typo instead, because an unfiltered answer looks just like a
filtered one. So the API's and the reports' arguments are read here, one way: an empty value
means "not given", and a value that cannot be read is an ``Invalid`` naming the argument
(HTTP 400 with a field message), never a silent "any".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from publisher.services.errors import Invalid
from publisher.timeutil import BadTime, parse_time

#: The field message of an unreadable time: what the server does accept.
TIME_FORMS = "ISO 8601 date or date and time, e.g. 2026-12-01, 2026-12-01T09:00+07:00"


#: The largest id a database column holds (64-bit signed): a bigger number cannot name a row,
#: and PostgreSQL refuses to compare a BIGINT with it (a 500 instead of "no such thing").
#: The largest id a column holds: ids are INTEGER, 32 bits on PostgreSQL (a bigger number in a
#: URL or a body was a 500 there, "integer out of range", found by the schemathesis run).
MAX_ID = 2**31 - 1


def small_int(raw: str | None) -> int | None:
    """A form's or a list's number (an id, a count) when it is plain ASCII digits short enough
    to be one, else ``None``: ``str.isdigit`` takes '²', on which ``int`` raises, and ``int``
    refuses more than 4,300 digits, so checking ``isdigit`` alone was a 500."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 and int(raw) <= MAX_ID:
        return int(raw)  # and within an INTEGER column: PostgreSQL refuses a bigger one
    return None


def int_arg(args: Mapping[str, str], name: str, *, minimum: int = -MAX_ID,
            maximum: int = MAX_ID) -> int | None:
    """A whole number (an id, a page number), or ``None`` when the argument is absent or empty;
    outside ``[minimum, maximum]`` it is a 400 naming the argument."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw) if len(raw) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise Invalid(f"Parameter '{name}' harus berupa angka.",
                      f"Parameter '{name}' must be a number.", fields={name: "integer"})
    if not minimum <= value <= maximum:
        raise Invalid(f"Parameter '{name}' harus antara {minimum} dan {maximum}.",
                      f"Parameter '{name}' must be between {minimum} and {maximum}.",
                      fields={name: f"integer {minimum}..{maximum}"})
    return value


def read_time(value: str | None, name: str, zone: str) -> datetime | None:
    """An ISO 8601 date or date and time as aware UTC, ``None`` when empty.

    The reading is ``parse_time``'s, the one behind the pages' date fields: a value without
    an offset is local time in ``zone``, and a date alone is that day's local midnight.
    """
    if value is None or not value.strip():
        return None
    try:
        return parse_time(value, zone)
    except BadTime:
        raise Invalid(f"'{value}' bukan tanggal atau waktu yang dikenali (contoh: 2026-12-01, "
                      "2026-12-01T09:00 atau 2026-12-01T09:00+07:00).",
                      f"'{value}' is not a date or a date and time (e.g. 2026-12-01, "
                      "2026-12-01T09:00 or 2026-12-01T09:00+07:00).",
                      fields={name: TIME_FORMS}) from None


def time_arg(args: Mapping[str, str], name: str, zone: str) -> datetime | None:
    """``read_time`` of the argument ``name``."""
    return read_time(args.get(name), name, zone)


def choice_arg(args: Mapping[str, str], name: str, choices: Iterable[str]) -> str | None:
    """One of ``choices``, or ``None`` when absent or empty: an unknown value is a 400 naming
    the choices (an unknown status silently matching nothing would look like an answer)."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    allowed = list(choices)
    if raw not in allowed:
        raise Invalid(f"Parameter '{name}' harus salah satu dari: {', '.join(allowed)}.",
                      f"Parameter '{name}' must be one of: {', '.join(allowed)}.",
                      fields={name: " | ".join(allowed)})
    return raw
