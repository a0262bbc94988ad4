"""Media uploads from the composer (XHR with progress, or with the form) and serving a unit's
own files back to it as thumbnails; another unit's media is a 404."""

from __future__ import annotations

from flask import abort, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from publisher.services import media as media_service
from publisher.services import media_library
from publisher.services.errors import NotFound, ServiceError
from publisher.storage import UnsafeKey, storage_for
from web.app import db, get_core
from web.ui.helpers import me, message
from web.ui.posts.routes import bp


@bp.route("/media/unggah", methods=["POST"])
@login_required
def upload() -> tuple[Response, int]:
    file = request.files.get("file")
    if file is None or not file.filename:
        return jsonify(error=_("Choose a photo or video to upload.")), 400
    s = db()
    try:
        asset = media_service.upload_media(get_core(), s, me(), file.stream, file.filename)
        s.commit()
    except ServiceError as exc:
        s.rollback()
        return jsonify(error=message(exc)), exc.status
    return jsonify(id=asset.id, kind=asset.kind, name=asset.original_name,
                   url=url_for("posts.media_file", media_id=asset.id)), 201


@bp.route("/media/<int:media_id>")
@login_required
def media_file(media_id: int) -> Response:
    try:
        # the unit's own and the region-wide ones (the library's rule): another unit's is a 404
        asset = media_library.get_visible(db(), media_id, me())
    except NotFound:
        abort(404)
    try:  # through the media store: with S3, this machine may never have seen the upload
        path = storage_for(get_core().settings).local_path(asset.path).resolve()
    except (UnsafeKey, FileNotFoundError):
        abort(404)
    return send_file(path, mimetype=asset.mime, max_age=3600)
