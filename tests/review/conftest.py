"""The app with CSRF off for the review stages' page tests (as ``tests/web/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app(core):  # type: ignore[no-untyped-def]
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return application
