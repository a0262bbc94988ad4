"""WTForms' own messages speak the UI language, one language at a time (issue 14): WTForms
ships no Indonesian catalogue, so Warta keeps one (domain ``wtforms``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from publisher.models import Role, User
from web.ui.forms import DOMAIN, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error">(.*?)</p>', html)


def _set_locale(core, user: User, locale: str) -> None:
    with core.sessions.begin() as s:
        s.get(User, user.id).locale = locale


@pytest.mark.parametrize(("lang", "shown", "hidden"), [
    ("id", "Isian ini wajib diisi.", "This field is required."),
    ("en", "This field is required.", "Isian ini wajib diisi."),
])
def test_login_required_field_in_the_ui_language(client, lang, shown, hidden):
    client.set_cookie("lang", lang)
    html = client.post("/masuk", data={"email": "a@example.go.id", "password": ""}
                       ).get_data(as_text=True)
    assert _errors(html) == [shown]
    assert hidden not in html


@pytest.mark.parametrize(("lang", "short", "mismatch", "hidden"), [
    ("id", "Isian ini minimal 12 karakter.", "Kedua kata sandi baru tidak sama.",
     ["Field must", "characters long", "not the same"]),
    ("en", "Field must be at least 12 characters long.",
     "The two new passwords are not the same.", ["Isian", "karakter", "tidak sama"]),
])
def test_password_form_messages_in_one_language(client, core, login_as, lang, short, mismatch,
                                               hidden):
    _set_locale(core, login_as(Role.OPERATOR, "a"), lang)
    html = client.post("/profil", data={"pw-current": "rahasia123", "pw-new": "pendek",
                                        "pw-confirm": "lain"}).get_data(as_text=True)
    assert _errors(html) == [short, mismatch]
    assert "equal to new" not in html
    for word in hidden:
        assert word not in html


@pytest.mark.parametrize(("lang", "shown", "hidden"), [
    ("id", "Bukan pilihan yang valid.", "Not a valid choice"),
    ("en", "Not a valid choice.", "Bukan pilihan"),
])
def test_choice_message_in_the_ui_language(client, core, login_as, lang, shown, hidden):
    _set_locale(core, login_as(Role.OPERATOR, "a"), lang)
    html = client.post("/profil", data={"loc-locale": "xx"}).get_data(as_text=True)
    assert shown in _errors(html) and hidden not in html


def test_every_wtforms_message_has_an_indonesian_translation():
    """Against the installed WTForms' own template: an upgrade that adds a message fails here
    until it is translated; the compiled catalogue is the one the .po says."""
    import wtforms.i18n

    pot = Path(wtforms.i18n.messages_path()) / "wtforms.pot"
    with pot.open("rb") as fh:
        wanted = [m.id for m in read_po(fh) if m.id]
    with (TRANSLATIONS_DIR / "id" / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        ours = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(fh) if m.id}
    compiled = Translations.load(str(TRANSLATIONS_DIR), ["id"], domain=DOMAIN)
    for msgid in wanted:
        key = msgid if isinstance(msgid, str) else msgid[0]
        assert key in ours and ours[key].string, f"untranslated WTForms message: {key!r}"
        text = ours[key].string if isinstance(ours[key].string, str) else ours[key].string[0]
        got = (compiled.gettext(key) if isinstance(msgid, str)
               else compiled.ngettext(msgid[0], msgid[1], 2))
        assert got == text, f"wtforms.mo is stale for {key!r}: recompile the catalogue"


def test_every_form_uses_the_translated_base():
    """A form built on FlaskForm directly would speak English on an Indonesian page."""
    offenders = []
    for path in (ROOT / "web").rglob("*.py"):
        if path.name == "forms.py" and path.parent.name == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")) in ("FlaskForm", "Form")
                    and not (isinstance(b, ast.Name) and b.id == "Form"
                             and "from web.ui.forms import Form" in path.read_text())
                    for b in node.bases):
                offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert offenders == []
