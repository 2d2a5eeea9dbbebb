"""Filters answer partners' questions: who signed what, led what, when, on which topic."""

import datetime

import pytest

from organizations.models import Organization
from statements.models import Statement, Topic

from . import factories
from .conftest import api_get

ANCA = "armenian-national-committee-of-america"
CMEP = "churches-for-middle-east-peace"
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


def slugs(payload):
    return [row["slug"] for row in payload["results"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"topic": "gaza"}, [JOINT, "2025-11-04-multi-faith-global-letter"]),
        ({"signed_by": CMEP, "issued_before": "2025-10-14"},
         ["2025-10-14-frank-wolf-religious-freedom-award",
          "2025-10-13-peace-deal-hostages-detainees"]),
        ({"signed_by": [CMEP, ANCA]}, [JOINT]),
        ({"led_by": ANCA}, [JOINT]),
        ({"led_by": CMEP}, []),
        ({"issued_after": "2025-11-01"}, [JOINT, "2025-11-04-multi-faith-global-letter"]),
        ({"kind": "open_letter"}, ["2025-11-04-multi-faith-global-letter"]),
        ({"q": "Azerbaijani military"}, [JOINT]),
        ({"q": "religious freedom 21Wilberforce"},
         ["2025-10-14-frank-wolf-religious-freedom-award"]),
        ({"ordering": "issued_on", "issued_after": "2025-11-01"},
         ["2025-11-04-multi-faith-global-letter", JOINT]),
    ],
)  # fmt: skip
def test_statement_filters(api, seeded, params, expected):
    assert slugs(api_get(api, "/api/v1/statements/", **params)) == expected


def test_signed_by_means_all_of_them(api, seeded):
    other = factories.statement(slug="other")
    factories.signature(statement=other, organization=Organization.objects.get(slug=CMEP))
    assert "other" in slugs(api_get(api, "/api/v1/statements/", signed_by=CMEP))
    assert "other" not in slugs(api_get(api, "/api/v1/statements/", signed_by=[CMEP, ANCA]))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "faith_based"}, [CMEP]),
        ({"signed": "2025-10-13-peace-deal-hostages-detainees"}, [CMEP]),
        ({"q": "WILPF"}, ["womens-international-league-for-peace-and-freedom-us-section"]),
        ({"q": "US Campaign for Palestinian"}, ["uscpr-action"]),
    ],
)
def test_organization_filters(api, seeded, params, expected):
    assert slugs(api_get(api, "/api/v1/organizations/", **params)) == expected


def test_cosigned_with(api, seeded):
    payload = api_get(api, "/api/v1/organizations/", cosigned_with=ANCA, page_size=50)
    assert payload["count"] == 17 and ANCA not in slugs(payload)


def test_timeline_and_cosigners_filter_by_date_and_topic(api, seeded):
    timeline = f"/api/v1/organizations/{CMEP}/timeline/"
    dated = api_get(api, timeline, issued_after="2025-10-14", issued_before="2025-10-20")
    assert [e["statement"]["slug"] for e in dated["results"]] == [
        "2025-10-14-frank-wolf-religious-freedom-award",
        "2025-10-20-us-sanctions-palestinian-human-rights-organizations",
    ]
    gaza = api_get(api, timeline, topic="gaza")
    assert [e["statement"]["issued_on"] for e in gaza["results"]] == ["2025-11-04", "2025-11-12"]
    cosigners = f"/api/v1/organizations/{CMEP}/cosigners/"
    assert api_get(api, cosigners, topic="religious-freedom")["count"] == 0
    assert api_get(api, cosigners, issued_after="2025-11-12")["count"] == 17


def test_cosigners_count_shared_statements_most_first(api, seeded):
    cmep = Organization.objects.get(slug=CMEP)
    anca = Organization.objects.get(slug=ANCA)
    for day in (1, 2):
        statement = factories.statement(issued_on=datetime.date(2026, 1, day))
        factories.signature(statement=statement, organization=cmep)
        factories.signature(statement=statement, organization=anca)
    first = api_get(api, f"/api/v1/organizations/{CMEP}/cosigners/")["results"][0]
    assert first["organization"]["slug"] == ANCA
    assert (first["shared_count"], first["first_shared_on"], first["last_shared_on"]) == (
        3, "2025-11-12", "2026-01-02",
    )  # fmt: skip
    shared = api_get(api, first["shared_statements_url"].removeprefix("http://testserver"))
    assert [s["slug"] for s in shared["results"]][2:] == [JOINT] and shared["count"] == 3
    # Filtered, the co-signers are counted from the signatures, and the link keeps the filter.
    recent = api_get(api, f"/api/v1/organizations/{CMEP}/cosigners/", issued_after="2026-01-01")[
        "results"
    ]
    assert [(r["organization"]["slug"], r["shared_count"]) for r in recent] == [(ANCA, 2)]
    shared = api_get(api, recent[0]["shared_statements_url"].removeprefix("http://testserver"))
    assert shared["count"] == 2 and "issued_after=2026-01-01" in recent[0]["shared_statements_url"]


@pytest.fixture
def late_and_withdrawn(seeded):
    joint = Statement.objects.get(slug=JOINT)
    late = factories.organization(slug="late-signer")
    factories.signature(
        statement=joint, organization=late, joined_on=datetime.date(2025, 11, 20), position=19
    )
    dawn = joint.signatures.get(organization__slug="dawn")
    dawn.withdrawn_on = datetime.date(2025, 11, 15)
    dawn.withdrawal_reason = "Changed its position."
    dawn.save()
    return joint


@pytest.mark.parametrize(
    ("as_of", "count", "has_late", "has_dawn"),
    [("2025-11-11", 0, False, False), ("2025-11-12", 18, False, True),
     ("2025-11-15", 17, False, False), ("2025-11-20", 18, True, False), (None, 19, True, True)],
)  # fmt: skip
def test_as_of_shows_who_had_signed_by_a_date(api, late_and_withdrawn, as_of, count, has_late,
                                              has_dawn):  # fmt: skip
    params = {"as_of": as_of} if as_of else {}
    detail = api_get(api, f"/api/v1/statements/{JOINT}/", **params)
    signers = [s["organization"]["slug"] for s in detail["signatures"]]
    assert len(signers) == count == detail["lead_count"] + detail["signatory_count"]
    assert ("late-signer" in signers, "dawn" in signers) == (has_late, has_dawn)
    flat = api_get(api, "/api/v1/signatures/", statement=JOINT, page_size=50, **params)
    assert sorted(s["organization"]["slug"] for s in flat["results"]) == sorted(signers)


def test_a_withdrawn_signature_stays_on_record_with_its_date(api, late_and_withdrawn):
    detail = api_get(api, f"/api/v1/statements/{JOINT}/")
    dawn = next(s for s in detail["signatures"] if s["organization"]["slug"] == "dawn")
    assert (dawn["withdrawn_on"], dawn["withdrawal_reason"]) == (
        "2025-11-15", "Changed its position.",
    )  # fmt: skip
    assert api_get(api, "/api/v1/organizations/dawn/")["withdrawn_count"] == 1


def test_signatures_filters_and_keyset_pages(api, seeded):
    leads = api_get(api, "/api/v1/signatures/", role="lead")
    assert sorted(s["organization"]["slug"] for s in leads["results"]) == [
        "a-new-policy", ANCA,
    ]  # fmt: skip
    assert api_get(api, "/api/v1/signatures/", topic="religious-freedom")["results"][0][
        "statement"]["slug"] == "2025-10-14-frank-wolf-religious-freedom-award"  # fmt: skip
    assert len(api_get(api, "/api/v1/signatures/", organization=CMEP)["results"]) == 5
    assert len(api_get(api, "/api/v1/signatures/", joined_before="2025-11-11")["results"]) == 4
    seen, url, pages = [], "/api/v1/signatures/?page_size=5", 0
    while url:
        page = api_get(api, url)
        seen += [row["id"] for row in page["results"]]
        url, pages = page["next"], pages + 1
    assert pages == 5 and len(seen) == 22 and seen == sorted(seen)


def test_topics_list(api, seeded):
    payload = api_get(api, "/api/v1/topics/")
    assert {t["slug"]: t["statement_count"] for t in payload["results"]} == {
        "armenia-artsakh": 1, "azerbaijan": 1, "ceasefire": 1, "gaza": 2, "human-rights": 2,
        "peacekeeping": 1, "religious-freedom": 1, "sanctions": 1,
    }  # fmt: skip
    assert Topic.objects.count() == 8
