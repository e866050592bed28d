"""The dashboard's reads: its own database connection, in one worker thread of its own.

Page queries never run on the event loop the crawler and the delivery worker share; the
service's connection stays the one writer. (An in-memory database has no second
connection: its reads run on the loop, on the service's own.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from wirewatch.service.service import Service

T = TypeVar("T")


class Reader:
    def __init__(self, service: Service) -> None:
        self.service = service
        path = service.config.storage.sqlite_path  # None on PostgreSQL
        self.inline = path == ":memory:"
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dashboard-reads")
        self._db: Any = None

    async def __call__(self, query: Callable[..., T], *args: Any) -> T:
        """`query(db, *args)` on the dashboard's connection, off the event loop."""
        if self.inline:
            return query(self.service.store, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, query, args)

    def _run(self, query: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._db is None:
            from wirewatch.service.wiring import open_store

            self._db = open_store(self.service.config)
        return query(self._db, *args)

    async def close(self) -> None:
        def close_db() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._pool, close_db)
        self._pool.shutdown(wait=True)
