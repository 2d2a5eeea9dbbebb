"""
An editor's day in a real headless Chromium: log in, create a statement, paste the raw CMEP
list, confirm, publish and see every signatory on the public page; merge two duplicate
organisations and follow the old address; revert an edit.
"""

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from organizations.models import Organization

from .browser import SHOTS
from .test_paste_matching import CMEP_SIGNATORIES, RAW_CMEP_LIST

TITLE = "Letter on humanitarian access"


@pytest.fixture
def editor(site, page):
    user = User.objects.create_user("editor", password="a long editor password", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    page.goto(f"{site}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long editor password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/admin/")
    return page


def test_an_editor_pastes_a_list_publishes_and_the_public_sees_every_signatory(editor, site):
    page = editor
    page.goto(f"{site}/admin/statements/statement/add/")
    page.locator("#id_title").press_sequentially(TITLE)  # the slug fills in as one types
    assert page.locator("#id_slug").input_value() == "letter-on-humanitarian-access"
    page.locator("#id_issued_on").fill("2026-01-15")
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.get_by_role("link", name="Add signatories from a list").click()
    page.get_by_label("Paste the list").fill(RAW_CMEP_LIST)
    page.get_by_role("button", name="Preview matches").click()
    rows = page.locator("table.signatory-preview tbody tr")
    expect(rows).to_have_count(16)
    assert page.locator("table.signatory-preview tbody tr.matched").count() == 16
    expect(page.locator(".preview-counts")).to_contain_text("16 matched")
    hows = set(page.locator("table.signatory-preview td.how").all_text_contents())
    assert hows <= {"exact name", "other name", "acronym"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-signatory-preview.png"), full_page=True)
    page.get_by_role("button", name="Add these signatories").first.click()
    expect(page.locator(".messagelist")).to_contain_text("Added 16 signatures.")

    # A draft: the public cannot see it yet; the editor's preview can.
    assert page.request.get(f"{site}/statements/letter-on-humanitarian-access/").ok
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    public = page.context.browser.new_page()
    response = public.goto(f"{site}/statements/letter-on-humanitarian-access/")
    assert response.status == 200
    assert public.get_by_role("heading", level=1).inner_text() == TITLE
    links = public.locator("h2#signatories + ol a, h2#signatories + ul a")
    assert links.count() == 16
    expected = [
        (Organization.objects.get(slug=slug).get_absolute_url()) for slug in CMEP_SIGNATORIES
    ]
    assert [links.nth(i).get_attribute("href") for i in range(16)] == expected
    assert links.first.inner_text() == "American Muslims for Palestine (AMP)"
    public.close()


def test_an_editor_reverts_an_edit_from_the_history(editor, site):
    page = editor
    org = Organization.objects.get(slug="codepink")
    page.goto(f"{site}/admin/organizations/organization/{org.pk}/change/")
    page.locator("#id_city").fill("Somewhere Wrong")
    page.get_by_role("button", name="Save and continue editing").first.click()
    assert page.locator("#id_city").input_value() == "Somewhere Wrong"

    page.get_by_role("link", name="History").click()
    changes = page.locator("#change-history").inner_text()
    assert "Somewhere Wrong" in changes and "editor" in changes
    # The second row is the version before the edit.
    page.locator("#change-history tbody tr").nth(1).locator("a").first.click()
    assert page.locator("#id_city").input_value() == ""
    page.get_by_role("button", name="Revert").first.click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    org.refresh_from_db()
    assert org.city == ""
    assert org.history.count() >= 3


def test_an_editor_merges_two_duplicates_and_the_old_address_redirects(editor, site):
    page = editor
    dup = Organization.objects.create(name="CODEPINK Inc.", slug="codepink-inc")
    page.goto(f"{site}/admin/organizations/organization/")
    page.get_by_role("link", name="Likely duplicates").click()
    row = page.locator("tr", has_text="CODEPINK Inc.").first
    row.get_by_role("link", name="Merge…").click()
    page.get_by_label("Keep “CODEPINK”").check()
    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".messagelist")).to_contain_text("Merged")
    assert not Organization.objects.filter(pk=dup.pk).exists()

    public = page.context.browser.new_page()
    response = public.goto(f"{site}/organizations/codepink-inc/")
    assert response.status == 200
    assert public.url == f"{site}/organizations/codepink/"
    assert response.request.redirected_from.url == f"{site}/organizations/codepink-inc/"
    api = public.request.get(f"{site}/api/v1/organizations/codepink-inc/", max_redirects=0)
    assert api.status == 301
    assert api.headers["location"].endswith("/api/v1/organizations/codepink/")
    public.close()


def test_an_editor_decides_the_lines_that_need_it_in_the_preview_at_phone_width(editor, site):
    from statements.models import Statement

    from .browser import VIEWPORTS

    page = editor
    page.set_viewport_size(VIEWPORTS["phone"])
    statement = Statement.objects.get(slug__startswith="2025-10-13")
    page.goto(f"{site}/admin/statements/statement/{statement.pk}/signatories/")
    names = "\n".join(
        ["o Codepink: Women for Peace", "the New Israel Fund", "e NIAC", "• WILPF-US"]
    )
    page.get_by_label("Paste the list").fill(names + "\n" + names)
    page.get_by_role("button", name="Preview matches").click()
    expect(page.locator(".preview-counts")).to_contain_text("4 to decide")
    expect(page.locator(".repeats")).to_contain_text("4 lines repeat")
    page.get_by_role("button", name="Drop repeats").click()
    expect(page.locator(".preview-counts")).to_contain_text("2 to decide")
    expect(page.locator(".preview-counts")).to_contain_text("1 new")
    expect(page.locator(".preview-counts")).to_contain_text("1 matched")
    # The lines to decide come first, and nothing is wider than the phone.
    first = page.locator("table.signatory-preview tbody tr").first
    expect(first).to_have_class("suggested")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-signatory-preview-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > 376).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '"
        " + Math.round(e.getBoundingClientRect().right))"
    )
    assert width <= VIEWPORTS["phone"]["width"], (width, wide)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-signatory-preview-phone.png"), full_page=True)
    # The new organisation's name is corrected in place.
    page.locator("#id_name_1").fill("New Israel Fund")  # the second line kept: line 2
    page.locator("#id_acronym_1").fill("NIF")
    page.get_by_role("button", name="Add these signatories").click()
    expect(page.locator(".messagelist")).to_contain_text("Added 4 signatures")
    nif = Organization.objects.get(name="New Israel Fund")
    assert nif.acronym == "NIF"
    assert statement.signatures.filter(organization__slug="codepink").exists()
    assert statement.signatures.filter(
        organization__slug="national-iranian-american-council"
    ).exists()


def test_an_editor_works_through_a_statement_of_500_signatories(editor, site):
    from statements.models import Signature

    from .test_admin_signatures import large_statement

    page = editor
    statement = large_statement(500)
    page.goto(f"{site}/admin/statements/statement/{statement.pk}/change/")
    expect(page.locator("#signatures-elsewhere")).to_contain_text("500 signatures")
    # The page fits the window, and the object tools keep off the title.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    title = page.locator("#content h1").bounding_box()
    tools = page.locator(".object-tools").bounding_box()
    assert tools["y"] >= title["y"] + title["height"] or tools["y"] + tools["height"] <= title["y"]
    page.locator("#id_place").fill("Geneva")
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.get_by_role("link", name="Signatures (500)").click()
    page.get_by_label("Find a signature").fill("Signer 250")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#signatures-table tbody tr")).to_have_count(1)
    page.get_by_label("Select Signer 250").check()
    page.get_by_label("With the selected").select_option("withdraw")
    page.locator("#id_bulk-on").fill("2025-12-01")
    page.get_by_label("Reason").fill("Withdrew after the vote")
    page.get_by_role("button", name="Apply to the selected").click()
    expect(page.locator(".messagelist")).to_contain_text("Withdrew 1 signature on 2025-12-01")
    withdrawn = Signature.objects.get(statement=statement, organization__name="Signer 250")
    assert withdrawn.withdrawal_reason == "Withdrew after the vote"

    page.goto(f"{site}/admin/statements/statement/{statement.pk}/signatures/?p=2")
    page.locator("#id_form-0-role").select_option("lead")
    page.get_by_role("button", name="Save this page").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved 1 signature changed")
    assert Signature.objects.get(statement=statement, position=51).role == "lead"


def test_an_editor_starts_a_statement_from_its_press_release(editor, site):
    from statements.models import Statement

    from .test_releases import CMEP

    page = editor
    page.goto(f"{site}/admin/statements/statement/")
    page.get_by_role("link", name="Start from a press release").click()
    page.get_by_label("Paste the press release").fill(CMEP)
    page.get_by_role("button", name="Read the release").click()
    expect(page.locator("#source-issued_on")).to_contain_text("From line 11")
    expect(page.locator("#id_issued_on")).to_have_value("2025-11-12")
    expect(page.locator("#id_email")).to_have_value("media@cmep.org")
    expect(page.locator("#id_phone")).to_have_value("(202) 543-1222")
    page.locator("#id_title").fill("Joint statement, from its release")
    page.get_by_role("button", name="Make the draft and match its signatories").click()
    expect(page.locator(".messagelist")).to_contain_text("was made from the release")
    expect(page.locator("table.signatory-preview tbody tr")).to_have_count(18)
    page.get_by_role("button", name="Add these signatories").click()
    expect(page.locator(".messagelist")).to_contain_text("Added 18 signatures")
    statement = Statement.objects.get(title="Joint statement, from its release")
    leads = statement.signatures.filter(role="lead").order_by("position")
    assert [s.organization.slug for s in leads] == [
        "a-new-policy",
        "armenian-national-committee-of-america",
    ]
