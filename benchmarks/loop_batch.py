"""One large batch recorded on the event loop (as before) and on the pipeline's store worker.

    python -m benchmarks.loop_batch [--copies 48] [--rounds 3]

The batch is the demo's reports (src/wirewatch/demo/articles.py) carried again by
`--copies` other outlets, a minute apart (16 x 49 = 784 articles at the default), matched
once by the real model; each round records it into a fresh SQLite store twice, through
`Pipeline.process`: with an `InlineWorker` (the store work on the event loop, today's path
before issue 17) and with `worker_beside(store)` (the service's: its own connection, its own
thread), in alternating order. Meanwhile a probe sleeps 5 ms at a time on the event loop and
records how late it wakes. Printed per mode, medians over the rounds: the batch's seconds,
the longest loop lag, and the ratio worker / inline; and whether both stores hold the same
stories, matches, outbox and decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from wirewatch.demo.articles import DEMO_ARTICLES
from wirewatch.demo.runner import demo_config
from wirewatch.models import Article, ArticleEncoding, WatchMatch
from wirewatch.pipeline import Pipeline
from wirewatch.service.wiring import build_matcher
from wirewatch.store import Store
from wirewatch.store.worker import InlineWorker, worker_beside

PROBE_S = 0.005
DECIDED = {
    "stories": "SELECT * FROM stories ORDER BY num",
    "story_sources": "SELECT * FROM story_sources ORDER BY story_id, article_id",
    "matches": "SELECT * FROM matches ORDER BY article_id, watch",
    "outbox": "SELECT delivery_id, notifier, story_id, kind, article_ids, next_attempt_at"
    " FROM outbox ORDER BY seq",
    "decisions": "SELECT watch, story_id, article_id, decision, reason FROM decisions ORDER BY seq",
}


def reports(copies: int) -> list[Article]:
    originals = [
        Article(
            id=f"{a.outlet}/{a.slug}",
            outlet=a.outlet,
            title=a.title,
            text=a.text,
            published=a.published,
            url=f"https://{a.outlet}.example.org/{a.slug}",
            text_source="corpus",
            entry_key=a.slug,
        )
        for a in DEMO_ARTICLES
    ]
    carried = [
        replace(
            a,
            id=f"copy-{n}/{a.id}",
            outlet=f"copy-{n}",
            url=f"https://copy-{n}.example.org/{a.id}",
            published=a.published + timedelta(minutes=n),
            entry_key=f"{n}-{a.entry_key}",
        )
        for n in range(1, copies + 1)
        for a in originals
    ]
    return originals + carried


class Recorded:
    """The real matcher's decisions per distinct text (a copy matches as its original)."""

    def __init__(self, decided: dict[tuple[str, str], tuple[ArticleEncoding, list[WatchMatch]]]):
        self.decided = decided

    async def match_articles(
        self, articles: Sequence[Article]
    ) -> list[tuple[ArticleEncoding, list[WatchMatch]]]:
        return [self.decided[(a.title, a.text)] for a in articles]


async def probed(pipeline: Pipeline, batch: list[Article]) -> tuple[float, float]:
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(PROBE_S)
            lags.append(loop.time() - before - PROBE_S)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await pipeline.process(batch)
    took = time.perf_counter() - started
    done.set()
    await task
    return took, max(lags)


async def one(mode: str, folder: Path, config, matcher: Recorded, batch: list[Article]):
    store = Store(folder / f"{mode}.db")
    worker = InlineWorker(store) if mode == "inline" else worker_beside(store)
    clock = lambda: DEMO_ARTICLES[0].published  # noqa: E731
    pipeline = Pipeline(store, matcher, config.watches, clock=clock, worker=worker)
    took, lag = await probed(pipeline, batch)
    await worker.close()
    decided = {name: [tuple(r) for r in store.execute(sql)] for name, sql in DECIDED.items()}
    store.close()
    return took, lag, decided


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="wirewatch-loop-batch-"))
    config = demo_config("http://127.0.0.1:9", folder)
    real = build_matcher(config)
    real.prepare()
    batch = reports(args.copies)
    originals = batch[: len(DEMO_ARTICLES)]
    decided = asyncio.run(real.match_articles(originals))
    real.close()
    matcher = Recorded({(a.title, a.text): d for a, d in zip(originals, decided, strict=True)})
    results: dict[str, list[tuple[float, float]]] = {"inline": [], "worker": []}
    same = True
    for n in range(args.rounds):
        order = ["inline", "worker"] if n % 2 == 0 else ["worker", "inline"]
        dumps = {}
        for mode in order:
            took, lag, dumps[mode] = asyncio.run(one(mode, folder / f"{n}", config, matcher, batch))
            results[mode].append((took, lag))
        same = same and dumps["inline"] == dumps["worker"]
    print(f"\n=== one batch of {len(batch)} articles, {args.rounds} rounds (medians) ===")
    print(f"{'':34}{'inline (before)':>18}{'worker (after)':>18}  ratio")
    for label, index in (("batch, s", 0), ("longest event-loop lag, ms", 1)):
        scale = 1000 if index else 1
        before = statistics.median(r[index] for r in results["inline"]) * scale
        after = statistics.median(r[index] for r in results["worker"]) * scale
        print(f"{label:34}{before:>18.3f}{after:>18.3f}  {after / before:.3f}")
    print(f"same stories, matches, outbox and decisions: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
