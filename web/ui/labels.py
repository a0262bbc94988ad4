"""Words for statuses and roles (glossary-id.md), in one place so every page says the same."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

POST_STATUS = {
    "draft": _l("Draft"), "submitted": _l("Awaiting approval"), "approved": _l("Approved"),
    "rejected": _l("Rejected"), "cancelled": _l("Cancelled"),
    # rolled up from the publications (Post.overall_status)
    "published": _l("Published"), "partly_published": _l("Partly published"),
    "partly_failed": _l("Partly failed"), "failed": _l("Failed"),
}
PUBLICATION_STATUS = {
    "queued": _l("Scheduled"), "publishing": _l("Publishing"), "published": _l("Published"),
    "failed": _l("Failed"), "needs_reauth": _l("Reconnect needed"), "cancelled": _l("Cancelled"),
    "missed": _l("Missed"), "unconfirmed": _l("Unconfirmed"),
}
CHANNEL_STATUS = {
    "active": _l("Active"), "needs_reauth": _l("Reconnect needed"), "disabled": _l("Disabled"),
}
ROLE = {"operator": _l("Operator"), "approver": _l("Approver"), "admin": _l("Admin")}
#: Review stage kinds (``services/review_stages.STAGE_KINDS``).
STAGE = {"unit_approver": _l("Unit approver"), "region_verifier": _l("Region verifier")}
PAUSE_SCOPE = {"global": _l("All units"), "unit": _l("One unit"), "channel": _l("One channel")}
EMERGENCY_STATUS = {"started": _l("Awaiting a second admin's confirmation"),
                    "confirmed": _l("Confirmed and sent"), "cancelled": _l("Cancelled")}
PLATFORM = {"facebook": "Facebook", "instagram": "Instagram", "x": "X", "youtube": "YouTube",
            "telegram": "Telegram", "tiktok": "TikTok", "threads": "Threads",
            "sandbox": "Sandbox"}


def status_label(kind: str, value: str) -> str:
    table = {"post": POST_STATUS, "publication": PUBLICATION_STATUS, "channel": CHANNEL_STATUS,
             "role": ROLE, "scope": PAUSE_SCOPE, "stage": STAGE,
             "emergency": EMERGENCY_STATUS}[kind]
    return str(table.get(value, value))


def platform_label(value: str) -> str:
    return PLATFORM.get(value, value.title())
