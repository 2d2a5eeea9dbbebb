"""Every database rule shows up in the admin as a form error, never as a 500."""

import pytest
from django.urls import reverse

from organizations.models import Organization, OtherName
from statements.models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic

from . import factories
from .admin_forms import add_inline_row, form_data


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def current_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode())


def post_expecting_error(client, url, data, message) -> None:
    response = client.post(url, data)
    assert response.status_code == 200, "the form was accepted"
    html = response.content.decode()
    assert 'class="errornote"' in html
    assert message in html, html[html.find("errorlist") - 200 : html.find("errorlist") + 600]


@pytest.fixture
def statement(db):
    return factories.statement(signatories=2)


def test_unchanged_statement_form_saves(staff_client, statement):
    url = change_url(statement)
    response = staff_client.post(url, current_form(staff_client, url))
    assert response.status_code == 302


def test_duplicate_signature_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    taken = statement.signatures.first().organization
    data = add_inline_row(
        current_form(staff_client, url),
        "signatures",
        organization=taken.pk,
        role="signatory",
        position="3",
    )
    post_expecting_error(staff_client, url, data, "Please correct the duplicate data for")
    assert statement.signatures.count() == 2


def test_two_new_rows_for_one_organisation_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    org = factories.organization()
    data = current_form(staff_client, url)
    add_inline_row(data, "signatures", organization=org.pk, role="signatory", position="3")
    add_inline_row(data, "signatures", organization=org.pk, role="signatory", position="4")
    post_expecting_error(staff_client, url, data, "Please correct the duplicate data for")
    assert statement.signatures.count() == 2


def test_withdrawn_before_joined_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    data = current_form(staff_client, url)
    data["signatures-0-joined_on"] = "2025-11-12"
    data["signatures-0-withdrawn_on"] = "2025-11-01"
    post_expecting_error(
        staff_client, url, data, "The withdrawal date cannot be before the date joined."
    )
    assert not Signature.objects.filter(withdrawn_on__isnull=False).exists()


def test_withdrawn_before_the_default_joining_date_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url), "signatures",
        organization=factories.organization().pk, role="signatory", position="3",
        withdrawn_on="2025-01-01",
    )  # fmt: skip
    post_expecting_error(
        staff_client, url, data, "The withdrawal date cannot be before the date joined."
    )
    assert statement.signatures.count() == 2


def test_a_reason_without_a_withdrawal_date_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    data = current_form(staff_client, url)
    data["signatures-0-withdrawal_reason"] = "Changed its mind"
    post_expecting_error(staff_client, url, data, "A withdrawal reason needs a withdrawal date.")


def test_new_statement_with_signatures_defaults_joined_to_issue_date(staff_client, db):
    data = current_form(staff_client, add_url(Statement))
    org = factories.organization()
    data.update(title="New", slug="new", issued_on="2025-11-12", status="draft")
    data["signatures-0-organization"] = org.pk
    data["signatures-0-position"] = "1"
    response = staff_client.post(add_url(Statement), data)
    assert response.status_code == 302
    assert Signature.objects.get(statement__slug="new").joined_on.isoformat() == "2025-11-12"


def test_new_statement_withdrawn_before_issue_date_is_a_form_error(staff_client, db):
    data = current_form(staff_client, add_url(Statement))
    data.update(title="New", slug="new", issued_on="2025-11-12", status="draft")
    data["signatures-0-organization"] = factories.organization().pk
    data["signatures-0-position"] = "1"
    data["signatures-0-withdrawn_on"] = "2025-11-01"
    post_expecting_error(
        staff_client, add_url(Statement), data, "The withdrawal date cannot be before"
    )
    assert not Statement.objects.filter(slug="new").exists()


def test_duplicate_statement_slug_is_a_form_error(staff_client, statement):
    data = current_form(staff_client, add_url(Statement))
    data.update(title="Other", slug=statement.slug, issued_on="2025-11-12")
    post_expecting_error(
        staff_client, add_url(Statement), data, "Statement with this Slug already exists."
    )
    assert Statement.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    ["armenian national committee of america", "  Armenian   National Committee of America "],
)
def test_duplicate_organisation_name_is_a_form_error(staff_client, db, name):
    factories.organization(name="Armenian National Committee of America")
    data = current_form(staff_client, add_url(Organization))
    data.update(name=name, slug="another-slug")
    post_expecting_error(
        staff_client, add_url(Organization), data, "An organisation with this name already exists"
    )
    assert Organization.objects.count() == 1


def test_duplicate_organisation_slug_is_a_form_error(staff_client, db):
    factories.organization(slug="anca")
    data = current_form(staff_client, add_url(Organization))
    data.update(name="Something new", slug="anca")
    post_expecting_error(
        staff_client, add_url(Organization), data, "Organisation with this Slug already exists."
    )


def test_badly_spaced_names_are_tidied_not_refused(staff_client, db):
    data = current_form(staff_client, add_url(Organization))
    data.update(name="  A   New Policy ", slug="a-new-policy")
    assert staff_client.post(add_url(Organization), data).status_code == 302
    assert Organization.objects.get().name == "A New Policy"


def test_duplicate_other_name_is_a_form_error(staff_client, db):
    org = factories.organization()
    OtherName.objects.create(organization=org, name="ANCA", kind="acronym")
    url = change_url(org)
    data = add_inline_row(
        current_form(staff_client, url), "other_names", name="anca", kind="acronym"
    )
    post_expecting_error(
        staff_client, url, data, "“anca” is listed twice. Other names are compared ignoring case."
    )
    assert org.other_names.count() == 1


def test_duplicate_topic_name_is_a_form_error(staff_client, db):
    factories.topic(name="Gaza")
    data = current_form(staff_client, add_url(Topic))
    data.update(name="gaza", slug="gaza-2")
    post_expecting_error(staff_client, add_url(Topic), data, "A topic with this name already")


def test_two_first_reported_items_is_a_form_error(staff_client, statement):
    CoverageLink.objects.create(statement=statement, outlet="Politico", first_reported=True)
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url),
        "coverage",
        outlet="Ynet",
        kind="news",
        first_reported="on",
        position="2",
    )
    post_expecting_error(
        staff_client, url, data, "Only one coverage item can be marked as first reported"
    )
    assert statement.coverage.count() == 1


def test_moving_the_first_reported_flag_saves(staff_client, statement):
    CoverageLink.objects.create(statement=statement, outlet="A", first_reported=True, position=1)
    CoverageLink.objects.create(statement=statement, outlet="B", position=2)
    url = change_url(statement)
    data = current_form(staff_client, url)
    del data["coverage-0-first_reported"]
    data["coverage-1-first_reported"] = "on"
    assert staff_client.post(url, data).status_code == 302
    assert statement.coverage.get(first_reported=True).outlet == "B"


def test_other_name_admin_refuses_a_duplicate(staff_client, db):
    org = factories.organization()
    OtherName.objects.create(organization=org, name="ANCA", kind="acronym")
    data = current_form(staff_client, add_url(OtherName))
    data.update(organization=org.pk, name="Anca", kind="acronym")
    post_expecting_error(
        staff_client, add_url(OtherName), data, "This organisation already has this other name."
    )


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026", ("2026-01-01", "year")),
        ("2026-01", ("2026-01-01", "month")),
        ("2025-11-12", ("2025-11-12", "day")),
        ("", (None, "")),
    ],
)
def test_coverage_takes_a_partial_date(staff_client, statement, text, stored):
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url),
        "coverage",
        outlet="ARY News",
        kind="follow_up",
        date_text=text,
        position="1",
    )
    assert staff_client.post(url, data).status_code == 302
    link = statement.coverage.get()
    assert (link.date and link.date.isoformat(), link.date_precision) == stored
    # ...and shows it back as typed.
    assert current_form(staff_client, url)["coverage-0-date_text"] == text


@pytest.mark.parametrize("text", ["2026-13", "2026-02-30", "Jan 2026", "26"])
def test_an_impossible_coverage_date_is_a_form_error(staff_client, statement, text):
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url),
        "coverage",
        outlet="ARY News",
        kind="follow_up",
        date_text=text,
        position="1",
    )
    post_expecting_error(staff_client, url, data, f"“{text}” is not")
    assert not statement.coverage.exists()


def test_a_contact_without_email_or_phone_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url),
        "media_contacts",
        name="Press",
        is_public="on",
        position="1",
    )
    post_expecting_error(staff_client, url, data, "Give an email address or a phone number.")
    assert not MediaContact.objects.exists()


def test_duplicate_signature_in_the_signature_admin_is_a_form_error(staff_client, statement):
    taken = statement.signatures.first()
    data = current_form(staff_client, add_url(Signature))
    data.update(
        statement=statement.pk, organization=taken.organization_id, role="signatory", position="9"
    )
    post_expecting_error(
        staff_client,
        add_url(Signature),
        data,
        "This organisation has already signed this statement.",
    )


def test_an_unknown_organisation_id_is_a_form_error(staff_client, statement):
    url = change_url(statement)
    data = add_inline_row(
        current_form(staff_client, url),
        "signatures",
        organization="99999999999",
        role="signatory",
        position="3",
    )
    post_expecting_error(staff_client, url, data, "Select a valid choice.")
    data["signatures-2-organization"] = "not-a-number"
    post_expecting_error(staff_client, url, data, "Select a valid choice.")


GARBAGE_IDS = ["abc", "²", "9" * 30, "-1", " 1 2 "]


@pytest.mark.parametrize("garbage", GARBAGE_IDS)
@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Signature, "statement"),
        (Signature, "organization"),
        (MediaContact, "organization"),
        (CoverageLink, "statement"),
        (OtherName, "organization"),
        (Statement, "topics"),
    ],
)
def test_a_malformed_id_is_a_form_error_on_every_add_page(staff_client, db, model, field, garbage):
    factories.statement(signatories=1)
    count = model.objects.count()
    data = current_form(staff_client, add_url(model))
    data[field] = garbage
    post_expecting_error(staff_client, add_url(model), data, "Select a valid choice")
    assert model.objects.count() == count


@pytest.mark.parametrize("garbage", GARBAGE_IDS)
def test_a_malformed_id_in_an_inline_is_a_form_error(staff_client, statement, garbage):
    url = change_url(statement)
    data = current_form(staff_client, url)
    add_inline_row(data, "signatures", organization=garbage, role="signatory", position="3")
    add_inline_row(data, "media_contacts", organization=garbage, email="a@b.org", position="1")
    post_expecting_error(staff_client, url, data, "Select a valid choice.")
    assert statement.signatures.count() == 2 and not MediaContact.objects.exists()


def test_a_signature_can_take_over_the_organisation_of_one_deleted_in_the_same_save(
    staff_client, statement
):
    _, second = statement.signatures.order_by("position")
    url = change_url(statement)
    data = current_form(staff_client, url)
    data["signatures-0-organization"] = str(second.organization_id)
    data["signatures-1-DELETE"] = "on"
    assert staff_client.post(url, data).status_code == 302
    assert [s.organization_id for s in statement.signatures.all()] == [second.organization_id]


def test_ticking_first_reported_while_deleting_the_item_that_had_it_saves(staff_client, statement):
    CoverageLink.objects.create(statement=statement, outlet="A", position=1)
    CoverageLink.objects.create(statement=statement, outlet="B", first_reported=True, position=2)
    url = change_url(statement)
    data = current_form(staff_client, url)
    data["coverage-0-first_reported"] = "on"
    data["coverage-1-DELETE"] = "on"
    assert staff_client.post(url, data).status_code == 302
    assert [(c.outlet, c.first_reported) for c in statement.coverage.all()] == [("A", True)]


def test_swapping_two_organisations_is_refused_with_a_message_and_changes_nothing(
    staff_client, statement
):
    before = list(statement.signatures.values_list("pk", "organization_id"))
    url = change_url(statement)
    data = current_form(staff_client, url)
    data["signatures-0-organization"], data["signatures-1-organization"] = (
        data["signatures-1-organization"],
        data["signatures-0-organization"],
    )
    response = staff_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert list(statement.signatures.values_list("pk", "organization_id")) == before


def test_a_quote_cannot_cite_coverage_of_another_statement(staff_client, statement):
    elsewhere = CoverageLink.objects.create(statement=factories.statement(), outlet="Other")
    data = current_form(staff_client, add_url(Quote))
    data.update(statement=statement.pk, speaker="S", text="T", source=elsewhere.pk, position="1")
    post_expecting_error(
        staff_client, add_url(Quote), data, "Choose a coverage item of this statement."
    )
    assert not Quote.objects.exists()


def test_a_coverage_item_stays_on_its_statement(staff_client, statement):
    link = CoverageLink.objects.create(statement=statement, outlet="A")
    other = factories.statement()
    data = current_form(staff_client, change_url(link))
    data["statement"] = other.pk
    assert staff_client.post(change_url(link), data).status_code == 302
    link.refresh_from_db()
    assert link.statement == statement


def test_a_nul_byte_in_an_admin_form_is_refused_and_writes_nothing(staff_client, db):
    data = current_form(staff_client, add_url(Organization))
    data.update(name="Bad\x00Name", slug="bad-name")
    response = staff_client.post(add_url(Organization), data)
    assert response.status_code == 400
    assert not Organization.objects.exists()
