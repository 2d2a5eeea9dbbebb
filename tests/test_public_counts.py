"""Each organisation's count of public statements stays true through every kind of change."""

import pytest

from organizations.models import Organization
from statements import derived
from statements.deleting import delete_statement
from statements.merging import merge_organizations
from statements.models import Statement
from statements.publishing import publish, retract, unpublish

from . import factories

pytestmark = pytest.mark.django_db


def count(org) -> int:
    return Organization.objects.get(pk=org.pk).public_statement_count


def is_public(org) -> bool:
    return Organization.objects.public().filter(pk=org.pk).exists()


def test_publishing_retracting_and_unpublishing_recount():
    org = factories.organization()
    statement = factories.statement(status=Statement.Status.DRAFT)
    factories.signature(statement=statement, organization=org)
    assert (count(org), is_public(org)) == (0, False)
    publish(statement=statement)
    assert (count(org), is_public(org)) == (1, True)
    retract(statement=statement, note="Withdrawn by its sponsors.")
    assert count(org) == 1
    unpublish(statement=statement)
    assert (count(org), is_public(org)) == (0, False)


def test_adding_moving_and_deleting_signatures_recount():
    a, b = factories.organization(), factories.organization()
    first, second = factories.statement(), factories.statement()
    factories.signature(statement=first, organization=a)
    signature = factories.signature(statement=second, organization=a)
    assert (count(a), count(b)) == (2, 0)
    signature.organization = b
    signature.save()
    derived.signatures_removed(statement_id=second.pk, organization_ids=[a.pk])
    derived.signatures_added(statement_id=second.pk, organization_ids=[b.pk])
    assert (count(a), count(b)) == (1, 1)
    signature.delete()
    derived.signatures_removed(statement_id=second.pk, organization_ids=[b.pk])
    assert count(b) == 0
    delete_statement(statement=first)
    assert count(a) == 0


def test_saving_an_organisation_never_writes_back_an_old_count():
    org = factories.organization()
    stale = Organization.objects.get(pk=org.pk)
    factories.signature(statement=factories.statement(), organization=org)
    stale.city = "Washington"
    stale.save()
    assert count(org) == 1
    assert Organization.objects.get(pk=org.pk).city == "Washington"


def test_a_merge_leaves_the_kept_organisation_counted_once_per_statement():
    keep, other = factories.organization(), factories.organization()
    both, only_other = factories.statement(), factories.statement()
    for org in (keep, other):
        factories.signature(statement=both, organization=org)
    factories.signature(statement=only_other, organization=other)
    merge_organizations(keep=keep, other=other)
    assert count(keep) == 2


def test_the_seed_counts_match_a_fresh_count(seeded):
    expected = {
        org.pk: org.signatures.filter(statement__status__in=Statement.PUBLIC_STATUSES).count()
        for org in Organization.objects.all()
    }
    assert {org.pk: org.public_statement_count for org in Organization.objects.all()} == expected
    Organization.objects.update(public_statement_count=0)
    derived.rebuild()
    assert {org.pk: org.public_statement_count for org in Organization.objects.all()} == expected


def test_a_deleted_organisation_restored_from_its_history_saves(db):
    org = factories.organization(name="Gone For Now", slug="gone-for-now")
    pk = org.pk
    org.delete()
    restored = Organization.history.filter(id=pk).earliest().instance
    restored._state.adding = False  # as the history admin's revert form has it
    restored.save()
    assert Organization.objects.get(pk=pk).name == "Gone For Now"


def test_the_rebuild_command_puts_every_count_right(seeded, settings):
    import io

    from django.core.management import call_command

    from organizations.models import Cosigning

    settings.COSIGNERS_KEPT_FROM = 1  # every organisation's co-signers are kept
    derived.rebuild()

    expected = dict(Organization.objects.values_list("pk", "public_statement_count"))
    pairs = sorted(Cosigning.objects.values_list("organization", "other", "shared_count"))
    assert len(pairs) == 18 * 17  # the seed's one statement
    Organization.objects.update(public_statement_count=0)
    Cosigning.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_derived", stdout=out)
    assert dict(Organization.objects.values_list("pk", "public_statement_count")) == expected
    assert sorted(Cosigning.objects.values_list("organization", "other", "shared_count")) == pairs
    assert "Derived data rebuilt" in out.getvalue()
    call_command("rebuild_derived", "--check", stdout=out)
    assert "Derived data checked: all right" in out.getvalue()
