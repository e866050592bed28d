"""Crash safety: the real `wirewatch run`, killed with SIGKILL at random moments, again and again.

Local outlets (the demo site: real feeds and article pages) publish the demo news a piece
at a time; alerts go to a local Slack Web API server through the real slack-sdk. The
service is started on one database, killed with SIGKILL at a random moment (while it
starts, polls and extracts, right after a story was committed, in the middle of
deliveries, or idle), started again, and so on; a last run lets it finish and stops it
with SIGTERM. Then what a Slack user would see must be exactly what an uninterrupted run
would have shown:

- every story is posted exactly once, and nothing is posted for stories that do not exist;
- every update is one reply in its story's thread: none lost, none repeated;
- every published article was stored exactly once, every alert delivered;
- the database passes `PRAGMA integrity_check`.

Restarts are cheap: while one service runs, STANDBYS more `wirewatch run --wait`
processes load the model, and one of them takes the database over the moment the
killed one is gone (the restart path is the same: open, recover, re-poll, redeliver).

The number of kills and the random seed come from WIREWATCH_CRASH_KILLS (default 20)
and WIREWATCH_CRASH_SEED (default: random, printed on failure so a run can be repeated).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.configs import (
    ATTACKS_EXAMPLES,
    ATTACKS_EXCLUDE,
    attacks_watch,
    config_yaml,
    local_crawler,
    shutdowns_watch,
    site_outlets,
    slack_notifier,
    sqlite,
)
from tests.fixtures.process import WirewatchProcess, eventually
from tests.fixtures.slack_api import SlackApiServer, SlackCall
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS, DemoArticle
from wirewatch.demo.site import DemoSite

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KILLS = int(os.environ.get("WIREWATCH_CRASH_KILLS", "20"))
SEED = int(os.environ.get("WIREWATCH_CRASH_SEED", str(random.randrange(1_000_000))))
STANDBYS = 2  # `run --wait` processes loading the model while one service runs
# The order the news appears in: each event's reports as they broke, interleaved with
# ordinary news. The first FIRST_SERVED are on the site before the first start; the rest
# appear one at a time, as the service is killed and restarted.
PUBLICATION = (
    "bla-coordinated-attacks-ten-balochistan-towns",
    "militants-attack-ten-towns-balochistan",
    "gladiators-pace-attack-routs-peshawar-in-quetta",
    "separatists-coordinated-attacks-balochistan-internet-shut",
    "ransomware-attack-bank-card-servers",
    "pakistan-balochistan-insurgents-night-of-attacks",
    "us-government-shutdown-begins",
    "iraq-cuts-internet-for-school-exams",
    "baloch-culture-day-turbat-gwadar",
    "iraqis-wake-to-exam-day-internet-blackout",
    "gwadar-port-cargo-volumes-rise",
    "balochistan-attacks-death-toll-rises-internet-still-suspended",
    "gunmen-attack-police-stations-zahedan-iran",
    "basra-protests-power-cuts-heat",
    "grid-failure-southern-pakistan-blackout",
    "submarine-cable-fault-slows-internet",
)
FIRST_SERVED = 3
# Where a kill lands, and how often it is chosen: in a life that has a new article to
# work on, and in one that has not.
BUSY = {
    "polling": 0.4,  # feed and page fetched, text being extracted and matched
    "story": 0.3,  # just after a batch committed its stories and alerts: delivery starts
    "delivery": 0.3,  # just after an alert went out: the next one may be on its way
}
QUIET = {
    "startup": 0.5,  # store open and recovery, migrations, server, first polls
    "idle": 0.5,  # some time after the first polls (left-over deliveries, 304s)
}
EVENT_WAIT_S = 6.0  # a phase whose event does not come by then counts as idle


def config_text(site: DemoSite, slack: SlackApiServer, db: Path) -> str:
    at_once = {"group_wait": "0s", "update_interval": "0s", "notify": ["soc-slack"]}
    return config_yaml(
        storage=sqlite(db),
        crawler=local_crawler(per_host_concurrency=8),
        outlets=site_outlets(site, *DEMO_OUTLETS, interval="10s"),
        watches=[
            attacks_watch(examples=ATTACKS_EXAMPLES, exclude=ATTACKS_EXCLUDE, **at_once),
            shutdowns_watch(
                exclude=[
                    "a federal government shutdown over the budget",
                    "slow internet after an undersea cable fault",
                ],
                **at_once,
            ),
        ],
        notifiers=[slack_notifier(slack, token="${SLACK_BOT_TOKEN}")],
    )


@dataclass
class Run:
    """The kill loop. Besides the running service, STANDBYS more `wirewatch run --wait`
    processes load the model meanwhile, so that a restart costs milliseconds, not the
    model's loading time; each takes over the database the moment the last one dies."""

    rng: random.Random
    site: DemoSite
    slack: SlackApiServer
    config: Path
    held: list[DemoArticle]
    phases: Counter[str] = field(default_factory=Counter)
    lives: list[str] = field(default_factory=list)  # what each killed life did, for failures
    waiting: list[WirewatchProcess] = field(default_factory=list)
    to_spawn: int = KILLS + 1  # processes still to start: one per kill, and the last one

    def publish_next(self) -> DemoArticle | None:
        if not self.held:
            return None
        article = self.held.pop(0)
        self.site.publish(article)
        return article

    @property
    def env(self) -> dict[str, str]:
        # Three processes share the CI machine's two cores: one model thread each, or the
        # thread pools' spin-waiting burns a third of the CPU time that loading needs.
        return {"SLACK_BOT_TOKEN": self.slack.token, "OMP_NUM_THREADS": "1"}

    async def spawn(self) -> None:
        if self.to_spawn <= 0:
            return
        self.to_spawn -= 1
        proc = WirewatchProcess(self.config, env=self.env, command_args=("--wait",))
        await proc.start()
        self.waiting.append(proc)

    async def next_service(self) -> WirewatchProcess:
        """The process that took over the database, replaced in the queue by a new one."""
        active = await eventually(
            lambda: next((p for p in self.waiting if p.find("service.starting")), None),
            within=180,
            what="a service taking over the database",
        )
        self.waiting.remove(active)
        await self.spawn()
        return active

    async def kill_at_random_moment(self) -> None:
        proc = await self.next_service()
        started = asyncio.get_running_loop().time()
        lives_left = self.to_spawn + len(self.waiting)  # the lives after this one
        chance = len(self.held) / max(lives_left, 1)  # the news spread over the lives
        published = self.publish_next() if self.rng.random() < chance else None
        phases = BUSY if published else QUIET
        phase = self.rng.choices(list(phases), weights=list(phases.values()))[0]
        try:
            landed = await self._wait_for_phase(proc, phase, published)
        finally:
            await proc.kill()
        self.phases[landed] += 1
        life = asyncio.get_running_loop().time() - started
        events = ",".join(str(e.get("event")) for e in proc.events if e.get("event"))
        self.lives.append(f"{landed} after {life:.1f}s: {events}")

    async def _wait_for_phase(
        self, proc: WirewatchProcess, phase: str, published: DemoArticle | None
    ) -> str:
        rng = self.rng
        if phase == "startup":  # store open and recovery, migrations, server, first polls
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            return phase
        ready = await proc.wait_for("service.ready")
        try:
            if phase == "polling" and published is not None:
                await self._page_requested(published)
                await asyncio.sleep(rng.uniform(0.0, 0.4))
            elif phase == "story":
                await proc.wait_for(
                    lambda e: str(e.get("event")).startswith("story."),
                    after=ready,
                    within=EVENT_WAIT_S,
                )
                await asyncio.sleep(rng.uniform(0.0, 0.03))
            elif phase == "delivery":
                await proc.wait_for("alert.delivered", after=ready, within=EVENT_WAIT_S)
                await asyncio.sleep(rng.uniform(0.0, 0.02))
            else:
                await asyncio.sleep(rng.uniform(0.0, 4.0))
                return "idle"
        except AssertionError:  # nothing of that kind happened in this life: killed idle
            return "idle"
        return phase

    async def _page_requested(self, article: DemoArticle) -> None:
        path = self.site.article_url(article).removeprefix(self.site.base_url)
        await eventually(
            lambda: any(r.path == path for r in self.site.requests),
            within=EVENT_WAIT_S,
            what=f"a request for {path}",
        )

    async def finish(self, db: Path, articles: int) -> WirewatchProcess:
        """Publish the rest, let the next service do all the work, stop everything cleanly."""
        while self.publish_next():
            pass
        final = await self.next_service()
        await final.wait_for("service.ready")
        await eventually(lambda: settled(db, articles), within=120, what="all work done")
        for standby in self.waiting:  # first, or one of them would take over
            assert await standby.stop() == 0
        assert await final.stop() == 0
        return final


def read_db(db: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def settled(db: Path, articles: int) -> bool:
    """Every article stored and no alert left to deliver."""
    if not db.exists():
        return False
    with read_db(db) as connection:
        stored = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        pending = connection.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
        ).fetchone()[0]
    return stored == articles and pending == 0


def urls_in(call: SlackCall) -> list[str]:
    """Article links in a message (`<url|label>` in its blocks), each once per message."""
    text = str(call.blocks or "")
    return list(dict.fromkeys(re.findall(r"<(http://[^|>]+)\|", text)))


async def test_sigkill_at_random_moments_loses_and_repeats_nothing(slack_api, tmp_path):
    rng = random.Random(SEED)
    db = tmp_path / "wirewatch.db"
    by_slug = {a.slug: a for a in DEMO_ARTICLES}
    articles = [by_slug[slug] for slug in PUBLICATION]
    async with DemoSite(DEMO_ARTICLES, DEMO_OUTLETS) as site:  # publication times fixed now
        for article in articles[FIRST_SERVED:]:
            site.unpublish(article.slug, article.outlet)
        config = tmp_path / "wirewatch.yaml"
        config.write_text(config_text(site, slack_api, db))
        run = Run(rng, site, slack_api, config, articles[FIRST_SERVED:])
        started = asyncio.get_running_loop().time()
        for _ in range(STANDBYS + 1):
            await run.spawn()
        for _ in range(KILLS):
            await run.kill_at_random_moment()
        final = await run.finish(db, len(articles))
        assert final.find("service.stopped")
        seconds = asyncio.get_running_loop().time() - started

    summary = f"seed {SEED}, {KILLS} kills by phase {dict(run.phases)} in {seconds:.0f} s"
    print(summary, *run.lives, sep="\n  ")
    context = "\n  ".join([summary, *run.lives])
    check_store(db, articles, context)
    check_slack(db, slack_api, context)


def check_store(db: Path, articles: list[DemoArticle], context: str) -> None:
    with read_db(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
        assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == len(articles)
        statuses = dict(
            connection.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        )
        assert set(statuses) == {"delivered"}, (statuses, context)
        seed_stories = connection.execute(
            "SELECT COUNT(DISTINCT s.story_id) FROM story_sources s JOIN stories t"
            " ON t.id = s.story_id WHERE t.watch = 'balochistan-attacks'"
        ).fetchone()[0]
        assert seed_stories == 1, f"the seed event split into {seed_stories} stories; {context}"


def check_slack(db: Path, slack: SlackApiServer, context: str) -> None:
    posted = [c for c in slack.calls if c.method == "chat.postMessage" and c.ok]
    top = [c for c in posted if not c.thread_ts]
    replies = [c for c in posted if c.thread_ts]
    with read_db(db) as connection:
        stories = [r[0] for r in connection.execute("SELECT id FROM stories ORDER BY num")]
        rows = connection.execute("SELECT story_id, kind FROM outbox").fetchall()
        sources = {
            story: {
                r[0]
                for r in connection.execute(
                    "SELECT url FROM story_sources WHERE story_id = ?", (story,)
                )
            }
            for story in stories
        }
    # Exactly one top-level message per story, and one Slack call per delivered alert.
    story_of_post = {c.ts: re.search(r"story (s-\d+)", str(c.blocks)).group(1) for c in top}
    assert sorted(story_of_post.values()) == sorted(stories), (
        [(c.ts, c.text) for c in top],
        context,
    )
    assert len(posted) == len(rows), (
        f"{len(posted)} messages for {len(rows)} delivered alerts; {context}"
    )
    for story in stories:
        [parent] = [c for c in top if story_of_post[c.ts] == story]
        thread = [c for c in replies if c.thread_ts == parent.ts]
        updates = sum(1 for s, kind in rows if s == story and kind == "story_update")
        assert len(thread) == updates, f"story {story}: {len(thread)} replies; {context}"
        reported = [url for reply in thread for url in urls_in(reply)]
        repeated = [url for url, n in Counter(reported).items() if n > 1]
        assert not repeated, f"story {story}: repeated in the thread {repeated}; {context}"
        missing = sources[story] - set(reported) - set(urls_in(parent))
        assert not missing, f"story {story}: never reported {missing}; {context}"
