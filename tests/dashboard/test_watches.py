"""A watch's page: definition, decisions, "try it" through the service's own matcher, and
the watch run over the stored articles of the last days."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

ATTACK = (
    "Militants storm army posts in five Balochistan towns at once\n"
    "QUETTA - Gunmen and suicide bombers struck security posts in Quetta, Turbat, Gwadar, "
    "Panjgur and Kalat within the same hour on Tuesday night, officials said, in a "
    "coordinated offensive claimed by the Balochistan Liberation Army."
)
CRICKET = (
    "Gladiators bowl out Peshawar in Quetta\n"
    "QUETTA - The Gladiators' pace attack ripped through Peshawar's batting order as the "
    "home side won by eight wickets in front of a full stadium."
)


def test_the_watch_page_shows_its_definition_and_recent_decisions(live, page):
    page.goto(live.url("/watches"))
    page.get_by_role("link", name="balochistan-attacks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("balochistan-attacks")
    expect(page.locator("dl.facts")).to_contain_text("Balochistan")
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent decisions"))
    expect(recent.locator("tr.matched").first).to_contain_text("Balochistan")
    expect(recent.locator("tr.missed", has_text="cyber attack")).to_have_count(1)


def test_try_it_decides_pasted_text_as_the_service_would(live, page):
    page.goto(live.url("/watches/balochistan-attacks"))
    page.get_by_label("or a URL").fill(ATTACK)
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".verdict")).to_contain_text("MATCH")
    page.get_by_label("or a URL").fill(CRICKET)
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".verdict")).to_contain_text("no match")


def test_the_watch_over_the_last_days_shows_what_it_would_have_sent(live, page):
    page.goto(live.url("/watches/balochistan-attacks"))
    page.get_by_label("Run over the stored articles").fill("30")
    page.get_by_role("button", name="Run").click()
    replay = page.locator(".replay")
    expect(replay).to_contain_text("would match", timeout=60_000)
    expect(replay).to_contain_text("BLA militants strike ten Balochistan towns")
    expect(replay).not_to_contain_text("cyber attack")


def test_an_edited_copy_runs_without_changing_the_watch(live, page):
    page.goto(live.url("/watches/balochistan-attacks"))
    page.get_by_label("Run over the stored articles").fill("30")
    page.get_by_text("Run an edited copy instead").click()
    page.get_by_label("Regions (comma-separated)").fill("Punjab")  # the seed is in Balochistan
    page.get_by_role("button", name="Run").click()
    replay = page.locator(".replay")
    expect(replay).to_contain_text("with the edited copy", timeout=60_000)
    expect(replay).to_contain_text(re.compile(r"^\s*0 of \d+ stored articles"))
    assert live.service.config.watches[0].regions == ["Balochistan"]  # the watch is unchanged
    page.get_by_text("Run an edited copy instead").click()
    page.get_by_label("Regions (comma-separated)").fill("Qzxwv Province")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".replay .refused")).to_contain_text("Qzxwv Province")
