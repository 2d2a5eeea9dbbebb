"""
The change log (statements.Change): every public write logs what it changed, however it was
made — save(), QuerySet.update(), bulk_create, raw SQL — in its own transaction, and nothing
else logs.
"""

import threading

import pytest
from django.apps import apps
from django.db import connection, transaction

from organizations.models import FormerSlug, Organization, OtherName
from statements import change_triggers, withholding
from statements.changes import changes_since, record_merge
from statements.models import (
    Change,
    CoverageLink,
    MediaContact,
    Quote,
    Signature,
    Statement,
    Withholding,
)

from . import factories

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's transactions"
)


class Log:
    """What the log gained since the last look, as (kind, slug, action) in log order."""

    def __init__(self):
        last = Change.objects.order_by("-id").first()
        self.last = last.id if last else 0

    def new(self) -> list[tuple[str, str, str]]:
        rows = changes_since(self.last, limit=100_000)
        if rows:
            self.last = rows[-1].id
        return [(row.kind, row.slug, row.action) for row in rows]


# Each test commits as the product does (a test in one transaction would be one write).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def log():
    return Log()


def recount(*organizations):
    """Set the organisations' public counts to the truth, as the product keeps them."""
    for organization in organizations:
        n = Signature.objects.filter(
            Statement.public_filter("statement__"), organization=organization
        ).count()
        Organization.objects.filter(pk=organization.pk).update(public_statement_count=n)
        organization.refresh_from_db()


def public_organization(**fields) -> Organization:
    """An organisation with a signature on a public statement, its count right."""
    organization = factories.organization(**fields)
    Signature.objects.create(statement=factories.statement(), organization=organization)
    recount(organization)
    return organization


def draft(**fields) -> Statement:
    return factories.statement(status=Statement.Status.DRAFT, **fields)


def test_publishing_unpublishing_and_retracting_a_statement(log):
    topic = factories.topic()
    statement = draft()
    statement.topics.add(topic)
    assert log.new() == []

    statement.status = Statement.Status.PUBLISHED
    statement.save()
    new = log.new()
    assert ("statement", statement.slug, "published") in new
    assert ("topic", topic.slug, "changed") in new  # the topic now lists it

    statement.status = Statement.Status.RETRACTED
    statement.retraction_note = "Withdrawn by its sponsors."
    statement.save()
    assert log.new() == [("statement", statement.slug, "changed")]

    statement.status = Statement.Status.DRAFT
    statement.save()
    new = log.new()
    assert ("statement", statement.slug, "unpublished") in new
    assert ("topic", topic.slug, "changed") in new


def test_a_public_statement_created_and_edited(log):
    statement = factories.statement()
    assert log.new() == [("statement", statement.slug, "created")]
    statement.title = "A new title"
    statement.save()
    assert log.new() == [("statement", statement.slug, "changed")]
    statement.save()  # nothing changed
    assert log.new() == []


def test_a_drafts_edits_and_parts_log_nothing(log):
    organization = public_organization()
    statement = draft()
    log.new()
    statement.title = "Still a draft"
    statement.save()
    statement.topics.add(factories.topic())
    Signature.objects.create(statement=statement, organization=organization)
    MediaContact.objects.create(statement=statement, organization=organization, email="a@b.org")
    coverage = CoverageLink.objects.create(statement=statement, outlet="Politico")
    Quote.objects.create(statement=statement, organization=organization, speaker="A", text="B")
    Signature.objects.filter(statement=statement).update(name_as_printed="As printed")
    coverage.delete()
    assert log.new() == []


def test_staff_only_columns_log_nothing(log):
    statement = factories.statement()
    coverage = CoverageLink.objects.create(statement=statement, outlet="Politico")
    organization = public_organization()
    log.new()
    statement.notes = "Checked with the sponsor."
    statement.save()  # moves updated_at too
    coverage.notes = "Paywalled."
    coverage.save()
    organization.notes = "Ask before listing."
    organization.save()
    Organization.objects.filter(pk=organization.pk).update(cosigners_kept=True)
    assert log.new() == []


def test_a_contact_that_is_not_public_logs_nothing(log):
    statement = factories.statement()
    log.new()
    contact = MediaContact.objects.create(statement=statement, email="a@b.org", is_public=False)
    contact.phone = "+1 202 555 0100"
    contact.save()
    assert log.new() == []
    contact.is_public = True
    contact.save()
    assert log.new() == [("statement", statement.slug, "changed")]
    contact.delete()
    assert log.new() == [("statement", statement.slug, "changed")]


def test_adding_a_signature_logs_its_statement_and_its_organisation(log):
    statement = factories.statement()
    organization = public_organization()
    log.new()
    Signature.objects.create(statement=statement, organization=organization)
    new = log.new()
    assert ("statement", statement.slug, "changed") in new
    assert ("organization", organization.slug, "changed") in new
    assert {kind for kind, _, _ in new} == {"statement", "organization"}


def test_parts_log_their_records(log):
    statement = factories.statement()
    organization = public_organization()
    topic = factories.topic()
    log.new()
    coverage = CoverageLink.objects.create(statement=statement, outlet="Politico")
    assert log.new() == [("statement", statement.slug, "changed")]
    Quote.objects.create(statement=statement, organization=organization, speaker="A", text="B")
    assert set(log.new()) == {
        ("statement", statement.slug, "changed"),
        ("organization", organization.slug, "changed"),
    }
    statement.topics.add(topic)
    assert set(log.new()) == {
        ("statement", statement.slug, "changed"),
        ("topic", topic.slug, "changed"),
    }
    topic.description = "What it is about."
    topic.save()
    assert log.new() == [("topic", topic.slug, "changed")]
    OtherName.objects.create(organization=organization, name="Another name")
    assert log.new() == [("organization", organization.slug, "changed")]
    coverage.delete()
    assert log.new() == [("statement", statement.slug, "changed")]


def test_withheld_names_and_slugs_log_nothing_until_public(log):
    organization = public_organization()
    secret = draft()
    log.new()
    name = OtherName.objects.create(organization=organization, name="Known", withheld=True)
    Withholding.objects.create(statement=secret, other_name=name)
    slug = FormerSlug.objects.create(organization=organization, slug="old-address", withheld=True)
    Withholding.objects.create(statement=secret, former_slug=slug)
    assert log.new() == []
    withholding.release(withholdings=Withholding.objects.filter(other_name=name))
    assert log.new() == [("organization", organization.slug, "changed")]


def test_a_topic_only_drafts_have_logs_nothing(log):
    topic = factories.topic()
    draft().topics.add(topic)
    topic.name = "Renamed"
    topic.save()
    topic.statements.clear()
    topic.delete()
    assert log.new() == []


def test_a_public_topic_deleted_is_logged_deleted(log):
    topic = factories.topic()
    factories.statement().topics.add(topic)
    log.new()
    slug = topic.slug
    topic.delete()
    assert ("topic", slug, "deleted") in log.new()


def test_bulk_create_logs_once_per_record(log):
    statement = factories.statement()
    organizations = [public_organization() for _ in range(5)]
    log.new()
    Signature.objects.bulk_create(
        Signature(statement=statement, organization=o, joined_on=statement.issued_on)
        for o in organizations
    )
    new = log.new()
    assert new.count(("statement", statement.slug, "changed")) == 1
    assert {slug for kind, slug, _ in new if kind == "organization"} == {
        o.slug for o in organizations
    }


def test_one_update_of_many_signatures_logs_each_parent_once(log):
    """As a merge moves an organisation's signatures: one row per statement, not per row."""
    hub, other = public_organization(), public_organization()
    statements = [factories.statement() for _ in range(40)]
    Signature.objects.bulk_create(
        Signature(statement=s, organization=hub, joined_on=s.issued_on) for s in statements
    )
    recount(hub)
    log.new()
    moved = Signature.objects.filter(organization=hub, statement__in=statements).update(
        organization=other
    )
    assert moved == 40
    new = log.new()
    assert len(new) == len(set(new)) == 42
    assert {slug for kind, slug, _ in new if kind == "statement"} == {s.slug for s in statements}
    assert {slug for kind, slug, _ in new if kind == "organization"} == {hub.slug, other.slug}


@on_postgresql
def test_an_address_is_logged_changed_once_a_transaction():
    statement = factories.statement(signatories=3)
    log = Log()
    with transaction.atomic():
        for n in range(3):
            Statement.objects.filter(pk=statement.pk).update(title=f"Title {n}")
            Signature.objects.filter(statement=statement).update(position=n + 10)
    assert [row for row in log.new() if row[0] == "statement"] == [
        ("statement", statement.slug, "changed")
    ]


def test_raw_sql_logs(log):
    statement = factories.statement()
    organization = factories.organization()
    log.new()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE statements_statement SET title = %s WHERE id = %s", ["Raw", statement.pk]
        )
        cursor.execute(
            "UPDATE organizations_organization SET public_statement_count = 1 WHERE id = %s",
            [organization.pk],
        )
        cursor.execute("UPDATE organizations_organization SET notes = 'staff only'")
    assert log.new() == [
        ("statement", statement.slug, "changed"),
        ("organization", organization.slug, "published"),
    ]


def test_an_organisation_is_published_when_it_first_counts_and_unpublished_after(log):
    organization = factories.organization()
    organization.description = "Not yet public."
    organization.save()
    assert log.new() == []
    Organization.objects.filter(pk=organization.pk).update(public_statement_count=1)
    assert log.new() == [("organization", organization.slug, "published")]
    Organization.objects.filter(pk=organization.pk).update(public_statement_count=2)
    assert log.new() == [("organization", organization.slug, "changed")]
    Organization.objects.filter(pk=organization.pk).update(public_statement_count=0)
    assert log.new() == [("organization", organization.slug, "unpublished")]


def test_a_changed_slug_logs_the_old_address_and_the_new(log):
    statement = factories.statement()
    old = statement.slug
    log.new()
    statement.slug = "a-new-address"
    statement.save()
    assert set(log.new()) == {
        ("statement", old, "changed"),
        ("statement", "a-new-address", "changed"),
    }


def test_deleting(log):
    statement = factories.statement(signatories=3)
    organizations = [s.organization for s in statement.signatures.all()]
    recount(*organizations)
    secret = draft(signatories=2)
    log.new()
    slug = statement.slug
    statement.delete()  # its signatures go first
    new = log.new()
    assert ("statement", slug, "deleted") in new
    assert {o.slug for o in organizations} <= {slug for kind, slug, _ in new}
    assert ("statement", secret.slug, "deleted") not in new
    secret.delete()
    assert not [row for row in log.new() if row[0] == "statement"]


def test_record_merge(log):
    keep, other = public_organization(), public_organization()
    log.new()
    with transaction.atomic():
        record_merge(organization_id=other.pk, slug=other.slug, into_id=keep.pk)
    (change,) = changes_since(log.last)
    assert (change.kind, change.object_id, change.slug, change.action, change.into_id) == (
        "organization",
        other.pk,
        other.slug,
        "merged",
        keep.pk,
    )


def test_a_rolled_back_write_logs_nothing(log):
    statement = factories.statement()
    log.new()
    with pytest.raises(RuntimeError), transaction.atomic():
        statement.title = "Never committed"
        statement.save()
        record_merge(organization_id=1, slug="x", into_id=2)
        raise RuntimeError
    assert log.new() == []


def test_changes_since_reads_on_from_a_cursor(log):
    statements = [factories.statement() for _ in range(5)]
    first = changes_since(log.last, limit=2)
    rest = changes_since(first[-1].id)
    assert [c.slug for c in first + rest] == [s.slug for s in statements]
    with pytest.raises(ValueError):
        changes_since(0, limit=0)


@on_postgresql
def test_ids_follow_the_order_transactions_commit_in():
    """
    A transaction that wrote first but committed last has the later ids: a reader that read
    up to the other's changes in between still reads its changes next.
    """
    first, second = factories.statement(), factories.statement()
    log = Log()
    written, go_on = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                Statement.objects.filter(pk=first.pk).update(title="Written first")
                written.set()
                go_on.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(10)
    Statement.objects.filter(pk=second.pk).update(title="Committed first")
    assert log.new() == [("statement", second.slug, "changed")]
    go_on.set()
    thread.join()
    assert log.new() == [("statement", first.slug, "changed")]


def test_every_public_table_has_change_log_triggers():
    """
    A new public table, or a migration that rebuilds one, must keep logging (SQLite drops a
    rebuilt table's triggers; every `migrate` puts them back).
    """
    tables = change_triggers.TABLES
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE 'tracker_changes_%'"
            )
            found = {(table, name.rsplit("_", 1)[1]) for table, name in cursor.fetchall()}
        else:
            cursor.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'tracker_changes_%'"
            )
            found = {(table, name.split("_")[2]) for table, name in cursor.fetchall()}
    for table in tables:
        # A new topic cannot be public yet: it has no statement.
        ops = (
            ("update", "delete") if table == "statements_topic" else ("insert", "update", "delete")
        )
        for op in ops:
            assert (table, op) in found, (table, op)
    assert {model._meta.db_table for model in apps.get_models(include_auto_created=True)} >= set(
        tables
    )
