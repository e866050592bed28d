"""A hostile article through the whole service: outlet -> crawler -> model -> stories -> receivers.

The headline and lead carry Slack broadcast mentions, a disguised link, a bare `&`,
a newline, a bell and a right-to-left override. Every receiver must show them as text:
no ping, no link, no forged line, no header. The notifiers' unit tests cover formatting
on its own; this is the same promise with every stage real in between.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.configs import (
    attacks_watch,
    config_yaml,
    email_notifier,
    local_crawler,
    outlet_entry,
    slack_notifier,
    slack_webhook_notifier,
    sqlite,
    webhook_notifier,
)
from tests.fixtures.outlets import OutletServer
from tests.fixtures.slack_api import SlackApiServer, SlackCall
from tests.fixtures.smtp import SmtpServer
from wirewatch.config.loader import load_config_text
from wirewatch.demo.articles import DEMO_ARTICLES
from wirewatch.service.service import Service

pytestmark = pytest.mark.slow
webhook_receiver = receiver_fixtures.webhook_receiver

HOSTILE = (
    "<!channel> @here BLA militants strike <https://evil.example/x|click here> in Quetta"
    " & Gwadar\nFORGED LINE\x07 \u202eeviL"
)
SEED = next(a for a in DEMO_ARTICLES if a.slug == "bla-coordinated-attacks-ten-balochistan-towns")


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def config_text(feed: str, slack: SlackApiServer, webhook: str, smtp: SmtpServer, db) -> str:
    targets = ["soc-slack", "ops-hook", "siem", "digest"]
    return config_yaml(
        storage=sqlite(db),
        crawler=local_crawler(),
        outlets=[outlet_entry("hostile-outlet", feed, interval="1h")],
        watches=[attacks_watch(group_wait="0s", notify=targets)],
        notifiers=[
            slack_notifier(slack, channel="#soc"),
            slack_webhook_notifier(slack.webhook_url),
            webhook_notifier(webhook, secret="hmac-secret-for-the-siem"),
            email_notifier(host=smtp.host, port=smtp.port, starttls=False),
        ],
    )


def slack_texts(call: SlackCall) -> list[str]:
    """The fallback text and every mrkdwn string of the message's blocks."""
    texts = [call.text or ""]
    for block in call.blocks or []:
        texts.append((block.get("text") or {}).get("text", ""))
        texts += [f.get("text", "") for f in block.get("fields") or []]
        texts += [e.get("text", "") for e in block.get("elements") or []]
    return texts


def assert_inert_mrkdwn(text: str) -> None:
    assert not re.search(r"<!(channel|here|everyone)", text), text
    assert not re.search(r"(?<![\w\u200b])@(here|channel|everyone)\b", text), text
    assert "evil.example" not in re.findall(r"<(https?://[^|>]+)", text).__str__(), text
    assert not re.search(r"&(?!amp;|lt;|gt;)", text), f"a bare & in {text!r}"
    assert "\nFORGED LINE" not in text, text


async def test_a_hostile_headline_reaches_every_receiver_as_plain_text(
    outlet_server: OutletServer, slack_api, webhook_receiver, smtp_server, tmp_path
):
    lead, now = f"{HOSTILE}. {SEED.paragraphs[0]}", datetime.now(UTC)
    outlet_server.add_article("/news/evil", HOSTILE, [lead, *SEED.paragraphs[1:]], published=now)
    item = {"title": escape_html(HOSTILE), "url": "/news/evil", "summary": escape_html(lead)}
    feed = outlet_server.add_feed("/feed.json", [item | {"published": now}], kind="json")
    text = config_text(feed, slack_api, webhook_receiver.url, smtp_server, tmp_path / "w.db")
    service = Service(load_config_text(text, filename="hostile.yaml"))
    await service.start()
    try:
        await service.run_cycle(flush_timeout_s=30)
        report = await service.digests.send("digest")
        [stored] = [o.article for o in service.report.outcomes]
        stories = service.store.stories.recent()
    finally:
        await service.stop()

    # The hostile text went all the way: stored as it was published, matched, one story.
    assert "<!channel>" in stored.title and "<https://evil.example/x|click here>" in stored.title
    assert len(stories) == 1
    assert report.sent, report

    # Slack Web API and incoming webhook: escaped mrkdwn, nothing that pings or links.
    [post] = [c for c in slack_api.calls if c.method == "chat.postMessage"]
    [hook] = slack_api.webhook_messages
    for call in (post, hook):
        rendered = slack_texts(call)
        assert any("&lt;!channel&gt;" in t for t in rendered), rendered
        for piece in rendered:
            assert_inert_mrkdwn(piece)

    # Webhook: the title is data inside JSON; no header carries any of it.
    [request] = webhook_receiver.requests
    payload = json.loads(request.body)
    assert payload["articles"][0]["title"] == stored.title
    assert request.headers["Content-Type"].startswith("application/json")
    assert not any("FORGED" in value for value in request.headers.values())

    # Email: one line of escaped text in the HTML part; no injected header or link.
    [message] = smtp_server.messages
    assert "FORGED" not in str(message["Subject"])
    assert all("FORGED" not in value for value in message.values())
    html = message.get_body(("html",)).get_content()
    plain = message.get_body(("plain",)).get_content()
    assert "&lt;!channel&gt;" in html and "<!channel>" not in html
    assert 'href="https://evil.example' not in html
    assert "<!channel> @here BLA militants strike" in plain

    # Invisible control characters and direction overrides (which can make a headline read
    # backwards) are dropped too.
    shown = [*slack_texts(post), *slack_texts(hook), html, plain]
    assert not [text for text in shown if "\x07" in text or "\u202e" in text]
