"""One poll of one outlet, against a real local server and the real store."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.outlets import BOILERPLATE_MARKERS, OutletServer, crawler_settings, outlet
from wirewatch.monitor import poller as poller_module
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, cache_max_age
from wirewatch.store import Store

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
BODY = [
    "Gunmen attacked three security checkpoints in Kech district on Tuesday night, officials "
    "said, in what appeared to be a coordinated assault on the security forces.",
    "The provincial government ordered an inquiry into the security lapse and announced "
    "compensation for the families of those killed.",
]


def make_poller(fetcher: Fetcher, store: Store, **settings) -> Poller:
    config = crawler_settings(per_host_delay=0, allow_private_addresses=True, **settings)
    return Poller(fetcher, store.crawl, config, clock=lambda: NOW)


def publish(server: OutletServer, count: int, *, kind: str = "rss", age: timedelta = timedelta(0)):
    items = []
    for i in range(count):
        server.add_article(f"/news/{i}", f"Story {i}", [f"Story {i}.", *BODY])
        items.append(
            {
                "title": f"Story {i}",
                "url": f"/news/{i}?utm_source=rss",
                "summary": f"Summary of story {i}.",
                "published": NOW - age - timedelta(minutes=i),
            }
        )
    return server.add_feed("/feed", items, kind=kind)


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
async def test_new_entries_become_articles_with_page_text(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store, kind: str
) -> None:
    feed = publish(outlet_server, 2, kind=kind)
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    assert result.status == "ok" and result.error is None
    assert [a.title for a in result.articles] == ["Story 1", "Story 0"]  # oldest first
    article = result.articles[1]
    assert article.url == outlet_server.url("/news/0")
    assert article.text_source == "page" and BODY[0] in article.text
    assert not any(marker in article.text for marker in BOILERPLATE_MARKERS)
    assert article.published == NOW and article.outlet == "dawn" and article.language == "en"
    assert article.entry_key == outlet_server.url("/news/0?utm_source=rss")  # the feed's guid


async def test_each_entry_is_returned_until_the_pipeline_marks_it_seen(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = publish(outlet_server, 2)
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)
    first = await poller.poll(source)
    assert store.crawl.unseen_keys("dawn", [a.entry_key for a in first.articles]) == {
        a.entry_key for a in first.articles
    }  # the poller leaves marking to the pipeline
    again = await poller.poll(source)
    assert [a.id for a in again.articles] == [a.id for a in first.articles]
    store.crawl.mark_seen(
        "dawn", [a.entry_key for a in first.articles]
    )  # what pipeline.process does

    third = await poller.poll(source)  # stored: the held-back ETag is sent now
    assert third.status == "not_modified" and third.articles == []
    assert "If-None-Match" in outlet_server.requests[-1].headers
    feed_requests = outlet_server.hits("/feed")

    publish(outlet_server, 3)  # one more story on the outlet
    fourth = await poller.poll(source)
    assert [a.title for a in fourth.articles] == ["Story 2"]
    assert outlet_server.hits("/feed") == feed_requests + 1


async def test_first_poll_skips_the_backlog(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    items = [
        {"title": "Fresh", "url": "/news/fresh", "published": NOW - timedelta(hours=1)},
        {"title": "Old", "url": "/news/old", "published": NOW - timedelta(days=3)},
    ]
    outlet_server.add_article("/news/fresh", "Fresh", BODY)
    outlet_server.add_article("/news/old", "Old", BODY)
    feed = outlet_server.add_feed("/feed", items)
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed, backfill=86400))
    assert [a.title for a in result.articles] == ["Fresh"]
    assert result.skipped_backfill == 1 and result.new_entries == 2
    assert outlet_server.hits("/news/old") == 0  # the old page is not even fetched
    assert store.crawl.unseen_keys("dawn", [outlet_server.url("/news/old")]) == set()


async def test_page_failure_falls_back_to_the_feed_summary(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    items = [
        {
            "title": "Broken",
            "url": "/news/gone",
            "summary": "The feed's own summary.",
            "published": NOW,
        }
    ]
    feed = outlet_server.add_feed("/feed", items)
    [article] = (await make_poller(fetcher, store).poll(outlet("dawn", feed))).articles
    assert article.text_source == "feed" and article.text == "The feed's own summary."


async def test_links_to_private_addresses_are_not_fetched_unless_allowed(
    outlet_server: OutletServer, store: Store
) -> None:
    feed = publish(outlet_server, 1)
    strict = crawler_settings(per_host_delay=0, allow_private_addresses=False)
    async with Fetcher(strict) as fetcher:
        poller = Poller(fetcher, store.crawl, strict, clock=lambda: NOW)
        result = await poller.poll(outlet("dawn", feed))
    assert result.status == "ok"  # the configured feed URL itself is on 127.0.0.1: allowed
    [article] = result.articles
    assert article.text_source == "feed"
    assert outlet_server.hits("/news/0") == 0


async def test_robots_disallow_keeps_the_crawler_off_the_page(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    outlet_server.set_robots("User-agent: *\nDisallow: /news/\n")
    feed = publish(outlet_server, 2)
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    assert {a.text_source for a in result.articles} == {"feed"}
    assert outlet_server.hits("/news/0") == outlet_server.hits("/news/1") == 0
    ignoring = make_poller(fetcher, store, respect_robots=False)
    assert {a.text_source for a in (await ignoring.poll(outlet("dawn", feed))).articles} == {"page"}


async def test_fetch_articles_false_uses_the_feed_only(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = publish(outlet_server, 1)
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed, fetch_articles=False))
    assert result.articles[0].text == "Summary of story 0."
    assert outlet_server.hits("/news/0") == 0


async def test_failures_are_counted_and_retry_after_reported(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = publish(outlet_server, 1)
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)
    outlet_server.fail("/feed", 500)
    first = await poller.poll(source)
    outlet_server.fail("/feed", 429, retry_after=300)
    second = await poller.poll(source)
    assert first.status == "error" and first.error == f"feed {feed}: HTTP 500"
    assert first.consecutive_failures == 1 and first.retry_after_s is None
    assert second.consecutive_failures == 2 and second.retry_after_s == 300
    assert "retry after 300 s" in second.error
    poller.flush()  # fetch state is written in batches
    state = store.crawl.get_fetch_state("dawn")
    assert state.consecutive_failures == 2 and "429" in state.last_error

    assert (await poller.poll(source)).status == "ok"
    poller.flush()
    assert store.crawl.get_fetch_state("dawn").consecutive_failures == 0


async def test_broken_feed_is_a_readable_error(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = outlet_server.add_page(
        "/feed", "<rss version='2.0'>\n<channel><item>", content_type="application/rss+xml"
    )
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    assert result.status == "error" and result.error.startswith(f"feed {feed}: not a feed:")


async def test_unreachable_outlet_is_an_error_result(fetcher: Fetcher, store: Store) -> None:
    result = await make_poller(fetcher, store).poll(outlet("gone", "http://127.0.0.1:9/feed"))
    assert result.status == "error" and "cannot connect" in result.error


# ---- conditional requests, restarts, no needless parsing -------------------------------


class CountingReads:
    """Counts feed parses (patched over the poller's `read_feed`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = poller_module.read_feed

        def counting(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(poller_module, "read_feed", counting)


async def test_validators_survive_a_restart_and_a_304_is_not_parsed(
    outlet_server: OutletServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = publish(outlet_server, 2)
    source = outlet("dawn", feed)
    store = Store(tmp_path / "w.db")
    async with Fetcher(crawler_settings(per_host_delay=0)) as fetcher:
        first = make_poller(fetcher, store)
        result = await first.poll(source)
        store.crawl.mark_seen("dawn", [a.entry_key for a in result.articles])
        assert (await first.poll(source)).status == "not_modified"
        first.flush()  # what the scheduler does when the service stops
    store.close()

    reads = CountingReads(monkeypatch)
    store = Store(tmp_path / "w.db")  # the service starts again
    async with Fetcher(crawler_settings(per_host_delay=0)) as fetcher:
        again = await make_poller(fetcher, store).poll(source)
    assert again.status == "not_modified" and again.http_status == 304
    assert outlet_server.requests[-1].headers["If-None-Match"] == (
        outlet_server._resources["/feed"].etag
    )
    assert "If-Modified-Since" in outlet_server.requests[-1].headers
    assert reads.calls == 0


async def test_a_body_read_in_full_before_is_not_parsed_again(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outlet that ignores conditional requests and sends the same feed every time."""
    feed = publish(outlet_server, 2)
    outlet_server._resources["/feed"].status = 299  # 2xx without validators: never a 304
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)
    first = await poller.poll(source)
    store.crawl.mark_seen("dawn", [a.entry_key for a in first.articles])
    reads = CountingReads(monkeypatch)
    again = await poller.poll(source)
    assert again.status == "ok" and again.articles == [] and reads.calls == 0
    assert outlet_server.hits("/feed") == 2


async def test_articles_not_stored_come_back_instead_of_hiding_behind_a_304(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = publish(outlet_server, 1)
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)
    first = await poller.poll(source)  # the pipeline then fails: nothing is marked seen
    second = await poller.poll(source)
    assert [a.id for a in second.articles] == [a.id for a in first.articles]
    assert "If-None-Match" not in outlet_server.requests[-1].headers


async def test_feed_and_cache_headers_asking_for_less_traffic_are_reported(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    feed = publish(outlet_server, 1)  # the fixture's RSS says <ttl>15</ttl>
    poller = make_poller(fetcher, store)
    quick = await poller.poll(outlet("dawn", feed, interval=60))
    slow = await poller.poll(outlet("geo", feed, interval=3600))
    assert quick.min_interval_s == 15 * 60 and slow.min_interval_s is None

    cached = outlet_server.add_feed(
        "/cached",
        [{"title": "x", "url": "/n"}],
        kind="atom",
        headers={"Cache-Control": "public, max-age=1200"},
    )
    asked = await poller.poll(outlet("bbc", cached, interval=60))
    assert asked.min_interval_s == 1200
    capped = outlet_server.add_feed(
        "/capped",
        [{"title": "x", "url": "/n"}],
        kind="atom",
        headers={"Cache-Control": "max-age=864000"},
    )
    assert (await poller.poll(outlet("cnn", capped, interval=60))).min_interval_s == 3600
    nocache = outlet_server.add_feed(
        "/nocache",
        [{"title": "x", "url": "/n"}],
        kind="atom",
        headers={"Cache-Control": "no-cache, max-age=1200"},
    )
    assert (await poller.poll(outlet("aje", nocache, interval=60))).min_interval_s is None


def test_cache_control_forms() -> None:
    assert cache_max_age("max-age=600") == 600
    assert cache_max_age('public, max-age="90", must-revalidate') == 90
    assert cache_max_age("s-maxage=600") is None
    assert cache_max_age("no-store") is None
    assert cache_max_age(None) is None


# ---- new outlets, health ---------------------------------------------------------------


async def test_entries_without_a_date_on_a_new_outlet_are_backlog(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    items = [{"title": f"Undated {i}", "url": f"/news/u{i}"} for i in range(3)]
    feed = outlet_server.add_feed("/feed", items)
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)
    first = await poller.poll(source)
    assert first.articles == [] and first.skipped_backfill == 3
    assert outlet_server.hits("/news/u0") == 0

    outlet_server.add_article("/news/u9", "Undated 9", BODY)
    outlet_server.add_feed("/feed", [{"title": "Undated 9", "url": "/news/u9"}, *items])
    later = await poller.poll(source)  # after the first poll an undated entry is news
    assert [a.title for a in later.articles] == ["Undated 9"]
    assert later.articles[0].text_source == "page"  # dated by its page


async def test_health_figures_after_polls(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    clock = [NOW]
    poller = Poller(
        fetcher,
        store.crawl,
        crawler_settings(per_host_delay=0, allow_private_addresses=True),
        clock=lambda: clock[0],
    )
    items = [{"title": "Old", "url": "/news/gone", "summary": "s", "published": NOW}]
    feed = outlet_server.add_feed("/feed", items)
    source = outlet("dawn", feed)
    first = await poller.poll(source)  # the page is missing: the feed text is used
    assert first.page_failures == 1 and first.articles[0].text_source == "feed"
    store.crawl.mark_seen("dawn", [a.entry_key for a in first.articles])
    for _ in range(3):
        clock[0] += timedelta(hours=4)
        assert (await poller.poll(source)).status == "not_modified"
    outlet_server.fail("/feed", 503)
    clock[0] += timedelta(hours=6)
    failed = await poller.poll(source)
    new_items = [
        {"title": f"New {i}", "url": f"/news/gone{i}", "summary": "s", "published": clock[0]}
        for i in range(4)
    ]
    outlet_server.add_feed("/feed", new_items + items)
    clock[0] += timedelta(hours=6)  # a day after the first poll
    last = await poller.poll(source)

    assert failed.health.consecutive_failures == 1
    assert failed.health.last_error == f"feed {feed}: HTTP 503"
    health = last.health
    assert health.consecutive_failures == 0 and health.last_success == clock[0]
    assert health.not_modified_ratio == 3 / 5  # 3 of the 5 polls answered
    assert health.entries_per_day == 4.0  # the first poll's backlog is not a rate
    assert health.page_failures == 5
    poller.flush()
    stored = store.crawl.get_fetch_state("dawn")
    assert stored.polls == 6 and stored.failed_polls == 1 and stored.page_failures == 5
    assert stored.entries_per_day(clock[0]) == 4.0 and stored.last_status == 200


async def test_a_304_still_writes_the_outlets_health_row(
    outlet_server: OutletServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After 304s only the poll counts are written; the row they land in stays whole."""
    clock = [NOW]
    store = Store(tmp_path / "w.db")
    config = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    feed = publish(outlet_server, 2)
    source = outlet("dawn", feed)
    async with Fetcher(config) as fetcher:
        poller = Poller(fetcher, store.crawl, config, clock=lambda: clock[0])
        first = await poller.poll(source)
        store.crawl.mark_seen("dawn", [a.entry_key for a in first.articles])
        outlet_server.fail("/feed", 500)
        assert (await poller.poll(source)).status == "error"
        assert (await poller.poll(source)).status == "not_modified"  # after a failure
        poller.flush()
        whole_rows = []
        monkeypatch.setattr(store.crawl, "save_fetch_states", whole_rows.append)
        for _ in range(2):
            clock[0] += timedelta(hours=1)
            assert (await poller.poll(source)).status == "not_modified"
        poller.flush()
    assert whole_rows == []  # the 304s: the smaller write only
    stored = store.crawl.get_fetch_state("dawn")
    assert stored.last_success == clock[0] and stored.consecutive_failures == 0
    assert stored.polls == 5 and stored.not_modified == 3 and stored.not_modified_ratio == 3 / 4
    assert stored.last_status == 304 and stored.first_polled == NOW
    assert stored.etag == outlet_server._resources["/feed"].etag  # untouched by the 304s
    assert stored.last_error == f"feed {feed}: HTTP 500"
    store.close()


async def test_a_304_of_an_outlet_never_saved_writes_its_whole_row(store: Store) -> None:
    """The smaller write falls back to the whole row where the store has none yet."""
    from wirewatch.monitor.fetch_state import FetchState

    fresh = FetchState("new", etag='"x"', polls=1, not_modified=1, first_polled=NOW)
    known = FetchState("known", polls=1)
    store.crawl.save_fetch_states([known])
    known.polls, known.last_success, known.last_status = 2, NOW, 304
    store.crawl.save_poll_counts([known, fresh])
    assert store.crawl.get_fetch_state("new") == fresh
    assert store.crawl.get_fetch_state("known") == known


async def test_poll_counts_wait_for_the_timed_flush_but_whole_rows_do_not_pile_up(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outlets answering 304 cost one write each per flush period, not one per poll."""
    monkeypatch.setattr(poller_module.defaults, "FETCH_STATE_FLUSH_MAX", 2)
    monkeypatch.setattr(poller_module.defaults, "POLL_COUNTS_FLUSH_MAX", 10)
    sources = [outlet(f"outlet-{i}", publish(outlet_server, 1)) for i in range(3)]
    config = make_poller(fetcher, store).config
    poller = Poller(fetcher, store.crawl, config, clock=lambda: NOW, state_flush_s=3600)
    writes: list[tuple[str, int]] = []
    for name in ("save_fetch_states", "save_poll_counts"):
        real = getattr(store.crawl, name)

        def record(states, name=name, real=real) -> None:
            writes.append((name, len(states)))
            real(states)

        monkeypatch.setattr(store.crawl, name, record)
    for source in sources:  # first polls change whole rows: written once two are waiting
        result = await poller.poll(source)
        store.crawl.mark_seen(source.name, [a.entry_key for a in result.articles])
    assert writes == [("save_fetch_states", 2)]
    while (await poller.poll(sources[0])).status != "not_modified":  # validators settle
        pass
    for source in sources[1:]:
        await poller.poll(source)
        await poller.poll(source)
    poller.flush()
    before = {s.name: store.crawl.get_fetch_state(s.name).not_modified for s in sources}
    writes.clear()
    for _ in range(4):  # 12 polls answered 304 by 3 outlets: all wait for the timed flush
        for source in sources:
            assert (await poller.poll(source)).status == "not_modified"
    assert writes == []
    poller.flush()
    assert writes == [("save_poll_counts", 3)]
    assert all(
        store.crawl.get_fetch_state(s.name).not_modified == before[s.name] + 4 for s in sources
    )

    monkeypatch.setattr(poller_module.defaults, "POLL_COUNTS_FLUSH_MAX", 3)
    writes.clear()
    for source in sources:  # ...unless that many outlets have counts waiting
        await poller.poll(source)
    assert writes == [("save_poll_counts", 3)]
