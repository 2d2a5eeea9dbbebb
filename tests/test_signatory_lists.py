"""Staff add a signatory list to a statement: paste or CSV, preview the matches, confirm."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from organizations.models import Organization, OtherName
from statements.models import Signature, Statement

from . import factories
from .admin_forms import form_data
from .test_paste_matching import CMEP_SIGNATORIES, RAW_CMEP_LIST

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(seeded):
    return factories.statement(
        title="A new letter",
        slug="a-new-letter",
        issued_on=datetime.date(2026, 1, 15),
        status=Statement.Status.DRAFT,
    )


@pytest.fixture
def editor(client, django_user_model, staff_roles):
    user = django_user_model.objects.create_user("ed", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client.force_login(user)
    return client


def url(statement):
    return reverse("admin:statements_statement_signatories", args=[statement.pk])


def preview(client, statement, text="", role="signatory", joined_on="", csv=None, status=200):
    data = {"_preview": "1", "text": text, "role": role, "joined_on": joined_on}
    if csv is not None:
        data["csv_file"] = SimpleUploadedFile("list.csv", csv, content_type="text/csv")
    response = client.post(url(statement), data)
    assert response.status_code == status
    return response


def rows(response) -> list[tuple[str, str, str]]:
    """(line, as printed, matched by) for every row of the preview table."""
    html = response.content.decode()
    found = re.findall(
        r"<tr class=\"(\w+)\">\s*<td data-label=\"Line\">(\d+)</td>\s*"
        r"<th scope=\"row\" data-label=\"As printed\">(.*?)</th>\s*"
        r"<td class=\"how\" data-label=\"Matched by\">(.*?)</td>",
        html,
        re.S,
    )
    # The preview shows the lines that need a decision first: read back in printed order.
    return sorted(found, key=lambda row: int(row[1]))


def confirm(client, statement, preview_response, **changes):
    data = {**form_data(preview_response.content.decode()), **changes, "_confirm": "1"}
    return client.post(url(statement), data)


def errors(response) -> str:
    """The form errors on the page, and the preview's warnings."""
    html = response.content.decode()
    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return " ".join(found + re.findall(r'<li class="warning">(.*?)</li>', html, re.S))


def counts():
    return Signature.objects.count(), Organization.objects.count(), OtherName.objects.count()


def test_the_raw_cmep_list_matches_all_16_and_confirming_adds_them_in_printed_order(
    editor, statement
):
    response = preview(editor, statement, RAW_CMEP_LIST)
    found = rows(response)
    assert len(found) == 16
    assert {kind for kind, *_ in found} == {"matched"}
    assert found[0][2] == "American Muslims for Palestine (AMP)"
    assert {how for *_, how in found} <= {"exact name", "other name", "acronym"}
    organizations = Organization.objects.count()

    done = confirm(editor, statement, response)
    assert done.status_code == 302
    signatures = list(statement.signatures.order_by("position"))
    assert [s.organization.slug for s in signatures] == CMEP_SIGNATORIES
    assert [s.position for s in signatures] == list(range(1, 17))
    assert {s.role for s in signatures} == {"signatory"}
    assert {s.joined_on for s in signatures} == {statement.issued_on}
    assert signatures[0].name_as_printed == "American Muslims for Palestine (AMP)"
    assert Organization.objects.count() == organizations
    message = editor.get(done["Location"]).content.decode()
    assert "Added 16 signatures." in message


def test_pasting_the_same_list_again_adds_nothing(editor, statement):
    confirm(editor, statement, preview(editor, statement, RAW_CMEP_LIST))
    before = counts()
    response = preview(editor, statement, RAW_CMEP_LIST)
    assert {kind for kind, *_ in rows(response)} == {"already"}
    assert "Already signed (signatory): skipped." in response.content.decode()
    done = confirm(editor, statement, response)
    assert done.status_code == 302
    assert counts() == before
    assert "Added 0 signatures, skipped 16" in editor.get(done["Location"]).content.decode()


def test_a_new_organisation_is_created_with_its_printed_name_and_acronym(editor, statement):
    text = "1. Brand New Coalition (BNC)\n2. CODEPINK\n"
    response = preview(editor, statement, text, role="lead", joined_on="2026-01-20")
    assert [(kind, how) for kind, _, _, how in rows(response)] == [
        ("new", "new"),
        ("matched", "exact name"),
    ]
    assert confirm(editor, statement, response).status_code == 302
    new = Organization.objects.get(name="Brand New Coalition")
    assert new.acronym == "BNC"
    assert new.slug == "brand-new-coalition"
    assert set(new.other_names.values_list("name", "kind")) == {
        ("BNC", "acronym"),
        ("Brand New Coalition (BNC)", "variant"),
    }
    first, second = statement.signatures.order_by("position")
    assert (first.organization, first.role, first.joined_on) == (
        new,
        "lead",
        datetime.date(2026, 1, 20),
    )
    assert first.name_as_printed == "Brand New Coalition (BNC)"
    assert second.organization.slug == "codepink"


def test_a_suggestion_shows_its_score_and_staff_can_change_or_clear_it(editor, statement):
    text = "Churches for Middle East Peaces\nJust Forein Policy\n"
    response = preview(editor, statement, text)
    (kind1, _, _, how1), (kind2, _, _, how2) = rows(response)
    assert how1.startswith("suggested, score ") and int(how1.split()[-1]) >= 85
    assert how2.startswith("suggested, score ")
    assert kind1 == kind2 == "suggested"
    dawn = Organization.objects.get(slug="dawn")
    # Staff say line 1 is really DAWN, and line 2 is a new organisation.
    done = confirm(editor, statement, response, org_0=str(dawn.pk), org_1="")
    assert done.status_code == 302
    first, second = statement.signatures.order_by("position")
    assert first.organization == dawn
    assert first.name_as_printed == "Churches for Middle East Peaces"
    assert second.organization.name == "Just Forein Policy"


def test_a_csv_upload_goes_through_the_same_preview(editor, statement):
    csv = (
        b"name,acronym,role,joined_on\n"
        b"Armenian National Committee of America,ANCA,lead,\n"
        b'"Women\'s International League for Peace and Freedom, US Section",,,2026-02-01\n'
        b"Another New Group,ANG,,\n"
    )
    response = preview(editor, statement, csv=csv)
    assert [(kind, n) for kind, n, _, _ in rows(response)] == [
        ("matched", "2"),
        ("matched", "3"),
        ("new", "4"),
    ]
    assert confirm(editor, statement, response).status_code == 302
    signatures = list(statement.signatures.order_by("position"))
    assert [s.organization.slug for s in signatures[:2]] == [
        "armenian-national-committee-of-america",
        "womens-international-league-for-peace-and-freedom-us-section",
    ]
    assert [s.role for s in signatures] == ["lead", "signatory", "signatory"]
    assert signatures[1].joined_on == datetime.date(2026, 2, 1)
    assert signatures[2].organization.acronym == "ANG"
    reasons = {s.history.first().history_change_reason for s in signatures}
    assert reasons == {"Added from list.csv"}
    assert signatures[0].history.first().history_user.username == "ed"


@pytest.mark.parametrize(
    ("text", "csv", "message"),
    [
        ("", None, "The list is empty"),
        ("  \n • \n 1. \n", None, "The list is empty"),
        ("CODEPINK\nDAWN\no CODEPINK\n", None, "Lines 1 and 3 are one organisation"),
        ("Brand New\nBrand  new\n", None, "Lines 1 and 2 are the same new organisation"),
        ("x" * 301, None, "Line 1: the name is over 300 characters"),
        ("CODEPINK", b"name\nDAWN\n", "not both"),
        ("", b"", "The submitted file is empty"),
        ("", b" , \n", "The file is empty"),
        ("", b"name\n", "no rows below its header"),
        ("", b"title\nDAWN\n", "Line 1: unknown column \xe2\x80\x9ctitle\xe2\x80\x9d"),
        ("", b"acronym\nDAWN\n", "Line 1: there is no \xe2\x80\x9cname\xe2\x80\x9d column"),
        ("", b"name,name\nDAWN,DAWN\n", "appears twice"),
        ("", b"name\nDAWN\nCODEPINK,extra\n", "Line 3: 2 cells where the header has 1"),
        ("", b"name,role\nDAWN,chair\n", "Line 2: the role must be"),
        ("", b"name,joined_on\nDAWN,2026-02-30\n", "Line 2: joined_on"),
        (
            "",
            b"name,joined_on,withdrawn_on\nDAWN,,\nCODEPINK,2026-03-01,2026-02-01\n",
            "Line 3: withdrawn on 2026-02-01 is before joining on 2026-03-01",
        ),
        ("", b"name,withdrawal_reason\nDAWN,changed its mind\n", "Line 2: a withdrawal reason"),
        ("", b"name\nDAWN\nCaf\xe9 Group\n", "Line 3: the file is not UTF-8"),
        ("", b"name\nDA\x00WN\n", "Line 2: contains a NUL byte"),
        ("", b'name\n"DAWN\n', "not valid CSV"),
        ("", b"name\nDAWN,\n", "Line 2: 2 cells"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_line_and_nothing_is_written(
    editor, statement, text, csv, message
):
    message = message.encode("latin-1").decode("utf-8") if "\xe2" in message else message
    before = counts()
    response = preview(editor, statement, text, csv=csv)
    assert message in errors(response), errors(response)[:500]
    if 'name="_confirm"' in response.content.decode():
        done = confirm(editor, statement, response)
        assert done.status_code == 200
        assert message in errors(done)
    assert counts() == before


def test_a_withdrawal_before_joining_by_the_form_date_is_refused(editor, statement):
    csv = b"name,withdrawn_on\nDAWN,2026-01-01\n"
    response = preview(editor, statement, csv=csv, joined_on="2026-01-10")
    assert "Line 2: withdrawn on 2026-01-01 is before joining on 2026-01-10" in errors(response)


@pytest.mark.parametrize("bad", ["abc", str(2**63), "999999", "-1", "1.5"])
def test_a_tampered_choice_is_a_form_error_and_nothing_is_written(editor, statement, bad):
    response = preview(editor, statement, "CODEPINK\nDAWN\n")
    before = counts()
    done = confirm(editor, statement, response, org_1=bad)
    assert done.status_code == 200
    assert "Select a valid choice" in errors(done)
    assert counts() == before


def test_choosing_an_organisation_already_taken_by_another_line_is_refused(editor, statement):
    response = preview(editor, statement, "CODEPINK\nDAWN\n")
    codepink = Organization.objects.get(slug="codepink")
    before = counts()
    done = confirm(editor, statement, response, org_1=str(codepink.pk))
    assert done.status_code == 200
    assert "Lines 1 and 2 are one organisation" in errors(done)
    assert counts() == before


def test_creating_a_new_organisation_under_a_taken_name_is_refused(editor, statement):
    response = preview(editor, statement, "CODEPINK\n")
    before = counts()
    done = confirm(editor, statement, response, org_0="")
    assert "Line 1: an organisation named “CODEPINK” already exists" in errors(done)
    assert counts() == before


def test_who_may_add_signatories(client, django_user_model, statement):
    viewer = django_user_model.objects.create_user("v", password="x", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    assert client.get(url(statement)).status_code == 403
    assert client.post(url(statement), {"text": "DAWN", "_preview": "1"}).status_code == 403
    client.logout()
    assert client.get(url(statement)).status_code == 302  # to the login page


def test_the_page_is_linked_from_the_statement_and_bad_ids_are_not_found(editor, statement):
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    assert url(statement) in editor.get(change).content.decode()
    page = editor.get(url(statement)).content.decode()
    assert 'name="text"' in page and 'name="csv_file"' in page
    for bad in ("abc", str(2**63), "999999"):
        assert editor.get(f"/admin/statements/statement/{bad}/signatories/").status_code == 404


def test_publishing_sets_the_publication_time_and_retracting_needs_a_note(editor, statement):
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    data = form_data(editor.get(change).content.decode())
    assert statement.status == Statement.Status.DRAFT
    assert editor.post(change, {**data, "status": "published"}).status_code == 302
    statement.refresh_from_db()
    assert statement.published_at is not None
    published_at = statement.published_at

    data = form_data(editor.get(change).content.decode())
    response = editor.post(change, {**data, "status": "retracted", "retraction_note": ""})
    assert response.status_code == 200
    assert "say why and when it was retracted" in response.content.decode()
    note = "Retracted on 2 February 2026: signed in error."
    response = editor.post(change, {**data, "status": "retracted", "retraction_note": note})
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.published_at == published_at
    page = editor.get(statement.get_absolute_url()).content.decode()
    assert "This statement was retracted." in page and "signed in error" in page


def test_staff_preview_a_draft_the_public_cannot_see(editor, client, statement):
    path = statement.get_absolute_url()
    page = editor.get(path)
    assert page.status_code == 200
    assert "Draft preview." in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in page.content.decode()
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    assert 'id="preview-link"' in editor.get(change).content.decode()
    editor.logout()
    assert client.get(path).status_code == 404


def test_a_list_too_long_to_confirm_is_refused_at_preview(editor, statement):
    text = "\n".join(f"Organisation number {n}" for n in range(901))
    response = preview(editor, statement, text)
    assert "more than 900 names" in errors(response)
    ok = preview(editor, statement, "\n".join(f"Organisation number {n}" for n in range(900)))
    done = confirm(editor, statement, ok)
    assert done.status_code == 302
    assert statement.signatures.count() == 900


def test_the_preview_counts_each_kind_and_shows_decisions_first(editor, statement):
    text = "CODEPINK\nBrand New Group\nCodepink: Women for Peace\nDAWN\n"
    html = " ".join(preview(editor, statement, text).content.decode().split())
    assert "<strong>1</strong> to decide" in html
    assert "<strong>1</strong> new" in html
    assert "<strong>2</strong> matched" in html
    assert "<strong>0</strong> already signed" in html
    decide, new, matched = (
        html.index(f'id="lines-{kind}"') for kind in ("suggested", "new", "matched")
    )
    assert decide < new < matched
    # Matched lines are accepted as they are, folded away (open to review).
    assert '<details class="module" id="lines-matched">' in html
    assert "“CODEPINK” is its name before the colon" in html


def test_a_new_organisations_name_and_acronym_are_corrected_in_the_preview(editor, statement):
    text = "the New Israel Fund\nPresbyterian Church (U.S.A.)\n"
    response = preview(editor, statement, text)
    data = form_data(response.content.decode())
    assert (data["name_0"], data["acronym_0"]) == ("the New Israel Fund", "")
    assert (data["name_1"], data["acronym_1"]) == ("Presbyterian Church (U.S.A.)", "")
    done = confirm(editor, statement, response, name_0="New Israel Fund", acronym_0="NIF")
    assert done.status_code == 302
    nif = Organization.objects.get(name="New Israel Fund")
    assert nif.acronym == "NIF"
    assert set(nif.other_names.values_list("name", flat=True)) == {"NIF", "the New Israel Fund"}
    assert Organization.objects.filter(name="Presbyterian Church (U.S.A.)", acronym="").exists()
    first = statement.signatures.get(organization=nif)
    assert first.name_as_printed == "the New Israel Fund"  # as printed, still


def test_a_bad_corrected_name_changes_nothing(editor, statement):
    before = counts()
    response = preview(editor, statement, "Brand New Group\n")
    done = confirm(editor, statement, response, name_0="Bell\x07 Group")
    assert done.status_code == 200
    assert "invisible control character (U+0007)" in errors(done)
    done = confirm(editor, statement, response, name_0="x" * 301)
    assert done.status_code == 200 and counts() == before


def test_a_list_pasted_twice_gives_one_warning_and_drops_its_repeats(editor, statement):
    names = [f"Organisation number {n}" for n in range(150)] + ["CODEPINK"]
    text = "\n".join(names + names)
    response = preview(editor, statement, text)
    warnings = re.findall(r'<li class="warning">(.*?)</li>', response.content.decode(), re.S)
    assert len(warnings) == 1
    assert warnings[0].startswith("151 lines repeat organisations named on earlier lines")
    assert "151 lines repeat an organisation named earlier" in response.content.decode()
    data = {**form_data(response.content.decode()), "_drop_repeats": "1"}
    data.pop("_confirm", None)
    dropped = editor.post(url(statement), data)
    assert dropped.status_code == 200
    assert len(rows(dropped)) == 151
    assert "repeat" not in errors(dropped)
    assert confirm(editor, statement, dropped).status_code == 302
    assert statement.signatures.count() == 151


def test_dropped_lines_that_are_not_numbers_are_refused(editor, statement):
    response = preview(editor, statement, "CODEPINK\nDAWN\n")
    done = confirm(editor, statement, response, dropped="1,x")
    assert done.status_code == 200
    assert "The dropped lines were not understood" in done.content.decode()
    assert not statement.signatures.exists()


def test_one_click_adds_only_the_lines_matched_outright(editor, statement):
    text = "CODEPINK\nBrand New Group\nCodepink: Women for Peace\nDAWN\n"
    response = preview(editor, statement, text)
    assert "Add only these 2 now" in response.content.decode()
    data = {**form_data(response.content.decode()), "_add_matched": "1"}
    data.pop("_confirm", None)
    done = editor.post(url(statement), data, follow=True)
    assert "2 lines not matched outright were left out" in done.content.decode()
    slugs = [s.organization.slug for s in statement.signatures.order_by("position")]
    assert slugs == ["codepink", "dawn"]
    assert not Organization.objects.filter(name="Brand New Group").exists()
