"""WARTA_SMTP_*: strict, like every setting; half a configuration stops Warta at start-up."""

from __future__ import annotations

import pytest

from publisher.config import SettingsError, load_settings

BASE = {"WARTA_SMTP_HOST": "smtp.kab.go.id", "WARTA_SMTP_FROM": "Warta <warta@kab.go.id>",
        "WARTA_PUBLIC_URL": "https://warta.kab.go.id"}


def test_e_mail_is_off_without_a_host():
    assert load_settings({}).smtp is None


@pytest.mark.parametrize("security, port", [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_the_port_follows_the_security_unless_given(security, port):
    s = load_settings({**BASE, "WARTA_SMTP_SECURITY": security}).smtp
    assert s is not None and (s.security, s.port) == (security, port)
    assert load_settings({**BASE, "WARTA_SMTP_PORT": "2525"}).smtp.port == 2525  # type: ignore[union-attr]


@pytest.mark.parametrize("change, words", [
    ({"WARTA_SMTP_SECURITY": "tls"}, "starttls, ssl or none"),
    ({"WARTA_SMTP_FROM": ""}, "WARTA_SMTP_FROM"),
    ({"WARTA_PUBLIC_URL": ""}, "WARTA_PUBLIC_URL must be set"),
    ({"WARTA_SMTP_USER": "warta"}, "set both or neither"),
    ({"WARTA_SMTP_PASSWORD": "x"}, "set both or neither"),
    ({"WARTA_SMTP_PORT": "70000"}, "at most 65535"),
    ({"WARTA_SMTP_PORT": "smtp"}, "whole number"),
    ({"WARTA_SMTP_TIMEOUT": "0"}, "at least"),
])
def test_half_a_configuration_is_refused(change, words):
    with pytest.raises(SettingsError, match=words):
        load_settings({**BASE, **change})


def test_the_password_stays_out_of_the_settings_repr():
    s = load_settings({**BASE, "WARTA_SMTP_USER": "warta", "WARTA_SMTP_PASSWORD": "rahasia-99"})
    assert s.smtp is not None and s.smtp.password == "rahasia-99"
    assert "rahasia-99" not in repr(s) and "rahasia-99" not in repr(s.smtp)
