"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to `FeedEntry` records.

Two XML readers give the same entries:
- a fast path (`feeds/fast.py`, lxml) for the well-formed, plainly structured feeds
  that most outlets publish. It declines anything it does not reproduce exactly: a
  DOCTYPE or entity declaration, xml:base, an encoding other than UTF-8, inline XHTML,
  an element feedparser would read into a field that the fast path does not handle;
- feedparser (`feeds/generic.py`) for everything else, which never fetches anything here
  (the body is handed over as a stream) and does not expand entities (it drops the DOCTYPE).
JSON Feed, which feedparser does not read, is parsed with `json` (`feeds/jsonfeed.py`).
What they share (document types, entry keys, text, dates) is in `feeds/entries.py`.

`read_feed` gives a `FeedDocument` whose entry keys are cheap and whose entries are built
on demand, so that a feed with one new item costs one entry, not fifty. Parsing is CPU
work: callers on the event loop run `read_feed` and `parse_feed` in a thread.
"""

from __future__ import annotations

from wirewatch.monitor.feeds.entries import FeedDocument, FeedError, ParsedFeed
from wirewatch.monitor.feeds.fast import KnownItems, read_fast
from wirewatch.monitor.feeds.generic import parse_with_feedparser, parse_xml_feed
from wirewatch.monitor.feeds.jsonfeed import looks_like_json, parse_json_feed

__all__ = [
    "FeedDocument",
    "FeedError",
    "KnownItems",
    "ParsedFeed",
    "parse_feed",
    "parse_with_feedparser",
    "read_feed",
]


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed document fetched from `url`; raises `FeedError` only."""
    document = read_feed(body, url, content_type)
    return ParsedFeed(title=document.title, entries=document.entries(), ttl_s=document.ttl_s)


def read_feed(
    body: bytes, url: str, content_type: str | None = None, known: KnownItems | None = None
) -> FeedDocument:
    """Parse one feed document, building entries lazily where it can; raises `FeedError` only.

    `known`: item chunks already read and settled, skipped when the fast path reads the
    document (its `chunks` then hold every item chunk's digest).
    """
    if not body or body.isspace():  # not body.strip(): that copies the body
        raise FeedError("empty document")
    if looks_like_json(body, content_type):
        return parse_json_feed(body, url)
    fast = read_fast(body, url, content_type, known)
    if fast is not None:
        return fast
    return parse_xml_feed(body, url, content_type)
