"""The pipeline's store work runs on its worker: the event loop stays free, decisions stay
the same (issue 17, "the event loop").

The articles are the demo's reports, matched once by the real model; a large batch is those
reports carried again by many outlets (as a wire story is), so story assignment has real
work to do: every copy is compared with every source of the open stories.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks.loop_batch import Recorded, probed, reports
from tests.fixtures.demo_watches import demo_watches_config
from tests.fixtures.outbox_data import Clock
from wirewatch.demo.articles import DEMO_ARTICLES
from wirewatch.models import Article
from wirewatch.pipeline import Pipeline
from wirewatch.service.wiring import build_matcher
from wirewatch.store import Store
from wirewatch.store.worker import InlineWorker, StoreWorker, worker_beside

pytestmark = pytest.mark.slow

COPIES = 48  # outlets carrying each report: the batch is COPIES x the demo's reports


def demo_articles() -> list[Article]:
    return reports(0)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    yield from demo_watches_config(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def matcher(config):
    real = build_matcher(config)
    real.prepare()
    originals = demo_articles()
    decided = asyncio.run(real.match_articles(originals))
    real.close()
    return Recorded({(a.title, a.text): d for a, d in zip(originals, decided, strict=True)})


def pipeline_on(path: Path, config, matcher, worker) -> tuple[Pipeline, Store]:
    store = Store(path)
    clock = Clock(DEMO_ARTICLES[0].published)
    return Pipeline(store, matcher, config.watches, clock=clock, worker=worker(store)), store


def dump(store: Store) -> dict[str, list[tuple]]:
    """Everything a batch decides, as stored (the times the clock gives included; not the
    wall-clock times of writing)."""
    queries = {
        "stories": "SELECT * FROM stories ORDER BY num",
        "story_sources": "SELECT * FROM story_sources ORDER BY story_id, article_id",
        "matches": "SELECT * FROM matches ORDER BY article_id, watch",
        "articles": "SELECT id, outlet, content_hash FROM articles ORDER BY id",
        "outbox": "SELECT delivery_id, notifier, story_id, kind, article_ids, status,"
        " next_attempt_at FROM outbox ORDER BY seq",
        "decisions": "SELECT watch, story_id, article_id, notifier, decision, reason"
        " FROM decisions ORDER BY seq",
        "seen": "SELECT outlet, key FROM seen_entries ORDER BY outlet, key",
    }
    return {name: [tuple(row) for row in store.execute(sql)] for name, sql in queries.items()}


async def test_a_large_batch_leaves_the_event_loop_free_and_decides_the_same(
    tmp_path, config, matcher
):
    batch = reports(COPIES)

    # on the event loop, as before: the loop is held for the whole batch
    inline, inline_store = pipeline_on(tmp_path / "inline.db", config, matcher, InlineWorker)
    inline_took, inline_lag = await probed(inline, batch)
    assert inline_lag >= 0.8 * inline_took  # the probe did see the loop held throughout
    assert inline_took >= 0.2, "the batch must be large enough to tell held from free"

    # on the service's worker: its own connection in its own thread
    threaded, threaded_store = pipeline_on(tmp_path / "worker.db", config, matcher, worker_beside)
    assert isinstance(threaded.worker, StoreWorker)
    took, lag = await probed(threaded, batch)
    await threaded.worker.close()

    # a batch's own duration is the yardstick: measured in this run, on this machine
    assert lag < max(inline_took, took) / 4, (lag, took, inline_took)
    decided = dump(threaded_store)
    assert decided == dump(inline_store)
    assert decided["outbox"] and decided["stories"] and len(decided["seen"]) == len(batch)
    inline_store.close()
    threaded_store.close()


async def test_a_batch_already_stored_is_not_decided_again(tmp_path, config, matcher):
    """The worker's own connection sees what the service's connection sees: the same file."""
    pipeline, store = pipeline_on(tmp_path / "w.db", config, matcher, worker_beside)
    first = await pipeline.process(demo_articles())
    again = await pipeline.process(demo_articles())
    await pipeline.worker.close()
    assert any(o.stories for o in first) and again == []
    assert store.count("articles") == len(DEMO_ARTICLES)
    store.close()
