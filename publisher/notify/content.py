"""What a notification says, per kind, in the recipient's language.

Texts are English source strings looked up in the web UI's catalogue (``i18n.py``), so a
notification reads like the page it points to. Built at send time from the audit event and
the database as they are then (a retry hours later still names the post correctly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.support import NullTranslations
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, Channel, Post, Publication, User
from publisher.notify.i18n import translations
from publisher.timeutil import home_zone, zone_label

EXCERPT = 280


@dataclass(frozen=True)
class Content:
    """One message, ready for any notifier: plain paragraphs and one call to action."""

    locale: str
    subject: str
    greeting: str
    lines: list[str]
    action_label: str
    action_url: str
    settings_label: str
    settings_url: str
    footer: str
    #: (label, value) rows: the post's text, channels, time.
    facts: list[tuple[str, str]] = field(default_factory=list)


def _when(value: datetime | None, zone: str, locale: str) -> str:
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    pattern = "EEEE, d MMMM y HH.mm" if locale == "id" else "EEEE, d MMMM y HH:mm"
    return f"{format_datetime(local, pattern, locale=locale)} {zone_label(zone)}"


def _instant(raw: object) -> datetime | None:
    """An ISO time an event recorded, or ``None``."""
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    """The text on one line, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0] if " " in text[:limit - 1] else text[:limit - 1]
    return cut.rstrip(" ,.;:") + "…"


def build(session: Session, user: User, event: AuditEvent, kind: str, base_url: str,
          default_zone: str) -> Content:
    """The message about ``event`` for ``user``."""
    locale = user.locale if user.locale in ("id", "en") else "id"
    t = translations(locale)
    _ = t.gettext
    zone = home_zone(user, default_zone)
    post, pub, channel = _objects(session, event)
    facts: list[tuple[str, str]] = []
    if post is not None:
        facts.append((_("Text"), _excerpt(post.body)))
        names = [c.name for c in _channels(session, post)] if pub is None else []
        if channel is not None:
            names = [channel.name]
        if names:
            facts.append((_("Channels"), ", ".join(names)))
        when = pub.scheduled_at if pub is not None else post.scheduled_at
        facts.append((_("Scheduled"), _when(when, zone, locale) if when
                      else _("As soon as approved")))
    problem = str((event.data or {}).get("message") or "")
    if locale == "en" and pub is not None and pub.error_en:
        problem = pub.error_en  # the audit event keeps the Indonesian message
    subject, lines, label, path = _say(t, kind, event, post, channel, problem, zone, locale)
    if post is not None:
        subject = f"{subject}: {_excerpt(post.body, 60)}"
    return Content(
        locale=locale, subject=subject, greeting=_("Hello %(name)s,") % {"name": user.name},
        lines=lines, action_label=label, action_url=base_url + path,
        settings_label=_("Notification settings"),
        settings_url=base_url + "/profil/notifikasi", facts=facts,
        footer=_("You receive this e-mail because of your notification settings in Warta."))


def _say(t: NullTranslations, kind: str, event: AuditEvent, post: Post | None,
         channel: Channel | None, problem: str, zone: str,
         locale: str) -> tuple[str, list[str], str, str]:
    """(subject, paragraphs, action label, action path) of one kind."""
    _ = t.gettext
    data = event.data or {}
    post_path = f"/unggahan/{post.id}" if post is not None else "/"
    open_post = _("Open post #%(id)s") % {"id": post.id} if post is not None else "Warta"
    if kind == "approval_requested":
        return (_("Approval requested"),
                [_("A post is waiting for your approval.")],
                _("Go to approvals"), "/persetujuan")
    if kind == "approved":
        return _("Your post was approved"), [_("Your post was approved.")], open_post, post_path
    if kind == "rejected":
        reason = str(data.get("comment") or "")
        return (_("Your post was rejected"),
                [_("Your post was rejected."), _("Reason") + ": " + reason],
                open_post, post_path)
    if kind == "published":
        lines = [_("Published")]
        if data.get("permalink"):
            lines.append(str(data["permalink"]))
        return _("Published"), lines, open_post, post_path
    if kind == "needs_reauth":
        name = channel.name if channel is not None else ""
        ch_path = f"/akun/{channel.id}/sambung-ulang" if channel is not None else "/akun"
        return (_("A channel needs reconnecting"),
                [f"{_('A channel needs reconnecting')}: {name}", problem],
                _("Reconnect"), ch_path)
    if kind == "worker_stopped":
        return (_("No worker is running"),
                [_("No worker is running: nothing is published until one is started again"),
                 _("Last heartbeat") + ": " + str(data.get("last_tick_at") or "")],
                _("Open the health board"), "/")
    if kind == "token_expiring":
        name = channel.name if channel is not None else str(data.get("channel") or "")
        ch_path = f"/akun/{channel.id}/sambung-ulang" if channel is not None else "/akun"
        return (_("A channel's access expires soon") + f": {name}",
                [_("A channel's access expires on %(date)s: reconnect it before then")
                 % {"date": str(data.get("expires") or "")}],
                _("Reconnect"), ch_path)
    if kind == "quota_exhausted":
        name = channel.name if channel is not None else str(data.get("channel") or "")
        until = _when(_instant(data.get("until")), zone, locale)
        message = str((data.get("message_en") if locale == "en" else None)
                      or data.get("message") or "")
        return (_("A platform's limit holds a channel") + f": {name}",
                [_("%(channel)s reached its platform's limit: its publications wait until "
                   "%(time)s and then go out by themselves") % {"channel": name, "time": until},
                 message],
                _("Open the social accounts"), "/akun")
    if kind == "comment_forwarded":
        return (_("A citizen's comment was forwarded to your unit"),
                [_("A citizen's comment was forwarded to your unit"),
                 str(data.get("note") or "")],
                _("Open the comment"), f"/suara-warga/{event.object_id}")
    if kind == "fanout_received":
        return (_("A campaign message from Diskominfo arrived for your unit"),
                [_("A campaign message from Diskominfo is waiting as a draft of your unit: "
                   "check it, adapt it within the campaign's rules, and submit it.")],
                open_post, post_path)
    if kind == "comment_overdue":
        due = _when(_instant(data.get("due_at")), zone, locale)
        return (_("A citizen's comment is past its deadline"),
                [_("A citizen's comment to your unit is still unanswered: its deadline was "
                   "%(time)s") % {"time": due},
                 str(data.get("text") or "")],
                _("Open the comment"), f"/suara-warga/{event.object_id}")
    titles = {
        "failed": _("Publication failed"),
        "unconfirmed": _("Publication unconfirmed: check the account before publishing "
                         "again"),
        "missed": _("Publication missed: its time passed without it going out; reschedule "
                    "it or publish it now"),
    }
    title = titles.get(kind, kind)
    lines = [title] + ([problem] if problem else [])
    return title.split(":")[0], lines, open_post, post_path


def _objects(session: Session, event: AuditEvent
             ) -> tuple[Post | None, Publication | None, Channel | None]:
    if event.object_id is None:
        return None, None, None
    if event.object_type == "post":
        return session.get(Post, event.object_id), None, None
    if event.object_type == "publication":
        pub = session.get(Publication, event.object_id)
        if pub is None:
            return None, None, None
        return session.get(Post, pub.post_id), pub, session.get(Channel, pub.channel_id)
    if event.object_type == "channel":
        return None, None, session.get(Channel, event.object_id)
    return None, None, None


def _channels(session: Session, post: Post) -> list[Channel]:
    from publisher.models import PostChannel

    return list(session.execute(
        select(Channel).join(PostChannel, PostChannel.channel_id == Channel.id)
        .where(PostChannel.post_id == post.id).order_by(Channel.name)).scalars())
