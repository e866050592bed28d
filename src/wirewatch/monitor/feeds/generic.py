"""XML feeds read by feedparser: any RSS 0.9x/1.0/2.0 or Atom document, however odd.

This is the reader for everything the fast path (`feeds/fast.py`) declines, and the
reference it is checked against (`parse_with_feedparser`). feedparser never fetches
anything here (the body is handed over as a stream) and does not expand entities (it
drops the DOCTYPE; one that declares entities is removed before expat sees it). It is
slow (about a second and 60 MB per megabyte): a bigger body is cut to the items that
fit in `FEEDPARSER_MAX_BYTES` first.
"""

from __future__ import annotations

import io
import re
import xml.sax
from typing import Any

import feedparser

from wirewatch import defaults
from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds.entries import (
    BuiltDocument,
    FeedError,
    ParsedFeed,
    entry_key,
    has_content,
    read_prolog,
    string_field,
    struct_to_utc,
    text_of,
    ttl_seconds,
)
from wirewatch.monitor.urls import canonicalize_url


def parse_with_feedparser(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """The feedparser reading of an XML feed, whatever the fast path would say."""
    document = parse_xml_feed(body, url, content_type)
    return ParsedFeed(title=document.title, entries=document.entries(), ttl_s=document.ttl_s)


def without_entity_declarations(body: bytes) -> bytes:
    """The body without a DOCTYPE that declares entities (its lines kept as blank lines).

    expat expands internal entities up to its amplification limit (megabytes: a
    "billion laughs" document costs seconds of CPU and tens of MB before it stops) and
    feedparser hands it the DOCTYPE. Without the declarations the references stay
    unexpanded, as they do in the end anyway. The prolog is read as expat reads it
    (`read_prolog`): a comment before the DOCTYPE that holds markup (`<!-- <a -->`)
    does not hide it, and an unterminated DOCTYPE goes to the end of the body.
    """
    doctype = read_prolog(body).doctype
    if doctype is None:
        return body
    start, end = doctype
    if b"<!ENTITY" not in body[start:end].upper():
        return body
    return body[:start] + b"\n" * body.count(b"\n", start, end) + body[end:]


# start and end tags of items (RSS, RDF) and entries (Atom), any namespace prefix
_ITEM_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(?:item|entry)(?=[\s/>])")


def within_budget(
    body: bytes, max_bytes: int | None = None, max_items: int | None = None
) -> tuple[bytes, str | None]:
    """The body cut for feedparser: its head, then the items that fit, in document order.

    feedparser costs about a second and 60 MB per megabyte of feed, so a body over
    `FEEDPARSER_MAX_BYTES` keeps the bytes before its first item, the first items that
    fit in the budget (at most `FEEDPARSER_MAX_ITEMS`; an item too big on its own is
    left out), and what follows its last item; (body, None) when it fits as it is.
    Feeds list their newest items first. `FeedError` when even the bytes around the
    items do not fit.
    """
    max_bytes = max_bytes or defaults.FEEDPARSER_MAX_BYTES
    max_items = max_items or defaults.FEEDPARSER_MAX_ITEMS
    if len(body) <= max_bytes:
        return body, None
    spans = _item_spans(body)
    size = _megabytes(len(body))
    if not spans:
        raise FeedError(
            f"feed of {size} with no items to cut it at (limit {_megabytes(max_bytes)})"
        )
    head, tail = body[: spans[0][0]], body[spans[-1][1] :]
    room = max_bytes - len(head) - len(tail)
    if room <= 0:
        raise FeedError(f"feed of {size} whose head alone is over {_megabytes(max_bytes)}")
    kept: list[bytes] = []
    for start, end in spans:
        if len(kept) == max_items:
            break
        if end - start <= room:
            kept.append(body[start:end])
            room -= end - start
    note = f"feed of {size} cut to {len(kept):,} of its {len(spans):,} items for feedparser"
    return b"".join([head, *kept, tail]), note


def _item_spans(body: bytes) -> list[tuple[int, int]]:
    """Byte spans of the outermost items, as far as tags tell (a budget, not a parser)."""
    spans: list[tuple[int, int]] = []
    depth = start = after = 0
    for tag in _ITEM_TAG.finditer(body, read_prolog(body).end):
        if tag.start() < after:  # inside the tag before: not one (and no search again)
            continue
        close = body.find(b">", tag.end())
        if close < 0:
            break
        after = close + 1
        if tag.group(1):  # an end tag
            if depth == 1:
                spans.append((start, close + 1))
            depth = max(0, depth - 1)
        elif body[close - 1] != ord("/"):  # a start tag, not an empty element
            if depth == 0:
                start = tag.start()
            depth += 1
    return spans


def _megabytes(size: int) -> str:
    return f"{size / defaults.MB:.1f} MB"


def parse_xml_feed(body: bytes, url: str, content_type: str | None) -> BuiltDocument:
    """Every entry of an XML feed, as feedparser reads it; raises `FeedError` only.

    A body over `FEEDPARSER_MAX_BYTES` is cut to the items that fit (`within_budget`);
    the document's `cut` says so.
    """
    body, cut = within_budget(without_entity_declarations(body))
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        # A stream, never bytes or str: feedparser opens a bytes/str argument as a
        # local file name or fetches it as a URL when it looks like one.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser is meant not to raise; guard anyway
        raise FeedError(f"unreadable feed: {type(exc).__name__}: {exc}") from None
    entries = [entry for e in parsed.entries if has_content(entry := _xml_entry(e, url))]
    title = text_of(parsed.feed.get("title", ""))
    if not entries:
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        if problem is not None and not isinstance(problem, _HARMLESS_BOZO):
            # feedparser prepends an XML declaration when there is none: one line more
            added = 0 if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml") else 1
            raise FeedError(f"not a feed: {_bozo_message(problem, added)}")
        if not parsed.version:
            raise FeedError("not a feed: no RSS, Atom or JSON Feed document found")
    return BuiltDocument(title, ttl_seconds(parsed.feed.get("ttl")), "feedparser", entries, cut)


# feedparser flags these, but the document was read fine
_HARMLESS_BOZO = (
    feedparser.CharacterEncodingOverride,
    feedparser.CharacterEncodingUnknown,
    feedparser.NonXMLContentType,
)


def _bozo_message(exc: Any, added_lines: int = 0) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        line = max(1, exc.getLineNumber() - added_lines)
        return f"malformed XML at line {line}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    text = str(exc or "malformed document").strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _xml_entry(entry: Any, base: str) -> FeedEntry:
    link = _first_link(entry, base)
    title = text_of(entry.get("title", ""))
    summary = text_of(entry.get("summary") or _first_content(entry))
    # dict.get: FeedParserDict maps a missing published_parsed onto updated_parsed and warns
    published = struct_to_utc(
        dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    )
    key = entry_key(string_field(entry.get("id")), link, title, summary)
    return FeedEntry(key=key, url=link, title=title, summary=summary, published=published)


def _first_link(entry: Any, base: str) -> str | None:
    candidates = [entry.get("link")]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if link.get("rel", "alternate") == "alternate"
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and (url := canonicalize_url(candidate, base)):
            return url
    return None


def _first_content(entry: Any) -> str:
    for content in entry.get("content") or []:
        if value := content.get("value"):
            return value
    return ""
