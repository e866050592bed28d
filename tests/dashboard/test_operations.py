"""Outlets, deliveries (a dead letter retried from the page) and silences, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import fresh_article

pytestmark = pytest.mark.slow


def test_outlets_show_health_last_poll_and_304_share(live, page):
    live.call(live.service.run_cycle)  # a second poll of unchanged feeds: 304s
    page.goto(live.url("/outlets"))
    rows = page.locator("table.outlets tbody tr")
    expect(rows).to_have_count(6)
    frontier = rows.filter(has_text="frontier-post-wire")
    expect(frontier.locator("td").nth(1)).to_have_text("ok")
    expect(frontier.locator("td").nth(2)).to_have_text(re.compile(r"\d+ s ago|\d+ min ago"))
    share = frontier.locator("td").nth(4).inner_text()
    assert share.endswith("%") and int(share[:-1]) > 0, share


def test_a_dead_letter_is_listed_and_retried_from_the_page(live, page):
    live.receiver.respond_next(1, status=400, body="bad payload")  # permanent: dead at once
    live.publish(fresh_article("pakistan-balochistan-insurgents-night-of-attacks"))  # joins s-1
    page.goto(live.url("/deliveries?status=dead"))
    dead = page.locator("table.deliveries tbody tr.status-dead")
    expect(dead).to_have_count(1)
    expect(dead).to_contain_text("story_update")
    expect(dead).to_contain_text("400")
    page.get_by_role("button", name="Retry every dead letter").click()
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(page.locator("tr.status-pending")).to_have_count(1)
    live.call(lambda: live.service.delivery.flush(30))
    page.goto(live.url("/deliveries?status=dead"))
    expect(page.get_by_text("No dead deliveries.")).to_be_visible()
    page.goto(live.url("/deliveries?status=delivered"))
    expect(page.locator("tr.status-delivered", has_text="story_update").first).to_be_visible()


def test_a_watch_silence_is_created_and_expired_from_the_page(live, page):
    page.goto(live.url("/silences"))
    page.get_by_label(re.compile("^Silence")).select_option("watch:internet-shutdowns")
    page.get_by_label("For").fill("90m")
    page.get_by_label("Reason").fill("planned exam shutdowns")
    page.get_by_role("button", name="Create silence").click()
    row = page.locator("tr.active", has_text="planned exam shutdowns")
    expect(row).to_contain_text("watch internet-shutdowns")
    row.get_by_role("button", name="Expire").click()
    expect(page.locator("tr.expired", has_text="planned exam shutdowns")).to_have_count(1)


def test_a_bad_duration_is_a_clear_refusal(live, page):
    page.goto(live.url("/silences"))
    page.get_by_label("For").fill("soon")
    page.get_by_label("Reason").fill("x")
    page.get_by_role("button", name="Create silence").click()
    expect(page.get_by_role("alert")).to_contain_text("Duration")
