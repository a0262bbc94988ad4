"""The APScheduler side of the bench: the job function (importable by reference, as the
SQLAlchemyJobStore pickles ``module:function``) and one scheduler process."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime


def publish(outbox: str, account: str, key: str, body: str, scheduled: str) -> None:
    """Post through the same sandbox adapter Warta's worker uses (one outbox file per post)."""
    from adapters.base import AdapterContext, OutgoingPost
    from adapters.sandbox import SandboxAdapter

    ctx = AdapterContext(credentials={"account": account, "token": "t"}, base_url=None,
                         settings={"outbox": outbox}, state={}, now=lambda: datetime.now(UTC))
    SandboxAdapter(ctx).publish(OutgoingPost(key=key, body=body, media=(), link=None, title=None,
                                             options={},
                                             scheduled_at=datetime.fromisoformat(scheduled)))


def run_scheduler(url: str, grace: str) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    job_defaults = {} if grace == "default" else {"misfire_grace_time": int(grace)}
    sched = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)},
                                job_defaults=job_defaults, timezone="UTC")
    sched.start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        sched.shutdown(wait=False)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_scheduler(sys.argv[1], sys.argv[2])
