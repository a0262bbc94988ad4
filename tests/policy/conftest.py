"""Fixtures for the policy tests: people of two units, a sandbox channel each, rules."""

from __future__ import annotations

import pytest

from publisher.models import Role, User
from publisher.services import policy_rules
from tests.helpers import sandbox_channel


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "op_b": make_user(Role.OPERATOR, "b"), "admin": make_user(Role.ADMIN, None)}


@pytest.fixture
def chans(core, people):  # type: ignore[no-untyped-def]
    return {"a": sandbox_channel(core, people["op"], "dinsos-fb", "FB Dinsos"),
            "a2": sandbox_channel(core, people["op"], "dinsos-ig", "IG Dinsos"),
            "b": sandbox_channel(core, people["op_b"], "bappeda-fb", "FB Bappeda")}


@pytest.fixture
def add_rule(core, people):  # type: ignore[no-untyped-def]
    def add(kind: str, value: str = "", severity: str = "hard", reason: str = "",
            campaign_id: int | None = None) -> int:
        with core.sessions.begin() as s:
            return policy_rules.create_rule(core, s, s.get(User, people["admin"].id), kind=kind,
                                            severity=severity, value=value, reason=reason,
                                            campaign_id=campaign_id).id
    return add
