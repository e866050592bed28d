"""The shared engine: PostgreSQL through psycopg 3, for several `wirewatch run` processes
on one database.

The repositories' SQL (written once, `?` placeholders) runs here as it is, its placeholders
turned into psycopg's `%s`. The connection is in autocommit mode: a statement outside
`transaction()` commits at once, as in SQLite; `transaction()` is BEGIN … COMMIT at READ
COMMITTED, so a statement run after taking a `lock` sees everything the lock's previous
holder committed. `lock(key)` is `pg_advisory_xact_lock`, released at commit or rollback,
also when the process dies; rows are claimed `FOR UPDATE SKIP LOCKED`.

Migrations run under an advisory lock, so instances started together migrate once.

A connection the server dropped (a restart, a failover, an idle timeout) is opened again by
the next statement outside a transaction; a transaction it broke fails as a whole (the server
rolled it back), and whoever retries that work gets the new connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg

from wirewatch.store.db import Database
from wirewatch.store.migrations import statements

_MIGRATION_LOCK = "wirewatch:schema"


class Row(tuple):
    """A row readable by position and by column name, like `sqlite3.Row`."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


@lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """`?` → `%s` (a literal `%` doubled); none of the store's literals holds a `?`."""
    return sql.replace("%", "%%").replace("?", "%s")


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for `key` (the same in every instance)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class PostgresDatabase(Database):
    engine = "postgresql"
    shared = True
    for_update = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.path = redact_url(url)
        self.conn = self._connect()
        self._migrate()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, row_factory=_rows)

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, opened again if the server dropped it (not inside a transaction:
        that one is lost with the connection, and must fail)."""
        if self.conn.broken and not self.in_transaction:
            self.conn.close()
            self.conn = self._connect()
        return self.conn

    def execute(self, sql: str, params: Iterable[Any] = ()) -> psycopg.Cursor[Any] | None:
        if sql == "ROLLBACK" and self.conn.broken:
            return None  # the server rolled the transaction back when the connection went
        return self._live().execute(placeholders(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> psycopg.Cursor[Any]:
        cursor = self._live().cursor()
        cursor.executemany(placeholders(sql), [tuple(row) for row in rows])
        return cursor

    def _begin(self) -> None:
        self.execute("BEGIN")

    def lock(self, key: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_id(key),))

    @property
    def schema_version(self) -> int:
        row = self.execute("SELECT to_regclass('wirewatch_schema')").fetchone()
        if row[0] is None:
            return 0
        return self.execute("SELECT version FROM wirewatch_schema").fetchone()[0]

    def _migrate(self) -> None:
        with self.transaction():
            self.lock(_MIGRATION_LOCK)
            version = self.schema_version
            if version == 0:
                self.execute("CREATE TABLE wirewatch_schema (version BIGINT NOT NULL)")
                self.execute("INSERT INTO wirewatch_schema VALUES (0)")
            for number, sql in statements(self.engine, since=version):
                for statement in sql:
                    self.execute(statement)
                self.execute("UPDATE wirewatch_schema SET version = ?", (number,))

    def close(self) -> None:
        self.conn.close()

    def integrity_ok(self) -> bool:
        """PostgreSQL checks its own pages; here: the schema is there and answers."""
        return self.reachable() and self.schema_version > 0


def redact_url(url: str) -> str:
    """The URL without its password (for logs and /healthz)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    host = info.get("host", "localhost")
    port = info.get("port", "5432")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{info.get('dbname', '')}"
