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
                           alt_texts=media_alts(post))


def text_hash(post: Post) -> str:
    """The hash of what a person writes (everything but the time): an edit that changes it
    makes its editor one of the post's writers, who may not approve it."""
    return content_hash_of(body=post.body, link=post.link, overrides=post.overrides,
                           media_hashes=[m.sha256 for m in post.media],
                           channel_ids=post.channel_ids, scheduled_at=None,
                           alt_texts=media_alts(post))


def media_alts(post: Post) -> list[str]:
    """Each image's alt text in the post's media order (it is sent to the platforms)."""
    return [link.alt_text or "" for link in post.media_links]


def content_hash_of(*, body: str, link: str | None, overrides: dict | None,
                    media_hashes: list[str], channel_ids: list[int],
                    scheduled_at: datetime | None, alt_texts: list[str] | None = None) -> str:
    """The same hash from plain values (the worker reads them without the ORM).

    Alt texts (in media order) are in it only when one is non-empty: a post without any
    hashes exactly as before they were published, so approvals stored earlier stay valid."""
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
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
