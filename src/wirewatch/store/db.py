"""The SQLite connection: WAL mode, one transaction at a time, the schema migrated on open.

One connection, used from one thread; every call is short. Writes that belong together
(an article, its matches, its story and its alerts) go through `transaction()`, so a
crash leaves either all of them or none. Times are stored as ISO 8601 text in UTC.

A new database file is created readable by its owner only (0600), before SQLite opens it:
SQLite gives the -wal and -shm files it creates next to it the database file's permissions,
so all three hold the stories, the outbox and its errors for the service's user alone.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wirewatch import defaults
from wirewatch.store.migrations import MIGRATIONS


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # times in UTC already (the crawler's, on its hot path) skip the conversion
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def create_private(path: str) -> None:
    """Create the database file empty and 0600 unless it exists (SQLite reads an empty file
    as a new database); a symbolic link to a file that does not exist yet is not followed."""
    try:
        fd = os.open(
            path,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            defaults.PRIVATE_FILE_MODE,
        )
    except FileExistsError:
        return  # an existing database keeps the permissions its owner gave it
    os.close(fd)


class Database:
    def __init__(self, path: str | Path) -> None:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            create_private(path)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._migrate()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    @property
    def schema_version(self) -> int:
        return self.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.execute(statement)
                self.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        self.conn.close()

    def reachable(self) -> bool:
        """The database answers a query (what /healthz asks)."""
        try:
            self.execute("SELECT 1").fetchone()
        except Exception:
            return False
        return True

    def integrity_ok(self) -> bool:
        return self.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def count(self, table: str) -> int:
        assert table.isidentifier()
        return self.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
