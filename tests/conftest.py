"""Shared fixtures, in the style of Flask's tutorial: ``core``, ``app``, ``client``, ``session``,
``make_user``, ``login_as``, ``api`` — on SQLite and, when WARTA_TEST_DATABASE_URL is set (CI
always sets it), on PostgreSQL too: every database test runs on both."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url

from publisher.config import load_settings
from publisher.core import Core, build_core
from publisher.db import make_engine
from publisher.migrate import upgrade
from publisher.models import Role, Unit, User
from publisher.services import org
from tests import wallclock

pytest_plugins = ["tests.fakes.fixtures"]

PG_URL = os.environ.get("WARTA_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must set WARTA_TEST_DATABASE_URL: database tests run on PostgreSQL too.")


#: The instant every test starts at: a Wednesday, 10:00 WIB (03:00 UTC), mid-month, far from any
#: local midnight in Indonesia's three zones. Tests about the time of day pick their instants
#: themselves (see ``AWKWARD_INSTANTS``); ``WARTA_TEST_NOW`` (ISO 8601, with an offset) starts
#: the whole suite somewhere else, to show that nothing depends on where it starts.
DEFAULT_TEST_NOW = datetime(2026, 6, 10, 3, 0, 0, tzinfo=UTC)


def _start_instant() -> datetime:
    raw = os.environ.get("WARTA_TEST_NOW", "").strip()
    if not raw:
        return DEFAULT_TEST_NOW
    start = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if start.tzinfo is None:
        raise RuntimeError("WARTA_TEST_NOW needs an offset (…Z or +07:00)")
    return start.astimezone(UTC)


TEST_NOW = _start_instant()

#: Instants where a day, a month or a report period changes somewhere in Indonesia:
#: WIB (UTC+7) midnight is 17:00 UTC, WITA (UTC+8) 16:00 UTC, WIT (UTC+9) 15:00 UTC.
AWKWARD_INSTANTS = {
    "wib-before-midnight": datetime(2026, 6, 10, 16, 59, 59, tzinfo=UTC),
    "wib-after-midnight": datetime(2026, 6, 10, 17, 0, 0, tzinfo=UTC),
    "wita-before-midnight": datetime(2026, 6, 10, 15, 59, 59, tzinfo=UTC),
    "wita-after-midnight": datetime(2026, 6, 10, 16, 0, 0, tzinfo=UTC),
    "wit-before-midnight": datetime(2026, 6, 10, 14, 59, 59, tzinfo=UTC),
    "wit-after-midnight": datetime(2026, 6, 10, 15, 0, 0, tzinfo=UTC),
    "month-end-wib": datetime(2026, 6, 30, 16, 59, 59, tzinfo=UTC),  # 23:59:59 WIB, 30 June
    "year-end-wib": datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC),
}


_wall_clock_traveller = None


def pytest_configure(config: pytest.Config) -> None:
    """``WARTA_FAKE_WALL_CLOCK=23:30`` runs the session on a fake wall clock (tests/wallclock.py):
    proof that no test reads the real one."""
    global _wall_clock_traveller
    _wall_clock_traveller = wallclock.start_from_env()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _wall_clock_traveller is not None:
        _wall_clock_traveller.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say where the run's clocks are, so a failure at an odd hour can be reproduced."""
    lines = [f"warta: the clock fixture starts at {TEST_NOW.isoformat()}; the machine's zone is "
             f"TZ={os.environ.get('TZ', '')!r} (UTC{datetime.now().astimezone():%z})"]
    if _wall_clock_traveller is not None:
        lines.append(f"warta: wall clock faked to {datetime.now(UTC).isoformat()} "
                     f"({wallclock.FAKE_ENV}={os.environ.get(wallclock.FAKE_ENV, '')!r})")
    return lines


class Clock:
    """A controllable clock: tests move time instead of waiting for it. It starts at a fixed
    instant, so a run at 23:30 UTC behaves like one at noon (the suite used to start from the wall
    clock and failed seven hours a day)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or TEST_NOW
        self.frozen = True

    def __call__(self) -> datetime:
        return self.now if self.frozen else datetime.now(UTC)

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """Migrate once into a template database; each test copies it (fast, isolated)."""
    if not PG_URL:
        yield None
        return
    import psycopg

    url = make_url(PG_URL)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"warta_tpl_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url.set(database=name, drivername="postgresql+psycopg")
                         .render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        for (db,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                  (f"warta_t_{os.getpid()}_%",)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_sqlite_template: Path | None = None


def _sqlite_migrated(tmp_path: Path) -> Path:
    """A copy of one SQLite file migrated once per test process. Running every migration for
    each of the thousands of SQLite tests cost about 0.1 s each (minutes of CI); a copy of the
    migrated file is the same schema, byte for byte, in well under a millisecond. The engine
    is disposed before the copy, so no page is left behind in a ``-wal`` file."""
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        tpl = Path(tempfile.gettempdir()) / f"warta-tpl-{os.getpid()}-{uuid.uuid4().hex}.db"
        engine = make_engine(f"sqlite:///{tpl}")
        upgrade(engine)
        engine.dispose()
        atexit.register(tpl.unlink, missing_ok=True)
        _sqlite_template = tpl
    target = tmp_path / "warta.db"
    shutil.copyfile(_sqlite_template, target)
    return target


def new_database_url(backend: str, tmp_path: Path, pg_template: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{_sqlite_migrated(tmp_path)}"
    import psycopg

    url = make_url(PG_URL)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"warta_t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    return url.set(database=name, drivername="postgresql+psycopg").render_as_string(
        hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Clock:
    """The test's clock. Parametrise it indirectly with a name of ``AWKWARD_INSTANTS`` (or a
    datetime) to start elsewhere: ``@pytest.mark.parametrize("clock", [...], indirect=True)``."""
    start = getattr(request, "param", None)
    return Clock(AWKWARD_INSTANTS[start] if isinstance(start, str) else start)


@pytest.fixture
def test_env(backend: str, tmp_path: Path, pg_template: str | None) -> dict[str, str]:
    """The WARTA_* environment of one isolated installation (database, media, outbox)."""
    from cryptography.fernet import Fernet

    return {
        "WARTA_DATABASE_URL": new_database_url(backend, tmp_path, pg_template),
        "WARTA_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WARTA_MEDIA_DIR": str(tmp_path / "media"),
        "WARTA_SANDBOX_OUTBOX": str(tmp_path / "outbox"),
        "WARTA_MAX_UPLOAD_MB": "5",
        "WARTA_LEASE_SECONDS": "60",
    }


@pytest.fixture
def core(test_env: dict[str, str], clock: Clock) -> Iterator[Core]:
    c = build_core(load_settings(test_env), clock=clock)
    yield c
    c.engine.dispose()


@pytest.fixture
def session(core: Core) -> Iterator:
    s = core.sessions()
    yield s
    s.close()


@pytest.fixture
def units(core: Core) -> dict[str, Unit]:
    with core.sessions.begin() as s:
        a = org.create_unit(s, name="Dinas Sosial", slug="dinsos")
        b = org.create_unit(s, name="Bappeda", slug="bappeda")
    return {"a": a, "b": b}


@pytest.fixture
def make_user(core: Core, units: dict[str, Unit]) -> Callable[..., User]:
    def make(role: str = Role.OPERATOR, unit: str | None = "a", password: str = "rahasia123",
             email: str | None = None) -> User:
        with core.sessions.begin() as s:
            u = units[unit] if unit else None
            return org.create_user(s, email=email or f"{role}{next(_counter)}@example.go.id",
                                   name=f"{role.title()} {unit}", role=role, unit=u,
                                   password=password, check_strength=False)
    return make


@pytest.fixture
def app(core: Core):  # type: ignore[no-untyped-def]
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def token_for(core: Core) -> Callable[[User], str]:
    def make(user: User) -> str:
        with core.sessions.begin() as s:
            return org.create_token(s, s.get(User, user.id))
    return make


class Api:
    """A JSON client for /api/v1 acting as one user."""

    def __init__(self, client, token: str) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str):  # type: ignore[no-untyped-def]
        def call(path: str, **kw):  # type: ignore[no-untyped-def]
            return getattr(self.client, method)("/api/v1" + path, headers=self.headers, **kw)
        return call


@pytest.fixture
def api_as(client, token_for) -> Callable[[User], Api]:  # type: ignore[no-untyped-def]
    return lambda user: Api(client, token_for(user))


@pytest.fixture
def login_as(client, make_user):  # type: ignore[no-untyped-def]
    """Log the test client into the browser UI as a new user of a role and unit."""
    def login(role: str = Role.OPERATOR, unit: str | None = "a") -> User:
        user = make_user(role, unit)
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return user
    return login


CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests check the UI, not the database: run them once, on SQLite. Tests of
    several processes sharing one database run on PostgreSQL only (SQLite is one machine's);
tests of a SQLite-only code path (``sqlite_only``) run on SQLite only.

    The other variants are *deselected* (not skipped), so a CI run reports no skips.
    """
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend_param = params.params.get("backend") if params else None
        if item.get_closest_marker("browser") and backend_param not in (None, "sqlite"):
            drop.append(item)
        elif item.get_closest_marker("postgresql_only") and backend_param == "sqlite":
            drop.append(item)
        elif item.get_closest_marker("sqlite_only") and backend_param not in (None, "sqlite"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def cli_process_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """For tests that run the ``warta`` commands in-process: the commands take over the root
    logger (``make_core``) and read ``.env`` in the working folder, so the root logger's
    handlers and level are put back afterwards and the working folder is an empty one."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.chdir(tmp_path)
    yield
    root.handlers[:], root.level = saved


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium. Missing locally: skip; missing in CI: fail (CI must install it)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI; .ci/run installs the chromium package")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium)")
    return CHROMIUM
