"""``warta backup`` and ``warta restore``: one folder holding a consistent copy of the database
and the media, and the way back into an empty installation.

The database is copied first, by the backend's own consistent-snapshot tool (SQLite's online
backup API, safe while workers write; ``pg_dump``'s single-transaction snapshot), and the media
after it: media files are content-addressed and never rewritten, so every file the snapshot
names is already on disk when the folder is copied, and a file uploaded meanwhile is only an
unused extra. The keys are not in the folder: channel credentials are sealed with
``WARTA_ENCRYPTION_KEY``, which must be kept (and restored) apart from the backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select

from publisher.core import Core
from publisher.readiness import current_revision
from publisher.storage import storage_for

MANIFEST = "manifest.json"
SQLITE_FILE = "warta.sqlite3"
PG_FILE = "warta.pgdump"
MEDIA = "media"
FORMAT = 1


class BackupError(ValueError):
    """A backup or restore that cannot be done; the message says why and what to do (the CLI
    prints it and exits non-zero)."""


@dataclass(frozen=True)
class Summary:
    backend: str
    revision: str | None
    media_files: int
    media_bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL for pg_dump/pg_restore, the password in the environment
    (never on a command line, where ``ps`` shows it)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"`{name}` tidak ditemukan di PATH: pasang klien PostgreSQL "
                          f"(paket postgresql-client) / `{name}` is not on PATH: install the "
                          "PostgreSQL client tools (package postgresql-client).")
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        from adapters.errors import redact

        reason = redact(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
        raise BackupError(f"{what} gagal / failed (exit {done.returncode}): {reason}")


def _sqlite_path(engine: Engine) -> Path:
    path = engine.url.database or ""
    if not path or path == ":memory:":
        raise BackupError("Database SQLite di memori tidak dapat dicadangkan / an in-memory "
                          "SQLite database cannot be backed up.")
    return Path(path)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while other connections write."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def backup(core: Core, target: Path) -> Summary:
    """Write the database and the media into ``target`` (new or empty)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"Folder {target} tidak kosong; pilih folder baru / is not empty; "
                          "choose a new folder for each backup.")
    target.mkdir(parents=True, exist_ok=True)
    engine = core.engine
    with engine.connect() as conn:
        revision = current_revision(conn)
    backend = engine.dialect.name
    if backend == "sqlite":
        db_file = target / SQLITE_FILE
        _sqlite_copy(_sqlite_path(engine), db_file)
    else:
        db_file = target / PG_FILE
        url, env = _libpq(engine)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={db_file}", f"--dbname={url}"], env, "pg_dump")
    storage = storage_for(core.settings)
    (target / MEDIA).mkdir()
    for key in sorted(storage.keys()):
        dest = target / MEDIA / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(key) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
    files = [p for p in (target / MEDIA).rglob("*") if p.is_file()]
    summary = Summary(backend, revision, len(files), sum(p.stat().st_size for p in files))
    manifest = {"format": FORMAT, "created_at": core.now().isoformat(), "backend": backend,
                "schema_revision": revision, "database_file": db_file.name,
                "database_sha256": _sha256(db_file), "media_files": summary.media_files,
                "media_bytes": summary.media_bytes,
                "note": "WARTA_ENCRYPTION_KEY is not included: keep it apart from this folder."}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return summary


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} bukan cadangan Warta (tidak ada {MANIFEST}) / is not a "
                          f"Warta backup (no {MANIFEST}).")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Format cadangan {manifest.get('format')!r} tidak dikenal / unknown "
                          "backup format.")
    db_file = source / str(manifest["database_file"])
    if not db_file.is_file() or _sha256(db_file) != manifest["database_sha256"]:
        raise BackupError(f"Berkas database cadangan {db_file.name} hilang atau rusak / the "
                          "backup's database file is missing or corrupt.")
    return manifest


def _refuse_unless_empty(engine: Engine) -> None:
    try:
        tables = inspect(engine).get_table_names()
    except Exception as exc:  # noqa: BLE001 - unreachable: say so in one sentence
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise BackupError(f"Database tujuan tidak dapat dibuka / the target database cannot "
                          f"be opened: {reason}") from None
    if tables:
        raise BackupError("Database tujuan tidak kosong; pulihkan ke database baru yang kosong "
                          "/ the target database is not empty; restore into a new, empty one.")


def restore(core: Core, source: Path) -> Summary:
    """Put a backup into this installation's (empty) database and media folder, then bring
    the schema to this version's head."""
    from publisher.migrate import upgrade

    manifest = read_manifest(source)
    engine = core.engine
    backend = engine.dialect.name
    if manifest["backend"] != backend:
        raise BackupError(f"Cadangan ini dari {manifest['backend']}, database tujuan {backend} / "
                          f"this backup is of {manifest['backend']}, the target is {backend}.")
    _refuse_unless_empty(engine)
    db_file = source / str(manifest["database_file"])
    if backend == "sqlite":
        engine.dispose()
        _sqlite_copy(db_file, _sqlite_path(engine))
    else:
        url, env = _libpq(engine)
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--dbname={url}", str(db_file)], env, "pg_restore")
    copied = 0
    size = 0
    storage = storage_for(core.settings)
    for path in sorted((source / MEDIA).rglob("*")):
        if not path.is_file():
            continue
        key = path.relative_to(source / MEDIA).as_posix()
        if not storage.exists(key):  # content-addressed: a file of that name is that content
            fd, tmp = tempfile.mkstemp(suffix=".part")
            os.close(fd)
            shutil.copyfile(path, tmp)
            storage.put_file(Path(tmp), key)
        copied += 1
        size += path.stat().st_size
    upgrade(engine)
    with engine.connect() as conn:
        revision = current_revision(conn)
    return Summary(backend, revision, copied, size)


def credentials_open(core: Core) -> bool | None:
    """Can this installation's key open the restored channel credentials? (None: there are
    no channels to try.)"""
    from publisher.models import Channel

    with core.sessions() as s:
        sealed = s.execute(select(Channel.credentials_encrypted).limit(1)).scalar()
    if sealed is None:
        return None
    try:
        core.box.open(sealed)
    except Exception:  # noqa: BLE001 - a wrong key, whatever the cryptography error
        return False
    return True


def database_label(core: Core) -> str:
    return core.engine.url.render_as_string(hide_password=True)
