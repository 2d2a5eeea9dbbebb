"""Every change is recorded (who, when, what changed), shown in the admin, and can be reverted."""

import pytest
from django.urls import reverse

from organizations.models import Organization
from statements import derived, signing
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


# Deleted records: only superusers restore them, and whole or not at all


def delete_in_admin(client, obj):
    """A superuser deletes `obj` through the admin's delete page."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302


def last_version_url(model, pk) -> str:
    opts = model._meta
    version = model.history.filter(id=pk).exclude(history_type="-").first()
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[pk, version.history_id]
    )


def editor_client(django_user_model):
    from django.contrib.auth.models import Group
    from django.test import Client

    user = django_user_model.objects.create_user("an-editor", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client = Client()
    client.force_login(user)
    return client


def statement_whole(statement_id) -> dict:
    """Everything a statement has, as comparable values."""
    from statements.models import CoverageLink, MediaContact, Quote

    def rows(model, *fields):
        return sorted(model.objects.filter(statement_id=statement_id).values_list(*fields))

    statement = Statement.objects.get(pk=statement_id)
    return {
        "statement": (statement.title, statement.status, statement.published_at),
        "topics": sorted(statement.topics.values_list("slug", flat=True)),
        "signatures": rows(
            Signature, "id", "organization_id", "role", "name_as_printed", "position", "joined_on"
        ),
        "contacts": rows(MediaContact, "id", "organization_id", "email", "phone", "is_public"),
        "coverage": rows(CoverageLink, "id", "outlet", "url", "date", "first_reported"),
        "quotes": rows(Quote, "id", "speaker", "organization_id", "source_id", "text"),
        "counts": sorted(
            Organization.objects.filter(signatures__statement_id=statement_id).values_list(
                "slug", "public_statement_count"
            )
        ),
    }


def test_an_editor_cannot_undo_a_superusers_deletion_of_a_statement(
    staff_client, django_user_model, statement, staff_roles
):
    pk = statement.pk
    delete_in_admin(staff_client, statement)
    editor = editor_client(django_user_model)
    url = last_version_url(Statement, pk)

    page = editor.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # Posting the old version back, as the version page used to allow, is refused.
    data = {**form_data(html), "title": statement.title, "slug": statement.slug}
    assert editor.post(url, data).status_code == 403
    assert not Statement.objects.filter(pk=pk).exists()
    assert not Signature.objects.filter(statement_id=pk).exists()
    assert "Only superusers restore deleted records" in html
    assert 'value="Revert"' not in html and 'value="Restore"' not in html


@pytest.mark.parametrize("kind", ["topic", "organisation", "signature", "other name"])
def test_an_editor_cannot_restore_any_deleted_record(
    staff_client, django_user_model, statement, staff_roles, kind
):
    from organizations.models import OtherName
    from statements.models import Topic

    from . import factories

    obj = {
        "topic": lambda: Topic.objects.get(slug="gaza"),
        "organisation": lambda: factories.organization(name="Signed Nothing Yet"),
        "signature": lambda: statement.signatures.get(position=3),
        "other name": lambda: OtherName.objects.filter(
            organization__slug__startswith="arm"
        ).first(),
    }[kind]()
    model, pk = type(obj), obj.pk
    delete_in_admin(staff_client, obj)
    editor = editor_client(django_user_model)
    url = last_version_url(model, pk)
    data = form_data(editor.get(url).content.decode())
    assert editor.post(url, data).status_code == 403
    assert not model.objects.filter(pk=pk).exists()


def test_a_superuser_restores_a_deleted_statement_whole(staff_client, statement):
    from statements.models import Quote

    pk = statement.pk
    # A quote citing the coverage, so that the restored quote must find its source again.
    assert Quote.objects.filter(statement_id=pk, source__isnull=False).exists()
    before = statement_whole(pk)
    delete_in_admin(staff_client, statement)
    assert staff_client.get(f"/statements/{statement.slug}/").status_code == 404
    url = last_version_url(Statement, pk)

    page = staff_client.get(url).content.decode()
    assert "Restoring brings it back whole" in page
    assert f"{len(before['signatures'])} signatures" in page
    response = staff_client.post(url, {}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:statements_statement_change", args=[pk])
    message = " ".join(str(m) for m in response.context["messages"])
    assert f"Restored the statement “{statement.title}”, with" in message
    assert statement_whole(pk) == before
    assert staff_client.get(f"/statements/{statement.slug}/").status_code == 200
    restored = Statement.objects.get(pk=pk).history.first()
    assert restored.history_change_reason.startswith("Restored")
    assert restored.history_user.username == "editor"


def test_a_statement_whose_organisation_is_gone_is_not_restored_in_part(staff_client, statement):
    from . import factories

    newcomer = factories.organization(name="Signed Only This")
    factories.signature(statement=statement, organization=newcomer, position=40)
    pk = statement.pk
    delete_in_admin(staff_client, statement)
    delete_in_admin(staff_client, newcomer)  # it signed nothing else, so it could go
    url = last_version_url(Statement, pk)
    assert "no longer exists" in staff_client.get(url).content.decode()

    response = staff_client.post(url, {}, follow=True)

    message = " ".join(str(m) for m in response.context["messages"])
    assert f"refers to the organisation #{newcomer.pk}" in message
    assert "Nothing was restored." in message
    assert not Statement.objects.filter(pk=pk).exists()
    assert not Signature.objects.filter(statement_id=pk).exists()


def test_a_restored_topic_is_back_on_its_statements(staff_client, seeded):
    from statements.models import Topic

    gaza = Topic.objects.get(slug="gaza")
    on_gaza = sorted(gaza.statements.values_list("pk", flat=True))
    assert on_gaza
    delete_in_admin(staff_client, gaza)
    assert not Statement.objects.filter(topics__slug="gaza").exists()

    response = staff_client.post(last_version_url(Topic, gaza.pk), {})

    assert response.status_code == 302
    assert sorted(Topic.objects.get(pk=gaza.pk).statements.values_list("pk", flat=True)) == on_gaza


def test_a_restored_coverage_item_is_again_the_source_of_its_quotes(staff_client, statement):
    from statements.models import CoverageLink, Quote

    quote = Quote.objects.filter(statement=statement, source__isnull=False).first()
    source = quote.source
    delete_in_admin(staff_client, source)
    quote.refresh_from_db()
    assert quote.source is None

    staff_client.post(last_version_url(CoverageLink, source.pk), {})

    quote.refresh_from_db()
    assert quote.source_id == source.pk


def test_a_statement_deleted_outside_the_admin_is_not_restored_in_part(staff_client, statement):
    pk = statement.pk
    statement.delete()  # its parts went with it, and nothing says which
    url = last_version_url(Statement, pk)
    response = staff_client.post(url, {}, follow=True)
    message = " ".join(str(m) for m in response.context["messages"])
    assert "it cannot be restored whole, and is not restored in part" in message
    assert not Statement.objects.filter(pk=pk).exists()
    # A delete made outside the services left the counts behind: the check finds it, and
    # the rebuild (manage.py rebuild_derived) puts them right.
    assert derived.check()
    derived.rebuild()


def test_a_merged_organisation_is_not_restored(staff_client, seeded):
    from statements.merging import merge_organizations

    from . import factories

    keep = Organization.objects.get(slug="churches-for-middle-east-peace")
    other = factories.organization(name="CMEP Duplicate", slug="cmep-duplicate")
    merge_organizations(keep=keep, other=other)
    response = staff_client.post(last_version_url(Organization, other.pk), {}, follow=True)
    message = " ".join(str(m) for m in response.context["messages"])
    assert "was merged into another" in message
    assert not Organization.objects.filter(pk=other.pk).exists()


def test_a_superuser_restores_a_signature_removed_from_the_statement_form(staff_client, statement):
    signature = statement.signatures.get(position=3)
    url = reverse("admin:statements_statement_change", args=[statement.pk])
    data = form_data(staff_client.get(url).content.decode())
    prefix = next(
        key.removesuffix("-id") for key, value in data.items()
        if key.startswith("signatures-") and key.endswith("-id") and value == str(signature.pk)
    )  # fmt: skip
    data[f"{prefix}-DELETE"] = "on"
    assert staff_client.post(url, data).status_code == 302
    assert not Signature.objects.filter(pk=signature.pk).exists()

    staff_client.post(last_version_url(Signature, signature.pk), {})

    restored = Signature.objects.get(pk=signature.pk)
    assert (restored.organization_id, restored.position) == (
        signature.organization_id,
        signature.position,
    )


def test_a_superuser_restores_a_deleted_organisation_with_its_names_and_old_slugs(
    staff_client, seeded
):
    from organizations.models import FormerSlug, OtherName

    from . import factories

    org = factories.organization(name="Peace Now Network", slug="peace-now-network")
    OtherName.objects.create(organization=org, name="PNN", kind="acronym")
    FormerSlug.objects.create(organization=org, slug="pnn-old")
    delete_in_admin(staff_client, org)
    assert not OtherName.objects.filter(name="PNN").exists()

    staff_client.post(last_version_url(Organization, org.pk), {})

    org = Organization.objects.get(pk=org.pk)
    assert list(org.other_names.values_list("name", "kind")) == [("PNN", "acronym")]
    assert list(org.former_slugs.values_list("slug", flat=True)) == ["pnn-old"]


def test_a_signature_is_not_restored_over_one_made_since(staff_client, statement):
    signature = statement.signatures.get(position=3)
    delete_in_admin(staff_client, signature)
    again = signing.add_signature(
        statement=statement, organization=signature.organization, position=30
    )

    response = staff_client.post(last_version_url(Signature, signature.pk), {}, follow=True)

    message = " ".join(str(m) for m in response.context["messages"])
    assert "This organisation has already signed this statement." in message
    assert "Nothing was restored." in message
    assert list(statement.signatures.filter(organization=signature.organization)) == [again]


def test_the_history_of_records_deleted_with_what_they_belonged_to_names_them(
    staff_client, django_user_model, statement, staff_roles
):
    """
    A signature, contact, coverage item or quote deleted with its statement, and an other
    name or old slug deleted with its organisation: their history and version (restore)
    pages name them, for superusers and for staff who may only view history.
    """
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.utils.html import escape
    from simple_history.models import registered_models

    from organizations.models import FormerSlug, OtherName

    from . import factories

    org = factories.organization(name="Gone With Its Org", slug="gone-with-its-org")
    OtherName.objects.create(organization=org, name="GWIO", kind="acronym")
    FormerSlug.objects.create(organization=org, slug="gwio-old")
    signature = statement.signatures.get(position=3)
    named = escape(str(signature))
    assert statement.title in named
    delete_in_admin(staff_client, statement)
    delete_in_admin(staff_client, org)

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    viewer_client = Client()
    viewer_client.force_login(viewer)
    checked = set()
    for model in {m for m in registered_models.values() if hasattr(m, "history")}:
        opts = model._meta
        for pk in (
            model.history.filter(history_type="-")
            .exclude(id__in=model.objects.values("pk"))
            .values_list("id", flat=True)
        ):
            urls = [
                reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[pk]),
                last_version_url(model, pk),
            ]
            viewer_may = viewer.has_perm(f"{opts.app_label}.view_{opts.model_name}")
            for url in urls:
                assert staff_client.get(url).status_code == 200, url
                assert viewer_client.get(url).status_code == (200 if viewer_may else 403), url
            checked.add(opts.model_name)
    assert {
        "signature", "mediacontact", "coveragelink", "quote", "othername", "formerslug"
    } <= checked  # fmt: skip
    page = staff_client.get(
        reverse("admin:statements_signature_history", args=[signature.pk])
    ).content.decode()
    assert named in page
    assert named in staff_client.get(last_version_url(Signature, signature.pk)).content.decode()


def history_page(client, obj) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
    return " ".join(client.get(url).content.decode().split())


def test_history_reads_as_sentences_with_who_made_each_change(staff_client, statement):
    from django.contrib.auth.models import User

    User.objects.filter(username="editor").update(first_name="Jane", last_name="Editor")
    change(staff_client, statement, place="Washington, DC")
    page = history_page(staff_client, statement)
    assert "Changed by Jane Editor: place Washington, D.C. → Washington, DC" in page
    # The seeds were imported by no one signed in: said so, and labelled as an import.
    assert "Import</strong> Created outside the admin (by a script or an import)" in page
    assert ">None<" not in page and "Changed by: None" not in page


def test_a_revert_is_labelled_as_one(staff_client, statement):
    change(staff_client, statement, place="Somewhere else")
    before = statement.history.all()[1]
    url = reverse(
        "admin:statements_statement_simple_history", args=[statement.pk, before.history_id]
    )
    assert (
        staff_client.post(url, form_data(staff_client.get(url).content.decode())).status_code == 302
    )
    newest = statement.history.first()
    assert newest.history_change_reason.startswith("Reverted to the version of ")
    page = history_page(staff_client, statement)
    assert "Revert</strong> Changed by editor, reverting: the version of" in page
    assert "place Somewhere else → Washington, D.C." in page


def test_a_signature_change_shows_in_full_on_the_statements_history(staff_client, statement):
    signature = statement.signatures.get(position=3)
    assert signature.role == "signatory"
    signing.update_signature(signature=signature, role="lead", reason="Led it after all")
    part = history_page(staff_client, statement).split('id="part-history"')[1]
    assert "Changed outside the admin (by a script or an import): role Signatory → Lead" in part
    assert "Led it after all" in part
