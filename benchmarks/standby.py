"""What the crawl of shared outlets costs each of two instances (no model, no news).

    python -m benchmarks.standby [--outlets 1000] [--interval 15] [--seconds 30]
                                 [--rounds 2] [--baseline SRC_DIR]

Two crawl schedulers, each in a process of its own (`CrawlScheduler` over `Poller` +
`Fetcher` + a `Store` on one throwaway PostgreSQL database, leases as `wirewatch run`
wires them), share `--outlets` outlets of the instances benchmark's simulator, all
answering 304 and polled every `--interval`. Once both ran for three intervals (the outlets
shared out), each process's CPU time is taken over `--seconds`: per second, and per
1,000 polls it made. Half of each instance's outlets are the other's: this is what standing
by for them costs on top of polling its own. With `--baseline SRC` (another checkout's
`src`) every round also runs that checkout's schedulers, the two in turn, round by round.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import statistics
import sys
import time
from typing import Any

from benchmarks.instances import start_simulator


def _instance(src: str | None, url: str, name: str, feeds: list[str], args: Any, conn: Any) -> None:
    if src:  # another checkout's wirewatch, imported nowhere yet in this fresh process
        sys.path.insert(0, src)
    from tests.fixtures.outlets import crawler_settings, outlet
    from wirewatch.monitor.fetch import Fetcher
    from wirewatch.monitor.poller import Poller
    from wirewatch.monitor.scheduler import CrawlScheduler
    from wirewatch.service.loop import run
    from wirewatch.service.wiring import outlet_leases
    from wirewatch.store import Store

    polls = 0

    async def counted(result: Any) -> None:
        nonlocal polls
        polls += 1

    async def main() -> tuple[float, int, int]:
        store = Store(url)
        config = crawler_settings(per_host_delay=0.0)  # test settings: any interval
        outlets = [outlet(f"o{n}", feed, interval=args.interval) for n, feed in enumerate(feeds)]
        async with Fetcher(config) as fetcher:
            scheduler = CrawlScheduler(
                Poller(fetcher, store.crawl, config), counted, leases=outlet_leases(store, name)
            )
            scheduler.start(outlets)
            await asyncio.sleep(3 * args.interval)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu, before = usage.ru_utime + usage.ru_stime, polls
            await asyncio.sleep(args.seconds)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime - cpu
            measured = polls - before
            held = len(scheduler.held)
            await scheduler.shutdown()
        store.close()
        return cpu, measured, held

    conn.send(run(main(), "uvloop"))


def pair(src: str | None, url: str, feeds: list[str], args: Any) -> list[tuple[float, int, int]]:
    """Two instances on `url`, from `src` (None: this checkout): (CPU s, polls, held) each."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for name in ("a", "b"):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_instance, args=(src, url, name, feeds, args, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ports", type=int, default=500)
    parser.add_argument("--baseline", help="another checkout's src directory")
    args = parser.parse_args(argv)
    from tests.fixtures.postgres import postgres_bin, running_postgres

    binaries = postgres_bin()
    if binaries is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    sim = start_simulator(args.outlets, 1, 1, min(args.ports, args.outlets))
    feeds = [sim.feed_url(n) for n in range(args.outlets)]
    checkouts = {"this": None} if not args.baseline else {"baseline": args.baseline, "this": None}
    per_poll: dict[str, list[float]] = {name: [] for name in checkouts}
    try:
        with running_postgres(binaries) as server:
            for round_no in range(args.rounds):
                order = list(checkouts.items())
                for name, src in order if round_no % 2 == 0 else order[::-1]:
                    url = server.create_database()
                    started = time.monotonic()
                    results = pair(src, url, feeds, args)
                    server.drop_database(url)
                    cpu = sum(r[0] for r in results)
                    polls = sum(r[1] for r in results)
                    per_poll[name].append(1e6 * cpu / polls)
                    print(
                        f"round {round_no + 1}, {name}: CPU {cpu / args.seconds:.2f} cores "
                        f"for the two ({', '.join(f'{r[0]:.1f}' for r in results)} s), "
                        f"{polls:,} polls, {1e6 * cpu / polls:.0f} ms per 1,000 polls, "
                        f"outlets held {[r[2] for r in results]} "
                        f"({time.monotonic() - started:.0f} s)",
                        flush=True,
                    )
    finally:
        sim.process.terminate()
        sim.process.join()
    for name, values in per_poll.items():
        print(f"{name}: CPU per 1,000 polls, median {statistics.median(values):.0f} ms ({values})")
    if args.baseline:
        ratios = [t / b for t, b in zip(per_poll["this"], per_poll["baseline"], strict=True)]
        print(f"this / baseline by CPU per poll, round by round: {[f'{r:.2f}' for r in ratios]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
