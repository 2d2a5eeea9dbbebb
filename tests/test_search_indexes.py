"""
On PostgreSQL, finding organisations by part of a name is answered by indexes (migration
organizations 0014): each way of matching can be read from its index, so that a search does
not read every organisation. Each is checked with sequential scans disabled: a query the
index cannot answer still scans the table then, and the plan says so.
"""

import pytest
from django.db import connection

from organizations.models import Organization
from organizations.search import search_organizations

from . import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_names_other_names_and_acronyms_are_found_through_their_indexes():
    found = factories.organization(name="Refugee Action Network", acronym="RAN")
    found.other_names.create(name="Réseau d'action pour les réfugiés", kind="variant")
    factories.organization(name="Climate Union")
    for text in ("refugee", "ran", "Réseau", "Refugee Action Network (RAN)"):
        queryset = search_organizations(Organization.objects.all(), text)
        assert list(queryset) == [found], text
        explained = plan(queryset)
        assert "organizations_organization_name_trgm" in explained, explained
        assert "organizations_organization_acronym_upper" in explained, explained
        assert "organizations_othername_name_trgm" in explained, explained
        assert "Seq Scan" not in explained, explained
