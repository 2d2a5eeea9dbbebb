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
    from statements.models import Signature, Statement, Topic

    from . import factories

    statement = factories.statement(
        status=Statement.Status.DRAFT, slug="secret-draft", title="Secret draft"
    )
    statement.topics.add(Topic.objects.get(slug="gaza"))
    insider = factories.organization(name="Only On The Draft", slug="only-on-the-draft")
    anca = Organization.objects.get(slug="armenian-national-committee-of-america")
    for org in (anca, insider):
        Signature.objects.create(statement=statement, organization=org, role="lead")
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
    answers: a test's rolled-back transaction takes its data version back with it.
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
    Tests build every answer afresh. Kept answers follow the data version, which moves when
    a transaction commits, and a test's transaction never commits: tests/test_response_cache.py
    checks them with real commits.
    """
    settings.RESPONSE_CACHE = False


@pytest.fixture
def api(db):
    from rest_framework.test import APIClient

    return APIClient()


def api_get(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response["Content-Type"].startswith("application/json") else response
