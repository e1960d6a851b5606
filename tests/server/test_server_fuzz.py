"""Schemathesis fuzzes the live server from its own OpenAPI schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings


@pytest.fixture(scope="module")
def api_schema(server_url: str) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(server_url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    response = case.call(timeout=60)
    assert response.status_code < 500 or response.status_code in (502, 503), response.text
    case.validate_response(response)
