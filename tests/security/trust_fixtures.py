"""Fixtures for the trust tests (approval rules, sessions, tokens, passwords): the UI app with
CSRF off, sandbox channels and posts in a given state. Imported by each test module, so this
package needs no conftest of its own."""

from __future__ import annotations

from tests.web.conftest import app, make_channel, make_post  # noqa: F401 - fixtures

__all__ = ["app", "make_channel", "make_post"]
