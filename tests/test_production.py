"""
Production mode, end to end: gunicorn with tracker/gunicorn.conf.py and DJANGO_DEBUG off, on
a scratch database of the suite's kind, answering over real sockets. On PostgreSQL the
database is reached through a relay that the fault tests cut and restore. The proxy tests put
nginx with the shipped site file (deploy/nginx.conf) in front.
"""

import http.client
import json
import re
import secrets
import subprocess
import sys
import time

import pytest

from .production import (
    BIN,
    ROOT,
    Relay,
    ScratchDatabase,
    SlowClients,
    fetch,
    gunicorn,
    manage,
    nginx,
    nginx_binary,
    on_postgresql,
    post_login,
    production_env,
)

PAGES = ["/", "/statements/", "/organizations/codepink/", "/api/v1/statements/", "/admin/login/"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    database = ScratchDatabase(tmp_path_factory.mktemp("production"))
    yield database
    database.drop()


@pytest.fixture(scope="module")
def relay(scratch):
    if not on_postgresql():
        yield None
        return
    relay = Relay(scratch.host_port)
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def server(scratch, relay, tmp_path_factory):
    url = scratch.url
    if relay is not None:
        host, port = scratch.host_port
        url = url.replace(f"{host}:{port}", f"127.0.0.1:{relay.port}", 1)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(url, log) as base:
        yield base


@pytest.fixture(scope="module")
def proxy(server, tmp_path_factory):
    """nginx with the shipped site file (deploy/nginx.conf) in front of the server."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (Debian's nginx package; .ci/run installs it)")
    with nginx(server, tmp_path_factory.mktemp("nginx")) as running:
        yield running


def test_deploy_checks_pass_under_production_settings():
    env = production_env("postgres://tracker@db.example.org:5432/tracker")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env("sqlite:////nonexistent/never-opened.sqlite3", GUNICORN_BIND="127.0.0.1:0")
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--config", "tracker/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stdout + result.stderr


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(server, path):
    status, headers, _, _ = fetch(server + path)
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_plain_http_is_sent_to_https_except_the_health_check(server):
    status, headers, _, _ = fetch(server + "/statements/?page=2", https=False)
    assert status == 301
    assert headers["Location"] == "https://127.0.0.1:" + server.rsplit(":", 1)[1] + (
        "/statements/?page=2"
    )
    status, _, body, _ = fetch(server + "/health/", https=False)
    assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok"}


def test_staff_cookies_are_secure_and_hidden_from_scripts(server):
    _, headers, _, _ = fetch(server + "/admin/login/")
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie


def test_static_files_are_served_compressed_by_the_app(server):
    status, headers, body, _ = fetch(
        server + "/static/tracker/site.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert body
    # Answered before the policy middleware, static files carry a policy of their own.
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # Browsers ask for /favicon.ico where a page names no icon (the admin's).
    status, headers, _, _ = fetch(server + "/favicon.ico")
    assert status == 301 and headers["Location"] == "/static/tracker/favicon.svg"
    assert fetch(server + headers["Location"])[0] == 200


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/statements/no-such-statement/", 404, "text/html"),
        ("/api/v1/statements/no-such-statement/", 404, "application/json"),
        ("/api/v1/nothing-here/", 404, "application/json"),
        ("/api/v1/statements/?page=999999", 404, "application/json"),
        ("/api/v1/statements/?issued_after=2025-02-30", 400, "application/json"),
    ],
)
def test_errors_are_plain_pages_or_json_never_a_stack_trace(server, path, status, kind):
    got, headers, body, _ = fetch(server + path)
    assert got == status
    assert headers["Content-Type"].startswith(kind)
    text = body.decode()
    for leak in ("Traceback", 'File "/', "django.", "DEBUG", "SECRET"):
        assert leak not in text
    if kind == "application/json":
        json.loads(text)


def test_an_unknown_host_is_refused_without_detail(server):
    status, _, body, _ = fetch(server + "/", headers={"Host": "evil.example.org"})
    assert status == 400
    assert b"evil.example.org" not in body and b"ALLOWED_HOSTS" not in body


def _title(body: bytes) -> str:
    found = re.search(rb"<title>(.*?)</title>", body, re.S)
    return found.group(1).strip().decode() if found else ""


@pytest.mark.parametrize(
    "path",
    [
        "/statements/",
        "/feeds/statements/",
        "/organizations/codepink/",
        "/topics/",
        "/search/?q=gaza",
    ],
)
def test_a_script_name_header_neither_reroutes_a_request_nor_poisons_the_kept_answer(server, path):
    """
    A client's `SCRIPT_NAME: /statements` on a request for /statements/ once made gunicorn
    route it as "/" (it trusts forwarders on 127.0.0.1, where a proxy connects from): the home
    page was answered, and kept for every visitor of /statements/.
    """
    port = int(server.rsplit(":", 1)[1])
    headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}

    def get(connection, url, extra=None):
        connection.request("GET", url, headers={**headers, **(extra or {})})
        response = connection.getresponse()
        body = response.read()
        return response.status, response.getheader("Content-Type"), _title(body)

    separator = "&" if "?" in path else "?"
    prefix = path.split("?")[0].rstrip("/")
    for attempt in range(4):
        url = f"{path}{separator}attempt={attempt}-{secrets.token_hex(8)}"
        clean = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        expected = get(clean, f"{path}{separator}{secrets.token_hex(8)}")
        clean.close()
        assert expected[0] == 200 and expected[2], expected
        # One kept-alive connection: the same worker, and so the same kept answers.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            assert get(connection, url, {"SCRIPT_NAME": prefix}) == expected
            assert get(connection, url) == expected
        finally:
            connection.close()


def test_the_shipped_proxy_says_the_scheme_and_passes_on_no_routing_header(proxy):
    # The client's own X-Forwarded-Proto and SCRIPT_NAME do not reach the app: nginx says
    # https (no redirect), and the list is answered at its address.
    status, headers, body, _ = fetch(
        proxy.base + "/statements/",
        https=False,
        context=proxy.context,
        headers={"X-Forwarded-Proto": "http", "SCRIPT_NAME": "/statements"},
    )
    assert status == 200 and _title(body).startswith("Statements")
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    status, headers, _, _ = fetch(f"http://127.0.0.1:{proxy.plain_port}/statements/?page=2")
    assert status == 301 and headers["Location"] == "https://127.0.0.1/statements/?page=2"


def test_behind_the_shipped_proxy_32_slow_clients_hold_up_no_one(proxy):
    """
    32 clients sending their requests a byte every 1.5 s, straight to gunicorn, hold every
    thread and connection slot it has, and other requests wait (`bench/reliability.py
    slow-clients` measures it). nginx reads headers and bodies itself: meanwhile every other
    request is answered at once, and nginx hangs up on the slow headers when its header
    timeout is up.
    """
    # Pages and the health check: the API's rate limit would count these hundreds of requests
    # from one address.
    paths = ["/statements/", "/health/", "/organizations/codepink/", "/topics/"]
    answers = []
    slow = {"head": 16, "body": 16}
    with (
        SlowClients(proxy.port, slow["head"], 1.5, proxy.context) as heads,
        SlowClients(proxy.port, slow["body"], 1.5, proxy.context, body=True) as bodies,
    ):
        for clients in (heads, bodies):
            assert clients.wait_connected(timeout=30), clients.errors
        # For 5 s, ending well before nginx's header timeout (10 s) for the first of them.
        until = min(time.monotonic() + 5, heads.first_connected + 8)
        while time.monotonic() < until:
            path = paths[len(answers) % len(paths)]
            answers.append(fetch(proxy.base + path, https=False, context=proxy.context)[::3])
        held = {"head": heads.open, "body": bodies.open}
        assert heads.wait_hung_up(timeout=60)
    assert held == slow  # all of them were still sending when the last answer came
    assert len(answers) >= 8
    assert [status for status, _ in answers] == [200] * len(answers)
    assert max(seconds for _, seconds in answers) < 5
    assert len(heads.hung_up_after) == 16 and max(heads.hung_up_after) < 30


def test_postgresql_going_away_answers_503_fast_and_recovers_by_itself(server, relay):
    if relay is None:
        pytest.skip("PostgreSQL only (CI runs this there)")
    assert fetch(server + "/api/v1/statements/")[0] == 200
    relay.cut()
    try:
        for path, kind in [
            ("/api/v1/statements/", "application/json"),
            ("/organizations/", "text/html"),
            ("/api/v1/organizations/codepink/", "application/json"),
        ]:
            status, headers, body, seconds = fetch(server + path, timeout=20)
            assert status == 503, body[:300]
            assert headers["Content-Type"].startswith(kind)
            assert headers["Retry-After"] == "10"
            assert b"Traceback" not in body
            # A dropped connection is answered at once; DATABASE_CONNECT_TIMEOUT (2 s here)
            # bounds an unreachable host.
            assert seconds < 5, f"{path} took {seconds:.1f}s to fail"
        status, _, body, _ = fetch(server + "/health/", https=False)
        assert status == 503 and json.loads(body)["database"] == "unreachable"
    finally:
        relay.restore()
    # No restart: the next requests reconnect.
    deadline = time.monotonic() + 15
    statuses = []
    while time.monotonic() < deadline:
        statuses = [fetch(server + path)[0] for path in PAGES]
        if statuses == [200] * len(PAGES):
            break
        time.sleep(0.5)
    assert statuses == [200] * len(PAGES)


def test_web_requests_have_a_statement_timeout_and_no_parallel_workers_and_commands_do(scratch):
    if not on_postgresql():
        pytest.skip("PostgreSQL only (CI runs this there)")
    probe = (
        "import os, sys\n"
        "if sys.argv[1] == 'web':\n"
        "    import tracker.wsgi\n"
        "else:\n"
        "    import django; django.setup()\n"
        "from django.db import OperationalError, connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])\n"
        "    cursor.execute('SHOW max_parallel_workers_per_gather'); print(cursor.fetchone()[0])\n"
        "    try:\n"
        "        cursor.execute('SELECT pg_sleep(1)'); print('finished')\n"
        "    except OperationalError as exc:\n"
        "        print(type(exc.__cause__).__name__)\n"
    )
    env = production_env(scratch.url, DATABASE_WEB_STATEMENT_TIMEOUT="300")
    env["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
    web = subprocess.run(
        [sys.executable, "-c", probe, "web"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert web.stdout.split() == ["300ms", "0", "QueryCanceled"], web.stderr
    command = subprocess.run(
        [sys.executable, "-c", probe, "command"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    workers = command.stdout.split()[1] if len(command.stdout.split()) == 3 else None
    assert workers not in (None, "0"), command.stdout  # the server's own setting (2 by default)
    assert command.stdout.split() == ["0", workers, "finished"], command.stderr


def test_a_pg_dump_backup_restores_to_the_same_records(scratch, tmp_path):
    """The README's backup and restore commands, run for real."""
    if not on_postgresql():
        pytest.skip("PostgreSQL only (CI runs this there)")
    import psycopg

    dump = tmp_path / "tracker.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", scratch.url], check=True
    )
    restored_name = f"{scratch.name}_restored"
    restored_url = scratch.url.rsplit("/", 1)[0] + "/" + restored_name
    with psycopg.connect(scratch.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        conn.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={restored_url}",
                str(dump),
            ],
            check=True,
        )
        exports = [
            manage("export_statements", "-", env=production_env(url)).stdout
            for url in (scratch.url, restored_url)
        ]
        assert exports[0] == exports[1]
        assert exports[0].count("- slug: ") > 30  # topics, organisations and statements
        # The restored database works as the product needs: every migration applied, and the
        # triggers that write the change log (kept answers are expired from it) came along.
        probe = manage("showmigrations", "--plan", env=production_env(restored_url)).stdout
        assert "[ ]" not in probe
        triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tracker_changes_%'"
        counts = []
        for url in (scratch.url, restored_url):
            with psycopg.connect(url) as conn:
                counts.append(conn.execute(triggers).fetchone()[0])
        assert counts[0] == counts[1] > 0
    finally:
        with psycopg.connect(scratch.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')


def test_a_staff_login_gets_a_secure_session_and_brute_force_is_locked_out(server, scratch):
    env = production_env(scratch.url, DJANGO_SUPERUSER_PASSWORD="a-long-staff-password-42")
    for name in ("staff", "target"):
        manage(
            "createsuperuser",
            "--noinput",
            f"--username={name}",
            f"--email={name}@example.org",
            env=env,
        )
    status, headers = post_login(server, "staff", "a-long-staff-password-42")
    assert status == 302
    session = next(c for c in headers.get_all("Set-Cookie") if c.startswith("sessionid="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in session
    # Brute force against another account, across the server's workers: locked after five.
    statuses = [post_login(server, "target", f"guess-{n}")[0] for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert post_login(server, "target", "a-long-staff-password-42")[0] == 429
