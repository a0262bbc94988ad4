"""Builders for the inbox tests: a published post of a unit on a sandbox channel, and
comments on it as the collector stores them."""

from __future__ import annotations

from datetime import datetime
from itertools import count

from publisher.core import Core
from publisher.models import CitizenComment, Publication, User
from tests.helpers import published_on, sandbox_channel

_n = count(1)


def published(core: Core, user: User, body: str = "Bansos tahap 2 cair.") -> int:
    """A post of ``user``'s unit published on a new sandbox channel; the publication id."""
    channel_id = sandbox_channel(core, user, f"acct{next(_n)}")
    return published_on(core, user, channel_id, f"ext{next(_n)}", body=body)


def comment(core: Core, publication_id: int, text: str, *, at: datetime | None = None,
            parent: str | None = None, author: str | None = "Warga") -> int:
    now = core.now()
    with core.sessions.begin() as s:
        pub = s.get(Publication, publication_id)
        assert pub is not None
        row = CitizenComment(
            channel_id=pub.channel_id, publication_id=pub.id, platform="sandbox",
            external_id=f"c{next(_n)}", parent_external_id=parent, author_name=author,
            text=text, posted_at=at or now, origin_unit_id=pub.post.unit_id,
            unit_id=pub.post.unit_id, collected_at=now, seen_at=now, updated_at=now)
        s.add(row)
        s.flush()
        return row.id
