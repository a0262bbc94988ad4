"""How the reports page computes its parts: the fact table built once per page (and gone after
it), and the previous period's totals on a second connection while the page works."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from publisher.reports import alongside as side
from publisher.reports import engagement as e
from publisher.reports.facts import materialized
from publisher.reports.report import page_report, parse_request, totals_with_change
from tests.reports.conftest import NOVEMBER

NOW = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.fixture
def admin(viewer):  # type: ignore[no-untyped-def]
    return viewer("admin", None)


def _req(user):  # type: ignore[no-untyped-def]
    return parse_request(NOVEMBER, user, NOW, "Asia/Jakarta")


def test_page_twice_in_one_session_gives_same_figures(session, admin, data):  # type: ignore[no-untyped-def]
    first = page_report(session, admin, _req(admin))
    second = page_report(session, admin, _req(admin))
    assert first == second
    assert first["totals"]["current"]["engagements"] == 53
    assert first["totals"]["previous"]["engagements"] == 4


def test_failed_page_leaves_the_session_usable(session, admin, data):  # type: ignore[no-untyped-def]
    r = _req(admin)
    with pytest.raises(ZeroDivisionError), materialized(session, admin, r.filter):
        assert e.totals(session, admin, r.filter)["engagements"] == 53
        _ = 1 / 0
    session.rollback()
    assert page_report(session, admin, r)["totals"]["current"]["engagements"] == 53
    names = inspect(session.connection()).get_temp_table_names()
    assert not [n for n in names if n.startswith("report_facts")]


def test_previous_totals_run_on_another_thread(session, admin, data, monkeypatch):  # type: ignore[no-untyped-def]
    threads: list[str] = []
    real = side._one

    def spy(engine, stmt):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(engine, stmt)

    monkeypatch.setattr(side, "_one", spy)
    t = totals_with_change(session, admin, _req(admin))
    assert t["previous"]["engagements"] == 4
    assert threads and threads[0].startswith("warta-report")


def test_pending_changes_keep_the_previous_totals_on_the_session(session, admin, data,  # type: ignore[no-untyped-def]
                                                                  monkeypatch):
    """A second connection would not see what this session has not committed."""
    from publisher.models import Unit

    calls: list[object] = []
    monkeypatch.setattr(side, "_one", lambda *a: calls.append(a))
    session.add(Unit(name="Baru", slug="baru", timezone="Asia/Jakarta"))
    t = totals_with_change(session, admin, _req(admin))
    assert t["previous"]["engagements"] == 4 and calls == []
    session.rollback()
