"""The store's hot paths, timed: this checkout against a baseline checkout, SQLite (and
PostgreSQL when a URL is given), rounds interleaved in the same run.

    python -m benchmarks.store [--outlets 2000] [--rounds 5] [--baseline SRC_DIR]
                               [--postgresql postgresql://USER@HOST:PORT/DB]

`--baseline` is another checkout's `src` directory (e.g. the commit before a change:
`git archive HEAD src | tar -x -C /tmp/base`); each round runs the same workload in a fresh
process of each checkout in turn (either first as often as the other), on a new database.
The workload is what the service does most, through the public store API only:

- crawl: every outlet's fetch state written in full, then its poll counts (304s), its 50
  feed keys checked against the seen entries and a tenth of them marked seen;
- pipeline: articles stored with a match each, every fifth opening a story and the others
  joining it, with an outbox row per story, in batches of 20 per transaction (as
  `Pipeline.process` commits);
- delivery: every outbox row marked sending, then delivered with its Slack ts.

Printed: seconds per part, median over the rounds, and the ratio current / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

KEYS_PER_OUTLET = 50
ARTICLES = 300
BATCH = 20


def workload(target: str, outlets: int) -> dict[str, float]:
    """Run the workload on a new store at `target`; seconds per part."""
    import numpy as np

    from wirewatch.monitor.fetch_state import FetchState
    from wirewatch.store import Store

    store = Store(target)
    now = datetime.now(UTC)
    names = [f"outlet-{i}" for i in range(outlets)]
    times: dict[str, float] = {}

    started = time.perf_counter()
    states = [FetchState(n, etag=f'"{n}"', polls=1, first_polled=now, last_success=now)
              for n in names]  # fmt: skip
    store.crawl.save_fetch_states(states)
    for state in states:
        state.polls += 1
        state.not_modified += 1
    store.crawl.save_poll_counts(states)
    for name in names:
        keys = [f"{name}/{k}" for k in range(KEYS_PER_OUTLET)]
        unseen = store.crawl.unseen_keys(name, keys)
        with store.transaction():
            store.crawl.mark_seen(name, sorted(unseen)[: KEYS_PER_OUTLET // 10])
    times["crawl"] = time.perf_counter() - started

    started = time.perf_counter()
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    story = ""
    for first in range(0, ARTICLES, BATCH):
        with store.transaction():
            for i in range(first, first + BATCH):
                story = store_article(store, i, names[i % outlets], now, vector, story)
    times["pipeline"] = time.perf_counter() - started

    started = time.perf_counter()
    for row in store.outbox.pending("slack"):
        store.outbox.mark_sending(row.delivery_id)
        store.outbox.mark_delivered(row.delivery_id, remote_ref=f"{row.seq}.0",
                                    story_id=row.story_id, notifier="slack")  # fmt: skip
    times["delivery"] = time.perf_counter() - started
    store.close()
    return times


def store_article(store, i: int, outlet: str, now: datetime, vector, story: str) -> str:
    """One article as the pipeline stores it; every fifth opens a story. The story id."""
    from wirewatch.models import Article, Source, WatchMatch

    published = now + timedelta(seconds=i)
    url = f"https://x.test/{i}"
    article = Article(f"a-{i}", outlet, f"title {i}", "text " * 200, published, url=url)
    store.articles.add(article, f"hash-{i}")
    if i % 5 == 0:
        story = store.stories.create(
            watch="w", title=article.title, seen=published, regions=["R"], places=["P"],
            score=0.7, centroid=vector,
        )  # fmt: skip
        store.outbox.enqueue(
            delivery_id=f"d-{i}", notifier="slack", story_id=story, kind="new_story",
            article_ids=[article.id],
        )  # fmt: skip
    source = Source(article.id, outlet, url, article.title, published, 0.7, "evidence")
    store.stories.add_source(
        story, source, joined_by="similar", vector=vector, places=["P"], regions=["R"],
        fingerprint=b"f" * 64,
    )  # fmt: skip
    match = WatchMatch("w", True, 0.7, 0.5, "evidence", ["R"], ["P"])
    store.articles.add_match(article.id, match, story)
    store.stories.open("w", since=published - timedelta(hours=1))
    return story


def run_worker(src: str, target: str, outlets: int) -> dict[str, float]:
    """The workload in a fresh process importing wirewatch from `src`."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{Path(__file__).parent.parent}"}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.store", "--worker", target, "--outlets", str(outlets)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_postgresql(url: str, n: int) -> str:
    import psycopg

    name = f"bench_{os.getpid()}_{n}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="another checkout's src directory")
    parser.add_argument("--postgresql", help="a database URL; fresh databases are made next to it")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(workload(args.worker, args.outlets)))
        return
    current = str(Path(__file__).parent.parent / "src")
    runs = [("sqlite", current)] + ([("sqlite-baseline", args.baseline)] if args.baseline else [])
    if args.postgresql:
        runs.append(("postgresql", current))
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in runs}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            order = runs if round_ % 2 == 0 else runs[::-1]
            for name, src in order:
                if name == "postgresql":
                    target = fresh_postgresql(args.postgresql, round_)
                else:
                    target = str(Path(folder) / f"{name}-{round_}.db")
                results[name].append(run_worker(src, target, args.outlets))
    parts = ["crawl", "pipeline", "delivery"]
    print(f"{args.outlets} outlets, {ARTICLES} articles, median of {args.rounds} rounds (s)")
    print(f"{'':20}" + "".join(f"{p:>10}" for p in parts))
    medians = {
        name: {p: statistics.median(r[p] for r in rounds) for p in parts}
        for name, rounds in results.items()
    }
    for name, values in medians.items():
        print(f"{name:20}" + "".join(f"{values[p]:10.3f}" for p in parts))
    if args.baseline:
        pairs = list(zip(results["sqlite"], results["sqlite-baseline"], strict=True))
        ratios = [sorted(c[p] / b[p] for c, b in pairs) for p in parts]
        middle = "".join(f"{statistics.median(r):10.2f}" for r in ratios)
        print(f"{'current / baseline':20}{middle}")
        print(f"{'  round by round':20}" + "".join(f"{r[0]:6.2f}-{r[-1]:4.2f}" for r in ratios))


if __name__ == "__main__":
    main()
