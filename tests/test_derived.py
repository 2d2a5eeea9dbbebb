"""
What is derived from the signatures (each organisation's count of public statements, the
co-signing table) equals a fresh computation after every service, on PostgreSQL and
SQLite; the check finds values that do not, and a rebuild mends them.
"""

import datetime
from collections import defaultdict
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from organizations.models import Cosigning, Organization
from statements import derived
from statements.cosigning import cosigner_rows
from statements.deleting import delete_organization, delete_statement
from statements.merging import merge_organizations
from statements.models import Signature, Statement
from statements.publishing import publish, redate, retract, save_statement, unpublish

from . import factories

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def keep_everyone(settings):
    """Keep every organisation's co-signers, so that each change below is seen whole."""
    settings.COSIGNERS_KEPT_FROM = 1


def counts() -> dict[int, int]:
    return dict(Organization.objects.values_list("pk", "public_statement_count"))


def table() -> dict[tuple[int, int], int]:
    return {(r.organization_id, r.other_id): r.shared_count for r in Cosigning.objects.all()}


def from_signatures() -> tuple[dict, dict]:
    """The counts and pairs, computed in Python from every signature."""
    signers = defaultdict(set)
    for signature in Signature.objects.select_related("statement"):
        if signature.statement.is_public:
            signers[signature.statement_id].add(signature.organization_id)
    per_org = dict.fromkeys(Organization.objects.values_list("pk", flat=True), 0)
    pairs: dict = defaultdict(int)
    for orgs in signers.values():
        for a in orgs:
            per_org[a] += 1
            for b in orgs - {a}:
                pairs[a, b] += 1
    return per_org, dict(pairs)


def assert_right():
    assert derived.check() == []
    per_org, pairs = from_signatures()
    assert counts() == per_org
    assert table() == pairs


@pytest.fixture
def signed():
    """Two public statements and a draft, signed by overlapping organisations."""
    a, b, c, d = (factories.organization() for _ in range(4))
    one = factories.statement(issued_on=D(2024, 1, 10))
    two = factories.statement(issued_on=D(2025, 3, 1))
    draft = factories.statement(issued_on=D(2025, 6, 1), status=Statement.Status.DRAFT)
    factories.sign(one, a, b, c)
    factories.sign(two, a, b)
    factories.sign(draft, a, c, d)
    assert_right()
    return {"a": a, "b": b, "c": c, "d": d, "one": one, "two": two, "draft": draft}


def test_publishing_a_draft_counts_it_for_each_signer_and_pair(signed):
    publish(statement=signed["draft"])
    assert_right()
    assert Organization.objects.get(pk=signed["a"].pk).public_statement_count == 3
    assert table()[signed["c"].pk, signed["d"].pk] == 1
    assert Statement.objects.get(pk=signed["draft"].pk).published_at is not None


def test_unpublishing_takes_it_out_and_publishing_again_puts_it_back(signed):
    unpublish(statement=signed["one"])
    assert_right()
    assert (signed["a"].pk, signed["c"].pk) not in table()
    assert not Organization.objects.public().filter(pk=signed["c"].pk).exists()
    publish(statement=signed["one"])
    assert_right()


def test_retracting_keeps_it_public_and_needs_a_note(signed):
    retract(statement=signed["one"], note="Withdrawn by its sponsors on 2 May.")
    assert_right()
    assert table()[signed["a"].pk, signed["c"].pk] == 1
    retract(statement=signed["draft"], note="Withdrawn before it was published here.")
    assert_right()
    assert table()[signed["c"].pk, signed["d"].pk] == 1
    with pytest.raises(ValidationError):
        retract(statement=signed["two"], note="  ")
    assert Statement.objects.get(pk=signed["two"].pk).status == Statement.Status.PUBLISHED


def test_redating_changes_the_dates_shown_and_nothing_kept(signed):
    before = table()
    redate(statement=signed["two"], issued_on=D(2020, 2, 2))
    assert_right()
    assert table() == before
    (row,) = [r for r in cosigner_rows(signed["a"]) if r["organization_id"] == signed["b"].pk]
    assert (row["shared_count"], row["first_shared_on"], row["last_shared_on"]) == (
        2,
        D(2020, 2, 2),
        D(2024, 1, 10),
    )


def test_the_admins_save_works_out_what_changed_from_the_stored_row(signed):
    statement = Statement.objects.get(pk=signed["draft"].pk)
    statement.status = Statement.Status.PUBLISHED
    statement.issued_on = D(2023, 1, 1)
    save_statement(statement=statement, form_changed=["status", "issued_on"])
    assert_right()
    statement.status = Statement.Status.RETRACTED
    statement.retraction_note = "Withdrawn."
    save_statement(statement=statement, form_changed=["status", "retraction_note"])
    assert_right()
    statement.status = Statement.Status.DRAFT
    save_statement(statement=statement, form_changed=["status"])
    assert_right()
    new = Statement(title="New", slug="new", issued_on=D(2025, 1, 1), status="published")
    save_statement(statement=new, form_changed=["status"])
    assert new.published_at is not None
    assert_right()


def test_a_stale_instance_is_judged_by_the_stored_row(signed):
    """Two forms opened on the same draft: the second publish must not count it twice."""
    first = Statement.objects.get(pk=signed["draft"].pk)
    second = Statement.objects.get(pk=signed["draft"].pk)
    publish(statement=first)
    second.status = Statement.Status.PUBLISHED
    save_statement(statement=second, form_changed=["status"])
    assert_right()


def test_signatures_added_and_removed(signed):
    e = factories.organization()
    new = [
        Signature.objects.create(statement=signed["two"], organization=org)
        for org in (e, signed["d"])
    ]
    derived.signatures_added(statement_id=signed["two"].pk, organization_ids=[e.pk, signed["d"].pk])
    assert_right()
    Signature.objects.filter(pk__in=[s.pk for s in new] + [0]).delete()
    derived.signatures_removed(
        statement_id=signed["two"].pk, organization_ids=[e.pk, signed["d"].pk]
    )
    assert_right()
    # On a draft nothing is counted either way.
    Signature.objects.create(statement=signed["draft"], organization=e)
    derived.signatures_added(statement_id=signed["draft"].pk, organization_ids=[e.pk])
    assert_right()


def test_deleting_a_public_statement_and_an_unsigned_organisation(signed):
    delete_statement(statement=signed["one"])
    assert_right()
    assert not Statement.objects.filter(pk=signed["one"].pk).exists()
    delete_statement(statement=signed["draft"])
    assert_right()
    lonely = factories.organization()
    delete_organization(organization=lonely)
    assert not Organization.objects.filter(pk=lonely.pk).exists()
    assert_right()


def test_a_merge_recomputes_both_organisations(signed):
    a, c, d = signed["a"], signed["c"], signed["d"]
    # What a merge of d into c leaves: d's signatures moved to c where c had none.
    Signature.objects.filter(organization=d, statement__signatures__organization=c).delete()
    moved = list(Signature.objects.filter(organization=d).values_list("statement_id", flat=True))
    Signature.objects.filter(organization=d).update(organization=c)
    derived.organizations_merged(keep_id=c.pk, other_id=d.pk, moved_statement_ids=moved)
    d.delete()
    assert_right()
    assert table()[a.pk, c.pk] == 1


def test_a_merge_moves_only_the_other_organisations_share(signed, settings):
    """
    b signed one (with c: combined) and two (without c: moved). After the merge c shares
    two with a, one stays counted once, and nothing of b is left: every count and pair as
    a fresh computation gives, with the kept organisation's own statements untouched.
    """
    a, b, c = signed["a"], signed["b"], signed["c"]
    assert table()[a.pk, c.pk] == 1
    merge_organizations(keep=c, other=b)
    assert_right()
    assert table()[a.pk, c.pk] == table()[c.pk, a.pk] == 2
    assert not [pair for pair in table() if b.pk in pair]
    assert counts()[c.pk] == 2


def test_a_merge_that_makes_an_organisation_a_hub_computes_its_rows(signed, settings):
    settings.COSIGNERS_KEPT_FROM = 2  # c has one public statement: not kept until the merge
    derived.rebuild()
    a, b, c = signed["a"], signed["b"], signed["c"]
    assert not Organization.objects.get(pk=c.pk).cosigners_kept
    merge_organizations(keep=c, other=b)
    assert Organization.objects.get(pk=c.pk).cosigners_kept
    assert derived.check() == []
    assert table()[c.pk, a.pk] == 2


def test_refresh_mends_what_a_bulk_write_touched(signed):
    e = factories.organization()
    Signature.objects.bulk_create(
        [
            Signature(statement=signed["two"], organization=o, joined_on=D(2025, 3, 1))
            for o in (e, signed["c"])
        ]
    )
    assert derived.check() != []
    derived.refresh(statement_ids=[signed["two"].pk])
    assert_right()


def test_organisations_start_and_stop_being_kept_at_the_threshold(settings):
    settings.COSIGNERS_KEPT_FROM = 3  # kept from 3 public statements, dropped under 1
    hub, a = factories.organization(), factories.organization()
    statements = [factories.statement(issued_on=D(2024, 1, day)) for day in range(1, 4)]
    for statement in statements[:2]:
        factories.sign(statement, hub, a)
    assert table() == {}
    factories.sign(statements[2], hub)
    assert Organization.objects.get(pk=hub.pk).cosigners_kept
    assert table() == {(hub.pk, a.pk): 2}
    assert derived.check() == []
    for statement in statements:
        unpublish(statement=statement)
    assert not Organization.objects.get(pk=hub.pk).cosigners_kept
    assert table() == {}
    assert derived.check() == []


def test_the_check_finds_a_corrupted_count_and_co_signing_row_and_rebuild_mends_them(signed):
    a, b = signed["a"], signed["b"]
    Organization.objects.filter(pk=a.pk).update(public_statement_count=7)
    Cosigning.objects.filter(organization=b, other=a).update(shared_count=9)
    Cosigning.objects.filter(organization=a, other=signed["c"]).delete()
    problems = derived.check()
    assert (
        f"Organisation #{a.pk} ({a.slug}): public_statement_count is 7, the signatures say 2."
        in problems
    )
    assert (
        f"Co-signing of organisation #{b.pk} with #{a.pk}: shared_count is 9, the signatures say 2."
        in problems
    )
    assert (
        f"Co-signing of organisation #{a.pk} with #{signed['c'].pk}: shared_count is missing, "
        "the signatures say 1." in problems
    )
    with pytest.raises(CommandError, match="discrepancies"):
        call_command("rebuild_derived", "--check", stdout=StringIO())
    call_command("rebuild_derived", stdout=StringIO())
    assert_right()
    call_command("rebuild_derived", "--check", stdout=StringIO())


def test_a_row_for_an_organisation_not_kept_is_found(signed, settings):
    settings.COSIGNERS_KEPT_FROM = 100
    derived.rebuild()
    assert table() == {} and derived.check() == []
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Cosigning._meta.db_table} (organization_id, other_id, shared_count) "
            "VALUES (%s, %s, 2)",
            [signed["a"].pk, signed["b"].pk],
        )
    assert derived.check() == [
        f"Co-signing of organisation #{signed['a'].pk} with #{signed['b'].pk}: shared_count is 2, "
        "the signatures say none."
    ]


@pytest.mark.parametrize("together", [1, 3, 1000])
def test_a_rebuild_in_chunks_of_organisations_makes_every_pair(signed, monkeypatch, together):
    """The rebuild computes the pairs of a few organisations at a time (by their public
    statements): every chunking gives the same table."""
    monkeypatch.setattr(derived, "REBUILT_TOGETHER", together)
    Cosigning.objects.all().delete()
    derived.rebuild()
    assert_right()
    assert (
        len(list(derived._by_work([(1, 2), (2, 1), (3, 5), (4, 1)])))
        == {
            1: 4,
            3: 3,
            1000: 1,
        }[together]
    )
