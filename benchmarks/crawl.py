"""Crawler throughput and memory against a bare aiohttp GET loop, measured in the same run.

    python -m benchmarks.crawl [--outlets 2000] [--repeat 3] [--rounds 3] [--rss-outlets 10000]
                               [--baseline SRC_DIR]

A simulator in its own process serves one RSS 2.0 feed per outlet (50 items, about 60 KB)
on many ports of 127.0.0.1, so that every outlet is a host of its own for the per-host
limits, as it would be on the internet. Feeds answer 304 to a matching If-None-Match.

Two clients poll every outlet once per round, each with its own ETags:
- bare: one `aiohttp.ClientSession`, `TCPConnector(limit=concurrency)`, as many workers,
  GET every feed with its last ETag and read the body; nothing else.
- crawler: `CrawlScheduler.run_once` over `Poller` + `Fetcher` + the SQLite `Store`, the
  crawler config's defaults (`per_host_delay` excepted, see below), `fetch_articles: false`,
  and a result callback that marks the returned entries seen, as the pipeline does.
The bare loop always runs on asyncio's stock event loop (in a thread of its own), the
crawler on the loop the service runs on (`crawler.event_loop`: uvloop by default), so the
ratio is the service against the plain aiohttp loop the issue measured. With `--baseline
SRC` (another checkout's `src`, e.g. `git archive HEAD src | tar -x -C /tmp/base`) every
repetition also runs that checkout's crawler against its own bare loop in a process of its
own, the two checkouts' processes in turn: before and after in the same run.
Each repetition is a fresh process in which the two take turns round by round (either
goes first as often as the other), so that load from elsewhere on the machine hits both
alike; ratios are computed round by round. Both first poll every outlet twice untimed
(the crawler's backfill rule applies, the articles of the first poll are stored and its
ETags settle), then run `--rounds` timed rounds. Before each round the simulator
updates outlets:
- "mostly 304": a tenth of the outlets publish one new item (the rest answer 304);
- "all 304": nothing changes, so the ratio is the crawler's own cost per poll (fetch,
  bookkeeping, store writes) without any parsing;
- "full parsing": every outlet replaces all 50 items, so every poll parses a whole feed.
`per_host_delay` is 1 ms instead of 0.5 s: a round revisits each host sooner than 0.5 s
would allow, and politeness is not what is measured; the delay's code path still runs.

Memory: one more process configures `--rss-outlets` outlets (scheduler jobs for all of
them, model not loaded), lets the scheduler poll each once, then reports its peak RSS.

Besides polls/s, each client's CPU time per 1,000 polls is printed. Where the client is
the bottleneck (a quiet machine: the simulator has the other core) the rate ratio follows
the CPU ratio; where the simulator or other load is, the two rates come closer together.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

ITEMS = 50
WARM_UP_ROUNDS = 2
CONTROL = "/control"
HOST = "127.0.0.1"


async def serve_on_ports(app: Any, ports: int) -> list[int]:
    """Serve the aiohttp ``app`` on ``ports`` free ports of HOST (each a host of its own for
    the crawler's per-host limits), in a simulator's process; returns the port numbers."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    bound = []
    for _ in range(ports):
        site = web.TCPSite(runner, HOST, 0, backlog=1024)
        await site.start()
        bound.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    return bound


MOSTLY_304, ALL_304, FULL = "mostly304", "all304", "full"


# ---- the simulator (its own process) ----------------------------------------------------


def _item_xml(n: int, published: datetime, link_base: str) -> str:
    paragraph = (
        f"Officials said attackers struck {n % 7 + 2} security posts at once before dawn, "
        "and the provincial government ordered an inquiry into the security lapse. "
    )
    return (
        f"<item><title>Gunmen attack checkpoints in district {n % 97}, report {n}</title>"
        f"<link>{link_base}/news/{n}?utm_source=rss&amp;utm_medium=feed</link>"
        f'<guid isPermaLink="false">urn:bench:item:{n}</guid>'
        f"<pubDate>{format_datetime(published)}</pubDate>"
        "<dc:creator>Staff Reporter</dc:creator><category>Pakistan</category>"
        "<category>Security</category>"
        f"<description>&lt;p&gt;{paragraph * 4}&lt;/p&gt;&lt;p&gt;{paragraph * 2}&lt;/p&gt;"
        "</description>"
        f'<media:content url="{link_base}/img/{n}.jpg" medium="image" width="800"/>'
        "</item>\n"
    )


class Simulator:
    """Feed bodies depend on the outlet's version only, so 10,000 outlets share a few."""

    def __init__(self, outlets: int, link_base: str) -> None:
        self.versions = [ITEMS] * outlets
        self.link_base = link_base
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.body = lru_cache(maxsize=256)(self._body)

    def _body(self, version: int) -> bytes:
        items = "".join(
            _item_xml(n, self.started + timedelta(minutes=n), self.link_base)
            for n in range(version, version - ITEMS, -1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            "<title>Bench Outlet</title><link>http://127.0.0.1/</link>"
            "<description>Latest news</description><ttl>5</ttl>\n"
            f"{items}</channel></rss>\n"
        ).encode()

    def advance(self, mode: str, round_no: int) -> None:
        if mode == ALL_304:
            return
        for i in range(len(self.versions)):
            if mode == FULL:
                self.versions[i] += ITEMS
            elif (i + round_no) % 10 == 0:
                self.versions[i] += 1

    def reset(self) -> None:
        self.versions = [ITEMS] * len(self.versions)


def _serve(outlets: int, ports: int, ready: Any) -> None:
    from aiohttp import web

    async def main() -> None:
        async def feed(request: web.Request) -> web.Response:
            index = int(request.match_info["n"])
            version = sim.versions[index]
            etag = f'"{index}-{version}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(
                body=sim.body(version),
                headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
            )

        async def control(request: web.Request) -> web.Response:
            command = await request.json()
            if command.get("reset"):
                sim.reset()
            if "round" in command:
                sim.advance(command["mode"], command["round"])
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_post(CONTROL, control)
        bound = await serve_on_ports(app, ports)
        sim.link_base = f"http://{HOST}:{bound[0]}"
        ready.send(bound)
        await asyncio.Event().wait()

    sim = Simulator(outlets, "")
    asyncio.run(main())


@dataclass
class Server:
    process: Any
    ports: list[int]

    def feed_urls(self, outlets: int) -> list[str]:
        return [f"http://{HOST}:{self.ports[i % len(self.ports)]}/feed/{i}" for i in range(outlets)]

    @property
    def control_url(self) -> str:
        return f"http://{HOST}:{self.ports[0]}{CONTROL}"


def start_server(outlets: int, ports: int) -> Server:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(outlets, ports, child), daemon=True)
    process.start()
    return Server(process, parent.recv())


# ---- the clients (a fresh process each) --------------------------------------------------


@dataclass
class Measured:
    polls: int
    seconds: float
    cpu_seconds: float
    statuses: dict[str, int]
    peak_rss_mb: float = 0.0
    gc_seconds: float = 0.0  # CPU time of the garbage collector's runs, within cpu_seconds

    @property
    def rate(self) -> float:
        return self.polls / self.seconds


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _GcClock:
    """CPU time spent in the garbage collector (any thread) since the last `take`."""

    def __init__(self) -> None:
        self.spent = 0.0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.spent += time.process_time() - self._started

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


_gc_clock: _GcClock | None = None


def _gc_spent() -> float:
    global _gc_clock
    if _gc_clock is None:
        _gc_clock = _GcClock()
    return _gc_clock.take()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _control(session: Any, url: str, **command: Any) -> None:
    async with session.post(url, json=command) as response:
        response.raise_for_status()


class BareLoop:
    """`workers` tasks on one plain `aiohttp.ClientSession` GET every feed once per sweep,
    with its last ETag, and read the body; nothing else."""

    def __init__(self, urls: list[str], workers: int) -> None:
        self.urls, self.workers = urls, workers
        self.etags: dict[str, str] = {}
        self.statuses: dict[str, int] = {}

    async def __aenter__(self) -> BareLoop:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.workers)
        self.session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()

    async def _get(self, url: str) -> None:
        headers = {"If-None-Match": self.etags[url]} if url in self.etags else {}
        async with self.session.get(url, headers=headers) as response:
            await response.read()
            if response.status == 200:
                self.etags[url] = response.headers["ETag"]
            status = str(response.status)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    async def sweep(self) -> None:
        queue = iter(self.urls)

        async def worker() -> None:
            for url in queue:
                await self._get(url)

        await asyncio.gather(*(worker() for _ in range(self.workers)))


class OnStockLoop:
    """A `BareLoop` on asyncio's stock event loop in a thread of its own, awaited from the
    crawler's loop (which may be uvloop): the reference stays the plain aiohttp loop."""

    def __init__(self, bare: BareLoop) -> None:
        self.bare = bare
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def statuses(self) -> dict[str, int]:
        return self.bare.statuses

    def _call(self, work: Any) -> Any:
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def __aenter__(self) -> OnStockLoop:
        self.thread.start()
        await self._call(self.bare.__aenter__())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._call(self.bare.__aexit__(*exc_info))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    async def sweep(self) -> None:
        await self._call(self.bare.sweep())


class Crawler:
    """`CrawlScheduler.run_once` over `Poller` + `Fetcher` + a SQLite `Store`, with a result
    callback that marks the returned entries seen, as the pipeline does once it stored them."""

    def __init__(self, urls: list[str], workers: int, folder: str) -> None:
        from wirewatch.store import Store

        self.config = _crawler_config(workers)
        self.outlets = _outlets(urls)
        self.store = Store(Path(folder) / "bench.db")
        self.statuses: dict[str, int] = {}
        self.results = 0
        self.everyone = asyncio.Event()  # every outlet polled once (the memory run)

    async def __aenter__(self) -> Crawler:
        from wirewatch.monitor.fetch import Fetcher
        from wirewatch.monitor.poller import Poller
        from wirewatch.monitor.scheduler import CrawlScheduler

        self.fetcher = await Fetcher(self.config).__aenter__()
        self.scheduler = CrawlScheduler(
            Poller(self.fetcher, self.store.crawl, self.config), self._on_result
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.fetcher.close()
        self.store.close()

    async def _on_result(self, result: Any) -> None:
        self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
        if result.articles:
            with self.store.transaction():
                self.store.crawl.mark_seen(result.outlet, [a.entry_key for a in result.articles])
        self.results += 1  # not a sum over `statuses` per poll: the bare loop counts no more
        if self.results >= len(self.outlets):
            self.everyone.set()

    async def sweep(self) -> None:
        await self.scheduler.run_once(self.outlets)


def _crawler_config(concurrency: int) -> Any:
    from wirewatch.config.schema import CrawlerConfig

    return CrawlerConfig(per_host_delay=0.001, concurrency=concurrency)


def _outlets(urls: list[str]) -> list[Any]:
    from wirewatch.config.schema import OutletConfig

    return [
        OutletConfig(name=f"outlet-{i}", feed=url, fetch_articles=False, interval=300)
        for i, url in enumerate(urls)
    ]


async def _timed(client: OnStockLoop | Crawler, polls: int) -> Measured:
    client.statuses.clear()
    _gc_spent()
    started, cpu_started = time.perf_counter(), _cpu()
    await client.sweep()
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    return Measured(polls, seconds, cpu, dict(client.statuses), gc_seconds=_gc_spent())


async def _pair(
    urls: list[str], control_url: str, mode: str, rounds: int, workers: int
) -> list[tuple[Measured, Measured]]:
    """Bare loop and crawler sweep in turn, round by round: (bare, crawler) per round."""
    import aiohttp

    measured = []
    with tempfile.TemporaryDirectory() as folder:
        async with (
            aiohttp.ClientSession() as control,
            OnStockLoop(BareLoop(urls, workers)) as bare,
            Crawler(urls, workers, folder) as crawler,
        ):
            await _control(control, control_url, reset=True)
            for _ in range(WARM_UP_ROUNDS):  # untimed: first polls, backfill, ETags settle
                await bare.sweep()
                await crawler.sweep()
            for round_no in range(rounds):
                await _control(control, control_url, mode=mode, round=round_no)
                if round_no % 2:  # either goes first as often as the other
                    crawled = await _timed(crawler, len(urls))
                    swept = await _timed(bare, len(urls))
                else:
                    swept = await _timed(bare, len(urls))
                    crawled = await _timed(crawler, len(urls))
                measured.append((swept, crawled))
    return measured


async def _memory(urls: list[str], control_url: str, workers: int) -> Measured:
    """Configure every outlet, let the scheduler poll each once, report the peak RSS."""
    import aiohttp

    with tempfile.TemporaryDirectory() as folder:
        async with aiohttp.ClientSession() as control, Crawler(urls, workers, folder) as crawler:
            await _control(control, control_url, reset=True)
            started, cpu_started = time.perf_counter(), _cpu()
            crawler.scheduler.start(crawler.outlets)
            await crawler.everyone.wait()
            seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
            await crawler.scheduler.shutdown()
            statuses = dict(crawler.statuses)
    return Measured(len(urls), seconds, cpu, statuses, _peak_rss_mb())


def _service_loop() -> tuple[str, Callable[[Any], Any]]:
    """The event loop the service of the imported checkout runs on, and how to run on it
    (a checkout from before `crawler.event_loop`: asyncio's)."""
    from wirewatch.config.schema import CrawlerConfig

    name = getattr(CrawlerConfig(), "event_loop", "asyncio")
    try:
        from wirewatch.service.loop import run
    except ImportError:
        return "asyncio", asyncio.run
    return name, lambda main: run(main, name)


def _client(kind: str, args: tuple, conn: Any, src: str | None = None) -> None:
    if src:  # another checkout's wirewatch (imported nowhere yet in this fresh process)
        sys.path.insert(0, src)
    runner: Callable[..., Any] = {"pair": _pair, "memory": _memory}[kind]
    try:
        loop, run = _service_loop()
        result = run(runner(*args))
        if kind == "pair":
            result = (loop, result)
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    conn.send(("ok", result))


def in_process(kind: str, *args: Any, src: str | None = None) -> Any:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_client, args=(kind, args, child, src))
    process.start()
    status, result = parent.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{kind} run failed: {result}")
    return result


# ---- the report ----------------------------------------------------------------------------


def _spread(values: list[float], digits: int = 0) -> str:
    ordered = sorted(values)
    return "/".join(
        f"{v:,.{digits}f}" for v in (ordered[0], statistics.median(ordered), ordered[-1])
    )


def _scenario(
    server: Server, urls: list[str], mode: str, args: argparse.Namespace
) -> dict[str, dict]:
    """Checkout ("this checkout", "baseline") → its measurements; with a baseline, the two
    checkouts' processes take turns, either first as often as the other."""
    checkouts = {"this checkout": None}
    if args.baseline:
        checkouts["baseline"] = args.baseline
    results: dict[str, dict] = {name: {"bare": [], "crawler": []} for name in checkouts}
    for repeat in range(args.repeat):  # a fresh process each time
        order = list(checkouts.items())
        for name, src in order[::-1] if repeat % 2 else order:
            loop, pairs = in_process(
                "pair", urls, server.control_url, mode, args.rounds, args.concurrency, src=src
            )
            results[name]["loop"] = loop
            results[name]["bare"] += [b for b, _ in pairs]
            results[name]["crawler"] += [c for _, c in pairs]
    return results


def _print_scenario(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    for name, result in results.items():
        if len(results) > 1:
            print(f" {name} (crawler on {result['loop']}, bare loop on asyncio's):")
        else:
            print(f" crawler on {result['loop']}, bare loop on asyncio's:")
        _print_pairs(result)


def _print_pairs(result: dict) -> None:
    bare, crawler = result["bare"], result["crawler"]
    ratios = [c.rate / b.rate for b, c in zip(bare, crawler, strict=True)]
    cpu_ratios = [b.cpu_seconds / c.cpu_seconds for b, c in zip(bare, crawler, strict=True)]
    print(f"  bare aiohttp loop   polls/s {_spread([m.rate for m in bare])}")
    print(f"  crawler             polls/s {_spread([m.rate for m in crawler])}")
    print(f"  ratio crawler/bare  {_spread([100 * r for r in ratios])} % (round by round)")
    print(f"  ratio by CPU time   {_spread([100 * r for r in cpu_ratios])} %")
    for name, runs in (("bare", bare), ("crawler", crawler)):
        cpu = [1000 * m.cpu_seconds / m.polls * 1000 for m in runs]
        collected = [1000 * m.gc_seconds / m.polls * 1000 for m in runs]
        print(
            f"  {name:8} CPU per 1,000 polls {_spread(cpu)} ms (garbage collector "
            f"{_spread(collected)}); answers {runs[-1].statuses}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outlets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds per process")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per scenario")
    parser.add_argument("--rss-outlets", type=int, default=10_000, help="0: skip")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--ports", type=int, default=2000, help="simulator ports (hosts)")
    parser.add_argument("--skip-full", action="store_true", help="no full-parsing scenario")
    parser.add_argument("--skip-all-304", action="store_true", help="no all-304 scenario")
    parser.add_argument(
        "--baseline", metavar="SRC_DIR", help="another checkout's src: measured in turn"
    )
    args = parser.parse_args(argv)

    biggest = max(args.outlets, args.rss_outlets)
    server = start_server(biggest, min(args.ports, biggest))
    try:
        print(
            f"crawl benchmark: {args.outlets} outlets, {len(server.ports)} simulator ports, "
            f"{args.rounds} timed rounds x {args.repeat} repetitions, "
            f"concurrency {args.concurrency}, cpu count {os.cpu_count()}, "
            f"Python {sys.version.split()[0]}"
        )
        urls = server.feed_urls(args.outlets)
        mostly = _scenario(server, urls, MOSTLY_304, args)
        _print_scenario(
            "90 % answer 304 (a tenth of the outlets publish one item per round)", mostly
        )
        if not args.skip_all_304:
            idle = _scenario(server, urls, ALL_304, args)
            _print_scenario("all answer 304 (nothing new: the crawler's cost per poll)", idle)
        if not args.skip_full:
            full = _scenario(server, urls, FULL, args)
            _print_scenario("full parsing (every feed all new every round)", full)
        if args.rss_outlets:
            memory = in_process(
                "memory", server.feed_urls(args.rss_outlets), server.control_url, args.concurrency
            )
            print(
                f"\nmemory: {args.rss_outlets:,} outlets configured and each polled once in "
                f"{memory.seconds:.1f} s ({memory.statuses}): peak RSS {memory.peak_rss_mb:.0f} MB "
                "(goal <= 300 MB)"
            )
    finally:
        server.process.terminate()
        server.process.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
