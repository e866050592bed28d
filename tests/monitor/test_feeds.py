"""Feed documents to FeedEntry records: the four formats outlets publish, and broken input."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.outlets import OutletServer
from wirewatch.monitor.feeds import FeedError, ParsedFeed, parse_feed

FEED_URL = "https://news.example.org/feed"
ITEMS = [
    {
        "id": "tag:news.example.org,2026:1",
        "title": "Gunmen storm checkpoints in Kech",
        "url": "https://news.example.org/news/1?utm_source=rss#top",
        "summary": "Attackers struck three checkpoints <b>at once</b>.",
        "published": datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
    },
    {
        "id": "tag:news.example.org,2026:2",
        "title": "Mobile internet suspended in Quetta",
        "url": "https://news.example.org/news/2",
        "summary": "Authorities cited security concerns.",
        "published": datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
    },
]


def render(kind: str, items: list[dict] = ITEMS) -> bytes:
    server = OutletServer()  # only its feed renderers; never started
    server.port = 8080
    server.add_feed("/feed", items, kind=kind, title="Example News")
    return server._resources["/feed"].body


@pytest.mark.parametrize("kind", ["rss", "rss1", "atom", "json"])
def test_every_format_gives_the_same_entries(kind: str) -> None:
    feed = parse_feed(render(kind), FEED_URL)
    assert feed.title == "Example News"
    first, second = feed.entries
    assert first.url == "https://news.example.org/news/1"  # canonical: no utm, no fragment
    assert first.title == "Gunmen storm checkpoints in Kech"
    assert first.published == datetime(2026, 11, 24, 7, 5, tzinfo=UTC)
    assert "Attackers struck three checkpoints at once." in first.summary
    assert "<b>" not in first.summary
    assert second.url == "https://news.example.org/news/2"
    assert first.key != second.key


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
def test_entry_key_is_the_guid(kind: str) -> None:
    feed = parse_feed(render(kind), FEED_URL)
    assert [e.key for e in feed.entries] == [i["id"] for i in ITEMS]


def test_rss_ttl_is_read() -> None:
    assert parse_feed(render("rss"), FEED_URL).ttl_s == 15 * 60


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>A</title><link>/news/a</link></item></channel></rss>"
    )
    [entry] = parse_feed(body, FEED_URL).entries
    assert entry.url == "https://news.example.org/news/a"
    assert entry.key == "https://news.example.org/news/a"  # no guid: the canonical URL
    assert entry.published is None


def test_entry_without_id_or_link_gets_a_content_hash_key() -> None:
    body = b'<rss version="2.0"><channel><item><title>Only a title</title></item></channel></rss>'
    [entry] = parse_feed(body, FEED_URL).entries
    assert entry.key.startswith("sha1:") and entry.url is None


def test_a_truncated_feed_keeps_the_items_read_before_the_break() -> None:
    body = render("rss")
    feed = parse_feed(body[: body.index(b"</item>") + 7], FEED_URL)
    assert [e.title for e in feed.entries] == ["Gunmen storm checkpoints in Kech"]


def test_a_feed_with_no_items_is_empty_not_an_error() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed(body, FEED_URL) == ParsedFeed(title="Quiet", entries=[], ttl_s=None)


def test_json_feed_served_as_text_plain_is_still_read() -> None:
    assert len(parse_feed(render("json"), FEED_URL, "text/plain").entries) == 2


def test_rss_mislabelled_as_json_is_still_read() -> None:
    assert len(parse_feed(render("rss"), FEED_URL, "application/json").entries) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"<rss version='2.0'>\n<channel>\n<title>x</titl", "malformed XML at line 3"),
        (b"<html><body><p>Hello</p></body></html>", "not a feed"),
        (b"{not json", "invalid JSON"),
        (b'{"title": "x"}', "JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "items"),
        (b"just some words", "not a feed"),
    ],
)
def test_broken_documents_raise_a_readable_feed_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(body, FEED_URL)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def _check(body: bytes) -> None:
    try:
        result = parse_feed(body, FEED_URL)
    except FeedError as exc:
        assert str(exc)
    else:
        assert isinstance(result, ParsedFeed)
        for entry in result.entries:
            assert entry.key and len(entry.key) <= 512
            assert entry.published is None or entry.published.tzinfo is not None


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_feed_or_a_feed_error(body: bytes) -> None:
    _check(body)


@FUZZ
@given(
    st.sampled_from(["rss", "rss1", "atom", "json"]),
    st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 40), st.binary(max_size=20)), max_size=5
    ),
)
def test_mutated_feeds_give_a_feed_or_a_feed_error(
    kind: str, edits: list[tuple[int, int, bytes]]
) -> None:
    body = bytearray(render(kind))
    for at, cut, insert in edits:
        at %= len(body) + 1
        body[at : at + cut] = insert
    _check(bytes(body))


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"title": st.text(max_size=30), "summary": st.text(max_size=60)},
            optional={"id": st.text(max_size=700), "url": st.text(max_size=40)},
        ),
        max_size=4,
    ),
    st.sampled_from(["rss", "atom", "json"]),
)
def test_hostile_item_text_is_survived(items: list[dict], kind: str) -> None:
    _check(render(kind, items))
