"""Browser tests: one live service and one headless Chromium for the package (package scope:
Playwright's sync API holds the main thread's event loop while it runs, so it must be closed
before the async tests of other packages); a test
that fails leaves a screenshot of its page (the path is printed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dashboard import LiveService, chromium_available, launch_chromium
from wirewatch.dashboard.access import hash_password
from wirewatch.demo.articles import DEMO_ARTICLES

# The seed event twice (one story) and a look-alike the watch excludes.
SEED = (
    "bla-coordinated-attacks-ten-balochistan-towns",
    "militants-attack-ten-towns-balochistan",
    "ransomware-attack-bank-card-servers",
)
PASSWORD = "correct horse battery staple"
USERS = {"vera": "viewer", "ali": "analyst", "ada": "admin"}


def demo_article(slug: str) -> Any:
    return next(a for a in DEMO_ARTICLES if a.slug == slug)


def fresh_article(slug: str) -> Any:
    """A demo article dated with the newest seed report (the site serves it as just in)."""
    newest = max(demo_article(s).published for s in SEED)
    return dataclasses.replace(demo_article(slug), published=newest)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    service = LiveService(
        tmp_path_factory.mktemp("dashboard"), [demo_article(s) for s in SEED]
    ).start()
    yield service
    service.close()


@pytest.fixture(scope="package")
def users_url(live: LiveService) -> str:
    """The live service's dashboard with users (viewer, analyst, admin) configured."""
    hashed = hash_password(PASSWORD)
    return live.with_users(
        [{"name": name, "password_hash": hashed, "role": role} for name, role in USERS.items()]
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not chromium_available():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; a screenshot when the test fails."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(FAILED, False):
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failing page: {shot}")
    context.close()
