"""YouTube video metadata: the options Warta accepts and the ``videos.insert`` body they make.

Kept apart from the upload code because these rules (title ≤ 100 characters, description
≤ 5,000 bytes, tags ≤ 500 characters, ``publishAt`` only with private videos, the required
made-for-kids declaration) are what an operator meets in the form, and they change on their
own schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.base import OutgoingPost, Problem

PRIVACY = ("public", "unlisted", "private")


def description(post: OutgoingPost) -> str:
    text = str(post.options.get("description") or post.body)
    if post.link and post.link not in text:
        text = f"{text}\n\n{post.link}" if text else post.link
    return text


def tags(post: OutgoingPost) -> list[str]:
    raw = post.options.get("tags") or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return [str(t).strip() for t in raw if str(t).strip()]


def parse_publish_at(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _p(field: str, code: str, id_: str, en: str) -> Problem:
    return Problem(field, code, id_, en)


def check_options(post: OutgoingPost, now: datetime) -> list[Problem]:
    """Platform rules for title, description, tags and the status options (no I/O)."""
    out: list[Problem] = []
    o = post.options
    title = (post.title or "").strip()
    if not title:
        out.append(_p("title", "title_required", "Judul video YouTube wajib diisi.",
                      "A YouTube video needs a title."))
    elif len(title) > 100:
        out.append(_p("title", "title_too_long",
                      f"Judul YouTube maksimal 100 karakter (sekarang {len(title)}).",
                      f"A YouTube title is at most 100 characters (now {len(title)})."))
    text = description(post)
    if "<" in title or ">" in title or "<" in text or ">" in text:
        out.append(_p("body", "angle_brackets",
                      "Judul dan deskripsi YouTube tidak boleh memuat tanda < atau >.",
                      "YouTube titles and descriptions cannot contain < or >."))
    if len(text.encode("utf-8")) > 5000:
        out.append(_p("body", "too_long",
                      "Deskripsi YouTube maksimal 5.000 byte (huruf beraksen dan emoji dihitung "
                      "lebih dari satu).",
                      "A YouTube description is at most 5,000 bytes (accented letters and emoji "
                      "count more than one)."))
    if sum(len(t) + (2 if " " in t else 0) for t in tags(post)) + max(
            0, len(tags(post)) - 1) > 500:
        out.append(_p("options", "tags_too_long", "Total tag YouTube maksimal 500 karakter.",
                      "YouTube tags total at most 500 characters."))
    if not isinstance(o.get("made_for_kids"), bool):
        out.append(_p("options", "made_for_kids_required",
                      "Pilih apakah video ini dibuat untuk anak-anak (wajib menurut YouTube).",
                      "Choose whether this video is made for kids (YouTube requires it)."))
    privacy = o.get("privacy", "public")
    if privacy not in PRIVACY:
        out.append(_p("options", "privacy", "Privasi harus public, unlisted, atau private.",
                      "Privacy must be public, unlisted or private."))
    try:
        publish_at = parse_publish_at(o.get("publish_at"))
    except (TypeError, ValueError):
        out.append(_p("options", "publish_at", "Waktu tayang (publish_at) tidak valid.",
                      "The publish_at time is not valid."))
    else:
        if publish_at is not None and publish_at <= now:
            out.append(_p("options", "publish_at", "Waktu tayang harus di masa depan.",
                          "publish_at must be in the future."))
        if publish_at is not None and privacy != "private" and "privacy" in o:
            out.append(_p("options", "publish_at_privacy",
                          "Video terjadwal (publish_at) harus berprivasi private sampai tayang.",
                          "A scheduled video (publish_at) must be private until it goes live."))
    for name in ("notify_subscribers",):
        if name in o and not isinstance(o[name], bool):
            out.append(_p("options", name, f"Opsi {name} harus ya/tidak.",
                          f"Option {name} must be true or false."))
    return out


def video_resource(post: OutgoingPost, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of the resumable ``videos.insert`` initiation."""
    o = post.options
    snippet: dict[str, Any] = {
        "title": (post.title or "").strip(), "description": description(post),
        "categoryId": str(o.get("category") or settings.get("default_category") or "22")}
    if tags(post):
        snippet["tags"] = tags(post)
    publish_at = parse_publish_at(o.get("publish_at"))
    status: dict[str, Any] = {
        "privacyStatus": "private" if publish_at else str(o.get("privacy") or "public"),
        "selfDeclaredMadeForKids": bool(o.get("made_for_kids"))}
    if publish_at is not None:
        status["publishAt"] = publish_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"snippet": snippet, "status": status}
