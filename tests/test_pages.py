"""The public pages: what anyone can read, without an account."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organizations.models import Organization
from statements.models import Signature, Statement
from statements.publishing import retract

from . import factories

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
ANCA = "armenian-national-committee-of-america"

PAGES = [
    "/",
    "/statements/",
    "/statements/?topic=gaza&year=2025",
    f"/statements/?organization={ANCA}",
    f"/statements/{JOINT}/",
    "/organizations/",
    "/organizations/?q=ANCA",
    "/organizations/?letter=A",
    f"/organizations/{ANCA}/",
    "/topics/",
    "/topics/gaza/",
    "/search/?q=peacekeeping",
    "/search/?q=ANCA",
    "/feeds/statements/",
    f"/organizations/{ANCA}/feed/",
    "/topics/gaza/feed/",
    "/sitemap.xml",
]


def text(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_every_page_type_renders(client, seeded, url):
    assert text(client, url)


@pytest.mark.parametrize("url", [p for p in PAGES if "feed" not in p and "sitemap" not in p])
def test_every_page_has_a_title_description_and_open_graph_meta(client, seeded, url):
    html = text(client, url)
    assert re.search(r"<title>[^<]+</title>", html)
    for meta in ('name="description"', 'property="og:title"', 'property="og:description"',
                 'property="og:type"', 'property="og:url"'):  # fmt: skip
        assert re.search(rf'<meta {meta} content="[^"]+">', html), (url, meta)


def test_the_statement_page_shows_leads_signatories_and_sources(client, seeded):
    html = text(client, f"/statements/{JOINT}/")
    leads = html[html.index("Led by") : html.index(">Signatories</h2>")]
    assert "A New Policy" in leads and "Armenian National Committee of America (ANCA)" in leads
    printed = re.findall(r'<li><a href="/organizations/[^"]+/">([^<]+)</a>', html)
    assert len(printed) == 18
    assert printed[-1] == "YUSRA Action"
    assert "USCPR Action" in printed
    assert "Politico&#x27;s National Security Daily" in html and "first reported" in html
    assert "media@cmep.org" in html and "(202) 543-1222" in html
    assert "Aram Hamparian, ANCA Executive Director" in html
    assert f"/api/v1/signatures/?statement={JOINT}&amp;format=csv" in html


def test_a_withdrawn_signature_stays_on_the_statement_page_marked(client, seeded):
    signature = Signature.objects.get(statement__slug=JOINT, organization__slug="dawn")
    signature.withdrawn_on = datetime.date(2025, 11, 20)
    signature.save()
    html = text(client, f"/statements/{JOINT}/")
    assert 'withdrew <time datetime="2025-11-20">20 November 2025</time>' in html


def test_the_organisation_page_shows_names_positions_timeline_and_cosigners(client, seeded):
    html = text(client, "/organizations/churches-for-middle-east-peace/")
    assert "CMEP" in html and "(acronym)" in html
    assert html.count('href="/statements/2025-') == 5
    assert "<svg" in html and "Statements signed per year" in html
    cosigners = re.findall(r"<td><a href=\"/organizations/([^/]+)/\">", html)
    assert len(cosigners) == 10 and ANCA in cosigners


def test_drafts_never_appear_on_any_page_feed_or_sitemap(client, draft):
    said = "".join(text(client, url) for url in [*PAGES, "/search/?q=secret", "/search/?q=only"])
    assert "secret-draft" not in said and "Secret draft" not in said
    assert "only-on-the-draft" not in said and "Only On The Draft" not in said
    for url in ("/statements/secret-draft/", "/organizations/only-on-the-draft/",
                "/organizations/only-on-the-draft/feed/"):  # fmt: skip
        text(client, url, status=404)


def test_counts_on_pages_leave_drafts_out(client, draft):
    html = text(client, "/")
    assert "<strong>5</strong> statements" in html
    assert "<strong>18</strong> organisations" in html
    assert "<strong>22</strong> signatures" in html
    assert "— 1 statement<" in text(client, "/organizations/?q=ANCA")


def test_a_retracted_statement_keeps_its_page_with_a_notice(client, draft):
    retract(statement=draft, note="Withdrawn by its sponsors.")
    html = text(client, "/statements/secret-draft/")
    assert "This statement was retracted." in html and "Withdrawn by its sponsors." in html


@pytest.mark.parametrize(
    ("url", "status"),
    [("/statements/?year=abc", 400), ("/statements/?topic=nope", 400),
     ("/statements/?organization=nobody", 400), ("/statements/?page=999", 200),
     ("/statements/nope/", 404), ("/organizations/nobody/", 404), ("/topics/nope/", 404),
     ("/search/?q=%00", 400), ("/statements/?topic=gaza%00", 400),
     ("/organizations/?q=" + "x" * 5000, 200),
     ("/topics/nope/feed/", 404)],
)  # fmt: skip
def test_bad_input_is_a_clear_4xx_or_an_empty_answer(client, seeded, url, status):
    text(client, url, status=status)


def test_injected_html_is_escaped(client, seeded):
    statement = Statement.objects.get(slug=JOINT)
    statement.ask = "<script>alert(1)</script>"
    statement.save()
    html = text(client, f"/statements/{JOINT}/")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_every_page_answers_conditional_gets(client, seeded):
    for url in PAGES:
        first = client.get(url)
        etag = first.get("ETag")
        assert etag, url
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304, url


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_statement_page_queries_do_not_grow_with_signatories(client, db):
    small, large = factories.statement(signatories=2), factories.statement(signatories=80)
    assert count_queries(client, f"/statements/{large.slug}/") == count_queries(
        client, f"/statements/{small.slug}/"
    )


def test_organisation_page_queries_do_not_grow_with_positions(client, db):
    few, many = factories.organization(), factories.organization()
    for org, n in ((few, 1), (many, 60)):
        for _ in range(n):
            statement = factories.statement(signatories=3)
            factories.signature(statement=statement, organization=org, position=9)
    assert count_queries(client, f"/organizations/{many.slug}/") == count_queries(
        client, f"/organizations/{few.slug}/"
    )


@pytest.mark.parametrize("url", ["/", "/statements/", "/organizations/", "/topics/"])
def test_list_page_queries_do_not_grow_with_rows(client, db, url):
    topic = factories.topic()
    factories.statement(signatories=3).topics.add(topic)
    few = count_queries(client, url)
    for _ in range(30):
        factories.statement(signatories=3).topics.add(topic)
    assert count_queries(client, url) == few


@pytest.mark.parametrize(
    ("query", "found"),
    [("peacekeeping", JOINT), ("Azerbaijani military", JOINT),
     ("21Wilberforce", "2025-10-14-frank-wolf-religious-freedom-award"),
     ("hostages", "2025-10-13-peace-deal-hostages-detainees")],
)  # fmt: skip
def test_search_finds_statements_by_their_words(client, seeded, query, found):
    html = text(client, f"/search/?q={query}")
    statements = html[html.index("<h2>Statements") :]
    assert f'href="/statements/{found}/"' in statements


def test_search_finds_organisations_by_every_name(client, seeded):
    for query in ("ANCA", "Armenian National Committee", "WILPF", "US Campaign For Palestinian"):
        html = text(client, f"/search/?q={query}")
        organisations = html[html.index("<h2>Organisations") : html.index("<h2>Statements")]
        assert organisations.count('href="/organizations/') == 1, query


def test_a_topic_used_only_by_drafts_is_not_public(client, draft):
    secret = factories.topic(name="Secret topic", slug="secret-topic")
    draft.topics.add(secret)
    for url in ("/topics/", "/statements/", "/sitemap.xml", "/api/v1/topics/"):
        assert "secret-topic" not in text(client, url).lower().replace("secret topic", "")
        assert "Secret topic" not in text(client, url)
    text(client, "/topics/secret-topic/", status=404)
    text(client, "/topics/secret-topic/feed/", status=404)


def test_only_web_addresses_become_links(client, seeded):
    statement = Statement.objects.get(slug=JOINT)
    statement.coverage.filter(outlet="Ynet News").update(url="javascript:alert(document.domain)")
    Organization.objects.filter(slug=ANCA).update(website="javascript:alert(1)")
    statement.coverage.filter(headline__startswith="Gaza peacekeeping plan").update(
        url="https://example.org/baku"
    )
    html = text(client, f"/statements/{JOINT}/") + text(client, f"/organizations/{ANCA}/")
    assert "javascript:" not in html
    assert 'href="https://example.org/baku"' in html


@pytest.mark.parametrize(
    "printed",
    ["Armenian National Committee of America (ANCA)", "American Muslims for Palestine (AMP)",
     "Women's International League for Peace and Freedom, US Section (WILPF US)"],
)  # fmt: skip
def test_an_organisation_is_found_by_the_name_printed_on_a_statement(client, seeded, printed):
    html = text(client, "/search/?q=" + printed.replace("&", "%26"))
    organisations = html[html.index("<h2>Organisations") : html.index("<h2>Statements")]
    assert organisations.count('href="/organizations/') == 1


@pytest.mark.parametrize(
    ("wanted", "status", "says"),
    [("ANCA", 200, "Signed by"), ("churches-for-middle-east-peace", 200, "Signed by"),
     ("Nobody At All", 400, "No organisation is called"),
     ("Palestin", 400, "Several organisations match")],
)  # fmt: skip
def test_statements_can_be_filtered_by_an_organisation_name(client, seeded, wanted, status, says):
    assert says in text(client, f"/statements/?organization={wanted}", status=status)


@pytest.mark.parametrize(("year", "status"), [("0000", 400), ("0001", 200), ("9999", 200)])
def test_impossible_years_are_a_clear_error(client, seeded, year, status):
    assert client.get(f"/statements/?year={year}").status_code == status


def test_error_pages_are_pages_of_the_site(client, db, settings):
    settings.DEBUG = False
    html = text(client, "/statements/no-such-statement/", status=404)
    assert "Page not found" in html and 'role="search"' in html and "<main" in html
    assert re.search(r'<meta name="description" content="[^"]+">', html)


@pytest.mark.parametrize("url", ["/search/?q=ANCA", "/topics/gaza/"])
def test_search_and_topic_page_queries_do_not_grow(client, db, url):
    topic = factories.topic(slug="gaza")
    org = factories.organization(name="Armenian National Committee of America", acronym="ANCA")
    for n in (1, 30):
        while Statement.objects.count() < n:
            statement = factories.statement(signatories=2, title="ANCA statement")
            statement.topics.add(topic)
            factories.signature(statement=statement, organization=org, position=3)
        counted = count_queries(client, url)
        if n == 1:
            few = counted
    assert counted == few
