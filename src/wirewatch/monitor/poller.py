"""One poll of one outlet: feed -> new entries -> article pages -> `Article` records.

The poller never marks returned articles as seen: the caller does, once it has
stored them, so a crash between poll and store loses nothing. For the same
reason the feed's ETag/Last-Modified are only remembered from a poll that left
nothing pending: after a poll that returned articles, the next request is not
conditional on that version, so articles that were never stored come back
instead of hiding behind a 304. Entries skipped by the backfill rule on an
outlet's first poll are marked seen here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from wirewatch import defaults
from wirewatch.models import Article, FeedEntry
from wirewatch.monitor.extract import Extracted, extract_article
from wirewatch.monitor.feeds import FeedError, ParsedFeed, parse_feed
from wirewatch.monitor.fetch import CrawlerSettings, Fetcher, FetchResult
from wirewatch.monitor.robots import RobotsCache
from wirewatch.monitor.state import CrawlState, FetchState

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
BACKOFF_STATUSES = frozenset({429, 503})


class OutletSettings(Protocol):
    """The attributes of one `outlets` config entry that the poller reads."""

    name: str
    feed: str
    interval: float
    fetch_articles: bool
    backfill: float
    enabled: bool
    language: str | None  # used when the page does not say


class PollerSettings(CrawlerSettings, Protocol):
    allow_private_addresses: bool
    respect_robots: bool
    feed_max_bytes: int
    page_max_bytes: int


@dataclass
class PollResult:
    outlet: str
    status: Literal["ok", "not_modified", "error"]
    articles: list[Article] = field(default_factory=list)
    error: str | None = None
    new_entries: int = 0  # entries not seen before, including those skipped by backfill
    skipped_backfill: int = 0
    retry_after_s: float | None = None  # the outlet asked us to wait (429/503 Retry-After)
    consecutive_failures: int = 0  # after this poll


def article_id(outlet: str, key: str) -> str:
    return "a-" + hashlib.sha1(f"{outlet}\0{key}".encode()).hexdigest()[:16]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Poller:
    def __init__(
        self,
        fetcher: Fetcher,
        state: CrawlState,
        crawler_config: PollerSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        robots: RobotsCache | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.state = state
        self.config = crawler_config
        self.clock = clock or _utcnow
        self.robots = robots or RobotsCache(fetcher, crawler_config.user_agent)

    async def poll(self, outlet: OutletSettings) -> PollResult:
        """Poll `outlet` once; every failure comes back as status "error", never raised."""
        fetch_state = FetchState(outlet=outlet.name)
        try:
            fetch_state = self.state.get_fetch_state(outlet.name) or fetch_state
            return await self._poll(outlet, fetch_state)
        except Exception as exc:  # a bug or a store failure must not kill the scheduler job
            log.exception("outlet %s: poll failed", outlet.name)
            return self._failure(outlet, fetch_state, f"internal error: {exc!r}")

    async def _poll(self, outlet: OutletSettings, fetch_state: FetchState) -> PollResult:
        response = await self.fetcher.get(
            outlet.feed,
            max_bytes=self.config.feed_max_bytes,
            etag=fetch_state.etag,
            last_modified=fetch_state.last_modified,
            allow_private=True,  # the operator configured this URL
            accept=defaults.FEED_ACCEPT,
        )
        if response.error is not None:
            return self._failure(outlet, fetch_state, f"feed {outlet.feed}: {response.error}")
        if response.status == 304:
            return self._not_modified(outlet, fetch_state)
        if not 200 <= response.status < 300:
            return self._http_failure(outlet, fetch_state, response)
        try:
            feed = await asyncio.to_thread(
                parse_feed, response.body, response.final_url, response.headers.get("Content-Type")
            )
        except FeedError as exc:
            return self._failure(outlet, fetch_state, f"feed {outlet.feed}: {exc}")
        return await self._new_articles(outlet, fetch_state, feed, response)

    async def _new_articles(
        self,
        outlet: OutletSettings,
        fetch_state: FetchState,
        feed: ParsedFeed,
        response: FetchResult,
    ) -> PollResult:
        now = self.clock()
        entries = _unique(feed.entries)
        unseen = self.state.unseen_keys(outlet.name, [e.key for e in entries])
        fresh = [e for e in entries if e.key in unseen]
        first_poll = fetch_state.first_polled is None
        cutoff = now - timedelta(seconds=outlet.backfill) if first_poll else None
        old = [e for e in fresh if cutoff and e.published and e.published < cutoff]
        wanted = [e for e in fresh if e not in old]
        articles = await asyncio.gather(*(self._article(outlet, e, now) for e in wanted))
        late_old = [a for a in articles if cutoff and a.published < cutoff]
        skipped = [e.key for e in old] + [a.entry_key for a in late_old]
        if skipped:
            self.state.mark_seen(outlet.name, skipped)
        kept = sorted((a for a in articles if a not in late_old), key=lambda a: a.published)

        if not kept:  # nothing left for the caller to store: this version is done with
            fetch_state.etag = response.etag
            fetch_state.last_modified = response.last_modified
        fetch_state.entries_seen += len(fresh)
        fetch_state.first_polled = fetch_state.first_polled or now
        self._succeeded(fetch_state, now)
        return PollResult(
            outlet=outlet.name,
            status="ok",
            articles=kept,
            new_entries=len(fresh),
            skipped_backfill=len(skipped),
        )

    # ---- one entry ------------------------------------------------------------------

    async def _article(self, outlet: OutletSettings, entry: FeedEntry, now: datetime) -> Article:
        extracted = await self._page(entry) if outlet.fetch_articles else None
        if extracted is not None and len(extracted.text) < len(entry.summary):
            extracted = None  # the feed carries more of the story than the page gave us
        if extracted is not None:
            title = entry.title or extracted.title
            text, source = extracted.text, "page"
        else:
            title = entry.title
            text, source = entry.summary or entry.title, "feed"
        return Article(
            id=article_id(outlet.name, entry.key),
            outlet=outlet.name,
            title=title or entry.url or "(untitled)",
            text=text,
            published=entry.published or (extracted and extracted.published) or now,
            url=entry.url,
            language=(extracted.language if extracted else None)
            or getattr(outlet, "language", None),
            text_source=source,
            entry_key=entry.key,
        )

    async def _page(self, entry: FeedEntry) -> Extracted | None:
        """The extracted page of `entry`, or None (no link, robots.txt, fetch or extraction)."""
        if not entry.url:
            return None
        allow_private = self.config.allow_private_addresses
        if getattr(self.config, "respect_robots", True) and not await self.robots.allowed(
            entry.url, allow_private=allow_private
        ):
            log.info("robots.txt disallows %s", entry.url)
            return None
        page = await self.fetcher.get(
            entry.url,
            max_bytes=self.config.page_max_bytes,
            allow_private=allow_private,
            accept=defaults.PAGE_ACCEPT,
        )
        if not page.ok or page.status != 200:
            log.info("page %s: %s", entry.url, page.error or f"HTTP {page.status}")
            return None
        content_type = (page.headers.get("Content-Type") or "text/html").lower()
        if not content_type.startswith(HTML_TYPES):
            return None
        try:
            return await asyncio.to_thread(extract_article, page.body, page.final_url)
        except Exception:  # trafilatura on hostile markup: fall back to the feed text
            log.exception("extraction failed for %s", entry.url)
            return None

    # ---- fetch state ------------------------------------------------------------------

    def _not_modified(self, outlet: OutletSettings, fetch_state: FetchState) -> PollResult:
        now = self.clock()
        fetch_state.not_modified += 1
        fetch_state.first_polled = fetch_state.first_polled or now
        self._succeeded(fetch_state, now)
        return PollResult(outlet=outlet.name, status="not_modified")

    def _succeeded(self, fetch_state: FetchState, now: datetime) -> None:
        fetch_state.polls += 1
        fetch_state.last_success = now
        fetch_state.consecutive_failures = 0
        self.state.save_fetch_state(fetch_state)

    def _http_failure(
        self, outlet: OutletSettings, fetch_state: FetchState, response: FetchResult
    ) -> PollResult:
        message = f"feed {outlet.feed}: HTTP {response.status}"
        retry_after = response.retry_after_s if response.status in BACKOFF_STATUSES else None
        if retry_after is not None:
            message += f" (retry after {retry_after:g} s)"
        return self._failure(outlet, fetch_state, message, retry_after)

    def _failure(
        self,
        outlet: OutletSettings,
        fetch_state: FetchState,
        message: str,
        retry_after_s: float | None = None,
    ) -> PollResult:
        now = self.clock()
        fetch_state.polls += 1
        fetch_state.consecutive_failures += 1
        fetch_state.last_error = message
        fetch_state.last_error_at = now
        try:
            self.state.save_fetch_state(fetch_state)
        except Exception:
            log.exception("outlet %s: could not save fetch state", outlet.name)
        return PollResult(
            outlet=outlet.name,
            status="error",
            error=message,
            retry_after_s=retry_after_s,
            consecutive_failures=fetch_state.consecutive_failures,
        )


def _unique(entries: list[FeedEntry]) -> list[FeedEntry]:
    """First entry per key: a feed listing one item twice yields one article."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            unique.append(entry)
    return unique
