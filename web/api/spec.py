"""One definition per endpoint: the route, its request model and its response model.

``endpoint`` registers a Flask view on the API blueprint *and* records it for the OpenAPI
document, and the same pydantic model validates the request body — so the documentation
cannot drift from what the server accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError

from publisher.services.audit import keep_audit
from publisher.services.errors import Invalid, ServiceError
from publisher.services.query_args import MAX_ID
from web.api import bp
from web.errors import json_error


@dataclass(frozen=True)
class Param:
    """A query parameter with a type other than text (a plain ``str`` description means a
    string parameter)."""

    description: str
    type: str = "string"


@dataclass
class Route:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    multipart: bool = False
    query: dict[str, str | Param] | None = None
    status: int | None = None


ROUTES: list[Route] = []


def error_response(exc: ServiceError):  # type: ignore[no-untyped-def]
    return json_error(exc.status, exc.code, exc.message, exc.message_en, exc.fields)


#: How deep JSON may nest: every real body is three or four levels deep. Deeper input is
#: refused before validation (Python's parser and pydantic recurse, and would crash).
MAX_JSON_DEPTH = 32


def _problem(data: Any) -> tuple[str, str] | None:
    """The first (field, problem) of a parsed body that no model may see: nesting deeper than
    ``MAX_JSON_DEPTH``, a NUL character (PostgreSQL cannot store one in text) or a lone
    surrogate (not text at all in UTF-8)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            return ".".join(path[:3]) + ".…", f"nested deeper than {MAX_JSON_DEPTH}"
        if isinstance(value, dict):
            for k, v in value.items():
                if "\x00" in k or _unencodable(k):
                    return ".".join(path) or "body", "NUL character or lone surrogate in a key"
                stack.append((v, (*path, k)))
        elif isinstance(value, list):
            stack.extend((v, (*path, str(i))) for i, v in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            return ".".join(path) or "body", "NUL character not allowed"
        elif isinstance(value, str) and _unencodable(value):
            return ".".join(path) or "body", "lone surrogate (\\ud800-\\udfff) not allowed"
    return None


def _unencodable(text: str) -> bool:
    """JSON may escape half of a UTF-16 pair (``"\\ud800"``): Python reads it, but no UTF-8
    text (a database column, a page, a platform's API) can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_json(why: str) -> Invalid:
    return Invalid("Badan permintaan harus berupa objek JSON.",
                   f"The request body must be a JSON object ({why}).",
                   fields={"body": f"JSON object ({why})"}, code="bad_json")


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The body as ``model``: anything else (not JSON, not an object, nested too deep, text
    with NUL characters, fields of the wrong type) is a 400 naming the field."""
    if not request.is_json:
        raise _bad_json("Content-Type: application/json")
    raw = request.get_data(cache=True)  # bounded by the app's body limit (413 beyond it)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad_json("unreadable JSON") from None
    if not isinstance(data, dict):
        raise _bad_json(f"got {type(data).__name__}")
    if (problem := _problem(data)) is not None:
        field, why = problem
        raise Invalid("Periksa kembali isian permintaan.", "Please check the request's fields.",
                      fields={field: why})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in err["loc"]) or "body": err["msg"]
                  for err in exc.errors()}
        raise Invalid("Periksa kembali isian permintaan.", "Please check the request's fields.",
                      fields=fields) from None


def endpoint(method: str, path: str, summary: str, *, body: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, multipart: bool = False,
             query: dict[str, str | Param] | None = None, status: int | None = None) -> Callable:
    """Register ``fn`` at ``path`` (OpenAPI style ``{id}``) for ``method``.

    ``status`` is the success status the document shows when it is not the default (200, or
    201 for a summary starting "Create"); the view must of course return that status.
    """
    flask_path = path.replace("{", "<int:").replace("}", ">")

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**kwargs: Any):  # type: ignore[no-untyped-def]
            from web.api.auth import authenticate, unauthorized

            # The token first, the body after: an anonymous client must not make the
            # server read (and hold) a body it will refuse anyway.
            if getattr(fn, "requires_token", False) and authenticate() is None:
                return unauthorized()
            if "id" in kwargs and not 0 < kwargs["id"] <= MAX_ID:
                return json_error(404, "not_found", "Tidak ditemukan.", "Not found.",
                                  {"id": f"integer 1..{MAX_ID}"})
            try:
                if body is not None:
                    kwargs["data"] = parse_body(body)
                return fn(**kwargs)
            except ServiceError as exc:
                from web.app import db

                db().rollback()
                keep_audit(db(), exc)
                return error_response(exc)

        bp.add_url_rule(flask_path, endpoint=f"{fn.__name__}", view_func=view, methods=[method])
        ROUTES.append(Route(method, path, summary, body, response, multipart, query, status))
        return view
    return decorate


def error_statuses(r: Route) -> dict[int, str]:
    """The 4xx answers a route can really give, from what it takes: the bounded fuzz run
    (tests/security/test_api_fuzz.py) fails on any status a route gives that is not listed."""
    writes = r.method != "GET"
    out = {401: "Missing or invalid bearer token"}
    if writes or r.query or r.body or r.multipart:
        out[400] = "Invalid input; error.fields names each field"
    if writes:
        out[403] = "The caller's role may not do this"
    if "{id}" in r.path:
        out[404] = "No such object in the caller's scope (or an id beyond 64 bits)"
    if writes and "{id}" in r.path:
        out[409] = "The object's state does not allow this now"
    if r.body or r.multipart:
        out[413] = "Body over the limit (1 MB for JSON, WARTA_MAX_UPLOAD_MB for uploads)"
    return dict(sorted(out.items()))


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error = {"description": "Error", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}
    for r in ROUTES:
        op: dict[str, Any] = {"summary": r.summary, "security": [{"bearer": []}],
                              "responses": {str(code): {**error, "description": why}
                                            for code, why in error_statuses(r).items()}}
        params = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}] \
            if "{id}" in r.path else []
        for name, spec in (r.query or {}).items():
            param = spec if isinstance(spec, Param) else Param(spec)
            params.append({"name": name, "in": "query", "required": False,
                           "description": param.description, "schema": {"type": param.type}})
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": ref(r.body)}}}
        if r.multipart:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}}
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": ref(r.response)}}
        success = r.status or (201 if r.method != "GET" and r.summary.startswith("Create")
                               else 200)
        op["responses"][str(success)] = ok
        paths.setdefault(r.path, {})[r.method.lower()] = op
    schemas["Error"] = {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "message_en": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
    return {"openapi": "3.1.0",
            "info": {"title": "Warta API", "version": "1",
                     "description": "Posts, approvals, publications and engagement of Warta."},
            "servers": [{"url": "/api/v1"}], "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}}}}
