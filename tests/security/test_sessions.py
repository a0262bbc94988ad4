# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""Logging out, changing the password or being deactivated ends every session of the user:
an old session cookie (another device, a copy) stops working at once."""

from __future__ import annotations

from publisher.models import Role, User
from tests.security.trust_fixtures import app  # noqa: F401

STRONG = "Lampu-merah-Simpang-7!"


def _log_in(client, user: User, password: str = "rahasia123"):  # type: ignore[no-untyped-def]
    r = client.post("/masuk", data={"email": user.email, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client.get_cookie("session").value


def _copy(app, cookie: str):  # type: ignore[no-untyped-def]
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    r = client.get("/profil")
    return r.status_code == 200


def test_logout_ends_every_session(app, client, make_user):  # type: ignore[no-untyped-def]
    user = make_user(Role.OPERATOR, "a")
    cookie = _log_in(client, user)
    laptop = _copy(app, cookie)
    phone = _copy(app, _log_in(app.test_client(), user))
    assert _logged_in(laptop) and _logged_in(phone)
    client.post("/keluar")
    assert not _logged_in(laptop)
    assert not _logged_in(phone)
    assert not _logged_in(_copy(app, cookie))  # the very cookie that logged out
    assert _logged_in(_copy(app, _log_in(app.test_client(), user)))  # logging in again works


def test_a_password_change_ends_the_other_sessions(app, client, make_user):  # type: ignore[no-untyped-def]
    user = make_user(Role.OPERATOR, "a")
    _log_in(client, user)
    phone = _copy(app, _log_in(app.test_client(), user))
    r = client.post("/profil", data={"pw-current": "rahasia123", "pw-new": STRONG,
                                     "pw-confirm": STRONG})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert _logged_in(client)  # the browser that changed it stays in
    assert not _logged_in(phone)


def test_deactivation_ends_every_session_even_after_reactivation(app, client, make_user,
                                                                 core):  # type: ignore[no-untyped-def]
    from publisher.services import accounts

    user = make_user(Role.OPERATOR, "a")
    admin = make_user(Role.ADMIN, None)
    cookie = _log_in(client, user)
    with core.sessions.begin() as s:
        accounts.update_user(s, s.get(User, admin.id), user.id, active=False)
    assert not _logged_in(_copy(app, cookie))
    with core.sessions.begin() as s:
        accounts.update_user(s, s.get(User, admin.id), user.id, active=True)
    assert not _logged_in(_copy(app, cookie))


def test_a_session_from_before_the_version_existed_ends_too(app, client, make_user, core):  # type: ignore[no-untyped-def]
    """A cookie without a version (older code) counts as version 0; the first logout ends it."""
    user = make_user(Role.OPERATOR, "a")
    old = app.test_client()
    with old.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert _logged_in(old)
    _log_in(client, user)
    client.post("/keluar")
    assert not _logged_in(old)
