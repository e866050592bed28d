"""The fast path gives feedparser's entries, and reads only the items it has not read before."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.monitor.feeds.samples import FEED_URL, FUZZ, ITEMS, render
from wirewatch.monitor.feeds import (
    FeedError,
    KnownItems,
    ParsedFeed,
    parse_feed,
    parse_with_feedparser,
    read_feed,
)

DATA = Path(__file__).parent / "data" / "feedparser"  # from feedparser's tests, BSD-2 (LICENSE)
PEER = Path(__file__).parents[3].parent / "shared" / "peer" / "feedparser-tests"


@pytest.mark.parametrize("kind", ["rss", "rss1", "atom"])
def test_the_fast_path_reads_the_usual_feeds(kind: str) -> None:
    body = render(kind)
    assert read_feed(body, FEED_URL).reader == "fast"
    assert parse_feed(body, FEED_URL) == parse_with_feedparser(body, FEED_URL)


def _same_as_feedparser(body: bytes, url: str = FEED_URL) -> None:
    try:
        expected = parse_with_feedparser(body, url)
    except FeedError:
        expected = None
    try:
        got = parse_feed(body, url)
    except FeedError:
        got = None
    assert got == expected


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.xml")))
def test_feedparser_cases_read_the_same(name: str) -> None:
    _same_as_feedparser((DATA / name).read_bytes())


def test_feedparser_expectations_on_copied_cases() -> None:
    def entries(name: str):
        return parse_feed((DATA / name).read_bytes(), FEED_URL).entries

    assert entries("illformed_rss_item_link_corrupted_ampersands.xml")[0].url == (
        "http://link/get?a=1&b=2"
    )
    assert entries("wellformed_atom10_entry_content_and_summary.xml")[0].summary == "Summary"
    assert entries("wellformed_rdf_rss090_item_title.xml")[0].title == "Item title"
    assert entries("encoding_demoronize-1.xml")[0].summary == "don\u2019t"
    title = parse_feed((DATA / "wellformed_rss_channel_dc_title.xml").read_bytes(), FEED_URL).title
    assert title == "Example title"


@pytest.mark.skipif(not PEER.is_dir(), reason="../shared/peer/feedparser-tests not present")
def test_every_peer_file_is_handled_and_the_fast_path_agrees() -> None:
    """~2,100 feedparser test documents: a feed or a FeedError, and feedparser's entries."""
    files = sorted(p for p in PEER.rglob("*") if p.suffix in (".xml", ".json"))
    assert len(files) > 2000
    fast = 0
    for path in files:
        body = path.read_bytes()
        url = f"http://example.org/{path.name}"
        try:
            document = read_feed(body, url)
        except FeedError:
            continue
        if document.reader == "fast":
            fast += 1
            assert ParsedFeed(document.title, document.entries(), document.ttl_s) == (
                parse_with_feedparser(body, url)
            ), path
    assert fast > 700


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@FUZZ
@given(
    st.sampled_from(["rss", "rss1", "atom"]),
    st.lists(
        st.fixed_dictionaries(
            {"title": _text, "summary": _text},
            optional={
                "id": st.sampled_from(["", "tag:e.org,2026:1", "https://e.org/p?id=7#x", "42"]),
                "url": st.sampled_from(["/news/1", "https://e.org/a?utm_source=x", "relative"]),
                "content_html": st.sampled_from(["<p>Body <b>bold</b></p>", "x &amp; y"]),
                "published": st.datetimes(timezones=st.just(UTC)),
            },
        ),
        max_size=4,
    ),
)
def test_fast_path_and_feedparser_agree_on_generated_feeds(kind: str, items: list[dict]) -> None:
    _same_as_feedparser(render(kind, items))


@FUZZ
@given(
    st.sampled_from(["rss", "rss1", "atom"]),
    st.lists(
        st.tuples(_text, st.integers(0, 10**6)), min_size=2, max_size=6, unique_by=lambda t: t[1]
    ),
)
def test_reading_only_new_items_gives_the_same_entries(kind: str, stories: list) -> None:
    """A feed read again with its known items skipped yields exactly its new entries."""
    items = [
        {
            "title": t,
            "url": f"/news/{n}",
            "summary": f"s {t}",
            "published": datetime(2026, 1, 1, tzinfo=UTC),
        }
        for t, n in stories
    ]
    before = read_feed(render(kind, items[1:]), FEED_URL)
    assume(before.reader == "fast")  # not when a title happens to say "xml:base"
    assert before.chunks is not None
    known = KnownItems.of(before.chunks.context, before.chunks.digests)
    after_body = render(kind, items)
    after = read_feed(after_body, FEED_URL, None, known)
    assume(after.reader == "fast")  # nor when the new item's title says it (all entries then)
    everything = parse_feed(after_body, FEED_URL).entries
    assert after.entries() == [e for e in everything if e.key not in set(before.keys())]
    assert after.keys() == [everything[0].key]


def _known_after(body: bytes, content_type: str | None = None) -> KnownItems:
    before = read_feed(body, FEED_URL, content_type)
    assert before.reader == "fast" and before.chunks is not None
    return KnownItems.of(before.chunks.context, before.chunks.digests)


def test_a_new_item_with_xml_base_is_left_to_feedparser() -> None:
    """Only the new items are checked again; one saying xml:base still declines the fast path."""
    known = _known_after(render("rss", ITEMS[1:]))
    newer = render("rss", ITEMS).replace(b"<item>", b'<item xml:base="https://x.example/">', 1)
    assert newer.count(b"xml:base") == 1
    after = read_feed(newer, FEED_URL, None, known)
    assert after.reader != "fast"
    assert [e.key for e in after.entries()] == [e.key for e in parse_feed(newer, FEED_URL).entries]


def test_text_xml_without_charset_is_us_ascii_in_known_items_too() -> None:
    """The US-ASCII rule of text/* without a charset covers the items not read again."""
    items = [ITEMS[0], {**ITEMS[1], "title": "Mobile internet suspended in Quetta — again"}]
    body = render("rss", items[1:])
    known = _known_after(body, "application/rss+xml")
    after = read_feed(render("rss", items), FEED_URL, "text/xml", known)
    assert after.reader != "fast"
