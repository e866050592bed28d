"""Where the crawler's CPU goes per poll: cProfile by CPU time (`time.process_time`).

    python -m benchmarks.crawl_profile [--mode mostly304|all304|full] [--outlets 2000]
                                       [--rounds 6] [--top 30] [--out /tmp/crawl.prof]

The crawler of benchmarks/crawl.py (`CrawlScheduler.run_once` over `Poller` + `Fetcher` +
the SQLite `Store`, on the service's event loop) against the same simulator, alone: two
untimed warm-up rounds, then `--rounds` profiled rounds of the mix. Prints the crawler's
CPU per 1,000 polls under the profiler (its own overhead included: compare shares, not
milliseconds, with benchmarks/crawl.py) and the functions by own and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.crawl import MOSTLY_304, WARM_UP_ROUNDS, Crawler, _control, _cpu, start_server


async def profile(args: argparse.Namespace, control_url: str, urls: list[str]) -> None:
    import aiohttp

    profiler = cProfile.Profile(time.process_time)
    cpu = 0.0
    with tempfile.TemporaryDirectory() as folder:
        async with aiohttp.ClientSession() as control, Crawler(urls, 64, folder) as crawler:
            await _control(control, control_url, reset=True)
            for _ in range(WARM_UP_ROUNDS):
                await crawler.sweep()
            for round_no in range(args.rounds):
                await _control(control, control_url, mode=args.mode, round=round_no)
                started = _cpu()
                profiler.enable()
                await crawler.sweep()
                profiler.disable()
                cpu += _cpu() - started
    polls = args.rounds * len(urls)
    print(f"crawler CPU per 1,000 polls under the profiler: {1e6 * cpu / polls:.0f} ms")
    profiler.dump_stats(args.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default=MOSTLY_304, choices=["mostly304", "all304", "full"])
    parser.add_argument("--outlets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir(), "crawl.prof"))
    args = parser.parse_args(argv)
    from wirewatch.service.loop import run

    server = start_server(args.outlets, args.outlets)
    try:
        run(profile(args, server.control_url, server.feed_urls(args.outlets)), "uvloop")
    finally:
        server.process.terminate()
        server.process.join()
    stats = pstats.Stats(str(args.out))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats("wirewatch", args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
