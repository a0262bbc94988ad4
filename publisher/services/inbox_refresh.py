""""Refresh now" for one published post's citizen comments (issue 19): the post's source is
made due at once, and the worker's comment sweep (every minute) reads it, with the same
bounded job, saved cursor and platform limits as the scheduled reads. The schedule itself is
unchanged: the next scheduled read follows from the publishing time as before.

Who: the post's unit (and admins), like the post itself; another unit's post is not found.
Not on a platform that does not read comments, nor on a paid reader whose switch is off
(X), and not again within ``MIN_INTERVAL`` of the last read or while one is waiting: a
button pressed ten times is one read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import AdapterUnavailable, get_adapter_class
from adapters.base import COMMENTS_OPT_IN
from publisher.models import CommentSource, Publication, PublicationStatus, Role, User
from publisher.services import audit
from publisher.services.errors import Invalid, NotFound

MIN_INTERVAL = timedelta(minutes=5)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def refresh(session: Session, user: User, publication_id: int, now: datetime) -> CommentSource:
    pub = session.get(Publication, publication_id)
    if pub is None or (user.role != Role.ADMIN and pub.post.unit_id != user.unit_id):
        raise NotFound("Unggahan tidak ditemukan.", "Post not found.")
    if pub.status != PublicationStatus.PUBLISHED or not pub.external_id:
        raise _bad("Unggahan ini belum terbit di platform.", "This post is not published yet.")
    try:
        caps = get_adapter_class(pub.channel.platform).caps
    except AdapterUnavailable:
        caps = None
    if caps is None or not caps.reads_comments:
        raise _bad("Komentar di platform ini belum dibaca oleh Warta.",
                   "Warta does not read comments on this platform yet.")
    if caps.comments_opt_in and (pub.channel.state or {}).get(COMMENTS_OPT_IN) is not True:
        raise _bad("Pembacaan balasan untuk akun ini mati (berbayar per balasan); nyalakan di "
                   "halaman Akun.", "Reading replies is off for this account (it is paid per "
                   "reply); switch it on on the Accounts page.")
    src = session.execute(select(CommentSource).where(
        CommentSource.publication_id == pub.id).with_for_update()).scalar_one_or_none()
    if src is None:
        src = CommentSource(channel_id=pub.channel_id, publication_id=pub.id, stage=0)
        session.add(src)
    elif src.next_collect_at is not None and _aware(src.next_collect_at) <= now:
        raise _bad("Pembacaan komentar unggahan ini sudah menunggu giliran.",
                   "A read of this post's comments is already waiting.")
    elif src.last_complete_at is not None and \
            now - _aware(src.last_complete_at) < MIN_INTERVAL:
        minutes = max(1, int((now - _aware(src.last_complete_at)).total_seconds() // 60))
        raise _bad(f"Komentar unggahan ini baru dibaca {minutes} menit lalu; coba lagi "
                   "beberapa menit lagi.", f"This post's comments were read {minutes} "
                   "minutes ago; try again in a few minutes.")
    src.next_collect_at = now
    audit.record(session, "comment.refresh", "publication", pub.id, actor=user,
                 unit_id=pub.post.unit_id, at=now)
    return src


def _bad(message: str, en: str) -> Invalid:
    return Invalid(message, en, fields={"refresh": en})
