"""Store work in a thread of its own, on a connection of its own, in order; on both engines."""

from __future__ import annotations

import asyncio
import threading

from wirewatch.store import Store
from wirewatch.store.worker import InlineWorker, StoreWorker, worker_beside


def seen(store: Store, outlet: str, key: str) -> str:
    with store.transaction():
        store.crawl.mark_seen(outlet, [key])
    return threading.current_thread().name


async def test_jobs_run_in_order_off_the_loop_on_their_own_connection(target):
    store = Store(target)
    worker = worker_beside(store)
    assert isinstance(worker, StoreWorker)
    try:
        threads = await asyncio.gather(*(worker.run(seen, "o", f"k{n}") for n in range(20)))
        own = await worker.run(lambda s: s.db.conn is not store.db.conn)
    finally:
        await worker.close()
    assert own and set(threads) != {threading.current_thread().name}
    assert len(set(threads)) == 1  # one thread: jobs run in the order handed in
    keys = [r[0] for r in store.execute("SELECT key FROM seen_entries ORDER BY seen_at, key")]
    assert sorted(keys) == sorted(f"k{n}" for n in range(20))  # committed, seen by others
    store.close()


async def test_close_lets_every_job_handed_in_finish(target):
    """A stop drains the worker: every job handed in before `close` commits."""
    store = Store(target)
    worker = worker_beside(store)
    pending = [asyncio.ensure_future(worker.run(seen, "o", f"k{n}")) for n in range(50)]
    await asyncio.sleep(0)  # handed in; nobody awaits them before the close
    await worker.close()
    assert store.count("seen_entries") == 50
    assert all(job.done() and not job.exception() for job in pending)
    store.close()


async def test_an_in_memory_database_keeps_its_one_connection():
    store = Store(":memory:")
    worker = worker_beside(store)
    assert isinstance(worker, InlineWorker)
    await worker.run(seen, "o", "k")
    await worker.close()
    assert store.count("seen_entries") == 1
