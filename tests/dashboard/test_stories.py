"""The stories page and a story's page in headless Chromium, against a live service."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import fresh_article

pytestmark = pytest.mark.slow

SEED_TITLE = re.compile(r"ten (Balochistan )?towns")  # whichever report came in first


def seed_row(page):
    """The seed story of balochistan-attacks (the shutdowns watch has one of the same name)."""
    return page.locator("tr[data-story]", has_text=SEED_TITLE).filter(
        has=page.get_by_role("link", name="balochistan-attacks")
    )


def test_the_stories_page_lists_the_seed_story_with_its_outlets_and_sources(live, page):
    page.goto(live.url("/"))
    row = seed_row(page)
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("balochistan-attacks")
    expect(cells.nth(2)).to_have_text("Balochistan")
    # two outlets and two sources (one more each once the deliveries test has run)
    expect(cells.nth(3)).to_have_text(re.compile("^[23]$"))
    expect(cells.nth(4)).to_have_text(cells.nth(3).inner_text())
    expect(page.get_by_text("ransomware", exact=False)).to_have_count(0)  # excluded, no story


def test_filters_narrow_the_list_by_watch_and_region(live, page):
    page.goto(live.url("/"))
    page.get_by_label("Watch").select_option("internet-shutdowns")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"watch=internet-shutdowns"))
    expect(seed_row(page)).to_have_count(0)
    page.goto(live.url("/?region=Balochistan&time=30d"))
    expect(seed_row(page)).to_have_count(1)
    page.goto(live.url("/?region=Punjab"))
    expect(page.get_by_text("No stories match.")).to_be_visible()


def test_a_new_story_shows_on_the_open_page_within_5_s_of_its_alert(live, page):
    page.goto(live.url("/"))
    title = "Iraq cuts internet"
    expect(page.locator("tr[data-story]", has_text=title)).to_have_count(0)
    live.publish(fresh_article("iraq-cuts-internet-for-school-exams"))  # returns once delivered
    alerted = time.monotonic()
    assert any("Iraq" in r.json()["story"]["title"] for r in live.receiver.requests)
    row = page.locator("tr[data-story]", has_text=title)
    expect(row).to_have_count(1, timeout=5_000)  # no reload: the page's script brought it
    assert time.monotonic() - alerted < 5.0
    expect(row).to_have_class(re.compile(r"\bnew\b"))
    expect(page.get_by_role("status")).to_contain_text("1 new story")


def test_a_story_page_shows_sources_in_order_places_map_and_what_the_notifier_got(live, page):
    page.goto(live.url("/"))
    seed_row(page).get_by_role("link", name=SEED_TITLE).click()
    expect(page).to_have_url(re.compile(r"/stories/s-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    sources = page.locator("ol.sources > li")
    expect(sources.first).to_be_visible()
    assert sources.count() >= 2
    expect(sources.nth(0)).to_contain_text("frontier-post-wire")  # the first report first
    expect(sources.nth(0).locator("blockquote.evidence")).to_contain_text("Balochistan")
    expect(page.locator("svg.map .country.hit title")).to_have_text("Pakistan")
    expect(page.locator("svg.map .place text", has_text="Quetta")).to_have_count(1)
    why = page.locator("section", has=page.get_by_role("heading", name="Why it matched"))
    expect(why).to_contain_text("threshold", ignore_case=True)
    expect(why.locator("tbody tr")).to_have_count(sources.count())
    outbox = page.locator("table.deliveries tbody tr")
    expect(outbox.first).to_contain_text("siem")
    expect(outbox.first).to_contain_text("new_story")
    expect(outbox.first).to_contain_text("delivered")


def test_mute_silences_the_story_and_expire_lifts_it(live, page):
    page.goto(live.url("/"))
    seed_row(page).get_by_role("link", name=SEED_TITLE).click()
    story_url = page.url
    page.get_by_label("Reason").fill("handled by the night shift")
    page.keyboard.press("Enter")  # keyboard: the form submits from its field
    expect(page.locator(".muted-note")).to_contain_text("handled by the night shift")
    story_id = story_url.rsplit("/", 1)[1]
    silences = live.call(_active_silences(live))
    assert [s.story_id for s in silences] == [story_id]
    page.get_by_role("button", name=re.compile("Unmute")).click()
    expect(page.locator(".muted-note")).to_have_count(0)
    assert live.call(_active_silences(live)) == []
    page.goto(live.url("/silences"))
    expect(page.locator("tr.expired", has_text="handled by the night shift")).to_have_count(1)


def _active_silences(live):
    async def read():
        return live.service.store.silences.all(active_at=_now())

    return read


def _now():
    from wirewatch.util import utcnow

    return utcnow()


def test_the_full_explanation_of_a_source_is_one_click_away(live, page):
    page.goto(live.url("/"))
    seed_row(page).get_by_role("link", name=SEED_TITLE).click()
    page.get_by_role("link", name="full explanation").first.click()
    explanation = page.locator("pre.explain")
    expect(explanation).to_contain_text("== balochistan-attacks: MATCH")
    expect(explanation).to_contain_text("== internet-shutdowns:")
    expect(explanation).to_contain_text("threshold")
