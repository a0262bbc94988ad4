"""The background publisher: ``Worker`` for the long-running process, ``run_once`` for one
synchronous round (tests, ``warta worker --once``)."""

from publisher.worker.runner import HANDLERS, Worker, run_job, run_once

__all__ = ["HANDLERS", "Worker", "run_job", "run_once"]
