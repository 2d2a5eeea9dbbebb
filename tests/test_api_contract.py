"""The API's answers on the seed data, compared whole: these payloads are the contract."""

import base64
from urllib.parse import quote

import pytest

from .conftest import api_get

BASE = "http://testserver/api/v1"
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"

# The 18 organisations of the joint statement: slug, name, acronym, printed name.
JOINT_SIGNERS = [
    ("a-new-policy", "A New Policy", "", "A New Policy"),
    ("armenian-national-committee-of-america", "Armenian National Committee of America", "ANCA",
     "Armenian National Committee of America (ANCA)"),
    ("american-muslims-for-palestine", "American Muslims for Palestine", "AMP",
     "American Muslims for Palestine (AMP)"),
    ("americans-for-justice-in-palestine-action", "Americans for Justice in Palestine Action",
     "AJP Action", "Americans for Justice in Palestine Action (AJP Action)"),
    ("churches-for-middle-east-peace", "Churches for Middle East Peace", "CMEP",
     "Churches for Middle East Peace"),
    ("codepink", "CODEPINK", "", "CODEPINK"),
    ("dawn", "DAWN", "", "DAWN"),
    ("disability-justice-for-palestine", "Disability Justice for Palestine", "",
     "Disability Justice for Palestine"),
    ("international-association-of-genocide-scholars",
     "International Association of Genocide Scholars", "",
     "International Association of Genocide Scholars"),
    ("just-foreign-policy", "Just Foreign Policy", "", "Just Foreign Policy"),
    ("lemkin-institute-for-genocide-prevention-human-security",
     "Lemkin Institute for Genocide Prevention & Human Security", "",
     "Lemkin Institute for Genocide Prevention & Human Security"),
    ("migrant-roots-media", "Migrant Roots Media", "", "Migrant Roots Media"),
    ("national-iranian-american-council", "National Iranian American Council", "",
     "National Iranian American Council"),
    ("palestinian-christians-for-justice", "Palestinian Christians for Justice", "",
     "Palestinian Christians for Justice"),
    ("progressive-democrats-of-america-greater-middle-east-alliances",
     "Progressive Democrats of America \u2013 Greater Middle East Alliances", "",
     "Progressive Democrats of America \u2014 Greater Middle East Alliances"),
    ("uscpr-action", "USCPR Action", "", "USCPR Action"),
    ("womens-international-league-for-peace-and-freedom-us-section",
     "Women's International League for Peace and Freedom, US Section", "WILPF US",
     "Women's International League for Peace and Freedom, US Section (WILPF US)"),
    ("yusra-action", "YUSRA Action", "", "YUSRA Action"),
]  # fmt: skip

CMEP_STATEMENTS = [
    ("2025-10-13-peace-deal-hostages-detainees", "2025-10-13", "press_release",
     "Churches for Middle East Peace (CMEP) Welcomes Implementation of the Peace Deal, the "
     "Release of Hostages, and the Exchange of Detainees"),
    ("2025-10-14-frank-wolf-religious-freedom-award", "2025-10-14", "press_release",
     "CMEP is deeply honored to be named the 2025 recipient of the Frank Wolf International "
     "Religious Freedom Award by 21Wilberforce"),
    ("2025-10-20-us-sanctions-palestinian-human-rights-organizations", "2025-10-20",
     "joint_statement", "Joint Statement: US Sanctions on Palestinian Human Rights "
     "Organizations Erodes International Law"),
    ("2025-11-04-multi-faith-global-letter", "2025-11-04", "open_letter",
     "2025 Multi-Faith Global Letter"),
    (JOINT, "2025-11-12", "joint_statement", "Joint Statement by U.S. Organizations concerning "
     "the potential inclusion of Azerbaijan in the planned International Security Force for "
     "Gaza"),
]  # fmt: skip


def org_ref(slug, name, acronym):
    return {"slug": slug, "name": name, "acronym": acronym,
            "url": f"{BASE}/organizations/{slug}/"}  # fmt: skip


def statement_ref(slug, issued_on, kind, title):
    return {"slug": slug, "title": title, "kind": kind, "status": "published",
            "issued_on": issued_on, "url": f"{BASE}/statements/{slug}/"}  # fmt: skip


def test_ancas_cosigners_are_the_17_other_organisations_of_the_joint_statement(api, seeded):
    payload = api_get(
        api, "/api/v1/organizations/armenian-national-committee-of-america/cosigners/"
    )
    others = sorted(
        (s for s in JOINT_SIGNERS if s[0] != "armenian-national-committee-of-america"),
        key=lambda s: s[1],
    )
    assert payload == {
        "count": 17,
        "next": None,
        "previous": None,
        "results": [
            {
                "organization": org_ref(slug, name, acronym),
                "shared_count": 1,
                "first_shared_on": "2025-11-12",
                "last_shared_on": "2025-11-12",
                "shared_statements_url": f"{BASE}/statements/"
                f"?signed_by=armenian-national-committee-of-america&signed_by={slug}",
            }
            for slug, name, acronym, _ in others
        ],
    }


def test_cmeps_timeline_lists_its_5_statements_in_date_order(api, seeded):
    payload = api_get(api, "/api/v1/organizations/churches-for-middle-east-peace/timeline/")
    assert payload == {
        "count": 5,
        "next": None,
        "previous": None,
        "results": [
            {
                "statement": statement_ref(*statement),
                "role": "signatory",
                "name_as_printed": "Churches for Middle East Peace",
                "joined_on": statement[1],
                "withdrawn_on": None,
                "withdrawal_reason": "",
            }
            for statement in CMEP_STATEMENTS
        ],
    }


@pytest.mark.parametrize("query", ["ANCA", "anca", "Armenian National Committee"])
def test_anca_is_found_by_acronym_and_by_name(api, seeded, query):
    payload = api_get(api, "/api/v1/organizations/", q=query)
    assert payload == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "slug": "armenian-national-committee-of-america",
                "name": "Armenian National Committee of America",
                "acronym": "ANCA",
                "kind": "",
                "country": "United States",
                "website": "",
                "statement_count": 1,
                "url": f"{BASE}/organizations/armenian-national-committee-of-america/",
            }
        ],
    }


def test_an_organisation_in_detail(api, seeded):
    payload = api_get(api, "/api/v1/organizations/uscpr-action/")
    assert payload == {
        "slug": "uscpr-action",
        "name": "USCPR Action",
        "acronym": "",
        "kind": "",
        "country": "United States",
        "website": "",
        "statement_count": 1,
        "url": f"{BASE}/organizations/uscpr-action/",
        "description": "",
        "city": "",
        "founded_year": None,
        "other_names": [
            {"name": "US Campaign For Palestinian Rights (USCPR Action)", "kind": "variant"}
        ],
        "lead_count": 0,
        "withdrawn_count": 0,
        "first_signed_on": "2025-11-12",
        "last_signed_on": "2025-11-12",
        "timeline_url": f"{BASE}/organizations/uscpr-action/timeline/",
        "cosigners_url": f"{BASE}/organizations/uscpr-action/cosigners/",
    }


def test_the_joint_statement_in_detail(api, seeded):
    payload = api_get(api, f"/api/v1/statements/{JOINT}/")
    full_text = payload.pop("full_text")
    assert full_text.startswith("We, the below-listed U.S. nongovernmental organizations")
    quotes = payload.pop("quotes")
    assert quotes[0]["text"].startswith("The Armenian and Palestinian people both have")
    assert quotes[1]["text"].endswith("at the expense of Palestinians lives and land.")
    assert [(q["speaker"], q["speaker_title"], q["organization"]["slug"], q["source"]["outlet"])
            for q in quotes] == [
        ("Josh Paul", "Executive Director of A New Policy", "a-new-policy",
         "Armenian National Committee of America"),
        ("Aram Hamparian", "ANCA Executive Director", "armenian-national-committee-of-america",
         "Armenian National Committee of America"),
    ]  # fmt: skip
    cmep = org_ref("churches-for-middle-east-peace", "Churches for Middle East Peace", "CMEP")
    assert payload == {
        "slug": JOINT,
        "title": CMEP_STATEMENTS[-1][3],
        "kind": "joint_statement",
        "status": "published",
        "issued_on": "2025-11-12",
        "place": "Washington, D.C.",
        "ask": "As such, we urge the international community including the United States to "
        "reject any role for the Azerbaijani military in the conceived International Security "
        "Force for Gaza.",
        "topics": [
            {"slug": "armenia-artsakh", "name": "Armenia and Artsakh"},
            {"slug": "azerbaijan", "name": "Azerbaijan"},
            {"slug": "gaza", "name": "Gaza"},
            {"slug": "human-rights", "name": "Human rights"},
            {"slug": "peacekeeping", "name": "Peacekeeping"},
        ],
        "lead_count": 2,
        "signatory_count": 16,
        "url": f"{BASE}/statements/{JOINT}/",
        "summary": "",
        "source_url": "",
        "retraction_note": "",
        "signatures": [
            {
                "position": position,
                "organization": org_ref(slug, name, acronym),
                "role": "lead" if position <= 2 else "signatory",
                "name_as_printed": printed,
                "joined_on": "2025-11-12",
                "withdrawn_on": None,
                "withdrawal_reason": "",
            }
            for position, (slug, name, acronym, printed) in enumerate(JOINT_SIGNERS, start=1)
        ],
        "media_contacts": [
            {
                "organization": cmep,
                "name": "",
                "email": "media@cmep.org",
                "phone": "(202) 543-1222",
            },
        ],
        "coverage": [
            {
                "outlet": "Politico's National Security Daily",
                "headline": "",
                "url": "",
                "date": "",
                "kind": "news",
                "first_reported": True,
            },
            {
                "outlet": "Armenian National Committee of America",
                "headline": "Human Rights Organizations Warn Artsakh Ethnic Cleansing, Israeli "
                "Military Partnership Make Azerbaijan Unsuitable for Peacekeeping",
                "url": "",
                "date": "",
                "kind": "press_release",
                "first_reported": False,
            },
            {
                "outlet": "Churches for Middle East Peace",
                "headline": CMEP_STATEMENTS[-1][3],
                "url": "",
                "date": "2025-11-12",
                "kind": "press_release",
                "first_reported": False,
            },
            {
                "outlet": "",
                "headline": "",
                "url": "",
                "date": "",
                "kind": "op_ed",
                "first_reported": False,
            },
            {
                "outlet": "",
                "headline": "Gaza peacekeeping plan faces setback as Azerbaijan says no to US",
                "url": "",
                "date": "",
                "kind": "follow_up",
                "first_reported": False,
            },
            {
                "outlet": "Ynet News",
                "headline": "Azerbaijan won't send soldiers to Gaza peacekeeping "
                "force: 'Palestine did not protect us'",
                "url": "",
                "date": "",
                "kind": "follow_up",
                "first_reported": False,
            },
        ],
    }


def test_statements_list_newest_first(api, seeded):
    payload = api_get(api, "/api/v1/statements/", issued_after="2025-11-01")
    assert payload == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                **statement_ref(*CMEP_STATEMENTS[4]),
                "place": "Washington, D.C.",
                "ask": "As such, we urge the international community including the United "
                "States to reject any role for the Azerbaijani military in the conceived "
                "International Security Force for Gaza.",
                "topics": ["armenia-artsakh", "azerbaijan", "gaza", "human-rights", "peacekeeping"],
                "lead_count": 2,
                "signatory_count": 16,
            },
            {
                **statement_ref(*CMEP_STATEMENTS[3]),
                "place": "",
                "ask": "",
                "topics": ["gaza"],
                "lead_count": 0,
                "signatory_count": 1,
            },
        ],
    }
    assert list(payload["results"][0]) == [
        "slug", "title", "kind", "status", "issued_on", "place", "ask", "topics",
        "lead_count", "signatory_count", "url",
    ]  # fmt: skip


def test_signatures_first_page(api, seeded):
    payload = api_get(api, "/api/v1/signatures/", page_size=1)
    first_id = payload["results"][0]["id"]
    cursor = quote(base64.b64encode(f"p={first_id}".encode()).decode())
    assert payload == {
        "next": f"http://testserver/api/v1/signatures/?cursor={cursor}&page_size=1",
        "previous": None,
        "results": [
            {
                "id": first_id,
                "statement": statement_ref(*CMEP_STATEMENTS[0]),
                "organization": org_ref(
                    "churches-for-middle-east-peace", "Churches for Middle East Peace", "CMEP"
                ),
                "role": "signatory",
                "name_as_printed": "Churches for Middle East Peace",
                "position": 1,
                "joined_on": "2025-10-13",
                "withdrawn_on": None,
                "withdrawal_reason": "",
            }
        ],
    }


def test_the_gaza_topic_over_time(api, seeded):
    payload = api_get(api, "/api/v1/topics/gaza/")
    assert payload == {
        "slug": "gaza",
        "name": "Gaza",
        "description": "",
        "statement_count": 2,
        "url": f"{BASE}/topics/gaza/",
        "statements_by_year": [{"year": 2025, "count": 2}],
        "statements": [statement_ref(*CMEP_STATEMENTS[4]), statement_ref(*CMEP_STATEMENTS[3])],
        "statements_url": f"{BASE}/statements/?topic=gaza",
    }


def test_the_readme_curl_examples_work(api, seeded):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    urls = re.findall(r"curl (?:-H '[^']*' )?'http://127\.0\.0\.1:8000(/api/[^']*)'", readme)
    assert len(urls) >= 7
    for url in urls:
        response = api.get(url.replace("%20", " "))
        assert response.status_code == 200, url
