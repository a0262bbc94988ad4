"""How the audit log reads to a person: a label per action code, the object in words, and the
event's details as labelled values (times in the event's unit's zone), not a JSON dump of
codes and UTC timestamps.

Every code the code base records has a label here (``tests/web/test_audit_labels.py`` scans
the code for them); a code without one — an old event, a code added elsewhere — is shown as
it is, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from publisher.models import AuditEvent, Unit, User
from web.ui import helpers, labels

#: A label per action code (glossary-id.md words). ``publication.<status>`` is recorded by the
#: worker for every publication status, so each status has its entry.
ACTIONS: dict[str, Any] = {
    # users and sign-in
    "user.login": _l("Logged in"),
    "user.logout": _l("Logged out"),
    "user.locked": _l("User locked after failed sign-ins"),
    "user.unlock": _l("User unlocked"),
    "user.password": _l("Password changed"),
    "user.password_reset": _l("Password reset by an admin"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.totp_on": _l("Two-step sign-in turned on"),
    "user.totp_off": _l("Two-step sign-in turned off"),
    "user.totp_recovery_used": _l("Recovery code used"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    # units, campaigns, pauses
    "unit.create": _l("Unit created"),
    "unit.update": _l("Unit changed"),
    "campaign.create": _l("Campaign created"),
    "fanout.preapprove": _l("Diskominfo's stage approved for a campaign message's copies"),
    "fanout.create": _l("Campaign message written for the units"),
    "fanout.receive": _l("Campaign message received by a unit as a draft"),
    "pause.create": _l("Pause set"),
    "pause.lift": _l("Pause lifted"),
    "policy.create": _l("Policy rule added"),
    "policy.update": _l("Policy rule changed"),
    "policy.delete": _l("Policy rule deleted"),
    "policy.acknowledge": _l("Soft policy rule acknowledged at submit"),
    "template.create": _l("Post template added"),
    "template.update": _l("Post template changed"),
    "template.delete": _l("Post template deleted"),
    "hashtag_set.create": _l("Hashtag set added"),
    "hashtag_set.update": _l("Hashtag set changed"),
    "hashtag_set.delete": _l("Hashtag set deleted"),
    # social accounts
    "channel.create": _l("Social account connected"),
    "channel.reconnect": _l("Social account reconnected"),
    "channel.reconnect_refused": _l("Reconnect refused: credentials of another account"),
    "channel.token_expiring": _l("Social account's access expires soon"),
    "channel.quota_exhausted": _l("Social account held by its platform's limit"),
    "notify.undeliverable": _l("Notification could not be delivered"),
    "notify.webhook_add": _l("Webhook added"),
    "notify.webhook_remove": _l("Webhook removed"),
    "system.worker_stopped": _l("No worker running"),
    "user.notify_settings": _l("Notification settings changed"),
    "report.weekly": _l("Weekly report sent to leaders"),
    "report.recipient_add": _l("Weekly report recipient added"),
    "report.recipient_remove": _l("Weekly report recipient removed"),
    "user.telegram_link": _l("Telegram linked for notifications"),
    "user.telegram_unlink": _l("Telegram unlinked"),
    "channel.disable": _l("Social account disabled"),
    "channel.enable": _l("Social account enabled"),
    "channel.comments_on": _l("Reading citizens' replies switched on for a channel"),
    "channel.comments_off": _l("Reading citizens' replies switched off for a channel"),
    "channel.move": _l("Social account moved to another unit"),
    "channel.needs_reauth": _l("Social account needs reconnecting"),
    # posts
    "post.create": _l("Post created"),
    "post.update": _l("Post edited"),
    "post.submit": _l("Submitted for approval"),
    "post.approve": _l("Post approved"),
    "post.reject": _l("Post rejected"),
    "post.cancel": _l("Post cancelled"),
    "post.reschedule": _l("Post rescheduled"),
    "post.occurrence_skip": _l("Occurrence of a recurring post skipped"),
    "post.occurrence_move": _l("Occurrence of a recurring post moved"),
    "post.bulk_import": _l("Posts imported from a spreadsheet"),
    # review stages (issue 20)
    "post.stage_approve": _l("Approval stage approved"),
    "post.stages_voided": _l("Approval stages voided"),
    "post.stage_reminder": _l("Reminder: post waiting at an approval stage"),
    "post.stage_deadline": _l("Approval stage deadline passed"),
    "unit.review_stages": _l("Unit's approval stages changed"),
    "campaign.review_stages": _l("Campaign's approval stages changed"),
    "user.verifier": _l("Region verifier changed"),
    "media.upload": _l("Media uploaded"),
    "media.update": _l("Media details changed"),
    "media.share": _l("Media shared with every unit"),
    "media.unshare": _l("Media no longer shared with every unit"),
    "media.delete": _l("Media deleted"),
    "metrics.refresh": _l("Metrics refresh requested"),
    # publications (people)
    "publication.retry": _l("Publication retried"),
    "publication.reschedule": _l("Publication rescheduled"),
    "publication.mark_published": _l("Publication marked as published"),
    "publication.resumed": _l("Publication resumed after reconnecting"),
    # publications (one per status: the worker records ``publication.<status>``)
    "publication.queued": _l("Publication scheduled"),
    "publication.publishing": _l("Publication being published"),
    "publication.published": _l("Publication published"),
    "publication.failed": _l("Publication failed"),
    "publication.needs_reauth": _l("Publication waits for a reconnect"),
    "publication.cancelled": _l("Publication cancelled"),
    "publication.missed": _l("Publication missed"),
    "publication.unconfirmed": _l("Publication unconfirmed"),
    "first_comment.posted": _l("First comment posted"),
    "first_comment.failed": _l("First comment not sent"),
    "first_comment.unconfirmed": _l("First comment unconfirmed"),
    # citizens' inbox
    "comment.category": _l("Citizen comment categorised"),
    "comment.status": _l("Citizen comment status changed"),
    "comment.forward": _l("Citizen comment forwarded to another unit"),
    "comment.overdue": _l("Citizen comment past its deadline"),
    "comment.refresh": _l("A post's citizen comments read on request"),
    "inbox.keywords": _l("Inbox triage keywords changed"),
    "inbox.retention": _l("Citizens' names and texts removed after the retention period"),
    "inbox.export": _l("Citizen complaints exported"),
    "comment.hide": _l("Citizen comment hidden on the platform"),
    "reply.write": _l("Reply to a citizen written"),
    "reply.edit": _l("Reply to a citizen changed"),
    "reply.approve": _l("Reply to a citizen approved"),
    "reply.reject": _l("Reply to a citizen rejected"),
    "reply.sent": _l("Reply to a citizen sent"),
    "reply.failed": _l("Reply to a citizen failed"),
    "reply.unconfirmed": _l("Reply to a citizen unconfirmed"),
    # emergency broadcast
    "emergency.start": _l("Emergency broadcast started"),
    "emergency.edit": _l("Emergency broadcast changed (needs a new confirmation)"),
    "emergency.confirm": _l("Emergency broadcast confirmed by a second admin"),
    "emergency.cancel": _l("Emergency broadcast cancelled"),
}

OBJECTS: dict[str, Any] = {
    "post": _l("Post"), "publication": _l("Publication"), "channel": _l("Social account"),
    "user": _l("User"), "unit": _l("Unit"), "pause": _l("Pause"), "media": _l("Media"),
    "campaign": _l("Campaign"), "region": _l("Whole region"), "webhook": _l("Webhook"),
    "policy_rule": _l("Policy rule"), "comment": _l("Citizen comment"),
    "comment_keywords": _l("Triage keywords"), "comment_reply": _l("Reply to a citizen"),
    "post_template": _l("Post template"), "hashtag_set": _l("Hashtag set"),
    "fanout": _l("Campaign message"),
    "emergency": _l("Emergency broadcast"),
}

#: Labels of the keys the code records in ``data``; another key is shown under its own name.
FIELDS: dict[str, Any] = {
    "from": _l("Previous time"), "scheduled_at": _l("Scheduled for"),
    "expires_at": _l("Expires"), "kept_approval": _l("Approval kept"),
    "back_to_approval": _l("Sent back for approval"), "previous_status": _l("Previous status"),
    "permalink": _l("Link"), "reason": _l("Reason"), "message": _l("Message"),
    "code": _l("Code"), "post_id": _l("Post"), "author_id": _l("Author"),
    "approver": _l("Approver"), "external_id": _l("Platform id"), "via": _l("Confirmed by"),
    "role": _l("Role"), "unit": _l("Unit"), "active": _l("Active"), "name": _l("Name"),
    "timezone": _l("Time zone"), "public_report": _l("Public report"),
    "public_inbox": _l("Citizen voice figures on the public page"),
    "token": _l("Token"), "platform": _l("Platform"), "account": _l("Account"),
    "resumed": _l("Publications resumed"), "from_unit": _l("From unit"),
    "to_unit": _l("To unit"), "sha256": _l("SHA-256"), "size": _l("Size (bytes)"),
    "scope": _l("Scope"), "released": _l("Posts released"), "left": _l("Codes left"),
    "comment": _l("Comment"), "publications_cancelled": _l("Publications cancelled"),
    "publications": _l("Publications"), "units": _l("Units"), "hash": _l("Approval hash"),
    "until": _l("Until"), "channel": _l("Social account"), "week": _l("Week"),
    "url": _l("Address"), "kinds": _l("Notifications"), "email": _l("E-mail address"),
    "lang": _l("Language"), "updated": _l("Updated"),
    "first_day": _l("First day"), "last_day": _l("Last day"), "recipients": _l("Recipients"),
    "weekly_report": _l("Weekly report"), "zone": _l("Time zone"),
    "count": _l("Posts created"), "submitted": _l("Submitted for approval"),
    "file": _l("File"), "import_id": _l("Import id"),
    "rules": _l("Rules"), "before": _l("Before"), "after": _l("After"),
    "kind": _l("Kind"), "severity": _l("Severity"), "value": _l("Value"),
    "campaign": _l("Campaign"),
    "fanout": _l("Campaign message"), "platforms": _l("Platforms"),
    "window_hours": _l("Window (hours)"),
    "found_by_lookup": _l("Found by looking it up"),
    "replies_need_approval": _l("Replies need approval"),
    "stage": _l("Stage"), "stages": _l("Stages"), "stage_kind": _l("Stage kind"),
    "waiting_stage": _l("Waiting at stage"), "waiting_kind": _l("Waiting for"),
    "ahead": _l("Approved ahead of its turn"), "since": _l("Waiting since"),
    "hours": _l("Hours"), "remind_hours": _l("Remind after (hours)"),
    "deadline_hours": _l("Flag after (hours)"), "verifier": _l("Region verifier"),
    "previous_hash": _l("Previous hash"), "starter": _l("Started by"),
    "channels": _l("Social accounts"), "emergency": _l("Emergency broadcast"),
    "all_units": _l("All units"), "unit_count": _l("Units"),
}

#: Words for values that are codes.
REASONS: dict[str, Any] = {
    "edited": _l("edited after approval"), "rescheduled": _l("rescheduled"),
    "post cancelled": _l("the post was cancelled"),
    "rejected": _l("rejected"),
    "shape_changed": _l("the post became one-off or recurring"),
}
VIA: dict[str, Any] = {
    "published": _l("the platform's answer"),
    "reconciled": _l("finding it on the platform"),
}

#: Keys whose English twin is kept under ``<key>_en`` (one language at a time).
_BILINGUAL = ("message",)
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


@dataclass(frozen=True)
class EventView:
    """One row of the audit log as the page shows it."""

    event: AuditEvent
    zone: str
    action: str
    known: bool
    object: str
    details: list[tuple[str, str]]


def action_label(code: str) -> str:
    """The action in the UI language; an unknown code is itself."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, label) for the filter, sorted by label."""
    return sorted(((code, str(label)) for code, label in ACTIONS.items()),
                  key=lambda pair: pair[1].lower())


def view(event: AuditEvent, users: Mapping[int, User], units: Mapping[int, Unit],
         default_zone: str) -> EventView:
    unit = units.get(event.unit_id) if event.unit_id is not None else None
    zone = unit.timezone if unit is not None and unit.timezone else default_zone
    kind = str(OBJECTS.get(event.object_type, event.object_type))
    obj = f"{kind} #{event.object_id}" if event.object_id is not None else kind
    return EventView(event=event, zone=zone, action=action_label(event.action),
                     known=event.action in ACTIONS, object=obj,
                     details=details(event, zone, users, units))


def details(event: AuditEvent, zone: str, users: Mapping[int, User],
            units: Mapping[int, Unit]) -> list[tuple[str, str]]:
    """The event's data as (label, value) pairs in the UI language."""
    data = dict(event.data or {})
    english = helpers.lang() == "en"
    for key in _BILINGUAL:
        twin = data.pop(f"{key}_en", None)
        if english and twin:
            data[key] = twin
    rows = []
    for key, value in data.items():
        if value is None or value == "":
            continue
        rows.append((_field(key), _value(event, key, value, zone, users, units)))
    return rows


def _field(key: str) -> str:
    label = FIELDS.get(key)
    return str(label) if label is not None else key


def _value(event: AuditEvent, key: str, value: Any, zone: str, users: Mapping[int, User],
           units: Mapping[int, Unit]) -> str:
    # user.update and unit.update record changes as [before, after]
    if (event.action in ("user.update", "unit.update") and isinstance(value, list)
            and len(value) == 2):
        return " → ".join(_one(event, key, v, zone, users, units) for v in value)
    if isinstance(value, list):
        return ", ".join(_one(event, key, v, zone, users, units) for v in value)
    return _one(event, key, value, zone, users, units)


def _one(event: AuditEvent, key: str, value: Any, zone: str, users: Mapping[int, User],
         units: Mapping[int, Unit]) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key in ("unit", "from_unit", "to_unit", "units") and isinstance(value, int):
        return units[value].name if value in units else f"#{value}"
    if key in ("author_id", "approver", "starter") and isinstance(value, int):
        return users[value].name if value in users else f"#{value}"
    if key == "post_id":
        return f"#{value}"
    if key == "role":
        return labels.status_label("role", str(value))
    if key == "platform":
        return labels.platform_label(str(value))
    if key == "scope":
        return labels.status_label("scope", str(value))
    if key == "previous_status":
        kind = "post" if event.object_type == "post" else "publication"
        return labels.status_label(kind, str(value))
    if key == "reason" and str(value) in REASONS:
        return str(REASONS[str(value)])
    if key == "via" and str(value) in VIA:
        return str(VIA[str(value)])
    if key in ("hash", "previous_hash"):
        return str(value)[:12]
    if isinstance(value, str) and (when := _as_time(value)) is not None:
        return helpers.fmt_dt(when, zone, short=True)
    if isinstance(value, int | float):
        return helpers.fmt_num(value)
    return str(value)


def _as_time(value: str) -> datetime | None:
    """An ISO 8601 time as the services record them (UTC, ``isoformat()``)."""
    if not _ISO_TIME.match(value):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
