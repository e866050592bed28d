"""Crawl state: each outlet's fetch state and the feed entries already seen.

The crawler's `CrawlState` (monitor/fetch_state.py) is this repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wirewatch.monitor.fetch_state import FetchState
from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow

_FETCH_STATE_COLUMNS = (
    "outlet",
    "etag",
    "last_modified",
    "last_success",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "polls",
    "not_modified",
    "entries_seen",
    "first_polled",
    "failed_polls",
    "first_poll_entries",
    "page_failures",
    "ttl_s",
    "last_status",
    "limited_polls",
    "last_limit",
    "last_limit_at",
    "entries_waiting",
)

_FETCH_STATE_TIMES = frozenset({"last_success", "last_error_at", "first_polled", "last_limit_at"})


_UPSERT_FETCH_STATE = "ON CONFLICT (outlet) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in _FETCH_STATE_COLUMNS[1:]
)


def _fetch_state(row: Any) -> FetchState:
    values = {
        name: from_iso(row[name]) if name in _FETCH_STATE_TIMES else row[name]
        for name in _FETCH_STATE_COLUMNS
    }
    return FetchState(**values)


def _fetch_state_row(state: FetchState) -> tuple:
    """The row of `state` in `_FETCH_STATE_COLUMNS` order (written out: the crawler's hot path)."""
    return (
        state.outlet,
        state.etag,
        state.last_modified,
        iso(state.last_success),
        state.last_error,
        iso(state.last_error_at),
        state.consecutive_failures,
        state.polls,
        state.not_modified,
        state.entries_seen,
        iso(state.first_polled),
        state.failed_polls,
        state.first_poll_entries,
        state.page_failures,
        state.ttl_s,
        state.last_status,
        state.limited_polls,
        state.last_limit,
        iso(state.last_limit_at),
        state.entries_waiting,
    )


# what a poll answered 304 changes in a fetch state (see `Store.save_poll_counts`)
_POLL_COUNT_COLUMNS = (
    "last_success",
    "consecutive_failures",
    "polls",
    "not_modified",
    "first_polled",
    "last_status",
)

_UPDATE_POLL_COUNTS = (
    "UPDATE fetch_state SET "
    + ", ".join(f"{name} = ?" for name in _POLL_COUNT_COLUMNS)
    + " WHERE outlet = ?"
)


def _poll_count_row(state: FetchState) -> tuple:
    """The parameters of `_UPDATE_POLL_COUNTS` for `state`."""
    return (
        iso(state.last_success),
        state.consecutive_failures,
        state.polls,
        state.not_modified,
        iso(state.first_polled),
        state.last_status,
        state.outlet,
    )


class CrawlRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_fetch_state(self, outlet: str) -> FetchState | None:
        row = self.db.execute("SELECT * FROM fetch_state WHERE outlet = ?", (outlet,)).fetchone()
        return None if row is None else _fetch_state(row)

    def save_fetch_state(self, state: FetchState) -> None:
        self.save_fetch_states([state])

    def save_fetch_states(self, states: Iterable[FetchState]) -> None:
        """Write many outlets' fetch state at once (one transaction: the crawler batches)."""
        rows = [_fetch_state_row(state) for state in states]
        if not rows:
            return
        names = ", ".join(_FETCH_STATE_COLUMNS)
        marks = ", ".join("?" * len(_FETCH_STATE_COLUMNS))
        sql = f"INSERT INTO fetch_state ({names}) VALUES ({marks}) {_UPSERT_FETCH_STATE}"
        with self.db.transaction():
            self.db.executemany(sql, rows)

    def save_poll_counts(self, states: Iterable[FetchState]) -> None:
        """Write only what a poll answered 304 changes (`_POLL_COUNT_COLUMNS`), in one
        transaction; the whole row of an outlet that has none in the store yet."""
        states = list(states)
        if not states:
            return
        rows = [_poll_count_row(state) for state in states]
        with self.db.transaction():
            updated = self.db.executemany(_UPDATE_POLL_COUNTS, rows).rowcount
            if updated != len(rows):  # some outlets have no row yet: write theirs in full
                self.save_fetch_states(states)

    def all_fetch_states(self) -> list[FetchState]:
        rows = self.db.execute("SELECT * FROM fetch_state ORDER BY outlet").fetchall()
        return [_fetch_state(row) for row in rows]

    def unseen_keys(self, outlet: str, keys: Iterable[str]) -> set[str]:
        keys = set(keys)
        if not keys:
            return set()
        seen: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            seen.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT key FROM seen_entries WHERE outlet = ? AND key IN ({marks})",
                    (outlet, *chunk),
                )
            )
        return keys - seen

    def mark_seen(self, outlet: str, keys: Iterable[str]) -> None:
        now = iso(utcnow())
        self.db.executemany(
            "INSERT INTO seen_entries VALUES (?,?,?) ON CONFLICT DO NOTHING",
            [(outlet, key, now) for key in keys if key],
        )
