"""Several instances share the matching through the queue in PostgreSQL (issue 19): the
articles one instance polled are matched by whichever instance is free, each article is
decided once, and a batch that fails waits again for the next claim.

Two `SharedMatching`s with their own connections and real pipelines on one database; the
decisions are the real model's (matched once, replayed per batch after a short wait that
stands for the model's time, so that the two instances' batches overlap).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import pytest

from benchmarks.loop_batch import Recorded, reports
from tests.fixtures.demo_watches import demo_watches_config
from tests.fixtures.outbox_data import Clock
from wirewatch.demo.articles import DEMO_ARTICLES
from wirewatch.models import Article
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.service.article_queue import SharedMatching
from wirewatch.service.wiring import build_matcher
from wirewatch.store import Store
from wirewatch.store.worker import worker_beside

pytestmark = pytest.mark.slow

COPIES = 6  # outlets carrying each demo report
MATCH_S = 0.05  # what a batch's matching takes here


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    yield from demo_watches_config(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def recorded(config):
    real = build_matcher(config)
    real.prepare()
    originals = reports(0)
    decided = asyncio.run(real.match_articles(originals))
    real.close()
    return Recorded({(a.title, a.text): d for a, d in zip(originals, decided, strict=True)})


class Timed:
    """The recorded decisions after the model's time; `fail_first` batches raise instead."""

    def __init__(self, recorded: Recorded, fail_first: int = 0) -> None:
        self.recorded = recorded
        self.failures_left = fail_first

    async def match_articles(self, articles: Sequence[Article]):
        await asyncio.sleep(MATCH_S)
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("the model ran out of memory")
        return await self.recorded.match_articles(articles)


class Instance:
    def __init__(self, url: str, name: str, config, matcher) -> None:
        self.store = Store(url)
        clock = Clock(DEMO_ARTICLES[0].published)
        worker = worker_beside(self.store)
        self.pipeline = Pipeline(self.store, matcher, config.watches, clock=clock, worker=worker)
        self.outcomes: list[ArticleOutcome] = []
        self.matching = SharedMatching(
            worker_beside(self.store, "queue-store"), name, self.outcomes.extend, claim_articles=8
        )

    async def drain(self) -> None:
        """Take batches until the queue is empty; a failed batch is tried again."""
        while True:
            try:
                if not await self.matching.take(self.pipeline):
                    return
            except RuntimeError:
                continue

    async def close(self) -> None:
        await self.pipeline.worker.close()
        await self.matching.queue_worker.close()
        self.store.close()


async def test_articles_one_instance_polled_are_matched_by_both_once(pg_database, config, recorded):
    a = Instance(pg_database, "a", config, Timed(recorded))
    b = Instance(pg_database, "b", config, Timed(recorded, fail_first=1))
    polled = reports(COPIES)
    for start in range(0, len(polled), 5):  # every outlet is a's: b polled nothing
        await a.matching.put(polled[start : start + 5])
    assert a.store.queue.depth() == len(polled)
    assert a.store.count("seen_entries") == len(polled)  # marked seen as they were queued

    await asyncio.gather(a.drain(), b.drain())

    store = a.store
    assert store.queue.depth() == 0
    assert a.matching.batches and b.matching.batches  # b matched articles a polled
    assert b.pipeline.matcher.failures_left == 0  # its failed batch was taken again
    decided = [o.article.id for o in a.outcomes + b.outcomes]
    assert sorted(decided) == sorted(x.id for x in polled)  # each decided once
    assert store.count("articles") == len(polled)
    rows = store.execute("SELECT article_id, watch FROM matches").fetchall()
    assert len(rows) == len(set(map(tuple, rows))) == len(polled) * len(config.watches)
    joined = store.execute("SELECT watch, article_id FROM story_sources s JOIN stories t"
                           " ON t.id = s.story_id").fetchall()  # fmt: skip
    assert joined and max(Counter(map(tuple, joined)).values()) == 1  # one story per watch
    news = store.execute("SELECT story_id FROM outbox WHERE kind = 'new_story'").fetchall()
    assert len(news) == len(set(news)) == store.count("stories")  # one alert per story
    await a.close()
    await b.close()
