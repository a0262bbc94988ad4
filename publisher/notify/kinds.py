"""Which audit events become notifications, of which kind, and for whom.

The bell (``web/ui/notifications/feed.py``) and the outgoing messages share ``concerns``: a
person gets an e-mail exactly for what their bell shows them, never more.
"""

from __future__ import annotations

from publisher.models import AuditEvent, Role, User

#: audit action -> notification kind (what a preference is set for).
KIND_OF: dict[str, str] = {
    "post.submit": "approval_requested",
    "post.approve": "approved",
    "post.reject": "rejected",
    # Review stages (``services/review_stages.py``): a stage approved, the next stage's people
    # are asked; a post waiting too long at a stage, its people are reminded (once).
    "post.stage_approve": "approval_requested",
    "post.stage_reminder": "approval_requested",
    "publication.published": "published",
    "publication.failed": "failed",
    "publication.unconfirmed": "unconfirmed",
    "publication.missed": "missed",
    "channel.needs_reauth": "needs_reauth",
    # A citizen's comment handed to a unit (``services/inbox.forward``): that unit hears of it.
    "comment.forward": "comment_forwarded",
    # A comment still open when its working-day deadline passed (``notify/inbox_overdue.py``
    # sweeps them, once per comment): the unit that must answer it hears of it.
    "comment.overdue": "comment_overdue",
    # A campaign message ("narasi tunggal") sent to a unit (``services/fanout.py``): the
    # receiving unit's people hear that their draft is waiting.
    "fanout.receive": "fanout_received",
    # Admins only (``publisher/notify/admin.py`` records them):
    "system.worker_stopped": "worker_stopped",
    "channel.token_expiring": "token_expiring",
    "channel.quota_exhausted": "quota_exhausted",
}
#: The kinds in the order the preferences form lists them.
#: Each kind once, in the order above (several actions may share a kind: review stages).
KINDS: tuple[str, ...] = tuple(dict.fromkeys(KIND_OF.values()))
#: Kinds that break quiet hours: something is broken and waiting makes it worse.
URGENT: frozenset[str] = frozenset({"failed", "needs_reauth", "worker_stopped"})
#: The pseudo-kind of the preference row holding the daily digest's hour (``digest.py``).
DIGEST_PREF = "digest_at"
#: The weekly report to leaders (``weekly.py``): a preference row of this pseudo-kind (channel
#: ``email``) means "send me the weekly report", and its deliveries carry this kind. It is no
#: audit event's kind: the report is made by the calendar, not by something that happened.
WEEKLY_REPORT = "weekly_report"
#: Preference rows that are settings, not a kind's channel (``hook.wanted`` ignores them).
PSEUDO_KINDS = (DIGEST_PREF, WEEKLY_REPORT)
#: Deliveries the daily digest never gathers: urgent ones, and the weekly report (a message of
#: its own, with its attachment).
NEVER_DIGESTED: frozenset[str] = URGENT | {WEEKLY_REPORT}
#: Kinds only administrators hear of (the installation's health, not one unit's work).
ADMIN_ONLY: frozenset[str] = frozenset({"worker_stopped", "token_expiring", "quota_exhausted"})
ADMIN_ACTIONS = ("system.worker_stopped", "channel.token_expiring", "channel.quota_exhausted")
#: The bell's own line for a message that could not reach its recipient (never sent out
#: itself: it is not in ``KIND_OF``).
UNDELIVERABLE = "notify.undeliverable"



def kinds_for(user: User) -> tuple[str, ...]:
    """The kinds ``user`` can ever hear of, in the form's order: the installation's health
    (``ADMIN_ONLY``) only for administrators, so nobody is offered a choice that never sends."""
    if user.role == Role.ADMIN:
        return KINDS
    return tuple(k for k in KINDS if k not in ADMIN_ONLY)


POST_ACTIONS = ("post.submit", "post.approve", "post.reject", "post.stage_approve",
                "post.stage_reminder")
#: Stage events whose ``data["waiting_kind"]`` names who must act: for the region's verifier
#: stage, verifiers of every unit hear of them.
STAGE_ACTIONS = ("post.stage_approve", "post.stage_reminder")
COMMENT_ACTIONS = ("comment.forward", "comment.overdue")
#: About a post of the unit, for the unit's people (not every admin).
FANOUT_ACTIONS = ("fanout.receive",)
PUBLICATION_ACTIONS = ("publication.published", "publication.failed",
                       "publication.unconfirmed", "publication.missed")


def concerns(user: User, event: AuditEvent, author_id: int | None) -> bool:
    """Whether ``event`` is news for ``user``: authors hear about their posts, approvers (and
    admins) about submissions and problems in the units they look after, everybody in a unit
    that one of its channels needs reconnecting; nobody about their own action."""
    if event.actor_id is not None and event.actor_id == user.id:
        return False
    if event.action == UNDELIVERABLE:
        return event.object_id == user.id
    if event.action in ADMIN_ACTIONS:
        return user.role == Role.ADMIN
    if event.action in STAGE_ACTIONS:
        return _acts_at_stage(user, event, author_id)
    if user.role != Role.ADMIN and event.unit_id != user.unit_id:
        return False
    if event.action == "channel.needs_reauth":
        return True
    if event.action in FANOUT_ACTIONS:
        return user.role != Role.ADMIN  # the receiving unit's people
    if event.action in COMMENT_ACTIONS:
        return user.role != Role.ADMIN  # the receiving unit's people, not every admin
    approver = user.role in (Role.APPROVER, Role.ADMIN)
    is_author = author_id is not None and author_id == user.id
    if event.action == "post.submit":
        return approver and not is_author
    if event.action in ("post.approve", "post.reject", "publication.published"):
        return is_author
    return is_author or approver  # failed / unconfirmed / missed


def _acts_at_stage(user: User, event: AuditEvent, author_id: int | None) -> bool:
    """A stage event is news for the people who can act at the stage the post now waits at:
    the region's verifiers (any unit) or the unit's approvers and admins; never its author."""
    if author_id is not None and author_id == user.id:
        return False
    kind = (event.data or {}).get("waiting_kind")
    if kind is None:
        return False
    if kind == "region_verifier":
        return bool(user.region_verifier)
    return user.role in (Role.APPROVER, Role.ADMIN) and (
        user.role == Role.ADMIN or event.unit_id == user.unit_id)
