"""The JSON error body, in one place: every API error has the same shape (and the OpenAPI
``Error`` schema describes exactly this)."""

from __future__ import annotations

from flask import Response, jsonify


def json_error(status: int, code: str, message: str, message_en: str | None = None,
               fields: dict[str, str] | None = None) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message, "message_en": message_en or message,
                          "fields": fields or {}}), status
