"""Messages in the recipient's language, from the web UI's own catalogue.

The worker has no Flask app (publisher never imports Flask), so Flask-Babel's request-bound
locale cannot be forced here; Babel's ``Translations`` reads the very same compiled catalogue
(``web/translations``, maintained with ``pybabel`` as the README says) for the recipient's
locale. English is the source language: its catalogue is empty and gettext returns the text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

#: The catalogue the web UI uses (a data path, not an import: publisher must not import web).
CATALOGUE = Path(__file__).resolve().parents[2] / "web" / "translations"
LOCALES = ("id", "en")


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (Indonesian for anything unknown)."""
    if locale not in LOCALES:
        locale = "id"
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUE), [locale], domain="messages")
