"""SlackWebhookNotifier through a real aiohttp client against the local Slack incoming webhook."""

from __future__ import annotations

import re
import socket
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from tests.fixtures.slack_api import sample_alert
from wirewatch.notifiers import SlackWebhookNotifier, build_notifier


def hook_config(url, **changes) -> SimpleNamespace:
    return SimpleNamespace(**{"name": "ops-hook", "type": "slack_webhook", "url": url, **changes})


def texts(blocks) -> list[str]:
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", [])]
    return found


async def send(notifier, alert, thread_ref=None):
    try:
        return await notifier.send(alert, thread_ref)
    finally:
        await notifier.close()


async def test_new_story_is_posted_as_json_with_blocks(slack_api):
    notifier = build_notifier(hook_config(SecretStr(slack_api.webhook_url)))

    result = await send(notifier, sample_alert(outlets=("dawn", "geo")))

    assert result.ok, result.error
    [call] = slack_api.webhook_messages
    assert call.headers["Content-Type"].startswith("application/json")
    assert "Authorization" not in call.headers  # the URL is the credential
    assert call.params["unfurl_links"] is False
    assert "New story (balochistan-attacks)" in call.text
    shown = "\n".join(texts(call.blocks))
    assert "<https://dawn.example.org/news/0|Militants strike army camps" in shown
    assert "2 sources" in shown


async def test_update_is_a_standalone_message_naming_the_story(slack_api):
    alert = sample_alert("story_update", outlets=("geo", "tribune"), known=1)

    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), alert, "ignored")

    assert result.ok
    [call] = slack_api.webhook_messages
    first = texts(call.blocks)[0]
    assert first.startswith("*Update:* 2 new sources for *<https://outlet0.example.org/news/0|")
    assert call.text.startswith("Update: 2 new sources (geo, tribune)")
    assert "thread_ts" not in call.params


async def test_hostile_title_is_escaped(slack_api):
    alert = sample_alert(title="<!channel> breaking & <https://evil.example|click>")

    assert (await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), alert)).ok

    [call] = slack_api.webhook_messages
    for text in [call.text, *texts(call.blocks)]:
        assert "<!channel>" not in text and "evil.example|click>" not in text
    assert "&lt;!channel&gt; breaking &amp;" in call.text


@pytest.mark.parametrize(
    ("status", "code", "words", "retryable"),
    [
        (400, "invalid_payload", "HTTP 400 Bad Request: invalid_payload", False),
        (404, "no_service", "disabled or removed", True),  # the operator replaces the URL
        (403, "action_prohibited", "blocks posting", True),
        (403, "invalid_token", "the webhook URL is wrong", True),
        (410, "channel_is_archived", "archived", False),
    ],
)
async def test_slack_error_texts_are_explained(slack_api, status, code, words, retryable):
    slack_api.fail_next(1, status=status, error=code, method="webhook")

    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), sample_alert())

    assert not result.ok and result.retryable is retryable
    assert result.error.startswith(f"the Slack webhook answered HTTP {status} ")
    assert code in result.error and words in result.error
    assert "wirewatchwebhooksecret" not in result.error  # the URL is a secret


async def test_long_story_id_is_cut_to_slack_limits(slack_api):
    alert = sample_alert()
    alert.story.id = "x" * 4000  # the fixture rejects what Slack would (invalid_blocks)
    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), alert)
    assert result.ok, result.error


async def test_rate_limit_is_retryable_with_retry_after(slack_api):
    slack_api.fail_next(1, status=429, error="rate_limited", retry_after=30, method="webhook")

    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), sample_alert())

    assert not result.ok and result.retryable and result.retry_after == 30
    assert "429" in result.error and "rate_limited" in result.error
    assert len(slack_api.calls) == 1  # no retry inside the client


async def test_server_error_is_retryable(slack_api):
    slack_api.fail_next(1, status=503, method="webhook")

    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), sample_alert())

    assert not result.ok and result.retryable
    assert re.match(r"the Slack webhook answered HTTP 503 Service Unavailable", result.error)


async def test_unreachable_webhook_is_retryable_without_showing_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services/T0/B0/topsecret"

    result = await send(SlackWebhookNotifier(hook_config(url)), sample_alert())

    assert not result.ok and result.retryable
    assert result.error.startswith("could not reach the Slack webhook: ")
    assert "topsecret" not in result.error


@pytest.mark.parametrize(
    "url",
    [
        "https://[hooks.slack.com/services/T0/B0/topsecretXYZ123",  # an unclosed IPv6 bracket
        "https://hooks.slack.com:99999/services/T0/B0/topsecretXYZ123",  # port out of range
        "https://hooks.slack.com:443x/services/T0/B0/topsecretXYZ123",
        "https:///services/T0/B0/topsecretXYZ123",  # no host
    ],
)
async def test_a_malformed_webhook_url_is_not_in_the_error(url):
    # aiohttp's error for a URL it cannot read is the URL itself, token and all
    result = await send(SlackWebhookNotifier(hook_config(url)), sample_alert())

    assert not result.ok and result.retryable  # the operator fixes the URL; alerts wait
    assert result.error == (
        "could not reach the Slack webhook: the notifier's URL is not a valid URL "
        "(fix the notifier's config; alerts wait in the outbox)"
    )
    assert "topsecret" not in result.error and "services" not in result.error


async def test_what_slack_echoes_of_the_url_is_hidden(slack_api):
    secret = slack_api.webhook_url.rsplit("/", 1)[1]
    slack_api.fail_next(1, status=404, error=f"no_service for {secret}", method="webhook")

    result = await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), sample_alert())

    assert not result.ok and "no_service" in result.error and secret not in result.error


async def test_outlet_text_formats_nothing_and_links_nothing(slack_api):
    alert = sample_alert(
        title="*Breaking* _attack_ ~in~ `Quetta`", evidence="Video: https://evil.example/x *now*."
    )

    assert (await send(SlackWebhookNotifier(hook_config(slack_api.webhook_url)), alert)).ok

    [call] = slack_api.webhook_messages
    objects = [b["text"] for b in call.blocks if "text" in b]
    objects += [o for b in call.blocks for o in b.get("fields", []) + b.get("elements", [])]
    assert objects and all(o["type"] == "mrkdwn" and o["verbatim"] is True for o in objects)
    shown = "\n".join(texts(call.blocks))
    for markup in ("*Breaking*", "_attack_", "~in~", "`Quetta`", "*now*"):
        assert markup not in shown and markup not in call.text
    assert "∗Breaking∗ ˍattackˍ ∼in∼ ˋQuettaˋ" in shown
