"""The settings module reads the environment strictly: bad values stop start-up clearly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "x" * 50


def load_settings(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    base.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import tracker.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS,"
            " s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'])",
        ],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_configuration_gives_a_debug_site_on_sqlite_in_the_project_folder():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "['127.0.0.1',",
        "'localhost',",
        "'[::1]']",
        "django.db.backends.sqlite3",
        str(ROOT / "db.sqlite3"),
    ]


def test_postgres_url_is_understood():
    result = load_settings(DATABASE_URL="postgres://u:p@db.example:5433/tracker")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["tracker.postgresql", "tracker"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL='mysql://u@h/db' is not a supported"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL='not a url' is not a supported"),
        ({"DATABASE_URL": "postgres://u@h:5432/"}, "names no database"),
        ({"DATABASE_URL": "sqlite://"}, "names no database"),
        ({"DATABASE_URL": "mysql://u:s3cret@h/db"}, "DATABASE_URL='mysql://u:***@h/db' is"),
        ({"DJANGO_ALLOWED_HOSTS": "http://a.org/"}, "DJANGO_ALLOWED_HOSTS='http://a.org/' is"),
        ({"DJANGO_ALLOWED_HOSTS": "a.org,,b.org"}, "DJANGO_ALLOWED_HOSTS='a.org,,b.org' is"),
        (
            {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "a.org"},
            "DJANGO_SECRET_KEY must be set",
        ),
        (
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": "short",
                "DJANGO_ALLOWED_HOSTS": "a.org",
            },
            "DJANGO_SECRET_KEY is too weak",
        ),
        (
            {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": GOOD_SECRET},
            "DJANGO_ALLOWED_HOSTS must be set",
        ),
    ],
)
def test_malformed_or_missing_values_stop_start_up_with_a_clear_message(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "s3cret" not in result.stderr


def test_production_settings_start_with_a_secret_and_hosts():
    result = load_settings(
        DJANGO_DEBUG="off",
        DJANGO_SECRET_KEY=GOOD_SECRET,
        DJANGO_ALLOWED_HOSTS="a.org, .b.org,[::1]",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["False", "['a.org',", "'.b.org',", "'[::1]']"]


@pytest.mark.django_db
def test_postgresql_connections_do_not_compile_queries():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT (CI runs this there)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
