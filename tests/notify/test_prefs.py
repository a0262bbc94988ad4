"""The profile page's notification section: what it offers, what it saves, and a 400 with
a message under each wrong field (in the user's language) for anything else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import NotifyPreference, NotifyProfile, Role, User


@pytest.fixture
def browser(app, client, make_user):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False

    def login(locale: str = "id", role: str = Role.APPROVER, c=None) -> User:  # type: ignore[no-untyped-def]
        user = make_user(role)
        if locale != "id":
            from publisher.models import User as U

            with app.extensions["warta.core"].sessions.begin() as s:
                s.get(U, user.id).locale = locale
        with (c or client).session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return user
    return login


def saved(core, user):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        rows = dict(s.execute(select(NotifyPreference.kind, NotifyPreference.channel).where(
            NotifyPreference.user_id == user.id)).all())
        profile = s.get(NotifyProfile, user.id)
        return rows, (profile.quiet_start, profile.quiet_end) if profile else None


GOOD = {"kind-approval_requested": "email", "kind-failed": "email", "kind-published": "inapp",
        "quiet-start": "22.00", "quiet-end": "06.00"}


def test_the_section_saves_and_shows_the_choice(core, client, browser):
    user = browser()
    page = client.get("/profil").get_data(as_text=True)
    assert 'id="notifikasi"' in page and "Jam senyap" in page
    assert '<option value="email">E-mail</option>' in page
    resp = client.post("/profil/notifikasi", data=GOOD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/profil#notifikasi")
    assert saved(core, user) == ({"approval_requested": "email", "failed": "email"},
                                 (22 * 60, 6 * 60))
    page = client.get("/profil").get_data(as_text=True)
    assert '<option value="email" selected>E-mail</option>' in page
    assert 'value="22.00"' in page and 'value="06.00"' in page
    # back to the bell only, no quiet hours
    resp = client.post("/profil/notifikasi", data={"quiet-start": "", "quiet-end": ""})
    assert resp.status_code == 302
    assert saved(core, user) == ({}, (None, None))


@pytest.mark.parametrize("role, offered", [(Role.OPERATOR, False), (Role.APPROVER, False),
                                           (Role.ADMIN, True)])
def test_the_installations_health_is_offered_to_administrators_only(client, browser, role,
                                                                    offered):
    """Worker stopped, token expiring and quota exhausted reach administrators only
    (``kinds.concerns``): the form offers them to nobody else."""
    browser(role=role)
    page = client.get("/profil").get_data(as_text=True)
    assert 'name="kind-failed"' in page
    for kind in ("worker_stopped", "token_expiring", "quota_exhausted"):
        assert (f'name="kind-{kind}"' in page) is offered, kind


@pytest.mark.parametrize("field, value, message", [
    ("quiet-start", "25.00", "Tulis jam seperti 22.00."),
    ("quiet-end", "pagi", "Tulis jam seperti 22.00."),
    ("kind-failed", "telegram", "Telegram belum disiapkan di Warta ini."),
    ("kind-missed", "merpati", "Pilihan tidak dikenal."),
    ("digest-at", "jam tujuh", "Tulis jam seperti 22.00."),
])
def test_bad_input_is_a_400_with_the_fields_message(core, client, browser, field, value,
                                                    message):
    user = browser()
    resp = client.post("/profil/notifikasi", data={**GOOD, field: value})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert f'<p class="field-error">{message}</p>' in page
    assert "Periksa kembali pengaturan notifikasi." in page  # the flash, once
    assert f'value="{value}"' in page or field.startswith("kind-")  # what was typed stays
    assert saved(core, user) == ({}, None)


def test_the_digest_hour_saves_shows_and_clears(core, client, browser):
    user = browser()
    assert "Ringkasan harian" in client.get("/profil").get_data(as_text=True)
    resp = client.post("/profil/notifikasi", data={**GOOD, "digest-at": "7.30"})
    assert resp.status_code == 302
    assert saved(core, user)[0] == {"approval_requested": "email", "failed": "email",
                                    "digest_at": "450"}
    assert 'id="digest-at" name="digest-at" inputmode="numeric" class="time-of-day" ' \
           'placeholder="07.00" value="07.30"' in client.get("/profil").get_data(as_text=True)
    resp = client.post("/profil/notifikasi", data={**GOOD, "digest-at": ""})
    assert saved(core, user)[0] == {"approval_requested": "email", "failed": "email"}


def test_half_a_window_or_an_empty_one_is_refused(core, client, browser):
    user = browser()
    resp = client.post("/profil/notifikasi", data={"quiet-start": "22.00", "quiet-end": ""})
    assert resp.status_code == 400
    assert ("Isi jam mulai dan jam selesai, atau kosongkan keduanya."
            in resp.get_data(as_text=True))
    resp = client.post("/profil/notifikasi", data={"quiet-start": "22.00",
                                                   "quiet-end": "22:00"})
    assert resp.status_code == 400
    assert "Jam selesai harus berbeda dari jam mulai." in resp.get_data(as_text=True)
    assert saved(core, user) == ({}, None)


def test_an_english_user_reads_english_field_messages(client, browser):
    browser(locale="en")
    resp = client.post("/profil/notifikasi", data={**GOOD, "quiet-start": "7pm"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert '<p class="field-error">Write a time like 22:00.</p>' in page
    assert "Tulis jam" not in page


def test_without_smtp_e_mail_is_neither_offered_nor_accepted(test_env, clock, make_user):
    from web.app import create_app

    env = {k: v for k, v in test_env.items() if not k.startswith("WARTA_SMTP_")}
    plain = build_core(load_settings(env), clock=clock)
    app = create_app(core=plain)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    user = make_user(Role.OPERATOR)
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    page = client.get("/profil").get_data(as_text=True)
    assert 'value="email"' not in page and "E-mail belum disiapkan di Warta ini" in page
    resp = client.post("/profil/notifikasi", data={"kind-failed": "email"})
    assert resp.status_code == 400
    assert "E-mail belum disiapkan di Warta ini." in resp.get_data(as_text=True)
    plain.engine.dispose()


def test_the_unsubscribe_link_opens_the_section_after_login(client, browser):
    resp = client.get("/profil/notifikasi")
    assert resp.status_code == 302 and "/masuk" in resp.headers["Location"]
    browser()
    resp = client.get("/profil/notifikasi")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/profil#notifikasi")
