"""The inbox's use cases: who sees a comment (own posts, forwarded to them), the status
transition table, forwarding with history, triage suggestions that name their keyword."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, CommentStatus, Role, User
from publisher.services import inbox, org
from publisher.services.errors import Forbidden, Invalid, NotFound
from publisher.services.inbox_search import InboxFilter, search, thread
from tests.inbox.helpers import comment, published

S = CommentStatus


def test_units_see_only_their_posts_and_what_was_forwarded_to_them(core, make_user, units) -> None:  # type: ignore[no-untyped-def]
    a, b, admin = make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "b"), \
        make_user(Role.ADMIN, None)
    pub_a, pub_b = published(core, a), published(core, b)
    ca = comment(core, pub_a, "Bansos belum cair")
    cb = comment(core, pub_b, "Jalan rusak")
    with core.sessions() as s:
        mine = [c.id for c, _p, _ch in search(s, s.get(User, a.id), InboxFilter()).rows]
        assert mine == [ca]
        with pytest.raises(NotFound):
            inbox.get_comment(s, s.get(User, b.id), ca)
        with pytest.raises(NotFound):
            thread(s, s.get(User, b.id), ca)
        assert {c.id for c, _p, _ch in search(s, s.get(User, admin.id), InboxFilter()).rows} \
            == {ca, cb}
    now = core.now()
    with core.sessions.begin() as s, pytest.raises(NotFound):
        inbox.set_status(s, s.get(User, b.id), ca, S.DONE, now=now)
    with core.sessions.begin() as s, pytest.raises(NotFound):
        inbox.forward(s, s.get(User, b.id), ca, units["b"].id, "mine now", now=now)

    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, a.id), ca, units["b"].id, "Kasus Dinas Sosial? Bukan: "
                      "Bappeda", now=now)
    with core.sessions() as s:
        got = [c.id for c, _p, _ch in search(s, s.get(User, b.id), InboxFilter()).rows]
        assert sorted(got) == sorted([ca, cb])
        assert [c.id for c, _p, _ch in search(s, s.get(User, a.id), InboxFilter()).rows] == [ca]
        t = thread(s, s.get(User, b.id), ca)
        (hand_over,) = t.events
        assert (hand_over.kind, hand_over.from_unit_id, hand_over.to_unit_id) == (
            "forward", units["a"].id, units["b"].id)
        assert (hand_over.note or "").startswith("Kasus") and hand_over.user_id == a.id
        assert t.comment.status == S.FORWARDED and t.comment.unit_id == units["b"].id
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "comment.forward")
                          ).scalar_one()
        assert event.unit_id == units["b"].id  # the receiving unit's bell
    # B answers it; A (the post's unit) still sees how it went
    with core.sessions.begin() as s:
        inbox.set_status(s, s.get(User, b.id), ca, S.RESPONDED, now=now)
    with core.sessions() as s:
        row = inbox.get_comment(s, s.get(User, a.id), ca)
        assert row.status == S.RESPONDED and row.responded_at is not None
    # B hands it on to C: B keeps seeing what it once handled, C now answers it.
    with core.sessions.begin() as s:
        c_unit = org.create_unit(s, name="Dinas PU", slug="dpu")
        c = org.create_user(s, email="pu@example.go.id", name="PU", role=Role.OPERATOR,
                            unit=c_unit, password="rahasia123", check_strength=False)
    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, b.id), ca, c_unit.id, "Jalan: Dinas PU", now=now)
    with core.sessions() as s:
        for who in (a, b, c):
            assert inbox.get_comment(s, s.get(User, who.id), ca).unit_id == c_unit.id
        assert [e.to_unit_id for e in thread(s, s.get(User, c.id), ca).events
                if e.kind == "forward"] == [units["b"].id, c_unit.id]
    # Only the unit holding it now changes it: A (the post's) and B (who handed it on) read.
    for who in (a, b):
        for change in (lambda s, u: inbox.set_status(s, u, ca, S.DONE, now=now),
                       lambda s, u: inbox.set_category(s, u, ca, "aduan", now=now),
                       lambda s, u: inbox.forward(s, u, ca, units["a"].id, "balik", now=now)):
            with core.sessions.begin() as s, pytest.raises(Forbidden) as refused:
                change(s, s.get(User, who.id))
            assert "Dinas PU" in refused.value.message
    with core.sessions.begin() as s:
        inbox.set_status(s, s.get(User, c.id), ca, S.RESPONDED, now=now)
    with core.sessions() as s:
        assert inbox.get_comment(s, s.get(User, a.id), ca).status == S.RESPONDED


def test_the_transition_table_is_the_only_way(core, make_user, units) -> None:  # type: ignore[no-untyped-def]
    a = make_user(Role.OPERATOR, "a")
    pub = published(core, a)
    for start in S:
        for target in S:
            cid = comment(core, pub, f"{start}->{target}")
            with core.sessions.begin() as s:
                s.get(inbox.CitizenComment, cid).status = start
            allowed = target in inbox.TRANSITIONS[start]
            with core.sessions.begin() as s:
                if allowed:
                    inbox.set_status(s, s.get(User, a.id), cid, target, now=core.now())
                else:
                    with pytest.raises(Invalid) as err:
                        inbox.set_status(s, s.get(User, a.id), cid, target, now=core.now())
                    assert "status" in err.value.fields
            with core.sessions() as s:
                assert s.get(inbox.CitizenComment, cid).status == (target if allowed else start)
    assert S.FORWARDED not in set().union(*inbox.TRANSITIONS.values())  # only by forwarding
    cid = comment(core, pub, "x")
    with core.sessions.begin() as s:
        s.get(inbox.CitizenComment, cid).status = S.DONE
    with core.sessions.begin() as s, pytest.raises(Invalid):
        inbox.forward(s, s.get(User, a.id), cid, units["b"].id, None, now=core.now())
    with core.sessions.begin() as s, pytest.raises(Invalid) as err:
        inbox.forward(s, s.get(User, a.id), cid, 10_000, None, now=core.now())
    assert "unit_id" in err.value.fields


def test_suggestion_names_its_keyword_and_admins_edit_them(core, make_user) -> None:  # type: ignore[no-untyped-def]
    a, admin = make_user(Role.OPERATOR, "a"), make_user(Role.ADMIN, None)
    with core.sessions() as s:
        words = inbox.keywords(s)
    assert inbox.suggest("Kapan bansos cair? Sampai sekarang BELUM CAIR", words) == \
        inbox.Suggestion("aduan", "belum cair")
    assert inbox.suggest("Terima kasih Pak", words) == inbox.Suggestion("apresiasi",
                                                                        "terima kasih")
    assert inbox.suggest("Main slot gacor di sini, terima kasih", words) == \
        inbox.Suggestion("spam", "gacor")
    assert inbox.suggest("Kapankah?", words) is None  # whole words only
    assert inbox.suggest("Selamat pagi", words) is None
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        inbox.set_keywords(s, s.get(User, a.id), "aduan", ["air mati"])
    with core.sessions.begin() as s:
        inbox.set_keywords(s, s.get(User, admin.id), "aduan", ["air mati", " ", "air mati"])
    with core.sessions() as s:
        words = inbox.keywords(s)
    assert words["aduan"] == ["air mati"]
    assert inbox.suggest("Air mati tiga hari", words) == inbox.Suggestion("aduan", "air mati")
    with core.sessions.begin() as s, pytest.raises(Invalid):
        inbox.set_keywords(s, s.get(User, admin.id), "bukan", ["x"])


def test_category_by_hand_and_filters(core, make_user) -> None:  # type: ignore[no-untyped-def]
    a = make_user(Role.OPERATOR, "a")
    pub, other = published(core, a), published(core, a)
    c1 = comment(core, pub, "Diskon 50% untuk UMKM?")
    c2 = comment(core, other, "Sebanyak 500 warga")
    with core.sessions.begin() as s:
        inbox.set_category(s, s.get(User, a.id), c1, "pertanyaan", now=core.now())
    with core.sessions.begin() as s, pytest.raises(Invalid):
        inbox.set_category(s, s.get(User, a.id), c1, "marah", now=core.now())
    with core.sessions() as s:
        user = s.get(User, a.id)

        def ids(**f: object) -> list[int]:
            return [c.id for c, _p, _ch in search(s, user, InboxFilter(**f)).rows]  # type: ignore[arg-type]

        assert ids(category="pertanyaan") == [c1]
        assert ids(category="none") == [c2]
        assert ids(text="50%") == [c1]
        assert ids(publication_id=other) == [c2]
        assert ids(status="baru") == [c2, c1]  # same time: the newer row first
        assert ids(platform="facebook") == []
        assert thread(s, user, c1).events[0].to_value == "pertanyaan"
