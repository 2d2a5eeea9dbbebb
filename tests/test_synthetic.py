"""The synthetic benchmark dataset: its size, its skew, its marking, and its removal."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from organizations.models import Organization
from statements import synthetic
from statements.models import Signature, Statement

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY needs PostgreSQL (CI runs this there)"
)

SIZE = ["--organizations", "600", "--statements", "100", "--signatures", "5000"]


@on_postgresql
def test_it_makes_the_size_asked_for_skewed_and_marked(seeded, api):
    real = (Organization.objects.count(), Statement.objects.count(), Signature.objects.count())
    call_command("generate_synthetic", *SIZE, stdout=io.StringIO())
    made = Signature.objects.filter(statement__slug__startswith="synthetic-")
    assert made.count() == 5000
    assert Organization.objects.filter(slug__startswith="synthetic-").count() == 600
    per_statement = sorted(
        Statement.objects.filter(slug__startswith="synthetic-")
        .annotate(n=Count("signatures"))
        .values_list("n", flat=True)
    )
    assert len(per_statement) == 100
    assert per_statement[0] >= 2 and per_statement[-1] == 500
    # A few hub organisations sign a large share of all statements.
    top = made.values("organization").annotate(n=Count("id")).order_by("-n").first()
    assert top["n"] >= 50
    assert (
        not Statement.objects.filter(slug__startswith="synthetic-")
        .exclude(notes=synthetic.NOTE)
        .exists()
    )
    assert (
        not Statement.objects.filter(slug__startswith="synthetic-")
        .exclude(topics__slug=synthetic.TOPIC_SLUG)
        .exists()
    )
    # COPY sends no signals: the organisations' public counts were made in one go.
    synthetic_orgs = Organization.objects.filter(slug__startswith="synthetic-")
    assert {o.pk: o.public_statement_count for o in synthetic_orgs} == {
        o.pk: o.signatures.filter(statement__status__in=Statement.PUBLIC_STATUSES).count()
        for o in synthetic_orgs
    }
    assert synthetic_orgs.public().count() > 300
    # The product serves it, and new rows still get fresh ids.
    response = api.get("/api/v1/statements/", {"topic": synthetic.TOPIC_SLUG})
    assert response.status_code == 200 and response.json()["count"] >= 90
    Organization.objects.create(name="Made After", slug="made-after")

    with pytest.raises(CommandError, match="already has synthetic data"):
        call_command("generate_synthetic", *SIZE)
    call_command("generate_synthetic", "--delete", stdout=io.StringIO())
    assert (
        Organization.objects.count() - 1,
        Statement.objects.count(),
        Signature.objects.count(),
    ) == real


@on_postgresql
def test_impossible_sizes_are_refused(db):
    with pytest.raises(CommandError, match="cannot be spread"):
        call_command("generate_synthetic", "--statements", "10", "--signatures", "5")
    assert not Organization.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite refusal")
def test_it_refuses_sqlite(db):
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("generate_synthetic", *SIZE)
