"""The real `wirewatch run` process and its signals: SIGHUP reloads, SIGTERM/SIGINT stop cleanly.

Outlets are the demo site (real feeds and pages on 127.0.0.1); alerts go to a local
Slack Web API server through the real slack-sdk.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.configs import (
    attacks_watch,
    config_yaml,
    local_crawler,
    outlet_entry,
    service_config,
    shutdowns_watch,
    slack_notifier,
    sqlite,
)
from tests.fixtures.outlets import OutletServer
from tests.fixtures.process import WirewatchProcess, eventually, get_json
from tests.fixtures.slack_api import SlackApiServer
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS
from wirewatch.demo.site import DemoSite

pytestmark = pytest.mark.slow

AT_ONCE = {"group_wait": "0s", "update_interval": "0s", "notify": ["soc-slack"]}
ATTACKS = attacks_watch(**AT_ONCE)
SHUTDOWNS = shutdowns_watch(exclude=["a federal government shutdown over the budget"], **AT_ONCE)


def config(
    feeds: dict[str, str],
    watches: list[dict],
    slack: SlackApiServer,
    db: Path,
    interval: str = "10s",
) -> str:
    return config_yaml(
        storage=sqlite(db),
        crawler=local_crawler(),
        server={"listen": "127.0.0.1:0"},
        outlets=[outlet_entry(name, url, interval=interval) for name, url in feeds.items()],
        watches=watches,
        notifiers=[slack_notifier(slack, token="${SLACK_BOT_TOKEN}")],
    )


def pid_file_left(db: Path) -> bool:
    return Path(f"{db}.pid").exists()


def feeds(site: DemoSite, *names: str) -> dict[str, str]:
    return {name: site.feed_url(name) for name in names}


def feed_requests(site: DemoSite, outlet: str, start: int = 0) -> int:
    path = f"/{site.outlets[outlet].path}/feed"
    return sum(1 for r in site.requests[start:] if r.path == path)


async def wirewatch_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wirewatch",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_sighup_swaps_outlets_and_watches_in_and_keeps_them_when_the_new_file_is_bad(
    slack_api, tmp_path
):
    path, db = tmp_path / "wirewatch.yaml", tmp_path / "w.db"
    async with DemoSite(DEMO_ARTICLES, DEMO_OUTLETS) as site:
        path.write_text(
            config(feeds(site, "frontier-post-wire", "indus-daily"), [ATTACKS], slack_api, db)
        )
        token = {"SLACK_BOT_TOKEN": slack_api.token}
        proc = WirewatchProcess(path, env=token)
        await proc.start()
        status, health = await get_json(await proc.health_url() + "/healthz")
        assert (status, health["status"]) == (503, "starting")  # the model is still loading
        await proc.wait_for("service.ready")
        await eventually(lambda: slack_api.posts, within=60, what="the seed story's post")
        assert not any("Iraq" in p.text for p in slack_api.posts)

        # Outlets and a watch added, one outlet removed, through `wirewatch reload`.
        added = feeds(site, "frontier-post-wire", "global-desk", "tigris-monitor")
        path.write_text(config(added, [ATTACKS, SHUTDOWNS], slack_api, db))
        code, out = await wirewatch_cli("reload", "-c", str(path), env=token)
        assert code == 0, out
        assert f"pid {proc.pid}" in out
        reloaded = await proc.wait_for("config.reloaded", within=60)
        mark = len(site.requests)
        iraq = await eventually(
            lambda: [p for p in slack_api.posts if "Iraq" in p.text],
            within=60,
            what="a post from the added watch about the added outlets' story",
        )
        assert "internet-shutdowns" in iraq[0].text
        await eventually(
            lambda: feed_requests(site, "tigris-monitor", mark) >= 2, within=60, what="2 polls"
        )
        assert feed_requests(site, "indus-daily", mark) == 0, "a removed outlet is still polled"

        # A broken file: every problem logged as FILE:LINE, the running config kept.
        text = config(added, [ATTACKS, SHUTDOWNS], slack_api, db)
        path.write_text(text.replace("interval: 10s", "interval: 10 minutes", 1))
        line = text.splitlines().index("    interval: 10s") + 1
        proc.send(signal.SIGHUP)
        failed = await proc.wait_for("config.reload_failed", after=reloaded, within=60)
        problem = f"{path}:{line}: outlets[0].interval: invalid duration '10 minutes'"
        assert any(p.startswith(problem) for p in failed["problems"]), failed["problems"]
        assert any(e["message"].startswith(problem) for e in proc.find("config.problem"))
        status, health = await get_json(await proc.health_url() + "/healthz")
        assert status == 200 and health["scheduler"] == "running"

        # `wirewatch reload` checks the file first and does not signal a bad one.
        code, out = await wirewatch_cli("reload", "-c", str(path), env=token)
        assert code == 1
        assert problem in out and "not sent" in out
        assert len(proc.find("config.reload", after=failed)) == 0

        assert await proc.stop(signal.SIGINT) == 0
    assert proc.find("service.stopped")
    assert not pid_file_left(db)


async def test_reload_without_a_running_service_says_so(tmp_path):
    path = service_config(tmp_path, storage=sqlite(tmp_path / "w.db"))
    code, out = await wirewatch_cli("reload", "-c", str(path))
    assert code == 1
    assert "no running service found" in out


SEED = next(a for a in DEMO_ARTICLES if a.slug == "bla-coordinated-attacks-ten-balochistan-towns")


async def test_sigterm_mid_poll_finishes_the_article_and_delivers_it_before_exiting(
    outlet_server: OutletServer, slack_api, tmp_path
):
    """SIGTERM arrives while the article page is still downloading (a slow outlet)."""
    now = datetime.now(UTC)
    outlet_server.add_article(
        "/news/1", SEED.title, list(SEED.paragraphs), published=now, delay=3.0
    )
    item = {"title": SEED.title, "url": "/news/1", "summary": SEED.summary, "published": now}
    feed = outlet_server.add_feed("/feed.xml", [item])
    path, db = tmp_path / "wirewatch.yaml", tmp_path / "w.db"
    path.write_text(config({"slow-outlet": feed}, [ATTACKS], slack_api, db, interval="1h"))
    proc = WirewatchProcess(path, env={"SLACK_BOT_TOKEN": slack_api.token})
    await proc.start()
    await proc.wait_for("service.ready")
    await eventually(lambda: outlet_server.hits("/news/1"), within=30, what="the page request")
    assert not slack_api.posts

    proc.send(signal.SIGTERM)
    assert await proc.wait(within=60) == 0

    assert len(slack_api.posts) == 1
    assert "Balochistan" in slack_api.posts[0].text
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT status FROM outbox").fetchall()
    assert rows == [("delivered",)]
    stopping = proc.find("service.stopping")[0]
    assert proc.find("story.new", after=stopping), "the article was matched after SIGTERM"
    assert proc.find("service.stopped", after=stopping)
