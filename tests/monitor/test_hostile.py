"""Outlets that misbehave, served for real on 127.0.0.1: one outlet's error, never a crash."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from tests.fixtures.outlets import OutletServer, crawler_settings, outlet
from wirewatch import defaults
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)
MB = defaults.MB


@pytest_asyncio.fixture
async def poller() -> AsyncIterator[Poller]:
    settings = crawler_settings(per_host_delay=0, total_timeout=5, read_timeout=1)
    async with Fetcher(settings) as fetcher:
        yield Poller(fetcher, Store(":memory:").crawl, settings)


def xml_feed(title: str, *, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f"{declaration}\n<rss version='2.0'><channel><title>T</title><item><title>{title}</title>"
        "<link>https://news.example.org/a</link><description>Body text.</description>"
        f"<pubDate>{NOW:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item></channel></rss>"
    )


async def test_one_slow_outlet_does_not_delay_the_others(outlet_server: OutletServer) -> None:
    outlet_server.add_feed("/slow", [{"title": "Slow", "url": "/s", "published": NOW}], delay=1)
    for i in range(3):
        outlet_server.add_feed(f"/fast{i}", [{"title": f"Fast {i}", "published": NOW}])
    arrived: list[str] = []
    everyone = asyncio.Event()

    async def on_result(result: PollResult) -> None:
        arrived.append(result.outlet)
        if len(arrived) == 4:
            everyone.set()

    settings = crawler_settings(per_host_delay=0, per_host_concurrency=4)
    async with Fetcher(settings) as fetcher:
        scheduler = CrawlScheduler(
            Poller(fetcher, Store(":memory:").crawl, settings),
            on_result,
            jitter_s=0,
            first_run_spread_s=0,
        )
        sources = [outlet("slow", outlet_server.url("/slow"), fetch_articles=False)]
        sources += [
            outlet(f"fast{i}", outlet_server.url(f"/fast{i}"), fetch_articles=False)
            for i in range(3)
        ]
        scheduler.start(sources)
        try:
            await asyncio.wait_for(everyone.wait(), 10)
        finally:
            await scheduler.shutdown()
    assert sorted(arrived[:3]) == ["fast0", "fast1", "fast2"] and arrived[3] == "slow"


async def test_a_feed_that_stops_sending_is_a_read_timeout(
    outlet_server: OutletServer, poller: Poller
) -> None:
    result = await poller.poll(outlet("stuck", outlet_server.add_stall("/feed")))
    assert result.status == "error" and result.error.endswith("read timed out: no data for 1 s")


async def test_a_50_mb_feed_is_cut_off_at_the_feed_limit(
    outlet_server: OutletServer, poller: Poller
) -> None:
    feed = outlet_server.add_huge("/feed", 50 * MB)
    result = await poller.poll(outlet("huge", feed))
    assert result.status == "error" and "body exceeds 5.0 MB limit" in result.error
    await asyncio.sleep(0.1)
    assert outlet_server.bytes_sent["/feed"] < 20 * MB


async def test_a_gzip_bomb_feed_stops_at_the_limit(
    outlet_server: OutletServer, poller: Poller
) -> None:
    result = await poller.poll(outlet("bomb", outlet_server.add_gzip_bomb("/feed", 64 * MB)))
    assert result.status == "error" and "body exceeds 5.0 MB limit" in result.error


async def test_a_redirect_loop_is_an_error(outlet_server: OutletServer, poller: Poller) -> None:
    outlet_server.add_redirect("/feed", "/feed2")
    outlet_server.add_redirect("/feed2", "/feed")
    result = await poller.poll(outlet("loop", outlet_server.url("/feed")))
    assert result.status == "error" and "redirect loop" in result.error


async def test_500_then_recovery(outlet_server: OutletServer, poller: Poller) -> None:
    feed = outlet_server.add_page("/feed", xml_feed("Back"), content_type="application/rss+xml")
    outlet_server.fail("/feed", 500, times=2)
    source = outlet("flaky", feed, fetch_articles=False)
    results = [await poller.poll(source) for _ in range(3)]
    assert [r.status for r in results] == ["error", "error", "ok"]
    assert [r.consecutive_failures for r in results] == [1, 2, 0]
    assert [a.title for a in results[2].articles] == ["Back"]


async def test_429_with_retry_after_is_reported_for_the_scheduler(
    outlet_server: OutletServer, poller: Poller
) -> None:
    feed = outlet_server.add_page("/feed", xml_feed("x"), content_type="application/rss+xml")
    outlet_server.fail("/feed", 429, retry_after=600)
    result = await poller.poll(outlet("busy", feed))
    assert result.status == "error" and result.retry_after_s == 600 and result.http_status == 429


async def test_billion_laughs_is_not_expanded(outlet_server: OutletServer, poller: Poller) -> None:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
    body = xml_feed(
        "&lol9;", declaration=f"<?xml version='1.0'?><!DOCTYPE rss [{''.join(entities)}]>"
    )
    feed = outlet_server.add_page("/feed", body, content_type="application/rss+xml")
    result = await poller.poll(outlet("laughs", feed, fetch_articles=False))
    assert result.status == "ok"
    [article] = result.articles
    assert len(article.title) < 100 and "lollollol" not in article.title


async def test_billion_laughs_behind_a_comment_is_not_expanded(
    outlet_server: OutletServer, poller: Poller
) -> None:
    """Markup in a comment before the DOCTYPE (`<!-- <a -->`) hid it from the stripping;
    &lol5; (300,000 characters) is under expat's own amplification limit."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 6)
    ]
    doctype = f"<?xml version='1.0'?><!-- <a --><!DOCTYPE rss [{''.join(entities)}]>"
    body = xml_feed("&lol5;", declaration=doctype)
    feed = outlet_server.add_page("/feed", body, content_type="application/rss+xml")
    result = await poller.poll(outlet("laughs", feed, fetch_articles=False))
    assert result.status == "ok"
    [article] = result.articles
    assert len(article.title) < 100 and "lollollol" not in article.title


async def test_a_5_mb_feed_only_feedparser_reads_is_cut_and_the_health_says_so(
    outlet_server: OutletServer, poller: Poller
) -> None:
    item = (
        "<item><title>Item {i}</title><link>https://news.example.org/{i}</link>"
        "<description>Body text of item {i}.</description>"
        f"<pubDate>{NOW:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
    )
    items = "".join(item.format(i=i) for i in range(25_000))
    body = (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n<rss version="2.0"><channel>'
        f"<title>T</title>{items}</channel></rss>"
    ).encode("latin-1")
    assert 4 * MB < len(body) < 5 * MB
    feed = outlet_server.add_page("/feed", body, content_type="application/rss+xml")
    result = await poller.poll(outlet("big", feed, fetch_articles=False))
    assert result.status == "ok"
    assert 0 < result.new_entries <= defaults.FEEDPARSER_MAX_ITEMS
    assert any("of its 25,000 items for feedparser" in note for note in result.limits)
    assert result.health is not None and "feedparser" in (result.health.last_limit or "")


async def test_external_entities_are_never_fetched_nor_read(
    outlet_server: OutletServer, poller: Poller
) -> None:
    outlet_server.add_page("/secret", "TOP-SECRET")
    doctype = (
        "<?xml version='1.0'?><!DOCTYPE rss ["
        f"<!ENTITY net SYSTEM '{outlet_server.url('/secret')}'>"
        "<!ENTITY file SYSTEM 'file:///etc/passwd'>]>"
    )
    feed = outlet_server.add_page(
        "/feed",
        xml_feed("A &net; B &file; C", declaration=doctype),
        content_type="application/rss+xml",
    )
    result = await poller.poll(outlet("xxe", feed, fetch_articles=False))
    assert result.status == "ok"
    text = " ".join(f"{a.title} {a.text}" for a in result.articles)
    assert "TOP-SECRET" not in text and "root:" not in text
    assert outlet_server.hits("/secret") == 0


@pytest.mark.parametrize(
    ("declaration", "content_type", "charset"),
    [
        ('<?xml version="1.0" encoding="windows-1251"?>', "application/rss+xml", "cp1251"),
        ('<?xml version="1.0"?>', "application/rss+xml; charset=iso-8859-1", "latin-1"),
        ('<?xml version="1.0" encoding="utf-8"?>', "text/xml; charset=koi8-r", "koi8-r"),
    ],
)
async def test_feeds_in_other_encodings_are_read(
    outlet_server: OutletServer,
    poller: Poller,
    declaration: str,
    content_type: str,
    charset: str,
) -> None:
    title = "Взрыв в Кветте" if charset != "latin-1" else "Ataque à esquadra de Kech"
    body = xml_feed(title, declaration=declaration).encode(charset)
    feed = outlet_server.add_page("/feed", body, content_type=content_type)
    result = await poller.poll(outlet("intl", feed, fetch_articles=False))
    assert [a.title for a in result.articles] == [title]


async def test_undecodable_bytes_do_not_stop_the_feed(
    outlet_server: OutletServer, poller: Poller
) -> None:
    body = xml_feed("Caf\udce9 news").encode("utf-8", "surrogateescape")  # a lone 0xE9
    feed = outlet_server.add_page("/feed", body, content_type="application/rss+xml")
    result = await poller.poll(outlet("broken", feed, fetch_articles=False))
    assert result.status == "ok" and result.articles[0].title.startswith("Caf")


async def test_links_to_loopback_and_link_local_addresses_are_not_followed(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_article(
        "/news/1", "Local", ["A paragraph long enough to be an article. " * 4]
    )
    items = [
        {"title": "Loopback", "url": "/news/1", "summary": "Loopback summary.", "published": NOW},
        {
            "title": "Metadata",
            "url": "http://169.254.169.254/latest/meta-data/",
            "summary": "Metadata summary.",
            "published": NOW,
        },
    ]
    feed = outlet_server.add_feed("/feed", items)
    settings = crawler_settings(per_host_delay=0)  # allow_private_addresses: false
    async with Fetcher(settings) as fetcher:
        result = await Poller(fetcher, Store(":memory:").crawl, settings).poll(outlet("dawn", feed))
    assert result.status == "ok" and result.pages_skipped == 2 and result.page_failures == 0
    assert {a.title: a.text for a in result.articles} == {
        "Loopback": "Loopback summary.",
        "Metadata": "Metadata summary.",
    }
    assert outlet_server.hits("/news/1") == 0 and outlet_server.hits("/robots.txt") == 0


async def test_a_huge_article_page_falls_back_to_the_feed_text(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_huge("/news/huge", 50 * MB)
    items = [{"title": "Huge", "url": "/news/huge", "summary": "Feed text.", "published": NOW}]
    feed = outlet_server.add_feed("/feed", items)
    settings = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    async with Fetcher(settings) as fetcher:
        result = await Poller(fetcher, Store(":memory:").crawl, settings).poll(outlet("dawn", feed))
    assert result.status == "ok" and result.page_failures == 1
    assert [(a.text, a.text_source) for a in result.articles] == [("Feed text.", "feed")]
    await asyncio.sleep(0.1)
    assert outlet_server.bytes_sent["/news/huge"] < 35 * MB  # cut off after the 10 MB limit


async def test_a_page_of_45_000_share_boxes_is_cut_and_the_health_says_so(
    outlet_server: OutletServer,
) -> None:
    """Pruning compared each box with every other (about 90 s for this page, holding a
    thread of the default executor that matching and /metrics share)."""
    story = "".join(
        f"<p>Paragraph {i} of the story, long enough to be read as one.</p>" for i in range(6)
    )
    boxes = "".join(f'<div class="share">s{i}</div>' for i in range(45_000))
    page = f"<html><body><article><h1>Kech</h1>{story}{boxes}</article></body></html>"
    outlet_server.add_page("/news/1", page)
    items = [{"title": "Kech", "url": "/news/1", "summary": "Feed text.", "published": NOW}]
    feed = outlet_server.add_feed("/feed", items)
    settings = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    async with Fetcher(settings) as fetcher:
        poller = Poller(fetcher, Store(":memory:").crawl, settings)
        started = asyncio.get_running_loop().time()
        result = await poller.poll(outlet("dawn", feed))
        elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 30  # generous: seconds, where it took minutes
    [article] = result.articles
    assert article.text_source == "page" and article.text.startswith("Paragraph 0 of the story")
    cut = f"page cut at {defaults.EXTRACT_MAX_ELEMENTS:,} elements: 1"
    assert cut in result.limits
    assert result.health is not None and cut in (result.health.last_limit or "")
