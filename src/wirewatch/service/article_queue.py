"""Several instances share the matching (PostgreSQL): polled articles go into the shared
queue (`store/queue.py`), and whichever instance is free claims the next batch.

`SharedMatching.put(articles)` queues a poll's articles and marks their feed entries seen, in
one transaction on a connection of its own (off the event loop). `run(stopping)` takes
batches until the service stops: on the pipeline's worker (so the whole batch runs on one
connection) it opens a transaction, claims up to `QUEUE_CLAIM_ARTICLES` articles
(`FOR UPDATE SKIP LOCKED`), runs them through the pipeline (whose record step joins that
transaction), deletes the claimed rows and commits. A batch that fails is rolled back: its
articles wait again. An instance killed mid-batch loses its connection, and PostgreSQL rolls
its transaction back the same way. The embedded SQLite store never comes here: one instance
matches what it polls (`Batcher`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import ExitStack

from wirewatch import defaults
from wirewatch.models import Article
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.store import Store
from wirewatch.store.worker import Worker

log = logging.getLogger(__name__)


class SharedMatching:
    def __init__(
        self,
        queue_worker: Worker,
        instance: str,
        on_outcomes: Callable[[list[ArticleOutcome]], None],
        *,
        claim_articles: int = defaults.QUEUE_CLAIM_ARTICLES,
        idle_look_s: float = defaults.QUEUE_IDLE_LOOK_S,
    ) -> None:
        self.queue_worker = queue_worker
        self.instance = instance
        self.on_outcomes = on_outcomes
        self.claim_articles = claim_articles
        self.idle_look_s = idle_look_s
        self.claimed = 0  # articles this instance holds now (in its open batch)
        self.batches = 0
        self._queued = asyncio.Event()
        self._open: ExitStack | None = None  # the claim's transaction (worker thread only)

    async def put(self, articles: list[Article]) -> None:
        """Queue a poll's articles; their feed entries are marked seen in the same commit."""
        await self.queue_worker.run(_enqueue, articles, self.instance)
        self._queued.set()

    async def run(self, stopping: asyncio.Event, take_batch: Callable[[], Awaitable[int]]) -> None:
        """Take batches until `stopping` is set (`take_batch`: one batch, through `take`, with
        whatever the service wraps around it; how many articles it held)."""
        while not stopping.is_set():
            try:
                taken = await take_batch()
            except Exception:
                log.exception("a queued batch failed; its articles wait in the queue again")
                await _sleep_unless(stopping, defaults.QUEUE_FAILURE_BACKOFF_S)
                continue
            if not taken:
                self._queued.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._queued.wait(), self.idle_look_s)

    async def take(self, pipeline: Pipeline) -> int:
        """Claim one batch, match and record it, commit; how many articles it held."""
        worker = pipeline.worker
        articles = await worker.run(self._claim, self.claim_articles)
        if not articles:
            return 0
        self.claimed = len(articles)
        try:
            outcomes = await pipeline.process(articles)
            await worker.run(self._commit, [a.id for a in articles])
        except BaseException as exc:
            await worker.run(self._roll_back, exc)
            raise
        finally:
            self.claimed = 0
        self.batches += 1
        self.on_outcomes(outcomes)
        return len(articles)

    async def depth(self) -> int:
        """Articles waiting in the shared queue (claimed ones included)."""
        return await self.queue_worker.run(lambda store: store.queue.depth())

    # ---- jobs on the pipeline's worker thread -----------------------------------------
    def _claim(self, store: Store, limit: int) -> list[Article]:
        stack = ExitStack()
        stack.enter_context(store.transaction())
        try:
            articles = store.queue.claim(limit)
        except BaseException as exc:
            stack.__exit__(type(exc), exc, exc.__traceback__)  # the rollback
            raise
        if articles:
            self._open = stack
        else:
            stack.close()
        return articles

    def _commit(self, store: Store, article_ids: list[str]) -> None:
        assert self._open is not None
        stack, self._open = self._open, None
        with stack:  # the commit (or, if the DELETE fails, the rollback)
            store.queue.remove(article_ids)

    def _roll_back(self, _store: Store, exc: BaseException) -> None:
        stack, self._open = self._open, None
        if stack is not None:
            stack.__exit__(type(exc), exc, exc.__traceback__)


def _enqueue(store: Store, articles: list[Article], instance: str) -> None:
    with store.transaction():
        store.queue.enqueue(articles, instance)
        for article in articles:
            if article.entry_key:
                store.crawl.mark_seen(article.outlet, [article.entry_key])


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
