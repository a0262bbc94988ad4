"""The composer's content tools: "Pakai templat" fills the form from a template, "Sisipkan
tagar" appends a hashtag set's tags the text does not carry yet.

Both are a plain round-trip (a submit button of the composer form, or ``?templat=`` on the
new-post page), so they work without JavaScript and need no inline script; nothing is saved
until the operator saves.
"""

from __future__ import annotations

from typing import Any

from flask import flash, request
from flask_babel import gettext as _

from publisher.models import User
from publisher.models.template import HashtagSet, PostTemplate
from publisher.services import templates as T
from publisher.services.errors import NotFound
from web.app import db

TOOL_ACTIONS = ("template", "tags")


def offered(user: User, unit_id: int | None) -> dict[str, Any]:
    """What the composer offers for this unit: its own and the region's."""
    s = db()
    return {"templates": T.usable(s, PostTemplate, user, unit_id),
            "tagsets": T.usable(s, HashtagSet, user, unit_id)}


def _pick(model: T.Model, user: User, raw: str | None) -> Any:
    if not raw or not raw.isdigit() or len(raw) > 12:
        return None
    try:
        return T.get_usable(db(), model, user, int(raw))
    except NotFound:
        return None


def fill_from_template(values: dict[str, Any], template: PostTemplate,
                       channel_ids: set[int], campaign_ids: set[int]) -> None:
    """The template's text (after what is already written: nothing typed is lost), and its
    channels and campaign where this composer offers them. Placeholders stay as they are."""
    body = (values.get("body") or "").rstrip()
    values["body"] = f"{body}\n\n{template.body}" if body else template.body
    chans = [c for c in template.channel_ids if c in channel_ids]
    if chans:
        values["channels"] = list(dict.fromkeys([*values.get("channels", []), *chans]))
    if template.campaign_id in campaign_ids:
        values["campaign"] = template.campaign_id


def apply(user: User, values: dict[str, Any], channel_ids: set[int],
          campaign_ids: set[int], *, action: str | None, template_arg: str | None) -> None:
    """Apply the tool the request asks for to ``values`` (in place), with a flash saying so.
    Another unit's id, or none, is "choose one" (it must look absent)."""
    if action == "tags":
        tagset = _pick(HashtagSet, user, request.form.get("tagset"))
        if tagset is None:
            flash(_("Choose a hashtag set."), "error")
            return
        before = values.get("body") or ""
        values["body"] = T.append_tags(before, tagset.tags.split())
        flash(_("Hashtags of \u201c%(name)s\u201d inserted.", name=tagset.name)
              if values["body"] != before else
              _("The text already carries every hashtag of \u201c%(name)s\u201d.",
                name=tagset.name), "info")
        return
    template = _pick(PostTemplate, user, template_arg)
    if template is None:
        flash(_("Choose a template."), "error")
        return
    fill_from_template(values, template, channel_ids, campaign_ids)
    flash(_("Template \u201c%(name)s\u201d applied: fill in the parts in braces.",
            name=template.name), "info")
