"""What the crawler needs to remember between polls, and the narrow interface it uses to do so.

The store implements `CrawlState`; the crawler never sees SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass
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
    entries_seen: int = 0
    # None: the outlet has never been polled (the backfill rule applies)
    first_polled: datetime | None = None


class CrawlState(Protocol):
    def get_fetch_state(self, outlet: str) -> FetchState | None: ...

    def save_fetch_state(self, state: FetchState) -> None: ...

    def unseen_keys(self, outlet: str, keys: Iterable[str]) -> set[str]:
        """The entry keys of this outlet not recorded as seen yet."""
        ...

    def mark_seen(self, outlet: str, keys: Iterable[str]) -> None: ...
