"""
Hostile input, swept across every surface: the partner API, the public pages, the admin and
the file imports.

The requirement: a test suite sends NUL bytes, overlong strings, 2**63 ids, impossible dates,
SQL and HTML injection strings, page_size=10**9, unknown parameters, and malformed CSV, paste
and import files to every API endpoint, page and admin form. Each gets a 4xx or a form error,
nothing is written, and injected HTML is escaped on public pages.

How this module reads it:

- A value that is malformed for where it is sent (a NUL byte, an overlong value, a 2**63,
  negative or non-numeric id or page, an impossible date such as 2025-02-30 or 0000-00-00, an
  unknown choice or slug, page_size=10**9, an unknown query parameter on the API) gets a 4xx
  (the API: a JSON body saying what is wrong; pages: 400 or 404) or an admin form error, and
  NOTHING is written to the database.
- Text that is legitimate as text (an SQL-injection string or an HTML string typed into a
  free-text search box or a free-text admin field) is treated as text: searches answer 200
  with no extra results; staff who save it in a text field get it stored verbatim, and every
  public page shows it escaped (the raw `<script>` never appears in the HTML; `&lt;script&gt;`
  does). Public pages ignore unknown query parameters (links shared with utm_ tracking
  parameters must work): they answer 200, exactly as without them. The API refuses unknown
  parameters with 400.
- Never a 5xx anywhere.

A page number that is not one (abc, -1, 2**63) is a 404 on the public pages; a well-formed one
past the end shows the last page, so that old links still land (tests/test_pages.py).

Each surface is swept by a few tests that loop over endpoints, parameters and values and
collect every problem, so one run reports them all (and the module stays fast). The API is
called with a partner token, so that its rate limit for anonymous clients never turns a
request into a 429 (which would not count as passing). API endpoints come from the OpenAPI
schema and pages from tracker/urls.py, so a new endpoint or page is swept (or, for a page,
the sweep fails until its parameters are listed here).
"""

import datetime
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.forms.models import InlineForeignKeyField
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organizations.models import Organization
from statements.importing import ImportDataError, import_paths
from statements.models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic

from . import factories
from .admin_forms import add_inline_row, form_data

# --- The hostile values ----------------------------------------------------------------------

NUL = "a\x00b"
OVERLONG = "x" * 5000
HUGE_TEXT = "x" * 100_000
TOO_BIG = str(2**63)  # one more than the largest 64-bit key
TOO_SMALL = str(-(2**63) - 1)
MINUS_ONE = "-1"
IMPOSSIBLE_DATES = ["2025-02-30", "0000-00-00", "99999-12-31"]
SQL_OR = "' OR '1'='1' --"
SQL_DROP = "1; DROP TABLE statements_statement; --"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

HOSTILE = [
    NUL,
    OVERLONG,
    TOO_BIG,
    TOO_SMALL,
    MINUS_ONE,
    *IMPOSSIBLE_DATES,
    SQL_OR,
    SQL_DROP,
    SCRIPT,
    IMG,
]
# What must never reach an HTML page unescaped, and what shows that it was escaped.
RAW_MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&lt;img src=x onerror=alert(1)&gt;"

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
API_LIMIT = 500  # characters of a query value the API reads (tracker.api.ReadOnlyViewSet)


# --- Helpers ---------------------------------------------------------------------------------


class Problems(list):
    """Every problem a sweep finds, reported together."""

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.append(problem)

    def assert_none(self, what: str) -> None:
        listed = "\n  ".join(self[:60])
        more = f"\n  …and {len(self) - 60} more" if len(self) > 60 else ""
        assert not self, f"{what}: {len(self)} problem(s):\n  {listed}{more}"


def shown(value: str) -> str:
    """A hostile value, short enough for a failure message."""
    return repr(value if len(value) <= 40 else f"{value[:20]}…({len(value)} chars)")


def server_error(response) -> str:
    exc = getattr(response, "exc_info", None)
    return f" ({exc[0].__name__}: {str(exc[1])[:120]})" if exc else ""


def tracked_tables() -> list[str]:
    """
    Every table of the product (its models, their history, many-to-many tables) and the admin
    log: a write anywhere there adds or removes a row, or adds a history row.
    """
    models = [m for m in apps.get_models() if m._meta.app_label in ("statements", "organizations")]
    tables = {m._meta.db_table for m in [*models, LogEntry]}
    for model in models:
        for m2m in model._meta.local_many_to_many:
            tables.add(m2m.remote_field.through._meta.db_table)
    return sorted(tables)


def row_counts() -> dict[str, int]:
    """The row count of every tracked table, in one query."""
    tables = tracked_tables()
    quote_name = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote_name(table)})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def changed_tables(before: dict[str, int]) -> dict[str, tuple[int, int]]:
    after = row_counts()
    return {
        table: (before[table], after[table]) for table in before if before[table] != after[table]
    }


def no_raw_markup(problems: Problems, label: str, response) -> None:
    body = response.content.decode("utf-8", "replace")
    for raw in RAW_MARKUP:
        problems.expect(raw not in body, f"{label}: the raw {raw!r} is in the page")


@pytest.fixture
def partner_api(db, django_user_model):
    """An API client with a partner token: not rate-limited, so no answer is a 429."""
    user = django_user_model.objects.create_user("partner")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.raise_request_exception = False  # a 500 is a finding, reported with the rest
    return client


@pytest.fixture
def anonymous(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def staff(staff_client):
    staff_client.raise_request_exception = False
    return staff_client


# --- The partner API -------------------------------------------------------------------------


@dataclass
class Endpoint:
    template: str  # /api/v1/statements/{slug}/
    path_params: dict[str, str]  # name -> a value that exists
    query_params: list[str]
    paginated_by: str | None  # "page" or "cursor"

    def url(self, **path) -> str:
        values = {**self.path_params, **path}
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], self.template)

    @property
    def is_list(self) -> bool:
        return "page_size" in self.query_params


def public_signature_id() -> str:
    return str(Signature.objects.public().first().pk)


# Path parameters whose schema gives no example: how to name a record that exists.
PATH_EXAMPLES = {("/api/v1/signatures/{id}/", "id"): public_signature_id}
# Query parameters that take free text: a hostile string there is a search, not an error.
FREE_TEXT_PARAMS = {"q"}


def api_endpoints(client) -> list[Endpoint]:
    """Every GET operation of the API, from its OpenAPI schema."""
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    endpoints = []
    for template, operations in response.json()["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        path_params, query_params = {}, []
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "query":
                query_params.append(name)
            elif parameter["in"] == "path":
                examples = [e["value"] for e in parameter.get("examples", {}).values()]
                example = PATH_EXAMPLES.get((template, name))
                assert examples or example, f"{template}: give an existing {name} in PATH_EXAMPLES"
                path_params[name] = examples[0] if examples else example()
        paging = (
            "page" if "page" in query_params else "cursor" if "cursor" in query_params else None
        )
        endpoints.append(Endpoint(template, path_params, sorted(query_params), paging))
    return endpoints


def result_count(body) -> int | None:
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return len(body["results"])
    return None


def check_api_refusal(problems: Problems, label: str, response, allowed=(400, 404)) -> None:
    """A 4xx in `allowed`, with a JSON body saying what is wrong."""
    status = response.status_code
    problems.expect(status < 500, f"{label}: {status}{server_error(response)}")
    if status >= 500:
        return
    problems.expect(status in allowed, f"{label}: {status}, expected one of {allowed}")
    if status >= 400:
        is_json = response["Content-Type"].startswith("application/json")
        problems.expect(is_json, f"{label}: the error is {response['Content-Type']}, not JSON")
        if is_json:
            body = response.json()
            problems.expect(isinstance(body, dict) and body, f"{label}: the error says nothing")


def check_api_search(problems: Problems, label: str, response) -> None:
    """Text in a search parameter: 200, and no results (nothing in the data says it)."""
    if response.status_code != 200:
        check_api_refusal(problems, label, response, allowed=(200,))
        return
    count = result_count(response.json())
    problems.expect(count == 0, f"{label}: a search for hostile text found {count} result(s)")


def test_every_api_endpoint_refuses_hostile_path_and_query_values(seeded, partner_api):
    problems = Problems()
    before = row_counts()
    endpoints = api_endpoints(partner_api)
    assert len(endpoints) >= 10, [e.template for e in endpoints]
    for endpoint in endpoints:
        # The valid request answers, so every refusal below is the hostile value's doing.
        baseline = partner_api.get(endpoint.url())
        problems.expect(
            baseline.status_code == 200, f"GET {endpoint.url()}: {baseline.status_code}"
        )
        for name in endpoint.path_params:
            for value in HOSTILE:
                url = endpoint.url(**{name: quote(value, safe="")})
                label = f"GET {endpoint.template} with {name}={shown(value)}"
                check_api_refusal(problems, label, partner_api.get(url), allowed=(404,))
        for name in endpoint.query_params:
            for value in HOSTILE:
                label = f"GET {endpoint.template}?{name}={shown(value)}"
                response = partner_api.get(endpoint.url(), {name: value})
                if name in FREE_TEXT_PARAMS and "\x00" not in value and len(value) <= API_LIMIT:
                    check_api_search(problems, label, response)
                else:
                    check_api_refusal(problems, label, response)
    problems.expect(not changed_tables(before), f"the API wrote: {changed_tables(before)}")
    problems.assert_none("hostile values sent to the API")


def test_every_api_endpoint_refuses_huge_pages_unknown_parameters_and_writes(seeded, partner_api):
    problems = Problems()
    before = row_counts()
    for endpoint in api_endpoints(partner_api):
        url = endpoint.url()
        cases = [
            ({"utm_source": "newsletter"}, (400,)),
            ({SCRIPT: "1"}, (400,)),
            ({"page_size": str(10**9)}, (400,)),
            ({"page": TOO_BIG}, (404,) if endpoint.paginated_by == "page" else (400,)),
            ({"page_size": "0"}, (400,)),
        ]
        if endpoint.is_list:
            cases.append(({"format": "csv", "page_size": str(10**9)}, (400,)))
        for params, allowed in cases:
            label = f"GET {endpoint.template} with {params}"
            check_api_refusal(problems, label, partner_api.get(url, params), allowed=allowed)
        # The API is read-only: whatever is sent, nothing is written.
        for method in ("post", "put", "patch", "delete"):
            response = getattr(partner_api, method)(
                url, {"slug": SCRIPT, "title": SQL_DROP, "id": TOO_BIG}, format="json"
            )
            label = f"{method.upper()} {endpoint.template}"
            check_api_refusal(problems, label, response, allowed=(405,))
    # The schema and docs are not data endpoints: they may ignore parameters they do not use.
    for url in ("/api/v1/schema/", "/api/v1/docs/"):
        for value in (NUL, OVERLONG, TOO_BIG, SQL_OR, SCRIPT):
            for params in ({"format": value}, {"lang": value}, {"utm_source": value}):
                response = partner_api.get(url, params)
                label = f"GET {url} with {params}"
                allowed = (400,) if "\x00" in value else (200, 400, 404)
                problems.expect(response.status_code in allowed, f"{label}: {response.status_code}")
                if response["Content-Type"].startswith("text/html"):
                    no_raw_markup(problems, label, response)
    problems.expect(not changed_tables(before), f"the API wrote: {changed_tables(before)}")
    problems.assert_none("paging, unknown parameters and writes sent to the API")


def test_a_cursor_that_is_not_one_is_refused(partner_api):
    response = partner_api.get("/api/v1/signatures/", {"cursor": SQL_OR})
    assert response.status_code == 404, response.content[:200]


# --- Public pages ----------------------------------------------------------------------------


@dataclass
class Page:
    path: str  # with {} for the slug, if any
    slug: str = ""  # a slug that exists
    params: list[str] = field(default_factory=list)  # the query parameters the view reads
    free_text: str = ""  # a parameter searched as text

    def url(self, slug: str | None = None) -> str:
        return self.path.format(quote(self.slug if slug is None else slug, safe=""))


# Every page of tracker/urls.py (test_every_public_page_is_swept keeps this list complete).
PAGES = {
    "home": Page("/"),
    "statement-list": Page("/statements/", params=["topic", "organization", "year", "page"]),
    "statement-detail": Page("/statements/{}/", JOINT),
    "organization-list": Page("/organizations/", params=["q", "letter", "page"], free_text="q"),
    "organization-detail": Page("/organizations/{}/", "dawn"),
    "topic-list": Page("/topics/"),
    "topic-detail": Page("/topics/{}/", "gaza", params=["page"]),
    "search": Page("/search/", params=["q"], free_text="q"),
    "feed-statements": Page("/feeds/statements/"),
    "feed-organization": Page("/organizations/{}/feed/", "dawn"),
    "feed-topic": Page("/topics/{}/feed/", "gaza"),
    "health": Page("/health/"),
    "sitemap": Page("/sitemap.xml", params=["p"]),
}
TRACKING = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": SCRIPT}


def found_on_page(response) -> int:
    """How many records a search or list page found, from its context."""
    context = response.context
    if "page" in context and hasattr(context["page"], "paginator"):
        return context["page"].paginator.count
    return sum(len(context[key] or []) for key in ("statements", "organizations"))


def test_every_public_page_is_swept():
    """A new page in tracker/urls.py must be added to PAGES with the parameters it reads."""
    names = {
        pattern.name
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLPattern) and pattern.name
    }
    assert names == set(PAGES), f"pages not swept: {names - set(PAGES)}"
    for name, page in PAGES.items():
        route = reverse(name, args=[page.slug] if page.slug else [])
        assert route == page.url(), (name, route)


def test_public_pages_answer_hostile_values_with_200_400_or_404_and_never_echo_markup(
    seeded, anonymous
):
    problems = Problems()
    before = row_counts()
    for name, page in PAGES.items():
        for value in HOSTILE:
            if page.slug:
                label = f"{name}: slug {shown(value)}"
                response = anonymous.get(page.url(value))
                problems.expect(response.status_code == 404, f"{label}: {response.status_code}")
                no_raw_markup(problems, label, response)
            for param in page.params:
                label = f"{name}: ?{param}={shown(value)}"
                response = anonymous.get(page.url(), {param: value})
                status = response.status_code
                problems.expect(
                    status in (200, 400, 404), f"{label}: {status}{server_error(response)}"
                )
                no_raw_markup(problems, label, response)
                if "\x00" in value:
                    problems.expect(status == 400, f"{label}: a NUL byte gave {status}")
                elif param == "page":  # not a page number (see the module docstring)
                    problems.expect(status == 404, f"{label}: {status}")
                elif param == page.free_text and status == 200:
                    found = found_on_page(response)
                    problems.expect(found == 0, f"{label}: the search found {found}")
                elif name == "statement-list" and param != "page":
                    # A filter it cannot use is said, not dropped to list every statement.
                    problems.expect(
                        status == 400 and 'role="alert"' in response.content.decode(),
                        f"{label}: {status}, and no notice",
                    )
    problems.expect(not changed_tables(before), f"pages wrote: {changed_tables(before)}")
    problems.assert_none("hostile values sent to the public pages")


def test_public_pages_ignore_tracking_parameters(seeded, anonymous):
    problems = Problems()
    for name, page in PAGES.items():
        plain = anonymous.get(page.url())
        tracked = anonymous.get(page.url(), TRACKING)
        problems.expect(plain.status_code == 200, f"{name}: {plain.status_code} without them")
        problems.expect(tracked.status_code == 200, f"{name}: {tracked.status_code} with them")
        same = plain.content == tracked.content
        problems.expect(same, f"{name}: the page changes with tracking parameters")
    problems.assert_none("links with tracking parameters")


# --- Admin forms -----------------------------------------------------------------------------

ID_VALUES = [TOO_BIG, TOO_SMALL, MINUS_ONE, SQL_DROP, SQL_OR, "9" * 5000]
DATE_VALUES = [*IMPOSSIBLE_DATES, MINUS_ONE, SQL_OR, OVERLONG]
TIME_VALUES = ["25:61:00", MINUS_ONE, SQL_OR]
CHOICE_VALUES = [SQL_OR, SCRIPT, TOO_BIG, OVERLONG]
SLUG_VALUES = [SCRIPT, IMG, SQL_OR, SQL_DROP, OVERLONG]
URL_VALUES = [SCRIPT, IMG, SQL_OR, "javascript:alert(1)", "https://example.org/" + OVERLONG]
EMAIL_VALUES = [SCRIPT, IMG, SQL_OR, OVERLONG + "@example.org"]
PARTIAL_DATE_VALUES = [*IMPOSSIBLE_DATES, "2025-13", MINUS_ONE, OVERLONG]
# Not 2**63 forms: Django would build and redraw 2,000 empty rows (its ceiling) before
# refusing, which takes seconds; see the report.
FORM_COUNT_VALUES = ["abc", MINUS_ONE, SQL_OR]


@dataclass
class Slot:
    """One posted field to attack, the values malformed for it, and where its error shows."""

    key: str
    error_key: str
    values: list[str]
    companions: dict[str, str] = field(default_factory=dict)


def slots_for(name: str, form_field, key: str) -> list[Slot]:
    """The attacks that are malformed for this form field's type (NUL is sent to every key)."""
    if isinstance(form_field, forms.SplitDateTimeField):
        return [
            Slot(f"{key}_0", key, DATE_VALUES, {f"{key}_1": "12:00"}),
            Slot(f"{key}_1", key, TIME_VALUES, {f"{key}_0": "2025-11-12"}),
        ]
    kinds = [
        ((InlineForeignKeyField, forms.ModelChoiceField, forms.IntegerField), ID_VALUES),
        ((forms.DateField,), DATE_VALUES),
        ((forms.ChoiceField,), CHOICE_VALUES),
        ((forms.SlugField,), SLUG_VALUES),
        ((forms.URLField,), URL_VALUES),
        ((forms.EmailField,), EMAIL_VALUES),
        ((forms.BooleanField, forms.FileField), []),  # any text ticks a box; files: below
    ]
    for classes, values in kinds:
        if isinstance(form_field, classes):
            return [Slot(key, key, values)] if values else []
    if name == "date_text":  # a partial date, typed as text
        return [Slot(key, key, PARTIAL_DATE_VALUES)]
    if isinstance(form_field, forms.CharField) and form_field.max_length:
        return [Slot(key, key, [OVERLONG])]
    return []  # free text of any length: see the stored-markup test


def field_slots(response, rows: dict[str, int]) -> list[Slot]:
    """The fields of an admin change form: the main form's, and one row of each inline's."""
    slots = []
    main = response.context["adminform"].form
    for name, form_field in main.fields.items():
        slots += slots_for(name, form_field, main.add_prefix(name))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        row = rows.get(formset.prefix, 0)
        for name, form_field in formset.empty_form.fields.items():
            slots += slots_for(name, form_field, f"{formset.prefix}-{row}-{name}")
    return slots


def management_slots(response) -> list[Slot]:
    """The inlines' row counts: tampering with one makes its whole formset an error."""
    return [
        Slot(
            f"{inline.formset.prefix}-{count}",
            f"{inline.formset.prefix}-__all__",
            FORM_COUNT_VALUES,
        )
        for inline in response.context["inline_admin_formsets"]
        for count in ("TOTAL_FORMS", "INITIAL_FORMS")
    ]


def errors_shown(response) -> dict[str, list[str]]:
    """The errors of a redrawn admin form, by posted name (`<prefix>-__all__` for a formset)."""
    found = {}
    main = response.context["adminform"].form
    for name, messages in main.errors.items():
        found[main.add_prefix(name)] = list(messages)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        if formset.non_form_errors():
            found[f"{formset.prefix}-__all__"] = list(formset.non_form_errors())
        for form in formset.forms:
            for name, messages in form.errors.items():
                found[form.add_prefix(name)] = list(messages)
    return found


def sweep_admin_form(problems: Problems, client, url: str, data: dict, slots, label: str):
    """
    Post `data` with the slots' values a round at a time: round i sends every slot's i-th
    value at once. A form checks every field, so each attacked field must show its own error;
    and nothing may be written.
    """
    for round_ in range(max(len(slot.values) for slot in slots)):
        posted, attacked = dict(data), []
        for slot in slots:
            if round_ < len(slot.values):
                posted.update(slot.companions)
                posted[slot.key] = slot.values[round_]
                attacked.append(slot)
        before = row_counts()
        response = client.post(url, posted)
        where = f"{label}, round {round_ + 1}"
        problems.expect(not changed_tables(before), f"{where}: wrote {changed_tables(before)}")
        if response.status_code != 200:
            problems.append(f"{where}: {response.status_code}{server_error(response)}")
            continue
        errors = errors_shown(response)
        for slot in attacked:
            problems.expect(
                slot.error_key in errors,
                f"{label}: {slot.key}={shown(posted[slot.key])} was taken without an error "
                f"(errors on: {sorted(errors)[:8]})",
            )
        no_raw_markup(problems, where, response)


def sweep_nul_bytes(problems: Problems, client, url: str, data: dict, label: str):
    """A NUL byte in any field is refused with 400, and nothing is written."""
    before = row_counts()
    for key in sorted(data):
        status = client.post(url, {**data, key: NUL}).status_code
        problems.expect(status == 400, f"{label}: a NUL byte in {key} gave {status}")
    problems.expect(not changed_tables(before), f"{label}: NUL bytes wrote")


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def baselines() -> dict:
    """For every admin add form, valid values; a dict adds a row to the inline it names."""
    statement = Statement.objects.get(slug=JOINT)
    letter = Statement.objects.get(slug="2025-11-04-multi-faith-global-letter")
    unsigned = Organization.objects.exclude(signatures__statement=letter).order_by("pk").first()
    dawn = Organization.objects.get(slug="dawn")
    return {
        "statements.statement": {
            "title": "Hostile baseline",
            "slug": "hostile-baseline",
            "status": "draft",
            "issued_on": "2025-11-12",
            "signatures-0-organization": str(dawn.pk),
            "signatures-0-position": "1",
            "media_contacts": {"email": "press@example.org", "position": "1", "is_public": "on"},
            "coverage": {
                "outlet": "Outlet",
                "date_text": "2025-11",
                "kind": "news",
                "position": "1",
            },
            "quotes": {"speaker": "Speaker", "text": "Words.", "position": "1"},
        },
        "statements.topic": {"name": "Hostile topic", "slug": "hostile-topic"},
        "statements.signature": {
            "statement": str(letter.pk),
            "organization": str(unsigned.pk),
            "role": "signatory",
            "position": "99",
        },
        "statements.mediacontact": {
            "statement": str(statement.pk),
            "organization": str(dawn.pk),
            "email": "press@example.org",
            "position": "1",
        },
        "statements.coveragelink": {
            "statement": str(statement.pk),
            "outlet": "Outlet",
            "url": "https://example.org/story",
            "date_text": "2025-11-13",
            "kind": "news",
            "position": "9",
        },
        "statements.quote": {
            "statement": str(statement.pk),
            "speaker": "Speaker",
            "organization": str(dawn.pk),
            "source": str(statement.coverage.first().pk),
            "text": "Words.",
            "position": "9",
        },
        "organizations.organization": {
            "name": "Hostile Baseline Organisation",
            "slug": "hostile-baseline-organisation",
            "website": "https://example.org/",
            "founded_year": "1990",
            "kind": "advocacy",
            "other_names-0-name": "HBO",
            "other_names-0-kind": "acronym",
        },
        "organizations.othername": {"organization": str(dawn.pk), "name": "Dawn Again"},
        "organizations.formerslug": {"organization": str(dawn.pk), "slug": "hostile-former"},
    }


def app_model_admins() -> dict:
    return {
        model._meta.label_lower: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("statements", "organizations")
    }


def check_baseline_saves(problems: Problems, client, url: str, data: dict, label: str) -> None:
    """The form as the sweep sent it, minus the hostile values, saves: so the sweep can fail."""
    before = row_counts()
    response = client.post(url, data)
    said = errors_shown(response) if response.status_code == 200 else response.status_code
    problems.expect(response.status_code == 302, f"{label}: the valid form was refused: {said}")
    problems.expect(changed_tables(before), f"{label}: the valid form wrote nothing")


def test_every_admin_add_form_refuses_malformed_values_and_writes_nothing(
    seeded, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    problems = Problems()
    wanted = baselines()
    assert set(app_model_admins()) == set(wanted), "give every admin form a baseline"
    for label, values in wanted.items():
        url = add_url(apps.get_model(label))
        page = staff.get(url)
        assert page.status_code == 200, (url, page.status_code)
        data = form_data(page.content.decode())
        rows = {}
        for key, value in values.items():
            if isinstance(value, dict):  # a row for an inline that shows none
                rows[key] = int(data[f"{key}-TOTAL_FORMS"])
                add_inline_row(data, key, **value)
            else:
                data[key] = value
        label = f"add {label}"
        sweep_admin_form(problems, staff, url, data, field_slots(page, rows), label)
        if page.context["inline_admin_formsets"]:
            sweep_admin_form(problems, staff, url, data, management_slots(page), label)
        sweep_nul_bytes(problems, staff, url, data, label)
        check_baseline_saves(problems, staff, url, data, label)
    problems.assert_none("malformed values in the admin add forms")


def test_a_statement_change_form_refuses_malformed_values_and_writes_nothing(
    seeded, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_DOCUMENT_SIZE = 1024
    statement = factories.statement(signatories=1)
    coverage = CoverageLink.objects.create(statement=statement, outlet="Outlet", date=None)
    Quote.objects.create(statement=statement, speaker="S", text="Words.", source=coverage)
    MediaContact.objects.create(statement=statement, email="press@example.org")
    url = change_url(statement)
    page = staff.get(url)
    data = form_data(page.content.decode())
    problems = Problems()
    # Row 0 of each inline is a saved row: its hidden id and parent are attacked too.
    sweep_admin_form(problems, staff, url, data, field_slots(page, {}), "change statement")
    sweep_admin_form(problems, staff, url, data, management_slots(page), "change statement")
    sweep_nul_bytes(problems, staff, url, data, "change statement")
    # A document of the wrong kind or over the size limit is a form error, and is not stored.
    for name, content in [
        ("statement.exe", b"MZ\x90\x00"),
        ("statement.pdf", b"%PDF-1.4\n" + b"x" * 2048),
        (f"{SCRIPT}.html", b"<script>alert(1)</script>" * 100),
    ]:
        before = row_counts()
        response = staff.post(url, {**data, "document": SimpleUploadedFile(name, content)})
        label = f"document {name!r}"
        shows_error = response.status_code == 200 and "document" in errors_shown(response)
        problems.expect(shows_error, f"{label}: {response.status_code}, no error on document")
        problems.expect(not changed_tables(before), f"{label}: wrote {changed_tables(before)}")
    problems.expect(not any(tmp_path.rglob("*.*")), "a refused document was stored")
    # Free text has no length of its own, but a request over Django's limit (2.5 MB) is a 400.
    before = row_counts()
    status = staff.post(url, {**data, "full_text": "x" * 3_000_000}).status_code
    problems.expect(status == 400, f"a 3 MB text gave {status}")
    problems.expect(not changed_tables(before), f"a 3 MB text wrote {changed_tables(before)}")
    # The form as sent, with a 100,000-character text (text, not an attack), saves verbatim.
    check_baseline_saves(problems, staff, url, {**data, "full_text": HUGE_TEXT}, "change statement")
    statement.refresh_from_db()
    problems.expect(statement.full_text == HUGE_TEXT, "a long text was not kept verbatim")
    problems.assert_none("malformed values in a statement change form")


def changelist_params(html: str) -> set[str]:
    """The query parameters the change list's own links use (its filters and sorting)."""
    names = set()
    for query in re.findall(r'href="\?([^"#]*)"', html):
        for pair in query.replace("&amp;", "&").split("&"):
            if pair:
                names.add(pair.split("=", 1)[0])
    return names


def check_admin_answer(problems: Problems, label: str, response, allowed=(200, 302, 400, 404)):
    status = response.status_code
    problems.expect(status in allowed, f"{label}: {status}{server_error(response)}")
    if status == 200:
        no_raw_markup(problems, label, response)


def test_admin_lists_refuse_or_ignore_hostile_parameters_and_write_nothing(seeded, staff):
    problems = Problems()
    before = row_counts()
    for label, model_admin in app_model_admins().items():
        opts = model_admin.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        page = staff.get(url)
        assert page.status_code == 200, (url, page.status_code)
        # Search, sorting, paging and every filter the list offers; unknown ones as well.
        params = changelist_params(page.content.decode()) | {"q", "p", "o", "all", "utm_source"}
        if model_admin.date_hierarchy:
            params |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        for param in sorted(params):
            for value in [SCRIPT, TOO_BIG, "2025-02-30"]:
                response = staff.get(url, {param: value})
                check_admin_answer(problems, f"{label} list ?{param}={shown(value)}", response)
            status = staff.get(url, {param: NUL}).status_code
            problems.expect(status == 400, f"{label} list ?{param}=NUL: {status}")
        for extra in ({"_to_field": SCRIPT}, {"p": str(10**9)}, {"q": OVERLONG}):
            check_admin_answer(problems, f"{label} list {extra}", staff.get(url, extra))
        # Actions on tampered selections: a message, never a 500, nothing changed.
        actions = [*model_admin.get_actions(page.wsgi_request), SCRIPT]
        for selected in [TOO_BIG, TOO_SMALL, "abc", SQL_DROP]:
            for action in actions:
                data = {"action": action, "_selected_action": [selected], "post": "yes"}
                check_admin_answer(
                    problems, f"{label} action {action} on {shown(selected)}", staff.post(url, data)
                )
        for bad in [TOO_BIG, SCRIPT]:
            for view in ("change", "delete", "history"):
                object_url = f"{url}{quote(bad, safe='')}/{view}/"
                check_admin_answer(
                    problems, f"{label} {view} of {shown(bad)}", staff.get(object_url)
                )
            check_admin_answer(
                problems,
                f"POST {label} delete of {shown(bad)}",
                staff.post(f"{url}{quote(bad, safe='')}/delete/", {"post": "yes"}),
            )
    problems.expect(not changed_tables(before), f"admin lists wrote: {changed_tables(before)}")
    problems.assert_none("hostile parameters on the admin lists")


def test_admin_tools_refuse_hostile_ids_and_write_nothing(seeded, staff):
    problems = Problems()
    before = row_counts()
    statement = Statement.objects.get(slug=JOINT)
    dawn = Organization.objects.get(slug="dawn")
    codepink = Organization.objects.get(slug="codepink")
    merge = reverse("admin:organizations_organization_merge")
    history = reverse("admin:statements_statement_history", args=[statement.pk])
    duplicates = reverse("admin:organizations_organization_duplicates")
    for bad in [TOO_BIG, TOO_SMALL, MINUS_ONE, "abc", SQL_DROP, SCRIPT, OVERLONG]:
        # Merging: back to the list with a message, nothing merged.
        for a, b in [(bad, dawn.pk), (dawn.pk, bad), (bad, bad)]:
            pair = f"a={shown(str(a))} b={shown(str(b))}"
            check_admin_answer(
                problems, f"merge {pair}", staff.get(merge, {"a": a, "b": b}), allowed=(302,)
            )
            check_admin_answer(
                problems,
                f"POST merge {pair}",
                staff.post(merge, {"a": a, "b": b, "keep": "a"}),
                allowed=(302,),
            )
        check_admin_answer(
            problems,
            f"POST merge keep={shown(bad)}",
            staff.post(merge, {"a": dawn.pk, "b": codepink.pk, "keep": bad}),
            allowed=(302,),
        )
        # History, and reverting to a version that is not one (a "/" in the value makes
        # another address, which the admin redirects).
        check_admin_answer(problems, f"history ?p={shown(bad)}", staff.get(history, {"p": bad}))
        version = f"{history}{quote(bad, safe='')}/"
        check_admin_answer(
            problems, f"version {shown(bad)}", staff.get(version), allowed=(302, 404)
        )
        check_admin_answer(
            problems,
            f"revert to version {shown(bad)}",
            staff.post(version, {"title": "Reverted"}),
            allowed=(302, 404),
        )
        signatories = f"/admin/statements/statement/{quote(bad, safe='')}/signatories/"
        check_admin_answer(
            problems, f"signatories of {shown(bad)}", staff.get(signatories), allowed=(404,)
        )
        check_admin_answer(
            problems,
            f"POST signatories of {shown(bad)}",
            staff.post(signatories, {"text": "DAWN", "role": "signatory"}),
            allowed=(404,),
        )
        check_admin_answer(
            problems,
            f"duplicates ?x={shown(bad)}",
            staff.get(duplicates, {"x": bad, "p": bad}),
            allowed=(200,),
        )
        for model, field_name in [
            ("signature", "organization"),
            ("signature", "statement"),
            ("quote", "source"),
        ]:
            ask = {"app_label": "statements", "model_name": model, "field_name": field_name}
            for key in ("term", "page", "app_label", "model_name", "field_name"):
                check_admin_answer(
                    problems,
                    f"autocomplete {model}.{field_name} {key}={shown(bad)}",
                    staff.get("/admin/autocomplete/", {**ask, key: bad}),
                    allowed=(200, 403, 404),
                )
    problems.expect(not changed_tables(before), f"admin tools wrote: {changed_tables(before)}")
    problems.assert_none("hostile ids sent to the admin tools")


def post_login(username: str):
    client = Client(raise_request_exception=False)
    response = client.post("/admin/login/", {"username": username, "password": SQL_OR})
    return client, response


def test_the_admin_login_refuses_hostile_credentials(db):
    problems = Problems()
    for username, status in [(NUL, 400), (SQL_OR, 200), (SCRIPT, 200), (IMG, 200)]:
        client, response = post_login(username)
        label = f"login as {shown(username)}"
        problems.expect(response.status_code == status, f"{label}: {response.status_code}")
        if response.status_code == 200:
            problems.expect("errornote" in response.content.decode(), f"{label}: no error")
            no_raw_markup(problems, label, response)
        problems.expect("_auth_user_id" not in client.session, f"{label}: logged in")
    problems.assert_none("hostile logins")


def test_an_overlong_login_name_is_a_form_error_and_not_recorded(db):
    from axes.models import AccessAttempt

    _, response = post_login(OVERLONG)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not AccessAttempt.objects.exists()


# --- Markup saved by staff, shown to the public ----------------------------------------------

MARKUP = f"{SCRIPT} {IMG}"


def test_markup_saved_by_staff_is_stored_verbatim_and_escaped_everywhere(
    seeded, staff, anonymous, partner_api
):
    dawn = Organization.objects.get(slug="dawn")
    # A topic, an organisation and a published statement, each through its admin form.
    url = add_url(Topic)
    data = {
        **form_data(staff.get(url).content.decode()),
        "name": SCRIPT,
        "slug": "evil-topic",
        "description": MARKUP,
    }
    assert staff.post(url, data).status_code == 302
    topic = Topic.objects.get(slug="evil-topic")

    url = add_url(Organization)
    data = form_data(staff.get(url).content.decode())
    data.update(
        name=MARKUP,
        slug="evil-org",
        acronym=IMG,
        description=MARKUP,
        city=SCRIPT,
        country=IMG,
        notes=MARKUP,
    )
    data.update({"other_names-0-name": SCRIPT, "other_names-0-kind": "variant"})
    assert staff.post(url, data).status_code == 302
    organization = Organization.objects.get(slug="evil-org")

    url = add_url(Statement)
    data = form_data(staff.get(url).content.decode())
    data.update(
        title=MARKUP,
        slug="evil-statement",
        status="published",
        issued_on="2030-01-01",
        place=IMG,
        ask=MARKUP,
        summary=MARKUP,
        full_text=MARKUP,
        topics=str(topic.pk),
    )
    data.update(
        {
            "signatures-0-organization": str(organization.pk),
            "signatures-0-role": "lead",
            "signatures-0-name_as_printed": MARKUP,
            "signatures-0-position": "1",
        }
    )
    add_inline_row(
        data,
        "signatures",
        organization=str(dawn.pk),
        role="signatory",
        name_as_printed=IMG,
        position="2",
    )
    add_inline_row(
        data,
        "media_contacts",
        organization=str(organization.pk),
        name=MARKUP,
        phone=SCRIPT,
        is_public="on",
        position="1",
    )
    add_inline_row(
        data,
        "coverage",
        outlet=SCRIPT,
        headline=MARKUP,
        url="https://example.org/story",
        kind="news",
        position="1",
    )
    add_inline_row(
        data,
        "quotes",
        speaker=SCRIPT,
        speaker_title=IMG,
        text=MARKUP,
        organization=str(organization.pk),
        position="1",
    )
    response = staff.post(url, data)
    assert response.status_code == 302, errors_shown(response)
    statement = Statement.objects.get(slug="evil-statement")

    # Stored verbatim: markup in a text field is text.
    stored = {
        "topic name": (topic.name, SCRIPT),
        "organisation name": (organization.name, MARKUP),
        "acronym": (organization.acronym, IMG),
        "other name": (organization.other_names.get().name, SCRIPT),
        "title": (statement.title, MARKUP),
        "ask": (statement.ask, MARKUP),
        "place": (statement.place, IMG),
        "name as printed": (statement.signatures.get(position=1).name_as_printed, MARKUP),
        "contact": (statement.media_contacts.get().name, MARKUP),
        "coverage": (statement.coverage.get().headline, MARKUP),
        "quote": (statement.quotes.get().text, MARKUP),
    }
    assert {k: v for k, (v, want) in stored.items() if v != want} == {}

    problems = Problems()
    pages = [
        "/",
        "/statements/",
        "/statements/evil-statement/",
        "/statements/?topic=evil-topic",
        "/statements/?organization=evil-org",
        "/organizations/",
        "/organizations/evil-org/",
        "/organizations/dawn/",
        "/organizations/?q=alert",
        "/search/?q=alert",
        "/topics/",
        "/topics/evil-topic/",
        "/feeds/statements/",
        "/organizations/evil-org/feed/",
        "/topics/evil-topic/feed/",
    ]
    for page in pages:
        response = anonymous.get(page)
        problems.expect(response.status_code == 200, f"{page}: {response.status_code}")
        no_raw_markup(problems, page, response)
        body = response.content.decode()
        problems.expect(
            ESCAPED_SCRIPT in body or ESCAPED_IMG in body,
            f"{page}: shows no escaped markup, so the test proves nothing there",
        )
    sitemap = anonymous.get("/sitemap.xml").content.decode()
    problems.expect("/statements/evil-statement/" in sitemap, "the sitemap lacks the statement")
    # Staff pages show it escaped too (the product's own admin templates included).
    merge = reverse("admin:organizations_organization_merge")
    for page in [
        change_url(statement),
        change_url(organization),
        reverse("admin:statements_statement_changelist"),
        reverse("admin:organizations_organization_changelist") + "?q=alert",
        reverse("admin:statements_statement_history", args=[statement.pk]),
        reverse("admin:statements_statement_signatories", args=[statement.pk]),
        reverse("admin:organizations_organization_duplicates"),
        f"{merge}?a={organization.pk}&b={dawn.pk}",
    ]:
        response = staff.get(page)
        problems.expect(response.status_code == 200, f"{page}: {response.status_code}")
        no_raw_markup(problems, page, response)
    # The API gives the text as it is, in JSON or CSV, never as a page a browser would run.
    for url, media_type in [
        ("/api/v1/statements/evil-statement/", "application/json"),
        ("/api/v1/organizations/evil-org/", "application/json"),
        ("/api/v1/statements/?format=csv", "text/csv"),
        ("/api/v1/signatures/?format=csv&statement=evil-statement", "text/csv"),
    ]:
        response = partner_api.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        problems.expect(
            response["Content-Type"].startswith(media_type), f"{url}: {response['Content-Type']}"
        )
        problems.expect(response.get("X-Content-Type-Options") == "nosniff", f"{url}: sniffable")
        problems.expect(SCRIPT in body.decode(), f"{url}: the text is not given verbatim")
    assert partner_api.get("/api/v1/statements/evil-statement/").json()["title"] == MARKUP
    problems.assert_none("markup saved by staff")


# --- Malformed files -------------------------------------------------------------------------


def utf16(text: str) -> bytes:
    return text.encode("utf-16")  # with its byte-order mark, as Excel writes "Unicode text"


SIGNATORY_FILES = [
    # (what, csv bytes or None, pasted text, what the error says)
    ("binary garbage", bytes(range(256)) * 4, "", "not UTF-8"),
    ("a UTF-16 file", utf16("name\nDAWN\n"), "", "not UTF-8"),
    ("a NUL byte in the header", b"na\x00me\nDAWN\n", "", "contains a NUL byte"),
    ("markup as a column", f"name,{SCRIPT}\nDAWN,x\n".encode(), "", "unknown column"),
    ("SQL as a column", f"name,{SQL_DROP}\nDAWN,x\n".encode(), "", "unknown column"),
    ("a stray quote", b'name\n"DAWN"x\n', "", "not valid CSV"),
    ("an unclosed quote", b'name,role\n"DAWN,lead\nCODEPINK,signatory\n', "", "not valid CSV"),
    ("2**63 as a date", f"name,joined_on\nDAWN,{TOO_BIG}\n".encode(), "", "joined_on"),
    ("0000-00-00", b"name,joined_on\nDAWN,0000-00-00\n", "", "joined_on"),
    ("99999-12-31", b"name,withdrawn_on\nDAWN,99999-12-31\n", "", "withdrawn_on"),
    ("SQL as a role", f"name,role\nDAWN,{SQL_OR}\n".encode(), "", "the role must be"),
    ("an overlong name", f"name\n{OVERLONG}\n".encode(), "", "over 300 characters"),
    ("a cell over the CSV field limit", b"name\n" + b"x" * 200_000 + b"\n", "", "not valid CSV"),
    ("an empty file", b"\n\n", "", "The file is empty"),
    ("a file over the size limit", b"name\n" + b"Organisation\n" * 50_000, "", "the limit is"),
    ("an overlong pasted line", None, OVERLONG, "over 300 characters"),
    ("a paste over the size limit", None, "DAWN\n" * 100_001, "characters; split it"),
    ("only bullets pasted", None, "•\n1.\n«\n", "The list is empty"),
]


def signatory_errors(response) -> str:
    return " ".join(response.context["form"].non_field_errors()) + " ".join(
        " ".join(errors) for errors in response.context["form"].errors.values()
    )


def test_malformed_signatory_lists_are_form_errors_and_write_nothing(seeded, staff):
    statement = factories.statement(
        slug="a-new-letter", issued_on=datetime.date(2026, 1, 15), status=Statement.Status.DRAFT
    )
    url = reverse("admin:statements_statement_signatories", args=[statement.pk])
    problems = Problems()
    for what, csv, text, message in SIGNATORY_FILES:
        data = {"_preview": "1", "text": text, "role": "signatory", "joined_on": ""}
        if csv is not None:
            data["csv_file"] = SimpleUploadedFile("list.csv", csv, content_type="text/csv")
        before = row_counts()
        response = staff.post(url, data)
        problems.expect(not changed_tables(before), f"{what}: wrote {changed_tables(before)}")
        if response.status_code != 200:
            problems.append(f"{what}: {response.status_code}{server_error(response)}")
            continue
        problems.expect('name="_confirm"' not in response.content.decode(), f"{what}: previewed")
        said = signatory_errors(response)
        problems.expect(
            message in said, f"{what}: the error does not say {message!r}: {said[:200]}"
        )
        no_raw_markup(problems, what, response)
    # The form's own fields, and a NUL byte pasted.
    for data, key in [
        ({"text": "DAWN", "role": SQL_OR}, "role"),
        ({"text": "DAWN", "role": "signatory", "joined_on": "2025-02-30"}, "joined_on"),
        ({"text": "DAWN", "role": "signatory", "joined_on": TOO_BIG}, "joined_on"),
        ({"text": "DAWN", "role": "signatory", "csv_name": OVERLONG}, "csv_name"),
    ]:
        response = staff.post(url, {"_preview": "1", **data})
        label = f"{key}={shown(data[key])}"
        problems.expect(
            response.status_code == 200 and key in response.context["form"].errors,
            f"{label}: {response.status_code}, no error on {key}",
        )
    before = row_counts()
    response = staff.post(url, {"_preview": "1", "text": "DA\x00WN", "role": "signatory"})
    problems.expect(response.status_code == 400, f"a pasted NUL byte: {response.status_code}")
    # Markup pasted as a name is a name: previewed escaped, never run.
    response = staff.post(url, {"_preview": "1", "text": f"{SCRIPT}\n{IMG}", "role": "signatory"})
    problems.expect('name="_confirm"' in response.content.decode(), "markup was not previewed")
    no_raw_markup(problems, "the preview of pasted markup", response)
    problems.expect(ESCAPED_SCRIPT in response.content.decode(), "the preview hides the markup")
    problems.expect(not changed_tables(before), f"previews wrote: {changed_tables(before)}")
    problems.assert_none("malformed signatory lists")


def alias_bomb() -> bytes:
    """The YAML "billion laughs": nine levels of nine aliases, 387 million strings unfolded."""
    levels = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 9):
        levels.append(f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return ("topics:\n  - slug: lol\n    name: [" + ", ".join(levels) + "]\n").encode()


def deep_mapping(depth: int) -> bytes:
    return b"topics: [" + b"{a: " * depth + b"b" + b"}" * depth + b"]\n"


ONE_STATEMENT = "statements: [{slug: s, title: T, issued_on: 2025-11-12%s}]\n"

IMPORT_FILES = [
    # (file name, content, what the error says)
    ("nul.yaml", b"topics:\n  - {slug: a, name: A\x00}\n", "contains a NUL byte"),
    ("utf16.yaml", utf16("topics: [{slug: a, name: A}]\n"), "not UTF-8 text"),
    ("garbage.json", bytes(range(128, 256)), "not UTF-8 text"),
    ("tabs.yaml", b"topics:\n\t- {slug: a, name: A}\n", "not valid YAML"),
    ("unclosed.yaml", b'topics: [{slug: a, name: "A}]\n', "not valid YAML"),
    ("comma.json", b'{"topics": [{"slug": "a", "name": "A"},]}', "not valid JSON"),
    ("text.json", b"DROP TABLE statements_statement;", "not valid JSON"),
    ("bomb.yaml", alias_bomb(), "name: expected text, got a list."),
    ("deep.yaml", deep_mapping(5000), "nested too deeply"),
    ("deep.json", b'{"topics": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ("feb30.yaml", (ONE_STATEMENT % "").replace("2025-11-12", "2025-02-30").encode(), "not a date"),
    ("year0.yaml", (ONE_STATEMENT % "").replace("2025-11-12", "0000-00-00").encode(), "not a date"),
    (
        "joined.yaml",
        (ONE_STATEMENT % ", signatures: [{organization: dawn, joined_on: 99999-12-31}]").encode(),
        "joined_on: “99999-12-31” is not a date",
    ),
    (
        "published.yaml",
        (ONE_STATEMENT % ", published_at: '2025-02-30T12:00:00+00:00'").encode(),
        "published_at: “2025-02-30T12:00:00+00:00” is not a date and time",
    ),
    (
        "coverage.yaml",
        (ONE_STATEMENT % ", coverage: [{outlet: O, date: '0000'}]").encode(),
        "“0000” is not a real date",
    ),
    (
        "founded.yaml",
        f"organizations: [{{slug: o, name: O, founded_year: {2**63}}}]".encode(),
        f"founded_year: {2**63} is out of range",
    ),
    (
        "founded-1.yaml",
        b"organizations: [{slug: o, name: O, founded_year: -1}]",
        "founded_year: Ensure this value is greater than or equal to 0.",
    ),
    (
        "unknown.yaml",
        (ONE_STATEMENT % ", signatures: [{organization: dawn, colour: red}]").encode(),
        "signatures[0]: unknown field(s) colour.",
    ),
    (
        "markup-slug.yaml",
        f"topics: [{{slug: '{SCRIPT}', name: A}}]".encode(),
        "slug: Enter a valid",
    ),
    (
        "sql-slug.yaml",
        f'organizations: [{{slug: "{SQL_OR}", name: O}}]'.encode(),
        "slug: Enter a valid",
    ),
    (
        "sql-ref.yaml",
        f'statements: [{{slug: "{SQL_DROP}", title: T, issued_on: 2025-11-12}}]'.encode(),
        "slug: Enter a valid",
    ),
    ("overlong.yaml", f"topics: [{{slug: a, name: {OVERLONG}}}]".encode(), "at most 100 char"),
    (
        "huge-title.yaml",
        (ONE_STATEMENT % "").replace("title: T", f"title: {HUGE_TEXT}").encode(),
        "at most 500 char",
    ),
    ("choice.yaml", (ONE_STATEMENT % f", kind: '{SCRIPT}'").encode(), "is not a valid choice"),
]


def test_malformed_import_files_are_refused_and_write_nothing(seeded, tmp_path):
    problems = Problems()
    before = row_counts()
    for name, content, message in IMPORT_FILES:
        path = tmp_path / name
        path.write_bytes(content)
        started = time.monotonic()
        try:
            call_command("import_statements", str(path))
        except CommandError as error:
            said = str(error)
            problems.expect(said.startswith("Nothing was imported."), f"{name}: {said[:200]}")
            problems.expect(
                message in said, f"{name}: the error does not say {message!r}: {said[:300]}"
            )
        except Exception as error:  # any other exception is a finding
            problems.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
        else:
            problems.append(f"{name}: imported")
        took = time.monotonic() - started
        problems.expect(took < 5, f"{name}: took {took:.1f} s to refuse")
        problems.expect(not changed_tables(before), f"{name}: wrote {changed_tables(before)}")
    # A folder: a good file, then a record that fails after the good one was written. The
    # service (as the command) rolls the whole import back.
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a-topics.yaml").write_text("topics: [{slug: fine, name: Fine}]\n")
    bad = f"statements: [{{slug: s, title: '{SCRIPT}', issued_on: 2025-02-30, topics: [fine]}}]"
    (folder / "b-statements.yaml").write_text(bad)
    with pytest.raises(ImportDataError, match="“2025-02-30” is not a date"):
        import_paths([folder])
    problems.expect(not changed_tables(before), f"the folder wrote {changed_tables(before)}")
    problems.assert_none("malformed import files")
