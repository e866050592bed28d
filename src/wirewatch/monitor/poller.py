"""One poll of one outlet: feed -> new entries -> article pages -> `Article` records.

The poller never marks returned articles as seen: the caller does, once it has stored
them, so a crash between poll and store loses nothing. For the same reason the
ETag/Last-Modified of a feed version that yielded articles are held back ("pending") and
only used once the caller has stored every one of them: the next poll checks that (one
small query), and sends them only then. A poll whose articles were not stored asks for
the feed unconditionally, so they come back instead of hiding behind a 304.

What costs nothing when nothing changed:
- a 304 is not parsed, and neither is a 200 whose body is byte-for-byte the one
  last read in full (servers that ignore conditional requests);
- a changed feed is parsed once, and only its item elements not read before (the
  fast path remembers a digest of each item's bytes whose entry is settled); their
  keys are checked against the store and only the new entries are built;
- fetch state lives in memory and is written to the store in batches (`FETCH_STATE_FLUSH_S`,
  `flush()`; the scheduler flushes when it stops); of an outlet whose polls since the last
  batch were all 304s, only the poll counts.

New outlets: on the first poll, entries older than the outlet's `backfill` or with no date
(age unknown) are recorded as seen and not returned: a new outlet's backlog is no alert.

Limits (`monitor/limits.py`): a poll takes at most `FEED_MAX_NEW_ENTRIES` new entries,
`PAGES_PER_HOST_PER_POLL` per host, newest first; the others stay unseen and the feed
version unsettled (no validators, no "same body"), so the next polls take them in turn.
What limits cut is in `PollResult.limits`, the log and the outlet's `FetchState`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from wirewatch import defaults
from wirewatch.models import Article, FeedEntry
from wirewatch.monitor.extract import Extracted
from wirewatch.monitor.feeds import FeedDocument, FeedError, KnownItems, read_feed
from wirewatch.monitor.fetch import CrawlerSettings, Fetcher, FetchResult
from wirewatch.monitor.fetch_state import CrawlState, FetchState, OutletHealth
from wirewatch.monitor.limits import FEEDS, PAGES, Tally, choose_entries, in_pool, read_page
from wirewatch.monitor.robots import RobotsCache
from wirewatch.util import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

HTML_TYPES = ("text/html", "application/xhtml+xml")
BACKOFF_STATUSES = frozenset({429, 503})
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)\b", re.IGNORECASE)


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
    # the feed asks not to be polled more often than this (<ttl>, Cache-Control max-age)
    min_interval_s: float | None = None
    page_failures: int = 0  # article pages that failed; their articles carry the feed text
    pages_skipped: int = 0  # pages not fetched: robots.txt, or a private address
    entries_waiting: int = 0  # new entries left unseen for the next polls (limits)
    limits: list[str] = field(default_factory=list)  # what limits cut from this poll
    http_status: int | None = None
    health: OutletHealth | None = None


def article_id(outlet: str, key: str) -> str:
    return "a-" + hashlib.sha1(f"{outlet}\0{key}".encode()).hexdigest()[:16]


def _digest(body: bytes) -> tuple[int, int]:
    """Identity of a body for "same as last time" (64-bit SipHash and the length)."""
    return (hash(body), len(body))


@dataclass
class _Pending:
    """Validators of a feed version whose articles the caller has not confirmed yet."""

    etag: str | None
    last_modified: str | None
    digest: tuple[int, int] | None  # None: entries were left waiting, read it again
    keys: list[str]
    known: KnownItems | None  # item chunks settled once `keys` are


class Poller:
    def __init__(
        self,
        fetcher: Fetcher,
        state: CrawlState,
        crawler_config: PollerSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        robots: RobotsCache | None = None,
        state_flush_s: float = defaults.FETCH_STATE_FLUSH_S,
    ) -> None:
        self.fetcher = fetcher
        self.state = state
        self.config = crawler_config
        self.clock = clock or utcnow
        self.robots = robots or RobotsCache(fetcher, crawler_config.user_agent)
        self.state_flush_s = state_flush_s
        self._states: dict[str, FetchState] = {}
        self._dirty: dict[str, FetchState] = {}  # unsaved: the whole row
        self._counted: dict[str, FetchState] = {}  # unsaved: only the poll counts (304s)
        self._flushed_at = time.monotonic()
        self._pending: dict[str, _Pending] = {}
        self._settled: dict[str, tuple[int, int]] = {}  # body digest read in full
        self._known: dict[str, KnownItems] = {}  # item chunks read and settled, per outlet
        self._backfilling: set[str] = set()  # new outlets whose backlog is not all read yet
        # polls at once (a fetched feed waits for its parse): not ten thousand bodies in memory
        concurrency = getattr(crawler_config, "concurrency", defaults.GLOBAL_CONCURRENCY)
        self.concurrency = max(1, concurrency)
        self._polls = asyncio.Semaphore(self.concurrency)

    async def poll(self, outlet: OutletSettings) -> PollResult:
        """Poll `outlet` once; every failure comes back as status "error", never raised."""
        result = await self.poll_if(outlet, None)
        assert result is not None
        return result

    async def poll_if(
        self, outlet: OutletSettings, go: Callable[[], bool] | None
    ) -> PollResult | None:
        """`poll`, but first `go()` is asked, once one of the `concurrency` polls at once is
        free, just before the request: False skips the poll (None). A lease taken there is
        taken when the request goes out, not seconds before it while polls queue."""
        fetch_state: FetchState | None = None
        try:
            async with self._polls:
                if go is not None and not go():
                    return None
                fetch_state = self._state_of(outlet.name)
                return await self._poll(outlet, fetch_state)
        except Exception as exc:  # a bug or a store failure must not kill the scheduler job
            log.exception("outlet %s: poll failed", outlet.name)
            fetch_state = fetch_state or FetchState(outlet=outlet.name)
            return self._failure(outlet, fetch_state, f"internal error: {exc!r}")
        finally:
            self._maybe_flush()

    # ---- fetch state in memory, written in batches -----------------------------------

    def _state_of(self, outlet: str) -> FetchState:
        state = self._states.get(outlet)
        if state is None:
            state = self.state.get_fetch_state(outlet) or FetchState(outlet=outlet)
            self._states[outlet] = state
        return state

    def forget(self, outlet: str) -> None:
        """Read the outlet's fetch state from the store again (another instance polled it)."""
        self._states.pop(outlet, None)

    def _changed(self, state: FetchState) -> None:
        """`state` must be written to the store in full at the next flush."""
        self._dirty[state.outlet] = state
        self._counted.pop(state.outlet, None)

    def _counts_changed(self, state: FetchState) -> None:
        """Only the poll counts of `state` changed (a 304): a smaller write will do."""
        if state.outlet not in self._dirty:
            self._counted[state.outlet] = state

    def _maybe_flush(self) -> None:
        """Flush every `state_flush_s`, or sooner when many whole rows are waiting.

        Poll counts alone (304s) wait for the timed flush: between two flushes an
        outlet's row is written once, however often it was polled.
        """
        if not (self._dirty or self._counted):
            return
        due = time.monotonic() - self._flushed_at >= self.state_flush_s
        if (
            due
            or len(self._dirty) >= defaults.FETCH_STATE_FLUSH_MAX
            or len(self._counted) >= defaults.POLL_COUNTS_FLUSH_MAX
        ):
            self.flush()

    def flush(self) -> None:
        """Write every unsaved fetch state to the store; never raises (logged)."""
        whole, self._dirty = list(self._dirty.values()), {}
        counted, self._counted = list(self._counted.values()), {}
        self._flushed_at = time.monotonic()
        if not whole and not counted:
            return
        try:
            self._save(whole, counted)
        except Exception:
            log.exception("could not save the fetch state of %d outlets", len(whole + counted))
            for state in whole + counted:  # try again at the next flush, in full
                self._dirty.setdefault(state.outlet, state)

    def _save(self, whole: list[FetchState], counted: list[FetchState]) -> None:
        save_counts = getattr(self.state, "save_poll_counts", None)
        if save_counts is None:  # a CrawlState without the smaller write
            whole, counted = whole + counted, []
        save_many = getattr(self.state, "save_fetch_states", None)
        if save_many is not None:
            if whole:
                save_many(whole)
        else:
            for state in whole:
                self.state.save_fetch_state(state)
        if counted:
            save_counts(counted)

    # ---- one poll ---------------------------------------------------------------------

    async def _poll(self, outlet: OutletSettings, fetch_state: FetchState) -> PollResult:
        self._settle_pending(outlet.name, fetch_state)
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
        fetch_state.last_status = response.status
        if response.status == 304:
            return self._not_modified(outlet, fetch_state, response)
        if not 200 <= response.status < 300:
            return self._http_failure(outlet, fetch_state, response)
        digest = _digest(response.body)
        if self._settled.get(outlet.name) == digest:  # the very body read in full last time
            return self._unchanged(outlet, fetch_state, response)
        known = self._known.get(outlet.name)
        arguments = (response.body, response.final_url, response.headers.get("Content-Type"))
        try:
            if known is not None and len(response.body) <= defaults.INLINE_FEED_BYTES:
                document = read_feed(*arguments, known)  # a few new items: cheaper than a thread
            else:
                document = await in_pool(FEEDS, read_feed, *arguments, known)
        except FeedError as exc:
            return self._failure(outlet, fetch_state, f"feed {outlet.feed}: {exc}")
        return await self._new_articles(outlet, fetch_state, document, response, digest)

    def _settle_pending(self, outlet: str, fetch_state: FetchState) -> None:
        """Use the held-back validators once every article they came with is stored."""
        pending = self._pending.pop(outlet, None)
        if pending is None or self.state.unseen_keys(outlet, pending.keys):
            return
        fetch_state.etag, fetch_state.last_modified = pending.etag, pending.last_modified
        if pending.digest is not None:
            self._settled[outlet] = pending.digest
        if pending.known is not None:
            self._known[outlet] = pending.known
        self._changed(fetch_state)

    async def _new_articles(
        self,
        outlet: OutletSettings,
        fetch_state: FetchState,
        document: FeedDocument,
        response: FetchResult,
        digest: tuple[int, int],
    ) -> PollResult:
        now = self.clock()
        unseen = self.state.unseen_keys(outlet.name, document.keys())
        fresh = _unique(await _entries(document, unseen)) if unseen else []
        first_poll = fetch_state.first_polled is None
        # the backfill rule holds on a new outlet until its backlog is read (limits)
        backfill = first_poll or outlet.name in self._backfilling
        wanted, backlog = _split(fresh, lambda e: backfill and _is_backlog(e, now, outlet.backfill))
        choice = choose_entries(wanted, pages=outlet.fetch_articles)
        pages = Tally()
        articles = await self._articles(outlet, choice.taken, now, pages)
        cutoff = now - timedelta(seconds=outlet.backfill)
        kept, late_old = _split(articles, lambda a: backfill and a.published < cutoff)  # page dates
        skipped = [e.key for e in backlog] + [a.entry_key for a in late_old]
        if skipped:
            self.state.mark_seen(outlet.name, skipped)
        kept.sort(key=lambda a: a.published)
        waiting = len(choice.waiting)
        if backfill and waiting:
            self._backfilling.add(outlet.name)
        else:
            self._backfilling.discard(outlet.name)

        if kept:  # hold the validators back until the caller has stored these
            # Until then the item chunks known before stay: should the caller not store
            # these articles, the next poll reads their items again (and only those).
            keys = [a.entry_key for a in kept]
            if waiting:  # entries left for the next polls: this version is read again
                pending = _Pending(None, None, None, keys, self._known.get(outlet.name))
            else:
                pending = _Pending(
                    response.etag, response.last_modified, digest, keys, _known(document)
                )
            self._pending[outlet.name] = pending
            self._settled.pop(outlet.name, None)
        elif waiting:  # nothing to store, entries left: ask for the feed unconditionally
            fetch_state.etag = fetch_state.last_modified = None
            self._settled.pop(outlet.name, None)
        else:  # nothing left for the caller to store: this version is done with
            fetch_state.etag = response.etag
            fetch_state.last_modified = response.last_modified
            self._settled[outlet.name] = digest
            self._remember_items(outlet.name, document)
        taken = len(fresh) - waiting
        fetch_state.entries_seen += taken
        if backfill:  # the backlog, however many polls it takes, is not a rate
            before = 0 if first_poll else fetch_state.first_poll_entries
            fetch_state.first_poll_entries = before + taken
        fetch_state.ttl_s = document.ttl_s
        fetch_state.page_failures += pages.failed
        limits = pages.limits(getattr(document, "cut", None), waiting)
        if fetch_state.limited(limits, waiting, now):
            log.warning("outlet %s: %s", outlet.name, fetch_state.last_limit)
        self._succeeded(fetch_state, now)
        return PollResult(
            outlet=outlet.name,
            status="ok",
            articles=kept,
            new_entries=taken,
            skipped_backfill=len(skipped),
            min_interval_s=self._traffic_hint(outlet, fetch_state, response),
            page_failures=pages.failed,
            pages_skipped=pages.skipped,
            entries_waiting=waiting,
            limits=limits,
            http_status=response.status,
            health=OutletHealth.of(fetch_state, now),
        )

    def _remember_items(self, outlet: str, document: FeedDocument) -> None:
        """Item chunks of this body, whose entries are all settled: not read again next time."""
        known = _known(document)
        if known is None:
            self._known.pop(outlet, None)
        else:
            self._known[outlet] = known

    # ---- one entry ------------------------------------------------------------------

    async def _articles(
        self, outlet: OutletSettings, entries: list[FeedEntry], now: datetime, pages: Tally
    ) -> list[Article]:
        """The entries' articles, in order: their pages fetched side by side, or, from the
        feed's text alone, built one after the other (nothing to wait for: no task each)."""
        if outlet.fetch_articles:
            return list(
                await asyncio.gather(*(self._article(outlet, e, now, pages) for e in entries))
            )
        return [await self._article(outlet, e, now, pages) for e in entries]

    async def _article(
        self, outlet: OutletSettings, entry: FeedEntry, now: datetime, pages: Tally
    ) -> Article:
        title = pages.clean(entry.title, defaults.TITLE_MAX_CHARS, "title")
        summary = pages.clean(entry.summary, defaults.TEXT_MAX_CHARS, "feed text")
        url = pages.url(entry.url)
        extracted = await self._page(url, pages) if outlet.fetch_articles else None
        if extracted is not None and len(extracted.text) < len(summary):
            extracted = None  # the feed carries more of the story than the page gave us
        if extracted is not None:
            title = title or extracted.title
            text, source = extracted.text, "page"
        else:
            text, source = summary or title, "feed"
        return Article(
            id=article_id(outlet.name, entry.key),
            outlet=outlet.name,
            title=title or url or "(untitled)",
            text=text,
            published=entry.published or (extracted and extracted.published) or now,
            url=url,
            language=(extracted.language if extracted else None)
            or getattr(outlet, "language", None),
            text_source=source,
            entry_key=entry.key,
        )

    async def _page(self, url: str | None, pages: Tally) -> Extracted | None:
        """The extracted page at `url`, or None (no link, robots.txt, fetch or extraction)."""
        if not url:
            return None
        allow_private = self.config.allow_private_addresses
        respect_robots = getattr(self.config, "respect_robots", defaults.RESPECT_ROBOTS)
        if respect_robots and not await self.robots.allowed(url, allow_private=allow_private):
            log.info("robots.txt disallows %s", url)
            pages.skipped += 1
            return None
        page = await self.fetcher.get(
            url,
            max_bytes=self.config.page_max_bytes,
            allow_private=allow_private,
            accept=defaults.PAGE_ACCEPT,
        )
        if page.error is not None and page.error.startswith("refused:"):
            log.info("page %s: %s", url, page.error)
            pages.skipped += 1
            return None
        extracted = await self._extract(url, page)
        if extracted is None:
            pages.failed += 1
        else:
            pages.page(extracted)
        return extracted

    async def _extract(self, url: str, page: FetchResult) -> Extracted | None:
        if not page.ok or page.status != 200:
            log.info("page %s: %s", url, page.error or f"HTTP {page.status}")
            return None
        content_type = (page.headers.get("Content-Type") or "text/html").lower()
        if not content_type.startswith(HTML_TYPES):
            log.info("page %s: not HTML (%s)", url, content_type)
            return None
        try:
            extracted = await in_pool(PAGES, read_page, page.body, page.final_url)
        except Exception:  # trafilatura on hostile markup: fall back to the feed text
            log.exception("extraction failed for %s", url)
            return None
        if extracted is None:
            log.info("page %s: no article text found", url)
        return extracted

    # ---- fetch state ------------------------------------------------------------------

    def _not_modified(
        self, outlet: OutletSettings, fetch_state: FetchState, response: FetchResult
    ) -> PollResult:
        now = self.clock()
        fetch_state.not_modified += 1
        self._succeeded(fetch_state, now, whole_row=False)
        return PollResult(
            outlet=outlet.name,
            status="not_modified",
            min_interval_s=self._traffic_hint(outlet, fetch_state, response),
            http_status=304,
            health=OutletHealth.of(fetch_state, now),
        )

    def _unchanged(
        self, outlet: OutletSettings, fetch_state: FetchState, response: FetchResult
    ) -> PollResult:
        """A 200 with the body already read in full: nothing can be new."""
        now = self.clock()
        fetch_state.etag = response.etag
        fetch_state.last_modified = response.last_modified
        self._succeeded(fetch_state, now)
        return PollResult(
            outlet=outlet.name,
            status="ok",
            min_interval_s=self._traffic_hint(outlet, fetch_state, response),
            http_status=response.status,
            health=OutletHealth.of(fetch_state, now),
        )

    def _traffic_hint(
        self, outlet: OutletSettings, fetch_state: FetchState, response: FetchResult
    ) -> float | None:
        """How long the outlet asks us to wait, when that is longer than its interval."""
        cache_control = response.headers.get("Cache-Control")
        if fetch_state.ttl_s is None and cache_control is None:  # most answers: no hint
            return None
        hints = [fetch_state.ttl_s, cache_max_age(cache_control)]
        longest = max((h for h in hints if h is not None), default=None)
        if longest is None or longest <= outlet.interval:
            return None
        return min(longest, max(defaults.FEED_HINT_MAX_S, outlet.interval))

    def _succeeded(self, fetch_state: FetchState, now: datetime, *, whole_row: bool = True) -> None:
        """Count a successful poll; `whole_row=False`: nothing but the poll counts changed."""
        fetch_state.polls += 1
        fetch_state.last_success = now
        fetch_state.consecutive_failures = 0
        fetch_state.first_polled = fetch_state.first_polled or now
        if whole_row:
            self._changed(fetch_state)
        else:
            self._counts_changed(fetch_state)

    def _http_failure(
        self, outlet: OutletSettings, fetch_state: FetchState, response: FetchResult
    ) -> PollResult:
        message = f"feed {outlet.feed}: HTTP {response.status}"
        retry_after = response.retry_after_s if response.status in BACKOFF_STATUSES else None
        if retry_after is not None:
            message += f" (retry after {retry_after:g} s)"
        return self._failure(outlet, fetch_state, message, retry_after, response.status)

    def _failure(
        self,
        outlet: OutletSettings,
        fetch_state: FetchState,
        message: str,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> PollResult:
        now = self.clock()
        fetch_state.polls += 1
        fetch_state.failed_polls += 1
        fetch_state.consecutive_failures += 1
        fetch_state.last_error = message
        fetch_state.last_error_at = now
        fetch_state.last_status = status
        self._changed(fetch_state)
        return PollResult(
            outlet=outlet.name,
            status="error",
            error=message,
            retry_after_s=retry_after_s,
            consecutive_failures=fetch_state.consecutive_failures,
            http_status=status,
            health=OutletHealth.of(fetch_state, now),
        )


def cache_max_age(value: str | None) -> float | None:
    """Seconds from `Cache-Control: max-age=N` (None with no-cache/no-store or none given)."""
    if not value or _NO_CACHE.search(value):
        return None
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def _known(document: FeedDocument) -> KnownItems | None:
    """The document's item chunks, for reading its next version (None: not chunked)."""
    chunks = getattr(document, "chunks", None)
    if chunks is None:
        return None
    return KnownItems.of(chunks.context, chunks.digests)


async def _entries(document: FeedDocument, keys: set[str]) -> list[FeedEntry]:
    """The entries of `keys`: built here when few, in a thread when many (CPU work)."""
    if len(keys) <= defaults.FEW_ENTRIES:
        return document.entries(keys)
    return await in_pool(FEEDS, document.entries, keys)


def _is_backlog(entry: FeedEntry, now: datetime, backfill_s: float) -> bool:
    """On a new outlet's first poll: older than `backfill`, or of unknown age."""
    return entry.published is None or entry.published < now - timedelta(seconds=backfill_s)


def _split(items: list[T], moved: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """(the items `moved` is false for, those it is true for), each in order."""
    kept: list[T] = []
    out: list[T] = []
    for item in items:
        (out if moved(item) else kept).append(item)
    return kept, out


def _unique(entries: list[FeedEntry]) -> list[FeedEntry]:
    """First entry per key: a feed listing one item twice yields one article."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            unique.append(entry)
    return unique
