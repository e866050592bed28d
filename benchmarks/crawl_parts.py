"""Where the crawler's CPU goes beyond the bare aiohttp loop, part by part, by CPU time.

    python -m benchmarks.crawl_parts [--outlets 2000] [--rounds 8] [--mode mostly304]
                                     [--canned-outlets 500] [--skip-fetch]

Two measurements, each in this process, on the service's event loop (`crawler.event_loop`):

- fetch path: `Fetcher.get` against the plain `aiohttp.ClientSession.get` loop of
  benchmarks/crawl.py (`BareLoop`), and the whole crawler of benchmarks/crawl.py, all on
  the same loop and against the same simulator, sweeps in turn (each first as often as
  the others), `--mode` as in benchmarks/crawl.py. What the crawler's request path
  (limits, per-host turns, the address guard, the watchdog, the result record) costs
  over aiohttp's own, and what the rest of the crawler costs on top, with polls in flight.
- poll work: `CrawlScheduler.run_once` over `Poller` + the SQLite `Store` (and the result
  callback of benchmarks/crawl.py) with a canned fetcher that answers at once, without
  network: CPU per poll answered 304, per poll of a feed that gained one item (read the
  new item, check its key, build its entry and article, store it as seen), and per poll
  of a feed whose 50 items are all new (the check, at the next poll, that its articles
  were stored is left out: an untimed round of 304s follows each timed one). What the
  crawler does that the bare loop does not, without the request.

Medians of the rounds; CPU time of the whole process (`resource.getrusage`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.crawl import (
    ALL_304,
    FULL,
    MOSTLY_304,
    WARM_UP_ROUNDS,
    BareLoop,
    Crawler,
    Simulator,
    _control,
    _cpu,
    _crawler_config,
    _outlets,
    start_server,
)

RSS = "application/rss+xml; charset=utf-8"


# ---- the fetch path against aiohttp's own ------------------------------------------------


class FetcherLoop:
    """`Fetcher.get` of every feed once per sweep, with its last ETag, by `workers` tasks."""

    def __init__(self, fetcher: Any, urls: list[str], workers: int) -> None:
        self.fetcher, self.urls, self.workers = fetcher, urls, workers
        self.etags: dict[str, str | None] = {}

    async def sweep(self) -> None:
        from wirewatch import defaults

        queue = iter(self.urls)

        async def worker() -> None:
            for url in queue:
                result = await self.fetcher.get(
                    url,
                    max_bytes=defaults.FEED_MAX_BYTES,
                    etag=self.etags.get(url),
                    allow_private=True,
                    accept=defaults.FEED_ACCEPT,
                )
                if result.status == 200:
                    self.etags[url] = result.etag

        await asyncio.gather(*(worker() for _ in range(self.workers)))


async def fetch_path(args: argparse.Namespace) -> dict[str, list[float]]:
    """CPU ms per 1,000 polls, round by round, of each client: `session.get`, `Fetcher.get`
    and the whole crawler (benchmarks/crawl.py's), in turn."""
    import aiohttp

    from wirewatch.monitor.fetch import Fetcher

    server = start_server(args.outlets, args.outlets)
    urls = server.feed_urls(args.outlets)
    spent: dict[str, list[float]] = {"session.get": [], "Fetcher.get": [], "crawler": []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with (
                aiohttp.ClientSession() as control,
                BareLoop(urls, args.concurrency) as bare,
                Fetcher(_crawler_config(args.concurrency)) as fetcher,
                Crawler(urls, args.concurrency, folder) as crawler,
            ):
                clients = list(
                    zip(
                        spent,
                        (bare, FetcherLoop(fetcher, urls, args.concurrency), crawler),
                        strict=True,
                    )
                )
                await _control(control, server.control_url, reset=True)
                for _ in range(WARM_UP_ROUNDS):
                    for _, client in clients:
                        await client.sweep()
                for round_no in range(args.rounds):
                    await _control(control, server.control_url, mode=args.mode, round=round_no)
                    turn = round_no % len(clients)  # each goes first as often as the others
                    for name, client in clients[turn:] + clients[:turn]:
                        started = _cpu()
                        await client.sweep()
                        spent[name].append(1e6 * (_cpu() - started) / len(urls))
    finally:
        server.process.terminate()
        server.process.join()
    return spent


# ---- the poll work without the request ---------------------------------------------------


class CannedFetcher:
    """Answers every feed at once from a `Simulator`: 304 to its current ETag, else the body."""

    def __init__(self) -> None:
        self.simulator = Simulator(1, "http://127.0.0.1:1")
        self.versions: dict[str, int] = {}

    async def get(self, url: str, *, etag: str | None = None, **_: Any) -> Any:
        from multidict import CIMultiDict, CIMultiDictProxy

        from wirewatch.monitor.fetch import FetchResult

        version = self.versions.setdefault(url, 50)
        current = f'"{version}"'
        if etag == current:
            headers = CIMultiDictProxy(CIMultiDict({"ETag": current}))
            return FetchResult(url, url, 304, etag=current, headers=headers)
        headers = CIMultiDictProxy(CIMultiDict({"ETag": current, "Content-Type": RSS}))
        body = self.simulator.body(version)
        return FetchResult(url, url, 200, body=body, etag=current, headers=headers)


@dataclass
class PollWork:
    """One kind of poll: CPU µs per poll, round by round, and the articles it returned."""

    cpu_us: list[float] = field(default_factory=list)
    articles: int = 0
    polls: int = 0


async def poll_work(args: argparse.Namespace) -> dict[str, PollWork]:
    """Each kind of poll ("304", "one new item", "all 50 items new") and what it cost."""
    from wirewatch.monitor.poller import Poller
    from wirewatch.monitor.scheduler import CrawlScheduler
    from wirewatch.store import Store

    fetcher = CannedFetcher()
    outlets = _outlets([f"http://127.0.0.1:1/feed/{i}" for i in range(args.canned_outlets)])
    news = {"304": 0, "one new item": 1, "all 50 items new": 50}
    work = {kind: PollWork() for kind in news}
    returned = [0]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db")

        async def on_result(result: Any) -> None:  # as benchmarks/crawl.py's crawler
            if result.articles:
                returned[0] += len(result.articles)
                with store.transaction():
                    store.crawl.mark_seen(result.outlet, [a.entry_key for a in result.articles])

        poller = Poller(fetcher, store.crawl, _crawler_config(args.concurrency))  # type: ignore[arg-type]
        scheduler = CrawlScheduler(poller, on_result)
        for _ in range(WARM_UP_ROUNDS):
            await scheduler.run_once(outlets)
        for _ in range(args.rounds):
            for kind, items in news.items():
                for outlet in outlets:
                    fetcher.versions[outlet.feed] += items
                returned[0], started = 0, _cpu()
                await scheduler.run_once(outlets)
                work[kind].cpu_us.append(1e6 * (_cpu() - started) / len(outlets))
                work[kind].articles += returned[0]
                work[kind].polls += len(outlets)
                await scheduler.run_once(outlets)  # untimed: stored articles settle (a 304)
        store.close()
    return work


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    return "/".join(f"{v:.0f}" for v in (ordered[0], statistics.median(ordered), ordered[-1]))


async def measure(args: argparse.Namespace) -> None:
    if not args.skip_fetch:
        fetch = await fetch_path(args)
        print(f"\nfetch path, {args.mode}, CPU ms per 1,000 polls (min/median/max):")
        for name, values in fetch.items():
            print(f"  {name:12} {_spread(values)}")
        ratios = [
            100 * bare / ours
            for bare, ours in zip(fetch["session.get"], fetch["Fetcher.get"], strict=True)
        ]
        print(f"  session.get / Fetcher.get by CPU time {_spread(ratios)} %")
    work = await poll_work(args)
    print(f"\npoll work without the request ({args.canned_outlets} outlets), CPU per poll:")
    for name, measured in work.items():
        per_poll = measured.articles / measured.polls
        print(f"  {name:16} {_spread(measured.cpu_us)} µs (articles per poll: {per_poll:g})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outlets", type=int, default=2000)
    parser.add_argument("--canned-outlets", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--mode", default=MOSTLY_304, choices=[MOSTLY_304, ALL_304, FULL])
    parser.add_argument("--skip-fetch", action="store_true", help="the poll work only")
    args = parser.parse_args(argv)
    from wirewatch.config.schema import CrawlerConfig
    from wirewatch.service.loop import run

    loop = CrawlerConfig().event_loop
    print(f"crawl parts: {args.outlets} outlets, {args.rounds} rounds, on {loop}")
    run(measure(args), loop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
