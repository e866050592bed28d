"""Access in headless Chromium: open on loopback without users; otherwise a login, roles,
and a CSRF token on every form (a viewer's POST is refused, and so is a POST without one)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import PASSWORD

pytestmark = pytest.mark.slow


def log_in(page, base: str, user: str, password: str = PASSWORD) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")


def first_story_path(page, base: str) -> str:
    page.goto(base + "/")
    href = page.locator("tr[data-story] a").first.get_attribute("href")
    assert href and href.startswith("/stories/s-")
    return href


def csrf_of(page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def test_loopback_without_users_is_open_and_says_so(live, page):
    page.goto(live.url("/"))
    expect(page).to_have_url(live.url("/"))
    expect(page.get_by_text("local access")).to_be_visible()


def test_with_users_a_login_is_needed_and_a_wrong_password_is_refused(users_url, page):
    log_in(page, users_url, "vera", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    page.get_by_label("Name").fill("vera")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(users_url + "/")
    expect(page.get_by_text("vera (viewer)")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    page.goto(users_url + "/outlets")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Foutlets"))


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(live, users_url, page):
    log_in(page, users_url, "vera")
    story = first_story_path(page, users_url)
    page.goto(users_url + story)
    expect(page.get_by_role("heading", name="Sources, in order")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Mute"))).to_have_count(0)
    before = live.call(_silence_count(live))
    # the viewer's own valid session and CSRF token: refused for the role alone
    answer = page.request.post(
        users_url + story + "/mute", form={"csrf": csrf_of(page), "reason": "x"}
    )
    assert answer.status == 403
    assert "analyst role" in answer.text()
    for path in ("/silences", "/deliveries/retry", "/watches/balochistan-attacks/try"):
        assert page.request.post(users_url + path, form={"csrf": csrf_of(page)}).status == 403
    assert live.call(_silence_count(live)) == before


def test_an_analyst_mutes_but_may_not_retry_deliveries(live, users_url, page):
    log_in(page, users_url, "ali")
    story = first_story_path(page, users_url)
    page.goto(users_url + story)
    page.get_by_role("button", name=re.compile("Mute for")).click()
    expect(page.locator(".muted-note")).to_contain_text("by ali")
    page.get_by_role("button", name=re.compile("Unmute")).click()
    expect(page.locator(".muted-note")).to_have_count(0)
    answer = page.request.post(users_url + "/deliveries/retry", form={"csrf": csrf_of(page)})
    assert answer.status == 403 and "admin role" in answer.text()


def test_every_post_needs_the_sessions_csrf_token(live, page):
    page.goto(live.url("/"))
    story = first_story_path(page, live.url(""))
    before = live.call(_silence_count(live))
    for form in ({}, {"csrf": "forged"}, {"csrf": ""}):
        answer = page.request.post(live.url(story + "/mute"), form={**form, "reason": "x"})
        assert answer.status == 403
        assert "security token" in answer.text()
    # another browser's token is no good either: tokens belong to their session
    other = page.context.browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(live.url("/"))
        token = csrf_of_any(stranger)
    finally:
        other.close()
    assert page.request.post(live.url(story + "/mute"), form={"csrf": token}).status == 403
    assert live.call(_silence_count(live)) == before


def test_a_tampered_session_cookie_is_not_a_login(users_url, page):
    log_in(page, users_url, "ada")
    expect(page.get_by_text("ada (admin)")).to_be_visible()
    [cookie] = page.context.cookies()
    page.context.clear_cookies()
    forged = cookie["value"][:-3] + ("AAA" if not cookie["value"].endswith("AAA") else "BBB")
    page.context.add_cookies([{**cookie, "value": forged}])
    page.goto(users_url + "/deliveries")
    expect(page).to_have_url(re.compile(r"/login"))


def csrf_of_any(page) -> str:
    page.goto(page.url.rsplit("/", 1)[0] + "/silences")
    return page.locator("input[name=csrf]").first.get_attribute("value")


def _silence_count(live):
    async def count():
        return len(live.service.store.silences.all())

    return count


def test_every_form_that_posts_carries_a_csrf_token(live, page):
    story = first_story_path(page, live.url(""))
    posting = 0
    for path in (
        "/", story, "/watches/balochistan-attacks", "/outlets", "/silences",
        "/deliveries?status=dead", "/deliveries?status=pending",
    ):  # fmt: skip
        page.goto(live.url(path))
        for form in page.locator("form").all():
            if (form.get_attribute("method") or "get").lower() == "post":
                posting += 1
                token = form.locator("input[type=hidden][name=csrf]")
                assert token.count() == 1, (path, form.get_attribute("action"))
                assert len(token.get_attribute("value") or "") >= 20
    assert posting >= 5  # mute, try, replay, new silence, expire…


def test_the_keyboard_reaches_the_content_first(live, page):
    page.goto(live.url("/"))
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_accessible_name("Watch")


def test_slack_clicks_reach_their_own_signature_check_not_the_dashboards(live, page):
    # Slack posts button clicks with its signature and no session: the dashboard's CSRF
    # guard must leave /slack/actions to feedback/slack.py, which refuses an unsigned one.
    answer = page.request.post(live.url("/slack/actions"), form={"payload": "{}"})
    assert answer.status == 401
    assert "invalid signature" in answer.text()
    assert "security token" not in answer.text()
