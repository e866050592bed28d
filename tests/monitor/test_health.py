"""Outlet health: kept in the store, shown by `wirewatch outlets`, exported as metrics."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.outlets import OutletServer, crawler_settings, outlet
from wirewatch.cli.main import main
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.fetch_state import FetchState
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.service.metrics import Metrics
from wirewatch.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)


def config_file(tmp_path, database, feeds: dict[str, str]):
    outlets = "".join(f"  - {{name: {name}, feed: '{url}'}}\n" for name, url in feeds.items())
    path = tmp_path / "wirewatch.yaml"
    path.write_text(
        f"storage:\n  url: sqlite:///{database}\noutlets:\n{outlets}"
        "watches:\n  - name: shutdowns\n    topic: internet shutdown\n"
    )
    return path


async def poll_twice(server: OutletServer, database, clock: list[datetime]) -> None:
    """dawn: one story, then a 304 a day later; down: connection refused."""
    items = [{"title": "Story", "url": "/news/gone", "summary": "Summary.", "published": NOW}]
    feed = server.add_feed("/feed", items)
    store = Store(database)
    settings = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    async with Fetcher(settings) as fetcher:
        poller = Poller(fetcher, store.crawl, settings, clock=lambda: clock[0])

        async def on_result(result: PollResult) -> None:
            store.crawl.mark_seen(result.outlet, [a.entry_key for a in result.articles])

        scheduler = CrawlScheduler(poller, on_result)
        sources = [outlet("dawn", feed), outlet("down", "http://127.0.0.1:9/feed")]
        await scheduler.run_once(sources)
        clock[0] += timedelta(days=1)
        await scheduler.run_once(sources)
    store.close()


async def test_outlets_command_shows_each_outlets_health(
    outlet_server: OutletServer, tmp_path, capsys: pytest.CaptureFixture
) -> None:
    database = tmp_path / "w.db"
    start = NOW - timedelta(days=2)
    await poll_twice(outlet_server, database, [start])
    path = config_file(
        tmp_path,
        database,
        {
            "dawn": outlet_server.url("/feed"),
            "down": "http://127.0.0.1:9/feed",
            "new": "http://x/f",
        },
    )
    assert main(["outlets", "-c", str(path)]) == 0
    header, dawn, down, new = capsys.readouterr().out.splitlines()
    assert header.split()[:7] == [
        "outlet",
        "polls",
        "304%",
        "fails",
        "entries/day",
        "page",
        "fails",
    ]
    assert dawn.split()[:6] == ["dawn", "2", "50", "0", "0.0", "1"]  # one page missing
    assert dawn.endswith(f"{start + timedelta(days=1):%Y-%m-%d %H:%M:%S}  ")
    assert down.split()[:6] == ["down", "2", "-", "2", "-", "0"]
    assert "never" in down and "cannot connect to 127.0.0.1:9" in down
    assert new.split() == ["new", "never", "polled"]


async def test_health_figures_are_metrics(outlet_server: OutletServer) -> None:
    items = [{"title": "Story", "url": "/news/gone", "summary": "Summary.", "published": NOW}]
    feed = outlet_server.add_feed("/feed", items)
    metrics = Metrics()
    clock = [NOW]
    store = Store(":memory:")
    settings = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    async with Fetcher(settings) as fetcher:
        poller = Poller(fetcher, store.crawl, settings, clock=lambda: clock[0])
        first = await poller.poll(outlet("dawn", feed))
        store.crawl.mark_seen("dawn", [a.entry_key for a in first.articles])
        metrics.observe_poll(first)
        clock[0] += timedelta(hours=12)
        metrics.observe_poll(await poller.poll(outlet("dawn", feed)))
        metrics.observe_poll(await poller.poll(outlet("down", "http://127.0.0.1:9/feed")))

    def sample(name: str, outlet_name: str = "dawn") -> float | None:
        return metrics.registry.get_sample_value(name, {"outlet": outlet_name})

    assert sample("wirewatch_outlet_not_modified_ratio") == 0.5
    assert sample("wirewatch_outlet_consecutive_failures") == 0
    assert sample("wirewatch_outlet_consecutive_failures", "down") == 1
    assert sample("wirewatch_outlet_last_success_timestamp_seconds") == clock[0].timestamp()
    assert sample("wirewatch_outlet_last_success_timestamp_seconds", "down") is None
    assert sample("wirewatch_outlet_entries_per_day") == 0.0
    assert sample("wirewatch_feed_entries_new_total") == 1
    assert sample("wirewatch_page_failures_total") == 1


def test_poll_counts_use_remembered_children_and_create_none_needlessly() -> None:
    metrics = Metrics()
    for status in ("not_modified", "not_modified", "ok", "error"):
        metrics.count_poll(PollResult(outlet="dawn", status=status))

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"outlet": "dawn", **labels})

    assert sample("wirewatch_polls_total", status="not_modified") == 2
    assert sample("wirewatch_polls_total", status="ok") == 1
    assert sample("wirewatch_polls_total", status="error") == 1
    assert sample("wirewatch_feed_entries_new_total") is None  # no new entries: no series
    assert sample("wirewatch_outlet_consecutive_failures") is None  # no health figures
    assert metrics.child(metrics.polls, "dawn", "ok") is metrics.polls.labels("dawn", "ok")


def test_outlets_command_says_what_a_limit_left_waiting(tmp_path, capsys):
    """An outlet whose last poll had more new entries than one poll may take shows how many
    wait for the next polls, and what was cut, in place of an error."""
    database = tmp_path / "w.db"
    store = Store(database)
    state = FetchState(outlet="flood", polls=1, last_success=NOW)
    state.limited(["200 of 950 new entries taken, the rest wait"], 750, NOW)
    store.crawl.save_fetch_states([state])
    store.close()
    path = config_file(tmp_path, database, {"flood": "http://127.0.0.1:9/feed"})
    assert main(["outlets", "-c", str(path)]) == 0
    header, flood = capsys.readouterr().out.splitlines()
    assert "waiting" in header.split()
    assert flood.split()[6] == "750"
    assert flood.endswith("limited: 200 of 950 new entries taken, the rest wait")
