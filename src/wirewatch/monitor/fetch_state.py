"""What the crawler remembers about each outlet between polls (`FetchState`), and the
narrow interface it keeps that memory through (`CrawlState`).

The store implements `CrawlState`; the crawler never sees SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from wirewatch import defaults


@dataclass(slots=True)  # the crawler keeps one per outlet in memory
class FetchState:
    """Per-outlet memory: conditional-GET validators and health."""

    outlet: str
    etag: str | None = None
    last_modified: str | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    polls: int = 0
    not_modified: int = 0  # polls answered 304
    entries_seen: int = 0  # new entries, the first poll's included
    # None: the outlet has never been polled (the backfill rule applies)
    first_polled: datetime | None = None
    failed_polls: int = 0
    first_poll_entries: int = 0  # the backlog found by the first poll (not counted as a rate)
    page_failures: int = 0  # article pages that could not be fetched or read (feed text used)
    ttl_s: float | None = None  # the feed's <ttl>, remembered for polls answered 304
    last_status: int | None = None  # HTTP status of the last answer (None: no answer)
    # limits (monitor/limits.py): what they cut from a poll, e.g. entries left waiting
    limited_polls: int = 0  # polls that a limit cut something from, in total
    last_limit: str | None = None  # what limits cut from the last of them
    last_limit_at: datetime | None = None
    entries_waiting: int = 0  # new entries the last poll left unseen for the next ones

    @property
    def not_modified_ratio(self) -> float | None:
        """Share of answered polls that were 304 Not Modified."""
        answered = self.polls - self.failed_polls
        return self.not_modified / answered if answered > 0 else None

    def limited(self, limits: list[str], waiting: int, now: datetime) -> bool:
        """Record what limits cut from a poll at `now` (none: nothing); whether they did."""
        self.entries_waiting = waiting
        if not limits:
            return False
        self.limited_polls += 1
        self.last_limit, self.last_limit_at = "; ".join(limits), now
        return True

    def entries_per_day(self, now: datetime) -> float | None:
        """New entries per day since the first poll (its backlog left out)."""
        if self.first_polled is None:
            return None
        elapsed = (now - self.first_polled).total_seconds()
        if elapsed < defaults.ENTRIES_RATE_MIN_WINDOW_S:
            return None
        return (self.entries_seen - self.first_poll_entries) * 86400.0 / elapsed


class CrawlState(Protocol):
    def get_fetch_state(self, outlet: str) -> FetchState | None: ...

    def save_fetch_state(self, state: FetchState) -> None: ...

    def unseen_keys(self, outlet: str, keys: Iterable[str]) -> set[str]:
        """The entry keys of this outlet not recorded as seen yet."""
        ...

    def mark_seen(self, outlet: str, keys: Iterable[str]) -> None: ...


@dataclass(frozen=True)
class OutletHealth:
    """The figures `wirewatch outlets` shows and the metrics export, after a poll."""

    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    not_modified_ratio: float | None
    entries_per_day: float | None
    page_failures: int  # in total, since the outlet was first polled
    limited_polls: int = 0  # polls a limit cut something from, in total
    last_limit: str | None = None  # what the last of them cut
    entries_waiting: int = 0  # new entries left for the next polls by the last poll

    @classmethod
    def of(cls, state: FetchState, now: datetime) -> OutletHealth:
        return cls(
            last_success=state.last_success,
            last_error=state.last_error,
            consecutive_failures=state.consecutive_failures,
            not_modified_ratio=state.not_modified_ratio,
            entries_per_day=state.entries_per_day(now),
            page_failures=state.page_failures,
            limited_polls=state.limited_polls,
            last_limit=state.last_limit,
            entries_waiting=state.entries_waiting,
        )
