"""JSON Feed documents (https://jsonfeed.org), which feedparser does not read, parsed with `json`.

`looks_like_json` tells a JSON body from an XML one; `parse_json_feed` builds its entries.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds.entries import (
    BuiltDocument,
    FeedError,
    entry_key,
    has_content,
    string_field,
    text_of,
)
from wirewatch.monitor.urls import canonicalize_url

JSONFEED_VERSION_PREFIX = "https://jsonfeed.org/version/"

_FIRST_NON_BLANK = re.compile(rb"[^\xef\xbb\xbf \t\r\n]")  # after a BOM and whitespace


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    """The body decides when it can (servers mislabel feeds); the Content-Type otherwise."""
    first = _FIRST_NON_BLANK.search(body)
    head = first.group() if first else b""
    if head in (b"{", b"<"):
        return head == b"{"
    return bool(content_type and "json" in content_type.lower())


def parse_json_feed(body: bytes, url: str) -> BuiltDocument:
    """Every entry of a JSON Feed document; raises `FeedError` only."""
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
    base = string_field(document.get("feed_url")) or url
    entries = [
        entry
        for item in items
        if isinstance(item, dict) and has_content(entry := _json_entry(item, base))
    ]
    return BuiltDocument(text_of(string_field(document.get("title"))), None, "json", entries)


def _json_entry(item: dict[str, Any], base: str) -> FeedEntry:
    link = None
    for field in ("url", "external_url"):
        if (value := string_field(item.get(field))) and (link := canonicalize_url(value, base)):
            break
    title = text_of(string_field(item.get("title")))
    summary = text_of(
        string_field(item.get("summary"))
        or string_field(item.get("content_text"))
        or string_field(item.get("content_html"))
    )
    published = _iso_to_utc(
        string_field(item.get("date_published")) or string_field(item.get("date_modified"))
    )
    key = entry_key(string_field(item.get("id")), link, title, summary)
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
