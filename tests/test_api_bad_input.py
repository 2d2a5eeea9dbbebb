"""Bad input gets a 4xx with a JSON body saying what is wrong, never a 500."""

import pytest

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/v1/statements/?colour=red", 400, "Unknown query parameter(s): colour."),
        ("/api/v1/statements/?issued_after=2025-13-01", 400, "Enter a valid date."),
        ("/api/v1/statements/?issued_after=yesterday", 400, "Enter a valid date."),
        ("/api/v1/statements/?topic=no-such-topic", 400, "Select a valid choice."),
        ("/api/v1/statements/?signed_by=nobody", 400, "Select a valid choice."),
        ("/api/v1/statements/?led_by=nobody", 400, "Select a valid choice."),
        ("/api/v1/statements/?kind=poem", 400, "Select a valid choice."),
        ("/api/v1/statements/?ordering=notes", 400, "Select a valid choice."),
        ("/api/v1/statements/?page_size=201", 400, "Give a whole number from 1 to 200"),
        ("/api/v1/statements/?page_size=0", 400, "Give a whole number from 1 to 200"),
        ("/api/v1/statements/?page_size=abc", 400, "Give a whole number from 1 to 200"),
        (f"/api/v1/statements/?page_size={10**9}", 400, "Give a whole number from 1 to 200"),
        (f"/api/v1/statements/?page={2**63}", 404, "Invalid page."),
        ("/api/v1/statements/?page=-1", 404, "Invalid page."),
        ("/api/v1/statements/?q=%00", 400, "A NUL byte is not allowed"),
        ("/api/v1/statements/?topic=gaza%00", 400, "A NUL byte is not allowed"),
        ("/api/v1/statements/?q=" + "x" * 501, 400, "Too long"),
        ("/api/v1/statements/no-such-statement/", 404, "No Statement matches"),
        ("/api/v1/statements/bad%00slug/", 404, "Not found."),
        (f"/api/v1/statements/{JOINT}/?as_of=2025-02-30", 400, "Date has wrong format"),
        (f"/api/v1/statements/{JOINT}/?topic=gaza", 400, "Unknown query parameter(s): topic."),
        ("/api/v1/organizations/nobody/", 404, "No Organization matches"),
        ("/api/v1/organizations/nobody/timeline/", 404, "No Organization matches"),
        ("/api/v1/organizations/nobody/cosigners/", 404, "No Organization matches"),
        ("/api/v1/organizations/dawn/timeline/?topic=nope", 400, "Select a valid choice."),
        ("/api/v1/organizations/dawn/cosigners/?issued_after=2025-1", 400, "Enter a valid date."),
        ("/api/v1/organizations/dawn/timeline/?q=x", 400, "Unknown query parameter(s): q."),
        ("/api/v1/organizations/?cosigned_with=nobody", 400, "Select a valid choice."),
        ("/api/v1/signatures/?cursor=garbage", 404, "Invalid cursor"),
        (f"/api/v1/signatures/{2**63}/", 404, "Not found."),
        ("/api/v1/signatures/99999999/", 404, "No Signature matches"),
        ("/api/v1/signatures/?as_of=0000-01-01", 400, "Enter a valid date."),
        ("/api/v1/signatures/?page=2", 400, "Unknown query parameter(s): page."),
        ("/api/v1/topics/nope/", 404, "No Topic matches"),
        ("/api/v1/nowhere/", 404, "Not found."),
        ("/api/v2/statements/", 404, "Not found."),
    ],
)
def test_bad_input_is_a_clear_4xx_in_json(api, seeded, url, status, says):
    response = api.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert says in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/v1/signatures/?cursor=cD1hYmM=", 404, "Invalid cursor"),  # p=abc
        ("/api/v1/signatures/?cursor=cD0xLjU=", 404, "Invalid cursor"),  # p=1.5
        ("/api/v1/statements/?" + "&".join(["signed_by=dawn"] * 11), 400, "Give at most 10."),
        ("/api/v1/statements/?page=1&page=2", 400, "Give this parameter once."),
        ("/api/v1/statements/?format=csv&format=json", 400, "Give this parameter once."),
        ("/api/v1/statements/?issued_after=12/11/2025", 400, "Enter a valid date."),
        ("/api/v1/statements/?issued_after=Nov%2012%202025", 400, "Enter a valid date."),
        ("/api/v1/signatures/?as_of=11/12/25", 400, "Enter a valid date."),
        ("/api/v1/statements/?page_size=5_0", 400, "Give a whole number"),
        ("/api/v1/statements/?page_size=%2B5", 400, "Give a whole number"),
        ("/api/v1/statements/?page_size=%D9%A5", 400, "Give a whole number"),
        ("/api/v1/statements/?format=xml", 400, "Choose one of: json, csv."),
        ("/api/v1/statements/?format=api", 400, "Choose one of: json, csv."),
        (f"/api/v1/statements/{JOINT}/?format=csv", 400, "Choose one of: json."),
        ("/api/v1/statements/?" + "&".join(f"q{i}=1" for i in range(1001)), 400, "Bad request."),
    ],
)
def test_tampering_and_ambiguity_are_clear_errors(api, seeded, url, status, says):
    response = api.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert says in response.content.decode()


def test_errors_are_json_even_when_html_is_asked_for(api, seeded):
    response = api.get("/api/v1/statements/?colour=red", HTTP_ACCEPT="text/html")
    assert response.status_code in (400, 406)
    assert response["Content-Type"].startswith("application/json")


def test_a_malformed_token_is_refused_before_the_database(api, seeded):
    api.credentials(HTTP_AUTHORIZATION="Token abc\x00def")
    response = api.get("/api/v1/statements/")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}


def test_a_missing_trailing_slash_redirects(api, seeded):
    response = api.get("/api/v1/statements?topic=gaza")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/statements/?topic=gaza"


def test_the_docs_page_answers_only_get(api, db):
    assert api.options("/api/v1/docs/").status_code == 405
