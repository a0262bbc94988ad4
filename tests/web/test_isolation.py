"""One isolation table over every route: nothing of unit B reaches a user of unit A.

Unit B is seeded with unmistakable markers (``ZQXB`` in texts, names, comments, links and
audit data; a photo whose bytes exist nowhere else; report figures no other row has). Then,
as each role of unit A, the test walks ``app.url_map`` — so a route added tomorrow is walked
tomorrow — filling URL parameters with B's ids (and A's, to show the route works at all):
every GET route is loaded (with and without B's ids in the query string), every write route
is sent with B's ids in the URL and in the body. No response body (HTML, JSON, CSV, the
XLSX's unzipped XML) may carry a marker of B, and a fingerprint of every row that belongs to
B (or points at B's objects) must be the same before and after. A route the walk does not
know how to fill fails the test unless it is in ``ALLOW`` with its reason. The admin
(region-wide) walks the same GET routes and must see every marker: that shows the markers
are rendered where a broken scope would leak them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from postqueue.models import JobBase
from publisher.db import Base
from publisher.models import (
    ApiToken,
    AuditEvent,
    Campaign,
    CampaignUnit,
    ChannelStatus,
    CitizenComment,
    CommentEvent,
    MediaAsset,
    MetricSnapshot,
    Pause,
    Post,
    PostChannel,
    Publication,
    PublicationStatus,
    Role,
    Unit,
    User,
)
from publisher.notify import report_recipients, webhooks
from publisher.services import channels as channel_svc
from publisher.services import emergency as emergency_svc
from publisher.services import media as media_svc
from publisher.services import org, policy_rules
from publisher.services import posts as post_svc
from publisher.services import templates as template_svc
from publisher.services.posts import PostInput
from tests.conftest import TEST_NOW

MARKER = "zqxb"
#: Report figures only B's publication has (A's snapshot carries views only), in the spellings
#: a page, a CSV or a JSON answer could use.
B_LIKES, B_REACH = 7770777, 9990999
FIGURE_SPELLINGS = [f"{n}" for n in (B_LIKES, B_REACH)] + \
    [f"{n:,}".replace(",", ".") for n in (B_LIKES, B_REACH)] + \
    [f"{n:,}" for n in (B_LIKES, B_REACH)]

#: The public transparency pages are walked like the rest: B has not opted in, so none of its
#: markers may show there either (an opted-in unit's figures are public by its choice).
#: Routes not walked, each with the reason it may be global or cannot be walked as a user.
#: (endpoint, method) — a stale entry (the route is gone) fails the test too.
ALLOW: dict[tuple[str, str], str] = {
    ("static", "GET"): "vendored CSS/JS/images, the same for everyone; no unit data",
    ("auth.login", "POST"): "logs in as whoever's password is given; no unit data is read",
    ("auth.logout", "POST"): "ends the session the walk runs in; reads no unit data",
    ("public_media.public_media", "GET"): "a signed, expiring token is the capability (a "
    "platform fetches media with it); no session, no unit; tests/test_* sign and check it",
    ("ops.healthz", "GET"): "a machine's probe: no session, no unit data",
    ("ops.readyz", "GET"): "a machine's probe: no session, no unit data; 503 is its answer when "
    "a check fails (no worker here), tests/ops/test_health.py",
    ("ops.metrics", "GET"): "its own token or address list, aggregates without unit data "
    "(404 unless configured), tests/ops/test_metrics.py",
    ("reports.fanout_preapprove", "POST"): "region verifiers only (403 before any id is read; "
    "the walk's users are none); tests/fanout/",
    ("reports.fanout_send", "POST"): "admins only (403 before any id is read); a unit's copy "
    "of a campaign message is a post of its unit, walked as one; tests/fanout/",
}

#: Bodies of write routes that need a specific shape (the API's strict schemas); every other
#: write gets ``FORM`` (UI) or ``{}`` (API). Each carries B's ids where the route takes ids.
def _bodies(b: Ids) -> dict[str, tuple[str, dict[str, Any]]]:
    ch, media, camp = b.channels[0], b.media[0], b.campaigns[0]
    post = {"body": "diubah oleh unit A", "channels": [ch], "media": [media], "campaign": camp}
    return {
        "api.create_channel": ("json", {"platform": "sandbox", "name": "dari A", "unit": b.unit,
                                        "credentials": {"account": "a-ke-b", "token": "t"}}),
        "api.create_post": ("json", post),
        "api.patch_post": ("json", {"body": "diubah oleh unit A"}),
        "api.reject_post": ("json", {"comment": "ditolak oleh unit A"}),
        "api.mark_published": ("json", {"permalink": "https://example.test/a"}),
        "api.upload_media": ("file", {}),
        "posts.upload": ("file", {}),
    }


def form_for(b: Ids) -> dict[str, Any]:
    """A UI write's body: every field name the forms read, filled with B's ids."""
    when = (TEST_NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {"body": "diubah oleh unit A", "channels": [str(c) for c in b.channels],
            "media": [str(m) for m in b.media], "campaign": str(b.campaigns[0]),
            "unit": str(b.unit), "units": [str(b.unit)], "channel": str(b.channels[0]),
            "comment": "ditolak oleh unit A", "when": when, "scheduled_at": when,
            "permalink": "https://example.test/a", "disabled": "1", "platform": "sandbox",
            "template": str(b.templates[0]), "tagset": str(b.tagsets[0]),
            "name": "dari A", "cred_account": "a-ke-b", "cred_token": "t", "scope": "unit",
            "reason": "jeda dari A", "role": "operator", "active": "0", "action": "submit",
            "email": "baru@example.go.id", "password": "rahasia123", "slug": "baru"}


@dataclass
class Ids:
    """One unit's objects, by kind: what URL parameters are filled with."""

    unit: int
    posts: list[int] = field(default_factory=list)
    pubs: list[int] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)
    media: list[int] = field(default_factory=list)
    campaigns: list[int] = field(default_factory=list)
    pauses: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)
    recipients: list[int] = field(default_factory=list)
    rules: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    templates: list[int] = field(default_factory=list)
    tagsets: list[int] = field(default_factory=list)
    emergencies: list[int] = field(default_factory=list)
    png: bytes = b""


def _filler(rule: str, arg: str) -> str | None:
    """Which kind of id fills a URL parameter (``None``: the walk does not know)."""
    if arg == "id":
        if rule.startswith("/api/v1/posts/"):
            return "posts"
        if rule.startswith("/api/v1/publications/"):
            return "pubs"
        return None
    return {"post_id": "posts", "pub_id": "pubs", "channel_id": "channels",
            "media_id": "media", "campaign_id": "campaigns", "pause_id": "pauses",
            "user_id": "users", "provider": "providers", "unit_id": "units",
            "token_id": "tokens", "webhook_id": "webhooks",
            "recipient_id": "recipients", "rule_id": "rules",
            "comment_id": "comments", "template_id": "templates", "publication_id": "pubs",
            "set_id": "tagsets", "emergency_id": "emergencies"}.get(arg)


PROVIDERS = ["x", "google", "meta"]
#: Write routes that succeed in the walk, with why that is no harm to B; every other write
#: sent with B's ids must be refused (400, 403 or 404). An upload creates A's own asset, even
#: from B's very bytes (checked below: never B's asset).
ACCEPTED_WRITES = {
    "posts.upload": "an upload takes no id: A gets its own asset",
    "api.upload_media": "an upload takes no id: A gets its own asset",
    "posts.library_upload": "the media library's upload takes no id: A gets its own asset "
    "(the composer's upload service)",
    "auth.profile": "changes the caller's own language or password only",
    "auth.login_code": "the caller's own second-factor step; takes no id (a wrong code "
    "re-renders the form)",
    "auth.totp_setup": "sets up the caller's own second factor; takes no id (a wrong code "
    "re-renders the form)",
    "auth.notify_settings": "the caller's own notification settings; takes no id (the body's "
    "ids are no field of its form)",
    "auth.telegram_unlink": "unlinks the caller's own Telegram chat; takes no id",
    "posts.policy_check": "writes nothing: checks a draft against the rules, reading only the "
    "caller's unit's channels, media and campaigns (another unit's ids are ignored)",
}
UPLOADS = {"posts.upload", "api.upload_media"}


@dataclass(frozen=True)
class Step:
    endpoint: str
    method: str
    rule: str
    args: tuple[str, ...]


def plan(app: Any) -> tuple[list[Step], list[str]]:
    """Every (route, method) of the app: the steps to walk, and what the walk cannot fill."""
    steps, unknown = [], []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) in ALLOW:
                continue
            missing = [a for a in rule.arguments if _filler(rule.rule, a) is None]
            if missing:
                unknown.append(f"{method} {rule.rule} ({rule.endpoint}): cannot fill {missing}")
                continue
            steps.append(Step(rule.endpoint, method, rule.rule, tuple(sorted(rule.arguments))))
    return sorted(steps, key=lambda s: (s.method != "GET", s.rule, s.method)), unknown


def urls(app: Any, step: Step, ids: Ids) -> Iterator[str]:
    """The step's URLs with one unit's ids (every id of each kind, one parameter at a time)."""
    from itertools import product

    values = []
    for arg in step.args:
        kind = _filler(step.rule, arg)
        values.append(PROVIDERS if kind == "providers" else getattr(ids, kind or ""))
    with app.test_request_context():
        from flask import url_for

        for combo in product(*values):
            yield url_for(step.endpoint, **dict(zip(step.args, combo, strict=True)))


def query_with(b: Ids) -> str:
    """B's ids in every filter name a page or the API reads."""
    return (f"unit={b.unit}&channel={b.channels[0]}&campaign={b.campaigns[0]}"
            f"&author={b.users[0]}&actor={b.users[0]}&platform=sandbox&view=week&table=publications"
            f"&d={(TEST_NOW + timedelta(days=1)).date().isoformat()}"
            f"&templat={b.templates[0]}")


def variants(rule: str, b: Ids) -> list[str]:
    """A route without parameters: as it is, with the views a list can switch to (the CSV's
    publications table, the calendar's week), and with B's ids as filters."""
    return [rule, f"{rule}?table=publications&view=week", f"{rule}?{query_with(b)}"]


# ---------------------------------------------------------------------------------- seeding

def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 40), colour).save(buf, "PNG")
    return buf.getvalue()


def _seed_unit(core: Any, unit: Unit, admin: User, tag: str, *, b_figures: bool) -> Ids:
    """A unit's whole life: channels (one broken), media, a campaign, posts in every state
    (draft, waiting, rejected with a comment, scheduled, published with metrics, failed), a
    pause and an audit entry. ``tag`` is in every text."""
    ids = Ids(unit=unit.id)
    with core.sessions.begin() as s:
        u = s.get(Unit, unit.id)
        op = org.create_user(s, email=f"{tag}.penulis@example.go.id", name=f"{tag} Penulis",
                             role=Role.OPERATOR, unit=u, password="rahasia123",
                             check_strength=False)
        ap = org.create_user(s, email=f"{tag}.penyetuju@example.go.id",
                             name=f"{tag} Penyetuju", role=Role.APPROVER, unit=u,
                             password="rahasia123", check_strength=False)
        ids.users = [op.id, ap.id]
        ids.units = [unit.id]
        org.create_token(s, op, f"{tag} token")
        s.flush()
        ids.tokens = list(s.execute(select(ApiToken.id).where(ApiToken.user_id == op.id))
                          .scalars())
        actor = s.get(User, admin.id)
        ok = channel_svc.create_channel(core, s, actor, platform="sandbox", name=f"{tag} Kanal",
                                        credentials={"account": f"{tag}-akun", "token": "t"},
                                        unit_id=unit.id)
        broken = channel_svc.create_channel(core, s, actor, platform="sandbox",
                                            name=f"{tag} Kanal Putus",
                                            credentials={"account": f"{tag}-putus", "token": "t"},
                                            unit_id=unit.id)
        broken.status = ChannelStatus.NEEDS_REAUTH
        broken.last_error = f"{tag} token kedaluwarsa"
        ids.channels = [ok.id, broken.id]
        camp = Campaign(name=f"{tag} Kampanye", description=f"{tag} deskripsi", unit_id=unit.id,
                        due_at=TEST_NOW + timedelta(days=5), created_at=TEST_NOW)
        s.add(camp)
        s.flush()
        s.add(CampaignUnit(campaign_id=camp.id, unit_id=unit.id))
        ids.campaigns = [camp.id]
        ids.png = _png((11, 22, 33) if b_figures else (200, 30, 30))
        asset = media_svc.upload_media(core, s, s.get(User, op.id), io.BytesIO(ids.png),
                                       f"{tag}-foto.png")
        ids.media = [asset.id]
        pause = Pause(scope="unit", unit_id=unit.id, starts_at=TEST_NOW + timedelta(days=20),
                      ends_at=TEST_NOW + timedelta(days=21), reason=f"{tag} jeda",
                      created_by=admin.id)
        s.add(pause)
        s.flush()
        ids.pauses = [pause.id]
        # The unit's webhook and weekly-report address (admin pages: others get 403).
        hook = webhooks.add(core, s, actor, {
            "name": f"{tag} Webhook", "url": f"https://{tag}.example.go.id/hook",
            "secret": f"{tag}-rahasia-webhook-panjang", "kinds": ["failed"],
            "unit": str(unit.id)})
        recipient = report_recipients.add(core, s, actor, {
            "email": f"{tag}.kepala@example.go.id", "name": f"{tag} Kepala", "lang": "id",
            "unit": str(unit.id)})
        ids.webhooks, ids.recipients = [hook.id], [recipient.id]
        # An emergency for the unit (admin pages: others get 403).
        ids.emergencies = [emergency_svc.start(core, s, actor, emergency_svc.EmergencyInput(
            title=f"{tag} darurat", body=f"{tag} siaran darurat", unit_ids=[unit.id])).id]

    def post(body: str, **kw: Any) -> int:
        with core.sessions.begin() as s:
            p = post_svc.create_post(core, s, s.get(User, op.id),
                                     PostInput(body=body, channels=[ok.id], **kw))
            return p.id

    def submit(pid: int) -> None:
        with core.sessions.begin() as s:
            post_svc.submit_post(core, s, s.get(User, op.id), pid)

    draft = post(f"{tag} draf rahasia", media=[asset.id], link=f"https://example.test/{tag}-link")
    waiting = post(f"{tag} menunggu persetujuan", campaign=camp.id)
    submit(waiting)
    rejected = post(f"{tag} ditolak")
    submit(rejected)
    with core.sessions.begin() as s:
        post_svc.reject_post(core, s, s.get(User, ap.id), rejected, f"{tag} komentar penolakan")
    scheduled = post(f"{tag} terjadwal besok", scheduled_at=TEST_NOW + timedelta(days=1))
    submit(scheduled)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), scheduled)
    with core.sessions.begin() as s:
        # Published (with figures) and failed publications, built directly: the worker is not
        # under test here, the pages that show its results are.
        published = Post(unit_id=unit.id, author_id=op.id, body=f"{tag} sudah terbit",
                         status="approved", campaign_id=camp.id, created_at=TEST_NOW)
        failed = Post(unit_id=unit.id, author_id=op.id, body=f"{tag} gagal terbit",
                      status="approved", created_at=TEST_NOW)
        s.add_all([published, failed])
        s.flush()
        at = TEST_NOW - timedelta(days=5)
        pub = Publication(post_id=published.id, channel_id=ok.id, status="published",
                          scheduled_at=at, published_at=at, external_id=f"{tag}-ext",
                          permalink=f"https://example.test/{tag}-permalink", attempts=1,
                          created_at=at, updated_at=at)
        bad = Publication(post_id=failed.id, channel_id=ok.id,
                          status=PublicationStatus.FAILED, scheduled_at=TEST_NOW,
                          error=f"{tag} galat platform", error_en=f"{tag} platform error",
                          attempts=1, created_at=TEST_NOW, updated_at=TEST_NOW)
        s.add_all([pub, bad, PostChannel(post_id=published.id, channel_id=ok.id),
                   PostChannel(post_id=failed.id, channel_id=ok.id)])
        s.flush()
        figures = {"likes": B_LIKES, "reach": B_REACH} if b_figures else {"views": 5}
        s.add(MetricSnapshot(publication_id=pub.id, collected_at=at + timedelta(days=1),
                             **figures))
        s.add(AuditEvent(at=TEST_NOW, actor_id=op.id, unit_id=unit.id,
                         action="publication.failed", object_type="publication",
                         object_id=bad.id, data={"note": f"{tag} catatan audit",
                                                  "error": f"{tag} galat platform"}))
        s.add(AuditEvent(at=TEST_NOW, actor_id=None, unit_id=unit.id,
                         action="channel.needs_reauth", object_type="channel",
                         object_id=broken.id, data={"channel": f"{tag} Kanal Putus"}))
        # A citizen's comment on the published post, already forwarded once within the unit's
        # own history (the inbox shows the history's notes).
        citizen = CitizenComment(
            channel_id=ok.id, publication_id=pub.id, platform="sandbox",
            external_id=f"{tag}-komentar", author_name=f"{tag} Warga",
            author_handle=f"{tag}_warga", text=f"{tag} bansos belum cair", posted_at=at,
            origin_unit_id=unit.id, unit_id=unit.id, due_at=TEST_NOW, collected_at=at,
            seen_at=at, updated_at=at)
        s.add(citizen)
        s.flush()
        s.add(CommentEvent(comment_id=citizen.id, kind="status", from_value="baru",
                           to_value="ditanggapi", note=f"{tag} catatan tanggapan",
                           user_id=op.id, at=at))
        ids.comments = [citizen.id]
        ids.posts = [draft, waiting, rejected, scheduled, published.id, failed.id]
        # a policy rule of the unit's campaign (after its posts went in): its words show
        # only on that campaign's posts, never on another unit's draft that names it
        ids.rules = [policy_rules.create_rule(core, s, s.get(User, admin.id),
                                              kind="required_tag", severity="hard",
                                              value=f"#{tag}Tagar", reason=f"{tag} alasan",
                                              campaign_id=camp.id).id]
        # the unit's post template (with its channel and campaign) and hashtag set
        writer = s.get(User, op.id)
        ids.templates = [template_svc.create_template(
            core, s, writer, name=f"{tag} Templat", body=f"{tag} isi templat {{tanggal}}",
            channel_ids=[ok.id], campaign_id=camp.id).id]
        ids.tagsets = [template_svc.create_set(core, s, writer, name=f"{tag} Set",
                                               tags=f"#{tag}Tagar #{tag}Kedua").id]
        ids.pubs = [pub.id, bad.id] + list(s.execute(
            select(Publication.id).where(Publication.post_id == scheduled)).scalars())
    return ids


@pytest.fixture
def world(core, units, make_user) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    a = _seed_unit(core, units["a"], admin, "dinsos", b_figures=False)
    b = _seed_unit(core, units["b"], admin, MARKER, b_figures=True)
    with core.sessions.begin() as s:
        # A region-wide campaign both units carry: its page is A's to open, and it must
        # show A's part only (B's links and figures are B's).
        shared = Campaign(name="Kampanye bersama", unit_id=None, created_at=TEST_NOW,
                          due_at=TEST_NOW + timedelta(days=5))
        s.add(shared)
        s.flush()
        s.add_all([CampaignUnit(campaign_id=shared.id, unit_id=units["a"].id),
                   CampaignUnit(campaign_id=shared.id, unit_id=units["b"].id)])
        for ids in (a, b):  # each unit's published post is part of it
            s.get(Post, ids.posts[4]).campaign_id = shared.id
        a.campaigns.append(shared.id)
    return {"a": a, "b": b, "admin": admin}


# ------------------------------------------------------------------------------- inspecting

def leaks(body: bytes, b: Ids) -> list[str]:
    """Which of B's markers a response carries (XLSX is unzipped and its XML searched)."""
    texts = [body]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            texts = [z.read(n) for n in z.namelist()]
    found = []
    for t in texts:
        low = t.lower()
        if MARKER.encode() in low:
            i = low.index(MARKER.encode())
            near = t[max(0, i - 60):i + 60].decode("utf-8", "replace")
            found.append("text: …" + " ".join(near.split()) + "…")
        decoded = t.decode("utf-8", "replace")
        found += [f"figure {f}" for f in FIGURE_SPELLINGS
                  if re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d])", decoded)]
        if b.png and b.png in t:
            found.append("B's photo bytes")
        found += [f"link {m.group(0)}" for m in re.finditer(_links_of(b), decoded)]
    return found


def _links_of(b: Ids) -> str:
    """A pattern of links to B's objects (a list entry that shows no text still links)."""
    def alt(ids: list[int]) -> str:
        return "|".join(str(i) for i in ids)
    return (rf"/(?:unggahan|laporan/unggahan|api/v1/posts)/(?:{alt(b.posts)})(?![\d])"
            rf"|/(?:media|laporan/media)/(?:{alt(b.media)})(?![\d])"
            rf"|/akun/(?:{alt(b.channels)})/|/laporan/kampanye/(?:{alt(b.campaigns)})(?![\d])"
            rf"|/penayangan/(?:{alt(b.pubs)})/"
            rf"|/suara-warga/(?:{alt(b.comments)})(?![\d])"
            rf"|/(?:templat|tagar)/(?:{alt(b.templates + b.tagsets)})(?![\d])")


def fingerprint(core: Any, b: Ids) -> dict[str, list[tuple]]:
    """Every row that belongs to unit B or points at one of B's objects, in every table of
    both metadatas (a table added later is covered by its id columns)."""
    own = {"units": {b.unit}, "users": set(b.users), "channels": set(b.channels),
           "posts": set(b.posts), "publications": set(b.pubs), "media_assets": set(b.media),
           "campaigns": set(b.campaigns), "pauses": set(b.pauses),
           "citizen_comments": set(b.comments)}
    refs = {"unit_id": own["units"], "user_id": own["users"], "author_id": own["users"],
            "uploaded_by": own["users"], "actor_id": own["users"], "created_by": own["users"],
            "approved_by": own["users"], "channel_id": own["channels"],
            "post_id": own["posts"], "publication_id": own["publications"],
            "media_id": own["media_assets"], "campaign_id": own["campaigns"],
            "comment_id": own["citizen_comments"], "origin_unit_id": own["units"]}
    locks = {f"channel:{c}" for c in b.channels}
    out: dict[str, list[tuple]] = {}
    tables = [*Base.metadata.sorted_tables, *JobBase.metadata.sorted_tables]
    with core.engine.connect() as conn:
        for table in tables:
            rows = []
            for row in conn.execute(select(table)).mappings():
                mine = row.get("id") in own.get(table.name, ()) or any(
                    row.get(col) in ids for col, ids in refs.items() if col in row)
                payload = row.get("payload")
                if isinstance(payload, str):
                    payload = json.loads(payload)
                if isinstance(payload, dict) and payload.get("publication_id") in b.pubs:
                    mine = True
                if row.get("lock_key") in locks:
                    mine = True
                if mine:
                    rows.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
            out[table.name] = sorted(rows)
    return out


def _send(client: Any, step: Step, url: str, b: Ids, headers: dict[str, str]) -> Any:
    kind, body = _bodies(b).get(step.endpoint, ("form", {}))
    api = url.startswith("/api/")
    method = getattr(client, step.method.lower())
    if kind == "file":
        data = {"file": (io.BytesIO(b.png), "unggahan-a.png")}
        return method(url, data=data, headers=headers, content_type="multipart/form-data")
    if api or kind == "json":
        return method(url, json=body, headers=headers, follow_redirects=True)
    return method(url, data=form_for(b), headers=headers, follow_redirects=True)


def _login(client: Any, user: User) -> None:
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True


# ------------------------------------------------------------------------------------ tests

def test_every_route_is_walked_or_allow_listed(app):  # type: ignore[no-untyped-def]
    steps, unknown = plan(app)
    assert unknown == [], "routes the isolation walk cannot fill: teach _filler or ALLOW them"
    existing = {(r.endpoint, m) for r in app.url_map.iter_rules() for m in r.methods}
    assert [k for k in ALLOW if k not in existing] == [], "stale ALLOW entries"
    walked = {s.endpoint for s in steps}
    # The parts the issue names are walked, not allow-listed.
    for must in ("calendar.index", "dashboard.index", "approvals.index", "notifications.index",
                 "notifications.count", "reports.index", "reports.export_csv",
                 "reports.export_xlsx", "reports.printable", "api.reports_engagement",
                 "posts.upload", "api.upload_media", "public.report_csv", "inbox.index",
                 "inbox.detail", "inbox.forward", "inbox.status", "inbox.categorise",
                 "posts.templates_index", "posts.template_edit", "posts.template_create",
                 "posts.template_delete", "posts.tagset_edit", "posts.tagset_create",
                 "posts.tagset_delete"):
        assert must in walked


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.APPROVER])
def test_unit_a_sees_and_changes_nothing_of_unit_b(app, client, core, units, world,
                                                   token_for, role):  # type: ignore[no-untyped-def]
    a, b = world["a"], world["b"]
    with core.sessions.begin() as s:
        me = org.create_user(s, email=f"walker.{role}@example.go.id", name="Pejalan A",
                             role=role, unit=s.get(Unit, units["a"].id), password="rahasia123",
                             check_strength=False)
    _login(client, me)
    headers = {"Authorization": f"Bearer {token_for(me)}"}
    steps, unknown = plan(app)
    assert not unknown
    before = fingerprint(core, b)
    assert before["posts"] and before["channels"] and before["media_assets"]

    problems: list[str] = []
    a_ok: set[str] = set()

    def check(label: str, r: Any) -> None:
        if r.status_code >= 500:
            problems.append(f"{label}: {r.status_code}")
        for leak in leaks(r.get_data(), b):
            problems.append(f"{label} ({r.status_code}): {leak}")

    for step in steps:
        if step.method != "GET":
            continue
        if not step.args:
            for url in variants(step.rule, b):
                check(f"GET {url}", client.get(url, headers=headers))
            continue
        a_status = set()
        for url in urls(app, step, a):
            r = client.get(url, headers=headers)
            check(f"GET {url} (A's id)", r)
            a_status.add(r.status_code)
        if 200 in a_status:
            a_ok.add(step.endpoint)
        for url in urls(app, step, b):
            r = client.get(url, headers=headers)
            check(f"GET {url}", r)
            if 200 in a_status and "provider" not in step.args and r.status_code not in (403, 404):
                problems.append(f"GET {url}: {r.status_code} for B's object (A's: {a_status})")

    for step in steps:
        if step.method == "GET":
            continue
        targets = list(urls(app, step, b)) if step.args else [step.rule]
        for url in targets:
            r = _send(client, step, url, b, headers)
            check(f"{step.method} {url}", r)
            if step.endpoint in UPLOADS:
                if r.status_code != 201 or r.get_json()["id"] in b.media:
                    problems.append(f"{step.method} {url}: {r.status_code} {r.get_data()[:200]!r}"
                                    " (A's upload of B's bytes must be A's own new asset)")
            elif step.endpoint not in ACCEPTED_WRITES and "provider" not in step.args \
                    and r.status_code not in (400, 403, 404):
                problems.append(f"{step.method} {url}: {r.status_code} with B's ids")
        now = fingerprint(core, b)
        changed = [t for t in now if now[t] != before[t]]
        if changed:
            problems.append(f"{step.method} {step.rule}: B's rows changed in {changed}")
            before = now

    assert problems == [], "\n".join(problems)
    # The comparison with A's own ids is not hollow: A's objects open on these routes.
    assert {"posts.detail", "posts.media_file", "reports.post_detail", "reports.campaign",
            "reports.thumbnail", "api.get_post", "api.publication_attempts",
            "api.publication_metrics", "channels.reconnect", "posts.template_edit",
            "posts.tagset_edit"} <= a_ok


def test_the_admin_sees_every_marker_of_b(app, client, core, world, token_for):  # type: ignore[no-untyped-def]
    """The region-wide role sees everything: the markers are rendered where a broken scope
    would leak them, so their absence for unit A means something."""
    b, admin = world["b"], world["admin"]
    _login(client, admin)
    headers = {"Authorization": f"Bearer {token_for(admin)}"}
    steps, _unknown = plan(app)
    seen: dict[str, set[str]] = {}
    for step in steps:
        if step.method != "GET":
            continue
        targets = (list(urls(app, step, b)) if step.args
                   else variants(step.rule, b))
        for url in targets:
            r = client.get(url, headers=headers)
            assert r.status_code < 500, url
            for leak in leaks(r.get_data(), b):
                seen.setdefault(leak.split(":")[0].split(" ")[0], set()).add(step.endpoint)
    text_pages = seen.get("text", set())
    for part in ("calendar.index", "dashboard.index", "approvals.index", "notifications.index",
                 "reports.index", "reports.export_csv", "reports.export_xlsx", "posts.index",
                 "posts.detail", "channels.index", "api.list_posts", "api.get_post",
                 "admin.audit", "reports.campaigns", "posts.templates_index",
                 "posts.template_edit", "posts.tagset_edit"):
        assert part in text_pages, (part, sorted(text_pages), seen)
    assert "figure" in seen and "reports.index" in seen["figure"]
    assert "B's" in seen and "posts.media_file" in seen["B's"]


@pytest.mark.parametrize("route", ["ui", "api"])
def test_same_file_in_two_units_makes_two_assets(client, core, world, units, token_for,
                                                  route):  # type: ignore[no-untyped-def]
    """De-duplication is per unit: unit A uploading the very bytes unit B uploaded gets an
    asset of its own (so B's asset, its name and its posts stay B's), and uploading them again
    in A gives A's asset back."""
    b = world["b"]
    with core.sessions.begin() as s:
        me = org.create_user(s, email="pengunggah@example.go.id", name="Pengunggah A",
                             role=Role.OPERATOR, unit=s.get(Unit, units["a"].id))
    _login(client, me)
    headers = {"Authorization": f"Bearer {token_for(me)}"}
    url = "/media/unggah" if route == "ui" else "/api/v1/media"

    def upload() -> int:
        r = client.post(url, data={"file": (io.BytesIO(b.png), "punya-a.png")},
                        headers=headers, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_data(as_text=True)
        assert MARKER not in r.get_data(as_text=True).lower()
        return int(r.get_json()["id"])

    first = upload()
    assert first not in b.media
    assert upload() == first
    with core.sessions() as s:
        mine = s.get(MediaAsset, first)
        theirs = s.get(MediaAsset, b.media[0])
        assert (mine.unit_id, mine.original_name) == (units["a"].id, "punya-a.png")
        assert (theirs.unit_id, theirs.original_name) == (units["b"].id, f"{MARKER}-foto.png")
        assert mine.sha256 == theirs.sha256
        n = len(s.execute(select(MediaAsset.id).where(MediaAsset.sha256 == mine.sha256)).all())
        assert n == 2
    # A's copy serves the bytes to A; B's asset id still answers 404 to A.
    assert client.get(f"/media/{first}").get_data() == b.png
    assert client.get(f"/media/{b.media[0]}").status_code == 404

