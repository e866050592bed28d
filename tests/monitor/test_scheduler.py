"""When outlets are polled: one job each, failures contained, backoff, graceful stop."""

import asyncio
from datetime import UTC, datetime, timedelta

from tests.fixtures.outlets import OutletServer, crawler_settings, outlet
from wirewatch import defaults
from wirewatch.models import Article
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler, next_poll_delay, poll_backoff_delay
from wirewatch.store import Store


class FakePoller:
    """Answers from a script; records which outlets were polled."""

    def __init__(
        self, *, delay: float = 0.0, fail: set[str] = frozenset(), boom: set[str] = frozenset()
    ):
        self.delay, self.fail, self.boom = delay, fail, boom
        self.polled: list[str] = []
        self.failures: dict[str, int] = {}

    async def poll(self, source) -> PollResult:
        self.polled.append(source.name)
        await asyncio.sleep(self.delay)
        if source.name in self.boom:
            raise RuntimeError("bug in the poller")
        if source.name in self.fail:
            self.failures[source.name] = self.failures.get(source.name, 0) + 1
            return PollResult(
                source.name,
                "error",
                error="HTTP 500",
                consecutive_failures=self.failures[source.name],
            )
        return PollResult(source.name, "ok")


def collector():
    results: list[PollResult] = []

    async def on_result(result: PollResult) -> None:
        results.append(result)

    return results, on_result


async def wait_for(condition, within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def test_run_once_with_a_slow_outlet_still_delivers_the_fast_one(
    outlet_server: OutletServer,
) -> None:
    fresh = {"published": datetime.now(UTC)}
    outlet_server.add_feed("/fast", [{"title": "Fast news", "url": "/news/1", **fresh}])
    outlet_server.add_feed("/slow", [{"title": "Slow news", "summary": "y"}], delay=3)
    settings = crawler_settings(per_host_delay=0, total_timeout=0.5)
    results, on_result = collector()
    async with Fetcher(settings) as fetcher:
        poller = Poller(fetcher, Store(":memory:").crawl, settings)
        scheduler = CrawlScheduler(poller, on_result)
        returned = await scheduler.run_once(
            [
                outlet("fast", outlet_server.url("/fast"), fetch_articles=False),
                outlet("slow", outlet_server.url("/slow")),
            ]
        )
    by_name = {r.outlet: r for r in results}
    assert {r.outlet for r in returned} == {"fast", "slow"}
    assert [a.title for a in by_name["fast"].articles] == ["Fast news"]
    assert by_name["slow"].status == "error" and "timed out after 0.5 s" in by_name["slow"].error


async def test_run_once_polls_on_while_a_result_with_articles_is_processed(
    outlet_server: OutletServer,
) -> None:
    """One worker: the outlets after the one with news are polled before its articles are
    done with (matching a batch must not hold up the crawl)."""
    fresh = {"published": datetime.now(UTC)}
    outlet_server.add_feed("/news", [{"title": "Fresh news", "url": "/news/1", **fresh}])
    outlet_server.add_feed("/quiet", [])
    settings = crawler_settings(per_host_delay=0, concurrency=1)
    quiet_done = asyncio.Event()
    handed_on: list[str] = []

    async def on_result(result: PollResult) -> None:
        handed_on.append(result.outlet)
        if result.articles:
            await quiet_done.wait()  # as a batch being matched would
        elif sum(name.startswith("quiet") for name in handed_on) == 3:
            quiet_done.set()

    async with Fetcher(settings) as fetcher:
        scheduler = CrawlScheduler(Poller(fetcher, Store(":memory:").crawl, settings), on_result)
        outlets = [outlet("news", outlet_server.url("/news"), fetch_articles=False)]
        outlets += [outlet(f"quiet-{n}", outlet_server.url("/quiet")) for n in range(3)]
        returned = await asyncio.wait_for(scheduler.run_once(outlets), 5)
    assert handed_on[0] == "news" and sorted(handed_on) == ["news", "quiet-0", "quiet-1", "quiet-2"]
    assert {r.outlet for r in returned} == set(handed_on)


async def test_run_once_polls_at_most_the_pollers_concurrency_at_once() -> None:
    class CountingPoller(FakePoller):
        concurrency = 3

        def __init__(self) -> None:
            super().__init__(delay=0.01)
            self.now = self.most = 0

        async def poll(self, source) -> PollResult:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await super().poll(source)
            finally:
                self.now -= 1

    poller = CountingPoller()
    results, on_result = collector()
    scheduler = CrawlScheduler(poller, on_result)
    returned = await scheduler.run_once([outlet(f"o{n}", f"http://o{n}/feed") for n in range(20)])
    assert poller.most == 3
    assert len(returned) == len(results) == 20 and sorted(poller.polled) == sorted(
        f"o{n}" for n in range(20)
    )


async def test_shutdown_stops_run_once_taking_further_outlets() -> None:
    poller = FakePoller(delay=0.2)
    poller.concurrency = 1
    results, on_result = collector()
    scheduler = CrawlScheduler(poller, on_result)
    running = asyncio.create_task(
        scheduler.run_once([outlet(f"o{n}", f"http://o{n}/feed") for n in range(5)])
    )
    await wait_for(lambda: poller.polled == ["o0"])
    await scheduler.shutdown()
    assert [r.outlet for r in await running] == ["o0"]  # the poll in flight finished
    assert [r.outlet for r in results] == ["o0"]


async def test_one_job_per_outlet_polled_soon_after_start() -> None:
    poller = FakePoller()
    results, on_result = collector()
    scheduler = CrawlScheduler(poller, on_result, jitter_s=0, first_run_spread_s=0.05)
    scheduler.start(
        [outlet("a", "http://a/feed", interval=60), outlet("b", "http://b/feed", interval=60)]
    )
    try:
        assert scheduler.job_ids() == ["a", "b"]
        await wait_for(lambda: len(results) == 2)
        assert sorted(poller.polled) == ["a", "b"]
        next_a = scheduler.next_run_time("a")
        assert next_a - datetime.now(UTC) > timedelta(seconds=55)  # then every interval
    finally:
        await scheduler.shutdown()


async def test_set_outlets_adds_removes_and_reschedules() -> None:
    scheduler = CrawlScheduler(FakePoller(), collector()[1], jitter_s=0, first_run_spread_s=30)
    scheduler.start(
        [outlet("a", "http://a/feed", interval=60), outlet("b", "http://b/feed", interval=60)]
    )
    try:
        scheduler.set_outlets(
            [outlet("b", "http://b/feed", interval=600), outlet("c", "http://c/feed")]
        )
        assert scheduler.job_ids() == ["b", "c"]
        assert scheduler.next_run_time("b") - datetime.now(UTC) > timedelta(seconds=590)
        assert scheduler.outlets["c"].feed == "http://c/feed"
    finally:
        await scheduler.shutdown()


async def test_a_failing_outlet_does_not_stop_the_others() -> None:
    poller = FakePoller(boom={"broken"})
    results, _ = collector()

    async def on_result(result: PollResult) -> None:
        if result.outlet == "bad-callback":
            raise ValueError("pipeline trouble")
        results.append(result)

    scheduler = CrawlScheduler(poller, on_result, jitter_s=0, first_run_spread_s=0)
    sources = [
        outlet(n, f"http://{n}/feed", interval=0.2) for n in ("broken", "bad-callback", "ok")
    ]
    scheduler.start(sources)
    try:
        await wait_for(lambda: poller.polled.count("ok") >= 3)
        assert poller.polled.count("broken") >= 2 and poller.polled.count("bad-callback") >= 2
        assert scheduler.running
    finally:
        await scheduler.shutdown()
    assert {r.outlet for r in results} == {"ok"}


def test_backoff_grows_exponentially_and_is_capped() -> None:
    def failed(n: int, retry_after: float | None = None) -> PollResult:
        return PollResult("x", "error", consecutive_failures=n, retry_after_s=retry_after)

    delays = [poll_backoff_delay(failed(n), 60, base_s=60, max_s=3600) for n in range(1, 10)]
    assert delays[:5] == [None, None, 120, 240, 480]  # 1st failure: normal; 2nd: one interval
    assert delays[-1] == 3600
    assert poll_backoff_delay(failed(1, retry_after=900), 60) == 900
    assert poll_backoff_delay(failed(1, retry_after=10**9), 60, max_s=3600) == 3600
    assert poll_backoff_delay(PollResult("x", "ok"), 60) is None


async def test_repeated_failures_push_the_next_run_out() -> None:
    poller = FakePoller(fail={"flaky"})
    scheduler = CrawlScheduler(
        poller, collector()[1], jitter_s=0, first_run_spread_s=0, backoff_base_s=100
    )
    scheduler.start([outlet("flaky", "http://flaky/feed", interval=0.1)])
    try:
        await wait_for(
            lambda: scheduler.next_run_time("flaky") - datetime.now(UTC) > timedelta(seconds=60)
        )
        assert poller.failures["flaky"] == 2  # pushed out after the second failure
        await asyncio.sleep(0.3)
        assert poller.failures["flaky"] == 2  # and no poll since
    finally:
        await scheduler.shutdown()


async def test_shutdown_waits_for_polls_in_flight() -> None:
    poller = FakePoller(delay=0.3)
    results, on_result = collector()
    scheduler = CrawlScheduler(poller, on_result, jitter_s=0, first_run_spread_s=0)
    scheduler.start([outlet("a", "http://a/feed", interval=60)])
    await wait_for(lambda: poller.polled == ["a"])
    await scheduler.shutdown()
    assert [r.outlet for r in results] == ["a"]  # finished, not cancelled
    assert not scheduler.running and scheduler.job_ids() == []


class NewsPoller(FakePoller):
    """Every poll brings one new article."""

    async def poll(self, source) -> PollResult:
        self.polled.append(source.name)
        n = len(self.polled)
        article = Article(f"a-{n}", source.name, f"News {n}", "text", datetime.now(UTC))
        return PollResult(source.name, "ok", articles=[article])


async def test_a_slow_pipeline_does_not_hold_the_next_poll_back() -> None:
    """Matching a poll's articles takes longer than the interval: the outlet is still
    polled on its interval (a skipped run would let its lease run out and pass it, news
    and all, to another instance), and a stop waits for every result being processed."""
    poller = NewsPoller()
    results, store_result = collector()

    async def slow_pipeline(result: PollResult) -> None:
        await asyncio.sleep(1.0)
        await store_result(result)

    scheduler = CrawlScheduler(poller, slow_pipeline, jitter_s=0, first_run_spread_s=0)
    scheduler.start([outlet("busy", "http://busy/feed", interval=0.2)])
    try:
        await wait_for(lambda: len(poller.polled) >= 3, within=0.9)
        assert results == []  # the first result is still being processed
    finally:
        await scheduler.shutdown()
    assert len(results) == len(poller.polled)  # none dropped at the stop


async def test_shutdown_cancels_polls_that_overrun_the_grace_period() -> None:
    poller = FakePoller(delay=30)
    results, on_result = collector()
    scheduler = CrawlScheduler(
        poller, on_result, jitter_s=0, first_run_spread_s=0, shutdown_timeout_s=0.1
    )
    scheduler.start([outlet("a", "http://a/feed", interval=60)])
    await wait_for(lambda: poller.polled == ["a"])
    await asyncio.wait_for(scheduler.shutdown(), 2)
    assert results == []


class HintingPoller(FakePoller):
    """Every poll succeeds and says how long the feed wants between polls."""

    def __init__(self, hint: float | None) -> None:
        super().__init__()
        self.hint = hint

    async def poll(self, source) -> PollResult:
        self.polled.append(source.name)
        return PollResult(source.name, "not_modified", min_interval_s=self.hint)


async def test_a_feed_asking_for_less_traffic_is_polled_less_often() -> None:
    poller = HintingPoller(hint=900)
    scheduler = CrawlScheduler(poller, collector()[1], jitter_s=0, first_run_spread_s=0)
    scheduler.start([outlet("calm", "http://calm/feed", interval=60)])
    try:
        await wait_for(lambda: poller.polled == ["calm"])
        await wait_for(
            lambda: scheduler.next_run_time("calm") - datetime.now(UTC) > timedelta(seconds=800)
        )
    finally:
        await scheduler.shutdown()
    assert next_poll_delay(PollResult("x", "ok", min_interval_s=900), 60) == 900
    assert next_poll_delay(PollResult("x", "ok", min_interval_s=30), 60) is None
    assert next_poll_delay(PollResult("x", "ok"), 60) is None


async def test_shutdown_writes_the_fetch_state(outlet_server: OutletServer, tmp_path) -> None:
    feed = outlet_server.add_feed("/feed", [{"title": "x", "published": datetime.now(UTC)}])
    settings = crawler_settings(per_host_delay=0)
    store = Store(tmp_path / "w.db")
    polled = asyncio.Event()

    async def on_result(result: PollResult) -> None:
        polled.set()

    async with Fetcher(settings) as fetcher:
        scheduler = CrawlScheduler(
            Poller(fetcher, store.crawl, settings, state_flush_s=3600),
            on_result,
            first_run_spread_s=0,
        )
        scheduler.start([outlet("dawn", feed, fetch_articles=False)])
        await asyncio.wait_for(polled.wait(), 5)
        await scheduler.shutdown()
    assert store.crawl.get_fetch_state("dawn").polls == 1


async def test_fetch_state_is_written_while_running(
    outlet_server: OutletServer, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(defaults, "FETCH_STATE_FLUSH_S", 0.1)
    feed = outlet_server.add_feed("/feed", [{"title": "x", "published": datetime.now(UTC)}])
    settings = crawler_settings(per_host_delay=0)
    store = Store(tmp_path / "w.db")
    async with Fetcher(settings) as fetcher:
        poller = Poller(fetcher, store.crawl, settings, state_flush_s=3600)  # never by itself
        scheduler = CrawlScheduler(poller, collector()[1], first_run_spread_s=0)
        scheduler.start([outlet("dawn", feed, fetch_articles=False)])
        try:
            await wait_for(lambda: store.crawl.get_fetch_state("dawn") is not None)
        finally:
            await scheduler.shutdown()
    assert store.crawl.get_fetch_state("dawn").polls == 1
