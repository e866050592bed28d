"""The real `wirewatch run`, full of secrets and failing receivers, at debug level: its output
is JSON lines only, and no secret appears in any of them.

Secrets come from the environment as `${NAME}`, as documented: a Slack token that works,
one Slack rejects, a Slack webhook URL that answers 404, a webhook HMAC secret and a token
in the webhook's query string with a receiver answering 500, an SMTP password, and a
password inside a feed URL. Every failure path logs; none may show what it failed with.
"""

from __future__ import annotations

import signal

import pytest

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.configs import (
    attacks_watch,
    config_yaml,
    email_notifier,
    local_crawler,
    outlet_entry,
    site_outlets,
    slack_notifier,
    slack_webhook_notifier,
    sqlite,
    webhook_notifier,
)
from tests.fixtures.process import WirewatchProcess, eventually
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS
from wirewatch.demo.site import DemoSite

pytestmark = pytest.mark.slow
webhook_receiver = receiver_fixtures.webhook_receiver

SLUGS = {
    "bla-coordinated-attacks-ten-balochistan-towns",
    "militants-attack-ten-towns-balochistan",
}


def config_text(site: DemoSite, slack_api) -> str:
    # A feed behind a password that answers 404: its URL goes into the poll's error message.
    gone = site.base_url.replace("http://", "http://reader:${FEED_PASSWORD}@") + "/gone/feed"
    outlets = site_outlets(site, "frontier-post-wire", "indus-daily", interval="10s")
    targets = ["soc-slack", "bad-slack", "ops-hook", "siem", "digest"]
    return config_yaml(
        storage=sqlite("${DB}"),
        crawler=local_crawler(),
        outlets=[*outlets, outlet_entry("members-only", gone, interval="10s")],
        watches=[attacks_watch(group_wait="0s", update_interval="0s", notify=targets)],
        notifiers=[
            slack_notifier(slack_api, token="${SLACK_BOT_TOKEN}", channel="#soc"),
            slack_notifier(slack_api, name="bad-slack", token="${BAD_SLACK_TOKEN}", channel="#soc"),
            slack_webhook_notifier("${SLACK_WEBHOOK_URL}"),
            webhook_notifier("${SIEM_URL}", secret="${WEBHOOK_SECRET}"),
            email_notifier(
                host="127.0.0.1",
                port=1,
                starttls=False,
                username="soc",
                password="${SMTP_PASSWORD}",
            ),
        ],
    )


async def test_debug_logs_are_json_lines_without_a_single_secret(
    slack_api, webhook_receiver, tmp_path
):
    webhook_receiver.respond_next(50, status=500, body="upstream broke")
    secrets = {
        "SLACK_BOT_TOKEN": slack_api.token,
        "BAD_SLACK_TOKEN": "xoxb-000-rejected-SECRET-9f8e7d",
        "SLACK_WEBHOOK_URL": slack_api.webhook_url.replace("wirewatchwebhooksecret", "nope")
        + "Z9y8X7w6V5u4T3s2",
        "WEBHOOK_SECRET": "hmac-Secret-for-the-siem-42",
        "SIEM_URL": webhook_receiver.url_for("/hook?token=query-Secret-77"),
        "SMTP_PASSWORD": "smtp-Password-correct-horse",
        "FEED_PASSWORD": "feed-Password-31337",
    }
    async with DemoSite([a for a in DEMO_ARTICLES if a.slug in SLUGS], DEMO_OUTLETS) as site:
        config = tmp_path / "wirewatch.yaml"
        config.write_text(config_text(site, slack_api))
        env = {**secrets, "DB": str(tmp_path / "w.db")}
        proc = WirewatchProcess(config, env=env, args=("--log-level", "debug"))
        await proc.start()
        ready = await proc.wait_for("service.ready")
        await eventually(lambda: slack_api.replies, within=60, what="the update in Slack")
        await eventually(
            lambda: len(webhook_receiver.requests) >= 2, within=60, what="failed webhooks"
        )
        await eventually(
            lambda: any("members-only" in e.get("message", "") for e in proc.events),
            within=60,
            what="the failed poll of the feed behind a password",
        )
        proc.send(signal.SIGHUP)
        await proc.wait_for("config.reloaded", after=ready, within=60)
        assert await proc.stop() == 0

    assert proc.non_json == [], proc.non_json[:5]
    warnings = " ".join(e["message"] for e in proc.events if e["level"] in ("warning", "error"))
    assert "invalid_auth" in warnings  # the failures were logged, and said why
    assert "500" in warnings
    # The safety net at work: the feed URL is in the message, its password is not.
    assert "http://reader:***@127.0.0.1" in warnings, warnings
    leaked = {
        name: [line for line in proc.output if value in line]
        for name, value in {**secrets, "BOT_TOKEN": slack_api.token}.items()
        if name != "SLACK_WEBHOOK_URL" and name != "SIEM_URL"
    }
    leaked["webhook URL"] = [line for line in proc.output if "Z9y8X7w6V5u4T3s2" in line]
    leaked["query token"] = [line for line in proc.output if "query-Secret-77" in line]
    assert not any(leaked.values()), {k: v[:2] for k, v in leaked.items() if v}
