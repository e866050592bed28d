"""What one poll may cost: the monitor's own worker threads, the entries and pages a poll
takes, and the length of what an outlet writes.

- Pools: page extraction and feed parsing run in two small thread pools of their own
  (`MONITOR_WORKERS` threads each), never in the event loop's default executor that
  matching, the store and /metrics use: however slow one page or feed is, it holds a
  monitor thread, not the service. Extraction and the feedparser reading are bounded
  too (`EXTRACT_MAX_ELEMENTS`, `FEEDPARSER_MAX_BYTES`), so a thread is held seconds at
  most. A queued call whose poll is cancelled (shutdown) never runs.
- `choose_entries`: at most `FEED_MAX_NEW_ENTRIES` new entries per poll, and at most
  `PAGES_PER_HOST_PER_POLL` of them with a page on one host, newest first. The others
  are not marked seen: they wait for the next polls, which take them newest first in
  turn, so nothing is lost; only a backlog bigger than a poll's share arrives later.
- `clean`: what an outlet writes, without control characters or direction overrides
  (`util.terminal_safe`) and cut to `TITLE_MAX_CHARS` / `TEXT_MAX_CHARS`; `usable_url`:
  a link over `URL_MAX_CHARS` is no link. `read_page` is `extract_article` so cleaned.
- `Tally`: one poll's page failures and skips, and what limits cut, as `PollResult.limits`
  words it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

from wirewatch import defaults
from wirewatch.models import FeedEntry
from wirewatch.monitor.extract import Extracted, extract_article
from wirewatch.util import terminal_safe

T = TypeVar("T")

PAGES, FEEDS = "pages", "feeds"
_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def pool(name: str) -> ThreadPoolExecutor:
    """The monitor's pool `name` (PAGES: extraction, FEEDS: parsing), started on first use."""
    with _pools_lock:
        executor = _pools.get(name)
        if executor is None:
            executor = ThreadPoolExecutor(
                max_workers=defaults.MONITOR_WORKERS, thread_name_prefix=f"wirewatch-{name}"
            )
            _pools[name] = executor
        return executor


async def in_pool(name: str, function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in the monitor's pool `name` (as `asyncio.to_thread`, elsewhere)."""
    call = functools.partial(contextvars.copy_context().run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(pool(name), call)


# ---- entries per poll ---------------------------------------------------------------------


@dataclass
class Choice:
    taken: list[FeedEntry]  # newest first (feed order when every entry is taken)
    waiting: list[FeedEntry]  # left unseen for the next polls


_UNDATED = datetime.max.replace(tzinfo=UTC)  # no date: new to us (the poller dates it now)


def choose_entries(
    entries: Sequence[FeedEntry],
    *,
    pages: bool,
    max_entries: int | None = None,
    per_host: int | None = None,
) -> Choice:
    """The newest `max_entries` of `entries`, at most `per_host` with a page on one host
    (`pages`: the outlet's pages are fetched). Feed order breaks ties."""
    max_entries = max_entries or defaults.FEED_MAX_NEW_ENTRIES
    per_host = per_host or defaults.PAGES_PER_HOST_PER_POLL
    if len(entries) <= min(max_entries, per_host):  # every poll but the rare big one
        return Choice(list(entries), [])
    newest = sorted(entries, key=lambda e: e.published or _UNDATED, reverse=True)
    taken: list[FeedEntry] = []
    waiting: list[FeedEntry] = []
    hosts: Counter[str] = Counter()
    for entry in newest:
        host = _host(entry.url) if pages else None
        if len(taken) >= max_entries or (host is not None and hosts[host] >= per_host):
            waiting.append(entry)
            continue
        if host is not None:
            hosts[host] += 1
        taken.append(entry)
    return Choice(taken, waiting)


def _host(url: str | None) -> str | None:
    url = usable_url(url)
    if url is None:
        return None
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


# ---- what an outlet writes -----------------------------------------------------------------

# What `terminal_safe` removes (control characters but tab and newline, direction
# overrides and isolates, lone surrogates): text without any is returned as it is,
# without its per-character pass.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(text: str, limit: int) -> tuple[str, bool]:
    """`text` made terminal-safe and cut to `limit` characters; (text, whether it was cut)."""
    cut = len(text) > limit
    if cut:
        text = text[:limit].rstrip()
    if _UNSAFE.search(text) is not None:
        text = terminal_safe(text)
    return text, cut


def usable_url(url: str | None) -> str | None:
    """`url`, or None when it is longer than `URL_MAX_CHARS` (no page is fetched for it)."""
    return url if url is not None and len(url) <= defaults.URL_MAX_CHARS else None


def read_page(body: bytes, url: str | None) -> Extracted | None:
    """`extract_article`, its title and text cleaned and cut as an article's are; what was
    cut is in its `cut`. CPU work: run in the PAGES pool."""
    extracted = extract_article(body, url)
    if extracted is None:
        return None
    cut = [extracted.cut] if extracted.cut else []
    title, title_cut = clean(extracted.title, defaults.TITLE_MAX_CHARS)
    text, text_cut = clean(extracted.text, defaults.TEXT_MAX_CHARS)
    if title_cut:
        cut.append(f"page titles cut to {defaults.TITLE_MAX_CHARS:,} characters")
    if text_cut:
        cut.append(f"page texts cut to {defaults.TEXT_MAX_CHARS:,} characters")
    return replace(extracted, title=title, text=text, cut="; ".join(cut) or None)


@dataclass
class Tally:
    """One poll's pages (failed, skipped) and what limits cut from its entries and pages."""

    failed: int = 0  # pages that could not be fetched or read: the feed text is used
    skipped: int = 0  # pages not fetched: robots.txt, or a private address
    cut: dict[str, int] = field(default_factory=dict)  # what was cut -> how many times

    def count(self, what: str) -> None:
        self.cut[what] = self.cut.get(what, 0) + 1

    def clean(self, text: str, limit: int, what: str) -> str:
        """`clean(text, limit)`, counting a cut."""
        text, cut = clean(text, limit)
        if cut:
            self.count(f"{what}s cut to {limit:,} characters")
        return text

    def url(self, url: str | None) -> str | None:
        """`usable_url(url)`, counting a link left out."""
        usable = usable_url(url)
        if usable is None and url:
            self.count(f"links over {defaults.URL_MAX_CHARS:,} characters left out")
        return usable

    def page(self, extracted: Extracted) -> None:
        """Count what the page budget and `read_page` cut from `extracted`."""
        for what in (extracted.cut or "").split("; "):
            if what:
                self.count(what)

    def limits(self, document_cut: str | None, waiting: int) -> list[str]:
        """What limits cut from the poll: the feed, the entries left waiting, the rest."""
        limits = [document_cut] if document_cut else []
        if waiting:
            limits.append(
                f"{waiting:,} new entries wait for the next polls (a poll takes "
                f"{defaults.FEED_MAX_NEW_ENTRIES}, {defaults.PAGES_PER_HOST_PER_POLL} pages "
                "per host)"
            )
        return limits + [f"{what}: {count:,}" for what, count in self.cut.items()]
