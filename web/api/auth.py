"""Bearer-token authentication for the API: the caller is ``g.api_user`` or the answer is 401."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from publisher.models import User
from publisher.services import org
from web.errors import json_error


def current_user() -> User:
    return g.api_user


def authenticate() -> User | None:
    """The caller of this request from its bearer token (looked up once per request), or
    ``None``. Reads only the headers, never the body."""
    if "api_user" in g:
        return g.api_user
    from web.app import db, get_core

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        session = db()
        user = org.user_for_token(get_core(), session, token.strip())
        # End the lookup's transaction first: on SQLite a POST's session holds the write lock
        # from its first query, which the separate write below would wait for.
        session.commit()
        if user is not None:
            org.token_used(get_core(), token.strip())
    g.api_user = user
    return user


def unauthorized():  # type: ignore[no-untyped-def]
    return json_error(401, "unauthorized",
                      "Token API tidak ada atau tidak berlaku. Buat token dengan "
                      "'warta token create EMAIL'.",
                      "Missing or invalid API token. Create one with "
                      "'warta token create EMAIL'.")


def require_token(fn: Callable) -> Callable:
    """401 unless the bearer token names an active user. ``endpoint`` sees the mark this
    leaves and authenticates *before* it reads the body, so an anonymous client cannot make
    the server read (and hold) a large request."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        if authenticate() is None:
            return unauthorized()
        return fn(*args, **kwargs)
    wrapper.requires_token = True  # type: ignore[attr-defined]
    return wrapper
