"""Feed documents to FeedEntry records: the four formats outlets publish, and broken input."""

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.monitor.feeds.samples import FEED_URL, FUZZ, ITEMS, render
from wirewatch.monitor.feeds import FeedError, ParsedFeed, parse_feed


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


# ---- older RSS, encodings, hostile XML ------------------------------------------------

RSS_09X = """<?xml version="1.0"?>
<rss version="{version}"><channel><title>Old School</title><link>https://old.example.org/</link>
<description>d</description><language>en</language>
<item><title>Budget passed</title><link>https://old.example.org/budget</link>
<description>The assembly passed the budget.</description></item>
</channel></rss>"""


@pytest.mark.parametrize("version", ["0.91", "0.92"])
def test_rss_09x(version: str) -> None:
    feed = parse_feed(RSS_09X.format(version=version).encode(), FEED_URL)
    [entry] = feed.entries
    assert feed.title == "Old School" and entry.title == "Budget passed"
    assert entry.url == entry.key == "https://old.example.org/budget"


def test_rss_090() -> None:
    body = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>Netscape</title>'
        b"</channel><item><title>First</title><link>https://n.example.org/1</link></item>"
        b"</rdf:RDF>"
    )
    [entry] = parse_feed(body, FEED_URL).entries
    assert (entry.title, entry.url) == ("First", "https://n.example.org/1")


@pytest.mark.parametrize(
    ("declared", "served", "codec"),
    [
        ("windows-1251", None, "cp1251"),
        (None, "application/rss+xml; charset=windows-1251", "cp1251"),
        ("iso-8859-1", None, "latin-1"),
        ("utf-8", "text/xml; charset=koi8-r", "koi8-r"),  # the HTTP charset wins
        ("shift_jis", None, "shift_jis"),
    ],
)
def test_declared_and_served_encodings(
    declared: str | None, served: str | None, codec: str
) -> None:
    title = {"latin-1": "Déjà vu à Kech", "shift_jis": "東京で停電"}.get(codec, "Взрыв в Кветте")
    declaration = f' encoding="{declared}"' if declared else ""
    body = (
        f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title><link>https://e.org/1</link></item></channel></rss>"
    ).encode(codec)
    feed = parse_feed(body, FEED_URL, served)
    assert feed.title == title and [e.title for e in feed.entries] == [title]


def test_utf16_with_a_byte_order_mark() -> None:
    body = RSS_09X.format(version="2.0").replace('version="1.0"', 'version="1.0" encoding="utf-16"')
    feed = parse_feed(body.encode("utf-16"), FEED_URL)
    assert [e.title for e in feed.entries] == ["Budget passed"]


def test_billion_laughs_is_not_expanded() -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel>'
        "<item><title>&i;</title><link>https://e.org/1</link></item></channel></rss>"
    ).encode()
    started = time.perf_counter()
    feed = parse_feed(body, FEED_URL)
    assert time.perf_counter() - started < 5  # a guard against a hang, not a timing test
    assert all(len(e.title) < 100 for e in feed.entries)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://127.0.0.1:9/secret"])
def test_external_entities_are_not_resolved(target: str) -> None:
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{target}">]>'
        '<rss version="2.0"><channel><item><title>A &x; B</title><link>https://e.org/1</link>'
        "</item></channel></rss>"
    ).encode()
    [entry] = parse_feed(body, FEED_URL).entries
    assert "root:" not in entry.title and entry.title.startswith("A ")
