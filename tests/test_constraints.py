"""The database itself refuses what must never be wrong, whoever writes to it."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from organizations.models import Organization, OtherName
from statements.models import CoverageLink, MediaContact, Signature, Statement, Topic

from . import factories

pytestmark = pytest.mark.django_db
NOV_12 = datetime.date(2025, 11, 12)


def rejected(action) -> bool:
    try:
        with transaction.atomic():
            action()
    except IntegrityError:
        return True
    return False


def test_one_signature_per_organisation_per_statement():
    statement = factories.statement()
    org = factories.organization()
    Signature.objects.create(statement=statement, organization=org)
    assert rejected(lambda: Signature.objects.create(statement=statement, organization=org))
    # The same organisation may sign another statement.
    Signature.objects.create(statement=factories.statement(), organization=org)


def test_withdrawn_not_before_joined():
    statement = factories.statement()
    org = factories.organization()
    assert rejected(
        lambda: Signature.objects.create(
            statement=statement,
            organization=org,
            joined_on=NOV_12,
            withdrawn_on=NOV_12 - datetime.timedelta(days=1),
        )
    )
    # Withdrawing on the day of joining is allowed.
    Signature.objects.create(
        statement=statement, organization=org, joined_on=NOV_12, withdrawn_on=NOV_12
    )


def test_a_withdrawal_reason_needs_a_withdrawal_date():
    statement = factories.statement()
    assert rejected(
        lambda: Signature.objects.create(
            statement=statement, organization=factories.organization(), withdrawal_reason="x"
        )
    )


def test_a_signature_joins_on_the_statement_date_by_default():
    statement = factories.statement(issued_on=NOV_12)
    signature = Signature.objects.create(statement=statement, organization=factories.organization())
    signature.refresh_from_db()
    assert signature.joined_on == NOV_12


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (Statement, factories.statement),
        (Organization, factories.organization),
        (Topic, factories.topic),
    ],
)
def test_slugs_are_unique(model, make):
    make(slug="taken")
    assert rejected(lambda: make(slug="taken"))
    assert model.objects.filter(slug="taken").count() == 1


@pytest.mark.parametrize(
    "other", ["armenian national committee of america", "ARMENIAN NATIONAL COMMITTEE OF AMERICA"]
)
def test_no_two_organisations_with_the_same_name_ignoring_case(other):
    factories.organization(name="Armenian National Committee of America")
    assert rejected(lambda: factories.organization(name=other))


@pytest.mark.parametrize(
    "spaced",
    [
        "  Armenian National Committee of America",
        "Armenian  National Committee of America",
        "Armenian National\tCommittee of America ",
        "Armenian National\u00a0Committee of America",
    ],
)
def test_no_two_organisations_with_the_same_name_ignoring_spacing(spaced):
    factories.organization(name="Armenian National Committee of America")
    # save() tidies spacing, so the tidied name collides with the existing one...
    assert rejected(lambda: factories.organization(name=spaced))
    # ...and a write that bypasses save() cannot store the badly spaced name either.
    other = factories.organization(name="Someone else")
    assert rejected(lambda: Organization.objects.filter(pk=other.pk).update(name=spaced))


def test_other_names_are_unique_per_organisation_ignoring_case():
    org = factories.organization()
    OtherName.objects.create(organization=org, name="ANCA", kind=OtherName.Kind.ACRONYM)
    assert rejected(lambda: OtherName.objects.create(organization=org, name="anca"))
    # Two organisations may share an acronym.
    OtherName.objects.create(organization=factories.organization(), name="ANCA")


def test_only_one_coverage_item_is_first_reported():
    statement = factories.statement()
    CoverageLink.objects.create(statement=statement, outlet="Politico", first_reported=True)
    assert rejected(
        lambda: CoverageLink.objects.create(statement=statement, outlet="B", first_reported=True)
    )
    CoverageLink.objects.create(statement=statement, outlet="B", first_reported=False)


def test_a_coverage_date_carries_its_precision():
    statement = factories.statement()
    assert rejected(
        lambda: CoverageLink.objects.create(statement=statement, outlet="A", date=NOV_12)
    )
    assert rejected(
        lambda: CoverageLink.objects.create(statement=statement, outlet="A", date_precision="year")
    )


def test_a_media_contact_has_an_email_or_a_phone():
    statement = factories.statement()
    assert rejected(lambda: MediaContact.objects.create(statement=statement, name="Press office"))
    MediaContact.objects.create(statement=statement, phone="(202) 543-1222")


def test_an_organisation_that_signed_cannot_be_deleted():
    statement = factories.statement(signatories=1)
    org = statement.signatures.get().organization
    with pytest.raises(ProtectedError):
        org.delete()
