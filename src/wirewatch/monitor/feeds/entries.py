"""What every feed reader shares: the document and error types, and the pieces of a
`FeedEntry` (its key, its text as plain lines, its dates).

The readers (`generic`: feedparser, `fast`: lxml, `jsonfeed`: JSON Feed) build their
entries from these, so the same item gives the same entry whichever reads it.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Protocol

from feedparser.datetimes import _parse_date

from wirewatch.models import FeedEntry

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 512  # longer ids are hashed


# ---- documents ----------------------------------------------------------------------


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
    cut: str | None  # what a budget left out of the document, if anything

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
    cut: str | None = None  # e.g. "feed of 4.8 MB cut to 4,012 of its 20,000 items ..."

    def keys(self) -> list[str]:
        return [entry.key for entry in self.built]

    def entries(self, keys: Collection[str] | None = None) -> list[FeedEntry]:
        return list(self.built) if keys is None else [e for e in self.built if e.key in keys]


# ---- the prolog: what comes before the root element ----------------------------------

# whitespace, the XML declaration and processing instructions, comments
_PROLOG_PART = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DOCTYPE_OPEN = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
# A DOCTYPE: its name and external id (quoted literals may hold "[" or ">"), then maybe
# the internal subset in brackets, whose literals, comments and PIs may hold "]" or ">".
# Possessive repeats: linear, and no backtracking state kept for a megabyte of tokens.
_DOCTYPE_HEAD = re.compile(rb"""<!DOCTYPE(?:[^"'\[>]++|"[^"]*+"|'[^']*+')*+""", re.IGNORECASE)
_SUBSET = re.compile(
    rb"""\[(?:[^"'<\]]++|"[^"]*+"|'[^']*+'|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|<)*+""",
    re.DOTALL,
)
_SUBSET_END = re.compile(rb"\]\s*>")


@dataclass(frozen=True)
class Prolog:
    """Where the root element starts (`end`) and where the DOCTYPE is, if there is one."""

    end: int  # the first byte that is not declaration, PI, comment, whitespace or DOCTYPE
    doctype: tuple[int, int] | None  # its span; to the end of the body when unterminated


def read_prolog(body: bytes) -> Prolog:
    """The prolog as an XML parser reads it: comments and PIs are skipped whole, so that
    markup written inside them (`<!-- <a -->`) is not taken for the root element, and a
    DOCTYPE ends at the ">" after its internal subset, not at one inside a literal."""
    at = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    doctype = None
    while True:
        part = _PROLOG_PART.match(body, at)
        if part is not None:
            at = part.end()
        elif doctype is None and _DOCTYPE_OPEN.match(body, at):
            end = _doctype_end(body, at)
            doctype = (at, end)
            at = end
        else:
            return Prolog(at, doctype)


def _doctype_end(body: bytes, start: int) -> int:
    """The end of the DOCTYPE at `start`; the end of the body where it does not end."""
    head = _DOCTYPE_HEAD.match(body, start)
    at = head.end() if head else start
    if body[at : at + 1] == b">":
        return at + 1
    subset = _SUBSET.match(body, at)
    if subset is not None and (end := _SUBSET_END.match(body, subset.end())):
        return end.end()
    return len(body)  # unterminated (or an unclosed literal): all of the rest


# ---- keys and fields -----------------------------------------------------------------


def string_field(value: Any) -> str:
    """A field's value as a stripped string: text as is, numbers spelled out, else ""."""
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


# ---- dates and durations -------------------------------------------------------------


def parse_date(value: str) -> datetime | None:
    """A feed date (RFC 822, W3C-DTF and the many variants feedparser knows) in UTC."""
    return struct_to_utc(_parse_date(value)) if value else None


def struct_to_utc(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed date (a UTC `struct_time`) as an aware datetime; None if unusable."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def ttl_seconds(value: Any) -> float | None:
    """An RSS <ttl> (minutes) in seconds; None when absent, garbled or out of range."""
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60.0 if 0 < minutes < 1e6 else None


# ---- text ----------------------------------------------------------------------------


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
        simple = simple_text(markup)
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


def simple_text(markup: str) -> str | None:
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
