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
                           alt_texts=media_alts(post), recurrence=recurrence_of(post))


def recurrence_of(post: Post) -> dict | None:
    """The series rule as the hash covers it (``None`` for a one-off post)."""
    return post.recurrence.rule().canonical() if post.recurrence is not None else None


def text_hash(post: Post) -> str:
    """The hash of what a person writes (everything but the time): an edit that changes it
    makes its editor one of the post's writers, who may not approve it. A series' rule is
    written content too (it decides what goes out when)."""
    return content_hash_of(body=post.body, link=post.link, overrides=post.overrides,
                           media_hashes=[m.sha256 for m in post.media],
                           channel_ids=post.channel_ids, scheduled_at=None,
                           alt_texts=media_alts(post), recurrence=recurrence_of(post))


def media_alts(post: Post) -> list[str]:
    """Each image's alt text in the post's media order (it is sent to the platforms)."""
    return [link.alt_text or "" for link in post.media_links]


def content_hash_of(*, body: str, link: str | None, overrides: dict | None,
                    media_hashes: list[str], channel_ids: list[int],
                    scheduled_at: datetime | None, alt_texts: list[str] | None = None,
                    recurrence: dict | None = None) -> str:
    """The same hash from plain values (the worker reads them without the ORM).

    Alt texts (in media order) are in it only when one is non-empty, and a recurring post's
    rule only when there is one (the approval covers the series): a post without either
    hashes exactly as before they were added, so approvals stored earlier stay valid."""
    canonical = {
        "body": body,
        "link": link,
        "overrides": overrides or {},
        "media": list(media_hashes),
        "channels": sorted(channel_ids),
        "scheduled_at": scheduled_at.isoformat() if scheduled_at else None,
    }
    if alt_texts and any(alt_texts):
        canonical["alts"] = list(alt_texts)
    if recurrence is not None:
        canonical["recurrence"] = recurrence
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
