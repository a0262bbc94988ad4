"""First comments (issue 21): where they live, how long they may be, and when they start.

A post's first comment for one channel is ``post.overrides[<channel id>]["first_comment"]``:
inside the overrides, so the approval hash (``services/approval.py``) covers it and an edit
after approval voids the approval, while posts without one keep their old hashes.

When a publication is recorded published, ``schedule`` copies the approved text into a
``FirstComment`` row and queues its job, in the same transaction: the comment is never lost
between the post and its job, and never made from text that was not approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import get_adapter_class
from publisher.jobs import enqueue_first_comment
from publisher.models import FirstComment, FirstCommentStatus, Post, PostStatus
from publisher.services import audit
from publisher.services.approval import content_hash
from publisher.services.errors import Text

KEY = "first_comment"


def text_of(overrides: Mapping[str, Any] | None, channel_id: int) -> str:
    """The first comment asked for one channel ("" for none)."""
    slot = (overrides or {}).get(str(channel_id))
    value = slot.get(KEY) if isinstance(slot, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def limit_of(platform: str) -> int | None:
    """The platform's longest first comment; None where it takes none."""
    try:
        return get_adapter_class(platform).caps.max_first_comment
    except Exception:  # noqa: BLE001 - an adapter whose optional library is missing
        return None


def problem(platform: str, value: Any) -> Text | None:
    """Why this value cannot be the channel's first comment, or None."""
    if not isinstance(value, str):
        return Text("Komentar pertama harus berupa teks.", "A first comment must be text.")
    limit = limit_of(platform)
    label = platform if limit is None else (get_adapter_class(platform).label or platform)
    if limit is None:
        return Text(f"{label} tidak mendukung komentar pertama.",
                    f"{label} does not take a first comment.")
    length = get_adapter_class(platform).first_comment_length(value.strip())
    if length > limit:
        return Text(f"Komentar pertama terlalu panjang untuk {label}: {length} dari maksimal "
                    f"{limit} karakter.",
                    f"The first comment is too long for {label}: {length} of at most "
                    f"{limit} characters.")
    return None


def schedule(session: Session, published: Iterable[tuple[int, int, int]],
             now: datetime) -> None:
    """For each ``(publication id, post id, channel id)`` just recorded published (in the
    caller's transaction): its first comment, if the post asks for one, queued now."""
    rows = list(published)
    if not rows:
        return
    overrides: dict[int, Any] = dict(session.execute(select(Post.id, Post.overrides).where(
        Post.id.in_({post_id for _p, post_id, _c in rows}))).all())
    for pub_id, post_id, channel_id in rows:
        text = text_of(overrides.get(post_id), channel_id)
        if not text or session.get(FirstComment, pub_id) is not None:
            continue  # none asked, or a second record of the same publication
        post = session.get_one(Post, post_id)
        row = FirstComment(publication_id=pub_id, text=text, created_at=now, updated_at=now,
                           status=FirstCommentStatus.QUEUED)
        session.add(row)
        if post.status != PostStatus.APPROVED or post.approval_hash != content_hash(post):
            # The post went out under its approval, but its text has changed since: the
            # comment waits for no one and is not made from words nobody approved.
            row.status = FirstCommentStatus.FAILED
            row.error_code = "approval_mismatch"
            row.error = ("Unggahan berubah setelah disetujui; komentar pertama tidak dikirim. "
                         "Tambahkan sendiri di platform bila masih perlu.")
            row.error_en = ("The post changed after approval; the first comment was not "
                            "sent. Add it on the platform yourself if it is still needed.")
            audit.record(session, "first_comment.failed", "publication", pub_id,
                         unit_id=post.unit_id, at=now,
                         data={"code": row.error_code, "message": row.error,
                               "message_en": row.error_en, "post_id": post_id})
            continue
        session.flush()
        row.job_id = enqueue_first_comment(session, pub_id, channel_id, run_at=now, now=now)
