"""Editors add and change, viewers only look, and only superusers delete."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from statements.models import Statement

from .admin_forms import form_data

pytestmark = pytest.mark.usefixtures("staff_roles")


@pytest.fixture
def member(client, django_user_model):
    def log_in(role):
        user = django_user_model.objects.create_user(role.lower(), password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return log_in


def test_the_roles_exist_with_their_permissions(db):
    editor = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))
    viewer = set(Group.objects.get(name="Viewer").permissions.values_list("codename", flat=True))
    assert {"add_statement", "change_statement", "view_statement", "add_organization",
            "change_signature", "change_quote", "change_othername"} <= editor  # fmt: skip
    assert not any(codename.startswith("delete_") for codename in editor | viewer)
    assert viewer == {c for c in editor if c.startswith("view_")}
    assert len(viewer) == 8


def test_an_editor_adds_and_changes_but_does_not_delete(member, seeded):
    client = member("Editor")
    statement = Statement.objects.get(slug__startswith="2025-11-12")
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    assert client.get(reverse("admin:statements_statement_add")).status_code == 200
    data = form_data(client.get(change).content.decode())
    data["place"] = "Washington, DC"
    assert client.post(change, data).status_code == 302
    statement.refresh_from_db()
    assert statement.place == "Washington, DC"
    delete = reverse("admin:statements_statement_delete", args=[statement.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Statement.objects.filter(pk=statement.pk).exists()


def test_a_viewer_only_looks(member, seeded):
    client = member("Viewer")
    statement = Statement.objects.get(slug__startswith="2025-11-12")
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    assert client.get(reverse("admin:statements_statement_changelist")).status_code == 200
    assert client.get(change).status_code == 200
    assert client.get(reverse("admin:statements_statement_add")).status_code == 403
    assert client.post(change, {"title": "Changed"}).status_code == 403
    statement.refresh_from_db()
    assert statement.title.startswith("Joint Statement")
