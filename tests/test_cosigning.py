"""
The co-signing table stays equal to what the signatures say, through every kind of change:
each step below compares it, and the dates shown with it, with the pairs computed afresh
from the signatures.
"""

import datetime
import random
from collections import defaultdict

import pytest

from organizations.models import Cosigning, Organization
from statements import derived
from statements.cosigning import cosigner_rows
from statements.deleting import delete_organization, delete_statement
from statements.merging import merge_organizations
from statements.models import Signature, Statement
from statements.publishing import publish, redate, retract, unpublish

from . import factories

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def keep_everyone(settings):
    """Keep every organisation's co-signers, so that each change below is seen whole."""
    settings.COSIGNERS_KEPT_FROM = 1


def table() -> dict:
    """The kept pairs, with the dates shown with them (read from the statements)."""
    pairs = {}
    for org in Organization.objects.filter(cosigners_kept=True):
        for row in cosigner_rows(org):
            pairs[org.pk, row["organization_id"]] = (
                row["shared_count"],
                row["first_shared_on"],
                row["last_shared_on"],
            )
    assert len(pairs) == Cosigning.objects.count()
    return pairs


def from_signatures() -> dict:
    signers = defaultdict(set)
    dates = {}
    for signature in Signature.objects.select_related("statement"):
        if signature.statement.is_public:
            signers[signature.statement_id].add(signature.organization_id)
            dates[signature.statement_id] = signature.statement.issued_on
    pairs: dict = {}
    for statement_id, orgs in signers.items():
        on = dates[statement_id]
        for a in orgs:
            for b in orgs - {a}:
                count, first, last = pairs.get((a, b), (0, on, on))
                pairs[a, b] = (count + 1, min(first, on), max(last, on))
    return pairs


def check():
    kept = set(Organization.objects.filter(cosigners_kept=True).values_list("pk", flat=True))
    public = set(Organization.objects.public().values_list("pk", flat=True))
    assert kept == public  # from one public statement on, with the threshold at 1
    assert table() == from_signatures()
    assert derived.check() == []


def sign(statement, *orgs):
    factories.sign(statement, *orgs)


def remove(signatures):
    """Delete the signatures, as the signing services do."""
    by_statement = defaultdict(list)
    for signature in signatures:
        by_statement[signature.statement_id].append(signature.organization_id)
    Signature.objects.filter(pk__in=[s.pk for s in signatures]).delete()
    for statement_id, organization_ids in by_statement.items():
        derived.signatures_removed(statement_id=statement_id, organization_ids=organization_ids)


def move(signature, statement=None, organization=None):
    """Move the signature to another statement or organisation, as the signing services do."""
    old = (signature.statement_id, signature.organization_id)
    signature.statement = statement or signature.statement
    signature.organization = organization or signature.organization
    signature.save()
    derived.signatures_removed(statement_id=old[0], organization_ids=[old[1]])
    derived.signatures_added(
        statement_id=signature.statement_id, organization_ids=[signature.organization_id]
    )


def test_adding_publishing_redating_and_removing_keep_the_pairs():
    a, b, c, d = (factories.organization() for _ in range(4))
    first = factories.statement(issued_on=D(2024, 1, 10))
    sign(first, a, b, c)
    check()
    assert table()[a.pk, b.pk] == (1, D(2024, 1, 10), D(2024, 1, 10))
    second = factories.statement(issued_on=D(2025, 3, 1), status=Statement.Status.DRAFT)
    sign(second, a, b, d)
    check()  # a draft adds nothing
    assert (a.pk, d.pk) not in table()
    publish(statement=second)
    check()
    assert table()[b.pk, a.pk] == (2, D(2024, 1, 10), D(2025, 3, 1))
    redate(statement=second, issued_on=D(2023, 6, 1))
    check()
    assert table()[a.pk, b.pk] == (2, D(2023, 6, 1), D(2024, 1, 10))
    retract(statement=second, note="Withdrawn by its sponsors.")  # still public
    check()
    unpublish(statement=first)
    check()
    assert table()[a.pk, b.pk] == (1, D(2023, 6, 1), D(2023, 6, 1))
    assert (a.pk, c.pk) not in table()


def test_deleting_signatures_one_by_one_and_in_one_go():
    orgs = [factories.organization() for _ in range(5)]
    early = factories.statement(issued_on=D(2020, 1, 1))
    late = factories.statement(issued_on=D(2026, 1, 1))
    middle = factories.statement(issued_on=D(2023, 1, 1))
    sign(early, *orgs)
    sign(late, *orgs[:4])
    sign(middle, *orgs[1:])
    check()
    remove([Signature.objects.get(statement=early, organization=orgs[2])])
    check()  # the pair's first date comes from the next statement it shares
    assert table()[orgs[2].pk, orgs[1].pk][1] == D(2023, 1, 1)
    remove(list(Signature.objects.filter(statement=late, organization__in=orgs[:3])))
    check()
    delete_statement(statement=late)  # its remaining signatures go with it
    check()
    delete_statement(statement=middle)
    delete_statement(statement=early)
    assert table() == {}


def test_moving_a_signature_and_merging_organisations():
    a, b, c, twin = (factories.organization() for _ in range(4))
    one = factories.statement(issued_on=D(2024, 5, 5))
    two = factories.statement(issued_on=D(2025, 5, 5))
    sign(one, a, b, twin)
    sign(two, a, c)
    signature = Signature.objects.get(statement=one, organization=twin)
    move(signature, organization=c)
    check()
    move(signature, statement=two, organization=b)
    check()
    sign(one, twin)
    sign(two, twin)
    check()
    merge_organizations(keep=a, other=twin)
    check()
    remove(list(Signature.objects.filter(organization=c)))
    delete_organization(organization=c)
    check()


def test_many_random_changes_then_rebuild_agree():
    rng = random.Random(20261124)
    orgs = [factories.organization() for _ in range(12)]
    statements = [
        factories.statement(issued_on=D(2020 + i % 6, 1 + i % 12, 1 + i), status=status)
        for i, status in enumerate([Statement.Status.PUBLISHED] * 6 + [Statement.Status.DRAFT] * 2)
    ]
    for statement in statements:
        sign(statement, *rng.sample(orgs, rng.randint(2, 8)))
    check()
    for _ in range(30):
        statement = rng.choice(statements)
        step = rng.random()
        if step < 0.3:
            unsigned = [o for o in orgs if not statement.signatures.filter(organization=o).exists()]
            if unsigned:
                sign(statement, rng.choice(unsigned))
        elif step < 0.6:
            signature = statement.signatures.order_by("?").first()
            if signature:
                remove([signature])
        elif step < 0.8:
            status = rng.choice(list(Statement.Status.values))
            if status == Statement.Status.RETRACTED:
                retract(statement=statement, note="Withdrawn by its sponsors.")
            elif status == Statement.Status.PUBLISHED:
                publish(statement=statement)
            else:
                unpublish(statement=statement)
        else:
            redate(
                statement=statement, issued_on=D(2019 + rng.randint(0, 7), rng.randint(1, 12), 1)
            )
        check()
    expected = table()
    Cosigning.objects.all().delete()
    derived.rebuild()
    assert table() == expected


def test_only_organisations_with_many_statements_are_kept(settings):
    settings.COSIGNERS_KEPT_FROM = 4  # kept from 4 public statements, dropped under 2
    hub, a, b = (factories.organization() for _ in range(3))
    statements = [factories.statement(issued_on=D(2024, 1, day)) for day in range(1, 5)]
    for statement in statements[:3]:
        sign(statement, hub, a)
    assert table() == {}
    sign(statements[3], hub, b)
    hub.refresh_from_db()
    assert hub.cosigners_kept
    pairs = from_signatures()
    assert table() == {pair: value for pair, value in pairs.items() if pair[0] == hub.pk}
    assert table()[hub.pk, a.pk] == (3, D(2024, 1, 1), D(2024, 1, 3))
    remove(list(Signature.objects.filter(organization=hub, statement__in=statements[2:])))
    assert table() == {(hub.pk, a.pk): (2, D(2024, 1, 1), D(2024, 1, 2))}  # 2: still kept
    delete_statement(statement=statements[1])
    hub.refresh_from_db()
    assert not hub.cosigners_kept and table() == {}


def test_the_api_and_page_say_the_same_from_the_table_or_the_signatures(settings, client):
    orgs = [factories.organization() for _ in range(6)]
    for day, signers in enumerate([orgs, orgs[:4], orgs[:2], orgs[1:3], [orgs[0], orgs[5]]]):
        sign(factories.statement(issued_on=D(2025, 2, 1 + day)), *signers)
    api = f"/api/v1/organizations/{orgs[0].slug}/cosigners/"
    page = f"/organizations/{orgs[0].slug}/"

    def answers():
        cosigners = client.get(api, {"page_size": 3}).json()
        html = client.get(page).content.decode()
        return cosigners, html[html.index("Most frequent co-signers") :]

    kept = answers()
    assert Organization.objects.get(pk=orgs[0].pk).cosigners_kept
    settings.COSIGNERS_KEPT_FROM = 1000
    derived.rebuild()
    assert not Organization.objects.get(pk=orgs[0].pk).cosigners_kept
    assert Cosigning.objects.count() == 0
    assert answers() == kept
    assert kept[0]["count"] == 5
    assert [(r["organization"]["slug"], r["shared_count"]) for r in kept[0]["results"]] == [
        (orgs[1].slug, 3), (orgs[2].slug, 2), (orgs[3].slug, 2),
    ]  # fmt: skip


def test_drift_from_writes_outside_the_product_fails_nothing_and_a_rebuild_mends_it():
    from django.db import connection

    a, b = factories.organization(), factories.organization()
    first = factories.statement(issued_on=D(2024, 1, 1))
    second = factories.statement(issued_on=D(2025, 1, 1))
    sign(first, a, b)
    sign(second, a, b)
    with connection.cursor() as cursor:  # behind the product's back: no signals
        cursor.execute(
            f"DELETE FROM {Signature._meta.db_table} "
            "WHERE statement_id = %s AND organization_id = %s",
            [first.pk, b.pk],
        )
    remove([Signature.objects.get(statement=second, organization=b)])
    assert Cosigning.objects.get(organization=a, other=b).shared_count == 1  # drifted, no error
    assert derived.check() != []
    derived.rebuild()
    check()


def test_dates_are_right_for_frequent_and_rare_co_signers():
    """
    A frequent co-signer's dates are found by walking the statements in date order, a rare
    one's through its own signatures: both give the dates the signatures say.
    """
    hub, frequent, rare = (factories.organization() for _ in range(3))
    days = [D(2020, 1, 1) + datetime.timedelta(days=37 * n) for n in range(12)]
    statements = [factories.statement(issued_on=day) for day in reversed(days)]
    for statement in statements:
        sign(statement, hub, frequent)
    factories.sign(statements[5], rare)
    factories.sign(statements[7], rare)
    check()
    rows = {row["organization_id"]: row for row in cosigner_rows(hub)}
    assert (rows[frequent.pk]["first_shared_on"], rows[frequent.pk]["last_shared_on"]) == (
        days[0],
        days[-1],
    )
    assert (rows[rare.pk]["first_shared_on"], rows[rare.pk]["last_shared_on"]) == (
        days[4],
        days[6],
    )


def expected_cosigners(organization, since=None) -> list[tuple]:
    """Its co-signers from the signatures, in the order shown: most shared, then name, id."""
    pairs = {
        other: value
        for (org, other), value in from_signatures_since(since).items()
        if org == organization.pk
    }
    names = dict(Organization.objects.values_list("pk", "name"))
    rows = [(other, count, first, last) for other, (count, first, last) in pairs.items()]
    return sorted(rows, key=lambda row: (-row[1], names[row[0]], row[0]))


def from_signatures_since(since) -> dict:
    if since is None:
        return from_signatures()
    later = Statement.objects.filter(issued_on__gte=since)
    pairs: dict = {}
    for statement in later:
        if not statement.is_public:
            continue
        orgs = set(statement.signatures.values_list("organization_id", flat=True))
        on = statement.issued_on
        for a in orgs:
            for b in orgs - {a}:
                count, first, last = pairs.get((a, b), (0, on, on))
                pairs[a, b] = (count + 1, min(first, on), max(last, on))
    return pairs


def shown(rows) -> list[tuple]:
    return [
        (r["organization_id"], r["shared_count"], r["first_shared_on"], r["last_shared_on"])
        for r in rows
    ]


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "aggregated"])
def test_every_slice_of_the_co_signers_is_the_full_list_in_order(settings, kept):
    """
    A slice's rows are found among those reaching the count of its last row, then sorted:
    with many co-signers tied on their counts, every slice, of every size, from every
    start, is the stretch of the whole list, sorted by count, then name.
    """
    rng = random.Random(5)
    hub = factories.organization(name="Hub")
    # Names in another order than the ids, so that ties on the count are broken by name.
    others = [factories.organization(name=f"Group {(n * 5) % 14:02d}") for n in range(14)]
    days = [D(2021, 1, 1) + datetime.timedelta(days=29 * n) for n in range(9)]
    for day in days:
        sign(factories.statement(issued_on=day), hub, *rng.sample(others, rng.randint(2, 8)))
    factories.statement(status=Statement.Status.DRAFT).signatures.create(
        organization=others[0], role=Signature.Role.SIGNATORY, position=1
    )  # a draft's signer shares nothing
    if not kept:
        settings.COSIGNERS_KEPT_FROM = 1000
        derived.rebuild()
    hub.refresh_from_db()
    assert hub.cosigners_kept is kept
    rows = cosigner_rows(hub)
    expected = expected_cosigners(hub)
    assert len({count for _, count, _, _ in expected}) < len(expected)  # ties to break
    assert rows.count() == len(rows) == len(expected)
    assert shown(rows) == expected
    assert shown(rows[0:]) == expected
    for size in range(1, 6):
        for start in range(len(expected) + 1):
            assert shown(rows[start : start + size]) == expected[start : start + size]
    assert shown([rows[3]]) == [expected[3]]
    with pytest.raises(IndexError):
        rows[len(expected)]


def test_co_signers_on_some_statements_are_counted_on_those_only():
    hub, a, b, c = (factories.organization() for _ in range(4))
    for day, signers in [(D(2020, 1, 1), [a, b]), (D(2022, 1, 1), [b, c]), (D(2023, 1, 1), [b])]:
        sign(factories.statement(issued_on=day), hub, *signers)
    later = Signature.objects.public().filter(
        organization=hub, statement__issued_on__gte=D(2021, 1, 1)
    )
    rows = cosigner_rows(hub, later)
    assert shown(rows) == expected_cosigners(hub, since=D(2021, 1, 1))
    assert shown(rows) == [
        (b.pk, 2, D(2022, 1, 1), D(2023, 1, 1)),
        (c.pk, 1, D(2022, 1, 1), D(2022, 1, 1)),
    ]
    assert rows.count() == 2


def test_a_hubs_dates_are_found_when_its_counts_multiply_past_32_bits():
    """At 10^7 signatures a hub shares 90,000 statements with another of 90,000."""
    hub, other = factories.organization(), factories.organization()
    statement = factories.statement(issued_on=D(2024, 1, 1))
    sign(statement, hub, other)
    # As the counts of the 10M dataset (written behind the product's back: no lock taken).
    Organization.objects.filter(pk__in=[hub.pk, other.pk]).update(
        public_statement_count=90_000, cosigners_kept=True
    )
    Cosigning.objects.filter(organization=hub).update(shared_count=90_000)
    hub.refresh_from_db()
    (row,) = cosigner_rows(hub)[0:1]
    assert row["organization_id"] == other.pk and row["first_shared_on"] == D(2024, 1, 1)
