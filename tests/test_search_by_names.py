"""Finding statements and organisations by any name: signers' names and acronyms, folded."""

import datetime

import pytest
from django.urls import reverse

from organizations.models import Organization, OtherName
from statements.models import Statement

from . import factories

pytestmark = pytest.mark.django_db

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


def found_statements(client, query):
    page = client.get(reverse("search"), {"q": query}).content.decode()
    return page


@pytest.fixture
def truah(seeded):
    org = factories.organization(name="T'ruah: The Rabbinic Call for Human Rights", slug="truah")
    statement = factories.statement(
        slug="a-letter-of-rabbis",
        title="A letter of rabbis",
        issued_on=datetime.date(2025, 12, 1),
        status=Statement.Status.PUBLISHED,
    )
    factories.signature(statement=statement, organization=org)
    factories.organization(name="Fundación Paz y Solidaridad", slug="fundacion")
    return org


def api_slugs(client, query):
    response = client.get("/api/v1/statements/", {"q": query})
    assert response.status_code == 200
    return [item["slug"] for item in response.json()["results"]]


def test_a_signers_acronym_finds_its_statements(client, seeded):
    page = found_statements(client, "ANCA")
    assert "Armenian National Committee of America" in page
    assert f'href="/statements/{JOINT}/"' in page
    assert "No statement matches" not in page
    assert JOINT in api_slugs(client, "ANCA")
    assert JOINT in api_slugs(client, "anca")
    assert JOINT in api_slugs(client, "A.N.C.A.")


def test_a_signers_full_name_finds_its_statements(client, seeded):
    assert JOINT in api_slugs(
        client, "Women\u2019s International League for Peace and Freedom US Section"
    )
    assert api_slugs(client, "Women\u2019s International League") == []  # a name whole, not a part


@pytest.mark.parametrize("query", ["truah", "T'ruah", "T\u2019ruah", "TRUAH"])
def test_apostrophes_are_folded(client, truah, query):
    page = found_statements(client, query)
    assert "T'ruah: The Rabbinic Call for Human Rights" in page or "T&#x27;ruah" in page
    assert "a-letter-of-rabbis" in api_slugs(client, "T'ruah: The Rabbinic Call for Human Rights")


def test_accents_are_folded(client, truah):
    fundacion = Organization.objects.get(slug="fundacion")
    statement = Statement.objects.get(slug="a-letter-of-rabbis")
    factories.signature(statement=statement, organization=fundacion)
    page = found_statements(client, "fundacion paz")
    assert "Fundación Paz y Solidaridad" in page


def test_a_name_known_only_from_a_draft_finds_nothing(client, draft):
    from statements.merging import merge_organizations

    codepink = Organization.objects.get(slug="codepink")
    insider = Organization.objects.get(slug="only-on-the-draft")
    merge_organizations(keep=codepink, other=insider)
    assert codepink.other_names.get(name="Only On The Draft").withheld
    assert api_slugs(client, "Only On The Draft") == []
    assert "CODEPINK" not in found_statements(client, "Only On The Draft")


def test_signed_by_resolves_an_exact_acronym_before_any_part_of_a_name(client, seeded):
    # "Campaign" in "US Campaign For Palestinian Rights" contains "amp".
    response = client.get(reverse("statement-list"), {"organization": "AMP"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Signed by <a" in page and "American Muslims for Palestine" in page
    assert "1 statement</h2>" in page


def test_signed_by_a_name_that_is_ambiguous_lists_nothing(client, seeded):
    response = client.get(reverse("statement-list"), {"organization": "for"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Several organisations match" in page
    assert "statements</h2>" not in page and "statement</h2>" not in page


def test_a_new_or_renamed_name_is_folded_on_save(db):
    org = factories.organization(name="Nat'l Council of Churches")
    assert org.name_fold == "national council of churches"
    other = OtherName.objects.create(organization=org, name="N.C.C.")
    assert other.name_fold == "n c c"
    org.name = "The Churches\u2019 Council"
    org.save()
    assert Organization.objects.get(pk=org.pk).name_fold == "the churches council"
