"""The whole service, every stage real: local outlets -> crawler -> model -> stories -> Slack.

The outlets are real HTTP servers on 127.0.0.1 serving feeds and article pages; the
model is the bundled one; Slack is the real slack-sdk client talking to a local
server that speaks the Slack Web API.
"""

from __future__ import annotations

import pytest

from tests.fixtures.configs import (
    ATTACKS_EXAMPLES,
    ATTACKS_EXCLUDE,
    attacks_watch,
    config_yaml,
    site_outlets,
    slack_notifier,
    sqlite,
)
from wirewatch.config.loader import load_config_text
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS
from wirewatch.demo.site import DemoSite
from wirewatch.service.service import Service

pytestmark = pytest.mark.slow

# The seed event told by three outlets: the wire original, a syndicated copy, a rewrite.
SEED = {
    "bla-coordinated-attacks-ten-balochistan-towns",
    "militants-attack-ten-towns-balochistan",
    "pakistan-balochistan-insurgents-night-of-attacks",
}
UNRELATED = {
    "us-government-shutdown-begins",
    "ransomware-attack-bank-card-servers",
    "gladiators-pace-attack-routs-peshawar-in-quetta",
    "gunmen-attack-police-stations-zahedan-iran",
    "gwadar-port-cargo-volumes-rise",
    "baloch-culture-day-turbat-gwadar",
}
ARTICLES = [a for a in DEMO_ARTICLES if a.slug in SEED | UNRELATED]
SEED_WORDS = ("Balochistan", "Quetta", "Gwadar", "BLA", "Baloch")


def service_config(site: DemoSite, slack_api, db_path, *, group_wait: str) -> str:
    return config_yaml(
        storage=sqlite(db_path),
        crawler={"allow_private_addresses": True},
        outlets=site_outlets(site, *DEMO_OUTLETS, interval="60s"),
        watches=[
            attacks_watch(
                examples=ATTACKS_EXAMPLES,
                exclude=ATTACKS_EXCLUDE,
                group_wait=group_wait,
                update_interval="0s",
                notify=["soc-slack"],
            )
        ],
        notifiers=[slack_notifier(slack_api)],
    )


async def run_cycle(config_text: str) -> Service:
    service = Service(load_config_text(config_text, filename="e2e.yaml"))
    await service.start()
    try:
        await service.run_cycle(flush_timeout_s=30)
    finally:
        await service.stop()
    return service


async def test_seed_story_from_three_outlets_is_one_message_and_two_replies(slack_api, tmp_path):
    async with DemoSite(ARTICLES, DEMO_OUTLETS) as site:
        text = service_config(site, slack_api, tmp_path / "w.db", group_wait="0s")
        await run_cycle(text)

        assert len(slack_api.posts) == 1, [p.text for p in slack_api.posts]
        assert len(slack_api.replies) == 2, [r.text for r in slack_api.replies]
        [parent] = slack_api.posts
        assert any(word in parent.text for word in SEED_WORDS)
        assert parent.blocks, "the message carries Block Kit blocks"
        assert {r.thread_ts for r in slack_api.replies} == {parent.ts}
        # Every call carried the bot token (the server rejects others with invalid_auth).
        assert all(c.ok for c in slack_api.calls)

        # A restart on the same database posts nothing again.
        posted = len(slack_api.calls)
        await run_cycle(text)
        assert len(slack_api.posts) == 1
        assert len(slack_api.replies) == 2
        assert not [c for c in slack_api.calls[posted:] if c.method == "chat.postMessage"]


async def test_reports_within_the_grouping_wait_make_one_alert_listing_every_source(
    slack_api, tmp_path
):
    async with DemoSite(ARTICLES, DEMO_OUTLETS) as site:
        await run_cycle(service_config(site, slack_api, tmp_path / "w.db", group_wait="15s"))

    assert len(slack_api.posts) == 1, [p.text for p in slack_api.posts]
    assert not slack_api.replies
    [parent] = slack_api.posts
    outlets = {a.outlet for a in ARTICLES if a.slug in SEED}
    rendered = parent.text + str(parent.blocks)
    assert "3 sources" in rendered or all(o in rendered for o in outlets)
