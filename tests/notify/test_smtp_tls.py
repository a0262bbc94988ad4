"""E-mail over TLS against a real local SMTP server (aiosmtpd) with a certificate made in the
test: STARTTLS and SMTPS deliver when the office's authority is trusted
(``WARTA_SMTP_CA_FILE``); an untrusted, wrongly named or expired certificate, or a server that
offers no STARTTLS, is named clearly in the delivery's error (no traceback, nothing sent in
the clear); the password is never logged, printed or stored."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.config import SettingsError, load_settings
from publisher.models import DeliveryStatus, Role
from tests.notify.conftest import PUBLIC_URL, SENDER
from tests.notify.flows import deliveries, drain, set_prefs, submitted_post
from tests.notify.smtp_server import SmtpServer
from tests.notify.tls_certs import Pki, make_pki

EMAIL = {"kind-approval_requested": "email"}
USER, PASSWORD = "warta@diskominfo.example.go.id", "Rahasia-SMTP-7731"


@pytest.fixture
def pki(tmp_path: Path, request: pytest.FixtureRequest) -> Pki:
    return make_pki(tmp_path, **getattr(request, "param", {}))


@pytest.fixture(params=["starttls", "ssl"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def smtp_server(pki: Pki, mode: str, request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """The server for ``mode``; ``param``: ``password`` it expects, ``plain`` (no TLS)."""
    opts = getattr(request, "param", {})
    tls = ({} if opts.get("plain") else
           {"tls_context": pki.server_context(), "require_starttls": True}
           if mode == "starttls" else {"ssl_context": pki.server_context()})
    server = SmtpServer(user=USER, password=opts.get("password", PASSWORD), **tls).start()
    yield server
    server.stop()


@pytest.fixture
def trust(pki: Pki, request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings' WARTA_SMTP_CA_FILE (a test may empty it: the system's store only)."""
    return getattr(request, "param", {"WARTA_SMTP_CA_FILE": str(pki.ca_file)})


@pytest.fixture
def test_env(test_env: dict[str, str], mode: str, trust: dict[str, str]) -> dict[str, str]:
    return {**test_env, "WARTA_SMTP_SECURITY": mode, "WARTA_SMTP_USER": USER,
            "WARTA_SMTP_PASSWORD": PASSWORD, **trust}


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _one_approval(core, make_user) -> None:  # type: ignore[no-untyped-def]
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, ap, EMAIL)
    submitted_post(core, op)
    drain(core)


def _no_secret(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
               core) -> None:  # type: ignore[no-untyped-def]
    out, err = capfd.readouterr()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert PASSWORD not in ours and PASSWORD not in out + err
    assert all(PASSWORD not in (d.error or "") for d in deliveries(core))
    assert PASSWORD not in repr(core.settings)
    assert "Traceback" not in ours and not any(r.exc_info for r in caplog.records
                                               if r.name != "mail.log")


def test_tls_delivers_and_logs_in_encrypted(core, make_user, smtp_server, mode,
                                            everything_logged, capfd):
    _one_approval(core, make_user)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.SENT, d.error
    assert [m.rcpt_tos for m in smtp_server.messages] == [[d.address]]
    assert smtp_server.recorder.encrypted == [True]
    assert smtp_server.recorder.logins == [(USER, PASSWORD)]  # the login went over TLS
    msg = smtp_server.messages[0].message
    assert msg["From"] == SENDER and f"{PUBLIC_URL}/persetujuan" in msg.as_string()
    _no_secret(everything_logged, capfd, core)


@pytest.mark.parametrize("trust", [{}], indirect=True)
def test_an_untrusted_certificate_is_named_and_nothing_is_sent(core, make_user, smtp_server,
                                                               everything_logged, capfd):
    """Without the office's authority the self-signed chain is refused before any login."""
    _one_approval(core, make_user)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1
    assert "TLS certificate was not accepted" in d.error
    assert "Sertifikat TLS server e-mail tidak diterima" in d.error
    assert "unable to get local issuer certificate" in d.error
    assert "WARTA_SMTP_CA_FILE" in d.error
    assert smtp_server.messages == [] and smtp_server.recorder.logins == []
    _no_secret(everything_logged, capfd, core)


@pytest.mark.parametrize("pki, reason", [
    ({"ip": None, "dns": "mail.other.example"}, "IP address mismatch"),
    ({"expired": True}, "certificate has expired"),
], indirect=["pki"])
def test_a_wrong_name_or_an_expired_certificate_is_named(core, make_user, smtp_server, reason,
                                                        everything_logged, capfd):
    _one_approval(core, make_user)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING
    assert "TLS certificate was not accepted" in d.error and reason in d.error
    assert smtp_server.messages == [] and smtp_server.recorder.logins == []
    _no_secret(everything_logged, capfd, core)


@pytest.mark.parametrize("smtp_server", [{"password": "something-else"}], indirect=True)
def test_a_refused_password_is_named_and_never_logged(core, make_user, smtp_server,
                                                      everything_logged, capfd):
    _one_approval(core, make_user)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING
    assert "refused Warta's login" in d.error and "535" in d.error
    # (smtplib tries each offered mechanism: PLAIN, then LOGIN)
    assert set(smtp_server.recorder.logins) == {(USER, PASSWORD)} and smtp_server.messages == []
    _no_secret(everything_logged, capfd, core)


@pytest.mark.parametrize("mode", ["starttls"], indirect=True)
@pytest.mark.parametrize("smtp_server", [{"plain": True}], indirect=True)
def test_a_server_without_starttls_gets_nothing_in_the_clear(core, make_user, smtp_server,
                                                             everything_logged, capfd):
    """WARTA_SMTP_SECURITY=starttls against a plain server: no fallback to plain text."""
    _one_approval(core, make_user)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING
    assert "TLS connection to the e-mail server failed" in d.error
    assert smtp_server.messages == [] and smtp_server.recorder.logins == []
    _no_secret(everything_logged, capfd, core)


BASE = {"WARTA_SMTP_HOST": "smtp.kab.go.id", "WARTA_SMTP_FROM": "Warta <warta@kab.go.id>",
        "WARTA_PUBLIC_URL": "https://warta.kab.go.id"}


def test_the_ca_file_setting_is_checked_at_start_up(pki, tmp_path):
    assert load_settings({**BASE, "WARTA_SMTP_CA_FILE": str(pki.ca_file)}).smtp.ca_file == \
        str(pki.ca_file)  # type: ignore[union-attr]
    assert load_settings(BASE).smtp.ca_file == ""  # type: ignore[union-attr]
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    for path in (str(tmp_path / "missing.pem"), str(junk)):
        with pytest.raises(SettingsError, match="WARTA_SMTP_CA_FILE=.*cannot be read"):
            load_settings({**BASE, "WARTA_SMTP_CA_FILE": path})
    with pytest.raises(SettingsError, match="WARTA_SMTP_SECURITY=none"):
        load_settings({**BASE, "WARTA_SMTP_SECURITY": "none",
                       "WARTA_SMTP_CA_FILE": str(pki.ca_file)})
