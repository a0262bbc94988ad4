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


def require_token(fn: Callable) -> Callable:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        from web.app import db, get_core

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            session = db()
            user = org.user_for_token(get_core(), session, token.strip())
            session.commit()
        if user is None:
            return json_error(401, "unauthorized",
                              "Token API tidak ada atau tidak berlaku. Buat token dengan "
                              "'warta token create EMAIL'.",
                              "Missing or invalid API token. Create one with "
                              "'warta token create EMAIL'.")
        g.api_user = user
        return fn(*args, **kwargs)
    return wrapper
