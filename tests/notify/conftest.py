"""Notification tests: a real SMTP server per test, and the installation's settings pointing
at it (``test_env`` here extends the suite's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.smtp_server import SmtpServer

PUBLIC_URL = "https://warta.example.go.id"
SENDER = "Warta Diskominfo <warta@diskominfo.example.go.id>"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def test_env(test_env: dict[str, str], smtp_server: SmtpServer) -> dict[str, str]:
    return {**test_env, "WARTA_SMTP_HOST": "127.0.0.1", "WARTA_SMTP_PORT": str(smtp_server.port),
            "WARTA_SMTP_SECURITY": "none", "WARTA_SMTP_FROM": SENDER,
            "WARTA_SMTP_TIMEOUT": "10", "WARTA_PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def login(app, client):  # type: ignore[no-untyped-def]
    """Signs ``user`` in on the test client (no CSRF): the admin pages' tests."""
    app.config["WTF_CSRF_ENABLED"] = False

    def as_user(user):  # type: ignore[no-untyped-def]
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return client
    return as_user
