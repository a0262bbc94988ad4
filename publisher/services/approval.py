"""Approval is bound to the exact content: a hash of everything that will be published.

The worker recomputes it before every publish and refuses a mismatch, so no path — a bug, a
direct database edit, an API client — can publish something other than what was approved.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from publisher.models import Post


def content_hash(post: Post) -> str:
    return content_hash_of(body=post.body, link=post.link, overrides=post.overrides,
                           media_hashes=[m.sha256 for m in post.media],
                           channel_ids=post.channel_ids, scheduled_at=post.scheduled_at,
                           recurrence=recurrence_of(post))


def recurrence_of(post: Post) -> dict | None:
    """The series rule as the hash covers it (``None`` for a one-off post)."""
    return post.recurrence.rule().canonical() if post.recurrence is not None else None


def text_hash(post: Post) -> str:
    """The hash of what a person writes (everything but the time): an edit that changes it
    makes its editor one of the post's writers, who may not approve it."""
    return content_hash_of(body=post.body, link=post.link, overrides=post.overrides,
                           media_hashes=[m.sha256 for m in post.media],
                           channel_ids=post.channel_ids, scheduled_at=None)


def content_hash_of(*, body: str, link: str | None, overrides: dict | None,
                    media_hashes: list[str], channel_ids: list[int],
                    scheduled_at: datetime | None, recurrence: dict | None = None) -> str:
    """The same hash from plain values (the worker reads them without the ORM).

    A recurring post's rule is in it (the approval covers the series); the key is only
    added when there is one, so every one-off post hashes exactly as before."""
    canonical = {
        "body": body,
        "link": link,
        "overrides": overrides or {},
        "media": list(media_hashes),
        "channels": sorted(channel_ids),
        "scheduled_at": scheduled_at.isoformat() if scheduled_at else None,
    }
    if recurrence is not None:
        canonical["recurrence"] = recurrence
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
