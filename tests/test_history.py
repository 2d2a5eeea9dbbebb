"""Every change is recorded (who, when, what changed), shown in the admin, and can be reverted."""

import pytest
from django.urls import reverse

from organizations.models import Organization
from statements.models import Signature, Statement

from .admin_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(seeded):
    return Statement.objects.get(slug__startswith="2025-11-12")


def change(client, obj, **fields):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    data = form_data(client.get(url).content.decode())
    data.update(fields)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_an_admin_edit_records_who_when_and_what(staff_client, statement):
    change(staff_client, statement, place="Washington, DC")
    latest = statement.history.first()
    assert latest.history_user.username == "editor"
    assert latest.history_type == "~"
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("place", "Washington, D.C.", "Washington, DC")
    ]
    page = staff_client.get(
        reverse("admin:statements_statement_history", args=[statement.pk])
    ).content.decode()
    assert "Washington, D.C." in page and "Washington, DC" in page and "editor" in page


def test_reverting_an_edit_restores_the_old_value_and_is_itself_recorded(staff_client, statement):
    change(staff_client, statement, place="Somewhere else")
    before = statement.history.all()[1]  # the version before the edit
    recorded = statement.history.count()
    url = reverse(
        "admin:statements_statement_simple_history", args=[statement.pk, before.history_id]
    )
    data = form_data(staff_client.get(url).content.decode())
    assert data["place"] == "Washington, D.C."
    assert staff_client.post(url, data).status_code == 302
    statement.refresh_from_db()
    assert statement.place == "Washington, D.C."
    assert statement.history.count() == recorded + 1
    assert statement.history.first().history_user.username == "editor"


def test_a_signature_change_shows_on_the_statements_history_page(staff_client, statement):
    signature = statement.signatures.get(position=3)
    change(staff_client, signature, name_as_printed="Printed Differently")
    page = staff_client.get(
        reverse("admin:statements_statement_history", args=[statement.pk])
    ).content.decode()
    part_history = page.split('id="part-history"')[1]
    assert "Printed Differently" in part_history
    assert "Changed" in part_history and "editor" in part_history


def test_an_import_is_recorded_with_the_file_it_came_from(statement):
    record = statement.history.earliest()
    assert record.history_type == "+"
    assert record.history_change_reason.startswith("Imported from ")
    assert "2025-11-12" in record.history_change_reason
    signature = Signature.history.filter(statement_id=statement.pk).first()
    assert signature.history_change_reason.startswith("Imported from ")


def test_a_viewer_sees_history_but_cannot_revert(client, django_user_model, statement, staff_roles):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(user)
    org = Organization.objects.get(slug="armenian-national-committee-of-america")
    history = reverse("admin:organizations_organization_history", args=[org.pk])
    assert client.get(history).status_code == 200
    version = org.history.first()
    url = reverse("admin:organizations_organization_simple_history", args=[org.pk, version.pk])
    page = client.get(url).content.decode()
    assert 'value="Revert"' not in page
    data = {**form_data(page), "name": "Renamed", "slug": org.slug}
    assert client.post(url, data).status_code == 403
    org.refresh_from_db()
    assert org.name == "Armenian National Committee of America"


def test_history_pages_of_bad_ids_are_not_found(staff_client, statement):
    for url in (
        "/admin/statements/statement/abc/history/",
        f"/admin/statements/statement/{2**63}/history/",
        f"/admin/statements/statement/{statement.pk}/history/abc/",
        f"/admin/statements/statement/{statement.pk}/history/{2**63}/",
    ):
        assert staff_client.get(url).status_code in (302, 404), url


def test_every_kind_of_record_staff_curate_keeps_its_history(statement):
    from organizations.models import FormerSlug, OtherName
    from statements.models import CoverageLink, MediaContact, Quote, Topic

    records = [
        statement,
        statement.signatures.first(),
        statement.media_contacts.first(),
        statement.coverage.first(),
        statement.quotes.first(),
        Topic.objects.first(),
        Organization.objects.first(),
        OtherName.objects.first(),
        FormerSlug.objects.create(organization=Organization.objects.first(), slug="old-one"),
    ]
    kinds = {type(record) for record in records}
    assert {CoverageLink, MediaContact, Quote, Topic, OtherName, FormerSlug} <= kinds
    for record in records:
        assert record.history.exists(), type(record).__name__
