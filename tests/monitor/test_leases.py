"""Two crawl schedulers on one PostgreSQL database (two instances) share the outlets: each
outlet is polled by one of them at a time, at its interval, and when one stops the other
takes its outlets over within two intervals."""

import asyncio
import itertools

from tests.fixtures.outlets import crawler_settings, outlet
from wirewatch import defaults
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.service.wiring import outlet_leases
from wirewatch.store import Store

INTERVAL_S = 3.0
REQUEST_DELAY_S = 1.0  # a poll's request reaches the outlet this long after its lease, at most
OUTLETS = 4
# the outlets share one host: without a per-host delay, so that a poll's request leaves as it
# takes its lease (what is tested is the lease, not politeness to one host)
SETTINGS = {"per_host_delay": 0.0}


async def instance(pg_database: str, name: str, settings):
    store = Store(pg_database)
    fetcher = Fetcher(settings)
    await fetcher.__aenter__()
    poller = Poller(fetcher, store.crawl, settings)

    async def nothing(result):
        return None

    scheduler = CrawlScheduler(
        poller, nothing, first_run_spread_s=0.2, leases=outlet_leases(store, name)
    )
    return scheduler, fetcher


async def share_then_stop_one(first, second, outlets) -> float:
    """Both poll for a while, then the first stops; when it stopped."""
    first.start(outlets)
    second.start(outlets)
    await asyncio.sleep(4 * INTERVAL_S)
    assert first.held | second.held == {o.name for o in outlets}
    await first.shutdown()  # instance "a" goes away; "b" must take its outlets over
    gone = asyncio.get_running_loop().time()
    await asyncio.sleep(3 * INTERVAL_S)
    assert second.held == {o.name for o in outlets}
    return gone


async def test_outlets_polled_by_one_instance_and_taken_over(outlet_server, pg_database):
    paths = [f"/feed-{i}.xml" for i in range(OUTLETS)]
    for path in paths:
        outlet_server.add_feed(path, items=[], kind="atom")  # no <ttl>: polled every interval
    outlets = [
        outlet(f"o{i}", outlet_server.url(p), interval=INTERVAL_S) for i, p in enumerate(paths)
    ]
    settings = crawler_settings(**SETTINGS)
    (first, f1), (second, f2) = [await instance(pg_database, n, settings) for n in "ab"]
    try:
        gone = await share_then_stop_one(first, second, outlets)
    finally:
        await first.shutdown()
        await second.shutdown()
        await f1.__aexit__(None, None, None)
        await f2.__aexit__(None, None, None)
    # a poll's request reaches the outlet a moment after its lease was taken (up to a second
    # on a machine busy with the whole suite); without leases two instances poll each outlet
    # at unrelated moments of every interval, far closer together than this
    shortest = INTERVAL_S * (1 - defaults.POLL_JITTER_FRACTION) - REQUEST_DELAY_S
    for path in paths:
        times = outlet_server.hit_times(path)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= shortest, (path, gaps)  # never two polls within the interval
        assert len(times) >= 5, (path, times)  # ... and polled on (two instances, not none)
        before, after = [t for t in times if t <= gone], [t for t in times if t > gone]
        taken_over = after and after[0] - before[-1] <= 2 * INTERVAL_S + REQUEST_DELAY_S
        assert taken_over, (path, times, gone)


class CountedLeases:
    """An instance's leases, counting the outlet leases it tries to take."""

    def __init__(self, leases) -> None:
        self.leases, self.takes = leases, 0

    def take(self, outlet, interval_s):
        self.takes += 1
        return self.leases.take(outlet, interval_s)

    def __getattr__(self, name):
        return getattr(self.leases, name)


async def test_a_standby_instance_leaves_a_held_outlet_alone_until_its_lease_lapses(
    outlet_server, pg_database
):
    """The second instance is refused the outlet once, then stands by: its job is paused
    (no poll, no lease taken) while the first polls on; when the first stops, the second
    takes the outlet over within two intervals."""
    outlet_server.add_feed("/held.xml", items=[], kind="atom")
    held = [outlet("held", outlet_server.url("/held.xml"), interval=INTERVAL_S)]
    settings = crawler_settings(**SETTINGS)
    (first, f1), (second, f2) = [await instance(pg_database, n, settings) for n in "ab"]
    second.leases = counted = CountedLeases(second.leases)
    try:
        first.start(held)
        await asyncio.sleep(INTERVAL_S / 2)
        second.start(held)
        await asyncio.sleep(4 * INTERVAL_S)
        standing_by = (set(second.standby), set(second.held), counted.takes)
        polls_before = outlet_server.hits("/held.xml")
        await first.shutdown()
        gone = asyncio.get_running_loop().time()
        await asyncio.sleep(2 * INTERVAL_S + REQUEST_DELAY_S)
        taken_over = set(second.held)
    finally:
        for scheduler, fetcher in ((first, f1), (second, f2)):
            await scheduler.shutdown()
            await fetcher.__aexit__(None, None, None)
    assert standing_by == ({"held"}, set(), 1)  # refused once, then no further try
    assert polls_before >= 4  # the first polled on, every interval
    assert taken_over == {"held"}
    after = [t for t in outlet_server.hit_times("/held.xml") if t > gone]
    assert after and after[0] - gone <= 2 * INTERVAL_S + REQUEST_DELAY_S


async def test_a_feed_that_asks_for_less_traffic_is_not_polled_by_the_other(
    outlet_server, pg_database
):
    """RSS <ttl>15</ttl>: the holder polls again in 15 minutes, and so does nobody else."""
    outlet_server.add_feed("/slow.xml", items=[])
    slow = [outlet("slow", outlet_server.url("/slow.xml"), interval=INTERVAL_S)]
    settings = crawler_settings(**SETTINGS)
    (first, f1), (second, f2) = [await instance(pg_database, n, settings) for n in "ab"]
    try:
        first.start(slow)
        second.start(slow)
        await asyncio.sleep(4 * INTERVAL_S)
    finally:
        for scheduler, fetcher in ((first, f1), (second, f2)):
            await scheduler.shutdown()
            await fetcher.__aexit__(None, None, None)
    assert outlet_server.hits("/slow.xml") == 1


async def settled_shares(first, second, outlets: int, deadline: float) -> tuple[int, int]:
    """How many outlets each instance holds once the shares have settled: none in transit (one
    released by the first and not yet taken by the second: a standby instance takes it at its
    next look, and never sooner than 0.9 interval after its last poll) and neither holding
    more than half and one; waiting at most ``deadline`` seconds more on a loaded machine,
    where the first instance's releases, one poll round apart, come late."""
    waited = 0.0
    while waited < deadline:
        held = len(first.held), len(second.held)
        if sum(held) == outlets and max(held) <= outlets // 2 + 1:
            break
        await asyncio.sleep(0.25)
        waited += 0.25
    return len(first.held), len(second.held)


async def test_an_instance_started_later_gets_its_share(outlet_server, pg_database):
    """The first instance polls every outlet alone; once a second one is up, the first
    releases outlets beyond its share and the second takes them, never polling an outlet
    twice within its interval."""
    paths = [f"/share-{i}.xml" for i in range(8)]
    for path in paths:
        outlet_server.add_feed(path, items=[], kind="atom")
    outlets = [
        outlet(f"s{i}", outlet_server.url(p), interval=INTERVAL_S) for i, p in enumerate(paths)
    ]
    # eight feeds on one host: the per-host delay would hold requests back for seconds
    settings = crawler_settings(per_host_delay=0.05)
    (first, f1), (second, f2) = [await instance(pg_database, n, settings) for n in "ab"]
    try:
        first.start(outlets)
        await asyncio.sleep(2 * INTERVAL_S)
        assert first.held == {o.name for o in outlets}  # alone: all of them
        second.start(outlets)
        await asyncio.sleep(4 * INTERVAL_S)
        shares = await settled_shares(first, second, len(outlets), deadline=8 * INTERVAL_S)
        counted = (first.instances, second.instances)
    finally:
        for scheduler, fetcher in ((first, f1), (second, f2)):
            await scheduler.shutdown()
            await fetcher.__aexit__(None, None, None)
    assert counted == (2, 2)
    # a share of 4 each, and one outlet of slack: 5 and 3 at worst (all 8 alone before)
    assert sum(shares) == 8 and max(shares) <= 5, shares
    shortest = INTERVAL_S * (1 - defaults.POLL_JITTER_FRACTION) - REQUEST_DELAY_S
    for path in paths:
        gaps = [b - a for a, b in itertools.pairwise(outlet_server.hit_times(path))]
        assert min(gaps) >= shortest, (path, gaps)


async def test_a_flush_that_fires_as_an_instance_stops_does_not_keep_it_counted(pg_database):
    """The store flush runs every 2 s and says the instance is alive; one that fired just
    before the stop must not say so after the instance said it leaves, or the others keep
    counting it (and keep releasing outlets to it) until its heartbeat runs out."""
    scheduler, fetcher = await instance(pg_database, "a", crawler_settings())
    scheduler.start([])
    try:
        fired = asyncio.ensure_future(scheduler._flush_job())  # APScheduler's task, not yet run
        await scheduler.shutdown()
        await fired
    finally:
        await fetcher.__aexit__(None, None, None)
    store = Store(pg_database)
    assert store.leases.heartbeat("b", ttl_s=10.0) == ["b"]  # "a" no longer counts
    store.close()
