"""
Kept answers (tracker.response_cache): a page or API answer is reused until a change touches
what it shows, and never after. These tests commit for real, as production does: the change
log that expires kept answers is written by the writing transaction and read after it commits.
"""

import hashlib
import re
import threading

import pytest
from django.apps import apps
from django.core.cache import caches
from django.db import connection
from django.test import Client
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
POSITION_READ = re.compile(r'FROM "statements_change" ORDER BY \S+ DESC')


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
    built = any(POSITION_READ.search(query["sql"]) for query in context.captured_queries)
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
    # The ETag is the content's digest, kept with it; a client that has it gets a 304.
    assert first["ETag"] == f'"{hashlib.md5(first.content).hexdigest()}"'
    assert fetch(client, url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


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
        "organizations.Judgement",  # staff's answers to the matcher: never shown publicly
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


# --- What expires what ------------------------------------------------------------------


@pytest.fixture
def world(seeded):
    """
    Statement A (topic A) signed by organisations 1 and 2, B (topic B) by 3, C by 4 alone,
    each public; every name unique, so that a page's content tells what it shows.
    """
    w = type("World", (), {})()
    w.topic_a = factories.topic(name="Topic Alpha", slug="topic-alpha")
    w.topic_b = factories.topic(name="Topic Beta", slug="topic-beta")
    w.a = factories.statement(title="Statement Alpha", slug="statement-alpha")
    w.b = factories.statement(title="Statement Beta", slug="statement-beta")
    w.c = factories.statement(title="Statement Gamma", slug="statement-gamma")
    w.a.topics.add(w.topic_a)
    w.b.topics.add(w.topic_b)
    w.org1, w.org2, w.org3, w.org4 = (
        factories.organization(name=f"Org Number {n}", slug=f"org-number-{n}")
        for n in ("one", "two", "three", "four")
    )
    factories.sign(w.a, w.org1, w.org2)
    factories.sign(w.b, w.org3)
    factories.sign(w.c, w.org4)
    return w


def statement_answers(slug):
    return [f"/statements/{slug}/", f"/api/v1/statements/{slug}/"]


def organization_answers(slug):
    return [
        f"/organizations/{slug}/",
        f"/organizations/{slug}/feed/",
        f"/api/v1/organizations/{slug}/",
        f"/api/v1/organizations/{slug}/timeline/",
        f"/api/v1/organizations/{slug}/cosigners/",
    ]


def topic_answers(slug):
    return [f"/topics/{slug}/", f"/topics/{slug}/feed/", f"/api/v1/topics/{slug}/"]


LISTS = [
    "/",
    "/statements/",
    "/api/v1/statements/",
    "/search/?q=statement",
    "/feeds/statements/",
    "/sitemap.xml",
    "/organizations/",
    "/api/v1/organizations/",
    "/api/v1/signatures/",
    "/topics/",
]


def keep(client, urls):
    for url in urls:
        response, _ = served(client, url)
        assert response.status_code == 200, url
        assert served(client, url)[1], f"{url} is not kept"


def assert_kept(client, urls):
    for url in urls:
        response, kept = served(client, url)
        assert response.status_code == 200 and kept, f"{url} was built again"


def assert_built(client, urls):
    for url in urls:
        assert not served(client, url)[1], f"{url} was served kept"


def test_a_drafts_edit_and_a_staff_note_expire_nothing(client, world, draft):
    urls = [
        *statement_answers(world.a.slug),
        *organization_answers(ANCA),
        *organization_answers(world.org1.slug),
        *topic_answers("gaza"),
        *LISTS,
    ]
    keep(client, urls)
    draft.title = "Secret draft, retitled"
    draft.save()
    factories.signature(statement=draft, organization=world.org1)
    world.a.notes = "Staff only: check the date with the sponsors."
    world.a.save()
    Organization.objects.filter(pk=world.org1.pk).update(notes="Staff only.")
    assert_kept(client, urls)


def test_an_edit_to_one_statement_expires_what_shows_it_and_nothing_else(client, world):
    shows_a = [
        *statement_answers(world.a.slug),
        *organization_answers(world.org1.slug),
        *organization_answers(world.org2.slug),
        *topic_answers(world.topic_a.slug),
        *LISTS,
    ]
    unrelated = [
        *statement_answers(world.b.slug),
        *organization_answers(world.org3.slug),
        *organization_answers(world.org4.slug),
        *topic_answers(world.topic_b.slug),
    ]
    keep(client, shows_a + unrelated)
    world.a.title = "Statement Alpha, Amended"
    world.a.save()
    for url in shows_a:
        assert not served(client, url)[1], url
    titled = [
        *statement_answers(world.a.slug),
        f"/organizations/{world.org1.slug}/",
        f"/organizations/{world.org2.slug}/feed/",
        f"/api/v1/organizations/{world.org1.slug}/timeline/",
        *topic_answers(world.topic_a.slug),
        *LISTS[:5],
    ]
    for url in titled:
        assert "Statement Alpha, Amended" in fetch(client, url).content.decode(), url
    assert_kept(client, unrelated)


def test_an_organisations_rename_expires_its_page_and_the_statements_it_signed(client, world):
    shows_org1 = [
        *statement_answers(world.a.slug),
        *organization_answers(world.org1.slug),
        f"/organizations/{world.org2.slug}/",  # its co-signers
        f"/api/v1/organizations/{world.org2.slug}/cosigners/",
        *LISTS,
    ]
    unrelated = [
        *statement_answers(world.b.slug),
        *organization_answers(world.org3.slug),
        f"/api/v1/organizations/{world.org2.slug}/",  # names no co-signer
        f"/api/v1/organizations/{world.org2.slug}/timeline/",
        *topic_answers(world.topic_a.slug),  # shows statements, not who signed them
    ]
    keep(client, shows_org1 + unrelated)
    with connection.cursor() as cursor:  # whatever wrote it
        cursor.execute(
            f"UPDATE {Organization._meta.db_table} SET name = %s WHERE id = %s",
            ["Org Number One, Renamed", world.org1.pk],
        )
    for url in shows_org1:
        assert not served(client, url)[1], url
    for url in (f"/api/v1/statements/{world.a.slug}/", f"/organizations/{world.org2.slug}/"):
        assert "Org Number One, Renamed" in fetch(client, url).content.decode(), url
    assert_kept(client, unrelated)


def test_a_topics_rename_expires_its_statements_and_the_topic_pages(client, world):
    keep(client, [*statement_answers(world.a.slug), *statement_answers(world.b.slug)])
    keep(client, [*topic_answers(world.topic_b.slug), *organization_answers(world.org1.slug)])
    Topic.objects.filter(pk=world.topic_a.pk).update(name="Topic Alpha, Renamed")
    for url in statement_answers(world.a.slug):
        assert "Topic Alpha, Renamed" in fetch(client, url).content.decode(), url
    # Topic pages name the other topics of their statements: any topic's change is theirs.
    assert_built(client, topic_answers(world.topic_b.slug))
    assert_kept(client, [*statement_answers(world.b.slug), *organization_answers(world.org1.slug)])


def test_publishing_expires_what_will_show_the_statement(client, world):
    draft = factories.statement(
        title="Statement Delta", slug="statement-delta", status=Statement.Status.DRAFT
    )
    draft.topics.add(world.topic_a)
    newcomer = factories.organization(name="Org Number Five", slug="org-number-five")
    factories.sign(draft, world.org1, newcomer)
    assert fetch(client, "/statements/statement-delta/").status_code == 404
    keep(client, [*organization_answers(world.org1.slug), *topic_answers(world.topic_a.slug)])
    keep(client, [*LISTS, *statement_answers(world.b.slug), *organization_answers(world.org3.slug)])
    publish(statement=draft)
    for url in ["/statements/statement-delta/", *organization_answers("org-number-five")]:
        assert fetch(client, url).status_code == 200, url
    for url in ["/", "/statements/", "/api/v1/statements/", "/feeds/statements/"]:
        assert "statement-delta" in fetch(client, url).content.decode(), url
    for url in [f"/organizations/{world.org1.slug}/", f"/topics/{world.topic_a.slug}/"]:
        assert "Statement Delta" in fetch(client, url).content.decode(), url
    assert "org-number-five" in fetch(client, "/sitemap.xml").content.decode()
    assert_kept(client, [*statement_answers(world.b.slug), *organization_answers(world.org3.slug)])


def test_deleting_a_statement_expires_what_showed_it(client, world):
    keep(client, [*statement_answers(world.a.slug), *organization_answers(world.org1.slug)])
    keep(client, [*LISTS, *topic_answers(world.topic_a.slug), *statement_answers(world.b.slug)])
    delete_statement(statement=world.a)
    for url in statement_answers(world.a.slug):
        assert fetch(client, url).status_code == 404, url
    for url in ["/", "/statements/", "/api/v1/statements/", "/sitemap.xml"]:
        assert world.a.slug not in fetch(client, url).content.decode(), url
    for url in [f"/topics/{world.topic_a.slug}/", f"/api/v1/organizations/{world.org2.slug}/"]:
        response = fetch(client, url)
        assert world.a.slug not in response.content.decode() or response.status_code == 404
    assert_kept(client, statement_answers(world.b.slug))


def test_a_slug_change_expires_the_old_address_and_whatever_links_to_it(client, world):
    keep(client, [*statement_answers(world.a.slug), *organization_answers(world.org1.slug)])
    keep(client, [*statement_answers(world.b.slug)])
    Statement.objects.filter(pk=world.a.pk).update(slug="statement-alpha-moved")
    for url in statement_answers("statement-alpha"):
        assert fetch(client, url).status_code == 404, url
    for url in statement_answers("statement-alpha-moved"):
        assert fetch(client, url).status_code == 200, url
    page = fetch(client, f"/organizations/{world.org1.slug}/").content.decode()
    assert "/statements/statement-alpha-moved/" in page
    assert "/statements/statement-alpha/" not in page
    assert_kept(client, statement_answers(world.b.slug))


def test_a_merge_expires_both_organisations_and_what_they_signed(client, world):
    keep(client, [*organization_answers(world.org1.slug), *organization_answers(world.org2.slug)])
    keep(client, [*statement_answers(world.a.slug), *statement_answers(world.b.slug)])
    keep(client, organization_answers(world.org4.slug))
    factories.sign(world.c, world.org1)
    keep(client, statement_answers(world.c.slug))
    merge_organizations(keep=world.org2, other=world.org1)
    assert fetch(client, f"/organizations/{world.org1.slug}/").status_code == 301
    assert "Statement Gamma" in fetch(client, f"/organizations/{world.org2.slug}/").content.decode()
    detail = fetch(client, f"/api/v1/statements/{world.c.slug}/").content.decode()
    assert world.org2.slug in detail and world.org1.slug not in detail
    # Organisation 4 signed C with organisation 1, now 2: its co-signers changed.
    assert world.org2.slug in fetch(client, f"/organizations/{world.org4.slug}/").content.decode()
    assert_kept(client, statement_answers(world.b.slug))


def test_a_media_contacts_organisation_with_no_public_statement_is_seen_renamed(client, world):
    speaker = factories.organization(name="Org Number Six", slug="org-number-six")
    MediaContact.objects.create(
        statement=world.a, organization=speaker, email="press@six.org", is_public=True
    )
    keep(client, statement_answers(world.a.slug))
    assert speaker.public_statement_count == 0
    speaker.name = "Org Number Six, Renamed"
    speaker.save()
    for url in statement_answers(world.a.slug):
        assert "Org Number Six, Renamed" in fetch(client, url).content.decode(), url


def test_a_filter_naming_another_record_makes_an_answer_a_list(client, world):
    url = f"/api/v1/organizations/{world.org1.slug}/timeline/?topic={world.topic_a.slug}"
    keep(client, [url])
    Topic.objects.filter(pk=world.topic_a.pk).update(slug="topic-alpha-moved")
    assert fetch(client, url).status_code == 400


# --- Never stale, whoever looks ------------------------------------------------------------


def test_a_change_committed_while_an_answer_is_built_expires_it(rf, world):
    """The position is read before building: a change committed meanwhile comes after it."""
    request = rf.get(f"/statements/{world.a.slug}/")
    key = response_cache.key_for(request, "page")
    pending = response_cache.begin(key, *response_cache.what_a_page_shows(request))
    built = fetch(Client(), f"/statements/{world.a.slug}/")  # RESPONSE_CACHE on: not kept
    Statement.objects.filter(pk=world.a.pk).update(title="Changed while it was built")
    response_cache.store(pending, built)
    assert response_cache.lookup(key) is None
    fresh = response_cache.begin(key, *response_cache.what_a_page_shows(request))
    response_cache.store(fresh, built)
    assert response_cache.lookup(key) is not None


def test_a_new_worker_checks_what_another_kept_against_the_database(client, world):
    """
    Workers share the cache and keep nothing of their own: a request served on another
    thread (its own database connection, as a worker started a second ago has), after a write
    committed on a third, sees the write, and still gets the answers it did not touch kept.
    """
    keep(client, [*statement_answers(world.a.slug), *statement_answers(world.b.slug)])
    answers = {}

    def write():
        Statement.objects.filter(pk=world.a.pk).update(title="Written by another worker")

    def read():
        for url in [*statement_answers(world.a.slug), *statement_answers(world.b.slug)]:
            answers[url] = served(Client(), url)

    for job in (write, read):
        thread = threading.Thread(target=in_its_own_connection, args=(job,))
        thread.start()
        thread.join()
    for url in statement_answers(world.a.slug):
        response, kept = answers[url]
        assert not kept and "Written by another worker" in response.content.decode(), url
    for url in statement_answers(world.b.slug):
        assert answers[url][1], url


def in_its_own_connection(job):
    try:
        job()
    finally:
        connection.close()


def test_a_position_the_log_no_longer_has_expires_every_answer_kept_at_it(client, world):
    """A log emptied (TRUNCATE), restored from an older copy or trimmed: built afresh."""
    urls = [*statement_answers(world.b.slug), *organization_answers(world.org3.slug), *LISTS]
    keep(client, urls)
    Change.objects.all().delete()
    assert_built(client, urls)
    # Nothing is kept while the log is empty: there would be no position to check against.
    Statement.objects.filter(pk=world.c.pk).update(title="Statement Gamma, logged")
    keep(client, urls)
    # Every row of a public table at once, as a restore script might: on PostgreSQL a
    # TRUNCATE, which names no rows and so empties the log; on SQLite a DELETE of every row.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE statements_statement_topics")
        else:
            cursor.execute("DELETE FROM statements_statement_topics")
    assert_built(client, urls)


def test_an_answer_still_current_after_many_changes_is_moved_forward(
    client, rf, world, monkeypatch
):
    url = f"/statements/{world.b.slug}/"
    key = response_cache.key_for(rf.get(url), "page")
    keep(client, [url])
    kept_at = caches[response_cache.ALIAS].get(key)[0]
    # (On SQLite two writes of one statement in the same millisecond log one row.)
    n = 0
    while Change.objects.filter(id__gt=kept_at).count() < changes.MOVE_AFTER:
        n += 1
        Statement.objects.filter(pk=world.c.pk).update(title=f"Statement Gamma {n}")
    assert served(client, url)[1]
    # Kept again at the newest position: the next check reads from there.
    newest = Change.objects.order_by("-id").first().id
    assert kept_at < newest == caches[response_cache.ALIAS].get(key)[0]
    monkeypatch.setattr(changes, "CHECKED_AT_MOST", 3)
    while Change.objects.filter(id__gt=newest).count() <= 3:
        n += 1
        Statement.objects.filter(pk=world.c.pk).update(title=f"Statement Gamma {n}")
    assert not served(client, url)[1]  # more changes than it is checked against: expired
