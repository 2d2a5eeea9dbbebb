"""
The whole API, fuzzed from its own OpenAPI schema by schemathesis with every check it has:
no server error; every answer (status, content type, headers, body) is what the schema
documents; every request the schema calls valid is answered, and every one it calls invalid
is refused.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.throttling import AnonRateThrottle

from . import schemathesis_hooks  # noqa: F401 - valid requests name records that exist

# Generating the schema reads no data, so it can be loaded when the tests are collected.
# Django's WSGI application itself, not tracker.wsgi: importing that would mark this test
# process (and every process it starts) as a web server with a statement timeout.
application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "1000000/minute", raising=False)


@pytest.fixture
def keep_the_test_transaction():
    """
    Django closes the database connection when a request ends unless it is its own test
    client making the request; schemathesis calls the WSGI application directly, so keep
    the connection (and the test's transaction) open as the test client would.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Web addresses Django's URLField accepts that are not URIs as they stand (RFC 3986): a
# Unicode host and path, a bare %, characters a URI must escape.
ADDRESSES = {
    "website": (
        "https://bücher.example/straße?q=a|b",
        "https://xn--bcher-kva.example/stra%C3%9Fe?q=a%7Cb",
    ),
    "source_url": (
        "https://example.org/100%/[draft]^{1}",
        "https://example.org/100%25/%5Bdraft%5D%5E%7B1%7D",
    ),
    "coverage": ("http://例え.jp/パス#über", "http://xn--r8jz45g.jp/%E3%83%91%E3%82%B9#%C3%BCber"),
}


@pytest.fixture
def addresses_that_are_not_uris(seeded):
    """CMEP's website, the joint statement's source and its first coverage link, as above."""
    from organizations.models import Organization
    from statements.models import Statement

    cmep = Organization.objects.get(slug="churches-for-middle-east-peace")
    joint = Statement.objects.get(slug="2025-11-12-azerbaijan-isf-gaza-joint-statement")
    coverage = joint.coverage.order_by("position", "id").first()
    for record, field, key in (
        (cmep, "website", "website"),
        (joint, "source_url", "source_url"),
        (coverage, "url", "coverage"),
    ):
        setattr(record, field, ADDRESSES[key][0])
        record.full_clean()  # accepted as they are
        record.save()


def test_stored_web_addresses_are_given_as_uris(api, addresses_that_are_not_uris):
    import jsonschema_rs

    from .conftest import api_get

    uri = jsonschema_rs.validator_for({"format": "uri"}, validate_formats=True)
    cmep = api_get(api, "/api/v1/organizations/churches-for-middle-east-peace/")
    listed = api_get(api, "/api/v1/organizations/", q="CMEP")["results"][0]
    joint = api_get(api, "/api/v1/statements/2025-11-12-azerbaijan-isf-gaza-joint-statement/")
    given = {
        "website": (cmep["website"], listed["website"]),
        "source_url": (joint["source_url"],),
        "coverage": (joint["coverage"][0]["url"],),
    }
    for key, values in given.items():
        assert set(values) == {ADDRESSES[key][1]}
        assert uri.is_valid(ADDRESSES[key][1])


@pytest.mark.parametrize(
    "address",
    [
        "https://www.cmep.org/",
        "https://example.org/a%20b/c?d=%C3%A9&e=f,g;h#i",
        "http://user:pw@[::1]:8000/x",
        "",
    ],
)
def test_a_web_address_that_is_a_uri_is_given_as_stored(address):
    from tracker.api import as_uri

    assert as_uri(address) == address


# Addresses Django's URLField accepts whose exact URI matters: (stored, given by the API).
EXACT_ADDRESSES = [
    # UTS #46 non-transitional, as browsers resolve it: ß stays ß (xn--strae-oqa), where
    # IDNA 2003 would make it "ss" (strasse.de), another domain, maybe someone else's.
    ("https://straße.de/aktion", "https://xn--strae-oqa.de/aktion"),
    ("https://Straße.example/", "https://xn--strae-oqa.example/"),
    ("https://faß.ExAmPlE/", "https://xn--fa-hia.example/"),  # a WHATWG URL test
    # A final sigma kept: IDNA 2003 makes it a sigma, xn--4xa.
    ("https://ς.example/ς", "https://xn--3xa.example/%CF%82"),
    # A name IDNA 2008 refuses (a zero-width joiner between Latin letters) is not made into
    # another one (IDNA 2003 drops the joiner: ab.example) but percent-encoded as it is.
    ("https://a\u200db.example/", "https://a%E2%80%8Db.example/"),
    # A bare % anywhere, userinfo included, is escaped; an escape is kept.
    ("https://us%er@example.org/", "https://us%25er@example.org/"),
    ("https://us%C3%A9r:p%w@example.org/", "https://us%C3%A9r:p%25w@example.org/"),
    ("https://üser|1@example.org/", "https://%C3%BCser%7C1@example.org/"),
    (
        "https://example.org/?q=100%&r=a%20b#50%[x]",
        "https://example.org/?q=100%25&r=a%20b#50%25%5Bx%5D",
    ),
]


@pytest.mark.parametrize(("stored", "given"), EXACT_ADDRESSES)
def test_a_web_address_is_given_as_a_uri_that_leads_where_browsers_go(api, seeded, stored, given):
    from urllib.parse import unquote, urlsplit

    import jsonschema_rs

    from organizations.models import Organization

    from .conftest import api_get

    cmep = Organization.objects.get(slug="churches-for-middle-east-peace")
    cmep.website = stored
    cmep.full_clean()  # accepted as it is
    cmep.save()
    answer = api_get(api, "/api/v1/organizations/churches-for-middle-east-peace/")
    assert answer["website"] == given
    assert jsonschema_rs.validator_for({"format": "uri"}, validate_formats=True).is_valid(given)
    host = urlsplit(given).hostname
    if "%" in host:  # percent-encoded: the very name stored
        assert unquote(host) == urlsplit(stored).hostname


def comma_separated_lists():
    """(path, name, schema) of every parameter given as a comma-separated list."""
    for path, operations in schema.raw_schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            rules = parameter["schema"]
            # An array not repeated (explode false) is comma-separated.
            if rules.get("type") == "array" and parameter.get("explode") is False:
                yield path, parameter["name"], rules


def test_a_comma_separated_list_the_schema_allows_is_answered_and_one_it_refuses_is_refused(
    api, seeded
):
    import jsonschema_rs

    checked = 0
    for path, name, rules in comma_separated_lists():
        valid = jsonschema_rs.validator_for(rules).is_valid
        choices = rules["items"]["enum"]
        # The longest list the schema allows: every choice once.
        assert valid(choices)
        assert len(",".join(choices)) <= 500
        assert api.get(path, {name: ",".join(choices)}).status_code == 200, (path, name)
        # One choice fifty times, 549 characters or so: too long for the API, and for the schema.
        fifty = [max(choices, key=len)] * 50
        assert not valid(fifty)
        assert api.get(path, {name: ",".join(fifty)}).status_code == 400, (path, name)
        # A choice twice: refused, by both.
        twice = [choices[0], choices[-1], choices[0]]
        assert not valid(twice)
        response = api.get(path, {name: ",".join(twice)})
        assert response.status_code == 400, (path, name)
        assert response.json() == {name: [f"Give each field once, not {choices[0]} again."]}
        checked += 1
    assert checked == 2  # statements and organizations: ordering


def query_parameters():
    """(path, operation's parameters) of every list in the API's schema."""
    document = schema.raw_schema
    for path, operations in document["paths"].items():
        if "{" not in path or path.endswith(("timeline/", "cosigners/")):
            yield (
                path.replace("{slug}", "churches-for-middle-east-peace"),
                {
                    p["name"]: p["schema"]
                    for p in operations["get"]["parameters"]
                    if p["in"] == "query"
                },
            )


def test_the_schema_says_which_values_are_refused_and_the_api_agrees(api, seeded):
    import re

    checked = 0
    for path, parameters in query_parameters():
        for name, rules in parameters.items():
            rules = rules.get("items", rules)
            if rules.get("type") != "string" or {"enum", "format"} & set(rules):
                continue  # an empty value is none of the choices, and no date
            response = api.get(path, {name: ""})
            if rules.get("minLength") == 1:
                assert response.status_code == 400, (path, name)
                assert response.json() == {name: ["Give a value, or leave the parameter out."]}
            else:
                assert name == "q" and response.status_code == 200, (path, name)
            assert not re.search(rules["pattern"], "a\x00b")
            assert api.get(path, {name: "a\x00b"}).status_code == 400, (path, name)
            assert rules["maxLength"] == 500
            assert api.get(path, {name: "a" * 501}).status_code == 400, (path, name)
            checked += 1
    assert checked >= 10


def test_the_schema_numbers_pages_from_1_as_the_api_does(api, seeded):
    paged = [(path, p["page"]) for path, p in query_parameters() if "page" in p]
    assert len(paged) == 5
    for path, page in paged:
        assert page["minimum"] == 1
        assert api.get(path, {"page": 1}).status_code == 200
        assert api.get(path, {"page": 0}).status_code == 404
        # Past the last page: a 404 up to the highest the schema allows, and after it.
        assert api.get(path, {"page": page["maximum"]}).status_code == 404
        assert api.get(path, {"page": 10**500}).status_code == 400  # too long


@schema.parametrize()
@settings(
    max_examples=60,
    # The same examples on every run, so that CI is repeatable; raise max_examples or drop
    # this locally to explore further.
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_the_promises_of_its_schema(
    case, addresses_that_are_not_uris, no_rate_limit, keep_the_test_transaction
):
    case.call_and_validate()


# Sequences of calls that follow the links between operations the schema implies.
APIWorkflow = schema.as_state_machine()


def test_the_api_keeps_its_promises_across_calls(
    addresses_that_are_not_uris, no_rate_limit, keep_the_test_transaction
):
    APIWorkflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
