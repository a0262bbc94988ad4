"""Small builders shared by tests: a unit with sandbox channels and an approved post; texts
for searching."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.core import Core
from publisher.models import Post, Publication, User
from publisher.services import channels as channel_svc
from publisher.services import posts as post_svc

#: Texts that LIKE wildcards would confuse, and the needle that must find only its own post.
WILDCARD_BODIES = ["Diskon 50% untuk UMKM", "Sebanyak 500 warga hadir", "kode_pos diperbarui",
                   "kodeXpos lama", "Arsip di C:\\data\\2026", "Arsip di C:data2026"]
WILDCARD_CASES = [("50%", ["Diskon 50% untuk UMKM"]),
                  ("DISKON 50%", ["Diskon 50% untuk UMKM"]),
                  ("%", ["Diskon 50% untuk UMKM"]),
                  ("kode_pos", ["kode_pos diperbarui"]),
                  ("_", ["kode_pos diperbarui"]),
                  ("C:\\data", ["Arsip di C:\\data\\2026"]),
                  ("\\", ["Arsip di C:\\data\\2026"])]


def sandbox_channel(core: Core, user: User, account: str, name: str | None = None) -> int:
    with core.sessions.begin() as s:
        ch = channel_svc.create_channel(core, s, s.get(User, user.id), platform="sandbox",
                                        name=name or account,
                                        credentials={"account": account, "token": "t"})
        return ch.id


def approved_post(core: Core, author: User, approver: User, channel_ids: list[int], *,
                  body: str = "Bantuan sosial tahap 2 cair hari ini.",
                  when: datetime | None = None, media: list[int] | None = None,
                  link: str | None = None, overrides: dict[str, Any] | None = None) -> int:
    """Create, submit and approve a post for the channels; returns the post id."""
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, author.id),
                                    post_svc.PostInput(body=body, channels=channel_ids,
                                                       scheduled_at=when, media=media,
                                                       link=link, overrides=overrides))
        post_svc.submit_post(core, s, s.get(User, author.id), post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, approver.id), post_id)
    return post_id


def outbox_records(core: Core, account: str) -> list[dict]:
    folder = Path(core.settings.sandbox_outbox) / account
    return [json.loads(p.read_text()) for p in folder.glob("*.json") if p.name != "control.json"]


def set_control(core: Core, account: str, **control: object) -> None:
    folder = Path(core.settings.sandbox_outbox) / account
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "control.json").write_text(json.dumps(control))


def post_of(core: Core, post_id: int) -> Post:
    with core.sessions() as s:
        return s.get(Post, post_id)


def published_on(core: Core, user: User, channel_id: int, external_id: str, *,
                 body: str = "Bansos tahap 2 cair minggu ini.") -> int:
    """A post of ``user``'s unit already published on the channel as ``external_id``, written
    straight to the database (for tests of what comes after publishing: comments, replies);
    returns the publication id."""
    now = core.now()
    with core.sessions.begin() as s:
        post = Post(unit_id=user.unit_id, author_id=user.id, body=body, status="approved",
                    overrides={}, created_at=now, updated_at=now)
        s.add(post)
        s.flush()
        pub = Publication(post_id=post.id, channel_id=channel_id, status="published",
                          scheduled_at=now, external_id=external_id, published_at=now,
                          created_at=now, updated_at=now)
        s.add(pub)
        s.flush()
        return pub.id
