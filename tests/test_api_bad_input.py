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
        ("/api/v1/statements/?q=%00", 400, "Contains a NUL byte."),
        ("/api/v1/statements/?topic=gaza%00", 400, "Contains a NUL byte."),
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
