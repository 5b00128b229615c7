"""Property-based calls generated from the OpenAPI document: whatever arrives, no 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from partnerdesk.accounts.models import Role


def test_no_generated_input_makes_the_api_fail(app, actors):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    callers = {role: actors(role) for role in Role}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case) -> None:
            for caller in (callers[Role.admin_agent], callers[Role.operator]):
                response = case.call(headers={"Authorization": f"Bearer {caller.token}"})
                assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        call()
