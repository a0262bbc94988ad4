"""A small, general job queue kept in the application's own database.

It knows jobs, not posts: a kind, a JSON payload, a run time, attempts, a lease and optional
lock and dedupe keys. Publishing, metrics collection and maintenance are all jobs in it. See
``queue.py`` for the claim protocol and ``retry.py`` for backoff.
"""

from postqueue.models import Job, JobBase, JobStatus
from postqueue.queue import ClaimedJob, JobQueue, enqueue, enqueue_many
from postqueue.retry import backoff_seconds

__all__ = ["ClaimedJob", "Job", "JobBase", "JobQueue", "JobStatus", "backoff_seconds", "enqueue",
           "enqueue_many"]
