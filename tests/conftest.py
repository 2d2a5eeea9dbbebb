from pathlib import Path

import pytest

from statements.services import import_paths

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeded(db):
    """The database with the product's seed data loaded."""
    return import_paths([SEEDS])


@pytest.fixture
def staff_client(client, django_user_model):
    """A logged-in superuser: staff who can see every admin page."""
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client
