"""A small fixed data set whose report figures are computed by hand in test_figures.py.

Period under test: November 2026 in WIB = [2026-10-31 17:00 UTC, 2026-11-30 17:00 UTC).

unit a (Dinas Sosial): channels a-fb (facebook), a-tg (telegram); unit b (Bappeda): b-fb.
  P1 (a, campaign C1) 2026-11-03 02:00 UTC on a-fb (pub1) and a-tg (pub2)
     pub1 snapshots: 11-03 likes 1 reach 10 | 11-10 likes 10 comments 2 shares 3 reach 100
                     impressions 150 | 12-05 likes 999 (after the period: ignored)
     pub2 snapshot: views 200 only (engagements unknown)
  P2 (a)  2026-11-20 00:00 UTC a-fb: likes 5 comments 1 saves 2 reach 40 (shares unknown)
  P3 (b)  2026-11-05 03:00 UTC b-fb: likes 20 comments 5 shares 5 reach 300
  P4 (a)  2026-11-25 03:00 UTC a-fb: no snapshot yet
  P5 (a)  draft, with a queued and a failed publication: never counted
  P6 (a)  2026-10-15 03:00 UTC a-fb: likes 4 reach 20 (previous period)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from publisher.models import (
    Campaign,
    Channel,
    MetricSnapshot,
    Post,
    Publication,
    PublicationStatus,
    Unit,
)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


@dataclass
class Data:
    units: dict[str, Unit]
    channels: dict[str, int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    pubs: dict[str, int] = field(default_factory=dict)
    campaign: int = 0


class Builder:
    """Direct model construction, so the data set is exactly what the test says."""

    def __init__(self, core: Any, author_id: int) -> None:
        self.core = core
        self.author_id = author_id

    def channel(self, s: Any, unit: Unit, platform: str, name: str) -> Channel:
        ch = Channel(unit_id=unit.id, platform=platform, name=name,
                     credentials_encrypted=self.core.box.seal({"token": "secret"}))
        s.add(ch)
        s.flush()
        return ch

    def post(self, s: Any, unit: Unit, body: str, status: str = "approved",
             campaign_id: int | None = None) -> Post:
        p = Post(unit_id=unit.id, author_id=self.author_id, body=body, status=status,
                 campaign_id=campaign_id)
        s.add(p)
        s.flush()
        return p

    def pub(self, s: Any, post: Post, ch: Channel, at: datetime | None,
            status: str = PublicationStatus.PUBLISHED) -> Publication:
        p = Publication(post_id=post.id, channel_id=ch.id, status=status,
                        scheduled_at=at or utc(2026, 11, 1), published_at=at,
                        permalink=f"{PERMALINK_BASE[ch.platform]}/{post.id}/{ch.id}" if at
                        else None)
        s.add(p)
        s.flush()
        return p

    def snap(self, s: Any, pub: Publication, at: datetime, **metrics: int | None) -> None:
        s.add(MetricSnapshot(publication_id=pub.id, collected_at=at, **metrics))


#: Links on each platform's own host (the public page shows only links that pass the
#: platform's permalink check).
PERMALINK_BASE = {"facebook": "https://www.facebook.com/warta", "telegram": "https://t.me/warta",
                  "x": "https://x.com/warta/status", "youtube": "https://www.youtube.com/shorts",
                  "instagram_graph": "https://www.instagram.com/p", "sandbox": "sandbox://warta"}


@pytest.fixture
def build(core, make_user):  # type: ignore[no-untyped-def]
    author = make_user("operator", "a")
    return Builder(core, author.id)


@pytest.fixture
def data(core, units, build) -> Data:  # type: ignore[no-untyped-def]
    d = Data(units=units)
    with core.sessions.begin() as s:
        a, b = s.get(Unit, units["a"].id), s.get(Unit, units["b"].id)
        afb = build.channel(s, a, "facebook", "Dinsos FB")
        atg = build.channel(s, a, "telegram", "Dinsos Telegram")
        bfb = build.channel(s, b, "facebook", "Bappeda FB")
        c1 = Campaign(name="Penanganan Kemiskinan", unit_id=None, due_at=utc(2026, 11, 10))
        s.add(c1)
        s.flush()
        p1 = build.post(s, a, "Bantuan sosial tahap dua", campaign_id=c1.id)
        pub1 = build.pub(s, p1, afb, utc(2026, 11, 3, 2))
        pub2 = build.pub(s, p1, atg, utc(2026, 11, 3, 2))
        build.snap(s, pub1, utc(2026, 11, 3, 3), likes=1, comments=0, shares=0, reach=10)
        build.snap(s, pub1, utc(2026, 11, 10), likes=10, comments=2, shares=3, reach=100,
                   impressions=150)
        build.snap(s, pub1, utc(2026, 12, 5), likes=999, comments=2, shares=3, reach=1000)
        build.snap(s, pub2, utc(2026, 11, 4), views=200)
        p2 = build.post(s, a, "Jadwal posyandu")
        pp2 = build.pub(s, p2, afb, utc(2026, 11, 20, 0))
        build.snap(s, pp2, utc(2026, 11, 21), likes=5, comments=1, saves=2, reach=40)
        p3 = build.post(s, b, "Musrenbang kecamatan")
        pp3 = build.pub(s, p3, bfb, utc(2026, 11, 5, 3))
        build.snap(s, pp3, utc(2026, 11, 6), likes=20, comments=5, shares=5, reach=300)
        p4 = build.post(s, a, "Pengumuman libur")
        pp4 = build.pub(s, p4, afb, utc(2026, 11, 25, 3))
        p5 = build.post(s, a, "Draf rahasia belum terbit", status="draft")
        build.pub(s, p5, afb, None, status=PublicationStatus.QUEUED)
        build.pub(s, p5, atg, None, status=PublicationStatus.FAILED)
        p6 = build.post(s, a, "Oktober")
        pp6 = build.pub(s, p6, afb, utc(2026, 10, 15, 3))
        build.snap(s, pp6, utc(2026, 10, 16), likes=4, reach=20)
        d.channels = {"afb": afb.id, "atg": atg.id, "bfb": bfb.id}
        d.posts = {f"p{i}": p.id for i, p in enumerate([p1, p2, p3, p4, p5, p6], 1)}
        d.pubs = {"pub1": pub1.id, "pub2": pub2.id, "p2": pp2.id, "p3": pp3.id, "p4": pp4.id,
                  "p6": pp6.id}
        d.campaign = c1.id
    return d


@pytest.fixture
def viewer(session, make_user):  # type: ignore[no-untyped-def]
    """A user loaded in the test's session; the read transaction is closed at once, because
    SQLite sessions here begin IMMEDIATE and would block the next writer."""
    from publisher.models import User

    def make(role: str, unit: str | None) -> User:
        user = session.get(User, make_user(role, unit).id)
        session.commit()
        return user
    return make


#: The query arguments for November 2026.
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


#: The exports' Indonesian column headers, by the key a test reads them with (written out here,
#: not taken from the code under test). The time column names its zone: "Waktu terbit (WIB)".
ID_HEADERS = {"No. penayangan": "publication_id", "No. unggahan": "post_id", "Unit": "unit",
              "Platform": "platform", "Akun": "channel", "Kampanye": "campaign",
              "Tanggal": "day", "Tautan di platform": "permalink", "Unggahan": "posts",
              "Penayangan": "publications", "Suka": "likes", "Komentar": "comments",
              "Dibagikan": "shares", "Tayangan": "views", "Impresi": "impressions",
              "Jangkauan": "reach", "Disimpan": "saves", "Interaksi": "engagements",
              "Tingkat interaksi": "engagement_rate"}
#: The workbook's sheets (Indonesian) by table.
ID_SHEETS = {"unit": "Unit", "platform": "Platform", "channel": "Akun", "campaign": "Kampanye",
             "day": "Tanggal", "publications": "Penayangan"}


def header_key(text: str) -> str:
    import re

    if re.fullmatch(r"Waktu terbit \((WIB|WITA|WIT|[\w/]+)\)", text):
        return "published_at"
    return ID_HEADERS[text]


def read_csv(response: Any, sep: str = ";") -> list[dict[str, str]]:
    """The rows of a CSV export (Indonesian headers, UTF-8 with a BOM) keyed by column key."""
    import csv
    import io

    assert response.status_code == 200, response.status_code
    assert response.data.startswith(b"\xef\xbb\xbf"), response.data[:10]
    reader = csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=sep)
    keys = [header_key(h) for h in next(reader)]
    return [dict(zip(keys, row, strict=True)) for row in reader]


def percent(text: str) -> float | None:
    """"15,00%" (or "15.00%") as the fraction 0.15; empty as None."""
    if text == "":
        return None
    assert text.endswith("%"), text
    return float(text[:-1].replace(",", ".")) / 100


def sheet_rows(wb: Any, table: str) -> tuple[tuple[Any, ...], list[dict[str, Any]]]:
    """(the header row, the rows keyed by column key) of a workbook's sheet, below its title;
    a read-only workbook leaves trailing empty cells out."""
    rows = list(wb[ID_SHEETS[table]].iter_rows(values_only=True))
    header = rows[1]
    keys = [header_key(h) for h in header]
    return header, [dict(zip(keys, row + (None,) * (len(keys) - len(row)), strict=True))
                    for row in rows[2:]]
