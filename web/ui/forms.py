"""The base of the UI's WTForms: their own messages ("This field is required.", length and
choice messages) in the user's language.

WTForms ships no Indonesian catalogue, and Flask-WTF's i18n looks only in WTForms' own folder,
so an Indonesian page said "This field is required." in English. Warta keeps the translation of
WTForms' messages as its own gettext domain, ``wtforms``, next to ``messages`` in
``web/translations`` (``pybabel compile -d web/translations -D "messages wtforms"``); a
language without a catalogue there (English) keeps WTForms' English source strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import support
from flask import g, has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm

#: Where the ``wtforms`` domain lives (one folder per language, like ``messages``).
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "wtforms"


def wtforms_translations() -> support.NullTranslations:
    """The ``wtforms`` catalogue of the request's language, loaded once per request."""
    if not has_request_context():
        return support.NullTranslations()
    cached = g.get("_wtforms_translations")
    if cached is None:
        locale = get_locale()
        cached = support.Translations.load(str(TRANSLATIONS_DIR), [locale] if locale else [],
                                           domain=DOMAIN)
        g._wtforms_translations = cached
    return cached


class _Translations:
    """What WTForms asks for: ``gettext`` and ``ngettext``, resolved at validation time (a form
    built before the language is known still speaks the request's language)."""

    def gettext(self, string: str) -> str:
        return wtforms_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_translations().ngettext(singular, plural, n)


_TRANSLATIONS = _Translations()


class Form(FlaskForm):
    """A FlaskForm (CSRF included) whose built-in messages follow the UI language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> _Translations:
            return _TRANSLATIONS
