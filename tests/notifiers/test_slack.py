"""SlackNotifier through the real slack-sdk AsyncWebClient against the local Slack API."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import HttpUrl, SecretStr

from tests.fixtures.slack_api import block_problems, sample_alert
from wirewatch import defaults
from wirewatch.notifiers import SlackNotifier, build_notifier
from wirewatch.notifiers.slack import ChannelPacer, story_message, update_message

OUR_LINK = re.compile(r"<https?://[^\s<>|]+\|[^<>]*>")


@pytest.fixture(autouse=True)
def no_channel_pacing(monkeypatch):
    """Messages in these tests go out at once; pacing has its own test with a fake clock."""
    monkeypatch.setattr(defaults, "SLACK_CHANNEL_INTERVAL_S", 0.0)


def slack_config(slack_api, **changes) -> SimpleNamespace:
    values = dict(
        name="soc-slack",
        type="slack",
        token=slack_api.token,
        channel="#security-alerts",
        base_url=slack_api.base_url,
    )
    return SimpleNamespace(**{**values, **changes})


def texts(blocks) -> list[str]:
    """Every mrkdwn string of a message's blocks."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", [])]
    return found


async def test_new_story_is_one_message_with_blocks_and_fallback(slack_api):
    notifier = build_notifier(slack_config(slack_api))
    alert = sample_alert(outlets=("dawn",))

    result = await notifier.send(alert, None)

    assert result.ok, result.error
    [message] = slack_api.posts
    assert result.remote_ref == message.ts
    assert re.fullmatch(r"\d{10}\.\d{6}", message.ts)
    assert message.channel == "#security-alerts"
    assert slack_api.calls[0].headers["Authorization"] == f"Bearer {slack_api.token}"
    assert "Militants strike army camps" in message.text
    assert "balochistan-attacks" in message.text
    shown = "\n".join(texts(message.blocks))
    assert "<https://dawn.example.org/news/0|Militants strike army camps" in shown
    assert "*dawn*" in shown and "24 Nov 2026 07:05 UTC" in shown
    assert "Balochistan" in shown and "Quetta, Gwadar" in shown and "0.71" in shown
    assert "> Gunmen attacked two army camps" in shown
    assert "fourth sentence" not in shown  # the excerpt is 2-3 sentences, not the passage
    assert "1 source" in shown
    assert not slack_api.replies


async def test_several_sources_arriving_together_are_listed(slack_api):
    notifier = SlackNotifier(slack_config(slack_api))
    result = await notifier.send(sample_alert(outlets=("dawn", "geo", "tribune")), None)

    assert result.ok
    shown = "\n".join(texts(slack_api.posts[0].blocks))
    assert "3 sources" in shown and "(3 sources)" in slack_api.posts[0].text
    for outlet in ("dawn", "geo", "tribune"):
        assert f"• *{outlet}* — <https://{outlet}.example.org/news/" in shown


async def test_update_replies_in_thread_and_updates_parent_count(slack_api):
    notifier = SlackNotifier(slack_config(slack_api))
    first = await notifier.send(sample_alert(outlets=("dawn",)), None)
    update = sample_alert("story_update", outlets=("geo", "tribune"), known=1)

    result = await notifier.send(update, first.remote_ref)

    assert result.ok, result.error
    assert len(slack_api.posts) == 1
    [reply] = slack_api.replies
    assert reply.thread_ts == first.remote_ref
    reply_text = "\n".join(texts(reply.blocks))
    assert "2 new sources" in reply_text
    assert "*geo* — <https://geo.example.org/news/1|" in reply_text
    assert "*tribune*" in reply_text and "3 sources in all" in reply_text
    [parent] = slack_api.posts
    assert parent.edits == 1
    assert "3 sources" in "\n".join(texts(parent.blocks))
    assert "1 source" in "\n".join(texts(parent.history[0][1]))
    assert [c.method for c in slack_api.calls] == [
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
    ]


async def test_failed_parent_update_is_not_a_failed_delivery(slack_api, caplog):
    notifier = SlackNotifier(slack_config(slack_api))
    first = await notifier.send(sample_alert(), None)
    slack_api.fail_next(1, error="cant_update_message", method="chat.update")

    result = await notifier.send(sample_alert("story_update", known=1), first.remote_ref)

    assert result.ok
    assert len(slack_api.replies) == 1
    assert slack_api.posts[0].edits == 0
    assert "cant_update_message" in caplog.text


async def test_update_without_thread_is_posted_as_update_message(slack_api):
    notifier = SlackNotifier(slack_config(slack_api))
    result = await notifier.send(sample_alert("story_update", outlets=("geo",), known=1), None)

    assert result.ok
    [message] = slack_api.posts
    assert message.text.startswith("Update")
    assert "*Update:*" in texts(message.blocks)[0]


async def test_rate_limit_with_retry_after_is_retried_then_ok(slack_api):
    slack_api.fail_next(1, status=429, retry_after=0)
    notifier = SlackNotifier(slack_config(slack_api))

    result = await notifier.send(sample_alert(), None)

    assert result.ok, result.error
    assert [c.status for c in slack_api.calls] == [429, 200]
    assert len(slack_api.posts) == 1


async def test_rate_limit_twice_is_retryable_with_retry_after(slack_api):
    slack_api.fail_next(1, status=429, retry_after=0)
    slack_api.fail_next(1, status=429, retry_after=7)
    notifier = SlackNotifier(slack_config(slack_api))

    result = await notifier.send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert result.retry_after == 7
    assert "429" in result.error
    assert not slack_api.posts


async def test_long_rate_limit_is_handed_back_not_slept_in_the_client(slack_api):
    slack_api.fail_next(1, status=429, retry_after=3600)
    notifier = SlackNotifier(slack_config(slack_api))
    started = time.monotonic()

    result = await notifier.send(sample_alert(), None)

    assert time.monotonic() - started < 2
    assert not result.ok and result.retryable
    assert result.retry_after == 3600  # the delivery worker waits, not slack-sdk
    assert len(slack_api.calls) == 1


async def test_rate_limit_with_http_date_retry_after(slack_api):
    when = datetime.now(UTC) + timedelta(seconds=120)
    slack_api.fail_next(1, status=429, retry_after=format_datetime(when, usegmt=True))

    result = await SlackNotifier(slack_config(slack_api)).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert 100 <= result.retry_after <= 121
    assert len(slack_api.calls) == 1


async def test_server_error_with_retry_after_is_retryable(slack_api):
    slack_api.fail_next(1, status=503, retry_after=30)

    result = await SlackNotifier(slack_config(slack_api)).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert result.retry_after == 30 and "503" in result.error


async def test_server_error_is_retryable(slack_api):
    slack_api.fail_next(1, status=500)
    notifier = SlackNotifier(slack_config(slack_api))

    result = await notifier.send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert "500" in result.error
    assert len(slack_api.calls) == 1  # no hidden retry storm


async def test_wrong_token_is_said_in_words_and_the_alert_waits(slack_api):
    """invalid_auth is the operator's to fix: retried (not dead-lettered) until they do."""
    notifier = SlackNotifier(slack_config(slack_api, token=SecretStr("xoxb-wrong")))

    result = await notifier.send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert result.error == (
        "Slack rejected the token (invalid_auth): fix the config; alerts wait in the outbox"
    )
    assert slack_api.calls[0].headers["Authorization"] == "Bearer xoxb-wrong"
    assert not slack_api.posts


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("channel_not_found", "#security-alerts"),
        ("not_in_channel", "invite"),
        ("account_inactive", "inactive"),
        ("missing_scope", "chat:write"),
    ],
)
async def test_config_problems_wait_for_the_operator_with_the_slack_error(slack_api, error, words):
    slack_api.fail_next(1, error=error)
    result = await SlackNotifier(slack_config(slack_api)).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert error in result.error and words in result.error
    assert len(slack_api.calls) == 1


async def test_slack_side_trouble_reported_with_200_is_retryable(slack_api):
    slack_api.fail_next(1, error="internal_error")
    result = await SlackNotifier(slack_config(slack_api)).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert "internal_error" in result.error


async def test_other_api_errors_are_permanent(slack_api):
    slack_api.fail_next(1, error="invalid_arguments")
    result = await SlackNotifier(slack_config(slack_api)).send(sample_alert(), None)

    assert not result.ok and not result.retryable
    assert "invalid_arguments" in result.error


async def test_unreachable_slack_is_retryable():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = SimpleNamespace(
        name="s", token="xoxb-x", channel="#c", base_url=f"http://127.0.0.1:{port}/api"
    )
    started = time.monotonic()
    result = await SlackNotifier(config).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert result.error.startswith("could not reach Slack")
    assert time.monotonic() - started < 5


async def test_hostile_headline_pings_no_one(slack_api):
    hostile = "<!channel> @here Attack & <https://evil.example|click> <@U123> @Everyone"
    alert = sample_alert(title=hostile, evidence=hostile + ". More.")
    result = await SlackNotifier(slack_config(slack_api)).send(alert, None)

    assert result.ok
    [message] = slack_api.posts
    for text in [message.text, *texts(message.blocks)]:
        assert "<!" not in text
        assert "<@" not in text
        assert not re.search(r"@(here|channel|everyone)\b", text, re.IGNORECASE)
        assert "evil.example|click>" not in OUR_LINK.sub("", text)
        assert "<" not in OUR_LINK.sub("", text)  # only our own links remain as markup
    assert "&lt;!channel&gt;" in message.text and "Attack &amp;" in message.text


def text_objects(blocks) -> list[dict]:
    """Every text object of a message's blocks."""
    found = [block["text"] for block in blocks if "text" in block]
    return found + [o for b in blocks for o in b.get("fields", []) + b.get("elements", [])]


async def test_outlet_text_can_neither_format_nor_link(slack_api):
    markup = "*Breaking* _attack_ ~in~ `Quetta`"
    alert = sample_alert(
        title=markup,
        outlets=("*dawn*", "_geo_"),
        evidence="Watch it at https://evil.example/live and #general, *now*.",
    )
    notifier = SlackNotifier(slack_config(slack_api))
    first = await notifier.send(alert, None)
    update = sample_alert("story_update", title=markup, known=2, outlets=("~tribune~",))
    assert first.ok and (await notifier.send(update, first.remote_ref)).ok

    posted, replied = [c for c in slack_api.calls if c.method == "chat.postMessage"]
    for message in (posted, replied, slack_api.posts[0]):  # the parent as updated too
        objects = text_objects(message.blocks)
        # verbatim: Slack links no bare URL or #channel and parses no mention in them
        assert objects and all(o["type"] == "mrkdwn" and o["verbatim"] is True for o in objects)
        shown = "\n".join([message.text, *texts(message.blocks)])
        shown = re.sub(r"<https?://[^|>]*\|", "<", shown)  # a link's URL formats nothing
        for raw in ("*Breaking*", "_attack_", "~in~", "`Quetta`", "*dawn*", "_geo_", "*now*"):
            assert raw not in shown
    shown = "\n".join(texts(posted.blocks))
    assert "∗Breaking∗ ˍattackˍ ∼in∼ ˋQuettaˋ" in shown and "*∗dawn∗*" in shown
    assert "https://evil.example/live" in shown and "<https://evil.example" not in shown
    assert "*∼tribune∼*" in "\n".join(texts(replied.blocks))


def assert_within_slack_limits(message) -> str:
    assert not block_problems(message.blocks)
    assert len(message.blocks) <= 50
    assert all(len(t) <= 3000 for t in texts(message.blocks))
    assert len(message.text) <= 3000
    json.dumps(message.blocks)  # plain JSON
    return "\n".join(texts(message.blocks))


def listed_and_more(shown: str) -> tuple[int, int]:
    listed = len(re.findall(r"^• ", shown, re.MULTILINE))
    more = re.search(r"…and (\d+) more", shown)
    return listed, int(more.group(1)) if more else 0


async def test_huge_story_stays_within_slack_limits(slack_api):
    long_title = "Coordinated attacks & <raids> " * 350  # over 10 kB
    assert len(long_title) > 10_000
    alert = sample_alert(
        title=long_title, outlets=tuple(f"outlet-{i}" for i in range(200)), evidence="x" * 5000
    )
    result = await SlackNotifier(slack_config(slack_api)).send(alert, None)

    assert result.ok, (result.error, slack_api.calls[-1].error)
    [message] = slack_api.posts
    shown = assert_within_slack_limits(message)
    assert "200 sources" in shown
    listed, more = listed_and_more(shown)
    assert listed >= 1 and listed + more == 200


async def test_huge_update_stays_within_slack_limits(slack_api):
    notifier = SlackNotifier(slack_config(slack_api))
    title = "Attack " * 1500
    first = await notifier.send(sample_alert(title=title), None)
    update = sample_alert(
        "story_update", title=title, known=1, outlets=tuple(f"o{i}" for i in range(200))
    )

    result = await notifier.send(update, first.remote_ref)

    assert result.ok, (result.error, slack_api.calls[-1].error)
    [reply] = slack_api.replies
    shown = assert_within_slack_limits(reply)
    listed, more = listed_and_more(shown)
    assert listed + more == 200 and "201 sources in all" in shown
    assert slack_api.posts[0].edits == 1
    assert_within_slack_limits(slack_api.posts[0])


async def test_hostile_links_cannot_break_out_of_markup(slack_api):
    alert = sample_alert(outlets=("dawn", "geo"))
    alert.articles[0].url = "https://dawn.example.org/a|<!channel>&b=1>"
    alert.articles[1].url = "javascript:alert(1)"
    result = await SlackNotifier(slack_config(slack_api)).send(alert, None)

    assert result.ok
    shown = "\n".join(texts(slack_api.posts[0].blocks))
    assert "<!channel>" not in shown
    assert "https://dawn.example.org/a%7C%3C!channel%3E&amp;b=1%3E|" in shown
    assert "javascript:" not in shown


async def test_pydantic_config_values_are_accepted(slack_api):
    config = slack_config(
        slack_api, token=SecretStr(slack_api.token), base_url=HttpUrl(slack_api.base_url)
    )
    result = await build_notifier(config).send(sample_alert(), None)

    assert result.ok, result.error


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_text,
    outlet=st.text(max_size=300),
    evidence=_text,
    count=st.integers(1, 60),
    places=st.lists(st.text(max_size=500), max_size=30),
)
def test_any_story_message_is_within_slack_limits(title, outlet, evidence, count, places):
    alert = sample_alert(
        title=title, evidence=evidence, outlets=tuple(f"{outlet}{i}" for i in range(count))
    )
    alert.story.places = places
    for message in (
        story_message(alert.story, alert.articles),
        update_message(alert.story, alert.articles),
        update_message(alert.story, alert.articles, standalone=True),
    ):
        assert_within_slack_limits(message)
        for text in [message.text, *texts(message.blocks)]:
            assert "<!" not in text and "<@" not in text


async def test_messages_to_one_channel_are_spaced_a_second_apart(slack_api):
    now, slept = [1000.0], []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChannelPacer(1.0, clock=lambda: now[0], sleep=sleep)
    notifier = SlackNotifier(slack_config(slack_api), pacer=pacer)
    first = await notifier.send(sample_alert(), None)
    now[0] += 0.25
    await notifier.send(sample_alert("story_update", known=1), first.remote_ref)  # 0.75 s wait
    now[0] += 5.0
    await notifier.send(sample_alert(story_id="s-4"), None)  # long after: no wait

    assert slept == [pytest.approx(0.75)]
    assert len(slack_api.posts) == 2 and len(slack_api.replies) == 1
    assert slack_api.posts[0].edits == 1  # chat.update is not a new message: not paced
