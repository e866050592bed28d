"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to `FeedEntry` records.

Two XML readers give the same entries:
- a fast path (`monitor/fastfeed.py`, lxml) for the well-formed, plainly structured feeds
  that most outlets publish. It declines anything it does not reproduce exactly: a
  DOCTYPE or entity declaration, xml:base, an encoding other than UTF-8, inline XHTML,
  an element feedparser would read into a field that the fast path does not handle;
- feedparser for everything else, which never fetches anything here (the body is handed
  over as a stream) and does not expand entities (it drops the DOCTYPE).
JSON Feed, which feedparser does not read, is parsed with `json`.

`read_feed` gives a `FeedDocument` whose entry keys are cheap and whose entries are built
on demand, so that a feed with one new item costs one entry, not fifty. Parsing is CPU
work: callers on the event loop run `read_feed` and `parse_feed` in a thread.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import re
import time
import xml.sax
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Protocol

import feedparser
from feedparser.datetimes import _parse_date

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


class FeedDocument(Protocol):
    """A parsed feed: keys of its entries at once, the entries themselves on demand."""

    title: str
    ttl_s: float | None
    reader: str  # "fast", "feedparser" or "json"

    def keys(self) -> list[str]:
        """The key of every entry with content, in document order (repeats kept)."""
        ...

    def entries(self, keys: Collection[str] | None = None) -> list[FeedEntry]:
        """The entries whose key is in `keys` (all of them for None), in document order."""
        ...


@dataclass
class BuiltDocument:
    """A document whose entries were all built while parsing (feedparser, JSON Feed)."""

    title: str
    ttl_s: float | None
    reader: str
    built: list[FeedEntry]

    def keys(self) -> list[str]:
        return [entry.key for entry in self.built]

    def entries(self, keys: Collection[str] | None = None) -> list[FeedEntry]:
        return list(self.built) if keys is None else [e for e in self.built if e.key in keys]


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed document fetched from `url`; raises `FeedError` only."""
    document = read_feed(body, url, content_type)
    return ParsedFeed(title=document.title, entries=document.entries(), ttl_s=document.ttl_s)


def read_feed(
    body: bytes, url: str, content_type: str | None = None, known: Any = None
) -> FeedDocument:
    """Parse one feed document, building entries lazily where it can; raises `FeedError` only.

    `known` (a `fastfeed.KnownItems`): item chunks already read and settled, skipped when
    the fast path reads the document (its `chunks` then hold every item chunk's digest).
    """
    if not body or body.isspace():  # not body.strip(): that copies the body
        raise FeedError("empty document")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url)
    from wirewatch.monitor.fastfeed import read_fast  # imports this module

    fast = read_fast(body, url, content_type, known)
    if fast is not None:
        return fast
    return parse_xml_feed(body, url, content_type)


# ---- XML (feedparser) -------------------------------------------------------------


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
    return BuiltDocument(title, _ttl(parsed.feed.get("ttl")), "feedparser", entries)


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
    published = _struct_to_utc(
        dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    )
    key = entry_key(_str(entry.get("id")), link, title, summary)
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


def parse_date(value: str) -> datetime | None:
    """A feed date (RFC 822, W3C-DTF and the many variants feedparser knows) in UTC."""
    return _struct_to_utc(_parse_date(value)) if value else None


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


_FIRST_NON_BLANK = re.compile(rb"[^\xef\xbb\xbf \t\r\n]")  # after a BOM and whitespace


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    """The body decides when it can (servers mislabel feeds); the Content-Type otherwise."""
    first = _FIRST_NON_BLANK.search(body)
    head = first.group() if first else b""
    if head in (b"{", b"<"):
        return head == b"{"
    return bool(content_type and "json" in content_type.lower())


def _parse_json_feed(body: bytes, url: str) -> BuiltDocument:
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
        if isinstance(item, dict) and has_content(entry := _json_entry(item, base))
    ]
    return BuiltDocument(text_of(_str(document.get("title"))), None, "json", entries)


def _json_entry(item: dict[str, Any], base: str) -> FeedEntry:
    link = None
    for field in ("url", "external_url"):
        if (value := _str(item.get(field))) and (link := canonicalize_url(value, base)):
            break
    title = text_of(_str(item.get("title")))
    summary = text_of(
        _str(item.get("summary"))
        or _str(item.get("content_text"))
        or _str(item.get("content_html"))
    )
    published = _iso_to_utc(_str(item.get("date_published")) or _str(item.get("date_modified")))
    key = entry_key(_str(item.get("id")), link, title, summary)
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


def has_content(entry: FeedEntry) -> bool:
    """False for an item with neither title, link nor text (e.g. cut off by a broken feed)."""
    return bool(entry.title or entry.url or entry.summary)


def entry_key(entry_id: str, link: str | None, title: str, summary: str) -> str:
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


def text_of(markup: str) -> str:
    """Plain text of an HTML fragment (or of plain text), one paragraph per line."""
    if not markup:
        return ""
    if "<" in markup:
        simple = _simple_text(markup)
        markup = simple if simple is not None else _parsed_text(markup)
    elif "&" in markup:
        markup = html.unescape(markup)
    return text_lines(markup)


def text_lines(text: str) -> str:
    """Whitespace collapsed within lines, empty lines dropped."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _parsed_text(markup: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # html.parser on hostile markup; keep what was read
        log.debug("HTML parser gave up on feed text", exc_info=True)
    return "".join(collector.parts)


# A start or end tag html.parser reads the same way (quoted attribute values may hold ">")
_SIMPLE_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)"
    r"(?:\s+[^\s<>\"'=/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s<>\"'=`]+))?)*\s*/?>"
)


def _simple_text(markup: str) -> str | None:
    """What `_TextCollector` makes of markup made of plain tags and text only, without
    html.parser's per-character work; None for anything else (comments, scripts, a stray
    "<"), which goes to html.parser."""
    parts: list[str] = []
    at = 0
    for tag in _SIMPLE_TAG.finditer(markup):
        data = markup[at : tag.start()]
        if "<" in data:
            return None
        parts.append(html.unescape(data) if "&" in data else data)
        name = tag.group(2).lower()
        if name in _TextCollector.SKIP:
            return None
        if name in _TextCollector.BLOCKS:
            parts.append("\n")
        at = tag.end()
    rest = markup[at:]
    if "<" in rest:
        return None
    parts.append(html.unescape(rest) if "&" in rest else rest)
    return "".join(parts)
