"""Browser tests: headless Chromium (Debian's `chromium` package, driven by playwright) against
Django's live server. They run as their own pytest invocation (NOTES.md: pytest-playwright's
event loop breaks async Channels tests in the same process):

    CLINIC_BROWSER_TESTS=1 .venv/bin/python -m pytest tests/browser -p no:xdist

`python3 dev.py test` runs them after the main suite. Without Chromium they skip on a
developer's machine and fail in CI."""
import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import login
from tests.services import missing

# playwright's sync API keeps an event loop running in this thread; the test's own database
# work (fixtures, factories) is still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        missing("needs Chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("needs playwright (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_for(chromium, live_server):
    """page_for(user, viewport=PHONE) -> a page signed in as `user` (staff with their second
    factor), on the live server; closed after the test."""
    contexts = []

    def make(user=None, viewport=PHONE):
        context = chromium.new_context(viewport=viewport, base_url=live_server.url)
        if user is not None:
            client = login(Client(), user)
            name = settings.SESSION_COOKIE_NAME
            context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
