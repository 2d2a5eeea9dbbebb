"""
Faults: the database failing under a request, an import cut off midway (by an error, or by
the process being killed), and staff logins under brute force.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.test import Client

from organizations.models import Organization
from statements import importing
from statements.models import Signature, Statement

from .production import ROOT, base_env, on_postgresql

# --- The database failing under a request ---------------------------------------------------


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/statements/", "application/json"),
        ("/api/v1/organizations/codepink/cosigners/", "application/json"),
        ("/statements/", "text/html"),
        ("/organizations/codepink/", "text/html"),
    ],
)
def test_a_database_failure_answers_503_with_retry_after_and_no_trace(seeded, path, kind):
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(_database_gone):
        response = client.get(path)
    assert response.status_code == 503
    assert response["Content-Type"].startswith(kind)
    assert response["Retry-After"] == "10"
    assert "no-store" in response["Cache-Control"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert "Traceback" not in body and "server closed" not in body
    if kind == "application/json":
        assert "briefly unavailable" in json.loads(body)["detail"]
    else:
        assert "Briefly unavailable" in body


def test_a_database_failure_while_a_session_is_saved_keeps_the_policy_headers(db):
    """
    The session is written after the view, by middleware. When that write fails, Django
    answers 400 (it takes the session for deleted meanwhile); the answer still carries the
    Content Security Policy and the framing refusal, and no trace.
    """
    client = Client(raise_request_exception=False)
    client.get("/admin/login/")  # a CSRF cookie; no session yet
    session = client.session  # a session to be saved at the end of the next request
    session["noted"] = True
    session.save()

    def session_table_gone(execute, sql, params, many, context):
        if "django_session" in sql and sql.lstrip().upper().startswith(("UPDATE", "INSERT")):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    def touch_session(request):
        request.session["touched"] = True

    from django.contrib.sessions.middleware import SessionMiddleware

    original = SessionMiddleware.process_request

    def process_request(self, request):
        original(self, request)
        touch_session(request)

    SessionMiddleware.process_request = process_request
    try:
        with connection.execute_wrapper(session_table_gone):
            response = client.get("/statements/")
    finally:
        SessionMiddleware.process_request = original
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert "Traceback" not in response.content.decode()


def test_the_health_check_says_when_the_database_is_unreachable(db):
    client = Client(raise_request_exception=False)
    assert client.get("/health/").json() == {"status": "ok", "database": "ok"}
    with connection.execute_wrapper(_database_gone):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_other_server_errors_stay_500_and_say_nothing_of_the_cause(seeded, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("statements.api.StatementViewSet.list", broken)
    response = Client(raise_request_exception=False).get("/api/v1/statements/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


# --- An import cut off midway ---------------------------------------------------------------


def _bulk_file(path, statements: int, signatures: int):
    organizations = [{"slug": f"bulk-org-{i}", "name": f"Bulk Org {i}"} for i in range(50)]
    records = [
        {
            "slug": f"bulk-{n}",
            "title": f"Bulk statement {n}",
            "status": "published",
            "issued_on": "2025-01-01",
            "signatures": [{"organization": f"bulk-org-{(n + k) % 50}"} for k in range(signatures)],
        }
        for n in range(statements)
    ]
    path.write_text(
        yaml.safe_dump({"organizations": organizations, "statements": records}), encoding="utf-8"
    )
    return path


def _counts():
    return (Organization.objects.count(), Statement.objects.count(), Signature.objects.count())


def test_an_import_that_fails_midway_leaves_nothing_written(seeded, tmp_path, monkeypatch):
    before = _counts()
    original = importing._import_statement
    done = []

    def fails_on_the_third(writer, record):
        if len(done) == 2:
            raise OSError("disk full")
        original(writer, record)
        done.append(record)

    monkeypatch.setattr(importing, "_import_statement", fails_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        importing.import_paths([_bulk_file(tmp_path / "bulk.yaml", 5, 3)])
    assert len(done) == 2  # two statements had been written when it failed...
    assert _counts() == before  # ...and neither they nor the organisations remain
    assert not Organization.objects.filter(slug__startswith="bulk-").exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_midway_leaves_nothing_written(tmp_path):
    """The import runs in a process that is killed (SIGKILL) while it writes."""
    if not on_postgresql():
        pytest.skip("needs a database another process can share (CI runs this on PostgreSQL)")
    before = _counts()
    path = _bulk_file(tmp_path / "bulk.yaml", 2000, 5)
    name = connection.settings_dict["NAME"]
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_statements", str(path)],
        cwd=ROOT,
        env=base_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until its transaction has been writing for a second.
        deadline = time.monotonic() + 60
        writing_for = 0.0
        while writing_for < 1.0:
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "the import never started writing"
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0)"
                    " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                    " AND backend_xid IS NOT NULL",
                    [name],
                )
                writing_for = float(cursor.fetchone()[0])
            time.sleep(0.1)
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # PostgreSQL rolls the transaction back when the connection drops.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
                [name],
            )
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    assert _counts() == before
    assert not Statement.objects.filter(slug__startswith="bulk-").exists()


# --- Staff logins under brute force ---------------------------------------------------------


def _login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_staff_logins_are_locked_after_five_failures_even_with_the_right_password(db):
    users = get_user_model().objects
    users.create_superuser("editor", "editor@example.org", "the-right-password-42")
    users.create_superuser("other", "other@example.org", "another-password-42")
    client = Client()
    for _ in range(4):
        response = _login(client, "editor", "guess")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    response = _login(client, "editor", "guess")
    assert response.status_code == 429
    response = _login(client, "editor", "the-right-password-42")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # not logged in
    # Another account from the same address is not locked out by it.
    assert _login(Client(), "other", "another-password-42").status_code == 302


def test_a_successful_login_resets_the_count(db):
    get_user_model().objects.create_superuser("editor", "e@example.org", "the-right-password-42")
    client = Client()
    for _ in range(4):
        assert _login(client, "editor", "guess").status_code == 200
    assert _login(client, "editor", "the-right-password-42").status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "editor", "guess").status_code == 200
    assert _login(client, "editor", "the-right-password-42").status_code == 302


def test_behind_a_proxy_logins_are_counted_per_client_and_forged_addresses_fall_back(db, settings):
    """With API_NUM_PROXIES=1 the address the proxy saw counts; text that is no address
    (not written by a proxy) falls back to the connecting one instead of failing."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    get_user_model().objects.create_superuser("editor", "e@example.org", "the-right-password-42")

    def attempt(forwarded, password="guess"):
        return Client(HTTP_X_FORWARDED_FOR=forwarded).post(
            "/admin/login/?next=/admin/", {"username": "editor", "password": password}
        )

    # Five failures from one client behind the proxy lock that client out...
    assert [attempt("203.0.113.7").status_code for _ in range(5)] == [200] * 4 + [429]
    # ...but not the real editor, who comes through the same proxy from elsewhere.
    assert attempt("198.51.100.2", "the-right-password-42").status_code == 302
    # Garbage in the header is no address: counted against the proxy's own, never a 500.
    statuses = [attempt(f"garbage-{n}").status_code for n in range(5)]
    assert statuses == [200] * 4 + [429]
