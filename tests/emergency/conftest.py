"""An emergency world: two units with sandbox accounts (one of them disabled), three admins and
an operator; and helpers to start and confirm an emergency through the service."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update

from publisher.core import Core
from publisher.models import Channel, ChannelStatus, Role, User
from publisher.services import channels as channel_svc
from publisher.services import emergency as em_svc
from publisher.services.emergency import EmergencyInput
from tests.helpers import sandbox_channel

#: Accounts of unit a, of unit b, and b's disabled one (never a target).
ACCOUNTS_A = ["em-a1", "em-a2"]
ACCOUNTS_B = ["em-b1"]
DISABLED = "em-b-off"


@dataclass
class World:
    starter: User
    confirmer: User
    third: User
    operator: User
    channels: dict[str, int]


@pytest.fixture
def world(core: Core, make_user, units) -> World:  # type: ignore[no-untyped-def]
    starter, confirmer, third = (make_user(Role.ADMIN, None) for _ in range(3))
    op_a = make_user(Role.OPERATOR, "a")
    channels = {a: sandbox_channel(core, op_a, a) for a in ACCOUNTS_A}
    with core.sessions.begin() as s:  # unit b's, by an admin (one user fewer to make)
        for a in [*ACCOUNTS_B, DISABLED]:
            channels[a] = channel_svc.create_channel(
                core, s, s.get_one(User, starter.id), platform="sandbox", name=a,
                credentials={"account": a, "token": "t"}, unit_id=units["b"].id).id
    with core.sessions.begin() as s:
        s.execute(update(Channel).where(Channel.id == channels[DISABLED])
                  .values(status=ChannelStatus.DISABLED))
    return World(starter, confirmer, third, op_a, channels)


def start(core: Core, who: User, body: str = "Gempa M5,8: tetap tenang, jauhi bangunan.",
          unit_ids: list[int] | None = None) -> tuple[int, str]:
    """Start an emergency; returns its id and hash."""
    with core.sessions.begin() as s:
        em = em_svc.start(core, s, s.get_one(User, who.id),
                          EmergencyInput(title="Gempa", body=body, unit_ids=unit_ids))
        return em.id, em.content_hash


def confirm(core: Core, who: User, emergency_id: int, seen: str) -> None:
    with core.sessions.begin() as s:
        em_svc.confirm(core, s, s.get_one(User, who.id), emergency_id, seen)


@pytest.fixture
def app(core: Core):  # type: ignore[no-untyped-def]
    """The app with CSRF off, as in tests/web (CSRF itself is tested there)."""
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return application
