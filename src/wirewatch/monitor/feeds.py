"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to `FeedEntry` records.

XML goes through feedparser, which never fetches anything here (the body is
handed over as a stream) and does not expand external entities; JSON Feed,
which feedparser does not read, is parsed with `json`. Parsing is CPU work:
callers on the event loop run `parse_feed` in a thread.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from wirewatch.models import FeedEntry
from wirewatch.monitor.urls import canonicalize_url

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 512  # longer ids are hashed
JSONFEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


class FeedError(ValueError):
    """The document is not a feed (or is too broken to read any entry from)."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]
    ttl_s: float | None  # how long the feed says it may be cached (RSS <ttl>)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed document fetched from `url`; raises `FeedError` only."""
    if not body or not body.strip():
        raise FeedError("empty document")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url)
    return _parse_xml_feed(body, url, content_type)


# ---- XML (feedparser) -------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        # A stream, never bytes or str: feedparser opens a bytes/str argument as a
        # local file name or fetches it as a URL when it looks like one.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser is meant not to raise; guard anyway
        raise FeedError(f"unreadable feed: {type(exc).__name__}: {exc}") from None
    entries = [entry for e in parsed.entries if _has_content(entry := _xml_entry(e, url))]
    title = _text(parsed.feed.get("title", ""))
    if not entries:
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        if problem is not None and not isinstance(problem, _HARMLESS_BOZO):
            # feedparser prepends an XML declaration when there is none: one line more
            added = 0 if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml") else 1
            raise FeedError(f"not a feed: {_bozo_message(problem, added)}")
        if not parsed.version:
            raise FeedError("not a feed: no RSS, Atom or JSON Feed document found")
    return ParsedFeed(title=title, entries=entries, ttl_s=_ttl(parsed.feed.get("ttl")))


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
    title = _text(entry.get("title", ""))
    summary = _text(entry.get("summary") or _first_content(entry))
    # dict.get: FeedParserDict maps a missing published_parsed onto updated_parsed and warns
    published = _struct_to_utc(
        dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    )
    key = _entry_key(_str(entry.get("id")), link, title, summary)
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


def _struct_to_utc(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _ttl(value: Any) -> float | None:
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60.0 if 0 < minutes < 1e6 else None


# ---- JSON Feed ----------------------------------------------------------------------


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    """The body decides when it can (servers mislabel feeds); the Content-Type otherwise."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"<"):
        return head == b"{"
    return bool(content_type and "json" in content_type.lower())


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        document = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise FeedError("not a feed: JSON document is not an object")
    version = document.get("version")
    items = document.get("items")
    if not (isinstance(version, str) and version.startswith(JSONFEED_VERSION_PREFIX)):
        raise FeedError("not a feed: JSON document without a JSON Feed version")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without an items list")
    base = _str(document.get("feed_url")) or url
    entries = [
        entry
        for item in items
        if isinstance(item, dict) and _has_content(entry := _json_entry(item, base))
    ]
    return ParsedFeed(title=_text(_str(document.get("title"))), entries=entries, ttl_s=None)


def _json_entry(item: dict[str, Any], base: str) -> FeedEntry:
    link = None
    for field in ("url", "external_url"):
        if (value := _str(item.get(field))) and (link := canonicalize_url(value, base)):
            break
    title = _text(_str(item.get("title")))
    summary = _text(
        _str(item.get("summary"))
        or _str(item.get("content_text"))
        or _str(item.get("content_html"))
    )
    published = _iso_to_utc(_str(item.get("date_published")) or _str(item.get("date_modified")))
    key = _entry_key(_str(item.get("id")), link, title, summary)
    return FeedEntry(key=key, url=link, title=title, summary=summary, published=published)


def _iso_to_utc(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# ---- shared -------------------------------------------------------------------------


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _has_content(entry: FeedEntry) -> bool:
    """False for an item with neither title, link nor text (e.g. cut off by a broken feed)."""
    return bool(entry.title or entry.url or entry.summary)


def _entry_key(entry_id: str, link: str | None, title: str, summary: str) -> str:
    """guid/id, else the canonical link, else a hash of the content."""
    key = entry_id or link or ""
    if key and len(key) <= MAX_KEY_CHARS:
        return key
    digest = hashlib.sha1((key or f"{title}\n{summary}").encode("utf-8", "replace"))
    return "sha1:" + digest.hexdigest()


class _TextCollector(HTMLParser):
    """HTML to plain text: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "tr", "table", "section"}
        | {"article", "h1", "h2", "h3", "h4", "h5", "h6"}
    )
    SKIP = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _text(markup: str) -> str:
    """Plain text of an HTML fragment (or of plain text), one paragraph per line."""
    if not markup:
        return ""
    if "<" in markup or "&" in markup:
        collector = _TextCollector()
        try:
            collector.feed(markup)
            collector.close()
        except Exception:  # html.parser on hostile markup; keep what was read
            log.debug("HTML parser gave up on feed text", exc_info=True)
        markup = "".join(collector.parts)
    lines = (" ".join(line.split()) for line in markup.splitlines())
    return "\n".join(line for line in lines if line)
