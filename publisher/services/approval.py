"""Approval is bound to the exact content: a hash of everything that will be published.

The worker recomputes it before every publish and refuses a mismatch, so no path — a bug, a
direct database edit, an API client — can publish something other than what was approved.
"""

from __future__ import annotations

import hashlib
import json

from publisher.models import Post


def content_hash(post: Post) -> str:
    canonical = {
        "body": post.body,
        "link": post.link,
        "overrides": post.overrides or {},
        "media": [m.sha256 for m in post.media],
        "channels": post.channel_ids,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
