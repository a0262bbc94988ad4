"""Bulk import: a month of planned posts from a spreadsheet, checked row by row before
anything exists, then created together or not at all.

A row is checked by the composer's own use cases, not by a copy of their rules: the names in
it are resolved within the importing unit (channels, campaigns, uploads), ``refuse_past_time``
judges its time, and ``create_post`` (plus ``submit_post`` when submitting) runs for real inside
a SAVEPOINT, where ``platform_problems`` asks each channel's adapter about the post. A preview
rolls every savepoint back; ``apply_import`` keeps them only when every row passed, so the
caller's one transaction holds all the posts or none. Importing never approves anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import (
    AuditEvent,
    Campaign,
    Channel,
    ChannelStatus,
    MediaAsset,
    Post,
    Role,
    Unit,
    User,
)
from publisher.services import audit
from publisher.services import posts as post_service
from publisher.services.bulk_files import COLUMNS, SourceFile, SourceRow
from publisher.services.errors import Conflict, Invalid, ServiceError, Text
from publisher.services.query_args import MAX_ID
from publisher.timeutil import BadTime, parse_time

#: Names one cell may list (a unit has a handful of channels; a post a few pictures).
MAX_NAMES = 20
#: How long a finished import's id is remembered against a second "create" of the same preview.
REPLAY_WINDOW = timedelta(days=2)

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$")
#: Day first, as Excel writes a date under Indonesian regional settings (11/06/2026 9:00).
_DAY_FIRST = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4}) (\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$")


@dataclass(frozen=True)
class Named:
    """A channel, campaign or upload a row points at, as the preview shows it."""

    id: int
    name: str
    kind: str = ""  # the platform of a channel, the kind of an upload


@dataclass
class RowPlan:
    number: int
    body: str
    channels: list[Named] = field(default_factory=list)
    scheduled_at: datetime | None = None
    time_text: str = ""
    campaign: Named | None = None
    media: list[Named] = field(default_factory=list)
    link: str = ""
    errors: list[Text] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)


@dataclass
class ImportPlan:
    unit_id: int
    zone: str
    submit: bool
    rows: list[RowPlan]
    warnings: list[Text]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def rows_with_errors(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]


class ImportRefused(Invalid):
    """Some rows did not pass: nothing was created. ``plan`` says which and why."""

    def __init__(self, plan: ImportPlan) -> None:
        n = len(plan.rows_with_errors)
        if not plan.rows:
            super().__init__("Berkas tidak berisi unggahan.", "The file holds no posts.",
                             code="no_rows")
        else:
            super().__init__(f"Tidak ada yang dibuat: {n} baris bermasalah.",
                             f"Nothing was created: {n} row(s) have problems.",
                             code="rows_invalid")
        self.plan = plan


def import_unit(session: Session, actor: User, unit_id: int | None) -> Unit:
    """The unit the posts are for: an admin chooses one; anyone else imports into their own
    (a unit id sent by them is ignored, as ``create_post`` ignores it)."""
    chosen = unit_id if actor.role == Role.ADMIN else actor.unit_id
    unit = session.get(Unit, chosen) if chosen is not None and 0 < chosen <= MAX_ID else None
    if unit is None:
        raise Invalid("Pilih unit untuk unggahan ini.", "Choose a unit for these posts.",
                      fields={"unit": Text("Pilih unit.", "Choose a unit.")}, code="unit")
    return unit


def plan_import(core: Core, session: Session, actor: User, source: SourceFile, *,
                unit_id: int | None = None, submit: bool = False) -> ImportPlan:
    """Check every row as the composer would, creating nothing (all rolled back)."""
    unit = import_unit(session, actor, unit_id)
    outer = session.begin_nested()
    try:
        plan, _posts = _run(core, session, actor, unit, source, submit)
    finally:
        outer.rollback()
    return plan


def apply_import(core: Core, session: Session, actor: User, source: SourceFile, *,
                 unit_id: int | None = None, submit: bool = False,
                 import_id: str = "") -> list[Post]:
    """Create every row as a draft (``submit``: submitted for approval) in the caller's
    transaction, or raise ``ImportRefused`` with nothing created. ``import_id`` names the
    preview being confirmed: confirming it twice (a double click, the back button) is refused
    instead of creating every post again."""
    unit = import_unit(session, actor, unit_id)
    if import_id and _already_imported(core, session, actor, import_id):
        raise Conflict("Impor ini sudah dibuat; lihat daftar unggahan.",
                       "This import was already created; see the posts list.",
                       code="already_imported")
    outer = session.begin_nested()
    try:
        plan, posts = _run(core, session, actor, unit, source, submit)
    except BaseException:
        outer.rollback()
        raise
    if not plan.ok:
        outer.rollback()
        raise ImportRefused(plan)
    outer.commit()
    audit.record(session, "post.bulk_import", "post", None, actor=actor, unit_id=unit.id,
                 data={"count": len(posts), "submitted": submit, "file": source.name,
                       "import_id": import_id})
    return posts


def _already_imported(core: Core, session: Session, actor: User, import_id: str) -> bool:
    recent = session.execute(select(AuditEvent.data).where(
        AuditEvent.action == "post.bulk_import", AuditEvent.actor_id == actor.id,
        AuditEvent.at >= core.now() - REPLAY_WINDOW)).scalars()
    return any((data or {}).get("import_id") == import_id for data in recent)


# -- one pass over the rows --------------------------------------------------------------------

@dataclass
class _Lookups:
    """The unit's channels, campaigns and named uploads, read once per import."""

    channels: dict[str, list[Channel]]
    campaigns: dict[str, list[Campaign]]
    media: dict[str, list[MediaAsset]]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _lookups(session: Session, unit: Unit, source: SourceFile) -> _Lookups:
    channels: dict[str, list[Channel]] = {}
    for ch in session.execute(select(Channel).where(Channel.unit_id == unit.id)
                              .order_by(Channel.id)).unique().scalars():
        channels.setdefault(_key(ch.name), []).append(ch)
    campaigns: dict[str, list[Campaign]] = {}
    for camp in session.execute(select(Campaign).where(
            or_(Campaign.unit_id.is_(None), Campaign.unit_id == unit.id))
            .order_by(Campaign.id)).scalars():
        campaigns.setdefault(_key(camp.name), []).append(camp)
    wanted = {n for row in source.rows for n in _names(row.cells.get("media", ""))}
    wanted |= {row.cells.get("media", "").strip() for row in source.rows}
    wanted.discard("")
    media: dict[str, list[MediaAsset]] = {}
    if wanted:
        # lower() in SQL folds ASCII only on SQLite: exact spellings are asked for as well
        # the unit's own media and the region-wide ones (the library's), its own first
        q = (select(MediaAsset).where(
            or_(MediaAsset.unit_id == unit.id, MediaAsset.region_wide.is_(True)), or_(
                func.lower(MediaAsset.original_name).in_({w.lower() for w in wanted}),
                MediaAsset.original_name.in_(wanted)))
            .order_by(MediaAsset.unit_id != unit.id, MediaAsset.created_at.desc(),
                      MediaAsset.id.desc()))
        for asset in session.execute(q).scalars():
            media.setdefault(_key(asset.original_name), []).append(asset)
    return _Lookups(channels, campaigns, media)


def _run(core: Core, session: Session, actor: User, unit: Unit, source: SourceFile,
         submit: bool) -> tuple[ImportPlan, list[Post]]:
    warnings: list[Text] = []
    if source.unknown_columns:
        names = ", ".join(source.unknown_columns)
        warnings.append(Text(f"Kolom yang tidak dikenal dan tidak dibaca: {names}.",
                             f"Unknown columns, not read: {names}."))
    lookups = _lookups(session, unit, source)
    rows: list[RowPlan] = []
    posts: list[Post] = []
    for src in source.rows:
        plan, post = _row(core, session, actor, unit, lookups, src, submit)
        rows.append(plan)
        if post is not None:
            posts.append(post)
    return ImportPlan(unit_id=unit.id, zone=unit.timezone, submit=submit, rows=rows,
                      warnings=warnings), posts


def _row(core: Core, session: Session, actor: User, unit: Unit, lookups: _Lookups,
         src: SourceRow, submit: bool) -> tuple[RowPlan, Post | None]:
    cells = src.cells
    row = RowPlan(number=src.number, body=cells.get("body", "").replace("\r\n", "\n").strip(),
                  link=cells.get("link", "").strip(), time_text=cells.get("time", "").strip())
    for key in src.formulas:
        header = COLUMNS[key][0]
        row.warnings.append(Text(
            f"Kolom {header} berisi rumus; yang diimpor adalah tulisan rumusnya, bukan hasilnya.",
            f"The {header} column holds a formula; its text is imported, not its result."))
    said: set[str] = set()  # the fields whose cell already said what is wrong with it
    channel_ids = _said(row, said, "channels", _resolve_channels, lookups, cells)
    media_ids = _said(row, said, "media", _resolve_media, lookups, cells)
    campaign_id = _said(row, said, "campaign", _resolve_campaign, lookups, cells)
    when = _parse_time(row.time_text, unit.timezone, row)
    if when is not None:
        try:
            post_service.refuse_past_time(core, when)
            row.scheduled_at = when
        except ServiceError as exc:
            row.errors += _texts(exc)
    data = post_service.PostInput(body=row.body, channels=channel_ids, media=media_ids,
                                  scheduled_at=row.scheduled_at, link=row.link or None,
                                  campaign=campaign_id)
    savepoint = session.begin_nested()
    try:
        post = post_service.create_post(core, session, actor, data, unit_id=unit.id)
        row.errors += post_service.platform_problems(core, session, post)
        if submit and not row.errors:
            post_service.submit_post(core, session, actor, post.id)
    except ServiceError as exc:
        # a cell that named nothing already said why; "choose a channel" would repeat it
        row.errors += [t for f, t in _field_texts(exc) if f not in said]
        post = None
    except BaseException:
        savepoint.rollback()
        raise
    if row.errors or post is None:
        savepoint.rollback()
        return row, None
    savepoint.commit()
    return row, post


def _said(row: RowPlan, said: set[str], key: str, resolve: Any, lookups: _Lookups,
          cells: dict[str, str]) -> Any:
    """``resolve`` the column ``key``; when it reports a problem, ``key`` joins ``said``."""
    before = len(row.errors)
    value = resolve(lookups, cells.get(key, ""), row)
    if len(row.errors) > before:
        said.add(key)
    return value


def _texts(exc: ServiceError) -> list[Text]:
    return [t for _f, t in _field_texts(exc)]


def _field_texts(exc: ServiceError) -> list[tuple[str, Text]]:
    """A refusal's field messages in both languages (a plain string is Indonesian only)."""
    if not exc.fields or exc.code == "platform_rules":
        return [("", Text(exc.message, exc.message_en))]
    return [(f, v if isinstance(v, Text) else Text(str(v), str(v)))
            for f, v in exc.fields.items()]


def _names(cell: str) -> list[str]:
    """Names listed in a cell: split at ``|`` when the cell has one, else at commas."""
    parts = cell.split("|") if "|" in cell else cell.split(",")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _resolve_channels(lookups: _Lookups, cell: str, row: RowPlan) -> list[int]:
    """Channel names of the unit, in any case; "platform:name" picks one of two channels
    with the same name. A disabled channel is passed on, for ``create_post`` to refuse."""
    whole = _key(cell)
    names = [cell.strip()] if whole and whole in lookups.channels else _names(cell)
    if len(names) > MAX_NAMES:
        row.errors.append(Text(f"Terlalu banyak akun dalam satu baris (paling banyak {MAX_NAMES}).",
                               f"Too many channels in one row (at most {MAX_NAMES})."))
        return []
    ids: list[int] = []
    for name in names:
        found = _channel(lookups, name)
        if isinstance(found, Text):
            row.errors.append(found)
            continue
        ids.append(found.id)
        row.channels.append(Named(found.id, found.name, found.platform))
    return list(dict.fromkeys(ids))


def _channel(lookups: _Lookups, name: str) -> Channel | Text:
    candidates = lookups.channels.get(_key(name), [])
    if not candidates and ":" in name:
        platform, _sep, rest = name.partition(":")
        p = _key(platform)
        candidates = [c for c in lookups.channels.get(_key(rest), [])
                      if p in (c.platform.casefold(), c.platform.replace("_", " ").casefold())]
    active = [c for c in candidates if c.status != ChannelStatus.DISABLED]
    candidates = active or candidates
    if not candidates:
        return Text(f"Akun '{name}' tidak ditemukan di unit ini.",
                    f"Channel '{name}' was not found in this unit.")
    if len(candidates) > 1:
        choices = ", ".join(f"{c.platform}:{c.name}" for c in candidates)
        return Text(f"Ada beberapa akun bernama '{name}'; tulis salah satu dari: {choices}.",
                    f"Several channels are named '{name}'; write one of: {choices}.")
    return candidates[0]


def _resolve_media(lookups: _Lookups, cell: str, row: RowPlan) -> list[int]:
    """Uploads of the unit by file name (the newest when a name was uploaded twice). Links are
    refused: fetching an address given in a file would let anyone make the server call any
    machine it can reach."""
    whole = _key(cell)
    names = [cell.strip()] if whole and whole in lookups.media else _names(cell)
    if len(names) > MAX_NAMES:
        row.errors.append(Text(f"Terlalu banyak media dalam satu baris (paling banyak "
                               f"{MAX_NAMES}).",
                               f"Too many media in one row (at most {MAX_NAMES})."))
        return []
    ids: list[int] = []
    for name in names:
        if re.match(r"^[a-z][a-z0-9+.-]*://", name, re.I):
            row.errors.append(Text(
                f"Media dari tautan ({name[:80]}) belum didukung. Unggah berkasnya lewat "
                "penyusun unggahan dulu, lalu tulis nama berkasnya di sini.",
                f"Media from a link ({name[:80]}) is not supported yet. Upload the file in the "
                "composer first, then write its file name here."))
            continue
        assets = lookups.media.get(_key(name), [])
        if not assets:
            row.errors.append(Text(f"Media '{name}' tidak ditemukan di unggahan unit ini.",
                                   f"Media '{name}' was not found among this unit's uploads."))
            continue
        ids.append(assets[0].id)
        row.media.append(Named(assets[0].id, assets[0].original_name, assets[0].kind))
    return list(dict.fromkeys(ids))


def _resolve_campaign(lookups: _Lookups, cell: str, row: RowPlan) -> int | None:
    name = cell.strip()
    if not name:
        return None
    found = lookups.campaigns.get(_key(name), [])
    if not found:
        row.errors.append(Text(f"Kampanye '{name}' tidak ditemukan.",
                               f"Campaign '{name}' was not found."))
        return None
    if len(found) > 1:
        row.errors.append(Text(f"Ada beberapa kampanye bernama '{name}'.",
                               f"Several campaigns are named '{name}'."))
        return None
    row.campaign = Named(found[0].id, found[0].name)
    return found[0].id


def _parse_time(text: str, zone: str, row: RowPlan) -> datetime | None:
    """The unit's wall-clock time: "2026-06-11 09:00" (also with a T, seconds or "09.00"),
    or day first as Excel writes it under Indonesian settings ("11/06/2026 9:00"). Empty is
    "as soon as approved"."""
    if not text:
        return None
    parts: tuple[Any, ...] | None = None
    if m := _ISO.match(text):
        parts = m.groups()
    elif m := _DAY_FIRST.match(text):
        day, month, year, *clock = m.groups()
        parts = (year, month, day, *clock)
    try:
        if parts is None:
            raise ValueError(text)
        year, month, day, hour, minute, second = (int(p or 0) for p in parts)
        return parse_time(datetime(year, month, day, hour, minute, second), zone)
    except (ValueError, BadTime):
        row.errors.append(Text(
            f"Waktu '{text[:40]}' tidak dapat dibaca. Tulis seperti 2026-06-11 09:00 (waktu "
            "unit), atau kosongkan agar terbit segera setelah disetujui.",
            f"The time '{text[:40]}' cannot be read. Write it like 2026-06-11 09:00 (the "
            "unit's time), or leave it empty to publish as soon as it is approved."))
        return None


def example_row(core: Core, session: Session, unit: Unit | None,
                english: bool) -> tuple[list[str], list[Any]]:
    """The template's header and one example row: two of the unit's channels (names a
    spreadsheet would not take for a formula) and tomorrow at 09:00 in the unit's zone."""
    from zoneinfo import ZoneInfo

    header = [aliases[1 if english and len(aliases) > 1 else 0] for aliases in COLUMNS.values()]
    names: list[str] = []
    if unit is not None:
        q = (select(Channel.name).where(Channel.unit_id == unit.id,
                                        Channel.status != ChannelStatus.DISABLED)
             .order_by(Channel.platform, Channel.name).limit(10))
        names = [n for n in session.execute(q).scalars()
                 if not n.startswith(("=", "+", "-", "@", "\t", "\r")) and "|" not in n][:2]
    zone = ZoneInfo(unit.timezone if unit is not None else str(core.settings.timezone))
    tomorrow = (core.now().astimezone(zone) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    body = ("Example: registration for the second round of social aid opens today. "
            "#ExampleHashtag" if english else
            "Contoh: pendaftaran bantuan sosial tahap 2 dibuka hari ini. #ContohTagar")
    return header, [body, " | ".join(names) or ("Channel name" if english else "Nama akun"),
                    tomorrow, "", "", ""]
