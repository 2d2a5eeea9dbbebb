"""Reading a pasted signatory list and matching each line to an organisation."""

from pathlib import Path

import pytest

from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Organization, OtherName

from . import factories

RAW_CMEP_LIST = (Path(__file__).parent / "data" / "cmep-additional-signatories.txt").read_text(
    encoding="utf-8"
)

CMEP_SIGNATORIES = [
    "american-muslims-for-palestine",
    "americans-for-justice-in-palestine-action",
    "churches-for-middle-east-peace",
    "codepink",
    "dawn",
    "disability-justice-for-palestine",
    "international-association-of-genocide-scholars",
    "just-foreign-policy",
    "lemkin-institute-for-genocide-prevention-human-security",
    "migrant-roots-media",
    "national-iranian-american-council",
    "palestinian-christians-for-justice",
    "progressive-democrats-of-america-greater-middle-east-alliances",
    "uscpr-action",
    "womens-international-league-for-peace-and-freedom-us-section",
    "yusra-action",
]


def test_the_raw_cmep_list_matches_all_16_seeded_organisations(seeded):
    lines = parse_pasted_list(RAW_CMEP_LIST)
    assert [line.name for line in lines][:3] == [
        "American Muslims for Palestine (AMP)",
        "Americans for Justice in Palestine Action (AJP Action)",
        "Churches for Middle East Peace",
    ]
    matches = Matcher().match_all(lines)
    assert [m.organization.slug for m in matches] == CMEP_SIGNATORIES
    assert not any(m.is_new for m in matches)
    assert {m.how for m in matches} <= {"exact name", "other name", "acronym"}
    assert Organization.objects.count() == 18


@pytest.mark.parametrize(
    ("raw", "name", "acronym"),
    [
        ("e American Muslims for Palestine (AMP)", "American Muslims for Palestine (AMP)", "AMP"),
        ("o CODEPINK", "CODEPINK", ""),
        ("« DAWN", "DAWN", ""),
        ("» Migrant Roots Media", "Migrant Roots Media", ""),
        ("• Just Foreign Policy,", "Just Foreign Policy", ""),
        ("- YUSRA Action;", "YUSRA Action", ""),
        ("12. National Iranian American Council", "National Iranian American Council", ""),
        ("3) USCPR Action", "USCPR Action", ""),
        ("   \tCODEPINK   ", "CODEPINK", ""),
        ("eBay Workers United", "eBay Workers United", ""),
    ],
)
def test_bullets_numbering_and_ocr_noise_are_removed(raw, name, acronym):
    (line,) = parse_pasted_list(raw)
    assert (line.name, line.acronym) == (name, acronym)


def test_blank_and_noise_only_lines_are_skipped_and_numbers_kept():
    lines = parse_pasted_list("\n•\n  \n- CODEPINK\n»\n2. DAWN\n")
    assert [(line.number, line.name) for line in lines] == [(4, "CODEPINK"), (6, "DAWN")]


@pytest.mark.parametrize(
    ("pasted", "slug", "how"),
    [
        ("Armenian National Committee of America", "armenian-national-committee-of-america",
         "exact name"),
        ("ARMENIAN NATIONAL COMMITTEE  OF AMERICA", "armenian-national-committee-of-america",
         "exact name"),
        ("Armenian National Committee of America (ANCA)",
         "armenian-national-committee-of-america", "exact name"),
        ("ANCA", "armenian-national-committee-of-america", "acronym"),
        ("Some Other Name (ANCA)", "armenian-national-committee-of-america", "acronym"),
        ("US Campaign For Palestinian Rights (USCPR Action)", "uscpr-action", "other name"),
        ("Women\u2019s International League for Peace and Freedom, US Section",
         "womens-international-league-for-peace-and-freedom-us-section", "exact name"),
        ("Lemkin Institute for Genocide Prevention and Human Security",
         "lemkin-institute-for-genocide-prevention-human-security", "fuzzy"),
    ],
)  # fmt: skip
def test_how_a_line_matched(seeded, pasted, slug, how):
    (match,) = Matcher().match_all(parse_pasted_list(pasted))
    assert (match.organization.slug, match.how) == (slug, how)
    assert (match.score is not None) == (how == "fuzzy")


def test_a_fuzzy_match_reports_its_score(seeded):
    (match,) = Matcher().match_all(parse_pasted_list("Code Pink"))
    assert match.how == "fuzzy" and match.organization.slug == "codepink"
    assert 88 <= match.score < 100


def test_an_unknown_organisation_is_new(seeded):
    (match,) = Matcher().match_all(parse_pasted_list("Friends of the Earth"))
    assert match.is_new and match.how == "new" and match.organization is None


def test_acronyms_recorded_as_other_names_match(db):
    org = factories.organization(name="National Iranian American Council")
    OtherName.objects.create(organization=org, name="NIAC", kind=OtherName.Kind.ACRONYM)
    (match,) = Matcher().match_all(parse_pasted_list("• NIAC"))
    assert (match.organization, match.how) == (org, "acronym")
