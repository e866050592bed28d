"""Soak: the real `wirewatch run` process against many simulated outlets for a long time.

    python -m benchmarks.soak --minutes 30 --outlets 1000        # the goal's size
    python -m benchmarks.soak --minutes 2 --outlets 200          # a quick look

A simulator in its own process serves one RSS 2.0 feed per outlet on `--ports` ports of
127.0.0.1 (so that outlets spread over many "hosts" for the per-host limits, as on the
internet) and answers conditional requests with 304. Each feed starts with one two-day-old
item, which the crawler's backfill rule records without matching (no start-up burst);
new items appear at `--articles-per-minute` in all, each with an article page (about one
in ten a report of coordinated attacks or an internet shutdown, the rest ordinary news).
Alerts go to a webhook on the simulator. Outlets are polled every `--interval` seconds
(default 10 s, the shortest the config allows: 30x faster than the default 5 min).

The service is the real `wirewatch --log-format json run` process, model and all. Every
`--sample-s` seconds the benchmark reads its RSS and open file descriptors from /proc
and scrapes its /metrics. After the warm-up (default: the first quarter, at least 30 s)
it reports:

- RSS growth: median RSS of the last tenth of the run against the median of the tenth
  right after the warm-up (goal <= 5 %), and the slope of a least-squares line (MB/h);
- file-descriptor growth over the same two windows (goal: none; a difference of up to
  FD_NOISE = 3 is connections in flight, not a leak);
- event-loop lag p50/p99/max after the warm-up, from the service's own lag probe
  (`wirewatch_event_loop_lag_seconds`; goal p99 <= 100 ms);
- polls per second, the 304 share, articles, alerts delivered, errors logged.

Then it sends SIGTERM and reports how long the clean stop took. `--json FILE` writes all
figures and samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
FEED_ITEMS = 20
GOAL_RSS_GROWTH = 0.05
GOAL_LAG_P99_S = 0.100
FD_NOISE = 3  # connections in flight come and go: a difference this small is no growth
OLD_ITEM_AGE_S = 2 * 86400.0  # each feed starts with one item this old
RELEVANT_EVERY = 10  # one published item in this many is a report the watches should catch

ORDINARY = [
    "The city council approved a new budget for road repairs and school buildings.",
    "Farmers expect a strong wheat harvest after a wet spring across the region.",
    "The central bank kept its policy rate unchanged, citing easing inflation.",
    "A new cricket stadium opened to crowds of supporters on Sunday afternoon.",
    "Shipping volumes at the port rose by a fifth compared with last year.",
    "The university announced scholarships for students from rural districts.",
    "Heavy rain is forecast for the coastal areas later in the week.",
    "Officials inaugurated a solar power plant that will serve forty villages.",
]
RELEVANT = [
    "Militants launched near-simultaneous attacks on security posts in Quetta, Gwadar and "
    "Turbat on Sunday night, officials said, in coordinated assaults across Balochistan.",
    "Authorities suspended mobile internet services across several districts of the "
    "province after the attacks, citing security reasons; residents said data was cut.",
    "Gunmen and suicide bombers struck army camps in three towns within an hour.",
]


# ---- the simulator (its own process) --------------------------------------------------------
@dataclass
class Simulation:
    outlets: int
    ports: list[int]
    articles_per_minute: float
    started: float = field(default_factory=time.time)

    def period(self, outlet: int) -> float:
        """Seconds between two items of this outlet (outlets differ by up to 2x)."""
        mean = self.outlets * 60.0 / self.articles_per_minute
        return mean * (0.5 + (outlet * 7919 % 1000) / 1000)

    def offset(self, outlet: int) -> float:
        """When (after the start) this outlet publishes its first new item."""
        return (outlet * 104729 % 1000) / 1000 * self.period(outlet)

    def latest(self, outlet: int, now: float) -> int:
        """Number of the newest item of `outlet` at `now`. Item 0 is two days old when the
        simulation starts (the crawler's backfill rule records it unmatched: no start-up
        burst), items 1, 2, ... appear every `period` from `offset` on."""
        since = now - self.started - self.offset(outlet)
        return 0 if since < 0 else 1 + math.floor(since / self.period(outlet))

    def published(self, outlet: int, item: int) -> datetime:
        if item == 0:
            return datetime.fromtimestamp(self.started - OLD_ITEM_AGE_S, UTC)
        moment = self.started + self.offset(outlet) + (item - 1) * self.period(outlet)
        return datetime.fromtimestamp(moment, UTC)

    def port(self, outlet: int) -> int:
        return self.ports[outlet % len(self.ports)]

    def base(self, outlet: int) -> str:
        return f"http://{HOST}:{self.port(outlet)}/o/{outlet}"


def item_text(outlet: int, item: int) -> tuple[str, list[str]]:
    rng = random.Random(outlet * 1_000_003 + item)
    if (outlet + item) % RELEVANT_EVERY == 0:
        paragraphs = [rng.choice(RELEVANT) for _ in range(3)] + rng.sample(ORDINARY, 2)
        title = f"Coordinated attacks and internet cut in Balochistan ({outlet}-{item})"
    else:
        paragraphs = rng.sample(ORDINARY, 5)
        title = f"Local news {outlet}-{item}: " + paragraphs[0][:40]
    return title, paragraphs


def feed_xml(sim: Simulation, outlet: int, newest: int) -> bytes:
    items = []
    for item in range(newest, max(-1, newest - FEED_ITEMS), -1):
        title, paragraphs = item_text(outlet, item)
        link = f"{sim.base(outlet)}/a/{item}"
        items.append(
            f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
            f"<description>{paragraphs[0]}</description>"
            f"<pubDate>{format_datetime(sim.published(outlet, item), usegmt=True)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {outlet}</title><link>{sim.base(outlet)}/</link>"
        f"<description>simulated</description>{''.join(items)}</channel></rss>"
    ).encode()


def article_html(outlet: int, item: int) -> bytes:
    title, paragraphs = item_text(outlet, item)
    body = "".join(f"<p>{p} {p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home News Sport</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>All rights reserved</footer>"
        "</body></html>"
    ).encode()


def serve(outlets: int, ports: int, articles_per_minute: float, queue: Any) -> None:
    """The simulator process: serves until terminated; puts its ports on `queue`."""
    from aiohttp import web

    stats: dict[str, Any] = {"feeds": 0, "not_modified": 0, "pages": 0, "hooks": 0}
    stats["feed_to_alert_s"] = []  # per alert: (arrival - its oldest article's appearance)

    async def main() -> None:
        app = web.Application()
        sim_ports: list[int] = []
        runner = web.AppRunner(app, access_log=None)

        async def feed(request: web.Request) -> web.Response:
            outlet = int(request.match_info["outlet"])
            newest = sim.latest(outlet, time.time())
            etag = f'"{outlet}-{newest}"'
            stats["feeds"] += 1
            if request.headers.get("If-None-Match") == etag:
                stats["not_modified"] += 1
                return web.Response(status=304, headers={"ETag": etag})
            body = feed_xml(sim, outlet, newest)
            return web.Response(
                body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
            )

        async def page(request: web.Request) -> web.Response:
            stats["pages"] += 1
            outlet, item = int(request.match_info["outlet"]), int(request.match_info["item"])
            return web.Response(body=article_html(outlet, item), content_type="text/html")

        async def hook(request: web.Request) -> web.Response:
            payload = await request.json()
            stats["hooks"] += 1
            appeared = [appearance(sim, a.get("url") or "") for a in payload["articles"]]
            if known := [t for t in appeared if t is not None]:
                stats["feed_to_alert_s"].append(round(time.time() - min(known), 3))
            return web.Response(text="ok")

        async def robots(_request: web.Request) -> web.Response:
            return web.Response(text="User-agent: *\nAllow: /\n")

        async def report(_request: web.Request) -> web.Response:
            return web.json_response(stats)

        app.router.add_get("/o/{outlet}/feed", feed)
        app.router.add_get("/o/{outlet}/a/{item}", page)
        app.router.add_post("/hook", hook)
        app.router.add_get("/robots.txt", robots)
        app.router.add_get("/stats", report)
        await runner.setup()
        for _ in range(ports):
            site = web.TCPSite(runner, HOST, 0)
            await site.start()
            sim_ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        sim = Simulation(outlets, sim_ports, articles_per_minute)
        queue.put(sim_ports)
        await asyncio.Event().wait()

    asyncio.run(main())


def appearance(sim: Simulation, url: str) -> float | None:
    """When the item behind an article URL (`.../o/OUTLET/a/ITEM`) appeared in its feed."""
    parts = url.rstrip("/").split("/")
    if len(parts) < 4 or parts[-2] != "a" or parts[-4] != "o":
        return None
    return sim.published(int(parts[-3]), int(parts[-1])).timestamp()


# ---- the service under test -----------------------------------------------------------------
def config_text(
    outlets: int,
    ports: list[int],
    interval: float,
    db: Path,
    group_wait: float = 0.0,
    story_window: float | None = None,
) -> str:
    """The service's config; `story_window` (s) short: most reports open a story of their own."""
    sim = Simulation(outlets, ports, 1.0)
    lines = [
        f"storage: {{url: 'sqlite:///{db}'}}",
        "crawler: {allow_private_addresses: true}",
        "server: {listen: '127.0.0.1:0'}",
        "outlets:",
    ]
    lines += [
        f"  - {{name: outlet-{n}, feed: '{sim.base(n)}/feed', interval: {interval:g}s}}"
        for n in range(outlets)
    ]
    lines += [
        "watches:",
        "  - name: balochistan-attacks",
        "    topic: coordinated attacks",
        "    description: Militants carry out several simultaneous or linked assaults on "
        "security forces, government sites or infrastructure.",
        "    regions: [Balochistan]",
        f"    group_wait: {group_wait:g}s",
        *([f"    story_window: {story_window:g}s"] if story_window else []),
        "    notify: [siem]",
        "  - name: internet-shutdowns",
        "    topic: internet shutdowns",
        "    description: Authorities cut, suspend or restrict mobile internet or internet "
        "access in a city, region or country.",
        f"    group_wait: {group_wait:g}s",
        *([f"    story_window: {story_window:g}s"] if story_window else []),
        "    notify: [siem]",
        "notifiers:",
        f"  - {{name: siem, type: webhook, url: 'http://{HOST}:{ports[0]}/hook'}}",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Sample:
    t: float  # seconds since the service was ready
    rss_mb: float
    fds: int
    metrics: dict[str, float]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(url: str) -> dict[str, float]:
    """Every sample of a /metrics page, summed over labels except `le`."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(url, timeout=10) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + (f"|{sample.labels['le']}" if "le" in sample.labels else "")
            values[key] = values.get(key, 0.0) + sample.value
    return values


def lag_quantile(before: dict[str, float], after: dict[str, float], q: float) -> float:
    """A quantile of the event-loop lag observed between two scrapes (linear in buckets)."""
    bounds = lag_buckets(before, after)
    total = bounds[-1][1] if bounds else 0.0
    if not total:
        return math.nan
    wanted, lower, below = q * total, 0.0, 0.0
    for upper, count in bounds:
        if count >= wanted:
            if math.isinf(upper):
                return math.inf
            share = (wanted - below) / max(count - below, 1e-9)
            return lower + share * (upper - lower)
        lower, below = upper, count
    return math.inf


def slope_per_hour(samples: list[Sample]) -> float:
    if len(samples) < 3:
        return math.nan
    xs = [s.t for s in samples]
    ys = [s.rss_mb for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 3600


def window(samples: list[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in samples if start <= s.t <= end] or samples[-1:]


def wait_for_event(log: Path, event: str, proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"wirewatch exited with {proc.returncode}; see {log}")
        for line in log.read_text(errors="replace").splitlines():
            if f'"event": "{event}"' in line:
                return json.loads(line)
        time.sleep(0.2)
    raise SystemExit(f"no {event} within {timeout}s; see {log}")


def count_levels(log: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            level = json.loads(line).get("level", "?")
        except ValueError:
            level = "not-json"
        counts[level] = counts.get(level, 0) + 1
    return counts


def sim_stats(port: int) -> dict[str, int]:
    from urllib.request import urlopen

    with urlopen(f"http://{HOST}:{port}/stats", timeout=10) as response:
        return json.loads(response.read())


def stop_service(proc: subprocess.Popen, timeout: float) -> tuple[int, float]:
    """SIGTERM the service and wait for it: its exit code, and seconds it took to stop."""
    stopping = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=timeout)
    return code, time.monotonic() - stopping


def tear_down(proc: subprocess.Popen, simulator: Any) -> None:
    """Kill the service if it still runs, and stop the outlets' simulator."""
    if proc.poll() is None:
        proc.kill()
    simulator.terminate()
    simulator.join(10)


def run(args: argparse.Namespace) -> dict[str, Any]:
    duration = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else max(30.0, duration / 4)
    context = mp.get_context("spawn")
    queue = context.Queue()
    simulator = context.Process(
        target=serve, args=(args.outlets, args.ports, args.articles_per_minute, queue)
    )
    simulator.start()
    ports = queue.get(timeout=60)
    folder = Path(tempfile.mkdtemp(prefix="wirewatch-soak-"))
    config = folder / "soak.yaml"
    config.write_text(config_text(args.outlets, ports, args.interval, folder / "soak.db"))
    log = folder / "wirewatch.log"
    with log.open("w") as out:
        command = [sys.executable, "-m", "wirewatch", "--log-format", "json", "run"]
        proc = subprocess.Popen([*command, "-c", str(config)], stderr=out, stdout=out)
    try:
        listening = wait_for_event(log, "server.listening", proc, 300)
        wait_for_event(log, "service.ready", proc, 300)
        metrics_url = f"http://{listening['host']}:{listening['port']}/metrics"
        print(
            f"soak: {args.outlets} outlets every {args.interval:g}s, {args.minutes:g} min "
            f"(warm-up {warmup:.0f}s), pid {proc.pid}, logs {log}",
            flush=True,
        )
        samples = sample(proc, metrics_url, duration, args.sample_s)
        code, stop_s = stop_service(proc, timeout=120)
        hooks = sim_stats(ports[0])
    finally:
        tear_down(proc, simulator)
    return summarise(args, samples, warmup, duration, code, stop_s, hooks, count_levels(log))


def sample(proc: subprocess.Popen, url: str, duration: float, every: float) -> list[Sample]:
    samples: list[Sample] = []
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) <= duration:
        if proc.poll() is not None:
            raise SystemExit(f"wirewatch exited early with {proc.returncode}")
        samples.append(Sample(elapsed, rss_mb(proc.pid), fd_count(proc.pid), scrape(url)))
        if len(samples) % max(1, int(60 / every)) == 0:
            last = samples[-1]
            polls = last.metrics.get("wirewatch_polls_total", 0)
            print(
                f"  {elapsed:6.0f}s  rss {last.rss_mb:7.1f} MB  fds {last.fds:4d}  "
                f"polls {polls:8.0f}",
                flush=True,
            )
        time.sleep(max(0.0, every - (time.monotonic() - start - elapsed)))
    return samples


def summarise(
    args: argparse.Namespace,
    samples: list[Sample],
    warmup: float,
    duration: float,
    code: int,
    stop_s: float,
    sim: dict[str, int],
    levels: dict[str, int],
) -> dict[str, Any]:
    tenth = max(duration / 10, 2 * args.sample_s)
    early = window(samples, warmup, warmup + tenth)
    late = window(samples, duration - tenth, duration)
    after = [s for s in samples if s.t >= warmup]
    rss_early = statistics.median(s.rss_mb for s in early)
    rss_late = statistics.median(s.rss_mb for s in late)
    first, last = early[0].metrics, samples[-1].metrics
    span = samples[-1].t - early[0].t
    polls = last.get("wirewatch_polls_total", 0) - first.get("wirewatch_polls_total", 0)
    return {
        "outlets": args.outlets,
        "interval_s": args.interval,
        "minutes": args.minutes,
        "warmup_s": warmup,
        "rss_mb_after_warmup": round(rss_early, 1),
        "rss_mb_end": round(rss_late, 1),
        "rss_mb_max": round(max(s.rss_mb for s in samples), 1),
        "rss_growth": round((rss_late - rss_early) / rss_early, 4),
        "rss_slope_mb_per_hour": round(slope_per_hour(after), 1),
        "fds_after_warmup": statistics.median(s.fds for s in early),
        "fds_end": statistics.median(s.fds for s in late),
        "fds_max": max(s.fds for s in samples),
        "loop_lag_p50_ms": round(1000 * lag_quantile(first, last, 0.50), 2),
        "loop_lag_p99_ms": round(1000 * lag_quantile(first, last, 0.99), 2),
        "loop_lag_max_bucket_ms": round(1000 * max_lag_bucket(first, last), 1),
        "polls_per_s": round(polls / span, 1) if span else math.nan,
        "not_modified_ratio": round(last.get("wirewatch_poll_not_modified_ratio", 0.0), 3),
        "articles": last.get("wirewatch_articles_total", 0),
        "stories": last.get("wirewatch_stories_total", 0),
        "alerts_delivered": sim["hooks"],
        "outbox_pending_end": last.get("wirewatch_outbox_pending", 0),
        "log_lines_by_level": levels,
        "exit_code": code,
        "stop_s": round(stop_s, 1),
        "samples": [asdict(s) | {"metrics": None} for s in samples],
    }


def lag_buckets(before: dict[str, float], after: dict[str, float]) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the lag histogram between two scrapes."""
    prefix = "wirewatch_event_loop_lag_seconds_bucket|"
    return sorted(
        (float(k.removeprefix(prefix)), after[k] - before.get(k, 0.0))
        for k in after
        if k.startswith(prefix)
    )


def max_lag_bucket(before: dict[str, float], after: dict[str, float]) -> float:
    """The upper bound of the bucket holding the largest lag observed between two scrapes."""
    buckets = lag_buckets(before, after)
    total = buckets[-1][1] if buckets else 0.0
    return next((upper for upper, count in buckets if count >= total), math.nan)


def report(result: dict[str, Any]) -> None:
    growth, p99 = result["rss_growth"], result["loop_lag_p99_ms"] / 1000
    fds = result["fds_end"] - result["fds_after_warmup"]
    rows = [
        ("RSS after warm-up / end / max (MB)",
         f"{result['rss_mb_after_warmup']} / {result['rss_mb_end']} / {result['rss_mb_max']}", ""),
        ("RSS growth after warm-up", f"{100 * growth:+.1f} %",
         "ok" if growth <= GOAL_RSS_GROWTH else "OVER GOAL (5 %)"),
        ("RSS trend (least squares)", f"{result['rss_slope_mb_per_hour']:+.1f} MB/h", ""),
        ("open fds after warm-up / end / max",
         f"{result['fds_after_warmup']:g} / {result['fds_end']:g} / {result['fds_max']}",
         "ok" if fds <= FD_NOISE else "GROWING"),
        ("event-loop lag p50 / p99",
         f"{result['loop_lag_p50_ms']} / {result['loop_lag_p99_ms']} ms",
         "ok" if p99 <= GOAL_LAG_P99_S else "OVER GOAL (100 ms)"),
        ("event-loop lag, highest bucket hit", f"<= {result['loop_lag_max_bucket_ms']} ms", ""),
        ("polls per second", f"{result['polls_per_s']}", ""),
        ("304 share of polls", f"{100 * result['not_modified_ratio']:.1f} %", ""),
        ("articles / stories / alerts delivered",
         f"{result['articles']:g} / {result['stories']:g} / {result['alerts_delivered']}", ""),
        ("log lines by level", json.dumps(result["log_lines_by_level"]), ""),
        ("SIGTERM -> exit", f"{result['stop_s']} s, exit {result['exit_code']}", ""),
    ]  # fmt: skip
    print(f"\n=== soak: {result['outlets']} outlets, {result['minutes']:g} min ===")
    for name, value, verdict in rows:
        print(f"{name:40} {value:32} {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval, s (>= 10)")
    parser.add_argument("--articles-per-minute", type=float, default=30.0)
    parser.add_argument("--ports", type=int, default=50, help="simulated hosts")
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, help="seconds (default: a quarter, >= 30 s)")
    parser.add_argument("--json", type=Path, help="write the figures and samples here")
    args = parser.parse_args(argv)
    result = run(args)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    ok = (
        result["rss_growth"] <= GOAL_RSS_GROWTH
        and result["fds_end"] - result["fds_after_warmup"] <= FD_NOISE
        and result["loop_lag_p99_ms"] / 1000 <= GOAL_LAG_P99_S
        and result["exit_code"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
