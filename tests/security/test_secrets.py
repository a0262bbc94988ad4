"""Secrets are redacted by value, not only by shape: a Telegram token pasted with a ``bot``
prefix or containing a ``.`` appears neither in DEBUG logs (urllib3's request lines, any
message quoting it) nor in the caller's own error when credentials come in the wrong type."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from adapters.errors import redact, secret_values
from publisher.logs import RedactingFormatter
from publisher.runtime import build_adapter

ODD = "bot987654321:AAodd.Shaped-Secret_xyz"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, through Warta's redacting formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter("%(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_odd_telegram_token_never_in_debug_logs(core, ft, debug_log):  # type: ignore[no-untyped-def]
    ft.token = ODD
    core.settings = core.settings.with_(extra={"WARTA_TELEGRAM_API_URL": ft.url})  # type: ignore[misc]
    adapter = build_adapter(core, "telegram", {"bot_token": ODD, "channel": "@diskominfo_test"})
    assert adapter.account().username == "diskominfo_test"
    logging.getLogger("warta.test").debug("operator pasted %s into the form", ODD)
    text = debug_log.getvalue()
    assert "getMe" in text  # urllib3 logged the request line (the path holds the token)
    assert "operator pasted" in text
    for piece in (ODD, "AAodd.Shaped", "Secret_xyz", "987654321:AA"):
        assert piece not in text, text


def test_bot_path_pattern_takes_the_whole_segment() -> None:
    for token in (ODD, "123:abc.def", "123:abc~x"):
        line = f"POST /bot{token}/sendMessage HTTP/1.1"
        assert redact(line) == "POST /bot***/sendMessage HTTP/1.1"


def test_secret_values_of_credentials() -> None:
    creds = {"bot_token": ODD, "channel": "@kanal", "settings": {"cookies": {"sid": "c00kie!"},
                                                                 "uuid": "u-1"},
             "access_token": ["nested-tok"], "page_id": "12345678"}
    assert secret_values(creds, ["bot_token"]) >= {ODD, "c00kie!", "nested-tok"}
    assert "@kanal" not in secret_values(creds, ["bot_token"])
    assert "12345678" not in secret_values(creds, ["bot_token"])
    assert "@kanal" in secret_values(creds, everything=True)


def test_credentials_of_the_wrong_type_are_not_echoed(make_user, api_as, monkeypatch):  # type: ignore[no-untyped-def]
    from adapters.sandbox import SandboxAdapter

    def account(self):  # type: ignore[no-untyped-def]
        # What Python says when a value has the wrong type: it quotes the value.
        raise TypeError(f"expected a string token, got {self.ctx.credentials['token']!r}")

    monkeypatch.setattr(SandboxAdapter, "account", account)
    api = api_as(make_user("admin", "a"))
    r = api.post("/channels", json={"platform": "sandbox", "name": "Kanal",
                                    "credentials": {"account": "a", "token": [ODD]}})
    assert r.status_code == 400
    assert r.get_json()["error"]["fields"] == {"credentials": "incomplete"}
    assert "AAodd" not in r.get_data(as_text=True)
    assert "expected a string token" in r.get_json()["error"]["message_en"]
