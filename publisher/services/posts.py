"""The life of a post: compose, edit, submit, approve or reject, cancel, reschedule.

Every transition is checked here, not in the routes, so the API, the UI and the CLI obey the
same rules. Approval creates one publication per channel and its publish job in the same
transaction, so an approved post is never left without its jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import postqueue
from adapters.base import Problem
from publisher.core import Core
from publisher.models import (
    OPEN_PUBLICATION_STATES,
    Campaign,
    Channel,
    ChannelStatus,
    MediaAsset,
    Post,
    PostChannel,
    PostMedia,
    PostStatus,
    PostVersion,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.runtime import build_adapter, channel_credentials, preview_post
from publisher.services import (
    audit,
    channel_media,
    fanout_window,
    first_comment,
    policy_gate,
    recurrence,
    review_stages,
)
from publisher.services.access import can_see_unit, get_scoped
from publisher.services.approval import content_hash, text_hash
from publisher.services.errors import Conflict, Invalid, Text
from publisher.services.query_args import MAX_ID

MAX_BODY = 63_000


@dataclass
class PostInput:
    """What a person submits; ``None`` fields are left unchanged by an edit."""

    body: str | None = None
    channels: list[int] | None = None
    media: list[int] | None = None
    scheduled_at: datetime | None = None
    clear_schedule: bool = False
    link: str | None = None
    campaign: int | None = None
    overrides: dict[str, Any] | None = None
    #: Alt text per media id (what an image shows, for people who cannot see it).
    media_alt: dict[int, str] | None = None
    #: How the post repeats (``recurrence_rule.parse_rule``'s values); ``{}`` or freq
    #: "none" makes it a one-off post again, ``None`` leaves it as it is.
    recurrence: dict[str, Any] | None = None
    fields_set: set[str] = field(default_factory=set)


#: The link column's width: a longer link is a field error, not a database error.
MAX_LINK = 2000
#: The alt text column's width.
MAX_ALT = 1000


def _is_id(value: object) -> bool:
    """A number an id column can hold (PostgreSQL errors on a comparison with more)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


def _check_input(session: Session, actor: User, unit_id: int, data: PostInput,
                 creating: bool, current_media: list[int] | None = None,
                 current_channels: list[int] | None = None
                 ) -> tuple[list[Channel], list[MediaAsset]]:
    errors: dict[str, str] = {}
    channels: list[Channel] = []
    media: list[MediaAsset] = []
    if creating or data.body is not None:
        if data.body is None or not data.body.strip():
            errors["body"] = Text("Isi unggahan wajib diisi.", "The post body is required.")
        elif len(data.body) > MAX_BODY:
            errors["body"] = Text(f"Isi unggahan paling banyak {MAX_BODY} karakter.",
                                  f"The post body holds at most {MAX_BODY} characters.")
    if data.channels is not None:
        if not data.channels:
            errors["channels"] = Text("Pilih minimal satu akun.", "Choose at least one channel.")
        for cid in dict.fromkeys(data.channels):
            ch = session.get(Channel, cid) if _is_id(cid) else None
            if ch is None or ch.unit_id != unit_id or not can_see_unit(actor, ch.unit_id):
                errors["channels"] = Text(f"Akun #{cid} tidak ditemukan.",
                                          f"Channel #{cid} not found.")
                break
            if ch.status == ChannelStatus.DISABLED:
                errors["channels"] = Text(f"Akun '{ch.name}' dinonaktifkan.",
                                          f"Channel '{ch.name}' is disabled.")
                break
            channels.append(ch)
    if data.media is not None:
        for mid in dict.fromkeys(data.media):
            asset = session.get(MediaAsset, mid) if _is_id(mid) else None
            if asset is None or not (asset.unit_id == unit_id or asset.region_wide):
                errors["media"] = Text(f"Media #{mid} tidak ditemukan.", f"Media #{mid} not found.")
                break
            media.append(asset)
    for mid, alt in (data.media_alt or {}).items():
        if not isinstance(alt, str) or len(alt) > MAX_ALT:
            errors[f"alt_{mid}"] = Text(f"Teks alternatif paling banyak {MAX_ALT} karakter.",
                                        f"Alt text holds at most {MAX_ALT} characters.")
    if data.link is not None and data.link and not data.link.startswith(("http://", "https://")):
        errors["link"] = Text("Tautan harus diawali http:// atau https://.",
                              "A link must start with http:// or https://.")
    elif data.link and len(data.link) > MAX_LINK:
        errors["link"] = Text(f"Tautan paling banyak {MAX_LINK} karakter.",
                              f"A link holds at most {MAX_LINK} characters.")
    if data.campaign is not None:
        camp = session.get(Campaign, data.campaign) if _is_id(data.campaign) else None
        if camp is None or (camp.unit_id is not None and camp.unit_id != unit_id):
            errors["campaign"] = Text(f"Kampanye #{data.campaign} tidak ditemukan.",
                                      f"Campaign #{data.campaign} not found.")
    if data.overrides is not None:
        # an override is for a channel the post goes to: the ones chosen now, or its own
        allowed = {str(c) for c in (data.channels if data.channels is not None
                                    else current_channels or [])}
        for key, value in data.overrides.items():
            if not isinstance(value, dict) or set(value) - {"body", "title", "options", "media",
                                                            first_comment.KEY}:
                errors["overrides"] = ("Pengaturan per akun hanya boleh berisi body, title, "
                                       "options, media, first_comment.")
            elif str(key) not in allowed:
                errors["overrides"] = f"Pengaturan untuk akun #{key} yang tidak dipilih."
            elif "media" in value and (problem := channel_media.choice_error(
                    value["media"], data.media if data.media is not None
                    else current_media or [])):
                errors["overrides"] = problem
            elif first_comment.KEY in value and (problem := _first_comment_problem(
                    session, channels, key, value[first_comment.KEY], unit_id)):
                errors[f"first_comment_{key}"] = problem
    if errors:
        raise Invalid("Periksa kembali isian unggahan.", "Please check the post's fields.",
                      fields=errors)
    return channels, media


def _first_comment_problem(session: Session, channels: list[Channel], key: object,
                           value: object, unit_id: int) -> Text | None:
    """A first comment's problem on its channel (the one chosen now, or the post's own; never
    another unit's, whose platform is not said)."""
    ch = next((c for c in channels if str(c.id) == str(key)), None)
    if ch is None and str(key).isdigit() and _is_id(int(str(key))):
        ch = session.get(Channel, int(str(key)))
    if ch is None or ch.unit_id != unit_id:
        return Text(f"Akun #{key} tidak ditemukan.", f"Channel #{key} not found.")
    return first_comment.problem(ch.platform, value)


def _apply(post: Post, data: PostInput, channels: list[Channel], media: list[MediaAsset]) -> None:
    if data.body is not None:
        post.body = data.body
    if data.link is not None:
        post.link = data.link or None
    if data.campaign is not None or "campaign" in data.fields_set:
        post.campaign_id = data.campaign
    if data.scheduled_at is not None:
        post.scheduled_at = data.scheduled_at
    elif data.clear_schedule:
        post.scheduled_at = None
    if data.overrides is not None:
        post.overrides = {str(k): v for k, v in data.overrides.items()}
    if data.channels is not None:
        post.channel_links = [PostChannel(channel_id=c.id) for c in channels]
        keep = {str(c.id) for c in channels}
        post.overrides = {k: v for k, v in (post.overrides or {}).items() if k in keep}
    alts = {k: v.strip() for k, v in (data.media_alt or {}).items()}
    if data.media is not None:
        old = {link.media_id: link.alt_text for link in post.media_links}
        # A newly attached asset brings the library's alt text as its default; one already
        # attached keeps the post's own (one photo can say different things in two posts).
        post.media_links = [PostMedia(position=i, media_id=m.id, media=m,
                                      alt_text=alts.get(m.id, old[m.id] or "" if m.id in old
                                                        else (m.alt_text or "")))
                            for i, m in enumerate(media)]
        post.overrides = channel_media.prune(post.overrides, [m.id for m in media])
    else:
        for link in post.media_links:
            if link.media_id in alts:
                link.alt_text = alts[link.media_id]


#: How far in the past a chosen time may be: the minutes an operator spends filling the form
#: after picking "now". Older times are refused instead of turning straight into "missed".
PAST_GRACE = timedelta(minutes=5)
#: The last year a post may be scheduled in (the reports' own limit, ``period.MAX_YEAR``):
#: 9999-12-31 23:59 UTC is past the end of ``datetime`` once shown in WIB, and one such post
#: made every page that lists it a 500 for the whole unit.
LAST_YEAR = 9000


def refuse_past_time(core: Core, when: datetime | None, field: str = "scheduled_at") -> None:
    """A time already past cannot be a schedule: the post would go straight to "missed"
    while the screen said "will publish as scheduled". The message offers the way out. A time
    beyond ``LAST_YEAR`` is refused too (no page could show it)."""
    if when is not None and when < core.now() - PAST_GRACE:
        raise Invalid(
            "Waktu terbit sudah lewat. Pilih waktu yang akan datang, atau kosongkan waktunya "
            "agar terbit segera setelah disetujui.",
            "That time has already passed. Choose a time in the future, or leave it empty to "
            "publish as soon as it is approved.",
            fields={field: Text("Waktu ini sudah lewat; pilih waktu mendatang atau terbitkan "
                                "sekarang.", "This time has passed; choose a future time or "
                                "publish now.")}, code="time_passed")
    if when is not None and when.year > LAST_YEAR:
        raise Invalid(f"Waktu terbit paling lambat tahun {LAST_YEAR}.",
                      f"A post can be scheduled up to the year {LAST_YEAR}.",
                      fields={field: Text(f"Pilih waktu sebelum tahun {LAST_YEAR + 1}.",
                                          f"Choose a time before the year {LAST_YEAR + 1}.")},
                      code="time_too_far")


def create_post(core: Core, session: Session, actor: User, data: PostInput,
                unit_id: int | None = None) -> Post:
    unit_id = unit_id if (unit_id is not None and actor.role == Role.ADMIN) else actor.unit_id
    if unit_id is None:
        raise Invalid("Pilih unit untuk unggahan ini.", "Choose a unit for this post.",
                      fields={"unit": "required"})
    if data.channels is None:
        data.channels = []
    refuse_past_time(core, data.scheduled_at)
    channels, media = _check_input(session, actor, unit_id, data, creating=True)
    rule = recurrence.parse_input(core, session, unit_id, data.recurrence, data.scheduled_at,
                                  None)
    now = core.now()
    post = Post(unit_id=unit_id, author_id=actor.id, body="", status=PostStatus.DRAFT,
                overrides={}, created_at=now, updated_at=now)
    _apply(post, data, channels, media)
    if data.recurrence is not None:
        recurrence.set_rule(post, rule)
    session.add(post)
    session.flush()
    _record_version(core, session, post, actor)
    audit.record(session, "post.create", "post", post.id, actor=actor, unit_id=unit_id)
    return post


def _record_version(core: Core, session: Session, post: Post, actor: User) -> None:
    session.add(PostVersion(post_id=post.id, editor_id=actor.id,
                            content_hash=content_hash(post), created_at=core.now()))


def writers(session: Session, post: Post) -> set[int]:
    """Everyone who wrote any version of the post's content: its author and every editor."""
    editors = session.execute(select(PostVersion.editor_id)
                              .where(PostVersion.post_id == post.id)).scalars()
    return {post.author_id, *editors}


def may_approve(core: Core, session: Session, actor: User, post: Post) -> bool:
    """The four-eyes rule: an approver or admin who can see the post's unit and wrote none
    of its content (``WARTA_ALLOW_SELF_APPROVAL=1`` lifts the last condition)."""
    if actor.role not in (Role.APPROVER, Role.ADMIN) or not can_see_unit(actor, post.unit_id):
        return False
    return core.settings.allow_self_approval or actor.id not in writers(session, post)


def may_approve_now(core: Core, session: Session, actor: User, post: Post) -> bool:
    """Whether ``actor`` may approve the stage a submitted post waits at now (the approvals
    page asks it per post; ``approve_post`` says why not)."""
    stages = review_stages.stages_of(session, post)
    approvals = review_stages.valid_approvals(session, post.id, content_hash(post), stages)
    index = review_stages.current_stage(stages, approvals)
    if post.status != PostStatus.SUBMITTED or index >= len(stages):
        return False
    return review_stages.may_act(core, actor, post, stages[index], writers(session, post),
                                 {a.approver_id for i, a in approvals.items() if i != index})


def duplicate_post(core: Core, session: Session, actor: User, post_id: int, *,
                   keep_overrides: bool = True) -> Post:
    """A new draft with a post's content, in the post's unit, for reusing a message (a
    cancelled post cannot be edited, but it can be copied).

    Channels that are disabled now are left out, with their per-channel overrides, so the copy
    can be saved; it is a new post with its own approval, never a second publication of the
    original. ``keep_overrides=False`` drops the per-channel texts: the page asks, because
    after rewriting the main text a kept override would still send the old words there.
    """
    post = get_scoped(session, Post, post_id, actor)
    usable = [c for c in post.channel_ids
              if (ch := session.get(Channel, c)) is not None
              and ch.status != ChannelStatus.DISABLED]
    data = PostInput(body=post.body, channels=usable, media=[m.id for m in post.media],
                     media_alt={link.media_id: link.alt_text for link in post.media_links
                                if link.alt_text},
                     link=post.link or "", campaign=post.campaign_id,
                     overrides={k: v for k, v in (post.overrides or {}).items()
                                if int(k) in usable} if keep_overrides else {})
    data.fields_set.add("campaign")
    return create_post(core, session, actor, data, unit_id=post.unit_id)


def update_post(core: Core, session: Session, actor: User, post_id: int, data: PostInput) -> Post:
    """Edit a post. Any edit of a submitted, rejected or approved post returns it to draft,
    and an approval is voided: its not-yet-published publications are cancelled."""
    post = get_scoped(session, Post, post_id, actor, lock=True)
    if post.status == PostStatus.CANCELLED:
        raise Conflict("Unggahan yang dibatalkan tidak dapat diubah.",
                       "A cancelled post cannot be edited.", code="cancelled")
    if any(p.status == PublicationStatus.PUBLISHING for p in _publications(session, post.id)):
        raise Conflict("Unggahan sedang diterbitkan; tunggu sampai selesai.",
                       "The post is being published right now; wait until it finishes.",
                       code="publishing")
    refuse_if_published(session, post, "diubah", "edited")
    refuse_if_emergency(session, post)
    if data.scheduled_at is not None and data.scheduled_at != post.scheduled_at:
        refuse_past_time(core, data.scheduled_at)
    if (data.scheduled_at is not None and data.scheduled_at != post.scheduled_at) \
            or (data.scheduled_at is None and data.clear_schedule):
        fanout_window.refuse_outside_window(session, post.id, data.scheduled_at)
    channels, media = _check_input(session, actor, post.unit_id, data, creating=False,
                                   current_channels=post.channel_ids,
                                   current_media=[m.id for m in post.media])
    start = data.scheduled_at or (None if data.clear_schedule else post.scheduled_at)
    rule = recurrence.parse_input(core, session, post.unit_id, data.recurrence, start,
                                  post.recurrence)
    if rule is not None and fanout_window.fanout_of_post(session, post.id) is not None:
        # a campaign message goes out once, in its window: a series would leave it
        raise Invalid("Narasi tunggal kampanye tidak dapat dijadikan unggahan berulang.",
                      "A campaign message cannot be made a recurring post.",
                      fields={"recurrence": Text("Tidak untuk narasi tunggal.",
                                                 "Not for a campaign message.")})
    before, words_before = content_hash(post), text_hash(post)
    _apply(post, data, channels, media)
    if data.recurrence is not None:
        recurrence.set_rule(post, rule)
    session.flush()
    if content_hash(post) == before:  # alt texts are in it: their edit voids an approval
        return post
    if text_hash(post) != words_before:
        _record_version(core, session, post, actor)
    post.updated_at = core.now()
    previous = post.status
    if previous == PostStatus.APPROVED:
        _void_approval(core, session, post, actor, reason="edited")
    post.status = PostStatus.DRAFT
    # An edit at any stage restarts from the first: every stage's approval is voided.
    review_stages.void_all(core, session, post, actor, reason="edited")
    audit.record(session, "post.update", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"previous_status": previous})
    return post


def _publications(session: Session, post_id: int) -> list[Publication]:
    return list(session.execute(select(Publication).where(Publication.post_id == post_id))
                .scalars())


def _void_approval(core: Core, session: Session, post: Post, actor: User | None,
                   reason: str) -> None:
    post.approval_hash = None
    post.approved_at = None
    post.approved_by = None
    cancel_open_publications(core, session, post, actor, reason=reason)


def cancel_open_publications(core: Core, session: Session, post: Post, actor: User | None,
                             reason: str, *,
                             states: Sequence[str] = OPEN_PUBLICATION_STATES,
                             which: Callable[[Publication], bool] | None = None) -> int:
    """Cancel the post's publications in ``states`` (by default those not out yet that still
    may go), and their queued jobs, each audited ``publication.cancelled`` with ``reason``;
    ``which`` narrows the choice further."""
    cancelled = 0
    for pub in _publications(session, post.id):
        if pub.status in states and (which is None or which(pub)):
            pub.status = PublicationStatus.CANCELLED
            pub.updated_at = core.now()
            if pub.job_id:
                postqueue.queue.cancel(session, [pub.job_id], now=core.now())
            audit.record(session, "publication.cancelled", "publication", pub.id, actor=actor,
                         unit_id=post.unit_id, data={"reason": reason})
            cancelled += 1
    return cancelled


def _channel_problems(core: Core, session: Session,
                      post: Post) -> Iterator[tuple[Channel, list[Problem] | Exception]]:
    """Each channel of the post with its adapter's problems (``validate`` is pure: no
    network), or the exception that kept the channel from being checked."""
    for link in post.channel_links:
        ch = session.get(Channel, link.channel_id)
        if ch is None:
            continue
        try:
            adapter = build_adapter(core, ch.platform, channel_credentials(core, ch),
                                    state=dict(ch.state or {}))
            yield ch, adapter.validate(preview_post(post, ch, core.settings.media_dir))
        except Exception as exc:  # noqa: BLE001 - a broken channel must not hide the post
            yield ch, exc


def validation_problems(core: Core, session: Session, post: Post) -> dict[str, list[str]]:
    """Platform problems per channel name, found without any network call."""
    out: dict[str, list[str]] = {}
    for ch, problems in _channel_problems(core, session, post):
        if isinstance(problems, Exception):
            out[ch.name] = [f"Akun tidak dapat diperiksa: {problems}"]
        elif problems:
            out[ch.name] = [f"{p.message_id} / {p.message_en}" for p in problems]
    return out


def platform_problems(core: Core, session: Session, post: Post) -> list[Text]:
    """The same problems as ``validation_problems``, one ``Text`` each (the channel's name,
    then the platform's sentence), for a page that speaks one language (the bulk import)."""
    out: list[Text] = []
    for ch, problems in _channel_problems(core, session, post):
        if isinstance(problems, Exception):
            out.append(Text(f"{ch.name}: akun tidak dapat diperiksa; sambungkan ulang akunnya.",
                            f"{ch.name}: the channel cannot be checked; reconnect it."))
        else:
            out += [Text(f"{ch.name}: {p.message_id}", f"{ch.name}: {p.message_en}")
                    for p in problems]
    return out


def submit_post(core: Core, session: Session, actor: User, post_id: int,
                acknowledged: Iterable[int] = ()) -> Post:
    """Submit for approval. The policy rules are checked last (``policy_gate``): a hard
    violation refuses, a soft one must be among ``acknowledged`` (rule ids) and is recorded
    for the approver."""
    post = get_scoped(session, Post, post_id, actor, lock=True)
    if post.status not in (PostStatus.DRAFT, PostStatus.REJECTED):
        raise Conflict(f"Unggahan berstatus '{post.status}' tidak dapat diajukan.",
                       f"A post in status '{post.status}' cannot be submitted.",
                       code="bad_status")
    if not post.channel_links:
        raise Invalid("Pilih minimal satu akun sebelum mengajukan.",
                      "Choose at least one channel before submitting.",
                      fields={"channels": "required"})
    problems = validation_problems(core, session, post)
    if problems:
        raise Invalid("Unggahan belum memenuhi syarat platform.",
                      "The post does not meet the platforms' rules yet.",
                      fields={f"channel:{k}": "; ".join(v) for k, v in problems.items()},
                      code="platform_rules")
    policy_gate.enforce_on_submit(core, session, actor, post, set(acknowledged))
    post.status = PostStatus.SUBMITTED
    post.submitted_at = core.now()
    post.rejection_comment = None
    stages = review_stages.begin(core, session, post)
    audit.record(session, "post.submit", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"stages": stages} if len(stages) > 1 else None)
    return post


def refuse_if_emergency(session: Session, post: Post) -> None:
    """An emergency broadcast's post is what two admins confirmed: a unit may not edit or move
    it (the worker's freeze-window bypass is for that confirmed content only); a change is a
    new emergency."""
    from publisher.models.emergency import EmergencyPost

    if session.get(EmergencyPost, post.id) is not None:
        raise Conflict("Unggahan siaran darurat tidak dapat diubah atau dipindah; buat siaran "
                       "darurat baru bila perlu.", "An emergency broadcast's post cannot be "
                       "changed or moved; start a new emergency broadcast if needed.",
                       code="emergency")


def refuse_if_published(session: Session, post: Post, verb_id: str, verb_en: str) -> None:
    """What is live on a platform cannot be changed through Warta: an edit would store text
    that never went out, a cancel or a new time would only change what the screen says."""
    live = [p for p in _publications(session, post.id) if p.status == PublicationStatus.PUBLISHED]
    if live:
        raise Conflict(
            f"Unggahan ini sudah terbit di {len(live)} akun dan tidak dapat {verb_id} lewat "
            "Warta. Ubah atau hapus langsung di platformnya (lihat tautannya), atau buat "
            "unggahan baru dengan \"Duplikat\" untuk akun yang lain.",
            f"This post is already live on {len(live)} account(s) and cannot be {verb_en} "
            "through Warta. Change or delete it on the platform itself (see its links), or "
            "make a new post with \"Duplicate\" for the other accounts.", code="published")


def cancel_post(core: Core, session: Session, actor: User, post_id: int) -> Post:
    post = get_scoped(session, Post, post_id, actor, lock=True)
    if post.status == PostStatus.CANCELLED:
        return post
    if post.recurrence is None:  # a series may stop after some occurrences went out
        refuse_if_published(session, post, "dibatalkan", "cancelled")
    n = cancel_open_publications(core, session, post, actor, reason="post cancelled")
    post.status = PostStatus.CANCELLED
    audit.record(session, "post.cancel", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"publications_cancelled": n})
    return post


def send_back_for_approval(core: Core, session: Session, post: Post, actor: User,
                           reason: str) -> None:
    """Void an approval and put the post in the approvers' queue again (they are notified
    through the ``post.submit`` audit event, as for any submission)."""
    _void_approval(core, session, post, actor, reason=reason)
    review_stages.void_all(core, session, post, actor, reason=reason)
    post.status = PostStatus.SUBMITTED
    post.submitted_at = core.now()
    review_stages.begin(core, session, post)
    audit.record(session, "post.submit", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"reason": reason})


def reschedule_post(core: Core, session: Session, actor: User, post_id: int,
                    when: datetime) -> Post:
    """Move a post in time. The time is part of what was approved: an approver or admin who
    may approve the post keeps its approval (the hash is re-bound to the new time and the open
    publications move with it); anyone else sends it back for approval, its jobs cancelled."""
    post = get_scoped(session, Post, post_id, actor, lock=True)
    if post.status == PostStatus.CANCELLED:
        raise Conflict("Unggahan yang dibatalkan tidak dapat dijadwalkan ulang.",
                       "A cancelled post cannot be rescheduled.", code="cancelled")
    refuse_if_published(session, post, "dijadwalkan ulang", "rescheduled")
    refuse_if_emergency(session, post)
    refuse_past_time(core, when)
    fanout_window.refuse_outside_window(session, post.id, when)
    was_approved = post.status == PostStatus.APPROVED and post.approval_hash == content_hash(post)
    previous = post.scheduled_at
    post.scheduled_at = when
    post.updated_at = core.now()
    # A post of several stages goes back to its first: each stage approved the old time.
    kept = was_approved and may_approve(core, session, actor, post) \
        and not review_stages.is_multi(session, post)
    if kept:
        # the approval stands only if the new time obeys the hard rules (a daily limit on
        # the new day): else refuse, with the post, its jobs and its time unchanged
        try:
            policy_gate.enforce_on_approve(core, session, post)
        except Conflict:
            post.scheduled_at = previous
            raise
        post.approval_hash = content_hash(post)
        if post.recurrence is not None:
            recurrence.restart_series(core, session, post, actor)
        for pub in _publications(session, post.id) if post.recurrence is None else []:
            if pub.status == PublicationStatus.QUEUED:
                pub.scheduled_at = when
                if pub.job_id:
                    postqueue.queue.reschedule(session, pub.job_id, max(when, core.now()))
    elif was_approved:
        send_back_for_approval(core, session, post, actor, reason="rescheduled")
    elif post.status == PostStatus.SUBMITTED and review_stages.void_all(
            core, session, post, actor, reason="rescheduled", keep_review=True):
        review_stages.begin(core, session, post)  # stage approvals were of the old time
    audit.record(session, "post.reschedule", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"from": previous.isoformat() if previous else None,
                       "scheduled_at": when.isoformat(), "kept_approval": kept,
                       "back_to_approval": was_approved and not kept})
    return post


# Deciding on a submitted post lives in its own module (``post_decisions``); its three use
# cases are posts' too, so callers keep one place to import the life of a post from.
from publisher.services.post_decisions import (  # noqa: E402
    approve_post as approve_post,
)
from publisher.services.post_decisions import (  # noqa: E402
    approve_stage as approve_stage,
)
from publisher.services.post_decisions import (  # noqa: E402
    reject_post as reject_post,
)
