"""The audit log reads as words (issue 14): every action code the code base records has a
label in the UI language, and the details are labelled values with times in the unit's zone,
not a JSON dump of codes and UTC timestamps."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.models import PublicationStatus, Role, Unit, User
from publisher.services import audit
from publisher.services import posts as post_svc
from web.ui.admin.audit_view import ACTIONS

ROOT = Path(__file__).resolve().parents[2]

#: f-string codes the scan understands, and the values they can take.
DYNAMIC = {"publication.{}": [f"publication.{s}" for s in PublicationStatus]}


def _codes_of(node: ast.expr, where: str, names: dict[str, str] | None = None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and names and node.id in names:
        return [names[node.id]]  # a module-level constant of the same file
    if isinstance(node, ast.IfExp):
        return (_codes_of(node.body, where, names) + _codes_of(node.orelse, where, names))
    if isinstance(node, ast.JoinedStr):
        template = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}"
                           for v in node.values)
        if template in DYNAMIC:
            return DYNAMIC[template]
    raise AssertionError(f"{where}: an audit action this test cannot read "
                         f"({ast.unparse(node)}); record a literal code, or teach DYNAMIC here "
                         "which codes it can be")


def recorded_codes() -> set[str]:
    """Every action code passed to ``audit.record`` or written as an ``"action"`` of an audit
    row anywhere in the code base."""
    codes: set[str] = set()
    trees = {path: ast.parse(path.read_text()) for package in ("publisher", "web", "postqueue",
                                                               "adapters")
             for path in (ROOT / package).rglob("*.py")}
    # module-level string constants (``UNDELIVERABLE = "notify.undeliverable"``), imported or
    # not; a name given two values anywhere is left out (then the test says it cannot read it)
    seen: dict[str, set[str]] = {}
    for tree in trees.values():
        for n in tree.body:
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) \
                    and isinstance(n.value.value, str):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        seen.setdefault(t.id, set()).add(n.value.value)
    names = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record"
                    and getattr(node.func.value, "id", "") == "audit"):
                action = node.args[1] if len(node.args) > 1 else next(
                    k.value for k in node.keywords if k.arg == "action")
                codes.update(_codes_of(action, where, names))
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (isinstance(key, ast.Constant) and key.value == "action"
                            and any(isinstance(k, ast.Constant) and k.value == "object_type"
                                    for k in node.keys)):
                        codes.update(_codes_of(value, where, names))
    return codes


def test_every_recorded_action_has_a_label():
    codes = recorded_codes()
    assert len(codes) > 40 and "post.reschedule" in codes and "publication.missed" in codes
    assert sorted(codes - set(ACTIONS)) == []


def test_every_label_is_translated():
    from babel.support import Translations

    from web.ui.forms import TRANSLATIONS_DIR

    catalogue = Translations.load(str(TRANSLATIONS_DIR), ["id"])
    untranslated = [code for code, label in ACTIONS.items()
                    if catalogue.gettext(label._args[0]) == label._args[0]]
    assert untranslated == []


def _audit_page(client) -> str:
    return client.get("/admin/riwayat").get_data(as_text=True)


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


@pytest.mark.parametrize(("lang", "zone", "label", "times", "words"), [
    ("id", "Asia/Jakarta", "Unggahan dijadwalkan ulang",
     ["3 Mar 2031 10.30 WIB", "4 Mar 2031 10.30 WIB"],
     ["Waktu sebelumnya", "Jadwal", "Persetujuan tetap berlaku", "Ya"]),
    ("en", "Asia/Jakarta", "Post rescheduled", ["3 Mar 2031 10:30 WIB", "4 Mar 2031 10:30 WIB"],
     ["Previous time", "Scheduled for", "Approval kept", "Yes"]),
    ("id", "Asia/Makassar", "Unggahan dijadwalkan ulang",
     ["3 Mar 2031 11.30 WITA", "4 Mar 2031 11.30 WITA"],
     ["Jadwal"]),
])
def test_audit_log_shows_labels_and_local_times(client, core, login_as, make_user,
                                                make_channel, make_post, units, lang, zone,
                                                label, times, words):
    admin = login_as(Role.ADMIN, None)
    with core.sessions.begin() as s:
        s.get(User, admin.id).locale = lang
        s.get(Unit, units["a"].id).timezone = zone
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    post_id = make_post(make_user(Role.OPERATOR, "a"), [ch], state="approved",
                        approver=approver)
    for day in (3, 4):  # the second move has a previous time too
        with core.sessions.begin() as s:
            post_svc.reschedule_post(core, s, s.get(User, approver.id), post_id,
                                     datetime(2031, 3, day, 3, 30, tzinfo=UTC))
    html = _audit_page(client)
    row = next(r for r in _rows(html) if label in r)
    for text in times + words:
        assert text in row, (text, row)
    assert "post.reschedule" not in html.split("<tbody>", 1)[1]
    assert "2031-03-0" not in html and "+00:00" not in html
    tbody = html.split("<tbody>", 1)[1]
    assert '{"' not in tbody and "&#34;" not in tbody and "kept_approval" not in tbody


@pytest.mark.parametrize(("lang", "shown", "hidden"), [
    ("id", "Token ditolak platform.", "The platform refused the token."),
    ("en", "The platform refused the token.", "Token ditolak platform."),
])
def test_audit_messages_speak_one_language_and_unknown_codes_stay(client, core, login_as,
                                                                  units, lang, shown, hidden):
    admin = login_as(Role.ADMIN, None)
    with core.sessions.begin() as s:
        s.get(User, admin.id).locale = lang
        audit.record(s, "publication.failed", "publication", 7, unit_id=units["a"].id,
                     data={"message": "Token ditolak platform.",
                           "message_en": "The platform refused the token.",
                           "previous_status": "publishing"})
        audit.record(s, "something.new", "widget", 3, unit_id=units["a"].id)
    html = _audit_page(client)
    rows = _rows(html)
    failed = next(r for r in rows if "Token" in r or "token" in r)
    assert shown in failed and hidden not in failed
    assert ("Penayangan gagal" if lang == "id" else "Publication failed") in failed
    assert ("Sedang diterbitkan" if lang == "id" else "Publishing") in failed
    assert any("<code>something.new</code>" in r for r in rows)


def test_the_action_filter_offers_labels_and_matches_exactly(client, core, login_as, units):
    admin = login_as(Role.ADMIN, None)
    with core.sessions.begin() as s:
        s.get(User, admin.id).locale = "id"
        audit.record(s, "user.password", "user", admin.id, unit_id=None)
        audit.record(s, "user.password_reset", "user", admin.id, unit_id=None)
    html = client.get("/admin/riwayat?action=user.password").get_data(as_text=True)
    assert '<option value="user.password" selected>' in html
    rows = _rows(html)
    assert len(rows) == 1 and "Kata sandi diganti" in rows[0]
    prefixed = _rows(client.get("/admin/riwayat?action=user.p").get_data(as_text=True))
    assert len(prefixed) == 2  # a typed prefix still matches both
