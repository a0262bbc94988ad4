"""The citizen inbox in figures (issue 19, reporting), the complaints export for SP4N-LAPOR!
(audited) and the retention that forgets citizens' names and words but keeps the counts.

The figures are computed by hand in each test's docstring."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from adapters.base import IncomingComment
from publisher.models import (
    AuditEvent,
    CitizenComment,
    CommentEvent,
    CommentStatus,
    Role,
    User,
)
from publisher.reports import inbox as ib
from publisher.reports.facts import ReportFilter
from publisher.services import inbox, inbox_retention
from publisher.services.inbox_collect import _update
from tests.inbox.helpers import comment, published

JUNE = ReportFilter(start=datetime(2026, 5, 31, 17, tzinfo=UTC),
                    end=datetime(2026, 6, 30, 17, tzinfo=UTC))


def _set(core, cid: int, **values) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        row = s.get(CitizenComment, cid)
        for k, v in values.items():
            setattr(row, k, v)


@pytest.fixture
def month(core, make_user):  # type: ignore[no-untyped-def]
    """Dinas Sosial's post with four comments this month, Bappeda's with one. Now is
    10 June 03:00 UTC.

    - c1 complaint, written 9 June 01:00, due 16 June, answered 03:00 the same day (2 h):
      answered in time;
    - c2 complaint, written 8 June 00:00, due 9 June 00:00 (passed), not answered: due, late;
    - c3 complaint, written 10 June 01:00, due 17 June (not passed), not answered: not due;
    - c4 question, written 9 June 00:00, answered 06:00 (6 h);
    - b1 complaint on Bappeda's post (Dinas Sosial never sees it).

    Dinas Sosial: 4 comments, 3 complaints, 2 answered, median response (2 h, 6 h) = 4 h,
    complaints due 2 (c1, c2), in time 1: 50 %."""
    author_a, author_b = make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "b")
    pub_a, pub_b = published(core, author_a), published(core, author_b)
    t = lambda d, h: datetime(2026, 6, d, h, tzinfo=UTC)  # noqa: E731
    ids = {
        "c1": comment(core, pub_a, "Bansos belum cair", at=t(9, 1), author="Ibu Sari"),
        "c2": comment(core, pub_a, "=HYPERLINK(\"http://x\")", at=t(8, 0), author="Pak Budi"),
        "c3": comment(core, pub_a, "Jalan rusak di RT 3", at=t(10, 1), author=None),
        "c4": comment(core, pub_a, "Kapan pendaftaran?", at=t(9, 0)),
        "b1": comment(core, pub_b, "Musrenbang ditunda?", at=t(9, 2)),
    }
    _set(core, ids["c1"], category="aduan", due_at=t(16, 10), responded_at=t(9, 3),
         status=CommentStatus.RESPONDED)
    _set(core, ids["c2"], category="aduan", due_at=t(9, 0))
    _set(core, ids["c3"], category="aduan", due_at=t(17, 10))
    _set(core, ids["c4"], category="pertanyaan", responded_at=t(9, 6),
         status=CommentStatus.RESPONDED)
    _set(core, ids["b1"], category="aduan", due_at=t(16, 10))
    return {"ids": ids, "a": author_a, "b": author_b}


def test_figures_per_unit_are_the_ones_computed_by_hand(core, month, make_user) -> None:  # type: ignore[no-untyped-def]
    viewer, admin_user = make_user(Role.APPROVER, "a"), make_user(Role.ADMIN, None)
    now = core.now()
    with core.sessions() as s:
        me = s.get(User, viewer.id)
        total = ib.totals(s, me, JUNE, now)
        assert (total.comments, total.complaints, total.answered) == (4, 3, 2)
        assert total.median_response_hours == pytest.approx(4.0)
        assert (total.complaints_due, total.complaints_in_time) == (2, 1)
        assert total.in_time_share == pytest.approx(0.5)
        (row,) = ib.breakdown(s, me, JUNE, "unit", now)
        assert row.label == "Dinas Sosial" and row.comments == 4
        assert row.median_response_hours == pytest.approx(4.0) and row.in_time_share == 0.5
        assert dict(ib.categories(s, me, JUNE)) == {"aduan": 3, "pertanyaan": 1}
        # An admin sees both units; Bappeda's one complaint is not due and not answered.
        admin = s.get(User, admin_user.id)
        rows = {r.label: r for r in ib.breakdown(s, admin, JUNE, "unit", now)}
        assert set(rows) == {"Dinas Sosial", "Bappeda"}
        assert rows["Bappeda"].comments == 1 and rows["Bappeda"].in_time_share is None
        assert rows["Bappeda"].median_response_hours is None, "none answered: no made-up 0"
        assert ib.totals(s, admin, JUNE, now).comments == 5


def test_a_forwarded_comment_counts_for_the_unit_that_must_answer(core, month, units,
                                                                  make_user) -> None:  # type: ignore[no-untyped-def]
    now = core.now()
    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, month["a"].id), month["ids"]["c3"], units["b"].id,
                      "Jalan: urusan Bappeda", now=now)
    viewer = make_user(Role.APPROVER, "b")
    with core.sessions() as s:
        rows = {r.label: r.comments for r in
                ib.breakdown(s, s.get(User, viewer.id), JUNE, "unit", now)}
    assert rows == {"Bappeda": 2}, "Bappeda sees its own comment and the one forwarded to it"


def test_the_page_shows_the_figures_and_refuses_an_unknown_grouping(client, core, month,
                                                                     login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(Role.APPROVER, "a")
    page = client.get("/laporan/suara-warga?period=this_month")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Suara warga dalam angka" in html and "Dinas Sosial" in html
    assert "Bappeda" not in html and "Musrenbang" not in html
    assert "4 jam" in html and "50,0%" in html
    assert client.get("/laporan/suara-warga?by=platform").status_code == 200
    bad = client.get("/laporan/suara-warga?by=warga")
    assert bad.status_code == 400 and "Pengelompokan tidak dikenal" in bad.get_data(as_text=True)


def test_the_complaints_export_is_scoped_neutralised_and_audited(client, core, month,
                                                                 login_as) -> None:  # type: ignore[no-untyped-def]
    me = login_as(Role.APPROVER, "a")
    got = client.get("/laporan/suara-warga/aduan.csv?period=this_month")
    assert got.status_code == 200
    text = got.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["No.", "Ditulis pada (WIB)", "Platform"]
    body = {r[5]: r for r in rows[1:]}
    assert set(body) == {"Bansos belum cair", "'=HYPERLINK(\"http://x\")", "Jalan rusak di RT 3"}, \
        "three complaints, the formula opened as text, the question and Bappeda's left out"
    assert body["Bansos belum cair"][4] == "Ibu Sari"
    assert body["Bansos belum cair"][1] == "2026-06-09 08:00", "written at, in WIB"
    assert body["Jalan rusak di RT 3"][4] == "", "no name given: empty, never made up"
    wb = client.get("/laporan/suara-warga/aduan.xlsx?period=this_month")
    assert wb.status_code == 200
    sheet = load_workbook(io.BytesIO(wb.data), read_only=True)["Aduan"]
    assert len(list(sheet.iter_rows(min_row=3, values_only=True))) == 3
    with core.sessions() as s:
        events = list(s.execute(select(AuditEvent).where(AuditEvent.action == "inbox.export")
                                .order_by(AuditEvent.id)).scalars())
    assert [(e.actor_id, e.data["format"], e.data["rows"]) for e in events] == [
        (me.id, "csv", 3), (me.id, "xlsx", 3)]


def test_retention_forgets_names_and_words_but_keeps_the_counts(core, month) -> None:  # type: ignore[no-untyped-def]
    """Two months' retention on 10 June: written before 10 April is removed."""
    ids = month["ids"]
    old = datetime(2026, 4, 9, 23, tzinfo=UTC)
    _set(core, ids["c2"], posted_at=old)
    with core.sessions.begin() as s:
        s.add(CommentEvent(comment_id=ids["c2"], kind="forward", note="Pak Budi, RT 3",
                           at=old))
        s.add(AuditEvent(action="comment.overdue", object_type="comment",
                         object_id=ids["c2"], data={"text": "Pak Budi ...", "status": "baru"},
                         at=old))
    before = ReportFilter(start=datetime(2026, 4, 1, tzinfo=UTC), end=JUNE.end)
    now = core.now()
    with core.sessions() as s:
        admin_counts = ib.totals(s, s.get(User, month["a"].id), before, now)
    assert inbox_retention.apply(core.sessions, now, 2) == 1
    assert inbox_retention.apply(core.sessions, now, 2) == 0, "once"
    with core.sessions() as s:
        gone = s.get(CitizenComment, ids["c2"])
        assert (gone.text, gone.author_name, gone.author_handle) == ("", None, None)
        assert gone.redacted_at is not None and gone.category == "aduan"
        kept = s.get(CitizenComment, ids["c1"])
        assert kept.text == "Bansos belum cair" and kept.author_name == "Ibu Sari"
        note = s.execute(select(CommentEvent.note).where(CommentEvent.comment_id == ids["c2"])
                         ).scalar_one()
        assert note is None
        overdue = s.execute(select(AuditEvent).where(AuditEvent.action == "comment.overdue")
                            ).scalar_one()
        assert "text" not in overdue.data and overdue.data["status"] == "baru"
        (record,) = s.execute(select(AuditEvent).where(
            AuditEvent.action == "inbox.retention")).scalars()
        assert record.data["comments"] == 1 and "Budi" not in str(record.data)
        after = ib.totals(s, s.get(User, month["a"].id), before, now)
        assert (after.comments, after.complaints, after.complaints_due) == (
            admin_counts.comments, admin_counts.complaints, admin_counts.complaints_due)
        # A later collection pass that still lists it does not bring the words back.
        _update(gone, IncomingComment(id="x", text="=HYPERLINK(\"http://x\")",
                                      author_name="Pak Budi"), now)
        assert (gone.text, gone.author_name) == ("", None)
    assert inbox_retention.apply(core.sessions, now, 0) == 0, "0 keeps everything"


@pytest.mark.parametrize(("now", "months", "expected"), [
    (datetime(2026, 3, 31, 5, tzinfo=UTC), 1, datetime(2026, 2, 28, 5, tzinfo=UTC)),
    (datetime(2024, 3, 31, 5, tzinfo=UTC), 1, datetime(2024, 2, 29, 5, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    (datetime(2026, 6, 10, 3, tzinfo=UTC), 6, datetime(2025, 12, 10, 3, tzinfo=UTC)),
])
def test_retention_counts_calendar_months(now: datetime, months: int,
                                          expected: datetime) -> None:
    assert inbox_retention.cutoff(now, months) == expected
    assert inbox_retention.cutoff(now, months) < now - timedelta(days=27 * months)
