"""
Hostile uploads and look-alike names: the hostile input suite's part for uploaded documents
and organisation names (tests/test_hostile_input.py has the rest).

Uploaded documents: only PDF, Word, OpenDocument, RTF, plain text and PNG/JPEG files are
accepted, by extension and by content (HTML, SVG, XHTML and script are refused, whatever the
file is called), and the app serves them itself with DEBUG off as on: only files a statement
names, a draft's to staff only, as downloads that no browser renders.

Organisation names: stored NFKC-normalised without format characters, and compared by a key
that folds case and look-alike characters, so a name that merely looks like an existing one
(full-width letters, a Cyrillic letter, a zero-width space) is refused and matched to it.
"""

import importlib
import io
import struct
import zipfile
import zlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from organizations.duplicates import find_duplicates
from organizations.matching import Matcher, parse_pasted_list
from organizations.models import Organization, OtherName
from organizations.names import name_key
from statements.importing import ImportDataError, import_paths
from statements.models import Statement

from . import factories
from .admin_forms import add_inline_row, form_data
from .production import ScratchDatabase, base_env, fetch, gunicorn, manage

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def current_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode())


def field_errors(response, name: str) -> list[str]:
    assert response.status_code == 200, f"the form was accepted ({response.status_code})"
    return list(response.context["adminform"].form.errors.get(name, []))


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def production(settings):
    """As the app runs in production: DEBUG off (tracker/urls.py no longer reads it)."""
    settings.DEBUG = False
    return settings


# --- Uploaded documents ----------------------------------------------------------------------


def png() -> bytes:
    """A real one-pixel PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def docx() -> bytes:
    """A Word document's container, with the parts that make it one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Override PartName="/word/document.xml" ContentType="applica'
            'tion/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'
XHTML = (
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
    b"<script>alert(1)</script></html>"
)

ACCEPTED = [
    ("statement.pdf", PDF),
    ("statement.txt", b"A joint statement. Signed: CODEPINK, Peace Action.\n"),
    ("signatories.txt", b"name,acronym\nCODEPINK,CP\nPeace Action,PA\n"),  # reads as CSV
    ("statement.rtf", b"{\\rtf1\\ansi A joint statement.}"),
    ("statement.docx", docx()),
    ("scan.png", png()),
]

REFUSED = [
    # By extension: markup and script, whatever their content.
    ("statement.html", HTML),
    ("statement.htm", HTML),
    ("statement.xhtml", XHTML),
    ("statement.svg", SVG),
    ("statement.js", b"alert(document.cookie)"),
    ("statement.html", PDF),  # even with a PDF's content
    ("statement", PDF),
    # By content: an accepted extension on markup, or on something else.
    ("statement.pdf", HTML),
    ("statement.pdf", b"\n\n  <html><body>Looks like a PDF by its name</body></html>"),
    ("statement.pdf", b"\xef\xbb\xbf<script>alert(1)</script>"),
    ("statement.txt", HTML),
    ("statement.txt", XHTML),
    ("scan.png", SVG),
    ("statement.docx", HTML),
    ("statement.pdf", b"Just words, not a PDF."),
    ("statement.pdf", b""),
]


def upload(staff, statement, name: str, content: bytes):
    url = change_url(statement)
    data = current_form(staff, url)
    return staff.post(url, {**data, "document": SimpleUploadedFile(name, content)})


@pytest.mark.parametrize(("name", "content"), REFUSED, ids=[f"{n}:{c[:12]!r}" for n, c in REFUSED])
def test_html_svg_script_and_mislabelled_uploads_are_form_errors_and_nothing_is_stored(
    staff, media, name, content
):
    statement = factories.statement()
    response = upload(staff, statement, name, content)
    errors = field_errors(response, "document")
    assert errors, "no error on the document field"
    statement.refresh_from_db()
    assert not statement.document
    assert not any(media.rglob("*.*")), "a refused document was stored"


def test_an_html_document_is_refused_with_a_message_that_says_why(staff, media):
    statement = factories.statement()
    [error] = field_errors(upload(staff, statement, "statement.pdf", HTML), "document")
    assert "“statement.pdf” contains HTML, which is not accepted" in error
    [error] = field_errors(upload(staff, statement, "statement.html", HTML), "document")
    assert "“.html” files are not accepted" in error


@pytest.mark.parametrize(("name", "content"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_real_documents_are_accepted_and_stored(staff, media, name, content):
    statement = factories.statement()
    response = upload(staff, statement, name, content)
    assert response.status_code == 302, field_errors(response, "document")
    statement.refresh_from_db()
    assert statement.document.name.startswith("statements/")
    assert (media / statement.document.name).read_bytes() == content


def test_the_admin_link_downloads_the_document_with_debug_off(staff, media, production):
    statement = factories.statement()
    assert upload(staff, statement, "statement.pdf", PDF).status_code == 302
    page = staff.get(change_url(statement)).content.decode()
    statement.refresh_from_db()
    link = statement.document.url
    assert f'href="{link}"' in page, "the admin shows no link to the document"

    response = staff.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "statement" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def stored(statement: Statement, name: str, content: bytes) -> str:
    """Attach a document as if it had been uploaded before (no validation): its URL."""
    statement.document.save(name, ContentFile(content), save=True)
    return statement.document.url


def test_a_document_stored_as_html_before_is_served_as_a_download_never_as_html(media, production):
    url = stored(factories.statement(), "old.html", HTML)
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("name", "served_as"),
    [
        ("s.pdf", "application/pdf"),
        ("s.txt", "text/plain"),
        ("s.png", "image/png"),
        ("s.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("s.svg", "application/octet-stream"),
        ("s.xhtml", "application/octet-stream"),
        ("s.exe", "application/octet-stream"),
    ],
)
def test_documents_are_served_with_a_type_from_the_list_or_as_octet_stream(
    media, production, name, served_as
):
    response = Client().get(stored(factories.statement(), name, b"content"))
    assert response["Content-Type"] == served_as


def test_a_drafts_document_is_staff_only_and_a_public_statements_is_public(
    staff, media, production
):
    draft_url = stored(factories.statement(status=Statement.Status.DRAFT), "draft.pdf", PDF)
    public_url = stored(factories.statement(), "public.pdf", PDF)
    anonymous = Client()
    assert anonymous.get(draft_url).status_code == 404
    assert staff.get(draft_url).status_code == 200
    assert staff.get(draft_url)["Cache-Control"] == "private, no-store"
    assert anonymous.get(public_url).status_code == 200


def test_only_files_a_statement_names_are_served(media, production):
    statement = factories.statement()
    old_url = stored(statement, "first.pdf", PDF)
    stored(statement, "second.pdf", PDF)  # replaces it: the first file is no one's now
    (media / "statements" / "stray.pdf").write_bytes(PDF)
    (media.parent / "outside.pdf").write_bytes(PDF)
    anonymous = Client()
    for url in [
        old_url,
        "/media/statements/stray.pdf",
        "/media/../outside.pdf",
        "/media/%2e%2e/outside.pdf",
        "/media/statements/..%2f..%2foutside.pdf",
        "/media//etc/passwd",
        "/media/" + str(media.parent / "outside.pdf"),
    ]:
        assert anonymous.get(url).status_code == 404, url


ATTACH = """
import datetime
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from statements.importing import ImportDataError, import_paths
from statements.models import Statement
public = Statement.objects.filter(status="published").order_by("pk").first()
public.document.save("joint.pdf", ContentFile({pdf!r}))
draft = Statement.objects.create(
    title="Draft", slug="draft-with-document", issued_on=datetime.date(2025, 11, 12)
)
draft.document.save("draft.pdf", ContentFile({pdf!r}))
print(public.document.url, draft.document.url)
"""


@pytest.mark.django_db(False)
def test_gunicorn_in_production_serves_a_public_document_and_hides_a_drafts(tmp_path):
    database = ScratchDatabase(tmp_path)
    try:
        media = tmp_path / "media"
        env = {**base_env(database.url), "DJANGO_MEDIA_ROOT": str(media)}
        attached = manage("shell", "-c", ATTACH.format(pdf=PDF), env=env)
        public_url, draft_url = attached.stdout.splitlines()[-1].split()
        log = tmp_path / "gunicorn.log"
        with gunicorn(database.url, log, DJANGO_MEDIA_ROOT=str(media)) as base:
            status, headers, body, _ = fetch(base + public_url)
            assert (status, body) == (200, PDF)
            assert headers["Content-Type"] == "application/pdf"
            assert headers["Content-Disposition"] == 'attachment; filename="joint.pdf"'
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            assert fetch(base + draft_url)[0] == 404
    finally:
        database.drop()


def test_a_document_whose_file_is_gone_is_a_404_not_a_500(media, production):
    statement = factories.statement()
    url = stored(statement, "gone.pdf", PDF)
    (media / statement.document.name).unlink()
    assert Client().get(url).status_code == 404


# --- Look-alike organisation names -----------------------------------------------------------

LOOKALIKES = {
    "full-width": "\uff23\uff2f\uff24\uff25\uff30\uff29\uff2e\uff2b",
    "Cyrillic Es": "\u0421ODEPINK",
    "zero-width space": "CODE\u200bPINK",
    "zero-width joiner": "CODEPINK\u200d",
    "soft hyphen": "CODE\u00adPINK",
    "byte order mark": "\ufeffCODEPINK",
    "bidi isolate": "\u2066CODEPINK\u2069",
    "lower case, Cyrillic o": "c\u043edepink",
    "Cyrillic capital Ka": "CODEPIN\u041a",  # its small letter looks like no Latin one
    # Invisible, though not format characters: Unicode's default-ignorable code points.
    "combining grapheme joiner": "CODE\u034fPINK",
    "Hangul filler": "CODE\u3164PINK",
    "Hangul choseong filler": "CODE\u115fPINK",
    "variation selector": "CODEPINK\ufe0f",
}
INVISIBLE_CHARACTERS = set(
    "\u200b\u200c\u200d\u2060\u00ad\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u034f\u115f\u1160\u3164\uffa0\ufe00\ufe0f\U000e0100"
)


@pytest.fixture
def codepink():
    return factories.organization(name="CODEPINK", slug="codepink")


def post_organization(staff, **fields):
    data = current_form(staff, add_url(Organization))
    data.update(fields)
    return staff.post(add_url(Organization), data)


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_name_that_looks_like_an_existing_one_is_a_form_error_naming_it(staff, codepink, name):
    response = post_organization(staff, name=name, slug="another")
    [error] = field_errors(response, "name")
    assert "An organisation with this name already exists: “CODEPINK” (slug “codepink”)" in error
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_the_database_refuses_a_look_alike_name_whoever_writes_it(codepink, name):
    # By the key's constraint, or (where normalising made it CODEPINK) the name's.
    with pytest.raises(IntegrityError, match=r"unique_name|name_key"), transaction.atomic():
        Organization.objects.create(name=name, slug="another")


def test_a_right_to_left_override_is_stored_without_it_so_the_name_shows_as_typed(staff, codepink):
    # U+202E makes "KNIPEDOC" display as "CODEPINK"; without it, it displays as it is.
    response = post_organization(staff, name="\u202eKNIPEDOC", slug="reversed")
    assert response.status_code == 302
    assert Organization.objects.get(slug="reversed").name == "KNIPEDOC"


def test_names_are_stored_nfkc_without_invisible_characters_and_evenly_spaced(db):
    org = factories.organization(
        name="\uff30\uff45\uff41\uff43\uff45\u200b\u00a0 Action\u3000\ufb01nd \u202eUS\ufe0f",
        acronym="\uff30\u200d\u034f\uff21",
    )
    other = OtherName.objects.create(
        organization=org, name="Pe\u00adace\u2066 Action\u2069 \u3164US\U000e0100"
    )
    org.refresh_from_db()
    assert org.name == "Peace Action find US"
    assert org.acronym == "PA"
    assert other.name == "Peace Action US"
    for value in (org.name, org.acronym, other.name):
        assert not set(value) & INVISIBLE_CHARACTERS


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("WILPF US", "WILPF-US"),
        ("Peace Action", "Peace Actions"),
        ("Code Pink", "CODEPINK"),
        ("Jewish Voice for Peace", "Jewish Voices for Peace"),
        # Plain ASCII is never folded: in some typefaces these look alike, but each is a name
        # an organisation may have (the Likely duplicates page lists them for staff).
        ("Corner Foundation", "Comer Foundation"),
        ("Modern Action", "Modem Action"),
        ("Burn", "Bum"),
        ("CODEPINK", "CODEPlNK"),
        ("CODEPINK", "C0DEPINK"),
        ("Cafe Collective", "Caf\u00e9 Collective"),
    ],
)
def test_ordinary_distinct_names_stay_distinct(first, second):
    factories.organization(name=first)
    factories.organization(name=second)  # no error


def test_a_name_distinct_in_plain_ascii_is_accepted_in_the_admin(staff):
    factories.organization(name="Corner Foundation", slug="corner")
    response = post_organization(staff, name="Comer Foundation", slug="comer")
    assert response.status_code == 302, field_errors(response, "name")
    assert Organization.objects.get(slug="comer").name == "Comer Foundation"


@pytest.mark.parametrize(
    ("first", "second"),
    [("Corner Foundation", "Comer Foundation"), ("CODEPINK", "CODEPlNK"), ("Burn", "Bum")],
)
def test_names_that_look_alike_in_plain_ascii_are_listed_as_likely_duplicates(first, second):
    a = factories.organization(name=first)
    b = factories.organization(name=second)
    factories.organization(name="Something Else Entirely")
    [pair] = find_duplicates().pairs
    assert {pair.first, pair.second} == {a, b}
    assert f"The names look alike: “{a.name}” and “{b.name}”" in pair.reasons


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("CODEPINK", "codepink"),
        ("\u041d\u0410\u041c", "\u043d\u0430\u043c"),  # Cyrillic, capitals and small letters
        ("\u03a3\u039f\u03a3", "\u03c3\u03bf\u03c3"),  # Greek
        ("Stra\u00dfe", "STRASSE"),
    ],
)
def test_names_differing_only_in_case_share_a_key_whatever_the_script(first, second):
    assert name_key(first) == name_key(second)


# U+FDFA is one character that NFKC spells out in eighteen.
EXPANDING_ACRONYM = "\ufdfa\ufdfa\ufdfa"


def test_an_acronym_too_long_once_normalised_is_a_form_error_naming_it(staff):
    response = post_organization(staff, name="Peace Action", slug="pa", acronym=EXPANDING_ACRONYM)
    [error] = field_errors(response, "acronym")
    assert error == "Once normalised the acronym has 54 characters; the limit is 50."
    assert not Organization.objects.exists()


def test_an_acronym_too_long_once_normalised_is_refused_whoever_saves_it():
    with pytest.raises(ValidationError) as refused:
        Organization.objects.create(name="Peace Action", slug="pa", acronym=EXPANDING_ACRONYM)
    assert "acronym" in refused.value.message_dict
    assert not Organization.objects.exists()


def test_an_import_refuses_an_acronym_too_long_once_normalised_and_writes_nothing(tmp_path):
    with pytest.raises(ImportDataError) as refused:
        import_yaml(
            tmp_path,
            f"organizations:\n  - {{slug: pa, name: Peace Action, acronym: {EXPANDING_ACRONYM}}}\n",
        )
    assert "acronym: Once normalised the acronym has 54 characters; the limit is 50." in str(
        refused.value
    )
    assert not Organization.objects.exists()


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_pasted_look_alike_matches_the_organisation_by_its_exact_name(codepink, name):
    factories.organization(name="Peace Action")
    [line] = parse_pasted_list(f"1. {name}")
    match = Matcher().match(line)
    assert (match.organization, match.how) == (codepink, "exact name")


def test_a_pasted_look_alike_of_an_other_name_matches_it(codepink):
    OtherName.objects.create(organization=codepink, name="Women for Peace", kind="former")
    [line] = parse_pasted_list("W\u043emen f\u043er Peace")  # Cyrillic o twice
    match = Matcher().match(line)
    assert (match.organization, match.how) == (codepink, "other name")


def test_an_other_name_that_looks_like_another_organisations_name_is_a_form_error(staff, codepink):
    org = factories.organization(name="Peace Action", slug="peace-action")
    url = change_url(org)
    data = add_inline_row(current_form(staff, url), "other_names", name="\u0421ODEPINK")
    response = staff.post(url, data)
    assert response.status_code == 200
    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    errors = [str(e) for form in formset.forms for e in form.errors.get("name", [])]
    assert any("“CODEPINK” (slug “codepink”) is another organisation's name" in e for e in errors)
    assert not org.other_names.exists()


def test_a_name_that_looks_like_another_organisations_other_name_is_a_form_error(staff, codepink):
    OtherName.objects.create(organization=codepink, name="Women for Peace", kind="former")
    response = post_organization(staff, name="W\u043emen for Peace", slug="women")
    [error] = field_errors(response, "name")
    assert "“Women for Peace” is an other name of “CODEPINK” (slug “codepink”)" in error
    assert not Organization.objects.filter(slug="women").exists()


def test_other_names_of_one_organisation_that_look_alike_are_a_form_error(staff, codepink):
    OtherName.objects.create(organization=codepink, name="CP", kind="acronym")
    url = change_url(codepink)
    data = add_inline_row(current_form(staff, url), "other_names", name="\u0421P", kind="acronym")
    response = staff.post(url, data)
    assert response.status_code == 200
    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "listed twice" in " ".join(formset.non_form_errors())
    assert codepink.other_names.count() == 1


def import_yaml(tmp_path, text: str):
    path = tmp_path / "organizations.yaml"
    path.write_text(text, encoding="utf-8")
    return import_paths([path])


def test_an_import_refuses_a_look_alike_name_naming_the_organisation_and_writes_nothing(
    codepink, tmp_path
):
    with pytest.raises(ImportDataError) as refused:
        import_yaml(tmp_path, "organizations:\n  - {slug: lookalike, name: \u0421ODEPINK}\n")
    assert "name: An organisation with this name already exists: “CODEPINK”" in str(refused.value)
    with pytest.raises(ImportDataError) as refused:
        import_yaml(
            tmp_path,
            "organizations:\n  - slug: peace-action\n    name: Peace Action\n"
            "    other_names: [{name: \uff23\uff2f\uff24\uff25\uff30\uff29\uff2e\uff2b}]\n",
        )
    assert "“CODEPINK” (slug “codepink”) is another organisation's name" in str(refused.value)
    assert list(Organization.objects.values_list("slug", flat=True)) == ["codepink"]


def test_an_import_matches_an_organisations_other_names_by_their_key(tmp_path):
    listing = "organizations:\n  - slug: anca\n    name: Armenian National Committee\n"
    import_yaml(tmp_path, listing + "    other_names: [{name: ANCA, kind: acronym}]\n")
    # The same other name, typed with a Cyrillic A: the same row, not a second one.
    import_yaml(tmp_path, listing + "    other_names: [{name: \u0410NCA, kind: acronym}]\n")
    assert OtherName.objects.count() == 1


def test_two_organisations_may_share_an_acronym(codepink):
    other = factories.organization(name="Center for Policy")
    OtherName.objects.create(organization=codepink, name="CP", kind="acronym")
    OtherName(organization=other, name="CP", kind="acronym").full_clean()


def fill_name_keys():
    """What the migration that brought the keys does (organizations/migrations/0007_...)."""
    importlib.import_module("organizations.migrations.0007_name_keys").fill_name_keys(apps, None)


def test_the_migration_fills_keys_and_normalises_stored_names(codepink):
    other = factories.organization(name="Peace Action")
    alias = OtherName.objects.create(organization=other, name="PA")
    # As rows were before the migration: names as typed, no keys.
    Organization.objects.filter(pk=other.pk).update(name="Peace\u200b Action", name_key="")
    OtherName.objects.filter(pk=alias.pk).update(name="\uff30\uff21", name_key="")
    fill_name_keys()
    other.refresh_from_db()
    alias.refresh_from_db()
    assert (other.name, other.name_key) == ("Peace Action", "peace action")
    assert (alias.name, alias.name_key) == ("PA", "pa")


def test_the_migration_stops_and_lists_organisations_whose_names_look_the_same(codepink):
    other = factories.organization(name="Placeholder", slug="lookalike")
    Organization.objects.filter(pk=other.pk).update(name="\u0421ODEPINK", name_key="")
    with pytest.raises(RuntimeError) as stopped:
        fill_name_keys()
    message = str(stopped.value)
    assert "Nothing was changed" in message
    assert "slug 'codepink', name 'CODEPINK'" in message
    assert "slug 'lookalike', name '\\u0421ODEPINK'" in message
    assert Organization.objects.get(pk=other.pk).name_key == ""


def test_the_migration_stops_and_lists_acronyms_too_long_once_normalised(codepink):
    Organization.objects.filter(pk=codepink.pk).update(acronym=EXPANDING_ACRONYM, name_key="")
    with pytest.raises(RuntimeError) as stopped:
        fill_name_keys()
    message = str(stopped.value)
    assert "Nothing was changed" in message
    assert f"organisation id {codepink.pk}: normalised, its acronym would be" in message
    assert "(54 characters; up to 50 are allowed)" in message
    assert Organization.objects.get(pk=codepink.pk).name_key == ""
