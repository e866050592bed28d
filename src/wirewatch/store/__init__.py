"""Persistence: one database, one repository per concern, all sharing one transaction.

    store.crawl      fetch state and seen feed entries       (store/crawl.py)
    store.articles   articles and every watch's decision     (store/articles.py)
    store.stories    stories and their sources               (store/stories.py)
    store.outbox     queued alerts, receivers' story ids     (store/outbox.py)
    store.silences   silences as stored                      (store/silences.py)
    store.decisions  the decisions log                       (store/decisions.py)
    store.feedback   the team's judgements of articles       (store/feedback.py)
    store.leases     outlets leased, digests fired           (store/leases.py)
    store.queue      polled articles waiting for an instance  (store/queue.py, PostgreSQL)

Two engines behind one interface (store/db.py): SQLite (store/sqlite.py, the default, one
instance) and PostgreSQL (store/postgres.py, several instances). `Store(target)` opens a
SQLite file path or a `postgresql://` URL. `with store.transaction():` makes the writes of
several repositories one commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wirewatch.store.articles import ArticleRepository
from wirewatch.store.crawl import CrawlRepository
from wirewatch.store.db import Database
from wirewatch.store.decisions import DecisionRepository
from wirewatch.store.feedback import FeedbackRepository, Judgement
from wirewatch.store.leases import LeaseRepository
from wirewatch.store.outbox import OutboxRepository, OutboxRow
from wirewatch.store.queue import ArticleQueueRepository
from wirewatch.store.silences import Silence, SilenceRepository
from wirewatch.store.sqlite import SqliteDatabase
from wirewatch.store.stories import OpenStory, StoryRepository

__all__ = ["Judgement", "OpenStory", "OutboxRow", "Silence", "Store", "connect"]

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def connect(target: str | Path) -> Database:
    """The engine for `target`: a `postgresql://` URL, else a SQLite file (or ":memory:")."""
    if isinstance(target, str) and target.startswith(POSTGRESQL_SCHEMES):
        from wirewatch.store.postgres import PostgresDatabase  # psycopg only when used

        return PostgresDatabase(target)
    return SqliteDatabase(target)


class Store:
    def __init__(self, target: str | Path) -> None:
        self.db = db = connect(target)
        self.crawl = CrawlRepository(db)
        self.articles = ArticleRepository(db)
        self.stories = StoryRepository(db)
        self.outbox = OutboxRepository(db)
        self.silences = SilenceRepository(db)
        self.decisions = DecisionRepository(db)
        self.leases = LeaseRepository(db)
        self.feedback = FeedbackRepository(db)
        self.queue = ArticleQueueRepository(db)

    # the database's own interface, for callers holding the store
    @property
    def engine(self) -> str:
        return self.db.engine

    @property
    def shared(self) -> bool:
        return self.db.shared

    @property
    def path(self) -> str:
        return self.db.path

    @property
    def schema_version(self) -> int:
        return self.db.schema_version

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        return self.db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        with self.db.transaction() as db:
            yield db

    def reachable(self) -> bool:
        return self.db.reachable()

    def integrity_ok(self) -> bool:
        return self.db.integrity_ok()

    def count(self, table: str) -> int:
        return self.db.count(table)

    def close(self) -> None:
        self.db.close()

    @property
    def conn(self) -> Any:
        return self.db.conn  # type: ignore[attr-defined]

    @conn.setter
    def conn(self, value: Any) -> None:
        self.db.conn = value  # type: ignore[attr-defined]
