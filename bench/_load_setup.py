"""The load bench's side of the benchmark database: the accounts it logs in with, their API
tokens and the posts each may open. Everything goes through the product's own services
(``org.set_password``, ``org.create_token``), so a login costs what a real one costs.

Idempotent: an account that already has the bench password keeps its hash and its sessions;
the bench's API tokens are replaced on every run (a token is shown only once, when made).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, inspect, select

from publisher.core import Core

#: The bench accounts' password (strong enough for the admin's stricter rule).
PASSWORD = "Layang-Kopi-Senja-4817!"
TOKEN_NAME = "bench-load"
#: Posts sampled per unit for the post detail page and the API's post (seeded: every run
#: opens the same posts).
SAMPLE_PER_UNIT = 200


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    role: str
    unit_id: int | None


ADMIN = Account(1000, "admin@bench.go.id", "admin", None)
#: The generated operators op1..op20 (ids 1..20, one per unit) and five approvers made here
#: (explicit ids: the generator's bulk inserts left the id sequences behind).
OPERATORS = [Account(i, f"op{i}@bench.go.id", "operator", i) for i in range(1, 21)]
APPROVERS = [Account(1000 + u, f"appr{u}@bench.go.id", "approver", u) for u in range(1, 6)]


def cast(n: int) -> list[Account]:
    """The account of each of ``n`` virtual users: every tenth an admin, every fourth (from
    the second) an approver of one of five units, the rest operators of different units.
    Virtual users may share an account; each still has its own login and cookie."""
    out = []
    for k in range(n):
        if k % 10 == 0:
            out.append(ADMIN)
        elif k % 4 == 1:
            out.append(APPROVERS[k % 5])
        else:
            out.append(OPERATORS[k % 20])
    return out


def is_filled(core: Core) -> bool:
    from publisher.models import Post

    if not inspect(core.engine).has_table("posts"):
        return False
    with core.sessions() as s:
        return bool(s.execute(select(func.count()).select_from(Post)).scalar())


def ensure_accounts(core: Core) -> None:
    """Every bench account exists, is active, has the bench password and can log in with it
    alone: no lockout, no forced password change, no second factor (the server is started
    without ``WARTA_REQUIRE_TOTP``). The login throttle's windows are emptied too: the bench
    logs 20+ accounts in from one address, which a region's offices would not."""
    from publisher.models import LoginThrottle, User
    from publisher.services import org

    with core.sessions.begin() as s:
        s.execute(delete(LoginThrottle))
        for acc in (ADMIN, *OPERATORS, *APPROVERS):
            user = s.get(User, acc.id)
            if user is None:
                user = User(id=acc.id, email=acc.email, name=f"Bench {acc.role} {acc.id}",
                            role=acc.role, unit_id=acc.unit_id, locale="id")
                s.add(user)
                s.flush()
            if (user.email, user.role, user.unit_id) != (acc.email, acc.role, acc.unit_id):
                raise SystemExit(f"user #{acc.id} is {user.email} ({user.role}, unit "
                                 f"{user.unit_id}), not the bench's {acc.email}: refusing to "
                                 "change it")
            user.active = True
            user.must_change_password = False
            user.failed_logins = 0
            user.locked_until = None
            user.totp_enabled_at = None
            user.totp_secret_encrypted = None
            if not org.check_password(user, PASSWORD):
                org.set_password(user, PASSWORD)


def fresh_tokens(core: Core, accounts: list[Account]) -> dict[int, str]:
    """One new API token per account (user id -> token); the previous run's are deleted."""
    from publisher.models import ApiToken, User
    from publisher.services import org

    ids = sorted({a.id for a in accounts})
    out = {}
    with core.sessions.begin() as s:
        s.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids),
                                          ApiToken.name == TOKEN_NAME))
        for uid in ids:
            user = s.get(User, uid)
            assert user is not None
            out[uid] = org.create_token(s, user, TOKEN_NAME)
    return out


def post_samples(core: Core) -> dict[int, list[int]]:
    """Post ids per unit, ``SAMPLE_PER_UNIT`` each, chosen with a fixed seed."""
    from publisher.models import Post

    by_unit: dict[int, list[int]] = {}
    with core.sessions() as s:
        for pid, unit in s.execute(select(Post.id, Post.unit_id).order_by(Post.id)):
            by_unit.setdefault(unit, []).append(pid)
    rnd = random.Random(15)
    return {u: sorted(rnd.sample(ids, min(SAMPLE_PER_UNIT, len(ids))))
            for u, ids in by_unit.items()}


def data_span(core: Core) -> tuple[datetime | None, datetime | None]:
    """The first and last scheduled time of the posts (the generator's 24 months)."""
    from publisher.models import Post

    with core.sessions() as s:
        lo, hi = s.execute(select(func.min(Post.scheduled_at), func.max(Post.scheduled_at))).one()
    return lo, hi
