"""Every admin page renders for staff, and costs the same whatever the number of rows."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import FormerSlug, OtherName
from statements.models import CoverageLink, MediaContact, Quote, Statement

from . import factories

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
OUR_MODELS = [m for m in MODELS if m._meta.app_label in ("statements", "organizations")]


def test_every_model_of_the_product_is_in_the_admin():
    from django.apps import apps

    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("statements", "organizations")
        and not m.__name__.startswith("Historical")  # shown on each record's "History" page
        # derived from the data and kept by the product, not edited; what imports remember
        and m._meta.label
        not in (
            "organizations.Cosigning",
            "statements.Change",
            "statements.ImportedRecord",
            "statements.Withholding",  # kept by merging and publishing
            # Made from a list's preview and Likely duplicates, shown and taken back on the
            # organisations' Judgements page (tests/test_judgements.py).
            "organizations.Judgement",
        )
    ]
    assert sorted(m._meta.label for m in ours) == sorted(m._meta.label for m in OUR_MODELS)


def add_rows(n: int):
    """n statements with n signatories each, and a contact, a coverage item and a quote."""
    for _ in range(n):
        statement = factories.statement(signatories=n)
        statement.topics.add(factories.topic())
        org = statement.signatures.first().organization
        OtherName.objects.create(organization=org, name=f"{org.name} alias")
        FormerSlug.objects.create(organization=org, slug=f"{org.slug}-former")
        link = CoverageLink.objects.create(statement=statement, outlet="Outlet", date=None)
        MediaContact.objects.create(statement=statement, organization=org, email="a@b.org")
        Quote.objects.create(
            statement=statement, speaker="S", text="T", source=link, organization=org
        )


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_change_list_renders_and_its_query_count_does_not_grow_with_rows(staff_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    add_rows(2)
    few = count_queries(staff_client, url)
    add_rows(6)
    many = count_queries(staff_client, url)
    assert many == few


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_add_and_change_pages_render(staff_client, model):
    add_rows(2)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert staff_client.get(reverse(f"{prefix}_add")).status_code == 200
    obj = model.objects.first()
    assert staff_client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200


def statement_with_rows(n: int) -> Statement:
    statement = factories.statement(signatories=n)
    orgs = [s.organization for s in statement.signatures.all()]
    for i in range(1, n // 10 + 2):
        link = CoverageLink.objects.create(statement=statement, outlet=f"Outlet {i}")
        Quote.objects.create(
            statement=statement, speaker="S", text="T", source=link, organization=orgs[i]
        )
        MediaContact.objects.create(statement=statement, organization=orgs[i], email="a@b.org")
    return statement


def test_statement_change_page_costs_the_same_for_3_and_60_signatories(staff_client):
    small, large = statement_with_rows(3), statement_with_rows(60)
    url = lambda s: reverse("admin:statements_statement_change", args=[s.pk])  # noqa: E731
    count_queries(staff_client, url(small))  # caches filled once a process (content types)
    assert count_queries(staff_client, url(large)) == count_queries(staff_client, url(small))


def test_statement_change_page_shows_signatories_in_printed_order(staff_client):
    statement = factories.statement(signatories=3)
    html = staff_client.get(
        reverse("admin:statements_statement_change", args=[statement.pk])
    ).content.decode()
    names = [s.organization.name for s in statement.signatures.order_by("position")]
    positions = [html.index(f">{name}</option>") for name in names]
    assert positions == sorted(positions)


def test_admin_search_finds_an_organisation_by_an_other_name(staff_client):
    org = factories.organization(name="Armenian National Committee of America", acronym="ANCA")
    OtherName.objects.create(organization=org, name="ANCA", kind=OtherName.Kind.ACRONYM)
    factories.organization(name="Someone else")
    response = staff_client.get(
        reverse("admin:organizations_organization_changelist"), {"q": "anca"}
    )
    assert list(response.context["cl"].result_list) == [org]


def test_staff_without_permissions_cannot_see_the_admin(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    response = client.get(reverse("admin:statements_statement_changelist"))
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(reverse("admin:statements_statement_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_draft_statements_are_listed_for_staff(staff_client):
    draft = factories.statement(status=Statement.Status.DRAFT, title="Work in progress")
    response = staff_client.get(reverse("admin:statements_statement_changelist"))
    assert draft in response.context["cl"].result_list
