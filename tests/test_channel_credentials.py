"""``token_expiry``: the channel's token expiry comes only from what the platform said."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from publisher.services.channels import token_expiry


@pytest.mark.parametrize(("credentials", "expected"), [
    ({"access_token": "a", "refresh_token": "r", "expires_at": 1_790_000_000},
     datetime.fromtimestamp(1_790_000_000, UTC)),
    ({"expires_at": 1_790_000_000.5}, datetime.fromtimestamp(1_790_000_000.5, UTC)),
    ({"expires_at": "1790000000"}, datetime.fromtimestamp(1_790_000_000, UTC)),
    ({"bot_token": "123:abc", "channel": "@kanal"}, None),  # Telegram: bot tokens never expire
    ({"username": "dinsos", "password": "p", "settings": {"cookies": {}}}, None),  # instagrapi
    ({"page_id": "1", "access_token": "page"}, None),  # Meta Page token: does not expire
    ({"api_key": "k", "access_token_secret": "s"}, None),  # X OAuth 1.0a keys
    ({"expires_at": 0}, None), ({"expires_at": -5}, None), ({"expires_at": True}, None),
    ({"expires_at": "soon"}, None), ({"expires_at": float("inf")}, None),
    ({"expires_at": 10**20}, None), ({"expires_at": None}, None), ({"expires_at": [1]}, None),
])
def test_token_expiry(credentials: dict[str, Any], expected: datetime | None) -> None:
    assert token_expiry(credentials) == expected
