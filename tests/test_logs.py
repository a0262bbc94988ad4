from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from publisher.logs import RedactingFormatter


def test_tracebacks_and_messages_are_redacted():
    fmt = RedactingFormatter("%(message)s")
    try:
        raise RuntimeError("GET https://api.telegram.org/bot123456:AAHsecretTOKEN/sendMessage "
                           "failed; Authorization: Bearer abc.def.ghi access_token=EAAsecret")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "publish failed %s",
                                   ("password=hunter22",), sys.exc_info())
    text = fmt.format(record)
    for secret in ("AAHsecretTOKEN", "abc.def.ghi", "EAAsecret", "hunter22"):
        assert secret not in text
    assert "publish failed" in text and "RuntimeError" in text


@pytest.mark.parametrize(("msg", "args"), [
    ("GET %(path)s", ({"path": "/bot123:ABCsecret/sendMessage"},)),  # a mapping, "%(x)s" style
    ("GET %s %s", ("/bot123:ABCsecret/x", 200)),
    ("GET /bot123:ABCsecret/x", ()),
])
def test_bot_paths_are_redacted_whatever_the_record_style(msg: str, args: tuple) -> None:
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, msg, args,
                               None)
    text = RedactingFormatter("%(name)s %(message)s").format(record)
    assert "ABCsecret" not in text and "/bot***" in text


@pytest.fixture
def warta_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The environment of a small installation logging at DEBUG; the root logger, which
    ``configure_logging`` takes over, is put back afterwards."""
    from cryptography.fernet import Fernet

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in {"WARTA_DATABASE_URL": f"sqlite:///{tmp_path / 'warta.db'}",
                        "WARTA_SECRET_KEY": "test-secret", "WARTA_LOG_LEVEL": "DEBUG",
                        "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                        "WARTA_MEDIA_DIR": str(tmp_path / "media"),
                        "WARTA_SANDBOX_OUTBOX": str(tmp_path / "outbox")}.items():
        monkeypatch.setenv(name, value)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_bot_token_in_urllib3_and_traceback_lines_is_redacted(
        warta_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    """urllib3 logs every request line, path included, at DEBUG; a Telegram path carries the
    bot token (``/bot<token>/getMe``). With logging configured as ``warta serve``, ``web`` and
    ``worker`` configure it (their core comes from ``make_core``), the application's formatter
    removes the token from those lines and from a logged traceback; the adapter installs no
    logging of its own."""
    from adapters.base import AdapterContext, OutgoingPost
    from adapters.errors import AuthExpired
    from adapters.telegram import TelegramAdapter
    from publisher.cli import make_core
    from tests.fakes.telegram import TOKEN, serve

    make_core(create=True).engine.dispose()  # no database needed: logging is configured first
    root = logging.getLogger()
    assert [type(h.formatter) for h in root.handlers
            if type(h).__module__ == "logging"] == [RedactingFormatter]
    assert root.level == logging.DEBUG
    with contextmanager(serve)() as fake:
        ctx = AdapterContext(credentials={"bot_token": TOKEN, "channel": "@diskominfo_test"},
                             base_url=fake.url, timeout=5)
        TelegramAdapter(ctx).account()
        fake.token = "999:other"  # the token stops working: a 401, logged by urllib3 too
        with pytest.raises(AuthExpired):
            TelegramAdapter(ctx).publish(OutgoingPost("warta-1", "Halo"))
    try:
        requests.post(f"http://127.0.0.1:9/bot{TOKEN}/getMe", timeout=2)
    except requests.ConnectionError:
        logging.getLogger("publisher.worker").exception("Telegram call failed")
    err = capsys.readouterr().err
    assert '"POST /bot***/getMe HTTP/1.1" 200' in err
    assert '"POST /bot***/sendMessage HTTP/1.1" 401' in err
    assert "Telegram call failed" in err and "Max retries exceeded with url: /bot***/getMe" in err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


def test_an_app_served_by_another_server_still_redacts(core):  # type: ignore[no-untyped-def]
    """gunicorn 'web.app:create_app()' never runs ``configure_logging``: the handlers that
    server installed must redact too."""
    import io

    from web.app import create_app

    root, gunicorn = logging.getLogger(), logging.getLogger("gunicorn.error")
    saved = (root.handlers[:], root.level, gunicorn.handlers[:])
    out = io.StringIO()
    plain = logging.StreamHandler(out)
    plain.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.handlers[:] = [plain]
    root.setLevel(logging.DEBUG)
    gunicorn.handlers[:] = [logging.StreamHandler(out)]
    token = "123456:AAE-rahasia-token-bot"
    try:
        app = create_app(core=core)
        logging.getLogger("urllib3.connectionpool").debug(
            'https://api.telegram.org:443 "POST /bot%s/sendMessage HTTP/1.1" 200 None', token)
        gunicorn.error("worker failed with Authorization: Bearer %s", "ya29.rahasia-akses")
        try:
            raise RuntimeError(f"gagal: https://api.telegram.org/bot{token}/getMe")
        except RuntimeError:
            app.logger.exception("request failed")
    finally:
        root.handlers[:], root.level, gunicorn.handlers[:] = saved
    text = out.getvalue()
    assert "sendMessage" in text and "request failed" in text and "RuntimeError" in text
    assert token not in text and "ya29.rahasia-akses" not in text
