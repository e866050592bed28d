"""Relevant / Not relevant on a story's page and the watch's precision from the team's
judgements, in headless Chromium against the live service: the click goes through
`service.feedback`, is stored, listed by `wirewatch feedback list`, and can be undone."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.dashboard.test_access import csrf_of, log_in
from tests.dashboard.test_stories import SEED_TITLE, seed_row

pytestmark = pytest.mark.slow

WATCH = "balochistan-attacks"


@pytest.fixture(autouse=True)
def undo_left_judgements(live):
    """Each test starts and ends with no active judgement: the watch decides as on day one
    for the other tests of the package."""
    yield
    feedback = live.service.feedback

    async def undo_all():
        for judgement in feedback.store.feedback.list():
            await feedback.undo(judgement.id, "test cleanup")

    live.call(undo_all)


def active_judgements(live):
    async def read():
        return live.service.store.feedback.list()

    return live.call(read)


def open_seed_story(live, page) -> str:
    page.goto(live.url("/"))
    seed_row(page).get_by_role("link", name=SEED_TITLE).click()
    expect(page).to_have_url(re.compile(r"/stories/s-\d+$"))
    return page.url.rsplit("/", 1)[1]


def feedback_section(page):
    return page.locator("section.feedback")


def test_not_relevant_is_shown_stored_listed_and_undone(live, page, tmp_path):
    story_id = open_seed_story(live, page)
    section = feedback_section(page)
    chosen = section.get_by_role("combobox", name="Judge").locator("option:checked")
    expect(chosen).to_contain_text("the story (its headline report")
    section.get_by_label("Note (optional)").fill("a police raid, not militants")
    section.get_by_role("button", name="Not relevant").click()

    expect(section.locator(".judged")).to_contain_text("Judged not relevant by local")
    row = section.locator("table.judgements tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("a police raid, not militants")
    expect(row.locator(".judgement-verdict")).to_have_text("not relevant")
    expect(page.locator("ol.sources .judged-not-relevant")).to_have_count(1)

    [judgement] = active_judgements(live)
    assert (judgement.watch, judgement.story_id, judgement.relevant) == (WATCH, story_id, False)
    assert (judgement.who, judgement.source) == ("local", "dashboard")
    assert judgement.note == "a police raid, not militants"
    assert judgement.article_id == live.call(_headline_of(live, story_id))
    config = tmp_path / "list.yaml"
    config.write_text(f"storage: {{url: 'sqlite:///{live.directory / 'dashboard.db'}'}}\n")
    listed = subprocess.run(
        [sys.executable, "-m", "wirewatch", "feedback", "list", "-c", str(config)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert f"#{judgement.id} " in listed and "not relevant, by local via dashboard" in listed

    row.get_by_role("button", name=f"Undo judgement #{judgement.id}").click()
    expect(row).to_contain_text("undone by local")
    expect(section.locator(".judged")).to_have_count(0)
    assert active_judgements(live) == []


def test_the_running_watch_learns_from_a_click_at_once(live, page):
    story_id = open_seed_story(live, page)
    explain = live.url(f"/articles/{live.call(_headline_of(live, story_id))}/explain")
    page.goto(explain)
    verdict = page.locator("pre.explain")
    expect(verdict).to_contain_text(f"== {WATCH}: MATCH")
    page.go_back()
    feedback_section(page).get_by_role("button", name="Not relevant").click()
    page.goto(explain)  # decided again by the running matcher: the judgement overturns it
    expect(verdict).to_contain_text("judged not relevant")
    expect(verdict).not_to_contain_text(f"== {WATCH}: MATCH")


def _headline_of(live, story_id):
    async def read():
        story = live.service.store.stories.get(story_id)
        return next(s.article_id for s in story.sources if s.title == story.title)

    return read


def test_the_watch_page_shows_precision_from_the_teams_judgements(live, page):
    page.goto(live.url(f"/watches/{WATCH}"))
    precision = page.locator("p.precision")
    expect(precision).to_contain_text("No judgements yet")
    open_seed_story(live, page)
    section = feedback_section(page)
    section.get_by_role("button", name="Relevant", exact=True).click()  # the headline
    expect(section.locator(".judged")).to_contain_text("Judged relevant by local")
    other = section.locator("select[name=article] option:not([selected])").first
    section.get_by_role("combobox", name="Judge").select_option(other.get_attribute("value"))
    section.get_by_role("button", name="Not relevant").click()
    expect(section.locator("table.judgements tbody tr:not(.undone)")).to_have_count(2)

    page.goto(live.url(f"/watches/{WATCH}"))
    expect(precision).to_contain_text("50 %: 1 of 2 judged alerts relevant (1 not relevant)")
    recent = page.locator("table.judgements tbody tr:not(.undone)")
    expect(recent).to_have_count(2)
    recent.first.get_by_role("button", name=re.compile("Undo")).click()  # the not relevant
    expect(page).to_have_url(live.url(f"/watches/{WATCH}#feedback-h"))
    expect(precision).to_contain_text("100 %: 1 of 1 judged alerts relevant")


def test_a_viewer_sees_no_feedback_buttons_and_a_forged_judgement_is_refused(live, users_url, page):
    story_id = live.call(_seed_story_id(live))
    judged = live.call(_judge_headline(live, story_id))  # an analyst's, for the Undo below
    log_in(page, users_url, "vera")
    page.goto(f"{users_url}/stories/{story_id}")
    expect(page.get_by_role("heading", name=f"Feedback for {WATCH}")).to_be_visible()
    expect(page.locator("table.judgements")).to_contain_text("ada")
    expect(page.get_by_role("button", name=re.compile("relevant|undo", re.I))).to_have_count(0)
    # the viewer's own valid session and CSRF token: refused for the role alone
    for path, form in (
        (f"/stories/{story_id}/feedback", {"article": judged.article_id, "verdict": "relevant"}),
        (f"/judgements/{judged.id}/undo", {}),
    ):
        answer = page.request.post(users_url + path, form={"csrf": csrf_of(page), **form})
        assert answer.status == 403 and "analyst role" in answer.text()
    assert active_judgements(live) == [judged]


def _seed_story_id(live):
    async def read():
        row = live.service.store.execute(
            "SELECT id FROM stories WHERE watch = ? ORDER BY num LIMIT 1", (WATCH,)
        ).fetchone()
        return row[0]

    return read


def _judge_headline(live, story_id):
    async def judge():
        article = await _headline_of(live, story_id)()
        return await live.service.feedback.judge(article, WATCH, False, "ada", source="dashboard")

    return judge


def test_an_analysts_judgement_carries_their_name_and_bad_forms_are_refused(live, users_url, page):
    log_in(page, users_url, "ali")
    story = seed_row(page).get_by_role("link", name=SEED_TITLE).get_attribute("href")
    page.goto(users_url + story)
    section = feedback_section(page)
    section.get_by_role("button", name="Relevant", exact=True).click()
    expect(section.locator(".judged")).to_contain_text("Judged relevant by ali")
    [judgement] = active_judgements(live)
    assert (judgement.who, judgement.relevant) == ("ali", True)
    article = judgement.article_id
    for form, message in (
        ({"article": article, "verdict": "maybe"}, "Choose Relevant or Not relevant"),
        ({"article": "a-not-in-this-story", "verdict": "relevant"}, "not a source of story"),
    ):
        answer = page.request.post(
            users_url + story + "/feedback", form={"csrf": csrf_of(page), **form}
        )
        assert answer.status == 400 and message in answer.text()
    assert active_judgements(live) == [judgement]  # nothing else was written
