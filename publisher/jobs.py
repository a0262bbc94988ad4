"""The job kinds Warta puts in the queue, and their one way in.

The worker's handlers read ``payload["publication_id"]``, and "one publish at a time per
account" rests on the ``channel:<id>`` lock key: keeping the shape of these jobs in one place
means no caller can enqueue a publish job that skips that rule.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

import postqueue
from publisher.models import EmergencyPost, MediaAsset, PostMedia, Publication

PUBLISH = "publish"
#: A publish job whose post carries a video: a long upload, run in the worker's upload pool so
#: it never occupies the slots that text and image posts need.
PUBLISH_UPLOAD = "publish_upload"
POLL = "poll"
#: Renew one channel's long-lived token before it expires (``publisher/worker/tokens.py``).
RENEW_TOKEN = "renew_token"
COLLECT_METRICS = "collect_metrics"
#: Citizens' comments of one channel's due posts (``publisher/worker/comments.py``).
COLLECT_COMMENTS = "collect_comments"
#: A published post's first comment (``publisher/worker/first_comment.py``).
FIRST_COMMENT = "first_comment"
#: Notifications (publisher/notify/): who hears of one audit event, then one message each.
#: One reply to a citizen's comment, sent once (``publisher/worker/replies.py``).
SEND_REPLY = "send_reply"
NOTIFY_FANOUT = "notify_fanout"
NOTIFY_SEND = "notify_send"
NOTIFY_DIGEST = "notify_digest"
#: The weekly report of one scope and ISO week: its audit event and deliveries (``weekly.py``).
NOTIFY_WEEKLY = "notify_weekly"


#: The queue priority of an emergency broadcast's publish jobs: ahead of all other due work.
EMERGENCY_PRIORITY = 100


def channel_lock(channel_id: int) -> str:
    return f"channel:{channel_id}"


def enqueue_publish(session: Session, publication_id: int, channel_id: int, *,
                    run_at: datetime, now: datetime, priority: int | None = None) -> int:
    """Queue a publication's publish job (in the caller's transaction); returns the job id.

    A post with a video becomes a ``publish_upload`` job (the worker's upload pool).
    ``priority`` None: ``EMERGENCY_PRIORITY`` when the post is an emergency broadcast's, else
    0 — decided here, so a retried, resumed (after a reconnect) or restarted emergency
    publication keeps its place ahead of ordinary posts whoever queues it again."""
    if priority is None:
        priority = EMERGENCY_PRIORITY if session.execute(select(exists().where(
            EmergencyPost.post_id == Publication.post_id,
            Publication.id == publication_id))).scalar() else 0
    job_id = postqueue.enqueue(session, publish_kind(session, publication_id),
                               {"publication_id": publication_id},
                               run_at=run_at, lock_key=channel_lock(channel_id), now=now,
                               priority=priority)
    assert job_id is not None  # no dedupe key: an insert always happens
    return job_id


def enqueue_publishes(session: Session, items: list[tuple[int, int]], *, kind: str,
                      run_at: datetime, now: datetime, priority: int = 0) -> list[int]:
    """``enqueue_publish`` for many publications ``(publication id, channel id)`` of one
    ``kind`` (``publish_kind`` of one of them: an emergency's posts all carry the same media),
    in one statement; returns their job ids in order. Same payload and lock key shape."""
    return postqueue.enqueue_many(
        session, kind, [({"publication_id": pub_id}, channel_lock(channel_id))
                        for pub_id, channel_id in items],
        run_at=run_at, now=now, priority=priority)


def publish_kind(session: Session, publication_id: int) -> str:
    """``publish_upload`` when the publication's post has a video, else ``publish``."""
    video = session.execute(select(exists().where(
        PostMedia.post_id == Publication.post_id, Publication.id == publication_id,
        MediaAsset.id == PostMedia.media_id, MediaAsset.kind == "video"))).scalar()
    return PUBLISH_UPLOAD if video else PUBLISH


def enqueue_poll(session: Session, publication_id: int, *, run_at: datetime,
                 now: datetime) -> int:
    """Queue a read-only status check of a post the platform is still processing."""
    job_id = postqueue.enqueue(session, POLL, {"publication_id": publication_id},
                               run_at=run_at, now=now)
    assert job_id is not None
    return job_id


def enqueue_first_comment(session: Session, publication_id: int, channel_id: int, *,
                          run_at: datetime, now: datetime) -> int:
    """Queue a publication's first comment under its channel's lock: one call at a time per
    account, as for publishing."""
    job_id = postqueue.enqueue(session, FIRST_COMMENT, {"publication_id": publication_id},
                               run_at=run_at, lock_key=channel_lock(channel_id), now=now)
    assert job_id is not None
    return job_id
