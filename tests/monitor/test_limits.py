"""What one poll may cost (issue 17): entries and pages per poll, the length and the
characters of what an outlet writes, and the outlet's health saying what was cut."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.outlets import OutletServer, crawler_settings, outlet
from wirewatch import defaults
from wirewatch.models import FeedEntry
from wirewatch.monitor import limits
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.fetch_state import FetchState
from wirewatch.monitor.limits import choose_entries, clean
from wirewatch.monitor.poller import Poller
from wirewatch.service.metrics import Metrics
from wirewatch.store import Store
from wirewatch.util import terminal_safe

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PARAGRAPH = (
    "Gunmen attacked three security checkpoints in Kech district on Tuesday night, officials "
    "said, in what appeared to be a coordinated assault on the security forces."
)
# what a hostile outlet writes to move a terminal's cursor or make a line read backwards
HOSTILE = ["\x1b[2J", "\x1b]0;owned\x07", "\u202e", "\u2066", "\x00", "\x9b", "\r", "\x08"]
WAITING = ("wirewatch_outlet_entries_waiting", {"outlet": "big"})
LIMITED = ("wirewatch_outlet_polls_limited_total", {"outlet": "big"})
REFERENCES = ["&#27;[2J", "&#x1b;]0;owned&#7;", "&#x202e;", "&#x2066;", "&#8;", "&#x7f;"]


def make_poller(fetcher: Fetcher, store: Store) -> Poller:
    config = crawler_settings(per_host_delay=0, allow_private_addresses=True)
    return Poller(fetcher, store.crawl, config, clock=lambda: NOW)


def items(count: int, *, url: str | None = None) -> list[dict]:
    """`count` items, newest first, a minute apart; every one links to `url` (+ its number)."""
    return [
        {
            "title": f"Story {i}",
            "summary": f"Summary of story {i}.",
            "published": NOW - timedelta(minutes=i),
            **({"url": f"{url}{i}"} if url else {"id": f"tag:e.org,2026:{i}"}),
        }
        for i in range(count)
    ]


# ---- entries per poll ------------------------------------------------------------------


async def test_a_huge_feed_is_read_over_several_polls_newest_first_and_nothing_is_lost(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    total = defaults.FEED_MAX_NEW_ENTRIES + 50
    feed = outlet_server.add_feed("/feed", list(reversed(items(total))))  # oldest first
    poller, source = make_poller(fetcher, store), outlet("big", feed, fetch_articles=False)

    first = await poller.poll(source)
    titles = {a.title for a in first.articles}
    assert len(titles) == defaults.FEED_MAX_NEW_ENTRIES and "Story 0" in titles
    assert f"Story {total - 1}" not in titles  # the oldest wait
    assert first.entries_waiting == 50 and first.new_entries == defaults.FEED_MAX_NEW_ENTRIES
    assert any("50 new entries wait for the next polls" in note for note in first.limits)
    assert first.health is not None and first.health.entries_waiting == 50
    metrics = Metrics()
    metrics.observe_poll(first)
    assert metrics.registry.get_sample_value(*WAITING) == 50
    assert metrics.registry.get_sample_value(*LIMITED) == 1
    store.crawl.mark_seen("big", [a.entry_key for a in first.articles])  # as the pipeline does

    second = await poller.poll(source)  # the same feed, unchanged: not a 304, read again
    assert second.http_status == 200 and second.entries_waiting == 0
    assert {a.title for a in second.articles} == {f"Story {i}" for i in range(200, total)}
    store.crawl.mark_seen("big", [a.entry_key for a in second.articles])

    metrics.observe_poll(second)  # what waited is read: the gauge says so on /metrics
    assert metrics.registry.get_sample_value(*WAITING) == 0
    assert metrics.registry.get_sample_value(*LIMITED) == 1

    third = await poller.poll(source)  # now settled: conditional, answered 304
    assert third.status == "not_modified" and third.articles == []
    state = store.crawl.get_fetch_state("big") or poller._states["big"]
    assert state.entries_seen == total and state.limited_polls == 1


async def test_pages_per_host_per_poll_are_capped_and_the_rest_wait(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    count = defaults.PAGES_PER_HOST_PER_POLL + 5
    for i in range(count):
        outlet_server.add_article(f"/news/{i}", f"Story {i}", [PARAGRAPH])
    feed = outlet_server.add_feed("/feed", items(count, url=outlet_server.url("/news/")))
    poller, source = make_poller(fetcher, store), outlet("dawn", feed)

    first = await poller.poll(source)
    fetched = sum(outlet_server.hits(f"/news/{i}") for i in range(count))
    assert fetched == len(first.articles) == defaults.PAGES_PER_HOST_PER_POLL
    assert first.entries_waiting == 5 and {a.text_source for a in first.articles} == {"page"}
    store.crawl.mark_seen("dawn", [a.entry_key for a in first.articles])
    second = await poller.poll(source)
    assert {a.title for a in second.articles} == {f"Story {i}" for i in range(count - 5, count)}


def entry(key: str, minutes_ago: int | None, host: str = "a.org") -> FeedEntry:
    published = None if minutes_ago is None else NOW - timedelta(minutes=minutes_ago)
    return FeedEntry(key, f"https://{host}/{key}", key, "", published)


def test_choose_entries_takes_the_newest_and_undated_first() -> None:
    entries = [entry("old", 50), entry("undated", None), entry("new", 1), entry("mid", 20)]
    choice = choose_entries(entries, pages=False, max_entries=2)
    assert [e.key for e in choice.taken] == ["undated", "new"]
    assert [e.key for e in choice.waiting] == ["mid", "old"]


def test_choose_entries_counts_pages_per_host_only_when_pages_are_fetched() -> None:
    entries = [entry(f"a{i}", i, "a.org") for i in range(4)] + [entry("b", 9, "B.org")]
    pages = choose_entries(entries, pages=True, max_entries=10, per_host=2)
    assert [e.key for e in pages.taken] == ["a0", "a1", "b"]
    assert choose_entries(entries, pages=False, max_entries=10, per_host=2).waiting == []


@given(
    st.lists(
        st.tuples(st.none() | st.integers(0, 500), st.sampled_from(["a.org", "b.org", "C.org"])),
        max_size=60,
    ),
    st.integers(1, 20),
    st.integers(1, 20),
    st.booleans(),
)
def test_choose_entries_loses_nothing_and_keeps_its_caps(
    specs: list[tuple[int | None, str]], max_entries: int, per_host: int, pages: bool
) -> None:
    entries = [entry(f"k{i}", age, host) for i, (age, host) in enumerate(specs)]
    choice = choose_entries(entries, pages=pages, max_entries=max_entries, per_host=per_host)
    assert sorted(e.key for e in choice.taken + choice.waiting) == sorted(e.key for e in entries)
    assert len(choice.taken) <= max_entries
    if pages:
        hosts = [e.url.split("/")[2].lower() for e in choice.taken if e.url]
        assert all(hosts.count(h) <= per_host for h in hosts)
    elif choice.taken and choice.waiting:  # the newest (undated: newest of all) are taken

        def age(e: FeedEntry) -> timedelta:
            return NOW - e.published if e.published else timedelta.min

        assert max(map(age, choice.taken)) <= min(map(age, choice.waiting))


# ---- what an outlet writes -----------------------------------------------------------------


async def test_a_4_mb_title_is_cut_and_the_health_says_so(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    title, summary = "Breaking " * 440_000, "x " * 100_000  # 4 MB, 200 KB
    huge = [{"id": "tag:e.org,2026:1", "title": title, "summary": summary, "published": NOW}]
    feed = outlet_server.add_feed("/feed", huge)
    result = await make_poller(fetcher, store).poll(outlet("big", feed, fetch_articles=False))
    [article] = result.articles
    assert len(article.title) <= defaults.TITLE_MAX_CHARS
    assert article.title.startswith("Breaking Breaking")
    assert len(article.text) <= defaults.TEXT_MAX_CHARS
    assert "titles cut to 500 characters: 1" in result.limits
    assert result.health is not None and "titles cut" in (result.health.last_limit or "")


async def test_a_link_longer_than_the_limit_is_no_link(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store
) -> None:
    long_path = "/news/" + "a" * defaults.URL_MAX_CHARS
    outlet_server.add_article(long_path, "Long", [PARAGRAPH])
    item = {"title": "Long", "url": long_path, "summary": "Feed text.", "published": NOW}
    feed = outlet_server.add_feed("/feed", [item])
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    [article] = result.articles
    assert article.url is None and article.text == "Feed text." and article.text_source == "feed"
    assert outlet_server.hits(long_path) == 0


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
async def test_control_and_bidi_characters_never_reach_an_article(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store, kind: str
) -> None:
    # as character references: feed text and pages are HTML, and they come through
    dirty = "".join(f"{ref}Quetta " for ref in REFERENCES)
    outlet_server.add_article("/news/1", f"Page {dirty}", [f"{dirty} {PARAGRAPH}", PARAGRAPH])
    feed_items = [
        {"title": f"Feed {dirty}", "summary": f"Summary {dirty}", "published": NOW},
        {"title": f"Page {dirty}", "url": "/news/1", "summary": "Short.", "published": NOW},
    ]
    feed = outlet_server.add_feed("/feed", feed_items, kind=kind)
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    assert {a.text_source for a in result.articles} == {"feed", "page"}
    for article in result.articles:
        for text in (article.title, article.text):
            assert "Quetta" in text and text == terminal_safe(text)
            assert not any(c in text for c in ("\x1b", "\x07", "\x08", "\x7f", "\u202e", "\u2066"))


@given(st.text(), st.integers(0, 50))
def test_clean_is_terminal_safe_and_cuts(text: str, limit: int) -> None:
    cleaned, cut = clean(text, limit)
    assert cut == (len(text) > limit) and len(cleaned) <= limit
    assert cleaned == terminal_safe(cleaned)
    if not cut:
        assert cleaned == terminal_safe(text)


@given(st.lists(st.text(st.characters(codec="utf-8")) | st.sampled_from([*HOSTILE, "\ud800"])))
def test_the_quick_check_finds_whatever_terminal_safe_removes(parts: list[str]) -> None:
    text = "".join(parts)
    assert clean(text, len(text))[0] == terminal_safe(text)


@given(st.characters())
def test_every_character_terminal_safe_removes_is_found(char: str) -> None:
    assert clean(char, 1)[0] == terminal_safe(char)


# ---- health and the pools --------------------------------------------------------------


def test_what_limits_cut_is_kept_in_the_store(store: Store) -> None:
    state = FetchState(outlet="big")
    assert state.limited(["feed cut"], 7, NOW) and not state.limited([], 0, NOW)
    store.crawl.save_fetch_state(state)
    saved = store.crawl.get_fetch_state("big")
    assert saved is not None
    assert (saved.limited_polls, saved.last_limit, saved.last_limit_at) == (1, "feed cut", NOW)
    assert saved.entries_waiting == 0


async def test_pages_and_feeds_are_read_in_the_monitors_own_pools(
    outlet_server: OutletServer, fetcher: Fetcher, store: Store, monkeypatch
) -> None:
    threads: list[str] = []
    read_page = limits.read_page

    def spy(body: bytes, url: str | None):
        threads.append(threading.current_thread().name)
        return read_page(body, url)

    monkeypatch.setattr("wirewatch.monitor.poller.read_page", spy)
    outlet_server.add_article("/news/1", "Story", [PARAGRAPH, PARAGRAPH + " Again."])
    item = {"title": "Story", "url": "/news/1", "summary": "Short.", "published": NOW}
    feed = outlet_server.add_feed("/feed", [item])
    result = await make_poller(fetcher, store).poll(outlet("dawn", feed))
    assert result.articles[0].text_source == "page"
    assert threads and all(name.startswith("wirewatch-pages") for name in threads)
