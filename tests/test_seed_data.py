"""The product ships with the real 12 November 2025 case, exactly as the sources print it."""

import datetime
import re

import pytest

from organizations.models import Organization
from statements.models import Statement

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"

PRINTED_LIST = [
    ("lead", "A New Policy"),
    ("lead", "Armenian National Committee of America (ANCA)"),
    ("signatory", "American Muslims for Palestine (AMP)"),
    ("signatory", "Americans for Justice in Palestine Action (AJP Action)"),
    ("signatory", "Churches for Middle East Peace"),
    ("signatory", "CODEPINK"),
    ("signatory", "DAWN"),
    ("signatory", "Disability Justice for Palestine"),
    ("signatory", "International Association of Genocide Scholars"),
    ("signatory", "Just Foreign Policy"),
    ("signatory", "Lemkin Institute for Genocide Prevention & Human Security"),
    ("signatory", "Migrant Roots Media"),
    ("signatory", "National Iranian American Council"),
    ("signatory", "Palestinian Christians for Justice"),
    ("signatory", "Progressive Democrats of America — Greater Middle East Alliances"),
    ("signatory", "USCPR Action"),
    ("signatory", "Women's International League for Peace and Freedom, US Section (WILPF US)"),
    ("signatory", "YUSRA Action"),
]


@pytest.fixture
def joint(seeded):
    return Statement.objects.get(slug=JOINT)


def test_the_joint_statement_is_public_with_its_date_place_and_topics(joint):
    assert joint.title == (
        "Joint Statement by U.S. Organizations concerning the potential inclusion of "
        "Azerbaijan in the planned International Security Force for Gaza"
    )
    assert joint in Statement.objects.public()
    assert joint.issued_on == datetime.date(2025, 11, 12)
    assert joint.place == "Washington, D.C."
    assert joint.kind == Statement.Kind.JOINT_STATEMENT
    assert sorted(joint.topics.values_list("slug", flat=True)) == [
        "armenia-artsakh", "azerbaijan", "gaza", "human-rights", "peacekeeping",
    ]  # fmt: skip
    assert joint.ask.startswith("As such, we urge the international community")
    assert joint.full_text.startswith("We, the below-listed U.S. nongovernmental organizations")
    assert joint.full_text.endswith("stabilizing role in the Palestinian territories.")


def test_18_signatures_2_leads_then_16_signatories_in_printed_order(joint):
    signatures = list(joint.signatures.order_by("position"))
    assert [(s.role, s.name_as_printed) for s in signatures] == PRINTED_LIST
    assert [s.position for s in signatures] == list(range(1, 19))
    assert {s.joined_on for s in signatures} == {datetime.date(2025, 11, 12)}
    assert not any(s.is_withdrawn for s in signatures)


def test_no_organisation_appears_twice(joint, seeded):
    organizations = [s.organization_id for s in joint.signatures.all()]
    assert len(set(organizations)) == 18
    assert Organization.objects.count() == 18


def test_other_sources_spellings_are_one_organisation(joint):
    uscpr = Organization.objects.get(
        other_names__name="US Campaign For Palestinian Rights (USCPR Action)"
    )
    assert uscpr.name == "USCPR Action"
    assert joint.signatures.get(organization=uscpr).name_as_printed == "USCPR Action"
    wilpf = Organization.objects.get(acronym="WILPF US")
    assert wilpf.other_names.filter(name__contains="Women\u2019s").exists()
    anca = Organization.objects.get(other_names__name="ANCA", other_names__kind="acronym")
    assert anca.name == "Armenian National Committee of America"
    acronyms = set(
        Organization.objects.filter(other_names__kind="acronym").values_list(
            "other_names__name", flat=True
        )
    )
    assert acronyms == {"ANCA", "AMP", "AJP Action", "CMEP", "WILPF US"}


def test_the_cmep_media_contact(joint):
    contact = joint.media_contacts.get()
    assert (contact.organization.acronym, contact.email, contact.phone, contact.is_public) == (
        "CMEP", "media@cmep.org", "(202) 543-1222", True,
    )  # fmt: skip


def test_coverage_invents_no_url_or_date_and_politico_reported_first(joint):
    coverage = [
        (c.outlet, c.kind, c.first_reported, c.url, c.date_text) for c in joint.coverage.all()
    ]
    assert coverage == [
        ("Politico's National Security Daily", "news", True, "", ""),
        ("Armenian National Committee of America", "press_release", False, "", ""),
        ("Churches for Middle East Peace", "press_release", False, "", "2025-11-12"),
        ("", "op_ed", False, "", ""),  # the op-ed's text names no outlet
        ("", "follow_up", False, "", ""),  # nor does the report datelined "BAKU (Web Desk)"
        ("Ynet News", "follow_up", False, "", ""),
    ]


def test_the_quotes_of_josh_paul_and_aram_hamparian_with_their_titles(joint):
    quotes = [
        (q.speaker, q.speaker_title, q.organization.slug, q.source.outlet)
        for q in joint.quotes.all()
    ]
    assert quotes == [
        ("Josh Paul", "Executive Director of A New Policy", "a-new-policy",
         "Armenian National Committee of America"),
        ("Aram Hamparian", "ANCA Executive Director", "armenian-national-committee-of-america",
         "Armenian National Committee of America"),
    ]  # fmt: skip


def test_cmep_has_positions_over_time(seeded):
    cmep = Organization.objects.get(acronym="CMEP")
    dates = [
        s.statement.issued_on.isoformat()
        for s in cmep.signatures.select_related("statement").order_by("statement__issued_on")
    ]
    assert dates == ["2025-10-13", "2025-10-14", "2025-10-20", "2025-11-04", "2025-11-12"]
    assert all(s.role == "signatory" for s in cmep.signatures.all())


def test_seeded_counts(seeded):
    assert Statement.objects.public().count() == 5
    assert (
        Organization.objects.with_public_statement_count().get(acronym="CMEP").statement_count == 5
    )


def test_coverage_whose_text_names_no_outlet_is_shown_as_unnamed(client, joint):
    html = client.get(f"/statements/{JOINT}/").content.decode()
    coverage = " ".join(re.sub(r"<[^>]+>", " ", html[html.index("<h2>Coverage") :]).split())
    assert "Untitled — Unnamed outlet · Op-ed" in coverage
    assert (
        "Gaza peacekeeping plan faces setback as Azerbaijan says no to US — Unnamed outlet · "
        "Follow-up" in coverage
    )
    assert "Jerusalem Post" not in html and "ARY News" not in html
    baku = joint.coverage.get(headline__startswith="Gaza peacekeeping plan")
    assert str(baku) == f"Unnamed outlet: {baku.headline}"  # as staff pick a quote's source
