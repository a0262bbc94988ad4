"""The API's routes: parse, authorise, call a service, serialise. No business rule lives here."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from adapters import get_adapter_class
from publisher.models import MetricSnapshot, Post, PostStatus, Publication, PublishAttempt, User
from publisher.models.post import OVERALL_STATUSES
from publisher.services import channels as channel_svc
from publisher.services import media as media_svc
from publisher.services import policy_gate, review_stages
from publisher.services import posts as post_svc
from publisher.services import publications as pub_svc
from publisher.services.access import get_scoped, scope
from publisher.services.approval import content_hash
from publisher.services.errors import Invalid
from publisher.services.post_search import MAX_PAGE, MAX_PER_PAGE, PostFilter, search_posts
from publisher.services.query_args import choice_arg, int_arg, small_int, time_arg
from publisher.timeutil import BadTime, home_zone, parse_time
from web.api import bp
from web.api import schemas as S
from web.api.auth import current_user, require_token
from web.api.spec import Param, endpoint, openapi_document
from web.app import db, get_core


def _iso(dt):  # type: ignore[no-untyped-def]
    return dt.isoformat() if dt else None


def publication_out(pub: Publication) -> dict[str, Any]:
    return {"id": pub.id, "channel": pub.channel_id, "platform": pub.channel.platform,
            "status": pub.status, "scheduled_at": _iso(pub.scheduled_at),
            "external_id": pub.external_id, "permalink": pub.permalink, "error": pub.error,
            "error_en": pub.error_en, "attempts": pub.attempts,
            "published_at": _iso(pub.published_at),
            "progress": ({"done": pub.progress_done, "total": pub.progress_total}
                         if pub.progress_total else None),
            "next_metrics_at": _iso(pub.next_metrics_at)}


def post_out(post: Post, views: list[review_stages.StageView] | None = None) -> dict[str, Any]:
    """A post as the API shows it. Its publications come from ``post.publications``: loaded
    with the page by ``search_posts``, or by one query for a single post."""
    return {"id": post.id, "unit": post.unit_id, "author": post.author_id, "status": post.status,
            "body": post.body, "link": post.link, "campaign": post.campaign_id,
            "channels": post.channel_ids, "media": [m.id for m in post.media],
            "media_alt": {str(link.media_id): link.alt_text for link in post.media_links
                          if link.alt_text},
            "scheduled_at": _iso(post.scheduled_at), "overrides": post.overrides or {},
            "recurrence": recurrence_out(post),
            "rejection_comment": post.rejection_comment, "approved_by": post.approved_by,
            "approved_at": _iso(post.approved_at), "created_at": _iso(post.created_at),
            "updated_at": _iso(post.updated_at),
            "overall_status": post.overall_status, "content_hash": content_hash(post),
            "publications": [publication_out(p) for p in post.publications]} | stages_out(
                post, views)


def stages_out(post: Post, views: list[review_stages.StageView] | None = None
               ) -> dict[str, Any]:
    """The post's review stages (issue 20): each with who approved it and when, for its
    current content, and the number of the stage it waits at (``null``: not waiting).
    ``views``: computed with the page (``stage_views_many``), else read for this post."""
    if views is None:
        views = review_stages.stage_views(db(), post)
    return {"stages": [{"number": v.number, "kind": v.kind, "approved_by": v.approver_id,
                        "approved_at": _iso(v.approved_at), "current": v.current}
                       for v in views],
            "waiting_stage": next((v.number for v in views if v.current), None)}


def recurrence_out(post: Post) -> dict[str, Any] | None:
    """The post's rule in the shape the API accepts it (``S.Recurrence``), with its zone."""
    r = post.recurrence
    if r is None:
        return None
    nth = r.freq == "monthly_nth"
    return {"freq": r.freq, "weekdays": None if nth else list(r.weekdays or []) or None,
            "month_day": r.month_day, "nth": r.nth,
            "weekday": r.weekdays[0] if nth and r.weekdays else None,
            "until": r.until.isoformat() if r.until else None, "count": r.count,
            "timezone": r.timezone}


def _recurrence_in(data: S.PostCreate | S.PostPatch) -> dict[str, Any] | None:
    """The rule for the service: absent = unchanged, null = none."""
    if "recurrence" not in data.model_fields_set:
        return None
    return data.recurrence.model_dump(exclude_none=True) if data.recurrence else {}


def _time(value: str | None, field: str):  # type: ignore[no-untyped-def]
    if value is None or value == "":
        return None
    try:
        # Like the composer page: a time without an offset is the caller's unit's local time.
        return parse_time(value, home_zone(current_user(), get_core().settings.timezone))
    except BadTime as exc:
        raise Invalid("Format waktu tidak dikenali.", str(exc), fields={field: str(exc)}) from None


def _post_input(data: S.PostCreate | S.PostPatch) -> post_svc.PostInput:
    fields = data.model_fields_set
    return post_svc.PostInput(
        body=data.body, channels=data.channels, media=data.media,
        scheduled_at=_time(data.scheduled_at, "scheduled_at"),
        clear_schedule="scheduled_at" in fields and not data.scheduled_at,
        link=data.link, campaign=data.campaign,
        overrides=({k: v.model_dump(exclude_none=True) for k, v in data.overrides.items()}
                   if data.overrides is not None else None),
        media_alt=dict(data.media_alt) if data.media_alt is not None else None,
        recurrence=_recurrence_in(data),
        fields_set=set(fields))


# -- channels ---------------------------------------------------------------------------------
@endpoint("GET", "/channels", "List the caller's unit's channels", response=S.ChannelList)
@require_token
def list_channels():  # type: ignore[no-untyped-def]
    from publisher.models import Channel

    rows = db().execute(scope(select(Channel), current_user(), Channel.unit_id)
                        .order_by(Channel.id)).scalars().all()
    return jsonify(channels=[channel_svc.public_view(c) for c in rows])


@endpoint("POST", "/channels", "Create a channel (credentials verified, never returned)",
          body=S.ChannelCreate, response=S.ChannelOut)
@require_token
def create_channel(data: S.ChannelCreate):  # type: ignore[no-untyped-def]
    s = db()
    ch = channel_svc.create_channel(get_core(), s, current_user(), platform=data.platform,
                                    name=data.name, credentials=data.credentials,
                                    unit_id=data.unit)
    s.commit()
    return jsonify(channel_svc.public_view(ch)), 201


# -- media ------------------------------------------------------------------------------------
@endpoint("POST", "/media", "Create a media asset (multipart upload, field 'file')",
          response=S.MediaOut, multipart=True)
@require_token
def upload_media():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("Sertakan berkas pada kolom 'file'.", "Attach the file as field 'file'.",
                      fields={"file": "required"})
    s = db()
    asset = media_svc.upload_media(get_core(), s, current_user(), upload.stream,
                                   upload.filename or "")
    s.commit()
    return jsonify(id=asset.id, kind=asset.kind, mime=asset.mime, size=asset.size,
                   width=asset.width, height=asset.height, sha256=asset.sha256), 201


# -- posts ------------------------------------------------------------------------------------
_LOCAL = ("ISO 8601 date or date and time. Without an offset it is local time in the "
          "caller's unit's zone (WARTA_TIMEZONE for a user without a unit), as on the posts "
          "page; a date alone is that day's local midnight")


def _post_filter(user: User) -> PostFilter:
    """The list's filters from the query string. Unreadable ids and times are a 400 naming
    the parameter (an ignored filter would look like an answer); ids of things the caller
    cannot see are not checked here: ``search_posts`` scopes first, so they find nothing."""
    args, zone = request.args, home_zone(user, get_core().settings.timezone)
    return PostFilter(status=choice_arg(args, "status", PostStatus),
                      overall_status=choice_arg(args, "overall_status", OVERALL_STATUSES),
                      text=args.get("q"),
                      channel_id=int_arg(args, "channel"), campaign_id=int_arg(args, "campaign"),
                      author_id=int_arg(args, "author"),
                      created_from=time_arg(args, "created_from", zone),
                      created_before=time_arg(args, "created_before", zone))


@endpoint("GET", "/posts", "List posts, newest first", response=S.PostList,
          query={"status": "filter by status: draft | submitted | approved | rejected | "
                           "cancelled",
                 "overall_status": "filter by the status rolled up from the publications (as "
                                   "overall_status in the answer): " + " | ".join(
                                       OVERALL_STATUSES),
                 "q": "text search (literal, any case)",
                 "channel": Param("only posts to this channel id", "integer"),
                 "campaign": Param("only posts of this campaign id", "integer"),
                 "author": Param("only posts written by this user id", "integer"),
                 "created_from": f"only posts created at or after this time. {_LOCAL}",
                 "created_before": f"only posts created before this time (exclusive: "
                                   f"created_before=2026-12-01 ends with November). {_LOCAL}",
                 "page": Param("page number", "integer"),
                 "per_page": Param("page size (max 100)", "integer")})
@require_token
def list_posts():  # type: ignore[no-untyped-def]
    user = current_user()
    flt = _post_filter(user)
    page = int_arg(request.args, "page", minimum=1, maximum=MAX_PAGE)
    per_page = int_arg(request.args, "per_page", minimum=1, maximum=MAX_PER_PAGE)
    found = search_posts(db(), user, flt, page=1 if page is None else page,
                         per_page=20 if per_page is None else per_page)
    views = review_stages.stage_views_many(db(), found.items)
    return jsonify(posts=[post_out(p, views[p.id]) for p in found.items], total=found.total,
                   page=found.page,
                   per_page=found.per_page)


@endpoint("POST", "/posts", "Create a post (a draft)", body=S.PostCreate, response=S.PostOut)
@require_token
def create_post(data: S.PostCreate):  # type: ignore[no-untyped-def]
    s = db()
    post = post_svc.create_post(get_core(), s, current_user(), _post_input(data))
    s.commit()
    return jsonify(post_out(post)), 201


@endpoint("GET", "/posts/{id}", "Read a post with its publications", response=S.PostOut)
@require_token
def get_post(id: int):  # type: ignore[no-untyped-def]
    return jsonify(post_out(get_scoped(db(), Post, id, current_user())))


@endpoint("PATCH", "/posts/{id}", "Edit a post (voids an approval)", body=S.PostPatch,
          response=S.PostOut)
@require_token
def patch_post(id: int, data: S.PostPatch):  # type: ignore[no-untyped-def]
    s = db()
    post = post_svc.update_post(get_core(), s, current_user(), id, _post_input(data))
    s.commit()
    return jsonify(post_out(post))


@endpoint("POST", "/posts/{id}/duplicate",
          "Copy a post as a new draft of its unit (disabled channels left out)",
          response=S.PostOut, status=201)
@require_token
def duplicate_post(id: int):  # type: ignore[no-untyped-def]
    """The UI's "duplicate as new draft": anyone who can see the post may copy it (the rule
    and its unit check are ``posts.duplicate_post``'s); the copy is the caller's draft."""
    s = db()
    post = post_svc.duplicate_post(get_core(), s, current_user(), id)
    s.commit()
    return jsonify(post_out(post)), 201


def _transition(fn, id: int, *args: Any):  # type: ignore[no-untyped-def]
    s = db()
    post = fn(get_core(), s, current_user(), id, *args)
    s.commit()
    return jsonify(post_out(post))


@endpoint("POST", "/posts/{id}/submit",
          "Submit for approval (a broken hard policy rule is a 400 policy naming it)",
          response=S.PostOut,
          query={"acknowledge": "comma-separated ids of the soft policy rules whose violations "
                                "you acknowledge (else a 400 policy_ack_needed names them)"})
@require_token
def submit_post(id: int):  # type: ignore[no-untyped-def]
    raw = request.args.get("acknowledge", "")
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if any(small_int(p) is None for p in parts):
        raise Invalid("acknowledge harus daftar nomor aturan dipisah koma.",
                      "acknowledge must be rule ids separated by commas.",
                      fields={"acknowledge": "comma-separated rule ids"})
    return _transition(post_svc.submit_post, id, {int(p) for p in parts})


@endpoint("GET", "/posts/{id}/policy",
          "The post's policy violations now, and those acknowledged at its submit")
@require_token
def post_policy(id: int):  # type: ignore[no-untyped-def]
    s = db()
    post = get_scoped(s, Post, id, current_user())
    return jsonify({
        "violations": [{"rule": v.rule_id, "kind": v.kind, "severity": v.severity,
                        "message": str(v.message), "message_en": v.message.en}
                       for v in policy_gate.check_post(get_core(), s, post)],
        "acknowledged": [{"rule": a.rule_id, "message": a.message, "message_en": a.message_en,
                          "by": a.user_id, "at": _iso(a.created_at)}
                         for a in policy_gate.acks_for(s, [post])[post.id]]})


@endpoint("POST", "/posts/{id}/approve", "Approve (someone who wrote none of its content)",
          response=S.PostOut,
          query={"publish_now": Param("true: the post's time has passed; publish it now "
                                      "(without it such an approval is a 409 time_passed)",
                                      "boolean"),
                 "content_hash": "the post's content_hash as you read it: if the post "
                                 "changed since, nothing is approved (409 changed)"})
@require_token
def approve_post(id: int):  # type: ignore[no-untyped-def]
    raw = request.args.get("publish_now", "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise Invalid("publish_now harus true atau false.", "publish_now must be true or false.",
                      fields={"publish_now": "true | false"})
    seen = request.args.get("content_hash")
    if seen is not None and not (len(seen) == 64 and all(c in "0123456789abcdef" for c in seen)):
        raise Invalid("content_hash harus 64 karakter heksadesimal dari unggahan.",
                      "content_hash must be the post's 64 hexadecimal characters.",
                      fields={"content_hash": "64 hex"})
    s = db()
    post = post_svc.approve_post(get_core(), s, current_user(), id, seen,
                                 publish_now=raw in ("true", "1"))
    s.commit()
    return jsonify(post_out(post))


@endpoint("POST", "/posts/{id}/reject", "Reject with a comment", body=S.RejectBody,
          response=S.PostOut)
@require_token
def reject_post(id: int, data: S.RejectBody):  # type: ignore[no-untyped-def]
    return _transition(post_svc.reject_post, id, data.comment)


@endpoint("POST", "/posts/{id}/cancel", "Cancel; open publications are cancelled",
          response=S.PostOut)
@require_token
def cancel_post(id: int):  # type: ignore[no-untyped-def]
    return _transition(post_svc.cancel_post, id)


# -- publications -----------------------------------------------------------------------------
@endpoint("POST", "/publications/{id}/retry", "Retry a failed/unconfirmed/missed publication",
          response=S.PublicationOut)
@require_token
def retry_publication(id: int):  # type: ignore[no-untyped-def]
    s = db()
    pub = pub_svc.retry_publication(get_core(), s, current_user(), id)
    s.commit()
    return jsonify(publication_out(pub))


@endpoint("POST", "/publications/{id}/mark-published",
          "Resolve an unconfirmed publication: it is there, here is its link",
          body=S.MarkPublishedBody, response=S.PublicationOut)
@require_token
def mark_published(id: int, data: S.MarkPublishedBody):  # type: ignore[no-untyped-def]
    s = db()
    pub = pub_svc.mark_published(get_core(), s, current_user(), id, data.permalink,
                                 data.external_id)
    s.commit()
    return jsonify(publication_out(pub))


@endpoint("GET", "/publications/{id}/attempts", "Publish attempts, for debugging",
          response=S.AttemptList)
@require_token
def publication_attempts(id: int):  # type: ignore[no-untyped-def]
    s = db()
    pub = pub_svc.get_publication(s, current_user(), id)
    rows = s.execute(select(PublishAttempt).where(PublishAttempt.publication_id == pub.id)
                     .order_by(PublishAttempt.id)).scalars().all()
    return jsonify(attempts=[{"id": a.id, "started_at": _iso(a.started_at),
                              "ended_at": _iso(a.ended_at), "outcome": a.outcome,
                              "http_status": a.http_status, "detail": a.detail,
                              "worker": a.worker} for a in rows])


@endpoint("GET", "/publications/{id}/metrics", "Engagement history (null = not available)",
          response=S.MetricsOut)
@require_token
def publication_metrics(id: int):  # type: ignore[no-untyped-def]
    s = db()
    pub = pub_svc.get_publication(s, current_user(), id)
    rows = s.execute(select(MetricSnapshot).where(MetricSnapshot.publication_id == pub.id)
                     .order_by(MetricSnapshot.collected_at)).scalars().all()
    try:
        available = sorted(get_adapter_class(pub.channel.platform).caps.metrics)
    except LookupError:
        available = []
    return jsonify(publication=pub.id, available=available, snapshots=[
        {"collected_at": _iso(r.collected_at), "likes": r.likes, "comments": r.comments,
         "shares": r.shares, "views": r.views, "impressions": r.impressions, "reach": r.reach,
         "saves": r.saves} for r in rows])


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(openapi_document())


