"""A statement of 500 signatories in the admin: its signatures on their own page."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from organizations.models import Organization
from statements import derived, signing
from statements.admin import INLINE_SIGNATURES
from statements.models import Signature, Statement

from .admin_forms import form_data

pytestmark = pytest.mark.django_db


def large_statement(n: int = 500, tag: str = "Signer") -> Statement:
    """A published statement of `n` signatories, written in bulk."""
    statement = Statement.objects.create(
        title="A long sign-on letter",
        slug=f"a-long-letter-{n}-{tag.lower()}",
        issued_on=datetime.date(2025, 11, 12),
        status=Statement.Status.PUBLISHED,
    )
    organizations = [
        Organization(name=f"{tag} {i:03}", slug=f"{tag.lower()}-{n}-{i:03}") for i in range(n)
    ]
    for organization in organizations:
        organization.clean()
    Organization.objects.bulk_create(organizations)
    signing.add_signatures(
        statement=statement,
        rows=[signing.NewSignature(organization=o) for o in organizations],
    )
    return statement


@pytest.fixture
def editor(client, django_user_model, db):
    from importlib import import_module

    from django.apps import apps

    import_module("statements.migrations.0002_staff_groups").create_groups(apps, None)
    user = django_user_model.objects.create_user("ed", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client.force_login(user)
    return client


def signatures_url(statement, **query) -> str:
    url = reverse("admin:statements_statement_signatures", args=[statement.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page_rows(response) -> list[str]:
    return re.findall(r'data-label="Organisation"><a [^>]*>([^<]*)</a>', response.content.decode())


def test_a_large_statement_is_saved_from_its_page_without_its_signatures(editor):
    statement = large_statement()
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    html = editor.get(change).content.decode()
    assert "signatures-TOTAL_FORMS" not in html  # no inline of 500 rows
    assert 'id="signatures-elsewhere"' in html and "Signatures (500)" in html
    data = form_data(html)
    assert len(data) < 200  # far from Django's limit of 1,000 fields
    data["place"] = "Geneva"
    response = editor.post(change, data)
    assert response.status_code == 302, response.content.decode()[:500]
    statement.refresh_from_db()
    assert statement.place == "Geneva"
    assert statement.signatures.count() == 500


def test_a_short_statement_keeps_its_signatures_inline(editor):
    statement = large_statement(INLINE_SIGNATURES)
    html = editor.get(reverse("admin:statements_statement_change", args=[statement.pk])).content
    assert b"signatures-TOTAL_FORMS" in html


def test_the_signatures_page_is_paged_and_searchable(editor):
    statement = large_statement()
    first = editor.get(signatures_url(statement))
    assert page_rows(first)[:2] == ["Signer 000", "Signer 001"] and len(page_rows(first)) == 50
    last = editor.get(signatures_url(statement, p=10))
    assert page_rows(last)[-1] == "Signer 499"
    assert page_rows(editor.get(signatures_url(statement, q="signer 123"))) == ["Signer 123"]
    assert editor.get(signatures_url(statement, p="x")).status_code == 404
    assert editor.get(signatures_url(statement, p="99")).status_code == 200  # the last page
    assert (
        editor.get(reverse("admin:statements_statement_signatures", args=["x"])).status_code == 404
    )


def test_a_page_of_signatures_is_edited_and_saved(editor):
    statement = large_statement()
    url = signatures_url(statement, p=2)
    data = form_data(editor.get(url).content.decode())
    assert len(data) < 400
    data["form-0-role"] = "lead"
    data["form-1-name_as_printed"] = "Signer One-Hundred-and-One, as printed"
    data["_save"] = "1"
    response = editor.post(url, data)
    assert response.status_code == 302
    changed = statement.signatures.order_by("position")[50:52]
    assert [s.role for s in changed] == ["lead", "signatory"]
    assert changed[1].name_as_printed == "Signer One-Hundred-and-One, as printed"
    assert changed[0].history.first().history_user.username == "ed"
    assert derived.check() == []


def test_bulk_actions_on_the_selected(editor):
    statement = large_statement()
    url = signatures_url(statement)
    ids = [str(s.pk) for s in statement.signatures.order_by("position")[:3]]

    def act(**fields):
        page = form_data(editor.get(url).content.decode())  # as the page shows them now
        data = {**page, "selected": ids, "_bulk": "1", **fields}
        data.pop("_save", None)
        return editor.post(url, data)

    assert act(**{"bulk-action": "lead"}).status_code == 302
    assert statement.signatures.filter(role="lead").count() == 3
    assert act(**{"bulk-action": "joined", "bulk-on": "2025-11-13"}).status_code == 302
    assert statement.signatures.filter(joined_on=datetime.date(2025, 11, 13)).count() == 3
    done = act(**{"bulk-action": "withdraw", "bulk-on": "2025-12-01", "bulk-reason": "Left"})
    assert done.status_code == 302
    withdrawn = statement.signatures.filter(withdrawn_on=datetime.date(2025, 12, 1))
    assert withdrawn.count() == 3 and {s.withdrawal_reason for s in withdrawn} == {"Left"}
    assert act(**{"bulk-action": "reinstate"}).status_code == 302
    assert not statement.signatures.filter(withdrawn_on__isnull=False).exists()
    assert derived.check() == []


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"bulk-action": "withdraw", "bulk-on": "2025-12-01"}, "Give the reason"),
        ({"bulk-action": "withdraw", "bulk-reason": "Left"}, "Give the date"),
        ({"bulk-action": "joined"}, "Give the date"),
        ({"bulk-action": "promote"}, "Select a valid choice"),
        ({"bulk-action": "withdraw", "bulk-on": "2020-01-01", "bulk-reason": "x"}, "before"),
    ],
)
def test_a_bad_bulk_action_is_refused_and_changes_nothing(editor, fields, said):
    statement = large_statement(5)
    url = signatures_url(statement)
    data = {**form_data(editor.get(url).content.decode()), "_bulk": "1", **fields}
    data["selected"] = [str(s.pk) for s in statement.signatures.all()]
    before = list(Signature.objects.values_list("role", "joined_on", "withdrawn_on"))
    response = editor.post(url, data, follow=True)
    assert response.status_code == 200
    assert said in response.content.decode()
    assert list(Signature.objects.values_list("role", "joined_on", "withdrawn_on")) == before


def test_nothing_selected_or_unsaved_edits_refuse_a_bulk_action(editor):
    statement = large_statement(5)
    url = signatures_url(statement)
    data = {**form_data(editor.get(url).content.decode()), "_bulk": "1", "bulk-action": "lead"}
    assert "Select the signatures" in editor.post(url, data).content.decode()
    data["selected"] = [str(statement.signatures.first().pk)]
    data["form-2-name_as_printed"] = "Edited but not saved"
    assert "save the page first" in editor.post(url, data).content.decode()
    assert not statement.signatures.filter(role="lead").exists()


def test_another_statements_signature_cannot_be_changed_from_this_page(editor):
    statement, other = large_statement(3), large_statement(4, tag="Other")
    url = signatures_url(statement)
    data = form_data(editor.get(url).content.decode())
    data["form-0-id"] = str(other.signatures.first().pk)
    data["form-0-role"] = "lead"
    data["_save"] = "1"
    response = editor.post(url, data)
    assert response.status_code == 200
    assert not Signature.objects.filter(role="lead").exists()
    data = {**form_data(editor.get(url).content.decode()), "_bulk": "1", "bulk-action": "lead"}
    data["selected"] = [str(other.signatures.first().pk)]
    assert "Select the signatures" in editor.post(url, data).content.decode()
    assert not Signature.objects.filter(role="lead").exists()


def test_reordering_by_pasting_the_printed_order(editor):
    statement = large_statement(6)
    url = signatures_url(statement)
    pasted = "• Signer 005\n• Signer 003 (SIG3)\nsigner 004\n"
    response = editor.post(url, {"reorder-order": pasted, "_reorder": "1"}, follow=True)
    page = response.content.decode()
    assert "Put 3 signatures in the pasted order. 3 signatures not in it follow" in page
    names = [s.organization.name for s in statement.signatures.order_by("position")]
    assert names == [
        "Signer 005",
        "Signer 003",
        "Signer 004",
        "Signer 000",
        "Signer 001",
        "Signer 002",
    ]
    bad = editor.post(
        url, {"reorder-order": "Signer 001\nNobody At All\n", "_reorder": "1"}, follow=True
    )
    assert "Nothing was reordered: 1 line(s) name no organisation" in bad.content.decode()
    assert [s.organization.name for s in statement.signatures.order_by("position")] == names


def test_viewers_see_the_page_but_cannot_change_it(client, django_user_model, editor):
    statement = large_statement(3)
    viewer = django_user_model.objects.create_user("vi", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    page = client.get(signatures_url(statement))
    assert page.status_code == 200 and "Apply to the selected" not in page.content.decode()
    assert client.post(signatures_url(statement), {"_bulk": "1"}).status_code == 403
