"""One poll of one outlet, against a real local server and the real store."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from tests.fixtures.outlets import BOILERPLATE_MARKERS, OutletServer, crawler_settings, outlet
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller
from wirewatch.store import Store

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
BODY = [
    "Gunmen attacked three security checkpoints in Kech district on Tuesday night, officials "
    "said, in what appeared to be a coordinated assault on the security forces.",
    "The provincial government ordered an inquiry into the security lapse and announced "
    "compensation for the families of those killed.",
]


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest_asyncio.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(crawler_settings(per_host_delay=0, allow_private_addresses=True)) as f:
        yield f


def make_poller(fetcher: Fetcher, store: Store, **settings) -> Poller:
    config = crawler_settings(per_host_delay=0, allow_private_addresses=True, **settings)
    return Poller(fetcher, store, config, clock=lambda: NOW)


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
    assert store.unseen_keys("dawn", [a.entry_key for a in first.articles]) == {
        a.entry_key for a in first.articles
    }  # the poller leaves marking to the pipeline
    again = await poller.poll(source)
    assert [a.id for a in again.articles] == [a.id for a in first.articles]
    store.mark_seen("dawn", [a.entry_key for a in first.articles])  # what pipeline.process does

    third = await poller.poll(source)
    assert third.status == "ok" and third.articles == []
    fourth = await poller.poll(source)
    assert fourth.status == "not_modified"
    assert "If-None-Match" in outlet_server.requests[-1].headers

    publish(outlet_server, 3)  # one more story on the outlet
    fifth = await poller.poll(source)
    assert [a.title for a in fifth.articles] == ["Story 2"]


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
    assert store.unseen_keys("dawn", [outlet_server.url("/news/old")]) == set()


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
        poller = Poller(fetcher, store, strict, clock=lambda: NOW)
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
    state = store.get_fetch_state("dawn")
    assert state.consecutive_failures == 2 and "429" in state.last_error

    assert (await poller.poll(source)).status == "ok"
    assert store.get_fetch_state("dawn").consecutive_failures == 0


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
