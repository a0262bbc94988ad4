"""``warta backup`` / ``warta restore``: an installation with a channel and an approved post with
a photo is backed up, restored into an empty installation (another database, another media
folder) and published from there; a restore never overwrites a database in use; PostgreSQL
without its client tools says so."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import make_url

from publisher.cli import cli
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import Publication, PublicationStatus, Role, User
from publisher.services.media import upload_media
from publisher.worker import run_once
from tests.conftest import PG_URL
from tests.helpers import approved_post, outbox_records, sandbox_channel

#: The commands run in-process (see the fixture).
pytestmark = pytest.mark.usefixtures("cli_process_state")


def _warta(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated: a new SQLite path, or a new PostgreSQL database (named
    like the fixtures' ones, so the session's clean-up drops it even after a crash)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'warta.db'}"
        return
    import psycopg

    url = make_url(PG_URL)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"warta_t_{os.getpid()}_restore_{tmp_path.name[-20:]}".replace("-", "_").lower()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name, drivername="postgresql+psycopg").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_restore_into_an_empty_install_then_publish(core, test_env, clock, make_user,
                                                    tmp_path, empty_database):  # type: ignore[no-untyped-def]
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    channel = sandbox_channel(core, operator, "dinsos-fb")
    photo = _photo()
    with core.sessions.begin() as s:
        asset_id = upload_media(core, s, s.get(User, operator.id), io.BytesIO(photo),
                                "banjir.png").id
    post_id = approved_post(core, operator, approver, [channel], media=[asset_id],
                            when=clock.now + timedelta(hours=1))
    folder = tmp_path / "cadangan"

    made = _warta(test_env, "backup", str(folder))
    assert made.exit_code == 0, made.output
    assert "1 media files" in made.output and "WARTA_ENCRYPTION_KEY" in made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["media_files"] == 1 and manifest["schema_revision"]

    other = tmp_path / "kantor-baru"
    env_b = {**test_env, "WARTA_DATABASE_URL": empty_database,
             "WARTA_MEDIA_DIR": str(other / "media"), "WARTA_SANDBOX_OUTBOX": str(other / "out")}
    done = _warta(env_b, "restore", str(folder))
    assert done.exit_code == 0, done.output
    assert "Peringatan" not in done.output  # the same key opens the credentials

    restored = build_core(load_settings(env_b), clock=clock)
    try:
        clock.advance(hours=1)
        assert run_once(restored) == 1
        with restored.sessions() as s:
            pub = s.query(Publication).filter_by(post_id=post_id).one()
            assert pub.status == PublicationStatus.PUBLISHED
        [record] = outbox_records(restored, "dinsos-fb")
        assert record["body"] == "Bantuan sosial tahap 2 cair hari ini."
        [copied] = (other / "out" / "dinsos-fb" / "media").iterdir()
        assert copied.read_bytes() == photo  # the photo came from the restored media folder
    finally:
        restored.engine.dispose()
    assert outbox_records(core, "dinsos-fb") == []  # the original installation did nothing


def test_restore_refuses_a_database_in_use(core, test_env, tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "cadangan"
    assert _warta(test_env, "backup", str(folder)).exit_code == 0
    res = _warta(test_env, "restore", str(folder))
    assert res.exit_code == 1
    assert "not empty" in res.output


def test_backup_wants_a_new_folder_and_restore_a_whole_backup(core, test_env, tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "cadangan"
    folder.mkdir()
    (folder / "lain.txt").write_text("x")
    res = _warta(test_env, "backup", str(folder))
    assert res.exit_code == 1 and "not empty" in res.output
    good = tmp_path / "baik"
    assert _warta(test_env, "backup", str(good)).exit_code == 0
    db_file = next(p for p in good.iterdir() if p.name.startswith("warta."))
    db_file.write_bytes(db_file.read_bytes()[:-10])  # cut short
    env_b = {**test_env, "WARTA_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    res = _warta(env_b, "restore", str(good))
    assert res.exit_code == 1 and "corrupt" in res.output


@pytest.mark.postgresql_only
def test_postgresql_without_client_tools_says_so(core, test_env, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    res = _warta(test_env, "backup", str(tmp_path / "cadangan"))
    assert res.exit_code != 0
    assert "pg_dump" in res.output and "postgresql-client" in res.output
