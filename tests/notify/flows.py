"""Small steps the notification tests share: preferences, a submitted post, the queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from postqueue import Job
from publisher.core import Core
from publisher.models import NotifyDelivery, User
from publisher.notify import prefs
from publisher.services import posts as post_svc
from publisher.worker import run_once
from tests.helpers import sandbox_channel

BODY = "Penyaluran bantuan sosial tahap 2 dimulai Senin di kantor kelurahan."


def set_prefs(core: Core, user: User, form: dict[str, str], locale: str | None = None) -> None:
    with core.sessions.begin() as s:
        me = s.get(User, user.id)
        assert me is not None
        if locale:
            me.locale = locale
        prefs.save(core, s, me, form)


def submitted_post(core: Core, author: User, body: str = BODY) -> int:
    channel = sandbox_channel(core, author, f"acc-{author.id}")
    with core.sessions.begin() as s:
        me = s.get(User, author.id)
        assert me is not None
        post = post_svc.create_post(core, s, me, post_svc.PostInput(
            body=body, channels=[channel], scheduled_at=core.now() + timedelta(days=1)))
        post_svc.submit_post(core, s, me, post.id)
        return post.id


def deliveries(core: Core) -> list[NotifyDelivery]:
    with core.sessions() as s:
        return list(s.execute(select(NotifyDelivery).order_by(NotifyDelivery.id)).scalars())


def jobs(core: Core, kind: str) -> list[Job]:
    with core.sessions() as s:
        return list(s.execute(select(Job).where(Job.kind == kind).order_by(Job.id)).scalars())


def drain(core: Core) -> int:
    """Run every job due now (fan-outs, then sends)."""
    return run_once(core)
