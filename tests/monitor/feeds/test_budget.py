"""Hostile feeds (issue 17): entity declarations hidden behind a comment are never
expanded, and feedparser only ever reads a bounded part of a feed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.monitor.feeds.samples import FEED_URL, FUZZ, render
from wirewatch import defaults
from wirewatch.monitor.feeds import FeedError, parse_with_feedparser, read_feed
from wirewatch.monitor.feeds.entries import read_prolog
from wirewatch.monitor.feeds.generic import within_budget

LAUGHS = "".join(
    ['<!ENTITY lol "lol">']
    + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 6)
    ]
)  # &lol5; is 300,000 characters: under expat's own amplification limit


def laughing_feed(before_doctype: str = "", in_subset: str = "", after: str = "") -> bytes:
    return (
        f"<?xml version='1.0'?>{before_doctype}<!DOCTYPE rss [{in_subset}{LAUGHS}]>{after}\n"
        "<rss version='2.0'><channel><title>T</title><item><title>A &lol5; B</title>"
        "<link>https://news.example.org/a</link><description>Body &lol3;.</description>"
        "</item></channel></rss>"
    ).encode()


def assert_not_expanded(body: bytes) -> None:
    try:
        document = read_feed(body, FEED_URL)
    except FeedError:
        return  # not read at all: nothing expanded either
    for entry in document.entries():
        assert "lollol" not in entry.title + entry.summary
        assert len(entry.title) < 100


@pytest.mark.parametrize(
    ("before_doctype", "in_subset", "after"),
    [
        ("", "", ""),
        ("<!-- <a -->", "", ""),  # markup in a comment used to end the prolog there
        ("<!-- <rss version='2.0'> -->", "", ""),
        ("<?pi <b?>", "", ""),
        ("\n<!-- one -->\n<!--<x>-->", "", ""),
        ("", "<!-- <a> ]> -->", ""),  # "]>" inside a comment of the internal subset
        ("", '<!ENTITY first "<b>]>">', ""),  # ... and inside an entity's value
        ("", "<?pi ]> ?>", "<!-- <c -->"),
    ],
)
def test_entity_declarations_are_never_expanded(
    before_doctype: str, in_subset: str, after: str
) -> None:
    assert_not_expanded(laughing_feed(before_doctype, in_subset, after))


prolog_junk = st.lists(
    st.one_of(
        st.builds(lambda t: f"<!--{t}-->", st.text(alphabet="<>ab/![]? '\"", max_size=12)),
        st.builds(lambda t: f"<?pi {t}?>", st.text(alphabet="<>ab/![] '\"", max_size=12)),
        st.sampled_from([" ", "\n", "\t"]),
    ),
    max_size=5,
).map("".join)


@FUZZ
@given(prolog_junk, prolog_junk, prolog_junk)
def test_no_comment_or_pi_around_the_doctype_gets_entities_expanded(
    before: str, inside: str, after: str
) -> None:
    assert_not_expanded(laughing_feed(before, inside, after))


def test_read_prolog_finds_the_root_and_the_doctype() -> None:
    body = b"\xef\xbb\xbf<?xml version='1.0'?><!-- <a --><!DOCTYPE r [<!ENTITY x '>]'>]>\n<r/>"
    prolog = read_prolog(body)
    assert body[prolog.end :] == b"<r/>"
    assert prolog.doctype is not None
    assert body[slice(*prolog.doctype)] == b"<!DOCTYPE r [<!ENTITY x '>]'>]>"
    assert read_prolog(b"<rss/>") == read_prolog(b"<rss/>")
    assert read_prolog(b"  <rss/>").end == 2 and read_prolog(b"<rss/>").doctype is None
    unterminated = b"<!DOCTYPE r [<!ENTITY x 'oops>]><r/>"
    assert read_prolog(unterminated).doctype == (0, len(unterminated))


# ---- feedparser's budget ----------------------------------------------------------------


def latin1_feed(items: int, *, summary: str = "Summary of the story.", head: str = "") -> bytes:
    """RSS in ISO-8859-1, which the fast path leaves to feedparser."""
    rendered = "".join(
        f"<item><title>Titre n\u00b0 {i}</title><link>https://e.org/a/{i}</link>"
        f"<description>{summary}</description><guid>g{i}</guid>"
        f"<pubDate>Mon, 23 Nov 2026 12:{i % 60:02d}:00 +0000</pubDate></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>T'
        f"</title>{head}{rendered}</channel></rss>"
    ).encode("latin-1")


def test_a_5_mb_feed_for_feedparser_is_cut_to_its_first_items() -> None:
    body = latin1_feed(25_000)
    assert len(body) > 4 * defaults.MB
    document = read_feed(body, FEED_URL)
    assert document.reader == "feedparser"
    entries = document.entries()
    assert 0 < len(entries) <= defaults.FEEDPARSER_MAX_ITEMS
    assert [e.title for e in entries[:2]] == ["Titre n\u00b0 0", "Titre n\u00b0 1"]
    assert document.cut is not None and "of its 25,000 items for feedparser" in document.cut


def test_a_feed_within_the_budget_is_read_whole() -> None:
    body = latin1_feed(50)
    document = read_feed(body, FEED_URL)
    assert len(document.entries()) == 50 and document.cut is None
    assert within_budget(body) == (body, None)


def test_an_item_too_big_for_the_budget_is_left_out() -> None:
    body = latin1_feed(3)
    giant = latin1_feed(1, summary="&lt;p&gt;word&lt;/p&gt; " * 60_000)  # 1.4 MB, one item
    start = giant.index(b"<item>")
    body = body.replace(b"<item>", giant[start : giant.index(b"</channel>")] + b"<item>", 1)
    cut, note = within_budget(body)
    assert len(cut) < defaults.FEEDPARSER_MAX_BYTES and note is not None
    assert "cut to 3 of its 4 items" in note
    assert len(read_feed(body, FEED_URL).entries()) == 3


def test_a_feed_whose_head_alone_is_over_the_budget_is_an_error() -> None:
    body = latin1_feed(2, head="<description>" + "x" * (2 * defaults.MB) + "</description>")
    with pytest.raises(FeedError, match="head alone"):
        read_feed(body, FEED_URL)


def utf8_feed(items: int, tricky: set[int], kind: str = "rss") -> bytes:
    """A feed the fast path reads; the items in `tricky` have a comment and a script,
    which only feedparser's sanitizer reads right."""
    rendered = [
        {
            "id": f"tag:e.org,2026:{i}",
            "title": f"Story {i}",
            "summary": (
                f"Text {i} <!-- c --><script>x()</script> more." if i in tricky else f"Text {i}."
            )
            + " padding" * 10,
        }
        for i in range(items)
    ]
    return render(kind, rendered)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_items_left_to_feedparser_read_as_in_the_whole_feed(kind: str) -> None:
    body = utf8_feed(6, {1, 4}, kind)
    document = read_feed(body, FEED_URL)
    assert document.reader == "fast"
    reference = {e.key: e for e in parse_with_feedparser(body, FEED_URL).entries}
    assert document.entries() == list(reference.values())
    for key in ("tag:e.org,2026:4", "tag:e.org,2026:0"):
        assert document.entries({key, "tag:e.org,2026:1"}) == [
            e for e in reference.values() if e.key in {key, "tag:e.org,2026:1"}
        ]


def test_a_tricky_item_at_the_end_of_a_big_feed_is_still_read() -> None:
    """feedparser reads only the items asked for, so the budget never hides one."""
    count = 9_000
    body = utf8_feed(count, {count - 1})
    assert len(body) > 2 * defaults.FEEDPARSER_MAX_BYTES
    document = read_feed(body, FEED_URL)
    assert document.reader == "fast"
    last = f"tag:e.org,2026:{count - 1}"
    [entry] = document.entries({last})
    assert entry.summary.startswith(f"Text {count - 1} more")
