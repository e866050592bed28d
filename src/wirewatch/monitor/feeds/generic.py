"""XML feeds read by feedparser: any RSS 0.9x/1.0/2.0 or Atom document, however odd.

This is the reader for everything the fast path (`feeds/fast.py`) declines, and the
reference it is checked against (`parse_with_feedparser`). feedparser never fetches
anything here (the body is handed over as a stream) and does not expand entities (it
drops the DOCTYPE; one that declares entities is removed before expat sees it).
"""

from __future__ import annotations

import io
import re
import xml.sax
from typing import Any

import feedparser

from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds.entries import (
    BuiltDocument,
    FeedError,
    ParsedFeed,
    entry_key,
    has_content,
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


_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.DOTALL | re.IGNORECASE)
_FIRST_TAG = re.compile(rb"<[A-Za-z_]")


def without_entity_declarations(body: bytes) -> bytes:
    """The body without a DOCTYPE that declares entities (its lines kept as blank lines).

    expat expands internal entities up to its amplification limit (megabytes: a
    "billion laughs" document costs seconds of CPU and tens of MB before it stops) and
    feedparser hands it the DOCTYPE. Without the declarations the references stay
    unexpanded, as they do in the end anyway.
    """
    first = _FIRST_TAG.search(body)
    prolog = body[: first.start() if first else len(body)]
    if b"<!ENTITY" not in prolog.upper():
        return body
    return _DOCTYPE.sub(lambda m: b"\n" * m.group(0).count(b"\n"), body, count=1)


def parse_xml_feed(body: bytes, url: str, content_type: str | None) -> BuiltDocument:
    """Every entry of an XML feed, as feedparser reads it; raises `FeedError` only."""
    body = without_entity_declarations(body)
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
    return BuiltDocument(title, ttl_seconds(parsed.feed.get("ttl")), "feedparser", entries)


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
