"""The composer's live policy panel: htmx posts the form as the operator types and this
returns the violations of the draft as it stands (nothing saved). The same checks as submit
(``publisher/services/policy_gate.py``), so what the panel says is what submit will do."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, render_template, request
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from publisher.models import Campaign, MediaAsset, Post, Unit
from publisher.services import policy as P
from publisher.services import policy_gate
from publisher.services.access import get_scoped
from publisher.services.errors import NotFound
from publisher.services.query_args import MAX_ID, small_int
from web.app import db, get_core
from web.ui.helpers import lang, me
from web.ui.posts.forms import alt_texts, parse_composer
from web.ui.posts.routes import bp

#: The most images whose alt text the panel reads from one form.
MAX_MEDIA = 50


@dataclass
class Shown:
    """One rule's violations as the panel shows them, with its acknowledgement box."""

    rule_id: int
    hard: bool
    messages: list[str] = field(default_factory=list)
    acknowledged: bool = False


def grouped(violations: list[P.Violation], acked: set[int]) -> list[Shown]:
    """One entry per rule (a daily limit broken on two channels is one box to tick)."""
    en = lang() == "en"
    out: dict[int, Shown] = {}
    for v in violations:
        entry = out.setdefault(v.rule_id, Shown(v.rule_id, v.hard,
                                                acknowledged=v.rule_id in acked))
        entry.messages.append(v.message.en if en else str(v.message))
    return list(out.values())


def acked_rules(form: MultiDict[str, str]) -> set[int]:
    return {n for a in form.getlist("ack") if (n := small_int(a)) is not None}


@bp.route("/unggahan/periksa-kebijakan", methods=["POST"])
@login_required
def policy_check() -> str:
    from web.ui.posts.composer import _channels, _unit_id

    s, core, user = db(), get_core(), me()
    post: Post | None = None
    if (post_id := request.args.get("post", type=int)) is not None:
        if not 0 < post_id <= MAX_ID:
            abort(404)
        try:
            post = get_scoped(s, Post, post_id, user)
        except NotFound:
            abort(404)
    unit_id = _unit_id(post)
    unit = s.get(Unit, unit_id) if unit_id else None
    if unit_id is None or unit is None:
        abort(404)
    channels = {c.id: c for c in _channels(unit_id)}
    data, _errors = parse_composer(request.form, channels, unit.timezone)
    alts = alt_texts(request.form)
    media = []
    for mid in (data.media or [])[:MAX_MEDIA]:
        asset = s.get(MediaAsset, mid) if 0 < mid <= MAX_ID else None
        if asset is not None and (asset.unit_id == unit_id or asset.region_wide):
            # a medium just picked from the library brings its alt text (as saving does)
            media.append(P.MediaItem(asset.kind, asset.original_name or f"#{mid}",
                                     alts.get(mid, asset.alt_text or "")))
    # Only a campaign the unit may use: another unit's campaign id must not show its rules
    camp = s.get(Campaign, data.campaign) if data.campaign and data.campaign <= MAX_ID else None
    campaign_id = camp.id if camp is not None and camp.unit_id in (None, unit_id) else None
    draft = P.Draft(body=data.body or "", overrides=data.overrides or {},
                    link=data.link or None, campaign_id=campaign_id, media=media,
                    channels={cid: channels[cid].name for cid in (data.channels or [])
                              if cid in channels})
    violations = policy_gate.check_draft(core, s, draft, unit_id=unit_id,
                                         when=data.scheduled_at,
                                         post_id=post.id if post else None)
    return render_template("posts/_policy.html", shown=grouped(violations,
                                                               acked_rules(request.form)),
                           post=post, unit=unit)
