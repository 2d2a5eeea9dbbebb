from pathlib import Path

import pytest

from statements.importing import import_paths

from .browser import chromium, page, site  # noqa: F401 - fixtures of the browser tests

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeded(db):
    """The database with the product's seed data loaded."""
    return import_paths([SEEDS])


@pytest.fixture
def draft(seeded):
    """A draft on the Gaza topic, led by ANCA and by an organisation known only from it."""
    from organizations.models import Organization
    from statements.models import Statement, Topic

    from . import factories

    statement = factories.statement(
        status=Statement.Status.DRAFT, slug="secret-draft", title="Secret draft"
    )
    statement.topics.add(Topic.objects.get(slug="gaza"))
    insider = factories.organization(name="Only On The Draft", slug="only-on-the-draft")
    anca = Organization.objects.get(slug="armenian-national-committee-of-america")
    for org in (anca, insider):
        factories.signature(statement=statement, organization=org, role="lead")
    return statement


@pytest.fixture
def staff_roles(db):
    """
    The Editor and Viewer groups. A migration makes them; a transactional test elsewhere
    (which empties every table when it ends) may have removed them, so make sure.
    """
    from importlib import import_module

    from django.apps import apps

    import_module("statements.migrations.0002_staff_groups").create_groups(apps, None)


@pytest.fixture
def staff_client(client, django_user_model):
    """A logged-in superuser: staff who can see every admin page."""
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _fresh_caches():
    """
    Each test starts with no requests counted against the API rate limit, and no kept
    answers: one test's cache must not answer another's requests.
    """
    from django.core.cache import caches

    caches["default"].clear()
    caches["responses"].clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password the production way takes a third of a second; tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_kept_answers(settings):
    """
    Tests build every answer afresh. Kept answers are expired from the change log, which a
    writing transaction fills as it commits, and a test's transaction never commits:
    tests/test_response_cache.py checks them with real commits.
    """
    settings.RESPONSE_CACHE = False


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """
    On SQLite the test database is a file, not shared memory: threads that write at once
    (tests/test_concurrency.py) then wait for each other's transactions, as they do in
    production, instead of failing with "database table is locked".
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("database") / "test.sqlite3"
        )


@pytest.fixture(autouse=True)
def _derived_data_stays_right(request, monkeypatch):
    """
    After every test that wrote through a service (each takes derived.lock_for_write), what
    is derived from the signatures must equal a fresh computation (statements.derived).
    """
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db"} & set(request.fixturenames)
    ):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    request.getfixturevalue("settings")  # checked with the test's settings, before they go
    from statements import derived

    wrote = []
    lock_for_write = derived.lock_for_write

    def locking(**kwargs):
        wrote.append(True)
        return lock_for_write(**kwargs)

    monkeypatch.setattr(derived, "lock_for_write", locking)
    yield
    if wrote:
        assert derived.check() == []


@pytest.fixture
def api(db):
    from rest_framework.test import APIClient

    return APIClient()


def api_get(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response["Content-Type"].startswith("application/json") else response
