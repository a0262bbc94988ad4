"""Reading the composer's fields into a ``PostInput``, and describing channels to the page.

The composer is a dynamic form (one set of override fields per selected channel), so it is
parsed here by hand; CSRF is still enforced for it by CSRFProtect like every other POST.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from adapters import AdapterUnavailable, get_adapter_class
from publisher.models import Channel
from publisher.services.posts import PostInput
from publisher.services.query_args import small_int
from web.ui.helpers import parse_local
from web.ui.labels import platform_label

#: Widgets for option names adapters declare; anything else is a free text field.
OPTION_WIDGETS: dict[str, dict[str, Any]] = {
    "privacy": {"type": "select", "label": _l("Privacy"),
                "choices": [("public", _l("Public")), ("unlisted", _l("Unlisted")),
                            ("private", _l("Private"))]},
    "made_for_kids": {"type": "bool", "label": _l("Made for kids")},
    "kind": {"type": "select", "label": _l("Post type"),
             "choices": [("feed", _l("Feed")), ("reel", _l("Reel"))]},
    "media_type": {"type": "select", "label": _l("Post type"),
                   "choices": [("feed", _l("Feed")), ("reel", _l("Reel"))]},
    # Instagram (both adapters take feed/reel; the official Graph API also takes a Story).
    "ig_type": {"type": "select", "label": _l("Post type"),
                "choices": [("feed", _l("Feed")), ("reel", _l("Reel")),
                            ("story", _l("Story (24 hours)"))]},
    # Facebook Page: a feed post, a Reel (9:16 video, 3-90 s) or a Page Story.
    "fb_type": {"type": "select", "label": _l("Post type"),
                "choices": [("feed", _l("Feed")), ("reel", _l("Reel")),
                            ("story", _l("Story (24 hours)"))]},
    "link_preview": {"type": "bool", "label": _l("Show link preview")},
    "disable_link_preview": {"type": "bool", "label": _l("Hide link preview")},
    "note": {"type": "text", "label": _l("Note (sandbox)")},
    # TikTok: no default privacy (TikTok's rules); the adapter refuses a post without one and
    # checks the choice against the creator's current options (creator_info).
    "privacy_level": {"type": "select", "label": _l("Who can view this (TikTok, required)"),
                      "placeholder": _l("Choose who can view this"),
                      "choices": [("PUBLIC_TO_EVERYONE", _l("Everyone")),
                                  ("MUTUAL_FOLLOW_FRIENDS", _l("Friends (mutual followers)")),
                                  ("FOLLOWER_OF_CREATOR", _l("Followers")),
                                  ("SELF_ONLY", _l("Only me"))]},
    "disable_comment": {"type": "bool", "label": _l("Turn off comments")},
    "disable_duet": {"type": "bool", "label": _l("Turn off Duet")},
    "disable_stitch": {"type": "bool", "label": _l("Turn off Stitch")},
    "brand_content_toggle": {"type": "bool", "label": _l("Paid partnership (promotes a third "
                                                         "party)")},
    "brand_organic_toggle": {"type": "bool", "label": _l("Promotes our own office or brand")},
    "is_aigc": {"type": "bool", "label": _l("Made with AI")},
}


def channel_info(channel: Channel) -> dict[str, Any]:
    """What the page needs to count characters and draw the per-channel tab (no secrets)."""
    try:
        cls = get_adapter_class(channel.platform)
        caps = cls.caps
        info: dict[str, Any] = {
            "max_text": caps.max_text, "max_caption": caps.max_caption,
            "max_title": caps.max_title, "requires_media": caps.requires_media,
            "max_first_comment": caps.max_first_comment,
            "media_kinds": sorted(caps.media_kinds), "max_media": caps.max_media,
            "options": sorted(caps.option_names),
            "choices": {k: list(v) for k, v in cls.option_choices(channel.state or {}).items()},
            "notices": list(cls.channel_notices(channel.state or {}))}
    except AdapterUnavailable:
        info = {"max_text": None, "max_caption": None, "max_title": None,
                "max_first_comment": None,
                "requires_media": False, "media_kinds": [], "max_media": 0, "options": [],
                "choices": {}, "notices": []}
    info.update(id=channel.id, name=channel.name, platform=channel.platform,
                label=platform_label(channel.platform),
                unit=channel.unit.name if channel.unit else "")
    return info


#: Choices a platform does not take although it shares the option's name: Stories go out
#: through the official Graph API only (the instagrapi adapter posts feed and reels).
NOT_OFFERED: dict[tuple[str, str], frozenset[str]] = {
    ("instagram", "ig_type"): frozenset({"story"}),
}


def option_widgets(names: list[str], platform: str = "",
                   allowed: Mapping[str, Sequence[str]] | None = None
                   ) -> list[tuple[str, dict[str, Any]]]:
    """The widgets of one channel's options. ``allowed`` (``channel_info``'s "choices",
    from the adapter's ``option_choices``) narrows a select to what this account may use:
    a TikTok account's privacy levels from creator_info, a level TikTok adds later shown
    under its own name rather than hidden."""
    out = []
    for n in names:
        widget = OPTION_WIDGETS.get(n, {"type": "text", "label": n})
        drop = NOT_OFFERED.get((platform, n))
        if drop and "choices" in widget:
            widget = {**widget, "choices": [c for c in widget["choices"] if c[0] not in drop]}
        only = (allowed or {}).get(n)
        if only and "choices" in widget:
            known = dict(widget["choices"])
            widget = {**widget, "choices": [(v, known.get(v, v)) for v in only]}
        out.append((n, widget))
    return out


def channel_widgets(info: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``option_widgets`` for one ``channel_info``."""
    return option_widgets(info["options"], info["platform"], info.get("choices"))


def _ints(values: list[str]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except ValueError:
            continue
    return out


def alt_texts(form: MultiDict[str, str]) -> dict[int, str]:
    """The composer's ``alt_<media id>`` fields: what each image shows."""
    out: dict[int, str] = {}
    for key, value in form.items():
        if key.startswith("alt_") and (mid := small_int(key[4:])) is not None:
            out[mid] = value
    return out


def parse_composer(form: MultiDict[str, str], channels_by_id: dict[int, Channel],
                   zone: str) -> tuple[PostInput, dict[str, str]]:
    """The form as a PostInput, plus field errors the service cannot see (a bad date)."""
    errors: dict[str, str] = {}
    chosen = _ints(form.getlist("channels"))
    overrides: dict[str, Any] = {}
    for cid in chosen:
        ch = channels_by_id.get(cid)
        if ch is None:
            continue
        entry: dict[str, Any] = {}
        body = form.get(f"o_body_{cid}", "").strip()
        title = form.get(f"o_title_{cid}", "").strip()
        if body:
            entry["body"] = body
        if title:
            entry["title"] = title
        opts: dict[str, Any] = {}
        for name, widget in channel_widgets(channel_info(ch)):
            key = f"o_opt_{cid}_{name}"
            value = form.get(key, "").strip()
            if widget["type"] == "bool":
                if value:
                    opts[name] = True
            elif value:
                offered = [v for v, _label in widget.get("choices", ())]
                if offered and value not in offered:
                    # A select only takes what it offered (a TikTok account's privacy levels)
                    errors[key] = str(_l("%(platform)s does not allow this choice for %(channel)s; "
                                         "choose one of: %(choices)s.",
                                         platform=platform_label(ch.platform), channel=ch.name,
                                         choices=", ".join(str(label) for _v, label
                                                           in widget["choices"])))
                opts[name] = value
        if opts:
            entry["options"] = opts
        picked = _ints(form.getlist(f"o_media_{cid}"))
        if picked:  # none ticked: the channel gets all the post's media
            entry["media"] = picked
        comment = form.get(f"first_comment_{cid}", "").strip()
        if comment:  # the service checks it against the platform (and refuses where none)
            entry["first_comment"] = comment
        if entry:
            overrides[str(cid)] = entry
    data = PostInput(body=form.get("body", ""), channels=chosen,
                     media=_ints(form.getlist("media")), link=form.get("link", "").strip(),
                     overrides=overrides, media_alt=alt_texts(form))
    campaign = form.get("campaign", "")
    data.fields_set.add("campaign")
    data.campaign = int(campaign) if campaign.isdigit() else None
    if form.get("when", "now") == "later":
        when = parse_local(form.get("scheduled_at"), zone)
        if when is None:
            errors["scheduled_at"] = str(_l("Choose a date and time, or choose \"now\"."))
        data.scheduled_at = when
    else:
        data.clear_schedule = True
    from web.ui.posts.recurrence import rule_from_form  # the section's own module

    data.recurrence = rule_from_form(form)
    return data, errors
