"""Dashboard server time: the first page of 50 stories with 100,000 stored articles.

    python -m benchmarks.dashboard                      # 100,000 articles, 20,000 stories
    python -m benchmarks.dashboard --articles 2000 --repeat 3     # a tiny run

Builds a SQLite store of the given size (articles, every watch's decision on each, stories
with their sources, outbox rows, decisions, the team's judgements of story sources), serves
the real dashboard app for it (the aiohttp app of `service/server.py`, its own read
connection in its worker thread), requests pages (the stories, a story, the story with the
most judgements, a watch with its precision from the judgements) through HTTP and reads
the server's own `Server-Timing` (handler and template, no client or network). Baseline in
the same run: the bare query of the page's 50 story rows
(`SELECT * FROM stories ORDER BY last_seen DESC LIMIT 50`) on the same file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from aiohttp.test_utils import TestClient, TestServer

from wirewatch.config.loader import load_config_text
from wirewatch.service.server import build_app
from wirewatch.service.service import Service
from wirewatch.store import Store

WATCHES = ["balochistan-attacks", "internet-shutdowns", "sahel-attacks", "kashmir-unrest"]
REGIONS = ["Balochistan", "Punjab", "Sindh", "Iraq", "Mali", "Jammu and Kashmir"]
NOW = datetime.now(UTC).replace(microsecond=0)


def build_store(
    path: Path, articles: int, stories: int, judgements: int = 0, seed: int = 7
) -> None:
    """A store with `articles` articles over 30 days, `stories` stories drawn from them and
    `judgements` judgements of their sources (one in ten undone)."""
    rng = random.Random(seed)
    store = Store(path)
    times = sorted(NOW - timedelta(seconds=rng.uniform(0, 30 * 86400)) for _ in range(articles))
    outlets = [f"outlet-{i}" for i in range(200)]
    article_rows = [
        (f"a-{i}", rng.choice(outlets), f"https://example.org/{i}", f"Title {i}",
         "text " * 80, t.isoformat(), "en", "page", f"h{i}", t.isoformat())
        for i, t in enumerate(times)
    ]  # fmt: skip
    with store.transaction():
        store.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)", article_rows)
        store.executemany(
            "INSERT INTO matches VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                (f"a-{i}", watch, 0, rng.random() * 0.6, 0.55, "passage", "[]", "[]", None,
                 "below threshold", None)
                for i in range(articles) for watch in WATCHES
            ),
        )  # fmt: skip
        _add_stories(store, rng, article_rows, stories)
        _add_judgements(store, rng, judgements)
    store.close()


def _add_judgements(store: Store, rng: random.Random, judgements: int) -> None:
    """Judgements of story sources for their story's watch, as the dashboard records them
    (the judged articles count as matched, as a story's sources are)."""
    sources = store.execute(
        "SELECT ss.story_id, ss.article_id, s.watch FROM story_sources ss"
        " JOIN stories s ON s.id = ss.story_id"
    ).fetchall()
    for story_id, article_id, watch in rng.sample(sources, min(judgements, len(sources))):
        store.execute(
            "UPDATE matches SET matched = 1, story_id = ? WHERE article_id = ? AND watch = ?",
            (story_id, article_id, watch),
        )
        judgement = store.feedback.record(
            watch=watch, article_id=article_id, relevant=rng.random() < 0.8, who="ali",
            source="dashboard", story_id=story_id, note="checked",
        )  # fmt: skip
        if rng.random() < 0.1:
            store.feedback.undo(judgement.id, "ada")


def _add_stories(store: Store, rng: random.Random, articles: list[tuple], stories: int) -> None:
    centroid = np.ones(384, dtype=np.float32).tobytes()
    picks = rng.sample(range(len(articles)), min(len(articles), stories * 3))
    for n in range(1, stories + 1):
        members = [articles[i] for i in picks[(n - 1) * 3 : n * 3]] or [articles[0]]
        members.sort(key=lambda a: a[5])
        sid, watch, region = f"s-{n}", rng.choice(WATCHES), rng.choice(REGIONS)
        store.execute(
            "INSERT INTO stories (num, id, watch, title, first_seen, last_seen, regions, places,"
            " best_score, centroid, members) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (n, sid, watch, members[0][3], members[0][5], members[-1][5], json.dumps([region]),
             json.dumps([region, "Quetta"]), 0.8, centroid, len(members)),
        )  # fmt: skip
        store.executemany(
            "INSERT OR IGNORE INTO story_sources (story_id, article_id, outlet, url, title,"
            " published, score, evidence, joined_by) VALUES (?,?,?,?,?,?,?,?,?)",
            [(sid, a[0], a[1], a[2], a[3], a[5], 0.8, "evidence", "similar") for a in members],
        )
        store.execute(
            "INSERT INTO outbox (delivery_id, notifier, story_id, kind, article_ids, status,"
            " attempts, next_attempt_at, created_at, delivered_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (f"d-{n}", "soc-slack", sid, "new_story", json.dumps([members[0][0]]), "delivered",
             1, members[0][5], members[0][5], members[0][5]),
        )  # fmt: skip


def judged_story(path: Path) -> str:
    """The page of the story with the most judgements (the first story without any)."""
    store = Store(path)
    row = store.execute(
        "SELECT story_id FROM judgements GROUP BY story_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    store.close()
    return f"/stories/{row[0] if row else 's-1'}"


def bare_query_ms(path: Path, repeat: int) -> list[float]:
    store = Store(path)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.execute("SELECT * FROM stories ORDER BY last_seen DESC LIMIT 50").fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    store.close()
    return timings


async def page_ms(path: Path, pages: list[str], repeat: int) -> dict[str, list[float]]:
    watches = "".join(f"  - {{name: {w}, topic: {w}}}\n" for w in WATCHES)
    config = load_config_text(
        f"storage: {{url: 'sqlite:///{path}'}}\nserver: {{listen: '127.0.0.1:0'}}\n"
        f"watches:\n{watches}"
    )
    service = Service(config)
    service.store = Store(path)
    timings: dict[str, list[float]] = {page: [] for page in pages}
    async with TestClient(TestServer(build_app(service))) as client:
        for _ in range(repeat + 1):  # the first round warms the reader's connection
            for page in pages:
                response = await client.get(page)
                assert response.status == 200, (page, response.status)
                await response.read()
                timings[page].append(float(response.headers["Server-Timing"].split("dur=")[1]))
    service.store.close()
    return {page: values[1:] for page, values in timings.items()}


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=0, help="default: articles / 5")
    parser.add_argument("--judgements", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    stories = args.stories or max(1, args.articles // 5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build_store(path, args.articles, stories, args.judgements)
        built_s = time.perf_counter() - started
        print(
            f"store: {args.articles} articles, {stories} stories, "
            f"{len(WATCHES)} decisions per article, {args.judgements} judgements"
            f" (built in {built_s:.0f} s)"
        )
        pages = ["/", "/?watch=internet-shutdowns", "/?region=Balochistan&time=7d",
                 "/stories/rows", f"/stories/s-{stories}", judged_story(path),
                 "/watches/balochistan-attacks"]  # fmt: skip
        results = asyncio.run(page_ms(path, pages, args.repeat))
        baseline = statistics.median(bare_query_ms(path, args.repeat))
        print(f"{'bare 50-row query (baseline)':34} median {baseline:7.1f} ms")
        for page, values in results.items():
            ratio = statistics.median(values) / baseline if baseline else float("nan")
            print(f"{page:34} {describe(values)}   ratio to baseline {ratio:5.1f}")
        first = statistics.median(results["/"])
        print(f"first page of 50 stories: {first:.1f} ms server time (goal < 300 ms)")


if __name__ == "__main__":
    main()
