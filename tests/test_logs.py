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


def _json_lines(text: str) -> list[dict]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_are_redacted_too(warta_env: None, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """``WARTA_LOG_FORMAT=json``: every line a JSON object, the message, traceback and extra
    fields redacted as the text lines are (a token inside a message, an exception, ``extra``)."""
    from publisher.cli import make_core

    monkeypatch.setenv("WARTA_LOG_FORMAT", "json")
    make_core(create=True).engine.dispose()
    token = "123456:AAE-rahasia-token-bot"
    log = logging.getLogger("publisher.worker")
    log.warning("GET https://api.telegram.org/bot%s/getMe failed; Authorization: Bearer %s",
                token, "ya29.rahasia-akses", extra={"publication_id": 7,
                                                    "url": f"/bot{token}/sendPhoto"})
    try:
        raise RuntimeError(f"password=hunter2222 at https://api.telegram.org/bot{token}/x")
    except RuntimeError:
        log.exception("publish crashed")
    err = capsys.readouterr().err
    lines = _json_lines(err)  # every line parses
    warn, crash = lines[-2], lines[-1]
    assert warn["level"] == "WARNING" and warn["logger"] == "publisher.worker"
    assert warn["message"].startswith("GET https://api.telegram.org/bot***/getMe failed")
    assert warn["publication_id"] == 7 and warn["url"] == "/bot***/sendPhoto"
    assert warn["time"].endswith("+00:00")
    assert crash["message"] == "publish crashed" and "RuntimeError" in crash["exc_info"]
    for secret in (token, token.split(":")[1], "ya29.rahasia-akses", "hunter2222"):
        assert secret not in err


def test_an_app_served_by_another_server_logs_json_lines(core, test_env, clock) -> None:  # type: ignore[no-untyped-def]
    """With JSON chosen, gunicorn's own handlers write JSON lines too (one collector reads
    the server's and Warta's lines alike), still redacted."""
    import io

    from publisher.config import load_settings
    from publisher.core import build_core
    from web.app import create_app

    root, gunicorn = logging.getLogger(), logging.getLogger("gunicorn.error")
    saved = (root.handlers[:], root.level, gunicorn.handlers[:])
    out = io.StringIO()
    root.handlers[:] = [logging.StreamHandler(out)]
    gunicorn.handlers[:] = [logging.StreamHandler(out)]
    json_core = build_core(load_settings({**test_env, "WARTA_LOG_FORMAT": "json"}), clock=clock)
    try:
        create_app(core=json_core)
        gunicorn.error("worker failed with Authorization: Bearer %s", "ya29.rahasia-akses")
    finally:
        root.handlers[:], root.level, gunicorn.handlers[:] = saved
        json_core.engine.dispose()
    lines = _json_lines(out.getvalue())  # gunicorn's handler and the root's (propagated)
    assert len(lines) == 2
    assert all(x["logger"] == "gunicorn.error" and x["message"].startswith(
        "worker failed with Authorization: ***") for x in lines)
    assert "ya29.rahasia-akses" not in out.getvalue()


def test_log_format_is_checked(test_env) -> None:  # type: ignore[no-untyped-def]
    from publisher.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="WARTA_LOG_FORMAT"):
        load_settings({**test_env, "WARTA_LOG_FORMAT": "yaml"})
