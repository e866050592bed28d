"""Articles that arrive while a batch is being matched go together into the next batch.

Many outlets answer within the same second; matching their articles one poll at a time
would call the model once per poll with a handful of passages. The batcher lets the first
poll's articles through at once and gathers everything that arrives meanwhile into one
call, so the model sees full batches when the service is busy and no wait when it is idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar


class HasArticleId(Protocol):
    @property
    def id(self) -> str: ...


class HasArticle(Protocol):
    @property
    def article(self) -> HasArticleId: ...


ArticleT = TypeVar("ArticleT", bound=HasArticleId)
OutcomeT = TypeVar("OutcomeT", bound=HasArticle)


class Batcher(Generic[ArticleT, OutcomeT]):
    """``await submit(articles)`` returns the outcomes of exactly those articles."""

    def __init__(self, process: Callable[[list[ArticleT]], Awaitable[list[OutcomeT]]]) -> None:
        self._process = process
        self._waiting: list[tuple[Sequence[ArticleT], asyncio.Future[list[OutcomeT]]]] = []
        self._running = asyncio.Lock()
        self.batches = 0  # how many calls of ``process`` so far (for metrics and tests)

    async def submit(self, articles: Sequence[ArticleT]) -> list[OutcomeT]:
        done: asyncio.Future[list[OutcomeT]] = asyncio.get_running_loop().create_future()
        self._waiting.append((articles, done))
        async with self._running:
            if not done.done():  # nobody took us along in their batch: run one ourselves
                await self._run(done)
        return await done

    async def _run(self, mine: asyncio.Future[list[OutcomeT]]) -> None:
        waiting, self._waiting = self._waiting, []
        unique = {a.id: a for articles, _ in waiting for a in articles}
        self.batches += 1
        try:
            outcomes = await self._process(list(unique.values()))
        except asyncio.CancelledError:
            # Our caller is being cancelled; the others' articles go into the next batch.
            self._waiting[:0] = [(a, done) for a, done in waiting if done is not mine]
            mine.cancel()
            raise
        except Exception as exc:
            for _, done in waiting:
                done.set_exception(exc)
            return
        by_id = {o.article.id: o for o in outcomes}
        for articles, done in waiting:
            done.set_result([by_id[a.id] for a in articles if a.id in by_id])
