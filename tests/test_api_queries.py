"""Every endpoint costs the same number of queries for 1 result as for 50."""

import pytest

from statements.models import CoverageLink, MediaContact, Quote

from . import factories


def one_org_on(statements, org):
    for statement in statements:
        factories.signature(statement=statement, organization=org)


def statements_with_topics(n):
    topic = factories.topic()
    made = [factories.statement(signatories=2) for _ in range(n)]
    for statement in made:
        statement.topics.add(topic)
    return made


@pytest.mark.parametrize("n", [1, 50])
def test_statement_list(api, django_assert_num_queries, n):
    statements_with_topics(n)
    # count; the page with lead and signatory counts; the page's topics
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/statements/", {"page_size": 50}).json()["results"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_statement_detail(api, django_assert_num_queries, n):
    statement = factories.statement(signatories=n)
    statement.topics.add(factories.topic())
    orgs = [s.organization for s in statement.signatures.all()]
    for org in orgs:
        link = CoverageLink.objects.create(statement=statement, outlet="O")
        MediaContact.objects.create(statement=statement, organization=org, email="a@b.org")
        Quote.objects.create(statement=statement, organization=org, speaker="S", text="T",
                             source=link)  # fmt: skip
    # the statement; topics; signatures with organisations; public contacts with
    # organisations; coverage; quotes with organisations and sources
    with django_assert_num_queries(6):
        payload = api.get(f"/api/v1/statements/{statement.slug}/").json()
    assert len(payload["signatures"]) == len(payload["quotes"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_organization_list(api, django_assert_num_queries, n):
    factories.statement(signatories=n)
    # count; the page with statement counts
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/organizations/", {"page_size": 50}).json()["results"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_organization_detail(api, django_assert_num_queries, n):
    org = factories.organization()
    one_org_on([factories.statement() for _ in range(n)], org)
    for i in range(n):
        org.other_names.create(name=f"Alias {i}")
    # the organisation with its counts and dates; its other names
    with django_assert_num_queries(2):
        payload = api.get(f"/api/v1/organizations/{org.slug}/").json()
    assert payload["statement_count"] == len(payload["other_names"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_timeline(api, django_assert_num_queries, n):
    org = factories.organization()
    one_org_on([factories.statement() for _ in range(n)], org)
    # the organisation (with its count of public statements); the page with statements
    with django_assert_num_queries(2):
        payload = api.get(f"/api/v1/organizations/{org.slug}/timeline/", {"page_size": 50})
    assert len(payload.json()["results"]) == n and payload.json()["count"] == n
    # filtered, the count is counted
    with django_assert_num_queries(3):
        payload = api.get(
            f"/api/v1/organizations/{org.slug}/timeline/", {"issued_after": "2000-01-01"}
        )
    assert len(payload.json()["results"]) == n and payload.json()["count"] == n


@pytest.mark.parametrize("n", [1, 50])
def test_cosigners(api, django_assert_num_queries, n):
    statement = factories.statement(signatories=n + 1)
    org = statement.signatures.first().organization
    one_org_on([factories.statement()], org)
    # the organisation; count; the page of the co-signing table; the page's organisations
    with django_assert_num_queries(4):
        payload = api.get(f"/api/v1/organizations/{org.slug}/cosigners/", {"page_size": 50})
    assert len(payload.json()["results"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_signatures(api, django_assert_num_queries, n):
    factories.statement(signatories=n)
    # the page with statements and organisations (keyset pages need no count)
    with django_assert_num_queries(1):
        payload = api.get("/api/v1/signatures/", {"page_size": 50})
    assert len(payload.json()["results"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_topics(api, django_assert_num_queries, n):
    for _ in range(n):
        statements_with_topics(1)
    # count; the page with statement counts
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/topics/", {"page_size": 50}).json()["results"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_topic_detail(api, django_assert_num_queries, n):
    topic = statements_with_topics(n)[0].topics.get()
    # the topic with its count; statements per year; the latest statements
    with django_assert_num_queries(3):
        payload = api.get(f"/api/v1/topics/{topic.slug}/").json()
    assert len(payload["statements"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_csv_downloads_stream_in_constant_queries(api, django_assert_num_queries, n):
    statements_with_topics(n)
    # the statements with counts; their topics (prefetched per chunk of 500)
    with django_assert_num_queries(2):
        response = api.get("/api/v1/statements/", {"format": "csv"})
        lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == n + 1
