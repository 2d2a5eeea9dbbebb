"""
The benchmark's floor (bench/floor.py) answers exactly what the API answers, so comparing
their speeds is fair: same rows, same fields, same order, same counts and links.
"""

import datetime
import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.db import connection

from statements.models import Signature, Statement

from . import factories

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the floor's SQL is PostgreSQL's"
)

HOST = "testserver"
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
ANCA = "armenian-national-committee-of-america"
CMEP = "churches-for-middle-east-peace"


@pytest.fixture
def floor(db):
    """The floor app, on the test's own database connection (and so its transaction)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "floor.py"
    spec = importlib.util.spec_from_file_location("bench_floor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    connection.ensure_connection()
    module._local.conn = connection.connection
    return module


def floor_get(floor, url: str) -> tuple[int, dict]:
    path, _, query = url.partition("?")
    answer = {}

    def start_response(status, headers):
        answer["status"] = int(status.split()[0])

    body = b"".join(
        floor.application(
            {
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "HTTP_HOST": HOST,
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(),
            },
            start_response,
        )
    )
    return answer["status"], json.loads(body)


@pytest.fixture
def data(seeded, draft):
    """The seeds, a draft, a withdrawal, and enough signatures for a second page of each."""
    big = factories.statement(signatories=130, issued_on=datetime.date(2024, 5, 1))
    partner = factories.organization(name="Partner", slug="partner")
    Signature.objects.filter(statement=big).update(role=Signature.Role.LEAD, position=0)
    Signature.objects.filter(statement__slug=JOINT, organization__slug=ANCA).update(
        withdrawn_on=datetime.date(2025, 12, 1), withdrawal_reason="Changed its mind."
    )
    anca = Signature.objects.get(statement__slug=JOINT, organization__slug=ANCA).organization
    factories.signature(statement=big, organization=anca, position=131)
    for n in range(60):
        statement = factories.statement(issued_on=datetime.date(2020, 1, 1) + datetime.timedelta(n))
        factories.signature(statement=statement, organization=anca, name_as_printed="ANCA")
        factories.signature(statement=statement, organization=partner)
    return big


def deep_cursor(offset: int) -> str:
    """The cursor after the `offset`-th public signature, as the benchmark builds it."""
    import base64

    ids = Signature.objects.public().order_by("id")
    position = ids.values_list("id", flat=True)[offset]
    return base64.b64encode(f"p={position}".encode()).decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/statements/",
        f"/api/v1/statements/{JOINT}/",
        "/api/v1/statements/statement-with-many/",
        f"/api/v1/organizations/{ANCA}/timeline/",
        f"/api/v1/organizations/{CMEP}/timeline/",
        f"/api/v1/organizations/{ANCA}/cosigners/",
        f"/api/v1/organizations/{CMEP}/cosigners/",
        "/api/v1/signatures/",
        "/api/v1/signatures/?cursor={deep}",
        # Drafts and organisations known only from drafts are not found by either.
        "/api/v1/statements/secret-draft/",
        "/api/v1/organizations/only-on-the-draft/timeline/",
        "/api/v1/organizations/only-on-the-draft/cosigners/",
    ],
)
def test_the_floor_answers_what_the_api_answers(api, floor, data, url):
    Statement.objects.filter(pk=data.pk).update(slug="statement-with-many")
    url = url.format(deep=deep_cursor(70))
    response = api.get(url)
    status, payload = floor_get(floor, url)
    assert status == response.status_code
    if status == 200:
        assert payload == response.json()


@pytest.mark.parametrize("slug", [ANCA, CMEP])
def test_the_floor_reads_kept_cosigners_as_the_api_does(api, floor, data, settings, slug):
    from organizations.models import Organization
    from statements import derived

    settings.COSIGNERS_KEPT_FROM = 1
    derived.rebuild()
    assert Organization.objects.get(slug=slug).cosigners_kept
    url = f"/api/v1/organizations/{slug}/cosigners/"
    response = api.get(url)
    status, payload = floor_get(floor, url)
    assert status == response.status_code == 200
    assert payload == response.json() and payload["count"] >= 17


def test_the_floor_counts_its_queries(floor, data):
    headers = {}

    def start_response(status, response_headers):
        headers.update(response_headers)

    environ = {"PATH_INFO": f"/api/v1/statements/{JOINT}/", "QUERY_STRING": "",
               "HTTP_HOST": HOST, "wsgi.url_scheme": "http"}  # fmt: skip
    floor.application(environ, start_response)
    # the statement with its topics; signatures; public contacts; coverage; quotes
    assert headers["X-Queries"] == "5"
