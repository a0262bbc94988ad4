"""One definition per endpoint: the route, its request model and its response model.

``endpoint`` registers a Flask view on the API blueprint *and* records it for the OpenAPI
document, and the same pydantic model validates the request body — so the documentation
cannot drift from what the server accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError

from publisher.services.errors import Invalid, ServiceError
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


def parse_body(model: type[BaseModel]) -> BaseModel:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Badan permintaan harus berupa objek JSON.",
                      "The request body must be a JSON object.", fields={"body": "JSON object"},
                      code="bad_json")
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
            try:
                if body is not None:
                    kwargs["data"] = parse_body(body)
                return fn(**kwargs)
            except ServiceError as exc:
                from web.app import db

                db().rollback()
                return error_response(exc)

        bp.add_url_rule(flask_path, endpoint=f"{fn.__name__}", view_func=view, methods=[method])
        ROUTES.append(Route(method, path, summary, body, response, multipart, query, status))
        return view
    return decorate


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
                              "responses": {"400": error, "401": error, "403": error,
                                            "404": error}}
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
        ok = {"description": "OK"}
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
