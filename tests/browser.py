"""Real headless Chromium (Debian's, driven by Playwright) for the browser tests."""

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps
from playwright.sync_api import sync_playwright

from statements.importing import import_paths

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Playwright's synchronous API keeps an event loop running in this thread, which Django
# would take for async code and refuse database access from; the tests are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"


@pytest.fixture(scope="session")
def chromium():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium package"
    assert AXE.exists(), "axe-core is missing: run `npm ci`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, transactional_db, settings):
    # Each browser test starts from an emptied database: the staff groups (which a
    # migration made) and the seeds are put back. Its transactions commit, so the site
    # keeps answers as in production (tracker.response_cache).
    settings.RESPONSE_CACHE = True
    staff_groups = importlib.import_module("statements.migrations.0002_staff_groups")
    staff_groups.create_groups(apps, None)
    import_paths([SEEDS])
    return live_server.url


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=VIEWPORTS["desktop"])
    yield context.new_page()
    context.close()
