"""
Kept answers (tracker.response_cache): a page or API answer is reused until a change touches
what it shows, and never after. These tests commit for real, as production does: the change
log that expires kept answers is written by the writing transaction and read after it commits.
"""

import re
import threading

import pytest
from django.apps import apps
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import AnonRateThrottle

from organizations.models import Organization
from statements import change_triggers, changes
from statements.deleting import delete_statement
from statements.merging import merge_organizations
from statements.models import Change, MediaContact, Statement, Topic
from statements.publishing import publish, unpublish
from tracker import response_cache

from . import factories

pytestmark = pytest.mark.django_db(transaction=True)

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
ANCA = "armenian-national-committee-of-america"
ADDRESSES = [
    f"/statements/{JOINT}/",
    f"/organizations/{ANCA}/",
    "/",
    f"/api/v1/statements/{JOINT}/",
    "/api/v1/statements/",
    f"/api/v1/organizations/{ANCA}/cosigners/",
]
# What a built answer does first and a kept one never: read the log's newest position.
POSITION_READ = 'ORDER BY "statements_change"."id" DESC'


@pytest.fixture(autouse=True)
def kept(settings, seeded):
    settings.RESPONSE_CACHE = True


def fetch(client, url, queries=None, **extra):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **extra)
        if response.streaming:
            response.content_bytes = b"".join(response.streaming_content)
    if queries is not None:
        queries.append(len(context.captured_queries))
    return response


def served(client, url) -> tuple[object, bool]:
    """The answer to `url`, and whether it was a kept one (it read no position to build)."""
    with CaptureQueriesContext(connection) as context:
        response = fetch(client, url)
    built = any(POSITION_READ in query["sql"] for query in context.captured_queries)
    return response, not built


@pytest.mark.parametrize("url", ADDRESSES)
def test_a_second_request_is_answered_from_the_kept_answers_with_one_query(client, url):
    queries = []
    first = fetch(client, url, queries)
    second = fetch(client, url, queries)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert queries[0] > 1 and queries[1] == 1  # the changes since the answer's position
    for header in ("Content-Type", "X-Frame-Options", "ETag"):
        assert second.get(header) == first.get(header), header


def test_every_api_endpoint_keeps_its_answers(client):
    """Each endpoint the API's root lists, not only the ones above: a new one keeps answers too."""
    endpoints = client.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert set(endpoints) == {"statements", "organizations", "signatures", "topics"}
    for url in endpoints.values():
        queries = []
        assert fetch(client, url, queries).status_code == 200
        assert fetch(client, url, queries).status_code == 200
        assert queries[0] > 1 and queries[1] == 1, url


def test_every_change_is_seen_at_once_however_it_was_made(client):
    statement = Statement.objects.get(slug=JOINT)
    for url in ADDRESSES[:2] + ADDRESSES[3:5]:
        assert fetch(client, url).status_code == 200
    statement.title = "A title changed by staff"
    statement.save()
    for url in (f"/statements/{JOINT}/", "/api/v1/statements/", f"/api/v1/statements/{JOINT}/"):
        assert "A title changed by staff" in fetch(client, url).content.decode(), url
    # Written outside the product, in plain SQL: the database's triggers log it.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Organization._meta.db_table} SET name = %s WHERE slug = %s",
            ["Renamed In SQL", ANCA],
        )
    assert "Renamed In SQL" in fetch(client, f"/organizations/{ANCA}/").content.decode()
    assert "Renamed In SQL" in fetch(client, f"/api/v1/statements/{JOINT}/").content.decode()
    # A statement's topics (a table of their own) and its coverage are public data too.
    statement.topics.add(factories.topic(name="A Brand New Topic"))
    assert "A Brand New Topic" in fetch(client, f"/statements/{JOINT}/").content.decode()
    statement.coverage.create(outlet="The Kept Answer Gazette", headline="Covered")
    assert "The Kept Answer Gazette" in fetch(client, f"/statements/{JOINT}/").content.decode()


def test_an_unpublished_statement_is_gone_from_every_kept_answer(client):
    lone = factories.statement(title="Soon a draft again", slug="soon-a-draft")
    insider = factories.organization(name="Known Only From It", slug="known-only-from-it")
    factories.signature(statement=lone, organization=insider)
    urls = [
        "/statements/soon-a-draft/",
        "/organizations/known-only-from-it/",
        "/api/v1/statements/soon-a-draft/",
        "/api/v1/organizations/known-only-from-it/",
    ]
    for url in urls:
        assert fetch(client, url).status_code == 200, url
    assert "soon-a-draft" in fetch(client, "/api/v1/statements/").content.decode()
    unpublish(statement=lone)
    for url in urls:
        assert fetch(client, url).status_code == 404, url
    for url in ("/api/v1/statements/", "/statements/", "/"):
        assert "soon-a-draft" not in fetch(client, url).content.decode(), url


def test_staff_are_never_given_a_kept_page_nor_leave_theirs(client, django_user_model, draft):
    url = f"/statements/{draft.slug}/"
    assert fetch(client, url).status_code == 404
    staff = django_user_model.objects.create_superuser("staff", "staff@example.org", "pw")
    client.force_login(staff)
    preview = fetch(client, url)
    assert preview.status_code == 200 and b"Draft preview" in preview.content
    home = fetch(client, "/")
    assert home.status_code == 200
    client.logout()
    client.cookies.clear()
    assert fetch(client, url).status_code == 404


def test_rate_limits_still_count_kept_answers(api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)
    for _ in range(3):
        assert api.get("/api/v1/statements/").status_code == 200
    assert api.get("/api/v1/statements/").status_code == 429


def test_csv_downloads_and_errors_are_not_kept(api):
    for url in ("/api/v1/statements/?format=csv", "/api/v1/statements/?page=99"):
        queries = []
        first = fetch(api, url, queries)
        fetch(api, url, queries)
        assert queries[1] == queries[0] > 1, url
        assert first.status_code in (200, 404)


def test_every_public_table_writes_the_change_log():
    """
    A new public table must log its changes (statements.change_triggers.TABLES): otherwise
    its changes would be served stale. tests/test_change_log.py checks that the triggers are
    there, on every table named.
    """
    # Derived data and bookkeeping: nothing public is read from them.
    derived = {
        "organizations.Cosigning",
        "statements.Change",
        "statements.ImportedRecord",
        "statements.Withholding",  # the draft a withheld name waits for; the name has the flag
    }
    ours = set()
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        if model._meta.app_label not in ("statements", "organizations") or label in derived:
            continue
        if not label.split(".")[1].startswith("Historical"):
            ours.add(model._meta.db_table)
    assert ours == set(change_triggers.TABLES)


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


@pytest.mark.parametrize(
    ("path", "prefix", "kind"),
    [
        # What a server that lets the client set SCRIPT_NAME hands on for "/statements/" with
        # SCRIPT_NAME "/statements": the rest of the path, "/" (the home page).
        ("/", "/statements", "text/plain"),
        ("/", "/feeds/statements", "text/plain"),
        ("/", f"/organizations/{ANCA}", "text/plain"),
        ("/", "/topics", "text/plain"),
        ("/statements/", "/api/v1", "application/json"),
    ],
)
def test_a_script_prefix_that_is_not_the_sites_is_refused_and_poisons_nothing(
    client, settings, path, prefix, kind
):
    address = prefix + path
    settings.RESPONSE_CACHE = False
    expected = fetch(client, address)
    settings.RESPONSE_CACHE = True
    refused = fetch(client, path, SCRIPT_NAME=prefix)
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith(kind)
    assert "SCRIPT_NAME" in refused.content.decode() and repr(prefix) in refused.content.decode()
    # Every visitor of the address the two make together gets the page at that address.
    for _ in range(2):
        answer = fetch(client, address)
        assert answer.status_code == expected.status_code == 200
        assert answer["Content-Type"] == expected["Content-Type"]
        assert answer.content == expected.content


def test_answers_rendered_under_another_script_prefix_are_kept_apart(client, settings):
    """
    Even where a server's script prefix were taken, the home page under "/statements" and the
    list at "/statements/" share an address but not a kept answer.
    """
    refusal = "tracker.middleware.RejectForeignScriptPrefixMiddleware"
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != refusal]
    home = fetch(client, "/", SCRIPT_NAME="/statements")
    assert home.status_code == 200 and _title(home) == "Coalition statement tracker"
    listing = fetch(client, "/statements/")
    assert listing.status_code == 200 and _title(listing).startswith("Statements")
