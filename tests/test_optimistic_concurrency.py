"""
Two editors open the same record; the first saves. The second's save is refused, whole, with
a form error naming who saved and when, and the form comes back with what they typed: without
this the second editor silently put back what the first had changed (a publication reverted
to draft).
"""

import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from organizations.models import Organization
from statements.models import Signature, Statement

from . import factories
from .admin_forms import form_data
from .browser import SHOTS, VIEWPORTS

pytestmark = pytest.mark.usefixtures("staff_roles")


@pytest.fixture
def editors(db, django_user_model):
    """Two editors, each logged in with a browser of their own."""

    def log_in(username):
        user = django_user_model.objects.create_user(username, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name="Editor"))
        client = Client()
        client.force_login(user)
        return client

    return log_in("alice"), log_in("bob")


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def open_form(client, obj) -> dict:
    response = client.get(change_url(obj))
    assert response.status_code == 200
    return form_data(response.content.decode())


def saved(client, obj, data) -> None:
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, form_errors(response)


def refused(client, obj, data) -> str:
    """The page shown when a save is refused: its HTML."""
    response = client.post(change_url(obj), data)
    assert response.status_code == 200, "the save was accepted"
    html = response.content.decode()
    assert 'class="errornote"' in html
    return html


def form_errors(response) -> str:
    html = response.content.decode()
    return html[html.find("errorlist") - 200 : html.find("errorlist") + 600]


def as_shown(moment) -> str:
    """A moment as the site's time zone shows it: 14:05:33 EST on 1 December 2026."""
    local = timezone.localtime(moment)
    return f"{local:%H:%M:%S} {local:%Z} on {local.day} {local:%B %Y}"


@pytest.fixture
def draft(db):
    return factories.statement(status=Statement.Status.DRAFT, signatories=2)


def test_the_second_editor_is_told_who_published_meanwhile_and_keeps_their_input(
    editors, draft, settings
):
    settings.TIME_ZONE = "America/New_York"  # the site's, not the server's or UTC
    alice, bob = editors
    alices_form, bobs_form = open_form(alice, draft), open_form(bob, draft)
    alices_form["status"] = "published"
    alices_form["summary"] = "Alice's summary."
    saved(alice, draft, alices_form)
    draft.refresh_from_db()
    published_at = draft.updated_at

    bobs_form["title"] = "Bob's better title"
    html = refused(bob, draft, bobs_form)

    assert f"Saved by alice at {as_shown(published_at)} since you opened this page" in html
    assert "EST on" in as_shown(published_at)
    assert "your changes are not saved" in html
    assert f'href="{change_url(draft)}"' in html  # the current version, to review
    shown_again = form_data(html)
    assert shown_again["title"] == "Bob's better title"
    assert shown_again["status"] == "draft"  # what Bob's form said, not saved
    draft.refresh_from_db()
    assert draft.status == Statement.Status.PUBLISHED
    assert draft.summary == "Alice's summary."
    assert draft.title != "Bob's better title"
    assert draft.updated_at == published_at


def test_a_refused_save_does_not_save_its_inline_rows_either(editors, draft):
    alice, bob = editors
    alices_form, bobs_form = open_form(alice, draft), open_form(bob, draft)
    alices_form["title"] = "Alice's title"
    saved(alice, draft, alices_form)

    bobs_form["signatures-0-name_as_printed"] = "Printed by Bob"
    bobs_form["signatures-1-DELETE"] = "on"
    html = refused(bob, draft, bobs_form)

    assert "Saved by alice at" in html
    assert form_data(html)["signatures-0-name_as_printed"] == "Printed by Bob"
    assert draft.signatures.count() == 2
    assert not Signature.objects.filter(name_as_printed="Printed by Bob").exists()


def test_a_change_to_a_signature_alone_is_a_change_of_the_statement(editors, draft):
    alice, bob = editors
    alices_form, bobs_form = open_form(alice, draft), open_form(bob, draft)
    alices_form["signatures-0-role"] = "lead"  # nothing else on the page changes
    saved(alice, draft, alices_form)
    assert draft.signatures.filter(role="lead").count() == 1

    bobs_form["title"] = "Bob's title"
    html = refused(bob, draft, bobs_form)

    assert "Saved by alice at" in html
    draft.refresh_from_db()
    assert draft.title != "Bob's title"


def test_the_second_editor_of_an_organisation_is_told_who_saved_it(editors, db):
    org = factories.organization(city="Glendale")
    alice, bob = editors
    alices_form, bobs_form = open_form(alice, org), open_form(bob, org)
    alices_form["city"] = "Washington"
    alices_form["other_names-0-name"] = "ANCA"
    saved(alice, org, alices_form)
    org.refresh_from_db()

    bobs_form["description"] = "Bob's description."
    bobs_form["other_names-0-name"] = "Bob's other name"
    html = refused(bob, org, bobs_form)

    assert f"Saved by alice at {as_shown(org.updated_at)} since you opened this page" in html
    assert form_data(html)["description"] == "Bob's description."
    org.refresh_from_db()
    assert (org.city, org.description) == ("Washington", "")
    assert list(org.other_names.values_list("name", flat=True)) == ["ANCA"]


def test_a_save_with_no_one_else_saving_meanwhile_goes_through(editors, draft):
    alice, _ = editors
    form = open_form(alice, draft)
    form["title"] = "A new title"
    saved(alice, draft, form)
    # And again from the page the save leads back to: each save carries the new version.
    form = open_form(alice, draft)
    form["place"] = "Yerevan"
    saved(alice, draft, form)
    draft.refresh_from_db()
    assert (draft.title, draft.place) == ("A new title", "Yerevan")


def test_a_count_that_changed_meanwhile_is_not_an_edit(editors, draft):
    # Bob opens an organisation; Alice publishes a statement it signed, which changes its
    # public count but nothing Bob edits. Bob's save goes through, and keeps the new count.
    alice, bob = editors
    org = draft.signatures.first().organization
    bobs_form = open_form(bob, org)
    alices_form = open_form(alice, draft)
    alices_form["status"] = "published"
    saved(alice, draft, alices_form)
    org.refresh_from_db()
    assert org.public_statement_count == 1

    bobs_form["city"] = "Paris"
    saved(bob, org, bobs_form)
    org.refresh_from_db()
    assert (org.city, org.public_statement_count) == ("Paris", 1)


def test_a_save_that_someone_else_made_without_history_is_blamed_on_another_process(editors, draft):
    alice, _ = editors
    form = open_form(alice, draft)
    Statement.objects.filter(pk=draft.pk).update(
        status=Statement.Status.PUBLISHED, updated_at=timezone.now()
    )  # as a script or a bulk import would, leaving no history
    form["title"] = "Alice's title"
    html = refused(alice, draft, form)
    assert "Saved by another process (an import, for example) at" in html
    assert Statement.objects.get(pk=draft.pk).status == Statement.Status.PUBLISHED


@pytest.mark.parametrize("version", [None, "", "not a time", "2026-01-01T00:00:00", "9" * 500])
def test_a_missing_or_tampered_version_is_a_form_error(editors, draft, version):
    alice, _ = editors
    form = open_form(alice, draft)
    assert form["loaded_version"]
    if version is None:
        del form["loaded_version"]
    else:
        form["loaded_version"] = version
    form["title"] = "Alice's title"
    html = refused(alice, draft, form)
    assert "This form does not say which version of the statement it was opened on" in html
    assert form_data(html)["title"] == "Alice's title"
    draft.refresh_from_db()
    assert draft.title != "Alice's title"


def test_a_version_from_the_future_is_a_form_error(editors, db):
    org = factories.organization()
    alice, _ = editors
    form = open_form(alice, org)
    form["loaded_version"] = "2999-01-01T00:00:00+00:00"
    form["city"] = "Paris"
    html = refused(alice, org, form)
    assert "This form does not say which version of the organisation it was opened on" in html
    assert Organization.objects.get(pk=org.pk).city == ""


@pytest.mark.django_db(transaction=True)
def test_a_save_that_arrives_while_another_is_being_written_waits_and_is_refused(editors):
    """
    Bob's save arrives while another save of the statement, from a form opened as long ago
    as his, is being written: his waits for it to commit, then is refused. Checked without
    the lock, both would pass, and his would be written over the other.
    """
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks another connection waits for (CI runs this on PostgreSQL)")
    statement = factories.statement(status=Statement.Status.DRAFT)
    title = statement.title
    _, bob = editors
    bobs_form = open_form(bob, statement)
    bobs_form["title"] = "Bob's title"
    locked = threading.Event()

    def publish_slowly():
        try:
            with transaction.atomic():
                row = Statement.objects.select_for_update(no_key=True).get(pk=statement.pk)
                locked.set()
                time.sleep(1.5)  # Bob's save arrives now
                row.status = Statement.Status.PUBLISHED
                row.save()
        finally:
            connection.close()

    other = threading.Thread(target=publish_slowly)
    other.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        html = refused(bob, statement, bobs_form)
        waited = time.monotonic() - started
    finally:
        other.join(10)
    assert "since you opened this page: your changes are not saved" in html
    assert waited > 0.5
    statement.refresh_from_db()
    assert (statement.status, statement.title) == ("published", title)


def test_a_viewer_is_shown_no_version(client, django_user_model, draft):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    html = client.get(change_url(draft)).content.decode()
    assert draft.title in html
    assert "loaded_version" not in html and "Loaded version" not in html


def test_reverting_to_an_old_version_is_refused_after_someone_saved_meanwhile(editors, draft):
    alice, bob = editors
    form = open_form(alice, draft)
    form["title"] = "Second title"
    saved(alice, draft, form)
    first = draft.history.order_by("history_date").first()
    revert_url = reverse(
        "admin:statements_statement_simple_history", args=[draft.pk, first.history_id]
    )
    response = bob.get(revert_url)
    assert response.status_code == 200
    bobs_revert = form_data(response.content.decode())

    form = open_form(alice, draft)
    form["title"] = "Third title"
    saved(alice, draft, form)
    response = bob.post(revert_url, bobs_revert)
    assert response.status_code == 200
    assert "Saved by alice at" in response.content.decode()
    assert Statement.objects.get(pk=draft.pk).title == "Third title"

    response = bob.get(revert_url)
    assert bob.post(revert_url, form_data(response.content.decode())).status_code == 302
    assert Statement.objects.get(pk=draft.pk).title == first.title


def log_in_with_a_browser(chromium, site, username):
    User.objects.create_user(username, password="a long editor password", is_staff=True)
    User.objects.get(username=username).groups.add(Group.objects.get(name="Editor"))
    context = chromium.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(f"{site}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a long editor password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/admin/")
    return context, page


def test_two_editors_in_two_browsers_and_the_second_is_told(chromium, site):
    statement = factories.statement(status=Statement.Status.DRAFT, signatories=2)
    url = f"{site}{change_url(statement)}"
    (alices, alice), (bobs, bob) = (
        log_in_with_a_browser(chromium, site, name) for name in ("alice", "bob")
    )
    try:
        alice.goto(url)
        bob.goto(url)
        alice.locator("#id_status").select_option("published")
        alice.get_by_role("button", name="Save and continue editing").first.click()
        expect(alice.locator(".messagelist")).to_contain_text("was changed successfully")

        bob.locator("#id_title").fill("Bob's better title")
        bob.get_by_role("button", name="Save and continue editing").first.click()
        expect(bob.locator(".errornote")).to_be_visible()
        expect(bob.locator(".errorlist.nonfield")).to_contain_text(
            "Saved by alice at", use_inner_text=True
        )
        expect(bob.locator(".errorlist.nonfield")).to_contain_text("your changes are not saved")
        assert bob.locator("#id_title").input_value() == "Bob's better title"
        SHOTS.mkdir(parents=True, exist_ok=True)
        bob.screenshot(path=str(SHOTS / "admin-saved-meanwhile.png"), full_page=True)
        current = bob.locator(".errorlist.nonfield").get_by_role("link", name="current version")
        with bob.context.expect_page() as opened:
            current.click()
        expect(opened.value.locator("#id_status")).to_have_value("published")
    finally:
        alices.close()
        bobs.close()
    title = statement.title
    statement.refresh_from_db()
    assert (statement.status, statement.title) == ("published", title)
