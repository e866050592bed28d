"""Several instances on one PostgreSQL database: articles matched per second by one
`wirewatch run` and by two, and how the two split the crawl of 10,000 outlets.

    python -m benchmarks.instances             # 10,000 outlets, 300 articles: about 5 min
    python -m benchmarks.instances --quick     # 1,000 outlets, 60 articles: a smoke check

A throwaway PostgreSQL server (Debian's binaries, as the tests start it) and a simulator in
a process of its own serving one RSS feed per outlet on many ports of 127.0.0.1 (every
feed a host of its own for the per-host limits). Each feed holds one two-day-old item (the
backfill rule records it unmatched) and answers 304 to a matching If-None-Match. Every
outlet is polled every `--interval` (default 30 s; 10 s with `--quick`); one in
`outlets / articles` is a news outlet, the others always answer 304. All share one interval
because the instances share the outlets by number: news outlets polled more often would be
released first by the instance that held them all and end up with the other.

The same run measures one instance, then two, each phase on a new database, with the same
config (the real bundled model, `OMP_NUM_THREADS=1`: one torch thread per instance):

1. start the instances (plain `wirewatch run`; each names itself in its user agent) and
   wait until every outlet was polled and the outlets are shared out (no instance above its
   share and slack), then `--settle` seconds more;
2. release the news: each news outlet publishes one new article (synthetic reports,
   about 90 words, one in ten about coordinated attacks or an internet shutdown);
3. articles matched per second = articles / seconds from the release until the database
   holds every one of them (an article is stored with its decisions, in one transaction).
   The news reaches the instances over one interval (300 articles in 30 s: 10 per second,
   more than two instances match), so the matching, not the polling, sets the time;
4. go on until every outlet was polled at least twice, then stop the instances.

Printed per phase: the rate, each instance's CPU time, its polls and outlets (from the
simulator's request log: the instance that sent each request), the news articles each
fetched, where its article batches' wall time went over the window (check, match, record,
and no batch running: `wirewatch_batch_seconds_total` from its /metrics), and every
outlet's shortest gap between two polls against its interval (less the +-10 % jitter and
`REQUEST_DELAY_S` of request latency): none may be shorter. Then the ratio two/one against
the goal of 1.6. Matching is CPU-bound: on a 2-core machine two instances have at most
twice one's CPU, less what the crawl, PostgreSQL and the simulator take, so 2x is the
bound. The load average before and after is printed: figures taken while other work loads
the machine are low; run again on a quiet one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from benchmarks.crawl import serve_on_ports
from benchmarks.soak import ORDINARY, RELEVANT

HOST = "127.0.0.1"
REQUEST_DELAY_S = 1.0  # a poll's request reaches the outlet this long after its lease, at most
JITTER = 0.1  # defaults.POLL_JITTER_FRACTION
GOAL = 1.6
BUSY_LOAD = 1.0  # a 1-minute load average above this before the run: other work is running
RELEVANT_EVERY = 10


# ---- the simulator (its own process) ----------------------------------------------------------


def news_text(outlet: int, batch: int) -> tuple[str, str]:
    """Title and text of the article news outlet `outlet` publishes in `batch`."""
    rng = random.Random(outlet * 7919 + batch)
    if outlet % RELEVANT_EVERY == 0:
        sentences = rng.sample(RELEVANT, 3) + rng.sample(ORDINARY, 3)
        title = f"Coordinated attacks and internet cut in Balochistan, report {outlet}-{batch}"
    else:
        sentences = rng.sample(ORDINARY, 6)
        title = f"Local news {outlet}-{batch}: {sentences[0][:40]}"
    return title, " ".join(sentences)


class Feeds:
    """The outlets' feeds and the log of who polled which when."""

    def __init__(self, outlets: int, news: int) -> None:
        self.outlets, self.news = outlets, news
        self.old = format_datetime(datetime.now(UTC) - timedelta(days=2), usegmt=True)
        self.batch = 0  # the news released in this phase (0: none yet)
        self.released = ""
        self.polls: list[list[tuple[float, str]]] = [[] for _ in range(outlets)]
        self.fetched_news: dict[str, set[int]] = {}  # instance → news outlets it read news of

    def is_news(self, n: int) -> bool:
        """One outlet in `outlets // news` is a news outlet, spread over ports and names."""
        step = max(1, self.outlets // self.news)
        return n % step == 0 and n // step < self.news

    def reset(self, phase: int) -> None:
        self.batch, self.phase = 0, phase
        self.polls = [[] for _ in range(self.outlets)]
        self.fetched_news = {}

    def release(self, batch: int) -> None:
        self.batch = batch
        self.released = format_datetime(datetime.now(UTC), usegmt=True)

    def etag(self, n: int) -> str:
        return f'"{self.phase}-{n}-{self.batch if self.is_news(n) else 0}"'

    def body(self, n: int, base: str) -> bytes:
        items = [self._item(f"old-{self.phase}-{n}", f"Archive {n}", "An old story.", self.old)]
        if self.is_news(n) and self.batch:
            title, text = news_text(n, self.batch)
            guid = f"news-{self.phase}-{n}-{self.batch}"
            items.insert(0, self._item(guid, title, text, self.released))
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {n}</title><link>{base}/</link><description>simulated</description>"
            f"{''.join(items)}</channel></rss>"
        ).encode()

    @staticmethod
    def _item(guid: str, title: str, text: str, published: str) -> str:
        return (
            f'<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>'
            f"<description>{text}</description><pubDate>{published}</pubDate></item>"
        )

    def report(self) -> dict[str, Any]:
        """Per instance: polls and outlets; per outlet: polls and the shortest gap."""
        polls: dict[str, int] = {}
        outlets: dict[str, int] = {}
        gaps: list[float | None] = []
        counts: list[int] = []
        for times in self.polls:
            for _, who in times:
                polls[who] = polls.get(who, 0) + 1
            for who in {who for _, who in times}:
                outlets[who] = outlets.get(who, 0) + 1
            stamps = [t for t, _ in times]
            gaps.append(min((b - a for a, b in itertools.pairwise(stamps)), default=None))
            counts.append(len(times))
        return {
            "polls": polls,
            "outlets": outlets,
            "gaps": gaps,
            "counts": counts,
            "news": {who: len(outlets) for who, outlets in self.fetched_news.items()},
            "news_twice": len(set.intersection(*self.fetched_news.values()))
            if len(self.fetched_news) > 1
            else 0,
        }


def _serve(outlets: int, news: int, ports: int, ready: Any) -> None:
    from aiohttp import web

    feeds = Feeds(outlets, news)
    feeds.reset(0)

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        agent = request.headers.get("User-Agent", "")
        who = agent.rsplit("(", 1)[-1].rstrip(")") if "(" in agent else "?"
        feeds.polls[n].append((time.monotonic(), who))
        etag = feeds.etag(n)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        if feeds.is_news(n) and feeds.batch:
            feeds.fetched_news.setdefault(who, set()).add(n)
        return web.Response(
            body=feeds.body(n, f"http://{request.host}"),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def control(request: web.Request) -> web.Response:
        command = await request.json()
        if "reset" in command:
            feeds.reset(command["reset"])
        if "release" in command:
            feeds.release(command["release"])
        return web.json_response(feeds.report() if command.get("report") else {"ok": True})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_post("/control", control)
        ready.send(await serve_on_ports(app, ports))
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class Simulator:
    process: Any
    ports: list[int]

    def feed_url(self, n: int) -> str:
        return f"http://{HOST}:{self.ports[n % len(self.ports)]}/feed/{n}"

    async def control(self, **command: Any) -> dict[str, Any]:
        import aiohttp

        url = f"http://{HOST}:{self.ports[0]}/control"
        async with aiohttp.ClientSession() as session, session.post(url, json=command) as answer:
            answer.raise_for_status()
            return await answer.json()


def start_simulator(outlets: int, news: int, ports: int) -> Simulator:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(outlets, news, ports, child), daemon=True)
    process.start()
    return Simulator(process, parent.recv())


# ---- one phase: N instances ----------------------------------------------------------------


def config_text(sim: Simulator, args: argparse.Namespace, url: str) -> str:
    from tests.fixtures.configs import attacks_watch, config_yaml, shutdowns_watch

    outlets = [
        {
            "name": f"o{n}",
            "feed": sim.feed_url(n),
            "interval": f"{args.interval:g}s",
            "fetch_articles": False,
        }
        for n in range(args.outlets)
    ]
    return config_yaml(
        storage={"url": url, "instance": "${BENCH_INSTANCE}"},
        server={"listen": f"{HOST}:0"},
        crawler={"user_agent": "wirewatch-bench/1 (${BENCH_INSTANCE})", "per_host_delay": "0s"},
        outlets=outlets,
        watches=[attacks_watch(notify=[]), shutdowns_watch(notify=[])],
    )


@dataclass
class Phase:
    instances: int
    articles: int
    seconds: float = math.nan
    cpu_s: dict[str, float] = field(default_factory=dict)
    # per instance, wall seconds of its article batches by step (check, match, record)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    intervals: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.articles / self.seconds


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _batch_seconds(proc: Any) -> dict[str, float]:
    """The instance's `wirewatch_batch_seconds_total` by step, from its /metrics."""
    import aiohttp

    listening = proc.find("server.listening")
    if not listening:
        return {}
    url = f"http://{HOST}:{listening[-1]['port']}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        text = await answer.text()
    steps = {}
    for line in text.splitlines():
        if line.startswith("wirewatch_batch_seconds_total{"):
            labels, value = line.rsplit(" ", 1)
            step = labels.split('step="', 1)[1].split('"', 1)[0]
            steps[step] = float(value)
    return steps


def _stored(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]


async def _until(check: Any, within: float, what: str, step: float = 0.25) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within:g} s: {what}")
        await asyncio.sleep(step)


async def run_phase(
    instances: int, sim: Simulator, url: str, args: argparse.Namespace, folder: Path
) -> Phase:
    from tests.fixtures.process import WirewatchProcess

    phase = Phase(instances, args.articles)
    await sim.control(reset=instances)
    config = folder / f"phase-{instances}.yaml"
    config.write_text(config_text(sim, args, url))
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TRANSFORMERS_OFFLINE": "1"}
    procs = [
        WirewatchProcess(config, env={**env, "BENCH_INSTANCE": f"i{k + 1}"})
        for k in range(instances)
    ]
    try:
        await asyncio.gather(*(p.start() for p in procs))
        for proc in procs:
            await proc.wait_for("service.ready", within=300)
        print(f"  {instances} instance(s) ready; crawling, leases settling", flush=True)
        await _settle(sim, url, instances, args)
        cpu_before = {f"i{k + 1}": _cpu_s(p.pid) for k, p in enumerate(procs)}
        steps_before = [await _batch_seconds(p) for p in procs]
        await sim.control(release=1)
        released = time.monotonic()
        await _until(lambda: _stored(url) >= args.articles, args.timeout, "every article", 0.2)
        phase.seconds = time.monotonic() - released
        phase.cpu_s = {
            f"i{k + 1}": _cpu_s(p.pid) - cpu_before[f"i{k + 1}"] for k, p in enumerate(procs)
        }
        for k, (proc, before) in enumerate(zip(procs, steps_before, strict=True)):
            after = await _batch_seconds(proc)
            phase.steps[f"i{k + 1}"] = {s: v - before.get(s, 0.0) for s, v in after.items()}
        print(f"  {args.articles} articles decided in {phase.seconds:.1f} s", flush=True)
        await _until_polled_twice(sim, args)
        phase.report = await sim.control(report=True)
    finally:
        for proc in procs:
            if proc.proc is not None and proc.proc.returncode is None:
                await proc.stop(within=60)
    phase.intervals = [args.interval] * args.outlets
    return phase


async def _settle(sim: Simulator, url: str, instances: int, args: argparse.Namespace) -> None:
    """Every outlet polled once and shared out (no instance above its share and slack, as
    the scheduler reckons it), then `--settle` seconds more: the news outlets' leases move
    only at their polls."""
    from wirewatch import defaults
    from wirewatch.store import Store

    share = math.ceil(args.outlets / instances)
    most = share + max(1, int(share * defaults.SHARE_SLACK))
    store = Store(url)
    try:

        async def shared_out() -> bool:
            if min((await sim.control(report=True))["counts"]) < 1:
                return False
            held = store.leases.outlets_held()
            return len(held) == instances and max(held.values()) <= most

        deadline = time.monotonic() + args.interval * 4
        while not await shared_out():
            if time.monotonic() > deadline:
                raise TimeoutError(f"outlets not shared out: {store.leases.outlets_held()}")
            await asyncio.sleep(1)
    finally:
        store.close()
    await asyncio.sleep(args.settle)


async def _until_polled_twice(sim: Simulator, args: argparse.Namespace) -> None:
    deadline = time.monotonic() + args.interval * 3
    while min((await sim.control(report=True))["counts"]) < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("not every outlet was polled twice")
        await asyncio.sleep(1)


# ---- the report --------------------------------------------------------------------------------


def print_phase(phase: Phase) -> None:
    report = phase.report
    print(f"\n{phase.instances} instance(s): {phase.articles} articles in {phase.seconds:.1f} s")
    print(f"  articles matched per second   {phase.rate:.2f}")
    for who in sorted(phase.cpu_s):
        cpu = phase.cpu_s[who]
        print(
            f"  {who}: CPU {cpu:.1f} s from release to the last decision "
            f"({cpu / phase.seconds:.2f} cores); polls {report['polls'].get(who, 0):,}, "
            f"outlets polled {report['outlets'].get(who, 0):,}, "
            f"news outlets whose article it read {report['news'].get(who, 0)}"
        )
        steps = phase.steps.get(who, {})
        if steps:
            busy = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in sorted(steps.items()))
            idle = phase.seconds - sum(steps.values())
            print(f"      batches (wall): {busy}; no batch running {idle:.1f} s")
    if report["news_twice"]:
        print(f"  news outlets read by both (their lease moved meanwhile): {report['news_twice']}")
    short = _too_short(report["gaps"], phase.intervals)
    polled = sum(1 for c in report["counts"] if c >= 2)
    ratios = [g / i for g, i in zip(report["gaps"], phase.intervals, strict=True) if g is not None]
    print(
        f"  outlets polled at least twice {polled:,} of {len(report['counts']):,}; shortest "
        f"gap between two polls of one outlet {min(ratios):.2f} of its interval; "
        f"polled twice within the interval (less jitter and {REQUEST_DELAY_S:g} s): {len(short)}"
    )


def _too_short(gaps: list[float | None], intervals: list[float]) -> list[int]:
    return [
        n
        for n, (gap, interval) in enumerate(zip(gaps, intervals, strict=True))
        if gap is not None and gap < interval * (1 - JITTER) - REQUEST_DELAY_S
    ]


async def measure(args: argparse.Namespace) -> list[Phase]:
    from tests.fixtures.postgres import postgres_bin, running_postgres

    binaries = postgres_bin()
    if binaries is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    sim = start_simulator(args.outlets, args.articles, min(args.ports, args.outlets))
    phases = []
    try:
        with running_postgres(binaries) as server, tempfile.TemporaryDirectory() as folder:
            for instances in args.phases:
                url = server.create_database()
                print(f"phase: {instances} instance(s)", flush=True)
                phases.append(await run_phase(instances, sim, url, args, Path(folder)))
                server.drop_database(url)
    finally:
        sim.process.terminate()
        sim.process.join()
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 outlets, 60 articles")
    parser.add_argument("--outlets", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=300, help="= news outlets")
    parser.add_argument("--interval", type=float, default=30.0, help="every outlet's, seconds")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds, once shared out")
    parser.add_argument("--ports", type=int, default=1000, help="simulator ports (hosts)")
    parser.add_argument("--timeout", type=float, default=600.0, help="per phase, seconds")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.outlets, args.articles = min(args.outlets, 1000), min(args.articles, 60)
        args.interval = min(args.interval, 10.0)
    args.phases = (1, 2)
    load_before = os.getloadavg()
    print(
        f"instances benchmark: {args.outlets:,} outlets polled every {args.interval:g} s, "
        f"{args.articles} of them news outlets publishing one article each, "
        f"one torch thread per instance; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f}",
        flush=True,
    )
    phases = asyncio.run(measure(args))
    for phase in phases:
        print_phase(phase)
    one, two = phases
    ratio = two.rate / one.rate
    load_after = os.getloadavg()
    print(
        f"\ntwo instances / one: {ratio:.2f}x the articles matched per second (goal >= {GOAL}; "
        f"at most {min(2, os.cpu_count() or 1)}x on {os.cpu_count()} cores: matching is "
        f"CPU-bound, one core per instance). Load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f} (1 min)"
    )
    if load_before[0] > BUSY_LOAD:
        print(
            f"the machine was busy before the run (load {load_before[0]:.2f} > {BUSY_LOAD:g}): "
            "other work shared the cores; run again on a quiet machine"
        )
    if args.json:
        figures = {
            "ratio": ratio,
            "load": [load_before[0], load_after[0]],
            "phases": [
                {"instances": p.instances, "articles": p.articles, "seconds": p.seconds,
                 "cpu_s": p.cpu_s, "polls": p.report["polls"], "outlets": p.report["outlets"],
                 "news": p.report["news"], "batch_seconds": p.steps}
                for p in phases
            ],
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
