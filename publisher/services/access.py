"""Unit scoping in one place: a user sees only their unit's objects; admins see all.

An object of another unit is reported as *not found*, so its existence does not leak.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from publisher.models import Role, User
from publisher.services.errors import Forbidden, NotFound

T = TypeVar("T")

_NAMES = {"Channel": ("Akun", "Channel"), "Post": ("Unggahan", "Post"),
          "MediaAsset": ("Media", "Media"), "Publication": ("Penayangan", "Publication"),
          "Campaign": ("Kampanye", "Campaign"), "Unit": ("Unit", "Unit"),
          "User": ("Pengguna", "User")}


def can_see_unit(user: User, unit_id: int | None) -> bool:
    return user.role == Role.ADMIN or (unit_id is not None and unit_id == user.unit_id)


def get_scoped(session: Session, model: type[T], object_id: int, user: User,
               unit_attr: str = "unit_id", *, lock: bool = False) -> T:
    """The object if ``user`` may see it, else *not found* (never *forbidden*: another
    unit's ids are not confirmed to exist). ``lock``: see ``lock_row``."""
    obj = lock_row(session, model, object_id) if lock else session.get(model, object_id)
    if obj is None or not can_see_unit(user, getattr(obj, unit_attr)):
        id_name, en_name = _NAMES.get(model.__name__, (model.__name__, model.__name__))
        raise NotFound(f"{id_name} #{object_id} tidak ditemukan.",
                       f"{en_name} #{object_id} was not found.")
    return obj


def lock_row(session: Session, model: type[T], object_id: int) -> T | None:
    """The row, locked until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL)
    and read afresh, not from the session's cache.

    Two people deciding on one post at once (two approvers, an approver and an editor, an
    approval and a reschedule) must act one after the other: on PostgreSQL both would read
    the same state and both write, e.g. two approvals of one stage, or publications created
    at the time a reschedule had just moved. SQLite needs nothing: a writing transaction
    begins ``IMMEDIATE`` (``publisher.db``), so writers are serialised there already, and
    SQLAlchemy renders no ``FOR UPDATE`` for it."""
    pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    # the lock on the row alone: the model's joined relationships would put ``FOR UPDATE``
    # on an outer join, which PostgreSQL refuses
    if session.execute(select(pk).where(pk == object_id).with_for_update()).first() is None:
        return None
    return session.get(model, object_id, populate_existing=True)


def scope(query: Select, user: User, unit_column: object) -> Select:
    """Restrict a query to what ``user`` may see."""
    if user.role == Role.ADMIN:
        return query
    return query.where(unit_column == user.unit_id)  # type: ignore[operator]


def viewer_scope(user: User) -> tuple[str, int | None]:
    """What ``scope`` lets ``user`` see, as a hashable key (a cache of figures per viewer
    keys on it): kept beside ``scope`` so the two cannot drift apart."""
    if user.role == Role.ADMIN:
        return ("all", None)
    return ("unit", user.unit_id)


def scope_by_post(query: Select, user: User, post_id_column: object) -> Select:
    """Like ``scope`` for rows that belong to a post (publications), without joining the
    posts into the query: the join let SQLite's planner start from every post instead of
    from the few rows the query is about (the dashboard's "needs attention" list)."""
    if user.role == Role.ADMIN:
        return query
    from publisher.models import Post

    mine = select(Post.id).where(Post.unit_id == user.unit_id)
    return query.where(post_id_column.in_(mine))  # type: ignore[attr-defined]


def scope_shared(query: Select, user: User, unit_column: object) -> Select:
    """Like ``scope`` for things a unit may own or the whole region may share (campaigns):
    rows without a unit are everyone's."""
    if user.role == Role.ADMIN:
        return query
    return query.where(unit_column.is_(None) | (unit_column == user.unit_id))  # type: ignore[attr-defined,operator]


def can_see_shared(user: User, unit_id: int | None) -> bool:
    return unit_id is None or can_see_unit(user, unit_id)


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden("Peran Anda tidak mengizinkan tindakan ini.",
                        "Your role does not allow this action.", code="wrong_role")
