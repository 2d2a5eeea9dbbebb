"""What is public is defined once, and drafts never count."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from organizations.models import Organization
from statements import partial_dates
from statements.models import Statement

from . import factories

pytestmark = pytest.mark.django_db


def test_public_statements_are_the_published_and_the_retracted():
    published = factories.statement(status=Statement.Status.PUBLISHED)
    retracted = factories.statement(status=Statement.Status.RETRACTED)
    factories.statement(status=Statement.Status.DRAFT)
    assert set(Statement.objects.public()) == {published, retracted}
    assert published.is_public and retracted.is_public


def test_organisation_statement_counts_leave_out_drafts():
    org = factories.organization()
    for status in ("published", "retracted", "draft", "draft"):
        factories.signature(statement=factories.statement(status=status), organization=org)
    assert Organization.objects.with_public_statement_count().get(pk=org.pk).statement_count == 2


@pytest.mark.parametrize(
    ("text", "date", "precision", "shown"),
    [
        ("2026", datetime.date(2026, 1, 1), "year", "2026"),
        ("2026-01", datetime.date(2026, 1, 1), "month", "January 2026"),
        ("2025-11-12", datetime.date(2025, 11, 12), "day", "12 November 2025"),
        (" ", None, "", ""),
    ],
)
def test_partial_dates_read_and_write_back(text, date, precision, shown):
    assert partial_dates.parse(text) == (date, precision)
    assert partial_dates.to_text(date, precision) == text.strip()
    assert partial_dates.display(date, precision) == shown


@pytest.mark.parametrize("text", ["2026-1", "2026-00", "2026-02-29", "0999", "12/11/2025"])
def test_impossible_partial_dates_are_refused(text):
    with pytest.raises(ValidationError):
        partial_dates.parse(text)
