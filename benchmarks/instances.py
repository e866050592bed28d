"""Several instances on one PostgreSQL database: articles matched per second (and per CPU
second) by one `wirewatch run` and by two, and how the two split the crawl of 10,000 outlets.

    python -m benchmarks.instances             # 10,000 outlets, 600 articles, 2 rounds
    python -m benchmarks.instances --quick     # 1,000 outlets, 120 articles: a smoke check

A throwaway PostgreSQL server (Debian's binaries, as the tests start it) and a simulator in
a process of its own serving one RSS feed per outlet on many ports of 127.0.0.1 (every
feed a host of its own for the per-host limits). Each feed holds one two-day-old item (the
backfill rule records it unmatched) and answers 304 to a matching If-None-Match. Every
outlet is polled every `--interval` (default 30 s; 10 s with `--quick`); one in
`outlets / news outlets` is a news outlet (`--articles / --backlog` of them), the others
always answer 304. All share one interval because the instances share the outlets by
number: news outlets polled more often would be released first by the instance that held
them all and end up with the other.

Each round measures one instance, then two (`--rounds`, in turn: load from elsewhere on
the machine hits both alike), each phase on a new database, with the same config (the real
bundled model, `OMP_NUM_THREADS=1`: one torch thread per instance):

1. start the instances (plain `wirewatch run`; each names itself in its user agent) and
   wait until every outlet was polled and the outlets are shared out (no instance above its
   share and slack), then `--settle` seconds more;
2. release the news: each news outlet publishes `--backlog` new articles at once
   (synthetic reports, about 90 words, one in ten about coordinated attacks or an internet
   shutdown). The first polls of news outlets bring more articles than an instance
   matches meanwhile, so every instance has a backlog within seconds of the release;
3. the matching-bound window (`WINDOW`): from the moment 10 % of the articles are stored
   to the moment 60 % are (an article is stored with its decisions, in one transaction),
   articles per wall second and per CPU second of the instances together. Neither the news's
   arrival (the start) nor an instance that ran out of news first (the end) is in it.
   (Since the shared queue, an instance matches whatever any instance polled, so neither
   runs out before the queue is empty; before it, each matched only its own outlets' news.)
   Also printed: articles / seconds from the release until every one is stored;
4. go on until every outlet was polled at least twice, then stop the instances.

Printed per phase: the rates, each instance's CPU time, its polls and outlets (from the
simulator's request log: the instance that sent each request), the news outlets whose
articles each fetched, where its article batches' wall time went (check, match, record,
and no batch running: `wirewatch_batch_seconds_total` from its /metrics), and every
outlet's shortest gap between two polls against its interval (less the +-10 % jitter and
`REQUEST_DELAY_S` of request latency): none may be shorter. Then the ratios two/one round
by round against the goal of 1.6 per second. Matching is CPU-bound: on a 2-core machine
two instances have at most twice one's CPU, less what the crawl, PostgreSQL and the
simulator take, so 2x is the bound; per CPU second, 1.0 means a second instance costs
nothing beyond its matching. The load average before and after is printed: per-second
figures taken while other work loads the machine are low; per CPU second less so.
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
import statistics
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
# the matching-bound window: from 10 % of the articles stored to 60 %. Every instance has a
# backlog throughout (each news outlet publishes `--backlog` articles at once, so news
# arrives faster than it is matched), and none has run out yet: with the news split 40/60
# between two instances, the one with less finishes its share near 80 %
WINDOW = (0.1, 0.6)
BUSY_LOAD = 1.0  # a 1-minute load average above this before the run: other work is running
RELEVANT_EVERY = 10


# ---- the simulator (its own process) ----------------------------------------------------------


def news_text(outlet: int, batch: int, k: int = 0) -> tuple[str, str]:
    """Title and text of news outlet `outlet`'s `k`-th article of `batch`."""
    rng = random.Random((outlet * 7919 + batch) * 101 + k)
    if outlet % RELEVANT_EVERY == 0:
        sentences = rng.sample(RELEVANT, 3) + rng.sample(ORDINARY, 3)
        title = f"Coordinated attacks and internet cut in Balochistan, report {outlet}-{batch}-{k}"
    else:
        sentences = rng.sample(ORDINARY, 6)
        title = f"Local news {outlet}-{batch}-{k}: {sentences[0][:40]}"
    return title, " ".join(sentences)


class Feeds:
    """The outlets' feeds and the log of who polled which when."""

    def __init__(self, outlets: int, news: int, backlog: int = 1) -> None:
        self.outlets, self.news, self.backlog = outlets, news, backlog
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
            for k in range(self.backlog):
                title, text = news_text(n, self.batch, k)
                guid = f"news-{self.phase}-{n}-{self.batch}-{k}"
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


def _serve(outlets: int, news: int, backlog: int, ports: int, ready: Any) -> None:
    from aiohttp import web

    feeds = Feeds(outlets, news, backlog)
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


def start_simulator(outlets: int, news: int, backlog: int, ports: int) -> Simulator:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(outlets, news, backlog, ports, child), daemon=True)
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
    # the matching-bound window (`WINDOW`): articles stored, wall and CPU seconds
    window: tuple[int, float, float] = (0, math.nan, math.nan)

    @property
    def rate(self) -> float:
        return self.articles / self.seconds

    @property
    def window_rate(self) -> float:
        """Articles matched per wall second in the window: the issue's figure."""
        return self.window[0] / self.window[1]

    @property
    def cpu_rate(self) -> float:
        """Articles matched per CPU second of the instances (together) in the window."""
        return self.window[0] / self.window[2]


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
        phase.window = await _matching_window(url, [p.pid for p in procs], args)
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


async def _matching_window(url: str, pids: list[int], args: argparse.Namespace) -> tuple:
    """Articles stored, wall seconds and the instances' CPU seconds (together) from the
    moment `WINDOW[0]` of the articles are stored to the moment `WINDOW[1]` are."""
    marks = []
    for share in WINDOW:
        want = math.ceil(share * args.articles)
        await _until(lambda w=want: _stored(url) >= w, args.timeout, f"{want} articles", 0.2)
        marks.append((_stored(url), time.monotonic(), sum(_cpu_s(pid) for pid in pids)))
    (a0, t0, c0), (a1, t1, c1) = marks
    return a1 - a0, t1 - t0, c1 - c0


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
    articles, wall, cpu = phase.window
    print(
        f"  matching-bound window ({WINDOW[0]:.0%} to {WINDOW[1]:.0%} stored): {articles} "
        f"articles in {wall:.1f} s, {cpu:.1f} CPU s: {phase.window_rate:.2f} per second, "
        f"{phase.cpu_rate:.2f} per CPU second"
    )
    print(f"  articles matched per second, release to the last   {phase.rate:.2f}")
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


def print_ratios(phases: list[Phase]) -> dict[str, list[float]]:
    """Two instances / one, round by round (each round one phase of each, in turn)."""
    ones = [p for p in phases if p.instances == 1]
    twos = [p for p in phases if p.instances == 2]
    pairs = list(zip(ones, twos, strict=True))
    ratios = {
        "per second (window)": [b.window_rate / a.window_rate for a, b in pairs],
        "per CPU second (window)": [b.cpu_rate / a.cpu_rate for a, b in pairs],
        "release to the last": [b.rate / a.rate for a, b in pairs],
    }
    print(f"\ntwo instances / one, round by round ({len(twos)} rounds; goal >= {GOAL} per second):")
    for what, values in ratios.items():
        spread = f" (median {statistics.median(values):.2f}, {min(values):.2f}-{max(values):.2f})"
        print(f"  {what}: {', '.join(f'{v:.2f}' for v in values)}{spread}")
    print(
        f"  at most {min(2, os.cpu_count() or 1)}x per second on {os.cpu_count()} cores "
        "(matching is CPU-bound, one core per instance); per CPU second 1.0 is no overhead"
    )
    return ratios


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
    news = args.articles // args.backlog
    sim = start_simulator(args.outlets, news, args.backlog, min(args.ports, args.outlets))
    phases = []
    try:
        with running_postgres(binaries) as server, tempfile.TemporaryDirectory() as folder:
            for round_, instances in enumerate(args.phases):
                url = server.create_database()
                print(f"round {round_ // 2 + 1}: {instances} instance(s)", flush=True)
                phases.append(await run_phase(instances, sim, url, args, Path(folder)))
                server.drop_database(url)
    finally:
        sim.process.terminate()
        sim.process.join()
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 outlets, 120 articles")
    parser.add_argument("--outlets", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=600, help="news articles in all")
    parser.add_argument("--backlog", type=int, default=4, help="articles per news outlet")
    parser.add_argument("--rounds", type=int, default=2, help="one and two instances, in turn")
    parser.add_argument("--interval", type=float, default=30.0, help="every outlet's, seconds")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds, once shared out")
    parser.add_argument("--ports", type=int, default=1000, help="simulator ports (hosts)")
    parser.add_argument("--timeout", type=float, default=600.0, help="per phase, seconds")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.outlets, args.articles = min(args.outlets, 1000), min(args.articles, 120)
        args.interval = min(args.interval, 10.0)
    args.phases = (1, 2) * args.rounds  # in turn: load from elsewhere hits both alike
    load_before = os.getloadavg()
    print(
        f"instances benchmark: {args.outlets:,} outlets polled every {args.interval:g} s, "
        f"{args.articles // args.backlog} of them news outlets publishing {args.backlog} "
        f"articles each at once, {args.rounds} rounds; "
        f"one torch thread per instance; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f}",
        flush=True,
    )
    phases = asyncio.run(measure(args))
    for phase in phases:
        print_phase(phase)
    ratios = print_ratios(phases)
    load_after = os.getloadavg()
    print(
        f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); "
        f"{os.cpu_count()} cores"
    )
    if load_before[0] > BUSY_LOAD:
        print(
            f"the machine was busy before the run (load {load_before[0]:.2f} > {BUSY_LOAD:g}): "
            "other work shared the cores; run again on a quiet machine"
        )
    if args.json:
        figures = {
            "ratios": ratios,
            "load": [load_before[0], load_after[0]],
            "phases": [
                {"instances": p.instances, "articles": p.articles, "seconds": p.seconds,
                 "window": p.window,
                 "cpu_s": p.cpu_s, "polls": p.report["polls"], "outlets": p.report["outlets"],
                 "news": p.report["news"], "batch_seconds": p.steps}
                for p in phases
            ],
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
