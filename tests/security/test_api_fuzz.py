"""A bounded schemathesis run against ``/api/v1/openapi.json``, on both backends: no input
the document allows (or breaks) may give a 5xx, and every answer must match the document
(its status among the listed ones, its body the listed schema).

Bounded and repeatable: a fixed number of examples per operation, derandomized (hypothesis's
fixed seed), no deadline (the machine is shared). Hypothesis runs as a library here; its
pytest plugin stays off (see pyproject's addopts).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from publisher.models import Role
from tests.helpers import sandbox_channel

#: Examples per operation: ~16 operations × this × 2 backends stays within a few minutes.
EXAMPLES = 6


@pytest.fixture
def api_schema(app, make_user, token_for, core):  # type: ignore[no-untyped-def]
    """The API's own document, served by the app under test (WSGI, no network)."""
    user = make_user(Role.APPROVER, "a")
    sandbox_channel(core, user, "fuzz")
    token = token_for(user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.update(headers={"Authorization": f"Bearer {token}"})
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


def not_a_server_error(ctx, response, case):  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_bad_input_with_documented_4xx(case):  # type: ignore[no-untyped-def]
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance,
                                             response_schema_conformance])
