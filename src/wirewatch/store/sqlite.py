"""The embedded engine: one SQLite file (WAL mode), used by one `wirewatch run` at a time
(service/pidfile.py refuses a second).

A new database file is created readable by its owner only (0600), before SQLite opens it:
SQLite gives the -wal and -shm files it creates next to it the database file's permissions,
so all three hold the stories, the outbox and its errors for the service's user alone.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wirewatch import defaults
from wirewatch.store.db import Database
from wirewatch.store.migrations import statements


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


class SqliteDatabase(Database):
    engine = "sqlite"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
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
        self._migrate()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def _begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    @property
    def schema_version(self) -> int:
        return self.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        for number, sql in statements(self.engine, since=version):
            with self.transaction():
                for statement in sql:
                    self.execute(statement)
                self.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        self.conn.close()

    def integrity_ok(self) -> bool:
        return self.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
