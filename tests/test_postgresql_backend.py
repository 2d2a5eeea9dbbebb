"""
The product's PostgreSQL backend (tracker/postgresql): its health check polls the socket and
asks the server only when the socket has something to say, so a connection the server
dropped is still found and replaced before a request's query would fail on it.
"""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


def terminate(pid: int) -> None:
    """Drop the connection from the server's side, as a restart or a failover does."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_the_server_dropped_is_found_and_the_next_request_reconnects(client):
    assert connection.settings_dict["ENGINE"] == "tracker.postgresql"
    connection.ensure_connection()
    assert connection.is_usable()
    pid = connection.connection.info.backend_pid
    terminate(pid)
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the server's close reaches the socket
    assert not connection.is_usable()
    # A request's first query finds it, as Django's own check would, and reconnects.
    connection.health_check_done = False
    response = client.get("/api/v1/statements/")
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != pid
