"""
The whole API, fuzzed from its own OpenAPI schema by schemathesis: no server error, and
every answer (status, content type, headers, body) is what the schema documents.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.throttling import AnonRateThrottle
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Generating the schema reads no data, so it can be loaded when the tests are collected.
# Django's WSGI application itself, not tracker.wsgi: importing that would mark this test
# process (and every process it starts) as a web server with a statement timeout.
application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "1000000/minute", raising=False)


@pytest.fixture
def keep_the_test_transaction():
    """
    Django closes the database connection when a request ends unless it is its own test
    client making the request; schemathesis calls the WSGI application directly, so keep
    the connection (and the test's transaction) open as the test client would.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=60,
    # The same examples on every run, so that CI is repeatable; raise max_examples or drop
    # this locally to explore further.
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_the_promises_of_its_schema(
    case, seeded, no_rate_limit, keep_the_test_transaction
):
    # A schema cannot say "a slug that exists": a well-formed but unknown slug is a 400 or
    # a 404 by design, so valid-looking data need not be accepted.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
