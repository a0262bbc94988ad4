"""Login throttling per client address and per account name, counted in the database so that
every web process (gunicorn workers, several hosts) shares one count.

A fixed window per key: the first attempt opens it, every attempt adds one, and past the limit
the caller waits until the window ends. The account key is the email *as typed*, whether or
not such an account exists, so a throttled answer reveals nothing about which addresses have
accounts. This sits in front of the per-account lockout (``accounts.authenticate``), which
only counts wrong passwords of real accounts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import LoginThrottle

WINDOW_SECONDS = 15 * 60
#: Attempts per window from one client address (an office behind one NAT logs in often).
ADDRESS_LIMIT = 30
#: Attempts per window at one account name, from anywhere.
ACCOUNT_LIMIT = 10


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"{kind}:{digest}"  # never the address or email itself


def _hit(core: Core, session: Session, key: str, limit: int) -> Refusal | None:
    now = core.now()
    expired = LoginThrottle.window_start <= now - timedelta(seconds=WINDOW_SECONDS)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(LoginThrottle).values(key=key, window_start=now, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={"count": case((expired, 1), else_=LoginThrottle.count + 1),
              "window_start": case((expired, now), else_=LoginThrottle.window_start)},
    ).returning(LoginThrottle.count, LoginThrottle.window_start)
    count, start = session.execute(stmt).one()
    if count <= limit:
        return None
    left = (start + timedelta(seconds=WINDOW_SECONDS) - now).total_seconds()
    return Refusal(max(1, math.ceil(left)))


def prune(core: Core, session: Session) -> int:
    """Forget windows that ended: a row per client address and per typed name would otherwise
    grow without end (every address that ever tried, every name ever typed). Run with each
    login, so the table holds at most one window's worth of keys and no job is needed."""
    ended = core.now() - timedelta(seconds=WINDOW_SECONDS)
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.window_start <= ended))
    return int(getattr(result, "rowcount", 0) or 0)


def check_login(core: Core, session: Session, address: str | None,
                email: str) -> Refusal | None:
    """Count one login attempt; a ``Refusal`` if the address or the account name is over its
    limit (the longer wait of the two)."""
    prune(core, session)
    waits = [r for r in (_hit(core, session, _key("ip", address or "?"), ADDRESS_LIMIT),
                         _hit(core, session, _key("acct", email or ""), ACCOUNT_LIMIT)) if r]
    return max(waits, key=lambda r: r.retry_after) if waits else None
