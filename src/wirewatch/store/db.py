"""What both engines share: one connection, one transaction at a time, the schema migrated
on open, times stored as ISO 8601 text in UTC.

`Database` is the interface the repositories use: `execute(sql, params)` with `?`
placeholders, `executemany`, `transaction()` (all writes inside commit together; nested uses
join the outer one) and the few things that differ between engines: `lock(key)` (serializes
a piece of work across instances until the transaction ends) and `for_update` (the clause
that claims rows without waiting for other instances' claims). The engines are
`store/sqlite.py` (one instance, the default) and `store/postgres.py` (several instances).

Repository SQL is written once, in the dialect both engines speak: `INSERT ... ON CONFLICT
DO NOTHING` / `DO UPDATE SET col = excluded.col` (never `INSERT OR ...`), `RETURNING` for
generated keys (never `lastrowid`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # times in UTC already (the crawler's, on its hot path) skip the conversion
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Database:
    """One connection to one database; subclasses are the engines."""

    engine = "base"
    shared = False  # True where several instances may use the database at once
    for_update = ""  # appended to a SELECT that claims rows (PostgreSQL: FOR UPDATE SKIP LOCKED)

    def __init__(self) -> None:
        self._depth = 0

    # ---- what each engine provides ------------------------------------------------------
    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        raise NotImplementedError

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def integrity_ok(self) -> bool:
        raise NotImplementedError

    def lock(self, key: str) -> None:
        """Hold `key` until the current transaction ends (no-op where one writer is all)."""

    # ---- shared --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All writes inside commit together; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")
        finally:
            self._depth = 0

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def reachable(self) -> bool:
        """The database answers a query (what /healthz asks)."""
        try:
            self.execute("SELECT 1").fetchone()
        except Exception:
            return False
        return True

    def count(self, table: str) -> int:
        assert table.isidentifier()
        return self.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
