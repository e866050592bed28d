"""Store work off the event loop: one thread of its own, with its own connection.

`StoreWorker(open_store)` runs `job(store, *args)` in a single thread, on a store that
thread opened itself (SQLite: a second connection on the same WAL file; PostgreSQL: a
connection of its own, so advisory locks taken there are its own). One thread, so jobs run
in the order they were handed in; `await worker.run(...)` lets the event loop go on
meanwhile. `close()` waits for the jobs handed in so far, then closes the connection.

`worker_beside(store)` is the worker the service gives its pipeline: a `StoreWorker` on the
same database as `store`.

`InlineWorker(store)` runs the same jobs on the caller's own store and thread: for an
in-memory database (which has no second connection) and for `backtest`, where nothing
else shares the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from wirewatch.store import Store

T = TypeVar("T")


class Worker(Protocol):
    async def run(self, job: Callable[..., T], *args: Any) -> T: ...

    async def close(self) -> None: ...


class InlineWorker:
    """Jobs on the caller's store, on the caller's thread."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def run(self, job: Callable[..., T], *args: Any) -> T:
        return job(self.store, *args)

    async def close(self) -> None:
        return None


class StoreWorker:
    """Jobs on a connection of its own, in one thread of its own, in order."""

    def __init__(self, open_store: Callable[[], Store], *, name: str = "store-worker") -> None:
        self._open = open_store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._store: Store | None = None

    async def run(self, job: Callable[..., T], *args: Any) -> T:
        """`job(store, *args)` in the worker's thread. Cancelling the wait does not stop a
        job already started: it finishes (and commits) on its own."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, job, args)

    def _call(self, job: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._store is None:
            self._store = self._open()
        return job(self._store, *args)

    async def close(self) -> None:
        """Let every job handed in finish, then close the connection and the thread."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._close_store)
        self._pool.shutdown(wait=True)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def worker_beside(store: Store, name: str = "pipeline-store") -> Worker:
    """A worker with its own connection to `store`'s database (an in-memory database has no
    second connection: there, an `InlineWorker` on `store` itself)."""
    from wirewatch.store import Store

    target = store.db.url if store.engine == "postgresql" else store.path  # type: ignore[attr-defined]
    if target == ":memory:":
        return InlineWorker(store)
    return StoreWorker(lambda: Store(target), name=name)
