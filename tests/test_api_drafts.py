"""A draft is invisible to the API: no detail, list, filter, count, aggregate or CSV shows it."""

from organizations.models import Organization
from statements.models import Statement
from statements.publishing import publish, retract

from .conftest import api_get

ANCA = "armenian-national-committee-of-america"


def everything_the_api_says(api) -> str:
    """Every list and detail answer, JSON and CSV, as one text to search."""
    urls = [
        "/api/v1/statements/",
        "/api/v1/statements/?format=csv",
        "/api/v1/statements/?topic=gaza",
        f"/api/v1/statements/?signed_by={ANCA}",
        f"/api/v1/statements/?led_by={ANCA}",
        "/api/v1/statements/?q=secret",
        "/api/v1/signatures/?page_size=200",
        "/api/v1/signatures/?format=csv",
        f"/api/v1/signatures/?organization={ANCA}",
        f"/api/v1/organizations/{ANCA}/",
        f"/api/v1/organizations/{ANCA}/timeline/",
        f"/api/v1/organizations/{ANCA}/timeline/?format=csv",
        f"/api/v1/organizations/{ANCA}/cosigners/",
        f"/api/v1/organizations/{ANCA}/cosigners/?format=csv",
        "/api/v1/organizations/?page_size=200",
        "/api/v1/organizations/?format=csv",
        "/api/v1/organizations/?q=only",
        "/api/v1/topics/?format=csv",
        f"/api/v1/organizations/?cosigned_with={ANCA}&page_size=200",
        "/api/v1/topics/",
        "/api/v1/topics/gaza/",
    ]
    texts = []
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts.append(body.decode())
    return "\n".join(texts)


def test_no_answer_mentions_the_draft_or_its_only_signer(api, draft):
    said = everything_the_api_says(api)
    assert "secret-draft" not in said and "Secret draft" not in said
    assert "only-on-the-draft" not in said and "Only On The Draft" not in said


def test_counts_and_aggregates_leave_the_draft_out(api, draft):
    assert api_get(api, f"/api/v1/organizations/{ANCA}/")["statement_count"] == 1
    assert api_get(api, f"/api/v1/organizations/{ANCA}/")["lead_count"] == 1
    assert api_get(api, "/api/v1/topics/gaza/")["statement_count"] == 2
    assert api_get(api, f"/api/v1/organizations/{ANCA}/cosigners/")["count"] == 17
    assert api_get(api, "/api/v1/statements/")["count"] == 5


def test_an_organisation_that_signed_only_drafts_is_not_public_yet(api, draft):
    for url in ("", "timeline/", "cosigners/"):
        api_get(api, f"/api/v1/organizations/only-on-the-draft/{url}", status=404)
    for param in ("signed_by", "led_by"):
        api_get(api, "/api/v1/statements/", status=400, **{param: "only-on-the-draft"})
    api_get(api, "/api/v1/organizations/", status=400, cosigned_with="only-on-the-draft")
    api_get(api, "/api/v1/signatures/", status=400, organization="only-on-the-draft")
    publish(statement=draft)
    assert api_get(api, "/api/v1/organizations/only-on-the-draft/")["statement_count"] == 1


def test_the_draft_is_a_404_and_an_unknown_value_in_filters(api, draft):
    assert api_get(api, "/api/v1/statements/secret-draft/", status=404) == {
        "detail": "No Statement matches the given query."
    }
    for url in (
        "/api/v1/signatures/?statement=secret-draft",
        "/api/v1/organizations/?signed=secret-draft",
    ):
        assert api.get(url).status_code == 400


def test_a_retracted_statement_stays_public_marked_retracted(api, draft):
    retract(statement=draft, note="Withdrawn by its sponsors.")
    payload = api_get(api, "/api/v1/statements/secret-draft/")
    assert (payload["status"], payload["retraction_note"]) == (
        "retracted",
        "Withdrawn by its sponsors.",
    )


def test_private_fields_never_appear(api, draft):
    joint = Statement.objects.get(slug__startswith="2025-11-12")
    joint.notes = "STAFF-ONLY-NOTE"
    joint.save()
    contact = joint.media_contacts.get()
    contact.is_public = False
    contact.save()
    Organization.objects.filter(slug=ANCA).update(notes="STAFF-ONLY-NOTE")
    joint.coverage.update(notes="STAFF-ONLY-NOTE")
    said = (
        everything_the_api_says(api) + api.get(f"/api/v1/statements/{joint.slug}/").content.decode()
    )
    assert "STAFF-ONLY-NOTE" not in said
    assert "media@cmep.org" not in said
    assert api_get(api, f"/api/v1/statements/{joint.slug}/")["media_contacts"] == []
