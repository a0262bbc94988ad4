"""The running core: settings, database, queue and key box, built once per process.

The web app, the worker and the CLI each build one ``Core`` and pass it to services; nothing is
global, so a test can build several against different databases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from postqueue import JobQueue
from publisher.config import Settings, load_settings
from publisher.crypto import CredentialBox
from publisher.db import make_engine, make_sessionmaker, utcnow
from publisher.keys import ensure_keys


@dataclass
class Core:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    queue: JobQueue
    box: CredentialBox
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()


def build_core(settings: Settings | None = None, *,
               clock: Callable[[], datetime] = utcnow) -> Core:
    settings = ensure_keys(settings or load_settings())
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    return Core(settings=settings, engine=engine, sessions=sessions,
                queue=JobQueue(sessions, clock=clock), box=CredentialBox(settings.encryption_key),
                clock=clock)
