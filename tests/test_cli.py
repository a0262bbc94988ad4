"""The ``warta`` command: each error is one sentence and a non-zero exit code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.models import ApiToken, User
from web.cli import cli


@pytest.fixture
def warta(test_env, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)
    return run


def test_init_unit_user_token_worker(warta, core):  # type: ignore[no-untyped-def]
    assert warta("init").exit_code == 0
    r = warta("unit", "create", "--name", "Dinas Sosial", "--slug", "dinsos")
    assert r.exit_code == 0 and "dinsos" in r.output
    r = warta("user", "create", "--email", "Op@Dinsos.go.id", "--name", "Op", "--role",
              "operator", "--unit", "dinsos", "--password", "rahasia-sekali")
    assert r.exit_code == 0, r.output
    r = warta("token", "create", "op@dinsos.go.id")
    assert r.exit_code == 0
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("wrt_")
    with core.sessions() as s:
        stored = s.execute(select(ApiToken)).scalar_one()
        assert stored.token_hash != token and token not in stored.token_hash
    r = warta("worker", "--once")
    assert r.exit_code == 0 and "0" in r.output


@pytest.mark.parametrize("args,needle", [
    (("unit", "create", "--name", "X", "--slug", "Bad Slug!"), "Slug"),
    (("unit", "create", "--name", "X", "--slug", "x", "--timezone", "Mars/Base"), "Mars/Base"),
    (("user", "create", "--email", "not-an-email", "--name", "A", "--role", "admin",
      "--password", "12345678"), "surel"),
    (("user", "create", "--email", "a@b.go.id", "--name", "A", "--role", "operator",
      "--unit", "nope", "--password", "12345678"), "nope"),
    (("token", "create", "ghost@b.go.id"), "ghost"),
])
def test_bad_input_is_a_sentence_and_exit_1(warta, core, args, needle):  # type: ignore[no-untyped-def]
    r = warta(*args)
    assert r.exit_code == 1
    assert needle in r.output and "Traceback" not in r.output
    with core.sessions() as s:
        assert s.execute(select(User)).first() is None


def test_bad_setting_exits_2(warta, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WARTA_POLL_SECONDS", "sering")
    r = warta("worker", "--once")
    assert r.exit_code == 2 and "WARTA_POLL_SECONDS" in r.output


def test_demo_seed_is_idempotent(core):  # type: ignore[no-untyped-def]
    from publisher.demo import seed_demo

    first = seed_demo(core)
    again = seed_demo(core)
    assert any("operator@demo.go.id" in line for line in first)
    with core.sessions() as s:
        assert len(s.execute(select(User)).scalars().all()) == 3
    assert again and "sudah ada" in again[0]
