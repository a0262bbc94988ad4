"""Per-post detail: snapshot history per channel, the collection schedule, "refresh now"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from publisher.models import MediaAsset, Post
from publisher.reports import engagement as e
from publisher.reports.refresh import SCHEDULE_HOURS, refresh_metrics_now
from publisher.reports.report import viewer_zone
from publisher.services.access import get_scoped
from publisher.services.errors import ServiceError
from publisher.storage import UnsafeKey, storage_for
from publisher.worker.outcome import STORY_METRIC_OFFSETS, STORY_STAGE
from web.app import db, get_core
from web.reports.charts import history_chart
from web.reports.routes import bp
from web.ui.helpers import call


@bp.get("/unggahan/<int:post_id>")
@login_required
def post_detail(post_id: int):  # type: ignore[no-untyped-def]
    s = db()
    try:
        post = get_scoped(s, Post, post_id, current_user)
    except ServiceError:
        abort(404)
    pubs = e.published_publications(s, post.id)
    history = e.snapshot_history(s, [p.id for p in pubs])
    zone = viewer_zone(current_user, get_core().settings.timezone)
    chart = history_chart([f"{p.channel.platform} · {p.channel.name}" for p in pubs],
                          [history[p.id] for p in pubs], zone)
    return render_template("reports/post.html", post=post, pubs=pubs, history=history,
                           chart=chart, schedule=SCHEDULE_HOURS, zone=zone,
                           story_stage=STORY_STAGE, story_total=len(STORY_METRIC_OFFSETS))


@bp.post("/unggahan/<int:post_id>/segarkan")
@login_required
def refresh(post_id: int):  # type: ignore[no-untyped-def]
    n = call(refresh_metrics_now, db(), current_user, post_id, get_core().now())
    if not isinstance(n, ServiceError):
        flash(_("Metrics of %(n)d publications will be collected at the next sweep.", n=n),
              "success")
    return redirect(url_for("reports.post_detail", post_id=post_id))


@bp.get("/media/<int:media_id>")
@login_required
def thumbnail(media_id: int):  # type: ignore[no-untyped-def]
    """A post's first image for the top-posts table (unit-scoped: another unit's media is a
    404, admins see every unit's; images only).

    Read through the media store (the local folder, resolved against the working directory
    as the uploads were stored, or S3 with this machine's cache): ``send_from_directory``
    would resolve a relative ``WARTA_MEDIA_DIR`` against the ``web`` package and answer 404
    for every thumbnail.
    """
    try:
        asset = get_scoped(db(), MediaAsset, media_id, current_user)
    except ServiceError:
        abort(404)
    if asset.kind != "image":
        abort(404)
    try:
        path = storage_for(get_core().settings).local_path(asset.path).resolve()
    except (UnsafeKey, FileNotFoundError):
        abort(404)
    return send_file(path, mimetype=asset.mime, max_age=3600)
