"""The migrations build exactly the schema the models describe, on each backend: an index or
column added to a model without a migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import publisher.models  # noqa: F401 - registers every table on Base.metadata
from postqueue.models import JobBase
from publisher.db import Base


def test_migrated_schema_matches_the_models(core):  # type: ignore[no-untyped-def]
    with core.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        diff = compare_metadata(ctx, [Base.metadata, JobBase.metadata])
    assert diff == []
