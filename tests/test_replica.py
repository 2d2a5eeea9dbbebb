"""
Read replicas (DATABASE_REPLICA_URL, tracker/db_router.py): anonymous public reads come from
the replica; writes, staff, the admin and transactions from the primary.

The first tests run on the suite's own database, with a "replica" that is that same database
under a second connection (as TEST MIRROR makes it), and tell the two apart by which
connection ran the queries. The last one runs the product under gunicorn against a real
PostgreSQL primary and a streaming replica that it makes, and reads while the replica lags
behind and while it is gone.
"""

import json
import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from organizations.models import Cosigning
from statements.models import Change, Topic
from tracker import db_router

from . import production

ROOT = Path(__file__).resolve().parent.parent
ANCA = "armenian-national-committee-of-america"
STATEMENT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


@pytest.fixture(scope="module")
def _replica_alias():
    """
    A "replica" database alias, as DATABASE_REPLICA_URL sets it, for this module's tests: the
    suite's own test database through a connection of its own. Added before each test's
    database set-up (a module fixture comes first), so that a test may name it.
    """
    primary = connections["default"].settings_dict
    replica = {**primary, "TEST": {**primary["TEST"], "MIRROR": "default"}}
    # Django's connections read settings.DATABASES once; usually that same dict.
    for databases in (settings.DATABASES, connections.settings):
        databases["replica"] = replica
    yield
    connections["replica"].close()
    del connections["replica"]
    for databases in (settings.DATABASES, connections.settings):
        databases.pop("replica", None)


# The tests that read from the replica: their writes are committed, so that the replica's
# connection sees them.
with_replica = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(_replica_alias, monkeypatch):
    monkeypatch.setattr(db_router, "_replica_failed_at", None)
    yield connections["replica"]
    connections["replica"].close()


@pytest.fixture
def unreachable_replica(replica, monkeypatch):
    """The replica, but at an address nothing answers: on PostgreSQL a port nothing listens
    on, on SQLite a file in a folder that does not exist."""
    if replica.vendor == "postgresql":
        monkeypatch.setitem(replica.settings_dict, "PORT", str(production.free_port()))
        monkeypatch.setitem(replica.settings_dict, "HOST", "127.0.0.1")
    else:
        monkeypatch.setitem(replica.settings_dict, "NAME", "/nonexistent-folder/replica.sqlite3")
    return replica


@pytest.fixture
def no_replica(monkeypatch):
    """As without DATABASE_REPLICA_URL, even after a test of this module added the alias."""
    if "replica" in settings.DATABASES:
        monkeypatch.delitem(settings.DATABASES, "replica")


@contextmanager
def queries():
    """The queries run on the primary and on the replica meanwhile."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        yield primary, replica


def committed_seeds():
    """The seed data, committed, so that the replica's own connection sees it."""
    from statements.importing import import_paths

    import_paths([production.SEEDS])


PUBLIC_READS = [
    "/",
    "/statements/",
    f"/statements/{STATEMENT}/",
    f"/organizations/{ANCA}/",
    "/search/?q=Gaza",
    "/feeds/statements/",
    "/api/v1/statements/",
    f"/api/v1/statements/{STATEMENT}/",
    f"/api/v1/organizations/{ANCA}/cosigners/",
]


@with_replica
@pytest.mark.parametrize("path", PUBLIC_READS)
def test_anonymous_pages_and_api_answers_are_read_from_the_replica(client, replica, path):
    committed_seeds()
    with queries() as (primary, from_replica):
        response = client.get(path)
    assert response.status_code == 200
    assert len(from_replica) > 0
    assert [q["sql"] for q in primary] == []


@with_replica
@pytest.mark.parametrize(
    "path", [f"/api/v1/organizations/{ANCA}/cosigners/", f"/organizations/{ANCA}/"]
)
def test_kept_co_signers_and_their_dates_are_read_from_the_replica(client, replica, settings, path):
    settings.COSIGNERS_KEPT_FROM = 1  # every organisation's co-signers kept in their table
    committed_seeds()
    with queries() as (primary, from_replica):
        response = client.get(path)
    assert response.status_code == 200
    assert [q["sql"] for q in primary] == []
    assert any(Cosigning._meta.db_table in q["sql"] for q in from_replica)
    if path.startswith("/api/"):
        first = response.json()["results"][0]
        assert first["first_shared_on"] and first["last_shared_on"]


@with_replica
def test_a_streamed_csv_download_is_read_from_the_replica_to_its_last_row(client, replica):
    committed_seeds()
    with queries() as (primary, from_replica):
        response = client.get("/api/v1/signatures/?format=csv")
        rows = b"".join(response.streaming_content).decode().splitlines()
        response.close()
    assert response.status_code == 200
    assert len(rows) > 18  # the header and every public signature
    assert [q["sql"] for q in primary] == []
    assert any("signature" in q["sql"] for q in from_replica)
    assert not db_router.is_public_read()  # the request ended with its response


@with_replica
def test_a_kept_answer_is_checked_against_the_replicas_change_log(client, replica, settings):
    settings.RESPONSE_CACHE = True
    committed_seeds()
    table = Change._meta.db_table
    with queries() as (primary, from_replica):
        first = client.get("/statements/")
        second = client.get("/api/v1/statements/")
    assert first.status_code == second.status_code == 200
    assert sum(table in q["sql"] for q in from_replica) >= 2  # one position read a miss
    assert [q["sql"] for q in primary] == []


@with_replica
@pytest.mark.parametrize(
    "path", ["/statements/", f"/organizations/{ANCA}/", "/api/v1/statements/", "/admin/"]
)
def test_staff_read_from_the_primary(client, replica, django_user_model, path):
    committed_seeds()
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    with queries() as (primary, from_replica):
        response = client.get(path)
    assert response.status_code == 200
    assert len(primary) > 0
    assert [q["sql"] for q in from_replica] == []


@with_replica
def test_the_admin_login_reads_and_writes_on_the_primary(client, replica, django_user_model):
    django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    with queries() as (primary, from_replica):
        page = client.get("/admin/login/")
        login = client.post("/admin/login/", {"username": "editor", "password": "pw"})
        after = client.get("/admin/")
    assert page.status_code == 200
    assert login.status_code == 302
    assert after.status_code == 200
    assert any("django_session" in q["sql"] for q in primary)
    assert [q["sql"] for q in from_replica] == []


@pytest.mark.parametrize(
    ("method", "path", "headers", "public"),
    [
        ("get", "/statements/", {}, True),
        ("head", "/api/v1/statements/", {}, True),
        # A partner's token reads as the public does.
        ("get", "/api/v1/statements/", {"HTTP_AUTHORIZATION": "Token abc"}, True),
        ("get", "/statements/", {"HTTP_COOKIE": "sessionid=abc"}, False),
        ("get", "/admin/login/", {}, False),
        ("post", "/api/v1/statements/", {}, False),
        ("options", "/api/v1/statements/", {}, False),
    ],
)
def test_which_requests_are_public_reads(method, path, headers, public):
    request = getattr(RequestFactory(), method)(path, **headers)
    assert db_router.public_read_request(request) is public


def through_middleware(view, method="get"):
    """Run `view(request)` as a request of `method` through PublicReadMiddleware."""
    middleware = db_router.PublicReadMiddleware(view)
    request = getattr(RequestFactory(), method)("/statements/")
    try:
        return middleware(request)
    finally:
        db_router._end_public_read()


@with_replica
def test_a_write_goes_to_the_primary_and_so_do_the_reads_after_it(replica):
    def view(request):
        before = Topic.objects.all().db
        topic = Topic.objects.create(slug="peacekeeping", name="Peacekeeping")
        return before, Topic.objects.all().db, Topic.objects.get(slug="peacekeeping"), topic

    before, after, read_back, written = through_middleware(view)
    assert (before, after) == ("replica", "default")
    assert read_back == written
    assert Topic.objects.using("default").filter(slug="peacekeeping").exists()


@with_replica
def test_reads_inside_a_transaction_go_to_the_primary(replica):
    def view(request):
        with transaction.atomic():
            inside = Topic.objects.all().db
        after = Topic.objects.all().db
        with transaction.atomic():
            locked = Topic.objects.select_for_update().db  # a read for a write
        return inside, after, locked, Topic.objects.all().db

    assert through_middleware(view) == ("default", "replica", "default", "default")


@with_replica
def test_other_methods_read_from_the_primary(replica):
    assert through_middleware(lambda request: Topic.objects.all().db, "post") == "default"


@with_replica
def test_outside_a_request_everything_reads_from_the_primary(replica):
    assert Topic.objects.all().db == "default"
    with queries() as (primary, from_replica):
        assert Topic.objects.count() >= 0
    assert len(primary) == 1
    assert [q["sql"] for q in from_replica] == []


@pytest.mark.django_db
def test_without_a_replica_every_read_uses_the_one_database(client, seeded, no_replica):
    def view(request):
        return db_router.is_public_read(), Topic.objects.all().db

    assert through_middleware(view) == (False, "default")
    with CaptureQueriesContext(connections["default"]) as primary:
        assert client.get("/statements/").status_code == 200
    assert len(primary) > 0


@with_replica
def test_an_unreachable_replica_is_skipped_then_tried_again(
    client, unreachable_replica, monkeypatch, caplog
):
    committed_seeds()
    with (
        caplog.at_level(logging.WARNING, logger="tracker.db_router"),
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        first = client.get(f"/statements/{STATEMENT}/")
        second = client.get("/api/v1/statements/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert b"Azerbaijan" in first.content
    assert len(primary) > 0
    # Said once, not on every request.
    assert [r.getMessage()[:42] for r in caplog.records] == [
        "The read replica cannot be reached; readin"
    ]

    # The replica comes back: after RETRY_SECONDS it is tried again, and read from.
    for name in ("NAME", "HOST", "PORT"):
        setting = connections["default"].settings_dict[name]
        monkeypatch.setitem(unreachable_replica.settings_dict, name, setting)
    assert client.get("/statements/").status_code == 200
    assert unreachable_replica.connection is None  # not tried yet
    started = time.monotonic()
    monkeypatch.setattr(db_router.time, "monotonic", lambda: started + db_router.RETRY_SECONDS + 1)
    with queries() as (primary, from_replica):
        assert client.get("/statements/").status_code == 200
    assert len(from_replica) > 0
    assert [q["sql"] for q in primary] == []


# --- Settings ------------------------------------------------------------------------------


REPLICA_SETTINGS = (
    "import tracker.settings as s; r = s.DATABASES.get('replica'); "
    "print(r and (r['HOST'], r['NAME'], r['OPTIONS']['options'], "
    "r['OPTIONS']['connect_timeout'], r['TEST']))"
)


def settings_of(**env) -> subprocess.CompletedProcess:
    """What the settings module makes of DATABASES["replica"] in a fresh process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    base.pop("TRACKER_WEB_PROCESS", None)
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", REPLICA_SETTINGS],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_replica_connects_with_the_primarys_options():
    result = settings_of(
        DATABASE_URL="postgres://u@primary.example:5432/tracker",
        DATABASE_REPLICA_URL="postgres://u@replica.example:5432/tracker",
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_WEB_STATEMENT_TIMEOUT="2500",
        TRACKER_WEB_PROCESS="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        (
            "replica.example",
            "tracker",
            "-c jit=off -c statement_timeout=2500 -c max_parallel_workers_per_gather=0",
            3,
            {"MIRROR": "default"},
        )
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_REPLICA_URL": "postgres://u@replica.example/tracker"},
            "both it and DATABASE_URL must be postgres:// URLs",
        ),
        (
            {
                "DATABASE_URL": "postgres://u@primary.example/tracker",
                "DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3",
            },
            "both it and DATABASE_URL must be postgres:// URLs",
        ),
        (
            {
                "DATABASE_URL": "postgres://u@primary.example/tracker",
                "DATABASE_REPLICA_URL": "postgres://u:s3cret@replica.example:5432/",
            },
            "DATABASE_REPLICA_URL='postgres://u:***@replica.example:5432/' names no database",
        ),
    ],
)
def test_a_replica_url_that_cannot_work_stops_start_up(env, message):
    result = settings_of(**env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("url", ["", "  "])
def test_without_a_replica_url_there_is_no_replica(url):
    result = settings_of(DATABASE_REPLICA_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


# --- A real primary and streaming replica, under gunicorn ------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_command(*args: str | Path) -> list[str]:
    """A PostgreSQL program run as the `postgres` OS user, which a cluster's files belong to."""
    command = [str(arg) for arg in args]
    return command if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *command]


def run_as_postgres(*args: str | Path) -> None:
    result = subprocess.run(
        postgres_command(*args), capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")


class Cluster:
    """A PostgreSQL 15 cluster of the test's own, on a free port of 127.0.0.1."""

    def __init__(self, directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.log = directory.parent / f"{directory.name}.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def configure(self, settings: str) -> None:
        with (self.directory / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def start(self) -> None:
        run_as_postgres(PG_BIN / "pg_ctl", "-D", self.directory, "-l", self.log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.directory / "postmaster.pid").exists():
            run_as_postgres(PG_BIN / "pg_ctl", "-D", self.directory, "-m", mode, "-w", "stop")

    def one(self, sql: str, database: str = "postgres"):
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchone()[0] if cursor.description else None


def make_clusters(root: Path) -> tuple[Cluster, Cluster]:
    """A primary that allows replication from 127.0.0.1, and its streaming replica."""
    primary = Cluster(root / "primary", production.free_port())
    run_as_postgres(
        PG_BIN / "initdb", "-D", primary.directory, "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    )  # fmt: skip
    (primary.directory / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "host replication all 127.0.0.1/32 trust\n"
    )
    primary.configure(
        f"\nport = {primary.port}\nlisten_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{root}'\n"
        "shared_buffers = 32MB\nmax_connections = 60\nfsync = off\n"
        "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
    )
    primary.start()
    replica = Cluster(root / "replica", production.free_port())
    run_as_postgres(
        PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", replica.directory, "-R", "-X", "stream", "-c", "fast", "--no-sync",
    )  # fmt: skip
    replica.configure(f"\nport = {replica.port}\n")
    replica.start()
    return primary, replica


@pytest.fixture(scope="module")
def clusters():
    """The primary and its replica, under /tmp/replica-*, removed at the end whatever
    happened."""
    if not production.on_postgresql():
        pytest.skip("a streaming replica is PostgreSQL's: run with DATABASE_URL=postgres://...")
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15's programs are not in {PG_BIN}")
    if os.geteuid() not in (0, pwd.getpwnam("postgres").pw_uid):
        pytest.skip("a cluster is made as the postgres OS user: run as root or as postgres")
    root = Path(tempfile.mkdtemp(prefix="replica-", dir="/tmp"))
    shutil.chown(root, "postgres", "postgres")
    try:
        yield make_clusters(root)
    finally:
        # Every cluster that was started, even if making the other failed.
        for directory in (root / "primary", root / "replica"):
            with suppress(RuntimeError):
                Cluster(directory, 0).stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def wait_for(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def replayed(primary: Cluster, replica: Cluster) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    target = primary.one("SELECT pg_current_wal_lsn()::text")
    wait_for(
        "the replica to catch up",
        lambda: replica.one(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"),
    )


def pause_replay(replica: Cluster) -> None:
    replica.one("SELECT pg_wal_replay_pause()")
    wait_for(
        "replay to pause",
        lambda: replica.one("SELECT pg_get_wal_replay_pause_state()") == "paused",
    )


def retitle(database_url: str, title: str) -> None:
    """Staff retitle the statement, through the service the admin saves it with."""
    code = (
        "from statements.models import Statement\n"
        "from statements.publishing import save_statement\n"
        f"statement = Statement.objects.get(slug={STATEMENT!r})\n"
        f"statement.title = {title!r}\n"
        "save_statement(statement=statement, form_changed=['title'])\n"
    )
    production.manage("shell", "-c", code, env=production.base_env(database_url))


def staff_login(base: str) -> str:
    """Log in on the admin's login page as a browser does: the session's Cookie header."""
    status, headers, body, _ = production.fetch(f"{base}/admin/login/")
    assert status == 200
    csrf = next(
        c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken=")
    )
    token = body.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    form = f"csrfmiddlewaretoken={token}&username=editor&password=a-long-pass-phrase&next=/admin/"
    status, headers, _, _ = production.fetch(
        f"{base}/admin/login/",
        data=form.encode(),
        headers={
            "Cookie": csrf,
            "Referer": f"https://{base.split('://')[1]}/admin/login/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 302, status
    session = next(
        c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("sessionid=")
    )
    return f"{csrf}; {session}"


def title_seen(base: str, cookie: str | None = None) -> tuple[str, str]:
    """The statement's title as its page and its API answer show it: (page, API)."""
    headers = {"Cookie": cookie} if cookie else {}
    page = production.fetch(f"{base}/statements/{STATEMENT}/", headers=headers)
    answer = production.fetch(f"{base}/api/v1/statements/{STATEMENT}/", headers=headers)
    assert (page[0], answer[0]) == (200, 200), (page[0], answer[0], page[2][:300], answer[2])
    shown = page[2].decode().split("<h1>")[1].split("</h1>")[0].strip()
    return shown, json.loads(answer[2])["title"]


def test_anonymous_readers_read_the_replica_and_staff_the_primary(clusters, tmp_path):
    primary, replica = clusters
    primary.one("CREATE DATABASE tracker")
    production.migrate_and_seed(primary.url("tracker"))
    env = {
        **production.base_env(primary.url("tracker")),
        "DJANGO_SUPERUSER_PASSWORD": "a-long-pass-phrase",
    }
    production.manage(
        "createsuperuser", "--noinput", "--username", "editor", "--email", "e@example.org",
        env=env,
    )  # fmt: skip
    replayed(primary, replica)
    with production.gunicorn(
        primary.url("tracker"),
        tmp_path / "gunicorn.log",
        DATABASE_REPLICA_URL=replica.url("tracker"),
    ) as base:
        before = title_seen(base)
        assert before[0] == before[1] != "First new title"

        # The replica stops replaying what the primary writes: it lags behind.
        pause_replay(replica)
        # Writes meanwhile succeed: a staff login (its session, its last login) and an edit.
        staff = staff_login(base)
        retitle(primary.url("tracker"), "First new title")
        # Staff read the primary: their own session, and the edit at once.
        assert production.fetch(f"{base}/admin/", headers={"Cookie": staff})[0] == 200
        assert title_seen(base, staff) == ("First new title", "First new title")
        # Anonymous readers read the replica, and see the data as it was; on every worker.
        for _ in range(6):
            assert title_seen(base) == before

        replica.one("SELECT pg_wal_replay_resume()")
        wait_for("readers to see the edit", lambda: title_seen(base)[0] == "First new title")
        assert title_seen(base) == ("First new title", "First new title")

        # The replica goes away: readers are answered from the primary, never with an error.
        replica.stop("fast")
        for _ in range(10):
            assert title_seen(base) == ("First new title", "First new title")
        retitle(primary.url("tracker"), "Second new title")
        for _ in range(6):
            assert title_seen(base) == ("Second new title", "Second new title")
        assert production.fetch(f"{base}/health/", https=False)[0] == 200

        # It comes back: after RETRY_SECONDS readers read it again (it lags again, and they
        # see what it has).
        replica.start()
        replayed(primary, replica)
        pause_replay(replica)
        retitle(primary.url("tracker"), "Third new title")
        time.sleep(db_router.RETRY_SECONDS + 1)
        for _ in range(6):
            assert title_seen(base) == ("Second new title", "Second new title")
        assert title_seen(base, staff) == ("Third new title", "Third new title")
        replica.one("SELECT pg_wal_replay_resume()")
        wait_for("readers to see the edit", lambda: title_seen(base)[0] == "Third new title")
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]
