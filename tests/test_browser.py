"""
The public pages in a real headless Chromium (Debian's, driven by Playwright): every page
type at phone and desktop widths, with axe-core's accessibility checks, and the journeys a
reader takes. Screenshots go to test-artifacts/screenshots/.
"""

import json

import pytest

from .browser import AXE, JOINT, SHOTS, VIEWPORTS

PAGE_TYPES = {
    "home": "/",
    "statements": "/statements/?topic=gaza",
    "statement": f"/statements/{JOINT}/",
    "organizations": "/organizations/",
    "organization": "/organizations/churches-for-middle-east-peace/",
    "topics": "/topics/",
    "topic": "/topics/gaza/",
    "search": "/search/?q=ANCA",
}


def axe_violations(page) -> list[dict]:
    # Evaluated, not added as a <script>: the pages' Content Security Policy refuses inline
    # scripts, which is what it is for.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]  # fmt: skip


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PAGE_TYPES)
def test_every_page_type_is_accessible_and_fits_the_screen(chromium, site, name, viewport):
    context = chromium.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(site + PAGE_TYPES[name])
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{viewport}.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {viewport} screen"
    violations = axe_violations(page)
    context.close()
    assert violations == [], json.dumps(violations, indent=2)
    # Nothing on the page breaks its own Content Security Policy (or anything else).
    assert console == []


def test_from_a_statement_to_an_organisation_and_on_to_a_cosigner(page, site):
    page.goto(f"{site}/statements/{JOINT}/")
    page.get_by_role("link", name="Armenian National Committee of America (ANCA)").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Armenian National Committee of America (ANCA)"
    )
    cosigners = page.locator("table tbody tr td:first-child a")
    assert cosigners.count() == 10
    first = cosigners.first.inner_text()
    cosigners.first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(first)
    assert "Armenian National Committee of America" in page.locator("table").inner_text()


@pytest.mark.parametrize("query", ["ANCA", "Armenian National Committee"])
def test_searching_by_acronym_or_name_reaches_the_same_organisation(page, site, query):
    page.goto(site + "/")
    page.get_by_role("searchbox", name="Search", exact=True).fill(query)
    page.get_by_role("searchbox", name="Search", exact=True).press("Enter")
    page.get_by_role("link", name="Armenian National Committee of America").first.click()
    assert page.url.endswith("/organizations/armenian-national-committee-of-america/")


def test_the_keyboard_reaches_the_content_first(page, site):
    page.goto(f"{site}/statements/{JOINT}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
