"""Every list downloads as CSV with the same filters: whole, or the page asked for."""

import csv
import io
import re

import pytest

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
CMEP = "churches-for-middle-east-peace"


def download(api, url, **params):
    response = api.get(url, {**params, "format": "csv"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("url", "params", "column", "expected"),
    [
        ("/api/v1/statements/", {"topic": "gaza"}, "slug",
         [JOINT, "2025-11-04-multi-faith-global-letter"]),
        ("/api/v1/organizations/", {"q": "ANCA"}, "slug",
         ["armenian-national-committee-of-america"]),
        ("/api/v1/signatures/", {"role": "lead"}, "organization_slug",
         ["a-new-policy", "armenian-national-committee-of-america"]),
        ("/api/v1/topics/", {}, "slug",
         ["armenia-artsakh", "azerbaijan", "ceasefire", "gaza", "human-rights", "peacekeeping",
          "religious-freedom", "sanctions"]),
        (f"/api/v1/organizations/{CMEP}/timeline/", {"issued_after": "2025-11-01"},
         "statement_slug", ["2025-11-04-multi-faith-global-letter", JOINT]),
    ],
)  # fmt: skip
def test_csv_lists_follow_the_filters(api, seeded, url, params, column, expected):
    assert [row[column] for row in download(api, url, **params)] == expected


def test_a_csv_is_the_whole_list_not_a_page(api, seeded):
    rows = download(api, "/api/v1/signatures/")
    assert len(rows) == 22
    assert set(rows[0]) >= {"statement_slug", "organization_slug", "role", "name_as_printed",
                            "joined_on", "withdrawn_on"}  # fmt: skip
    cosigners = download(api, f"/api/v1/organizations/{CMEP}/cosigners/")
    assert len(cosigners) == 17
    assert cosigners[0]["shared_statements_url"].endswith(
        f"/api/v1/statements/?signed_by={CMEP}&signed_by={cosigners[0]['organization_slug']}"
    )
    assert cosigners[0]["shared_count"] == "1"


def test_a_statement_row_flattens_its_topics(api, seeded):
    row = download(api, "/api/v1/statements/", signed_by="dawn")[0]
    assert row["topics"] == "armenia-artsakh; azerbaijan; gaza; human-rights; peacekeeping"
    assert (row["lead_count"], row["signatory_count"]) == ("2", "16")


def download_page(api, url, **params):
    response = api.get(url, {**params, "format": "csv"} if params else None)
    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    links = {
        rel: target
        for target, rel in re.findall(r'<([^>]*)>; rel="(next|prev)"', response.get("Link", ""))
    }
    return rows, links


@pytest.mark.parametrize(
    ("url", "column"),
    [
        ("/api/v1/statements/", "slug"),
        ("/api/v1/signatures/", "id"),
        (f"/api/v1/organizations/{CMEP}/timeline/", "statement_slug"),
        (f"/api/v1/organizations/{CMEP}/cosigners/", "organization_slug"),
    ],
)
def test_a_csv_of_a_page_is_that_page_and_links_to_the_next(api, seeded, url, column):
    whole = [row[column] for row in download(api, url)]
    assert len(whole) >= 5
    rows, links = download_page(api, url, page_size=2)
    paged, pages = [row[column] for row in rows], 1
    assert "prev" not in links
    while "next" in links:
        assert "format=csv" in links["next"]
        rows, links = download_page(api, links["next"])
        assert len(rows) <= 2 and "prev" in links
        paged, pages = paged + [row[column] for row in rows], pages + 1
    assert paged == whole
    assert pages == (len(whole) + 1) // 2


def test_a_csv_of_a_numbered_page(api, seeded):
    rows, links = download_page(api, "/api/v1/topics/", page=2, page_size=3)
    assert [row["slug"] for row in rows] == ["gaza", "human-rights", "peacekeeping"]
    assert set(links) == {"next", "prev"}
    assert api.get("/api/v1/topics/", {"format": "csv", "page": 9}).status_code == 404


def test_an_empty_csv_still_answers(api, seeded):
    response = api.get("/api/v1/statements/", {"format": "csv", "issued_after": "2030-01-01"})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [
        '"slug","title","kind","status","issued_on","place","ask","topics","lead_count",'
        '"signatory_count","url"'
    ]


def test_links_in_a_csv_lead_to_the_records_not_to_more_csv(api, seeded):
    row = download(api, "/api/v1/signatures/", role="lead")[0]
    assert row["statement_url"] == (
        "http://testserver/api/v1/statements/2025-11-12-azerbaijan-isf-gaza-joint-statement/"
    )
    assert api.get(row["organization_url"]).status_code == 200
