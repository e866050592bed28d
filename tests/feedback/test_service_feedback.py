"""The running service learns from a judgement made with the CLI: the real `wirewatch run`,
its real store, a local outlet publishing wire copies of one report.

A judgement "not relevant" of the first copy changes the decision on the next copy within
10 s, without a restart; it survives SIGKILL (the restarted service decides with it), and
undoing it brings the alerts back. The story's Slack message is muted with its button, over
the service's own Socket Mode connection to the local Slack server.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feedback.test_backtest_feedback import REPUBLISHED, SEED, WATCH
from tests.fixtures.configs import (
    attacks_watch,
    local_crawler,
    outlet_entry,
    service_config,
    slack_notifier,
    sqlite,
)
from tests.fixtures.process import WirewatchProcess, eventually
from tests.fixtures.slack_api import block_action

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
ADAPT_WITHIN_S = 10.0


COPIES = [SEED, *REPUBLISHED, SEED]


def publish(outlets, count: int) -> list[str]:
    """The first `count` copies on the outlet's feed; their URLs. Each ends with its own
    credit line: the same text again from one outlet would be a duplicate, never decided."""
    items = []
    for number, article in enumerate(COPIES[:count], start=1):
        path = f"/news/{number}"
        *body, last = article.paragraphs
        credit = f" Desk {number} confirmed the figures with officials in Quetta late that night."
        outlets.add_article(path, article.title, [*body, last + credit])
        items.append(
            {"title": article.title, "url": path, "summary": article.summary,
             "published": datetime.now(UTC)}
        )  # fmt: skip
    outlets.add_feed("/feed.xml", items, kind="atom")  # no <ttl>: polled every interval
    return [outlets.url(f"/news/{n}") for n in range(1, count + 1)]


def decision(db: Path, url: str) -> tuple[bool, str] | None:
    """The watch's recorded decision on the article at `url`, once it is decided."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT m.matched, m.reason FROM matches m JOIN articles a ON a.id = m.article_id"
            " WHERE a.url = ? AND m.watch = ?",
            (url, WATCH),
        ).fetchone()
    return (bool(row[0]), row[1]) if row else None


async def cli(config: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wirewatch", "feedback", *args, "-c", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def refreshed(examples: int):
    return lambda e: e.get("event") == "feedback.refreshed" and e.get("examples") == examples


def write_config(tmp_path: Path, outlet_server, slack_api) -> Path:
    return service_config(
        tmp_path,
        storage=sqlite(tmp_path / "w.db"),
        crawler=local_crawler(),
        outlets=[outlet_entry("wire", outlet_server.url("/feed.xml"), interval="10s")],
        watches=[attacks_watch(group_wait="0s", notify=["soc-slack"])],
        notifiers=[slack_notifier(slack_api, app_token=slack_api.app_token)],
    )


async def test_a_cli_judgement_changes_the_next_decision_and_survives_sigkill(
    tmp_path, outlet_server, slack_api
):
    db = tmp_path / "w.db"
    config = write_config(tmp_path, outlet_server, slack_api)
    [first] = publish(outlet_server, 1)
    service = WirewatchProcess(config)
    await service.start()
    try:
        await service.wait_for(lambda e: e.get("event") == "story.new" and e.get("url") == first)
        await cli(config, first, "--watch", WATCH, "not-relevant", "--note", "not for us")
        judged = time.monotonic()
        await service.wait_for(refreshed(1), within=ADAPT_WITHIN_S)
        assert time.monotonic() - judged <= ADAPT_WITHIN_S

        second = publish(outlet_server, 2)[1]
        matched, reason = await eventually(lambda: decision(db, second), what="the second copy")
        assert not matched and reason.startswith("feedback: like")

        # the story's Slack message: its Mute button, clicked over the service's Socket Mode
        [message] = await eventually(lambda: slack_api.posts, what="the Slack alert")
        await slack_api.interact(block_action(message, "wirewatch-mute"))
        await eventually(lambda: "muted" in str(message.blocks), what="the message updated")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            assert conn.execute("SELECT created_by FROM silences").fetchall() == [("ayesha",)]
    finally:
        await service.kill()  # SIGKILL: nothing is flushed

    assert "not relevant" in await cli(config, "list")
    restarted = WirewatchProcess(config)
    await restarted.start()
    try:
        await restarted.wait_for(refreshed(1))  # the judgement, read back at start
        third = publish(outlet_server, 3)[2]
        matched, _ = await eventually(lambda: decision(db, third), what="the third copy")
        assert not matched, "the restarted service decides with the judgement"

        await cli(config, "undo", "1")
        await restarted.wait_for(refreshed(0), within=ADAPT_WITHIN_S)
        fourth = publish(outlet_server, 4)[3]
        matched, _ = await eventually(lambda: decision(db, fourth), what="the fourth copy")
        assert matched, "after the undo the watch alerts again"

        # the app-level token rotated: a reload (SIGHUP) connects Socket Mode with the new one
        slack_api.app_token = "xapp-1-wirewatch-rotated-app-token"
        write_config(tmp_path, outlet_server, slack_api)
        opened, ready = slack_api.connections, restarted.find("service.ready")[-1]
        restarted.send(signal.SIGHUP)
        await restarted.wait_for("config.reloaded", after=ready)
        await eventually(lambda: slack_api.connections > opened, what="the new connection")
        await eventually(lambda: len(slack_api.sockets) == 1, what="the old one closed")
        message = slack_api.posts[0]
        await slack_api.interact(block_action(message, "wirewatch-relevant", user="bilal"))
        await eventually(lambda: "Judged relevant by bilal" in str(message.blocks), what="it")
    finally:
        assert await restarted.stop() == 0
